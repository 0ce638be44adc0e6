//! Signed int8 × int8 → 16-bit product, combinational.
//!
//! rust-hdl 0.46 has `Mul` only for 16-bit operands and its signed paths fail on −128; this
//! primitive's model multiplies raw bit patterns as `i8` and its Verilog multiplies
//! sign-extended 16-bit operands, which yosys maps to one SB_MAC16 (with `-dsp`) or one
//! MULT18X18D. The product of two int8 always fits 16 bits (−128·−128 = 16384).
//!
//! The LUT form ([`Mul8x8::booth`], for fabrics whose DSPs are taken) writes the product as
//! four radix-4 Booth rows and one sum: 124 SB_LUT4 on the iCE40 where yosys' generic soft
//! multiplier of the `*` form takes 182.
//!
//! The engine's lanes and systolic cells use [`RegMul8x8`](super::RegMul8x8) (the multiply
//! with its registers, the DSP block's own on the ECP5), whose LUT form is this Booth body;
//! the combinational form serves [`ProcessingElement`](crate::pe::ProcessingElement).

use super::Word16;
use rust_hdl::prelude::*;

/// `y = a · b` as signed int8 operands; `T` is `Signed<16>` or `Bits<16>`.
#[derive(LogicBlock)]
pub struct Mul8x8<T: Word16> {
    pub a: Signal<In, Bits<8>>,
    pub b: Signal<In, Bits<8>>,
    pub y: Signal<Out, T>,
    /// The Booth (LUT) form (ignored by the HDL generator: leading underscore).
    _booth: bool,
}

impl<T: Word16> Default for Mul8x8<T> {
    fn default() -> Self {
        Self { a: Default::default(), b: Default::default(), y: Default::default(), _booth: false }
    }
}

impl<T: Word16> Mul8x8<T> {
    /// The LUT form: radix-4 Booth rows instead of a `*` (same product, same ports).
    pub fn booth() -> Self {
        Self { _booth: true, ..Self::default() }
    }

    /// The Rust model: the product of the two bytes read as int8.
    pub fn model(a: i8, b: i8) -> i16 {
        a as i16 * b as i16
    }
}

impl<T: Word16> Logic for Mul8x8<T> {
    fn update(&mut self) {
        let p = Self::model(self.a.val().to_u8() as i8, self.b.val().to_u8() as i8);
        self.y.next = T::from_raw(p as u16);
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        if self._booth {
            return Verilog::Custom(booth_verilog("y"));
        }
        Verilog::Custom(
            "\
wire signed [15:0] a16 = {{8{a[7]}}, a};
wire signed [15:0] b16 = {{8{b[7]}}, b};
always @(*) begin
   y = a16 * b16;
end
"
            .into(),
        )
    }
}

/// The Booth form's body, assigning the product of `a` and `b` to the 16-bit reg `out`. Digit
/// `j` of `b` (bits `2j+1, 2j, 2j−1`, `b[−1] = 0`) selects 0, ±a or ±2a as a 10-bit row; a
/// negative digit (`b[2j+1]`) inverts the row and adds 1 at its weight; each row's sign bit is
/// inverted instead of extended, and `16'h5600 = −2⁹·(1 + 4 + 16 + 64) mod 2¹⁶` makes up for
/// it.
pub(super) fn booth_verilog(out: &str) -> String {
    BOOTH_VERILOG.replace("   y = 16'h5600", &format!("   {out} = 16'h5600"))
}

const BOOTH_VERILOG: &str = "\
function [9:0] booth_row;
   input [2:0] g;
   input [7:0] x;
   begin
      case (g)
         3'b001, 3'b010, 3'b101, 3'b110: booth_row = {{2{x[7]}}, x};
         3'b011, 3'b100: booth_row = {x[7], x, 1'b0};
         default: booth_row = 10'd0;
      endcase
      booth_row = booth_row ^ {10{g[2]}};
   end
endfunction
wire [9:0] p0 = booth_row({b[1], b[0], 1'b0}, a);
wire [9:0] p1 = booth_row(b[3:1], a);
wire [9:0] p2 = booth_row(b[5:3], a);
wire [9:0] p3 = booth_row(b[7:5], a);
always @(*) begin
   y = 16'h5600
       + {6'd0, ~p0[9], p0[8:0]} + {15'd0, b[1]}
       + {4'd0, ~p1[9], p1[8:0], 2'd0} + {13'd0, b[3], 2'd0}
       + {2'd0, ~p2[9], p2[8:0], 4'd0} + {11'd0, b[5], 4'd0}
       + {~p3[9], p3[8:0], 6'd0} + {9'd0, b[7], 6'd0};
end
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::i8_bits;
    use crate::verify::{
        iverilog_compile, iverilog_run, lint, require_tool, verilog_of, yosys_stat, Target,
    };

    fn check_all_pairs<T: Word16>() {
        let mut uut = Mul8x8::<T>::default();
        uut.connect_all();
        for a in i8::MIN..=i8::MAX {
            for b in i8::MIN..=i8::MAX {
                uut.a.next = i8_bits(a);
                uut.b.next = i8_bits(b);
                assert!(simulate(&mut uut, 10));
                assert_eq!(uut.y.val().raw() as i16, a as i16 * b as i16, "{a} * {b}");
            }
        }
    }

    #[test]
    fn all_65536_pairs_signed() {
        check_all_pairs::<Signed<16>>();
    }

    #[test]
    fn all_65536_pairs_bits() {
        check_all_pairs::<Bits<16>>();
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for mut uut in [Mul8x8::<Signed<16>>::default(), Mul8x8::booth()] {
            let v = verilog_of(&mut uut);
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
        }
    }

    #[test]
    fn booth_form_is_lut_logic_without_dsp() {
        if !require_tool("yosys") {
            return;
        }
        let v = verilog_of(&mut Mul8x8::<Bits<16>>::booth());
        let ice = yosys_stat(&v, "top", Target::Ice40).unwrap();
        eprintln!("Mul8x8 booth {ice}");
        assert_eq!(ice.count("SB_MAC16"), 0, "{ice}");
        assert_eq!(ice.latches(), 0, "{ice}");
        assert!(ice.luts() <= 130, "{ice}");
    }

    #[test]
    fn maps_to_one_dsp() {
        if !require_tool("yosys") {
            return;
        }
        let v = verilog_of(&mut Mul8x8::<Signed<16>>::default());
        let ice = yosys_stat(&v, "top", Target::Ice40).unwrap();
        assert_eq!(ice.count("SB_MAC16"), 1, "{ice}");
        assert_eq!(ice.latches(), 0, "{ice}");
        let ecp = yosys_stat(&v, "top", Target::Ecp5).unwrap();
        assert_eq!(ecp.count("MULT18X18D"), 1, "{ecp}");
        assert_eq!(ecp.latches(), 0, "{ecp}");
    }

    /// The Verilog under Icarus gives, for all 65,536 pairs, exactly the rust-hdl model's
    /// product.
    #[test]
    fn verilog_matches_the_rust_model_on_all_pairs() {
        verilog_matches_model_on_all_pairs(Mul8x8::default());
    }

    #[test]
    fn booth_verilog_matches_the_rust_model_on_all_pairs() {
        verilog_matches_model_on_all_pairs(Mul8x8::booth());
    }

    fn verilog_matches_model_on_all_pairs(mut uut: Mul8x8<Bits<16>>) {
        if !require_tool("iverilog") || !require_tool("vvp") {
            return;
        }
        let v = verilog_of(&mut uut);
        let mut vectors = String::new();
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                uut.a.next = a.to_bits();
                uut.b.next = b.to_bits();
                assert!(simulate(&mut uut, 10));
                vectors += &format!("{a:02x}{b:02x}{:04x}\n", uut.y.val().to_u16());
            }
        }
        let tb = "\
module tb;
reg [7:0] a, b;
wire [15:0] y;
reg [31:0] vec [0:65535];
integer i, errors;
top dut(.a(a), .b(b), .y(y));
initial begin
  $readmemh(\"vectors.hex\", vec);
  errors = 0;
  for (i = 0; i < 65536; i = i + 1) begin
    a = vec[i][31:24];
    b = vec[i][23:16];
    #1;
    if (y !== vec[i][15:0]) begin
      errors = errors + 1;
      if (errors < 10) $display(\"MISMATCH a=%h b=%h y=%h model=%h\", a, b, y, vec[i][15:0]);
    end
  end
  $display(\"CHECKED %0d ERRORS %0d\", i, errors);
  $finish;
end
endmodule
";
        let out = iverilog_run(&v, tb, &[("vectors.hex", vectors)]).unwrap();
        assert!(out.contains("CHECKED 65536 ERRORS 0"), "{out}");
    }
}
