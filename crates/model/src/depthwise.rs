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
pub const REQUANT_LATENCY: u64 = 10;
/// Cycles from a beat entering the engine's empty output FIFO to it leaving
/// (`dsc_hw::stream::StreamFifo`: write, RAM read, output queue).
pub const OUTPUT_FIFO_LATENCY: u64 = 3;

/// Clock edges of a depthwise lane: the operand register, the product register and one per
/// adder-tree level over `Dk²` leaves padded to a power of two (at least 2).
pub fn lane_latency(cfg: &EngineConfig) -> u64 {
    2 + cfg.tree_leaves().trailing_zeros() as u64
}

/// Index of the window generator's scan position that emits the layer's last window: the last
/// position of the scan, [`WindowLayer::scan_positions`] − 1 (see
/// [`WindowLayer::emit_positions`]: `H + half` rows of `Wp = max(W, half)` columns, the last
/// row `W + half`; right padding windows are emitted while the next row's first beats arrive).
pub fn last_emit_position(layer: &WindowLayer) -> u64 {
    let r = (layer.rows.out - 1) * layer.stride + layer.dk - 1 - layer.rows.before;
    let c = (layer.cols.out - 1) * layer.stride + layer.dk - 1 - layer.cols.before;
    ((r * layer.scan_width() + c) * layer.groups + layer.groups - 1) as u64
}

/// The least cycles any engine with this I/O contract can take for `layer`, counted as
/// [`engine_cycles`] (first input beat taken to last output beat, inclusive) but with no
/// pipeline latency at all: one input beat per cycle (`P` channels of one pixel, NHWC order),
/// one output beat per cycle, outputs in NHWC order.
///
/// Output `k` (window `(oy, ox, g)` in output order) cannot leave before the input beat of its
/// bottom-right real tap is taken, in cycle `need_k = (y·W + x)·G + g` with
/// `y = min(oy·s + Dk − 1 − pad_top, H − 1)` and likewise `x`; the `Ho·Wo·G − k` outputs from
/// it on take a cycle each. So `cycles ≥ max_k (need_k + Ho·Wo·G − k)`, and a greedy schedule
/// meets it.
///
/// * Stride 1 (`W ≥ half`): the first window binds, `H·W·G + half·(W + 1)·G` — utilization
///   `H·W / (H·W + half·(W + 1))`: the output cannot start before `half` rows and `half`
///   pixels of input have arrived, and no schedule hides that latency within one layer.
/// * Stride 2: the last window binds, `≈ H·W·G = 4·Ho·Wo·G` — utilization ≤ 25%: four input
///   pixels per output pixel through a port of one pixel per cycle.
pub fn cycle_bound(layer: &WindowLayer) -> u64 {
    cycle_bound_wide(layer, 1)
}

/// [`cycle_bound`] for an input port of `q` pixels per beat (`P` channels of `q` adjacent
/// pixels, a row being `ceil(W/q)` beats per group): the beat of pixel `(y, x)`, group `g`
/// is `(y·ceil(W/q) + x/q)·G + g`. At stride 2 and `q = 4` the input no longer binds: the
/// first window's `≈ (2W + 3)·G/q` beats (the latency) and the input of the rows after the
/// last full output row do.
pub fn cycle_bound_wide(layer: &WindowLayer, q: usize) -> u64 {
    let (s, dk, g) = (layer.stride, layer.dk, layer.groups);
    let words = crate::wide_window::row_words(layer.width, q);
    let outputs = layer.window_count() as u64;
    let mut bound = 0u64;
    let mut k = 0u64;
    for oy in 0..layer.rows.out {
        let y = (oy * s + dk - 1 - layer.rows.before).min(layer.height - 1);
        for ox in 0..layer.cols.out {
            let x = (ox * s + dk - 1 - layer.cols.before).min(layer.width - 1);
            for gg in 0..g {
                let need = ((y * words + x / q) * g + gg) as u64;
                bound = bound.max(need + outputs - k);
                k += 1;
            }
        }
    }
    bound
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
/// * `L_lane = 2 + log2(NP)` — operand and product registers and adder-tree levels ([`lane_latency`]);
/// * `L_rq = 10` — the requantizer ([`REQUANT_LATENCY`]);
/// * `L_fifo = 3` — the output FIFO ([`OUTPUT_FIFO_LATENCY`]).
///
/// Nothing in between waits: the credit window of the FIFO (32 beats) exceeds the items in
/// flight. At stride 1, `n_last + 1 = H·W·G + half·(W + 1)·G` (for `W ≥ half`) is
/// [`cycle_bound`]: the window generator loses no cycle, the rest is pipeline latency.
///
/// In im2col mode (the standard-convolution baseline) the same engine follows
/// [`crate::im2col::im2col_cycles`]: the same scan, throttled to one window per `Dk²` cycles
/// by the serializer, with no lane or requantizer latency. Under output backpressure see
/// `dsc_hw::depthwise`'s module docs (credits, when a beat is available).
///
/// With `Q = cfg.pixels_per_beat() > 1` the wide window generator replaces the scan:
/// `n_last` is the cycle (from the first input beat) in which it emits the last window,
/// [`crate::wide_window::last_window_cycle`], and the rest of the sum is the same.
pub fn engine_cycles(cfg: &EngineConfig, layer: &WindowLayer) -> u64 {
    let q = cfg.pixels_per_beat();
    let n_last = if q > 1 {
        crate::wide_window::last_window_cycle(layer, q)
    } else {
        last_emit_position(layer)
    };
    n_last + 2 + lane_latency(cfg) + REQUANT_LATENCY + OUTPUT_FIFO_LATENCY
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
        // Every position up to the very last one: (H + 1)·W·G + G (no right padding column).
        assert_eq!(last_emit_position(&l) + 1, (6 * 7 * 2 + 2) as u64);
        assert_eq!(lane_latency(&cfg), 6);
        // 86 positions, the window register, the lane (6), the requantizer, the FIFO (3).
        assert_eq!(engine_cycles(&cfg, &l), 86 + 1 + 6 + REQUANT_LATENCY + 3);
        // The scan is the zero-latency bound: H·W·G outputs after (W + 1)·G input beats.
        assert_eq!(cycle_bound(&l), (5 * 7 * 2 + 8 * 2) as u64);
        assert_eq!(cycle_bound(&l), last_emit_position(&l) + 1);
        assert_eq!(engine_config_writes(&cfg, &l), 10 + 4 * 12);
    }

    #[test]
    fn stride_two_last_window() {
        let cfg = EngineConfig::new(3, 1, 1, 1, 16, 16, 4).unwrap();
        // Even size: no top padding, the last window ends on the bottom padding row H,
        // column W: rows of W positions, the last one W + 1.
        let l = cfg.window().layer(6, 6, 1, 2).unwrap();
        assert_eq!(last_emit_position(&l), (6 * 6 + 6) as u64);
        // Input-bound: the last window needs the last beat (35), then it leaves.
        assert_eq!(cycle_bound(&l), 36);
        // Odd size: pad_top = 1, the last window ends on row H as well.
        let l = cfg.window().layer(5, 5, 1, 2).unwrap();
        assert_eq!(last_emit_position(&l), (5 * 5 + 5) as u64);
        // Dk = 1, stride 2, even size: the last window is the last even row and column.
        let c1 = EngineConfig::new(1, 1, 1, 1, 16, 16, 4).unwrap();
        let l = c1.window().layer(4, 4, 2, 2).unwrap();
        assert_eq!(last_emit_position(&l), ((2 * 4 + 2) * 2 + 1) as u64);
        assert_eq!(lane_latency(&c1), 3);
    }
}
