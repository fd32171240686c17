//! manifest.json: what was run (tool version, scenario and its SHA-256, the resolved scenario),
//! how (seed, shard, threads) and how fast (wall time, attempts per second, HMAC calibration).

use super::{ExportContext, Exporter};
use serde::Serialize;
use std::io;

/// Run facts the simulation does not know (timings, paths), gathered by the CLI.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: String,
    pub scenario_path: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub threads: usize,
    pub shard_start: u64,
    pub shard_end: u64,
    pub fleet_tokens: u64,
    pub started_at: String,
    pub finished_at: String,
    pub wall_seconds: f64,
    pub logins: u64,
    pub attempts: u64,
    pub attempts_per_second: f64,
    pub hmacs: u64,
    pub hmacs_per_attempt: f64,
    /// Raw HMAC-SHA1 6-digit codes per second on one thread, measured in this run.
    pub hmac_sha1_codes_per_second_one_thread: f64,
    /// attempts_per_second / threads divided by the raw code rate: how many raw codes one
    /// simulated attempt costs, measured on the same machine in the same run.
    pub codes_per_attempt_equivalent: f64,
    pub files: Vec<String>,
}

pub struct ManifestJson;

impl Exporter for ManifestJson {
    fn file_name(&self) -> &'static str {
        "manifest.json"
    }

    fn render(&self, ctx: &ExportContext) -> io::Result<Vec<u8>> {
        let mut v = serde_json::to_value(ctx.manifest).map_err(io::Error::other)?;
        v["scenario"] = crate::scenario::resolved(ctx.scenario);
        let mut out = serde_json::to_vec_pretty(&v).map_err(io::Error::other)?;
        out.push(b'\n');
        Ok(out)
    }
}
