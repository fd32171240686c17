//! summary.csv, timeseries.csv, lifetime.csv and tokens.csv from a run's result: tidy columns
//! (the row types of [`crate::results`]), units in the names, RFC 3339 UTC times, empty cells
//! where a figure is undefined (no logins, no clock).

use super::{Exporter, Folder, RunContext};
use crate::error::{Error, Result};
use crate::metrics::{wilson95, PopTally};
use crate::otp::encode_base32;
use crate::results::cells::{Rate, Secs, Time};
use crate::results::replay::{AttemptRow, SecretRow};
use crate::results::{
    CountCells, LifetimeRow, OffsetCells, SummaryRow, TimeseriesRow, TokenRow, Writer,
};
use crate::sim::{TraceAction, TraceOutcome};
use crate::validator::Verdict;

/// Population rows then `all`, with their names.
fn named(ctx: &RunContext) -> Vec<(String, PopTally)> {
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

impl Exporter<RunContext<'_>> for SummaryCsv {
    fn file_names(&self) -> Vec<String> {
        vec!["summary.csv".into()]
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        let mut w = Writer::of::<SummaryRow>();
        let lives = token_lives(ctx);
        for (i, (name, p)) in named(ctx).into_iter().enumerate() {
            let ci = wilson95(p.total.first_try_ok, p.total.logins);
            let (credentials, p10, p50) = lives[i];
            w.row(&SummaryRow {
                population: name,
                tokens: p.tokens,
                counts: CountCells::from(&p.total),
                first_try_acceptance_ci95_low: Rate::opt(ci.map(|c| c.0)),
                first_try_acceptance_ci95_high: Rate::opt(ci.map(|c| c.1)),
                offsets: OffsetCells::from(&p.offsets_total),
                final_offset_s_p50: Secs::opt(p.final_offsets.quantile_s(0.5)),
                final_offset_s_p90: Secs::opt(p.final_offsets.quantile_s(0.9)),
                final_offset_s_max: Secs::opt(p.final_offsets.max_s()),
                time_to_recover_s_p50: Secs::opt(p.recovery_time.quantile_s(0.5)),
                time_to_recover_s_p90: Secs::opt(p.recovery_time.quantile_s(0.9)),
                credentials: credentials as u64,
                token_life_years_p10: Secs::opt(p10),
                token_life_years_p50: Secs::opt(p50),
            });
        }
        out.add("summary.csv", w.finish());
        Ok(())
    }
}

/// Per population then `all`: credentials, and the 10th and 50th percentile of token life in
/// years, by Kaplan-Meier over credentials with a battery: deaths (battery, expiry) are events,
/// credentials alive at the end or retired early (replaced, reinstalled) are censored.
fn token_lives(ctx: &RunContext) -> Vec<(usize, Option<f64>, Option<f64>)> {
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

impl Exporter<RunContext<'_>> for LifetimeCsv {
    fn file_names(&self) -> Vec<String> {
        vec!["lifetime.csv".into()]
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        let mut w = Writer::of::<LifetimeRow>();
        let b = &ctx.result.buckets;
        let all = named(ctx);
        for i in 0..b.len() {
            for (name, p) in &all {
                let c = &p.buckets[i];
                w.row(&LifetimeRow {
                    bucket_start: Time(b.starts[i]),
                    bucket_end: Time(b.end_of(i)),
                    population: name.clone(),
                    tokens_alive: p.alive_end[i],
                    users_without_token: p.without_token_end[i],
                    deaths_battery: c.deaths_battery,
                    deaths_expired: c.deaths_expired,
                    replacements: c.tickets_replace_dead + c.tickets_replace_failing,
                    reinstalls: c.tickets_reinstall,
                    logins_without_token: c.logins_without_token,
                });
            }
        }
        out.add("lifetime.csv", w.finish());
        Ok(())
    }
}

pub struct TimeseriesCsv;

impl Exporter<RunContext<'_>> for TimeseriesCsv {
    fn file_names(&self) -> Vec<String> {
        vec!["timeseries.csv".into()]
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        let mut w = Writer::of::<TimeseriesRow>();
        let b = &ctx.result.buckets;
        let all = named(ctx);
        for i in 0..b.len() {
            for (name, p) in &all {
                w.row(&TimeseriesRow {
                    bucket_start: Time(b.starts[i]),
                    bucket_end: Time(b.end_of(i)),
                    population: name.clone(),
                    counts: CountCells::from(&p.buckets[i]),
                    offsets: OffsetCells::from(&p.offsets[i]),
                });
            }
        }
        out.add("timeseries.csv", w.finish());
        Ok(())
    }
}

pub struct TokensCsv;

impl Exporter<RunContext<'_>> for TokensCsv {
    fn file_names(&self) -> Vec<String> {
        vec!["tokens.csv".into()]
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        let mut w = Writer::of::<TokenRow>();
        let names = &ctx.result.population_names;
        for t in &ctx.result.tokens {
            w.row(&TokenRow {
                token: t.token,
                generation: t.generation,
                population: names[t.population].clone(),
                credential: t.credential.clone(),
                born: Time(t.born),
                died: t.died.map(|d| Time(d.0)),
                death_cause: t.died.map(|d| d.1.as_str().to_string()),
                codes_used: t.codes_used,
                logins: t.logins,
                attempts: t.attempts,
                accepted: t.accepted,
                final_offset_s: Secs::opt(t.final_offset_s),
                max_abs_offset_s: Secs::opt(t.max_abs_offset_s),
                final_drift_steps: t.final_drift_steps,
                first_rejection: t.first_rejection.map(|r| Time(r.0)),
                first_rejection_reason: t.first_rejection.map(|r| r.1.as_str().to_string()),
            });
        }
        out.add("tokens.csv", w.finish());
        Ok(())
    }
}

/// trace.csv, trace-secrets.csv and trace-validator.toml: the traced users' requests in the
/// replay format, their secrets, and the validator that decided them (`run --trace`).
pub struct Trace(pub bool);

impl Exporter<RunContext<'_>> for Trace {
    fn file_names(&self) -> Vec<String> {
        if !self.0 {
            return Vec::new();
        }
        ["trace.csv", "trace-secrets.csv", "trace-validator.toml"]
            .map(String::from)
            .to_vec()
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        if !self.0 {
            return Ok(());
        }
        let pad = |c: u32, digits: u32| format!("{c:0width$}", width = digits as usize);
        let mut w = Writer::of::<AttemptRow>();
        for e in &ctx.result.trace {
            let (action, code, code2) = match &e.action {
                TraceAction::Enrol => ("enrol", None, None),
                TraceAction::Unlock => ("unlock", None, None),
                TraceAction::Verify(c) => ("verify", Some(pad(*c, e.digits)), None),
                TraceAction::Sync(cs) => (
                    "sync",
                    cs.first().map(|c| pad(*c, e.digits)),
                    Some(
                        cs.iter()
                            .skip(1)
                            .map(|c| pad(*c, e.digits))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                ),
            };
            let accepted = match e.outcome {
                TraceOutcome::Verified(d) => d.verdict == Verdict::Accepted,
                TraceOutcome::Synced(r) => r.is_ok(),
                TraceOutcome::Done => true,
            };
            w.row(&AttemptRow {
                credential: e.credential.clone(),
                time: Time(e.time),
                action: action.to_string(),
                code,
                code2,
                expected: Some(if accepted { "accept" } else { "reject" }.to_string()),
                true_offset_s: Secs::opt(e.true_offset_s),
                note: None,
                population: Some(
                    ctx.scenario.populations[ctx.scenario.population_of(e.token)]
                        .name
                        .clone(),
                ),
            });
        }
        out.add("trace.csv", w.finish());
        let mut w = Writer::of::<SecretRow>();
        for s in &ctx.result.trace_secrets {
            w.row(&SecretRow {
                credential: s.credential.clone(),
                secret: encode_base32(&s.key),
                algorithm: s.algorithm.to_string(),
                digits: s.digits,
                step: s.totp.map(|t| t.0),
                t0: s.totp.map(|t| t.1),
                kind: if s.totp.is_some() { "totp" } else { "hotp" }.to_string(),
            });
        }
        out.add("trace-secrets.csv", w.finish());
        let mut table = toml::Table::new();
        table.insert(
            "validator".into(),
            toml::Value::try_from(crate::scenario::resolved_validator(&ctx.scenario.validator))
                .map_err(|e| Error::failed(e.to_string()))?,
        );
        out.add(
            "trace-validator.toml",
            toml::to_string(&table)
                .map_err(|e| Error::failed(e.to_string()))?
                .into_bytes(),
        );
        Ok(())
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
