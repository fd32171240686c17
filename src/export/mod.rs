//! Writing results: every file of a results folder comes from an [`Exporter`] (CSV tables,
//! manifest, charts, report), is gathered in a [`Folder`] in memory, and the folder is written
//! into a temporary sibling and renamed into place, so it is never half-written.

pub mod analyze;
mod csv;
pub mod probe;
mod views;

pub use self::csv::{
    AggregatesJson, ForecastCsv, LifetimeCsv, NodesCsv, SummaryCsv, TimeseriesCsv, TokensCsv,
    Trace, TwinSweepCsv,
};
pub use analyze::{analyze_view_names, analyze_views, fitted_scenario};
pub use views::{Charts, Report, SweepCharts, SweepCsv, SweepReport};

use crate::error::{Error, Result};
use crate::results::Manifest;
use crate::scenario::Scenario;
use crate::sim::RunResult;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What a run's exporters read: the simulation's result and the run's facts.
pub struct RunContext<'a> {
    pub scenario: &'a Scenario,
    pub result: &'a RunResult,
    pub manifest: &'a Manifest,
    /// A twin run's forecast (`run --fleet`).
    pub forecast: Option<&'a crate::results::forecast::Forecast>,
}

/// One producer of files in a results folder, reading a context `C` (a run's result, the
/// loaded results, a sweep's table).
pub trait Exporter<C: ?Sized> {
    /// The files it writes, known before rendering so the manifest can list them.
    fn file_names(&self) -> Vec<String>;
    fn render(&self, ctx: &C, out: &mut Folder) -> Result<()>;
}

/// Renders every exporter into `out`, in order.
pub fn render_all<C: ?Sized>(
    exporters: &[&dyn Exporter<C>],
    ctx: &C,
    out: &mut Folder,
) -> Result<()> {
    exporters.iter().try_for_each(|e| e.render(ctx, out))
}

/// The file names of exporters, in order.
pub fn file_names<C: ?Sized>(exporters: &[&dyn Exporter<C>]) -> Vec<String> {
    exporters.iter().flat_map(|e| e.file_names()).collect()
}

/// manifest.json.
pub struct ManifestJson;

impl Exporter<RunContext<'_>> for ManifestJson {
    fn file_names(&self) -> Vec<String> {
        vec!["manifest.json".into()]
    }

    fn render(&self, ctx: &RunContext, out: &mut Folder) -> Result<()> {
        out.add("manifest.json", ctx.manifest.to_json());
        Ok(())
    }
}

/// The files of a results folder, built in memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Folder {
    pub files: Vec<(String, Vec<u8>)>,
}

impl Folder {
    pub fn add(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.files.push((name.into(), bytes));
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.0 == name)
            .map(|f| f.1.as_slice())
    }

    /// A file's bytes, for loading the folder back before it is written.
    pub fn read(&self, name: &str) -> std::result::Result<Vec<u8>, String> {
        self.get(name)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("{name} was not rendered"))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[derive(Debug)]
pub enum OutputError {
    /// The folder exists, is not empty, and `--force` was not given.
    Exists(PathBuf),
    /// The path cannot be a results folder (the current folder, a file).
    Unusable(PathBuf, &'static str),
    Io(PathBuf, io::Error),
    /// Another writer took the folder while this one ran; these results were kept beside it.
    Taken {
        dir: PathBuf,
        kept: PathBuf,
    },
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
            OutputError::Unusable(p, why) => write!(
                f,
                "{}: {why}; give a new folder name, e.g. --out results/run1",
                p.display()
            ),
            OutputError::Taken { dir, kept } => write!(
                f,
                "{} was written by another process while this one ran, so it was left alone; \
                 this run's results are complete in {}",
                dir.display(),
                kept.display()
            ),
        }
    }
}

impl std::error::Error for OutputError {}

/// A folder in the way or unusable is the user's to fix (exit status 2); a failed write is not.
impl From<OutputError> for Error {
    fn from(e: OutputError) -> Error {
        match e {
            OutputError::Exists(_) | OutputError::Unusable(..) => Error::Input(e.to_string()),
            OutputError::Io(..) | OutputError::Taken { .. } => Error::Failed(e.to_string()),
        }
    }
}

/// Writes one file through a temporary sibling and a rename, so readers never see half of it.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> std::result::Result<(), OutputError> {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", mark()));
    fs::write(&tmp, bytes).map_err(|e| OutputError::Io(tmp.clone(), e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        OutputError::Io(path.to_path_buf(), e)
    })
}

/// Fails when `dir` holds anything and replacing it was not asked for.
pub fn check_writable(dir: &Path, force: bool) -> std::result::Result<(), OutputError> {
    if dir.file_name().is_none() {
        return Err(OutputError::Unusable(
            dir.to_path_buf(),
            "a results folder is replaced whole, and this one cannot be",
        ));
    }
    if dir.is_file() {
        return Err(OutputError::Unusable(
            dir.to_path_buf(),
            "is a file, not a results folder",
        ));
    }
    match fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            // Replacing removes the whole folder: only ever one otpdrift wrote.
            Some(_) if !dir.join("manifest.json").is_file() => Err(OutputError::Unusable(
                dir.to_path_buf(),
                "holds files that are not otpdrift results (no manifest.json), and --force replaces only a results folder",
            )),
            Some(_) if !force => Err(OutputError::Exists(dir.to_path_buf())),
            Some(_) => Ok(()),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(OutputError::Unusable(
            dir.to_path_buf(),
            "is a file, not a results folder",
        )),
        Err(e) => Err(OutputError::Io(dir.to_path_buf(), e)),
    }
}

/// Folders being written now: (temporary folder, and once the old folder is moved aside,
/// (old, target)), so an interrupted process can put things back (`abandon_in_flight`).
type InFlight = (PathBuf, Option<(PathBuf, PathBuf)>);
static IN_FLIGHT: std::sync::Mutex<Vec<InFlight>> = std::sync::Mutex::new(Vec::new());

fn in_flight(f: impl FnOnce(&mut Vec<InFlight>)) {
    if let Ok(mut v) = IN_FLIGHT.lock() {
        f(&mut v);
    }
}

/// Undoes every folder write under way: removes its temporary folder and, if the old folder
/// was already moved aside, moves it back. For a process stopped by a signal.
pub fn abandon_in_flight() {
    in_flight(|v| {
        for (tmp, old) in v.drain(..) {
            let _ = fs::remove_dir_all(&tmp);
            if let Some((old, dir)) = old {
                if !dir.exists() {
                    let _ = fs::rename(&old, &dir);
                }
            }
        }
    });
}

/// This host's name as it goes into temporary names (letters, digits, `.` and `_`).
fn host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let h = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let h: String = h
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if h.is_empty() {
            "localhost".into()
        } else {
            h
        }
    })
}

/// This process's mark in temporary names: host and pid. Shards of one run on many machines
/// write into one shared folder; a pid alone would let one machine take another's live
/// writer (whose pid it does not have) for a dead one and delete its folder.
fn mark() -> String {
    format!("{}-{}", host(), std::process::id())
}

/// Removes the temporary folders of earlier writes on this host whose process is gone (killed
/// between creating and renaming them). Only where /proc tells which processes live.
fn remove_stale(parent: &Path, _name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    // Any name's: a killed run's half-written folder is removed, and a folder it had moved
    // aside to replace is put back when nothing took its place.
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix('.') else {
            continue;
        };
        for (tag, old) in [(".tmp-", false), (".old-", true)] {
            let Some((target, owner)) = rest.rsplit_once(tag) else {
                continue;
            };
            // Another host's writer may be alive: its pid means nothing here.
            let Some((h, pid)) = owner.rsplit_once('-') else {
                continue;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            if h != host() {
                continue;
            }
            if pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
                continue;
            }
            let home = parent.join(target);
            if old && !home.exists() {
                let _ = fs::rename(e.path(), &home);
            } else {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Replaces some files of an existing folder (`plot`), each atomically.
pub fn write_into(dir: &Path, folder: &Folder) -> std::result::Result<(), OutputError> {
    folder
        .files
        .iter()
        .try_for_each(|(name, bytes)| write_file_atomic(&dir.join(name), bytes))
}

/// Writes `folder` as the folder `dir`: into a hidden temporary sibling first, then renamed into
/// place (replacing an existing folder only when `force`).
pub fn write_folder(
    dir: &Path,
    force: bool,
    folder: &Folder,
) -> std::result::Result<(), OutputError> {
    Staged::begin(dir, force)?.finish(folder)
}

/// A results folder being written: a hidden temporary sibling that files can be streamed into
/// (`path`) while the run goes on, then renamed into place by `finish`. Dropped unfinished, the
/// temporary folder is removed.
pub struct Staged {
    dir: PathBuf,
    force: bool,
    tmp: PathBuf,
    parent: PathBuf,
    name: String,
    done: bool,
}

impl Staged {
    pub fn begin(dir: &Path, force: bool) -> std::result::Result<Staged, OutputError> {
        check_writable(dir, force)?;
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name = dir
            .file_name()
            .map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
        fs::create_dir_all(&parent).map_err(|e| OutputError::Io(parent.clone(), e))?;
        remove_stale(&parent, &name);
        let tmp = parent.join(format!(".{name}.tmp-{}", mark()));
        let _ = fs::remove_dir_all(&tmp);
        in_flight(|v| v.push((tmp.clone(), None)));
        let staged = Staged {
            dir: dir.to_path_buf(),
            force,
            tmp,
            parent,
            name,
            done: false,
        };
        fs::create_dir(&staged.tmp).map_err(|e| OutputError::Io(staged.tmp.clone(), e))?;
        Ok(staged)
    }

    /// Where a streamed file of the folder is written until `finish`.
    pub fn path(&self, file: &str) -> PathBuf {
        self.tmp.join(file)
    }

    /// Writes the in-memory files and renames the folder into place.
    pub fn finish(mut self, folder: &Folder) -> std::result::Result<(), OutputError> {
        self.done = true;
        let result = write_through(
            &self.dir,
            self.force,
            &self.tmp,
            &self.parent,
            &self.name,
            &folder.files,
        );
        in_flight(|v| v.retain(|f| f.0 != self.tmp));
        result
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
            in_flight(|v| v.retain(|f| f.0 != self.tmp));
        }
    }
}

/// The steps of [`write_folder`] once the temporary folder exists and is registered.
fn write_through(
    dir: &Path,
    force: bool,
    tmp: &Path,
    parent: &Path,
    name: &str,
    files: &[(String, Vec<u8>)],
) -> std::result::Result<(), OutputError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| OutputError::Io(p, e)
    };
    let written = (|| {
        for (file, bytes) in files {
            let p = tmp.join(file);
            fs::write(&p, bytes).map_err(io_err(&p))?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_dir_all(tmp);
        return Err(e);
    }
    // Checked again at the end: another run may have written the folder since `begin` (two
    // runs of one scenario get the same default folder). Without --force it is not replaced,
    // and nothing is ever replaced that is not a results folder; these results are kept under
    // the next free name instead of being lost.
    if let Err(e) = check_writable(dir, force) {
        let kept = (2..1000)
            .map(|n| parent.join(format!("{name}-{n}")))
            .find(|p| !p.exists());
        if let Some(kept) = kept.filter(|k| fs::rename(tmp, k).is_ok()) {
            return Err(OutputError::Taken {
                dir: dir.to_path_buf(),
                kept,
            });
        }
        let _ = fs::remove_dir_all(tmp);
        return Err(e);
    }
    let old = parent.join(format!(".{name}.old-{}", mark()));
    let had_old = dir.exists();
    if had_old {
        fs::rename(dir, &old).map_err(|e| {
            let _ = fs::remove_dir_all(tmp);
            OutputError::Io(dir.to_path_buf(), e)
        })?;
        in_flight(|v| {
            for f in v.iter_mut().filter(|f| f.0 == tmp) {
                f.1 = Some((old.clone(), dir.to_path_buf()));
            }
        });
    }
    if let Err(e) = fs::rename(tmp, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(tmp);
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
    fn a_folder_written_by_another_run_meanwhile_is_not_replaced() {
        let base = std::env::temp_dir().join(format!("otpdrift-taken-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let dir = base.join("r");
        let folder = Folder {
            files: vec![
                ("a.csv".into(), b"mine\n".to_vec()),
                ("manifest.json".into(), b"{}".to_vec()),
            ],
        };
        // This run starts; another finishes first in the same folder.
        let staged = Staged::begin(&dir, false).unwrap();
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("manifest.json"), b"{}").unwrap();
        fs::write(dir.join("a.csv"), b"theirs\n").unwrap();
        let e = staged.finish(&folder).unwrap_err();
        let OutputError::Taken { kept, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(kept, &base.join("r-2"));
        assert_eq!(fs::read(dir.join("a.csv")).unwrap(), b"theirs\n");
        assert_eq!(fs::read(kept.join("a.csv")).unwrap(), b"mine\n");
        // With --force a results folder is replaced, as asked.
        let staged = Staged::begin(&dir, true).unwrap();
        staged.finish(&folder).unwrap();
        assert_eq!(fs::read(dir.join("a.csv")).unwrap(), b"mine\n");
        // A folder that stopped being results meanwhile is never replaced, even with --force.
        let staged = Staged::begin(&dir, true).unwrap();
        fs::remove_file(dir.join("manifest.json")).unwrap();
        let e = staged.finish(&folder).unwrap_err();
        assert!(matches!(e, OutputError::Taken { .. }), "{e}");
        assert_eq!(fs::read(dir.join("a.csv")).unwrap(), b"mine\n");
        assert!(base.join("r-3").join("manifest.json").is_file());
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn folder_is_written_whole_and_not_overwritten_without_force() {
        let base = std::env::temp_dir().join(format!("otpdrift-export-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let dir = base.join("r");
        let one = |name: &str, b: &[u8]| Folder {
            files: vec![
                (name.into(), b.to_vec()),
                ("manifest.json".into(), b"{}".to_vec()),
            ],
        };
        write_folder(&dir, false, &one("a.csv", b"1\n")).unwrap();
        assert_eq!(fs::read(dir.join("a.csv")).unwrap(), b"1\n");
        let e = write_folder(&dir, false, &one("a.csv", b"2\n")).unwrap_err();
        assert!(matches!(e, OutputError::Exists(_)));
        assert_eq!(fs::read(dir.join("a.csv")).unwrap(), b"1\n");
        write_folder(&dir, true, &one("b.csv", b"3\n")).unwrap();
        assert!(!dir.join("a.csv").exists());
        // A folder otpdrift did not write is never replaced, even with force.
        let other = base.join("mine");
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("notes.txt"), b"keep").unwrap();
        let e = write_folder(&other, true, &one("a.csv", b"1\n")).unwrap_err();
        assert!(matches!(e, OutputError::Unusable(..)), "{e}");
        assert_eq!(fs::read(other.join("notes.txt")).unwrap(), b"keep");
        fs::remove_dir_all(&other).unwrap();
        assert_eq!(fs::read(dir.join("b.csv")).unwrap(), b"3\n");
        let leftovers: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("r")]);
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn stale_folders_of_dead_writers_on_this_host_go_and_other_hosts_stay() {
        let base = std::env::temp_dir().join(format!("otpdrift-stale-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        // Pid 4194304 is above Linux's pid_max: never alive.
        let dead_here = base.join(format!(".a.tmp-{}-4194304", host()));
        let other_host = base.join(".b.tmp-node17-4194304");
        let alive_here = base.join(format!(".c.tmp-{}", mark()));
        for d in [&dead_here, &other_host, &alive_here] {
            fs::create_dir_all(d).unwrap();
        }
        remove_stale(&base, "x");
        assert!(!dead_here.exists());
        assert!(
            other_host.exists(),
            "another host's writer may still be running"
        );
        assert!(alive_here.exists());
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn an_interrupted_write_is_undone() {
        let base = std::env::temp_dir().join(format!("otpdrift-abandon-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let (dir, tmp, old) = (base.join("r"), base.join(".r.tmp-1"), base.join(".r.old-1"));
        // Stopped between moving the old folder aside and renaming the new one into place.
        fs::create_dir_all(&tmp).unwrap();
        fs::write(tmp.join("half.csv"), "half").unwrap();
        fs::create_dir_all(&old).unwrap();
        fs::write(old.join("summary.csv"), "earlier").unwrap();
        in_flight(|v| v.push((tmp.clone(), Some((old.clone(), dir.clone())))));
        abandon_in_flight();
        assert!(!tmp.exists());
        assert_eq!(
            fs::read_to_string(dir.join("summary.csv")).unwrap(),
            "earlier"
        );
        let names: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("r")]);
        fs::remove_dir_all(&base).unwrap();
    }
}
