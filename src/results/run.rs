//! The rows of a run's CSV files: summary.csv, timeseries.csv, lifetime.csv and tokens.csv.
//! Field names are column names; field order is column order.

use super::cells::{Fixed, Rate, Secs, Time};
use crate::metrics::{Counts, OffsetHist};
use serde::{Deserialize, Serialize};

/// The per-login and per-attempt columns shared by summary.csv and timeseries.csv.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CountCells {
    pub logins: u64,
    pub attempts: u64,
    pub accepted: u64,
    pub first_try_accepted: u64,
    pub logins_succeeded: u64,
    pub first_try_acceptance_rate: Option<Rate>,
    pub login_success_rate: Option<Rate>,
    pub attempt_acceptance_rate: Option<Rate>,
    pub rejected_out_of_window: u64,
    pub rejected_replay: u64,
    pub rejected_locked: u64,
    pub rejected_typo: u64,
    pub rejected_dead: u64,
    pub next_code_challenges: u64,
    pub lockouts: u64,
    pub false_accepts: u64,
    pub chance_matches: u64,
    pub waited_for_fresh_code: u64,
    pub incidents: u64,
    pub recovered_in_ladder: u64,
    pub logins_abandoned: u64,
    pub logins_without_token: u64,
    pub clock_fixes: u64,
    pub app_resets: u64,
    pub resyncs_attempted: u64,
    pub resyncs_succeeded: u64,
    pub resync_failed_outside_window: u64,
    pub resync_failed_not_consecutive: u64,
    pub resync_failed_replay: u64,
    pub resync_failed_locked: u64,
    pub auto_resyncs: u64,
    pub skew_resyncs: u64,
    pub next_code_succeeded: u64,
    pub sync_prompts: u64,
    pub push_logins: u64,
    pub tickets: u64,
    pub tickets_lockout: u64,
    pub tickets_reinstall: u64,
    pub tickets_replace_failing: u64,
    pub tickets_replace_dead: u64,
    pub deaths_battery: u64,
    pub deaths_expired: u64,
    pub attack_guesses: u64,
    pub attack_successes: u64,
    pub attack_blocked: u64,
    pub resubmissions: u64,
    pub accepted_twice_across_nodes: u64,
    pub decisions_differing_by_node: u64,
    pub lock_split_requests: u64,
}

impl From<&Counts> for CountCells {
    fn from(c: &Counts) -> CountCells {
        // Destructured so that a counter added to Counts fails to compile until it has a column.
        let Counts {
            logins,
            first_try_ok,
            logins_ok,
            attempts,
            accepted,
            rejected_out_of_window,
            rejected_replay,
            rejected_locked,
            rejected_typo,
            rejected_dead,
            lockouts,
            false_accepts,
            chance_matches,
            waited_for_fresh_code,
            skew_resyncs,
            deaths_battery,
            deaths_expired,
            next_code_challenges,
            next_code_succeeded,
            sync_prompts,
            push_logins,
            auto_resyncs,
            incidents,
            recovered_in_ladder,
            logins_abandoned,
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
            attack_guesses,
            attack_successes,
            attack_blocked,
            resubmissions,
            accepted_twice_across_nodes,
            decisions_differing_by_node,
            lock_split_requests,
        } = *c;
        CountCells {
            logins,
            attempts,
            accepted,
            first_try_accepted: first_try_ok,
            logins_succeeded: logins_ok,
            first_try_acceptance_rate: Rate::opt(c.first_try_acceptance_rate()),
            login_success_rate: Rate::opt(c.login_success_rate()),
            attempt_acceptance_rate: Rate::opt(c.attempt_acceptance_rate()),
            rejected_out_of_window,
            rejected_replay,
            rejected_locked,
            rejected_typo,
            rejected_dead,
            next_code_challenges,
            lockouts,
            false_accepts,
            chance_matches,
            waited_for_fresh_code,
            incidents,
            recovered_in_ladder,
            logins_abandoned,
            logins_without_token,
            clock_fixes,
            app_resets,
            resyncs_attempted,
            resyncs_succeeded,
            resync_failed_outside_window,
            resync_failed_not_consecutive,
            resync_failed_replay,
            resync_failed_locked,
            auto_resyncs,
            skew_resyncs,
            next_code_succeeded,
            sync_prompts,
            push_logins,
            tickets: c.tickets(),
            tickets_lockout,
            tickets_reinstall,
            tickets_replace_failing,
            tickets_replace_dead,
            deaths_battery,
            deaths_expired,
            attack_guesses,
            attack_successes,
            attack_blocked,
            resubmissions,
            accepted_twice_across_nodes,
            decisions_differing_by_node,
            lock_split_requests,
        }
    }
}

/// Percentiles of the device clock's absolute error at login, seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OffsetCells {
    pub offset_s_p05: Option<Secs>,
    pub offset_s_p25: Option<Secs>,
    pub offset_s_p50: Option<Secs>,
    pub offset_s_p75: Option<Secs>,
    pub offset_s_p90: Option<Secs>,
    pub offset_s_p95: Option<Secs>,
    pub offset_s_p99: Option<Secs>,
    pub offset_s_max: Option<Secs>,
}

impl OffsetCells {
    /// The quantiles written, with their levels.
    pub const LEVELS: [f64; 7] = [0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

    /// The quantile cells in the order of [`OffsetCells::LEVELS`].
    pub fn quantiles(&self) -> [Option<f64>; 7] {
        [
            self.offset_s_p05,
            self.offset_s_p25,
            self.offset_s_p50,
            self.offset_s_p75,
            self.offset_s_p90,
            self.offset_s_p95,
            self.offset_s_p99,
        ]
        .map(|x| x.map(|v| v.0))
    }
}

impl From<&OffsetHist> for OffsetCells {
    fn from(h: &OffsetHist) -> OffsetCells {
        let q = |p: f64| Secs::opt(h.quantile_s(p));
        OffsetCells {
            offset_s_p05: q(0.05),
            offset_s_p25: q(0.25),
            offset_s_p50: q(0.5),
            offset_s_p75: q(0.75),
            offset_s_p90: q(0.9),
            offset_s_p95: q(0.95),
            offset_s_p99: q(0.99),
            offset_s_max: Secs::opt(h.max_s()),
        }
    }
}

/// summary.csv: one row per population, then `all`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub population: String,
    pub tokens: u64,
    pub counts: CountCells,
    pub first_try_acceptance_ci95_low: Option<Rate>,
    pub first_try_acceptance_ci95_high: Option<Rate>,
    pub offsets: OffsetCells,
    /// Absolute clock error of live TOTP credentials at the end.
    pub final_offset_s_p50: Option<Secs>,
    pub final_offset_s_p90: Option<Secs>,
    pub final_offset_s_max: Option<Secs>,
    /// From a user's first failed login to their next successful one.
    pub time_to_recover_s_p50: Option<Secs>,
    pub time_to_recover_s_p90: Option<Secs>,
    pub credentials: u64,
    /// Kaplan-Meier token life of credentials with a battery.
    pub token_life_years_p10: Option<Fixed<3>>,
    pub token_life_years_p50: Option<Fixed<3>>,
}

/// timeseries.csv: one row per bucket and population (then `all`), bucket-major.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeseriesRow {
    pub bucket_start: Time,
    pub bucket_end: Time,
    pub population: String,
    pub counts: CountCells,
    pub offsets: OffsetCells,
}

/// nodes.csv: per bucket, population (then `all`) and cluster node, the users' code attempts
/// that node decided.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    pub bucket_start: Time,
    pub bucket_end: Time,
    pub population: String,
    pub node: String,
    pub attempts: u64,
    pub accepted: u64,
    pub attempt_acceptance_rate: Option<Rate>,
}

/// lifetime.csv: per bucket and population (then `all`), the state at the bucket's end and
/// the events within it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LifetimeRow {
    pub bucket_start: Time,
    pub bucket_end: Time,
    pub population: String,
    pub tokens_alive: u64,
    pub users_without_token: u64,
    pub deaths_battery: u64,
    pub deaths_expired: u64,
    pub replacements: u64,
    pub reinstalls: u64,
    pub logins_without_token: u64,
}

/// tokens.csv: one row per credential a user went through.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    pub token: u64,
    pub generation: u32,
    pub population: String,
    pub credential: String,
    pub born: Time,
    pub died: Option<Time>,
    pub death_cause: Option<String>,
    pub codes_used: u64,
    pub logins: u64,
    pub attempts: u64,
    pub accepted: u64,
    pub final_offset_s: Option<Secs>,
    pub max_abs_offset_s: Option<Secs>,
    /// In steps; with decimals where the validator learns a shift in seconds.
    pub final_drift_steps: Option<Secs>,
    pub first_rejection: Option<Time>,
    pub first_rejection_reason: Option<String>,
}

/// aggregates.json: a run's exact mergeable state. The counters and histograms behind
/// summary.csv, timeseries.csv and lifetime.csv, kept whole so that shards merge to the bytes of
/// the whole run (percentiles from merged histograms, never averaged) and charts redraw without
/// reading the per-token file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aggregates {
    /// The token range simulated: a shard, or the whole fleet.
    pub shard_start: u64,
    pub shard_end: u64,
    pub fleet_tokens: u64,
    pub hmacs: u64,
    pub tally: crate::metrics::Tally,
}

impl Aggregates {
    pub const FILE: &'static str = "aggregates.json";

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).expect("aggregates serialize");
        out.push(b'\n');
        out
    }

    pub fn from_json(file: &str, bytes: &[u8]) -> Result<Aggregates, super::FileError> {
        serde_json::from_slice(bytes).map_err(|e| {
            super::FileError::new(
                file,
                e.line() as u64,
                e.column(),
                format!("expected the aggregates otpdrift wrote, found {e}"),
            )
        })
    }
}
