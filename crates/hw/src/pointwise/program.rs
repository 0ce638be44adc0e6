//! The host side of the pointwise stage's config port: the writes that load one layer, the
//! input beats of a tensor and the tensor of the output beats.

use dsc_model::pointwise::{PointwiseConfig, PointwiseLayer};
use dsc_model::requant::{check_zero_point, RequantParams};
use dsc_model::{ModelError, Tensor};

/// Index of START (region 0).
pub const PW_CFG_START: u32 = 8;
/// Index of clear-error (region 0).
pub const PW_CFG_CLEAR_ERROR: u32 = 9;

fn addr(region: u32, index: u32) -> u32 {
    (region << 24) | index
}

/// One pointwise layer as config-port writes, START last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointwiseProgram {
    writes: Vec<(u32, u32)>,
    layer: PointwiseLayer,
    rows: usize,
    cols: usize,
    shape: [usize; 4],
}

impl PointwiseProgram {
    /// The writes for `weights` `[N, 1, 1, M]` applied to an input of `input_shape`
    /// `[1, H, W, M]` with input zero point `in_zp` and per-channel `rq`. The bias written is
    /// `bias − in_zp·Σ_m w` (wrapping int32); weights of channels `m ≥ M` and parameters of
    /// channels `n ≥ N` inside the last tiles are written as zero.
    ///
    /// Errors: batch ≠ 1, a layer beyond `cfg`'s maxima ([`PointwiseConfig::layer`]), the
    /// weights' shape, `in_zp` outside int8, `rq` with another channel count, beats wider than
    /// 128 bits.
    pub fn new(
        cfg: &PointwiseConfig,
        input_shape: [usize; 4],
        weights: &Tensor<i8>,
        in_zp: i32,
        rq: &RequantParams,
    ) -> Result<Self, ModelError> {
        let [b, h, w, m] = input_shape;
        if b != 1 {
            return Err(ModelError::Shape(format!("pointwise stage input: batch {b}, expected 1")));
        }
        let n = weights.n();
        let layer = cfg.layer(m, n, h * w)?;
        weights.expect_shape("pointwise weights [N, 1, 1, M]", [n, 1, 1, m])?;
        check_zero_point("input", in_zp)?;
        if rq.channels() != n {
            return Err(ModelError::Shape(format!(
                "pointwise stage: requantization has {} channels, the layer has {n}",
                rq.channels()
            )));
        }
        let (r, c) = (cfg.array().rows(), cfg.array().cols());
        if r > 16 || c > 16 {
            return Err(ModelError::InvalidParameter(format!(
                "{r}×{c} array: beats wider than 128 bits are not packed here"
            )));
        }
        let (mt, nt) = (m.div_ceil(r), n.div_ceil(c));
        let wd = weights.data();
        let mut writes = vec![
            (addr(0, 0), mt as u32),
            (addr(0, 1), nt as u32),
            (addr(0, 2), layer.pixels as u32),
            (addr(0, 3), layer.block as u32),
            (addr(0, 4), rq.out_zp() as u32),
            (addr(0, 5), rq.act_min() as u32),
            (addr(0, 6), rq.act_max() as u32),
        ];
        for j in 0..nt {
            for i in 0..mt {
                for rr in 0..r {
                    let word = ((j * mt + i) * r + rr) as u32;
                    for cc in 0..c {
                        let (nn, mm) = (j * c + cc, i * r + rr);
                        let v = if nn < n && mm < m { wd[nn * m + mm] } else { 0 };
                        writes.push((addr(1, word), v as i32 as u32));
                    }
                }
            }
        }
        let per_channel = |f: &dyn Fn(usize) -> i32| -> Vec<i32> {
            (0..nt * c).map(|k| if k < n { f(k) } else { 0 }).collect()
        };
        let bias = per_channel(&|k| {
            let sum_w: i32 = wd[k * m..(k + 1) * m].iter().map(|&x| x as i32).sum();
            rq.bias()[k].wrapping_sub(in_zp.wrapping_mul(sum_w))
        });
        let m0 = per_channel(&|k| rq.multiplier()[k]);
        let shift = per_channel(&|k| rq.shift()[k]);
        for (region, values) in [(2u32, &bias), (3, &m0), (4, &shift)] {
            for j in 0..nt {
                for cc in 0..c {
                    writes.push((addr(region, j as u32), values[j * c + cc] as u32));
                }
            }
        }
        writes.push((addr(0, PW_CFG_START), 0));
        Ok(PointwiseProgram { writes, layer, rows: r, cols: c, shape: [1, h, w, n] })
    }

    /// The same program with `block` pixels per block instead of the balanced choice of
    /// [`PointwiseConfig::layer`] (every block but the last has `block` pixels). Errors:
    /// `block` outside `1..=max_block`.
    pub fn with_block(mut self, cfg: &PointwiseConfig, block: usize) -> Result<Self, ModelError> {
        if block == 0 || block > cfg.max_block() {
            return Err(ModelError::InvalidParameter(format!(
                "pointwise block of {block} pixels: need 1 ≤ block ≤ {}",
                cfg.max_block()
            )));
        }
        self.layer.block = block;
        for w in self.writes.iter_mut() {
            if w.0 == addr(0, 3) {
                w.1 = block as u32;
            }
        }
        Ok(self)
    }

    /// `(address, data)` of every write, START last: one per cycle.
    pub fn writes(&self) -> &[(u32, u32)] {
        &self.writes
    }

    /// The layer as the stage runs it (block size chosen).
    pub fn layer(&self) -> &PointwiseLayer {
        &self.layer
    }

    /// Input beats: `MT` per pixel, lane `l` of beat `i` = channel `i·R + l`; lanes beyond `M`
    /// carry `0x7F` (they meet zero weights); `tlast` on the last beat.
    pub fn input_beats(&self, input: &Tensor<i8>) -> Result<Vec<(u128, bool)>, ModelError> {
        let [_, h, w, _] = self.shape;
        let m = self.layer.m;
        input.expect_shape("pointwise stage input", [1, h, w, m])?;
        let mt = m.div_ceil(self.rows);
        let mut beats = Vec::with_capacity(h * w * mt);
        for px in input.data().chunks_exact(m) {
            for i in 0..mt {
                let mut d = 0u128;
                for l in 0..self.rows {
                    let ch = i * self.rows + l;
                    let v = if ch < m { px[ch] as u8 } else { 0x7F };
                    d |= (v as u128) << (8 * l);
                }
                beats.push((d, false));
            }
        }
        if let Some(b) = beats.last_mut() {
            b.1 = true;
        }
        Ok(beats)
    }

    /// Output beats (`NT` per pixel, `C` channels each) back to the `[1, H, W, N]` tensor.
    /// Errors when the count is not `pixels·NT`.
    pub fn output_tensor(&self, beats: &[u128]) -> Result<Tensor<i8>, ModelError> {
        let n = self.layer.n;
        let nt = n.div_ceil(self.cols);
        if beats.len() != self.layer.pixels * nt {
            return Err(ModelError::Shape(format!(
                "{} output beats, the layer has {}",
                beats.len(),
                self.layer.pixels * nt
            )));
        }
        let mut data = Vec::with_capacity(self.layer.pixels * n);
        for px in beats.chunks_exact(nt) {
            for k in 0..n {
                data.push((px[k / self.cols] >> (8 * (k % self.cols))) as u8 as i8);
            }
        }
        Tensor::new(self.shape, data)
    }
}
