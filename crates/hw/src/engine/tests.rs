//! Beside the block: generation-parameter checks and lint / iverilog / yosys on the Verilog.
//! Values and cycles are checked in Verilator (dsc-sim's `tests/engine.rs`).

use super::*;
use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
use dsc_model::engine_config::EngineConfig;
use dsc_model::pointwise::PointwiseConfig;
use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};

pub(crate) fn small_cfg() -> DscConfig {
    let e = EngineConfig::new(3, 2, 2, 3, 12, 12, 8).unwrap();
    let a = SystolicConfig::new(2, 3, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
    DscConfig::new(e, PointwiseConfig::new(a, 8, 8, 4).unwrap()).unwrap()
}

pub(crate) fn mobilenet_cfg() -> DscConfig {
    let e = EngineConfig::new(3, 8, 8, 8, 112, 112, 1024).unwrap();
    let a = SystolicConfig::new(8, 8, acc_bits_for_products(1024), 1024, Dataflow::WeightStationary).unwrap();
    DscConfig::new(e, PointwiseConfig::new(a, 1024, 1024, 64).unwrap()).unwrap()
}

#[test]
fn generics_must_fit_the_config() {
    assert!(SmallDscEngine::new(&small_cfg()).is_ok());
    assert!(MobileNetDscEngine::new(&mobilenet_cfg()).is_ok());
    let e = SmallDscEngine::new(&small_cfg().with_fifo_depth(32).unwrap()).err().unwrap();
    assert!(e.to_string().contains("does not fit"), "{e}");
    assert!(SmallDscEngine::new(&mobilenet_cfg()).is_err());
}

#[test]
fn model_constants_are_the_hardware_ones() {
    assert_eq!(1u64 << crate::depthwise::FIFO_ADDR_BITS, dsc_model::engine::DW_OUTPUT_FIFO_DEPTH);
    assert_eq!(small_cfg().fifo_depth(), 16);
}

#[test]
fn verilog_checks() {
    let v = verilog_of(&mut SmallDscEngine::new(&small_cfg()).unwrap());
    if require_tool("verilator") {
        lint(&v, "top").unwrap();
    }
    if require_tool("iverilog") {
        iverilog_compile(&v).unwrap();
    }
    if require_tool("yosys") {
        let s = yosys_stat(&v, "top", Target::Ecp5).unwrap();
        eprintln!("SmallDscEngine ECP5: {s}");
        assert_eq!(s.latches(), 0, "{s}");
    }
}
