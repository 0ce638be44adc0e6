//! The depthwise engine's im2col mode in Verilator: output beats bit-exact against
//! `dsc_model::im2col::im2col` and cycle-exact against `im2col_cycles` over seeded random
//! layers (M a multiple of P or not, stride 1 and 2), depthwise layers in between (the mode
//! switches both ways), and on a `Dk = 5` engine; random stalls on both streams; a reset
//! mid-layer; and end to end, a
//! standard convolution: the engine's im2col beats through a PointwiseStage with the
//! reordered weights, bit-exact against `dsc_model::conv2d`.

use dsc_hw::depthwise::{cfg_addr, im2col_pointwise_program, DepthwiseProgram, SmallEngine, CFG_CLEAR_ERROR, CFG_MODE, CFG_START};
use dsc_hw::pointwise::PointwiseStage;
use dsc_model::cost::Stage;
use dsc_model::depthwise::{depthwise, engine_config_writes, engine_cycles};
use dsc_model::engine_config::EngineConfig;
use dsc_model::im2col::{im2col, im2col_channels, im2col_cycles, im2col_layer, IM2COL_CONFIG_WRITES};
use dsc_model::network::mobilenet_v1;
use dsc_model::pointwise::{pointwise_cycles, PointwiseConfig};
use dsc_model::systolic::{Dataflow, SystolicConfig};
use dsc_model::{conv2d, RequantParams, Tensor};
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

/// A pointwise stage with `R = P = 2` (as in the fused engine), 3 columns, taking the
/// SmallEngine's largest im2col layer: `M' = 4·9·2 = 72`, `N ≤ 8`, blocks of ≤ 8 pixels.
type Im2colStage = PointwiseStage<22, 16, 24, 66, 96, 18, 25, 10, 8, 3, 6, 2>;

fn stage_cfg() -> PointwiseConfig {
    let a = SystolicConfig::new(2, 3, 22, 72, Dataflow::WeightStationary).unwrap();
    PointwiseConfig::new(a, 72, 8, 8).unwrap()
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

fn im2col_stage() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let mut e = Im2colStage::new(&stage_cfg()).unwrap();
        let design = Design::from_block("pointwise_im2col", &mut e).unwrap();
        build(&design, &options()).unwrap()
    })
}

/// A random standard-conv input for the small engine: any `M ≤ 8`, sizes from 1.
fn random_input(rng: &mut ChaCha8Rng, cfg: &EngineConfig) -> (Tensor<i8>, i32, usize) {
    let h = rng.gen_range(1..=cfg.max_height());
    let w = rng.gen_range(1..=cfg.max_width());
    let m = rng.gen_range(1..=cfg.max_channels());
    let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(rng)).unwrap();
    (input, int8(rng) as i32, rng.gen_range(1..=2))
}

fn random_rq(rng: &mut ChaCha8Rng, n: usize, case: usize) -> RequantParams {
    requant(rng, n, case, (-14, -9), 20_000)
}

fn set(m: &mut Model, name: &str, v: u64) {
    m.set(name, v).unwrap();
}

fn get(m: &mut Model, name: &str) -> u64 {
    m.get(name).unwrap()
}

fn idle(m: &mut Model) {
    for port in ["cfg_valid", "inp_tvalid", "out_tready"] {
        set(m, port, 0);
    }
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
    panic!("stays busy");
}

/// What one run measured.
struct Measured {
    beats: Vec<u128>,
    /// First input beat to last output beat, inclusive.
    cycles: u64,
    config_cycles: u64,
}

/// Loads `writes`, streams `beats` in with the given stall probabilities and collects exactly
/// `expect` output beats; checks tlast, that nothing more comes out and that the block goes
/// idle without errors. `abort_after`: on the engine, assert `reset` once that many input
/// beats have moved and return None.
#[allow(clippy::too_many_arguments)]
fn run(
    m: &mut Model,
    writes: &[(u32, u32)],
    beats: Vec<(u128, bool)>,
    expect: usize,
    stalls: (f64, f64),
    seed: u64,
    abort_after: Option<usize>,
) -> Option<Measured> {
    idle(m);
    wait_idle(m);
    let c0 = m.cycles();
    for &(a, d) in writes {
        dsc_sim::config_port::write(m, a, d).unwrap();
    }
    let config_cycles = m.cycles() - c0;
    dsc_sim::config_port::settle(m);
    assert_eq!(get(m, "error"), 0, "config refused");
    let mut src = StreamSource::new(m, "inp", stalls.0, seed).unwrap();
    let mut sink = StreamSink::new(m, "out", stalls.1, seed ^ 0x55).unwrap();
    let n_in = beats.len();
    src.extend(beats.into_iter().map(|(d, l)| Beat::new(d, l)));
    let mut first_in = None;
    let limit = m.cycles() + 200 * (expect + n_in) as u64 + 10_000;
    while sink.received().len() < expect {
        assert!(m.cycles() < limit, "did not finish: {} of {expect} beats, {} of {n_in} in", sink.received().len(), src.sent());
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
    assert!(src.is_done(), "input beats left over: {} of {n_in} sent", src.sent());
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
    Some(Measured {
        beats: got.iter().map(|r| r.beat.words().iter().rev().fold(0u128, |a, &w| (a << 32) | w as u128)).collect(),
        cycles: got.last().unwrap().cycle - first_in.unwrap() + 1,
        config_cycles,
    })
}

/// Runs `input` through the engine in im2col mode; checks the beats against the model's
/// im2col vectors and the config-write count; returns the vectors and (measured, model)
/// cycles.
fn check_im2col(m: &mut Model, cfg: &EngineConfig, input: &Tensor<i8>, in_zp: i32, stride: usize, stalls: (f64, f64), seed: u64) -> (DepthwiseProgram, Tensor<i8>, u64, u64) {
    let prog = DepthwiseProgram::im2col(cfg, input.shape(), in_zp, stride).unwrap();
    let want = im2col(prog.layer(), input, in_zp).unwrap();
    let got = run(m, prog.writes(), prog.input_beats(input).unwrap(), prog.output_beats(), stalls, seed, None).unwrap();
    let cols = prog.output_tensor(&got.beats).unwrap();
    let ctx = format!("im2col {:?} stride {stride} in_zp {in_zp}", input.shape());
    assert_eq!(cols.shape(), want.shape(), "{ctx}");
    assert_eq!(cols.data(), want.data(), "{ctx}: im2col beats differ");
    assert_eq!(got.config_cycles, IM2COL_CONFIG_WRITES, "{ctx}: config cycles");
    let model = im2col_cycles(cfg, prog.layer());
    (prog, cols, got.cycles, model)
}

/// A random depthwise layer on the same engine; checks output and cycles against the models.
fn check_depthwise(m: &mut Model, cfg: &EngineConfig, rng: &mut ChaCha8Rng, case: usize) {
    let (h, w) = (rng.gen_range(1..=12), rng.gen_range(1..=12));
    let ch = 2 * rng.gen_range(1..=4);
    let input = Tensor::from_fn([1, h, w, ch], |_, _, _, _| int8(rng)).unwrap();
    let weights = Tensor::from_fn([1, 3, 3, ch], |_, _, _, _| int8(rng)).unwrap();
    let (in_zp, stride) = (int8(rng) as i32, 1 + case % 2);
    let rq = random_rq(rng, ch, case);
    let prog = DepthwiseProgram::new(cfg, input.shape(), &weights, in_zp, stride, &rq).unwrap();
    let got = run(m, prog.writes(), prog.input_beats(&input).unwrap(), prog.output_beats(), (0.0, 0.0), case as u64, None).unwrap();
    let golden = depthwise(&input, &weights, in_zp, stride, &rq).unwrap();
    assert_eq!(prog.output_tensor(&got.beats).unwrap().data(), golden.data(), "case {case}: depthwise after im2col");
    assert_eq!(got.cycles, engine_cycles(cfg, prog.layer()), "case {case}: depthwise cycles");
    assert_eq!(got.config_cycles, engine_config_writes(cfg, prog.layer()));
}

/// ≥ 100 seeded random layers in im2col mode on one engine, with a depthwise layer after
/// every fifth: the im2col beats equal the model's vectors bit for bit and the measured cycles
/// equal `im2col_cycles` exactly; the depthwise layers still match their models.
#[test]
fn random_layers_bit_exact_and_cycle_exact() {
    let cfg = small_cfg();
    let mut m = small_engine().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0x1A2C_0001);
    let n = 120;
    let (mut measured, mut model, mut partial_groups) = (0, 0, 0);
    for case in 0..n {
        let (input, in_zp, stride) = random_input(&mut rng, &cfg);
        partial_groups += usize::from(input.c() % 2 == 1);
        let (_, _, got, want) = check_im2col(&mut m, &cfg, &input, in_zp, stride, (0.0, 0.0), case as u64);
        assert_eq!(got, want, "case {case}: cycles measured vs model, {:?} stride {stride}", input.shape());
        measured += got;
        model += want;
        if case % 5 == 4 {
            check_depthwise(&mut m, &cfg, &mut rng, case);
        }
    }
    eprintln!("{n} random im2col layers bit-exact ({partial_groups} with M not a multiple of P); cycles measured {measured} == model {model}");
    assert!(partial_groups > n / 4);
}

/// `Dk = 5`, `P = 2`, up to 8×8×4: `T = 25` beats per window, the largest kernel the
/// engine takes; the credits (at most 4 beats held at an accept + 25 ≤ 32) never stall an
/// always-ready output, so the cycle model holds here too.
type Dk5Engine = dsc_hw::depthwise::DepthwiseEngine<16, 400, 4, 1, 4, 5, 20, 64, 12, 17>;

fn dk5_cfg() -> EngineConfig {
    EngineConfig::new(5, 2, 1, 1, 8, 8, 4).unwrap()
}

#[test]
fn dk5_random_layers_bit_exact_and_cycle_exact() {
    let cfg = dk5_cfg();
    let mut e = Dk5Engine::new(&cfg).unwrap();
    let compiled = build(&Design::from_block("depthwise_dk5", &mut e).unwrap(), &options()).unwrap();
    let mut m = compiled.model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0x1A2C_0D05);
    for case in 0..40 {
        let (input, in_zp, stride) = random_input(&mut rng, &cfg);
        let stalls = if case < 30 { (0.0, 0.0) } else { [(0.3, 0.0), (0.0, 0.6), (0.4, 0.4)][case % 3] };
        let (_, _, got, want) = check_im2col(&mut m, &cfg, &input, in_zp, stride, stalls, case as u64);
        if stalls == (0.0, 0.0) {
            assert_eq!(got, want, "case {case}: Dk = 5 cycles, {:?} stride {stride}", input.shape());
        } else {
            assert!(got >= want, "case {case}: faster under stalls");
        }
    }
}

/// Random stalls on both streams: still bit-exact, nothing lost or duplicated (exactly the
/// layer's beat count, tlast only on the last, nothing after it), never faster than the
/// stall-free figure.
#[test]
fn random_stalls_bit_exact_and_not_faster() {
    let cfg = small_cfg();
    let mut m = small_engine().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0x1A2C_5A11);
    for case in 0..60 {
        let (input, in_zp, stride) = random_input(&mut rng, &cfg);
        let stalls = [(0.3, 0.0), (0.0, 0.5), (0.4, 0.4), (0.1, 0.9)][case % 4];
        let (_, _, got, want) = check_im2col(&mut m, &cfg, &input, in_zp, stride, stalls, 100 + case as u64);
        assert!(got >= want, "case {case}: {got} cycles under stalls < {want}");
    }
}

/// A reset in the middle of an im2col layer (serializer and FIFO full when the output is
/// stalled), then a full im2col layer and a depthwise layer: correct beats and cycles.
#[test]
fn reset_mid_layer_then_full_layers() {
    let cfg = small_cfg();
    let mut m = small_engine().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0x1A2C_0DE5);
    for case in 0..6 {
        let (input, in_zp, stride) = random_input(&mut rng, &cfg);
        let prog = DepthwiseProgram::im2col(&cfg, input.shape(), in_zp, stride).unwrap();
        let beats = prog.input_beats(&input).unwrap();
        let n_in = beats.len();
        let stall_out = if case % 2 == 0 { 0.9 } else { 0.0 };
        assert!(run(&mut m, prog.writes(), beats, prog.output_beats(), (0.0, stall_out), 7, Some(n_in / 2 + 1)).is_none());
        assert_eq!(get(&mut m, "out_tvalid"), 0, "outputs of the aborted layer are dropped");
        let (input, in_zp, stride) = random_input(&mut rng, &cfg);
        let (_, _, got, want) = check_im2col(&mut m, &cfg, &input, in_zp, stride, (0.0, 0.0), 9);
        assert_eq!(got, want, "case {case}: cycles after reset");
        check_depthwise(&mut m, &cfg, &mut rng, case);
    }
}

/// End to end: a standard convolution as the engine's im2col beats through a PointwiseStage
/// (`R = P`) loaded with `im2col_pointwise_program`, bit-exact against `conv2d`; the stage's
/// cycles against `pointwise_cycles`. Includes `M` not a multiple of `P` and stride 2.
#[test]
fn standard_conv_end_to_end_bit_exact() {
    let cfg = small_cfg();
    let pcfg = stage_cfg();
    let mut eng = small_engine().model().unwrap();
    let mut pw = im2col_stage().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0x1A2C_E2E0);
    let n_cases = 24;
    let mut inside = (0, 0);
    for case in 0..n_cases {
        let (input, in_zp, stride) = random_input(&mut rng, &cfg);
        let n = rng.gen_range(1..=pcfg.max_n());
        let weights = Tensor::from_fn([n, 3, 3, input.c()], |_, _, _, _| int8(&mut rng)).unwrap();
        let rq = random_rq(&mut rng, n, case);
        let stalls = if case % 3 == 2 { (0.3, 0.3) } else { (0.0, 0.0) };
        let (prog, cols, _, _) = check_im2col(&mut eng, &cfg, &input, in_zp, stride, stalls, case as u64);
        let pprog = im2col_pointwise_program(&pcfg, &prog, &weights, &rq).unwrap();
        let got = run(&mut pw, pprog.writes(), pprog.input_beats(&cols).unwrap(), pprog.layer().pixels * n.div_ceil(3), stalls, case as u64, None).unwrap();
        let out = pprog.output_tensor(&got.beats).unwrap();
        let golden = conv2d(&input, &weights, in_zp, stride, &rq).unwrap();
        assert_eq!(out.data(), golden.data(), "case {case}: standard conv {:?} → {n}, stride {stride}", input.shape());
        if stalls == (0.0, 0.0) {
            assert_eq!(got.cycles, pointwise_cycles(&pcfg, pprog.layer()), "case {case}: pointwise cycles");
        }
        let (lo, hi) = (rq.act_min() as i8, rq.act_max() as i8);
        inside.0 += golden.data().iter().filter(|&&v| v > lo && v < hi).count();
        inside.1 += golden.data().len();
    }
    eprintln!("{n_cases} standard convs bit-exact through im2col + pointwise; {} of {} outputs strictly inside the clamp", inside.0, inside.1);
    assert!(inside.0 * 6 > inside.1, "too few unsaturated outputs");
}

/// The mode register refuses values other than 0 and 1; im2col START ignores the clamp
/// registers; host-side bad input is an error, not a panic.
#[test]
fn mode_register_and_host_errors() {
    let cfg = small_cfg();
    let mut m = small_engine().model().unwrap();
    idle(&mut m);
    set(&mut m, "reset", 0);
    m.tick();
    wait_idle(&mut m);
    for bad in [2u32, 0xFFFF_FFFF] {
        write(&mut m, cfg_addr(0, CFG_MODE), bad);
        assert_eq!(get(&mut m, "error"), 1, "mode {bad:#x} not refused");
        write(&mut m, cfg_addr(0, CFG_CLEAR_ERROR), 0);
    }
    // act_min > act_max refuses a depthwise START, not an im2col one.
    write(&mut m, cfg_addr(0, 6), 10);
    write(&mut m, cfg_addr(0, 7), 9);
    write(&mut m, cfg_addr(0, CFG_MODE), 0);
    write(&mut m, cfg_addr(0, 0), 4);
    write(&mut m, cfg_addr(0, 1), 4);
    write(&mut m, cfg_addr(0, CFG_START), 0);
    assert_eq!(get(&mut m, "error"), 1, "depthwise START with act_min > act_max");
    write(&mut m, cfg_addr(0, CFG_CLEAR_ERROR), 0);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let input = Tensor::from_fn([1, 5, 6, 3], |_, _, _, _| int8(&mut rng)).unwrap();
    let (_, _, got, want) = check_im2col(&mut m, &cfg, &input, -3, 2, (0.0, 0.0), 1);
    assert_eq!(got, want);
    // Host side.
    assert!(DepthwiseProgram::im2col(&cfg, [2, 4, 4, 3], 0, 1).is_err());
    assert!(DepthwiseProgram::im2col(&cfg, [1, 13, 4, 3], 0, 1).is_err());
    assert!(DepthwiseProgram::im2col(&cfg, [1, 4, 4, 9], 0, 1).is_err());
    assert!(DepthwiseProgram::im2col(&cfg, [1, 4, 4, 0], 0, 1).is_err());
    assert!(DepthwiseProgram::im2col(&cfg, [1, 4, 4, 3], 128, 1).is_err());
    assert!(DepthwiseProgram::im2col(&cfg, [1, 4, 4, 3], 0, 3).is_err());
    let prog = DepthwiseProgram::im2col(&cfg, [1, 4, 4, 3], 0, 1).unwrap();
    assert!(prog.input_beats(&Tensor::zeros([1, 4, 4, 4]).unwrap()).is_err());
    assert!(prog.input_beats(&Tensor::zeros([1, 4, 5, 3]).unwrap()).is_err());
    assert!(prog.output_tensor(&[0; 3]).is_err());
    let pcfg = stage_cfg();
    let rq = random_rq(&mut rng, 2, 0);
    let w = Tensor::<i8>::zeros([2, 3, 3, 3]).unwrap();
    assert!(im2col_pointwise_program(&pcfg, &prog, &w, &rq).is_ok());
    assert!(im2col_pointwise_program(&pcfg, &prog, &Tensor::zeros([2, 3, 3, 4]).unwrap(), &rq).is_err());
    assert!(im2col_pointwise_program(&pcfg, &prog, &Tensor::zeros([2, 5, 5, 3]).unwrap(), &rq).is_err());
    assert!(im2col_pointwise_program(&pcfg, &prog, &Tensor::zeros([9, 3, 3, 3]).unwrap(), &random_rq(&mut rng, 9, 0)).is_err());
    assert!(im2col_pointwise_program(&pcfg, &prog, &w, &random_rq(&mut rng, 3, 0)).is_err());
    let dw = DepthwiseProgram::new(&cfg, [1, 4, 4, 2], &Tensor::zeros([1, 3, 3, 2]).unwrap(), 0, 1, &rq).unwrap();
    assert!(im2col_pointwise_program(&pcfg, &dw, &w, &rq).is_err());
}

/// Report (not a timed test; `cargo test -p dsc-sim --test im2col -- --ignored --nocapture`):
/// MobileNet-v1's first layer (224×224×3, stride 2) in im2col mode on the `P = 8` engine in
/// Verilator, beats bit-exact and cycles against the model; then the model's im2col cycles of
/// every DSC layer's standard-conv equivalent, beside the depthwise mode's, and the pointwise
/// stage's cycles (8×8 array) for the `M' = 9·M` im2col channels.
#[test]
#[ignore]
fn mobilenet_v1_im2col_report() {
    let cfg = EngineConfig::new(3, 8, 1, 1, 224, 224, 1024).unwrap();
    let first = cfg.window().layer(224, 224, 8, 2).unwrap();
    let model0 = im2col_cycles(&cfg, &first);
    println!("| layer | input | stride | M' | im2col beats | im2col cycles (model) | depthwise-mode cycles | pointwise 8×8 cycles (M' → N) |");
    println!("|---|---|---|---|---|---|---|---|");
    let pw = |m: usize, n: usize, pixels: usize| {
        let a = SystolicConfig::new(8, 8, 32, m as u64, Dataflow::WeightStationary).unwrap();
        let c = PointwiseConfig::new(a, m, n, 64).unwrap();
        pointwise_cycles(&c, &c.layer(m, n, pixels).unwrap())
    };
    let l0 = im2col_layer(&cfg.window(), 224, 224, 3, 2).unwrap();
    println!(
        "| conv0 | 224²×3 | 2 | {} | {} | {model0} | – | {} |",
        im2col_channels(&l0),
        l0.window_count() * 9,
        pw(im2col_channels(&l0), 32, l0.rows.out * l0.cols.out)
    );
    let net = mobilenet_v1(1.0, 224).unwrap();
    for stage in net.stages() {
        let Stage::Dsc { names, block } = stage else { continue };
        let dw = block.dw();
        let (h, mch, stride, n) = (dw.df_in(), dw.m(), dw.stride(), block.pw().n());
        let l = cfg.window().layer(h, h, mch, stride).unwrap();
        println!(
            "| {} | {h}²×{mch} | {stride} | {} | {} | {} | {} | {} |",
            names.0,
            im2col_channels(&l),
            l.window_count() * 9,
            im2col_cycles(&cfg, &l),
            engine_cycles(&cfg, &l),
            pw(im2col_channels(&l), n, l.rows.out * l.cols.out)
        );
    }
    // Verilator: the first layer on a P = 8 engine sized for it.
    let mut rng = ChaCha8Rng::seed_from_u64(224);
    let input = Tensor::from_fn([1, 224, 224, 3], |_, _, _, _| int8(&mut rng)).unwrap();
    let big = EngineConfig::new(3, 8, 1, 1, 224, 224, 8).unwrap();
    let mut eng = dsc_hw::depthwise::DepthwiseEngine::<64, 576, 8, 1, 8, 3, 19, 256, 48, 65>::new(&big).unwrap();
    let t0 = std::time::Instant::now();
    let compiled = build(&Design::from_block("depthwise_im2col_224", &mut eng).unwrap(), &options()).unwrap();
    eprintln!("model built in {:.1} s", t0.elapsed().as_secs_f64());
    let mut m = compiled.model().unwrap();
    let t1 = std::time::Instant::now();
    let (prog, _, got, want) = check_im2col(&mut m, &big, &input, -128, 2, (0.0, 0.0), 1);
    println!(
        "conv0 in Verilator: {} im2col beats bit-exact, {got} cycles measured, model {want} ({:.1} s)",
        prog.output_beats(),
        t1.elapsed().as_secs_f64()
    );
    assert_eq!(got, want);
}
