//! The figures: each draws one chart of a results folder onto any plotters backend.
//!
//! Layout is shared: a title and a subtitle naming the scenario, the plot, and a legend panel
//! on the right so the legend never covers data. Populations keep one colour across charts.

use super::{RunData, WIDTH};
use crate::results::cells::{get, Secs};
use crate::results::{CountCells, OffsetCells};
use crate::time::{civil_from_days, format_duration, Millis, DAY};
use crate::token::TokenKind;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) type R = Result<(), String>;
/// The plot area and the legend area of a chart.
pub(super) type Areas<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);
/// Per population: index, first-try and eventual acceptance per bucket (%).
type RateSeries = Vec<(usize, Vec<Option<f64>>, Vec<Option<f64>>)>;

/// An f64 axis with tick marks exactly where we ask (calendar dates, round durations) and no
/// minor grid; plotters' own key-point wrapper does not format f64 values.
pub(super) struct Ticked<A: Ranged<ValueType = f64>> {
    inner: A,
    ticks: Vec<f64>,
}

impl<A: Ranged<ValueType = f64>> Ranged for Ticked<A> {
    type ValueType = f64;
    type FormatOption = plotters::coord::ranged1d::NoDefaultFormatting;

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
}

impl<A: Ranged<ValueType = f64>> plotters::coord::ranged1d::ValueFormatter<f64> for Ticked<A> {
    fn format(value: &f64) -> String {
        format!("{value}")
    }
}

pub(super) fn ticked<A: plotters::coord::ranged1d::AsRangedCoord<Value = f64>>(
    axis: A,
    ticks: Vec<f64>,
) -> Ticked<A::CoordDescType> {
    Ticked {
        inner: axis.into(),
        ticks,
    }
}

/// The charts every run draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    Acceptance,
    Rejections,
    ClockError,
    Resync,
    Lifetime,
    ErrorHistogram,
}

impl Figure {
    pub const ALL: [Figure; 6] = [
        Figure::Acceptance,
        Figure::Rejections,
        Figure::ClockError,
        Figure::Resync,
        Figure::Lifetime,
        Figure::ErrorHistogram,
    ];

    pub fn stem(self) -> &'static str {
        match self {
            Figure::Acceptance => "acceptance",
            Figure::Rejections => "rejections",
            Figure::ClockError => "clock_error",
            Figure::Resync => "resync_helpdesk",
            Figure::Lifetime => "lifetime",
            Figure::ErrorHistogram => "clock_error_histogram",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Figure::Acceptance => "Login acceptance over time",
            Figure::Rejections => "Rejected attempts by reason",
            Figure::ClockError => "Device clock error at login",
            Figure::Resync => "Resync outcomes and helpdesk tickets",
            Figure::Lifetime => "Token survival and replacements",
            Figure::ErrorHistogram => "Device clock error at the end of the horizon",
        }
    }
}

/// Tableau 10: distinct, colour-blind-aware, print-safe.
const PALETTE: [(u8, u8, u8); 10] = [
    (78, 121, 167),
    (242, 142, 43),
    (225, 87, 89),
    (118, 183, 178),
    (89, 161, 79),
    (237, 201, 72),
    (176, 122, 161),
    (255, 157, 167),
    (156, 117, 95),
    (186, 176, 172),
];

/// The i-th palette colour.
pub fn colour_index(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// The colour of population `i`; `all` is near-black.
pub fn colour(d: &RunData, i: usize) -> RGBColor {
    if i == d.populations() {
        return RGBColor(40, 40, 40);
    }
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

pub(super) const GREY: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(225, 225, 225);
const LEGEND_W: u32 = 300;

pub(super) fn font(size: u32) -> FontDesc<'static> {
    ("sans-serif", size).into_font()
}

pub(super) fn bold(size: u32) -> FontDesc<'static> {
    ("sans-serif", size).into_font().style(FontStyle::Bold)
}

pub(super) fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

/// What a legend line shows.
enum Mark {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Block(RGBColor, f64),
}

/// Title, subtitle, and the plot and legend areas.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: Figure,
    d: &RunData,
    note: &str,
) -> Result<Areas<DB>, String> {
    let run = &d.scenario.run;
    let v = &d.scenario.validator;
    let sub = format!(
        "{} tokens · {} to {} · validator {} (window {} back, {} ahead){}",
        thousands(run.tokens as f64),
        date(run.start),
        date(run.end()),
        v.preset.as_deref().unwrap_or("custom"),
        v.window_back,
        v.window_ahead,
        if note.is_empty() {
            String::new()
        } else {
            format!(" · {note}")
        }
    );
    titled(
        root,
        &format!("{} — {}", fig.title(), run.name),
        &sub,
        LEGEND_W,
    )
}

/// The house style of every axis: label sizes, and grid lines at the ticks only.
pub(super) fn house<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    label: u32,
    desc: u32,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style(font(label))
        .axis_desc_style(font(desc))
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
}

/// Clears the chart, writes its title and subtitle, and splits the rest into the plot and a
/// legend panel `legend_w` pixels wide on the right.
pub(super) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    sub: &str,
    legend_w: u32,
) -> Result<Areas<DB>, String> {
    root.fill(&WHITE).map_err(e)?;
    let (head, body) = root.split_vertically(100);
    head.draw(&Text::new(title.to_string(), (30, 16), bold(34)))
        .map_err(e)?;
    head.draw(&Text::new(sub.to_string(), (32, 62), font(21).color(&GREY)))
        .map_err(e)?;
    Ok(body.split_horizontally(WIDTH - legend_w))
}

fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    heading: &str,
    entries: &[(String, Mark)],
) -> R {
    let mut y = 30;
    if !heading.is_empty() {
        area.draw(&Text::new(heading.to_string(), (10, y), bold(20)))
            .map_err(e)?;
        y += 36;
    }
    for (label, mark) in entries {
        let mid = y + 11;
        match mark {
            Mark::Line(c, w) => area.draw(&PathElement::new(
                vec![(10, mid), (52, mid)],
                c.stroke_width(*w),
            )),
            Mark::Dashed(c) => {
                area.draw(&PathElement::new(
                    vec![(10, mid), (22, mid)],
                    c.stroke_width(2),
                ))
                .map_err(e)?;
                area.draw(&PathElement::new(
                    vec![(28, mid), (40, mid)],
                    c.stroke_width(2),
                ))
                .map_err(e)?;
                area.draw(&PathElement::new(
                    vec![(46, mid), (52, mid)],
                    c.stroke_width(2),
                ))
            }
            Mark::Block(c, a) => area.draw(&Rectangle::new(
                [(10, y + 2), (52, y + 20)],
                c.mix(*a).filled(),
            )),
        }
        .map_err(e)?;
        area.draw(&Text::new(label.clone(), (62, y), font(19)))
            .map_err(e)?;
        y += 32;
    }
    Ok(())
}

/// 1234567 -> "1,234,567".
pub fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn date(t: Millis) -> String {
    let (y, m, dd) = civil_from_days(t.div_euclid(DAY));
    format!("{y:04}-{m:02}-{dd:02}")
}

/// Days since the start of the middle of bucket `i`.
fn mid(d: &RunData, i: usize) -> f64 {
    let (s, t) = d.buckets[i];
    ((s + t) / 2 - d.scenario.run.start) as f64 / DAY as f64
}

fn span_days(d: &RunData) -> f64 {
    ((d.scenario.run.end() - d.scenario.run.start) as f64 / DAY as f64).max(1.0 / 24.0)
}

/// A date label for a time axis position, as precise as the horizon needs.
fn day_label(d: &RunData, x: f64) -> String {
    let t = d.scenario.run.start + (x * DAY as f64) as Millis;
    let (y, m, dd) = civil_from_days(t.div_euclid(DAY));
    let span = span_days(d);
    if span <= 3.0 {
        let h = t.rem_euclid(DAY) / 3_600_000;
        format!("{m:02}-{dd:02} {h:02}:00")
    } else if span <= 92.0 {
        format!("{y:04}-{m:02}-{dd:02}")
    } else if span <= 4.0 * 366.0 {
        format!("{y:04}-{m:02}")
    } else {
        format!("{y:04}")
    }
}

/// Runs of consecutive defined points.
fn runs(xs: &[f64], ys: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (x, y) in xs.iter().zip(ys) {
        match y {
            Some(v) if v.is_finite() => out.last_mut().expect("non-empty").push((*x, *v)),
            _ => {
                if !out.last().expect("non-empty").is_empty() {
                    out.push(Vec::new());
                }
            }
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, what: &str) -> R {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        what.to_string(),
        (
            w as i32 / 2 - 8 * what.len() as i32 / 2 * 2 / 2,
            h as i32 / 2,
        ),
        font(26).color(&GREY),
    ))
    .map_err(e)
}

/// Draws a line series with gaps where values are missing, and a dot for isolated points.
fn line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<DB, CT>,
    xs: &[f64],
    ys: &[Option<f64>],
    style: ShapeStyle,
    dashed: bool,
) -> R {
    for run in runs(xs, ys) {
        if run.len() == 1 {
            chart
                .draw_series(std::iter::once(Circle::new(run[0], 4, style.filled())))
                .map_err(e)?;
        } else if dashed {
            chart
                .draw_series(DashedLineSeries::new(run, 10, 6, style))
                .map_err(e)?;
        } else {
            chart.draw_series(LineSeries::new(run, style)).map_err(e)?;
        }
    }
    Ok(())
}

fn who(d: &RunData) -> Vec<usize> {
    let n = d.populations();
    if n > 1 {
        (0..=n).collect()
    } else {
        vec![0]
    }
}

pub fn draw<DB: DrawingBackend>(fig: Figure, d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    match fig {
        Figure::Acceptance => acceptance(d, root),
        Figure::Rejections => rejections(d, root),
        Figure::ClockError => clock_error(d, root),
        Figure::Resync => resync(d, root),
        Figure::Lifetime => lifetime(d, root),
        Figure::ErrorHistogram => histogram(d, root),
    }
}

fn acceptance<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let (plot, leg) = frame(root, Figure::Acceptance, d, "per time bucket")?;
    let xs: Vec<f64> = (0..d.buckets.len()).map(|i| mid(d, i)).collect();
    let pct = |v: Vec<Option<f64>>| {
        v.into_iter()
            .map(|x| x.map(|r| r * 100.0))
            .collect::<Vec<_>>()
    };
    let series: RateSeries = who(d)
        .into_iter()
        .map(|i| {
            (
                i,
                pct(d.ts_col(i, |r| get(r.counts.first_try_acceptance_rate))),
                pct(d.ts_col(i, |r| get(r.counts.login_success_rate))),
            )
        })
        .collect();
    let lowest = series
        .iter()
        .flat_map(|s| s.1.iter().chain(s.2.iter()))
        .flatten()
        .fold(100.0f64, |a, b| a.min(*b));
    if lowest == 100.0 && series.iter().all(|s| s.1.iter().all(Option::is_none)) {
        return no_data(&plot, "No logins in this run");
    }
    let lo = ((lowest - 2.0) / 5.0).floor().max(0.0) * 5.0;
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(ticked(0.0..span_days(d), time_ticks(d, 12)), lo..100.5)
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Date (UTC)")
        .y_desc("Share of logins (%)")
        .x_label_formatter(&|x| day_label(d, *x))
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .x_labels(8)
        .y_labels(10)
        .draw()
        .map_err(e)?;
    let mut entries = Vec::new();
    for (i, first, ok) in &series {
        let c = colour(d, *i);
        line(&mut chart, &xs, first, c.stroke_width(3), false)?;
        line(&mut chart, &xs, ok, c.stroke_width(2), true)?;
        entries.push((d.names[*i].clone(), Mark::Line(c, 4)));
    }
    entries.push((String::new(), Mark::Block(WHITE, 0.0)));
    entries.push(("first try".into(), Mark::Line(GREY, 3)));
    entries.push(("after retries / recovery".into(), Mark::Dashed(GREY)));
    legend(&leg, "Population", &entries)
}

/// A count of a timeseries row.
type CountOf = fn(&CountCells) -> u64;

const REASONS: [(CountOf, &str, (u8, u8, u8)); 5] = [
    (|c| c.rejected_out_of_window, "out of window", (225, 87, 89)),
    (|c| c.rejected_replay, "replay", (242, 142, 43)),
    (|c| c.rejected_locked, "locked", (176, 122, 161)),
    (|c| c.rejected_typo, "typo", (78, 121, 167)),
    (|c| c.rejected_dead, "token dead", (110, 110, 110)),
];

/// A count per bucket of one name, as numbers.
fn count(d: &RunData, who: usize, f: CountOf) -> Vec<Option<f64>> {
    d.ts_col(who, |r| Some(f(&r.counts) as f64))
}

fn rejections<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let all = d.populations();
    let (plot, leg) = frame(root, Figure::Rejections, d, "all populations, stacked")?;
    let attempts = count(d, all, |c| c.attempts);
    let layers: Vec<Vec<f64>> = REASONS
        .iter()
        .map(|(col, ..)| {
            count(d, all, *col)
                .iter()
                .zip(&attempts)
                .map(|(r, a)| match (r, a) {
                    (Some(r), Some(a)) if *a > 0.0 => r / a * 1000.0,
                    _ => 0.0,
                })
                .collect()
        })
        .collect();
    let n = d.buckets.len();
    let mut tops = vec![vec![0.0; n]; REASONS.len()];
    for b in 0..n {
        let mut acc = 0.0;
        for (k, layer) in layers.iter().enumerate() {
            acc += layer[b];
            tops[k][b] = acc;
        }
    }
    let ymax = tops
        .last()
        .map_or(0.0, |t| t.iter().cloned().fold(0.0, f64::max));
    if ymax <= 0.0 {
        return no_data(&plot, "No rejected attempts in this run");
    }
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(
            ticked(0.0..span_days(d), time_ticks(d, 12)),
            0.0..ymax * 1.12,
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Date (UTC)")
        .y_desc("Rejected attempts per 1,000 attempts")
        .x_label_formatter(&|x| day_label(d, *x))
        .x_labels(8)
        .y_labels(10)
        .draw()
        .map_err(e)?;
    let mut entries = Vec::new();
    for k in (0..REASONS.len()).rev() {
        let (r, g, b) = REASONS[k].2;
        let c = RGBColor(r, g, b);
        let mut pts: Vec<(f64, f64)> = Vec::with_capacity(2 * n + 2);
        for (&(s, t), &top) in d.buckets.iter().zip(&tops[k]) {
            let x0 = (s - d.scenario.run.start) as f64 / DAY as f64;
            let x1 = (t - d.scenario.run.start) as f64 / DAY as f64;
            pts.push((x0, top));
            pts.push((x1, top));
        }
        let mut poly = pts.clone();
        poly.push((pts.last().map_or(0.0, |p| p.0), 0.0));
        poly.push((pts.first().map_or(0.0, |p| p.0), 0.0));
        chart
            .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.85).filled())))
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(1)))
            .map_err(e)?;
    }
    for (col, label, (r, g, b)) in REASONS.iter().rev() {
        let total: f64 = count(d, all, *col).iter().flatten().sum();
        entries.push((
            format!("{label} ({})", thousands(total)),
            Mark::Block(RGBColor(*r, *g, *b), 0.85),
        ));
    }
    legend(&leg, "Reason (total)", &entries)
}

/// TOTP populations: the ones with a clock.
fn clocked(d: &RunData) -> Vec<usize> {
    (0..d.populations())
        .filter(|&i| d.scenario.populations[i].token.kind != TokenKind::Hotp)
        .collect()
}

/// Window edges in seconds of clock error (before any drift is learned).
fn edges(d: &RunData, pop: usize) -> Vec<(f64, String)> {
    let v = &d.scenario.validator;
    let step = d.scenario.populations[pop].token.step_s as f64;
    let (b, a) = (v.window_back as f64 * step, v.window_ahead as f64 * step);
    if (a - b).abs() < 1e-9 {
        vec![(
            a.max(step * 0.5),
            format!("window edge ±{}", format_duration(a)),
        )]
    } else {
        vec![
            (
                b.max(step * 0.5),
                format!("window back {}", format_duration(b)),
            ),
            (
                a.max(step * 0.5),
                format!("window ahead {}", format_duration(a)),
            ),
        ]
    }
}

const FLOOR_S: f64 = 0.01;

fn clock_error<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let (plot, leg) = frame(root, Figure::ClockError, d, "absolute error, log scale")?;
    let pops = clocked(d);
    if pops.is_empty() {
        return no_data(&plot, "No TOTP tokens: HOTP tokens have no clock");
    }
    let cols = if pops.len() == 1 {
        1
    } else if pops.len() <= 4 {
        2
    } else {
        3
    };
    let rows = pops.len().div_ceil(cols);
    let panels = plot.split_evenly((rows, cols));
    let xs: Vec<f64> = (0..d.buckets.len()).map(|i| mid(d, i)).collect();
    let label_size = if rows > 2 { 15 } else { 19 };
    for (k, &p) in pops.iter().enumerate() {
        let area = &panels[k];
        let col = |f: fn(&OffsetCells) -> Option<Secs>| {
            d.ts_col(p, |r| get(f(&r.offsets)))
                .into_iter()
                .map(|v| v.map(|x| x.max(FLOOR_S)))
                .collect::<Vec<_>>()
        };
        let (p05, p25, p50, p75, p95, max) = (
            col(|o| o.offset_s_p05),
            col(|o| o.offset_s_p25),
            col(|o| o.offset_s_p50),
            col(|o| o.offset_s_p75),
            col(|o| o.offset_s_p95),
            col(|o| o.offset_s_max),
        );
        let top = max
            .iter()
            .flatten()
            .chain(edges(d, p).iter().map(|x| &x.0))
            .fold(1.0f64, |a, b| a.max(*b));
        let mut chart = ChartBuilder::on(area)
            .margin(14)
            .caption(&d.names[p], bold(22).color(&colour(d, p)))
            .x_label_area_size(if rows > 2 { 40 } else { 56 })
            .y_label_area_size(if cols > 1 { 80 } else { 100 })
            .build_cartesian_2d(
                ticked(
                    0.0..span_days(d),
                    time_ticks(
                        d,
                        if cols == 1 {
                            12
                        } else if cols == 2 {
                            6
                        } else {
                            4
                        },
                    ),
                ),
                ticked(
                    (FLOOR_S..top * 3.0).log_scale(),
                    log_ticks(FLOOR_S, top * 3.0),
                ),
            )
            .map_err(e)?;
        house(&mut chart.configure_mesh(), label_size, label_size + 1)
            .x_desc(if k + cols >= pops.len() {
                "Date (UTC)"
            } else {
                ""
            })
            .y_desc("Clock error (s)")
            .x_label_formatter(&|x| day_label(d, *x))
            .y_label_formatter(&|y| short_seconds(*y))
            .y_labels(8)
            .draw()
            .map_err(e)?;
        let c = colour(d, p);
        for (lo, hi, alpha) in [(&p05, &p95, 0.18), (&p25, &p75, 0.38)] {
            let both: Vec<Option<(f64, f64)>> =
                lo.iter().zip(hi.iter()).map(|(a, b)| a.zip(*b)).collect();
            let ys: Vec<Option<f64>> = both.iter().map(|v| v.map(|x| x.0)).collect();
            for run in runs(&xs, &ys) {
                let first = xs.iter().position(|x| *x == run[0].0).expect("from xs");
                let upper: Vec<(f64, f64)> = (first..first + run.len())
                    .map(|i| (xs[i], both[i].expect("run").1))
                    .collect();
                let mut poly = run.clone();
                poly.extend(upper.into_iter().rev());
                chart
                    .draw_series(std::iter::once(Polygon::new(poly, c.mix(alpha).filled())))
                    .map_err(e)?;
            }
        }
        line(&mut chart, &xs, &p50, c.stroke_width(3), false)?;
        line(&mut chart, &xs, &max, c.stroke_width(1), true)?;
        for (edge, _) in edges(d, p) {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, edge), (span_days(d), edge)],
                    12,
                    8,
                    RGBColor(200, 30, 30).stroke_width(2),
                ))
                .map_err(e)?;
        }
    }
    let mut entries = vec![
        ("median".to_string(), Mark::Line(GREY, 3)),
        ("50% of logins".to_string(), Mark::Block(GREY, 0.38)),
        ("90% of logins".to_string(), Mark::Block(GREY, 0.18)),
        ("maximum".to_string(), Mark::Dashed(GREY)),
    ];
    for (_, label) in edges(d, pops[0]) {
        entries.push((label, Mark::Dashed(RGBColor(200, 30, 30))));
    }
    entries.push(("(before drift learning)".into(), Mark::Block(WHITE, 0.0)));
    legend(&leg, "Each panel", &entries)
}

/// Round durations for log-axis ticks: 0.01 s, 1 s, 10 s, 1 min, 10 min, 1 h, 6 h, 1 d, ...
const NICE_SECONDS: [f64; 14] = [
    0.01,
    0.1,
    1.0,
    10.0,
    60.0,
    600.0,
    3600.0,
    6.0 * 3600.0,
    86_400.0,
    7.0 * 86_400.0,
    30.0 * 86_400.0,
    182.0 * 86_400.0,
    31_557_600.0,
    315_576_000.0,
];

fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    NICE_SECONDS
        .iter()
        .cloned()
        .filter(|t| *t >= lo * 0.999 && *t <= hi)
        .collect()
}

fn short_seconds(y: f64) -> String {
    let trim = |v: f64| {
        let t = format!("{v:.2}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    match y {
        y if y < 60.0 => format!("{}s", trim(y)),
        y if y < 3600.0 => format!("{} min", trim(y / 60.0)),
        y if y < 86_400.0 => format!("{} h", trim(y / 3600.0)),
        y if y < 31_000_000.0 => format!("{} d", trim(y / 86_400.0)),
        y => format!("{} y", trim(y / 31_557_600.0)),
    }
}

/// Calendar-aligned ticks (days since the start): hours, days, months or years by horizon.
fn time_ticks(d: &RunData, max: usize) -> Vec<f64> {
    let start = d.scenario.run.start;
    let end = d.scenario.run.end();
    let span = span_days(d);
    let pos = |t: Millis| (t - start) as f64 / DAY as f64;
    let mut out = Vec::new();
    if span <= 3.0 {
        let step = if span <= 1.0 { 3 } else { 6 } * 3_600_000;
        let mut t = start.div_euclid(step) * step;
        while t <= end {
            if t >= start {
                out.push(pos(t));
            }
            t += step;
        }
    } else if span <= 92.0 {
        let every = (span / 10.0).ceil().max(1.0) as i64;
        let mut t = start.div_euclid(DAY) * DAY;
        while t <= end {
            if t >= start {
                out.push(pos(t));
            }
            t += every * DAY;
        }
    } else if span <= 4.0 * 366.0 {
        let every = if span <= 400.0 {
            1
        } else if span <= 800.0 {
            2
        } else {
            3
        };
        let mut t = crate::time::month_floor(start);
        let mut k = 0;
        while t <= end {
            let (_, m, _) = civil_from_days(t.div_euclid(DAY));
            if t >= start && (m as i64 - 1) % every == 0 {
                out.push(pos(t));
            }
            t = crate::time::next_month(t);
            k += 1;
            if k > 1000 {
                break;
            }
        }
    } else {
        let years = span / 365.25;
        let every = (years / 10.0).ceil().max(1.0) as i64;
        let (y0, ..) = civil_from_days(start.div_euclid(DAY));
        let mut y = y0;
        loop {
            let t = crate::time::days_from_civil(y, 1, 1) * DAY;
            if t > end {
                break;
            }
            if t >= start && (y - y0) % every == 0 {
                out.push(pos(t));
            }
            y += 1;
        }
    }
    if out.len() < 2 {
        out = vec![0.0, span];
    }
    let every = out.len().div_ceil(max.max(2));
    out.into_iter().step_by(every.max(1)).collect()
}

/// Stacked bars per bucket from layers of values.
fn stacked<DB: DrawingBackend>(
    d: &RunData,
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    layers: &[(String, RGBColor, Vec<f64>)],
) -> R {
    let n = d.buckets.len();
    let totals: Vec<f64> = (0..n)
        .map(|b| layers.iter().map(|l| l.2[b]).sum())
        .collect();
    let ymax = totals.iter().cloned().fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .margin(18)
        .caption(caption, bold(22))
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(
            ticked(0.0..span_days(d), time_ticks(d, 6)),
            0.0..(ymax * 1.12).max(1.0),
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 18, 20)
        .x_desc("Date (UTC)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| day_label(d, *x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_labels(6)
        // Counts are whole: no more labels than whole numbers in range, or they repeat.
        .y_labels(((ymax * 1.12).ceil() as usize + 1).clamp(2, 8))
        .draw()
        .map_err(e)?;
    if ymax <= 0.0 {
        let (w, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            "none in this run",
            (w as i32 / 2 - 80, h as i32 / 2),
            font(24).color(&GREY),
        ))
        .map_err(e)?;
        return Ok(());
    }
    let start = d.scenario.run.start;
    let mut base = vec![0.0; n];
    for (_, c, vals) in layers {
        let bars = (0..n).filter(|&b| vals[b] > 0.0).map(|b| {
            let (s, t) = d.buckets[b];
            let (x0, x1) = (
                (s - start) as f64 / DAY as f64,
                (t - start) as f64 / DAY as f64,
            );
            let gap = (x1 - x0) * 0.12;
            Rectangle::new(
                [(x0 + gap, base[b]), (x1 - gap, base[b] + vals[b])],
                c.filled(),
            )
        });
        chart.draw_series(bars).map_err(e)?;
        for b in 0..n {
            base[b] += vals[b];
        }
    }
    Ok(())
}

fn col_sum(d: &RunData, who: usize, cols: &[CountOf]) -> Vec<f64> {
    let mut out = vec![0.0; d.buckets.len()];
    for c in cols {
        for (o, v) in out.iter_mut().zip(count(d, who, *c)) {
            *o += v.unwrap_or(0.0);
        }
    }
    out
}

fn resync<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let all = d.populations();
    let (plot, leg) = frame(root, Figure::Resync, d, "all populations, per time bucket")?;
    let (left, right) = plot.split_horizontally((WIDTH - LEGEND_W) / 2);
    let rgb = |r, g, b| RGBColor(r, g, b);
    let sync_layers = vec![
        (
            "sync succeeded".to_string(),
            rgb(89, 161, 79),
            col_sum(d, all, &[|c| c.resyncs_succeeded]),
        ),
        (
            "automatic resync".to_string(),
            rgb(118, 183, 178),
            col_sum(
                d,
                all,
                &[
                    |c| c.auto_resyncs,
                    |c| c.skew_resyncs,
                    |c| c.next_code_succeeded,
                ],
            ),
        ),
        (
            "failed: outside window".to_string(),
            rgb(225, 87, 89),
            col_sum(d, all, &[|c| c.resync_failed_outside_window]),
        ),
        (
            "failed: not consecutive".to_string(),
            rgb(255, 157, 167),
            col_sum(d, all, &[|c| c.resync_failed_not_consecutive]),
        ),
        (
            "failed: replay".to_string(),
            rgb(242, 142, 43),
            col_sum(d, all, &[|c| c.resync_failed_replay]),
        ),
        (
            "failed: locked".to_string(),
            rgb(176, 122, 161),
            col_sum(d, all, &[|c| c.resync_failed_locked]),
        ),
    ];
    let ticket_layers = vec![
        (
            "ticket: lockout".to_string(),
            rgb(156, 117, 95),
            col_sum(d, all, &[|c| c.tickets_lockout]),
        ),
        (
            "ticket: reinstall".to_string(),
            rgb(78, 121, 167),
            col_sum(d, all, &[|c| c.tickets_reinstall]),
        ),
        (
            "ticket: replace failing".to_string(),
            rgb(237, 201, 72),
            col_sum(d, all, &[|c| c.tickets_replace_failing]),
        ),
        (
            "ticket: replace dead".to_string(),
            rgb(110, 110, 110),
            col_sum(d, all, &[|c| c.tickets_replace_dead]),
        ),
    ];
    stacked(
        d,
        &left,
        "Resync outcomes",
        "Resyncs per bucket",
        &sync_layers,
    )?;
    stacked(
        d,
        &right,
        "Helpdesk tickets",
        "Tickets per bucket",
        &ticket_layers,
    )?;
    let mut entries: Vec<(String, Mark)> = Vec::new();
    for (label, c, vals) in sync_layers.iter().chain(ticket_layers.iter()) {
        entries.push((
            format!("{label} ({})", thousands(vals.iter().sum::<f64>())),
            Mark::Block(*c, 1.0),
        ));
    }
    legend(&leg, "Outcome (total)", &entries)
}

fn lifetime<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let (plot, leg) = frame(root, Figure::Lifetime, d, "at each bucket's end")?;
    let (left, right) = plot.split_horizontally((WIDTH - LEGEND_W) / 2);
    let xs: Vec<f64> = (0..d.buckets.len())
        .map(|i| (d.buckets[i].1 - d.scenario.run.start) as f64 / DAY as f64)
        .collect();
    let sizes = d.scenario.population_sizes();
    let mut lowest: f64 = 100.0;
    let mut series = Vec::new();
    for i in who(d) {
        let size = if i == d.populations() {
            sizes.iter().sum::<u64>()
        } else {
            sizes[i]
        } as f64;
        let ys: Vec<Option<f64>> = d
            .life_col(i, |r| Some(r.tokens_alive as f64))
            .into_iter()
            .map(|v| v.filter(|_| size > 0.0).map(|a| a / size * 100.0))
            .collect();
        lowest = ys.iter().flatten().fold(lowest, |a, b| a.min(*b));
        series.push((i, ys));
    }
    let lo = ((lowest - 2.0) / 10.0).floor().max(0.0) * 10.0;
    let mut chart = ChartBuilder::on(&left)
        .margin(18)
        .caption("Users with a working token", bold(22))
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(ticked(0.0..span_days(d), time_ticks(d, 6)), lo..100.5)
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 18, 20)
        .x_desc("Date (UTC)")
        .y_desc("Share of users (%)")
        .x_label_formatter(&|x| day_label(d, *x))
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .x_labels(6)
        .y_labels(8)
        .draw()
        .map_err(e)?;
    let mut entries = Vec::new();
    for (i, ys) in &series {
        line(&mut chart, &xs, ys, colour(d, *i).stroke_width(3), false)?;
        entries.push((d.names[*i].clone(), Mark::Line(colour(d, *i), 4)));
    }
    let layers: Vec<(String, RGBColor, Vec<f64>)> = (0..d.populations())
        .map(|i| {
            let vals = d
                .life_col(i, |r| Some(r.replacements as f64))
                .iter()
                .zip(d.life_col(i, |r| Some(r.reinstalls as f64)))
                .map(|(a, b)| a.unwrap_or(0.0) + b.unwrap_or(0.0))
                .collect();
            (d.names[i].clone(), colour(d, i), vals)
        })
        .collect();
    stacked(
        d,
        &right,
        "Replacements and reinstalls",
        "New credentials per bucket",
        &layers,
    )?;
    let deaths: f64 = d
        .life_col(d.populations(), |r| Some(r.deaths_battery as f64))
        .iter()
        .flatten()
        .sum::<f64>()
        + d.life_col(d.populations(), |r| Some(r.deaths_expired as f64))
            .iter()
            .flatten()
            .sum::<f64>();
    entries.push((String::new(), Mark::Block(WHITE, 0.0)));
    entries.push((
        format!("{} tokens died", thousands(deaths)),
        Mark::Block(WHITE, 0.0),
    ));
    legend(&leg, "Population", &entries)
}

fn histogram<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let (plot, leg) = frame(
        root,
        Figure::ErrorHistogram,
        d,
        "tokens in use at the end, log-spaced bins",
    )?;
    let pops: Vec<usize> = clocked(d)
        .into_iter()
        .filter(|&p| !d.final_offsets[p].is_empty())
        .collect();
    if pops.is_empty() {
        return no_data(&plot, "No TOTP tokens in use at the end of the run");
    }
    let max = pops
        .iter()
        .flat_map(|&p| d.final_offsets[p].iter())
        .fold(1.0f64, |a, b| a.max(*b))
        .max(edges(d, pops[0]).iter().fold(0.0, |a, b| a.max(b.0)));
    let (lo, hi) = (FLOOR_S, max * 1.5);
    let nbins = 48;
    let ratio = (hi / lo).ln() / nbins as f64;
    let edge_of = |k: usize| lo * (ratio * k as f64).exp();
    let mut peak: f64 = 1.0;
    let mut shares = Vec::new();
    for &p in &pops {
        let xs = &d.final_offsets[p];
        let mut counts = vec![0u64; nbins];
        for x in xs {
            let k = (((x.max(lo)) / lo).ln() / ratio).floor() as usize;
            counts[k.min(nbins - 1)] += 1;
        }
        let s: Vec<f64> = counts
            .iter()
            .map(|c| *c as f64 / xs.len() as f64 * 100.0)
            .collect();
        peak = s.iter().cloned().fold(peak, f64::max);
        shares.push((p, s));
    }
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(
            ticked((lo..hi).log_scale(), log_ticks(lo, hi)),
            0.0..peak * 1.12,
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Absolute clock error at the end (s, log scale)")
        .y_desc("Share of a population's tokens (%)")
        .x_label_formatter(&|x| short_seconds(*x))
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .x_labels(10)
        .y_labels(8)
        .draw()
        .map_err(e)?;
    let mut entries = Vec::new();
    for (p, s) in &shares {
        let c = colour(d, *p);
        let mut pts = vec![(edge_of(0), 0.0)];
        for (k, v) in s.iter().enumerate() {
            pts.push((edge_of(k), *v));
            pts.push((edge_of(k + 1), *v));
        }
        pts.push((edge_of(nbins), 0.0));
        chart
            .draw_series(std::iter::once(Polygon::new(
                pts.clone(),
                c.mix(0.15).filled(),
            )))
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(3)))
            .map_err(e)?;
        entries.push((
            format!(
                "{} ({} tokens)",
                d.names[*p],
                thousands(d.final_offsets[*p].len() as f64)
            ),
            Mark::Line(c, 4),
        ));
    }
    for (edge, label) in edges(d, pops[0]) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(edge, 0.0), (edge, peak * 1.12)],
                12,
                8,
                RGBColor(200, 30, 30).stroke_width(2),
            ))
            .map_err(e)?;
        entries.push((label, Mark::Dashed(RGBColor(200, 30, 30))));
    }
    legend(&leg, "Population", &entries)
}
