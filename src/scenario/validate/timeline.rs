//! `[[timeline]]`: dated events of the validator side, checked, and each population's
//! validator over the run that they make.

use super::validator::validator_over;
use super::*;
use crate::scenario::{Cluster, Population, TimelineAction, TimelineEvent};
use crate::time::Millis;
use crate::validator::schedule::{clock_path, ClockChange, Schedule, StateAction};
use crate::validator::ValidatorConfig;

/// An instant written as a string or a TOML date or date-time literal.
fn instant(c: &mut Checker, path: &str, v: Option<&Value>) -> Option<Millis> {
    let text = match v {
        None => {
            c.err(path, "a date (YYYY-MM-DD) or RFC 3339 time", "nothing");
            return None;
        }
        Some(Value::String(s)) => s.clone(),
        Some(Value::Datetime(d)) => d.to_string(),
        Some(other) => {
            c.err(
                path,
                "a date (YYYY-MM-DD) or RFC 3339 time",
                describe(other),
            );
            return None;
        }
    };
    match parse_rfc3339(&text) {
        Ok(t) => Some(t),
        Err(e) => {
            c.err(path, "a date (YYYY-MM-DD) or RFC 3339 time", e);
            None
        }
    }
}

/// `v` checked on its own checker, its problems moved under `path` (the validator's checks
/// name their fields `validator.…`).
fn validator_at(
    c: &mut Checker,
    path: &str,
    r: &RawValidator,
    current: Option<&ValidatorConfig>,
) -> ValidatorConfig {
    let mut sub = Checker {
        problems: Vec::new(),
    };
    let v = validator_over(&mut sub, r.clone(), current);
    for mut p in sub.problems {
        if let Some(rest) = p.path.strip_prefix("validator") {
            p.path = format!("{path}{rest}");
        }
        if !c.problems.contains(&p) {
            c.problems.push(p);
        }
    }
    v
}

fn server_clock(c: &mut Checker, path: &str, r: &RawServerClock) -> Option<ClockChange> {
    let given = [r.step.is_some(), r.drift_ppm.is_some(), r.back.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if given != 1 {
        c.err(
            path,
            "exactly one of step, drift_ppm (with until) or return",
            format!("{given} of them"),
        );
        return None;
    }
    if let Some(s) = &r.step {
        let d = c.duration(&format!("{path}.step"), Some(s), 0.0, -YEAR_S, YEAR_S);
        return Some(ClockChange::Step(d * 1000.0));
    }
    if let Some(ppm) = r.drift_ppm {
        let ppm = c.number(&format!("{path}.drift_ppm"), Some(ppm), 0.0, -1e5, 1e5);
        let until = instant(c, &format!("{path}.until"), r.until.as_ref())?;
        return Some(ClockChange::Drift { ppm, until });
    }
    match r.back.as_deref() {
        Some("step") => Some(ClockChange::Return { slew_ppm: None }),
        Some("slew") => {
            let ppm = c.number(&format!("{path}.rate_ppm"), r.rate_ppm, 500.0, 1e-3, 1e5);
            Some(ClockChange::Return {
                slew_ppm: Some(ppm),
            })
        }
        Some(other) => {
            c.err(
                &format!("{path}.return"),
                "\"step\" or \"slew\"",
                format!("\"{other}\""),
            );
            None
        }
        None => None,
    }
}

/// The events, checked and in time order (events at one instant keep their order), and each
/// population's schedule.
pub(super) fn timeline(
    c: &mut Checker,
    raws: Vec<RawTimelineEvent>,
    validator: &ValidatorConfig,
    populations: &[Population],
    mut cluster: Option<&mut Cluster>,
    (start, end): (Millis, Millis),
) -> (Vec<TimelineEvent>, Vec<Schedule>) {
    let names: Vec<&str> = populations.iter().map(|p| p.name.as_str()).collect();
    let node_names: Vec<String> = cluster
        .as_ref()
        .map(|k| k.nodes.iter().map(|n| n.name.clone()).collect())
        .unwrap_or_default();
    // A node named by an event: its index, or a problem.
    let node_of = |c: &mut Checker, path: &str, name: Option<&String>| -> Option<usize> {
        let Some(name) = name else {
            c.err(path, "a node's name", "nothing");
            return None;
        };
        if node_names.is_empty() {
            c.err(
                path,
                "a [validator.cluster] whose node this is",
                format!("\"{name}\" with no cluster"),
            );
            return None;
        }
        let k = node_names.iter().position(|n| n == name);
        if k.is_none() {
            c.err(
                path,
                format!("a node's name ({})", node_names.join(", ")),
                format!("\"{name}\""),
            );
        }
        k
    };
    // (at, index as written, the event, its outage once checked)
    let mut checked: Vec<(Millis, usize, RawTimelineEvent, Option<TimelineAction>)> = Vec::new();
    for (i, r) in raws.into_iter().enumerate() {
        let path = format!("timeline[{i}]");
        let at = instant(c, &format!("{path}.at"), r.at.as_ref());
        if let Some(ps) = &r.populations {
            for (j, p) in ps.iter().enumerate() {
                if !names.contains(&p.as_str()) {
                    c.err(
                        &format!("{path}.populations[{j}]"),
                        format!("a population's name ({})", names.join(", ")),
                        format!("\"{p}\""),
                    );
                }
            }
        }
        let actions = [
            r.set.is_some(),
            r.reset_drift == Some(true),
            r.migrate.is_some(),
            r.server_clock.is_some(),
            r.outage.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if actions != 1 {
            c.err(
                &path,
                "exactly one of set, reset_drift = true, migrate, server_clock or outage",
                format!("{actions} of them"),
            );
        }
        let mut outage = None;
        if let Some(o) = &r.outage {
            if r.populations.is_some() {
                c.err(
                    &format!("{path}.populations"),
                    "no populations with an outage (a node is down for everyone)",
                    "populations",
                );
            }
            let k = node_of(c, &format!("{path}.outage.node"), o.node.as_ref());
            let until = instant(c, &format!("{path}.outage.until"), o.until.as_ref());
            match (k, at, until) {
                (_, Some(a), Some(u)) if u <= a => c.err(
                    &format!("{path}.outage.until"),
                    format!("a time after `at` ({})", crate::time::format_rfc3339(a)),
                    crate::time::format_rfc3339(u),
                ),
                (Some(k), Some(a), Some(u)) => {
                    if let Some(cl) = cluster.as_deref_mut() {
                        cl.outages[k].push((a, u));
                        outage = Some(TimelineAction::Outage {
                            node: cl.nodes[k].name.clone(),
                            until: u,
                        });
                    }
                }
                _ => {}
            }
        }
        if let Some(name) = r.server_clock.as_ref().and_then(|s| s.node.as_ref()) {
            node_of(c, &format!("{path}.server_clock.node"), Some(name));
        }
        if r.carry.is_some() && r.migrate.is_none() {
            c.err(&format!("{path}.carry"), "carry only with migrate", "carry");
        }
        if r.set.as_ref().is_some_and(|s| s.preset.is_some()) {
            c.err(
                &format!("{path}.set.preset"),
                "fields of the validator in force (another product is a `migrate`)",
                "preset",
            );
        }
        if let Some(at) = at {
            checked.push((at, i, r, outage));
        }
    }
    checked.sort_by_key(|e| (e.0, e.1));
    let applies = |ps: &Option<Vec<String>>, name: &str| {
        ps.as_ref().is_none_or(|ps| ps.iter().any(|p| p == name))
    };
    if let Some(cl) = cluster.as_deref_mut() {
        for o in &mut cl.outages {
            o.sort_unstable();
        }
        // Every request needs a node: some node is up at every instant.
        let mut edges: Vec<Millis> = cl.outages.iter().flatten().map(|o| o.0).collect();
        edges.sort_unstable();
        if let Some(t) = edges
            .into_iter()
            .find(|&t| (0..cl.nodes.len()).all(|k| !cl.up(k, t)))
        {
            c.err(
                "timeline",
                "outages that leave some node in service at every instant",
                format!("every node down at {}", crate::time::format_rfc3339(t)),
            );
        }
    }
    let node_index = |name: &Option<String>| {
        name.as_ref()
            .and_then(|n| node_names.iter().position(|m| m == n))
    };
    let mut schedules = Vec::new();
    let mut events: Vec<Option<TimelineEvent>> = (0..checked.len()).map(|_| None).collect();
    for p in populations {
        let mut s = Schedule::default();
        let mut cur = validator.clone();
        let mut clock = Vec::new();
        // Each node's own changes: its offset and rate from the start, then its events.
        let mut node_clocks: Vec<Vec<(Millis, ClockChange)>> = cluster
            .as_deref()
            .map(|cl| {
                cl.nodes
                    .iter()
                    .map(|n| {
                        let mut v = Vec::new();
                        if n.offset_s != 0.0 {
                            v.push((start, ClockChange::Step(n.offset_s * 1000.0)));
                        }
                        if n.drift_ppm != 0.0 {
                            let (ppm, until) = (n.drift_ppm, end);
                            v.push((start, ClockChange::Drift { ppm, until }));
                        }
                        v
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (k, (at, i, r, outage)) in checked.iter().enumerate() {
            let ps = &r.populations;
            if !applies(ps, &p.name) {
                continue;
            }
            let path = format!("timeline[{i}]");
            let action = if let Some(set) = &r.set {
                cur = validator_at(c, &format!("{path}.set"), set, Some(&cur));
                s.segments.push((*at, cur.clone()));
                Some(TimelineAction::Set(Box::new(cur.clone())))
            } else if r.reset_drift == Some(true) {
                s.actions.push((*at, StateAction::ForgetDrift));
                Some(TimelineAction::ResetDrift)
            } else if let Some(m) = &r.migrate {
                cur = validator_at(c, &format!("{path}.migrate"), m, None);
                s.segments.push((*at, cur.clone()));
                let carry = r.carry.unwrap_or(false);
                if !carry {
                    s.actions.push((*at, StateAction::Reenrol));
                }
                Some(TimelineAction::Migrate {
                    to: Box::new(cur.clone()),
                    carry,
                })
            } else if let Some(sc) = &r.server_clock {
                let change = server_clock(c, &format!("{path}.server_clock"), sc);
                if let Some(ch) = change {
                    match node_index(&sc.node) {
                        Some(n) => node_clocks[n].push((*at, ch)),
                        None => {
                            clock.push((*at, ch));
                            node_clocks.iter_mut().for_each(|v| v.push((*at, ch)));
                        }
                    }
                }
                change.map(|change| TimelineAction::ServerClock {
                    change,
                    node: sc.node.clone(),
                })
            } else if outage.is_some() {
                outage.clone()
            } else {
                None
            };
            if let (None, Some(a)) = (&events[k], action) {
                events[k] = Some(TimelineEvent {
                    at: *at,
                    populations: ps.clone(),
                    action: a,
                });
            }
        }
        s.clock = clock_path(&clock);
        s.nodes = node_clocks.iter().map(|v| clock_path(v)).collect();
        if s.nodes.iter().all(Vec::is_empty) {
            s.nodes.clear();
        }
        schedules.push(s);
    }
    if schedules.iter().all(Schedule::is_empty) {
        schedules.clear();
    }
    (events.into_iter().flatten().collect(), schedules)
}
