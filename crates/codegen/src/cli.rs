//! Command-line grammar (clap derive). Validation of values beyond their type happens in the
//! model, so the CLI and the library reject the same things with the same words.

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// dscgen: hardware generator for depthwise separable convolution.
#[derive(Debug, Parser)]
#[command(name = "codegen", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Multiplications and weights per layer: a whole network or one DSC layer.
    Cost(CostArgs),
}

/// How to print a cost report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for a person, with totals and per-kind shares.
    Table,
    /// The stable JSON schema (layers, totals, by_kind).
    Json,
}

/// `codegen cost`: exactly one of `--network` or `--layer`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["network", "layer"])))]
pub struct CostArgs {
    /// Network to cost (known: mobilenet-v1).
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,

    /// One DSC layer: df (input size), m, n, dk, stride, e.g. df=112,m=32,n=64,dk=3,stride=1.
    #[arg(long, value_name = "SPEC", conflicts_with_all = ["network", "alpha", "resolution"])]
    pub layer: Option<String>,

    /// Width multiplier α in (0, 1]; channels become int(c·α).
    #[arg(
        long,
        value_name = "A",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub alpha: f64,

    /// Input resolution (square).
    #[arg(
        long,
        value_name = "R",
        default_value_t = 224,
        allow_negative_numbers = true
    )]
    pub resolution: i64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
