//! One problem found in a scenario (field path, what was expected, what was found), before it
//! is given a file position, and how values are shown in its message. Shared by the checker
//! (`validate`) and the sweep's parser.

use toml::Value;

/// One problem, before it is given a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub expected: String,
    pub found: String,
}

impl Problem {
    pub fn new(
        path: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Problem {
        Problem {
            path: path.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// A TOML value as a message names it: its type and value.
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string \"{s}\""),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("number {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}

/// A number as a message shows it: plain, or in exponent form when very large or small.
pub fn fmt_n(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 {
            "infinity".into()
        } else {
            "-infinity".into()
        };
    }
    if x != 0.0 && !(1e-6..1e15).contains(&x.abs()) {
        return format!("{x:e}");
    }
    format!("{x}")
}
