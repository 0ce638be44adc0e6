//! Pointwise (1×1) convolution, int8: TFLite's reference `ConvPerChannel` with a 1×1 kernel,
//! stride 1 — a matrix product per pixel, no padding.
//!
//! Weights are `[N, 1, 1, M]`. `acc[n] = bias[n] + Σ_m w[n,m]·(x[m] − in_zp)` in wrapping int32;
//! then per-channel requantization. Any int8 weight is accepted (see [`crate::conv`]).

use crate::conv::{centered, check_bias, dot, widened};
use crate::error::Result;
use crate::requant::{check_zero_point, RequantParams};
use crate::tensor::Tensor;

/// Raw int32 accumulators of a pointwise convolution: `[n, h, w, N]`, bias included.
pub fn pointwise_acc(
    input: &Tensor<i8>,
    weights: &Tensor<i8>,
    bias: &[i32],
    in_zp: i32,
) -> Result<Tensor<i32>> {
    let [batch, h, w, m] = input.shape();
    let n_out = weights.n();
    weights.expect_shape("pointwise weights [N, 1, 1, M]", [n_out, 1, 1, m])?;
    check_zero_point("input", in_zp)?;
    check_bias(bias, n_out)?;
    let xc = centered(input, in_zp);
    let wd = widened(weights);
    let mut out = Tensor::zeros([batch, h, w, n_out])?;
    for (acc, x) in out.data_mut().chunks_exact_mut(n_out).zip(xc.chunks_exact(m)) {
        for ((a, ws), &b) in acc.iter_mut().zip(wd.chunks_exact(m)).zip(bias) {
            *a = b.wrapping_add(dot(ws, x));
        }
    }
    Ok(out)
}

/// Pointwise convolution to int8: [`pointwise_acc`] with `rq`'s bias, then per-channel
/// requantization.
pub fn pointwise(
    input: &Tensor<i8>,
    weights: &Tensor<i8>,
    in_zp: i32,
    rq: &RequantParams,
) -> Result<Tensor<i8>> {
    rq.expect_channels("pointwise", weights.n())?;
    rq.apply(&pointwise_acc(input, weights, rq.bias(), in_zp)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::conv2d_acc;
    use crate::error::ModelError;

    #[test]
    fn is_a_matrix_product_per_pixel() {
        let input = Tensor::from_fn([1, 2, 1, 3], |_, y, _, c| (y as i8 + 1) * (c as i8 - 1)).unwrap();
        let weights = Tensor::from_fn([2, 1, 1, 3], |n, _, _, c| if n == 0 { 1 } else { c as i8 }).unwrap();
        let acc = pointwise_acc(&input, &weights, &[10, 20], -2).unwrap();
        // Pixel 0: x − zp = [1, 2, 3]; pixel 1: [0, 2, 4].
        assert_eq!(acc.data(), &[10 + 6, 20 + 2 + 6, 10 + 6, 20 + 2 + 8]);
    }

    #[test]
    fn equals_conv_with_a_one_by_one_kernel() {
        let input = Tensor::from_fn([2, 3, 4, 5], |n, y, x, c| ((n * 61 + y * 37 + x * 11 + c * 7) % 256) as u8 as i8).unwrap();
        let weights = Tensor::from_fn([6, 1, 1, 5], |n, _, _, c| ((n * 13 + c * 29) % 256) as u8 as i8).unwrap();
        let bias = [1, -2, 3, -4, 5, -6];
        assert_eq!(
            pointwise_acc(&input, &weights, &bias, -7).unwrap(),
            conv2d_acc(&input, &weights, &bias, -7, 1).unwrap()
        );
    }

    #[test]
    fn bad_arguments_are_errors() {
        let input = Tensor::<i8>::zeros([1, 2, 2, 4]).unwrap();
        let w = Tensor::<i8>::zeros([3, 1, 1, 4]).unwrap();
        assert!(pointwise_acc(&input, &w, &[0; 3], 0).is_ok());
        assert!(matches!(pointwise_acc(&input, &w, &[0; 2], 0), Err(ModelError::Shape(_))));
        assert!(matches!(pointwise_acc(&input, &w, &[0; 3], 200), Err(ModelError::Quantization(_))));
        let k3 = Tensor::<i8>::zeros([3, 3, 3, 4]).unwrap();
        assert!(matches!(pointwise_acc(&input, &k3, &[0; 3], 0), Err(ModelError::Shape(_))));
        let wrong_m = Tensor::<i8>::zeros([3, 1, 1, 5]).unwrap();
        assert!(matches!(pointwise_acc(&input, &wrong_m, &[0; 3], 0), Err(ModelError::Shape(_))));
        let rq = RequantParams::new(vec![0; 4], vec![0; 4], vec![0; 4], 0, -128, 127).unwrap();
        assert!(matches!(pointwise(&input, &w, 0, &rq), Err(ModelError::Shape(_))));
    }
}
