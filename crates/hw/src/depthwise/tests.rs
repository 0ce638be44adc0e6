//! The engine in rust-hdl's own simulator on a tiny layer (its Rust model against the golden
//! model), and its generated Verilog through lint, Icarus and yosys. The random sweep, stalls,
//! reset and config-port checks run in Verilator (`crates/sim/tests/depthwise.rs`).

use super::*;
use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
use dsc_model::depthwise::{depthwise, engine_cycles};
use dsc_model::{RequantParams, Tensor};

fn cfg() -> EngineConfig {
    EngineConfig::new(3, 2, 1, 1, 12, 12, 8).unwrap()
}

/// One clock cycle: inputs already driven; returns after the rising edge settled.
fn tick(e: &mut SmallEngine) {
    e.clock.next = Clock::from(false);
    assert!(simulate(e, 200));
    e.clock.next = Clock::from(true);
    assert!(simulate(e, 200));
}

#[test]
fn tiny_layer_in_rust_hdl_matches_the_golden_model_and_cycle_model() {
    let cfg = cfg();
    let mut e = SmallEngine::new(&cfg).unwrap();
    e.connect_all();
    let (h, w, m) = (4, 3, 4);
    let input = Tensor::from_fn([1, h, w, m], |_, y, x, c| ((y * 37 + x * 11 + c * 5) % 256) as u8 as i8).unwrap();
    let weights = Tensor::from_fn([1, 3, 3, m], |_, y, x, c| [-128i8, 127, 3, -7, 0, 55][(y * 3 + x + c) % 6]).unwrap();
    let rq = RequantParams::new(vec![100, -3000, 7, 0], vec![1 << 30, i32::MAX, 1_500_000_000, 1 << 30], vec![-8, -10, -3, 0], -5, -100, 90).unwrap();
    let in_zp = -3;
    for stride in [1, 2] {
        let prog = DepthwiseProgram::new(&cfg, [1, h, w, m], &weights, in_zp, stride, &rq).unwrap();
        let (out, cycles) = run_tiny(&mut e, &prog, &input);
        let got = prog.output_tensor(&out).unwrap();
        let want = depthwise(&input, &weights, in_zp, stride, &rq).unwrap();
        assert_eq!(got.data(), want.data(), "stride {stride}");
        assert_eq!(cycles, engine_cycles(&cfg, prog.layer()), "stride {stride}");
    }
}

/// Without `[engine] im2col` the mode register refuses 1 (sticky error) and takes 0, and the
/// program builder refuses im2col layers.
#[test]
fn mode_one_is_refused_without_im2col() {
    let cfg = cfg().with_im2col(false);
    assert!(DepthwiseProgram::im2col(&cfg, [1, 4, 4, 2], 0, 1).unwrap_err().to_string().contains("im2col = false"));
    let mut e = SmallEngine::new(&cfg).unwrap();
    e.connect_all();
    for (mode, refused) in [(0u64, false), (1, true)] {
        e.cfg_valid.next = true;
        e.cfg_addr.next = (cfg_addr(0, CFG_MODE) as u64).into();
        e.cfg_data.next = mode.into();
        tick(&mut e);
        e.cfg_valid.next = false;
        tick(&mut e);
        assert_eq!(e.error.val(), refused, "mode {mode}");
    }
}

/// Loads `prog`, streams `input` in (output always ready); returns the output beats and the
/// cycles from the first input beat to the last output beat, inclusive.
fn run_tiny(e: &mut SmallEngine, prog: &DepthwiseProgram, input: &Tensor<i8>) -> (Vec<u128>, u64) {
    for &(a, d) in prog.writes() {
        e.cfg_valid.next = true;
        e.cfg_addr.next = (a as u64).into();
        e.cfg_data.next = (d as u64).into();
        tick(e);
    }
    e.cfg_valid.next = false;
    assert!(!e.error.val());
    let beats = prog.input_beats(input).unwrap();
    let (mut next, mut out, mut first, mut last_cycle) = (0, vec![], None, 0);
    e.out.tready.next = true;
    for cycle in 0..600u64 {
        e.inp.tvalid.next = next < beats.len();
        let (d, l) = beats.get(next).copied().unwrap_or((0, false));
        e.inp.tdata.next = (d as u64).into();
        e.inp.tlast.next = l;
        e.clock.next = Clock::from(false);
        assert!(simulate(e, 200));
        if e.inp.tvalid.val() && e.inp.tready.val() {
            first.get_or_insert(cycle);
            next += 1;
        }
        if e.out.tvalid.val() {
            out.push(e.out.tdata.val().to_u64() as u128);
            last_cycle = cycle;
        }
        e.clock.next = Clock::from(true);
        assert!(simulate(e, 200));
    }
    assert!(!e.busy.val());
    (out, last_cycle - first.unwrap() + 1)
}

/// im2col mode on a tiny layer with `M` not a multiple of `P`, both strides: the beats are
/// the model's im2col vectors and the cycles `im2col_cycles`.
#[test]
fn tiny_im2col_in_rust_hdl_matches_the_model() {
    use dsc_model::im2col::{im2col, im2col_cycles};
    let cfg = cfg();
    let mut e = SmallEngine::new(&cfg).unwrap();
    e.connect_all();
    let input = Tensor::from_fn([1, 3, 4, 3], |_, y, x, c| ((y * 41 + x * 13 + c * 7) % 256) as u8 as i8).unwrap();
    for stride in [1, 2] {
        let prog = DepthwiseProgram::im2col(&cfg, input.shape(), -9, stride).unwrap();
        let (out, cycles) = run_tiny(&mut e, &prog, &input);
        let want = im2col(prog.layer(), &input, -9).unwrap();
        assert_eq!(prog.output_tensor(&out).unwrap().data(), want.data(), "stride {stride}");
        assert_eq!(cycles, im2col_cycles(&cfg, prog.layer()), "stride {stride}");
    }
}

#[test]
fn widths_that_disagree_with_the_config_are_errors() {
    let other = EngineConfig::new(3, 4, 1, 1, 12, 12, 8).unwrap();
    assert!(SmallEngine::new(&other).is_err());
    let wider_sum = cfg().with_dw_sum_bits(20).unwrap();
    assert!(SmallEngine::new(&wider_sum).is_err());
    assert!(SmallEngine::new(&cfg()).is_ok());
}

#[test]
fn verilog_is_lint_clean_and_compiles() {
    let v = verilog_of(&mut SmallEngine::new(&cfg()).unwrap());
    if require_tool("verilator") {
        lint(&v, "top").unwrap();
    }
    if require_tool("iverilog") {
        iverilog_compile(&v).unwrap();
    }
}

/// The engine with a wide input port (the `WideWindow` generator) is lint clean too.
#[test]
fn wide_engine_verilog_is_lint_clean_and_compiles() {
    let q = |q| cfg().with_pixels_per_beat(q).unwrap();
    let cfg16 = EngineConfig::new(3, 2, 1, 1, 20, 12, 8).unwrap().with_pixels_per_beat(16).unwrap();
    for v in [
        verilog_of(&mut SmallEngineQ2::new(&q(2)).unwrap()),
        verilog_of(&mut SmallEngineQ4::new(&q(4)).unwrap()),
        verilog_of(&mut SmallEngineQ8::new(&q(8)).unwrap()),
        verilog_of(&mut SmallEngineQ16::new(&cfg16).unwrap()),
    ] {
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
    }
}

/// Multipliers map to DSPs (ECP5: 2 lanes × 9 Mul8x8 + 2 × 4 for the requantizers' 32×32),
/// memories to RAM cells (this tiny config's 48-word line buffers and 4-word parameter RAMs
/// become distributed RAM; large ones become DP16KD), and no latches.
#[test]
fn synthesises_without_latches() {
    if !require_tool("yosys") {
        return;
    }
    let v = verilog_of(&mut SmallEngine::new(&cfg()).unwrap());
    let s = yosys_stat(&v, "top", Target::Ecp5).unwrap();
    eprintln!("SmallEngine {s}");
    assert_eq!(s.latches(), 0, "{s}");
    assert_eq!(s.dsps(), 2 * 9 + 2 * 4, "{s}");
    assert!(s.brams() + s.count("TRELLIS_DPR16X4") > 0, "memories inferred as RAM: {s}");
}

/// The cycle model's latency constants are this hardware's.
#[test]
fn cycle_model_constants_are_the_blocks_latencies() {
    use dsc_model::depthwise::{lane_latency, REQUANT_LATENCY};
    for dk in [1, 3, 5] {
        let c = EngineConfig::new(dk, 2, 1, 1, 8, 8, 4).unwrap();
        assert_eq!(DepthwiseLane::<8, 16>::latency(c.taps()) as u64, lane_latency(&c), "Dk = {dk}");
    }
    assert_eq!(Requantizer::LATENCY as u64, REQUANT_LATENCY);
    assert_eq!(SmallEngine::pipe_latency(&cfg()) as u64, lane_latency(&cfg()) + REQUANT_LATENCY);
}

/// Resource figures of the MobileNet-v1 engine (P = 8, up to 112×112×1024) on ECP5; slow,
/// so ignored: `cargo test -p dsc-hw --lib -- --ignored mobilenet_engine_ecp5 --nocapture`.
#[test]
#[ignore]
fn mobilenet_engine_ecp5_resources() {
    if !require_tool("yosys") {
        return;
    }
    let cfg = EngineConfig::new(3, 8, 1, 1, 112, 112, 1024).unwrap();
    let v = verilog_of(&mut MobileNetEngine::new(&cfg).unwrap());
    let s = yosys_stat(&v, "top", Target::Ecp5).unwrap();
    eprintln!("MobileNetEngine {s}");
    assert_eq!(s.latches(), 0, "{s}");
    assert_eq!(s.dsps(), 8 * 9 + 8 * 4, "{s}");
}
