//! `[validator]`: a preset and the fields that override it.

use super::*;

/// A procedure written as `"none"` (switched off) or as a table of numeric settings.
pub(super) enum Section {
    Off,
    /// The table's values in the order of the keys asked for; None where a key is absent.
    On(Vec<Option<f64>>),
}

/// A `"none"` or a table with only `keys`, each a number in its range. None when it is
/// neither (the problem is recorded).
pub(super) fn params(
    c: &mut Checker,
    path: &str,
    v: &Value,
    keys: &[(&str, f64, f64)],
    what: &str,
) -> Option<Section> {
    match v {
        Value::String(s) if s == "none" => Some(Section::Off),
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
            ok.then_some(Section::On(vals))
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

pub(super) fn validator(c: &mut Checker, r: RawValidator) -> ValidatorConfig {
    validator_over(c, r, None)
}

/// `r`'s fields over its preset, or over `current` when it names none (a timeline's `set`),
/// or over `rfc6238`.
pub(super) fn validator_over(
    c: &mut Checker,
    r: RawValidator,
    current: Option<&ValidatorConfig>,
) -> ValidatorConfig {
    if r.cluster.is_some() {
        c.err(
            "validator.cluster",
            "no cluster here: the nodes are the deployment, described once in [validator.cluster]",
            "cluster",
        );
    }
    let base = match r.preset.as_deref() {
        None => current
            .cloned()
            .unwrap_or_else(|| presets::find("rfc6238").expect("built in").config),
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
    // VIP's security levels set the validation window (Broadcom KB 175691): Medium ±5 min,
    // Low ±32 min; High's window is not published.
    let level = match r.security_level.as_deref() {
        None => None,
        Some("medium") => Some((10, 20)),
        Some("low") => Some((64, 80)),
        Some(other) => {
            c.err(
                "validator.security_level",
                "\"low\" or \"medium\" (VIP's High window is not published: set validator.window)",
                format!("\"{other}\""),
            );
            None
        }
    };
    // A window in steps and a tolerance in seconds are two ways to say one thing: a window set
    // beside a preset that has a tolerance replaces it; both set is a contradiction. With a
    // tolerance, the steps window is the most it opens for 30 s codes (what the bands are
    // checked against).
    let explicit_window = r.window.is_some() || level.is_some();
    let tolerance = match (&r.tolerance, explicit_window) {
        (Some(v), true) if !matches!(v, Value::String(s) if s == "none") => {
            c.err(
                "validator.tolerance",
                "no tolerance beside a window in steps (validator.window): one or the other",
                describe(v),
            );
            None
        }
        (None, true) => None,
        (t, _) => tolerance(c, t, base.tolerance),
    };
    let (base_back, base_ahead) = match tolerance {
        Some(t) if r.tolerance.is_some() => {
            let most = |s: f64| (s / 30.0).ceil() as u32;
            (most(t.past_s), most(t.future_s))
        }
        _ => (base.window_back, base.window_ahead),
    };
    let w = r.window.unwrap_or_default();
    let back = w.back.unwrap_or(level.map_or(base_back, |l| l.0));
    let ahead = w.ahead.unwrap_or(level.map_or(base_ahead, |l| l.0));
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
                Some(Section::On(v)) => DriftLearning::Consistent {
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
            let failure_interval_s = match l.failure_interval.as_deref() {
                None => base.lockout.and_then(|b| b.failure_interval_s),
                Some("none") => None,
                Some(_) => Some(c.duration(
                    "validator.lockout.failure_interval",
                    l.failure_interval.as_ref(),
                    60.0,
                    1.0,
                    100.0 * YEAR_S,
                )),
            };
            (max_failures > 0).then_some(Lockout {
                max_failures,
                unlock_after_s: unlock,
                failure_interval_s,
            })
        }
    };
    let sync = match &r.sync {
        None => base.sync,
        Some(v) => {
            let mut v = v.clone();
            let (search, refuse_next, centre_beyond) = match &mut v {
                Value::Table(t) => (
                    t.remove("search"),
                    t.remove("refuse_next"),
                    t.remove("centre_beyond"),
                ),
                _ => (None, None, None),
            };
            let centre_beyond = match centre_beyond {
                None => base.sync.is_some_and(|s| s.centre_beyond),
                Some(Value::Boolean(b)) => b,
                Some(other) => {
                    c.err(
                        "validator.sync.centre_beyond",
                        "true or false",
                        describe(&other),
                    );
                    false
                }
            };
            let search = match search {
                None => base.sync.map_or(SyncSearch::Nearest, |s| s.search),
                Some(Value::String(s)) if s == "nearest" => SyncSearch::Nearest,
                Some(Value::String(s)) if s == "separate" => SyncSearch::Separate,
                Some(other) => {
                    c.err(
                        "validator.sync.search",
                        "\"nearest\" or \"separate\"",
                        describe(&other),
                    );
                    SyncSearch::Nearest
                }
            };
            let refuse_next = match refuse_next {
                None => base.sync.is_some_and(|s| s.refuse_next),
                Some(Value::Boolean(b)) => b,
                Some(other) => {
                    c.err(
                        "validator.sync.refuse_next",
                        "true or false",
                        describe(&other),
                    );
                    false
                }
            };
            match params(
                c,
                "validator.sync",
                &v,
                &[("codes", 1.0, 10.0), ("window", 0.0, 1e6)],
                "an explicit sync procedure",
            ) {
                Some(Section::On(p)) => Some(SyncProcedure {
                    codes: p[0].unwrap_or(2.0) as u32,
                    window: p[1]
                        .map_or(base.sync.map_or(window.max(20), |s| s.window), |w| w as u32),
                    search,
                    refuse_next,
                    centre_beyond,
                }),
                Some(Section::Off) => None,
                None => base.sync,
            }
        }
    };
    let rate_limit = match &r.rate_limit {
        None => base.rate_limit,
        Some(v) => {
            let mut v = v.clone();
            let per = match &mut v {
                Value::Table(t) => t.remove("per"),
                _ => None,
            };
            let per_s = match per {
                Some(Value::String(p)) => {
                    c.duration("validator.rate_limit.per", Some(&p), 30.0, 1.0, 86_400.0)
                }
                None => 30.0,
                Some(other) => {
                    c.err(
                        "validator.rate_limit.per",
                        "a duration such as \"30s\"",
                        describe(&other),
                    );
                    30.0
                }
            };
            match params(
                c,
                "validator.rate_limit",
                &v,
                &[("attempts", 1.0, 10_000.0)],
                "a rate limit",
            ) {
                Some(Section::On(p)) => Some(RateLimit {
                    attempts: p[0].unwrap_or(3.0) as u32,
                    per_s,
                }),
                Some(Section::Off) => None,
                None => base.rate_limit,
            }
        }
    };
    let brute_force = match &r.brute_force {
        None => base.brute_force,
        Some(Value::String(s)) if s == "none" => None,
        Some(Value::Table(t)) => {
            let dur = |c: &mut Checker, k: &str, d: f64| {
                let range = (0.0, 100.0 * YEAR_S);
                table_duration(c, ("validator.brute_force", t, k), Some(d), range, "60s")
            };
            let known = [
                "failures",
                "wait_increment",
                "max_wait",
                "quick_login",
                "min_quick_wait",
                "reset_after",
            ];
            for k in t.keys().filter(|k| !known.contains(&k.as_str())) {
                c.err(
                    &format!("validator.brute_force.{k}"),
                    format!("a key of brute-force detection ({})", known.join(", ")),
                    format!("unknown key `{k}`"),
                );
            }
            let failures = match t.get("failures") {
                None => 30,
                Some(Value::Integer(i)) if (1..=100_000).contains(i) => *i as u32,
                Some(other) => {
                    c.err(
                        "validator.brute_force.failures",
                        "a number of failures from 1 to 100000",
                        describe(other),
                    );
                    30
                }
            };
            Some(BruteForce {
                failures,
                wait_increment_s: dur(c, "wait_increment", 60.0),
                max_wait_s: dur(c, "max_wait", 900.0),
                quick_login_s: dur(c, "quick_login", 1.0),
                min_quick_wait_s: dur(c, "min_quick_wait", 60.0),
                reset_after_s: dur(c, "reset_after", 12.0 * 3600.0),
            })
        }
        Some(other) => {
            c.err(
                "validator.brute_force",
                "\"none\" or a table { failures = 30, wait_increment = \"60s\", max_wait = \"15m\", ... }",
                describe(other),
            );
            base.brute_force
        }
    };
    let throttle = match &r.throttle {
        None => base.throttle,
        Some(Value::String(s)) if s == "none" => None,
        Some(Value::Table(t)) => {
            let mut ok = true;
            for k in t.keys().filter(|k| *k != "factor") {
                c.err(
                    &format!("validator.throttle.{k}"),
                    "a key of throttling (factor)",
                    format!("unknown key `{k}`"),
                );
                ok = false;
            }
            let factor_s = match t.get("factor") {
                Some(Value::String(f)) => {
                    c.duration("validator.throttle.factor", Some(f), 1.0, 0.001, 86_400.0)
                }
                other => {
                    c.err(
                        "validator.throttle.factor",
                        "a duration such as \"1s\"",
                        other.map_or("nothing".into(), describe),
                    );
                    ok = false;
                    1.0
                }
            };
            ok.then_some(Throttle { factor_s })
        }
        Some(other) => {
            c.err(
                "validator.throttle",
                "\"none\" or a table { factor = \"1s\" }",
                describe(other),
            );
            base.throttle
        }
    };
    let auto_resync = match &r.auto_resync {
        None => base.auto_resync,
        Some(v) => {
            let keys = [("window", 0.0, 1e6), ("max_gap", 1.0, 1000.0)];
            let mut v = v.clone();
            let (timeout, style) = match &mut v {
                Value::Table(t) => (t.remove("timeout"), t.remove("style")),
                _ => (None, None),
            };
            let style = match style {
                None => base.auto_resync.map_or(AutoStyle::Nearest, |a| a.style),
                Some(Value::String(s)) if s == "nearest" => AutoStyle::Nearest,
                Some(Value::String(s)) if s == "privacyidea" => AutoStyle::Privacyidea,
                Some(other) => {
                    c.err(
                        "validator.auto_resync.style",
                        "\"nearest\" or \"privacyidea\"",
                        describe(&other),
                    );
                    AutoStyle::Nearest
                }
            };
            let timeout_s = match timeout {
                None => 300.0,
                Some(Value::String(s)) if s == "never" => f64::INFINITY,
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
                        "a duration such as \"5m\", or \"never\"",
                        describe(&other),
                    );
                    300.0
                }
            };
            match params(c, "validator.auto_resync", &v, &keys, "automatic resync") {
                Some(Section::On(p)) => Some(AutoResync {
                    window: p[0].map_or(base.auto_resync.map_or(1000, |a| a.window), |w| w as u32),
                    max_gap: p[1].unwrap_or(3.0) as u32,
                    timeout_s,
                    style,
                }),
                Some(Section::Off) => None,
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
            &[
                ("window", 0.0, 1e6),
                ("wide_after", 0.0, 1000.0),
                ("wide_window", 0.0, 1e6),
                ("require_after", 1.0, 1000.0),
            ],
            "next-code mode",
        ) {
            Some(Section::On(p)) => {
                let b = base.next_code;
                let window = p[0].map_or(b.map_or(3, |n| n.window), |x| x as u32);
                Some(NextCode {
                    window,
                    wide_after: p[1].map_or(b.map_or(u32::MAX, |n| n.wide_after), |x| x as u32),
                    wide_window: p[2].map_or(b.map_or(window, |n| n.wide_window), |x| x as u32),
                    require_after: p[3].map(|x| x as u32).or(b.and_then(|n| n.require_after)),
                })
            }
            Some(Section::Off) => None,
            None => base.next_code,
        },
    };
    let mut band = |path: &str, v: &Option<Value>, base: Option<u32>| match v {
        None => base,
        Some(Value::String(s)) if s == "none" => None,
        Some(Value::Integer(i)) if (0..=1_000_000).contains(i) => Some(*i as u32),
        Some(other) => {
            c.err(
                path,
                "\"none\" or a number of steps from 0 to 1000000",
                describe(other),
            );
            base
        }
    };
    let auto_sync = band(
        "validator.auto_sync",
        &r.auto_sync,
        level.map_or(base.auto_sync, |l| Some(l.1)),
    );
    let sync_band = band("validator.sync_band", &r.sync_band, base.sync_band);
    let initial_window = band(
        "validator.initial_window",
        &r.initial_window,
        base.initial_window,
    );
    let delay = delay(c, &r.delay, base.delay);
    let secret_bytes = match &r.secret_bytes {
        None => base.secret_bytes,
        Some(v) => match params(
            c,
            "validator.secret_bytes",
            v,
            &[("min", 0.0, 1024.0), ("max", 1.0, 1024.0)],
            "the secrets taken",
        ) {
            Some(Section::On(p)) => {
                Some((p[0].unwrap_or(0.0) as u32, p[1].unwrap_or(1024.0) as u32))
            }
            Some(Section::Off) => None,
            None => base.secret_bytes,
        },
    };
    let code_syntax = c.choice(
        "validator.code_syntax",
        r.code_syntax.as_ref(),
        base.code_syntax,
        CodeSyntax::parse,
        CodeSyntax::NAMES,
    );
    let idle_widening = match &r.idle_widening {
        None => base.idle_widening,
        Some(v) => match params(
            c,
            "validator.idle_widening",
            v,
            &[("steps_per_day", 0.0, 1e6), ("max_extra", 0.0, 1e6)],
            "idle widening",
        ) {
            Some(Section::On(p)) => Some(IdleWidening {
                steps_per_day: p[0].unwrap_or(2.0 / 30.0),
                max_extra: p[1].unwrap_or(20.0) as u32,
            }),
            Some(Section::Off) => None,
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
        throttle,
        delay,
        rate_limit,
        brute_force,
        sync,
        auto_resync,
        next_code,
        idle_widening,
        tolerance,
        auto_sync,
        sync_band,
        initial_window,
        numeric_codes: r.numeric_codes.unwrap_or(base.numeric_codes),
        code_syntax,
        secret_bytes,
        hotp_look_ahead,
        server_offset_s,
    }
}

/// `validator.tolerance`: `"none"`, one duration for both sides, or `{ past, future }`.
fn tolerance(c: &mut Checker, v: &Option<Value>, base: Option<Tolerance>) -> Option<Tolerance> {
    const PATH: &str = "validator.tolerance";
    const WANT: &str =
        "\"none\", a duration such as \"30s\", or { past = \"30s\", future = \"0s\" }";
    let max = 24.0 * 3600.0;
    match v {
        None => base,
        Some(Value::String(s)) if s == "none" => None,
        Some(Value::String(s)) => {
            let t = c.duration(PATH, Some(s), 0.0, 0.0, max);
            Some(Tolerance {
                past_s: t,
                future_s: t,
            })
        }
        Some(Value::Table(t)) => {
            let mut side = |k: &str| table_duration(c, (PATH, t, k), None, (0.0, max), "30s");
            let (past_s, future_s) = (side("past"), side("future"));
            for k in t.keys().filter(|k| *k != "past" && *k != "future") {
                c.err(
                    &format!("{PATH}.{k}"),
                    "a key of the tolerance (past, future)",
                    format!("unknown key `{k}`"),
                );
            }
            Some(Tolerance { past_s, future_s })
        }
        Some(other) => {
            c.err(PATH, WANT, describe(other));
            base
        }
    }
}

/// `validator.delay`: `"none"` or `{ after = 3, wait = "300s" }` (multiOTP).
fn delay(c: &mut Checker, v: &Option<Value>, base: Option<Delay>) -> Option<Delay> {
    const PATH: &str = "validator.delay";
    match v {
        None => base,
        Some(Value::String(s)) if s == "none" => None,
        Some(Value::Table(t)) => {
            let after = match t.get("after") {
                Some(Value::Integer(n)) if (1..=1000).contains(n) => *n as u32,
                other => {
                    c.err(
                        &format!("{PATH}.after"),
                        "a number of failures from 1 to 1000",
                        other.map_or("nothing".into(), describe),
                    );
                    3
                }
            };
            let range = (0.001, 30.0 * 86_400.0);
            let wait_s = table_duration(c, (PATH, t, "wait"), None, range, "300s");
            for k in t.keys().filter(|k| *k != "after" && *k != "wait") {
                c.err(
                    &format!("{PATH}.{k}"),
                    "a key of the delay (after, wait)",
                    format!("unknown key `{k}`"),
                );
            }
            Some(Delay { after, wait_s })
        }
        Some(other) => {
            c.err(
                PATH,
                "\"none\" or a table { after = 3, wait = \"300s\" }",
                describe(other),
            );
            base
        }
    }
}

/// The duration at `key` of the table at `path`: `default` when absent, or an error when
/// there is none (a required key); a value out of `range` or not a duration is an error.
fn table_duration(
    c: &mut Checker,
    (path, t, key): (&str, &toml::Table, &str),
    default: Option<f64>,
    (min, max): (f64, f64),
    example: &str,
) -> f64 {
    let p = format!("{path}.{key}");
    match (t.get(key), default) {
        (None, Some(d)) => d,
        (Some(Value::String(s)), _) => c.duration(&p, Some(s), default.unwrap_or(0.0), min, max),
        (other, _) => {
            c.err(
                &p,
                format!("a duration such as \"{example}\""),
                other.map_or("nothing".into(), describe),
            );
            default.unwrap_or(0.0)
        }
    }
}
