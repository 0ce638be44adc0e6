//! One axis (rows or columns) of the window scan: position, SAME-padding validity and
//! stride-1/2 emission, as registers so the window datapath reads them without arithmetic.
//!
//! The scan visits positions `0 ..= size − 1 + half` (`half = (Dk − 1)/2`, the padding SAME
//! puts *after* the image for every size and stride 1 or 2). Position `p` is the last
//! (bottom/right) input index of the window under it. A window is emitted at
//! `p = e0, e0 + s, …` where `e0 = Dk − 1 − pad_before`: `half`, or — stride 2 on an even size,
//! the asymmetric case — `half + 1` (`0` for `Dk = 1`). That is `ceil(size / s)` emissions.

use rust_hdl::prelude::*;

/// Scan state of one axis for a kernel of `DK` taps. `load` (priority) restarts at position 0 with `size` and
/// `stride2`; `step` moves one position on. `size` must be at least 1.
#[derive(LogicBlock)]
pub struct AxisScan<const CB: usize, const DK: usize> {
    pub clock: Signal<In, Clock>,
    /// Restart at position 0, latching `size` and `stride2`.
    pub load: Signal<In, Bit>,
    /// Advance one position (ignored while `load`).
    pub step: Signal<In, Bit>,
    /// Image size along the axis, `>= 1`, sampled on `load`.
    pub size: Signal<In, Bits<CB>>,
    /// Stride 2 (else 1), sampled on `load`.
    pub stride2: Signal<In, Bit>,
    /// Bit `m`: position `pos − m` lies inside the image (bit 0: the current position is real).
    pub flags: Signal<Out, Bits<DK>>,
    /// The current position lies inside the image (flag bit 0).
    pub at_real: Signal<Out, Bit>,
    /// The current position is the last one of the scan (`size − 1 + half`).
    pub at_end: Signal<Out, Bit>,
    /// The current position is the last real one (`size − 1`).
    pub at_last_real: Signal<Out, Bit>,
    /// A window is emitted at the current position.
    pub emit: Signal<Out, Bit>,
    /// … and it is the last emission of the axis.
    pub last_emit: Signal<Out, Bit>,
    half: Constant<Bits<CB>>,
    /// `1`: selects flag bit 0 with an AND.
    one: Constant<Bits<DK>>,
    e0_even: Constant<Bits<CB>>,
    pos: DFF<Bits<CB>>,
    last: DFF<Bits<CB>>,
    size_m1: DFF<Bits<CB>>,
    lead: DFF<Bits<CB>>,
    phase: DFF<Bit>,
    s2: DFF<Bit>,
    remaining: DFF<Bits<CB>>,
    in_image: DFF<Bits<DK>>,
}

impl<const CB: usize, const DK: usize> AxisScan<CB, DK> {
    /// The scan of an axis for kernel `DK` (odd).
    pub fn new() -> Self {
        let half = (DK - 1) / 2;
        let e0_even = if DK == 1 { 0 } else { half + 1 };
        Self {
            clock: Default::default(),
            load: Default::default(),
            step: Default::default(),
            size: Default::default(),
            stride2: Default::default(),
            flags: Default::default(),
            at_real: Default::default(),
            at_end: Default::default(),
            at_last_real: Default::default(),
            emit: Default::default(),
            last_emit: Default::default(),
            half: Constant::new((half as u64).into()),
            one: Constant::new(1.into()),
            e0_even: Constant::new((e0_even as u64).into()),
            pos: Default::default(),
            last: Default::default(),
            size_m1: Default::default(),
            lead: Default::default(),
            phase: Default::default(),
            s2: Default::default(),
            remaining: Default::default(),
            in_image: Default::default(),
        }
    }
}

impl<const CB: usize, const DK: usize> Default for AxisScan<CB, DK> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CB: usize, const DK: usize> Logic for AxisScan<CB, DK> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, pos, last, size_m1, lead, phase, s2, remaining, in_image);
        self.flags.next = self.in_image.q.val();
        self.at_real.next = (self.in_image.q.val() & self.one.val()).any();
        self.at_end.next = self.pos.q.val() == self.last.q.val();
        self.at_last_real.next = self.pos.q.val() == self.size_m1.q.val();
        self.emit.next = (self.lead.q.val() == 0) && !self.phase.q.val();
        self.last_emit.next =
            (self.lead.q.val() == 0) && !self.phase.q.val() && (self.remaining.q.val() == 1);
        if self.load.val() {
            self.pos.d.next = 0.into();
            self.size_m1.d.next = self.size.val() - 1;
            self.last.d.next = self.size.val() - 1 + self.half.val();
            self.s2.d.next = self.stride2.val();
            self.phase.d.next = false;
            self.in_image.d.next = 1.into();
            if self.stride2.val() {
                self.remaining.d.next = (self.size.val() >> 1) + (self.size.val() & 1);
                if (self.size.val() & 1) == 1 {
                    self.lead.d.next = self.half.val();
                } else {
                    self.lead.d.next = self.e0_even.val();
                }
            } else {
                self.remaining.d.next = self.size.val();
                self.lead.d.next = self.half.val();
            }
        } else if self.step.val() {
            self.pos.d.next = self.pos.q.val() + 1;
            self.in_image.d.next = (self.in_image.q.val() << 1)
                | bit_cast::<DK, 1>((self.pos.q.val() < self.size_m1.q.val()).into());
            if self.lead.q.val() == 0 {
                self.phase.d.next = self.s2.q.val() && !self.phase.q.val();
                if !self.phase.q.val() {
                    self.remaining.d.next = self.remaining.q.val() - 1;
                }
            } else {
                self.lead.d.next = self.lead.q.val() - 1;
            }
        }
    }
}
