//! Command-line grammar (clap derive). Validation of values beyond their type happens in the
//! model, so the CLI and the library reject the same things with the same words.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// dscgen: hardware generator for depthwise separable convolution.
///
/// With no subcommand: emit the Verilog (the options of `emit` apply).
#[derive(Debug, Parser)]
#[command(name = "codegen", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub emit: EmitArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Multiplications and weights per layer: a whole network or one DSC layer.
    Cost(CostArgs),
    /// Write each top's Verilog (default: configs/default.toml into rtl/).
    Emit(EmitArgs),
    /// Synthesize, place and route for a device with yosys and nextpnr; print a summary.
    Synth(SynthArgs),
    /// Run a network (seeded random weights) or one layer directory; per-layer cycles and checks.
    Simulate(SimulateArgs),
    /// Write the Markdown report with SVG charts (default into docs/).
    Report(ReportArgs),
}

/// `codegen emit` (and the bare `codegen`).
#[derive(Debug, Clone, Args)]
pub struct EmitArgs {
    /// Generation config (TOML); default configs/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output directory; default rtl/ in the repository.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write nothing; exit 1 when the files in the output directory differ from what would be
    /// written.
    #[arg(long)]
    pub check: bool,
}

/// `codegen synth`.
#[derive(Debug, Clone, Args)]
pub struct SynthArgs {
    /// Device: ice40-up5k or ecp5-85f (implied by --board).
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Board (icebreaker, ulx3s): build its board top with its pin constraints (constraints/)
    /// instead of the synthesis wrapper.
    #[arg(long, value_name = "BOARD")]
    pub board: Option<String>,
    /// With --target: the top to build behind the synthesis wrapper (default dsc_engine, the
    /// fused engine; also depthwise_engine, pointwise_stage). Not with --board.
    #[arg(long, value_name = "TOP")]
    pub top: Option<String>,
    /// Generation config (TOML); default configs/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Clock constraint in MHz (default 25, or the board's clock); the summary says whether
    /// it was met.
    #[arg(long, value_name = "MHZ")]
    pub freq: Option<f64>,
    /// nextpnr's placement seed (default: nextpnr's own). On a nearly full device placement
    /// moves Fmax by several MHz; docs/measurements.md gives the spread over seeds.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Build directory; default build/<target>/ in the repository.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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

/// `codegen simulate`: exactly one of `--network` or `--layer-dir`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["network", "layer_dir"])))]
pub struct SimulateArgs {
    /// Network to run layer by layer with seeded random weights (known: mobilenet-v1).
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,

    /// One DSC layer: a directory of .npy files and layer.json (format in the README); writes
    /// output.npy into it.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["network", "alpha", "resolution", "seed"])]
    pub layer_dir: Option<PathBuf>,

    #[command(flatten)]
    pub variant: NetworkVariant,

    /// Generation config (TOML); default configs/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Clock for frames per second, in MHz.
    #[arg(long, value_name = "F", default_value_t = 25.0, allow_negative_numbers = true)]
    pub clock_mhz: f64,

    /// Run the golden model alone (no hardware; model columns only).
    #[arg(long)]
    pub golden_only: bool,

    /// Write waveforms (VCD) of the hardware runs into DIR.
    #[arg(long, value_name = "DIR", conflicts_with = "golden_only")]
    pub trace: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Which instance of a network `simulate` and `report` run: its width multiplier, input
/// resolution and the seed of its random weights, quantization and input.
#[derive(Debug, Clone, Copy, Args)]
pub struct NetworkVariant {
    /// Width multiplier α in (0, 1].
    #[arg(long, value_name = "A", default_value_t = 1.0, allow_negative_numbers = true)]
    pub alpha: f64,

    /// Input resolution (square).
    #[arg(long, value_name = "R", default_value_t = 224, allow_negative_numbers = true)]
    pub resolution: i64,

    /// Seed of the random weights, quantization and input.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

/// `codegen report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Network to report (known: mobilenet-v1).
    #[arg(long, value_name = "NAME", default_value = "mobilenet-v1")]
    pub network: String,

    #[command(flatten)]
    pub variant: NetworkVariant,

    /// Generation config (TOML); default configs/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Clock for frames per second, in MHz.
    #[arg(long, value_name = "F", default_value_t = 25.0, allow_negative_numbers = true)]
    pub clock_mhz: f64,

    /// Use the golden model alone (model figures only, no measured cycles).
    #[arg(long)]
    pub golden_only: bool,

    /// Output directory for report.md and the SVG charts; default docs/ in the repository.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}
