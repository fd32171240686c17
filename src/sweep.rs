//! Parameter sweeps over one fleet: `[sweep]` blocks naming scenario fields by path with lists
//! or ranges of values, combined as a grid or zipped; every point runs on the same fleet
//! (common random numbers), and `--target` constraints pick the settings to recommend.

use crate::attack::{exposure, AttackSpec, Exposure};
use crate::metrics::{wilson95, Counts};
use crate::scenario::{Override, Scenario, ScenarioError};
use crate::sim::RunResult;
use serde_json::json;
use std::fmt;
use toml::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// Every combination of the values.
    Grid,
    /// The i-th value of every parameter together (equal lengths).
    Zip,
}

/// One `[sweep]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepBlock {
    pub combine: Combine,
    pub params: Vec<(String, Vec<Value>)>,
}

type Problem = (String, String, String);

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string \"{s}\""),
        Value::Table(_) => "a table".into(),
        Value::Array(_) => "an array".into(),
        other => other.to_string(),
    }
}

fn parse_values(path: &str, v: &Value) -> Result<Vec<Value>, Problem> {
    match v {
        Value::Array(a) if !a.is_empty() => Ok(a.clone()),
        Value::Array(_) => Err((
            path.into(),
            "at least one value".into(),
            "an empty array".into(),
        )),
        Value::Table(t) => {
            for k in t.keys() {
                if !["from", "to", "step"].contains(&k.as_str()) {
                    return Err((
                        format!("{path}.{k}"),
                        "from, to or step".into(),
                        format!("unknown key `{k}`"),
                    ));
                }
            }
            let num = |k: &str| -> Result<Option<(f64, bool)>, Problem> {
                match t.get(k) {
                    None => Ok(None),
                    Some(Value::Integer(i)) => Ok(Some((*i as f64, true))),
                    Some(Value::Float(f)) => Ok(Some((*f, false))),
                    Some(o) => Err((format!("{path}.{k}"), "a number".into(), describe(o))),
                }
            };
            let (Some(from), Some(to)) = (num("from")?, num("to")?) else {
                return Err((
                    path.into(),
                    "a range { from = A, to = B, step = S }".into(),
                    "a table without from and to".into(),
                ));
            };
            let step = num("step")?.unwrap_or((1.0, true));
            if step.0 <= 0.0 || to.0 < from.0 {
                return Err((
                    path.into(),
                    "from <= to and a step above 0".into(),
                    format!("from {} to {} step {}", from.0, to.0, step.0),
                ));
            }
            let n = ((to.0 - from.0) / step.0 + 1e-9).floor() as usize + 1;
            if n > 1000 {
                return Err((
                    path.into(),
                    "at most 1000 values".into(),
                    format!("{n} values"),
                ));
            }
            let ints = from.1 && to.1 && step.1;
            Ok((0..n)
                .map(|i| {
                    let x = from.0 + i as f64 * step.0;
                    if ints {
                        Value::Integer(x.round() as i64)
                    } else {
                        Value::Float((x * 1e9).round() / 1e9)
                    }
                })
                .collect())
        }
        other => Err((
            path.into(),
            "a list of values or a range { from, to, step }".into(),
            describe(other),
        )),
    }
}

fn parse_block(path: &str, t: &toml::Table) -> Result<SweepBlock, Problem> {
    for k in t.keys() {
        if k != "combine" && k != "vary" {
            return Err((
                format!("{path}.{k}"),
                "combine or vary".into(),
                format!("unknown key `{k}`"),
            ));
        }
    }
    let combine = match t.get("combine") {
        None => Combine::Grid,
        Some(Value::String(s)) if s == "grid" => Combine::Grid,
        Some(Value::String(s)) if s == "zip" => Combine::Zip,
        Some(o) => {
            return Err((
                format!("{path}.combine"),
                "\"grid\" or \"zip\"".into(),
                describe(o),
            ))
        }
    };
    let Some(Value::Table(vary)) = t.get("vary") else {
        return Err((format!("{path}.vary"), "a table of field paths and their values, e.g. vary = { \"validator.window.back\" = [1, 2, 3] }".into(), t.get("vary").map_or("nothing".into(), describe)));
    };
    if vary.is_empty() {
        return Err((
            format!("{path}.vary"),
            "at least one field to vary".into(),
            "an empty table".into(),
        ));
    }
    let mut params = Vec::new();
    for (k, v) in vary {
        params.push((k.clone(), parse_values(&format!("{path}.vary.{k}"), v)?));
    }
    if combine == Combine::Zip {
        let n = params[0].1.len();
        if let Some((k, v)) = params.iter().find(|p| p.1.len() != n) {
            return Err((
                format!("{path}.vary.{k}"),
                format!(
                    "{n} values, as many as `{}` (combine = \"zip\")",
                    params[0].0
                ),
                format!("{} values", v.len()),
            ));
        }
    }
    let points: usize = match combine {
        Combine::Grid => params.iter().map(|p| p.1.len()).product(),
        Combine::Zip => params[0].1.len(),
    };
    if points > 10_000 {
        return Err((
            path.into(),
            "at most 10000 points".into(),
            format!("{points} points"),
        ));
    }
    Ok(SweepBlock { combine, params })
}

/// Parses `[sweep]` (one table) or `[[sweep]]` (several, whose points are concatenated).
pub fn parse_blocks(v: &Value) -> Result<Vec<SweepBlock>, Problem> {
    match v {
        Value::Table(t) => Ok(vec![parse_block("sweep", t)?]),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, b)| match b {
                Value::Table(t) => parse_block(&format!("sweep[{i}]"), t),
                o => Err((format!("sweep[{i}]"), "a table".into(), describe(o))),
            })
            .collect(),
        o => Err((
            "sweep".into(),
            "a [sweep] table or [[sweep]] tables".into(),
            describe(o),
        )),
    }
}

/// The blocks written back in scenario syntax.
pub fn blocks_value(blocks: &[SweepBlock]) -> serde_json::Value {
    serde_json::Value::Array(
        blocks
            .iter()
            .map(|b| {
                let vary: serde_json::Map<String, serde_json::Value> = b
                    .params
                    .iter()
                    .map(|(k, vs)| (k.clone(), serde_json::to_value(vs).expect("TOML values serialize")))
                    .collect();
                json!({"combine": if b.combine == Combine::Grid { "grid" } else { "zip" }, "vary": vary})
            })
            .collect(),
    )
}

/// One setting of a sweep: field paths and the values they take.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub settings: Vec<(String, Value)>,
}

impl Point {
    pub fn overrides(&self) -> Vec<Override> {
        self.settings
            .iter()
            .map(|(path, v)| {
                Override::new(
                    path,
                    crate::scenario::overrides::parse_value(&v.to_string()),
                )
            })
            .collect()
    }

    /// A short label: `validator.window.back=2, validator.preset=vip`.
    pub fn label(&self) -> String {
        self.settings
            .iter()
            .map(|(p, v)| format!("{}={}", p.rsplit('.').next().unwrap_or(p), plain(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A value as a CSV cell or label: strings without quotes.
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every point of the blocks, in order.
pub fn points(blocks: &[SweepBlock]) -> Vec<Point> {
    let mut out = Vec::new();
    for b in blocks {
        match b.combine {
            Combine::Zip => {
                for i in 0..b.params[0].1.len() {
                    out.push(Point {
                        settings: b
                            .params
                            .iter()
                            .map(|(k, v)| (k.clone(), v[i].clone()))
                            .collect(),
                    });
                }
            }
            Combine::Grid => {
                let mut acc: Vec<Vec<(String, Value)>> = vec![Vec::new()];
                for (k, vs) in &b.params {
                    acc = acc
                        .into_iter()
                        .flat_map(|s| {
                            vs.iter().map(move |v| {
                                let mut s2 = s.clone();
                                s2.push((k.clone(), v.clone()));
                                s2
                            })
                        })
                        .collect();
                }
                out.extend(acc.into_iter().map(|settings| Point { settings }));
            }
        }
    }
    out
}

/// The scenario of every point, each checked; problems name the point.
pub fn scenarios(
    file: &str,
    text: &str,
    base: &Scenario,
) -> Result<(Vec<Point>, Vec<Scenario>), ScenarioError> {
    let pts = points(&base.sweep);
    let mut out = Vec::with_capacity(pts.len());
    let mut problems = Vec::new();
    for (i, p) in pts.iter().enumerate() {
        match Scenario::from_toml_with(file, text, &p.overrides()) {
            Ok(sc) => out.push(sc),
            Err(e) => problems.extend(e.diagnostics.into_iter().map(|mut d| {
                d.found = format!("{} (sweep point {}: {})", d.found, i + 1, p.label());
                d
            })),
        }
    }
    if problems.is_empty() {
        Ok((pts, out))
    } else {
        Err(ScenarioError {
            diagnostics: problems,
        })
    }
}

/// Whether the points can share one fleet: same size, populations and shares, so that token i
/// is the same user at every point.
pub fn same_fleet(points: &[Scenario]) -> bool {
    points.windows(2).all(|w| {
        let (a, b) = (&w[0], &w[1]);
        a.run.tokens == b.run.tokens
            && a.run.seed == b.run.seed
            && a.run.start == b.run.start
            && a.run.end() == b.run.end()
            && a.run.bucket == b.run.bucket
            && a.population_sizes() == b.population_sizes()
    })
}

/// One row of sweep.csv: a point and one population (or `all`).
#[derive(Clone, Debug)]
pub struct Row {
    pub point: usize,
    pub label: String,
    pub population: String,
    pub counts: Counts,
    pub tokens: u64,
    pub exposure: Exposure,
    pub cells: Vec<(String, f64)>,
}

/// Summary figures per point and population, with the analytic attacker side.
pub fn rows(points: &[Point], scenarios: &[Scenario], results: &[RunResult]) -> Vec<Row> {
    let mut out = Vec::new();
    for (i, ((pt, sc), r)) in points.iter().zip(scenarios).zip(results).enumerate() {
        let spec = sc.attack.clone().unwrap_or(AttackSpec {
            guesses_per_day: 100.0,
            simulate_accounts: 0,
        });
        let sizes = sc.population_sizes();
        let exps: Vec<Exposure> = (0..sc.populations.len())
            .map(|p| exposure(sc, p, &spec))
            .collect();
        let years = (sc.run.end() - sc.run.start) as f64 / 1000.0 / crate::time::YEAR_S;
        let mut push = |name: String, counts: Counts, tokens: u64, e: Exposure| {
            let logins = counts.logins.max(1) as f64;
            let cells = vec![
                (
                    "incidents_per_1000_logins".to_string(),
                    counts.incidents as f64 / logins * 1000.0,
                ),
                (
                    "lockouts_per_1000_logins".to_string(),
                    counts.lockouts as f64 / logins * 1000.0,
                ),
                (
                    "tickets_per_100_users_year".to_string(),
                    counts.tickets() as f64 / (tokens.max(1) as f64) / years.max(1e-9) * 100.0,
                ),
            ];
            out.push(Row {
                point: i + 1,
                label: pt.label(),
                population: name,
                counts,
                tokens,
                exposure: e,
                cells,
            });
        };
        for (p, pop) in sc.populations.iter().enumerate() {
            push(
                pop.name.clone(),
                r.tally.pops[p].total,
                r.tally.pops[p].tokens,
                exps[p].clone(),
            );
        }
        // `all`: exposure weighted by population size (the chance that a random account falls).
        let n: f64 = sizes.iter().sum::<u64>().max(1) as f64;
        let w = |f: &dyn Fn(&Exposure) -> f64| {
            exps.iter()
                .zip(&sizes)
                .map(|(e, s)| f(e) * *s as f64)
                .sum::<f64>()
                / n
        };
        let all = Exposure {
            accepted_steps: w(&|e| e.accepted_steps),
            p_guess: w(&|e| e.p_guess),
            guesses_per_day: w(&|e| e.guesses_per_day),
            p_success_day: w(&|e| e.p_success_day),
            p_success_year: w(&|e| e.p_success_year),
            code_lifetime_s: exps.iter().map(|e| e.code_lifetime_s).fold(0.0, f64::max),
            code_lifetime_max_s: exps
                .iter()
                .map(|e| e.code_lifetime_max_s)
                .fold(0.0, f64::max),
            meets_nist: exps.iter().all(|e| e.meets_nist),
        };
        push("all".into(), r.tally.all().total, r.tally.all().tokens, all);
    }
    out
}

/// The sweep.csv header: point, label, parameters, population, then figures.
pub fn header(params: &[String]) -> Vec<String> {
    let mut h = vec!["point".to_string(), "label".to_string()];
    h.extend(params.iter().cloned());
    h.extend(
        [
            "population",
            "tokens",
            "logins",
            "attempts",
            "first_try_acceptance_rate",
            "first_try_acceptance_ci95_low",
            "first_try_acceptance_ci95_high",
            "first_try_rejection_rate",
            "login_success_rate",
            "login_success_ci95_low",
            "login_success_ci95_high",
            "incidents_per_1000_logins",
            "lockouts_per_1000_logins",
            "tickets_per_100_users_year",
            "resyncs_attempted",
            "resyncs_succeeded",
            "attack_accepted_steps",
            "attack_p_guess",
            "attack_guesses_per_day",
            "attack_p_success_day",
            "attack_p_success_year",
            "attack_simulated_guesses",
            "attack_simulated_successes",
            "attack_simulated_p_guess",
            "attack_simulated_p_guess_ci95_low",
            "attack_simulated_p_guess_ci95_high",
            "code_lifetime_s",
            "code_lifetime_max_s",
            "meets_nist_800_63b",
        ]
        .map(String::from),
    );
    h
}

fn f6(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        String::new()
    }
}

fn e3(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6e}")
    } else {
        String::new()
    }
}

/// One sweep.csv record.
pub fn record(row: &Row, point: &Point, params: &[String]) -> Vec<String> {
    let c = &row.counts;
    let ci = wilson95(c.first_try_ok, c.logins);
    let ok = wilson95(c.logins_ok, c.logins);
    let sim = wilson95(c.attack_successes, c.attack_guesses);
    let opt = |x: Option<f64>| x.map_or(String::new(), f6);
    let mut r = vec![row.point.to_string(), row.label.clone()];
    for p in params {
        r.push(
            point
                .settings
                .iter()
                .find(|s| &s.0 == p)
                .map_or(String::new(), |s| plain(&s.1)),
        );
    }
    let e = &row.exposure;
    r.extend([
        row.population.clone(),
        row.tokens.to_string(),
        c.logins.to_string(),
        c.attempts.to_string(),
        opt(c.first_try_acceptance_rate()),
        opt(ci.map(|x| x.0)),
        opt(ci.map(|x| x.1)),
        opt(c.first_try_acceptance_rate().map(|x| 1.0 - x)),
        opt(c.login_success_rate()),
        opt(ok.map(|x| x.0)),
        opt(ok.map(|x| x.1)),
        f6(row.cells[0].1),
        f6(row.cells[1].1),
        f6(row.cells[2].1),
        c.resyncs_attempted.to_string(),
        c.resyncs_succeeded.to_string(),
        f6(e.accepted_steps),
        e3(e.p_guess),
        f6(e.guesses_per_day),
        e3(e.p_success_day),
        e3(e.p_success_year),
        c.attack_guesses.to_string(),
        c.attack_successes.to_string(),
        if c.attack_guesses > 0 {
            e3(c.attack_successes as f64 / c.attack_guesses as f64)
        } else {
            String::new()
        },
        sim.map_or(String::new(), |x| e3(x.0)),
        sim.map_or(String::new(), |x| e3(x.1)),
        f6(e.code_lifetime_s),
        f6(e.code_lifetime_max_s),
        e.meets_nist.to_string(),
    ]);
    r
}

/// A constraint on a sweep.csv column, such as `first_try_acceptance>=0.995`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub column: String,
    pub op: Op,
    pub value: f64,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Short names users will type for the long column names.
fn alias(c: &str) -> &str {
    match c {
        "first_try_acceptance" => "first_try_acceptance_rate",
        "login_success" => "login_success_rate",
        "attack_p_year" | "attacker_success_year" => "attack_p_success_year",
        "attack_p_day" => "attack_p_success_day",
        "code_lifetime" => "code_lifetime_s",
        other => other,
    }
}

impl Target {
    pub fn parse(s: &str) -> Result<Target, String> {
        for (sym, op) in [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Eq),
        ] {
            if let Some((c, v)) = s.split_once(sym) {
                let value: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{s}`: `{}` is not a number", v.trim()))?;
                return Ok(Target {
                    column: alias(c.trim()).to_string(),
                    op,
                    value,
                    text: s.trim().to_string(),
                });
            }
        }
        Err(format!(
            "`{s}`: expected COLUMN>=VALUE (or <=, >, <, =), e.g. first_try_acceptance>=0.995"
        ))
    }

    pub fn holds(&self, x: f64) -> bool {
        match self.op {
            Op::Ge => x >= self.value,
            Op::Le => x <= self.value,
            Op::Gt => x > self.value,
            Op::Lt => x < self.value,
            Op::Eq => (x - self.value).abs() < 1e-12,
        }
    }
}

/// The outcome of `--target`: the points meeting every target on their `all` row, best
/// security first, or why none does.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Met(Vec<usize>),
    NoneMeets {
        per_target: Vec<(String, usize)>,
        closest: Option<(usize, Vec<String>)>,
    },
}

/// Chooses among points from a table of (point, column -> value) for their `all` rows.
pub fn choose(
    table: &[(usize, Vec<(String, f64)>)],
    targets: &[Target],
) -> Result<Verdict, String> {
    let get = |row: &[(String, f64)], c: &str| row.iter().find(|x| x.0 == c).map(|x| x.1);
    if let Some((_, row)) = table.first() {
        for t in targets {
            if get(row, &t.column).is_none() {
                let cols: Vec<&str> = row.iter().map(|x| x.0.as_str()).collect();
                return Err(format!(
                    "--target {t}: no column `{}`; expected one of {}",
                    t.column,
                    cols.join(", ")
                ));
            }
        }
    }
    let meets = |row: &[(String, f64)], t: &Target| get(row, &t.column).is_some_and(|x| t.holds(x));
    let mut ok: Vec<&(usize, Vec<(String, f64)>)> = table
        .iter()
        .filter(|(_, r)| targets.iter().all(|t| meets(r, t)))
        .collect();
    if !ok.is_empty() {
        // Best security first: lowest attacker success, then shortest code lifetime, then the
        // better user experience.
        let key = |r: &[(String, f64)]| {
            (
                get(r, "attack_p_success_year").unwrap_or(f64::INFINITY),
                get(r, "code_lifetime_s").unwrap_or(f64::INFINITY),
                -get(r, "first_try_acceptance_rate").unwrap_or(0.0),
            )
        };
        ok.sort_by(|a, b| {
            let (x, y) = (key(&a.1), key(&b.1));
            x.0.total_cmp(&y.0)
                .then(x.1.total_cmp(&y.1))
                .then(x.2.total_cmp(&y.2))
                .then(a.0.cmp(&b.0))
        });
        return Ok(Verdict::Met(ok.into_iter().map(|r| r.0).collect()));
    }
    let per_target = targets
        .iter()
        .map(|t| {
            (
                t.text.clone(),
                table.iter().filter(|(_, r)| meets(r, t)).count(),
            )
        })
        .collect();
    let closest = table
        .iter()
        .max_by_key(|(p, r)| {
            (
                targets.iter().filter(|t| meets(r, t)).count(),
                std::cmp::Reverse(*p),
            )
        })
        .map(|(p, r)| {
            let failed = targets
                .iter()
                .filter(|t| !meets(r, t))
                .map(|t| {
                    format!(
                        "{t} (it has {})",
                        get(r, &t.column).map_or("nothing".into(), |x| format!("{x:.6}"))
                    )
                })
                .collect();
            (*p, failed)
        });
    Ok(Verdict::NoneMeets {
        per_target,
        closest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str) -> Vec<SweepBlock> {
        let t: toml::Table = text.parse().unwrap();
        parse_blocks(t.get("sweep").unwrap()).unwrap()
    }

    #[test]
    fn grid_zip_ranges_and_concatenation() {
        let b = block("[[sweep]]\nvary = { \"validator.window.back\" = [0, 1], \"validator.window.ahead\" = { from = 1, to = 3 } }\n[[sweep]]\ncombine = \"zip\"\nvary = { \"validator.preset\" = [\"vip\", \"freeipa\"], \"run.seed\" = [1, 2] }\n");
        let p = points(&b);
        assert_eq!(p.len(), 2 * 3 + 2);
        assert_eq!(p[0].label(), "back=0, ahead=1");
        assert_eq!(p[5].label(), "back=1, ahead=3");
        assert_eq!(p[7].label(), "preset=freeipa, seed=2");
        let f = block("[sweep]\nvary = { \"population.hardware.clock.drift_ppm\" = { from = 0.5, to = 1.5, step = 0.5 } }\n");
        assert_eq!(
            points(&f)
                .iter()
                .map(|p| plain(&p.settings[0].1))
                .collect::<Vec<_>>(),
            ["0.5", "1.0", "1.5"]
        );
    }

    #[test]
    fn bad_blocks_are_explained() {
        let t: toml::Table = "[sweep]\ncombine = \"zip\"\nvary = { a = [1, 2], b = [1] }\n"
            .parse()
            .unwrap();
        let e = parse_blocks(t.get("sweep").unwrap()).unwrap_err();
        assert_eq!(e.0, "sweep.vary.b");
        assert!(e.1.contains("2 values"));
        let t: toml::Table = "[sweep]\nvary = { a = { from = 3, to = 1 } }\n"
            .parse()
            .unwrap();
        assert!(parse_blocks(t.get("sweep").unwrap())
            .unwrap_err()
            .1
            .contains("from <= to"));
    }

    #[test]
    fn targets_select_the_right_points_on_a_hand_made_table() {
        let row = |acc: f64, att: f64, life: f64| {
            vec![
                ("first_try_acceptance_rate".to_string(), acc),
                ("attack_p_success_year".to_string(), att),
                ("code_lifetime_s".to_string(), life),
            ]
        };
        let table = vec![
            (1, row(0.990, 1e-4, 90.0)),
            (2, row(0.996, 5e-4, 150.0)),
            (3, row(0.998, 9e-4, 210.0)),
            (4, row(0.997, 5e-4, 90.0)),
            (5, row(0.999, 2e-3, 330.0)),
        ];
        let t = |s: &str| Target::parse(s).unwrap();
        // Acceptance at least 99.5%: points 2, 3, 4, 5; best security first (4 and 2 tie on the
        // attacker, 4 has the shorter lifetime).
        assert_eq!(
            choose(&table, &[t("first_try_acceptance>=0.995")]).unwrap(),
            Verdict::Met(vec![4, 2, 3, 5])
        );
        assert_eq!(
            choose(
                &table,
                &[
                    t("first_try_acceptance>=0.995"),
                    t("attack_p_year<=0.001"),
                    t("code_lifetime<120")
                ]
            )
            .unwrap(),
            Verdict::Met(vec![4])
        );
        match choose(
            &table,
            &[t("first_try_acceptance>=0.999"), t("attack_p_year<0.001")],
        )
        .unwrap()
        {
            Verdict::NoneMeets {
                per_target,
                closest,
            } => {
                assert_eq!(
                    per_target,
                    vec![
                        ("first_try_acceptance>=0.999".into(), 1),
                        ("attack_p_year<0.001".into(), 4)
                    ]
                );
                let (p, failed) = closest.unwrap();
                assert_eq!(p, 1, "the first of the points meeting one target");
                assert_eq!(failed.len(), 1);
            }
            v => panic!("{v:?}"),
        }
        assert!(choose(&table, &[t("nonsense>1")])
            .unwrap_err()
            .contains("no column `nonsense`"));
        assert!(Target::parse("first_try_acceptance~1").is_err());
    }
}
