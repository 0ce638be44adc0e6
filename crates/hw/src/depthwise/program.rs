//! The host side of the depthwise engine's config port: the writes that load one layer (a
//! depthwise layer, or the im2col mode of a standard convolution), the input beats of a tensor
//! and the tensor of the output beats; and the pointwise program that completes a standard
//! convolution from the im2col beats.

use crate::pointwise::PointwiseProgram;
use dsc_model::engine_config::EngineConfig;
use dsc_model::im2col::{im2col_channels, im2col_layer, im2col_requant, im2col_weights, pad_channels};
use dsc_model::pointwise::PointwiseConfig;
use dsc_model::requant::{check_zero_point, RequantParams};
use dsc_model::window::WindowLayer;
use dsc_model::{ModelError, Tensor};

/// Index of the START register (region 0).
pub const CFG_START: u32 = 8;
/// Index of the clear-error register (region 0).
pub const CFG_CLEAR_ERROR: u32 = 9;
/// Index of the mode register (region 0): 0 depthwise, 1 im2col.
pub const CFG_MODE: u32 = 10;

/// Address of `index` in `region` of the config port.
pub fn cfg_addr(region: u32, index: u32) -> u32 {
    (region << 24) | index
}

/// One layer as config-port writes, in order, START last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthwiseProgram {
    writes: Vec<(u32, u32)>,
    layer: WindowLayer,
    /// im2col mode: the input's real channel count `M` and its zero point (the value of the
    /// lanes `M..G·P`).
    im2col: Option<(usize, i32)>,
    /// Input pixels per beat `Q` of the config.
    q: usize,
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
            (cfg_addr(0, CFG_MODE), 0),
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
        Ok(DepthwiseProgram { writes, layer, im2col: None, q: cfg.pixels_per_beat() })
    }

    /// The writes that run the im2col mode over an input of `input_shape` `[1, H, W, M]`
    /// (`M` any count up to the config's channels: it is rounded up to `G = ceil(M/P)`
    /// groups) with zero point `in_zp` and stride: `H`, `W`, `G`, stride, `in_zp`, mode 1,
    /// START ([`dsc_model::im2col::IM2COL_CONFIG_WRITES`]). No weights or requantization:
    /// the engine bypasses its lanes. Errors: batch ≠ 1, the layer does not fit `cfg`,
    /// `in_zp` outside int8.
    pub fn im2col(cfg: &EngineConfig, input_shape: [usize; 4], in_zp: i32, stride: usize) -> Result<Self, ModelError> {
        let [n, h, w, m] = input_shape;
        if n != 1 {
            return Err(ModelError::Shape(format!("depthwise engine input: batch {n}, expected 1")));
        }
        if !cfg.im2col() {
            return Err(ModelError::InvalidParameter(
                "im2col mode: this engine is generated without it ([engine] im2col = false)".into(),
            ));
        }
        if cfg.pixels_per_beat() > 1 {
            return Err(ModelError::InvalidParameter(format!(
                "im2col mode needs pixels_per_beat Q = 1 (Q = {}): its cycle model is the one-pixel scan's",
                cfg.pixels_per_beat()
            )));
        }
        let layer = im2col_layer(&cfg.window(), h, w, m, stride)?;
        check_zero_point("input", in_zp)?;
        let writes = vec![
            (cfg_addr(0, 0), h as u32),
            (cfg_addr(0, 1), w as u32),
            (cfg_addr(0, 2), layer.groups as u32),
            (cfg_addr(0, 3), stride as u32),
            (cfg_addr(0, 4), in_zp as u32),
            (cfg_addr(0, CFG_MODE), 1),
            (cfg_addr(0, CFG_START), 0),
        ];
        Ok(DepthwiseProgram { writes, layer, im2col: Some((m, in_zp)), q: 1 })
    }

    /// Output beats of the layer: `Ho·Wo·G`, times `Dk²` in im2col mode.
    pub fn output_beats(&self) -> usize {
        match self.im2col {
            None => self.layer.window_count(),
            Some(_) => self.layer.window_count() * self.layer.dk * self.layer.dk,
        }
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
    /// `g` = channel `g·P + l` at bits `8l..`, `tlast` on the last; in im2col mode the lanes
    /// of channels `≥ M` hold `in_zp`. Errors on a shape that is not the layer's or `P > 16`
    /// (a beat wider than 128 bits).
    pub fn input_beats(&self, input: &Tensor<i8>) -> Result<Vec<(u128, bool)>, ModelError> {
        let l = &self.layer;
        let padded;
        let input = match self.im2col {
            Some((m, in_zp)) => {
                input.expect_shape("im2col input", [1, l.height, l.width, m])?;
                padded = pad_channels(l, input, in_zp)?;
                &padded
            }
            None => input,
        };
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

    /// The input beats of `input` (`[1, H, W, M]`) for the config's port of `Q` pixels per
    /// beat, as little-endian 32-bit words: per row `ceil(W/Q)` words of `G` beats, beat =
    /// channels `g·P..g·P + P` of pixels `Q·word ..` (pixel `k` at bits `8P·k..`, lane `l` at
    /// `+8l`); past the row's end the last word holds zeros (ignored by the hardware);
    /// `tlast` on the last. `Q = 1` gives [`Self::input_beats`]' beats, any `P`.
    pub fn input_beat_words(&self, input: &Tensor<i8>) -> Result<Vec<(Vec<u32>, bool)>, ModelError> {
        let l = &self.layer;
        if self.im2col.is_some() {
            return Ok(self.input_beats(input)?.into_iter().map(|(d, last)| (words_of(d, l.lanes), last)).collect());
        }
        input.expect_shape("depthwise engine input", [1, l.height, l.width, l.channels])?;
        let (p, q) = (l.lanes, self.q);
        let mut beats = vec![];
        for y in 0..l.height {
            for word in 0..l.width.div_ceil(q) {
                for g in 0..l.groups {
                    let mut bytes = vec![0u8; p * q];
                    for k in 0..q {
                        let x = word * q + k;
                        if x < l.width {
                            let px = input.pixel(0, y, x)?;
                            for (b, &v) in bytes[k * p..(k + 1) * p].iter_mut().zip(&px[g * p..(g + 1) * p]) {
                                *b = v as u8;
                            }
                        }
                    }
                    let words = bytes
                        .chunks(4)
                        .map(|c| c.iter().enumerate().fold(0u32, |a, (i, &b)| a | (b as u32) << (8 * i)))
                        .collect();
                    beats.push((words, false));
                }
            }
        }
        if let Some(b) = beats.last_mut() {
            b.1 = true;
        }
        Ok(beats)
    }

    /// Output beats (`P` lanes each, as [`Self::input_beats`] packs them) back to the
    /// `[1, Ho, Wo, M]` tensor, or in im2col mode to the `[1, Ho, Wo, M']` im2col vectors
    /// ([`dsc_model::im2col::im2col`]). Errors when the count is not [`Self::output_beats`].
    pub fn output_tensor(&self, beats: &[u128]) -> Result<Tensor<i8>, ModelError> {
        let l = &self.layer;
        if beats.len() != self.output_beats() {
            return Err(ModelError::Shape(format!(
                "{} output beats, the layer has {}",
                beats.len(),
                self.output_beats()
            )));
        }
        let data = beats
            .iter()
            .flat_map(|&b| (0..l.lanes).map(move |k| (b >> (8 * k)) as u8 as i8))
            .collect();
        let c = if self.im2col.is_some() { im2col_channels(l) } else { l.channels };
        Tensor::new([1, l.rows.out, l.cols.out, c], data)
    }
}

/// The pointwise program that completes a standard convolution on the im2col beats of
/// `prog` ([`DepthwiseProgram::im2col`]): `weights` `[N, Dk, Dk, M]` reordered to the
/// `M' = G·Dk²·P` im2col channels, the `in_zp` fold in the bias, input zero point 0 (see
/// [`dsc_model::im2col`]). The stage's `R` need not equal `P`: the beats are channels in
/// order. Errors: `prog` is not an im2col program, the weights do not match it, the layer
/// exceeds `pcfg`, `rq` not of `N` channels.
pub fn im2col_pointwise_program(
    pcfg: &PointwiseConfig,
    prog: &DepthwiseProgram,
    weights: &Tensor<i8>,
    rq: &RequantParams,
) -> Result<PointwiseProgram, ModelError> {
    let Some((m, in_zp)) = prog.im2col else {
        return Err(ModelError::InvalidParameter("not an im2col program".into()));
    };
    let l = &prog.layer;
    if weights.c() != m {
        return Err(ModelError::Shape(format!(
            "im2col weights have M = {}, the program's input {m}",
            weights.c()
        )));
    }
    let wp = im2col_weights(l, weights)?;
    let folded = im2col_requant(l, weights, in_zp, rq)?;
    PointwiseProgram::new(pcfg, [1, l.rows.out, l.cols.out, im2col_channels(l)], &wp, 0, &folded)
}

/// A beat of `lanes` bytes as little-endian 32-bit words.
fn words_of(data: u128, lanes: usize) -> Vec<u32> {
    (0..lanes.div_ceil(4)).map(|i| (data >> (32 * i)) as u32).collect()
}
