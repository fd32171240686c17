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
    /// One record per credential, in (user, generation) order.
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
                    recs.extend(simulate_token(sc, &buckets, pop, i, &mut tally.pops[pop]));
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
    tokens.sort_by_key(|r| (r.token, r.generation));
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

#[cfg(test)]
mod tests {
    use super::*;

    const FLEET: &str = r#"
[run]
horizon = "60d"
tokens = 90
seed = 17
bucket = "7d"

[[population]]
share = 0.5
token = { kind = "phone" }

[[population]]
share = 0.3
token = { kind = "desktop" }

[[population]]
share = 0.2
token = { kind = "hotp" }
"#;

    #[test]
    fn shards_merge_to_the_whole_run() {
        let sc = Scenario::from_toml("f.toml", FLEET).unwrap();
        let whole = run(&sc, 0..90, &|_| {});
        let mut merged = Tally::default();
        let mut tokens = Vec::new();
        for shard in [0..7, 7..50, 50..51, 51..90] {
            let part = run(&sc, shard, &|_| {});
            merged = merged.merge(part.tally);
            tokens.extend(part.tokens);
        }
        assert_eq!(merged, whole.tally);
        assert_eq!(tokens, whole.tokens);
        assert!(whole.total_attempts() > 1000);
    }

    #[test]
    fn progress_counts_every_token_once() {
        let sc = Scenario::from_toml("f.toml", FLEET).unwrap();
        let seen = std::sync::atomic::AtomicU64::new(0);
        run(&sc, 0..90, &|n| {
            seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(seen.into_inner(), 90);
    }

    #[test]
    fn hotp_tokens_with_unsent_presses_stay_within_look_ahead() {
        // 0.05 unsent presses a day never outruns a look-ahead of 10: every attempt that is
        // not a typo is accepted.
        let sc = Scenario::from_toml("f.toml", FLEET).unwrap();
        let r = run(&sc, 0..90, &|_| {});
        let hotp = &r.tally.pops[2].total;
        assert!(hotp.logins > 0);
        assert_eq!(hotp.rejected_out_of_window, 0);
        assert_eq!(
            hotp.accepted + hotp.rejected_typo + hotp.rejected_replay + hotp.rejected_locked,
            hotp.attempts
        );
    }
}
