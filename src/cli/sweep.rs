//! `otpdrift sweep`'s flags, and what it prints.

use super::flags::{OutputFlags, SetFlags, SimFlags};
use super::{emit, Bar};
use crate::error::Result;
use crate::pipeline::sweep::{self, SweepPlan, SweepRequest, Target};
use crate::pipeline::Source;
use std::path::PathBuf;

/// The flags of `otpdrift sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario file (TOML) with a [sweep] part.
    pub scenario: PathBuf,
    #[command(flatten)]
    pub output: OutputFlags,
    #[command(flatten)]
    pub sets: SetFlags,
    #[command(flatten)]
    pub sim: SimFlags,
    /// Keep settings whose `all` row meets this, e.g. first_try_acceptance>=0.995 (repeatable).
    #[arg(long = "target", value_name = "COLUMN>=VALUE", value_parser = Target::parse)]
    pub targets: Vec<Target>,
}

impl SweepArgs {
    pub fn execute(self) -> Result<()> {
        let plan = SweepPlan::new(SweepRequest {
            source: Source::File(self.scenario),
            sets: self.sets.sets,
            mode: self.sim.mode,
            targets: self.targets,
            output: self.output.into(),
            threads: self.sim.threads,
            yes: self.sim.yes,
            shard: self.sim.shard,
        })?;
        let outcome = sweep::execute(&plan, &Bar::new())?;
        emit(&format!("{}\n", outcome.summary_text()))
    }
}
