//! DepthwiseEngine: a streaming depthwise convolution with per-channel requantization,
//! configured at run time through a write port, bit-exact with
//! [`dsc_model::depthwise::depthwise`] and cycle-exact with
//! [`dsc_model::depthwise::engine_cycles`].
//!
//! **Datapath.** input beats (`P` int8 channels) → [`SlidingWindow`] (line buffers in block
//! RAM, SAME padding with the raw `in_zp`, stride 1/2) → `P` [`DepthwiseLane`]s (`Dk²`
//! [`Mul8x8`](crate::primitives::Mul8x8) each, products registered, adder tree registered per
//! level) → `P` [`Requantizer`]s (bias, Q31 multiplier, shift, output zero point, clamp) →
//! [`StreamFifo`] → output beats (`P` int8 channels, same order as the input: output pixels
//! row-major, `G = M/P` beats per pixel, `tlast` on the frame's last beat).
//!
//! **Wide input port** ([`DepthwiseEngineQ`] with `Q = pixels_per_beat > 1`): an input beat
//! carries the `P` channels of `Q` adjacent pixels (`8·P·Q` bits, pixel `k` at bits `8P·k..`;
//! per row `ceil(W/Q)` words of `G` beats, the bytes past the row's end ignored) and a
//! [`WideWindow`] replaces the [`SlidingWindow`] (which stays, idle and unconnected: synthesis
//! removes it). Everything after the window generator is the same, so are the outputs. The
//! fused `DscEngine` takes `Q = 1` only (`DscConfig` refuses more); im2col mode is for `Q = 1`
//! ([`DepthwiseProgram::im2col`] refuses more; its cycle model is the narrow scan's).
//! [`DepthwiseEngine`] is the `Q = 1` instantiation, the hardware of every existing config.
//!
//! **Input zero point.** The window pads with the raw `in_zp` and the lanes compute
//! `Σ w·x` over all `Dk²` taps; the bias register holds `bias − in_zp·Σ_t w_t` (int32,
//! wrapping), which makes the sum equal TFLite's `bias + Σ w·(x − in_zp)` over the taps inside
//! the image (padded taps add `w·(in_zp − in_zp) = 0` there). [`DepthwiseProgram`] folds it.
//!
//! **im2col mode** (mode register = 1): the standard-convolution baseline. Each window the
//! generator emits leaves as `T = Dk²` output beats, tap `t = ky·Dk + kx` in beat `t` (the
//! window's bits `t·8P..`, lane `l` at `+8l`), bypassing the lanes and requantizers through
//! a serializer register (one beat per cycle) into the same output FIFO; `tlast` on the last
//! beat of the frame. An output pixel leaves as `G·T` beats in `(g, t)` order: a pointwise
//! stage fed with them sees `M' = G·T·P` channels, channel `(g·T + t)·P + l` (see
//! [`dsc_model::im2col`], which maps the standard conv's weights and bias onto them). `M`
//! not a multiple of `P`: the host pads the input lanes `M..G·P` with `in_zp`
//! ([`DepthwiseProgram::im2col`]). Cycles: [`dsc_model::im2col::im2col_cycles`]. The mode
//! write is refused when `T` exceeds the FIFO depth (never for `Dk ≤ 5`).
//!
//! **Backpressure.** The lanes and requantizers have no enable: once a window is accepted
//! it reaches the FIFO [`DepthwiseEngine::pipe_latency`] edges later. Credits count the
//! output beats of accepted windows not yet sent out (registered: a beat sent in cycle `c`
//! frees its credit from `c + 1`). A window is accepted in cycle `c` only while
//! `credits ≤ 32 − k` (`k` = its beats: 1, or `T` in im2col mode) and, in im2col mode, the
//! serializer is empty or on its last tap; so the FIFO (32 beats) never overflows. A window
//! not accepted stays in the generator's output register, and the generator stalls at its
//! next emitting scan position (and the input with it) until that window is accepted. An
//! output beat that entered the FIFO in cycle `e` is valid on `out` from cycle `e + 3` at the
//! earliest (FIFO latency), in order, one per cycle while `out.tready` is high. So for a
//! downstream consumer: with `out.tready` always high the engine follows `engine_cycles` /
//! `im2col_cycles`; a consumer that holds `out.tready` low lets at most 32 beats queue (the
//! beats of accepted windows keep arriving into the FIFO), then stops the generator, and
//! after `out.tready` rises the queued beats leave one per cycle while the generator resumes
//! (its next window reaches the FIFO `pipe_latency + 1` cycles, or 1 cycle in im2col mode,
//! after acceptance). Without backpressure the credits never bind (`Dk ≤ 5`).
//!
//! **Config port** (`cfg_valid`, `cfg_addr`, `cfg_data`; one write per cycle, no handshake).
//! A write is registered at the port ([`ConfigWrite`]: its address, data and the checks on
//! them alone) and takes effect on the next edge (`error`, `busy` and a START show two edges
//! after the write is presented; `busy` is high while a write is in the port register; the
//! window generator starts one edge after START is taken); a write presented with `reset` is
//! dropped.
//! `cfg_addr[31:24]` selects a region, `cfg_addr[23:0]` an index:
//!
//! | region | index | data | meaning |
//! |---|---|---|---|
//! | 0 | 0 | `1..=max_height` | `H` |
//! | 0 | 1 | `1..=max_width` | `W` |
//! | 0 | 2 | `1..=max_channels/P` | channel groups `G = M/P` |
//! | 0 | 3 | 1 or 2 | stride |
//! | 0 | 4 | int8 | input zero point |
//! | 0 | 5 | int8 | output zero point |
//! | 0 | 6 | int8 | `act_min` |
//! | 0 | 7 | int8 | `act_max` (`act_min ≤ act_max` checked at START) |
//! | 0 | 8 | any | START: run one frame with the registers above |
//! | 0 | 9 | any | clear `error` |
//! | 0 | 10 | 0 or 1 | mode: 0 depthwise, 1 im2col (the clamp is not checked at START then) |
//! | 1 | group `g` | int8 | weights: `Dk²·P` writes per group, byte `k = t·P + l` (tap `t = ky·Dk + kx`, lane `l`) in order `k = 0, 1, …` |
//! | 2 | group `g` | int32 | bias (with the `in_zp` fold): `P` writes, lanes in order |
//! | 3 | group `g` | int32 | `M0`: `P` writes, lanes in order (any value is computed exactly) |
//! | 4 | group `g` | `−31..=30` | shift: `P` writes, lanes in order |
//!
//! Per-channel writes shift into a staging word that is written to the group's RAM word after
//! every write, so the word is complete after the last write of the group; the writes of one
//! group must not be interleaved with writes to another group of the same region (nor, for the
//! bias and `M0` regions, which share one staging word, with writes to the other).
//! The RAM writes happen only while idle (writes are refused while `busy`) and the frame reads
//! only while `busy`, so with `[engine] param_ram = "spram"` the bias and `M0` RAMs are
//! single-port ([`SdpRam::single_port`]: SB_SPRAM256KA on the iCE40) with the same behaviour.
//! With `"block"` bias and shift are read a stage before `M0` and registered (an Fmax register
//! for the ECP5's slow DP16KD clock-to-out); the small-device plan `"spram"` reads them beside
//! `M0` instead (same cycles, 38·P flip-flops fewer, which the UP5K needs).
//!
//! **Rejected writes** set the sticky `error` output and change nothing: an unknown region or
//! index, a value outside the range in the table, a group `≥ max_channels/P`, any write while
//! `busy` (except clear-error), START with `H` or `W` never set or `act_min > act_max`, and —
//! when `[engine] max_line_words` is below `max_width · max_channels/P` — START with a row of
//! `W · G` words above it (the line buffers hold `max_line_words` words).
//!
//! **Reset** (`reset` high for a cycle, at any time): abandons the frame, drops every window
//! in flight and every output not yet sent (`busy` stays high until they are gone), clears
//! `error`. Layer registers and RAMs keep their contents; a new START runs a clean frame.
//!
//! **Cycles.** With an always-valid input and an always-ready output, the last output beat
//! leaves [`dsc_model::depthwise::engine_cycles`] cycles after the first input beat was taken
//! (the formula is documented there); configuring a layer takes
//! [`DepthwiseProgram::writes`]`.len()` cycles.
//!
//! **Utilization** `C_dw ÷ (P·Dk² × cycles)` `= Ho·Wo·G ÷ cycles`: the lanes take one window
//! per cycle whenever the window generator has one, so the generator's scan sets the rate.
//! At stride 1 it spends `H·W·G + half·(W + 1)·G` cycles on `H·W·G` windows — right padding
//! windows leave while the next row's first beats arrive, so only the one-row latency of the
//! window remains, which [`dsc_model::depthwise::cycle_bound`] shows no engine with one
//! input beat per cycle avoids: 99.1% at 112×112, 92.8% at 14×14, 85.8% at 7×7 (`Dk = 3`,
//! the bound plus 19 cycles of pipeline: window register 1, lane 6, requantizer 9, FIFO 3).
//! At stride 2 one input beat per cycle bounds it to 25%: each window needs four new beats.
//! With `Q = 4` pixels per beat the input keeps up at stride 2 and the first window waits for
//! fewer beats: measured 97.9–99.7% on MobileNet-v1's stride-1 layers (95.8% at 7×7),
//! 98.2% / 96.4% / 93.1% / 78.7% on its stride-2 layers at 112² / 56² / 28² / 14² — each the
//! bound for that port plus the pipeline (18 cycles when measured, before the lane operand and
//! requantizer registers added 3). With `Q = 16` (`P = 8`) every layer is ≥ 95%: 95.5% (dw12,
//! 14² stride 2) to 99.9%, 99.4% over all 13, each layer its bound plus 21 cycles
//! ([`dsc_model::depthwise::cycle_bound_wide`]; `docs/measurements.md`).

mod lane;
mod program;

#[cfg(test)]
mod tests;

pub use lane::DepthwiseLane;
pub use program::{cfg_addr, im2col_pointwise_program, DepthwiseProgram, CFG_CLEAR_ERROR, CFG_MODE, CFG_START};

use crate::requant::Requantizer;
use crate::primitives::{ProductFits, SdpRam, Widen};
use crate::stream::{ConfigWrite, StreamFifo, StreamIn, StreamOut};
use crate::window::{SlidingWindow, WideWindow};
use dsc_model::engine_config::{EngineConfig, LaneMul, ParamRam};
use dsc_model::ModelError;
use rust_hdl::prelude::*;

/// Address bits of the output FIFO: 32 beats, more than the pipeline holds.
pub const FIFO_ADDR_BITS: usize = 5;

/// The engine. Const generics are bit widths fixed by the [`EngineConfig`] (checked by
/// [`DepthwiseEngine::new`]): the window's `BEAT = 8P`, `WIN = Dk²·8P`, `LADDR`, `GADDR`,
/// `CB`, `DK` (see [`SlidingWindow`]), `S` = the lane sum width, `PW32 = 32P`, `PW6 = 6P`,
/// `FW = BEAT + 1` (the FIFO word).
#[derive(LogicBlock)]
pub struct DepthwiseEngineQ<
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
    const IBEAT: usize,
    const WADDR: usize,
> {
    pub clock: Signal<In, Clock>,
    /// Synchronous abort: see the module docs.
    pub reset: Signal<In, Bit>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_addr: Signal<In, Bits<32>>,
    pub cfg_data: Signal<In, Bits<32>>,
    /// Input beats: `P` int8 channels.
    pub inp: StreamIn<IBEAT>,
    /// Output beats: `P` int8 channels.
    pub out: StreamOut<BEAT>,
    /// A frame runs or outputs are still in flight: config writes are refused.
    pub busy: Signal<Out, Bit>,
    /// Sticky: a config write was refused.
    pub error: Signal<Out, Bit>,
    /// Sticky since START: an input `tlast` disagreed with the frame geometry.
    pub last_error: Signal<Out, Bit>,
    window: SlidingWindow<BEAT, WIN, LADDR, GADDR, CB, DK>,
    /// `Q > 1`: the wide window generator (one), which replaces `window` (then idle, its
    /// outputs unused: synthesis removes it). Empty for `Q = 1`.
    wide: Vec<WideWindow<BEAT, IBEAT, WIN, WADDR, GADDR, CB>>,
    /// The window stream the lanes take: `window`'s, or `wide[0]`'s.
    win_data: Signal<Local, Bits<WIN>>,
    win_valid: Signal<Local, Bit>,
    win_last: Signal<Local, Bit>,
    win_busy: Signal<Local, Bit>,
    /// `[engine] max_line_words` below `max_width · max_groups`: START also needs the row's
    /// `W · G` words to fit the line buffers (one check, on the values the layer registers
    /// take at the next edge). Empty otherwise (the maxima imply it).
    row_fits: Vec<ProductFits<CB, GADDR>>,
    /// The row fits (true without `row_fits`).
    row_ok: Signal<Local, Bit>,
    wram: SdpRam<WIN, GADDR>,
    /// The weight RAM is read ahead of the window on the bus (for Fmax: the RAM's address is
    /// a register and the accept only its read enable): during a frame `wram`'s output holds
    /// the word of the group after `group` with `wts_reg` (of `group` itself without) and
    /// `wread` addresses the group after that. START primes the pipe with one read per stage
    /// (`wshift` in the cycles of `start_r` and `start_r2`).
    wread: DFF<Bits<GADDR>>,
    /// `wread`'s next group (wraps after `last_group`).
    wread_next: Signal<Local, Bits<GADDR>>,
    /// The weight word of `group` in a fabric register beside the RAM (`[engine] ram_regs`;
    /// for Fmax: the DP16KD's ~5.8 ns clock-to-out ends there, not at the lanes' multipliers
    /// across the die); without it the lanes take the RAM output.
    wts_reg: Vec<DFF<Bits<WIN>>>,
    /// The cycle after `start_r`: the second priming read (with `wts_reg`).
    start_r2: DFF<Bit>,
    /// `wts_reg` is built: START primes the pipe with a second read.
    has_wts_reg: Constant<Bit>,
    /// Advance the weight read pipe this cycle: a window accepted, or START's priming.
    wshift: Signal<Local, Bit>,
    bram: SdpRam<PW32, GADDR>,
    mram: SdpRam<PW32, GADDR>,
    sram: SdpRam<PW6, GADDR>,
    lanes: Vec<DepthwiseLane<WIN, S>>,
    rq: Vec<Requantizer>,
    /// Lane sums sign-extended to the requantizer's 32 bits.
    acc_ext: Vec<Widen<S, 32>>,
    /// Requantized bytes zero-extended to a beat, for packing.
    byte_ext: Vec<Widen<8, BEAT>>,
    fifo: StreamFifo<BEAT, FW, FIFO_ADDR_BITS>,
    // Layer registers.
    height: DFF<Bits<CB>>,
    width: DFF<Bits<CB>>,
    last_group: DFF<Bits<GADDR>>,
    stride2: DFF<Bit>,
    in_zp: DFF<Bits<8>>,
    out_zp: DFF<Bits<8>>,
    act_min: DFF<Bits<8>>,
    act_max: DFF<Bits<8>>,
    /// Layer mode: im2col (else depthwise).
    im2col: DFF<Bit>,
    // Config staging.
    wstage: DFF<Bits<WIN>>,
    bstage: DFF<Bits<PW32>>,
    sstage: DFF<Bits<PW6>>,
    wpend: DFF<Bit>,
    /// Bias / M0 write this cycle: with `param_ram = "spram"` those RAMs are written on the
    /// config write's effective edge from `pword`, so with one lane the staging register
    /// holds nothing and goes (the UP5K needs those flip-flops).
    bwr: Signal<Local, Bit>,
    mwr: Signal<Local, Bit>,
    /// With `"block"` they are written an edge later, like the weights, from `bstage` and
    /// `pgroup` (for Fmax: the write's checks do not meet the RAMs' write enables).
    bpend: DFF<Bit>,
    mpend: DFF<Bit>,
    pword: Signal<Local, Bits<PW32>>,
    spend: DFF<Bit>,
    pgroup: DFF<Bits<GADDR>>,
    err: DFF<Bit>,
    /// The config port's register (for Fmax: the decode and checks of a write start from
    /// flip-flops, not from the port): the write and its verdict `data_ok`.
    port: ConfigWrite,
    // Run control.
    active: DFF<Bit>,
    flush: DFF<Bit>,
    credits: DFF<Bits<8>>,
    /// `im2col_room − credits` in two's complement, kept beside `credits` (loaded at START,
    /// when the credits are 0): its sign bit is im2col mode's accept test `credits ≤
    /// im2col_room` straight from a flip-flop (for Fmax: no comparator in the ready path). Depthwise
    /// mode needs no such register (see `credit_ok`), so an engine without the im2col mode
    /// loses it in synthesis.
    space: DFF<Bits<8>>,
    group: DFF<Bits<GADDR>>,
    /// im2col serializer: the accepted window, shifted down a beat per cycle; `ser_tap` = the
    /// tap on its low beat.
    ser: DFF<Bits<WIN>>,
    ser_valid: DFF<Bit>,
    ser_last: DFF<Bit>,
    ser_tap: DFF<Bits<8>>,
    /// `ser_tap` is on the last tap (registered beside it, for the same reason as `space`).
    ser_at_last: DFF<Bit>,
    /// Valid and `tlast` of the window in each lane stage (`latency` long), its group up to
    /// stage `latency − 1` (where the parameter RAMs are read).
    vpipe: Vec<DFF<Bit>>,
    lpipe: Vec<DFF<Bit>>,
    gpipe: Vec<DFF<Bits<GADDR>>>,
    /// Bias, shift and `M0`, read a stage early and registered (for Fmax: the block RAM's
    /// clock-to-out ends in a flip-flop the placer can put beside the RAM, not in the
    /// requantizer's bias add or multiplier); with `param_ram = "spram"` all three are read a
    /// stage later and go to the requantizers unregistered.
    bias1: DFF<Bits<PW32>>,
    shift1: DFF<Bits<PW6>>,
    m0_1: DFF<Bits<PW32>>,
    /// Walks the `gpipe` stages to find the one before the last (`group` for one stage).
    early_group: Signal<Local, Bits<GADDR>>,
    /// `bias1`/`shift1` are used (`param_ram = "block"`); with `"spram"`, the small-device
    /// plan, bias and shift are read beside `M0` and go to the requantizers unregistered.
    param_regs: Constant<Bit>,
    // Combinational.
    in_region: Signal<Local, Bits<8>>,
    in_index: Signal<Local, Bits<24>>,
    data_ok: Signal<Local, Bit>,
    region: Signal<Local, Bits<8>>,
    index: Signal<Local, Bits<24>>,
    data_m1: Signal<Local, Bits<32>>,
    group_ok: Signal<Local, Bit>,
    write_ok: Signal<Local, Bit>,
    bad: Signal<Local, Bit>,
    /// A write in range while idle (`¬bad` for every write but START).
    take_idle: Signal<Local, Bit>,
    start: Signal<Local, Bit>,
    /// START taken last cycle: the layer starts (`active`, the window generator) from this
    /// flip-flop (for Fmax: the START checks and the scans' load logic do not meet in one
    /// cycle); it counts as busy, so no write lands in between.
    start_r: DFF<Bit>,
    busy_now: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    send: Signal<Local, Bit>,
    /// The serializer takes a window this cycle (empty, or on its last tap).
    ser_free: Signal<Local, Bit>,
    /// The FIFO has room for the beats of a window accepted now (and, in im2col mode, the
    /// serializer takes it).
    credit_ok: Signal<Local, Bit>,
    /// Credits a window accepted now adds: 1 beat, or `Dk²` in im2col mode.
    credit_add: Signal<Local, Bits<8>>,
    next_group: Signal<Local, Bits<GADDR>>,
    lo_off: Signal<Local, Bits<8>>,
    hi_off: Signal<Local, Bits<8>>,
    /// `act_min ≤ act_max` for the bounds after this cycle's write: START reads a flip-flop,
    /// not a comparator behind its decode (an Fmax path into the window's start).
    clamp_ok: DFF<Bit>,
    packed: Vec<Signal<Local, Bits<BEAT>>>,
    /// Outputs this block does not need (Verilator's `*unused*` pattern exempts them): the
    /// other lanes' copies of valid/last, the FIFO's `inp.tready` (the credits guarantee
    /// room) and `count`, the high bits of `cfg_data − 1`.
    unused_valid: Vec<Signal<Local, Bit>>,
    unused_last: Vec<Signal<Local, Bit>>,
    unused_fifo_ready: Signal<Local, Bit>,
    unused_fifo_count: Signal<Local, Bits<16>>,
    unused_data_m1: Signal<Local, Bits<32>>,
    max_height: Constant<Bits<32>>,
    max_width: Constant<Bits<32>>,
    max_groups: Constant<Bits<32>>,
    max_group_index: Constant<Bits<24>>,
    /// Config-word bits below / above the largest of `max_height`, `max_width`,
    /// `max_groups`: the size checks compare only the low bits (no 32-bit comparators).
    dim_mask: Constant<Bits<32>>,
    dim_over: Constant<Bits<32>>,
    cfg_dim: Signal<Local, Bits<32>>,
    dim_fits: Signal<Local, Bit>,
    fifo_depth: Constant<Bits<8>>,
    /// `Dk²`, `Dk² − 2` (the tap before the last), `depth − Dk²` (0 when `Dk²` exceeds the depth: see `im2col_fits`).
    taps: Constant<Bits<8>>,
    penult_tap: Constant<Bits<8>>,
    im2col_room: Constant<Bits<8>>,
    /// A window's `Dk²` beats fit the output FIFO and the config builds the mode
    /// (`[engine] im2col`): im2col mode may be selected.
    im2col_fits: Constant<Bit>,
    beat_bits: Constant<Bits<16>>,
    wtop: Constant<Bits<16>>,
    top32: Constant<Bits<16>>,
    top6: Constant<Bits<16>>,
    top8: Constant<Bits<16>>,
}

/// The engine with an input port of one pixel per beat (`Q = 1`, [`SlidingWindow`]): the
/// instantiation every `Q = 1` config uses.
pub type DepthwiseEngine<
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
> = DepthwiseEngineQ<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW, BEAT, 1>;

/// The small engine the Verilator sweep runs: `Dk = 3`, `P = 2`, up to 12×12×8.
pub type SmallEngine = DepthwiseEngine<16, 144, 6, 2, 4, 3, 19, 64, 12, 17>;

/// [`SmallEngine`] with an input port of `Q = 2`, 4 and 8 pixels per beat.
pub type SmallEngineQ2 = DepthwiseEngineQ<16, 144, 6, 2, 4, 3, 19, 64, 12, 17, 32, 4>;
pub type SmallEngineQ4 = DepthwiseEngineQ<16, 144, 6, 2, 4, 3, 19, 64, 12, 17, 64, 3>;
pub type SmallEngineQ8 = DepthwiseEngineQ<16, 144, 6, 2, 4, 3, 19, 64, 12, 17, 128, 3>;
/// `Q = 16` needs rows of 16 pixels or more: `P = 2`, rows up to 20 pixels, 12 rows, 8 channels.
pub type SmallEngineQ16 = DepthwiseEngineQ<16, 144, 7, 2, 5, 3, 19, 64, 12, 17, 256, 3>;

/// [`MobileNetEngine`] with an input port of `Q = 4` pixels per beat (256-bit beats).
pub type MobileNetEngineQ4 = DepthwiseEngineQ<64, 576, 14, 7, 7, 3, 19, 256, 48, 65, 256, 11>;
/// [`MobileNetEngine`] with an input port of `Q = 16` pixels per beat (1024-bit beats).
pub type MobileNetEngineQ16 = DepthwiseEngineQ<64, 576, 14, 7, 7, 3, 19, 256, 48, 65, 1024, 9>;

/// MobileNet-v1 (α = 1, 224) depthwise layers: `Dk = 3`, `P = 8`, up to 112×112×1024 (line
/// buffers of 112·128 beats).
pub type MobileNetEngine = DepthwiseEngine<64, 576, 14, 7, 7, 3, 19, 256, 48, 65>;

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
        const IBEAT: usize,
        const WADDR: usize,
    > DepthwiseEngineQ<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW, IBEAT, WADDR>
{
    /// Edges from a window's acceptance to its result entering the FIFO: the lane (products +
    /// tree levels) and the requantizer.
    pub fn pipe_latency(cfg: &EngineConfig) -> usize {
        DepthwiseLane::<WIN, S>::latency(cfg.taps()) + Requantizer::LATENCY
    }

    /// The engine for `cfg`. Errors when a const generic disagrees with the width `cfg`
    /// derives (a wrong instantiation, not a bad config).
    pub fn new(cfg: &EngineConfig) -> Result<Self, ModelError> {
        let wc = cfg.window();
        let p = cfg.lanes();
        let want = [
            ("S", S, cfg.dw_sum_bits()),
            ("PW32", PW32, 32 * p),
            ("PW6", PW6, 6 * p),
            ("FW", FW, BEAT + 1),
            ("GADDR", GADDR, wc.group_bits()),
        ];
        for (name, have, need) in want {
            if have != need {
                return Err(ModelError::InvalidParameter(format!(
                    "DepthwiseEngine: {name} = {have} but the config needs {need}"
                )));
            }
        }
        if IBEAT != cfg.input_beat_bits() {
            return Err(ModelError::InvalidParameter(format!(
                "DepthwiseEngine: IBEAT = {IBEAT} but the config needs {} (8·P·Q, Q = {})",
                cfg.input_beat_bits(),
                cfg.pixels_per_beat()
            )));
        }
        let window = SlidingWindow::new(&wc)?
            .with_write_regs(cfg.ram_regs())
            .with_packed_history(cfg.pack_history());
        let wide = if cfg.pixels_per_beat() > 1 { vec![WideWindow::new(cfg)?] } else { vec![] };
        let fifo = StreamFifo::new()?;
        let lat = DepthwiseLane::<WIN, S>::latency(cfg.taps());
        let depth = 1usize << FIFO_ADDR_BITS;
        let taps = cfg.taps();
        let dim_max = cfg.max_height().max(cfg.max_width()).max(cfg.max_groups()) as u64;
        let dim_mask = (dim_max + 1).next_power_of_two() - 1;
        // Bias and M0 are written only while idle and read only while a frame runs.
        let param_ram = || match cfg.param_ram() {
            ParamRam::Block => SdpRam::default(),
            ParamRam::Spram => SdpRam::single_port(),
        };
        let lut_muls = cfg.lane_mul() == LaneMul::Lut;
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
            window,
            wide,
            win_data: Default::default(),
            win_valid: Default::default(),
            win_last: Default::default(),
            win_busy: Default::default(),
            row_fits: if cfg.line_words_limited() { vec![ProductFits::new(cfg.max_line_words())] } else { vec![] },
            row_ok: Default::default(),
            wram: Default::default(),
            wread: Default::default(),
            wread_next: Default::default(),
            wts_reg: if cfg.ram_regs() { vec![Default::default()] } else { vec![] },
            start_r2: Default::default(),
            has_wts_reg: Constant::new(cfg.ram_regs()),
            wshift: Default::default(),
            bram: param_ram(),
            mram: param_ram(),
            sram: Default::default(),
            lanes: (0..p)
                .map(|l| DepthwiseLane::new(l, p, cfg.taps()).with_lut_muls(lut_muls))
                .collect(),
            rq: (0..p).map(|_| Default::default()).collect(),
            acc_ext: (0..p).map(|_| Widen::signed()).collect(),
            byte_ext: (0..p).map(|_| Widen::unsigned()).collect(),
            fifo,
            height: Default::default(),
            width: Default::default(),
            last_group: Default::default(),
            stride2: Default::default(),
            in_zp: Default::default(),
            out_zp: Default::default(),
            act_min: Default::default(),
            act_max: Default::default(),
            im2col: Default::default(),
            wstage: Default::default(),
            bstage: Default::default(),
            sstage: Default::default(),
            wpend: Default::default(),
            bwr: Default::default(),
            mwr: Default::default(),
            bpend: Default::default(),
            mpend: Default::default(),
            pword: Default::default(),
            spend: Default::default(),
            pgroup: Default::default(),
            err: Default::default(),
            // Region 0's indices need 4 bits, the per-group regions GADDR.
            port: ConfigWrite::new(GADDR.max(4)),
            active: Default::default(),
            flush: Default::default(),
            credits: Default::default(),
            space: Default::default(),
            group: Default::default(),
            ser: Default::default(),
            ser_valid: Default::default(),
            ser_last: Default::default(),
            ser_tap: Default::default(),
            ser_at_last: Default::default(),
            vpipe: (0..lat).map(|_| Default::default()).collect(),
            lpipe: (0..lat).map(|_| Default::default()).collect(),
            gpipe: (0..lat - 1).map(|_| Default::default()).collect(),
            bias1: Default::default(),
            shift1: Default::default(),
            m0_1: Default::default(),
            early_group: Default::default(),
            param_regs: Constant::new(cfg.param_ram() == ParamRam::Block),
            in_region: Default::default(),
            in_index: Default::default(),
            data_ok: Default::default(),
            region: Default::default(),
            index: Default::default(),
            data_m1: Default::default(),
            group_ok: Default::default(),
            write_ok: Default::default(),
            bad: Default::default(),
            take_idle: Default::default(),
            start: Default::default(),
            start_r: Default::default(),
            busy_now: Default::default(),
            accept: Default::default(),
            send: Default::default(),
            ser_free: Default::default(),
            credit_ok: Default::default(),
            credit_add: Default::default(),
            next_group: Default::default(),
            lo_off: Default::default(),
            hi_off: Default::default(),
            clamp_ok: Default::default(),
            packed: (0..p).map(|_| Default::default()).collect(),
            unused_valid: (0..p).map(|_| Default::default()).collect(),
            unused_last: (0..p).map(|_| Default::default()).collect(),
            unused_fifo_ready: Default::default(),
            unused_fifo_count: Default::default(),
            unused_data_m1: Default::default(),
            max_height: Constant::new((cfg.max_height() as u64).into()),
            max_width: Constant::new((cfg.max_width() as u64).into()),
            max_groups: Constant::new((cfg.max_groups() as u64).into()),
            max_group_index: Constant::new(((cfg.max_groups() - 1) as u64).into()),
            dim_mask: Constant::new(dim_mask.into()),
            dim_over: Constant::new((!dim_mask & 0xFFFF_FFFF).into()),
            cfg_dim: Default::default(),
            dim_fits: Default::default(),
            fifo_depth: Constant::new((depth as u64).into()),
            taps: Constant::new((taps as u64).into()),
            penult_tap: Constant::new(((taps - 2) as u64).into()),
            im2col_room: Constant::new((depth.saturating_sub(taps) as u64).into()),
            im2col_fits: Constant::new(taps <= depth && cfg.im2col()),
            beat_bits: Constant::new((BEAT as u64).into()),
            wtop: Constant::new(((WIN - 8) as u64).into()),
            top32: Constant::new(((PW32 - 32) as u64).into()),
            top6: Constant::new(((PW6 - 6) as u64).into()),
            top8: Constant::new(((BEAT - 8) as u64).into()),
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
        const IBEAT: usize,
        const WADDR: usize,
    > Logic for DepthwiseEngineQ<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW, IBEAT, WADDR>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, height, width, last_group, stride2, in_zp, out_zp, act_min, act_max, clamp_ok,
            im2col, wstage, bstage, sstage, wpend, bpend, mpend, spend, pgroup, err,
            bias1, shift1, m0_1, active, start_r, start_r2, wread, flush, credits, space, group, ser, ser_valid, ser_last, ser_tap, ser_at_last
        );
        clock!(self, clock, window, wram, bram, mram, sram, fifo, port);
        for l in 0..self.lanes.len() {
            self.lanes[l].clock.next = self.clock.val();
            self.rq[l].clock.next = self.clock.val();
        }
        for i in 0..self.vpipe.len() {
            self.vpipe[i].clock.next = self.clock.val();
            self.lpipe[i].clock.next = self.clock.val();
        }
        for i in 0..self.gpipe.len() {
            self.gpipe[i].clock.next = self.clock.val();
        }
        self.busy_now.next = self.active.q.val()
            || self.start_r.q.val()
            || self.flush.q.val()
            || (self.credits.q.val() != 0);
        // ---- Config port, edge 1: register the write with its data-only checks (the
        // index/region decode of a value's range); edge 2 below: the checks against the
        // engine's state (busy, START's geometry and clamp), then the write takes effect.
        self.port.cfg_valid.next = self.cfg_valid.val();
        self.port.cfg_addr.next = self.cfg_addr.val();
        self.port.cfg_data.next = self.cfg_data.val();
        // A write in the cycle of a reset is dropped.
        self.port.drop.next = self.reset.val();
        self.in_region.next = self.port.in_region.val();
        self.in_index.next = self.port.in_index.val();
        // Sizes without 32-bit comparators: no bit above the largest maximum, then a narrow
        // compare (the int8 and shift ranges come from the port).
        self.cfg_dim.next = self.cfg_data.val() & self.dim_mask.val();
        self.dim_fits.next = (self.cfg_data.val() != 0) && !(self.cfg_data.val() & self.dim_over.val()).any();
        self.group_ok.next = self.in_index.val() <= self.max_group_index.val();
        self.data_ok.next = false;
        if self.in_region.val() == 0 {
            if self.in_index.val() == 0 {
                self.data_ok.next =
                    self.dim_fits.val() && (self.cfg_dim.val() <= self.max_height.val());
            }
            if self.in_index.val() == 1 {
                self.data_ok.next =
                    self.dim_fits.val() && (self.cfg_dim.val() <= self.max_width.val());
            }
            if self.in_index.val() == 2 {
                self.data_ok.next =
                    self.dim_fits.val() && (self.cfg_dim.val() <= self.max_groups.val());
            }
            if self.in_index.val() == 3 {
                self.data_ok.next = (self.cfg_data.val() == 1) || (self.cfg_data.val() == 2);
            }
            if (self.in_index.val() >= 4) && (self.in_index.val() <= 7) {
                self.data_ok.next = self.port.in_int8.val();
            }
            // START (8) is checked against the layer registers at edge 2.
            if (self.in_index.val() == 8) || (self.in_index.val() == 9) {
                self.data_ok.next = true;
            }
            if self.in_index.val() == 10 {
                self.data_ok.next = (self.cfg_data.val() == 0)
                    || ((self.cfg_data.val() == 1) && self.im2col_fits.val());
            }
        }
        if (self.in_region.val() == 1) && self.group_ok.val() {
            self.data_ok.next = self.port.in_int8.val();
        }
        if ((self.in_region.val() == 2) || (self.in_region.val() == 3)) && self.group_ok.val() {
            self.data_ok.next = true;
        }
        if (self.in_region.val() == 4) && self.group_ok.val() {
            self.data_ok.next = self.port.in_shift.val();
        }
        self.port.ok.next = self.data_ok.val();
        // Edge 2.
        self.region.next = self.port.region.val();
        self.index.next = self.port.index.val();
        self.data_m1.next = self.port.data.val() - 1;
        self.write_ok.next = self.port.data_ok.val();
        self.row_ok.next = true;
        for i in 0..self.row_fits.len() {
            self.row_ok.next = self.row_fits[i].fits.val();
        }
        if (self.region.val() == 0) && (self.index.val() == 8) {
            // The clamp is unused in im2col mode.
            self.write_ok.next = self.port.data_ok.val()
                && (self.height.q.val() != 0)
                && (self.width.q.val() != 0)
                && self.row_ok.val()
                && (self.clamp_ok.q.val() || self.im2col.q.val());
        }
        // Any write while busy is refused, except clear-error.
        self.bad.next = self.port.valid.val()
            && (!self.write_ok.val()
                || (self.busy_now.val() && !((self.region.val() == 0) && (self.index.val() == 9))));
        self.start.next = self.port.valid.val()
            && !self.bad.val()
            && (self.region.val() == 0)
            && (self.index.val() == 8)
            && !self.reset.val();
        if self.bad.val() {
            self.err.d.next = true;
        }
        self.wpend.d.next = false;
        self.bwr.next = false;
        self.pword.next =
            (self.bstage.q.val() >> 32) | (bit_cast::<PW32, 32>(self.port.data.val()) << self.top32.val());
        self.mwr.next = false;
        self.bpend.d.next = false;
        self.mpend.d.next = false;
        self.spend.d.next = false;
        // A write in range while idle: taken, unless it is START (whose verdict also checks the
        // layer registers). Regions 1–4 and the bounds use it, so that their enables do not
        // wait for START's checks.
        self.take_idle.next = self.port.valid.val() && self.port.data_ok.val() && !self.busy_now.val();
        if self.port.valid.val() && !self.bad.val() {
            if self.region.val() == 0 {
                if self.index.val() == 0 {
                    self.height.d.next = self.port.data.val().get_bits::<CB>(0);
                }
                if self.index.val() == 1 {
                    self.width.d.next = self.port.data.val().get_bits::<CB>(0);
                }
                if self.index.val() == 2 {
                    self.last_group.d.next = self.data_m1.val().get_bits::<GADDR>(0);
                }
                if self.index.val() == 3 {
                    self.stride2.d.next = self.port.data.val() == 2;
                }
                if self.index.val() == 4 {
                    self.in_zp.d.next = self.port.data.val().get_bits::<8>(0);
                }
                if self.index.val() == 5 {
                    self.out_zp.d.next = self.port.data.val().get_bits::<8>(0);
                }
                if self.index.val() == 6 {
                    self.act_min.d.next = self.port.data.val().get_bits::<8>(0);
                }
                if self.index.val() == 7 {
                    self.act_max.d.next = self.port.data.val().get_bits::<8>(0);
                }
                if self.index.val() == 9 {
                    self.err.d.next = false;
                }
                if self.index.val() == 10 {
                    // Constant 0 without the mode: synthesis drops the serializer.
                    self.im2col.d.next = (self.port.data.val() == 1) && self.im2col_fits.val();
                }
            }
        }
        if self.take_idle.val() {
            self.pgroup.d.next = self.index.val().get_bits::<GADDR>(0);
            if self.region.val() == 1 {
                self.wstage.d.next = (self.wstage.q.val() >> 8)
                    | (bit_cast::<WIN, 8>(self.port.data.val().get_bits::<8>(0)) << self.wtop.val());
                self.wpend.d.next = true;
            }
            if self.region.val() == 2 {
                self.bstage.d.next = self.pword.val();
                self.bwr.next = true;
                self.bpend.d.next = true;
            }
            if self.region.val() == 3 {
                self.bstage.d.next = self.pword.val();
                self.mwr.next = true;
                self.mpend.d.next = true;
            }
            if self.region.val() == 4 {
                self.sstage.d.next = (self.sstage.q.val() >> 6)
                    | (bit_cast::<PW6, 6>(self.port.data.val().get_bits::<6>(0)) << self.top6.val());
                self.spend.d.next = true;
            }
        }
        // The clamp check, like the row check, sees the bounds as they are after this edge
        // (offset binary: a signed compare as an unsigned one). A bound's write is taken
        // when it is valid and the engine idle — `take_idle`, so the check does not depend on
        // START's own verdict.
        self.lo_off.next = self.act_min.q.val() ^ 0x80;
        self.hi_off.next = self.act_max.q.val() ^ 0x80;
        if self.take_idle.val() && (self.region.val() == 0) {
            if self.index.val() == 6 {
                self.lo_off.next = self.port.data.val().get_bits::<8>(0) ^ 0x80;
            }
            if self.index.val() == 7 {
                self.hi_off.next = self.port.data.val().get_bits::<8>(0) ^ 0x80;
            }
        }
        self.clamp_ok.d.next = self.lo_off.val() <= self.hi_off.val();
        // The row check follows W and G as written (`take_idle`, as the clamp check).
        for i in 0..self.row_fits.len() {
            self.row_fits[i].clock.next = self.clock.val();
            self.row_fits[i].a.next = self.port.data.val().get_bits::<CB>(0);
            self.row_fits[i].b_minus_1.next = self.data_m1.val().get_bits::<GADDR>(0);
            self.row_fits[i].a_held.next = self.width.q.val();
            self.row_fits[i].b_minus_1_held.next = self.last_group.q.val();
            self.row_fits[i].load_a.next = false;
            self.row_fits[i].load_b.next = false;
            if self.take_idle.val() && (self.region.val() == 0) {
                self.row_fits[i].load_a.next = self.index.val() == 1;
                self.row_fits[i].load_b.next = self.index.val() == 2;
            }
        }
        // RAM writes: weights and shifts the cycle after the config write (staged word), bias
        // and M0 in its own cycle ("spram") or also the cycle after ("block").
        self.wram.write_enable.next = self.wpend.q.val();
        self.wram.write_address.next = self.pgroup.q.val();
        self.wram.write_data.next = self.wstage.q.val();
        self.bram.write_enable.next = self.bwr.val();
        self.bram.write_address.next = self.index.val().get_bits::<GADDR>(0);
        self.bram.write_data.next = self.pword.val();
        self.mram.write_enable.next = self.mwr.val();
        self.mram.write_address.next = self.index.val().get_bits::<GADDR>(0);
        self.mram.write_data.next = self.pword.val();
        if self.param_regs.val() {
            self.bram.write_enable.next = self.bpend.q.val();
            self.bram.write_address.next = self.pgroup.q.val();
            self.bram.write_data.next = self.bstage.q.val();
            self.mram.write_enable.next = self.mpend.q.val();
            self.mram.write_address.next = self.pgroup.q.val();
            self.mram.write_data.next = self.bstage.q.val();
        }
        self.sram.write_enable.next = self.spend.q.val();
        self.sram.write_address.next = self.pgroup.q.val();
        self.sram.write_data.next = self.sstage.q.val();
        // ---- Window: layer inputs, input gated by `active`.
        // (A reset in the cycle after START abandons the frame before it starts.)
        self.start_r.d.next = self.start.val();
        self.window.start.next = self.start_r.q.val() && !self.reset.val();
        self.window.height.next = self.height.q.val();
        self.window.width.next = self.width.q.val();
        self.window.last_group.next = self.last_group.q.val();
        self.window.stride2.next = self.stride2.q.val();
        self.window.in_zp.next = self.in_zp.q.val();
        self.window.inp.tdata.next = self.inp.tdata.val().get_bits::<BEAT>(0);
        self.window.inp.tlast.next = self.inp.tlast.val();
        self.window.inp.tvalid.next = self.inp.tvalid.val() && self.active.q.val();
        self.inp.tready.next = self.window.inp.tready.val() && self.active.q.val();
        self.last_error.next = self.window.last_error.val();
        self.win_data.next = self.window.out.tdata.val();
        self.win_valid.next = self.window.out.tvalid.val();
        self.win_last.next = self.window.out.tlast.val();
        self.win_busy.next = self.window.busy.val();
        // Q > 1: the wide generator takes the input and gives the windows; `window` idles.
        for i in 0..self.wide.len() {
            self.wide[i].clock.next = self.clock.val();
            self.window.start.next = false;
            self.window.inp.tvalid.next = false;
            self.wide[i].start.next = self.start_r.q.val() && !self.reset.val();
            self.wide[i].height.next = self.height.q.val();
            self.wide[i].width.next = self.width.q.val();
            self.wide[i].last_group.next = self.last_group.q.val();
            self.wide[i].stride2.next = self.stride2.q.val();
            self.wide[i].in_zp.next = self.in_zp.q.val();
            self.wide[i].inp.tdata.next = self.inp.tdata.val();
            self.wide[i].inp.tlast.next = self.inp.tlast.val();
            self.wide[i].inp.tvalid.next = self.inp.tvalid.val() && self.active.q.val();
            self.inp.tready.next = self.wide[i].inp.tready.val() && self.active.q.val();
            self.last_error.next = self.wide[i].last_error.val();
            self.win_data.next = self.wide[i].out.tdata.val();
            self.win_valid.next = self.wide[i].out.tvalid.val();
            self.win_last.next = self.wide[i].out.tlast.val();
            self.win_busy.next = self.wide[i].busy.val();
        }
        // ---- Accept a window while the FIFO has room for all its beats (credits) and, in
        // im2col mode, the serializer takes it.
        self.ser_free.next = !self.ser_valid.q.val() || self.ser_at_last.q.val();
        // Depthwise mode: a window is one beat, so `credits ≤ depth − 1`; the credits never
        // pass the depth (a power of two), so that is the credits' depth bit clear.
        if self.im2col.q.val() {
            self.credit_add.next = self.taps.val();
            self.credit_ok.next = !self.space.q.val().get_bit(7) && self.ser_free.val();
        } else {
            self.credit_add.next = 1.into();
            self.credit_ok.next = !(self.credits.q.val() & self.fifo_depth.val()).any();
        }
        self.window.out.tready.next = self.active.q.val() && !self.flush.q.val() && self.credit_ok.val();
        for i in 0..self.wide.len() {
            self.wide[i].out.tready.next = self.window.out.tready.val();
        }
        self.accept.next = self.win_valid.val() && self.window.out.tready.val();
        if self.group.q.val() == self.last_group.q.val() {
            self.next_group.next = 0.into();
        } else {
            self.next_group.next = self.group.q.val() + 1;
        }
        if self.accept.val() {
            self.group.d.next = self.next_group.val();
        }
        // Weight RAM: a read pipe one word (two with `wts_reg`) ahead of the window on the
        // bus, advanced by each accept; while idle `wread` waits at group 0, and START's two
        // cycles (`start_r`, `start_r2`: no window can be accepted before the first input beat
        // after them) read groups 0 and 1 into it. Writes land only while idle, a cycle or more
        // before these reads.
        self.start_r2.d.next = self.start_r.q.val();
        self.wshift.next = self.accept.val()
            || self.start_r.q.val()
            || (self.has_wts_reg.val() && self.start_r2.q.val());
        if self.wread.q.val() == self.last_group.q.val() {
            self.wread_next.next = 0.into();
        } else {
            self.wread_next.next = self.wread.q.val() + 1;
        }
        self.wram.read_address.next = self.wread.q.val();
        self.wram.read_enable.next = self.wshift.val();
        if self.wshift.val() {
            self.wread.d.next = self.wread_next.val();
        }
        if !self.busy_now.val() {
            self.wread.d.next = 0.into();
        }
        // The parameter RAMs below read every cycle.
        self.mram.read_enable.next = true;
        self.bram.read_enable.next = true;
        self.sram.read_enable.next = true;
        // Lanes.
        for l in 0..self.lanes.len() {
            self.lanes[l].win.next = self.win_data.val();
            self.lanes[l].wts.next = self.wram.read_data.val();
        }
        for i in 0..self.wts_reg.len() {
            self.wts_reg[i].clock.next = self.clock.val();
            self.wts_reg[i].d.next = self.wts_reg[i].q.val();
            if self.wshift.val() {
                self.wts_reg[i].d.next = self.wram.read_data.val();
            }
            for l in 0..self.lanes.len() {
                self.lanes[l].wts.next = self.wts_reg[i].q.val();
            }
        }
        // Validity, tlast and group beside the lanes.
        self.vpipe[0].d.next = self.accept.val() && !self.im2col.q.val();
        self.lpipe[0].d.next = self.win_last.val();
        self.gpipe[0].d.next = self.group.q.val();
        for i in 1..self.vpipe.len() {
            self.vpipe[i].d.next = self.vpipe[i - 1].q.val();
            self.lpipe[i].d.next = self.lpipe[i - 1].q.val();
        }
        for i in 1..self.gpipe.len() {
            self.gpipe[i].d.next = self.gpipe[i - 1].q.val();
        }
        // Per-channel parameters arrive with the lane sums: read two stages ahead and
        // registered ("block"), or one stage ahead (the group of the last `gpipe` stage).
        // (`early_group` walks the stages: it holds stage i − 1 when stage i is reached.)
        self.early_group.next = self.group.q.val();
        for i in 0..self.gpipe.len() {
            self.bram.read_address.next = self.early_group.val();
            self.sram.read_address.next = self.early_group.val();
            self.mram.read_address.next = self.early_group.val();
            self.early_group.next = self.gpipe[i].q.val();
        }
        if !self.param_regs.val() {
            // (`early_group` now holds the last stage.)
            self.bram.read_address.next = self.early_group.val();
            self.sram.read_address.next = self.early_group.val();
            self.mram.read_address.next = self.early_group.val();
        }
        self.bias1.d.next = self.bram.read_data.val();
        self.shift1.d.next = self.sram.read_data.val();
        self.m0_1.d.next = self.mram.read_data.val();
        // Requantizers.
        for l in 0..self.rq.len() {
            for i in 0..self.vpipe.len() {
                self.rq[l].valid.next = self.vpipe[i].q.val();
                self.rq[l].last.next = self.lpipe[i].q.val();
            }
            self.acc_ext[l].a.next = self.lanes[l].sum.val();
            self.rq[l].acc.next = self.acc_ext[l].y.val();
            self.byte_ext[l].a.next = self.rq[l].out.val();
            self.unused_valid[l].next = self.rq[l].out_valid.val();
            self.unused_last[l].next = self.rq[l].out_last.val();
            if self.param_regs.val() {
                self.rq[l].bias.next = self.bias1.q.val().get_bits::<32>(l * 32);
                self.rq[l].shift.next = self.shift1.q.val().get_bits::<6>(l * 6);
                self.rq[l].m0.next = self.m0_1.q.val().get_bits::<32>(l * 32);
            } else {
                self.rq[l].bias.next = self.bram.read_data.val().get_bits::<32>(l * 32);
                self.rq[l].shift.next = self.sram.read_data.val().get_bits::<6>(l * 6);
                self.rq[l].m0.next = self.mram.read_data.val().get_bits::<32>(l * 32);
            }
            self.rq[l].out_zp.next = self.out_zp.q.val();
            self.rq[l].act_min.next = self.act_min.q.val();
            self.rq[l].act_max.next = self.act_max.q.val();
        }
        // Pack the lanes' bytes into the FIFO word (lane l at bits 8l..): each lane enters
        // at the top and the earlier ones move down a byte, so lane 0 ends at bit 0.
        self.packed[0].next = self.byte_ext[0].y.val() << self.top8.val();
        for l in 1..self.packed.len() {
            self.packed[l].next =
                (self.packed[l - 1].val() >> 8) | (self.byte_ext[l].y.val() << self.top8.val());
        }
        self.fifo.inp.tvalid.next = self.rq[0].out_valid.val();
        self.fifo.inp.tlast.next = self.rq[0].out_last.val();
        self.fifo.inp.tdata.next = self.packed[0].val();
        for l in 1..self.packed.len() {
            self.fifo.inp.tdata.next = self.packed[l].val();
        }
        // im2col: the window leaves as `Dk²` beats, tap 0 first, bypassing lanes and
        // requantizers. After a reset the serializer still drains into the flushed FIFO, so
        // the credits return to 0.
        if self.ser_valid.q.val() {
            self.ser.d.next = self.ser.q.val() >> self.beat_bits.val();
            self.ser_tap.d.next = self.ser_tap.q.val() + 1;
            self.ser_at_last.d.next = self.ser_tap.q.val() == self.penult_tap.val();
            if self.ser_at_last.q.val() {
                self.ser_valid.d.next = false;
            }
        }
        if self.accept.val() && self.im2col.q.val() {
            self.ser.d.next = self.win_data.val();
            self.ser_tap.d.next = 0.into();
            self.ser_at_last.d.next = false;
            self.ser_valid.d.next = true;
            self.ser_last.d.next = self.win_last.val();
        }
        if self.im2col.q.val() {
            self.fifo.inp.tvalid.next = self.ser_valid.q.val();
            self.fifo.inp.tlast.next =
                self.ser_last.q.val() && self.ser_at_last.q.val();
            self.fifo.inp.tdata.next = self.ser.q.val().get_bits::<BEAT>(0);
        }
        // Output: the FIFO, dropped while flushing.
        self.out.tdata.next = self.fifo.out.tdata.val();
        self.out.tlast.next = self.fifo.out.tlast.val();
        self.out.tvalid.next = self.fifo.out.tvalid.val() && !self.flush.q.val();
        self.fifo.out.tready.next = self.out.tready.val() || self.flush.q.val();
        self.send.next = self.fifo.out.tvalid.val() && self.fifo.out.tready.val();
        self.unused_fifo_ready.next = self.fifo.inp.tready.val();
        self.unused_fifo_count.next = self.fifo.count.val();
        self.unused_data_m1.next = self.data_m1.val();
        // Credits: + the beats of an accepted window (1, or `Dk²` in im2col mode), −1 per
        // beat leaving the FIFO (sent or dropped).
        if self.accept.val() && !self.send.val() {
            self.credits.d.next = self.credits.q.val() + self.credit_add.val();
            self.space.d.next = self.space.q.val() - self.credit_add.val();
        }
        if self.accept.val() && self.send.val() {
            self.credits.d.next = self.credits.q.val() + self.credit_add.val() - 1;
            self.space.d.next = self.space.q.val() - self.credit_add.val() + 1;
        }
        if !self.accept.val() && self.send.val() {
            self.credits.d.next = self.credits.q.val() - 1;
            self.space.d.next = self.space.q.val() + 1;
        }
        // Run control.
        if self.start_r.q.val() {
            self.active.d.next = true;
            self.group.d.next = 0.into();
            // START is refused while busy, so the credits are 0 here (only im2col mode
            // reads `space`; the mode is written before START).
            self.space.d.next = self.im2col_room.val();
        }
        if self.active.q.val() && !self.win_busy.val() {
            self.active.d.next = false;
        }
        if self.flush.q.val() && (self.credits.q.val() == 0) {
            self.flush.d.next = false;
        }
        if self.reset.val() {
            self.active.d.next = false;
            self.flush.d.next = true;
            self.err.d.next = false;
        }
        // A write still in the port register counts as busy (a START about to run).
        self.busy.next = self.busy_now.val() || self.port.valid.val();
        self.error.next = self.err.q.val();
    }
}
