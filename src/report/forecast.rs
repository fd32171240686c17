//! report.md's forecast section for a twin run (`run --fleet`): where the fleet came from, what
//! to do about how many credentials, and the credentials most at risk with their figures.

use crate::results::cells::{thousands, Rate, Time};
use crate::results::forecast::Forecast;
use crate::results::RunData;
use std::fmt::Write;

/// Credentials listed by name in the report (forecast.csv has them all).
const LISTED: usize = 15;

/// A credential's outcome differs between two settings of a twin sweep when its action does,
/// or its chance of a failed first try in the week after the event moves by this much, or
/// that of a ticket within 90 days by [`CHANGE_TICKET`].
pub const CHANGE_WEEK1: f64 = 0.2;
pub const CHANGE_TICKET: f64 = 0.1;

fn p(x: Option<Rate>) -> String {
    x.map_or("–".into(), |r| format!("{:.0}%", r.0 * 100.0))
}

fn day(t: Option<Time>) -> String {
    t.map_or("after the horizon".into(), |t| {
        crate::time::format_rfc3339(t.0)[..10].to_string()
    })
}

/// The section, after the scenario paragraph: a twin's reader comes for this first.
pub fn section(out: &mut String, d: &RunData, f: &Forecast) {
    let Some(fl) = d.manifest.facts.fleet() else {
        return;
    };
    let _ = writeln!(out, "## The forecast\n");
    let inactive = f.excluded.iter().filter(|e| e.reason == "inactive").count();
    let _ = writeln!(
        out,
        "A twin of the {} real credentials `{}` analysed as of {}: each starts from its own fitted clock (offset and drift drawn from the fit's uncertainty, with the wander a fitted line cannot show), {}, and the validator state its log left. The fleet was run {} times with independent draws. {} credential{} of the analysis {} left out ({} inactive for 90 days, {} without an offset estimate; `forecast-excluded.csv`). Exits are judged against the analysis' window, offsets from {:+.1} s to {:+.1} s.\n",
        thousands(fl.credentials as f64),
        fl.analysis,
        &fl.start[..10],
        if fl.logins_from_log {
            "its own login rate and hours (from its log's rows)"
        } else {
            "the population's login rate and hours (an offsets log does not show logins)"
        },
        fl.replicates,
        fl.excluded,
        if fl.excluded == 1 { "" } else { "s" },
        if fl.excluded == 1 { "is" } else { "are" },
        inactive,
        f.excluded.len() - inactive,
        fl.edges_s.0,
        fl.edges_s.1,
    );
    let expected: f64 = f.tickets.iter().map(|t| t.expected.0).sum();
    let first_week: f64 = f
        .tickets
        .iter()
        .filter(|t| t.bucket_start.0 < d.scenario.run.start + 7 * crate::time::DAY)
        .map(|t| t.expected.0)
        .sum();
    let _ = writeln!(
        out,
        "**Helpdesk.** {expected:.1} tickets expected over the horizon, {first_week:.1} of them in the buckets that start in the first week; the chart below shows each bucket with the band 90% of the replicates fall in.\n",
    );
    // What to do, by action (resync-before dates grouped).
    let mut actions: Vec<(String, usize)> = Vec::new();
    for r in &f.rows {
        let key = if r.action.starts_with("resync before") {
            "resync before a date".to_string()
        } else {
            r.action.clone()
        };
        match actions.iter_mut().find(|a| a.0 == key) {
            Some(a) => a.1 += 1,
            None => actions.push((key, 1)),
        }
    }
    let order = [
        "replace",
        "resync now",
        "resync before a date",
        "check time settings",
        "nothing",
    ];
    actions.sort_by_key(|a| order.iter().position(|o| *o == a.0).unwrap_or(order.len()));
    let _ = writeln!(out, "| action | credentials |\n|---|---|");
    for (a, n) in &actions {
        let _ = writeln!(out, "| {a} | {} |", thousands(*n as f64));
    }
    let at_risk: Vec<_> = f
        .rows
        .iter()
        .filter(|r| r.p_exit.0 >= crate::report::AT_RISK)
        .collect();
    let _ = writeln!(
        out,
        "\n**Most at risk.** {} credential{} leave{} the window in at least half the replicates; the {} soonest out (forecast.csv lists every credential, in this order):\n",
        thousands(at_risk.len() as f64),
        if at_risk.len() == 1 { "" } else { "s" },
        if at_risk.len() == 1 { "s" } else { "" },
        at_risk.len().min(LISTED),
    );
    let _ = writeln!(
        out,
        "| credential | population | first-try failure 30 d | 90 d | ticket 90 d | leaves the window | 90% band | action |\n|---|---|---|---|---|---|---|---|"
    );
    for r in at_risk.iter().take(LISTED) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} to {} | {} |",
            r.credential.replace('|', "/"),
            r.population.replace('|', "/"),
            p(r.p_first_try_failure_30d),
            p(r.p_first_try_failure_90d),
            p(r.p_ticket_90d),
            day(r.exit_median),
            day(r.exit_p05),
            day(r.exit_p95),
            r.action,
        );
    }
    let _ = writeln!(out);
}

/// report.md of a twin sweep: per setting, what breaks in the week after its event and the
/// tickets, by population; then the credentials that change most under each setting.
pub fn render_sweep(
    t: &crate::results::forecast::TwinSweep,
    m: &crate::results::Manifest,
    replicates: u32,
) -> String {
    let mut out = String::new();
    let name = m
        .scenario
        .get("run")
        .and_then(|r| r.get("name"))
        .and_then(|n| n.as_str());
    let _ = writeln!(
        out,
        "# otpdrift twin sweep: {}\n",
        name.unwrap_or("scenario")
    );
    let settings = t.settings.iter().map(|r| r.setting).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "The real fleet of the analysis, under {settings} settings of the scenario's `[sweep]`, each run {replicates} times with independent draws. Setting 1 is the reference: `changes.csv` lists, for every other setting, the credentials whose action changes, whose chance of a failed first try in the week after the setting's first dated event (its cut-over; the first week without one) moves by {:.0} points or more, or whose chance of a ticket within 90 days moves by {:.0} points or more.\n",
        CHANGE_WEEK1 * 100.0,
        CHANGE_TICKET * 100.0,
    );
    let _ = writeln!(
        out,
        "| setting | population | credentials | broken in week 1 | tickets in week 1 | tickets over the horizon | at risk | changed from setting 1 |\n|---|---|---|---|---|---|---|---|"
    );
    for r in &t.settings {
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {:.1} | {:.1} | {} | {} |",
            r.setting,
            r.label.replace('|', "/"),
            r.population.replace('|', "/"),
            thousands(r.credentials as f64),
            thousands(r.broken_week1 as f64),
            r.expected_tickets_week1.0,
            r.expected_tickets.0,
            thousands(r.at_risk as f64),
            thousands(r.changed as f64),
        );
    }
    for k in 2..=settings {
        let mine: Vec<_> = t.changes.iter().filter(|c| c.setting == k).collect();
        let Some(first) = mine.first() else { continue };
        let _ = writeln!(
            out,
            "\n## Setting {k}: {}\n\n{} credential{} change. The first {}:\n",
            first.label,
            thousands(mine.len() as f64),
            if mine.len() == 1 { "" } else { "s" },
            mine.len().min(LISTED)
        );
        let _ = writeln!(
            out,
            "| credential | population | failed first try, week 1 | ticket 90 d | action |\n|---|---|---|---|---|"
        );
        for c in mine.iter().take(LISTED) {
            let _ = writeln!(
                out,
                "| {} | {} | {} -> {} | {} -> {} | {} -> {} |",
                c.credential.replace('|', "/"),
                c.population.replace('|', "/"),
                p(Some(c.p_first_try_failure_week1_first)),
                p(Some(c.p_first_try_failure_week1)),
                p(c.p_ticket_90d_first),
                p(c.p_ticket_90d),
                c.action_first,
                c.action
            );
        }
    }
    out
}
