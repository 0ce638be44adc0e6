//! The generation config file (TOML): what `emit` and `synth` build.
//!
//! ```toml
//! [engine]            # dsc_model::engine_config::EngineConfig
//! dk = 3
//! lanes = 8           # P
//! rows = 8            # R
//! cols = 8            # C
//! max_width = 112
//! max_height = 112
//! max_channels = 1024
//! # dw_sum_bits = 19  # optional, default: the narrowest that cannot wrap
//! # max_line_words = 896  # optional: words per line buffer, the largest W·⌈M/P⌉ of a
//! #                       # layer (default max_width · max_channels / P)
//!
//! [pointwise]         # dsc_model::pointwise::PointwiseConfig (weight-stationary R×C array)
//! max_block = 64      # pixels per block
//! # acc_bits = 26     # optional, default: the narrowest for max_channels products
//! # max_n = 128       # optional: most output channels of a layer in one pass (default
//! #                   # max_channels); a layer with more runs in N tiles on the host
//! # max_weights = 131072  # optional: int8 weights the weight memory holds, a multiple of
//! #                   # rows·cols (default: the max_channels × max_n rectangle); a layer runs
//! #                   # in one pass when its ⌈M/R⌉·⌈N/C⌉ weight tiles fit, else in N tiles
//! ```
//!
//! The pointwise stage takes layers up to `max_channels × max_n` (`max_n` = `max_channels`
//! unless given) whose weights fit `max_weights`, so one config describes both stages. Unknown keys are errors (a typo must not silently become a default).
//! Every value goes through the model's own validation.

use std::fmt::Write as _;
use std::path::Path;

use dsc_model::engine_config::{EngineConfig, LaneMul, ParamRam};
use dsc_model::pointwise::PointwiseConfig;
use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};
use serde::Deserialize;

/// A validated generation config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenConfig {
    pub engine: EngineConfig,
    pub pointwise: PointwiseConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    engine: RawEngine,
    pointwise: RawPointwise,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    dk: usize,
    lanes: usize,
    rows: usize,
    cols: usize,
    max_width: usize,
    max_height: usize,
    max_channels: usize,
    dw_sum_bits: Option<usize>,
    param_ram: Option<ParamRam>,
    lane_mul: Option<LaneMul>,
    pack_history: Option<bool>,
    max_line_words: Option<usize>,
    im2col: Option<bool>,
    ram_regs: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPointwise {
    max_block: usize,
    acc_bits: Option<usize>,
    max_n: Option<usize>,
    max_weights: Option<usize>,
}

impl GenConfig {
    /// Parses and validates TOML text. The error is one line, without the file name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            // toml's messages span several lines (a source excerpt); keep the gist.
            let msg = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
            match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].lines().count().max(1);
                    format!("TOML line {line}: {msg}")
                }
                None => format!("TOML: {msg}"),
            }
        })?;
        let e = raw.engine;
        let mut engine = EngineConfig::new(
            e.dk,
            e.lanes,
            e.rows,
            e.cols,
            e.max_width,
            e.max_height,
            e.max_channels,
        )
        .map_err(|err| format!("[engine]: {err}"))?;
        if let Some(bits) = e.dw_sum_bits {
            engine = engine.with_dw_sum_bits(bits).map_err(|err| format!("[engine]: {err}"))?;
        }
        engine = engine
            .with_param_ram(e.param_ram.unwrap_or_default())
            .with_lane_mul(e.lane_mul.unwrap_or_default())
            .with_pack_history(e.pack_history.unwrap_or(false))
            .with_im2col(e.im2col.unwrap_or(true))
            .with_ram_regs(e.ram_regs.unwrap_or(true));
        if let Some(words) = e.max_line_words {
            engine = engine.with_max_line_words(words).map_err(|err| format!("[engine]: {err}"))?;
        }
        let max_k = engine.max_channels() as u64;
        let acc = raw.pointwise.acc_bits.unwrap_or_else(|| acc_bits_for_products(max_k));
        let array = SystolicConfig::new(engine.rows(), engine.cols(), acc, max_k, Dataflow::WeightStationary)
            .map_err(|err| format!("[pointwise]: {err}"))?;
        let mut pointwise = PointwiseConfig::new(
            array,
            engine.max_channels(),
            raw.pointwise.max_n.unwrap_or(engine.max_channels()),
            raw.pointwise.max_block,
        )
        .map_err(|err| format!("[pointwise]: {err}"))?;
        if let Some(weights) = raw.pointwise.max_weights {
            pointwise = pointwise.with_max_weights(weights).map_err(|err| format!("[pointwise]: {err}"))?;
        }
        Ok(GenConfig { engine, pointwise })
    }

    /// Reads and validates `path`; the error names the file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read config: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The config in canonical TOML (every value explicit, defaults resolved): what the
    /// emitted files' headers record.
    pub fn to_toml(&self) -> String {
        let e = &self.engine;
        let p = &self.pointwise;
        let mut s = String::new();
        let _ = writeln!(s, "[engine]");
        for (k, v) in [
            ("dk", e.dk()),
            ("lanes", e.lanes()),
            ("rows", e.rows()),
            ("cols", e.cols()),
            ("max_width", e.max_width()),
            ("max_height", e.max_height()),
            ("max_channels", e.max_channels()),
            ("dw_sum_bits", e.dw_sum_bits()),
        ] {
            let _ = writeln!(s, "{k} = {v}");
        }
        // Written only when not the default, so the headers of existing designs stay as
        // they were.
        if e.param_ram() == ParamRam::Spram {
            let _ = writeln!(s, "param_ram = \"spram\"");
        }
        if e.lane_mul() == LaneMul::Lut {
            let _ = writeln!(s, "lane_mul = \"lut\"");
        }
        if e.pack_history() {
            let _ = writeln!(s, "pack_history = true");
        }
        if e.line_words_limited() {
            let _ = writeln!(s, "max_line_words = {}", e.max_line_words());
        }
        if !e.im2col() {
            let _ = writeln!(s, "im2col = false");
        }
        if !e.ram_regs() {
            let _ = writeln!(s, "ram_regs = false");
        }
        let _ = writeln!(s, "[pointwise]");
        let _ = writeln!(s, "max_block = {}", p.max_block());
        let _ = writeln!(s, "acc_bits = {}", p.array().acc_bits());
        if p.max_n() != e.max_channels() {
            let _ = writeln!(s, "max_n = {}", p.max_n());
        }
        if p.weights_limited() {
            let _ = writeln!(s, "max_weights = {}", p.max_weights());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "[engine]\ndk = 3\nlanes = 2\nrows = 2\ncols = 2\nmax_width = 8\n\
                        max_height = 8\nmax_channels = 8\n[pointwise]\nmax_block = 8\n";

    #[test]
    fn canonical_form_round_trips() {
        let c = GenConfig::parse(GOOD).unwrap();
        assert_eq!(GenConfig::parse(&c.to_toml()).unwrap(), c);
        assert_eq!(c.pointwise.array().acc_bits(), acc_bits_for_products(8));
        assert!(!c.to_toml().contains("param_ram") && !c.to_toml().contains("lane_mul"));
        let small = GOOD.replace("dk = 3", "dk = 3\nparam_ram = \"spram\"\nlane_mul = \"lut\"\npack_history = true\nim2col = false\nram_regs = false");
        let c = GenConfig::parse(&small).unwrap();
        assert!(c.engine.pack_history());
        assert!(!c.engine.im2col());
        assert!(!c.engine.ram_regs());
        assert!(GenConfig::parse(GOOD).unwrap().engine.im2col());
        assert!(GenConfig::parse(GOOD).unwrap().engine.ram_regs());
        assert!(!GenConfig::parse(GOOD).unwrap().to_toml().contains("ram_regs"));
        assert_eq!(c.engine.param_ram(), ParamRam::Spram);
        assert_eq!(c.engine.lane_mul(), LaneMul::Lut);
        assert_eq!(GenConfig::parse(&c.to_toml()).unwrap(), c);
        let tiled = GOOD.replace("dk = 3", "dk = 3\nmax_line_words = 16").replace("max_block = 8", "max_block = 8\nmax_n = 4");
        let c = GenConfig::parse(&tiled).unwrap();
        assert_eq!((c.engine.max_line_words(), c.pointwise.max_n(), c.pointwise.max_m()), (16, 4, 8));
        assert_eq!(GenConfig::parse(&c.to_toml()).unwrap(), c);
        // 2×2 tiles: max_m 8 × max_n 8 is 16 tiles (64 weights); 8 tiles hold M = 8 × N = 4.
        let limited = GOOD.replace("max_block = 8", "max_block = 8\nmax_weights = 32");
        let c = GenConfig::parse(&limited).unwrap();
        assert!(c.pointwise.weights_limited() && c.to_toml().contains("max_weights = 32"));
        assert_eq!((c.pointwise.max_n_for(8), c.pointwise.max_n_for(2)), (4, 8));
        assert_eq!(GenConfig::parse(&c.to_toml()).unwrap(), c);
        assert!(!GenConfig::parse(GOOD).unwrap().to_toml().contains("max_weights"));
    }

    #[test]
    fn line_words_and_max_n_are_checked() {
        let e = GenConfig::parse(&GOOD.replace("dk = 3", "dk = 3\nmax_line_words = 7")).unwrap_err();
        assert!(e.starts_with("[engine]") && e.contains("max_line_words = 7") && e.contains("[8, 32]"), "{e}");
        let e = GenConfig::parse(&GOOD.replace("max_block = 8", "max_block = 8\nmax_n = 0")).unwrap_err();
        assert!(e.starts_with("[pointwise]") && e.contains("max_n = 0"), "{e}");
        for bad in [30, 8, 68] {
            let e = GenConfig::parse(&GOOD.replace("max_block = 8", &format!("max_block = 8\nmax_weights = {bad}"))).unwrap_err();
            assert!(e.starts_with("[pointwise]") && e.contains(&format!("max_weights = {bad}")) && e.contains("16..=64"), "{e}");
        }
    }

    #[test]
    fn errors_are_one_line_and_name_the_problem() {
        let typo = GOOD.replace("lanes", "lane");
        let e = GenConfig::parse(&typo).unwrap_err();
        assert!(e.contains("lane") && !e.contains('\n'), "{e}");
        let e = GenConfig::parse(&GOOD.replace("dk = 3", "dk = 4")).unwrap_err();
        assert!(e.starts_with("[engine]") && e.contains("odd"), "{e}");
        let e = GenConfig::parse(&format!("{GOOD}acc_bits = 3\n")).unwrap_err();
        assert!(e.starts_with("[pointwise]"), "{e}");
        let e = GenConfig::parse(&GOOD.replace("dk = 3", "dk = 3\nparam_ram = \"ultra\"")).unwrap_err();
        assert!(e.contains("ultra") && e.contains("spram") && !e.contains('\n'), "{e}");
        let e = GenConfig::parse(&GOOD.replace("dk = 3", "dk = 3\nlane_mul = 2")).unwrap_err();
        assert!(e.contains("TOML line 3"), "{e}");
        let e = GenConfig::parse("[engine\n").unwrap_err();
        assert!(e.starts_with("TOML line 1") && !e.contains('\n'), "{e}");
    }
}
