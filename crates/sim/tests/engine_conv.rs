//! The fused DscEngine in conv mode (the standard-convolution baseline) in Verilator:
//! bit-exact against `dsc_model::conv2d` and cycle-exact against
//! `dsc_model::engine::conv_cycles` over seeded random standard convolutions, DSC layers
//! between them on the same engine; under random stalls; the DSC ÷ conv cycle ratio of
//! layers bound by the pointwise array in both modes; and the runner's refusals.
//!
//! The engine is `SmallConvDscEngine`: 3×3, `P = R = 2`, `C = 1`, up to 12×12×8 → 32, blocks
//! of ≤ 4 pixels, pointwise `max_m` = 72 = `G·Dk²·P` for `M = 8` (the DSC-only small engine,
//! `max_m` = 8, takes no 3×3 conv at all: `M' ≥ 18`).

use dsc_model::engine::{conv_config_writes, conv_cycles, dsc_cycles, DscConfig};
use dsc_model::engine_config::EngineConfig;
use dsc_model::im2col::im2col_cycles;
use dsc_model::pointwise::{pointwise_cycles, PointwiseConfig};
use dsc_model::depthwise::engine_cycles;
use dsc_model::synthetic::ConvLayer;
use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};
use dsc_model::{conv2d, DscBlock, RequantParams, Tensor};
use dsc_sim::engine::{EngineSim, EngineSimError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

#[path = "common/random.rs"]
mod random;
use random::{int8, requant};

fn conv_cfg() -> DscConfig {
    let e = EngineConfig::new(3, 2, 2, 1, 12, 12, 8).unwrap();
    let a = SystolicConfig::new(2, 1, acc_bits_for_products(72), 72, Dataflow::WeightStationary).unwrap();
    DscConfig::new(e, PointwiseConfig::new(a, 72, 32, 4).unwrap()).unwrap()
}

/// Builds (the first caller) or loads from the cache (the others, one at a time).
fn engine() -> EngineSim {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let sim = EngineSim::build_config(&conv_cfg(), None).unwrap();
    let (secs, cached) = sim.build_info();
    eprintln!("conv-mode DscEngine: built in {secs:.1} s (cached: {cached})");
    sim
}

/// A random standard 3×3 conv within the engine: any `M ≤ 8` (mostly not a multiple of
/// `P = 2`), `N ≤ 12`, sizes from 1, stride `1 + case % 2`.
fn random_conv(rng: &mut ChaCha8Rng, case: usize) -> (ConvLayer, Tensor<i8>) {
    let h = if case % 7 == 0 { rng.gen_range(1..=3) } else { rng.gen_range(3..=12) };
    let w = if case % 5 == 0 { rng.gen_range(1..=3) } else { rng.gen_range(3..=12) };
    let m = if case % 4 == 0 { 2 * rng.gen_range(1..=4) } else { 2 * rng.gen_range(0..=3) + 1 };
    let n = rng.gen_range(1..=12);
    let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(rng)).unwrap();
    let weights = Tensor::from_fn([n, 3, 3, m], |_, _, _, _| int8(rng)).unwrap();
    // Shifts for sums of up to 72 products.
    let rq = requant(rng, n, case, (-14, -10), 50000);
    (ConvLayer { in_zp: int8(rng) as i32, stride: 1 + case % 2, weights, requant: rq }, input)
}

/// A random DSC layer (`M` a multiple of 2, `N ≤ 32`) for the same engine.
fn random_dsc(rng: &mut ChaCha8Rng, case: usize) -> (DscBlock, Tensor<i8>) {
    let (h, w) = (rng.gen_range(1..=12), rng.gen_range(1..=12));
    let (m, n) = (2 * rng.gen_range(1..=4), rng.gen_range(1..=32));
    let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(rng)).unwrap();
    let dw_w = Tensor::from_fn([1, 3, 3, m], |_, _, _, _| int8(rng)).unwrap();
    let pw_w = Tensor::from_fn([n, 1, 1, m], |_, _, _, _| int8(rng)).unwrap();
    let dw_rq = requant(rng, m, case, (-10, -6), 50000);
    let pw_rq = requant(rng, n, case / 3, (-11, -7), 50000);
    (DscBlock::new(int8(rng) as i32, 1 + case % 2, dw_w, dw_rq, pw_w, pw_rq).unwrap(), input)
}

/// ≥ 60 seeded random standard convolutions, a DSC layer after every third (the mode
/// register goes back and forth): every byte as `conv2d` / `DscBlock::run`, cycles as
/// `conv_cycles` / `dsc_cycles`, config writes as counted.
#[test]
fn random_convs_bit_exact_and_cycle_exact() {
    let mut sim = engine();
    let cfg = conv_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xC0_4E01);
    let n = 64;
    let (mut cycles, mut inside, mut bytes, mut odd_m, mut stride2, mut dsc) = (0u64, 0usize, 0usize, 0, 0, 0);
    for case in 0..n {
        let (layer, input) = random_conv(&mut rng, case);
        let golden = conv2d(&input, &layer.weights, layer.in_zp, layer.stride, &layer.requant).unwrap();
        let got = sim.run_conv(&layer, &input, None).unwrap();
        let (m, nout) = (input.c(), layer.weights.n());
        let ctx = format!("case {case}: conv {:?} → {nout}, stride {}", input.shape(), layer.stride);
        assert_eq!(got.output.data(), golden.data(), "{ctx}: output differs");
        let geom = cfg.conv_layer(input.h(), input.w(), m, nout, layer.stride).unwrap();
        assert_eq!(got.cycles, conv_cycles(&cfg, &geom), "{ctx}: cycles measured vs model");
        assert_eq!(got.config_cycles, conv_config_writes(&cfg, &geom), "{ctx}: config cycles");
        cycles += got.cycles;
        odd_m += m % 2;
        stride2 += (layer.stride == 2) as usize;
        let (lo, hi) = (layer.requant.act_min() as i8, layer.requant.act_max() as i8);
        inside += golden.data().iter().filter(|&&v| v > lo && v < hi).count();
        bytes += golden.data().len();
        if case % 3 == 2 {
            let (block, x) = random_dsc(&mut rng, case);
            let got = sim.run_dsc(&block, &x, None).unwrap();
            assert_eq!(got.output.data(), block.run(&x).unwrap().data(), "{ctx}: the DSC layer after it differs");
            let l = cfg.layer(x.h(), x.w(), block.m(), block.n(), block.stride()).unwrap();
            assert_eq!(got.cycles, dsc_cycles(&cfg, &l), "{ctx}: the DSC layer's cycles");
            dsc += 1;
        }
    }
    assert!(odd_m > n / 2 && stride2 >= n / 2);
    // The requantization must not clamp everything, or a wrong sum could hide.
    assert!(inside * 5 > bytes, "only {inside} of {bytes} outputs unclamped");
    eprintln!(
        "conv mode: {n} random standard convs bit-exact ({bytes} output bytes, {inside} unclamped) and cycle-exact \
         ({cycles} cycles), {dsc} DSC layers between them exact"
    );
}

/// Random stalls on both streams: bit-exact, nothing lost or duplicated (the runner checks
/// the beat count and `tlast`), never faster than the stall-free count.
#[test]
fn random_stalls_bit_exact_and_not_faster() {
    let mut sim = engine();
    let cfg = conv_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xC0_4E02);
    for case in 0..20 {
        let (layer, input) = random_conv(&mut rng, case);
        let golden = layer.run(&input).unwrap();
        let got = sim.run_conv(&layer, &input, Some(300 + case as u64)).unwrap();
        assert_eq!(got.output.data(), golden.data(), "case {case}: output differs");
        let geom = cfg.conv_layer(input.h(), input.w(), input.c(), layer.weights.n(), layer.stride).unwrap();
        let model = conv_cycles(&cfg, &geom);
        assert!(got.cycles >= model, "case {case}: {} < {model}", got.cycles);
    }
}

/// DSC ÷ standard conv, measured on the same engine for the same `H×W×M → N`, on layers
/// bound by the pointwise array in both modes (asserted from the model's stand-alone counts:
/// the pointwise stage alone is slower than the depthwise engine alone, and than the im2col
/// producer alone): 12×12, 12×11 and 10×12 inputs, `M` 7–8 (`G = 4`), `N` 31–32, stride 1.
///
/// The DSC's depthwise MACs run on the lanes, concurrently with the array, so the array
/// does `HW·M·N` MACs in DSC mode and `HW·M·N·Dk²` in conv mode: the cycle ratio tends to
/// `1/Dk²`, not to the MAC ratio `1/N + 1/Dk²` (the formula counts the depthwise work as if
/// it shared the multipliers). The test holds the measured ratio within 2% of `1/Dk²` and
/// below `1/N + 1/Dk²`; what is left over `1/Dk²` is the array's fixed cost per block
/// (`R + 1` cycles), the fill and the drain, a larger share of the shorter DSC run.
#[test]
fn dsc_over_conv_cycles_on_pointwise_bound_layers() {
    let mut sim = engine();
    let cfg = conv_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xC0_4E03);
    let dk2 = cfg.engine().taps() as f64;
    for (h, w, m, n) in [(12usize, 12usize, 8usize, 32usize), (10, 12, 7, 31), (12, 12, 7, 32), (12, 11, 8, 32)] {
        let mp = m.div_ceil(2) * 2;
        let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(&mut rng)).unwrap();
        let conv = ConvLayer {
            in_zp: int8(&mut rng) as i32,
            stride: 1,
            weights: Tensor::from_fn([n, 3, 3, m], |_, _, _, _| int8(&mut rng)).unwrap(),
            requant: requant(&mut rng, n, 0, (-13, -8), 50000),
        };
        // The DSC layer takes the input padded to whole groups (what the engine sees anyway).
        let x = Tensor::from_fn([1, h, w, mp], |_, y, xx, c| if c < m { input.pixel(0, y, xx).unwrap()[c] } else { 0 }).unwrap();
        let block = DscBlock::new(
            int8(&mut rng) as i32,
            1,
            Tensor::from_fn([1, 3, 3, mp], |_, _, _, _| int8(&mut rng)).unwrap(),
            requant(&mut rng, mp, 0, (-10, -6), 50000),
            Tensor::from_fn([n, 1, 1, mp], |_, _, _, _| int8(&mut rng)).unwrap(),
            requant(&mut rng, n, 0, (-11, -7), 50000),
        )
        .unwrap();
        let d = cfg.layer(h, w, mp, n, 1).unwrap();
        let v = cfg.conv_layer(h, w, m, n, 1).unwrap();
        assert!(pointwise_cycles(cfg.pointwise(), &d.pointwise) > engine_cycles(cfg.engine(), &d.window), "DSC {h}×{w}×{m} → {n} is not pointwise-bound");
        assert!(pointwise_cycles(cfg.pointwise(), &v.pointwise) > im2col_cycles(cfg.engine(), &v.window), "conv {h}×{w}×{m} → {n} is not pointwise-bound");
        let got_dsc = sim.run_dsc(&block, &x, None).unwrap();
        assert_eq!(got_dsc.output.data(), block.run(&x).unwrap().data());
        assert_eq!(got_dsc.cycles, dsc_cycles(&cfg, &d));
        let got_conv = sim.run_conv(&conv, &input, None).unwrap();
        assert_eq!(got_conv.output.data(), conv.run(&input).unwrap().data());
        assert_eq!(got_conv.cycles, conv_cycles(&cfg, &v));
        let ratio = got_dsc.cycles as f64 / got_conv.cycles as f64;
        let (array, macs) = (1.0 / dk2, 1.0 / n as f64 + 1.0 / dk2);
        eprintln!(
            "{h}×{w}×{m} → {n}: DSC {} / conv {} cycles = {ratio:.5}; 1/Dk² = {array:.5} ({:+.2}%); 1/N + 1/Dk² = {macs:.5}",
            got_dsc.cycles,
            got_conv.cycles,
            100.0 * (ratio / array - 1.0)
        );
        assert!((ratio / array - 1.0).abs() < 0.02, "{h}×{w}×{m} → {n}: ratio {ratio} vs 1/Dk² = {array}");
        assert!(ratio < macs, "{h}×{w}×{m} → {n}: ratio {ratio} ≥ 1/N + 1/Dk² = {macs}");
    }
}

/// The runner's refusals in conv mode — another kernel size, sizes over the maxima, a wrong
/// input — each an error, and the engine still runs afterwards.
#[test]
fn runner_rejects_convs_the_engine_cannot_run() {
    let mut sim = engine();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (layer, input) = random_conv(&mut rng, 1);
    let conv = |m: usize, n: usize, dk: usize, stride: usize| {
        let rq = RequantParams::new(vec![0; n], vec![1 << 30; n], vec![0; n], 0, -128, 127).unwrap();
        ConvLayer { in_zp: 0, stride, weights: Tensor::zeros([n, dk, dk, m]).unwrap(), requant: rq }
    };
    let x = |h, w, c| Tensor::<i8>::zeros([1, h, w, c]).unwrap();
    let cases: Vec<(&str, ConvLayer, Tensor<i8>)> = vec![
        ("Dk = 5", conv(3, 4, 5, 1), x(6, 6, 3)),
        ("Dk = 1", conv(3, 4, 1, 1), x(6, 6, 3)),
        ("M = 9", conv(9, 4, 3, 1), x(6, 6, 9)),
        ("N = 33", conv(3, 33, 3, 1), x(6, 6, 3)),
        ("height 13", conv(3, 4, 3, 1), x(13, 6, 3)),
        ("width 13", conv(3, 4, 3, 1), x(6, 13, 3)),
        ("stride 3", conv(3, 4, 3, 3), x(6, 6, 3)),
        ("input channels ≠ weights", conv(3, 4, 3, 1), x(6, 6, 4)),
        ("batch 2", conv(3, 4, 3, 1), Tensor::zeros([2, 6, 6, 3]).unwrap()),
    ];
    for (what, l, input) in cases {
        let err = sim.run_conv(&l, &input, None).err().unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(matches!(err, EngineSimError::Layer(_)), "{what}: {err}");
    }
    let got = sim.run_conv(&layer, &input, None).unwrap();
    assert_eq!(got.output.data(), layer.run(&input).unwrap().data());
}
