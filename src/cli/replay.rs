//! `otpdrift replay`'s flags, and what it prints.

use super::flags::SetFlags;
use super::{emit, note};
use crate::error::Result;
use crate::pipeline::replay::{self, ReplayPlan, ReplayRequest};
use crate::pipeline::Output;
use std::path::PathBuf;

/// The flags of `otpdrift replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The attempt log (CSV; see docs/replay.md).
    pub attempts: PathBuf,
    /// The credentials' secrets (CSV or PSKC).
    #[arg(long)]
    pub secrets: PathBuf,
    /// A validator preset (default rfc6238).
    #[arg(long)]
    pub preset: Option<String>,
    /// A TOML file with a [validator] table (e.g. trace-validator.toml).
    #[arg(long)]
    pub validator: Option<PathBuf>,
    #[command(flatten)]
    pub sets: SetFlags,
    /// Write the decisions here (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long)]
    pub force: bool,
    /// The server's clock was stepped back: a credential's attempt may carry an earlier time
    /// than the one before it (the rows stay in the order the server saw them).
    #[arg(long)]
    pub clock_steps_back: bool,
}

impl ReplayArgs {
    pub fn execute(self) -> Result<()> {
        let plan = ReplayPlan::new(ReplayRequest {
            attempts: self.attempts,
            secrets: self.secrets,
            preset: self.preset,
            validator: self.validator,
            sets: self.sets.sets,
            output: Output {
                out: self.out,
                force: self.force,
            },
            clock_steps_back: self.clock_steps_back,
        })?;
        let outcome = replay::execute(&plan)?;
        if plan.out.is_none() {
            emit(&String::from_utf8_lossy(&outcome.csv))?;
        }
        note(&outcome.summary_text(&plan.attempts_file));
        Ok(())
    }
}
