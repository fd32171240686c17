//! `[[population]]`: name, share, token, battery; the clock and user sections have their own
//! files.

use super::*;

pub(super) fn population(
    c: &mut Checker,
    r: RawPopulation,
    path: &str,
    single: bool,
) -> Population {
    let rt = r.token.unwrap_or_default();
    let tp = format!("{path}.token");
    let kind = match rt.kind.as_ref() {
        None => {
            c.err(
                &format!("{tp}.kind"),
                format!("a token kind: one of {}", TokenKind::NAMES),
                "nothing",
            );
            TokenKind::Hardware
        }
        Some(_) => c.choice(
            &format!("{tp}.kind"),
            rt.kind.as_ref(),
            TokenKind::Hardware,
            TokenKind::parse,
            TokenKind::NAMES,
        ),
    };
    let (kclock, kbattery, kuser, unsent, krecovery) = kind_defaults(kind);
    let name = r.name.unwrap_or_else(|| kind.to_string());
    // Names label CSV rows, chart legends and report tables: keep them plain.
    if name.is_empty()
        || name.chars().count() > 40
        || !name
            .chars()
            .all(|ch| ch.is_alphanumeric() || " -_.+()".contains(ch))
    {
        c.err(
            &format!("{path}.name"),
            "a name of up to 40 letters, digits, spaces and - _ . + ( )",
            format!("{name:?}"),
        );
    }
    let share = match r.share {
        None if single => 1.0,
        None => {
            c.err(
                &format!("{path}.share"),
                "a share of the fleet from 0 to 1 (needed when there are several populations)",
                "nothing",
            );
            0.0
        }
        Some(s) => c.number(&format!("{path}.share"), Some(s), 0.0, 0.0, 1.0),
    };
    let algorithm = c.choice(
        &format!("{tp}.algorithm"),
        rt.algorithm.as_ref(),
        Algorithm::Sha1,
        Algorithm::parse,
        Algorithm::NAMES,
    );
    let digits = rt.digits.unwrap_or(6);
    if !(1..=9).contains(&digits) {
        c.err(
            &format!("{tp}.digits"),
            "1 to 9 digits (RFC 4226 asks for 6 to 8; fewer only to study guessing)",
            digits.to_string(),
        );
    }
    let step = c.duration(&format!("{tp}.step"), rt.step.as_ref(), 30.0, 1.0, 86_400.0);
    if step.fract() != 0.0 {
        c.err(
            &format!("{tp}.step"),
            "a whole number of seconds",
            fmt_s(step),
        );
    }
    // T0 in milliseconds must fit the simulator's i64 time with room for a run: years
    // -9999..9999 are plenty for any real deployment.
    const T0_LIMIT_S: i64 = 253_402_300_799;
    if let Some(t0) = rt.t0.filter(|t| t.abs() > T0_LIMIT_S) {
        c.err(
            &format!("{tp}.t0"),
            format!("unix seconds between -{T0_LIMIT_S} and {T0_LIMIT_S} (years -9999 to 9999)"),
            t0.to_string(),
        );
    }
    let token = TokenSpec {
        kind,
        algorithm,
        digits,
        step_s: step as u32,
        t0: rt.t0.unwrap_or(0),
        unsent_presses_per_day: c.number(
            &format!("{tp}.unsent_presses_per_day"),
            rt.unsent_presses_per_day,
            unsent,
            0.0,
            1000.0,
        ),
    };
    if kind != TokenKind::Hotp && rt.unsent_presses_per_day.is_some() {
        c.err(
            &format!("{tp}.unsent_presses_per_day"),
            "this field only for kind = \"hotp\"",
            format!("kind = \"{kind}\""),
        );
    }
    let clock = clock(
        c,
        r.clock.unwrap_or_default(),
        &format!("{path}.clock"),
        kclock,
    );
    let battery = battery(c, r.battery, &format!("{path}.battery"), kbattery);
    let user = user(
        c,
        r.user.unwrap_or_default(),
        &format!("{path}.user"),
        kuser,
    );
    let recovery = recovery(
        c,
        r.recovery.unwrap_or_default(),
        &format!("{path}.recovery"),
        krecovery,
    );
    Population {
        name,
        share,
        token,
        clock,
        battery,
        user,
        recovery,
    }
}

pub(super) fn battery(
    c: &mut Checker,
    r: Option<RawBattery>,
    path: &str,
    base: Option<BatterySpec>,
) -> Option<BatterySpec> {
    let Some(r) = r else { return base };
    if r.enabled == Some(false) {
        return None;
    }
    let d = base.unwrap_or(BatterySpec {
        life_years: 5.0,
        life_codes: 15_000.0,
        self_discharge_per_year: 0.0,
        expiry_s: None,
        age_at_start_s: Dist::Fixed(0.0),
        codes_at_start: Dist::Fixed(0.0),
    });
    let p = |f: &str| format!("{path}.{f}");
    Some(BatterySpec {
        life_years: c.number(&p("life_years"), r.life_years, d.life_years, 0.001, 1000.0),
        life_codes: c.number(&p("life_codes"), r.life_codes, d.life_codes, 1.0, 1e12),
        self_discharge_per_year: c.number(
            &p("self_discharge_per_year"),
            r.self_discharge_per_year,
            d.self_discharge_per_year,
            0.0,
            1.0,
        ),
        age_at_start_s: c.dist(
            &p("age_at_start"),
            r.age_at_start.as_ref(),
            d.age_at_start_s,
            Unit::Seconds,
            0.0,
            f64::INFINITY,
        ),
        codes_at_start: c.dist(
            &p("codes_at_start"),
            r.codes_at_start.as_ref(),
            d.codes_at_start,
            Unit::Number("codes"),
            0.0,
            f64::INFINITY,
        ),
        expiry_s: match r.expiry.as_deref() {
            None => d.expiry_s,
            Some("never") => None,
            Some(_) => Some(c.duration(&p("expiry"), r.expiry.as_ref(), 0.0, 1.0, 1000.0 * YEAR_S)),
        },
    })
}
