//! Signed int8 × int8 → 16-bit product register, optionally with operand registers: the
//! multiply of a DSP block together with the block's own registers.
//!
//! The portable Verilog is a `*` between registers (yosys' iCE40 flow folds them into the
//! SB_MAC16); behind `` `ifdef DSCGEN_ECP5_DSP `` the same registers are a MULT18X18D's own
//! ([`super::ecp5_dsp`]), so on the ECP5 the multiplier's delay ends inside the block instead
//! of crossing the fabric to a flip-flop. The LUT form ([`RegMul8x8::booth`]) is the
//! [`Mul8x8`](super::Mul8x8) Booth product followed by the register, for fabrics whose DSPs
//! are taken.
//!
//! Latency [`RegMul8x8::latency`]: 1 edge (product register), 2 with operand registers.

use super::ecp5_dsp::{mult18x18d, ECP5_DSP_DEFINE};
use super::mul8x8::booth_verilog;
use super::Mul8x8;
use rust_hdl::prelude::*;

/// `y = a · b` (int8 operands) registered, `latency()` edges after the operands.
#[derive(LogicBlock)]
pub struct RegMul8x8 {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<8>>,
    pub b: Signal<In, Bits<8>>,
    pub y: Signal<Out, Bits<16>>,
    /// Form (leading underscore: not emitted): operand registers, LUT (Booth) multiply.
    _operand_regs: bool,
    _booth: bool,
    /// Simulation state: the registered operands.
    _a: u8,
    _b: u8,
}

impl RegMul8x8 {
    /// A DSP multiply with its product register and, when `operand_regs`, operand registers.
    pub fn dsp(operand_regs: bool) -> Self {
        Self {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            _operand_regs: operand_regs,
            _booth: false,
            _a: 0,
            _b: 0,
        }
    }

    /// The LUT (radix-4 Booth) multiply and its product register; no operand registers.
    pub fn booth() -> Self {
        Self {
            _booth: true,
            ..Self::dsp(false)
        }
    }

    /// Edges from operands to `y`.
    pub fn latency(&self) -> usize {
        1 + self._operand_regs as usize
    }
}

impl Logic for RegMul8x8 {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let (a, b) = if self._operand_regs {
                (self._a, self._b)
            } else {
                (self.a.val().to_u8(), self.b.val().to_u8())
            };
            self.y.next = Bits::from(Mul8x8::<Bits<16>>::model(a as i8, b as i8) as u16 as u64);
            self._a = self.a.val().to_u8();
            self._b = self.b.val().to_u8();
        }
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        if self._booth {
            return Verilog::Custom(format!(
                "reg [15:0] prod;\n{}always @(posedge clock) begin\n   y <= prod;\nend\n",
                booth_verilog("prod")
            ));
        }
        let (regs, x, w, reg_ops) = if self._operand_regs {
            (
                "reg [7:0] a_r;\nreg [7:0] b_r;\n",
                "a_r",
                "b_r",
                "   a_r <= a;\n   b_r <= b;\n",
            )
        } else {
            ("", "a", "b", "")
        };
        let dsp = mult18x18d(
            "dsp",
            "{{10{a[7]}}, a}",
            "{{10{b[7]}}, b}",
            "p",
            self._operand_regs,
        );
        Verilog::Custom(format!(
            "\
`ifdef {ECP5_DSP_DEFINE}
// One MULT18X18D holding the registers; bits 35..16 repeat the sign.
/* verilator lint_off UNUSEDSIGNAL */
wire [35:0] p;
/* verilator lint_on UNUSEDSIGNAL */
{dsp}always @(*) begin
   y = p[15:0];
end
`else
{regs}wire signed [15:0] a16 = {{{{8{{{x}[7]}}}}, {x}}};
wire signed [15:0] b16 = {{{{8{{{w}[7]}}}}, {w}}};
always @(posedge clock) begin
{reg_ops}   y <= a16 * b16;
end
`endif
"
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "reg_mul8x8".into(),
            clock: "clock".into(),
            inputs: vec!["a".into(), "b".into()],
            outputs: vec!["y".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{
        iverilog_compile, iverilog_run, iverilog_run_ecp5_dsp, lint, require_tool, verilog_of,
        yosys_stat, Target,
    };
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn forms() -> [RegMul8x8; 3] {
        [
            RegMul8x8::dsp(false),
            RegMul8x8::dsp(true),
            RegMul8x8::booth(),
        ]
    }

    /// Operand pairs: every corner pair, then random bytes.
    fn operands() -> Vec<(u8, u8)> {
        let corners = [0x80u8, 0x81, 0xff, 0x00, 0x01, 0x7f];
        let mut v: Vec<(u8, u8)> = corners
            .iter()
            .flat_map(|&a| corners.iter().map(move |&b| (a, b)))
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        v.extend((0..3000).map(|_| (rng.gen::<u8>(), rng.gen::<u8>())));
        v
    }

    /// The rust-hdl model gives each product `latency` edges after its operands.
    #[test]
    fn product_after_latency_edges() {
        for mut uut in forms() {
            uut.connect_all();
            let lat = uut.latency();
            let ops = operands();
            for (t, &(a, b)) in ops.iter().enumerate() {
                uut.a.next = a.to_bits();
                uut.b.next = b.to_bits();
                uut.clock.next = Clock::from(false);
                assert!(simulate(&mut uut, 10));
                uut.clock.next = Clock::from(true);
                assert!(simulate(&mut uut, 10));
                if t + 1 >= lat {
                    let (pa, pb) = ops[t + 1 - lat];
                    assert_eq!(
                        uut.y.val().to_u16() as i16,
                        pa as i8 as i16 * pb as i8 as i16
                    );
                }
            }
        }
    }

    /// A testbench applying `operands()` one per clock and comparing `y` with the model's
    /// product `lat` edges later.
    fn testbench(lat: usize) -> (String, String) {
        let ops = operands();
        let vectors: String = ops
            .iter()
            .map(|&(a, b)| {
                format!(
                    "{a:02x}{b:02x}{:04x}\n",
                    (a as i8 as i16 * b as i8 as i16) as u16
                )
            })
            .collect();
        let n = ops.len();
        let tb = format!(
            "\
module tb;
reg clock;
reg [7:0] a, b;
wire [15:0] y;
reg [31:0] vec [0:{last}];
integer i, errors;
top dut(.clock(clock), .a(a), .b(b), .y(y));
initial begin
  $readmemh(\"vectors.hex\", vec);
  errors = 0; clock = 0;
  for (i = 0; i + 1 < {n} + {lat}; i = i + 1) begin
    if (i < {n}) begin a = vec[i][31:24]; b = vec[i][23:16]; end
    #5 clock = 1;
    #5 clock = 0;
    if (i + 1 >= {lat} && y !== vec[i + 1 - {lat}][15:0]) begin
      errors = errors + 1;
      if (errors < 10) $display(\"MISMATCH %0d: %h want %h\", i + 1 - {lat}, y, vec[i + 1 - {lat}][15:0]);
    end
  end
  $display(\"CHECKED %0d ERRORS %0d\", i, errors);
  $finish;
end
endmodule
",
            last = n - 1,
        );
        (tb, vectors)
    }

    /// Both Verilog branches under Icarus — the portable one, and the MULT18X18D instance with
    /// the model of sim/MULT18X18D.v — give the model's products with the model's latency.
    #[test]
    fn both_verilog_branches_match_the_model() {
        if !(require_tool("iverilog") && require_tool("vvp")) {
            return;
        }
        for mut uut in forms() {
            let lat = uut.latency();
            let v = verilog_of(&mut uut);
            let (tb, vectors) = testbench(lat);
            let out = iverilog_run(&v, &tb, &[("vectors.hex", vectors.clone())]).unwrap();
            assert!(out.contains("ERRORS 0"), "portable, latency {lat}: {out}");
            let out = iverilog_run_ecp5_dsp(&v, &tb, &[("vectors.hex", vectors)]).unwrap();
            assert!(
                out.contains("ERRORS 0"),
                "ECP5 branch, latency {lat}: {out}"
            );
        }
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for mut uut in forms() {
            let v = verilog_of(&mut uut);
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
        }
    }

    /// ECP5: one MULT18X18D and no fabric flip-flop (the registers are the block's); iCE40:
    /// one SB_MAC16; the Booth form: no DSP.
    #[test]
    fn registers_live_in_the_dsp_block() {
        if !require_tool("yosys") {
            return;
        }
        for operand_regs in [false, true] {
            let v = verilog_of(&mut RegMul8x8::dsp(operand_regs));
            let ecp = yosys_stat(&v, "top", Target::Ecp5).unwrap();
            assert_eq!(ecp.dsps(), 1, "{ecp}");
            assert_eq!(ecp.ffs(), 0, "{ecp}");
            let ice = yosys_stat(&v, "top", Target::Ice40).unwrap();
            assert_eq!(ice.dsps(), 1, "{ice}");
        }
        let v = verilog_of(&mut RegMul8x8::booth());
        let ice = yosys_stat(&v, "top", Target::Ice40).unwrap();
        assert_eq!(ice.dsps(), 0, "{ice}");
        assert_eq!(ice.ffs(), 16, "{ice}");
    }
}
