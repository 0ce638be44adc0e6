//! rust-hdl simulation of small arrays against `dsc_model::systolic::ws_column_sums`: random
//! tiles of random lengths run back to back (weights of the next tile loading during the
//! current one), with gaps, −128/127 operands often; lint, iverilog and yosys on the Verilog.

use super::*;
use crate::primitives::i8_bits;
use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
use dsc_model::systolic::{acc_bits_for_products, wrap_to, ws_array_latency, ws_column_sums};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn int8(rng: &mut ChaCha8Rng) -> i8 {
    match rng.gen_range(0..6) {
        0 => -128,
        1 => 127,
        _ => rng.gen(),
    }
}

/// One cycle of inputs at the aligned interface.
#[derive(Clone, Default)]
struct Cycle {
    a: Vec<i8>,
    sw: bool,
    cap: bool,
    w: Vec<i8>,
    /// Expected column sums `latency` cycles later, if this cycle carries a pixel.
    expect: Option<Vec<i64>>,
}

/// A random schedule: tiles of `rows..=rows+5` pixels, sometimes separated by idle cycles;
/// each tile's weights load in the `R` cycles before its first pixel (during the previous
/// tile when it is back to back).
fn schedule(rng: &mut ChaCha8Rng, r: usize, c: usize, acc: usize, tiles: usize) -> Vec<Cycle> {
    let mut cyc: Vec<Cycle> = Vec::new();
    let blank = |_: usize| Cycle {
        a: vec![0; r],
        w: vec![0; c],
        ..Default::default()
    };
    let mut start = r; // first pixel of the first tile
    for _ in 0..tiles {
        let b = rng.gen_range(r..=r + 5);
        let w: Vec<i8> = (0..r * c).map(|_| int8(rng)).collect();
        let end = start + b;
        while cyc.len() < end {
            cyc.push(blank(0));
        }
        for k in 0..r {
            let t = start - r + k;
            cyc[t].cap = k == 0;
            cyc[t].w = w[k * c..(k + 1) * c].to_vec();
        }
        for p in 0..b {
            let x: Vec<i8> = (0..r).map(|_| int8(rng)).collect();
            let t = start + p;
            cyc[t].sw = p == 0;
            cyc[t].expect = Some(ws_column_sums(&w, &x, c, acc));
            cyc[t].a = x;
        }
        start = end
            + if rng.gen_bool(0.3) {
                rng.gen_range(1..4)
            } else {
                0
            };
    }
    cyc
}

fn run<const ACC: usize, const AW: usize, const WW: usize, const PW: usize>(
    r: usize,
    c: usize,
    seed: u64,
) {
    let cfg = SystolicConfig::new(r, c, ACC, 64, Dataflow::WeightStationary).unwrap();
    let mut arr = SystolicArray::<ACC, AW, WW, PW>::new(&cfg).unwrap();
    let lat = arr.latency();
    assert_eq!(lat, ws_array_latency(&cfg));
    arr.connect_all();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cyc = schedule(&mut rng, r, c, ACC, 12);
    for _ in 0..lat {
        cyc.push(Cycle {
            a: vec![0; r],
            w: vec![0; c],
            ..Default::default()
        });
    }
    let mut outs: Vec<Vec<i64>> = Vec::new();
    for x in &cyc {
        let mut a = Bits::<AW>::default();
        for (k, &v) in x.a.iter().enumerate() {
            a = a | (bit_cast::<AW, 8>(i8_bits(v)) << (8 * k) as u64);
        }
        let mut w = Bits::<WW>::default();
        for (k, &v) in x.w.iter().enumerate() {
            w = w | (bit_cast::<WW, 8>(i8_bits(v)) << (8 * k) as u64);
        }
        arr.a_in.next = a;
        arr.w_in.next = w;
        arr.sw_in.next = x.sw;
        arr.cap_in.next = x.cap;
        assert!(simulate(&mut arr, 1000));
        arr.clock.next = Clock::from(true);
        assert!(simulate(&mut arr, 1000));
        arr.clock.next = Clock::from(false);
        assert!(simulate(&mut arr, 1000));
        let o = arr.psum_out.val();
        outs.push(
            (0..c)
                .map(|k| wrap_to(o.get_bits::<ACC>(ACC * k).to_u64() as i64, ACC))
                .collect(),
        );
    }
    let mut checked = 0;
    for (t, x) in cyc.iter().enumerate() {
        if let Some(e) = &x.expect {
            // Visible in cycle t + lat = after edge t + lat − 1.
            assert_eq!(&outs[t + lat - 1], e, "{r}×{c} pixel at cycle {t}");
            checked += 1;
        }
    }
    assert!(checked > 12 * r);
}

#[test]
fn small_arrays_match_the_model() {
    const A: usize = 22; // sums of up to 64 products
    assert_eq!(acc_bits_for_products(64), A);
    run::<A, 16, 24, 66>(2, 3, 1);
    run::<A, 24, 16, 44>(3, 2, 2);
    run::<A, 8, 8, 22>(1, 1, 3);
    run::<A, 32, 32, 88>(4, 4, 4);
}

#[test]
fn mismatched_configs_are_errors() {
    let ws = SystolicConfig::new(2, 3, 22, 64, Dataflow::WeightStationary).unwrap();
    assert!(SystolicArray::<22, 16, 24, 66>::new(&ws).is_ok());
    assert!(SystolicArray::<23, 16, 24, 69>::new(&ws).is_err());
    assert!(SystolicArray::<22, 24, 24, 66>::new(&ws).is_err());
    assert!(SystolicArray::<22, 16, 16, 44>::new(&ws).is_err());
    let os = SystolicConfig::new(2, 3, 22, 64, Dataflow::OutputStationary).unwrap();
    let e = SystolicArray::<22, 16, 24, 66>::new(&os).err().unwrap();
    assert!(e.to_string().contains("weight-stationary"), "{e}");
}

#[test]
fn verilog_checks() {
    let cfg = SystolicConfig::new(3, 4, 26, 1024, Dataflow::WeightStationary).unwrap();
    let v = verilog_of(&mut SystolicArray::<26, 24, 32, 104>::new(&cfg).unwrap());
    if require_tool("verilator") {
        lint(&v, "top").unwrap();
    }
    if require_tool("iverilog") {
        iverilog_compile(&v).unwrap();
    }
    if require_tool("yosys") {
        for t in [Target::Ice40, Target::Ecp5] {
            let s = yosys_stat(&v, "top", t).unwrap();
            eprintln!("SystolicArray 3×4 {t:?}: {s}");
            assert_eq!(s.latches(), 0, "{s}");
            if t == Target::Ecp5 {
                assert_eq!(s.dsps(), 12, "one multiplier per cell: {s}");
            }
        }
    }
}

/// Writes the Verilog of an 8×8 array (26-bit sums: `M ≤ 1024`) to the file named by
/// `DSC_VERILOG_OUT`, for `scripts/ecp5_systolic.sh` (`cargo test -p dsc-hw --lib
/// emit_8x8_verilog -- --ignored`).
#[test]
#[ignore]
fn emit_8x8_verilog() {
    let Ok(path) = std::env::var("DSC_VERILOG_OUT") else {
        eprintln!("DSC_VERILOG_OUT not set: nothing written");
        return;
    };
    let cfg = SystolicConfig::new(8, 8, 26, 1024, Dataflow::WeightStationary).unwrap();
    let v = verilog_of(&mut SystolicArray::<26, 64, 64, 208>::new(&cfg).unwrap());
    std::fs::write(&path, v).unwrap();
}
