//! The exporters that read loaded results rather than the simulation: charts and report.md of a
//! run (from [`RunData`]) and of a sweep (from [`SweepData`]), and sweep.csv itself.

use super::{Exporter, Folder, ManifestJson};
use crate::chart::{self, Figure, Format};
use crate::error::{Error, Result};
use crate::results::{Manifest, RunData, SweepData, SweepTable};

/// The run figures, as PNG, SVG or both; the second field: a twin run's forecast chart too.
pub struct Charts(pub Format, pub bool);

impl Exporter<RunData> for Charts {
    fn file_names(&self) -> Vec<String> {
        Figure::of(self.1)
            .iter()
            .flat_map(|f| {
                self.0
                    .extensions()
                    .into_iter()
                    .map(move |x| format!("{}.{x}", f.stem()))
            })
            .collect()
    }

    fn render(&self, d: &RunData, out: &mut Folder) -> Result<()> {
        for (name, bytes) in chart::render_all(d, self.0)
            .map_err(|e| Error::failed(format!("drawing charts: {e}")))?
        {
            out.add(name, bytes);
        }
        Ok(())
    }
}

/// report.md of a run; it links the PNG charts, or the SVG ones when only those are drawn.
pub struct Report(pub Format);

impl Exporter<RunData> for Report {
    fn file_names(&self) -> Vec<String> {
        vec!["report.md".into()]
    }

    fn render(&self, d: &RunData, out: &mut Folder) -> Result<()> {
        out.add(
            "report.md",
            crate::report::render(d, self.0 != Format::Svg).into_bytes(),
        );
        Ok(())
    }
}

/// sweep.csv.
pub struct SweepCsv;

impl Exporter<SweepTable> for SweepCsv {
    fn file_names(&self) -> Vec<String> {
        vec!["sweep.csv".into()]
    }

    fn render(&self, t: &SweepTable, out: &mut Folder) -> Result<()> {
        out.add("sweep.csv", t.to_csv());
        Ok(())
    }
}

/// The trade-off and parameter charts of a sweep, PNG and SVG.
pub struct SweepCharts;

impl Exporter<SweepData> for SweepCharts {
    fn file_names(&self) -> Vec<String> {
        chart::sweep::SWEEP_FIGURES
            .iter()
            .flat_map(|(stem, _)| [format!("{stem}.png"), format!("{stem}.svg")])
            .collect()
    }

    fn render(&self, d: &SweepData, out: &mut Folder) -> Result<()> {
        for (name, bytes) in chart::sweep::render_sweep(d)
            .map_err(|e| Error::failed(format!("drawing charts: {e}")))?
        {
            out.add(name, bytes);
        }
        Ok(())
    }
}

/// report.md of a sweep.
pub struct SweepReport;

impl Exporter<SweepData> for SweepReport {
    fn file_names(&self) -> Vec<String> {
        vec!["report.md".into()]
    }

    fn render(&self, d: &SweepData, out: &mut Folder) -> Result<()> {
        out.add("report.md", crate::report::render_sweep(d).into_bytes());
        Ok(())
    }
}

impl Exporter<Manifest> for ManifestJson {
    fn file_names(&self) -> Vec<String> {
        vec!["manifest.json".into()]
    }

    fn render(&self, m: &Manifest, out: &mut Folder) -> Result<()> {
        out.add("manifest.json", m.to_json());
        Ok(())
    }
}
