//! report.md of a probe, and the words for each facet it measured (shared with the comments of
//! validator.toml): what was measured and how sure, the nearest preset, what the probe changed
//! on the server, and what it did not measure.

use crate::probe::{Answer, Band, Facets, LockFinding, Outcome, Purpose, Stop};
use crate::results::probe::ProbeData;
use crate::time::{format_duration, format_rfc3339};
use crate::validator::{presets, DriftLearning, Replay, SyncSearch, ValidatorConfig};
use std::fmt::Write;

/// A rule's name as a scenario writes it.
pub fn rule_name((replay, skip): (Replay, bool)) -> String {
    let r = match replay {
        Replay::None => "none",
        Replay::ExactSteps => "exact_steps",
        Replay::TimeForward => "time_forward",
        Replay::LastCode => "last_code",
    };
    if skip {
        format!("{r}, refused steps skipped")
    } else {
        r.to_string()
    }
}

pub fn drift_name(d: DriftLearning) -> String {
    match d {
        DriftLearning::None => "none".into(),
        DriftLearning::Steps => "steps".into(),
        DriftLearning::Seconds => "seconds".into(),
        DriftLearning::Explicit => "explicit".into(),
        DriftLearning::Consistent { k, search } => {
            format!("consistent ({k} codes at one skew, searched ±{search} steps)")
        }
    }
}

fn span(name: &str, (lo, hi): (u32, u32), at_bound: bool) -> String {
    match (lo == hi, at_bound) {
        (_, true) => format!("at least {hi} steps {name}: the widest searched (--max-window)"),
        (true, false) => format!("{lo} steps {name}"),
        (false, false) => format!(
            "{lo} to {hi} steps {name}: every attempt the probe could make was answered alike (the narrowest is written)"
        ),
    }
}

/// The value written, and those that answered every attempt alike.
fn alike(values: Vec<String>) -> String {
    match values.split_first() {
        None => "-".into(),
        Some((first, [])) => first.clone(),
        Some((first, rest)) => format!(
            "{first} (answered every attempt the probe could make like: {})",
            rest.join("; ")
        ),
    }
}

/// One line per measured facet: (field, what was found, how).
pub fn facet_lines(f: &Facets, o: &Outcome) -> Vec<(&'static str, String, String)> {
    let attempts_for = |p: Purpose| o.sent.iter().filter(|s| s.purpose == p).count();
    let mut v = vec![
        (
            "window.back",
            span("back", f.back, f.back_at_bound),
            format!(
                "codes of steps behind the centre, accepted and refused ({} measuring attempts in all)",
                attempts_for(Purpose::Measure)
            ),
        ),
        (
            "window.ahead",
            span("ahead", f.ahead, f.ahead_at_bound),
            "codes of steps ahead of the centre, accepted and refused".into(),
        ),
        (
            "drift",
            alike(f.drifts.iter().map(|d| drift_name(*d)).collect()),
            "where the window sits after an accepted code off the centre (early and late in a step tell whole steps from seconds); three refused codes at one skew in successive steps for consistent skew".into(),
        ),
        (
            "replay",
            alike(f.rules.iter().map(|r| rule_name(*r)).collect()),
            "the same code again, and earlier steps after a later one was accepted".into(),
        ),
    ];
    let lock = match &o.lockout {
        LockFinding::NotMeasured => (
            "not measured (needs --allow-lockout); written as none".to_string(),
            "-".to_string(),
        ),
        LockFinding::NoneWithin(n) => (
            format!("no lock after {n} wrong codes in a row"),
            "runs of wrong codes, each followed by a correct code".into(),
        ),
        LockFinding::Locks {
            failures,
            clears_after_ms,
            waited_ms,
            unlocked_by_transport,
        } => {
            let f = if failures.0 == failures.1 {
                format!("{} failures in a row lock", failures.0)
            } else {
                format!("{} to {} failures in a row lock", failures.0, failures.1)
            };
            let c = match clears_after_ms {
                Some((lo, hi)) => format!(
                    "; it clears by itself after {} to {}",
                    format_duration(*lo as f64 / 1000.0),
                    format_duration(*hi as f64 / 1000.0)
                ),
                None => format!(
                    "; it did not clear by itself within {}{}",
                    format_duration(*waited_ms as f64 / 1000.0),
                    if *unlocked_by_transport {
                        " (unlocked by the transport's administrator call)"
                    } else {
                        ""
                    }
                ),
            };
            (
                f + &c,
                "runs of wrong codes (doubling, then halving), then correct codes at doubling waits".into(),
            )
        }
    };
    v.push(("lockout", lock.0, lock.1));
    let bands: Vec<String> = f
        .bands
        .iter()
        .map(|(b, (lo, hi))| {
            let width = match (lo == hi, *hi >= o.max_band) {
                (_, true) => format!("at least {lo} steps either side: the widest looked for (--max-band)"),
                (true, false) => format!("{lo} steps either side"),
                (false, false) => format!("{lo} to {hi} steps either side (every trial answered alike; the one written is listed first)"),
            };
            match b {
                Band::None => "none reaching past the window".to_string(),
                Band::AutoResync(crate::validator::AutoStyle::Privacyidea) => format!(
                    "an automatic resync (two codes in successive steps accept the second and re-centre), searched around the learned centre as privacyIDEA's AutoResync does, {width}"
                ),
                Band::AutoResync(_) => format!(
                    "an automatic resync (two codes in successive steps accept the second and re-centre), searched around the true step as LinOTP's does, {width}"
                ),
                Band::AutoSync => format!("an auto-sync band (one code accepted and re-centred on), {width}"),
            }
        })
        .collect();
    let band_field = match f.bands.first().map(|b| b.0) {
        Some(Band::AutoSync) => "auto_sync",
        _ => "auto_resync",
    };
    v.push((
        band_field,
        alike(bands),
        format!(
            "a code one step past the farthest window edge, then the next step's code at once; if a band took them, trials at the distances that split the widths left (each past the last accepted, the window brought back to the true step at the end) ({} band attempts); how long the second code may come after the first is not measured (the two are sent together)",
            attempts_for(Purpose::Band)
        ),
    ));
    v.push(("sync", sync_found(f, o), sync_how(o)));
    v
}

/// What the resync trials found.
fn sync_found(f: &Facets, o: &Outcome) -> String {
    if !o.resync_endpoint {
        return "not measured: the transport has no resync endpoint the probe may call (privacyIDEA's `/token/resync` needs an administrator login in OTPDRIFT_ADMIN_USER and OTPDRIFT_ADMIN_PASSWORD; LinOTP's, RADIUS and PAM have none here); written as none".into();
    }
    alike(
        f.syncs
            .iter()
            .map(|(k, (lo, hi))| {
                let width = match (lo == hi, *hi >= o.max_band) {
                    (_, true) => format!(
                        "a window of at least {lo} steps either side: the widest looked for (--max-band)"
                    ),
                    (true, false) => format!("a window of {lo} steps either side"),
                    (false, false) => format!(
                        "a window of {lo} to {hi} steps either side (every trial answered alike; the one written is listed first)"
                    ),
                };
                match k {
                    None => "none: the endpoint took no pair of codes, not even the two steps at the centre".to_string(),
                    Some((SyncSearch::Separate, refuse_next, _)) => format!(
                        "two codes of successive steps, each searched on its own around the learned centre (privacyIDEA's and LinOTP's resync), {width}; {}",
                        if *refuse_next {
                            "the step after the second is refused from then on (privacyIDEA)"
                        } else {
                            "the step after the second is not refused (LinOTP)"
                        }
                    ),
                    Some((SyncSearch::Nearest, _, beyond)) => format!(
                        "two codes of successive steps, the nearest such run around the server step (VIP's manual sync), {width}{}",
                        if *beyond {
                            "; the window is centred one step beyond the second (FreeIPA)"
                        } else {
                            ""
                        }
                    ),
                }
            })
            .collect(),
    )
}

fn sync_how(o: &Outcome) -> String {
    if !o.resync_endpoint {
        return "-".into();
    }
    let n = |p: Purpose| {
        o.sent
            .iter()
            .filter(|s| s.code2.is_some() && s.purpose == p)
            .count()
    };
    format!(
        "{} resyncs at the offsets behind the centre that split the windows left (each waiting, where a used step is in the way, for the true step to pass it), with ordinary codes after an accepted one; {} more brought the centre back",
        n(Purpose::Resync),
        n(Purpose::Restore)
    )
}

/// The preset whose measured facets agree most with `c`, and where they differ (the resync
/// procedure only when it was measured).
pub fn nearest_preset(c: &ValidatorConfig, sync_measured: bool) -> (String, Vec<String>) {
    let mut best: Option<(usize, String, Vec<String>)> = None;
    for p in presets::all() {
        let q = &p.config;
        let mut diff = Vec::new();
        if (q.window_back, q.window_ahead) != (c.window_back, c.window_ahead) {
            diff.push(format!(
                "window {}/{} there, {}/{} here",
                q.window_back, q.window_ahead, c.window_back, c.window_ahead
            ));
        }
        if q.drift != c.drift {
            diff.push(format!(
                "drift {} there, {} here",
                drift_name(q.drift),
                drift_name(c.drift)
            ));
        }
        if (q.replay, q.skip_refused) != (c.replay, c.skip_refused) {
            diff.push(format!(
                "replay {} there, {} here",
                rule_name((q.replay, q.skip_refused)),
                rule_name((c.replay, c.skip_refused))
            ));
        }
        let band = |v: &ValidatorConfig| match (Band::of(v), Band::width(v)) {
            (Band::None, _) | (_, None) => "none".to_string(),
            (Band::AutoSync, Some(w)) => format!("auto-sync ±{w}"),
            (Band::AutoResync(_), Some(w)) => format!("automatic resync ±{w}"),
        };
        if band(q) != band(c) {
            diff.push(format!(
                "band past the window {} there, {} here",
                band(q),
                band(c)
            ));
        }
        let sync = |v: &ValidatorConfig| match v.sync {
            None => "none".to_string(),
            Some(p) => format!("{:?} ±{}", p.search, p.window).to_lowercase(),
        };
        if sync_measured && sync(q) != sync(c) {
            diff.push(format!("resync {} there, {} here", sync(q), sync(c)));
        }
        let lock = |l: Option<crate::validator::Lockout>| l.map(|l| l.max_failures);
        if lock(q.lockout) != lock(c.lockout) && c.lockout.is_some() {
            diff.push(format!(
                "lock after {} there, {} here",
                lock(q.lockout).map_or("never".into(), |n| n.to_string()),
                lock(c.lockout).map_or("never".into(), |n| n.to_string())
            ));
        }
        if best.as_ref().is_none_or(|b| diff.len() < b.0) {
            best = Some((diff.len(), p.name.to_string(), diff));
        }
    }
    let (_, name, diff) = best.expect("presets exist");
    (name, diff)
}

/// What the probe changed on the server for one credential.
fn changes(o: &Outcome) -> Vec<String> {
    let accepted = o
        .sent
        .iter()
        .filter(|s| s.answer == Answer::Accept && s.purpose != Purpose::Unlock)
        .count();
    let mut v = vec![format!(
        "{accepted} codes were accepted: those steps are used (a replay rule refuses them, and earlier ones, from now on); nothing can undo that, and it matters only until the clock passes them"
    )];
    let resyncs = o
        .sent
        .iter()
        .filter(|s| s.code2.is_some() && s.answer == Answer::Accept)
        .count();
    if resyncs > 0 {
        v.push(format!(
            "{resyncs} resyncs through the endpoint took: each moved the centre to the codes it found and held their steps as used; the last ones brought the centre back"
        ));
    }
    match o.drift_left {
        Some(d) if d.abs() < 1e-9 => v.push(
            "the learned drift is back at 0 steps (the restoring logins re-centred it)".into(),
        ),
        Some(d) if d.abs() < 0.5 => v.push(format!(
            "the learned drift is {d:+.2} steps, within half a step of 0: a validator that learns seconds keeps the fraction of a step any login leaves"
        )),
        Some(d) => v.push(format!(
            "the learned drift is left at {d:+.2} steps: no code every configuration left accepts moves it closer (a normal login by the user re-centres it, or a resync)"
        )),
        None => v.push(
            "the learned drift at the end is not known: the configurations left disagree on it"
                .into(),
        ),
    }
    match &o.lockout {
        LockFinding::Locks {
            unlocked_by_transport: true,
            ..
        } => v.push("the credential was locked and unlocked by the transport's administrator call (the failure count is 0)".into()),
        LockFinding::Locks {
            clears_after_ms: Some(_),
            ..
        } => v.push("the credential was locked and left to clear by itself; it is unlocked now".into()),
        LockFinding::Locks { .. } => v.push("**the credential is left locked**: an administrator must unlock it".into()),
        _ => v.push("the failure count was cleared by a correct code after every refusal; the credential was never locked".into()),
    }
    v
}

/// Facets the probe does not measure, written as the model's defaults.
pub const NOT_MEASURED: &[&str] = &[
    "VIP's manual-sync band and next-code prompts (beyond the window these answer as refusals here), throttling, rate limits and brute-force waits: written as none",
    "the search order: only chance collisions (about one in a million per step) tell orders apart; center_out is written",
    "the server clock's offset from this machine's: it shows as a window shifted to one side (the window is measured against this machine's clock)",
];

/// report.md.
pub fn render(d: &ProbeData) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "# Probe of {}\n", d.target);
    let _ = writeln!(
        r,
        "{} credential(s) probed through {}, from {} to {}. Secrets were read from `{}` and appear nowhere in these files.\n",
        d.credentials.len(),
        d.transport,
        format_rfc3339(d.started_at),
        format_rfc3339(d.finished_at),
        d.secrets_file
    );
    for c in &d.credentials {
        let o = &c.outcome;
        let _ = writeln!(r, "## Credential `{}`\n", c.id);
        let verdict = match &o.stop {
            Stop::Converged => {
                "what is left answers every attempt the probe could make the same way".to_string()
            }
            Stop::Budget(why) => format!(
                "**stopped early**: {why}; the facets below may still hold more than one value"
            ),
        };
        let _ = writeln!(
            r,
            "{} attempts{} over {} of the validator's time; {verdict}.\n",
            o.attempts(),
            match o.unlocks() {
                0 => String::new(),
                n => format!(" (and {n} administrator unlocks)"),
            },
            format_duration(o.elapsed_ms as f64 / 1000.0)
        );
        let _ = writeln!(r, "| field | found | how |\n|---|---|---|");
        for (field, found, how) in facet_lines(&o.facets, o) {
            let _ = writeln!(r, "| `{field}` | {found} | {how} |");
        }
        let (name, diff) = nearest_preset(&o.config, o.resync_endpoint);
        let _ = writeln!(
            r,
            "\nNearest preset: `{name}`{}.\n",
            if diff.is_empty() {
                " (every measured field agrees)".to_string()
            } else {
                format!("; it differs in: {}", diff.join("; "))
            }
        );
        let _ = writeln!(r, "What the probe changed on the server:\n");
        for line in changes(o) {
            let _ = writeln!(r, "- {line}");
        }
        let _ = writeln!(r);
    }
    let _ = writeln!(r, "## Not measured\n");
    for line in NOT_MEASURED {
        let _ = writeln!(r, "- {line}");
    }
    let _ = writeln!(
        r,
        "\n## Files\n\n- `validator.toml`: the `[validator]` table found (of the first credential), each measured field with how it was measured; `run`, `sweep` and `replay` take it.\n- `attempts.csv`: every attempt with the validator's answer in `expected` (the replay format): `otpdrift replay attempts.csv --secrets {} --validator validator.toml` decides it again.\n- `manifest.json`: the plan, the limits and the versions.\n\n## The plan, as printed before the first attempt\n\n```\n{}```",
        d.secrets_file,
        d.plan
    );
    r
}
