//! Raw scenario -> typed [`Scenario`]: the checker that collects every problem with its field
//! path, expectation and finding, and the top-level pass. Each section has its own file:
//! `dist` (distributions), `defaults` (per token kind), `run`, `validator`, `population`,
//! `clock` and `user`.
//!
//! Defaults rest on DOMAIN.md: hardware tokens drift about 2 min/year (≈4 ppm) within a ±20 ppm
//! crystal tolerance; phones poll network time every 18 h and step only beyond 2 s; PCs without
//! network time drift about 6 min/year (≈11 ppm); batteries last 5 years or 15,000 codes.

mod clock;
mod cluster;
mod defaults;
mod dist;
mod population;
mod run;
mod timeline;
mod user;
mod validator;

use super::raw::*;
use super::{DecideMode, Population, RunSpec, Scenario};
use crate::clock::{
    ClockSpec, EventsSpec, FutureTrip, ManualChange, Reset, SyncSpec, TemperatureSpec,
    TimezoneError,
};
use crate::dist::Dist;
use crate::metrics::Bucket;
use crate::otp::Algorithm;
use crate::time::{parse_duration, parse_rfc3339, DAY, YEAR_S};
use crate::token::{BatterySpec, TokenKind, TokenSpec};
use crate::user::{Holiday, RecoverySpec, ScheduleKind, UserSpec};
use crate::validator::{
    presets, AutoResync, AutoStyle, BruteForce, CodeSyntax, Delay, DriftLearning, IdleWidening,
    Lockout, NextCode, RateLimit, Replay, SearchOrder, SyncProcedure, SyncSearch, Throttle,
    Tolerance, ValidatorConfig,
};
use toml::Value;

use self::clock::clock;
use self::defaults::{kind_defaults, lognormal};
use self::population::population;
use self::run::run_spec;
use self::user::{recovery, user};
use self::validator::validator;
pub use super::problem::Problem;
use super::problem::{describe, fmt_n};
pub use dist::Unit;

/// Collects problems while each section is checked, so one pass reports them all.
pub(super) struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    /// Refuses a law whose parameters exceed `limit` in magnitude; returns it otherwise.
    pub(super) fn bounded(&mut self, path: &str, d: Dist, limit: f64, unit: &str) -> Dist {
        let m = d.magnitude();
        if m > limit || d.reach() > limit {
            // This field's bound says it better than the general one.
            self.problems.retain(|p| p.path != path);
        }
        if m > limit {
            self.err(
                path,
                format!("parameters of magnitude at most {} {unit}", fmt_n(limit)),
                fmt_n(m),
            );
        } else if d.reach() > limit {
            self.err(
                path,
                format!(
                    "a law whose draws stay within ±{} {unit} (add `clip = [low, high]`)",
                    fmt_n(limit)
                ),
                format!(
                    "one whose draws reach {} once in a billion",
                    fmt_n(d.reach())
                ),
            );
        }
        d
    }

    /// A law of non-negative durations in seconds, bounded by `limit` seconds.
    pub(super) fn delay_law(
        &mut self,
        path: &str,
        v: Option<&Value>,
        default: Dist,
        limit: f64,
    ) -> Dist {
        let d = self.dist(path, v, default, Unit::Seconds, 0.0, f64::INFINITY);
        self.bounded(path, d, limit, "s")
    }

    pub(super) fn err(
        &mut self,
        path: &str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) {
        self.problems.push(Problem {
            path: path.to_string(),
            expected: expected.into(),
            found: found.into(),
        });
    }

    pub(super) fn duration(
        &mut self,
        path: &str,
        v: Option<&String>,
        default: f64,
        min: f64,
        max: f64,
    ) -> f64 {
        let Some(s) = v else { return default };
        match parse_duration(s) {
            Ok(x) if x >= min && x <= max => x,
            Ok(_) => {
                self.err(
                    path,
                    format!("a duration from {} to {}", fmt_s(min), fmt_s(max)),
                    format!("\"{s}\""),
                );
                default
            }
            Err(e) => {
                self.err(
                    path,
                    "a duration such as \"30s\", \"5m\", \"18h\", \"2d\" or \"5y\"",
                    e,
                );
                default
            }
        }
    }

    pub(super) fn number(
        &mut self,
        path: &str,
        v: Option<f64>,
        default: f64,
        min: f64,
        max: f64,
    ) -> f64 {
        let Some(x) = v else { return default };
        if !x.is_finite() || x < min || x > max {
            self.err(
                path,
                format!("a number from {} to {}", fmt_n(min), fmt_n(max)),
                fmt_n(x),
            );
            return default;
        }
        x
    }

    pub(super) fn probability(&mut self, path: &str, v: Option<f64>, default: f64) -> f64 {
        let Some(x) = v else { return default };
        if !(0.0..=1.0).contains(&x) {
            self.err(path, "a probability from 0 to 1", fmt_n(x));
            return default;
        }
        x
    }

    pub(super) fn choice<T>(
        &mut self,
        path: &str,
        v: Option<&String>,
        default: T,
        parse: impl Fn(&str) -> Option<T>,
        names: &str,
    ) -> T {
        let Some(s) = v else { return default };
        match parse(s) {
            Some(t) => t,
            None => {
                self.err(path, format!("one of {names}"), format!("\"{s}\""));
                default
            }
        }
    }
}

pub(super) fn fmt_s(x: f64) -> String {
    if x.is_infinite() {
        return fmt_n(x);
    }
    crate::dist::format_seconds(x)
}

pub fn validate(raw: RawScenario, default_name: &str) -> Result<Scenario, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    let run = run_spec(&mut c, raw.run.unwrap_or_default(), default_name);
    let mut raw_validator = raw.validator.unwrap_or_default();
    let mut cluster = raw_validator
        .cluster
        .take()
        .map(|r| cluster::cluster(&mut c, r));
    let validator = validator(&mut c, raw_validator);
    let raws = raw.population.unwrap_or_default();
    if raws.is_empty() {
        c.err("population", "at least one [[population]] table", "none");
    }
    let single = raws.len() == 1;
    let mut populations = Vec::new();
    for (i, rp) in raws.into_iter().enumerate() {
        populations.push(population(&mut c, rp, &format!("population[{i}]"), single));
    }
    let mut names = std::collections::HashSet::new();
    for (i, p) in populations.iter().enumerate() {
        if p.name == "all" || !names.insert(p.name.clone()) {
            c.err(
                &format!("population[{i}].name"),
                "a unique population name other than `all`",
                format!("\"{}\"", p.name),
            );
        }
    }
    // TOTP has no step before T0 (RFC 6238 section 4.2): a run that starts earlier has
    // no codes to give.
    for (i, p) in populations.iter().enumerate() {
        if p.token.kind.is_totp() && p.token.t0.saturating_mul(1000) > run.start {
            c.err(
                "run.start",
                format!(
                    "a start at or after population[{i}].token.t0 ({}): TOTP has no step before T0",
                    crate::time::format_rfc3339(p.token.t0.saturating_mul(1000))
                ),
                crate::time::format_rfc3339(run.start),
            );
        }
    }
    // A share already refused would only repeat itself in the sum.
    let shares_ok = !c
        .problems
        .iter()
        .any(|p| p.path.starts_with("population[") && p.path.ends_with("].share"));
    if !populations.is_empty() && shares_ok {
        let total: f64 = populations.iter().map(|p| p.share).sum();
        if (total - 1.0).abs() > 1e-6 {
            let shares: Vec<String> = populations.iter().map(|p| fmt_n(p.share)).collect();
            c.err(
                "population",
                "shares that add up to 1",
                format!("{} = {}", shares.join(" + "), fmt_n(total)),
            );
        }
    }
    let attack = raw.attack.map(|a| {
        let guesses_per_day =
            c.number("attack.guesses_per_day", a.guesses_per_day, 100.0, 0.0, 1e9);
        let simulate_accounts = a.simulate_accounts.unwrap_or(0);
        // Every simulated guess is an attempt: a million a day per account is past any
        // validator's rate limit and would only stall the run (the analytic side takes more).
        if simulate_accounts > 0 && guesses_per_day > 1e6 {
            c.err(
                "attack.guesses_per_day",
                "at most 1e6 guesses a day when accounts are simulated (attack.simulate_accounts > 0); the analytic exposure takes up to 1e9",
                fmt_n(guesses_per_day),
            );
        }
        if simulate_accounts > run.tokens {
            c.err(
                "attack.simulate_accounts",
                format!("at most the fleet size ({})", run.tokens),
                simulate_accounts.to_string(),
            );
        }
        super::AttackSpec {
            guesses_per_day,
            simulate_accounts,
        }
    });
    let sweep = match &raw.sweep {
        None => Vec::new(),
        Some(v) => super::sweep::parse_blocks(v).unwrap_or_else(|p| {
            c.problems.push(p);
            Vec::new()
        }),
    };
    let (timeline, schedules) = timeline::timeline(
        &mut c,
        raw.timeline.unwrap_or_default(),
        &validator,
        &populations,
        cluster.as_mut(),
        (run.start, run.end()),
    );
    if c.problems.is_empty() {
        Ok(Scenario {
            run,
            validator,
            populations,
            attack,
            sweep,
            timeline,
            schedules,
            cluster,
            twin: None,
            watch: None,
        })
    } else {
        Err(c.problems)
    }
}
