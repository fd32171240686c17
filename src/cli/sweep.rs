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
    /// Sweep a twin of the real fleet an `otpdrift analyze` folder describes: each setting's
    /// forecast per credential, compared with the first setting's (changes.csv; docs/twin.md).
    #[arg(long, value_name = "ANALYSIS_DIR", conflicts_with = "targets")]
    pub fleet: Option<PathBuf>,
    /// Runs of the twin per setting (default 20; only with --fleet).
    #[arg(long, value_name = "N", requires = "fleet")]
    pub replicates: Option<u32>,
}

impl SweepArgs {
    pub fn execute(self) -> Result<()> {
        let request = SweepRequest {
            source: Source::File(self.scenario),
            sets: self.sets.sets,
            mode: self.sim.mode,
            targets: self.targets,
            output: self.output.into(),
            threads: self.sim.threads,
            yes: self.sim.yes,
            shard: self.sim.shard,
        };
        if let Some(dir) = &self.fleet {
            let plan = crate::pipeline::twin_sweep::SweepPlan::new(request, dir, self.replicates)?;
            let t = crate::pipeline::twin_sweep::sweep(&plan, &Bar::new())?;
            let mut text = String::new();
            for r in t.settings.iter().filter(|r| {
                r.population == "all" || plan.sweep.input.scenario.populations.len() == 1
            }) {
                text.push_str(&format!(
                    "setting {} ({}): {} broken in week 1, {:.1} tickets expected, {} changed\n",
                    r.setting, r.label, r.broken_week1, r.expected_tickets.0, r.changed
                ));
            }
            text.push_str(&format!("wrote {}", plan.sweep.out.display()));
            return emit(&format!("{text}\n"));
        }
        let plan = SweepPlan::new(request)?;
        let outcome = sweep::execute(&plan, &Bar::new())?;
        emit(&format!("{}\n", outcome.summary_text()))
    }
}
