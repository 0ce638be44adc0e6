//! Sliding-window extraction: the golden model of the `window` block, and its configuration.
//!
//! [`WindowConfig`] holds the generation-time parameters (what the hardware is built for) and
//! validates them; [`WindowLayer`] is one layer's runtime geometry, validated against a config;
//! [`extract_windows`] produces the `Dk×Dk` windows of a layer in exactly the order the hardware
//! emits them:
//!
//! * output pixels in row-major order, and within a pixel the channel groups of `P` lanes
//!   (`group g` holds channels `g·P .. g·P+P`);
//! * each window is `Dk×Dk` taps per lane, tap `t = i·Dk + j` (row `i`, column `j`) at input
//!   position `(oy·s − pad_top + i, ox·s − pad_left + j)`, TF SAME padding ([`same_padding`]);
//! * a tap outside the image holds the raw input zero point `in_zp`, so a later
//!   `w·(x − in_zp)` adds nothing there — the same sum as TFLite, which skips padded taps
//!   (DESIGN §2 allows the hardware to pad this way).

use serde::{Deserialize, Serialize};

use crate::conv::{check_kernel, check_stride};
use crate::error::{ModelError, Result};
use crate::padding::{same_padding, SamePadding};
use crate::tensor::Tensor;

/// Largest image width or height: the hardware's position counters are at most 16 bits, and
/// rust-hdl emits 32-bit literals, so every runtime sum stays far from overflow.
pub const MAX_SIZE: usize = 1 << 15;

/// Generation-time parameters of the sliding-window generator.
///
/// Build it with [`WindowConfig::new`] (and optionally [`WindowConfig::with_line_depth`]); a
/// deserialised config goes through the same checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawWindowConfig")]
pub struct WindowConfig {
    dk: usize,
    max_width: usize,
    max_height: usize,
    lanes: usize,
    max_channels: usize,
    line_depth: usize,
}

/// The unvalidated form serde reads; converted through [`WindowConfig::new`].
#[derive(Debug, Clone, Copy, Deserialize)]
struct RawWindowConfig {
    dk: usize,
    max_width: usize,
    max_height: usize,
    lanes: usize,
    max_channels: usize,
    line_depth: Option<usize>,
}

impl TryFrom<RawWindowConfig> for WindowConfig {
    type Error = ModelError;
    fn try_from(r: RawWindowConfig) -> Result<Self> {
        let c = WindowConfig::new(r.dk, r.max_width, r.max_height, r.lanes, r.max_channels)?;
        match r.line_depth {
            Some(d) => c.with_line_depth(d),
            None => Ok(c),
        }
    }
}

fn invalid(msg: String) -> ModelError {
    ModelError::InvalidParameter(msg)
}

/// Bits needed to hold the values `0..=max` (at least 1).
pub fn bits_for(max: usize) -> usize {
    (usize::BITS - max.leading_zeros()).max(1) as usize
}

impl WindowConfig {
    /// A config for kernel `dk`, images up to `max_width × max_height`, `lanes` channels per
    /// beat (`P`) and up to `max_channels` channels. Each line buffer then holds
    /// `max_width · max_channels / lanes` beats (shrink it with [`Self::with_line_depth`]).
    ///
    /// Errors:
    /// * `dk` even or 0 — SAME padding of an even kernel is not centred, and the window has no
    ///   centre tap;
    /// * `max_width < dk` or `max_height < dk` — the largest image must hold one whole window;
    ///   either above [`MAX_SIZE`] — counter widths;
    /// * `lanes == 0` — a beat must carry a channel;
    /// * `max_channels` 0 or not a multiple of `lanes` — channels travel in whole beats of `P`.
    pub fn new(
        dk: usize,
        max_width: usize,
        max_height: usize,
        lanes: usize,
        max_channels: usize,
    ) -> Result<Self> {
        check_kernel(dk)?;
        for (name, v) in [("max_width", max_width), ("max_height", max_height)] {
            if v < dk {
                return Err(invalid(format!(
                    "{name} = {v} is smaller than the kernel size Dk = {dk}"
                )));
            }
            if v > MAX_SIZE {
                return Err(invalid(format!(
                    "{name} = {v} exceeds the maximum {MAX_SIZE}"
                )));
            }
        }
        if lanes == 0 {
            return Err(invalid("lanes P must be at least 1".into()));
        }
        if max_channels == 0 || max_channels % lanes != 0 {
            return Err(invalid(format!(
                "max_channels = {max_channels} must be a positive multiple of lanes P = {lanes}"
            )));
        }
        let line_depth = max_width
            .checked_mul(max_channels / lanes)
            .filter(|&d| d <= 1 << 24)
            .ok_or_else(|| {
                invalid(format!(
                    "line buffer of {max_width} × {} beats is too large",
                    max_channels / lanes
                ))
            })?;
        Ok(WindowConfig {
            dk,
            max_width,
            max_height,
            lanes,
            max_channels,
            line_depth,
        })
    }

    /// The same config with line buffers of `words` beats: a layer then needs
    /// `W · M / P ≤ words`. Networks shrink `W` as they grow `M`, so the product, not
    /// `max_width · max_channels / P`, sizes the block RAM.
    ///
    /// Errors when `words < max_width` (a row of the widest image in one channel group must
    /// fit) or `words > max_width · max_channels / P` (more than any layer can use).
    pub fn with_line_depth(self, words: usize) -> Result<Self> {
        let full = self.max_width * self.max_groups();
        if words < self.max_width || words > full {
            return Err(invalid(format!(
                "line_depth = {words} must lie in [max_width, max_width · max_channels / P] = \
                 [{}, {full}]",
                self.max_width
            )));
        }
        Ok(WindowConfig {
            line_depth: words,
            ..self
        })
    }

    /// Kernel size `Dk`.
    pub fn dk(&self) -> usize {
        self.dk
    }
    /// Largest image width.
    pub fn max_width(&self) -> usize {
        self.max_width
    }
    /// Largest image height.
    pub fn max_height(&self) -> usize {
        self.max_height
    }
    /// Channels per beat `P`.
    pub fn lanes(&self) -> usize {
        self.lanes
    }
    /// Largest channel count `M`.
    pub fn max_channels(&self) -> usize {
        self.max_channels
    }
    /// Largest number of channel groups `M / P`.
    pub fn max_groups(&self) -> usize {
        self.max_channels / self.lanes
    }
    /// Beats one line buffer holds.
    pub fn line_depth(&self) -> usize {
        self.line_depth
    }
    /// Rows and columns of padding SAME adds after the image: `(Dk − 1) / 2` for every size
    /// and stride 1 or 2 (the asymmetric stride-2 case moves padding off the *top/left*).
    pub fn half(&self) -> usize {
        (self.dk - 1) / 2
    }
    /// Width of one input beat: `8·P`.
    pub fn beat_bits(&self) -> usize {
        8 * self.lanes
    }
    /// Width of one window row: `Dk · 8·P`.
    pub fn row_bits(&self) -> usize {
        self.dk * self.beat_bits()
    }
    /// Width of one output window: `Dk² · 8·P`.
    pub fn window_bits(&self) -> usize {
        self.dk * self.row_bits()
    }
    /// Address width of a line buffer.
    pub fn line_addr_bits(&self) -> usize {
        bits_for(self.line_depth - 1)
    }
    /// Address width of the per-group column history (at least 1, so address 1 exists).
    pub fn group_bits(&self) -> usize {
        bits_for(self.max_groups() - 1).max(1)
    }
    /// Width of the row/column position counters: they run to `size − 1 + half`.
    pub fn coord_bits(&self) -> usize {
        bits_for(self.max_width.max(self.max_height) + self.half())
    }

    /// One layer's geometry on this hardware; see [`WindowLayer`].
    pub fn layer(
        &self,
        height: usize,
        width: usize,
        channels: usize,
        stride: usize,
    ) -> Result<WindowLayer> {
        WindowLayer::new(self, height, width, channels, stride)
    }
}

/// Runtime geometry of one layer: `H × W × M`, stride, and its SAME padding. Fields are
/// readable; a value is only made by [`WindowLayer::new`] (`non_exhaustive` forbids struct
/// literals outside this crate), so every layer was checked against a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WindowLayer {
    /// Input height `H`.
    pub height: usize,
    /// Input width `W`.
    pub width: usize,
    /// Channels `M`.
    pub channels: usize,
    /// Stride (1 or 2), both axes.
    pub stride: usize,
    /// Channel groups `M / P`: beats per pixel.
    pub groups: usize,
    /// Padding along the height (`out` = output rows).
    pub rows: SamePadding,
    /// Padding along the width (`out` = output columns).
    pub cols: SamePadding,
    /// Kernel size, from the config.
    pub dk: usize,
    /// Lanes `P`, from the config.
    pub lanes: usize,
}

impl WindowLayer {
    /// Validates a layer against `cfg`. Errors when `H` or `W` is 0 or above the config's
    /// maximum, `M` is 0, not a multiple of `P` or above `max_channels`, a row of the layer
    /// (`W · M / P` beats) exceeds the line-buffer depth, or the stride is not 1 or 2.
    /// `H, W` smaller than `Dk` are fine: SAME padding covers them.
    pub fn new(
        cfg: &WindowConfig,
        height: usize,
        width: usize,
        channels: usize,
        stride: usize,
    ) -> Result<Self> {
        check_stride(stride)?;
        for (name, v, max) in [
            ("height", height, cfg.max_height),
            ("width", width, cfg.max_width),
        ] {
            if v == 0 || v > max {
                return Err(invalid(format!("{name} = {v} must lie in [1, {max}]")));
            }
        }
        if channels == 0 || channels % cfg.lanes != 0 || channels > cfg.max_channels {
            return Err(invalid(format!(
                "channels M = {channels} must be a positive multiple of P = {} up to {}",
                cfg.lanes, cfg.max_channels
            )));
        }
        let groups = channels / cfg.lanes;
        if width * groups > cfg.line_depth {
            return Err(invalid(format!(
                "a row of W · ⌈M/P⌉ = {width} · {groups} = {} words exceeds max_line_words = {} \
                 (the depthwise line buffers' depth)",
                width * groups,
                cfg.line_depth
            )));
        }
        Ok(WindowLayer {
            height,
            width,
            channels,
            stride,
            groups,
            rows: same_padding(height, cfg.dk, stride)?,
            cols: same_padding(width, cfg.dk, stride)?,
            dk: cfg.dk,
            lanes: cfg.lanes,
        })
    }

    /// Windows of the layer: output pixels × channel groups.
    pub fn window_count(&self) -> usize {
        self.rows.out * self.cols.out * self.groups
    }

    /// Scan columns of every row but the last: `Wp = max(W, half, 2)`, `half = (Dk − 1) / 2`
    /// (`W` for every layer with `W ≥ 2` and `W ≥ half`). A row of fewer than `half` columns
    /// would not reach the columns that emit; a row of one position (`W = G = 1`) would read a
    /// line-buffer word in the cycle it is written.
    pub fn scan_width(&self) -> usize {
        self.width.max((self.dk - 1) / 2).max(2)
    }

    /// Positions the hardware scans per frame, one per cycle without stalls:
    /// `((H + half − 1) · Wp + W + half) · G` ([`Self::scan_width`]): `H + half` rows of `Wp`
    /// columns, the last row `W + half` columns. Columns `c ≥ W` and rows `r ≥ H` are padding
    /// and take no input beat. A row's right padding windows are emitted by the first `half`
    /// positions of the next row, which take that row's first beats (see
    /// [`Self::emit_positions`]): only the bottom padding costs positions of its own.
    pub fn scan_positions(&self) -> usize {
        let half = (self.dk - 1) / 2;
        ((self.height + half - 1) * self.scan_width() + self.width + half) * self.groups
    }

    /// The scan position emitting each window, in emission order. Window `(oy, ox, g)` has its
    /// bottom-right tap at row `r = oy·s + Dk − 1 − pad_top`, column `c = ox·s + Dk − 1 −
    /// pad_left` (`c < W + half`, `r < H + half`), and is emitted by position
    /// `(r · Wp + c) · G + g`: for `c < Wp` that is position `(r, c, g)`; for a right padding
    /// column `c ≥ Wp` it is position `(r + 1, c − Wp, g)` of the next row (on the last row,
    /// `(r, c, g)`, which the last row scans). Such a position takes its own input beat and
    /// emits the previous row's window: no position is spent on right padding.
    pub fn emit_positions(&self) -> impl Iterator<Item = u64> + '_ {
        let (s, dk, g, wp) = (self.stride, self.dk, self.groups, self.scan_width());
        (0..self.rows.out).flat_map(move |oy| {
            let r = oy * s + dk - 1 - self.rows.before;
            (0..self.cols.out).flat_map(move |ox| {
                let c = ox * s + dk - 1 - self.cols.before;
                (0..g).map(move |gg| ((r * wp + c) * g + gg) as u64)
            })
        })
    }

    /// Whether each scan position ([`Self::scan_positions`] of them) emits a window.
    pub fn scan_emits(&self) -> Vec<bool> {
        let mut emits = vec![false; self.scan_positions()];
        for n in self.emit_positions() {
            emits[n as usize] = true;
        }
        emits
    }
}

/// One window as the hardware emits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Output row `oy`.
    pub out_row: usize,
    /// Output column `ox`.
    pub out_col: usize,
    /// Channel group `g`: lanes hold channels `g·P .. g·P+P`.
    pub group: usize,
    /// `taps[t · P + lane]`, tap `t = i·Dk + j`; padded taps hold `in_zp`.
    pub taps: Vec<i8>,
    /// `padding[t]`: tap `t` lies outside the image.
    pub padding: Vec<bool>,
}

/// The windows of `input` (`[1, H, W, M]`) for `layer`, in the hardware's emission order,
/// padded taps filled with `in_zp`.
pub fn extract_windows(layer: &WindowLayer, input: &Tensor<i8>, in_zp: i8) -> Result<Vec<Window>> {
    input.expect_shape(
        "window input",
        [1, layer.height, layer.width, layer.channels],
    )?;
    let (dk, p) = (layer.dk, layer.lanes);
    let mut out = Vec::with_capacity(layer.window_count());
    for oy in 0..layer.rows.out {
        for ox in 0..layer.cols.out {
            for g in 0..layer.groups {
                let mut taps = Vec::with_capacity(dk * dk * p);
                let mut padding = Vec::with_capacity(dk * dk);
                for i in 0..dk {
                    for j in 0..dk {
                        let y = (oy * layer.stride + i).checked_sub(layer.rows.before);
                        let x = (ox * layer.stride + j).checked_sub(layer.cols.before);
                        match (y, x) {
                            (Some(y), Some(x)) if y < layer.height && x < layer.width => {
                                padding.push(false);
                                let px = input.pixel(0, y, x)?;
                                taps.extend_from_slice(&px[g * p..(g + 1) * p]);
                            }
                            _ => {
                                padding.push(true);
                                taps.extend(std::iter::repeat(in_zp).take(p));
                            }
                        }
                    }
                }
                out.push(Window {
                    out_row: oy,
                    out_col: ox,
                    group: g,
                    taps,
                    padding,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::depthwise::depthwise_acc;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn cfg() -> WindowConfig {
        WindowConfig::new(3, 16, 16, 2, 8).unwrap()
    }

    fn err_text<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn config_rejects_even_and_zero_kernels() {
        assert!(err_text(WindowConfig::new(0, 16, 16, 2, 8)).contains("odd"));
        assert!(err_text(WindowConfig::new(4, 16, 16, 2, 8)).contains("odd"));
        assert!(WindowConfig::new(1, 16, 16, 2, 8).is_ok());
        assert!(WindowConfig::new(15, 16, 16, 2, 8).is_ok());
    }

    #[test]
    fn config_rejects_images_smaller_than_the_kernel_or_too_large() {
        assert!(err_text(WindowConfig::new(5, 4, 16, 2, 8)).contains("max_width"));
        assert!(err_text(WindowConfig::new(5, 16, 4, 2, 8)).contains("max_height"));
        assert!(WindowConfig::new(5, 5, 5, 2, 8).is_ok());
        assert!(err_text(WindowConfig::new(3, MAX_SIZE + 1, 16, 2, 8)).contains("maximum"));
    }

    #[test]
    fn config_rejects_bad_lanes_and_channels() {
        assert!(err_text(WindowConfig::new(3, 16, 16, 0, 8)).contains("lanes"));
        assert!(err_text(WindowConfig::new(3, 16, 16, 3, 8)).contains("multiple"));
        assert!(err_text(WindowConfig::new(3, 16, 16, 2, 0)).contains("multiple"));
        assert!(err_text(WindowConfig::new(3, MAX_SIZE, 16, 1, 1 << 20)).contains("too large"));
    }

    #[test]
    fn line_depth_bounds() {
        let c = cfg();
        assert_eq!(c.line_depth(), 16 * 4);
        assert!(err_text(c.with_line_depth(15)).contains("line_depth"));
        assert!(err_text(c.with_line_depth(65)).contains("line_depth"));
        assert_eq!(c.with_line_depth(40).unwrap().line_depth(), 40);
        let l = c.with_line_depth(40).unwrap();
        assert!(err_text(l.layer(16, 16, 6, 1)).contains("line buffer"));
        assert!(l.layer(16, 10, 8, 1).is_ok());
    }

    #[test]
    fn derived_widths() {
        let c = WindowConfig::new(3, 112, 112, 8, 64).unwrap();
        assert_eq!(
            (c.beat_bits(), c.row_bits(), c.window_bits()),
            (64, 192, 576)
        );
        assert_eq!(c.line_depth(), 896);
        assert_eq!(c.line_addr_bits(), 10);
        assert_eq!(c.group_bits(), 3);
        assert_eq!(c.coord_bits(), 7);
        assert_eq!(WindowConfig::new(3, 16, 16, 8, 8).unwrap().group_bits(), 1);
    }

    /// Deserialisation (`#[serde(try_from)]`) runs the same checks as the constructor.
    #[test]
    fn deserialised_configs_go_through_the_checks() {
        let raw = |dk, line_depth| RawWindowConfig {
            dk,
            max_width: 8,
            max_height: 8,
            lanes: 2,
            max_channels: 4,
            line_depth,
        };
        assert_eq!(
            WindowConfig::try_from(raw(3, None)),
            WindowConfig::new(3, 8, 8, 2, 4)
        );
        assert!(WindowConfig::try_from(raw(4, None)).is_err());
        assert_eq!(
            WindowConfig::try_from(raw(3, Some(12)))
                .unwrap()
                .line_depth(),
            12
        );
        assert!(WindowConfig::try_from(raw(3, Some(7))).is_err());
    }

    #[test]
    fn layer_rejects_bad_geometry() {
        let c = cfg();
        assert!(err_text(c.layer(0, 8, 2, 1)).contains("height"));
        assert!(err_text(c.layer(17, 8, 2, 1)).contains("height"));
        assert!(err_text(c.layer(8, 0, 2, 1)).contains("width"));
        assert!(err_text(c.layer(8, 17, 2, 1)).contains("width"));
        assert!(err_text(c.layer(8, 8, 0, 1)).contains("channels"));
        assert!(err_text(c.layer(8, 8, 3, 1)).contains("channels"));
        assert!(err_text(c.layer(8, 8, 10, 1)).contains("channels"));
        assert!(err_text(c.layer(8, 8, 2, 0)).contains("stride"));
        assert!(err_text(c.layer(8, 8, 2, 3)).contains("stride"));
        assert!(c.layer(1, 1, 2, 2).is_ok());
        assert!(c.layer(16, 16, 8, 2).is_ok());
    }

    #[test]
    fn half_is_the_padding_after_for_every_size_and_stride() {
        for dk in [1, 3, 5, 7] {
            let c = WindowConfig::new(dk, 20, 20, 1, 1).unwrap();
            for n in 1..=20 {
                for s in [1, 2] {
                    let p = same_padding(n, dk, s).unwrap();
                    assert_eq!(p.after, c.half(), "dk {dk} n {n} s {s}");
                }
            }
        }
    }

    fn random_input(rng: &mut ChaCha8Rng, h: usize, w: usize, m: usize) -> Tensor<i8> {
        Tensor::from_fn([1, h, w, m], |_, _, _, _| match rng.gen_range(0..8) {
            0 => -128,
            1 => 127,
            _ => rng.gen(),
        })
        .unwrap()
    }

    #[test]
    fn order_count_and_centre_taps() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let c = cfg();
        let l = c.layer(5, 4, 4, 1).unwrap();
        let x = random_input(&mut rng, 5, 4, 4);
        let ws = extract_windows(&l, &x, -3).unwrap();
        assert_eq!(ws.len(), 5 * 4 * 2);
        for (n, w) in ws.iter().enumerate() {
            assert_eq!((w.out_row, w.out_col, w.group), (n / 8, n / 2 % 4, n % 2));
            // Stride 1, Dk 3: the centre tap (t = 4) is the input pixel itself.
            for lane in 0..2 {
                let ch = w.group * 2 + lane;
                assert_eq!(
                    w.taps[4 * 2 + lane],
                    x.get(0, w.out_row, w.out_col, ch).unwrap()
                );
            }
        }
        // Corner window: top row and left column padded, filled with in_zp.
        assert_eq!(
            ws[0].padding,
            [true, true, true, true, false, false, true, false, false]
        );
        assert!(ws[0].taps[..6].iter().all(|&v| v == -3));
    }

    #[test]
    fn stride_two_even_pads_only_bottom_right() {
        let c = cfg();
        let l = c.layer(4, 6, 2, 2).unwrap();
        let x = Tensor::filled([1, 4, 6, 2], 1i8).unwrap();
        let ws = extract_windows(&l, &x, 0).unwrap();
        assert_eq!(ws.len(), 2 * 3);
        assert!(ws[0].padding.iter().all(|&p| !p));
        let last = ws.last().unwrap();
        assert_eq!(
            last.padding,
            [false, false, true, false, false, true, true, true, true]
        );
    }

    /// Σ w·(x − in_zp) over each window equals the golden depthwise accumulator
    /// ([`crate::depthwise::depthwise_acc`], TFLite's loop that skips padded taps).
    #[test]
    fn window_sums_equal_the_depthwise_accumulator() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for case in 0..60 {
            let dk = [1, 3, 5][case % 3];
            let p = 1 + case % 3;
            let c = WindowConfig::new(dk, 9, 9, p, 3 * p).unwrap();
            let (h, w) = (rng.gen_range(1..=9), rng.gen_range(1..=9));
            let m = p * rng.gen_range(1..=3);
            let s = 1 + case / 3 % 2;
            let l = c.layer(h, w, m, s).unwrap();
            let x = random_input(&mut rng, h, w, m);
            let zp: i8 = rng.gen();
            let wts = random_input(&mut rng, dk, dk, m);
            let acc = depthwise_acc(&x, &wts, &vec![0; m], zp as i32, s).unwrap();
            let ws = extract_windows(&l, &x, zp).unwrap();
            assert_eq!(ws.len(), l.window_count());
            assert_eq!(acc.shape(), [1, l.rows.out, l.cols.out, m]);
            for win in &ws {
                for lane in 0..p {
                    let ch = win.group * p + lane;
                    let mut sum = 0i32;
                    for t in 0..dk * dk {
                        let v = win.taps[t * p + lane] as i32 - zp as i32;
                        sum = sum.wrapping_add(wts.data()[t * m + ch] as i32 * v);
                    }
                    let want = acc.get(0, win.out_row, win.out_col, ch).unwrap();
                    assert_eq!(sum, want, "case {case} window {win:?} lane {lane}");
                }
            }
        }
    }

    /// The scan: windows leave in raster order, the last position emits the last window, and
    /// at stride 1 (with `W ≥ half`, `W ≥ 2`) the windows come from consecutive positions once the
    /// first one has its bottom-right real tap: `H·W·G` windows in `H·W·G + half·(W + 1)·G`
    /// positions, the fewest an input of one beat per cycle allows.
    #[test]
    fn scan_emits_every_window_once_in_order() {
        for dk in [1, 3, 5, 7] {
            let half = (dk - 1) / 2;
            let c = WindowConfig::new(dk, 9, 9, 1, 3).unwrap();
            for (h, w) in (1..=9).flat_map(|h| (1..=9).map(move |w| (h, w))) {
                for (s, g) in [(1, 1), (1, 3), (2, 1), (2, 2)] {
                    let l = c.layer(h, w, g, s).unwrap();
                    let pos: Vec<u64> = l.emit_positions().collect();
                    assert_eq!(pos.len(), l.window_count());
                    assert!(pos.windows(2).all(|p| p[0] < p[1]), "{l:?}");
                    // (Dk = 1 at stride 2 skips the last row/column: no generator there.)
                    if dk >= 3 {
                        assert_eq!(*pos.last().unwrap() as usize + 1, l.scan_positions(), "{l:?}");
                    }
                    assert_eq!(l.scan_emits().iter().filter(|&&e| e).count(), pos.len());
                    if s == 1 && w >= half.max(2) {
                        let first = ((half * w + half) * g) as u64;
                        assert!(pos.iter().enumerate().all(|(k, &n)| n == first + k as u64));
                        assert_eq!(l.scan_positions(), h * w * g + half * (w + 1) * g);
                    }
                }
            }
        }
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let l = cfg().layer(4, 4, 2, 1).unwrap();
        let x = Tensor::filled([1, 4, 5, 2], 0i8).unwrap();
        assert!(extract_windows(&l, &x, 0).is_err());
    }
}
