//! Users: when they log in (rate, weekly and daily profile, holidays) and how they enter codes
//! (read-to-submit delay, waiting for a fresh code near rollover, typos, retries).
//!
//! The recovery ladder beyond plain retries plugs in after a failed login (see `sim::life`).

use crate::dist::Dist;
use crate::rng::Rng;
use crate::time::{civil_from_days, Millis, DAY, HOUR};
use rand::Rng as _;
use rand_distr::{Distribution, Poisson};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// A Poisson number of logins each day, with the weekday weights.
    Poisson,
    /// Exactly round(logins_per_day) logins on every day whose weekday weight is not zero.
    Exact,
}

impl ScheduleKind {
    pub const NAMES: &'static str = "poisson, exact";
}

/// A day without logins: every year on a month and day, or one date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holiday {
    pub year: Option<i64>,
    pub month: u32,
    pub day: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserSpec {
    /// Each user's mean logins per day is one draw of this.
    pub logins_per_day: Dist,
    pub schedule: ScheduleKind,
    /// Relative login weights Monday..Sunday (normalised so the weekly mean is the rate).
    pub weekdays: [f64; 7],
    /// Relative login weights for each local hour 0..23.
    pub hours: [f64; 24],
    /// The users' local time minus UTC, for the weekday and hour profiles.
    pub utc_offset_s: f64,
    pub holidays: Vec<Holiday>,
    /// From reading a code to the validator receiving it.
    pub delay_s: Dist,
    /// A code with less than this left on the device is ...
    pub fresh_code_below_s: f64,
    /// ... waited out with this probability.
    pub wait_probability: f64,
    pub typo_probability: f64,
    /// Share of logins approved by push instead of a code (no clock involved).
    pub push_share: f64,
    /// Retries with a fresh code after a rejection.
    pub retries: u32,
    pub retry_delay_s: Dist,
    /// The same code is sent again (a double-click, a retried request) with this probability,
    /// `resubmit_delay_s` after the first; the user reads the first answer.
    pub resubmit_probability: f64,
    pub resubmit_delay_s: Dist,
}

impl UserSpec {
    /// Expected logins per user over `days` days (for work estimates).
    pub fn expected_logins(&self, days: f64) -> f64 {
        let active = self.weekdays.iter().filter(|w| **w > 0.0).count() as f64 / 7.0;
        let holidays = self.holidays.len() as f64 / 365.25;
        let rate = self.logins_per_day.mean().max(0.0);
        let per_day = match self.schedule {
            ScheduleKind::Poisson => rate,
            ScheduleKind::Exact => rate.round() * active,
        };
        per_day * days * (1.0 - holidays).max(0.0)
    }

    fn is_holiday(&self, local_day: i64) -> bool {
        if self.holidays.is_empty() {
            return false;
        }
        let (y, m, d) = civil_from_days(local_day);
        self.holidays
            .iter()
            .any(|h| h.month == m && h.day == d && h.year.is_none_or(|hy| hy == y))
    }
}

/// The recovery ladder: what a user tries, in this order, after a login fails every retry.
/// Each step is taken with its probability (and only where it applies); after each step the
/// user tries to log in again. Tickets go to the helpdesk.
#[derive(Clone, Debug, PartialEq)]
pub struct RecoverySpec {
    /// Time between steps (reading help pages, finding the setting).
    pub step_delay_s: Dist,
    /// A locked user calls the helpdesk (a ticket) with this probability, else waits for the
    /// automatic unlock or gives up until the next login.
    pub helpdesk_unlock_probability: f64,
    pub helpdesk_delay_s: Dist,
    /// Apps: the user fixes the device clock (phones: switches automatic time back on) ...
    pub fix_clock_probability: f64,
    /// ... if it is off by more than this (they compare it with another clock).
    pub notice_above_s: f64,
    /// Error of a clock set by hand.
    pub fix_accuracy_s: Dist,
    /// The validator's sync ("Test") flow, if it has one, tried up to `resync_tries` times.
    pub resync_probability: f64,
    pub resync_tries: u32,
    /// Apps: the app's Reset, which re-reads network time.
    pub reset_probability: f64,
    /// Apps: reinstall with a new credential ID assigned by the helpdesk (a ticket).
    pub reinstall_probability: f64,
    pub reinstall_delay_s: Dist,
    /// Hardware: a hopeless token is replaced (a ticket); dead tokens always are.
    pub replace_probability: f64,
    /// Reinstalls and replacements are considered only from this many failed incidents in a
    /// row: users give a token a second chance before calling the helpdesk.
    pub escalate_after: u32,
    /// Days without a working token while a replacement ships.
    pub shipping_delay_s: Dist,
}

impl RecoverySpec {
    /// Users who never escalate: failed logins are simply given up.
    pub fn disabled(self) -> RecoverySpec {
        RecoverySpec {
            helpdesk_unlock_probability: 0.0,
            fix_clock_probability: 0.0,
            resync_probability: 0.0,
            reset_probability: 0.0,
            reinstall_probability: 0.0,
            replace_probability: 0.0,
            ..self
        }
    }
}

/// One user's login times in order, generated a day at a time (memory stays flat).
pub struct Schedule<'a> {
    spec: std::borrow::Cow<'a, UserSpec>,
    rng: Rng,
    rate: f64,
    hour_total: f64,
    offset_ms: Millis,
    day: i64,
    last_day: i64,
    start: Millis,
    end: Millis,
    today: Vec<Millis>,
    /// The day's login count distribution for each weekday (its rate depends on the weekday's
    /// weight alone), built once instead of every day.
    poisson: [Option<Poisson<f64>>; 7],
    /// The profile's hours with a weight, in order: the hour search skips the empty ones,
    /// which it would pass over unchanged (u ≥ 0 is never below a zero weight).
    hours: Vec<Millis>,
    /// For each of those hours, the least draw that passes it over (see [`hour_edges`]).
    edges: std::sync::Arc<[f64]>,
}

/// The walk that picks a login's hour from a draw `u` in [0, total): the first hour whose
/// weight exceeds what is left of `u` after subtracting the weights before it, one
/// subtraction at a time (so the pick depends on how each subtraction rounds). Returns the
/// index into `weights`, or `weights.len()` when rounding leaves `u` past every hour.
fn walk_hours(weights: &[f64], mut u: f64) -> usize {
    for (i, &w) in weights.iter().enumerate() {
        if u < w {
            return i;
        }
        u -= w;
    }
    weights.len()
}

/// The draws at which [`walk_hours`] moves past each hour: `edges[k]` is the least `u ≥ 0`
/// whose walk goes beyond hour `k`. The walk's answer only grows with `u` (each rounded
/// subtraction is monotone), so it is the number of edges at or below `u`: compared all at
/// once, without the walk's chain of dependent subtractions and its unpredictable branch.
/// Each edge is found from the plain running sum, then moved one float at a time to where
/// the walk itself changes its answer, so the picks are exactly the walk's.
fn hour_edges(weights: &[f64]) -> Vec<f64> {
    let beyond = |k: usize, u: f64| walk_hours(weights, u) > k;
    let mut sum = 0.0;
    (0..weights.len())
        .map(|k| {
            sum += weights[k];
            let mut e = sum;
            while e > 0.0 && beyond(k, below(e)) {
                e = below(e);
            }
            while !beyond(k, e) {
                e = above(e);
            }
            e
        })
        .collect()
}

/// [`hour_edges`] of `weights`, kept for the next user of the same profile: finding the
/// edges a float at a time costs about 10,000 instructions, as much as a few logins, and a
/// population's users share one profile (a twin's user may have their own).
fn cached_hour_edges(weights: &[f64]) -> std::sync::Arc<[f64]> {
    type Last = Option<(Vec<f64>, std::sync::Arc<[f64]>)>;
    thread_local! {
        static LAST: std::cell::RefCell<Last> = const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        // `==` is identity here: the weights are finite and never zero (zero hours are left
        // out), so no signed zero can match another's bits; a NaN would only miss.
        match last {
            Some((w, e)) if w[..] == *weights => e.clone(),
            _ => {
                let e: std::sync::Arc<[f64]> = hour_edges(weights).into();
                *last = Some((weights.to_vec(), e.clone()));
                e
            }
        }
    })
}

/// The next float above a finite `x ≥ 0` (`f64::next_up`, which needs Rust 1.86).
fn above(x: f64) -> f64 {
    f64::from_bits(x.to_bits() + 1)
}

/// The next float below a finite `x > 0`; 0 stays 0.
fn below(x: f64) -> f64 {
    if x > 0.0 {
        f64::from_bits(x.to_bits() - 1)
    } else {
        0.0
    }
}

impl<'a> Schedule<'a> {
    pub fn new(
        spec: std::borrow::Cow<'a, UserSpec>,
        start: Millis,
        end: Millis,
        mut rng: Rng,
    ) -> Schedule<'a> {
        let rate = spec.logins_per_day.sample(&mut rng).max(0.0);
        let wsum: f64 = spec.weekdays.iter().sum();
        let offset_ms = (spec.utc_offset_s * 1000.0).round() as Millis;
        let weekday_scale = if wsum > 0.0 { 7.0 / wsum } else { 0.0 };
        let poisson = spec.weekdays.map(|w| {
            let lambda = rate * w * weekday_scale;
            (lambda > 0.0).then(|| Poisson::new(lambda).ok()).flatten()
        });
        let weighted: Vec<usize> = (0..24).filter(|&h| spec.hours[h] != 0.0).collect();
        let hour_total = spec.hours.iter().sum();
        let edges = cached_hour_edges(&weighted.iter().map(|&h| spec.hours[h]).collect::<Vec<_>>());
        Schedule {
            spec,
            rng,
            rate,
            poisson,
            hour_total,
            offset_ms,
            day: (start + offset_ms).div_euclid(DAY),
            last_day: (end + offset_ms - 1).div_euclid(DAY),
            start,
            end,
            today: Vec::new(),
            hours: weighted.iter().map(|&h| h as Millis).collect(),
            edges,
        }
    }

    fn fill_day(&mut self) {
        let d = self.day;
        let wd = crate::time::weekday(d);
        let w = self.spec.weekdays[wd];
        if w <= 0.0 || self.spec.is_holiday(d) {
            return;
        }
        let n = match self.spec.schedule {
            ScheduleKind::Exact => self.rate.round() as u64,
            ScheduleKind::Poisson => self.poisson[wd]
                .as_ref()
                .map_or(0, |p| p.sample(&mut self.rng) as u64),
        };
        for _ in 0..n {
            let u = self.rng.random::<f64>() * self.hour_total;
            let k = self.edges.iter().filter(|&&e| e <= u).count();
            let hour = self.hours.get(k).copied().unwrap_or(23);
            let within = (self.rng.random::<f64>() * HOUR as f64) as Millis;
            let t = d * DAY + hour * HOUR + within - self.offset_ms;
            if t >= self.start && t < self.end {
                self.today.push(t);
            }
        }
        // Popped from the back: latest first in the vector.
        self.today.sort_unstable_by(|a, b| b.cmp(a));
    }
}

impl Iterator for Schedule<'_> {
    type Item = Millis;

    fn next(&mut self) -> Option<Millis> {
        loop {
            if let Some(t) = self.today.pop() {
                return Some(t);
            }
            if self.day > self.last_day {
                return None;
            }
            self.fill_day();
            self.day += 1;
        }
    }
}

/// A mistyped code: one digit replaced by a different digit.
pub fn typo<R: rand::Rng + ?Sized>(code: u32, digits: u32, rng: &mut R) -> u32 {
    let pos = rng.random_range(0..digits);
    let p = 10u32.pow(pos);
    let old = (code / p) % 10;
    let new = (old + rng.random_range(1..10)) % 10;
    code - old * p + new * p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use crate::time::{days_from_civil, weekday};
    use std::borrow::Cow;

    fn spec(rate: f64, kind: ScheduleKind) -> UserSpec {
        UserSpec {
            logins_per_day: Dist::Fixed(rate),
            schedule: kind,
            weekdays: [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0],
            hours: {
                let mut h = [0.0; 24];
                h[9] = 1.0;
                h[14] = 1.0;
                h
            },
            utc_offset_s: 0.0,
            holidays: vec![Holiday {
                year: None,
                month: 12,
                day: 25,
            }],
            delay_s: Dist::Fixed(0.0),
            fresh_code_below_s: 0.0,
            wait_probability: 0.0,
            typo_probability: 0.0,
            push_share: 0.0,
            retries: 0,
            retry_delay_s: Dist::Fixed(0.0),
            resubmit_probability: 0.0,
            resubmit_delay_s: Dist::Fixed(1.0),
        }
    }

    proptest::proptest! {
        #[test]
        fn hour_edges_pick_exactly_what_the_walk_picks(
            weights in proptest::collection::vec(1e-3f64..50.0, 1..24),
            draws in proptest::collection::vec(0.0f64..1.0, 200),
        ) {
            let edges = hour_edges(&weights);
            let total: f64 = weights.iter().sum();
            let by_edges = |u: f64| edges.iter().filter(|&&e| e <= u).count();
            // Random draws, and each edge with the floats on either side of it.
            let near = edges.iter().flat_map(|&e| [below(e), e, above(e)]);
            for u in draws.iter().map(|d| d * total).chain(near).filter(|u| *u >= 0.0) {
                proptest::prop_assert_eq!(by_edges(u), walk_hours(&weights, u), "u = {}", u);
            }
        }
    }

    #[test]
    fn cached_hour_edges_are_each_profile_s_own() {
        let (a, b) = ([1.0, 3.0, 0.5, 2.0], [1.0, 3.0, 0.5, 2.0 + 1e-12]);
        for w in [&a[..], &b, &a, &a[..3], &a] {
            assert_eq!(*cached_hour_edges(w), *hour_edges(w), "{w:?}");
        }
        assert_ne!(*cached_hour_edges(&a), *cached_hour_edges(&b));
    }

    #[test]
    fn hour_edges_of_whole_weights_are_the_running_sums() {
        let w = [1.0, 3.0, 0.5, 2.0];
        let e = hour_edges(&w);
        assert_eq!(e, vec![1.0, 4.0, 4.5, 6.5]);
        assert_eq!(walk_hours(&w, 3.999_999), 1);
        assert_eq!(walk_hours(&w, 4.0), 2);
    }

    #[test]
    fn exact_schedule_gives_n_per_working_day_in_profile_hours() {
        let s = spec(3.0, ScheduleKind::Exact);
        let start = days_from_civil(2026, 12, 21) * DAY; // Monday
        let times: Vec<Millis> = Schedule::new(
            Cow::Borrowed(&s),
            start,
            start + 14 * DAY,
            stream(1, 0, Purpose::Schedule),
        )
        .collect();
        // Two weeks: 10 working days minus Christmas (a Friday).
        assert_eq!(times.len(), 27);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        for t in &times {
            let h = t.rem_euclid(DAY) / HOUR;
            assert!(h == 9 || h == 14, "hour {h}");
            assert!(weekday(t.div_euclid(DAY)) < 5);
        }
    }

    #[test]
    fn poisson_schedule_keeps_the_weekly_mean() {
        let mut s = spec(4.0, ScheduleKind::Poisson);
        s.holidays.clear();
        let n: usize = (0..200)
            .map(|i| {
                Schedule::new(
                    Cow::Borrowed(&s),
                    0,
                    70 * DAY,
                    stream(2, i, Purpose::Schedule),
                )
                .count()
            })
            .sum();
        let mean_per_day = n as f64 / (200.0 * 70.0);
        assert!((mean_per_day - 4.0).abs() < 0.05, "{mean_per_day}");
        assert!((s.expected_logins(70.0) - 280.0).abs() < 1e-9);
    }

    #[test]
    fn typos_change_exactly_one_digit() {
        let mut r = stream(3, 0, Purpose::Behaviour);
        for code in [0u32, 123456, 999999, 7] {
            let t = typo(code, 6, &mut r);
            assert_ne!(t, code);
            let (a, b) = (format!("{code:06}"), format!("{t:06}"));
            assert_eq!(a.chars().zip(b.chars()).filter(|(x, y)| x != y).count(), 1);
            assert!(t < 1_000_000);
        }
    }
}
