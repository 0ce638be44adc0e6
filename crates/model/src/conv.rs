//! Standard 2-D convolution, int8, as TFLite's reference `ConvPerChannel` (the baseline the
//! DSC reduction is measured against), and the geometry the three convolutions share.
//!
//! Weights are `[N, Dk, Dk, M]` (OHWI, TFLite's layout), `Dk` odd, stride 1 or 2, TF SAME
//! padding. `acc[n] = bias[n] + Σ w·(x − in_zp)` over the taps inside the image (padded taps are
//! skipped), in int32 with two's-complement wrap like TFLite's unchecked `int32_t acc`; then
//! per-channel requantization.
//!
//! Weights may be any int8, −128 included: TFLite's kernels compute with whatever int8 the
//! model holds, and the hardware is tested on the full range. Only the float-to-int8 path
//! ([`crate::bn`]) guarantees TFLite's symmetric `[-127, 127]`.

use crate::error::{ModelError, Result};
use crate::padding::{same_padding, SamePadding};
use crate::requant::{check_zero_point, RequantParams};
use crate::tensor::Tensor;

/// Errors unless the stride is 1 or 2 (what the hardware implements).
pub(crate) fn check_stride(stride: usize) -> Result<()> {
    if stride != 1 && stride != 2 {
        return Err(ModelError::InvalidParameter(format!("stride must be 1 or 2, got {stride}")));
    }
    Ok(())
}

/// Errors unless the kernel size is odd and at least 1.
pub(crate) fn check_kernel(dk: usize) -> Result<()> {
    if dk == 0 || dk.is_multiple_of(2) {
        return Err(ModelError::InvalidParameter(format!(
            "kernel size Dk must be odd and at least 1, got {dk}"
        )));
    }
    Ok(())
}

/// Errors unless `bias` has one entry per output channel.
pub(crate) fn check_bias(bias: &[i32], channels: usize) -> Result<()> {
    if bias.len() != channels {
        return Err(ModelError::Shape(format!(
            "bias: expected {channels} entries (one per output channel), got {}",
            bias.len()
        )));
    }
    Ok(())
}

/// The input with its zero point removed, `x − in_zp` in `[-255, 255]`, as i16 so the inner
/// loops multiply narrow, contiguous operands.
pub(crate) fn centered(input: &Tensor<i8>, in_zp: i32) -> Vec<i16> {
    let zp = in_zp as i16;
    input.data().iter().map(|&x| x as i16 - zp).collect()
}

/// The taps of one output coordinate along one axis: kernel indices `lo..hi` fall inside the
/// input, and kernel index `lo` reads input index `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Taps {
    pub lo: usize,
    pub hi: usize,
    pub first: usize,
}

/// [`Taps`] of output index `out` for SAME padding `pad` of an axis of `size` inputs.
#[inline]
pub(crate) fn taps(out: usize, stride: usize, pad: SamePadding, dk: usize, size: usize) -> Taps {
    let origin = (out * stride) as isize - pad.before as isize;
    let lo = (-origin).max(0) as usize;
    let hi = (size as isize - origin).clamp(lo as isize, dk as isize) as usize;
    Taps { lo, hi, first: (origin + lo as isize) as usize }
}

/// The weights as i16: two i16 operands give the widening multiply-add the compiler
/// vectorizes best (measured about 1.3× over i8 × i16 on the pointwise shapes).
pub(crate) fn widened(weights: &Tensor<i8>) -> Vec<i16> {
    weights.data().iter().map(|&w| w as i16).collect()
}

/// `Σ w·x` of two equally long runs, wrapping in int32.
#[inline]
pub(crate) fn dot(w: &[i16], x: &[i16]) -> i32 {
    w.iter().zip(x).fold(0i32, |acc, (&w, &x)| acc.wrapping_add(w as i32 * x as i32))
}

/// Raw int32 accumulators of a standard convolution: `[n, ceil(h/s), ceil(w/s), N]`, bias
/// included.
pub fn conv2d_acc(
    input: &Tensor<i8>,
    weights: &Tensor<i8>,
    bias: &[i32],
    in_zp: i32,
    stride: usize,
) -> Result<Tensor<i32>> {
    let [batch, h, w, m] = input.shape();
    let [n_out, dk, dkw, wm] = weights.shape();
    check_kernel(dk)?;
    weights.expect_shape("conv weights [N, Dk, Dk, M]", [n_out, dk, dk, m])?;
    debug_assert!(dkw == dk && wm == m);
    check_stride(stride)?;
    check_zero_point("input", in_zp)?;
    check_bias(bias, n_out)?;
    let py = same_padding(h, dk, stride)?;
    let px = same_padding(w, dk, stride)?;
    let xc = centered(input, in_zp);
    let wd = widened(weights);
    let mut out = Tensor::zeros([batch, py.out, px.out, n_out])?;
    let od = out.data_mut();
    let mut o = 0;
    for b in 0..batch {
        for oy in 0..py.out {
            let ty = taps(oy, stride, py, dk, h);
            for ox in 0..px.out {
                let tx = taps(ox, stride, px, dk, w);
                // Along a kernel row the valid taps are one contiguous run in both the input
                // (x, then channels) and the weights (kx, then channels).
                let run = (tx.hi - tx.lo) * m;
                for (n, acc) in od[o..o + n_out].iter_mut().enumerate() {
                    let mut s = bias[n];
                    for ky in ty.lo..ty.hi {
                        let iy = ty.first + (ky - ty.lo);
                        let xi = ((b * h + iy) * w + tx.first) * m;
                        let wi = ((n * dk + ky) * dk + tx.lo) * m;
                        s = s.wrapping_add(dot(&wd[wi..wi + run], &xc[xi..xi + run]));
                    }
                    *acc = s;
                }
                o += n_out;
            }
        }
    }
    Ok(out)
}

/// Standard convolution to int8: [`conv2d_acc`] with `rq`'s bias, then per-channel requant.
pub fn conv2d(
    input: &Tensor<i8>,
    weights: &Tensor<i8>,
    in_zp: i32,
    stride: usize,
    rq: &RequantParams,
) -> Result<Tensor<i8>> {
    rq.expect_channels("conv", weights.n())?;
    rq.apply(&conv2d_acc(input, weights, rq.bias(), in_zp, stride)?)
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // naive index loops read like the definition
mod tests {
    use super::*;

    fn t(shape: [usize; 4], f: impl FnMut(usize, usize, usize, usize) -> i8) -> Tensor<i8> {
        Tensor::from_fn(shape, f).unwrap()
    }

    #[test]
    fn taps_cover_same_padding() {
        let p = same_padding(5, 3, 1).unwrap();
        assert_eq!(taps(0, 1, p, 3, 5), Taps { lo: 1, hi: 3, first: 0 });
        assert_eq!(taps(2, 1, p, 3, 5), Taps { lo: 0, hi: 3, first: 1 });
        assert_eq!(taps(4, 1, p, 3, 5), Taps { lo: 0, hi: 2, first: 3 });
        // Stride 2 on an even size pads only after.
        let p = same_padding(4, 3, 2).unwrap();
        assert_eq!(taps(0, 2, p, 3, 4), Taps { lo: 0, hi: 3, first: 0 });
        assert_eq!(taps(1, 2, p, 3, 4), Taps { lo: 0, hi: 2, first: 2 });
        // Kernel larger than the input.
        let p = same_padding(1, 5, 1).unwrap();
        assert_eq!(taps(0, 1, p, 5, 1), Taps { lo: 2, hi: 3, first: 0 });
    }

    #[test]
    fn centre_tap_only_kernel_is_identity_times_weight() {
        // A 3×3 kernel whose only non-zero tap is the centre: acc = bias + w·(x − zp).
        let input = t([1, 4, 5, 2], |_, y, x, c| (y * 10 + x + c) as i8 - 20);
        let weights = t([3, 3, 3, 2], |n, ky, kx, c| if ky == 1 && kx == 1 { (n as i8 + 1) * (c as i8 * 2 - 1) } else { 0 });
        let bias = [5, -7, 100];
        let acc = conv2d_acc(&input, &weights, &bias, 3, 1).unwrap();
        assert_eq!(acc.shape(), [1, 4, 5, 3]);
        for y in 0..4 {
            for x in 0..5 {
                for n in 0..3 {
                    let mut want = bias[n];
                    for c in 0..2 {
                        want += weights.get(n, 1, 1, c).unwrap() as i32 * (input.get(0, y, x, c).unwrap() as i32 - 3);
                    }
                    assert_eq!(acc.get(0, y, x, n).unwrap(), want);
                }
            }
        }
    }

    #[test]
    fn padded_taps_add_nothing() {
        // All-ones input at zero point 1 centres to 0 everywhere; a corner sees 4 of 9 taps
        // of an all-ones kernel on x = zp + 1.
        let input = t([1, 3, 3, 1], |_, _, _, _| 2);
        let weights = t([1, 3, 3, 1], |_, _, _, _| 1);
        let acc = conv2d_acc(&input, &weights, &[0], 1, 1).unwrap();
        assert_eq!(acc.data(), &[4, 6, 4, 6, 9, 6, 4, 6, 4]);
        // Stride 2 on 4×4: windows start at rows/cols 0 and 2 with bottom/right padding only,
        // so the first output sees all 9 taps and the last one 4.
        let input = t([1, 4, 4, 1], |_, _, _, _| 2);
        let acc = conv2d_acc(&input, &weights, &[0], 1, 2).unwrap();
        assert_eq!(acc.data(), &[9, 6, 6, 4]);
    }

    #[test]
    fn accumulator_wraps_like_int32() {
        // 1 × 1 × 1 × 70000 channels of (−128)·(127 − (−128)) = −32640 each: the exact sum
        // −2_284_800_000 is below INT32_MIN and wraps.
        let m = 70_000;
        let input = Tensor::filled([1, 1, 1, m], 127i8).unwrap();
        let weights = Tensor::filled([1, 1, 1, m], -128i8).unwrap();
        let acc = conv2d_acc(&input, &weights, &[0], -128, 1).unwrap();
        let exact: i64 = -32640 * m as i64;
        assert_eq!(acc.data()[0], exact as i32);
    }

    #[test]
    fn requantized_output_uses_per_channel_parameters() {
        let input = t([1, 2, 2, 1], |_, y, x, _| (y * 2 + x) as i8);
        let weights = t([2, 1, 1, 1], |n, _, _, _| if n == 0 { 1 } else { -1 });
        let rq = RequantParams::new(vec![0, 0], vec![1 << 30, 1 << 30], vec![1, 1], 10, -128, 127).unwrap();
        let out = conv2d(&input, &weights, 0, 1, &rq).unwrap();
        // Multiplier 2^30 with shift 1 is ×1.
        assert_eq!(out.data(), &[10, 10, 11, 9, 12, 8, 13, 7]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let input = Tensor::<i8>::zeros([1, 4, 4, 2]).unwrap();
        let w = Tensor::<i8>::zeros([3, 3, 3, 2]).unwrap();
        let bias = [0; 3];
        assert!(conv2d_acc(&input, &w, &bias, 0, 1).is_ok());
        assert!(matches!(conv2d_acc(&input, &w, &bias, 0, 3), Err(ModelError::InvalidParameter(_))));
        assert!(matches!(conv2d_acc(&input, &w, &bias, 0, 0), Err(ModelError::InvalidParameter(_))));
        assert!(matches!(conv2d_acc(&input, &w, &bias, 128, 1), Err(ModelError::Quantization(_))));
        assert!(matches!(conv2d_acc(&input, &w, &[0; 2], 0, 1), Err(ModelError::Shape(_))));
        let even = Tensor::<i8>::zeros([3, 2, 2, 2]).unwrap();
        assert!(matches!(conv2d_acc(&input, &even, &bias, 0, 1), Err(ModelError::InvalidParameter(_))));
        let not_square = Tensor::<i8>::zeros([3, 3, 1, 2]).unwrap();
        assert!(matches!(conv2d_acc(&input, &not_square, &bias, 0, 1), Err(ModelError::Shape(_))));
        let wrong_m = Tensor::<i8>::zeros([3, 3, 3, 4]).unwrap();
        let err = conv2d_acc(&input, &wrong_m, &bias, 0, 1).unwrap_err().to_string();
        assert!(err.contains("[3, 3, 3, 2]") && err.contains("[3, 3, 3, 4]"), "{err}");
        let rq = RequantParams::new(vec![0; 2], vec![0; 2], vec![0; 2], 0, -128, 127).unwrap();
        assert!(matches!(conv2d(&input, &w, 0, 1, &rq), Err(ModelError::Shape(_))));
    }
}
