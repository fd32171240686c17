//! Mergeable counters: per population and time bucket, integer counts and log-binned clock-error
//! histograms. Merging is addition (and max), so any split of the fleet merges to the same bytes.
//! This file holds a population's tally and the fleet's; each kind of counter has its own file.

mod buckets;
mod counts;
mod hist;
mod lives;
mod rates;

pub use buckets::{Bucket, Buckets};
pub use counts::{ratio, Counts, NodeCounts};
pub use hist::OffsetHist;
pub use lives::{LifeBin, Lives};
pub use rates::{wilson95, UserSums};
use serde::Serialize;

/// What one population accumulated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PopTally {
    pub tokens: u64,
    /// Credentials (rows of tokens.csv), and the lives of those with a battery.
    pub credentials: u64,
    pub lives: Lives,
    pub total: Counts,
    pub buckets: Vec<Counts>,
    /// Absolute device-clock error at each login, per bucket, and over the run (the buckets'
    /// sum, like `total`: see [`Tally::settle`]).
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
    /// A cluster's user attempts by bucket and node (bucket-major; empty without a cluster).
    #[serde(default)]
    pub nodes: Vec<NodeCounts>,
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
            nodes,
        } = o;
        if self.nodes.is_empty() {
            self.nodes.clone_from(nodes);
        } else {
            for (a, b) in self.nodes.iter_mut().zip(nodes) {
                a.add(b);
            }
        }
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
            let mut offsets = OffsetHist::default();
            p.offsets.iter().for_each(|h| offsets.merge(h));
            p.offsets_total = offsets;
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
