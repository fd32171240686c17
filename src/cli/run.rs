//! `otpdrift run`'s flags, and what it prints.

use super::flags::{OutputFlags, SetFlags, SimFlags};
use super::{emit, note, Bar};
use crate::error::Result;
use crate::pipeline::run::{self, RunPlan, RunRequest, TraceSelect};
use crate::pipeline::Source;
use std::path::PathBuf;

/// The flags of `otpdrift run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML).
    #[arg(
        required_unless_present = "from_manifest",
        conflicts_with = "from_manifest"
    )]
    pub scenario: Option<PathBuf>,
    /// Rerun the scenario and seed recorded in a results folder's manifest.json.
    #[arg(long, value_name = "MANIFEST")]
    pub from_manifest: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputFlags,
    /// Override run.seed.
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub sets: SetFlags,
    #[command(flatten)]
    pub sim: SimFlags,
    /// Write the requests of about N users spread over the fleet (or `all`) to trace.csv,
    /// in the replay format.
    #[arg(long, value_name = "N|all", value_parser = TraceSelect::parse)]
    pub trace: Option<TraceSelect>,
    /// Start from the real fleet an `otpdrift analyze` folder describes: one user per analysed
    /// credential, forecast over --replicates runs (forecast.csv; docs/twin.md).
    #[arg(long, value_name = "ANALYSIS_DIR")]
    pub fleet: Option<PathBuf>,
    /// Runs of a twin with independent draws of everything uncertain (default 20).
    #[arg(long, value_name = "N")]
    pub replicates: Option<u32>,
}

impl RunArgs {
    pub fn execute(self) -> Result<()> {
        let source = match (self.scenario, self.from_manifest) {
            (Some(s), _) => Source::File(s),
            (None, Some(m)) => Source::Manifest(m),
            (None, None) => unreachable!("clap requires one"),
        };
        let plan = RunPlan::new(RunRequest {
            source,
            sets: self.sets.sets,
            mode: self.sim.mode,
            seed: self.seed,
            output: self.output.into(),
            threads: self.sim.threads,
            yes: self.sim.yes,
            trace: self.trace.unwrap_or_default(),
            shard: self.sim.shard,
            fleet: self.fleet,
            replicates: self.replicates,
        })?;
        if !plan.input.scenario.sweep.is_empty() {
            note("note: `run` simulates the scenario as written; its [sweep] part is run by `otpdrift sweep`\n");
        }
        let outcome = run::execute(&plan, &Bar::new())?;
        emit(&format!("{}\n", outcome.summary_text()))
    }
}
