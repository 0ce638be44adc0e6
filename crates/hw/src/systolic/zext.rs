//! Zero extension of an `I`-bit value to `O` bits, combinational, any widths.
//!
//! The packing loops of the array and the pointwise stage widen a per-column field to the
//! bus width (`ACC·C` bits, 208 for an 8×8 array); `primitives::Widen` models through `u128`
//! and stops at 128 bits, and `bit_cast` cannot take a loop-indexed operand (DESIGN §5).

use rust_hdl::prelude::*;

/// `y = {0…, a}`.
#[derive(LogicBlock, Default)]
pub struct ZeroExtend<const I: usize, const O: usize> {
    pub a: Signal<In, Bits<I>>,
    pub y: Signal<Out, Bits<O>>,
}

impl<const I: usize, const O: usize> Logic for ZeroExtend<I, O> {
    fn update(&mut self) {
        self.y.next = bit_cast::<O, I>(self.a.val());
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        assert!(I >= 1 && I <= O, "ZeroExtend<{I}, {O}>: need 1 <= I <= O");
        let body = if O == I { "y = a;".to_string() } else { format!("y = {{{}'d0, a}};", O - I) };
        Verilog::Custom(format!("always @(*) begin\n   {body}\nend\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extends_beyond_128_bits() {
        let mut z = ZeroExtend::<26, 208>::default();
        z.connect_all();
        z.a.next = Bits::from((1u64 << 26) - 1);
        assert!(simulate(&mut z, 10));
        assert_eq!(z.y.val(), Bits::<208>::from((1u64 << 26) - 1));
        assert!(!z.y.val().get_bit(26));
    }
}
