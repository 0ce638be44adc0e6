//! PointwiseStage in Verilator: bit-exact against `dsc_model::pointwise::pointwise` and
//! cycle-exact against `dsc_model::pointwise::pointwise_cycles` over ≥ 200 seeded random
//! layers (M, N from 1 to the maxima, multiples of R, C or not, pixel counts from 1); under
//! random stalls on both streams; and the config port's refusals.

use dsc_hw::pointwise::{PointwiseProgram, SmallStage, PW_CFG_CLEAR_ERROR, PW_CFG_START};
use dsc_model::pointwise::{pointwise, pointwise_config_writes, pointwise_cycles, PointwiseConfig};
use dsc_model::systolic::{Dataflow, SystolicConfig};
use dsc_model::{RequantParams, Tensor};
use dsc_sim::{build, Beat, BuildOptions, Compiled, Design, Model, StreamSink, StreamSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "common/random.rs"]
mod random;
use random::{int8, requant};

/// The config of [`SmallStage`]: 4×3 array, M ≤ 16, N ≤ 12, blocks of ≤ 8 pixels.
fn small_cfg() -> PointwiseConfig {
    let a = SystolicConfig::new(4, 3, 20, 16, Dataflow::WeightStationary).unwrap();
    PointwiseConfig::new(a, 16, 12, 8).unwrap()
}

fn small_stage() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let mut e = SmallStage::new(&small_cfg()).unwrap();
        let design = Design::from_block("pointwise_small", &mut e).unwrap();
        let opts = BuildOptions {
            cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dsc-sim-cache")),
            ..BuildOptions::default()
        };
        build(&design, &opts).unwrap()
    })
}

struct Layer {
    input: Tensor<i8>,
    weights: Tensor<i8>,
    in_zp: i32,
    rq: RequantParams,
}

fn random_layer(rng: &mut ChaCha8Rng, cfg: &PointwiseConfig, case: usize) -> Layer {
    let m = rng.gen_range(1..=cfg.max_m());
    let n = rng.gen_range(1..=cfg.max_n());
    // Pixels: 1 often, within one block, across several blocks.
    let (h, w) = match case % 4 {
        0 => (1, rng.gen_range(1..=3)),
        1 => (rng.gen_range(1..=3), rng.gen_range(1..=3)),
        _ => (rng.gen_range(1..=6), rng.gen_range(1..=6)),
    };
    let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(rng)).unwrap();
    let weights = Tensor::from_fn([n, 1, 1, m], |_, _, _, _| int8(rng)).unwrap();
    let in_zp = int8(rng) as i32;
    let rq = requant(rng, n, case, (-12, -7), 3000);
    Layer { input, weights, in_zp, rq }
}

fn set(m: &mut Model, name: &str, v: u64) {
    m.set(name, v).unwrap();
}

fn get(m: &mut Model, name: &str) -> u64 {
    m.get(name).unwrap()
}

fn idle(m: &mut Model) {
    set(m, "cfg_valid", 0);
    set(m, "inp_tvalid", 0);
    set(m, "out_tready", 0);
}

fn write(m: &mut Model, addr: u32, data: u32) {
    dsc_sim::config_port::write_settled(m, addr, data).unwrap();
}

struct Measured {
    output: Tensor<i8>,
    cycles: u64,
    config_cycles: u64,
}

fn run_layer(m: &mut Model, prog: &PointwiseProgram, input: &Tensor<i8>, stalls: (f64, f64), seed: u64) -> Measured {
    idle(m);
    assert_eq!(get(m, "busy"), 0);
    let c0 = m.cycles();
    for &(a, d) in prog.writes() {
        dsc_sim::config_port::write(m, a, d).unwrap();
    }
    let config_cycles = m.cycles() - c0;
    dsc_sim::config_port::settle(m);
    assert_eq!(get(m, "error"), 0, "config refused");
    let mut src = StreamSource::new(m, "inp", stalls.0, seed).unwrap();
    let mut sink = StreamSink::new(m, "out", stalls.1, seed ^ 0x55).unwrap();
    let beats = prog.input_beats(input).unwrap();
    let n_in = beats.len();
    src.extend(beats.into_iter().map(|(d, l)| Beat::new(d, l)));
    let l = prog.layer();
    let expect = l.pixels * l.n.div_ceil(3);
    let mut first_in = None;
    let limit = m.cycles() + 100_000;
    while sink.received().len() < expect {
        assert!(m.cycles() < limit, "layer did not finish: {} of {expect} beats, {} of {n_in} in", sink.received().len(), src.sent());
        src.drive(m).unwrap();
        sink.drive(m).unwrap();
        let before = src.sent();
        src.sample(m).unwrap();
        sink.sample(m).unwrap();
        if before == 0 && src.sent() == 1 {
            first_in = Some(m.cycles());
        }
        m.tick();
    }
    assert!(src.is_done(), "input beats left over: {} of {n_in} sent", src.sent());
    set(m, "inp_tvalid", 0);
    set(m, "out_tready", 1);
    for _ in 0..40 {
        assert_eq!(get(m, "out_tvalid"), 0, "an extra output beat");
        m.tick();
    }
    assert_eq!(get(m, "busy"), 0);
    assert_eq!(get(m, "error"), 0);
    assert_eq!(get(m, "last_error"), 0);
    let got = sink.received();
    assert!(got.last().unwrap().beat.last, "tlast on the last beat");
    assert!(got[..got.len() - 1].iter().all(|r| !r.beat.last), "tlast only on the last beat");
    let words: Vec<u128> = got
        .iter()
        .map(|r| r.beat.words().iter().rev().fold(0u128, |a, &w| (a << 32) | w as u128))
        .collect();
    Measured {
        output: prog.output_tensor(&words).unwrap(),
        cycles: got.last().unwrap().cycle - first_in.unwrap() + 1,
        config_cycles,
    }
}

/// Runs `l`; checks every byte and the config-write count; returns (measured, model) cycles.
fn check_layer(m: &mut Model, cfg: &PointwiseConfig, l: &Layer, stalls: (f64, f64), seed: u64) -> (u64, u64, usize) {
    check_layer_blocks(m, cfg, l, stalls, seed, None)
}

/// [`check_layer`] with `block` pixels per block instead of the balanced choice.
fn check_layer_blocks(
    m: &mut Model,
    cfg: &PointwiseConfig,
    l: &Layer,
    stalls: (f64, f64),
    seed: u64,
    block: Option<usize>,
) -> (u64, u64, usize) {
    let mut prog = PointwiseProgram::new(cfg, l.input.shape(), &l.weights, l.in_zp, &l.rq).unwrap();
    if let Some(b) = block {
        prog = prog.with_block(cfg, b).unwrap();
    }
    let golden = pointwise(&l.input, &l.weights, l.in_zp, &l.rq).unwrap();
    let got = run_layer(m, &prog, &l.input, stalls, seed);
    let ctx = format!("layer {:?} → N = {} (block {})", l.input.shape(), l.weights.n(), prog.layer().block);
    assert_eq!(got.output.data(), golden.data(), "{ctx}: output differs");
    assert_eq!(got.config_cycles as usize, pointwise_config_writes(cfg, prog.layer()), "{ctx}: config cycles");
    let (lo, hi) = (l.rq.act_min() as i8, l.rq.act_max() as i8);
    let inside = golden.data().iter().filter(|&&v| v > lo && v < hi).count();
    (got.cycles, pointwise_cycles(cfg, prog.layer()), inside)
}

/// ≥ 200 seeded random layers back to back on one stage: bit-exact and cycle-exact.
#[test]
fn random_layers_bit_exact_and_cycle_exact() {
    let cfg = small_cfg();
    let mut m = small_stage().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_0006);
    let n = 220;
    let (mut total, mut nonmult, mut bytes, mut inside) = ((0u64, 0u64), 0, 0, 0);
    for case in 0..n {
        let l = random_layer(&mut rng, &cfg, case);
        bytes += l.input.h() * l.input.w() * l.weights.n();
        let (measured, model, ins) = check_layer(&mut m, &cfg, &l, (0.0, 0.0), case as u64);
        assert_eq!(measured, model, "case {case}: cycles measured vs model, layer {:?} → {}", l.input.shape(), l.weights.n());
        total.0 += measured;
        total.1 += model;
        inside += ins;
        if l.input.c() % 4 != 0 || l.weights.n() % 3 != 0 {
            nonmult += 1;
        }
    }
    assert!(nonmult > n / 2);
    // The requantization must not clamp everything, or a wrong sum could hide.
    assert!(inside * 6 > bytes, "only {inside} of {bytes} outputs unclamped");
    eprintln!(
        "pointwise: {n} random layers bit-exact ({bytes} output bytes, {inside} unclamped); cycles measured {} == model {}",
        total.0, total.1
    );
}

/// Blocks smaller than the balanced choice, down to one pixel, with one M-tile (a block
/// ends every cycle at `B = 1`) and with several: bit-exact and cycle-exact.
#[test]
fn small_blocks_bit_exact_and_cycle_exact() {
    let cfg = small_cfg();
    let mut m = small_stage().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_0026);
    for case in 0..24 {
        let mut l = random_layer(&mut rng, &cfg, 2 + 4 * case);
        if case % 2 == 0 {
            // M ≤ R: one input beat per pixel.
            let [_, h, w, _] = l.input.shape();
            let mm = rng.gen_range(1..=cfg.array().rows());
            l.input = Tensor::from_fn([1, h, w, mm], |_, _, _, _| int8(&mut rng)).unwrap();
            l.weights = Tensor::from_fn([l.weights.n(), 1, 1, mm], |_, _, _, _| int8(&mut rng)).unwrap();
        }
        let block = 1 + case % 3;
        let (measured, model, _) = check_layer_blocks(&mut m, &cfg, &l, (0.0, 0.0), 2000 + case as u64, Some(block));
        assert_eq!(measured, model, "case {case}, block {block}: cycles measured vs model");
    }
    let l = random_layer(&mut rng, &cfg, 2);
    let prog = PointwiseProgram::new(&cfg, l.input.shape(), &l.weights, l.in_zp, &l.rq).unwrap();
    assert!(prog.clone().with_block(&cfg, 0).is_err());
    assert!(prog.with_block(&cfg, cfg.max_block() + 1).is_err());
}

/// Random stalls on both streams: still bit-exact, nothing lost or duplicated, and never
/// faster than the no-stall figure.
#[test]
fn random_stalls_bit_exact() {
    let cfg = small_cfg();
    let mut m = small_stage().model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_0016);
    for case in 0..60 {
        let l = random_layer(&mut rng, &cfg, case);
        let p = [0.3, 0.6, 0.9][case % 3];
        let q = [0.9, 0.5, 0.2][(case / 3) % 3];
        let (measured, model, _) = check_layer(&mut m, &cfg, &l, (p, q), 1000 + case as u64);
        assert!(measured >= model, "case {case}: {measured} < {model}");
    }
}

/// Refused writes set `error` and change nothing; clear-error clears it; a layer then runs.
#[test]
fn config_port_refusals() {
    let cfg = small_cfg();
    let mut m = small_stage().model().unwrap();
    idle(&mut m);
    let a = |r: u32, i: u32| (r << 24) | i;
    let bad = [
        (a(0, 0), 0),          // MT = 0
        (a(0, 0), 5),          // MT > ceil(16/4)
        (a(0, 1), 5),          // NT > ceil(12/3)
        (a(0, 2), 0),          // no pixels
        (a(0, 2), 1 << 24),    // too many pixels
        (a(0, 3), 9),          // block > 8
        (a(0, 3), 0),          // block 0
        (a(0, 4), 128),        // zero point beyond int8
        (a(0, 5), (-129i32) as u32),
        (a(0, 7), 0),          // unknown index
        (a(1, 64), 0),         // weight word beyond the RAM
        (a(1, 0), 200),        // weight beyond int8
        (a(2, 4), 0),          // N-tile beyond the maxima
        (a(4, 0), 31),         // shift beyond 30
        (a(4, 0), (-32i32) as u32),
        (a(5, 0), 0),          // unknown region
    ];
    for (addr, data) in bad {
        write(&mut m, addr, data);
        assert_eq!(get(&mut m, "error"), 1, "write {addr:#x} = {data:#x} accepted");
        write(&mut m, a(0, PW_CFG_CLEAR_ERROR), 0);
        assert_eq!(get(&mut m, "error"), 0);
    }
    // act_min > act_max at START.
    write(&mut m, a(0, 5), 10);
    write(&mut m, a(0, 6), (-10i32) as u32);
    write(&mut m, a(0, PW_CFG_START), 0);
    assert_eq!(get(&mut m, "error"), 1);
    assert_eq!(get(&mut m, "busy"), 0, "a refused START does not run");
    write(&mut m, a(0, PW_CFG_CLEAR_ERROR), 0);
    // The clamp check sees a bound written in the cycle just before START: refused here…
    write(&mut m, a(0, 6), 20);
    dsc_sim::config_port::write(&mut m, a(0, 6), (-10i32) as u32).unwrap();
    dsc_sim::config_port::write(&mut m, a(0, PW_CFG_START), 0).unwrap();
    dsc_sim::config_port::settle(&mut m);
    assert_eq!(get(&mut m, "error"), 1, "START after act_max < act_min, back to back");
    assert_eq!(get(&mut m, "busy"), 0);
    write(&mut m, a(0, PW_CFG_CLEAR_ERROR), 0);
    // A layer runs correctly after the refusals; writes while busy are refused.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let l = random_layer(&mut rng, &cfg, 2);
    check_layer(&mut m, &cfg, &l, (0.0, 0.0), 1);
    let prog = PointwiseProgram::new(&cfg, l.input.shape(), &l.weights, l.in_zp, &l.rq).unwrap();
    let (last, rest) = prog.writes().split_last().unwrap();
    for &(ad, d) in rest {
        write(&mut m, ad, d);
    }
    // …and taken here: act_max < act_min until the write just before START.
    write(&mut m, a(0, 5), 10);
    write(&mut m, a(0, 6), (-10i32) as u32);
    dsc_sim::config_port::write(&mut m, a(0, 6), 20).unwrap();
    dsc_sim::config_port::write(&mut m, last.0, last.1).unwrap();
    dsc_sim::config_port::settle(&mut m);
    assert_eq!(get(&mut m, "error"), 0, "START after a valid act_max, back to back");
    assert_eq!(get(&mut m, "busy"), 1);
    write(&mut m, a(0, 0), 1);
    assert_eq!(get(&mut m, "error"), 1, "a write while busy is refused");
}

/// Host-side refusals: a layer beyond the maxima, a batch, mismatched shapes.
#[test]
fn program_rejects_what_the_hardware_cannot_run() {
    let cfg = small_cfg();
    let rq = |n| RequantParams::new(vec![0; n], vec![1 << 30; n], vec![0; n], 0, -128, 127).unwrap();
    let w = |n, m| Tensor::<i8>::zeros([n, 1, 1, m]).unwrap();
    assert!(PointwiseProgram::new(&cfg, [1, 2, 2, 17], &w(4, 17), 0, &rq(4)).is_err());
    assert!(PointwiseProgram::new(&cfg, [1, 2, 2, 16], &w(13, 16), 0, &rq(13)).is_err());
    assert!(PointwiseProgram::new(&cfg, [2, 2, 2, 4], &w(4, 4), 0, &rq(4)).is_err());
    assert!(PointwiseProgram::new(&cfg, [1, 2, 2, 4], &w(4, 4), 0, &rq(3)).is_err());
    assert!(PointwiseProgram::new(&cfg, [1, 2, 2, 4], &w(4, 4), 300, &rq(4)).is_err());
    assert!(PointwiseProgram::new(&cfg, [1, 0, 2, 4], &w(4, 4), 0, &rq(4)).is_err());
    assert!(PointwiseProgram::new(&cfg, [1, 2, 2, 4], &w(4, 4), 0, &rq(4)).is_ok());
}

