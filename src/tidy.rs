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

/// The modules a file may not use: the layers above it, and its siblings' private business.
fn forbidden(path: &str) -> &'static [&'static str] {
    const ABOVE_MODEL: &[&str] = &[
        "crate::scenario",
        "crate::sim",
        "crate::attack",
        "crate::results",
        "crate::export",
        "crate::chart",
        "crate::report",
        "crate::pipeline",
        "crate::cli",
    ];
    let top = path.split('/').next().unwrap_or(path);
    match top.trim_end_matches(".rs") {
        "otp" | "rng" | "time" | "clock" | "token" | "user" | "validator" | "dist" | "drift"
        | "metrics" => ABOVE_MODEL,
        "scenario" => &[
            "crate::sim",
            "crate::attack",
            "crate::results",
            "crate::export",
            "crate::chart",
            "crate::report",
            "crate::pipeline",
            "crate::cli",
        ],
        "sim" | "attack" => &[
            "crate::results",
            "crate::export",
            "crate::chart",
            "crate::report",
            "crate::pipeline",
            "crate::cli",
        ],
        "results" => &[
            "crate::sim",
            "crate::export",
            "crate::chart",
            "crate::report",
            "crate::pipeline",
            "crate::cli",
        ],
        // Charts and the report read results, never the simulation.
        "chart" | "report" => &[
            "crate::sim",
            "crate::export",
            "crate::pipeline",
            "crate::cli",
        ],
        "export" => &["crate::pipeline", "crate::cli"],
        "pipeline" => &["crate::cli"],
        // The face calls pipelines and nothing below them.
        "cli.rs" | "cli" | "main" => &[
            "crate::sim",
            "crate::export",
            "crate::chart::render",
            "crate::report",
            "crate::results",
            "crate::metrics",
        ],
        _ => &[],
    }
}

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
    let mut bad = Vec::new();
    for (path, text) in files() {
        // Test files (`tests.rs`) drive whole pipelines on purpose.
        if path == "tidy.rs" || path.ends_with("tests.rs") {
            continue;
        }
        for f in forbidden(&path) {
            // The module itself and its tests may name the modules they check against.
            let body = text.split("#[cfg(test)]").next().unwrap_or(&text);
            if body.contains(f) {
                bad.push(format!("src/{path} uses {f}"));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_cli_stays_thin() {
    let cli = files()
        .into_iter()
        .find(|f| f.0 == "cli.rs")
        .expect("src/cli.rs")
        .1;
    let lines = cli.lines().count();
    // One arm per command and its flags; more lines mean logic crept in.
    assert!(lines <= 310, "src/cli.rs has {lines} lines");
    for call in ["sim::run", "write_folder", "render_all", "Buckets::new"] {
        assert!(!cli.contains(call), "src/cli.rs calls {call}");
    }
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
