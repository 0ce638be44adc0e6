//! Synchronous stream FIFO on a simple dual-port block RAM.
//!
//! Holds `DEPTH = 2^A` beats; `tlast` is stored with the data in one RAM word of `W = D + 1`
//! bits (stable Rust cannot write `D + 1` as a const generic, so [`StreamFifo::new`] checks
//! it). The RAM's registered read feeds a two-entry output queue, so the output keeps one beat
//! per cycle under random `tready`: a read is issued only when the queue will have room for
//! its data the cycle after. Latency through an empty FIFO: 3 cycles (write, read, queue).
//!
//! `inp.tready` and `count` come from registers. RAM reads and writes never hit the same
//! address in one cycle (a read needs the word already written; a write into a RAM slot
//! needs that slot read), as [`SdpRam`] requires. No reset port: counters power up at zero.

use super::{StreamIn, StreamOut};
use crate::primitives::SdpRam;
use dsc_model::ModelError;
use rust_hdl::prelude::*;

/// FIFO of `2^A` beats of `D` bits (+ `tlast`); `W` must be `D + 1`.
#[derive(LogicBlock)]
pub struct StreamFifo<const D: usize, const W: usize, const A: usize> {
    pub clock: Signal<In, Clock>,
    pub inp: StreamIn<D>,
    pub out: StreamOut<D>,
    /// Beats held (0 ..= DEPTH), registered.
    pub count: Signal<Out, Bits<16>>,
    ram: SdpRam<W, A>,
    depth: Constant<Bits<16>>,
    /// The count's `A + 1` significant bits: the masked updates let synthesis drop the rest.
    count_mask: Constant<Bits<16>>,
    wp: DFF<Bits<A>>,
    rp: DFF<Bits<A>>,
    items: DFF<Bits<16>>,
    inflight: DFF<Bit>,
    q0_valid: DFF<Bit>,
    q0_data: DFF<Bits<D>>,
    q0_last: DFF<Bit>,
    q1_valid: DFF<Bit>,
    q1_data: DFF<Bits<D>>,
    q1_last: DFF<Bit>,
    in_fire: Signal<Local, Bit>,
    pop: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    rd_data: Signal<Local, Bits<D>>,
    rd_last: Signal<Local, Bit>,
}

impl<const D: usize, const W: usize, const A: usize> StreamFifo<D, W, A> {
    /// Number of beats the FIFO holds.
    pub const DEPTH: usize = 1 << A;

    /// The FIFO, or why its generation parameters cannot work.
    pub fn new() -> Result<Self, ModelError> {
        if D == 0 {
            return Err(ModelError::InvalidParameter(
                "StreamFifo: data width D must be at least 1".into(),
            ));
        }
        if W != D + 1 {
            return Err(ModelError::InvalidParameter(format!(
                "StreamFifo: RAM word width W = {W} must be D + 1 = {} (data + tlast)",
                D + 1
            )));
        }
        if !(1..=15).contains(&A) {
            return Err(ModelError::InvalidParameter(format!(
                "StreamFifo: address width A = {A} must be 1..=15 (depth 2..=32768, 16-bit count)"
            )));
        }
        Ok(Self {
            clock: Default::default(),
            inp: Default::default(),
            out: Default::default(),
            count: Default::default(),
            ram: Default::default(),
            depth: Constant::new((Self::DEPTH as u64).into()),
            count_mask: Constant::new(((2 * Self::DEPTH - 1) as u64).into()),
            wp: Default::default(),
            rp: Default::default(),
            items: Default::default(),
            inflight: Default::default(),
            q0_valid: Default::default(),
            q0_data: Default::default(),
            q0_last: Default::default(),
            q1_valid: Default::default(),
            q1_data: Default::default(),
            q1_last: Default::default(),
            in_fire: Default::default(),
            pop: Default::default(),
            issue: Default::default(),
            rd_data: Default::default(),
            rd_last: Default::default(),
        })
    }
}

impl<const D: usize, const W: usize, const A: usize> Logic for StreamFifo<D, W, A> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, wp, rp, items, inflight, q0_valid, q0_data, q0_last, q1_valid, q1_data,
            q1_last
        );
        self.ram.clock.next = self.clock.val();

        // Write side: accept while fewer than DEPTH beats are held.
        self.inp.tready.next = self.items.q.val() != self.depth.val();
        self.in_fire.next = self.inp.tvalid.val() & (self.items.q.val() != self.depth.val());
        self.ram.write_enable.next = self.in_fire.val();
        self.ram.write_address.next = self.wp.q.val();
        self.ram.write_data.next = bit_cast::<W, D>(self.inp.tdata.val()) << 1;
        if self.inp.tlast.val() {
            self.ram.write_data.next = (bit_cast::<W, D>(self.inp.tdata.val()) << 1) | 1;
        }
        if self.in_fire.val() {
            self.wp.d.next = self.wp.q.val() + 1;
        }

        // Output side: the head of the queue drives the stream.
        self.out.tvalid.next = self.q0_valid.q.val();
        self.out.tdata.next = self.q0_data.q.val();
        self.out.tlast.next = self.q0_last.q.val();
        self.count.next = self.items.q.val();
        self.pop.next = self.q0_valid.q.val() & self.out.tready.val();

        // Read the RAM when it holds a beat and queue + in-flight read - pop <= 1. The RAM
        // holds a beat exactly when wp != rp: it never holds all DEPTH beats (a written beat
        // is read the next cycle unless the queue and in-flight read hold two, and then at
        // most DEPTH - 2 beats are left for the RAM), so wp == rp always means empty.
        self.issue.next = (self.wp.q.val() != self.rp.q.val())
            & ((!self.q1_valid.q.val() & !(self.q0_valid.q.val() & self.inflight.q.val()))
                | (self.pop.val() & !(self.q1_valid.q.val() & self.inflight.q.val())));
        self.ram.read_address.next = self.rp.q.val();
        self.ram.read_enable.next = true;
        if self.issue.val() {
            self.rp.d.next = self.rp.q.val() + 1;
        }
        self.inflight.d.next = self.issue.val();

        if self.in_fire.val() & !self.pop.val() {
            self.items.d.next = (self.items.q.val() + 1) & self.count_mask.val();
        }
        if !self.in_fire.val() & self.pop.val() {
            self.items.d.next = (self.items.q.val() - 1) & self.count_mask.val();
        }

        // The word read last cycle enters the queue behind whatever stays.
        self.rd_data.next = self.ram.read_data.val().get_bits::<D>(1);
        self.rd_last.next = self.ram.read_data.val().get_bit(0);
        if self.pop.val() {
            if self.q1_valid.q.val() {
                self.q0_data.d.next = self.q1_data.q.val();
                self.q0_last.d.next = self.q1_last.q.val();
                if self.inflight.q.val() {
                    self.q1_data.d.next = self.rd_data.val();
                    self.q1_last.d.next = self.rd_last.val();
                } else {
                    self.q1_valid.d.next = false;
                }
            } else if self.inflight.q.val() {
                self.q0_data.d.next = self.rd_data.val();
                self.q0_last.d.next = self.rd_last.val();
            } else {
                self.q0_valid.d.next = false;
            }
        } else if self.inflight.q.val() {
            if self.q0_valid.q.val() {
                self.q1_valid.d.next = true;
                self.q1_data.d.next = self.rd_data.val();
                self.q1_last.d.next = self.rd_last.val();
            } else {
                self.q0_valid.d.next = true;
                self.q0_data.d.next = self.rd_data.val();
                self.q0_last.d.next = self.rd_last.val();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::testbench::{iverilog_replay, random_beats, run_stream, Run, Stalls};
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};

    type Uut = StreamFifo<8, 9, 4>;

    fn run(n: usize, stalls: Stalls) -> (Vec<(Bits<8>, bool)>, Run<8, 8>) {
        let beats = random_beats::<8>(n, 5, stalls.seed ^ 0xf1f0);
        let mut uut = Uut::new().unwrap();
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
    fn bad_parameters_are_errors() {
        assert!(StreamFifo::<8, 8, 4>::new().is_err());
        assert!(StreamFifo::<8, 10, 4>::new().is_err());
        assert!(StreamFifo::<8, 9, 0>::new().is_err());
        assert!(StreamFifo::<8, 9, 16>::new().is_err());
        assert!(StreamFifo::<0, 1, 4>::new().is_err());
        assert!(StreamFifo::<8, 9, 1>::new().is_ok());
        assert!(StreamFifo::<8, 9, 15>::new().is_ok());
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
    fn no_stalls_one_beat_per_cycle_latency_three() {
        let (beats, r) = run(200, Stalls::NONE);
        assert_eq!(r.out, beats);
        assert_eq!(r.out_cycles[0], 3, "latency");
        assert_eq!(
            r.out_cycles.last().unwrap() - r.out_cycles[0],
            beats.len() - 1
        );
    }

    /// With the output blocked, exactly DEPTH beats go in, `count` reports them, then all
    /// come out in order.
    #[test]
    fn fills_to_depth_and_counts() {
        let n = Uut::DEPTH + 5;
        let beats = random_beats::<8>(n, 3, 9);
        let mut uut = Uut::new().unwrap();
        uut.connect_all();
        let blocked = Stalls {
            p_valid: 1.0,
            p_ready: 0.0,
            seed: 1,
        };
        let r = run_stream(
            &mut uut,
            |u| &mut u.clock,
            |u| &mut u.inp,
            |u| &mut u.out,
            &beats,
            1,
            blocked,
            3 * n,
        );
        assert!(r.out.is_empty());
        assert_eq!(uut.count.val().index(), Uut::DEPTH);
        assert!(!uut.inp.tready.val());
        let r = run_stream(
            &mut uut,
            |u| &mut u.clock,
            |u| &mut u.inp,
            |u| &mut u.out,
            &beats[Uut::DEPTH..],
            n,
            Stalls::NONE,
            4 * n,
        );
        assert_eq!(r.out, beats);
        assert_eq!(uut.count.val().index(), 0);
    }

    #[test]
    fn verilog_checks() {
        let v = verilog_of(&mut StreamFifo::<8, 9, 9>::new().unwrap());
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
        if require_tool("yosys") {
            for t in [Target::Ice40, Target::Ecp5] {
                let s = yosys_stat(&v, "top", t).unwrap();
                eprintln!("StreamFifo<8,9,9> {s}");
                assert_eq!(s.latches(), 0, "{s}");
                assert_eq!(s.brams(), 2 - usize::from(t == Target::Ecp5), "{s}");
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
            iverilog_replay(&verilog_of(&mut Uut::new().unwrap()), &r.trace).unwrap();
        }
    }
}
