//! The fleet: every token simulated independently in parallel (rayon), per-token seeded, folded
//! into mergeable counters. Does no IO; progress goes out through a callback.

mod life;

pub use life::{simulate_token, Rejection, TokenRecord};

use crate::metrics::{Buckets, Counts, Tally};
use crate::scenario::Scenario;
use rayon::prelude::*;
use std::ops::Range;

/// Everything a run produced; exporters and charts read only this.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    pub population_names: Vec<String>,
    pub buckets: Buckets,
    pub tally: Tally,
    /// One record per simulated token, in token order.
    pub tokens: Vec<TokenRecord>,
    /// The token indices simulated (a shard of the fleet, or all of it).
    pub shard: Range<u64>,
    /// HMAC computations actually done (after the per-token code cache).
    pub hmacs: u64,
}

impl RunResult {
    pub fn total_attempts(&self) -> u64 {
        self.tally.pops.iter().map(|p| p.total.attempts).sum()
    }

    pub fn total_logins(&self) -> u64 {
        self.tally.pops.iter().map(|p| p.total.logins).sum()
    }
}

/// Tokens per parallel work item: large enough to amortise scheduling, small enough to balance.
const CHUNK: u64 = 16;

/// Simulates the tokens in `shard` (all tokens: `0..sc.run.tokens`). `progress` is called with
/// the number of tokens finished, from worker threads.
pub fn run(sc: &Scenario, shard: Range<u64>, progress: &(dyn Fn(u64) + Sync)) -> RunResult {
    let buckets = Buckets::new(sc.run.bucket, sc.run.start, sc.run.end());
    let npop = sc.populations.len();
    let sizes = sc.population_sizes();
    let mut bounds = Vec::with_capacity(npop);
    let mut acc = 0;
    for s in &sizes {
        bounds.push(acc..acc + s);
        acc += s;
    }
    let pop_of = |i: u64| {
        bounds
            .iter()
            .position(|r| r.contains(&i))
            .unwrap_or(npop - 1)
    };
    let chunks: Vec<Range<u64>> = (shard.start..shard.end)
        .step_by(CHUNK as usize)
        .map(|s| s..(s + CHUNK).min(shard.end))
        .collect();
    let nb = buckets.len();
    let (tally, mut tokens) = chunks
        .into_par_iter()
        .fold(
            || (Tally::new(npop, nb), Vec::new()),
            |(mut tally, mut recs), chunk| {
                let n = chunk.end - chunk.start;
                for i in chunk {
                    let pop = pop_of(i);
                    recs.push(simulate_token(sc, &buckets, pop, i, &mut tally.pops[pop]));
                }
                progress(n);
                (tally, recs)
            },
        )
        .reduce(
            || (Tally::new(npop, nb), Vec::new()),
            |(a, mut ra), (b, rb)| {
                ra.extend(rb);
                (a.merge(b), ra)
            },
        );
    tokens.sort_by_key(|r| r.token);
    let mut tally = tally;
    for p in &mut tally.pops {
        let mut total = Counts::default();
        p.buckets.iter().for_each(|b| total.add(b));
        p.total = total;
    }
    let hmacs = tokens.iter().map(|t| t.hmacs).sum();
    RunResult {
        population_names: sc.populations.iter().map(|p| p.name.clone()).collect(),
        buckets,
        tally,
        tokens,
        shard,
        hmacs,
    }
}
