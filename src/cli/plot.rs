//! `otpdrift plot`'s flags, and what it prints.

use super::emit;
use crate::chart::Format;
use crate::error::Result;
use crate::pipeline::plot::{self, PlotPlan, PlotRequest};
use std::path::PathBuf;

/// The flags of `otpdrift plot`.
#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// A results folder written by `otpdrift run`.
    pub results: PathBuf,
    /// Which chart files to draw.
    #[arg(long, default_value = "both", value_parser = Format::parse)]
    pub format: Format,
}

impl PlotArgs {
    pub fn execute(self) -> Result<()> {
        let plan = PlotPlan::new(PlotRequest {
            dir: self.results,
            format: self.format,
        })?;
        let n = plot::execute(&plan)?;
        emit(&format!("redrew {n} files in {}\n", plan.dir.display()))
    }
}
