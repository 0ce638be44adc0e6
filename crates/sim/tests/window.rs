//! dsc-hw's SlidingWindow co-simulated in Verilator: the same windows, in the same cycles, as
//! rust-hdl's simulator, and the windows of the golden model (`extract_windows`), under random
//! stalls on both streams, for random layers (stride 1 and 2, odd and even sizes, 1–3 channel
//! groups), also with packed history; without stalls, the exact cycle of every window from the
//! block's timing rule.

mod common;

use common::window::*;
use common::*;
use dsc_hw::window::SlidingWindow;
use dsc_model::window::{WindowConfig, WindowLayer};
use dsc_sim::stream::{run_until, step};
use dsc_sim::{Dut, Received, StreamSink, StreamSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 3×3 window, P = 2 lanes, images up to 9×9×6: 16-bit beats, 144-bit windows (wider than
/// 128 bits, so they travel as words).
type Small3 = SlidingWindow<16, 144, 5, 2, 4, 3>;

fn small3() -> WindowConfig {
    WindowConfig::new(3, 9, 9, 2, 6).unwrap()
}

/// One frame: start, stream the image in, collect every window, then 10 idle cycles in which
/// nothing more may come out. Returns the windows with their cycles counted from "cycle 0
/// after start".
fn run_frame(dut: &mut impl Dut, layer: &WindowLayer, x: &dsc_model::Tensor<i8>, zp: i8, stalls: (f64, f64, u64)) -> Vec<Received> {
    let (src_stall, sink_stall, seed) = stalls;
    let c0 = start_frame(dut, layer, zp);
    let mut src = StreamSource::new(dut, "inp", src_stall, seed).unwrap();
    let mut sink = StreamSink::new(dut, "out", sink_stall, seed ^ 0x5eed).unwrap();
    src.extend(input_beats(layer, x));
    let n = layer.window_count();
    run_until(dut, &mut [&mut src], &mut sink, n, 50 * layer.scan_positions() as u64 + 100).unwrap();
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

#[test]
fn window_matches_rust_hdl_and_golden_model_under_stalls() {
    let cfg = small3();
    let compiled = compile("window_small3", Small3::new(&cfg).unwrap());
    let mut rng = ChaCha8Rng::seed_from_u64(44);
    // One Verilator instance and one rust-hdl instance run every frame back to back.
    let mut v = compiled.model().unwrap();
    let mut h = window_hdl(Small3::new(&cfg).unwrap());
    let mut layers = vec![(9, 9, 6, 1), (9, 8, 2, 2), (1, 1, 2, 1), (2, 7, 4, 2), (5, 4, 2, 2), (4, 1, 4, 1), (3, 2, 2, 1)];
    for _ in 0..5 {
        layers.push((rng.gen_range(1..=9), rng.gen_range(1..=9), 2 * rng.gen_range(1..=3), rng.gen_range(1..=2)));
    }
    for (i, &(hh, ww, m, s)) in layers.iter().enumerate() {
        let layer = cfg.layer(hh, ww, m, s).unwrap();
        let x = random_image(&mut rng, hh, ww, m);
        let zp: i8 = rng.gen();
        let want = golden_beats(&layer, &x, zp);
        let stalls = STALLS[i % STALLS.len()];
        let got_v = run_frame(&mut v, &layer, &x, zp, stalls);
        let got_h = run_frame(&mut h, &layer, &x, zp, stalls);
        let beats: Vec<_> = got_v.iter().map(|r| r.beat.clone()).collect();
        assert_eq!(beats, want, "Verilator vs golden model: {layer:?} zp {zp} stalls {stalls:?}");
        assert_eq!(got_v, got_h, "Verilator vs rust-hdl: {layer:?} zp {zp} stalls {stalls:?}");
    }
}

/// Packed history (one RAM word per row for its `Dk − 1` columns): in Verilator the same
/// windows in the same cycles as the unpacked block in rust-hdl, and the golden model's
/// windows, under random stalls.
#[test]
fn packed_history_window_matches_the_unpacked_block_and_golden_model() {
    let cfg = small3();
    check_against_default_block("window_small3_packed", Small3::new(&cfg).unwrap().with_packed_history(true), 46);
}

/// The RAMs written in the position's own cycle (`[engine] ram_regs = false`, the UP5K's
/// choice): the same windows in the same cycles as the default block (writes an edge late).
#[test]
fn window_without_write_regs_matches_the_default_block_and_golden_model() {
    let cfg = small3();
    check_against_default_block("window_small3_no_write_regs", Small3::new(&cfg).unwrap().with_write_regs(false), 47);
}

/// `variant` in Verilator against the default block in rust-hdl and the golden model, frame
/// after frame under random stalls.
fn check_against_default_block(name: &str, variant: Small3, seed: u64) {
    let cfg = small3();
    let compiled = compile(name, variant);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = compiled.model().unwrap();
    let mut h = window_hdl(Small3::new(&cfg).unwrap());
    let mut layers = vec![(9, 9, 6, 1), (9, 8, 2, 2), (1, 1, 2, 1), (2, 7, 4, 2), (4, 1, 4, 1), (3, 2, 2, 1), (4, 1, 2, 1)];
    for _ in 0..6 {
        layers.push((rng.gen_range(1..=9), rng.gen_range(1..=9), 2 * rng.gen_range(1..=3), rng.gen_range(1..=2)));
    }
    for (i, &(hh, ww, m, s)) in layers.iter().enumerate() {
        let layer = cfg.layer(hh, ww, m, s).unwrap();
        let x = random_image(&mut rng, hh, ww, m);
        let zp: i8 = rng.gen();
        let want = golden_beats(&layer, &x, zp);
        let stalls = STALLS[i % STALLS.len()];
        let got_v = run_frame(&mut v, &layer, &x, zp, stalls);
        let got_h = run_frame(&mut h, &layer, &x, zp, stalls);
        let beats: Vec<_> = got_v.iter().map(|r| r.beat.clone()).collect();
        assert_eq!(beats, want, "{name}, Verilator vs golden model: {layer:?} zp {zp} stalls {stalls:?}");
        assert_eq!(got_v, got_h, "{name} Verilator vs default rust-hdl block: {layer:?} zp {zp} stalls {stalls:?}");
    }
}

/// Without stalls the window of scan position `n` leaves in cycle `n + 2` after `start`
/// (dsc-hw's timing rule), with the positions of `WindowLayer::emit_positions`: at stride 1
/// one window per cycle from the first to the last, no cycle for padding.
#[test]
fn window_no_stall_cycles_follow_the_timing_rule() {
    let cfg = small3();
    let compiled = compile("window_small3", Small3::new(&cfg).unwrap());
    let mut v = compiled.model().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(45);
    for &(hh, ww, m, s) in &[(5, 7, 4, 1), (6, 6, 2, 2), (7, 5, 6, 2), (9, 9, 6, 1), (4, 1, 2, 1), (3, 2, 2, 1)] {
        let layer = cfg.layer(hh, ww, m, s).unwrap();
        let x = random_image(&mut rng, hh, ww, m);
        let got = run_frame(&mut v, &layer, &x, 3, (0.0, 0.0, 0));
        let want: Vec<u64> = layer.emit_positions().map(|n| n + 2).collect();
        assert_eq!(*want.last().unwrap() as usize, layer.scan_positions() + 1);
        let cycles: Vec<u64> = got.iter().map(|r| r.cycle).collect();
        assert_eq!(cycles, want, "{layer:?}");
        if s == 1 && ww >= 2 {
            assert_eq!(cycles.last().unwrap() - cycles[0] + 1, cycles.len() as u64, "{layer:?}");
        }
    }
}

/// The default window (3×3, P = 8, up to 112×112×64): 64-bit beats in, 576-bit windows out.
#[test]
fn default_window_576_bit_windows_match_rust_hdl_and_golden_model() {
    use dsc_hw::window::DefaultWindow;
    let cfg = WindowConfig::new(3, 112, 112, 8, 64).unwrap();
    let compiled = compile("window_default", DefaultWindow::new(&cfg).unwrap());
    let mut v = compiled.model().unwrap();
    let mut h = window_hdl(DefaultWindow::new(&cfg).unwrap());
    let mut rng = ChaCha8Rng::seed_from_u64(46);
    for (i, &(hh, ww, m, s)) in [(6, 9, 16, 1), (7, 6, 8, 2)].iter().enumerate() {
        let layer = cfg.layer(hh, ww, m, s).unwrap();
        let x = random_image(&mut rng, hh, ww, m);
        let zp: i8 = rng.gen();
        let stalls = STALLS[1 + i];
        let got_v = run_frame(&mut v, &layer, &x, zp, stalls);
        let got_h = run_frame(&mut h, &layer, &x, zp, stalls);
        let beats: Vec<_> = got_v.iter().map(|r| r.beat.clone()).collect();
        assert_eq!(beats, golden_beats(&layer, &x, zp), "Verilator vs golden model: {layer:?}");
        assert_eq!(got_v, got_h, "Verilator vs rust-hdl: {layer:?}");
    }
}
