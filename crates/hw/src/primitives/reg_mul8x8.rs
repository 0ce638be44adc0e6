//! Signed int8 × int8 between registers: the multiply of a DSP block together with the
//! block's own registers.
//!
//! The DSP form ([`RegMul8x8::dsp`]) registers both operands — `b` only when `b_en` is high,
//! so the B register can hold a stationary weight — and the product: `y` is the product of
//! the operands present two edges earlier (`b` as last taken). Its portable Verilog is a `*`
//! between registers; behind `` `ifdef DSCGEN_ECP5_DSP `` the same registers are a
//! MULT18X18D's own ([`super::ecp5_dsp`]), so on the ECP5 the multiplier's delay lies inside
//! the block instead of on a fabric path.
//!
//! The LUT form ([`RegMul8x8::booth`]) is the [`Mul8x8`](super::Mul8x8) Booth product and
//! the product register only (the operands come from registers already where it is used):
//! latency 1, `b_en` unused.

use super::ecp5_dsp::{mult18x18d, ECP5_DSP_DEFINE};
use super::mul8x8::booth_verilog;
use super::Mul8x8;
use rust_hdl::prelude::*;

/// `y = a · b` (int8 operands) registered, [`RegMul8x8::latency`] edges after the operands.
#[derive(LogicBlock)]
pub struct RegMul8x8 {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<8>>,
    pub b: Signal<In, Bits<8>>,
    /// DSP form: the B operand register takes `b` on this edge (else holds).
    pub b_en: Signal<In, Bit>,
    pub y: Signal<Out, Bits<16>>,
    /// The LUT form (leading underscore: not emitted).
    _booth: bool,
    /// Simulation state of the DSP form: the operand registers.
    _a: u8,
    _b: u8,
}

impl RegMul8x8 {
    /// The DSP form: operand registers (B with its enable) and the product register.
    pub fn dsp() -> Self {
        Self {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            b_en: Default::default(),
            y: Default::default(),
            _booth: false,
            _a: 0,
            _b: 0,
        }
    }

    /// The LUT (radix-4 Booth) multiply and its product register; no operand registers.
    pub fn booth() -> Self {
        Self { _booth: true, ..Self::dsp() }
    }

    /// Edges from operands to `y`: 2 (DSP form), 1 (LUT form).
    pub fn latency(&self) -> usize {
        if self._booth {
            1
        } else {
            2
        }
    }
}

impl Logic for RegMul8x8 {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let (a, b) = if self._booth {
                (self.a.val().to_u8(), self.b.val().to_u8())
            } else {
                (self._a, self._b)
            };
            self.y.next = Bits::from(Mul8x8::<Bits<16>>::model(a as i8, b as i8) as u16 as u64);
            self._a = self.a.val().to_u8();
            if self.b_en.val() {
                self._b = self.b.val().to_u8();
            }
        }
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        if self._booth {
            return Verilog::Custom(format!(
                "wire unused_b_en = b_en;\nreg [15:0] prod;\n{}always @(posedge clock) begin\n   y <= prod;\nend\n",
                booth_verilog("prod")
            ));
        }
        let dsp = mult18x18d("dsp", "{{10{a[7]}}, a}", "{{10{b[7]}}, b}", "p", Some("b_en"));
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
reg [7:0] a_r;
reg [7:0] b_r;
wire signed [15:0] a16 = {{{{8{{a_r[7]}}}}, a_r}};
wire signed [15:0] b16 = {{{{8{{b_r[7]}}}}, b_r}};
always @(posedge clock) begin
   a_r <= a;
   if (b_en) b_r <= b;
   y <= a16 * b16;
end
`endif
"
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "reg_mul8x8".into(),
            clock: "clock".into(),
            inputs: vec!["a".into(), "b".into(), "b_en".into()],
            outputs: vec!["y".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{
        iverilog_compile, iverilog_run, iverilog_run_ecp5_dsp, lint, lint_ecp5_dsp, require_tool,
        verilog_of,
        yosys_stat, Target,
    };
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn forms() -> [RegMul8x8; 2] {
        [RegMul8x8::dsp(), RegMul8x8::booth()]
    }

    /// Operands `(a, b, b_en)`: every corner pair with `b_en`, then random bytes with `b_en`
    /// high one time in three.
    fn operands() -> Vec<(u8, u8, bool)> {
        let corners = [0x80u8, 0x81, 0xff, 0x00, 0x01, 0x7f];
        let mut v: Vec<(u8, u8, bool)> =
            corners.iter().flat_map(|&a| corners.iter().map(move |&b| (a, b, true))).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        v.extend((0..3000).map(|_| (rng.gen::<u8>(), rng.gen::<u8>(), rng.gen_range(0..3) == 0)));
        v
    }

    /// The product `y` must show for each operand row, `latency` edges later: the DSP form
    /// multiplies by the last `b` taken with `b_en`, the LUT form by `b`.
    fn expected(booth: bool) -> Vec<i16> {
        let mut held = 0u8;
        operands()
            .iter()
            .map(|&(a, b, en)| {
                if en || booth {
                    held = b;
                }
                a as i8 as i16 * held as i8 as i16
            })
            .collect()
    }

    /// The rust-hdl model gives each product `latency` edges after its operands.
    #[test]
    fn product_after_latency_edges() {
        for mut uut in forms() {
            uut.connect_all();
            let lat = uut.latency();
            let want = expected(uut._booth);
            for (t, &(a, b, en)) in operands().iter().enumerate() {
                uut.a.next = a.to_bits();
                uut.b.next = b.to_bits();
                uut.b_en.next = en;
                uut.clock.next = Clock::from(false);
                assert!(simulate(&mut uut, 10));
                uut.clock.next = Clock::from(true);
                assert!(simulate(&mut uut, 10));
                if t + 1 >= lat {
                    assert_eq!(uut.y.val().to_u16() as i16, want[t + 1 - lat], "row {}", t + 1 - lat);
                }
            }
        }
    }

    /// A testbench applying `operands()` one row per clock and comparing `y` with the
    /// expected product `lat` edges later.
    fn testbench(lat: usize, booth: bool) -> (String, String) {
        let ops = operands();
        let vectors: String = ops
            .iter()
            .zip(expected(booth))
            .map(|(&(a, b, en), y)| format!("{a:02x}{b:02x}{:x}{:04x}\n", en as u8, y as u16))
            .collect();
        let n = ops.len();
        let tb = format!(
            "\
module tb;
reg clock;
reg [7:0] a, b;
reg b_en;
wire [15:0] y;
reg [35:0] vec [0:{last}];
integer i, errors;
top dut(.clock(clock), .a(a), .b(b), .b_en(b_en), .y(y));
initial begin
  $readmemh(\"vectors.hex\", vec);
  errors = 0; clock = 0;
  for (i = 0; i + 1 < {n} + {lat}; i = i + 1) begin
    if (i < {n}) begin a = vec[i][35:28]; b = vec[i][27:20]; b_en = vec[i][16]; end
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
    /// the model of sim/MULT18X18D.v — give the expected products with the model's latency,
    /// the held B operand included.
    #[test]
    fn both_verilog_branches_match_the_model() {
        if !(require_tool("iverilog") && require_tool("vvp")) {
            return;
        }
        for mut uut in forms() {
            let (lat, booth) = (uut.latency(), uut._booth);
            let v = verilog_of(&mut uut);
            let (tb, vectors) = testbench(lat, booth);
            let out = iverilog_run(&v, &tb, &[("vectors.hex", vectors.clone())]).unwrap();
            assert!(out.contains("ERRORS 0"), "portable, latency {lat}: {out}");
            if !booth {
                let out = iverilog_run_ecp5_dsp(&v, &tb, &[("vectors.hex", vectors)]).unwrap();
                assert!(out.contains("ERRORS 0"), "ECP5 branch: {out}");
            }
        }
    }

    /// Both branches lint clean (the ECP5 one with the MULT18X18D model).
    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for mut uut in forms() {
            let v = verilog_of(&mut uut);
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
                lint_ecp5_dsp(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
        }
    }

    /// ECP5: one MULT18X18D and no fabric flip-flop (the registers are the block's); iCE40:
    /// one SB_MAC16; the LUT form: no DSP, the 16 product flip-flops.
    #[test]
    fn registers_live_in_the_dsp_block() {
        if !require_tool("yosys") {
            return;
        }
        let v = verilog_of(&mut RegMul8x8::dsp());
        let ecp = yosys_stat(&v, "top", Target::Ecp5).unwrap();
        assert_eq!(ecp.dsps(), 1, "{ecp}");
        assert_eq!(ecp.ffs(), 0, "{ecp}");
        let ice = yosys_stat(&v, "top", Target::Ice40).unwrap();
        assert_eq!(ice.dsps(), 1, "{ice}");
        let v = verilog_of(&mut RegMul8x8::booth());
        let ice = yosys_stat(&v, "top", Target::Ice40).unwrap();
        assert_eq!(ice.dsps(), 0, "{ice}");
        assert_eq!(ice.ffs(), 16, "{ice}");
    }
}
