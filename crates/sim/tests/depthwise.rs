//! DepthwiseEngine in Verilator: bit-exact against `dsc_model::depthwise::depthwise` and
//! cycle-exact against `dsc_model::depthwise::engine_cycles`, over seeded random layers; under
//! random stalls; across a reset in the middle of a layer; and the config port's refusals.

use dsc_hw::depthwise::{
    cfg_addr, DepthwiseEngine, DepthwiseProgram, MobileNetEngine, MobileNetEngineQ16, MobileNetEngineQ4, SmallEngine, SmallEngineQ16,
    SmallEngineQ2, SmallEngineQ4, SmallEngineQ8, CFG_CLEAR_ERROR,
};
use dsc_model::depthwise::{cycle_bound_wide, depthwise, engine_config_writes, engine_cycles};
use dsc_model::engine_config::EngineConfig;
use dsc_model::requant::M0_MIN;
use dsc_model::cost::Stage;
use dsc_model::network::mobilenet_v1;
use dsc_model::{RequantParams, Tensor};
use dsc_sim::{build, Beat, BuildOptions, Compiled, Design, Model, StreamSink, StreamSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "common/random.rs"]
mod random;
use random::{int8, requant};

/// The generation config of [`SmallEngine`]: 3×3, `P = 2`, up to 12×12×8.
fn small_cfg() -> EngineConfig {
    EngineConfig::new(3, 2, 1, 1, 12, 12, 8).unwrap()
}

fn options() -> BuildOptions {
    BuildOptions {
        cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dsc-sim-cache")),
        ..BuildOptions::default()
    }
}

fn small_engine() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let mut e = SmallEngine::new(&small_cfg()).unwrap();
        let design = Design::from_block("depthwise_small", &mut e).unwrap();
        build(&design, &options()).unwrap()
    })
}

/// [`small_cfg`] with an input port of `q` pixels per beat; for `Q = 16`, rows up to 20
/// pixels (one or two words).
fn small_cfg_q(q: usize) -> EngineConfig {
    let base = if q > 12 { EngineConfig::new(3, 2, 1, 1, 20, 12, 8).unwrap() } else { small_cfg() };
    base.with_pixels_per_beat(q).unwrap()
}

/// The `Q = 2`, 4, 8 or 16 small engine: a different Rust type per `Q`, each compiled once.
fn small_engine_q(q: usize) -> &'static Compiled {
    macro_rules! once {
        ($name:literal, $engine:ty) => {{
            static C: OnceLock<Compiled> = OnceLock::new();
            C.get_or_init(|| {
                let mut e = <$engine>::new(&small_cfg_q(q)).unwrap();
                build(&Design::from_block($name, &mut e).unwrap(), &options()).unwrap()
            })
        }};
    }
    match q {
        2 => once!("depthwise_small_q2", SmallEngineQ2),
        4 => once!("depthwise_small_q4", SmallEngineQ4),
        8 => once!("depthwise_small_q8", SmallEngineQ8),
        16 => once!("depthwise_small_q16", SmallEngineQ16),
        _ => panic!("no small engine for Q = {q}"),
    }
}

/// One random depthwise layer: input, weights, zero point, stride, requantization.
struct Layer {
    input: Tensor<i8>,
    weights: Tensor<i8>,
    in_zp: i32,
    stride: usize,
    rq: RequantParams,
}

fn random_layer(rng: &mut ChaCha8Rng, cfg: &EngineConfig, case: usize) -> Layer {
    let dk = cfg.dk();
    let h = rng.gen_range(dk..=cfg.max_height());
    let w = rng.gen_range(dk..=cfg.max_width());
    let m = cfg.lanes() * rng.gen_range(1..=cfg.max_groups());
    let stride = 1 + case % 2;
    let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(rng)).unwrap();
    let weights = Tensor::from_fn([1, dk, dk, m], |_, _, _, _| int8(rng)).unwrap();
    let in_zp = int8(rng) as i32;
    // Mostly shifts that keep outputs inside int8 for typical sums; the extremes too.
    let rq = requant(rng, m, case, (-12, -8), 20_000);
    Layer { input, weights, in_zp, stride, rq }
}

/// What one layer run measured.
struct Measured {
    output: Tensor<i8>,
    /// From the cycle the first input beat moved to the cycle the last output beat moved,
    /// inclusive.
    cycles: u64,
    /// Cycles spent on config writes.
    config_cycles: u64,
}

fn set(m: &mut Model, name: &str, v: u64) {
    m.set(name, v).unwrap();
}

fn get(m: &mut Model, name: &str) -> u64 {
    m.get(name).unwrap()
}

/// Idle inputs: no write, no reset, no input, output not ready.
fn idle(m: &mut Model) {
    set(m, "cfg_valid", 0);
    set(m, "reset", 0);
    set(m, "inp_tvalid", 0);
    set(m, "out_tready", 0);
}

fn write(m: &mut Model, addr: u32, data: u32) {
    dsc_sim::config_port::write_settled(m, addr, data).unwrap();
}

fn wait_idle(m: &mut Model) {
    for _ in 0..10_000 {
        if get(m, "busy") == 0 {
            return;
        }
        m.tick();
    }
    panic!("engine stays busy");
}

/// Loads `prog`, streams `input` through with the given stall probabilities, and collects
/// exactly the layer's output beats; then checks nothing more comes out and the engine goes
/// idle. `abort_after`: assert `reset` once that many input beats have moved and return None.
fn run_layer(
    m: &mut Model,
    prog: &DepthwiseProgram,
    input: &Tensor<i8>,
    stall_in: f64,
    stall_out: f64,
    seed: u64,
    abort_after: Option<usize>,
) -> Option<Measured> {
    idle(m);
    wait_idle(m);
    let c0 = m.cycles();
    for &(a, d) in prog.writes() {
        dsc_sim::config_port::write(m, a, d).unwrap();
    }
    let config_cycles = m.cycles() - c0;
    dsc_sim::config_port::settle(m);
    assert_eq!(get(m, "error"), 0, "config refused");
    let mut src = StreamSource::new(m, "inp", stall_in, seed).unwrap();
    let mut sink = StreamSink::new(m, "out", stall_out, seed ^ 0x55).unwrap();
    src.extend(prog.input_beat_words(input).unwrap().into_iter().map(|(d, l)| Beat::from_words(&d, l)));
    let expect = prog.layer().window_count();
    let mut first_in = None;
    let limit = m.cycles() + 200 * (expect as u64 + 1000) + 20 * input.data().len() as u64;
    while sink.received().len() < expect {
        assert!(m.cycles() < limit, "layer did not finish: {} of {expect} beats", sink.received().len());
        src.drive(m).unwrap();
        sink.drive(m).unwrap();
        let before = src.sent();
        src.sample(m).unwrap();
        sink.sample(m).unwrap();
        if before == 0 && src.sent() == 1 {
            first_in = Some(m.cycles());
        }
        if let Some(n) = abort_after {
            if src.sent() >= n {
                m.tick();
                idle(m);
                set(m, "reset", 1);
                m.tick();
                set(m, "reset", 0);
                wait_idle(m);
                return None;
            }
        }
        m.tick();
    }
    assert!(src.is_done(), "input beats left over: {} of the layer's", src.sent());
    // Nothing more comes out, and the engine goes idle.
    set(m, "inp_tvalid", 0);
    set(m, "out_tready", 1);
    for _ in 0..60 {
        assert_eq!(get(m, "out_tvalid"), 0, "an extra output beat");
        m.tick();
    }
    assert_eq!(get(m, "busy"), 0);
    assert_eq!(get(m, "error"), 0);
    assert_eq!(get(m, "last_error"), 0, "input tlast disagreed with the geometry");
    let got = sink.received();
    assert!(got.last().unwrap().beat.last, "tlast on the last beat");
    assert!(got[..got.len() - 1].iter().all(|r| !r.beat.last), "tlast only on the last beat");
    let words: Vec<u128> = got
        .iter()
        .map(|r| r.beat.words().iter().rev().fold(0u128, |a, &w| (a << 32) | w as u128))
        .collect();
    Some(Measured {
        output: prog.output_tensor(&words).unwrap(),
        cycles: got.last().unwrap().cycle - first_in.unwrap() + 1,
        config_cycles,
    })
}

/// Runs `l`, checks every byte and the config-write count; returns (measured cycles, model
/// cycles, output bytes strictly inside the clamp range).
fn check_layer(m: &mut Model, cfg: &EngineConfig, l: &Layer, stalls: (f64, f64), seed: u64) -> (u64, u64, usize) {
    let prog = DepthwiseProgram::new(cfg, l.input.shape(), &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
    let golden = depthwise(&l.input, &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
    let got = run_layer(m, &prog, &l.input, stalls.0, stalls.1, seed, None).unwrap();
    let ctx = format!(
        "layer {:?} stride {} in_zp {} out_zp {} clamp [{}, {}]",
        l.input.shape(),
        l.stride,
        l.in_zp,
        l.rq.out_zp(),
        l.rq.act_min(),
        l.rq.act_max()
    );
    assert_eq!(got.output.data(), golden.data(), "{ctx}: output differs");
    assert_eq!(got.config_cycles, engine_config_writes(cfg, prog.layer()), "{ctx}: config cycles");
    let (lo, hi) = (l.rq.act_min() as i8, l.rq.act_max() as i8);
    let inside = golden.data().iter().filter(|&&v| v > lo && v < hi).count();
    (got.cycles, engine_cycles(cfg, prog.layer()), inside)
}

/// ≥ 200 seeded random layers, back to back on one engine: every output byte equals the
/// golden model's, and the measured cycles equal the cycle model's exactly.
#[test]
fn random_layers_bit_exact_and_cycle_exact() {
    let cfg = small_cfg();
    let mut m = small_engine().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_0005);
    let n = 240;
    let (mut total, mut bytes, mut inside) = ((0, 0), 0, 0);
    for case in 0..n {
        let l = random_layer(&mut rng, &cfg, case);
        let (measured, model, ins) = check_layer(&mut m, &cfg, &l, (0.0, 0.0), case as u64);
        assert_eq!(measured, model, "case {case}: cycles measured vs model, layer {:?} stride {}", l.input.shape(), l.stride);
        total.0 += measured;
        total.1 += model;
        inside += ins;
        bytes += l.input.c() * dsc_model::padding::same_padding(l.input.h(), 3, l.stride).unwrap().out
            * dsc_model::padding::same_padding(l.input.w(), 3, l.stride).unwrap().out;
    }
    eprintln!(
        "{n} random layers bit-exact; cycles measured {} == model {}; {inside} of {bytes} output bytes strictly inside the clamp range",
        total.0, total.1
    );
    // The requantization parameters must exercise rounding, not just saturate (a third of
    // the layers clamp at ReLU, a third at a narrow ReLU6-like range).
    assert!(inside * 6 > bytes, "too few unsaturated outputs: {inside} of {bytes}");
}

/// Random stalls on the input and the output: still bit-exact, nothing lost or duplicated
/// (exactly the layer's beat count, tlast only on the last, nothing after it), never faster
/// than the stall-free figure.
#[test]
fn random_stalls_bit_exact_and_not_faster() {
    let cfg = small_cfg();
    let mut m = small_engine().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_5A11);
    for case in 0..60 {
        let l = random_layer(&mut rng, &cfg, case);
        let stalls = [(0.3, 0.0), (0.0, 0.5), (0.4, 0.4), (0.1, 0.8)][case % 4];
        let (measured, model, _) = check_layer(&mut m, &cfg, &l, stalls, 1000 + case as u64);
        assert!(measured >= model, "case {case}: {measured} cycles under stalls < {model}");
    }
}

/// A reset in the middle of a layer (input half sent, outputs in flight), then a full layer:
/// correct output and cycles.
#[test]
fn reset_mid_layer_then_full_layer() {
    let cfg = small_cfg();
    let mut m = small_engine().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_0DE5);
    for case in 0..6 {
        let a = random_layer(&mut rng, &cfg, case);
        let prog = DepthwiseProgram::new(&cfg, a.input.shape(), &a.weights, a.in_zp, a.stride, &a.rq).unwrap();
        let beats = prog.input_beat_words(&a.input).unwrap().len();
        // Abort with the output stalled (case even) or flowing.
        let stall_out = if case % 2 == 0 { 0.9 } else { 0.0 };
        assert!(run_layer(&mut m, &prog, &a.input, 0.0, stall_out, 7, Some(beats / 2 + case)).is_none());
        assert_eq!(get(&mut m, "out_tvalid"), 0, "outputs of the aborted layer are dropped");
        let b = random_layer(&mut rng, &cfg, case + 1);
        let (measured, model, _) = check_layer(&mut m, &cfg, &b, (0.0, 0.0), 9);
        assert_eq!(measured, model, "case {case}: cycles after reset");
    }
}

/// Input ports of `Q = 2` and `Q = 4` pixels per beat (the wide window generator): seeded
/// random layers back to back — stride 1 and 2, widths `Q` does not divide, random zero
/// points and clamps — bit-exact with the golden model and measured cycles equal to
/// `engine_cycles` exactly; random stalls on both streams (bit-exact, nothing lost, never
/// faster); a reset in the middle of a layer, then a full layer.
#[test]
fn wide_input_port_bit_exact_cycle_exact_stalls_and_reset() {
    wide_port(&[2, 4], 48);
}

/// The same for `Q = 8` and `Q = 16` (rows of one or two words), fewer layers.
#[test]
fn wider_input_port_bit_exact_cycle_exact_stalls_and_reset() {
    wide_port(&[8, 16], 24);
}

fn wide_port(qs: &[usize], n: usize) {
    for &q in qs {
        let cfg = small_cfg_q(q);
        let mut m = small_engine_q(q).model().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_0100 + q as u64);
        let mut total = 0;
        for case in 0..n {
            let l = random_layer(&mut rng, &cfg, case);
            let (measured, model, _) = check_layer(&mut m, &cfg, &l, (0.0, 0.0), case as u64);
            assert_eq!(measured, model, "Q = {q}, case {case}: cycles measured vs model, layer {:?} stride {}", l.input.shape(), l.stride);
            total += measured;
        }
        for case in 0..16 {
            let l = random_layer(&mut rng, &cfg, case);
            let stalls = [(0.3, 0.0), (0.0, 0.5), (0.4, 0.4), (0.1, 0.8)][case % 4];
            let (measured, model, _) = check_layer(&mut m, &cfg, &l, stalls, 2000 + case as u64);
            assert!(measured >= model, "Q = {q}, case {case}: {measured} cycles under stalls < {model}");
        }
        for case in 0..4 {
            let a = random_layer(&mut rng, &cfg, case);
            let prog = DepthwiseProgram::new(&cfg, a.input.shape(), &a.weights, a.in_zp, a.stride, &a.rq).unwrap();
            let beats = prog.input_beat_words(&a.input).unwrap().len();
            let stall_out = if case % 2 == 0 { 0.9 } else { 0.0 };
            assert!(run_layer(&mut m, &prog, &a.input, 0.0, stall_out, 7, Some(beats / 2 + case)).is_none());
            assert_eq!(get(&mut m, "out_tvalid"), 0, "Q = {q}: outputs of the aborted layer are dropped");
            let b = random_layer(&mut rng, &cfg, case + 1);
            let (measured, model, _) = check_layer(&mut m, &cfg, &b, (0.0, 0.0), 9);
            assert_eq!(measured, model, "Q = {q}, case {case}: cycles after reset");
        }
        eprintln!("Q = {q}: {n} random layers bit-exact, {total} cycles measured == model; 16 stalled layers, 4 resets");
    }
    // The wrong instantiation for a config is an error, not a panic.
    assert!(SmallEngineQ2::new(&small_cfg_q(4)).is_err());
    assert!(SmallEngine::new(&small_cfg_q(2)).is_err());
}

/// The config port refuses what the hardware cannot run: each case sets `error` and changes
/// nothing; clear-error clears it; a later valid layer still runs bit-exactly.
#[test]
fn config_port_refuses_bad_values() {
    let cfg = small_cfg();
    let mut m = small_engine().model().unwrap();
    idle(&mut m);
    m.tick();
    let bad: Vec<(&str, u32, u32)> = vec![
        ("height 0", cfg_addr(0, 0), 0),
        ("height above max", cfg_addr(0, 0), 13),
        ("width 0", cfg_addr(0, 1), 0),
        ("width above max", cfg_addr(0, 1), 13),
        ("groups 0", cfg_addr(0, 2), 0),
        ("groups above max", cfg_addr(0, 2), 5),
        ("stride 0", cfg_addr(0, 3), 0),
        ("stride 3", cfg_addr(0, 3), 3),
        ("in_zp 128", cfg_addr(0, 4), 128),
        ("out_zp -129", cfg_addr(0, 5), -129i32 as u32),
        ("act_min 200", cfg_addr(0, 6), 200),
        ("act_max -1000", cfg_addr(0, 7), -1000i32 as u32),
        ("unknown register", cfg_addr(0, 11), 0),
        ("mode 2", cfg_addr(0, 10), 2),
        ("unknown region", cfg_addr(5, 0), 0),
        ("weight group out of range", cfg_addr(1, 4), 0),
        ("weight 128", cfg_addr(1, 0), 128),
        ("bias group out of range", cfg_addr(2, 4), 0),
        ("shift 31", cfg_addr(4, 0), 31),
        ("shift -32", cfg_addr(4, 0), -32i32 as u32),
        ("START before H and W", cfg_addr(0, 8), 0),
    ];
    for (what, a, d) in bad {
        assert_eq!(get(&mut m, "error"), 0, "{what}: error set before");
        write(&mut m, a, d);
        assert_eq!(get(&mut m, "error"), 1, "{what}: not refused");
        assert_eq!(get(&mut m, "busy"), 0, "{what}: started something");
        write(&mut m, cfg_addr(0, CFG_CLEAR_ERROR), 0);
        assert_eq!(get(&mut m, "error"), 0, "{what}: clear-error");
    }
    // Boundaries that are accepted.
    for (a, d) in [
        (cfg_addr(0, 0), 12),
        (cfg_addr(0, 1), 1),
        (cfg_addr(0, 2), 4),
        (cfg_addr(0, 3), 2),
        (cfg_addr(0, 4), -128i32 as u32),
        (cfg_addr(0, 5), 127),
        (cfg_addr(4, 3), 30),
        (cfg_addr(4, 3), -31i32 as u32),
        (cfg_addr(3, 3), i32::MIN as u32),
    ] {
        write(&mut m, a, d);
        assert_eq!(get(&mut m, "error"), 0, "{a:#x} <- {d:#x} refused");
    }
    // act_min > act_max is refused at START.
    write(&mut m, cfg_addr(0, 6), 10);
    write(&mut m, cfg_addr(0, 7), 9);
    write(&mut m, cfg_addr(0, 8), 0);
    assert_eq!(get(&mut m, "error"), 1, "START with act_min > act_max");
    assert_eq!(get(&mut m, "busy"), 0);
    write(&mut m, cfg_addr(0, CFG_CLEAR_ERROR), 0);
    // The check sees a bound written in the cycle just before START (back-to-back writes):
    // act_max = 11 makes the clamp valid, then act_min = 12 makes it invalid again.
    // A started layer waits for input: reset ends it.
    for (index, bound, refused) in [(7, 11, 0), (6, 12, 1)] {
        dsc_sim::config_port::write(&mut m, cfg_addr(0, index), bound).unwrap();
        dsc_sim::config_port::write(&mut m, cfg_addr(0, 8), 0).unwrap();
        dsc_sim::config_port::settle(&mut m);
        assert_eq!(get(&mut m, "error"), refused, "START right after bound {index} <- {bound}");
        assert_eq!(get(&mut m, "busy"), 1 - refused, "START right after bound {index} <- {bound}");
        set(&mut m, "reset", 1);
        m.tick();
        set(&mut m, "reset", 0);
        write(&mut m, cfg_addr(0, CFG_CLEAR_ERROR), 0);
        assert_eq!(get(&mut m, "busy"), 0);
    }
    // A write while busy is refused and does not disturb the running layer.
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let l = random_layer(&mut rng, &cfg, 0);
    let prog = DepthwiseProgram::new(&cfg, l.input.shape(), &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
    for &(a, d) in prog.writes() {
        write(&mut m, a, d);
    }
    assert_eq!(get(&mut m, "busy"), 1);
    write(&mut m, cfg_addr(0, 0), 3);
    assert_eq!(get(&mut m, "error"), 1, "write while busy");
    // Finish that layer by hand-free means: a reset, then a clean layer.
    set(&mut m, "reset", 1);
    m.tick();
    set(&mut m, "reset", 0);
    wait_idle(&mut m);
    assert_eq!(get(&mut m, "error"), 0, "reset clears error");
    let (measured, model, _) = check_layer(&mut m, &cfg, &l, (0.0, 0.0), 3);
    assert_eq!(measured, model);
}

/// Host-side bad input is an error, not a panic.
#[test]
fn program_rejects_layers_that_do_not_fit() {
    let cfg = small_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let l = random_layer(&mut rng, &cfg, 0);
    let m = l.input.c();
    let too_big = Tensor::<i8>::zeros([1, 13, 4, m]).unwrap();
    assert!(DepthwiseProgram::new(&cfg, too_big.shape(), &l.weights, 0, 1, &l.rq).is_err());
    assert!(DepthwiseProgram::new(&cfg, [1, 4, 4, 3], &l.weights, 0, 1, &l.rq).is_err());
    assert!(DepthwiseProgram::new(&cfg, [2, 4, 4, m], &l.weights, 0, 1, &l.rq).is_err());
    assert!(DepthwiseProgram::new(&cfg, [1, 4, 4, m], &l.weights, 128, 1, &l.rq).is_err());
    assert!(DepthwiseProgram::new(&cfg, [1, 4, 4, m], &l.weights, 0, 3, &l.rq).is_err());
    let w5 = Tensor::<i8>::zeros([1, 5, 5, m]).unwrap();
    assert!(DepthwiseProgram::new(&cfg, [1, 4, 4, m], &w5, 0, 1, &l.rq).is_err());
    let prog = DepthwiseProgram::new(&cfg, [1, 4, 4, m], &l.weights, 0, 1, &l.rq).unwrap();
    assert!(prog.input_beats(&too_big).is_err());
    assert!(prog.output_tensor(&[0, 1]).is_err());
    // Instantiating with widths that disagree with the config is an error too.
    let other = EngineConfig::new(3, 4, 1, 1, 12, 12, 8).unwrap();
    assert!(SmallEngine::new(&other).is_err());
    let _ = DepthwiseEngine::<16, 144, 6, 2, 4, 3, 19, 64, 12, 17>::pipe_latency(&cfg);
}

/// Performance report (not a timed test; `cargo test -p dsc-sim --test depthwise --
/// --ignored --nocapture`): every depthwise layer of MobileNet-v1 (α = 1, 224) on one engine
/// with `P = 8`, bit-exact against the golden model, measured cycles against the cycle
/// model, utilization `C_dw ÷ (P·Dk² × measured cycles)`, and the I/O bound
/// (`cycle_bound`: one input beat per cycle, no pipeline latency).
#[test]
#[ignore]
fn mobilenet_v1_depthwise_utilization_report() {
    mobilenet_report(1);
}

/// The same report for the engine with an input port of `Q = 4` pixels per beat (bound:
/// `cycle_bound_wide`, four pixels per input beat).
#[test]
#[ignore]
fn mobilenet_v1_depthwise_utilization_report_q4() {
    mobilenet_report(4);
}

/// The same report with `Q = 16` pixels per beat (1024-bit input beats).
#[test]
#[ignore]
fn mobilenet_v1_depthwise_utilization_report_q16() {
    mobilenet_report(16);
}

fn mobilenet_report(q: usize) {
    let cfg = EngineConfig::new(3, 8, 1, 1, 112, 112, 1024).unwrap().with_pixels_per_beat(q).unwrap();
    let t0 = std::time::Instant::now();
    let design = match q {
        1 => Design::from_block("depthwise_mobilenet", &mut MobileNetEngine::new(&cfg).unwrap()).unwrap(),
        4 => Design::from_block("depthwise_mobilenet_q4", &mut MobileNetEngineQ4::new(&cfg).unwrap()).unwrap(),
        16 => Design::from_block("depthwise_mobilenet_q16", &mut MobileNetEngineQ16::new(&cfg).unwrap()).unwrap(),
        _ => panic!("no MobileNet engine for Q = {q}"),
    };
    let compiled = build(&design, &options()).unwrap();
    eprintln!("Q = {q}: model built in {:.1} s", t0.elapsed().as_secs_f64());
    let mut m = compiled.model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(224);
    let net = mobilenet_v1(1.0, 224).unwrap();
    let mults = (cfg.lanes() * cfg.taps()) as f64;
    println!("| layer | input | stride | C_dw | ideal cycles | measured | model | bound | config writes | utilization | bound util. |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut sum_c, mut sum_cycles) = (0u64, 0u64);
    let t1 = std::time::Instant::now();
    for stage in net.stages() {
        let Stage::Dsc { names, block } = stage else { continue };
        let dw = block.dw();
        let (h, mch, stride) = (dw.df_in(), dw.m(), dw.stride());
        let mut l = random_layer(&mut rng, &cfg, 0);
        l.input = Tensor::from_fn([1, h, h, mch], |_, _, _, _| int8(&mut rng)).unwrap();
        l.weights = Tensor::from_fn([1, 3, 3, mch], |_, _, _, _| int8(&mut rng)).unwrap();
        l.stride = stride;
        let bias: Vec<i32> = (0..mch).map(|_| rng.gen_range(-50_000..50_000)).collect();
        let mult: Vec<i32> = (0..mch).map(|_| rng.gen_range(M0_MIN..=i32::MAX)).collect();
        let shift: Vec<i32> = (0..mch).map(|_| rng.gen_range(-12..-6)).collect();
        l.rq = RequantParams::new(bias, mult, shift, -128, -128, 127).unwrap();
        let prog = DepthwiseProgram::new(&cfg, l.input.shape(), &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
        let golden = depthwise(&l.input, &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
        let got = run_layer(&mut m, &prog, &l.input, 0.0, 0.0, 1, None).unwrap();
        assert_eq!(got.output.data(), golden.data(), "{}: output differs", names.0);
        let model = engine_cycles(&cfg, prog.layer());
        assert_eq!(got.cycles, model, "{}: measured vs model cycles", names.0);
        let c_dw = dw.macs();
        let bound = cycle_bound_wide(prog.layer(), q);
        assert!(bound <= got.cycles, "{}: below the I/O bound", names.0);
        sum_c += c_dw;
        sum_cycles += got.cycles;
        println!(
            "| {} | {h}²×{mch} | {stride} | {c_dw} | {:.0} | {} | {model} | {bound} | {} | {:.1}% | {:.1}% |",
            names.0,
            c_dw as f64 / mults,
            got.cycles,
            got.config_cycles,
            100.0 * c_dw as f64 / (mults * got.cycles as f64),
            100.0 * c_dw as f64 / (mults * bound as f64)
        );
    }
    println!(
        "| all | | | {sum_c} | {:.0} | {sum_cycles} | | | | {:.1}% | |",
        sum_c as f64 / mults,
        100.0 * sum_c as f64 / (mults * sum_cycles as f64)
    );
    eprintln!("simulated in {:.1} s", t1.elapsed().as_secs_f64());
}
