//! Beside the block: generation-parameter checks and lint / iverilog / yosys on the Verilog.
//! Values and cycles are checked in Verilator (dsc-sim's `tests/engine.rs`).

use super::*;
use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
use dsc_model::engine_config::EngineConfig;
use dsc_model::synthetic::ConvLayer;
use dsc_model::pointwise::PointwiseConfig;
use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};

pub(crate) fn small_cfg() -> DscConfig {
    let e = EngineConfig::new(3, 2, 2, 3, 12, 12, 8).unwrap();
    let a = SystolicConfig::new(2, 3, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
    DscConfig::new(e, PointwiseConfig::new(a, 8, 8, 4).unwrap()).unwrap()
}

pub(crate) fn mobilenet_cfg() -> DscConfig {
    let e = EngineConfig::new(3, 8, 8, 8, 224, 224, 1024).unwrap();
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

/// The conv-mode test engine: the small engine with `C = 1`, `max_n = 32` and a pointwise
/// `max_m` of 72 = `G·Dk²·P` for every conv layer of up to 8 channels.
pub(crate) fn conv_cfg() -> DscConfig {
    let e = EngineConfig::new(3, 2, 2, 1, 12, 12, 8).unwrap();
    let a = SystolicConfig::new(2, 1, acc_bits_for_products(72), 72, Dataflow::WeightStationary).unwrap();
    DscConfig::new(e, PointwiseConfig::new(a, 72, 32, 4).unwrap()).unwrap()
}

#[test]
fn conv_engine_generics_fit() {
    assert!(SmallConvDscEngine::new(&conv_cfg()).is_ok());
    assert!(SmallConvDscEngine::new(&small_cfg()).is_err());
}

fn conv_layer(n: usize, dk: usize, m: usize) -> ConvLayer {
    let rq = dsc_model::RequantParams::new(vec![0; n], vec![1 << 30; n], vec![0; n], 0, -128, 127).unwrap();
    ConvLayer { in_zp: 3, stride: 1, weights: dsc_model::Tensor::zeros([n, dk, dk, m]).unwrap(), requant: rq }
}

/// Conv mode: the pointwise stage's writes (stage 1) then the im2col writes, START last; the
/// layer is the model's conv geometry; bad layers are errors naming the cause.
#[test]
fn conv_program_writes_and_refusals() {
    let cfg = conv_cfg();
    let prog = DscProgram::conv(&cfg, &conv_layer(5, 3, 3), [1, 6, 7, 3]).unwrap();
    assert_eq!(*prog.layer(), cfg.conv_layer(6, 7, 3, 5, 1).unwrap());
    assert_eq!(prog.layer().pointwise.m, 2 * 9 * 2);
    let w = prog.writes();
    let n_pw = w.iter().take_while(|(a, _)| a >> 28 == 1).count();
    assert_eq!(w.len() - n_pw, dsc_model::im2col::IM2COL_CONFIG_WRITES as usize);
    assert_eq!(w.len() as u64, dsc_model::engine::conv_config_writes(&cfg, prog.layer()));
    assert_eq!(w.last(), Some(&(crate::depthwise::CFG_START, 0)));
    assert_eq!(prog.output_beats(), 6 * 7 * 5);
    let err = |cfg: &DscConfig, l: &ConvLayer, shape| DscProgram::conv(cfg, l, shape).unwrap_err().to_string();
    let e = err(&small_cfg(), &conv_layer(5, 3, 3), [1, 6, 7, 3]);
    assert!(e.contains("max_m ≥ 36"), "{e}");
    let e = err(&cfg, &conv_layer(5, 5, 3), [1, 6, 7, 3]);
    assert!(e.contains("5×5 kernel"), "{e}");
    let e = err(&cfg, &conv_layer(5, 3, 3), [1, 6, 7, 4]);
    assert!(e.contains("4 channels, the weights 3"), "{e}");
    assert!(DscProgram::conv(&cfg, &conv_layer(33, 3, 3), [1, 6, 7, 3]).is_err());
    assert!(DscProgram::conv(&cfg, &conv_layer(5, 3, 3), [2, 6, 7, 3]).is_err());
    assert!(DscProgram::conv(&cfg, &conv_layer(5, 3, 3), [1, 13, 7, 3]).is_err());
    assert!(DscProgram::conv(&cfg, &conv_layer(5, 3, 9), [1, 6, 7, 9]).is_err());
    let mut bad_rq = conv_layer(5, 3, 3);
    bad_rq.requant = conv_layer(4, 3, 3).requant;
    assert!(DscProgram::conv(&cfg, &bad_rq, [1, 6, 7, 3]).is_err());
    let mut bad_zp = conv_layer(5, 3, 3);
    bad_zp.in_zp = 200;
    assert!(DscProgram::conv(&cfg, &bad_zp, [1, 6, 7, 3]).is_err());
}
