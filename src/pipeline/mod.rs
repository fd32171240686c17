//! The commands' pipelines: each module owns one command's whole job, from a checked plan to
//! the files written and the facts the terminal shows. Every pipeline is entered the same way:
//! the face fills a plain `*Request` (what the user asked, no clap here), `*Plan::new` reads and
//! checks it, and `execute` does the work and returns what to print; nothing here touches the
//! terminal except through [`Progress`].

pub mod analyze;
pub mod check;
pub mod code;
pub mod merge;
pub mod plot;
pub mod presets;
pub mod probe;
pub mod replay;
pub mod run;
pub mod sweep;
pub mod twin;
pub mod twin_sweep;

/// Undoes any results folder being written: for the face's signal handler.
pub use crate::export::abandon_in_flight;

use crate::error::{Error, Result};
use crate::otp::{Algorithm, Keyed};
use crate::scenario::{Override, Scenario};
use crate::time::Millis;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Where a pipeline reports how far it got (the CLI draws a bar; tests ignore it).
pub trait Progress: Sync {
    /// Work of `total` tokens begins.
    fn start(&self, total: u64, what: &str);
    /// `n` more tokens are done; called from worker threads.
    fn advance(&self, n: u64);
    fn finish(&self);
}

/// Progress that goes nowhere.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: u64, _: &str) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Where a command writes: `--out` (None: the command's default name) and whether an existing
/// result may be replaced (`--force`).
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub out: Option<std::path::PathBuf>,
    pub force: bool,
}

/// Where a simulation's scenario comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A scenario file (TOML).
    File(std::path::PathBuf),
    /// The scenario a `run`'s manifest.json recorded (`run --from-manifest`).
    Manifest(std::path::PathBuf),
    /// A scenario already read (library callers, benches).
    Input(Box<ScenarioInput>),
}

impl Source {
    /// The scenario with `sets` (and `--mode`) applied, and the shard a manifest recorded.
    fn load(
        self,
        mut sets: Vec<Override>,
        mode: Option<&str>,
    ) -> Result<(ScenarioInput, Option<String>)> {
        if let Some(m) = mode {
            sets.push(mode_override(m)?);
        }
        match self {
            Source::File(p) => Ok((ScenarioInput::load(&p, &sets)?, None)),
            Source::Manifest(p) => ScenarioInput::from_manifest(&p, &sets),
            Source::Input(i) if sets.is_empty() => Ok((*i, None)),
            Source::Input(i) => {
                let all = [i.sets, sets].concat();
                Ok((ScenarioInput::from_text(&i.file, i.text, &all)?, None))
            }
        }
    }
}

/// A scenario file as read, and the scenario with its `--set` overrides applied: the input of
/// run, check and sweep.
#[derive(Clone, Debug)]
pub struct ScenarioInput {
    /// The file's name as the user gave it.
    pub file: String,
    /// The file's text as written.
    pub text: String,
    pub sets: Vec<Override>,
    pub scenario: Scenario,
}

/// The largest scenario file read.
const LIMIT: u64 = 16 << 20;

impl ScenarioInput {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path, sets: &[Override]) -> Result<ScenarioInput> {
        let file = path.display().to_string();
        // A scenario is a few kilobytes: a larger file (or /dev/zero) is not one.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| {
                std::io::Read::read_to_end(&mut std::io::Read::take(f, LIMIT + 1), &mut bytes)
            })
            .map_err(|e| Error::input(format!("cannot read scenario {file}: {e}")))?;
        if bytes.len() as u64 > LIMIT {
            return Err(Error::input(format!(
                "{file}: expected a scenario file of at most 16 MB, found a larger file"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let col = String::from_utf8_lossy(&good[start..]).chars().count() + 1;
            Error::input(format!(
                "{file}:{line}:{col}: expected UTF-8 text, found the byte 0x{:02x}",
                e.as_bytes()[good.len()]
            ))
        })?;
        ScenarioInput::from_text(&file, text, sets)
    }

    /// The scenario recorded in a `run`'s manifest.json (resolved, seed included), and the
    /// shard it ran (`K/N`), if any. Refused when the manifest is not a run's, or when this
    /// build's random streams differ from the ones that wrote it (the same scenario and seed
    /// would give other results).
    pub fn from_manifest(
        path: &Path,
        sets: &[Override],
    ) -> Result<(ScenarioInput, Option<String>)> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| Error::input(format!("cannot read manifest {file}: {e}")))?;
        let m = crate::results::read_manifest(&file, &bytes)?;
        let shard = match &m.facts {
            crate::results::Facts::Run(f) if m.command == "run" => f.shard.clone(),
            _ => {
                return Err(Error::input(format!(
                    "{file}: written by `otpdrift {}`; --from-manifest reruns a `run`'s manifest",
                    m.command
                )))
            }
        };
        if m.random_streams != crate::rng::STREAMS {
            return Err(Error::input(format!(
                "{file}: written with random-stream generation {}, and this otpdrift {} is generation {}: the same scenario and seed give other results here; rerun it with the otpdrift that wrote it",
                m.random_streams,
                env!("CARGO_PKG_VERSION"),
                crate::rng::STREAMS
            )));
        }
        let text = toml::to_string(&m.scenario)
            .map_err(|e| Error::input(format!("{file}: the recorded scenario: {e}")))?;
        let input = ScenarioInput::from_text(&format!("{file}#scenario"), text, sets)?;
        Ok((input, shard))
    }

    /// Checks a scenario's text.
    pub fn from_text(file: &str, text: String, sets: &[Override]) -> Result<ScenarioInput> {
        let scenario = Scenario::from_toml_with(file, &text, sets)?;
        Ok(ScenarioInput {
            file: file.to_string(),
            text,
            sets: sets.to_vec(),
            scenario,
        })
    }

    /// The text with the `--set`s written in, from which sweep settings are built.
    pub fn text_with_sets(&self) -> Result<String> {
        if self.sets.is_empty() {
            return Ok(self.text.clone());
        }
        crate::scenario::overrides::apply(&self.text, &self.sets).map_err(Error::input)
    }

    /// SHA-256 of the file as written, in hex.
    pub fn sha256(&self) -> String {
        Sha256::digest(self.text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Where a command writes without `--out`: `results/<name>`, or, when that already holds
/// results, the first free `results/<name>-2`, `-3`, ... so that rerunning a command never
/// fails and never overwrites (an explicit `--out` is refused instead). With `--force` it is
/// `results/<name>`, replaced.
pub fn default_out(name: &str, force: bool) -> std::path::PathBuf {
    let base = Path::new("results").join(name);
    let free = |p: &Path| crate::export::check_writable(p, false).is_ok();
    if force || free(&base) {
        return base;
    }
    // Bounded: when nothing under results/ can be written (a file named `results`, a name the
    // file system refuses), the first name is returned and its writer says why.
    (2..1000)
        .map(|n| Path::new("results").join(format!("{name}-{n}")))
        .find(|p| free(p))
        .unwrap_or(base)
}

/// `--threads`, checked, or every core.
pub fn worker_threads(threads: Option<usize>) -> Result<usize> {
    let cores = check::default_threads();
    let threads = threads.unwrap_or(cores);
    let most = (cores * 4).max(64);
    if threads == 0 || threads > most {
        return Err(Error::input(format!(
            "--threads: expected 1 to {most} (this machine has {cores} cores), found {threads}"
        )));
    }
    Ok(threads)
}

/// The worker pool: `threads` or every core.
pub fn thread_pool(threads: Option<usize>) -> Result<(usize, rayon::ThreadPool)> {
    let threads = worker_threads(threads)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::failed(format!("cannot start {threads} threads: {e}")))?;
    Ok((threads, pool))
}

/// When a command's work started: the wall-clock instant for the manifest and a monotonic
/// clock for its duration.
pub struct Stopwatch {
    started_at: Millis,
    t0: Instant,
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch {
            started_at: now_ms(),
            t0: Instant::now(),
        }
    }

    /// Seconds since the start.
    pub fn seconds(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }
}

/// The manifest of a command that simulated `attempts` attempts over `wall` seconds
/// (measured by `watch` up to the end of the simulation), with its own `facts`.
fn manifest(
    command: &str,
    input: &ScenarioInput,
    threads: usize,
    (watch, wall): (&Stopwatch, f64),
    (attempts, hmacs): (u64, u64),
    facts: crate::results::Facts,
) -> crate::results::Manifest {
    crate::results::Manifest {
        tool: "otpdrift".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        random_streams: crate::rng::STREAMS,
        command: command.into(),
        scenario_path: input.file.clone(),
        scenario_sha256: input.sha256(),
        seed: input.scenario.run.seed,
        threads,
        started_at: crate::time::format_rfc3339(watch.started_at),
        finished_at: crate::time::format_rfc3339(now_ms()),
        wall_seconds: (wall * 1000.0).round() / 1000.0,
        attempts,
        attempts_per_second: (attempts as f64 / wall.max(1e-9)).round(),
        hmacs,
        facts,
        files: Vec::new(),
        scenario: crate::scenario::resolved(&input.scenario),
    }
}

/// `--mode MODE` as the override it stands for, `run.decide=MODE`.
pub fn mode_override(mode: &str) -> Result<Override> {
    if mode != "exact" && mode != "fast" {
        return Err(Error::input(format!(
            "--mode: expected exact or fast, found `{mode}`"
        )));
    }
    Override::parse(&format!("run.decide={mode}")).map_err(|e| Error::input(format!("--mode: {e}")))
}

/// The wall clock now, in milliseconds since the epoch.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// Raw HMAC-SHA1 codes timed between the simulation's chunks, on the threads that simulate:
/// the raw rate is measured at the same moments and under the same load as the attempts, not
/// in a separate phase after them (which also cost a fixed 0.2 s).
pub struct Calibration {
    key: Keyed,
    codes: AtomicU64,
    nanos: AtomicU64,
}

impl Default for Calibration {
    fn default() -> Calibration {
        Calibration {
            key: Keyed::new(Algorithm::Sha1, b"12345678901234567890"),
            codes: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
        }
    }
}

impl Calibration {
    /// Codes per sample: about 20 µs, a fraction of a percent of a chunk of tokens.
    const PER_SAMPLE: u64 = 128;

    /// Times one batch of raw codes on the calling thread.
    pub fn sample(&self) {
        let base = self.codes.fetch_add(Self::PER_SAMPLE, Ordering::Relaxed);
        let t = Instant::now();
        let mut sink = 0u32;
        for i in 0..Self::PER_SAMPLE {
            sink ^= self.key.hotp(base + i, 6);
        }
        std::hint::black_box(sink);
        self.nanos
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// Thread-seconds spent on calibration (to take out of the simulation's time).
    pub fn seconds(&self) -> f64 {
        self.nanos.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// Raw codes per second on one thread; a short measurement now if nothing was sampled.
    pub fn codes_per_second(&self) -> f64 {
        let n = self.codes.load(Ordering::Relaxed);
        if n < 1024 {
            for _ in 0..(1024 - n).div_ceil(Self::PER_SAMPLE) {
                self.sample();
            }
        }
        self.codes.load(Ordering::Relaxed) as f64 / self.seconds().max(1e-9)
    }

    /// One simulated attempt's cost in raw codes: thread-seconds simulating per attempt times
    /// the raw rate. Threads beyond the cores wait for one, so at most a core's worth of each
    /// wall second counts as busy.
    pub fn codes_per_attempt(&self, attempts: u64, wall: f64, threads: usize) -> f64 {
        let rate = self.codes_per_second();
        let running = threads.min(check::default_threads()) as f64;
        let busy = (wall * running - self.seconds()).max(1e-9);
        rate * busy / attempts.max(1) as f64
    }
}

/// Raw HMAC-SHA1 6-digit codes per second on this thread, over about `secs` seconds.
pub fn hmac_codes_per_second(secs: f64) -> f64 {
    let k = Keyed::new(Algorithm::Sha1, b"12345678901234567890");
    let start = Instant::now();
    let mut n = 0u64;
    let mut sink = 0u32;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..1000 {
            sink ^= k.hotp(n, 6);
            n += 1;
        }
    }
    std::hint::black_box(sink);
    n as f64 / start.elapsed().as_secs_f64()
}

/// A rate as a percentage with two decimals, or `-`.
pub fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), crate::results::cells::percent)
}
