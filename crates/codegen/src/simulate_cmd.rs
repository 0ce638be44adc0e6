//! `codegen simulate`: a whole network (seeded random weights, layer by layer, each output
//! feeding the next layer) or one layer directory, on a [`Backend`], printed as a per-layer
//! table or JSON with the model's cycle figures beside the measured ones.

use std::io::Write;
use std::path::PathBuf;

use dsc_model::network;
use dsc_model::requant::RequantParams;
use dsc_model::synthetic::{self, ConvLayer, Rng, SyntheticStage};
use dsc_model::{DscBlock, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::backend::{self, Backend, CycleModel, Golden, ModelCycles};
use crate::cli::{Format, NetworkVariant, SimulateArgs};
use crate::emit_cmd::{load_config, shown};
use crate::error::CliError;
use crate::layer_dir;
use crate::table::{percent, thousands, Align, Table};

/// One row of the report. Field names are the JSON schema.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    /// `conv`, `dsc`, `pool` or `fc`.
    pub op: &'static str,
    pub dk: usize,
    pub stride: usize,
    /// Input `[H, W, M]`.
    pub input: [usize; 3],
    /// Output `[Ho, Wo, N]`.
    pub output: [usize; 3],
    /// Multiply-accumulates of the layer.
    pub macs: u64,
    /// Cycles measured by the backend (hardware only).
    pub measured_cycles: Option<u64>,
    /// The model's figures; absent when the layer does not run on the engine.
    pub model: Option<ModelCycles>,
    /// Utilization of each stage over the measured cycles, else the model's layer cycles, else
    /// each stage over its own cycles alone.
    pub dw_utilization: Option<f64>,
    pub pw_utilization: Option<f64>,
    /// Hardware output equal to the golden model's (hardware only).
    pub bit_exact: Option<bool>,
    /// DSC layers: a standard Dk×Dk convolution of the same shape (random weights) on the same
    /// engine's conv mode, its cycles measured and modelled, its output equal to the golden
    /// model's; DSC ÷ conv cycle ratios measured and modelled, beside 1/N + 1/Dk².
    pub conv_measured_cycles: Option<u64>,
    pub conv_model_cycles: Option<u64>,
    pub conv_bit_exact: Option<bool>,
    pub ratio_measured: Option<f64>,
    pub ratio_model: Option<f64>,
    pub ratio_formula: Option<f64>,
    /// DSC layers: why there is no standard-conv baseline (the conv mode cannot take it).
    pub conv_note: Option<String>,
    /// Why a layer ran in the golden model only, or other remarks.
    pub note: Option<String>,
}

/// Network totals over the rows that run on the engine.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub macs: u64,
    /// Present only when every engine layer was measured / modelled.
    pub measured_cycles: Option<u64>,
    pub model_cycles: Option<u64>,
    pub ideal_cycles: u64,
    pub frames_per_s_measured: Option<f64>,
    pub frames_per_s_model: Option<f64>,
    pub frames_per_s_ideal: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub config: String,
    pub backend: &'static str,
    pub clock_mhz: f64,
    pub layers: Vec<Row>,
    pub totals: Totals,
}

/// What to run, shared by `simulate` and `report`.
pub struct Job {
    pub network: Option<String>,
    pub layer_dir: Option<PathBuf>,
    pub variant: NetworkVariant,
    pub config: Option<PathBuf>,
    pub clock_mhz: f64,
    pub golden_only: bool,
    pub trace: Option<PathBuf>,
}

impl From<&SimulateArgs> for Job {
    fn from(a: &SimulateArgs) -> Job {
        Job {
            network: a.network.clone(),
            layer_dir: a.layer_dir.clone(),
            variant: a.variant,
            config: a.config.clone(),
            clock_mhz: a.clock_mhz,
            golden_only: a.golden_only,
            trace: a.trace.clone(),
        }
    }
}

fn model_err(e: dsc_model::ModelError) -> CliError {
    CliError::Input(e.to_string())
}

/// A standard convolution of a DSC block's shape (Dk×Dk, stride, M → N) with random weights:
/// the baseline the DSC layer is compared with on the same engine.
fn conv_like(block: &DscBlock, rng: &mut Rng) -> Result<ConvLayer, CliError> {
    let (dk, m, n) = (block.dk(), block.m(), block.n());
    let weights = rng.int8_tensor([n, dk, dk, m]).map_err(model_err)?;
    // Same requantization as the block's pointwise stage: only the cycles are compared.
    let rq = block.pw_requant().clone();
    Ok(ConvLayer { in_zp: block.in_zp(), stride: block.stride(), weights, requant: rq })
}

/// The classifier as a DSC block: a depthwise identity (centre tap 1, multiplier exactly 1.0,
/// no clamp) followed by the 1×1 layer, so it runs on the fused engine over one pixel.
fn fc_as_dsc(fc: &ConvLayer, dk: usize) -> Result<DscBlock, CliError> {
    let m = fc.weights.c();
    let half = dk / 2;
    let dw = Tensor::from_fn([1, dk, dk, m], |_, y, x, _| (y == half && x == half) as i8).map_err(model_err)?;
    // 2^30 · 2^(1−31) = 1: MBQM returns the accumulator unchanged.
    let identity = RequantParams::new(vec![0; m], vec![1 << 30; m], vec![1; m], fc.in_zp, -128, 127).map_err(model_err)?;
    let pw = fc.weights.clone();
    DscBlock::new(fc.in_zp, 1, dw, identity, pw, fc.requant.clone()).map_err(model_err)
}

struct Runner<'a> {
    model: CycleModel,
    backend: &'a mut dyn Backend,
    rng: Rng,
}

impl Runner<'_> {
    fn blank(name: &str, op: &'static str, dk: usize, stride: usize, input: &Tensor<i8>, output: &Tensor<i8>) -> Row {
        Row {
            name: name.into(),
            op,
            dk,
            stride,
            input: [input.h(), input.w(), input.c()],
            output: [output.h(), output.w(), output.c()],
            macs: 0,
            measured_cycles: None,
            model: None,
            dw_utilization: None,
            pw_utilization: None,
            bit_exact: None,
            conv_measured_cycles: None,
            conv_model_cycles: None,
            conv_bit_exact: None,
            ratio_measured: None,
            ratio_model: None,
            ratio_formula: None,
            conv_note: None,
            note: None,
        }
    }

    /// Fills the utilization of `row` from its cycles.
    fn utilize(&self, row: &mut Row) {
        let Some(m) = row.model else { return };
        let (dw, pw) = match row.measured_cycles.or(m.layer) {
            Some(c) => self.model.utilization(&m, c),
            None => (
                m.dw_alone.and_then(|c| self.model.utilization(&m, c).0),
                m.pw_alone.and_then(|c| self.model.utilization(&m, c).1),
            ),
        };
        (row.dw_utilization, row.pw_utilization) = (dw, pw);
    }

    fn dsc(&mut self, name: &str, block: &DscBlock, input: &Tensor<i8>) -> Result<(Row, Tensor<i8>), CliError> {
        let golden = block.run(input).map_err(model_err)?;
        let mut row = Self::blank(name, "dsc", block.dk(), block.stride(), input, &golden);
        let [h, w, m] = row.input;
        let n = block.n();
        let pixels = (golden.h() * golden.w()) as u64;
        row.macs = pixels * (m * block.dk() * block.dk()) as u64 + pixels * (m * n) as u64;
        row.ratio_formula = Some(1.0 / n as f64 + 1.0 / (block.dk() * block.dk()) as f64);
        match self.model.dsc(h, w, m, n, block.stride()) {
            Ok(mc) => {
                row.model = Some(mc);
                // The baseline: the same layer as a standard conv, when the conv mode takes it.
                let conv = self.model.conv(block.dk(), h, w, m, n, block.stride());
                match &conv {
                    Ok(c) => row.conv_model_cycles = c.layer,
                    Err(why) => row.conv_note = Some(format!("no standard-conv baseline on this engine: {why}")),
                }
                let ratio = |d: u64, c: u64| d as f64 / c as f64;
                row.ratio_model = mc.layer.zip(row.conv_model_cycles).map(|(d, c)| ratio(d, c));
                if self.backend.measures() {
                    let run = self.backend.run_dsc(block, input)?;
                    row.bit_exact = Some(run.output == golden);
                    row.measured_cycles = run.cycles;
                    if conv.is_ok() {
                        let baseline = conv_like(block, &mut self.rng)?;
                        let conv_run = self.backend.run_conv(&baseline, input)?;
                        let exact = conv_run.output == baseline.run(input).map_err(model_err)?;
                        if !exact {
                            row.note = Some("standard-conv baseline output differs from the model".into());
                        }
                        row.conv_bit_exact = Some(exact);
                        row.conv_measured_cycles = conv_run.cycles;
                        row.ratio_measured = run.cycles.zip(conv_run.cycles).map(|(d, c)| ratio(d, c));
                    }
                }
                self.utilize(&mut row);
            }
            Err(why) => row.note = Some(format!("golden model only: {why}")),
        }
        Ok((row, golden))
    }

    fn conv(&mut self, name: &str, layer: &ConvLayer, input: &Tensor<i8>) -> Result<(Row, Tensor<i8>), CliError> {
        let golden = layer.run(input).map_err(model_err)?;
        let dk = layer.weights.h();
        let mut row = Self::blank(name, "conv", dk, layer.stride, input, &golden);
        let [h, w, m] = row.input;
        row.macs = (golden.h() * golden.w() * dk * dk * m * golden.c()) as u64;
        match self.model.conv(dk, h, w, m, golden.c(), layer.stride) {
            Ok(mc) => {
                row.model = Some(mc);
                if self.backend.measures() {
                    let run = self.backend.run_conv(layer, input)?;
                    row.bit_exact = Some(run.output == golden);
                    row.measured_cycles = run.cycles;
                }
                self.utilize(&mut row);
            }
            Err(why) => row.note = Some(format!("golden model only: {why}")),
        }
        Ok((row, golden))
    }

    fn fc(&mut self, name: &str, layer: &ConvLayer, input: &Tensor<i8>) -> Result<(Row, Tensor<i8>), CliError> {
        let golden = layer.run(input).map_err(model_err)?;
        let mut row = Self::blank(name, "fc", 1, 1, input, &golden);
        let (m, n) = (input.c(), golden.c());
        row.macs = (m * n) as u64;
        match self.model.classifier(m, n) {
            Ok(mc) => {
                row.model = Some(mc);
                row.note = Some("1×1 layer over the pooled pixel, behind an identity depthwise stage".into());
                if self.backend.measures() {
                    let block = fc_as_dsc(layer, self.model.cfg.engine.dk())?;
                    let run = self.backend.run_dsc(&block, input)?;
                    row.bit_exact = Some(run.output == golden);
                    row.measured_cycles = run.cycles;
                }
                self.utilize(&mut row);
            }
            Err(why) => row.note = Some(format!("golden model only: {why}")),
        }
        Ok((row, golden))
    }
}

fn totals(rows: &[Row], clock_mhz: f64) -> Totals {
    let engine: Vec<&Row> = rows.iter().filter(|r| r.model.is_some()).collect();
    let all = |f: &dyn Fn(&Row) -> Option<u64>| -> Option<u64> {
        if engine.is_empty() {
            return None;
        }
        engine.iter().map(|r| f(r)).sum()
    };
    let measured = all(&|r| r.measured_cycles);
    let model = all(&|r| r.model.and_then(|m| m.layer));
    let ideal: u64 = engine.iter().filter_map(|r| r.model.map(|m| m.ideal)).sum();
    let fps = |c: Option<u64>| c.filter(|&c| c > 0).map(|c| clock_mhz * 1e6 / c as f64);
    Totals {
        macs: rows.iter().map(|r| r.macs).sum(),
        measured_cycles: measured,
        model_cycles: model,
        ideal_cycles: ideal,
        frames_per_s_measured: fps(measured),
        frames_per_s_model: fps(model),
        frames_per_s_ideal: fps(Some(ideal)),
    }
}

fn progress(len: usize) -> ProgressBar {
    // Draws on stderr, and only when it is a terminal.
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar
}

/// Runs `job` and builds the report. `backend` is the hardware one unless golden-only.
pub fn build(job: &Job) -> Result<Report, CliError> {
    if !(job.clock_mhz.is_finite() && job.clock_mhz > 0.0) {
        return Err(CliError::Input(format!("--clock-mhz must be a positive number, got {}", job.clock_mhz)));
    }
    let (cfg, config_name) = load_config(job.config.as_deref())?;
    let mut golden = Golden;
    let mut hardware;
    let backend: &mut dyn Backend = if job.golden_only {
        &mut golden
    } else {
        match backend::hardware(&cfg, job.trace.as_deref()) {
            Ok(b) => {
                hardware = b;
                hardware.as_mut()
            }
            Err(why) => {
                eprintln!("note: {why}; measured columns stay empty (the model's are filled)");
                &mut golden
            }
        }
    };
    let backend_name = backend.name();
    let mut runner = Runner { model: CycleModel::new(cfg), backend, rng: Rng::new(job.variant.seed ^ 0x5eed) };
    let mut rows = Vec::new();
    let title;
    if let Some(dir) = &job.layer_dir {
        let layer = layer_dir::load(dir)?;
        let (h, w, m) = (layer.input.h(), layer.input.w(), layer.input.c());
        let b = &layer.block;
        if !job.golden_only {
            // The hardware refuses what it was not generated for: say so before running.
            runner.model.fits_dsc(b.dk(), h, w, m, b.n(), b.stride()).map_err(|why| {
                CliError::Input(format!(
                    "{}: layer {h}×{w}×{m} → {}, Dk {}, stride {} does not fit the engine of {config_name}: {why} (--golden-only runs the model alone)",
                    dir.display(), b.n(), b.dk(), b.stride()
                ))
            })?;
        }
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "layer".into());
        let (row, out) = runner.dsc(&name, b, &layer.input)?;
        let path = layer_dir::write_output(dir, &out)?;
        eprintln!("wrote {}", path.display());
        title = format!("layer directory {}", shown(dir));
        rows.push(row);
    } else {
        let name = job.network.as_deref().unwrap_or(network::KNOWN_NETWORKS[0]);
        let resolution = usize::try_from(job.variant.resolution)
            .map_err(|_| CliError::Input(format!("resolution must be positive, got {}", job.variant.resolution)))?;
        let net = network::by_name(name, job.variant.alpha, resolution)?;
        let syn = synthetic::synthesize(&net, job.variant.seed)?;
        title = format!(
            "{}, alpha {}, resolution {}, seed {} (synthetic weights)",
            net.name(),
            net.alpha(),
            net.resolution(),
            job.variant.seed
        );
        let bar = progress(syn.stages.len());
        let mut x = syn.input;
        for stage in &syn.stages {
            bar.set_message(stage.name().to_string());
            let (row, out) = match stage {
                SyntheticStage::Conv { name, layer } => runner.conv(name, layer, &x)?,
                SyntheticStage::Dsc { names, block } => {
                    let name = format!("{}/{}", names.0, names.1);
                    runner.dsc(&name, block, &x)?
                }
                SyntheticStage::AvgPool { name } => {
                    let out = stage.run(&x).map_err(model_err)?;
                    let mut row = Runner::blank(name, "pool", 1, 1, &x, &out);
                    row.note = Some("global average pool: golden model (not an engine op)".into());
                    (row, out)
                }
                SyntheticStage::Fc { name, layer } => runner.fc(name, layer, &x)?,
            };
            rows.push(row);
            x = out;
            bar.inc(1);
        }
        bar.finish_and_clear();
    }
    Ok(Report {
        title,
        config: config_name,
        backend: backend_name,
        clock_mhz: job.clock_mhz,
        totals: totals(&rows, job.clock_mhz),
        layers: rows,
    })
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "-".into())
}

/// The report as a table; the golden-only form leaves out the measured columns.
pub fn render_table(r: &Report, golden_only: bool) -> String {
    let (l, rt) = (Align::Left, Align::Right);
    let mut cols = vec![("layer", l), ("op", l), ("in", rt), ("out", rt), ("s", rt), ("tiles", rt), ("MACs", rt)];
    if !golden_only {
        cols.push(("measured", rt));
    }
    cols.extend([("model", rt), ("dw alone", rt), ("pw alone", rt), ("bound", l), ("ideal", rt), ("dw util", rt), ("pw util", rt)]);
    if !golden_only {
        cols.extend([("exact", l), ("DSC/conv", rt)]);
    }
    cols.extend([("model DSC/conv", rt), ("1/N+1/Dk²", rt)]);
    let mut t = Table::new(&cols);
    let ratio = |x: f64| format!("{x:.4}");
    for row in &r.layers {
        let m = row.model;
        let mut cells = vec![
            row.name.clone(),
            row.op.to_string(),
            format!("{}x{}x{}", row.input[0], row.input[1], row.input[2]),
            format!("{}x{}x{}", row.output[0], row.output[1], row.output[2]),
            row.stride.to_string(),
            opt(m.map(|m| m.n_tiles), |t| t.to_string()),
            thousands(row.macs),
        ];
        if !golden_only {
            cells.push(opt(row.measured_cycles, thousands));
        }
        cells.extend([
            opt(m.and_then(|m| m.layer), thousands),
            opt(m.and_then(|m| m.dw_alone), thousands),
            opt(m.and_then(|m| m.pw_alone), thousands),
            opt(m.and_then(|m| m.bottleneck), str::to_string),
            opt(m.map(|m| m.ideal), thousands),
            opt(row.dw_utilization, percent),
            opt(row.pw_utilization, percent),
        ]);
        // "—*": the layer has no standard-conv baseline on this engine; the notes say why.
        let vs_conv = |r: Option<f64>| if row.conv_note.is_some() { "—*".into() } else { opt(r, ratio) };
        if !golden_only {
            cells.push(opt(row.bit_exact, |b| if b { "yes".into() } else { "NO".into() }));
            cells.push(vs_conv(row.ratio_measured));
        }
        cells.extend([vs_conv(row.ratio_model), opt(row.ratio_formula, ratio)]);
        t.row(cells);
    }
    let tot = &r.totals;
    let mut s = format!("{} — config {}, backend {}\n\n{}", r.title, r.config, r.backend, t.render());
    let on_engine = r.layers.iter().filter(|row| row.model.is_some()).count();
    s.push_str(&format!(
        "\ntotal: {} MACs; cycles over the {on_engine} of {} layers that run on the engine\n",
        thousands(tot.macs),
        r.layers.len()
    ));
    let line = |what: &str, c: Option<u64>, fps: Option<f64>| match (c, fps) {
        (Some(c), Some(f)) => format!("{what}: {} cycles, {f:.2} frames/s at {} MHz\n", thousands(c), r.clock_mhz),
        _ => format!("{what}: -\n"),
    };
    if !golden_only {
        s.push_str(&line("measured", tot.measured_cycles, tot.frames_per_s_measured));
    }
    s.push_str(&line("model", tot.model_cycles, tot.frames_per_s_model));
    s.push_str(&line("ideal", Some(tot.ideal_cycles), tot.frames_per_s_ideal));
    s.push_str(
        "\ntiles: passes over the layer (output channels beyond what the pointwise weight memory holds for the\n\
         layer's M run in N tiles, each a whole depthwise + pointwise pass; cycles are the sum over the tiles);\n\
         model: the whole layer on the fused engine; dw/pw alone: each stage by itself (all exact);\n\
         bound: the stage with the larger stand-alone count;\n\
         ideal: MACs ÷ multipliers of the busier stage; util: MACs ÷ (multipliers × cycles), over\n\
         measured cycles, else the model's, else each stage's own.\n\
         DSC/conv: the DSC layer's cycles ÷ those of a standard Dk×Dk conv of the same shape on the\n\
         same engine's conv mode (measured; model), beside the MAC ratio 1/N + 1/Dk².\n",
    );
    let notes: Vec<String> = r
        .layers
        .iter()
        .flat_map(|row| {
            let conv = row.conv_note.as_ref().map(|n| format!("  {}: * {n}\n", row.name));
            row.note.as_ref().map(|n| format!("  {}: {n}\n", row.name)).into_iter().chain(conv)
        })
        .collect();
    if !notes.is_empty() {
        s.push_str("notes:\n");
        s.extend(notes);
    }
    s
}

/// Runs `simulate`.
pub fn run(args: &SimulateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let report = build(&Job::from(args))?;
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&report).map_err(|e| CliError::Io(std::io::Error::other(e)))?;
            writeln!(out, "{json}")?;
        }
        Format::Table => out.write_all(render_table(&report, args.golden_only).as_bytes())?,
    }
    Ok(())
}
