//! `codegen report`: `report.md` with two SVG charts in `report/` (default output directory
//! docs/): per-block cost (depthwise vs pointwise vs standard-conv MACs) and cycles (measured
//! vs the model's vs ideal). Every number comes from `dsc-model` (cost report, cycle models)
//! and, when the hardware backend is there, from its runs; `simulate` builds the figures.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use dsc_model::cost::{CostReport, LayerKind};
use dsc_model::network;
use plotters::prelude::*;

use crate::cli::ReportArgs;
use crate::emit_cmd::{repo_root, shown};
use crate::error::CliError;
use crate::simulate_cmd::{self, Job, Report, Row};
use crate::table::{percent, thousands};

/// One DSC block's costs, from the model's cost report.
struct BlockCost {
    label: String,
    dw: u64,
    pw: u64,
    standard: u64,
}

fn block_costs(cost: &CostReport) -> Vec<BlockCost> {
    let rows = &cost.layers;
    rows.iter()
        .zip(rows.iter().skip(1))
        .filter(|(d, p)| d.kind == LayerKind::Dw && p.kind == LayerKind::Pw)
        .map(|(d, p)| BlockCost {
            label: d.name.trim_start_matches("dw").to_string(),
            dw: d.macs,
            pw: p.macs,
            standard: p.macs_standard.or(d.macs_standard).unwrap_or(0),
        })
        .collect()
}

fn chart_err<E: std::fmt::Display>(e: E) -> CliError {
    CliError::Io(std::io::Error::other(format!("drawing a chart: {e}")))
}

const SIZE: (u32, u32) = (960, 480);

/// Grouped bars: per block, dw / pw / standard-conv MACs in millions.
fn cost_svg(blocks: &[BlockCost], title: &str) -> Result<String, CliError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let n = blocks.len();
        let ymax = blocks.iter().map(|b| b.standard.max(b.dw + b.pw)).max().unwrap_or(1) as f64 / 1e6 * 1.3;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..ymax)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                match ((x - i).abs() < 1e-6).then(|| blocks.get(i as usize)).flatten() {
                    Some(b) => b.label.clone(),
                    None => String::new(),
                }
            })
            .x_desc("DSC block")
            .y_desc("MACs (millions)")
            .draw()
            .map_err(chart_err)?;
        let series: [(&str, RGBColor, fn(&BlockCost) -> u64); 3] = [
            ("depthwise", RGBColor(31, 119, 180), |b| b.dw),
            ("pointwise", RGBColor(255, 127, 14), |b| b.pw),
            ("standard conv", RGBColor(127, 127, 127), |b| b.standard),
        ];
        for (k, (name, color, value)) in series.into_iter().enumerate() {
            let left = -0.4 + 0.8 * k as f64 / 3.0;
            chart
                .draw_series(blocks.iter().enumerate().map(|(i, b)| {
                    let x0 = i as f64 + left;
                    Rectangle::new([(x0, 0.0), (x0 + 0.8 / 3.0 - 0.02, value(b) as f64 / 1e6)], color.filled())
                }))
                .map_err(chart_err)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Lines: per DSC block, the cycle figures that exist (measured, model, each stage alone,
/// ideal).
fn cycles_svg(rows: &[&Row], title: &str) -> Result<String, CliError> {
    type Get = fn(&Row) -> Option<u64>;
    let series: [(&str, RGBColor, Get); 5] = [
        ("measured", RGBColor(214, 39, 40), |r| r.measured_cycles),
        ("model (layer)", RGBColor(0, 0, 0), |r| r.model.and_then(|m| m.layer)),
        ("model, depthwise alone", RGBColor(31, 119, 180), |r| r.model.and_then(|m| m.dw_alone)),
        ("model, pointwise alone", RGBColor(255, 127, 14), |r| r.model.and_then(|m| m.pw_alone)),
        ("ideal", RGBColor(44, 160, 44), |r| r.model.map(|m| m.ideal)),
    ];
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let n = rows.len();
        let ymax = rows
            .iter()
            .flat_map(|r| series.iter().filter_map(|s| (s.2)(r)))
            .max()
            .unwrap_or(1) as f64
            / 1e3
            * 1.3;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..ymax)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                match ((x - i).abs() < 1e-6).then(|| rows.get(i as usize)).flatten() {
                    Some(r) => r.name.split('/').next().unwrap_or("").trim_start_matches("dw").to_string(),
                    None => String::new(),
                }
            })
            .x_desc("DSC block")
            .y_desc("cycles (thousands)")
            .draw()
            .map_err(chart_err)?;
        for (name, color, get) in series {
            let points: Vec<(f64, f64)> =
                rows.iter().enumerate().filter_map(|(i, r)| get(r).map(|c| (i as f64, c as f64 / 1e3))).collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(chart_err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            chart
                .draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                .map_err(chart_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "–".into())
}

/// The Markdown text.
fn markdown(args: &ReportArgs, cost: &CostReport, blocks: &[BlockCost], sim: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# dscgen report: {}\n", sim.title);
    let _ = writeln!(
        s,
        "Generated by `cargo run -p codegen -- report --alpha {} --resolution {} --seed {}{}` \
         (config {}, backend {}, clock {} MHz). Every figure comes from the golden model's cost \
         and cycle models{}; do not edit by hand.\n",
        args.variant.alpha,
        args.variant.resolution,
        args.variant.seed,
        if args.golden_only { " --golden-only" } else { "" },
        sim.config,
        sim.backend,
        sim.clock_mhz,
        if sim.backend == "golden" { "" } else { " and the hardware runs" },
    );
    let _ = writeln!(s, "## Cost per DSC block\n\n![MACs per DSC block](report/cost.svg)\n");
    let _ = writeln!(s, "| block | dw MACs | pw MACs | standard conv MACs | (dw+pw)/conv | 1/N+1/Dk² |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    for (b, row) in blocks.iter().zip(cost.layers.iter().filter(|r| r.kind == LayerKind::Pw)) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            b.label,
            thousands(b.dw),
            thousands(b.pw),
            thousands(b.standard),
            opt(row.reduction, |x| format!("{x:.4}")),
            opt(row.reduction_formula, |x| format!("{x:.4}")),
        );
    }
    let _ = writeln!(
        s,
        "\nWhole network: {} MACs ({:.1} M), {} parameters ({:.2} M); pointwise layers do {} of the MACs.\n",
        thousands(cost.totals.macs),
        cost.totals.macs as f64 / 1e6,
        thousands(cost.totals.params),
        cost.totals.params as f64 / 1e6,
        percent(cost.macs_share(LayerKind::Pw)),
    );
    let _ = writeln!(s, "## Cycles per layer on the generated engine\n\n![cycles per DSC block](report/cycles.svg)\n");
    let _ = writeln!(
        s,
        "| layer | in | out | measured | model | dw alone | pw alone | ideal | dw util | pw util | bit-exact |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in &sim.layers {
        let m = r.model;
        let _ = writeln!(
            s,
            "| {} | {}×{}×{} | {}×{}×{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.input[0],
            r.input[1],
            r.input[2],
            r.output[0],
            r.output[1],
            r.output[2],
            opt(r.measured_cycles, thousands),
            opt(m.and_then(|m| m.layer), thousands),
            opt(m.and_then(|m| m.dw_alone), thousands),
            opt(m.and_then(|m| m.pw_alone), thousands),
            opt(m.map(|m| m.ideal), thousands),
            opt(r.dw_utilization, percent),
            opt(r.pw_utilization, percent),
            opt(r.bit_exact, |b| if b { "yes".into() } else { "NO".into() }),
        );
    }
    let t = &sim.totals;
    let fps = |c: Option<u64>, f: Option<f64>| match (c, f) {
        (Some(c), Some(f)) => format!("{} cycles, {f:.2} frames/s", thousands(c)),
        _ => "–".into(),
    };
    let _ = writeln!(
        s,
        "\nTotals over the layers that run on the engine, at {} MHz: measured {}; model {}; ideal {}.\n",
        sim.clock_mhz,
        fps(t.measured_cycles, t.frames_per_s_measured),
        fps(t.model_cycles, t.frames_per_s_model),
        fps(Some(t.ideal_cycles), t.frames_per_s_ideal),
    );
    let _ = writeln!(
        s,
        "*model*: the whole layer on the engine; *dw/pw alone*: each stage by itself \
         (`dsc_model::depthwise::engine_cycles`, `dsc_model::pointwise::pointwise_cycles`, exact); \
         *ideal*: MACs ÷ multipliers of the busier stage; *util*: a stage's MACs ÷ (its multipliers × \
         cycles), over the measured cycles, else the model's, else the stage's own. A dash: not \
         available from this backend or model yet.\n"
    );
    let notes: Vec<String> = sim.layers.iter().filter_map(|r| r.note.as_ref().map(|n| format!("- {}: {n}", r.name))).collect();
    if !notes.is_empty() {
        let _ = writeln!(s, "Notes:\n\n{}", notes.join("\n"));
    }
    s
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))))
}

/// Runs `report`, writing `report.md` and `report/*.svg` into the output directory.
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let job = Job {
        network: Some(args.network.clone()),
        layer_dir: None,
        variant: args.variant,
        config: args.config.clone(),
        clock_mhz: args.clock_mhz,
        golden_only: args.golden_only,
        trace: None,
    };
    let sim = simulate_cmd::build(&job)?;
    // build() validated alpha and resolution.
    let net = network::by_name(&args.network, args.variant.alpha, args.variant.resolution as usize)?;
    let cost = net.cost_report()?;
    let blocks = block_costs(&cost);
    let dir: PathBuf = args.out.clone().unwrap_or_else(|| repo_root().join("docs"));
    let charts = dir.join("report");
    std::fs::create_dir_all(&charts)
        .map_err(|e| CliError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", charts.display()))))?;
    let what = format!("{}, α {}, {}", net.name(), net.alpha(), net.resolution());
    write_file(&charts.join("cost.svg"), &cost_svg(&blocks, &format!("MACs per DSC block: {what}"))?)?;
    let dsc_rows: Vec<&Row> = sim.layers.iter().filter(|r| r.op == "dsc").collect();
    write_file(&charts.join("cycles.svg"), &cycles_svg(&dsc_rows, &format!("Cycles per DSC block: {what}, {}", sim.config))?)?;
    let md = dir.join("report.md");
    write_file(&md, &markdown(args, &cost, &blocks, &sim))?;
    writeln!(out, "wrote {}, {}, {}", shown(&md), shown(&charts.join("cost.svg")), shown(&charts.join("cycles.svg")))?;
    Ok(())
}
