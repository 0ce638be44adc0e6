//! The systolic array's generation parameters and the processing element's reference model.
//!
//! Dataflow of one PE (the same for output- and weight-stationary arrays, so one PE serves
//! both): the activation and its control flags (`valid`, `first`, `shift`, `load`) move one
//! PE to the right per cycle, the weight moves one PE down, the partial sum moves one PE
//! down — every hop through a register, nothing broadcast.
//!
//! * **Output-stationary**: the accumulator stays; `psum ← (first ? 0 : psum) + a·w` with
//!   the streamed weight. To drain, `shift` makes the PE take `psum_in` from above, so a
//!   column shifts its results down one PE per cycle.
//! * **Weight-stationary**: `load` captures the passing weight into a held register;
//!   `psum ← psum_in + a·w_held` accumulates down the column.
//!
//! The accumulator is a two's-complement register of `acc_bits` bits: sums wrap there, and
//! [`SystolicConfig::new`] refuses a width that could wrap for `max_k` products.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// Largest product of two int8 in magnitude: (−128)·(−128).
pub const INT8_PRODUCT_MAX: u64 = 128 * 128;

/// Widest accumulator the model (i64) and the hardware generator support.
pub const MAX_ACC_BITS: usize = 64;

/// Smallest signed width that holds every sum of `k` int8×int8 products.
///
/// The sums lie in `[−16256·k, 16384·k]`; the positive end needs `2^(b−1) − 1 ≥ 16384·k`,
/// i.e. the unsigned width of `16384·k` plus a sign bit. (`ceil(log2(16384·k)) + 1` is one
/// short whenever `k` is a power of two: 16384 itself needs 16 signed bits, not 15.)
pub fn acc_bits_for_products(k: u64) -> usize {
    let max = k as u128 * INT8_PRODUCT_MAX as u128;
    (u128::BITS - max.leading_zeros()) as usize + 1
}

/// How the array keeps operands: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataflow {
    OutputStationary,
    WeightStationary,
}

/// Generation-time parameters of the systolic array and its PEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSystolicConfig")]
pub struct SystolicConfig {
    rows: usize,
    cols: usize,
    acc_bits: usize,
    max_k: u64,
    dataflow: Dataflow,
}

/// The unvalidated form serde reads; converted through [`SystolicConfig::new`].
#[derive(Debug, Clone, Copy, Deserialize)]
struct RawSystolicConfig {
    rows: usize,
    cols: usize,
    acc_bits: usize,
    max_k: u64,
    dataflow: Dataflow,
}

impl TryFrom<RawSystolicConfig> for SystolicConfig {
    type Error = ModelError;
    fn try_from(r: RawSystolicConfig) -> Result<Self> {
        SystolicConfig::new(r.rows, r.cols, r.acc_bits, r.max_k, r.dataflow)
    }
}

fn invalid(msg: String) -> ModelError {
    ModelError::InvalidParameter(msg)
}

impl SystolicConfig {
    /// An `rows × cols` array whose accumulators of `acc_bits` bits must hold any sum of up
    /// to `max_k` int8 products (`M` for pointwise, `Dk²·M` for standard convolution).
    ///
    /// Errors: zero rows, columns or `max_k`; `acc_bits` above [`MAX_ACC_BITS`]; `acc_bits`
    /// below [`acc_bits_for_products`]`(max_k)`.
    pub fn new(
        rows: usize,
        cols: usize,
        acc_bits: usize,
        max_k: u64,
        dataflow: Dataflow,
    ) -> Result<Self> {
        if rows == 0 || cols == 0 {
            return Err(invalid(format!(
                "systolic array must have at least one row and column, got {rows}×{cols}"
            )));
        }
        if max_k == 0 {
            return Err(invalid(
                "max_k (products per sum) must be at least 1".into(),
            ));
        }
        if acc_bits > MAX_ACC_BITS {
            return Err(invalid(format!(
                "accumulator of {acc_bits} bits exceeds the maximum {MAX_ACC_BITS}"
            )));
        }
        let need = acc_bits_for_products(max_k);
        if acc_bits < need {
            return Err(invalid(format!(
                "accumulator of {acc_bits} bits is too narrow for {max_k} int8 products: \
                 sums reach ±{}·{max_k} and need {need} signed bits",
                INT8_PRODUCT_MAX
            )));
        }
        Ok(Self {
            rows,
            cols,
            acc_bits,
            max_k,
            dataflow,
        })
    }
    /// Rows `R`.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Columns `C`.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Accumulator width in bits.
    pub fn acc_bits(&self) -> usize {
        self.acc_bits
    }
    /// Most products one accumulator must sum without wrapping.
    pub fn max_k(&self) -> u64 {
        self.max_k
    }
    /// Output- or weight-stationary.
    pub fn dataflow(&self) -> Dataflow {
        self.dataflow
    }
}

/// `x` wrapped to a two's-complement register of `bits` bits (1..=64).
pub fn wrap_to(x: i64, bits: usize) -> i64 {
    if bits >= 64 {
        x
    } else {
        let shift = 64 - bits as u32;
        (x << shift) >> shift
    }
}

/// The reference MAC: `acc + a·w` in an `acc_bits`-bit accumulator.
pub fn mac(acc: i64, a: i8, w: i8, acc_bits: usize) -> i64 {
    wrap_to(acc.wrapping_add(a as i64 * w as i64), acc_bits)
}

/// What a PE sees in one cycle: from the left (`a` and the flags), from above (`w`, `psum`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeInputs {
    pub a: i8,
    pub valid: bool,
    /// Output-stationary: start a new sum with this product.
    pub first: bool,
    /// Output-stationary drain: take `psum` from above instead of accumulating.
    pub shift: bool,
    /// Weight-stationary: capture `w` into the held weight.
    pub load: bool,
    pub w: i8,
    pub psum: i64,
}

/// A PE's registers, i.e. what it drives to the right (`a` and flags) and down (`w`, `psum`).
pub type PeOutputs = PeInputs;

/// Cycle-level model of one PE.
#[derive(Debug, Clone)]
pub struct PeModel {
    acc_bits: usize,
    dataflow: Dataflow,
    regs: PeOutputs,
    w_held: i8,
}

impl PeModel {
    /// A PE of `cfg`, all registers zero (the hardware's power-up state).
    pub fn new(cfg: &SystolicConfig) -> Self {
        Self {
            acc_bits: cfg.acc_bits,
            dataflow: cfg.dataflow,
            regs: PeOutputs::default(),
            w_held: 0,
        }
    }
    /// Register outputs in the current cycle.
    pub fn outputs(&self) -> PeOutputs {
        self.regs
    }
    /// The held weight (weight-stationary).
    pub fn held_weight(&self) -> i8 {
        self.w_held
    }
    /// One clock edge. The product uses the weight held *before* this edge's `load`.
    pub fn step(&mut self, i: &PeInputs) {
        let (w, base) = match self.dataflow {
            Dataflow::OutputStationary => (i.w, if i.first { 0 } else { self.regs.psum }),
            Dataflow::WeightStationary => (self.w_held, i.psum),
        };
        let psum = if i.shift {
            wrap_to(i.psum, self.acc_bits)
        } else if i.valid {
            mac(base, i.a, w, self.acc_bits)
        } else {
            wrap_to(base, self.acc_bits)
        };
        if i.load {
            self.w_held = i.w;
        }
        self.regs = PeOutputs { psum, ..*i };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Whether `x` fits a signed register of `bits` bits.
    fn fits(x: i128, bits: usize) -> bool {
        let lim = 1i128 << (bits - 1);
        (-lim..lim).contains(&x)
    }

    #[test]
    fn acc_bound_is_tight_for_extreme_sums() {
        for k in (1..=4100u64).chain([1 << 20, 3 << 20, (1 << 40) + 1, 1 << 48]) {
            let b = acc_bits_for_products(k);
            let top = k as i128 * 128 * 128; // k·(−128)·(−128)
            let bottom = k as i128 * -128 * 127; // k·(−128)·127
            assert!(fits(top, b) && fits(bottom, b), "k={k} b={b}");
            assert!(!fits(top, b - 1), "k={k}: {b} bits is not minimal");
        }
    }

    #[test]
    fn bound_at_powers_of_two_needs_the_extra_bit() {
        // One product of (−128)·(−128) = 2^14 needs 16 signed bits.
        assert_eq!(acc_bits_for_products(1), 16);
        assert!(!fits(16384, 15));
    }

    #[test]
    fn bad_configs_are_errors() {
        let os = Dataflow::OutputStationary;
        assert!(SystolicConfig::new(0, 4, 32, 64, os).is_err());
        assert!(SystolicConfig::new(4, 0, 32, 64, os).is_err());
        assert!(SystolicConfig::new(4, 4, 32, 0, os).is_err());
        assert!(SystolicConfig::new(4, 4, 65, 64, os).is_err());
        let k = 1024;
        let need = acc_bits_for_products(k);
        let e = SystolicConfig::new(4, 4, need - 1, k, os).unwrap_err();
        assert!(e.to_string().contains("too narrow"), "{e}");
        assert!(SystolicConfig::new(4, 4, need, k, os).is_ok());
        assert!(SystolicConfig::new(4, 4, 64, 1 << 40, Dataflow::WeightStationary).is_ok());
    }

    #[test]
    fn deserialising_goes_through_the_checks() {
        let raw = |acc_bits| RawSystolicConfig {
            rows: 2,
            cols: 3,
            acc_bits,
            max_k: 9,
            dataflow: Dataflow::WeightStationary,
        };
        let c = SystolicConfig::try_from(raw(20)).unwrap();
        assert_eq!((c.rows(), c.cols(), c.acc_bits(), c.max_k()), (2, 3, 20, 9));
        assert!(SystolicConfig::try_from(raw(16)).is_err());
    }

    #[test]
    fn output_stationary_pe_sums_a_dot_product() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let k = 300u64;
        let cfg = SystolicConfig::new(
            1,
            1,
            acc_bits_for_products(k),
            k,
            Dataflow::OutputStationary,
        )
        .unwrap();
        let mut pe = PeModel::new(&cfg);
        let mut sum = 0i64;
        for n in 0..k {
            let (a, w) = (rng.gen::<i8>(), rng.gen::<i8>());
            sum += a as i64 * w as i64;
            pe.step(&PeInputs {
                a,
                w,
                valid: true,
                first: n == 0,
                ..Default::default()
            });
        }
        assert_eq!(pe.outputs().psum, sum);
        // Extremes: k products of (−128)·(−128) reach the bound without wrapping.
        let mut pe = PeModel::new(&cfg);
        for n in 0..k {
            pe.step(&PeInputs {
                a: -128,
                w: -128,
                valid: true,
                first: n == 0,
                ..Default::default()
            });
        }
        assert_eq!(pe.outputs().psum, k as i64 * 16384);
    }

    #[test]
    fn weight_stationary_pe_adds_to_the_sum_from_above() {
        let cfg = SystolicConfig::new(1, 1, 24, 2, Dataflow::WeightStationary).unwrap();
        let mut pe = PeModel::new(&cfg);
        pe.step(&PeInputs {
            w: -128,
            load: true,
            ..Default::default()
        });
        assert_eq!(pe.held_weight(), -128);
        pe.step(&PeInputs {
            a: 127,
            valid: true,
            psum: 1000,
            w: 5,
            ..Default::default()
        });
        assert_eq!(pe.outputs().psum, 1000 + 127 * -128);
        assert_eq!(pe.outputs().w, 5, "weight passes down");
    }

    #[test]
    fn wrap_matches_twos_complement() {
        assert_eq!(wrap_to(1 << 15, 16), -(1 << 15));
        assert_eq!(wrap_to(-1, 16), -1);
        assert_eq!(wrap_to(i64::MIN, 64), i64::MIN);
        assert_eq!(mac(32767, 1, 1, 16), -32768);
    }
}

// ------------------------------------------------------------------------------------------
// Weight-stationary array (dsc_hw::systolic::SystolicArray): the values it must produce.
// The pointwise stage's cycle model lives in `crate::pointwise` (section "Cycle model").
// ------------------------------------------------------------------------------------------

/// Column sums of a weight-stationary `R × C` tile: `out[c] = Σ_r w[r·C + c]·x[r]` folded
/// with [`mac`] in an `acc_bits` register (what the bottom of column `c` delivers).
pub fn ws_column_sums(weights: &[i8], x: &[i8], cols: usize, acc_bits: usize) -> Vec<i64> {
    (0..cols)
        .map(|c| {
            x.iter()
                .enumerate()
                .fold(0, |acc, (r, &a)| mac(acc, a, weights[r * cols + c], acc_bits))
        })
        .collect()
}

/// Cycles from a pixel entering the weight-stationary array to its column sums leaving it:
/// one input register, the operand and product registers of the cells (a DSP block's own),
/// `R` rows down, `C − 1` cycles of deskew so every column's sum leaves together, one output
/// register: `R + C + 3`.
pub fn ws_array_latency(cfg: &SystolicConfig) -> usize {
    cfg.rows + cfg.cols + 3
}

#[cfg(test)]
mod ws_tests {
    use super::*;

    #[test]
    fn column_sums_are_dot_products() {
        // 2×3 tile: w[r][c] = r·3 + c + 1.
        let w = [1, 2, 3, 4, 5, 6];
        assert_eq!(ws_column_sums(&w, &[10, -1], 3, 32), vec![6, 15, 24]);
        // Extremes at the width bound of 2 products.
        let b = acc_bits_for_products(2);
        assert_eq!(ws_column_sums(&[-128, -128], &[-128, -128], 1, b), vec![32768]);
    }

    #[test]
    fn latency_is_rows_plus_cols_plus_three() {
        let c = SystolicConfig::new(8, 8, 26, 1024, Dataflow::WeightStationary).unwrap();
        assert_eq!(ws_array_latency(&c), 19);
    }
}
