//! Drift analysis of one credential: closed forms (exact points, known exits), steps, outliers, short segments.

use super::*;
use rand::{Rng, SeedableRng};

const DAY: Millis = 86_400_000;
const T0: Millis = 1_767_225_600_000; // 2026-01-01

fn settings(now: Millis) -> Settings {
    Settings {
        edges: (-45.0, 45.0),
        now,
        threshold_s: 90.0,
        horizon_ms: 100 * 365 * DAY,
    }
}

/// Matched codes (30 s steps) of a clock whose offset is `offset(t)`, read at random times
/// about `per_day` times a day and submitted after 4-10 s (7 s assumed).
fn codes(days: i64, per_day: f64, seed: u64, offset: impl Fn(Millis) -> f64) -> Vec<Observation> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut t = T0;
    while t < T0 + days * DAY {
        t += (-(1.0 - rng.random::<f64>()).ln() / per_day * DAY as f64) as Millis;
        let device_ms = t as f64 + offset(t) * 1000.0;
        let m = (device_ms / 30_000.0).floor();
        let server = t + rng.random_range(4_000..10_000);
        let lo = m * 30.0 - server as f64 / 1000.0 + 7.0;
        out.push(Observation {
            t: server,
            lo,
            hi: lo + 30.0,
        });
    }
    out
}

#[test]
fn a_linear_clock_gives_its_ppm_and_exit_date() {
    // 3 ppm from +10 s: the offset reaches the +45 s edge at 10 + 3e-6·t = 45.
    let ppm = 3.0;
    let line = |t: Millis| 10.0 + ppm * 1e-6 * ((t - T0) as f64 / 1000.0);
    let mut obs = codes(100, 2.0, 1, line);
    let now = T0 + 100 * DAY;
    let e = estimate(&mut obs, &settings(now));
    assert_eq!(e.segments.len(), 1);
    assert!(e.steps.is_empty());
    assert_eq!(e.slope_from, SlopeFrom::Current);
    let p = e.ppm.unwrap();
    assert!(p.low <= ppm && ppm <= p.high, "{p:?}");
    assert!(p.high - p.low < 1.0, "{p:?}");
    let o = e.offset_now;
    assert!(
        o.low <= line(now) && line(now) <= o.high,
        "{o:?} vs {}",
        line(now)
    );
    let truth = T0 + ((45.0 - 10.0) / (ppm * 1e-6) * 1000.0) as Millis;
    match e.exit {
        Exit::At { at, early, late } => {
            assert!(early <= truth && truth <= late.unwrap(), "{e:?}");
            assert!(((at - truth) as f64 / DAY as f64).abs() < 20.0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn exact_points_give_the_closed_form_exit() {
    // Measured offsets exactly on 0 + 10 ppm·t: the exit is at 45 s / 10 ppm = 52.08 days.
    let mut obs: Vec<Observation> = (0..40)
        .map(|i| {
            let t = T0 + i * DAY / 4;
            let y = 10e-6 * ((t - T0) as f64 / 1000.0);
            Observation { t, lo: y, hi: y }
        })
        .collect();
    let now = T0 + 10 * DAY;
    let e = estimate(&mut obs, &settings(now));
    let p = e.ppm.unwrap();
    assert!((p.value - 10.0).abs() < 1e-6, "{p:?}");
    match e.exit {
        Exit::At { at, .. } => assert!((at - (T0 + 4_500_000_000)).abs() <= 1000, "{}", at - T0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_hour_away_and_back_makes_two_steps() {
    // A time-zone mistake: +3600 s from day 40 to day 43.
    let off = |t: Millis| {
        let d = (t - T0) / DAY;
        2e-6 * ((t - T0) as f64 / 1000.0) + if (40..43).contains(&d) { 3600.0 } else { 0.0 }
    };
    let mut obs = codes(120, 3.0, 2, off);
    let e = estimate(&mut obs, &settings(T0 + 120 * DAY));
    assert_eq!(e.segments.len(), 3, "{:?}", e.steps);
    assert_eq!(e.steps.len(), 2);
    assert!((e.steps[0].size_s - 3600.0).abs() < 30.0, "{:?}", e.steps);
    assert!((e.steps[1].size_s + 3600.0).abs() < 30.0, "{:?}", e.steps);
    assert!(e.steps[0].not_before < T0 + 40 * DAY + 10_000);
    assert!(e.steps[0].not_after >= T0 + 40 * DAY);
    let p = e.ppm.unwrap();
    assert!(p.low <= 2.0 && 2.0 <= p.high, "{p:?}");
}

#[test]
fn a_lone_far_code_is_an_outlier_not_a_step() {
    let mut obs = codes(60, 2.0, 3, |_| 5.0);
    let k = obs.len() / 2;
    obs[k].lo += 30.0 * 4000.0;
    obs[k].hi += 30.0 * 4000.0;
    let e = estimate(&mut obs, &settings(T0 + 60 * DAY));
    assert_eq!(e.segments.len(), 1);
    assert_eq!(e.outliers, 1);
    assert_eq!(e.assigned.iter().filter(|a| a.is_none()).count(), 1);
    assert_eq!(e.observations + e.outliers, obs.len());
}

#[test]
fn too_few_observations_give_no_ppm() {
    let mut obs = codes(60, 2.0, 4, |_| 5.0);
    obs.truncate(2);
    let e = estimate(&mut obs, &settings(T0 + 60 * DAY));
    assert_eq!(e.ppm, None);
    assert_eq!(e.slope_from, SlopeFrom::None);
    assert_eq!(e.exit, Exit::Unknown);
    assert!(e.offset_now.value.is_finite());
}

#[test]
fn a_short_current_segment_borrows_the_earlier_slope() {
    // Reset by 10 minutes on day 99, two codes since.
    let off = |t: Millis| {
        let base = 4e-6 * ((t - T0) as f64 / 1000.0);
        if t >= T0 + 99 * DAY {
            base - 600.0
        } else {
            base
        }
    };
    let mut obs = codes(97, 3.0, 5, off);
    let now = T0 + 100 * DAY;
    obs.extend(
        [T0 + 99 * DAY + 3_600_000, T0 + 99 * DAY + 7_200_000].map(|t| {
            let y = off(t);
            Observation { t, lo: y, hi: y }
        }),
    );
    let e = estimate(&mut obs, &settings(now));
    assert_eq!(e.segments.len(), 2);
    assert_eq!(e.slope_from, SlopeFrom::Earlier);
    assert_eq!(e.exit, Exit::Out);
    assert!((e.steps[0].size_s + 600.0).abs() < 20.0, "{:?}", e.steps);
}

#[test]
fn an_offset_outside_the_window_is_out_now() {
    let mut obs = codes(30, 4.0, 6, |_| -200.0);
    let e = estimate(&mut obs, &settings(T0 + 30 * DAY));
    assert_eq!(e.exit, Exit::Out);
    assert!(
        (e.offset_now.value + 200.0).abs() < 5.0,
        "{:?}",
        e.offset_now
    );
}

#[test]
fn a_steady_clock_does_not_leave_within_the_horizon() {
    let mut obs = codes(400, 2.0, 7, |_| 0.0);
    let e = estimate(&mut obs, &settings(T0 + 400 * DAY));
    // (Coverage is the business of `fit`'s tests; here the estimate is near zero and tight.)
    let p = e.ppm.unwrap();
    assert!(p.value.abs() < 0.1 && p.high - p.low < 0.2, "{p:?}");
    match e.exit {
        // The line may cross within a century at a tiny slope, but never soon.
        Exit::At { early, .. } | Exit::NotWithin { early: Some(early) } => {
            assert!(early > T0 + 800 * DAY, "{}", (early - T0) / DAY)
        }
        Exit::NotWithin { early: None } => {}
        other => panic!("{other:?}"),
    }
}
