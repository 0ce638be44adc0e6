//! The tops codegen emits, and the const-generic instantiations compiled in for them.
//!
//! rust-hdl fixes every bit width at compile time (const generics), while counts (`P`, `R`,
//! `C`) and maxima are runtime values. So a config file can only select among the
//! instantiations listed here: [`DEPTHWISE`] and [`POINTWISE`] hold the width tuples, each
//! with the config it was added for. A config whose widths are not listed gets an error that
//! names the widths it needs and the supported ones. To support a new config, add one line to
//! the table (the widths are printed in the error) and rebuild. The fused engine's table is
//! dsc-hw's ([`dsc_hw::engine::INSTANCES`]), shared with dsc-sim.
//!
//! [`TOPS`] lists the emitted tops; adding a top is one entry there.
//! [`BOARDS`] lists the boards: each gets a board top (`board_<name>`, [`BoardTop`]: the
//! depthwise engine behind a UART) built for its clock and IO polarity, and a constraint file
//! in `constraints/`.

use dsc_hw::board::{BoardIo, BoardTop};
use dsc_hw::depthwise::DepthwiseEngine;
use dsc_model::engine::DscConfig;
use dsc_hw::pointwise::PointwiseStage;
use dsc_hw::verify::verilog_of;

use crate::gen_config::GenConfig;

/// One emitted top: a Verilog file holding module `name` and its submodules.
pub struct Top {
    /// Module name of the top, also the file stem (`rtl/<name>.v`).
    pub name: &'static str,
    /// The rust-hdl block it comes from (for the header).
    pub block: &'static str,
    /// The Verilog as rust-hdl generates it (top module `top`), or why the config has no
    /// compiled instantiation.
    pub generate: fn(&GenConfig) -> Result<String, String>,
    /// A board top: the board it is for (synthesized with the board's pins, not wrapped).
    pub board: Option<&'static Board>,
    /// A generation choice worth stating (printed and written into the file's header).
    pub note: fn(&GenConfig) -> Option<String>,
}

/// A board with a public pinout: device, clock, IO polarity, constraint file.
#[derive(Debug)]
pub struct Board {
    /// `--board` name; the top is `board_<name>`.
    pub name: &'static str,
    /// The `--target` device of the board.
    pub target: &'static str,
    /// The board oscillator.
    pub clock_hz: u64,
    /// Pin constraints (PCF for iCE40, LPF for ECP5), relative to the repository root.
    pub constraints: &'static str,
    /// The reset button reads 0 when pressed.
    pub button_active_low: bool,
    /// The LEDs light on 0.
    pub leds_active_low: bool,
}

/// UART speed of every board top (the USB-serial bridges run it without flow control).
pub const BAUD: u64 = 115_200;

/// The supported boards.
pub const BOARDS: &[Board] = &[
    Board {
        name: "icebreaker",
        target: "ice40-up5k",
        clock_hz: 12_000_000,
        constraints: "constraints/icebreaker.pcf",
        button_active_low: true,
        leds_active_low: true,
    },
    Board {
        name: "ulx3s",
        target: "ecp5-85f",
        clock_hz: 25_000_000,
        constraints: "constraints/ulx3s.lpf",
        button_active_low: false,
        leds_active_low: false,
    },
];

impl Board {
    /// The board by `--board` name; the error lists the known ones.
    pub fn find(name: &str) -> Result<&'static Board, String> {
        BOARDS.iter().find(|b| b.name == name).ok_or_else(|| {
            let known: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
            format!("unknown board `{name}`: known boards are {}", known.join(", "))
        })
    }

    /// The board top's IO parameters.
    pub fn io(&self) -> Result<BoardIo, String> {
        Ok(BoardIo {
            divisor: BoardIo::divisor_for(self.clock_hz, BAUD)?,
            button_active_low: self.button_active_low,
            leds_active_low: self.leds_active_low,
        })
    }
}

/// Every top emitted for a config, in emission order.
pub const TOPS: &[Top] = &[
    Top {
        name: "depthwise_engine",
        block: "dsc_hw::depthwise::DepthwiseEngine",
        generate: depthwise_verilog,
        board: None,
        note: |_| None,
    },
    Top {
        name: "pointwise_stage",
        block: "dsc_hw::pointwise::PointwiseStage",
        generate: pointwise_verilog,
        board: None,
        note: |_| None,
    },
    Top {
        name: "dsc_engine",
        block: "dsc_hw::engine::DscEngine",
        generate: dsc_engine_verilog,
        board: None,
        note: dsc_engine_note,
    },
    Top {
        name: "board_icebreaker",
        block: "dsc_hw::board::BoardTop",
        generate: |cfg| board_verilog(cfg, &BOARDS[0]),
        board: Some(&BOARDS[0]),
        note: |_| None,
    },
    Top {
        name: "board_ulx3s",
        block: "dsc_hw::board::BoardTop",
        generate: |cfg| board_verilog(cfg, &BOARDS[1]),
        board: Some(&BOARDS[1]),
        note: |_| None,
    },
];

/// Widths of `DepthwiseEngine<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW>` a config needs.
pub fn depthwise_widths(cfg: &GenConfig) -> [usize; 10] {
    let e = &cfg.engine;
    let w = e.window();
    let p = e.lanes();
    [
        w.beat_bits(),
        w.window_bits(),
        w.line_addr_bits(),
        w.group_bits(),
        w.coord_bits(),
        w.dk(),
        e.dw_sum_bits(),
        32 * p,
        6 * p,
        w.beat_bits() + 1,
    ]
}

fn clog2(n: usize) -> usize {
    (usize::BITS - (n.max(1) - 1).leading_zeros()) as usize
}

/// Widths of `PointwiseStage<ACC, AW, WW, PW, PB, PS, FW, XA, WA, BA, OA, JA>` a config needs
/// (the same derivation as `PointwiseStage::new`, which checks them again).
pub fn pointwise_widths(cfg: &GenConfig) -> [usize; 12] {
    let p = &cfg.pointwise;
    let a = p.array();
    let (r, c, acc) = (a.rows(), a.cols(), a.acc_bits());
    let (mt, nt, b) = (p.max_m_tiles(), p.max_n_tiles(), p.max_block());
    [
        acc,
        8 * r,
        8 * c,
        acc * c,
        32 * c,
        6 * c,
        8 * c + 1,
        clog2(b * mt) + 1,
        clog2(p.weight_tiles() * r),
        clog2(b),
        clog2(b * nt) + 1,
        clog2(nt),
    ]
}

/// Expands to a function that matches the config's widths against the listed instantiations
/// and generates the matching one's Verilog.
macro_rules! instantiations {
    ($fn:ident, $block:ident, $widths:ident, $what:literal,
     $( $name:literal => [$($g:literal),+] ),+ $(,)?) => {
        /// The supported instantiations: (the config they were added for, widths).
        #[allow(dead_code)]
        pub const fn supported() -> &'static [(&'static str, &'static [usize])] {
            &[ $( ($name, &[$($g),+]) ),+ ]
        }

        pub fn $fn(cfg: &GenConfig) -> Result<String, String> {
            let need = $widths(cfg);
            $(
                if need[..] == [$($g),+][..] {
                    let mut block = $block::<$($g),+>::new(&cfg.engine_or_pw())
                        .map_err(|e| format!("{}: {e}", $what))?;
                    return Ok(verilog_of(&mut block));
                }
            )+
            let list: Vec<String> = [$( format!("{:?} ({})", [$($g),+], $name) ),+].to_vec();
            Err(format!(
                "no compiled {} for this config: it needs widths {:?}; codegen is built with {} \
                 (add the widths to crates/codegen/src/tops.rs to support it)",
                $what, need, list.join(", ")
            ))
        }
    };
}

/// Lets the macro pass the right config to each block's constructor.
trait ConfigFor<B> {
    fn engine_or_pw(&self) -> B;
}

/// The depthwise instantiations, passed to `$mac` after `$args` (the engine and the board
/// tops share one list).
macro_rules! depthwise_table {
    ($mac:ident ! ( $($args:tt)* )) => {
        $mac!( $($args)*
            "default.toml: Dk 3, P 8, 112×112×1024" => [64, 576, 14, 7, 7, 3, 19, 256, 48, 65],
            "default.toml: Dk 3, P 4, 56×56×256" => [32, 288, 12, 6, 6, 3, 19, 128, 24, 33],
            "ecp5-85f.toml: Dk 3, P 8, 224×224×1024, 896-word line buffers" => [64, 576, 10, 7, 8, 3, 19, 256, 48, 65],
            "ice40-up5k.toml: Dk 3, P 1, 32×32×32" => [8, 72, 10, 5, 6, 3, 19, 32, 6, 9],
            "icebreaker.toml: Dk 3, P 1, 16×16×32" => [8, 72, 9, 5, 5, 3, 19, 32, 6, 9],
        );
    };
}

mod dw {
    use super::*;
    use dsc_model::engine_config::EngineConfig;

    impl super::ConfigFor<EngineConfig> for GenConfig {
        fn engine_or_pw(&self) -> EngineConfig {
            self.engine
        }
    }

    depthwise_table!(instantiations!(generate, DepthwiseEngine, depthwise_widths,
        "DepthwiseEngine<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW>",));
}

/// Like `instantiations!`, for [`BoardTop`] around the depthwise engine of the config.
macro_rules! board_instantiations {
    ($( $name:literal => [$($g:literal),+] ),+ $(,)?) => {
        pub fn generate(cfg: &GenConfig, io: BoardIo) -> Result<String, String> {
            let need = depthwise_widths(cfg);
            $(
                if need[..] == [$($g),+][..] {
                    let mut block = BoardTop::<$($g),+>::new(&cfg.engine, io)
                        .map_err(|e| format!("BoardTop: {e}"))?;
                    return Ok(verilog_of(&mut block));
                }
            )+
            let list: Vec<String> = [$( format!("{:?} ({})", [$($g),+], $name) ),+].to_vec();
            Err(format!(
                "no compiled BoardTop for this config: its depthwise engine needs widths {:?}; \
                 codegen is built with {} (add the widths to crates/codegen/src/tops.rs)",
                need, list.join(", ")
            ))
        }
    };
}

mod board {
    use super::*;
    depthwise_table!(board_instantiations!());
}

fn board_verilog(cfg: &GenConfig, board: &Board) -> Result<String, String> {
    board::generate(cfg, board.io()?)
}

mod pw {
    use super::*;
    use dsc_model::pointwise::PointwiseConfig;

    impl super::ConfigFor<PointwiseConfig> for GenConfig {
        fn engine_or_pw(&self) -> PointwiseConfig {
            self.pointwise
        }
    }

    instantiations!(generate, PointwiseStage, pointwise_widths,
        "PointwiseStage<ACC, AW, WW, PW, PB, PS, FW, XA, WA, BA, OA, JA>",
        "default.toml: R×C 8×4, M, N ≤ 1024, block 64" => [26, 64, 32, 104, 128, 24, 33, 14, 18, 6, 15, 8],
        "default.toml: R×C 4×4, M, N ≤ 256, block 32" => [24, 32, 32, 96, 128, 24, 33, 12, 14, 5, 12, 6],
        "ecp5-85f.toml: R×C 8×8, M, N ≤ 1024, 128K weights, block 16" => [26, 64, 64, 208, 256, 48, 65, 12, 14, 4, 12, 7],
        "ice40-up5k.toml: R×C 1×1, M, N ≤ 32, block 16" => [21, 8, 8, 21, 32, 6, 9, 10, 10, 4, 10, 5],
    );
}

fn depthwise_verilog(cfg: &GenConfig) -> Result<String, String> {
    dw::generate(cfg)
}

fn pointwise_verilog(cfg: &GenConfig) -> Result<String, String> {
    pw::generate(cfg)
}

/// The fused engine: its instantiations are dsc-hw's table ([`dsc_hw::engine::INSTANCES`],
/// shared with dsc-sim); an error when the engine and pointwise configs do not fuse (`P ≠ R`)
/// or no row has the widths.
fn dsc_engine_verilog(cfg: &GenConfig) -> Result<String, String> {
    let dsc = DscConfig::new(cfg.engine, cfg.pointwise).map_err(|e| format!("DscEngine: {e}"))?;
    dsc_hw::engine::engine_verilog(&dsc).map_err(|e| e.to_string())
}

/// The fused engine's inter-stage FIFO depth and why ([`dsc_model::engine::fifo_depth_for`]).
fn dsc_engine_note(cfg: &GenConfig) -> Option<String> {
    let (_, why) = dsc_model::engine::fifo_depth_for(&cfg.engine, &cfg.pointwise);
    Some(format!("inter-stage FIFO: {why}"))
}
