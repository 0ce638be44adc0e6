//! TensorFlow "SAME" padding, including the asymmetric stride-2 case.
//!
//! `out = ceil(in / s)`, `pad_total = max((out − 1)·s + Dk − in, 0)`, `pad_before = pad_total / 2`
//! (floor), the rest after. Stride 2 on an even size therefore pads only bottom/right.

use crate::error::{ModelError, Result};

/// Padding of one spatial axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamePadding {
    /// Output size along the axis: `ceil(in / stride)`.
    pub out: usize,
    /// Rows (or columns) of padding before the first input row (top / left).
    pub before: usize,
    /// Rows (or columns) of padding after the last input row (bottom / right).
    pub after: usize,
}

/// SAME padding of one axis of size `input` for a kernel `dk` and a `stride`.
pub fn same_padding(input: usize, dk: usize, stride: usize) -> Result<SamePadding> {
    if input == 0 {
        return Err(ModelError::InvalidParameter("input size must be at least 1".into()));
    }
    if dk == 0 {
        return Err(ModelError::InvalidParameter("kernel size must be at least 1".into()));
    }
    if stride == 0 {
        return Err(ModelError::InvalidParameter("stride must be at least 1".into()));
    }
    let out = input.div_ceil(stride);
    let total = ((out - 1) * stride + dk).saturating_sub(input);
    Ok(SamePadding { out, before: total / 2, after: total - total / 2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stride_one_is_symmetric_for_odd_kernels() {
        let p = same_padding(112, 3, 1).unwrap();
        assert_eq!(p, SamePadding { out: 112, before: 1, after: 1 });
    }

    #[test]
    fn stride_two_on_even_size_pads_only_after() {
        let p = same_padding(112, 3, 2).unwrap();
        assert_eq!(p, SamePadding { out: 56, before: 0, after: 1 });
    }

    #[test]
    fn stride_two_on_odd_size_is_symmetric() {
        let p = same_padding(7, 3, 2).unwrap();
        assert_eq!(p, SamePadding { out: 4, before: 1, after: 1 });
    }

    #[test]
    fn input_smaller_than_kernel() {
        let p = same_padding(1, 5, 1).unwrap();
        assert_eq!(p, SamePadding { out: 1, before: 2, after: 2 });
    }

    #[test]
    fn zero_sizes_are_errors() {
        assert!(same_padding(0, 3, 1).is_err());
        assert!(same_padding(5, 0, 1).is_err());
        assert!(same_padding(5, 3, 0).is_err());
    }
}
