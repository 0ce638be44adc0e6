//! What `simulate` runs a layer on, and the model's cycle figures it prints beside it.
//!
//! A [`Backend`] runs a DSC layer or a standard convolution and reports its output and, when it
//! is hardware, the cycles it measured. [`Golden`] is the model alone: outputs, no cycles;
//! [`Verilator`] is the generated fused engine (standard convolutions in its conv mode).
//!
//! [`CycleModel`] gives the figures the model predicts for the generated engine: the fused
//! engine's exact cycles (`dsc_model::engine::dsc_cycles`; `conv_cycles` in conv mode), each
//! stage's exact cycles on its own (`dsc_model::depthwise::engine_cycles`,
//! `dsc_model::pointwise::pointwise_cycles`), the ideal cycles (work ÷ multipliers of each
//! stage; the two stages run concurrently, so a DSC layer's ideal is the larger of the two) and
//! the utilization those imply.
//!
//! A layer with more output channels than the generated pointwise weight memory holds for its
//! `M` (`max_n`, or `max_weights / M` when that limits it) runs in N tiles ([`dsc_model::n_tiles`]): the hardware backend makes one pass per
//! tile and concatenates the outputs, and the model's figures are sums over the tiles.

use dsc_model::engine::{dsc_timing, DscConfig, Stage};
use dsc_model::n_tiles::{conv_tiled_cycles, conv_tiled_layer, dsc_tiled_layer, layer_n_tiles};
use dsc_model::synthetic::ConvLayer;
use dsc_model::window::WindowLayer;
use dsc_model::{DscBlock, Tensor};

use crate::error::CliError;
use crate::gen_config::GenConfig;

/// A layer's output and, from hardware, its cycles from first input beat to last output beat.
#[derive(Debug, Clone)]
pub struct LayerRun {
    pub output: Tensor<i8>,
    pub cycles: Option<u64>,
}

/// Something that runs layers: the golden model, or the generated engine in Verilator.
pub trait Backend {
    /// Name for the report (`golden`, `verilator`).
    fn name(&self) -> &'static str;
    /// Whether runs measure cycles (hardware) or only compute outputs (the model).
    fn measures(&self) -> bool;
    /// One DSC layer on `input` `[1, H, W, M]`.
    fn run_dsc(&mut self, block: &DscBlock, input: &Tensor<i8>) -> Result<LayerRun, CliError>;
    /// One standard convolution on `input` (the engine's conv mode). Callers first check with
    /// [`CycleModel::conv`] that the engine takes it.
    fn run_conv(&mut self, layer: &ConvLayer, input: &Tensor<i8>) -> Result<LayerRun, CliError>;
}

fn model_err(e: dsc_model::ModelError) -> CliError {
    CliError::Input(e.to_string())
}

/// The golden model as a backend: outputs only.
#[derive(Debug, Default)]
pub struct Golden;

impl Backend for Golden {
    fn name(&self) -> &'static str {
        "golden"
    }
    fn measures(&self) -> bool {
        false
    }
    fn run_dsc(&mut self, block: &DscBlock, input: &Tensor<i8>) -> Result<LayerRun, CliError> {
        Ok(LayerRun { output: block.run(input).map_err(model_err)?, cycles: None })
    }
    fn run_conv(&mut self, layer: &ConvLayer, input: &Tensor<i8>) -> Result<LayerRun, CliError> {
        Ok(LayerRun { output: layer.run(input).map_err(model_err)?, cycles: None })
    }
}

/// The generated fused engine (`dsc_hw::engine::DscEngine`) in Verilator.
pub struct Verilator {
    sim: dsc_sim::engine::EngineSim,
}

impl Backend for Verilator {
    fn name(&self) -> &'static str {
        "verilator"
    }
    fn measures(&self) -> bool {
        true
    }
    fn run_dsc(&mut self, block: &DscBlock, input: &Tensor<i8>) -> Result<LayerRun, CliError> {
        let run = self.sim.run_dsc_tiled(block, input, None).map_err(|e| CliError::Tool(format!("verilator: {e}")))?;
        Ok(LayerRun { output: run.output, cycles: Some(run.cycles) })
    }
    fn run_conv(&mut self, layer: &ConvLayer, input: &Tensor<i8>) -> Result<LayerRun, CliError> {
        // The caller checked the layer against the same DscConfig: a refusal here is a bug.
        let run = self.sim.run_conv_tiled(layer, input, None).map_err(|e| CliError::Tool(format!("verilator: {e}")))?;
        Ok(LayerRun { output: run.output, cycles: Some(run.cycles) })
    }
}

/// The hardware backend for `cfg` (built by Verilator, or loaded from its cache), or why there
/// is none.
pub fn hardware(cfg: &GenConfig, trace: Option<&std::path::Path>) -> Result<Box<dyn Backend>, String> {
    let sim = dsc_sim::engine::EngineSim::build(&cfg.engine, &cfg.pointwise, trace).map_err(|e| e.to_string())?;
    Ok(Box::new(Verilator { sim }))
}

/// The model's cycle figures of one layer on the generated engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ModelCycles {
    /// The stage with the larger stand-alone count (DSC layers).
    pub bottleneck: Option<&'static str>,
    /// The depthwise stage alone, exact.
    pub dw_alone: Option<u64>,
    /// The pointwise stage alone, exact.
    pub pw_alone: Option<u64>,
    /// The whole layer on the engine (fused DSC, or standard convolution), exact.
    pub layer: Option<u64>,
    /// Work ÷ multipliers: the bound no schedule beats.
    pub ideal: u64,
    /// Multiply-accumulates of each stage.
    pub dw_macs: u64,
    pub pw_macs: u64,
    /// Passes over the layer: N tiles of as many channels as the weight memory holds for its
    /// `M` (`⌈N / max_n⌉` with the full `max_m × max_n` memory; 1 when the weights fit).
    pub n_tiles: usize,
}

/// The cycle model of the engine a config generates.
#[derive(Debug, Clone)]
pub struct CycleModel {
    pub cfg: GenConfig,
    /// The fused engine's config, or why the generation config has none (e.g. `P ≠ R`).
    pub fused: Result<DscConfig, String>,
}

impl CycleModel {
    pub fn new(cfg: GenConfig) -> Self {
        let fused = DscConfig::new(cfg.engine, cfg.pointwise).map_err(|e| e.to_string());
        CycleModel { cfg, fused }
    }

    /// Depthwise multipliers: P lanes of Dk² each.
    pub fn dw_multipliers(&self) -> u64 {
        (self.cfg.engine.lanes() * self.cfg.engine.taps()) as u64
    }
    /// Pointwise multipliers: the R × C array.
    pub fn pw_multipliers(&self) -> u64 {
        (self.cfg.pointwise.array().rows() * self.cfg.pointwise.array().cols()) as u64
    }

    /// The depthwise geometry of an `h × w × m` input on this engine, or why it does not fit.
    pub fn window(&self, h: usize, w: usize, m: usize, stride: usize) -> Result<WindowLayer, String> {
        self.cfg.engine.window().layer(h, w, m, stride).map_err(|e| e.to_string())
    }

    /// Checks that the engine takes a DSC layer: kernel, window geometry, pointwise sizes.
    pub fn fits_dsc(&self, dk: usize, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<(), String> {
        if dk != self.cfg.engine.dk() {
            return Err(format!("kernel {dk}×{dk}, the engine is generated for Dk = {}", self.cfg.engine.dk()));
        }
        let wl = self.window(h, w, m, stride)?;
        // N beyond what the weight memory holds for M runs in tiles: each tile must fit.
        let tile = layer_n_tiles(&self.cfg.pointwise, m, n).map_err(|e| e.to_string())?[0].len();
        self.cfg.pointwise.layer(m, tile, wl.rows.out * wl.cols.out).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Figures of a DSC layer `h × w × m → n` (kernel Dk of the engine, `stride`).
    pub fn dsc(&self, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<ModelCycles, String> {
        let dk = self.cfg.engine.dk();
        self.fits_dsc(dk, h, w, m, n, stride)?;
        let wl = self.window(h, w, m, stride)?;
        let pixels = wl.rows.out * wl.cols.out;
        let dw_macs = (pixels * m * dk * dk) as u64;
        let pw_macs = (pixels * m * n) as u64;
        let ideal = dw_macs.div_ceil(self.dw_multipliers()).max(pw_macs.div_ceil(self.pw_multipliers()));
        // Each N tile is a whole pass: the depthwise stage runs once per tile.
        let ranges = layer_n_tiles(&self.cfg.pointwise, m, n).map_err(|e| e.to_string())?;
        let (mut dw_alone, mut pw_alone) = (0, 0);
        for r in &ranges {
            let pl = self.cfg.pointwise.layer(m, r.len(), pixels).map_err(|e| e.to_string())?;
            dw_alone += dsc_model::depthwise::engine_cycles(&self.cfg.engine, &wl);
            pw_alone += dsc_model::pointwise::pointwise_cycles(&self.cfg.pointwise, &pl);
        }
        let layer = match &self.fused {
            Ok(fc) => {
                let tl = dsc_tiled_layer(fc, h, w, m, n, stride).map_err(|e| e.to_string())?;
                Some(tl.tiles.iter().map(|t| dsc_timing(fc, t).cycles).sum())
            }
            Err(_) => None,
        };
        let bottleneck = layer.map(|_| Stage::slower(dw_alone, pw_alone).short());
        Ok(ModelCycles {
            bottleneck,
            dw_alone: Some(dw_alone),
            pw_alone: Some(pw_alone),
            layer,
            ideal,
            dw_macs,
            pw_macs,
            n_tiles: ranges.len(),
        })
    }

    /// Figures of the classifier: a 1×1 layer `m → n` over one pixel, run on the fused engine
    /// behind an identity depthwise stage (on the pointwise stage alone without a fused
    /// config).
    pub fn classifier(&self, m: usize, n: usize) -> Result<ModelCycles, String> {
        let ranges = layer_n_tiles(&self.cfg.pointwise, m, n).map_err(|e| e.to_string())?;
        let mut pw_alone = 0;
        for r in &ranges {
            let pl = self.cfg.pointwise.layer(m, r.len(), 1).map_err(|e| e.to_string())?;
            pw_alone += dsc_model::pointwise::pointwise_cycles(&self.cfg.pointwise, &pl);
        }
        let pw_macs = (m * n) as u64;
        let layer = match &self.fused {
            Ok(fc) => {
                let tl = dsc_tiled_layer(fc, 1, 1, m, n, 1).map_err(|e| e.to_string())?;
                tl.tiles.iter().map(|t| dsc_timing(fc, t).cycles).sum()
            }
            Err(_) => pw_alone,
        };
        Ok(ModelCycles {
            bottleneck: None,
            dw_alone: None,
            pw_alone: Some(pw_alone),
            layer: Some(layer),
            ideal: pw_macs.div_ceil(self.pw_multipliers()),
            dw_macs: 0,
            pw_macs,
            n_tiles: ranges.len(),
        })
    }

    /// Figures of a standard Dk×Dk convolution `h × w × m → n` on the fused engine's conv mode
    /// (`DscConfig::conv_layer`: the input channels padded to a multiple of P, the pointwise
    /// stage sees `M' = G·Dk²·P` channels): the array does every multiplication. Errors: the
    /// kernel is not the engine's, there is no fused engine, or the layer does not fit it.
    pub fn conv(&self, dk: usize, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<ModelCycles, String> {
        if dk != self.cfg.engine.dk() {
            return Err(format!("kernel {dk}×{dk}, the engine is generated for Dk = {}", self.cfg.engine.dk()));
        }
        let fc = self.fused.as_ref().map_err(|why| format!("no conv mode without the fused engine: {why}"))?;
        let cl = conv_tiled_layer(fc, h, w, m, n, stride).map_err(|e| e.to_string())?;
        let pixels = cl.tiles[0].window.rows.out * cl.tiles[0].window.cols.out;
        // The true work: the padding channels are not counted.
        let pw_macs = (pixels * dk * dk * m * n) as u64;
        Ok(ModelCycles {
            bottleneck: None,
            dw_alone: None,
            pw_alone: None,
            layer: Some(conv_tiled_cycles(fc, &cl)),
            ideal: pw_macs.div_ceil(self.pw_multipliers()),
            dw_macs: 0,
            pw_macs,
            n_tiles: cl.count(),
        })
    }

    /// Utilization of each stage over `cycles`: its MACs ÷ (multipliers × cycles).
    pub fn utilization(&self, m: &ModelCycles, cycles: u64) -> (Option<f64>, Option<f64>) {
        let u = |macs: u64, mults: u64| (macs > 0 && cycles > 0).then(|| macs as f64 / (mults * cycles) as f64);
        (u(m.dw_macs, self.dw_multipliers()), u(m.pw_macs, self.pw_multipliers()))
    }
}
