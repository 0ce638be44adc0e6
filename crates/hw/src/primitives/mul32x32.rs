//! Signed 32 × 32 multiply for Q31 arithmetic, pipelined over two clock edges: bits 62..30 of
//! the 64-bit product.
//!
//! rust-hdl 0.46 multiplies only 16-bit operands; the requantizer needs the full signed
//! product of an int32 accumulator and a Q31 multiplier. This primitive's Verilog registers
//! the operands, multiplies, and registers the product, so yosys maps the multiply to DSP
//! blocks (four 18×18 / 16×16 pieces) with a register on each side. Its Rust model is the same
//! two-stage shift register over `i64` arithmetic on raw bits.
//!
//! Only bits 62..30 leave the block: a Q31 multiply (`SaturatingRoundingDoublingHighMul`)
//! needs bits 62..31 and the rounding bit 30; bit 63 differs from bit 62 only for
//! `INT32_MIN × INT32_MIN`, which the caller detects from the operands. Emitting the unused
//! bits would make every caller fail `verilator -Wall` (UNUSEDSIGNAL).
//!
//! Latency [`Mul32x32::LATENCY`] = 2: operands present before edge `t` give their product
//! after edge `t + 1`. There is no enable: the pipeline always advances.

use rust_hdl::prelude::*;

/// `hi = (a · b)[62:30]` (both signed int32, two's-complement bit patterns), two cycles later.
#[derive(LogicBlock, Default)]
pub struct Mul32x32 {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<32>>,
    pub b: Signal<In, Bits<32>>,
    pub hi: Signal<Out, Bits<33>>,
    /// Simulation state (leading underscore: not emitted): the registered operands.
    _a: u32,
    _b: u32,
}

impl Mul32x32 {
    /// Clock edges from operands to product.
    pub const LATENCY: usize = 2;

    /// The Rust model: bits 62..30 of the signed product.
    pub fn model(a: u32, b: u32) -> u64 {
        let p = (a as i32 as i64).wrapping_mul(b as i32 as i64) as u64;
        (p >> 30) & ((1 << 33) - 1)
    }
}

impl Logic for Mul32x32 {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.hi.next = Bits::from(Self::model(self._a, self._b));
            self._a = self.a.val().to_u32();
            self._b = self.b.val().to_u32();
        }
    }

    fn connect(&mut self) {
        self.hi.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            "\
reg signed [31:0] a_r;
reg signed [31:0] b_r;
// Bits 63 and 29..0 are not needed by any caller (see the module docs).
/* verilator lint_off UNUSEDSIGNAL */
wire signed [63:0] p = a_r * b_r;
/* verilator lint_on UNUSEDSIGNAL */
always @(posedge clock) begin
   a_r <= a;
   b_r <= b;
   hi <= p[62:30];
end
"
            .into(),
        )
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
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
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
    fn high_product_two_cycles_later() {
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
            if t >= 1 {
                let (pa, pb) = ops[t - 1];
                let full = pa as i32 as i128 * pb as i32 as i128;
                let want = ((full >> 30) as u64) & ((1 << 33) - 1);
                assert_eq!(uut.hi.val().to_u64(), want, "{} * {}", pa as i32, pb as i32);
            }
        }
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        let v = verilog_of(&mut Mul32x32::default());
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
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
        }
    }
}
