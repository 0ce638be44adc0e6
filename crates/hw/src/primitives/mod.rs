//! The primitives layer: the few blocks whose Verilog is written by hand.
//!
//! rust-hdl 0.46 cannot multiply below 16 bits, recurses forever on `signed_bit_cast(-128)`
//! and adds read-during-write logic to its own RAM. These primitives have a Rust model that
//! works on raw bits (right for −128) and custom Verilog that yosys maps to one DSP or one
//! block RAM, so no other file of the crate has to work around those defects.
//!
//! Custom-Verilog ports come out as `output reg`, so combinational bodies assign in
//! `always @(*)`.

mod ecp5_dsp;
mod mul32x32;
mod mul8x8;
mod reg_mul8x8;
mod row_cut;
mod product_fits;
mod sdp_ram;
mod sign_extend;
mod widen;

pub use ecp5_dsp::{ECP5_DSP_DEFINE, MULT18X18D_MODEL};
pub use mul32x32::Mul32x32;
pub use mul8x8::Mul8x8;
pub use reg_mul8x8::RegMul8x8;
pub use row_cut::RowCut;
pub use product_fits::ProductFits;
pub use sdp_ram::SdpRam;
pub use sign_extend::SignExtend8To16;
pub use widen::Widen;

use rust_hdl::prelude::{Bits, Signed, Synth};

/// A 16-bit word type a primitive can drive: `Bits<16>` or `Signed<16>`.
///
/// Lets one primitive serve callers that want the result signed (arithmetic) or as raw bits
/// (packing into buses) without a cast in the caller.
pub trait Word16: Synth {
    /// The word whose two's-complement bit pattern is `raw`.
    fn from_raw(raw: u16) -> Self;
    /// The word's bit pattern.
    fn raw(self) -> u16;
}

impl Word16 for Bits<16> {
    fn from_raw(raw: u16) -> Self {
        Bits::from(raw as u64)
    }
    fn raw(self) -> u16 {
        self.to_u16()
    }
}

impl Word16 for Signed<16> {
    fn from_raw(raw: u16) -> Self {
        // Through raw bits: `Signed::from(i64)` and negation are fine, but this keeps −32768
        // away from any sign-dependent path of rust-hdl.
        rust_hdl::prelude::signed_cast(Bits::<16>::from(raw as u64))
    }
    fn raw(self) -> u16 {
        self.inner().to_u16()
    }
}

/// The int8 value of a byte's bit pattern.
pub fn as_i8(x: Bits<8>) -> i8 {
    x.to_u8() as i8
}

/// The byte pattern of an int8 value.
pub fn i8_bits(x: i8) -> Bits<8> {
    Bits::from(x as u8 as u64)
}
