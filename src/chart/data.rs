//! What charts and the report read: a run's results as written (CSV and manifest), loaded back
//! so that `otpdrift plot` on a results folder draws exactly what the run drew.

use crate::scenario::Scenario;
use crate::time::{parse_rfc3339, Millis};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// One CSV file: header positions and rows of cells.
#[derive(Clone, Debug, Default)]
pub struct Table {
    cols: HashMap<String, usize>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn parse(bytes: &[u8]) -> Result<Table, String> {
        let mut r = ::csv::Reader::from_reader(bytes);
        let cols = r
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), i))
            .collect();
        let rows = r
            .records()
            .map(|rec| {
                rec.map(|r| r.iter().map(String::from).collect())
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(Table { cols, rows })
    }

    pub fn text<'a>(&self, row: &'a [String], col: &str) -> &'a str {
        self.cols
            .get(col)
            .and_then(|&i| row.get(i))
            .map_or("", String::as_str)
    }

    /// A numeric cell; None when empty or missing.
    pub fn num(&self, row: &[String], col: &str) -> Option<f64> {
        self.text(row, col).parse().ok()
    }
}

type Buckets = Vec<(Millis, Millis)>;

/// A time series of one population: per bucket, the cells of timeseries.csv or lifetime.csv.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub rows: Vec<Vec<String>>,
}

/// A results folder, loaded.
#[derive(Clone, Debug)]
pub struct ChartData {
    pub scenario: Scenario,
    /// Population names in order, then "all".
    pub names: Vec<String>,
    /// Bucket (start, end).
    pub buckets: Vec<(Millis, Millis)>,
    pub summary: Table,
    pub timeseries: Table,
    /// Per name (populations then all): timeseries rows in bucket order.
    pub ts: Vec<Series>,
    pub lifetime: Table,
    pub life: Vec<Series>,
    /// Per population: absolute clock error (s) of TOTP credentials in use at the end.
    pub final_offsets: Vec<Vec<f64>>,
}

#[derive(Debug)]
pub struct DataError(pub String);

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}

impl ChartData {
    /// Loads from the files' contents: manifest.json, summary.csv, timeseries.csv,
    /// lifetime.csv, tokens.csv.
    pub fn from_files(
        get: impl Fn(&str) -> Result<Vec<u8>, String>,
    ) -> Result<ChartData, DataError> {
        fn err(f: &'static str) -> impl Fn(String) -> DataError {
            move |e| DataError(format!("{f}: {e}"))
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&get("manifest.json").map_err(err("manifest.json"))?)
                .map_err(|e| DataError(format!("manifest.json: {e}")))?;
        let resolved = manifest
            .get("scenario")
            .ok_or_else(|| DataError("manifest.json: no `scenario`".into()))?;
        let text =
            toml::to_string(resolved).map_err(|e| DataError(format!("manifest.json: {e}")))?;
        let scenario = Scenario::from_toml("manifest.json#scenario", &text).map_err(|e| {
            DataError(format!(
                "manifest.json: the recorded scenario is not valid: {e}"
            ))
        })?;
        let summary = Table::parse(&get("summary.csv").map_err(err("summary.csv"))?)
            .map_err(err("summary.csv"))?;
        let timeseries = Table::parse(&get("timeseries.csv").map_err(err("timeseries.csv"))?)
            .map_err(err("timeseries.csv"))?;
        let lifetime = Table::parse(&get("lifetime.csv").map_err(err("lifetime.csv"))?)
            .map_err(err("lifetime.csv"))?;
        let tokens = Table::parse(&get("tokens.csv").map_err(err("tokens.csv"))?)
            .map_err(err("tokens.csv"))?;

        let mut names: Vec<String> = scenario
            .populations
            .iter()
            .map(|p| p.name.clone())
            .collect();
        names.push("all".into());
        let split = |t: &Table, file: &str| -> Result<(Vec<Series>, Buckets), DataError> {
            let mut out = vec![Series::default(); names.len()];
            let mut buckets = Vec::new();
            for row in &t.rows {
                let pop = t.text(row, "population");
                let i = names.iter().position(|n| n == pop).ok_or_else(|| {
                    DataError(format!("{file}: population `{pop}` is not in the scenario"))
                })?;
                if i == 0 {
                    let s = parse_rfc3339(t.text(row, "bucket_start"))
                        .map_err(|e| DataError(format!("{file}: {e}")))?;
                    let e = parse_rfc3339(t.text(row, "bucket_end"))
                        .map_err(|e| DataError(format!("{file}: {e}")))?;
                    buckets.push((s, e));
                }
                out[i].rows.push(row.clone());
            }
            Ok((out, buckets))
        };
        let (ts, buckets) = split(&timeseries, "timeseries.csv")?;
        let (life, _) = split(&lifetime, "lifetime.csv")?;
        let mut final_offsets = vec![Vec::new(); scenario.populations.len()];
        for row in &tokens.rows {
            if !tokens.text(row, "died").is_empty() {
                continue;
            }
            let pop = tokens.text(row, "population");
            if let (Some(i), Some(x)) = (
                names.iter().position(|n| n == pop),
                tokens.num(row, "final_offset_s"),
            ) {
                if i < final_offsets.len() {
                    final_offsets[i].push(x.abs());
                }
            }
        }
        Ok(ChartData {
            scenario,
            names,
            buckets,
            summary,
            timeseries,
            ts,
            lifetime,
            life,
            final_offsets,
        })
    }

    /// Loads a results folder.
    pub fn load(dir: &Path) -> Result<ChartData, DataError> {
        ChartData::from_files(|f| {
            std::fs::read(dir.join(f))
                .map_err(|e| format!("cannot read {}: {e}", dir.join(f).display()))
        })
    }

    pub fn populations(&self) -> usize {
        self.names.len() - 1
    }

    /// A timeseries column for one name (index into `names`), per bucket.
    pub fn ts_col(&self, who: usize, col: &str) -> Vec<Option<f64>> {
        self.ts[who]
            .rows
            .iter()
            .map(|r| self.timeseries.num(r, col))
            .collect()
    }

    pub fn life_col(&self, who: usize, col: &str) -> Vec<Option<f64>> {
        self.life[who]
            .rows
            .iter()
            .map(|r| self.lifetime.num(r, col))
            .collect()
    }

    /// The summary row of a name.
    pub fn summary_row(&self, name: &str) -> Option<&Vec<String>> {
        self.summary
            .rows
            .iter()
            .find(|r| self.summary.text(r, "population") == name)
    }

    pub fn summary_num(&self, name: &str, col: &str) -> Option<f64> {
        self.summary_row(name)
            .and_then(|r| self.summary.num(r, col))
    }
}
