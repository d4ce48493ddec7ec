//! SVG charts: of evaluation metrics (pass^k, success by gold chain length and pass^1 per
//! world), and of the domain sizes `graph` found.
//!
//! Drawn with `plotters`' SVG backend, which writes text as `<text>` elements, so no font files
//! are needed. Output is deterministic: the same [`Metrics`] give a byte-identical SVG. Each
//! policy keeps one colour (its place among the sorted policy names) in every chart, and the
//! legend to the right of the plot names them. Metrics with nothing to plot give a valid SVG
//! that says "no data".

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeSet;
use worldsmith_verify::Metrics;

/// The size of every chart in pixels.
const SIZE: (u32, u32) = (640, 400);
/// The font family of all text.
const FONT: &str = "sans-serif";
/// The policy colours as 0xRRGGBB (Tableau 10), cycled when there are more policies.
const PALETTE: [u32; 10] =
    [0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac];
/// The longest label (in characters) shown in full in the legend and on category axes.
const MAX_LABEL: usize = 24;

/// An SVG drawing area.
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A policy's colour by its index among the sorted policy names.
fn colour(i: usize) -> RGBColor {
    let [_, r, g, b] = PALETTE[i % PALETTE.len()].to_be_bytes();
    RGBColor(r, g, b)
}

/// `s` cut to [`MAX_LABEL`] characters, with an ellipsis when cut.
fn short(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL { s.to_owned() } else { s.chars().take(MAX_LABEL - 1).chain(['…']).collect() }
}

/// A rough pixel width of `s` in the legend font (plotters writes SVG fonts at size / 1.24).
fn text_width(s: &str) -> u32 {
    7 * short(s).chars().count() as u32
}

/// pass^k against k: one line with point markers per policy, y from 0 to 1, x from 1 to the
/// largest k of any policy. A policy with no pass^k values gets no line (but a legend entry).
///
/// # Errors
///
/// When a drawing step of the SVG backend fails (not expected when writing to a string).
pub fn pass_hat_k_svg(metrics: &Metrics) -> Result<String> {
    let series: Vec<Vec<(i32, f64)>> = metrics
        .policies
        .values()
        .map(|p| p.pass_hat_k.iter().enumerate().map(|(i, &y)| (i as i32 + 1, y)).collect())
        .collect();
    let axes = Axes { x_desc: "k", y_desc: "pass^k", y_top: 1.0, y_decimals: 1 };
    line_chart(metrics.policies.keys(), "pass^k: all k tries of a task succeed", &axes, &series)
}

/// Episode success rate (y, "success rate", 0 to 1) against the gold chain length (x, "gold
/// calls"): one line with point markers per policy, a point at each length it has episodes of.
///
/// # Errors
///
/// When a drawing step of the SVG backend fails (not expected when writing to a string).
pub fn success_by_length_svg(metrics: &Metrics) -> Result<String> {
    let series: Vec<Vec<(i32, f64)>> = metrics
        .policies
        .values()
        .map(|p| p.by_chain_length.iter().map(|(&len, r)| (len as i32, r.rate)).collect())
        .collect();
    let axes = Axes { x_desc: "gold calls", y_desc: "success rate", y_top: 1.0, y_decimals: 1 };
    line_chart(metrics.policies.keys(), "Episode success by gold chain length", &axes, &series)
}

/// pass^1 per world and policy as grouped horizontal bars, worlds top to bottom in name order
/// and one bar per policy with episodes in the world.
///
/// # Errors
///
/// When a drawing step of the SVG backend fails (not expected when writing to a string).
pub fn success_by_world_svg(metrics: &Metrics) -> Result<String> {
    // Integer y units (plotters has no label formatting for f64 axes with custom ticks): each
    // world has a band of `band` units: a bar of BAR units per policy and PAD units either side.
    const BAR: i32 = 10;
    const PAD: i32 = 4;
    let worlds: BTreeSet<&str> =
        metrics.policies.values().flat_map(|p| p.by_world.keys().map(String::as_str)).collect();
    let worlds: Vec<&str> = worlds.into_iter().collect();
    let (n, band) = (worlds.len() as i32, BAR * metrics.policies.len() as i32 + 2 * PAD);
    render(metrics.policies.keys(), "pass^1 by world", n > 0, |area| {
        // World i is drawn in band n - 1 - i (counting from the bottom), so the first is on top.
        let ticks: Vec<i32> = (0..n).map(|b| b * band + band / 2).collect();
        let world_label = |y: &i32| worlds.get((n - 1 - y / band) as usize).map(|w| short(w)).unwrap_or_default();
        let label_width = worlds.iter().map(|w| text_width(w)).max().unwrap_or(0) + 20;
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0..1.0, (0..n * band).with_key_points(ticks))
            .context("laying out the world chart")?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(6)
            .max_light_lines(1)
            .x_desc("pass^1")
            .y_desc("world")
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&world_label)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .context("drawing the world chart's axes")?;
        for (j, p) in metrics.policies.values().enumerate() {
            let bars = (0..n).zip(&worlds).filter_map(|(i, w)| {
                let value = *p.by_world.get(*w)?.pass_hat_k.first()?;
                let top = (n - i) * band - PAD - BAR * j as i32;
                Some(Rectangle::new([(0.0, top - BAR), (value, top)], colour(j).filled()))
            });
            chart.draw_series(bars).context("drawing the world bars")?;
        }
        Ok(())
    })
}

/// How a line chart's axes read: their descriptions, the top of y (from 0) and the decimals
/// of its labels.
struct Axes<'a> {
    x_desc: &'a str,
    y_desc: &'a str,
    y_top: f64,
    y_decimals: usize,
}

/// One line with point markers per series (coloured by position, named by `names` in the
/// legend), x over the integers the series cover, y from 0 to `axes.y_top`.
fn line_chart<'n>(
    names: impl Iterator<Item = &'n String> + Clone,
    title: &str,
    axes: &Axes<'_>,
    series: &[Vec<(i32, f64)>],
) -> Result<String> {
    let xs = series.iter().flatten().map(|&(x, _)| x);
    let (lo, hi) = (xs.clone().min().unwrap_or(0), xs.max().unwrap_or(-1));
    let x_desc = axes.x_desc;
    render(names, title, lo <= hi, |area| {
        // Every integer tick up to about 12 of them, else every `step`th.
        let step = ((hi - lo) / 12 + 1) as usize;
        let ticks: Vec<i32> = (lo..=hi).step_by(step).collect();
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((lo..hi.max(lo + 1)).with_key_points(ticks), 0.0..axes.y_top)
            .with_context(|| format!("laying out the {x_desc} chart"))?;
        chart
            .configure_mesh()
            .y_labels(6)
            .max_light_lines(1)
            .x_desc(x_desc)
            .y_desc(axes.y_desc)
            .y_label_formatter(&|y| format!("{y:.0$}", axes.y_decimals))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .with_context(|| format!("drawing the {x_desc} chart's axes"))?;
        for (i, points) in series.iter().enumerate() {
            let c = colour(i);
            chart.draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2))).context("drawing a line")?;
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled()))).context("drawing markers")?;
        }
        Ok(())
    })
}

/// The number of domains of each size, as bars (sizes on x, domains on y).
///
/// # Errors
///
/// When a drawing step of the SVG backend fails (not expected when writing to a string).
pub fn domain_sizes_svg(sizes: &[usize]) -> Result<String> {
    let max = sizes.iter().copied().max().unwrap_or(0);
    let mut counts = vec![0usize; max + 1];
    for &s in sizes {
        counts[s] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0);
    let title = format!("Domain sizes ({} domains)", sizes.len());
    render(std::iter::empty(), &title, !sizes.is_empty(), |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0..max as i32 + 1, 0..top as i32 + top as i32 / 10 + 1)
            .context("laying out the size chart")?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(12)
            .y_labels(6)
            .max_light_lines(1)
            .x_desc("tools in the domain")
            .y_desc("domains")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .context("drawing the size chart's axes")?;
        let bars = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(size, &c)| Rectangle::new([(size as i32, 0), (size as i32 + 1, c as i32)], colour(0).filled()));
        chart.draw_series(bars).context("drawing the size bars")?;
        Ok(())
    })
}

/// Rollouts spent per filled batch: ASTRA's adaptive filler (every batched group varies)
/// beside a filler that takes every group (whose batches hold zero-advantage groups), with
/// the useful rollouts of the latter as a third line.
///
/// # Errors
/// Drawing fails.
pub fn grpo_svg(report: &crate::grpo::SimulateReport) -> Result<String> {
    let names = ["adaptive".to_owned(), "every group".to_owned(), "every group, useful".to_owned()];
    let adaptive: Vec<(i32, f64)> = report.steps.iter().map(|s| (s.step as i32, s.rollouts as f64)).collect();
    let every: Vec<(i32, f64)> =
        report.steps.iter().map(|s| (s.step as i32, report.every_group_rollouts_per_batch)).collect();
    let useful: Vec<(i32, f64)> = report
        .steps
        .iter()
        .map(|s| (s.step as i32, report.every_group_rollouts_per_batch * (1.0 - report.every_group_zero_advantage)))
        .collect();
    let top = adaptive.iter().chain(&every).map(|p| p.1).fold(1.0, f64::max) * 1.15;
    let axes = Axes { x_desc: "batch", y_desc: "rollouts", y_top: top, y_decimals: 0 };
    line_chart(names.iter(), "Rollouts per filled GRPO batch", &axes, &[adaptive, every, useful])
}

/// Reward-guided search: success rate and mean F1 against the number of candidates.
///
/// # Errors
/// The chart cannot be drawn.
pub fn search_svg(report: &crate::prm::SearchReport) -> Result<String> {
    let names = ["success rate".to_owned(), "mean F1".to_owned()];
    let success: Vec<(i32, f64)> = report.rows.iter().map(|r| (r.candidates as i32, r.success_rate)).collect();
    let f1: Vec<(i32, f64)> = report.rows.iter().map(|r| (r.candidates as i32, r.mean_f1)).collect();
    let title =
        format!("Reward-guided search ({} guide)", if report.guide == "lookahead" { "lookahead" } else { "scorer" });
    let axes = Axes { x_desc: "candidates per turn (N)", y_desc: "rate", y_top: 1.05, y_decimals: 1 };
    line_chart(names.iter(), &title, &axes, &[success, f1])
}

/// Draws a chart: a white background, the title, a legend of `names` on the right (coloured
/// by position), and `draw` on the rest when `has_data`, else "no data". Returns the SVG.
fn render<'n>(
    names: impl Iterator<Item = &'n String> + Clone,
    title: &str,
    has_data: bool,
    draw: impl FnOnce(&Area<'_>) -> Result<()>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).context("filling the chart background")?;
        let root = root.titled(title, (FONT, 22)).context("drawing the chart title")?;
        let legend_width = names.clone().map(|n| text_width(n)).max().map_or(0, |w| w + 40);
        let (plot, legend) = root.split_horizontally(SIZE.0 - legend_width);
        for (i, name) in names.enumerate() {
            let y = 20 + 22 * i as i32;
            legend.draw(&Rectangle::new([(8, y), (20, y + 12)], colour(i).filled())).context("drawing the legend")?;
            legend.draw(&Text::new(short(name), (26, y - 1), (FONT, 15))).context("drawing the legend")?;
        }
        if has_data {
            draw(&plot)?;
        } else {
            let (w, h) = plot.dim_in_pixel();
            let style =
                TextStyle::from((FONT, 20)).color(&RGBColor(110, 110, 110)).pos(Pos::new(HPos::Center, VPos::Center));
            plot.draw(&Text::new("no data", (w as i32 / 2, h as i32 / 2), style)).context("drawing \"no data\"")?;
        }
        root.present().context("finishing the SVG")?;
    }
    Ok(svg)
}

/// Rates (0 to 1) as labelled horizontal bars, top to bottom in the order given: the
/// generated-world quality chart ([`crate::tables::generated_quality`]).
///
/// # Errors
///
/// When a drawing step of the SVG backend fails (not expected when writing to a string).
pub fn rates_svg(title: &str, rows: &[(String, f64, String)]) -> Result<String> {
    const BAR: i32 = 10;
    const PAD: i32 = 4;
    let n = rows.len() as i32;
    let band = BAR + 2 * PAD;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).context("filling the background")?;
        let label_width = rows.iter().map(|r| text_width(&r.0)).max().unwrap_or(0) + 20;
        let ticks: Vec<i32> = (0..n).map(|b| b * band + band / 2).collect();
        let label = |y: &i32| rows.get((n - 1 - y / band) as usize).map(|r| short(&r.0)).unwrap_or_default();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0..1.0, (0..n.max(1) * band).with_key_points(ticks))
            .context("laying out the rates chart")?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(6)
            .max_light_lines(1)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&label)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 14))
            .draw()
            .context("drawing the rates chart's axes")?;
        let bars = rows.iter().enumerate().map(|(i, r)| {
            let top = (n - i as i32) * band - PAD;
            Rectangle::new([(0.0, top - BAR), (r.1.clamp(0.0, 1.0), top)], colour(0).filled())
        });
        chart.draw_series(bars).context("drawing the rates")?;
        root.present().context("writing the rates chart")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use worldsmith_verify::{PolicyMetrics, Rate};

    fn rate(n: usize, ok: usize) -> Rate {
        Rate { n, ok, rate: ok as f64 / n as f64 }
    }

    fn policy(scale: f64, worlds: &[&str]) -> PolicyMetrics {
        let mut p = PolicyMetrics {
            tasks: 4,
            episodes: 16,
            success: rate(16, 10),
            mean_rewards: [("f1".to_owned(), 0.7)].into_iter().collect(),
            pass_hat_k: vec![0.8 * scale, 0.6 * scale, 0.5 * scale, 0.45 * scale],
            by_chain_length: [(1, rate(6, 5)), (2, rate(6, 3)), (4, rate(4, 1))].into_iter().collect(),
            by_world: BTreeMap::new(),
            by_kind: [("lookup".to_string(), rate(16, 10))].into_iter().collect(),
        };
        // `WorldMetrics` is not exported: fill in defaults.
        for w in worlds {
            let world = p.by_world.entry(w.to_string()).or_default();
            world.tasks = 2;
            world.success = rate(8, 5);
            world.pass_hat_k = vec![0.6 * scale, 0.4];
        }
        p
    }

    fn metrics(policies: &[(&str, PolicyMetrics)]) -> Metrics {
        Metrics { format: 1, policies: policies.iter().map(|(n, p)| (n.to_string(), p.clone())).collect() }
    }

    type Chart = fn(&Metrics) -> Result<String>;
    const CHARTS: [Chart; 3] = [pass_hat_k_svg, success_by_length_svg, success_by_world_svg];

    #[test]
    fn charts_name_every_policy_and_are_deterministic() {
        let one = metrics(&[("oracle", policy(1.0, &["bank"]))]);
        let several = metrics(&[
            ("oracle", policy(1.0, &["airline", "bank", "retail"])),
            ("random", policy(0.3, &["bank", "telecom"])),
            ("gpt-small", policy(0.7, &["airline"])),
        ]);
        for m in [one, several] {
            for chart in CHARTS {
                let svg = chart(&m).unwrap();
                assert!(svg.starts_with("<svg"), "{svg}");
                assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
                for name in m.policies.keys() {
                    assert!(svg.contains(name.as_str()), "{name} missing from {svg}");
                }
                assert!(!svg.contains("no data"));
                assert_eq!(svg, chart(&m).unwrap());
            }
        }
    }

    #[test]
    fn charts_of_empty_metrics_say_no_data() {
        for chart in CHARTS {
            let svg = chart(&Metrics::default()).unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("no data"), "{svg}");
        }
    }

    #[test]
    fn a_policy_without_pass_hat_k_is_still_charted() {
        let mut empty = policy(1.0, &["bank"]);
        empty.pass_hat_k.clear();
        empty.by_world.values_mut().for_each(|w| w.pass_hat_k.clear());
        let m = metrics(&[("oracle", policy(1.0, &["bank"])), ("idle", empty.clone())]);
        for chart in CHARTS {
            let svg = chart(&m).unwrap();
            assert!(svg.contains("oracle") && svg.contains("idle"), "{svg}");
        }
        let only_empty = metrics(&[("idle", empty)]);
        let svg = pass_hat_k_svg(&only_empty).unwrap();
        assert!(svg.contains("no data") && svg.contains("idle"), "{svg}");
    }

    #[test]
    fn domain_sizes_are_drawn_as_bars_deterministically() {
        let sizes = [3, 3, 4, 7, 50];
        let svg = domain_sizes_svg(&sizes).unwrap();
        assert!(svg.contains("Domain sizes (5 domains)") && svg.contains("tools in the domain"));
        // One bar per distinct size.
        assert_eq!(svg.matches("<rect").count() - domain_sizes_svg(&[3]).unwrap().matches("<rect").count(), 3);
        assert_eq!(svg, domain_sizes_svg(&sizes).unwrap());
        assert!(domain_sizes_svg(&[]).unwrap().contains("no data"));
    }

    #[test]
    fn long_names_are_shortened() {
        assert_eq!(short("oracle"), "oracle");
        let rows = vec![
            ("create then get".to_owned(), 0.9, String::new()),
            ("objects not stubs".to_owned(), 1.0, String::new()),
        ];
        let svg = rates_svg("Generated-world quality", &rows).unwrap();
        assert_eq!(svg, rates_svg("Generated-world quality", &rows).unwrap());
        assert!(svg.contains("create then get") && svg.contains("objects not stubs"));
        assert_eq!(svg.matches("<rect").count(), 3, "the background and one bar per row");
        let long = "a".repeat(40);
        assert_eq!(short(&long).chars().count(), MAX_LABEL);
    }
}
