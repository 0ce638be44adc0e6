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

impl ModelError {
    /// The same kind of error with `what` in front of its message (where it happened).
    pub fn context(self, what: &str) -> Self {
        match self {
            Self::InvalidParameter(s) => Self::InvalidParameter(format!("{what}: {s}")),
            Self::Shape(s) => Self::Shape(format!("{what}: {s}")),
            Self::Quantization(s) => Self::Quantization(format!("{what}: {s}")),
        }
    }
}

/// Result with [`ModelError`].
pub type Result<T> = std::result::Result<T, ModelError>;
