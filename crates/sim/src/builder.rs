//! Verilog → `verilator --cc` → C++ at -O3 → a shared object, cached by content hash.
//!
//! Why a shared object: the Verilog only exists at run time (it is generated from a rust-hdl
//! block in the test), so a build script cannot compile it. Verilator's generated Makefile
//! compiles the model (`OPT_FAST=-O3`: Verilator's speed comes from the C++ optimiser) and the
//! generated shim with the exact flags Verilator wants; we link them `-shared -fPIC`, exporting
//! only the shim's `dsc_*` symbols so two models in one process never interpose each other's
//! Verilator runtime. The model is single-threaded (no `--threads`: on two cores threads made
//! it ~30x slower, DESIGN §6).
//!
//! Cache: `<cache>/model-<key>/model.so`, key = SHA-256 of the Verilog, wrapper, shim, flags and
//! `verilator --version`. A build happens in a private temp directory that is renamed into place
//! at the end, so concurrent processes building the same model never see a half-written one
//! (the loser of the rename race discards its copy). Verilator's runtime objects (`verilated.o`
//! and friends) are compiled once per Verilator version and flag set and shared by all models.

use crate::design::Design;
use crate::error::{io_err, Result, SimError};
use crate::model::Compiled;
use sha2::{Digest, Sha256};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Environment variable naming the cache directory for built models.
pub const CACHE_ENV: &str = "DSC_SIM_CACHE";
/// Environment variable naming a directory for VCD traces; when set, models are built with
/// tracing and every new `Model` writes `<dir>/<design>-<pid>-<n>.vcd`.
pub const TRACE_ENV: &str = "DSC_TRACE";

/// C++ optimisation of the model (Verilator's `OPT_FAST`) and of the rest.
const MAKE_OPT: [&str; 3] = ["OPT_FAST=-O3", "OPT_SLOW=-O1", "OPT_GLOBAL=-O2"];

/// How to build a model.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// Compile VCD tracing into the model (`verilator --trace`). Off by default, unless
    /// `DSC_TRACE` is set: tracing support costs speed even when no file is open.
    pub trace: bool,
    /// When set, tracing is compiled in and every instance writes
    /// `<dir>/<design>-<pid>-<n>.vcd` from its first cycle. Default: `DSC_TRACE`.
    pub trace_dir: Option<PathBuf>,
    /// Where built models are cached. Default: `DSC_SIM_CACHE`, else `dsc-sim-cache` in the
    /// cargo target directory of the running executable, else the system temp directory.
    pub cache_dir: Option<PathBuf>,
    /// The search path (like `PATH`) used to find verilator, make and the C++ compiler.
    /// Default: the process `PATH`. Lets a test look tools up in a path lacking them without
    /// touching the process environment.
    pub tool_path: Option<OsString>,
    /// Extra arguments for verilator (e.g. a waiver file).
    pub verilator_args: Vec<String>,
    /// Parallel make jobs.
    pub jobs: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        let trace_dir = std::env::var_os(TRACE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        BuildOptions {
            trace: trace_dir.is_some(),
            trace_dir,
            cache_dir: None,
            tool_path: None,
            verilator_args: Vec::new(),
            jobs: 2,
        }
    }
}

/// What a build did.
#[derive(Clone, Debug)]
pub struct BuildInfo {
    /// True when the model came from the cache and Verilator was not run.
    pub cached: bool,
    /// The cache key (hex SHA-256).
    pub key: String,
    /// Directory holding `model.so` and the generated sources.
    pub dir: PathBuf,
    /// Wall time of `build`, including the cache lookup and loading.
    pub seconds: f64,
    /// `verilator --version`.
    pub verilator_version: String,
    /// Whether tracing is compiled in.
    pub trace: bool,
    /// Where every new instance writes its VCD, if anywhere.
    pub trace_dir: Option<PathBuf>,
}

/// Finds `tool` in `search_path` (or the process `PATH`), returning a clear error naming the
/// setup script when it is absent.
pub fn find_tool(tool: &str, search_path: Option<&OsStr>) -> Result<PathBuf> {
    let path = match search_path {
        Some(p) => p.to_os_string(),
        None => std::env::var_os("PATH").unwrap_or_default(),
    };
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(tool);
        if is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(SimError::ToolNotFound {
        tool: tool.to_string(),
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The default cache directory (see [`BuildOptions::cache_dir`]).
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("dsc-sim-cache");
    }
    // Test, bench and binary executables live under the target dir, which cargo marks with
    // CACHEDIR.TAG.
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            if dir.join("CACHEDIR.TAG").is_file() {
                return dir.join("dsc-sim-cache");
            }
        }
    }
    std::env::temp_dir().join("dsc-sim-cache")
}

/// The tools one build uses.
struct Tools {
    verilator: PathBuf,
    make: PathBuf,
    cxx: PathBuf,
    search_path: Option<OsString>,
}

impl Tools {
    fn find(opts: &BuildOptions) -> Result<Tools> {
        let sp = opts.tool_path.as_deref();
        let verilator = find_tool("verilator", sp)?;
        let make = find_tool("make", sp)?;
        let cxx = find_tool("g++", sp).or_else(|_| find_tool("c++", sp)).map_err(|_| {
            SimError::ToolNotFound {
                tool: "g++".into(),
            }
        })?;
        Ok(Tools {
            verilator,
            make,
            cxx,
            search_path: opts.tool_path.clone(),
        })
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        if let Some(p) = &self.search_path {
            c.env("PATH", p);
        }
        c
    }
}

/// Runs a command, returning its stdout; on failure the error carries stdout and stderr verbatim.
fn run(tool: &str, mut cmd: Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| SimError::ToolFailed {
        tool: tool.to_string(),
        command: shown.clone(),
        status: "did not start".into(),
        output: e.to_string(),
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(SimError::ToolFailed {
            tool: tool.to_string(),
            command: shown,
            status: out.status.to_string(),
            output: format!("{stderr}{stdout}"),
        });
    }
    Ok(stdout)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unique_suffix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Renames the finished `tmp` directory to `dest`. If another process got there first, its
/// copy wins and ours is discarded; both are complete, identical builds.
fn publish(tmp: &Path, dest: &Path, marker: &str) -> Result<()> {
    match fs::rename(tmp, dest) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_dir_all(tmp);
            if dest.join(marker).is_file() {
                Ok(())
            } else {
                Err(io_err(format!("publishing {}", dest.display()))(e))
            }
        }
    }
}

/// Temp build directories older than this were left by a killed build: safe to remove.
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Removes `tmp-*` directories that a killed build left behind (best effort).
fn remove_stale_temps(cache: &Path) {
    let Ok(entries) = fs::read_dir(cache) else { return };
    for e in entries.flatten() {
        let stale = e.file_name().to_string_lossy().starts_with("tmp-")
            && e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP);
        if stale {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Builds (or fetches from the cache) the Verilator model of `design` and loads it.
pub fn build(design: &Design, opts: &BuildOptions) -> Result<Compiled> {
    let start = Instant::now();
    let mut opts = opts.clone();
    opts.trace |= opts.trace_dir.is_some();
    let opts = &opts;
    let tools = Tools::find(opts)?;
    let mut vcmd = tools.command(&tools.verilator);
    vcmd.arg("--version");
    let verilator_version = run("verilator", vcmd)?.trim().to_string();

    let wrapper = design.wrapper_verilog()?;
    let shim = design.shim_cpp(opts.trace)?;
    let vflags = verilator_flags(opts);
    let flag_text = format!("{vflags:?} {MAKE_OPT:?}");

    let mut h = Sha256::new();
    for part in [
        crate::design::ABI_VERSION.to_string().as_str(),
        &verilator_version,
        &flag_text,
        &design.verilog,
        &wrapper,
        &shim,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let key = hex(&h.finalize());
    let cache = opts.cache_dir.clone().unwrap_or_else(default_cache_dir);
    fs::create_dir_all(&cache).map_err(io_err(format!("creating {}", cache.display())))?;
    let dir = cache.join(format!("model-{}", &key[..32]));
    let so = dir.join("model.so");

    let cached = so.is_file();
    if !cached {
        remove_stale_temps(&cache);
        let tmp = cache.join(format!("tmp-model-{}-{}", &key[..12], unique_suffix()));
        let result = compile(design, opts, &tools, &tmp, &cache, &wrapper, &shim, &vflags, &verilator_version);
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        publish(&tmp, &dir, "model.so")?;
    }
    let info = BuildInfo {
        cached,
        key,
        dir: dir.clone(),
        seconds: 0.0,
        verilator_version,
        trace: opts.trace,
        trace_dir: opts.trace_dir.clone(),
    };
    let mut compiled = Compiled::load(&so, design.clone(), info)?;
    compiled.info.seconds = start.elapsed().as_secs_f64();
    Ok(compiled)
}

fn verilator_flags(opts: &BuildOptions) -> Vec<String> {
    let mut f: Vec<String> = [
        "--cc",
        "--no-timing",
        // Co-simulation is not the lint step (that is `verilator --lint-only -Wall` with the
        // reviewed waiver file): warnings must not stop a build, errors still do.
        "-Wno-fatal",
        "-Wno-lint",
        "-Wno-style",
        "-CFLAGS",
        "-fPIC",
        // The shim replaces vl_fatal and vl_finish so a $stop, $fatal, $finish or a
        // non-converging model becomes an error in Rust instead of ending the process.
        "-CFLAGS",
        "-DVL_USER_FATAL",
        "-CFLAGS",
        "-DVL_USER_FINISH",
        "--top-module",
        "dsc_top",
        "--prefix",
        "Vdsc_top",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if opts.trace {
        f.push("--trace".into());
    }
    f.extend(opts.verilator_args.iter().cloned());
    f
}

/// Names of Verilator's runtime objects this model needs (`VM_GLOBAL_FAST/SLOW` in the
/// generated `Vdsc_top_classes.mk`).
fn runtime_objects(obj: &Path) -> Result<Vec<String>> {
    let mk = obj.join("Vdsc_top_classes.mk");
    let text = fs::read_to_string(&mk).map_err(io_err(format!("reading {}", mk.display())))?;
    let mut names = Vec::new();
    let mut in_global = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("VM_GLOBAL_FAST") || t.starts_with("VM_GLOBAL_SLOW") {
            in_global = true;
            continue;
        }
        if in_global {
            if t.is_empty() {
                in_global = false;
                continue;
            }
            let name = t.trim_end_matches('\\').trim();
            if !name.is_empty() {
                names.push(format!("{name}.o"));
            }
        }
    }
    if names.is_empty() {
        return Err(SimError::ToolFailed {
            tool: "verilator".into(),
            command: "reading Vdsc_top_classes.mk".into(),
            status: "unexpected output".into(),
            output: format!("no VM_GLOBAL objects listed in {}", mk.display()),
        });
    }
    Ok(names)
}

#[allow(clippy::too_many_arguments)]
fn compile(
    design: &Design,
    opts: &BuildOptions,
    tools: &Tools,
    tmp: &Path,
    cache: &Path,
    wrapper: &str,
    shim: &str,
    vflags: &[String],
    verilator_version: &str,
) -> Result<()> {
    let write = |name: &str, text: &str| {
        let p = tmp.join(name);
        fs::write(&p, text).map_err(io_err(format!("writing {}", p.display())))
    };
    fs::create_dir_all(tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
    write("design.v", &design.verilog)?;
    write("wrapper.v", wrapper)?;
    write("shim.cpp", shim)?;
    write(
        "exports.map",
        "{ global: dsc_*; local: *; };\n",
    )?;

    let mut v = tools.command(&tools.verilator);
    v.current_dir(tmp)
        .args(vflags)
        .args(["-Mdir", "obj", "design.v", "wrapper.v", "shim.cpp"]);
    run("verilator", v)?;

    let obj = tmp.join("obj");
    let rt_names = runtime_objects(&obj)?;
    // Runtime objects depend on the Verilator version and the compile flags only.
    let mut h = Sha256::new();
    h.update(verilator_version.as_bytes());
    h.update(format!("{vflags:?} {MAKE_OPT:?} {rt_names:?}").as_bytes());
    let rt_dir = cache.join(format!("vlrt-{}", &hex(&h.finalize())[..24]));
    let have_rt = rt_names.iter().all(|n| rt_dir.join(n).is_file());

    let mut m = tools.command(&tools.make);
    m.current_dir(&obj)
        .arg(format!("-j{}", opts.jobs.max(1)))
        .args(["-s", "-f", "Vdsc_top.mk"])
        .args(MAKE_OPT)
        .args(["Vdsc_top__ALL.a", "shim.o"]);
    if !have_rt {
        m.args(&rt_names);
    }
    run("make", m)?;

    if !have_rt {
        let rt_tmp = cache.join(format!("tmp-vlrt-{}", unique_suffix()));
        fs::create_dir_all(&rt_tmp).map_err(io_err(format!("creating {}", rt_tmp.display())))?;
        for n in &rt_names {
            fs::copy(obj.join(n), rt_tmp.join(n)).map_err(io_err(format!("copying {n}")))?;
        }
        publish(&rt_tmp, &rt_dir, &rt_names[rt_names.len() - 1])?;
    }

    let mut link = tools.command(&tools.cxx);
    link.current_dir(tmp)
        .args(["-shared", "-fPIC", "-o", "model.so", "obj/shim.o", "obj/Vdsc_top__ALL.a"])
        .args(rt_names.iter().map(|n| rt_dir.join(n)))
        .args(["-pthread", "-Wl,--version-script=exports.map"]);
    run("g++", link)?;

    // The objects are no longer needed; keep the generated sources for inspection.
    for entry in fs::read_dir(&obj).map_err(io_err("listing obj"))?.flatten() {
        let p = entry.path();
        if matches!(p.extension().and_then(|e| e.to_str()), Some("o" | "a")) {
            let _ = fs::remove_file(p);
        }
    }
    Ok(())
}
