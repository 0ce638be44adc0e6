//! `codegen synth`: bad input (exit 2, one line); and, ignored because they take minutes, the
//! whole board flow for the iCEBreaker (configs/icebreaker.toml, a bitstream) and the whole
//! iCE40 flow on the shipped UP5K config.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn codegen() -> Command {
    Command::cargo_bin("codegen").unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fails(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

#[test]
fn unknown_target_lists_the_targets() {
    let err = fails(codegen().args(["synth", "--target", "xc7a35t"]), 2);
    assert!(err.contains("xc7a35t") && err.contains("ice40-up5k") && err.contains("ecp5-85f"), "{err}");
}

#[test]
fn unknown_board_lists_the_boards() {
    let err = fails(codegen().args(["synth", "--board", "arty"]), 2);
    assert!(err.contains("arty") && err.contains("icebreaker") && err.contains("ulx3s"), "{err}");
}

#[test]
fn board_and_target_must_agree() {
    let err = fails(codegen().args(["synth", "--board", "icebreaker", "--target", "ecp5-85f"]), 2);
    assert!(err.contains("icebreaker") && err.contains("ice40-up5k"), "{err}");
}

#[test]
fn target_or_board_is_required() {
    let err = fails(codegen().args(["synth"]), 2);
    assert!(err.contains("--target") && err.contains("--board"), "{err}");
}

/// The iCEBreaker board top on configs/icebreaker.toml through yosys, nextpnr-ice40 (with
/// constraints/icebreaker.pcf: every IO on its pin) and icepack. Too slow for CI on two
/// shared cores, hence ignored (run with `--ignored`): measured synthesis 195 s, place and
/// route 317 s (the design fills 89% of the UP5K's LCs, so placement works hard), bitstream
/// 0.3 s; 4684 LC, 1739 FF, 4 SB_MAC16, 20 EBR, 6 IO, Fmax 19.9 MHz.
#[test]
#[ignore]
fn icebreaker_board_bitstream() {
    let out_dir = std::env::temp_dir().join(format!("codegen-synth-icebreaker-{}", std::process::id()));
    let out = codegen()
        .args(["synth", "--board", "icebreaker", "--format", "json"])
        .arg("--config")
        .arg(repo().join("configs/icebreaker.toml"))
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["board"], "icebreaker", "{s}");
    assert_eq!(s["fits"], true, "{s}");
    assert_eq!(s["timing_met"], true, "12 MHz board clock: {s}");
    assert_eq!(s["tops"], serde_json::json!(["board_icebreaker"]), "{s}");
    for r in s["resources"].as_array().unwrap() {
        if let Some(a) = r["available"].as_u64() {
            assert!(r["used"].as_u64().unwrap() <= a, "{r}");
        }
    }
    // Exactly the top's six ports are IOs: every one placed on its PCF pin.
    let io = s["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "IO").unwrap();
    assert_eq!(io["used"], 6, "{s}");
    assert!(!out_dir.join("synth_top.v").exists(), "a board build uses no wrapper");
    let bin = std::fs::metadata(out_dir.join("design.bin")).unwrap();
    assert!(bin.len() > 0);
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn bad_frequency() {
    let err = fails(codegen().args(["synth", "--target", "ice40-up5k", "--freq", "0"]), 2);
    assert!(err.contains("--freq"), "{err}");
}

#[test]
fn missing_tools_name_the_setup_script() {
    // An empty PATH: the iCE40 flow's Debian tools cannot be found.
    let empty = std::env::temp_dir().join(format!("codegen-empty-path-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let err = fails(
        codegen().env("PATH", &empty).args(["synth", "--target", "ice40-up5k"]),
        2,
    );
    assert!(err.contains("yosys not found: run scripts/setup.sh"), "{err}");
}

#[test]
fn bad_config_is_named() {
    let err = fails(codegen().args(["synth", "--target", "ice40-up5k", "--config", "nope.toml"]), 2);
    assert!(err.contains("nope.toml"), "{err}");
}

/// The whole flow on configs/ice40-up5k.toml: yosys, nextpnr-ice40, icepack. Takes several
/// minutes on two shared cores (synthesis ~10 min), hence ignored; run with `--ignored`.
/// Currently FAILS: the shipped UP5K config measures 11406 LUT4 and 35 EBR (see its comment).
#[test]
#[ignore]
fn ice40_flow_places_and_fits() {
    let out_dir = std::env::temp_dir().join(format!("codegen-synth-ice40-{}", std::process::id()));
    let out = codegen()
        .args(["synth", "--target", "ice40-up5k", "--format", "json", "--freq", "1"])
        .arg("--config")
        .arg(repo().join("configs/ice40-up5k.toml"))
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["fits"], true, "{s}");
    for r in s["resources"].as_array().unwrap() {
        if let Some(a) = r["available"].as_u64() {
            assert!(r["used"].as_u64().unwrap() <= a, "{r}");
        }
    }
    let lc = &s["resources"][0];
    assert_eq!(lc["cell"], "ICESTORM_LC");
    assert!(lc["used"].as_u64().unwrap() > 0);
    assert!(s["clocks"][0]["fmax_mhz"].as_f64().unwrap() > 1.0, "{s}");
    for f in ["netlist.json", "placed.asc", "design.bin", "report.json", "yosys.log", "nextpnr.log"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}
