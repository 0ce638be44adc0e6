//! The `cost --format json` schema is a stable interface: these tests pin its keys and check
//! that its sums hold. Expected numbers come from `dsc-model`, not from pasted figures.

use assert_cmd::Command;
use dsc_model::cost::DscBlock;
use dsc_model::network::mobilenet_v1;
use serde_json::Value;

const ROW_KEYS: [&str; 13] = [
    "name",
    "kind",
    "dk",
    "stride",
    "df_in",
    "df_out",
    "m",
    "n",
    "macs",
    "params",
    "macs_standard",
    "reduction",
    "reduction_formula",
];
const KINDS: [&str; 4] = ["conv", "dw", "pw", "fc"];

fn json(args: &[&str]) -> Value {
    let out = Command::cargo_bin("codegen")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

/// Keys exactly as documented; totals = Σ rows; by_kind sums = totals.
fn check_schema(doc: &Value) {
    assert_eq!(keys(doc), sorted(&["layers", "totals", "by_kind"]));
    let layers = doc["layers"].as_array().unwrap();
    assert!(!layers.is_empty());
    for row in layers {
        assert_eq!(keys(row), sorted(&ROW_KEYS), "{row}");
        assert!(KINDS.contains(&row["kind"].as_str().unwrap()));
        for k in [
            "dk", "stride", "df_in", "df_out", "m", "n", "macs", "params",
        ] {
            u(&row[k]);
        }
        let is_pw = row["kind"] == "pw";
        for k in ["macs_standard", "reduction", "reduction_formula"] {
            assert_eq!(
                !row[k].is_null(),
                is_pw,
                "{k} is set on exactly the pw rows: {row}"
            );
        }
    }
    assert_eq!(keys(&doc["totals"]), sorted(&["macs", "params"]));
    assert_eq!(keys(&doc["by_kind"]), sorted(&KINDS));
    for field in ["macs", "params"] {
        let rows: u64 = layers.iter().map(|r| u(&r[field])).sum();
        assert_eq!(u(&doc["totals"][field]), rows, "totals.{field}");
        let kinds: u64 = KINDS.iter().map(|k| u(&doc["by_kind"][k][field])).sum();
        assert_eq!(kinds, rows, "by_kind.{field}");
        for kind in KINDS {
            assert_eq!(keys(&doc["by_kind"][kind]), sorted(&["macs", "params"]));
            let of_kind: u64 = layers
                .iter()
                .filter(|r| r["kind"] == kind)
                .map(|r| u(&r[field]))
                .sum();
            assert_eq!(
                u(&doc["by_kind"][kind][field]),
                of_kind,
                "by_kind.{kind}.{field}"
            );
        }
    }
}

#[test]
fn network_json_follows_the_schema_and_the_model() {
    let doc = json(&["cost", "--network", "mobilenet-v1", "--format", "json"]);
    check_schema(&doc);
    let model = mobilenet_v1(1.0, 224).unwrap().cost_report().unwrap();
    assert_eq!(u(&doc["totals"]["macs"]), model.totals.macs);
    assert_eq!(u(&doc["totals"]["params"]), model.totals.params);
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(layers.len(), model.layers.len());
    let names: Vec<&str> = layers.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        (names[0], names[1], names[2], names[27]),
        ("conv0", "dw1", "pw1", "fc")
    );
}

#[test]
fn alpha_and_resolution_reach_the_model() {
    let doc = json(&[
        "cost",
        "--network",
        "mobilenet-v1",
        "--alpha",
        "0.5",
        "--resolution",
        "160",
        "--format",
        "json",
    ]);
    check_schema(&doc);
    let model = mobilenet_v1(0.5, 160).unwrap().cost_report().unwrap();
    assert_eq!(u(&doc["totals"]["macs"]), model.totals.macs);
    assert_eq!(u(&doc["totals"]["params"]), model.totals.params);
    assert_eq!(u(&doc["layers"][0]["df_in"]), 160);
    assert_eq!(u(&doc["layers"][0]["n"]), 16);
}

#[test]
fn layer_json_has_the_dw_and_pw_rows_and_the_comparison() {
    let doc = json(&[
        "cost",
        "--layer",
        "df=112,m=32,n=64,dk=3,stride=2",
        "--format",
        "json",
    ]);
    check_schema(&doc);
    let block = DscBlock::new(3, 2, 112, 32, 64).unwrap();
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    let (dw, pw) = (&layers[0], &layers[1]);
    assert_eq!(
        (dw["kind"].as_str(), pw["kind"].as_str()),
        (Some("dw"), Some("pw"))
    );
    assert_eq!(
        (u(&dw["df_in"]), u(&dw["df_out"]), u(&pw["df_in"])),
        (112, 56, 56)
    );
    assert_eq!(u(&dw["macs"]), block.dw().macs());
    assert_eq!(u(&pw["macs"]), block.pw().macs());
    assert_eq!(u(&pw["macs_standard"]), block.macs_standard());
    let red = pw["reduction"].as_f64().unwrap();
    let formula = pw["reduction_formula"].as_f64().unwrap();
    assert_eq!(red, block.reduction());
    assert!((red - formula).abs() < 1e-12);
    assert_eq!(u(&doc["by_kind"]["conv"]["macs"]), 0);
}
