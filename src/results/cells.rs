//! Cell types of the result files: how a number or a time is written in a CSV cell and read back.

use crate::time::{format_rfc3339, parse_rfc3339, Millis};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Reads a cell as text and converts it, naming what was expected when it does not convert.
fn from_text<'de, D, T>(
    d: D,
    expected: &'static str,
    convert: fn(&str) -> Option<T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct Text<T>(&'static str, fn(&str) -> Option<T>);
    impl<T> Visitor<'_> for Text<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
            (self.1)(s).ok_or_else(|| E::custom(format!("expected {}, found `{s}`", self.0)))
        }
    }
    d.deserialize_str(Text(expected, convert))
}

fn finite(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A rate as a percentage with two decimals that never rounds to a certainty it is not: a
/// few failures in a million logins read `>99.99%`, not `100.00%` (for the terminal and the
/// report; the CSV keeps six decimals).
pub fn percent(v: f64) -> String {
    let s = format!("{:.2}%", v * 100.0);
    match s.as_str() {
        "100.00%" if v < 1.0 => ">99.99%".into(),
        "0.00%" if v > 0.0 => "<0.01%".into(),
        _ => s,
    }
}

/// A number written with `D` decimals (rates with 6, seconds and years with 3).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fixed<const D: usize>(pub f64);

/// A fraction from 0 to 1, with 6 decimals.
pub type Rate = Fixed<6>;
/// Seconds (or years), with 3 decimals.
pub type Secs = Fixed<3>;

impl<const D: usize> Fixed<D> {
    /// None for an undefined figure (absent or not finite): an empty cell.
    pub fn opt(x: Option<f64>) -> Option<Fixed<D>> {
        x.filter(|v| v.is_finite()).map(Fixed)
    }

    pub fn of(x: f64) -> Option<Fixed<D>> {
        Fixed::opt(Some(x))
    }
}

impl<const D: usize> Serialize for Fixed<D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.*}", D, self.0))
    }
}

impl<'de, const D: usize> Deserialize<'de> for Fixed<D> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        from_text(d, "a number", |s| finite(s).map(Fixed))
    }
}

/// A number in scientific notation with 6 decimals (attacker probabilities).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sci(pub f64);

impl Sci {
    pub fn of(x: f64) -> Option<Sci> {
        x.is_finite().then_some(Sci(x))
    }
}

impl Serialize for Sci {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.6e}", self.0))
    }
}

impl<'de> Deserialize<'de> for Sci {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        from_text(d, "a number", |s| finite(s).map(Sci))
    }
}

/// An instant as RFC 3339 UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub Millis);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(self.0))
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        from_text(d, "an RFC 3339 time such as 2026-01-01T00:00:00Z", |s| {
            parse_rfc3339(s).ok().map(Time)
        })
    }
}

/// A cell as a number, from a row serialized to JSON (code that reads a column by its name):
/// numbers, numeric text and booleans (1 for true); None for an empty cell.
pub fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => finite(s),
        serde_json::Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// The value of an optional cell.
pub fn get<const D: usize>(x: Option<Fixed<D>>) -> Option<f64> {
    x.map(|v| v.0)
}

/// 1234567 -> "1,234,567".
pub fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentages_never_round_to_a_certainty() {
        assert_eq!(super::percent(0.999_977), ">99.99%");
        assert_eq!(super::percent(1.0), "100.00%");
        assert_eq!(super::percent(0.000_01), "<0.01%");
        assert_eq!(super::percent(0.0), "0.00%");
        assert_eq!(super::percent(0.978_5), "97.85%");
    }
}
