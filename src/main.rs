//! The `otpdrift` binary: parses argv, runs the library, prints errors, sets the exit status.

use clap::Parser;
use otpdrift::cli::{main_with, Cli};

fn main() {
    let cli = Cli::parse();
    if let Err(e) = main_with(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.status());
    }
}
