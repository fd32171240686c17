//! A population's `clock`: offsets, drift, aging, temperature, wander, network sync, events.

use super::dist::{PROBABILITY, RATE};
use super::*;

pub(super) fn clock(c: &mut Checker, r: RawClock, path: &str, kind_clock: ClockSpec) -> ClockSpec {
    let p = |f: &str| format!("{path}.{f}");
    let base = match r.profile.as_deref() {
        None | Some("kind") => kind_clock,
        Some("ideal") => ClockSpec::ideal(),
        Some(other) => {
            c.err(
                &p("profile"),
                "\"kind\" (the token kind's defaults) or \"ideal\" (a perfect clock)",
                format!("\"{other}\""),
            );
            kind_clock
        }
    };
    const BIG: f64 = f64::INFINITY;
    // Magnitudes with a physical meaning: an offset within a century, a frequency error
    // within ±1,000,000 ppm (a clock running at twice or no speed), wander within 10,000 ppm.
    let initial_offset_s = c.dist(
        &p("initial_offset"),
        r.initial_offset.as_ref(),
        base.initial_offset_s,
        Unit::Seconds,
        -BIG,
        BIG,
    );
    let initial_offset_s = c.bounded(&p("initial_offset"), initial_offset_s, 100.0 * YEAR_S, "s");
    let drift_ppm = c.dist(
        &p("drift_ppm"),
        r.drift_ppm.as_ref(),
        base.drift_ppm,
        Unit::Number("ppm"),
        -BIG,
        BIG,
    );
    let drift_ppm = c.bounded(&p("drift_ppm"), drift_ppm, 1e6, "ppm");
    let aging = c.dist(
        &p("aging_ppm_first_year"),
        r.aging_ppm_first_year.as_ref(),
        base.aging_ppm_first_year,
        Unit::Number("ppm"),
        -BIG,
        BIG,
    );
    let aging = c.bounded(&p("aging_ppm_first_year"), aging, 1e6, "ppm");
    let wander = c.dist(
        &p("wander_ppm_per_sqrt_day"),
        r.wander_ppm_per_sqrt_day.as_ref(),
        base.wander_ppm_per_sqrt_day,
        Unit::Number("ppm per sqrt(day)"),
        0.0,
        BIG,
    );
    let wander = c.bounded(
        &p("wander_ppm_per_sqrt_day"),
        wander,
        1e4,
        "ppm per sqrt(day)",
    );
    let temperature = match r.temperature {
        None => base.temperature,
        Some(t) if t.enabled == Some(false) => None,
        Some(t) => {
            let tp = |f: &str| format!("{path}.temperature.{f}");
            let d = base.temperature.unwrap_or(TemperatureSpec {
                coefficient: Dist::Fixed(0.034),
                turnover_c: Dist::Fixed(25.0),
                mean_c: Dist::Fixed(20.0),
                daily_amplitude_c: Dist::Fixed(0.0),
                seasonal_amplitude_c: Dist::Fixed(0.0),
                warmest_day: 200.0,
                warmest_hour: 14.0,
            });
            let deg = Unit::Number("°C");
            Some(TemperatureSpec {
                coefficient: {
                    let d = c.dist(
                        &tp("coefficient"),
                        t.coefficient.as_ref(),
                        d.coefficient,
                        Unit::Number("ppm/°C²"),
                        0.0,
                        f64::INFINITY,
                    );
                    c.bounded(&tp("coefficient"), d, 1.0, "ppm/°C²")
                },
                turnover_c: {
                    let d = c.dist(
                        &tp("turnover"),
                        t.turnover.as_ref(),
                        d.turnover_c,
                        deg,
                        f64::NEG_INFINITY,
                        f64::INFINITY,
                    );
                    c.bounded(&tp("turnover"), d, 100.0, "°C")
                },
                mean_c: {
                    let d = c.dist(
                        &tp("mean"),
                        t.mean.as_ref(),
                        d.mean_c,
                        deg,
                        f64::NEG_INFINITY,
                        f64::INFINITY,
                    );
                    c.bounded(&tp("mean"), d, 100.0, "°C")
                },
                daily_amplitude_c: {
                    let d = c.dist(
                        &tp("daily_amplitude"),
                        t.daily_amplitude.as_ref(),
                        d.daily_amplitude_c,
                        deg,
                        0.0,
                        f64::INFINITY,
                    );
                    c.bounded(&tp("daily_amplitude"), d, 100.0, "°C")
                },
                seasonal_amplitude_c: {
                    let d = c.dist(
                        &tp("seasonal_amplitude"),
                        t.seasonal_amplitude.as_ref(),
                        d.seasonal_amplitude_c,
                        deg,
                        0.0,
                        f64::INFINITY,
                    );
                    c.bounded(&tp("seasonal_amplitude"), d, 100.0, "°C")
                },
                warmest_day: c.number(&tp("warmest_day"), t.warmest_day, d.warmest_day, 0.0, 366.0),
                warmest_hour: c.number(
                    &tp("warmest_hour"),
                    t.warmest_hour,
                    d.warmest_hour,
                    0.0,
                    24.0,
                ),
            })
        }
    };
    let sync = match r.sync {
        None => base.sync,
        Some(s) => {
            let sp = |f: &str| format!("{path}.sync.{f}");
            let d = base.sync;
            let enabled = s.enabled.unwrap_or(true);
            SyncSpec {
                enabled,
                interval_s: c.dist(
                    &sp("interval"),
                    s.interval.as_ref(),
                    d.interval_s,
                    Unit::Seconds,
                    1.0,
                    BIG,
                ),
                threshold_s: c.dist(
                    &sp("threshold"),
                    s.threshold.as_ref(),
                    d.threshold_s,
                    Unit::Seconds,
                    0.0,
                    BIG,
                ),
                residual_s: c.dist(
                    &sp("residual"),
                    s.residual.as_ref(),
                    d.residual_s,
                    Unit::Seconds,
                    -BIG,
                    BIG,
                ),
                failure_probability: c.dist(
                    &sp("failure_probability"),
                    s.failure_probability.as_ref(),
                    d.failure_probability,
                    PROBABILITY,
                    0.0,
                    1.0,
                ),
                off_rate_per_year: c.dist(
                    &sp("off_rate_per_year"),
                    s.off_rate_per_year.as_ref(),
                    d.off_rate_per_year,
                    RATE,
                    0.0,
                    BIG,
                ),
                back_on_after_s: match &s.back_on_after {
                    Some(Value::String(n)) if n == "never" => None,
                    Some(v) => Some(c.dist(
                        &sp("back_on_after"),
                        Some(v),
                        Dist::Fixed(0.0),
                        Unit::Seconds,
                        0.0,
                        BIG,
                    )),
                    None => d.back_on_after_s,
                },
            }
        }
    };
    let events = events(c, r.events, path, base.events);
    ClockSpec {
        initial_offset_s,
        drift_ppm,
        aging_ppm_first_year: aging,
        wander_ppm_per_sqrt_day: wander,
        temperature,
        sync,
        events,
    }
}

/// An event rate: at most 10,000 a year (more than one an hour), beyond which events would
/// dominate the run's work without describing a real device.
pub(super) fn rate(c: &mut Checker, path: &str, v: Option<&Value>, default: Dist) -> Dist {
    let d = c.dist(path, v, default, RATE, 0.0, f64::INFINITY);
    c.bounded(path, d, 10_000.0, "events per year")
}

pub(super) fn events(
    c: &mut Checker,
    r: Option<RawEvents>,
    path: &str,
    base: EventsSpec,
) -> EventsSpec {
    let Some(r) = r else { return base };
    const BIG: f64 = f64::INFINITY;
    let ep = |e: &str, f: &str| format!("{path}.events.{e}.{f}");
    let manual_change = match r.manual_change {
        None => base.manual_change,
        Some(m) => {
            let d = base.manual_change.unwrap_or(ManualChange {
                rate_per_year: Dist::Fixed(0.0),
                amount_s: Dist::Normal {
                    mean: 0.0,
                    sd: 30.0,
                },
            });
            Some(ManualChange {
                rate_per_year: rate(
                    c,
                    &ep("manual_change", "rate_per_year"),
                    m.rate_per_year.as_ref(),
                    d.rate_per_year,
                ),
                amount_s: c.dist(
                    &ep("manual_change", "amount"),
                    m.amount.as_ref(),
                    d.amount_s,
                    Unit::Seconds,
                    -BIG,
                    BIG,
                ),
            })
        }
    };
    let timezone_error = match r.timezone_error {
        None => base.timezone_error,
        Some(t) => {
            let d = base.timezone_error.unwrap_or(TimezoneError {
                rate_per_year: Dist::Fixed(0.0),
                hours: Dist::Mixture(vec![(0.5, Dist::Fixed(-1.0)), (0.5, Dist::Fixed(1.0))]),
                corrected_after_s: Some(lognormal(3.0 * 86_400.0, 1.0)),
            });
            Some(TimezoneError {
                rate_per_year: rate(
                    c,
                    &ep("timezone_error", "rate_per_year"),
                    t.rate_per_year.as_ref(),
                    d.rate_per_year,
                ),
                hours: {
                    let d = c.dist(
                        &ep("timezone_error", "hours"),
                        t.hours.as_ref(),
                        d.hours,
                        Unit::Number("hours"),
                        -BIG,
                        BIG,
                    );
                    c.bounded(&ep("timezone_error", "hours"), d, 24.0, "hours")
                },
                corrected_after_s: match &t.corrected_after {
                    Some(Value::String(n)) if n == "never" => None,
                    Some(v) => Some(c.dist(
                        &ep("timezone_error", "corrected_after"),
                        Some(v),
                        Dist::Fixed(0.0),
                        Unit::Seconds,
                        0.0,
                        BIG,
                    )),
                    None => d.corrected_after_s,
                },
            })
        }
    };
    let reset = match r.reset {
        None => base.reset,
        Some(x) => {
            let to = match x.to.as_deref().map(parse_rfc3339) {
                None => parse_rfc3339("2020-01-01").expect("valid"),
                Some(Ok(t)) => t,
                Some(Err(e)) => {
                    c.err(
                        &ep("reset", "to"),
                        "the factory or build date (YYYY-MM-DD)",
                        e,
                    );
                    0
                }
            };
            Some(Reset {
                rate_per_year: rate(
                    c,
                    &ep("reset", "rate_per_year"),
                    x.rate_per_year.as_ref(),
                    base.reset.map_or(Dist::Fixed(0.0), |b| b.rate_per_year),
                ),
                to,
            })
        }
    };
    let future_trip = match r.future_trip {
        None => base.future_trip,
        Some(f) => {
            let d = base.future_trip.unwrap_or(FutureTrip {
                rate_per_year: Dist::Fixed(0.0),
                amount_s: Dist::Fixed(3600.0),
                back_after_s: Dist::Fixed(86_400.0),
            });
            Some(FutureTrip {
                rate_per_year: rate(
                    c,
                    &ep("future_trip", "rate_per_year"),
                    f.rate_per_year.as_ref(),
                    d.rate_per_year,
                ),
                amount_s: c.dist(
                    &ep("future_trip", "amount"),
                    f.amount.as_ref(),
                    d.amount_s,
                    Unit::Seconds,
                    -BIG,
                    BIG,
                ),
                back_after_s: c.dist(
                    &ep("future_trip", "back_after"),
                    f.back_after.as_ref(),
                    d.back_after_s,
                    Unit::Seconds,
                    0.0,
                    BIG,
                ),
            })
        }
    };
    EventsSpec {
        manual_change,
        timezone_error,
        reset,
        future_trip,
    }
}
