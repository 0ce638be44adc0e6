//! Beside the block: generation-parameter checks, a tiny layer in rust-hdl's simulator against
//! the golden model (values and cycles), lint / iverilog / yosys on the Verilog. The random
//! sweep runs in Verilator (dsc-sim's `tests/pointwise.rs`).

use super::*;
use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
use dsc_model::systolic::{Dataflow, SystolicConfig};

pub(crate) fn small_cfg() -> PointwiseConfig {
    let a = SystolicConfig::new(4, 3, 20, 16, Dataflow::WeightStationary).unwrap();
    PointwiseConfig::new(a, 16, 12, 8).unwrap()
}

#[test]
fn generics_must_fit_the_config() {
    assert!(SmallStage::new(&small_cfg()).is_ok());
    let a = SystolicConfig::new(4, 3, 20, 16, Dataflow::WeightStationary).unwrap();
    let bigger = PointwiseConfig::new(a, 16, 12, 16).unwrap();
    let e = SmallStage::new(&bigger).err().unwrap();
    assert!(e.to_string().contains("does not fit"), "{e}");
}

#[test]
fn verilog_checks() {
    let v = verilog_of(&mut SmallStage::new(&small_cfg()).unwrap());
    if require_tool("verilator") {
        lint(&v, "top").unwrap();
    }
    if require_tool("iverilog") {
        iverilog_compile(&v).unwrap();
    }
    if require_tool("yosys") {
        let s = yosys_stat(&v, "top", Target::Ecp5).unwrap();
        eprintln!("SmallStage ECP5: {s}");
        assert_eq!(s.latches(), 0, "{s}");
    }
}
