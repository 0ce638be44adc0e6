//! Analytic cost model: multiplications and weight counts per layer (DESIGN.md §1).
//!
//! Counts are multiplications (= multiply-adds), with `DF` the *output* spatial size (for stride
//! 2 the formulas of the paper assume stride 1, so the output size is what they need):
//!
//! | kind | MACs | params (weights only) |
//! |---|---|---|
//! | `conv` | `Dk²·M·N·DF²` | `Dk²·M·N` |
//! | `dw` | `Dk²·M·DF²` | `Dk²·M` |
//! | `pw` | `M·N·DF²` | `M·N` |
//! | `fc` | `M·N` | `M·N` |
//!
//! A DSC block is a [`DscBlock`]: a `dw` layer (which carries the block's stride) followed by a
//! `pw` layer at the output size. In a [`CostReport`] it becomes two rows, `dw` then `pw`; the
//! comparison with the standard convolution it replaces (`macs_standard`, `reduction`,
//! `reduction_formula`) belongs to the *pair* and is reported once, on the `pw` row, which
//! completes the block. The `dw` row and the `conv` / `fc` rows carry `None` there, so summing
//! `macs_standard` over the rows never counts a block twice.

use serde::Serialize;

use crate::error::{ModelError, Result};
use crate::padding::same_padding;

/// What a layer computes; decides which cost formula applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    /// Standard (full) convolution.
    Conv,
    /// Depthwise convolution, depth multiplier 1 (`N = M`).
    Dw,
    /// Pointwise (1×1) convolution.
    Pw,
    /// Fully connected layer on a 1×1 map.
    Fc,
}

impl LayerKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [LayerKind; 4] = [LayerKind::Conv, LayerKind::Dw, LayerKind::Pw, LayerKind::Fc];

    /// The lowercase name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerKind::Conv => "conv",
            LayerKind::Dw => "dw",
            LayerKind::Pw => "pw",
            LayerKind::Fc => "fc",
        }
    }
}

impl std::fmt::Display for LayerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One layer's shape. Only valid shapes exist: the constructor checks every field, so the cost
/// methods cannot fail or overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerShape {
    kind: LayerKind,
    dk: usize,
    stride: usize,
    df_in: usize,
    df_out: usize,
    m: usize,
    n: usize,
}

fn checked_product(factors: &[usize]) -> Option<u64> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(u64::try_from(f).ok()?))
}

impl LayerShape {
    /// A layer of `kind` with kernel `dk`, `stride`, square input `df_in`, `m` input and `n`
    /// output channels. Rejects zero sizes, an even kernel, a stride other than 1 or 2, a
    /// depthwise layer with `n != m`, a `pw`/`fc` layer whose kernel is not 1 or whose stride is
    /// not 1, an `fc` layer on a map larger than 1×1, and shapes whose counts overflow 64 bits.
    pub fn new(
        kind: LayerKind,
        dk: usize,
        stride: usize,
        df_in: usize,
        m: usize,
        n: usize,
    ) -> Result<Self> {
        let bad = |msg: String| Err(ModelError::InvalidParameter(format!("{kind} layer: {msg}")));
        if dk == 0 {
            return bad("kernel size dk must be at least 1, got 0".into());
        }
        if dk.is_multiple_of(2) {
            return bad(format!("kernel size dk must be odd, got {dk}"));
        }
        if stride != 1 && stride != 2 {
            return bad(format!("stride must be 1 or 2, got {stride}"));
        }
        if df_in == 0 {
            return bad("input size df must be at least 1, got 0".into());
        }
        if m == 0 {
            return bad("input channels m must be at least 1, got 0".into());
        }
        if n == 0 {
            return bad("output channels n must be at least 1, got 0".into());
        }
        match kind {
            LayerKind::Conv => {}
            LayerKind::Dw if n != m => {
                return bad(format!(
                    "depthwise needs n == m (depth multiplier 1), got m={m}, n={n}"
                ))
            }
            LayerKind::Dw => {}
            LayerKind::Pw | LayerKind::Fc if dk != 1 => {
                return bad(format!("kernel size dk must be 1, got {dk}"))
            }
            LayerKind::Pw | LayerKind::Fc if stride != 1 => {
                return bad(format!("stride must be 1, got {stride}"))
            }
            LayerKind::Fc if df_in != 1 => {
                return bad(format!(
                    "input must be a 1x1 map (pool first), got df={df_in}"
                ))
            }
            LayerKind::Pw | LayerKind::Fc => {}
        }
        let df_out = same_padding(df_in, dk, stride)?.out;
        // The standard-conv count bounds every other count of this shape.
        if checked_product(&[dk, dk, m, n, df_out, df_out]).is_none() {
            return bad(format!(
                "counts overflow 64 bits (dk={dk}, df={df_in}, m={m}, n={n})"
            ));
        }
        Ok(LayerShape {
            kind,
            dk,
            stride,
            df_in,
            df_out,
            m,
            n,
        })
    }

    /// Standard convolution `dk×dk`, `m → n`.
    pub fn conv(dk: usize, stride: usize, df_in: usize, m: usize, n: usize) -> Result<Self> {
        Self::new(LayerKind::Conv, dk, stride, df_in, m, n)
    }

    /// Depthwise convolution `dk×dk` over `m` channels.
    pub fn depthwise(dk: usize, stride: usize, df_in: usize, m: usize) -> Result<Self> {
        Self::new(LayerKind::Dw, dk, stride, df_in, m, m)
    }

    /// Pointwise convolution `m → n` at spatial size `df`.
    pub fn pointwise(df: usize, m: usize, n: usize) -> Result<Self> {
        Self::new(LayerKind::Pw, 1, 1, df, m, n)
    }

    /// Fully connected layer `m → n` (on a 1×1 map).
    pub fn fc(m: usize, n: usize) -> Result<Self> {
        Self::new(LayerKind::Fc, 1, 1, 1, m, n)
    }

    /// The layer's kind.
    pub fn kind(&self) -> LayerKind {
        self.kind
    }
    /// Kernel size `Dk`.
    pub fn dk(&self) -> usize {
        self.dk
    }
    /// Stride (1 or 2).
    pub fn stride(&self) -> usize {
        self.stride
    }
    /// Input spatial size.
    pub fn df_in(&self) -> usize {
        self.df_in
    }
    /// Output spatial size under TF SAME padding: the `DF` of the formulas.
    pub fn df_out(&self) -> usize {
        self.df_out
    }
    /// Input channels `M`.
    pub fn m(&self) -> usize {
        self.m
    }
    /// Output channels `N`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Multiplications of this layer by the formula of its kind (see the module table).
    pub fn macs(&self) -> u64 {
        let (dk, m, n, df) = (self.dk, self.m, self.n, self.df_out);
        let p = match self.kind {
            LayerKind::Conv => checked_product(&[dk, dk, m, n, df, df]),
            LayerKind::Dw => checked_product(&[dk, dk, m, df, df]),
            LayerKind::Pw => checked_product(&[m, n, df, df]),
            LayerKind::Fc => checked_product(&[m, n]),
        };
        p.expect("bounded by the constructor's overflow check")
    }

    /// Weights of this layer (no bias, no BN).
    pub fn params(&self) -> u64 {
        let (dk, m, n) = (self.dk, self.m, self.n);
        let p = match self.kind {
            LayerKind::Conv => checked_product(&[dk, dk, m, n]),
            LayerKind::Dw => checked_product(&[dk, dk, m]),
            LayerKind::Pw | LayerKind::Fc => checked_product(&[m, n]),
        };
        p.expect("bounded by the constructor's overflow check")
    }
}

/// A depthwise separable block: `dw` (kernel, stride, `M` channels) then `pw` (`M → N`) at the
/// dw's output size. It is compared with the standard convolution `Dk×Dk`, `M → N`, with the same
/// stride, that it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DscBlock {
    dw: LayerShape,
    pw: LayerShape,
    standard: LayerShape,
}

impl DscBlock {
    /// The block `dk×dk` depthwise at `stride` on a `df_in` map of `m` channels, then `m → n`.
    pub fn new(dk: usize, stride: usize, df_in: usize, m: usize, n: usize) -> Result<Self> {
        let dw = LayerShape::depthwise(dk, stride, df_in, m)?;
        let pw = LayerShape::pointwise(dw.df_out(), m, n)?;
        let standard = LayerShape::conv(dk, stride, df_in, m, n)?;
        if dw.macs().checked_add(pw.macs()).is_none() {
            return Err(ModelError::InvalidParameter(format!(
                "DSC block: counts overflow 64 bits (dk={dk}, df={df_in}, m={m}, n={n})"
            )));
        }
        Ok(DscBlock { dw, pw, standard })
    }

    /// The depthwise layer.
    pub fn dw(&self) -> &LayerShape {
        &self.dw
    }
    /// The pointwise layer.
    pub fn pw(&self) -> &LayerShape {
        &self.pw
    }
    /// `C_dw + C_pw`.
    pub fn macs(&self) -> u64 {
        self.dw.macs() + self.pw.macs()
    }
    /// `C_conv = Dk²·M·N·DF²` of the standard convolution the block replaces.
    pub fn macs_standard(&self) -> u64 {
        self.standard.macs()
    }
    /// Measured reduction `(C_dw + C_pw) / C_conv`.
    pub fn reduction(&self) -> f64 {
        self.macs() as f64 / self.macs_standard() as f64
    }
    /// The paper's closed form `1/N + 1/Dk²` (equation 4), to set beside [`Self::reduction`].
    pub fn reduction_formula(&self) -> f64 {
        1.0 / self.pw.n() as f64 + 1.0 / (self.dw.dk() * self.dw.dk()) as f64
    }
}

/// One element of a network description: a single layer or a DSC pair, with a name.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// A `conv` or `fc` layer (or any single layer).
    Layer {
        /// Row name in reports.
        name: String,
        /// Its shape.
        shape: LayerShape,
    },
    /// A DSC block; two rows in a report (see [`CostReport::new`]).
    Dsc {
        /// Names of the dw and pw rows.
        names: (String, String),
        /// The pair.
        block: DscBlock,
    },
}

/// One row of a cost report (one layer). Field names are the stable JSON schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostRow {
    pub name: String,
    pub kind: LayerKind,
    pub dk: usize,
    pub stride: usize,
    pub df_in: usize,
    pub df_out: usize,
    pub m: usize,
    pub n: usize,
    pub macs: u64,
    pub params: u64,
    /// `C_conv` of the DSC pair; on the pair's `pw` row only, `None` elsewhere.
    pub macs_standard: Option<u64>,
    /// `(C_dw + C_pw) / C_conv` of the DSC pair; on the `pw` row only.
    pub reduction: Option<f64>,
    /// `1/N + 1/Dk²` of the DSC pair; on the `pw` row only.
    pub reduction_formula: Option<f64>,
}

impl CostRow {
    fn plain(name: &str, s: &LayerShape) -> Self {
        CostRow {
            name: name.to_string(),
            kind: s.kind(),
            dk: s.dk(),
            stride: s.stride(),
            df_in: s.df_in(),
            df_out: s.df_out(),
            m: s.m(),
            n: s.n(),
            macs: s.macs(),
            params: s.params(),
            macs_standard: None,
            reduction: None,
            reduction_formula: None,
        }
    }
}

/// MACs and weights summed over some rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub macs: u64,
    pub params: u64,
}

impl Totals {
    fn add(&mut self, row: &CostRow) -> Result<()> {
        let overflow = || ModelError::InvalidParameter("network totals overflow 64 bits".into());
        self.macs = self.macs.checked_add(row.macs).ok_or_else(overflow)?;
        self.params = self.params.checked_add(row.params).ok_or_else(overflow)?;
        Ok(())
    }
}

/// Totals per layer kind; every kind is present, zero if absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ByKind {
    pub conv: Totals,
    pub dw: Totals,
    pub pw: Totals,
    pub fc: Totals,
}

impl ByKind {
    /// The totals of one kind.
    pub fn get(&self, kind: LayerKind) -> Totals {
        match kind {
            LayerKind::Conv => self.conv,
            LayerKind::Dw => self.dw,
            LayerKind::Pw => self.pw,
            LayerKind::Fc => self.fc,
        }
    }
    fn get_mut(&mut self, kind: LayerKind) -> &mut Totals {
        match kind {
            LayerKind::Conv => &mut self.conv,
            LayerKind::Dw => &mut self.dw,
            LayerKind::Pw => &mut self.pw,
            LayerKind::Fc => &mut self.fc,
        }
    }
}

/// Per-layer costs with totals and per-kind sums. Serializes to the `cost --format json` schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub layers: Vec<CostRow>,
    pub totals: Totals,
    pub by_kind: ByKind,
}

impl CostReport {
    /// Rows for `stages` in order: a single layer gives one row, a DSC block two (`dw`, then
    /// `pw` carrying the pair's comparison with standard convolution).
    pub fn new(stages: &[Stage]) -> Result<Self> {
        let mut layers = Vec::new();
        for stage in stages {
            match stage {
                Stage::Layer { name, shape } => layers.push(CostRow::plain(name, shape)),
                Stage::Dsc { names, block } => {
                    layers.push(CostRow::plain(&names.0, block.dw()));
                    let mut pw = CostRow::plain(&names.1, block.pw());
                    pw.macs_standard = Some(block.macs_standard());
                    pw.reduction = Some(block.reduction());
                    pw.reduction_formula = Some(block.reduction_formula());
                    layers.push(pw);
                }
            }
        }
        let mut totals = Totals::default();
        let mut by_kind = ByKind::default();
        for row in &layers {
            totals.add(row)?;
            by_kind.get_mut(row.kind).add(row)?;
        }
        Ok(CostReport {
            layers,
            totals,
            by_kind,
        })
    }

    /// Fraction of all MACs done by `kind` (0 when the report has no MACs).
    pub fn macs_share(&self, kind: LayerKind) -> f64 {
        share(self.by_kind.get(kind).macs, self.totals.macs)
    }

    /// Fraction of all weights held by `kind` (0 when the report has no weights).
    pub fn params_share(&self, kind: LayerKind) -> f64 {
        share(self.by_kind.get(kind).params, self.totals.params)
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(r: Result<LayerShape>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn formulas_use_the_output_size() {
        // Stride 2 on 112: DF = 56.
        let conv = LayerShape::conv(3, 2, 112, 32, 64).unwrap();
        assert_eq!(conv.df_out(), 56);
        assert_eq!(conv.macs(), 3 * 3 * 32 * 64 * 56 * 56);
        assert_eq!(conv.params(), 3 * 3 * 32 * 64);
        let dw = LayerShape::depthwise(3, 2, 112, 32).unwrap();
        assert_eq!(dw.macs(), 3 * 3 * 32 * 56 * 56);
        assert_eq!(dw.params(), 3 * 3 * 32);
        let pw = LayerShape::pointwise(56, 32, 64).unwrap();
        assert_eq!(pw.macs(), 32 * 64 * 56 * 56);
        assert_eq!(pw.params(), 32 * 64);
        let fc = LayerShape::fc(1024, 1000).unwrap();
        assert_eq!((fc.macs(), fc.params()), (1024 * 1000, 1024 * 1000));
    }

    #[test]
    fn odd_input_with_stride_two_rounds_up() {
        let dw = LayerShape::depthwise(3, 2, 7, 8).unwrap();
        assert_eq!(dw.df_out(), same_padding(7, 3, 2).unwrap().out);
        assert_eq!(dw.df_out(), 4);
    }

    #[test]
    fn dsc_block_reduction_matches_the_formula() {
        for &(dk, stride, df, m, n) in &[
            (3, 1, 112, 32, 64),
            (3, 2, 112, 64, 128),
            (5, 1, 14, 512, 512),
            (3, 2, 7, 1024, 1024),
        ] {
            let b = DscBlock::new(dk, stride, df, m, n).unwrap();
            assert_eq!(b.pw().df_in(), b.dw().df_out());
            let conv = LayerShape::conv(dk, stride, df, m, n).unwrap();
            assert_eq!(b.macs_standard(), conv.macs());
            assert_eq!(b.macs(), b.dw().macs() + b.pw().macs());
            assert!((b.reduction() - b.reduction_formula()).abs() < 1e-12);
        }
    }

    #[test]
    fn bad_shapes_name_the_problem() {
        assert!(msg(LayerShape::conv(0, 1, 8, 3, 4)).contains("dk must be at least 1"));
        assert!(msg(LayerShape::conv(4, 1, 8, 3, 4)).contains("dk must be odd, got 4"));
        assert!(msg(LayerShape::conv(3, 3, 8, 3, 4)).contains("stride must be 1 or 2, got 3"));
        assert!(msg(LayerShape::conv(3, 0, 8, 3, 4)).contains("stride must be 1 or 2, got 0"));
        assert!(msg(LayerShape::conv(3, 1, 0, 3, 4)).contains("df must be at least 1"));
        assert!(msg(LayerShape::conv(3, 1, 8, 0, 4)).contains("m must be at least 1"));
        assert!(msg(LayerShape::conv(3, 1, 8, 3, 0)).contains("n must be at least 1"));
        assert!(msg(LayerShape::new(LayerKind::Dw, 3, 1, 8, 3, 4)).contains("n == m"));
        assert!(msg(LayerShape::new(LayerKind::Pw, 3, 1, 8, 3, 4)).contains("dk must be 1"));
        assert!(msg(LayerShape::new(LayerKind::Pw, 1, 2, 8, 3, 4)).contains("stride must be 1"));
        assert!(msg(LayerShape::new(LayerKind::Fc, 1, 1, 7, 3, 4)).contains("1x1 map"));
        assert!(DscBlock::new(2, 1, 8, 3, 4).is_err());
    }

    #[test]
    fn huge_shapes_are_errors_not_overflows() {
        let big = usize::MAX / 2;
        assert!(msg(LayerShape::conv(3, 1, big, 3, 4)).contains("overflow"));
        assert!(DscBlock::new(3, 1, 1 << 20, 1 << 20, 1 << 20).is_err());
    }

    #[test]
    fn report_puts_the_comparison_on_the_pw_row_only() {
        let block = DscBlock::new(3, 1, 112, 32, 64).unwrap();
        let stages = [
            Stage::Layer {
                name: "conv".into(),
                shape: LayerShape::conv(3, 2, 224, 3, 32).unwrap(),
            },
            Stage::Dsc {
                names: ("dw".into(), "pw".into()),
                block,
            },
            Stage::Layer {
                name: "fc".into(),
                shape: LayerShape::fc(64, 10).unwrap(),
            },
        ];
        let r = CostReport::new(&stages).unwrap();
        let kinds: Vec<_> = r.layers.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [LayerKind::Conv, LayerKind::Dw, LayerKind::Pw, LayerKind::Fc]
        );
        assert_eq!(r.layers[2].macs_standard, Some(block.macs_standard()));
        assert_eq!(r.layers[2].reduction, Some(block.reduction()));
        assert_eq!(
            r.layers[2].reduction_formula,
            Some(block.reduction_formula())
        );
        for i in [0, 1, 3] {
            assert_eq!(r.layers[i].macs_standard, None);
            assert_eq!(r.layers[i].reduction, None);
        }
        assert_eq!(r.totals.macs, r.layers.iter().map(|l| l.macs).sum::<u64>());
        assert_eq!(
            r.totals.params,
            r.layers.iter().map(|l| l.params).sum::<u64>()
        );
        let shares: f64 = LayerKind::ALL.iter().map(|&k| r.macs_share(k)).sum();
        assert!((shares - 1.0).abs() < 1e-12);
        assert_eq!(r.by_kind.get(LayerKind::Dw).macs, block.dw().macs());
    }
}
