//! `codegen report`: the Markdown and both SVG charts are written, the SVGs are well-formed
//! XML with the expected series, and the numbers in the report are the model's.

use assert_cmd::Command;
use common::Scratch;
use dsc_model::cost::LayerKind;
use dsc_model::network::mobilenet_v1;

mod common;

fn codegen() -> Command {
    Command::cargo_bin("codegen").unwrap()
}

/// A fresh, empty directory for one test, removed after it.
fn scratch(tag: &str) -> Scratch {
    Scratch::new("codegen-report", tag)
}

/// Thousands separators as the report prints them.
fn grouped(x: u64) -> String {
    let d = x.to_string();
    d.chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let sep = (i > 0 && (d.len() - i).is_multiple_of(3)).then_some(',');
            sep.into_iter().chain([c])
        })
        .collect()
}

#[test]
fn report_is_written_with_well_formed_charts_and_model_numbers() {
    let dir = scratch("small");
    let out = codegen()
        .args(["report", "--alpha", "0.25", "--resolution", "64", "--golden-only", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for svg in ["cost.svg", "cycles.svg"] {
        assert!(md.contains(&format!("](report/{svg})")), "{svg} not linked");
        let text = std::fs::read_to_string(dir.join("report").join(svg)).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{svg}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let texts: String = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.contains("mobilenet-v1"), "{svg}: no title");
        if svg == "cost.svg" {
            for s in ["depthwise", "pointwise", "standard conv"] {
                assert!(texts.contains(s), "{svg}: no series {s}");
            }
            // One bar per block and series, at least.
            assert!(doc.descendants().filter(|n| n.has_tag_name("rect")).count() >= 3 * 13);
        } else {
            assert!(texts.contains("ideal") && texts.contains("pointwise alone"), "{svg}");
        }
    }
    // The cost numbers are the model's, block by block.
    let cost = mobilenet_v1(0.25, 64).unwrap().cost_report().unwrap();
    for (d, p) in cost.layers.iter().zip(cost.layers.iter().skip(1)).filter(|(d, _)| d.kind == LayerKind::Dw) {
        let block = d.name.trim_start_matches("dw");
        let line = md.lines().find(|l| l.starts_with(&format!("| {block} |"))).unwrap_or_else(|| panic!("no block {block}"));
        assert!(line.contains(&grouped(d.macs)) && line.contains(&grouped(p.macs)), "{line}");
        assert!(line.contains(&grouped(p.macs_standard.unwrap())), "{line}");
        assert!(line.contains(&format!("{:.4}", p.reduction_formula.unwrap())), "{line}");
    }
    assert!(md.contains(&grouped(cost.totals.macs)));
    // The cycle table's model figures are simulate's (whose figures simulate_cli.rs checks
    // against the model's functions).
    let sim = codegen()
        .args(["simulate", "--network", "mobilenet-v1", "--alpha", "0.25", "--resolution", "64", "--golden-only", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&sim.stdout).unwrap();
    for row in v["layers"].as_array().unwrap().iter().filter(|r| r["op"] == "dsc") {
        let name = row["name"].as_str().unwrap();
        let line = md.lines().find(|l| l.starts_with(&format!("| {name} |"))).unwrap();
        let pw = row["model"]["pw_alone"].as_u64().unwrap();
        assert!(line.contains(&grouped(pw)), "{line}");
    }
}

#[test]
fn report_bad_input_exits_2() {
    let dir = scratch("bad");
    for (args, want) in [
        (vec!["report", "--network", "vgg", "--golden-only"], "unknown network"),
        (vec!["report", "--alpha", "2", "--golden-only"], "alpha"),
    ] {
        let mut a = args.clone();
        a.extend(["--out", dir.to_str().unwrap()]);
        let out = codegen().args(&a).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(want));
        assert!(!dir.join("report.md").exists());
    }
}
