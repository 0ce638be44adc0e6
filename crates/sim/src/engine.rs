//! Runs DSC layers on a Verilated fused engine (`dsc_hw::engine::DscEngine`): what codegen's
//! `simulate` command calls.
//!
//! rust-hdl fixes bit widths at compile time, so [`EngineSim::build`] can only build a config
//! whose widths match one of the instantiations compiled in ([`dsc_hw::engine::INSTANCES`]); any other config
//! is an [`EngineSimError::NoInstantiation`] naming the widths it needs. Built models are
//! cached like every dsc-sim model (see the crate docs), so a second build of one config is
//! a cache hit.

use crate::{build, Beat, BuildOptions, Design, Model, SimError, StreamSink, StreamSource};
use dsc_hw::engine::{with_instance, DscProgram, InstanceError, InstanceUser};
use dsc_model::engine::{conv_cycles, dsc_cycles, DscConfig};
use dsc_model::engine_config::EngineConfig;
use dsc_model::n_tiles::{concat_channels, conv_slice, conv_tiled_layer, dsc_slice, dsc_tiled_layer};
use dsc_model::pointwise::PointwiseConfig;
use dsc_model::synthetic::ConvLayer;
use dsc_model::{DscBlock, ModelError, Tensor};
use std::ops::Range;
use rust_hdl::prelude::Block;
use std::path::Path;

/// Why a build or a layer run failed.
#[derive(thiserror::Error, Debug)]
pub enum EngineSimError {
    /// The generation config is inconsistent (e.g. `P ≠ R`).
    #[error("fused engine config: {0}")]
    Config(ModelError),
    /// No compiled instantiation has the widths the config needs.
    #[error("no compiled DscEngine for this config: it needs widths {need:?}; dsc-sim is built with {supported} (add a row to crates/hw/src/engine/instances.rs to support it)")]
    NoInstantiation { need: Vec<usize>, supported: String },
    /// The layer or input does not fit the generated engine (sizes over the maxima, a wrong
    /// input shape, another kernel size, …).
    #[error("layer does not fit the engine: {0}")]
    Layer(ModelError),
    /// Verilator, the build or the model failed.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The hardware did something it must not (a refused config write, a missing or extra
    /// output beat, a misplaced `tlast`, no end): a bug, reported instead of a panic.
    #[error("hardware: {0}")]
    Hardware(String),
}

pub type Result<T, E = EngineSimError> = std::result::Result<T, E>;

/// One layer on the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRun {
    /// The `[1, Ho, Wo, N]` output.
    pub output: Tensor<i8>,
    /// From the cycle the first input beat is taken to the cycle the last output beat
    /// leaves, inclusive ([`dsc_cycles`], or [`conv_cycles`] in conv mode, without stalls).
    pub cycles: u64,
    /// Config-port writes, one per cycle.
    pub config_cycles: u64,
}

/// A layer run in N tiles ([`EngineSim::run_dsc_tiled`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TiledRun {
    /// The tiles' outputs concatenated along the channels: `[1, Ho, Wo, N]`.
    pub output: Tensor<i8>,
    /// Sum over the tiles of each pass's cycles ([`dsc_model::n_tiles::dsc_tiled_cycles`]
    /// without stalls).
    pub cycles: u64,
    /// Config-port writes of all the tiles.
    pub config_cycles: u64,
    /// Passes: `⌈N / max_n⌉`.
    pub tiles: usize,
}

/// Stall probabilities of `run_dsc` with stalls: a bubble before an input beat, `tready` low
/// on the output.
pub const STALL_PROBABILITY: (f64, f64) = (0.3, 0.3);

/// A built Verilated fused engine for one generation config.
pub struct EngineSim {
    cfg: DscConfig,
    model: Model,
    build_seconds: f64,
    cached: bool,
}

/// The Verilator design of the instantiation `cfg` selects (dsc-hw's table,
/// [`dsc_hw::engine::INSTANCES`]).
fn design_for(cfg: &DscConfig) -> Result<Design> {
    struct ToDesign;
    impl InstanceUser for ToDesign {
        type Output = Result<Design, SimError>;
        fn run<B: Block>(self, _: &'static str, block: &mut B) -> Self::Output {
            Design::from_block("dsc_engine", block)
        }
    }
    match with_instance(cfg, ToDesign) {
        Ok(design) => Ok(design?),
        Err(InstanceError::Config(e)) => Err(EngineSimError::Config(e)),
        Err(InstanceError::NoInstantiation { need, supported }) => {
            Err(EngineSimError::NoInstantiation { need: need.to_vec(), supported })
        }
    }
}

impl EngineSim {
    /// Builds (or loads from the cache) the engine of `engine` + `pw`, with the FIFO depth of
    /// the cycle model. With `trace_dir`, the model writes a VCD there.
    pub fn build(engine: &EngineConfig, pw: &PointwiseConfig, trace_dir: Option<&Path>) -> Result<Self> {
        let cfg = DscConfig::new(*engine, *pw).map_err(EngineSimError::Config)?;
        Self::build_config(&cfg, trace_dir)
    }

    /// [`Self::build`] for a [`DscConfig`] (e.g. one with another FIFO depth).
    pub fn build_config(cfg: &DscConfig, trace_dir: Option<&Path>) -> Result<Self> {
        let design = design_for(cfg)?;
        let mut opts = BuildOptions::default();
        if let Some(dir) = trace_dir {
            opts.trace = true;
            opts.trace_dir = Some(dir.to_path_buf());
        }
        let compiled = build(&design, &opts)?;
        let info = compiled.info();
        let (build_seconds, cached) = (info.seconds, info.cached);
        let mut model = compiled.model()?;
        for p in ["cfg_valid", "reset", "inp_tvalid", "out_tready"] {
            model.set(p, 0)?;
        }
        Ok(EngineSim { cfg: *cfg, model, build_seconds, cached })
    }

    pub fn config(&self) -> &DscConfig {
        &self.cfg
    }

    /// Wall time of the Verilator build (0 when cached) and whether it was a cache hit.
    pub fn build_info(&self) -> (f64, bool) {
        (self.build_seconds, self.cached)
    }

    /// The Verilated model, for tests that drive ports directly.
    pub fn model(&mut self) -> &mut Model {
        &mut self.model
    }

    /// Runs `layer` on `input` (`[1, H, W, M]`): config writes, then the input stream and the
    /// output stream, with random stalls on both from `stalls = Some(seed)`
    /// ([`STALL_PROBABILITY`]). Errors: the layer or input does not fit, or the hardware
    /// misbehaves; never a panic.
    pub fn run_dsc(&mut self, layer: &DscBlock, input: &Tensor<i8>, stalls: Option<u64>) -> Result<LayerRun> {
        let prog = DscProgram::new(&self.cfg, layer, input.shape()).map_err(EngineSimError::Layer)?;
        let beats = prog.input_beats(input).map_err(EngineSimError::Layer)?;
        self.run_program(&prog, beats, stalls)
    }

    /// Runs a standard convolution `layer` (weights `[N, Dk, Dk, M]`, any `M` up to the
    /// config's channels) on `input` (`[1, H, W, M]`) in conv mode ([`DscProgram::conv`]):
    /// bit-exact with [`ConvLayer::run`], [`conv_cycles`] without stalls. Errors as
    /// [`Self::run_dsc`], and a layer whose `M' = G·Dk²·P` exceeds the config's pointwise
    /// `max_m` ([`EngineSimError::Layer`], naming the `max_m` needed).
    pub fn run_conv(&mut self, layer: &ConvLayer, input: &Tensor<i8>, stalls: Option<u64>) -> Result<LayerRun> {
        let prog = DscProgram::conv(&self.cfg, layer, input.shape()).map_err(EngineSimError::Layer)?;
        let beats = prog.input_beats(input).map_err(EngineSimError::Layer)?;
        let model = conv_cycles(&self.cfg, prog.layer());
        self.run_loaded(&prog, beats, stalls, model)
    }

    /// Runs `layer` in the N tiles of [`dsc_model::n_tiles::dsc_tiled_layer`] (as many channels
    /// as the pointwise weight memory holds for its `M`): each tile a whole pass of
    /// [`Self::run_dsc`] over `input` with the tile's pointwise weights, bias and
    /// requantization; the outputs concatenated. One tile when `N` fits. Errors as
    /// [`Self::run_dsc`].
    pub fn run_dsc_tiled(&mut self, layer: &DscBlock, input: &Tensor<i8>, stalls: Option<u64>) -> Result<TiledRun> {
        let tiled = dsc_tiled_layer(&self.cfg, input.h(), input.w(), layer.m(), layer.n(), layer.stride());
        self.run_tiles(tiled.map_err(EngineSimError::Layer)?.ranges, stalls, |sim, r, stalls| {
            let tile = dsc_slice(layer, r).map_err(EngineSimError::Layer)?;
            sim.run_dsc(&tile, input, stalls)
        })
    }

    /// [`Self::run_conv`] in N tiles, as [`Self::run_dsc_tiled`].
    pub fn run_conv_tiled(&mut self, layer: &ConvLayer, input: &Tensor<i8>, stalls: Option<u64>) -> Result<TiledRun> {
        let tiled = conv_tiled_layer(&self.cfg, input.h(), input.w(), layer.weights.c(), layer.weights.n(), layer.stride);
        self.run_tiles(tiled.map_err(EngineSimError::Layer)?.ranges, stalls, |sim, r, stalls| {
            let tile = conv_slice(layer, r).map_err(EngineSimError::Layer)?;
            sim.run_conv(&tile, input, stalls)
        })
    }

    /// One `pass` per N tile (channel range; tile `t` with the stall seed `s ^ t`), the runs
    /// merged.
    fn run_tiles(
        &mut self,
        ranges: Vec<Range<usize>>,
        stalls: Option<u64>,
        mut pass: impl FnMut(&mut Self, Range<usize>, Option<u64>) -> Result<LayerRun>,
    ) -> Result<TiledRun> {
        let mut runs = Vec::with_capacity(ranges.len());
        for (t, r) in ranges.into_iter().enumerate() {
            runs.push(pass(self, r, stalls.map(|s| s ^ t as u64))?);
        }
        merge(runs)
    }

    /// Runs a loaded DSC program (see [`Self::run_dsc`]).
    pub fn run_program(&mut self, prog: &DscProgram, beats: Vec<(u128, bool)>, stalls: Option<u64>) -> Result<LayerRun> {
        let model = dsc_cycles(&self.cfg, prog.layer());
        self.run_loaded(&prog, beats, stalls, model)
    }

    /// `model`: the stall-free cycle count, which bounds the run.
    fn run_loaded(&mut self, prog: &DscProgram, beats: Vec<(u128, bool)>, stalls: Option<u64>, model: u64) -> Result<LayerRun> {
        let hw = |s: String| EngineSimError::Hardware(s);
        let m = &mut self.model;
        for p in ["cfg_valid", "inp_tvalid", "out_tready"] {
            m.set(p, 0)?;
        }
        if m.get("busy")? != 0 {
            return Err(hw("the engine is busy before the layer".into()));
        }
        let c0 = m.cycles();
        for &(a, d) in prog.writes() {
            crate::config_port::write(m, a, d)?;
        }
        let config_cycles = m.cycles() - c0;
        crate::config_port::settle(m);
        if m.get("error")? != 0 {
            return Err(hw("a config write was refused".into()));
        }
        let (p_in, p_out, seed) = match stalls {
            Some(s) => (STALL_PROBABILITY.0, STALL_PROBABILITY.1, s),
            None => (0.0, 0.0, 0),
        };
        let mut src = StreamSource::new(m, "inp", p_in, seed)?;
        let mut sink = StreamSink::new(m, "out", p_out, seed ^ 0x5A5A)?;
        let n_in = beats.len();
        src.extend(beats.into_iter().map(|(d, l)| Beat::new(d, l)));
        let expect = prog.output_beats();
        // No stall-free run is slower than the model; stalls at 30% cost well under 10×.
        let limit = m.cycles() + 10 * model + 10_000;
        let mut first_in = None;
        while sink.received().len() < expect {
            if m.cycles() > limit {
                return Err(hw(format!(
                    "no end: {} of {expect} output beats, {} of {n_in} input beats taken after {} cycles",
                    sink.received().len(),
                    src.sent(),
                    m.cycles() - c0
                )));
            }
            src.drive(m)?;
            sink.drive(m)?;
            let before = src.sent();
            src.sample(m)?;
            sink.sample(m)?;
            if before == 0 && src.sent() == 1 {
                first_in = Some(m.cycles());
            }
            m.try_tick()?;
        }
        m.set("inp_tvalid", 0)?;
        m.set("out_tready", 1)?;
        for _ in 0..40 {
            if m.get("out_tvalid")? != 0 {
                return Err(hw("an output beat beyond the layer's".into()));
            }
            m.try_tick()?;
        }
        if !src.is_done() {
            return Err(hw(format!("{} of {n_in} input beats taken at the end", src.sent())));
        }
        for flag in ["busy", "error", "last_error"] {
            if m.get(flag)? != 0 {
                return Err(hw(format!("`{flag}` high after the layer")));
            }
        }
        let got = sink.received();
        if !got.last().map(|r| r.beat.last).unwrap_or(false) || got[..got.len() - 1].iter().any(|r| r.beat.last) {
            return Err(hw("tlast not on the last output beat only".into()));
        }
        let words: Vec<u128> = got
            .iter()
            .map(|r| r.beat.words().iter().rev().fold(0u128, |a, &w| (a << 32) | w as u128))
            .collect();
        let output = prog.output_tensor(&words).map_err(EngineSimError::Layer)?;
        let first = first_in.ok_or_else(|| hw("no input beat taken".into()))?;
        Ok(LayerRun { output, cycles: got.last().map(|r| r.cycle).unwrap_or(first) - first + 1, config_cycles })
    }
}

/// The tiles' runs as one.
fn merge(runs: Vec<LayerRun>) -> Result<TiledRun> {
    let parts: Vec<Tensor<i8>> = runs.iter().map(|r| r.output.clone()).collect();
    Ok(TiledRun {
        output: concat_channels(&parts).map_err(EngineSimError::Layer)?,
        cycles: runs.iter().map(|r| r.cycles).sum(),
        config_cycles: runs.iter().map(|r| r.config_cycles).sum(),
        tiles: runs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};

    #[test]
    fn a_config_without_instantiation_is_an_error() {
        let e = EngineConfig::new(3, 2, 2, 2, 12, 12, 8).unwrap();
        let a = SystolicConfig::new(2, 2, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
        let pw = PointwiseConfig::new(a, 8, 8, 4).unwrap();
        let err = EngineSim::build(&e, &pw, None).err().unwrap();
        assert!(matches!(err, EngineSimError::NoInstantiation { .. }), "{err}");
        assert!(err.to_string().contains("needs widths"), "{err}");
        let a4 = SystolicConfig::new(4, 2, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
        let err = EngineSim::build(&e, &PointwiseConfig::new(a4, 8, 8, 4).unwrap(), None).err().unwrap();
        assert!(matches!(err, EngineSimError::Config(_)), "{err}");
    }
}
