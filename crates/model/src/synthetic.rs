//! Seeded random quantized layers for a whole network: what `codegen simulate --network` runs
//! when no trained weights are at hand.
//!
//! Every layer gets int8 weights over the full range (−128 included), int32 biases, per-channel
//! real weight scales turned into Q31 multipliers and shifts by the model's own
//! [`RequantParams::from_scales`] (TFLite's `QuantizeMultiplier`), and an output zero point.
//! Scales are chosen so activations use the int8 range rather than dying out or saturating:
//! all activations share one scale, and the weight scales make each layer's effective
//! multiplier about 1 / (√terms × 73.9) (73.9: the standard deviation of a uniform int8), so
//! an output has about the spread in levels of the layer's input.
//! MobileNet's activations are ReLU6 after conv, dw and pw; the classifier has none.
//!
//! The generator is SplitMix64, written out here so a seed gives the same network on every
//! platform and with every version of the workspace's dependencies.

use crate::cost::{LayerKind, Stage};
use crate::dsc::DscBlock;
use crate::error::{ModelError, Result};
use crate::network::Network;
use crate::requant::{Clamp, RequantParams};
use crate::tensor::Tensor;

/// SplitMix64: small, fast and fully specified.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A tensor of uniform int8 over the full range.
    pub fn int8_tensor(&mut self, shape: [usize; 4]) -> Result<Tensor<i8>> {
        Tensor::from_fn(shape, |_, _, _, _| self.next_u64() as i8)
    }
}

/// A standard convolution (or a fully connected layer: a 1×1 kernel over one pixel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvLayer {
    pub in_zp: i32,
    pub stride: usize,
    /// `[N, Dk, Dk, M]`.
    pub weights: Tensor<i8>,
    pub requant: RequantParams,
}

impl ConvLayer {
    /// The layer on an NHWC input with `M` channels.
    pub fn run(&self, input: &Tensor<i8>) -> Result<Tensor<i8>> {
        crate::conv::conv2d(input, &self.weights, self.in_zp, self.stride, &self.requant)
    }
}

/// One step of a synthetic network, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntheticStage {
    /// The first layer, a standard convolution.
    Conv { name: String, layer: ConvLayer },
    /// A DSC block (depthwise → requant → pointwise → requant).
    Dsc { names: (String, String), block: DscBlock },
    /// Global average pool to 1×1 (scale and zero point unchanged, as TFLite's int8 pool).
    AvgPool { name: String },
    /// The classifier: a 1×1 convolution over the pooled pixel.
    Fc { name: String, layer: ConvLayer },
}

impl SyntheticStage {
    /// The row name (the dw name for a DSC block).
    pub fn name(&self) -> &str {
        match self {
            SyntheticStage::Conv { name, .. }
            | SyntheticStage::AvgPool { name }
            | SyntheticStage::Fc { name, .. } => name,
            SyntheticStage::Dsc { names, .. } => &names.0,
        }
    }

    /// Runs the stage in the golden model.
    pub fn run(&self, input: &Tensor<i8>) -> Result<Tensor<i8>> {
        match self {
            SyntheticStage::Conv { layer, .. } | SyntheticStage::Fc { layer, .. } => layer.run(input),
            SyntheticStage::Dsc { block, .. } => block.run(input),
            SyntheticStage::AvgPool { .. } => global_average_pool(input),
        }
    }
}

/// A network with every layer's parameters and an input image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticNetwork {
    /// `[1, R, R, 3]`.
    pub input: Tensor<i8>,
    pub input_zp: i32,
    pub stages: Vec<SyntheticStage>,
}

/// Standard deviation of a uniform int8.
const INT8_STD: f64 = 73.9;
/// Typical root mean square of an activation around its zero point, in int8 levels: sizes the
/// biases.
const LEVELS_RMS: f64 = 50.0;
/// One activation scale for every layer: ReLU6's bound 6 / 0.03 = 200 levels lies above most
/// outputs, so the clamp shapes the data without flattening it.
const ACT_SCALE: f32 = 0.03;

/// Per-channel requantization of a layer with `terms` products per output.
fn requant(rng: &mut Rng, channels: usize, terms: usize, clamp: Clamp) -> Result<RequantParams> {
    // The accumulator's rms is √terms · int8 std · input rms; this effective multiplier maps
    // it back to the input's rms in levels. Per-channel weight scales vary by up to 2× around
    // it, as trained ones do.
    let effective = 1.0 / ((terms as f64).sqrt() * INT8_STD);
    let w_scales: Vec<f32> =
        (0..channels).map(|_| (effective * (0.67 + 0.67 * rng.unit())) as f32).collect();
    // Biases up to a quarter of the accumulator's spread.
    let spread = ((terms as f64).sqrt() * INT8_STD * LEVELS_RMS / 4.0) as i64;
    let bias = (0..channels).map(|_| rng.range(-spread, spread) as i32).collect();
    let out_zp = match clamp {
        // ReLU outputs are non-negative reals: the zero point sits near the bottom of int8.
        Clamp::Relu | Clamp::Relu6 => rng.range(-128, -96) as i32,
        Clamp::None => rng.range(-16, 16) as i32,
    };
    RequantParams::from_scales(bias, ACT_SCALE, &w_scales, ACT_SCALE, out_zp, clamp)
}

/// Every layer of `net` with parameters drawn from `seed`, and a random input image.
pub fn synthesize(net: &Network, seed: u64) -> Result<SyntheticNetwork> {
    let mut rng = Rng::new(seed);
    let r = net.resolution();
    let first = net.stages().first().ok_or_else(|| {
        ModelError::InvalidParameter(format!("network {} has no layers", net.name()))
    })?;
    let in_channels = match first {
        Stage::Layer { shape, .. } => shape.m(),
        Stage::Dsc { block, .. } => block.dw().m(),
    };
    let input = rng.int8_tensor([1, r, r, in_channels])?;
    let input_zp = rng.range(-128, 127) as i32;
    let mut zp = input_zp;
    let mut stages = Vec::with_capacity(net.stages().len() + 1);
    for stage in net.stages() {
        match stage {
            Stage::Layer { name, shape } => {
                let (dk, m, n) = (shape.dk(), shape.m(), shape.n());
                let fc = shape.kind() == LayerKind::Fc;
                if fc && shape.df_in() == 1 && stages.iter().all(|s| !matches!(s, SyntheticStage::AvgPool { .. })) {
                    // The pool keeps scale and zero point: nothing to draw.
                    stages.push(SyntheticStage::AvgPool { name: "pool".into() });
                }
                let clamp = if fc { Clamp::None } else { Clamp::Relu6 };
                let weights = rng.int8_tensor([n, dk, dk, m])?;
                let rq = requant(&mut rng, n, dk * dk * m, clamp)?;
                let layer = ConvLayer { in_zp: zp, stride: shape.stride(), weights, requant: rq };
                zp = layer.requant.out_zp();
                let name = name.clone();
                stages.push(if fc { SyntheticStage::Fc { name, layer } } else { SyntheticStage::Conv { name, layer } });
            }
            Stage::Dsc { names, block } => {
                let (dk, m, n) = (block.dw().dk(), block.dw().m(), block.pw().n());
                let dw_w = rng.int8_tensor([1, dk, dk, m])?;
                let dw_rq = requant(&mut rng, m, dk * dk, Clamp::Relu6)?;
                let pw_w = rng.int8_tensor([n, 1, 1, m])?;
                let pw_rq = requant(&mut rng, n, m, Clamp::Relu6)?;
                let b = DscBlock::new(zp, block.dw().stride(), dw_w, dw_rq, pw_w, pw_rq)?;
                zp = b.pw_requant().out_zp();
                stages.push(SyntheticStage::Dsc { names: names.clone(), block: b });
            }
        }
    }
    Ok(SyntheticNetwork { input, input_zp, stages })
}

/// Global average pool to `[n, 1, 1, C]` as TFLite's int8 reference `AveragePool` with the
/// filter over the whole map: the sum of the raw int8 values, divided by the count rounding
/// half away from zero, clamped to int8. Input and output share scale and zero point.
pub fn global_average_pool(input: &Tensor<i8>) -> Result<Tensor<i8>> {
    let [batch, h, w, c] = input.shape();
    let count = (h * w) as i64;
    Tensor::from_fn([batch, 1, 1, c], |b, _, _, ch| {
        let mut sum = 0i64;
        for y in 0..h {
            for x in 0..w {
                sum += input.data()[((b * h + y) * w + x) * c + ch] as i64;
            }
        }
        let avg = if sum > 0 { (sum + count / 2) / count } else { (sum - count / 2) / count };
        avg.clamp(-128, 127) as i8
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::mobilenet_v1;

    #[test]
    fn same_seed_same_network_other_seed_other_weights() {
        let net = mobilenet_v1(0.25, 32).unwrap();
        let a = synthesize(&net, 7).unwrap();
        assert_eq!(a, synthesize(&net, 7).unwrap());
        assert_ne!(a.stages[1], synthesize(&net, 8).unwrap().stages[1]);
    }

    #[test]
    fn stages_follow_the_network_and_chain() {
        let net = mobilenet_v1(0.25, 32).unwrap();
        let s = synthesize(&net, 1).unwrap();
        // conv0, 13 DSC blocks, the pool, fc.
        assert_eq!(s.stages.len(), 16);
        assert!(matches!(s.stages[0], SyntheticStage::Conv { .. }));
        assert!(matches!(s.stages[14], SyntheticStage::AvgPool { .. }));
        assert_eq!(s.input.shape(), [1, 32, 32, 3]);
        let mut x = s.input.clone();
        let mut zp = s.input_zp;
        for st in &s.stages {
            let in_zp = match st {
                SyntheticStage::Conv { layer, .. } | SyntheticStage::Fc { layer, .. } => Some(layer.in_zp),
                SyntheticStage::Dsc { block, .. } => Some(block.in_zp()),
                SyntheticStage::AvgPool { .. } => None,
            };
            // Each layer's input zero point is the previous layer's output zero point.
            if let Some(z) = in_zp {
                assert_eq!(z, zp, "{}", st.name());
            }
            x = st.run(&x).unwrap();
            zp = match st {
                SyntheticStage::Conv { layer, .. } | SyntheticStage::Fc { layer, .. } => layer.requant.out_zp(),
                SyntheticStage::Dsc { block, .. } => block.pw_requant().out_zp(),
                SyntheticStage::AvgPool { .. } => zp,
            };
        }
        assert_eq!(x.shape(), [1, 1, 1, 1000]);
        // The scales keep activations alive: the classifier's outputs are not one value.
        let first = x.data()[0];
        assert!(x.data().iter().any(|&v| v != first));
    }

    #[test]
    fn activations_use_the_range_without_saturating() {
        let net = mobilenet_v1(0.25, 96).unwrap();
        let s = synthesize(&net, 3).unwrap();
        let mut x = s.input.clone();
        for st in s.stages.iter().filter(|s| matches!(s, SyntheticStage::Dsc { .. } | SyntheticStage::Conv { .. })) {
            x = st.run(&x).unwrap();
            let d = x.data();
            let distinct = (0..256).filter(|&v| d.contains(&((v as i32 - 128) as i8))).count();
            let at_max = d.iter().filter(|&&v| v == 127).count();
            assert!(distinct > 20, "{}: {distinct} distinct values", st.name());
            assert!(at_max * 10 < d.len(), "{}: {at_max} of {} saturate", st.name(), d.len());
        }
    }

    #[test]
    fn average_pool_rounds_half_away_from_zero() {
        // 2 pixels: sums 3 → 2 (1.5 up), −3 → −2 (−1.5 down), 2 → 1, −128·2 → −128.
        let t = Tensor::new([1, 1, 2, 4], vec![1, -1, 1, -128, 2, -2, 1, -128]).unwrap();
        assert_eq!(global_average_pool(&t).unwrap().data(), &[2, -2, 1, -128]);
        assert_eq!(global_average_pool(&t).unwrap().shape(), [1, 1, 1, 4]);
    }

    #[test]
    fn rng_ranges_are_inclusive() {
        let mut r = Rng::new(0);
        let v: Vec<i64> = (0..1000).map(|_| r.range(-2, 2)).collect();
        assert!((-2..=2).all(|x| v.contains(&x)) && v.iter().all(|x| (-2..=2).contains(x)));
        assert!((0..100).map(|_| r.unit()).all(|u| (0.0..1.0).contains(&u)));
    }
}
