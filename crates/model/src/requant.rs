//! Requantization exactly as TensorFlow Lite's int8 *reference* kernels do it.
//!
//! An int32 accumulator becomes an int8 output through a per-channel Q31 multiplier `M0` and a
//! power-of-two `shift` (the "double rounding" form of `MultiplyByQuantizedMultiplier`, the
//! default build of TFLite), then the output zero point and the activation clamp.
//!
//! Two rounding steps, and they are *not* the same rule:
//! * [`saturating_rounding_doubling_high_mul`] (gemmlowp) adds a nudge of `2^30` (or
//!   `1 − 2^30` for a negative product) and divides by `2^31` truncating toward zero. Worked out,
//!   that is `floor((a·b + 2^30) / 2^31)`: ties round toward **+∞** (−0.5 → 0, +0.5 → 1).
//! * [`rounding_divide_by_pot`] rounds ties **away from zero** (−0.5 → −1, +0.5 → 1).
//!
//! The left shift `acc << shift` of a positive shift is an int32 multiply in TFLite with no
//! overflow check (undefined in C++); compiled, it wraps (two's complement), and so does ours.
//!
//! Both the tie rules and the wrap were confirmed against TFLite itself: the opt-in test
//! `tests/tflite_crosscheck.rs` compares the model with layers run through TFLite's reference
//! op resolver, bit for bit, including tie-heavy layers and left shifts that overflow.

use crate::error::{ModelError, Result};
use crate::tensor::Tensor;

/// Smallest Q31 multiplier of a normalized real multiplier: `0.5 · 2^31`.
pub const M0_MIN: i32 = 1 << 30;
/// Most negative shift TFLite produces (smaller multipliers flush to 0).
pub const SHIFT_MIN: i32 = -31;
/// Largest shift for which the int32 left shift `1 << shift` is defined.
pub const SHIFT_MAX: i32 = 30;

/// `round(a·b / 2^31)` with ties toward +∞, saturating the one overflow `INT32_MIN × INT32_MIN`
/// to `INT32_MAX` (gemmlowp `SaturatingRoundingDoublingHighMul`).
///
/// gemmlowp writes it as `(ab + nudge) / 2^31` with a truncating division and a sign-dependent
/// nudge (`2^30`, or `1 − 2^30` for `ab < 0`); for every `ab` that equals
/// `floor((ab + 2^30) / 2^31)`, which is what is computed here (an arithmetic shift, no branch:
/// this runs once per output). The only result beyond int32 is `2^31`, from `INT32_MIN²`.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    let ab = a as i64 * b as i64;
    ((ab + (1 << 30)) >> 31).min(i32::MAX as i64) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero (gemmlowp `RoundingDivideByPOT`).
/// `exponent` must be in `0..=31`.
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> Result<i32> {
    if !(0..=31).contains(&exponent) {
        return Err(ModelError::Quantization(format!(
            "rounding divide by 2^{exponent}: exponent must be in 0..=31"
        )));
    }
    Ok(rdbp(x, exponent))
}

/// [`rounding_divide_by_pot`] for an exponent known to be in `0..=31`.
#[inline]
fn rdbp(x: i32, exponent: i32) -> i32 {
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite `MultiplyByQuantizedMultiplier(acc, m0, shift)` (double rounding):
/// `RoundingDivideByPOT(SRDHM(acc · 2^max(shift,0), m0), max(−shift,0))`.
/// `shift` must be in `SHIFT_MIN..=SHIFT_MAX`; the left shift wraps like TFLite's int32 multiply.
pub fn multiply_by_quantized_multiplier(acc: i32, m0: i32, shift: i32) -> Result<i32> {
    check_shift(shift)?;
    Ok(mbqm(acc, m0, shift))
}

/// [`multiply_by_quantized_multiplier`] for a shift already checked.
#[inline]
pub(crate) fn mbqm(acc: i32, m0: i32, shift: i32) -> i32 {
    let left = shift.max(0);
    let right = (-shift).max(0);
    rdbp(saturating_rounding_doubling_high_mul(acc.wrapping_mul(1 << left), m0), right)
}

fn check_shift(shift: i32) -> Result<()> {
    if !(SHIFT_MIN..=SHIFT_MAX).contains(&shift) {
        return Err(ModelError::Quantization(format!(
            "shift {shift} is outside {SHIFT_MIN}..={SHIFT_MAX}"
        )));
    }
    Ok(())
}

/// `(q, e)` with `x = q · 2^e` and `q` in `[0.5, 1)`, for finite `x > 0` (C `frexp`).
pub(crate) fn frexp(x: f64) -> (f64, i32) {
    debug_assert!(x.is_finite() && x > 0.0);
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first (exact).
        let (q, e) = frexp(x * f64::from_bits((1023u64 + 64) << 52));
        return (q, e - 64);
    }
    let q = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (q, biased - 1022)
}

/// TFLite `QuantizeMultiplier`: a real multiplier as `(m0, shift)` with
/// `real ≈ m0 · 2^(shift − 31)`, `m0` in `[2^30, 2^31)`.
///
/// `frexp`, then `round(q · 2^31)` half away from zero; `2^31` becomes `2^30` with `shift + 1`;
/// `shift < −31` flushes to `(0, 0)`; `0.0` gives `(0, 0)`. Negative, NaN or infinite input is
/// an error, and so is a multiplier ≥ 2^30 (its shift > 30 cannot be applied in int32).
pub fn quantize_multiplier(real: f64) -> Result<(i32, i32)> {
    if !real.is_finite() || real < 0.0 {
        return Err(ModelError::Quantization(format!(
            "real multiplier must be finite and non-negative, got {real}"
        )));
    }
    if real == 0.0 {
        return Ok((0, 0));
    }
    let (q, mut shift) = frexp(real);
    let mut q_fixed = (q * (1u64 << 31) as f64).round() as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < SHIFT_MIN {
        return Ok((0, 0));
    }
    if shift > SHIFT_MAX {
        return Err(ModelError::Quantization(format!(
            "real multiplier {real} needs shift {shift} > {SHIFT_MAX}: too large for int32 requantization"
        )));
    }
    Ok((q_fixed as i32, shift))
}

fn check_scale(what: &str, scale: f32) -> Result<()> {
    if !scale.is_finite() || scale <= 0.0 {
        return Err(ModelError::Quantization(format!(
            "{what} must be finite and positive, got {scale}"
        )));
    }
    Ok(())
}

/// Effective requantization multiplier of a channel, as TFLite computes it:
/// `(double)in_scale * (double)w_scale / (double)out_scale`, in that order.
pub fn effective_multiplier(in_scale: f32, w_scale: f32, out_scale: f32) -> Result<f64> {
    check_scale("input scale", in_scale)?;
    check_scale("weight scale", w_scale)?;
    check_scale("output scale", out_scale)?;
    Ok(in_scale as f64 * w_scale as f64 / out_scale as f64)
}

/// Errors unless `zp` is a valid int8 zero point (`-128..=127`).
pub fn check_zero_point(what: &str, zp: i32) -> Result<()> {
    if !(-128..=127).contains(&zp) {
        return Err(ModelError::Quantization(format!(
            "{what} zero point {zp} is outside the int8 range -128..=127"
        )));
    }
    Ok(())
}

/// The fused activation of a layer; it becomes the clamp `[act_min, act_max]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clamp {
    /// The full int8 range.
    None,
    /// `[max(-128, out_zp), 127]`.
    Relu,
    /// `[max(-128, out_zp), min(127, out_zp + round(6f32 / out_scale))]`.
    Relu6,
}

impl Clamp {
    /// `(act_min, act_max)` as TFLite's `CalculateActivationRangeQuantized` computes it; the
    /// ReLU6 bound divides in float32 and rounds half away from zero. Like TFLite, a bound
    /// `round(6 / out_scale)` outside int32 (a tiny scale) is an error, not a saturation.
    pub fn range(self, out_scale: f32, out_zp: i32) -> Result<(i32, i32)> {
        check_scale("output scale", out_scale)?;
        check_zero_point("output", out_zp)?;
        let quantize = |f: f32| -> Result<i64> {
            let q = (f / out_scale).round();
            if !(-2_147_483_648.0..2_147_483_648.0).contains(&q) {
                return Err(ModelError::Quantization(format!(
                    "activation bound {f} / output scale {out_scale} = {q} does not fit int32"
                )));
            }
            Ok(out_zp as i64 + q as i64)
        };
        let (lo, hi) = match self {
            Clamp::None => (-128, 127),
            Clamp::Relu => (quantize(0.0)?.max(-128), 127),
            Clamp::Relu6 => (quantize(0.0)?.max(-128), quantize(6.0)?.min(127)),
        };
        Ok((lo as i32, hi as i32))
    }
}

/// Requantization of one output channel, already validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelRequant {
    /// Q31 multiplier `M0`: 0 or in `[2^30, 2^31)`.
    pub multiplier: i32,
    /// Power-of-two exponent, `SHIFT_MIN..=SHIFT_MAX`.
    pub shift: i32,
    /// Output zero point.
    pub out_zp: i32,
    /// Lower clamp bound.
    pub act_min: i32,
    /// Upper clamp bound.
    pub act_max: i32,
}

impl ChannelRequant {
    /// int8 output of a full accumulator (bias already added): `MBQM`, `+ out_zp`, clamp.
    #[inline]
    pub fn requantize(&self, acc: i32) -> i8 {
        let v = mbqm(acc, self.multiplier, self.shift) as i64 + self.out_zp as i64;
        v.clamp(self.act_min as i64, self.act_max as i64) as i8
    }
}

/// Per-output-channel quantization parameters of one layer: bias, `M0`, shift; plus the output
/// zero point and clamp shared by all channels. Only valid parameters can be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequantParams {
    bias: Vec<i32>,
    multiplier: Vec<i32>,
    shift: Vec<i32>,
    out_zp: i32,
    act_min: i32,
    act_max: i32,
}

impl RequantParams {
    /// Checks and stores the parameters: the three per-channel vectors of equal, non-zero
    /// length; each `M0` is 0 or in `[2^30, 2^31)`; each shift in `SHIFT_MIN..=SHIFT_MAX`;
    /// `out_zp`, `act_min`, `act_max` in int8 range with `act_min <= act_max`.
    pub fn new(
        bias: Vec<i32>,
        multiplier: Vec<i32>,
        shift: Vec<i32>,
        out_zp: i32,
        act_min: i32,
        act_max: i32,
    ) -> Result<Self> {
        let n = bias.len();
        if n == 0 {
            return Err(ModelError::Quantization("at least one output channel is needed".into()));
        }
        if multiplier.len() != n || shift.len() != n {
            return Err(ModelError::Quantization(format!(
                "per-channel lengths differ: bias {n}, multiplier {}, shift {}",
                multiplier.len(),
                shift.len()
            )));
        }
        for (c, (&m, &s)) in multiplier.iter().zip(&shift).enumerate() {
            if m != 0 && m < M0_MIN {
                return Err(ModelError::Quantization(format!(
                    "channel {c}: multiplier {m} must be 0 or in [2^30, 2^31)"
                )));
            }
            check_shift(s).map_err(|e| ModelError::Quantization(format!("channel {c}: {e}")))?;
        }
        check_zero_point("output", out_zp)?;
        for (name, v) in [("act_min", act_min), ("act_max", act_max)] {
            if !(-128..=127).contains(&v) {
                return Err(ModelError::Quantization(format!(
                    "{name} {v} is outside the int8 range -128..=127"
                )));
            }
        }
        if act_min > act_max {
            return Err(ModelError::Quantization(format!(
                "act_min {act_min} is greater than act_max {act_max}"
            )));
        }
        Ok(RequantParams { bias, multiplier, shift, out_zp, act_min, act_max })
    }

    /// Parameters from real scales, as the TFLite converter and kernels derive them: per
    /// channel `quantize_multiplier(effective_multiplier(in_scale, w_scales[c], out_scale))`,
    /// and the clamp from [`Clamp::range`].
    pub fn from_scales(
        bias: Vec<i32>,
        in_scale: f32,
        w_scales: &[f32],
        out_scale: f32,
        out_zp: i32,
        clamp: Clamp,
    ) -> Result<Self> {
        let mut multiplier = Vec::with_capacity(w_scales.len());
        let mut shift = Vec::with_capacity(w_scales.len());
        for &ws in w_scales {
            let (m, s) = quantize_multiplier(effective_multiplier(in_scale, ws, out_scale)?)?;
            multiplier.push(m);
            shift.push(s);
        }
        let (act_min, act_max) = clamp.range(out_scale, out_zp)?;
        Self::new(bias, multiplier, shift, out_zp, act_min, act_max)
    }

    /// Number of output channels.
    pub fn channels(&self) -> usize {
        self.bias.len()
    }

    /// Per-channel int32 bias.
    pub fn bias(&self) -> &[i32] {
        &self.bias
    }

    /// Per-channel Q31 multipliers `M0`.
    pub fn multiplier(&self) -> &[i32] {
        &self.multiplier
    }

    /// Per-channel shifts.
    pub fn shift(&self) -> &[i32] {
        &self.shift
    }

    /// Output zero point.
    pub fn out_zp(&self) -> i32 {
        self.out_zp
    }

    /// Lower clamp bound.
    pub fn act_min(&self) -> i32 {
        self.act_min
    }

    /// Upper clamp bound.
    pub fn act_max(&self) -> i32 {
        self.act_max
    }

    /// The requantization of `channel`.
    pub fn channel(&self, channel: usize) -> Result<ChannelRequant> {
        if channel >= self.channels() {
            return Err(ModelError::Shape(format!(
                "channel {channel} is outside the {} channels of the requantization",
                self.channels()
            )));
        }
        Ok(self.channel_unchecked(channel))
    }

    #[inline]
    pub(crate) fn channel_unchecked(&self, c: usize) -> ChannelRequant {
        ChannelRequant {
            multiplier: self.multiplier[c],
            shift: self.shift[c],
            out_zp: self.out_zp,
            act_min: self.act_min,
            act_max: self.act_max,
        }
    }

    /// int8 output of a full accumulator `acc` (bias already included) of `channel`.
    pub fn requantize(&self, acc: i32, channel: usize) -> Result<i8> {
        Ok(self.channel(channel)?.requantize(acc))
    }

    /// int8 tensor of a tensor of full accumulators whose innermost dimension is the channel.
    pub fn apply(&self, acc: &Tensor<i32>) -> Result<Tensor<i8>> {
        self.expect_channels("accumulators", acc.c())?;
        let (lo, hi, zp) = (self.act_min, self.act_max, self.out_zp);
        let mut out = vec![0i8; acc.data().len()];
        // Plain loops over contiguous slices, no per-element iterator adaptors: this runs once
        // per output of every layer the model checks.
        for (o, a) in out.chunks_exact_mut(self.channels()).zip(acc.data().chunks_exact(self.channels())) {
            for (((o, &a), &m), &s) in o.iter_mut().zip(a).zip(&self.multiplier).zip(&self.shift) {
                *o = (mbqm(a, m, s).saturating_add(zp)).clamp(lo, hi) as i8;
            }
        }
        Tensor::new(acc.shape(), out)
    }

    /// Errors unless there are exactly `channels` channels; `what` names the layer.
    pub(crate) fn expect_channels(&self, what: &str, channels: usize) -> Result<()> {
        if self.channels() != channels {
            return Err(ModelError::Shape(format!(
                "{what}: requantization has {} channels, the layer has {channels}",
                self.channels()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive SRDHM: the exact rational `a·b / 2^31`, ties toward +∞, saturated to int32.
    fn srdhm_naive(a: i32, b: i32) -> i32 {
        let num = a as i128 * b as i128 + (1i128 << 30);
        num.div_euclid(1i128 << 31).clamp(i32::MIN as i128, i32::MAX as i128) as i32
    }

    /// Naive RoundingDivideByPOT: magnitude divided, half rounded away from zero, sign restored.
    fn rdbp_naive(x: i32, e: i32) -> i32 {
        let mag = (x as i64).abs();
        let d = 1i64 << e;
        let mut q = mag / d;
        if 2 * (mag % d) >= d {
            q += 1;
        }
        (if x < 0 { -q } else { q }) as i32
    }

    #[test]
    fn srdhm_saturates_only_int32_min_squared() {
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX), -i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MAX, i32::MAX), i32::MAX - 1);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, 1 << 30), -(1 << 30));
        for (a, b) in [(i32::MIN, i32::MAX), (i32::MAX, i32::MAX), (i32::MIN, 1 << 30)] {
            assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_naive(a, b));
        }
    }

    /// gemmlowp's literal form: sign-dependent nudge, truncating division, explicit saturation.
    fn srdhm_gemmlowp(a: i32, b: i32) -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let ab = a as i64 * b as i64;
        let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((ab + nudge) / (1i64 << 31)) as i32
    }

    #[test]
    fn srdhm_equals_gemmlowps_literal_form() {
        let vals = [i32::MIN, i32::MIN + 1, -(3 << 15), -(1 << 15) - 1, -(1 << 15), -1, 0, 1, 1 << 15, 3 << 15, i32::MAX];
        for &a in &vals {
            for &b in &vals {
                assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_gemmlowp(a, b), "{a} {b}");
            }
        }
        // Every residue class of ab modulo 2^31 near the ties, both signs.
        for a in -70_000i32..70_000 {
            let b = 1 << 15;
            assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_gemmlowp(a, b), "{a}");
        }
    }

    #[test]
    fn srdhm_ties_round_toward_positive_infinity() {
        // a·b = ±2^30 is exactly ±0.5 after the division by 2^31.
        assert_eq!(saturating_rounding_doubling_high_mul(1 << 15, 1 << 15), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-(1 << 15), 1 << 15), 0);
        // ±1.5
        assert_eq!(saturating_rounding_doubling_high_mul(3 << 15, 1 << 15), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-(3 << 15), 1 << 15), -1);
        // Just past the negative tie rounds away.
        assert_eq!(saturating_rounding_doubling_high_mul(-(1 << 15) - 1, 1 << 15), -1);
    }

    #[test]
    fn srdhm_matches_naive_on_a_grid() {
        let vals = [i32::MIN, i32::MIN + 1, -(1 << 30), -12345, -1, 0, 1, 777, 1 << 30, i32::MAX];
        for &a in &vals {
            for &b in &vals {
                assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_naive(a, b), "{a} {b}");
            }
        }
    }

    #[test]
    fn rdbp_ties_round_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(1, 1).unwrap(), 1);
        assert_eq!(rounding_divide_by_pot(-1, 1).unwrap(), -1);
        assert_eq!(rounding_divide_by_pot(3, 1).unwrap(), 2);
        assert_eq!(rounding_divide_by_pot(-3, 1).unwrap(), -2);
        assert_eq!(rounding_divide_by_pot(5, 2).unwrap(), 1);
        assert_eq!(rounding_divide_by_pot(-5, 2).unwrap(), -1);
        assert_eq!(rounding_divide_by_pot(6, 2).unwrap(), 2);
        assert_eq!(rounding_divide_by_pot(-6, 2).unwrap(), -2);
    }

    #[test]
    fn rdbp_extremes_and_exponent_range() {
        assert_eq!(rounding_divide_by_pot(i32::MIN, 0).unwrap(), i32::MIN);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31).unwrap(), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31).unwrap(), 1);
        assert_eq!(rounding_divide_by_pot(-128, 8).unwrap(), rdbp_naive(-128, 8));
        for x in [i32::MIN, i32::MIN + 1, -129, -128, -1, 0, 1, 127, i32::MAX] {
            for e in 0..=31 {
                assert_eq!(rounding_divide_by_pot(x, e).unwrap(), rdbp_naive(x, e), "{x} {e}");
            }
        }
        assert!(matches!(rounding_divide_by_pot(1, -1), Err(ModelError::Quantization(_))));
        assert!(matches!(rounding_divide_by_pot(1, 32), Err(ModelError::Quantization(_))));
    }

    #[test]
    fn mbqm_is_the_two_steps() {
        let m0 = 1_518_500_250; // ≈ 2^31/√2
        for acc in [i32::MIN, -1_000_000, -128, -1, 0, 1, 127, 999_999, i32::MAX] {
            for shift in [-31, -20, -7, -1, 0] {
                let want = rdbp_naive(srdhm_naive(acc, m0), -shift);
                assert_eq!(multiply_by_quantized_multiplier(acc, m0, shift).unwrap(), want);
            }
        }
    }

    #[test]
    fn mbqm_shift_zero_and_multiplier_zero() {
        // M0 = 2^30 is one half; shift 0 keeps it.
        assert_eq!(multiply_by_quantized_multiplier(3, 1 << 30, 0).unwrap(), 2); // 1.5 → 2
        assert_eq!(multiply_by_quantized_multiplier(-3, 1 << 30, 0).unwrap(), -1); // −1.5 → −1 (SRDHM)
        assert_eq!(multiply_by_quantized_multiplier(-3, 1 << 30, -1).unwrap(), -1); // −0.75 → −1
        for acc in [i32::MIN, -5, 0, 5, i32::MAX] {
            assert_eq!(multiply_by_quantized_multiplier(acc, 0, -3).unwrap(), 0);
            assert_eq!(multiply_by_quantized_multiplier(acc, 0, 7).unwrap(), 0);
        }
    }

    #[test]
    fn mbqm_double_rounding_differs_from_single_rounding() {
        // 5 · 0.5 · 2^−1 = 1.25 would round to 1 in one step; the reference rounds twice:
        // SRDHM(5, 2^30) = round(2.5) = 3, then 3 / 2 = 1.5 → 2.
        assert_eq!(multiply_by_quantized_multiplier(5, 1 << 30, -1).unwrap(), 2);
    }

    #[test]
    fn mbqm_positive_shift_wraps_like_int32() {
        // 2^20 · 2^12 = 2^32 wraps to 0 in int32.
        assert_eq!(multiply_by_quantized_multiplier(1 << 20, i32::MAX, 12).unwrap(), 0);
        // No wrap: shifted value times ~1 stays.
        let want = srdhm_naive(100 << 10, i32::MAX);
        assert_eq!(multiply_by_quantized_multiplier(100, i32::MAX, 10).unwrap(), want);
        // The largest shift.
        let want = srdhm_naive(1i32.wrapping_mul(1 << 30), 1 << 30);
        assert_eq!(multiply_by_quantized_multiplier(1, 1 << 30, 30).unwrap(), want);
        assert_eq!(
            multiply_by_quantized_multiplier(-128, 1 << 30, 30).unwrap(),
            srdhm_naive((-128i32).wrapping_mul(1 << 30), 1 << 30)
        );
    }

    #[test]
    fn mbqm_rejects_shifts_out_of_range() {
        assert!(matches!(multiply_by_quantized_multiplier(1, 1 << 30, 31), Err(ModelError::Quantization(_))));
        assert!(matches!(multiply_by_quantized_multiplier(1, 1 << 30, -32), Err(ModelError::Quantization(_))));
    }

    #[test]
    fn frexp_normal_and_subnormal() {
        for x in [1.0, 0.5, 0.75, 3.0, 1e-300, 1e300, 5e-324, 2.2e-308, 0.1] {
            let (q, e) = frexp(x);
            assert!((0.5..1.0).contains(&q), "{x}: q {q}");
            // Reconstruct in two exact power-of-two steps (e can be below −1022).
            let half = e / 2;
            assert_eq!(q * 2f64.powi(half) * 2f64.powi(e - half), x, "{x}");
        }
    }

    /// Naive QuantizeMultiplier: search the exponent by repeated halving/doubling.
    fn quantize_naive(real: f64) -> (i32, i32) {
        let mut q = real;
        let mut e = 0;
        while q >= 1.0 {
            q /= 2.0;
            e += 1;
        }
        while q < 0.5 {
            q *= 2.0;
            e -= 1;
        }
        let mut fixed = (q * 2147483648.0).round() as i64;
        if fixed == 1 << 31 {
            fixed /= 2;
            e += 1;
        }
        if e < -31 {
            (0, 0)
        } else {
            (fixed as i32, e)
        }
    }

    #[test]
    fn quantize_multiplier_matches_naive() {
        for real in [0.5, 1.0, 0.1, 0.3333, 1e-3, 2.5e-5, 0.999_999_999_9, 1.234e-9, 7.0, 1e6] {
            let (m, s) = quantize_multiplier(real).unwrap();
            assert_eq!((m, s), quantize_naive(real), "{real}");
            assert!((M0_MIN..=i32::MAX).contains(&m));
        }
        assert_eq!(quantize_multiplier(0.5).unwrap(), (1 << 30, 0));
        assert_eq!(quantize_multiplier(1.0).unwrap(), (1 << 30, 1));
    }

    #[test]
    fn quantize_multiplier_rounding_up_to_two_pow_31_renormalizes() {
        // q = 1 − 2^−33: q·2^31 = 2^31 − 1/4 rounds to 2^31, so M0 = 2^30 and the shift grows.
        let real = (1.0 - 2f64.powi(-33)) * 2f64.powi(-3);
        assert_eq!(quantize_multiplier(real).unwrap(), (1 << 30, -2));
    }

    #[test]
    fn quantize_multiplier_tiny_values_flush_to_zero() {
        assert_eq!(quantize_multiplier(0.0).unwrap(), (0, 0));
        assert_eq!(quantize_multiplier(2f64.powi(-32)).unwrap(), (1 << 30, -31));
        assert_eq!(quantize_multiplier(2f64.powi(-32) * 0.99).unwrap(), (0, 0));
        assert_eq!(quantize_multiplier(1e-300).unwrap(), (0, 0));
        assert_eq!(quantize_multiplier(5e-324).unwrap(), (0, 0));
    }

    #[test]
    fn quantize_multiplier_rejects_bad_reals() {
        for bad in [-0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 2f64.powi(30), 1e300] {
            assert!(matches!(quantize_multiplier(bad), Err(ModelError::Quantization(_))), "{bad}");
        }
        // Just below 2^30 still rounds to a shift of 31.
        assert!(quantize_multiplier(2f64.powi(30) * (1.0 - 2f64.powi(-40))).is_err());
        assert_eq!(quantize_multiplier(2f64.powi(29)).unwrap(), (1 << 30, 30));
    }

    #[test]
    fn effective_multiplier_widens_then_multiplies_then_divides() {
        let (i, w, o) = (0.0235f32, 0.0013f32, 0.0471f32);
        let want = (i as f64 * w as f64) / o as f64;
        assert_eq!(effective_multiplier(i, w, o).unwrap().to_bits(), want.to_bits());
        assert!(effective_multiplier(0.0, w, o).is_err());
        assert!(effective_multiplier(i, -w, o).is_err());
        assert!(effective_multiplier(i, w, f32::NAN).is_err());
        assert!(effective_multiplier(i, w, f32::INFINITY).is_err());
    }

    #[test]
    fn clamp_ranges() {
        assert_eq!(Clamp::None.range(0.1, 5).unwrap(), (-128, 127));
        assert_eq!(Clamp::Relu.range(0.1, -128).unwrap(), (-128, 127));
        assert_eq!(Clamp::Relu.range(0.1, 3).unwrap(), (3, 127));
        // 6 / 0.0235294 in float32, rounded half away from zero.
        let scale = 6.0f32 / 255.0;
        let hi = -128 + (6.0f32 / scale).round() as i32;
        assert_eq!(Clamp::Relu6.range(scale, -128).unwrap(), (-128, hi));
        // A small scale: the bound saturates at 127.
        assert_eq!(Clamp::Relu6.range(1e-3, 0).unwrap(), (0, 127));
        // A large scale: round(6 / 8) = 1.
        assert_eq!(Clamp::Relu6.range(8.0, 10).unwrap(), (10, 11));
        // The tie 6 / 4 = 1.5 rounds away from zero to 2.
        assert_eq!(Clamp::Relu6.range(4.0, 0).unwrap(), (0, 2));
        assert!(Clamp::Relu.range(0.0, 0).is_err());
        // 6 / 1e-12 does not fit int32: TFLite refuses the layer, and so do we.
        assert!(matches!(Clamp::Relu6.range(1e-12, 0), Err(ModelError::Quantization(_))));
        assert!(Clamp::Relu.range(1e-12, 0).is_ok());
        assert!(Clamp::None.range(1e-12, 0).is_ok());
        assert!(Clamp::None.range(0.1, 128).is_err());
    }

    #[test]
    fn relu6_bound_divides_in_float32() {
        // Find scales near the ties 6 / (k + 0.5) where the float32 quotient rounds to another
        // integer than the float64 one; the bound must follow float32.
        let mut found = 0;
        for k in 1..200u32 {
            let centre = 6.0f32 / (k as f32 + 0.5);
            let mut bits = centre.to_bits() - 8;
            while bits <= centre.to_bits() + 8 {
                let scale = f32::from_bits(bits);
                let q32 = (6.0f32 / scale).round() as i32;
                let q64 = (6.0f64 / scale as f64).round() as i32;
                if q32 != q64 && q32 <= 100 {
                    found += 1;
                    assert_eq!(Clamp::Relu6.range(scale, 0).unwrap(), (0, q32), "scale {scale}");
                }
                bits += 1;
            }
        }
        assert!(found > 0, "no distinguishing scale found");
    }

    fn params() -> RequantParams {
        RequantParams::new(vec![10, -20], vec![1 << 30, 0], vec![-1, 0], -5, -128, 100).unwrap()
    }

    #[test]
    fn requantize_adds_zero_point_and_clamps() {
        let p = params();
        // 1000·0.5/2 = 250 → −5 → 245 → clamp 100.
        assert_eq!(p.requantize(1000, 0).unwrap(), 100);
        // −1000 → −250 → −255 → −128.
        assert_eq!(p.requantize(-1000, 0).unwrap(), -128);
        // 6·0.25 = 1.5: SRDHM(6, 2^30) = 3, /2 = 1.5 → 2, −5 → −3.
        assert_eq!(p.requantize(6, 0).unwrap(), -3);
        // Multiplier 0: everything maps to the zero point.
        assert_eq!(p.requantize(i32::MAX, 1).unwrap(), -5);
        assert_eq!(p.requantize(i32::MIN, 1).unwrap(), -5);
        assert!(matches!(p.requantize(0, 2), Err(ModelError::Shape(_))));
    }

    #[test]
    fn requantize_extreme_accumulators_do_not_overflow() {
        let p = RequantParams::new(vec![0], vec![i32::MAX], vec![0], 127, -128, 127).unwrap();
        assert_eq!(p.requantize(i32::MAX, 0).unwrap(), 127);
        assert_eq!(p.requantize(i32::MIN, 0).unwrap(), -128);
        let p = RequantParams::new(vec![0], vec![i32::MAX], vec![0], -128, -128, 127).unwrap();
        assert_eq!(p.requantize(i32::MIN, 0).unwrap(), -128);
    }

    #[test]
    fn apply_requantizes_each_channel_of_each_pixel() {
        let p = params();
        let acc = Tensor::new([1, 1, 2, 2], vec![1000, 7, 6, -7]).unwrap();
        let out = p.apply(&acc).unwrap();
        let want: Vec<i8> = [(1000, 0), (7, 1), (6, 0), (-7, 1)]
            .iter()
            .map(|&(a, c)| p.requantize(a, c).unwrap())
            .collect();
        assert_eq!(out.data(), &want[..]);
        assert_eq!(out.shape(), [1, 1, 2, 2]);
        let wrong = Tensor::new([1, 1, 1, 3], vec![0, 0, 0]).unwrap();
        assert!(matches!(p.apply(&wrong), Err(ModelError::Shape(_))));
    }

    #[test]
    fn params_validation() {
        let ok = |m: i32, s: i32, zp: i32, lo: i32, hi: i32| {
            RequantParams::new(vec![0], vec![m], vec![s], zp, lo, hi)
        };
        assert!(ok(1 << 30, 0, 0, -128, 127).is_ok());
        assert!(ok(0, 0, 0, -128, 127).is_ok());
        assert!(ok(i32::MAX, 30, 0, -128, 127).is_ok());
        assert!(ok(i32::MAX, -31, 0, -128, 127).is_ok());
        assert!(ok((1 << 30) - 1, 0, 0, -128, 127).is_err());
        assert!(ok(-1, 0, 0, -128, 127).is_err());
        assert!(ok(1 << 30, 31, 0, -128, 127).is_err());
        assert!(ok(1 << 30, -32, 0, -128, 127).is_err());
        assert!(ok(1 << 30, 0, 128, -128, 127).is_err());
        assert!(ok(1 << 30, 0, -129, -128, 127).is_err());
        assert!(ok(1 << 30, 0, 0, 5, 4).is_err());
        assert!(ok(1 << 30, 0, 0, -129, 127).is_err());
        assert!(ok(1 << 30, 0, 0, -128, 128).is_err());
        assert!(RequantParams::new(vec![], vec![], vec![], 0, -128, 127).is_err());
        assert!(RequantParams::new(vec![0, 0], vec![1 << 30], vec![0, 0], 0, -128, 127).is_err());
    }

    #[test]
    fn from_scales_follows_the_float_path() {
        let w = [0.002f32, 0.0005];
        let p = RequantParams::from_scales(vec![1, 2], 0.02, &w, 0.05, -3, Clamp::Relu6).unwrap();
        for (c, &ws) in w.iter().enumerate() {
            let want = quantize_multiplier(0.02f32 as f64 * ws as f64 / 0.05f32 as f64).unwrap();
            assert_eq!((p.multiplier()[c], p.shift()[c]), want);
        }
        assert_eq!((p.act_min(), p.act_max()), Clamp::Relu6.range(0.05, -3).unwrap());
        assert_eq!(p.bias(), &[1, 2]);
        assert!(RequantParams::from_scales(vec![1], 0.02, &[0.0], 0.05, 0, Clamp::None).is_err());
        assert!(RequantParams::from_scales(vec![1, 2], 0.02, &[0.1], 0.05, 0, Clamp::None).is_err());
    }
}
