//! Distributions in scenario syntax: a scalar, or `{ dist = "...", ..., clip = [lo, hi] }`, in
//! the field's unit, checked against the range every draw must stay in.

use super::*;
use crate::time::YEAR_S;

/// The unit a distribution's numbers are written in.
#[derive(Clone, Copy)]
pub enum Unit {
    /// Durations: strings such as "30s".
    Seconds,
    /// Plain numbers in the named unit.
    Number(&'static str),
}

pub(super) const DIST_NAMES: &str = "fixed, normal, lognormal, uniform, exponential, mixture";
pub(super) const RATE: Unit = Unit::Number("events per year");
pub(super) const PROBABILITY: Unit = Unit::Number("probability");

impl Checker {
    pub(super) fn scalar(&mut self, path: &str, v: &Value, unit: Unit) -> Option<f64> {
        match (unit, v) {
            (Unit::Seconds, Value::String(s)) => match parse_duration(s) {
                Ok(x) => Some(x),
                Err(e) => {
                    self.err(path, "a duration such as \"30s\" or \"-2m\"", e);
                    None
                }
            },
            (Unit::Seconds, other) => {
                self.err(
                    path,
                    "a duration string such as \"30s\" (a bare number has no unit)",
                    describe(other),
                );
                None
            }
            (Unit::Number(_), Value::Integer(i)) => Some(*i as f64),
            (Unit::Number(_), Value::Float(f)) if f.is_finite() => Some(*f),
            (Unit::Number(u), other) => {
                self.err(path, format!("a number ({u})"), describe(other));
                None
            }
        }
    }

    /// A distribution: a scalar, or a table `{ dist = "...", ..., clip = [lo, hi] }`.
    pub(super) fn dist_value(&mut self, path: &str, v: &Value, unit: Unit) -> Option<Dist> {
        let Value::Table(t) = v else {
            return self.scalar(path, v, unit).map(Dist::Fixed);
        };
        let Some(kind) = t.get("dist") else {
            self.err(
                &format!("{path}.dist"),
                format!("a `dist` key naming one of {DIST_NAMES}"),
                "a table without `dist`",
            );
            return None;
        };
        let Value::String(kind) = kind else {
            self.err(
                &format!("{path}.dist"),
                format!("one of {DIST_NAMES}"),
                describe(kind),
            );
            return None;
        };
        let params: &[&str] = match kind.as_str() {
            "fixed" => &["value"],
            "normal" => &["mean", "sd"],
            "lognormal" => &["median", "sigma"],
            "uniform" => &["min", "max"],
            "exponential" => &["mean"],
            "mixture" => &["of"],
            _ => {
                self.err(
                    &format!("{path}.dist"),
                    format!("one of {DIST_NAMES}"),
                    format!("\"{kind}\""),
                );
                return None;
            }
        };
        let mut ok = true;
        for k in t.keys() {
            if k != "dist" && k != "clip" && k != "weight" && !params.contains(&k.as_str()) {
                self.err(
                    &format!("{path}.{k}"),
                    format!(
                        "a key of a {kind} distribution ({}, clip)",
                        params.join(", ")
                    ),
                    format!("unknown key `{k}`"),
                );
                ok = false;
            }
        }
        let get = |c: &mut Checker, key: &str, u: Unit| -> Option<f64> {
            match t.get(key) {
                Some(v) => c.scalar(&format!("{path}.{key}"), v, u),
                None => {
                    c.err(
                        &format!("{path}.{key}"),
                        format!("`{key}` for a {kind} distribution"),
                        "nothing",
                    );
                    None
                }
            }
        };
        // sigma is a shape parameter: always a plain number.
        let d = match kind.as_str() {
            "fixed" => get(self, "value", unit).map(Dist::Fixed),
            "normal" => match (get(self, "mean", unit), get(self, "sd", unit)) {
                (Some(mean), Some(sd)) if sd >= 0.0 => Some(Dist::Normal { mean, sd }),
                (Some(_), Some(sd)) => {
                    self.err(
                        &format!("{path}.sd"),
                        "a standard deviation of at least 0",
                        fmt_n(sd),
                    );
                    None
                }
                _ => None,
            },
            "lognormal" => match (
                get(self, "median", unit),
                get(self, "sigma", Unit::Number("shape")),
            ) {
                (Some(median), Some(sigma)) if median > 0.0 && sigma >= 0.0 => {
                    Some(Dist::LogNormal { median, sigma })
                }
                (Some(median), Some(_)) if median <= 0.0 => {
                    self.err(
                        &format!("{path}.median"),
                        "a median above 0 (a lognormal law has only positive values)",
                        fmt_n(median),
                    );
                    None
                }
                (Some(_), Some(sigma)) => {
                    self.err(
                        &format!("{path}.sigma"),
                        "a sigma of at least 0 (the spread of the logarithm)",
                        fmt_n(sigma),
                    );
                    None
                }
                _ => None,
            },
            "uniform" => match (get(self, "min", unit), get(self, "max", unit)) {
                (Some(min), Some(max)) if min <= max => Some(Dist::Uniform { min, max }),
                (Some(min), Some(max)) => {
                    self.err(
                        &format!("{path}.max"),
                        format!("a max of at least min ({})", fmt_n(min)),
                        fmt_n(max),
                    );
                    None
                }
                _ => None,
            },
            "exponential" => match get(self, "mean", unit) {
                Some(mean) if mean > 0.0 => Some(Dist::Exponential { mean }),
                Some(mean) => {
                    self.err(&format!("{path}.mean"), "a mean above 0", fmt_n(mean));
                    None
                }
                None => None,
            },
            "mixture" => self.mixture(path, t.get("of"), unit),
            _ => unreachable!(),
        };
        let d = match (d, t.get("clip")) {
            (Some(d), Some(clip)) => self
                .clip(&format!("{path}.clip"), clip, unit)
                .map(|(lo, hi)| d.clipped(lo, hi)),
            (d, _) => d,
        };
        d.filter(|_| ok)
    }

    pub(super) fn mixture(&mut self, path: &str, of: Option<&Value>, unit: Unit) -> Option<Dist> {
        let p = format!("{path}.of");
        let Some(Value::Array(parts)) = of else {
            self.err(
                &p,
                "an array of tables, each with a `weight` and a distribution",
                of.map_or("nothing".into(), describe),
            );
            return None;
        };
        if parts.is_empty() {
            self.err(&p, "at least one part", "an empty array");
            return None;
        }
        let mut out = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let pp = format!("{p}[{i}]");
            let weight = match part.get("weight") {
                Some(Value::Integer(w)) if *w > 0 => *w as f64,
                Some(Value::Float(w)) if *w > 0.0 && w.is_finite() => *w,
                other => {
                    self.err(
                        &format!("{pp}.weight"),
                        "a weight above 0",
                        other.map_or("nothing".into(), describe),
                    );
                    continue;
                }
            };
            if let Some(d) = self.dist_value(&pp, part, unit) {
                out.push((weight, d));
            }
        }
        (out.len() == parts.len()).then_some(Dist::Mixture(out))
    }

    pub(super) fn clip(&mut self, path: &str, v: &Value, unit: Unit) -> Option<(f64, f64)> {
        match v {
            Value::Array(a) if a.len() == 2 => {
                let lo = self.scalar(&format!("{path}[0]"), &a[0], unit)?;
                let hi = self.scalar(&format!("{path}[1]"), &a[1], unit)?;
                if lo > hi {
                    self.err(
                        path,
                        "[low, high] with low <= high",
                        format!("[{}, {}]", fmt_n(lo), fmt_n(hi)),
                    );
                    return None;
                }
                Some((lo, hi))
            }
            other => {
                self.err(path, "an array of two bounds, [low, high]", describe(other));
                None
            }
        }
    }

    /// A distribution field with a default and the range every draw must stay in.
    pub(super) fn dist(
        &mut self,
        path: &str,
        v: Option<&Value>,
        default: Dist,
        unit: Unit,
        lo: f64,
        hi: f64,
    ) -> Dist {
        let Some(v) = v else { return default };
        let Some(d) = self.dist_value(path, v, unit) else {
            return default;
        };
        let (a, b) = d.support();
        if a < lo || b > hi {
            let show = |x: f64| match unit {
                Unit::Seconds => fmt_s(x),
                Unit::Number(_) => fmt_n(x),
            };
            self.err(
                path,
                format!(
                    "values from {} to {} (add `clip = [low, high]` to bound a distribution)",
                    show(lo),
                    show(hi)
                ),
                format!("values from {} to {}", show(a), show(b)),
            );
            return default;
        }
        // Every law, whatever its field: durations within a thousand years, numbers within
        // 10^9: beyond every physical bound here, short of overflow and infinity.
        let (limit, shown) = match unit {
            Unit::Seconds => (1000.0 * YEAR_S, "1000 years".to_string()),
            Unit::Number(u) => (1e9, format!("1e9 {u}")),
        };
        if d.reach() > limit {
            let reach = match unit {
                Unit::Seconds if d.reach() < 1e12 => fmt_s(d.reach()),
                Unit::Seconds => format!("{} s", fmt_n(d.reach())),
                Unit::Number(_) => fmt_n(d.reach()),
            };
            self.err(
                path,
                format!("a law whose draws stay within ±{shown} (add `clip = [low, high]`)"),
                format!("one whose draws reach {reach} once in a billion"),
            );
            // Kept (the scenario is refused anyway) so that a field's own bound, checked
            // next by `bounded`, can say more precisely what is wrong.
        }
        d
    }
}
