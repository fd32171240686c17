//! The command line: raw flags (clap) -> a checked plan -> a pipeline -> what it prints, and the
//! progress bar. No simulation, export or chart logic lives here.

use crate::chart::Format;
use crate::error::Result;
use crate::otp::Algorithm;
use crate::pipeline::{
    self, analyze, check, code::CodePlan, merge, plot::PlotPlan, replay, run, run::RunPlan, sweep,
    sweep::SweepPlan, Progress, ScenarioInput,
};
use crate::scenario::Override;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "otpdrift",
    version,
    about = "Simulate fleets of one-time-code tokens with drifting clocks against validator models"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate a scenario and write results/<name>/ (CSV, charts, report.md, manifest).
    Run(run::RunArgs),
    /// Combine the folders of `run --shard K/N` (or `sweep --shard K/N`) into one results folder.
    Merge(merge::MergeArgs),
    /// Decide a log of attempts with a validator configuration and compare with `expected`.
    Replay {
        /// The attempt log (CSV; see docs/replay.md).
        attempts: PathBuf,
        /// The credentials' secrets (CSV).
        #[arg(long)]
        secrets: PathBuf,
        /// A validator preset (default rfc6238).
        #[arg(long)]
        preset: Option<String>,
        /// A TOML file with a [validator] table (e.g. trace-validator.toml).
        #[arg(long)]
        validator: Option<PathBuf>,
        /// Override a validator field, e.g. --set validator.window.back=2 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = Override::parse)]
        sets: Vec<Override>,
        /// Write the decisions here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing --out file.
        #[arg(long)]
        force: bool,
    },
    /// Estimate each credential's clock drift from a log or a trace; predict window exits.
    Analyze(analyze::AnalyzeArgs),
    /// Validate a scenario, print it with every default filled in and estimate the work.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Override a scenario field, e.g. --set run.tokens=500 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = Override::parse)]
        sets: Vec<Override>,
    },
    /// List the validator presets with their parameters and sources.
    Presets,
    /// Run every setting of the scenario's [sweep] on the same fleet; write sweep.csv, charts
    /// and a recommendation.
    Sweep(sweep::SweepArgs),
    /// Redraw the charts and report.md of a results folder from its CSV and manifest.
    Plot {
        /// A results folder written by `otpdrift run`.
        results: PathBuf,
        /// Which chart files to draw.
        #[arg(long, default_value = "both", value_parser = Format::parse)]
        format: Format,
    },
    /// Print the one-time code of a secret at a time (TOTP) or counter (HOTP).
    Code {
        /// The shared secret in base32.
        #[arg(long)]
        secret: String,
        /// RFC 3339 time or Unix seconds (default: now).
        #[arg(long, conflicts_with = "counter")]
        time: Option<String>,
        /// HOTP counter instead of a time.
        #[arg(long)]
        counter: Option<u64>,
        /// Digits of the code, 1 to 9 (RFC 4226 asks for 6 to 8), as in a scenario's token.
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9))]
        digits: u32,
        /// TOTP time step in seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
        step: u32,
        /// TOTP epoch T0 in Unix seconds.
        #[arg(long, default_value_t = 0)]
        t0: i64,
        /// HMAC hash: sha1, sha256 or sha512.
        #[arg(long, default_value = "sha1", value_parser = parse_algorithm)]
        algorithm: Algorithm,
    },
}

fn parse_algorithm(s: &str) -> std::result::Result<Algorithm, String> {
    Algorithm::parse(s).ok_or_else(|| format!("expected one of {}", Algorithm::NAMES))
}

/// Runs a parsed command line.
pub fn main_with(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => {
            let plan = RunPlan::from_args(args)?;
            if !plan.input.scenario.sweep.is_empty() {
                note("note: `run` simulates the scenario as written; its [sweep] part is run by `otpdrift sweep`\n");
            }
            let outcome = pipeline::run::execute(&plan, &Bar::new())?;
            emit(&format!("{}\n", outcome.summary_text()))?;
        }
        Command::Merge(args) => emit(&format!("{}\n", merge::execute(&args, &Bar::new())?))?,
        Command::Replay {
            attempts,
            secrets,
            preset,
            validator,
            sets,
            out,
            force,
        } => {
            let v = replay::validator_from(validator.as_deref(), preset.as_deref(), &sets)?;
            let plan = replay::plan(&attempts, &secrets, v, out, force)?;
            let outcome = replay::execute(&plan)?;
            if plan.out.is_none() {
                emit(&String::from_utf8_lossy(&outcome.csv))?;
            }
            note(&outcome.summary_text(&plan.attempts_file));
        }
        Command::Analyze(args) => {
            let outcome = analyze::execute(analyze::AnalyzePlan::new(&args)?)?;
            note(&outcome.skipped_text());
            emit(&format!("{}\n", outcome.summary_text()))?;
        }
        Command::Check { scenario, sets } => {
            emit(&check::execute(&ScenarioInput::load(&scenario, &sets)?)?)?;
        }
        Command::Presets => emit(&pipeline::presets::text())?,
        Command::Sweep(args) => {
            let plan = SweepPlan::from_args(args)?;
            let outcome = pipeline::sweep::execute(&plan, &Bar::new())?;
            emit(&format!("{}\n", outcome.summary_text()))?;
        }
        Command::Plot { results, format } => {
            let n = pipeline::plot::execute(&PlotPlan {
                dir: results.clone(),
                format,
            })?;
            emit(&format!("redrew {n} files in {}\n", results.display()))?;
        }
        Command::Code {
            secret,
            time,
            counter,
            digits,
            step,
            t0,
            algorithm,
        } => {
            let plan = CodePlan::new(
                &secret,
                time.as_deref(),
                counter,
                pipeline::now_ms(),
                (digits, step, t0),
                algorithm,
            )?;
            emit(&format!("{}\n", plan.code()))?;
        }
    }
    Ok(())
}

/// Writes to standard output. A reader that closed the pipe early (`| head`) is not an
/// error: the work is done, the rest of the text is simply not wanted.
fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(crate::error::Error::failed(
            format!("cannot write to standard output: {e}"),
        )),
        _ => Ok(()),
    }
}

/// Writes to standard error; a closed or full stderr loses the note, not the run.
fn note(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// A progress bar with an ETA on stderr, drawn only when stderr is a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Bar {
        Bar(if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        })
    }
}

impl Progress for Bar {
    fn start(&self, total: u64, what: &str) {
        self.0.set_length(total);
        self.0.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} tokens ({percent}%), {elapsed} elapsed, ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        self.0.set_message(what.to_string());
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
