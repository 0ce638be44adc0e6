//! Co-simulation speed: Verilator (through the dsc-sim harness) against rust-hdl's own
//! simulator on the same blocks, in clock cycles per second, plus the model build times.
//!
//! Blocks: dsc-hw's default SlidingWindow (3×3, P = 8, up to 112×112×64; 576-bit windows)
//! streaming a 8×16×16 frame with 20 % stalls on both streams; a 4×4 array of dsc-hw PEs
//! (rows of PEs) with random edge inputs; dsc-hw's 4×4 weight-stationary SystolicArray with
//! random activations and weight loads; the dsc-hw FIFO streaming. Each cycle of the "driven" figures sets every
//! input and reads every output through the harness, as a test does; "free" is `ticks(n)`
//! with inputs held, the model alone. The summary at the end prints the ratios.
//!
//! Run: `cargo bench -p dsc-sim --bench sim_throughput`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::pe_array::*;
use common::window::*;
use dsc_hw::systolic::SystolicArray;
use dsc_hw::window::DefaultWindow;
use dsc_model::window::{WindowConfig, WindowLayer};
use dsc_model::Tensor;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dsc_hw::stream::StreamFifo;
use dsc_model::systolic::Dataflow;
use dsc_sim::stream::step;
use dsc_sim::{build, BuildOptions, Design, Dut, StreamSink, StreamSource, Beat};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

const VERILATOR_CYCLES: u64 = 100_000;
const HDL_CYCLES: u64 = 300;

fn array_inputs() -> Vec<ArrayInputs> {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    (0..1024).map(|_| random_inputs(&mut rng, 0.2)).collect()
}

fn run_array(dut: &mut impl Dut, ports: &ArrayPorts, inputs: &[ArrayInputs], cycles: u64) -> i64 {
    let mut acc = 0i64;
    for n in 0..cycles as usize {
        ports.drive(dut, &inputs[n % inputs.len()]).unwrap();
        dut.tick().unwrap();
        acc = acc.wrapping_add(ports.read(dut).unwrap()[0].1);
    }
    acc
}

fn run_stream(dut: &mut impl Dut, cycles: u64) {
    let mut src = StreamSource::new(dut, "inp", 0.2, 1).unwrap();
    let mut sink = StreamSink::new(dut, "out", 0.2, 2).unwrap();
    src.extend((0..cycles).map(|i| Beat::new((i % 256) as u128, i % 16 == 15)));
    for _ in 0..cycles {
        step(dut, &mut [&mut src], &mut [&mut sink]).unwrap();
    }
}

/// Streams whole window frames (start pulse, image in, windows out) for `frames` frames;
/// returns the cycles run.
fn window_frames(dut: &mut impl Dut, layer: &WindowLayer, x: &Tensor<i8>, frames: usize) -> u64 {
    let c0 = dut.cycles();
    let n = layer.window_count();
    for f in 0..frames {
        start_frame(dut, layer, 5);
        let mut src = StreamSource::new(dut, "inp", 0.2, f as u64).unwrap();
        let mut sink = StreamSink::new(dut, "out", 0.2, 99 + f as u64).unwrap();
        src.extend(input_beats(layer, x));
        dsc_sim::stream::run_until(dut, &mut [&mut src], &mut sink, n, 1_000_000).unwrap();
        assert_eq!(sink.received().len(), n);
    }
    dut.cycles() - c0
}

/// dsc-hw's weight-stationary array, 4×4, 22-bit sums.
type Systolic4 = SystolicArray<22, 32, 32, 88>;

fn systolic4() -> Systolic4 {
    let cfg = dsc_model::systolic::SystolicConfig::new(4, 4, 22, 64, Dataflow::WeightStationary).unwrap();
    Systolic4::new(&cfg).unwrap()
}

fn systolic_hdl() -> dsc_sim::HdlDut<Systolic4> {
    dsc_sim::HdlDut::clocked(systolic4(), |b| &mut b.clock)
        .input_bits("a_in", |b| &b.a_in, |b| &mut b.a_in)
        .input("sw_in", 1, |b, v| b.sw_in.next = v != 0, |b| b.sw_in.val() as u128)
        .input("cap_in", 1, |b, v| b.cap_in.next = v != 0, |b| b.cap_in.val() as u128)
        .input_bits("w_in", |b| &b.w_in, |b| &mut b.w_in)
        .output_bits("psum_out", |b| &b.psum_out)
}

/// Tiles of 16 pixels back to back: `sw_in` on each tile's first pixel, the next tile's four
/// weight rows loaded from its fifth; random activations and weights. Returns a checksum.
fn run_systolic(dut: &mut impl Dut, cycles: u64) -> u128 {
    let p = |n: &str| dut.port_id(n).unwrap();
    let (a, sw, cap, w, out) = (p("a_in"), p("sw_in"), p("cap_in"), p("w_in"), p("psum_out"));
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut sum = 0u128;
    for n in 0..cycles {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = n % 16;
        dut.set_id(a, (x & 0xffff_ffff) as u128).unwrap();
        dut.set_id(sw, (t == 0) as u128).unwrap();
        dut.set_id(cap, (t == 4) as u128).unwrap();
        dut.set_id(w, (x >> 32) as u128).unwrap();
        dut.tick().unwrap();
        sum = sum.wrapping_add(dut.get_id(out).unwrap());
    }
    sum
}

fn cycles_per_second(cycles: u64, f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    cycles as f64 / t.elapsed().as_secs_f64()
}

fn fifo_hdl() -> dsc_sim::HdlDut<StreamFifo<8, 9, 4>> {
    dsc_sim::HdlDut::clocked(StreamFifo::<8, 9, 4>::new().unwrap(), |b| &mut b.clock)
        .stream_in("inp", |b| &b.inp, |b| &mut b.inp)
        .stream_out("out", |b| &b.out, |b| &mut b.out)
}

fn bench(c: &mut Criterion) {
    let mut summary = Vec::new();

    // Build times: an empty cache (model and Verilator runtime compiled), then the cache hit.
    let cfg = config(Dataflow::OutputStationary);
    let cold_cache = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bench-cold-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cold_cache);
    let opts = BuildOptions { cache_dir: Some(cold_cache.clone()), ..BuildOptions::default() };
    let design = Design::from_block("bench_pe_array4x4", &mut PeArray::new(&cfg)).unwrap();
    let cold = build(&design, &opts).unwrap();
    let cached = build(&design, &opts).unwrap();
    assert!(!cold.info().cached && cached.info().cached);
    let fifo_design = Design::from_block("bench_fifo", &mut StreamFifo::<8, 9, 4>::new().unwrap()).unwrap();
    let fifo = build(&fifo_design, &opts).unwrap();
    summary.push(format!(
        "build pe_array4x4 ({} Verilog lines): cold {:.2} s (empty cache, Verilator runtime included), cached {:.3} s; \
         fifo, new model with the runtime cached: {:.2} s",
        design.verilog.lines().count(),
        cold.info().seconds,
        cached.info().seconds,
        fifo.info().seconds
    ));

    // SlidingWindow.
    let wcfg = WindowConfig::new(3, 112, 112, 8, 64).unwrap();
    let layer = wcfg.layer(8, 16, 16, 1).unwrap();
    let x = random_image(&mut ChaCha8Rng::seed_from_u64(5), 8, 16, 16);
    let wdesign = Design::from_block("bench_window_default", &mut DefaultWindow::new(&wcfg).unwrap()).unwrap();
    let window = build(&wdesign, &opts).unwrap();
    summary.push(format!(
        "build SlidingWindow default ({} Verilog lines), runtime cached: {:.2} s",
        wdesign.verilog.lines().count(),
        window.info().seconds
    ));
    let frame_cycles = window_frames(&mut window.model().unwrap(), &layer, &x, 1);
    {
        // What is timed below is right: one frame checked against the golden windows.
        let mut m = window.model().unwrap();
        start_frame(&mut m, &layer, 5);
        let mut src = StreamSource::new(&m, "inp", 0.2, 0).unwrap();
        let mut sink = StreamSink::new(&m, "out", 0.2, 99).unwrap();
        src.extend(input_beats(&layer, &x));
        dsc_sim::stream::run_until(&mut m, &mut [&mut src], &mut sink, layer.window_count(), 1_000_000).unwrap();
        assert_eq!(sink.beats(), golden_beats(&layer, &x, 5));
    }
    let mut g = c.benchmark_group("window_default_8x16x16");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements(frame_cycles * 50));
    g.bench_function(BenchmarkId::new("verilator_driven", frame_cycles * 50), |b| {
        let mut m = window.model().unwrap();
        b.iter(|| window_frames(&mut m, &layer, &x, 50))
    });
    g.throughput(Throughput::Elements(frame_cycles));
    g.bench_function(BenchmarkId::new("rust_hdl", frame_cycles), |b| {
        let mut h = window_hdl(DefaultWindow::new(&wcfg).unwrap());
        b.iter(|| window_frames(&mut h, &layer, &x, 1))
    });
    g.finish();
    let mut m = window.model().unwrap();
    let t = Instant::now();
    let cyc = window_frames(&mut m, &layer, &x, 200);
    let v = cyc as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let free_cycles = 2_000_000;
    m.ticks(free_cycles);
    let free = free_cycles as f64 / t.elapsed().as_secs_f64();
    let mut h = window_hdl(DefaultWindow::new(&wcfg).unwrap());
    let t = Instant::now();
    let cyc = window_frames(&mut h, &layer, &x, 2);
    let r = cyc as f64 / t.elapsed().as_secs_f64();
    summary.push(format!(
        "SlidingWindow default, {frame_cycles}-cycle frames: Verilator {v:.0} cycles/s driven, {free:.0} cycles/s free (idle); \
         rust-hdl {r:.0} cycles/s; ratio {:.0}x driven, {:.0}x free",
        v / r,
        free / r
    ));
    drop(m);

    // dsc-hw SystolicArray 4×4 (weight-stationary).
    let sdesign = Design::from_block("bench_systolic4x4", &mut systolic4()).unwrap();
    let systolic = build(&sdesign, &opts).unwrap();
    summary.push(format!(
        "build SystolicArray 4x4 ({} Verilog lines), runtime cached: {:.2} s",
        sdesign.verilog.lines().count(),
        systolic.info().seconds
    ));
    assert_eq!(
        run_systolic(&mut systolic.model().unwrap(), 300),
        run_systolic(&mut systolic_hdl(), 300),
        "Verilator and rust-hdl agree on the benchmark's stimulus"
    );
    let mut g = c.benchmark_group("systolic4x4");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements(VERILATOR_CYCLES));
    g.bench_function(BenchmarkId::new("verilator_driven", VERILATOR_CYCLES), |b| {
        let mut m = systolic.model().unwrap();
        b.iter(|| run_systolic(&mut m, VERILATOR_CYCLES))
    });
    g.throughput(Throughput::Elements(HDL_CYCLES));
    g.bench_function(BenchmarkId::new("rust_hdl", HDL_CYCLES), |b| {
        let mut h = systolic_hdl();
        b.iter(|| run_systolic(&mut h, HDL_CYCLES))
    });
    g.finish();
    let mut sm = systolic.model().unwrap();
    let v = cycles_per_second(VERILATOR_CYCLES * 5, || {
        run_systolic(&mut sm, VERILATOR_CYCLES * 5);
    });
    let free = cycles_per_second(VERILATOR_CYCLES * 20, || sm.ticks(VERILATOR_CYCLES * 20));
    let mut sh = systolic_hdl();
    let r = cycles_per_second(HDL_CYCLES * 3, || {
        run_systolic(&mut sh, HDL_CYCLES * 3);
    });
    summary.push(format!(
        "SystolicArray 4x4: Verilator {v:.0} cycles/s driven, {free:.0} cycles/s free; rust-hdl {r:.0} cycles/s; \
         ratio {:.0}x driven, {:.0}x free",
        v / r,
        free / r
    ));
    drop(sm);

    let inputs = array_inputs();
    let mut g = c.benchmark_group("pe_array4x4");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements(VERILATOR_CYCLES));
    g.bench_function(BenchmarkId::new("verilator_driven", VERILATOR_CYCLES), |b| {
        let mut m = cached.model().unwrap();
        let ports = ArrayPorts::new(&m);
        b.iter(|| run_array(&mut m, &ports, &inputs, VERILATOR_CYCLES))
    });
    g.bench_function(BenchmarkId::new("verilator_free", VERILATOR_CYCLES), |b| {
        let mut m = cached.model().unwrap();
        let ports = ArrayPorts::new(&m);
        ports.drive(&mut m, &inputs[0]).unwrap();
        b.iter(|| m.ticks(VERILATOR_CYCLES))
    });
    g.throughput(Throughput::Elements(HDL_CYCLES));
    g.bench_function(BenchmarkId::new("rust_hdl", HDL_CYCLES), |b| {
        let mut h = array_hdl(&cfg);
        let ports = ArrayPorts::new(&h);
        b.iter(|| run_array(&mut h, &ports, &inputs, HDL_CYCLES))
    });
    g.finish();

    let mut g = c.benchmark_group("fifo8x16");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements(VERILATOR_CYCLES));
    g.bench_function(BenchmarkId::new("verilator_driven", VERILATOR_CYCLES), |b| {
        b.iter(|| run_stream(&mut fifo.model().unwrap(), VERILATOR_CYCLES))
    });
    g.throughput(Throughput::Elements(HDL_CYCLES));
    g.bench_function(BenchmarkId::new("rust_hdl", HDL_CYCLES), |b| {
        b.iter(|| run_stream(&mut fifo_hdl(), HDL_CYCLES))
    });
    g.finish();

    // One timed run each for the ratio lines.
    let mut m = cached.model().unwrap();
    let ports = ArrayPorts::new(&m);
    let v = cycles_per_second(VERILATOR_CYCLES * 5, || {
        run_array(&mut m, &ports, &inputs, VERILATOR_CYCLES * 5);
    });
    let free = cycles_per_second(VERILATOR_CYCLES * 20, || m.ticks(VERILATOR_CYCLES * 20));
    let mut h = array_hdl(&cfg);
    let hp = ArrayPorts::new(&h);
    let r = cycles_per_second(HDL_CYCLES * 3, || {
        run_array(&mut h, &hp, &inputs, HDL_CYCLES * 3);
    });
    summary.push(format!(
        "pe_array4x4: Verilator {v:.0} cycles/s driven, {free:.0} cycles/s free; rust-hdl {r:.0} cycles/s; \
         ratio {:.0}x driven, {:.0}x free",
        v / r,
        free / r
    ));
    let mut fm = fifo.model().unwrap();
    let v = cycles_per_second(VERILATOR_CYCLES * 5, || run_stream(&mut fm, VERILATOR_CYCLES * 5));
    let mut fh = fifo_hdl();
    let r = cycles_per_second(HDL_CYCLES * 10, || run_stream(&mut fh, HDL_CYCLES * 10));
    summary.push(format!(
        "fifo8x16 streaming: Verilator {v:.0} cycles/s; rust-hdl {r:.0} cycles/s; ratio {:.0}x",
        v / r
    ));

    drop((cold, cached, fifo, window, systolic, m, fm));
    let _ = std::fs::remove_dir_all(&cold_cache);
    println!("\n== sim_throughput summary ==");
    for line in summary {
        println!("{line}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
