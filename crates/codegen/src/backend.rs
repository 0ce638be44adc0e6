//! What `simulate` runs a layer on, and the model's cycle figures it prints beside it.
//!
//! A [`Backend`] runs a DSC layer or a standard convolution and reports its output and, when it
//! is hardware, the cycles it measured. [`Golden`] is the model alone: outputs, no cycles. The
//! Verilator backend plugs in here as one more implementation.
//!
//! [`CycleModel`] gives the figures the model predicts for the generated engine: each stage's
//! exact cycles on its own (`dsc_model::depthwise::engine_cycles`,
//! `dsc_model::pointwise::pointwise_cycles`), the ideal cycles (work ÷ multipliers of each
//! stage; the two stages run concurrently, so a DSC layer's ideal is the larger of the two)
//! and the utilization those imply.

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
    /// One standard convolution on `input` (the engine's im2col mode).
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

/// The hardware backend for `cfg`, or why there is none in this build.
pub fn hardware(_cfg: &GenConfig, _trace: Option<&std::path::Path>) -> Result<Box<dyn Backend>, String> {
    Err("the Verilator engine runner (dsc_sim::engine) is not in this build yet".into())
}

/// The model's cycle figures of one layer on the generated engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ModelCycles {
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
}

/// The cycle model of the engine a config generates.
#[derive(Debug, Clone, Copy)]
pub struct CycleModel {
    pub cfg: GenConfig,
}

impl CycleModel {
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
        self.cfg.pointwise.layer(m, n, wl.rows.out * wl.cols.out).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Figures of a DSC layer `h × w × m → n` (kernel Dk of the engine, `stride`).
    pub fn dsc(&self, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<ModelCycles, String> {
        let dk = self.cfg.engine.dk();
        self.fits_dsc(dk, h, w, m, n, stride)?;
        let wl = self.window(h, w, m, stride)?;
        let pixels = wl.rows.out * wl.cols.out;
        let pl = self.cfg.pointwise.layer(m, n, pixels).map_err(|e| e.to_string())?;
        let dw_macs = (pixels * m * dk * dk) as u64;
        let pw_macs = (pixels * m * n) as u64;
        let ideal = dw_macs.div_ceil(self.dw_multipliers()).max(pw_macs.div_ceil(self.pw_multipliers()));
        Ok(ModelCycles {
            dw_alone: Some(dsc_model::depthwise::engine_cycles(&self.cfg.engine, &wl)),
            pw_alone: Some(dsc_model::pointwise::pointwise_cycles(&self.cfg.pointwise, &pl)),
            // The fused engine's exact count comes with dsc_model::engine.
            layer: None,
            ideal,
            dw_macs,
            pw_macs,
        })
    }

    /// Figures of a 1×1 layer over `pixels` pixels on the pointwise stage alone (the
    /// classifier).
    pub fn pointwise(&self, m: usize, n: usize, pixels: usize) -> Result<ModelCycles, String> {
        let pl = self.cfg.pointwise.layer(m, n, pixels).map_err(|e| e.to_string())?;
        let pw_macs = (pixels * m * n) as u64;
        let cycles = dsc_model::pointwise::pointwise_cycles(&self.cfg.pointwise, &pl);
        Ok(ModelCycles {
            dw_alone: None,
            pw_alone: Some(cycles),
            layer: Some(cycles),
            ideal: pw_macs.div_ceil(self.pw_multipliers()),
            dw_macs: 0,
            pw_macs,
        })
    }

    /// Figures of a standard Dk×Dk convolution `h × w × m → n` in the engine's im2col mode:
    /// the array does every multiplication.
    pub fn conv(&self, dk: usize, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<ModelCycles, String> {
        if dk != self.cfg.engine.dk() {
            return Err(format!("kernel {dk}×{dk}, the engine is generated for Dk = {}", self.cfg.engine.dk()));
        }
        let wl = self.window(h, w, m, stride)?;
        let pixels = wl.rows.out * wl.cols.out;
        let pw_macs = (pixels * dk * dk * m * n) as u64;
        Ok(ModelCycles {
            dw_alone: None,
            pw_alone: None,
            // The im2col mode's exact count comes with dsc_model::im2col.
            layer: None,
            ideal: pw_macs.div_ceil(self.pw_multipliers()),
            dw_macs: 0,
            pw_macs,
        })
    }

    /// Utilization of each stage over `cycles`: its MACs ÷ (multipliers × cycles).
    pub fn utilization(&self, m: &ModelCycles, cycles: u64) -> (Option<f64>, Option<f64>) {
        let u = |macs: u64, mults: u64| (macs > 0 && cycles > 0).then(|| macs as f64 / (mults * cycles) as f64);
        (u(m.dw_macs, self.dw_multipliers()), u(m.pw_macs, self.pw_multipliers()))
    }
}
