//! `otpdrift plot`: redraw a run folder's charts and report.md from its CSV and manifest alone.
//! The folder is loaded and checked first; nothing is written unless all of it reads.

use crate::chart::Format;
use crate::error::Result;
use crate::export::{self, Charts, Exporter, Folder, Report};
use crate::results::RunData;
use std::path::PathBuf;

/// What the user asked of `plot`.
#[derive(Clone, Debug)]
pub struct PlotRequest {
    /// A results folder written by `run`.
    pub dir: PathBuf,
    pub format: Format,
}

/// A checked `plot`: the folder, loaded and checked, and the formats to draw.
pub struct PlotPlan {
    pub dir: PathBuf,
    pub format: Format,
    data: RunData,
}

impl PlotPlan {
    /// Loads the folder; refused unless all of it reads.
    pub fn new(r: PlotRequest) -> Result<PlotPlan> {
        Ok(PlotPlan {
            data: RunData::load(&r.dir)?,
            dir: r.dir,
            format: r.format,
        })
    }
}

/// The files `plot` would write for loaded results.
pub fn render(data: &RunData, format: Format) -> Result<Folder> {
    let views: [&dyn Exporter<RunData>; 2] =
        [&Charts(format, data.forecast.is_some()), &Report(format)];
    let mut folder = Folder::default();
    export::render_all(&views, data, &mut folder)?;
    Ok(folder)
}

/// Draws and replaces the charts and report; returns the number of files written.
pub fn execute(plan: &PlotPlan) -> Result<usize> {
    let folder = render(&plan.data, plan.format)?;
    export::write_into(&plan.dir, &folder)?;
    Ok(folder.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::run::{execute as run, RunPlan, RunRequest};
    use crate::pipeline::{Output, ScenarioInput, Silent, Source};
    use std::fs;
    use std::path::Path;

    fn plot_of(dir: &Path, format: Format) -> Result<usize> {
        execute(&PlotPlan::new(PlotRequest {
            dir: dir.to_path_buf(),
            format,
        })?)
    }

    const SMALL: &str = "[run]\nname = \"p\"\nhorizon = \"90d\"\ntokens = 30\nseed = 2\n\
        [[population]]\nname = \"hard\"\nshare = 0.6\ntoken = { kind = \"hardware\" }\n\
        [[population]]\nname = \"phone\"\nshare = 0.4\ntoken = { kind = \"phone\" }\n";

    /// A fresh run folder under the temp dir, and a snapshot of its files.
    fn folder(tag: &str) -> (PathBuf, Vec<(String, Vec<u8>)>) {
        let base = std::env::temp_dir().join(format!("otpdrift-plot-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let input = ScenarioInput::from_text("p.toml", SMALL.to_string(), &[]).unwrap();
        let dir = base.join("p");
        run(
            &RunPlan::new(RunRequest {
                output: Output {
                    out: Some(dir.clone()),
                    force: false,
                },
                threads: Some(1),
                ..RunRequest::new(Source::Input(Box::new(input)))
            })
            .unwrap(),
            &Silent,
        )
        .unwrap();
        (dir.clone(), snapshot(&dir))
    }

    fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn plot_redraws_the_run_byte_for_byte() {
        let (dir, before) = folder("same");
        let n = plot_of(&dir, Format::Both).unwrap();
        assert_eq!(n, 13, "six charts in two formats and the report");
        assert_eq!(snapshot(&dir), before);
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_damaged_folder_is_refused_with_a_position_and_nothing_is_written() {
        let (dir, _) = folder("damaged");
        let edit = |file: &str, f: &dyn Fn(&str) -> String| {
            let p = dir.join(file);
            let text = fs::read_to_string(&p).unwrap();
            fs::write(&p, f(&text)).unwrap();
        };
        let plot = || plot_of(&dir, Format::Both);
        let d = dir.display();
        // A cell that is not a number.
        edit("summary.csv", &|t| {
            let mut lines: Vec<String> = t.lines().map(String::from).collect();
            let mut cells: Vec<&str> = lines[2].split(',').collect();
            cells[3] = "abc";
            lines[2] = cells.join(",");
            lines.join("\n") + "\n"
        });
        let before = snapshot(&dir);
        let e = plot().unwrap_err();
        assert_eq!(e.status(), 2);
        assert_eq!(
            e.to_string(),
            format!("{d}/summary.csv:3:4: column `attempts`: expected a whole number, found `abc`")
        );
        assert_eq!(snapshot(&dir), before, "nothing is written");
        // Cut to its header.
        edit("summary.csv", &|t| {
            t.lines().next().unwrap().to_string() + "\n"
        });
        assert_eq!(
            plot().unwrap_err().to_string(),
            format!("{d}/summary.csv: expected 3 rows (the scenario's populations, then `all`), found 0")
        );
        // An empty timeseries.csv.
        fs::write(dir.join("timeseries.csv"), "").unwrap();
        fs::write(
            dir.join("summary.csv"),
            &before.iter().find(|f| f.0 == "summary.csv").unwrap().1,
        )
        .unwrap();
        let e = plot().unwrap_err().to_string();
        assert!(e.starts_with(&format!("{d}/summary.csv:3:4:")), "{e}");
        let (dir2, _) = folder("empty-ts");
        fs::write(dir2.join("timeseries.csv"), "").unwrap();
        let before = snapshot(&dir2);
        let e = plot_of(&dir2, Format::Both).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}/timeseries.csv:1: expected a header line starting `bucket_start`, found an empty file",
                dir2.display()
            )
        );
        assert_eq!(snapshot(&dir2), before);
        // Rows out of order: the first bucket's `all` row moved to the end.
        let (dir3, _) = folder("order");
        let p = dir3.join("lifetime.csv");
        let text = fs::read_to_string(&p).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let all = lines.remove(3);
        lines.push(all);
        fs::write(&p, lines.join("\n") + "\n").unwrap();
        let e = plot_of(&dir3, Format::Svg).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "{}/lifetime.csv:4:1: column `bucket_start`: expected `2026-01-01T00:00:00Z` (one row per bucket and population",
                dir3.display()
            )),
            "{e}"
        );
        for d in [dir, dir2, dir3] {
            fs::remove_dir_all(d.parent().unwrap()).unwrap();
        }
    }
}
