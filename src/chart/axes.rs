//! Time and duration axes: calendar-aligned date ticks and labels, round durations on log
//! scales.

use super::RunData;
use crate::time::{civil_from_days, Millis, DAY};

pub(super) fn date(t: Millis) -> String {
    let (y, m, dd) = civil_from_days(t.div_euclid(DAY));
    format!("{y:04}-{m:02}-{dd:02}")
}

/// Days since the start of the middle of bucket `i`.
pub(super) fn mid(d: &RunData, i: usize) -> f64 {
    let (s, t) = d.buckets[i];
    ((s + t) / 2 - d.scenario.run.start) as f64 / DAY as f64
}

pub(super) fn span_days(d: &RunData) -> f64 {
    days_between(d.scenario.run.start, d.scenario.run.end())
}

/// Days from `start` to `end`, at least an hour.
pub(super) fn days_between(start: Millis, end: Millis) -> f64 {
    ((end - start) as f64 / DAY as f64).max(1.0 / 24.0)
}

/// A date label for a time axis position, as precise as the horizon needs.
pub(super) fn day_label(d: &RunData, x: f64) -> String {
    date_label(d.scenario.run.start, span_days(d), x)
}

/// The label of position `x` (days since `start`) on an axis `span` days long.
pub(super) fn date_label(start: Millis, span: f64, x: f64) -> String {
    let t = start + (x * DAY as f64) as Millis;
    let (y, m, dd) = civil_from_days(t.div_euclid(DAY));
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

/// Round durations for log-axis ticks: 0.01 s, 1 s, 10 s, 1 min, 10 min, 1 h, 6 h, 1 d, ...
pub(super) const NICE_SECONDS: [f64; 14] = [
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

pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    NICE_SECONDS
        .iter()
        .cloned()
        .filter(|t| *t >= lo * 0.999 && *t <= hi)
        .collect()
}

pub(super) fn short_seconds(y: f64) -> String {
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
pub(super) fn time_ticks(d: &RunData, max: usize) -> Vec<f64> {
    date_ticks(d.scenario.run.start, d.scenario.run.end(), max)
}

/// Calendar-aligned ticks (days since `start`) of the axis from `start` to `end`, at most
/// about `max` of them.
pub(super) fn date_ticks(start: Millis, end: Millis, max: usize) -> Vec<f64> {
    let span = days_between(start, end);
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
        // The calendar ends at 9999: a range past it (an unbounded end) stops there.
        while y <= 9999 {
            let t = crate::time::days_from_civil(y, 1, 1) * DAY;
            if t > end {
                break;
            }
            if t >= start && (y - y0) % every == 0 {
                out.push(pos(t));
            }
            y += every;
        }
    }
    if out.len() < 2 {
        out = vec![0.0, span];
    }
    let every = out.len().div_ceil(max.max(2));
    out.into_iter().step_by(every.max(1)).collect()
}
