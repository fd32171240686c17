//! `otpdrift merge`: combine the folders of `run --shard K/N` into the results folder of the whole
//! run (aggregates added, tokens.csv and traces concatenated in token order), byte for byte the
//! CSV an unsharded run writes; or the folders of `sweep --shard K/N` into the whole sweep.

use super::run::{render, RunOutcome, Shard, TokensStream};
use super::sweep::{choose, recommendation, SweepOutcome, Target, Verdict};
use super::{Output, Progress};
use crate::chart::Format;
use crate::error::{Error, Result};
use crate::export::{Staged, TokensCsv};
use crate::metrics::{Buckets, Tally};
use crate::results::{
    read_manifest, recorded_scenario, Aggregates, Facts, Manifest, RunFacts, SweepFacts, SweepTable,
};
use crate::sim::RunResult;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// What the user asked of `merge`.
#[derive(Clone, Debug)]
pub struct MergeRequest {
    /// The shard folders, in any order: all N of one `run --shard K/N` (or `sweep --shard`).
    pub shards: Vec<PathBuf>,
    pub output: Output,
}

/// What the shards hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Run,
    Sweep,
}

/// A checked `merge`: the shards (what they hold read from the first one's manifest) and where
/// to write. Each shard is read and checked in full when merged.
#[derive(Clone, Debug)]
pub struct MergePlan {
    pub shards: Vec<PathBuf>,
    pub kind: Kind,
    pub out: Option<PathBuf>,
    pub force: bool,
}

impl MergePlan {
    pub fn new(r: MergeRequest) -> Result<MergePlan> {
        let Some(first) = r.shards.first() else {
            return Err(Error::input(
                "merge: expected the shard folders of one `run --shard K/N` or `sweep --shard K/N`, found none",
            ));
        };
        let manifest = read_manifest(
            &shown(first, "manifest.json"),
            &read(first, "manifest.json")?,
        )?;
        Ok(MergePlan {
            kind: if manifest.command == "sweep" {
                Kind::Sweep
            } else {
                Kind::Run
            },
            shards: r.shards,
            out: r.output.out,
            force: r.output.force,
        })
    }
}

/// One shard folder, read and checked.
struct Part {
    dir: PathBuf,
    manifest: Manifest,
    agg: Aggregates,
}

fn shown(dir: &Path, file: &str) -> String {
    format!("{}/{file}", dir.display())
}

fn read(dir: &Path, file: &str) -> Result<Vec<u8>> {
    std::fs::read(dir.join(file))
        .map_err(|e| Error::input(format!("{}: cannot read it: {e}", shown(dir, file))))
}

/// Merges the shards; returns what to print.
pub fn execute(plan: &MergePlan, progress: &dyn Progress) -> Result<String> {
    Ok(match plan.kind {
        Kind::Sweep => merge_sweeps(plan)?.summary_text(),
        Kind::Run => merge_runs(plan, progress)?.summary_text(),
    })
}

/// One `sweep --shard` folder, read and checked.
struct SweepPart {
    dir: PathBuf,
    manifest: Manifest,
    facts: SweepFacts,
    shard: Shard,
    table: SweepTable,
}

/// Merges `sweep --shard` folders into the whole sweep's folder: the tables joined in point
/// order (each point was simulated whole by one shard, so its rows are the unsharded rows),
/// then the recommendation, charts and report of the whole.
pub fn merge_sweeps(plan: &MergePlan) -> Result<SweepOutcome> {
    let mut parts = Vec::new();
    for dir in &plan.shards {
        let file = shown(dir, "manifest.json");
        let manifest = read_manifest(&file, &read(dir, "manifest.json")?)?;
        let facts = match &manifest.facts {
            Facts::Sweep(f) if manifest.command == "sweep" => f.clone(),
            _ => {
                return Err(Error::input(format!(
                    "{file}: written by `otpdrift {}`; merge takes the folders of one `otpdrift sweep --shard K/N` (or of one `otpdrift run --shard K/N`)",
                    manifest.command
                )))
            }
        };
        let shard = match facts.shard.as_deref().map(Shard::parse) {
            Some(Ok(s)) => s,
            _ => {
                return Err(Error::input(format!(
                    "{file}: not a shard (written by `otpdrift sweep` without --shard): it holds the whole sweep already"
                )))
            }
        };
        let csv = shown(dir, "sweep.csv");
        let table = SweepTable::from_csv(&csv, &read(dir, "sweep.csv")?)?;
        let range = shard.range(facts.points.len() as u64);
        if let Some(l) = table
            .lines
            .iter()
            .find(|l| !range.contains(&(l.point as u64 - 1)))
        {
            return Err(Error::input(format!(
                "{csv}: holds setting {}, which is not in shard {}'s settings {} to {}",
                l.point,
                shard.label(),
                range.start + 1,
                range.end
            )));
        }
        // Every setting of the shard, each with the same rows (its populations and `all`): a
        // table that lost rows would otherwise merge into a sweep missing settings.
        let rows = |p: u64| {
            table
                .lines
                .iter()
                .filter(|l| l.point as u64 == p + 1)
                .count()
        };
        let per = rows(range.start);
        if let Some(p) = range.clone().find(|&p| per == 0 || rows(p) != per) {
            return Err(Error::input(format!(
                "{csv}: setting {} has {} rows, expected {}: the shard's table is incomplete; run the shard again",
                p + 1,
                rows(p),
                per.max(1)
            )));
        }
        parts.push(SweepPart {
            dir: dir.clone(),
            manifest,
            facts,
            shard,
            table,
        });
    }
    parts.sort_by_key(|p| p.shard.k);
    let base = &parts[0];
    let n = base.shard.n;
    for p in &parts {
        if p.manifest.scenario != base.manifest.scenario
            || p.manifest.seed != base.manifest.seed
            || (&p.manifest.version, p.manifest.random_streams)
                != (&base.manifest.version, base.manifest.random_streams)
            || p.facts.points != base.facts.points
            || p.facts.targets != base.facts.targets
            || p.shard.n != n
        {
            return Err(Error::input(format!(
                "{}: a shard of another sweep than {} (the recorded scenario, seed, otpdrift build, settings, targets or N differs)",
                p.dir.display(),
                base.dir.display()
            )));
        }
    }
    for k in 1..=n {
        let given: Vec<&SweepPart> = parts.iter().filter(|p| p.shard.k == k).collect();
        match given[..] {
            [] => {
                return Err(Error::input(format!(
                    "shard {k}/{n} is in none of the folders given; pass every shard"
                )))
            }
            [_] => {}
            [_, p, ..] => {
                return Err(Error::input(format!(
                    "{}: shard {k}/{n} is given twice",
                    p.dir.display()
                )))
            }
        }
    }
    let (sc, out) = scenario_and_out(plan, &base.dir, &base.manifest)?;
    let mut table = SweepTable {
        params: base.table.params.clone(),
        lines: Vec::new(),
    };
    for p in &parts {
        if p.table.params != table.params {
            return Err(Error::input(format!(
                "{}/sweep.csv: swept columns {:?} differ from {}'s {:?}",
                p.dir.display(),
                p.table.params,
                base.dir.display(),
                table.params
            )));
        }
        table.lines.extend(p.table.lines.iter().cloned());
    }
    let labels: Vec<String> = base
        .facts
        .points
        .iter()
        .map(|p| p["label"].as_str().unwrap_or_default().to_string())
        .collect();
    let targets = base
        .facts
        .targets
        .iter()
        .map(|t| Target::parse(t).map_err(Error::input))
        .collect::<Result<Vec<_>>>()?;
    let verdict = choose(&table, &targets);
    let text = recommendation(&labels, &targets, &verdict);
    let mut manifest = merged_common(parts.iter().map(|p| &p.manifest));
    manifest.facts = Facts::Sweep(SweepFacts {
        seconds_per_point: manifest.wall_seconds / labels.len().max(1) as f64,
        recommended: match &verdict {
            Verdict::Met(ps) => ps.clone(),
            _ => Vec::new(),
        },
        shard: None,
        merged_from: Some(parts.iter().map(|p| p.dir.display().to_string()).collect()),
        ..base.facts.clone()
    });
    let (folder, data) = super::sweep::render(&sc, &table, text, &mut manifest, true)?;
    crate::export::write_folder(&out, plan.force, &folder)?;
    Ok(SweepOutcome {
        data,
        manifest,
        labels,
        dir: out,
    })
}

/// The recorded scenario of the first shard and the folder to write, which may not be one of
/// the shards.
fn scenario_and_out(
    plan: &MergePlan,
    first: &Path,
    manifest: &Manifest,
) -> Result<(crate::scenario::Scenario, PathBuf)> {
    let sc = recorded_scenario(&shown(first, "manifest.json"), manifest)?;
    let out = (plan.out.clone()).unwrap_or_else(|| super::default_out(&sc.run.name, plan.force));
    for d in &plan.shards {
        if same_path(&out, d) {
            return Err(Error::input(format!(
                "--out {}: is one of the shards being merged; write the whole result elsewhere",
                out.display()
            )));
        }
    }
    Ok((sc, out))
}

/// Merges `run --shard` folders into the whole run's folder.
pub fn merge_runs(plan: &MergePlan, progress: &dyn Progress) -> Result<RunOutcome> {
    let mut parts = Vec::new();
    for dir in &plan.shards {
        let file = shown(dir, "manifest.json");
        let manifest = read_manifest(&file, &read(dir, "manifest.json")?)?;
        if manifest.command != "run" {
            return Err(Error::input(format!(
                "{file}: written by `otpdrift {}`; merge takes the folders of one `otpdrift run --shard K/N` or of one `otpdrift sweep --shard K/N`",
                manifest.command
            )));
        }
        let agg =
            Aggregates::from_json(&shown(dir, Aggregates::FILE), &read(dir, Aggregates::FILE)?)?;
        parts.push(Part {
            dir: dir.clone(),
            manifest,
            agg,
        });
    }
    // By range; an empty shard (N above the fleet size) sorts before its neighbour.
    parts.sort_by_key(|p| (p.agg.shard_start, p.agg.shard_end));
    let base = &parts[0];
    for p in &parts[1..] {
        if p.manifest.scenario != base.manifest.scenario
            || p.manifest.seed != base.manifest.seed
            || (&p.manifest.version, p.manifest.random_streams)
                != (&base.manifest.version, base.manifest.random_streams)
        {
            return Err(Error::input(format!(
                "{}: a shard of another run than {} (the recorded scenario, seed or otpdrift build differs)",
                p.dir.display(),
                base.dir.display()
            )));
        }
    }
    let fleet = base.agg.fleet_tokens;
    let mut next = 0;
    for p in &parts {
        let (s, e) = (p.agg.shard_start, p.agg.shard_end);
        if s != next {
            return Err(Error::input(if s > next {
                format!(
                    "tokens {next}..{s} of {fleet} are in none of the folders given; pass every shard"
                )
            } else {
                format!(
                    "{}: tokens {s}..{e} overlap another folder's (given twice?)",
                    p.dir.display()
                )
            }));
        }
        next = e;
    }
    if next != fleet {
        return Err(Error::input(format!(
            "tokens {next}..{fleet} of {fleet} are in none of the folders given; pass every shard"
        )));
    }
    let (sc, out) = scenario_and_out(plan, &base.dir, &base.manifest)?;
    let staged = Staged::begin(&out, plan.force)?;
    progress.start(fleet, &sc.run.name);
    let names = sc.population_names();
    let mut outside = vec![TokensStream::FILE.to_string()];
    concatenate(
        &parts,
        &staged,
        TokensStream::FILE,
        &header(&names)?,
        true,
        progress,
    )?;
    let traced: Vec<&Part> = parts
        .iter()
        .filter(|p| p.dir.join("trace.csv").exists())
        .collect();
    if let Some(t) = traced.first() {
        for f in ["trace.csv", "trace-secrets.csv"] {
            let head = first_line(&read(&t.dir, f)?);
            concatenate(&parts, &staged, f, &head, false, &super::Silent)?;
            outside.push(f.to_string());
        }
        std::fs::write(
            staged.path("trace-validator.toml"),
            read(&t.dir, "trace-validator.toml")?,
        )
        .map_err(|e| Error::failed(format!("writing trace-validator.toml: {e}")))?;
        outside.push("trace-validator.toml".into());
    }
    progress.finish();

    let tally = parts
        .iter()
        .fold(Tally::default(), |t, p| t.merge(p.agg.tally.clone()));
    let mut tally = tally;
    tally.settle();
    let result = RunResult {
        population_names: names,
        buckets: Buckets::new(sc.run.bucket, sc.run.start, sc.run.end()),
        tally,
        tokens: Vec::new(),
        shard: 0..fleet,
        hmacs: parts.iter().map(|p| p.agg.hmacs).sum(),
        trace: Vec::new(),
        trace_secrets: Vec::new(),
    };
    let manifest = merged_manifest(&parts, &result);
    let outside: Vec<&str> = outside.iter().map(|s| s.as_str()).collect();
    let (folder, manifest) = render(&sc, (&result, None), manifest, Format::Both, &outside)?;
    staged.finish(&folder)?;
    Ok(RunOutcome {
        scenario: sc,
        result,
        manifest,
        dir: out,
        files: folder.len() + outside.len(),
    })
}

/// Whether two paths name the same folder (either may not exist yet).
pub fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The header line tokens.csv starts with.
fn header(names: &[String]) -> Result<Vec<u8>> {
    TokensCsv::new(Vec::new(), names)
        .and_then(|w| w.finish())
        .map_err(|e| Error::failed(e.to_string()))
}

fn first_line(bytes: &[u8]) -> Vec<u8> {
    let end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    bytes[..end].to_vec()
}

/// Writes `file` of every part, in order, into the staged folder: one header, then each part's
/// rows. With `tokens`, each row's first cell must be a token of that part's range, in order.
fn concatenate(
    parts: &[Part],
    staged: &Staged,
    file: &str,
    head: &[u8],
    tokens: bool,
    progress: &dyn Progress,
) -> Result<()> {
    let path = staged.path(file);
    let out = std::fs::File::create(&path)
        .map_err(|e| Error::failed(format!("{}: {e}", path.display())))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let werr = |e: std::io::Error| Error::failed(format!("writing {}: {e}", path.display()));
    out.write_all(head).map_err(werr)?;
    for p in parts {
        let name = shown(&p.dir, file);
        let f = match std::fs::File::open(p.dir.join(file)) {
            Ok(f) => f,
            Err(_) if !tokens => continue, // a shard with no traced user
            Err(e) => return Err(Error::input(format!("{name}: cannot read it: {e}"))),
        };
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        let mut line = Vec::new();
        let mut n = 0u64;
        let mut last = p.agg.shard_start;
        let mut users = 0;
        loop {
            line.clear();
            let got = r
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::input(format!("{name}: cannot read it: {e}")))?;
            if got == 0 {
                break;
            }
            n += 1;
            if n == 1 {
                if line != head {
                    return Err(Error::input(format!(
                        "{name}:1:1: expected the header `{}`, found `{}`",
                        String::from_utf8_lossy(head).trim_end(),
                        String::from_utf8_lossy(&line).trim_end()
                    )));
                }
                continue;
            }
            if !line.ends_with(b"\n") {
                return Err(Error::input(format!(
                    "{name}:{n}: the last row is cut short (the shard was not written whole)"
                )));
            }
            if tokens {
                let cell = line.split(|b| *b == b',').next().unwrap_or_default();
                let t = std::str::from_utf8(cell)
                    .ok()
                    .and_then(|c| c.parse::<u64>().ok())
                    .filter(|t| (last..p.agg.shard_end).contains(t))
                    .ok_or_else(|| {
                        Error::input(format!(
                            "{name}:{n}:1: column `token`: expected a token from {last} to {} (this shard's, in order), found `{}`",
                            p.agg.shard_end - 1,
                            String::from_utf8_lossy(cell)
                        ))
                    })?;
                if t > last {
                    progress.advance(t - last);
                    users += t - last;
                }
                last = t;
            }
            out.write_all(&line).map_err(werr)?;
        }
        if tokens {
            progress.advance(p.agg.shard_end - p.agg.shard_start - users);
            // One row per credential the shard's aggregates counted: a file that lost whole
            // rows (copied while being written, truncated) is refused, not merged.
            let want: u64 = p.agg.tally.pops.iter().map(|t| t.credentials).sum();
            if n.saturating_sub(1) != want {
                return Err(Error::input(format!(
                    "{name}: {} rows, but the shard's aggregates.json counts {want} credentials (the file is incomplete)",
                    n.saturating_sub(1)
                )));
            }
        }
    }
    out.flush().map_err(werr)
}

/// The whole run's manifest: the first shard's, with counts added, the slowest shard's threads,
/// wall seconds summed (the work, wherever it ran) and the raw-code rates weighted by attempts.
fn merged_manifest(parts: &[Part], result: &RunResult) -> Manifest {
    let mut m = merged_common(parts.iter().map(|p| &p.manifest));
    let attempts = m.attempts;
    let weighted = |f: &dyn Fn(&RunFacts) -> f64| {
        parts
            .iter()
            .map(|p| match &p.manifest.facts {
                Facts::Run(r) => f(r) * p.manifest.attempts as f64,
                Facts::Sweep(_) => 0.0,
            })
            .sum::<f64>()
            / attempts.max(1) as f64
    };
    m.facts = Facts::Run(RunFacts {
        shard_start: 0,
        shard_end: result.shard.end,
        fleet_tokens: result.shard.end,
        logins: result.total_logins(),
        hmacs_per_attempt: result.hmacs as f64 / attempts.max(1) as f64,
        hmac_sha1_codes_per_second_one_thread: weighted(&|r| {
            r.hmac_sha1_codes_per_second_one_thread
        })
        .round(),
        codes_per_attempt_equivalent: weighted(&|r| r.codes_per_attempt_equivalent),
        shard: None,
        merged_from: Some(parts.iter().map(|p| p.dir.display().to_string()).collect()),
        fleet: None,
    });
    m
}

/// The first shard's manifest with the counts added, the most threads any shard had, wall
/// seconds summed (the work, wherever it ran) and the earliest start.
fn merged_common<'a>(ms: impl Iterator<Item = &'a Manifest> + Clone) -> Manifest {
    let mut m = ms.clone().next().expect("at least one shard").clone();
    m.threads = ms.clone().map(|p| p.threads).max().unwrap_or(1);
    m.started_at = ms
        .clone()
        .map(|p| p.started_at.clone())
        .min()
        .unwrap_or_default();
    m.finished_at = crate::time::format_rfc3339(super::now_ms());
    m.wall_seconds = (ms.clone().map(|p| p.wall_seconds).sum::<f64>() * 1000.0).round() / 1000.0;
    m.attempts = ms.clone().map(|p| p.attempts).sum();
    m.hmacs = ms.map(|p| p.hmacs).sum();
    m.attempts_per_second = (m.attempts as f64 / m.wall_seconds.max(1e-9)).round();
    m
}
