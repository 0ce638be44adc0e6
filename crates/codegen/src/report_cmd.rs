//! `codegen report`.
use std::io::Write;

use crate::cli::ReportArgs;
use crate::error::CliError;

pub fn run(_args: &ReportArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::Input("report: not yet".into()))
}
