//! Small rust-hdl blocks that exercise the harness itself, with their Rust reference models.
#![allow(dead_code)]

pub mod pe_array;
pub mod window;

use dsc_sim::{build, BuildOptions, Compiled, Design};
use rust_hdl::prelude::*;
use std::path::PathBuf;

/// Cache for test models, under cargo's per-test temp dir (never in the source tree).
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dsc-sim-cache")
}

pub fn options() -> BuildOptions {
    BuildOptions {
        cache_dir: Some(cache_dir()),
        ..BuildOptions::default()
    }
}

/// Builds `block` into a Verilator model, failing loudly (with the tool's message) on error.
pub fn compile<B: Block>(name: &str, mut block: B) -> Compiled {
    let design = Design::from_block(name, &mut block).unwrap();
    build(&design, &options()).unwrap()
}

pub const WIDE: usize = 100;
pub const WIDE_MASK: u128 = (1u128 << WIDE) - 1;

/// A registered adder, an enable counter and a 100-bit registered adder: enough to check
/// narrow, 33–64-bit-free and > 64-bit ports, and register timing.
#[derive(LogicBlock, Default)]
pub struct Counter {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<8>>,
    pub b: Signal<In, Bits<8>>,
    pub en: Signal<In, Bit>,
    pub sum: Signal<Out, Bits<9>>,
    pub count: Signal<Out, Bits<16>>,
    pub wide_in: Signal<In, Bits<WIDE>>,
    pub wide_out: Signal<Out, Bits<WIDE>>,
    sum_reg: DFF<Bits<9>>,
    count_reg: DFF<Bits<16>>,
    wide_reg: DFF<Bits<WIDE>>,
}

impl Logic for Counter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sum_reg, count_reg, wide_reg);
        self.sum_reg.d.next = bit_cast::<9, 8>(self.a.val()) + bit_cast::<9, 8>(self.b.val());
        if self.en.val() {
            self.count_reg.d.next = self.count_reg.q.val() + 1;
        }
        self.wide_reg.d.next = self.wide_in.val() + bit_cast::<WIDE, 16>(self.count_reg.q.val());
        self.sum.next = self.sum_reg.q.val();
        self.count.next = self.count_reg.q.val();
        self.wide_out.next = self.wide_reg.q.val();
    }
}

/// Reference model of [`Counter`], one call per clock edge.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterRef {
    pub sum: u64,
    pub count: u64,
    pub wide: u128,
}

impl CounterRef {
    pub fn edge(&mut self, a: u64, b: u64, en: bool, wide_in: u128) {
        let count = self.count;
        self.sum = a + b;
        if en {
            self.count = (count + 1) & 0xffff;
        }
        self.wide = (wide_in + count as u128) & WIDE_MASK;
    }
}

pub fn to_bits<const N: usize>(v: u128) -> Bits<N> {
    (0..N).fold(Bits::<N>::default(), |acc, i| acc.replace_bit(i, (v >> i) & 1 == 1))
}

/// Input side of an AXI4-Stream, as rust-hdl names it (`data_in$tdata` ...).
#[derive(LogicInterface, Default)]
pub struct StreamIn {
    pub tdata: Signal<In, Bits<8>>,
    pub tvalid: Signal<In, Bit>,
    pub tlast: Signal<In, Bit>,
    pub tready: Signal<Out, Bit>,
}

/// Output side of an AXI4-Stream.
#[derive(LogicInterface, Default)]
pub struct StreamOut {
    pub tdata: Signal<Out, Bits<8>>,
    pub tvalid: Signal<Out, Bit>,
    pub tlast: Signal<Out, Bit>,
    pub tready: Signal<In, Bit>,
}

/// A one-stage stream pipeline that adds 1 to each byte, honouring backpressure.
#[derive(LogicBlock, Default)]
pub struct StreamInc {
    pub clock: Signal<In, Clock>,
    pub data_in: StreamIn,
    pub data_out: StreamOut,
    valid: DFF<Bit>,
    data: DFF<Bits<8>>,
    last: DFF<Bit>,
}

impl Logic for StreamInc {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, valid, data, last);
        self.data_in.tready.next = !self.valid.q.val() | self.data_out.tready.val();
        if self.data_in.tvalid.val() & (!self.valid.q.val() | self.data_out.tready.val()) {
            self.data.d.next = self.data_in.tdata.val() + 1;
            self.last.d.next = self.data_in.tlast.val();
            self.valid.d.next = true;
        } else if self.data_out.tready.val() {
            self.valid.d.next = false;
        }
        self.data_out.tdata.next = self.data.q.val();
        self.data_out.tvalid.next = self.valid.q.val();
        self.data_out.tlast.next = self.last.q.val();
    }
}

/// [`StreamInc`] in rust-hdl's simulator behind the same `Dut` interface as Verilator.
pub fn stream_inc_hdl() -> dsc_sim::HdlDut<StreamInc> {
    dsc_sim::HdlDut::new(StreamInc::default(), |b: &mut StreamInc, v| b.clock.next = Clock::from(v))
        .input("data_in_tdata", 8, |b: &mut StreamInc, v| b.data_in.tdata.next = (v as u64).into(), |b: &StreamInc| b.data_in.tdata.val().to_u128())
        .input("data_in_tvalid", 1, |b: &mut StreamInc, v| b.data_in.tvalid.next = v != 0, |b: &StreamInc| b.data_in.tvalid.val() as u128)
        .input("data_in_tlast", 1, |b: &mut StreamInc, v| b.data_in.tlast.next = v != 0, |b: &StreamInc| b.data_in.tlast.val() as u128)
        .output("data_in_tready", 1, |b: &StreamInc| b.data_in.tready.val() as u128)
        .output("data_out_tdata", 8, |b: &StreamInc| b.data_out.tdata.val().to_u128())
        .output("data_out_tvalid", 1, |b: &StreamInc| b.data_out.tvalid.val() as u128)
        .output("data_out_tlast", 1, |b: &StreamInc| b.data_out.tlast.val() as u128)
        .input("data_out_tready", 1, |b: &mut StreamInc, v| b.data_out.tready.next = v != 0, |b: &StreamInc| b.data_out.tready.val() as u128)
}

/// A block whose DFF clock is never connected: rust-hdl's checks reject it.
#[derive(LogicBlock, Default)]
pub struct Unconnected {
    pub clock: Signal<In, Clock>,
    pub q: Signal<Out, Bit>,
    flop: DFF<Bit>,
}

impl Logic for Unconnected {
    #[hdl_gen]
    fn update(&mut self) {
        self.q.next = self.flop.q.val();
    }
}

/// Streams `data` from `<inp>` to `<out>` with seeded stalls on both sides until every beat
/// has come out, runs 20 more cycles (nothing more may come out), and returns what came out
/// with the cycle of each handshake.
pub fn run_stream(
    dut: &mut impl dsc_sim::Dut,
    inp: &str,
    out: &str,
    data: &[dsc_sim::Beat],
    src_stall: f64,
    sink_stall: f64,
    seed: u64,
) -> Vec<dsc_sim::Received> {
    use dsc_sim::stream::{run_until, step};
    let mut src = dsc_sim::StreamSource::new(dut, inp, src_stall, seed).unwrap();
    let mut sink = dsc_sim::StreamSink::new(dut, out, sink_stall, seed + 1000).unwrap();
    src.extend(data.iter().cloned());
    run_until(dut, &mut [&mut src], &mut sink, data.len(), 100_000).unwrap();
    for _ in 0..20 {
        step(dut, &mut [&mut src], &mut [&mut sink]).unwrap();
    }
    assert!(src.is_done());
    assert_eq!(sink.received().len(), data.len(), "extra beats came out");
    sink.received().to_vec()
}

/// Stall settings every stream co-simulation runs: none, then mixes of source bubbles and
/// sink backpressure (probability per cycle), each with its own seed.
pub const STALLS: [(f64, f64, u64); 5] = [(0.0, 0.0, 1), (0.3, 0.5, 2), (0.7, 0.2, 3), (0.1, 0.8, 4), (0.5, 0.5, 5)];
