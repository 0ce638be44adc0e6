//! One axis (rows or columns) of the window scan: position, SAME-padding validity and
//! stride-1/2 emission, as registers so the window datapath reads them without arithmetic.
//!
//! In the coordinates of one image row (or column), position `p` is the last (bottom/right)
//! input index of the window under it, `p = 0 ..= size − 1 + half` (`half = (Dk − 1)/2`, the
//! padding SAME puts *after* the image for every size and stride 1 or 2). A window is emitted
//! at `p = e0, e0 + s, …` where `e0 = Dk − 1 − pad_before`: `half`, or — stride 2 on an even
//! size, the asymmetric case — `half + 1` (`0` for `Dk = 1`). That is `ceil(size / s)`
//! emissions, the last one at `size − 1 + half`.
//!
//! The scan itself stops earlier unless `extend` is high: at `Wp − 1`, `Wp = max(size, half, 2)`
//! ([`dsc_model::window::WindowLayer::scan_width`]).
//! The positions `Wp ..` of a row — right padding, no input — are then not scanned; the
//! *wrap* registers carry on with them while the next row is scanned (`carry` on `load`), so
//! the next row's first `half` positions also report `wrap_emit`/`wrap_flags`: the emission
//! and validity of the previous row's padding positions. The rows use `prev_*`: the emission
//! and validity of the previous position (row), for those wrap windows.

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
    /// This scan includes the trailing padding positions: it ends at `size − 1 + half`,
    /// else at `max(size, half, 2) − 1`.
    pub extend: Signal<In, Bit>,
    /// On `load`, the wrap registers continue the scan being left (else they are cleared).
    pub carry: Signal<In, Bit>,
    /// Bit `m`: position `pos − m` lies inside the image (bit 0: the current position is real).
    pub flags: Signal<Out, Bits<DK>>,
    /// The current position lies inside the image (flag bit 0).
    pub at_real: Signal<Out, Bit>,
    /// The current position is the last one of the scan (`size − 1 + half`).
    pub at_end: Signal<Out, Bit>,
    /// The position after the current one is the last one of the scan (for a parent that
    /// reads its block RAMs two positions ahead).
    pub next_at_end: Signal<Out, Bit>,
    /// The current position is the last real one (`size − 1`).
    pub at_last_real: Signal<Out, Bit>,
    /// A window is emitted at the current position.
    pub emit: Signal<Out, Bit>,
    /// … and it is the last emission of the axis.
    pub last_emit: Signal<Out, Bit>,
    /// The carried-on previous scan emits at its current position (`pos + Wp` in its
    /// coordinates).
    pub wrap_emit: Signal<Out, Bit>,
    /// Validity flags of the carried-on previous scan, as `flags`.
    pub wrap_flags: Signal<Out, Bits<DK>>,
    /// `emit` and `flags` of the previous position (cleared on `load`).
    pub prev_emit: Signal<Out, Bit>,
    pub prev_flags: Signal<Out, Bits<DK>>,
    half: Constant<Bits<CB>>,
    /// `max(half, 2)`: the fewest positions of a scan without `extend`.
    min_cols: Constant<Bits<CB>>,
    /// `1`: selects flag bit 0 with an AND.
    one: Constant<Bits<DK>>,
    e0_even: Constant<Bits<CB>>,
    pos: DFF<Bits<CB>>,
    last: DFF<Bits<CB>>,
    size_m1: DFF<Bits<CB>>,
    /// `max(size, half, 2) − 1`: where the scan ends without `extend`.
    short_last: DFF<Bits<CB>>,
    lead: DFF<Bits<CB>>,
    phase: DFF<Bit>,
    s2: DFF<Bit>,
    remaining: DFF<Bits<CB>>,
    in_image: DFF<Bits<DK>>,
    w_lead: DFF<Bits<CB>>,
    w_phase: DFF<Bit>,
    w_remaining: DFF<Bits<CB>>,
    w_image: DFF<Bits<DK>>,
    p_emit: DFF<Bit>,
    p_image: DFF<Bits<DK>>,
    /// `emit`, `wrap_emit`, and `pos` at `last` / `short_last`, kept as registers computed one
    /// position ahead: the parent's `fire`, `load` and `step` then start a few gates from
    /// flip-flops instead of behind comparators (the window's critical path).
    emit_r: DFF<Bit>,
    w_emit_r: DFF<Bit>,
    end_ext: DFF<Bit>,
    end_short: DFF<Bit>,
    /// `pos + 1` at `last` / `short_last`, kept the same way.
    next_end_ext: DFF<Bit>,
    next_end_short: DFF<Bit>,
    /// What a step would make of `lead`, `phase` and `remaining` (also what `load` carries
    /// into the wrap registers).
    step_lead: Signal<Local, Bits<CB>>,
    step_phase: Signal<Local, Bit>,
    step_remaining: Signal<Local, Bits<CB>>,
    /// A step lands on an emitting position (before `remaining` is consulted).
    step_emit: Signal<Local, Bit>,
    /// `step_remaining != 0`, from the registers.
    step_rem_nz: Signal<Local, Bit>,
    /// The wrap registers after a step.
    w_step_lead: Signal<Local, Bits<CB>>,
    w_step_phase: Signal<Local, Bit>,
    w_step_remaining: Signal<Local, Bits<CB>>,
    w_step_emit: Signal<Local, Bit>,
    w_step_rem_nz: Signal<Local, Bit>,
    /// The values `load` gives `lead`, `remaining`, `last` and `short_last`.
    load_lead: Signal<Local, Bits<CB>>,
    load_remaining: Signal<Local, Bits<CB>>,
    load_last: Signal<Local, Bits<CB>>,
    load_short_last: Signal<Local, Bits<CB>>,
    pos_succ: Signal<Local, Bits<CB>>,
    pos_succ2: Signal<Local, Bits<CB>>,
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
            extend: Default::default(),
            carry: Default::default(),
            flags: Default::default(),
            at_real: Default::default(),
            at_end: Default::default(),
            next_at_end: Default::default(),
            at_last_real: Default::default(),
            emit: Default::default(),
            last_emit: Default::default(),
            wrap_emit: Default::default(),
            wrap_flags: Default::default(),
            prev_emit: Default::default(),
            prev_flags: Default::default(),
            half: Constant::new((half as u64).into()),
            min_cols: Constant::new((half.max(2) as u64).into()),
            one: Constant::new(1.into()),
            e0_even: Constant::new((e0_even as u64).into()),
            pos: Default::default(),
            last: Default::default(),
            size_m1: Default::default(),
            short_last: Default::default(),
            lead: Default::default(),
            phase: Default::default(),
            s2: Default::default(),
            remaining: Default::default(),
            in_image: Default::default(),
            w_lead: Default::default(),
            w_phase: Default::default(),
            w_remaining: Default::default(),
            w_image: Default::default(),
            p_emit: Default::default(),
            p_image: Default::default(),
            emit_r: Default::default(),
            w_emit_r: Default::default(),
            end_ext: Default::default(),
            end_short: Default::default(),
            next_end_ext: Default::default(),
            next_end_short: Default::default(),
            step_lead: Default::default(),
            step_phase: Default::default(),
            step_remaining: Default::default(),
            step_emit: Default::default(),
            step_rem_nz: Default::default(),
            w_step_lead: Default::default(),
            w_step_phase: Default::default(),
            w_step_remaining: Default::default(),
            w_step_emit: Default::default(),
            w_step_rem_nz: Default::default(),
            load_lead: Default::default(),
            load_remaining: Default::default(),
            load_last: Default::default(),
            load_short_last: Default::default(),
            pos_succ: Default::default(),
            pos_succ2: Default::default(),
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
        dff_setup!(
            self,
            clock,
            pos,
            last,
            size_m1,
            short_last,
            lead,
            phase,
            s2,
            remaining,
            in_image,
            w_lead,
            w_phase,
            w_remaining,
            w_image,
            p_emit,
            p_image,
            emit_r,
            w_emit_r,
            end_ext,
            end_short,
            next_end_ext,
            next_end_short
        );
        self.flags.next = self.in_image.q.val();
        self.at_real.next = (self.in_image.q.val() & self.one.val()).any();
        if self.extend.val() {
            self.at_end.next = self.end_ext.q.val();
            self.next_at_end.next = self.next_end_ext.q.val();
        } else {
            self.at_end.next = self.end_short.q.val();
            self.next_at_end.next = self.next_end_short.q.val();
        }
        self.at_last_real.next = self.pos.q.val() == self.size_m1.q.val();
        self.emit.next = self.emit_r.q.val();
        self.last_emit.next = self.emit_r.q.val() && (self.remaining.q.val() == 1);
        self.wrap_emit.next = self.w_emit_r.q.val();
        self.wrap_flags.next = self.w_image.q.val();
        self.prev_emit.next = self.p_emit.q.val();
        self.prev_flags.next = self.p_image.q.val();
        // Next states, from the registers alone: `load` and `step` only choose among them.
        // A step: the lead counts down to the first emission, then the phase alternates at
        // stride 2 and each emission uses one of the remaining.
        self.step_lead.next = self.lead.q.val();
        self.step_phase.next = self.phase.q.val();
        self.step_remaining.next = self.remaining.q.val();
        if self.lead.q.val() == 0 {
            self.step_phase.next = self.s2.q.val() && !self.phase.q.val();
            if !self.phase.q.val() {
                self.step_remaining.next = self.remaining.q.val() - 1;
            }
        } else {
            self.step_lead.next = self.lead.q.val() - 1;
        }
        // The emit predicates from the registers, not from the decremented values (for Fmax:
        // `load`/`step` select among them, no carry chain after the select): `lead − 1 == 0`
        // is `lead == 1`, `(remaining − 1) != 0` is `remaining != 1`.
        self.step_emit.next =
            ((self.lead.q.val() == 0) || (self.lead.q.val() == 1)) && !self.step_phase.val();
        self.step_rem_nz.next = self.remaining.q.val().any();
        if (self.lead.q.val() == 0) && !self.phase.q.val() {
            self.step_rem_nz.next = self.remaining.q.val() != 1;
        }
        // The carried-on scan emits only while emissions remain: it runs on past its end.
        self.w_step_lead.next = self.w_lead.q.val();
        self.w_step_phase.next = self.w_phase.q.val();
        self.w_step_remaining.next = self.w_remaining.q.val();
        if self.w_lead.q.val() == 0 {
            self.w_step_phase.next = self.s2.q.val() && !self.w_phase.q.val();
            if !self.w_phase.q.val() && self.w_remaining.q.val().any() {
                self.w_step_remaining.next = self.w_remaining.q.val() - 1;
            }
        } else {
            self.w_step_lead.next = self.w_lead.q.val() - 1;
        }
        self.w_step_emit.next =
            ((self.w_lead.q.val() == 0) || (self.w_lead.q.val() == 1)) && !self.w_step_phase.val();
        self.w_step_rem_nz.next = self.w_remaining.q.val().any();
        if (self.w_lead.q.val() == 0) && !self.w_phase.q.val() {
            self.w_step_rem_nz.next = self.w_remaining.q.val() > 1;
        }
        self.pos_succ.next = self.pos.q.val() + 1;
        self.pos_succ2.next = self.pos.q.val() + 2;
        self.load_last.next = self.size.val() - 1 + self.half.val();
        if self.size.val() < self.min_cols.val() {
            self.load_short_last.next = self.min_cols.val() - 1;
        } else {
            self.load_short_last.next = self.size.val() - 1;
        }
        if self.stride2.val() {
            self.load_remaining.next = (self.size.val() >> 1) + (self.size.val() & 1);
            if (self.size.val() & 1) == 1 {
                self.load_lead.next = self.half.val();
            } else {
                self.load_lead.next = self.e0_even.val();
            }
        } else {
            self.load_remaining.next = self.size.val();
            self.load_lead.next = self.half.val();
        }
        if self.load.val() {
            // Carry: the wrap registers take the state a step would give (position `Wp`).
            self.w_lead.d.next = self.step_lead.val();
            self.w_phase.d.next = self.step_phase.val();
            self.w_image.d.next = self.in_image.q.val() << 1;
            if self.carry.val() {
                self.w_remaining.d.next = self.step_remaining.val();
                self.w_emit_r.d.next = self.step_emit.val() && self.step_rem_nz.val();
            } else {
                self.w_remaining.d.next = 0.into();
                self.w_emit_r.d.next = false;
            }
            self.p_emit.d.next = false;
            self.p_image.d.next = 0.into();
            self.pos.d.next = 0.into();
            self.size_m1.d.next = self.size.val() - 1;
            self.last.d.next = self.load_last.val();
            self.short_last.d.next = self.load_short_last.val();
            self.end_ext.d.next = self.load_last.val() == 0;
            self.end_short.d.next = self.load_short_last.val() == 0;
            self.next_end_ext.d.next = self.load_last.val() == 1;
            self.next_end_short.d.next = self.load_short_last.val() == 1;
            self.s2.d.next = self.stride2.val();
            self.phase.d.next = false;
            self.in_image.d.next = 1.into();
            self.remaining.d.next = self.load_remaining.val();
            self.lead.d.next = self.load_lead.val();
            self.emit_r.d.next = self.load_lead.val() == 0;
        } else if self.step.val() {
            self.p_emit.d.next = self.emit_r.q.val();
            self.p_image.d.next = self.in_image.q.val();
            self.pos.d.next = self.pos_succ.val();
            self.end_ext.d.next = self.pos_succ.val() == self.last.q.val();
            self.end_short.d.next = self.pos_succ.val() == self.short_last.q.val();
            self.next_end_ext.d.next = self.pos_succ2.val() == self.last.q.val();
            self.next_end_short.d.next = self.pos_succ2.val() == self.short_last.q.val();
            self.in_image.d.next = (self.in_image.q.val() << 1)
                | bit_cast::<DK, 1>((self.pos.q.val() < self.size_m1.q.val()).into());
            self.lead.d.next = self.step_lead.val();
            self.phase.d.next = self.step_phase.val();
            self.remaining.d.next = self.step_remaining.val();
            self.emit_r.d.next = self.step_emit.val();
            // The wrap scan's positions lie right of the image: validity shifts in 0.
            self.w_image.d.next = self.w_image.q.val() << 1;
            self.w_lead.d.next = self.w_step_lead.val();
            self.w_phase.d.next = self.w_step_phase.val();
            self.w_remaining.d.next = self.w_step_remaining.val();
            self.w_emit_r.d.next = self.w_step_emit.val() && self.w_step_rem_nz.val();
        }
    }
}
