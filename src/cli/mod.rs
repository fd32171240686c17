//! The command line: raw flags (clap, one file per command, shared groups in `flags`) -> a
//! pipeline's request -> its checked plan -> the pipeline -> what it prints, and the progress
//! bar. The only home of clap; no simulation, export or chart logic lives here.

use crate::error::Result;
use crate::pipeline::Progress;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

mod analyze;
mod check;
mod code;
mod flags;
mod merge;
mod plot;
mod probe;
mod replay;
mod run;
mod sweep;

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
    Replay(replay::ReplayArgs),
    /// Estimate each credential's clock drift from a log or a trace; predict window exits.
    Analyze(analyze::AnalyzeArgs),
    /// Validate a scenario, print it with every default filled in and estimate the work.
    Check(check::CheckArgs),
    /// List the validator presets with their parameters and sources (`--table`: one line each).
    Presets(PresetsArgs),
    /// Run every setting of the scenario's [sweep] on the same fleet; write sweep.csv, charts
    /// and a recommendation.
    Sweep(sweep::SweepArgs),
    /// Redraw the charts and report.md of a results folder from its CSV and manifest.
    Plot(plot::PlotArgs),
    /// Print the one-time code of a secret at a time (TOTP) or counter (HOTP).
    Code(code::CodeArgs),
    /// Measure a validator's rules (window, replay rule, drift learning, lockout) with test
    /// credentials; write validator.toml, the attempts and report.md.
    Probe(probe::ProbeArgs),
}

#[derive(clap::Args, Debug)]
pub struct PresetsArgs {
    /// One line per preset: window in steps and seconds, code lifetime, drift learning, replay
    /// rule, lockout, resync and the NIST SP 800-63B verdict.
    #[arg(long)]
    pub table: bool,
}

/// The command line of this process, parsed; a bad one exits here with clap's message and
/// status 2.
pub fn parse() -> Cli {
    Cli::parse()
}

/// Runs a parsed command line.
pub fn main_with(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(a) => a.execute(),
        Command::Merge(a) => a.execute(),
        Command::Replay(a) => a.execute(),
        Command::Analyze(a) => a.execute(),
        Command::Check(a) => a.execute(),
        Command::Presets(a) => emit(&if a.table {
            crate::pipeline::presets::table()
        } else {
            crate::pipeline::presets::text()
        }),
        Command::Sweep(a) => a.execute(),
        Command::Plot(a) => a.execute(),
        Command::Code(a) => a.execute(),
        Command::Probe(a) => a.execute(),
    }
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
