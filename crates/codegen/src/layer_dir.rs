//! A layer directory: one DSC layer and its input as `.npy` files plus `layer.json`, what
//! `simulate --layer-dir` runs (the README shows a numpy snippet that writes one).
//!
//! | file | dtype | shape |
//! |---|---|---|
//! | `input.npy` | int8 | `[1, H, W, M]` |
//! | `dw_weights.npy` | int8 | `[1, Dk, Dk, M]` |
//! | `dw_bias.npy` | int32 | `[M]` |
//! | `pw_weights.npy` | int8 | `[N, 1, 1, M]` |
//! | `pw_bias.npy` | int32 | `[N]` |
//! | `layer.json` | | stride, zero points, activation, per-stage requantization |
//! | `output.npy` (written) | int8 | `[1, Ho, Wo, N]` |
//!
//! Each stage's requantization is either real scales (`weight_scales` per channel, with the
//! layer's `input_scale`, `intermediate_scale`, `output_scale`) turned into Q31 multipliers by
//! the model exactly as TFLite does, or the Q31 `multiplier` and `shift` per channel
//! themselves. ReLU6 needs the stage's output scale for its bound.

use std::path::{Path, PathBuf};

use dsc_model::requant::{Clamp, RequantParams};
use dsc_model::{DscBlock, Tensor};
use serde::Deserialize;

use crate::error::CliError;
use crate::npy::{self, Data};

/// The files a layer directory must hold.
pub const INPUT: &str = "input.npy";
pub const DW_WEIGHTS: &str = "dw_weights.npy";
pub const DW_BIAS: &str = "dw_bias.npy";
pub const PW_WEIGHTS: &str = "pw_weights.npy";
pub const PW_BIAS: &str = "pw_bias.npy";
pub const LAYER_JSON: &str = "layer.json";
/// The file `simulate` writes.
pub const OUTPUT: &str = "output.npy";

/// `activation` in layer.json; applies to both stages, as in MobileNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    None,
    Relu,
    Relu6,
}

impl From<Activation> for Clamp {
    fn from(a: Activation) -> Clamp {
        match a {
            Activation::None => Clamp::None,
            Activation::Relu => Clamp::Relu,
            Activation::Relu6 => Clamp::Relu6,
        }
    }
}

/// One stage's requantization: exactly one of the two forms.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageQuant {
    pub weight_scales: Option<Vec<f32>>,
    pub multiplier: Option<Vec<i32>>,
    pub shift: Option<Vec<i32>>,
}

/// layer.json.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerJson {
    pub stride: usize,
    pub activation: Activation,
    pub input_zero_point: i32,
    pub intermediate_zero_point: i32,
    pub output_zero_point: i32,
    pub input_scale: Option<f32>,
    pub intermediate_scale: Option<f32>,
    pub output_scale: Option<f32>,
    pub depthwise: StageQuant,
    pub pointwise: StageQuant,
}

/// A loaded, validated layer directory.
#[derive(Debug, Clone)]
pub struct LayerDir {
    pub input: Tensor<i8>,
    pub block: DscBlock,
}

fn bad(path: &Path, msg: impl std::fmt::Display) -> CliError {
    CliError::Input(format!("{}: {msg}", path.display()))
}

/// Reads `dir/name`; the error names the file.
fn read(dir: &Path, name: &str) -> Result<(PathBuf, Vec<usize>, npy::Array), CliError> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|e| bad(&path, format!("cannot read: {e}")))?;
    let a = npy::parse(&bytes).map_err(|e| bad(&path, e))?;
    Ok((path, a.shape.clone(), a))
}

fn int8(path: &Path, a: npy::Array) -> Result<Vec<i8>, CliError> {
    a.into_i8().map_err(|e| bad(path, e))
}

fn int32(path: &Path, a: npy::Array) -> Result<Vec<i32>, CliError> {
    a.into_i32().map_err(|e| bad(path, e))
}

/// `shape` against `want` (`None`: any size ≥ 1); `text` is the expected shape as the user
/// reads it, e.g. `[1, H, W, M]`.
fn check_shape(path: &Path, shape: &[usize], want: &[Option<usize>], text: &str) -> Result<(), CliError> {
    let ok = shape.len() == want.len()
        && shape.iter().zip(want).all(|(&s, w)| s >= 1 && w.is_none_or(|w| w == s));
    if !ok {
        return Err(bad(path, format!("shape {shape:?}, expected {text}")));
    }
    Ok(())
}

fn tensor4(path: &Path, shape: &[usize], data: Vec<i8>) -> Result<Tensor<i8>, CliError> {
    Tensor::new([shape[0], shape[1], shape[2], shape[3]], data).map_err(|e| bad(path, e))
}

/// A stage's requantization from its json form; errors name the stage.
fn stage_requant(
    stage: &str,
    q: &StageQuant,
    bias: Vec<i32>,
    in_scale: Option<f32>,
    out_scale: Option<f32>,
    out_zp: i32,
    act: Activation,
) -> Result<RequantParams, String> {
    let channels = bias.len();
    let check_len = |what: &str, len: usize| {
        if len != channels {
            return Err(format!("{stage}.{what} has {len} entries, expected {channels} (one per channel)"));
        }
        Ok(())
    };
    let scale = |name: &str, v: Option<f32>| v.ok_or_else(|| format!("{stage}: {name} is required"));
    let err = |e: dsc_model::ModelError| format!("{stage}: {e}");
    match (&q.weight_scales, &q.multiplier, &q.shift) {
        (Some(ws), None, None) => {
            check_len("weight_scales", ws.len())?;
            let (i, o) = (scale("input scale", in_scale)?, scale("output scale", out_scale)?);
            // from_scales gives the failing channel no name; find it first.
            for (c, &w) in ws.iter().enumerate() {
                let real = dsc_model::requant::effective_multiplier(i, w, o)
                    .and_then(dsc_model::requant::quantize_multiplier);
                real.map_err(|e| format!("{stage} channel {c}: {e}"))?;
            }
            RequantParams::from_scales(bias, i, ws, o, out_zp, act.into()).map_err(err)
        }
        (None, Some(m), Some(s)) => {
            check_len("multiplier", m.len())?;
            check_len("shift", s.len())?;
            let (lo, hi) = match act {
                // The bound is 6 in real units: it needs the scale.
                Activation::Relu6 => Clamp::Relu6.range(scale("output scale (for relu6)", out_scale)?, out_zp),
                // Without a real bound any positive scale gives the same clamp.
                a => Clamp::from(a).range(1.0, out_zp),
            }
            .map_err(err)?;
            RequantParams::new(bias, m.clone(), s.clone(), out_zp, lo, hi).map_err(err)
        }
        _ => Err(format!(
            "{stage}: give either weight_scales, or multiplier and shift (Q31), not both or neither"
        )),
    }
}

/// Loads and validates a layer directory. Errors name the file and the problem.
pub fn load(dir: &Path) -> Result<LayerDir, CliError> {
    if !dir.is_dir() {
        return Err(bad(dir, "not a directory"));
    }
    let json_path = dir.join(LAYER_JSON);
    let text = std::fs::read_to_string(&json_path).map_err(|e| bad(&json_path, format!("cannot read: {e}")))?;
    let json: LayerJson = serde_json::from_str(&text).map_err(|e| bad(&json_path, e))?;

    let (p, shape, a) = read(dir, INPUT)?;
    let data = int8(&p, a)?;
    check_shape(&p, &shape, &[Some(1), None, None, None], "[1, H, W, M]")?;
    let m = shape[3];
    let input = tensor4(&p, &shape, data)?;

    let (p, shape, a) = read(dir, DW_WEIGHTS)?;
    let data = int8(&p, a)?;
    let dk = shape.get(1).copied().unwrap_or(0);
    check_shape(&p, &shape, &[Some(1), Some(dk), Some(dk), Some(m)], &format!("[1, Dk, Dk, {m}] (M from {INPUT})"))?;
    let dw_weights = tensor4(&p, &shape, data)?;

    let (p, shape, a) = read(dir, DW_BIAS)?;
    let dw_bias = int32(&p, a)?;
    check_shape(&p, &shape, &[Some(m)], &format!("[{m}] (M from {INPUT})"))?;

    let (p, shape, a) = read(dir, PW_WEIGHTS)?;
    let data = int8(&p, a)?;
    check_shape(&p, &shape, &[None, Some(1), Some(1), Some(m)], &format!("[N, 1, 1, {m}] (M from {INPUT})"))?;
    let n = shape[0];
    let pw_weights = tensor4(&p, &shape, data)?;

    let (p, shape, a) = read(dir, PW_BIAS)?;
    let pw_bias = int32(&p, a)?;
    check_shape(&p, &shape, &[Some(n)], &format!("[{n}] (N from {PW_WEIGHTS})"))?;

    let j = &json;
    let in_json = |e: String| bad(&json_path, e);
    let dw_rq = stage_requant("depthwise", &j.depthwise, dw_bias, j.input_scale, j.intermediate_scale, j.intermediate_zero_point, j.activation)
        .map_err(in_json)?;
    let pw_rq = stage_requant("pointwise", &j.pointwise, pw_bias, j.intermediate_scale, j.output_scale, j.output_zero_point, j.activation)
        .map_err(in_json)?;
    let block = DscBlock::new(j.input_zero_point, j.stride, dw_weights, dw_rq, pw_weights, pw_rq)
        .map_err(|e| bad(&json_path, e))?;
    Ok(LayerDir { input, block })
}

/// Writes `output` as `dir/output.npy`; returns its path.
pub fn write_output(dir: &Path, output: &Tensor<i8>) -> Result<PathBuf, CliError> {
    let path = dir.join(OUTPUT);
    let bytes = npy::write(&output.shape(), &Data::I8(output.data().to_vec()));
    std::fs::write(&path, bytes)
        .map_err(|e| CliError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))))?;
    Ok(path)
}
