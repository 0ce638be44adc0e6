//! `codegen cost`: the cost model of `dsc-model` printed as a table or as the stable JSON
//! schema `{"layers":[...],"totals":{...},"by_kind":{...}}` (see `dsc_model::cost::CostReport`).

use std::io::Write;

use dsc_model::cost::{CostReport, CostRow, DscBlock, LayerKind, Stage};
use dsc_model::network;

use crate::cli::{CostArgs, Format};
use crate::error::CliError;
use crate::layer_spec::LayerSpec;
use crate::table::{percent, thousands, Align, Table};

/// What was asked for, costed.
struct Costed {
    title: String,
    report: CostReport,
    /// Set for `--layer`: the block whose comparison the table spells out.
    block: Option<DscBlock>,
}

fn build(args: &CostArgs) -> Result<Costed, CliError> {
    if let Some(text) = &args.layer {
        let spec: LayerSpec = text.parse()?;
        let block = DscBlock::new(spec.dk, spec.stride, spec.df, spec.m, spec.n)?;
        let stages = [Stage::Dsc {
            names: ("dw".into(), "pw".into()),
            block,
        }];
        let report = CostReport::new(&stages)?;
        return Ok(Costed {
            title: format!("DSC layer {spec}"),
            report,
            block: Some(block),
        });
    }
    let name = args
        .network
        .as_deref()
        .unwrap_or(network::KNOWN_NETWORKS[0]);
    let resolution = usize::try_from(args.resolution).map_err(|_| {
        CliError::Input(format!(
            "resolution must be positive, got {}",
            args.resolution
        ))
    })?;
    let net = network::by_name(name, args.alpha, resolution)?;
    let title = format!(
        "{}, alpha {}, resolution {} (average pool: no multiplications, not listed)",
        net.name(),
        net.alpha(),
        net.resolution()
    );
    Ok(Costed {
        title,
        report: net.cost_report()?,
        block: None,
    })
}

/// Runs `cost` with `args`, writing the report to `out`.
pub fn run(args: &CostArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let costed = build(args)?;
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&costed.report)
                .map_err(|e| CliError::Io(std::io::Error::other(e)))?;
            writeln!(out, "{json}")?;
        }
        Format::Table => out.write_all(render_table(&costed).as_bytes())?,
    }
    Ok(())
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "-".into())
}

fn layer_cells(r: &CostRow) -> Vec<String> {
    vec![
        r.name.clone(),
        r.kind.to_string(),
        r.dk.to_string(),
        r.stride.to_string(),
        r.df_in.to_string(),
        r.df_out.to_string(),
        r.m.to_string(),
        r.n.to_string(),
        thousands(r.macs),
        thousands(r.params),
        opt(r.macs_standard, thousands),
        opt(r.reduction, |x| format!("{x:.4}")),
        opt(r.reduction_formula, |x| format!("{x:.4}")),
    ]
}

fn render_table(c: &Costed) -> String {
    let r = &c.report;
    let (l, rt) = (Align::Left, Align::Right);
    let mut layers = Table::new(&[
        ("layer", l),
        ("kind", l),
        ("dk", rt),
        ("s", rt),
        ("df_in", rt),
        ("df_out", rt),
        ("m", rt),
        ("n", rt),
        ("MACs", rt),
        ("params", rt),
        ("std conv MACs", rt),
        ("reduction", rt),
        ("1/N+1/Dk²", rt),
    ]);
    for row in &r.layers {
        layers.row(layer_cells(row));
    }
    let mut total = vec![String::new(); 13];
    total[0] = "total".into();
    total[8] = thousands(r.totals.macs);
    total[9] = thousands(r.totals.params);
    layers.row(total);

    let mut kinds = Table::new(&[
        ("kind", l),
        ("MACs", rt),
        ("share", rt),
        ("params", rt),
        ("share", rt),
    ]);
    for kind in LayerKind::ALL {
        let t = r.by_kind.get(kind);
        kinds.row(vec![
            kind.to_string(),
            thousands(t.macs),
            percent(r.macs_share(kind)),
            thousands(t.params),
            percent(r.params_share(kind)),
        ]);
    }
    kinds.row(vec![
        "total".into(),
        thousands(r.totals.macs),
        percent(1.0),
        thousands(r.totals.params),
        percent(1.0),
    ]);

    let mut s = format!("{}\n\n{}\n", c.title, layers.render());
    s.push_str(&format!(
        "total: {} MACs ({:.2} M), {} params ({:.2} M)\n\n",
        thousands(r.totals.macs),
        r.totals.macs as f64 / 1e6,
        thousands(r.totals.params),
        r.totals.params as f64 / 1e6
    ));
    s.push_str(&kinds.render());
    if let Some(b) = &c.block {
        let (dw, pw) = (b.dw(), b.pw());
        s.push_str(&format!(
            "\nstandard conv {dk}x{dk}, {m}->{n}, stride {st}: {std} MACs; DSC dw+pw: {dsc} MACs\n\
             reduction (C_dw+C_pw)/C_conv = {red:.6}   formula 1/N + 1/Dk² = {frm:.6}\n",
            dk = dw.dk(),
            m = dw.m(),
            n = pw.n(),
            st = dw.stride(),
            std = thousands(b.macs_standard()),
            dsc = thousands(b.macs()),
            red = b.reduction(),
            frm = b.reduction_formula(),
        ));
    }
    s
}
