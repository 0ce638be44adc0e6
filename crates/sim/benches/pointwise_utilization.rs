//! Utilization of the pointwise stage on an 8×8 array for every MobileNet-v1 (α = 1, 224)
//! pointwise layer: `C_pw ÷ (R·C × cycles)`.
//!
//! `cargo bench -p dsc-sim --bench pointwise_utilization` prints, per layer, the cycle model's
//! count and, for the layers it runs in Verilator, the measured count (bit-exact against the
//! golden model and asserted equal to the model). `PW_BENCH_MEASURE=all` runs every layer in
//! Verilator, `none` none; the default runs the layers up to 60 M MACs — at α = 1 that is all
//! 13 (about 70 s of Verilator after a 90 s build) — after 12 small random layers on the same
//! 8×8 stage, so the model is also checked on shapes that are not multiples of 8.

use dsc_hw::pointwise::{MobileNetStage, PointwiseProgram};
use dsc_model::cost::Stage;
use dsc_model::network::mobilenet_v1;
use dsc_model::pointwise::{pointwise, pointwise_cycles, PointwiseConfig};
use dsc_model::systolic::{Dataflow, SystolicConfig};
use dsc_model::{RequantParams, Tensor};
use dsc_sim::{build, Beat, BuildOptions, Design, Model, StreamSink, StreamSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

fn cfg() -> PointwiseConfig {
    let a = SystolicConfig::new(8, 8, 26, 1024, Dataflow::WeightStationary).unwrap();
    PointwiseConfig::new(a, 1024, 1024, 64).unwrap()
}

/// Runs one random `[1, h, w, m] → n` layer; asserts bit-exactness; returns measured cycles.
fn measure(m: &mut Model, cfg: &PointwiseConfig, h: usize, w: usize, mm: usize, n: usize, seed: u64) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let input = Tensor::from_fn([1, h, w, mm], |_, _, _, _| rng.gen()).unwrap();
    let weights = Tensor::from_fn([n, 1, 1, mm], |_, _, _, _| rng.gen_range(-127..=127)).unwrap();
    let rq = RequantParams::new(
        (0..n).map(|_| rng.gen_range(-3000..3000)).collect(),
        (0..n).map(|_| rng.gen_range(1 << 30..=i32::MAX)).collect(),
        (0..n).map(|_| rng.gen_range(-14..=-9)).collect(),
        rng.gen_range(-20..20),
        -128,
        127,
    )
    .unwrap();
    let in_zp = rng.gen_range(-128..=127);
    let prog = PointwiseProgram::new(cfg, [1, h, w, mm], &weights, in_zp, &rq).unwrap();
    for &(a, d) in prog.writes() {
        m.set("cfg_valid", 1).unwrap();
        m.set("cfg_addr", a as u64).unwrap();
        m.set("cfg_data", d as u64).unwrap();
        m.tick();
    }
    m.set("cfg_valid", 0).unwrap();
    assert_eq!(m.get("error").unwrap(), 0, "config refused");
    let mut src = StreamSource::new(m, "inp", 0.0, seed).unwrap();
    let mut sink = StreamSink::new(m, "out", 0.0, seed).unwrap();
    src.extend(prog.input_beats(&input).unwrap().into_iter().map(|(d, l)| Beat::new(d, l)));
    let expect = h * w * n.div_ceil(8);
    let mut first = None;
    while sink.received().len() < expect {
        src.drive(m).unwrap();
        sink.drive(m).unwrap();
        let before = src.sent();
        src.sample(m).unwrap();
        sink.sample(m).unwrap();
        if before == 0 && src.sent() == 1 {
            first = Some(m.cycles());
        }
        m.tick();
    }
    m.set("inp_tvalid", 0).unwrap();
    for _ in 0..40 {
        m.tick();
    }
    assert_eq!(m.get("busy").unwrap(), 0);
    let got = sink.received();
    let words: Vec<u128> = got
        .iter()
        .map(|r| r.beat.words().iter().rev().fold(0u128, |a, &w| (a << 32) | w as u128))
        .collect();
    let out = prog.output_tensor(&words).unwrap();
    let golden = pointwise(&input, &weights, in_zp, &rq).unwrap();
    assert_eq!(out.data(), golden.data(), "layer {h}×{w}×{mm} → {n}: output differs");
    got.last().unwrap().cycle - first.unwrap() + 1
}

fn main() {
    let cfg = cfg();
    let mode = std::env::var("PW_BENCH_MEASURE").unwrap_or_else(|_| "default".into());
    let mut model = (mode != "none").then(|| {
        let t = std::time::Instant::now();
        let mut e = MobileNetStage::new(&cfg).unwrap();
        let design = Design::from_block("pointwise_mobilenet", &mut e).unwrap();
        let opts = BuildOptions {
            cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dsc-sim-cache")),
            ..BuildOptions::default()
        };
        let c = build(&design, &opts).unwrap();
        eprintln!("8×8 pointwise stage built in {:.1} s", t.elapsed().as_secs_f64());
        c.model().unwrap()
    });
    if let Some(m) = model.as_mut() {
        if mode != "all" {
            let mut rng = ChaCha8Rng::seed_from_u64(0x0806);
            for k in 0..12 {
                let (h, w) = (rng.gen_range(1..=12), rng.gen_range(1..=12));
                let (mm, n) = (rng.gen_range(1..=70), rng.gen_range(1..=70));
                let l = cfg.layer(mm, n, h * w).unwrap();
                let measured = measure(m, &cfg, h, w, mm, n, k);
                assert_eq!(measured, pointwise_cycles(&cfg, &l), "{h}×{w}×{mm} → {n}");
            }
            eprintln!("12 random small layers on the 8×8 stage: bit-exact, measured == model");
        }
    }
    let net = mobilenet_v1(1.0, 224).unwrap();
    println!("| layer | DF² | M | N | C_pw (MACs) | model cycles | measured cycles | utilization |");
    println!("|---|---|---|---|---|---|---|---|");
    let (mut macs_total, mut cyc_total) = (0u64, 0u64);
    let mut min_util = f64::MAX;
    for stage in net.stages() {
        let Stage::Dsc { names, block } = stage else { continue };
        let pw = block.pw();
        let (df, m, n) = (pw.df_out(), pw.m(), pw.n());
        let l = cfg.layer(m, n, df * df).unwrap();
        let modelled = pointwise_cycles(&cfg, &l);
        let run = match mode.as_str() {
            "all" => true,
            "none" => false,
            _ => pw.macs() <= 60_000_000,
        };
        let measured = model.as_mut().filter(|_| run).map(|mm| {
            let t = std::time::Instant::now();
            let c = measure(mm, &cfg, df, df, m, n, 13);
            eprintln!("{}: {c} cycles in {:.1} s of Verilator", names.1, t.elapsed().as_secs_f64());
            assert_eq!(c, modelled, "{}: measured vs model", names.1);
            c
        });
        let util = pw.macs() as f64 / (64.0 * modelled as f64);
        min_util = min_util.min(util);
        macs_total += pw.macs();
        cyc_total += modelled;
        println!(
            "| {} | {} | {m} | {n} | {} | {modelled} | {} | {:.2}% |",
            names.1,
            df * df,
            pw.macs(),
            measured.map_or("–".into(), |c| c.to_string()),
            100.0 * util
        );
    }
    println!(
        "\nall pointwise layers: {macs_total} MACs in {cyc_total} cycles = {:.2}% of 64 multipliers; lowest layer {:.2}%",
        100.0 * macs_total as f64 / (64.0 * cyc_total as f64),
        100.0 * min_util
    );
}
