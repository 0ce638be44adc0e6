//! WideWindow: the window generator for an input port of `Q > 1` pixels per beat — one
//! `Dk×Dk` window per cycle at stride 1 *and* 2, where [`SlidingWindow`](super::SlidingWindow)
//! scans every input position (one beat of one pixel per cycle, so a quarter of that at
//! stride 2).
//!
//! **Streams.** Input: beats of `8·P·Q` bits, the `P` channels of group `g` of `Q` adjacent
//! pixels (pixel `q` at bits `q·8P..`, lane `l` at `+8l`), in the order (row, word, group); a
//! row is `WB = ceil(W/Q)` words, and when `Q` does not divide `W` the bytes past the row's end
//! in its last word are ignored. Output: the windows of `SlidingWindow` (same bits, same order:
//! output pixels row-major, then groups; padded taps hold `in_zp`; `tlast` on the last).
//! `tlast` on the input is checked: a disagreement sets the sticky `last_error`.
//!
//! **Storage.** `NB = Dk + 2` line buffers in a ring (row `r` in buffer `r mod NB`), each two
//! [`SdpRam`] banks of `Q`-pixel words: word `w` goes to bank `(w + 1) mod 2` at address
//! `((w + 1)/2)·G + g`, so any two adjacent words sit in different banks and are read in one
//! cycle. A window row is cut from those `2Q` pixels at the window's offset by a
//! [`RowCut`] (a mux of `Q` constant slices, `Dk·8P` bits wide whatever `Q`), which needs
//! `Dk ≤ Q + 1` (see `EngineConfig::with_pixels_per_beat`).
//!
//! **Timing.** A writer and a reader run side by side (see [`dsc_model::wide_window`], whose
//! [`last_window_cycle`](dsc_model::wide_window::last_window_cycle) steps the same counters):
//! the writer takes a beat per cycle while its row has a free buffer (`wrow < rel + NB`); the
//! reader emits one window per cycle (output `(oy, ox, g)` from columns `ox·s − pad_left ..`)
//! once the rows of its output row are written — the last of them only up to the beat of the
//! window's rightmost column — as seen a cycle late (`seen`, `seen_beats` = the writer's row
//! and beat counters registered: a write lands before the read that uses it), and releases rows
//! at the end of each output row. The reader's RAM read address is its current position's, or the next
//! position's in a cycle it emits, so the read data always belongs to the current window.
//!
//! **Handshake.** `in.tready` is registered state only; a window moves into the output
//! register when it is empty or `out.tready` is high. `start` (one cycle) latches the geometry
//! (`height`, `width`, `last_group`, `stride2`, `in_zp` must hold during the frame) and aborts
//! a frame in progress; one cycle later the frame runs.

use crate::primitives::{RowCut, SdpRam};
use crate::stream::{StreamIn, StreamOut};
use dsc_model::engine_config::EngineConfig;
use dsc_model::wide_window::{bank_addr_bits, line_buffers};
use dsc_model::ModelError;
use rust_hdl::prelude::*;

/// The wide window generator. Const generics (checked by [`WideWindow::new`]): `BEAT = 8P`,
/// `IBEAT = 8PQ` (the input beat), `WIN = Dk²·8P`, `WADDR` = bank address bits
/// ([`dsc_model::wide_window::bank_addr_bits`]), `GADDR` = group bits, `CB` = coordinate bits
/// (the [`dsc_model::window::WindowConfig`] widths).
#[derive(LogicBlock)]
pub struct WideWindow<
    const BEAT: usize,
    const IBEAT: usize,
    const WIN: usize,
    const WADDR: usize,
    const GADDR: usize,
    const CB: usize,
> {
    pub clock: Signal<In, Clock>,
    pub start: Signal<In, Bit>,
    pub height: Signal<In, Bits<CB>>,
    pub width: Signal<In, Bits<CB>>,
    pub last_group: Signal<In, Bits<GADDR>>,
    pub stride2: Signal<In, Bit>,
    pub in_zp: Signal<In, Bits<8>>,
    pub inp: StreamIn<IBEAT>,
    pub out: StreamOut<WIN>,
    pub busy: Signal<Out, Bit>,
    pub last_error: Signal<Out, Bit>,
    /// `bank0[k]`, `bank1[k]`: the two banks of line buffer `k`.
    bank0: Vec<SdpRam<IBEAT, WADDR>>,
    bank1: Vec<SdpRam<IBEAT, WADDR>>,
    prime: DFF<Bit>,
    // Writer: rows completely written, word and group of the next beat, its bank/base, buffer.
    wrun: DFF<Bit>,
    wrow: DFF<Bits<16>>,
    wword: DFF<Bits<16>>,
    wg: DFF<Bits<GADDR>>,
    wbank: DFF<Bit>,
    wbase: DFF<Bits<WADDR>>,
    wbuf: DFF<Bits<8>>,
    /// Beats written in the current row.
    wbeats: DFF<Bits<16>>,
    // Reader: `top` = rows the output row needs (`oy·s − pad_top + Dk`), `tb` = buffer of its
    // top row, output row/column/group, shifted column `xs = ox·s − pad_left + Q`, its offset
    // in the low word, the low word's bank, both banks' word bases; `seen` = `wrow` delayed.
    rrun: DFF<Bit>,
    top: DFF<Bits<16>>,
    tb: DFF<Bits<8>>,
    orow: DFF<Bits<16>>,
    ocol: DFF<Bits<16>>,
    rg: DFF<Bits<GADDR>>,
    xs: DFF<Bits<16>>,
    off: DFF<Bits<8>>,
    rpar: DFF<Bit>,
    rbase0: DFF<Bits<WADDR>>,
    rbase1: DFF<Bits<WADDR>>,
    seen: DFF<Bits<16>>,
    seen_beats: DFF<Bits<16>>,
    /// `(word of the window's rightmost column)·G`, and that column's offset in its word.
    need_base: DFF<Bits<16>>,
    roff: DFF<Bits<8>>,
    out_valid: DFF<Bit>,
    out_last: DFF<Bit>,
    out_data: DFF<Bits<WIN>>,
    error: DFF<Bit>,
    zp_reg: DFF<Bits<WIN>>,
    // Geometry.
    h16: Signal<Local, Bits<16>>,
    w16: Signal<Local, Bits<16>>,
    s16: Signal<Local, Bits<16>>,
    pad_top: Signal<Local, Bits<16>>,
    pad_left: Signal<Local, Bits<16>>,
    // The stride and paddings again at the 8 bits of the offset and buffer registers (a
    // narrowing `bit_cast` is not a truncation in rust-hdl's Verilog).
    s8: Signal<Local, Bits<8>>,
    pad_top8: Signal<Local, Bits<8>>,
    pad_left8: Signal<Local, Bits<8>>,
    wb_m1: Signal<Local, Bits<16>>,
    wo_m1: Signal<Local, Bits<16>>,
    ho_m1: Signal<Local, Bits<16>>,
    gcount: Signal<Local, Bits<WADDR>>,
    xs0: Signal<Local, Bits<16>>,
    off0: Signal<Local, Bits<8>>,
    rpar0: Signal<Local, Bit>,
    rbase0_0: Signal<Local, Bits<WADDR>>,
    tb0: Signal<Local, Bits<8>>,
    g16: Signal<Local, Bits<16>>,
    xr0: Signal<Local, Bits<16>>,
    xr0_8: Signal<Local, Bits<8>>,
    roff0: Signal<Local, Bits<8>>,
    need_base0: Signal<Local, Bits<16>>,
    nroff: Signal<Local, Bits<8>>,
    rows_ok: Signal<Local, Bit>,
    part_ok: Signal<Local, Bit>,
    // Writer control.
    rel: Signal<Local, Bits<16>>,
    wok: Signal<Local, Bit>,
    wfire: Signal<Local, Bit>,
    wg_end: Signal<Local, Bit>,
    waddr: Signal<Local, Bits<WADDR>>,
    // Reader control.
    need: Signal<Local, Bits<16>>,
    slot_free: Signal<Local, Bit>,
    rfire: Signal<Local, Bit>,
    rg_end: Signal<Local, Bit>,
    col_end: Signal<Local, Bit>,
    noff: Signal<Local, Bits<8>>,
    nx_rg: Signal<Local, Bits<GADDR>>,
    nx_b0: Signal<Local, Bits<WADDR>>,
    nx_b1: Signal<Local, Bits<WADDR>>,
    tb_sum: Signal<Local, Bits<8>>,
    // Window datapath, per window row `i` / column `j`.
    bsum: Vec<Signal<Local, Bits<8>>>,
    bsel: Vec<Signal<Local, Bits<8>>>,
    lo: Vec<Signal<Local, Bits<IBEAT>>>,
    hi: Vec<Signal<Local, Bits<IBEAT>>>,
    /// `cut[i]`: row `i`'s `Dk` pixels from its two words, at the offset `off`.
    cut: Vec<RowCut<IBEAT, BEAT, WIN>>,
    shifted: Vec<Signal<Local, Bits<WIN>>>,
    rowy: Vec<Signal<Local, Bits<16>>>,
    row_ok: Vec<Signal<Local, Bit>>,
    rowv: Vec<Signal<Local, Bits<WIN>>>,
    wchain: Vec<Signal<Local, Bits<WIN>>>,
    colx: Vec<Signal<Local, Bits<16>>>,
    col_ok: Vec<Signal<Local, Bit>>,
    keep: Vec<Signal<Local, Bits<WIN>>>,
    keep_all: Signal<Local, Bits<WIN>>,
    zpc: Vec<Signal<Local, Bits<WIN>>>,
    // Constants.
    q16: Constant<Bits<16>>,
    qlog: Constant<Bits<16>>,
    q8: Constant<Bits<8>>,
    qm1: Constant<Bits<16>>,
    qm1_8: Constant<Bits<8>>,
    nb8: Constant<Bits<8>>,
    nb16: Constant<Bits<16>>,
    dk16: Constant<Bits<16>>,
    dk8: Constant<Bits<8>>,
    half16: Constant<Bits<16>>,
    half8: Constant<Bits<8>>,
    /// `k` for `k < NB` (buffer numbers; also `i` for rows), `j` for `j < Dk`.
    kc8: Vec<Constant<Bits<8>>>,
    kc16: Vec<Constant<Bits<16>>>,
    /// The bits of tap column `j` in a window row; all `Dk` taps; row `i ≥ 1`'s shift at `i − 1`.
    tapmask: Vec<Constant<Bits<WIN>>>,
    rowlow: Constant<Bits<WIN>>,
    rowshift: Vec<Constant<Bits<16>>>,
}

fn sigs<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

fn ones<const N: usize>(from: usize, to: usize) -> Bits<N> {
    (from..to).fold(Bits::<N>::default(), |b, i| b.replace_bit(i, true))
}

impl<
        const BEAT: usize,
        const IBEAT: usize,
        const WIN: usize,
        const WADDR: usize,
        const GADDR: usize,
        const CB: usize,
    > WideWindow<BEAT, IBEAT, WIN, WADDR, GADDR, CB>
{
    /// The block for `cfg` (`Q = cfg.pixels_per_beat() ≥ 2`). Errors when `Q = 1` (that is
    /// `SlidingWindow`'s job) or a const generic disagrees with what `cfg` derives.
    pub fn new(cfg: &EngineConfig) -> Result<Self, ModelError> {
        let q = cfg.pixels_per_beat();
        if q < 2 {
            return Err(ModelError::InvalidParameter(
                "WideWindow: pixels_per_beat Q = 1 is the narrow SlidingWindow's".into(),
            ));
        }
        let wc = cfg.window();
        let want = [
            ("BEAT", BEAT, wc.beat_bits()),
            ("IBEAT", IBEAT, cfg.input_beat_bits()),
            ("WIN", WIN, wc.window_bits()),
            ("WADDR", WADDR, wide_addr_bits(cfg)),
            ("GADDR", GADDR, wc.group_bits()),
            ("CB", CB, wc.coord_bits()),
        ];
        for (name, have, need) in want {
            if have != need {
                return Err(ModelError::InvalidParameter(format!(
                    "WideWindow: {name} = {have} but the config needs {need}"
                )));
            }
        }
        let dk = cfg.dk();
        let nb = line_buffers(dk);
        let lanes = cfg.lanes();
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
            bank0: (0..nb).map(|_| SdpRam::default()).collect(),
            bank1: (0..nb).map(|_| SdpRam::default()).collect(),
            prime: Default::default(),
            wrun: Default::default(),
            wrow: Default::default(),
            wword: Default::default(),
            wg: Default::default(),
            wbank: Default::default(),
            wbase: Default::default(),
            wbuf: Default::default(),
            wbeats: Default::default(),
            rrun: Default::default(),
            top: Default::default(),
            tb: Default::default(),
            orow: Default::default(),
            ocol: Default::default(),
            rg: Default::default(),
            xs: Default::default(),
            off: Default::default(),
            rpar: Default::default(),
            rbase0: Default::default(),
            rbase1: Default::default(),
            seen: Default::default(),
            seen_beats: Default::default(),
            need_base: Default::default(),
            roff: Default::default(),
            out_valid: Default::default(),
            out_last: Default::default(),
            out_data: Default::default(),
            error: Default::default(),
            zp_reg: Default::default(),
            h16: Default::default(),
            w16: Default::default(),
            s16: Default::default(),
            pad_top: Default::default(),
            pad_left: Default::default(),
            s8: Default::default(),
            pad_top8: Default::default(),
            pad_left8: Default::default(),
            wb_m1: Default::default(),
            wo_m1: Default::default(),
            ho_m1: Default::default(),
            gcount: Default::default(),
            xs0: Default::default(),
            off0: Default::default(),
            rpar0: Default::default(),
            rbase0_0: Default::default(),
            tb0: Default::default(),
            g16: Default::default(),
            xr0: Default::default(),
            xr0_8: Default::default(),
            roff0: Default::default(),
            need_base0: Default::default(),
            nroff: Default::default(),
            rows_ok: Default::default(),
            part_ok: Default::default(),
            rel: Default::default(),
            wok: Default::default(),
            wfire: Default::default(),
            wg_end: Default::default(),
            waddr: Default::default(),
            need: Default::default(),
            slot_free: Default::default(),
            rfire: Default::default(),
            rg_end: Default::default(),
            col_end: Default::default(),
            noff: Default::default(),
            nx_rg: Default::default(),
            nx_b0: Default::default(),
            nx_b1: Default::default(),
            tb_sum: Default::default(),
            bsum: sigs(dk),
            bsel: sigs(dk),
            lo: sigs(dk),
            hi: sigs(dk),
            cut: (0..dk).map(|_| RowCut::new(dk)).collect(),
            shifted: sigs(dk),
            rowy: sigs(dk),
            row_ok: sigs(dk),
            rowv: sigs(dk),
            wchain: sigs(dk),
            colx: sigs(dk),
            col_ok: sigs(dk),
            keep: sigs(dk),
            keep_all: Default::default(),
            zpc: sigs(dk * dk * lanes),
            q16: Constant::new((q as u64).into()),
            qlog: Constant::new((q.trailing_zeros() as u64).into()),
            q8: Constant::new((q as u64).into()),
            qm1: Constant::new(((q - 1) as u64).into()),
            qm1_8: Constant::new(((q - 1) as u64).into()),
            nb8: Constant::new((nb as u64).into()),
            nb16: Constant::new((nb as u64).into()),
            dk16: Constant::new((dk as u64).into()),
            dk8: Constant::new((dk as u64).into()),
            half16: Constant::new((((dk - 1) / 2) as u64).into()),
            half8: Constant::new((((dk - 1) / 2) as u64).into()),
            kc8: (0..nb).map(|k| Constant::new((k as u64).into())).collect(),
            kc16: (0..dk).map(|k| Constant::new((k as u64).into())).collect(),
            tapmask: (0..dk).map(|j| Constant::new(ones::<WIN>(j * BEAT, (j + 1) * BEAT))).collect(),
            rowlow: Constant::new(ones::<WIN>(0, dk * BEAT)),
            rowshift: (1..dk).map(|i| Constant::new(((i * dk * BEAT) as u64).into())).collect(),
        })
    }
}

/// Bank address bits of the wide generator for `cfg` (the `WADDR` generic).
pub fn wide_addr_bits(cfg: &EngineConfig) -> usize {
    let wc = cfg.window();
    bank_addr_bits(wc.max_width(), wc.max_groups(), wc.line_depth(), cfg.pixels_per_beat())
}

impl<
        const BEAT: usize,
        const IBEAT: usize,
        const WIN: usize,
        const WADDR: usize,
        const GADDR: usize,
        const CB: usize,
    > Logic for WideWindow<BEAT, IBEAT, WIN, WADDR, GADDR, CB>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, prime, wrun, wrow, wword, wg, wbank, wbase, wbuf, rrun, top, tb, orow,
            ocol, rg, xs, off, rpar, rbase0, rbase1, seen, seen_beats, need_base, roff, wbeats, out_valid, out_last, out_data, error,
            zp_reg
        );
        // ---- Geometry (the inputs hold during the frame).
        self.h16.next = bit_cast::<16, CB>(self.height.val());
        self.w16.next = bit_cast::<16, CB>(self.width.val());
        self.gcount.next = bit_cast::<WADDR, GADDR>(self.last_group.val()) + 1;
        self.wb_m1.next = ((self.w16.val() + self.qm1.val()) >> self.qlog.val()) - 1;
        self.s16.next = 1.into();
        self.s8.next = 1.into();
        self.pad_top.next = self.half16.val();
        self.pad_left.next = self.half16.val();
        self.pad_top8.next = self.half8.val();
        self.pad_left8.next = self.half8.val();
        self.wo_m1.next = self.w16.val() - 1;
        self.ho_m1.next = self.h16.val() - 1;
        if self.stride2.val() {
            self.s16.next = 2.into();
            self.s8.next = 2.into();
            // SAME at stride 2 moves a padding row/column to the end on an even size.
            if !self.height.val().get_bit(0) {
                self.pad_top.next = self.half16.val() - 1;
                self.pad_top8.next = self.half8.val() - 1;
            }
            if !self.width.val().get_bit(0) {
                self.pad_left.next = self.half16.val() - 1;
                self.pad_left8.next = self.half8.val() - 1;
            }
            self.wo_m1.next = ((self.w16.val() + 1) >> 1) - 1;
            self.ho_m1.next = ((self.h16.val() + 1) >> 1) - 1;
        }
        // Start of an output row: shifted column Q − pad_left.
        self.xs0.next = self.q16.val() - self.pad_left.val();
        if self.pad_left.val() == 0 {
            // Words 1 and 2 (u): the low one in bank 1.
            self.off0.next = 0.into();
            self.rpar0.next = true;
            self.rbase0_0.next = self.gcount.val();
        } else {
            // Words 0 (padding) and 1.
            self.off0.next = self.q8.val() - self.pad_left8.val();
            self.rpar0.next = false;
            self.rbase0_0.next = 0.into();
        }
        // The window's rightmost column at the row start: word u0 = 1 or 2 (shifted).
        self.g16.next = bit_cast::<16, GADDR>(self.last_group.val()) + 1;
        self.xr0.next = self.xs0.val() + self.dk16.val() - 1;
        self.xr0_8.next = self.q8.val() - self.pad_left8.val() + self.dk8.val() - 1;
        self.roff0.next = self.xr0_8.val() & self.qm1_8.val();
        self.need_base0.next = 0.into();
        if (self.xr0.val() >> self.qlog.val()) == 2 {
            self.need_base0.next = self.g16.val();
        }
        // Buffer of row −pad_top.
        self.tb0.next = 0.into();
        if self.pad_top.val() != 0 {
            self.tb0.next = self.nb8.val() - self.pad_top8.val();
        }
        // ---- Writer.
        self.rel.next = 0.into();
        if self.top.q.val() >= self.dk16.val() {
            self.rel.next = self.top.q.val() - self.dk16.val();
        }
        self.wok.next = self.wrun.q.val() && (self.wrow.q.val() < (self.rel.val() + self.nb16.val()));
        self.inp.tready.next = self.wok.val();
        self.wfire.next = self.wok.val() && self.inp.tvalid.val();
        self.wg_end.next = self.wg.q.val() == self.last_group.val();
        self.waddr.next = self.wbase.q.val() + bit_cast::<WADDR, GADDR>(self.wg.q.val());
        if self.wfire.val() {
            self.error.d.next = self.error.q.val()
                || (self.inp.tlast.val()
                    != ((self.wrow.q.val() + 1 == self.h16.val()) && (self.wword.q.val() == self.wb_m1.val()) && self.wg_end.val()));
            self.wbeats.d.next = self.wbeats.q.val() + 1;
            if self.wg_end.val() {
                self.wg.d.next = 0.into();
                if self.wword.q.val() == self.wb_m1.val() {
                    self.wbeats.d.next = 0.into();
                    self.wword.d.next = 0.into();
                    self.wbank.d.next = true;
                    self.wbase.d.next = 0.into();
                    self.wrow.d.next = self.wrow.q.val() + 1;
                    if self.wbuf.q.val() + 1 == self.nb8.val() {
                        self.wbuf.d.next = 0.into();
                    } else {
                        self.wbuf.d.next = self.wbuf.q.val() + 1;
                    }
                    if self.wrow.q.val() + 1 == self.h16.val() {
                        self.wrun.d.next = false;
                    }
                } else {
                    self.wword.d.next = self.wword.q.val() + 1;
                    self.wbank.d.next = !self.wbank.q.val();
                    if self.wbank.q.val() {
                        self.wbase.d.next = self.wbase.q.val() + self.gcount.val();
                    }
                }
            } else {
                self.wg.d.next = self.wg.q.val() + 1;
            }
        }
        self.seen.d.next = self.wrow.q.val();
        self.seen_beats.d.next = self.wbeats.q.val();
        // ---- Reader.
        self.need.next = self.top.q.val();
        if self.top.q.val() >= self.h16.val() {
            self.need.next = self.h16.val();
        }
        self.slot_free.next = !self.out_valid.q.val() || self.out.tready.val();
        // Ready: every row written, or all but the last, of which the beat of the window's
        // rightmost column (this group) is written.
        self.rows_ok.next = self.seen.q.val() >= self.need.val();
        self.part_ok.next = ((self.seen.q.val() + 1) == self.need.val())
            && (self.seen_beats.q.val() > (self.need_base.q.val() + bit_cast::<16, GADDR>(self.rg.q.val())));
        self.rfire.next =
            self.rrun.q.val() && (self.rows_ok.val() || self.part_ok.val()) && self.slot_free.val();
        self.rg_end.next = self.rg.q.val() == self.last_group.val();
        self.col_end.next = self.ocol.q.val() == self.wo_m1.val();
        self.noff.next = self.off.q.val() + self.s8.val();
        self.nroff.next = self.roff.q.val() + self.s8.val();
        // The next position's group and bank bases (taken when the reader fires).
        self.nx_rg.next = self.rg.q.val() + 1;
        self.nx_b0.next = self.rbase0.q.val();
        self.nx_b1.next = self.rbase1.q.val();
        self.tb_sum.next = self.tb.q.val() + self.s8.val();
        if self.rg_end.val() {
            self.nx_rg.next = 0.into();
            if self.col_end.val() {
                self.nx_b0.next = self.rbase0_0.val();
                self.nx_b1.next = 0.into();
            } else if self.noff.val() >= self.q8.val() {
                // The low word drops out; the word after the high one enters its bank.
                if self.rpar.q.val() {
                    self.nx_b1.next = self.rbase1.q.val() + self.gcount.val();
                } else {
                    self.nx_b0.next = self.rbase0.q.val() + self.gcount.val();
                }
            }
        }
        if self.rfire.val() {
            self.rg.d.next = self.nx_rg.val();
            self.rbase0.d.next = self.nx_b0.val();
            self.rbase1.d.next = self.nx_b1.val();
            if self.rg_end.val() {
                if self.col_end.val() {
                    self.ocol.d.next = 0.into();
                    self.xs.d.next = self.xs0.val();
                    self.off.d.next = self.off0.val();
                    self.rpar.d.next = self.rpar0.val();
                    self.roff.d.next = self.roff0.val();
                    self.need_base.d.next = self.need_base0.val();
                    self.orow.d.next = self.orow.q.val() + 1;
                    self.top.d.next = self.top.q.val() + self.s16.val();
                    if self.tb_sum.val() >= self.nb8.val() {
                        self.tb.d.next = self.tb_sum.val() - self.nb8.val();
                    } else {
                        self.tb.d.next = self.tb_sum.val();
                    }
                    if self.orow.q.val() == self.ho_m1.val() {
                        self.rrun.d.next = false;
                    }
                } else {
                    self.ocol.d.next = self.ocol.q.val() + 1;
                    self.xs.d.next = self.xs.q.val() + self.s16.val();
                    if self.noff.val() >= self.q8.val() {
                        self.off.d.next = self.noff.val() - self.q8.val();
                        self.rpar.d.next = !self.rpar.q.val();
                    } else {
                        self.off.d.next = self.noff.val();
                    }
                    if self.nroff.val() >= self.q8.val() {
                        self.roff.d.next = self.nroff.val() - self.q8.val();
                        self.need_base.d.next = self.need_base.q.val() + self.g16.val();
                    } else {
                        self.roff.d.next = self.nroff.val();
                    }
                }
            }
        }
        // ---- Line buffers: the writer's word; every buffer reads the reader's address.
        for k in 0..self.bank0.len() {
            self.bank0[k].clock.next = self.clock.val();
            self.bank1[k].clock.next = self.clock.val();
            self.bank0[k].write_address.next = self.waddr.val();
            self.bank1[k].write_address.next = self.waddr.val();
            self.bank0[k].read_enable.next = true;
            self.bank1[k].read_enable.next = true;
            self.bank0[k].write_data.next = self.inp.tdata.val();
            self.bank1[k].write_data.next = self.inp.tdata.val();
            self.bank0[k].write_enable.next =
                self.wfire.val() && (self.wbuf.q.val() == self.kc8[k].val()) && !self.wbank.q.val();
            self.bank1[k].write_enable.next =
                self.wfire.val() && (self.wbuf.q.val() == self.kc8[k].val()) && self.wbank.q.val();
            if self.rfire.val() {
                self.bank0[k].read_address.next = self.nx_b0.val() + bit_cast::<WADDR, GADDR>(self.nx_rg.val());
                self.bank1[k].read_address.next = self.nx_b1.val() + bit_cast::<WADDR, GADDR>(self.nx_rg.val());
            } else {
                self.bank0[k].read_address.next = self.rbase0.q.val() + bit_cast::<WADDR, GADDR>(self.rg.q.val());
                self.bank1[k].read_address.next = self.rbase1.q.val() + bit_cast::<WADDR, GADDR>(self.rg.q.val());
            }
        }
        // ---- Column flags: tap column j is inside when Q ≤ xs + j < W + Q.
        for j in 0..self.colx.len() {
            self.colx[j].next = self.xs.q.val() + self.kc16[j].val();
            self.col_ok[j].next = (self.colx[j].val() >= self.q16.val())
                && (self.colx[j].val() < (self.w16.val() + self.q16.val()));
        }
        self.keep[0].next = 0.into();
        if self.col_ok[0].val() {
            self.keep[0].next = self.tapmask[0].val();
        }
        for j in 1..self.keep.len() {
            self.keep[j].next = self.keep[j - 1].val();
            if self.col_ok[j].val() {
                self.keep[j].next = self.keep[j - 1].val() | self.tapmask[j].val();
            }
        }
        // (The last assignment wins: the whole chain.)
        for j in 0..self.keep.len() {
            self.keep_all.next = self.keep[j].val();
        }
        // ---- Window rows: row i = input row top − Dk + i, in buffer (tb + i) mod NB.
        for i in 0..self.rowy.len() {
            self.rowy[i].next = self.top.q.val() + self.kc16[i].val();
            self.row_ok[i].next = (self.rowy[i].val() >= self.dk16.val())
                && (self.rowy[i].val() < (self.h16.val() + self.dk16.val()));
            self.bsum[i].next = self.tb.q.val() + self.kc8[i].val();
            self.bsel[i].next = self.bsum[i].val();
            if self.bsum[i].val() >= self.nb8.val() {
                self.bsel[i].next = self.bsum[i].val() - self.nb8.val();
            }
            self.lo[i].next = self.bank0[0].read_data.val();
            self.hi[i].next = self.bank1[0].read_data.val();
            for k in 0..self.bank0.len() {
                if self.bsel[i].val() == self.kc8[k].val() {
                    if self.rpar.q.val() {
                        self.lo[i].next = self.bank1[k].read_data.val();
                        self.hi[i].next = self.bank0[k].read_data.val();
                    } else {
                        self.lo[i].next = self.bank0[k].read_data.val();
                        self.hi[i].next = self.bank1[k].read_data.val();
                    }
                }
            }
            self.cut[i].lo_word.next = self.lo[i].val();
            self.cut[i].hi_word.next = self.hi[i].val();
            self.cut[i].off.next = self.off.q.val();
            self.shifted[i].next = self.cut[i].y.val();
            self.rowv[i].next = ((self.shifted[i].val() & self.keep_all.val())
                | (self.zp_reg.q.val() & !self.keep_all.val()))
                & self.rowlow.val();
            if !self.row_ok[i].val() {
                self.rowv[i].next = self.zp_reg.q.val() & self.rowlow.val();
            }
        }
        self.wchain[0].next = self.rowv[0].val();
        for i in 1..self.wchain.len() {
            self.wchain[i].next = self.wchain[i - 1].val() | (self.rowv[i].val() << self.rowshift[i - 1].val());
        }
        // ---- Output register.
        if self.out.tready.val() {
            self.out_valid.d.next = false;
        }
        if self.rfire.val() {
            self.out_valid.d.next = true;
            self.out_last.d.next = self.rg_end.val()
                && self.col_end.val()
                && (self.orow.q.val() == self.ho_m1.val());
            for i in 0..self.wchain.len() {
                self.out_data.d.next = self.wchain[i].val();
            }
        }
        self.out.tdata.next = self.out_data.q.val();
        self.out.tvalid.next = self.out_valid.q.val();
        self.out.tlast.next = self.out_last.q.val();
        self.busy.next =
            self.prime.q.val() || self.wrun.q.val() || self.rrun.q.val() || self.out_valid.q.val();
        self.last_error.next = self.error.q.val();
        // ---- In_zp in every tap and lane.
        self.zpc[0].next = bit_cast::<WIN, 8>(self.in_zp.val());
        for n in 1..self.zpc.len() {
            self.zpc[n].next = (self.zpc[n - 1].val() << 8) | bit_cast::<WIN, 8>(self.in_zp.val());
        }
        // ---- Frame start: latch, prime one cycle, run.
        self.prime.d.next = self.start.val();
        if self.prime.q.val() {
            self.wrun.d.next = true;
            self.rrun.d.next = true;
        }
        if self.start.val() {
            self.wrun.d.next = false;
            self.rrun.d.next = false;
            self.out_valid.d.next = false;
            self.error.d.next = false;
            self.wrow.d.next = 0.into();
            self.wword.d.next = 0.into();
            self.wg.d.next = 0.into();
            self.wbank.d.next = true;
            self.wbase.d.next = 0.into();
            self.wbuf.d.next = 0.into();
            self.top.d.next = self.dk16.val() - self.pad_top.val();
            self.tb.d.next = self.tb0.val();
            self.orow.d.next = 0.into();
            self.ocol.d.next = 0.into();
            self.rg.d.next = 0.into();
            self.xs.d.next = self.xs0.val();
            self.off.d.next = self.off0.val();
            self.rpar.d.next = self.rpar0.val();
            self.rbase0.d.next = self.rbase0_0.val();
            self.rbase1.d.next = 0.into();
            self.seen.d.next = 0.into();
            self.seen_beats.d.next = 0.into();
            self.wbeats.d.next = 0.into();
            self.roff.d.next = self.roff0.val();
            self.need_base.d.next = self.need_base0.val();
            for n in 0..self.zpc.len() {
                self.zp_reg.d.next = self.zpc[n].val();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of};

    fn cfg(q: usize) -> EngineConfig {
        EngineConfig::new(3, 2, 1, 1, 9, 9, 6).unwrap().with_pixels_per_beat(q).unwrap()
    }

    #[test]
    fn widths_are_checked() {
        assert!(WideWindow::<16, 32, 144, 4, 2, 4>::new(&cfg(2)).is_ok());
        assert!(WideWindow::<16, 64, 144, 3, 2, 4>::new(&cfg(4)).is_ok());
        assert!(WideWindow::<16, 64, 144, 3, 2, 4>::new(&cfg(2)).is_err());
        // Two beats of 8 pixels are wider than the window: nothing is aligned in a window word.
        assert!(WideWindow::<16, 128, 144, 3, 2, 4>::new(&cfg(8)).is_ok());
        let narrow = EngineConfig::new(3, 2, 1, 1, 9, 9, 6).unwrap();
        let err = WideWindow::<16, 16, 144, 4, 2, 4>::new(&narrow).err().unwrap().to_string();
        assert!(err.contains("Q = 1"), "{err}");
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for v in [
            verilog_of(&mut WideWindow::<16, 32, 144, 4, 2, 4>::new(&cfg(2)).unwrap()),
            verilog_of(&mut WideWindow::<16, 64, 144, 3, 2, 4>::new(&cfg(4)).unwrap()),
            verilog_of(&mut WideWindow::<16, 128, 144, 3, 2, 4>::new(&cfg(8)).unwrap()),
        ] {
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
        }
    }
}
