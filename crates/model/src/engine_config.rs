//! `EngineConfig`: the generation-time parameters of the engine, one definition read by the
//! cycle model, the hardware generator and the simulator.
//!
//! Runtime values (a layer's `H, W, M`, stride, zero points, weights, requantization) are not
//! here: they go through the engine's config port. Everything here fixes a bit width, a
//! memory size or a number of instances, so changing it is a rebuild.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::systolic::acc_bits_for_products;
use crate::window::WindowConfig;

/// Most taps the depthwise adder tree is built for (its tree has 32 leaves at most): `Dk ≤ 5`.
pub const MAX_DW_TAPS: usize = 32;
/// Most lanes `P` the depthwise engine's config port can address (6-bit lane field).
pub const MAX_LANES: usize = 64;
/// Most channel groups `M / P` the config port can address (10-bit group field).
pub const MAX_GROUPS: usize = 1024;

/// Generation-time parameters of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawEngineConfig")]
pub struct EngineConfig {
    dk: usize,
    lanes: usize,
    rows: usize,
    cols: usize,
    max_width: usize,
    max_height: usize,
    max_channels: usize,
    dw_sum_bits: usize,
    param_ram: ParamRam,
    lane_mul: LaneMul,
    pack_history: bool,
    /// The depthwise engine's im2col mode (the standard-convolution baseline) is built.
    #[serde(skip_serializing_if = "is_true")]
    im2col: bool,
    /// Registers around the depthwise block RAMs (`[engine] ram_regs`, default true).
    #[serde(skip_serializing_if = "is_true")]
    ram_regs: bool,
    /// Input pixels per beat `Q` (1 = one pixel per beat, the narrow window generator).
    #[serde(skip_serializing_if = "is_one")]
    pixels_per_beat: usize,
    /// Words (beats of `P` channels) of each depthwise line buffer when below
    /// `max_width · max_channels / P` (`[engine] max_line_words`); `None`: that product.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_line_words: Option<usize>,
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

fn is_true(v: &bool) -> bool {
    *v
}

fn yes() -> bool {
    true
}

/// Where the depthwise stage's bias and `M0` RAMs live (`[engine] param_ram`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamRam {
    /// Simple dual-port block RAM (SB_RAM40_4K / DP16KD), like every other RAM.
    #[default]
    Block,
    /// Single-port RAM marked `ram_style = "huge"`: yosys maps it to SB_SPRAM256KA (iCE40
    /// UltraPlus: four of 16 bits, so `P = 1`). These RAMs are written only through the config
    /// port while idle and read only while a frame runs, so one port suffices. This small-device
    /// plan also leaves out both stages' bias/shift output registers (an Fmax register that
    /// costs 38 flip-flops per lane and column).
    Spram,
}

/// How the depthwise lanes' and the systolic cells' int8 products are written
/// (`[engine] lane_mul`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LaneMul {
    /// A Verilog `*`: one SB_MAC16 / MULT18X18D each.
    #[default]
    Dsp,
    /// Radix-4 Booth partial products and adders, for fabrics whose DSPs are taken (iCE40:
    /// 125 LUT4 per product instead of the 182 of yosys' generic soft multiplier).
    Lut,
}

/// The unvalidated form serde reads; converted through [`EngineConfig::new`].
#[derive(Debug, Clone, Copy, Deserialize)]
struct RawEngineConfig {
    dk: usize,
    lanes: usize,
    rows: usize,
    cols: usize,
    max_width: usize,
    max_height: usize,
    max_channels: usize,
    dw_sum_bits: Option<usize>,
    #[serde(default)]
    param_ram: ParamRam,
    #[serde(default)]
    lane_mul: LaneMul,
    #[serde(default)]
    pack_history: bool,
    #[serde(default = "yes")]
    im2col: bool,
    #[serde(default = "yes")]
    ram_regs: bool,
    pixels_per_beat: Option<usize>,
    max_line_words: Option<usize>,
}

impl TryFrom<RawEngineConfig> for EngineConfig {
    type Error = ModelError;
    fn try_from(r: RawEngineConfig) -> Result<Self> {
        let c = EngineConfig::new(r.dk, r.lanes, r.rows, r.cols, r.max_width, r.max_height, r.max_channels)?;
        let c = match r.dw_sum_bits {
            Some(b) => c.with_dw_sum_bits(b)?,
            None => c,
        };
        let c = c
            .with_param_ram(r.param_ram)
            .with_lane_mul(r.lane_mul)
            .with_pack_history(r.pack_history)
            .with_im2col(r.im2col)
            .with_ram_regs(r.ram_regs);
        let c = match r.max_line_words {
            Some(words) => c.with_max_line_words(words)?,
            None => c,
        };
        match r.pixels_per_beat {
            Some(q) => c.with_pixels_per_beat(q),
            None => Ok(c),
        }
    }
}

fn invalid(msg: String) -> ModelError {
    ModelError::InvalidParameter(msg)
}

impl EngineConfig {
    /// Kernel `dk`, `lanes` depthwise lanes (`P`), a `rows × cols` systolic array, images up
    /// to `max_width × max_height` with up to `max_channels` channels. The depthwise sum
    /// width is the smallest that holds `Dk²` int8 products.
    ///
    /// Errors: everything [`WindowConfig::new`] rejects (even or zero `dk`, sizes smaller
    /// than `dk`, `max_channels` not a positive multiple of `lanes`, …); `dk² > 32`
    /// ([`MAX_DW_TAPS`]: the adder tree); `lanes > 64` or `max_channels / lanes > 1024`
    /// (the config port's lane and group fields); `rows` or `cols` zero.
    pub fn new(
        dk: usize,
        lanes: usize,
        rows: usize,
        cols: usize,
        max_width: usize,
        max_height: usize,
        max_channels: usize,
    ) -> Result<Self> {
        WindowConfig::new(dk, max_width, max_height, lanes, max_channels)?;
        if dk * dk > MAX_DW_TAPS {
            return Err(invalid(format!(
                "Dk = {dk}: the depthwise adder tree takes at most {MAX_DW_TAPS} taps (Dk ≤ 5)"
            )));
        }
        if lanes > MAX_LANES {
            return Err(invalid(format!("lanes P = {lanes} exceeds the maximum {MAX_LANES}")));
        }
        if max_channels / lanes > MAX_GROUPS {
            return Err(invalid(format!(
                "max_channels / P = {} channel groups exceed the maximum {MAX_GROUPS}",
                max_channels / lanes
            )));
        }
        if rows == 0 || cols == 0 {
            return Err(invalid(format!("systolic array {rows} × {cols}: both must be at least 1")));
        }
        Ok(EngineConfig {
            dk,
            lanes,
            rows,
            cols,
            max_width,
            max_height,
            max_channels,
            dw_sum_bits: acc_bits_for_products((dk * dk) as u64),
            param_ram: ParamRam::Block,
            lane_mul: LaneMul::Dsp,
            pack_history: false,
            im2col: true,
            ram_regs: true,
            pixels_per_beat: 1,
            max_line_words: None,
        })
    }

    /// The same config with depthwise line buffers of `words` words (beats of `P` channels)
    /// instead of `max_width · max_channels / P`: a layer `H × W × M` then needs
    /// `W · ⌈M/P⌉ ≤ words` (checked by the model, the host and the hardware's START). Networks
    /// narrow the image as they add channels, so the largest such product over a network's
    /// layers, not the product of the maxima, sizes the block RAM (MobileNet-v1 at 224:
    /// `112 · 64/P`, and conv0 in im2col mode `224 · ⌈3/P⌉`).
    ///
    /// Errors when `words < max_width` (a row of the widest image in one channel group) or
    /// `words > max_width · max_channels / P` (more than any layer can use).
    pub fn with_max_line_words(self, words: usize) -> Result<Self> {
        let full = self.max_width * self.max_groups();
        if words < self.max_width || words > full {
            return Err(invalid(format!(
                "max_line_words = {words} must lie in [max_width, max_width · max_channels / P] = [{}, {full}]",
                self.max_width
            )));
        }
        let max_line_words = if words == full { None } else { Some(words) };
        Ok(EngineConfig { max_line_words, ..self })
    }

    /// Words of each depthwise line buffer: the largest `W · ⌈M/P⌉` a layer may have.
    pub fn max_line_words(&self) -> usize {
        self.max_line_words.unwrap_or(self.max_width * self.max_groups())
    }

    /// Whether the line buffers are smaller than `max_width · max_channels / P`, so a layer
    /// within the maxima may still not fit (the hardware then checks `W · G` at START).
    pub fn line_words_limited(&self) -> bool {
        self.max_line_words.is_some()
    }

    /// The same config with the window rows' history columns packed into one RAM word per
    /// row when `pack` (`[engine] pack_history`: fewer block RAMs when `G·8P` bits per column
    /// leave a RAM mostly empty, as on the iCE40; same values and cycles).
    pub fn with_pack_history(self, pack: bool) -> Self {
        EngineConfig { pack_history: pack, ..self }
    }

    /// The same config with (`on`) or without the depthwise engine's im2col mode (`[engine]
    /// im2col`, default true). Without it the mode register refuses 1, synthesis drops the
    /// window serializer, and [`crate::engine::DscConfig::conv_layer`] refuses every layer:
    /// no standard-convolution baseline on that engine.
    pub fn with_im2col(self, on: bool) -> Self {
        EngineConfig { im2col: on, ..self }
    }

    /// Whether the im2col mode is built.
    pub fn im2col(&self) -> bool {
        self.im2col
    }

    /// The same config with (`on`, the default) or without the registers around the depthwise
    /// block RAMs (`[engine] ram_regs`): the window's line-buffer and history RAMs written an
    /// edge late from registers (`SdpRam::with_late_write`: a read of the pending address takes
    /// the pending word) and read through a landing register (`SdpRam::with_read_stage`: the
    /// window presents each address a position earlier), and the weight word in a register
    /// beside its RAM. They keep each RAM's slow clock-to-out (5.8 ns on the ECP5's DP16KD) out
    /// of every path but one into a flip-flop; off, the engine is smaller (the UP5K config
    /// needs that). Same values and cycles.
    pub fn with_ram_regs(self, on: bool) -> Self {
        EngineConfig { ram_regs: on, ..self }
    }

    /// Whether the registers around the depthwise block RAMs are built.
    pub fn ram_regs(&self) -> bool {
        self.ram_regs
    }

    /// Whether the window rows' history columns share one RAM word.
    pub fn pack_history(&self) -> bool {
        self.pack_history
    }

    /// The same config with the depthwise bias and `M0` RAMs of kind `param_ram`.
    pub fn with_param_ram(self, param_ram: ParamRam) -> Self {
        EngineConfig { param_ram, ..self }
    }

    /// The same config with int8 products written as `lane_mul`.
    pub fn with_lane_mul(self, lane_mul: LaneMul) -> Self {
        EngineConfig { lane_mul, ..self }
    }

    /// Kind of the depthwise bias and `M0` RAMs.
    pub fn param_ram(&self) -> ParamRam {
        self.param_ram
    }

    /// How int8 products are written.
    pub fn lane_mul(&self) -> LaneMul {
        self.lane_mul
    }

    /// The same config with an input port of `q` pixels per beat (`Q`): a beat carries the `P`
    /// channels of one group of `Q` horizontally adjacent pixels, and `Q > 1` selects the wide
    /// window generator (`dsc_hw::window::WideWindow`, cycles in [`crate::wide_window`]).
    ///
    /// Errors: `q` 0 or not a power of two; `q > max_width`; for `q > 1`, `Dk = 1` (no
    /// window) or `Dk > q + 1` (a window row must lie within two adjacent beats): `Dk = 3`
    /// takes `Q ≥ 2`, `Dk = 5` takes `Q ≥ 4`.
    pub fn with_pixels_per_beat(self, q: usize) -> Result<Self> {
        if q == 0 || !q.is_power_of_two() {
            return Err(invalid(format!("pixels_per_beat Q = {q} must be a power of two (1, 2, 4, …)")));
        }
        if q > self.max_width {
            return Err(invalid(format!(
                "pixels_per_beat Q = {q} exceeds max_width = {}",
                self.max_width
            )));
        }
        let dk = self.dk;
        if q > 1 && (dk < 3 || dk > q + 1) {
            return Err(invalid(format!(
                "pixels_per_beat Q = {q} with Dk = {dk}: the wide window generator needs Dk ≥ 3 \
                 and Dk ≤ Q + 1 (a window row within two beats; Dk = 3: Q = 1 or Q ≥ 2; \
                 Dk = 5: Q = 1 or Q ≥ 4)"
            )));
        }
        Ok(EngineConfig { pixels_per_beat: q, ..self })
    }

    /// Input pixels per beat `Q` (1: the narrow window generator).
    pub fn pixels_per_beat(&self) -> usize {
        self.pixels_per_beat
    }
    /// Width of one input beat: `8·P·Q`.
    pub fn input_beat_bits(&self) -> usize {
        8 * self.lanes * self.pixels_per_beat
    }

    /// The same config with a depthwise sum of `bits` bits. Errors when `bits` cannot hold
    /// every sum of `Dk²` int8 products (it would wrap) or exceeds 32 (the requantizer's
    /// accumulator).
    pub fn with_dw_sum_bits(self, bits: usize) -> Result<Self> {
        let need = acc_bits_for_products((self.dk * self.dk) as u64);
        if bits < need || bits > 32 {
            return Err(invalid(format!(
                "dw_sum_bits = {bits} must lie in [{need}, 32] for Dk = {}",
                self.dk
            )));
        }
        Ok(EngineConfig { dw_sum_bits: bits, ..self })
    }

    /// Kernel size `Dk`.
    pub fn dk(&self) -> usize {
        self.dk
    }
    /// Depthwise lanes `P` (channels per beat).
    pub fn lanes(&self) -> usize {
        self.lanes
    }
    /// Systolic rows `R`.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Systolic columns `C`.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Largest image width.
    pub fn max_width(&self) -> usize {
        self.max_width
    }
    /// Largest image height.
    pub fn max_height(&self) -> usize {
        self.max_height
    }
    /// Largest channel count.
    pub fn max_channels(&self) -> usize {
        self.max_channels
    }
    /// Largest number of channel groups `M / P`.
    pub fn max_groups(&self) -> usize {
        self.max_channels / self.lanes
    }
    /// Width of the depthwise per-lane sum `Σ w·x`.
    pub fn dw_sum_bits(&self) -> usize {
        self.dw_sum_bits
    }
    /// Taps per window `Dk²`.
    pub fn taps(&self) -> usize {
        self.dk * self.dk
    }
    /// Leaves of the depthwise adder tree: `Dk²` rounded up to a power of two (at least 2).
    pub fn tree_leaves(&self) -> usize {
        self.taps().next_power_of_two().max(2)
    }
    /// The window generator's config (line buffers of [`Self::max_line_words`] beats).
    pub fn window(&self) -> WindowConfig {
        let w = WindowConfig::new(self.dk, self.max_width, self.max_height, self.lanes, self.max_channels)
            .expect("checked by EngineConfig::new");
        match self.max_line_words {
            Some(words) => w.with_line_depth(words).expect("checked by with_max_line_words"),
            None => w,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<EngineConfig>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn valid_config_and_derived_values() {
        let c = EngineConfig::new(3, 8, 8, 8, 112, 112, 1024).unwrap();
        assert_eq!(c.taps(), 9);
        assert_eq!(c.tree_leaves(), 16);
        assert_eq!(c.dw_sum_bits(), acc_bits_for_products(9));
        assert_eq!(c.max_groups(), 128);
        assert_eq!(c.window().lanes(), 8);
        assert_eq!(EngineConfig::new(1, 1, 1, 1, 4, 4, 1).unwrap().tree_leaves(), 2);
    }

    #[test]
    fn bad_configs_are_errors() {
        assert!(err(EngineConfig::new(4, 8, 8, 8, 16, 16, 64)).contains("odd"));
        assert!(err(EngineConfig::new(7, 8, 8, 8, 16, 16, 64)).contains("taps"));
        assert!(err(EngineConfig::new(3, 3, 8, 8, 16, 16, 64)).contains("multiple"));
        assert!(err(EngineConfig::new(3, 128, 8, 8, 16, 16, 128)).contains("lanes"));
        assert!(err(EngineConfig::new(3, 1, 8, 8, 16, 16, 2048)).contains("groups"));
        assert!(err(EngineConfig::new(3, 8, 0, 8, 16, 16, 64)).contains("systolic"));
        assert!(err(EngineConfig::new(3, 8, 8, 0, 16, 16, 64)).contains("systolic"));
        assert!(err(EngineConfig::new(3, 8, 8, 8, 2, 16, 64)).contains("max_width"));
        let c = EngineConfig::new(3, 8, 8, 8, 16, 16, 64).unwrap();
        assert!(err(c.with_dw_sum_bits(c.dw_sum_bits() - 1)).contains("dw_sum_bits"));
        assert!(err(c.with_dw_sum_bits(33)).contains("dw_sum_bits"));
        assert_eq!(c.with_dw_sum_bits(32).unwrap().dw_sum_bits(), 32);
    }

    #[test]
    fn deserialised_configs_go_through_the_checks() {
        let raw = |dk, bits| RawEngineConfig {
            dk,
            lanes: 2,
            rows: 2,
            cols: 2,
            max_width: 8,
            max_height: 8,
            max_channels: 4,
            dw_sum_bits: bits,
            param_ram: ParamRam::default(),
            lane_mul: LaneMul::default(),
            pack_history: false,
            im2col: true,
            ram_regs: true,
            pixels_per_beat: None,
            max_line_words: None,
        };
        assert_eq!(EngineConfig::try_from(raw(3, None)), EngineConfig::new(3, 2, 2, 2, 8, 8, 4));
        let up5k = RawEngineConfig { param_ram: ParamRam::Spram, lane_mul: LaneMul::Lut, pack_history: true, ..raw(3, None) };
        let c = EngineConfig::try_from(up5k).unwrap();
        assert_eq!((c.param_ram(), c.lane_mul(), c.pack_history()), (ParamRam::Spram, LaneMul::Lut, true));
        assert!(c.im2col());
        assert!(!EngineConfig::try_from(RawEngineConfig { im2col: false, ..raw(3, None) }).unwrap().im2col());
        assert!(c.ram_regs());
        assert!(!EngineConfig::try_from(RawEngineConfig { ram_regs: false, ..raw(3, None) }).unwrap().ram_regs());
        assert!(EngineConfig::try_from(raw(4, None)).is_err());
        assert!(EngineConfig::try_from(raw(3, Some(4))).is_err());
        let q = |q| RawEngineConfig { pixels_per_beat: Some(q), ..raw(3, None) };
        assert_eq!(EngineConfig::try_from(q(4)).unwrap().pixels_per_beat(), 4);
        assert!(EngineConfig::try_from(q(3)).unwrap_err().to_string().contains("power of two"));
        let words = |w| RawEngineConfig { max_line_words: Some(w), ..raw(3, None) };
        assert_eq!(EngineConfig::try_from(words(10)).unwrap().max_line_words(), 10);
        assert!(EngineConfig::try_from(words(7)).unwrap_err().to_string().contains("max_line_words = 7"));
    }

    /// MobileNet-v1 at 224 on P = 8: every layer's row is at most 112 · 64/8 = 896 words.
    #[test]
    fn max_line_words_sizes_the_line_buffers() {
        let full = EngineConfig::new(3, 8, 8, 8, 224, 224, 1024).unwrap();
        assert_eq!(full.max_line_words(), 224 * 128);
        assert!(!full.line_words_limited());
        let c = full.with_max_line_words(896).unwrap();
        assert!(c.line_words_limited());
        assert_eq!((c.max_line_words(), c.window().line_depth(), c.window().line_addr_bits()), (896, 896, 10));
        // The full product is the default, not a limit.
        assert_eq!(full.with_max_line_words(224 * 128).unwrap(), full);
        assert!(err(full.with_max_line_words(223)).contains("[max_width, max_width · max_channels / P] = [224, 28672]"));
        assert!(err(full.with_max_line_words(28673)).contains("max_line_words = 28673"));
        // Layers: 112 × 112 × 64 and 224 × 224 × 32 fit (112 · 8, 224 · 4 = 896 words),
        // 224 × 224 × 40 does not (224 · 5).
        assert!(c.window().layer(112, 112, 64, 1).is_ok());
        assert!(c.window().layer(224, 224, 32, 2).is_ok());
        let e = c.window().layer(224, 224, 40, 2).unwrap_err().to_string();
        assert!(e.contains("W · ⌈M/P⌉ = 224 · 5 = 1120 words exceeds max_line_words = 896"), "{e}");
        // Serialized only when limited.
        assert!(!serde_json::to_string(&full).unwrap().contains("max_line_words"));
        assert!(serde_json::to_string(&c).unwrap().contains("\"max_line_words\":896"));
    }

    #[test]
    fn pixels_per_beat_is_checked() {
        let c = EngineConfig::new(3, 8, 8, 8, 16, 16, 64).unwrap();
        assert_eq!(c.pixels_per_beat(), 1);
        assert_eq!(c.input_beat_bits(), 64);
        assert_eq!(c.with_pixels_per_beat(1).unwrap(), c);
        let c4 = c.with_pixels_per_beat(4).unwrap();
        assert_eq!((c4.pixels_per_beat(), c4.input_beat_bits()), (4, 256));
        assert!(c.with_pixels_per_beat(2).is_ok());
        assert!(err(c.with_pixels_per_beat(0)).contains("power of two"));
        assert!(err(c.with_pixels_per_beat(3)).contains("power of two"));
        assert!(err(c.with_pixels_per_beat(6)).contains("power of two"));
        assert!(err(c.with_pixels_per_beat(32)).contains("max_width"));
        // Dk = 3 takes any wider port that fits the width.
        assert!(c.with_pixels_per_beat(8).is_ok() && c.with_pixels_per_beat(16).is_ok());
        // Dk = 5 needs Q ≥ 4: a row of 5 taps spans three beats of 2 pixels.
        let c5 = EngineConfig::new(5, 8, 8, 8, 16, 16, 64).unwrap();
        assert!(err(c5.with_pixels_per_beat(2)).contains("Dk ≤ Q + 1"));
        assert!(c5.with_pixels_per_beat(4).is_ok() && c5.with_pixels_per_beat(16).is_ok());
        let c1 = EngineConfig::new(1, 8, 8, 8, 16, 16, 64).unwrap();
        assert!(err(c1.with_pixels_per_beat(2)).contains("Dk ≥ 3"));
        // The TOML key: optional, default 1, and Q = 1 serializes as before.
        assert!(!serde_json::to_string(&c).unwrap().contains("pixels_per_beat"));
        assert!(serde_json::to_string(&c4).unwrap().contains("\"pixels_per_beat\":4"));
    }
}
