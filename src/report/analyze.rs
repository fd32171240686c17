//! report.md of a drift analysis, from the loaded results alone: what to do first (resync,
//! replace, which window), the fleet, the charts and how the figures were made.

use crate::results::analyze::{AnalyzeData, DriftRow};
use crate::results::cells::get;
use crate::time::format_duration;
use std::fmt::Write;

/// Beyond a quartz crystal's ±20 ppm tolerance (DOMAIN: 32.768 kHz tuning fork at 25 °C)
/// a clock is faulty rather than merely drifting.
pub const REPLACE_PPM: f64 = 20.0;

fn day(t: crate::time::Millis) -> String {
    crate::time::format_rfc3339(t)[..10].to_string()
}

fn secs(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:+.0} s"))
}

fn ppm(r: &DriftRow) -> String {
    match (get(r.ppm), get(r.ppm_ci95_low), get(r.ppm_ci95_high)) {
        (Some(p), Some(l), Some(h)) => format!("{p:+.2} ({l:+.2} to {h:+.2})"),
        _ => "-".into(),
    }
}

fn share(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

/// The first `n` rows as a Markdown list, and how many more there are.
fn list(rows: &[&DriftRow], n: usize, line: impl Fn(&DriftRow) -> String) -> String {
    let mut s = String::new();
    for r in rows.iter().take(n) {
        let _ = writeln!(s, "  - `{}` ({}): {}", r.credential, r.population, line(r));
    }
    if rows.len() > n {
        let _ = writeln!(s, "  - and {} more (drift.csv)", rows.len() - n);
    }
    s
}

/// report.md; `png` names the PNG charts (else the SVGs).
pub fn render(d: &AnalyzeData, png: bool) -> String {
    let m = &d.manifest;
    let mut s = String::new();
    let source = m.inputs.first().map_or("the log", |i| i.0.as_str());
    let _ = writeln!(s, "# otpdrift drift analysis: {source}\n");
    let window = match &m.preset {
        Some(p) => format!(
            "`{p}`'s window (−{}/+{} steps of {} s)",
            m.window_back, m.window_ahead, m.step_s
        ),
        None => format!(
            "a window of −{}/+{} steps of {} s",
            m.window_back, m.window_ahead, m.step_s
        ),
    };
    let skipped: u64 = m.skipped.iter().map(|k| k.rows).sum();
    let _ = writeln!(
        s,
        "{} credential{} from {} rows of {} ({} observations used, {} rows skipped{}), judged against {window}, as of {}.\n",
        m.credentials,
        if m.credentials == 1 { "" } else { "s" },
        m.rows,
        if m.input_kind == "codes" { "codes" } else { "offsets" },
        m.rows_used,
        skipped,
        if m.rows_out_of_order > 0 {
            format!(", {} out of time order and sorted", m.rows_out_of_order)
        } else {
            String::new()
        },
        &m.now[..10]
    );

    let all = d.fleet.iter().find(|f| f.population == "all");
    let out: Vec<&DriftRow> = {
        let mut v: Vec<&DriftRow> = d
            .credentials
            .iter()
            .filter(|r| r.status == "out_now")
            .collect();
        v.sort_by(|a, b| {
            let k = |r: &DriftRow| -get(r.offset_now_s).unwrap_or(0.0).abs();
            k(a).total_cmp(&k(b))
        });
        v
    };
    let soon: Vec<&DriftRow> = {
        let mut v: Vec<&DriftRow> = d
            .credentials
            .iter()
            .filter(|r| r.status == "leaving" && get(r.days_to_exit).is_some_and(|x| x <= 90.0))
            .collect();
        v.sort_by(|a, b| {
            get(a.days_to_exit)
                .unwrap_or(0.0)
                .total_cmp(&get(b.days_to_exit).unwrap_or(0.0))
        });
        v
    };
    let faulty: Vec<&DriftRow> = d
        .credentials
        .iter()
        .filter(|r| {
            let (l, h) = (get(r.ppm_ci95_low), get(r.ppm_ci95_high));
            r.status != "inactive"
                && (l.is_some_and(|l| l > REPLACE_PPM) || h.is_some_and(|h| h < -REPLACE_PPM))
        })
        .collect();
    let steppy: Vec<&DriftRow> = d
        .credentials
        .iter()
        .filter(|r| r.status != "inactive" && r.steps >= 3)
        .collect();
    let inactive = d
        .credentials
        .iter()
        .filter(|r| r.status == "inactive")
        .count();

    let _ = writeln!(s, "## What to do\n");
    if out.is_empty() {
        let _ = writeln!(s, "- No credential is out of the window now.");
    } else {
        let _ = writeln!(
            s,
            "- **Resync now: {} credentials are out of the window** (their codes are accepted less than half the time without drift learning):\n{}",
            out.len(),
            list(&out, 10, |r| format!("offset {}, drift {} ppm", secs(get(r.offset_now_s)), ppm(r)))
        );
    }
    if !soon.is_empty() {
        let _ = writeln!(
            s,
            "- **Resync soon: {} credentials leave the window within 90 days**:\n{}",
            soon.len(),
            list(&soon, 10, |r| format!(
                "leaves about {} (95%: {} to {}), {} ppm",
                r.exit.map_or("-".into(), |t| day(t.0)),
                r.exit_ci95_early.map_or("-".into(), |t| day(t.0)),
                r.exit_ci95_late
                    .map_or("beyond the horizon".into(), |t| day(t.0)),
                ppm(r)
            ))
        );
    }
    if !faulty.is_empty() {
        let _ = writeln!(
            s,
            "- **Replace: {} credentials** drift faster than a quartz clock's ±{REPLACE_PPM} ppm tolerance (the whole 95% interval beyond it):\n{}",
            faulty.len(),
            list(&faulty, 10, |r| format!("{} ppm", ppm(r)))
        );
    }
    if !steppy.is_empty() {
        let _ = writeln!(
            s,
            "- **Check the device's time settings: {} credentials** stepped three or more times (clocks set by hand, time-zone mistakes, resets):\n{}",
            steppy.len(),
            list(&steppy, 10, |r| format!("{} steps, {} ppm", r.steps, ppm(r)))
        );
    }
    if inactive > 0 {
        let _ = writeln!(
            s,
            "- {inactive} credentials were not seen in the 90 days before {} (replaced, retired or unused); they are left out of the advice and of the shares below.",
            &m.now[..10]
        );
    }
    let rows: Vec<_> = d.windows.iter().filter(|w| w.population == "all").collect();
    let smallest = |q: f64| {
        rows.iter()
            .find(|w| get(w.share_inside_1y).is_some_and(|x| x >= q))
            .map(|w| w.window_steps)
    };
    let resynced = |q: f64| {
        rows.iter()
            .find(|w| get(w.share_inside_1y_after_resync).is_some_and(|x| x >= q))
            .map(|w| w.window_steps)
    };
    let say = |k: Option<u32>| {
        k.map_or("more than any window listed".into(), |k| {
            format!(
                "±{k} steps (±{})",
                format_duration(k as f64 * m.step_s as f64)
            )
        })
    };
    let _ = writeln!(
        s,
        "- **Window:** as the clocks stand, keeping 95% of the active fleet inside for a year without drift learning takes {}, and 99% takes {}. If every credential is resynced now, a year of drift alone needs {} for 95% and {} for 99%. A validator that learns drift on every success follows the slow drift; the clock steps remain.\n",
        say(smallest(0.95)),
        say(smallest(0.99)),
        say(resynced(0.95)),
        say(resynced(0.99))
    );

    let _ = writeln!(s, "## The fleet\n");
    let _ = writeln!(
        s,
        "| population | credentials (active) | ppm p10 / p50 / p90 | ppm spread (sd) | offset now p10 / p50 / p90 | out now | leaving in 30 d / 90 d / 1 y | stepped | steps a year |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    let f = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:+.2}"));
    for r in &d.fleet {
        let _ = writeln!(
            s,
            "| {} | {} ({}) | {} / {} / {} | {} | {} / {} / {} | {} ({}) | {} / {} / {} | {} | {} |",
            r.population.replace('|', "/"),
            r.credentials,
            r.active,
            f(get(r.ppm_p10)),
            f(get(r.ppm_p50)),
            f(get(r.ppm_p90)),
            get(r.ppm_sd).map_or("-".into(), |v| format!("{v:.2}")),
            secs(get(r.offset_now_p10_s)),
            secs(get(r.offset_now_p50_s)),
            secs(get(r.offset_now_p90_s)),
            r.out_now,
            share(get(r.share_out_now)),
            r.leaving_30d,
            r.leaving_90d,
            r.leaving_365d,
            r.stepped,
            get(r.steps_per_year).map_or("-".into(), |v| format!("{v:.2}")),
        );
    }
    if let Some(a) = all {
        if let Some(h) = get(a.share_steps_whole_hours) {
            let _ = writeln!(
                s,
                "\n{} of the clock steps are whole hours (time-zone or daylight-saving mistakes).",
                share(Some(h))
            );
        }
    }
    let ext = if png { "png" } else { "svg" };
    let charts: Vec<(&str, &str)> = [
        ("drift_worst", "The credentials leaving the window first"),
        ("drift_ppm", "Frequency error across the fleet"),
        ("drift_exits", "When credentials leave the window"),
        ("drift_scatter", "Offset now against frequency error"),
    ]
    .into_iter()
    .filter(|(stem, _)| m.files.iter().any(|f| f == &format!("{stem}.{ext}")))
    .collect();
    if !charts.is_empty() {
        let _ = writeln!(s, "\n## Charts\n");
    }
    for (stem, title) in charts {
        let _ = writeln!(s, "![{title}]({stem}.{ext})\n");
    }
    let _ = writeln!(s, "## How these figures were made\n");
    let _ = writeln!(
        s,
        "Each observation is an interval: a matched code says the device's clock was within one {} s step, shifted by the submission delay (assumed {} s; it moves the offsets, not the ppm); a measured offset is a point. Each credential's history is split into segments at clock steps (a jump of more than {} beyond its drift, confirmed by two observations), and a straight line is fitted to each segment by interval-censored maximum likelihood; the 95% intervals use the largest of the model's, the sandwich and a block jackknife covariance, widened when residuals follow each other. A credential leaves the window when its offset minus the delay passes ±(window + ½) steps, where its codes stop being accepted half the time; the exit interval is the 95% band of the line. Details: docs/analyze.md.\n",
        m.step_s,
        m.delay_s,
        format_duration(m.step_threshold_s)
    );
    if !m.skipped.is_empty() {
        let _ = writeln!(s, "Rows skipped:\n");
        for k in &m.skipped {
            let _ = writeln!(s, "- {} rows: {} (first: {})", k.rows, k.reason, k.first);
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "Files: `drift.csv` (per credential), `steps.csv` (clock steps), `fleet.csv` (per population and `all`), `window.csv` (share inside a year for each window), `drift-observations.csv` (the charted credentials' observations and fits), `manifest.json`."
    );
    s
}
