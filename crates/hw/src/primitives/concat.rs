//! Concatenation of two `I`-bit words into one `O`-bit word, `y = {0…, hi, lo}`,
//! combinational.
//!
//! Like [`Widen`](super::Widen) this exists because `hdl_gen` cannot cast an operand indexed
//! by a loop variable, and it has no 128-bit limit: the wide window generator joins two line
//! buffer words of up to 256 bits into a window-wide (576-bit) word, one per window row.

use rust_hdl::prelude::*;

/// `y = (hi << I) | lo`, zero-extended to `O` bits. Requires `2·I ≤ O`.
#[derive(LogicBlock)]
pub struct Concat2<const I: usize, const O: usize> {
    pub lo: Signal<In, Bits<I>>,
    pub hi: Signal<In, Bits<I>>,
    pub y: Signal<Out, Bits<O>>,
}

impl<const I: usize, const O: usize> Default for Concat2<I, O> {
    fn default() -> Self {
        assert!(I >= 1 && 2 * I <= O, "Concat2<{I}, {O}>: need 1 <= I and 2·I <= O");
        Self { lo: Default::default(), hi: Default::default(), y: Default::default() }
    }
}

impl<const I: usize, const O: usize> Logic for Concat2<I, O> {
    fn update(&mut self) {
        let (lo, hi) = (self.lo.val(), self.hi.val());
        let mut out = Bits::<O>::default();
        for k in 0..I {
            out = out.replace_bit(k, lo.get_bit(k)).replace_bit(I + k, hi.get_bit(k));
        }
        self.y.next = out;
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        let body = if O == 2 * I {
            "y = {hi, lo};".to_string()
        } else {
            format!("y = {{{}'d0, hi, lo}};", O - 2 * I)
        };
        Verilog::Custom(format!("always @(*) begin\n   {body}\nend\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of};

    #[test]
    fn joins_the_words() {
        let mut uut = Concat2::<8, 20>::default();
        uut.connect_all();
        uut.lo.next = 0xA5.into();
        uut.hi.next = 0x3C.into();
        assert!(simulate(&mut uut, 10));
        assert_eq!(uut.y.val(), Bits::<20>::from(0x3CA5u64));
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for v in [verilog_of(&mut Concat2::<8, 20>::default()), verilog_of(&mut Concat2::<8, 16>::default())] {
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
        }
    }
}
