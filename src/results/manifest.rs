//! manifest.json: what was run (tool version, scenario and its SHA-256, the resolved scenario),
//! how (seed, shard, threads) and how fast (wall time, attempts per second, HMAC calibration).

use serde::{Deserialize, Serialize};

/// The manifest of a results folder, `run` or `sweep`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    /// The generation of the random streams and decision rules ([`crate::rng::STREAMS`]): the
    /// same scenario and seed give the same results only within one; `merge` refuses to mix.
    #[serde(default)]
    pub random_streams: u32,
    /// `run` or `sweep`.
    pub command: String,
    pub scenario_path: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub threads: usize,
    pub started_at: String,
    pub finished_at: String,
    pub wall_seconds: f64,
    pub attempts: u64,
    pub attempts_per_second: f64,
    pub hmacs: u64,
    #[serde(flatten)]
    pub facts: Facts,
    /// Every file of the folder.
    pub files: Vec<String>,
    /// The resolved scenario (for a sweep, the base scenario).
    pub scenario: serde_json::Value,
}

/// What only one command records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Facts {
    Run(RunFacts),
    Sweep(SweepFacts),
}

impl Facts {
    /// A twin run's fleet facts.
    pub fn fleet(&self) -> Option<&FleetFacts> {
        match self {
            Facts::Run(r) => r.fleet.as_ref(),
            Facts::Sweep(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFacts {
    pub shard_start: u64,
    pub shard_end: u64,
    pub fleet_tokens: u64,
    pub logins: u64,
    pub hmacs_per_attempt: f64,
    /// Raw HMAC-SHA1 6-digit codes per second on one thread, measured in this run.
    pub hmac_sha1_codes_per_second_one_thread: f64,
    /// attempts_per_second / threads divided by the raw code rate: how many raw codes one
    /// simulated attempt costs, measured on the same machine in the same run.
    pub codes_per_attempt_equivalent: f64,
    /// `K/N` for one shard of a run (`run --shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The shard folders a merged run was combined from (`merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<String>>,
    /// A twin run's fleet (`run --fleet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetFacts>,
}

/// Where a twin run's fleet came from and how it was forecast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FleetFacts {
    /// The analysis folder, and the SHA-256 of its drift.csv.
    pub analysis: String,
    pub drift_sha256: String,
    /// The analysis' now: the twin's start.
    pub start: String,
    pub replicates: u32,
    pub credentials: u64,
    pub excluded: u64,
    /// The window (offsets in seconds) whose exit is forecast: the analysis' edges.
    pub edges_s: (f64, f64),
    /// Login rates and hours came from the log (a log of codes or a trace).
    #[serde(default)]
    pub logins_from_log: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepFacts {
    /// Per setting: its number, label and the values of its swept fields.
    pub points: Vec<serde_json::Value>,
    /// Whether every setting ran on the same fleet (common random numbers).
    pub same_fleet: bool,
    pub seconds_per_point: f64,
    pub targets: Vec<String>,
    /// The settings meeting every target, best security first.
    pub recommended: Vec<usize>,
    /// `K/N` for one shard of the settings (`sweep --shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The shard folders a merged sweep was combined from (`merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<String>>,
}

impl Manifest {
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("the manifest serializes");
        out.push(b'\n');
        out
    }
}
