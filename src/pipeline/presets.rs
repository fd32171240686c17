//! `otpdrift presets`: every validator preset with its parameters and the source it rests on.

/// The listing, as printed.
pub fn text() -> String {
    use crate::validator::presets;
    use std::fmt::Write;
    let mut out = String::new();
    for p in presets::all() {
        let mut v = crate::scenario::resolved_validator(&p.config);
        if let Some(m) = v.as_object_mut() {
            m.remove("preset");
        }
        let mut table = toml::Table::new();
        table.insert(
            "validator".into(),
            toml::Value::try_from(v).expect("a TOML tree"),
        );
        let _ = writeln!(out, "{}\n  {}\n  source: {}\n", p.name, p.summary, p.source);
        let body = toml::to_string(&table).expect("serializable");
        for line in body
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("[validator]"))
        {
            let _ = writeln!(out, "    {line}");
        }
        out.push('\n');
    }
    out.push_str("Use one with `[validator] preset = \"NAME\"`; any field set beside it overrides the preset.\n");
    out
}
