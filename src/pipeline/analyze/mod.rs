//! `otpdrift analyze`: estimate each credential's clock drift from a real log (offsets a
//! validator stored, codes with server times and their secrets, or a run's trace), predict when
//! each leaves the window, summarise the fleet, and optionally fit a scenario to it
//! (docs/analyze.md). Bad rows are skipped and counted by reason; only a log with nothing
//! usable is an error.

use super::replay::{read_secrets, Secret};
use crate::analyze::{estimate, Estimate, Exit, Observation, Settings, SlopeFrom};
use crate::error::{Error, Result};
use crate::export::{self, Folder};
use crate::results::analyze::{
    AnalyzeData, AnalyzeManifest, DriftRow, FleetRow, ObservationRow, Skipped, StepRow, WindowRow,
};
use crate::results::cells::{Fixed, Time};
use crate::results::Writer;
use crate::time::{
    format_rfc3339, parse_duration, parse_rfc3339, Millis, MAX_INSTANT, MIN_INSTANT,
};
use crate::validator::{Scheme, ValidatorConfig};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
const DAY: Millis = 86_400_000;
/// A credential not seen for this long before "now" is inactive.
const INACTIVE_MS: Millis = 90 * DAY;
/// A ppm estimate this sure (standard error) or better counts in the fleet's mean and spread.
const PRECISE_PPM: f64 = 3.0;
const YEAR: Millis = 31_557_600_000;

mod locate;
mod read;
mod tables;

use locate::locate_codes;
pub use read::COLUMNS;
use read::{Cred, Skips};
pub use tables::WINDOWS;
use tables::{drift_row, fleet_row, window_rows, worst};

/// What the user asked of `analyze`.
#[derive(Clone, Debug, Default)]
pub struct AnalyzeRequest {
    /// The log (CSV), or a results folder written by `run --trace`.
    pub log: PathBuf,
    /// The secrets of a log of codes (CSV or PSKC, as replay reads them).
    pub secrets: Option<PathBuf>,
    /// Judge against this preset's window (default rfc6238, or a trace's validator).
    pub preset: Option<String>,
    /// Steps the window accepts behind the server's step.
    pub window_back: Option<u32>,
    /// Steps the window accepts ahead of the server's step.
    pub window_ahead: Option<u32>,
    /// The time step in seconds (default: the secrets' step, else 30).
    pub step: Option<u32>,
    /// Time from reading a code to the server receiving it, added to code observations
    /// (default 5.5s; see docs/analyze.md).
    pub delay: Option<String>,
    /// The time the offsets and exits are reckoned from (default: the log's last row).
    pub now: Option<String>,
    /// Rows after this time are left out (the log as it stood then); `now` defaults to it.
    pub until: Option<String>,
    /// Map a column of the log onto a documented name, e.g. --column credential=serial (repeatable).
    pub columns: Vec<String>,
    /// How far from the expected step a code is searched for (default 1d).
    pub search: Option<String>,
    /// A jump larger than this between observations is a clock step (default 3 steps, at least 60s).
    pub step_threshold: Option<String>,
    /// The results folder (default: results/analyze-<log name>); `force` also replaces an
    /// --emit-scenario file.
    pub output: crate::pipeline::Output,
    /// Also write a scenario whose clocks are fitted to the log.
    pub emit_scenario: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    pub threads: Option<usize>,
}

/// A checked analysis: inputs read, settings fixed.
pub struct AnalyzePlan {
    inputs: Vec<(String, String)>,
    kind: &'static str,
    creds: BTreeMap<String, Cred>,
    secrets: HashMap<String, Secret>,
    skips: Skips,
    rows: u64,
    out_of_order: u64,
    pub step_s: u32,
    pub window: (u32, u32),
    pub preset: Option<String>,
    pub delay_s: f64,
    pub now: Millis,
    pub search_steps: u32,
    pub threshold_s: f64,
    threshold_given: bool,
    pub out: PathBuf,
    pub force: bool,
    pub emit: Option<PathBuf>,
    pub threads: Option<usize>,
    name: String,
    /// Started before the log was read, so the rate counts reading.
    watch: super::Stopwatch,
}

/// Offsets (s) a window of (back, ahead) steps of `step` accepts at least half the time.
fn window_edges(window: (u32, u32), step: u32, delay_s: f64) -> (f64, f64) {
    (
        delay_s - ValidatorConfig::window_edge_s(window.0, step),
        delay_s + ValidatorConfig::window_edge_s(window.1, step),
    )
}

/// The default step threshold: three steps, at least a minute.
fn default_threshold(step: u32) -> f64 {
    (3.0 * step as f64).max(60.0)
}

/// One credential's figures.
struct Analysed {
    id: String,
    population: String,
    est: Estimate,
    obs: Vec<Observation>,
    /// The ppm's standard error.
    ppm_se: Option<f64>,
    /// The credential's step, seconds (its own, or the fleet's): its window's width.
    step_s: u32,
    /// The last sync the log shows: when, and the step offset it taught the validator.
    last_sync: Option<(Millis, i64)>,
}

/// What an analysis leaves: the folder written, and the figures for the terminal.
pub struct AnalyzeOutcome {
    pub out: PathBuf,
    pub files: usize,
    pub data: AnalyzeData,
    pub emitted: Option<PathBuf>,
}

impl AnalyzeOutcome {
    pub fn summary_text(&self) -> String {
        let m = &self.data.manifest;
        let mut s = String::new();
        use std::fmt::Write as _;
        let _ = writeln!(
            s,
            "analysed {} credential{} from {} rows ({} used) against a window of -{}/+{} steps of {} s, now = {}",
            m.credentials,
            if m.credentials == 1 { "" } else { "s" },
            m.rows,
            m.rows_used,
            m.window_back, m.window_ahead, m.step_s, m.now
        );
        let _ = writeln!(
            s,
            "{:<16} {:>11} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8}",
            "population",
            "credentials",
            "ppm p10",
            "ppm p50",
            "ppm p90",
            "out now",
            "<30d",
            "<90d",
            "<1y"
        );
        let f = |x: Option<Fixed<3>>| x.map_or("-".into(), |v| format!("{:.2}", v.0));
        for r in &self.data.fleet {
            let _ = writeln!(
                s,
                "{:<16} {:>11} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8}",
                r.population,
                r.credentials,
                f(r.ppm_p10),
                f(r.ppm_p50),
                f(r.ppm_p90),
                r.out_now,
                r.leaving_30d,
                r.leaving_90d,
                r.leaving_365d
            );
        }
        let _ = write!(s, "\nwrote {} ({} files)", self.out.display(), self.files);
        if let Some(e) = &self.emitted {
            let _ = write!(s, "; fitted scenario {}", e.display());
        }
        s
    }

    /// Skipped rows by reason, for stderr.
    pub fn skipped_text(&self) -> String {
        self.data
            .manifest
            .skipped
            .iter()
            .map(|s| {
                format!(
                    "skipped {} rows: {} (first at {})\n",
                    s.rows, s.reason, s.first
                )
            })
            .collect()
    }
}

/// Runs the analysis and writes the results folder (and the fitted scenario).
pub fn execute(plan: AnalyzePlan) -> Result<AnalyzeOutcome> {
    let watch = &plan.watch;
    let edges = plan.edges();
    let (threads, pool) = super::thread_pool(plan.threads)?;
    let settings = Settings {
        edges,
        now: plan.now,
        threshold_s: plan.threshold_s,
        horizon_ms: (100 * YEAR)
            .min(crate::time::parse_rfc3339("9998-01-01T00:00:00Z").unwrap_or(0) - plan.now)
            .max(0),
    };
    let mut skips = plan.skips;
    let creds: Vec<(String, Cred)> = plan.creds.into_iter().collect();
    let range = plan.search_steps as i64;
    let delay_s = plan.delay_s;
    let secrets = &plan.secrets;
    let (window, step_default, threshold_given) = (plan.window, plan.step_s, plan.threshold_given);
    let results: Vec<(Analysed, Vec<u64>)> = pool.install(|| {
        creds
            .into_par_iter()
            .with_max_len(1)
            .map(|(id, mut c)| {
                let lost = match secrets.get(&id) {
                    Some(sec) => locate_codes(&mut c, sec, delay_s, range),
                    None => Vec::new(),
                };
                let mut obs = std::mem::take(&mut c.obs);
                // A credential on its own step is judged by its own window and threshold.
                let step = c
                    .step_s
                    .or_else(|| match secrets.get(&id).map(|s| s.scheme) {
                        Some(Scheme::Totp { step_s, .. }) if step_s != step_default => Some(step_s),
                        _ => None,
                    });
                let mine = match step {
                    None => settings,
                    Some(st) => Settings {
                        edges: window_edges(window, st, delay_s),
                        threshold_s: if threshold_given {
                            settings.threshold_s
                        } else {
                            default_threshold(st)
                        },
                        ..settings
                    },
                };
                let est = estimate(&mut obs, &mine);
                let ppm_se = est.ppm_se;
                (
                    Analysed {
                        id,
                        population: c.population,
                        est,
                        obs,
                        ppm_se,
                        step_s: step.unwrap_or(step_default),
                        last_sync: c.last_sync,
                    },
                    lost,
                )
            })
            .collect()
    });
    let file = plan.inputs[0].0.clone();
    let mut all = Vec::with_capacity(results.len());
    for (a, lost) in results {
        for line in lost {
            skips.add("code matches no step in the search range", || {
                format!("{file}:{line}: `{}`'s code matches no step within ±{} steps (a typo, or a clock further off: widen --search)", a.id, plan.search_steps)
            });
        }
        if !a.obs.is_empty() {
            all.push(a);
        }
    }
    if all.is_empty() {
        let why = skips
            .0
            .iter()
            .map(|s| format!("{} {} (first: {})", s.rows, s.reason, s.first))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::input(format!("{file}: nothing to analyze: {why}")));
    }
    let now = plan.now;
    let mut pops: Vec<String> = all.iter().map(|a| a.population.clone()).collect();
    pops.sort();
    pops.dedup();
    let mut fleet = Vec::new();
    let mut windows = Vec::new();
    // Per named population, then the whole fleet as `all`.
    for p in pops.iter().filter(|p| p.as_str() != "all") {
        let mine: Vec<&Analysed> = all.iter().filter(|a| &a.population == p).collect();
        fleet.push(fleet_row(p, &mine, now));
        windows.extend(window_rows(p, &mine, plan.delay_s, now));
    }
    let every: Vec<&Analysed> = all.iter().collect();
    fleet.push(fleet_row("all", &every, now));
    windows.extend(window_rows("all", &every, plan.delay_s, now));
    let rows_used: u64 = all
        .iter()
        .map(|a| a.est.observations as u64 + a.est.outliers as u64)
        .sum();
    let credentials: Vec<DriftRow> = all.iter().map(|a| drift_row(a, now)).collect();
    let steps: Vec<StepRow> = all
        .iter()
        .flat_map(|a| {
            a.est.steps.iter().map(|s| StepRow {
                credential: a.id.clone(),
                population: a.population.clone(),
                not_before: Time(s.not_before),
                not_after: Time(s.not_after),
                size_s: Fixed(s.size_s),
            })
        })
        .collect();
    let mut observations = Vec::new();
    for i in worst(&all, now) {
        let a = &all[i];
        for (o, seg) in a.obs.iter().zip(&a.est.assigned) {
            observations.push(ObservationRow {
                credential: a.id.clone(),
                time: Time(o.t),
                low_s: Fixed(o.lo),
                high_s: Fixed(o.hi),
                segment: seg.map(|s| s as u64),
                fit_s: seg.and_then(|s| Fixed::<3>::of(a.est.segments[s].offset_at(o.t))),
            });
        }
    }

    let wall = watch.seconds();
    let manifest = AnalyzeManifest {
        tool: "otpdrift".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "analyze".into(),
        inputs: plan.inputs.clone(),
        input_kind: plan.kind.into(),
        step_s: plan.step_s,
        window_back: plan.window.0,
        window_ahead: plan.window.1,
        preset: plan.preset.clone(),
        delay_s: plan.delay_s,
        edges_s: (
            (edges.0 * 1000.0).round() / 1000.0,
            (edges.1 * 1000.0).round() / 1000.0,
        ),
        now: format_rfc3339(now),
        search_steps: plan.search_steps,
        step_threshold_s: plan.threshold_s,
        rows: plan.rows,
        rows_used,
        rows_out_of_order: plan.out_of_order,
        skipped: skips.0,
        credentials: all.len() as u64,
        wall_seconds: (wall * 1000.0).round() / 1000.0,
        rows_per_second: (plan.rows as f64 / wall.max(1e-9)).round(),
        threads,
        started_at: format_rfc3339(watch.started_at),
        files: Vec::new(),
    };
    let mut folder = Folder::default();
    folder.add("drift.csv", write_rows(&credentials));
    folder.add("steps.csv", write_rows(&steps));
    folder.add("fleet.csv", write_rows(&fleet));
    folder.add("window.csv", write_rows(&windows));
    folder.add("drift-observations.csv", write_rows(&observations));
    let mut data = AnalyzeData {
        manifest,
        credentials,
        steps,
        fleet,
        windows,
        observations,
    };
    let mut names: Vec<String> = folder.files.iter().map(|f| f.0.clone()).collect();
    names.extend(crate::export::analyze_view_names());
    names.push("manifest.json".into());
    data.manifest.files = names;
    folder.add("manifest.json", data.manifest.to_json());
    // The report and the fitted scenario read the files as written, as a later reader would.
    let data = AnalyzeData::from_files(&plan.out.display().to_string(), |n| folder.read(n))
        .map_err(|e| Error::failed(format!("the analysis does not read back: {e}")))?;
    // Charts are drawn on the same threads (`--threads 1` means one).
    for (n, b) in pool.install(|| crate::export::analyze_views(&data))? {
        folder.add(n, b);
    }
    export::write_folder(&plan.out, plan.force, &folder)
        .map_err(|e| Error::failed(e.to_string()))?;
    // The analysis stands on its own: a fitted scenario that does not check is reported
    // after the folder is written, and not written itself.
    let emitted = match &plan.emit {
        Some(path) => {
            let text = crate::export::fitted_scenario(&data, &plan.name)?;
            crate::scenario::Scenario::from_toml(&path.display().to_string(), &text).map_err(
                |e| {
                    Error::failed(format!(
                        "wrote {}, but the fitted scenario does not check, so {} was not written: {e}",
                        plan.out.display(),
                        path.display()
                    ))
                },
            )?;
            export::write_file_atomic(path, text.as_bytes())
                .map_err(|e| Error::failed(e.to_string()))?;
            Some((path.clone(), text))
        }
        None => None,
    };
    Ok(AnalyzeOutcome {
        out: plan.out,
        files: folder.files.len(),
        data,
        emitted: emitted.map(|e| e.0),
    })
}

fn write_rows<R: serde::Serialize + Default>(rows: &[R]) -> Vec<u8> {
    let mut w = Writer::of::<R>();
    for r in rows {
        w.row(r);
    }
    w.finish()
}
