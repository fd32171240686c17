//! Setting scenario fields by path (`validator.window.back=3`, `population[1].share=0.3`,
//! `population.hardware.clock.drift_ppm=5`) on the TOML text, for `--set` and sweeps.

use toml_edit::{DocumentMut, Item, Table, Value};

/// A field path and the TOML value to put there.
#[derive(Clone, Debug)]
pub struct Override {
    pub path: String,
    pub value: Value,
}

impl Override {
    /// Parses `PATH=VALUE`; VALUE is a TOML value, or a bare word taken as a string.
    pub fn parse(s: &str) -> Result<Override, String> {
        let (path, raw) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected PATH=VALUE, e.g. validator.window.back=3"))?;
        let path = path.trim();
        if path.is_empty() {
            return Err(format!("`{s}`: the field path is empty"));
        }
        Ok(Override {
            path: path.to_string(),
            value: parse_value(raw.trim()),
        })
    }

    pub fn new(path: &str, value: Value) -> Override {
        Override {
            path: path.to_string(),
            value,
        }
    }
}

/// A TOML value, or the text itself as a string when it is not one (`freeipa`, `5m`).
pub fn parse_value(raw: &str) -> Value {
    raw.parse::<Value>().unwrap_or_else(|_| Value::from(raw))
}

enum Seg<'a> {
    Key(&'a str),
    Index(&'a str, usize),
}

fn segments(path: &str) -> Result<Vec<Seg<'_>>, String> {
    path.split('.')
        .map(|part| match part.split_once('[') {
            Some((k, rest)) => {
                let i = rest
                    .strip_suffix(']')
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| format!("`{part}` in `{path}`: expected name[index]"))?;
                Ok(Seg::Index(k, i))
            }
            None if part.is_empty() => Err(format!("`{path}` has an empty segment")),
            None => Ok(Seg::Key(part)),
        })
        .collect()
}

/// The `[[population]]` table named `name` (a population without a name is named after its
/// token kind).
fn population_named<'a>(doc: &'a mut DocumentMut, name: &str) -> Option<&'a mut Table> {
    let aot = doc.get_mut("population")?.as_array_of_tables_mut()?;
    aot.iter_mut().find(|t| {
        let own = t.get("name").and_then(|v| v.as_str()).map(str::to_string);
        let kind = t
            .get("token")
            .and_then(|tk| tk.get("kind"))
            .and_then(|k| k.as_str())
            .map(str::to_string);
        own.or(kind).as_deref() == Some(name)
    })
}

fn set_in(mut table: &mut Table, segs: &[Seg], value: Value, path: &str) -> Result<(), String> {
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        match seg {
            Seg::Key(k) if last => {
                table.insert(k, Item::Value(value));
                return Ok(());
            }
            Seg::Key(k) => {
                let entry = table.entry(k).or_insert_with(|| Item::Table(Table::new()));
                if let Some(inline) = entry.as_inline_table().cloned() {
                    *entry = Item::Table(inline.into_table());
                }
                table = entry
                    .as_table_mut()
                    .ok_or_else(|| format!("`{path}`: `{k}` is not a table"))?;
            }
            Seg::Index(k, n) => {
                let aot = table
                    .get_mut(k)
                    .and_then(|x| x.as_array_of_tables_mut())
                    .ok_or_else(|| format!("`{path}`: there is no [[{k}]]"))?;
                let len = aot.len();
                table = aot.get_mut(*n).ok_or_else(|| {
                    format!("`{path}`: [[{k}]] has {len} entries, index {n} is out of range")
                })?;
                if last {
                    return Err(format!("`{path}`: cannot replace a whole [[{k}]] entry"));
                }
            }
        }
    }
    Ok(())
}

/// Applies the overrides to a scenario's text, returning the new text.
pub fn apply(text: &str, overrides: &[Override]) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.message().to_string())?;
    for o in overrides {
        let segs = segments(&o.path)?;
        // `population.NAME.rest` picks a population by name.
        if let [Seg::Key("population"), Seg::Key(name), rest @ ..] = segs.as_slice() {
            if rest.is_empty() {
                return Err(format!("`{}`: name a field of population `{name}`", o.path));
            }
            let t = population_named(&mut doc, name)
                .ok_or_else(|| format!("`{}`: there is no population named `{name}`", o.path))?;
            set_in(t, rest, o.value.clone(), &o.path)?;
            continue;
        }
        set_in(doc.as_table_mut(), &segs, o.value.clone(), &o.path)?;
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[run]\ntokens = 10\n\n[validator]\nwindow = { back = 1, ahead = 1 }\n\n[[population]]\nname = \"phones\"\nshare = 0.5\ntoken = { kind = \"phone\" }\n\n[[population]]\nshare = 0.5\ntoken = { kind = \"hardware\" }\n";

    fn set(sets: &[&str]) -> Result<toml::Table, String> {
        let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        apply(DOC, &o).map(|t| t.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn sets_fields_by_path_index_and_name() {
        let t = set(&[
            "validator.window.back=3",
            "validator.preset=freeipa",
            "population[0].share=0.25",
            "population.hardware.clock.drift_ppm=5.5",
            "run.horizon=\"2y\"",
        ])
        .unwrap();
        assert_eq!(t["validator"]["window"]["back"].as_integer(), Some(3));
        assert_eq!(t["validator"]["window"]["ahead"].as_integer(), Some(1));
        assert_eq!(t["validator"]["preset"].as_str(), Some("freeipa"));
        assert_eq!(t["population"][0]["share"].as_float(), Some(0.25));
        assert_eq!(
            t["population"][1]["clock"]["drift_ppm"].as_float(),
            Some(5.5)
        );
        assert_eq!(t["run"]["horizon"].as_str(), Some("2y"));
    }

    #[test]
    fn bad_paths_are_explained() {
        assert!(set(&["population[5].share=1"])
            .unwrap_err()
            .contains("index 5 is out of range"));
        assert!(set(&["population.tablets.share=1"])
            .unwrap_err()
            .contains("no population named `tablets`"));
        assert!(set(&["run.tokens.x=1"])
            .unwrap_err()
            .contains("`tokens` is not a table"));
        assert!(Override::parse("run.tokens")
            .unwrap_err()
            .contains("PATH=VALUE"));
    }
}
