//! The depthwise separable convolution block of MobileNet: depthwise `Dk×Dk` (stride 1 or 2)
//! → requant + clamp (ReLU) → pointwise 1×1 → requant + clamp.
//!
//! The int8 output of the depthwise stage is the pointwise stage's input, so the pointwise
//! input zero point is the depthwise output zero point — exactly what two consecutive TFLite
//! int8 ops do, and what the hardware's FIFO between the two engines carries.

use crate::conv::{check_kernel, check_stride};
use crate::depthwise::depthwise;
use crate::error::Result;
use crate::pointwise::pointwise;
use crate::requant::{check_zero_point, RequantParams};
use crate::tensor::Tensor;

/// Both layers of a DSC block with their quantization; only consistent blocks can be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DscBlock {
    in_zp: i32,
    stride: usize,
    dw_weights: Tensor<i8>,
    dw_requant: RequantParams,
    pw_weights: Tensor<i8>,
    pw_requant: RequantParams,
}

/// Output of a DSC block with the intermediate tensor the two stages exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DscOutput {
    /// int8 output of the depthwise stage (after its requant and clamp).
    pub depthwise: Tensor<i8>,
    /// int8 output of the block.
    pub output: Tensor<i8>,
}

impl DscBlock {
    /// A block from the depthwise weights `[1, Dk, Dk, M]` with `M`-channel requantization and
    /// the pointwise weights `[N, 1, 1, M]` with `N`-channel requantization. `in_zp` is the
    /// block input's zero point.
    pub fn new(
        in_zp: i32,
        stride: usize,
        dw_weights: Tensor<i8>,
        dw_requant: RequantParams,
        pw_weights: Tensor<i8>,
        pw_requant: RequantParams,
    ) -> Result<Self> {
        check_zero_point("input", in_zp)?;
        check_stride(stride)?;
        let dk = dw_weights.h();
        check_kernel(dk)?;
        let m = dw_weights.c();
        dw_weights.expect_shape("depthwise weights [1, Dk, Dk, M]", [1, dk, dk, m])?;
        dw_requant.expect_channels("depthwise", m)?;
        let n = pw_weights.n();
        pw_weights.expect_shape("pointwise weights [N, 1, 1, M]", [n, 1, 1, m])?;
        pw_requant.expect_channels("pointwise", n)?;
        Ok(DscBlock { in_zp, stride, dw_weights, dw_requant, pw_weights, pw_requant })
    }

    /// Input zero point.
    pub fn in_zp(&self) -> i32 {
        self.in_zp
    }

    /// Stride of the depthwise stage.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Kernel size `Dk`.
    pub fn dk(&self) -> usize {
        self.dw_weights.h()
    }

    /// Input channels `M`.
    pub fn m(&self) -> usize {
        self.dw_weights.c()
    }

    /// Output channels `N`.
    pub fn n(&self) -> usize {
        self.pw_weights.n()
    }

    /// Depthwise weights `[1, Dk, Dk, M]`.
    pub fn dw_weights(&self) -> &Tensor<i8> {
        &self.dw_weights
    }

    /// Depthwise requantization (`M` channels).
    pub fn dw_requant(&self) -> &RequantParams {
        &self.dw_requant
    }

    /// Pointwise weights `[N, 1, 1, M]`.
    pub fn pw_weights(&self) -> &Tensor<i8> {
        &self.pw_weights
    }

    /// Pointwise requantization (`N` channels).
    pub fn pw_requant(&self) -> &RequantParams {
        &self.pw_requant
    }

    /// Runs the block and keeps the intermediate tensor.
    pub fn run_with_intermediate(&self, input: &Tensor<i8>) -> Result<DscOutput> {
        let dw = depthwise(input, &self.dw_weights, self.in_zp, self.stride, &self.dw_requant)?;
        let output = pointwise(&dw, &self.pw_weights, self.dw_requant.out_zp(), &self.pw_requant)?;
        Ok(DscOutput { depthwise: dw, output })
    }

    /// Runs the block on an NHWC int8 input with `M` channels.
    pub fn run(&self, input: &Tensor<i8>) -> Result<Tensor<i8>> {
        Ok(self.run_with_intermediate(input)?.output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::depthwise::depthwise_acc;
    use crate::error::ModelError;
    use crate::pointwise::pointwise_acc;
    use crate::requant::Clamp;

    fn block(stride: usize) -> DscBlock {
        let m = 3;
        let n = 4;
        let dw_w = Tensor::from_fn([1, 3, 3, m], |_, y, x, c| (y as i8 - 1) * (x as i8 + c as i8) - 2).unwrap();
        let dw_rq = RequantParams::from_scales(vec![7, -3, 0], 0.05, &[0.01, 0.02, 0.005], 0.04, -20, Clamp::Relu).unwrap();
        let pw_w = Tensor::from_fn([n, 1, 1, m], |o, _, _, c| (o * 3 + c) as i8 * if c % 2 == 0 { 9 } else { -11 }).unwrap();
        let pw_rq = RequantParams::from_scales(vec![100, -50, 0, 3], 0.04, &[0.003; 4], 0.1, 5, Clamp::Relu6).unwrap();
        DscBlock::new(-7, stride, dw_w, dw_rq, pw_w, pw_rq).unwrap()
    }

    #[test]
    fn block_is_depthwise_then_pointwise() {
        for stride in [1, 2] {
            let b = block(stride);
            let input = Tensor::from_fn([1, 6, 5, 3], |_, y, x, c| ((y * 47 + x * 23 + c * 91) % 256) as u8 as i8).unwrap();
            let out = b.run_with_intermediate(&input).unwrap();
            // Rebuild from the raw accumulators and the per-channel requantization.
            let dw_acc = depthwise_acc(&input, b.dw_weights(), b.dw_requant().bias(), -7, stride).unwrap();
            let dw = b.dw_requant().apply(&dw_acc).unwrap();
            assert_eq!(out.depthwise, dw);
            // ReLU between the stages: nothing below the depthwise output zero point.
            assert!(dw.data().iter().all(|&v| v as i32 >= b.dw_requant().out_zp()));
            let pw_acc = pointwise_acc(&dw, b.pw_weights(), b.pw_requant().bias(), -20).unwrap();
            assert_eq!(out.output, b.pw_requant().apply(&pw_acc).unwrap());
            assert_eq!(out.output.shape(), [1, 6usize.div_ceil(stride), 5usize.div_ceil(stride), 4]);
            assert_eq!(b.run(&input).unwrap(), out.output);
        }
    }

    #[test]
    fn inconsistent_blocks_are_rejected() {
        let b = block(1);
        let (dw_w, dw_rq, pw_w, pw_rq) =
            (b.dw_weights().clone(), b.dw_requant().clone(), b.pw_weights().clone(), b.pw_requant().clone());
        let make = |zp, s, dw_w: &Tensor<i8>, dw_rq: &RequantParams, pw_w: &Tensor<i8>, pw_rq: &RequantParams| {
            DscBlock::new(zp, s, dw_w.clone(), dw_rq.clone(), pw_w.clone(), pw_rq.clone())
        };
        assert!(make(0, 1, &dw_w, &dw_rq, &pw_w, &pw_rq).is_ok());
        assert!(matches!(make(0, 3, &dw_w, &dw_rq, &pw_w, &pw_rq), Err(ModelError::InvalidParameter(_))));
        assert!(matches!(make(200, 1, &dw_w, &dw_rq, &pw_w, &pw_rq), Err(ModelError::Quantization(_))));
        // Requant of the wrong width for either stage.
        assert!(matches!(make(0, 1, &dw_w, &pw_rq, &pw_w, &pw_rq), Err(ModelError::Shape(_))));
        assert!(matches!(make(0, 1, &dw_w, &dw_rq, &pw_w, &dw_rq), Err(ModelError::Shape(_))));
        // Pointwise weights for another M.
        let pw_bad = Tensor::<i8>::zeros([4, 1, 1, 5]).unwrap();
        assert!(matches!(make(0, 1, &dw_w, &dw_rq, &pw_bad, &pw_rq), Err(ModelError::Shape(_))));
        // Even depthwise kernel.
        let dw_even = Tensor::<i8>::zeros([1, 2, 2, 3]).unwrap();
        assert!(matches!(make(0, 1, &dw_even, &dw_rq, &pw_w, &pw_rq), Err(ModelError::InvalidParameter(_))));
        // Input with the wrong channel count at run time.
        let input = Tensor::<i8>::zeros([1, 4, 4, 2]).unwrap();
        assert!(matches!(b.run(&input), Err(ModelError::Shape(_))));
    }
}
