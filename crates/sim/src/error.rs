//! The one error type of dsc-sim. Every failure a user can cause (bad port name, value too wide,
//! bad Verilog, missing tool) comes back as a `SimError` with a message, never as a panic.

use std::fmt;

/// What went wrong in building or driving a co-simulation model.
#[derive(thiserror::Error)]
pub enum SimError {
    /// A required external tool is not on the tool search path.
    #[error("{tool} not found: run scripts/setup.sh")]
    ToolNotFound { tool: String },
    /// An external tool ran and failed; `output` is its stdout and stderr, verbatim.
    #[error("{tool} failed ({status}) running `{command}`:\n{output}")]
    ToolFailed {
        tool: String,
        command: String,
        status: String,
        output: String,
    },
    /// The rust-hdl block could not be turned into Verilog (check failure or generator panic).
    #[error("cannot generate Verilog for `{design}`: {message}")]
    Generate { design: String, message: String },
    /// The port list is not usable (name clash after cleaning, no ports, two clocks, ...).
    #[error("bad port list for `{design}`: {message}")]
    Ports { design: String, message: String },
    /// A port name that the design does not have.
    #[error("unknown port `{port}` (ports: {known})")]
    UnknownPort { port: String, known: String },
    /// A value that does not fit the port, or a write to an output.
    #[error("port `{port}`: {message}")]
    BadValue { port: String, message: String },
    /// Loading the built shared object or one of its symbols failed.
    #[error("cannot load model {path}: {message}")]
    Load { path: String, message: String },
    /// File-system trouble in the cache or trace directories.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A template failed to render (a bug in dsc-sim, reported rather than panicking).
    #[error("template `{name}` failed: {message}")]
    Template { name: String, message: String },
    /// The Verilated model stopped with a fatal error (`$stop`, `$fatal`, a combinational
    /// region that does not converge). The instance is unusable afterwards.
    #[error("Verilator fatal error in `{design}`: {message}")]
    Fatal { design: String, message: String },
    /// A stream driver or monitor was misused (missing signal, beat too wide, timeout).
    #[error("stream `{stream}`: {message}")]
    Stream { stream: String, message: String },
}

/// Debug prints the same text as Display, so a test that `unwrap`s or returns a `SimError`
/// shows the actionable message ("verilator not found: run scripts/setup.sh"), not a struct dump.
impl fmt::Debug for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

pub type Result<T, E = SimError> = std::result::Result<T, E>;

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> SimError {
    let context = context.into();
    move |source| SimError::Io { context, source }
}
