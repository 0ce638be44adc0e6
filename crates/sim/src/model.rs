//! A loaded Verilator model and the safe API over its C shim.
//!
//! Threading: a [`Compiled`] model (the loaded library) is `Send + Sync` and can hand out
//! instances on any thread. A [`Model`] instance is neither `Send` nor `Sync`: a Verilated model
//! and its `VerilatedContext` are not thread-safe, so an instance stays on the thread that made it.

use crate::builder::BuildInfo;
use crate::design::{Design, ABI_VERSION};
use crate::error::{io_err, Result, SimError};
use crate::ports::{Direction, Port};
use libloading::Library;
use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type EvalFn = unsafe extern "C" fn(*mut c_void) -> i32;
type LastErrorFn = unsafe extern "C" fn() -> *const std::ffi::c_char;
type Set64Fn = unsafe extern "C" fn(*mut c_void, u32, u64);
type Get64Fn = unsafe extern "C" fn(*mut c_void, u32) -> u64;
type SetWordsFn = unsafe extern "C" fn(*mut c_void, u32, *const u32);
type GetWordsFn = unsafe extern "C" fn(*mut c_void, u32, *mut u32);
type TickFn = unsafe extern "C" fn(*mut c_void, u64) -> i32;
type TraceOpenFn = unsafe extern "C" fn(*mut c_void, *const std::ffi::c_char) -> i32;
type U32Fn = unsafe extern "C" fn() -> u32;

/// The shim's entry points. Plain function pointers, valid while the `Library` lives; every
/// holder of a `Fns` also holds an `Arc<Library>`.
#[derive(Clone, Copy)]
struct Fns {
    new: NewFn,
    free: FreeFn,
    eval: EvalFn,
    set64: Set64Fn,
    get64: Get64Fn,
    set_words: SetWordsFn,
    get_words: GetWordsFn,
    tick: TickFn,
    trace_open: TraceOpenFn,
    trace_close: FreeFn,
    last_error: LastErrorFn,
}

/// A built and loaded model, from which instances are made.
pub struct Compiled {
    lib: Arc<Library>,
    fns: Fns,
    design: Arc<Design>,
    index: Arc<HashMap<String, usize>>,
    pub(crate) info: BuildInfo,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("design", &self.design.name)
            .field("info", &self.info)
            .finish()
    }
}

impl Compiled {
    pub(crate) fn load(so: &Path, design: Design, info: BuildInfo) -> Result<Compiled> {
        let load_err = |message: String| SimError::Load {
            path: so.display().to_string(),
            message,
        };
        // SAFETY: the library is one we built from the generated shim; its initialisers are
        // Verilator's runtime statics, which have no side effects beyond the library.
        let lib = unsafe { Library::new(so) }.map_err(|e| load_err(e.to_string()))?;
        // SAFETY: the symbol types match the shim template (checked via dsc_abi_version).
        let fns = unsafe {
            macro_rules! sym {
                ($name:literal, $ty:ty) => {
                    *lib.get::<$ty>($name)
                        .map_err(|e| load_err(e.to_string()))?
                };
            }
            let abi: U32Fn = sym!(b"dsc_abi_version\0", U32Fn);
            if abi() != ABI_VERSION {
                return Err(load_err(format!("shim ABI {} but dsc-sim expects {ABI_VERSION}", abi())));
            }
            let count: U32Fn = sym!(b"dsc_port_count\0", U32Fn);
            if count() as usize != design.ports.len() {
                return Err(load_err(format!(
                    "shim has {} ports but the design has {}",
                    count(),
                    design.ports.len()
                )));
            }
            Fns {
                new: sym!(b"dsc_new\0", NewFn),
                free: sym!(b"dsc_free\0", FreeFn),
                eval: sym!(b"dsc_eval\0", EvalFn),
                set64: sym!(b"dsc_set64\0", Set64Fn),
                get64: sym!(b"dsc_get64\0", Get64Fn),
                set_words: sym!(b"dsc_set_words\0", SetWordsFn),
                get_words: sym!(b"dsc_get_words\0", GetWordsFn),
                tick: sym!(b"dsc_tick\0", TickFn),
                trace_open: sym!(b"dsc_trace_open\0", TraceOpenFn),
                trace_close: sym!(b"dsc_trace_close\0", FreeFn),
                last_error: sym!(b"dsc_last_error\0", LastErrorFn),
            }
        };
        let index = design
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        Ok(Compiled {
            lib: Arc::new(lib),
            fns,
            design: Arc::new(design),
            index: Arc::new(index),
            info,
        })
    }

    /// What the build did (cached or not, time, key, directory).
    pub fn info(&self) -> &BuildInfo {
        &self.info
    }

    pub fn design(&self) -> &Design {
        &self.design
    }

    /// A fresh instance of the model, in its power-up state. With a trace directory
    /// (`BuildOptions::trace_dir`, default `DSC_TRACE`), the instance writes
    /// `<dir>/<design>-<pid>-<n>.vcd`.
    pub fn model(&self) -> Result<Model> {
        // SAFETY: dsc_new allocates a fresh model; freed exactly once in Model::drop.
        let raw = unsafe { (self.fns.new)() };
        let handle = NonNull::new(raw).ok_or_else(|| SimError::Fatal {
            design: self.design.name.clone(),
            // SAFETY: the shim returns a NUL-terminated thread-local string.
            message: unsafe { last_error(self.fns) },
        })?;
        let mut m = Model {
            fns: self.fns,
            handle,
            design: self.design.clone(),
            index: self.index.clone(),
            clock: self.design.ports.iter().position(|p| p.clock),
            cycles: 0,
            dirty: true,
            tracing: false,
            fatal: None,
            _lib: self.lib.clone(),
            _not_send: PhantomData,
        };
        if let Some(dir) = &self.info.trace_dir {
            static SEQ: AtomicU64 = AtomicU64::new(0);
            std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
            let file = dir.join(format!(
                "{}-{}-{}.vcd",
                self.design.name,
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            m.open_trace(&file)?;
        }
        Ok(m)
    }
}

/// Index of a port in the design's port list, for fast repeated access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortId(pub usize);

/// One instance of a Verilated model. See the module docs on threading.
pub struct Model {
    fns: Fns,
    handle: NonNull<c_void>,
    design: Arc<Design>,
    index: Arc<HashMap<String, usize>>,
    clock: Option<usize>,
    cycles: u64,
    /// Inputs changed since the last eval: reads evaluate first so combinational outputs are
    /// current.
    dirty: bool,
    tracing: bool,
    /// Set by a Verilator fatal error; every later access returns it.
    fatal: Option<String>,
    _lib: Arc<Library>,
    _not_send: PhantomData<*mut ()>,
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: handle came from dsc_new and is freed once; the library outlives this call
        // because `_lib` is dropped after `drop` returns.
        unsafe { (self.fns.free)(self.handle.as_ptr()) }
    }
}

impl Model {
    pub fn ports(&self) -> &[Port] {
        &self.design.ports
    }

    pub fn design(&self) -> &Design {
        &self.design
    }

    /// Looks a port up by its clean name.
    pub fn port_id(&self, name: &str) -> Result<PortId> {
        self.index
            .get(name)
            .map(|&i| PortId(i))
            .ok_or_else(|| SimError::UnknownPort {
                port: name.to_string(),
                known: self
                    .design
                    .ports
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    fn port(&self, id: PortId) -> Result<&Port> {
        self.design.ports.get(id.0).ok_or_else(|| SimError::UnknownPort {
            port: format!("#{}", id.0),
            known: format!("{} ports", self.design.ports.len()),
        })
    }

    fn writable(&self, id: PortId) -> Result<&Port> {
        let p = self.port(id)?;
        if p.direction != Direction::Input {
            return Err(SimError::BadValue {
                port: p.name.clone(),
                message: "is an output and cannot be driven".into(),
            });
        }
        if p.clock {
            return Err(SimError::BadValue {
                port: p.name.clone(),
                message: "is the clock, driven by tick()".into(),
            });
        }
        Ok(p)
    }

    /// Drives input `name` with `value` (checked against the port's width).
    pub fn set(&mut self, name: &str, value: u64) -> Result<()> {
        let id = self.port_id(name)?;
        self.set_id(id, value as u128)
    }

    /// Drives an input by id with a value of up to 128 bits.
    pub fn set_id(&mut self, id: PortId, value: u128) -> Result<()> {
        self.check()?;
        let p = self.writable(id)?;
        if p.width < 128 && value >> p.width != 0 {
            return Err(too_wide(p, &format!("{value:#x}")));
        }
        if p.width <= 64 {
            // SAFETY: valid handle; index and width checked above.
            unsafe { (self.fns.set64)(self.handle.as_ptr(), id.0 as u32, value as u64) };
        } else {
            let mut words = vec![0u32; p.words()];
            for (i, w) in words.iter_mut().enumerate().take(4) {
                *w = (value >> (32 * i)) as u32;
            }
            // SAFETY: `words` has exactly the port's word count.
            unsafe { (self.fns.set_words)(self.handle.as_ptr(), id.0 as u32, words.as_ptr()) };
        }
        self.dirty = true;
        Ok(())
    }

    /// Drives an input of any width from 32-bit words, least significant first (Verilator's
    /// `VlWide` order). Missing high words are zero; bits beyond the width are an error.
    pub fn set_words(&mut self, name: &str, words: &[u32]) -> Result<()> {
        let id = self.port_id(name)?;
        self.set_words_id(id, words)
    }

    /// [`Model::set_words`] by port id.
    pub fn set_words_id(&mut self, id: PortId, words: &[u32]) -> Result<()> {
        self.check()?;
        let p = self.writable(id)?;
        check_words(p, words)?;
        let n = p.words();
        // No allocation on the per-cycle path: pass the caller's words when they cover the
        // port, else zero-extend on the stack (heap only for ports over 2048 bits).
        let mut stack = [0u32; 64];
        let heap;
        let ptr = if words.len() >= n {
            words.as_ptr()
        } else if n <= stack.len() {
            stack[..words.len()].copy_from_slice(words);
            stack.as_ptr()
        } else {
            heap = fit_words(p, words)?;
            heap.as_ptr()
        };
        // SAFETY: `ptr` points at at least the port's word count of valid words.
        unsafe { (self.fns.set_words)(self.handle.as_ptr(), id.0 as u32, ptr) };
        self.dirty = true;
        Ok(())
    }

    fn settle(&mut self) -> Result<()> {
        self.check()?;
        if self.dirty {
            // SAFETY: valid handle.
            let rc = unsafe { (self.fns.eval)(self.handle.as_ptr()) };
            self.dirty = false;
            self.fatal_if(rc)?;
        }
        Ok(())
    }

    /// Records a fatal error reported by the shim (`rc != 0`).
    fn fatal_if(&mut self, rc: i32) -> Result<()> {
        if rc != 0 {
            // SAFETY: the shim returns a NUL-terminated thread-local string.
            self.fatal = Some(unsafe { last_error(self.fns) });
        }
        self.check()
    }

    /// `Ok` unless the model stopped with a Verilator fatal error ($stop, $fatal, a
    /// combinational region that does not converge); then that error, on every call.
    pub fn check(&self) -> Result<()> {
        match &self.fatal {
            None => Ok(()),
            Some(message) => Err(SimError::Fatal {
                design: self.design.name.clone(),
                message: message.clone(),
            }),
        }
    }

    /// Reads port `name` (input or output) of at most 64 bits.
    pub fn get(&mut self, name: &str) -> Result<u64> {
        let id = self.port_id(name)?;
        let p = self.port(id)?;
        if p.width > 64 {
            return Err(SimError::BadValue {
                port: p.name.clone(),
                message: format!("is {} bits wide: read it with get_words or get_id", p.width),
            });
        }
        self.get_id(id).map(|v| v as u64)
    }

    /// Reads a port of up to 128 bits by id.
    pub fn get_id(&mut self, id: PortId) -> Result<u128> {
        let p = self.port(id)?;
        if p.width <= 64 {
            self.settle()?;
            // SAFETY: valid handle and index.
            return Ok(unsafe { (self.fns.get64)(self.handle.as_ptr(), id.0 as u32) } as u128);
        }
        if p.width > 128 {
            return Err(SimError::BadValue {
                port: p.name.clone(),
                message: format!("is {} bits wide: read it with get_words", p.width),
            });
        }
        // 65..=128 bits: at most 4 words, read into the stack (no allocation per cycle).
        self.settle()?;
        let mut buf = [0u32; 4];
        // SAFETY: the port has at most 4 words.
        unsafe { (self.fns.get_words)(self.handle.as_ptr(), id.0 as u32, buf.as_mut_ptr()) };
        Ok(buf
            .iter()
            .enumerate()
            .fold(0u128, |acc, (i, &w)| acc | (w as u128) << (32 * i)))
    }

    /// Reads a port of any width as 32-bit words, least significant first.
    pub fn get_words(&mut self, name: &str) -> Result<Vec<u32>> {
        let id = self.port_id(name)?;
        self.get_words_id(id)
    }

    /// [`Model::get_words`] by port id.
    pub fn get_words_id(&mut self, id: PortId) -> Result<Vec<u32>> {
        let n = self.port(id)?.words();
        self.settle()?;
        let mut buf = vec![0u32; n];
        // SAFETY: `buf` has exactly the port's word count.
        unsafe { (self.fns.get_words)(self.handle.as_ptr(), id.0 as u32, buf.as_mut_ptr()) };
        Ok(buf)
    }

    /// Evaluates combinational logic after input changes (reads do this by themselves).
    pub fn eval(&mut self) -> Result<()> {
        self.dirty = true;
        self.settle()
    }

    /// One clock cycle: clock low → eval → clock high → eval (one rising edge). Inputs set
    /// before `tick` are what the registers capture. Without a clock port, one eval.
    /// A Verilator fatal error in the cycle is kept: see [`Model::check`], [`Model::try_tick`].
    pub fn tick(&mut self) {
        let _ = self.try_ticks(1);
    }

    /// `n` clock cycles in one call into the model.
    pub fn ticks(&mut self, n: u64) {
        let _ = self.try_ticks(n);
    }

    /// [`Model::tick`], returning a Verilator fatal error if one happened.
    pub fn try_tick(&mut self) -> Result<()> {
        self.try_ticks(1)
    }

    /// [`Model::ticks`], returning a Verilator fatal error if one happened.
    pub fn try_ticks(&mut self, n: u64) -> Result<()> {
        self.check()?;
        // SAFETY: valid handle.
        let rc = unsafe { (self.fns.tick)(self.handle.as_ptr(), n) };
        self.dirty = false;
        self.cycles += n;
        self.fatal_if(rc)
    }

    /// Clock cycles run so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// True when the design has a clock port that `tick` toggles.
    pub fn has_clock(&self) -> bool {
        self.clock.is_some()
    }

    /// Starts writing a VCD trace to `path`. Needs a model built with `trace: true`.
    pub fn open_trace(&mut self, path: &Path) -> Result<()> {
        let err = |message: String| SimError::Io {
            context: format!("trace {}", path.display()),
            source: std::io::Error::other(message),
        };
        if self.tracing {
            return Err(err("a trace was already opened on this model (one per instance)".into()));
        }
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| err("path contains a NUL byte".into()))?;
        // SAFETY: valid handle; the string lives across the call.
        match unsafe { (self.fns.trace_open)(self.handle.as_ptr(), c.as_ptr()) } {
            0 => {
                self.tracing = true;
                Ok(())
            }
            -1 => Err(err(
                "the model was built without tracing (BuildOptions::trace or DSC_TRACE)".into(),
            )),
            _ => Err(err("Verilator could not open the file".into())),
        }
    }

    /// Flushes and closes the trace file (also done on drop).
    pub fn close_trace(&mut self) {
        // SAFETY: valid handle; closing when nothing is open is a no-op in the shim.
        unsafe { (self.fns.trace_close)(self.handle.as_ptr()) };
    }
}

/// `words` zero-extended to exactly the port's word count; an error if any bit lies beyond
/// the port's width.
pub(crate) fn fit_words(p: &Port, words: &[u32]) -> Result<Vec<u32>> {
    check_words(p, words)?;
    let mut buf = vec![0u32; p.words()];
    let k = words.len().min(buf.len());
    buf[..k].copy_from_slice(&words[..k]);
    Ok(buf)
}

/// Checks that `words` (little-endian) has no bit set beyond the port's width.
pub(crate) fn check_words(p: &Port, words: &[u32]) -> Result<()> {
    let n = p.words();
    if let Some(i) = words.iter().skip(n).position(|&w| w != 0) {
        return Err(too_wide(p, &format!("{} words (word {} set)", words.len(), n + i)));
    }
    let top_bits = p.width - 32 * (n - 1);
    if let Some(&top) = words.get(n - 1) {
        if top_bits < 32 && top >> top_bits != 0 {
            return Err(too_wide(p, &format!("word {} = {top:#x}", n - 1)));
        }
    }
    Ok(())
}

pub(crate) fn too_wide(p: &Port, what: &str) -> SimError {
    SimError::BadValue {
        port: p.name.clone(),
        message: format!("value {what} does not fit in {} bits", p.width),
    }
}

/// The shim's last fatal message on this thread.
///
/// # Safety
/// `fns` must come from a loaded shim.
unsafe fn last_error(fns: Fns) -> String {
    let p = (fns.last_error)();
    if p.is_null() {
        return String::from("(no message)");
    }
    std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
}
