//! Host-side pointwise N tiling: a layer whose `N` output channels exceed what the generated
//! pointwise weight memory holds for its `M` (`max_n`, or fewer when `[pointwise] max_weights`
//! limits the memory: [`PointwiseConfig::max_n_for`](crate::pointwise::PointwiseConfig::max_n_for))
//! runs as `⌈N / tile⌉` passes over the same input,
//! each a whole layer on the engine (the depthwise stage again, then the pointwise stage with
//! a slice of the pointwise weights, bias and per-channel requantization); the host
//! concatenates the passes' outputs along the channels.
//!
//! Every output channel depends only on its own weights, bias and requantization, so tile `t`
//! computes exactly channels `t·max_n ..` of the untiled layer: the concatenation equals the
//! golden model's untiled output (tested here against [`DscBlock::run`] and
//! [`ConvLayer::run`]).
//!
//! **Cycles.** The passes run one after the other, each from its first input beat to its last
//! output beat as [`dsc_cycles`] / [`conv_cycles`] count it, so the layer's cycle count is the
//! sum over the tiles ([`dsc_tiled_cycles`], [`conv_tiled_cycles`]); like the untiled count it
//! leaves out the config writes between passes.

use std::ops::Range;

use crate::dsc::DscBlock;
use crate::engine::{conv_cycles, dsc_cycles, DscConfig, DscLayer};
use crate::error::{ModelError, Result};
use crate::im2col::{im2col_channels, im2col_layer};
use crate::pointwise::PointwiseConfig;
use crate::requant::RequantParams;
use crate::synthetic::ConvLayer;
use crate::tensor::Tensor;

/// The output-channel ranges of `n` channels in tiles of at most `max_n`: `⌈n / max_n⌉`
/// ranges of `max_n` channels, the last one the rest. Errors: `n` or `max_n` is 0.
pub fn n_tiles(n: usize, max_n: usize) -> Result<Vec<Range<usize>>> {
    if n == 0 || max_n == 0 {
        return Err(ModelError::InvalidParameter(format!(
            "N tiling: N = {n} output channels in tiles of max_n = {max_n}: both must be at least 1"
        )));
    }
    Ok((0..n).step_by(max_n).map(|s| s..(s + max_n).min(n)).collect())
}

fn check_range(what: &str, r: &Range<usize>, n: usize) -> Result<()> {
    if r.start >= r.end || r.end > n {
        return Err(ModelError::InvalidParameter(format!(
            "{what}: channel range {}..{} is empty or beyond its {n} output channels",
            r.start, r.end
        )));
    }
    Ok(())
}

/// Channels `r` of per-channel requantization `rq` (the clamp and zero point unchanged).
pub fn requant_slice(rq: &RequantParams, r: Range<usize>) -> Result<RequantParams> {
    check_range("requantization slice", &r, rq.channels())?;
    RequantParams::new(
        rq.bias()[r.clone()].to_vec(),
        rq.multiplier()[r.clone()].to_vec(),
        rq.shift()[r].to_vec(),
        rq.out_zp(),
        rq.act_min(),
        rq.act_max(),
    )
}

/// Output channels `[n0, n1)` of `t` (`[N, …]`-first weights: rows `n0..n1`).
fn rows(t: &Tensor<i8>, r: Range<usize>) -> Result<Tensor<i8>> {
    let [_, h, w, c] = t.shape();
    let per = h * w * c;
    Tensor::new([r.len(), h, w, c], t.data()[r.start * per..r.end * per].to_vec())
}

/// The DSC block computing output channels `r` of `block`: the same depthwise stage, the
/// pointwise weights, bias and requantization of those channels.
pub fn dsc_slice(block: &DscBlock, r: Range<usize>) -> Result<DscBlock> {
    check_range("DSC N tile", &r, block.n())?;
    DscBlock::new(
        block.in_zp(),
        block.stride(),
        block.dw_weights().clone(),
        block.dw_requant().clone(),
        rows(block.pw_weights(), r.clone())?,
        requant_slice(block.pw_requant(), r)?,
    )
}

/// The standard convolution computing output channels `r` of `layer`.
pub fn conv_slice(layer: &ConvLayer, r: Range<usize>) -> Result<ConvLayer> {
    check_range("conv N tile", &r, layer.weights.n())?;
    Ok(ConvLayer {
        in_zp: layer.in_zp,
        stride: layer.stride,
        weights: rows(&layer.weights, r.clone())?,
        requant: requant_slice(&layer.requant, r)?,
    })
}

/// The tiles' outputs (`[1, H, W, N_t]` each, in channel order) as one `[1, H, W, ΣN_t]`
/// tensor. Errors: no part, or parts of different batch or spatial shapes.
pub fn concat_channels(parts: &[Tensor<i8>]) -> Result<Tensor<i8>> {
    let first = parts.first().ok_or_else(|| ModelError::Shape("N tiling: no tile output to concatenate".into()))?;
    let [b, h, w, _] = first.shape();
    if let Some(p) = parts.iter().find(|p| p.n() != b || p.h() != h || p.w() != w) {
        return Err(ModelError::Shape(format!(
            "N tiling: tile outputs of different shapes {:?} and {:?}",
            first.shape(),
            p.shape()
        )));
    }
    let n: usize = parts.iter().map(|p| p.c()).sum();
    let mut data = Vec::with_capacity(b * h * w * n);
    for px in 0..b * h * w {
        for p in parts {
            data.extend_from_slice(&p.data()[px * p.c()..(px + 1) * p.c()]);
        }
    }
    Tensor::new([b, h, w, n], data)
}

/// A layer as the engine runs it in N tiles: the channel ranges and each tile's layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TiledLayer {
    pub ranges: Vec<Range<usize>>,
    pub tiles: Vec<DscLayer>,
}

impl TiledLayer {
    /// Number of passes.
    pub fn count(&self) -> usize {
        self.tiles.len()
    }
}

/// A DSC layer `h × w × m → n` on `cfg` in tiles of the most output channels the pointwise
/// weight memory holds for `m` ([`layer_n_tiles`]; one tile when `n` fits). Errors: what
/// [`DscConfig::layer`] refuses for a tile (the window geometry, `m` above `max_m`, …), `n = 0`.
pub fn dsc_tiled_layer(cfg: &DscConfig, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<TiledLayer> {
    tiled(cfg.pointwise(), m, n, |tile_n| cfg.layer(h, w, m, tile_n, stride))
}

/// [`dsc_tiled_layer`] for a standard convolution in conv mode ([`DscConfig::conv_layer`]),
/// tiled by the `M' = G·Dk²·P` channels its pointwise stage sees.
pub fn conv_tiled_layer(cfg: &DscConfig, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<TiledLayer> {
    // A geometry the window refuses: any tile size does, `conv_layer` names why.
    let pw_m = im2col_layer(&cfg.engine().window(), h, w, m, stride).map_or(m, |l| im2col_channels(&l));
    tiled(cfg.pointwise(), pw_m, n, |tile_n| cfg.conv_layer(h, w, m, tile_n, stride))
}

/// The N tiles of a layer whose pointwise stage sees `m` channels: tiles of
/// [`PointwiseConfig::max_n_for`]`(m)` channels (`max_n` unless `max_weights` limits the weight
/// memory), or of `max_n` when `m` is above `max_m` (the tile's refusal then names `M`).
/// Errors: `n = 0`.
pub fn layer_n_tiles(pw: &PointwiseConfig, m: usize, n: usize) -> Result<Vec<Range<usize>>> {
    let tile_n = if m > pw.max_m() { pw.max_n() } else { pw.max_n_for(m) };
    n_tiles(n, tile_n)
}

/// The tiles of `n` output channels ([`layer_n_tiles`]), each tile's layer from `layer_of(its
/// N)`. A refusal of a tiled layer says so: the tile's message names the tile's N, not the
/// layer's.
fn tiled(pw: &PointwiseConfig, m: usize, n: usize, layer_of: impl Fn(usize) -> Result<DscLayer>) -> Result<TiledLayer> {
    let ranges = layer_n_tiles(pw, m, n)?;
    let tile_n = ranges[0].len();
    let tiles = ranges.iter().map(|r| layer_of(r.len())).collect::<Result<_>>().map_err(|e| {
        if ranges.len() > 1 {
            e.context(&format!("N = {n} in {} tiles of at most {tile_n} channels", ranges.len()))
        } else {
            e
        }
    })?;
    Ok(TiledLayer { ranges, tiles })
}

/// Exact cycles of a DSC layer run in N tiles: the sum of [`dsc_cycles`] over its tiles.
pub fn dsc_tiled_cycles(cfg: &DscConfig, layer: &TiledLayer) -> u64 {
    layer.tiles.iter().map(|t| dsc_cycles(cfg, t)).sum()
}

/// Exact cycles of a conv-mode layer run in N tiles: the sum of [`conv_cycles`].
pub fn conv_tiled_cycles(cfg: &DscConfig, layer: &TiledLayer) -> u64 {
    layer.tiles.iter().map(|t| conv_cycles(cfg, t)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_config::EngineConfig;
    use crate::requant::Clamp;
    use crate::synthetic::Rng;
    use crate::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};

    #[test]
    fn split_covers_the_channels_in_order() {
        assert_eq!(n_tiles(10, 4).unwrap(), vec![0..4, 4..8, 8..10]);
        assert_eq!(n_tiles(8, 4).unwrap(), vec![0..4, 4..8]);
        assert_eq!(n_tiles(3, 4).unwrap(), vec![0..3]);
        assert_eq!(n_tiles(1000, 128).unwrap().len(), 8);
        assert_eq!(n_tiles(1000, 128).unwrap()[7], 896..1000);
        assert!(n_tiles(0, 4).unwrap_err().to_string().contains("N = 0"));
        assert!(n_tiles(4, 0).unwrap_err().to_string().contains("max_n = 0"));
    }

    fn block(rng: &mut Rng, m: usize, n: usize, stride: usize) -> DscBlock {
        let dw = rng.int8_tensor([1, 3, 3, m]).unwrap();
        let dw_rq = RequantParams::from_scales(
            (0..m).map(|c| c as i32 * 37 - 100).collect(),
            0.05,
            &vec![0.01; m],
            0.04,
            -20,
            Clamp::Relu,
        )
        .unwrap();
        let pw = rng.int8_tensor([n, 1, 1, m]).unwrap();
        let scales: Vec<f32> = (0..n).map(|c| 0.001 + c as f32 * 0.0003).collect();
        let pw_rq = RequantParams::from_scales((0..n).map(|c| 50 - c as i32 * 9).collect(), 0.04, &scales, 0.1, 5, Clamp::Relu6)
            .unwrap();
        DscBlock::new(-7, stride, dw, dw_rq, pw, pw_rq).unwrap()
    }

    /// Tiles of 4, 3 and 1 channels, concatenated, equal the golden model's untiled output.
    #[test]
    fn tiled_dsc_equals_the_untiled_golden_output() {
        let mut rng = Rng::new(7);
        for (n, max_n, stride) in [(10, 4, 1), (9, 3, 2), (5, 1, 1), (4, 8, 2)] {
            let b = block(&mut rng, 6, n, stride);
            let input = rng.int8_tensor([1, 7, 5, 6]).unwrap();
            let golden = b.run(&input).unwrap();
            let ranges = n_tiles(n, max_n).unwrap();
            let parts: Vec<Tensor<i8>> =
                ranges.iter().map(|r| dsc_slice(&b, r.clone()).unwrap().run(&input).unwrap()).collect();
            assert_eq!(parts.len(), n.div_ceil(max_n));
            assert_eq!(concat_channels(&parts).unwrap(), golden, "N {n} in tiles of {max_n}");
        }
    }

    #[test]
    fn tiled_conv_equals_the_untiled_golden_output() {
        let mut rng = Rng::new(9);
        let layer = ConvLayer {
            in_zp: 3,
            stride: 2,
            weights: rng.int8_tensor([7, 3, 3, 3]).unwrap(),
            requant: RequantParams::from_scales(vec![11; 7], 0.05, &[0.002; 7], 0.05, -4, Clamp::Relu).unwrap(),
        };
        let input = rng.int8_tensor([1, 9, 8, 3]).unwrap();
        let parts: Vec<Tensor<i8>> =
            n_tiles(7, 3).unwrap().into_iter().map(|r| conv_slice(&layer, r).unwrap().run(&input).unwrap()).collect();
        assert_eq!(concat_channels(&parts).unwrap(), layer.run(&input).unwrap());
    }

    #[test]
    fn bad_slices_and_parts_are_errors() {
        let mut rng = Rng::new(3);
        let b = block(&mut rng, 4, 6, 1);
        assert!(dsc_slice(&b, 4..7).unwrap_err().to_string().contains("4..7"));
        assert!(dsc_slice(&b, 2..2).is_err());
        assert!(requant_slice(b.pw_requant(), 0..9).is_err());
        assert!(concat_channels(&[]).unwrap_err().to_string().contains("no tile output"));
        let a = Tensor::<i8>::zeros([1, 2, 2, 3]).unwrap();
        let c = Tensor::<i8>::zeros([1, 2, 3, 3]).unwrap();
        assert!(concat_channels(&[a, c]).unwrap_err().to_string().contains("different shapes"));
    }

    fn small(max_n: usize) -> DscConfig {
        let e = EngineConfig::new(3, 2, 2, 3, 12, 12, 8).unwrap();
        let a = SystolicConfig::new(2, 3, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
        DscConfig::new(e, PointwiseConfig::new(a, 8, max_n, 4).unwrap()).unwrap()
    }

    /// The tiled count is the sum of the tiles' counts; one tile is the untiled count; a
    /// layer that fits untiled on a wider engine costs more in tiles (the depthwise stage runs
    /// again per tile).
    #[test]
    fn tiled_cycles_are_the_sum_over_the_tiles() {
        let (narrow, wide) = (small(6), small(24));
        let t = dsc_tiled_layer(&narrow, 9, 7, 8, 20, 2).unwrap();
        assert_eq!((t.count(), t.ranges.clone()), (4, vec![0..6, 6..12, 12..18, 18..20]));
        let each: Vec<u64> = [6, 6, 6, 2].iter().map(|&n| dsc_cycles(&narrow, &narrow.layer(9, 7, 8, n, 2).unwrap())).collect();
        assert_eq!(dsc_tiled_cycles(&narrow, &t), each.iter().sum::<u64>());
        let one = dsc_tiled_layer(&wide, 9, 7, 8, 20, 2).unwrap();
        assert_eq!(one.count(), 1);
        assert_eq!(dsc_tiled_cycles(&wide, &one), dsc_cycles(&wide, &wide.layer(9, 7, 8, 20, 2).unwrap()));
        assert!(dsc_tiled_cycles(&narrow, &t) > dsc_tiled_cycles(&wide, &one));
        // Conv mode needs max_m ≥ M' (none here): the tile's refusal is the error.
        let refused = conv_tiled_layer(&narrow, 5, 5, 2, 8, 1).unwrap_err().to_string();
        assert!(refused.contains("max_m"), "{refused}");
        // … and names the layer's N beside the tile's.
        assert!(refused.contains("N = 8 in 2 tiles of at most 6 channels"), "{refused}");
        assert!(dsc_tiled_layer(&narrow, 13, 7, 8, 20, 2).is_err());
        assert!(dsc_tiled_layer(&narrow, 9, 7, 8, 0, 2).unwrap_err().to_string().contains("N = 0"));
    }

    /// MobileNet-v1 α = 1 at 224 on the ECP5-85F engine (configs/ecp5-85f.toml): every layer
    /// fits its 896-word line buffers, pw4 … pw13 and the classifier take ⌈N/128⌉ tiles.
    #[test]
    fn mobilenet_224_on_the_ecp5_engine() {
        let e = EngineConfig::new(3, 8, 8, 8, 224, 224, 1024).unwrap().with_max_line_words(896).unwrap();
        let a = SystolicConfig::new(8, 8, acc_bits_for_products(1024), 1024, Dataflow::WeightStationary).unwrap();
        let cfg = DscConfig::new(e, PointwiseConfig::new(a, 1024, 128, 16).unwrap()).unwrap();
        let conv0 = conv_tiled_layer(&cfg, 224, 224, 3, 32, 2).unwrap();
        assert_eq!(conv0.count(), 1);
        let tiles: Vec<usize> = [(112, 32, 64, 1), (112, 64, 128, 2), (56, 128, 128, 1), (56, 128, 256, 2), (28, 256, 256, 1), (28, 256, 512, 2), (14, 512, 512, 1), (14, 512, 1024, 2), (7, 1024, 1024, 1)]
            .iter()
            .map(|&(h, m, n, s)| dsc_tiled_layer(&cfg, h, h, m, n, s).unwrap().count())
            .collect();
        assert_eq!(tiles, [1, 1, 1, 2, 2, 4, 4, 8, 8]);
        assert_eq!(dsc_tiled_layer(&cfg, 1, 1, 1024, 1000, 1).unwrap().count(), 8);
        // 224 × 224 × 32 would not: 224 · 4 = 896 fits, 224 · 8 does not.
        assert!(dsc_tiled_layer(&cfg, 224, 224, 64, 8, 1).unwrap_err().to_string().contains("max_line_words = 896"));
    }

    /// The same weight memory (128K weights) as `max_n = 1024, max_weights = 131072`
    /// (configs/ecp5-85f.toml): a layer's tile is as wide as its M allows, so pw4 … pw6 run in
    /// one pass, pw7–11 in 2, pw12 in 4, pw13 and the classifier (M = 1024) in 8 as before.
    #[test]
    fn limited_weight_memory_tiles_by_m() {
        let e = EngineConfig::new(3, 8, 8, 8, 224, 224, 1024).unwrap().with_max_line_words(896).unwrap();
        let a = SystolicConfig::new(8, 8, acc_bits_for_products(1024), 1024, Dataflow::WeightStationary).unwrap();
        let pw = PointwiseConfig::new(a, 1024, 1024, 16).unwrap().with_max_weights(131072).unwrap();
        let cfg = DscConfig::new(e, pw).unwrap();
        let tiles: Vec<usize> = [(112, 32, 64, 1), (112, 64, 128, 2), (56, 128, 128, 1), (56, 128, 256, 2), (28, 256, 256, 1), (28, 256, 512, 2), (14, 512, 512, 1), (14, 512, 1024, 2), (7, 1024, 1024, 1)]
            .iter()
            .map(|&(h, m, n, s)| dsc_tiled_layer(&cfg, h, h, m, n, s).unwrap().count())
            .collect();
        assert_eq!(tiles, [1, 1, 1, 1, 1, 1, 2, 4, 8]);
        let fc = dsc_tiled_layer(&cfg, 1, 1, 1024, 1000, 1).unwrap();
        assert_eq!((fc.count(), fc.ranges[7].clone()), (8, 896..1000));
        // conv0 in conv mode: M' = 1·9·8 = 72 (9 M-tiles), 32 channels in one pass.
        let conv0 = conv_tiled_layer(&cfg, 224, 224, 3, 32, 2).unwrap();
        assert_eq!((conv0.count(), conv0.tiles[0].pointwise.m), (1, 72));
        // Every tile of every layer is one the stage takes (MT·NT ≤ 2048).
        for t in dsc_tiled_layer(&cfg, 14, 14, 512, 1024, 2).unwrap().tiles {
            assert_eq!((t.pointwise.m, t.pointwise.n), (512, 256));
        }
    }
}
