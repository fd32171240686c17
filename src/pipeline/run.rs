//! `otpdrift run`: simulate a scenario's fleet and write its results folder (CSV, manifest,
//! then charts and report drawn from the CSV as written).

use super::{
    hmac_codes_per_second, manifest, pct, thread_pool, Progress, ScenarioInput, Stopwatch,
};
use crate::chart::Format;
use crate::error::Result;
use crate::export::{
    self, Charts, Exporter, Folder, LifetimeCsv, ManifestJson, Report, RunContext, SummaryCsv,
    TimeseriesCsv, TokensCsv, Trace,
};
use crate::metrics::PopTally;
use crate::results::{Facts, Manifest, RunData, RunFacts};
use crate::scenario::Scenario;
pub use crate::sim::TraceSelect;
use crate::sim::{self, RunResult};
use crate::time::{format_duration, format_rfc3339};
use std::path::PathBuf;

/// A checked `run`: the scenario (seed applied), where to write, and how.
#[derive(Clone, Debug)]
pub struct RunPlan {
    pub input: ScenarioInput,
    pub out: PathBuf,
    pub force: bool,
    pub threads: Option<usize>,
    /// Users whose requests go to trace.csv.
    pub trace: TraceSelect,
}

impl RunPlan {
    /// Refuses a run whose estimated memory exceeds what the machine has available.
    pub fn fits(sc: &Scenario) -> Result<()> {
        let f = super::check::footprint(sc);
        match super::check::available_memory() {
            Some(m) if f.memory_bytes > 0.8 * m => Err(crate::error::Error::input(format!(
                "this run would need about {} of memory ({} available) and write about {}; use a coarser run.bucket or fewer run.tokens, or pass --yes to run it anyway",
                super::check::bytes(f.memory_bytes),
                super::check::bytes(m),
                super::check::bytes(f.output_bytes)
            ))),
            _ => Ok(()),
        }
    }

    /// Applies `--seed`, picks the default folder `results/<run.name>`, and refuses at once a
    /// folder that holds results unless `force`.
    pub fn new(
        mut input: ScenarioInput,
        out: Option<PathBuf>,
        seed: Option<u64>,
        threads: Option<usize>,
        force: bool,
        yes: bool,
    ) -> Result<RunPlan> {
        if let Some(s) = seed {
            // TOML (the manifest's scenario, --from-manifest) holds signed 64-bit integers.
            if s > i64::MAX as u64 {
                return Err(crate::error::Error::input(format!(
                    "--seed: expected 0 to {}, found {s}",
                    i64::MAX
                )));
            }
            input.scenario.run.seed = s;
        }
        if !yes {
            Self::fits(&input.scenario)?;
        }
        let out = out.unwrap_or_else(|| super::default_out(&input.scenario.run.name, force));
        export::check_writable(&out, force)?;
        Ok(RunPlan {
            input,
            out,
            force,
            threads,
            trace: TraceSelect::None,
        })
    }
}

/// What a run did, for the terminal.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub scenario: Scenario,
    pub result: RunResult,
    pub manifest: Manifest,
    pub dir: PathBuf,
    pub files: usize,
}

/// Simulates and writes the results folder.
pub fn execute(plan: &RunPlan, progress: &dyn Progress) -> Result<RunOutcome> {
    let sc = &plan.input.scenario;
    let (threads, pool) = thread_pool(plan.threads)?;
    progress.start(sc.run.tokens, &sc.run.name);
    let watch = Stopwatch::start();
    let result = pool
        .install(|| sim::run_traced(sc, 0..sc.run.tokens, plan.trace, &|n| progress.advance(n)));
    let wall = watch.seconds();
    progress.finish();
    let codes_per_s = hmac_codes_per_second(0.2);
    let attempts = result.total_attempts();
    let aps = attempts as f64 / wall.max(1e-9);
    let facts = Facts::Run(RunFacts {
        shard_start: result.shard.start,
        shard_end: result.shard.end,
        fleet_tokens: sc.run.tokens,
        logins: result.total_logins(),
        hmacs_per_attempt: if attempts > 0 {
            result.hmacs as f64 / attempts as f64
        } else {
            0.0
        },
        hmac_sha1_codes_per_second_one_thread: codes_per_s.round(),
        codes_per_attempt_equivalent: codes_per_s / (aps / threads as f64).max(1e-9),
    });
    let manifest = manifest(
        "run",
        &plan.input,
        threads,
        (&watch, wall),
        (attempts, result.hmacs),
        facts,
    );
    let (folder, manifest) = render(sc, &result, manifest, Format::Both)?;
    export::write_folder(&plan.out, plan.force, &folder)?;
    Ok(RunOutcome {
        scenario: sc.clone(),
        result,
        manifest,
        dir: plan.out.clone(),
        files: folder.len(),
    })
}

/// The files of a run's folder: the tables and manifest from the result, then charts and
/// report from those files as written (so `plot` redraws them byte for byte). Fills in the
/// manifest's file list.
pub fn render(
    sc: &Scenario,
    result: &RunResult,
    mut manifest: Manifest,
    format: Format,
) -> Result<(Folder, Manifest)> {
    let trace = Trace(!result.trace.is_empty());
    let tables: [&dyn Exporter<RunContext>; 6] = [
        &SummaryCsv,
        &TimeseriesCsv,
        &LifetimeCsv,
        &TokensCsv,
        &trace,
        &ManifestJson,
    ];
    let views: [&dyn Exporter<RunData>; 2] = [&Charts(format), &Report(format)];
    manifest.files = export::file_names(&tables);
    manifest.files.extend(export::file_names(&views));
    let mut folder = Folder::default();
    let ctx = RunContext {
        scenario: sc,
        result,
        manifest: &manifest,
    };
    export::render_all(&tables, &ctx, &mut folder)?;
    let data = RunData::from_files("", |f| folder.read(f))
        .map_err(|e| crate::error::Error::failed(format!("reading back the results: {e}")))?;
    export::render_all(&views, &data, &mut folder)?;
    Ok((folder, manifest))
}

impl RunOutcome {
    /// The terminal summary: a table per population, then what was written.
    pub fn summary_text(&self) -> String {
        use std::fmt::Write;
        let sc = &self.scenario;
        let r = &self.result;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} — {} tokens from {} over {}",
            sc.run.name,
            sc.run.tokens,
            format_rfc3339(sc.run.start),
            format_duration(sc.run.horizon_s)
        );
        let _ = writeln!(
            out,
            "{:<14} {:>8} {:>10} {:>10} {:>10} {:>9} {:>8} {:>8} {:>12}",
            "population",
            "tokens",
            "logins",
            "first-try",
            "success",
            "lockouts",
            "tickets",
            "deaths",
            "p99 offset"
        );
        let mut rows: Vec<(String, PopTally)> = r
            .population_names
            .iter()
            .cloned()
            .zip(r.tally.pops.iter().cloned())
            .collect();
        if rows.len() > 1 {
            rows.push(("all".into(), r.tally.all()));
        }
        for (name, p) in rows {
            let c = &p.total;
            let _ = writeln!(
                out,
                "{:<14} {:>8} {:>10} {:>10} {:>10} {:>9} {:>8} {:>8} {:>12}",
                name,
                p.tokens,
                c.logins,
                pct(c.first_try_acceptance_rate()),
                pct(c.login_success_rate()),
                c.lockouts,
                c.tickets(),
                c.deaths_battery + c.deaths_expired,
                p.offsets_total
                    .quantile_s(0.99)
                    .map_or("-".into(), format_duration)
            );
        }
        let m = &self.manifest;
        let _ = write!(
            out,
            "\nwrote {} ({} files) in {:.1} s: {} attempts, {:.0} attempts/s on {} thread{}",
            self.dir.display(),
            self.files,
            m.wall_seconds,
            m.attempts,
            m.attempts_per_second,
            m.threads,
            if m.threads == 1 { "" } else { "s" }
        );
        out
    }
}
