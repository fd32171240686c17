//! `sweep SCENARIO --fleet DIR` (docs/twin.md): the twin of the real fleet under every setting
//! of the scenario's `[sweep]`, on the same draws, compared credential by credential with the
//! first setting (twin-settings.csv, changes.csv).

use super::twin::{replicate_seed, Fleet, Forecaster, DEFAULT_REPLICATES};
use crate::error::{Error, Result};
use crate::report::forecast::{CHANGE_TICKET, CHANGE_WEEK1};
use crate::report::AT_RISK;
use crate::results::cells::Fixed;
use crate::results::forecast::{ExcludedRow, ForecastRow};
use std::path::Path;

/// `sweep SCENARIO --fleet DIR`: the twin under each setting of the scenario's `[sweep]` (a
/// target validator, a cut-over date, learned drift carried or not), compared credential by
/// credential with the first setting.
pub struct SweepPlan {
    pub sweep: super::sweep::SweepPlan,
    pub fleet: Fleet,
    pub excluded: Vec<ExcludedRow>,
    pub replicates: u32,
}

impl SweepPlan {
    /// The sweep as `sweep` would plan it, started from the fleet, each setting's scenario
    /// with the twin attached.
    pub fn new(
        mut r: super::sweep::SweepRequest,
        dir: &Path,
        replicates: Option<u32>,
    ) -> Result<SweepPlan> {
        let fleet = Fleet::read(dir)?;
        if r.shard.is_some() {
            return Err(Error::input(
                "--shard: a twin's settings are compared credential by credential in one run; drop --shard or --fleet",
            ));
        }
        r.sets.extend(fleet.overrides()?);
        let mut sweep = super::sweep::SweepPlan::new(r)?;
        let mut excluded = Vec::new();
        for sc in &mut sweep.scenarios {
            excluded = fleet.attach(sc)?;
        }
        let replicates = replicates.unwrap_or(DEFAULT_REPLICATES);
        if !(1..=10_000).contains(&replicates) {
            return Err(Error::input(format!(
                "--replicates: expected 1 to 10000, found {replicates}"
            )));
        }
        Ok(SweepPlan {
            sweep,
            fleet,
            excluded,
            replicates,
        })
    }
}

/// Runs every setting's replicates and writes twin-settings.csv, changes.csv, report.md and
/// the manifest. Returns the tables.
pub fn sweep(
    plan: &SweepPlan,
    progress: &dyn super::Progress,
) -> Result<crate::results::forecast::TwinSweep> {
    use crate::results::forecast::{ChangeRow, TwinSettingRow, TwinSweep};
    let p = &plan.sweep;
    let (threads, pool) = super::thread_pool(p.threads)?;
    let watch = super::Stopwatch::start();
    let tokens = p.scenarios.first().map_or(0, |s| s.run.tokens);
    progress.start(
        tokens * plan.replicates as u64 * p.scenarios.len() as u64,
        &format!(
            "{} (twin, {} settings)",
            p.input.scenario.run.name,
            p.scenarios.len()
        ),
    );
    let (mut attempts, mut hmacs) = (0, 0);
    let mut forecasts = Vec::new();
    let mut by_population = Vec::new();
    for sc in &p.scenarios {
        let mut f = Forecaster::new(sc);
        for r in 0..plan.replicates {
            let mut scr = sc.clone();
            scr.run.seed = replicate_seed(sc.run.seed, r);
            let res = pool.install(|| {
                crate::sim::run_streamed(
                    &scr,
                    0..sc.run.tokens,
                    crate::sim::TraceSelect::None,
                    &|n| progress.advance(n),
                    &mut |recs| {
                        f.add(&recs);
                        true
                    },
                )
            });
            f.add_result(&res);
            attempts += res.total_attempts();
            hmacs += res.hmacs;
        }
        by_population.push(f.population_tickets());
        forecasts.push(f.finish(sc, plan.excluded.clone(), &plan.fleet));
    }
    progress.finish();
    let first: std::collections::HashMap<&str, &ForecastRow> = forecasts[0]
        .rows
        .iter()
        .map(|r| (r.credential.as_str(), r))
        .collect();
    let mut t = TwinSweep::default();
    let names = p.input.scenario.population_names();
    for (k, (f, point)) in forecasts.iter().zip(&p.points).enumerate() {
        let label = point.label();
        let mut changed: Vec<&ForecastRow> = Vec::new();
        for r in &f.rows {
            let a = first[r.credential.as_str()];
            let ticket = |x: &ForecastRow| x.p_ticket_90d.map_or(0.0, |v| v.0);
            let moved = a.action != r.action
                || (a.p_first_try_failure_week1.0 - r.p_first_try_failure_week1.0).abs()
                    >= CHANGE_WEEK1
                || (ticket(a) - ticket(r)).abs() >= CHANGE_TICKET;
            if k > 0 && moved {
                changed.push(r);
                t.changes.push(ChangeRow {
                    setting: k as u64 + 1,
                    label: label.clone(),
                    credential: r.credential.clone(),
                    population: r.population.clone(),
                    p_first_try_failure_week1_first: a.p_first_try_failure_week1,
                    p_first_try_failure_week1: r.p_first_try_failure_week1,
                    p_ticket_90d_first: a.p_ticket_90d,
                    p_ticket_90d: r.p_ticket_90d,
                    exit_median_first: a.exit_median,
                    exit_median: r.exit_median,
                    action_first: a.action.clone(),
                    action: r.action.clone(),
                });
            }
        }
        let groups = names
            .iter()
            .map(|n| Some(n.as_str()))
            .chain((names.len() > 1).then_some(None));
        for pop in groups {
            let mine = |r: &&ForecastRow| pop.is_none_or(|n| r.population == n);
            let rows: Vec<&ForecastRow> = f.rows.iter().filter(mine).collect();
            let n = |keep: &dyn Fn(&ForecastRow) -> bool| {
                rows.iter().filter(|r| keep(r)).count() as u64
            };
            let tickets: f64 = match pop {
                None => by_population[k].iter().sum(),
                Some(n) => names
                    .iter()
                    .position(|x| x == n)
                    .and_then(|i| by_population[k].get(i).copied())
                    .unwrap_or(0.0),
            };
            t.settings.push(TwinSettingRow {
                setting: k as u64 + 1,
                label: label.clone(),
                population: pop.unwrap_or("all").to_string(),
                credentials: rows.len() as u64,
                at_risk: n(&|r| r.p_exit.0 >= AT_RISK),
                broken_week1: n(&|r| r.p_first_try_failure_week1.0 >= 0.5),
                expected_tickets_week1: Fixed(rows.iter().map(|r| r.p_ticket_week1.0).sum()),
                expected_tickets: Fixed(tickets),
                changed: changed.iter().filter(|r| mine(r)).count() as u64,
            });
        }
    }
    let wall = watch.seconds();
    let facts = crate::results::Facts::Sweep(crate::results::SweepFacts {
        points: p
            .points
            .iter()
            .enumerate()
            .map(|(i, pt)| serde_json::json!({"setting": i + 1, "label": pt.label()}))
            .collect(),
        same_fleet: true,
        seconds_per_point: wall / p.points.len().max(1) as f64,
        targets: Vec::new(),
        recommended: Vec::new(),
        shard: None,
        merged_from: None,
    });
    let mut manifest = super::manifest(
        "sweep",
        &p.input,
        threads,
        (&watch, wall),
        (attempts, hmacs),
        facts,
    );
    let csv = crate::export::TwinSweepCsv;
    manifest.files = crate::export::Exporter::file_names(&csv);
    manifest
        .files
        .extend(["report.md".to_string(), "manifest.json".to_string()]);
    let mut folder = crate::export::Folder::default();
    crate::export::Exporter::render(&csv, &t, &mut folder)?;
    folder.add(
        "report.md",
        crate::report::forecast::render_sweep(&t, &manifest, plan.replicates).into_bytes(),
    );
    crate::export::Exporter::render(&crate::export::ManifestJson, &manifest, &mut folder)?;
    crate::export::write_folder(&p.out, p.force, &folder)?;
    Ok(t)
}
