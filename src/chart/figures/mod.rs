//! The figures: each draws one chart of a results folder onto any plotters backend.
//!
//! Layout is shared: a title and a subtitle naming the scenario, the plot, and a legend panel
//! on the right so the legend never covers data. Populations keep one colour across charts.
//! `rates` draws acceptance and rejections, `clock` the clock-error charts, `tickets` the
//! resync, helpdesk and lifetime charts.

mod clock;
mod forecast;
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
    /// A twin run's expected tickets (drawn only for `run --fleet`).
    ForecastTickets,
}

impl Figure {
    /// The charts of a run; a twin run adds the forecast's, last.
    pub fn of(twin: bool) -> &'static [Figure] {
        &Self::ALL[..Self::ALL.len() - usize::from(!twin)]
    }

    /// Every chart: a plain run's, then a twin run's forecast.
    pub const ALL: [Figure; 7] = [
        Figure::Acceptance,
        Figure::Rejections,
        Figure::ClockError,
        Figure::Resync,
        Figure::Lifetime,
        Figure::ErrorHistogram,
        Figure::ForecastTickets,
    ];

    pub fn stem(self) -> &'static str {
        match self {
            Figure::Acceptance => "acceptance",
            Figure::Rejections => "rejections",
            Figure::ClockError => "clock_error",
            Figure::Resync => "resync_helpdesk",
            Figure::Lifetime => "lifetime",
            Figure::ErrorHistogram => "clock_error_histogram",
            Figure::ForecastTickets => "forecast_tickets",
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
            Figure::ForecastTickets => "Forecast helpdesk tickets of the real fleet",
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
    let window = match v.tolerance {
        Some(t) => format!(
            "{} back, {} ahead in time",
            crate::time::format_duration(t.past_s),
            crate::time::format_duration(t.future_s)
        ),
        None => format!("{} back, {} ahead", v.window_back, v.window_ahead),
    };
    let sub = format!(
        "{} tokens · {} to {} · validator {} (window {window}){}",
        thousands(run.tokens as f64),
        date(run.start),
        date(run.end()),
        v.preset.as_deref().unwrap_or("custom"),
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
        Figure::ForecastTickets => forecast::tickets(d, root),
    }
}

/// A count of a timeseries row.
type CountOf = fn(&CountCells) -> u64;

/// A count per bucket of one name, as numbers.
fn count(d: &RunData, who: usize, f: CountOf) -> Vec<Option<f64>> {
    d.ts_col(who, |r| Some(f(&r.counts) as f64))
}

/// A few words for a timeline event in a legend.
fn event_label(a: &crate::scenario::TimelineAction) -> String {
    use crate::scenario::TimelineAction;
    use crate::validator::schedule::ClockChange;
    let clock = |node: &Option<String>| match node {
        Some(n) => format!("{n} clock"),
        None => "server clock".to_string(),
    };
    match a {
        TimelineAction::Set(v) => format!("set: window -{}/+{}", v.window_back, v.window_ahead),
        TimelineAction::ResetDrift => "drift reset".into(),
        TimelineAction::Migrate { to, carry } => format!(
            "to {}{}",
            to.preset.as_deref().unwrap_or("custom"),
            if *carry { ", carried" } else { ", re-enrolled" }
        ),
        TimelineAction::ServerClock { change, node } => match change {
            ClockChange::Step(ms) => format!("{} {:+.0} s", clock(node), ms / 1000.0),
            ClockChange::Drift { ppm, .. } => format!("{} {ppm:+} ppm", clock(node)),
            ClockChange::Return { .. } => format!("{} back", clock(node)),
        },
        TimelineAction::Outage { node, .. } => format!("{node} down"),
    }
}

/// Every timeline event inside the run, numbered in time order: (number, days from the
/// start, (date, label)).
fn events(d: &RunData) -> Vec<(usize, f64, (String, String))> {
    let span = span_days(d);
    d.scenario
        .timeline
        .iter()
        .map(|ev| {
            let x = days_between(d.scenario.run.start, ev.at);
            (x, (date(ev.at), event_label(&ev.action)))
        })
        .enumerate()
        .filter(|(_, (x, _))| (0.0..=span).contains(x))
        .map(|(i, (x, l))| (i + 1, x, l))
        .collect()
}

/// Marks each timeline event on a time-series chart: a dashed vertical line from `y0` to
/// `y1` and its number at the top (the legend says what each number is).
fn event_marks<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<DB, CT>,
    d: &RunData,
    (y0, y1): (f64, f64),
) -> R {
    for (n, x, _) in events(d) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, y0), (x, y1)],
                8,
                6,
                EVENT.stroke_width(2),
            ))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!(" {n}"),
                (x, y1),
                font(18).color(&EVENT),
            )))
            .map_err(e)?;
    }
    Ok(())
}

/// The legend's lines for the events marked on a chart.
fn event_entries(d: &RunData) -> Vec<(String, Mark)> {
    let ev = events(d);
    if ev.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        (String::new(), Mark::Block(WHITE, 0.0)),
        ("Events".to_string(), Mark::Block(WHITE, 0.0)),
    ];
    // The date on the marked line, what happened under it (the legend panel is narrow).
    for (n, _, (day, what)) in ev {
        out.push((format!("{n}  {day}"), Mark::Dashed(EVENT)));
        out.push((format!("    {what}"), Mark::Block(WHITE, 0.0)));
    }
    out
}

/// The colour of timeline events.
const EVENT: RGBColor = RGBColor(90, 90, 90);
