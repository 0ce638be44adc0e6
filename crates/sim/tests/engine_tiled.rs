//! The fused DscEngine with a pointwise weight memory for fewer output channels than the
//! layers have (48 weights, 8 tiles of `R×C` = 2×3: `N ≤ 12` for `M ≤ 4`, `N ≤ 6` for
//! `M ≤ 8`) and line buffers shorter than `max_width · max_channels / P` (`max_line_words` 24
//! of 48): wider layers run in N tiles on the host, bit-exact against the golden model's
//! untiled output and cycle-exact against `dsc_model::n_tiles`; rows of `W · G > 24` words and
//! layers of more than 8 weight tiles are refused by the host and by the hardware's START
//! checks.

use dsc_hw::depthwise::{cfg_addr, CFG_CLEAR_ERROR, CFG_START};
use dsc_model::engine::{dsc_cycles, DscConfig};
use dsc_model::engine_config::EngineConfig;
use dsc_model::n_tiles::{dsc_tiled_cycles, dsc_tiled_layer};
use dsc_model::pointwise::PointwiseConfig;
use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};
use dsc_model::{DscBlock, Tensor};
use dsc_sim::engine::{EngineSim, EngineSimError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

#[path = "common/random.rs"]
mod random;
use random::{int8, requant};

const MAX_N: usize = 12;
const MAX_WEIGHTS: usize = 48;
const LINE_WORDS: usize = 24;

/// crates/hw's SmallTiledDscEngine: 3×3, `P = R = 2`, `C = 3`, up to 12×12×8, `max_n` 12,
/// 48 weights, blocks of ≤ 4, line buffers of 24 words.
fn cfg() -> DscConfig {
    let e = EngineConfig::new(3, 2, 2, 3, 12, 12, 8).unwrap().with_max_line_words(LINE_WORDS).unwrap();
    let a = SystolicConfig::new(2, 3, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
    let pw = PointwiseConfig::new(a, 8, MAX_N, 4).unwrap().with_max_weights(MAX_WEIGHTS).unwrap();
    DscConfig::new(e, pw).unwrap()
}

fn engine() -> EngineSim {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let c = cfg();
    let sim = EngineSim::build(c.engine(), c.pointwise(), None).unwrap();
    let (secs, cached) = sim.build_info();
    eprintln!("tiled DscEngine: built in {secs:.1} s (cached: {cached})");
    sim
}

/// Presents `writes` back to back (one per cycle; the last a START), then checks the verdict:
/// refused — `error` set, nothing running, cleared with a write to `clear`; taken — the engine
/// busy waiting for input, abandoned by a reset.
fn check_start(m: &mut dsc_sim::Model, writes: &[(u32, u32)], clear: u32, refused: bool, what: &str) {
    for &(a, d) in writes {
        dsc_sim::config_port::write(m, a, d).unwrap();
    }
    dsc_sim::config_port::settle(m);
    if refused {
        assert_eq!(m.get("error").unwrap(), 1, "{what}: START accepted");
        assert_eq!(m.get("busy").unwrap(), 0, "{what}: a refused START runs nothing");
        dsc_sim::config_port::write_settled(m, clear, 0).unwrap();
    } else {
        assert_eq!(m.get("error").unwrap(), 0, "{what}: START refused");
        assert_eq!(m.get("busy").unwrap(), 1, "{what}: the layer waits for input");
        m.set("reset", 1).unwrap();
        m.tick();
        m.set("reset", 0).unwrap();
        for _ in 0..10_000 {
            if m.get("busy").unwrap() == 0 {
                break;
            }
            m.tick();
        }
        assert_eq!(m.get("busy").unwrap(), 0, "{what}: busy after reset");
    }
    assert_eq!(m.get("error").unwrap(), 0, "{what}");
}

/// A random layer `h × w × m → n` with random weights and requantization.
fn layer(rng: &mut ChaCha8Rng, case: usize, [h, w, m, n]: [usize; 4], stride: usize) -> (DscBlock, Tensor<i8>) {
    let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| int8(rng)).unwrap();
    let dw_w = Tensor::from_fn([1, 3, 3, m], |_, _, _, _| int8(rng)).unwrap();
    let pw_w = Tensor::from_fn([n, 1, 1, m], |_, _, _, _| int8(rng)).unwrap();
    let dw_rq = requant(rng, m, case, (-10, -6), 5000);
    let pw_rq = requant(rng, n, case / 3, (-11, -7), 5000);
    (DscBlock::new(int8(rng) as i32, stride, dw_w, dw_rq, pw_w, pw_rq).unwrap(), input)
}

/// Random layers with N up to 20 (1 to 4 tiles, of 12 channels for M ≤ 4 and 6 for M ≤ 8) and
/// rows up to the 24 words: the concatenated tiles equal `DscBlock::run` of the whole layer,
/// the summed cycles the tiled model.
#[test]
fn n_tiled_layers_bit_exact_and_cycle_exact() {
    let mut sim = engine();
    let c = cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0x71_1ED);
    let mut multi = 0;
    for case in 0..40 {
        let m = 2 * rng.gen_range(1..=4);
        let w = rng.gen_range(1..=(LINE_WORDS / (m / 2)).min(12));
        let h = rng.gen_range(1..=12);
        let tile = c.pointwise().max_n_for(m);
        assert_eq!(tile, if m <= 4 { 12 } else { 6 });
        let n = if case % 4 == 0 { rng.gen_range(1..=tile) } else { rng.gen_range(tile + 1..=20) };
        let stride = 1 + case % 2;
        let (block, input) = layer(&mut rng, case, [h, w, m, n], stride);
        let ctx = format!("case {case}: {h}×{w}×{m} → {n} stride {stride}");
        let stalls = (case % 5 == 1).then_some(case as u64);
        let got = sim.run_dsc_tiled(&block, &input, stalls).unwrap();
        assert_eq!(got.output, block.run(&input).unwrap(), "{ctx}: output differs from the untiled golden model");
        let tl = dsc_tiled_layer(&c, h, w, m, n, stride).unwrap();
        assert_eq!(got.tiles, n.div_ceil(tile), "{ctx}");
        assert_eq!(got.tiles, tl.count(), "{ctx}");
        if stalls.is_none() {
            assert_eq!(got.cycles, dsc_tiled_cycles(&c, &tl), "{ctx}: cycles measured vs model");
        } else {
            assert!(got.cycles >= dsc_tiled_cycles(&c, &tl), "{ctx}: faster than the model under stalls");
        }
        multi += usize::from(got.tiles >= 2);
    }
    assert!(multi >= 20, "{multi} layers in two tiles or more");
    // One pass of a layer that fits is the untiled run.
    let (block, input) = layer(&mut rng, 1, [5, 6, 4, MAX_N], 1);
    let got = sim.run_dsc_tiled(&block, &input, None).unwrap();
    assert_eq!((got.tiles, got.cycles), (1, dsc_cycles(&c, &c.layer(5, 6, 4, MAX_N, 1).unwrap())));
}

/// A layer of more weight tiles than the memory holds: the host refuses it untiled, naming the
/// numbers; the hardware refuses START when `MT·NT > 8` for the sizes written last, in either
/// order and back to back with START, and takes `MT·NT ≤ 8`.
#[test]
fn layers_beyond_the_weight_memory_are_refused() {
    let mut sim = engine();
    let mut rng = ChaCha8Rng::seed_from_u64(0x3E16);
    let (block, input) = layer(&mut rng, 5, [4, 4, 8, 9], 1);
    let err = sim.run_dsc(&block, &input, None).unwrap_err();
    assert!(matches!(err, EngineSimError::Layer(_)), "{err}");
    assert!(err.to_string().contains("12 weight tiles of R×C = 2×3 exceed the weight memory's 8"), "{err}");
    let got = sim.run_dsc_tiled(&block, &input, None).unwrap();
    assert_eq!((got.tiles, &got.output), (2, &block.run(&input).unwrap()));
    // Pointwise registers (stage 1 of the fused port): MT (index 0), NT (1), pixels (2),
    // block (3), START (8).
    let pw = |i: u32| 0x1000_0000 | i;
    for (first, second, refused) in [
        ((0, 4), (1, 3), true),
        ((1, 3), (0, 3), true),
        ((0, 4), (1, 2), false),
        ((1, 4), (0, 2), false),
        ((1, 1), (0, 4), false),
    ] {
        let what = format!("index {} = {}, then index {} = {}", first.0, first.1, second.0, second.1);
        let writes = [(pw(2), 1), (pw(3), 1), (pw(first.0), first.1), (pw(second.0), second.1), (pw(8), 0)];
        check_start(sim.model(), &writes, pw(9), refused, &what);
    }
    let got = sim.run_dsc_tiled(&block, &input, None).unwrap();
    assert_eq!(got.output, block.run(&input).unwrap(), "after the refusals");
}

/// Rows of `W · G` words: 12 · 2 and 6 · 4 (= 24) run; 12 · 4 and 7 · 4 are refused by the
/// host with the numbers named, and by the hardware at START (the `error` flag) when the
/// writes come from a host that does not check; the engine runs on afterwards.
#[test]
fn rows_beyond_max_line_words_are_refused() {
    let mut sim = engine();
    let mut rng = ChaCha8Rng::seed_from_u64(0x11_4E5);
    for shape in [[3, 12, 4, 7], [12, 6, 8, 8]] {
        let (block, input) = layer(&mut rng, 2, shape, 2);
        let got = sim.run_dsc_tiled(&block, &input, None).unwrap();
        assert_eq!(got.output, block.run(&input).unwrap(), "{shape:?}");
    }
    for ([h, w, m, n], words) in [([4, 12, 8, 3], 48), ([2, 7, 8, 9], 28)] {
        let (block, input) = layer(&mut rng, 3, [h, w, m, n], 1);
        let err = sim.run_dsc_tiled(&block, &input, None).unwrap_err();
        assert!(matches!(err, EngineSimError::Layer(_)), "{err}");
        let want = format!("W · ⌈M/P⌉ = {w} · {} = {words} words exceeds max_line_words = {LINE_WORDS}", m / 2);
        assert!(err.to_string().contains(&want), "{err}");
    }
    // The hardware: H, W, G written back to back (one per cycle), then START.
    let reg = |i| cfg_addr(0, i);
    for (w, g, refused) in [(12, 4, true), (7, 4, true), (12, 2, false), (6, 4, false)] {
        let writes = [(reg(0), 3), (reg(1), w), (reg(2), g), (reg(CFG_START), 0)];
        check_start(sim.model(), &writes, reg(CFG_CLEAR_ERROR), refused, &format!("W {w} · G {g}"));
    }
    let (block, input) = layer(&mut rng, 4, [6, 6, 8, 10], 1);
    let got = sim.run_dsc_tiled(&block, &input, None).unwrap();
    assert_eq!(got.output, block.run(&input).unwrap(), "after the refusals");
}
