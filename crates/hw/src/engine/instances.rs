//! The compiled [`DscEngine`] instantiations: one table, read by the type aliases here, by
//! dsc-sim (Verilator models) and by codegen (`rtl/dsc_engine.v`).
//!
//! rust-hdl fixes every bit width at compile time, so a config can only run on an
//! instantiation compiled in. Each row names the instantiation, says what it is for, gives its
//! generation parameters (`Dk, P = R, C, max_width, max_height, max_channels, max_m, max_n,
//! max_block, max_line_words, max_weights`; accumulators for `max_m` products) and the 22 widths [`widths`] derives from
//! them; a test checks the two agree. To support a new config, add one row (the widths are
//! in the error a missing one gives) and rebuild.

use super::{widths, DscEngine};
use dsc_model::engine::DscConfig;
use dsc_model::engine_config::EngineConfig;
use dsc_model::pointwise::PointwiseConfig;
use dsc_model::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};
use dsc_model::ModelError;
use rust_hdl::prelude::Block;

/// The table: `Name, "what for", [generation parameters] => [widths];`, one row each.
macro_rules! dsc_engine_table {
    ($mac:ident) => {
        $mac! {
            SmallDscEngine, "The Verilator sweep's engine: Dk 3, P = R 2, C 3, up to 12×12×8 → 8, blocks of ≤ 4.",
                [3, 2, 3, 12, 12, 8, 8, 8, 4, 48, 72] =>
                [16, 144, 6, 2, 4, 3, 19, 64, 12, 17, 19, 24, 57, 96, 18, 25, 5, 5, 2, 5, 2, 4];
            SmallConvDscEngine, "The conv-mode Verilator sweep's engine: SmallDscEngine with C 1, up to 32 output \
                channels and max_m 72 = G·Dk²·P, so every 3×3 convolution of up to 8 channels fits.",
                [3, 2, 1, 12, 12, 8, 72, 32, 4, 48, 2304] =>
                [16, 144, 6, 2, 4, 3, 19, 64, 12, 17, 22, 8, 22, 32, 6, 9, 9, 12, 2, 8, 5, 5];
            MobileNetDscEngine, "configs/mobilenet-v1.toml: MobileNet-v1 whole network, Dk 3, P = R = C = 8, \
                224×224×1024 (224 wide for conv0 in im2col mode), blocks of ≤ 64.",
                [3, 8, 8, 224, 224, 1024, 1024, 1024, 64, 28672, 1048576] =>
                [64, 576, 15, 7, 8, 3, 19, 256, 48, 65, 26, 64, 208, 256, 48, 65, 14, 17, 6, 14, 7, 13];
            DefaultDscEngine, "configs/default.toml: Dk 3, P = R = C = 4, 56×56×256, blocks of ≤ 32.",
                [3, 4, 4, 56, 56, 256, 256, 256, 32, 3584, 65536] =>
                [32, 288, 12, 6, 6, 3, 19, 128, 24, 33, 24, 32, 96, 128, 24, 33, 12, 14, 5, 12, 6, 10];
            Ice40DscEngine, "configs/ice40-up5k.toml: Dk 3, P = R = C = 1, 32×32×32, blocks of ≤ 16.",
                [3, 1, 1, 32, 32, 32, 32, 32, 16, 1024, 1024] =>
                [8, 72, 10, 5, 6, 3, 19, 32, 6, 9, 21, 8, 21, 32, 6, 9, 10, 10, 4, 10, 5, 8];
            SmallTiledDscEngine, "The N-tiling and line-word Verilator tests' engine: SmallDscEngine with max_n 12 \
                and a weight memory of 48 weights (8 tiles of 2×3: N ≤ 12 for M ≤ 4, N ≤ 6 for M ≤ 8; more runs in N tiles \
                on the host) and line buffers of 24 words (a row of W·G > 24 words is refused).",
                [3, 2, 3, 12, 12, 8, 8, 12, 4, 24, 48] =>
                [16, 144, 5, 2, 4, 3, 19, 64, 12, 17, 19, 24, 57, 96, 18, 25, 5, 4, 2, 5, 2, 4];
            Ecp5DscEngine, "configs/ecp5-85f.toml: MobileNet-v1 α = 1 at 224 on the ECP5-85F: Dk 3, P = R = C = 8, \
                224×224×1024, line buffers of 896 words (112·64/8), a pointwise weight memory of 128K weights (2048 tiles of 8×8: \
                N ≤ 512 at M = 256, 256 at 512, 128 at 1024; N tiles on the host), blocks of ≤ 16.",
                [3, 8, 8, 224, 224, 1024, 1024, 1024, 16, 896, 131072] =>
                [64, 576, 10, 7, 8, 3, 19, 256, 48, 65, 26, 64, 208, 256, 48, 65, 12, 14, 4, 12, 7, 11];
            IcebreakerDscEngine, "configs/icebreaker.toml: Dk 3, P = R = C = 1, 16×16×32, blocks of ≤ 16.",
                [3, 1, 1, 16, 16, 32, 32, 32, 16, 512, 1024] =>
                [8, 72, 9, 5, 5, 3, 19, 32, 6, 9, 21, 8, 21, 32, 6, 9, 10, 10, 4, 10, 5, 8];
        }
    };
}

/// One compiled instantiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    /// The type alias in [`crate::engine`].
    pub name: &'static str,
    pub about: &'static str,
    /// `Dk, P = R, C, max_width, max_height, max_channels, max_m, max_n, max_block,
    /// max_line_words, max_weights`.
    pub params: [usize; 11],
    /// The 22 const generics of [`DscEngine`].
    pub widths: [usize; 22],
}

impl Instance {
    /// The generation config of the row's parameters.
    pub fn config(&self) -> Result<DscConfig, ModelError> {
        let [dk, p, c, w, h, ch, max_m, max_n, block, line_words, max_weights] = self.params;
        let e = EngineConfig::new(dk, p, p, c, w, h, ch)?.with_max_line_words(line_words)?;
        let a = SystolicConfig::new(p, c, acc_bits_for_products(max_m as u64), max_m as u64, Dataflow::WeightStationary)?;
        DscConfig::new(e, PointwiseConfig::new(a, max_m, max_n, block)?.with_max_weights(max_weights)?)
    }
}

/// Why [`with_instance`] could not build an engine.
#[derive(thiserror::Error, Debug)]
pub enum InstanceError {
    /// The instantiation refused the config (its constructor's checks).
    #[error("DscEngine: {0}")]
    Config(#[from] ModelError),
    /// No compiled instantiation has the widths the config needs.
    #[error("no compiled DscEngine for this config: it needs widths {need:?}; built with {supported} (add a row to crates/hw/src/engine/instances.rs to support it)")]
    NoInstantiation { need: [usize; 22], supported: String },
}

/// What to do with the engine a config selects (generate its Verilog, build a simulation
/// model, …): the caller cannot name the type, whose widths are const generics, so
/// [`with_instance`] finds it and hands it over.
pub trait InstanceUser {
    type Output;
    fn run<B: Block>(self, name: &'static str, block: &mut B) -> Self::Output;
}

macro_rules! define {
    ($( $name:ident, $about:literal, [$($p:literal),+] => [$($g:literal),+]; )+) => {
        $(
            #[doc = $about]
            pub type $name = DscEngine<$($g),+>;
        )+

        /// Every compiled instantiation, in table order.
        pub const INSTANCES: &[Instance] = &[
            $( Instance { name: stringify!($name), about: $about, params: [$($p),+], widths: [$($g),+] } ),+
        ];

        /// Builds the instantiation whose widths `cfg` needs and passes it to `user`.
        pub fn with_instance<U: InstanceUser>(cfg: &DscConfig, user: U) -> Result<U::Output, InstanceError> {
            let need = widths(cfg);
            $(
                if need == [$($g),+] {
                    return Ok(user.run(stringify!($name), &mut $name::new(cfg)?));
                }
            )+
            let supported: Vec<String> = INSTANCES.iter().map(|i| format!("{:?} ({})", i.widths, i.name)).collect();
            Err(InstanceError::NoInstantiation { need, supported: supported.join(", ") })
        }
    };
}

dsc_engine_table!(define);

/// The Verilog of the instantiation `cfg` selects (top module `top`).
pub fn engine_verilog(cfg: &DscConfig) -> Result<String, InstanceError> {
    struct Verilog;
    impl InstanceUser for Verilog {
        type Output = String;
        fn run<B: Block>(self, _: &'static str, block: &mut B) -> String {
            crate::verify::verilog_of(block)
        }
    }
    with_instance(cfg, Verilog)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row's widths are the ones its parameters derive, and each builds.
    #[test]
    fn the_table_matches_its_configs() {
        for i in INSTANCES {
            let cfg = i.config().unwrap();
            assert_eq!(widths(&cfg), i.widths, "{}: {}", i.name, i.about);
            struct Name;
            impl InstanceUser for Name {
                type Output = &'static str;
                fn run<B: Block>(self, name: &'static str, _: &mut B) -> &'static str {
                    name
                }
            }
            assert_eq!(with_instance(&cfg, Name).unwrap(), i.name);
        }
        let names: std::collections::BTreeSet<_> = INSTANCES.iter().map(|i| i.widths).collect();
        assert_eq!(names.len(), INSTANCES.len(), "two rows with the same widths");
    }

    #[test]
    fn a_config_without_a_row_is_an_error_naming_its_widths() {
        let row = Instance { params: [3, 2, 2, 12, 12, 8, 8, 8, 4, 48, 64], ..INSTANCES[0] };
        let err = engine_verilog(&row.config().unwrap()).unwrap_err();
        assert!(matches!(err, InstanceError::NoInstantiation { .. }), "{err}");
        assert!(err.to_string().contains("needs widths [16, 144"), "{err}");
    }
}
