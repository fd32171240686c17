//! Raw scenario -> typed [`Scenario`]: fills defaults (per token kind), checks every value and
//! collects every problem with its field path, expectation and finding.
//!
//! Defaults rest on DOMAIN.md: hardware tokens drift about 2 min/year (≈4 ppm) within a ±20 ppm
//! crystal tolerance; phones poll network time every 18 h and step only beyond 2 s; PCs without
//! network time drift about 6 min/year (≈11 ppm); batteries last 5 years or 15,000 codes.

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
    presets, AutoResync, DriftLearning, IdleWidening, Lockout, NextCode, Replay, SearchOrder,
    SyncProcedure, ValidatorConfig,
};
use toml::Value;

/// One problem, before it is given a position.
pub struct Problem {
    pub path: String,
    pub expected: String,
    pub found: String,
}

/// The unit a distribution's numbers are written in.
#[derive(Clone, Copy)]
enum Unit {
    /// Durations: strings such as "30s".
    Seconds,
    /// Plain numbers in the named unit.
    Number(&'static str),
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string \"{s}\""),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("number {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}

const DIST_NAMES: &str = "fixed, normal, lognormal, uniform, exponential, mixture";

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn err(&mut self, path: &str, expected: impl Into<String>, found: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            expected: expected.into(),
            found: found.into(),
        });
    }

    fn duration(
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

    fn number(&mut self, path: &str, v: Option<f64>, default: f64, min: f64, max: f64) -> f64 {
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

    fn probability(&mut self, path: &str, v: Option<f64>, default: f64) -> f64 {
        let Some(x) = v else { return default };
        if !(0.0..=1.0).contains(&x) {
            self.err(path, "a probability from 0 to 1", fmt_n(x));
            return default;
        }
        x
    }

    fn choice<T>(
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

    fn scalar(&mut self, path: &str, v: &Value, unit: Unit) -> Option<f64> {
        match (unit, v) {
            (Unit::Seconds, Value::String(s)) => match parse_duration(s) {
                Ok(x) => Some(x),
                Err(e) => {
                    self.err(path, "a duration such as \"30s\" or \"-2m\"", e);
                    None
                }
            },
            (Unit::Seconds, other) => {
                self.err(
                    path,
                    "a duration string such as \"30s\" (a bare number has no unit)",
                    describe(other),
                );
                None
            }
            (Unit::Number(_), Value::Integer(i)) => Some(*i as f64),
            (Unit::Number(_), Value::Float(f)) if f.is_finite() => Some(*f),
            (Unit::Number(u), other) => {
                self.err(path, format!("a number ({u})"), describe(other));
                None
            }
        }
    }

    /// A distribution: a scalar, or a table `{ dist = "...", ..., clip = [lo, hi] }`.
    fn dist_value(&mut self, path: &str, v: &Value, unit: Unit) -> Option<Dist> {
        let Value::Table(t) = v else {
            return self.scalar(path, v, unit).map(Dist::Fixed);
        };
        let Some(kind) = t.get("dist") else {
            self.err(
                &format!("{path}.dist"),
                format!("a `dist` key naming one of {DIST_NAMES}"),
                "a table without `dist`",
            );
            return None;
        };
        let Value::String(kind) = kind else {
            self.err(
                &format!("{path}.dist"),
                format!("one of {DIST_NAMES}"),
                describe(kind),
            );
            return None;
        };
        let params: &[&str] = match kind.as_str() {
            "fixed" => &["value"],
            "normal" => &["mean", "sd"],
            "lognormal" => &["median", "sigma"],
            "uniform" => &["min", "max"],
            "exponential" => &["mean"],
            "mixture" => &["of"],
            _ => {
                self.err(
                    &format!("{path}.dist"),
                    format!("one of {DIST_NAMES}"),
                    format!("\"{kind}\""),
                );
                return None;
            }
        };
        let mut ok = true;
        for k in t.keys() {
            if k != "dist" && k != "clip" && k != "weight" && !params.contains(&k.as_str()) {
                self.err(
                    &format!("{path}.{k}"),
                    format!(
                        "a key of a {kind} distribution ({}, clip)",
                        params.join(", ")
                    ),
                    format!("unknown key `{k}`"),
                );
                ok = false;
            }
        }
        let get = |c: &mut Checker, key: &str, u: Unit| -> Option<f64> {
            match t.get(key) {
                Some(v) => c.scalar(&format!("{path}.{key}"), v, u),
                None => {
                    c.err(
                        &format!("{path}.{key}"),
                        format!("`{key}` for a {kind} distribution"),
                        "nothing",
                    );
                    None
                }
            }
        };
        // sigma is a shape parameter: always a plain number.
        let d = match kind.as_str() {
            "fixed" => get(self, "value", unit).map(Dist::Fixed),
            "normal" => match (get(self, "mean", unit), get(self, "sd", unit)) {
                (Some(mean), Some(sd)) if sd >= 0.0 => Some(Dist::Normal { mean, sd }),
                (Some(_), Some(sd)) => {
                    self.err(
                        &format!("{path}.sd"),
                        "a standard deviation of at least 0",
                        fmt_n(sd),
                    );
                    None
                }
                _ => None,
            },
            "lognormal" => match (
                get(self, "median", unit),
                get(self, "sigma", Unit::Number("shape")),
            ) {
                (Some(median), Some(sigma)) if median > 0.0 && sigma >= 0.0 => {
                    Some(Dist::LogNormal { median, sigma })
                }
                (Some(_), Some(_)) => {
                    self.err(
                        path,
                        "a median above 0 and a sigma of at least 0",
                        "a median or sigma out of range",
                    );
                    None
                }
                _ => None,
            },
            "uniform" => match (get(self, "min", unit), get(self, "max", unit)) {
                (Some(min), Some(max)) if min <= max => Some(Dist::Uniform { min, max }),
                (Some(min), Some(max)) => {
                    self.err(
                        &format!("{path}.max"),
                        format!("a max of at least min ({})", fmt_n(min)),
                        fmt_n(max),
                    );
                    None
                }
                _ => None,
            },
            "exponential" => match get(self, "mean", unit) {
                Some(mean) if mean > 0.0 => Some(Dist::Exponential { mean }),
                Some(mean) => {
                    self.err(&format!("{path}.mean"), "a mean above 0", fmt_n(mean));
                    None
                }
                None => None,
            },
            "mixture" => self.mixture(path, t.get("of"), unit),
            _ => unreachable!(),
        };
        let d = match (d, t.get("clip")) {
            (Some(d), Some(clip)) => self
                .clip(&format!("{path}.clip"), clip, unit)
                .map(|(lo, hi)| d.clipped(lo, hi)),
            (d, _) => d,
        };
        d.filter(|_| ok)
    }

    fn mixture(&mut self, path: &str, of: Option<&Value>, unit: Unit) -> Option<Dist> {
        let p = format!("{path}.of");
        let Some(Value::Array(parts)) = of else {
            self.err(
                &p,
                "an array of tables, each with a `weight` and a distribution",
                of.map_or("nothing".into(), describe),
            );
            return None;
        };
        if parts.is_empty() {
            self.err(&p, "at least one part", "an empty array");
            return None;
        }
        let mut out = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let pp = format!("{p}[{i}]");
            let weight = match part.get("weight") {
                Some(Value::Integer(w)) if *w > 0 => *w as f64,
                Some(Value::Float(w)) if *w > 0.0 && w.is_finite() => *w,
                other => {
                    self.err(
                        &format!("{pp}.weight"),
                        "a weight above 0",
                        other.map_or("nothing".into(), describe),
                    );
                    continue;
                }
            };
            if let Some(d) = self.dist_value(&pp, part, unit) {
                out.push((weight, d));
            }
        }
        (out.len() == parts.len()).then_some(Dist::Mixture(out))
    }

    fn clip(&mut self, path: &str, v: &Value, unit: Unit) -> Option<(f64, f64)> {
        match v {
            Value::Array(a) if a.len() == 2 => {
                let lo = self.scalar(&format!("{path}[0]"), &a[0], unit)?;
                let hi = self.scalar(&format!("{path}[1]"), &a[1], unit)?;
                if lo > hi {
                    self.err(
                        path,
                        "[low, high] with low <= high",
                        format!("[{}, {}]", fmt_n(lo), fmt_n(hi)),
                    );
                    return None;
                }
                Some((lo, hi))
            }
            other => {
                self.err(path, "an array of two bounds, [low, high]", describe(other));
                None
            }
        }
    }

    /// A distribution field with a default and the range every draw must stay in.
    fn dist(
        &mut self,
        path: &str,
        v: Option<&Value>,
        default: Dist,
        unit: Unit,
        lo: f64,
        hi: f64,
    ) -> Dist {
        let Some(v) = v else { return default };
        let Some(d) = self.dist_value(path, v, unit) else {
            return default;
        };
        let (a, b) = d.support();
        if a < lo || b > hi {
            let show = |x: f64| match unit {
                Unit::Seconds => fmt_s(x),
                Unit::Number(_) => fmt_n(x),
            };
            self.err(
                path,
                format!(
                    "values from {} to {} (add `clip = [low, high]` to bound a distribution)",
                    show(lo),
                    show(hi)
                ),
                format!("values from {} to {}", show(a), show(b)),
            );
            return default;
        }
        d
    }
}

fn fmt_n(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 {
            "infinity".into()
        } else {
            "-infinity".into()
        };
    }
    format!("{x}")
}

fn fmt_s(x: f64) -> String {
    if x.is_infinite() {
        return fmt_n(x);
    }
    crate::dist::format_seconds(x)
}

fn normal(mean: f64, sd: f64) -> Dist {
    Dist::Normal { mean, sd }
}

fn lognormal(median: f64, sigma: f64) -> Dist {
    Dist::LogNormal { median, sigma }
}

const OFFICE_HOURS: [f64; 24] = [
    0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.5, 2.0, 1.5, 1.2, 0.8, 1.3, 1.5, 1.3, 1.0, 0.6,
    0.3, 0.2, 0.15, 0.15, 0.1, 0.05,
];
const WORK_WEEK: [f64; 7] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.15, 0.1];

/// A population's defaults for its token kind.
fn kind_defaults(kind: TokenKind) -> (ClockSpec, Option<BatterySpec>, UserSpec, f64, RecoverySpec) {
    let mut clock = ClockSpec::ideal();
    let battery = BatterySpec {
        life_years: 5.0,
        life_codes: 15_000.0,
        self_discharge_per_year: 0.0,
        expiry_s: None,
        age_at_start_s: Dist::Fixed(0.0),
        codes_at_start: Dist::Fixed(0.0),
    };
    let app = matches!(kind, TokenKind::Phone | TokenKind::Desktop);
    let recovery = RecoverySpec {
        step_delay_s: lognormal(120.0, 0.7).clipped(10.0, 1800.0),
        helpdesk_unlock_probability: 0.5,
        helpdesk_delay_s: lognormal(2.0 * 3600.0, 1.0).clipped(300.0, 3.0 * 86_400.0),
        fix_clock_probability: if kind == TokenKind::Phone {
            0.6
        } else if app {
            0.5
        } else {
            0.0
        },
        notice_above_s: 120.0,
        fix_accuracy_s: normal(0.0, 10.0).clipped(-120.0, 120.0),
        resync_probability: if app { 0.3 } else { 0.6 },
        resync_tries: 3,
        reset_probability: if app { 0.4 } else { 0.0 },
        reinstall_probability: if app { 0.7 } else { 0.0 },
        reinstall_delay_s: lognormal(4.0 * 3600.0, 1.0).clipped(600.0, 7.0 * 86_400.0),
        replace_probability: if app { 0.0 } else { 0.5 },
        escalate_after: 2,
        shipping_delay_s: lognormal(5.0 * 86_400.0, 0.4).clipped(86_400.0, 30.0 * 86_400.0),
    };
    let mut user = UserSpec {
        logins_per_day: lognormal(1.5, 0.5).clipped(0.0, 20.0),
        schedule: ScheduleKind::Poisson,
        weekdays: WORK_WEEK,
        hours: OFFICE_HOURS,
        utc_offset_s: 0.0,
        holidays: Vec::new(),
        delay_s: lognormal(7.0, 0.5).clipped(1.0, 90.0),
        fresh_code_below_s: 5.0,
        wait_probability: 0.6,
        typo_probability: 0.02,
        retries: 2,
        retry_delay_s: lognormal(20.0, 0.5).clipped(3.0, 300.0),
    };
    let quartz = |mean_c: f64, daily: f64, seasonal: f64| TemperatureSpec {
        coefficient: normal(0.034, 0.003).clipped(0.030, 0.040),
        turnover_c: normal(25.0, 2.0).clipped(20.0, 30.0),
        mean_c: normal(mean_c, 3.0),
        daily_amplitude_c: Dist::Fixed(daily),
        seasonal_amplitude_c: Dist::Fixed(seasonal),
        warmest_day: 200.0,
        warmest_hour: 14.0,
    };
    let mut unsent = 0.0;
    let battery = match kind {
        TokenKind::Hardware => {
            clock.initial_offset_s = normal(0.0, 2.0).clipped(-30.0, 30.0);
            clock.drift_ppm = normal(0.0, 4.0).clipped(-20.0, 20.0);
            clock.aging_ppm_first_year = normal(0.0, 1.5).clipped(-5.0, 5.0);
            clock.wander_ppm_per_sqrt_day = Dist::Fixed(0.02);
            clock.temperature = Some(quartz(18.0, 4.0, 8.0));
            Some(battery)
        }
        TokenKind::Phone => {
            clock.initial_offset_s = normal(0.0, 0.2);
            clock.drift_ppm = normal(0.0, 8.0).clipped(-30.0, 30.0);
            clock.aging_ppm_first_year = normal(0.0, 1.0).clipped(-5.0, 5.0);
            clock.wander_ppm_per_sqrt_day = Dist::Fixed(0.05);
            clock.temperature = Some(quartz(28.0, 4.0, 3.0));
            clock.sync = SyncSpec {
                enabled: true,
                interval_s: Dist::Fixed(18.0 * 3600.0),
                threshold_s: Dist::Fixed(2.0),
                residual_s: normal(0.0, 0.05).clipped(-1.0, 1.0),
                failure_probability: Dist::Fixed(0.1),
                off_rate_per_year: Dist::Fixed(0.02),
                back_on_after_s: Some(lognormal(60.0 * 86_400.0, 1.0)),
            };
            user.logins_per_day = lognormal(2.0, 0.5).clipped(0.0, 20.0);
            None
        }
        TokenKind::Desktop => {
            clock.initial_offset_s = normal(0.0, 20.0).clipped(-300.0, 300.0);
            clock.drift_ppm = normal(0.0, 12.0).clipped(-50.0, 50.0);
            clock.aging_ppm_first_year = normal(0.0, 1.0).clipped(-5.0, 5.0);
            clock.wander_ppm_per_sqrt_day = Dist::Fixed(0.05);
            clock.temperature = Some(quartz(35.0, 5.0, 2.0));
            clock.events.manual_change = Some(ManualChange {
                rate_per_year: Dist::Fixed(2.0),
                amount_s: normal(0.0, 30.0).clipped(-300.0, 300.0),
            });
            clock.events.timezone_error = Some(TimezoneError {
                rate_per_year: Dist::Fixed(0.2),
                hours: Dist::Mixture(vec![(0.5, Dist::Fixed(-1.0)), (0.5, Dist::Fixed(1.0))]),
                corrected_after_s: Some(lognormal(3.0 * 86_400.0, 1.0)),
            });
            None
        }
        TokenKind::Hotp => {
            unsent = 0.05;
            Some(battery)
        }
    };
    (clock, battery, user, unsent, recovery)
}

pub fn validate(raw: RawScenario, default_name: &str) -> Result<Scenario, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    let run = run_spec(&mut c, raw.run.unwrap_or_default(), default_name);
    let validator = validator(&mut c, raw.validator.unwrap_or_default());
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
    if !populations.is_empty() {
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
        if simulate_accounts > run.tokens {
            c.err(
                "attack.simulate_accounts",
                format!("at most the fleet size ({})", run.tokens),
                simulate_accounts.to_string(),
            );
        }
        crate::attack::AttackSpec {
            guesses_per_day,
            simulate_accounts,
        }
    });
    let sweep = match &raw.sweep {
        None => Vec::new(),
        Some(v) => crate::sweep::parse_blocks(v).unwrap_or_else(|(path, expected, found)| {
            c.err(&path, expected, found);
            Vec::new()
        }),
    };
    if c.problems.is_empty() {
        Ok(Scenario {
            run,
            validator,
            populations,
            attack,
            sweep,
        })
    } else {
        Err(c.problems)
    }
}

fn run_spec(c: &mut Checker, r: RawRun, default_name: &str) -> RunSpec {
    let name = r.name.unwrap_or_else(|| default_name.to_string());
    if name.is_empty()
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        || name.starts_with('.')
    {
        c.err(
            "run.name",
            "a name of letters, digits, `-`, `_` and `.` (it names the results folder)",
            format!("\"{name}\""),
        );
    }
    let start = match r.start.as_deref().map(parse_rfc3339) {
        None => parse_rfc3339("2026-01-01").expect("valid"),
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            c.err("run.start", "a date (YYYY-MM-DD) or RFC 3339 time", e);
            0
        }
    };
    let horizon_s = c.duration(
        "run.horizon",
        r.horizon.as_ref(),
        YEAR_S,
        60.0,
        100.0 * YEAR_S,
    );
    let tokens = r.tokens.unwrap_or(1000);
    if tokens == 0 || tokens > 1_000_000_000 {
        c.err(
            "run.tokens",
            "a fleet size from 1 to 1000000000",
            tokens.to_string(),
        );
    }
    let default_bucket = if horizon_s <= 2.0 * 86_400.0 {
        Bucket::Fixed { ms: 3_600_000 }
    } else if horizon_s <= 92.0 * 86_400.0 {
        Bucket::Fixed { ms: DAY }
    } else if horizon_s <= 20.0 * YEAR_S {
        Bucket::Month
    } else {
        Bucket::Fixed {
            ms: (YEAR_S * 1000.0) as i64,
        }
    };
    let bucket = match r.bucket.as_deref() {
        None => default_bucket,
        Some("month") => Bucket::Month,
        Some(s) => match parse_duration(s) {
            Ok(x) if x >= 60.0 && horizon_s / x <= 100_000.0 => Bucket::Fixed {
                ms: (x * 1000.0).round() as i64,
            },
            Ok(_) => {
                c.err(
                    "run.bucket",
                    "a bucket of at least 1m and at most 100000 buckets over the horizon",
                    format!("\"{s}\""),
                );
                default_bucket
            }
            Err(e) => {
                c.err(
                    "run.bucket",
                    "\"month\" or a duration such as \"1d\" or \"7d\"",
                    e,
                );
                default_bucket
            }
        },
    };
    let decide = c.choice(
        "run.decide",
        r.decide.as_ref(),
        DecideMode::Exact,
        |s| (s == "exact").then_some(DecideMode::Exact),
        "exact",
    );
    RunSpec {
        name,
        start,
        horizon_s,
        tokens,
        seed: r.seed.unwrap_or(1),
        bucket,
        decide,
    }
}

/// A `"none"` or a table with only `keys`, each an integer in its range: the table's values.
fn params(
    c: &mut Checker,
    path: &str,
    v: &Value,
    keys: &[(&str, f64, f64)],
    what: &str,
) -> Option<Option<Vec<Option<f64>>>> {
    match v {
        Value::String(s) if s == "none" => Some(None),
        Value::Table(t) => {
            let mut ok = true;
            for k in t.keys() {
                if !keys.iter().any(|(name, ..)| name == k) {
                    let names: Vec<&str> = keys.iter().map(|k| k.0).collect();
                    c.err(
                        &format!("{path}.{k}"),
                        format!("a key of {what} ({})", names.join(", ")),
                        format!("unknown key `{k}`"),
                    );
                    ok = false;
                }
            }
            let vals = keys
                .iter()
                .map(|(k, lo, hi)| match t.get(*k) {
                    None => None,
                    Some(Value::Integer(i)) if (*i as f64) >= *lo && (*i as f64) <= *hi => {
                        Some(*i as f64)
                    }
                    Some(Value::Float(f)) if *f >= *lo && *f <= *hi => Some(*f),
                    Some(other) => {
                        c.err(
                            &format!("{path}.{k}"),
                            format!("a number from {} to {}", fmt_n(*lo), fmt_n(*hi)),
                            describe(other),
                        );
                        ok = false;
                        None
                    }
                })
                .collect();
            ok.then_some(Some(vals))
        }
        other => {
            c.err(
                path,
                format!("\"none\" or a table for {what}"),
                describe(other),
            );
            None
        }
    }
}

fn validator(c: &mut Checker, r: RawValidator) -> ValidatorConfig {
    let base = match r.preset.as_deref() {
        None => presets::find("rfc6238").expect("built in").config,
        Some(name) => match presets::find(name) {
            Some(p) => p.config,
            None => {
                c.err(
                    "validator.preset",
                    format!("one of {}", presets::names()),
                    format!("\"{name}\""),
                );
                presets::find("rfc6238").expect("built in").config
            }
        },
    };
    let w = r.window.unwrap_or_default();
    let back = w.back.unwrap_or(base.window_back);
    let ahead = w.ahead.unwrap_or(base.window_ahead);
    for (p, v) in [
        ("validator.window.back", back),
        ("validator.window.ahead", ahead),
    ] {
        if v > 10_000 {
            c.err(p, "at most 10000 steps", v.to_string());
        }
    }
    let window = back.max(ahead);
    let search = c.choice(
        "validator.search",
        r.search.as_ref(),
        base.search,
        SearchOrder::parse,
        SearchOrder::NAMES,
    );
    let drift = match &r.drift {
        None => base.drift,
        Some(Value::String(s)) => match s.as_str() {
            "none" => DriftLearning::None,
            "steps" => DriftLearning::Steps,
            "seconds" => DriftLearning::Seconds,
            "explicit" => DriftLearning::Explicit,
            "consistent" => DriftLearning::Consistent { k: 3, search: 1500 },
            _ => {
                c.err(
                    "validator.drift",
                    format!("one of {}", DriftLearning::NAMES),
                    format!("\"{s}\""),
                );
                base.drift
            }
        },
        Some(Value::Table(t)) if t.get("mode") == Some(&Value::String("consistent".into())) => {
            let mut t = t.clone();
            t.remove("mode");
            match params(
                c,
                "validator.drift",
                &Value::Table(t),
                &[("k", 1.0, 10.0), ("search", 1.0, 100_000.0)],
                "consistent drift learning",
            ) {
                Some(Some(v)) => DriftLearning::Consistent {
                    k: v[0].unwrap_or(3.0) as u32,
                    search: v[1].unwrap_or(1500.0) as u32,
                },
                _ => base.drift,
            }
        }
        Some(other) => {
            c.err(
                "validator.drift",
                format!(
                    "one of {} or a table {{ mode = \"consistent\", k = 3, search = 1500 }}",
                    DriftLearning::NAMES
                ),
                describe(other),
            );
            base.drift
        }
    };
    let replay = c.choice(
        "validator.replay",
        r.replay.as_ref(),
        base.replay,
        Replay::parse,
        Replay::NAMES,
    );
    let lockout = match r.lockout {
        None => base.lockout,
        Some(l) => {
            let max_failures = l
                .max_failures
                .unwrap_or(base.lockout.map_or(10, |b| b.max_failures));
            let unlock = match l.unlock_after.as_deref() {
                None => base.lockout.map_or(Some(3600.0), |b| b.unlock_after_s),
                Some("never") => None,
                Some(_) => Some(c.duration(
                    "validator.lockout.unlock_after",
                    l.unlock_after.as_ref(),
                    3600.0,
                    1.0,
                    100.0 * YEAR_S,
                )),
            };
            (max_failures > 0).then_some(Lockout {
                max_failures,
                unlock_after_s: unlock,
            })
        }
    };
    let sync = match &r.sync {
        None => base.sync,
        Some(v) => match params(
            c,
            "validator.sync",
            v,
            &[("codes", 1.0, 10.0), ("window", 0.0, 1e6)],
            "an explicit sync procedure",
        ) {
            Some(Some(p)) => Some(SyncProcedure {
                codes: p[0].unwrap_or(2.0) as u32,
                window: p[1].map_or(base.sync.map_or(window.max(20), |s| s.window), |w| w as u32),
            }),
            Some(None) => None,
            None => base.sync,
        },
    };
    let auto_resync = match &r.auto_resync {
        None => base.auto_resync,
        Some(v) => {
            let keys = [("window", 0.0, 1e6), ("max_gap", 1.0, 1000.0)];
            let mut v = v.clone();
            let timeout = match &mut v {
                Value::Table(t) => t.remove("timeout"),
                _ => None,
            };
            let timeout_s = match timeout {
                None => 300.0,
                Some(Value::String(s)) => c.duration(
                    "validator.auto_resync.timeout",
                    Some(&s),
                    300.0,
                    1.0,
                    100.0 * YEAR_S,
                ),
                Some(other) => {
                    c.err(
                        "validator.auto_resync.timeout",
                        "a duration such as \"5m\"",
                        describe(&other),
                    );
                    300.0
                }
            };
            match params(
                c,
                "validator.auto_resync",
                &v,
                &keys,
                "automatic resync (window, max_gap, timeout)",
            ) {
                Some(Some(p)) => Some(AutoResync {
                    window: p[0].map_or(base.auto_resync.map_or(1000, |a| a.window), |w| w as u32),
                    max_gap: p[1].unwrap_or(3.0) as u32,
                    timeout_s,
                }),
                Some(None) => None,
                None => base.auto_resync,
            }
        }
    };
    let next_code = match &r.next_code {
        None => base.next_code,
        Some(v) => match params(
            c,
            "validator.next_code",
            v,
            &[("window", 0.0, 1e6)],
            "next-code mode",
        ) {
            Some(Some(p)) => Some(NextCode {
                window: p[0].unwrap_or(10.0) as u32,
            }),
            Some(None) => None,
            None => base.next_code,
        },
    };
    let idle_widening = match &r.idle_widening {
        None => base.idle_widening,
        Some(v) => match params(
            c,
            "validator.idle_widening",
            v,
            &[("steps_per_day", 0.0, 1e6), ("max_extra", 0.0, 1e6)],
            "idle widening",
        ) {
            Some(Some(p)) => Some(IdleWidening {
                steps_per_day: p[0].unwrap_or(2.0 / 30.0),
                max_extra: p[1].unwrap_or(20.0) as u32,
            }),
            Some(None) => None,
            None => base.idle_widening,
        },
    };
    if let Some(s) = sync {
        if s.window < window {
            c.err(
                "validator.sync.window",
                format!("a sync window of at least the validation window ({window} steps)"),
                format!("{} steps", s.window),
            );
        }
    }
    if let Some(a) = auto_resync {
        if a.window < window {
            c.err(
                "validator.auto_resync.window",
                format!("a resync window of at least the validation window ({window} steps)"),
                format!("{} steps", a.window),
            );
        }
    }
    if let Some(n) = next_code {
        if n.window <= window {
            c.err(
                "validator.next_code.window",
                format!("a next-code window wider than the validation window ({window} steps)"),
                format!("{} steps", n.window),
            );
        }
    }
    let hotp_look_ahead = r.hotp_look_ahead.unwrap_or(base.hotp_look_ahead);
    if hotp_look_ahead > 100_000 {
        c.err(
            "validator.hotp_look_ahead",
            "at most 100000 counters",
            hotp_look_ahead.to_string(),
        );
    }
    let server_offset_s = c.duration(
        "validator.server_offset",
        r.server_offset.as_ref(),
        base.server_offset_s,
        -100.0 * YEAR_S,
        100.0 * YEAR_S,
    );
    ValidatorConfig {
        preset: base.preset,
        window_back: back,
        window_ahead: ahead,
        search,
        drift,
        replay,
        skip_refused: r.skip_refused.unwrap_or(base.skip_refused),
        lockout,
        sync,
        auto_resync,
        next_code,
        idle_widening,
        hotp_look_ahead,
        server_offset_s,
    }
}

fn population(c: &mut Checker, r: RawPopulation, path: &str, single: bool) -> Population {
    let rt = r.token.unwrap_or_default();
    let tp = format!("{path}.token");
    let kind = match rt.kind.as_ref() {
        None => {
            c.err(
                &format!("{tp}.kind"),
                format!("a token kind: one of {}", TokenKind::NAMES),
                "nothing",
            );
            TokenKind::Hardware
        }
        Some(_) => c.choice(
            &format!("{tp}.kind"),
            rt.kind.as_ref(),
            TokenKind::Hardware,
            TokenKind::parse,
            TokenKind::NAMES,
        ),
    };
    let (kclock, kbattery, kuser, unsent, krecovery) = kind_defaults(kind);
    let name = r.name.unwrap_or_else(|| kind.to_string());
    let share = match r.share {
        None if single => 1.0,
        None => {
            c.err(
                &format!("{path}.share"),
                "a share of the fleet from 0 to 1 (needed when there are several populations)",
                "nothing",
            );
            0.0
        }
        Some(s) => c.number(&format!("{path}.share"), Some(s), 0.0, 0.0, 1.0),
    };
    let algorithm = c.choice(
        &format!("{tp}.algorithm"),
        rt.algorithm.as_ref(),
        Algorithm::Sha1,
        Algorithm::parse,
        Algorithm::NAMES,
    );
    let digits = rt.digits.unwrap_or(6);
    if !(1..=9).contains(&digits) {
        c.err(
            &format!("{tp}.digits"),
            "1 to 9 digits (RFC 4226 asks for 6 to 8; fewer only to study guessing)",
            digits.to_string(),
        );
    }
    let step = c.duration(&format!("{tp}.step"), rt.step.as_ref(), 30.0, 1.0, 86_400.0);
    if step.fract() != 0.0 {
        c.err(
            &format!("{tp}.step"),
            "a whole number of seconds",
            fmt_s(step),
        );
    }
    let token = TokenSpec {
        kind,
        algorithm,
        digits,
        step_s: step as u32,
        t0: rt.t0.unwrap_or(0),
        unsent_presses_per_day: c.number(
            &format!("{tp}.unsent_presses_per_day"),
            rt.unsent_presses_per_day,
            unsent,
            0.0,
            1000.0,
        ),
    };
    if kind != TokenKind::Hotp && rt.unsent_presses_per_day.is_some() {
        c.err(
            &format!("{tp}.unsent_presses_per_day"),
            "this field only for kind = \"hotp\"",
            format!("kind = \"{kind}\""),
        );
    }
    let clock = clock(
        c,
        r.clock.unwrap_or_default(),
        &format!("{path}.clock"),
        kclock,
    );
    let battery = battery(c, r.battery, &format!("{path}.battery"), kbattery);
    let user = user(
        c,
        r.user.unwrap_or_default(),
        &format!("{path}.user"),
        kuser,
    );
    let recovery = recovery(
        c,
        r.recovery.unwrap_or_default(),
        &format!("{path}.recovery"),
        krecovery,
    );
    Population {
        name,
        share,
        token,
        clock,
        battery,
        user,
        recovery,
    }
}

fn clock(c: &mut Checker, r: RawClock, path: &str, kind_clock: ClockSpec) -> ClockSpec {
    let p = |f: &str| format!("{path}.{f}");
    let base = match r.profile.as_deref() {
        None | Some("kind") => kind_clock,
        Some("ideal") => ClockSpec::ideal(),
        Some(other) => {
            c.err(
                &p("profile"),
                "\"kind\" (the token kind's defaults) or \"ideal\" (a perfect clock)",
                format!("\"{other}\""),
            );
            kind_clock
        }
    };
    const BIG: f64 = f64::INFINITY;
    let initial_offset_s = c.dist(
        &p("initial_offset"),
        r.initial_offset.as_ref(),
        base.initial_offset_s,
        Unit::Seconds,
        -BIG,
        BIG,
    );
    let drift_ppm = c.dist(
        &p("drift_ppm"),
        r.drift_ppm.as_ref(),
        base.drift_ppm,
        Unit::Number("ppm"),
        -BIG,
        BIG,
    );
    let aging = c.dist(
        &p("aging_ppm_first_year"),
        r.aging_ppm_first_year.as_ref(),
        base.aging_ppm_first_year,
        Unit::Number("ppm"),
        -BIG,
        BIG,
    );
    let wander = c.dist(
        &p("wander_ppm_per_sqrt_day"),
        r.wander_ppm_per_sqrt_day.as_ref(),
        base.wander_ppm_per_sqrt_day,
        Unit::Number("ppm per sqrt(day)"),
        0.0,
        BIG,
    );
    let temperature = match r.temperature {
        None => base.temperature,
        Some(t) if t.enabled == Some(false) => None,
        Some(t) => {
            let tp = |f: &str| format!("{path}.temperature.{f}");
            let d = base.temperature.unwrap_or(TemperatureSpec {
                coefficient: Dist::Fixed(0.034),
                turnover_c: Dist::Fixed(25.0),
                mean_c: Dist::Fixed(20.0),
                daily_amplitude_c: Dist::Fixed(0.0),
                seasonal_amplitude_c: Dist::Fixed(0.0),
                warmest_day: 200.0,
                warmest_hour: 14.0,
            });
            let deg = Unit::Number("°C");
            Some(TemperatureSpec {
                coefficient: c.dist(
                    &tp("coefficient"),
                    t.coefficient.as_ref(),
                    d.coefficient,
                    Unit::Number("ppm/°C²"),
                    0.0,
                    f64::INFINITY,
                ),
                turnover_c: c.dist(
                    &tp("turnover"),
                    t.turnover.as_ref(),
                    d.turnover_c,
                    deg,
                    f64::NEG_INFINITY,
                    f64::INFINITY,
                ),
                mean_c: c.dist(
                    &tp("mean"),
                    t.mean.as_ref(),
                    d.mean_c,
                    deg,
                    f64::NEG_INFINITY,
                    f64::INFINITY,
                ),
                daily_amplitude_c: c.dist(
                    &tp("daily_amplitude"),
                    t.daily_amplitude.as_ref(),
                    d.daily_amplitude_c,
                    deg,
                    0.0,
                    f64::INFINITY,
                ),
                seasonal_amplitude_c: c.dist(
                    &tp("seasonal_amplitude"),
                    t.seasonal_amplitude.as_ref(),
                    d.seasonal_amplitude_c,
                    deg,
                    0.0,
                    f64::INFINITY,
                ),
                warmest_day: c.number(&tp("warmest_day"), t.warmest_day, d.warmest_day, 0.0, 366.0),
                warmest_hour: c.number(
                    &tp("warmest_hour"),
                    t.warmest_hour,
                    d.warmest_hour,
                    0.0,
                    24.0,
                ),
            })
        }
    };
    let sync = match r.sync {
        None => base.sync,
        Some(s) => {
            let sp = |f: &str| format!("{path}.sync.{f}");
            let d = base.sync;
            let enabled = s.enabled.unwrap_or(true);
            SyncSpec {
                enabled,
                interval_s: c.dist(
                    &sp("interval"),
                    s.interval.as_ref(),
                    d.interval_s,
                    Unit::Seconds,
                    1.0,
                    BIG,
                ),
                threshold_s: c.dist(
                    &sp("threshold"),
                    s.threshold.as_ref(),
                    d.threshold_s,
                    Unit::Seconds,
                    0.0,
                    BIG,
                ),
                residual_s: c.dist(
                    &sp("residual"),
                    s.residual.as_ref(),
                    d.residual_s,
                    Unit::Seconds,
                    -BIG,
                    BIG,
                ),
                failure_probability: c.dist(
                    &sp("failure_probability"),
                    s.failure_probability.as_ref(),
                    d.failure_probability,
                    PROBABILITY,
                    0.0,
                    1.0,
                ),
                off_rate_per_year: c.dist(
                    &sp("off_rate_per_year"),
                    s.off_rate_per_year.as_ref(),
                    d.off_rate_per_year,
                    RATE,
                    0.0,
                    BIG,
                ),
                back_on_after_s: match &s.back_on_after {
                    Some(Value::String(n)) if n == "never" => None,
                    Some(v) => Some(c.dist(
                        &sp("back_on_after"),
                        Some(v),
                        Dist::Fixed(0.0),
                        Unit::Seconds,
                        0.0,
                        BIG,
                    )),
                    None => d.back_on_after_s,
                },
            }
        }
    };
    let events = events(c, r.events, path, base.events);
    ClockSpec {
        initial_offset_s,
        drift_ppm,
        aging_ppm_first_year: aging,
        wander_ppm_per_sqrt_day: wander,
        temperature,
        sync,
        events,
    }
}

const RATE: Unit = Unit::Number("events per year");
const PROBABILITY: Unit = Unit::Number("probability");

fn rate(c: &mut Checker, path: &str, v: Option<&Value>, default: Dist) -> Dist {
    c.dist(path, v, default, RATE, 0.0, f64::INFINITY)
}

fn events(c: &mut Checker, r: Option<RawEvents>, path: &str, base: EventsSpec) -> EventsSpec {
    let Some(r) = r else { return base };
    const BIG: f64 = f64::INFINITY;
    let ep = |e: &str, f: &str| format!("{path}.events.{e}.{f}");
    let manual_change = match r.manual_change {
        None => base.manual_change,
        Some(m) => {
            let d = base.manual_change.unwrap_or(ManualChange {
                rate_per_year: Dist::Fixed(0.0),
                amount_s: Dist::Normal {
                    mean: 0.0,
                    sd: 30.0,
                },
            });
            Some(ManualChange {
                rate_per_year: rate(
                    c,
                    &ep("manual_change", "rate_per_year"),
                    m.rate_per_year.as_ref(),
                    d.rate_per_year,
                ),
                amount_s: c.dist(
                    &ep("manual_change", "amount"),
                    m.amount.as_ref(),
                    d.amount_s,
                    Unit::Seconds,
                    -BIG,
                    BIG,
                ),
            })
        }
    };
    let timezone_error = match r.timezone_error {
        None => base.timezone_error,
        Some(t) => {
            let d = base.timezone_error.unwrap_or(TimezoneError {
                rate_per_year: Dist::Fixed(0.0),
                hours: Dist::Mixture(vec![(0.5, Dist::Fixed(-1.0)), (0.5, Dist::Fixed(1.0))]),
                corrected_after_s: Some(lognormal(3.0 * 86_400.0, 1.0)),
            });
            Some(TimezoneError {
                rate_per_year: rate(
                    c,
                    &ep("timezone_error", "rate_per_year"),
                    t.rate_per_year.as_ref(),
                    d.rate_per_year,
                ),
                hours: c.dist(
                    &ep("timezone_error", "hours"),
                    t.hours.as_ref(),
                    d.hours,
                    Unit::Number("hours"),
                    -BIG,
                    BIG,
                ),
                corrected_after_s: match &t.corrected_after {
                    Some(Value::String(n)) if n == "never" => None,
                    Some(v) => Some(c.dist(
                        &ep("timezone_error", "corrected_after"),
                        Some(v),
                        Dist::Fixed(0.0),
                        Unit::Seconds,
                        0.0,
                        BIG,
                    )),
                    None => d.corrected_after_s,
                },
            })
        }
    };
    let reset = match r.reset {
        None => base.reset,
        Some(x) => {
            let to = match x.to.as_deref().map(parse_rfc3339) {
                None => parse_rfc3339("2020-01-01").expect("valid"),
                Some(Ok(t)) => t,
                Some(Err(e)) => {
                    c.err(
                        &ep("reset", "to"),
                        "the factory or build date (YYYY-MM-DD)",
                        e,
                    );
                    0
                }
            };
            Some(Reset {
                rate_per_year: rate(
                    c,
                    &ep("reset", "rate_per_year"),
                    x.rate_per_year.as_ref(),
                    base.reset.map_or(Dist::Fixed(0.0), |b| b.rate_per_year),
                ),
                to,
            })
        }
    };
    let future_trip = match r.future_trip {
        None => base.future_trip,
        Some(f) => {
            let d = base.future_trip.unwrap_or(FutureTrip {
                rate_per_year: Dist::Fixed(0.0),
                amount_s: Dist::Fixed(3600.0),
                back_after_s: Dist::Fixed(86_400.0),
            });
            Some(FutureTrip {
                rate_per_year: rate(
                    c,
                    &ep("future_trip", "rate_per_year"),
                    f.rate_per_year.as_ref(),
                    d.rate_per_year,
                ),
                amount_s: c.dist(
                    &ep("future_trip", "amount"),
                    f.amount.as_ref(),
                    d.amount_s,
                    Unit::Seconds,
                    -BIG,
                    BIG,
                ),
                back_after_s: c.dist(
                    &ep("future_trip", "back_after"),
                    f.back_after.as_ref(),
                    d.back_after_s,
                    Unit::Seconds,
                    0.0,
                    BIG,
                ),
            })
        }
    };
    EventsSpec {
        manual_change,
        timezone_error,
        reset,
        future_trip,
    }
}

fn battery(
    c: &mut Checker,
    r: Option<RawBattery>,
    path: &str,
    base: Option<BatterySpec>,
) -> Option<BatterySpec> {
    let Some(r) = r else { return base };
    if r.enabled == Some(false) {
        return None;
    }
    let d = base.unwrap_or(BatterySpec {
        life_years: 5.0,
        life_codes: 15_000.0,
        self_discharge_per_year: 0.0,
        expiry_s: None,
        age_at_start_s: Dist::Fixed(0.0),
        codes_at_start: Dist::Fixed(0.0),
    });
    let p = |f: &str| format!("{path}.{f}");
    Some(BatterySpec {
        life_years: c.number(&p("life_years"), r.life_years, d.life_years, 0.001, 1000.0),
        life_codes: c.number(&p("life_codes"), r.life_codes, d.life_codes, 1.0, 1e12),
        self_discharge_per_year: c.number(
            &p("self_discharge_per_year"),
            r.self_discharge_per_year,
            d.self_discharge_per_year,
            0.0,
            1.0,
        ),
        age_at_start_s: c.dist(
            &p("age_at_start"),
            r.age_at_start.as_ref(),
            d.age_at_start_s,
            Unit::Seconds,
            0.0,
            f64::INFINITY,
        ),
        codes_at_start: c.dist(
            &p("codes_at_start"),
            r.codes_at_start.as_ref(),
            d.codes_at_start,
            Unit::Number("codes"),
            0.0,
            f64::INFINITY,
        ),
        expiry_s: match r.expiry.as_deref() {
            None => d.expiry_s,
            Some("never") => None,
            Some(_) => Some(c.duration(&p("expiry"), r.expiry.as_ref(), 0.0, 1.0, 1000.0 * YEAR_S)),
        },
    })
}

fn recovery(c: &mut Checker, r: RawRecovery, path: &str, d: RecoverySpec) -> RecoverySpec {
    let p = |f: &str| format!("{path}.{f}");
    let d = if r.enabled == Some(false) {
        d.disabled()
    } else {
        d
    };
    let escalate_after = match r.escalate_after {
        Some(0) => {
            c.err(&p("escalate_after"), "at least 1 failed incident", "0");
            d.escalate_after
        }
        Some(n) => n,
        None => d.escalate_after,
    };
    let inf = f64::INFINITY;
    let resync_tries = match r.resync_tries {
        Some(n) if n > 20 => {
            c.err(&p("resync_tries"), "at most 20 tries", n.to_string());
            d.resync_tries
        }
        Some(n) => n,
        None => d.resync_tries,
    };
    RecoverySpec {
        step_delay_s: c.dist(
            &p("step_delay"),
            r.step_delay.as_ref(),
            d.step_delay_s,
            Unit::Seconds,
            0.0,
            inf,
        ),
        helpdesk_unlock_probability: c.probability(
            &p("helpdesk_unlock_probability"),
            r.helpdesk_unlock_probability,
            d.helpdesk_unlock_probability,
        ),
        helpdesk_delay_s: c.dist(
            &p("helpdesk_delay"),
            r.helpdesk_delay.as_ref(),
            d.helpdesk_delay_s,
            Unit::Seconds,
            0.0,
            inf,
        ),
        fix_clock_probability: c.probability(
            &p("fix_clock_probability"),
            r.fix_clock_probability,
            d.fix_clock_probability,
        ),
        notice_above_s: c.duration(
            &p("notice_above"),
            r.notice_above.as_ref(),
            d.notice_above_s,
            0.0,
            inf,
        ),
        fix_accuracy_s: c.dist(
            &p("fix_accuracy"),
            r.fix_accuracy.as_ref(),
            d.fix_accuracy_s,
            Unit::Seconds,
            -inf,
            inf,
        ),
        resync_probability: c.probability(
            &p("resync_probability"),
            r.resync_probability,
            d.resync_probability,
        ),
        resync_tries,
        reset_probability: c.probability(
            &p("reset_probability"),
            r.reset_probability,
            d.reset_probability,
        ),
        reinstall_probability: c.probability(
            &p("reinstall_probability"),
            r.reinstall_probability,
            d.reinstall_probability,
        ),
        reinstall_delay_s: c.dist(
            &p("reinstall_delay"),
            r.reinstall_delay.as_ref(),
            d.reinstall_delay_s,
            Unit::Seconds,
            0.0,
            inf,
        ),
        replace_probability: c.probability(
            &p("replace_probability"),
            r.replace_probability,
            d.replace_probability,
        ),
        escalate_after,
        shipping_delay_s: c.dist(
            &p("shipping_delay"),
            r.shipping_delay.as_ref(),
            d.shipping_delay_s,
            Unit::Seconds,
            0.0,
            inf,
        ),
    }
}

fn profile<const N: usize>(
    c: &mut Checker,
    path: &str,
    v: Option<Vec<f64>>,
    default: [f64; N],
    what: &str,
) -> [f64; N] {
    let Some(v) = v else { return default };
    if v.len() != N || v.iter().any(|x| !x.is_finite() || *x < 0.0) || v.iter().sum::<f64>() <= 0.0
    {
        c.err(
            path,
            format!("{N} non-negative weights ({what}) with a positive sum"),
            format!("{} values", v.len()),
        );
        return default;
    }
    let mut out = [0.0; N];
    out.copy_from_slice(&v);
    out
}

fn user(c: &mut Checker, r: RawUser, path: &str, d: UserSpec) -> UserSpec {
    let p = |f: &str| format!("{path}.{f}");
    const HOUR_S: f64 = 3600.0;
    let holidays = match r.holidays {
        None => d.holidays,
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match parse_holiday(s) {
                Some(h) => Some(h),
                None => {
                    c.err(
                        &format!("{}[{i}]", p("holidays")),
                        "a date \"MM-DD\" (every year) or \"YYYY-MM-DD\"",
                        format!("\"{s}\""),
                    );
                    None
                }
            })
            .collect(),
    };
    UserSpec {
        logins_per_day: c.dist(
            &p("logins_per_day"),
            r.logins_per_day.as_ref(),
            d.logins_per_day,
            Unit::Number("logins per day"),
            0.0,
            f64::INFINITY,
        ),
        schedule: c.choice(
            &p("schedule"),
            r.schedule.as_ref(),
            d.schedule,
            |s| match s {
                "poisson" => Some(ScheduleKind::Poisson),
                "exact" => Some(ScheduleKind::Exact),
                _ => None,
            },
            ScheduleKind::NAMES,
        ),
        weekdays: profile(
            c,
            &p("weekdays"),
            r.weekdays,
            d.weekdays,
            "Monday to Sunday",
        ),
        hours: profile(c, &p("hours"), r.hours, d.hours, "local hours 0 to 23"),
        utc_offset_s: c.duration(
            &p("utc_offset"),
            r.utc_offset.as_ref(),
            d.utc_offset_s,
            -14.0 * HOUR_S,
            14.0 * HOUR_S,
        ),
        holidays,
        delay_s: c.dist(
            &p("delay"),
            r.delay.as_ref(),
            d.delay_s,
            Unit::Seconds,
            0.0,
            f64::INFINITY,
        ),
        fresh_code_below_s: c.duration(
            &p("fresh_code_below"),
            r.fresh_code_below.as_ref(),
            d.fresh_code_below_s,
            0.0,
            86_400.0,
        ),
        wait_probability: c.probability(
            &p("wait_probability"),
            r.wait_probability,
            d.wait_probability,
        ),
        typo_probability: c.probability(
            &p("typo_probability"),
            r.typo_probability,
            d.typo_probability,
        ),
        retries: match r.retries {
            Some(n) if n > 100 => {
                c.err(&p("retries"), "at most 100 retries", n.to_string());
                d.retries
            }
            Some(n) => n,
            None => d.retries,
        },
        retry_delay_s: c.dist(
            &p("retry_delay"),
            r.retry_delay.as_ref(),
            d.retry_delay_s,
            Unit::Seconds,
            0.0,
            f64::INFINITY,
        ),
    }
}

fn parse_holiday(s: &str) -> Option<Holiday> {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |x: &str| x.parse::<i64>().ok();
    let (year, m, d) = match parts.as_slice() {
        [m, d] if m.len() == 2 && d.len() == 2 => (None, num(m)?, num(d)?),
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            (Some(num(y)?), num(m)?, num(d)?)
        }
        _ => return None,
    };
    let check_year = year.unwrap_or(2000); // a leap year, so 02-29 is allowed yearly
    parse_rfc3339(&format!("{check_year:04}-{m:02}-{d:02}")).ok()?;
    Some(Holiday {
        year,
        month: m as u32,
        day: d as u32,
    })
}
