//! summary.csv, timeseries.csv, lifetime.csv, tokens.csv (streamed) and aggregates.json from a run's result: tidy columns
//! (the row types of [`crate::results`]), units in the names, RFC 3339 UTC times, empty cells
//! where a figure is undefined (no logins, no clock).

use super::{Exporter, Folder, RunContext};
use crate::error::{Error, Result};
use crate::metrics::PopTally;
use crate::otp::encode_base32;
use crate::results::cells::{Rate, Secs, Time};
use crate::results::replay::{AttemptRow, SecretRow};
use crate::results::{
    CountCells, LifetimeRow, NodeRow, OffsetCells, SummaryRow, TimeseriesRow, TokenRow, Writer,
};
use crate::sim::{TokenRecord, TraceAction, TraceOutcome};
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
        for (name, p) in named(ctx) {
            let ci = p.users.first_try_ci95(p.total.first_try_ok, p.total.logins);
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
                credentials: p.credentials,
                token_life_years_p10: Secs::opt(p.lives.quantile_years(0.1)),
                token_life_years_p50: Secs::opt(p.lives.quantile_years(0.5)),
            });
        }
        out.add("summary.csv", w.finish());
        Ok(())
    }
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

/// nodes.csv: a cluster's user attempts and acceptances by bucket, population (then `all`) and
/// node. Written only for a cluster.
pub struct NodesCsv(pub bool);

impl Exporter<RunContext<'_>> for NodesCsv {
    fn file_names(&self) -> Vec<String> {
        if self.0 {
            vec!["nodes.csv".into()]
        } else {
            Vec::new()
        }
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        let Some(cl) = ctx.scenario.cluster.as_ref().filter(|_| self.0) else {
            return Ok(());
        };
        let mut w = Writer::of::<NodeRow>();
        let b = &ctx.result.buckets;
        let all = named(ctx);
        let per = cl.nodes.len();
        for i in 0..b.len() {
            for (name, p) in &all {
                for (k, node) in cl.nodes.iter().enumerate() {
                    let c = p.nodes.get(i * per + k).copied().unwrap_or_default();
                    w.row(&NodeRow {
                        bucket_start: Time(b.starts[i]),
                        bucket_end: Time(b.end_of(i)),
                        population: name.clone(),
                        node: node.name.clone(),
                        attempts: c.attempts,
                        accepted: c.accepted,
                        attempt_acceptance_rate: Rate::opt(crate::metrics::ratio(
                            c.accepted, c.attempts,
                        )),
                    });
                }
            }
        }
        out.add("nodes.csv", w.finish());
        Ok(())
    }
}

/// forecast.csv, forecast-excluded.csv and forecast-tickets.csv: a twin run's forecast.
pub struct ForecastCsv(pub bool);

impl Exporter<RunContext<'_>> for ForecastCsv {
    fn file_names(&self) -> Vec<String> {
        if self.0 {
            crate::results::forecast::FORECAST_FILES
                .map(String::from)
                .to_vec()
        } else {
            Vec::new()
        }
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        let Some(f) = ctx.forecast.filter(|_| self.0) else {
            return Ok(());
        };
        let [a, b, c] = crate::results::forecast::FORECAST_FILES;
        out.add(a, rows(&f.rows));
        out.add(b, rows(&f.excluded));
        out.add(c, rows(&f.tickets));
        Ok(())
    }
}

fn rows<R: serde::Serialize + Default>(rows: &[R]) -> Vec<u8> {
    let mut w = Writer::of::<R>();
    for r in rows {
        w.row(r);
    }
    w.finish()
}

/// tokens.csv, written as the records arrive in token order rather than held in memory: one
/// row per credential.
pub struct TokensCsv<W: std::io::Write> {
    w: ::csv::Writer<W>,
    names: Vec<String>,
}

impl<W: std::io::Write> TokensCsv<W> {
    pub const FILE: &'static str = "tokens.csv";

    /// Starts the file (its header) on `out`; `names` are the populations in order.
    pub fn new(out: W, names: &[String]) -> std::io::Result<TokensCsv<W>> {
        let mut w = ::csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(out);
        w.write_record(crate::results::columns::<TokenRow>())?;
        Ok(TokensCsv {
            w,
            names: names.to_vec(),
        })
    }

    pub fn write(&mut self, recs: &[TokenRecord]) -> std::io::Result<()> {
        for t in recs {
            self.w.serialize(TokenRow {
                token: t.token,
                generation: t.generation,
                population: self.names[t.population].clone(),
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
                final_drift_steps: Secs::opt(t.final_drift_steps),
                first_rejection: t.first_rejection.map(|r| Time(r.0)),
                first_rejection_reason: t.first_rejection.map(|r| r.1.as_str().to_string()),
            })?;
        }
        Ok(())
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> std::io::Result<W> {
        self.w.into_inner().map_err(|e| e.into_error())
    }
}

/// aggregates.json: the run's exact mergeable state (every counter and histogram per population
/// and bucket, credential lives, the token range). `plot` draws from it and `merge` adds shards'.
pub struct AggregatesJson;

impl Exporter<RunContext<'_>> for AggregatesJson {
    fn file_names(&self) -> Vec<String> {
        vec![crate::results::Aggregates::FILE.into()]
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        let r = ctx.result;
        let a = crate::results::Aggregates {
            shard_start: r.shard.start,
            shard_end: r.shard.end,
            fleet_tokens: ctx.scenario.run.tokens,
            hmacs: r.hmacs,
            tally: r.tally.clone(),
        };
        out.add(crate::results::Aggregates::FILE, a.to_json());
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
        let mut text = toml::to_string(&table).map_err(|e| Error::failed(e.to_string()))?;
        if let Some(cl) = &ctx.scenario.cluster {
            text.insert_str(
                0,
                &format!(
                    "# The run's validator was a cluster of {} nodes ({} routing); `replay` decides\n# the trace on this one validator, so decisions that depended on a node's own\n# clock or state may differ from the run's.\n",
                    cl.nodes.len(),
                    cl.routing.as_str()
                ),
            );
        }
        if !ctx.scenario.timeline.is_empty() {
            // Replay decides with one validator; say so rather than let it pass unnoticed.
            text.insert_str(
                0,
                "# The validator at the start of the run. Its [[timeline]] changed the validator\n# side during the run, which `replay` does not apply: decisions after the first\n# event may differ from the run's.\n",
            );
        }
        out.add("trace-validator.toml", text.into_bytes());
        Ok(())
    }
}

/// twin-settings.csv and changes.csv of a twin sweep (`sweep --fleet`).
pub struct TwinSweepCsv;

impl Exporter<crate::results::forecast::TwinSweep> for TwinSweepCsv {
    fn file_names(&self) -> Vec<String> {
        vec!["twin-settings.csv".into(), "changes.csv".into()]
    }

    fn render(&self, t: &crate::results::forecast::TwinSweep, out: &mut Folder) -> Result<()> {
        out.add("twin-settings.csv", rows(&t.settings));
        out.add("changes.csv", rows(&t.changes));
        Ok(())
    }
}
