//! `otpdrift merge`'s flags, and what it prints.

use super::flags::OutputFlags;
use super::{emit, Bar};
use crate::error::Result;
use crate::pipeline::merge::{self, MergePlan, MergeRequest};
use std::path::PathBuf;

/// The flags of `otpdrift merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The shard folders, in any order: all N of one `run --shard K/N` (or `sweep --shard`).
    #[arg(required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputFlags,
}

impl MergeArgs {
    pub fn execute(self) -> Result<()> {
        let plan = MergePlan::new(MergeRequest {
            shards: self.shards,
            output: self.output.into(),
        })?;
        emit(&format!("{}\n", merge::execute(&plan, &Bar::new())?))
    }
}
