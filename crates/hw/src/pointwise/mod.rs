//! PointwiseStage: a 1×1 convolution layer on the weight-stationary [`SystolicArray`], with
//! per-channel requantization, bit-exact with [`dsc_model::pointwise::pointwise`] and
//! cycle-exact with [`dsc_model::pointwise::pointwise_cycles`] (formula documented there).
//!
//! **Dataflow.** The layer's pixels go through in blocks of `B` pixels. Input beats carry `R`
//! int8 channels (`MT = ceil(M/R)` beats per pixel, pixel-major — the depthwise engine's
//! output order when its `P = R`; `tlast` on the layer's last beat, else `last_error`) into one of two pixel banks (block RAM). The array then runs
//! the block's `MT·NT` tiles, N-tile `j` outer, M-tile `i` inner: each tile streams the
//! block's pixels once (`T = max(B, R, 3)` cycles) while the next tile's weights load from the
//! weight RAM (whole layer, `C` bytes per word) into the cells' shadow registers. Column sums
//! of M-tile `i` add to the block's partial sums (an accumulator RAM of `B` words of `C` sums);
//! on the last M-tile they go through `C` [`Requantizer`]s into one of two output banks.
//! Output beats carry `C` channels (`NT = ceil(N/C)` beats per pixel, pixel-major); the bytes
//! of channels `≥ N` in a pixel's last beat are undefined. Input, compute and output of
//! different blocks overlap (two banks each side).
//!
//! **Input zero point and padding.** The host folds `−in_zp·Σ_m w` into the bias
//! ([`PointwiseProgram`]) and writes zero weights for channels `m ≥ M`, so the lanes of a
//! pixel's last input beat beyond `M` may hold anything.
//!
//! **Config port** (`cfg_valid`, `cfg_addr`, `cfg_data`; one write per cycle):
//! `cfg_addr[31:24]` region, `cfg_addr[23:0]` index. A write is registered at the port
//! ([`ConfigWrite`]: its address, data and the checks on them alone) and takes effect on the
//! next edge (`error`, `busy` and START show two edges after the write is presented; `busy` is
//! high while a write is in the port register).
//!
//! | region | index | data | meaning |
//! |---|---|---|---|
//! | 0 | 0 | `1..=ceil(max_m/R)` | M-tiles `MT` |
//! | 0 | 1 | `1..=ceil(max_n/C)` | N-tiles `NT` |
//! | 0 | 2 | `1..=2^24−1` (or the maximum of [`PointwiseStage::with_max_pixels`]) | pixels |
//! | 0 | 3 | `1..=max_block` | pixels per block `B` |
//! | 0 | 4 | int8 | output zero point |
//! | 0 | 5 | int8 | `act_min` |
//! | 0 | 6 | int8 | `act_max` (`act_min ≤ act_max` checked at START) |
//! | 0 | 8 | any | START |
//! | 0 | 9 | any | clear `error` |
//! | 1 | word `(j·MT + i)·R + r` | int8 | weights `W[j·C + c][i·R + r]`: `C` writes per word, `c = 0, 1, …` |
//! | 2 | N-tile `j` | int32 | bias with the `in_zp` fold: `C` writes, channels in order |
//! | 3 | N-tile `j` | int32 | `M0`: `C` writes |
//! | 4 | N-tile `j` | `−31..=30` | shift: `C` writes |
//!
//! Writes to one word shift into a staging register written to the RAM after each write, so
//! the word is complete after its `C`-th write (a word's writes go in a row; the bias and `M0`
//! regions share one staging register). **Refused** (sticky `error`, nothing changes):
//! unknown region or index, a value outside the table's range, a word or tile index beyond the
//! generated maxima, any write while `busy` except clear-error, START with `act_min > act_max`,
//! START with more weight tiles `MT·NT` than the weight memory holds (generated with
//! `max_weights` below `max_m × max_n`; [`PointwiseConfig::weights_limited`]).
//! `busy` is high from START until the last output beat has left.

mod program;

#[cfg(test)]
mod tests;

pub use program::{PointwiseProgram, PW_CFG_CLEAR_ERROR, PW_CFG_START};

use crate::primitives::{ProductFits, SdpRam, Widen};
use crate::requant::Requantizer;
use crate::stream::{ConfigWrite, StreamFifo, StreamIn, StreamOut};
use crate::systolic::{DelayLine, SystolicArray, ZeroExtend};
use dsc_model::pointwise::{PointwiseConfig, PW_MAX_PIXELS, PW_MIN_TILE};
use dsc_model::ModelError;
use rust_hdl::prelude::*;

/// Output FIFO address bits (8 beats: more than the read pipeline holds).
const OUT_FIFO_BITS: usize = 3;

/// The stage. Widths (checked by [`PointwiseStage::new`]): `AW = 8R`, `WW = 8C`, `PW = ACC·C`,
/// `PB = 32C`, `PS = 6C`, `FW = WW + 1`; address bits `XA` (pixel RAM, incl. the bank bit),
/// `WA` (weight RAM), `BA` (accumulator RAM), `OA` (output RAM, incl. bank bit), `JA` (N-tiles).
#[derive(LogicBlock)]
pub struct PointwiseStage<
    const ACC: usize,
    const AW: usize,
    const WW: usize,
    const PW: usize,
    const PB: usize,
    const PS: usize,
    const FW: usize,
    const XA: usize,
    const WA: usize,
    const BA: usize,
    const OA: usize,
    const JA: usize,
> {
    pub clock: Signal<In, Clock>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_addr: Signal<In, Bits<32>>,
    pub cfg_data: Signal<In, Bits<32>>,
    pub inp: StreamIn<AW>,
    pub out: StreamOut<WW>,
    pub busy: Signal<Out, Bit>,
    pub error: Signal<Out, Bit>,
    /// Sticky since START: an input `tlast` disagreed with the layer's last beat.
    pub last_error: Signal<Out, Bit>,
    /// Beats waiting in the output FIFO.
    pub out_fill: Signal<Out, Bits<16>>,
    array: SystolicArray<ACC, AW, WW, PW>,
    xram: SdpRam<AW, XA>,
    wram: SdpRam<WW, WA>,
    aram: SdpRam<PW, BA>,
    oram: SdpRam<WW, OA>,
    bram: SdpRam<PB, JA>,
    mram: SdpRam<PB, JA>,
    sram: SdpRam<PS, JA>,
    rq: Vec<Requantizer>,
    acc_ext: Vec<Widen<ACC, 32>>,
    sum_ext: Vec<ZeroExtend<ACC, PW>>,
    byte_ext: Vec<ZeroExtend<8, WW>>,
    sum_pack: Vec<Signal<Local, Bits<PW>>>,
    byte_pack: Vec<Signal<Local, Bits<WW>>>,
    fifo: StreamFifo<WW, FW, OUT_FIFO_BITS>,
    // Tags from issue to the array output (L) and one more.
    tag_p: DelayLine<Bits<BA>>,
    tag_v: DelayLine<Bit>,
    tag_first: DelayLine<Bit>,
    tag_last: DelayLine<Bit>,
    tag_end: DelayLine<Bit>,
    tag_j: DelayLine<Bits<JA>>,
    /// The output-bank address from issue to the requantizers' output (`L + 2 +`
    /// `Requantizer::LATENCY` cycles) goes through a 32-word block RAM ring instead of a
    /// register chain: `o_wp` writes, the read trails it by the delay.
    o_dly: SdpRam<OA, 5>,
    o_wp: DFF<Bits<5>>,
    o_back: Constant<Bits<5>>,
    o_tag: Signal<Local, Bits<OA>>,
    // Layer registers.
    mt: DFF<Bits<16>>,
    nt: DFF<Bits<16>>,
    npix: DFF<Bits<24>>,
    blk: DFF<Bits<16>>,
    out_zp: DFF<Bits<8>>,
    act_min: DFF<Bits<8>>,
    act_max: DFF<Bits<8>>,
    err: DFF<Bit>,
    last_err: DFF<Bit>,
    /// A beat was taken last cycle, its `tlast`, and whether it was the layer's last.
    took: DFF<Bit>,
    took_last: DFF<Bit>,
    took_final: DFF<Bit>,
    running: DFF<Bit>,
    // Config staging.
    wstage: DFF<Bits<WW>>,
    bstage: DFF<Bits<PB>>,
    sstage: DFF<Bits<PS>>,
    wpend: DFF<Bit>,
    /// Bias / M0 write this cycle: without the parameter registers those RAMs are written in
    /// the config write's own cycle from `pword`, so with one lane (column) the staging
    /// register holds nothing and goes.
    bwr: Signal<Local, Bit>,
    mwr: Signal<Local, Bit>,
    /// With the parameter registers (see [`PointwiseStage::with_param_regs`]) they are written
    /// an edge later, like the weights, from `bstage` and `cj_addr` (for Fmax: the write's
    /// checks do not meet the RAMs' write enables).
    bpend: DFF<Bit>,
    mpend: DFF<Bit>,
    pword: Signal<Local, Bits<PB>>,
    spend: DFF<Bit>,
    cw_addr: DFF<Bits<WA>>,
    cj_addr: DFF<Bits<JA>>,
    // Input side.
    ibank: DFF<Bit>,
    in_i: DFF<Bits<16>>,
    in_p: DFF<Bits<16>>,
    in_addr: DFF<Bits<XA>>,
    in_left: DFF<Bits<24>>,
    /// `in_i + 1 == mt` and `in_p + 1 == in_bsz`, kept one beat ahead as registers: the
    /// input handshake then decides a block's end without an adder and a comparator.
    in_i_end: DFF<Bit>,
    in_p_end: DFF<Bit>,
    /// The next block's size, `min(blk, in_rest)`.
    in_next_bsz: Signal<Local, Bits<16>>,
    /// `in_next_bsz` and "the next block has one pixel" (`B = 1` or one pixel left after
    /// it), registered every cycle (for Fmax: a block end takes them from flip-flops, not
    /// from the subtract and compare behind the handshake). They lag a block end or START by
    /// a cycle; a block end can come in that cycle only for a one-pixel block with `MT = 1`:
    /// with `B = 1` (`in_nb1` holds, from the `B` register, and the next size is 1) or as the
    /// layer's last block (nothing follows).
    in_nb: DFF<Bits<16>>,
    in_nb1: DFF<Bit>,
    full0: DFF<Bit>,
    full1: DFF<Bit>,
    // Compute side.
    cbank: DFF<Bit>,
    cstate: DFF<Bits<2>>,
    ck: DFF<Bits<16>>,
    ci: DFF<Bits<16>>,
    cj: DFF<Bits<16>>,
    tper: DFF<Bits<16>>,
    px_addr: DFF<Bits<XA>>,
    o_addr: DFF<Bits<OA>>,
    w_addr: DFF<Bits<WA>>,
    c_left: DFF<Bits<24>>,
    /// The compute counters' compares, kept as registers computed from the counters' next
    /// values (for Fmax: the weight-address enable and the tile end follow no adder or
    /// comparator): `k_end` = `ck + 1` is `R` (PROLOGUE) or `T` (TILES); `k_issue` =
    /// `ck < c_bsz`; `k_lastpx` = `ck + 1 == c_bsz`; `k_wcap` = `ck + R == T`; `k_wload` =
    /// `ck + R ≥ T`; `ci_end` = `ci + 1 == MT`; `cj_end` = `cj + 1 == NT`.
    k_end: DFF<Bit>,
    k_issue: DFF<Bit>,
    k_lastpx: DFF<Bit>,
    k_wcap: DFF<Bit>,
    k_wload: DFF<Bit>,
    ci_end: DFF<Bit>,
    cj_end: DFF<Bit>,
    sw_d: DFF<Bit>,
    cap_d: DFF<Bit>,
    // Accumulate stage (E → E+1).
    sum: DFF<Bits<PW>>,
    /// Bias, shift and `M0` of the N-tile, read a cycle early and registered (for Fmax: the
    /// block RAM's clock-to-out ends in a flip-flop the placer can put beside the RAM, not in
    /// the requantizer's bias add or multiplier). With `param_ram = "spram"` `j1` addresses
    /// all three a cycle later and the requantizer takes the RAMs' outputs.
    bias1: DFF<Bits<PB>>,
    shift1: DFF<Bits<PS>>,
    m0_1: DFF<Bits<PB>>,
    j1: DFF<Bits<JA>>,
    /// `bias1`/`shift1` are used (see [`PointwiseStage::with_param_regs`]).
    param_regs: Constant<Bit>,
    v1: DFF<Bit>,
    p_e: DFF<Bits<BA>>,
    p1: DFF<Bits<BA>>,
    last1: DFF<Bit>,
    end1: DFF<Bit>,
    ofull0: DFF<Bit>,
    ofull1: DFF<Bit>,
    oused0: DFF<Bit>,
    oused1: DFF<Bit>,
    // Output side.
    obank: DFF<Bit>,
    o_rd: DFF<Bits<OA>>,
    o_j: DFF<Bits<16>>,
    o_p: DFF<Bits<16>>,
    o_left: DFF<Bits<24>>,
    credits: DFF<Bits<8>>,
    issued: DFF<Bit>,
    issued_last: DFF<Bit>,
    // Combinational.
    region: Signal<Local, Bits<8>>,
    index: Signal<Local, Bits<24>>,
    bad: Signal<Local, Bit>,
    in_region: Signal<Local, Bits<8>>,
    in_index: Signal<Local, Bits<24>>,
    /// The presented write passes the checks on its address and data alone.
    data_ok: Signal<Local, Bit>,
    /// The config port's register (for Fmax: the decode of a write starts from flip-flops):
    /// the write and its verdict `data_ok`.
    port: ConfigWrite,
    /// Each side's current block size `min(B, pixels left)`, kept beside its `*_left` counter
    /// (registered for Fmax, so the block-end compares do not follow a 24-bit compare).
    in_bsz: DFF<Bits<16>>,
    c_bsz: DFF<Bits<16>>,
    o_bsz: DFF<Bits<16>>,
    /// `min(B, pixels)`, the first block; each side's pixels left after its current block.
    first_bsz: Signal<Local, Bits<16>>,
    in_rest: Signal<Local, Bits<24>>,
    c_rest: Signal<Local, Bits<24>>,
    o_rest: Signal<Local, Bits<24>>,
    accept: Signal<Local, Bit>,
    set_full: Signal<Local, Bit>,
    clr_full: Signal<Local, Bit>,
    set_ofull: Signal<Local, Bit>,
    clr_ofull: Signal<Local, Bit>,
    in_full_now: Signal<Local, Bit>,
    c_full_now: Signal<Local, Bit>,
    c_ofull_now: Signal<Local, Bit>,
    o_full_now: Signal<Local, Bit>,
    issue_px: Signal<Local, Bit>,
    last_tile: Signal<Local, Bit>,
    o_issue: Signal<Local, Bit>,
    pop: Signal<Local, Bit>,
    c_claim: Signal<Local, Bit>,
    rq_valid: Signal<Local, Bit>,
    rq_last: Signal<Local, Bit>,
    in_final: Signal<Local, Bit>,
    lo_off: Signal<Local, Bits<8>>,
    hi_off: Signal<Local, Bits<8>>,
    /// `act_min ≤ act_max` for the bounds after this cycle's write: START reads a flip-flop,
    /// not a comparator behind its decode (an Fmax path into the layer's start).
    clamp_ok: DFF<Bit>,
    /// With `[pointwise] max_weights` below the `max_m × max_n` rectangle: `MT·NT ≤` the
    /// memory's tiles, for the sizes after this cycle's write (none otherwise: the per-write
    /// range checks imply it).
    tile_fits: Vec<ProductFits<16, 16>>,
    /// The layer's weight tiles fit (true without `tile_fits`).
    tiles_ok: Signal<Local, Bit>,
    // Constants.
    rows: Constant<Bits<16>>,
    /// `R + 1`: `k_wcap`'s compare for the counter's next value.
    rows1: Constant<Bits<16>>,
    tmin: Constant<Bits<16>>,
    /// The 16-bit counters' significant bits (from the generated maxima): every write is
    /// masked, so synthesis drops the flip-flops, adders and comparator bits above them.
    cmask: Constant<Bits<16>>,
    /// `!cmask` over a config word: set bits there exceed every counter maximum.
    cfg_over: Constant<Bits<32>>,
    mt_max: Constant<Bits<16>>,
    nt_max: Constant<Bits<16>>,
    blk_max: Constant<Bits<16>>,
    /// The pixel maximum + 1, at 32 bits (a 24-bit `> 2^24 − 1` would be a constant compare).
    pix_lim: Constant<Bits<32>>,
    /// The pixel counters' significant bits and the config-word bits above them (see
    /// [`PointwiseStage::with_max_pixels`]).
    pmask: Constant<Bits<24>>,
    pix_over: Constant<Bits<32>>,
    /// The pixel counters read through `pmask` (synthesis then drops their upper flip-flops,
    /// which it does not do from the masked writes alone).
    in_left_v: Signal<Local, Bits<24>>,
    /// The block sizes and tile period read through `cmask`, for the same reason.
    in_bsz_v: Signal<Local, Bits<16>>,
    c_bsz_v: Signal<Local, Bits<16>>,
    o_bsz_v: Signal<Local, Bits<16>>,
    tper_v: Signal<Local, Bits<16>>,
    c_left_v: Signal<Local, Bits<24>>,
    o_left_v: Signal<Local, Bits<24>>,
    w_words: Constant<Bits<24>>,
    nt_idx: Constant<Bits<24>>,
    /// Index bits above `w_words` and `nt_idx`: set bits there are out of range.
    w_over: Constant<Bits<24>>,
    j_over: Constant<Bits<24>>,
    cfg_low: Signal<Local, Bits<16>>,
    xbank: Constant<Bits<XA>>,
    obank_bit: Constant<Bits<OA>>,
    acc_w: Constant<Bits<16>>,
    top8: Constant<Bits<16>>,
    top_acc: Constant<Bits<16>>,
    top32: Constant<Bits<16>>,
    top6: Constant<Bits<16>>,
    fifo_depth: Constant<Bits<8>>,
}

/// The small stage the Verilator sweep runs: 4×3 array, `M ≤ 16`, `N ≤ 12`, blocks of ≤ 8.
pub type SmallStage = PointwiseStage<20, 32, 24, 60, 96, 18, 25, 6, 6, 3, 6, 2>;
/// MobileNet-v1 (α = 1): 8×8 array, `M, N ≤ 1024`, blocks of ≤ 64 pixels.
pub type MobileNetStage = PointwiseStage<26, 64, 64, 208, 256, 48, 65, 14, 17, 6, 14, 7>;

fn clog2(n: usize) -> usize {
    (usize::BITS - (n.max(1) - 1).leading_zeros()) as usize
}

/// The bits that hold `0..=max`.
fn pix_mask(max: usize) -> u64 {
    (1u64 << clog2(max + 1)) - 1
}

impl<
        const ACC: usize,
        const AW: usize,
        const WW: usize,
        const PW: usize,
        const PB: usize,
        const PS: usize,
        const FW: usize,
        const XA: usize,
        const WA: usize,
        const BA: usize,
        const OA: usize,
        const JA: usize,
    > PointwiseStage<ACC, AW, WW, PW, PB, PS, FW, XA, WA, BA, OA, JA>
{
    /// The same stage refusing layers of more than `max` pixels (clamped to
    /// `1..=PW_MAX_PIXELS`); its pixel counters keep only the bits `max` needs. The fused
    /// engine passes `max_width · max_height`, which bounds every layer it runs.
    pub fn with_max_pixels(mut self, max: usize) -> Self {
        let max = max.clamp(1, PW_MAX_PIXELS);
        self.pix_lim = Constant::new((max as u64 + 1).into());
        self.pmask = Constant::new(pix_mask(max).into());
        self.pix_over = Constant::new((!pix_mask(max) & 0xFFFF_FFFF).into());
        self
    }

    /// The same stage with (`on`, the default) or without the bias/shift output registers:
    /// without, bias and shift are read beside `M0` a cycle later and go to the requantizers
    /// unregistered (same cycles; fewer flip-flops, a longer RAM-to-multiplier path). The fused
    /// engine leaves them out with `[engine] param_ram = "spram"`, the small-device plan.
    pub fn with_param_regs(mut self, on: bool) -> Self {
        self.param_regs = Constant::new(on);
        self
    }

    /// The stage for `cfg`, or why the const generics do not fit it.
    pub fn new(cfg: &PointwiseConfig) -> Result<Self, ModelError> {
        let a = cfg.array();
        let (r, c) = (a.rows(), a.cols());
        let (mt, nt, b) = (cfg.max_m_tiles(), cfg.max_n_tiles(), cfg.max_block());
        let want = [
            ACC,
            8 * r,
            8 * c,
            a.acc_bits() * c,
            32 * c,
            6 * c,
            8 * c + 1,
            clog2(b * mt) + 1,
            clog2(cfg.weight_tiles() * r),
            clog2(b),
            clog2(b * nt) + 1,
            clog2(nt),
        ];
        let have = [ACC, AW, WW, PW, PB, PS, FW, XA, WA, BA, OA, JA];
        if a.acc_bits() != ACC || want != have || a.acc_bits() > 32 || XA > 16 || OA > 16 || WA > 24 {
            return Err(ModelError::InvalidParameter(format!(
                "PointwiseStage<{have:?}> does not fit the config: need {:?} with ≤ 32-bit sums, XA, OA ≤ 16, WA ≤ 24",
                [a.acc_bits(), 8 * r, 8 * c, a.acc_bits() * c, 32 * c, 6 * c, 8 * c + 1, want[7], want[8], want[9], want[10], want[11]]
            )));
        }
        let k16 = |v: usize| Constant::new((v as u64).into());
        // Counters run below max(MT, NT, B, R, 3) (tiles, pixels of a block, tile cycles).
        let cmask = (1usize << clog2(mt.max(nt).max(b).max(r).max(PW_MIN_TILE) + 1)) - 1;
        // The array's latency `L`: the tags travel beside the pixels.
        let lat = dsc_model::systolic::ws_array_latency(&a);
        let o_delay = lat + 2 + Requantizer::LATENCY;
        if o_delay > 32 {
            return Err(ModelError::InvalidParameter(format!(
                "PointwiseStage: the output address ring holds 32 cycles, the array and requantizer need {o_delay}"
            )));
        }
        Ok(Self {
            clock: Default::default(),
            cfg_valid: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            inp: Default::default(),
            out: Default::default(),
            busy: Default::default(),
            error: Default::default(),
            last_error: Default::default(),
            out_fill: Default::default(),
            array: SystolicArray::new(a)?,
            xram: Default::default(),
            wram: Default::default(),
            aram: Default::default(),
            oram: Default::default(),
            bram: Default::default(),
            mram: Default::default(),
            sram: Default::default(),
            rq: (0..c).map(|_| Requantizer::default()).collect(),
            acc_ext: (0..c).map(|_| Widen::signed()).collect(),
            sum_ext: (0..c).map(|_| ZeroExtend::default()).collect(),
            byte_ext: (0..c).map(|_| ZeroExtend::default()).collect(),
            sum_pack: (0..c).map(|_| Default::default()).collect(),
            byte_pack: (0..c).map(|_| Default::default()).collect(),
            fifo: StreamFifo::new()?,
            tag_p: DelayLine::new(lat),
            tag_v: DelayLine::new(lat + 1),
            tag_first: DelayLine::new(lat + 1),
            tag_last: DelayLine::new(lat + 1),
            tag_end: DelayLine::new(lat + 1),
            tag_j: DelayLine::new(lat),
            o_dly: Default::default(),
            o_wp: Default::default(),
            o_back: Constant::new(((32 - (o_delay - 1)) as u64 % 32).into()),
            o_tag: Default::default(),
            mt: Default::default(),
            nt: Default::default(),
            npix: Default::default(),
            blk: Default::default(),
            out_zp: Default::default(),
            act_min: Default::default(),
            act_max: Default::default(),
            err: Default::default(),
            last_err: Default::default(),
            took: Default::default(),
            took_last: Default::default(),
            took_final: Default::default(),
            running: Default::default(),
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
            cw_addr: Default::default(),
            cj_addr: Default::default(),
            ibank: Default::default(),
            in_i: Default::default(),
            in_p: Default::default(),
            in_addr: Default::default(),
            in_left: Default::default(),
            in_i_end: Default::default(),
            in_p_end: Default::default(),
            in_next_bsz: Default::default(),
            in_nb: Default::default(),
            in_nb1: Default::default(),
            full0: Default::default(),
            full1: Default::default(),
            cbank: Default::default(),
            cstate: Default::default(),
            ck: Default::default(),
            ci: Default::default(),
            cj: Default::default(),
            tper: Default::default(),
            px_addr: Default::default(),
            o_addr: Default::default(),
            w_addr: Default::default(),
            c_left: Default::default(),
            k_end: Default::default(),
            k_issue: Default::default(),
            k_lastpx: Default::default(),
            k_wcap: Default::default(),
            k_wload: Default::default(),
            ci_end: Default::default(),
            cj_end: Default::default(),
            sw_d: Default::default(),
            cap_d: Default::default(),
            sum: Default::default(),
            bias1: Default::default(),
            shift1: Default::default(),
            m0_1: Default::default(),
            j1: Default::default(),
            param_regs: Constant::new(true),
            v1: Default::default(),
            p_e: Default::default(),
            p1: Default::default(),
            last1: Default::default(),
            end1: Default::default(),
            ofull0: Default::default(),
            ofull1: Default::default(),
            oused0: Default::default(),
            oused1: Default::default(),
            obank: Default::default(),
            o_rd: Default::default(),
            o_j: Default::default(),
            o_p: Default::default(),
            o_left: Default::default(),
            credits: Default::default(),
            issued: Default::default(),
            issued_last: Default::default(),
            region: Default::default(),
            index: Default::default(),
            in_region: Default::default(),
            in_index: Default::default(),
            data_ok: Default::default(),
            // Region 0's indices need 4 bits, the weight words and N-tiles theirs.
            port: ConfigWrite::new(clog2(nt * mt * r).max(clog2(nt)).max(4)),
            bad: Default::default(),
            in_bsz: Default::default(),
            c_bsz: Default::default(),
            o_bsz: Default::default(),
            first_bsz: Default::default(),
            in_rest: Default::default(),
            c_rest: Default::default(),
            o_rest: Default::default(),
            accept: Default::default(),
            set_full: Default::default(),
            clr_full: Default::default(),
            set_ofull: Default::default(),
            clr_ofull: Default::default(),
            in_full_now: Default::default(),
            c_full_now: Default::default(),
            c_ofull_now: Default::default(),
            o_full_now: Default::default(),
            issue_px: Default::default(),
            last_tile: Default::default(),
            o_issue: Default::default(),
            pop: Default::default(),
            c_claim: Default::default(),
            rq_valid: Default::default(),
            rq_last: Default::default(),
            in_final: Default::default(),
            lo_off: Default::default(),
            hi_off: Default::default(),
            clamp_ok: Default::default(),
            tile_fits: if cfg.weights_limited() { vec![ProductFits::new(cfg.weight_tiles())] } else { vec![] },
            tiles_ok: Default::default(),
            rows: k16(r),
            rows1: k16(r + 1),
            tmin: k16(r.max(PW_MIN_TILE)),
            cmask: k16(cmask),
            cfg_over: Constant::new((!(cmask as u32) as u64).into()),
            mt_max: k16(mt),
            nt_max: k16(nt),
            blk_max: k16(b),
            pix_lim: Constant::new((PW_MAX_PIXELS as u64 + 1).into()),
            pmask: Constant::new(pix_mask(PW_MAX_PIXELS).into()),
            pix_over: Constant::new((!pix_mask(PW_MAX_PIXELS) & 0xFFFF_FFFF).into()),
            in_left_v: Default::default(),
            in_bsz_v: Default::default(),
            c_bsz_v: Default::default(),
            o_bsz_v: Default::default(),
            tper_v: Default::default(),
            c_left_v: Default::default(),
            o_left_v: Default::default(),
            w_words: Constant::new(((cfg.weight_tiles() * r) as u64).into()),
            nt_idx: Constant::new((nt as u64).into()),
            w_over: Constant::new(((0xFF_FFFFu64 >> clog2(nt * mt * r + 1)) << clog2(nt * mt * r + 1)).into()),
            j_over: Constant::new(((0xFF_FFFFu64 >> clog2(nt + 1)) << clog2(nt + 1)).into()),
            cfg_low: Default::default(),
            xbank: Constant::new((1u64 << (XA - 1)).into()),
            obank_bit: Constant::new((1u64 << (OA - 1)).into()),
            acc_w: k16(ACC),
            top8: k16(WW - 8),
            top_acc: k16(PW - ACC),
            top32: k16(PB - 32),
            top6: k16(PS - 6),
            fifo_depth: Constant::new(((1u64 << OUT_FIFO_BITS) as u64).into()),
        })
    }
}

impl<
        const ACC: usize,
        const AW: usize,
        const WW: usize,
        const PW: usize,
        const PB: usize,
        const PS: usize,
        const FW: usize,
        const XA: usize,
        const WA: usize,
        const BA: usize,
        const OA: usize,
        const JA: usize,
    > Logic for PointwiseStage<ACC, AW, WW, PW, PB, PS, FW, XA, WA, BA, OA, JA>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, mt, nt, npix, blk, out_zp, act_min, act_max, err, last_err, running, wstage, bstage,
            sstage, wpend, bpend, mpend, spend, cw_addr, cj_addr, ibank, in_i, in_p,
            in_addr, in_left, in_i_end, in_p_end, in_nb, in_nb1, full0, full1, cbank, cstate, ck, ci, cj, tper, px_addr, o_addr,
            w_addr, c_left, k_end, k_issue, k_lastpx, k_wcap, k_wload, ci_end, cj_end, sw_d, cap_d, sum, bias1, shift1, m0_1, j1, v1, p_e, p1, last1, end1, ofull0, ofull1, oused0, oused1, obank, o_rd,
            o_j, o_p, o_left, credits, issued, issued_last,
            in_bsz, c_bsz, o_bsz, clamp_ok, took, took_last, took_final, o_wp
        );
        clock!(
            self, clock, array, xram, wram, aram, oram, bram, mram, sram, fifo, tag_p, tag_v,
            tag_first, tag_last, tag_end, tag_j, o_dly, port
        );
        for c in 0..self.rq.len() {
            self.rq[c].clock.next = self.clock.val();
        }
        for i in 0..self.tile_fits.len() {
            self.tile_fits[i].clock.next = self.clock.val();
        }

        // ---- Config port, edge 1: register the write with the checks on its address and
        // data alone; edge 2: the checks against the stage's state, then the write.
        self.port.cfg_valid.next = self.cfg_valid.val();
        self.port.cfg_addr.next = self.cfg_addr.val();
        self.port.cfg_data.next = self.cfg_data.val();
        self.port.drop.next = false;
        self.in_region.next = self.port.in_region.val();
        self.in_index.next = self.port.in_index.val();
        // Sizes without 32-bit adders: no bit above the counters' mask, then a narrow compare
        // (the int8 and shift ranges come from the port).
        self.cfg_low.next = self.cfg_data.val().get_bits::<16>(0) & self.cmask.val();
        self.data_ok.next = false;
        if self.in_region.val() == 0 {
            if self.in_index.val() == 0 {
                self.data_ok.next = !((self.cfg_data.val() == 0)
                    || (self.cfg_data.val() & self.cfg_over.val()).any()
                    || (self.cfg_low.val() > self.mt_max.val()));
            }
            if self.in_index.val() == 1 {
                self.data_ok.next = !((self.cfg_data.val() == 0)
                    || (self.cfg_data.val() & self.cfg_over.val()).any()
                    || (self.cfg_low.val() > self.nt_max.val()));
            }
            if self.in_index.val() == 2 {
                self.data_ok.next = !((self.cfg_data.val() == 0)
                    || (self.cfg_data.val() & self.pix_over.val()).any()
                    || !((self.cfg_data.val() & !self.pix_over.val()) < self.pix_lim.val()));
            }
            if self.in_index.val() == 3 {
                self.data_ok.next = !((self.cfg_data.val() == 0)
                    || (self.cfg_data.val() & self.cfg_over.val()).any()
                    || (self.cfg_low.val() > self.blk_max.val()));
            }
            if (self.in_index.val() >= 4) && (self.in_index.val() <= 6) {
                self.data_ok.next = self.port.in_int8.val();
            }
            if (self.in_index.val() == 8) || (self.in_index.val() == 9) {
                self.data_ok.next = true;
            }
        }
        if self.in_region.val() == 1 {
            self.data_ok.next = !((self.in_index.val() & self.w_over.val()).any()
                || !((self.in_index.val() & !self.w_over.val()) < self.w_words.val())
                || !self.port.in_int8.val());
        }
        if (self.in_region.val() == 2) || (self.in_region.val() == 3) {
            self.data_ok.next = !((self.in_index.val() & self.j_over.val()).any()
                || !((self.in_index.val() & !self.j_over.val()) < self.nt_idx.val()));
        }
        if self.in_region.val() == 4 {
            self.data_ok.next = !((self.in_index.val() & self.j_over.val()).any()
                || !((self.in_index.val() & !self.j_over.val()) < self.nt_idx.val())
                || !self.port.in_shift.val());
        }
        self.port.ok.next = self.data_ok.val();
        // Edge 2.
        self.region.next = self.port.region.val();
        self.index.next = self.port.index.val();
        // The clamp check for START, as `clamp_ok` for the next cycle: the bounds as
        // they are after this edge (offset binary: a signed compare as an unsigned one). A
        // bound's write is taken when valid and idle — `!bad` for these indices, spelled out
        // so the check does not depend on START's own verdict.
        self.lo_off.next = self.act_min.q.val() ^ 0x80;
        self.hi_off.next = self.act_max.q.val() ^ 0x80;
        if self.port.valid.val() && self.port.data_ok.val() && !self.running.q.val() && (self.region.val() == 0) {
            if self.index.val() == 5 {
                self.lo_off.next = self.port.data.val().get_bits::<8>(0) ^ 0x80;
            }
            if self.index.val() == 6 {
                self.hi_off.next = self.port.data.val().get_bits::<8>(0) ^ 0x80;
            }
        }
        self.clamp_ok.d.next = self.lo_off.val() <= self.hi_off.val();
        // The weight-tile check likewise follows MT and NT as written.
        self.tiles_ok.next = true;
        for i in 0..self.tile_fits.len() {
            self.tiles_ok.next = self.tile_fits[i].fits.val();
            self.tile_fits[i].a.next = self.port.data.val().get_bits::<16>(0) & self.cmask.val();
            self.tile_fits[i].b_minus_1.next = (self.port.data.val().get_bits::<16>(0) & self.cmask.val()) - 1;
            self.tile_fits[i].a_held.next = self.mt.q.val();
            self.tile_fits[i].b_minus_1_held.next = self.nt.q.val() - 1;
            self.tile_fits[i].load_a.next = false;
            self.tile_fits[i].load_b.next = false;
            if self.port.valid.val() && self.port.data_ok.val() && !self.running.q.val() && (self.region.val() == 0) {
                self.tile_fits[i].load_a.next = self.index.val() == 0;
                self.tile_fits[i].load_b.next = self.index.val() == 1;
            }
        }
        self.bad.next = false;
        self.wpend.d.next = false;
        self.bwr.next = false;
        self.pword.next =
            (self.bstage.q.val() >> 32) | (bit_cast::<PB, 32>(self.port.data.val()) << self.top32.val());
        self.mwr.next = false;
        self.bpend.d.next = false;
        self.mpend.d.next = false;
        self.spend.d.next = false;
        if self.port.valid.val() {
            // (The verdict first: a refused address may alias region 0's after the port's
            // narrowing.)
            if !self.port.data_ok.val() {
                self.bad.next = true;
            } else if (self.region.val() == 0) && (self.index.val() == 9) {
                self.err.d.next = false;
            } else if self.running.q.val() {
                self.bad.next = true;
            } else if self.region.val() == 0 {
                if self.index.val() == 0 {
                    self.mt.d.next = self.port.data.val().get_bits::<16>(0) & self.cmask.val();
                }
                if self.index.val() == 1 {
                    self.nt.d.next = self.port.data.val().get_bits::<16>(0) & self.cmask.val();
                }
                if self.index.val() == 2 {
                    self.npix.d.next = self.port.data.val().get_bits::<24>(0) & self.pmask.val();
                }
                if self.index.val() == 3 {
                    self.blk.d.next = self.port.data.val().get_bits::<16>(0) & self.cmask.val();
                }
                if self.index.val() == 4 {
                    self.out_zp.d.next = self.port.data.val().get_bits::<8>(0);
                }
                if self.index.val() == 5 {
                    self.act_min.d.next = self.port.data.val().get_bits::<8>(0);
                }
                if self.index.val() == 6 {
                    self.act_max.d.next = self.port.data.val().get_bits::<8>(0);
                }
                if self.index.val() == 8 {
                    if !self.clamp_ok.q.val() || !self.tiles_ok.val() {
                        self.bad.next = true;
                    } else {
                        self.running.d.next = true;
                    }
                }
            } else if self.region.val() == 1 {
                self.wstage.d.next = (self.wstage.q.val() >> 8)
                    | (bit_cast::<WW, 8>(self.port.data.val().get_bits::<8>(0)) << self.top8.val());
                self.wpend.d.next = true;
                self.cw_addr.d.next = self.index.val().get_bits::<WA>(0);
            } else {
                self.cj_addr.d.next = self.index.val().get_bits::<JA>(0);
                if self.region.val() == 2 {
                    self.bstage.d.next = self.pword.val();
                    self.bwr.next = true;
                    self.bpend.d.next = true;
                } else if self.region.val() == 3 {
                    self.bstage.d.next = self.pword.val();
                    self.mwr.next = true;
                    self.mpend.d.next = true;
                } else {
                    self.sstage.d.next = (self.sstage.q.val() >> 6)
                        | (bit_cast::<PS, 6>(self.port.data.val().get_bits::<6>(0)) << self.top6.val());
                    self.spend.d.next = true;
                }
            }
        }
        if self.bad.val() {
            self.err.d.next = true;
        }
        self.wram.write_enable.next = self.wpend.q.val();
        self.wram.write_address.next = self.cw_addr.q.val();
        self.wram.write_data.next = self.wstage.q.val();
        self.bram.write_enable.next = self.bwr.val();
        self.bram.write_address.next = self.index.val().get_bits::<JA>(0);
        self.bram.write_data.next = self.pword.val();
        self.mram.write_enable.next = self.mwr.val();
        self.mram.write_address.next = self.index.val().get_bits::<JA>(0);
        self.mram.write_data.next = self.pword.val();
        if self.param_regs.val() {
            self.bram.write_enable.next = self.bpend.q.val();
            self.bram.write_address.next = self.cj_addr.q.val();
            self.bram.write_data.next = self.bstage.q.val();
            self.mram.write_enable.next = self.mpend.q.val();
            self.mram.write_address.next = self.cj_addr.q.val();
            self.mram.write_data.next = self.bstage.q.val();
        }
        self.sram.write_enable.next = self.spend.q.val();
        self.sram.write_address.next = self.cj_addr.q.val();
        self.sram.write_data.next = self.sstage.q.val();

        self.in_left_v.next = self.in_left.q.val() & self.pmask.val();
        self.in_bsz_v.next = self.in_bsz.q.val() & self.cmask.val();
        self.c_bsz_v.next = self.c_bsz.q.val() & self.cmask.val();
        self.o_bsz_v.next = self.o_bsz.q.val() & self.cmask.val();
        self.tper_v.next = self.tper.q.val() & self.cmask.val();
        self.c_left_v.next = self.c_left.q.val() & self.pmask.val();
        self.o_left_v.next = self.o_left.q.val() & self.pmask.val();
        // START: every side begins with the whole layer.
        self.in_rest.next = (self.in_left_v.val() - bit_cast::<24, 16>(self.in_bsz_v.val())) & self.pmask.val();
        self.c_rest.next = (self.c_left_v.val() - bit_cast::<24, 16>(self.c_bsz_v.val())) & self.pmask.val();
        self.o_rest.next = (self.o_left_v.val() - bit_cast::<24, 16>(self.o_bsz_v.val())) & self.pmask.val();
        if bit_cast::<24, 16>(self.blk.q.val()) < self.npix.q.val() {
            self.first_bsz.next = self.blk.q.val();
        } else {
            self.first_bsz.next = self.npix.q.val().get_bits::<16>(0) & self.cmask.val();
        }
        // The input end flags follow the counters (and config writes to mt) when no beat
        // arrives.
        self.in_i_end.d.next = (self.in_i.q.val() + 1) == self.mt.q.val();
        self.in_p_end.d.next = (self.in_p.q.val() + 1) == self.in_bsz_v.val();
        if self.port.valid.val() && !self.bad.val() && (self.region.val() == 0) && (self.index.val() == 8) {
            // Masked again here: synthesis sees the constant bits without first removing
            // npix's (it does not iterate that far).
            self.in_left.d.next = self.npix.q.val() & self.pmask.val();
            self.c_left.d.next = self.npix.q.val() & self.pmask.val();
            self.o_left.d.next = self.npix.q.val() & self.pmask.val();
            self.in_bsz.d.next = self.first_bsz.val();
            self.in_p_end.d.next = (self.in_p.q.val() + 1) == self.first_bsz.val();
            self.c_bsz.d.next = self.first_bsz.val();
            self.o_bsz.d.next = self.first_bsz.val();
            self.last_err.d.next = false;
        }

        // ---- Input side: beats into the pixel bank `ibank`.
        if self.ibank.q.val() {
            self.in_full_now.next = self.full1.q.val();
        } else {
            self.in_full_now.next = self.full0.q.val();
        }
        self.accept.next =
            self.running.q.val() && (self.in_left_v.val() != 0) && !self.in_full_now.val();
        self.inp.tready.next = self.accept.val();
        self.xram.write_enable.next = self.accept.val() && self.inp.tvalid.val();
        self.xram.write_data.next = self.inp.tdata.val();
        if self.ibank.q.val() {
            self.xram.write_address.next = self.in_addr.q.val() | self.xbank.val();
        } else {
            self.xram.write_address.next = self.in_addr.q.val();
        }
        self.set_full.next = false;
        self.in_final.next = self.in_i_end.q.val()
            && self.in_p_end.q.val()
            && (self.in_left_v.val() == bit_cast::<24, 16>(self.in_bsz_v.val()));
        if bit_cast::<24, 16>(self.blk.q.val()) < self.in_rest.val() {
            self.in_next_bsz.next = self.blk.q.val();
        } else {
            self.in_next_bsz.next = self.in_rest.val().get_bits::<16>(0) & self.cmask.val();
        }
        self.in_nb.d.next = self.in_next_bsz.val();
        self.in_nb1.d.next = (self.blk.q.val() == 1) || (self.in_rest.val() == 1);

        // The tlast check a cycle later (for Fmax: the input handshake and the block counters'
        // compares do not meet in one cycle); `last_error` is read after the layer.
        self.took.d.next = self.accept.val() && self.inp.tvalid.val();
        self.took_last.d.next = self.inp.tlast.val();
        self.took_final.d.next = self.in_final.val();
        if self.took.q.val() && (self.took_last.q.val() != self.took_final.q.val()) {
            self.last_err.d.next = true;
        }
        if self.accept.val() && self.inp.tvalid.val() {
            self.in_addr.d.next = self.in_addr.q.val() + 1;
            self.in_i.d.next = (self.in_i.q.val() + 1) & self.cmask.val();
            self.in_i_end.d.next = (self.in_i.q.val() + 2) == self.mt.q.val();
            if self.in_i_end.q.val() {
                self.in_i.d.next = 0.into();
                self.in_i_end.d.next = self.mt.q.val() == 1;
                self.in_p.d.next = (self.in_p.q.val() + 1) & self.cmask.val();
                self.in_p_end.d.next = (self.in_p.q.val() + 2) == self.in_bsz_v.val();
                if self.in_p_end.q.val() {
                    self.set_full.next = true;
                    self.in_p.d.next = 0.into();
                    self.in_addr.d.next = 0.into();
                    self.ibank.d.next = !self.ibank.q.val();
                    self.in_left.d.next = self.in_rest.val();
                    self.in_bsz.d.next = self.in_nb.q.val();
                    if self.in_nb1.q.val() {
                        self.in_bsz.d.next = 1.into();
                    }
                    self.in_p_end.d.next = self.in_nb1.q.val();
                }
            }
        }

        // ---- Compute side: WAIT (0) → PROLOGUE (1, R cycles) → TILES (2).
        if self.cbank.q.val() {
            self.c_full_now.next = self.full1.q.val();
            self.c_ofull_now.next = self.oused1.q.val();
        } else {
            self.c_full_now.next = self.full0.q.val();
            self.c_ofull_now.next = self.oused0.q.val();
        }
        self.last_tile.next = self.ci_end.q.val() && self.cj_end.q.val();
        self.issue_px.next = false;
        self.c_claim.next = false;
        self.clr_full.next = false;
        self.sw_d.d.next = false;
        self.cap_d.d.next = false;
        // Every RAM of the stage reads every cycle.
        self.xram.read_enable.next = true;
        self.wram.read_enable.next = true;
        self.aram.read_enable.next = true;
        self.bram.read_enable.next = true;
        self.sram.read_enable.next = true;
        self.mram.read_enable.next = true;
        self.o_dly.read_enable.next = true;
        self.oram.read_enable.next = true;
        self.xram.read_address.next = self.px_addr.q.val();
        if self.cbank.q.val() {
            self.xram.read_address.next = self.px_addr.q.val() | self.xbank.val();
        }
        self.wram.read_address.next = self.w_addr.q.val();
        if self.cstate.q.val() == 0 {
            if self.running.q.val()
                && (self.c_left_v.val() != 0)
                && self.c_full_now.val()
                && !self.c_ofull_now.val()
            {
                self.cstate.d.next = 1.into();
                self.c_claim.next = true;
                self.ck.d.next = 0.into();
                self.ci.d.next = 0.into();
                self.cj.d.next = 0.into();
                self.k_end.d.next = self.rows.val() == 1;
                self.ci_end.d.next = self.mt.q.val() == 1;
                self.cj_end.d.next = self.nt.q.val() == 1;
                self.w_addr.d.next = 0.into();
                self.px_addr.d.next = 0.into();
                self.o_addr.d.next = 0.into();
                if self.c_bsz_v.val() > self.tmin.val() {
                    self.tper.d.next = self.c_bsz_v.val();
                } else {
                    self.tper.d.next = self.tmin.val();
                }
            }
        } else if self.cstate.q.val() == 1 {
            self.w_addr.d.next = self.w_addr.q.val() + 1;
            self.cap_d.d.next = self.ck.q.val() == 0;
            self.ck.d.next = (self.ck.q.val() + 1) & self.cmask.val();
            self.k_end.d.next = (self.ck.q.val() + 2) == self.rows.val();
            if self.k_end.q.val() {
                self.cstate.d.next = 2.into();
                self.ck.d.next = 0.into();
                // The first tile's flags at ck = 0 (c_bsz ≥ 1 while a block computes).
                self.k_end.d.next = self.tper_v.val() == 1;
                self.k_issue.d.next = true;
                self.k_lastpx.d.next = self.c_bsz_v.val() == 1;
                self.k_wcap.d.next = self.rows.val() == self.tper_v.val();
                self.k_wload.d.next = self.rows.val() >= self.tper_v.val();
            }
        } else {
            if self.k_issue.q.val() {
                self.issue_px.next = true;
                self.px_addr.d.next = self.px_addr.q.val() + self.mt.q.val().get_bits::<XA>(0);
                self.o_addr.d.next = self.o_addr.q.val() + self.nt.q.val().get_bits::<OA>(0);
            }
            self.sw_d.d.next = self.ck.q.val() == 0;
            if !self.last_tile.val() && self.k_wload.q.val() {
                self.w_addr.d.next = self.w_addr.q.val() + 1;
                self.cap_d.d.next = self.k_wcap.q.val();
            }
            // The flags for ck + 1: the weight load starts once and lasts to the tile's end.
            self.ck.d.next = (self.ck.q.val() + 1) & self.cmask.val();
            self.k_end.d.next = (self.ck.q.val() + 2) == self.tper_v.val();
            self.k_issue.d.next = self.k_issue.q.val() && !self.k_lastpx.q.val();
            self.k_lastpx.d.next = (self.ck.q.val() + 2) == self.c_bsz_v.val();
            self.k_wcap.d.next = (self.ck.q.val() + self.rows1.val()) == self.tper_v.val();
            self.k_wload.d.next =
                self.k_wload.q.val() || ((self.ck.q.val() + self.rows1.val()) == self.tper_v.val());
            if self.k_end.q.val() {
                self.ck.d.next = 0.into();
                self.k_end.d.next = self.tper_v.val() == 1;
                self.k_issue.d.next = true;
                self.k_lastpx.d.next = self.c_bsz_v.val() == 1;
                self.k_wcap.d.next = self.rows.val() == self.tper_v.val();
                self.k_wload.d.next = self.rows.val() >= self.tper_v.val();
                if self.ci_end.q.val() {
                    self.ci.d.next = 0.into();
                    self.ci_end.d.next = self.mt.q.val() == 1;
                    self.cj.d.next = (self.cj.q.val() + 1) & self.cmask.val();
                    self.cj_end.d.next = (self.cj.q.val() + 2) == self.nt.q.val();
                    self.px_addr.d.next = 0.into();
                    self.o_addr.d.next = self.cj.q.val().get_bits::<OA>(0) + 1;
                } else {
                    self.ci.d.next = (self.ci.q.val() + 1) & self.cmask.val();
                    self.ci_end.d.next = (self.ci.q.val() + 2) == self.mt.q.val();
                    self.px_addr.d.next = self.ci.q.val().get_bits::<XA>(0) + 1;
                    self.o_addr.d.next = self.cj.q.val().get_bits::<OA>(0);
                }
                if self.last_tile.val() {
                    self.cstate.d.next = 0.into();
                    self.clr_full.next = true;
                    self.cbank.d.next = !self.cbank.q.val();
                    self.c_left.d.next = self.c_rest.val();
                    if bit_cast::<24, 16>(self.blk.q.val()) < self.c_rest.val() {
                        self.c_bsz.d.next = self.blk.q.val();
                    } else {
                        self.c_bsz.d.next = self.c_rest.val().get_bits::<16>(0) & self.cmask.val();
                    }
                }
            }
        }
        // Pixel-bank full flags: set by the input side, cleared by the compute side (never
        // the same bank in one cycle: a full bank is not written).
        self.full0.d.next = (self.full0.q.val() || (self.set_full.val() && !self.ibank.q.val()))
            && !(self.clr_full.val() && !self.cbank.q.val());
        self.full1.d.next = (self.full1.q.val() || (self.set_full.val() && self.ibank.q.val()))
            && !(self.clr_full.val() && self.cbank.q.val());

        // ---- Array: RAM data arrive the cycle after issue, with the registered flags.
        self.array.a_in.next = self.xram.read_data.val();
        self.array.w_in.next = self.wram.read_data.val();
        self.array.sw_in.next = self.sw_d.q.val();
        self.array.cap_in.next = self.cap_d.q.val();
        self.tag_p.inp.next = self.ck.q.val().get_bits::<BA>(0);
        self.tag_v.inp.next = self.issue_px.val();
        self.tag_first.inp.next = self.ci.q.val() == 0;
        self.tag_last.inp.next = self.ci_end.q.val();
        self.tag_end.inp.next = self.last_tile.val() && self.k_lastpx.q.val();
        self.tag_j.inp.next = self.cj.q.val().get_bits::<JA>(0);
        if self.cbank.q.val() {
            self.o_tag.next = self.o_addr.q.val() | self.obank_bit.val();
        } else {
            self.o_tag.next = self.o_addr.q.val();
        }

        // ---- Accumulate (E): column sums + the block's partial sums (zero on M-tile 0).
        self.aram.read_address.next = self.tag_p.out.val();
        // tag_j leads by one cycle: bias and shift are read at E − 1 and registered at E;
        // M0 is read at E through j1.
        self.bram.read_address.next = self.tag_j.out.val();
        self.sram.read_address.next = self.tag_j.out.val();
        self.mram.read_address.next = self.tag_j.out.val();
        self.j1.d.next = self.tag_j.out.val();
        if !self.param_regs.val() {
            self.bram.read_address.next = self.j1.q.val();
            self.sram.read_address.next = self.j1.q.val();
            self.mram.read_address.next = self.j1.q.val();
        }
        self.bias1.d.next = self.bram.read_data.val();
        self.shift1.d.next = self.sram.read_data.val();
        self.m0_1.d.next = self.mram.read_data.val();
        for c in 0..self.sum_ext.len() {
            if self.tag_first.out.val() {
                self.sum_ext[c].a.next =
                    self.array.psum_out.val().get_bits::<ACC>(self.acc_w.val().index() * c);
            } else {
                self.sum_ext[c].a.next = self
                    .array
                    .psum_out
                    .val()
                    .get_bits::<ACC>(self.acc_w.val().index() * c)
                    + self.aram.read_data.val().get_bits::<ACC>(self.acc_w.val().index() * c);
            }
        }
        self.sum_pack[0].next = self.sum_ext[0].y.val() << self.top_acc.val();
        for c in 1..self.sum_pack.len() {
            self.sum_pack[c].next = (self.sum_pack[c - 1].val() >> self.acc_w.val())
                | (self.sum_ext[c].y.val() << self.top_acc.val());
        }
        self.sum.d.next = self.sum_pack[0].val();
        for c in 1..self.sum_pack.len() {
            self.sum.d.next = self.sum_pack[c].val();
        }
        self.v1.d.next = self.tag_v.out.val();
        // tag_p leads by one cycle (it addresses the read at E − 1): p_e is the pixel at E.
        self.p_e.d.next = self.tag_p.out.val();
        self.p1.d.next = self.p_e.q.val();
        self.last1.d.next = self.tag_last.out.val();
        self.end1.d.next = self.tag_end.out.val();
        // E+1: write back, requantize on the last M-tile.
        self.aram.write_enable.next = self.v1.q.val();
        self.aram.write_address.next = self.p1.q.val();
        self.aram.write_data.next = self.sum.q.val();
        self.o_dly.write_enable.next = true;
        self.o_dly.write_address.next = self.o_wp.q.val();
        self.o_dly.write_data.next = self.o_tag.val();
        self.o_dly.read_address.next = self.o_wp.q.val() + self.o_back.val();
        self.o_wp.d.next = self.o_wp.q.val() + 1;
        for c in 0..self.rq.len() {
            self.acc_ext[c].a.next = self.sum.q.val().get_bits::<ACC>(self.acc_w.val().index() * c);
            self.rq[c].valid.next = self.v1.q.val() && self.last1.q.val();
            self.rq[c].last.next = self.end1.q.val();
            self.rq[c].acc.next = self.acc_ext[c].y.val();
            if self.param_regs.val() {
                self.rq[c].bias.next = self.bias1.q.val().get_bits::<32>(32 * c);
                self.rq[c].shift.next = self.shift1.q.val().get_bits::<6>(6 * c);
                self.rq[c].m0.next = self.m0_1.q.val().get_bits::<32>(32 * c);
            } else {
                self.rq[c].bias.next = self.bram.read_data.val().get_bits::<32>(32 * c);
                self.rq[c].shift.next = self.sram.read_data.val().get_bits::<6>(6 * c);
                self.rq[c].m0.next = self.mram.read_data.val().get_bits::<32>(32 * c);
            }
            self.rq[c].out_zp.next = self.out_zp.q.val();
            self.rq[c].act_min.next = self.act_min.q.val();
            self.rq[c].act_max.next = self.act_max.q.val();
            self.byte_ext[c].a.next = self.rq[c].out.val();
        }
        self.byte_pack[0].next = self.byte_ext[0].y.val() << self.top8.val();
        for c in 1..self.byte_pack.len() {
            self.byte_pack[c].next =
                (self.byte_pack[c - 1].val() >> 8) | (self.byte_ext[c].y.val() << self.top8.val());
        }
        self.oram.write_data.next = self.byte_pack[0].val();
        for c in 1..self.byte_pack.len() {
            self.oram.write_data.next = self.byte_pack[c].val();
        }
        // Every lane's requantizer carries the same valid and end flag.
        self.rq_valid.next = true;
        self.rq_last.next = true;
        for c in 0..self.rq.len() {
            self.rq_valid.next = self.rq_valid.val() && self.rq[c].out_valid.val();
            self.rq_last.next = self.rq_last.val() && self.rq[c].out_last.val();
        }
        self.oram.write_enable.next = self.rq_valid.val();
        self.oram.write_address.next = self.o_dly.read_data.val();
        self.set_ofull.next = self.rq_valid.val() && self.rq_last.val();

        // ---- Output side: words of the full output bank, pixel-major, through the FIFO.
        if self.obank.q.val() {
            self.o_full_now.next = self.ofull1.q.val();
            self.oram.read_address.next = self.o_rd.q.val() | self.obank_bit.val();
        } else {
            self.o_full_now.next = self.ofull0.q.val();
            self.oram.read_address.next = self.o_rd.q.val();
        }
        self.pop.next = self.fifo.out.tvalid.val() && self.out.tready.val();
        self.o_issue.next = self.o_full_now.val() && (self.credits.q.val() < self.fifo_depth.val());
        self.clr_ofull.next = false;
        self.issued.d.next = self.o_issue.val();
        self.issued_last.d.next = false;
        if self.o_issue.val() {
            self.o_rd.d.next = self.o_rd.q.val() + 1;
            self.o_j.d.next = (self.o_j.q.val() + 1) & self.cmask.val();
            if (self.o_j.q.val() + 1) == self.nt.q.val() {
                self.o_j.d.next = 0.into();
                self.o_p.d.next = (self.o_p.q.val() + 1) & self.cmask.val();
                if (self.o_p.q.val() + 1) == self.o_bsz_v.val() {
                    self.clr_ofull.next = true;
                    self.o_p.d.next = 0.into();
                    self.o_rd.d.next = 0.into();
                    self.obank.d.next = !self.obank.q.val();
                    self.o_left.d.next = self.o_rest.val();
                    if bit_cast::<24, 16>(self.blk.q.val()) < self.o_rest.val() {
                        self.o_bsz.d.next = self.blk.q.val();
                    } else {
                        self.o_bsz.d.next = self.o_rest.val().get_bits::<16>(0) & self.cmask.val();
                    }
                    self.issued_last.d.next =
                        self.o_left_v.val() == bit_cast::<24, 16>(self.o_bsz_v.val());
                }
            }
        }
        if self.o_issue.val() && !self.pop.val() {
            self.credits.d.next = self.credits.q.val() + 1;
        } else if !self.o_issue.val() && self.pop.val() {
            self.credits.d.next = self.credits.q.val() - 1;
        }
        self.ofull0.d.next = (self.ofull0.q.val()
            || (self.set_ofull.val() && !(self.o_dly.read_data.val() & self.obank_bit.val()).any()))
            && !(self.clr_ofull.val() && !self.obank.q.val());
        self.ofull1.d.next = (self.ofull1.q.val()
            || (self.set_ofull.val() && (self.o_dly.read_data.val() & self.obank_bit.val()).any()))
            && !(self.clr_ofull.val() && self.obank.q.val());
        // An output bank is in use from the start of its block's compute until its last word
        // is read out (results in flight included).
        self.oused0.d.next = (self.oused0.q.val() || (self.c_claim.val() && !self.cbank.q.val()))
            && !(self.clr_ofull.val() && !self.obank.q.val());
        self.oused1.d.next = (self.oused1.q.val() || (self.c_claim.val() && self.cbank.q.val()))
            && !(self.clr_ofull.val() && self.obank.q.val());
        self.fifo.inp.tvalid.next = self.issued.q.val();
        self.fifo.inp.tdata.next = self.oram.read_data.val();
        self.fifo.inp.tlast.next = self.issued_last.q.val();
        self.out.tvalid.next = self.fifo.out.tvalid.val();
        self.out.tdata.next = self.fifo.out.tdata.val();
        self.out.tlast.next = self.fifo.out.tlast.val();
        self.fifo.out.tready.next = self.out.tready.val();
        if self.pop.val() && self.fifo.out.tlast.val() {
            self.running.d.next = false;
        }
        // The credits keep the FIFO from filling; a refused push would be a design error.
        if self.issued.q.val() && !self.fifo.inp.tready.val() {
            self.err.d.next = true;
        }
        // A write still in the port register counts as busy (a START about to run).
        self.busy.next = self.running.q.val() || self.port.valid.val();
        self.error.next = self.err.q.val();
        self.last_error.next = self.last_err.q.val();
        self.out_fill.next = self.fifo.count.val();
    }
}
