//! Depthwise 2-D convolution, int8, as TFLite's reference `DepthwiseConvPerChannel` with depth
//! multiplier 1: each channel is filtered by its own `Dk×Dk` kernel.
//!
//! Weights are `[1, Dk, Dk, M]` (TFLite's layout: channel innermost), `Dk` odd, stride 1 or 2,
//! TF SAME padding. `acc[c] = bias[c] + Σ w[ky,kx,c]·(x[iy,ix,c] − in_zp)` over the taps inside
//! the image, in wrapping int32; then per-channel requantization. Any int8 weight is accepted
//! (see [`crate::conv`]).

use crate::conv::{centered, check_bias, check_kernel, check_stride, taps, widened};
use crate::error::Result;
use crate::padding::same_padding;
use crate::requant::{check_zero_point, RequantParams};
use crate::tensor::Tensor;

/// Raw int32 accumulators of a depthwise convolution: `[n, ceil(h/s), ceil(w/s), M]`, bias
/// included.
pub fn depthwise_acc(
    input: &Tensor<i8>,
    weights: &Tensor<i8>,
    bias: &[i32],
    in_zp: i32,
    stride: usize,
) -> Result<Tensor<i32>> {
    let [batch, h, w, m] = input.shape();
    let dk = weights.h();
    check_kernel(dk)?;
    weights.expect_shape("depthwise weights [1, Dk, Dk, M]", [1, dk, dk, m])?;
    check_stride(stride)?;
    check_zero_point("input", in_zp)?;
    check_bias(bias, m)?;
    let py = same_padding(h, dk, stride)?;
    let px = same_padding(w, dk, stride)?;
    let xc = centered(input, in_zp);
    let wd = widened(weights);
    let mut out = Tensor::zeros([batch, py.out, px.out, m])?;
    let od = out.data_mut();
    let mut o = 0;
    for b in 0..batch {
        for oy in 0..py.out {
            let ty = taps(oy, stride, py, dk, h);
            for ox in 0..px.out {
                let tx = taps(ox, stride, px, dk, w);
                let acc = &mut od[o..o + m];
                acc.copy_from_slice(bias);
                for ky in ty.lo..ty.hi {
                    let iy = ty.first + (ky - ty.lo);
                    for kx in tx.lo..tx.hi {
                        let ix = tx.first + (kx - tx.lo);
                        let xi = ((b * h + iy) * w + ix) * m;
                        let wi = (ky * dk + kx) * m;
                        let xs = &xc[xi..xi + m];
                        let ws = &wd[wi..wi + m];
                        for ((a, &wv), &xv) in acc.iter_mut().zip(ws).zip(xs) {
                            *a = a.wrapping_add(wv as i32 * xv as i32);
                        }
                    }
                }
                o += m;
            }
        }
    }
    Ok(out)
}

/// Depthwise convolution to int8: [`depthwise_acc`] with `rq`'s bias, then per-channel
/// requantization.
pub fn depthwise(
    input: &Tensor<i8>,
    weights: &Tensor<i8>,
    in_zp: i32,
    stride: usize,
    rq: &RequantParams,
) -> Result<Tensor<i8>> {
    rq.expect_channels("depthwise", weights.c())?;
    rq.apply(&depthwise_acc(input, weights, rq.bias(), in_zp, stride)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ModelError;

    #[test]
    fn channels_do_not_mix() {
        // Channel c of the input is constant c + 1 (centred: c + 1 − zp); an all-ones kernel
        // in the interior sums 9 taps of its own channel only.
        let input = Tensor::from_fn([1, 5, 5, 3], |_, _, _, c| c as i8 + 1).unwrap();
        let weights = Tensor::filled([1, 3, 3, 3], 1i8).unwrap();
        let acc = depthwise_acc(&input, &weights, &[0, 0, 0], 0, 1).unwrap();
        assert_eq!(acc.pixel(0, 2, 2).unwrap(), &[9, 18, 27]);
        assert_eq!(acc.pixel(0, 0, 0).unwrap(), &[4, 8, 12]);
        assert_eq!(acc.pixel(0, 0, 2).unwrap(), &[6, 12, 18]);
    }

    #[test]
    fn stride_two_even_size_pads_only_bottom_right() {
        // Kernel weight identifies the tap: w[ky,kx] = 1 + 3ky + kx; input all zp + 1.
        let input = Tensor::filled([1, 4, 4, 1], 6i8).unwrap();
        let weights = Tensor::from_fn([1, 3, 3, 1], |_, ky, kx, _| (1 + 3 * ky + kx) as i8).unwrap();
        let acc = depthwise_acc(&input, &weights, &[100], 5, 2).unwrap();
        assert_eq!(acc.shape(), [1, 2, 2, 1]);
        // Output (0,0) sees the whole kernel (no top/left padding): 1+…+9 = 45.
        // Output (0,1) reads columns 2,3,4: column 4 is padding, so kx = 2 is dropped.
        // Output (1,0) likewise drops ky = 2; output (1,1) drops both.
        let sum = |ky: std::ops::Range<usize>, kx: std::ops::Range<usize>| -> i32 {
            ky.flat_map(|y| kx.clone().map(move |x| (1 + 3 * y + x) as i32)).sum()
        };
        assert_eq!(
            acc.data(),
            &[100 + sum(0..3, 0..3), 100 + sum(0..3, 0..2), 100 + sum(0..2, 0..3), 100 + sum(0..2, 0..2)]
        );
    }

    #[test]
    fn extremes_minus_128() {
        let input = Tensor::filled([1, 1, 1, 2], -128i8).unwrap();
        let weights = Tensor::from_fn([1, 1, 1, 2], |_, _, _, c| if c == 0 { -128 } else { 127 }).unwrap();
        let acc = depthwise_acc(&input, &weights, &[0, 0], 127, 1).unwrap();
        assert_eq!(acc.data(), &[-128 * -255, 127 * -255]);
    }

    #[test]
    fn requantized_output() {
        let input = Tensor::from_fn([1, 3, 3, 2], |_, y, x, c| (y * 3 + x) as i8 * if c == 0 { 1 } else { -1 }).unwrap();
        let weights = Tensor::filled([1, 3, 3, 2], 1i8).unwrap();
        let rq = RequantParams::new(vec![1, -1], vec![1 << 30, 1 << 30], vec![0, -1], 0, 0, 127).unwrap();
        let acc = depthwise_acc(&input, &weights, &[1, -1], 0, 1).unwrap();
        let out = depthwise(&input, &weights, 0, 1, &rq).unwrap();
        let want: Vec<i8> = acc
            .data()
            .chunks(2)
            .flat_map(|px| [rq.requantize(px[0], 0).unwrap(), rq.requantize(px[1], 1).unwrap()])
            .collect();
        assert_eq!(out.data(), &want[..]);
        // ReLU at zp 0: the negative channel is all 0.
        assert!(out.data().chunks(2).all(|px| px[1] == 0));
    }

    #[test]
    fn bad_arguments_are_errors() {
        let input = Tensor::<i8>::zeros([1, 4, 4, 2]).unwrap();
        let w = Tensor::<i8>::zeros([1, 3, 3, 2]).unwrap();
        assert!(depthwise_acc(&input, &w, &[0, 0], 0, 2).is_ok());
        assert!(matches!(depthwise_acc(&input, &w, &[0, 0], 0, 3), Err(ModelError::InvalidParameter(_))));
        assert!(matches!(depthwise_acc(&input, &w, &[0, 0], -129, 1), Err(ModelError::Quantization(_))));
        assert!(matches!(depthwise_acc(&input, &w, &[0], 0, 1), Err(ModelError::Shape(_))));
        let even = Tensor::<i8>::zeros([1, 4, 4, 2]).unwrap();
        assert!(matches!(depthwise_acc(&input, &even, &[0, 0], 0, 1), Err(ModelError::InvalidParameter(_))));
        let multiplier2 = Tensor::<i8>::zeros([1, 3, 3, 4]).unwrap();
        assert!(matches!(depthwise_acc(&input, &multiplier2, &[0; 4], 0, 1), Err(ModelError::Shape(_))));
        let batched = Tensor::<i8>::zeros([2, 3, 3, 2]).unwrap();
        assert!(matches!(depthwise_acc(&input, &batched, &[0, 0], 0, 1), Err(ModelError::Shape(_))));
        let rq = RequantParams::new(vec![0; 3], vec![0; 3], vec![0; 3], 0, -128, 127).unwrap();
        assert!(matches!(depthwise(&input, &w, 0, 1, &rq), Err(ModelError::Shape(_))));
    }
}

// ---------------------------------------------------------------------------------------------
// Cycle model of the depthwise engine (`dsc_hw::depthwise::DepthwiseEngine`).

use crate::engine_config::EngineConfig;
use crate::window::WindowLayer;

/// Clock edges of the requantizer pipeline (`dsc_hw::requant::Requantizer::LATENCY`).
pub const REQUANT_LATENCY: u64 = 7;
/// Cycles from a beat entering the engine's empty output FIFO to it leaving
/// (`dsc_hw::stream::StreamFifo`: write, RAM read, output queue).
pub const OUTPUT_FIFO_LATENCY: u64 = 3;

/// Clock edges of a depthwise lane: the product register and one per adder-tree level over
/// `Dk²` leaves padded to a power of two (at least 2).
pub fn lane_latency(cfg: &EngineConfig) -> u64 {
    1 + cfg.tree_leaves().trailing_zeros() as u64
}

/// Index of the window generator's scan position that emits the layer's last window.
///
/// The generator scans `(r, c, g)` for `r < H + half`, `c < W + half`, `g < G` in raster
/// order (`half = (Dk − 1)/2`), one position per cycle without stalls; the last window has its
/// bottom-right tap at row `(Ho − 1)·s − pad_top + Dk − 1` and column
/// `(Wo − 1)·s − pad_left + Dk − 1`, group `G − 1`.
pub fn last_emit_position(layer: &WindowLayer) -> u64 {
    let half = (layer.dk - 1) / 2;
    let r = (layer.rows.out - 1) * layer.stride + layer.dk - 1 - layer.rows.before;
    let c = (layer.cols.out - 1) * layer.stride + layer.dk - 1 - layer.cols.before;
    ((r * (layer.width + half) + c) * layer.groups + layer.groups - 1) as u64
}

/// Cycles of one depthwise layer on the engine, from the cycle its first input beat is taken
/// to the cycle its last output beat leaves, inclusive, with an always-valid input and an
/// always-ready output:
///
/// `cycles = n_last + 1 + 1 + L_lane + L_rq + L_fifo`
///
/// * `n_last + 1` — scan positions up to the one emitting the last window
///   ([`last_emit_position`]; position 0 takes the first beat);
/// * `1` — the window generator's output register;
/// * `L_lane = 1 + log2(NP)` — product register and adder-tree levels ([`lane_latency`]);
/// * `L_rq = 7` — the requantizer ([`REQUANT_LATENCY`]);
/// * `L_fifo = 3` — the output FIFO ([`OUTPUT_FIFO_LATENCY`]).
///
/// Nothing in between waits: the credit window of the FIFO (32 beats) exceeds the items in
/// flight. Without the flush positions (`half` extra columns per row, `half` extra rows) and
/// at stride 1, `n_last + 1` would be the ideal `Ho·Wo·G`.
///
/// In im2col mode (the standard-convolution baseline) the same engine follows
/// [`crate::im2col::im2col_cycles`]: the same scan, throttled to one window per `Dk²` cycles
/// by the serializer, with no lane or requantizer latency. Under output backpressure see
/// `dsc_hw::depthwise`'s module docs (credits, when a beat is available).
pub fn engine_cycles(cfg: &EngineConfig, layer: &WindowLayer) -> u64 {
    last_emit_position(layer) + 2 + lane_latency(cfg) + REQUANT_LATENCY + OUTPUT_FIFO_LATENCY
}

/// Config-port writes (one per cycle) that load a layer: 9 layer registers (mode included),
/// `Dk²` weights and bias, `M0`, shift per channel, and START: `10 + M·(Dk² + 3)`.
pub fn engine_config_writes(cfg: &EngineConfig, layer: &WindowLayer) -> u64 {
    10 + (layer.channels * (cfg.taps() + 3)) as u64
}

#[cfg(test)]
mod cycle_tests {
    use super::*;

    #[test]
    fn stride_one_counts_every_scan_position() {
        let cfg = EngineConfig::new(3, 2, 1, 1, 16, 16, 8).unwrap();
        let l = cfg.window().layer(5, 7, 4, 1).unwrap();
        // Every position up to the very last one: (H + 1)(W + 1)G.
        assert_eq!(last_emit_position(&l) + 1, (6 * 8 * 2) as u64);
        assert_eq!(lane_latency(&cfg), 5);
        // 96 positions, the window register, the lane (5), the requantizer (7), the FIFO (3).
        assert_eq!(engine_cycles(&cfg, &l), 96 + 1 + 5 + 7 + 3);
        assert_eq!(engine_config_writes(&cfg, &l), 10 + 4 * 12);
    }

    #[test]
    fn stride_two_last_window() {
        let cfg = EngineConfig::new(3, 1, 1, 1, 16, 16, 4).unwrap();
        // Even size: no top padding, the last window ends on the bottom padding row H.
        let l = cfg.window().layer(6, 6, 1, 2).unwrap();
        assert_eq!(last_emit_position(&l), (6 * 7 + 6) as u64);
        // Odd size: pad_top = 1, the last window ends on row H as well.
        let l = cfg.window().layer(5, 5, 1, 2).unwrap();
        assert_eq!(last_emit_position(&l), (5 * 6 + 5) as u64);
        // Dk = 1, stride 2, even size: the last window is the last even row and column.
        let c1 = EngineConfig::new(1, 1, 1, 1, 16, 16, 4).unwrap();
        let l = c1.window().layer(4, 4, 2, 2).unwrap();
        assert_eq!(last_emit_position(&l), ((2 * 4 + 2) * 2 + 1) as u64);
        assert_eq!(lane_latency(&c1), 2);
    }
}
