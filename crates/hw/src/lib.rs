//! Hardware blocks of dscgen in rust-hdl, one block per module.

pub mod board;
pub mod depthwise;
pub mod engine;
pub mod pe;
pub mod pointwise;
pub mod primitives;
pub mod requant;
pub mod stream;
pub mod systolic;
pub mod verify;
pub mod window;
