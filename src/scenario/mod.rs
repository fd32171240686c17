//! Scenarios: the TOML file parsed into raw serde structs (`raw`), then validated into the typed
//! [`Scenario`] the simulation reads (`validate`), with every problem reported at its
//! file:line:column and field path (`locate`).

mod locate;
pub mod overrides;
mod problem;
pub mod raw;
mod resolved;
pub mod sweep;
pub mod twin;
mod validate;

pub use locate::SourceMap;
pub use overrides::Override;
pub use resolved::{resolved, validator as resolved_validator};
pub use sweep::{Combine, Point, SweepBlock};

use crate::clock::ClockSpec;
use crate::metrics::Bucket;
use crate::time::Millis;
use crate::token::{BatterySpec, TokenSpec};
use crate::user::{RecoverySpec, UserSpec};
use crate::validator::ValidatorConfig;
use std::fmt;
use std::path::Path;

/// How codes are computed on both sides (docs/scale.md, "Decision modes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecideMode {
    /// RFC 4226 HMAC codes: the codes a real token shows.
    Exact,
    /// A keyed 64-bit mixer in place of HMAC: codes as uniform and as independent from step to
    /// step, so chance collisions occur at the same 10^-digits per step compared; not RFC codes.
    Fast,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    pub name: String,
    pub start: Millis,
    pub horizon_s: f64,
    pub tokens: u64,
    pub seed: u64,
    pub bucket: Bucket,
    pub decide: DecideMode,
}

impl RunSpec {
    pub fn end(&self) -> Millis {
        // A horizon of whole years ends on the same calendar date, so yearly and monthly
        // buckets line up with the calendar instead of ending 6 hours into a new year.
        let years = self.horizon_s / crate::time::YEAR_S;
        if years >= 1.0 && (years - years.round()).abs() < 1e-9 {
            return crate::time::add_years(self.start, years.round() as i64);
        }
        self.start + (self.horizon_s * 1000.0) as Millis
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    pub name: String,
    pub share: f64,
    pub token: TokenSpec,
    pub clock: ClockSpec,
    pub battery: Option<BatterySpec>,
    pub user: UserSpec,
    pub recovery: RecoverySpec,
}

/// An online guesser per account (`[attack]`); the attacker model reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackSpec {
    /// Guesses an attacker would make per account per day if nothing stopped it.
    pub guesses_per_day: f64,
    /// Accounts (the first ones of the fleet) that get a simulated attacker; 0 = analytic only.
    pub simulate_accounts: u64,
}

/// A validated scenario with every default filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub run: RunSpec,
    pub validator: ValidatorConfig,
    pub populations: Vec<Population>,
    pub attack: Option<AttackSpec>,
    /// Parameter sweeps (`otpdrift sweep`); a plain run ignores them.
    pub sweep: Vec<SweepBlock>,
    /// The dated events of the validator side (`[[timeline]]`), as written (validated).
    pub timeline: Vec<TimelineEvent>,
    /// Per population: the validator over the run the timeline makes (empty without one or
    /// a cluster with node clocks).
    pub schedules: Vec<crate::validator::schedule::Schedule>,
    /// `[validator.cluster]`: several nodes behind a load balancer (None: one validator).
    pub cluster: Option<Cluster>,
    /// A real fleet to start from (`run --fleet`): one user per analysed credential.
    pub twin: Option<std::sync::Arc<twin::Twin>>,
    /// What each credential's record notes from an instant on (a twin's forecast).
    pub watch: Option<twin::Watch>,
}

/// Validator nodes behind a load balancer, each with its own clock and its own copy of every
/// credential's state, kept in step by replication (or not at all).
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub nodes: Vec<ClusterNode>,
    pub routing: Routing,
    pub replication: Replication,
    /// Per node: when it is out of service, (from, until) in time order (timeline `outage`).
    pub outages: Vec<Vec<(crate::time::Millis, crate::time::Millis)>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClusterNode {
    pub name: String,
    /// The node's clock minus true time at the start, seconds, and its rate error from the
    /// start, ppm (both until a `server_clock` return on it).
    pub offset_s: f64,
    pub drift_ppm: f64,
}

/// Which node the balancer gives a request, among those in service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// Each user's successive requests take the nodes in turn.
    RoundRobin,
    /// Every request to a node drawn at random.
    Random,
    /// Each user to one node (users spread evenly), the next one in service while it is down.
    Sticky,
    /// Everything to the first node in service.
    Failover,
}

impl Routing {
    pub const NAMES: &'static str = "\"round_robin\", \"random\", \"sticky\" or \"failover\"";

    pub fn parse(s: &str) -> Option<Routing> {
        Some(match s {
            "round_robin" => Routing::RoundRobin,
            "random" => Routing::Random,
            "sticky" => Routing::Sticky,
            "failover" => Routing::Failover,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Routing::RoundRobin => "round_robin",
            Routing::Random => "random",
            Routing::Sticky => "sticky",
            Routing::Failover => "failover",
        }
    }
}

/// How a node's write of a credential's state reaches the others.
#[derive(Clone, Debug, PartialEq)]
pub enum Replication {
    /// Never: each node keeps its own state (containers with state in memory).
    None,
    /// After a lag drawn for each write and node, seconds (0: one shared database).
    Lag(crate::dist::Dist),
}

impl Cluster {
    /// Node `k` is in service at `t`.
    pub fn up(&self, k: usize, t: crate::time::Millis) -> bool {
        !self.outages[k].iter().any(|&(a, b)| a <= t && t < b)
    }

    /// Replication with a lag of exactly 0: one shared database, one state for every node.
    pub fn shares_state(&self) -> bool {
        self.replication == Replication::Lag(crate::dist::Dist::Fixed(0.0))
    }
}

/// One `[[timeline]]` event: when, for which populations (None: all), and what.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEvent {
    pub at: crate::time::Millis,
    pub populations: Option<Vec<String>>,
    pub action: TimelineAction,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TimelineAction {
    /// The validator's fields from then on (the configuration after the change).
    Set(Box<ValidatorConfig>),
    ResetDrift,
    /// Another validator from then on, carrying learned drift and used steps or not.
    Migrate {
        to: Box<ValidatorConfig>,
        carry: bool,
    },
    /// The server clock of every node, or of one node of a cluster.
    ServerClock {
        change: crate::validator::schedule::ClockChange,
        node: Option<String>,
    },
    /// A cluster node out of service until then.
    Outage {
        node: String,
        until: crate::time::Millis,
    },
}

impl Scenario {
    /// Token counts per population by largest remainder, so they always sum to the fleet size.
    pub fn population_sizes(&self) -> Vec<u64> {
        if let Some(t) = &self.twin {
            return t.sizes.clone();
        }
        let n = self.run.tokens;
        let exact: Vec<f64> = self
            .populations
            .iter()
            .map(|p| p.share * n as f64)
            .collect();
        let mut sizes: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
        // Shares may sum to a hair over one (validation allows 1e-6 either way), so the floors
        // can exceed the fleet: the excess comes off the largest populations.
        let mut excess = sizes.iter().sum::<u64>().saturating_sub(n);
        while excess > 0 {
            let largest = (0..sizes.len())
                .max_by_key(|&i| (sizes[i], std::cmp::Reverse(i)))
                .expect("an excess needs a population");
            sizes[largest] -= 1;
            excess -= 1;
        }
        let mut left = n - sizes.iter().sum::<u64>();
        let mut order: Vec<usize> = (0..sizes.len()).collect();
        order.sort_by(|&a, &b| {
            let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
            fb.partial_cmp(&fa).expect("finite").then(a.cmp(&b))
        });
        for i in order {
            if left == 0 {
                break;
            }
            sizes[i] += 1;
            left -= 1;
        }
        sizes
    }

    /// Each population's token indices: contiguous ranges in population order.
    pub fn population_names(&self) -> Vec<String> {
        self.populations.iter().map(|p| p.name.clone()).collect()
    }

    pub fn population_ranges(&self) -> Vec<std::ops::Range<u64>> {
        let mut end = 0;
        self.population_sizes()
            .into_iter()
            .map(|s| {
                end += s;
                end - s..end
            })
            .collect()
    }

    /// The population of a token index.
    pub fn population_of(&self, token: u64) -> usize {
        self.population_ranges()
            .iter()
            .position(|r| r.contains(&token))
            .unwrap_or(self.populations.len() - 1)
    }

    /// A top-level part written as the wrong kind of table (`[[run]]`, `[population]`), which
    /// serde would report in its own terms.
    fn shape_problem(file: &str, map: &SourceMap, text: &str) -> Option<Diagnostic> {
        let doc: toml::Table = text.parse().ok()?;
        let (path, expected, found) = ["run", "validator", "attack"]
            .into_iter()
            .find_map(|k| match doc.get(k) {
                Some(toml::Value::Array(_)) => Some((
                    k,
                    format!("one [{k}] table"),
                    format!("[[{k}]] tables (an array)"),
                )),
                _ => None,
            })
            .or_else(|| match doc.get("population") {
                Some(toml::Value::Table(_)) => Some((
                    "population",
                    "[[population]] tables, one per population".to_string(),
                    "a single [population] table".to_string(),
                )),
                _ => None,
            })?;
        let (line, col) = map.span_of(path).map_or((1, 1), |s| map.line_col(s.start));
        Some(Diagnostic {
            file: file.to_string(),
            line,
            col,
            path: path.to_string(),
            expected,
            found,
        })
    }

    /// Parses and validates a scenario file's text.
    pub fn from_toml(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let map = SourceMap::new(text);
        if let Some(d) = Self::shape_problem(file, &map, text) {
            return Err(ScenarioError {
                diagnostics: vec![d],
            });
        }
        let raw: raw::RawScenario = toml::from_str(text).map_err(|e| ScenarioError {
            diagnostics: vec![Diagnostic::from_toml(file, &map, &e)],
        })?;
        let default_name = Path::new(file).file_stem().map_or_else(
            || "scenario".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        validate::validate(raw, &default_name).map_err(|problems| ScenarioError {
            diagnostics: problems
                .into_iter()
                .map(|p| {
                    let (line, col) = map
                        .span_of(&p.path)
                        .map_or((1, 1), |s| map.line_col(s.start));
                    Diagnostic {
                        file: file.to_string(),
                        line,
                        col,
                        path: p.path,
                        expected: p.expected,
                        found: p.found,
                    }
                })
                .collect(),
        })
    }

    /// [`Scenario::from_toml`] with overrides applied after the text itself validated.
    pub fn from_toml_with(
        file: &str,
        text: &str,
        sets: &[Override],
    ) -> Result<Scenario, ScenarioError> {
        let plain = Scenario::from_toml(file, text)?;
        if sets.is_empty() {
            return Ok(plain);
        }
        // Keeps the problem's own path: equal to the flag's when the value is wrong, a prefix
        // of it when the path itself is.
        let set_error = |o: &Override, d: Diagnostic| Diagnostic {
            file: format!("--set {}", o.path),
            line: 0,
            col: 0,
            ..d
        };
        let changed = overrides::apply(text, sets).map_err(|e| ScenarioError {
            diagnostics: vec![Diagnostic {
                file: "--set".into(),
                line: 0,
                col: 0,
                path: String::new(),
                expected: "a field path and value that fit the scenario".into(),
                found: e,
            }],
        })?;
        // Problems are reported in the file the user wrote: a problem with a set value
        // against its flag, any other at its place in the original text.
        let map = SourceMap::new(text);
        Scenario::from_toml(file, &changed).map_err(|e| ScenarioError {
            diagnostics: e
                .diagnostics
                .into_iter()
                .map(|d| {
                    match sets.iter().rev().find(|o| {
                        let at = plain.indexed_path(&o.path);
                        d.path.starts_with(&at) || at.starts_with(&d.path)
                    }) {
                        Some(o) => set_error(o, d),
                        None => {
                            let (line, col) = map
                                .span_of(&d.path)
                                .map_or((1, 1), |s| map.line_col(s.start));
                            Diagnostic {
                                line,
                                col,
                                found: format!("{} (with the --set values)", d.found),
                                ..d
                            }
                        }
                    }
                })
                .collect(),
        })
    }
}

impl Scenario {
    /// A `--set` path with a population named (`population.phone.share`) as the diagnostics
    /// name it (`population[0].share`).
    fn indexed_path(&self, path: &str) -> String {
        if let Some((name, rest)) = path
            .strip_prefix("population.")
            .and_then(|r| r.split_once('.'))
        {
            if let Some(i) = self.populations.iter().position(|p| p.name == name) {
                return format!("population[{i}].{rest}");
            }
        }
        path.to_string()
    }
}

/// One problem in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub path: String,
    pub expected: String,
    pub found: String,
}

impl Diagnostic {
    fn from_toml(file: &str, map: &SourceMap, e: &toml::de::Error) -> Diagnostic {
        let span = e.span().unwrap_or(0..0);
        let (line, col) = map.line_col(span.start);
        let msg = e.message().trim().to_string();
        let path = map
            .path_at(span.start)
            .unwrap_or_else(|| "TOML syntax".into());
        let (expected, found) = explain_serde(&msg);
        Diagnostic {
            file: file.to_string(),
            line,
            col,
            path,
            expected,
            found,
        }
    }
}

/// Splits serde's messages into what was expected and what was found, in the scenario's
/// words (no internal type names).
fn explain_serde(msg: &str) -> (String, String) {
    let (e, f) = explain_serde_raw(msg);
    let plain = |s: String| {
        let mut out = s
            .replace("a map", "a table")
            .replace("map", "a table")
            .replace("a sequence", "an array")
            .replace("sequence", "an array")
            .replace("floating point", "the fractional number");
        match out.as_str() {
            "u64" | "u32" | "usize" => out = "a whole number of at least 0".into(),
            "i64" | "i32" => out = "a whole number".into(),
            _ => {}
        }
        while let Some(i) = out.find("struct Raw") {
            let end = out[i + 10..]
                .find(|c: char| !c.is_alphanumeric())
                .map_or(out.len(), |j| i + 10 + j);
            out.replace_range(i..end, "a table");
        }
        out
    };
    (plain(e), plain(f))
}

fn explain_serde_raw(msg: &str) -> (String, String) {
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        if let Some((found, exp)) = rest.split_once(", expected ") {
            return (exp.to_string(), found.to_string());
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        if let Some((found, exp)) = rest.split_once(", expected ") {
            return (exp.to_string(), found.to_string());
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        if let Some((field, exp)) = rest.split_once(", expected ") {
            return (
                format!("a known field ({exp})"),
                format!("unknown field {field}"),
            );
        }
        if let Some((field, _)) = rest.split_once(", there are no fields") {
            return ("no fields here".into(), format!("unknown field {field}"));
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        return (format!("field {rest}"), "nothing".into());
    }
    if msg.starts_with("duplicate key") {
        return ("each key once in a table".into(), msg.to_string());
    }
    // The TOML parser's own words: what it met on the first line, what it wanted after.
    match msg.split_once('\n') {
        Some((what, rest)) => match rest.trim().strip_prefix("expected ") {
            Some(wanted) => (
                format!("valid TOML here ({wanted})"),
                what.trim().to_string(),
            ),
            None => (
                "valid TOML".into(),
                format!("{} ({})", what.trim(), rest.trim().replace('\n', " ")),
            ),
        },
        None => ("valid TOML".into(), msg.to_string()),
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(
                f,
                "{}: expected {}, found {}",
                self.file, self.expected, self.found
            );
        }
        write!(
            f,
            "{}:{}:{}: {}: expected {}, found {}",
            self.file, self.line, self.col, self.path, self.expected, self.found
        )
    }
}

/// Every problem found in one scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        write!(
            f,
            "{n} problem{} in the scenario; nothing was run or written",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for ScenarioError {}

/// A scenario's problems are the user's input: exit status 2.
impl From<ScenarioError> for crate::error::Error {
    fn from(e: ScenarioError) -> crate::error::Error {
        crate::error::Error::Input(e.to_string())
    }
}

#[cfg(test)]
mod tests;
