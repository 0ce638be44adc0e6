//! Throughput of the golden model's depthwise and pointwise kernels on MobileNet-v1 layer
//! shapes, in multiply-accumulates per second (criterion's elements/s): the model has to check
//! thousands of random layers and whole networks against the hardware.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use dsc_model::{depthwise, pointwise, DscBlock, RequantParams, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_tensor(rng: &mut ChaCha8Rng, shape: [usize; 4]) -> Tensor<i8> {
    let n: usize = shape.iter().product();
    Tensor::new(shape, (0..n).map(|_| rng.gen::<i8>()).collect()).unwrap()
}

fn random_requant(rng: &mut ChaCha8Rng, channels: usize) -> RequantParams {
    RequantParams::new(
        (0..channels).map(|_| rng.gen_range(-5000..5000)).collect(),
        (0..channels).map(|_| rng.gen_range(1 << 30..=i32::MAX)).collect(),
        (0..channels).map(|_| rng.gen_range(-12..=-6)).collect(),
        -128,
        -128,
        127,
    )
    .unwrap()
}

fn bench_depthwise(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut group = c.benchmark_group("depthwise");
    // (input size, channels, stride) of MobileNet-v1 1.0-224 depthwise layers.
    for (df, m, stride) in [(112, 32, 1), (112, 64, 2), (56, 128, 1), (14, 512, 1), (7, 1024, 1)] {
        let input = random_tensor(&mut rng, [1, df, df, m]);
        let weights = random_tensor(&mut rng, [1, 3, 3, m]);
        let rq = random_requant(&mut rng, m);
        let out = df.div_ceil(stride);
        group.throughput(Throughput::Elements((9 * m * out * out) as u64));
        group.bench_function(format!("dw3x3_{df}x{df}x{m}_s{stride}"), |b| {
            b.iter(|| depthwise(black_box(&input), &weights, 3, stride, &rq).unwrap())
        });
    }
    group.finish();
}

fn bench_pointwise(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut group = c.benchmark_group("pointwise");
    // (map size, M, N) of MobileNet-v1 1.0-224 pointwise layers.
    for (df, m, n) in [(112, 32, 64), (56, 128, 128), (28, 256, 256), (14, 512, 512), (7, 1024, 1024)] {
        let input = random_tensor(&mut rng, [1, df, df, m]);
        let weights = random_tensor(&mut rng, [n, 1, 1, m]);
        let rq = random_requant(&mut rng, n);
        group.throughput(Throughput::Elements((m * n * df * df) as u64));
        group.bench_function(format!("pw_{df}x{df}_{m}to{n}"), |b| {
            b.iter(|| pointwise(black_box(&input), &weights, -5, &rq).unwrap())
        });
    }
    group.finish();
}

/// The 13 DSC blocks of MobileNet-v1 1.0-224 in sequence, each block's output feeding the
/// next: how long the model takes to check a whole network body.
fn bench_mobilenet_body(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // (input size, M, N, depthwise stride)
    let mut layers = vec![(112, 32, 64, 1), (112, 64, 128, 2), (56, 128, 128, 1), (56, 128, 256, 2)];
    layers.extend([(28, 256, 256, 1), (28, 256, 512, 2)]);
    layers.extend([(14, 512, 512, 1); 5]);
    layers.extend([(14, 512, 1024, 2), (7, 1024, 1024, 1)]);
    let mut macs = 0u64;
    let blocks: Vec<DscBlock> = layers
        .iter()
        .map(|&(df, m, n, stride)| {
            let out = (df as u64).div_ceil(stride as u64);
            macs += (9 * m as u64 + m as u64 * n as u64) * out * out;
            DscBlock::new(
                -128,
                stride,
                random_tensor(&mut rng, [1, 3, 3, m]),
                random_requant(&mut rng, m),
                random_tensor(&mut rng, [n, 1, 1, m]),
                random_requant(&mut rng, n),
            )
            .unwrap()
        })
        .collect();
    let input = random_tensor(&mut rng, [1, 112, 112, 32]);
    let mut group = c.benchmark_group("mobilenet_v1");
    group.sample_size(10);
    group.throughput(Throughput::Elements(macs));
    group.bench_function("dsc_body_224", |b| {
        b.iter(|| {
            blocks.iter().fold(black_box(&input).clone(), |x, blk| blk.run(&x).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_depthwise, bench_pointwise, bench_mobilenet_body);
criterion_main!(benches);
