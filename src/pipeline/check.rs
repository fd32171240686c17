//! `otpdrift check`: validate a scenario (and every setting of its sweep), show it with every
//! default filled in, and estimate the work.

use super::ScenarioInput;
use crate::error::{Error, Result};
use crate::metrics::{Bucket, Buckets};
use crate::scenario::{resolved, sweep};
use crate::time::format_duration;
use std::fmt::Write;

/// The expected logins and the range of attempts of one population (or `all`).
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub name: String,
    pub tokens: u64,
    pub logins: f64,
    /// Attempts if every login succeeds first time, and if every one uses all its retries.
    pub attempts_low: f64,
    pub attempts_high: f64,
}

/// Expected work per population, then `all`.
pub fn estimate(sc: &crate::scenario::Scenario) -> Vec<Estimate> {
    let days = sc.run.horizon_s / 86_400.0;
    let mut out: Vec<Estimate> = sc
        .populations
        .iter()
        .zip(sc.population_sizes())
        .map(|(p, n)| {
            let logins = p.user.expected_logins(days) * n as f64;
            Estimate {
                name: p.name.clone(),
                tokens: n,
                logins,
                attempts_low: logins,
                attempts_high: logins * (1 + p.user.retries) as f64,
            }
        })
        .collect();
    let all = Estimate {
        name: "all".into(),
        tokens: out.iter().map(|e| e.tokens).sum(),
        logins: out.iter().map(|e| e.logins).sum(),
        attempts_low: out.iter().map(|e| e.attempts_low).sum(),
        attempts_high: out.iter().map(|e| e.attempts_high).sum(),
    };
    out.push(all);
    out
}

/// The text `check` prints: the resolved scenario (itself a valid scenario) and the estimate.
pub fn execute(input: &ScenarioInput) -> Result<String> {
    let sc = &input.scenario;
    // Every setting of a sweep must be a valid scenario too.
    let points = if sc.sweep.is_empty() {
        Vec::new()
    } else {
        sweep::settings(&input.file, &input.text_with_sets()?, sc)?.0
    };
    let text = toml::to_string(&resolved(sc)).map_err(|e| Error::failed(e.to_string()))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {}: valid. Resolved scenario, every default filled in:\n",
        input.file
    );
    let _ = writeln!(out, "{text}");
    let buckets = Buckets::new(sc.run.bucket, sc.run.start, sc.run.end());
    let _ = writeln!(out, "# Work estimate");
    let _ = writeln!(
        out,
        "# {:<14} {:>10} {:>14} {:>22}",
        "population", "tokens", "logins", "attempts"
    );
    let est = estimate(sc);
    for e in &est {
        let _ = writeln!(
            out,
            "# {:<14} {:>10} {:>14.0} {:>10.0} to {:>8.0}",
            e.name, e.tokens, e.logins, e.attempts_low, e.attempts_high
        );
    }
    let _ = writeln!(
        out,
        "# {} buckets of {}; results go to results/{}/",
        buckets.len(),
        match sc.run.bucket {
            Bucket::Month => "a calendar month".to_string(),
            Bucket::Fixed { ms } => format_duration(ms as f64 / 1000.0),
        },
        sc.run.name
    );
    if !points.is_empty() {
        let all = est.last().map_or(0.0, |e| e.attempts_low);
        let _ = writeln!(
            out,
            "# [sweep]: {} settings (`otpdrift sweep` runs each on this fleet, about {:.0} attempts in all):",
            points.len(),
            all * points.len() as f64
        );
        for (i, p) in points.iter().enumerate() {
            let _ = writeln!(out, "#   {:>3}  {}", i + 1, p.label());
        }
    }
    Ok(out)
}
