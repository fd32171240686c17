//! summary.csv, timeseries.csv and tokens.csv: tidy columns, units in the names, RFC 3339 UTC
//! times, empty cells where a figure is undefined (no logins, no clock).

use super::{ExportContext, Exporter};
use crate::civil::format_rfc3339;
use crate::metrics::{wilson95, Counts, OffsetHist, PopTally};
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

const COUNT_COLUMNS: [&str; 20] = [
    "logins",
    "attempts",
    "accepted",
    "first_try_accepted",
    "logins_succeeded",
    "first_try_acceptance_rate",
    "login_success_rate",
    "attempt_acceptance_rate",
    "rejected_out_of_window",
    "rejected_replay",
    "rejected_locked",
    "rejected_typo",
    "rejected_dead",
    "lockouts",
    "false_accepts",
    "chance_matches",
    "waited_for_fresh_code",
    "skew_resyncs",
    "deaths_battery",
    "deaths_expired",
];

fn count_cells(c: &Counts) -> Vec<String> {
    vec![
        c.logins.to_string(),
        c.attempts.to_string(),
        c.accepted.to_string(),
        c.first_try_ok.to_string(),
        c.logins_ok.to_string(),
        rate(c.first_try_acceptance_rate()),
        rate(c.login_success_rate()),
        rate(c.attempt_acceptance_rate()),
        c.rejected_out_of_window.to_string(),
        c.rejected_replay.to_string(),
        c.rejected_locked.to_string(),
        c.rejected_typo.to_string(),
        c.rejected_dead.to_string(),
        c.lockouts.to_string(),
        c.false_accepts.to_string(),
        c.chance_matches.to_string(),
        c.waited_for_fresh_code.to_string(),
        c.skew_resyncs.to_string(),
        c.deaths_battery.to_string(),
        c.deaths_expired.to_string(),
    ]
}

const OFFSET_COLUMNS: [&str; 4] = [
    "offset_s_p50",
    "offset_s_p90",
    "offset_s_p99",
    "offset_s_max",
];

fn offset_cells(h: &OffsetHist) -> Vec<String> {
    vec![
        secs(h.quantile_s(0.5)),
        secs(h.quantile_s(0.9)),
        secs(h.quantile_s(0.99)),
        secs(h.max_s()),
    ]
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
        header.extend(COUNT_COLUMNS);
        header.extend([
            "first_try_acceptance_ci95_low",
            "first_try_acceptance_ci95_high",
        ]);
        header.extend(OFFSET_COLUMNS);
        header.extend([
            "final_offset_s_p50",
            "final_offset_s_p90",
            "final_offset_s_max",
        ]);
        w.write_record(&header).map_err(to_io)?;
        for (name, p) in rows(ctx) {
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
            w.write_record(&r).map_err(to_io)?;
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
        header.extend(COUNT_COLUMNS);
        header.extend(OFFSET_COLUMNS);
        w.write_record(&header).map_err(to_io)?;
        let b = &ctx.result.buckets;
        let all = rows(ctx);
        for (i, start) in b.starts.iter().enumerate() {
            let end = b.starts.get(i + 1).copied().unwrap_or(b.end);
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
