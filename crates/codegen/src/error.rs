//! Errors of the command line and the exit status each one gives.

use std::fmt;
use std::io;

/// Exit status for bad input, the same as clap's own usage errors.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit status when writing the output fails, `--check` finds stale files or a tool fails.
pub const EXIT_IO: u8 = 1;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The user asked for something invalid; the message names the problem in one line.
    Input(String),
    /// Writing to the terminal or a file failed.
    Io(io::Error),
    /// `emit --check`: the files on disk differ from what would be emitted (names them).
    Stale(String),
    /// A tool run failed (synthesis, place and route); the message says where the log is.
    Tool(String),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => EXIT_BAD_INPUT,
            CliError::Io(_) | CliError::Stale(_) | CliError::Tool(_) => EXIT_IO,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(msg) => f.write_str(msg),
            CliError::Io(e) => write!(f, "cannot write output: {e}"),
            CliError::Stale(msg) => write!(f, "generated files are stale: {msg}"),
            CliError::Tool(msg) => f.write_str(msg),
        }
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Io(e)
    }
}

impl From<dsc_model::ModelError> for CliError {
    fn from(e: dsc_model::ModelError) -> Self {
        CliError::Input(e.to_string())
    }
}
