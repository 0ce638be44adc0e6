//! Requantizer: an int32 accumulator to int8, exactly as TFLite's reference kernels do it
//! ([`dsc_model::requant`]), pipelined so that no stage holds more than one adder, shifter or
//! comparator after the multiply.
//!
//! Per item (all inputs sampled together with `valid`):
//! `x = (acc + bias) << max(shift, 0)` (int32, wrapping) →
//! `SRDHM(x, m0) = (x·m0 + 2^30) >> 31` (arithmetic; `INT32_MIN × INT32_MIN` saturates to
//! `INT32_MAX`) → `RoundingDivideByPOT(·, max(−shift, 0))` → `+ out_zp` →
//! clamp to `[act_min, act_max]` → int8.
//!
//! The per-channel parameters come in *with the data*: the caller looks them up (the engines
//! read them from block RAM by channel) and presents them beside the accumulator, so one block
//! serves the depthwise and the pointwise stage and any channel order.
//!
//! **Latency** [`Requantizer::LATENCY`] = 9 clock edges from inputs to `out_*`; one item per
//! cycle; no backpressure (the pipeline always advances — a caller that must stall its output
//! issues only when its output buffer has room for every item in flight).
//!
//! | edge | stage |
//! |---|---|
//! | 1 | `acc + bias`, left shift |
//! | 2–5 | 32×32 signed multiply ([`Mul32x32`]: DSP blocks, partial products pipelined) |
//! | 6 | rounding (`+ 2^30`, bits 62..31), saturate |
//! | 7 | arithmetic right shift, remainder and threshold of the rounding divide |
//! | 8 | round (`+1` when remainder > threshold), `+ out_zp` |
//! | 9 | clamp, int8 |
//!
//! **Runtime values the block does not check** (the config port that feeds it does):
//! `shift` in `−31..=30` as a 6-bit two's-complement field, `act_min ≤ act_max`. Any `m0`
//! bit pattern is computed exactly, including negative values and `INT32_MIN`.

use crate::primitives::Mul32x32;
use crate::systolic::DelayLine;
use rust_hdl::prelude::*;

/// The pipelined requantizer of one lane.
#[derive(LogicBlock)]
pub struct Requantizer {
    pub clock: Signal<In, Clock>,
    /// An item is presented this cycle.
    pub valid: Signal<In, Bit>,
    /// Accumulator (int32 bit pattern), without the bias.
    pub acc: Signal<In, Bits<32>>,
    /// Per-channel bias (int32).
    pub bias: Signal<In, Bits<32>>,
    /// Q31 multiplier `M0` (int32).
    pub m0: Signal<In, Bits<32>>,
    /// Shift, 6-bit two's complement, `−31..=30`.
    pub shift: Signal<In, Bits<6>>,
    /// Output zero point (int8).
    pub out_zp: Signal<In, Bits<8>>,
    /// Lower clamp bound (int8).
    pub act_min: Signal<In, Bits<8>>,
    /// Upper clamp bound (int8).
    pub act_max: Signal<In, Bits<8>>,
    /// A flag carried through with the item (the engines carry `tlast` in it).
    pub last: Signal<In, Bit>,
    /// The item's result is on `out` ([`Self::LATENCY`] edges after it went in).
    pub out_valid: Signal<Out, Bit>,
    /// Result (int8 bit pattern).
    pub out: Signal<Out, Bits<8>>,
    /// The item's `last` flag.
    pub out_last: Signal<Out, Bit>,
    mul: Mul32x32,
    // Stage 1.
    v1: DFF<Bit>,
    x1: DFF<Bits<32>>,
    m1: DFF<Bits<32>>,
    right1: DFF<Bits<5>>,
    zp1: DFF<Bits<8>>,
    lo1: DFF<Bits<8>>,
    hi1: DFF<Bits<8>>,
    last1: DFF<Bit>,
    // Stages 2–3: side band beside the multiplier.
    v2: DFF<Bit>,
    sat2: DFF<Bit>,
    right2: DFF<Bits<5>>,
    zp2: DFF<Bits<8>>,
    lo2: DFF<Bits<8>>,
    hi2: DFF<Bits<8>>,
    last2: DFF<Bit>,
    v3: DFF<Bit>,
    sat3: DFF<Bit>,
    right3: DFF<Bits<5>>,
    zp3: DFF<Bits<8>>,
    lo3: DFF<Bits<8>>,
    hi3: DFF<Bits<8>>,
    last3: DFF<Bit>,
    /// The side band from stage 3 to the multiplier's last stage.
    dv: DelayLine<Bit>,
    dsat: DelayLine<Bit>,
    dright: DelayLine<Bits<5>>,
    dzp: DelayLine<Bits<8>>,
    dlo: DelayLine<Bits<8>>,
    dhi: DelayLine<Bits<8>>,
    dlast: DelayLine<Bit>,
    // Stage 4: SRDHM result.
    v4: DFF<Bit>,
    y4: DFF<Bits<32>>,
    right4: DFF<Bits<5>>,
    zp4: DFF<Bits<8>>,
    lo4: DFF<Bits<8>>,
    hi4: DFF<Bits<8>>,
    last4: DFF<Bit>,
    // Stage 5: rounding divide, split.
    v5: DFF<Bit>,
    q5: DFF<Bits<32>>,
    rem5: DFF<Bits<32>>,
    thr5: DFF<Bits<32>>,
    zp5: DFF<Bits<8>>,
    lo5: DFF<Bits<8>>,
    hi5: DFF<Bits<8>>,
    last5: DFF<Bit>,
    // Stage 6: rounded, zero point added; clamp bounds in offset binary.
    v6: DFF<Bit>,
    val6: DFF<Bits<34>>,
    lo6: DFF<Bits<34>>,
    hi6: DFF<Bits<34>>,
    lo6_raw: DFF<Bits<8>>,
    hi6_raw: DFF<Bits<8>>,
    last6: DFF<Bit>,
    // Stage 7: output.
    v7: DFF<Bit>,
    out7: DFF<Bits<8>>,
    last7: DFF<Bit>,
    // Combinational helpers.
    sum0: Signal<Local, Bits<32>>,
    neg_shift: Signal<Local, Bits<5>>,
    prod_hi: Signal<Local, Bits<32>>,
    mask4: Signal<Local, Bits<32>>,
    fill4: Signal<Local, Bits<32>>,
    rounded5: Signal<Local, Bits<32>>,
    wide5: Signal<Local, Bits<34>>,
    zp_wide5: Signal<Local, Bits<34>>,
    lo_wide5: Signal<Local, Bits<34>>,
    hi_wide5: Signal<Local, Bits<34>>,
    val_off6: Signal<Local, Bits<34>>,
    one: Constant<Bits<32>>,
    ones: Constant<Bits<32>>,
    int32_min: Constant<Bits<32>>,
    int32_max: Constant<Bits<32>>,
    sext32: Constant<Bits<34>>,
    sext8: Constant<Bits<34>>,
    offset: Constant<Bits<34>>,
}

impl Default for Requantizer {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            valid: Default::default(),
            acc: Default::default(),
            bias: Default::default(),
            m0: Default::default(),
            shift: Default::default(),
            out_zp: Default::default(),
            act_min: Default::default(),
            act_max: Default::default(),
            last: Default::default(),
            out_valid: Default::default(),
            out: Default::default(),
            out_last: Default::default(),
            mul: Default::default(),
            v1: Default::default(),
            x1: Default::default(),
            m1: Default::default(),
            right1: Default::default(),
            zp1: Default::default(),
            lo1: Default::default(),
            hi1: Default::default(),
            last1: Default::default(),
            v2: Default::default(),
            sat2: Default::default(),
            right2: Default::default(),
            zp2: Default::default(),
            lo2: Default::default(),
            hi2: Default::default(),
            last2: Default::default(),
            v3: Default::default(),
            sat3: Default::default(),
            right3: Default::default(),
            zp3: Default::default(),
            lo3: Default::default(),
            hi3: Default::default(),
            last3: Default::default(),
            dv: DelayLine::new(Self::MUL_EXTRA),
            dsat: DelayLine::new(Self::MUL_EXTRA),
            dright: DelayLine::new(Self::MUL_EXTRA),
            dzp: DelayLine::new(Self::MUL_EXTRA),
            dlo: DelayLine::new(Self::MUL_EXTRA),
            dhi: DelayLine::new(Self::MUL_EXTRA),
            dlast: DelayLine::new(Self::MUL_EXTRA),
            v4: Default::default(),
            y4: Default::default(),
            right4: Default::default(),
            zp4: Default::default(),
            lo4: Default::default(),
            hi4: Default::default(),
            last4: Default::default(),
            v5: Default::default(),
            q5: Default::default(),
            rem5: Default::default(),
            thr5: Default::default(),
            zp5: Default::default(),
            lo5: Default::default(),
            hi5: Default::default(),
            last5: Default::default(),
            v6: Default::default(),
            val6: Default::default(),
            lo6: Default::default(),
            hi6: Default::default(),
            lo6_raw: Default::default(),
            hi6_raw: Default::default(),
            last6: Default::default(),
            v7: Default::default(),
            out7: Default::default(),
            last7: Default::default(),
            sum0: Default::default(),
            neg_shift: Default::default(),
            prod_hi: Default::default(),
            mask4: Default::default(),
            fill4: Default::default(),
            rounded5: Default::default(),
            wide5: Default::default(),
            zp_wide5: Default::default(),
            lo_wide5: Default::default(),
            hi_wide5: Default::default(),
            val_off6: Default::default(),
            one: Constant::new(1u64.into()),
            ones: Constant::new(0xFFFF_FFFFu64.into()),
            int32_min: Constant::new(0x8000_0000u64.into()),
            int32_max: Constant::new(0x7FFF_FFFFu64.into()),
            sext32: Constant::new((0b11u64 << 32).into()),
            sext8: Constant::new((((1u64 << 26) - 1) << 8).into()),
            offset: Constant::new((1u64 << 33).into()),
        }
    }
}

impl Requantizer {
    /// Clock edges from an item's inputs to its result on `out`.
    pub const LATENCY: usize = 5 + Mul32x32::LATENCY;
    /// Multiplier stages beyond the two the side-band registers `*2`, `*3` cover.
    const MUL_EXTRA: usize = Mul32x32::LATENCY - 2;
}

impl Logic for Requantizer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, v1, x1, m1, right1, zp1, lo1, hi1, last1, v2, sat2, right2, zp2, lo2,
            hi2, last2, v3, sat3, right3, zp3, lo3, hi3, last3, v4, y4, right4, zp4, lo4, hi4,
            last4, v5, q5, rem5, thr5, zp5, lo5, hi5, last5, v6, val6, lo6, hi6, lo6_raw,
            hi6_raw, last6, v7, out7, last7
        );
        clock!(self, clock, mul, dv, dsat, dright, dzp, dlo, dhi, dlast);
        // Stage 1: bias, then the left shift (wrapping like TFLite's int32 multiply).
        self.sum0.next = self.acc.val() + self.bias.val();
        self.neg_shift.next = !self.shift.val().get_bits::<5>(0) + 1;
        if self.shift.val().get_bit(5) {
            self.x1.d.next = self.sum0.val();
            self.right1.d.next = self.neg_shift.val();
        } else {
            self.x1.d.next = self.sum0.val() << self.shift.val().get_bits::<5>(0);
            self.right1.d.next = 0.into();
        }
        self.v1.d.next = self.valid.val();
        self.m1.d.next = self.m0.val();
        self.zp1.d.next = self.out_zp.val();
        self.lo1.d.next = self.act_min.val();
        self.hi1.d.next = self.act_max.val();
        self.last1.d.next = self.last.val();
        // Stages 2–3: the multiply, the side band beside it.
        self.mul.a.next = self.x1.q.val();
        self.mul.b.next = self.m1.q.val();
        self.sat2.d.next =
            (self.x1.q.val() == self.int32_min.val()) && (self.m1.q.val() == self.int32_min.val());
        self.v2.d.next = self.v1.q.val();
        self.right2.d.next = self.right1.q.val();
        self.zp2.d.next = self.zp1.q.val();
        self.lo2.d.next = self.lo1.q.val();
        self.hi2.d.next = self.hi1.q.val();
        self.last2.d.next = self.last1.q.val();
        self.v3.d.next = self.v2.q.val();
        self.sat3.d.next = self.sat2.q.val();
        self.right3.d.next = self.right2.q.val();
        self.zp3.d.next = self.zp2.q.val();
        self.lo3.d.next = self.lo2.q.val();
        self.hi3.d.next = self.hi2.q.val();
        self.last3.d.next = self.last2.q.val();
        self.dv.inp.next = self.v3.q.val();
        self.dsat.inp.next = self.sat3.q.val();
        self.dright.inp.next = self.right3.q.val();
        self.dzp.inp.next = self.zp3.q.val();
        self.dlo.inp.next = self.lo3.q.val();
        self.dhi.inp.next = self.hi3.q.val();
        self.dlast.inp.next = self.last3.q.val();
        // Stage 4: SRDHM = (p + 2^30) >> 31 (ties toward +inf; see dsc_model), low 32 bits,
        // computed as p[62:31] + p[30]: adding 2^30 carries into bit 31 exactly when p[30].
        self.prod_hi.next = self.mul.hi.val().get_bits::<32>(1);
        if self.dsat.out.val() {
            self.y4.d.next = self.int32_max.val();
        } else if self.mul.hi.val().get_bit(0) {
            self.y4.d.next = self.prod_hi.val() + self.one.val();
        } else {
            self.y4.d.next = self.prod_hi.val();
        }
        self.v4.d.next = self.dv.out.val();
        self.right4.d.next = self.dright.out.val();
        self.zp4.d.next = self.dzp.out.val();
        self.lo4.d.next = self.dlo.out.val();
        self.hi4.d.next = self.dhi.out.val();
        self.last4.d.next = self.dlast.out.val();
        // Stage 5: RoundingDivideByPOT, first half: arithmetic shift, remainder, threshold.
        self.mask4.next = (self.one.val() << self.right4.q.val()) - self.one.val();
        self.fill4.next = !(self.ones.val() >> self.right4.q.val());
        self.rem5.d.next = self.y4.q.val() & self.mask4.val();
        if self.y4.q.val().get_bit(31) {
            self.q5.d.next = (self.y4.q.val() >> self.right4.q.val()) | self.fill4.val();
            self.thr5.d.next = (self.mask4.val() >> 1) + self.one.val();
        } else {
            self.q5.d.next = self.y4.q.val() >> self.right4.q.val();
            self.thr5.d.next = self.mask4.val() >> 1;
        }
        self.v5.d.next = self.v4.q.val();
        self.zp5.d.next = self.zp4.q.val();
        self.lo5.d.next = self.lo4.q.val();
        self.hi5.d.next = self.hi4.q.val();
        self.last5.d.next = self.last4.q.val();
        // Stage 6: round, add the zero point in 34 bits (no overflow), bounds to offset binary.
        if self.rem5.q.val() > self.thr5.q.val() {
            self.rounded5.next = self.q5.q.val() + self.one.val();
        } else {
            self.rounded5.next = self.q5.q.val();
        }
        self.wide5.next = bit_cast::<34, 32>(self.rounded5.val());
        if self.rounded5.val().get_bit(31) {
            self.wide5.next = bit_cast::<34, 32>(self.rounded5.val()) | self.sext32.val();
        }
        self.zp_wide5.next = bit_cast::<34, 8>(self.zp5.q.val());
        if self.zp5.q.val().get_bit(7) {
            self.zp_wide5.next = bit_cast::<34, 8>(self.zp5.q.val()) | self.sext8.val();
        }
        self.lo_wide5.next = bit_cast::<34, 8>(self.lo5.q.val());
        if self.lo5.q.val().get_bit(7) {
            self.lo_wide5.next = bit_cast::<34, 8>(self.lo5.q.val()) | self.sext8.val();
        }
        self.hi_wide5.next = bit_cast::<34, 8>(self.hi5.q.val());
        if self.hi5.q.val().get_bit(7) {
            self.hi_wide5.next = bit_cast::<34, 8>(self.hi5.q.val()) | self.sext8.val();
        }
        self.val6.d.next = self.wide5.val() + self.zp_wide5.val();
        self.lo6.d.next = self.lo_wide5.val() ^ self.offset.val();
        self.hi6.d.next = self.hi_wide5.val() ^ self.offset.val();
        self.lo6_raw.d.next = self.lo5.q.val();
        self.hi6_raw.d.next = self.hi5.q.val();
        self.v6.d.next = self.v5.q.val();
        self.last6.d.next = self.last5.q.val();
        // Stage 7: clamp (signed compare as unsigned compare in offset binary).
        self.val_off6.next = self.val6.q.val() ^ self.offset.val();
        if self.val_off6.val() < self.lo6.q.val() {
            self.out7.d.next = self.lo6_raw.q.val();
        } else if self.val_off6.val() > self.hi6.q.val() {
            self.out7.d.next = self.hi6_raw.q.val();
        } else {
            self.out7.d.next = self.val6.q.val().get_bits::<8>(0);
        }
        self.v7.d.next = self.v6.q.val();
        self.last7.d.next = self.last6.q.val();
        self.out_valid.next = self.v7.q.val();
        self.out.next = self.out7.q.val();
        self.out_last.next = self.last7.q.val();
    }
}

/// One requantization item, as plain integers: what the block's inputs carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantItem {
    pub acc: i32,
    pub bias: i32,
    pub m0: i32,
    pub shift: i32,
    pub out_zp: i8,
    pub act_min: i8,
    pub act_max: i8,
}

impl RequantItem {
    /// The golden result: [`dsc_model::requant::ChannelRequant::requantize`] of `acc + bias`
    /// (wrapping, as the model's accumulator does).
    pub fn golden(&self) -> i8 {
        dsc_model::requant::ChannelRequant {
            multiplier: self.m0,
            shift: self.shift,
            out_zp: self.out_zp as i32,
            act_min: self.act_min as i32,
            act_max: self.act_max as i32,
        }
        .requantize(self.acc.wrapping_add(self.bias))
    }

    /// The 6-bit two's-complement field of a shift in `−32..=31`.
    pub fn shift_field(shift: i32) -> u64 {
        (shift as u64) & 0x3F
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
    use dsc_model::requant::{M0_MIN, SHIFT_MAX, SHIFT_MIN};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn drive(uut: &mut Requantizer, item: Option<&RequantItem>, last: bool) {
        uut.valid.next = item.is_some();
        let it = item.copied().unwrap_or(RequantItem {
            acc: 0,
            bias: 0,
            m0: 0,
            shift: 0,
            out_zp: 0,
            act_min: 0,
            act_max: 0,
        });
        uut.acc.next = (it.acc as u32 as u64).into();
        uut.bias.next = (it.bias as u32 as u64).into();
        uut.m0.next = (it.m0 as u32 as u64).into();
        uut.shift.next = RequantItem::shift_field(it.shift).into();
        uut.out_zp.next = (it.out_zp as u8 as u64).into();
        uut.act_min.next = (it.act_min as u8 as u64).into();
        uut.act_max.next = (it.act_max as u8 as u64).into();
        uut.last.next = last;
    }

    /// Feeds `items` with seeded random gaps and checks every result against the golden model,
    /// exactly `LATENCY` edges after its input, in order, with its `last` flag.
    fn run(items: &[RequantItem], seed: u64) {
        let mut uut = Requantizer::default();
        uut.connect_all();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // (cycle it went in, index)
        let mut sent: Vec<(usize, usize)> = vec![];
        let mut got = 0usize;
        let mut next = 0usize;
        let mut cycle = 0usize;
        while got < items.len() {
            let present = next < items.len() && rng.gen_bool(0.8);
            let item = present.then(|| &items[next]);
            drive(&mut uut, item, next % 3 == 0);
            uut.clock.next = Clock::from(false);
            assert!(simulate(&mut uut, 100));
            if uut.out_valid.val() {
                let (when, idx) = sent[got];
                assert_eq!(cycle - when, Requantizer::LATENCY, "item {idx}: latency");
                let it = &items[idx];
                assert_eq!(uut.out.val().to_u8() as i8, it.golden(), "item {idx}: {it:?}");
                assert_eq!(uut.out_last.val(), idx % 3 == 0, "item {idx}: last");
                got += 1;
            } else {
                assert!(sent.get(got).map_or(true, |&(w, _)| cycle - w < Requantizer::LATENCY));
            }
            if present {
                sent.push((cycle, next));
                next += 1;
            }
            uut.clock.next = Clock::from(true);
            assert!(simulate(&mut uut, 100));
            cycle += 1;
            assert!(cycle < 4 * items.len() + 100, "results missing");
        }
    }

    fn random_i32(rng: &mut ChaCha8Rng) -> i32 {
        match rng.gen_range(0..10) {
            0 => i32::MIN,
            1 => i32::MAX,
            2 => rng.gen_range(-300..300),
            3 => rng.gen_range(-(1 << 16)..(1 << 16)),
            _ => rng.gen(),
        }
    }

    fn random_item(rng: &mut ChaCha8Rng) -> RequantItem {
        let m0 = match rng.gen_range(0..8) {
            0 => 0,
            1 => M0_MIN,
            2 => i32::MAX,
            _ => rng.gen_range(M0_MIN..=i32::MAX),
        };
        let shift = match rng.gen_range(0..6) {
            0 => SHIFT_MIN,
            1 => SHIFT_MAX,
            2 => 0,
            3 => rng.gen_range(-12..0),
            _ => rng.gen_range(SHIFT_MIN..=SHIFT_MAX),
        };
        let out_zp: i8 = rng.gen();
        let (act_min, act_max) = match rng.gen_range(0..3) {
            0 => (-128, 127),
            1 => (out_zp.max(-128), 127),
            _ => {
                let a: i8 = rng.gen();
                let b: i8 = rng.gen();
                (a.min(b), a.max(b))
            }
        };
        RequantItem {
            acc: random_i32(rng),
            bias: random_i32(rng),
            m0,
            shift,
            out_zp,
            act_min,
            act_max,
        }
    }

    #[test]
    fn random_items_match_the_golden_model() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        let items: Vec<RequantItem> = (0..3000).map(|_| random_item(&mut rng)).collect();
        run(&items, 1);
    }

    /// Items whose accumulator sits near a rounding tie of either step, for every shift.
    #[test]
    fn ties_of_both_rounding_steps() {
        let mut items = vec![];
        for shift in SHIFT_MIN..=SHIFT_MAX {
            let right = (-shift).max(0);
            for m0 in [M0_MIN, M0_MIN + 1, i32::MAX] {
                // SRDHM(x, 2^30) = x/2: odd x are ties of the first step.
                for base in [1i64, 3, -1, -3, 5, -5] {
                    for k in [-1i64, 0, 1] {
                        // Ties of the second step: SRDHM result near (2j+1)·2^(right−1).
                        let t = if right > 0 { (base << (right - 1)) * 2 + k } else { base + k };
                        let acc = t.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
                        for bias in [0, -1, 1] {
                            items.push(RequantItem {
                                acc,
                                bias,
                                m0,
                                shift,
                                out_zp: 0,
                                act_min: -128,
                                act_max: 127,
                            });
                        }
                    }
                }
            }
        }
        run(&items, 2);
    }

    /// `INT32_MIN × INT32_MIN`, negative multipliers and the int8 extremes of the output.
    #[test]
    fn saturation_and_extremes() {
        let mut items = vec![];
        for m0 in [i32::MIN, i32::MIN + 1, -1, 0, 1, M0_MIN, i32::MAX] {
            for acc in [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX] {
                for shift in [SHIFT_MIN, -1, 0, 1, SHIFT_MAX] {
                    for (zp, lo, hi) in [(0, -128, 127), (127, -128, 127), (-128, -128, 127), (5, 5, 7)] {
                        items.push(RequantItem { acc, bias: 0, m0, shift, out_zp: zp, act_min: lo, act_max: hi });
                    }
                }
            }
        }
        let outs: Vec<i8> = items.iter().map(RequantItem::golden).collect();
        assert!(outs.contains(&-128) && outs.contains(&127));
        run(&items, 3);
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        let v = verilog_of(&mut Requantizer::default());
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
    }

    #[test]
    fn synthesises_with_dsp_multiplier_and_no_latches() {
        if !require_tool("yosys") {
            return;
        }
        let v = verilog_of(&mut Requantizer::default());
        for t in [Target::Ice40, Target::Ecp5] {
            let s = yosys_stat(&v, "top", t).unwrap();
            eprintln!("Requantizer {s}");
            assert_eq!(s.dsps(), 4, "the multiply alone uses DSPs: {s}");
            assert_eq!(s.latches(), 0, "{s}");
        }
    }
}
