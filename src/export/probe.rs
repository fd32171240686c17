//! The files of a probe: validator.toml (the configuration found, each measured field with how
//! it was measured), attempts.csv and report.md.

use crate::error::{Error, Result};
use crate::report::probe::{facet_lines, NOT_MEASURED};
use crate::results::probe::{attempts_csv, ProbeData};
use crate::time::format_rfc3339;

/// validator.toml of the first credential, commented.
pub fn validator_toml(d: &ProbeData) -> Result<String> {
    let c = d
        .credentials
        .first()
        .ok_or_else(|| Error::failed("a probe with no credential"))?;
    let mut table = toml::Table::new();
    table.insert(
        "validator".into(),
        toml::Value::try_from(crate::scenario::resolved_validator(&c.outcome.config))
            .map_err(|e| Error::failed(e.to_string()))?,
    );
    let body = toml::to_string(&table).map_err(|e| Error::failed(e.to_string()))?;
    let notes = facet_lines(&c.outcome.facets, &c.outcome);
    let mut out = format!(
        "# Measured by `otpdrift probe` on {} ({}), credential {}, {}:\n# {} attempts. Fields without a note were not measured (see report.md).\n",
        d.target,
        d.transport,
        c.id,
        format_rfc3339(d.started_at),
        c.outcome.attempts()
    );
    for n in NOT_MEASURED {
        out.push_str(&format!("# Not measured: {n}.\n"));
    }
    let mut section = String::new();
    for line in body.lines() {
        // Every field is written out: the table stands without a preset.
        if line.starts_with("preset =") {
            continue;
        }
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').to_string();
        }
        let key = line.split('=').next().unwrap_or("").trim();
        let path = match section.as_str() {
            "validator.window" => format!("window.{key}"),
            "validator.lockout" => "lockout".to_string(),
            _ => key.to_string(),
        };
        let note = notes
            .iter()
            .find(|(f, _, _)| *f == path)
            .map(|(_, found, how)| format!("measured: {found} ({how})"));
        match (note, line.contains('=')) {
            (Some(n), true) if !(path == "lockout" && key != "max_failures") => {
                out.push_str(&format!("{line}  # {n}\n"))
            }
            _ => {
                if let Some(field) = line
                    .strip_prefix("[validator.")
                    .and_then(|l| l.strip_suffix(']'))
                    .filter(|f| matches!(*f, "auto_resync" | "auto_sync" | "sync"))
                {
                    if let Some((_, found, how)) = notes.iter().find(|(f, _, _)| *f == field) {
                        out.push_str(&format!("# {field}: measured: {found} ({how})\n"));
                    }
                }
                if line.starts_with("[validator.lockout]") {
                    if let Some((_, found, _)) = notes.iter().find(|(f, _, _)| *f == "lockout") {
                        out.push_str(&format!("# lockout: {found}\n"));
                    }
                }
                if key == "lockout" && line.contains("\"none\"") {
                    if let Some((_, found, _)) = notes.iter().find(|(f, _, _)| *f == "lockout") {
                        out.push_str(&format!("{line}  # {found}\n"));
                        continue;
                    }
                }
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The probe's files, without the manifest.
pub fn probe_files(d: &ProbeData) -> Result<Vec<(String, Vec<u8>)>> {
    Ok(vec![
        ("attempts.csv".into(), attempts_csv(d)),
        ("validator.toml".into(), validator_toml(d)?.into_bytes()),
        (
            "report.md".into(),
            crate::report::probe::render(d).into_bytes(),
        ),
    ])
}
