//! The files of a drift analysis (`otpdrift analyze`, docs/analyze.md): per-credential
//! estimates, clock steps, the fleet summary, window coverage, the charted credentials'
//! observations and the manifest; and the folder loaded back for its charts and report.

use super::cells::{Fixed, Rate, Secs, Time};
use super::table::{read_rows, FileError};
use serde::{Deserialize, Serialize};

/// drift.csv: one row per credential.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DriftRow {
    pub credential: String,
    pub population: String,
    pub first_seen: Time,
    pub last_seen: Time,
    /// Observations used in the fits.
    pub observations: u64,
    /// Observations set aside (a code matched by chance, a reading no segment agrees with).
    pub outliers: u64,
    pub segments: u64,
    pub steps: u64,
    pub offset_now_s: Option<Secs>,
    pub offset_now_ci95_low_s: Option<Secs>,
    pub offset_now_ci95_high_s: Option<Secs>,
    pub ppm: Option<Fixed<3>>,
    pub ppm_ci95_low: Option<Fixed<3>>,
    pub ppm_ci95_high: Option<Fixed<3>>,
    /// `current` (the current segment's fit), `earlier` (a short current segment with the
    /// slope of the latest earlier one) or empty (no slope).
    pub ppm_from: String,
    /// `out_now`, `leaving` (an exit date within 100 years), `staying` (none within them), `unknown` (no slope) or `inactive` (not seen for 90 days before now).
    pub status: String,
    pub exit: Option<Time>,
    pub exit_ci95_early: Option<Time>,
    /// Empty: not within the horizon.
    pub exit_ci95_late: Option<Time>,
    pub days_to_exit: Option<Fixed<1>>,
    pub stepped: bool,
    pub too_few_observations: bool,
    /// Observations per day between the first and the last (empty: under a day of them).
    pub logins_per_day: Option<Fixed<3>>,
    /// Observations in each UTC hour 0..23, space-separated (the twin's login hours).
    pub hours_utc: String,
    /// The last sync the log shows (a trace's `sync` rows) and the step offset of its codes:
    /// the drift a validator that learns by sync had then.
    pub last_sync: Option<Time>,
    pub last_sync_steps: Option<i64>,
}

/// steps.csv: one row per detected clock step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepRow {
    pub credential: String,
    pub population: String,
    /// The last observation before the step and the first after it.
    pub not_before: Time,
    pub not_after: Time,
    pub size_s: Secs,
}

/// fleet.csv: one row per population, then `all`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetRow {
    pub population: String,
    pub credentials: u64,
    pub with_ppm: u64,
    pub ppm_p10: Option<Fixed<3>>,
    pub ppm_p50: Option<Fixed<3>>,
    pub ppm_p90: Option<Fixed<3>>,
    pub ppm_mean: Option<Fixed<3>>,
    /// The spread of the clocks' ppm with the estimates' own noise taken out.
    pub ppm_sd: Option<Fixed<3>>,
    /// Offsets now of the active credentials (seen within 90 days).
    pub offset_now_p10_s: Option<Secs>,
    pub offset_now_p50_s: Option<Secs>,
    pub offset_now_p90_s: Option<Secs>,
    pub offset_now_sd_s: Option<Secs>,
    /// Credentials seen within 90 days of now: the base of the counts and shares below.
    pub active: u64,
    pub out_now: u64,
    pub leaving_30d: u64,
    pub leaving_90d: u64,
    pub leaving_365d: u64,
    pub share_out_now: Option<Rate>,
    pub share_leaving_30d: Option<Rate>,
    pub share_leaving_90d: Option<Rate>,
    pub share_leaving_365d: Option<Rate>,
    pub stepped: u64,
    /// Steps per credential-year of observation.
    pub steps_per_year: Option<Fixed<4>>,
    /// Share of steps that are whole hours (±60 s): time-zone and DST mistakes.
    pub share_steps_whole_hours: Option<Rate>,
}

/// window.csv (active credentials with a ppm): how many a symmetric window of ±`window_steps` would keep
/// inside for the next year, by the fitted lines (no drift learning, centred at zero offset).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowRow {
    pub population: String,
    pub window_steps: u32,
    pub credentials: u64,
    pub inside_1y: u64,
    pub share_inside_1y: Option<Rate>,
    /// The same if every credential were resynced now (the window centred on its offset):
    /// what a year of drift alone needs. Base: the credentials with a ppm.
    pub inside_1y_after_resync: u64,
    pub share_inside_1y_after_resync: Option<Rate>,
}

/// drift-observations.csv: the observations of the credentials the charts show, with the
/// segment each was fitted in (empty for an outlier) and the fit there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObservationRow {
    pub credential: String,
    pub time: Time,
    pub low_s: Secs,
    pub high_s: Secs,
    pub segment: Option<u64>,
    pub fit_s: Option<Secs>,
}

/// Rows skipped while reading, by reason.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub reason: String,
    pub rows: u64,
    /// The first such row: `file:line`, and what was wrong with it.
    pub first: String,
}

/// manifest.json of an analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeManifest {
    pub tool: String,
    pub version: String,
    pub command: String,
    /// The files read, with their SHA-256.
    pub inputs: Vec<(String, String)>,
    /// `observations` (offsets) or `codes` (codes and secrets, or a run's trace).
    pub input_kind: String,
    pub step_s: u32,
    pub window_back: u32,
    pub window_ahead: u32,
    /// The window preset named, if any.
    pub preset: Option<String>,
    /// Time from reading a code to the server, added to code observations (`--delay`).
    pub delay_s: f64,
    /// Offsets (s) accepted at least half the time: [−(back+½)·step, (ahead+½)·step] + delay.
    pub edges_s: (f64, f64),
    pub now: String,
    pub search_steps: u32,
    pub step_threshold_s: f64,
    pub rows: u64,
    pub rows_used: u64,
    /// Rows earlier than the row before them for the same credential (sorted, and used).
    pub rows_out_of_order: u64,
    pub skipped: Vec<Skipped>,
    pub credentials: u64,
    pub wall_seconds: f64,
    pub rows_per_second: f64,
    pub threads: usize,
    pub started_at: String,
    pub files: Vec<String>,
}

impl AnalyzeManifest {
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("the manifest serializes");
        out.push(b'\n');
        out
    }
}

pub(super) fn rows<R: serde::de::DeserializeOwned + Serialize + Default>(
    file: &str,
    bytes: &[u8],
) -> Result<Vec<R>, FileError> {
    let mut out = Vec::new();
    read_rows(file, bytes, Some(0), |_, _, r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// An analysis folder loaded back: what its charts and report read.
#[derive(Clone, Debug, Default)]
pub struct AnalyzeData {
    pub manifest: AnalyzeManifest,
    pub credentials: Vec<DriftRow>,
    pub steps: Vec<StepRow>,
    pub fleet: Vec<FleetRow>,
    pub windows: Vec<WindowRow>,
    pub observations: Vec<ObservationRow>,
}

/// The files [`AnalyzeData`] reads.
pub const DRIFT_INPUTS: [&str; 6] = [
    "manifest.json",
    "drift.csv",
    "steps.csv",
    "fleet.csv",
    "window.csv",
    "drift-observations.csv",
];

impl AnalyzeData {
    /// Loads the files through `read` (a folder in memory or on disk).
    pub fn from_files(
        dir: &str,
        read: impl Fn(&str) -> Result<Vec<u8>, String>,
    ) -> Result<AnalyzeData, FileError> {
        let get =
            |name: &str| read(name).map_err(|e| FileError::new(&format!("{dir}/{name}"), 0, 0, e));
        let path = |name: &str| format!("{dir}/{name}");
        let manifest: AnalyzeManifest =
            serde_json::from_slice(&get("manifest.json")?).map_err(|e| {
                FileError::new(
                    &path("manifest.json"),
                    e.line() as u64,
                    e.column(),
                    e.to_string(),
                )
            })?;
        Ok(AnalyzeData {
            manifest,
            credentials: rows(&path("drift.csv"), &get("drift.csv")?)?,
            steps: rows(&path("steps.csv"), &get("steps.csv")?)?,
            fleet: rows(&path("fleet.csv"), &get("fleet.csv")?)?,
            windows: rows(&path("window.csv"), &get("window.csv")?)?,
            observations: rows(
                &path("drift-observations.csv"),
                &get("drift-observations.csv")?,
            )?,
        })
    }
}
