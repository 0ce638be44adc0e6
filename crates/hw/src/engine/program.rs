//! The host side of the fused engine's config port: the writes that load one DSC layer, the
//! input beats of a tensor and the tensor of the output beats.

use crate::depthwise::{im2col_pointwise_program, DepthwiseProgram};
use crate::pointwise::PointwiseProgram;
use dsc_model::engine::{DscConfig, DscLayer};
use dsc_model::synthetic::ConvLayer;
use dsc_model::{DscBlock, ModelError, Tensor};

/// `cfg_addr[31:28]` of the pointwise stage's registers.
pub const DSC_PW_STAGE: u32 = 1 << 28;

/// One DSC layer as config-port writes: the pointwise stage's (START included: it then waits
/// for input), then the depthwise engine's, its START last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DscProgram {
    writes: Vec<(u32, u32)>,
    dw: DepthwiseProgram,
    pw: PointwiseProgram,
    layer: DscLayer,
    cols: usize,
}

impl DscProgram {
    /// The writes for `block` on an input of `input_shape` `[1, H, W, M]`. The pointwise
    /// input zero point is the depthwise output zero point.
    ///
    /// Errors: a kernel size other than the config's `Dk`, and everything
    /// [`DepthwiseProgram::new`] and [`PointwiseProgram::new`] refuse (batch ≠ 1, a layer
    /// beyond the generated maxima, `M` not a multiple of `P`, …).
    pub fn new(cfg: &DscConfig, block: &DscBlock, input_shape: [usize; 4]) -> Result<Self, ModelError> {
        if block.dk() != cfg.engine().dk() {
            return Err(ModelError::InvalidParameter(format!(
                "DSC block with a {0}×{0} kernel: the engine is generated for Dk = {1}",
                block.dk(),
                cfg.engine().dk()
            )));
        }
        let dw = DepthwiseProgram::new(
            cfg.engine(),
            input_shape,
            block.dw_weights(),
            block.in_zp(),
            block.stride(),
            block.dw_requant(),
        )?;
        let wl = *dw.layer();
        let mid = [1, wl.rows.out, wl.cols.out, wl.channels];
        let pw = PointwiseProgram::new(
            cfg.pointwise(),
            mid,
            block.pw_weights(),
            block.dw_requant().out_zp(),
            block.pw_requant(),
        )?;
        Ok(Self::join(cfg, dw, pw))
    }

    /// The writes for a standard convolution `layer` (weights `[N, Dk, Dk, M]`) on an input of
    /// `input_shape` `[1, H, W, M]` in conv mode: the pointwise stage with the weights reordered
    /// to the `M' = G·Dk²·P` im2col channels and the `in_zp` fold in the bias (input zero point
    /// 0), then the depthwise engine in im2col mode ([`DepthwiseProgram::im2col`],
    /// [`im2col_pointwise_program`]). `M` need not be a multiple of `P`.
    ///
    /// Errors: a kernel size other than the config's `Dk`, `M'` above the pointwise `max_m`
    /// ([`DscConfig::conv_layer`] names the `max_m` needed), weights whose `M` is not the
    /// input's, and everything the two programs refuse.
    pub fn conv(cfg: &DscConfig, layer: &ConvLayer, input_shape: [usize; 4]) -> Result<Self, ModelError> {
        let [nb, dk, dk2, m] = layer.weights.shape();
        if dk != cfg.engine().dk() || dk2 != dk {
            return Err(ModelError::InvalidParameter(format!(
                "standard conv with a {dk}×{dk2} kernel: the engine is generated for Dk = {}",
                cfg.engine().dk()
            )));
        }
        if input_shape[3] != m {
            return Err(ModelError::Shape(format!(
                "standard conv: input {input_shape:?} has {} channels, the weights {m}",
                input_shape[3]
            )));
        }
        let [_, h, w, _] = input_shape;
        let geometry = cfg.conv_layer(h, w, m, nb, layer.stride)?;
        let dw = DepthwiseProgram::im2col(cfg.engine(), input_shape, layer.in_zp, layer.stride)?;
        let pw = im2col_pointwise_program(cfg.pointwise(), &dw, &layer.weights, &layer.requant)?;
        debug_assert_eq!(geometry, DscLayer { window: *dw.layer(), pointwise: *pw.layer() });
        Ok(Self::join(cfg, dw, pw))
    }

    fn join(cfg: &DscConfig, dw: DepthwiseProgram, pw: PointwiseProgram) -> Self {
        let layer = DscLayer { window: *dw.layer(), pointwise: *pw.layer() };
        let writes = pw
            .writes()
            .iter()
            .map(|&(a, d)| (a | DSC_PW_STAGE, d))
            .chain(dw.writes().iter().copied())
            .collect();
        DscProgram { writes, dw, pw, layer, cols: cfg.pointwise().array().cols() }
    }

    /// `(address, data)` of every write, one per cycle.
    pub fn writes(&self) -> &[(u32, u32)] {
        &self.writes
    }

    /// The layer as the engine runs it (for [`dsc_model::engine::dsc_cycles`], or
    /// [`dsc_model::engine::conv_cycles`] for a [`Self::conv`] program).
    pub fn layer(&self) -> &DscLayer {
        &self.layer
    }

    /// Input beats: the depthwise engine's ([`DepthwiseProgram::input_beats`]).
    pub fn input_beats(&self, input: &Tensor<i8>) -> Result<Vec<(u128, bool)>, ModelError> {
        self.dw.input_beats(input)
    }

    /// Output beats back to the `[1, Ho, Wo, N]` tensor ([`PointwiseProgram::output_tensor`]).
    pub fn output_tensor(&self, beats: &[u128]) -> Result<Tensor<i8>, ModelError> {
        self.pw.output_tensor(beats)
    }

    /// Output beats the layer produces: `Ho·Wo·NT`.
    pub fn output_beats(&self) -> usize {
        self.layer.pointwise.pixels * self.layer.pointwise.n.div_ceil(self.cols)
    }
}
