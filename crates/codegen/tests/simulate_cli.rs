//! `codegen simulate` from the outside: a layer directory (the one the README's numpy snippet
//! writes, made here in Rust), a whole network in the golden model, the figures against the
//! model's own functions, and every kind of bad input (exit status 2, one line naming the
//! file and the problem).

mod common;
#[path = "../src/npy.rs"]
#[allow(dead_code)]
mod npy;

use std::path::Path;

use assert_cmd::Command;
use common::Scratch;
use dsc_model::depthwise::engine_cycles;
use dsc_model::engine::{dsc_cycles, DscConfig};
use dsc_model::engine_config::EngineConfig;
use dsc_model::pointwise::{pointwise_cycles, PointwiseConfig};
use dsc_model::requant::{Clamp, RequantParams};
use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};
use dsc_model::{DscBlock, Tensor};
use npy::Data;
use serde_json::{json, Value};

fn codegen() -> Command {
    Command::cargo_bin("codegen").unwrap()
}

/// A fresh, empty directory for one test, removed after it.
fn scratch(tag: &str) -> Scratch {
    Scratch::new("codegen-sim", tag)
}

const H: usize = 8;
const W: usize = 8;
const M: usize = 16;
const N: usize = 24;
const DK: usize = 3;

/// `((i * a + b) % 256 - 128)` for `i < n`: numpy's `((np.arange(n) * a + b) % 256 - 128)`.
fn pattern(n: usize, a: usize, b: usize) -> Vec<i8> {
    (0..n).map(|i| ((i * a + b) % 256) as i32 - 128).map(|v| v as i8).collect()
}

fn dw_scales() -> Vec<f64> {
    (0..M).map(|c| 0.004 + 0.0005 * c as f64).collect()
}

fn pw_scales() -> Vec<f64> {
    (0..N).map(|c| 0.002 + 0.0001 * c as f64).collect()
}

fn layer_json() -> Value {
    json!({
        "stride": 1, "activation": "relu6",
        "input_zero_point": -3, "intermediate_zero_point": -128, "output_zero_point": -110,
        "input_scale": 0.02, "intermediate_scale": 0.03, "output_scale": 0.03,
        "depthwise": {"weight_scales": dw_scales()},
        "pointwise": {"weight_scales": pw_scales()},
    })
}

fn save(dir: &Path, name: &str, shape: &[usize], data: Data) {
    std::fs::write(dir.join(name), npy::write(shape, &data)).unwrap();
}

/// What the README's numpy snippet writes, byte for byte in the .npy files.
fn write_fixture(dir: &Path) {
    save(dir, "input.npy", &[1, H, W, M], Data::I8(pattern(H * W * M, 37, 11)));
    save(dir, "dw_weights.npy", &[1, DK, DK, M], Data::I8(pattern(DK * DK * M, 53, 7)));
    save(dir, "dw_bias.npy", &[M], Data::I32((0..M as i32).map(|i| i * 1000 - 5000).collect()));
    save(dir, "pw_weights.npy", &[N, 1, 1, M], Data::I8(pattern(N * M, 29, 3)));
    save(dir, "pw_bias.npy", &[N], Data::I32((0..N as i32).map(|i| i * 700 + 3000).collect()));
    std::fs::write(dir.join("layer.json"), serde_json::to_string_pretty(&layer_json()).unwrap()).unwrap();
}

/// The fixture's layer, built directly with the model.
fn fixture_block() -> (Tensor<i8>, DscBlock) {
    let t = |s: [usize; 4], v: Vec<i8>| Tensor::new(s, v).unwrap();
    let input = t([1, H, W, M], pattern(H * W * M, 37, 11));
    let f32s = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
    let dw_rq = RequantParams::from_scales(
        (0..M as i32).map(|i| i * 1000 - 5000).collect(),
        0.02,
        &f32s(dw_scales()),
        0.03,
        -128,
        Clamp::Relu6,
    )
    .unwrap();
    let pw_rq = RequantParams::from_scales(
        (0..N as i32).map(|i| i * 700 + 3000).collect(),
        0.03,
        &f32s(pw_scales()),
        0.03,
        -110,
        Clamp::Relu6,
    )
    .unwrap();
    let block = DscBlock::new(
        -3,
        1,
        t([1, DK, DK, M], pattern(DK * DK * M, 53, 7)),
        dw_rq,
        t([N, 1, 1, M], pattern(N * M, 29, 3)),
        pw_rq,
    )
    .unwrap();
    (input, block)
}

/// A small generation config and the same engine built with the model.
const SMALL: &str = "[engine]\ndk = 3\nlanes = 4\nrows = 4\ncols = 2\nmax_width = 16\n\
                     max_height = 16\nmax_channels = 32\n[pointwise]\nmax_block = 16\n";

fn small_model() -> (EngineConfig, PointwiseConfig) {
    let e = EngineConfig::new(3, 4, 4, 2, 16, 16, 32).unwrap();
    let a = SystolicConfig::new(4, 2, acc_bits_for_products(32), 32, Dataflow::WeightStationary).unwrap();
    (e, PointwiseConfig::new(a, 32, 32, 16).unwrap())
}

fn stdout_of(args: &[&str]) -> String {
    let out = codegen().args(args).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn layer_dir_golden_only_writes_the_models_output() {
    let d = scratch("golden");
    write_fixture(&d);
    let text = stdout_of(&["simulate", "--layer-dir", d.to_str().unwrap(), "--golden-only"]);
    let (input, block) = fixture_block();
    let want = block.run(&input).unwrap();
    let got = npy::parse(&std::fs::read(d.join("output.npy")).unwrap()).unwrap();
    assert_eq!(got.shape, vec![1, H, W, N]);
    assert_eq!(got.data, Data::I8(want.data().to_vec()));
    // The output is not degenerate: the snippet's scales give a spread of values.
    let Data::I8(v) = got.data else { unreachable!() };
    assert!(v.iter().filter(|&&x| x != v[0]).count() > v.len() / 2);
    // Golden-only: no measured or bit-exact columns.
    let header = text.lines().find(|l| l.starts_with("layer ") && l.contains(" op ")).unwrap();
    assert!(!header.contains("measured") && !header.contains("exact"), "{header}");
    assert!(header.contains("dw alone"), "{header}");
}

#[test]
fn layer_dir_json_figures_come_from_the_model() {
    let d = scratch("json");
    write_fixture(&d);
    let cfg = d.join("small.toml");
    std::fs::write(&cfg, SMALL).unwrap();
    let text = stdout_of(&[
        "simulate", "--layer-dir", d.to_str().unwrap(), "--config", cfg.to_str().unwrap(),
        "--format", "json", "--clock-mhz", "50",
    ]);
    let v: Value = serde_json::from_str(&text).unwrap();
    let row = &v["layers"][0];
    let (e, p) = small_model();
    let wl = e.window().layer(H, W, M, 1).unwrap();
    let pl = p.layer(M, N, H * W).unwrap();
    assert_eq!(row["model"]["dw_alone"], engine_cycles(&e, &wl));
    assert_eq!(row["model"]["pw_alone"], pointwise_cycles(&p, &pl));
    let (dw_macs, pw_macs) = ((H * W * M * DK * DK) as u64, (H * W * M * N) as u64);
    assert_eq!(row["macs"], dw_macs + pw_macs);
    let ideal = dw_macs.div_ceil(4 * 9).max(pw_macs.div_ceil(4 * 2));
    assert_eq!(row["model"]["ideal"], ideal);
    assert_eq!(row["output"], json!([H, W, N]));
    let f = row["ratio_formula"].as_f64().unwrap();
    assert!((f - (1.0 / N as f64 + 1.0 / 9.0)).abs() < 1e-12);
    assert_eq!(v["clock_mhz"], 50.0);
    assert_eq!(v["totals"]["ideal_cycles"], ideal);
    let fps = v["totals"]["frames_per_s_ideal"].as_f64().unwrap();
    assert!((fps - 50e6 / ideal as f64).abs() < 1e-6);
    // The same layer as a standard conv needs M' = G·Dk²·P = 4·9·4 channels, above max_m = 32:
    // no baseline, and the model's reason.
    let why = DscConfig::new(e, p).unwrap().conv_layer(H, W, M, N, 1).unwrap_err().to_string();
    assert!(row["conv_note"].as_str().unwrap().contains(&why), "{row}");
    assert!(row["ratio_measured"].is_null() && row["ratio_model"].is_null() && row["conv_measured_cycles"].is_null());
}

#[test]
fn network_golden_only_runs_every_layer() {
    let text = stdout_of(&[
        "simulate", "--network", "mobilenet-v1", "--alpha", "0.25", "--resolution", "32",
        "--golden-only", "--format", "json",
    ]);
    let v: Value = serde_json::from_str(&text).unwrap();
    let layers = v["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 16);
    assert_eq!((names[0], names[1], names[13], names[14], names[15]), ("conv0", "dw1/pw1", "dw13/pw13", "pool", "fc"));
    let cost = dsc_model::network::mobilenet_v1(0.25, 32).unwrap().cost_report().unwrap();
    let total: u64 = layers.iter().map(|l| l["macs"].as_u64().unwrap()).sum();
    assert_eq!(total, cost.totals.macs);
    assert_eq!(layers[15]["output"], json!([1, 1, 1000]));
    assert!(layers[14]["note"].as_str().unwrap().contains("golden model"));
    // The table form has a row per layer.
    let table = stdout_of(&[
        "simulate", "--network", "mobilenet-v1", "--alpha", "0.25", "--resolution", "32", "--golden-only",
    ]);
    for n in names {
        assert!(table.lines().any(|l| l.starts_with(n)), "{n}: {table}");
    }
}

#[test]
fn same_seed_same_report_and_progress_bar_hidden_off_a_terminal() {
    let args = ["simulate", "--network", "mobilenet-v1", "--alpha", "0.25", "--resolution", "16", "--golden-only", "--seed", "9"];
    let a = codegen().args(args).output().unwrap();
    let b = codegen().args(args).output().unwrap();
    assert_eq!(a.stdout, b.stdout);
    assert!(a.stderr.is_empty(), "{}", String::from_utf8_lossy(&a.stderr));
}

/// Runs `simulate` on `dir`, expects exit status 2 and returns the one stderr line.
fn fails_on(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["simulate", "--layer-dir", dir.to_str().unwrap()];
    args.extend(extra);
    fails(&args)
}

fn fails(args: &[&str]) -> String {
    let out = codegen().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("note:")).collect();
    assert_eq!(lines.len(), 1, "not one line: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    lines[0].to_string()
}

#[test]
fn wrong_shape_or_dtype_in_any_npy_names_the_file() {
    let d = scratch("shapes");
    let cases: [(&str, &[usize], Data, &str); 8] = [
        ("input.npy", &[2, H, W, M], Data::I8(vec![0; 2 * H * W * M]), "[1, H, W, M]"),
        ("input.npy", &[H, W, M], Data::I8(vec![0; H * W * M]), "[1, H, W, M]"),
        ("dw_weights.npy", &[1, 3, 5, M], Data::I8(vec![0; 15 * M]), "[1, Dk, Dk, 16]"),
        ("dw_weights.npy", &[1, 3, 3, M + 1], Data::I8(vec![0; 9 * (M + 1)]), "[1, Dk, Dk, 16]"),
        ("dw_bias.npy", &[M - 1], Data::I32(vec![0; M - 1]), "[16]"),
        ("pw_weights.npy", &[N, 1, 1, 8], Data::I8(vec![0; N * 8]), "[N, 1, 1, 16]"),
        ("pw_bias.npy", &[N + 2], Data::I32(vec![0; N + 2]), "[24]"),
        ("dw_bias.npy", &[M], Data::I8(vec![0; M]), "expected int32"),
    ];
    for (file, shape, data, want) in cases {
        write_fixture(&d);
        save(&d, file, shape, data);
        let e = fails_on(&d, &["--golden-only"]);
        assert!(e.contains(file) && e.contains(want), "{file}: {e}");
    }
    for file in ["input.npy", "pw_weights.npy"] {
        write_fixture(&d);
        save(&d, file, &[1, H, W, M], Data::I32(vec![0; H * W * M]));
        let e = fails_on(&d, &["--golden-only"]);
        assert!(e.contains(file) && e.contains("expected int8"), "{e}");
    }
}

#[test]
fn malformed_npy_missing_file_and_malformed_json() {
    let d = scratch("files");
    write_fixture(&d);
    std::fs::write(d.join("pw_bias.npy"), b"not numpy").unwrap();
    let e = fails_on(&d, &["--golden-only"]);
    assert!(e.contains("pw_bias.npy") && e.contains("magic"), "{e}");
    write_fixture(&d);
    std::fs::remove_file(d.join("dw_weights.npy")).unwrap();
    let e = fails_on(&d, &["--golden-only"]);
    assert!(e.contains("dw_weights.npy") && e.contains("cannot read"), "{e}");
    write_fixture(&d);
    std::fs::write(d.join("layer.json"), "{\"stride\": 1,,}").unwrap();
    let e = fails_on(&d, &["--golden-only"]);
    assert!(e.contains("layer.json") && e.contains("line 1"), "{e}");
    // A typo in a key is refused, not ignored.
    let mut j = layer_json();
    j["strides"] = json!(1);
    std::fs::write(d.join("layer.json"), j.to_string()).unwrap();
    let e = fails_on(&d, &["--golden-only"]);
    assert!(e.contains("layer.json") && e.contains("strides"), "{e}");
    let e = fails_on(&scratch("empty"), &["--golden-only"]);
    assert!(e.contains("layer.json") && e.contains("cannot read"), "{e}");
    let e = fails_on(&d.join("nowhere"), &[]);
    assert!(e.contains("not a directory"), "{e}");
}

#[test]
fn bad_quantization_in_layer_json() {
    let d = scratch("quant");
    let with = |edit: &dyn Fn(&mut Value)| {
        write_fixture(&d);
        let mut j = layer_json();
        edit(&mut j);
        std::fs::write(d.join("layer.json"), j.to_string()).unwrap();
        fails_on(&d, &["--golden-only"])
    };
    // A scale whose multiplier does not fit Q31 (shift above 30).
    let e = with(&|j| j["pointwise"]["weight_scales"][5] = json!(1e12));
    assert!(e.contains("layer.json") && e.contains("pointwise channel 5") && e.contains("too large"), "{e}");
    // Q31 form with a multiplier out of [2^30, 2^31).
    let e = with(&|j| j["depthwise"] = json!({"multiplier": vec![5; M], "shift": vec![0; M]}));
    assert!(e.contains("layer.json") && e.contains("depthwise") && e.contains("2^30"), "{e}");
    let e = with(&|j| j["depthwise"] = json!({"multiplier": vec![1 << 30; M], "shift": vec![0; M - 1]}));
    assert!(e.contains("depthwise.shift has 15 entries"), "{e}");
    let e = with(&|j| j["depthwise"]["multiplier"] = json!(vec![1 << 30; M]));
    assert!(e.contains("either weight_scales, or multiplier and shift"), "{e}");
    let e = with(&|j| j["pointwise"]["weight_scales"] = json!([0.01]));
    assert!(e.contains("pointwise.weight_scales has 1 entries, expected 24"), "{e}");
    let e = with(&|j| { j.as_object_mut().unwrap().remove("output_scale"); });
    assert!(e.contains("pointwise: output scale is required"), "{e}");
    let e = with(&|j| j["output_zero_point"] = json!(200));
    assert!(e.contains("zero point 200"), "{e}");
    let e = with(&|j| j["stride"] = json!(3));
    assert!(e.contains("stride must be 1 or 2"), "{e}");
    let e = with(&|j| j["activation"] = json!("gelu"));
    assert!(e.contains("gelu"), "{e}");
}

#[test]
fn q31_form_gives_the_same_output_as_the_scales() {
    let d = scratch("q31");
    write_fixture(&d);
    let (input, block) = fixture_block();
    let mut j = layer_json();
    let q = |rq: &RequantParams| json!({"multiplier": rq.multiplier(), "shift": rq.shift()});
    j["depthwise"] = q(block.dw_requant());
    j["pointwise"] = q(block.pw_requant());
    std::fs::write(d.join("layer.json"), j.to_string()).unwrap();
    stdout_of(&["simulate", "--layer-dir", d.to_str().unwrap(), "--golden-only"]);
    let got = npy::parse(&std::fs::read(d.join("output.npy")).unwrap()).unwrap();
    assert_eq!(got.data, Data::I8(block.run(&input).unwrap().into_data()));
}

#[test]
fn layer_larger_than_the_generated_maxima() {
    let d = scratch("large");
    write_fixture(&d);
    let cfg = d.join("tiny.toml");
    std::fs::write(&cfg, SMALL.replace("max_channels = 32", "max_channels = 8")).unwrap();
    let e = fails_on(&d, &["--config", cfg.to_str().unwrap()]);
    assert!(e.contains("does not fit the engine of tiny.toml") && e.contains("--golden-only"), "{e}");
    // The model alone takes it.
    stdout_of(&["simulate", "--layer-dir", d.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "--golden-only"]);
}

/// `[pointwise] max_n = 10` below the fixture's N = 24: the layer runs in three N tiles and
/// the model's figures are sums over them; `[engine] max_line_words = 24` below the fixture's
/// row of W · M/P = 8 · 4 = 32 words: refused, naming the numbers.
#[test]
fn n_tiles_and_line_words_from_the_config() {
    let d = scratch("tiles");
    write_fixture(&d);
    let cfg = d.join("tiled.toml");
    std::fs::write(&cfg, SMALL.replace("max_block = 16", "max_block = 16\nmax_n = 10")).unwrap();
    let text = stdout_of(&[
        "simulate", "--layer-dir", d.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "--golden-only", "--format", "json",
    ]);
    let v: Value = serde_json::from_str(&text).unwrap();
    let row = &v["layers"][0];
    let (e, _) = small_model();
    let a = SystolicConfig::new(4, 2, acc_bits_for_products(32), 32, Dataflow::WeightStationary).unwrap();
    let p = PointwiseConfig::new(a, 32, 10, 16).unwrap();
    let fused = DscConfig::new(e, p).unwrap();
    let tl = dsc_model::n_tiles::dsc_tiled_layer(&fused, H, W, M, N, 1).unwrap();
    assert_eq!(row["model"]["n_tiles"], 3);
    assert_eq!(row["model"]["layer"], dsc_model::n_tiles::dsc_tiled_cycles(&fused, &tl));
    let wl = e.window().layer(H, W, M, 1).unwrap();
    let pw: u64 = [10, 10, 4].iter().map(|&n| pointwise_cycles(&p, &p.layer(M, n, H * W).unwrap())).sum();
    assert_eq!(row["model"]["dw_alone"], 3 * engine_cycles(&e, &wl));
    assert_eq!(row["model"]["pw_alone"], pw);
    let (input, block) = fixture_block();
    let got = npy::parse(&std::fs::read(d.join("output.npy")).unwrap()).unwrap();
    assert_eq!(got.data, Data::I8(block.run(&input).unwrap().into_data()));
    let table = stdout_of(&["simulate", "--layer-dir", d.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "--golden-only"]);
    assert!(table.lines().any(|l| l.starts_with("layer ") && l.contains(" tiles ")), "{table}");

    let short = d.join("short.toml");
    std::fs::write(&short, SMALL.replace("max_channels = 32", "max_channels = 32\nmax_line_words = 24")).unwrap();
    let e = fails_on(&d, &["--config", short.to_str().unwrap()]);
    assert!(e.contains("W · ⌈M/P⌉ = 8 · 4 = 32 words exceeds max_line_words = 24"), "{e}");
    let bad = d.join("bad.toml");
    std::fs::write(&bad, SMALL.replace("max_channels = 32", "max_channels = 32\nmax_line_words = 8")).unwrap();
    let e = fails_on(&d, &["--config", bad.to_str().unwrap()]);
    assert!(e.contains("max_line_words = 8 must lie in [max_width, max_width · max_channels / P] = [16, 128]"), "{e}");
}

#[test]
fn bad_network_and_options() {
    let e = fails(&["simulate", "--network", "resnet-50", "--golden-only"]);
    assert!(e.contains("unknown network 'resnet-50'") && e.contains("mobilenet-v1"), "{e}");
    let e = fails(&["simulate", "--network", "mobilenet-v1", "--alpha", "0", "--golden-only"]);
    assert!(e.contains("alpha"), "{e}");
    let e = fails(&["simulate", "--network", "mobilenet-v1", "--resolution", "-3", "--golden-only"]);
    assert!(e.contains("resolution"), "{e}");
    let e = fails(&["simulate", "--network", "mobilenet-v1", "--clock-mhz", "0", "--golden-only"]);
    assert!(e.contains("--clock-mhz"), "{e}");
    let e = fails(&["simulate", "--network", "mobilenet-v1", "--config", "/nonexistent.toml"]);
    assert!(e.contains("nonexistent.toml"), "{e}");
    // Neither or both of --network / --layer-dir: clap's usage error, also status 2.
    let out = codegen().args(["simulate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = codegen().args(["simulate", "--network", "mobilenet-v1", "--layer-dir", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The shipped iCE40 config's engine (P = R = C = 1, up to 32×32×32), small enough to build
/// quickly, runs the fixture in Verilator: bit-exact, and the measured cycles are the fused
/// engine model's exactly. Layers it cannot take run golden-only and say why.
#[test]
fn layer_dir_on_the_verilated_engine_is_bit_exact_and_cycle_exact() {
    let d = scratch("verilator");
    write_fixture(&d);
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/ice40-up5k.toml");
    let text = stdout_of(&["simulate", "--layer-dir", d.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "--format", "json"]);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["backend"], "verilator");
    let row = &v["layers"][0];
    assert_eq!(row["bit_exact"], true);
    // configs/ice40-up5k.toml's engine, which is generated without the im2col mode.
    let e = EngineConfig::new(3, 1, 1, 1, 32, 32, 32).unwrap().with_im2col(false);
    let a = SystolicConfig::new(1, 1, acc_bits_for_products(32), 32, Dataflow::WeightStationary).unwrap();
    let fused = DscConfig::new(e, PointwiseConfig::new(a, 32, 32, 16).unwrap()).unwrap();
    let want = dsc_cycles(&fused, &fused.layer(H, W, M, N, 1).unwrap());
    assert_eq!(row["measured_cycles"], want);
    assert_eq!(row["model"]["layer"], want);
    let (input, block) = fixture_block();
    let got = npy::parse(&std::fs::read(d.join("output.npy")).unwrap()).unwrap();
    assert_eq!(got.data, Data::I8(block.run(&input).unwrap().into_data()));
    // No standard-conv baseline (no im2col mode on this engine): "—*" and the reason below.
    let why = fused.conv_layer(H, W, M, N, 1).unwrap_err().to_string();
    assert!(row["conv_note"].as_str().unwrap().contains(&why), "{row}");
    let table = stdout_of(&["simulate", "--layer-dir", d.to_str().unwrap(), "--config", cfg.to_str().unwrap()]);
    let name = d.file_name().unwrap().to_str().unwrap();
    let line = table.lines().find(|l| l.starts_with(name)).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    let formula = format!("{:.4}", 1.0 / N as f64 + 1.0 / 9.0);
    assert_eq!(cells[cells.len() - 4..], ["yes", "—*", "—*", formula.as_str()], "{table}");
    assert!(table.contains(&format!("{name}: * no standard-conv baseline on this engine: {why}")), "{table}");

    // A network whose conv0 cannot run on this engine (no im2col mode, and 64 wide > 32): conv0
    // and the layers beyond its channels run golden-only and say why; the rest run in Verilator.
    let text = stdout_of(&[
        "simulate", "--network", "mobilenet-v1", "--alpha", "0.25", "--resolution", "64",
        "--config", cfg.to_str().unwrap(), "--format", "json",
    ]);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["backend"], "verilator");
    let conv0 = &v["layers"][0];
    let why = fused.conv_layer(64, 64, 3, 8, 2).unwrap_err().to_string();
    assert_eq!(conv0["note"].as_str().unwrap(), format!("golden model only: {why}"));
    assert!(conv0["measured_cycles"].is_null() && conv0["model"].is_null(), "{conv0}");
    let on_engine: Vec<&Value> = v["layers"].as_array().unwrap().iter().filter(|r| !r["model"].is_null()).collect();
    assert!(!on_engine.is_empty());
    for row in on_engine {
        assert_eq!(row["bit_exact"], true, "{row}");
        assert_eq!(row["measured_cycles"], row["model"]["layer"], "{row}");
    }
}

#[test]
fn trace_needs_the_hardware() {
    let out = codegen()
        .args(["simulate", "--network", "mobilenet-v1", "--golden-only", "--trace", "t"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trace"));
}
