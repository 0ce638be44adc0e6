//! dsc-hw's WideWindow (`Q` = 2, 4, 8 and 16 input pixels per beat) in Verilator: the windows
//! of the golden model (`extract_windows`) under random stalls on both streams, for random
//! layers (stride 1 and 2, odd and even sizes, widths that `Q` does not divide, 1–3 channel
//! groups); without stalls, the last window in exactly the cycle `dsc_model::wide_window`
//! predicts.

mod common;

use common::window::*;
use common::*;
use dsc_hw::window::WideWindow;
use dsc_model::engine_config::EngineConfig;
use dsc_model::wide_window::last_window_cycle;
use dsc_model::window::WindowLayer;
use dsc_sim::stream::{run_until, step};
use dsc_sim::{Dut, Received, StreamSink, StreamSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 3×3 window, P = 2 lanes, images up to 9×9×6; 32-bit (Q = 2), 64-bit (Q = 4) or 128-bit
/// (Q = 8) input beats.
type Wide2 = WideWindow<16, 32, 144, 4, 2, 4>;
type Wide4 = WideWindow<16, 64, 144, 3, 2, 4>;
type Wide8 = WideWindow<16, 128, 144, 3, 2, 4>;
/// Q = 16 (256-bit beats) needs rows of 16 pixels or more: images up to 9×20×6.
type Wide16 = WideWindow<16, 256, 144, 3, 2, 5>;

fn cfg(q: usize) -> EngineConfig {
    let max_width = if q > 9 { 20 } else { 9 };
    EngineConfig::new(3, 2, 1, 1, max_width, 9, 6).unwrap().with_pixels_per_beat(q).unwrap()
}

/// One frame: start, stream the image in, collect every window, then 10 idle cycles in which
/// nothing more may come out. Windows with their cycles counted from "cycle 0 after start".
fn run_frame(dut: &mut impl Dut, layer: &WindowLayer, q: usize, x: &dsc_model::Tensor<i8>, zp: i8, stalls: (f64, f64, u64)) -> Vec<Received> {
    let (src_stall, sink_stall, seed) = stalls;
    let c0 = start_frame(dut, layer, zp);
    let mut src = StreamSource::new(dut, "inp", src_stall, seed).unwrap();
    let mut sink = StreamSink::new(dut, "out", sink_stall, seed ^ 0x5eed).unwrap();
    src.extend(wide_input_beats(layer, x, q, (seed as i8).wrapping_mul(37)));
    let n = layer.window_count();
    run_until(dut, &mut [&mut src], &mut sink, n, 50 * layer.scan_positions() as u64 + 200).unwrap();
    for _ in 0..10 {
        step(dut, &mut [&mut src], &mut [&mut sink]).unwrap();
    }
    assert!(src.is_done(), "every input beat consumed");
    assert_eq!(sink.received().len(), n, "no extra windows");
    let mut get = |name: &str| {
        let id = dut.port_id(name).unwrap();
        dut.get_id(id).unwrap()
    };
    assert_eq!((get("busy"), get("last_error")), (0, 0), "idle, no tlast error: {layer:?}");
    sink.received()
        .iter()
        .map(|r| Received { cycle: r.cycle - c0, beat: r.beat.clone() })
        .collect()
}

fn check(q: usize, compiled: &dsc_sim::Compiled, seed: u64) {
    let cfg = cfg(q);
    let wc = cfg.window();
    let mut v = compiled.model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layers = vec![(9, 9, 6, 1), (9, 8, 2, 2), (1, 1, 2, 1), (2, 7, 4, 2), (5, 4, 2, 2), (4, 1, 4, 1), (3, 2, 2, 1), (7, 9, 2, 2), (8, 6, 6, 2)];
    let max_width = wc.max_width();
    if max_width > 9 {
        // Rows of one full word, of a word and a bit, of two full words (Q = 16 at 17, 20).
        layers.extend([(5, 16, 2, 1), (6, 16, 4, 2), (4, 17, 2, 1), (5, 17, 2, 2), (9, 20, 6, 1), (8, 20, 2, 2)]);
    }
    for _ in 0..16 {
        layers.push((rng.gen_range(1..=9), rng.gen_range(1..=max_width), 2 * rng.gen_range(1..=3), rng.gen_range(1..=2)));
    }
    for (i, &(hh, ww, m, s)) in layers.iter().enumerate() {
        let layer = wc.layer(hh, ww, m, s).unwrap();
        let x = random_image(&mut rng, hh, ww, m);
        let zp: i8 = rng.gen();
        let want = golden_beats(&layer, &x, zp);
        // No stalls: every window, the last one in the predicted cycle (first beat taken in
        // cycle 1 after start, the window register one cycle after the reader emits).
        let got = run_frame(&mut v, &layer, q, &x, zp, (0.0, 0.0, i as u64));
        let beats: Vec<_> = got.iter().map(|r| r.beat.clone()).collect();
        assert_eq!(beats, want, "Q = {q}, no stalls: {layer:?} zp {zp}");
        assert_eq!(got.last().unwrap().cycle, 1 + last_window_cycle(&layer, q) + 1, "Q = {q}: last window cycle, {layer:?}");
        let stalls = STALLS[i % STALLS.len()];
        let got = run_frame(&mut v, &layer, q, &x, zp, stalls);
        let beats: Vec<_> = got.iter().map(|r| r.beat.clone()).collect();
        assert_eq!(beats, want, "Q = {q}: {layer:?} zp {zp} stalls {stalls:?}");
    }
}

#[test]
fn q2_windows_match_golden_model_and_cycle_model() {
    check(2, &compile("wide_window_q2", Wide2::new(&cfg(2)).unwrap()), 61);
}

#[test]
fn q4_windows_match_golden_model_and_cycle_model() {
    check(4, &compile("wide_window_q4", Wide4::new(&cfg(4)).unwrap()), 62);
}

#[test]
fn q8_windows_match_golden_model_and_cycle_model() {
    check(8, &compile("wide_window_q8", Wide8::new(&cfg(8)).unwrap()), 63);
}

#[test]
fn q16_windows_match_golden_model_and_cycle_model() {
    check(16, &compile("wide_window_q16", Wide16::new(&cfg(16)).unwrap()), 64);
}

#[test]
fn widths_disagreeing_with_the_config_are_errors() {
    assert!(Wide2::new(&cfg(4)).is_err());
    assert!(Wide4::new(&cfg(2)).is_err());
    assert!(Wide8::new(&cfg(4)).is_err());
    assert!(Wide16::new(&cfg(8)).is_err());
    assert!(Wide2::new(&EngineConfig::new(3, 2, 1, 1, 9, 9, 6).unwrap()).is_err());
}
