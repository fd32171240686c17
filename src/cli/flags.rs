//! Flag groups several commands share, declared once and flattened into each.

use crate::pipeline::run::Shard;
use crate::pipeline::Output;
use crate::scenario::Override;
use std::path::PathBuf;

/// Where results go.
#[derive(clap::Args, Debug)]
pub struct OutputFlags {
    /// Results folder (default: results/<run.name>, or results/analyze-<log name>; a folder
    /// that holds results gets the next free name, -2, -3, ...).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing results folder.
    #[arg(long)]
    pub force: bool,
}

impl From<OutputFlags> for Output {
    fn from(f: OutputFlags) -> Output {
        Output {
            out: f.out,
            force: f.force,
        }
    }
}

/// Field overrides.
#[derive(clap::Args, Debug)]
pub struct SetFlags {
    /// Override a scenario field, e.g. --set validator.window.back=2 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = Override::parse)]
    pub sets: Vec<Override>,
}

/// How a simulation runs: the flags `run` and `sweep` share.
#[derive(clap::Args, Debug)]
pub struct SimFlags {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run even when the estimated memory exceeds what the machine has available.
    #[arg(long)]
    pub yes: bool,
    /// How codes are decided: `exact` (HMAC on both sides) or `fast` (step arithmetic, chance
    /// collisions drawn); the same as --set run.decide=MODE.
    #[arg(long, value_name = "exact|fast")]
    pub mode: Option<String>,
    /// Run only the K-th of N equal shares of the work (token ranges of a run, settings of a
    /// sweep); combine the N folders with `otpdrift merge`.
    #[arg(long, value_name = "K/N", value_parser = shard)]
    pub shard: Option<Shard>,
}

/// `--shard K/N`, with the message clap prefixes with the flag's name.
fn shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text).map_err(|e| e.to_string().trim_start_matches("--shard: ").to_string())
}
