//! Mergeable counters: per population and time bucket, integer counts and log-binned clock-error
//! histograms. Merging is addition (and max), so any split of the fleet merges to the same bytes.

use crate::time::{month_floor, next_month, Millis};
use serde::Serialize;

/// How the horizon is cut into buckets for series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Fixed { ms: Millis },
    Month,
}

/// Bucket boundaries over [start, end).
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    pub starts: Vec<Millis>,
    pub end: Millis,
}

impl Buckets {
    pub fn new(kind: Bucket, start: Millis, end: Millis) -> Buckets {
        let mut starts = vec![start];
        loop {
            let last = *starts.last().expect("non-empty");
            let next = match kind {
                Bucket::Fixed { ms } => last + ms,
                Bucket::Month => next_month(month_floor(last)),
            };
            if next >= end {
                break;
            }
            starts.push(next);
        }
        Buckets { starts, end }
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// End (exclusive) of bucket `i`.
    pub fn end_of(&self, i: usize) -> Millis {
        self.starts.get(i + 1).copied().unwrap_or(self.end)
    }

    /// Index of the bucket holding `t` (clamped to the first and last).
    pub fn index(&self, t: Millis) -> usize {
        self.starts.partition_point(|s| *s <= t).saturating_sub(1)
    }
}

/// Everything counted about logins and attempts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub logins: u64,
    /// Logins whose first attempt was accepted.
    pub first_try_ok: u64,
    /// Logins that ended accepted after retries.
    pub logins_ok: u64,
    pub attempts: u64,
    pub accepted: u64,
    pub rejected_out_of_window: u64,
    pub rejected_replay: u64,
    pub rejected_locked: u64,
    pub rejected_typo: u64,
    pub rejected_dead: u64,
    pub lockouts: u64,
    /// A mistyped code accepted because it matched another step in the window.
    pub false_accepts: u64,
    /// A correct code accepted at a step other than the device's (a chance collision first).
    pub chance_matches: u64,
    /// Users who waited for a fresh code near rollover.
    pub waited_for_fresh_code: u64,
    /// Drift adopted from out-of-window codes (consistent-skew learning).
    pub skew_resyncs: u64,
    pub deaths_battery: u64,
    pub deaths_expired: u64,
    /// Attempts answered with a next-code challenge (RSA), and challenges then passed.
    pub next_code_challenges: u64,
    pub next_code_succeeded: u64,
    /// Drift adopted from two consecutive out-of-window codes (automatic resync).
    pub auto_resyncs: u64,
    /// Logins that failed every retry and started the recovery ladder.
    pub incidents: u64,
    /// Incidents ended by a successful login within the ladder.
    pub recovered_in_ladder: u64,
    /// Logins given up (the ladder ran out, or the user waits for the helpdesk).
    pub logins_abandoned: u64,
    /// Logins while the user had no working token (dead, shipping, waiting for a credential).
    pub logins_without_token: u64,
    pub clock_fixes: u64,
    pub app_resets: u64,
    pub resyncs_attempted: u64,
    pub resyncs_succeeded: u64,
    pub resync_failed_outside_window: u64,
    pub resync_failed_not_consecutive: u64,
    pub resync_failed_replay: u64,
    pub resync_failed_locked: u64,
    pub tickets_lockout: u64,
    pub tickets_reinstall: u64,
    pub tickets_replace_failing: u64,
    pub tickets_replace_dead: u64,
    /// A simulated attacker's guesses, those that got in, and those held back by a lock.
    pub attack_guesses: u64,
    pub attack_successes: u64,
    pub attack_blocked: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.logins += o.logins;
        self.first_try_ok += o.first_try_ok;
        self.logins_ok += o.logins_ok;
        self.attempts += o.attempts;
        self.accepted += o.accepted;
        self.rejected_out_of_window += o.rejected_out_of_window;
        self.rejected_replay += o.rejected_replay;
        self.rejected_locked += o.rejected_locked;
        self.rejected_typo += o.rejected_typo;
        self.rejected_dead += o.rejected_dead;
        self.lockouts += o.lockouts;
        self.false_accepts += o.false_accepts;
        self.chance_matches += o.chance_matches;
        self.waited_for_fresh_code += o.waited_for_fresh_code;
        self.skew_resyncs += o.skew_resyncs;
        self.deaths_battery += o.deaths_battery;
        self.deaths_expired += o.deaths_expired;
        self.next_code_challenges += o.next_code_challenges;
        self.next_code_succeeded += o.next_code_succeeded;
        self.auto_resyncs += o.auto_resyncs;
        self.incidents += o.incidents;
        self.recovered_in_ladder += o.recovered_in_ladder;
        self.logins_abandoned += o.logins_abandoned;
        self.logins_without_token += o.logins_without_token;
        self.clock_fixes += o.clock_fixes;
        self.app_resets += o.app_resets;
        self.resyncs_attempted += o.resyncs_attempted;
        self.resyncs_succeeded += o.resyncs_succeeded;
        self.resync_failed_outside_window += o.resync_failed_outside_window;
        self.resync_failed_not_consecutive += o.resync_failed_not_consecutive;
        self.resync_failed_replay += o.resync_failed_replay;
        self.resync_failed_locked += o.resync_failed_locked;
        self.tickets_lockout += o.tickets_lockout;
        self.tickets_reinstall += o.tickets_reinstall;
        self.tickets_replace_failing += o.tickets_replace_failing;
        self.tickets_replace_dead += o.tickets_replace_dead;
        self.attack_guesses += o.attack_guesses;
        self.attack_successes += o.attack_successes;
        self.attack_blocked += o.attack_blocked;
    }

    pub fn tickets(&self) -> u64 {
        self.tickets_lockout
            + self.tickets_reinstall
            + self.tickets_replace_failing
            + self.tickets_replace_dead
    }

    pub fn first_try_acceptance_rate(&self) -> Option<f64> {
        ratio(self.first_try_ok, self.logins)
    }

    pub fn login_success_rate(&self) -> Option<f64> {
        ratio(self.logins_ok, self.logins)
    }

    pub fn attempt_acceptance_rate(&self) -> Option<f64> {
        ratio(self.accepted, self.attempts)
    }
}

pub fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Wilson score 95% interval of a proportion k/n.
pub fn wilson95(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (z, n, p) = (1.959_963_984_540_054, n as f64, k as f64 / n as f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Bins grow by 2%: percentiles are within 1% of the true value.
const GROWTH: f64 = 1.02;
const BINS: usize = 1600;

/// Histogram of absolute clock errors in milliseconds on log bins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetHist {
    bins: Vec<u64>,
    pub count: u64,
    pub max_ms: u64,
}

impl OffsetHist {
    fn bin(ms: u64) -> usize {
        if ms == 0 {
            0
        } else {
            (1 + ((ms as f64).ln() / GROWTH.ln()) as usize).min(BINS - 1)
        }
    }

    pub fn record_s(&mut self, abs_offset_s: f64) {
        let ms = (abs_offset_s.abs() * 1000.0).round() as u64;
        if self.bins.is_empty() {
            self.bins = vec![0; BINS];
        }
        self.bins[Self::bin(ms)] += 1;
        self.count += 1;
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn merge(&mut self, o: &OffsetHist) {
        if o.bins.is_empty() {
            return;
        }
        if self.bins.is_empty() {
            self.bins = vec![0; BINS];
        }
        for (a, b) in self.bins.iter_mut().zip(&o.bins) {
            *a += b;
        }
        self.count += o.count;
        self.max_ms = self.max_ms.max(o.max_ms);
    }

    /// The q-quantile in seconds (the geometric middle of its bin, never above the max).
    pub fn quantile_s(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let target = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= target {
                let ms = if i == 0 {
                    0.0
                } else {
                    GROWTH.powf(i as f64 - 0.5)
                };
                return Some((ms.min(self.max_ms as f64) / 1000.0 * 1000.0).round() / 1000.0);
            }
        }
        Some(self.max_ms as f64 / 1000.0)
    }

    pub fn max_s(&self) -> Option<f64> {
        (self.count > 0).then(|| self.max_ms as f64 / 1000.0)
    }

    /// Counts per bin with each bin's lower and upper edge in seconds (non-empty bins only).
    pub fn bins_s(&self) -> Vec<(f64, f64, u64)> {
        self.bins
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| {
                let lo = if i == 0 {
                    0.0
                } else {
                    GROWTH.powf(i as f64 - 1.0) / 1000.0
                };
                (lo, GROWTH.powf(i as f64) / 1000.0, *c)
            })
            .collect()
    }
}

/// What one population accumulated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PopTally {
    pub tokens: u64,
    pub total: Counts,
    pub buckets: Vec<Counts>,
    /// Absolute device-clock error at each login, per bucket.
    pub offsets: Vec<OffsetHist>,
    pub offsets_total: OffsetHist,
    /// Absolute device-clock error of every live TOTP token at the end of the horizon.
    pub final_offsets: OffsetHist,
    /// From a user's first failed login to their next successful one, seconds.
    pub recovery_time: OffsetHist,
    /// Credentials alive at the end of each bucket.
    pub alive_end: Vec<u64>,
    /// Users without a working token at the end of each bucket.
    pub without_token_end: Vec<u64>,
}

impl PopTally {
    pub fn new(buckets: usize) -> PopTally {
        PopTally {
            buckets: vec![Counts::default(); buckets],
            offsets: vec![OffsetHist::default(); buckets],
            alive_end: vec![0; buckets],
            without_token_end: vec![0; buckets],
            ..PopTally::default()
        }
    }

    pub fn merge(&mut self, o: &PopTally) {
        self.tokens += o.tokens;
        self.total.add(&o.total);
        for (a, b) in self.buckets.iter_mut().zip(&o.buckets) {
            a.add(b);
        }
        for (a, b) in self.offsets.iter_mut().zip(&o.offsets) {
            a.merge(b);
        }
        self.offsets_total.merge(&o.offsets_total);
        self.final_offsets.merge(&o.final_offsets);
        self.recovery_time.merge(&o.recovery_time);
        for (a, b) in self.alive_end.iter_mut().zip(&o.alive_end) {
            *a += b;
        }
        for (a, b) in self.without_token_end.iter_mut().zip(&o.without_token_end) {
            *a += b;
        }
    }
}

/// The whole fleet's tally, one entry per population.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub pops: Vec<PopTally>,
}

impl Tally {
    pub fn new(populations: usize, buckets: usize) -> Tally {
        Tally {
            pops: vec![PopTally::new(buckets); populations],
        }
    }

    pub fn merge(mut self, o: Tally) -> Tally {
        if self.pops.is_empty() {
            return o;
        }
        for (a, b) in self.pops.iter_mut().zip(&o.pops) {
            a.merge(b);
        }
        self
    }

    /// All populations together.
    pub fn all(&self) -> PopTally {
        let mut t = PopTally::new(self.pops.first().map_or(0, |p| p.buckets.len()));
        for p in &self.pops {
            t.merge(p);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_rfc3339, DAY};

    #[test]
    fn quantiles_within_one_percent() {
        let mut h = OffsetHist::default();
        for i in 1..=1000 {
            h.record_s(i as f64);
        }
        for (q, want) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile_s(q).unwrap();
            assert!((got / want - 1.0).abs() < 0.011, "q{q}: {got}");
        }
        assert_eq!(h.max_s(), Some(1000.0));
        assert_eq!(OffsetHist::default().quantile_s(0.5), None);
    }

    #[test]
    fn wilson_interval_known_values() {
        let (lo, hi) = wilson95(50, 100).unwrap();
        assert!(
            (lo - 0.4038).abs() < 1e-4 && (hi - 0.5962).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson95(0, 10).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-4);
        assert_eq!(wilson95(0, 0), None);
    }

    #[test]
    fn merge_is_split_independent() {
        let vals: Vec<f64> = (0..500)
            .map(|i| (i as f64 * 0.37).sin().abs() * 1e4)
            .collect();
        let mut whole = OffsetHist::default();
        vals.iter().for_each(|v| whole.record_s(*v));
        let (mut a, mut b) = (OffsetHist::default(), OffsetHist::default());
        vals[..123].iter().for_each(|v| a.record_s(*v));
        vals[123..].iter().for_each(|v| b.record_s(*v));
        b.merge(&a);
        assert_eq!(whole, b);
    }

    #[test]
    fn month_buckets_follow_the_calendar() {
        let s = parse_rfc3339("2026-01-15").unwrap();
        let e = parse_rfc3339("2026-04-01").unwrap();
        let b = Buckets::new(Bucket::Month, s, e);
        assert_eq!(
            b.starts,
            vec![
                s,
                parse_rfc3339("2026-02-01").unwrap(),
                parse_rfc3339("2026-03-01").unwrap()
            ]
        );
        assert_eq!(b.index(parse_rfc3339("2026-02-28T23:00:00Z").unwrap()), 1);
        let f = Buckets::new(Bucket::Fixed { ms: 7 * DAY }, 0, 15 * DAY);
        assert_eq!(f.starts, vec![0, 7 * DAY, 14 * DAY]);
    }
}
