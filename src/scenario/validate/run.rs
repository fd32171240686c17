//! `[run]`: name, start, horizon, fleet size, seed, buckets, decision mode.

use super::*;

pub(super) fn run_spec(c: &mut Checker, r: RawRun, default_name: &str) -> RunSpec {
    let name = r.name.unwrap_or_else(|| default_name.to_string());
    if name.is_empty()
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        || name.starts_with('.')
        || name.starts_with('-')
        || name.chars().count() > 100
    {
        c.err(
            "run.name",
            "a name of up to 100 letters, digits, `-`, `_` and `.`, not starting with `.` or `-` (it names the results folder)",
            format!("\"{name}\""),
        );
    }
    // A TOML date literal (`start = 2026-01-01`) reads like the string form.
    let start_text = match &r.start {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Datetime(d)) => Some(d.to_string()),
        Some(other) => {
            c.err(
                "run.start",
                "a date (YYYY-MM-DD) or RFC 3339 time",
                describe(other),
            );
            None
        }
    };
    let start = match start_text.as_deref().map(parse_rfc3339) {
        None => parse_rfc3339("2026-01-01").expect("valid"),
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            c.err("run.start", "a date (YYYY-MM-DD) or RFC 3339 time", e);
            0
        }
    };
    let horizon_s = c.duration(
        "run.horizon",
        r.horizon.as_ref(),
        YEAR_S,
        60.0,
        100.0 * YEAR_S,
    );
    if start as f64 + horizon_s * 1000.0 > crate::time::MAX_INSTANT as f64 {
        c.err(
            "run.horizon",
            "a run that ends by 9999-01-01 (dates beyond cannot be written)",
            format!(
                "{} from {}",
                crate::time::format_duration(horizon_s),
                crate::time::format_rfc3339(start)
            ),
        );
    }
    let tokens = r.tokens.unwrap_or(1000);
    if tokens == 0 || tokens > 1_000_000_000 {
        c.err(
            "run.tokens",
            "a fleet size from 1 to 1000000000",
            tokens.to_string(),
        );
    }
    let default_bucket = if horizon_s <= 2.0 * 86_400.0 {
        Bucket::Fixed { ms: 3_600_000 }
    } else if horizon_s <= 92.0 * 86_400.0 {
        Bucket::Fixed { ms: DAY }
    } else if horizon_s <= 20.0 * YEAR_S {
        Bucket::Month
    } else {
        Bucket::Fixed {
            ms: (YEAR_S * 1000.0) as i64,
        }
    };
    let bucket = match r.bucket.as_deref() {
        None => default_bucket,
        Some("month") => Bucket::Month,
        Some(s) => match parse_duration(match s {
            "hour" => "1h",
            "day" => "1d",
            "week" => "7d",
            _ => s,
        }) {
            Ok(x) if x >= 60.0 && horizon_s / x <= 100_000.0 => Bucket::Fixed {
                ms: (x * 1000.0).round() as i64,
            },
            Ok(_) => {
                c.err(
                    "run.bucket",
                    "a bucket of at least 1m and at most 100000 buckets over the horizon",
                    format!("\"{s}\""),
                );
                default_bucket
            }
            Err(e) => {
                c.err(
                    "run.bucket",
                    "\"month\", \"week\", \"day\", \"hour\" or a duration such as \"7d\"",
                    e,
                );
                default_bucket
            }
        },
    };
    let decide = c.choice(
        "run.decide",
        r.decide.as_ref(),
        DecideMode::Exact,
        |s| match s {
            "exact" => Some(DecideMode::Exact),
            "fast" => Some(DecideMode::Fast),
            _ => None,
        },
        "exact, fast",
    );
    RunSpec {
        name,
        start,
        horizon_s,
        tokens,
        seed: r.seed.unwrap_or(1),
        bucket,
        decide,
    }
}
