//! Network descriptions for the cost model: MobileNet-v1 (DESIGN.md §1) with width multiplier
//! α and input resolution.
//!
//! MobileNet-v1 here is: `conv0` 3×3 stride 2, 3 → 32α; 13 DSC blocks (`dw1`/`pw1` …
//! `dw13`/`pw13`, block 13 at stride 1: the map stays 7×7 at 224); a global average pool; `fc`
//! 1024α → 1000. The average pool has no multiplications and no weights, so it is not a row of
//! the cost report (nor is the softmax). α scales every channel count as `int(c·α)` (truncation,
//! as the paper's reference code); the 3 input channels and the 1000 classes are not scaled.

use crate::cost::{CostReport, DscBlock, LayerShape, Stage};
use crate::error::{ModelError, Result};

/// Names accepted by [`by_name`].
pub const KNOWN_NETWORKS: &[&str] = &["mobilenet-v1"];

/// MobileNet-v1 DSC blocks 1–13: (dw stride, pw output channels at α = 1).
const MOBILENET_V1_BLOCKS: [(usize, usize); 13] = [
    (1, 64),
    (2, 128),
    (1, 128),
    (2, 256),
    (1, 256),
    (2, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (2, 1024),
    (1, 1024),
];

/// A network as a list of cost stages, with the parameters it was built for.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    name: String,
    alpha: f64,
    resolution: usize,
    stages: Vec<Stage>,
}

impl Network {
    /// The network's name, as [`by_name`] knows it.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Width multiplier α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Input resolution (square).
    pub fn resolution(&self) -> usize {
        self.resolution
    }
    /// The layers and DSC blocks in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }
    /// Per-layer costs and totals of the whole network.
    pub fn cost_report(&self) -> Result<CostReport> {
        CostReport::new(&self.stages)
    }
}

/// The network called `name` at width `alpha` and input `resolution`; an unknown name is an
/// error listing the known ones.
pub fn by_name(name: &str, alpha: f64, resolution: usize) -> Result<Network> {
    match name {
        "mobilenet-v1" => mobilenet_v1(alpha, resolution),
        _ => Err(ModelError::InvalidParameter(format!(
            "unknown network '{name}' (known: {})",
            KNOWN_NETWORKS.join(", ")
        ))),
    }
}

/// `int(c·α)`, refusing a width that leaves a layer without channels.
fn scale(c: usize, alpha: f64) -> Result<usize> {
    // Truncation toward zero is Python's int() for these positive products.
    let scaled = (c as f64 * alpha) as usize;
    if scaled == 0 {
        return Err(ModelError::InvalidParameter(format!(
            "alpha {alpha} leaves int({c}*{alpha}) = 0 channels; use alpha >= {}",
            1.0 / c as f64
        )));
    }
    Ok(scaled)
}

/// MobileNet-v1 at width multiplier `alpha` in (0, 1] and input `resolution` ≥ 1.
pub fn mobilenet_v1(alpha: f64, resolution: usize) -> Result<Network> {
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(ModelError::InvalidParameter(format!(
            "alpha must be in (0, 1], got {alpha}"
        )));
    }
    if resolution == 0 {
        return Err(ModelError::InvalidParameter(
            "resolution must be at least 1, got 0".into(),
        ));
    }
    let mut stages = Vec::with_capacity(MOBILENET_V1_BLOCKS.len() + 2);
    let conv0 = LayerShape::conv(3, 2, resolution, 3, scale(32, alpha)?)?;
    let (mut df, mut m) = (conv0.df_out(), conv0.n());
    stages.push(Stage::Layer {
        name: "conv0".into(),
        shape: conv0,
    });
    for (i, &(stride, n)) in MOBILENET_V1_BLOCKS.iter().enumerate() {
        let block = DscBlock::new(3, stride, df, m, scale(n, alpha)?)?;
        (df, m) = (block.pw().df_out(), block.pw().n());
        let names = (format!("dw{}", i + 1), format!("pw{}", i + 1));
        stages.push(Stage::Dsc { names, block });
    }
    // Global average pool to 1×1: no multiplications, no weights, no row.
    stages.push(Stage::Layer {
        name: "fc".into(),
        shape: LayerShape::fc(m, 1000)?,
    });
    Ok(Network {
        name: "mobilenet-v1".into(),
        alpha,
        resolution,
        stages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::LayerKind;

    fn report(alpha: f64, resolution: usize) -> CostReport {
        mobilenet_v1(alpha, resolution)
            .unwrap()
            .cost_report()
            .unwrap()
    }

    /// Millions, rounded as the paper prints them (`decimals` places).
    fn millions(x: u64, decimals: i32) -> f64 {
        let p = 10f64.powi(decimals);
        (x as f64 / 1e6 * p).round() / p
    }

    #[test]
    fn shape_follows_the_design_table() {
        let r = report(1.0, 224);
        assert_eq!(r.layers.len(), 1 + 2 * 13 + 1);
        let conv0 = &r.layers[0];
        assert_eq!(
            (conv0.kind, conv0.df_in, conv0.df_out, conv0.m, conv0.n),
            (LayerKind::Conv, 224, 112, 3, 32)
        );
        let dw13 = &r.layers[25];
        assert_eq!(
            (dw13.name.as_str(), dw13.stride, dw13.df_in, dw13.df_out),
            ("dw13", 1, 7, 7)
        );
        let pw13 = &r.layers[26];
        assert_eq!((pw13.m, pw13.n, pw13.df_out), (1024, 1024, 7));
        let fc = &r.layers[27];
        assert_eq!(
            (fc.kind, fc.m, fc.n, fc.df_in),
            (LayerKind::Fc, 1024, 1000, 1)
        );
        // Each block's pw feeds the next dw.
        for w in r.layers.windows(2) {
            assert!(w[1].kind == LayerKind::Fc || w[1].df_in == w[0].df_out);
            assert!(w[1].kind == LayerKind::Fc || w[1].m == w[0].n);
        }
    }

    #[test]
    fn totals_agree_with_the_paper_at_1_0_224() {
        // MobileNet paper, Table 1/6: 569 million mult-adds, 4.2 million parameters.
        let r = report(1.0, 224);
        assert_eq!(millions(r.totals.macs, 0), 569.0);
        assert_eq!(millions(r.totals.params, 1), 4.2);
    }

    #[test]
    fn other_widths_and_resolutions_agree_with_the_paper() {
        // MobileNet paper, Tables 6 and 7: (α, resolution, million mult-adds, million params).
        // The paper prints whole millions and tenths; its 160 figure (290) is below the
        // rounded count (290.68; TensorFlow's published model table says 291), so the check is
        // "within the last printed digit" rather than equality after rounding.
        let paper = [
            (1.0, 224, 569.0, 4.2),
            (0.75, 224, 325.0, 2.6),
            (0.5, 224, 149.0, 1.3),
            (0.25, 224, 41.0, 0.5),
            (1.0, 192, 418.0, 4.2),
            (1.0, 160, 290.0, 4.2),
            (1.0, 128, 186.0, 4.2),
        ];
        for (alpha, res, macs, params) in paper {
            let r = report(alpha, res);
            let (m, p) = (r.totals.macs as f64 / 1e6, r.totals.params as f64 / 1e6);
            assert!(
                (m - macs).abs() < 1.0,
                "{alpha}-{res}: {m} M MACs vs paper {macs}"
            );
            assert!(
                (p - params).abs() < 0.05,
                "{alpha}-{res}: {p} M params vs paper {params}"
            );
        }
    }

    #[test]
    fn shares_add_to_one_and_pointwise_dominates() {
        let r = report(1.0, 224);
        let macs: f64 = LayerKind::ALL.iter().map(|&k| r.macs_share(k)).sum();
        let params: f64 = LayerKind::ALL.iter().map(|&k| r.params_share(k)).sum();
        assert!((macs - 1.0).abs() < 1e-12 && (params - 1.0).abs() < 1e-12);
        let pw = r.macs_share(LayerKind::Pw);
        assert!((0.94..0.96).contains(&pw), "pw share {pw}");
        let by_kind_sum: u64 = LayerKind::ALL.iter().map(|&k| r.by_kind.get(k).macs).sum();
        assert_eq!(by_kind_sum, r.totals.macs);
    }

    #[test]
    fn alpha_rounds_channels_down() {
        let net = mobilenet_v1(0.3, 224).unwrap();
        let r = net.cost_report().unwrap();
        assert_eq!(r.layers[0].n, (32.0 * 0.3) as usize);
        assert_eq!(r.layers[0].n, 9);
        assert_eq!(r.layers[27].m, (1024.0 * 0.3) as usize);
        // 1/32 still leaves one channel in the narrowest layer.
        assert_eq!(report(1.0 / 32.0, 224).layers[0].n, 1);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let err = |a, r| mobilenet_v1(a, r).unwrap_err().to_string();
        assert!(err(0.0, 224).contains("alpha must be in (0, 1], got 0"));
        assert!(err(-0.5, 224).contains("alpha must be in (0, 1]"));
        assert!(err(1.5, 224).contains("alpha must be in (0, 1], got 1.5"));
        assert!(err(f64::NAN, 224).contains("alpha must be in (0, 1]"));
        assert!(err(0.01, 224).contains("0 channels"));
        assert!(err(1.0, 0).contains("resolution must be at least 1"));
        assert!(mobilenet_v1(1.0, usize::MAX / 4).is_err());
    }

    #[test]
    fn lookup_by_name() {
        assert_eq!(
            by_name("mobilenet-v1", 1.0, 224).unwrap(),
            mobilenet_v1(1.0, 224).unwrap()
        );
        let e = by_name("resnet", 1.0, 224).unwrap_err().to_string();
        assert!(
            e.contains("unknown network 'resnet'") && e.contains("mobilenet-v1"),
            "{e}"
        );
    }

    #[test]
    fn odd_resolutions_follow_same_padding() {
        let r = report(1.0, 100);
        let sizes: Vec<_> = r
            .layers
            .iter()
            .filter(|l| l.kind == LayerKind::Dw)
            .map(|l| l.df_out)
            .collect();
        assert_eq!(sizes, [50, 25, 25, 13, 13, 7, 7, 7, 7, 7, 7, 4, 4]);
    }
}
