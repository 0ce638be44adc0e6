//! Registered check `a · b ≤ limit` of two runtime values against a generated limit: does a
//! layer's row (`W` pixels of `G` channel groups) fit the depthwise line buffers
//! (`[engine] max_line_words`); do a pointwise layer's `MT·NT` weight tiles fit the weight
//! memory (`[pointwise] max_weights`)?
//!
//! The product of two runtime values needs a multiplier, which rust-hdl 0.46 offers only at
//! 16 bits; here it is `AB × (BB + 1)` bits in hand-written Verilog, registered so the
//! START check reads a flip-flop. `b` comes as `b − 1` (how both users hold it: `G − 1`, and
//! `NT − 1` is no wider than the counter), so the product needs no wider `b`.

use rust_hdl::prelude::*;

/// `fits` after an edge = `a · (b_minus_1 + 1) ≤ limit` before it.
#[derive(LogicBlock)]
pub struct ProductFits<const AB: usize, const BB: usize> {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<AB>>,
    /// `b − 1`.
    pub b_minus_1: Signal<In, Bits<BB>>,
    /// Registered: `a · b ≤ limit`.
    pub fits: Signal<Out, Bit>,
    /// The limit (ignored by the HDL generator: leading underscore).
    _limit: u64,
}

impl<const AB: usize, const BB: usize> ProductFits<AB, BB> {
    /// The check against `limit`. `limit < 2^(AB + BB)` (the product's width).
    pub fn new(limit: usize) -> Self {
        assert!(limit < 1 << (AB + BB), "ProductFits<{AB}, {BB}>: limit {limit} too wide");
        Self {
            clock: Default::default(),
            a: Default::default(),
            b_minus_1: Default::default(),
            fits: Default::default(),
            _limit: limit as u64,
        }
    }

    /// The Rust model: `a · (b_minus_1 + 1) ≤ limit`.
    pub fn model(a: u64, b_minus_1: u64, limit: u64) -> bool {
        a * (b_minus_1 + 1) <= limit
    }
}

impl<const AB: usize, const BB: usize> Logic for ProductFits<AB, BB> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let a = self.a.val().to_u64();
            let b_minus_1 = self.b_minus_1.val().to_u64();
            self.fits.next = Self::model(a, b_minus_1, self._limit);
        }
    }

    fn connect(&mut self) {
        self.fits.connect();
    }

    fn hdl(&self) -> Verilog {
        let n = AB + BB + 1;
        Verilog::Custom(format!(
            "\
wire [{msb}:0] a_wide = {{{az}'d0, a}};
wire [{msb}:0] b_wide = {{{bz}'d0, b_minus_1}} + {n}'d1;
wire [{msb}:0] product = a_wide * b_wide;

always @(posedge clock) begin
   fits <= product <= {n}'d{limit};
end
",
            msb = n - 1,
            az = BB + 1,
            bz = AB + 1,
            limit = self._limit,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of};

    /// Every `a` and `b` of a small generator against the model, at the limit
    /// and beside it.
    #[test]
    fn fits_is_the_product_check() {
        let mut uut = ProductFits::<5, 3>::new(40);
        uut.connect_all();
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<ProductFits<5, 3>>| x.clock.next = !x.clock.val());
        sim.add_testbench(move |mut sim: Sim<ProductFits<5, 3>>| {
            let mut x = sim.init()?;
            for w in 0..32u64 {
                for g in 0..8u64 {
                    x.a.next = w.into();
                    x.b_minus_1.next = g.into();
                    wait_clock_cycle!(sim, clock, x);
                    sim_assert_eq!(sim, x.fits.val(), w * (g + 1) <= 40, x);
                }
            }
            sim.done(x)
        });
        sim.run(Box::new(uut), 10_000).unwrap();
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        let v = verilog_of(&mut ProductFits::<8, 7>::new(896));
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
    }
}
