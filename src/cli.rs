//! Subcommands and flags: argv -> library calls, terminal output, exit codes.

use crate::export::{self, check_writable, ExportContext, Manifest, OutputError};
use crate::metrics::Buckets;
use crate::otp::{decode_base32, format_code, totp_step, Algorithm, Keyed};
use crate::scenario::{resolved, LoadError, Override, Scenario};
use crate::sim;
use crate::time::{format_duration, format_rfc3339, parse_time_arg, Millis};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser, Debug)]
#[command(
    name = "otpdrift",
    version,
    about = "Simulate fleets of one-time-code tokens with drifting clocks against validator models"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate a scenario and write results/<name>/ (CSV and manifest).
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Results folder (default: results/<run.name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override run.seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Replace an existing results folder.
        #[arg(long)]
        force: bool,
        /// Override a scenario field, e.g. --set validator.preset=freeipa (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = Override::parse)]
        sets: Vec<Override>,
    },
    /// Validate a scenario, print it with every default filled in and estimate the work.
    Check {
        scenario: PathBuf,
        /// Override a scenario field, e.g. --set run.tokens=500 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = Override::parse)]
        sets: Vec<Override>,
    },
    /// List the validator presets with their parameters and sources.
    Presets,
    /// Run every setting of the scenario's [sweep] on the same fleet; write sweep.csv, charts
    /// and a recommendation.
    Sweep {
        scenario: PathBuf,
        /// Results folder (default: results/<run.name>).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long)]
        force: bool,
        /// Override a scenario field for every setting (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = Override::parse)]
        sets: Vec<Override>,
        /// Keep settings whose `all` row meets this, e.g. first_try_acceptance>=0.995 (repeatable).
        #[arg(long = "target", value_name = "COLUMN>=VALUE", value_parser = crate::sweep::Target::parse)]
        targets: Vec<crate::sweep::Target>,
    },
    /// Redraw the charts and report.md of a results folder from its CSV and manifest.
    Plot {
        /// A results folder written by `otpdrift run`.
        results: PathBuf,
        #[arg(long, default_value = "both", value_parser = crate::chart::Format::parse)]
        format: crate::chart::Format,
    },
    /// Print the one-time code of a secret at a time (TOTP) or counter (HOTP).
    Code {
        /// The shared secret in base32.
        #[arg(long)]
        secret: String,
        /// RFC 3339 time or Unix seconds (default: now).
        #[arg(long, conflicts_with = "counter")]
        time: Option<String>,
        /// HOTP counter instead of a time.
        #[arg(long)]
        counter: Option<u64>,
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(6..=8))]
        digits: u32,
        /// TOTP time step in seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
        step: u32,
        /// TOTP epoch T0 in Unix seconds.
        #[arg(long, default_value_t = 0)]
        t0: i64,
        #[arg(long, default_value = "sha1", value_parser = parse_algorithm)]
        algorithm: Algorithm,
    },
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    Algorithm::parse(s).ok_or_else(|| format!("expected one of {}", Algorithm::NAMES))
}

/// An error with the exit status it deserves: 2 for bad input, 1 for everything else.
#[derive(Debug)]
pub struct CliError {
    pub status: i32,
    pub message: String,
}

impl CliError {
    fn input(message: impl Into<String>) -> CliError {
        CliError {
            status: 2,
            message: message.into(),
        }
    }

    fn runtime(message: impl Into<String>) -> CliError {
        CliError {
            status: 1,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<LoadError> for CliError {
    fn from(e: LoadError) -> CliError {
        CliError::input(e.to_string())
    }
}

impl From<OutputError> for CliError {
    fn from(e: OutputError) -> CliError {
        match e {
            OutputError::Exists(_) => CliError::input(e.to_string()),
            OutputError::Io(..) => CliError::runtime(e.to_string()),
        }
    }
}

pub fn main_with(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            threads,
            force,
            sets,
        } => run(&scenario, &sets, out, seed, threads, force),
        Command::Check { scenario, sets } => check(&scenario, &sets),
        Command::Presets => {
            print!("{}", presets_text());
            Ok(())
        }
        Command::Plot { results, format } => plot(&results, format),
        Command::Sweep {
            scenario,
            out,
            threads,
            force,
            sets,
            targets,
        } => sweep(&scenario, &sets, out, threads, force, &targets),
        Command::Code {
            secret,
            time,
            counter,
            digits,
            step,
            t0,
            algorithm,
        } => {
            let key =
                decode_base32(&secret).map_err(|e| CliError::input(format!("--secret: {e}")))?;
            let keyed = Keyed::new(algorithm, &key);
            let c = match counter {
                Some(c) => c,
                None => {
                    let t = match time {
                        Some(s) => parse_time_arg(&s)
                            .map_err(|e| CliError::input(format!("--time: {e}")))?,
                        None => now_ms(),
                    };
                    let s = totp_step(t.div_euclid(1000), t0, step);
                    u64::try_from(s)
                        .map_err(|_| CliError::input("--time: before T0, there is no TOTP step"))?
                }
            };
            println!("{}", format_code(keyed.hotp(c, digits), digits));
            Ok(())
        }
    }
}

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Raw HMAC-SHA1 6-digit codes per second on this thread, over about `secs` seconds.
pub fn hmac_codes_per_second(secs: f64) -> f64 {
    let k = Keyed::new(Algorithm::Sha1, b"12345678901234567890");
    let start = Instant::now();
    let mut n = 0u64;
    let mut sink = 0u32;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..1000 {
            sink ^= k.hotp(n, 6);
            n += 1;
        }
    }
    std::hint::black_box(sink);
    n as f64 / start.elapsed().as_secs_f64()
}

fn run(
    path: &Path,
    sets: &[Override],
    out: Option<PathBuf>,
    seed: Option<u64>,
    threads: Option<usize>,
    force: bool,
) -> Result<(), CliError> {
    let (_, text, mut sc) = load(path, sets)?;
    if let Some(s) = seed {
        sc.run.seed = s;
    }
    let dir = out.unwrap_or_else(|| Path::new("results").join(&sc.run.name));
    check_writable(&dir, force)?;
    let (threads, pool) = thread_pool(threads)?;
    let bar = progress_bar(sc.run.tokens, &sc.run.name);
    let started_at = now_ms();
    let t0 = Instant::now();
    let result = pool.install(|| sim::run(&sc, 0..sc.run.tokens, &|n| bar.inc(n)));
    let wall = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let codes_per_s = hmac_codes_per_second(0.2);

    let attempts = result.total_attempts();
    let aps = attempts as f64 / wall.max(1e-9);
    let exporters = export::run_exporters();
    let manifest = Manifest {
        tool: "otpdrift",
        version: env!("CARGO_PKG_VERSION"),
        command: "run".into(),
        scenario_path: path.display().to_string(),
        scenario_sha256: sha256_hex(text.as_bytes()),
        seed: sc.run.seed,
        threads,
        shard_start: result.shard.start,
        shard_end: result.shard.end,
        fleet_tokens: sc.run.tokens,
        started_at: format_rfc3339(started_at),
        finished_at: format_rfc3339(now_ms()),
        wall_seconds: (wall * 1000.0).round() / 1000.0,
        logins: result.total_logins(),
        attempts,
        attempts_per_second: aps.round(),
        hmacs: result.hmacs,
        hmacs_per_attempt: if attempts > 0 {
            result.hmacs as f64 / attempts as f64
        } else {
            0.0
        },
        hmac_sha1_codes_per_second_one_thread: codes_per_s.round(),
        codes_per_attempt_equivalent: codes_per_s / (aps / threads as f64).max(1e-9),
        files: exporters
            .iter()
            .map(|e| e.file_name().to_string())
            .chain(
                crate::chart::Figure::ALL
                    .iter()
                    .flat_map(|f| [format!("{}.png", f.stem()), format!("{}.svg", f.stem())]),
            )
            .chain(["report.md".to_string()])
            .collect(),
    };
    let ctx = ExportContext {
        scenario: &sc,
        result: &result,
        manifest: &manifest,
    };
    let mut files = Vec::new();
    for e in &exporters {
        let bytes = e
            .render(&ctx)
            .map_err(|err| CliError::runtime(format!("rendering {}: {err}", e.file_name())))?;
        files.push((e.file_name().to_string(), bytes));
    }
    let data = crate::chart::ChartData::from_files(|name| {
        files
            .iter()
            .find(|f| f.0 == name)
            .map(|f| f.1.clone())
            .ok_or_else(|| format!("{name} was not rendered"))
    })
    .map_err(|e| CliError::runtime(format!("reading back the results: {e}")))?;
    files.extend(
        crate::chart::render_all(&data, crate::chart::Format::Both)
            .map_err(|e| CliError::runtime(format!("drawing charts: {e}")))?,
    );
    files.push((
        "report.md".into(),
        export::report::render(&data, true).into_bytes(),
    ));
    export::write_folder(&dir, force, &files)?;
    print_summary(&sc, &result);
    println!(
        "\nwrote {} ({} files) in {:.1} s: {} attempts, {:.0} attempts/s on {} thread{}",
        dir.display(),
        files.len(),
        wall,
        attempts,
        aps,
        threads,
        if threads == 1 { "" } else { "s" }
    );
    Ok(())
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.2}%", v * 100.0))
}

fn print_summary(sc: &Scenario, r: &sim::RunResult) {
    println!(
        "{} — {} tokens from {} over {}",
        sc.run.name,
        sc.run.tokens,
        format_rfc3339(sc.run.start),
        format_duration(sc.run.horizon_s)
    );
    println!(
        "{:<14} {:>8} {:>10} {:>10} {:>10} {:>9} {:>8} {:>8} {:>12}",
        "population",
        "tokens",
        "logins",
        "first-try",
        "success",
        "lockouts",
        "tickets",
        "deaths",
        "p99 offset"
    );
    let mut rows: Vec<(String, crate::metrics::PopTally)> = r
        .population_names
        .iter()
        .cloned()
        .zip(r.tally.pops.iter().cloned())
        .collect();
    if rows.len() > 1 {
        rows.push(("all".into(), r.tally.all()));
    }
    for (name, p) in rows {
        let c = &p.total;
        println!(
            "{:<14} {:>8} {:>10} {:>10} {:>10} {:>9} {:>8} {:>8} {:>12}",
            name,
            p.tokens,
            c.logins,
            pct(c.first_try_acceptance_rate()),
            pct(c.login_success_rate()),
            c.lockouts,
            c.tickets(),
            c.deaths_battery + c.deaths_expired,
            p.offsets_total
                .quantile_s(0.99)
                .map_or("-".into(), format_duration)
        );
    }
}

fn check(path: &Path, sets: &[Override]) -> Result<(), CliError> {
    let (file, text, sc) = load(path, sets)?;
    // Every setting of a sweep must be a valid scenario too.
    let points = if sc.sweep.is_empty() {
        Vec::new()
    } else {
        let text = with_sets(&text, sets)?;
        crate::sweep::scenarios(&file, &text, &sc)
            .map_err(|e| CliError::input(e.to_string()))?
            .0
    };
    let text = toml::to_string(&resolved(&sc)).map_err(|e| CliError::runtime(e.to_string()))?;
    println!(
        "# {}: valid. Resolved scenario, every default filled in:\n",
        path.display()
    );
    println!("{text}");
    let days = sc.run.horizon_s / 86_400.0;
    let buckets = Buckets::new(sc.run.bucket, sc.run.start, sc.run.end());
    println!("# Work estimate");
    println!(
        "# {:<14} {:>10} {:>14} {:>22}",
        "population", "tokens", "logins", "attempts"
    );
    let mut total = (0u64, 0.0, 0.0, 0.0);
    for (p, n) in sc.populations.iter().zip(sc.population_sizes()) {
        let logins = p.user.expected_logins(days) * n as f64;
        let most = logins * (1 + p.user.retries) as f64;
        println!(
            "# {:<14} {:>10} {:>14.0} {:>10.0} to {:>8.0}",
            p.name, n, logins, logins, most
        );
        total = (
            total.0 + n,
            total.1 + logins,
            total.2 + logins,
            total.3 + most,
        );
    }
    println!(
        "# {:<14} {:>10} {:>14.0} {:>10.0} to {:>8.0}",
        "all", total.0, total.1, total.2, total.3
    );
    println!(
        "# {} buckets of {}; results go to results/{}/",
        buckets.len(),
        match sc.run.bucket {
            crate::metrics::Bucket::Month => "a calendar month".to_string(),
            crate::metrics::Bucket::Fixed { ms } => format_duration(ms as f64 / 1000.0),
        },
        sc.run.name
    );
    if !points.is_empty() {
        println!(
            "# [sweep]: {} settings (`otpdrift sweep` runs each on this fleet, about {:.0} attempts in all):",
            points.len(),
            total.2 * points.len() as f64
        );
        for (i, p) in points.iter().enumerate() {
            println!("#   {:>3}  {}", i + 1, p.label());
        }
    }
    Ok(())
}

/// `otpdrift presets`: each preset's parameters and the source it rests on.
pub fn presets_text() -> String {
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

fn plot(dir: &Path, format: crate::chart::Format) -> Result<(), CliError> {
    let data = crate::chart::ChartData::load(dir)
        .map_err(|e| CliError::input(format!("{}: {e}", dir.display())))?;
    let mut files = crate::chart::render_all(&data, format)
        .map_err(|e| CliError::runtime(format!("drawing charts: {e}")))?;
    files.push((
        "report.md".into(),
        export::report::render(&data, format != crate::chart::Format::Svg).into_bytes(),
    ));
    for (name, bytes) in &files {
        export::write_file_atomic(&dir.join(name), bytes)?;
    }
    println!("redrew {} files in {}", files.len(), dir.display());
    Ok(())
}

/// What `otpdrift sweep` writes into manifest.json beside the resolved base scenario.
#[derive(serde::Serialize)]
struct SweepManifest {
    tool: &'static str,
    version: &'static str,
    command: &'static str,
    scenario_path: String,
    scenario_sha256: String,
    seed: u64,
    threads: usize,
    points: Vec<serde_json::Value>,
    same_fleet: bool,
    started_at: String,
    finished_at: String,
    wall_seconds: f64,
    attempts: u64,
    attempts_per_second: f64,
    hmacs: u64,
    seconds_per_point: f64,
    /// The first setting run again alone, to price a sweep point against a plain run.
    single_run_seconds: f64,
    single_run_attempts: u64,
    /// Seconds per simulated attempt in the sweep over the same in the single run: settings
    /// differ in how many attempts their users make, so the comparison is per attempt.
    point_cost_ratio_per_attempt: f64,
    targets: Vec<String>,
    recommended: Vec<usize>,
}

#[allow(clippy::too_many_arguments)]
fn sweep(
    path: &Path,
    sets: &[Override],
    out: Option<PathBuf>,
    threads: Option<usize>,
    force: bool,
    targets: &[crate::sweep::Target],
) -> Result<(), CliError> {
    use crate::sweep::{self as sw, Verdict};
    let (file, text, base) = load(path, sets)?;
    if base.sweep.is_empty() {
        return Err(CliError::input(format!(
            "{file}: there is no [sweep] part; add one, e.g.\n[sweep]\nvary = {{ \"validator.window.back\" = [1, 2, 3] }}"
        )));
    }
    let text = with_sets(&text, sets)?;
    let (points, scenarios) =
        sw::scenarios(&file, &text, &base).map_err(|e| CliError::input(e.to_string()))?;
    let dir = out.unwrap_or_else(|| Path::new("results").join(&base.run.name));
    check_writable(&dir, force)?;
    let (threads, pool) = thread_pool(threads)?;
    let same = sw::same_fleet(&scenarios);
    // Every setting simulates its whole fleet, one after another.
    let total: u64 = scenarios.iter().map(|s| s.run.tokens).sum();
    let bar = progress_bar(
        total,
        &format!("{} ({} settings)", base.run.name, points.len()),
    );
    let started_at = now_ms();
    let t0 = Instant::now();
    let results = pool.install(|| {
        if same {
            sim::run_points(&scenarios, &|n| bar.inc(n))
        } else {
            scenarios
                .iter()
                .map(|sc| sim::run(sc, 0..sc.run.tokens, &|n| bar.inc(n)))
                .collect()
        }
    });
    let wall = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let t1 = Instant::now();
    let single_attempts = pool
        .install(|| sim::run(&scenarios[0], 0..scenarios[0].run.tokens, &|_| {}))
        .total_attempts();
    let single = t1.elapsed().as_secs_f64();

    let rows = sw::rows(&points, &scenarios, &results);
    let mut params: Vec<String> = Vec::new();
    for p in &points {
        for (k, _) in &p.settings {
            if !params.contains(k) {
                params.push(k.clone());
            }
        }
    }
    let header = sw::header(&params);
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(&header)
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let mut table = Vec::new();
    for row in &rows {
        let rec = sw::record(row, &points[row.point - 1], &params);
        if row.population == "all" {
            let cells = header
                .iter()
                .zip(&rec)
                .filter_map(|(h, v)| match v.as_str() {
                    "true" => Some((h.clone(), 1.0)),
                    "false" => Some((h.clone(), 0.0)),
                    v => v.parse::<f64>().ok().map(|x| (h.clone(), x)),
                })
                .collect();
            table.push((row.point, cells));
        }
        w.write_record(&rec)
            .map_err(|e| CliError::runtime(e.to_string()))?;
    }
    let csv_bytes = w
        .into_inner()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let label = |p: usize| format!("#{p} ({})", points[p - 1].label());
    let (verdict_text, recommended) = if targets.is_empty() {
        ("No `--target` was given: every setting is listed above; the Pareto front is the short list.".to_string(), Vec::new())
    } else {
        let ts: Vec<String> = targets.iter().map(|t| format!("`{t}`")).collect();
        match sw::choose(&table, targets).map_err(CliError::input)? {
            Verdict::Met(ps) => (
                format!(
                    "Settings meeting {}, best security first (lowest attacker success, then shortest code lifetime):\n\n{}",
                    ts.join(" and "),
                    ps.iter().enumerate().map(|(i, p)| format!("{}. {}", i + 1, label(*p))).collect::<Vec<_>>().join("\n")
                ),
                ps,
            ),
            Verdict::NoneMeets { per_target, closest } => {
                let mut s = format!("No setting meets {}.\n\n", ts.join(" and "));
                for (t, n) in per_target {
                    s += &format!("- `{t}` alone: met by {n} of {} settings\n", points.len());
                }
                if let Some((p, failed)) = closest {
                    s += &format!("\nClosest: {}, which fails {}.", label(p), failed.join(" and "));
                }
                (s, Vec::new())
            }
        }
    };
    let data = crate::chart::sweep::SweepData {
        name: base.run.name.clone(),
        params: params.clone(),
        table: crate::chart::Table::parse(&csv_bytes).map_err(CliError::runtime)?,
    };
    let mut files = vec![("sweep.csv".to_string(), csv_bytes)];
    files.extend(
        crate::chart::sweep::render_sweep(&data)
            .map_err(|e| CliError::runtime(format!("drawing charts: {e}")))?,
    );
    files.push((
        "report.md".into(),
        export::report::render_sweep(&base, &data, &verdict_text).into_bytes(),
    ));
    let attempts: u64 = results.iter().map(|r| r.total_attempts()).sum();
    let cost_ratio =
        (wall / attempts.max(1) as f64) / (single / single_attempts.max(1) as f64).max(1e-15);
    let mut manifest = serde_json::to_value(SweepManifest {
        tool: "otpdrift",
        version: env!("CARGO_PKG_VERSION"),
        command: "sweep",
        scenario_path: file.clone(),
        scenario_sha256: sha256_hex(text.as_bytes()),
        seed: base.run.seed,
        threads,
        points: points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                serde_json::json!({
                    "point": i + 1,
                    "label": p.label(),
                    "settings": p.settings.iter().map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect(),
        same_fleet: same,
        started_at: format_rfc3339(started_at),
        finished_at: format_rfc3339(now_ms()),
        wall_seconds: (wall * 1000.0).round() / 1000.0,
        attempts,
        attempts_per_second: (attempts as f64 / wall.max(1e-9)).round(),
        hmacs: results.iter().map(|r| r.hmacs).sum(),
                seconds_per_point: wall / points.len() as f64,
        single_run_seconds: (single * 1000.0).round() / 1000.0,
        single_run_attempts: single_attempts,
        point_cost_ratio_per_attempt: cost_ratio,
        targets: targets.iter().map(|t| t.text.clone()).collect(),
        recommended: recommended.clone(),
    })
    .map_err(|e| CliError::runtime(e.to_string()))?;
    manifest["scenario"] = resolved(&base);
    let mut mbytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| CliError::runtime(e.to_string()))?;
    mbytes.push(b'\n');
    files.push(("manifest.json".into(), mbytes));
    export::write_folder(&dir, force, &files)?;

    println!(
        "{} — {} settings on {} tokens{}",
        base.run.name,
        points.len(),
        base.run.tokens,
        if same { " (one fleet)" } else { "" }
    );
    println!(
        "{:>4}  {:<44} {:>10} {:>12} {:>9} {:>5}",
        "#", "setting", "first-try", "attacker/yr", "lifetime", "NIST"
    );
    for (p, cells) in &table {
        let get = |c: &str| cells.iter().find(|x| x.0 == c).map(|x| x.1);
        let mut l = points[p - 1].label();
        if l.chars().count() > 44 {
            l = l.chars().take(43).collect::<String>() + "…";
        }
        println!(
            "{:>4}  {:<44} {:>10} {:>12} {:>9} {:>5}",
            p,
            l,
            pct(get("first_try_acceptance_rate")),
            get("attack_p_success_year").map_or("-".into(), |x| format!("{x:.2e}")),
            get("code_lifetime_s").map_or("-".into(), format_duration),
            if get("meets_nist_800_63b") == Some(1.0) {
                "yes"
            } else {
                "no"
            }
        );
    }
    println!("\n{}", verdict_text.replace('`', ""));
    println!(
        "\nwrote {} in {:.1} s ({:.2} s a setting): {} attempts; per attempt a sweep point cost {:.2} of a single run (setting #1 alone: {:.2} s)",
        dir.display(),
        wall,
        wall / points.len() as f64,
        attempts,
        cost_ratio,
        single
    );
    Ok(())
}

/// Reads a scenario once: its name as shown, its text, and the scenario with `--set`s applied.
fn load(path: &Path, sets: &[Override]) -> Result<(String, String, Scenario), CliError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("cannot read scenario {file}: {e}")))?;
    let sc =
        Scenario::from_toml_with(&file, &text, sets).map_err(|e| CliError::input(e.to_string()))?;
    Ok((file, text, sc))
}

/// The scenario text with the `--set`s written in, for building sweep settings from it.
fn with_sets(text: &str, sets: &[Override]) -> Result<String, CliError> {
    if sets.is_empty() {
        return Ok(text.to_string());
    }
    crate::scenario::overrides::apply(text, sets).map_err(CliError::input)
}

/// The worker pool: `--threads` or every core.
fn thread_pool(threads: Option<usize>) -> Result<(usize, rayon::ThreadPool), CliError> {
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(CliError::input("--threads: expected at least 1, found 0"));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start {threads} threads: {e}")))?;
    Ok((threads, pool))
}

/// A progress bar with an ETA on stderr, drawn only when stderr is a terminal.
fn progress_bar(len: u64, msg: &str) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} tokens ({percent}%), {elapsed} elapsed, ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b.set_message(msg.to_string());
        b
    } else {
        ProgressBar::hidden()
    }
}
