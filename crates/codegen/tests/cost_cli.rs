//! `codegen cost` from the outside: the table a person reads, the no-argument invocation, and
//! every kind of bad input (one line on stderr naming the problem, exit status 2, no panic).

use assert_cmd::Command;
use dsc_model::cost::LayerKind;
use dsc_model::network::mobilenet_v1;
use predicates::prelude::*;

fn codegen() -> Command {
    Command::cargo_bin("codegen").unwrap()
}

/// Thousands separators as the table prints them.
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

/// (With no arguments codegen emits the Verilog: see emit_cli.rs.)
#[test]
fn help_prints_usage_and_succeeds() {
    codegen()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: codegen"))
        .stdout(predicate::str::contains("cost"));
}

#[test]
fn network_table_shows_every_layer_totals_and_shares() {
    let model = mobilenet_v1(1.0, 224).unwrap().cost_report().unwrap();
    let out = codegen()
        .args(["cost", "--network", "mobilenet-v1"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for row in &model.layers {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(row.name.as_str()))
            .unwrap_or_else(|| panic!("no row {}", row.name));
        assert!(line.contains(&grouped(row.macs)), "{line}");
    }
    assert!(text.contains(&grouped(model.totals.macs)));
    assert!(text.contains(&grouped(model.totals.params)));
    let pw_share = format!("{:.2}%", model.macs_share(LayerKind::Pw) * 100.0);
    let pw_line = text.lines().rfind(|l| l.starts_with("pw ")).unwrap();
    assert!(pw_line.contains(&pw_share), "{pw_line}");
}

#[test]
fn table_is_the_default_format() {
    let default = codegen()
        .args(["cost", "--network", "mobilenet-v1"])
        .output()
        .unwrap();
    let table = codegen()
        .args(["cost", "--network", "mobilenet-v1", "--format", "table"])
        .output()
        .unwrap();
    assert_eq!(default.stdout, table.stdout);
}

#[test]
fn layer_table_compares_with_standard_conv() {
    codegen()
        .args(["cost", "--layer", "df=112,m=32,n=64,dk=3,stride=1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("reduction (C_dw+C_pw)/C_conv"))
        .stdout(predicate::str::contains("formula 1/N + 1/Dk²"));
}

/// Runs `args`, expects exit status 2 and a single stderr line containing `needle`.
fn rejects(args: &[&str], needle: &str) {
    let out = codegen().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected '{needle}' in: {err}"
    );
}

/// Like [`rejects`], for our own validation: exactly one line.
fn rejects_one_line(args: &[&str], needle: &str) {
    rejects(args, needle);
    let out = codegen().args(args).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .count(),
        1,
        "{args:?}"
    );
}

const NET: [&str; 3] = ["cost", "--network", "mobilenet-v1"];

fn net(extra: &[&'static str]) -> Vec<&'static str> {
    NET.iter().chain(extra).copied().collect()
}

fn layer(spec: &'static str) -> Vec<&'static str> {
    vec!["cost", "--layer", spec]
}

#[test]
fn unknown_network() {
    rejects_one_line(
        &["cost", "--network", "resnet-50"],
        "unknown network 'resnet-50' (known: mobilenet-v1)",
    );
}

#[test]
fn alpha_outside_zero_one() {
    rejects_one_line(&net(&["--alpha", "0"]), "alpha must be in (0, 1], got 0");
    rejects_one_line(
        &net(&["--alpha", "-0.5"]),
        "alpha must be in (0, 1], got -0.5",
    );
    rejects_one_line(
        &net(&["--alpha", "1.5"]),
        "alpha must be in (0, 1], got 1.5",
    );
    rejects_one_line(&net(&["--alpha", "nan"]), "alpha must be in (0, 1]");
    rejects(&net(&["--alpha", "half"]), "--alpha");
}

#[test]
fn alpha_too_small_for_one_channel() {
    rejects_one_line(&net(&["--alpha", "0.01"]), "0 channels");
}

#[test]
fn zero_or_negative_resolution() {
    rejects_one_line(
        &net(&["--resolution", "0"]),
        "resolution must be at least 1, got 0",
    );
    rejects_one_line(
        &net(&["--resolution", "-224"]),
        "resolution must be positive, got -224",
    );
}

#[test]
fn resolution_too_large_to_count() {
    rejects_one_line(&net(&["--resolution", "100000000"]), "overflow");
}

#[test]
fn zero_or_negative_layer_sizes() {
    rejects_one_line(
        &layer("df=0,m=32,n=64,dk=3,stride=1"),
        "df must be at least 1, got 0",
    );
    rejects_one_line(
        &layer("df=112,m=0,n=64,dk=3,stride=1"),
        "m must be at least 1, got 0",
    );
    rejects_one_line(
        &layer("df=112,m=32,n=0,dk=3,stride=1"),
        "n must be at least 1, got 0",
    );
    rejects_one_line(
        &layer("df=-112,m=32,n=64,dk=3,stride=1"),
        "df must be positive, got -112",
    );
    rejects_one_line(
        &layer("df=112,m=32,n=-64,dk=3,stride=1"),
        "n must be positive, got -64",
    );
}

#[test]
fn even_or_zero_kernel() {
    rejects_one_line(
        &layer("df=112,m=32,n=64,dk=4,stride=1"),
        "dk must be odd, got 4",
    );
    rejects_one_line(
        &layer("df=112,m=32,n=64,dk=0,stride=1"),
        "dk must be at least 1, got 0",
    );
}

#[test]
fn stride_other_than_one_or_two() {
    rejects_one_line(
        &layer("df=112,m=32,n=64,dk=3,stride=3"),
        "stride must be 1 or 2, got 3",
    );
    rejects_one_line(
        &layer("df=112,m=32,n=64,dk=3,stride=0"),
        "stride must be 1 or 2, got 0",
    );
}

#[test]
fn malformed_layer_strings() {
    rejects_one_line(
        &layer("df=112,m=32,n=64,dk=3,stride=1,q=2"),
        "unknown key 'q'",
    );
    rejects_one_line(&layer("df=112,m=32,n=64,dk=3"), "missing key 'stride'");
    rejects_one_line(
        &layer("df=big,m=32,n=64,dk=3,stride=1"),
        "df must be a whole number, got 'big'",
    );
    rejects_one_line(
        &layer("df=112,m=32,n=64,dk=3,stride=1,m=8"),
        "key 'm' given twice",
    );
    rejects_one_line(
        &layer("df=112,m:32,n=64,dk=3,stride=1"),
        "'m:32' is not key=value",
    );
    rejects_one_line(&layer(""), "--layer: empty");
}

#[test]
fn network_and_layer_conflict() {
    let mut args = net(&[]);
    args.extend(["--layer", "df=112,m=32,n=64,dk=3,stride=1"]);
    rejects(&args, "cannot be used with");
    rejects(
        &[
            "cost",
            "--layer",
            "df=112,m=32,n=64,dk=3,stride=1",
            "--alpha",
            "0.5",
        ],
        "cannot be used with",
    );
}

#[test]
fn cost_needs_a_network_or_a_layer() {
    rejects(&["cost"], "required");
}

#[test]
fn unknown_format() {
    rejects(&net(&["--format", "csv"]), "invalid value 'csv'");
}
