//! The one error type of the model crate: every bad input is reported, never a panic.

use thiserror::Error;

/// What went wrong, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    /// A size, kernel, stride or other parameter that cannot describe a layer.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A tensor whose shape does not fit the operation.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A quantization parameter outside what TFLite's int8 kernels accept.
    #[error("invalid quantization: {0}")]
    Quantization(String),
}

/// Result with [`ModelError`].
pub type Result<T> = std::result::Result<T, ModelError>;
