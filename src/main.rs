//! The `otpdrift` binary: parses argv, runs the library, prints errors, sets the exit status.

use otpdrift::cli::{main_with, parse};
use std::io::Write;

fn main() {
    stop_cleanly_on_signals();
    let cli = parse();
    if let Err(e) = main_with(cli) {
        // A closed or full stderr is no reason to panic: the status still says it failed.
        let _ = writeln!(std::io::stderr(), "error: {e}");
        std::process::exit(e.status());
    }
}

/// SIGINT and SIGTERM undo any results folder being written (nothing half-written, an
/// earlier folder put back) and exit with 128 + the signal (130, 143).
#[cfg(unix)]
fn stop_cleanly_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            otpdrift::pipeline::abandon_in_flight();
            let _ = writeln!(std::io::stderr(), "interrupted: no results were written");
            std::process::exit(128 + sig);
        }
    });
}

#[cfg(not(unix))]
fn stop_cleanly_on_signals() {}
