//! DscEngine: the fused depthwise separable convolution layer — [`DepthwiseEngine`] (`P`
//! lanes) → [`StreamFifo`] → [`PointwiseStage`] (`R = P` rows, so a depthwise output beat is
//! a pointwise input beat), bit-exact with [`dsc_model::DscBlock::run`] and cycle-exact with
//! [`dsc_model::engine::dsc_cycles`].
//!
//! **Streams.** Input beats: `P` int8 channels, `G = M/P` beats per pixel, pixels row-major,
//! `tlast` on the last (the depthwise engine's input). Output beats: `C` int8 channels,
//! `NT = ceil(N/C)` beats per output pixel (the pointwise stage's output). The depthwise
//! output zero point is the pointwise input zero point ([`DscProgram`] folds it).
//!
//! **FIFO.** `2^FA` beats between the stages; the depth comes from the two stages' rates and
//! burst lengths ([`dsc_model::engine::fifo_depth_for`]: the FIFO's 4-beat round trip, plus
//! any depthwise row burst the pointwise stage's rate and second input bank cannot absorb
//! where a depthwise stall would cost cycles) and [`DscEngine::new`] checks it against the
//! [`DscConfig`].
//!
//! **Instantiations.** The compiled width tuples live in one table ([`INSTANCES`], type
//! aliases such as [`SmallDscEngine`]); [`with_instance`] builds the one a config needs.
//!
//! **Config port** (`cfg_valid`, `cfg_addr`, `cfg_data`; one write per cycle). `cfg_addr[31:28]`
//! selects the stage; the rest is that stage's own address (`[27:24]` region, `[23:0]` index).
//! Each stage registers its port before decoding it, so a write's effect on `error`, `busy`
//! and the layer shows two edges after the write is presented:
//!
//! | `cfg_addr` | stage | registers |
//! |---|---|---|
//! | `0x00_000000..0x04_FFFFFF` | depthwise | regions 0–4 of [`DepthwiseEngine`] (e.g. START = `0x00000008`) |
//! | `0x10_000000..0x14_FFFFFF` | pointwise | regions 0–4 of [`PointwiseStage`] (e.g. START = `0x10000008`) |
//! | any other `cfg_addr[31:28]` | — | refused |
//!
//! Each stage checks and refuses its own writes (a value out of range, a write while that
//! stage is busy, …). `error` is the OR of both stages' sticky errors and a refused stage
//! select; clear-error of either stage (`0x00000009`, `0x10000009`) clears the select error
//! and that stage's. `busy` is high while either stage is busy, the FIFO holds beats or a
//! reset is draining. A layer is loaded pointwise first, START included (the stage then waits
//! for input), then the depthwise engine, its START last ([`DscProgram`]).
//!
//! **Reset** (`reset` high for a cycle, at any time): the depthwise engine aborts (see its
//! docs) and clears its error; the pointwise stage, which has no abort, gets a clear-error
//! write and is drained: until both stages are idle and the FIFO is empty, the FIFO's
//! output is dropped, the pointwise stage is fed filler beats and its output is dropped
//! (a pointwise layer in progress runs to its end on filler; `last_error` is meaningless until
//! the next START). `busy` stays high until then. Registers, weights and parameters keep their
//! contents.
//!
//! **Conv mode** (the standard-convolution baseline, [`DscProgram::conv`]): the depthwise
//! engine runs in im2col mode, so each output pixel reaches the pointwise stage as `G·Dk²`
//! beats, `M' = G·Dk²·P` channels, and the pointwise stage computes the standard `Dk×Dk`
//! convolution with its weights reordered and the input zero point folded into the bias
//! ([`dsc_model::im2col`]). Same streams (the input's `M` need not be a multiple of `P`: the
//! host pads the lanes with `in_zp`), same port, no hardware of its own; the generation
//! config's pointwise `max_m` must cover `M'` ([`dsc_model::engine::DscConfig::conv_layer`]
//! says which `max_m` a layer needs). Cycles: [`dsc_model::engine::conv_cycles`].
//!
//! **Cycles.** With an always-valid input and an always-ready output, the last output beat
//! leaves [`dsc_model::engine::dsc_cycles`] cycles after the first input beat is taken
//! (a cycle-stepped timing model of both stages, the FIFOs and the backpressure between them);
//! configuring a layer takes [`DscProgram::writes`]`.len()` cycles.

mod instances;
mod program;

#[cfg(test)]
mod tests;

pub use instances::*;
pub use program::{DscProgram, DSC_PW_STAGE};

use crate::depthwise::DepthwiseEngine;
use crate::pointwise::PointwiseStage;
use crate::stream::{StreamFifo, StreamIn, StreamOut};
use dsc_model::engine::DscConfig;
use dsc_model::engine_config::ParamRam;
use dsc_model::ModelError;
use rust_hdl::prelude::*;

/// The fused engine. Const generics: the depthwise engine's widths (`BEAT … FW`, see
/// [`DepthwiseEngine`]; `BEAT = 8P` is also the pointwise input width `8R`), the pointwise
/// stage's (`ACC, WW, PW, PB, PS, PFW, XA, WA, BA, OA, JA`, see [`PointwiseStage`]) and `FA`,
/// the FIFO's address bits. [`widths`] derives them from a [`DscConfig`].
#[derive(LogicBlock)]
pub struct DscEngine<
    const BEAT: usize,
    const WIN: usize,
    const LADDR: usize,
    const GADDR: usize,
    const CB: usize,
    const DK: usize,
    const S: usize,
    const PW32: usize,
    const PW6: usize,
    const FW: usize,
    const ACC: usize,
    const WW: usize,
    const PW: usize,
    const PB: usize,
    const PS: usize,
    const PFW: usize,
    const XA: usize,
    const WA: usize,
    const BA: usize,
    const OA: usize,
    const JA: usize,
    const FA: usize,
> {
    pub clock: Signal<In, Clock>,
    /// Synchronous abort: see the module docs.
    pub reset: Signal<In, Bit>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_addr: Signal<In, Bits<32>>,
    pub cfg_data: Signal<In, Bits<32>>,
    /// Input beats: `P` int8 channels.
    pub inp: StreamIn<BEAT>,
    /// Output beats: `C` int8 channels.
    pub out: StreamOut<WW>,
    pub busy: Signal<Out, Bit>,
    /// Sticky: a config write was refused.
    pub error: Signal<Out, Bit>,
    /// Sticky since START: an input `tlast` disagreed with the layer geometry.
    pub last_error: Signal<Out, Bit>,
    dw: DepthwiseEngine<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW>,
    fifo: StreamFifo<BEAT, FW, FA>,
    pw: PointwiseStage<ACC, BEAT, WW, PW, PB, PS, PFW, XA, WA, BA, OA, JA>,
    sel_err: DFF<Bit>,
    drain: DFF<Bit>,
    stage: Signal<Local, Bits<4>>,
    clear: Signal<Local, Bit>,
    /// The pointwise stage's output-FIFO fill (Verilator's `*unused*` pattern exempts it).
    unused_out_fill: Signal<Local, Bits<16>>,
}

fn clog2(n: usize) -> usize {
    (usize::BITS - (n.max(1) - 1).leading_zeros()) as usize
}

/// The 22 const generics of [`DscEngine`] a config needs, in declaration order.
pub fn widths(cfg: &DscConfig) -> [usize; 22] {
    let e = cfg.engine();
    let w = e.window();
    let p = e.lanes();
    let pc = cfg.pointwise();
    let a = pc.array();
    let (r, c, acc) = (a.rows(), a.cols(), a.acc_bits());
    let (mt, nt, b) = (pc.max_m_tiles(), pc.max_n_tiles(), pc.max_block());
    [
        w.beat_bits(),
        w.window_bits(),
        w.line_addr_bits(),
        w.group_bits(),
        w.coord_bits(),
        w.dk(),
        e.dw_sum_bits(),
        32 * p,
        6 * p,
        w.beat_bits() + 1,
        acc,
        8 * c,
        acc * c,
        32 * c,
        6 * c,
        8 * c + 1,
        clog2(b * mt) + 1,
        clog2(pc.weight_tiles() * r),
        clog2(b),
        clog2(b * nt) + 1,
        clog2(nt),
        cfg.fifo_addr_bits(),
    ]
}

impl<
        const BEAT: usize,
        const WIN: usize,
        const LADDR: usize,
        const GADDR: usize,
        const CB: usize,
        const DK: usize,
        const S: usize,
        const PW32: usize,
        const PW6: usize,
        const FW: usize,
        const ACC: usize,
        const WW: usize,
        const PW: usize,
        const PB: usize,
        const PS: usize,
        const PFW: usize,
        const XA: usize,
        const WA: usize,
        const BA: usize,
        const OA: usize,
        const JA: usize,
        const FA: usize,
    >
    DscEngine<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW, ACC, WW, PW, PB, PS, PFW, XA, WA, BA, OA, JA, FA>
{
    /// The engine for `cfg`, or why these const generics do not fit it.
    pub fn new(cfg: &DscConfig) -> Result<Self, ModelError> {
        let have = [
            BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW, ACC, WW, PW, PB, PS, PFW, XA, WA, BA, OA, JA, FA,
        ];
        let need = widths(cfg);
        if have != need {
            return Err(ModelError::InvalidParameter(format!(
                "DscEngine<{have:?}> does not fit the config: it needs {need:?}"
            )));
        }
        Ok(Self {
            clock: Default::default(),
            reset: Default::default(),
            cfg_valid: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            inp: Default::default(),
            out: Default::default(),
            busy: Default::default(),
            error: Default::default(),
            last_error: Default::default(),
            dw: DepthwiseEngine::new(cfg.engine())?,
            fifo: StreamFifo::new()?,
            // Every layer's pointwise pixels are depthwise outputs: at most max_width · max_height.
            pw: PointwiseStage::new(cfg.pointwise())?
                .with_max_pixels(cfg.engine().max_width() * cfg.engine().max_height())
                // The small-device memory plan also leaves out the bias/shift registers.
                .with_param_regs(cfg.engine().param_ram() == ParamRam::Block),
            sel_err: Default::default(),
            drain: Default::default(),
            stage: Default::default(),
            clear: Default::default(),
            unused_out_fill: Default::default(),
        })
    }
}

impl<
        const BEAT: usize,
        const WIN: usize,
        const LADDR: usize,
        const GADDR: usize,
        const CB: usize,
        const DK: usize,
        const S: usize,
        const PW32: usize,
        const PW6: usize,
        const FW: usize,
        const ACC: usize,
        const WW: usize,
        const PW: usize,
        const PB: usize,
        const PS: usize,
        const PFW: usize,
        const XA: usize,
        const WA: usize,
        const BA: usize,
        const OA: usize,
        const JA: usize,
        const FA: usize,
    > Logic
    for DscEngine<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW, ACC, WW, PW, PB, PS, PFW, XA, WA, BA, OA, JA, FA>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sel_err, drain);
        clock!(self, clock, dw, fifo, pw);
        // ---- Config port: cfg_addr[31:28] selects the stage.
        self.stage.next = self.cfg_addr.val().get_bits::<4>(28);
        self.clear.next = self.cfg_valid.val()
            && ((self.cfg_addr.val() == 0x0000_0009) || (self.cfg_addr.val() == 0x1000_0009));
        self.dw.reset.next = self.reset.val();
        self.dw.cfg_valid.next = self.cfg_valid.val() && (self.stage.val() == 0);
        self.dw.cfg_addr.next = self.cfg_addr.val();
        self.dw.cfg_data.next = self.cfg_data.val();
        self.pw.cfg_valid.next = self.cfg_valid.val() && (self.stage.val() == 1);
        self.pw.cfg_addr.next = self.cfg_addr.val() & 0x0FFF_FFFF;
        self.pw.cfg_data.next = self.cfg_data.val();
        // Reset: a clear-error write to the pointwise stage (accepted even while it runs).
        if self.reset.val() {
            self.pw.cfg_valid.next = true;
            self.pw.cfg_addr.next = 0x0000_0009.into();
        }
        if self.cfg_valid.val() && (self.stage.val() > 1) {
            self.sel_err.d.next = true;
        }
        if self.clear.val() || self.reset.val() {
            self.sel_err.d.next = false;
        }
        // ---- Streams: depthwise → FIFO → pointwise; while draining, the FIFO's output and
        // the pointwise output are dropped and the pointwise input gets filler beats.
        self.dw.inp.tdata.next = self.inp.tdata.val();
        self.dw.inp.tvalid.next = self.inp.tvalid.val();
        self.dw.inp.tlast.next = self.inp.tlast.val();
        self.inp.tready.next = self.dw.inp.tready.val();
        self.fifo.inp.tdata.next = self.dw.out.tdata.val();
        self.fifo.inp.tvalid.next = self.dw.out.tvalid.val();
        self.fifo.inp.tlast.next = self.dw.out.tlast.val();
        self.dw.out.tready.next = self.fifo.inp.tready.val();
        self.pw.inp.tdata.next = self.fifo.out.tdata.val();
        self.pw.inp.tlast.next = self.fifo.out.tlast.val() && !self.drain.q.val();
        self.pw.inp.tvalid.next = self.fifo.out.tvalid.val() || self.drain.q.val();
        self.fifo.out.tready.next = self.pw.inp.tready.val() || self.drain.q.val();
        self.out.tdata.next = self.pw.out.tdata.val();
        self.out.tlast.next = self.pw.out.tlast.val();
        self.out.tvalid.next = self.pw.out.tvalid.val() && !self.drain.q.val();
        self.pw.out.tready.next = self.out.tready.val() || self.drain.q.val();
        self.unused_out_fill.next = self.pw.out_fill.val();
        // ---- Drain after reset until both stages are idle and the FIFO is empty.
        if self.drain.q.val()
            && !self.dw.busy.val()
            && !self.pw.busy.val()
            && (self.fifo.count.val() == 0)
        {
            self.drain.d.next = false;
        }
        if self.reset.val() {
            self.drain.d.next = true;
        }
        self.busy.next = self.dw.busy.val()
            || self.pw.busy.val()
            || self.drain.q.val()
            || (self.fifo.count.val() != 0);
        self.error.next = self.dw.error.val() || self.pw.error.val() || self.sel_err.q.val();
        self.last_error.next = self.dw.last_error.val() || self.pw.last_error.val();
    }
}
