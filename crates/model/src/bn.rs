//! Bringing a float layer: fold batch normalization into the weights and bias, then quantize to
//! the int8 layer the kernels run (symmetric per-channel weights, int32 bias, `(M0, shift)`).
//!
//! Folding (per output channel `c`): `s = γ / √(var + ε)`, `w' = w·s`, `b' = (b − mean)·s + β`,
//! computed in f64 and stored as f32 like a float model.
//!
//! Quantization follows the TFLite converter's symmetric per-channel scheme:
//! `w_scale[c] = max|w[c]| / 127` in f32 (1 for an all-zero channel, so the multiplier stays
//! defined), `q = round(w / w_scale)` half away from zero in f32, clamped to `[-127, 127]`;
//! bias `round(b / (in_scale · w_scale[c]))` in f64 on the widened f32 scales; and
//! [`RequantParams::from_scales`] for `(M0, shift)` and the clamp. The int8 kernels are the
//! bit-exact spec; this path is how a user gets valid parameters for them.

use crate::error::{ModelError, Result};
use crate::requant::{check_zero_point, Clamp, RequantParams};
use crate::tensor::Tensor;

/// Which convolution a float layer is; it decides the output-channel axis of the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// Standard or pointwise convolution, weights `[N, Dk, Dk, M]`: channel = first axis.
    Conv,
    /// Depthwise convolution, weights `[1, Dk, Dk, M]`: channel = last axis.
    Depthwise,
}

/// Batch-normalization parameters, one entry per output channel.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm {
    /// Scale γ.
    pub gamma: Vec<f32>,
    /// Offset β.
    pub beta: Vec<f32>,
    /// Moving mean.
    pub mean: Vec<f32>,
    /// Moving variance.
    pub var: Vec<f32>,
    /// ε added to the variance.
    pub eps: f32,
}

/// A float convolution layer: weights and per-output-channel bias.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatLayer {
    kind: LayerKind,
    weights: Tensor<f32>,
    bias: Vec<f32>,
}

/// The int8 layer a float layer quantizes to.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedLayer {
    /// Which convolution it is.
    pub kind: LayerKind,
    /// int8 weights in `[-127, 127]`, same shape as the float weights.
    pub weights: Tensor<i8>,
    /// Per-channel weight scales.
    pub w_scales: Vec<f32>,
    /// Input zero point.
    pub in_zp: i32,
    /// Bias, `(M0, shift)` per channel, output zero point and clamp.
    pub requant: RequantParams,
}

fn check_finite(what: &str, values: &[f32]) -> Result<()> {
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(ModelError::InvalidParameter(format!("{what} must be finite, found {v}")));
    }
    Ok(())
}

impl FloatLayer {
    /// A float layer; the weights' shape must fit `kind` and `bias` have one entry per output
    /// channel; every value finite.
    pub fn new(kind: LayerKind, weights: Tensor<f32>, bias: Vec<f32>) -> Result<Self> {
        let [n, dk, dkw, _] = weights.shape();
        if dk != dkw || dk.is_multiple_of(2) {
            return Err(ModelError::InvalidParameter(format!(
                "weights {:?}: the kernel must be square with odd Dk",
                weights.shape()
            )));
        }
        if kind == LayerKind::Depthwise && n != 1 {
            return Err(ModelError::Shape(format!(
                "depthwise weights: expected shape [1, Dk, Dk, M], got {:?}",
                weights.shape()
            )));
        }
        let layer = FloatLayer { kind, weights, bias };
        if layer.bias.len() != layer.out_channels() {
            return Err(ModelError::Shape(format!(
                "bias: expected {} entries (one per output channel), got {}",
                layer.out_channels(),
                layer.bias.len()
            )));
        }
        check_finite("weights", layer.weights.data())?;
        check_finite("bias", &layer.bias)?;
        Ok(layer)
    }

    /// Which convolution it is.
    pub fn kind(&self) -> LayerKind {
        self.kind
    }

    /// Float weights.
    pub fn weights(&self) -> &Tensor<f32> {
        &self.weights
    }

    /// Float bias.
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// Number of output channels.
    pub fn out_channels(&self) -> usize {
        match self.kind {
            LayerKind::Conv => self.weights.n(),
            LayerKind::Depthwise => self.weights.c(),
        }
    }

    /// Output channel of flat weight index `i`.
    fn channel_of(&self, i: usize) -> usize {
        let [_, h, w, c] = self.weights.shape();
        match self.kind {
            LayerKind::Conv => i / (h * w * c),
            LayerKind::Depthwise => i % c,
        }
    }

    /// The layer with batch normalization folded in.
    pub fn fold_bn(&self, bn: &BatchNorm) -> Result<FloatLayer> {
        let n = self.out_channels();
        for (what, v) in [("gamma", &bn.gamma), ("beta", &bn.beta), ("mean", &bn.mean), ("var", &bn.var)] {
            if v.len() != n {
                return Err(ModelError::Shape(format!(
                    "batch norm {what}: expected {n} entries, got {}",
                    v.len()
                )));
            }
            check_finite(what, v)?;
        }
        check_finite("eps", &[bn.eps])?;
        let mut scale = Vec::with_capacity(n);
        for c in 0..n {
            let denom = bn.var[c] as f64 + bn.eps as f64;
            if denom <= 0.0 {
                return Err(ModelError::InvalidParameter(format!(
                    "batch norm channel {c}: var + eps = {denom} must be positive"
                )));
            }
            scale.push(bn.gamma[c] as f64 / denom.sqrt());
        }
        let mut weights = self.weights.clone();
        for (i, w) in weights.data_mut().iter_mut().enumerate() {
            *w = (*w as f64 * scale[self.channel_of(i)]) as f32;
        }
        let bias = (0..n)
            .map(|c| ((self.bias[c] as f64 - bn.mean[c] as f64) * scale[c] + bn.beta[c] as f64) as f32)
            .collect();
        FloatLayer::new(self.kind, weights, bias)
    }

    /// Per-channel symmetric weight scales: `max|w| / 127`, or 1 for an all-zero channel.
    pub fn weight_scales(&self) -> Vec<f32> {
        let mut max_abs = vec![0f32; self.out_channels()];
        for (i, &w) in self.weights.data().iter().enumerate() {
            let c = self.channel_of(i);
            max_abs[c] = max_abs[c].max(w.abs());
        }
        max_abs.into_iter().map(|m| if m > 0.0 { m / 127.0 } else { 1.0 }).collect()
    }

    /// The int8 layer for an input quantized with `(in_scale, in_zp)` and an output with
    /// `(out_scale, out_zp)` and the fused activation `clamp`.
    pub fn quantize(
        &self,
        in_scale: f32,
        in_zp: i32,
        out_scale: f32,
        out_zp: i32,
        clamp: Clamp,
    ) -> Result<QuantizedLayer> {
        check_zero_point("input", in_zp)?;
        if !in_scale.is_finite() || in_scale <= 0.0 {
            return Err(ModelError::Quantization(format!(
                "input scale must be finite and positive, got {in_scale}"
            )));
        }
        let w_scales = self.weight_scales();
        let data = self
            .weights
            .data()
            .iter()
            .enumerate()
            .map(|(i, &w)| (w / w_scales[self.channel_of(i)]).round().clamp(-127.0, 127.0) as i8)
            .collect();
        let weights = Tensor::new(self.weights.shape(), data)?;
        let mut bias = Vec::with_capacity(self.bias.len());
        for (c, &b) in self.bias.iter().enumerate() {
            let q = (b as f64 / (in_scale as f64 * w_scales[c] as f64)).round();
            if !(i32::MIN as f64..=i32::MAX as f64).contains(&q) {
                return Err(ModelError::Quantization(format!(
                    "channel {c}: bias {b} does not fit int32 at scale {}",
                    in_scale as f64 * w_scales[c] as f64
                )));
            }
            bias.push(q as i32);
        }
        let requant = RequantParams::from_scales(bias, in_scale, &w_scales, out_scale, out_zp, clamp)?;
        Ok(QuantizedLayer { kind: self.kind, weights, w_scales, in_zp, requant })
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // naive index loops read like the definition
mod tests {
    use super::*;
    use crate::requant::effective_multiplier;

    fn pseudo(i: usize, salt: u64) -> f32 {
        // A deterministic spread of values in about [-1, 1].
        let x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15 ^ salt);
        ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn layer(kind: LayerKind, shape: [usize; 4]) -> FloatLayer {
        let w = Tensor::from_fn(shape, |n, y, x, c| pseudo(((n * 7 + y) * 7 + x) * 13 + c, 1) * 0.3).unwrap();
        let nc = if kind == LayerKind::Conv { shape[0] } else { shape[3] };
        FloatLayer::new(kind, w, (0..nc).map(|c| pseudo(c, 2)).collect()).unwrap()
    }

    fn bn(n: usize) -> BatchNorm {
        BatchNorm {
            gamma: (0..n).map(|c| 0.5 + pseudo(c, 3).abs()).collect(),
            beta: (0..n).map(|c| pseudo(c, 4)).collect(),
            mean: (0..n).map(|c| pseudo(c, 5) * 0.2).collect(),
            var: (0..n).map(|c| 0.1 + pseudo(c, 6).abs()).collect(),
            eps: 1e-3,
        }
    }

    /// Naive float convolution (SAME padding, f64), for either kind.
    fn conv_f64(l: &FloatLayer, input: &Tensor<f64>, stride: usize) -> Tensor<f64> {
        let [_, h, w, m] = input.shape();
        let dk = l.weights().h();
        let oh = h.div_ceil(stride);
        let ow = w.div_ceil(stride);
        let pt = (((oh - 1) * stride + dk).saturating_sub(h) / 2) as isize;
        let pl = (((ow - 1) * stride + dk).saturating_sub(w) / 2) as isize;
        let n = l.out_channels();
        Tensor::from_fn([1, oh, ow, n], |_, oy, ox, o| {
            let mut s = l.bias()[o] as f64;
            for ky in 0..dk {
                for kx in 0..dk {
                    let iy = (oy * stride + ky) as isize - pt;
                    let ix = (ox * stride + kx) as isize - pl;
                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                        continue;
                    }
                    let (iy, ix) = (iy as usize, ix as usize);
                    match l.kind() {
                        LayerKind::Conv => {
                            for c in 0..m {
                                s += l.weights().get(o, ky, kx, c).unwrap() as f64 * input.get(0, iy, ix, c).unwrap();
                            }
                        }
                        LayerKind::Depthwise => {
                            s += l.weights().get(0, ky, kx, o).unwrap() as f64 * input.get(0, iy, ix, o).unwrap();
                        }
                    }
                }
            }
            s
        })
        .unwrap()
    }

    #[test]
    fn folded_layer_equals_conv_then_bn() {
        // Float math: the folded parameters are rounded to f32, so agreement is up to f32
        // rounding of those parameters (relative 2^-23 per term), not bit-exact.
        for (kind, shape) in [(LayerKind::Conv, [5, 3, 3, 4]), (LayerKind::Depthwise, [1, 3, 3, 4])] {
            let l = layer(kind, shape);
            let b = bn(l.out_channels());
            let folded = l.fold_bn(&b).unwrap();
            let input = Tensor::from_fn([1, 6, 5, 4], |_, y, x, c| pseudo(y * 100 + x * 10 + c, 7) as f64).unwrap();
            for stride in [1, 2] {
                let plain = conv_f64(&l, &input, stride);
                let got = conv_f64(&folded, &input, stride);
                for (i, (&p, &g)) in plain.data().iter().zip(got.data()).enumerate() {
                    let c = i % l.out_channels();
                    let s = b.gamma[c] as f64 / (b.var[c] as f64 + b.eps as f64).sqrt();
                    let want = (p - b.mean[c] as f64) * s + b.beta[c] as f64;
                    let magnitude = (p.abs() + 1.0) * s.abs() + b.beta[c].abs() as f64 + 1.0;
                    assert!((g - want).abs() <= 1e-5 * magnitude, "{kind:?} {i}: {g} vs {want}");
                }
            }
        }
    }

    #[test]
    fn quantization_invariants() {
        for (kind, shape) in [(LayerKind::Conv, [6, 3, 3, 5]), (LayerKind::Depthwise, [1, 3, 3, 6])] {
            let l = layer(kind, shape).fold_bn(&bn(6)).unwrap();
            let (in_scale, out_scale) = (0.0235f32, 0.0471f32);
            let q = l.quantize(in_scale, -128, out_scale, -128, Clamp::Relu6).unwrap();
            assert_eq!(q.weights.shape(), l.weights().shape());
            let scales = l.weight_scales();
            assert_eq!(q.w_scales, scales);
            let mut reaches_127 = [false; 6];
            for (i, (&qw, &w)) in q.weights.data().iter().zip(l.weights().data()).enumerate() {
                assert!((-127..=127).contains(&qw));
                let c = l.channel_of(i);
                assert_eq!(qw, (w / scales[c]).round() as i8);
                reaches_127[c] |= qw.abs() == 127;
            }
            assert!(reaches_127.iter().all(|&r| r), "the largest weight of each channel maps to ±127");
            for c in 0..6 {
                let bias_scale = in_scale as f64 * scales[c] as f64;
                let want = (l.bias()[c] as f64 / bias_scale).round() as i32;
                assert_eq!(q.requant.bias()[c], want);
                let eff = effective_multiplier(in_scale, scales[c], out_scale).unwrap();
                let m0 = q.requant.multiplier()[c] as f64;
                let represented = m0 * 2f64.powi(q.requant.shift()[c] - 31);
                assert!((represented - eff).abs() <= eff * 2f64.powi(-31), "channel {c}");
            }
            assert_eq!((q.requant.act_min(), q.requant.act_max()), Clamp::Relu6.range(out_scale, -128).unwrap());
            assert_eq!(q.in_zp, -128);
        }
    }

    #[test]
    fn all_zero_channel_gets_unit_scale() {
        let w = Tensor::from_fn([2, 1, 1, 3], |n, _, _, c| if n == 0 { 0.0 } else { c as f32 - 1.0 }).unwrap();
        let l = FloatLayer::new(LayerKind::Conv, w, vec![0.0, 0.5]).unwrap();
        assert_eq!(l.weight_scales(), vec![1.0, 1.0 / 127.0]);
        let q = l.quantize(0.1, 0, 0.1, 0, Clamp::None).unwrap();
        assert_eq!(q.weights.data(), &[0, 0, 0, -127, 0, 127]);
    }

    #[test]
    fn bad_float_layers_are_rejected() {
        let w = Tensor::<f32>::zeros([2, 3, 3, 4]).unwrap();
        assert!(FloatLayer::new(LayerKind::Conv, w.clone(), vec![0.0; 2]).is_ok());
        assert!(matches!(FloatLayer::new(LayerKind::Conv, w.clone(), vec![0.0; 3]), Err(ModelError::Shape(_))));
        assert!(matches!(FloatLayer::new(LayerKind::Depthwise, w.clone(), vec![0.0; 4]), Err(ModelError::Shape(_))));
        let even = Tensor::<f32>::zeros([2, 2, 2, 4]).unwrap();
        assert!(matches!(FloatLayer::new(LayerKind::Conv, even, vec![0.0; 2]), Err(ModelError::InvalidParameter(_))));
        let nan = Tensor::filled([1, 1, 1, 1], f32::NAN).unwrap();
        assert!(matches!(FloatLayer::new(LayerKind::Conv, nan, vec![0.0]), Err(ModelError::InvalidParameter(_))));
        assert!(FloatLayer::new(LayerKind::Conv, w.clone(), vec![f32::INFINITY, 0.0]).is_err());
    }

    #[test]
    fn bad_batch_norms_are_rejected() {
        let l = layer(LayerKind::Conv, [3, 1, 1, 2]);
        let mut b = bn(3);
        b.var[1] = -1.0;
        assert!(matches!(l.fold_bn(&b), Err(ModelError::InvalidParameter(_))));
        let mut b = bn(3);
        b.var[0] = 0.0;
        b.eps = 0.0;
        assert!(matches!(l.fold_bn(&b), Err(ModelError::InvalidParameter(_))));
        let mut b = bn(3);
        b.gamma.pop();
        assert!(matches!(l.fold_bn(&b), Err(ModelError::Shape(_))));
        let mut b = bn(3);
        b.mean[2] = f32::NAN;
        assert!(l.fold_bn(&b).is_err());
    }

    #[test]
    fn bad_quantization_arguments_are_rejected() {
        let l = layer(LayerKind::Conv, [3, 1, 1, 2]);
        assert!(matches!(l.quantize(0.0, 0, 0.1, 0, Clamp::None), Err(ModelError::Quantization(_))));
        assert!(matches!(l.quantize(0.1, 128, 0.1, 0, Clamp::None), Err(ModelError::Quantization(_))));
        assert!(matches!(l.quantize(0.1, 0, f32::NAN, 0, Clamp::None), Err(ModelError::Quantization(_))));
        assert!(matches!(l.quantize(0.1, 0, 0.1, -129, Clamp::Relu), Err(ModelError::Quantization(_))));
        // A bias far beyond int32 at a tiny scale.
        let w = Tensor::filled([1, 1, 1, 1], 1e-3f32).unwrap();
        let huge = FloatLayer::new(LayerKind::Conv, w, vec![1e9]).unwrap();
        assert!(matches!(huge.quantize(1e-6, 0, 0.1, 0, Clamp::None), Err(ModelError::Quantization(_))));
    }
}
