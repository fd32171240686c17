//! `otpdrift check`'s flags, and what it prints.

use super::emit;
use super::flags::SetFlags;
use crate::error::Result;
use crate::pipeline::check::{self, CheckPlan, CheckRequest};
use std::path::PathBuf;

/// The flags of `otpdrift check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub sets: SetFlags,
}

impl CheckArgs {
    pub fn execute(self) -> Result<()> {
        let plan = CheckPlan::new(CheckRequest {
            scenario: self.scenario,
            sets: self.sets.sets,
        })?;
        emit(&check::execute(&plan)?)
    }
}
