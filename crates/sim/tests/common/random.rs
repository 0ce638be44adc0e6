//! Seeded random layer parts shared by the engine tests: int8 values with the extremes
//! over-represented, and full-range per-channel requantization.

use dsc_model::requant::{M0_MIN, SHIFT_MAX, SHIFT_MIN};
use dsc_model::RequantParams;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// An int8, `−128` and `127` one time in ten each.
pub fn int8(rng: &mut ChaCha8Rng) -> i8 {
    match rng.gen_range(0..10) {
        0 => -128,
        1 => 127,
        _ => rng.gen(),
    }
}

/// Full-range requantization of `n` channels: biases mostly in `±bias_span` (with the int32
/// extremes), multipliers and shifts across their whole ranges with most shifts in `shifts`;
/// `case % 3` picks the clamp: none, ReLU (`out_zp..127`) or a narrow ReLU6-like range.
pub fn requant(rng: &mut ChaCha8Rng, n: usize, case: usize, shifts: (i32, i32), bias_span: i32) -> RequantParams {
    let bias: Vec<i32> = (0..n)
        .map(|_| match rng.gen_range(0..6) {
            0 => i32::MIN,
            1 => i32::MAX,
            2 => rng.gen(),
            _ => rng.gen_range(-bias_span..bias_span),
        })
        .collect();
    let mult: Vec<i32> = (0..n)
        .map(|_| match rng.gen_range(0..10) {
            0 => 0,
            1 => M0_MIN,
            2 => i32::MAX,
            3 => rng.gen_range(M0_MIN..=i32::MAX),
            _ => rng.gen_range(1 << 30..=i32::MAX),
        })
        .collect();
    let shift: Vec<i32> = (0..n)
        .map(|_| match rng.gen_range(0..10) {
            0 => SHIFT_MIN,
            1 => SHIFT_MAX,
            2 => rng.gen_range(SHIFT_MIN..=SHIFT_MAX),
            _ => rng.gen_range(shifts.0..=shifts.1),
        })
        .collect();
    let out_zp = int8(rng) as i32;
    let (lo, hi) = match case % 3 {
        0 => (-128, 127),
        1 => (out_zp, 127),
        _ => (out_zp, (out_zp + rng.gen_range(0..=60)).min(127)),
    };
    RequantParams::new(bias, mult, shift, out_zp, lo, hi).unwrap()
}
