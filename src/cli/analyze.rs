//! `otpdrift analyze`'s flags, and what it prints.

use super::flags::OutputFlags;
use super::{emit, note};
use crate::error::Result;
use crate::pipeline::analyze::{self, AnalyzePlan, AnalyzeRequest};
use std::path::PathBuf;

/// The flags of `otpdrift analyze`.
#[derive(clap::Args, Debug)]
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
    /// Leave out rows after this time (the log as it stood then; also the default --now).
    #[arg(long)]
    pub until: Option<String>,
    /// Map a column of the log onto a documented name, e.g. --column credential=serial (repeatable).
    #[arg(long = "column", value_name = "KEY=NAME")]
    pub columns: Vec<String>,
    /// How far from the expected step a code is searched for (default 1d).
    #[arg(long)]
    pub search: Option<String>,
    /// A jump larger than this between observations is a clock step (default 3 steps, at least 60s).
    #[arg(long)]
    pub step_threshold: Option<String>,
    #[command(flatten)]
    pub output: OutputFlags,
    /// Also write a scenario whose clocks are fitted to the log (--force replaces it too).
    #[arg(long, value_name = "FILE")]
    pub emit_scenario: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

impl AnalyzeArgs {
    pub fn execute(self) -> Result<()> {
        let plan = AnalyzePlan::new(AnalyzeRequest {
            log: self.log,
            secrets: self.secrets,
            preset: self.preset,
            window_back: self.window_back,
            window_ahead: self.window_ahead,
            step: self.step,
            delay: self.delay,
            now: self.now,
            until: self.until,
            columns: self.columns,
            search: self.search,
            step_threshold: self.step_threshold,
            output: self.output.into(),
            emit_scenario: self.emit_scenario,
            threads: self.threads,
        })?;
        let outcome = analyze::execute(plan)?;
        note(&outcome.skipped_text());
        emit(&format!("{}\n", outcome.summary_text()))
    }
}
