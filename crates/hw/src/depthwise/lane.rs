//! One lane of the depthwise engine: `Dk²` int8 multiplies and a pipelined adder tree.
//!
//! The lane reads its `Dk²` taps straight from the window bus (tap `t` of lane `l` at bit
//! `(t·P + l)·8`) and its weights from the weight word, which uses the same layout, so no
//! reordering logic sits between the line buffers, the weight RAM and the multipliers. Each
//! multiply is a [`RegMul8x8`] with operand registers (so the weight RAM's slow clock-to-out
//! and the window's routing end in a flip-flop, not in the multiplier) and its product
//! register — on the ECP5 both are the MULT18X18D's own. The products, sign-extended to `S`
//! bits, are the leaves of a binary tree with a register after every level: `Dk²` leaves
//! padded with zeros to a power of two `NP`, so the sum appears [`DepthwiseLane::latency`]
//! `= 2 + log2(NP)` edges after its operands.
//!
//! With LUT multipliers ([`DepthwiseLane::with_lut_muls`], the iCE40 UP5K's lanes) the
//! operand registers move behind the tree root instead: the latency stays the same, and one
//! `S`-bit register replaces `2·Dk²` byte registers (the window and weight RAM outputs are
//! registers already, and the LUT multiply ends in the product register).
//!
//! The tree's `NP − 1` sums are one heap-ordered vector of registers (node `i` sums children
//! `2i+1` and `2i+2`; children from `NP − 1` on are the leaves, `prods[child − (NP − 1)]`):
//! rust-hdl resolves only one index level per signal path, so the levels cannot be separate
//! vectors (DESIGN §5).

use crate::primitives::{RegMul8x8, Widen};
use rust_hdl::prelude::*;

/// A lane for windows of `WIN` bits and a sum of `S` bits. It has no enable: the pipeline
/// always advances and the engine tracks validity beside it.
#[derive(LogicBlock)]
pub struct DepthwiseLane<const WIN: usize, const S: usize> {
    pub clock: Signal<In, Clock>,
    /// The window bus (all lanes).
    pub win: Signal<In, Bits<WIN>>,
    /// The weight word (all lanes, same layout).
    pub wts: Signal<In, Bits<WIN>>,
    /// `Σ_t w_t · x_t` of this lane, `latency` edges later (two's complement, `S` bits).
    pub sum: Signal<Out, Bits<S>>,
    /// Registered products (operand registers too, except in the LUT form).
    muls: Vec<RegMul8x8>,
    /// Products sign-extended to `S` bits.
    ext: Vec<Widen<16, S>>,
    /// `x_chain[t]` = window bus shifted so tap `t` of this lane is at bit 0.
    x_chain: Vec<Signal<Local, Bits<WIN>>>,
    w_chain: Vec<Signal<Local, Bits<WIN>>>,
    /// The register behind the root that replaces them with LUT multipliers (else none).
    tail: Vec<DFF<Bits<S>>>,
    /// Leaf values: sign-extended registered products, zero beyond `Dk²`.
    prods: Vec<Signal<Local, Bits<S>>>,
    /// Sums of the internal nodes (`NP − 1`).
    sums: Vec<Signal<Local, Bits<S>>>,
    /// Heap-ordered tree registers (`NP − 1`): root at 0.
    nodes: Vec<DFF<Bits<S>>>,
    /// The last chain words: their upper bits are shifted-out taps of other lanes (named so
    /// that Verilator's default `*unused*` pattern exempts them from UNUSEDSIGNAL).
    unused_x: Signal<Local, Bits<WIN>>,
    unused_w: Signal<Local, Bits<WIN>>,
    lane_shift: Constant<Bits<16>>,
    beat_shift: Constant<Bits<16>>,
}

impl<const WIN: usize, const S: usize> DepthwiseLane<WIN, S> {
    /// Lane `lane` of `lanes`, `taps = Dk²`. The caller (the engine) checks the widths.
    pub fn new(lane: usize, lanes: usize, taps: usize) -> Self {
        let np = taps.next_power_of_two().max(2);
        Self {
            clock: Default::default(),
            win: Default::default(),
            wts: Default::default(),
            sum: Default::default(),
            muls: (0..taps).map(|_| RegMul8x8::dsp()).collect(),
            ext: (0..taps).map(|_| Widen::signed()).collect(),
            x_chain: (0..taps).map(|_| Default::default()).collect(),
            w_chain: (0..taps).map(|_| Default::default()).collect(),
            tail: vec![],
            prods: (0..np).map(|_| Default::default()).collect(),
            sums: (0..np - 1).map(|_| Default::default()).collect(),
            nodes: (0..np - 1).map(|_| Default::default()).collect(),
            unused_x: Default::default(),
            unused_w: Default::default(),
            lane_shift: Constant::new(((8 * lane) as u64).into()),
            beat_shift: Constant::new(((8 * lanes) as u64).into()),
        }
    }

    /// The same lane with its products in LUT logic when `lut` ([`RegMul8x8::booth`]).
    pub fn with_lut_muls(mut self, lut: bool) -> Self {
        if lut {
            self.muls = (0..self.muls.len()).map(|_| RegMul8x8::booth()).collect();
            self.tail = vec![Default::default()];
        }
        self
    }

    /// The first tree node whose children are leaves: `(NP − 2) / 2`.
    fn first_leaf_parent(&self) -> usize {
        (self.sums.len() - 1) / 2
    }

    /// Edges from operands to `sum` for `taps` taps: the operand and product registers and
    /// one per tree level.
    pub fn latency(taps: usize) -> usize {
        2 + taps.next_power_of_two().max(2).trailing_zeros() as usize
    }
}

impl<const WIN: usize, const S: usize> Logic for DepthwiseLane<WIN, S> {
    #[hdl_gen]
    fn update(&mut self) {
        for i in 0..self.nodes.len() {
            self.nodes[i].clock.next = self.clock.val();
        }
        for t in 0..self.muls.len() {
            self.muls[t].clock.next = self.clock.val();
            self.muls[t].b_en.next = true;
        }
        for i in 0..self.tail.len() {
            self.tail[i].clock.next = self.clock.val();
        }
        // Operands: tap t of this lane sits at bit (t·P + lane)·8 of both buses.
        self.x_chain[0].next = self.win.val() >> self.lane_shift.val();
        self.w_chain[0].next = self.wts.val() >> self.lane_shift.val();
        for t in 1..self.x_chain.len() {
            self.x_chain[t].next = self.x_chain[t - 1].val() >> self.beat_shift.val();
            self.w_chain[t].next = self.w_chain[t - 1].val() >> self.beat_shift.val();
        }
        for t in 0..self.x_chain.len() {
            self.unused_x.next = self.x_chain[t].val();
            self.unused_w.next = self.w_chain[t].val();
        }
        for p in 0..self.prods.len() {
            self.prods[p].next = 0.into();
        }
        for t in 0..self.muls.len() {
            self.muls[t].a.next = self.x_chain[t].val().get_bits::<8>(0);
            self.muls[t].b.next = self.w_chain[t].val().get_bits::<8>(0);
            self.ext[t].a.next = self.muls[t].y.val();
            self.prods[t].next = self.ext[t].y.val();
        }
        // Nodes 0 .. (NP − 2)/2 have node children, the rest (the last level) leaf children;
        // `base` runs over the one value NP − 1 (= sums.len()), the first leaf's index.
        for i in 0..self.first_leaf_parent() {
            self.sums[i].next = self.nodes[2 * i + 1].q.val() + self.nodes[2 * i + 2].q.val();
        }
        for base in self.sums.len()..self.prods.len() {
            for i in self.first_leaf_parent()..self.sums.len() {
                self.sums[i].next =
                    self.prods[2 * i + 1 - base].val() + self.prods[2 * i + 2 - base].val();
            }
        }
        for i in 0..self.sums.len() {
            self.nodes[i].d.next = self.sums[i].val();
        }
        self.sum.next = self.nodes[0].q.val();
        for i in 0..self.tail.len() {
            self.tail[i].d.next = self.nodes[0].q.val();
            self.sum.next = self.tail[i].q.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Random windows (with −128/127) through a lane of a `taps`-tap, `lanes`-lane bus: the
    /// sum of lane `lane` appears `latency` edges later.
    fn check<const WIN: usize, const S: usize>(lane: usize, lanes: usize, taps: usize) {
        check_uut::<WIN, S>(DepthwiseLane::<WIN, S>::new(lane, lanes, taps), lane, lanes, taps);
    }

    /// One lane of one, with LUT multipliers.
    fn check_lut<const WIN: usize, const S: usize>(taps: usize) {
        check_uut::<WIN, S>(DepthwiseLane::<WIN, S>::new(0, 1, taps).with_lut_muls(true), 0, 1, taps);
    }

    fn check_uut<const WIN: usize, const S: usize>(
        mut uut: DepthwiseLane<WIN, S>,
        lane: usize,
        lanes: usize,
        taps: usize,
    ) {
        uut.connect_all();
        let lat = DepthwiseLane::<WIN, S>::latency(taps);
        let mut rng = ChaCha8Rng::seed_from_u64((lane * 100 + taps) as u64);
        let pick = |rng: &mut ChaCha8Rng| -> i8 {
            match rng.gen_range(0..4) {
                0 => -128,
                1 => 127,
                _ => rng.gen(),
            }
        };
        let mut want = vec![];
        for n in 0..200 {
            let x: Vec<i8> = (0..taps * lanes).map(|_| pick(&mut rng)).collect();
            let w: Vec<i8> = (0..taps * lanes).map(|_| pick(&mut rng)).collect();
            let mut xb = Bits::<WIN>::default();
            let mut wb = Bits::<WIN>::default();
            for k in 0..taps * lanes {
                for b in 0..8 {
                    xb = xb.replace_bit(8 * k + b, (x[k] as u8 >> b) & 1 == 1);
                    wb = wb.replace_bit(8 * k + b, (w[k] as u8 >> b) & 1 == 1);
                }
            }
            want.push((0..taps).map(|t| x[t * lanes + lane] as i64 * w[t * lanes + lane] as i64).sum::<i64>());
            uut.win.next = xb;
            uut.wts.next = wb;
            uut.clock.next = Clock::from(false);
            assert!(simulate(&mut uut, 100));
            uut.clock.next = Clock::from(true);
            assert!(simulate(&mut uut, 100));
            if n + 1 >= lat {
                let got = uut.sum.val().to_u64();
                let got = ((got << (64 - S)) as i64) >> (64 - S);
                assert_eq!(got, want[n + 1 - lat], "window {}", n + 1 - lat);
            }
        }
    }

    #[test]
    fn lane_sums_3x3_of_4_lanes() {
        check::<{ 9 * 4 * 8 }, 19>(0, 4, 9);
        check::<{ 9 * 4 * 8 }, 19>(3, 4, 9);
    }

    #[test]
    fn lut_lane_sums_3x3_with_the_same_latency() {
        check_lut::<{ 9 * 8 }, 19>(9);
    }

    #[test]
    fn lane_sums_1x1_and_5x5() {
        check::<{ 2 * 8 }, 16>(1, 2, 1);
        check::<{ 25 * 8 }, 21>(0, 1, 25);
    }

    #[test]
    fn latency_counts_levels() {
        assert_eq!(DepthwiseLane::<8, 16>::latency(1), 3);
        assert_eq!(DepthwiseLane::<8, 16>::latency(9), 6);
        assert_eq!(DepthwiseLane::<8, 16>::latency(25), 7);
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for lut in [false, true] {
            let v = verilog_of(&mut DepthwiseLane::<{ 9 * 2 * 8 }, 19>::new(1, 2, 9).with_lut_muls(lut));
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
        }
    }
}
