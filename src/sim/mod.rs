//! The fleet: every token simulated independently in parallel (rayon), per-token seeded, folded
//! into mergeable counters. Does no IO; progress goes out through a callback.

mod life;
mod trace;

#[cfg(test)]
pub use life::audit;
pub use life::{simulate_points, simulate_token, Rejection, TokenRecord, UserTrace};
pub use trace::{TraceAction, TraceEvent, TraceOutcome, TraceSecret, TraceSelect};

use crate::metrics::{Buckets, PopTally, Tally};
use crate::scenario::Scenario;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::Mutex;

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
    /// The traced users' requests, in (user, order seen) order, and their credentials.
    pub trace: Vec<TraceEvent>,
    pub trace_secrets: Vec<TraceSecret>,
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
/// Tokens per wave: records leave in token order after each wave, so memory holds one wave's
/// records, and a wave is long enough that the idle tail at its barrier is a fraction of a %.
const WAVE: u64 = 16_384;

/// Simulates the tokens in `shard` (all tokens: `0..sc.run.tokens`), keeping every record in
/// `tokens`. `progress` is called with the number of tokens finished, from worker threads.
pub fn run(sc: &Scenario, shard: Range<u64>, progress: &(dyn Fn(u64) + Sync)) -> RunResult {
    run_traced(sc, shard, TraceSelect::None, progress)
}

/// [`run`], also recording the requests of the users `trace` selects.
pub fn run_traced(
    sc: &Scenario,
    shard: Range<u64>,
    trace: TraceSelect,
    progress: &(dyn Fn(u64) + Sync),
) -> RunResult {
    let mut tokens = Vec::new();
    let mut r = run_streamed(sc, shard, trace, progress, &mut |recs| {
        tokens.extend(recs);
        true
    });
    r.tokens = tokens;
    r
}

/// [`run_traced`], handing the records to `sink` in (user, generation) order, a wave at a time,
/// instead of keeping them: memory stays flat in the number of tokens. `tokens` is empty.
/// When `sink` returns false (it can no longer take them: a full disk), the run stops after
/// that wave and the result covers only the waves done.
pub fn run_streamed(
    sc: &Scenario,
    shard: Range<u64>,
    trace: TraceSelect,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut dyn FnMut(Vec<TokenRecord>) -> bool,
) -> RunResult {
    let mut r = run_side_by_side(&[sc], shard, trace, progress, &mut |_, recs| sink(recs));
    r.pop().expect("one result per point")
}

/// The most settings simulated side by side: each keeps its own tallies on every thread, so
/// more would cost memory (and cache) for little more sharing.
pub const SIDE_BY_SIDE: usize = 8;

/// Runs `points`, scenarios that differ only in their validator, side by side: each user is
/// simulated at every point at once, sharing its schedule, clock and codes (see
/// [`simulate_points`]). `sink` gets each point's records with the point's index, and stops
/// the run after the wave by returning false.
fn run_side_by_side(
    points: &[&Scenario],
    shard: Range<u64>,
    trace: TraceSelect,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut dyn FnMut(usize, Vec<TokenRecord>) -> bool,
) -> Vec<RunResult> {
    let sc = points[0];
    let k = points.len();
    let buckets = Buckets::new(sc.run.bucket, sc.run.start, sc.run.end());
    let npop = sc.populations.len();
    let bounds = sc.population_ranges();
    let pop_of = |i: u64| {
        bounds
            .iter()
            .position(|r| r.contains(&i))
            .unwrap_or(npop - 1)
    };
    let nb = buckets.len();
    // One tally per point per worker thread for the whole run: integer counters and canonical
    // histograms, so which thread simulated a token never shows in the merged result.
    let slots = rayon::current_num_threads() + 1;
    let tallies: Vec<Mutex<Vec<Tally>>> = (0..slots)
        .map(|_| Mutex::new(vec![Tally::new(npop, nb); k]))
        .collect();
    let mut traces: Vec<Vec<UserTrace>> = (0..k).map(|_| Vec::new()).collect();
    let mut hmacs = vec![0; k];
    type Done = Vec<(Vec<TokenRecord>, Vec<UserTrace>)>;
    let mut wave = shard.start;
    while wave < shard.end {
        let wave_end = wave.saturating_add(WAVE).min(shard.end);
        let chunks: Vec<Range<u64>> = (wave..wave_end)
            .step_by(CHUNK as usize)
            .map(|s| s..(s + CHUNK).min(wave_end))
            .collect();
        let done: Vec<Done> = chunks
            .into_par_iter()
            // One chunk per task: rayon's adaptive splitting otherwise hands a thread a run of
            // chunks it cannot give away, and the other idles at the end (2 threads on the
            // quickstart: 1.73 -> 1.95 times one thread).
            .with_max_len(1)
            .map(|chunk| {
                let slot = rayon::current_thread_index().map_or(slots - 1, |i| i.min(slots - 2));
                let mut tally = tallies[slot]
                    .lock()
                    .expect("a tally lock is never poisoned");
                let mut out: Done = (0..k).map(|_| (Vec::new(), Vec::new())).collect();
                let n = chunk.end - chunk.start;
                for i in chunk {
                    let pop = pop_of(i);
                    let mut ts: Vec<&mut PopTally> =
                        tally.iter_mut().map(|t| &mut t.pops[pop]).collect();
                    let is_traced = trace.includes(i, sc.run.tokens);
                    let lives = simulate_points(points, &buckets, pop, i, &mut ts, is_traced);
                    let mortal = sc.populations[pop].battery.is_some();
                    for ((t, (r, tr)), o) in ts.iter_mut().zip(lives).zip(&mut out) {
                        for rec in &r {
                            t.credentials += 1;
                            if mortal {
                                let end = rec.died.map_or(sc.run.end(), |d| d.0);
                                let died = rec.died.is_some_and(|d| d.1.is_death());
                                // A token in service before the start is observed from then.
                                let entry = sc.run.start - rec.born;
                                t.lives.record(entry.max(0), end - rec.born, died);
                            }
                        }
                        o.0.extend(r);
                        o.1.extend(tr);
                    }
                }
                drop(tally);
                progress(n * k as u64);
                out
            })
            .collect();
        let mut going = true;
        for per_point in done {
            for (j, (recs, traced)) in per_point.into_iter().enumerate() {
                hmacs[j] += recs.iter().map(|t| t.hmacs).sum::<u64>();
                traces[j].extend(traced);
                going &= sink(j, recs);
            }
        }
        wave = if going { wave_end } else { shard.end };
    }
    let mut merged = vec![Tally::default(); k];
    for slot in tallies {
        let parts = slot.into_inner().expect("a tally lock is never poisoned");
        for (m, t) in merged.iter_mut().zip(parts) {
            *m = std::mem::take(m).merge(t);
        }
    }
    merged
        .into_iter()
        .zip(traces)
        .zip(hmacs)
        .map(|((mut tally, traces), hmacs)| {
            tally.settle();
            // One user's trace is one piece, in the order it happened: users in order, their
            // own order.
            let trace_secrets = traces.iter().flat_map(|t| t.secrets.clone()).collect();
            let trace = traces.into_iter().flat_map(|t| t.events).collect();
            RunResult {
                population_names: sc.populations.iter().map(|p| p.name.clone()).collect(),
                buckets: buckets.clone(),
                tally,
                tokens: Vec::new(),
                shard: shard.clone(),
                hmacs,
                trace,
                trace_secrets,
            }
        })
        .collect()
}

/// Whether two settings may run side by side: the same scenario but for the validator (and its
/// timeline). Equal
/// validators prove nothing (a sweep over a clock or user setting has them): everything else is
/// compared, since the copies share the first point's fleet, schedule and clocks.
fn side_by_side(a: &Scenario, b: &Scenario) -> bool {
    let mut b = b.clone();
    b.validator = a.validator.clone();
    // A timeline is the validator's side over time: each copy keeps its own.
    b.timeline = a.timeline.clone();
    b.schedules = a.schedules.clone();
    b.cluster = a.cluster.clone();
    *a == b
}

/// Runs every point of a sweep on the same fleet. Common random numbers need nothing more than
/// the seed: each user's streams are keyed by (seed, user, purpose), so user i has the same
/// clock, logins and behaviour at every point. Consecutive points that differ only in their
/// validator (up to [`SIDE_BY_SIDE`]) run side by side and share each user's schedule, clock
/// path and codes; each point's tally is exactly that of running it alone (tested). Only the
/// HMAC counts differ: they are the HMACs actually computed, shared codes counted once.
pub fn run_points(points: &[Scenario], progress: &(dyn Fn(u64) + Sync)) -> Vec<RunResult> {
    let mut out = Vec::with_capacity(points.len());
    let mut rest = points;
    while let Some(first) = rest.first() {
        let n = rest
            .iter()
            .take(SIDE_BY_SIDE)
            .take_while(|p| side_by_side(first, p))
            .count();
        let group: Vec<&Scenario> = rest[..n].iter().collect();
        let shard = 0..first.run.tokens;
        out.extend(run_side_by_side(
            &group,
            shard,
            TraceSelect::None,
            progress,
            &mut |_, _| true,
        ));
        rest = &rest[n..];
    }
    out
}

/// [`run`] keeping only the aggregates (no token records): memory flat in the fleet, for
/// sweeps, whose tables need nothing else.
pub fn run_aggregates(
    sc: &Scenario,
    shard: Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> RunResult {
    run_streamed(sc, shard, TraceSelect::None, progress, &mut |_| true)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::metrics::{wilson95, Counts};

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

    fn points(text: &str) -> Vec<Scenario> {
        let base = Scenario::from_toml("s.toml", text).unwrap();
        crate::scenario::sweep::settings("s.toml", text, &[], &base)
            .unwrap()
            .1
    }

    #[test]
    fn sweep_points_equal_separate_runs() {
        let text = format!("{FLEET}\n[sweep]\nvary = {{ \"validator.preset\" = [\"rfc6238\", \"privacyidea\", \"keycloak\"] }}\n");
        let pts = points(&text);
        assert_eq!(pts.len(), 3);
        let together = run_points(&pts, &|_| {});
        let alone: Vec<RunResult> = pts
            .iter()
            .map(|sc| run(sc, 0..sc.run.tokens, &|_| {}))
            .collect();
        for (a, r) in alone.iter().zip(&together) {
            assert_eq!(a.tally, r.tally);
            assert!(r.tokens.is_empty(), "a sweep holds no token records");
        }
        // The same users: the same first logins before any setting can matter.
        assert_eq!(alone[0].tokens[5].born, alone[2].tokens[5].born);
    }

    /// Everything that makes the copies of a user at different settings part ways: retries and
    /// recovery steps that move the clock (on clocks that wander, so a clock's path depends on
    /// when it is read), logins skipped while busy, lockouts, an attacker, syncs, next-code
    /// challenges, wide skew scans, batteries and replacements.
    const PARTING: &str = r#"
[run]
horizon = "1y"
tokens = 48
seed = 5
bucket = "month"

[attack]
guesses_per_day = 4
simulate_accounts = 3

[[population]]
share = 0.5
token = { kind = "phone" }
clock = { drift_ppm = { dist = "normal", mean = 0, sd = 25 }, wander_ppm_per_sqrt_day = 0.5, sync = { enabled = false } }
user = { typo_probability = 0.1, logins_per_day = 3 }

[[population]]
share = 0.3
token = { kind = "hardware" }
clock = { drift_ppm = { dist = "normal", mean = 0, sd = 40 }, wander_ppm_per_sqrt_day = 0.3 }
battery = { life_codes = 600, codes_at_start = { dist = "uniform", min = 0, max = 500 } }
user = { typo_probability = 0.05 }

[[population]]
share = 0.2
token = { kind = "hotp", unsent_presses_per_day = 0.5 }

# google-authenticator's rules with a narrower skew scan, so that the test stays quick.
[[sweep]]
vary = { "validator.preset" = ["rfc6238", "vip", "privacyidea", "rsa", "onespan", "pam-oath", "keycloak", "django-otp"] }

[[sweep]]
vary = { "validator.drift" = [{ mode = "consistent", k = 3, search = 60 }] }
"#;

    #[test]
    fn settings_side_by_side_give_exactly_what_each_gives_alone() {
        let pts = points(PARTING);
        assert_eq!(pts.len(), 9);
        let together = run_points(&pts, &|_| {});
        let mut hmacs = (0, 0);
        for (sc, r) in pts.iter().zip(&together) {
            let alone = run(sc, 0..sc.run.tokens, &|_| {});
            assert_eq!(r.tally, alone.tally, "{:?}", sc.validator);
            hmacs.0 += r.hmacs;
            hmacs.1 += alone.hmacs;
        }
        // The copies really part ways (so the test covers forking), and share their codes.
        let all = |r: &RunResult| r.tally.all().total;
        let c: Vec<Counts> = together.iter().map(all).collect();
        assert!(
            c.iter().any(|c| c.clock_fixes > 0 && c.app_resets > 0),
            "{c:?}"
        );
        assert!(c.iter().any(|c| c.resyncs_succeeded > 0));
        assert!(c.iter().any(|c| c.next_code_challenges > 0));
        assert!(c.iter().any(|c| c.lockouts > 0 && c.attack_guesses > 0));
        assert!(c.iter().any(|c| c.tickets_replace_dead > 0));
        let accepted: std::collections::BTreeSet<u64> = c.iter().map(|c| c.accepted).collect();
        assert!(
            accepted.len() >= 7,
            "the settings decide differently: {accepted:?}"
        );
        assert!(
            hmacs.0 < hmacs.1,
            "shared codes: {hmacs:?} HMACs together, alone"
        );
    }

    /// Users who never retry, never climb the ladder and never lock: each login is exactly one
    /// attempt at the same moment with the same clock at every point.
    const PLAIN: &str = r#"
[run]
horizon = "1y"
tokens = 120
seed = 23
bucket = "month"

[validator]
drift = "none"
replay = "none"
lockout = { max_failures = 0 }
sync = "none"

[[population]]
share = 0.5
token = { kind = "desktop" }
user = { retries = 0, typo_probability = 0.02 }
recovery = { enabled = false }

[[population]]
share = 0.5
token = { kind = "hardware" }
clock = { drift_ppm = { dist = "normal", mean = 0, sd = 15 } }
battery = { enabled = false }
user = { retries = 0 }
recovery = { enabled = false }

[sweep]
vary = { "validator.window.back" = [0, 1, 2, 4], "validator.window.ahead" = [0, 1, 2, 4] }
combine = "zip"
"#;

    #[test]
    fn widening_the_window_never_lowers_acceptance_without_drift_learning_or_replay() {
        let pts = points(PLAIN);
        let res: Vec<RunResult> = pts
            .iter()
            .map(|sc| run(sc, 0..sc.run.tokens, &|_| {}))
            .collect();
        for w in res.windows(2) {
            let (narrow, wide) = (&w[0].tokens, &w[1].tokens);
            assert_eq!(narrow.len(), wide.len());
            assert!(narrow.len() >= 120, "every user has a record");
            for (a, b) in narrow.iter().zip(wide) {
                assert_eq!(
                    (a.token, a.logins, a.attempts),
                    (b.token, b.logins, b.attempts),
                    "same fleet, same attempts"
                );
                assert!(
                    b.accepted >= a.accepted,
                    "token {}: {} accepted with the wider window, {} with the narrower",
                    a.token,
                    b.accepted,
                    a.accepted
                );
            }
        }
        let acc: Vec<f64> = res
            .iter()
            .map(|r| r.tally.all().total.first_try_acceptance_rate().unwrap())
            .collect();
        assert!(
            acc[0] < acc[1] && acc[1] < acc[2] && acc[2] < acc[3],
            "{acc:?}"
        );
    }

    #[test]
    fn with_drift_learning_and_time_forward_a_wider_window_can_lower_acceptance() {
        // A hand-made trace first: a clock 3 steps fast, then fixed. The wide window accepts the
        // fast code, so the fixed clock's next code is from the validator's past.
        use crate::validator::{presets, CredentialState, Scheme, Verdict};
        let narrow = presets::find("rfc6238").unwrap().config;
        let wide = crate::validator::ValidatorConfig {
            window_back: 3,
            window_ahead: 3,
            ..narrow.clone()
        };
        let code = |s: i64| (s as u32).wrapping_mul(2654435761) % 1_000_000;
        let totp = Scheme::Totp { step_s: 30, t0: 0 };
        let trace = [(100 * 30_000 + 1000, 103), (101 * 30_000 + 1000, 101)];
        let mut outcomes = Vec::new();
        for v in [&narrow, &wide] {
            let mut st = CredentialState::enrolled(0);
            outcomes.push(
                trace
                    .iter()
                    .map(|&(t, s)| v.verify(&mut st, totp, t, code(s), code).verdict)
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(outcomes[0], vec![Verdict::NoMatch, Verdict::Accepted]);
        assert_eq!(outcomes[1], vec![Verdict::Accepted, Verdict::Replay]);

        // And in a fleet: clocks that run minutes fast for a while, with drift learning and the
        // time-forward rule. Some user does worse with the wider window.
        // A clock set 40 minutes ahead for five minutes now and then: a window wide enough to
        // accept its codes moves the watermark 40 minutes forward.
        let text = PLAIN
            .replace("drift = \"none\"", "drift = \"steps\"")
            .replace("replay = \"none\"", "replay = \"time_forward\"")
            .replace("user = { retries = 0, typo_probability = 0.02 }", "user = { retries = 0, logins_per_day = 20 }")
            .replace(
                "token = { kind = \"desktop\" }",
                "token = { kind = \"desktop\" }\nclock = { profile = \"ideal\", events = { future_trip = { rate_per_year = 20, amount = \"40m\", back_after = \"5m\" } } }",
            )
            .replace("[0, 1, 2, 4]", "[1, 90]");
        let pts = points(&text);
        let res: Vec<RunResult> = pts
            .iter()
            .map(|sc| run(sc, 0..sc.run.tokens, &|_| {}))
            .collect();
        let worse = res[0]
            .tokens
            .iter()
            .zip(&res[1].tokens)
            .filter(|(n, w)| w.accepted < n.accepted)
            .count();
        assert!(worse > 0, "no user did worse with the wider window");
    }

    /// Forty accounts with two-digit codes, a ±1 window and no lockout, replay or drift,
    /// under an attacker guessing 300 times a day; `MODE` is the decision mode.
    const GUESSED: &str = r#"
[run]
decide = "MODE"
horizon = "60d"
tokens = 40
seed = 31
bucket = "7d"

[validator]
drift = "none"
replay = "none"
lockout = { max_failures = 0 }
sync = "none"

[[population]]
token = { kind = "phone", digits = 2 }
user = { logins_per_day = 0.2 }
recovery = { enabled = false }

[attack]
guesses_per_day = 300
simulate_accounts = 40
"#;

    #[test]
    fn simulated_guessing_matches_the_analytic_probability_in_both_modes() {
        // Two-digit codes, a ±1 window, no lockout or replay: a guess hits one of the codes of
        // three steps. Distinct codes among three random two-digit codes: 100 (1 - 0.99^3).
        // In fast mode the chance collisions are drawn by the mixer, at the same rate.
        for mode in ["exact", "fast"] {
            let text = GUESSED.replace("MODE", mode);
            let sc = Scenario::from_toml("a.toml", &text).unwrap();
            let r = run(&sc, 0..40, &|_| {});
            let c = r.tally.all().total;
            assert!(c.attack_guesses > 600_000, "{}", c.attack_guesses);
            let simulated = c.attack_successes as f64 / c.attack_guesses as f64;
            let exact = 1.0 - 0.99f64.powi(3);
            let analytic = crate::attack::exposure(&sc, 0, sc.attack.as_ref().unwrap()).p_guess;
            assert_eq!(analytic, 0.03);
            let se = (exact * (1.0 - exact) / c.attack_guesses as f64).sqrt();
            assert!(
                (simulated - exact).abs() < 4.0 * se,
                "{mode}: simulated {simulated}, expected {exact} (se {se})"
            );
            let (lo, hi) = crate::metrics::wilson95(c.attack_successes, c.attack_guesses).unwrap();
            assert!(
                lo < analytic * 1.01 && analytic * 0.98 < hi,
                "{mode}: analytic {analytic} vs [{lo}, {hi}]"
            );
            assert_eq!(r.hmacs == 0, mode == "fast", "{mode}: {} HMACs", r.hmacs);
        }
    }

    #[test]
    fn first_try_intervals_cover_the_rate_across_fleets() {
        // Half the tokens (drawn per user) run 10 minutes fast and never get in; the rest do
        // at the first try but for 2% typos. Across seeds the fleet's first-try rate moves
        // with the number of bad tokens (sd about 0.08 for 40 users), far more than a login
        // count of 2,400 suggests (about 0.01). Intervals between users cover the expected
        // 0.49 about 95% of the time; Wilson's over logins rarely.
        let (mut covered, mut wilson_covered) = (0, 0);
        for seed in 1..=40 {
            let text = format!(
                "[run]\nhorizon = \"60d\"\ntokens = 40\nseed = {seed}\nbucket = \"month\"\n\
                 [validator]\nsync = \"none\"\ndrift = \"none\"\n\
                 [[population]]\ntoken = {{ kind = \"hardware\" }}\n\
                 clock = {{ profile = \"ideal\", initial_offset = {{ dist = \"mixture\", of = [\
                 {{ weight = 1, dist = \"fixed\", value = \"0s\" }}, \
                 {{ weight = 1, dist = \"fixed\", value = \"10m\" }}] }} }}\n\
                 user = {{ logins_per_day = 1, typo_probability = 0.02 }}\n\
                 recovery = {{ enabled = false }}\n"
            );
            let sc = Scenario::from_toml("c.toml", &text).unwrap();
            let t = run(&sc, 0..40, &|_| {}).tally.all();
            let c = t.total;
            let truth = 0.5 * 0.98;
            let (lo, hi) = t.users.first_try_ci95(c.first_try_ok, c.logins).unwrap();
            covered += (lo <= truth && truth <= hi) as u32;
            let (wl, wh) = wilson95(c.first_try_ok, c.logins).unwrap();
            wilson_covered += (wl <= truth && truth <= wh) as u32;
        }
        assert!(covered >= 34, "{covered} of 40 intervals cover");
        assert!(
            wilson_covered <= 20,
            "{wilson_covered} of 40 Wilson intervals cover"
        );
    }

    #[test]
    fn guesses_refused_by_a_throttle_are_blocked_not_compared() {
        // django-otp's throttle: after n failures in a row, attempts within 2^(n-1) s are
        // refused uncompared. An attacker at 300 guesses a day mostly hits the throttle; the
        // guesses that were compared still succeed at 1 - 0.99^3 each (two digits, ±1), and
        // every guess is either compared or blocked.
        let text = GUESSED.replace("MODE", "exact").replace(
            "sync = \"none\"",
            "throttle = { factor = \"1s\" }\nsync = \"none\"",
        );
        let sc = Scenario::from_toml("a.toml", &text).unwrap();
        assert!(sc.validator.throttle.is_some());
        let c = run(&sc, 0..40, &|_| {}).tally.all().total;
        // About 300 * 60 * 40 = 720,000 guesses in all (Poisson).
        let all = c.attack_guesses + c.attack_blocked;
        assert!((700_000..740_000).contains(&all), "{all}");
        assert!(c.attack_blocked > c.attack_guesses, "{c:?}");
        let p = 1.0 - 0.99f64.powi(3);
        let simulated = c.attack_successes as f64 / c.attack_guesses as f64;
        let se = (p * (1.0 - p) / c.attack_guesses as f64).sqrt();
        assert!(
            (simulated - p).abs() < 4.0 * se,
            "simulated {simulated} per compared guess, expected {p} (se {se})"
        );
    }

    #[test]
    fn the_common_path_computes_the_hmacs_the_whole_way_does() {
        // Exact mode, pyotp's ±1 window without drift learning, clocks 16, 32 or 64 steps
        // fast: the step shown shares a slot of the direct-mapped code cache (a power of two
        // long) with the window's centre. A common try that declines must leave the cache as
        // the whole way finds it: the same HMACs as a traced run, which takes the whole way
        // from the start (the common try that computed codes before declining cost about
        // 0.6 HMACs an attempt more at 32 steps).
        for steps in [16, 32, 64] {
            let text = format!(
                "[run]\ndecide = \"exact\"\nhorizon = \"20d\"\ntokens = 6\nseed = 5\n\
                 [validator]\npreset = \"pyotp\"\n\
                 [[population]]\ntoken = {{ kind = \"hardware\" }}\n\
                 clock = {{ profile = \"ideal\", initial_offset = \"{}s\" }}\n",
                steps * 30
            );
            let sc = Scenario::from_toml("h.toml", &text).unwrap();
            let plain = run(&sc, 0..6, &|_| {});
            let traced = run_traced(&sc, 0..6, TraceSelect::All, &|_| {});
            let c = plain.tally.all().total;
            assert_eq!(c.accepted, c.chance_matches, "only chance matches: {c:?}");
            assert!(c.attempts > 100, "{c:?}");
            assert_eq!(plain.hmacs, traced.hmacs, "{steps} steps fast");
            assert_eq!(plain.tokens, traced.tokens);
            assert_eq!(plain.tally, traced.tally);
        }
    }

    #[test]
    fn fast_mode_gives_the_exact_modes_figures_on_a_mixed_fleet() {
        // Drifting hardware tokens that need the drift learning and resync, phones, HOTP,
        // typos: every summary figure of fast mode within sampling error of exact mode's.
        let text = |mode: &str| {
            format!(
                "[run]\ndecide = \"{mode}\"\nhorizon = \"180d\"\ntokens = 300\nseed = 23\nbucket = \"month\"\n\
                 [[population]]\nshare = 0.4\ntoken = {{ kind = \"hardware\" }}\n\
                 clock = {{ drift_ppm = {{ dist = \"normal\", mean = 0, sd = 25 }} }}\n\
                 user = {{ typo_probability = 0.05 }}\n\
                 [[population]]\nshare = 0.4\ntoken = {{ kind = \"phone\" }}\nuser = {{ typo_probability = 0.05 }}\n\
                 [[population]]\nshare = 0.2\ntoken = {{ kind = \"hotp\" }}\n"
            )
        };
        let exact = run(
            &Scenario::from_toml("e.toml", &text("exact")).unwrap(),
            0..300,
            &|_| {},
        );
        let fast = run(
            &Scenario::from_toml("f.toml", &text("fast")).unwrap(),
            0..300,
            &|_| {},
        );
        assert!(exact.hmacs > 0);
        assert_eq!(fast.hmacs, 0);
        for (p, (e, f)) in exact.tally.pops.iter().zip(&fast.tally.pops).enumerate() {
            let (e, f) = (e.total, f.total);
            assert!(e.logins > 1000, "population {p}: {} logins", e.logins);
            // Rates of logins: within four standard errors of the two runs' pooled rate.
            type Count = fn(&Counts) -> u64;
            let rates: [(&str, Count); 10] = [
                ("rejected out of window", |c| c.rejected_out_of_window),
                ("rejected typo", |c| c.rejected_typo),
                ("waited for a fresh code", |c| c.waited_for_fresh_code),
                ("chance matches", |c| c.chance_matches),
                ("first-try acceptance", |c| c.first_try_ok),
                ("login success", |c| c.logins_ok),
                ("incidents", |c| c.incidents),
                ("lockouts", |c| c.lockouts),
                ("resyncs", |c| c.resyncs_attempted),
                ("tickets", |c| c.tickets()),
            ];
            for (what, k) in rates {
                let (a, b) = (
                    k(&e) as f64 / e.logins as f64,
                    k(&f) as f64 / f.logins as f64,
                );
                let pooled = (k(&e) + k(&f)) as f64 / (e.logins + f.logins) as f64;
                let se =
                    (pooled * (1.0 - pooled) * (1.0 / e.logins as f64 + 1.0 / f.logins as f64))
                        .sqrt();
                assert!(
                    (a - b).abs() <= 4.0 * se + 1e-12,
                    "population {p} {what}: exact {a}, fast {b} (se {se})"
                );
            }
            assert!((e.attempts as f64 - f.attempts as f64).abs() <= 0.01 * e.attempts as f64);
        }
        assert_eq!(exact.tally.all().tokens, fast.tally.all().tokens);
        // The comparison has teeth: the drifting tokens fail, resync and call the helpdesk.
        let hw = exact.tally.pops[0].total;
        assert!(hw.first_try_ok < hw.logins * 99 / 100, "{hw:?}");
        assert!(hw.resyncs_attempted > 0 && hw.incidents > 0, "{hw:?}");
    }

    #[test]
    fn lockout_caps_simulated_guesses_like_the_analytic_cap() {
        // Five failures lock for six hours: at most 20 guesses a day get through.
        let text = r#"
[run]
horizon = "90d"
tokens = 20
seed = 5
bucket = "month"

[validator]
lockout = { max_failures = 5, unlock_after = "6h" }
sync = "none"

[[population]]
token = { kind = "phone" }
user = { logins_per_day = 0.5 }
recovery = { enabled = false }

[attack]
guesses_per_day = 500
simulate_accounts = 20
"#;
        let sc = Scenario::from_toml("a.toml", text).unwrap();
        let r = run(&sc, 0..20, &|_| {});
        let c = r.tally.all().total;
        let per_day = c.attack_guesses as f64 / 20.0 / 90.0;
        let cap = crate::attack::exposure(&sc, 0, sc.attack.as_ref().unwrap()).guesses_per_day;
        assert_eq!(cap, 20.0);
        assert!(
            per_day <= cap * 1.01 && per_day > cap * 0.9,
            "{per_day} guesses a day, cap {cap}"
        );
        assert!(c.attack_blocked > c.attack_guesses * 10);
    }

    #[test]
    fn push_logins_need_no_code_and_no_clock() {
        let text = |share: f64| {
            format!(
                "[run]\nhorizon = \"60d\"\ntokens = 50\nseed = 8\n[[population]]\ntoken = {{ kind = \"desktop\" }}\nuser = {{ push_share = {share} }}\n"
            )
        };
        let all = |share: f64| {
            let sc = Scenario::from_toml("p.toml", &text(share)).unwrap();
            run(&sc, 0..50, &|_| {}).tally.all().total
        };
        let (none, half, every) = (all(0.0), all(0.5), all(1.0));
        assert_eq!(none.push_logins, 0);
        // Every login by push: no attempt, every login succeeds at once.
        assert_eq!(every.attempts, 0);
        assert_eq!(every.push_logins, every.logins);
        assert_eq!(every.first_try_ok, every.logins);
        // Half by push: about half the logins, and fewer attempts than code-only.
        let share = half.push_logins as f64 / half.logins as f64;
        assert!((share - 0.5).abs() < 0.03, "{share}");
        assert!(half.attempts < none.attempts);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Over random fleets, validators, users and attackers: every credential's requests
        /// reach the validator in non-decreasing time, no step is accepted twice under a
        /// time-forward rule, and every attempt has exactly one outcome.
        #[test]
        fn requests_are_decided_in_time_order_and_the_counters_balance(
            seed in 0u64..1000,
            preset in proptest::sample::select(vec!["rfc6238", "vip", "privacyidea", "linotp", "freeipa", "rsa", "onespan", "django-otp"]),
            kind in proptest::sample::select(vec!["hardware", "phone", "desktop"]),
            logins in 1.0f64..60.0,
            retries in 0u32..4,
            typo in 0.0f64..0.3,
            guesses in 0.0f64..400.0,
        ) {
            let text = format!(
                "[run]\nhorizon = \"30d\"\ntokens = 8\nseed = {seed}\n\
                 [validator]\npreset = \"{preset}\"\n\
                 [[population]]\ntoken = {{ kind = \"{kind}\" }}\n\
                 user = {{ logins_per_day = {logins}, retries = {retries}, typo_probability = {typo} }}\n\
                 [attack]\nguesses_per_day = {guesses}\nsimulate_accounts = 4\n"
            );
            let sc = Scenario::from_toml("p.toml", &text).unwrap();
            let r = run_traced(&sc, 0..8, TraceSelect::All, &|_| {});
            let forward = sc.validator.replay == crate::validator::Replay::TimeForward;
            let step_ms = sc.populations[0].token.step_s as i64 * 1000;
            let mut last: std::collections::HashMap<&str, (i64, Option<i64>)> = Default::default();
            for e in &r.trace {
                let seen = last.entry(e.credential.as_str()).or_insert((i64::MIN, None));
                proptest::prop_assert!(e.time >= seen.0, "{} went back in time: {} after {}", e.credential, e.time, seen.0);
                seen.0 = e.time;
                let accepted = match e.outcome {
                    TraceOutcome::Verified(d) if d.verdict == crate::validator::Verdict::Accepted => d.matched,
                    TraceOutcome::Synced(Ok(off)) => Some(off + e.time.div_euclid(step_ms)),
                    _ => None,
                };
                if let (true, Some(step)) = (forward, accepted) {
                    if let Some(prev) = seen.1 {
                        proptest::prop_assert!(step > prev || matches!(e.outcome, TraceOutcome::Synced(_)),
                            "{}: step {step} accepted after {prev}", e.credential);
                    }
                    seen.1 = Some(seen.1.map_or(step, |p| p.max(step)));
                }
            }
            let c = r.tally.all().total;
            proptest::prop_assert_eq!(
                c.attempts,
                c.accepted + c.next_code_challenges + c.rejected_out_of_window + c.rejected_replay
                    + c.rejected_locked + c.rejected_typo + c.rejected_dead
            );
            proptest::prop_assert!(c.first_try_ok <= c.logins_ok && c.logins_ok <= c.logins);
        }
    }
}
