//! The scenario file as written: serde structs that mirror the TOML and reject unknown fields.
//!
//! Everything is optional here; defaults and checks live in `validate`. Distribution-valued
//! fields stay `toml::Value` so that `validate` can explain exactly what is wrong with them.

use serde::de::{Deserializer, Error, Visitor};
use serde::Deserialize;
use toml::Value;

/// A duration field: a string such as `"30s"`, checked in `validate`; a bare number is
/// refused here with a message that says a unit is needed.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Text;
    impl Visitor<'_> for Text {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a duration in quotes with a unit, such as \"30s\", \"5m\" or \"2d\"")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
    }
    d.deserialize_any(Text)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub run: Option<RawRun>,
    pub validator: Option<RawValidator>,
    pub population: Option<Vec<RawPopulation>>,
    pub attack: Option<RawAttack>,
    /// One `[sweep]` table or several `[[sweep]]` tables.
    pub sweep: Option<Value>,
    pub timeline: Option<Vec<RawTimelineEvent>>,
}

/// One `[[timeline]]` table: `at`, optionally `populations`, and exactly one action.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimelineEvent {
    /// A string, or a TOML date or date-time literal.
    pub at: Option<Value>,
    pub populations: Option<Vec<String>>,
    pub set: Option<RawValidator>,
    pub reset_drift: Option<bool>,
    pub migrate: Option<RawValidator>,
    /// With `migrate`: learned drift and used steps go along (default false).
    pub carry: Option<bool>,
    pub server_clock: Option<RawServerClock>,
    /// A cluster node out of service from `at` until `until`.
    pub outage: Option<RawOutage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutage {
    pub node: Option<String>,
    pub until: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServerClock {
    /// A signed duration (`"+2h"`, `"-90s"`).
    pub step: Option<String>,
    pub drift_ppm: Option<f64>,
    /// With `drift_ppm`: when the drift ends (NTP back, or the clock stepped).
    pub until: Option<Value>,
    /// `"step"` or `"slew"`.
    #[serde(rename = "return")]
    pub back: Option<String>,
    /// With `return = "slew"`: the slew rate (default 500 ppm, ntpd's most).
    pub rate_ppm: Option<f64>,
    /// One cluster node's clock only (default: every node's).
    pub node: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttack {
    pub guesses_per_day: Option<f64>,
    pub simulate_accounts: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub name: Option<String>,
    /// A string, or a TOML date or date-time literal.
    pub start: Option<Value>,
    #[serde(default, deserialize_with = "duration")]
    pub horizon: Option<String>,
    pub tokens: Option<u64>,
    pub seed: Option<u64>,
    #[serde(default, deserialize_with = "duration")]
    pub bucket: Option<String>,
    pub decide: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub back: Option<u32>,
    pub ahead: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLockout {
    pub max_failures: Option<u32>,
    #[serde(default, deserialize_with = "duration")]
    pub unlock_after: Option<String>,
    #[serde(default, deserialize_with = "duration")]
    pub failure_interval: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValidator {
    pub preset: Option<String>,
    pub window: Option<RawWindow>,
    pub search: Option<String>,
    pub drift: Option<Value>,
    pub replay: Option<String>,
    pub skip_refused: Option<bool>,
    pub lockout: Option<RawLockout>,
    pub throttle: Option<Value>,
    pub delay: Option<Value>,
    pub rate_limit: Option<Value>,
    pub brute_force: Option<Value>,
    pub security_level: Option<String>,
    pub sync: Option<Value>,
    pub auto_resync: Option<Value>,
    pub next_code: Option<Value>,
    pub idle_widening: Option<Value>,
    pub auto_sync: Option<Value>,
    pub sync_band: Option<Value>,
    pub initial_window: Option<Value>,
    /// `"none"`, a duration (symmetric) or `{ past, future }`: otplib's seconds window.
    pub tolerance: Option<Value>,
    pub numeric_codes: Option<bool>,
    pub code_syntax: Option<String>,
    pub secret_bytes: Option<Value>,
    pub hotp_look_ahead: Option<u32>,
    #[serde(default, deserialize_with = "duration")]
    pub server_offset: Option<String>,
    /// Only in the scenario's `[validator]`: the nodes behind a load balancer.
    pub cluster: Option<RawCluster>,
}

/// `[validator.cluster]`: the nodes, how requests are routed and how state replicates.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub nodes: Option<Vec<RawNode>>,
    pub routing: Option<String>,
    /// `"none"`, or a table with `lag` (a law in seconds).
    pub replication: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: Option<String>,
    /// The node's clock minus true time at the start (a signed duration).
    #[serde(default, deserialize_with = "duration")]
    pub offset: Option<String>,
    /// The node's clock runs fast by this many ppm (negative: slow) from the start.
    pub drift_ppm: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    pub name: Option<String>,
    pub share: Option<f64>,
    pub token: Option<RawToken>,
    pub clock: Option<RawClock>,
    pub battery: Option<RawBattery>,
    pub user: Option<RawUser>,
    pub recovery: Option<RawRecovery>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToken {
    pub kind: Option<String>,
    pub algorithm: Option<String>,
    pub digits: Option<u32>,
    #[serde(default, deserialize_with = "duration")]
    pub step: Option<String>,
    pub t0: Option<i64>,
    pub unsent_presses_per_day: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClock {
    pub profile: Option<String>,
    pub initial_offset: Option<Value>,
    pub drift_ppm: Option<Value>,
    pub aging_ppm_first_year: Option<Value>,
    pub wander_ppm_per_sqrt_day: Option<Value>,
    pub temperature: Option<RawTemperature>,
    pub sync: Option<RawSync>,
    pub events: Option<RawEvents>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemperature {
    pub enabled: Option<bool>,
    pub coefficient: Option<Value>,
    pub turnover: Option<Value>,
    pub mean: Option<Value>,
    pub daily_amplitude: Option<Value>,
    pub seasonal_amplitude: Option<Value>,
    pub warmest_day: Option<f64>,
    pub warmest_hour: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSync {
    pub enabled: Option<bool>,
    pub interval: Option<Value>,
    pub threshold: Option<Value>,
    pub residual: Option<Value>,
    pub failure_probability: Option<Value>,
    pub off_rate_per_year: Option<Value>,
    pub back_on_after: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvents {
    pub manual_change: Option<RawManualChange>,
    pub timezone_error: Option<RawTimezoneError>,
    pub reset: Option<RawReset>,
    pub future_trip: Option<RawFutureTrip>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManualChange {
    pub rate_per_year: Option<Value>,
    pub amount: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimezoneError {
    pub rate_per_year: Option<Value>,
    pub hours: Option<Value>,
    pub corrected_after: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReset {
    pub rate_per_year: Option<Value>,
    pub to: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFutureTrip {
    pub rate_per_year: Option<Value>,
    pub amount: Option<Value>,
    pub back_after: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBattery {
    pub enabled: Option<bool>,
    pub life_years: Option<f64>,
    pub life_codes: Option<f64>,
    pub self_discharge_per_year: Option<f64>,
    #[serde(default, deserialize_with = "duration")]
    pub expiry: Option<String>,
    pub age_at_start: Option<Value>,
    pub codes_at_start: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecovery {
    pub enabled: Option<bool>,
    pub escalate_after: Option<u32>,
    pub step_delay: Option<Value>,
    pub helpdesk_unlock_probability: Option<f64>,
    pub helpdesk_delay: Option<Value>,
    pub fix_clock_probability: Option<f64>,
    #[serde(default, deserialize_with = "duration")]
    pub notice_above: Option<String>,
    pub fix_accuracy: Option<Value>,
    pub resync_probability: Option<f64>,
    pub resync_tries: Option<u32>,
    pub reset_probability: Option<f64>,
    pub reinstall_probability: Option<f64>,
    pub reinstall_delay: Option<Value>,
    pub replace_probability: Option<f64>,
    pub shipping_delay: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    pub logins_per_day: Option<Value>,
    pub schedule: Option<String>,
    pub weekdays: Option<Vec<f64>>,
    pub hours: Option<Vec<f64>>,
    #[serde(default, deserialize_with = "duration")]
    pub utc_offset: Option<String>,
    pub holidays: Option<Vec<String>>,
    pub delay: Option<Value>,
    #[serde(default, deserialize_with = "duration")]
    pub fresh_code_below: Option<String>,
    pub wait_probability: Option<f64>,
    pub typo_probability: Option<f64>,
    pub push_share: Option<f64>,
    pub retries: Option<u32>,
    pub retry_delay: Option<Value>,
    /// The same code sent again (a double-click, a retried request) with this probability ...
    pub resubmit_probability: Option<f64>,
    /// ... this long after the first (a law in seconds).
    pub resubmit_delay: Option<Value>,
}
