//! Shared pieces of the drift charts: number and label formats, ticks, robust limits,
//! clipping, legends and the empty panel.

use super::*;

// ---- numbers and labels -------------------------------------------------------------------

/// A number with a true minus sign, `-0` shown as `0`.
pub(super) fn num(v: f64, decimals: usize) -> String {
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
pub(super) fn signed(v: f64, decimals: usize) -> String {
    let s = num(v, decimals);
    if v > 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{s}")
    } else {
        s
    }
}

pub(super) fn seconds(v: f64) -> String {
    let d = if v.fract().abs() < 1e-9 { 0 } else { 1 };
    format!("{} s", signed(v, d))
}

pub(super) fn clip_text(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// The smallest of 1, 2 and 5 times a power of ten at least `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
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
pub(super) fn lin_ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, usize) {
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
pub(super) fn count_ticks(max: f64, n: usize) -> Vec<f64> {
    let step = nice_step(max / n as f64).max(1.0).round();
    (0..=(max / step).floor() as i64)
        .map(|k| k as f64 * step)
        .collect()
}

pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    crate::stats::quantile(sorted, q).unwrap_or(f64::NAN)
}

/// The 1st to 99th percentile range, widened by 8% of its width on each side: a handful of
/// wild estimates does not squash the bulk of the fleet into a corner.
pub(super) fn robust(values: &[f64]) -> (f64, f64) {
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
pub(super) fn clip(
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
pub(super) fn clip_polyline(
    pts: &[(f64, f64)],
    x: (f64, f64),
    y: (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
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
pub(super) enum Key {
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

pub(super) const GLYPH_W: i32 = 42;

pub(super) fn glyph<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    key: &Key,
    x: i32,
    mid: i32,
) -> R {
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
pub(super) fn legend_column<DB: DrawingBackend>(
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
pub(super) fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Key)],
) -> R {
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
pub(super) fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, what: &str) -> R {
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
