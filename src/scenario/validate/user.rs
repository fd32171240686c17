//! A population's `user` (schedule, delays, typos, retries) and `recovery` ladder.

use super::*;

pub(super) fn recovery(
    c: &mut Checker,
    r: RawRecovery,
    path: &str,
    d: RecoverySpec,
) -> RecoverySpec {
    let p = |f: &str| format!("{path}.{f}");
    let d = if r.enabled == Some(false) {
        d.disabled()
    } else {
        d
    };
    let escalate_after = match r.escalate_after {
        Some(0) => {
            c.err(&p("escalate_after"), "at least 1 failed incident", "0");
            d.escalate_after
        }
        Some(n) => n,
        None => d.escalate_after,
    };
    let inf = f64::INFINITY;
    let resync_tries = match r.resync_tries {
        Some(n) if n > 20 => {
            c.err(&p("resync_tries"), "at most 20 tries", n.to_string());
            d.resync_tries
        }
        Some(n) => n,
        None => d.resync_tries,
    };
    RecoverySpec {
        step_delay_s: c.dist(
            &p("step_delay"),
            r.step_delay.as_ref(),
            d.step_delay_s,
            Unit::Seconds,
            0.0,
            inf,
        ),
        helpdesk_unlock_probability: c.probability(
            &p("helpdesk_unlock_probability"),
            r.helpdesk_unlock_probability,
            d.helpdesk_unlock_probability,
        ),
        helpdesk_delay_s: c.dist(
            &p("helpdesk_delay"),
            r.helpdesk_delay.as_ref(),
            d.helpdesk_delay_s,
            Unit::Seconds,
            0.0,
            inf,
        ),
        fix_clock_probability: c.probability(
            &p("fix_clock_probability"),
            r.fix_clock_probability,
            d.fix_clock_probability,
        ),
        notice_above_s: c.duration(
            &p("notice_above"),
            r.notice_above.as_ref(),
            d.notice_above_s,
            0.0,
            inf,
        ),
        fix_accuracy_s: c.dist(
            &p("fix_accuracy"),
            r.fix_accuracy.as_ref(),
            d.fix_accuracy_s,
            Unit::Seconds,
            -inf,
            inf,
        ),
        resync_probability: c.probability(
            &p("resync_probability"),
            r.resync_probability,
            d.resync_probability,
        ),
        resync_tries,
        reset_probability: c.probability(
            &p("reset_probability"),
            r.reset_probability,
            d.reset_probability,
        ),
        reinstall_probability: c.probability(
            &p("reinstall_probability"),
            r.reinstall_probability,
            d.reinstall_probability,
        ),
        reinstall_delay_s: c.dist(
            &p("reinstall_delay"),
            r.reinstall_delay.as_ref(),
            d.reinstall_delay_s,
            Unit::Seconds,
            0.0,
            inf,
        ),
        replace_probability: c.probability(
            &p("replace_probability"),
            r.replace_probability,
            d.replace_probability,
        ),
        escalate_after,
        shipping_delay_s: c.dist(
            &p("shipping_delay"),
            r.shipping_delay.as_ref(),
            d.shipping_delay_s,
            Unit::Seconds,
            0.0,
            inf,
        ),
    }
}

pub(super) fn profile<const N: usize>(
    c: &mut Checker,
    path: &str,
    v: Option<Vec<f64>>,
    default: [f64; N],
    what: &str,
) -> [f64; N] {
    let Some(v) = v else { return default };
    let found = if v.len() != N {
        Some(format!("{} values", v.len()))
    } else if let Some(x) = v.iter().find(|x| !x.is_finite() || **x < 0.0 || **x > 1e9) {
        Some(format!("the weight {}", fmt_n(*x)))
    } else if v.iter().sum::<f64>() <= 0.0 {
        Some("all zero: no time left for logins".to_string())
    } else {
        None
    };
    if let Some(found) = found {
        c.err(
            path,
            format!("{N} weights from 0 to 1e9 ({what}) with a positive sum"),
            found,
        );
        return default;
    }
    let mut out = [0.0; N];
    out.copy_from_slice(&v);
    out
}

pub(super) fn user(c: &mut Checker, r: RawUser, path: &str, d: UserSpec) -> UserSpec {
    let p = |f: &str| format!("{path}.{f}");
    const HOUR_S: f64 = 3600.0;
    let holidays = match r.holidays {
        None => d.holidays,
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match parse_holiday(s) {
                Some(h) => Some(h),
                None => {
                    c.err(
                        &format!("{}[{i}]", p("holidays")),
                        "a date \"MM-DD\" (every year) or \"YYYY-MM-DD\"",
                        format!("\"{s}\""),
                    );
                    None
                }
            })
            .collect(),
    };
    UserSpec {
        // One login a minute all day is past any real user, and would only stall the run.
        logins_per_day: {
            let d = c.dist(
                &p("logins_per_day"),
                r.logins_per_day.as_ref(),
                d.logins_per_day,
                Unit::Number("logins per day"),
                0.0,
                f64::INFINITY,
            );
            c.bounded(&p("logins_per_day"), d, 1440.0, "logins per day")
        },
        schedule: c.choice(
            &p("schedule"),
            r.schedule.as_ref(),
            d.schedule,
            |s| match s {
                "poisson" => Some(ScheduleKind::Poisson),
                "exact" => Some(ScheduleKind::Exact),
                _ => None,
            },
            ScheduleKind::NAMES,
        ),
        weekdays: profile(
            c,
            &p("weekdays"),
            r.weekdays,
            d.weekdays,
            "Monday to Sunday",
        ),
        hours: profile(c, &p("hours"), r.hours, d.hours, "local hours 0 to 23"),
        utc_offset_s: c.duration(
            &p("utc_offset"),
            r.utc_offset.as_ref(),
            d.utc_offset_s,
            -14.0 * HOUR_S,
            14.0 * HOUR_S,
        ),
        holidays,
        // A code is typed within a day of reading it, or never.
        delay_s: c.delay_law(&p("delay"), r.delay.as_ref(), d.delay_s, 86_400.0),
        fresh_code_below_s: c.duration(
            &p("fresh_code_below"),
            r.fresh_code_below.as_ref(),
            d.fresh_code_below_s,
            0.0,
            86_400.0,
        ),
        wait_probability: c.probability(
            &p("wait_probability"),
            r.wait_probability,
            d.wait_probability,
        ),
        push_share: c.probability(&p("push_share"), r.push_share, d.push_share),
        typo_probability: c.probability(
            &p("typo_probability"),
            r.typo_probability,
            d.typo_probability,
        ),
        retries: match r.retries {
            Some(n) if n > 100 => {
                c.err(&p("retries"), "at most 100 retries", n.to_string());
                d.retries
            }
            Some(n) => n,
            None => d.retries,
        },
        // A code is typed within a day of reading it, or never.
        retry_delay_s: c.delay_law(
            &p("retry_delay"),
            r.retry_delay.as_ref(),
            d.retry_delay_s,
            86_400.0,
        ),
        resubmit_probability: c.probability(
            &p("resubmit_probability"),
            r.resubmit_probability,
            d.resubmit_probability,
        ),
        // A second request of the same code follows the first within a minute (a double-click,
        // a proxy's retry): later, it is a new attempt.
        resubmit_delay_s: c.delay_law(
            &p("resubmit_delay"),
            r.resubmit_delay.as_ref(),
            d.resubmit_delay_s,
            60.0,
        ),
    }
}

pub(super) fn parse_holiday(s: &str) -> Option<Holiday> {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |x: &str| x.parse::<i64>().ok();
    let (year, m, d) = match parts.as_slice() {
        [m, d] if m.len() == 2 && d.len() == 2 => (None, num(m)?, num(d)?),
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            (Some(num(y)?), num(m)?, num(d)?)
        }
        _ => return None,
    };
    let check_year = year.unwrap_or(2000); // a leap year, so 02-29 is allowed yearly
    parse_rfc3339(&format!("{check_year:04}-{m:02}-{d:02}")).ok()?;
    Some(Holiday {
        year,
        month: m as u32,
        day: d as u32,
    })
}
