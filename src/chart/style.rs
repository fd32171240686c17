//! The house style shared by every chart: fonts, palette, axes with exact ticks, titles, the
//! legend panel, and small drawing helpers.

use super::{RunData, WIDTH};
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) type R = Result<(), String>;

/// The plot area and the legend area of a chart.
pub(super) type Areas<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);

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

/// Tableau 10: distinct, colour-blind-aware, print-safe.
pub(super) const PALETTE: [(u8, u8, u8); 10] = [
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

pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);

pub(super) const LEGEND_W: u32 = 300;

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
pub(super) enum Mark {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Block(RGBColor, f64),
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

/// Writes the chart's title and subtitle (on the white page `png_of` and `svg_of` start
/// with), and splits the rest into the plot and a legend panel `legend_w` pixels wide on the
/// right.
pub(super) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    sub: &str,
    legend_w: u32,
) -> Result<Areas<DB>, String> {
    let (head, body) = root.split_vertically(100);
    head.draw(&Text::new(title.to_string(), (30, 16), bold(34)))
        .map_err(e)?;
    head.draw(&Text::new(sub.to_string(), (32, 62), font(21).color(&GREY)))
        .map_err(e)?;
    Ok(body.split_horizontally(WIDTH - legend_w))
}

pub(super) fn legend<DB: DrawingBackend>(
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

/// Runs of consecutive defined points.
pub(super) fn runs(xs: &[f64], ys: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
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

pub(super) fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, what: &str) -> R {
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
pub(super) fn line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
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
