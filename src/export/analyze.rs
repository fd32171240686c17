//! The files of a drift analysis drawn from its loaded results: the charts, report.md, and the
//! scenario fitted to the fleet (`analyze --emit-scenario`).

use crate::chart::{self, Format};
use crate::error::{Error, Result};
use crate::results::analyze::{AnalyzeData, DriftRow};
use crate::results::cells::get;
use std::fmt::Write;

/// The names of the files [`analyze_views`] renders.
pub fn analyze_view_names() -> Vec<String> {
    let mut v: Vec<String> = chart::analyze::ANALYZE_FIGURES
        .iter()
        .flat_map(|f| [format!("{}.png", f.0), format!("{}.svg", f.0)])
        .collect();
    v.push("report.md".into());
    v
}

/// Charts and report.md of an analysis.
pub fn analyze_views(d: &AnalyzeData) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = chart::analyze::render_all(d, Format::Both)
        .map_err(|e| Error::failed(format!("drawing charts: {e}")))?;
    files.push((
        "report.md".into(),
        crate::report::analyze::render(d, true).into_bytes(),
    ));
    Ok(files)
}

/// A name the scenario accepts: letters, digits, `-` and `_`.
pub fn plain(s: &str) -> String {
    let p: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if p.is_empty() || p == "all" {
        "fleet".into()
    } else {
        p
    }
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    crate::stats::mean_sd(v).unwrap_or((0.0, 0.0))
}

/// A normal law in TOML (a fixed value when it has no spread), with `unit` after numbers.
fn normal(mean: f64, sd: f64, unit: &str) -> String {
    let q = |x: f64| {
        if unit.is_empty() {
            format!("{x:.4}")
        } else {
            format!("\"{x:.3}{unit}\"")
        }
    };
    if sd <= 1e-9 {
        q(mean)
    } else {
        format!(
            "{{ dist = \"normal\", mean = {}, sd = {} }}",
            q(mean),
            q(sd)
        )
    }
}

/// A scenario whose populations' clocks are fitted to the analysis: initial offsets and ppm as
/// normal laws (the ppm spread with the estimates' noise taken out), manual changes and
/// whole-hour mistakes at the rates seen; everything else is an ideal clock, so what is
/// simulated is what was measured.
pub fn fitted_scenario(d: &AnalyzeData, name: &str) -> Result<String> {
    let m = &d.manifest;
    let mut pops: Vec<&str> = d
        .credentials
        .iter()
        .map(|r| r.population.as_str())
        .collect();
    pops.sort();
    pops.dedup();
    let total = d.credentials.len();
    if total == 0 {
        return Err(Error::input("no credentials to fit a scenario to"));
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Fitted by `otpdrift analyze` to {} credentials of {} as of {}.\n#\n#   otpdrift run THIS_FILE      the fleet a year on\n#   otpdrift sweep THIS_FILE    the same fleet under other validators\n#\n# Clocks are ideal but for what was measured: the offsets now, the drift in ppm, and clock\n# steps at the rates seen (whole-hour steps as time-zone mistakes, the rest as manual\n# changes). Batteries are off: the log says nothing of their age.\n",
        total,
        m.inputs.first().map_or("the log", |i| i.0.as_str()),
        m.now
    );
    // The simulation starts at the analysis' now, within what a scenario accepts (after the
    // TOTP epoch, a year before the calendar ends).
    let now = crate::time::parse_rfc3339(&m.now).unwrap_or(0);
    let latest = crate::time::parse_rfc3339("9997-12-31T00:00:00Z").unwrap_or(0);
    let start = crate::time::format_rfc3339(now.clamp(0, latest));
    let _ = writeln!(s, "[run]\nname = \"{}\"\nstart = \"{start}\"\nhorizon = \"1y\"\ntokens = {total}\nseed = 1\nbucket = \"month\"\n", plain(&format!("fitted-{}", name.trim_start_matches("analyze-"))));
    let _ = writeln!(s, "[validator]");
    if let Some(p) = &m.preset {
        let _ = writeln!(s, "preset = \"{p}\"");
    }
    let _ = writeln!(
        s,
        "window = {{ back = {}, ahead = {} }}\n",
        m.window_back, m.window_ahead
    );
    // Plain names, unique: `a b` and `a-b` must not become one population twice.
    let mut used: Vec<String> = Vec::new();
    for p in &pops {
        let base = plain(p);
        let mut name = base.clone();
        let mut k = 2;
        while used.contains(&name) {
            name = format!("{base}-{k}");
            k += 1;
        }
        used.push(name.clone());
        let mine: Vec<&DriftRow> = d
            .credentials
            .iter()
            .filter(|r| r.population == *p)
            .collect();
        let fleet = d.fleet.iter().find(|f| f.population == *p);
        let ppm: Vec<f64> = mine.iter().filter_map(|r| get(r.ppm)).collect();
        let (raw_mean, raw_sd) = mean_sd(&ppm);
        let ppm_mean = fleet.and_then(|f| get(f.ppm_mean)).unwrap_or(raw_mean);
        let ppm_sd = fleet.and_then(|f| get(f.ppm_sd)).unwrap_or(raw_sd);
        // The bulk of the offsets (median, and the spread from the median absolute deviation):
        // credentials caught mid-step (an hour off) are the steps' business, not this law's.
        let mut off: Vec<f64> = mine
            .iter()
            .filter(|r| r.status != "inactive")
            .filter_map(|r| get(r.offset_now_s))
            .collect();
        off.sort_by(f64::total_cmp);
        let med = |v: &[f64]| if v.is_empty() { 0.0 } else { v[v.len() / 2] };
        let off_mean = med(&off);
        let mut dev: Vec<f64> = off.iter().map(|x| (x - off_mean).abs()).collect();
        dev.sort_by(f64::total_cmp);
        let off_sd = 1.4826 * med(&dev);
        let kind = match crate::token::TokenKind::parse(p) {
            Some(k) if k.is_totp() => p.to_string(),
            _ => "hardware".into(),
        };
        let _ = writeln!(s, "[[population]]\nname = \"{}\"\nshare = {:.6}\ntoken = {{ kind = \"{kind}\", step = \"{}s\" }}\nbattery = {{ enabled = false }}\n", name, mine.len() as f64 / total as f64, m.step_s);
        let _ = writeln!(
            s,
            "[population.clock]\nprofile = \"ideal\"\ninitial_offset = {}\ndrift_ppm = {}",
            normal(off_mean, off_sd, "s"),
            normal(ppm_mean, ppm_sd.min(1e5), "")
        );
        // Steps: whole hours (±60 s) are time-zone mistakes, two steps each (there and back).
        let steps: Vec<f64> = d
            .steps
            .iter()
            .filter(|r| r.population == *p)
            .map(|r| r.size_s.0)
            .collect();
        let years: f64 = mine
            .iter()
            .map(|r| (r.last_seen.0 - r.first_seen.0) as f64 / 31_557_600_000.0)
            .sum();
        let is_hour = |x: &f64| {
            x.abs() >= 1800.0 && ((x.abs() / 3600.0).round() * 3600.0 - x.abs()).abs() <= 60.0
        };
        let hours: Vec<f64> = steps.iter().copied().filter(is_hour).collect();
        let other: Vec<f64> = steps.iter().copied().filter(|x| !is_hour(x)).collect();
        if years > 0.0 && !other.is_empty() {
            let rms = (other.iter().map(|x| x * x).sum::<f64>() / other.len() as f64).sqrt();
            let _ = writeln!(s, "# {} steps of other sizes (rms {:.0} s) in {:.1} credential-years.\nevents.manual_change = {{ rate_per_year = {:.6}, amount = {} }}", other.len(), rms, years, other.len() as f64 / years, normal(0.0, rms, "s"));
        }
        if years > 0.0 && !hours.is_empty() {
            // A mistake is a step away then one back: the sign of each credential's first,
            // third, ... whole-hour step is the mistake's direction.
            let mut away: Vec<f64> = Vec::new();
            let mut last: Option<(&str, f64)> = None;
            for r in d
                .steps
                .iter()
                .filter(|r| r.population == *p && is_hour(&r.size_s.0))
            {
                match last {
                    Some((c, x)) if c == r.credential && x.signum() != r.size_s.0.signum() => {
                        last = None;
                    }
                    _ => {
                        away.push(r.size_s.0);
                        last = Some((&r.credential, r.size_s.0));
                    }
                }
            }
            let up = away.iter().filter(|x| **x > 0.0).count() as f64 / away.len().max(1) as f64;
            let _ = writeln!(s, "# {} whole-hour steps; each mistake is two (there and back); how long one lasts is not fitted.\nevents.timezone_error = {{ rate_per_year = {:.6}, hours = {{ dist = \"mixture\", of = [ {{ weight = {:.4}, dist = \"fixed\", value = 1 }}, {{ weight = {:.4}, dist = \"fixed\", value = -1 }} ] }} }}", hours.len(), away.len() as f64 / years, up.max(1e-4), (1.0 - up).max(1e-4));
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "# The same fleet under other validators (otpdrift sweep).\n[[sweep]]\nvary = {{ \"validator.preset\" = [\"rfc6238\", \"privacyidea\", \"freeipa\", \"keycloak\", \"vip\"] }}");
    Ok(s)
}
