//! Requantizer: an int32 accumulator to int8, exactly as TFLite's reference kernels do it
//! ([`dsc_model::requant`]), pipelined so that no stage holds more than one adder, shifter or
//! comparator after the multiply.
//!
//! Per item: `x = (acc + bias) << max(shift, 0)` (int32, wrapping) →
//! `SRDHM(x, m0) = (x·m0 + 2^30) >> 31` (arithmetic; `INT32_MIN × INT32_MIN` saturates to
//! `INT32_MAX`) → `RoundingDivideByPOT(·, max(−shift, 0))` → `+ out_zp` →
//! clamp to `[act_min, act_max]` → int8.
//!
//! The per-channel parameters (`bias`, `m0`, `shift`) come in *with the data*: the caller looks
//! them up (the engines read them from block RAM by channel) and presents them beside the
//! accumulator, so one block serves the depthwise and the pointwise stage and any channel
//! order. The per-layer parameters (`out_zp`, `act_min`, `act_max`) are **not** carried
//! through the pipeline: the block reads them in its last two stages, so they must stay
//! unchanged while an item is in flight (the engines hold them in config registers that change
//! only while idle). Carrying them cost 24 flip-flops per stage.
//!
//! **Latency** [`Requantizer::LATENCY`] = 10 clock edges from inputs to `out_*`; one item per
//! cycle; no backpressure (the pipeline always advances — a caller that must stall its output
//! issues only when its output buffer has room for every item in flight).
//!
//! | edge | stage |
//! |---|---|
//! | 1 | `acc + bias` (the shift and `m0` registered beside it) |
//! | 2 | left shift, into the multiplier's operand registers |
//! | 3–5 | 32×32 signed multiply ([`Mul32x32`]: DSP blocks, partial products pipelined) |
//! | 6 | saturate (product bits 63 ≠ 62); arithmetic right shift of bits 62..31; the round-up bit of the rounding divide and the carry of SRDHM's `+ 2^30` out of the shifted-out bits (the increment itself waits for edge 7) |
//! | 7 | round (one increment for both rounding steps: they never both add 1), saturated to 11 bits (beyond ±512 every result clamps the same way) |
//! | 8 | `+ out_zp` (11 bits) |
//! | 9 | clamp, int8 |
//! | 10 | output register (the latency the engines' cycle model counts; 8 bits is the cheapest place for it) |
//!
//! The adder and the shifter have an edge each: together, behind the bias RAM, they were the
//! longest path of the iCE40 engine (a 32-bit ripple carry, then five multiplexer levels).
//!
//! The rounding divide's `remainder > threshold` test needs no comparator: with
//! `e = max(−shift, 0) > 0`, it holds exactly when bit `e−1` of the dividend is set and, for a
//! negative dividend, some bit below it is set too. Edge 6 applies it to SRDHM's result
//! `x + b` (`b` = product bit 30) without adding `b` first: the test is rewritten in `x` and
//! `b`, and the carry of `b` through the `e` dropped bits joins the round-up's increment.
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
    /// Output zero point (int8); held while items are in flight.
    pub out_zp: Signal<In, Bits<8>>,
    /// Lower clamp bound (int8); held while items are in flight.
    pub act_min: Signal<In, Bits<8>>,
    /// Upper clamp bound (int8); held while items are in flight.
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
    // Edge 1: acc + bias, with the shift and m0 that go with it.
    sum1: DFF<Bits<32>>,
    shift1: DFF<Bits<6>>,
    m0_1: DFF<Bits<32>>,
    /// The side band beside the multiplier (`valid` and `last` from edge 1, the right shift
    /// from edge 2, to edge 6).
    dv: DelayLine<Bit>,
    dright: DelayLine<Bits<5>>,
    dlast: DelayLine<Bit>,
    // Edge 6: SRDHM result shifted, round-up bit.
    v6: DFF<Bit>,
    q6: DFF<Bits<32>>,
    up6: DFF<Bit>,
    /// The rounding increment's carry out of the `e` bits the divide drops: `q6 + c6` is
    /// the shift of `x6 + b6` (see edge 6).
    c6: DFF<Bit>,
    last6: DFF<Bit>,
    // Edge 7: rounded, saturated to 11 bits.
    v7: DFF<Bit>,
    r7: DFF<Bits<11>>,
    last7: DFF<Bit>,
    // Edge 8: zero point added.
    v8: DFF<Bit>,
    val8: DFF<Bits<11>>,
    last8: DFF<Bit>,
    // Edge 9: clamped.
    v9: DFF<Bit>,
    out9: DFF<Bits<8>>,
    last9: DFF<Bit>,
    // Edge 10: output.
    v10: DFF<Bit>,
    out10: DFF<Bits<8>>,
    last10: DFF<Bit>,
    // Combinational helpers.
    neg_shift: Signal<Local, Bits<5>>,
    sat6: Signal<Local, Bit>,
    prod_hi: Signal<Local, Bits<32>>,
    x6: Signal<Local, Bits<32>>,
    b6: Signal<Local, Bit>,
    bit6: Signal<Local, Bit>,
    any_below6: Signal<Local, Bit>,
    all_below6: Signal<Local, Bit>,
    right6: Signal<Local, Bits<5>>,
    mask6: Signal<Local, Bits<32>>,
    half6: Signal<Local, Bits<32>>,
    below6: Signal<Local, Bits<32>>,
    /// The arithmetic right shift in five stages (by 1, 2, 4, 8, 16), each filling the bits it
    /// frees with the sign `sx6` (for Fmax: the fill is part of each stage's multiplexer, not
    /// an OR after a logical shifter); `fill_k` are the top `k` bits.
    sx6: Signal<Local, Bits<32>>,
    sh6_1: Signal<Local, Bits<32>>,
    sh6_2: Signal<Local, Bits<32>>,
    sh6_4: Signal<Local, Bits<32>>,
    sh6_8: Signal<Local, Bits<32>>,
    sh6_16: Signal<Local, Bits<32>>,
    fill_1: Constant<Bits<32>>,
    fill_2: Constant<Bits<32>>,
    fill_4: Constant<Bits<32>>,
    fill_8: Constant<Bits<32>>,
    fill_16: Constant<Bits<32>>,
    top7: Signal<Local, Bits<23>>,
    low7: Signal<Local, Bits<11>>,
    zp_ext8: Signal<Local, Bits<11>>,
    val_off9: Signal<Local, Bits<11>>,
    lo_off9: Signal<Local, Bits<11>>,
    hi_off9: Signal<Local, Bits<11>>,
    ones: Constant<Bits<32>>,
    int32_max: Constant<Bits<32>>,
    top_ones: Constant<Bits<23>>,
    one11: Constant<Bits<11>>,
    sext10: Constant<Bits<11>>,
    sext8: Constant<Bits<11>>,
    sat_lo11: Constant<Bits<11>>,
    sat_hi11: Constant<Bits<11>>,
    offset11: Constant<Bits<11>>,
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
            sum1: Default::default(),
            shift1: Default::default(),
            m0_1: Default::default(),
            dv: DelayLine::new(Mul32x32::LATENCY + 1),
            dright: DelayLine::new(Mul32x32::LATENCY),
            dlast: DelayLine::new(Mul32x32::LATENCY + 1),
            v6: Default::default(),
            q6: Default::default(),
            up6: Default::default(),
            c6: Default::default(),
            last6: Default::default(),
            v7: Default::default(),
            r7: Default::default(),
            last7: Default::default(),
            v8: Default::default(),
            val8: Default::default(),
            last8: Default::default(),
            v9: Default::default(),
            out9: Default::default(),
            last9: Default::default(),
            v10: Default::default(),
            out10: Default::default(),
            last10: Default::default(),
            x6: Default::default(),
            b6: Default::default(),
            bit6: Default::default(),
            any_below6: Default::default(),
            all_below6: Default::default(),
            right6: Default::default(),
            neg_shift: Default::default(),
            sat6: Default::default(),
            prod_hi: Default::default(),
            mask6: Default::default(),
            half6: Default::default(),
            below6: Default::default(),
            sx6: Default::default(),
            sh6_1: Default::default(),
            sh6_2: Default::default(),
            sh6_4: Default::default(),
            sh6_8: Default::default(),
            sh6_16: Default::default(),
            fill_1: Constant::new(0x8000_0000u64.into()),
            fill_2: Constant::new(0xC000_0000u64.into()),
            fill_4: Constant::new(0xF000_0000u64.into()),
            fill_8: Constant::new(0xFF00_0000u64.into()),
            fill_16: Constant::new(0xFFFF_0000u64.into()),
            top7: Default::default(),
            low7: Default::default(),
            zp_ext8: Default::default(),
            val_off9: Default::default(),
            lo_off9: Default::default(),
            hi_off9: Default::default(),
            ones: Constant::new(0xFFFF_FFFFu64.into()),
            int32_max: Constant::new(0x7FFF_FFFFu64.into()),
            top_ones: Constant::new(((1u64 << 23) - 1).into()),
            one11: Constant::new(1u64.into()),
            sext10: Constant::new(0x400u64.into()),
            sext8: Constant::new(0x700u64.into()),
            // −512 and 511: any value beyond them clamps like them once out_zp is added.
            sat_lo11: Constant::new(0x600u64.into()),
            sat_hi11: Constant::new(0x1FFu64.into()),
            offset11: Constant::new(0x400u64.into()),
        }
    }
}

impl Requantizer {
    /// Clock edges from an item's inputs to its result on `out`.
    pub const LATENCY: usize = 6 + Mul32x32::LATENCY;
}

impl Logic for Requantizer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, sum1, shift1, m0_1, v6, q6, up6, c6, last6, v7, r7, last7, v8, val8, last8, v9, out9, last9,
            v10, out10, last10
        );
        clock!(self, clock, mul, dv, dright, dlast);
        // Edge 1: bias.
        self.sum1.d.next = self.acc.val() + self.bias.val();
        self.shift1.d.next = self.shift.val();
        self.m0_1.d.next = self.m0.val();
        // Edge 2: the left shift (wrapping like TFLite's int32 multiply), straight into the
        // multiplier's operand registers.
        self.neg_shift.next = !self.shift1.q.val().get_bits::<5>(0) + 1;
        if self.shift1.q.val().get_bit(5) {
            self.mul.a.next = self.sum1.q.val();
            self.dright.inp.next = self.neg_shift.val();
        } else {
            self.mul.a.next = self.sum1.q.val() << self.shift1.q.val().get_bits::<5>(0);
            self.dright.inp.next = 0.into();
        }
        self.mul.b.next = self.m0_1.q.val();
        self.dv.inp.next = self.valid.val();
        self.dlast.inp.next = self.last.val();
        // Edge 6: SRDHM = (p + 2^30) >> 31 (ties toward +inf; see dsc_model), low 32 bits:
        // y = x6 + b6 with x6 = p[62:31], b6 = p[30] (adding 2^30 carries into bit 31 exactly
        // when p[30]). p[63] ≠ p[62] only for INT32_MIN × INT32_MIN (p = 2^62), which
        // saturates to x6 = INT32_MAX, b6 = 0. The increment is not done here (for Fmax: no
        // carry chain in front of the shifter): `y >> e = (x6 >> e) + c6` (floor division),
        // with `c6 = b6` and the low `e` bits of x6 all ones, and edge 7 adds it.
        self.sat6.next = self.mul.hi.val().get_bit(32) && !self.mul.hi.val().get_bit(33);
        self.prod_hi.next = self.mul.hi.val().get_bits::<32>(1);
        self.x6.next = self.prod_hi.val();
        self.b6.next = self.mul.hi.val().get_bit(0);
        if self.sat6.val() {
            self.x6.next = self.int32_max.val();
            self.b6.next = false;
        }
        self.right6.next = self.dright.out.val();
        // Then RoundingDivideByPOT by e = right6 of y: arithmetic shift; round up when the
        // remainder (low e bits) exceeds 2^(e−1) − 1 (+1 if negative): for y ≥ 0, the low e
        // bits of y reach 2^(e−1); for y < 0, they exceed it. In terms of x6 and b6 (without
        // a carry out, y's low bits are x6's plus b6 and y has x6's sign; with one, c6 adds
        // the 1 and y's remainder is 0, so `up6` does not matter): y ≥ 0: bit e−1 set, or b6
        // with the bits below it all ones; y < 0: bit e−1 set and (a lower bit set or b6).
        self.mask6.next = !(self.ones.val() << self.right6.val());
        self.below6.next = self.mask6.val() >> 1;
        self.half6.next = self.mask6.val() ^ self.below6.val();
        self.sx6.next = 0.into();
        if self.x6.val().get_bit(31) {
            self.sx6.next = self.ones.val();
        }
        self.sh6_1.next = self.x6.val();
        if self.right6.val().get_bit(0) {
            self.sh6_1.next = (self.x6.val() >> 1) | (self.sx6.val() & self.fill_1.val());
        }
        self.sh6_2.next = self.sh6_1.val();
        if self.right6.val().get_bit(1) {
            self.sh6_2.next = (self.sh6_1.val() >> 2) | (self.sx6.val() & self.fill_2.val());
        }
        self.sh6_4.next = self.sh6_2.val();
        if self.right6.val().get_bit(2) {
            self.sh6_4.next = (self.sh6_2.val() >> 4) | (self.sx6.val() & self.fill_4.val());
        }
        self.sh6_8.next = self.sh6_4.val();
        if self.right6.val().get_bit(3) {
            self.sh6_8.next = (self.sh6_4.val() >> 8) | (self.sx6.val() & self.fill_8.val());
        }
        self.sh6_16.next = self.sh6_8.val();
        if self.right6.val().get_bit(4) {
            self.sh6_16.next = (self.sh6_8.val() >> 16) | (self.sx6.val() & self.fill_16.val());
        }
        self.q6.d.next = self.sh6_16.val();
        // (The low e bits all ones: none when e = 0, else bit e−1 and the bits below it, one
        // reduction shared with the round-up test.)
        self.bit6.next = (self.x6.val() & self.half6.val()).any();
        self.any_below6.next = (self.x6.val() & self.below6.val()).any();
        self.all_below6.next = (self.x6.val() & self.below6.val()) == self.below6.val();
        self.c6.d.next = self.b6.val()
            && ((self.right6.val() == 0) || (self.bit6.val() && self.all_below6.val()));
        if self.x6.val().get_bit(31) {
            self.up6.d.next = self.bit6.val() && (self.any_below6.val() || self.b6.val());
        } else {
            self.up6.d.next = self.bit6.val() || (self.b6.val() && self.all_below6.val());
        }
        self.v6.d.next = self.dv.out.val();
        self.last6.d.next = self.dlast.out.val();
        // Edge 7: round. A quotient outside −512..=511 (bits 31..9 not all equal) saturates:
        // with out_zp in int8 it clamps to the same bound as the exact value would.
        self.top7.next = self.q6.q.val().get_bits::<23>(9);
        self.low7.next = bit_cast::<11, 10>(self.q6.q.val().get_bits::<10>(0));
        if self.q6.q.val().get_bit(9) {
            self.low7.next = bit_cast::<11, 10>(self.q6.q.val().get_bits::<10>(0)) | self.sext10.val();
        }
        if !self.top7.val().any() || (self.top7.val() == self.top_ones.val()) {
            if self.up6.q.val() || self.c6.q.val() {
                self.r7.d.next = self.low7.val() + self.one11.val();
            } else {
                self.r7.d.next = self.low7.val();
            }
        } else if self.q6.q.val().get_bit(31) {
            self.r7.d.next = self.sat_lo11.val();
        } else {
            self.r7.d.next = self.sat_hi11.val();
        }
        self.v7.d.next = self.v6.q.val();
        self.last7.d.next = self.last6.q.val();
        // Edge 8: + out_zp in 11 bits (−640..=639: no overflow).
        self.zp_ext8.next = bit_cast::<11, 8>(self.out_zp.val());
        if self.out_zp.val().get_bit(7) {
            self.zp_ext8.next = bit_cast::<11, 8>(self.out_zp.val()) | self.sext8.val();
        }
        self.val8.d.next = self.r7.q.val() + self.zp_ext8.val();
        self.v8.d.next = self.v7.q.val();
        self.last8.d.next = self.last7.q.val();
        // Edge 9: clamp (signed compare as unsigned compare in offset binary).
        self.val_off9.next = self.val8.q.val() ^ self.offset11.val();
        self.lo_off9.next = bit_cast::<11, 8>(self.act_min.val()) ^ self.offset11.val();
        if self.act_min.val().get_bit(7) {
            self.lo_off9.next =
                (bit_cast::<11, 8>(self.act_min.val()) | self.sext8.val()) ^ self.offset11.val();
        }
        self.hi_off9.next = bit_cast::<11, 8>(self.act_max.val()) ^ self.offset11.val();
        if self.act_max.val().get_bit(7) {
            self.hi_off9.next =
                (bit_cast::<11, 8>(self.act_max.val()) | self.sext8.val()) ^ self.offset11.val();
        }
        if self.val_off9.val() < self.lo_off9.val() {
            self.out9.d.next = self.act_min.val();
        } else if self.val_off9.val() > self.hi_off9.val() {
            self.out9.d.next = self.act_max.val();
        } else {
            self.out9.d.next = self.val8.q.val().get_bits::<8>(0);
        }
        self.v9.d.next = self.v8.q.val();
        self.last9.d.next = self.last8.q.val();
        // Edge 10: output register.
        self.v10.d.next = self.v9.q.val();
        self.out10.d.next = self.out9.q.val();
        self.last10.d.next = self.last9.q.val();
        self.out_valid.next = self.v10.q.val();
        self.out.next = self.out10.q.val();
        self.out_last.next = self.last10.q.val();
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

    /// Presents `item` (or an idle cycle) with the layer constants `layer` = the zero point and
    /// clamp bounds of the items in flight.
    fn drive(uut: &mut Requantizer, item: Option<&RequantItem>, layer: (i8, i8, i8), last: bool) {
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
        uut.out_zp.next = (layer.0 as u8 as u64).into();
        uut.act_min.next = (layer.1 as u8 as u64).into();
        uut.act_max.next = (layer.2 as u8 as u64).into();
        uut.last.next = last;
    }

    /// Feeds `items` with seeded random gaps and checks every result against the golden model,
    /// exactly `LATENCY` edges after its input, in order, with its `last` flag. The layer
    /// constants (zero point, clamp) change only between items with the pipeline empty, as
    /// the engines change them only while idle.
    fn run(items: &[RequantItem], seed: u64) {
        let mut uut = Requantizer::default();
        uut.connect_all();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // (cycle it went in, index)
        let mut sent: Vec<(usize, usize)> = vec![];
        let mut got = 0usize;
        let mut next = 0usize;
        let mut cycle = 0usize;
        let layer_of = |it: &RequantItem| (it.out_zp, it.act_min, it.act_max);
        let mut layer = layer_of(&items[0]);
        while got < items.len() {
            if next < items.len() && layer_of(&items[next]) != layer && got == next {
                layer = layer_of(&items[next]);
            }
            let present =
                next < items.len() && layer_of(&items[next]) == layer && rng.gen_bool(0.8);
            let item = present.then(|| &items[next]);
            drive(&mut uut, item, layer, next % 3 == 0);
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
            assert!(cycle < 16 * items.len() + 100, "results missing");
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
        let mut items: Vec<RequantItem> = (0..3000).map(|_| random_item(&mut rng)).collect();
        // A layer's items share its zero point and clamp: groups of 30.
        for group in items.chunks_mut(30) {
            let (zp, lo, hi) = (group[0].out_zp, group[0].act_min, group[0].act_max);
            for it in group.iter_mut() {
                (it.out_zp, it.act_min, it.act_max) = (zp, lo, hi);
            }
        }
        run(&items, 1);
    }

    /// Quotients around the 11-bit saturation (±512) with the extreme zero points: with
    /// `m0 = 2^30` and shift 0 the quotient is `(acc + 1) >> 1`.
    #[test]
    fn quotients_near_the_saturation_bound() {
        let mut items = vec![];
        for (zp, lo, hi) in [(-128, -128, 127), (127, -128, 127), (0, -128, 127), (100, -20, 30)] {
            for q in (-530..=530).chain([i32::MIN / 4, i32::MAX / 4]) {
                for odd in [0, 1, -1] {
                    let acc = q.wrapping_mul(2).wrapping_add(odd);
                    items.push(RequantItem { acc, bias: 0, m0: 1 << 30, shift: 0, out_zp: zp, act_min: lo, act_max: hi });
                }
            }
            for acc in [(700 << 4) - 8, (700 << 4) + 8, -(700 << 4) - 8, -(700 << 4) + 8, 1 << 20, -(1 << 20)] {
                for shift in [-4, -5, -1] {
                    items.push(RequantItem { acc, bias: 0, m0: i32::MAX, shift, out_zp: zp, act_min: lo, act_max: hi });
                }
            }
        }
        run(&items, 4);
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
