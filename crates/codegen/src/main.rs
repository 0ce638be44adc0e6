//! `codegen`: the dscgen command line. All terminal I/O of the project happens here; the numbers
//! come from `dsc-model`.

mod backend;
mod cli;
mod cost_cmd;
mod emit_cmd;
mod error;
mod gen_config;
mod synth_cmd;
mod tops;
mod layer_dir;
mod layer_spec;
mod npy;
mod report_cmd;
mod simulate_cmd;
mod table;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use error::CliError;

fn run(cli: Cli) -> Result<(), CliError> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Some(Command::Cost(args)) => cost_cmd::run(&args, &mut out)?,
        Some(Command::Emit(args)) => emit_cmd::run(&args, &mut out)?,
        Some(Command::Synth(args)) => synth_cmd::run(&args, &mut out)?,
        Some(Command::Simulate(args)) => simulate_cmd::run(&args, &mut out)?,
        Some(Command::Report(args)) => report_cmd::run(&args, &mut out)?,
        // No subcommand: emit, the default job.
        None => emit_cmd::run(&cli.emit, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
