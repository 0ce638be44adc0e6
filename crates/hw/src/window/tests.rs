//! SlidingWindow against the golden model (`dsc_model::window::extract_windows`), under random
//! stalls; its exact no-stall timing; and the generated Verilog through lint, Icarus and yosys.

use super::*;
use crate::stream::testbench::{Beat, Stalls};
use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
use dsc_model::window::extract_windows;
use dsc_model::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Packs int8 values, the first at bit 0.
fn pack<const N: usize>(bytes: &[i8]) -> Bits<N> {
    let mut b = Bits::<N>::default();
    for (i, &v) in bytes.iter().enumerate() {
        for k in 0..8 {
            b = b.replace_bit(8 * i + k, (v as u8 >> k) & 1 == 1);
        }
    }
    b
}

fn unpack<const N: usize>(b: Bits<N>) -> Vec<i8> {
    (0..N / 8)
        .map(|i| b.get_bits::<8>(8 * i).to_u8() as i8)
        .collect()
}

/// The input stream of `x`: pixels in raster order, `G` beats per pixel, `tlast` on the last.
fn input_beats<const B: usize>(layer: &WindowLayer, x: &Tensor<i8>) -> Vec<Beat<B>> {
    let p = layer.lanes;
    let mut beats = vec![];
    for y in 0..layer.height {
        for xx in 0..layer.width {
            let px = x.pixel(0, y, xx).unwrap();
            for g in 0..layer.groups {
                beats.push((pack::<B>(&px[g * p..(g + 1) * p]), false));
            }
        }
    }
    beats.last_mut().unwrap().1 = true;
    beats
}

/// Random int8 image with extra −128 and 127.
fn random_image(rng: &mut ChaCha8Rng, h: usize, w: usize, m: usize) -> Tensor<i8> {
    Tensor::from_fn([1, h, w, m], |_, _, _, _| match rng.gen_range(0..6) {
        0 => -128,
        1 => 127,
        _ => rng.gen(),
    })
    .unwrap()
}

type Win<
    const B: usize,
    const W: usize,
    const L: usize,
    const G: usize,
    const C: usize,
    const K: usize,
> = SlidingWindow<B, W, L, G, C, K>;

/// One clock cycle with `start` high.
fn pulse_start<
    const B: usize,
    const W: usize,
    const L: usize,
    const G: usize,
    const C: usize,
    const K: usize,
>(
    uut: &mut Win<B, W, L, G, C, K>,
) {
    uut.start.next = true;
    uut.clock.next = Clock::from(false);
    assert!(simulate(uut, 200));
    uut.clock.next = Clock::from(true);
    assert!(simulate(uut, 200));
    uut.clock.next = Clock::from(false);
    uut.start.next = false;
    assert!(simulate(uut, 200));
}

/// What one drive of the block produced.
struct Frame<const W: usize> {
    out: Vec<Beat<W>>,
    /// Cycle (after `start`) of each output beat.
    out_cycles: Vec<usize>,
    /// Cycles simulated.
    cycles: usize,
    /// Input beats consumed.
    consumed: usize,
}

/// Steps `uut` cycle by cycle: offers `beats` with seeded random `tvalid` gaps, applies seeded
/// random `tready`, checks the output holds while stalled, and stops when every beat was
/// consumed and the block is idle, after `stop_after` windows, or after `max` cycles.
fn drive<
    const B: usize,
    const W: usize,
    const L: usize,
    const G: usize,
    const C: usize,
    const K: usize,
>(
    uut: &mut Win<B, W, L, G, C, K>,
    beats: &[Beat<B>],
    stalls: Stalls,
    stop_after: usize,
    max: usize,
) -> Frame<W> {
    let mut rng = ChaCha8Rng::seed_from_u64(stalls.seed);
    let mut f = Frame {
        out: vec![],
        out_cycles: vec![],
        cycles: 0,
        consumed: 0,
    };
    let mut offering = false;
    let mut held: Option<Beat<W>> = None;
    for cycle in 0..max {
        assert!(simulate(uut, 200), "combinational logic did not settle");
        if (f.consumed == beats.len() && !uut.busy.val()) || f.out.len() >= stop_after {
            break;
        }
        f.cycles = cycle + 1;
        if !offering && f.consumed < beats.len() {
            offering = rng.gen_bool(stalls.p_valid);
        }
        let (d, l) = if offering {
            beats[f.consumed]
        } else {
            Default::default()
        };
        uut.inp.tvalid.next = offering;
        uut.inp.tdata.next = d;
        uut.inp.tlast.next = l;
        uut.out.tready.next = rng.gen_bool(stalls.p_ready);
        assert!(simulate(uut, 200), "combinational logic did not settle");
        let ob = (uut.out.tdata.val(), uut.out.tlast.val());
        let (ov, or) = (uut.out.tvalid.val(), uut.out.tready.val());
        if let Some(h) = held {
            assert!(ov && ob == h, "cycle {cycle}: output changed while stalled");
        }
        held = (ov && !or).then_some(ob);
        if ov && or {
            f.out.push(ob);
            f.out_cycles.push(cycle);
        }
        if offering && uut.inp.tready.val() {
            f.consumed += 1;
            offering = false;
        }
        uut.clock.next = Clock::from(true);
        assert!(simulate(uut, 200));
        uut.clock.next = Clock::from(false);
    }
    f
}

/// Runs one frame of `x` through `uut` and checks it against the model: every window, in
/// order, nothing lost or extra, `tlast` only on the last, every beat consumed, idle after.
fn run_frame<
    const B: usize,
    const W: usize,
    const L: usize,
    const G: usize,
    const C: usize,
    const K: usize,
>(
    uut: &mut Win<B, W, L, G, C, K>,
    layer: &WindowLayer,
    x: &Tensor<i8>,
    zp: i8,
    stalls: Stalls,
) -> Frame<W> {
    let want = extract_windows(layer, x, zp).unwrap();
    let beats = input_beats::<B>(layer, x);
    uut.set_layer(layer, zp);
    pulse_start(uut);
    let max = 20 * layer.scan_positions() + 100;
    let f = drive(uut, &beats, stalls, usize::MAX, max);
    let ctx = format!("{layer:?} zp {zp} {stalls:?}");
    assert!(f.cycles < max, "frame did not finish: {ctx}");
    assert_eq!(f.consumed, beats.len(), "beats consumed: {ctx}");
    assert_eq!(f.out.len(), want.len(), "windows out: {ctx}");
    for (n, ((data, last), w)) in f.out.iter().zip(&want).enumerate() {
        assert_eq!(
            unpack::<W>(*data),
            w.taps,
            "window {n} (oy {} ox {} g {}): {ctx}",
            w.out_row,
            w.out_col,
            w.group
        );
        assert_eq!(*last, n + 1 == want.len(), "tlast of window {n}: {ctx}");
    }
    assert!(
        !uut.out.tvalid.val() && !uut.inp.tready.val(),
        "not idle: {ctx}"
    );
    assert!(!uut.last_error.val(), "tlast flagged: {ctx}");
    f
}

fn new_uut<
    const B: usize,
    const W: usize,
    const L: usize,
    const G: usize,
    const C: usize,
    const K: usize,
>(
    cfg: &WindowConfig,
) -> Win<B, W, L, G, C, K> {
    let mut u = Win::<B, W, L, G, C, K>::new(cfg).unwrap();
    u.connect_all();
    u
}

/// 3×3, P = 2, up to 9×9×6: the random layers of the checks.
type Small3 = SlidingWindow<16, 144, 5, 2, 4, 3>;
fn small3() -> WindowConfig {
    WindowConfig::new(3, 9, 9, 2, 6).unwrap()
}

#[test]
fn dk3_random_layers_with_random_stalls_match_the_model() {
    let cfg = small3();
    let mut uut: Small3 = new_uut(&cfg);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    // Fixed corner cases first (sizes below Dk, odd/even, G = 1), then random ones.
    let mut cases = vec![
        (1, 1, 2, 1),
        (1, 1, 2, 2),
        (2, 3, 4, 2),
        (4, 4, 2, 2),
        (3, 5, 6, 1),
        (9, 9, 6, 1),
        (9, 9, 6, 2),
    ];
    for n in 0..14 {
        let h = rng.gen_range(3..=9);
        let w = rng.gen_range(3..=9);
        cases.push((h, w, 2 * rng.gen_range(1..=3), 1 + n % 2));
    }
    for (n, &(h, w, m, s)) in cases.iter().enumerate() {
        let layer = cfg.layer(h, w, m, s).unwrap();
        let x = random_image(&mut rng, h, w, m);
        let zp: i8 = if n == 1 { -128 } else { rng.gen() };
        let stalls = Stalls {
            p_valid: rng.gen_range(0.3..1.0),
            p_ready: rng.gen_range(0.3..1.0),
            seed: n as u64,
        };
        run_frame(&mut uut, &layer, &x, zp, stalls);
    }
}

/// 5×5, P = 1: two line buffers more and two padding rows/columns per side; widths below
/// `half = 2` (rows padded to `half` scan columns).
#[test]
fn dk5_matches_the_model_with_stalls() {
    let cfg = WindowConfig::new(5, 8, 8, 1, 2).unwrap();
    let mut uut: SlidingWindow<8, 200, 4, 1, 4, 5> = new_uut(&cfg);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (n, &(h, w, m, s)) in [(5, 6, 2, 1), (6, 5, 1, 2), (7, 8, 2, 2), (2, 3, 1, 1), (4, 1, 2, 1), (3, 1, 1, 2), (2, 2, 1, 2)]
        .iter()
        .enumerate()
    {
        let layer = cfg.layer(h, w, m, s).unwrap();
        let x = random_image(&mut rng, h, w, m);
        let stalls = Stalls {
            p_valid: 0.7,
            p_ready: 0.6,
            seed: 50 + n as u64,
        };
        run_frame(&mut uut, &layer, &x, rng.gen(), stalls);
        let run = run_frame(&mut uut, &layer, &x, rng.gen(), Stalls::NONE);
        let want: Vec<usize> = layer.emit_positions().map(|n| n as usize + 2).collect();
        assert_eq!(run.out_cycles, want, "{layer:?}");
    }
}

/// Without stalls a position takes exactly one cycle: the window emitted at scan position
/// `n` (the model's `emit_positions`) leaves at cycle `n + 2` after `start` (one priming
/// cycle, one output register). At stride 1 that is one window per cycle from the first window
/// to the last: no cycle goes to padding.
#[test]
fn no_stall_timing_is_one_position_per_cycle() {
    let cfg = small3();
    let mut uut: Small3 = new_uut(&cfg);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for &(h, w, m, s) in &[(5, 7, 4, 1), (6, 6, 2, 2), (7, 5, 6, 2), (4, 9, 2, 1), (3, 1, 2, 1)] {
        let layer = cfg.layer(h, w, m, s).unwrap();
        let x = random_image(&mut rng, h, w, m);
        let run = run_frame(&mut uut, &layer, &x, rng.gen(), Stalls::NONE);
        let want: Vec<usize> = layer.emit_positions().map(|n| n as usize + 2).collect();
        assert_eq!(run.out_cycles, want, "{layer:?}");
        assert_eq!(*want.last().unwrap(), layer.scan_positions() + 1);
        if s == 1 && w >= 2 {
            // One unbroken burst of H·W·G windows (`W = 1` rows scan a padding column).
            let out = &run.out_cycles;
            assert_eq!(out.last().unwrap() - out[0] + 1, out.len(), "{layer:?}");
        }
    }
}

/// `start` in the middle of a frame abandons it; the next frame is right. Back-to-back frames
/// of different geometry need no other reset.
#[test]
fn start_aborts_a_frame_and_frames_follow_each_other() {
    let cfg = small3();
    let mut uut: Small3 = new_uut(&cfg);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let layer = cfg.layer(6, 6, 4, 1).unwrap();
    let x = random_image(&mut rng, 6, 6, 4);
    uut.set_layer(&layer, 3);
    pulse_start(&mut uut);
    let beats = input_beats::<16>(&layer, &x);
    // Take 10 windows, then abandon the frame.
    let f = drive(&mut uut, &beats, Stalls::NONE, 10, 200);
    assert_eq!(f.out.len(), 10);
    assert!(uut.busy.val());
    for &(h, w, m, s) in &[(5, 4, 6, 2), (3, 3, 2, 1)] {
        let layer = cfg.layer(h, w, m, s).unwrap();
        let x = random_image(&mut rng, h, w, m);
        run_frame(
            &mut uut,
            &layer,
            &x,
            rng.gen(),
            Stalls {
                p_valid: 0.8,
                p_ready: 0.8,
                seed: 4,
            },
        );
    }
}

#[test]
fn misplaced_input_tlast_sets_last_error() {
    let cfg = small3();
    let mut uut: Small3 = new_uut(&cfg);
    let layer = cfg.layer(3, 3, 2, 1).unwrap();
    let x = Tensor::filled([1, 3, 3, 2], 1i8).unwrap();
    let mut beats = input_beats::<16>(&layer, &x);
    beats[4].1 = true;
    uut.set_layer(&layer, 0);
    pulse_start(&mut uut);
    let f = drive(&mut uut, &beats, Stalls::NONE, usize::MAX, 100);
    assert_eq!(f.out.len(), 9);
    assert!(uut.last_error.val());
    pulse_start(&mut uut);
    assert!(!uut.last_error.val(), "start clears it");
}

#[test]
fn generics_that_disagree_with_the_config_are_an_error() {
    let e = Small3::new(&WindowConfig::new(3, 9, 9, 2, 8).unwrap())
        .err()
        .unwrap();
    assert!(e.to_string().contains("LADDR"), "{e}");
    let e = Small3::new(&WindowConfig::new(5, 9, 9, 2, 6).unwrap())
        .err()
        .unwrap();
    assert!(e.to_string().contains("WIN"), "{e}");
    assert!(DefaultWindow::new(&default_cfg()).is_ok());
}

/// `Dk = 1` is a valid model config (a 1×1 layer) but has no window to slide: a clear error.
#[test]
fn dk1_is_an_error() {
    let cfg = WindowConfig::new(1, 6, 6, 4, 8).unwrap();
    let e = SlidingWindow::<32, 32, 4, 1, 3, 1>::new(&cfg)
        .err()
        .unwrap();
    assert!(e.to_string().contains("Dk = 1"), "{e}");
}

/// The default: 3×3, width 112, 8 channels per beat (up to 64 channels).
fn default_cfg() -> WindowConfig {
    WindowConfig::new(3, 112, 112, 8, 64).unwrap()
}

fn lint_and_compile(v: &str) {
    if require_tool("verilator") {
        lint(v, "top").unwrap();
    }
    if require_tool("iverilog") {
        iverilog_compile(v).unwrap();
    }
}

/// The default window and the `Dk = 5` shape.
#[test]
fn verilog_lints_and_compiles() {
    lint_and_compile(&verilog_of(
        &mut DefaultWindow::new(&default_cfg()).unwrap(),
    ));
    let cfg = WindowConfig::new(5, 8, 8, 1, 2).unwrap();
    lint_and_compile(&verilog_of(
        &mut SlidingWindow::<8, 200, 4, 1, 4, 5>::new(&cfg).unwrap(),
    ));
}

/// No latches; the line buffers (2 × 896 × 64 bits) and the column history land in block
/// RAM. Prints the cell counts.
#[test]
fn default_window_synthesises_to_block_ram() {
    if !require_tool("yosys") {
        return;
    }
    let v = verilog_of(&mut DefaultWindow::new(&default_cfg()).unwrap());
    for t in [Target::Ice40, Target::Ecp5] {
        let s = yosys_stat(&v, "top", t).unwrap();
        eprintln!("SlidingWindow 3x3 W112 P8 M64: {s}");
        assert_eq!(s.latches(), 0, "{s}");
        // The two line buffers alone (896 × 64 bits each): iCE40 1024×4 → 16 per buffer,
        // ECP5 1024×18 → 4 per buffer; the column history adds RAM on top.
        let lb = if t == Target::Ice40 { 16 } else { 4 };
        assert!(s.brams() >= 2 * lb, "line buffers not in block RAM: {s}");
    }
}

/// rust-hdl simulation speed of the default window on a small frame (printed).
#[test]
fn default_window_simulation_speed() {
    let cfg = default_cfg();
    let mut uut: DefaultWindow = new_uut(&cfg);
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let layer = cfg.layer(16, 32, 16, 1).unwrap();
    let x = random_image(&mut rng, 16, 32, 16);
    let t0 = std::time::Instant::now();
    let run = run_frame(&mut uut, &layer, &x, rng.gen(), Stalls::NONE);
    let dt = t0.elapsed().as_secs_f64();
    eprintln!(
        "SlidingWindow 3x3 P8 rust-hdl sim: {} cycles in {dt:.2} s = {:.0} cycles/s",
        run.cycles,
        run.cycles as f64 / dt
    );
}

/// Packed history ([`SlidingWindow::with_packed_history`]): the model's windows, and without
/// stalls the same cycles (Dk 3 with 1–3 groups, Dk 5).
#[test]
fn packed_history_matches_the_model_with_stalls() {
    let cfg = small3();
    let mut uut: Small3 = Small3::new(&cfg).unwrap().with_packed_history(true);
    uut.connect_all();
    let mut rng = ChaCha8Rng::seed_from_u64(2025);
    for (n, &(h, w, m, s)) in [(1, 1, 2, 1), (2, 3, 4, 2), (9, 9, 6, 1), (9, 9, 6, 2), (5, 7, 4, 1), (4, 4, 2, 2)]
        .iter()
        .enumerate()
    {
        let layer = cfg.layer(h, w, m, s).unwrap();
        let x = random_image(&mut rng, h, w, m);
        let stalls = Stalls { p_valid: 0.6, p_ready: 0.7, seed: 90 + n as u64 };
        run_frame(&mut uut, &layer, &x, rng.gen(), stalls);
        let run = run_frame(&mut uut, &layer, &x, rng.gen(), Stalls::NONE);
        let want: Vec<usize> = layer.emit_positions().map(|n| n as usize + 2).collect();
        assert_eq!(run.out_cycles, want, "{layer:?}");
    }
    let cfg = WindowConfig::new(5, 8, 8, 1, 2).unwrap();
    let mut uut = SlidingWindow::<8, 200, 4, 1, 4, 5>::new(&cfg).unwrap().with_packed_history(true);
    uut.connect_all();
    for (n, &(h, w, m, s)) in [(5, 6, 2, 1), (7, 8, 2, 2), (2, 3, 1, 1)].iter().enumerate() {
        let layer = cfg.layer(h, w, m, s).unwrap();
        let x = random_image(&mut rng, h, w, m);
        run_frame(&mut uut, &layer, &x, rng.gen(), Stalls { p_valid: 0.7, p_ready: 0.6, seed: n as u64 });
    }
}

/// The iCE40 UP5K window (Dk 3, P = 1, 32×32×32): packing each row's two 8-bit history columns
/// into one word saves one SB_RAM40_4K per row (32 × 16 bits fit one 256 × 16 RAM); the
/// packed Verilog lints, also for Dk 5.
#[test]
fn packed_history_saves_a_block_ram_per_row() {
    let cfg = WindowConfig::new(3, 32, 32, 1, 32).unwrap();
    let mut packed = SlidingWindow::<8, 72, 10, 5, 6, 3>::new(&cfg).unwrap().with_packed_history(true);
    let v_packed = verilog_of(&mut packed);
    lint_and_compile(&v_packed);
    let cfg5 = WindowConfig::new(5, 8, 8, 1, 2).unwrap();
    lint_and_compile(&verilog_of(
        &mut SlidingWindow::<8, 200, 4, 1, 4, 5>::new(&cfg5).unwrap().with_packed_history(true),
    ));
    if !require_tool("yosys") {
        return;
    }
    let v_plain = verilog_of(&mut SlidingWindow::<8, 72, 10, 5, 6, 3>::new(&cfg).unwrap());
    let plain = yosys_stat(&v_plain, "top", Target::Ice40).unwrap();
    let packed = yosys_stat(&v_packed, "top", Target::Ice40).unwrap();
    eprintln!("UP5K window, separate history RAMs: {plain}\nUP5K window, packed history: {packed}");
    assert_eq!(packed.brams() + 3, plain.brams(), "{plain}\n{packed}");
    assert_eq!(packed.latches(), 0, "{packed}");
}
