//! Property tests of the convolution kernels and the DSC block against deliberately naive
//! definitions: every output pixel and every kernel tap visited in plain loops, padding decided
//! by an explicit bounds check on the (signed) input coordinate, sums in i64 reduced to int32
//! only at the end, and requantization in i128 with the rounding rules spelled out.

use dsc_model::{
    conv2d, conv2d_acc, depthwise, depthwise_acc, pointwise, pointwise_acc, DscBlock, RequantParams,
    Tensor,
};
use proptest::prelude::*;

/// TF SAME padding before the first row/column, from its definition.
fn pad_before(size: usize, dk: usize, stride: usize) -> i64 {
    let out = size.div_ceil(stride) as i64;
    let total = ((out - 1) * stride as i64 + dk as i64 - size as i64).max(0);
    total / 2
}

/// Which convolution: standard (all input channels) or depthwise (own channel only).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Conv,
    Depthwise,
}

/// Naive accumulator of one output element.
#[allow(clippy::too_many_arguments)]
fn naive_acc(
    kind: Kind,
    x: &Tensor<i8>,
    w: &Tensor<i8>,
    bias: i32,
    zp: i32,
    stride: usize,
    (b, oy, ox, o): (usize, usize, usize, usize),
) -> i32 {
    let [_, h, wd, m] = x.shape();
    let dk = w.h();
    let (pt, pl) = (pad_before(h, dk, stride), pad_before(wd, dk, stride));
    let mut sum = bias as i64;
    for ky in 0..dk {
        for kx in 0..dk {
            let iy = (oy * stride + ky) as i64 - pt;
            let ix = (ox * stride + kx) as i64 - pl;
            if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                continue; // a padded tap adds nothing
            }
            let (iy, ix) = (iy as usize, ix as usize);
            let channels: Vec<usize> = if kind == Kind::Conv { (0..m).collect() } else { vec![o] };
            for c in channels {
                let wv = if kind == Kind::Conv { w.get(o, ky, kx, c) } else { w.get(0, ky, kx, c) }.unwrap();
                sum += wv as i64 * (x.get(b, iy, ix, c).unwrap() as i64 - zp as i64);
            }
        }
    }
    sum as i32 // TFLite's int32 accumulator keeps the low 32 bits
}

fn srdhm_naive(a: i32, b: i32) -> i32 {
    let p = a as i128 * b as i128;
    let d = 1i128 << 31;
    let r = p.div_euclid(d) + i128::from(2 * p.rem_euclid(d) >= d);
    r.clamp(i32::MIN as i128, i32::MAX as i128) as i32
}

fn rdbp_naive(x: i32, e: i32) -> i32 {
    let mag = (x as i64).abs();
    let d = 1i64 << e;
    let q = mag / d + i64::from(2 * (mag % d) >= d);
    (if x < 0 { -q } else { q }) as i32
}

fn requant_naive(acc: i32, rq: &RequantParams, c: usize) -> i8 {
    let shift = rq.shift()[c];
    let shifted = ((acc as i64) << shift.max(0)) as i32;
    let v = rdbp_naive(srdhm_naive(shifted, rq.multiplier()[c]), (-shift).max(0)) as i64;
    (v + rq.out_zp() as i64).clamp(rq.act_min() as i64, rq.act_max() as i64) as i8
}

/// Naive layer: accumulators and int8 output.
fn naive_layer(
    kind: Kind,
    x: &Tensor<i8>,
    w: &Tensor<i8>,
    zp: i32,
    stride: usize,
    rq: &RequantParams,
) -> (Tensor<i32>, Tensor<i8>) {
    let [n, h, wd, m] = x.shape();
    let out_c = if kind == Kind::Conv { w.n() } else { m };
    let shape = [n, h.div_ceil(stride), wd.div_ceil(stride), out_c];
    let acc = Tensor::from_fn(shape, |b, oy, ox, o| naive_acc(kind, x, w, rq.bias()[o], zp, stride, (b, oy, ox, o))).unwrap();
    let out = Tensor::from_fn(shape, |b, oy, ox, o| requant_naive(acc.get(b, oy, ox, o).unwrap(), rq, o)).unwrap();
    (acc, out)
}

fn int8() -> impl Strategy<Value = i8> {
    prop_oneof![4 => any::<i8>(), 1 => Just(-128i8), 1 => Just(127i8), 1 => Just(0i8)]
}

fn tensor(shape: [usize; 4]) -> impl Strategy<Value = Tensor<i8>> {
    proptest::collection::vec(int8(), shape.iter().product::<usize>())
        .prop_map(move |d| Tensor::new(shape, d).unwrap())
}

fn requant(channels: usize) -> impl Strategy<Value = RequantParams> {
    let bias = prop_oneof![4 => -200_000i32..200_000, 1 => any::<i32>()];
    let m0 = prop_oneof![6 => (1i32 << 30)..=i32::MAX, 1 => Just(0)];
    // Mostly the realistic right shifts, sometimes left shifts.
    let shift = prop_oneof![6 => -20i32..=0, 1 => -31i32..=-20, 1 => 0i32..=30];
    (
        proptest::collection::vec((bias, m0, shift), channels),
        -128i32..=127,
        -128i32..=127,
        -128i32..=127,
    )
        .prop_map(|(ch, zp, a, b)| {
            let (bias, rest): (Vec<i32>, Vec<(i32, i32)>) = ch.into_iter().map(|(b, m, s)| (b, (m, s))).unzip();
            let (m0, shift) = rest.into_iter().unzip();
            RequantParams::new(bias, m0, shift, zp, a.min(b), a.max(b)).unwrap()
        })
}

/// A random small layer: input, weights, input zero point, stride, requantization.
#[derive(Debug, Clone)]
struct Layer {
    x: Tensor<i8>,
    w: Tensor<i8>,
    zp: i32,
    stride: usize,
    rq: RequantParams,
}

fn layer(depthwise: bool, pointwise: bool) -> impl Strategy<Value = Layer> {
    let dk = if pointwise { Just(1usize).boxed() } else { prop_oneof![Just(1usize), Just(3), Just(5)].boxed() };
    let stride = if pointwise { Just(1usize).boxed() } else { prop_oneof![Just(1usize), Just(2)].boxed() };
    (1usize..=2, 1usize..=9, 1usize..=9, 1usize..=6, 1usize..=6, dk, stride, -128i32..=127).prop_flat_map(
        move |(n, h, w, m, n_out, dk, stride, zp)| {
            let wshape = if depthwise { [1, dk, dk, m] } else { [n_out, dk, dk, m] };
            let out_c = if depthwise { m } else { n_out };
            (tensor([n, h, w, m]), tensor(wshape), requant(out_c))
                .prop_map(move |(x, w, rq)| Layer { x, w, zp, stride, rq })
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn conv2d_matches_naive(l in layer(false, false)) {
        let (acc, out) = naive_layer(Kind::Conv, &l.x, &l.w, l.zp, l.stride, &l.rq);
        prop_assert_eq!(conv2d_acc(&l.x, &l.w, l.rq.bias(), l.zp, l.stride).unwrap(), acc);
        prop_assert_eq!(conv2d(&l.x, &l.w, l.zp, l.stride, &l.rq).unwrap(), out);
    }

    #[test]
    fn depthwise_matches_naive(l in layer(true, false)) {
        let (acc, out) = naive_layer(Kind::Depthwise, &l.x, &l.w, l.zp, l.stride, &l.rq);
        prop_assert_eq!(depthwise_acc(&l.x, &l.w, l.rq.bias(), l.zp, l.stride).unwrap(), acc);
        prop_assert_eq!(depthwise(&l.x, &l.w, l.zp, l.stride, &l.rq).unwrap(), out);
    }

    #[test]
    fn pointwise_matches_naive(l in layer(false, true)) {
        let (acc, out) = naive_layer(Kind::Conv, &l.x, &l.w, l.zp, 1, &l.rq);
        prop_assert_eq!(pointwise_acc(&l.x, &l.w, l.rq.bias(), l.zp).unwrap(), acc);
        prop_assert_eq!(pointwise(&l.x, &l.w, l.zp, &l.rq).unwrap(), out);
    }

    /// Metamorphic check of the asymmetric padding, independent of the naive model: on an even
    /// size with Dk = 3, stride-2 output `o` is stride-1 output `2o + 1` (the stride-2 window
    /// starts one row/column later because its padding is all at the bottom/right).
    #[test]
    fn stride_two_on_even_sizes_is_shifted_subsampling(
        (x, w, zp) in (1usize..=4, 1usize..=4, 1usize..=5, -128i32..=127)
            .prop_flat_map(|(hh, ww, m, zp)| (tensor([1, 2 * hh, 2 * ww, m]), tensor([1, 3, 3, m]), Just(zp)))
    ) {
        let bias = vec![0; x.c()];
        let s1 = depthwise_acc(&x, &w, &bias, zp, 1).unwrap();
        let s2 = depthwise_acc(&x, &w, &bias, zp, 2).unwrap();
        for oy in 0..s2.h() {
            for ox in 0..s2.w() {
                prop_assert_eq!(s2.pixel(0, oy, ox).unwrap(), s1.pixel(0, 2 * oy + 1, 2 * ox + 1).unwrap());
            }
        }
    }

    #[test]
    fn dsc_block_matches_naive(dw in layer(true, false), pw_seed in (1usize..=6).prop_flat_map(|n| (Just(n), any::<u64>()))) {
        // Pointwise weights and requant derived deterministically from a seed so the channel
        // count fits the depthwise layer.
        let m = dw.x.c();
        let (n, seed) = pw_seed;
        let pw_w = Tensor::from_fn([n, 1, 1, m], |o, _, _, c| (seed.rotate_left((o * 7 + c) as u32 % 64) as u8) as i8).unwrap();
        let pw_rq = RequantParams::new(
            (0..n).map(|o| (seed >> (o % 32)) as i32 % 5000).collect(),
            (0..n).map(|o| (1 << 30) + ((seed >> o) as i32 & 0x3fff_ffff)).collect(),
            (0..n).map(|o| -((seed >> (o + 3)) as i32 & 15)).collect(),
            ((seed >> 40) as u8 as i8) as i32,
            -128,
            127,
        ).unwrap();
        let block = DscBlock::new(dw.zp, dw.stride, dw.w.clone(), dw.rq.clone(), pw_w.clone(), pw_rq.clone()).unwrap();
        let (_, mid) = naive_layer(Kind::Depthwise, &dw.x, &dw.w, dw.zp, dw.stride, &dw.rq);
        let (_, out) = naive_layer(Kind::Conv, &mid, &pw_w, dw.rq.out_zp(), 1, &pw_rq);
        let got = block.run_with_intermediate(&dw.x).unwrap();
        prop_assert_eq!(got.depthwise, mid);
        prop_assert_eq!(got.output, out);
    }
}
