//! The fused DscEngine in Verilator: bit-exact against `DscBlock::run` and cycle-exact against
//! `dsc_model::engine::dsc_cycles` over seeded random DSC layers; under random stalls; across a
//! reset in the middle of a layer; the fused config port's refusals; and the runner's errors.

use dsc_hw::engine::{DscProgram, DSC_PW_STAGE};
use dsc_model::cost::Stage as NetStage;
use dsc_model::engine::{dsc_config_writes, dsc_cycles, dsc_timing, DscConfig};
use dsc_model::engine_config::{EngineConfig, LaneMul, ParamRam};
use dsc_model::network::mobilenet_v1;
use dsc_model::pointwise::PointwiseConfig;
use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};
use dsc_model::{DscBlock, RequantParams, Tensor};
use dsc_sim::engine::{EngineSim, EngineSimError};
use dsc_sim::{Beat, StreamSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

#[path = "common/random.rs"]
mod random;
use random::{int8, requant};

/// The small fused engine: 3×3, `P = R = 2`, `C = 3`, up to 12×12×8 → 8, blocks of ≤ 4.
fn small_cfg() -> (EngineConfig, PointwiseConfig) {
    let e = EngineConfig::new(3, 2, 2, 3, 12, 12, 8).unwrap();
    let a = SystolicConfig::new(2, 3, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
    (e, PointwiseConfig::new(a, 8, 8, 4).unwrap())
}

/// Builds (the first caller) or loads from the cache (the others, one at a time).
fn small_engine() -> EngineSim {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let (e, p) = small_cfg();
    let sim = EngineSim::build(&e, &p, None).unwrap();
    let (secs, cached) = sim.build_info();
    eprintln!("small DscEngine: built in {secs:.1} s (cached: {cached})");
    sim
}

/// A random DSC layer and its input within the small engine's maxima.
fn random_layer(rng: &mut ChaCha8Rng, case: usize) -> (DscBlock, Tensor<i8>) {
    let h = if case % 7 == 0 { rng.gen_range(1..=3) } else { rng.gen_range(3..=12) };
    let w = if case % 5 == 0 { rng.gen_range(1..=3) } else { rng.gen_range(3..=12) };
    let m = 2 * rng.gen_range(1..=4);
    let n = rng.gen_range(1..=8);
    let stride = 1 + case % 2;
    let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(rng)).unwrap();
    let dw_w = Tensor::from_fn([1, 3, 3, m], |_, _, _, _| int8(rng)).unwrap();
    let pw_w = Tensor::from_fn([n, 1, 1, m], |_, _, _, _| int8(rng)).unwrap();
    let in_zp = int8(rng) as i32;
    let dw_rq = requant(rng, m, case, (-10, -6), 5000);
    let pw_rq = requant(rng, n, case / 3, (-11, -7), 5000);
    (DscBlock::new(in_zp, stride, dw_w, dw_rq, pw_w, pw_rq).unwrap(), input)
}

fn dsc_cfg() -> DscConfig {
    let (e, p) = small_cfg();
    DscConfig::new(e, p).unwrap()
}

/// ≥ 100 seeded random layers back to back: every byte as the golden model, cycles as the
/// timing model, config writes as counted.
#[test]
fn random_layers_bit_exact_and_cycle_exact() {
    let mut sim = small_engine();
    let cfg = dsc_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_E001);
    let n = 140;
    let (mut measured, mut inside, mut bytes, mut stride2) = (0u64, 0usize, 0usize, 0);
    for case in 0..n {
        let (block, input) = random_layer(&mut rng, case);
        let golden = block.run(&input).unwrap();
        let got = sim.run_dsc(&block, &input, None).unwrap();
        let ctx = format!("case {case}: {:?} stride {} → N = {}", input.shape(), block.stride(), block.n());
        assert_eq!(got.output.data(), golden.data(), "{ctx}: output differs");
        let layer = cfg.layer(input.h(), input.w(), block.m(), block.n(), block.stride()).unwrap();
        assert_eq!(got.cycles, dsc_cycles(&cfg, &layer), "{ctx}: cycles measured vs model");
        assert_eq!(got.config_cycles, dsc_config_writes(&cfg, &layer), "{ctx}: config cycles");
        measured += got.cycles;
        stride2 += (block.stride() == 2) as usize;
        let (lo, hi) = (block.pw_requant().act_min() as i8, block.pw_requant().act_max() as i8);
        inside += golden.data().iter().filter(|&&v| v > lo && v < hi).count();
        bytes += golden.data().len();
    }
    assert!(stride2 > n / 3);
    // The requantization must not clamp everything, or a wrong sum could hide.
    assert!(inside * 5 > bytes, "only {inside} of {bytes} outputs unclamped");
    eprintln!("engine: {n} random DSC layers bit-exact ({bytes} output bytes, {inside} unclamped) and cycle-exact ({measured} cycles)");
}

/// Random stalls on both streams: bit-exact, nothing lost or duplicated (the runner checks
/// the beat count and `tlast`), never faster than the stall-free count.
#[test]
fn random_stalls_bit_exact_and_not_faster() {
    let mut sim = small_engine();
    let cfg = dsc_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_E002);
    for case in 0..40 {
        let (block, input) = random_layer(&mut rng, case);
        let golden = block.run(&input).unwrap();
        let got = sim.run_dsc(&block, &input, Some(100 + case as u64)).unwrap();
        assert_eq!(got.output.data(), golden.data(), "case {case}: output differs");
        let layer = cfg.layer(input.h(), input.w(), block.m(), block.n(), block.stride()).unwrap();
        let model = dsc_cycles(&cfg, &layer);
        assert!(got.cycles >= model, "case {case}: {} < {model}", got.cycles);
    }
}

/// The iCE40 UP5K engine of `configs/ice40-up5k.toml` (Dk 3, `P = R = C = 1`, 32×32×32,
/// blocks of ≤ 16) with its single-port depthwise bias/M0 RAMs (SB_SPRAM256KA in synthesis),
/// Booth LUT multipliers, packed window history and no registers around its RAMs: random layers across its maxima bit-exact and cycle-exact, and
/// bit-exact under random stalls.
#[test]
fn ice40_up5k_engine_bit_exact_and_cycle_exact() {
    let e = EngineConfig::new(3, 1, 1, 1, 32, 32, 32)
        .unwrap()
        .with_param_ram(ParamRam::Spram)
        .with_lane_mul(LaneMul::Lut)
        .with_pack_history(true)
        .with_im2col(false)
        .with_ram_regs(false);
    let a = SystolicConfig::new(1, 1, acc_bits_for_products(32), 32, Dataflow::WeightStationary).unwrap();
    let p = PointwiseConfig::new(a, 32, 32, 16).unwrap();
    let cfg = DscConfig::new(e, p).unwrap();
    let mut sim = EngineSim::build(&e, &p, None).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_E005);
    let (mut measured, mut bytes) = (0u64, 0usize);
    for case in 0..24 {
        let h = if case % 6 == 0 { 32 } else { rng.gen_range(1..=12) };
        let w = if case % 6 == 1 { 32 } else { rng.gen_range(1..=12) };
        let m = if case % 4 == 0 { 32 } else { rng.gen_range(1..=32) };
        let n = if case % 4 == 1 { 32 } else { rng.gen_range(1..=32) };
        let stride = 1 + case % 2;
        let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(&mut rng)).unwrap();
        let dw_w = Tensor::from_fn([1, 3, 3, m], |_, _, _, _| int8(&mut rng)).unwrap();
        let pw_w = Tensor::from_fn([n, 1, 1, m], |_, _, _, _| int8(&mut rng)).unwrap();
        let in_zp = int8(&mut rng) as i32;
        let dw_rq = requant(&mut rng, m, case, (-10, -6), 5000);
        let pw_rq = requant(&mut rng, n, case / 3, (-11, -7), 5000);
        let block = DscBlock::new(in_zp, stride, dw_w, dw_rq, pw_w, pw_rq).unwrap();
        let golden = block.run(&input).unwrap();
        let stalls = (case % 3 == 2).then_some(500 + case as u64);
        let got = sim.run_dsc(&block, &input, stalls).unwrap();
        let ctx = format!("case {case}: {:?} stride {stride} → N = {n}", input.shape());
        assert_eq!(got.output.data(), golden.data(), "{ctx}: output differs");
        let layer = cfg.layer(h, w, m, n, stride).unwrap();
        let model = dsc_cycles(&cfg, &layer);
        if stalls.is_none() {
            assert_eq!(got.cycles, model, "{ctx}: cycles measured vs model");
        } else {
            assert!(got.cycles >= model, "{ctx}: {} < {model}", got.cycles);
        }
        measured += got.cycles;
        bytes += golden.data().len();
    }
    eprintln!("ice40-up5k engine: 24 random layers bit-exact ({bytes} output bytes; {measured} cycles)");
}

fn write(sim: &mut EngineSim, addr: u32, data: u32) {
    dsc_sim::config_port::write_settled(sim.model(), addr, data).unwrap();
}

fn get(sim: &mut EngineSim, port: &str) -> u64 {
    sim.model().get(port).unwrap()
}

/// The fused decode: stage selects other than 0 and 1 are refused; each stage refuses its own
/// bad writes through its address range; clear-error of either stage clears the select error;
/// writes while busy are refused; a layer then runs exactly.
#[test]
fn config_port_refusals() {
    let mut sim = small_engine();
    let pw = |a: u32| a | DSC_PW_STAGE;
    let bad = [
        ("stage 2", 0x2000_0000, 0),
        ("stage 15", 0xF000_0008, 0),
        ("depthwise stride 3", 0x0000_0003, 3),
        ("depthwise height 13", 0x0000_0000, 13),
        ("depthwise region 5", 0x0500_0000, 0),
        ("pointwise MT 5 > ceil(8/2)", pw(0x0000_0000), 5),
        ("pointwise block 5 > 4", pw(0x0000_0003), 5),
        ("pointwise region 5", pw(0x0500_0000), 0),
        ("pointwise shift 31", pw(0x0400_0000), 31),
    ];
    for (what, addr, data) in bad {
        for clear in [0x0000_0009u32, pw(9)] {
            write(&mut sim, addr, data);
            assert_eq!(get(&mut sim, "error"), 1, "{what}: write {addr:#x} = {data} accepted");
            write(&mut sim, clear, 0);
            // A stage's clear-error clears its own error and a select error.
            let own = (addr >> 28 == 1) == (clear == pw(9)) || addr >> 28 > 1;
            assert_eq!(get(&mut sim, "error"), u64::from(!own), "{what}: after clear {clear:#x}");
            write(&mut sim, 0x0000_0009, 0);
            write(&mut sim, pw(9), 0);
            assert_eq!(get(&mut sim, "error"), 0);
        }
    }
    // Writes while a stage runs are refused; the layer still completes exactly.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (block, input) = random_layer(&mut rng, 1);
    let prog = DscProgram::new(&dsc_cfg(), &block, input.shape()).unwrap();
    let n_pw = prog.writes().iter().take_while(|(a, _)| a >> 28 == 1).count();
    for &(a, d) in &prog.writes()[..n_pw] {
        write(&mut sim, a, d);
    }
    assert_eq!(get(&mut sim, "busy"), 1, "the pointwise stage waits for input");
    write(&mut sim, pw(0), 1);
    assert_eq!(get(&mut sim, "error"), 1, "a pointwise write while it runs is refused");
    write(&mut sim, pw(9), 0);
    assert_eq!(get(&mut sim, "error"), 0);
    // Reset drains the waiting pointwise stage on filler beats.
    reset_and_wait(&mut sim);
    let golden = block.run(&input).unwrap();
    let got = sim.run_dsc(&block, &input, None).unwrap();
    assert_eq!(got.output.data(), golden.data());
}

fn reset_and_wait(sim: &mut EngineSim) {
    let m = sim.model();
    m.set("inp_tvalid", 0).unwrap();
    m.set("out_tready", 0).unwrap();
    m.set("reset", 1).unwrap();
    m.tick();
    m.set("reset", 0).unwrap();
    for _ in 0..100_000 {
        if m.get("busy").unwrap() == 0 {
            assert_eq!(m.get("error").unwrap(), 0, "reset clears error");
            return;
        }
        m.tick();
    }
    panic!("busy after reset");
}

/// A reset with the layer half sent (outputs and FIFO beats in flight, the pointwise stage
/// waiting), then full layers: bit-exact and cycle-exact.
#[test]
fn reset_mid_layer_then_full_layer() {
    let mut sim = small_engine();
    let cfg = dsc_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xD5C0_E003);
    for case in 0..8 {
        let (block, input) = random_layer(&mut rng, case);
        let prog = DscProgram::new(&cfg, &block, input.shape()).unwrap();
        for &(a, d) in prog.writes() {
            write(&mut sim, a, d);
        }
        let beats = prog.input_beats(&input).unwrap();
        let half = beats.len() / 2 + 1;
        let m = sim.model();
        let mut src = StreamSource::new(m, "inp", 0.2, case as u64).unwrap();
        src.extend(beats.into_iter().take(half).map(|(d, l)| Beat::new(d, l)));
        m.set("out_tready", 1).unwrap();
        while !src.is_done() {
            src.drive(m).unwrap();
            src.sample(m).unwrap();
            m.tick();
        }
        reset_and_wait(&mut sim);
        let (block, input) = random_layer(&mut rng, case + 1);
        let got = sim.run_dsc(&block, &input, None).unwrap();
        assert_eq!(got.output.data(), block.run(&input).unwrap().data(), "case {case}: after reset");
        let layer = cfg.layer(input.h(), input.w(), block.m(), block.n(), block.stride()).unwrap();
        assert_eq!(got.cycles, dsc_cycles(&cfg, &layer), "case {case}: cycles after reset");
    }
}

/// The runner's errors: layers over the generated maxima, a wrong input shape, another kernel
/// size — each an error, and the engine still runs afterwards.
#[test]
fn runner_rejects_what_the_engine_cannot_run() {
    let mut sim = small_engine();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (block, input) = random_layer(&mut rng, 2);
    let m = block.m();
    let big = |h, w, c| Tensor::<i8>::zeros([1, h, w, c]).unwrap();
    let layer = |m: usize, n: usize, dk: usize| {
        let rq = |c| RequantParams::new(vec![0; c], vec![1 << 30; c], vec![0; c], 0, -128, 127).unwrap();
        DscBlock::new(0, 1, Tensor::zeros([1, dk, dk, m]).unwrap(), rq(m), Tensor::zeros([n, 1, 1, m]).unwrap(), rq(n)).unwrap()
    };
    let cases: Vec<(&str, DscBlock, Tensor<i8>)> = vec![
        ("height 13", block.clone(), big(13, 4, m)),
        ("width 13", block.clone(), big(4, 13, m)),
        ("channels of the input", block.clone(), big(4, 4, m + 2)),
        ("batch 2", block.clone(), Tensor::zeros([2, 4, 4, m]).unwrap()),
        ("M = 10", layer(10, 4, 3), big(4, 4, 10)),
        ("M = 3, not a multiple of P", layer(3, 4, 3), big(4, 4, 3)),
        ("N = 9", layer(4, 9, 3), big(4, 4, 4)),
        ("Dk = 5", layer(4, 4, 5), big(6, 6, 4)),
    ];
    for (what, b, x) in cases {
        let err = sim.run_dsc(&b, &x, None).err().unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(matches!(err, EngineSimError::Layer(_)), "{what}: {err}");
    }
    let got = sim.run_dsc(&block, &input, None).unwrap();
    assert_eq!(got.output.data(), block.run(&input).unwrap().data());
}

/// Report (not a timed test; `cargo test -p dsc-sim --test engine -- --ignored --nocapture`):
/// MobileNet-v1 (α = 1, 224) DSC layers on the P = R = C = 8 engine — the model's fused
/// cycles, bottleneck and utilization for all 13, and Verilator bit-exact and cycle-exact
/// runs of the layers named in `DSC_ENGINE_LAYERS` (default `dw13`, the smallest input).
#[test]
#[ignore]
fn mobilenet_v1_fused_report() {
    let e = EngineConfig::new(3, 8, 8, 8, 224, 224, 1024).unwrap();
    let a = SystolicConfig::new(8, 8, acc_bits_for_products(1024), 1024, Dataflow::WeightStationary).unwrap();
    let pw = PointwiseConfig::new(a, 1024, 1024, 64).unwrap();
    let cfg = DscConfig::new(e, pw).unwrap();
    let (_, why) = dsc_model::engine::fifo_depth_for(&e, &pw);
    println!("FIFO depth {}: {why}", cfg.fifo_depth());
    let run: Vec<String> = std::env::var("DSC_ENGINE_LAYERS")
        .unwrap_or_else(|_| "dw13".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let mut sim = None;
    let mut rng = ChaCha8Rng::seed_from_u64(224);
    println!("| layer | input | s | N | dw alone | pw alone | ideal | fused (model) | Verilator | bottleneck | dw util | pw util | model time |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let net = mobilenet_v1(1.0, 224).unwrap();
    let (mut sum, mut sum_ideal) = (0u64, 0u64);
    for stage in net.stages() {
        let NetStage::Dsc { names, block } = stage else { continue };
        let (dw, pwl) = (block.dw(), block.pw());
        let (h, m, s, n) = (dw.df_in(), dw.m(), dw.stride(), pwl.n());
        let layer = cfg.layer(h, h, m, n, s).unwrap();
        let t0 = std::time::Instant::now();
        let tm = dsc_timing(&cfg, &layer);
        let model_time = t0.elapsed().as_secs_f64();
        sum += tm.cycles;
        sum_ideal += tm.ideal;
        let mut measured = String::from("–");
        if run.iter().any(|r| *r == names.0) {
            let sim = sim.get_or_insert_with(|| {
                let sim = EngineSim::build(&e, &pw, None).unwrap();
                eprintln!("MobileNet DscEngine: built in {:.1} s (cached: {})", sim.build_info().0, sim.build_info().1);
                sim
            });
            let q = |rng: &mut ChaCha8Rng, c: usize| {
                let bias: Vec<i32> = (0..c).map(|_| rng.gen_range(-50_000..50_000)).collect();
                let mult: Vec<i32> = (0..c).map(|_| rng.gen_range(1 << 30..=i32::MAX)).collect();
                let shift: Vec<i32> = (0..c).map(|_| rng.gen_range(-12..-6)).collect();
                RequantParams::new(bias, mult, shift, -128, -128, 127).unwrap()
            };
            let dsc = DscBlock::new(
                int8(&mut rng) as i32,
                s,
                Tensor::from_fn([1, 3, 3, m], |_, _, _, _| int8(&mut rng)).unwrap(),
                q(&mut rng, m),
                Tensor::from_fn([n, 1, 1, m], |_, _, _, _| int8(&mut rng)).unwrap(),
                q(&mut rng, n),
            )
            .unwrap();
            let input = Tensor::from_fn([1, h, h, m], |_, _, _, _| int8(&mut rng)).unwrap();
            let t1 = std::time::Instant::now();
            let got = sim.run_dsc(&dsc, &input, None).unwrap();
            eprintln!("{}: Verilator {:.1} s", names.0, t1.elapsed().as_secs_f64());
            assert_eq!(got.output.data(), dsc.run(&input).unwrap().data(), "{}: output differs", names.0);
            assert_eq!(got.cycles, tm.cycles, "{}: measured vs model", names.0);
            measured = got.cycles.to_string();
        }
        println!(
            "| {}/{} | {h}²×{m} | {s} | {n} | {} | {} | {} | {} | {measured} | {} | {:.1}% | {:.1}% | {:.0} ms |",
            names.0,
            names.1,
            tm.dw_alone,
            tm.pw_alone,
            tm.ideal,
            tm.cycles,
            tm.bottleneck,
            100.0 * tm.dw_utilization,
            100.0 * tm.pw_utilization,
            1000.0 * model_time
        );
    }
    println!("| all | | | | | | {sum_ideal} | {sum} | | | | {:.1}% of ideal | |", 100.0 * sum_ideal as f64 / sum as f64);
}
