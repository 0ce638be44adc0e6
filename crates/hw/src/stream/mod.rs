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
//!
//! [`ConfigWrite`] is the stages' registered config port (a write-only port, not a stream).

mod config_write;
mod fifo;
mod skid;

pub use config_write::{ConfigWrite, ConfigWriteModel};
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
    pub struct Run<const DI: usize, const DO: usize> {
        pub out: Vec<Beat<DO>>,
        /// Cycle index of each output beat.
        pub out_cycles: Vec<usize>,
        /// Cycles simulated.
        pub cycles: usize,
        /// Every cycle's port values, for [`iverilog_replay`].
        pub trace: Vec<CycleIo<DI, DO>>,
    }

    /// The stream ports of one cycle, sampled just before the clock edge.
    #[derive(Clone, Copy, Debug)]
    pub struct CycleIo<const DI: usize, const DO: usize> {
        pub in_valid: bool,
        pub in_data: Bits<DI>,
        pub in_last: bool,
        pub out_ready: bool,
        pub in_ready: bool,
        pub out_valid: bool,
        pub out_data: Bits<DO>,
        pub out_last: bool,
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
    ) -> Run<DI, DO> {
        let mut rng = ChaCha8Rng::seed_from_u64(stalls.seed);
        let mut next_in = 0;
        let mut offering = false;
        let mut prev_out: Option<Beat<DO>> = None; // valid && !ready last cycle
        let mut run = Run {
            out: vec![],
            out_cycles: vec![],
            cycles: 0,
            trace: vec![],
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
            run.trace.push(CycleIo {
                in_valid: offering,
                in_data: d,
                in_last: l,
                out_ready: or,
                in_ready: inp(uut).tready.val(),
                out_valid: ov,
                out_data: ob.0,
                out_last: ob.1,
            });
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

    /// Replays a [`run_stream`] trace on the block's Verilog under Icarus: the same inputs
    /// every cycle, and every output (`inp.tready`, `out.*`) must equal the rust-hdl value.
    /// Catches any difference between rust-hdl's simulation and its generated Verilog.
    pub fn iverilog_replay<const DI: usize, const DO: usize>(
        verilog: &str,
        trace: &[CycleIo<DI, DO>],
    ) -> Result<(), String> {
        let mut files: Vec<(&str, String)> = vec![
            ("in_valid.hex", String::new()),
            ("in_data.hex", String::new()),
            ("in_last.hex", String::new()),
            ("out_ready.hex", String::new()),
            ("in_ready.hex", String::new()),
            ("out_valid.hex", String::new()),
            ("out_data.hex", String::new()),
            ("out_last.hex", String::new()),
        ];
        for c in trace {
            let vals = [
                format!("{:x}", c.in_valid as u8),
                format!("{:x}", c.in_data),
                format!("{:x}", c.in_last as u8),
                format!("{:x}", c.out_ready as u8),
                format!("{:x}", c.in_ready as u8),
                format!("{:x}", c.out_valid as u8),
                format!("{:x}", c.out_data),
                format!("{:x}", c.out_last as u8),
            ];
            for (f, v) in files.iter_mut().zip(vals) {
                f.1 += &v;
                f.1.push('\n');
            }
        }
        let n = trace.len();
        let tb = format!(
            "\
module tb;
reg clock;
reg iv, il, ordy;
reg [{dim}:0] id;
wire irdy, ov, ol;
wire [{dom}:0] od;
reg m_iv [0:{last}]; reg m_il [0:{last}]; reg m_ordy [0:{last}]; reg [{dim}:0] m_id [0:{last}];
reg m_irdy [0:{last}]; reg m_ov [0:{last}]; reg m_ol [0:{last}]; reg [{dom}:0] m_od [0:{last}];
integer i, errors;
top dut(.clock(clock), .inp$tdata(id), .inp$tvalid(iv), .inp$tready(irdy), .inp$tlast(il),
        .out$tdata(od), .out$tvalid(ov), .out$tready(ordy), .out$tlast(ol));
initial begin
  $readmemh(\"in_valid.hex\", m_iv); $readmemh(\"in_data.hex\", m_id);
  $readmemh(\"in_last.hex\", m_il); $readmemh(\"out_ready.hex\", m_ordy);
  $readmemh(\"in_ready.hex\", m_irdy); $readmemh(\"out_valid.hex\", m_ov);
  $readmemh(\"out_data.hex\", m_od); $readmemh(\"out_last.hex\", m_ol);
  errors = 0; clock = 0;
  for (i = 0; i < {n}; i = i + 1) begin
    iv = m_iv[i]; id = m_id[i]; il = m_il[i]; ordy = m_ordy[i];
    #4;
    if (irdy !== m_irdy[i] || ov !== m_ov[i] || (ov && (od !== m_od[i] || ol !== m_ol[i]))) begin
      errors = errors + 1;
      if (errors < 10) $display(\"MISMATCH cycle %0d: tready %b/%b tvalid %b/%b tdata %h/%h tlast %b/%b\",
        i, irdy, m_irdy[i], ov, m_ov[i], od, m_od[i], ol, m_ol[i]);
    end
    #1 clock = 1;
    #5 clock = 0;
  end
  $display(\"CYCLES %0d ERRORS %0d\", i, errors);
  $finish;
end
endmodule
",
            dim = DI - 1,
            dom = DO - 1,
            last = n - 1,
        );
        let out = crate::verify::iverilog_run(verilog, &tb, &files)?;
        if out.contains(&format!("CYCLES {n} ERRORS 0")) {
            Ok(())
        } else {
            Err(out)
        }
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

/// The interface wiring documented above, exercised: two skid buffers in a parent, joined
/// child to child and linked to the parent's ports.
#[cfg(test)]
mod wiring_tests {
    use super::testbench::{iverilog_replay, random_beats, run_stream, Stalls};
    use super::*;
    use crate::verify::{lint, require_tool, verilog_of};

    #[derive(LogicBlock, Default)]
    struct SkidChain<const D: usize> {
        clock: Signal<In, Clock>,
        inp: StreamIn<D>,
        out: StreamOut<D>,
        first: SkidBuffer<D>,
        second: SkidBuffer<D>,
    }

    impl<const D: usize> Logic for SkidChain<D> {
        #[hdl_gen]
        fn update(&mut self) {
            self.first.clock.next = self.clock.val();
            self.second.clock.next = self.clock.val();
            StreamIn::<D>::link(&mut self.inp, &mut self.first.inp);
            StreamOut::<D>::join(&mut self.first.out, &mut self.second.inp);
            StreamOut::<D>::link(&mut self.out, &mut self.second.out);
        }
    }

    #[test]
    fn join_and_link_carry_a_stalled_stream() {
        let beats = random_beats::<12>(300, 4, 77);
        for (seed, pv, pr) in [(1, 0.5, 0.5), (2, 1.0, 0.3), (3, 1.0, 1.0)] {
            let mut uut = SkidChain::<12>::default();
            uut.connect_all();
            let stalls = Stalls {
                p_valid: pv,
                p_ready: pr,
                seed,
            };
            let r = run_stream(
                &mut uut,
                |u| &mut u.clock,
                |u| &mut u.inp,
                |u| &mut u.out,
                &beats,
                beats.len(),
                stalls,
                10_000,
            );
            assert_eq!(r.out, beats, "{stalls:?}");
            if pr == 1.0 {
                assert_eq!(r.out_cycles[0], 2, "two register slices: latency 2");
            }
            let v = verilog_of(&mut SkidChain::<12>::default());
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") && require_tool("vvp") {
                iverilog_replay(&v, &r.trace).unwrap();
            }
        }
    }
}
