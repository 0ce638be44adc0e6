//! One row of the `Dk×Dk` window: the newest tap plus the `Dk − 1` older columns of the same
//! channel group, masked to `in_zp` outside the image, registered and packed into one bus.
//!
//! With `G = M/P` channel groups interleaved in the stream, the column before the newest one
//! *of the same group* arrived `G` beats ago, so the older columns cannot be a plain shift
//! register: each is a `G`-deep delay, one [`SdpRam`] addressed by the group (`hist[k]` holds
//! the column `k + 1` steps old, a chain `new → hist[0] → hist[1] → …`). The RAMs are
//! write-first ([`SdpRam::write_first`]): with `G = 1` a position reads the group its
//! predecessor writes on the same edge, and gets that word — the row is then the classic
//! shift register.
//!
//! **Write and read registers** ([`WindowRow::with_write_regs`], on by default; for Fmax): the
//! RAMs are built with [`SdpRam::with_late_write`] and [`SdpRam::with_read_stage`], so a history
//! RAM's output, 5.8 ns clock-to-out on the ECP5, lands in a flip-flop before it reaches the next
//! RAM's write data or a tap register; `read_group` is then the group of the position after
//! next. Same values, same cycles; off, fewer flip-flops (`[engine] ram_regs`).
//!
//! **Packed history** ([`WindowRow::packed`], `[engine] pack_history`): the `Dk − 1` columns
//! share their addresses, so one [`SdpRam`] word holds them side by side (column `k` at bits
//! `k·BEAT`): one block RAM per row where the separate RAMs take one each when `G·BEAT` bits
//! fit one (the iCE40's 256 × 16: three SB_RAM40_4K fewer for `Dk = 3`). The RAM is `WIN`
//! bits wide; synthesis drops its constant upper bits. Same values, same cycles.

use super::tap::TapReg;
use crate::primitives::SdpRam;
use crate::systolic::ZeroExtend;
use rust_hdl::prelude::*;

/// A window row of `DK` taps of `BEAT` bits. Tap age `k` (0 = newest, the rightmost column)
/// sits at bits `[(DK − 1 − k)·BEAT, …)` of `taps`: the leftmost column at bit 0; bits from
/// `DK·BEAT` up are 0.
#[derive(LogicBlock)]
pub struct WindowRow<const BEAT: usize, const WIN: usize, const GADDR: usize, const DK: usize> {
    pub clock: Signal<In, Clock>,
    /// The newest tap: the input beat or a line buffer's word.
    pub new_tap: Signal<In, Bits<BEAT>>,
    /// This row lies inside the image.
    pub row_inside: Signal<In, Bit>,
    /// Bit `k`: the column `k` steps old lies inside the image.
    pub col_flags: Signal<In, Bits<DK>>,
    /// `in_zp` in every lane: the value of a padded tap.
    pub zp: Signal<In, Bits<BEAT>>,
    /// History address to read (the group of the next position to be used; with the write
    /// and read registers, of the position after it), taken on an edge with `read`; the RAMs'
    /// outputs hold otherwise.
    pub read_group: Signal<In, Bits<GADDR>>,
    pub read: Signal<In, Bit>,
    /// Group of the current position: where its columns are written on `write`.
    pub write_group: Signal<In, Bits<GADDR>>,
    /// The current position is consumed this cycle.
    pub write: Signal<In, Bit>,
    /// Register this position's masked taps (the window's output register is free).
    pub load: Signal<In, Bit>,
    /// The registered row.
    pub taps: Signal<Out, Bits<WIN>>,
    /// One RAM per history column (empty when packed).
    hist: Vec<SdpRam<BEAT, GADDR>>,
    /// Packed history: one RAM for all columns (empty when not packed).
    packed: Vec<SdpRam<WIN, GADDR>>,
    /// Packed: the column `k` to write (`age[k]`) zero-extended to a word.
    age_wide: Vec<ZeroExtend<BEAT, WIN>>,
    /// Packed: `pack[k]` = columns `0..=k` of the word to write.
    pack: Vec<Signal<Local, Bits<WIN>>>,
    /// Packed: the read word shifted down to column `k`; its upper bits are the older columns
    /// (named so that Verilator's `*unused*` pattern exempts them).
    unused_upper: Vec<Signal<Local, Bits<WIN>>>,
    /// Packed: `k·BEAT`, where column `k` sits in the word.
    col_shift: Vec<Constant<Bits<16>>>,
    /// `age[k]`: the unmasked tap `k` steps old (`age[0] = new_tap`).
    age: Vec<Signal<Local, Bits<BEAT>>>,
    regs: Vec<TapReg<BEAT, WIN>>,
    /// `masks[k]` = bit `k`: selects column flag `k` with an AND.
    masks: Vec<Constant<Bits<DK>>>,
    chain: Vec<Signal<Local, Bits<WIN>>>,
    beat_shift: Constant<Bits<16>>,
}

impl<const BEAT: usize, const WIN: usize, const GADDR: usize, const DK: usize>
    WindowRow<BEAT, WIN, GADDR, DK>
{
    /// A row of `DK` taps.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            new_tap: Default::default(),
            row_inside: Default::default(),
            col_flags: Default::default(),
            zp: Default::default(),
            read_group: Default::default(),
            read: Default::default(),
            write_group: Default::default(),
            write: Default::default(),
            load: Default::default(),
            taps: Default::default(),
            hist: (1..DK).map(|_| history_ram(true)).collect(),
            packed: Vec::new(),
            age_wide: Vec::new(),
            pack: Vec::new(),
            unused_upper: Vec::new(),
            col_shift: Vec::new(),
            age: (0..DK).map(|_| Default::default()).collect(),
            regs: (0..DK).map(|_| Default::default()).collect(),
            masks: (0..DK)
                .map(|k| Constant::new(Bits::<DK>::default().replace_bit(k, true)))
                .collect(),
            chain: (0..DK).map(|_| Default::default()).collect(),
            beat_shift: Constant::new((BEAT as u64).into()),
        }
    }

    /// The same row with its history writes an edge late (`on`, the default) or in the
    /// position's own cycle (see the module docs).
    pub fn with_write_regs(mut self, on: bool) -> Self {
        self.hist = self.hist.iter().map(|_| history_ram(on)).collect();
        self.packed = self.packed.iter().map(|_| history_ram(on)).collect();
        self
    }

    /// A row of `DK` taps whose history columns share one RAM word (see the module docs).
    pub fn packed() -> Self {
        let cols = DK - 1;
        Self {
            hist: Vec::new(),
            packed: (0..cols.min(1)).map(|_| history_ram(true)).collect(),
            age_wide: (0..cols).map(|_| ZeroExtend::default()).collect(),
            pack: (0..cols).map(|_| Default::default()).collect(),
            unused_upper: (0..cols).map(|_| Default::default()).collect(),
            col_shift: (0..cols).map(|k| Constant::new(((k * BEAT) as u64).into())).collect(),
            ..Self::new()
        }
    }
}

/// A history RAM: write-first, and with `regs` written late and read through a second
/// register (the row's `read_group` is then the group of the position after next).
fn history_ram<const DATA: usize, const ADDR: usize>(regs: bool) -> SdpRam<DATA, ADDR> {
    SdpRam::write_first().with_late_write(regs).with_read_stage(regs)
}

impl<const BEAT: usize, const WIN: usize, const GADDR: usize, const DK: usize> Default
    for WindowRow<BEAT, WIN, GADDR, DK>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const BEAT: usize, const WIN: usize, const GADDR: usize, const DK: usize> Logic
    for WindowRow<BEAT, WIN, GADDR, DK>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.age[0].next = self.new_tap.val();
        for k in 0..self.hist.len() {
            self.hist[k].clock.next = self.clock.val();
            self.hist[k].read_address.next = self.read_group.val();
            self.hist[k].read_enable.next = self.read.val();
            self.hist[k].write_address.next = self.write_group.val();
            self.hist[k].write_enable.next = self.write.val();
            self.hist[k].write_data.next = self.age[k].val();
            self.age[k + 1].next = self.hist[k].read_data.val();
        }
        for p in 0..self.packed.len() {
            self.packed[p].clock.next = self.clock.val();
            self.packed[p].read_address.next = self.read_group.val();
            self.packed[p].read_enable.next = self.read.val();
            self.packed[p].write_address.next = self.write_group.val();
            self.packed[p].write_enable.next = self.write.val();
            for k in 0..self.age_wide.len() {
                self.age_wide[k].a.next = self.age[k].val();
                self.unused_upper[k].next = self.packed[p].read_data.val() >> self.col_shift[k].val();
                self.age[k + 1].next = self.unused_upper[k].val().get_bits::<BEAT>(0);
            }
            self.pack[0].next = self.age_wide[0].y.val();
            self.packed[p].write_data.next = self.pack[0].val();
            for k in 1..self.pack.len() {
                self.pack[k].next =
                    self.pack[k - 1].val() | (self.age_wide[k].y.val() << self.col_shift[k].val());
                self.packed[p].write_data.next = self.pack[k].val();
            }
        }
        for k in 0..self.regs.len() {
            self.regs[k].clock.next = self.clock.val();
            self.regs[k].value.next = self.age[k].val();
            self.regs[k].in_image.next =
                self.row_inside.val() && (self.col_flags.val() & self.masks[k].val()).any();
            self.regs[k].zp.next = self.zp.val();
            self.regs[k].load.next = self.load.val();
        }
        self.chain[0].next = self.regs[0].q.val();
        self.taps.next = self.chain[0].val();
        for k in 1..self.chain.len() {
            self.chain[k].next =
                (self.chain[k - 1].val() << self.beat_shift.val()) | self.regs[k].q.val();
            self.taps.next = self.chain[k].val();
        }
    }
}
