//! `otpdrift presets`: every validator preset with its parameters and the source it rests on.

/// The listing, as printed.
pub fn text() -> String {
    use crate::validator::presets;
    use std::fmt::Write;
    let mut out = String::new();
    for p in presets::all() {
        let mut v = crate::scenario::resolved_validator(&p.config);
        if let Some(m) = v.as_object_mut() {
            m.remove("preset");
        }
        let mut table = toml::Table::new();
        table.insert(
            "validator".into(),
            toml::Value::try_from(v).expect("a TOML tree"),
        );
        let _ = writeln!(out, "{}\n  {}\n  source: {}\n", p.name, p.summary, p.source);
        let body = toml::to_string(&table).expect("serializable");
        for line in body
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("[validator]"))
        {
            let _ = writeln!(out, "    {line}");
        }
        out.push('\n');
    }
    out.push_str("Use one with `[validator] preset = \"NAME\"`; any field set beside it overrides the preset.\n");
    out
}

/// `otpdrift presets --table`: one line per preset, for 30 s codes: the window in steps and
/// seconds, how long a code stays acceptable, drift learning, replay rule, lockout, resync and
/// the NIST SP 800-63B verdict of the attacker model ([`crate::attack::exposure`]).
pub fn table() -> String {
    use crate::time::format_duration as d;
    use crate::validator::{presets, DriftLearning, Replay};
    use std::fmt::Write;
    let head = [
        "preset",
        "window",
        "seconds",
        "lifetime",
        "drift",
        "replay",
        "limits",
        "resync",
        "NIST 800-63B",
    ];
    let mut rows: Vec<[String; 9]> = vec![head.map(String::from)];
    for p in presets::all() {
        let toml = format!(
            "[validator]\npreset = \"{}\"\n[[population]]\ntoken = {{ kind = \"phone\", step = \"30s\" }}\n",
            p.name
        );
        let sc =
            crate::scenario::Scenario::from_toml("preset.toml", &toml).expect("a preset loads");
        let v = &sc.validator;
        let spec = crate::scenario::AttackSpec {
            guesses_per_day: 1e6,
            simulate_accounts: 0,
        };
        let e = crate::attack::exposure(&sc, 0, &spec);
        let (window, seconds) = match v.tolerance {
            Some(t) => (
                {
                    // The steps open on each side over the 30 seconds of a step.
                    let (mut back, mut ahead) = ((u32::MAX, 0), (u32::MAX, 0));
                    for sec in 0..30 {
                        let now = (1000 * 30 + sec) * 1000; // step 1000
                        let (lo, hi) = t.steps(now, 30, 0);
                        let (b, a) = ((1000 - lo) as u32, (hi - 1000) as u32);
                        (back, ahead) = (
                            (back.0.min(b), back.1.max(b)),
                            (ahead.0.min(a), ahead.1.max(a)),
                        );
                    }
                    let side = |(lo, hi): (u32, u32)| {
                        if lo == hi {
                            lo.to_string()
                        } else {
                            format!("{lo}/{hi}")
                        }
                    };
                    format!("-{}..+{}", side(back), side(ahead))
                },
                format!("-{}..+{}", d(t.past_s), d(t.future_s)),
            ),
            None => (
                format!("-{}..+{}", v.window_back, v.window_ahead),
                format!(
                    "-{}..+{}",
                    d(v.window_back as f64 * 30.0),
                    d(v.window_ahead as f64 * 30.0)
                ),
            ),
        };
        let lifetime = if e.code_lifetime_max_s > e.code_lifetime_s {
            format!(
                "{} (up to {})",
                d(e.code_lifetime_s),
                d(e.code_lifetime_max_s)
            )
        } else {
            d(e.code_lifetime_s)
        };
        let drift = match v.drift {
            DriftLearning::None => "none".to_string(),
            DriftLearning::Steps => "steps, every success".into(),
            DriftLearning::Seconds => "seconds, every success".into(),
            DriftLearning::Consistent { k, .. } => format!("after {k} consistent codes"),
            DriftLearning::Explicit => "by sync only".into(),
        };
        let replay = match (v.replay, v.skip_refused) {
            (Replay::None, _) => "none".to_string(),
            (Replay::ExactSteps, _) => "used steps".into(),
            (Replay::TimeForward, false) => "time-forward".into(),
            (Replay::TimeForward, true) => "time-forward, skipped".into(),
            (Replay::LastCode, _) => "last code".into(),
        };
        let mut limits = Vec::new();
        if let Some(l) = v.lockout {
            let unlock = l.unlock_after_s.map_or("admin".to_string(), d);
            let within = l
                .failure_interval_s
                .map_or(String::new(), |i| format!(" ({} apart)", d(i)));
            limits.push(format!("{}{within} -> {unlock}", l.max_failures));
        }
        if let Some(t) = v.throttle {
            limits.push(format!("throttle {}x2^n", d(t.factor_s)));
        }
        if let Some(x) = v.delay {
            limits.push(format!("delay {} after {}", d(x.wait_s), x.after));
        }
        if let Some(r) = v.rate_limit {
            limits.push(format!("{} per {}", r.attempts, d(r.per_s)));
        }
        if let Some(b) = v.brute_force {
            limits.push(format!("waits after {}", b.failures));
        }
        let lockout = if limits.is_empty() {
            "none".to_string()
        } else {
            limits.join(", ")
        };
        let mut resync = Vec::new();
        if let Some(s) = v.sync {
            resync.push(format!("{} codes ±{}", s.codes, s.window));
        }
        if let Some(a) = v.auto_resync {
            resync.push(format!("auto ±{}", a.window));
        }
        if let Some(a) = v.auto_sync {
            resync.push(format!("auto-sync ±{a}"));
        }
        if let Some(n) = v.next_code {
            resync.push(format!("next code ±{}", n.window.max(n.wide_window)));
        }
        if let DriftLearning::Consistent { search, .. } = v.drift {
            resync.push(format!("skew ±{search}"));
        }
        let resync = if resync.is_empty() {
            "none".to_string()
        } else {
            resync.join(", ")
        };
        let nist = if e.meets_nist {
            "meets".to_string()
        } else if e.code_lifetime_max_s >= 120.0 {
            format!("no: lifetime {}", d(e.code_lifetime_max_s))
        } else {
            "no: failures unlimited".into()
        };
        rows.push([
            p.name.to_string(),
            window,
            seconds,
            lifetime,
            drift,
            replay,
            lockout,
            resync,
            nist,
        ]);
    }
    let widths: Vec<usize> = (0..9)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out.push_str("\nFor 30 s codes. window: steps either side (a/b: a seconds tolerance opens a or b, by where in its step the attempt lands); lifetime: how long a code is accepted with no drift learned; limits: failures -> unlock after, throttles and rate limits; NIST SP 800-63B: a code lifetime under 2 minutes and at most 100 failures before a lock (docs/validators.md).\n");
    out
}
