//! Signed 32 × 32 multiply for Q31 arithmetic, pipelined over four clock edges: bits 62..30 of
//! the 64-bit product.
//!
//! rust-hdl 0.46 multiplies only 16-bit operands; the requantizer needs the full signed
//! product of an int32 accumulator and a Q31 multiplier. This primitive's Verilog splits each
//! operand into a signed high and an unsigned low half and pipelines the partial products, so
//! no stage holds more than one DSP or one adder (a single `a * b` puts four DSP blocks and
//! two wide adders between two registers, the requantizer's critical path):
//!
//! | edge | stage |
//! |---|---|
//! | 1 | operands registered |
//! | 2 | `ah·bh`, `ah·bl`, `al·bh`, `al·bl` registered (one 18×18 / 16×16 DSP block each) |
//! | 3 | `mid = ah·bl + al·bh`; `ah·bh` and `al·bl` carried |
//! | 4 | `{ah·bh, al·bl} + mid·2¹⁶` (the two outer products do not overlap: a concatenation) |
//!
//! Its Rust model is the same four-stage shift register over `i64` arithmetic on raw bits.
//! Behind `` `ifdef DSCGEN_ECP5_DSP `` the operand and product registers of edges 1 and 2 are
//! four MULT18X18D's own ([`super::ecp5_dsp`]); the rest is the same.
//!
//! Only bits 63..30 leave the block: a Q31 multiply (`SaturatingRoundingDoublingHighMul`)
//! needs bits 62..31 and the rounding bit 30, and bit 63 differs from bit 62 only for
//! `INT32_MIN × INT32_MIN` (the product `2^62`; every other product has magnitude below it),
//! so the caller detects its saturation case from the product, without a comparator on the
//! operands. Emitting the unused low bits would make every caller fail `verilator -Wall`
//! (UNUSEDSIGNAL).
//!
//! Latency [`Mul32x32::LATENCY`] = 4: operands present before edge `t` give their product
//! after edge `t + 3`. There is no enable: the pipeline always advances.

use super::ecp5_dsp::{mult18x18d, ECP5_DSP_DEFINE};
use rust_hdl::prelude::*;

/// `hi = (a · b)[63:30]` (both signed int32, two's-complement bit patterns), four cycles later.
#[derive(LogicBlock, Default)]
pub struct Mul32x32 {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<32>>,
    pub b: Signal<In, Bits<32>>,
    pub hi: Signal<Out, Bits<34>>,
    /// Simulation state (leading underscore: not emitted): the registered operands and the
    /// products of the two stages behind them.
    _a: u32,
    _b: u32,
    _p: [u64; 2],
}

impl Mul32x32 {
    /// Clock edges from operands to product.
    pub const LATENCY: usize = 4;

    /// The Rust model: bits 63..30 of the signed product.
    pub fn model(a: u32, b: u32) -> u64 {
        let p = (a as i32 as i64).wrapping_mul(b as i32 as i64) as u64;
        p >> 30
    }
}

impl Logic for Mul32x32 {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.hi.next = Bits::from(self._p[1]);
            self._p[1] = self._p[0];
            self._p[0] = Self::model(self._a, self._b);
            self._a = self.a.val().to_u32();
            self._b = self.b.val().to_u32();
        }
    }

    fn connect(&mut self) {
        self.hi.connect();
    }

    fn hdl(&self) -> Verilog {
        let hi_a = "{{2{a[31]}}, a[31:16]}";
        let hi_b = "{{2{b[31]}}, b[31:16]}";
        let lo_a = "{2'b00, a[15:0]}";
        let lo_b = "{2'b00, b[15:0]}";
        let dsps = [
            mult18x18d("hh_dsp", hi_a, hi_b, "hh_p", None),
            mult18x18d("hl_dsp", hi_a, lo_b, "hl_p", None),
            mult18x18d("lh_dsp", lo_a, hi_b, "lh_p", None),
            mult18x18d("ll_dsp", lo_a, lo_b, "ll_p", None),
        ]
        .concat();
        Verilog::Custom(format!(
            "\
`ifdef {ECP5_DSP_DEFINE}
// Four MULT18X18D holding the operand and product registers (edges 1 and 2); each 18-bit
// operand is a half extended by its own signedness, so one signed multiply serves all four.
/* verilator lint_off UNUSEDSIGNAL */
wire [35:0] hh_p;
wire [35:0] hl_p;
wire [35:0] lh_p;
wire [35:0] ll_p;
/* verilator lint_on UNUSEDSIGNAL */
{dsps}wire signed [31:0] hh = hh_p[31:0];
wire signed [32:0] hl = hl_p[32:0];
wire signed [32:0] lh = lh_p[32:0];
wire [31:0] ll = ll_p[31:0];
`else
reg [31:0] a_r;
reg [31:0] b_r;
// Halves: high signed, low unsigned, extended to the width of their product (yosys narrows
// each multiply back to one DSP block).
wire signed [31:0] ah32 = {{{{16{{a_r[31]}}}}, a_r[31:16]}};
wire signed [31:0] bh32 = {{{{16{{b_r[31]}}}}, b_r[31:16]}};
wire signed [32:0] ah33 = {{{{17{{a_r[31]}}}}, a_r[31:16]}};
wire signed [32:0] bh33 = {{{{17{{b_r[31]}}}}, b_r[31:16]}};
wire signed [32:0] al33 = {{17'b0, a_r[15:0]}};
wire signed [32:0] bl33 = {{17'b0, b_r[15:0]}};
wire [31:0] al32 = {{16'b0, a_r[15:0]}};
wire [31:0] bl32 = {{16'b0, b_r[15:0]}};
// `keep` on the outer products: yosys 0.23's ice40_dsp packs a product register that feeds
// only another register wrongly (the second register is driven by a constant x, two MAC16s
// vanish); kept, each product stays one SB_MAC16 with its own output register.
(* keep *) reg signed [31:0] hh;
reg signed [32:0] hl;
reg signed [32:0] lh;
(* keep *) reg [31:0] ll;
always @(posedge clock) begin
   a_r <= a;
   b_r <= b;
   hh <= ah32 * bh32;
   hl <= ah33 * bl33;
   lh <= al33 * bh33;
   ll <= al32 * bl32;
end
`endif
reg [33:0] mid;
reg [31:0] hh2;
reg [31:0] ll2;
// Bits 29..0 are not needed by any caller (see the module docs).
/* verilator lint_off UNUSEDSIGNAL */
wire [63:0] p = {{hh2, ll2}} + {{{{14{{mid[33]}}}}, mid, 16'b0}};
/* verilator lint_on UNUSEDSIGNAL */
always @(posedge clock) begin
   mid <= {{hl[32], hl}} + {{lh[32], lh}};
   hh2 <= hh;
   ll2 <= ll;
   hi <= p[63:30];
end
"
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "mul32x32".into(),
            clock: "clock".into(),
            inputs: vec!["a".into(), "b".into()],
            outputs: vec!["hi".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{
        iverilog_compile, iverilog_run, iverilog_run_ecp5_dsp, lint, lint_ecp5_dsp, require_tool,
        verilog_of, yosys_stat, Target,
    };
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Operands with the corner values mixed in.
    fn operand(rng: &mut ChaCha8Rng) -> u32 {
        const CORNERS: [i32; 7] = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX, 1 << 30];
        if rng.gen_bool(0.3) {
            CORNERS[rng.gen_range(0..CORNERS.len())] as u32
        } else {
            rng.gen()
        }
    }

    #[test]
    fn high_product_four_cycles_later() {
        let mut uut = Mul32x32::default();
        uut.connect_all();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let ops: Vec<(u32, u32)> = (0..2000).map(|_| (operand(&mut rng), operand(&mut rng))).collect();
        for (t, &(a, b)) in ops.iter().enumerate() {
            uut.a.next = (a as u64).into();
            uut.b.next = (b as u64).into();
            uut.clock.next = Clock::from(false);
            assert!(simulate(&mut uut, 10));
            uut.clock.next = Clock::from(true);
            assert!(simulate(&mut uut, 10));
            if t + 1 >= Mul32x32::LATENCY {
                let (pa, pb) = ops[t + 1 - Mul32x32::LATENCY];
                let full = pa as i32 as i128 * pb as i32 as i128;
                let want = ((full >> 30) as u64) & ((1 << 34) - 1);
                assert_eq!(uut.hi.val().to_u64(), want, "{} * {}", pa as i32, pb as i32);
            }
        }
    }

    /// Icarus runs the pipelined Verilog (both branches) on random operands (corners mixed
    /// in) and reads the model's product `LATENCY` edges later.
    #[test]
    fn verilog_matches_the_model() {
        if !(require_tool("iverilog") && require_tool("vvp")) {
            return;
        }
        let v = verilog_of(&mut Mul32x32::default());
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let n = 3000;
        let ops: Vec<(u32, u32)> = (0..n).map(|_| (operand(&mut rng), operand(&mut rng))).collect();
        let vectors: String =
            ops.iter().map(|&(a, b)| format!("{a:08x}{b:08x}{:09x}\n", Mul32x32::model(a, b))).collect();
        let tb = format!(
            "\
module tb;
reg clock;
reg [31:0] a, b;
wire [33:0] hi;
reg [99:0] vec [0:{last}];
integer i, errors;
top dut(.clock(clock), .a(a), .b(b), .hi(hi));
initial begin
  $readmemh(\"vectors.hex\", vec);
  errors = 0; clock = 0;
  for (i = 0; i + 1 < {n} + {lat}; i = i + 1) begin
    if (i < {n}) begin a = vec[i][99:68]; b = vec[i][67:36]; end
    #5 clock = 1;
    #5 clock = 0;
    if (i + 1 >= {lat} && hi !== vec[i + 1 - {lat}][33:0]) begin
      errors = errors + 1;
      if (errors < 10) $display(\"MISMATCH %0d: %h want %h\", i + 1 - {lat}, hi, vec[i + 1 - {lat}][33:0]);
    end
  end
  $display(\"ERRORS %0d\", errors);
  $finish;
end
endmodule
",
            last = n - 1,
            lat = Mul32x32::LATENCY,
        );
        let out = iverilog_run(&v, &tb, &[("vectors.hex", vectors.clone())]).unwrap();
        assert!(out.contains("ERRORS 0"), "portable: {out}");
        let out = iverilog_run_ecp5_dsp(&v, &tb, &[("vectors.hex", vectors)]).unwrap();
        assert!(out.contains("ERRORS 0"), "ECP5 branch (sim/MULT18X18D.v): {out}");
    }

    /// Both branches lint clean (the ECP5 one with the MULT18X18D model).
    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        let v = verilog_of(&mut Mul32x32::default());
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
            lint_ecp5_dsp(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
    }

    #[test]
    fn maps_to_dsp_blocks() {
        if !require_tool("yosys") {
            return;
        }
        let v = verilog_of(&mut Mul32x32::default());
        for t in [Target::Ice40, Target::Ecp5] {
            let s = yosys_stat(&v, "top", t).unwrap();
            eprintln!("Mul32x32 {s}");
            assert_eq!(s.dsps(), 4, "four 16×16 / 18×18 pieces: {s}");
            assert_eq!(s.latches(), 0, "{s}");
            if t == Target::Ecp5 {
                // Only edges 3 and 4 in the fabric: mid, hh2, ll2, hi (34 + 32 + 32 + 34).
                assert!(s.ffs() <= 132, "operand/product registers left the DSPs: {s}");
            }
        }
    }
}
