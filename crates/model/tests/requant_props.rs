//! Property tests of the requantization arithmetic against deliberately naive definitions:
//! exact rationals in i128, explicit rounding rules, no bit tricks.

use dsc_model::requant::{
    multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul, Clamp, RequantParams,
};
use proptest::prelude::*;

/// `a·b / 2^31` rounded to nearest with ties toward +∞, saturated to int32.
fn srdhm_naive(a: i32, b: i32) -> i32 {
    let p = a as i128 * b as i128;
    let d = 1i128 << 31;
    let floor = p.div_euclid(d);
    let rem = p.rem_euclid(d); // 0 ≤ rem < d
    let rounded = if 2 * rem >= d { floor + 1 } else { floor };
    rounded.clamp(i32::MIN as i128, i32::MAX as i128) as i32
}

/// `x / 2^e` rounded to nearest with ties away from zero.
fn rdbp_naive(x: i32, e: i32) -> i32 {
    let mag = (x as i64).abs();
    let d = 1i64 << e;
    let q = mag / d + i64::from(2 * (mag % d) >= d);
    (if x < 0 { -q } else { q }) as i32
}

/// The reference formula with an explicit int32 wrap of the left shift.
fn mbqm_naive(acc: i32, m0: i32, shift: i32) -> i32 {
    let shifted = ((acc as i64) << shift.max(0)) as i32; // keep the low 32 bits
    rdbp_naive(srdhm_naive(shifted, m0), (-shift).max(0))
}

fn int32_with_extremes() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => any::<i32>(),
        1 => Just(i32::MIN),
        1 => Just(i32::MAX),
        1 => Just(-128),
        1 => -70_000i32..70_000,
        // products landing on exact ties of the first rounding step
        1 => (-(1i32 << 15)..(1 << 15)).prop_map(|v| v << 15),
    ]
}

fn multiplier() -> impl Strategy<Value = i32> {
    prop_oneof![4 => (1i32 << 30)..=i32::MAX, 1 => Just(0), 1 => Just(1 << 30), 1 => Just(i32::MAX)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn srdhm_matches_naive(a in int32_with_extremes(), b in int32_with_extremes()) {
        prop_assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_naive(a, b));
    }

    #[test]
    fn rdbp_matches_naive(x in int32_with_extremes(), e in 0i32..=31) {
        prop_assert_eq!(rounding_divide_by_pot(x, e).unwrap(), rdbp_naive(x, e));
    }

    #[test]
    fn rdbp_rejects_exponents_out_of_range(x in any::<i32>(), e in prop_oneof![i32::MIN..0, 32..=i32::MAX]) {
        prop_assert!(rounding_divide_by_pot(x, e).is_err());
    }

    #[test]
    fn mbqm_matches_naive(acc in int32_with_extremes(), m0 in multiplier(), shift in -31i32..=30) {
        prop_assert_eq!(multiply_by_quantized_multiplier(acc, m0, shift).unwrap(), mbqm_naive(acc, m0, shift));
    }

    #[test]
    fn requantize_matches_naive(
        acc in int32_with_extremes(),
        m0 in multiplier(),
        shift in -31i32..=30,
        zp in -128i32..=127,
        bounds in (-128i32..=127, -128i32..=127),
    ) {
        let (lo, hi) = (bounds.0.min(bounds.1), bounds.0.max(bounds.1));
        let p = RequantParams::new(vec![0], vec![m0], vec![shift], zp, lo, hi).unwrap();
        let want = (mbqm_naive(acc, m0, shift) as i64 + zp as i64).clamp(lo as i64, hi as i64);
        prop_assert_eq!(p.requantize(acc, 0).unwrap() as i64, want);
    }

    #[test]
    fn quantize_multiplier_is_accurate(real in prop_oneof![1e-12f64..1.0, 1.0f64..1e6, 2f64.powi(-33)..2f64.powi(-30)]) {
        let (m0, shift) = quantize_multiplier(real).unwrap();
        if m0 == 0 {
            // Only multipliers below 2^-32 (shift < −31) flush to zero.
            prop_assert!(real < 2f64.powi(-32));
            prop_assert_eq!(shift, 0);
        } else {
            prop_assert!((1i32 << 30..=i32::MAX).contains(&m0));
            prop_assert!((-31..=30).contains(&shift));
            let represented = m0 as f64 * 2f64.powi(shift - 31);
            // m0 is q·2^31 rounded to an integer, q ≥ 1/2: relative error at most 2^-31.
            prop_assert!((represented - real).abs() <= real * 2f64.powi(-31));
        }
    }

    #[test]
    fn relu6_bound_is_float32_rounding(scale in 1e-3f32..10.0, zp in -128i32..=127) {
        let (lo, hi) = Clamp::Relu6.range(scale, zp).unwrap();
        prop_assert_eq!(lo, zp);
        let q = (6.0f32 / scale).round() as i64;
        prop_assert_eq!(hi as i64, (zp as i64 + q).min(127));
    }
}
