//! Processing element of the systolic array: int8 activation × int8 weight into an
//! `ACC`-bit accumulator, with registered pass-through to the neighbours.
//!
//! Dataflow (one PE for both array styles; `dsc_model::systolic` documents it and holds the
//! cycle model [`PeModel`] this block is tested against): the activation and its flags
//! `valid`, `first`, `shift`, `load` move right, the weight and the partial sum move down,
//! each through one register, so no signal crosses more than one PE per cycle.
//!
//! * Output-stationary: `psum ← (first ? 0 : psum) + a·w_in`; `shift` drains a column by
//!   taking `psum_in` from above.
//! * Weight-stationary: `load` captures `w_in` into a held weight; `psum ← psum_in + a·w_held`.
//!
//! The multiply is the [`Mul8x8`] primitive (one SB_MAC16 / MULT18X18D); the 16-bit product
//! is sign-extended to `ACC` bits with bit operations, never rust-hdl's signed casts.

use crate::primitives::Mul8x8;
use dsc_model::systolic::{Dataflow, SystolicConfig};
use dsc_model::ModelError;
use rust_hdl::prelude::*;

#[cfg(doc)]
use dsc_model::systolic::PeModel;

/// One PE with an `ACC`-bit accumulator (must equal the config's `acc_bits`).
#[derive(LogicBlock)]
pub struct ProcessingElement<const ACC: usize> {
    pub clock: Signal<In, Clock>,
    /// From the left neighbour.
    pub a_in: Signal<In, Bits<8>>,
    pub valid_in: Signal<In, Bit>,
    pub first_in: Signal<In, Bit>,
    pub shift_in: Signal<In, Bit>,
    pub load_in: Signal<In, Bit>,
    /// From the neighbour above.
    pub w_in: Signal<In, Bits<8>>,
    pub psum_in: Signal<In, Bits<ACC>>,
    /// To the right neighbour (registered).
    pub a_out: Signal<Out, Bits<8>>,
    pub valid_out: Signal<Out, Bit>,
    pub first_out: Signal<Out, Bit>,
    pub shift_out: Signal<Out, Bit>,
    pub load_out: Signal<Out, Bit>,
    /// To the neighbour below (registered).
    pub w_out: Signal<Out, Bits<8>>,
    pub psum_out: Signal<Out, Bits<ACC>>,
    mul: Mul8x8<Bits<16>>,
    weight_stationary: Constant<Bit>,
    sign_fill: Constant<Bits<ACC>>,
    a_reg: DFF<Bits<8>>,
    valid_reg: DFF<Bit>,
    first_reg: DFF<Bit>,
    shift_reg: DFF<Bit>,
    load_reg: DFF<Bit>,
    w_reg: DFF<Bits<8>>,
    w_held: DFF<Bits<8>>,
    psum: DFF<Bits<ACC>>,
    product: Signal<Local, Bits<ACC>>,
    base: Signal<Local, Bits<ACC>>,
}

impl<const ACC: usize> ProcessingElement<ACC> {
    /// The PE for `cfg`; errors when `ACC` is not the config's accumulator width.
    pub fn new(cfg: &SystolicConfig) -> Result<Self, ModelError> {
        if cfg.acc_bits() != ACC {
            return Err(ModelError::InvalidParameter(format!(
                "ProcessingElement<{ACC}> built for a config with {}-bit accumulators",
                cfg.acc_bits()
            )));
        }
        // Ones in bits 16..ACC: OR-ed into a negative product to sign-extend it.
        let fill = if ACC >= 64 {
            !0u64 << 16
        } else {
            ((1u64 << ACC) - 1) & (!0u64 << 16)
        };
        Ok(Self {
            clock: Default::default(),
            a_in: Default::default(),
            valid_in: Default::default(),
            first_in: Default::default(),
            shift_in: Default::default(),
            load_in: Default::default(),
            w_in: Default::default(),
            psum_in: Default::default(),
            a_out: Default::default(),
            valid_out: Default::default(),
            first_out: Default::default(),
            shift_out: Default::default(),
            load_out: Default::default(),
            w_out: Default::default(),
            psum_out: Default::default(),
            mul: Default::default(),
            weight_stationary: Constant::new(cfg.dataflow() == Dataflow::WeightStationary),
            sign_fill: Constant::new(fill.into()),
            a_reg: Default::default(),
            valid_reg: Default::default(),
            first_reg: Default::default(),
            shift_reg: Default::default(),
            load_reg: Default::default(),
            w_reg: Default::default(),
            w_held: Default::default(),
            psum: Default::default(),
            product: Default::default(),
            base: Default::default(),
        })
    }
}

impl<const ACC: usize> Logic for ProcessingElement<ACC> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, a_reg, valid_reg, first_reg, shift_reg, load_reg, w_reg, w_held, psum
        );
        // Multiply by the streamed (OS) or held (WS) weight; sign-extend the product.
        self.mul.a.next = self.a_in.val();
        if self.weight_stationary.val() {
            self.mul.b.next = self.w_held.q.val();
        } else {
            self.mul.b.next = self.w_in.val();
        }
        self.product.next = bit_cast::<ACC, 16>(self.mul.y.val());
        if self.mul.y.val().get_bit(15) {
            self.product.next = bit_cast::<ACC, 16>(self.mul.y.val()) | self.sign_fill.val();
        }
        // What the product adds to: the sum from above (WS), a fresh zero or the own sum (OS).
        if self.weight_stationary.val() {
            self.base.next = self.psum_in.val();
        } else if self.first_in.val() {
            self.base.next = 0.into();
        } else {
            self.base.next = self.psum.q.val();
        }
        if self.shift_in.val() {
            self.psum.d.next = self.psum_in.val();
        } else if self.valid_in.val() {
            self.psum.d.next = self.base.val() + self.product.val();
        } else {
            self.psum.d.next = self.base.val();
        }
        if self.load_in.val() {
            self.w_held.d.next = self.w_in.val();
        }
        // Registered pass-through.
        self.a_reg.d.next = self.a_in.val();
        self.valid_reg.d.next = self.valid_in.val();
        self.first_reg.d.next = self.first_in.val();
        self.shift_reg.d.next = self.shift_in.val();
        self.load_reg.d.next = self.load_in.val();
        self.w_reg.d.next = self.w_in.val();
        self.a_out.next = self.a_reg.q.val();
        self.valid_out.next = self.valid_reg.q.val();
        self.first_out.next = self.first_reg.q.val();
        self.shift_out.next = self.shift_reg.q.val();
        self.load_out.next = self.load_reg.q.val();
        self.w_out.next = self.w_reg.q.val();
        self.psum_out.next = self.psum.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{as_i8, i8_bits};
    use crate::verify::{
        iverilog_compile, iverilog_run, lint, require_tool, verilog_of, yosys_stat, Target,
    };
    use dsc_model::systolic::{acc_bits_for_products, mac, wrap_to, PeInputs, PeModel};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn cfg(acc: usize, k: u64, df: Dataflow) -> SystolicConfig {
        SystolicConfig::new(2, 2, acc, k, df).unwrap()
    }

    fn to_acc<const ACC: usize>(x: i64) -> Bits<ACC> {
        let mask = if ACC >= 64 { !0u64 } else { (1u64 << ACC) - 1 };
        Bits::from(x as u64 & mask)
    }

    fn from_acc<const ACC: usize>(b: Bits<ACC>) -> i64 {
        wrap_to(b.to_u64() as i64, ACC)
    }

    /// An int8 that is −128 or 127 a quarter of the time.
    fn operand(rng: &mut ChaCha8Rng) -> i8 {
        match rng.gen_range(0..8) {
            0 => -128,
            1 => 127,
            _ => rng.gen(),
        }
    }

    /// Drives `i`, clocks once, returns the registered outputs.
    fn step<const ACC: usize>(pe: &mut ProcessingElement<ACC>, i: &PeInputs) -> PeInputs {
        pe.a_in.next = i8_bits(i.a);
        pe.valid_in.next = i.valid;
        pe.first_in.next = i.first;
        pe.shift_in.next = i.shift;
        pe.load_in.next = i.load;
        pe.w_in.next = i8_bits(i.w);
        pe.psum_in.next = to_acc::<ACC>(i.psum);
        assert!(simulate(pe, 100));
        pe.clock.next = Clock::from(true);
        assert!(simulate(pe, 100));
        pe.clock.next = Clock::from(false);
        assert!(simulate(pe, 100));
        PeInputs {
            a: as_i8(pe.a_out.val()),
            valid: pe.valid_out.val(),
            first: pe.first_out.val(),
            shift: pe.shift_out.val(),
            load: pe.load_out.val(),
            w: as_i8(pe.w_out.val()),
            psum: from_acc::<ACC>(pe.psum_out.val()),
        }
    }

    /// Every cycle, random operands and flags: hardware outputs equal the model's.
    fn matches_model<const ACC: usize>(df: Dataflow, seed: u64, cycles: usize) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let c = cfg(ACC, 1, df);
        let mut model = PeModel::new(&c);
        let mut pe = ProcessingElement::<ACC>::new(&c).unwrap();
        pe.connect_all();
        let lim = if ACC >= 64 {
            i64::MAX
        } else {
            (1i64 << (ACC - 1)) - 1
        };
        for n in 0..cycles {
            let i = PeInputs {
                a: operand(&mut rng),
                valid: rng.gen_bool(0.8),
                first: rng.gen_bool(0.1),
                shift: rng.gen_bool(0.05),
                load: rng.gen_bool(0.2),
                w: operand(&mut rng),
                psum: rng.gen_range(-lim..=lim),
            };
            model.step(&i);
            assert_eq!(
                step(&mut pe, &i),
                model.outputs(),
                "cycle {n}, inputs {i:?}"
            );
        }
    }

    #[test]
    fn output_stationary_matches_model() {
        matches_model::<16>(Dataflow::OutputStationary, 1, 3000);
        matches_model::<32>(Dataflow::OutputStationary, 2, 3000);
    }

    #[test]
    fn weight_stationary_matches_model() {
        matches_model::<20>(Dataflow::WeightStationary, 3, 3000);
        matches_model::<64>(Dataflow::WeightStationary, 4, 3000);
    }

    /// K products at the narrowest legal accumulator equal the reference MAC folded, with
    /// all-extreme operands included.
    #[test]
    fn output_stationary_dot_product_at_the_width_bound() {
        const K: u64 = 48; // 48·16384 < 2^20: 21 signed bits
        const ACC: usize = 21;
        assert_eq!(acc_bits_for_products(K), ACC);
        let c = cfg(ACC, K, Dataflow::OutputStationary);
        let mut pe = ProcessingElement::<ACC>::new(&c).unwrap();
        pe.connect_all();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for trial in 0..20 {
            let ops: Vec<(i8, i8)> = (0..K)
                .map(|_| match trial {
                    0 => (-128, -128),
                    1 => (-128, 127),
                    _ => (operand(&mut rng), operand(&mut rng)),
                })
                .collect();
            let mut out = PeInputs::default();
            for (n, &(a, w)) in ops.iter().enumerate() {
                let i = PeInputs {
                    a,
                    w,
                    valid: true,
                    first: n == 0,
                    ..Default::default()
                };
                out = step(&mut pe, &i);
            }
            let want = ops.iter().fold(0, |acc, &(a, w)| mac(acc, a, w, ACC));
            let exact: i64 = ops.iter().map(|&(a, w)| a as i64 * w as i64).sum();
            assert_eq!(want, exact, "no wrap at the bound");
            assert_eq!(out.psum, want, "trial {trial}");
        }
    }

    #[test]
    fn width_mismatch_is_an_error() {
        let c = cfg(32, 8, Dataflow::OutputStationary);
        assert!(ProcessingElement::<24>::new(&c).is_err());
        assert!(ProcessingElement::<32>::new(&c).is_ok());
    }

    #[test]
    fn verilog_checks() {
        for df in [Dataflow::OutputStationary, Dataflow::WeightStationary] {
            let v = verilog_of(&mut ProcessingElement::<32>::new(&cfg(32, 1024, df)).unwrap());
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
            if require_tool("yosys") {
                for t in [Target::Ice40, Target::Ecp5] {
                    let s = yosys_stat(&v, "top", t).unwrap();
                    eprintln!("ProcessingElement<32> {df:?} {s}");
                    assert_eq!(s.latches(), 0, "{s}");
                    assert_eq!(s.dsps(), 1, "{s}");
                }
            }
        }
    }

    /// Packs one cycle's PE port values into 21 hex digits: flags, a, w, psum (64 bits).
    fn hex_io(p: &PeInputs) -> String {
        let flags =
            p.valid as u8 | (p.first as u8) << 1 | (p.shift as u8) << 2 | (p.load as u8) << 3;
        format!(
            "{flags:x}{:02x}{:02x}{:016x}",
            p.a as u8, p.w as u8, p.psum as u64
        )
    }

    /// The generated Verilog under Icarus, driven with the inputs of a random rust-hdl run,
    /// produces the same registered outputs every cycle.
    fn verilog_replays<const ACC: usize>(df: Dataflow, seed: u64, cycles: usize) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let c = cfg(ACC, 1, df);
        let mut pe = ProcessingElement::<ACC>::new(&c).unwrap();
        pe.connect_all();
        let v = verilog_of(&mut ProcessingElement::<ACC>::new(&c).unwrap());
        let lim = if ACC >= 64 {
            i64::MAX
        } else {
            (1i64 << (ACC - 1)) - 1
        };
        let mut vectors = String::new();
        for _ in 0..cycles {
            let i = PeInputs {
                a: operand(&mut rng),
                valid: rng.gen_bool(0.8),
                first: rng.gen_bool(0.1),
                shift: rng.gen_bool(0.05),
                load: rng.gen_bool(0.2),
                w: operand(&mut rng),
                psum: rng.gen_range(-lim..=lim),
            };
            let o = step(&mut pe, &i);
            vectors += &format!("{}{}\n", hex_io(&i), hex_io(&o));
        }
        let tb = format!(
            "\
module tb;
reg clock, valid_in, first_in, shift_in, load_in;
reg [7:0] a_in, w_in;
reg [{am}:0] psum_in;
wire valid_out, first_out, shift_out, load_out;
wire [7:0] a_out, w_out;
wire [{am}:0] psum_out;
reg [167:0] vec [0:{last}];
reg [83:0] want;
integer i, errors;
top dut(.clock(clock), .a_in(a_in), .valid_in(valid_in), .first_in(first_in),
  .shift_in(shift_in), .load_in(load_in), .w_in(w_in), .psum_in(psum_in),
  .a_out(a_out), .valid_out(valid_out), .first_out(first_out), .shift_out(shift_out),
  .load_out(load_out), .w_out(w_out), .psum_out(psum_out));
initial begin
  $readmemh(\"vectors.hex\", vec);
  errors = 0; clock = 0;
  for (i = 0; i < {cycles}; i = i + 1) begin
    {{load_in, shift_in, first_in, valid_in}} = vec[i][167:164];
    a_in = vec[i][163:156];
    w_in = vec[i][155:148];
    psum_in = vec[i][147:84];
    #5 clock = 1;
    #5 clock = 0;
    want = vec[i][83:0];
    if ({{load_out, shift_out, first_out, valid_out}} !== want[83:80] || a_out !== want[79:72]
        || w_out !== want[71:64] || psum_out !== want[{am}:0]) begin
      errors = errors + 1;
      if (errors < 10) $display(\"MISMATCH cycle %0d: psum %h want %h\", i, psum_out, want[{am}:0]);
    end
  end
  $display(\"CYCLES %0d ERRORS %0d\", i, errors);
  $finish;
end
endmodule
",
            am = ACC - 1,
            last = cycles - 1,
        );
        let out = iverilog_run(&v, &tb, &[("vectors.hex", vectors)]).unwrap();
        assert!(out.contains(&format!("CYCLES {cycles} ERRORS 0")), "{out}");
    }

    #[test]
    fn verilog_replays_random_runs() {
        if !require_tool("iverilog") || !require_tool("vvp") {
            return;
        }
        verilog_replays::<16>(Dataflow::OutputStationary, 21, 2000);
        verilog_replays::<32>(Dataflow::OutputStationary, 22, 2000);
        verilog_replays::<20>(Dataflow::WeightStationary, 23, 2000);
        verilog_replays::<64>(Dataflow::WeightStationary, 24, 2000);
    }

    /// rust-hdl simulation speed of one PE, stepped by hand (`cargo test -p dsc-hw --release
    /// -- --ignored pe_sim_speed --nocapture`). A figure for the notes, not an assertion.
    #[test]
    #[ignore]
    fn pe_sim_speed() {
        let c = cfg(32, 1024, Dataflow::OutputStationary);
        let mut pe = ProcessingElement::<32>::new(&c).unwrap();
        pe.connect_all();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let n = 200_000;
        let t = std::time::Instant::now();
        for k in 0..n {
            let i = PeInputs {
                a: rng.gen(),
                w: rng.gen(),
                valid: true,
                first: k % 64 == 0,
                ..Default::default()
            };
            step(&mut pe, &i);
        }
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "ProcessingElement<32>: {n} cycles in {s:.2} s = {:.0} cycles/s",
            n as f64 / s
        );
    }

    /// The same through rust-hdl's threaded `Simulation` engine (clock + testbench), the
    /// usual way to drive a rust-hdl block.
    #[test]
    #[ignore]
    fn pe_sim_speed_simulation_engine() {
        let c = cfg(32, 1024, Dataflow::OutputStationary);
        let mut pe = ProcessingElement::<32>::new(&c).unwrap();
        pe.connect_all();
        let n: usize = 20_000;
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<ProcessingElement<32>>| {
            x.clock.next = !x.clock.val()
        });
        sim.add_testbench(move |mut sim: Sim<ProcessingElement<32>>| {
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let mut x = sim.init()?;
            for k in 0..n {
                x.a_in.next = i8_bits(rng.gen());
                x.w_in.next = i8_bits(rng.gen());
                x.valid_in.next = true;
                x.first_in.next = k % 64 == 0;
                wait_clock_cycle!(sim, clock, x);
            }
            sim.done(x)
        });
        let t = std::time::Instant::now();
        sim.run(Box::new(pe), 10 * (n as u64 + 2)).unwrap();
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "ProcessingElement<32> (Simulation engine): {n} cycles in {s:.2} s = {:.0} cycles/s",
            n as f64 / s
        );
    }
}
