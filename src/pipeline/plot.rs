//! `otpdrift plot`: redraw a run folder's charts and report.md from its CSV and manifest alone.
//! The folder is loaded and checked first; nothing is written unless all of it reads.

use crate::chart::Format;
use crate::error::Result;
use crate::export::{self, Charts, Exporter, Folder, Report};
use crate::results::RunData;
use std::path::{Path, PathBuf};

/// A checked `plot`: the folder and the formats to draw.
#[derive(Clone, Debug)]
pub struct PlotPlan {
    pub dir: PathBuf,
    pub format: Format,
}

/// The files `plot` would write for loaded results.
pub fn render(data: &RunData, format: Format) -> Result<Folder> {
    let views: [&dyn Exporter<RunData>; 2] = [&Charts(format), &Report(format)];
    let mut folder = Folder::default();
    export::render_all(&views, data, &mut folder)?;
    Ok(folder)
}

/// Loads, draws and replaces the charts and report; returns the number of files written.
pub fn execute(plan: &PlotPlan) -> Result<usize> {
    let data = load(&plan.dir)?;
    let folder = render(&data, plan.format)?;
    export::write_into(&plan.dir, &folder)?;
    Ok(folder.len())
}

/// A run folder, loaded and checked.
pub fn load(dir: &Path) -> Result<RunData> {
    Ok(RunData::load(dir)?)
}
