//! Standard convolution on the DSC engine's hardware: the baseline of the DSC reduction.
//!
//! In im2col mode the depthwise engine's window generator sends every window out as `Dk²`
//! beats (tap `t = ky·Dk + kx`, the `P` lanes of group `g` in a beat), bypassing the lanes and
//! the requantizer. An output pixel thus leaves as `G·Dk²` beats in `(g, t)` order, `G =
//! ceil(M/P)`: a pointwise stage fed with them sees `M' = G·Dk²·P` input channels, channel
//! `(g·Dk² + t)·P + l` holding input channel `g·P + l` at tap `t`. A standard `Dk×Dk`
//! convolution `M → N` is then a pointwise layer `M' → N` with the weights reordered
//! ([`im2col_weights`]) and the zero point folded into the bias ([`im2col_requant`]).
//!
//! **Padding.** Padded taps hold the raw `in_zp` (as in depthwise mode) and the lanes of
//! channels `m ≥ M` in the last group hold `in_zp` too ([`im2col`], and the input beats the
//! host sends). The reordered weights are zero on lanes `m ≥ M`; with the bias
//! `bias − in_zp·Σ w` over all `Dk²·M` weights, a pointwise sum over `M'` channels with input
//! zero point 0 equals TFLite's `bias + Σ w·(x − in_zp)` over the taps inside the image
//! (padded taps add `w·in_zp`, which the fold cancels), bit for bit in wrapping int32.
//!
//! **Cycles** ([`im2col_cycles`]) of the engine in this mode: the serializer takes one window
//! every `Dk²` cycles at most, so the window generator stalls on its output register.

use crate::depthwise::OUTPUT_FIFO_LATENCY;
use crate::engine_config::EngineConfig;
use crate::error::{ModelError, Result};
use crate::requant::{check_zero_point, RequantParams};
use crate::tensor::Tensor;
use crate::window::{extract_windows, WindowConfig, WindowLayer};

/// The window layer that carries a standard convolution's input of `M` channels: `M` is
/// rounded up to whole groups, `G = ceil(M/P)`. Errors as [`WindowLayer::new`] (sizes,
/// stride, `G·P` above the config's channels, a row beyond the line buffer), and `M = 0`.
pub fn im2col_layer(cfg: &WindowConfig, height: usize, width: usize, m: usize, stride: usize) -> Result<WindowLayer> {
    if m == 0 {
        return Err(ModelError::InvalidParameter("im2col: input channels M = 0".into()));
    }
    cfg.layer(height, width, m.div_ceil(cfg.lanes()) * cfg.lanes(), stride)
}

/// `M' = G·Dk²·P`: the channels the pointwise stage sees per output pixel.
pub fn im2col_channels(layer: &WindowLayer) -> usize {
    layer.groups * layer.dk * layer.dk * layer.lanes
}

/// `input` (`[1, H, W, M]`) with channels `M..G·P` added, holding `in_zp`: what the host
/// streams into the engine. Errors: batch ≠ 1, a shape or `M` that is not `layer`'s
/// (`G·P − P < M ≤ G·P`), `in_zp` outside int8.
pub fn pad_channels(layer: &WindowLayer, input: &Tensor<i8>, in_zp: i32) -> Result<Tensor<i8>> {
    check_zero_point("input", in_zp)?;
    let [n, h, w, m] = input.shape();
    let gp = layer.channels;
    if n != 1 || h != layer.height || w != layer.width || m == 0 || m > gp || m + layer.lanes <= gp {
        return Err(ModelError::Shape(format!(
            "im2col input {:?}: expected [1, {}, {}, M] with {} < M ≤ {gp}",
            input.shape(),
            layer.height,
            layer.width,
            gp - layer.lanes
        )));
    }
    let mut data = Vec::with_capacity(h * w * gp);
    for px in input.data().chunks_exact(m) {
        data.extend_from_slice(px);
        data.extend(std::iter::repeat_n(in_zp as i8, gp - m));
    }
    Tensor::new([1, h, w, gp], data)
}

/// The engine's im2col output as a tensor `[1, Ho, Wo, M']`: channel `(g·Dk² + t)·P + l` of
/// an output pixel is beat `g·Dk² + t`, lane `l` — the model of the mode, from the window
/// generator's model ([`extract_windows`]). Errors as [`pad_channels`].
pub fn im2col(layer: &WindowLayer, input: &Tensor<i8>, in_zp: i32) -> Result<Tensor<i8>> {
    let padded = pad_channels(layer, input, in_zp)?;
    let windows = extract_windows(layer, &padded, in_zp as i8)?;
    let data = windows.into_iter().flat_map(|w| w.taps).collect();
    Tensor::new([1, layer.rows.out, layer.cols.out, im2col_channels(layer)], data)
}

/// Standard conv weights `[N, Dk, Dk, M]` reordered to the pointwise weights `[N, 1, 1, M']`
/// of the im2col channels: `w'[n][(g·Dk² + t)·P + l] = w[n][t][g·P + l]`, zero for
/// `g·P + l ≥ M`. Errors: weights whose shape is not `[N, Dk, Dk, M]` for `layer`.
pub fn im2col_weights(layer: &WindowLayer, weights: &Tensor<i8>) -> Result<Tensor<i8>> {
    let [nout, dk, _, m] = weights.shape();
    check_weights(layer, weights)?;
    let (taps, p) = (dk * dk, layer.lanes);
    let mp = im2col_channels(layer);
    let wd = weights.data();
    let mut out = vec![0i8; nout * mp];
    for n in 0..nout {
        for g in 0..layer.groups {
            for t in 0..taps {
                for l in 0..p {
                    let c = g * p + l;
                    if c < m {
                        out[n * mp + (g * taps + t) * p + l] = wd[(n * taps + t) * m + c];
                    }
                }
            }
        }
    }
    Tensor::new([nout, 1, 1, mp], out)
}

fn check_weights(layer: &WindowLayer, weights: &Tensor<i8>) -> Result<()> {
    let [n, dk, dk2, m] = weights.shape();
    if n == 0 || dk != layer.dk || dk2 != layer.dk || m == 0 || m > layer.channels || m + layer.lanes <= layer.channels {
        return Err(ModelError::Shape(format!(
            "im2col weights {:?}: expected [N, {}, {}, M] with {} < M ≤ {}",
            weights.shape(),
            layer.dk,
            layer.dk,
            layer.channels - layer.lanes,
            layer.channels
        )));
    }
    Ok(())
}

/// `rq` with the bias `bias[n] − in_zp·Σ_{t,m} w[n][t][m]` (wrapping int32): run the
/// reordered pointwise layer with input zero point 0. Errors: the weights' shape, `in_zp`
/// outside int8, `rq` not of `N` channels.
pub fn im2col_requant(layer: &WindowLayer, weights: &Tensor<i8>, in_zp: i32, rq: &RequantParams) -> Result<RequantParams> {
    check_weights(layer, weights)?;
    check_zero_point("input", in_zp)?;
    let n = weights.n();
    rq.expect_channels("im2col", n)?;
    let per_n = weights.data().len() / n;
    let bias = weights
        .data()
        .chunks_exact(per_n)
        .zip(rq.bias())
        .map(|(w, &b)| {
            let sum: i32 = w.iter().map(|&v| v as i32).sum();
            b.wrapping_sub(in_zp.wrapping_mul(sum))
        })
        .collect();
    RequantParams::new(
        bias,
        rq.multiplier().to_vec(),
        rq.shift().to_vec(),
        rq.out_zp(),
        rq.act_min(),
        rq.act_max(),
    )
}

// ---------------------------------------------------------------------------------------------
// Cycle model of the depthwise engine in im2col mode.

/// Scan position (as in [`crate::depthwise::last_emit_position`]) of every window of `layer`,
/// in emission order: [`WindowLayer::emit_positions`].
pub fn emit_positions(layer: &WindowLayer) -> impl Iterator<Item = u64> + '_ {
    layer.emit_positions()
}

/// Cycles of `layer` on the depthwise engine in im2col mode, from the cycle its first input
/// beat is taken to the cycle its last output beat leaves, inclusive, with an always-valid
/// input and an always-ready output. With cycle 0 = position 0's scan, `T = Dk²`, window `k`
/// emitted by position `n_k` ([`emit_positions`]):
///
/// * scan `s_k = max(s_{k−1} + n_k − n_{k−1}, a_{k−1})` (`s_0 = n_0`): positions between
///   two windows take a cycle each; an emitting position waits until the generator's output
///   register is free, i.e. until the previous window is accepted;
/// * accept `a_k = max(s_k + 1, a_{k−1} + T)`: the window is on the generator's output the
///   cycle after its scan; the serializer takes a window on its last tap, every `T` cycles at
///   most;
/// * beat `t` of window `k` enters the output FIFO in cycle `a_k + 1 + t` and leaves
///   [`OUTPUT_FIFO_LATENCY`] cycles later, so
///
/// `cycles = a_last + T + L_fifo + 1`.
///
/// The credits never stall an always-ready output: at an accept at most `L_fifo + 1 = 4`
/// beats of the previous window are still held, and `4 + Dk² ≤ 32` (the FIFO) for `Dk ≤ 5`.
/// Whenever `s_k + 1 ≥ a_{k−1} + T` (the scan is the bottleneck: the stride-2 input or the
/// padding positions), windows leave at the generator's pace; otherwise at one per `T`
/// cycles, and `cycles ≈ Ho·Wo·G·Dk²` — one output beat per cycle.
pub fn im2col_cycles(cfg: &EngineConfig, layer: &WindowLayer) -> u64 {
    let t = cfg.taps() as u64;
    let (mut scan, mut pos, mut accept) = (0u64, 0u64, None::<u64>);
    for n in emit_positions(layer) {
        scan = match accept {
            None => n,
            Some(a) => (scan + n - pos).max(a),
        };
        pos = n;
        accept = Some(match accept {
            None => scan + 1,
            Some(a) => (scan + 1).max(a + t),
        });
    }
    accept.expect("a layer has at least one window") + t + OUTPUT_FIFO_LATENCY + 1
}

/// Config-port writes that start an im2col layer (`DepthwiseProgram::im2col` in dsc-hw):
/// `H`, `W`, `G`, stride, `in_zp`, the mode, START. No weights: the lanes are bypassed.
pub const IM2COL_CONFIG_WRITES: u64 = 7;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::{conv2d, conv2d_acc};
    use crate::depthwise::{engine_cycles, last_emit_position, REQUANT_LATENCY};
    use crate::pointwise::{pointwise, pointwise_acc};
    use proptest::prelude::*;

    fn layer(dk: usize, p: usize, h: usize, w: usize, m: usize, s: usize) -> WindowLayer {
        let cfg = WindowConfig::new(dk, 16, 16, p, 12 * p).unwrap();
        im2col_layer(&cfg, h, w, m, s).unwrap()
    }

    /// Standard conv = pointwise over the im2col vectors, with the weights reordered, both
    /// ways of handling the zero point: folded (in_zp 0) and unfolded (pointwise's own).
    fn check(dk: usize, p: usize, h: usize, w: usize, m: usize, n: usize, s: usize, seed: u64) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let l = layer(dk, p, h, w, m, s);
        let x = Tensor::from_fn([1, h, w, m], |_, _, _, _| rng.gen()).unwrap();
        let wt = Tensor::from_fn([n, dk, dk, m], |_, _, _, _| rng.gen()).unwrap();
        let in_zp: i8 = rng.gen();
        let bias: Vec<i32> = (0..n).map(|_| if rng.gen_bool(0.2) { rng.gen() } else { rng.gen_range(-5000..5000) }).collect();
        let m0: Vec<i32> = (0..n).map(|_| rng.gen_range(1 << 30..i32::MAX)).collect();
        let shift: Vec<i32> = (0..n).map(|_| rng.gen_range(-10..-5)).collect();
        let rq = RequantParams::new(bias.clone(), m0, shift, rng.gen_range(-20..20), -128, 127).unwrap();
        let cols = im2col(&l, &x, in_zp as i32).unwrap();
        let wp = im2col_weights(&l, &wt).unwrap();
        let folded = im2col_requant(&l, &wt, in_zp as i32, &rq).unwrap();
        // Accumulators: bit-exact before requantization.
        let golden = conv2d_acc(&x, &wt, &bias, in_zp as i32, s).unwrap();
        assert_eq!(pointwise_acc(&cols, &wp, folded.bias(), 0).unwrap().data(), golden.data());
        assert_eq!(pointwise_acc(&cols, &wp, &bias, in_zp as i32).unwrap().data(), golden.data());
        let golden = conv2d(&x, &wt, in_zp as i32, s, &rq).unwrap();
        assert_eq!(pointwise(&cols, &wp, 0, &folded).unwrap().data(), golden.data());
    }

    #[test]
    fn mobilenet_first_layer_shape_m3_p8_stride2() {
        // 224×224×3 → 32 at stride 2 is too slow for a unit test; the same geometry on 14×14.
        check(3, 8, 14, 14, 3, 32, 2, 1);
        check(3, 8, 15, 13, 3, 32, 2, 2);
        let cfg = WindowConfig::new(3, 224, 224, 8, 8).unwrap();
        let l = im2col_layer(&cfg, 224, 224, 3, 2).unwrap();
        assert_eq!((l.groups, im2col_channels(&l)), (1, 72));
    }

    #[test]
    fn channel_order_is_group_tap_lane() {
        // Input value encodes (y, x, c); the centre tap (t = 4) of output pixel (1, 1) at
        // stride 1 is the input pixel (1, 1) itself.
        let l = layer(3, 2, 4, 4, 3, 1);
        let x = Tensor::from_fn([1, 4, 4, 3], |_, y, xx, c| (y * 16 + xx * 4 + c) as i8).unwrap();
        let cols = im2col(&l, &x, -7).unwrap();
        assert_eq!(cols.c(), 2 * 9 * 2);
        let px = cols.pixel(0, 1, 1).unwrap();
        for g in 0..2 {
            for l_ in 0..2 {
                let c = g * 2 + l_;
                let want = if c < 3 { (16 + 4 + c) as i8 } else { -7 };
                assert_eq!(px[(g * 9 + 4) * 2 + l_], want, "g {g} lane {l_}");
            }
        }
        // Output pixel (0, 0): taps of row −1 and column −1 are padding.
        let px = cols.pixel(0, 0, 0).unwrap();
        assert_eq!(&px[0..2], &[-7, -7]);
        assert_eq!(&px[8..10], &[0, 1]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let cfg = WindowConfig::new(3, 16, 16, 4, 16).unwrap();
        assert!(im2col_layer(&cfg, 8, 8, 0, 1).is_err());
        assert!(im2col_layer(&cfg, 8, 8, 17, 1).is_err());
        assert!(im2col_layer(&cfg, 8, 8, 3, 3).is_err());
        let l = im2col_layer(&cfg, 8, 8, 6, 1).unwrap();
        assert_eq!(l.channels, 8);
        let ok = Tensor::<i8>::zeros([1, 8, 8, 6]).unwrap();
        assert!(matches!(im2col(&l, &Tensor::zeros([1, 8, 8, 4]).unwrap(), 0), Err(ModelError::Shape(_))));
        assert!(matches!(im2col(&l, &Tensor::zeros([1, 8, 8, 9]).unwrap(), 0), Err(ModelError::Shape(_))));
        assert!(matches!(im2col(&l, &Tensor::zeros([2, 8, 8, 6]).unwrap(), 0), Err(ModelError::Shape(_))));
        assert!(matches!(im2col(&l, &Tensor::zeros([1, 7, 8, 6]).unwrap(), 0), Err(ModelError::Shape(_))));
        assert!(matches!(im2col(&l, &ok, 128), Err(ModelError::Quantization(_))));
        let w = Tensor::<i8>::zeros([2, 3, 3, 6]).unwrap();
        assert!(im2col_weights(&l, &w).is_ok());
        assert!(matches!(im2col_weights(&l, &Tensor::zeros([2, 5, 5, 6]).unwrap()), Err(ModelError::Shape(_))));
        assert!(matches!(im2col_weights(&l, &Tensor::zeros([2, 3, 3, 2]).unwrap()), Err(ModelError::Shape(_))));
        let rq = RequantParams::new(vec![0; 3], vec![0; 3], vec![0; 3], 0, -128, 127).unwrap();
        assert!(matches!(im2col_requant(&l, &w, 0, &rq), Err(ModelError::Shape(_))));
        let rq2 = RequantParams::new(vec![0; 2], vec![0; 2], vec![0; 2], 0, -128, 127).unwrap();
        assert!(matches!(im2col_requant(&l, &w, -129, &rq2), Err(ModelError::Quantization(_))));
    }

    #[test]
    fn cycles_follow_the_serializer_or_the_scan() {
        let cfg = EngineConfig::new(3, 2, 1, 1, 16, 16, 8).unwrap();
        // Stride 1, G = 1: a window on every position from the first on (W + 1 = 6), one
        // per 9 cycles: the serializer sets the pace, 25 windows × 9 beats plus the first
        // window's wait.
        let l = cfg.window().layer(5, 5, 2, 1).unwrap();
        let first = emit_positions(&l).next().unwrap();
        assert_eq!(first, 6);
        assert_eq!(im2col_cycles(&cfg, &l), (first + 1) + 24 * 9 + 9 + 3 + 1);
        // The last window is the last position in both modes.
        assert_eq!(emit_positions(&l).last().unwrap(), last_emit_position(&l));
        // Dk = 1: one beat per window, the same count as depthwise mode minus the lane and
        // requantizer pipeline.
        let c1 = EngineConfig::new(1, 2, 1, 1, 16, 16, 8).unwrap();
        let l = c1.window().layer(4, 6, 4, 2).unwrap();
        let dw = engine_cycles(&c1, &l);
        assert_eq!(im2col_cycles(&c1, &l), dw - crate::depthwise::lane_latency(&c1) - REQUANT_LATENCY + 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// pointwise(im2col(x), reordered weights, folded bias) == conv2d, bit-exact, over
        /// kernel 1/3/5, lanes 1–4, M multiples of P or not, stride 1 and 2.
        #[test]
        fn standard_conv_through_the_engine_mapping(
            dk in prop::sample::select(vec![1usize, 3, 5]),
            p in 1usize..=4,
            h in 1usize..=9,
            w in 1usize..=9,
            m in 1usize..=9,
            n in 1usize..=5,
            s in 1usize..=2,
            seed in any::<u64>(),
        ) {
            check(dk, p, h, w, m, n, s, seed);
        }

        /// Emission positions increase, and the model is never faster than one output beat
        /// per cycle nor than the scan.
        #[test]
        fn cycles_bounded_by_beats_and_scan(
            h in 1usize..=12, w in 1usize..=12, g in 1usize..=4, s in 1usize..=2,
        ) {
            let cfg = EngineConfig::new(3, 2, 1, 1, 16, 16, 8).unwrap();
            let l = cfg.window().layer(h, w, 2 * g, s).unwrap();
            let pos: Vec<u64> = emit_positions(&l).collect();
            prop_assert!(pos.windows(2).all(|p| p[0] < p[1]));
            prop_assert_eq!(pos.len(), l.window_count());
            let c = im2col_cycles(&cfg, &l);
            prop_assert!(c >= (l.window_count() * 9) as u64 + 4);
            prop_assert!(c >= last_emit_position(&l) + 1 + 9 + 4);
        }
    }
}
