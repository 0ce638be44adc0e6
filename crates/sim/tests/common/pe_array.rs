//! A 4×4 grid of dsc-hw processing elements as a co-simulation and benchmark top, built as
//! rows of PEs (rust-hdl resolves only the first index of a signal path, DESIGN §5), with its
//! golden model: a grid of `dsc_model::systolic::PeModel`s wired the same way.
//!
//! Buses: row `r`'s left inputs are byte/bit `r` of `a_in` and the flag buses; column `c`'s
//! weight and partial sum are byte `c` of `w_in` / `ACC`-bit field `c` of `psum_in` at the top
//! and of `w_out` / `psum_out` at the bottom.

use dsc_hw::pe::ProcessingElement;
use dsc_model::systolic::{wrap_to, Dataflow, PeInputs, PeModel, SystolicConfig};
use dsc_sim::{Dut, HdlDut, PortId};
use rust_hdl::prelude::*;

pub const N: usize = 4;
/// Accumulator width for sums of up to 64 products (`acc_bits_for_products(64)`).
pub const ACC: usize = 22;
pub const PSUMS: usize = N * ACC;
// The hdl_gen code below writes ACC as the literal 22 (Verilog cannot see Rust consts).
const _: () = assert!(ACC == 22);

pub fn config(dataflow: Dataflow) -> SystolicConfig {
    SystolicConfig::new(N, N, ACC, 64, dataflow).unwrap()
}

/// One row of `N` PEs: activations and flags flow right, weights and partial sums pass down.
#[derive(LogicBlock)]
pub struct PeRow {
    pub clock: Signal<In, Clock>,
    pub a_in: Signal<In, Bits<8>>,
    pub valid_in: Signal<In, Bit>,
    pub first_in: Signal<In, Bit>,
    pub shift_in: Signal<In, Bit>,
    pub load_in: Signal<In, Bit>,
    pub w_in: Signal<In, Bits<32>>,
    pub psum_in: Signal<In, Bits<PSUMS>>,
    pub w_out: Signal<Out, Bits<32>>,
    pub psum_out: Signal<Out, Bits<PSUMS>>,
    pes: Vec<ProcessingElement<ACC>>,
}

impl PeRow {
    pub fn new(cfg: &SystolicConfig) -> PeRow {
        PeRow {
            clock: Default::default(),
            a_in: Default::default(),
            valid_in: Default::default(),
            first_in: Default::default(),
            shift_in: Default::default(),
            load_in: Default::default(),
            w_in: Default::default(),
            psum_in: Default::default(),
            w_out: Default::default(),
            psum_out: Default::default(),
            pes: (0..N).map(|_| ProcessingElement::new(cfg).unwrap()).collect(),
        }
    }
}

impl Logic for PeRow {
    #[hdl_gen]
    fn update(&mut self) {
        for i in 0..self.pes.len() {
            self.pes[i].clock.next = self.clock.val();
            self.pes[i].w_in.next = self.w_in.val().get_bits::<8>(8 * i);
            // A literal 22 (= ACC): rust-hdl copies the expression into Verilog, where a Rust
            // const name does not exist.
            self.pes[i].psum_in.next = self.psum_in.val().get_bits::<ACC>(22 * i);
        }
        self.pes[0].a_in.next = self.a_in.val();
        self.pes[0].valid_in.next = self.valid_in.val();
        self.pes[0].first_in.next = self.first_in.val();
        self.pes[0].shift_in.next = self.shift_in.val();
        self.pes[0].load_in.next = self.load_in.val();
        for i in 1..self.pes.len() {
            self.pes[i].a_in.next = self.pes[i - 1].a_out.val();
            self.pes[i].valid_in.next = self.pes[i - 1].valid_out.val();
            self.pes[i].first_in.next = self.pes[i - 1].first_out.val();
            self.pes[i].shift_in.next = self.pes[i - 1].shift_out.val();
            self.pes[i].load_in.next = self.pes[i - 1].load_out.val();
        }
        self.w_out.next = bit_cast::<32, 8>(self.pes[0].w_out.val())
            | (bit_cast::<32, 8>(self.pes[1].w_out.val()) << 8)
            | (bit_cast::<32, 8>(self.pes[2].w_out.val()) << 16)
            | (bit_cast::<32, 8>(self.pes[3].w_out.val()) << 24);
        // Shift amounts are literals (ACC = 22): rust-hdl shifts Bits by a literal or by Bits.
        self.psum_out.next = bit_cast::<PSUMS, ACC>(self.pes[0].psum_out.val())
            | (bit_cast::<PSUMS, ACC>(self.pes[1].psum_out.val()) << 22_u64)
            | (bit_cast::<PSUMS, ACC>(self.pes[2].psum_out.val()) << 44_u64)
            | (bit_cast::<PSUMS, ACC>(self.pes[3].psum_out.val()) << 66_u64);
    }
}

/// `N` rows stacked: the bottom row's weights and sums are the array's outputs.
#[derive(LogicBlock)]
pub struct PeArray {
    pub clock: Signal<In, Clock>,
    pub a_in: Signal<In, Bits<32>>,
    pub valid_in: Signal<In, Bits<4>>,
    pub first_in: Signal<In, Bits<4>>,
    pub shift_in: Signal<In, Bits<4>>,
    pub load_in: Signal<In, Bits<4>>,
    pub w_in: Signal<In, Bits<32>>,
    pub psum_in: Signal<In, Bits<PSUMS>>,
    pub w_out: Signal<Out, Bits<32>>,
    pub psum_out: Signal<Out, Bits<PSUMS>>,
    rows: Vec<PeRow>,
}

impl PeArray {
    pub fn new(cfg: &SystolicConfig) -> PeArray {
        PeArray {
            clock: Default::default(),
            a_in: Default::default(),
            valid_in: Default::default(),
            first_in: Default::default(),
            shift_in: Default::default(),
            load_in: Default::default(),
            w_in: Default::default(),
            psum_in: Default::default(),
            w_out: Default::default(),
            psum_out: Default::default(),
            rows: (0..N).map(|_| PeRow::new(cfg)).collect(),
        }
    }
}

impl Logic for PeArray {
    #[hdl_gen]
    fn update(&mut self) {
        for r in 0..self.rows.len() {
            self.rows[r].clock.next = self.clock.val();
            self.rows[r].a_in.next = self.a_in.val().get_bits::<8>(8 * r);
            self.rows[r].valid_in.next = self.valid_in.val().get_bit(r);
            self.rows[r].first_in.next = self.first_in.val().get_bit(r);
            self.rows[r].shift_in.next = self.shift_in.val().get_bit(r);
            self.rows[r].load_in.next = self.load_in.val().get_bit(r);
        }
        self.rows[0].w_in.next = self.w_in.val();
        self.rows[0].psum_in.next = self.psum_in.val();
        for r in 1..self.rows.len() {
            self.rows[r].w_in.next = self.rows[r - 1].w_out.val();
            self.rows[r].psum_in.next = self.rows[r - 1].psum_out.val();
        }
        self.w_out.next = self.rows[3].w_out.val();
        self.psum_out.next = self.rows[3].psum_out.val();
    }
}

/// One cycle of inputs at the array's edges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArrayInputs {
    /// Left edge, per row.
    pub left: [PeInputs; N],
    /// Top edge, per column (`w`, `psum`).
    pub top: [(i8, i64); N],
}

/// What leaves the bottom edge: per column (`w`, `psum`).
pub type ArrayOutputs = [(i8, i64); N];

/// Golden model: the PE reference models wired as the hardware is.
pub struct ArrayModel {
    pes: Vec<Vec<PeModel>>,
}

impl ArrayModel {
    pub fn new(cfg: &SystolicConfig) -> Self {
        ArrayModel {
            pes: (0..N).map(|_| (0..N).map(|_| PeModel::new(cfg)).collect()).collect(),
        }
    }

    pub fn outputs(&self) -> ArrayOutputs {
        std::array::from_fn(|c| {
            let o = self.pes[N - 1][c].outputs();
            (o.w, o.psum)
        })
    }

    /// One clock edge: every PE steps on its neighbours' registered outputs.
    #[allow(clippy::needless_range_loop)] // grid coordinates read clearer than iterators here
    pub fn step(&mut self, x: &ArrayInputs) {
        let mut inputs = [[PeInputs::default(); N]; N];
        for r in 0..N {
            for c in 0..N {
                let left = if c == 0 { x.left[r] } else { self.pes[r][c - 1].outputs() };
                let (w, psum) = if r == 0 {
                    x.top[c]
                } else {
                    let o = self.pes[r - 1][c].outputs();
                    (o.w, o.psum)
                };
                inputs[r][c] = PeInputs { w, psum, ..left };
            }
        }
        for r in 0..N {
            for c in 0..N {
                self.pes[r][c].step(&inputs[r][c]);
            }
        }
    }
}

/// Port ids of the array on any simulator.
pub struct ArrayPorts {
    a: PortId,
    valid: PortId,
    first: PortId,
    shift: PortId,
    load: PortId,
    w: PortId,
    psum: PortId,
    w_out: PortId,
    psum_out: PortId,
}

impl ArrayPorts {
    pub fn new(dut: &impl Dut) -> Self {
        let p = |n: &str| dut.port_id(n).unwrap();
        ArrayPorts {
            a: p("a_in"),
            valid: p("valid_in"),
            first: p("first_in"),
            shift: p("shift_in"),
            load: p("load_in"),
            w: p("w_in"),
            psum: p("psum_in"),
            w_out: p("w_out"),
            psum_out: p("psum_out"),
        }
    }

    /// Drives one cycle's edge inputs (packed into the buses).
    pub fn drive(&self, dut: &mut impl Dut, x: &ArrayInputs) -> dsc_sim::Result<()> {
        let mask = (1u128 << ACC) - 1;
        let mut a = 0u128;
        let (mut v, mut f, mut s, mut l) = (0u128, 0u128, 0u128, 0u128);
        for (r, i) in x.left.iter().enumerate() {
            a |= (i.a as u8 as u128) << (8 * r);
            v |= (i.valid as u128) << r;
            f |= (i.first as u128) << r;
            s |= (i.shift as u128) << r;
            l |= (i.load as u128) << r;
        }
        let (mut w, mut p) = (0u128, 0u128);
        for (c, &(wc, pc)) in x.top.iter().enumerate() {
            w |= (wc as u8 as u128) << (8 * c);
            p |= (pc as u128 & mask) << (ACC * c);
        }
        dut.set_id(self.a, a)?;
        dut.set_id(self.valid, v)?;
        dut.set_id(self.first, f)?;
        dut.set_id(self.shift, s)?;
        dut.set_id(self.load, l)?;
        dut.set_id(self.w, w)?;
        dut.set_id(self.psum, p)
    }

    /// Reads the bottom edge.
    pub fn read(&self, dut: &mut impl Dut) -> dsc_sim::Result<ArrayOutputs> {
        let w = dut.get_id(self.w_out)?;
        let p = dut.get_id(self.psum_out)?;
        let mask = (1u128 << ACC) - 1;
        Ok(std::array::from_fn(|c| {
            (
                (w >> (8 * c)) as u8 as i8,
                wrap_to(((p >> (ACC * c)) & mask) as i64, ACC),
            )
        }))
    }
}

/// The array in rust-hdl's simulator behind the `Dut` interface.
pub fn array_hdl(cfg: &SystolicConfig) -> HdlDut<PeArray> {
    HdlDut::clocked(PeArray::new(cfg), |b| &mut b.clock)
        .input_bits("a_in", |b| &b.a_in, |b| &mut b.a_in)
        .input_bits("valid_in", |b| &b.valid_in, |b| &mut b.valid_in)
        .input_bits("first_in", |b| &b.first_in, |b| &mut b.first_in)
        .input_bits("shift_in", |b| &b.shift_in, |b| &mut b.shift_in)
        .input_bits("load_in", |b| &b.load_in, |b| &mut b.load_in)
        .input_bits("w_in", |b| &b.w_in, |b| &mut b.w_in)
        .input_bits("psum_in", |b| &b.psum_in, |b| &mut b.psum_in)
        .output_bits("w_out", |b| &b.w_out)
        .output_bits("psum_out", |b| &b.psum_out)
}

/// Random edge inputs: extreme operands often, valid gaps (`stall` = chance of a bubble),
/// occasional `first`, `shift` and `load`.
pub fn random_inputs(rng: &mut impl rand::Rng, stall: f64) -> ArrayInputs {
    let operand = |rng: &mut dyn rand::RngCore| -> i8 {
        match rand::Rng::gen_range(rng, 0..8) {
            0 => -128,
            1 => 127,
            _ => rand::Rng::gen(rng),
        }
    };
    let mut x = ArrayInputs::default();
    for r in 0..N {
        x.left[r] = PeInputs {
            a: operand(rng),
            valid: !rng.gen_bool(stall),
            first: rng.gen_bool(0.1),
            shift: rng.gen_bool(0.05),
            load: rng.gen_bool(0.1),
            w: 0,
            psum: 0,
        };
    }
    for c in 0..N {
        let lim = 1i64 << (ACC - 1);
        x.top[c] = (operand(rng), rng.gen_range(-lim..lim));
    }
    x
}
