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

pub fn footprint(sc: &crate::scenario::Scenario, threads: usize) -> Footprint {
    footprint_side_by_side(sc, 1, threads)
}

/// Worker threads when none are asked for: every core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Bytes a run's `--trace` holds until the end: every request of each traced user (about
/// 160 bytes each; a login is a little over one request).
pub fn trace_bytes(sc: &crate::scenario::Scenario, trace: crate::sim::TraceSelect) -> f64 {
    let n = sc.run.tokens;
    let users = (0..n).filter(|&i| trace.includes(i, n)).count() as f64;
    let all = estimate(sc).pop().expect("`all` is last");
    users * (all.logins / (n.max(1) as f64) * 1.2 + 2.0) * 160.0
}

/// [`footprint`] of `k` settings of a sweep simulated side by side: each has its own counters.
pub fn footprint_side_by_side(
    sc: &crate::scenario::Scenario,
    k: usize,
    threads: usize,
) -> Footprint {
    let buckets = Buckets::new(sc.run.bucket, sc.run.start, sc.run.end()).len() as f64;
    let names = sc.populations.len() as f64 + 1.0;
    // Replacements and reinstalls add credentials; a few percent a year is typical.
    let credentials = sc.run.tokens as f64 * (1.0 + 0.05 * sc.run.horizon_s / crate::time::YEAR_S);
    // aggregates.json: per population and bucket about 950 B of counters and a clock-error
    // histogram of up to 2.1 KB (about 12 B a login while sparse), measured on the quickstart.
    let logins = estimate(sc).pop().map_or(0.0, |e| e.logins);
    let pops = names - 1.0;
    let per_cell = logins / (buckets * pops).max(1.0);
    let aggregates = buckets * pops * (950.0 + (60.0 + 12.0 * per_cell).min(2100.0));
    let output =
        buckets * names * (170.0 + 60.0) + buckets * 300.0 + credentials * 130.0 + aggregates + 3e6;
    // Token records are streamed to tokens.csv a wave at a time, so memory does not grow with
    // the fleet: the program and two charts being drawn, one wave of records in flight, and
    // per worker thread (and one more) every bucket's counters and clock-error histogram, with
    // token life binned by the hour. Measured on 2 threads: 18 MB for the quickstart, 36 MB
    // for million.toml (1 M tokens, 5 years, 60 buckets).
    let hours = sc.run.horizon_s / 3600.0;
    let per_tally = buckets * names * (344.0 + 8.0 * 400.0) + hours * 16.0 * names;
    let wave = 16_384.0 * 250.0 * 2.0;
    Footprint {
        output_bytes: output,
        memory_bytes: 12e6 + 4e6 + k as f64 * (wave + (threads as f64 + 1.0) * per_tally),
    }
}

/// Memory available to this process now, if it can tell: the machine's (Linux
/// `MemAvailable`), or less where its control group is limited (a Kubernetes pod's limit, a
/// Slurm job's `--mem`), which the machine's figure does not show.
pub fn available_memory() -> Option<f64> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let machine = read("/proc/meminfo").and_then(|info| {
        let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024.0)
    });
    let group = read("/proc/self/cgroup").and_then(|c| cgroup_headroom(&c, &|p| read(p)));
    match (machine, group) {
        (Some(m), Some(g)) => Some(m.min(g)),
        (m, g) => m.or(g),
    }
}

/// The tightest memory headroom (limit minus use) of this process's control group and its
/// ancestors, cgroup v2 (`memory.max`, `memory.current`) or v1 (`memory.limit_in_bytes`,
/// `memory.usage_in_bytes`); None when no level is limited. `cgroups` is /proc/self/cgroup.
fn cgroup_headroom(cgroups: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<f64> {
    // A v1 unlimited group reports a limit near 2^63.
    const UNLIMITED: f64 = (1u64 << 60) as f64;
    let (root, path, limit, usage) = cgroups.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (id, controllers, path) = (f.next()?, f.next()?, f.next()?);
        if controllers.split(',').any(|c| c == "memory") {
            Some((
                "/sys/fs/cgroup/memory",
                path,
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            ))
        } else if id == "0" && controllers.is_empty() {
            Some(("/sys/fs/cgroup", path, "memory.max", "memory.current"))
        } else {
            None
        }
    })?;
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    (0..=parts.len())
        .filter_map(|n| {
            let dir = format!("{root}/{}", parts[..n].join("/"));
            let dir = dir.trim_end_matches('/');
            let max: f64 = read(&format!("{dir}/{limit}"))?.trim().parse().ok()?;
            let used: f64 = read(&format!("{dir}/{usage}"))
                .and_then(|u| u.trim().parse().ok())
                .unwrap_or(0.0);
            (max < UNLIMITED).then(|| (max - used).max(0.0))
        })
        .reduce(f64::min)
}

/// Bytes in words: `76 MB`, `1.9 GB`.
pub fn bytes(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.1} GB", x / 1e9)
    } else {
        format!("{:.0} MB", (x / 1e6).max(1.0))
    }
}

/// What the user asked of `check`.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    pub scenario: std::path::PathBuf,
    pub sets: Vec<crate::scenario::Override>,
}

/// A checked `check`: the scenario, read and valid.
pub struct CheckPlan {
    pub input: ScenarioInput,
}

impl CheckPlan {
    pub fn new(r: CheckRequest) -> Result<CheckPlan> {
        Ok(CheckPlan {
            input: ScenarioInput::load(&r.scenario, &r.sets)?,
        })
    }
}

/// The text `check` prints: the resolved scenario (itself a valid scenario) and the estimate.
pub fn execute(plan: &CheckPlan) -> Result<String> {
    let input = &plan.input;
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
    let threads = default_threads();
    let f = footprint(sc, threads);
    let _ = writeln!(
        out,
        "# about {} of results and {} of memory on {threads} thread{}{}",
        bytes(f.output_bytes),
        bytes(f.memory_bytes),
        if threads == 1 { "" } else { "s" },
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

#[cfg(test)]
mod tests {
    use super::cgroup_headroom;
    use std::collections::HashMap;

    fn files(f: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = f
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |p: &str| m.get(p).cloned()
    }

    #[test]
    fn memory_grows_with_threads_and_traces() {
        let sc = crate::scenario::Scenario::from_toml(
            "s.toml",
            "[run]\nhorizon = \"1y\"\ntokens = 1000\nbucket = \"1d\"\n[[population]]\ntoken = { kind = \"phone\" }\nuser = { logins_per_day = 2 }\n",
        )
        .unwrap();
        let (two, eight) = (super::footprint(&sc, 2), super::footprint(&sc, 8));
        assert!(eight.memory_bytes > two.memory_bytes, "{two:?} {eight:?}");
        assert_eq!(two.output_bytes, eight.output_bytes);
        use crate::sim::TraceSelect;
        assert_eq!(super::trace_bytes(&sc, TraceSelect::None), 0.0);
        // Every user: about 730 logins a year, 1.2 requests each, 160 bytes a request.
        let all = super::trace_bytes(&sc, TraceSelect::All);
        assert!(
            (all / 1000.0 / 160.0 - (730.5 * 1.2 + 2.0)).abs() < 30.0,
            "{all}"
        );
        let some = super::trace_bytes(&sc, TraceSelect::Sample(10));
        assert!((some * 100.0 - all).abs() < all * 0.01, "{some} {all}");
    }

    #[test]
    fn a_control_groups_limit_bounds_the_memory_available() {
        // cgroup v2, a pod limited to 1 GiB with 100 MiB in use; its container unlimited.
        let v2 = files(&[
            ("/sys/fs/cgroup/kubepods/pod1/c1/memory.max", "max\n"),
            (
                "/sys/fs/cgroup/kubepods/pod1/c1/memory.current",
                "90000000\n",
            ),
            ("/sys/fs/cgroup/kubepods/pod1/memory.max", "1073741824\n"),
            ("/sys/fs/cgroup/kubepods/pod1/memory.current", "104857600\n"),
        ]);
        assert_eq!(
            cgroup_headroom("0::/kubepods/pod1/c1\n", &v2),
            Some(1_073_741_824.0 - 104_857_600.0)
        );
        // cgroup v1 (this development machine's layout): unlimited, then a 512 MiB job.
        let cg = "4:memory:/process_api/x\n1:cpu:/\n0::/\n";
        let unlimited = files(&[
            (
                "/sys/fs/cgroup/memory/process_api/x/memory.limit_in_bytes",
                "9223372036854771712",
            ),
            (
                "/sys/fs/cgroup/memory/process_api/x/memory.usage_in_bytes",
                "3539509248",
            ),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712",
            ),
        ]);
        assert_eq!(cgroup_headroom(cg, &unlimited), None);
        let job = files(&[
            (
                "/sys/fs/cgroup/memory/process_api/x/memory.limit_in_bytes",
                "536870912",
            ),
            (
                "/sys/fs/cgroup/memory/process_api/x/memory.usage_in_bytes",
                "36870912",
            ),
        ]);
        assert_eq!(cgroup_headroom(cg, &job), Some(5e8));
        // No memory controller listed: nothing to say.
        assert_eq!(cgroup_headroom("1:cpu:/\n", &job), None);
    }
}
