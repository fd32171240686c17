//! Positions in a scenario file: field path <-> byte span <-> line and column.

use std::ops::Range;
use toml_edit::{ImDocument, Item, Table, Value};

/// Where each key and value of a TOML document sits.
pub struct SourceMap {
    line_starts: Vec<usize>,
    text: String,
    /// (field path, span, is the span a key's)
    entries: Vec<(String, Range<usize>, bool)>,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

impl SourceMap {
    pub fn new(text: &str) -> SourceMap {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut m = SourceMap {
            line_starts,
            text: text.to_string(),
            entries: Vec::new(),
        };
        if let Ok(doc) = ImDocument::parse(text.to_string()) {
            m.walk_table(doc.as_table(), "");
        }
        m
    }

    fn walk_table(&mut self, t: &Table, prefix: &str) {
        for (k, item) in t.iter() {
            let path = join(prefix, k);
            if let Some(span) = t.key(k).and_then(|k| k.span()) {
                self.entries.push((path.clone(), span, true));
            }
            match item {
                Item::Value(v) => self.walk_value(v, &path),
                Item::Table(sub) => {
                    if let Some(span) = sub.span() {
                        self.entries.push((path.clone(), span, false));
                    }
                    self.walk_table(sub, &path);
                }
                Item::ArrayOfTables(a) => {
                    for (i, sub) in a.iter().enumerate() {
                        let p = format!("{path}[{i}]");
                        if let Some(span) = sub.span() {
                            self.entries.push((p.clone(), span, false));
                        }
                        self.walk_table(sub, &p);
                    }
                }
                Item::None => {}
            }
        }
    }

    fn walk_value(&mut self, v: &Value, path: &str) {
        if let Some(span) = v.span() {
            self.entries.push((path.to_string(), span, false));
        }
        match v {
            Value::InlineTable(t) => {
                for (k, sub) in t.iter() {
                    let p = join(path, k);
                    if let Some(span) = t.key(k).and_then(|k| k.span()) {
                        self.entries.push((p.clone(), span, true));
                    }
                    self.walk_value(sub, &p);
                }
            }
            Value::Array(a) => {
                for (i, sub) in a.iter().enumerate() {
                    self.walk_value(sub, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// The span of a field's value, else of its key, else of its nearest written parent.
    pub fn span_of(&self, path: &str) -> Option<Range<usize>> {
        let mut p = path.to_string();
        loop {
            let hit = self
                .entries
                .iter()
                .filter(|e| e.0 == p)
                .min_by_key(|e| e.2)
                .map(|e| e.1.clone());
            if hit.is_some() {
                return hit;
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }

    /// The span of a field's key, if it is written.
    pub fn key_span_of(&self, path: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|e| e.2 && e.0 == path)
            .map(|e| e.1.clone())
    }

    /// The innermost field whose key or value holds byte `offset`.
    pub fn path_at(&self, offset: usize) -> Option<String> {
        self.entries
            .iter()
            .filter(|e| e.1.start <= offset && offset < e.1.end.max(e.1.start + 1))
            .min_by_key(|e| (e.1.end - e.1.start, !e.2))
            .map(|e| e.0.clone())
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|s| *s <= offset);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[run]\nseed = 4\n\n[[population]]\nname = \"a\"\n[population.clock]\ndrift_ppm = { dist = \"normal\", sd = 3 }\n\n[[population]]\nname = \"b\"\n";

    #[test]
    fn paths_and_positions() {
        let m = SourceMap::new(DOC);
        let at = |p: &str| m.line_col(m.span_of(p).unwrap().start);
        assert_eq!(at("run.seed"), (2, 8));
        assert_eq!(at("population[0].clock.drift_ppm.sd"), (7, 37));
        assert_eq!(at("population[1].name"), (10, 8));
        // Missing fields fall back to the nearest written parent.
        assert_eq!(at("population[1].clock.drift_ppm"), (9, 1));
        let sd = DOC.find("sd =").unwrap();
        assert_eq!(
            m.path_at(sd).as_deref(),
            Some("population[0].clock.drift_ppm.sd")
        );
    }
}
