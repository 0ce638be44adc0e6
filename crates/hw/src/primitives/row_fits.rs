//! Registered check `W · G ≤ limit`: does a layer's row (`W` pixels of `G` channel groups)
//! fit the depthwise line buffers of `limit` words (`[engine] max_line_words`)?
//!
//! The product of two runtime values needs a multiplier, which rust-hdl 0.46 offers only at
//! 16 bits; here it is `CB × (GADDR + 1)` bits in hand-written Verilog, registered so the
//! START check reads a flip-flop.

use rust_hdl::prelude::*;

/// `fits` after an edge = `width · (last_group + 1) ≤ limit` before it.
#[derive(LogicBlock)]
pub struct RowFits<const CB: usize, const GADDR: usize> {
    pub clock: Signal<In, Clock>,
    /// Row width `W`.
    pub width: Signal<In, Bits<CB>>,
    /// `G − 1`.
    pub last_group: Signal<In, Bits<GADDR>>,
    /// Registered: the row's `W · G` words fit.
    pub fits: Signal<Out, Bit>,
    /// Words of a line buffer (ignored by the HDL generator: leading underscore).
    _limit: u64,
}

impl<const CB: usize, const GADDR: usize> RowFits<CB, GADDR> {
    /// The check against `limit` words. `limit < 2^(CB + GADDR)` (the product's width).
    pub fn new(limit: usize) -> Self {
        assert!(limit < 1 << (CB + GADDR), "RowFits<{CB}, {GADDR}>: limit {limit} too wide");
        Self {
            clock: Default::default(),
            width: Default::default(),
            last_group: Default::default(),
            fits: Default::default(),
            _limit: limit as u64,
        }
    }

    /// The Rust model: `W · (last_group + 1) ≤ limit`.
    pub fn model(width: u64, last_group: u64, limit: u64) -> bool {
        width * (last_group + 1) <= limit
    }
}

impl<const CB: usize, const GADDR: usize> Logic for RowFits<CB, GADDR> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let w = self.width.val().to_u64();
            let g = self.last_group.val().to_u64();
            self.fits.next = Self::model(w, g, self._limit);
        }
    }

    fn connect(&mut self) {
        self.fits.connect();
    }

    fn hdl(&self) -> Verilog {
        let n = CB + GADDR + 1;
        Verilog::Custom(format!(
            "\
wire [{msb}:0] w = {{{gz}'d0, width}};
wire [{msb}:0] g = {{{cz}'d0, last_group}} + {n}'d1;
wire [{msb}:0] words = w * g;

always @(posedge clock) begin
   fits <= words <= {n}'d{limit};
end
",
            msb = n - 1,
            gz = GADDR + 1,
            cz = CB + 1,
            limit = self._limit,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of};

    /// Every width and group count of a small generator against the model, at the limit
    /// and beside it.
    #[test]
    fn fits_is_the_product_check() {
        let mut uut = RowFits::<5, 3>::new(40);
        uut.connect_all();
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<RowFits<5, 3>>| x.clock.next = !x.clock.val());
        sim.add_testbench(move |mut sim: Sim<RowFits<5, 3>>| {
            let mut x = sim.init()?;
            for w in 0..32u64 {
                for g in 0..8u64 {
                    x.width.next = w.into();
                    x.last_group.next = g.into();
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
        let v = verilog_of(&mut RowFits::<8, 7>::new(896));
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
    }
}
