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

// ------------------------------------------------------------------------------------------
// Cycle model of the pointwise stage (dsc_hw::pointwise::PointwiseStage) — issue 6.
// ------------------------------------------------------------------------------------------
//
// Dataflow (see the stage's docs): the layer's `P` pixels go through in blocks of `B` pixels
// (the last block may be smaller). A block's input beats (`MT = ceil(M/R)` per pixel) fill one
// of two pixel banks; the array then runs its `MT·NT` tiles (`NT = ceil(N/C)`), N-tile outer,
// M-tile inner, each tile streaming the block's pixels once in `T = max(Bb, R, 3)` cycles,
// with the next tile's weights loading during the last `R` cycles of the current one; results
// land in one of two output banks and leave as `NT` beats per pixel. Input, compute and output
// of different blocks overlap.
//
// With `in_end`, `c_start`, `o_start` per block `b` (cycle 0 = the first input beat accepted),
// `ntiles = MT·NT`, `L = R + C + 3` (array latency, `ws_array_latency`):
//
// * input:   `in_start[b] = max(in_end[b−1], c_end[b−2])`, `in_end[b] = in_start[b] + Bb·MT`
// * compute: `c_dec[b] = max(in_end[b], o_end[b−2], c_end[b−1])`,
//            `c_end[b] = c_dec[b] + R + ntiles·T + 1` (one cycle to decide, `R` to preload the
//            first tile's weights, the tiles back to back),
//            last pixel issued at `c_end[b] − 1 − (T − Bb)`, its results written
//            `L + 11` cycles later (RAM read, array, accumulate, 9-stage requantizer), so
//            `ready[b] = c_end[b] − (T − Bb) + L + 11`
// * output:  `o_start[b] = max(ready[b], o_end[b−1])`, `o_end[b] = o_start[b] + Bb·NT`
//
// and the last beat leaves in cycle `o_end[last] − 1 + OUT_LATENCY` (output RAM read and the
// output FIFO); the count is that cycle + 1.

use crate::systolic::{Dataflow, SystolicConfig};

/// Cycles from the output RAM read of a word to its beat leaving (RAM read + FIFO).
pub const PW_OUT_LATENCY: u64 = 4;
/// Extra cycles from the array's output to the output RAM write (accumulate + requantizer).
pub const PW_POST_LATENCY: u64 = 2 + crate::depthwise::REQUANT_LATENCY;
/// Shortest tile in cycles (the accumulator RAM's read-modify-write distance).
pub const PW_MIN_TILE: usize = 3;

/// Generation parameters of the pointwise stage: the array and the buffer sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointwiseConfig {
    array: SystolicConfig,
    max_m: usize,
    max_n: usize,
    max_block: usize,
    /// `R×C` weight tiles the weight memory holds (`MT·NT` of a layer at most).
    weight_tiles: usize,
}

/// A layer as the stage runs it: `M`, `N`, pixels and the block size chosen for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointwiseLayer {
    pub m: usize,
    pub n: usize,
    pub pixels: usize,
    /// Pixels per block (every block but the last has this many).
    pub block: usize,
}

/// Most pixels per layer the stage's 24-bit counters take.
pub const PW_MAX_PIXELS: usize = (1 << 24) - 1;

impl PointwiseConfig {
    /// A weight-stationary `array` with layers up to `max_m × max_n` and blocks of up to
    /// `max_block` pixels. Errors: an output-stationary array, `max_m` above the array's
    /// `max_k` (its sums could wrap), zero sizes, `max_block > 65535`.
    pub fn new(array: SystolicConfig, max_m: usize, max_n: usize, max_block: usize) -> Result<Self> {
        let bad = |s: String| Err(crate::error::ModelError::InvalidParameter(s));
        if array.dataflow() != Dataflow::WeightStationary {
            return bad("pointwise stage: the array must be weight-stationary".into());
        }
        if max_m == 0 || max_n == 0 || max_block == 0 || max_block > 65535 {
            return bad(format!(
                "pointwise stage: max_m = {max_m}, max_n = {max_n} must be ≥ 1, max_block = {max_block} in 1..=65535"
            ));
        }
        if max_m as u64 > array.max_k() {
            return bad(format!(
                "pointwise stage: max_m = {max_m} exceeds the array's max_k = {}",
                array.max_k()
            ));
        }
        let weight_tiles = max_m.div_ceil(array.rows()) * max_n.div_ceil(array.cols());
        Ok(Self { array, max_m, max_n, max_block, weight_tiles })
    }

    /// The same stage with a weight memory of `max_weights` int8 weights instead of the
    /// `max_m × max_n` rectangle (padded to whole `R×C` tiles): a layer runs when its
    /// `MT·NT` tiles fit, so narrow layers may have more output channels than wide ones
    /// (`max_n` stays the largest `N` a layer may have). Errors: `max_weights` not a multiple
    /// of `R·C`, below one N-tile of the widest layer (`MT_max` tiles), or above the rectangle.
    pub fn with_max_weights(self, max_weights: usize) -> Result<Self> {
        let tile = self.array.rows() * self.array.cols();
        let (lo, hi) = (self.max_m_tiles() * tile, self.max_m_tiles() * self.max_n_tiles() * tile);
        if max_weights % tile != 0 || !(lo..=hi).contains(&max_weights) {
            return Err(crate::error::ModelError::InvalidParameter(format!(
                "pointwise stage: max_weights = {max_weights} must be a multiple of R·C = {tile} in {lo}..={hi} \
                 (one N-tile of a max_m = {} layer … the max_m × max_n = {} × {} rectangle)",
                self.max_m, self.max_m, self.max_n
            )));
        }
        Ok(Self { weight_tiles: max_weights / tile, ..self })
    }
    pub fn array(&self) -> &SystolicConfig {
        &self.array
    }
    pub fn max_m(&self) -> usize {
        self.max_m
    }
    pub fn max_n(&self) -> usize {
        self.max_n
    }
    pub fn max_block(&self) -> usize {
        self.max_block
    }
    /// M-tiles of the largest layer: `ceil(max_m / R)`.
    pub fn max_m_tiles(&self) -> usize {
        self.max_m.div_ceil(self.array.rows())
    }
    /// N-tiles of the largest layer: `ceil(max_n / C)`.
    pub fn max_n_tiles(&self) -> usize {
        self.max_n.div_ceil(self.array.cols())
    }
    /// `R×C` weight tiles the weight memory holds: `MT_max·NT_max` unless
    /// [`PointwiseConfig::with_max_weights`] set fewer.
    pub fn weight_tiles(&self) -> usize {
        self.weight_tiles
    }
    /// Int8 weights the weight memory holds (`weight_tiles·R·C`).
    pub fn max_weights(&self) -> usize {
        self.weight_tiles * self.array.rows() * self.array.cols()
    }
    /// The weight memory is smaller than the `max_m × max_n` rectangle, so the hardware checks
    /// `MT·NT ≤ weight_tiles` at START.
    pub fn weights_limited(&self) -> bool {
        self.weight_tiles < self.max_m_tiles() * self.max_n_tiles()
    }
    /// Most N-tiles a layer of `m` input channels may have: `min(NT_max, weight_tiles / MT)`.
    pub fn max_n_tiles_for(&self, m: usize) -> usize {
        self.max_n_tiles().min(self.weight_tiles / m.div_ceil(self.array.rows()).max(1))
    }
    /// Most output channels a layer of `m` input channels may have in one pass:
    /// `min(max_n, C·max_n_tiles_for(m))` (0 when `m` is above `max_m`'s tiles' worth).
    pub fn max_n_for(&self, m: usize) -> usize {
        self.max_n.min(self.array.cols() * self.max_n_tiles_for(m))
    }
    /// The layer `m × n` over `pixels` pixels, in the fewest blocks, of equal size but the
    /// last (e.g. 196 pixels with blocks of 64 → 4 blocks of 49). Errors: `m`, `n` or
    /// `pixels` zero or above the maxima.
    pub fn layer(&self, m: usize, n: usize, pixels: usize) -> Result<PointwiseLayer> {
        if m == 0 || m > self.max_m || n == 0 || n > self.max_n || pixels == 0 || pixels > PW_MAX_PIXELS {
            return Err(crate::error::ModelError::InvalidParameter(format!(
                "pointwise layer M = {m}, N = {n}, {pixels} pixels: need 1 ≤ M ≤ {}, 1 ≤ N ≤ {}, 1 ≤ pixels ≤ {PW_MAX_PIXELS}",
                self.max_m, self.max_n
            )));
        }
        let tiles = m.div_ceil(self.array.rows()) * n.div_ceil(self.array.cols());
        if tiles > self.weight_tiles {
            return Err(crate::error::ModelError::InvalidParameter(format!(
                "pointwise layer M = {m}, N = {n}: its {tiles} weight tiles of R×C = {}×{} exceed the weight \
                 memory's {} (max_weights = {}; at most N = {} for this M)",
                self.array.rows(),
                self.array.cols(),
                self.weight_tiles,
                self.max_weights(),
                self.max_n_for(m)
            )));
        }
        let blocks = pixels.div_ceil(self.max_block);
        Ok(PointwiseLayer { m, n, pixels, block: pixels.div_ceil(blocks) })
    }
}

/// Exact cycles of `layer` on the stage, from the cycle the first input beat is accepted to the
/// cycle the last output beat leaves, inclusive, with an always-valid input and an
/// always-ready output (the recurrence in this section's comment).
pub fn pointwise_cycles(cfg: &PointwiseConfig, layer: &PointwiseLayer) -> u64 {
    let r = cfg.array.rows() as u64;
    let lat = crate::systolic::ws_array_latency(&cfg.array) as u64;
    let mt = layer.m.div_ceil(cfg.array.rows()) as u64;
    let nt = layer.n.div_ceil(cfg.array.cols()) as u64;
    let nb = layer.pixels.div_ceil(layer.block);
    let (mut in_end, mut c_end, mut o_end) = (vec![0u64; nb], vec![0u64; nb], vec![0u64; nb]);
    let back = |v: &Vec<u64>, b: usize, k: usize| if b >= k { v[b - k] } else { 0 };
    for b in 0..nb {
        let bb = if b + 1 == nb { layer.pixels - b * layer.block } else { layer.block } as u64;
        let t = bb.max(r).max(PW_MIN_TILE as u64);
        let in_start = back(&in_end, b, 1).max(back(&c_end, b, 2));
        in_end[b] = in_start + bb * mt;
        let dec = in_end[b].max(back(&o_end, b, 2)).max(back(&c_end, b, 1));
        c_end[b] = dec + r + mt * nt * t + 1;
        let ready = c_end[b] - (t - bb) + lat + PW_POST_LATENCY;
        o_end[b] = ready.max(back(&o_end, b, 1)) + bb * nt;
    }
    o_end[nb - 1] - 1 + PW_OUT_LATENCY + 1
}

/// Config-port writes of a layer on the stage (dsc_hw::pointwise::PointwiseProgram): 7 layer
/// registers, `NT·MT·R·C` weight bytes, `3·NT·C` requantization words, START.
pub fn pointwise_config_writes(cfg: &PointwiseConfig, layer: &PointwiseLayer) -> usize {
    let (r, c) = (cfg.array.rows(), cfg.array.cols());
    let mt = layer.m.div_ceil(r);
    let nt = layer.n.div_ceil(c);
    7 + nt * mt * r * c + 3 * nt * c + 1
}

#[cfg(test)]
mod cycle_tests {
    use super::*;

    fn cfg8() -> PointwiseConfig {
        let a = SystolicConfig::new(8, 8, 26, 1024, Dataflow::WeightStationary).unwrap();
        PointwiseConfig::new(a, 1024, 1024, 64).unwrap()
    }

    #[test]
    fn blocks_are_balanced() {
        let c = cfg8();
        assert_eq!(c.layer(512, 1024, 196).unwrap().block, 49);
        assert_eq!(c.layer(32, 64, 12544).unwrap().block, 64);
        assert_eq!(c.layer(8, 8, 1).unwrap().block, 1);
        assert!(c.layer(0, 8, 1).is_err());
        assert!(c.layer(1025, 8, 1).is_err());
        assert!(c.layer(8, 1025, 1).is_err());
        assert!(c.layer(8, 8, 0).is_err());
    }

    #[test]
    fn bad_configs_are_errors() {
        let a = SystolicConfig::new(8, 8, 26, 1024, Dataflow::WeightStationary).unwrap();
        assert!(PointwiseConfig::new(a, 2048, 8, 8).is_err());
        assert!(PointwiseConfig::new(a, 8, 0, 8).is_err());
        assert!(PointwiseConfig::new(a, 8, 8, 0).is_err());
        let os = SystolicConfig::new(8, 8, 26, 1024, Dataflow::OutputStationary).unwrap();
        assert!(PointwiseConfig::new(os, 8, 8, 8).is_err());
        // The weight memory: whole tiles, from one N-tile of a max_m layer to the rectangle.
        let c = PointwiseConfig::new(a, 1024, 1024, 16).unwrap();
        assert_eq!(c.weight_tiles(), 128 * 128);
        assert!(!c.weights_limited());
        for bad in [0, 8192 - 64, 8192 + 8, 1024 * 1024 + 64] {
            let e = c.with_max_weights(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("max_weights = {bad}")) && e.contains("8192..=1048576"), "{e}");
        }
        assert_eq!(c.with_max_weights(1024 * 1024).unwrap(), c);
    }

    /// A memory of 128K weights on 8×8 (2048 tiles): N up to 512 at M = 256, 256 at M = 512,
    /// 128 at M = 1024; the layer check refuses one tile more.
    #[test]
    fn limited_weights_trade_n_for_m() {
        let c = cfg8().with_max_weights(128 * 1024).unwrap();
        assert!(c.weights_limited());
        assert_eq!((c.weight_tiles(), c.max_weights()), (2048, 131072));
        let n_for: Vec<usize> = [8, 256, 512, 1000, 1024].iter().map(|&m| c.max_n_for(m)).collect();
        assert_eq!(n_for, [1024, 512, 256, 128, 128]);
        for m in [1, 100, 256, 512, 777, 1024] {
            let n = c.max_n_for(m);
            assert!(c.layer(m, n, 49).is_ok(), "M {m} N {n}");
            // C more channels is one more N-tile.
            if n < 1024 {
                let e = c.layer(m, n + 1, 49).unwrap_err().to_string();
                assert!(e.contains("exceed the weight memory's 2048") && e.contains(&format!("at most N = {n}")), "{e}");
            }
        }
    }

    #[test]
    fn compute_bound_layers_approach_one_tile_cycle_per_pixel() {
        // 7×7×1024 → 1024 on 8×8: one block, 16384 tiles of 49 cycles plus input and output.
        let c = cfg8();
        let l = c.layer(1024, 1024, 49).unwrap();
        let ideal = 49 * 1024 * 1024 / 64;
        let cyc = pointwise_cycles(&c, &l);
        assert!(cyc > ideal && (ideal as f64 / cyc as f64) > 0.95, "{cyc} vs {ideal}");
    }
}
