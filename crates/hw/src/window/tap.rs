//! One tap of the window register: the masked value (`in_zp` outside the image), loaded while
//! the output register is free (a window is emitted then, or nothing is valid), held while the
//! output is stalled.
//!
//! The register drives a `WIN`-wide, zero-extended output so rows and the window are packed
//! with shifts and ORs alone: no cast of an indexed signal (rust-hdl evaluates a `bit_cast`
//! argument outside its loop) and no combinational path from a row's inputs to its outputs
//! (Verilator would see a loop through the parent's single `always` block). yosys removes the
//! constant upper bits.

use rust_hdl::prelude::*;

/// A tap register of `BEAT` bits with a `WIN`-bit output.
#[derive(LogicBlock, Default)]
pub struct TapReg<const BEAT: usize, const WIN: usize> {
    pub clock: Signal<In, Clock>,
    /// The raw tap.
    pub value: Signal<In, Bits<BEAT>>,
    /// The tap lies inside the image (else it becomes `zp`).
    pub in_image: Signal<In, Bit>,
    /// `in_zp` in every lane.
    pub zp: Signal<In, Bits<BEAT>>,
    /// Register the tap.
    pub load: Signal<In, Bit>,
    /// The registered tap, zero-extended.
    pub q: Signal<Out, Bits<WIN>>,
    held: DFF<Bits<WIN>>,
}

impl<const BEAT: usize, const WIN: usize> Logic for TapReg<BEAT, WIN> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, held);
        if self.load.val() {
            if self.in_image.val() {
                self.held.d.next = bit_cast::<WIN, BEAT>(self.value.val());
            } else {
                self.held.d.next = bit_cast::<WIN, BEAT>(self.zp.val());
            }
        }
        self.q.next = self.held.q.val();
    }
}
