//! AXI4-Stream style interface: `tdata`, `tvalid`, `tready`, `tlast`.
//!
//! A beat moves on a clock edge where `tvalid && tready`. A source, once it raises `tvalid`,
//! holds `tvalid`, `tdata` and `tlast` until the beat moves; a sink may raise and drop `tready`
//! at will. Every block honours backpressure: nothing is lost or duplicated when `tready` drops.
//!
//! A block receives on a [`StreamIn`] and sends on a [`StreamOut`]. By convention the fields
//! are named `inp` and `out` (`input`/`output` are Verilog keywords). In a parent,
//! `StreamOut::<D>::join(&mut self.a.out, &mut self.b.inp)` connects two children and
//! `StreamIn::<D>::link(&mut self.inp, &mut self.child.inp)` passes a port through.

mod fifo;
mod skid;

pub use fifo::StreamFifo;
pub use skid::SkidBuffer;

use rust_hdl::prelude::*;

/// The receiving end of a stream (data in, `tready` out).
#[derive(Clone, Debug, Default, LogicInterface)]
#[join = "StreamOut"]
pub struct StreamIn<const D: usize> {
    pub tdata: Signal<In, Bits<D>>,
    pub tvalid: Signal<In, Bit>,
    pub tready: Signal<Out, Bit>,
    pub tlast: Signal<In, Bit>,
}

/// The sending end of a stream (data out, `tready` in).
#[derive(Clone, Debug, Default, LogicInterface)]
#[join = "StreamIn"]
pub struct StreamOut<const D: usize> {
    pub tdata: Signal<Out, Bits<D>>,
    pub tvalid: Signal<Out, Bit>,
    pub tready: Signal<In, Bit>,
    pub tlast: Signal<Out, Bit>,
}

/// A rust-hdl testbench for any block with one input and one output stream: drives beats
/// with seeded random `tvalid` gaps, applies seeded random `tready` backpressure, checks the
/// AXI stability rule on the output and records every beat that moved.
#[cfg(test)]
pub(crate) mod testbench {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A beat: data and `tlast`.
    pub type Beat<const D: usize> = (Bits<D>, bool);

    /// Random stall pattern: probability that the source offers a beat it has / that the
    /// sink is ready, per cycle; seeded so failures reproduce.
    #[derive(Clone, Copy, Debug)]
    pub struct Stalls {
        pub p_valid: f64,
        pub p_ready: f64,
        pub seed: u64,
    }

    impl Stalls {
        /// No stalls at all: source always valid, sink always ready.
        pub const NONE: Stalls = Stalls {
            p_valid: 1.0,
            p_ready: 1.0,
            seed: 0,
        };
    }

    /// What came out.
    #[derive(Debug)]
    pub struct Run<const DO: usize> {
        pub out: Vec<Beat<DO>>,
        /// Cycle index of each output beat.
        pub out_cycles: Vec<usize>,
        /// Cycles simulated.
        pub cycles: usize,
    }

    /// Steps `uut` by hand (clock low → drive → settle → sample → clock high → settle) until
    /// `expect_out` beats have come out or `max_cycles` passed.
    #[allow(clippy::too_many_arguments)]
    pub fn run_stream<B: Block, const DI: usize, const DO: usize>(
        uut: &mut B,
        clock: fn(&mut B) -> &mut Signal<In, Clock>,
        inp: fn(&mut B) -> &mut StreamIn<DI>,
        out: fn(&mut B) -> &mut StreamOut<DO>,
        beats: &[Beat<DI>],
        expect_out: usize,
        stalls: Stalls,
        max_cycles: usize,
    ) -> Run<DO> {
        let mut rng = ChaCha8Rng::seed_from_u64(stalls.seed);
        let mut next_in = 0;
        let mut offering = false;
        let mut prev_out: Option<Beat<DO>> = None; // valid && !ready last cycle
        let mut run = Run {
            out: vec![],
            out_cycles: vec![],
            cycles: 0,
        };
        clock(uut).next = Clock::from(false);
        assert!(simulate(uut, 100));
        for cycle in 0..max_cycles {
            if run.out.len() >= expect_out {
                break;
            }
            run.cycles = cycle + 1;
            // Drive: a source keeps offering until the beat moves.
            if !offering && next_in < beats.len() {
                offering = rng.gen_bool(stalls.p_valid);
            }
            let (d, l) = if offering {
                beats[next_in]
            } else {
                Default::default()
            };
            let i = inp(uut);
            i.tvalid.next = offering;
            i.tdata.next = d;
            i.tlast.next = l;
            out(uut).tready.next = rng.gen_bool(stalls.p_ready);
            assert!(simulate(uut, 100), "combinational logic did not settle");
            // Sample the handshakes before the edge.
            let in_fire = offering && inp(uut).tready.val();
            let o = out(uut);
            let (ov, or) = (o.tvalid.val(), o.tready.val());
            let ob = (o.tdata.val(), o.tlast.val());
            if let Some(p) = prev_out {
                assert!(ov && ob == p, "cycle {cycle}: output changed while stalled");
            }
            prev_out = (ov && !or).then_some(ob);
            if ov && or {
                run.out.push(ob);
                run.out_cycles.push(cycle);
            }
            if in_fire {
                next_in += 1;
                offering = false;
            }
            clock(uut).next = Clock::from(true);
            assert!(simulate(uut, 100));
            clock(uut).next = Clock::from(false);
            assert!(simulate(uut, 100));
        }
        run
    }

    /// `n` random beats with `tlast` on every `packet`-th.
    pub fn random_beats<const D: usize>(n: usize, packet: usize, seed: u64) -> Vec<Beat<D>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let v: u128 = rng.gen();
                let mut b = Bits::<D>::default();
                for k in 0..D.min(128) {
                    b = b.replace_bit(k, (v >> k) & 1 == 1);
                }
                (b, (i + 1) % packet == 0)
            })
            .collect()
    }
}
