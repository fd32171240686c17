//! Writing results: one exporter per file format behind [`Exporter`], and the results folder
//! written into a temporary sibling and renamed into place, so it is never half-written.

mod csv;
mod manifest;
pub mod report;

pub use self::csv::{kaplan_meier, LifetimeCsv, SummaryCsv, TimeseriesCsv, TokensCsv};
pub use manifest::{Manifest, ManifestJson};

use crate::scenario::Scenario;
use crate::sim::RunResult;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What exporters read.
pub struct ExportContext<'a> {
    pub scenario: &'a Scenario,
    pub result: &'a RunResult,
    pub manifest: &'a Manifest,
}

/// One output file.
pub trait Exporter {
    fn file_name(&self) -> &'static str;
    fn render(&self, ctx: &ExportContext) -> io::Result<Vec<u8>>;
}

/// The exporters of a run, in the order their files are written.
pub fn run_exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(SummaryCsv),
        Box::new(TimeseriesCsv),
        Box::new(LifetimeCsv),
        Box::new(TokensCsv),
        Box::new(ManifestJson),
    ]
}

#[derive(Debug)]
pub enum OutputError {
    /// The folder exists, is not empty, and `--force` was not given.
    Exists(PathBuf),
    Io(PathBuf, io::Error),
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputError::Exists(p) => write!(
                f,
                "{} already holds results; pass --force to replace them or --out to write elsewhere",
                p.display()
            ),
            OutputError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for OutputError {}

/// Writes one file through a temporary sibling and a rename, so readers never see half of it.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| OutputError::Io(tmp.clone(), e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        OutputError::Io(path.to_path_buf(), e)
    })
}

/// Fails when `dir` holds anything and replacing it was not asked for.
pub fn check_writable(dir: &Path, force: bool) -> Result<(), OutputError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            Some(_) if !force => Err(OutputError::Exists(dir.to_path_buf())),
            _ => Ok(()),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            Err(OutputError::Exists(dir.to_path_buf()))
        }
        Err(e) => Err(OutputError::Io(dir.to_path_buf(), e)),
    }
}

/// Writes `files` as the folder `dir`: into a hidden temporary sibling first, then renamed into
/// place (replacing an existing folder only when `force`).
pub fn write_folder(
    dir: &Path,
    force: bool,
    files: &[(String, Vec<u8>)],
) -> Result<(), OutputError> {
    check_writable(dir, force)?;
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dir
        .file_name()
        .map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| OutputError::Io(p, e)
    };
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir(&tmp).map_err(io_err(&tmp))?;
    let written = (|| {
        for (file, bytes) in files {
            let p = tmp.join(file);
            fs::write(&p, bytes).map_err(io_err(&p))?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let had_old = dir.exists();
    if had_old {
        fs::rename(dir, &old).map_err(io_err(dir))?;
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(OutputError::Io(dir.to_path_buf(), e));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_is_written_whole_and_not_overwritten_without_force() {
        let base = std::env::temp_dir().join(format!("otpdrift-export-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let dir = base.join("r");
        write_folder(&dir, false, &[("a.csv".into(), b"1\n".to_vec())]).unwrap();
        assert_eq!(fs::read(dir.join("a.csv")).unwrap(), b"1\n");
        let e = write_folder(&dir, false, &[("a.csv".into(), b"2\n".to_vec())]).unwrap_err();
        assert!(matches!(e, OutputError::Exists(_)));
        assert_eq!(fs::read(dir.join("a.csv")).unwrap(), b"1\n");
        write_folder(&dir, true, &[("b.csv".into(), b"3\n".to_vec())]).unwrap();
        assert!(!dir.join("a.csv").exists());
        assert_eq!(fs::read(dir.join("b.csv")).unwrap(), b"3\n");
        let leftovers: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("r")]);
        fs::remove_dir_all(&base).unwrap();
    }
}
