//! Tool checks every block's tests run on its generated Verilog: Verilator lint, Icarus
//! compile, yosys synthesis statistics.
//!
//! A missing tool skips the check with a message saying how to install it — unless the
//! environment variable `CI` is set, where a missing tool fails the test: CI has every tool,
//! so a skip there would hide a broken setup.
//!
//! Each call works in its own fresh directory under the system temp dir, removed on success
//! and kept (its path in the error) on failure.

use crate::primitives::{ECP5_DSP_DEFINE, MULT18X18D_MODEL};
use rust_hdl::prelude::{generate_verilog, Block};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The one reviewed waiver file for `verilator -Wall`, compiled in so tests run from any
/// working directory.
pub const LINT_WAIVERS: &str = include_str!("../../../sim/lint_waivers.vlt");

/// The Verilog of a block: `connect_all` then rust-hdl's `generate_verilog`. The top module
/// is named `top`.
pub fn verilog_of<B: Block>(block: &mut B) -> String {
    block.connect_all();
    generate_verilog(block)
}

/// Whether `name` can be run. Absent: prints a skip message and returns `false`, or panics
/// when `CI` is set.
pub fn require_tool(name: &str) -> bool {
    require_tool_in(name, std::env::var_os("CI").is_some())
}

/// [`require_tool`] with the CI decision passed in (testable without touching the
/// environment of other tests).
fn require_tool_in(name: &str, ci: bool) -> bool {
    if tool_present(name) {
        return true;
    }
    let msg = format!("skipping: {name} not found: run scripts/setup.sh");
    if ci {
        panic!("{msg} (CI is set: every tool must be installed)");
    }
    eprintln!("{msg}");
    false
}

fn tool_present(name: &str) -> bool {
    match Command::new(name).arg("-V").output() {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

/// A fresh directory for one tool run.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(tag: &str) -> Result<Self, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("dsc-hw-{tag}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(WorkDir(dir))
    }
    fn write(&self, name: &str, text: &str) -> Result<PathBuf, String> {
        let p = self.0.join(name);
        std::fs::write(&p, text).map_err(|e| format!("writing {}: {e}", p.display()))?;
        Ok(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    /// Removes the directory (only called on success).
    fn done(self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command, dir: &WorkDir, what: &str) -> Result<String, String> {
    let out = cmd
        .current_dir(dir.path())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "{what} failed ({}); files kept in {}\n{text}",
            out.status,
            dir.path().display()
        ))
    }
}

/// `verilator --lint-only -Wall` with [`LINT_WAIVERS`]; any remaining warning is an error.
pub fn lint(verilog: &str, top: &str) -> Result<(), String> {
    lint_with(verilog, top, false)
}

/// [`lint`] of the DSP primitives' ECP5 branch: `DSCGEN_ECP5_DSP` defined, the MULT18X18D
/// model (sim/MULT18X18D.v) beside the design.
pub fn lint_ecp5_dsp(verilog: &str, top: &str) -> Result<(), String> {
    lint_with(verilog, top, true)
}

fn lint_with(verilog: &str, top: &str, ecp5_dsp: bool) -> Result<(), String> {
    let dir = WorkDir::new("lint")?;
    let waivers = dir.write("lint_waivers.vlt", LINT_WAIVERS)?;
    let src = dir.write(&format!("{top}.v"), verilog)?;
    let mut cmd = Command::new("verilator");
    cmd.args(["--lint-only", "-Wall", "--top-module", top]).arg(&waivers);
    if ecp5_dsp {
        add_ecp5_dsp_branch(&mut cmd, &dir)?;
    }
    run(cmd.arg(&src), &dir, "verilator --lint-only -Wall")?;
    dir.done();
    Ok(())
}

/// Selects the DSP primitives' ECP5 branch for Verilator or Icarus: `-DDSCGEN_ECP5_DSP` and the
/// MULT18X18D model (sim/MULT18X18D.v), written into `dir`, as a source (both tools take the
/// same two arguments).
fn add_ecp5_dsp_branch(cmd: &mut Command, dir: &WorkDir) -> Result<(), String> {
    cmd.arg(format!("-D{ECP5_DSP_DEFINE}"));
    cmd.arg(dir.write("MULT18X18D.v", MULT18X18D_MODEL)?);
    Ok(())
}

/// `iverilog -g2005` compiles the Verilog.
pub fn iverilog_compile(verilog: &str) -> Result<(), String> {
    let dir = WorkDir::new("iverilog")?;
    let src = dir.write("design.v", verilog)?;
    run(
        Command::new("iverilog")
            .args(["-g2005", "-o", "design.vvp"])
            .arg(&src),
        &dir,
        "iverilog -g2005",
    )?;
    dir.done();
    Ok(())
}

/// Compiles `verilog` with a testbench (top module `tb`) under `iverilog -g2005`, runs it with
/// `vvp` in a directory that also holds `files` (e.g. `$readmemh` vectors) and returns what it
/// printed. Lets a test check custom Verilog against the block's Rust model, vector by vector.
pub fn iverilog_run(
    verilog: &str,
    testbench: &str,
    files: &[(&str, String)],
) -> Result<String, String> {
    iverilog_run_with(verilog, testbench, files, false)
}

/// [`iverilog_run`] on the DSP primitives' ECP5 branch: `DSCGEN_ECP5_DSP` defined and the
/// behavioural MULT18X18D model (sim/MULT18X18D.v) compiled beside the design.
pub fn iverilog_run_ecp5_dsp(
    verilog: &str,
    testbench: &str,
    files: &[(&str, String)],
) -> Result<String, String> {
    iverilog_run_with(verilog, testbench, files, true)
}

fn iverilog_run_with(
    verilog: &str,
    testbench: &str,
    files: &[(&str, String)],
    ecp5_dsp: bool,
) -> Result<String, String> {
    let dir = WorkDir::new("iverilog-run")?;
    let src = dir.write("design.v", verilog)?;
    let tb = dir.write("tb.v", testbench)?;
    for (name, text) in files {
        dir.write(name, text)?;
    }
    let mut cmd = Command::new("iverilog");
    cmd.args(["-g2005", "-s", "tb", "-o", "sim.vvp"]);
    if ecp5_dsp {
        add_ecp5_dsp_branch(&mut cmd, &dir)?;
    }
    run(cmd.arg(&src).arg(&tb), &dir, "iverilog -g2005")?;
    let out = run(Command::new("vvp").args(["-n", "sim.vvp"]), &dir, "vvp")?;
    dir.done();
    Ok(out)
}

/// An FPGA family yosys synthesises for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Lattice iCE40 (`synth_ice40 -dsp`, so multipliers map to SB_MAC16).
    Ice40,
    /// Lattice ECP5 (`synth_ecp5`).
    Ecp5,
}

impl Target {
    /// `read_verilog` options: the ECP5 flow selects the DSP primitives' MULT18X18D branch.
    fn read_defines(self) -> String {
        match self {
            Target::Ice40 => String::new(),
            Target::Ecp5 => format!("-D{ECP5_DSP_DEFINE}"),
        }
    }
    fn synth_command(self, top: &str) -> String {
        match self {
            Target::Ice40 => format!("synth_ice40 -dsp -top {top}"),
            Target::Ecp5 => format!("synth_ecp5 -top {top}"),
        }
    }
    /// The LUT cell type.
    pub fn lut(self) -> &'static str {
        match self {
            Target::Ice40 => "SB_LUT4",
            Target::Ecp5 => "LUT4",
        }
    }
    /// The block-RAM cell type.
    pub fn bram(self) -> &'static str {
        match self {
            Target::Ice40 => "SB_RAM40_4K",
            Target::Ecp5 => "DP16KD",
        }
    }
    /// The multiplier cell type.
    pub fn dsp(self) -> &'static str {
        match self {
            Target::Ice40 => "SB_MAC16",
            Target::Ecp5 => "MULT18X18D",
        }
    }
    fn is_ff(self, cell: &str) -> bool {
        match self {
            Target::Ice40 => cell.starts_with("SB_DFF"),
            Target::Ecp5 => cell == "TRELLIS_FF",
        }
    }
}

/// What yosys `stat` reports for the synthesised (flattened) design, plus the latches the
/// `proc` pass inferred (those are later mapped into LUTs, so the final cell list alone
/// would hide them).
#[derive(Clone, Debug)]
pub struct Stat {
    pub target: Target,
    /// Cell count by cell type.
    pub cells: BTreeMap<String, usize>,
    /// Total cells.
    pub num_cells: usize,
    /// `Latch inferred for signal …` lines of the yosys log.
    pub inferred_latches: Vec<String>,
    /// The full yosys log.
    pub log: String,
}

impl Stat {
    /// Number of cells of one type (0 when absent).
    pub fn count(&self, cell: &str) -> usize {
        self.cells.get(cell).copied().unwrap_or(0)
    }
    /// Latches: inferred by `proc` or left as latch cells after mapping.
    pub fn latches(&self) -> usize {
        let cells: usize = self
            .cells
            .iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                k.contains("dlatch") || k.contains("latch") || k.starts_with("$_sr")
            })
            .map(|(_, v)| v)
            .sum();
        cells + self.inferred_latches.len()
    }
    /// LUT cells.
    pub fn luts(&self) -> usize {
        self.count(self.target.lut())
    }
    /// Flip-flop cells (all SB_DFF* variants on iCE40, TRELLIS_FF on ECP5).
    pub fn ffs(&self) -> usize {
        self.cells
            .iter()
            .filter(|(k, _)| self.target.is_ff(k))
            .map(|(_, v)| v)
            .sum()
    }
    /// Block-RAM cells.
    pub fn brams(&self) -> usize {
        self.count(self.target.bram())
    }
    /// Multiplier (DSP) cells.
    pub fn dsps(&self) -> usize {
        self.count(self.target.dsp())
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?}: {} cells, {} LUTs, {} FFs, {} block RAMs, {} DSPs, {} latches; ",
            self.target,
            self.num_cells,
            self.luts(),
            self.ffs(),
            self.brams(),
            self.dsps(),
            self.latches()
        )?;
        let list: Vec<String> = self.cells.iter().map(|(k, v)| format!("{k}={v}")).collect();
        write!(f, "{}", list.join(" "))
    }
}

/// Synthesises with yosys for `target` and returns the `stat -json` figures of the design.
pub fn yosys_stat(verilog: &str, top: &str, target: Target) -> Result<Stat, String> {
    let dir = WorkDir::new("yosys")?;
    dir.write("design.v", verilog)?;
    let script = format!(
        "read_verilog {} design.v\n{}\ntee -q -o stat.json stat -json\n",
        target.read_defines(),
        target.synth_command(top)
    );
    dir.write("synth.ys", &script)?;
    run(
        Command::new("yosys").args(["-q", "-l", "yosys.log", "-s", "synth.ys"]),
        &dir,
        "yosys",
    )?;
    let read = |name: &str| {
        std::fs::read_to_string(dir.path().join(name))
            .map_err(|e| format!("reading yosys {name} in {}: {e}", dir.path().display()))
    };
    let log = read("yosys.log")?;
    let json: serde_json::Value = serde_json::from_str(&read("stat.json")?)
        .map_err(|e| format!("yosys stat -json output does not parse: {e}"))?;
    let design = &json["design"];
    let num_cells = design["num_cells"]
        .as_u64()
        .ok_or("yosys stat -json: no design.num_cells")? as usize;
    let mut cells = BTreeMap::new();
    if let Some(by_type) = design["num_cells_by_type"].as_object() {
        for (k, v) in by_type {
            cells.insert(k.clone(), v.as_u64().unwrap_or(0) as usize);
        }
    }
    let inferred_latches = log
        .lines()
        .filter(|l| l.trim_start().starts_with("Latch inferred for signal"))
        .map(str::to_owned)
        .collect();
    dir.done();
    Ok(Stat {
        target,
        cells,
        num_cells,
        inferred_latches,
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LATCH: &str = "module top(input en, input d, output reg q);\n\
                         always @(*) if (en) q = d;\nendmodule\n";

    #[test]
    fn yosys_reports_an_inferred_latch() {
        if !require_tool("yosys") {
            return;
        }
        for t in [Target::Ice40, Target::Ecp5] {
            let s = yosys_stat(LATCH, "top", t).unwrap();
            assert!(s.latches() >= 1, "{s}");
        }
    }

    /// A failed tool run names the directory it kept (with the tool's files in it) and the
    /// tool's output; the test then removes it.
    fn kept_dir_of(err: &str, file: &str) {
        let kept = err.split("files kept in ").nth(1).and_then(|r| r.lines().next());
        let dir = Path::new(kept.unwrap_or_else(|| panic!("no kept directory named: {err}")));
        assert!(dir.join(file).is_file(), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn lint_rejects_a_latch_and_iverilog_rejects_bad_syntax() {
        if require_tool("verilator") {
            kept_dir_of(&lint(LATCH, "top").unwrap_err(), "top.v");
        }
        if require_tool("iverilog") {
            kept_dir_of(&iverilog_compile("module top(; endmodule").unwrap_err(), "design.v");
        }
    }

    #[test]
    fn missing_tool_skips_outside_ci() {
        assert!(!tool_present("dsc-hw-no-such-tool"));
        assert!(!require_tool_in("dsc-hw-no-such-tool", false));
    }

    #[test]
    #[should_panic(expected = "skipping: dsc-hw-no-such-tool not found: run scripts/setup.sh")]
    fn missing_tool_fails_under_ci() {
        require_tool_in("dsc-hw-no-such-tool", true);
    }
}
