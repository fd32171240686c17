//! Drift charts, drawn from a loaded analysis ([`DriftData`]) alone: the worst credentials'
//! observations with their fits and predicted exits, the fleet's frequency errors, the
//! timeline of predicted window exits, and offset now against frequency error.

use super::axes::{date, date_label, date_ticks, days_between};
use super::style::{bold, colour_index, e, font, house, thousands, ticked, Areas, GREY, R};
use super::{encode_png, register_fonts, Format, HEIGHT, WIDTH};
use crate::results::cells::get;
use crate::results::drift::{DriftData, DriftRow, ObservationRow};
use crate::time::{month_floor, next_month, parse_rfc3339, Millis, DAY};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// The drift charts: (file stem, title), in the order they are written.
pub const DRIFT_FIGURES: [(&str, &str); 4] = [
    ("drift_worst", "Clock drift of the worst credentials"),
    ("drift_ppm", "Clock frequency error across the fleet"),
    ("drift_exits", "Predicted exits from the validation window"),
    ("drift_scatter", "Offset now against frequency error"),
];

/// Small multiples beyond six get too small to read on a slide.
const MAX_PANELS: usize = 6;

const LEGEND_W: u32 = 330;

/// The bottom legend strip of the small multiples.
const STRIP_H: u32 = 76;

const RED: RGBColor = RGBColor(200, 30, 30);

/// Fits and extrapolations: dark, so they stand out over population-coloured observations.
const INK: RGBColor = RGBColor(35, 35, 35);

/// Every drift chart in the requested formats: (file name, bytes).
pub fn render_all(d: &DriftData, format: Format) -> Result<Vec<(String, Vec<u8>)>, String> {
    register_fonts();
    let c = Ctx::new(d);
    let mut files = Vec::new();
    for (stem, _) in DRIFT_FIGURES {
        if format != Format::Svg {
            let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
            {
                let root =
                    BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
                draw(stem, &c, &root)?;
                root.present().map_err(e)?;
            }
            files.push((format!("{stem}.png"), encode_png(&buf)?));
        }
        if format != Format::Png {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
                draw(stem, &c, &root)?;
                root.present().map_err(e)?;
            }
            files.push((format!("{stem}.svg"), svg.into_bytes()));
        }
    }
    Ok(files)
}

fn draw<DB: DrawingBackend>(stem: &str, c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    match stem {
        "drift_worst" => worst(c, root),
        "drift_ppm" => ppm_histogram(c, root),
        "drift_exits" => exits(c, root),
        _ => scatter(c, root),
    }
}

fn title(stem: &str) -> &'static str {
    DRIFT_FIGURES
        .iter()
        .find(|f| f.0 == stem)
        .map_or("", |f| f.1)
}

/// What every figure needs besides the rows: the instant "now" is, the populations in a
/// fixed order (so each keeps its colour across the figures) and the window's edges.
struct Ctx<'a> {
    d: &'a DriftData,
    now: Millis,
    pops: Vec<String>,
    edges: (f64, f64),
}

impl<'a> Ctx<'a> {
    fn new(d: &'a DriftData) -> Ctx<'a> {
        let mut pops: Vec<String> = d
            .fleet
            .iter()
            .map(|f| f.population.clone())
            .filter(|p| p != "all")
            .collect();
        for r in &d.credentials {
            if !pops.contains(&r.population) {
                pops.push(r.population.clone());
            }
        }
        // A manifest without a readable `now` still draws: the latest observation stands in.
        let now = parse_rfc3339(&d.manifest.now)
            .ok()
            .or_else(|| d.credentials.iter().map(|r| r.last_seen.0).max())
            .or_else(|| d.observations.iter().map(|o| o.time.0).max())
            .unwrap_or(0);
        let (lo, hi) = d.manifest.edges_s;
        let edges = if lo.is_finite() && hi.is_finite() {
            (lo.min(hi), lo.max(hi))
        } else {
            (0.0, 0.0)
        };
        Ctx {
            d,
            now,
            pops,
            edges,
        }
    }

    fn colour(&self, population: &str) -> RGBColor {
        colour_index(self.pops.iter().position(|p| p == population).unwrap_or(0))
    }

    /// The subtitle's parts: what was analysed, when "now" is, the window, and a figure's notes.
    fn sub(&self, notes: &[String]) -> Vec<String> {
        let m = &self.d.manifest;
        let mut parts = Vec::new();
        match m.inputs.len() {
            0 => {}
            1 => {
                let name = m.inputs[0].0.rsplit(['/', '\\']).next().unwrap_or("");
                parts.push(clip_text(name, 40));
            }
            n => parts.push(format!("{n} input files")),
        }
        parts.push(match self.d.credentials.len() {
            0 => "no credentials".to_string(),
            n => format!("{} credentials", thousands(n as f64)),
        });
        if !self.d.credentials.is_empty() || !m.now.is_empty() {
            parts.push(format!("now {}", date(self.now)));
        }
        if self.edges.1 > self.edges.0 {
            let steps = if m.step_s > 0 {
                format!(
                    " ({} back, {} ahead × {} s)",
                    m.window_back, m.window_ahead, m.step_s
                )
            } else {
                String::new()
            };
            parts.push(format!(
                "window {}{} to {}{steps}",
                m.preset
                    .as_deref()
                    .map_or(String::new(), |p| format!("{p} ")),
                seconds(self.edges.0),
                seconds(self.edges.1)
            ));
        }
        parts.extend(notes.iter().filter(|n| !n.is_empty()).cloned());
        parts
    }

    /// The house frame (title, grey subtitle, plot and legend panel), the subtitle wrapped
    /// onto a second line between its parts when one line would be cut off.
    fn frame<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        stem: &str,
        notes: &[String],
        legend_w: u32,
    ) -> Result<Areas<DB>, String> {
        root.fill(&WHITE).map_err(e)?;
        let style = font(21).color(&GREY);
        let room = WIDTH as i32 - 64;
        let mut lines: Vec<String> = vec![String::new()];
        for part in self.sub(notes) {
            let last = lines.last_mut().expect("a line");
            let joined = if last.is_empty() {
                part.clone()
            } else {
                format!("{last} · {part}")
            };
            let (w, _) = root.estimate_text_size(&joined, &style).map_err(e)?;
            if w as i32 <= room || last.is_empty() {
                *last = joined;
            } else {
                lines.push(part);
            }
        }
        root.draw(&Text::new(title(stem).to_string(), (30, 16), bold(34)))
            .map_err(e)?;
        for (i, line) in lines.iter().take(2).enumerate() {
            root.draw(&Text::new(
                line.clone(),
                (32, 62 + 27 * i as i32),
                style.clone(),
            ))
            .map_err(e)?;
        }
        let head = if lines.len() > 1 { 124 } else { 100 };
        let (_, body) = root.split_vertically(head);
        Ok(body.split_horizontally(WIDTH - legend_w))
    }
}

// ---- numbers and labels -------------------------------------------------------------------

/// A number with a true minus sign, `-0` shown as `0`.
fn num(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let zero = s
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.');
    if zero {
        s.trim_start_matches('-').to_string()
    } else {
        s.replace('-', "\u{2212}")
    }
}

/// A number with its sign always shown (`+2.10`, `−3.40`).
fn signed(v: f64, decimals: usize) -> String {
    let s = num(v, decimals);
    if v > 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{s}")
    } else {
        s
    }
}

fn seconds(v: f64) -> String {
    let d = if v.fract().abs() < 1e-9 { 0 } else { 1 };
    format!("{} s", signed(v, d))
}

fn clip_text(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// The smallest of 1, 2 and 5 times a power of ten at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let n = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|n| m <= n * (1.0 + 1e-9))
        .unwrap_or(10.0);
    n * p
}

/// Round ticks from `lo` to `hi`, about `n` of them, and the decimals they need.
fn lin_ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, usize) {
    let step = nice_step((hi - lo) / n.max(1) as f64);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    let mut decimals = 0;
    while decimals < 6 {
        let scaled = step * 10f64.powi(decimals as i32);
        if (scaled - scaled.round()).abs() < 1e-6 {
            break;
        }
        decimals += 1;
    }
    (ticks, decimals)
}

/// Integer ticks for counts.
fn count_ticks(max: f64, n: usize) -> Vec<f64> {
    let step = nice_step(max / n as f64).max(1.0).round();
    (0..=(max / step).floor() as i64)
        .map(|k| k as f64 * step)
        .collect()
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    let next = sorted[(i + 1).min(sorted.len() - 1)];
    sorted[i] + f * (next - sorted[i])
}

/// The 1st to 99th percentile range, widened by 8% of its width on each side: a handful of
/// wild estimates does not squash the bulk of the fleet into a corner.
fn robust(values: &[f64]) -> (f64, f64) {
    let mut v: Vec<f64> = values.iter().cloned().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (-1.0, 1.0);
    }
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (quantile(&v, 0.01), quantile(&v, 0.99));
    let span = hi - lo;
    if span <= 1e-9 {
        let pad = (lo.abs() * 0.1).max(1.0);
        return (lo - pad, hi + pad);
    }
    (lo - 0.08 * span, hi + 0.08 * span)
}

/// The part of segment `a`–`b` inside the box (Liang–Barsky): plotters clamps points to the
/// plot area, which bends lines that leave it, so lines are cut here instead.
fn clip(
    a: (f64, f64),
    b: (f64, f64),
    x: (f64, f64),
    y: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x.0),
        (dx, x.1 - a.0),
        (-dy, a.1 - y.0),
        (dy, y.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// A polyline cut to the box, as the runs that lie inside it.
fn clip_polyline(pts: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for w in pts.windows(2) {
        let Some((p, q)) = clip(w[0], w[1], x, y) else {
            continue;
        };
        match out.last_mut() {
            Some(run) if run.last() == Some(&p) => run.push(q),
            _ => out.push(vec![p, q]),
        }
    }
    out
}

// ---- legends and empty panels -------------------------------------------------------------

/// What a legend entry shows.
enum Key {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Block(RGBColor, f64),
    VBar(RGBColor),
    Dot(RGBColor),
    Ring(RGBColor),
    Triangle(RGBColor),
    /// Text only (a note under a heading).
    Note,
    /// A sub-heading.
    Heading,
}

const GLYPH_W: i32 = 42;

fn glyph<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, key: &Key, x: i32, mid: i32) -> R {
    let path = |pts: Vec<(i32, i32)>, s: ShapeStyle| area.draw(&PathElement::new(pts, s));
    match key {
        Key::Line(c, w) => path(vec![(x, mid), (x + GLYPH_W, mid)], c.stroke_width(*w)),
        Key::Dashed(c) => {
            for (a, b) in [(0, 11), (16, 27), (32, GLYPH_W)] {
                path(vec![(x + a, mid), (x + b, mid)], c.stroke_width(2)).map_err(e)?;
            }
            Ok(())
        }
        Key::Block(c, a) => area.draw(&Rectangle::new(
            [(x, mid - 9), (x + GLYPH_W, mid + 9)],
            c.mix(*a).filled(),
        )),
        Key::VBar(c) => {
            for dx in [8, 16, 24, 32] {
                path(
                    vec![(x + dx, mid - 10 + dx % 3), (x + dx, mid + 10 - dx % 4)],
                    c.mix(0.8).stroke_width(2),
                )
                .map_err(e)?;
            }
            Ok(())
        }
        Key::Dot(c) => area.draw(&Circle::new((x + GLYPH_W / 2, mid), 7, c.filled())),
        Key::Ring(c) => area.draw(&Circle::new((x + GLYPH_W / 2, mid), 9, c.stroke_width(3))),
        Key::Triangle(c) => area.draw(&TriangleMarker::new(
            (x + GLYPH_W / 2, mid),
            8,
            c.stroke_width(2),
        )),
        Key::Note | Key::Heading => Ok(()),
    }
    .map_err(e)
}

/// A legend in a column: a heading, then one entry per line; `\n` in a label continues it on
/// the next line.
fn legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    heading: &str,
    entries: &[(String, Key)],
) -> R {
    let mut y = 30;
    if !heading.is_empty() {
        area.draw(&Text::new(heading.to_string(), (10, y), bold(20)))
            .map_err(e)?;
        y += 36;
    }
    for (label, key) in entries {
        if matches!(key, Key::Heading) {
            y += 10;
            area.draw(&Text::new(label.clone(), (10, y), bold(19)))
                .map_err(e)?;
            y += 32;
            continue;
        }
        let x = if matches!(key, Key::Note) { 10 } else { 62 };
        glyph(area, key, 10, y + 11)?;
        for (i, line) in label.split('\n').enumerate() {
            let style = if matches!(key, Key::Note) {
                font(18).color(&GREY)
            } else {
                font(19).color(&BLACK)
            };
            area.draw(&Text::new(line.to_string(), (x, y + 23 * i as i32), style))
                .map_err(e)?;
        }
        y += 23 * label.split('\n').count() as i32 + 9;
    }
    Ok(())
}

/// A legend in rows along the bottom of a figure, wrapping when a row is full.
fn legend_row<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[(String, Key)]) -> R {
    let (w, _) = area.dim_in_pixel();
    let style = font(18).color(&BLACK);
    let (mut x, mut y) = (30, 8);
    for (label, key) in entries {
        let (tw, _) = area.estimate_text_size(label, &style).map_err(e)?;
        let need = GLYPH_W + 10 + tw as i32 + 34;
        if x + need > w as i32 - 20 && x > 30 {
            x = 30;
            y += 32;
        }
        glyph(area, key, x, y + 11)?;
        area.draw(&Text::new(
            label.clone(),
            (x + GLYPH_W + 10, y),
            style.clone(),
        ))
        .map_err(e)?;
        x += need;
    }
    Ok(())
}

/// A centred grey message in place of a plot.
fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, what: &str) -> R {
    let style = font(26).color(&GREY);
    let (w, h) = area.dim_in_pixel();
    let (tw, th) = area.estimate_text_size(what, &style).map_err(e)?;
    area.draw(&Text::new(
        what.to_string(),
        ((w as i32 - tw as i32) / 2, (h as i32 - th as i32) / 2 - 40),
        style,
    ))
    .map_err(e)
}

// ---- drift_worst ----------------------------------------------------------------------------

/// What the panels drew, so the shared legend lists only that.
#[derive(Default)]
struct Drawn {
    outliers: bool,
    extrapolation: bool,
    exit: bool,
    band: bool,
    steps: bool,
    clipped: bool,
}

fn worst<DB: DrawingBackend>(c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    let mut creds: Vec<&str> = Vec::new();
    for o in &c.d.observations {
        if !creds.contains(&o.credential.as_str()) {
            if creds.len() == MAX_PANELS {
                break;
            }
            creds.push(&o.credential);
        }
    }
    let note = match creds.len() {
        0 => String::new(),
        1 => "the credential the analysis charted".to_string(),
        n => format!("the {n} credentials the analysis charted, in its order"),
    };
    let (body, _) = c.frame(root, "drift_worst", &[note], 0)?;
    if creds.is_empty() {
        return no_data(
            &body,
            "No observations to chart: the analysis charted no credential",
        );
    }
    let (_, h) = body.dim_in_pixel();
    let (grid, strip) = body.split_vertically(h - STRIP_H);
    let (rows, cols) = match creds.len() {
        1 => (1, 1),
        2 => (1, 2),
        3 => (1, 3),
        4 => (2, 2),
        _ => (2, 3),
    };
    let panels = grid.split_evenly((rows, cols));
    let mut drawn = Drawn::default();
    let mut pops: Vec<String> = Vec::new();
    for (k, cred) in creds.iter().enumerate() {
        let row = c.d.credentials.iter().find(|r| r.credential == *cred);
        let pop = row.map_or(String::new(), |r| r.population.clone());
        if !pops.contains(&pop) {
            pops.push(pop);
        }
        let bottom = k + cols >= creds.len();
        panel(
            c,
            &panels[k],
            cred,
            row,
            cols,
            bottom,
            k % cols == 0,
            &mut drawn,
        )?;
    }
    pops.sort_by_key(|p| c.pops.iter().position(|q| q == p));
    let mut entries: Vec<(String, Key)> = Vec::new();
    for p in &pops {
        let label = if pops.len() == 1 || p.is_empty() {
            "observation (offset interval)".to_string()
        } else {
            format!("observation, {p}")
        };
        entries.push((label, Key::VBar(c.colour(p))));
    }
    if drawn.outliers {
        entries.push(("outlier (set aside)".into(), Key::VBar(GREY)));
    }
    entries.push(("fitted line".into(), Key::Line(INK, 3)));
    if drawn.extrapolation {
        entries.push(("extrapolated".into(), Key::Dashed(INK)));
    }
    entries.push((
        format!(
            "window edges ({} / {})",
            seconds(c.edges.0),
            seconds(c.edges.1)
        ),
        Key::Dashed(RED),
    ));
    if drawn.exit {
        entries.push(("predicted exit".into(), Key::Dot(RED)));
    }
    if drawn.band {
        entries.push(("exit, 95% interval".into(), Key::Block(RED, 0.18)));
    }
    if drawn.steps {
        entries.push(("clock step".into(), Key::Dashed(GREY)));
    }
    if drawn.clipped {
        entries.push(("outlier off scale".into(), Key::Triangle(GREY)));
    }
    legend_row(&strip, &entries)
}

/// The panel's two caption lines: credential and population; ppm with its interval and exit.
fn caption<DB: DrawingBackend>(
    head: &DrawingArea<DB, Shift>,
    x: i32,
    cred: &str,
    row: Option<&DriftRow>,
    colour: RGBColor,
) -> R {
    let (w, _) = head.dim_in_pixel();
    let room = w as i32 - x - 10;
    let name = bold(19).color(&BLACK);
    let cred = clip_text(cred, 40);
    head.draw(&Text::new(cred.clone(), (x, 8), name.clone()))
        .map_err(e)?;
    if let Some(r) = row.filter(|r| !r.population.is_empty()) {
        let (tw, _) = head.estimate_text_size(&cred, &name).map_err(e)?;
        head.draw(&Text::new(
            format!("· {}", r.population),
            (x + tw as i32 + 8, 9),
            font(17).color(&colour),
        ))
        .map_err(e)?;
    }
    let Some(r) = row else {
        return Ok(());
    };
    let ppm = match (get(r.ppm), get(r.ppm_ci95_low), get(r.ppm_ci95_high)) {
        (Some(p), Some(lo), Some(hi)) => {
            vec![
                format!(
                    "{} ppm (95%: {} to {})",
                    signed(p, 2),
                    signed(lo, 2),
                    signed(hi, 2)
                ),
                format!(
                    "{} ppm [{}, {}]",
                    signed(p, 2),
                    signed(lo, 2),
                    signed(hi, 2)
                ),
            ]
        }
        (Some(p), ..) => vec![format!("{} ppm", signed(p, 2))],
        _ => vec!["no slope".to_string()],
    };
    let exit = match (r.status.as_str(), r.exit) {
        ("out_now", _) => vec!["out of the window now".to_string(), "out now".to_string()],
        ("leaving", Some(t)) => vec![format!("exits {}", date(t.0)), date(t.0)],
        ("staying", _) => vec![
            "no exit within the horizon".to_string(),
            "no exit in horizon".to_string(),
        ],
        _ => vec!["exit unknown".to_string()],
    };
    let style = font(16).color(&BLACK);
    let mut text = String::new();
    // The longest wording that fits the panel.
    'fit: for p in &ppm {
        for x in &exit {
            text = format!("{p} · {x}");
            let (tw, _) = head.estimate_text_size(&text, &style).map_err(e)?;
            if tw as i32 <= room {
                break 'fit;
            }
        }
    }
    head.draw(&Text::new(text, (x, 34), style)).map_err(e)
}

#[allow(clippy::too_many_arguments)]
fn panel<DB: DrawingBackend>(
    c: &Ctx,
    area: &DrawingArea<DB, Shift>,
    cred: &str,
    row: Option<&DriftRow>,
    cols: usize,
    bottom: bool,
    left: bool,
    drawn: &mut Drawn,
) -> R {
    let mut obs: Vec<&ObservationRow> =
        c.d.observations
            .iter()
            .filter(|o| o.credential == cred)
            .collect();
    obs.sort_by_key(|o| o.time);
    let pop = row.map_or("", |r| r.population.as_str());
    let colour = c.colour(pop);
    let y_label_w = 84;
    let (head, plot) = area.split_vertically(58);
    caption(&head, y_label_w + 14, cred, row, colour)?;

    let now = c.now;
    let (t0, t_last) = (obs[0].time.0, obs[obs.len() - 1].time.0);
    let ppm = row.and_then(|r| get(r.ppm));
    let off_now = row.and_then(|r| get(r.offset_now_s));
    let status = row.map_or("unknown", |r| r.status.as_str());
    let exit = row
        .filter(|_| status == "leaving")
        .and_then(|r| r.exit)
        .map(|t| t.0);
    let early = row.and_then(|r| r.exit_ci95_early).map(|t| t.0);
    let late = row.and_then(|r| r.exit_ci95_late).map(|t| t.0);

    // Time range: the observations, now, and the exit with its interval, but never more than
    // the observed span (at least half a year) past now, so the data keeps most of the width.
    let span = (t_last - t0).max(DAY);
    let anchor = now.max(t_last);
    let cap = anchor + span.max(182 * DAY);
    let mut end = anchor + span / 12;
    if let Some(x) = exit {
        end = end.max(x + span / 12);
    }
    if let Some(l) = late.filter(|_| exit.is_some()) {
        end = end.max(l + span / 24);
    }
    let end = end.min(cap);
    let start = t0 - span / 40;
    let xd = |t: Millis| (t - start) as f64 / DAY as f64;
    let xr = (0.0, xd(end));

    // The offset the fitted line predicts at `t`, from the offset now and the slope.
    let line_at =
        |t: Millis| -> Option<f64> { Some(off_now? + ppm? * 1e-6 * (t - now) as f64 / 1000.0) };
    let hit_edge = if ppm.unwrap_or(0.0) >= 0.0 {
        c.edges.1
    } else {
        c.edges.0
    };
    let stop = match status {
        "leaving" => exit.unwrap_or(end).min(end),
        "out_now" => now,
        _ => end,
    };
    let extrapolated: Option<[(f64, f64); 2]> = match (line_at(t_last), line_at(stop)) {
        (Some(a), Some(b)) if stop > t_last => Some([
            (xd(t_last), a),
            (xd(stop), if exit == Some(stop) { hit_edge } else { b }),
        ]),
        _ => None,
    };

    // Offset range: the current segment, the window and the extrapolation always; earlier
    // segments too unless a big clock step would squash the current one flat.
    let current = obs.iter().rev().find_map(|o| o.segment);
    let mut core = vec![c.edges.0, c.edges.1];
    core.extend(off_now);
    if let Some(ex) = &extrapolated {
        core.extend([ex[0].1, ex[1].1]);
    }
    let mut full = core.clone();
    for o in &obs {
        if o.segment.is_none() {
            continue;
        }
        let v = [o.low_s.0, o.high_s.0];
        if o.segment == current {
            core.extend(v);
        }
        full.extend(v);
        full.extend(get(o.fit_s));
    }
    let minmax = |v: &[f64]| {
        v.iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(*x), b.max(*x))
            })
    };
    let (clo, chi) = minmax(&core);
    let (flo, fhi) = minmax(&full);
    let (lo, hi) = if fhi - flo <= 2.5 * (chi - clo).max(1.0) {
        (flo, fhi)
    } else {
        (clo, chi)
    };
    let pad = ((hi - lo) * 0.07).max(2.0);
    let yr = (lo - pad, hi + pad);

    let (yticks, decimals) = lin_ticks(yr.0, yr.1, 6);
    let xmax = match cols {
        1 => 12,
        2 => 7,
        _ => 5,
    };
    let axis_span = days_between(start, end);
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(6)
        .margin_right(22)
        .margin_top(4)
        .margin_bottom(6)
        .x_label_area_size(if bottom { 58 } else { 32 })
        .y_label_area_size(y_label_w)
        .build_cartesian_2d(
            ticked(xr.0..xr.1, date_ticks(start, end, xmax)),
            ticked(yr.0..yr.1, yticks),
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 15, 17)
        .x_desc(if bottom { "Date (UTC)" } else { "" })
        .y_desc(if left { "Clock offset (s)" } else { "" })
        .x_label_formatter(&|x| date_label(start, axis_span, *x))
        .y_label_formatter(&|y| num(*y, decimals))
        .draw()
        .map_err(e)?;

    // The exit's 95% interval: a light band over the panel and a bracket on the edge.
    if let (Some(a), true) = (early, exit.is_some() || status == "staying") {
        let b = late.unwrap_or(end).min(end);
        if a < end && b > a {
            let (x0, x1) = (xd(a).max(xr.0), xd(b).min(xr.1));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, yr.0), (x1, yr.1)],
                    RED.mix(0.08).filled(),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (x0, hit_edge - (yr.1 - yr.0) * 0.012),
                        (x1, hit_edge + (yr.1 - yr.0) * 0.012),
                    ],
                    RED.mix(0.35).filled(),
                )))
                .map_err(e)?;
            drawn.band = true;
        }
    }
    // Lines first, labels last: the placer keeps labels off each other.
    let (px, py) = chart.plotting_area().get_pixel_range();
    let mut labels = Placer {
        bounds: (px.start, py.start, px.end, py.end),
        taken: Vec::new(),
    };
    let mut texts: Vec<Label> = Vec::new();
    let small = font(14).color(&GREY);
    let top = py.start + 4;
    if (xr.0..=xr.1).contains(&xd(now)) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(xd(now), yr.0), (xd(now), yr.1)],
                GREY.stroke_width(1),
            )))
            .map_err(e)?;
        let x = chart.backend_coord(&(xd(now), yr.1)).0;
        let (w, _) = area.estimate_text_size("now", &small).map_err(e)?;
        texts.push((
            vec![(x - w as i32 - 5, top), (x + 5, top)],
            "now".into(),
            small.clone(),
            false,
        ));
    }
    for edge in [c.edges.0, c.edges.1] {
        if edge > yr.0 && edge < yr.1 {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xr.0, edge), (xr.1, edge)],
                    10,
                    7,
                    RED.stroke_width(2),
                ))
                .map_err(e)?;
        }
    }
    // Clock steps: a dashed grey line between the last observation before and the first after.
    for s in c.d.steps.iter().filter(|s| s.credential == cred) {
        let x = xd((s.not_before.0 + s.not_after.0) / 2);
        if !(xr.0..=xr.1).contains(&x) {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, yr.0), (x, yr.1)],
                5,
                4,
                GREY.stroke_width(1),
            ))
            .map_err(e)?;
        let text = format!("step {}", seconds(s.size_s.0));
        let (w, h) = area.estimate_text_size(&text, &small).map_err(e)?;
        let (w, h) = (w as i32, h as i32);
        let px = chart.backend_coord(&(x, yr.0)).0;
        let low = py.end - h - 5;
        texts.push((
            vec![
                (px + 5, low),
                (px - w - 5, low),
                (px + 5, top),
                (px - w - 5, top),
            ],
            text,
            small.clone(),
            false,
        ));
        drawn.steps = true;
    }
    // Observations: a bar over each interval, grey for outliers. An outlier wholly off scale
    // gets a triangle at the border; fitted observations off scale (an earlier segment beyond
    // a large step) are counted in a note instead of a row of triangles.
    let mut bars = Vec::new();
    let mut off_scale = Vec::new();
    let mut hidden: Vec<(f64, f64)> = Vec::new();
    for o in &obs {
        let (l, h) = (o.low_s.0.min(o.high_s.0), o.low_s.0.max(o.high_s.0));
        let col = if o.segment.is_some() { colour } else { GREY };
        drawn.outliers |= o.segment.is_none();
        let x = xd(o.time.0);
        if h < yr.0 || l > yr.1 {
            if o.segment.is_some() {
                hidden.push((x, 0.5 * (l + h)));
            } else {
                let y = if h < yr.0 { yr.0 } else { yr.1 };
                off_scale.push(TriangleMarker::new((x, y), 5, GREY.stroke_width(1)));
            }
            continue;
        }
        let (l, h) = (l.max(yr.0), h.min(yr.1));
        // A measured offset (no interval) would be an invisible bar: a short thick one.
        let (l, h, w) = if h - l < (yr.1 - yr.0) * 0.004 {
            let m = 0.5 * (l + h);
            (m - (yr.1 - yr.0) * 0.006, m + (yr.1 - yr.0) * 0.006, 3)
        } else {
            (l, h, 2)
        };
        bars.push(PathElement::new(
            vec![(x, l), (x, h)],
            col.mix(0.55).stroke_width(w),
        ));
    }
    chart.draw_series(bars).map_err(e)?;
    drawn.clipped |= !off_scale.is_empty();
    chart.draw_series(off_scale).map_err(e)?;
    if !hidden.is_empty() {
        let mean = hidden.iter().map(|h| h.1).sum::<f64>() / hidden.len() as f64;
        let below = mean < yr.0;
        let text = format!(
            "{} {} observations off scale, near {} s",
            if below { "↓" } else { "↑" },
            thousands(hidden.len() as f64),
            num(mean, 0)
        );
        let style = font(15).color(&RGBColor(80, 80, 80));
        let (w, h) = area.estimate_text_size(&text, &style).map_err(e)?;
        let (w, h) = (w as i32, h as i32);
        // Clear of the outlier triangles on the border.
        let y = if below { py.end - h - 10 } else { top + 6 };
        let mid = hidden.iter().map(|h| h.0).sum::<f64>() / hidden.len() as f64;
        let cx = (chart.backend_coord(&(mid, yr.0)).0 - w / 2).clamp(px.start + 6, px.end - w - 6);
        texts.push((
            vec![cx, px.start + 6, px.end - w - 6]
                .into_iter()
                .map(|x| (x, y))
                .collect(),
            text,
            style,
            true,
        ));
    }
    // The fitted line of each segment.
    let mut fits: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for o in &obs {
        if let (Some(s), Some(f)) = (o.segment, get(o.fit_s)) {
            fits.entry(s).or_default().push((xd(o.time.0), f));
        }
    }
    for pts in fits.values() {
        for run in clip_polyline(pts, xr, yr) {
            chart
                .draw_series(LineSeries::new(run, INK.stroke_width(3)))
                .map_err(e)?;
        }
    }
    if let Some([a, b]) = extrapolated {
        if let Some((p, q)) = clip(a, b, xr, yr) {
            chart
                .draw_series(DashedLineSeries::new(vec![p, q], 9, 6, INK.stroke_width(2)))
                .map_err(e)?;
            drawn.extrapolation = true;
        }
    }
    // The exit on the edge, or a pointer to it when it lies past the panel.
    if let Some(x) = exit {
        if x <= end {
            chart
                .draw_series([
                    Circle::new((xd(x), hit_edge), 8, WHITE.filled()),
                    Circle::new((xd(x), hit_edge), 6, RED.filled()),
                ])
                .map_err(e)?;
            drawn.exit = true;
        } else {
            let text = format!("exit {} →", date(x));
            let style = font(15).color(&RED);
            let (w, h) = area.estimate_text_size(&text, &style).map_err(e)?;
            let (w, h) = (w as i32, h as i32);
            let ey = chart.backend_coord(&(xr.1, hit_edge)).1;
            let x0 = px.end - w - 6;
            let order = if hit_edge > 0.5 * (yr.0 + yr.1) {
                vec![(x0, ey + 6), (x0, ey - h - 6)]
            } else {
                vec![(x0, ey - h - 6), (x0, ey + 6)]
            };
            texts.push((order, text, style, true));
        }
    }
    // The off-scale note and the exit pointer go first and are drawn even when crowded; the
    // now and step labels give way to them.
    texts.sort_by_key(|t| !t.3);
    let base = area.get_base_pixel();
    for (cands, text, style, must) in texts {
        let size = area.estimate_text_size(&text, &style).map_err(e)?;
        let at = labels.place(&cands, size).or(must.then_some(cands[0]));
        if let Some((x, y)) = at {
            area.draw(&Text::new(text, (x - base.0, y - base.1), style))
                .map_err(e)?;
        }
    }
    Ok(())
}

/// A label to place: candidate top-left corners (backend pixels) in order of preference, the
/// text, its style, and whether it is drawn even where it collides.
type Label<'a> = (Vec<(i32, i32)>, String, TextStyle<'a>, bool);

/// Text boxes (backend pixels) already placed in a panel, so the next label goes where it
/// covers none of them.
struct Placer {
    bounds: (i32, i32, i32, i32),
    taken: Vec<(i32, i32, i32, i32)>,
}

impl Placer {
    /// The first candidate top-left corner whose box lies inside the plot and clear of the
    /// labels placed so far.
    fn place(&mut self, cands: &[(i32, i32)], (w, h): (u32, u32)) -> Option<(i32, i32)> {
        let (b, taken) = (self.bounds, &self.taken);
        let found = cands.iter().copied().find(|&(x, y)| {
            let r = (x, y, x + w as i32, y + h as i32);
            let inside = r.0 >= b.0 && r.1 >= b.1 && r.2 <= b.2 && r.3 <= b.3;
            inside
                && taken
                    .iter()
                    .all(|t| r.2 + 6 <= t.0 || t.2 + 6 <= r.0 || r.3 + 3 <= t.1 || t.3 + 3 <= r.1)
        })?;
        self.taken
            .push((found.0, found.1, found.0 + w as i32, found.1 + h as i32));
        Some(found)
    }
}

// ---- drift_ppm ------------------------------------------------------------------------------

fn ppm_histogram<DB: DrawingBackend>(c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    let vals: Vec<(usize, f64)> =
        c.d.credentials
            .iter()
            .filter_map(|r| {
                let p = c.pops.iter().position(|q| *q == r.population).unwrap_or(0);
                Some((p, get(r.ppm)?))
            })
            .collect();
    let without = c.d.credentials.len() - vals.len();
    if vals.is_empty() {
        let (plot, _) = c.frame(root, "drift_ppm", &[], LEGEND_W)?;
        return no_data(&plot, "No credential has a frequency estimate (ppm)");
    }
    let mut sorted: Vec<f64> = vals.iter().map(|v| v.1).collect();
    sorted.sort_by(f64::total_cmp);
    let (lo, hi) = robust(&sorted);
    // Bins: the Freedman–Diaconis width rounded to 1, 2 or 5, kept to 20–60 bins across the
    // range so the shape shows without single-credential noise.
    let iqr = quantile(&sorted, 0.75) - quantile(&sorted, 0.25);
    let fd = 2.0 * iqr / (sorted.len() as f64).cbrt();
    let mut h = nice_step(fd.max((hi - lo) / 60.0));
    if (hi - lo) / h < 20.0 {
        h = nice_step((hi - lo) / 40.0);
    }
    let b0 = (lo / h).floor() * h;
    let nb = (((hi - b0) / h).ceil() as usize).max(1);
    let b1 = b0 + nb as f64 * h;
    let npop = c.pops.len().max(1);
    let mut counts = vec![vec![0u64; nb]; npop];
    let (mut below, mut above) = (0, 0);
    for (p, v) in &vals {
        if *v < b0 {
            below += 1;
        } else if *v >= b1 {
            above += 1;
        } else {
            let k = (((v - b0) / h).floor() as usize).min(nb - 1);
            counts[*p][k] += 1;
        }
    }
    let (_, hd) = lin_ticks(0.0, h * 4.0, 4);
    let bin_note = format!("bins of {} ppm", num(h, hd.max(decimals_of(h))));
    let mut notes = vec![bin_note];
    if below + above > 0 {
        notes.push(format!(
            "{} outside the range shown ({} below, {} above)",
            thousands((below + above) as f64),
            thousands(below as f64),
            thousands(above as f64)
        ));
    }
    if without > 0 {
        notes.push(format!("{} without a ppm", thousands(without as f64)));
    }
    let (plot, leg) = c.frame(root, "drift_ppm", &notes, LEGEND_W)?;
    let tops: Vec<u64> = (0..nb)
        .map(|k| counts.iter().map(|cs| cs[k]).sum())
        .collect();
    let peak = tops.iter().cloned().max().unwrap_or(0).max(1) as f64;
    let ytop = peak * 1.16;
    let (xticks, xd) = lin_ticks(b0, b1, 10);
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(30)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d(
            ticked(b0..b1, xticks),
            ticked(0.0..ytop, count_ticks(ytop, 8)),
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .disable_x_mesh()
        .x_desc("Frequency error (ppm)")
        .y_desc("Credentials")
        .x_label_formatter(&|x| num(*x, xd))
        .y_label_formatter(&|y| thousands(*y))
        .draw()
        .map_err(e)?;
    // Stacked bars in population order, a white outline keeping neighbouring bins apart.
    let mut base = vec![0u64; nb];
    for (p, cs) in counts.iter().enumerate() {
        let col = colour_index(p);
        for k in 0..nb {
            if cs[k] == 0 {
                continue;
            }
            let x0 = b0 + k as f64 * h;
            let corners = [(x0, base[k] as f64), (x0 + h, (base[k] + cs[k]) as f64)];
            chart
                .draw_series([
                    Rectangle::new(corners, col.mix(0.85).filled()),
                    Rectangle::new(corners, WHITE.stroke_width(1)),
                ])
                .map_err(e)?;
            base[k] += cs[k];
        }
    }
    // The fleet median: the analysis' own figure when it wrote one.
    let all = c.d.fleet.iter().find(|f| f.population == "all");
    let median = all
        .and_then(|f| get(f.ppm_p50))
        .unwrap_or_else(|| quantile(&sorted, 0.5));
    if median >= b0 && median <= b1 {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(median, 0.0), (median, ytop)],
                10,
                6,
                INK.stroke_width(2),
            ))
            .map_err(e)?;
        let right = (median - b0) / (b1 - b0) > 0.7;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((median, ytop))
                    + Text::new(
                        format!("fleet median {} ppm", signed(median, 2)),
                        (if right { -10 } else { 10 }, 10),
                        font(19).color(&INK).pos(Pos::new(
                            if right { HPos::Right } else { HPos::Left },
                            VPos::Top,
                        )),
                    ),
            ))
            .map_err(e)?;
    }
    let mut entries = Vec::new();
    for (p, name) in c.pops.iter().enumerate() {
        let mut v: Vec<f64> = vals.iter().filter(|x| x.0 == p).map(|x| x.1).collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        entries.push((
            format!(
                "{} ({})\nmedian {} ppm",
                clip_text(name, 20),
                thousands(v.len() as f64),
                signed(quantile(&v, 0.5), 2)
            ),
            Key::Block(colour_index(p), 0.85),
        ));
    }
    entries.push(("fleet median".into(), Key::Dashed(INK)));
    if let Some(f) = all {
        entries.push(("Fleet (ppm)".into(), Key::Heading));
        if let (Some(p10), Some(p90)) = (get(f.ppm_p10), get(f.ppm_p90)) {
            entries.push((
                format!("10% to 90%: {} to {}", signed(p10, 2), signed(p90, 2)),
                Key::Note,
            ));
        }
        if let Some(sd) = get(f.ppm_sd) {
            entries.push((
                format!("spread (sd): {}\nwith estimation noise removed", num(sd, 2)),
                Key::Note,
            ));
        }
    }
    legend_column(&leg, "Population", &entries)
}

/// Decimals needed to write `v` exactly (up to 6).
fn decimals_of(v: f64) -> usize {
    (0..6)
        .find(|d| {
            let s = v * 10f64.powi(*d as i32);
            (s - s.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}

// ---- drift_exits ----------------------------------------------------------------------------

fn exits<DB: DrawingBackend>(c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    // Inactive credentials (not seen for 90 days) are out of the fleet's shares, as in fleet.csv.
    let total =
        c.d.credentials
            .iter()
            .filter(|r| r.status != "inactive")
            .count();
    if total == 0 {
        let (plot, _) = c.frame(root, "drift_exits", &[], LEGEND_W)?;
        return no_data(&plot, "No credentials in this analysis");
    }
    // Calendar months from the current one: bar k counts exits in month k (the first from now).
    let m0 = month_floor(c.now);
    let leaving: Vec<(usize, Millis)> =
        c.d.credentials
            .iter()
            .filter(|r| r.status == "leaving")
            .filter_map(|r| {
                let p = c.pops.iter().position(|q| *q == r.population).unwrap_or(0);
                Some((p, r.exit?.0))
            })
            .collect();
    let last = leaving.iter().map(|x| x.1).max().unwrap_or(c.now);
    let mut bounds = vec![m0];
    while bounds.len() <= 60 && (bounds.len() <= 24 || *bounds.last().expect("m0") <= last) {
        let next = next_month(*bounds.last().expect("m0"));
        bounds.push(next);
    }
    let months = bounds.len() - 1;
    let npop = c.pops.len().max(1);
    let mut counts = vec![vec![0u64; months]; npop];
    let mut later = 0u64;
    let mut exits_sorted: Vec<Millis> = Vec::new();
    for (p, t) in &leaving {
        exits_sorted.push(*t);
        match bounds.iter().rposition(|b| b <= t) {
            _ if *t >= bounds[months] => later += 1,
            Some(k) => counts[*p][k] += 1,
            None => counts[*p][0] += 1,
        }
    }
    exits_sorted.sort_unstable();
    let count = |s: &str| c.d.credentials.iter().filter(|r| r.status == s).count();
    let (out_now, staying, unknown) = (count("out_now"), count("staying"), count("unknown"));
    let share = |upto: Millis| {
        let gone = exits_sorted.partition_point(|t| *t < upto);
        (out_now + gone) as f64 / total as f64 * 100.0
    };
    // Month positions: month k spans x = k..k+1; now sits inside month 0.
    let x_now = ((c.now - m0) as f64 / (bounds[1] - m0) as f64).clamp(0.0, 1.0);
    let mut cum = vec![(x_now, share(c.now))];
    cum.extend((1..=months).map(|k| (k as f64, share(bounds[k]))));

    let mut notes = vec![format!(
        "first bar from now to the end of {}",
        &date(m0)[..7]
    )];
    if later > 0 {
        notes.push(format!(
            "{} exits after {}",
            thousands(later as f64),
            &date(bounds[months] - DAY)[..7]
        ));
    }
    let (plot, leg) = c.frame(root, "drift_exits", &notes, LEGEND_W)?;
    let tops: Vec<u64> = (0..months)
        .map(|k| counts.iter().map(|cs| cs[k]).sum())
        .collect();
    let ytop = (tops.iter().cloned().max().unwrap_or(0) as f64 * 1.15).max(4.0);
    let smax = cum.iter().map(|p| p.1).fold(0.0, f64::max);
    let stop = (nice_step(smax * 1.15 / 5.0) * 5.0).clamp(5.0, 100.0);
    let (sticks, sd) = lin_ticks(0.0, stop, 5);
    let every = match months {
        0..=12 => 1,
        13..=24 => 2,
        25..=36 => 3,
        _ => 6,
    };
    let xticks: Vec<f64> = (0..months)
        .filter(|k| {
            let (_, m, _) = crate::time::civil_from_days(bounds[*k].div_euclid(DAY));
            (m as usize - 1) % every == 0
        })
        .map(|k| k as f64 + 0.5)
        .collect();
    let month_label = |x: f64| {
        let k = (x.floor() as usize).min(months - 1);
        date(bounds[k])[..7].to_string()
    };
    let xr = 0.0..months as f64;
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .right_y_label_area_size(100)
        .build_cartesian_2d(
            ticked(xr.clone(), xticks.clone()),
            ticked(0.0..ytop, count_ticks(ytop, 8)),
        )
        .map_err(e)?
        .set_secondary_coord(ticked(xr, xticks), ticked(0.0..stop, sticks));
    house(&mut chart.configure_mesh(), 20, 22)
        .disable_x_mesh()
        .x_desc("Month of the predicted exit (UTC)")
        .y_desc("Credentials leaving in the month")
        .x_label_formatter(&|x| month_label(*x))
        .y_label_formatter(&|y| thousands(*y))
        .draw()
        .map_err(e)?;
    chart
        .configure_secondary_axes()
        .label_style(font(20))
        .axis_desc_style(font(22))
        .y_desc("Fleet out of the window (%, cumulative)")
        .y_label_formatter(&|y| format!("{}%", num(*y, sd)))
        .draw()
        .map_err(e)?;
    let mut base = vec![0u64; months];
    for (p, cs) in counts.iter().enumerate() {
        let col = colour_index(p);
        for k in 0..months {
            if cs[k] == 0 {
                continue;
            }
            let x0 = if k == 0 { x_now.min(0.85) } else { k as f64 };
            let corners = [
                (x0 + 0.08, base[k] as f64),
                (k as f64 + 0.92, (base[k] + cs[k]) as f64),
            ];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    corners,
                    col.mix(0.85).filled(),
                )))
                .map_err(e)?;
            base[k] += cs[k];
        }
    }
    chart
        .draw_secondary_series(LineSeries::new(cum.clone(), INK.stroke_width(3)))
        .map_err(e)?;
    // A dot per month while they stay apart; beyond two years the line alone reads better.
    if months <= 24 {
        chart
            .draw_secondary_series(cum.iter().map(|p| Circle::new(*p, 4, INK.filled())))
            .map_err(e)?;
    }
    let end = cum[cum.len() - 1];
    chart
        .draw_secondary_series(std::iter::once(
            EmptyElement::at(end)
                + Text::new(
                    format!("{}%", num(end.1, 1)),
                    (-6, -10),
                    bold(19)
                        .color(&INK)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                ),
        ))
        .map_err(e)?;

    let mut entries = Vec::new();
    for (p, name) in c.pops.iter().enumerate() {
        let n: u64 = counts.get(p).map_or(0, |cs| cs.iter().sum());
        if n == 0 && c.pops.len() > 1 {
            continue;
        }
        entries.push((
            format!("{}: {} leaving", clip_text(name, 18), thousands(n as f64)),
            Key::Block(colour_index(p), 0.85),
        ));
    }
    entries.push((
        "share of the fleet out\nof the window (right axis)".into(),
        Key::Line(INK, 3),
    ));
    entries.push(("Credentials".into(), Key::Heading));
    let pct = |n: usize| format!("{}%", num(n as f64 / total as f64 * 100.0, 1));
    entries.push((
        format!(
            "out of the window now: {} ({})",
            thousands(out_now as f64),
            pct(out_now)
        ),
        Key::Note,
    ));
    entries.push((
        format!(
            "leaving by {}: {}",
            &date(bounds[months] - DAY)[..7],
            thousands((leaving.len() as u64 - later) as f64)
        ),
        Key::Note,
    ));
    if later > 0 {
        entries.push((
            format!("leaving later: {}", thousands(later as f64)),
            Key::Note,
        ));
    }
    entries.push((
        format!("no exit within the horizon: {}", thousands(staying as f64)),
        Key::Note,
    ));
    if unknown > 0 {
        entries.push((
            format!("no slope: {}", thousands(unknown as f64)),
            Key::Note,
        ));
    }
    legend_column(&leg, "Leaving, by population", &entries)
}

// ---- drift_scatter --------------------------------------------------------------------------

fn scatter<DB: DrawingBackend>(c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    let pts: Vec<(usize, f64, f64, &DriftRow)> =
        c.d.credentials
            .iter()
            .filter_map(|r| {
                let p = c.pops.iter().position(|q| *q == r.population).unwrap_or(0);
                Some((p, get(r.ppm)?, get(r.offset_now_s)?, r))
            })
            .collect();
    if pts.is_empty() {
        let (plot, _) = c.frame(root, "drift_scatter", &[], LEGEND_W)?;
        return no_data(&plot, "No credential has both an offset now and a ppm");
    }
    let xs: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.2).collect();
    let xr = robust(&xs);
    let (ylo, yhi) = robust(&ys);
    // The window always shows, with room above and below it for the credentials outside.
    let ew = (c.edges.1 - c.edges.0).max(1.0);
    let (ylo, yhi) = (ylo.min(c.edges.0 - 0.3 * ew), yhi.max(c.edges.1 + 0.3 * ew));
    let (ylo, yhi) = (ylo - 0.02 * (yhi - ylo), yhi + 0.02 * (yhi - ylo));
    let yr = (ylo, yhi);
    let inside =
        |p: &(usize, f64, f64, &DriftRow)| p.1 >= xr.0 && p.1 <= xr.1 && p.2 >= yr.0 && p.2 <= yr.1;
    let outside = pts.iter().filter(|p| !inside(p)).count();
    let bars = pts.len() <= 500;
    let mut notes = Vec::new();
    if outside > 0 {
        notes.push(format!(
            "{} beyond the axes (1st–99th percentiles widened 8%), drawn at the border",
            thousands(outside as f64)
        ));
    }
    if bars {
        notes.push("lines: 95% intervals".to_string());
    }
    let (plot, leg) = c.frame(root, "drift_scatter", &notes, LEGEND_W)?;
    let (xticks, xd) = lin_ticks(xr.0, xr.1, 10);
    let (yticks, yd) = lin_ticks(yr.0, yr.1, 8);
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(30)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(ticked(xr.0..xr.1, xticks), ticked(yr.0..yr.1, yticks))
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Frequency error (ppm)")
        .y_desc("Offset now (s, device minus true time)")
        .x_label_formatter(&|x| num(*x, xd))
        .y_label_formatter(&|y| num(*y, yd))
        .draw()
        .map_err(e)?;
    // Outside the window: shaded, the edges dashed and labelled at the right.
    for (a, b) in [(c.edges.1, yr.1), (yr.0, c.edges.0)] {
        if b > a {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(xr.0, a.max(yr.0)), (xr.1, b.min(yr.1))],
                    RED.mix(0.06).filled(),
                )))
                .map_err(e)?;
        }
    }
    for (edge, above) in [(c.edges.1, true), (c.edges.0, false)] {
        if edge <= yr.0 || edge >= yr.1 {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                vec![(xr.0, edge), (xr.1, edge)],
                12,
                8,
                RED.stroke_width(2),
            ))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((xr.1, edge))
                    + Text::new(
                        format!("window edge {}", seconds(edge)),
                        (-8, if above { -6 } else { 6 }),
                        font(17).color(&RED).pos(Pos::new(
                            HPos::Right,
                            if above { VPos::Bottom } else { VPos::Top },
                        )),
                    ),
            ))
            .map_err(e)?;
    }
    let clamp = |v: f64, r: (f64, f64)| v.clamp(r.0, r.1);
    if bars {
        let mut lines = Vec::new();
        for (p, x, y, r) in pts.iter().filter(|p| inside(p)) {
            let col = colour_index(*p).mix(0.3).stroke_width(1);
            if let (Some(a), Some(b)) = (get(r.ppm_ci95_low), get(r.ppm_ci95_high)) {
                lines.push(PathElement::new(
                    vec![(clamp(a, xr), *y), (clamp(b, xr), *y)],
                    col,
                ));
            }
            if let (Some(a), Some(b)) =
                (get(r.offset_now_ci95_low_s), get(r.offset_now_ci95_high_s))
            {
                lines.push(PathElement::new(
                    vec![(*x, clamp(a, yr)), (*x, clamp(b, yr))],
                    col,
                ));
            }
        }
        chart.draw_series(lines).map_err(e)?;
    }
    // Bigger populations first, so a small one stays visible on top.
    let mut order: Vec<usize> = (0..c.pops.len().max(1)).collect();
    let size = |p: usize| pts.iter().filter(|q| q.0 == p).count();
    order.sort_by_key(|p| std::cmp::Reverse(size(*p)));
    let (radius, alpha) = match pts.len() {
        0..=1000 => (5, 0.8),
        1001..=10_000 => (3, 0.55),
        _ => (2, 0.35),
    };
    for p in &order {
        let col = colour_index(*p);
        chart
            .draw_series(
                pts.iter()
                    .filter(|q| q.0 == *p && inside(q))
                    .map(|q| Circle::new((q.1, q.2), radius, col.mix(alpha).filled())),
            )
            .map_err(e)?;
        chart
            .draw_series(pts.iter().filter(|q| q.0 == *p && !inside(q)).map(|q| {
                TriangleMarker::new((clamp(q.1, xr), clamp(q.2, yr)), 7, col.stroke_width(2))
            }))
            .map_err(e)?;
    }
    let out: Vec<&(usize, f64, f64, &DriftRow)> =
        pts.iter().filter(|p| p.3.status == "out_now").collect();
    chart
        .draw_series(out.iter().map(|q| {
            Circle::new(
                (clamp(q.1, xr), clamp(q.2, yr)),
                radius + 5,
                RED.stroke_width(2),
            )
        }))
        .map_err(e)?;

    let mut entries = Vec::new();
    for (p, name) in c.pops.iter().enumerate() {
        let n = size(p);
        if n == 0 {
            continue;
        }
        entries.push((
            format!("{} ({})", clip_text(name, 18), thousands(n as f64)),
            Key::Dot(colour_index(p)),
        ));
    }
    entries.push((
        format!("out of the window now ({})", thousands(out.len() as f64)),
        Key::Ring(RED),
    ));
    entries.push(("window edges".into(), Key::Dashed(RED)));
    entries.push(("outside the window".into(), Key::Block(RED, 0.12)));
    if bars {
        entries.push((
            "95% intervals".into(),
            Key::Line(RGBColor(160, 160, 160), 1),
        ));
    }
    if outside > 0 {
        entries.push((
            format!("beyond the axes ({})", thousands(outside as f64)),
            Key::Triangle(GREY),
        ));
    }
    legend_column(&leg, "Population", &entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::cells::{Fixed, Time};
    use crate::results::drift::{DriftManifest, FleetRow, StepRow};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    const NOW: &str = "2026-01-15T00:00:00Z";
    const EDGE: f64 = 45.0;
    const HORIZON: Millis = 5 * 365 * DAY;

    /// Milliseconds from now until the line leaves ±EDGE, within the horizon.
    fn exit_after(off: f64, ppm: f64) -> Option<Millis> {
        if ppm == 0.0 {
            return None;
        }
        let edge = if ppm > 0.0 { EDGE } else { -EDGE };
        let s = (edge - off) / (ppm * 1e-6);
        let ms = (s * 1000.0) as Millis;
        (s >= 0.0 && ms <= HORIZON).then_some(ms)
    }

    fn credential(cred: &str, pop: &str, off: f64, ppm: f64, half: f64) -> DriftRow {
        let now = parse_rfc3339(NOW).unwrap();
        let out = off.abs() > EDGE;
        let dt = exit_after(off, ppm);
        // The steeper bound leaves first; the shallower one may not leave at all.
        let sign = ppm.signum();
        let early = exit_after(off, ppm + sign * half);
        let late = if (ppm - sign * half) * ppm > 0.0 {
            exit_after(off, ppm - sign * half)
        } else {
            None
        };
        let status = if out {
            "out_now"
        } else if dt.is_some() {
            "leaving"
        } else {
            "staying"
        };
        let leaving = status == "leaving";
        DriftRow {
            credential: cred.into(),
            population: pop.into(),
            first_seen: Time(now - 365 * DAY),
            last_seen: Time(now - DAY),
            observations: 120,
            outliers: 2,
            segments: 1,
            steps: 0,
            offset_now_s: Fixed::of(off),
            offset_now_ci95_low_s: Fixed::of(off - 2.5),
            offset_now_ci95_high_s: Fixed::of(off + 2.5),
            ppm: Fixed::of(ppm),
            ppm_ci95_low: Fixed::of(ppm - half),
            ppm_ci95_high: Fixed::of(ppm + half),
            ppm_from: "current".into(),
            status: status.into(),
            exit: dt.filter(|_| leaving).map(|t| Time(now + t)),
            exit_ci95_early: early.filter(|_| !out).map(|t| Time(now + t)),
            exit_ci95_late: late.filter(|_| leaving).map(|t| Time(now + t)),
            days_to_exit: dt
                .filter(|_| leaving)
                .and_then(|t| Fixed::of(t as f64 / DAY as f64)),
            stepped: false,
            too_few_observations: false,
        }
    }

    /// A clock step: days before now, and its size in seconds.
    type Step = Option<(i64, f64)>;

    /// The charted credentials: (ppm, offset now, a step).
    const WORST: [(f64, f64, Step); 6] = [
        (3.1, 51.0, None),
        (2.6, 40.2, None),
        (-2.4, -38.0, None),
        (4.0, 35.0, Some((200, -60.0))),
        (2.3, 36.0, None),
        (-2.2, -30.0, Some((120, 3600.0))),
    ];

    fn fleet_row(pop: &str, rows: &[&DriftRow]) -> FleetRow {
        let mut ppm: Vec<f64> = rows.iter().filter_map(|r| get(r.ppm)).collect();
        ppm.sort_by(f64::total_cmp);
        let mean = ppm.iter().sum::<f64>() / ppm.len() as f64;
        let sd = (ppm.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / ppm.len() as f64).sqrt();
        let n = |s: &str| rows.iter().filter(|r| r.status == s).count() as u64;
        FleetRow {
            population: pop.into(),
            credentials: rows.len() as u64,
            with_ppm: ppm.len() as u64,
            ppm_p10: Fixed::of(quantile(&ppm, 0.1)),
            ppm_p50: Fixed::of(quantile(&ppm, 0.5)),
            ppm_p90: Fixed::of(quantile(&ppm, 0.9)),
            ppm_mean: Fixed::of(mean),
            ppm_sd: Fixed::of(sd * 0.95),
            out_now: n("out_now"),
            stepped: rows.iter().filter(|r| r.stepped).count() as u64,
            ..FleetRow::default()
        }
    }

    /// 300 credentials in two populations, a few out of the window, a few stepped, one wild
    /// estimate and a few without a slope; a year of observations of six charted credentials.
    fn fleet() -> DriftData {
        let now = parse_rfc3339(NOW).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let phones = Normal::new(2.5, 4.5).unwrap();
        let hardware = Normal::new(1.0, 2.5).unwrap();
        let noise = Normal::new(0.0, 12.0).unwrap();
        let mut credentials = Vec::new();
        let mut steps = Vec::new();
        let mut observations = Vec::new();
        for (k, (ppm, off, step)) in WORST.iter().enumerate() {
            let cred = format!("worst-{k:02}");
            let pop = if k % 2 == 0 { "phones" } else { "hardware" };
            let mut r = credential(&cred, pop, *off, *ppm, 0.35);
            let slope = ppm * 1e-6 / 1000.0;
            let mut t = now - 365 * DAY;
            while t < now - DAY {
                // Before a step the offset was `size` lower than the current line says.
                let (seg, shift) = match step {
                    Some((ago, size)) if t < now - ago * DAY => (0, -size),
                    Some(_) => (1, 0.0),
                    None => (0, 0.0),
                };
                let fit = off + slope * (t - now) as f64 + shift;
                let outlier = rng.random::<f64>() < 0.03;
                let centre = if outlier {
                    fit + rng.random_range(90.0..200.0)
                        * if rng.random::<bool>() { 1.0 } else { -1.0 }
                } else {
                    fit + rng.random_range(-2.0..2.0)
                };
                let low = centre - rng.random_range(0.0..30.0);
                observations.push(ObservationRow {
                    credential: cred.clone(),
                    time: Time(t),
                    low_s: Fixed(low),
                    high_s: Fixed(low + 30.0),
                    segment: (!outlier).then_some(seg),
                    fit_s: (!outlier).then_some(Fixed(fit)),
                });
                t += rng.random_range(2 * DAY..5 * DAY);
            }
            if let Some((ago, size)) = step {
                r.steps = 1;
                r.segments = 2;
                r.stepped = true;
                steps.push(StepRow {
                    credential: cred.clone(),
                    population: pop.into(),
                    not_before: Time(now - ago * DAY - 2 * DAY),
                    not_after: Time(now - ago * DAY + DAY),
                    size_s: Fixed(*size),
                });
            }
            credentials.push(r);
        }
        for i in credentials.len()..300 {
            let pop = if i % 3 == 0 { "hardware" } else { "phones" };
            let mut ppm: f64 = if pop == "phones" {
                phones.sample(&mut rng)
            } else {
                hardware.sample(&mut rng)
            };
            if i == 150 {
                ppm = 60.0;
            }
            let mut off: f64 = noise.sample(&mut rng) + 1.5 * ppm.clamp(-10.0, 10.0);
            off = off.clamp(-44.0, 44.0);
            if i % 60 == 7 {
                off = rng.random_range(47.0..75.0) * if i % 120 == 7 { 1.0 } else { -1.0 };
            }
            let mut r = credential(&format!("cred-{i:04}"), pop, off, ppm, 0.4);
            if i % 50 == 11 {
                r.stepped = true;
                r.steps = 1;
                steps.push(StepRow {
                    credential: r.credential.clone(),
                    population: pop.into(),
                    not_before: Time(now - 90 * DAY),
                    not_after: Time(now - 88 * DAY),
                    size_s: Fixed(-3600.0),
                });
            }
            if i % 97 == 5 {
                r.ppm = None;
                r.ppm_ci95_low = None;
                r.ppm_ci95_high = None;
                r.status = "unknown".into();
                r.exit = None;
                r.exit_ci95_early = None;
                r.exit_ci95_late = None;
                r.too_few_observations = true;
            }
            credentials.push(r);
        }
        let by = |p: &str| -> Vec<&DriftRow> {
            credentials
                .iter()
                .filter(|r| p == "all" || r.population == p)
                .collect()
        };
        let fleet = vec![
            fleet_row("phones", &by("phones")),
            fleet_row("hardware", &by("hardware")),
            fleet_row("all", &by("all")),
        ];
        DriftData {
            manifest: DriftManifest {
                tool: "otpdrift".into(),
                command: "analyze".into(),
                inputs: vec![("logs/validations-2025.csv".into(), "00".into())],
                input_kind: "codes".into(),
                step_s: 30,
                window_back: 1,
                window_ahead: 1,
                edges_s: (-EDGE, EDGE),
                now: NOW.into(),
                credentials: 300,
                ..DriftManifest::default()
            },
            credentials,
            steps,
            fleet,
            windows: Vec::new(),
            observations,
        }
    }

    /// Two charted credentials: one slow to leave (its exit past the panel), one staying.
    fn two_panels() -> DriftData {
        let mut d = fleet();
        d.observations
            .retain(|o| o.credential == "worst-01" || o.credential == "worst-04");
        let now = parse_rfc3339(NOW).unwrap();
        for r in d.credentials.iter_mut() {
            if r.credential == "worst-01" {
                *r = credential("worst-01", "hardware", 10.0, 0.3, 0.25);
                r.exit = Some(Time(now + 1300 * DAY));
            }
            if r.credential == "worst-04" {
                *r = credential("worst-04", "phones", 20.0, 0.01, 0.3);
            }
        }
        for o in d.observations.iter_mut() {
            let (off, ppm) = if o.credential == "worst-01" {
                (10.0, 0.3)
            } else {
                (20.0, 0.01)
            };
            let fit = off + ppm * 1e-6 * (o.time.0 - now) as f64 / 1000.0;
            let width = o.high_s.0 - o.low_s.0;
            o.low_s = Fixed(fit - width / 2.0);
            o.high_s = Fixed(fit + width / 2.0);
            o.fit_s = o.segment.map(|_| Fixed(fit));
        }
        d
    }

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        let reader = png::Decoder::new(bytes).read_info().expect("a PNG");
        (reader.info().width, reader.info().height)
    }

    fn svgs(d: &DriftData) -> Vec<String> {
        render_all(d, Format::Svg)
            .unwrap()
            .into_iter()
            .map(|(_, b)| String::from_utf8(b).unwrap())
            .collect()
    }

    #[test]
    fn every_figure_renders_as_png_and_svg_at_slide_size() {
        let d = fleet();
        let files = render_all(&d, Format::Both).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "drift_worst.png",
                "drift_worst.svg",
                "drift_ppm.png",
                "drift_ppm.svg",
                "drift_exits.png",
                "drift_exits.svg",
                "drift_scatter.png",
                "drift_scatter.svg"
            ]
        );
        for (name, bytes) in &files {
            if name.ends_with(".png") {
                assert_eq!(png_size(bytes), (WIDTH, HEIGHT), "{name}");
            } else {
                let svg = std::str::from_utf8(bytes).unwrap();
                assert!(svg.starts_with("<svg"), "{name}");
                assert!(
                    !svg.contains("NaN") && !svg.contains("inf"),
                    "{name} has a NaN or infinite coordinate"
                );
                let stem = name.trim_end_matches(".svg");
                assert!(svg.contains(title(stem)), "{name} has no title");
                assert!(svg.contains("validations-2025.csv"), "{name} subtitle");
            }
        }
        assert_eq!(
            render_all(&d, Format::Both).unwrap(),
            files,
            "deterministic bytes"
        );
        let png_only = render_all(&d, Format::Png).unwrap();
        assert_eq!(png_only.len(), 4);
        assert!(png_only.iter().all(|f| f.0.ends_with(".png")));
    }

    #[test]
    fn the_figures_say_what_they_show() {
        let d = fleet();
        let s = svgs(&d);
        let (worst, ppm, exits, scatter) = (&s[0], &s[1], &s[2], &s[3]);
        // Every charted credential has its panel, with its ppm and exit in the caption.
        for k in 0..6 {
            assert!(worst.contains(&format!("worst-{k:02}")), "panel {k}");
        }
        assert!(worst.contains("+3.10 ppm"), "ppm in the caption");
        assert!(worst.contains("out of the window now"));
        assert!(worst.contains("Clock offset (s)") && worst.contains("Date (UTC)"));
        assert!(worst.contains("step +3600 s") && worst.contains("step \u{2212}60 s"));
        assert!(worst.contains("window edges (\u{2212}45 s / +45 s)"));
        assert!(worst.contains("outlier (set aside)"));
        assert!(
            worst.contains("off scale"),
            "the hour-old segment is off scale"
        );
        // The histogram: units, populations, the median, and the wild estimate left out.
        assert!(ppm.contains("Frequency error (ppm)") && ppm.contains("Credentials"));
        assert!(ppm.contains("phones") && ppm.contains("hardware"));
        assert!(ppm.contains("fleet median"));
        assert!(
            ppm.contains("outside the range shown (0 below, 1 above)"),
            "{ppm}"
        );
        assert!(ppm.contains("without a ppm"));
        assert!(exits.contains("Credentials leaving in the month"));
        assert!(exits.contains("Fleet out of the window (%, cumulative)"));
        assert!(
            exits.contains("2026-07") && exits.contains("2027-01"),
            "month ticks"
        );
        let out = d
            .credentials
            .iter()
            .filter(|r| r.status == "out_now")
            .count();
        assert!(exits.contains(&format!("out of the window now: {out} (")));
        assert!(scatter.contains("Offset now (s, device minus true time)"));
        assert!(scatter.contains(&format!("out of the window now ({out})")));
        assert!(scatter.contains("window edge +45 s") && scatter.contains("beyond the axes"));
    }

    #[test]
    fn an_empty_analysis_draws_no_data_panels() {
        let d = DriftData::default();
        let files = render_all(&d, Format::Both).unwrap();
        assert_eq!(files.len(), 8);
        for (name, bytes) in &files {
            if name.ends_with(".png") {
                assert_eq!(png_size(bytes), (WIDTH, HEIGHT));
            }
        }
        let s = svgs(&d);
        assert!(s[0].contains("No observations to chart"));
        assert!(s[1].contains("No credential has a frequency estimate (ppm)"));
        assert!(s[2].contains("No credentials in this analysis"));
        assert!(s[3].contains("No credential has both an offset now and a ppm"));
        for (svg, (stem, _)) in s.iter().zip(DRIFT_FIGURES) {
            assert!(svg.contains(title(stem)));
            assert!(!svg.contains("NaN"));
        }
    }

    #[test]
    fn odd_shapes_of_data_still_draw() {
        // One credential, measured offsets (no interval), a credential the rows do not know,
        // everything an outlier, and a manifest without a readable `now`.
        let mut d = fleet();
        d.manifest.now = String::new();
        d.credentials.truncate(1);
        d.fleet.clear();
        for o in &mut d.observations {
            if o.credential == "worst-01" {
                o.high_s = o.low_s;
            }
            if o.credential == "worst-02" {
                o.segment = None;
                o.fit_s = None;
            }
        }
        for svg in svgs(&d) {
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
        }
        d.observations.retain(|o| o.credential == "worst-03");
        assert!(svgs(&d)[0].contains("worst-03"));
        // Everybody identical: the ranges still have a width.
        let mut d = fleet();
        for r in &mut d.credentials {
            r.ppm = Fixed::of(1.0);
            r.offset_now_s = Fixed::of(0.0);
        }
        for svg in svgs(&d) {
            assert!(!svg.contains("NaN"));
        }
    }

    #[test]
    fn ranges_ticks_and_clipping() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(2.2), 5.0);
        assert_eq!(nice_step(31.0), 50.0);
        assert_eq!(
            lin_ticks(-12.0, 13.0, 5),
            (vec![-10.0, -5.0, 0.0, 5.0, 10.0], 0)
        );
        assert_eq!(lin_ticks(0.0, 1.0, 4).1, 1);
        assert_eq!(lin_ticks(0.0, 0.1, 4).1, 2);
        assert_eq!(num(-0.0001, 2), "0.00");
        assert_eq!(signed(2.5, 1), "+2.5");
        assert_eq!(signed(-2.5, 1), "\u{2212}2.5");
        let mut v: Vec<f64> = (0..100).map(|i| i as f64).collect();
        v.push(1e6);
        let (lo, hi) = robust(&v);
        assert!(lo < 1.0 && hi > 98.0 && hi < 200.0, "{lo} {hi}");
        // A line leaving the box is cut at its edge, not bent onto it.
        let cut = clip((0.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 5.0)).unwrap();
        assert_eq!(cut, ((0.0, 0.0), (5.0, 5.0)));
        assert!(clip((0.0, 6.0), (10.0, 7.0), (0.0, 10.0), (0.0, 5.0)).is_none());
        assert_eq!(
            clip_polyline(
                &[(0.0, 0.0), (1.0, 1.0), (2.0, 9.0), (3.0, 1.0)],
                (0.0, 3.0),
                (0.0, 2.0)
            )
            .len(),
            2
        );
    }

    /// `OTPDRIFT_DRIFT_CHARTS=/tmp/drift-charts cargo test --lib chart::drift` writes the
    /// synthetic fleet's charts there to look at.
    #[test]
    fn writes_the_charts_when_asked() {
        let Ok(dir) = std::env::var("OTPDRIFT_DRIFT_CHARTS") else {
            return;
        };
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in render_all(&fleet(), Format::Both).unwrap() {
            std::fs::write(format!("{dir}/{name}"), bytes).unwrap();
        }
        for (name, bytes) in render_all(&DriftData::default(), Format::Png).unwrap() {
            std::fs::write(format!("{dir}/empty_{name}"), bytes).unwrap();
        }
        for (name, bytes) in render_all(&two_panels(), Format::Png).unwrap() {
            std::fs::write(format!("{dir}/two_{name}"), bytes).unwrap();
        }
    }
}
