//! `otpdrift run`: simulate a scenario's fleet and write its results folder (CSV, manifest,
//! then charts and report drawn from the CSV as written).

use super::twin;
use super::{
    manifest, pct, thread_pool, Calibration, Output, Progress, ScenarioInput, Source, Stopwatch,
};
use crate::chart::Format;
use crate::error::Result;
use crate::export::{
    self, AggregatesJson, Charts, Exporter, Folder, ForecastCsv, LifetimeCsv, ManifestJson,
    NodesCsv, Report, RunContext, Staged, SummaryCsv, TimeseriesCsv, TokensCsv, Trace,
};
use crate::metrics::PopTally;
use crate::results::forecast::Forecast;
use crate::results::{Facts, Manifest, RunData, RunFacts};
use crate::scenario::{Override, Scenario};
pub use crate::sim::TraceSelect;
use crate::sim::{self, RunResult};
use crate::time::{format_duration, format_rfc3339};
use std::path::PathBuf;

/// What the user asked of `run`.
#[derive(Clone, Debug)]
pub struct RunRequest {
    pub source: Source,
    /// `--set` overrides, applied to the scenario as read.
    pub sets: Vec<Override>,
    /// `--mode exact|fast`, the same as `--set run.decide=MODE`.
    pub mode: Option<String>,
    /// Replaces run.seed.
    pub seed: Option<u64>,
    pub output: Output,
    pub threads: Option<usize>,
    /// Run even when the estimated memory exceeds what is available.
    pub yes: bool,
    /// Users whose requests go to trace.csv.
    pub trace: TraceSelect,
    /// None: the whole fleet, or the shard a manifest recorded.
    pub shard: Option<Shard>,
    /// `--fleet DIR`: start from the real fleet an analysis describes (a twin).
    pub fleet: Option<PathBuf>,
    /// `--replicates N` of a twin (default [`twin::DEFAULT_REPLICATES`]).
    pub replicates: Option<u32>,
}

impl RunRequest {
    /// A run of `source` as written: default folder, every core, nothing traced.
    pub fn new(source: Source) -> RunRequest {
        RunRequest {
            source,
            sets: Vec::new(),
            mode: None,
            seed: None,
            output: Output::default(),
            threads: None,
            yes: false,
            trace: TraceSelect::None,
            shard: None,
            fleet: None,
            replicates: None,
        }
    }
}

/// A checked `run`: the scenario (seed applied), where to write, and how.
#[derive(Clone, Debug)]
pub struct RunPlan {
    pub input: ScenarioInput,
    pub out: PathBuf,
    pub force: bool,
    pub threads: Option<usize>,
    /// Users whose requests go to trace.csv.
    pub trace: TraceSelect,
    /// Run only the K-th of N token ranges (1-based), for `merge`.
    pub shard: Option<Shard>,
    /// A twin: the analysis read, the credentials left out, and how many replicates.
    pub twin: Option<TwinPlan>,
}

/// What `--fleet` adds to a run.
#[derive(Clone, Debug)]
pub struct TwinPlan {
    pub fleet: twin::Fleet,
    pub excluded: Vec<crate::results::forecast::ExcludedRow>,
    pub replicates: u32,
}

/// The K-th of N equal token ranges (`--shard K/N`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    /// Parses `K/N` with 1 <= K <= N.
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || {
            crate::error::Error::input(format!(
                "--shard: expected K/N with 1 <= K <= N (for example 2/8), found `{text}`"
            ))
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// This shard's part of `0..len`: the ranges of 1/N, ..., N/N tile it in order.
    pub fn range(self, len: u64) -> std::ops::Range<u64> {
        let at = |i: u64| (len as u128 * i as u128 / self.n as u128) as u64;
        at(self.k - 1)..at(self.k)
    }

    pub fn label(self) -> String {
        format!("{}/{}", self.k, self.n)
    }
}

impl RunPlan {
    /// Reads the scenario (or the manifest's), applies the request and checks the plan:
    /// applies the seed, picks the default folder `results/<run.name>` and refuses at once a
    /// folder that holds results unless `force`, and a run that would not fit in memory
    /// unless `yes`.
    pub fn new(r: RunRequest) -> Result<RunPlan> {
        if r.replicates.is_some() && r.fleet.is_none() {
            return Err(crate::error::Error::input(
                "--replicates: only a twin (--fleet ANALYSIS_DIR) is replicated",
            ));
        }
        let fleet = r.fleet.as_deref().map(twin::Fleet::read).transpose()?;
        let mut sets = r.sets;
        if let Some(f) = &fleet {
            if r.shard.is_some() {
                return Err(crate::error::Error::input(
                    "--shard: a twin's forecast needs every credential in one run; drop --shard or --fleet",
                ));
            }
            // Last, so that the twin's start and size win over the file and --set.
            sets.extend(f.overrides()?);
        }
        let (mut input, recorded_shard) = r.source.load(sets, r.mode.as_deref())?;
        let twin = match fleet {
            Some(fleet) => {
                let replicates = r.replicates.unwrap_or(twin::DEFAULT_REPLICATES);
                if !(1..=10_000).contains(&replicates) {
                    return Err(crate::error::Error::input(format!(
                        "--replicates: expected 1 to 10000, found {replicates}"
                    )));
                }
                let excluded = fleet.attach(&mut input.scenario)?;
                Some(TwinPlan {
                    fleet,
                    excluded,
                    replicates,
                })
            }
            None => None,
        };
        // A shard's manifest reruns that shard unless another is asked for.
        let recorded_shard = recorded_shard.map(|k| Shard::parse(&k)).transpose()?;
        if let Some(s) = r.seed {
            // TOML (the manifest's scenario, --from-manifest) holds signed 64-bit integers.
            if s > i64::MAX as u64 {
                return Err(crate::error::Error::input(format!(
                    "--seed: expected 0 to {}, found {s}",
                    i64::MAX
                )));
            }
            input.scenario.run.seed = s;
        }
        let force = r.output.force;
        let out =
            (r.output.out).unwrap_or_else(|| super::default_out(&input.scenario.run.name, force));
        export::check_writable(&out, force)?;
        if !r.yes {
            Self::fits(&input.scenario, 1, r.threads, r.trace)?;
        }
        if r.trace != TraceSelect::None
            && input.scenario.run.decide == crate::scenario::DecideMode::Fast
        {
            return Err(crate::error::Error::input(
                "--trace: the codes of run.decide = \"fast\" are not RFC codes, so a trace could not be replayed; trace an exact run (--mode exact)",
            ));
        }
        Ok(RunPlan {
            input,
            out,
            force,
            threads: r.threads,
            trace: r.trace,
            shard: r.shard.or(recorded_shard),
            twin,
        })
    }

    /// Refuses a run (or `side_by_side` settings of a sweep) on `threads` worker threads, with
    /// `trace`, whose estimated memory exceeds what this process has available.
    pub fn fits(
        sc: &Scenario,
        side_by_side: usize,
        threads: Option<usize>,
        trace: TraceSelect,
    ) -> Result<()> {
        let threads = super::worker_threads(threads)?;
        let f = super::check::footprint_side_by_side(sc, side_by_side, threads);
        let traced = super::check::trace_bytes(sc, trace);
        let need = f.memory_bytes + traced;
        match super::check::available_memory() {
            Some(m) if need > 0.8 * m => Err(crate::error::Error::input(format!(
                "this run would need about {} of memory{} ({} available) and write about {}; use a coarser run.bucket, a shorter run.horizon{}, or pass --yes to run it anyway",
                super::check::bytes(need),
                if traced > 0.0 {
                    format!(", {} of it for the trace", super::check::bytes(traced))
                } else {
                    String::new()
                },
                super::check::bytes(m),
                super::check::bytes(f.output_bytes),
                if traced > 0.0 { " or a smaller --trace sample" } else { "" }
            ))),
            _ => Ok(()),
        }
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

/// Simulates and writes the results folder: tokens.csv is streamed into the folder being
/// written while the fleet runs; the rest is drawn from the in-run aggregates at the end.
pub fn execute(plan: &RunPlan, progress: &dyn Progress) -> Result<RunOutcome> {
    let sc = &plan.input.scenario;
    let (threads, pool) = thread_pool(plan.threads)?;
    let range = plan
        .shard
        .map_or(0..sc.run.tokens, |s| s.range(sc.run.tokens));
    let staged = Staged::begin(&plan.out, plan.force)?;
    let replicates = plan.twin.as_ref().map_or(1, |t| t.replicates) as u64;
    progress.start((range.end - range.start) * replicates, &sc.run.name);
    let mut forecaster = plan.twin.as_ref().map(|_| twin::Forecaster::new(sc));
    let calibration = Calibration::default();
    let watch = Stopwatch::start();
    let tokens = TokensStream::start(&staged, &sc.population_names())?;
    let result = pool.install(|| {
        sim::run_streamed(
            sc,
            range.clone(),
            plan.trace,
            &|n| {
                progress.advance(n);
                calibration.sample();
            },
            &mut |recs| {
                if let Some(f) = forecaster.as_mut() {
                    f.add(&recs);
                }
                tokens.send(recs)
            },
        )
    });
    // A twin's other replicates: the same fleet with independent draws, records folded as
    // they come.
    // The work done: every replicate's attempts and HMACs, for the rates in the manifest.
    let mut work = (result.total_attempts(), result.hmacs);
    let forecast = match (forecaster, &plan.twin) {
        (Some(mut f), Some(t)) => {
            f.add_result(&result);
            for r in 1..t.replicates {
                let mut scr = sc.clone();
                scr.run.seed = twin::replicate_seed(sc.run.seed, r);
                let res = pool.install(|| {
                    sim::run_streamed(
                        &scr,
                        range.clone(),
                        TraceSelect::None,
                        &|n| {
                            progress.advance(n);
                        },
                        &mut |recs| {
                            f.add(&recs);
                            true
                        },
                    )
                });
                f.add_result(&res);
                work = (work.0 + res.total_attempts(), work.1 + res.hmacs);
            }
            Some(f.finish(sc, t.excluded.clone(), &t.fleet))
        }
        _ => None,
    };
    let wall = watch.seconds();
    tokens.finish()?;
    progress.finish();
    let attempts = work.0;
    let facts = Facts::Run(RunFacts {
        shard_start: result.shard.start,
        shard_end: result.shard.end,
        fleet_tokens: sc.run.tokens,
        logins: result.total_logins(),
        hmacs_per_attempt: if attempts > 0 {
            work.1 as f64 / attempts as f64
        } else {
            0.0
        },
        hmac_sha1_codes_per_second_one_thread: calibration.codes_per_second().round(),
        codes_per_attempt_equivalent: calibration.codes_per_attempt(attempts, wall, threads),
        shard: plan.shard.map(Shard::label),
        merged_from: None,
        fleet: plan.twin.as_ref().map(|t| crate::results::FleetFacts {
            analysis: t.fleet.dir.display().to_string(),
            drift_sha256: t.fleet.drift_sha256.clone(),
            start: format_rfc3339(sc.run.start),
            replicates: t.replicates,
            credentials: sc.run.tokens,
            excluded: t.excluded.len() as u64,
            edges_s: t.fleet.edges(),
            logins_from_log: t.fleet.data.manifest.input_kind == "codes",
        }),
    });
    let manifest = manifest(
        "run",
        &plan.input,
        threads,
        (&watch, wall),
        (attempts, work.1),
        facts,
    );
    // Charts are drawn on the same threads (`--threads 1` means one).
    let (folder, manifest) = if plan.shard.is_some() {
        render_shard(sc, &result, manifest)?
    } else {
        pool.install(|| {
            render(
                sc,
                (&result, forecast.as_ref()),
                manifest,
                Format::Both,
                &[TokensStream::FILE],
            )
        })?
    };
    staged.finish(&folder)?;
    Ok(RunOutcome {
        scenario: sc.clone(),
        result,
        manifest,
        dir: plan.out.clone(),
        files: folder.len() + 1,
    })
}

/// tokens.csv written by its own thread from the records the simulation hands over in token
/// order, so the fleet never waits on formatting and memory holds a few waves at most.
pub struct TokensStream {
    tx: Option<std::sync::mpsc::SyncSender<Vec<sim::TokenRecord>>>,
    writer: std::thread::JoinHandle<std::io::Result<()>>,
    path: PathBuf,
}

impl TokensStream {
    pub const FILE: &'static str = "tokens.csv";

    pub fn start(staged: &Staged, names: &[String]) -> Result<TokensStream> {
        let path = staged.path(Self::FILE);
        let file = std::fs::File::create(&path)
            .map_err(|e| crate::error::Error::failed(format!("{}: {e}", path.display())))?;
        Ok(Self::to_writer(file, path, names))
    }

    /// Streams into `out`; `path` names it in errors.
    pub fn to_writer(
        out: impl std::io::Write + Send + 'static,
        path: PathBuf,
        names: &[String],
    ) -> TokensStream {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<sim::TokenRecord>>(2);
        let names = names.to_vec();
        let writer = std::thread::spawn(move || {
            let mut w = TokensCsv::new(std::io::BufWriter::with_capacity(1 << 20, out), &names)?;
            for recs in rx {
                w.write(&recs)?;
            }
            use std::io::Write;
            w.finish()?.flush()
        });
        TokensStream {
            tx: Some(tx),
            writer,
            path,
        }
    }

    /// Hands over records. False once the writer has failed (a full disk, say): the records
    /// are dropped, the run should stop, and `finish` reports the error.
    pub fn send(&self, recs: Vec<sim::TokenRecord>) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.send(recs).is_ok())
    }

    pub fn finish(mut self) -> Result<()> {
        drop(self.tx.take());
        match self.writer.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(crate::error::Error::failed(format!(
                "writing {}: {e}",
                self.path.display()
            ))),
            Err(_) => Err(crate::error::Error::failed("the tokens.csv writer failed")),
        }
    }
}

/// The files of a run's folder: the tables and manifest from the result, then charts and
/// report from those files as written (so `plot` redraws them byte for byte). `outside` names
/// the files written into the folder by other means (tokens.csv, streamed); the manifest lists
/// them after lifetime.csv.
pub fn render(
    sc: &Scenario,
    (result, forecast): (&RunResult, Option<&Forecast>),
    mut manifest: Manifest,
    format: Format,
    outside: &[&str],
) -> Result<(Folder, Manifest)> {
    let trace = Trace(!result.trace.is_empty());
    let first: [&dyn Exporter<RunContext>; 3] = [&SummaryCsv, &TimeseriesCsv, &LifetimeCsv];
    let nodes = NodesCsv(sc.cluster.is_some());
    let fc = ForecastCsv(forecast.is_some());
    let rest: [&dyn Exporter<RunContext>; 5] =
        [&nodes, &fc, &AggregatesJson, &trace, &ManifestJson];
    let views: [&dyn Exporter<RunData>; 2] = [&Charts(format, forecast.is_some()), &Report(format)];
    manifest.files = export::file_names(&first);
    manifest.files.extend(outside.iter().map(|f| f.to_string()));
    manifest.files.extend(export::file_names(&rest));
    manifest.files.extend(export::file_names(&views));
    let mut folder = Folder::default();
    let ctx = RunContext {
        scenario: sc,
        result,
        manifest: &manifest,
        forecast,
    };
    export::render_all(&first, &ctx, &mut folder)?;
    export::render_all(&rest, &ctx, &mut folder)?;
    let data = RunData::from_files("", |f| folder.read(f))
        .map_err(|e| crate::error::Error::failed(format!("reading back the results: {e}")))?;
    export::render_all(&views, &data, &mut folder)?;
    Ok((folder, manifest))
}

/// A shard's folder: its tokens.csv (streamed), aggregates, trace and manifest; the tables,
/// charts and report come once the shards are merged.
fn render_shard(
    sc: &Scenario,
    result: &RunResult,
    mut manifest: Manifest,
) -> Result<(Folder, Manifest)> {
    let trace = Trace(!result.trace.is_empty());
    let tables: [&dyn Exporter<RunContext>; 3] = [&AggregatesJson, &trace, &ManifestJson];
    manifest.files = vec![TokensStream::FILE.to_string()];
    manifest.files.extend(export::file_names(&tables));
    let mut folder = Folder::default();
    let ctx = RunContext {
        scenario: sc,
        result,
        manifest: &manifest,
        forecast: None,
    };
    export::render_all(&tables, &ctx, &mut folder)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk that fills after `room` bytes.
    struct Filling {
        room: usize,
    }

    impl std::io::Write for Filling {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if b.len() > self.room {
                return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
            }
            self.room -= b.len();
            Ok(b.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_stops_the_token_stream_and_is_reported() {
        let sc = Scenario::from_toml(
            "s.toml",
            "[run]\nhorizon = \"7d\"\ntokens = 4\n[[population]]\nshare = 1\ntoken = { kind = \"phone\" }\n",
        )
        .unwrap();
        let rec = sim::run(&sc, 0..1, &|_| {}).tokens[0].clone();
        let names = sc.population_names();
        let tokens = TokensStream::to_writer(Filling { room: 3 << 20 }, "t.csv".into(), &names);
        // 10,000 rows are about 1 MB: the writer fails on the fourth or fifth batch, and from
        // then on every batch is refused.
        let taken = (0..50)
            .take_while(|_| tokens.send(vec![rec.clone(); 10_000]))
            .count();
        assert!((3..10).contains(&taken), "{taken} batches taken");
        assert!(!tokens.send(vec![rec.clone()]));
        let e = tokens.finish().unwrap_err().to_string();
        assert!(e.contains("t.csv") && e.contains("No space left"), "{e}");
    }

    #[test]
    fn a_sink_that_can_take_no_more_stops_the_run_after_its_wave() {
        let sc = Scenario::from_toml(
            "s.toml",
            "[run]\nhorizon = \"1d\"\ntokens = 20000\n[[population]]\nshare = 1\ntoken = { kind = \"phone\" }\n",
        )
        .unwrap();
        // Refused from the first batch on: the rest of that wave is handed over, then no more.
        let mut handed = 0;
        let r = sim::run_streamed(
            &sc,
            0..20_000,
            sim::TraceSelect::None,
            &|_| {},
            &mut |recs| {
                handed += recs.len();
                false
            },
        );
        assert_eq!(handed, 16_384, "one wave of records");
        assert_eq!(r.tally.all().tokens, 16_384);
    }
}
