//! The resolved scenario written back in scenario syntax (every default filled in), for
//! `otpdrift check` and the run manifest. Feeding it back in gives the same scenario.

use super::Scenario;
use crate::dist::{format_seconds, Dist};
use crate::metrics::Bucket;
use crate::time::format_rfc3339;
use crate::validator::{DriftLearning, ValidatorConfig};
use serde_json::{json, Map, Value};

fn d(x: &Dist) -> Value {
    serde_json::to_value(x.view(false)).expect("serializable")
}

fn ds(x: &Dist) -> Value {
    serde_json::to_value(x.view(true)).expect("serializable")
}

fn s(x: f64) -> Value {
    Value::String(format_seconds(x))
}

/// A `[validator]` part as a tree with the scenario file's field names.
pub fn validator(v: &ValidatorConfig) -> Value {
    let drift = match v.drift {
        DriftLearning::None => json!("none"),
        DriftLearning::Steps => json!("steps"),
        DriftLearning::Seconds => json!("seconds"),
        DriftLearning::Explicit => json!("explicit"),
        DriftLearning::Consistent { k, search } => {
            json!({"mode": "consistent", "k": k, "search": search})
        }
    };
    let lockout = match v.lockout {
        None => json!({"max_failures": 0}),
        Some(l) => json!({
            "max_failures": l.max_failures,
            "unlock_after": l.unlock_after_s.map_or("never".to_string(), format_seconds),
            "failure_interval": l.failure_interval_s.map_or("none".to_string(), format_seconds),
        }),
    };
    // A tolerance in seconds stands instead of the window in steps (which it implies).
    let (window_key, window) = match v.tolerance {
        None => (
            "window",
            json!({"back": v.window_back, "ahead": v.window_ahead}),
        ),
        Some(t) => (
            "tolerance",
            json!({"past": format_seconds(t.past_s), "future": format_seconds(t.future_s)}),
        ),
    };
    let tree = json!({
        "preset": v.preset.clone().unwrap_or_else(|| "rfc6238".into()),
        "window": window,
        "search": v.search, "drift": drift, "replay": v.replay, "skip_refused": v.skip_refused,
        "lockout": lockout,
        "throttle": v.throttle.map_or(json!("none"), |t| json!({"factor": format_seconds(t.factor_s)})),
        "delay": v.delay.map_or(json!("none"), |d| json!({"after": d.after, "wait": format_seconds(d.wait_s)})),
        "rate_limit": v.rate_limit.map_or(json!("none"), |r| json!({"attempts": r.attempts, "per": format_seconds(r.per_s)})),
        "brute_force": v.brute_force.map_or(json!("none"), |b| json!({"failures": b.failures, "wait_increment": format_seconds(b.wait_increment_s), "max_wait": format_seconds(b.max_wait_s), "quick_login": format_seconds(b.quick_login_s), "min_quick_wait": format_seconds(b.min_quick_wait_s), "reset_after": format_seconds(b.reset_after_s)})),
        "sync": v.sync.map_or(json!("none"), |p| json!({"codes": p.codes, "window": p.window, "search": p.search, "refuse_next": p.refuse_next, "centre_beyond": p.centre_beyond})),
        "auto_resync": v.auto_resync.map_or(json!("none"), |a| json!({"window": a.window, "max_gap": a.max_gap, "timeout": if a.timeout_s.is_finite() { format_seconds(a.timeout_s) } else { "never".into() }, "style": a.style})),
        "next_code": v.next_code.map_or(json!("none"), |n| {
            let mut m = json!({"window": n.window});
            if n.wide_after != u32::MAX {
                m["wide_after"] = json!(n.wide_after);
                m["wide_window"] = json!(n.wide_window);
            }
            if let Some(r) = n.require_after {
                m["require_after"] = json!(r);
            }
            m
        }),
        "auto_sync": v.auto_sync.map_or(json!("none"), |w| json!(w)),
        "sync_band": v.sync_band.map_or(json!("none"), |w| json!(w)),
        "initial_window": v.initial_window.map_or(json!("none"), |w| json!(w)),

        "numeric_codes": v.numeric_codes, "code_syntax": v.code_syntax,
        "secret_bytes": v.secret_bytes.map_or(json!("none"), |(lo, hi)| json!({"min": lo, "max": hi})),
        "idle_widening": v.idle_widening.map_or(json!("none"), |w| json!({"steps_per_day": w.steps_per_day, "max_extra": w.max_extra})),
        "hotp_look_ahead": v.hotp_look_ahead, "server_offset": s(v.server_offset_s),
    });
    // Where the window stands, under the key that says which kind it is.
    let Value::Object(m) = tree else {
        unreachable!("an object")
    };
    Value::Object(
        m.into_iter()
            .map(|(k, x)| {
                if k == "window" {
                    (window_key.to_string(), x)
                } else {
                    (k, x)
                }
            })
            .collect(),
    )
}

/// The scenario as a tree with the scenario file's field names.
pub fn resolved(sc: &Scenario) -> Value {
    let r = &sc.run;
    let bucket = match r.bucket {
        Bucket::Month => "month".to_string(),
        Bucket::Fixed { ms } => format_seconds(ms as f64 / 1000.0),
    };
    let pops: Vec<Value> = sc
        .populations
        .iter()
        .map(|p| {
            let c = &p.clock;
            let mut clock = Map::new();
            clock.insert("initial_offset".into(), ds(&c.initial_offset_s));
            clock.insert("drift_ppm".into(), d(&c.drift_ppm));
            clock.insert("aging_ppm_first_year".into(), d(&c.aging_ppm_first_year));
            clock.insert("wander_ppm_per_sqrt_day".into(), d(&c.wander_ppm_per_sqrt_day));
            clock.insert(
                "temperature".into(),
                match &c.temperature {
                    None => json!({"enabled": false}),
                    Some(t) => json!({
                        "coefficient": d(&t.coefficient), "turnover": d(&t.turnover_c), "mean": d(&t.mean_c),
                        "daily_amplitude": d(&t.daily_amplitude_c), "seasonal_amplitude": d(&t.seasonal_amplitude_c),
                        "warmest_day": t.warmest_day, "warmest_hour": t.warmest_hour,
                    }),
                },
            );
            let sy = &c.sync;
            clock.insert(
                "sync".into(),
                json!({
                    "enabled": sy.enabled, "interval": ds(&sy.interval_s), "threshold": ds(&sy.threshold_s),
                    "residual": ds(&sy.residual_s), "failure_probability": d(&sy.failure_probability),
                    "off_rate_per_year": d(&sy.off_rate_per_year),
                    "back_on_after": sy.back_on_after_s.as_ref().map_or(json!("never"), ds),
                }),
            );
            let e = &c.events;
            let mut events = Map::new();
            if let Some(m) = &e.manual_change {
                events.insert("manual_change".into(), json!({"rate_per_year": d(&m.rate_per_year), "amount": ds(&m.amount_s)}));
            }
            if let Some(t) = &e.timezone_error {
                events.insert(
                    "timezone_error".into(),
                    json!({"rate_per_year": d(&t.rate_per_year), "hours": d(&t.hours),
                           "corrected_after": t.corrected_after_s.as_ref().map_or(json!("never"), ds)}),
                );
            }
            if let Some(x) = &e.reset {
                events.insert("reset".into(), json!({"rate_per_year": d(&x.rate_per_year), "to": format_rfc3339(x.to)}));
            }
            if let Some(f) = &e.future_trip {
                events.insert(
                    "future_trip".into(),
                    json!({"rate_per_year": d(&f.rate_per_year), "amount": ds(&f.amount_s), "back_after": ds(&f.back_after_s)}),
                );
            }
            clock.insert("events".into(), Value::Object(events));
            let u = &p.user;
            let holidays: Vec<String> = u
                .holidays
                .iter()
                .map(|h| match h.year {
                    Some(y) => format!("{y:04}-{:02}-{:02}", h.month, h.day),
                    None => format!("{:02}-{:02}", h.month, h.day),
                })
                .collect();
            let t = &p.token;
            let mut token = json!({
                "kind": t.kind, "algorithm": t.algorithm, "digits": t.digits,
                "step": s(t.step_s as f64), "t0": t.t0,
            });
            if !t.kind.is_totp() {
                token["unsent_presses_per_day"] = json!(t.unsent_presses_per_day);
            }
            json!({
                "name": p.name,
                "share": p.share,
                "token": token,
                "clock": Value::Object(clock),
                "battery": match &p.battery {
                    None => json!({"enabled": false}),
                    Some(b) => json!({"life_years": b.life_years, "life_codes": b.life_codes,
                                      "self_discharge_per_year": b.self_discharge_per_year,
                                      "expiry": b.expiry_s.map_or("never".to_string(), format_seconds),
                                      "age_at_start": ds(&b.age_at_start_s), "codes_at_start": d(&b.codes_at_start)}),
                },
                "recovery": {
                    "step_delay": ds(&p.recovery.step_delay_s),
                    "helpdesk_unlock_probability": p.recovery.helpdesk_unlock_probability,
                    "helpdesk_delay": ds(&p.recovery.helpdesk_delay_s),
                    "fix_clock_probability": p.recovery.fix_clock_probability,
                    "notice_above": s(p.recovery.notice_above_s),
                    "fix_accuracy": ds(&p.recovery.fix_accuracy_s),
                    "resync_probability": p.recovery.resync_probability,
                    "resync_tries": p.recovery.resync_tries,
                    "reset_probability": p.recovery.reset_probability,
                    "reinstall_probability": p.recovery.reinstall_probability,
                    "reinstall_delay": ds(&p.recovery.reinstall_delay_s),
                    "replace_probability": p.recovery.replace_probability,
                    "escalate_after": p.recovery.escalate_after,
                    "shipping_delay": ds(&p.recovery.shipping_delay_s),
                },
                "user": {
                    "logins_per_day": d(&u.logins_per_day), "schedule": u.schedule,
                    "weekdays": u.weekdays, "hours": u.hours.to_vec(), "utc_offset": s(u.utc_offset_s),
                    "holidays": holidays, "delay": ds(&u.delay_s), "fresh_code_below": s(u.fresh_code_below_s),
                    "wait_probability": u.wait_probability, "typo_probability": u.typo_probability, "push_share": u.push_share,
                    "retries": u.retries, "retry_delay": ds(&u.retry_delay_s),
                    "resubmit_probability": u.resubmit_probability, "resubmit_delay": ds(&u.resubmit_delay_s),
                },
            })
        })
        .collect();
    let mut out = json!({
        "run": {
            "name": r.name, "start": format_rfc3339(r.start), "horizon": s(r.horizon_s),
            "tokens": r.tokens, "seed": r.seed, "bucket": bucket, "decide": r.decide,
        },
        "validator": validator(&sc.validator),
        "population": pops,
    });
    if let Some(cl) = &sc.cluster {
        let nodes: Vec<Value> = cl
            .nodes
            .iter()
            .map(|n| json!({"name": n.name, "offset": s(n.offset_s), "drift_ppm": n.drift_ppm}))
            .collect();
        let replication = match &cl.replication {
            super::Replication::None => json!("none"),
            super::Replication::Lag(l) => json!({ "lag": ds(l) }),
        };
        out["validator"]["cluster"] =
            json!({"nodes": nodes, "routing": cl.routing, "replication": replication});
    }
    if let Some(a) = &sc.attack {
        out["attack"] =
            json!({"guesses_per_day": a.guesses_per_day, "simulate_accounts": a.simulate_accounts});
    }
    if !sc.sweep.is_empty() {
        out["sweep"] = super::sweep::blocks_value(&sc.sweep);
    }
    if !sc.timeline.is_empty() {
        out["timeline"] = sc.timeline.iter().map(timeline_event).collect();
    }
    out
}

/// One `[[timeline]]` event; a `set` is written as every field of the validator after it.
fn timeline_event(e: &super::TimelineEvent) -> Value {
    use super::TimelineAction;
    use crate::validator::schedule::ClockChange;
    let mut t = json!({ "at": format_rfc3339(e.at) });
    if let Some(ps) = &e.populations {
        t["populations"] = json!(ps);
    }
    match &e.action {
        TimelineAction::Set(v) => {
            let mut fields = validator(v);
            if let Some(m) = fields.as_object_mut() {
                m.remove("preset");
            }
            t["set"] = fields;
        }
        TimelineAction::ResetDrift => t["reset_drift"] = json!(true),
        TimelineAction::Migrate { to, carry } => {
            t["migrate"] = validator(to);
            t["carry"] = json!(carry);
        }
        TimelineAction::Outage { node, until } => {
            t["outage"] = json!({ "node": node, "until": format_rfc3339(*until) });
        }
        TimelineAction::ServerClock { change, node } => {
            t["server_clock"] = match *change {
                ClockChange::Step(ms) => json!({ "step": s(ms / 1000.0) }),
                ClockChange::Drift { ppm, until } => {
                    json!({ "drift_ppm": ppm, "until": format_rfc3339(until) })
                }
                ClockChange::Return { slew_ppm: None } => json!({ "return": "step" }),
                ClockChange::Return {
                    slew_ppm: Some(ppm),
                } => json!({ "return": "slew", "rate_ppm": ppm }),
            };
            if let Some(n) = node {
                t["server_clock"]["node"] = json!(n);
            }
        }
    }
    t
}
