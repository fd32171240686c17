//! Attempt logs, secrets and decisions (docs/replay.md): what `otpdrift replay` reads and
//! writes, what `run --trace` writes, and what the conformance suite's golden files hold.
//! Input files are read by column name, so optional columns may be absent and columns may
//! come in any order.

use super::cells::{Fixed, Secs, Time};
use super::table::FileError;
use crate::time::{parse_rfc3339, Millis};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// A time written as RFC 3339 or as Unix seconds (with a fraction).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct AnyTime(pub Millis);

impl<'de> Deserialize<'de> for AnyTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = s.trim();
        if let Ok(secs) = t.parse::<f64>() {
            if secs.is_finite() && secs.abs() < 2.5e11 {
                return Ok(AnyTime((secs * 1000.0).round() as Millis));
            }
        }
        parse_rfc3339(t).map(AnyTime).map_err(|_| {
            serde::de::Error::custom(format!(
                "expected an RFC 3339 time or Unix seconds, found `{s}`"
            ))
        })
    }
}

/// One attempt of a log, as read.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AttemptIn {
    pub credential: String,
    pub time: AnyTime,
    pub action: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub code2: Option<String>,
    #[serde(default)]
    pub expected: Option<String>,
    #[serde(default)]
    pub true_offset_s: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub population: Option<String>,
}

/// One attempt as written (a trace) and the attempt part of a decision.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub credential: String,
    pub time: Time,
    pub action: String,
    pub code: Option<String>,
    pub code2: Option<String>,
    pub expected: Option<String>,
    pub true_offset_s: Option<Secs>,
    pub note: Option<String>,
    /// The population of the credential (a run's trace; read by `analyze`).
    pub population: Option<String>,
}

/// One credential's secret and code parameters, as read.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct SecretIn {
    pub credential: String,
    pub secret: String,
    #[serde(default)]
    pub algorithm: Option<String>,
    #[serde(default)]
    pub digits: Option<u32>,
    #[serde(default)]
    pub step: Option<u32>,
    #[serde(default)]
    pub t0: Option<i64>,
    /// `totp` (default) or `hotp`.
    #[serde(default)]
    pub kind: Option<String>,
    /// HOTP: the counter the validator expects next.
    #[serde(default)]
    pub counter: Option<u64>,
    /// TOTP: the drift, in steps, the validator held for the credential when the log starts
    /// (PSKC's `TimeDrift`).
    #[serde(default)]
    pub drift_steps: Option<i64>,
}

/// One credential's secret as written (a trace's secrets file).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretRow {
    pub credential: String,
    pub secret: String,
    pub algorithm: String,
    pub digits: u32,
    pub step: Option<u32>,
    pub t0: Option<i64>,
    pub kind: String,
}

/// The decision on one attempt: the attempt, then what the validator did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionRow {
    pub attempt: AttemptRow,
    /// `accept` or `reject`.
    pub verdict: String,
    pub reason: String,
    pub matched_offset_steps: Option<i64>,
    /// The drift held after the attempt, in steps (a seconds shift with decimals).
    pub drift_steps: Option<Fixed<3>>,
    pub failures: u32,
    pub locked: bool,
    pub matches_expected: Option<bool>,
}

/// Reads a CSV file by column name into rows of `R`; `each(line, row)` per record. Problems
/// carry file:line:column.
pub fn read_named<R: DeserializeOwned>(
    file: &str,
    bytes: &[u8],
    required: &[&str],
    mut each: impl FnMut(u64, R) -> Result<(), FileError>,
) -> Result<(), FileError> {
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let header = r
        .headers()
        .map_err(|e| FileError::new(file, 1, 0, e.to_string()))?
        .clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(FileError::new(
            file,
            1,
            0,
            format!(
                "expected a header line with the columns {}, found an empty file",
                required.join(", ")
            ),
        ));
    }
    for want in required {
        if !header.iter().any(|h| h.trim() == *want) {
            return Err(FileError::new(
                file,
                1,
                0,
                format!(
                    "expected a column `{want}`, found the columns {}",
                    header.iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let trimmed: csv::StringRecord = header.iter().map(str::trim).collect();
    let mut rec = csv::StringRecord::new();
    let mut lines = super::table::Lines::new(bytes);
    loop {
        match r.read_record(&mut rec) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let line = lines.of(e.position());
                return Err(FileError::new(
                    file,
                    line,
                    0,
                    match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => {
                            format!("expected {expected_len} cells as in the header, found {len}")
                        }
                        _ => e.to_string(),
                    },
                ));
            }
        }
        let line = lines.of(rec.position());
        let row: R = rec.deserialize(Some(&trimmed)).map_err(|e| {
            let (col, msg) = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => {
                    // Custom errors (a time cell) carry no index: find the cell they quote.
                    let col = err.field().map(|f| f as usize).or_else(|| {
                        rec.iter().position(|c| {
                            !c.is_empty() && err.to_string().contains(&format!("`{c}`"))
                        })
                    });
                    let cell = col.and_then(|c| rec.get(c)).unwrap_or("");
                    let msg = match err.kind() {
                        csv::DeserializeErrorKind::Message(m) if m.starts_with("expected ") => {
                            m.clone()
                        }
                        csv::DeserializeErrorKind::ParseInt(_) => {
                            format!("expected a whole number, found `{cell}`")
                        }
                        other => format!("{other}, found `{cell}`"),
                    };
                    (col, msg)
                }
                _ => (None, e.to_string()),
            };
            match col {
                Some(c) => FileError::new(
                    file,
                    line,
                    c + 1,
                    format!("column `{}`: {msg}", trimmed.get(c).unwrap_or("")),
                ),
                None => FileError::new(file, line, 0, msg),
            }
        })?;
        each(line, row)?;
    }
}
