//! `codegen synth`: bad input (exit 2, one line); and, ignored because they take minutes, the
//! whole board flow for the iCEBreaker (a bitstream), the ECP5 flow on configs/default.toml
//! and the iCE40 flow on configs/ice40-up5k.toml (does not fit yet). The two config flows
//! assert: placement succeeds, the summary parses, every resource within the device, Fmax > 0.

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
fn unknown_top_lists_the_tops() {
    let err = fails(codegen().args(["synth", "--target", "ice40-up5k", "--top", "board_icebreaker"]), 2);
    assert!(err.contains("board_icebreaker") && err.contains("dsc_engine") && err.contains("depthwise_engine"), "{err}");
}

#[test]
fn top_is_not_for_a_board() {
    let err = fails(codegen().args(["synth", "--board", "icebreaker", "--top", "dsc_engine"]), 2);
    assert!(err.contains("--top") && err.contains("board_icebreaker"), "{err}");
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
fn spram_config_is_refused_for_the_ecp5() {
    let err = fails(
        codegen()
            .args(["synth", "--target", "ecp5-85f", "--config"])
            .arg(repo().join("configs/ice40-up5k.toml")),
        2,
    );
    assert!(err.contains("param_ram") && err.contains("ecp5-85f"), "{err}");
}

#[test]
fn bad_frequency() {
    let err = fails(codegen().args(["synth", "--target", "ice40-up5k", "--freq", "0"]), 2);
    assert!(err.contains("--freq"), "{err}");
}

#[test]
fn bad_seed() {
    // clap's own message (several lines, exit status 2) names the option.
    let out = codegen().args(["synth", "--target", "ice40-up5k", "--seed", "two"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--seed") && err.contains("two"), "{err}");
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
    let _ = std::fs::remove_dir(&empty);
    assert!(err.contains("yosys not found: run scripts/setup.sh"), "{err}");
}

#[test]
fn bad_config_is_named() {
    let err = fails(codegen().args(["synth", "--target", "ice40-up5k", "--config", "nope.toml"]), 2);
    assert!(err.contains("nope.toml"), "{err}");
}

/// The whole flow for `target` on `config` (the fused `dsc_engine` behind the synthesis
/// wrapper, at `--freq 1` so any Fmax passes): the summary, or `None` when the flow's tools
/// are missing outside CI (with `CI` set a missing tool fails, as everywhere in the project).
fn flow(target: &str, config: &str, extra: &[&str]) -> Option<serde_json::Value> {
    let out_dir = std::env::temp_dir().join(format!("codegen-flow-{target}-{}", std::process::id()));
    let out = codegen()
        .args(["synth", "--target", target, "--format", "json", "--freq", "1"])
        .args(extra)
        .arg("--config")
        .arg(repo().join("configs").join(config))
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("not found: run scripts/setup.sh") && std::env::var_os("CI").is_none() {
        eprintln!("skipping: {}", err.trim());
        return None;
    }
    assert!(out.status.success(), "{config} on {target}: {err}");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["tops"], serde_json::json!(["dsc_engine"]), "the fused engine alone: {s}");
    assert_eq!(s["fits"], true, "{s}");
    // Every resource the device reports is within its capacity; LUTs, DSPs and block RAMs
    // are all reported.
    let resources = s["resources"].as_array().unwrap();
    for kind in ["LUT/LC", "DSP", "BRAM"] {
        let r = resources.iter().find(|r| r["kind"] == kind).unwrap_or_else(|| panic!("no {kind}: {s}"));
        let (used, avail) = (r["used"].as_u64().unwrap(), r["available"].as_u64().unwrap());
        assert!(avail > 0 && used <= avail, "{config} on {target}: {r}");
    }
    for r in resources {
        if let Some(a) = r["available"].as_u64() {
            assert!(r["used"].as_u64().unwrap() <= a, "{config} on {target}: {r}");
        }
    }
    assert!(resources[0]["used"].as_u64().unwrap() > 0, "{s}");
    let fmax = s["clocks"][0]["fmax_mhz"].as_f64().unwrap();
    assert!(fmax > 0.0, "{s}");
    let placed = if target == "ice40-up5k" { "placed.asc" } else { "placed.config" };
    for f in ["netlist.json", placed, "report.json", "summary.json", "yosys.log", "nextpnr.log"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }
    // nextpnr.log starts with the command: the constraint and any seed reached nextpnr.
    let log = std::fs::read_to_string(out_dir.join("nextpnr.log")).unwrap();
    let command = log.lines().next().unwrap_or_default();
    assert!(command.contains("--freq 1"), "{command}");
    if let Some(i) = extra.iter().position(|a| *a == "--seed") {
        assert!(command.contains(&format!("--seed {}", extra[i + 1])), "{command}");
        assert_eq!(s["seed"].to_string(), extra[i + 1], "{s}");
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    Some(s)
}

/// configs/ice40-up5k.toml through yosys, nextpnr-ice40 and icepack: the fused engine
/// places on the UP5K within its LCs, SB_MAC16s and EBRs (measured at `--freq 30`: 5,224 of
/// 5,280 LCs, 8/8 SB_MAC16, 30/30 EBR, 4/4 SPRAM; synthesis 45 s, place and route 42 s), with
/// a placement seed passed through to nextpnr.
#[test]
fn ice40_up5k_flow_places_and_fits() {
    flow("ice40-up5k", "ice40-up5k.toml", &["--seed", "2"]);
}

/// configs/default.toml through YoWASP yosys, nextpnr-ecp5 and ecppack: the default engine
/// places on the ECP5-85F within its LUTs, MULT18X18Ds and DP16KDs. The slowest test of the
/// suite (measured: 15 min of CPU for synthesis, placement and routing; 42 min of wall time on
/// a machine shared with two other builds), run in CI because it is the check that the shipped
/// default synthesizes at all.
#[test]
fn default_config_flow_places_and_fits_the_ecp5() {
    flow("ecp5-85f", "default.toml", &[]);
}
