//! dsc-hw's stream blocks (skid buffer, FIFO) co-simulated in Verilator: the same beats, in
//! the same cycles, as rust-hdl's simulator and the reference (a stream block passes beats
//! through unchanged and in order), under random stalls on both streams.

mod common;

use common::*;
use dsc_hw::stream::{SkidBuffer, StreamFifo};
use dsc_sim::{Beat, HdlDut};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_beats(n: usize, bits: usize, seed: u64) -> Vec<Beat> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mask = if bits >= 128 { u128::MAX } else { (1u128 << bits) - 1 };
    (0..n).map(|i| Beat::new(rng.gen::<u128>() & mask, i % 7 == 6)).collect()
}

/// 72-bit beats: the data word crosses Verilator's 64-bit boundary (VlWide).
const D: usize = 72;

fn skid_hdl() -> HdlDut<SkidBuffer<D>> {
    HdlDut::clocked(SkidBuffer::<D>::default(), |b| &mut b.clock)
        .stream_in("inp", |b| &b.inp, |b| &mut b.inp)
        .stream_out("out", |b| &b.out, |b| &mut b.out)
}

#[test]
fn skid_buffer_matches_rust_hdl_and_reference() {
    let compiled = compile("skid72", SkidBuffer::<D>::default());
    let data = random_beats(400, D, 11);
    for (src, sink, seed) in STALLS {
        let v = run_stream(&mut compiled.model().unwrap(), "inp", "out", &data, src, sink, seed);
        let h = run_stream(&mut skid_hdl(), "inp", "out", &data, src, sink, seed);
        let beats: Vec<Beat> = v.iter().map(|r| r.beat.clone()).collect();
        assert_eq!(beats, data, "Verilator vs reference, stalls {src}/{sink}");
        assert_eq!(v, h, "Verilator vs rust-hdl, stalls {src}/{sink}");
        if (src, sink) == (0.0, 0.0) {
            // Latency 1, one beat per cycle.
            assert!(v.iter().enumerate().all(|(i, r)| r.cycle == i as u64 + 1));
        }
    }
}

fn fifo_hdl() -> HdlDut<StreamFifo<8, 9, 4>> {
    HdlDut::clocked(StreamFifo::<8, 9, 4>::new().unwrap(), |b| &mut b.clock)
        .stream_in("inp", |b| &b.inp, |b| &mut b.inp)
        .stream_out("out", |b| &b.out, |b| &mut b.out)
        .output_bits("count", |b| &b.count)
}

#[test]
fn fifo_matches_rust_hdl_and_reference() {
    let compiled = compile("fifo8x16", StreamFifo::<8, 9, 4>::new().unwrap());
    let data = random_beats(500, 8, 12);
    for (src, sink, seed) in STALLS {
        let v = run_stream(&mut compiled.model().unwrap(), "inp", "out", &data, src, sink, seed);
        let h = run_stream(&mut fifo_hdl(), "inp", "out", &data, src, sink, seed);
        let beats: Vec<Beat> = v.iter().map(|r| r.beat.clone()).collect();
        assert_eq!(beats, data, "Verilator vs reference, stalls {src}/{sink}");
        assert_eq!(v, h, "Verilator vs rust-hdl, stalls {src}/{sink}");
        if (src, sink) == (0.0, 0.0) {
            // Latency 3 through the empty FIFO, then one beat per cycle.
            assert!(v.iter().enumerate().all(|(i, r)| r.cycle == i as u64 + 3), "{:?}", &v[..4]);
        }
    }
}

#[test]
fn fifo_count_agrees_cycle_by_cycle() {
    use dsc_sim::stream::step;
    use dsc_sim::{Dut, StreamSink, StreamSource};
    let compiled = compile("fifo8x16", StreamFifo::<8, 9, 4>::new().unwrap());
    let mut v = compiled.model().unwrap();
    let mut h = fifo_hdl();
    let data = random_beats(200, 8, 13);
    let mut vs = StreamSource::new(&v, "inp", 0.2, 21).unwrap();
    let mut vk = StreamSink::new(&v, "out", 0.7, 22).unwrap();
    let mut hs = StreamSource::new(&h, "inp", 0.2, 21).unwrap();
    let mut hk = StreamSink::new(&h, "out", 0.7, 22).unwrap();
    vs.extend(data.iter().cloned());
    hs.extend(data.iter().cloned());
    let (vc, hc) = (v.port_id("count").unwrap(), h.port_id("count").unwrap());
    let mut max = 0;
    for cycle in 0..1500 {
        step(&mut v, &mut [&mut vs], &mut [&mut vk]).unwrap();
        step(&mut h, &mut [&mut hs], &mut [&mut hk]).unwrap();
        let (a, b) = (v.get_id(vc).unwrap(), h.get_id(hc).unwrap());
        assert_eq!(a, b, "count at cycle {cycle}");
        max = max.max(a);
    }
    assert_eq!(vk.received(), hk.received());
    assert_eq!(vk.beats(), data);
    assert!(max >= 8, "backpressure should fill the FIFO (max count {max})");
}
