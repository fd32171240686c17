//! Source rules that keep the layers apart, checked on the code itself (like rust-analyzer's
//! tidy tests): every module says what it owns, and no module reaches up or sideways.

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("src is readable") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every source file under `src/`, relative path and text.
fn files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    sources(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            (rel, fs::read_to_string(&p).expect("UTF-8 source"))
        })
        .collect()
}

/// Every top-level module in its layer, lowest first. A module uses only modules of the layers
/// below its own; a module missing from this list fails `every_module_has_a_layer`.
const LAYERS: &[(&str, &[&str])] = &[
    ("ground", &["error", "time", "rng", "otp"]),
    ("measures", &["dist", "stats", "metrics", "validator"]),
    ("model", &["clock", "token", "user", "analyze"]),
    ("spec", &["scenario"]),
    ("sim", &["sim", "attack", "probe"]),
    ("results", &["results"]),
    ("charts", &["chart"]),
    ("report", &["report"]),
    ("output", &["export"]),
    ("pipelines", &["pipeline"]),
    ("face", &["cli"]),
    ("binary", &["main"]),
    // Test-only modules drive whole pipelines on purpose.
    ("tests", &["tidy", "robustness", "metamorphic"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// A source file's top-level module (`sim/life.rs` -> `sim`) and its depth in the module tree
/// (`sim/life.rs` 2, `sim/mod.rs` and `cli.rs` 1; `lib.rs` 0).
fn module_of(path: &str) -> (&str, usize) {
    let top = path
        .split('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".rs");
    let parts = path.trim_end_matches(".rs").split('/').count();
    let depth = if path.ends_with("/mod.rs") {
        parts - 1
    } else {
        parts
    };
    (if path == "lib.rs" { "" } else { top }, depth)
}

/// The top-level modules a file's non-test code names: `crate::m`, `otpdrift::m` (the binary),
/// and `super::…::m` chains that climb to the crate root.
fn uses(path: &str, text: &str) -> Vec<String> {
    let body = text.split("#[cfg(test)]").next().unwrap_or(text);
    let (_, depth) = module_of(path);
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for prefix in ["crate::", "otpdrift::"] {
        for (i, _) in body.match_indices(prefix) {
            let before = body[..i].chars().last();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // `$crate::`, `my_crate::`
            }
            out.push(ident(&body[i + prefix.len()..]));
        }
    }
    let root = "super::".repeat(depth.max(1));
    for (i, _) in body.match_indices(&root) {
        let rest = &body[i + root.len()..];
        if !rest.starts_with("super::") {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out.sort();
    out.dedup();
    out
}

/// The top-level modules of the crate, from the file system.
fn top_modules() -> Vec<String> {
    let mut ms: Vec<String> = files()
        .into_iter()
        .map(|(p, _)| module_of(&p).0.to_string())
        .filter(|m| !m.is_empty())
        .collect();
    ms.sort();
    ms.dedup();
    ms
}

#[test]
fn every_module_has_a_layer() {
    let missing: Vec<String> = top_modules()
        .into_iter()
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a place in tidy::LAYERS (and ARCHITECTURE.md): {missing:?}"
    );
    let architecture =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    for m in top_modules() {
        assert!(
            architecture.contains(&format!("{m}.rs")) || architecture.contains(&format!("{m}/")),
            "ARCHITECTURE.md does not name {m}"
        );
    }
}

/// Every import that goes up or sideways, as `src/FILE uses MODULE (layer -> layer)`.
fn bad_imports(files: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, text) in files {
        // Test files (`tests.rs`) drive whole pipelines on purpose.
        if path.ends_with("tests.rs") || path == "lib.rs" {
            continue;
        }
        let (me, _) = module_of(path);
        let Some(mine) = layer_of(me) else { continue };
        for m in uses(path, text) {
            if m == me {
                continue;
            }
            match layer_of(&m) {
                Some(theirs) if theirs < mine => {}
                Some(theirs) => bad.push(format!(
                    "src/{path} uses {m} ({} -> {})",
                    LAYERS[mine].0, LAYERS[theirs].0
                )),
                None => {}
            }
        }
    }
    bad
}

/// What the face may not call: it builds plans and prints what pipelines return.
const BELOW_THE_FACE: &[&str] = &["sim", "export", "report", "results", "metrics"];

#[test]
fn every_module_starts_with_a_line_saying_what_it_owns() {
    for (path, text) in files() {
        assert!(
            text.starts_with("//! "),
            "src/{path} does not start with a `//!` line"
        );
    }
}

#[test]
fn layers_only_look_down() {
    let bad = bad_imports(&files());
    assert!(bad.is_empty(), "{bad:#?}");
    for (path, text) in files() {
        let (me, _) = module_of(&path);
        if layer_of(me).is_some_and(|l| matches!(LAYERS[l].0, "face" | "binary")) {
            for m in uses(&path, &text) {
                assert!(!BELOW_THE_FACE.contains(&m.as_str()), "src/{path} uses {m}");
            }
        }
    }
}

#[test]
fn the_layer_check_sees_imports_up_sideways_and_from_the_binary() {
    let probe = |path: &str, text: &str| bad_imports(&[(path.to_string(), text.to_string())]);
    assert_eq!(
        probe("clock.rs", "//! c\nuse crate::token::Token;\n"),
        ["src/clock.rs uses token (model -> model)"]
    );
    assert_eq!(
        probe(
            "error.rs",
            "//! e\nimpl From<crate::export::OutputError> for Error {}\n"
        ),
        ["src/error.rs uses export (ground -> output)"]
    );
    assert_eq!(
        probe(
            "main.rs",
            "//! m\nfn f() { otpdrift::export::abandon_in_flight(); }\n"
        )
        .len(),
        0,
        "main may look down"
    );
    assert_eq!(
        probe(
            "sim/life/recovery.rs",
            "//! r\nuse super::super::super::results::X;\n"
        ),
        ["src/sim/life/recovery.rs uses results (sim -> results)"]
    );
    assert!(probe(
        "sim/life.rs",
        "//! r\nuse super::trace::X;\n#[cfg(test)]\nuse crate::pipeline::run;\n"
    )
    .is_empty());
    assert_eq!(
        uses("main.rs", "use otpdrift::cli::Cli; otpdrift::export::x();"),
        ["cli", "export"]
    );
}

#[test]
fn the_cli_stays_thin() {
    let cli: Vec<(String, String)> = files()
        .into_iter()
        .filter(|f| f.0.starts_with("cli/"))
        .collect();
    assert!(cli.len() >= 9, "one file per command under src/cli/");
    for (path, text) in &cli {
        let lines = text.lines().count();
        // A command's flags, its request and what it prints; more lines mean logic crept in.
        assert!(lines <= 160, "src/{path} has {lines} lines");
        for call in ["sim::run", "write_folder", "render_all", "Buckets::new"] {
            assert!(!text.contains(call), "src/{path} calls {call}");
        }
    }
}

#[test]
fn clap_lives_only_in_the_face() {
    for (path, text) in files() {
        if path.starts_with("cli/") || path == "tidy.rs" {
            continue;
        }
        assert!(
            !text.contains("clap::") && !text.contains("use clap"),
            "src/{path} names clap: flags belong in src/cli/"
        );
    }
}

/// A file's module path (`pipeline/run.rs` -> pipeline::run, `sim/mod.rs` -> sim, `lib.rs` ->
/// the root).
fn module_path(path: &str) -> Vec<String> {
    let p = path.trim_end_matches(".rs");
    let p = p.strip_suffix("/mod").unwrap_or(p);
    if p == "lib" || p == "main" {
        return Vec::new();
    }
    p.split('/').map(String::from).collect()
}

/// The full paths a file's non-test code names through `use` trees, `crate::` and `super::`
/// (as module paths from the crate root), braces expanded.
fn named_paths(path: &str, text: &str) -> Vec<Vec<String>> {
    let body = text.split("#[cfg(test)]").next().unwrap_or(text);
    let me = module_path(path);
    // A `mod.rs`'s `super` is its parent; so is a plain file's.
    let mut out = Vec::new();
    let expand = |tree: &str, out: &mut Vec<Vec<String>>| {
        // Expands `a::{b, c::{d, e}}` into a::b, a::c::d, a::c::e.
        fn go(prefix: &str, tree: &str, out: &mut Vec<String>) {
            let tree = tree.trim();
            if let Some(open) = tree.find('{') {
                let head = &tree[..open];
                let close = tree.rfind('}').filter(|c| *c > open).unwrap_or(tree.len());
                let inner = &tree[open + 1..close];
                let mut depth = 0;
                let mut start = 0;
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            go(&format!("{prefix}{head}"), &inner[start..i], out);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                go(&format!("{prefix}{head}"), &inner[start..], out);
            } else if !tree.is_empty() {
                out.push(format!("{prefix}{tree}"));
            }
        }
        let mut flat = Vec::new();
        go("", tree, &mut flat);
        for f in flat {
            let f = f.split(" as ").next().unwrap_or(&f).trim().to_string();
            let mut segs: Vec<&str> = f.split("::").map(str::trim).collect();
            let mut abs: Vec<String> = match segs.first() {
                Some(&"crate") | Some(&"otpdrift") => {
                    segs.remove(0);
                    Vec::new()
                }
                Some(&"super") => {
                    let mut m = me.clone();
                    while segs.first() == Some(&"super") {
                        segs.remove(0);
                        m.pop();
                    }
                    m
                }
                Some(&"self") => {
                    segs.remove(0);
                    me.clone()
                }
                _ => continue,
            };
            abs.extend(segs.iter().map(|s| {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            }));
            abs.retain(|s| !s.is_empty());
            out.push(abs);
        }
    };
    for stmt in body.split(';') {
        if let Some(i) = stmt.find("use ") {
            let line = stmt[..i].rsplit('\n').next().unwrap_or("").trim();
            if ["", "pub", "pub(crate)", "pub(super)"].contains(&line) && !stmt.contains('"') {
                expand(&stmt[i + 4..], &mut out);
            }
        }
    }
    for prefix in ["crate::", "super::"] {
        for (i, _) in body.match_indices(prefix) {
            let prev = body[..i].chars().last();
            if prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest: String = body[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            expand(rest.trim_end_matches(':'), &mut out);
        }
    }
    out
}

/// The file each file's code reaches (the longest module path that is a file), leaving out a
/// module's reach into its own submodules (it owns them).
fn file_edges(files: &[(String, String)]) -> Vec<(String, String)> {
    let modules: Vec<(Vec<String>, &String)> =
        files.iter().map(|(p, _)| (module_path(p), p)).collect();
    let mut edges = Vec::new();
    for (path, text) in files {
        if path.ends_with("tests.rs") || path == "lib.rs" || path == "main.rs" {
            continue;
        }
        let me = module_path(path);
        for named in named_paths(path, text) {
            let Some((m, target)) = modules
                .iter()
                .filter(|(m, _)| named.starts_with(m))
                .max_by_key(|(m, _)| m.len())
            else {
                continue;
            };
            if *target != path && !(m.len() > me.len() && m.starts_with(&me)) {
                edges.push((path.clone(), (*target).clone()));
            }
        }
    }
    edges.sort();
    edges.dedup();
    edges
}

/// A cycle of files, if any: each reaches the next and the last the first.
fn a_cycle(edges: &[(String, String)]) -> Option<Vec<String>> {
    use std::collections::BTreeMap;
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    // 0 unseen, 1 on the current path, 2 done.
    fn visit<'a>(
        n: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(n, 1);
        stack.push(n);
        for &m in next.get(n).map_or(&[][..], |v| v.as_slice()) {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| *s == m).unwrap_or(0);
                    return Some(stack[at..].iter().map(|s| s.to_string()).collect());
                }
                0 => {
                    if let Some(c) = visit(m, next, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n, 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in next.keys().copied().collect::<Vec<_>>() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, &next, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_two_files_import_each_other_even_through_others() {
    let edges = file_edges(&files());
    assert!(
        edges.len() > 100,
        "the import graph was read ({} edges)",
        edges.len()
    );
    assert_eq!(a_cycle(&edges), None);
}

#[test]
fn the_cycle_check_sees_a_cycle_through_use_trees_and_super() {
    let f = |p: &str, t: &str| (p.to_string(), t.to_string());
    let files = [
        f(
            "pipeline/mod.rs",
            "//! p
pub mod run;
pub mod merge;
use run::X;
",
        ),
        f(
            "pipeline/run.rs",
            "//! r
use super::{manifest, merge::{Y, Z}};
",
        ),
        f(
            "pipeline/merge.rs",
            "//! m
fn f() { crate::pipeline::run::g(); }
",
        ),
        f(
            "error.rs", "//! e
",
        ),
    ];
    let edges = file_edges(&files);
    assert_eq!(
        edges,
        [
            (
                "pipeline/merge.rs".to_string(),
                "pipeline/run.rs".to_string()
            ),
            (
                "pipeline/run.rs".to_string(),
                "pipeline/merge.rs".to_string()
            ),
            ("pipeline/run.rs".to_string(), "pipeline/mod.rs".to_string()),
        ]
    );
    assert_eq!(
        a_cycle(&edges),
        Some(vec![
            "pipeline/merge.rs".to_string(),
            "pipeline/run.rs".to_string()
        ])
    );
    assert_eq!(a_cycle(&edges[2..]), None);
}

#[test]
fn no_unsafe_code_is_allowed() {
    let lib = files()
        .into_iter()
        .find(|f| f.0 == "lib.rs")
        .expect("src/lib.rs")
        .1;
    assert!(lib.contains("#![forbid(unsafe_code)]"));
}
