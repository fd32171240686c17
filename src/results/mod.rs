//! Every file the tool writes and reads, as typed rows: column names are the rows' serde field
//! names, defined once here and used by the exporters that write them and by `plot`, the
//! charts, the report and the sweep choice that read them back. Loading a results folder checks
//! its shape and reports problems at file:line:column.

pub mod analyze;
pub mod cells;
pub mod forecast;
mod manifest;
pub mod probe;
pub mod pskc;
pub mod replay;
mod run;
pub mod sweep;
mod table;

pub use manifest::{Facts, FleetFacts, Manifest, RunFacts, SweepFacts};
pub use run::{
    Aggregates, CountCells, LifetimeRow, NodeRow, OffsetCells, SummaryRow, TimeseriesRow, TokenRow,
};
pub use sweep::{SweepData, SweepLine, SweepRow, SweepTable};
pub use table::{columns, read_rows, FileError, Lines, Writer};

use crate::metrics::Buckets;
use crate::scenario::Scenario;
use crate::time::{format_rfc3339, Millis};
use std::path::Path;

/// The files of a run's results folder that [`RunData`] reads.
pub const RUN_INPUTS: [&str; 5] = [
    "manifest.json",
    "summary.csv",
    "timeseries.csv",
    "lifetime.csv",
    "aggregates.json",
];

/// A run's results as written, loaded back and checked: what charts and the report read, so
/// `otpdrift plot` draws exactly what the run drew.
#[derive(Clone, Debug)]
pub struct RunData {
    pub manifest: Manifest,
    pub scenario: Scenario,
    /// Population names in order, then "all".
    pub names: Vec<String>,
    /// Bucket (start, end).
    pub buckets: Vec<(Millis, Millis)>,
    /// Per name: its summary row.
    pub summary: Vec<SummaryRow>,
    /// Per name: its timeseries rows in bucket order.
    pub timeseries: Vec<Vec<TimeseriesRow>>,
    /// Per name: its lifetime rows in bucket order.
    pub lifetime: Vec<Vec<LifetimeRow>>,
    /// Per population: absolute clock error of TOTP credentials in use at the end (aggregates.json).
    pub final_offsets: Vec<crate::metrics::OffsetHist>,
    /// Per population and bucket: absolute clock error at login (aggregates.json), for shares
    /// over spans longer than a bucket.
    pub offsets: Vec<Vec<crate::metrics::OffsetHist>>,
    /// Per population: a cluster's user attempts by bucket and node, bucket-major
    /// (aggregates.json; empty without a cluster).
    pub nodes: Vec<Vec<crate::metrics::NodeCounts>>,
    /// A twin run's forecast (`run --fleet`; None for any other run).
    pub forecast: Option<forecast::Forecast>,
}

/// Reads the manifest of a results folder.
pub fn read_manifest(file: &str, bytes: &[u8]) -> Result<Manifest, FileError> {
    serde_json::from_slice(bytes).map_err(|e| {
        FileError::new(
            file,
            e.line() as u64,
            e.column(),
            format!(
                "expected a manifest otpdrift wrote, found {}",
                e.to_string()
                    .replace("struct Manifest", "a JSON object")
                    .replace("sequence", "an array")
                    .replace("map", "an object")
            ),
        )
    })
}

/// The scenario a manifest recorded, checked again.
pub fn recorded_scenario(file: &str, manifest: &Manifest) -> Result<Scenario, FileError> {
    let text = toml::to_string(&manifest.scenario)
        .map_err(|e| FileError::new(file, 0, 0, e.to_string()))?;
    Scenario::from_toml("manifest.json#scenario", &text).map_err(|e| {
        FileError::new(
            file,
            0,
            0,
            format!("the recorded scenario is not valid: {e}"),
        )
    })
}

impl RunData {
    /// Loads from the files' contents. `origin` prefixes file names in messages (a folder path
    /// and a slash, or nothing).
    pub fn from_files(
        origin: &str,
        get: impl Fn(&str) -> Result<Vec<u8>, String>,
    ) -> Result<RunData, FileError> {
        let name = |f: &str| format!("{origin}{f}");
        let read = |f: &str| get(f).map_err(|e| FileError::new(&name(f), 0, 0, e));
        let manifest = read_manifest(&name("manifest.json"), &read("manifest.json")?)?;
        if manifest.command != "run" {
            return Err(FileError::new(
                &name("manifest.json"),
                0,
                0,
                format!(
                    "written by `otpdrift {}`, not `otpdrift run`: there are no run results to draw",
                    manifest.command
                ),
            ));
        }
        let scenario = recorded_scenario(&name("manifest.json"), &manifest)?;
        let mut names: Vec<String> = scenario
            .populations
            .iter()
            .map(|p| p.name.clone())
            .collect();
        names.push("all".into());
        let b = Buckets::new(scenario.run.bucket, scenario.run.start, scenario.run.end());
        let buckets: Vec<(Millis, Millis)> =
            (0..b.len()).map(|i| (b.starts[i], b.end_of(i))).collect();

        let file = name("summary.csv");
        let mut summary = Vec::new();
        read_rows::<SummaryRow>(&file, &read("summary.csv")?, Some(0), |line, _, row| {
            let want = names.get(summary.len()).ok_or_else(|| {
                FileError::new(&file, line, 0, "expected the end of the file after `all`")
            })?;
            if &row.population != want {
                return Err(FileError::new(
                    &file,
                    line,
                    1,
                    format!("expected population `{want}` (the scenario's populations, then `all`), found `{}`", row.population),
                ));
            }
            summary.push(row);
            Ok(())
        })?;
        if summary.len() < names.len() {
            return Err(FileError::new(
                &file,
                0,
                0,
                format!(
                    "expected {} rows (the scenario's populations, then `all`), found {}",
                    names.len(),
                    summary.len()
                ),
            ));
        }

        let timeseries = per_bucket::<TimeseriesRow>(
            &name("timeseries.csv"),
            &read("timeseries.csv")?,
            &names,
            &buckets,
            |r| (r.bucket_start.0, r.bucket_end.0, &r.population),
        )?;
        let lifetime = per_bucket::<LifetimeRow>(
            &name("lifetime.csv"),
            &read("lifetime.csv")?,
            &names,
            &buckets,
            |r| (r.bucket_start.0, r.bucket_end.0, &r.population),
        )?;

        let file = name(Aggregates::FILE);
        let agg = Aggregates::from_json(&file, &read(Aggregates::FILE)?)?;
        if (agg.shard_start, agg.shard_end) != (0, scenario.run.tokens) {
            return Err(FileError::new(
                &file,
                0,
                0,
                format!(
                    "holds tokens {}..{} of {}: a shard; combine the shards with `otpdrift merge` first",
                    agg.shard_start, agg.shard_end, scenario.run.tokens
                ),
            ));
        }
        if agg.tally.pops.len() != scenario.populations.len() {
            return Err(FileError::new(
                &file,
                0,
                0,
                format!(
                    "expected {} populations (the scenario's), found {}",
                    scenario.populations.len(),
                    agg.tally.pops.len()
                ),
            ));
        }
        let nodes = agg.tally.pops.iter().map(|p| p.nodes.clone()).collect();
        let (final_offsets, offsets) = agg
            .tally
            .pops
            .into_iter()
            .map(|p| (p.final_offsets, p.offsets))
            .unzip();
        // A twin run's manifest lists its forecast files.
        let forecast = if manifest
            .files
            .iter()
            .any(|f| f == forecast::FORECAST_FILES[0])
        {
            Some(forecast::Forecast::from_files(name, read)?)
        } else {
            None
        };
        Ok(RunData {
            manifest,
            scenario,
            names,
            buckets,
            summary,
            timeseries,
            lifetime,
            final_offsets,
            offsets,
            nodes,
            forecast,
        })
    }

    /// Loads a results folder.
    pub fn load(dir: &Path) -> Result<RunData, FileError> {
        let whole = |why: &str| FileError::new(&dir.display().to_string(), 0, 0, why.to_string());
        if !dir.is_dir() {
            return Err(whole("expected a results folder, found no such folder"));
        }
        if !dir.join("manifest.json").exists() {
            return Err(whole(
                "expected a results folder otpdrift wrote, found a folder without manifest.json",
            ));
        }
        RunData::from_files(&format!("{}/", dir.display()), |f| {
            std::fs::read(dir.join(f)).map_err(|e| format!("cannot read it: {e}"))
        })
    }

    pub fn populations(&self) -> usize {
        self.names.len() - 1
    }

    /// Users per population as simulated (summary.csv): a twin's come from its fleet, not from
    /// the recorded shares.
    pub fn population_sizes(&self) -> Vec<u64> {
        self.summary[..self.populations()]
            .iter()
            .map(|r| r.tokens)
            .collect()
    }

    /// A timeseries figure of one name (index into `names`), per bucket.
    pub fn ts_col(
        &self,
        who: usize,
        f: impl Fn(&TimeseriesRow) -> Option<f64>,
    ) -> Vec<Option<f64>> {
        self.timeseries[who].iter().map(f).collect()
    }

    /// A lifetime figure of one name, per bucket.
    pub fn life_col(
        &self,
        who: usize,
        f: impl Fn(&LifetimeRow) -> Option<f64>,
    ) -> Vec<Option<f64>> {
        self.lifetime[who].iter().map(f).collect()
    }

    /// The summary row of a name.
    pub fn summary_of(&self, name: &str) -> Option<&SummaryRow> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.summary[i])
    }
}

/// Reads a per-bucket file: one row per bucket and name, bucket-major, names in order.
fn per_bucket<R>(
    file: &str,
    bytes: &[u8],
    names: &[String],
    buckets: &[(Millis, Millis)],
    key: impl Fn(&R) -> (Millis, Millis, &String),
) -> Result<Vec<Vec<R>>, FileError>
where
    R: serde::de::DeserializeOwned + serde::Serialize + Default,
{
    let n = names.len();
    let mut out: Vec<Vec<R>> = (0..n).map(|_| Vec::new()).collect();
    let mut k = 0;
    read_rows::<R>(file, bytes, Some(0), |line, _, row| {
        let (b, who) = (k / n, k % n);
        let Some(&(start, end)) = buckets.get(b) else {
            return Err(FileError::new(
                file,
                line,
                0,
                format!(
                    "expected the end of the file after {} buckets of {n} rows",
                    buckets.len()
                ),
            ));
        };
        let (s, e, pop) = key(&row);
        let problem = if s != start {
            Some((1, "bucket_start", format_rfc3339(start), format_rfc3339(s)))
        } else if e != end {
            Some((2, "bucket_end", format_rfc3339(end), format_rfc3339(e)))
        } else if *pop != names[who] {
            Some((3, "population", names[who].clone(), pop.clone()))
        } else {
            None
        };
        if let Some((col, what, want, found)) = problem {
            return Err(FileError::new(
                file,
                line,
                col,
                format!("column `{what}`: expected `{want}` (one row per bucket and population, populations in scenario order then `all`), found `{found}`"),
            ));
        }
        out[who].push(row);
        k += 1;
        Ok(())
    })?;
    if k < n * buckets.len() {
        return Err(FileError::new(
            file,
            0,
            0,
            format!(
                "expected {} rows ({} buckets of {n}: the populations, then `all`), found {k}",
                n * buckets.len(),
                buckets.len()
            ),
        ));
    }
    Ok(out)
}

/// A run manifest with no timings, for tests that render results without running the binary.
#[cfg(test)]
pub fn test_manifest(sc: &Scenario) -> Manifest {
    Manifest {
        tool: "otpdrift".into(),
        version: "test".into(),
        random_streams: crate::rng::STREAMS,
        command: "run".into(),
        scenario_path: "t.toml".into(),
        scenario_sha256: String::new(),
        seed: sc.run.seed,
        threads: 1,
        started_at: String::new(),
        finished_at: String::new(),
        wall_seconds: 0.0,
        attempts: 0,
        attempts_per_second: 0.0,
        hmacs: 0,
        facts: Facts::Run(RunFacts {
            shard_start: 0,
            shard_end: sc.run.tokens,
            fleet_tokens: sc.run.tokens,
            logins: 0,
            hmacs_per_attempt: 0.0,
            hmac_sha1_codes_per_second_one_thread: 0.0,
            codes_per_attempt_equivalent: 0.0,
            shard: None,
            merged_from: None,
            fleet: None,
        }),
        files: Vec::new(),
        scenario: crate::scenario::resolved(sc),
    }
}
