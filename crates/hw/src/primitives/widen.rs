//! Widening of an `I`-bit value to `O` bits, sign- or zero-extended, combinational.
//!
//! rust-hdl's `hdl_gen` evaluates a `bit_cast::<O, I>(…)` call's width from the call itself,
//! outside any loop, so a cast whose operand is indexed by a loop variable does not compile.
//! Vectors of blocks (one per lane or tap) widen through this primitive instead.

use rust_hdl::prelude::*;

/// `y = extend(a)`: sign-extended when built with [`Widen::signed`], zero-extended with
/// [`Widen::unsigned`] (the default). Requires `I ≤ O`.
#[derive(LogicBlock)]
pub struct Widen<const I: usize, const O: usize> {
    pub a: Signal<In, Bits<I>>,
    pub y: Signal<Out, Bits<O>>,
    /// Sign extension (ignored by the HDL generator: leading underscore).
    _signed: bool,
}

impl<const I: usize, const O: usize> Default for Widen<I, O> {
    fn default() -> Self {
        Self::unsigned()
    }
}

impl<const I: usize, const O: usize> Widen<I, O> {
    fn build(signed: bool) -> Self {
        assert!(I >= 1 && I <= O && O <= 128, "Widen<{I}, {O}>: need 1 <= I <= O <= 128");
        Self { a: Default::default(), y: Default::default(), _signed: signed }
    }
    /// Sign extension.
    pub fn signed() -> Self {
        Self::build(true)
    }
    /// Zero extension.
    pub fn unsigned() -> Self {
        Self::build(false)
    }
    /// The Rust model on raw bits (`O ≤ 128`).
    pub fn model(a: u128, signed: bool) -> u128 {
        let a = if I == 128 { a } else { a & ((1u128 << I) - 1) };
        let mask_o = if O == 128 { u128::MAX } else { (1u128 << O) - 1 };
        if signed && (a >> (I - 1)) & 1 == 1 {
            let high = if I == 128 { 0 } else { u128::MAX << I };
            (a | high) & mask_o
        } else {
            a
        }
    }
}

impl<const I: usize, const O: usize> Logic for Widen<I, O> {
    fn update(&mut self) {
        let mut a = 0u128;
        for k in 0..I {
            if self.a.val().get_bit(k) {
                a |= 1 << k;
            }
        }
        let y = Self::model(a, self._signed);
        let mut out = Bits::<O>::default();
        for k in 0..O {
            out = out.replace_bit(k, (y >> k) & 1 == 1);
        }
        self.y.next = out;
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        let body = if O == I {
            "y = a;".to_string()
        } else if self._signed {
            format!("y = {{{{{}{{a[{}]}}}}, a}};", O - I, I - 1)
        } else {
            format!("y = {{{}'d0, a}};", O - I)
        };
        Verilog::Custom(format!("always @(*) begin\n   {body}\nend\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of};

    fn check<const I: usize, const O: usize>(signed: bool) {
        let mut uut = if signed { Widen::<I, O>::signed() } else { Widen::<I, O>::unsigned() };
        uut.connect_all();
        for v in [0u128, 1, (1 << (I - 1)) - 1, 1 << (I - 1), (1 << I) - 1, 5] {
            let mut a = Bits::<I>::default();
            for k in 0..I {
                a = a.replace_bit(k, (v >> k) & 1 == 1);
            }
            uut.a.next = a;
            assert!(simulate(&mut uut, 10));
            let want: i128 = if signed && (v >> (I - 1)) & 1 == 1 { v as i128 - (1i128 << I) } else { v as i128 };
            let mut got = 0u128;
            for k in 0..O {
                if uut.y.val().get_bit(k) {
                    got |= 1 << k;
                }
            }
            let want = (want as u128) & if O == 128 { u128::MAX } else { (1u128 << O) - 1 };
            assert_eq!(got, want, "Widen<{I},{O}> signed={signed} of {v:#x}");
        }
    }

    #[test]
    fn extends_corner_values() {
        check::<16, 19>(true);
        check::<16, 19>(false);
        check::<19, 32>(true);
        check::<8, 64>(false);
        check::<8, 8>(true);
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for v in [
            verilog_of(&mut Widen::<16, 19>::signed()),
            verilog_of(&mut Widen::<8, 64>::unsigned()),
            verilog_of(&mut Widen::<8, 8>::signed()),
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
