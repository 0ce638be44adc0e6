//! SlidingWindow: streaming `Dk×Dk` window generator (`Dk ≥ 3`, odd) with TF SAME padding, stride 1 or 2 and
//! `P` channels per beat — the front end of the depthwise engine and of the im2col baseline.
//!
//! **Streams.** Input: beats of `P` int8 channels (`tdata` = `8·P` bits, lane `l` at bits
//! `8l..8l+8`), pixels in raster order, `G = M/P` beats per pixel (group `g` = channels
//! `gP..gP+P`). Output: one window per beat, `Dk²·8·P` bits, tap `t = i·Dk + j` (row `i`, column
//! `j`) at bits `t·8P..`, lane `l` inside it at `+8l`; windows in the order of
//! [`dsc_model::window::extract_windows`] (output pixels row-major, then groups); padded taps
//! hold `in_zp`; `tlast` on the last window of the frame; `tdata` is undefined while `tvalid`
//! is low. `tlast` on the input is checked, not needed: a beat whose `tlast` disagrees with
//! the frame geometry sets the sticky `last_error`.
//!
//! **Storage.** `Dk − 1` line buffers ([`SdpRam`], block RAM, `W·G` words of `8P` bits used)
//! hold the previous rows; line buffer `k` holds row `r − 1 − k` and is shifted into `k + 1`
//! as it is read. Each window row ([`WindowRow`]) keeps its `Dk − 1` older columns per group
//! in `G`-deep RAMs (registers when `G = 1`). The window register is the `Dk²` tap registers
//! ([`TapReg`]), which hold the masked taps. With write registers (the default,
//! [`SlidingWindow::with_write_regs`]) every RAM is written an edge late and read through a
//! second register ([`SdpRam::with_read_stage`]): its read address is that of the position
//! after next, and only a flip-flop follows each block RAM.
//!
//! **Timing — one position per cycle.** `start` (one cycle) latches `height`, `width`,
//! `last_group = G − 1`, `stride2` and `in_zp`. Cycle 0 after it primes the RAM read
//! addresses. Then the block scans the positions `(r, c, g)` in raster order: rows
//! `r < H + half` (`half = (Dk − 1)/2`, the SAME padding after the image for every size and
//! stride 1 or 2), columns `c < Wp = max(W, half)` — `c < W + half` on the last row — and
//! groups `g < G`: `N = ((H + half − 1)·Wp + W + half)·G` positions
//! ([`dsc_model::window::WindowLayer::scan_positions`]). A position with `r < H` and `c < W`
//! consumes one input beat; the others (bottom padding rows, the last row's right padding)
//! consume none. A position emits the window whose bottom-right tap is `(r, c)` when `(r, c)`
//! lies on the stride grid (`r, c ≥ Dk − 1 − pad_before`, stepping by the stride) — or, for
//! `c < half`, the window of the previous row whose bottom-right tap is the padding column
//! `Wp + c` (see [`AxisScan`]'s wrap registers): the right padding windows of a row leave while
//! the next row's first beats arrive, built from the column history (ages `> c` still hold the
//! previous row's last columns; the younger ones are padding). Window `(oy, ox, g)` comes from
//! position `(r·Wp + c)·G + g` with `(r, c)` its bottom-right tap
//! ([`dsc_model::window::WindowLayer::emit_positions`]). A position takes one cycle unless it
//! needs an input beat that is not valid, or emits while the output holds an unaccepted window
//! and `out.tready` is low. Without stalls, position `n` is scanned in cycle `n + 1` and its
//! window is on `out` in cycle `n + 2`; the last position always emits, so the frame's last
//! window is on `out` in cycle `N + 1`. At stride 1 (`W ≥ half`) every position from
//! `(half, half)` on emits: `H·W·G` windows in consecutive cycles, after the `half·(W + 1)·G`
//! beats the first window needs — the least an input of one beat per cycle allows. At stride 2
//! the input (one beat per cycle) limits the output to a quarter of that on average.
//!
//! **Handshake.** `in.tready = running ∧ real position ∧ (¬emits ∨ out register free)`, where
//! the register is free when empty or `out.tready` is high: `in.tready` depends
//! combinationally on `out.tready` (never on `in.tvalid`). Put a `SkidBuffer` on either side
//! where a registered `tready` is needed. `start` aborts a frame in progress.
//!
//! **Several pixels per beat.** [`WideWindow`] (`wide.rs`) is the generator for an input port
//! of `Q > 1` pixels per beat: line buffers written a word of `Q` pixels per cycle, windows
//! read from them one per cycle at stride 1 and 2 — the same windows in the same order.
//!
//! **Runtime values** must satisfy [`dsc_model::window::WindowLayer`]'s checks
//! (`1 ≤ H, W ≤` max, `W·G ≤` line depth, `G ≥ 1`): a size of 0 is not detected here.

mod axis;
mod row;
mod tap;
mod wide;

#[cfg(test)]
mod tests;

pub use axis::AxisScan;
pub use row::WindowRow;
pub use tap::TapReg;
pub use wide::{wide_addr_bits, WideWindow};

use crate::primitives::SdpRam;
use crate::stream::{StreamIn, StreamOut};
use dsc_model::window::{WindowConfig, WindowLayer};
use dsc_model::ModelError;
use rust_hdl::prelude::*;

/// The window generator. The const generics are fixed by the [`WindowConfig`] (checked by
/// [`SlidingWindow::new`]): `BEAT = 8P`, `WIN = Dk²·BEAT`, `LADDR` = line-buffer address bits,
/// `GADDR` = group bits, `CB` = position-counter bits (see [`WindowConfig`]'s `*_bits`), and
/// `DK` = `Dk`, the width of the row/column validity flags. `P` and `Dk` also set the lengths
/// of the row, line-buffer and tap vectors.
#[derive(LogicBlock)]
pub struct SlidingWindow<
    const BEAT: usize,
    const WIN: usize,
    const LADDR: usize,
    const GADDR: usize,
    const CB: usize,
    const DK: usize,
> {
    pub clock: Signal<In, Clock>,
    /// One-cycle pulse: latch the layer inputs below and start a frame (aborts any frame).
    pub start: Signal<In, Bit>,
    /// Input height `H`.
    pub height: Signal<In, Bits<CB>>,
    /// Input width `W`.
    pub width: Signal<In, Bits<CB>>,
    /// `M/P − 1`: the last channel group.
    pub last_group: Signal<In, Bits<GADDR>>,
    /// Stride 2 (else 1).
    pub stride2: Signal<In, Bit>,
    /// Input zero point, the value of padded taps.
    pub in_zp: Signal<In, Bits<8>>,
    /// Input beats.
    pub inp: StreamIn<BEAT>,
    /// Windows.
    pub out: StreamOut<WIN>,
    /// A frame is in progress (from `start` until its last window has left).
    pub busy: Signal<Out, Bit>,
    /// Sticky since `start`: an input beat's `tlast` disagreed with the frame geometry.
    pub last_error: Signal<Out, Bit>,
    rowscan: AxisScan<CB, DK>,
    colscan: AxisScan<CB, DK>,
    line_buffers: Vec<SdpRam<BEAT, LADDR>>,
    /// The line buffers' read address this cycle.
    lb_raddr: Signal<Local, Bits<LADDR>>,
    /// The RAMs write an edge late and read through a second register
    /// ([`SlidingWindow::with_write_regs`]): their read addresses are two positions ahead.
    read_ahead: Constant<Bit>,
    /// `rows[m]`: the window row of input row `r − m` (`rows[0]` = the bottom row).
    rows: Vec<WindowRow<BEAT, WIN, GADDR, DK>>,
    prime: DFF<Bit>,
    run: DFF<Bit>,
    group: DFF<Bits<GADDR>>,
    /// The group after `group` (0 after the last), kept in a register so that the history
    /// RAMs' read address is a mux behind `fire`, not an adder and a comparator.
    group_succ: DFF<Bits<GADDR>>,
    /// The group after `group_succ`, and whether it is the last group: the history RAMs'
    /// read address and the line buffers' row end two positions ahead (`read_ahead`).
    group_succ2: DFF<Bits<GADDR>>,
    group_end_succ: DFF<Bit>,
    last_group_r: DFF<Bits<GADDR>>,
    /// `group == last_group_r`, kept one position ahead like `group_succ`: it gates the
    /// column scan's step and load.
    group_end_r: DFF<Bit>,
    lb_addr: DFF<Bits<LADDR>>,
    /// `lb_addr + 1`, kept beside it (for Fmax: no carry chain in front of the line buffers'
    /// read address pins).
    lb_succ: DFF<Bits<LADDR>>,
    /// `lb_addr + 2` (`read_ahead`).
    lb_succ2: DFF<Bits<LADDR>>,
    zp_beat: DFF<Bits<BEAT>>,
    out_valid: DFF<Bit>,
    out_last: DFF<Bit>,
    error: DFF<Bit>,
    fire: Signal<Local, Bit>,
    is_real: Signal<Local, Bit>,
    emit: Signal<Local, Bit>,
    wrap: Signal<Local, Bit>,
    /// The group after `group_succ`: what `group_succ` becomes when the scan moves on.
    succ_succ: Signal<Local, Bits<GADDR>>,
    /// The group after `group_succ2`.
    succ3: Signal<Local, Bits<GADDR>>,
    row_end: Signal<Local, Bit>,
    /// The next position ends its row.
    next_row_end: Signal<Local, Bit>,
    slot_free: Signal<Local, Bit>,
    /// `lb_src[m]`: the word of input row `r − m` at this position (`lb_src[0]` = the input
    /// beat, `lb_src[k + 1]` = line buffer `k`'s read data).
    lb_src: Vec<Signal<Local, Bits<BEAT>>>,
    /// `in_zp` repeated: `zp_chain[l]` holds `l + 1` copies.
    zp_chain: Vec<Signal<Local, Bits<BEAT>>>,
    win_chain: Vec<Signal<Local, Bits<WIN>>>,
    row_shift: Constant<Bits<16>>,
    /// `row_masks[m]` = bit `m`: selects row flag `m` with an AND (a bit-select needs an
    /// index expression rust-hdl cannot evaluate here).
    row_masks: Vec<Constant<Bits<DK>>>,
}

/// The default window of the issue: 3×3, width 112 (height 112), 8 channels per beat, up to 64
/// channels (MobileNet-v1 at width 112), 896-beat line buffers.
pub type DefaultWindow = SlidingWindow<64, 576, 10, 3, 7, 3>;

impl<
        const BEAT: usize,
        const WIN: usize,
        const LADDR: usize,
        const GADDR: usize,
        const CB: usize,
        const DK: usize,
    > SlidingWindow<BEAT, WIN, LADDR, GADDR, CB, DK>
{
    /// The block for `cfg`. Errors when a const generic disagrees with the width `cfg`
    /// derives (a wrong instantiation), or for `Dk = 1`, which the model accepts but which
    /// needs no window generator.
    pub fn new(cfg: &WindowConfig) -> Result<Self, ModelError> {
        let want = [
            ("BEAT", BEAT, cfg.beat_bits()),
            ("WIN", WIN, cfg.window_bits()),
            ("LADDR", LADDR, cfg.line_addr_bits()),
            ("GADDR", GADDR, cfg.group_bits()),
            ("CB", CB, cfg.coord_bits()),
            ("DK", DK, cfg.dk()),
        ];
        for (name, have, need) in want {
            if have != need {
                return Err(ModelError::InvalidParameter(format!(
                    "SlidingWindow: {name} = {have} but the config needs {need}"
                )));
            }
        }
        if cfg.dk() < 3 {
            return Err(ModelError::InvalidParameter(
                "SlidingWindow: Dk = 1 has no window to slide (each window is the input beat \
                 itself); the generator is built for Dk ≥ 3"
                    .into(),
            ));
        }
        let dk = cfg.dk();
        Ok(Self {
            clock: Default::default(),
            start: Default::default(),
            height: Default::default(),
            width: Default::default(),
            last_group: Default::default(),
            stride2: Default::default(),
            in_zp: Default::default(),
            inp: Default::default(),
            out: Default::default(),
            busy: Default::default(),
            last_error: Default::default(),
            rowscan: AxisScan::new(),
            colscan: AxisScan::new(),
            line_buffers: (1..dk).map(|_| line_buffer(true)).collect(),
            rows: (0..dk).map(|_| WindowRow::new()).collect(),
            prime: Default::default(),
            run: Default::default(),
            group: Default::default(),
            group_succ: Default::default(),
            group_succ2: Default::default(),
            group_end_succ: Default::default(),
            last_group_r: Default::default(),
            group_end_r: Default::default(),
            lb_addr: Default::default(),
            lb_succ: Default::default(),
            lb_succ2: Default::default(),
            zp_beat: Default::default(),
            out_valid: Default::default(),
            out_last: Default::default(),
            error: Default::default(),
            fire: Default::default(),
            is_real: Default::default(),
            emit: Default::default(),
            wrap: Default::default(),
            succ_succ: Default::default(),
            succ3: Default::default(),
            row_end: Default::default(),
            next_row_end: Default::default(),
            slot_free: Default::default(),
            lb_src: (0..dk).map(|_| Default::default()).collect(),
            lb_raddr: Default::default(),
            read_ahead: Constant::new(true),
            zp_chain: (0..cfg.lanes()).map(|_| Default::default()).collect(),
            win_chain: (0..dk).map(|_| Default::default()).collect(),
            row_shift: Constant::new((cfg.row_bits() as u64).into()),
            row_masks: (0..dk)
                .map(|m| Constant::new(Bits::<DK>::default().replace_bit(m, true)))
                .collect(),
        })
    }

    /// The same block with each row's history columns in one RAM word when `packed`
    /// ([`WindowRow::packed`]): fewer block RAMs, same values and cycles.
    pub fn with_packed_history(mut self, packed: bool) -> Self {
        if packed {
            let on = self.read_ahead.val();
            self.rows = (0..self.rows.len()).map(|_| WindowRow::packed().with_write_regs(on)).collect();
        }
        self
    }

    /// The same block with its line-buffer and history RAMs written an edge late from
    /// registers and read through a second register (`on`, the default:
    /// [`SdpRam::with_late_write`], [`SdpRam::with_read_stage`]; the read addresses are then
    /// those of the position after next) or written in the position's own cycle and read into
    /// the block RAM's register only: same values and cycles; on, nothing but a flip-flop
    /// follows a block RAM (ECP5 Fmax), off, fewer flip-flops (`[engine] ram_regs`).
    pub fn with_write_regs(mut self, on: bool) -> Self {
        self.read_ahead = Constant::new(on);
        self.line_buffers = self.line_buffers.iter().map(|_| line_buffer(on)).collect();
        self.rows = std::mem::take(&mut self.rows).into_iter().map(|r| r.with_write_regs(on)).collect();
        self
    }

    /// Drives the layer inputs (`height`, `width`, `last_group`, `stride2`, `in_zp`) for
    /// `layer` — what the engine's config port will do; `start` is left to the caller.
    pub fn set_layer(&mut self, layer: &WindowLayer, in_zp: i8) {
        self.height.next = (layer.height as u64).into();
        self.width.next = (layer.width as u64).into();
        self.last_group.next = ((layer.groups - 1) as u64).into();
        self.stride2.next = layer.stride == 2;
        self.in_zp.next = (in_zp as u8 as u64).into();
    }
}

/// A line buffer: with `regs` written late and read through a second register (its read
/// address is then the position after next's).
fn line_buffer<const DATA: usize, const ADDR: usize>(regs: bool) -> SdpRam<DATA, ADDR> {
    SdpRam::default().with_late_write(regs).with_read_stage(regs)
}

impl<
        const BEAT: usize,
        const WIN: usize,
        const LADDR: usize,
        const GADDR: usize,
        const CB: usize,
        const DK: usize,
    > Logic for SlidingWindow<BEAT, WIN, LADDR, GADDR, CB, DK>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            prime,
            run,
            group,
            group_succ,
            group_succ2,
            group_end_succ,
            last_group_r,
            group_end_r,
            lb_addr,
            lb_succ,
            lb_succ2,
            zp_beat,
            out_valid,
            out_last,
            error
        );
        clock!(self, clock, rowscan, colscan);
        // Position state.
        self.is_real.next = self.rowscan.at_real.val() && self.colscan.at_real.val();
        // A wrap position also emits the previous row's window over its right padding.
        self.wrap.next = self.rowscan.prev_emit.val() && self.colscan.wrap_emit.val();
        self.emit.next = (self.rowscan.emit.val() && self.colscan.emit.val()) || self.wrap.val();
        self.row_end.next = self.group_end_r.q.val() && self.colscan.at_end.val();
        self.slot_free.next = !self.out_valid.q.val() || self.out.tready.val();
        self.fire.next = self.run.q.val()
            && (!self.is_real.val() || self.inp.tvalid.val())
            && (!self.emit.val() || self.slot_free.val());
        self.inp.tready.next =
            self.run.q.val() && self.is_real.val() && (!self.emit.val() || self.slot_free.val());
        // Axis scans: columns restart every row, rows every frame.
        self.colscan.size.next = self.width.val();
        self.colscan.stride2.next = self.stride2.val();
        self.colscan.extend.next = self.rowscan.at_end.val();
        self.colscan.carry.next = !self.start.val();
        self.colscan.load.next = self.start.val() || (self.fire.val() && self.row_end.val());
        self.colscan.step.next = self.fire.val() && self.group_end_r.q.val();
        self.rowscan.size.next = self.height.val();
        self.rowscan.stride2.next = self.stride2.val();
        self.rowscan.extend.next = true;
        self.rowscan.carry.next = false;
        self.rowscan.load.next = self.start.val();
        self.rowscan.step.next = self.fire.val() && self.row_end.val();
        // Group and line-buffer address of the next position.
        if self.group_succ.q.val() == self.last_group_r.q.val() {
            self.succ_succ.next = 0.into();
        } else {
            self.succ_succ.next = self.group_succ.q.val() + 1;
        }
        if self.group_succ2.q.val() == self.last_group_r.q.val() {
            self.succ3.next = 0.into();
        } else {
            self.succ3.next = self.group_succ2.q.val() + 1;
        }
        // The next position ends the row: it is the last group, in this column when this one
        // is not the last group, else in the next one.
        if self.group_end_r.q.val() {
            self.next_row_end.next = self.group_end_succ.q.val() && self.colscan.next_at_end.val();
        } else {
            self.next_row_end.next = self.group_end_succ.q.val() && self.colscan.at_end.val();
        }
        if self.fire.val() {
            self.group.d.next = self.group_succ.q.val();
            self.group_succ.d.next = self.succ_succ.val();
            self.group_succ2.d.next = self.succ3.val();
            // (Not from `group_end_succ`: without `read_ahead` synthesis then drops it.)
            self.group_end_r.d.next = self.group_succ.q.val() == self.last_group_r.q.val();
            self.group_end_succ.d.next = self.group_succ2.q.val() == self.last_group_r.q.val();
            if self.row_end.val() {
                self.lb_addr.d.next = 0.into();
                self.lb_succ.d.next = 1.into();
                self.lb_succ2.d.next = 2.into();
            } else if self.colscan.at_real.val() {
                self.lb_addr.d.next = self.lb_succ.q.val();
                self.lb_succ.d.next = self.lb_succ.q.val() + 1;
                self.lb_succ2.d.next = self.lb_succ2.q.val() + 1;
            }
            if self.is_real.val() {
                self.error.d.next = self.error.q.val()
                    || (self.inp.tlast.val()
                        != (self.rowscan.at_last_real.val()
                            && self.colscan.at_last_real.val()
                            && self.group_end_r.q.val()));
            }
            if self.row_end.val() && self.rowscan.at_end.val() {
                self.run.d.next = false;
            }
        }
        self.lb_src[0].next = self.inp.tdata.val();
        // Line buffers: write this position's column and shift each buffer's word into the
        // next one; read the next position's word when this one is consumed (the output holds
        // while stalled), or this one's in the priming cycle. The address does not depend on
        // `fire` — only the read enable does — so the handshake's logic stays off the block
        // RAMs' address pins (the window rows' history RAMs read the same way). With
        // `read_ahead` the word read lands a position later: the address is the position
        // after next's (priming: position 1's, as position 0 emits nothing and reads masked
        // taps only — its first row and column).
        if self.read_ahead.val() {
            if self.prime.q.val() || self.row_end.val() {
                self.lb_raddr.next = 1.into();
            } else if self.next_row_end.val() {
                self.lb_raddr.next = 0.into();
            } else {
                self.lb_raddr.next = self.lb_succ2.q.val();
            }
        } else if self.prime.q.val() {
            self.lb_raddr.next = self.lb_addr.q.val();
        } else if self.row_end.val() {
            self.lb_raddr.next = 0.into();
        } else {
            self.lb_raddr.next = self.lb_succ.q.val();
        }
        for k in 0..self.line_buffers.len() {
            self.line_buffers[k].clock.next = self.clock.val();
            self.line_buffers[k].write_address.next = self.lb_addr.q.val();
            self.line_buffers[k].write_enable.next = self.fire.val() && self.colscan.at_real.val();
            self.line_buffers[k].write_data.next = self.lb_src[k].val();
            self.line_buffers[k].read_enable.next = self.fire.val() || self.prime.q.val();
            self.line_buffers[k].read_address.next = self.lb_raddr.val();
            self.lb_src[k + 1].next = self.line_buffers[k].read_data.val();
        }
        // Window rows.
        for m in 0..self.rows.len() {
            self.rows[m].new_tap.next = self.lb_src[m].val();
            self.rows[m].clock.next = self.clock.val();
            if self.wrap.val() {
                self.rows[m].row_inside.next =
                    (self.rowscan.prev_flags.val() & self.row_masks[m].val()).any();
                self.rows[m].col_flags.next = self.colscan.wrap_flags.val();
            } else {
                self.rows[m].row_inside.next =
                    (self.rowscan.flags.val() & self.row_masks[m].val()).any();
                self.rows[m].col_flags.next = self.colscan.flags.val();
            }
            self.rows[m].zp.next = self.zp_beat.q.val();
            self.rows[m].write_group.next = self.group.q.val();
            self.rows[m].write.next = self.fire.val();
            // The tap registers load whenever the output register is free, not only when a
            // window is emitted: `out.tdata` is undefined while `out.tvalid` is low, and the
            // enable of these `WIN` flip-flops stays off the handshake (`fire`'s inputs).
            self.rows[m].load.next = self.slot_free.val();
            self.rows[m].read.next = self.fire.val() || self.prime.q.val();
            if self.read_ahead.val() {
                if self.prime.q.val() {
                    self.rows[m].read_group.next = self.group_succ.q.val();
                } else {
                    self.rows[m].read_group.next = self.group_succ2.q.val();
                }
            } else if self.prime.q.val() {
                self.rows[m].read_group.next = self.group.q.val();
            } else {
                self.rows[m].read_group.next = self.group_succ.q.val();
            }
        }
        // Pack the registered rows, bottom row first so the top row ends at bit 0.
        self.win_chain[0].next = self.rows[0].taps.val();
        self.out.tdata.next = self.win_chain[0].val();
        for m in 1..self.win_chain.len() {
            self.win_chain[m].next =
                (self.win_chain[m - 1].val() << self.row_shift.val()) | self.rows[m].taps.val();
            self.out.tdata.next = self.win_chain[m].val();
        }
        // Output valid/last; the data registers are the rows' tap registers.
        if self.out.tready.val() {
            self.out_valid.d.next = false;
        }
        if self.fire.val() && self.emit.val() {
            self.out_valid.d.next = true;
            self.out_last.d.next = self.rowscan.last_emit.val()
                && self.colscan.last_emit.val()
                && self.group_end_r.q.val();
        }
        self.out.tvalid.next = self.out_valid.q.val();
        self.out.tlast.next = self.out_last.q.val();
        self.busy.next = self.prime.q.val() || self.run.q.val() || self.out_valid.q.val();
        self.last_error.next = self.error.q.val();
        // Zero point in every lane, latched at start.
        self.zp_chain[0].next = bit_cast::<BEAT, 8>(self.in_zp.val());
        for l in 1..self.zp_chain.len() {
            self.zp_chain[l].next =
                (self.zp_chain[l - 1].val() << 8) | bit_cast::<BEAT, 8>(self.in_zp.val());
        }
        // Frame start: prime one cycle, then run.
        self.prime.d.next = self.start.val();
        if self.prime.q.val() {
            self.run.d.next = true;
        }
        if self.start.val() {
            self.run.d.next = false;
            self.out_valid.d.next = false;
            self.error.d.next = false;
            self.group.d.next = 0.into();
            // Groups 1 and 2 modulo `G = last_group + 1`.
            if self.last_group.val() == 0 {
                self.group_succ.d.next = 0.into();
                self.group_succ2.d.next = 0.into();
            } else if self.last_group.val() == 1 {
                self.group_succ.d.next = 1.into();
                self.group_succ2.d.next = 0.into();
            } else {
                self.group_succ.d.next = 1.into();
                self.group_succ2.d.next = 2.into();
            }
            self.group_end_r.d.next = self.last_group.val() == 0;
            self.group_end_succ.d.next = (self.last_group.val() == 0) || (self.last_group.val() == 1);
            self.lb_addr.d.next = 0.into();
            self.lb_succ.d.next = 1.into();
            self.lb_succ2.d.next = 2.into();
            self.last_group_r.d.next = self.last_group.val();
            for l in 0..self.zp_chain.len() {
                self.zp_beat.d.next = self.zp_chain[l].val();
            }
        }
    }
}
