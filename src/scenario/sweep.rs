//! Parameter sweeps as scenario data: `[sweep]` blocks naming scenario fields by path with
//! lists or ranges of values, combined as a grid or zipped, expanded into settings (points),
//! each a checked scenario. Running them is `pipeline::sweep`'s job.

use super::locate::SourceMap;
use super::problem::{describe, fmt_n, Problem};
use super::{Diagnostic, Override, Scenario, ScenarioError};
use serde_json::json;
use toml::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// Every combination of the values.
    Grid,
    /// The i-th value of every parameter together (equal lengths).
    Zip,
}

/// One `[sweep]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepBlock {
    pub combine: Combine,
    pub params: Vec<(String, Vec<Value>)>,
    /// Where each parameter's values are written (`sweep[1].vary.validator.window.back`), as
    /// the scenario's source map names it, so a bad value is reported at its place in the file.
    pub sources: Vec<Source>,
}

/// Where a swept parameter's values sit in the file: the list (whose i-th element is the
/// i-th value) or the range table.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub path: String,
    pub listed: bool,
}

impl Source {
    fn of_value(&self, i: usize) -> String {
        if self.listed {
            format!("{}[{i}]", self.path)
        } else {
            self.path.clone()
        }
    }
}

fn parse_values(path: &str, v: &Value) -> Result<Vec<Value>, Problem> {
    match v {
        Value::Array(a) if !a.is_empty() => Ok(a.clone()),
        Value::Array(_) => Err(Problem::new(path, "at least one value", "an empty array")),
        Value::Table(t) => {
            for k in t.keys() {
                if !["from", "to", "step"].contains(&k.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.{k}"),
                        "from, to or step",
                        format!("unknown key `{k}`"),
                    ));
                }
            }
            let num = |k: &str| -> Result<Option<(f64, bool)>, Problem> {
                match t.get(k) {
                    None => Ok(None),
                    Some(Value::Integer(i)) => Ok(Some((*i as f64, true))),
                    Some(Value::Float(f)) => Ok(Some((*f, false))),
                    Some(o) => Err(Problem::new(format!("{path}.{k}"), "a number", describe(o))),
                }
            };
            let (Some(from), Some(to)) = (num("from")?, num("to")?) else {
                return Err(Problem::new(
                    path,
                    "a range { from = A, to = B, step = S }",
                    "a table without from and to",
                ));
            };
            let step = num("step")?.unwrap_or((1.0, true));
            if [from.0, to.0, step.0].iter().any(|x| !x.is_finite()) {
                return Err(Problem::new(
                    path,
                    "finite from, to and step",
                    format!("from {} to {} step {}", from.0, to.0, step.0),
                ));
            }
            if step.0 <= 0.0 || to.0 < from.0 {
                return Err(Problem::new(
                    path,
                    "from <= to and a step above 0",
                    format!("from {} to {} step {}", from.0, to.0, step.0),
                ));
            }
            // Counted in floating point first: a tiny step or a huge span must not wrap.
            let count = ((to.0 - from.0) / step.0 + 1e-9).floor() + 1.0;
            if !count.is_finite() || count > 1000.0 {
                return Err(Problem::new(
                    path,
                    "at most 1000 values",
                    format!("{} values", fmt_n(count)),
                ));
            }
            let n = count as usize;
            let ints = from.1 && to.1 && step.1;
            Ok((0..n)
                .map(|i| {
                    let x = from.0 + i as f64 * step.0;
                    if ints {
                        Value::Integer(x.round() as i64)
                    } else {
                        Value::Float((x * 1e9).round() / 1e9)
                    }
                })
                .collect())
        }
        other => Err(Problem::new(
            path,
            "a list of values or a range { from, to, step }",
            describe(other),
        )),
    }
}

fn parse_block(path: &str, t: &toml::Table) -> Result<SweepBlock, Problem> {
    for k in t.keys() {
        if k != "combine" && k != "vary" {
            return Err(Problem::new(
                format!("{path}.{k}"),
                "combine or vary",
                format!("unknown key `{k}`"),
            ));
        }
    }
    let combine = match t.get("combine") {
        None => Combine::Grid,
        Some(Value::String(s)) if s == "grid" => Combine::Grid,
        Some(Value::String(s)) if s == "zip" => Combine::Zip,
        Some(o) => {
            return Err(Problem::new(
                format!("{path}.combine"),
                "\"grid\" or \"zip\"",
                describe(o),
            ))
        }
    };
    let Some(Value::Table(vary)) = t.get("vary") else {
        return Err(Problem::new(format!("{path}.vary"), "a table of field paths and their values, e.g. vary = { \"validator.window.back\" = [1, 2, 3] }", t.get("vary").map_or("nothing".to_string(), describe)));
    };
    if vary.is_empty() {
        return Err(Problem::new(
            format!("{path}.vary"),
            "at least one field to vary",
            "an empty table",
        ));
    }
    let mut params = Vec::new();
    let mut sources = Vec::new();
    for (k, v) in vary {
        let at = format!("{path}.vary.{k}");
        params.push((k.clone(), parse_values(&at, v)?));
        sources.push(Source {
            path: at,
            listed: v.is_array(),
        });
    }
    if combine == Combine::Zip {
        let n = params[0].1.len();
        if let Some((k, v)) = params.iter().find(|p| p.1.len() != n) {
            return Err(Problem::new(
                format!("{path}.vary.{k}"),
                format!(
                    "{n} values, as many as `{}` (combine = \"zip\")",
                    params[0].0
                ),
                format!("{} values", v.len()),
            ));
        }
    }
    let points: usize = match combine {
        Combine::Grid => params.iter().map(|p| p.1.len()).product(),
        Combine::Zip => params[0].1.len(),
    };
    if points > 10_000 {
        return Err(Problem::new(
            path,
            "at most 10000 points",
            format!("{points} points"),
        ));
    }
    Ok(SweepBlock {
        combine,
        params,
        sources,
    })
}

/// Parses `[sweep]` (one table) or `[[sweep]]` (several, whose points are concatenated).
pub fn parse_blocks(v: &Value) -> Result<Vec<SweepBlock>, Problem> {
    match v {
        Value::Table(t) => Ok(vec![parse_block("sweep", t)?]),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, b)| match b {
                Value::Table(t) => parse_block(&format!("sweep[{i}]"), t),
                o => Err(Problem::new(format!("sweep[{i}]"), "a table", describe(o))),
            })
            .collect(),
        o => Err(Problem::new(
            "sweep",
            "a [sweep] table or [[sweep]] tables",
            describe(o),
        )),
    }
}

/// The blocks written back in scenario syntax.
pub fn blocks_value(blocks: &[SweepBlock]) -> serde_json::Value {
    serde_json::Value::Array(
        blocks
            .iter()
            .map(|b| {
                let vary: serde_json::Map<String, serde_json::Value> = b
                    .params
                    .iter()
                    .map(|(k, vs)| (k.clone(), serde_json::to_value(vs).expect("TOML values serialize")))
                    .collect();
                json!({"combine": if b.combine == Combine::Grid { "grid" } else { "zip" }, "vary": vary})
            })
            .collect(),
    )
}

/// One setting of a sweep: field paths and the values they take.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub settings: Vec<(String, Value)>,
    /// Where each setting's value is written in the scenario file (source-map paths).
    pub sources: Vec<String>,
}

impl Point {
    pub fn overrides(&self) -> Vec<Override> {
        self.settings
            .iter()
            .map(|(path, v)| Override::new(path, super::overrides::parse_value(&v.to_string())))
            .collect()
    }

    /// A short label: `validator.window.back=2, validator.preset=vip`.
    pub fn label(&self) -> String {
        self.settings
            .iter()
            .map(|(p, v)| format!("{}={}", p.rsplit('.').next().unwrap_or(p), plain(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A value as a CSV cell or label: strings without quotes.
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every point of the blocks, in order.
pub fn points(blocks: &[SweepBlock]) -> Vec<Point> {
    let mut out = Vec::new();
    for b in blocks {
        match b.combine {
            Combine::Zip => {
                for i in 0..b.params[0].1.len() {
                    out.push(Point {
                        settings: b
                            .params
                            .iter()
                            .map(|(k, v)| (k.clone(), v[i].clone()))
                            .collect(),
                        sources: b.sources.iter().map(|s| s.of_value(i)).collect(),
                    });
                }
            }
            Combine::Grid => {
                let mut acc = vec![Point {
                    settings: Vec::new(),
                    sources: Vec::new(),
                }];
                for ((k, vs), src) in b.params.iter().zip(&b.sources) {
                    acc = acc
                        .into_iter()
                        .flat_map(|p| {
                            vs.iter().enumerate().map(move |(i, v)| {
                                let mut p2 = p.clone();
                                p2.settings.push((k.clone(), v.clone()));
                                p2.sources.push(src.of_value(i));
                                p2
                            })
                        })
                        .collect();
                }
                out.extend(acc);
            }
        }
    }
    out
}

/// The key a value path (`sweep[0].vary.validator.window.back[2]`) belongs to.
fn key_path(source: &str) -> &str {
    match source
        .strip_suffix(']')
        .and_then(|s| s.rfind('[').map(|i| &source[..i]))
    {
        Some(key) => key,
        None => source,
    }
}

/// The scenario of every point, each checked after the command line's `sets`; a problem with
/// a swept value is reported where that value is written in the file, once for all the points
/// that share it.
pub fn settings(
    file: &str,
    text: &str,
    sets: &[Override],
    base: &Scenario,
) -> Result<(Vec<Point>, Vec<Scenario>), ScenarioError> {
    let pts = points(&base.sweep);
    // A --set on a field the sweep varies would be overridden at every point, silently.
    let swept: Vec<String> = pts
        .iter()
        .flat_map(|p| p.settings.iter().map(|(path, _)| base.indexed_path(path)))
        .collect();
    let under = |a: &str, b: &str| {
        a == b || a.starts_with(&format!("{b}.")) || a.starts_with(&format!("{b}["))
    };
    let clashes: Vec<Diagnostic> = sets
        .iter()
        .filter_map(|o| {
            let mine = base.indexed_path(&o.path);
            let hit = swept.iter().find(|s| under(s, &mine) || under(&mine, s))?;
            Some(Diagnostic {
                file: format!("--set {}", o.path),
                line: 0,
                col: 0,
                path: o.path.clone(),
                expected: format!(
                    "a field the sweep does not vary (it sets `{hit}` at every point, so this value would never run); change the [sweep] instead"
                ),
                found: format!("`{}`", o.value),
            })
        })
        .collect();
    if !clashes.is_empty() {
        let mut seen = Vec::new();
        let diagnostics = clashes
            .into_iter()
            .filter(|d| {
                let new = !seen.contains(&d.file);
                seen.push(d.file.clone());
                new
            })
            .collect();
        return Err(ScenarioError { diagnostics });
    }
    let map = SourceMap::new(text);
    let mut out = Vec::with_capacity(pts.len());
    // Each problem once, with the points that have it.
    let mut problems: Vec<(Diagnostic, Vec<usize>)> = Vec::new();
    for (i, p) in pts.iter().enumerate() {
        let all: Vec<Override> = sets.iter().cloned().chain(p.overrides()).collect();
        match Scenario::from_toml_with(file, text, &all) {
            Ok(sc) => out.push(sc),
            Err(e) => {
                for mut d in e.diagnostics {
                    let set = |(path, _): &(String, Value)| d.file == format!("--set {path}");
                    if let Some(k) = p.settings.iter().rposition(set) {
                        // A wrong value is shown where it is written; a wrong path at its key.
                        let span = if d.path == base.indexed_path(&p.settings[k].0) {
                            map.span_of(&p.sources[k])
                        } else {
                            map.key_span_of(key_path(&p.sources[k]))
                        };
                        let (line, col) = span.map_or((1, 1), |s| map.line_col(s.start));
                        d = Diagnostic {
                            file: file.to_string(),
                            line,
                            col,
                            path: p.settings[k].0.clone(),
                            ..d
                        };
                    }
                    match problems.iter_mut().find(|(seen, _)| *seen == d) {
                        Some((_, at)) => at.push(i),
                        None => problems.push((d, vec![i])),
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok((pts, out));
    }
    let diagnostics = problems
        .into_iter()
        .map(|(mut d, at)| {
            let more = match at.len() {
                1 => String::new(),
                2 => " and 1 more point".to_string(),
                n => format!(" and {} more points", n - 1),
            };
            d.found = format!(
                "{} (sweep point {}: {}{more})",
                d.found,
                at[0] + 1,
                pts[at[0]].label()
            );
            d
        })
        .collect();
    Err(ScenarioError { diagnostics })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str) -> Vec<SweepBlock> {
        let t: toml::Table = text.parse().unwrap();
        parse_blocks(t.get("sweep").unwrap()).unwrap()
    }

    #[test]
    fn grid_zip_ranges_and_concatenation() {
        let b = block("[[sweep]]\nvary = { \"validator.window.back\" = [0, 1], \"validator.window.ahead\" = { from = 1, to = 3 } }\n[[sweep]]\ncombine = \"zip\"\nvary = { \"validator.preset\" = [\"vip\", \"freeipa\"], \"run.seed\" = [1, 2] }\n");
        let p = points(&b);
        assert_eq!(p.len(), 2 * 3 + 2);
        assert_eq!(p[0].label(), "back=0, ahead=1");
        assert_eq!(p[5].label(), "back=1, ahead=3");
        assert_eq!(p[7].label(), "preset=freeipa, seed=2");
        let f = block("[sweep]\nvary = { \"population.hardware.clock.drift_ppm\" = { from = 0.5, to = 1.5, step = 0.5 } }\n");
        assert_eq!(
            points(&f)
                .iter()
                .map(|p| plain(&p.settings[0].1))
                .collect::<Vec<_>>(),
            ["0.5", "1.0", "1.5"]
        );
    }

    #[test]
    fn bad_blocks_are_explained() {
        let t: toml::Table = "[sweep]\ncombine = \"zip\"\nvary = { a = [1, 2], b = [1] }\n"
            .parse()
            .unwrap();
        let e = parse_blocks(t.get("sweep").unwrap()).unwrap_err();
        assert_eq!(e.path, "sweep.vary.b");
        assert!(e.expected.contains("2 values"));
        let t: toml::Table = "[sweep]\nvary = { a = { from = 3, to = 1 } }\n"
            .parse()
            .unwrap();
        assert!(parse_blocks(t.get("sweep").unwrap())
            .unwrap_err()
            .expected
            .contains("from <= to"));
    }
}
