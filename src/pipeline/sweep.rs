//! `otpdrift sweep`: run every setting of a scenario's `[sweep]` on the same fleet (common random
//! numbers), tabulate each setting's user-side and attacker-side figures (sweep.csv), draw the
//! trade-off, and recommend the settings that meet the `--target`s.

use super::run::Shard;
use super::{manifest, pct, thread_pool, Output, Progress, ScenarioInput, Source, Stopwatch};
use crate::attack::{exposure, Exposure};
use crate::error::{Error, Result};
use crate::export::{self, Exporter, Folder, ManifestJson, SweepCharts, SweepCsv, SweepReport};
use crate::metrics::{wilson95, PopTally};
use crate::results::cells::{get, Fixed, Rate, Sci};
use crate::results::{Facts, Manifest, SweepData, SweepFacts, SweepLine, SweepRow, SweepTable};
use crate::scenario::sweep::{plain, settings};
use crate::scenario::{AttackSpec, Override, Point, Scenario};
use crate::sim::{self, RunResult};
use crate::time::{format_duration, YEAR_S};
use std::fmt;
use std::path::PathBuf;

/// What the user asked of `sweep`.
#[derive(Clone, Debug)]
pub struct SweepRequest {
    /// The scenario with a `[sweep]` part (a file, or one already read).
    pub source: Source,
    /// `--set` overrides for every setting.
    pub sets: Vec<Override>,
    /// `--mode exact|fast` for every setting.
    pub mode: Option<String>,
    /// Keep settings whose `all` row meets these.
    pub targets: Vec<Target>,
    pub output: Output,
    pub threads: Option<usize>,
    /// Run even when a setting's estimated memory exceeds what is available.
    pub yes: bool,
    /// Run only the K-th of N shares of the settings.
    pub shard: Option<Shard>,
}

impl SweepRequest {
    /// A sweep of `source` as written: no targets, default folder, every core.
    pub fn new(source: Source) -> SweepRequest {
        SweepRequest {
            source,
            sets: Vec::new(),
            mode: None,
            targets: Vec::new(),
            output: Output::default(),
            threads: None,
            yes: false,
            shard: None,
        }
    }
}

/// A checked `sweep`: the base scenario, its settings, the targets, where to write.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    pub input: ScenarioInput,
    pub points: Vec<Point>,
    /// The scenario of every point, in order.
    pub scenarios: Vec<Scenario>,
    pub targets: Vec<Target>,
    pub out: PathBuf,
    pub force: bool,
    pub threads: Option<usize>,
    /// Run only the K-th of N shares of the points (1-based), for `merge`.
    pub shard: Option<Shard>,
}

impl SweepPlan {
    /// The points this run simulates: all, or its shard's share.
    pub fn range(&self) -> std::ops::Range<usize> {
        let n = self.points.len();
        self.shard.map_or(0..n, |s| {
            let r = s.range(n as u64);
            r.start as usize..r.end as usize
        })
    }

    /// Reads the scenario, expands and checks every setting and every target; refuses at once
    /// a folder that holds results unless `force`, and a setting that would not fit in memory
    /// unless `yes`.
    pub fn new(r: SweepRequest) -> Result<SweepPlan> {
        if let Source::Manifest(p) = &r.source {
            return Err(Error::input(format!(
                "{}: a sweep reads a scenario file; a manifest is rerun by `otpdrift run --from-manifest`",
                p.display()
            )));
        }
        let (input, _) = r.source.load(r.sets, r.mode.as_deref())?;
        let (targets, threads, force) = (r.targets, r.threads, r.output.force);
        if input.scenario.sweep.is_empty() {
            return Err(Error::input(format!(
                "{}: there is no [sweep] part; add one, e.g.\n[sweep]\nvary = {{ \"validator.window.back\" = [1, 2, 3] }}",
                input.file
            )));
        }
        let columns = SweepRow::figure_columns();
        for t in &targets {
            if !columns.contains(&t.column) {
                return Err(Error::input(format!(
                    "--target {t}: no column `{}`; expected one of {}",
                    t.column,
                    columns.join(", ")
                )));
            }
        }
        let (points, scenarios) = settings(&input.file, &input.text, &input.sets, &input.scenario)?;
        // Up to SIDE_BY_SIDE points run at once, each with its own counters; the largest
        // decides the memory.
        if !r.yes {
            let side_by_side = scenarios.len().min(sim::SIDE_BY_SIDE);
            for sc in &scenarios {
                super::run::RunPlan::fits(
                    sc,
                    side_by_side,
                    threads,
                    crate::sim::TraceSelect::None,
                )?;
            }
        }
        let out =
            (r.output.out).unwrap_or_else(|| super::default_out(&input.scenario.run.name, force));
        export::check_writable(&out, force)?;
        Ok(SweepPlan {
            input,
            points,
            scenarios,
            targets,
            out,
            force,
            threads,
            shard: r.shard,
        })
    }
}

/// What a sweep did, for the terminal.
#[derive(Clone, Debug)]
pub struct SweepOutcome {
    pub data: SweepData,
    pub manifest: Manifest,
    pub labels: Vec<String>,
    pub dir: PathBuf,
}

/// Runs every setting, writes the folder.
pub fn execute(plan: &SweepPlan, progress: &dyn Progress) -> Result<SweepOutcome> {
    let base = &plan.input.scenario;
    let (threads, pool) = thread_pool(plan.threads)?;
    let same = same_fleet(&plan.scenarios);
    let range = plan.range();
    let scenarios = &plan.scenarios[range.clone()];
    // Progress counts every setting's users (settings run side by side share their work).
    let total: u64 = scenarios.iter().map(|s| s.run.tokens).sum();
    progress.start(
        total,
        &format!("{} ({} settings)", base.run.name, scenarios.len()),
    );
    let watch = Stopwatch::start();
    let advance = |n| progress.advance(n);
    let results = pool.install(|| sim::run_points(scenarios, &advance));
    let wall = watch.seconds();
    progress.finish();

    let table = table(&plan.points, range.start, scenarios, &results);
    let labels: Vec<String> = plan.points.iter().map(Point::label).collect();
    let verdict = match plan.shard {
        Some(_) => Verdict::Untargeted,
        None => choose(&table, &plan.targets),
    };
    let recommendation = match plan.shard {
        Some(s) => format!(
            "Shard {} of the settings ({} to {}): combine all {} folders with `otpdrift merge` for the recommendation.",
            s.label(),
            range.start + 1,
            range.end,
            s.n
        ),
        None => recommendation(&labels, &plan.targets, &verdict),
    };
    let attempts: u64 = results.iter().map(|r| r.total_attempts()).sum();
    let facts = Facts::Sweep(SweepFacts {
            points: plan
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    serde_json::json!({
                        "point": i + 1,
                        "label": p.label(),
                        "settings": p.settings.iter().map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
                    })
                })
                .collect(),
            same_fleet: same,
            seconds_per_point: wall / range.len().max(1) as f64,
            targets: plan.targets.iter().map(|t| t.text.clone()).collect(),
            recommended: match &verdict {
                Verdict::Met(ps) => ps.clone(),
                _ => Vec::new(),
            },
            shard: plan.shard.map(Shard::label),
            merged_from: None,
    });
    let mut manifest = manifest(
        "sweep",
        &plan.input,
        threads,
        (&watch, wall),
        (attempts, results.iter().map(|r| r.hmacs).sum()),
        facts,
    );
    // Charts are drawn on the same threads (`--threads 1` means one).
    let (folder, data) = pool.install(|| {
        render(
            base,
            &table,
            recommendation,
            &mut manifest,
            plan.shard.is_none(),
        )
    })?;
    export::write_folder(&plan.out, plan.force, &folder)?;
    Ok(SweepOutcome {
        data,
        manifest,
        labels,
        dir: plan.out.clone(),
    })
}

/// The files of a sweep's folder: sweep.csv and the manifest, then (unless a shard's, whose
/// figures are a part) charts and report from sweep.csv as written. Fills in the manifest's
/// file list.
pub fn render(
    base: &Scenario,
    table: &SweepTable,
    recommendation: String,
    manifest: &mut Manifest,
    views: bool,
) -> Result<(Folder, SweepData)> {
    let all: [&dyn Exporter<SweepData>; 2] = [&SweepCharts, &SweepReport];
    let views = if views { &all[..] } else { &[] };
    manifest.files = SweepCsv.file_names();
    manifest
        .files
        .extend(Exporter::<Manifest>::file_names(&ManifestJson));
    manifest.files.extend(export::file_names(views));
    let mut folder = Folder::default();
    SweepCsv.render(table, &mut folder)?;
    Exporter::<Manifest>::render(&ManifestJson, manifest, &mut folder)?;
    let data = SweepData {
        scenario: base.clone(),
        table: SweepTable::from_csv(
            "sweep.csv",
            &folder.read("sweep.csv").map_err(Error::failed)?,
        )
        .map_err(|e| Error::failed(format!("reading back the results: {e}")))?,
        recommendation,
        same_fleet: matches!(&manifest.facts, Facts::Sweep(f) if f.same_fleet),
    };
    export::render_all(views, &data, &mut folder)?;
    Ok((folder, data))
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

/// sweep.csv's content: per point, each population then `all`, with the analytic attacker.
/// `scenarios` and `results` are those of the points from `first` on (a shard's share); the
/// columns are those of every point, so that shards' tables join.
pub fn table(
    points: &[Point],
    first: usize,
    scenarios: &[Scenario],
    results: &[RunResult],
) -> SweepTable {
    let mut params: Vec<String> = Vec::new();
    for p in points {
        for (k, _) in &p.settings {
            if !params.contains(k) {
                params.push(k.clone());
            }
        }
    }
    let mut lines = Vec::new();
    for (i, ((pt, sc), r)) in points[first..]
        .iter()
        .zip(scenarios)
        .zip(results)
        .enumerate()
    {
        let i = first + i;
        let spec = sc.attack.clone().unwrap_or(AttackSpec {
            guesses_per_day: 100.0,
            simulate_accounts: 0,
        });
        let sizes = sc.population_sizes();
        let exps: Vec<Exposure> = (0..sc.populations.len())
            .map(|p| exposure(sc, p, &spec))
            .collect();
        let years = (sc.run.end() - sc.run.start) as f64 / 1000.0 / YEAR_S;
        let values: Vec<String> = params
            .iter()
            .map(|p| {
                pt.settings
                    .iter()
                    .find(|s| &s.0 == p)
                    .map_or(String::new(), |s| plain(&s.1))
            })
            .collect();
        let mut push = |population: String, t: &PopTally, e: &Exposure| {
            lines.push(SweepLine {
                point: i + 1,
                label: pt.label(),
                values: values.clone(),
                row: row(population, t, e, years),
            });
        };
        for (p, pop) in sc.populations.iter().enumerate() {
            push(pop.name.clone(), &r.tally.pops[p], &exps[p]);
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
            replay_p_accept: w(&|e| e.replay_p_accept),
        };
        let t = r.tally.all();
        push("all".into(), &t, &all);
    }
    SweepTable { params, lines }
}

/// One population's figures at one point.
fn row(population: String, t: &PopTally, e: &Exposure, years: f64) -> SweepRow {
    let (c, tokens) = (&t.total, t.tokens);
    let logins = c.logins.max(1) as f64;
    let ci = t.users.first_try_ci95(c.first_try_ok, c.logins);
    let ok = t.users.login_success_ci95(c.logins_ok, c.logins);
    let sim = wilson95(c.attack_successes, c.attack_guesses);
    SweepRow {
        population,
        tokens,
        logins: c.logins,
        attempts: c.attempts,
        first_try_acceptance_rate: Rate::opt(c.first_try_acceptance_rate()),
        first_try_acceptance_ci95_low: Rate::opt(ci.map(|x| x.0)),
        first_try_acceptance_ci95_high: Rate::opt(ci.map(|x| x.1)),
        first_try_rejection_rate: Rate::opt(c.first_try_acceptance_rate().map(|x| 1.0 - x)),
        login_success_rate: Rate::opt(c.login_success_rate()),
        login_success_ci95_low: Rate::opt(ok.map(|x| x.0)),
        login_success_ci95_high: Rate::opt(ok.map(|x| x.1)),
        // No logins, no rate: an empty cell, not a zero.
        incidents_per_1000_logins: Fixed::opt(
            (c.logins > 0).then(|| c.incidents as f64 / logins * 1000.0),
        ),
        lockouts_per_1000_logins: Fixed::opt(
            (c.logins > 0).then(|| c.lockouts as f64 / logins * 1000.0),
        ),
        tickets_per_100_users_year: Fixed::of(
            c.tickets() as f64 / (tokens.max(1) as f64) / years.max(1e-9) * 100.0,
        ),
        resyncs_attempted: c.resyncs_attempted,
        resyncs_succeeded: c.resyncs_succeeded,
        attack_accepted_steps: Fixed::of(e.accepted_steps),
        attack_p_guess: Sci::of(e.p_guess),
        attack_guesses_per_day: Fixed::of(e.guesses_per_day),
        attack_p_success_day: Sci::of(e.p_success_day),
        attack_p_success_year: Sci::of(e.p_success_year),
        attack_replay_p_accept: Rate::opt(Some(e.replay_p_accept)),
        attack_simulated_guesses: c.attack_guesses,
        attack_simulated_successes: c.attack_successes,
        attack_simulated_p_guess: (c.attack_guesses > 0)
            .then(|| c.attack_successes as f64 / c.attack_guesses as f64)
            .and_then(Sci::of),
        attack_simulated_p_guess_ci95_low: sim.and_then(|x| Sci::of(x.0)),
        attack_simulated_p_guess_ci95_high: sim.and_then(|x| Sci::of(x.1)),
        code_lifetime_s: Fixed::of(e.code_lifetime_s),
        code_lifetime_max_s: Fixed::of(e.code_lifetime_max_s),
        meets_nist_800_63b: e.meets_nist,
    }
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
    pub fn parse(s: &str) -> std::result::Result<Target, String> {
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
                    .ok()
                    .filter(|x: &f64| x.is_finite())
                    .ok_or_else(|| format!("`{s}`: `{}` is not a finite number", v.trim()))?;
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

    /// Whether a row meets the target (an empty cell does not).
    pub fn met_by(&self, row: &SweepRow) -> bool {
        row.get(&self.column).is_some_and(|x| self.holds(x))
    }
}

/// The outcome of `--target`: the points meeting every target on their `all` row, best
/// security first, or why none does.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// No target was given.
    Untargeted,
    Met(Vec<usize>),
    NoneMeets {
        per_target: Vec<(String, usize)>,
        closest: Option<(usize, Vec<String>)>,
    },
}

/// Chooses among the points of a sweep table by their `all` rows.
pub fn choose(table: &SweepTable, targets: &[Target]) -> Verdict {
    if targets.is_empty() {
        return Verdict::Untargeted;
    }
    let all: Vec<&SweepLine> = table.all_lines().collect();
    let meets_all = |l: &SweepLine| targets.iter().all(|t| t.met_by(&l.row));
    let mut ok: Vec<&SweepLine> = all.iter().copied().filter(|l| meets_all(l)).collect();
    if !ok.is_empty() {
        // Best security first: lowest attacker success, then the least chance that a relayed
        // code is accepted again, then shortest code lifetime, then the better user experience.
        let key = |r: &SweepRow| {
            [
                r.attack_p_success_year.map_or(f64::INFINITY, |x| x.0),
                get(r.attack_replay_p_accept).unwrap_or(0.0),
                get(r.code_lifetime_s).unwrap_or(f64::INFINITY),
                -get(r.first_try_acceptance_rate).unwrap_or(0.0),
            ]
        };
        ok.sort_by(|a, b| {
            let (x, y) = (key(&a.row), key(&b.row));
            (0..x.len())
                .map(|i| x[i].total_cmp(&y[i]))
                .fold(std::cmp::Ordering::Equal, std::cmp::Ordering::then)
                .then(a.point.cmp(&b.point))
        });
        return Verdict::Met(ok.into_iter().map(|l| l.point).collect());
    }
    let per_target = targets
        .iter()
        .map(|t| {
            (
                t.text.clone(),
                all.iter().filter(|l| t.met_by(&l.row)).count(),
            )
        })
        .collect();
    let closest = all
        .iter()
        .max_by_key(|l| {
            (
                targets.iter().filter(|t| t.met_by(&l.row)).count(),
                std::cmp::Reverse(l.point),
            )
        })
        .map(|l| {
            let failed = targets
                .iter()
                .filter(|t| !t.met_by(&l.row))
                .map(|t| {
                    format!(
                        "{t} (it has {})",
                        l.row
                            .get(&t.column)
                            .map_or("nothing".into(), |x| format!("{x:.6}"))
                    )
                })
                .collect();
            (l.point, failed)
        });
    Verdict::NoneMeets {
        per_target,
        closest,
    }
}

/// The recommendation in Markdown.
pub fn recommendation(points: &[String], targets: &[Target], verdict: &Verdict) -> String {
    let label = |p: usize| format!("#{p} ({})", points[p - 1]);
    let ts: Vec<String> = targets.iter().map(|t| format!("`{t}`")).collect();
    match verdict {
        Verdict::Untargeted => "No `--target` was given: every setting is listed above; the Pareto front is the short list.".to_string(),
        Verdict::Met(ps) => format!(
            "Settings meeting {}, best security first (lowest attacker success, then shortest code lifetime):\n\n{}",
            ts.join(" and "),
            ps.iter()
                .enumerate()
                .map(|(i, p)| format!("{}. {}", i + 1, label(*p)))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        Verdict::NoneMeets { per_target, closest } => {
            let mut s = format!("No setting meets {}.\n\n", ts.join(" and "));
            for (t, n) in per_target {
                s += &format!("- `{t}` alone: met by {n} of {} settings\n", points.len());
            }
            if let Some((p, failed)) = closest {
                s += &format!("\nClosest: {}, which fails {}.", label(*p), failed.join(" and "));
            }
            s
        }
    }
}

impl SweepOutcome {
    /// The terminal summary: one line per setting, the recommendation, what was written.
    pub fn summary_text(&self) -> String {
        use std::fmt::Write;
        let base = &self.data.scenario;
        let same = matches!(&self.manifest.facts, Facts::Sweep(s) if s.same_fleet);
        let mut out = String::new();
        // A shard ran only its share of the settings: the rows it has.
        let ran = {
            let mut p: Vec<usize> = self.data.table.all_lines().map(|l| l.point).collect();
            p.dedup();
            p.len()
        };
        let _ = writeln!(
            out,
            "{} — {}{} settings on {} tokens{}",
            base.run.name,
            ran,
            if ran < self.labels.len() {
                format!(" of {}", self.labels.len())
            } else {
                String::new()
            },
            base.run.tokens,
            match (same, self.data.table.swept_user_params().next().is_some()) {
                (true, false) => " (one fleet)",
                (true, true) => " (the same users and draws)",
                _ => "",
            }
        );
        let _ = writeln!(
            out,
            "{:>4}  {:<44} {:>10} {:>12} {:>9} {:>5}",
            "#", "setting", "first-try", "attacker/yr", "lifetime", "NIST"
        );
        for l in self.data.table.all_lines() {
            let r = &l.row;
            let mut label = self.labels[l.point - 1].clone();
            if label.chars().count() > 44 {
                label = label.chars().take(43).collect::<String>() + "…";
            }
            let _ = writeln!(
                out,
                "{:>4}  {:<44} {:>10} {:>12} {:>9} {:>5}",
                l.point,
                label,
                pct(get(r.first_try_acceptance_rate)),
                r.attack_p_success_year
                    .map_or("-".into(), |x| format!("{:.2e}", x.0)),
                get(r.code_lifetime_s).map_or("-".into(), format_duration),
                if r.meets_nist_800_63b { "yes" } else { "no" }
            );
        }
        let _ = writeln!(out, "\n{}", self.data.recommendation.replace('`', ""));
        let m = &self.manifest;
        let _ = write!(
            out,
            "\nwrote {} in {:.1} s ({:.2} s a setting): {} attempts, {:.0} attempts/s on {} thread{}",
            self.dir.display(),
            m.wall_seconds,
            m.wall_seconds / ran.max(1) as f64,
            m.attempts,
            m.attempts_per_second,
            m.threads,
            if m.threads == 1 { "" } else { "s" }
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Silent;
    use std::path::Path;

    fn line(point: usize, acc: f64, att: f64, life: f64) -> SweepLine {
        SweepLine {
            point,
            label: format!("p{point}"),
            values: Vec::new(),
            row: SweepRow {
                population: "all".into(),
                first_try_acceptance_rate: Rate::of(acc),
                attack_p_success_year: Sci::of(att),
                code_lifetime_s: Fixed::of(life),
                ..SweepRow::default()
            },
        }
    }

    #[test]
    fn targets_select_the_right_points_on_a_hand_made_table() {
        let table = SweepTable {
            params: Vec::new(),
            lines: vec![
                line(1, 0.990, 1e-4, 90.0),
                line(2, 0.996, 5e-4, 150.0),
                line(3, 0.998, 9e-4, 210.0),
                line(4, 0.997, 5e-4, 90.0),
                line(5, 0.999, 2e-3, 330.0),
            ],
        };
        let t = |s: &str| Target::parse(s).unwrap();
        assert_eq!(choose(&table, &[]), Verdict::Untargeted);
        // Acceptance at least 99.5%: points 2, 3, 4, 5; best security first (4 and 2 tie on the
        // attacker, 4 has the shorter lifetime).
        assert_eq!(
            choose(&table, &[t("first_try_acceptance>=0.995")]),
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
            ),
            Verdict::Met(vec![4])
        );
        match choose(
            &table,
            &[t("first_try_acceptance>=0.999"), t("attack_p_year<0.001")],
        ) {
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
                assert_eq!(failed, ["first_try_acceptance>=0.999 (it has 0.990000)"]);
            }
            v => panic!("{v:?}"),
        }
        assert!(Target::parse("first_try_acceptance~1").is_err());
    }

    const FLEET: &str = "[run]\nname = \"sw\"\nhorizon = \"60d\"\ntokens = 40\nseed = 5\n\
        [[population]]\nname = \"hard\"\nshare = 0.5\ntoken = { kind = \"hardware\" }\nclock = { drift_ppm = 40 }\n\
        [[population]]\nname = \"desk\"\nshare = 0.5\ntoken = { kind = \"desktop\" }\n\
        [sweep]\nvary = { \"validator.window.back\" = [0, 2], \"validator.preset\" = [\"rfc6238\", \"keycloak\"] }\n";

    fn plan(dir: &Path, targets: &[&str]) -> Result<SweepPlan> {
        let input = ScenarioInput::from_text("sw.toml", FLEET.to_string(), &[])?;
        SweepPlan::new(SweepRequest {
            targets: targets.iter().map(|t| Target::parse(t).unwrap()).collect(),
            output: Output {
                out: Some(dir.to_path_buf()),
                force: false,
            },
            threads: Some(1),
            ..SweepRequest::new(Source::Input(Box::new(input)))
        })
    }

    #[test]
    fn the_sweep_pipeline_runs_each_setting_on_one_fleet_and_writes_what_it_lists() {
        let dir = std::env::temp_dir().join(format!("otpdrift-sweep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let plan = plan(&dir, &["first_try_acceptance>=0.5", "code_lifetime<=90"]).unwrap();
        assert_eq!(plan.points.len(), 4);
        let out = execute(&plan, &Silent).unwrap();
        // Every point's figures are those of a plain run of its scenario.
        for (i, sc) in plan.scenarios.iter().enumerate() {
            let alone = sim::run(sc, 0..sc.run.tokens, &|_| {});
            let l = out.data.table.all_lines().nth(i).unwrap();
            assert_eq!(l.point, i + 1);
            assert_eq!(l.row.logins, alone.tally.all().total.logins);
            assert_eq!(l.row.attempts, alone.total_attempts());
        }
        // sweep.csv as written reads back to the table the charts and report used.
        let bytes = std::fs::read(dir.join("sweep.csv")).unwrap();
        assert_eq!(
            SweepTable::from_csv("sweep.csv", &bytes).unwrap(),
            out.data.table
        );
        assert_eq!(
            out.data.table.params,
            ["validator.window.back", "validator.preset"]
        );
        // The recommendation keeps exactly the points meeting both targets.
        let Facts::Sweep(f) = &out.manifest.facts else {
            panic!("a sweep manifest")
        };
        let meets: Vec<usize> = out
            .data
            .table
            .all_lines()
            .filter(|l| {
                get(l.row.first_try_acceptance_rate).unwrap() >= 0.5
                    && get(l.row.code_lifetime_s).unwrap() <= 90.0
            })
            .map(|l| l.point)
            .collect();
        let mut rec = f.recommended.clone();
        rec.sort();
        assert_eq!(rec, meets);
        assert!(!meets.is_empty() && meets.len() < 4, "{meets:?}");
        // The manifest lists exactly the files written.
        let mut written: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        written.sort();
        let mut listed = out.manifest.files.clone();
        listed.sort();
        assert_eq!(written, listed);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_target_on_an_unknown_column_is_refused_before_anything_runs() {
        let dir = std::env::temp_dir().join("otpdrift-never-written");
        let e = plan(&dir, &["nonsense>1"]).unwrap_err();
        assert_eq!(e.status(), 2);
        assert!(
            e.to_string().starts_with(
                "--target nonsense>1: no column `nonsense`; expected one of tokens, logins"
            ),
            "{e}"
        );
        assert!(!dir.exists());
    }
}
