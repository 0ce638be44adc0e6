//! dsc-hw's processing element, alone and as a 4×4 array of rows, co-simulated in Verilator:
//! every output in every cycle equals rust-hdl's simulator and the golden `PeModel`, with
//! random operands (−128 and 127 often), random `valid` gaps (stalls) and random control flags,
//! in both dataflows.

mod common;

use common::pe_array::*;
use common::*;
use dsc_hw::pe::ProcessingElement;
use dsc_model::systolic::{acc_bits_for_products, wrap_to, Dataflow, PeInputs, PeModel, SystolicConfig};
use dsc_sim::{Dut, HdlDut};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Sums of up to 1024 products: 26-bit accumulators.
const PE_ACC: usize = 26;

fn pe_cfg(df: Dataflow) -> SystolicConfig {
    assert_eq!(acc_bits_for_products(1024), PE_ACC);
    SystolicConfig::new(2, 2, PE_ACC, 1024, df).unwrap()
}

fn pe_hdl(cfg: &SystolicConfig) -> HdlDut<ProcessingElement<PE_ACC>> {
    HdlDut::clocked(ProcessingElement::<PE_ACC>::new(cfg).unwrap(), |b| &mut b.clock)
        .input_bits("a_in", |b| &b.a_in, |b| &mut b.a_in)
        .input("valid_in", 1, |b, v| b.valid_in.next = v != 0, |b| b.valid_in.val() as u128)
        .input("first_in", 1, |b, v| b.first_in.next = v != 0, |b| b.first_in.val() as u128)
        .input("shift_in", 1, |b, v| b.shift_in.next = v != 0, |b| b.shift_in.val() as u128)
        .input("load_in", 1, |b, v| b.load_in.next = v != 0, |b| b.load_in.val() as u128)
        .input_bits("w_in", |b| &b.w_in, |b| &mut b.w_in)
        .input_bits("psum_in", |b| &b.psum_in, |b| &mut b.psum_in)
        .output_bits("a_out", |b| &b.a_out)
        .output("valid_out", 1, |b| b.valid_out.val() as u128)
        .output("first_out", 1, |b| b.first_out.val() as u128)
        .output("shift_out", 1, |b| b.shift_out.val() as u128)
        .output("load_out", 1, |b| b.load_out.val() as u128)
        .output_bits("w_out", |b| &b.w_out)
        .output_bits("psum_out", |b| &b.psum_out)
}

fn drive_pe(dut: &mut impl Dut, i: &PeInputs) {
    let mask = (1u128 << PE_ACC) - 1;
    for (name, v) in [
        ("a_in", i.a as u8 as u128),
        ("valid_in", i.valid as u128),
        ("first_in", i.first as u128),
        ("shift_in", i.shift as u128),
        ("load_in", i.load as u128),
        ("w_in", i.w as u8 as u128),
        ("psum_in", i.psum as u128 & mask),
    ] {
        let id = dut.port_id(name).unwrap();
        dut.set_id(id, v).unwrap();
    }
}

fn read_pe(dut: &mut impl Dut) -> PeInputs {
    let mut g = |n: &str| {
        let id = dut.port_id(n).unwrap();
        dut.get_id(id).unwrap()
    };
    PeInputs {
        a: g("a_out") as u8 as i8,
        valid: g("valid_out") != 0,
        first: g("first_out") != 0,
        shift: g("shift_out") != 0,
        load: g("load_out") != 0,
        w: g("w_out") as u8 as i8,
        psum: wrap_to(g("psum_out") as i64, PE_ACC),
    }
}

#[test]
fn pe_matches_rust_hdl_and_golden_model_in_both_dataflows() {
    for (df, seed) in [(Dataflow::OutputStationary, 1), (Dataflow::WeightStationary, 2)] {
        let cfg = pe_cfg(df);
        let compiled = compile(&format!("pe{PE_ACC}_{df:?}"), ProcessingElement::<PE_ACC>::new(&cfg).unwrap());
        let mut v = compiled.model().unwrap();
        let mut h = pe_hdl(&cfg);
        let mut golden = PeModel::new(&cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let lim = 1i64 << (PE_ACC - 1);
        for cycle in 0..3000 {
            let op = |rng: &mut ChaCha8Rng| match rng.gen_range(0..8) {
                0 => -128,
                1 => 127,
                _ => rng.gen::<i8>(),
            };
            let i = PeInputs {
                a: op(&mut rng),
                valid: rng.gen_bool(0.7),
                first: rng.gen_bool(0.15),
                shift: rng.gen_bool(0.05),
                load: rng.gen_bool(0.1),
                w: op(&mut rng),
                psum: if rng.gen_bool(0.1) { lim - 1 } else { rng.gen_range(-lim..lim) },
            };
            drive_pe(&mut v, &i);
            drive_pe(&mut h, &i);
            v.tick();
            h.tick().unwrap();
            golden.step(&i);
            let got = read_pe(&mut v);
            assert_eq!(got, golden.outputs(), "{df:?} cycle {cycle}: Verilator vs golden");
            assert_eq!(got, read_pe(&mut h), "{df:?} cycle {cycle}: Verilator vs rust-hdl");
        }
    }
}

#[test]
fn pe_array_4x4_matches_rust_hdl_and_golden_model() {
    for (df, seed, stall) in [(Dataflow::OutputStationary, 3, 0.3), (Dataflow::WeightStationary, 4, 0.5)] {
        let cfg = config(df);
        let compiled = compile(&format!("pe_array4x4_{df:?}"), PeArray::new(&cfg));
        let mut v = compiled.model().unwrap();
        let mut h = array_hdl(&cfg);
        let (pv, ph) = (ArrayPorts::new(&v), ArrayPorts::new(&h));
        let mut golden = ArrayModel::new(&cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for cycle in 0..400 {
            let x = random_inputs(&mut rng, stall);
            pv.drive(&mut v, &x).unwrap();
            ph.drive(&mut h, &x).unwrap();
            v.tick();
            h.tick().unwrap();
            golden.step(&x);
            let got = pv.read(&mut v).unwrap();
            assert_eq!(got, golden.outputs(), "{df:?} cycle {cycle}: Verilator vs golden");
            assert_eq!(got, ph.read(&mut h).unwrap(), "{df:?} cycle {cycle}: Verilator vs rust-hdl");
        }
    }
}
