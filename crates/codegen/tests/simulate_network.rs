//! The whole of MobileNet-v1 (α = 0.25, 128×128, seeded synthetic weights) through `codegen
//! simulate` on the Verilator build of configs/mobilenet-v1.toml: every layer the engine runs
//! is bit-exact against the golden model and takes exactly the model's cycles.

use std::path::PathBuf;

use assert_cmd::Command;
use dsc_model::cost::Stage;
use dsc_model::network::mobilenet_v1;
use serde_json::Value;

const ALPHA: f64 = 0.25;
const RESOLUTION: usize = 128;
const SEED: u64 = 2026;

fn config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/mobilenet-v1.toml")
}

/// Asserts one engine row: bit-exact and measured cycles equal the model's.
fn assert_exact(row: &Value) {
    let name = row["name"].as_str().unwrap();
    assert_eq!(row["bit_exact"], Value::Bool(true), "{name}: output differs from the golden model");
    let measured = row["measured_cycles"].as_u64().unwrap_or_else(|| panic!("{name}: not measured: {row}"));
    let model = row["model"]["layer"].as_u64().unwrap_or_else(|| panic!("{name}: no model cycles: {row}"));
    assert_eq!(measured, model, "{name}: measured vs model cycles");
}

#[test]
fn mobilenet_v1_quarter_128_is_bit_exact_and_cycle_exact() {
    let out = Command::cargo_bin("codegen")
        .unwrap()
        .args(["simulate", "--network", "mobilenet-v1", "--alpha", &ALPHA.to_string()])
        .args(["--resolution", &RESOLUTION.to_string(), "--seed", &SEED.to_string()])
        .arg("--config")
        .arg(config())
        .args(["--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    // A failed Verilator build falls back to the golden model: that must fail here.
    assert_eq!(report["backend"], "verilator", "{}", report["backend"]);
    let rows = report["layers"].as_array().unwrap();

    // One row per network stage, in order, plus the global average pool (golden model only).
    let net = mobilenet_v1(ALPHA, RESOLUTION).unwrap();
    let expected: Vec<(String, &str)> = net
        .stages()
        .iter()
        .map(|s| match s {
            Stage::Dsc { names, .. } => (format!("{}/{}", names.0, names.1), "dsc"),
            Stage::Layer { name, .. } if name == "fc" => (name.clone(), "fc"),
            Stage::Layer { name, .. } => (name.clone(), "conv"),
        })
        .collect();
    let got: Vec<(String, &str)> = rows
        .iter()
        .filter(|r| r["op"] != "pool")
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["op"].as_str().unwrap()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(rows.len(), expected.len() + 1);
    assert_eq!(rows.iter().filter(|r| r["op"] == "pool").count(), 1);

    // The 13 DSC layers and the classifier run on the engine, never golden-only.
    for row in rows.iter().filter(|r| r["op"] == "dsc" || r["op"] == "fc") {
        assert_exact(row);
        let note = row["note"].as_str().unwrap_or("");
        assert!(!note.contains("golden model only") && !note.contains("differs"), "{}: {note}", row["name"]);
    }
    assert_eq!(rows.iter().filter(|r| r["op"] == "dsc").count(), 13);

    // conv0 (im2col mode): bit- and cycle-exact once the simulate backend runs standard
    // convolutions on the engine; until then it is golden-only and says so.
    let conv0 = rows.iter().find(|r| r["op"] == "conv").unwrap();
    if conv0["measured_cycles"].is_null() {
        assert!(conv0["note"].as_str().unwrap().contains("golden model only"), "{conv0}");
    } else {
        assert_exact(conv0);
    }
}
