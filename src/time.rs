//! Time: integer-millisecond UTC instants for the hot loop; RFC 3339 and calendar arithmetic
//! from `jiff`; the domain's own duration syntax (`"1h30m"`, Julian years).

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// True or device time, in milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

pub const SECOND: Millis = 1000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;
pub const WEEK: Millis = 7 * DAY;
/// A Julian year (365.25 days): the year in which 1 ppm is 31.6 s (DOMAIN.md).
pub const YEAR: Millis = 365 * DAY + 6 * HOUR;
pub const YEAR_S: f64 = 31_557_600.0;

/// `x.round() as i64` without the libm call that `f64::round` is on baseline x86-64 (no
/// SSE4.1), which the per-attempt time arithmetic paid for: the same value for every `x`
/// (tested), halves away from zero.
#[inline]
pub fn round_i64(x: f64) -> i64 {
    // Beyond 2^52 every f64 is an integer already (and the cast saturates, as round's would).
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x as i64;
    }
    let t = x as i64;
    let f = x - t as f64; // exact: x and t are within 1 of each other
    t + (f >= 0.5) as i64 - (f <= -0.5) as i64
}

/// Seconds to whole milliseconds, rounded.
#[inline]
pub fn ms_of_s(secs: f64) -> Millis {
    round_i64(secs * 1000.0)
}

/// The UTC date-time of an instant, or None outside jiff's range (years -9999 to 9999).
fn utc(t: Millis) -> Option<DateTime> {
    Timestamp::from_millisecond(t)
        .ok()
        .map(|ts| TimeZone::UTC.to_datetime(ts))
}

/// The instant of a UTC date-time.
fn instant(dt: DateTime) -> Option<Millis> {
    TimeZone::UTC
        .to_timestamp(dt)
        .ok()
        .map(|ts| ts.as_millisecond())
}

/// The earliest and latest instants every function here handles: years 0001 to 9998, so that
/// a run's end and its last bucket's next month stay inside jiff's range.
pub const MIN_INSTANT: Millis = -62_135_596_800_000;
pub const MAX_INSTANT: Millis = 253_370_764_800_000;

/// Days since the epoch of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    Date::new(y as i16, m as i8, d as i8)
        .ok()
        .and_then(|date| instant(date.to_datetime(Time::midnight())))
        .map_or(MAX_INSTANT / DAY, |t| t / DAY)
}

/// Date (year, month 1-12, day 1-31) of a day number since the epoch.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let d = utc(z * DAY).map_or(Date::MAX, |dt| dt.date());
    (d.year() as i64, d.month() as u32, d.day() as u32)
}

/// The same calendar date and time of day `years` later (29 February becomes 28 February).
pub fn add_years(t: Millis, years: i64) -> Millis {
    utc(t)
        .and_then(|dt| dt.checked_add((years as i32).years()).ok())
        .and_then(instant)
        .unwrap_or(MAX_INSTANT)
}

/// Day index since the epoch of a time (floor).
pub fn day_number(t: Millis) -> i64 {
    t.div_euclid(DAY)
}

/// Monday = 0 ... Sunday = 6. Plain arithmetic: it runs for every simulated day.
pub fn weekday(day: i64) -> usize {
    // 1970-01-01 was a Thursday (3).
    (day + 3).rem_euclid(7) as usize
}

/// Start of the calendar month containing `t`.
pub fn month_floor(t: Millis) -> Millis {
    utc(t)
        .and_then(|dt| instant(dt.date().first_of_month().to_datetime(Time::midnight())))
        .unwrap_or(t)
}

/// Start of the calendar month after the one containing `t`.
pub fn next_month(t: Millis) -> Millis {
    utc(t)
        .and_then(|dt| dt.date().first_of_month().checked_add(1.month()).ok())
        .and_then(|d| instant(d.to_datetime(Time::midnight())))
        .unwrap_or(MAX_INSTANT)
}

/// `YYYY-MM-DDTHH:MM:SSZ`; milliseconds are shown only when not zero.
pub fn format_rfc3339(t: Millis) -> String {
    let Some(dt) = utc(t) else {
        return format!("{t} ms since 1970 (outside years -9999 to 9999)");
    };
    let frac = t.rem_euclid(SECOND);
    if frac == 0 {
        dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        format!("{}.{frac:03}Z", dt.strftime("%Y-%m-%dT%H:%M:%S"))
    }
}

/// Parses `YYYY-MM-DD` (midnight UTC) or RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)`.
/// Fractions below a millisecond are dropped.
pub fn parse_rfc3339(s: &str) -> Result<Millis, String> {
    let s = s.trim();
    let bad = || format!("`{s}` (not a date YYYY-MM-DD or an RFC 3339 time YYYY-MM-DDTHH:MM:SSZ)");
    let shaped_like_a_date = s.len() >= 10
        && s.bytes().take(10).enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let t = if s.len() == 10 {
        let d: Date = s.parse().map_err(|_| {
            if shaped_like_a_date {
                format!("`{s}` (not a day of the calendar)")
            } else {
                bad()
            }
        })?;
        instant(d.to_datetime(Time::midnight())).ok_or_else(bad)?
    } else {
        match s.parse::<Timestamp>() {
            Ok(ts) => ts.as_millisecond(),
            // A civil date-time without an offset is ambiguous: say what is missing.
            Err(_) if s.parse::<DateTime>().is_ok() => {
                return Err(format!("`{s}` (without a time zone: add `Z` or `+HH:MM`)"))
            }
            Err(_) if shaped_like_a_date && s[..10].parse::<Date>().is_err() => {
                return Err(format!("`{}` (not a day of the calendar)", &s[..10]))
            }
            Err(_) => return Err(bad()),
        }
    };
    if !(MIN_INSTANT..=MAX_INSTANT).contains(&t) {
        return Err(format!("`{s}` (outside the years 0001 to 9998)"));
    }
    Ok(t)
}

/// A time given as RFC 3339 or as integer Unix seconds.
pub fn parse_time_arg(s: &str) -> Result<Millis, String> {
    if let Ok(secs) = s.trim().parse::<i64>() {
        return secs
            .checked_mul(SECOND)
            .ok_or_else(|| format!("`{s}` is out of range"));
    }
    parse_rfc3339(s)
}

/// Parses human durations: `30s`, `250ms`, `5m`, `18h`, `2d`, `1w`, `5y`, `1h30m`, `-2m`, `1.5d`.
/// Returns seconds. A year is 365.25 days.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let src = s;
    let s = s.trim();
    let (neg, mut s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if s.is_empty() {
        return Err(format!("`{src}`, an empty duration"));
    }
    let mut total = 0.0;
    while !s.is_empty() {
        let n = s
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if n == 0 {
            return Err(format!(
                "`{src}`, which is not a number followed by a unit (ms, s, m, h, d, w or y)"
            ));
        }
        let num: f64 = s[..n]
            .parse()
            .map_err(|_| format!("`{src}`, whose number `{}` is malformed", &s[..n]))?;
        s = s[n..].trim_start();
        let u = s.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let unit = &s[..u];
        let mult = match unit {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "wk" | "week" | "weeks" => 604_800.0,
            "y" | "yr" | "year" | "years" => YEAR_S,
            "" => {
                return Err(format!(
                    "`{src}`, a number without a unit (write e.g. \"{}s\"; units: ms, s, m, h, d, w, y)",
                    &src.trim()
                ))
            }
            _ => {
                return Err(format!(
                    "`{src}`, whose unit `{unit}` is not one of ms, s, m, h, d, w, y"
                ))
            }
        };
        total += num * mult;
        s = s[u..].trim_start();
    }
    Ok(if neg { -total } else { total })
}

/// Formats seconds as a short human duration (`45s`, `12m`, `3.5h`, `2.1y`).
pub fn format_duration(secs: f64) -> String {
    let a = secs.abs();
    let sign = if secs < 0.0 { "-" } else { "" };
    let whole_years = a >= YEAR_S && ((a / YEAR_S) - (a / YEAR_S).round()).abs() < 1e-9;
    let (v, u) = if whole_years {
        (a / YEAR_S, "y")
    } else if a < 120.0 {
        (a, "s")
    } else if a < 2.0 * 3600.0 {
        (a / 60.0, "m")
    } else if a < 2.0 * 86_400.0 {
        (a / 3600.0, "h")
    } else if a < 2.0 * YEAR_S {
        (a / 86_400.0, "d")
    } else {
        (a / YEAR_S, "y")
    };
    let txt = format!("{v:.2}");
    let txt = txt.trim_end_matches('0').trim_end_matches('.');
    format!("{sign}{txt}{u}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_i64_is_round(x in proptest::num::f64::ANY, k in -1_000_000i64..1_000_000) {
            prop_assert_eq!(round_i64(x), x.round() as i64);
            for y in [k as f64 + 0.5, k as f64 - 0.5, k as f64 + 0.49999999999999994, k as f64] {
                prop_assert_eq!(round_i64(y), y.round() as i64, "{}", y);
            }
        }
    }

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 10_957, 20_454, 2_900_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(weekday(days_from_civil(2026, 11, 28)), 5); // a Saturday
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01").unwrap(), 0);
        assert_eq!(
            parse_rfc3339("2005-03-18T01:58:29Z").unwrap(),
            1_111_111_109 * SECOND
        );
        assert_eq!(
            parse_rfc3339("2005-03-18T02:58:29+01:00").unwrap(),
            1_111_111_109 * SECOND
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.25Z").unwrap(), 250);
        assert!(parse_rfc3339("2025-02-29").is_err());
        assert!(parse_rfc3339("2025-01-01T00:00:00")
            .unwrap_err()
            .contains("without a time zone"));
        assert!(parse_rfc3339("2026-01-0é").is_err());
        assert!(parse_rfc3339("2026-01-01T00:00:0é").is_err());
        assert!(parse_rfc3339("9999-06-01").is_err());
        assert_eq!(
            format_rfc3339(1_111_111_109 * SECOND),
            "2005-03-18T01:58:29Z"
        );
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(parse_time_arg("59").unwrap(), 59_000);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), 30.0);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400.0);
        assert_eq!(parse_duration("-2m").unwrap(), -120.0);
        assert_eq!(parse_duration("250ms").unwrap(), 0.25);
        assert_eq!(parse_duration("1y").unwrap(), 31_557_600.0);
        assert_eq!(parse_duration("1.5d").unwrap(), 129_600.0);
        assert_eq!(
            parse_duration("30").unwrap_err(),
            "`30`, a number without a unit (write e.g. \"30s\"; units: ms, s, m, h, d, w, y)"
        );
        assert_eq!(
            parse_duration("3 parsecs").unwrap_err(),
            "`3 parsecs`, whose unit `parsecs` is not one of ms, s, m, h, d, w, y"
        );
        assert_eq!(format_duration(5400.0), "90m");
        assert_eq!(format_duration(-45.0), "-45s");
        assert_eq!(format_duration(YEAR_S), "1y");
        assert_eq!(format_duration(3.0 * 86_400.0), "3d");
    }

    #[test]
    fn months() {
        let t = parse_rfc3339("2026-12-15T10:00:00Z").unwrap();
        assert_eq!(month_floor(t), parse_rfc3339("2026-12-01").unwrap());
        assert_eq!(next_month(t), parse_rfc3339("2027-01-01").unwrap());
        let leap = parse_rfc3339("2028-02-29T06:00:00Z").unwrap();
        assert_eq!(
            add_years(leap, 1),
            parse_rfc3339("2029-02-28T06:00:00Z").unwrap()
        );
        assert_eq!(
            add_years(t, 5),
            parse_rfc3339("2031-12-15T10:00:00Z").unwrap()
        );
    }
}
