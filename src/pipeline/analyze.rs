//! `otpdrift analyze`: estimate each credential's clock drift from a real log (offsets a
//! validator stored, codes with server times and their secrets, or a run's trace), predict when
//! each leaves the window, summarise the fleet, and optionally fit a scenario to it
//! (docs/analyze.md). Bad rows are skipped and counted by reason; only a log with nothing
//! usable is an error.

use super::replay::{read_secrets, Secret};
use crate::drift::{analyse, Estimate, Exit, Observation, Settings, SlopeFrom};
use crate::error::{Error, Result};
use crate::export::{self, Folder};
use crate::results::cells::{Fixed, Time};
use crate::results::drift::{
    DriftData, DriftManifest, DriftRow, FleetRow, ObservationRow, Skipped, StepRow, WindowRow,
};
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

/// The columns an observations log may have, as documented; `--column KEY=NAME` maps a
/// column of the user's file onto one of these.
pub const COLUMNS: [&str; 9] = [
    "credential",
    "time",
    "offset_s",
    "shift_s",
    "offset_steps",
    "matched_step",
    "step",
    "population",
    "code",
];

/// What the log's offsets mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Measure {
    /// A measured offset, seconds: a point.
    OffsetS,
    /// A validator's learned shift (matched step's start minus server time), seconds.
    ShiftS,
    /// The matched step minus the server's step.
    OffsetSteps,
    /// The matched step (time / step).
    MatchedStep,
}

impl Measure {
    fn column(self) -> &'static str {
        match self {
            Measure::OffsetS => "offset_s",
            Measure::ShiftS => "shift_s",
            Measure::OffsetSteps => "offset_steps",
            Measure::MatchedStep => "matched_step",
        }
    }
}

/// The flags of `analyze`, as given.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct AnalyzeArgs {
    /// The log (CSV), or a results folder written by `run --trace`.
    pub log: PathBuf,
    /// The secrets of a log of codes (CSV or PSKC, as replay reads them).
    #[arg(long)]
    pub secrets: Option<PathBuf>,
    /// Judge against this preset's window (default rfc6238, or a trace's validator).
    #[arg(long)]
    pub preset: Option<String>,
    /// Steps the window accepts behind the server's step.
    #[arg(long)]
    pub window_back: Option<u32>,
    /// Steps the window accepts ahead of the server's step.
    #[arg(long)]
    pub window_ahead: Option<u32>,
    /// The time step in seconds (default: the secrets' step, else 30).
    #[arg(long)]
    pub step: Option<u32>,
    /// Time from reading a code to the server receiving it, added to code observations
    /// (default 5.5s; see docs/analyze.md).
    #[arg(long)]
    pub delay: Option<String>,
    /// The time the offsets and exits are reckoned from (default: the log's last row).
    #[arg(long)]
    pub now: Option<String>,
    /// Map a column of the log onto a documented name, e.g. --column credential=serial (repeatable).
    #[arg(long = "column", value_name = "KEY=NAME")]
    pub columns: Vec<String>,
    /// How far from the expected step a code is searched for (default 1d).
    #[arg(long)]
    pub search: Option<String>,
    /// A jump larger than this between observations is a clock step (default 3 steps, at least 60s).
    #[arg(long)]
    pub step_threshold: Option<String>,
    /// Results folder (default: results/analyze-<log name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing results folder (and --emit-scenario file).
    #[arg(long)]
    pub force: bool,
    /// Also write a scenario whose clocks are fitted to the log.
    #[arg(long, value_name = "FILE")]
    pub emit_scenario: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// One credential as read.
#[derive(Clone, Debug, Default)]
struct Cred {
    population: String,
    obs: Vec<Observation>,
    /// Codes still to be located: (server time, code, line).
    codes: Vec<(Millis, String, u64)>,
    /// Rows out of time order.
    unsorted: u64,
    /// Its time step, seconds (a `step` cell or its secret), when not the default.
    step_s: Option<u32>,
}

/// Rows skipped while reading, by reason (in the order first met).
#[derive(Default)]
struct Skips(Vec<Skipped>);

impl Skips {
    fn add(&mut self, reason: &str, at: impl FnOnce() -> String) {
        match self.0.iter_mut().find(|s| s.reason == reason) {
            Some(s) => s.rows += 1,
            None => self.0.push(Skipped {
                reason: reason.into(),
                rows: 1,
                first: at(),
            }),
        }
    }

    fn total(&self) -> u64 {
        self.0.iter().map(|s| s.rows).sum()
    }
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

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn duration_flag(flag: &str, v: &Option<String>, default: f64, min: f64, max: f64) -> Result<f64> {
    let Some(s) = v else { return Ok(default) };
    let d = parse_duration(s).map_err(|e| {
        Error::input(format!(
            "{flag}: expected a duration such as \"7s\", found {e}"
        ))
    })?;
    if !(min..=max).contains(&d) {
        return Err(Error::input(format!(
            "{flag}: expected {} to {}, found {s}",
            crate::time::format_duration(min),
            crate::time::format_duration(max)
        )));
    }
    Ok(d)
}

impl AnalyzePlan {
    pub fn new(a: &AnalyzeArgs) -> Result<AnalyzePlan> {
        let watch = super::Stopwatch::start();
        // A results folder of `run --trace`: its trace, secrets and validator.
        let (log, secrets, validator_file) = if a.log.is_dir() {
            let trace = a.log.join("trace.csv");
            if !trace.is_file() {
                return Err(Error::input(format!(
                    "{}: expected a log file, or a results folder with trace.csv (run --trace), found a folder without one",
                    a.log.display()
                )));
            }
            let v = a.log.join("trace-validator.toml");
            (
                trace,
                a.secrets
                    .clone()
                    .or_else(|| Some(a.log.join("trace-secrets.csv"))),
                v.is_file().then_some(v),
            )
        } else {
            (a.log.clone(), a.secrets.clone(), None)
        };
        let window_flags = a.window_back.is_some() || a.window_ahead.is_some();
        if a.preset.is_some() && window_flags {
            return Err(Error::input(
                "--preset and --window-back/--window-ahead: give one or the other",
            ));
        }
        let v: ValidatorConfig = match (&a.preset, &validator_file, window_flags) {
            (Some(_), _, _) | (None, None, _) | (None, Some(_), true) => {
                super::replay::validator(None, a.preset.as_deref(), &[])?
            }
            (None, Some(f), false) => super::replay::validator_from(Some(f), None, &[])?,
        };
        let window = (
            a.window_back.unwrap_or(v.window_back),
            a.window_ahead.unwrap_or(v.window_ahead),
        );
        if window.0 > 100_000 || window.1 > 100_000 {
            return Err(Error::input(format!(
                "--window-back/--window-ahead: expected at most 100000 steps, found {}/{}",
                window.0, window.1
            )));
        }
        let delay_s = duration_flag("--delay", &a.delay, 5.5, 0.0, 3600.0)?;
        let mut rename: HashMap<String, String> = HashMap::new();
        for c in &a.columns {
            let (k, name) = c.split_once('=').ok_or_else(|| {
                Error::input(format!(
                    "--column {c}: expected KEY=NAME, e.g. --column credential=serial"
                ))
            })?;
            if !COLUMNS.contains(&k.trim()) {
                return Err(Error::input(format!(
                    "--column {c}: expected KEY to be one of {}, found `{k}`",
                    COLUMNS.join(", ")
                )));
            }
            rename.insert(name.trim().to_string(), k.trim().to_string());
        }

        let bytes = read(&log)?;
        let file = log.display().to_string();
        let mut inputs = vec![(file.clone(), sha(&bytes))];
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(bytes.as_slice());
        let header: Vec<String> = r
            .headers()
            .map_err(|e| Error::input(format!("{file}:1: {e}")))?
            .iter()
            .map(|h| {
                let h = h.trim().trim_start_matches('\u{feff}');
                rename.get(h).cloned().unwrap_or_else(|| h.to_string())
            })
            .collect();
        let col = |k: &str| header.iter().position(|h| h == k);
        let found = || {
            if header.iter().all(|h| h.is_empty()) {
                "an empty file".to_string()
            } else {
                format!("the columns {}", header.join(", "))
            }
        };
        let (Some(c_cred), Some(c_time)) = (col("credential"), col("time")) else {
            let missing = if col("credential").is_none() {
                "credential"
            } else {
                "time"
            };
            return Err(Error::input(format!(
                "{file}:1: expected a column `{missing}` (map yours with --column {missing}=NAME), found {}",
                found()
            )));
        };
        let measures: Vec<Measure> = [
            Measure::OffsetS,
            Measure::ShiftS,
            Measure::OffsetSteps,
            Measure::MatchedStep,
        ]
        .into_iter()
        .filter(|m| col(m.column()).is_some())
        .collect();
        let c_code = col("code");
        let kind = match (measures.len(), c_code) {
            (0, Some(_)) => "codes",
            (1, None) => "observations",
            (0, None) => {
                return Err(Error::input(format!(
                    "{file}:1: expected one of the columns offset_s, shift_s, offset_steps, matched_step (observations) or code (with --secrets), found {}",
                    found()
                )))
            }
            _ => {
                return Err(Error::input(format!(
                    "{file}:1: expected one kind of observation, found the columns {} together",
                    measures
                        .iter()
                        .map(|m| m.column())
                        .chain(c_code.map(|_| "code"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let secrets = if kind == "codes" {
            let p = secrets.ok_or_else(|| {
                Error::input(format!(
                    "{file}: a log of codes needs the credentials' secrets: --secrets FILE (CSV or PSKC, as replay reads them)"
                ))
            })?;
            let b = read(&p)?;
            inputs.push((p.display().to_string(), sha(&b)));
            read_secrets(&p.display().to_string(), &b)?
        } else {
            HashMap::new()
        };
        // Without --step: the secrets' most common step (ties to the shorter), else 30 s.
        let default_step = a.step.unwrap_or_else(|| {
            let mut count: BTreeMap<u32, usize> = BTreeMap::new();
            for s in secrets.values() {
                if let Scheme::Totp { step_s, .. } = s.scheme {
                    *count.entry(step_s).or_default() += 1;
                }
            }
            count
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(30, |(s, _)| *s)
        });
        if default_step == 0 || default_step > 86_400 {
            return Err(Error::input(format!(
                "--step: expected 1 to 86400 seconds, found {default_step}"
            )));
        }
        let (c_pop, c_step, c_action) = (col("population"), col("step"), col("action"));
        let c_code2 = col("code2");

        let mut creds: BTreeMap<String, Cred> = BTreeMap::new();
        let mut skips = Skips::default();
        let mut rows = 0u64;
        let mut last_time: HashMap<String, (Millis, String)> = HashMap::new();
        let mut rec = csv::StringRecord::new();
        let mut lines = crate::results::Lines::new(&bytes);
        loop {
            match r.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = lines.of(e.position());
                    rows += 1;
                    skips.add("unreadable row", || format!("{file}:{line}: {e}"));
                    continue;
                }
            }
            rows += 1;
            let line = lines.of(rec.position());
            let at = |c: usize| format!("{file}:{line}:{}", c + 1);
            let cell = |c: usize| rec.get(c).unwrap_or("").trim();
            let cred = cell(c_cred);
            if cred.is_empty() {
                skips.add("no credential", || {
                    format!("{}: an empty `credential` cell", at(c_cred))
                });
                continue;
            }
            let t_text = cell(c_time);
            let t = parse_when(t_text);
            let Ok(t) = t else {
                skips.add("unparseable time", || {
                    format!(
                        "{}: expected an RFC 3339 time or Unix seconds, found `{t_text}`",
                        at(c_time)
                    )
                });
                continue;
            };
            let value: String;
            if kind == "codes" {
                let action = c_action.map_or("verify", |c| cell(c));
                let code = match action {
                    "verify" | "" => cell(c_code.expect("a code column")).to_string(),
                    // The last code of a sync was read just before it was sent.
                    "sync" => c_code2
                        .map(&cell)
                        .and_then(|s| s.split_whitespace().last())
                        .unwrap_or_else(|| cell(c_code.expect("a code column")))
                        .to_string(),
                    _ => continue,
                };
                match secrets.get(cred) {
                    None => {
                        skips.add("credential without a secret", || {
                            format!(
                                "{}: credential `{cred}` is not in the secrets file",
                                at(c_cred)
                            )
                        });
                        continue;
                    }
                    Some(s) if s.scheme == Scheme::Hotp => {
                        skips.add("HOTP credential (no clock)", || {
                            format!("{}: credential `{cred}` is HOTP, whose codes say nothing of a clock", at(c_cred))
                        });
                        continue;
                    }
                    Some(s) => {
                        let c = code.as_str();
                        if c.is_empty()
                            || !c.bytes().all(|b| b.is_ascii_digit())
                            || c.len() != s.digits as usize
                        {
                            skips.add("malformed code", || {
                                format!(
                                    "{}: expected {} digits, found `{c}`",
                                    at(c_code.unwrap()),
                                    s.digits
                                )
                            });
                            continue;
                        }
                    }
                }
                value = code;
            } else {
                let m = measures[0];
                let c = col(m.column()).expect("the measure's column");
                let text = cell(c);
                let Some(v) = text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && v.abs() < 1e11)
                else {
                    let reason = if text.is_empty() {
                        "empty offset"
                    } else {
                        "unparseable offset"
                    };
                    skips.add(reason, || {
                        format!(
                            "{}: column `{}`: expected a number, found `{text}`",
                            at(c),
                            m.column()
                        )
                    });
                    continue;
                };
                let step = match c_step.map(&cell).filter(|s| !s.is_empty()) {
                    None => default_step,
                    Some(s) => {
                        match s.parse::<u32>() {
                            Ok(k) if (1..=86_400).contains(&k) => k,
                            _ => {
                                skips.add("bad step", || {
                                format!("{}: column `step`: expected 1 to 86400 seconds, found `{s}`", at(c_step.unwrap()))
                            });
                                continue;
                            }
                        }
                    }
                };
                if step != default_step {
                    creds.entry(cred.to_string()).or_default().step_s = Some(step);
                }
                let stp = step as f64;
                let server = t as f64 / 1000.0;
                let (lo, hi) = match m {
                    Measure::OffsetS => (v, v),
                    Measure::ShiftS => (v + delay_s, v + delay_s + stp),
                    Measure::OffsetSteps | Measure::MatchedStep => {
                        let matched = if m == Measure::OffsetSteps {
                            (server / stp).floor() + v.round()
                        } else {
                            v.round()
                        };
                        let lo = matched * stp - server + delay_s;
                        (lo, lo + stp)
                    }
                };
                value = format!("{lo}");
                let entry = creds.entry(cred.to_string()).or_default();
                entry.obs.push(Observation { t, lo, hi });
            }
            // Duplicates (the same credential, time and value twice) and order.
            let key = (t, value.clone());
            match last_time.get(cred) {
                Some(prev) if *prev == key => {
                    skips.add("duplicate row", || {
                        format!("{file}:{line}: the same as the row before it for `{cred}`")
                    });
                    if kind != "codes" {
                        creds.get_mut(cred).unwrap().obs.pop();
                    }
                    continue;
                }
                Some(prev) if prev.0 > t => {
                    creds.entry(cred.to_string()).or_default().unsorted += 1;
                }
                _ => {}
            }
            last_time.insert(cred.to_string(), key);
            let entry = creds.entry(cred.to_string()).or_default();
            if kind == "codes" {
                entry.codes.push((t, value, line));
            }
            // Without a population column the fleet is one (`all`); with one, a blank cell is
            // a group of its own, never the fleet's summary row.
            if entry.population.is_empty() {
                entry.population = match c_pop {
                    None => "all".into(),
                    Some(c) => match cell(c) {
                        "" => "unnamed".into(),
                        "all" => "all (named)".into(),
                        p => p.to_string(),
                    },
                };
            }
        }
        let unsorted: u64 = creds.values().map(|c| c.unsorted).sum();
        let out_of_order = unsorted;
        let last = creds
            .values()
            .flat_map(|c| c.obs.iter().map(|o| o.t).chain(c.codes.iter().map(|c| c.0)))
            .max();
        let Some(last) = last else {
            let why = if skips.total() == 0 {
                "no rows".to_string()
            } else {
                skips
                    .0
                    .iter()
                    .map(|s| format!("{} {} (first: {})", s.rows, s.reason, s.first))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return Err(Error::input(format!("{file}: nothing to analyse: {why}")));
        };
        let now = match &a.now {
            Some(s) => parse_when(s).map_err(|_| {
                Error::input(format!(
                    "--now: expected an RFC 3339 time or Unix seconds in the years 0001 to 9998, found `{s}`"
                ))
            })?,
            None => last,
        };
        // Codes repeat: beyond 10^digits / 100 steps either side a typo matches some step
        // more than one time in fifty.
        let digits = secrets.values().map(|s| s.digits).min().unwrap_or(6);
        let most_steps = 10f64.powi(digits as i32) / 100.0;
        let search = duration_flag(
            "--search",
            &a.search,
            86_400.0f64.min(most_steps * default_step as f64),
            0.0,
            most_steps * default_step as f64,
        )?;
        let threshold_s = duration_flag(
            "--step-threshold",
            &a.step_threshold,
            default_threshold(default_step),
            1.0,
            1e9,
        )?;
        let threshold_given = a.step_threshold.is_some();
        let name = format!(
            "analyze-{}",
            log.file_stem()
                .map_or("log".into(), |s| s.to_string_lossy().into_owned())
        );
        let out = match &a.out {
            Some(o) => {
                export::check_writable(o, a.force).map_err(|e| Error::input(e.to_string()))?;
                o.clone()
            }
            None => super::default_out(&name, a.force),
        };
        if let Some(e) = &a.emit_scenario {
            if e.exists() && !a.force {
                return Err(Error::input(format!(
                    "--emit-scenario {}: the file exists; pass --force to replace it",
                    e.display()
                )));
            }
        }
        Ok(AnalyzePlan {
            inputs,
            kind,
            creds,
            secrets,
            skips,
            rows,
            out_of_order,
            step_s: default_step,
            window,
            preset: a.preset.clone().or(v.preset.clone()),
            delay_s,
            now,
            search_steps: (search / default_step as f64).round() as u32,
            threshold_s,
            threshold_given,
            out,
            force: a.force,
            emit: a.emit_scenario.clone(),
            threads: a.threads,
            name,
            watch,
        })
    }

    /// Offsets (s) the window accepts at least half the time, with the delay.
    pub fn edges(&self) -> (f64, f64) {
        window_edges(self.window, self.step_s, self.delay_s)
    }
}

/// Offsets (s) a window of (back, ahead) steps of `step` accepts at least half the time.
fn window_edges(window: (u32, u32), step: u32, delay_s: f64) -> (f64, f64) {
    let s = step as f64;
    (
        -(window.0 as f64 + 0.5) * s + delay_s,
        (window.1 as f64 + 0.5) * s + delay_s,
    )
}

/// The default step threshold: three steps, at least a minute.
fn default_threshold(step: u32) -> f64 {
    (3.0 * step as f64).max(60.0)
}

/// A time as RFC 3339 or Unix seconds (with a fraction), within the calendar's years.
fn parse_when(text: &str) -> std::result::Result<Millis, String> {
    let t = match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() => {
            let ms = (s * 1000.0).round();
            if ms < MIN_INSTANT as f64 || ms > MAX_INSTANT as f64 {
                return Err(format!("`{text}` is outside the years 0001 to 9998"));
            }
            ms as Millis
        }
        _ => parse_rfc3339(text.trim())?,
    };
    Ok(t)
}

/// Finds the step whose code is `code`, nearest `centre` first, within ±`range` steps.
fn locate(sec: &Secret, code: &str, centre: i64, range: i64) -> Option<i64> {
    let want: u32 = code.parse().ok()?;
    for k in 0..=range {
        for s in [centre + k, centre - k] {
            if s >= 0 && sec.keyed.hotp(s as u64, sec.digits) == want {
                return Some(s);
            }
            if k == 0 {
                break;
            }
        }
    }
    None
}

/// Turns a credential's codes into observations; returns the rows matching no step.
fn locate_codes(c: &mut Cred, sec: &Secret, delay_s: f64, range: i64) -> Vec<u64> {
    let Scheme::Totp { step_s, t0 } = sec.scheme else {
        return Vec::new();
    };
    let mut codes = std::mem::take(&mut c.codes);
    codes.sort_by_key(|x| x.0);
    let mut lost = Vec::new();
    let mut drift = 0i64;
    let step_ms = step_s as i64 * 1000;
    for (t, code, line) in codes {
        let server = (t - t0 * 1000).div_euclid(step_ms);
        let found = locate(sec, &code, server + drift, range).or_else(|| {
            (drift.abs() > range)
                .then(|| locate(sec, &code, server, range))
                .flatten()
        });
        match found {
            Some(m) => {
                drift = m - server;
                let lo = ((m * step_ms + t0 * 1000) - t) as f64 / 1000.0 + delay_s;
                c.obs.push(Observation {
                    t,
                    lo,
                    hi: lo + step_s as f64,
                });
            }
            None => lost.push(line),
        }
    }
    lost
}

/// One credential's figures.
struct Analysed {
    id: String,
    population: String,
    est: Estimate,
    obs: Vec<Observation>,
    /// The ppm's standard error.
    ppm_se: Option<f64>,
}

/// What an analysis leaves: the folder written, and the figures for the terminal.
pub struct AnalyzeOutcome {
    pub out: PathBuf,
    pub files: usize,
    pub data: DriftData,
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

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    Some(sorted[i] + f * (sorted.get(i + 1).copied().unwrap_or(sorted[i]) - sorted[i]))
}

fn mean_sd(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Some((m, var.sqrt()))
}

fn share(k: u64, n: u64) -> Option<Fixed<6>> {
    (n > 0).then(|| Fixed(k as f64 / n as f64))
}

/// The fleet summary of a set of credentials.
fn fleet_row(name: &str, all: &[&Analysed], now: Millis) -> FleetRow {
    let n = all.len() as u64;
    let mut ppm: Vec<f64> = all
        .iter()
        .filter_map(|a| a.est.ppm.map(|p| p.value))
        .collect();
    ppm.sort_by(f64::total_cmp);
    // The spread's mean and sd from the credentials whose ppm is known to a few ppm: a short
    // history's loose estimate says little about the fleet and would swamp both.
    let precise: Vec<&Analysed> = all
        .iter()
        .copied()
        .filter(|a| a.ppm_se.is_some_and(|s| s <= PRECISE_PPM))
        .collect();
    let ppm_precise: Vec<f64> = precise
        .iter()
        .filter_map(|a| a.est.ppm.map(|p| p.value))
        .collect();
    // Offsets now of the active credentials: a retired one's last offset is not "now".
    let mut off: Vec<f64> = all
        .iter()
        .filter(|a| now - a.obs.last().map_or(0, |o| o.t) <= INACTIVE_MS)
        .map(|a| a.est.offset_now.value)
        .filter(|v| v.is_finite())
        .collect();
    off.sort_by(f64::total_cmp);
    let noise: Vec<f64> = precise
        .iter()
        .filter_map(|a| a.ppm_se)
        .map(|s| s * s)
        .collect();
    let ppm_sd = mean_sd(&ppm_precise).map(|(_, sd)| {
        let own = if noise.is_empty() {
            0.0
        } else {
            noise.iter().sum::<f64>() / noise.len() as f64
        };
        (sd * sd - own).max(0.0).sqrt()
    });
    let active = |a: &&&Analysed| now - a.obs.last().map_or(0, |o| o.t) <= INACTIVE_MS;
    let within = |d: Millis| {
        all.iter()
            .filter(active)
            .filter(|a| matches!(a.est.exit, Exit::At { at, .. } if at - now <= d))
            .count() as u64
    };
    let out_now = all
        .iter()
        .filter(active)
        .filter(|a| a.est.exit == Exit::Out)
        .count() as u64;
    let n_active = all.iter().filter(active).count() as u64;
    let steps: Vec<f64> = all
        .iter()
        .flat_map(|a| a.est.steps.iter().map(|s| s.size_s))
        .collect();
    let years: f64 = all
        .iter()
        .map(|a| {
            (a.obs.last().map_or(0, |o| o.t) - a.obs.first().map_or(0, |o| o.t)) as f64
                / YEAR as f64
        })
        .sum();
    let hours = steps
        .iter()
        .filter(|s| {
            s.abs() >= 1800.0 && ((s.abs() / 3600.0).round() * 3600.0 - s.abs()).abs() <= 60.0
        })
        .count();
    let (l30, l90, l365) = (within(30 * DAY), within(90 * DAY), within(365 * DAY));
    FleetRow {
        population: name.into(),
        credentials: n,
        with_ppm: ppm.len() as u64,
        ppm_p10: quantile(&ppm, 0.1).map(Fixed),
        ppm_p50: quantile(&ppm, 0.5).map(Fixed),
        ppm_p90: quantile(&ppm, 0.9).map(Fixed),
        ppm_mean: mean_sd(&ppm_precise).map(|m| Fixed(m.0)),
        ppm_sd: ppm_sd.map(Fixed),
        offset_now_p10_s: quantile(&off, 0.1).map(Fixed),
        offset_now_p50_s: quantile(&off, 0.5).map(Fixed),
        offset_now_p90_s: quantile(&off, 0.9).map(Fixed),
        offset_now_sd_s: mean_sd(&off).map(|m| Fixed(m.1)),
        out_now,
        leaving_30d: l30,
        leaving_90d: l90,
        leaving_365d: l365,
        active: n_active,
        share_out_now: share(out_now, n_active),
        share_leaving_30d: share(l30, n_active),
        share_leaving_90d: share(l90, n_active),
        share_leaving_365d: share(l365, n_active),
        stepped: all.iter().filter(|a| !a.est.steps.is_empty()).count() as u64,
        steps_per_year: (years > 0.0).then(|| Fixed(steps.len() as f64 / years)),
        share_steps_whole_hours: share(hours as u64, steps.len() as u64),
    }
}

/// Symmetric windows the coverage table lists.
pub const WINDOWS: [u32; 20] = [
    0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 50, 60, 100, 125, 200, 500, 1000,
];

fn window_rows(
    name: &str,
    all: &[&Analysed],
    step: f64,
    delay_s: f64,
    now: Millis,
) -> Vec<WindowRow> {
    // Active credentials with a ppm: the others have no year ahead to judge.
    let all: Vec<&Analysed> = all
        .iter()
        .copied()
        .filter(|a| now - a.obs.last().map_or(0, |o| o.t) <= INACTIVE_MS && a.est.ppm.is_some())
        .collect();
    WINDOWS
        .iter()
        .map(|&w| {
            let (lo, hi) = (
                -(w as f64 + 0.5) * step + delay_s,
                (w as f64 + 0.5) * step + delay_s,
            );
            let year =
                |a: &&Analysed| a.est.ppm.map_or(0.0, |p| p.value) * 1e-6 * YEAR as f64 / 1000.0;
            let inside = all
                .iter()
                .filter(|a| {
                    let now = a.est.offset_now.value;
                    let later = now + year(a);
                    now.is_finite() && [now, later].iter().all(|v| (lo..=hi).contains(v))
                })
                .count() as u64;
            // Resynced now: the window is centred on today's offset and the delay.
            let after = all
                .iter()
                .filter(|a| a.est.ppm.is_some() && (lo - delay_s..=hi - delay_s).contains(&year(a)))
                .count() as u64;
            WindowRow {
                population: name.into(),
                window_steps: w,
                credentials: all.len() as u64,
                inside_1y: inside,
                share_inside_1y: share(inside, all.len() as u64),
                inside_1y_after_resync: after,
                share_inside_1y_after_resync: share(
                    after,
                    all.iter().filter(|a| a.est.ppm.is_some()).count() as u64,
                ),
            }
        })
        .collect()
}

/// The credentials the charts show: those surely leaving soonest (by the late end of the
/// exit's interval, so a loose estimate does not crowd out a sure one), then those out
/// furthest.
fn worst(all: &[Analysed], now: Millis) -> Vec<usize> {
    let mut leaving: Vec<(Millis, usize)> = all
        .iter()
        .enumerate()
        .filter(|(_, a)| now - a.obs.last().map_or(0, |o| o.t) <= INACTIVE_MS)
        .filter_map(|(i, a)| match a.est.exit {
            Exit::At {
                late: Some(late), ..
            } if a.est.slope_from == SlopeFrom::Current => Some((late, i)),
            _ => None,
        })
        .collect();
    leaving.sort();
    let mut out_now: Vec<(i64, usize)> = all
        .iter()
        .enumerate()
        .filter(|(_, a)| a.est.exit == Exit::Out && a.est.ppm.is_some())
        .map(|(i, a)| (-(a.est.offset_now.value.abs() * 1000.0) as i64, i))
        .collect();
    out_now.sort();
    leaving
        .into_iter()
        .map(|x| x.1)
        .chain(out_now.into_iter().map(|x| x.1))
        .take(6)
        .collect()
}

fn drift_row(a: &Analysed, now: Millis) -> DriftRow {
    let e = &a.est;
    let secs = |x: f64| Fixed::<3>::of(x);
    let last = a.obs.last().map_or(0, |o| o.t);
    let (status, exit, early, late) = match e.exit {
        // Not seen for a quarter: replaced, retired or lost; no advice about it.
        _ if now - last > INACTIVE_MS => ("inactive", None, None, None),
        Exit::Out => ("out_now", None, None, None),
        Exit::At { at, early, late } => ("leaving", Some(at), Some(early), late),
        Exit::NotWithin { early } => ("staying", None, early, None),
        Exit::Unknown => ("unknown", None, None, None),
    };
    DriftRow {
        credential: a.id.clone(),
        population: a.population.clone(),
        first_seen: Time(a.obs.first().map_or(0, |o| o.t)),
        last_seen: Time(a.obs.last().map_or(0, |o| o.t)),
        observations: e.observations as u64,
        outliers: e.outliers as u64,
        segments: e.segments.len() as u64,
        steps: e.steps.len() as u64,
        offset_now_s: secs(e.offset_now.value),
        offset_now_ci95_low_s: secs(e.offset_now.low),
        offset_now_ci95_high_s: secs(e.offset_now.high),
        ppm: e.ppm.and_then(|p| Fixed::of(p.value)),
        ppm_ci95_low: e.ppm.and_then(|p| Fixed::of(p.low)),
        ppm_ci95_high: e.ppm.and_then(|p| Fixed::of(p.high)),
        ppm_from: match e.slope_from {
            SlopeFrom::Current => "current",
            SlopeFrom::Earlier => "earlier",
            SlopeFrom::None => "",
        }
        .into(),
        status: status.into(),
        exit: exit.map(Time),
        exit_ci95_early: early.map(Time),
        exit_ci95_late: late.map(Time),
        days_to_exit: exit.and_then(|x| Fixed::of((x - now) as f64 / DAY as f64)),
        stepped: !e.steps.is_empty(),
        too_few_observations: e.slope_from == SlopeFrom::None,
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
                let est = analyse(&mut obs, &mine);
                let ppm_se = est.ppm_se;
                (
                    Analysed {
                        id,
                        population: c.population,
                        est,
                        obs,
                        ppm_se,
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
        return Err(Error::input(format!("{file}: nothing to analyse: {why}")));
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
        windows.extend(window_rows(p, &mine, plan.step_s as f64, plan.delay_s, now));
    }
    let every: Vec<&Analysed> = all.iter().collect();
    fleet.push(fleet_row("all", &every, now));
    windows.extend(window_rows(
        "all",
        &every,
        plan.step_s as f64,
        plan.delay_s,
        now,
    ));
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
    let manifest = DriftManifest {
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
        started_at: format_rfc3339(super::now_ms()),
        files: Vec::new(),
    };
    let mut folder = Folder::default();
    folder.add("drift.csv", write_rows(&credentials));
    folder.add("steps.csv", write_rows(&steps));
    folder.add("fleet.csv", write_rows(&fleet));
    folder.add("window.csv", write_rows(&windows));
    folder.add("drift-observations.csv", write_rows(&observations));
    let mut data = DriftData {
        manifest,
        credentials,
        steps,
        fleet,
        windows,
        observations,
    };
    let mut names: Vec<String> = folder.files.iter().map(|f| f.0.clone()).collect();
    names.extend(crate::export::drift_view_names());
    names.push("manifest.json".into());
    data.manifest.files = names;
    folder.add("manifest.json", data.manifest.to_json());
    // The report and the fitted scenario read the files as written, as a later reader would.
    let data = DriftData::from_files(&plan.out.display().to_string(), |n| folder.read(n))
        .map_err(|e| Error::failed(format!("the analysis does not read back: {e}")))?;
    for (n, b) in crate::export::drift_views(&data)? {
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
