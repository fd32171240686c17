//! Drift charts, drawn from a loaded analysis ([`AnalyzeData`]) alone: the worst credentials'
//! observations with their fits and predicted exits, the fleet's frequency errors, the
//! timeline of predicted window exits, and offset now against frequency error.

use super::axes::{date, date_label, date_ticks, days_between};
use super::style::{bold, colour_index, e, font, house, ticked, Areas, GREY, R};
use super::{register_fonts, Format, WIDTH};
use crate::results::analyze::{AnalyzeData, DriftRow, ObservationRow};
use crate::results::cells::get;
use crate::results::cells::thousands;
use crate::time::{month_floor, next_month, parse_rfc3339, Millis, DAY};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// The drift charts: (file stem, title), in the order they are written.
pub const ANALYZE_FIGURES: [(&str, &str); 4] = [
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
pub fn render_all(d: &AnalyzeData, format: Format) -> Result<Vec<(String, Vec<u8>)>, String> {
    register_fonts();
    let c = Ctx::new(d);
    super::in_parallel(
        &ANALYZE_FIGURES,
        format,
        |(stem, _)| stem,
        |&(stem, _)| super::png_of(|root| draw(stem, &c, root)),
        |&(stem, _)| super::svg_of(|root| draw(stem, &c, root)),
    )
}

fn draw<DB: DrawingBackend>(stem: &str, c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    match stem {
        "drift_worst" => worst::worst(c, root),
        "drift_ppm" => ppm::ppm_histogram(c, root),
        "drift_exits" => exits::exits(c, root),
        _ => scatter::scatter(c, root),
    }
}

fn title(stem: &str) -> &'static str {
    ANALYZE_FIGURES
        .iter()
        .find(|f| f.0 == stem)
        .map_or("", |f| f.1)
}

/// What every figure needs besides the rows: the instant "now" is, the populations in a
/// fixed order (so each keeps its colour across the figures) and the window's edges.
struct Ctx<'a> {
    d: &'a AnalyzeData,
    now: Millis,
    pops: Vec<String>,
    edges: (f64, f64),
}

impl<'a> Ctx<'a> {
    fn new(d: &'a AnalyzeData) -> Ctx<'a> {
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

mod exits;
mod ppm;
mod scatter;
mod util;
mod worst;

use util::*;

#[cfg(test)]
mod tests;
