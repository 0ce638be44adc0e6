//! `codegen synth`: bad input (exit 2, one line) and, ignored because it takes minutes, the
//! whole iCE40 flow on the shipped UP5K config.

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
