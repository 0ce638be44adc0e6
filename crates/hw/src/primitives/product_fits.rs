//! Registered check `a · b ≤ limit` of two config-port sizes against a generated limit: does a
//! layer's row (`W` pixels of `G` channel groups) fit the depthwise line buffers
//! (`[engine] max_line_words`); do a pointwise layer's `MT·NT` weight tiles fit the weight
//! memory (`[pointwise] max_weights`)?
//!
//! The verdict is updated in the cycle a size is written, from the value being written and the
//! other size as held, so a START right behind the last size write reads it from a flip-flop.
//! Both candidate products are computed every cycle from registers (the port's data register
//! and the held sizes) and the write's decode only selects which one the flip-flop takes: the
//! decode runs beside the multiplier instead of in front of it (an Fmax path: decode → mux →
//! multiply → compare in one cycle was the ECP5-fit engine's critical path, 18.9 ns).
//!
//! The product of two runtime values needs a multiplier, which rust-hdl 0.46 offers only at
//! 16 bits; here it is `AB × (BB + 1)` bits in hand-written Verilog. `b` comes as `b − 1` (how
//! both users hold it: `G − 1`, `NT − 1`), so no wider `b` is needed.

use rust_hdl::prelude::*;

/// `fits` follows the sizes as written: on `load_a` it becomes `a · (b_minus_1_held + 1) ≤
/// limit`, on `load_b` `a_held · (b_minus_1 + 1) ≤ limit`, otherwise it holds. Low until a
/// size is written.
#[derive(LogicBlock)]
pub struct ProductFits<const AB: usize, const BB: usize> {
    pub clock: Signal<In, Clock>,
    /// `a` being written (taken when `load_a`).
    pub a: Signal<In, Bits<AB>>,
    /// `b − 1` being written (taken when `load_b`).
    pub b_minus_1: Signal<In, Bits<BB>>,
    /// `a` as the user holds it (its register).
    pub a_held: Signal<In, Bits<AB>>,
    /// `b − 1` as the user holds it.
    pub b_minus_1_held: Signal<In, Bits<BB>>,
    /// This cycle's write sets `a` / `b` (never both).
    pub load_a: Signal<In, Bit>,
    pub load_b: Signal<In, Bit>,
    /// Registered: `a · b ≤ limit` for the sizes after the last write.
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
            a_held: Default::default(),
            b_minus_1_held: Default::default(),
            load_a: Default::default(),
            load_b: Default::default(),
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
            let (a, b_minus_1) = (self.a.val().to_u64(), self.b_minus_1.val().to_u64());
            let (a_held, b_minus_1_held) = (self.a_held.val().to_u64(), self.b_minus_1_held.val().to_u64());
            if self.load_a.val() {
                self.fits.next = Self::model(a, b_minus_1_held, self._limit);
            } else if self.load_b.val() {
                self.fits.next = Self::model(a_held, b_minus_1, self._limit);
            }
        }
    }

    fn connect(&mut self) {
        self.fits.connect();
    }

    fn hdl(&self) -> Verilog {
        let n = AB + BB + 1;
        Verilog::Custom(format!(
            "\
// Both candidates from registers; the write's decode only picks one.
wire [{msb}:0] a_new = {{{az}'d0, a}};
wire [{msb}:0] a_now = {{{az}'d0, a_held}};
wire [{msb}:0] b_new = {{{bz}'d0, b_minus_1}} + {n}'d1;
wire [{msb}:0] b_now = {{{bz}'d0, b_minus_1_held}} + {n}'d1;
wire [{msb}:0] product_a = a_new * b_now;
wire [{msb}:0] product_b = a_now * b_new;
wire a_fits = product_a <= {n}'d{limit};
wire b_fits = product_b <= {n}'d{limit};

// And-or, not if/else: yosys' `share` would merge two multipliers selected by a mux into one
// behind input muxes, putting the decode back in front of it.
always @(posedge clock) begin
   fits <= (load_a & a_fits) | (load_b & b_fits) | (~load_a & ~load_b & fits);
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

    /// Every `a` and `b` of a small generator, written in both orders against the other held
    /// size, at the limit and beside it; the verdict holds between writes.
    #[test]
    fn fits_follows_the_sizes_as_written() {
        let mut uut = ProductFits::<5, 3>::new(40);
        uut.connect_all();
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<ProductFits<5, 3>>| x.clock.next = !x.clock.val());
        sim.add_testbench(move |mut sim: Sim<ProductFits<5, 3>>| {
            let mut x = sim.init()?;
            wait_clock_cycle!(sim, clock, x);
            sim_assert!(sim, !x.fits.val(), x);
            let (mut a_held, mut b_held) = (0u64, 0u64);
            for w in 0..32u64 {
                for g in 0..8u64 {
                    for load_a in [true, false] {
                        x.a.next = w.into();
                        x.b_minus_1.next = g.into();
                        x.a_held.next = a_held.into();
                        x.b_minus_1_held.next = b_held.into();
                        x.load_a.next = load_a;
                        x.load_b.next = !load_a;
                        wait_clock_cycle!(sim, clock, x);
                        if load_a {
                            a_held = w;
                        } else {
                            b_held = g;
                        }
                        let want = a_held * (b_held + 1) <= 40;
                        sim_assert_eq!(sim, x.fits.val(), want, x);
                        // No write: the verdict holds whatever the inputs do.
                        x.load_a.next = false;
                        x.load_b.next = false;
                        x.a.next = 31.into();
                        x.b_minus_1.next = 7.into();
                        wait_clock_cycle!(sim, clock, x);
                        sim_assert_eq!(sim, x.fits.val(), want, x);
                    }
                }
            }
            sim.done(x)
        });
        sim.run(Box::new(uut), 1_000_000).unwrap();
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
