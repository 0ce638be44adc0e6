//! Sign extension of an int8 to 16 bits.
//!
//! rust-hdl's `signed_bit_cast` recurses forever on the most negative value, so the Rust
//! model here goes through the raw bit pattern and the Verilog replicates the sign bit.

use super::Word16;
use rust_hdl::prelude::*;

/// `y = sign_extend(a)`: combinational, `T` is `Signed<16>` or `Bits<16>`.
#[derive(LogicBlock, Default)]
pub struct SignExtend8To16<T: Word16> {
    pub a: Signal<In, Bits<8>>,
    pub y: Signal<Out, T>,
}

impl<T: Word16> Logic for SignExtend8To16<T> {
    fn update(&mut self) {
        let v = self.a.val().to_u8() as i8 as i16;
        self.y.next = T::from_raw(v as u16);
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            "\
always @(*) begin
   y = {{8{a[7]}}, a};
end
"
            .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::i8_bits;
    use crate::verify::{iverilog_compile, iverilog_run, lint, require_tool, verilog_of};

    fn check_all<T: Word16>() {
        let mut uut = SignExtend8To16::<T>::default();
        uut.connect_all();
        for v in i8::MIN..=i8::MAX {
            uut.a.next = i8_bits(v);
            assert!(simulate(&mut uut, 10));
            assert_eq!(uut.y.val().raw() as i16, v as i16, "a = {v}");
        }
    }

    #[test]
    fn every_int8_extends_right_signed() {
        check_all::<Signed<16>>();
    }

    #[test]
    fn every_int8_extends_right_bits() {
        check_all::<Bits<16>>();
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for v in [
            verilog_of(&mut SignExtend8To16::<Signed<16>>::default()),
            verilog_of(&mut SignExtend8To16::<Bits<16>>::default()),
        ] {
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
        }
    }

    /// Icarus gives, for every byte, exactly the rust-hdl model's extension.
    #[test]
    fn verilog_matches_the_rust_model_on_every_byte() {
        if !require_tool("iverilog") || !require_tool("vvp") {
            return;
        }
        let mut uut = SignExtend8To16::<Bits<16>>::default();
        let v = verilog_of(&mut uut);
        let mut vectors = String::new();
        for a in 0..=255u8 {
            uut.a.next = a.to_bits();
            assert!(simulate(&mut uut, 10));
            vectors += &format!("{a:02x}{:04x}\n", uut.y.val().to_u16());
        }
        let tb = "\
module tb;
reg [7:0] a;
wire [15:0] y;
reg [23:0] vec [0:255];
integer i, errors;
top dut(.a(a), .y(y));
initial begin
  $readmemh(\"vectors.hex\", vec);
  errors = 0;
  for (i = 0; i < 256; i = i + 1) begin
    a = vec[i][23:16];
    #1;
    if (y !== vec[i][15:0]) errors = errors + 1;
  end
  $display(\"CHECKED %0d ERRORS %0d\", i, errors);
  $finish;
end
endmodule
";
        let out = iverilog_run(&v, tb, &[("vectors.hex", vectors)]).unwrap();
        assert!(out.contains("CHECKED 256 ERRORS 0"), "{out}");
    }
}
