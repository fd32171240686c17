//! summary.csv, timeseries.csv and tokens.csv: tidy columns, units in the names, RFC 3339 UTC
//! times, empty cells where a figure is undefined (no logins, no clock).

use super::{ExportContext, Exporter};
use crate::metrics::{wilson95, Counts, OffsetHist, PopTally};
use crate::time::format_rfc3339;
use std::io;

fn rate(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v:.6}"))
}

fn secs(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v:.3}"))
}

fn to_io(e: ::csv::Error) -> io::Error {
    io::Error::other(e)
}

type Cell = fn(&Counts) -> String;

/// The per-login and per-attempt columns shared by summary.csv and timeseries.csv.
const COUNT_COLUMNS: &[(&str, Cell)] = &[
    ("logins", |c| c.logins.to_string()),
    ("attempts", |c| c.attempts.to_string()),
    ("accepted", |c| c.accepted.to_string()),
    ("first_try_accepted", |c| c.first_try_ok.to_string()),
    ("logins_succeeded", |c| c.logins_ok.to_string()),
    ("first_try_acceptance_rate", |c| {
        rate(c.first_try_acceptance_rate())
    }),
    ("login_success_rate", |c| rate(c.login_success_rate())),
    ("attempt_acceptance_rate", |c| {
        rate(c.attempt_acceptance_rate())
    }),
    ("rejected_out_of_window", |c| {
        c.rejected_out_of_window.to_string()
    }),
    ("rejected_replay", |c| c.rejected_replay.to_string()),
    ("rejected_locked", |c| c.rejected_locked.to_string()),
    ("rejected_typo", |c| c.rejected_typo.to_string()),
    ("rejected_dead", |c| c.rejected_dead.to_string()),
    ("next_code_challenges", |c| {
        c.next_code_challenges.to_string()
    }),
    ("lockouts", |c| c.lockouts.to_string()),
    ("false_accepts", |c| c.false_accepts.to_string()),
    ("chance_matches", |c| c.chance_matches.to_string()),
    ("waited_for_fresh_code", |c| {
        c.waited_for_fresh_code.to_string()
    }),
    ("incidents", |c| c.incidents.to_string()),
    ("recovered_in_ladder", |c| c.recovered_in_ladder.to_string()),
    ("logins_abandoned", |c| c.logins_abandoned.to_string()),
    ("logins_without_token", |c| {
        c.logins_without_token.to_string()
    }),
    ("clock_fixes", |c| c.clock_fixes.to_string()),
    ("app_resets", |c| c.app_resets.to_string()),
    ("resyncs_attempted", |c| c.resyncs_attempted.to_string()),
    ("resyncs_succeeded", |c| c.resyncs_succeeded.to_string()),
    ("resync_failed_outside_window", |c| {
        c.resync_failed_outside_window.to_string()
    }),
    ("resync_failed_not_consecutive", |c| {
        c.resync_failed_not_consecutive.to_string()
    }),
    ("resync_failed_replay", |c| {
        c.resync_failed_replay.to_string()
    }),
    ("resync_failed_locked", |c| {
        c.resync_failed_locked.to_string()
    }),
    ("auto_resyncs", |c| c.auto_resyncs.to_string()),
    ("skew_resyncs", |c| c.skew_resyncs.to_string()),
    ("next_code_succeeded", |c| c.next_code_succeeded.to_string()),
    ("tickets", |c| c.tickets().to_string()),
    ("tickets_lockout", |c| c.tickets_lockout.to_string()),
    ("tickets_reinstall", |c| c.tickets_reinstall.to_string()),
    ("tickets_replace_failing", |c| {
        c.tickets_replace_failing.to_string()
    }),
    ("tickets_replace_dead", |c| {
        c.tickets_replace_dead.to_string()
    }),
    ("deaths_battery", |c| c.deaths_battery.to_string()),
    ("deaths_expired", |c| c.deaths_expired.to_string()),
    ("attack_guesses", |c| c.attack_guesses.to_string()),
    ("attack_successes", |c| c.attack_successes.to_string()),
    ("attack_blocked", |c| c.attack_blocked.to_string()),
];

fn count_header() -> impl Iterator<Item = &'static str> {
    COUNT_COLUMNS.iter().map(|c| c.0)
}

fn count_cells(c: &Counts) -> Vec<String> {
    COUNT_COLUMNS.iter().map(|col| (col.1)(c)).collect()
}

const OFFSET_QUANTILES: [(&str, f64); 7] = [
    ("offset_s_p05", 0.05),
    ("offset_s_p25", 0.25),
    ("offset_s_p50", 0.5),
    ("offset_s_p75", 0.75),
    ("offset_s_p90", 0.9),
    ("offset_s_p95", 0.95),
    ("offset_s_p99", 0.99),
];

fn offset_header() -> impl Iterator<Item = &'static str> {
    OFFSET_QUANTILES.iter().map(|q| q.0).chain(["offset_s_max"])
}

fn offset_cells(h: &OffsetHist) -> Vec<String> {
    let mut v: Vec<String> = OFFSET_QUANTILES
        .iter()
        .map(|q| secs(h.quantile_s(q.1)))
        .collect();
    v.push(secs(h.max_s()));
    v
}

/// Population rows then `all`, with their names.
fn rows(ctx: &ExportContext) -> Vec<(String, PopTally)> {
    let t = &ctx.result.tally;
    let mut v: Vec<(String, PopTally)> = ctx
        .result
        .population_names
        .iter()
        .cloned()
        .zip(t.pops.iter().cloned())
        .collect();
    v.push(("all".to_string(), t.all()));
    v
}

pub struct SummaryCsv;

impl Exporter for SummaryCsv {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }

    fn render(&self, ctx: &ExportContext) -> io::Result<Vec<u8>> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let mut header = vec!["population", "tokens"];
        header.extend(count_header());
        header.extend([
            "first_try_acceptance_ci95_low",
            "first_try_acceptance_ci95_high",
        ]);
        header.extend(offset_header());
        header.extend([
            "final_offset_s_p50",
            "final_offset_s_p90",
            "final_offset_s_max",
        ]);
        header.extend([
            "time_to_recover_s_p50",
            "time_to_recover_s_p90",
            "credentials",
            "token_life_years_p10",
            "token_life_years_p50",
        ]);
        w.write_record(&header).map_err(to_io)?;
        let lives = token_lives(ctx);
        for (i, (name, p)) in rows(ctx).into_iter().enumerate() {
            let mut r = vec![name, p.tokens.to_string()];
            r.extend(count_cells(&p.total));
            let ci = wilson95(p.total.first_try_ok, p.total.logins);
            r.push(rate(ci.map(|c| c.0)));
            r.push(rate(ci.map(|c| c.1)));
            r.extend(offset_cells(&p.offsets_total));
            let f = &p.final_offsets;
            r.extend([
                secs(f.quantile_s(0.5)),
                secs(f.quantile_s(0.9)),
                secs(f.max_s()),
            ]);
            let rt = &p.recovery_time;
            r.extend([secs(rt.quantile_s(0.5)), secs(rt.quantile_s(0.9))]);
            let (credentials, p10, p50) = lives[i];
            r.extend([credentials.to_string(), years(p10), years(p50)]);
            w.write_record(&r).map_err(to_io)?;
        }
        w.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }
}

fn years(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v:.3}"))
}

/// Per population then `all`: credentials, and the 10th and 50th percentile of token life in
/// years, by Kaplan-Meier over credentials with a battery: deaths (battery, expiry) are events,
/// credentials alive at the end or retired early (replaced, reinstalled) are censored.
fn token_lives(ctx: &ExportContext) -> Vec<(usize, Option<f64>, Option<f64>)> {
    let npop = ctx.result.population_names.len();
    let mut out = Vec::with_capacity(npop + 1);
    for pop in (0..npop).map(Some).chain([None]) {
        let recs: Vec<_> = ctx
            .result
            .tokens
            .iter()
            .filter(|t| pop.is_none_or(|p| t.population == p))
            .collect();
        let mortal: Vec<(f64, bool)> = recs
            .iter()
            .filter(|t| ctx.scenario.populations[t.population].battery.is_some())
            .map(|t| {
                let end = t.died.map_or(ctx.scenario.run.end(), |d| d.0);
                let life = (end - t.born) as f64 / crate::time::YEAR as f64;
                (life, t.died.is_some_and(|d| d.1.is_death()))
            })
            .collect();
        out.push((
            recs.len(),
            kaplan_meier(&mortal, 0.1),
            kaplan_meier(&mortal, 0.5),
        ));
    }
    out
}

/// The time by which a share `q` has died, from (time, died) pairs; None if never reached.
pub fn kaplan_meier(lives: &[(f64, bool)], q: f64) -> Option<f64> {
    let mut v = lives.to_vec();
    // Deaths before censorings at the same time, as the estimator assumes.
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut at_risk = v.len() as f64;
    let mut survival = 1.0;
    for (t, died) in v {
        if died {
            survival *= 1.0 - 1.0 / at_risk;
            if 1.0 - survival >= q - 1e-12 {
                return Some(t);
            }
        }
        at_risk -= 1.0;
    }
    None
}

pub struct LifetimeCsv;

impl Exporter for LifetimeCsv {
    fn file_name(&self) -> &'static str {
        "lifetime.csv"
    }

    fn render(&self, ctx: &ExportContext) -> io::Result<Vec<u8>> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.write_record([
            "bucket_start",
            "bucket_end",
            "population",
            "tokens_alive",
            "users_without_token",
            "deaths_battery",
            "deaths_expired",
            "replacements",
            "reinstalls",
            "logins_without_token",
        ])
        .map_err(to_io)?;
        let b = &ctx.result.buckets;
        let all = rows(ctx);
        for i in 0..b.len() {
            for (name, p) in &all {
                let c = &p.buckets[i];
                w.write_record([
                    format_rfc3339(b.starts[i]),
                    format_rfc3339(b.end_of(i)),
                    name.clone(),
                    p.alive_end[i].to_string(),
                    p.without_token_end[i].to_string(),
                    c.deaths_battery.to_string(),
                    c.deaths_expired.to_string(),
                    (c.tickets_replace_dead + c.tickets_replace_failing).to_string(),
                    c.tickets_reinstall.to_string(),
                    c.logins_without_token.to_string(),
                ])
                .map_err(to_io)?;
            }
        }
        w.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }
}

pub struct TimeseriesCsv;

impl Exporter for TimeseriesCsv {
    fn file_name(&self) -> &'static str {
        "timeseries.csv"
    }

    fn render(&self, ctx: &ExportContext) -> io::Result<Vec<u8>> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let mut header = vec!["bucket_start", "bucket_end", "population"];
        header.extend(count_header());
        header.extend(offset_header());
        w.write_record(&header).map_err(to_io)?;
        let b = &ctx.result.buckets;
        let all = rows(ctx);
        for (i, start) in b.starts.iter().enumerate() {
            let end = b.end_of(i);
            for (name, p) in &all {
                let mut r = vec![format_rfc3339(*start), format_rfc3339(end), name.clone()];
                r.extend(count_cells(&p.buckets[i]));
                r.extend(offset_cells(&p.offsets[i]));
                w.write_record(&r).map_err(to_io)?;
            }
        }
        w.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }
}

pub struct TokensCsv;

impl Exporter for TokensCsv {
    fn file_name(&self) -> &'static str {
        "tokens.csv"
    }

    fn render(&self, ctx: &ExportContext) -> io::Result<Vec<u8>> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.write_record([
            "token",
            "generation",
            "population",
            "credential",
            "born",
            "died",
            "death_cause",
            "codes_used",
            "logins",
            "attempts",
            "accepted",
            "final_offset_s",
            "max_abs_offset_s",
            "final_drift_steps",
            "first_rejection",
            "first_rejection_reason",
        ])
        .map_err(to_io)?;
        let names = &ctx.result.population_names;
        for t in &ctx.result.tokens {
            w.write_record([
                t.token.to_string(),
                t.generation.to_string(),
                names[t.population].clone(),
                t.credential.clone(),
                format_rfc3339(t.born),
                t.died.map_or(String::new(), |d| format_rfc3339(d.0)),
                t.died.map_or(String::new(), |d| d.1.as_str().to_string()),
                t.codes_used.to_string(),
                t.logins.to_string(),
                t.attempts.to_string(),
                t.accepted.to_string(),
                secs(t.final_offset_s),
                secs(t.max_abs_offset_s),
                t.final_drift_steps.map_or(String::new(), |d| d.to_string()),
                t.first_rejection
                    .map_or(String::new(), |r| format_rfc3339(r.0)),
                t.first_rejection
                    .map_or(String::new(), |r| r.1.as_str().to_string()),
            ])
            .map_err(to_io)?;
        }
        w.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::kaplan_meier;

    #[test]
    fn kaplan_meier_by_hand() {
        // Five lives: deaths at 1, 3 and 4; censored at 2 and 5.
        let v = [
            (1.0, true),
            (2.0, false),
            (3.0, true),
            (4.0, true),
            (5.0, false),
        ];
        // S(1) = 4/5; S(3) = 4/5 * 2/3 = 8/15; S(4) = 8/15 * 1/2 = 4/15.
        assert_eq!(kaplan_meier(&v, 0.1), Some(1.0));
        assert_eq!(kaplan_meier(&v, 0.2), Some(1.0));
        assert_eq!(kaplan_meier(&v, 0.4), Some(3.0));
        assert_eq!(kaplan_meier(&v, 0.5), Some(4.0));
        assert_eq!(kaplan_meier(&v, 0.7), Some(4.0));
        assert_eq!(kaplan_meier(&v, 0.8), None);
        assert_eq!(kaplan_meier(&[], 0.5), None);
    }
}
