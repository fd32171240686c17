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

/// What a run will write and hold in memory, estimated from per-row sizes measured on this
/// code's outputs (timeseries ~170 B and lifetime ~60 B per bucket and population, tokens.csv
/// ~130 B per credential, SVG charts ~300 B per bucket, PNGs ~3 MB); memory is about five
/// times the output (the folder is built, read back and drawn in memory) plus the counters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Footprint {
    pub output_bytes: f64,
    pub memory_bytes: f64,
}

pub fn footprint(sc: &crate::scenario::Scenario) -> Footprint {
    footprint_side_by_side(sc, 1)
}

/// [`footprint`] of `k` settings of a sweep simulated side by side: each has its own counters.
pub fn footprint_side_by_side(sc: &crate::scenario::Scenario, k: usize) -> Footprint {
    let buckets = Buckets::new(sc.run.bucket, sc.run.start, sc.run.end()).len() as f64;
    let names = sc.populations.len() as f64 + 1.0;
    // Replacements and reinstalls add credentials; a few percent a year is typical.
    let credentials = sc.run.tokens as f64 * (1.0 + 0.05 * sc.run.horizon_s / crate::time::YEAR_S);
    let output = buckets * names * (170.0 + 60.0) + buckets * 300.0 + credentials * 130.0 + 3e6;
    // Token records are streamed to tokens.csv a wave at a time, so memory does not grow with
    // the fleet: the program and two charts being drawn, one wave of records in flight, and
    // per worker (and the merged one) every bucket's counters and clock-error histogram, with
    // token life binned by the hour. Measured: 18 MB for the quickstart, 36 MB for
    // million.toml (1 M tokens, 5 years, 60 buckets).
    let hours = sc.run.horizon_s / 3600.0;
    let per_tally = buckets * names * (344.0 + 8.0 * 400.0) + hours * 16.0 * names;
    let wave = 16_384.0 * 250.0 * 2.0;
    Footprint {
        output_bytes: output,
        memory_bytes: 12e6 + 4e6 + k as f64 * (wave + 3.0 * per_tally),
    }
}

/// Memory this machine has available now (Linux `MemAvailable`), if it can tell.
pub fn available_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// Bytes in words: `76 MB`, `1.9 GB`.
pub fn bytes(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.1} GB", x / 1e9)
    } else {
        format!("{:.0} MB", (x / 1e6).max(1.0))
    }
}

/// The text `check` prints: the resolved scenario (itself a valid scenario) and the estimate.
pub fn execute(input: &ScenarioInput) -> Result<String> {
    let sc = &input.scenario;
    // Every setting of a sweep must be a valid scenario too.
    let points = if sc.sweep.is_empty() {
        Vec::new()
    } else {
        sweep::settings(&input.file, &input.text, &input.sets, sc)?.0
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
    let f = footprint(sc);
    let _ = writeln!(
        out,
        "# about {} of results and {} of memory{}",
        bytes(f.output_bytes),
        bytes(f.memory_bytes),
        available_memory().map_or(String::new(), |m| format!(" ({} available)", bytes(m)))
    );
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
