//! Weight-stationary cell of the [`SystolicArray`](super::SystolicArray): one int8 MAC with a
//! double-buffered weight, so the next tile's weights load while the current tile computes.
//!
//! The multiply is a [`RegMul8x8`] (on the ECP5 one MULT18X18D with its own registers): its
//! A register takes `a_in` every edge, its B register is the active weight — it takes the
//! shadow weight on the edge that carries `sw_in` (the first pixel of a new tile) and holds it
//! otherwise — and its product register keeps the multiply and the add in different cycles.
//! So per edge: `(A, B) ← (a_in, sw_in ? shadow : B)`, `prod ← A · B`,
//! `psum ← psum_in + prod`: a pixel's product is added two edges after it arrives. Every
//! cell has both registers, so the partial sums stay aligned and the array's latency grows
//! by two; no logic sits between a register and the multiplier. `cap_in` captures the
//! passing `w_in` into the shadow.
//! The activation and its flags (`sw`, `cap`) pass right, the weight and the sum pass down,
//! each through one register: nothing crosses more than one cell per cycle.
//!
//! [`dsc_hw::pe::ProcessingElement`](crate::pe::ProcessingElement) holds one weight, so a
//! tile change there costs `R − 1` idle cycles; with 49-pixel tiles (MobileNet's 7×7 layers)
//! that alone is 12.5% of the time, hence this cell.

use crate::primitives::{RegMul8x8, Widen};
use rust_hdl::prelude::*;

/// One cell with an `ACC`-bit partial sum.
#[derive(LogicBlock)]
pub struct WsCell<const ACC: usize> {
    pub clock: Signal<In, Clock>,
    /// From the left neighbour.
    pub a_in: Signal<In, Bits<8>>,
    pub sw_in: Signal<In, Bit>,
    pub cap_in: Signal<In, Bit>,
    /// From the neighbour above.
    pub w_in: Signal<In, Bits<8>>,
    pub psum_in: Signal<In, Bits<ACC>>,
    /// To the right neighbour (registered).
    pub a_out: Signal<Out, Bits<8>>,
    pub sw_out: Signal<Out, Bit>,
    pub cap_out: Signal<Out, Bit>,
    /// To the neighbour below (registered).
    pub w_out: Signal<Out, Bits<8>>,
    pub psum_out: Signal<Out, Bits<ACC>>,
    /// Operand registers (B = the active weight) and product register.
    mul: RegMul8x8,
    /// The product sign-extended to `ACC` bits.
    ext: Widen<16, ACC>,
    a_reg: DFF<Bits<8>>,
    sw_reg: DFF<Bit>,
    cap_reg: DFF<Bit>,
    w_reg: DFF<Bits<8>>,
    shadow: DFF<Bits<8>>,
    psum: DFF<Bits<ACC>>,
}

impl<const ACC: usize> Default for WsCell<ACC> {
    fn default() -> Self {
        assert!(
            (17..=64).contains(&ACC),
            "WsCell<{ACC}>: accumulator of 17..=64 bits"
        );
        Self {
            clock: Default::default(),
            a_in: Default::default(),
            sw_in: Default::default(),
            cap_in: Default::default(),
            w_in: Default::default(),
            psum_in: Default::default(),
            a_out: Default::default(),
            sw_out: Default::default(),
            cap_out: Default::default(),
            w_out: Default::default(),
            psum_out: Default::default(),
            mul: RegMul8x8::dsp(),
            ext: Widen::signed(),
            a_reg: Default::default(),
            sw_reg: Default::default(),
            cap_reg: Default::default(),
            w_reg: Default::default(),
            shadow: Default::default(),
            psum: Default::default(),
        }
    }
}

impl<const ACC: usize> Logic for WsCell<ACC> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, a_reg, sw_reg, cap_reg, w_reg, shadow, psum);
        self.mul.clock.next = self.clock.val();
        self.mul.a.next = self.a_in.val();
        self.mul.b.next = self.shadow.q.val();
        self.mul.b_en.next = self.sw_in.val();
        if self.cap_in.val() {
            self.shadow.d.next = self.w_in.val();
        }
        self.ext.a.next = self.mul.y.val();
        self.psum.d.next = self.psum_in.val() + self.ext.y.val();
        self.a_reg.d.next = self.a_in.val();
        self.sw_reg.d.next = self.sw_in.val();
        self.cap_reg.d.next = self.cap_in.val();
        self.w_reg.d.next = self.w_in.val();
        self.a_out.next = self.a_reg.q.val();
        self.sw_out.next = self.sw_reg.q.val();
        self.cap_out.next = self.cap_reg.q.val();
        self.w_out.next = self.w_reg.q.val();
        self.psum_out.next = self.psum.q.val();
    }
}
