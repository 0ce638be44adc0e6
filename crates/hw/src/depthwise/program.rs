//! The host side of the depthwise engine's config port: the writes that load one layer, the
//! input beats of a tensor and the tensor of the output beats.

use dsc_model::engine_config::EngineConfig;
use dsc_model::requant::{check_zero_point, RequantParams};
use dsc_model::window::WindowLayer;
use dsc_model::{ModelError, Tensor};

/// Index of the START register (region 0).
pub const CFG_START: u32 = 8;
/// Index of the clear-error register (region 0).
pub const CFG_CLEAR_ERROR: u32 = 9;

/// Address of `index` in `region` of the config port.
pub fn cfg_addr(region: u32, index: u32) -> u32 {
    (region << 24) | index
}

/// One layer as config-port writes, in order, START last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthwiseProgram {
    writes: Vec<(u32, u32)>,
    layer: WindowLayer,
}

impl DepthwiseProgram {
    /// The writes for a depthwise layer of `input_shape` `[1, H, W, M]`: `weights`
    /// `[1, Dk, Dk, M]`, input zero point `in_zp`, stride, and the per-channel
    /// requantization `rq` (bias, `M0`, shift, output zero point, clamp). The bias written
    /// is `bias − in_zp·Σ_t w_t` (wrapping int32; see the engine docs).
    ///
    /// Errors: the layer does not fit `cfg` ([`WindowLayer::new`]: sizes, `M` not a multiple
    /// of `P`, stride), the weights' shape, `in_zp` outside int8, `rq` with another channel
    /// count.
    pub fn new(
        cfg: &EngineConfig,
        input_shape: [usize; 4],
        weights: &Tensor<i8>,
        in_zp: i32,
        stride: usize,
        rq: &RequantParams,
    ) -> Result<Self, ModelError> {
        let [n, h, w, m] = input_shape;
        if n != 1 {
            return Err(ModelError::Shape(format!("depthwise engine input: batch {n}, expected 1")));
        }
        let layer = cfg.window().layer(h, w, m, stride)?;
        let dk = cfg.dk();
        weights.expect_shape("depthwise weights [1, Dk, Dk, M]", [1, dk, dk, m])?;
        check_zero_point("input", in_zp)?;
        if rq.channels() != m {
            return Err(ModelError::Shape(format!(
                "depthwise engine: requantization has {} channels, the layer has {m}",
                rq.channels()
            )));
        }
        let p = cfg.lanes();
        let taps = dk * dk;
        let wd = weights.data();
        let mut writes = vec![
            (cfg_addr(0, 0), h as u32),
            (cfg_addr(0, 1), w as u32),
            (cfg_addr(0, 2), (m / p) as u32),
            (cfg_addr(0, 3), stride as u32),
            (cfg_addr(0, 4), in_zp as u32),
            (cfg_addr(0, 5), rq.out_zp() as u32),
            (cfg_addr(0, 6), rq.act_min() as u32),
            (cfg_addr(0, 7), rq.act_max() as u32),
        ];
        for g in 0..m / p {
            for t in 0..taps {
                for l in 0..p {
                    writes.push((cfg_addr(1, g as u32), wd[t * m + g * p + l] as i32 as u32));
                }
            }
        }
        for g in 0..m / p {
            for l in 0..p {
                let c = g * p + l;
                let sum_w: i32 = (0..taps).map(|t| wd[t * m + c] as i32).sum();
                let folded = rq.bias()[c].wrapping_sub(in_zp.wrapping_mul(sum_w));
                writes.push((cfg_addr(2, g as u32), folded as u32));
            }
        }
        for (region, values) in [(3, rq.multiplier()), (4, rq.shift())] {
            for g in 0..m / p {
                for l in 0..p {
                    writes.push((cfg_addr(region, g as u32), values[g * p + l] as u32));
                }
            }
        }
        writes.push((cfg_addr(0, CFG_START), 0));
        Ok(DepthwiseProgram { writes, layer })
    }

    /// `(address, data)` of every write, START last: one per cycle.
    pub fn writes(&self) -> &[(u32, u32)] {
        &self.writes
    }

    /// The layer's geometry.
    pub fn layer(&self) -> &WindowLayer {
        &self.layer
    }

    /// The input beats of `input` (`[1, H, W, M]`): `G` beats per pixel, lane `l` of beat
    /// `g` = channel `g·P + l` at bits `8l..`, `tlast` on the last. Errors on a shape that is
    /// not the layer's or `P > 16` (a beat wider than 128 bits).
    pub fn input_beats(&self, input: &Tensor<i8>) -> Result<Vec<(u128, bool)>, ModelError> {
        let l = &self.layer;
        input.expect_shape("depthwise engine input", [1, l.height, l.width, l.channels])?;
        if l.lanes > 16 {
            return Err(ModelError::InvalidParameter(format!(
                "{} lanes: beats wider than 128 bits are not packed here",
                l.lanes
            )));
        }
        let chunks: Vec<&[i8]> = input.data().chunks(l.lanes).collect();
        let n = chunks.len();
        Ok(chunks
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let data = c.iter().enumerate().fold(0u128, |a, (k, &v)| a | ((v as u8 as u128) << (8 * k)));
                (data, i + 1 == n)
            })
            .collect())
    }

    /// Output beats (`P` lanes each, as [`Self::input_beats`] packs them) back to the
    /// `[1, Ho, Wo, M]` tensor. Errors when the count is not the layer's `Ho·Wo·G`.
    pub fn output_tensor(&self, beats: &[u128]) -> Result<Tensor<i8>, ModelError> {
        let l = &self.layer;
        if beats.len() != l.window_count() {
            return Err(ModelError::Shape(format!(
                "{} output beats, the layer has {}",
                beats.len(),
                l.window_count()
            )));
        }
        let data = beats
            .iter()
            .flat_map(|&b| (0..l.lanes).map(move |k| (b >> (8 * k)) as u8 as i8))
            .collect();
        Tensor::new([1, l.rows.out, l.cols.out, l.channels], data)
    }
}
