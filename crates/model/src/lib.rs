//! `dsc-model`: the golden model of dscgen — the specification every hardware block is checked
//! against.
//!
//! * numerics exactly as TensorFlow Lite's int8 *reference* kernels ([`requant`], [`padding`]);
//! * the operations: standard, depthwise and pointwise convolution and the DSC block
//!   ([`conv`], [`depthwise`](mod@depthwise), [`pointwise`](mod@pointwise), [`dsc`]), BN folding ([`bn`]);
//! * the analytic cost model and the network descriptions ([`cost`], [`network`]).
//!
//! This crate depends on no other crate of the workspace.

pub mod error;
pub mod padding;
pub mod requant;
pub mod tensor;
pub mod conv;
pub mod depthwise;
pub mod pointwise;
pub mod dsc;
pub mod bn;
pub mod cost;
pub mod network;
pub mod window;
pub mod wide_window;
pub mod engine_config;
pub mod systolic;
pub mod synthetic;
pub mod im2col;
pub mod engine;
pub mod n_tiles;

pub use error::ModelError;
pub use requant::{Clamp, RequantParams};
pub use tensor::Tensor;
pub use conv::{conv2d, conv2d_acc};
pub use depthwise::{depthwise, depthwise_acc};
pub use pointwise::{pointwise, pointwise_acc};
pub use dsc::DscBlock;
pub use bn::{BatchNorm, FloatLayer, LayerKind, QuantizedLayer};
