//! The tables of an analysis: per credential, the fleet per population, window coverage,
//! and the credentials the charts show.

use super::*;
use crate::stats::{mean_sd, quantile};

pub(super) fn share(k: u64, n: u64) -> Option<Fixed<6>> {
    (n > 0).then(|| Fixed(k as f64 / n as f64))
}

/// The fleet summary of a set of credentials.
pub(super) fn fleet_row(name: &str, all: &[&Analysed], now: Millis) -> FleetRow {
    let n = all.len() as u64;
    let mut ppm: Vec<f64> = all
        .iter()
        .filter_map(|a| a.est.ppm.map(|p| p.value))
        .collect();
    ppm.sort_by(f64::total_cmp);
    // The spread's mean and sd from the credentials whose ppm is known to a few ppm: a short
    // history's loose estimate says little about the fleet and would swamp both.
    let precise: Vec<&Analysed> = all
        .iter()
        .copied()
        .filter(|a| a.ppm_se.is_some_and(|s| s <= PRECISE_PPM))
        .collect();
    let ppm_precise: Vec<f64> = precise
        .iter()
        .filter_map(|a| a.est.ppm.map(|p| p.value))
        .collect();
    // Offsets now of the active credentials: a retired one's last offset is not "now".
    let mut off: Vec<f64> = all
        .iter()
        .filter(|a| now - a.obs.last().map_or(0, |o| o.t) <= INACTIVE_MS)
        .map(|a| a.est.offset_now.value)
        .filter(|v| v.is_finite())
        .collect();
    off.sort_by(f64::total_cmp);
    let noise: Vec<f64> = precise
        .iter()
        .filter_map(|a| a.ppm_se)
        .map(|s| s * s)
        .collect();
    let ppm_sd = mean_sd(&ppm_precise).map(|(_, sd)| {
        let own = if noise.is_empty() {
            0.0
        } else {
            noise.iter().sum::<f64>() / noise.len() as f64
        };
        (sd * sd - own).max(0.0).sqrt()
    });
    let active = |a: &&&Analysed| now - a.obs.last().map_or(0, |o| o.t) <= INACTIVE_MS;
    let within = |d: Millis| {
        all.iter()
            .filter(active)
            .filter(|a| matches!(a.est.exit, Exit::At { at, .. } if at - now <= d))
            .count() as u64
    };
    let out_now = all
        .iter()
        .filter(active)
        .filter(|a| a.est.exit == Exit::Out)
        .count() as u64;
    let n_active = all.iter().filter(active).count() as u64;
    let steps: Vec<f64> = all
        .iter()
        .flat_map(|a| a.est.steps.iter().map(|s| s.size_s))
        .collect();
    let years: f64 = all
        .iter()
        .map(|a| {
            (a.obs.last().map_or(0, |o| o.t) - a.obs.first().map_or(0, |o| o.t)) as f64
                / YEAR as f64
        })
        .sum();
    let hours = steps
        .iter()
        .filter(|s| {
            s.abs() >= 1800.0 && ((s.abs() / 3600.0).round() * 3600.0 - s.abs()).abs() <= 60.0
        })
        .count();
    let (l30, l90, l365) = (within(30 * DAY), within(90 * DAY), within(365 * DAY));
    FleetRow {
        population: name.into(),
        credentials: n,
        with_ppm: ppm.len() as u64,
        ppm_p10: quantile(&ppm, 0.1).map(Fixed),
        ppm_p50: quantile(&ppm, 0.5).map(Fixed),
        ppm_p90: quantile(&ppm, 0.9).map(Fixed),
        ppm_mean: mean_sd(&ppm_precise).map(|m| Fixed(m.0)),
        ppm_sd: ppm_sd.map(Fixed),
        offset_now_p10_s: quantile(&off, 0.1).map(Fixed),
        offset_now_p50_s: quantile(&off, 0.5).map(Fixed),
        offset_now_p90_s: quantile(&off, 0.9).map(Fixed),
        offset_now_sd_s: mean_sd(&off).map(|m| Fixed(m.1)),
        out_now,
        leaving_30d: l30,
        leaving_90d: l90,
        leaving_365d: l365,
        active: n_active,
        share_out_now: share(out_now, n_active),
        share_leaving_30d: share(l30, n_active),
        share_leaving_90d: share(l90, n_active),
        share_leaving_365d: share(l365, n_active),
        stepped: all.iter().filter(|a| !a.est.steps.is_empty()).count() as u64,
        steps_per_year: (years > 0.0).then(|| Fixed(steps.len() as f64 / years)),
        share_steps_whole_hours: share(hours as u64, steps.len() as u64),
    }
}

/// Symmetric windows the coverage table lists.
pub const WINDOWS: [u32; 20] = [
    0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 50, 60, 100, 125, 200, 500, 1000,
];

/// Each credential is judged by a window of ±w of its own steps (a 60 s token's ±1 is twice
/// a 30 s token's).
pub(super) fn window_rows(
    name: &str,
    all: &[&Analysed],
    delay_s: f64,
    now: Millis,
) -> Vec<WindowRow> {
    // Active credentials with a ppm: the others have no year ahead to judge.
    let all: Vec<&Analysed> = all
        .iter()
        .copied()
        .filter(|a| now - a.obs.last().map_or(0, |o| o.t) <= INACTIVE_MS && a.est.ppm.is_some())
        .collect();
    WINDOWS
        .iter()
        .map(|&w| {
            let half = |a: &&Analysed| ValidatorConfig::window_edge_s(w, a.step_s);
            let year =
                |a: &&Analysed| a.est.ppm.map_or(0.0, |p| p.value) * 1e-6 * YEAR as f64 / 1000.0;
            let inside = all
                .iter()
                .filter(|a| {
                    let (lo, hi) = (delay_s - half(a), delay_s + half(a));
                    let now = a.est.offset_now.value;
                    let later = now + year(a);
                    now.is_finite() && [now, later].iter().all(|v| (lo..=hi).contains(v))
                })
                .count() as u64;
            // Resynced now: the window is centred on today's offset and the delay.
            let after = all
                .iter()
                .filter(|a| a.est.ppm.is_some() && (-half(a)..=half(a)).contains(&year(a)))
                .count() as u64;
            WindowRow {
                population: name.into(),
                window_steps: w,
                credentials: all.len() as u64,
                inside_1y: inside,
                share_inside_1y: share(inside, all.len() as u64),
                inside_1y_after_resync: after,
                share_inside_1y_after_resync: share(
                    after,
                    all.iter().filter(|a| a.est.ppm.is_some()).count() as u64,
                ),
            }
        })
        .collect()
}

/// The credentials the charts show: those surely leaving soonest (by the late end of the
/// exit's interval, so a loose estimate does not crowd out a sure one), then those out
/// furthest.
pub(super) fn worst(all: &[Analysed], now: Millis) -> Vec<usize> {
    let mut leaving: Vec<(Millis, usize)> = all
        .iter()
        .enumerate()
        .filter(|(_, a)| now - a.obs.last().map_or(0, |o| o.t) <= INACTIVE_MS)
        .filter_map(|(i, a)| match a.est.exit {
            Exit::At {
                late: Some(late), ..
            } if a.est.slope_from == SlopeFrom::Current => Some((late, i)),
            _ => None,
        })
        .collect();
    leaving.sort();
    let mut out_now: Vec<(i64, usize)> = all
        .iter()
        .enumerate()
        .filter(|(_, a)| a.est.exit == Exit::Out && a.est.ppm.is_some())
        .map(|(i, a)| (-(a.est.offset_now.value.abs() * 1000.0) as i64, i))
        .collect();
    out_now.sort();
    leaving
        .into_iter()
        .map(|x| x.1)
        .chain(out_now.into_iter().map(|x| x.1))
        .take(6)
        .collect()
}

pub(super) fn drift_row(a: &Analysed, now: Millis) -> DriftRow {
    let e = &a.est;
    let secs = |x: f64| Fixed::<3>::of(x);
    let last = a.obs.last().map_or(0, |o| o.t);
    let (status, exit, early, late) = match e.exit {
        // Not seen for a quarter: replaced, retired or lost; no advice about it.
        _ if now - last > INACTIVE_MS => ("inactive", None, None, None),
        Exit::Out => ("out_now", None, None, None),
        Exit::At { at, early, late } => ("leaving", Some(at), Some(early), late),
        Exit::NotWithin { early } => ("staying", None, early, None),
        Exit::Unknown => ("unknown", None, None, None),
    };
    DriftRow {
        credential: a.id.clone(),
        population: a.population.clone(),
        first_seen: Time(a.obs.first().map_or(0, |o| o.t)),
        last_seen: Time(a.obs.last().map_or(0, |o| o.t)),
        observations: e.observations as u64,
        outliers: e.outliers as u64,
        segments: e.segments.len() as u64,
        steps: e.steps.len() as u64,
        offset_now_s: secs(e.offset_now.value),
        offset_now_ci95_low_s: secs(e.offset_now.low),
        offset_now_ci95_high_s: secs(e.offset_now.high),
        ppm: e.ppm.and_then(|p| Fixed::of(p.value)),
        ppm_ci95_low: e.ppm.and_then(|p| Fixed::of(p.low)),
        ppm_ci95_high: e.ppm.and_then(|p| Fixed::of(p.high)),
        ppm_from: match e.slope_from {
            SlopeFrom::Current => "current",
            SlopeFrom::Earlier => "earlier",
            SlopeFrom::None => "",
        }
        .into(),
        status: status.into(),
        exit: exit.map(Time),
        exit_ci95_early: early.map(Time),
        exit_ci95_late: late.map(Time),
        days_to_exit: exit.and_then(|x| Fixed::of((x - now) as f64 / DAY as f64)),
        stepped: !e.steps.is_empty(),
        too_few_observations: e.slope_from == SlopeFrom::None,
        logins_per_day: activity(&a.obs).0,
        hours_utc: activity(&a.obs).1,
        last_sync: a.last_sync.map(|s| Time(s.0)),
        last_sync_steps: a.last_sync.map(|s| s.1),
    }
}

/// Rows closer than this to the one before belong to one login.
const LOGIN_GAP: Millis = 5 * 60 * 1000;

/// Logins per day over the span they cover (a day at least), and per UTC hour: rows within
/// five minutes of the one before are the same login (its retries, a sync's codes).
fn activity(obs: &[crate::analyze::Observation]) -> (Option<Fixed<3>>, String) {
    let mut times: Vec<Millis> = obs.iter().map(|o| o.t).collect();
    times.sort_unstable();
    let logins: Vec<Millis> = times
        .iter()
        .enumerate()
        .filter(|&(i, t)| i == 0 || t - times[i - 1] > LOGIN_GAP)
        .map(|(_, t)| *t)
        .collect();
    let span = match (logins.first(), logins.last()) {
        (Some(a), Some(b)) if b - a >= DAY => (b - a) as f64 / DAY as f64,
        _ => 0.0,
    };
    let rate = (span > 0.0).then(|| (logins.len() - 1) as f64 / span);
    let mut hours = [0u64; 24];
    for t in &logins {
        hours[(t.rem_euclid(DAY) / (DAY / 24)) as usize] += 1;
    }
    let hours = hours.map(|h| h.to_string()).join(" ");
    (rate.and_then(Fixed::of), hours)
}
