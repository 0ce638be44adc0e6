//! Register slice (skid buffer): cuts every combinational path through a stream — data,
//! `tvalid` and `tready` — at full throughput.
//!
//! `inp.tready` comes from a register only (`!skid_valid`), so the downstream `tready` never
//! reaches upstream in the same cycle. When the output stalls in the cycle a beat is
//! accepted, that beat waits in the skid register; the next cycle `tready` drops. One beat
//! per cycle with no stalls, latency one cycle, nothing lost or duplicated.
//!
//! No reset port: the valid registers power up clear (DFF init values).

use super::{StreamIn, StreamOut};
use rust_hdl::prelude::*;

/// Two-entry register slice for a `D`-bit stream.
#[derive(LogicBlock, Default)]
pub struct SkidBuffer<const D: usize> {
    pub clock: Signal<In, Clock>,
    pub inp: StreamIn<D>,
    pub out: StreamOut<D>,
    out_valid: DFF<Bit>,
    out_data: DFF<Bits<D>>,
    out_last: DFF<Bit>,
    skid_valid: DFF<Bit>,
    skid_data: DFF<Bits<D>>,
    skid_last: DFF<Bit>,
}

impl<const D: usize> Logic for SkidBuffer<D> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, out_valid, out_data, out_last, skid_valid, skid_data, skid_last);
        self.inp.tready.next = !self.skid_valid.q.val();
        self.out.tvalid.next = self.out_valid.q.val();
        self.out.tdata.next = self.out_data.q.val();
        self.out.tlast.next = self.out_last.q.val();
        if !self.out_valid.q.val() | self.out.tready.val() {
            // The output register is free this edge: refill from the skid, else the input.
            if self.skid_valid.q.val() {
                self.out_valid.d.next = true;
                self.out_data.d.next = self.skid_data.q.val();
                self.out_last.d.next = self.skid_last.q.val();
                self.skid_valid.d.next = false;
            } else {
                self.out_valid.d.next = self.inp.tvalid.val();
                self.out_data.d.next = self.inp.tdata.val();
                self.out_last.d.next = self.inp.tlast.val();
            }
        } else if self.inp.tvalid.val() & !self.skid_valid.q.val() {
            // Output stalled, a beat accepted: park it.
            self.skid_valid.d.next = true;
            self.skid_data.d.next = self.inp.tdata.val();
            self.skid_last.d.next = self.inp.tlast.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::testbench::{iverilog_replay, random_beats, run_stream, Stalls};
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};

    type Uut = SkidBuffer<16>;

    fn run(
        n: usize,
        stalls: Stalls,
    ) -> (Vec<(Bits<16>, bool)>, crate::stream::testbench::Run<16, 16>) {
        let beats = random_beats::<16>(n, 7, stalls.seed ^ 0x5eed);
        let mut uut = Uut::default();
        uut.connect_all();
        let r = run_stream(
            &mut uut,
            |u| &mut u.clock,
            |u| &mut u.inp,
            |u| &mut u.out,
            &beats,
            n,
            stalls,
            20 * n + 10,
        );
        (beats, r)
    }

    #[test]
    fn random_stalls_lose_and_duplicate_nothing() {
        for seed in 0..8 {
            for (pv, pr) in [(0.5, 0.5), (0.9, 0.3), (0.3, 0.9), (1.0, 0.5), (0.5, 1.0)] {
                let stalls = Stalls {
                    p_valid: pv,
                    p_ready: pr,
                    seed,
                };
                let (beats, r) = run(300, stalls);
                assert_eq!(r.out, beats, "{stalls:?}");
            }
        }
    }

    #[test]
    fn no_stalls_one_beat_per_cycle_latency_one() {
        let (beats, r) = run(200, Stalls::NONE);
        assert_eq!(r.out, beats);
        assert_eq!(r.out_cycles[0], 1, "latency");
        assert_eq!(
            r.out_cycles.last().unwrap() - r.out_cycles[0],
            beats.len() - 1
        );
    }

    #[test]
    fn verilog_checks() {
        let v = verilog_of(&mut Uut::default());
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
        if require_tool("yosys") {
            for t in [Target::Ice40, Target::Ecp5] {
                let s = yosys_stat(&v, "top", t).unwrap();
                eprintln!("SkidBuffer<16> {s}");
                assert_eq!(s.latches(), 0, "{s}");
                // Two 16-bit data + last registers and two valid flags.
                assert_eq!(s.ffs(), 2 * (16 + 1) + 2, "{s}");
            }
        }
    }

    /// The generated Verilog, replayed in Icarus on a stalled run, matches rust-hdl cycle by
    /// cycle on every stream port.
    #[test]
    fn verilog_replays_a_stalled_run() {
        if !require_tool("iverilog") || !require_tool("vvp") {
            return;
        }
        for (seed, pv, pr) in [(3, 0.5, 0.5), (4, 0.9, 0.2), (5, 1.0, 1.0)] {
            let (beats, r) = run(
                400,
                Stalls {
                    p_valid: pv,
                    p_ready: pr,
                    seed,
                },
            );
            assert_eq!(r.out, beats);
            iverilog_replay(&verilog_of(&mut Uut::default()), &r.trace).unwrap();
        }
    }

    /// rust-hdl simulation speed of a small stream block under the stream testbench
    /// (`cargo test -p dsc-hw --release -- --ignored skid_sim_speed --nocapture`). A figure
    /// for the notes, not an assertion.
    #[test]
    #[ignore]
    fn skid_sim_speed() {
        let stalls = Stalls {
            p_valid: 0.8,
            p_ready: 0.8,
            seed: 1,
        };
        let t = std::time::Instant::now();
        let (beats, r) = run(100_000, stalls);
        let s = t.elapsed().as_secs_f64();
        assert_eq!(r.out, beats);
        eprintln!(
            "SkidBuffer<16>: {} cycles in {s:.2} s = {:.0} cycles/s",
            r.cycles,
            r.cycles as f64 / s
        );
    }
}
