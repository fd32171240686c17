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

    /// [`Buckets::index`] of `t` found by walking on from bucket `from`, which must not be
    /// past it: for times in order, where a binary search per login cost more.
    pub fn index_from(&self, from: usize, t: Millis) -> usize {
        let mut b = from;
        while b + 1 < self.starts.len() && self.starts[b + 1] <= t {
            b += 1;
        }
        debug_assert_eq!(b, self.index(t));
        b
    }
}

/// Declares a struct of `u64` counters and its merge from one list of fields, so a counter can
/// not be added without being merged.
macro_rules! counters {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* $f:ident,)* }) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$fm])* pub $f: u64,)*
        }

        impl $name {
            /// The counter names, in declaration order.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($f)),*];

            /// Adds every counter of `o`.
            pub fn add(&mut self, o: &$name) {
                $(self.$f += o.$f;)*
            }
        }
    };
}

counters! {
    /// Everything counted about logins and attempts.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
    pub struct Counts {
        logins,
        /// Logins whose first attempt was accepted.
        first_try_ok,
        /// Logins that ended accepted after retries.
        logins_ok,
        attempts,
        accepted,
        rejected_out_of_window,
        rejected_replay,
        rejected_locked,
        rejected_typo,
        rejected_dead,
        lockouts,
        /// A mistyped code accepted because it matched another step in the window.
        false_accepts,
        /// A correct code accepted at a step other than the device's (a chance collision first).
        chance_matches,
        /// Users who waited for a fresh code near rollover.
        waited_for_fresh_code,
        /// Drift adopted from out-of-window codes (consistent-skew learning).
        skew_resyncs,
        deaths_battery,
        deaths_expired,
        /// Codes answered with a request for the sync procedure (VIP error 4923).
        sync_prompts,
        /// Logins approved by push, with no code (they do not depend on the clock).
        push_logins,
        /// Attempts answered with a next-code challenge (RSA), and challenges then passed.
        next_code_challenges,
        next_code_succeeded,
        /// Drift adopted from two consecutive out-of-window codes (automatic resync).
        auto_resyncs,
        /// Logins that failed every retry and started the recovery ladder.
        incidents,
        /// Incidents ended by a successful login within the ladder.
        recovered_in_ladder,
        /// Logins given up (the ladder ran out, or the user waits for the helpdesk).
        logins_abandoned,
        /// Logins while the user had no working token (dead, shipping, waiting for a credential).
        logins_without_token,
        clock_fixes,
        app_resets,
        resyncs_attempted,
        resyncs_succeeded,
        resync_failed_outside_window,
        resync_failed_not_consecutive,
        resync_failed_replay,
        resync_failed_locked,
        tickets_lockout,
        tickets_reinstall,
        tickets_replace_failing,
        tickets_replace_dead,
        /// A simulated attacker's guesses, those that got in, and those held back by a lock.
        attack_guesses,
        attack_successes,
        attack_blocked,
    }
}

impl Counts {
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
    Some(wilson95_of(k as f64 / n as f64, n as f64))
}

/// The Wilson interval of a rate `p` observed over an (effective) sample of `n`.
fn wilson95_of(p: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Per-user sums behind the login rates' intervals. One user's logins are not independent (a
/// drifted token fails login after login), so the variance of a rate is estimated between
/// users (a cluster-robust, ratio-estimator variance) rather than between logins. Exact
/// integers, so any split of the fleet merges to the same interval.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserSums {
    /// Users with at least one login.
    pub users: u64,
    /// Sums over users of logins², first-try successes × logins, first-try successes²,
    /// successful logins × logins, successful logins².
    pub nn: u128,
    pub first_kn: u128,
    pub first_kk: u128,
    pub ok_kn: u128,
    pub ok_kk: u128,
}

impl UserSums {
    /// One user's `logins`, of which `first_ok` succeeded at the first try and `ok` at all.
    pub fn add_user(&mut self, logins: u64, first_ok: u64, ok: u64) {
        if logins == 0 {
            return;
        }
        let (n, f, k) = (logins as u128, first_ok as u128, ok as u128);
        self.users += 1;
        self.nn += n * n;
        self.first_kn += f * n;
        self.first_kk += f * f;
        self.ok_kn += k * n;
        self.ok_kk += k * k;
    }

    pub fn merge(&mut self, o: &UserSums) {
        self.users += o.users;
        self.nn += o.nn;
        self.first_kn += o.first_kn;
        self.first_kk += o.first_kk;
        self.ok_kn += o.ok_kn;
        self.ok_kk += o.ok_kk;
    }

    /// 95% interval of the first-try acceptance rate `k` / `n` (the population's totals).
    pub fn first_try_ci95(&self, k: u64, n: u64) -> Option<(f64, f64)> {
        self.ci95(k, n, self.first_kk, self.first_kn)
    }

    /// 95% interval of the login success rate `k` / `n`.
    pub fn login_success_ci95(&self, k: u64, n: u64) -> Option<(f64, f64)> {
        self.ci95(k, n, self.ok_kk, self.ok_kn)
    }

    /// Wilson's interval at the effective sample size n / deff, where the design effect deff
    /// is the between-user variance of the ratio K/N over the binomial one (at least 1: never
    /// narrower than treating logins as independent; 1 with fewer than two users).
    fn ci95(&self, k: u64, n: u64, kk: u128, kn: u128) -> Option<(f64, f64)> {
        if n == 0 {
            return None;
        }
        let (nf, p) = (n as f64, k as f64 / n as f64);
        let g = self.users as f64;
        let binomial = p * (1.0 - p) / nf;
        let deff = if self.users >= 2 && binomial > 0.0 {
            // sum over users of (k_i - p n_i)^2, expanded into the kept sums.
            let s = kk as f64 - 2.0 * p * kn as f64 + p * p * self.nn as f64;
            let var = g / (g - 1.0) * s.max(0.0) / (nf * nf);
            (var / binomial).max(1.0)
        } else {
            1.0
        };
        Some(wilson95_of(p, nf / deff))
    }
}

/// Bins grow by 2%: percentiles are within 1% of the true value.
const GROWTH: f64 = 1.02;
const BINS: usize = 1600;

/// The 1/64-octave slice holding `ms` > 0: its octave and the six bits after the leading one.
fn slice(ms: u64) -> usize {
    let e = 63 - ms.leading_zeros() as usize;
    let j = if e >= 6 {
        (ms >> (e - 6)) & 63
    } else {
        (ms << (6 - e)) & 63
    };
    e * 64 + j as usize
}

/// Lookup tables for [`OffsetHist::bin`].
struct BinTables {
    /// The bin of the smallest millisecond count in each slice.
    slice_first: Vec<u16>,
    /// `edge[k]`: the smallest count in bin k or above (`edge[BINS]` stands for none).
    edge: Vec<u64>,
}

fn bin_tables() -> &'static BinTables {
    static TABLES: std::sync::OnceLock<BinTables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut slice_first = vec![0u16; 64 * 64];
        for e in 0..64usize {
            for j in 0..64u64 {
                // The smallest count in slice (e, j); below 64 a slice holds one count or none.
                let lo = if e >= 6 {
                    (64 + j) << (e - 6)
                } else {
                    let v = (64 + j) >> (6 - e);
                    if slice(v) != e * 64 + j as usize {
                        continue;
                    }
                    v
                };
                slice_first[e * 64 + j as usize] = OffsetHist::bin_by_log(lo) as u16;
            }
        }
        let mut edge = vec![u64::MAX; BINS + 1];
        edge[0] = 0;
        let mut ms = 1u64;
        for (k, e) in edge.iter_mut().enumerate().take(BINS).skip(1) {
            // From just below 1.02^(k-1) upwards (edges never go down).
            let guess = (GROWTH.powf(k as f64 - 1.0) * (1.0 - 1e-12)) as u64;
            ms = ms.max(guess.saturating_sub(2)).max(1);
            while OffsetHist::bin_by_log(ms) < k {
                ms += 1;
            }
            *e = ms;
        }
        BinTables { slice_first, edge }
    })
}

/// Histogram of absolute clock errors in milliseconds on log bins. Only the span of bins
/// between the lowest and highest one used is stored (canonical for any order of recording
/// or merging), so memory follows the spread of the data, not buckets times all bins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OffsetHist {
    /// The first stored bin.
    lo: usize,
    /// Counts of bins lo, lo + 1, ...
    bins: Vec<u64>,
    pub count: u64,
    pub max_ms: u64,
}

impl OffsetHist {
    /// The bin of `ms`: 0 for 0, else 1 + ⌊ln ms / ln 1.02⌋ (capped), by definition.
    fn bin_by_log(ms: u64) -> usize {
        if ms == 0 {
            0
        } else {
            (1 + ((ms as f64).ln() / GROWTH.ln()) as usize).min(BINS - 1)
        }
    }

    /// [`OffsetHist::bin_by_log`] from two table lookups instead of a logarithm (two of
    /// which every login paid). Each slice of 1/64 of an octave spans a ratio under 1.02, so
    /// it holds at most one bin edge: the bin is the slice's first bin, or the next one from
    /// the edge. Both tables are built with `bin_by_log` itself, so the answer is the same.
    fn bin(ms: u64) -> usize {
        if ms == 0 {
            return 0;
        }
        let t = bin_tables();
        let b = t.slice_first[slice(ms)] as usize;
        (b + (ms >= t.edge[b + 1]) as usize).min(BINS - 1)
    }

    /// Makes bins `from..=to` addressable, keeping the stored span minimal.
    fn cover(&mut self, from: usize, to: usize) {
        if self.bins.is_empty() {
            self.lo = from;
            self.bins = vec![0; to - from + 1];
            return;
        }
        if from < self.lo {
            let mut v = vec![0; self.lo - from];
            v.extend_from_slice(&self.bins);
            self.bins = v;
            self.lo = from;
        }
        let hi = self.lo + self.bins.len() - 1;
        if to > hi {
            self.bins.resize(to - self.lo + 1, 0);
        }
    }

    pub fn record_s(&mut self, abs_offset_s: f64) {
        let ms = crate::time::ms_of_s(abs_offset_s.abs()) as u64;
        self.record_at(ms, Self::bin(ms));
    }

    /// Records one offset in two histograms (a bucket's and the run's), finding its bin once.
    pub fn record_both(a: &mut OffsetHist, b: &mut OffsetHist, abs_offset_s: f64) {
        Self::record_both_at(a, b, Self::locate(abs_offset_s));
    }

    /// Where an offset goes: (whole milliseconds, bin), for [`OffsetHist::record_both_at`].
    pub fn locate(abs_offset_s: f64) -> (u64, usize) {
        let ms = crate::time::ms_of_s(abs_offset_s.abs()) as u64;
        (ms, Self::bin(ms))
    }

    /// [`OffsetHist::record_both`] of an offset already located.
    pub fn record_both_at(a: &mut OffsetHist, b: &mut OffsetHist, (ms, bin): (u64, usize)) {
        a.record_at(ms, bin);
        b.record_at(ms, bin);
    }

    fn record_at(&mut self, ms: u64, b: usize) {
        self.cover(b, b);
        self.bins[b - self.lo] += 1;
        self.count += 1;
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn merge(&mut self, o: &OffsetHist) {
        if o.bins.is_empty() {
            return;
        }
        self.cover(o.lo, o.lo + o.bins.len() - 1);
        for (i, c) in o.bins.iter().enumerate() {
            self.bins[o.lo + i - self.lo] += c;
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
        for (k, c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= target {
                let i = self.lo + k;
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
            .map(|(k, c)| {
                let i = self.lo + k;
                let lo = if i == 0 {
                    0.0
                } else {
                    GROWTH.powf(i as f64 - 1.0) / 1000.0
                };
                (lo, GROWTH.powf(i as f64) / 1000.0, *c)
            })
            .collect()
    }

    /// The share of values above `edge_s`: whole bins above it, and the straddling bin in
    /// proportion (its 2% width is the only uncertainty).
    pub fn share_above_s(&self, edge_s: f64) -> Option<f64> {
        (self.count > 0).then(|| {
            let above: f64 = self
                .bins_s()
                .iter()
                .map(|&(lo, hi, c)| {
                    if lo >= edge_s {
                        c as f64
                    } else if hi > edge_s {
                        c as f64 * (hi - edge_s) / (hi - lo)
                    } else {
                        0.0
                    }
                })
                .sum();
            above / self.count as f64
        })
    }

    /// Bins stored (for memory tests).
    pub fn stored_bins(&self) -> usize {
        self.bins.len()
    }
}

/// Credential lives for Kaplan-Meier, binned by the hour of age: (hour, deaths, censored,
/// entered), sorted by hour. A token already in service when the run starts enters the risk set
/// at its age then (left truncation), not at zero: its earlier life was not observed, and
/// counting it from birth would make the fleet look longer-lived than it is. Exact counts, so
/// any split of the fleet merges to the same estimate, and memory follows the horizon, not the
/// fleet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Lives(pub Vec<(u64, u64, u64, u64)>);

const HOUR_MS: i64 = 3_600_000;

impl Lives {
    /// One credential observed from age `entry_ms` (0 unless it was already in service) to age
    /// `exit_ms`, when it died (true) or was censored (alive at the end, retired early).
    pub fn record(&mut self, entry_ms: i64, exit_ms: i64, died: bool) {
        if exit_ms < entry_ms {
            return; // never at risk while observed
        }
        let exit = self.bin(exit_ms);
        if died {
            self.0[exit].1 += 1;
        } else {
            self.0[exit].2 += 1;
        }
        let entry = self.bin(entry_ms);
        self.0[entry].3 += 1;
    }

    /// The index of the hour holding age `ms`, inserted if new.
    fn bin(&mut self, ms: i64) -> usize {
        let h = (ms.max(0) / HOUR_MS) as u64;
        match self.0.binary_search_by_key(&h, |e| e.0) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (h, 0, 0, 0));
                i
            }
        }
    }

    pub fn merge(&mut self, o: &Lives) {
        for &(h, d, c, e) in &o.0 {
            let i = self.bin(h as i64 * HOUR_MS);
            self.0[i].1 += d;
            self.0[i].2 += c;
            self.0[i].3 += e;
        }
    }

    /// Kaplan-Meier with late entry: the life (years, the middle of its hour) by which a share
    /// `q` has died; None if never reached. In one hour, entries join the risk set first, then
    /// deaths count before censorings.
    pub fn quantile_years(&self, q: f64) -> Option<f64> {
        let mut at_risk: u64 = 0;
        let mut survival = 1.0;
        for &(h, d, c, e) in &self.0 {
            at_risk += e;
            if d > 0 {
                survival *= 1.0 - d as f64 / at_risk as f64;
                if 1.0 - survival >= q - 1e-12 {
                    return Some((h as f64 + 0.5) * HOUR_MS as f64 / crate::time::YEAR as f64);
                }
            }
            at_risk -= d + c;
        }
        None
    }
}

/// What one population accumulated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PopTally {
    pub tokens: u64,
    /// Credentials (rows of tokens.csv), and the lives of those with a battery.
    pub credentials: u64,
    pub lives: Lives,
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
    /// Per-user sums for the rates' intervals.
    #[serde(default)]
    pub users: UserSums,
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
        // Destructured so that a field added to PopTally fails to compile until it is merged.
        let PopTally {
            tokens,
            credentials,
            lives,
            total,
            buckets,
            offsets,
            offsets_total,
            final_offsets,
            recovery_time,
            alive_end,
            without_token_end,
            users,
        } = o;
        self.users.merge(users);
        self.tokens += tokens;
        self.credentials += credentials;
        self.lives.merge(lives);
        self.total.add(total);
        for (a, b) in self.buckets.iter_mut().zip(buckets) {
            a.add(b);
        }
        for (a, b) in self.offsets.iter_mut().zip(offsets) {
            a.merge(b);
        }
        self.offsets_total.merge(offsets_total);
        self.final_offsets.merge(final_offsets);
        self.recovery_time.merge(recovery_time);
        for (a, b) in self.alive_end.iter_mut().zip(alive_end) {
            *a += b;
        }
        for (a, b) in self.without_token_end.iter_mut().zip(without_token_end) {
            *a += b;
        }
    }
}

/// The whole fleet's tally, one entry per population.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
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

    /// Sets each population's totals from its buckets (after the last merge).
    pub fn settle(&mut self) {
        for p in &mut self.pops {
            let mut total = Counts::default();
            p.buckets.iter().for_each(|b| total.add(b));
            p.total = total;
        }
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

    #[test]
    fn the_bin_lookup_gives_the_logarithms_bin_for_every_count() {
        // Every count to 2 million (offsets to half an hour), and each side of every edge.
        for ms in 0..2_000_000u64 {
            assert_eq!(OffsetHist::bin(ms), OffsetHist::bin_by_log(ms), "{ms} ms");
        }
        let t = bin_tables();
        for k in 1..BINS {
            let e = t.edge[k];
            assert!(OffsetHist::bin_by_log(e) >= k && OffsetHist::bin_by_log(e - 1) < k);
            for ms in e.saturating_sub(3)..=e.saturating_add(3) {
                assert_eq!(OffsetHist::bin(ms), OffsetHist::bin_by_log(ms), "{ms} ms");
            }
        }
        // Past the last edge everything is capped in the last bin.
        for ms in [t.edge[BINS - 1], u64::MAX / 3, u64::MAX] {
            assert_eq!(OffsetHist::bin(ms), BINS - 1);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_bin_lookup_agrees_at_any_magnitude(bits in 0u32..64, x: u64) {
            let ms = x >> bits;
            proptest::prop_assert_eq!(OffsetHist::bin(ms), OffsetHist::bin_by_log(ms));
        }
    }

    #[test]
    fn histograms_store_only_the_span_used_whatever_the_order() {
        let values = [0.5, 0.51, 3.0, 0.2, 1.0];
        let mut one = OffsetHist::default();
        values.iter().for_each(|v| one.record_s(*v));
        // Recorded in two parts, merged the other way round: the same histogram.
        let (mut a, mut b) = (OffsetHist::default(), OffsetHist::default());
        values[..2].iter().for_each(|v| a.record_s(*v));
        values[2..].iter().for_each(|v| b.record_s(*v));
        b.merge(&a);
        assert_eq!(b, one);
        // 0.2 s to 3 s is about 137 bins of 2%, not 1,600.
        assert!(one.stored_bins() < 140, "{}", one.stored_bins());
        // The median, 0.51 s, to within the bins' 1%.
        assert!((one.quantile_s(0.5).unwrap() / 0.51 - 1.0).abs() < 0.01);
    }

    #[test]
    fn every_counter_is_merged() {
        // Distinct values in every field, through serde so no field is named by hand here.
        let a: Counts = serde_json::from_value(serde_json::Value::Object(
            Counts::FIELDS
                .iter()
                .enumerate()
                .map(|(i, f)| (f.to_string(), serde_json::json!(i as u64 + 1)))
                .collect(),
        ))
        .unwrap();
        let mut b = a;
        b.add(&a);
        let (a, b) = (
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap(),
        );
        assert_eq!(a.as_object().unwrap().len(), Counts::FIELDS.len());
        for f in Counts::FIELDS {
            assert_eq!(
                b[f].as_u64(),
                a[f].as_u64().map(|x| 2 * x),
                "{f} is not merged"
            );
        }
    }
    use crate::time::{parse_rfc3339, DAY};

    #[test]
    fn kaplan_meier_by_hand() {
        // Five lives: deaths at hours 1, 3 and 4; censored at 2 and 5.
        let mut l = Lives::default();
        for (h, died) in [(4, true), (1, true), (5, false), (3, true), (2, false)] {
            l.record(0, h * HOUR_MS + 1000, died);
        }
        let y = |h: f64| Some((h + 0.5) * HOUR_MS as f64 / crate::time::YEAR as f64);
        // S(1) = 4/5; S(3) = 4/5 * 2/3 = 8/15; S(4) = 8/15 * 1/2 = 4/15.
        assert_eq!(l.quantile_years(0.1), y(1.0));
        assert_eq!(l.quantile_years(0.2), y(1.0));
        assert_eq!(l.quantile_years(0.4), y(3.0));
        assert_eq!(l.quantile_years(0.5), y(4.0));
        assert_eq!(l.quantile_years(0.7), y(4.0));
        assert_eq!(l.quantile_years(0.8), None);
        assert_eq!(Lives::default().quantile_years(0.5), None);
        // Ties in one hour: two deaths of four at risk halve survival at once.
        let mut t = Lives::default();
        for died in [true, true, false, false] {
            t.record(0, 7 * HOUR_MS, died);
        }
        assert_eq!(t.quantile_years(0.5), y(7.0));
        assert_eq!(t.quantile_years(0.51), None);
        // Split and merged the other way round: the same bins.
        let (mut a, mut b) = (Lives::default(), Lives::default());
        a.record(0, 5 * HOUR_MS, false);
        a.record(0, HOUR_MS, true);
        b.record(0, 2 * HOUR_MS, false);
        b.record(0, 4 * HOUR_MS, true);
        b.record(0, 3 * HOUR_MS, true);
        b.merge(&a);
        assert_eq!(b, l);
    }

    #[test]
    fn rate_intervals_count_users_not_logins() {
        // Four users of 100 logins: two always succeed, two never. p = 1/2; between users
        // sum (k - p n)^2 = 4 * 50^2, var = 4/3 * 10,000 / 400^2 = 1/12, against a binomial
        // 1/1600: the design effect is 133 1/3 and the effective sample 3 users' worth.
        let mut u = UserSums::default();
        for k in [100, 0, 100, 0] {
            u.add_user(100, k, k);
        }
        u.add_user(0, 0, 0); // no logins: not a cluster
        assert_eq!(u.users, 4);
        let (lo, hi) = u.first_try_ci95(200, 400).unwrap();
        let (el, eh) = wilson95_of(0.5, 3.0);
        assert!(
            (lo - el).abs() < 1e-12 && (hi - eh).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert!(
            (lo - 0.125_33).abs() < 1e-4 && (hi - 0.874_67).abs() < 1e-4,
            "{lo} {hi}"
        );
        // Far wider than logins taken as independent.
        let (wl, wh) = wilson95(200, 400).unwrap();
        assert!(wh - wl < 0.1 && hi - lo > 0.7);
        // Users alike: no between-user excess, so exactly Wilson's interval over logins.
        let mut same = UserSums::default();
        for _ in 0..4 {
            same.add_user(100, 50, 90);
        }
        assert_eq!(same.first_try_ci95(200, 400), wilson95(200, 400));
        assert_eq!(same.login_success_ci95(360, 400), wilson95(360, 400));
        // Merged halves give the whole.
        let (mut a, mut b) = (UserSums::default(), UserSums::default());
        a.add_user(100, 100, 100);
        a.add_user(100, 0, 0);
        b.add_user(100, 100, 100);
        b.add_user(100, 0, 0);
        a.merge(&b);
        assert_eq!(a, u);
        assert_eq!(UserSums::default().first_try_ci95(0, 0), None);
    }

    #[test]
    fn kaplan_meier_with_late_entry() {
        // Four new tokens: deaths at hours 1 and 2, two censored at 20. Two tokens already 10
        // hours old at the start: deaths at hours 11 and 12. The old ones are not at risk
        // before hour 10, so S(1) = 3/4, S(2) = 1/2 (median at hour 2), S(11) = 3/8,
        // S(12) = 1/4. Counted from birth instead, the median would move to hour 11.
        let mut l = Lives::default();
        for (entry, exit, died) in [
            (0, 1, true),
            (0, 2, true),
            (0, 20, false),
            (0, 20, false),
            (10, 11, true),
            (10, 12, true),
        ] {
            l.record(entry * HOUR_MS, exit * HOUR_MS + 5, died);
        }
        let y = |h: f64| Some((h + 0.5) * HOUR_MS as f64 / crate::time::YEAR as f64);
        assert_eq!(l.quantile_years(0.25), y(1.0));
        assert_eq!(l.quantile_years(0.5), y(2.0));
        assert_eq!(l.quantile_years(0.6), y(11.0));
        assert_eq!(l.quantile_years(0.75), y(12.0));
        assert_eq!(l.quantile_years(0.76), None);
        // A life that ended before it was observed is not in the table.
        let mut z = Lives::default();
        z.record(5 * HOUR_MS, 3 * HOUR_MS, true);
        assert_eq!(z, Lives::default());
        z.record(5 * HOUR_MS, 5 * HOUR_MS + 1, true);
        assert_eq!(z.0, vec![(5, 1, 0, 1)]);
        assert_eq!(z.quantile_years(1.0), y(5.0));
    }

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
