//! Civil time: UTC dates, RFC 3339 and human durations, on integer milliseconds since the Unix epoch.
//!
//! Hand-written because the needs are small (proleptic Gregorian UTC, no time zones database) and
//! the algorithms are the standard ones from Howard Hinnant's `chrono`-compatible date paper.

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

/// Days since the epoch of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Date (year, month 1-12, day 1-31) of a day number since the epoch.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// The same calendar date and time of day `years` later (29 February becomes 28 February).
pub fn add_years(t: Millis, years: i64) -> Millis {
    let (y, m, d) = civil_from_days(day_number(t));
    let y2 = y + years;
    days_from_civil(y2, m, d.min(days_in_month(y2, m))) * DAY + t.rem_euclid(DAY)
}

/// Day index since the epoch of a time (floor).
pub fn day_number(t: Millis) -> i64 {
    t.div_euclid(DAY)
}

/// Monday = 0 ... Sunday = 6.
pub fn weekday(day: i64) -> usize {
    // 1970-01-01 was a Thursday (3).
    (day + 3).rem_euclid(7) as usize
}

/// Start of the calendar month containing `t`.
pub fn month_floor(t: Millis) -> Millis {
    let (y, m, _) = civil_from_days(day_number(t));
    days_from_civil(y, m, 1) * DAY
}

/// Start of the calendar month after the one containing `t`.
pub fn next_month(t: Millis) -> Millis {
    let (y, m, _) = civil_from_days(day_number(t));
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(y, m, 1) * DAY
}

/// `YYYY-MM-DDTHH:MM:SSZ`; milliseconds are shown only when not zero.
pub fn format_rfc3339(t: Millis) -> String {
    let (y, m, d) = civil_from_days(day_number(t));
    let ms = t.rem_euclid(DAY);
    let (h, mi, s, frac) = (
        ms / HOUR,
        (ms % HOUR) / MINUTE,
        (ms % MINUTE) / SECOND,
        ms % SECOND,
    );
    if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:03}Z")
    }
}

fn digits(s: &str, what: &str) -> Result<i64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} `{s}` is not a number"));
    }
    s.parse::<i64>().map_err(|e| e.to_string())
}

/// Parses `YYYY-MM-DD` (midnight UTC) or RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)`.
pub fn parse_rfc3339(s: &str) -> Result<Millis, String> {
    let s = s.trim();
    let bad =
        || format!("`{s}` is not a date (YYYY-MM-DD) or an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ)");
    if s.len() < 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
        return Err(bad());
    }
    let y = digits(&s[0..4], "year").map_err(|_| bad())?;
    let m = digits(&s[5..7], "month").map_err(|_| bad())? as u32;
    let d = digits(&s[8..10], "day").map_err(|_| bad())? as u32;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(format!("`{s}` is not a valid calendar date"));
    }
    let mut t = days_from_civil(y, m, d) * DAY;
    let rest = &s[10..];
    if rest.is_empty() {
        return Ok(t);
    }
    let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(bad)?;
    if rest.len() < 8 || rest.as_bytes()[2] != b':' || rest.as_bytes()[5] != b':' {
        return Err(bad());
    }
    let h = digits(&rest[0..2], "hour").map_err(|_| bad())?;
    let mi = digits(&rest[3..5], "minute").map_err(|_| bad())?;
    let sec = digits(&rest[6..8], "second").map_err(|_| bad())?;
    if h > 23 || mi > 59 || sec > 60 {
        return Err(format!("`{s}` has an out-of-range time of day"));
    }
    t += h * HOUR + mi * MINUTE + sec * SECOND;
    let mut rest = &rest[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return Err(bad());
        }
        let ms_digits: String = frac[..n].chars().chain("000".chars()).take(3).collect();
        t += digits(&ms_digits, "fraction").map_err(|_| bad())?;
        rest = &frac[n..];
    }
    match rest {
        "Z" | "z" => Ok(t),
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let oh = digits(&rest[1..3], "offset hour").map_err(|_| bad())?;
            let om = digits(&rest[4..6], "offset minute").map_err(|_| bad())?;
            let off = oh * HOUR + om * MINUTE;
            Ok(if rest.starts_with('+') {
                t - off
            } else {
                t + off
            })
        }
        _ => Err(format!("`{s}` needs a time zone: `Z` or `+HH:MM`")),
    }
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
        return Err(format!(
            "`{src}` is empty; expected a duration such as \"30s\" or \"5m\""
        ));
    }
    let mut total = 0.0;
    while !s.is_empty() {
        let n = s
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if n == 0 {
            return Err(format!(
                "`{src}` is not a duration; expected a number then a unit (ms, s, m, h, d, w, y), e.g. \"30s\""
            ));
        }
        let num: f64 = s[..n]
            .parse()
            .map_err(|_| format!("`{src}` has a malformed number `{}`", &s[..n]))?;
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
                    "`{src}` has no unit; write e.g. \"{}s\" (units: ms, s, m, h, d, w, y)",
                    &src.trim()
                ))
            }
            _ => {
                return Err(format!(
                    "`{src}` has unknown unit `{unit}`; expected ms, s, m, h, d, w or y"
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

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 10_957, 20_454, 2_932_896] {
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
        assert!(parse_rfc3339("2025-01-01T00:00:00").is_err());
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
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("3 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
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
