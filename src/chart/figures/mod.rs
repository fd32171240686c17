//! The figures: each draws one chart of a results folder onto any plotters backend.
//!
//! Layout is shared: a title and a subtitle naming the scenario, the plot, and a legend panel
//! on the right so the legend never covers data. Populations keep one colour across charts.
//! `rates` draws acceptance and rejections, `clock` the clock-error charts, `tickets` the
//! resync, helpdesk and lifetime charts.

mod clock;
mod rates;
mod tickets;

use super::axes::*;
use super::style::*;
use super::{RunData, WIDTH};
use crate::results::cells::thousands;
use crate::results::cells::{get, Secs};
use crate::results::{CountCells, OffsetCells};
use crate::time::{format_duration, DAY};
use crate::token::TokenKind;
use plotters::coord::Shift;
use plotters::prelude::*;

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
        Figure::Acceptance => rates::acceptance(d, root),
        Figure::Rejections => rates::rejections(d, root),
        Figure::ClockError => clock::clock_error(d, root),
        Figure::Resync => tickets::resync(d, root),
        Figure::Lifetime => tickets::lifetime(d, root),
        Figure::ErrorHistogram => clock::histogram(d, root),
    }
}

/// A count of a timeseries row.
type CountOf = fn(&CountCells) -> u64;

/// A count per bucket of one name, as numbers.
fn count(d: &RunData, who: usize, f: CountOf) -> Vec<Option<f64>> {
    d.ts_col(who, |r| Some(f(&r.counts) as f64))
}
