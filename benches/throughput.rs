//! Throughput: raw one-time codes per second, and simulated attempts per second on one thread,
//! measured in the same run so their ratio is meaningful on a noisy machine; and the fixed cost
//! of a whole one-token run (tables, 12 charts, report, written to disk).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otpdrift::otp::{Algorithm, Keyed};
use otpdrift::scenario::Scenario;
use otpdrift::sim;
use std::hint::black_box;

fn codes(c: &mut Criterion) {
    let mut g = c.benchmark_group("codes");
    for (alg, key) in [
        (Algorithm::Sha1, &b"12345678901234567890"[..]),
        (Algorithm::Sha256, &b"12345678901234567890123456789012"[..]),
        (
            Algorithm::Sha512,
            &b"1234567890123456789012345678901234567890123456789012345678901234"[..],
        ),
    ] {
        let k = Keyed::new(alg, key);
        g.throughput(Throughput::Elements(1000));
        g.bench_function(format!("hotp_{alg}_1000"), |b| {
            b.iter(|| {
                let mut x = 0;
                for c in 0..1000u64 {
                    x ^= k.hotp(black_box(c), 6);
                }
                x
            })
        });
    }
    g.finish();
}

const FLEET: &str = r#"
[run]
name = "bench"
horizon = "365d"
tokens = 200
seed = 1
bucket = "month"

[[population]]
share = 0.7
token = { kind = "phone" }

[[population]]
share = 0.2
token = { kind = "hardware" }

[[population]]
share = 0.1
token = { kind = "desktop" }
"#;

/// A year of a 200-token mixed fleet on one thread, in both decision modes.
fn simulate(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    for (mode, name) in [
        ("exact", "mixed_fleet_one_thread_attempts"),
        ("fast", "mixed_fleet_one_thread_attempts_fast"),
    ] {
        let text = FLEET.replace("[run]\n", &format!("[run]\ndecide = \"{mode}\"\n"));
        let sc = Scenario::from_toml("bench.toml", &text).expect("valid bench scenario");
        let attempts = pool
            .install(|| sim::run(&sc, 0..sc.run.tokens, &|_| {}))
            .total_attempts();
        g.throughput(Throughput::Elements(attempts));
        g.bench_function(name, |b| {
            b.iter(|| {
                pool.install(|| sim::run(&sc, 0..sc.run.tokens, &|_| {}))
                    .total_attempts()
            })
        });
    }
    g.finish();
}

/// A sweep point against a plain run of the same setting, per simulated attempt.
fn sweep_point(c: &mut Criterion) {
    let text = format!("{FLEET}\n[sweep]\nvary = {{ \"validator.window.back\" = [1, 2], \"validator.window.ahead\" = [1, 2] }}\n");
    let base = Scenario::from_toml("bench.toml", &text).expect("valid bench sweep");
    let (_, points) =
        otpdrift::scenario::sweep::settings("bench.toml", &text, &[], &base).expect("valid points");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let attempts: u64 = pool
        .install(|| sim::run_points(&points, &|_| {}))
        .iter()
        .map(|r| r.total_attempts())
        .sum();
    let single: u64 = pool
        .install(|| sim::run(&points[0], 0..points[0].run.tokens, &|_| {}))
        .total_attempts();
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(Throughput::Elements(attempts));
    g.bench_function("four_points_one_thread_attempts", |b| {
        b.iter(|| pool.install(|| sim::run_points(&points, &|_| {})).len())
    });
    g.throughput(Throughput::Elements(single));
    g.bench_function("single_run_one_thread_attempts", |b| {
        b.iter(|| {
            pool.install(|| sim::run(&points[0], 0..points[0].run.tokens, &|_| {}))
                .total_attempts()
        })
    });
    g.finish();
}

/// A whole `run` of one token over a year on one thread: what a small run costs besides its
/// simulation (reading the scenario, the tables, 12 charts in PNG and SVG, the report, and
/// writing the folder). The goal is under 50 ms (docs/scale.md).
fn fixed_cost(c: &mut Criterion) {
    use otpdrift::pipeline::{run, Output, Silent, Source};
    let dir = std::env::temp_dir().join(format!("otpdrift-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let path = dir.join("one.toml");
    std::fs::write(&path, FLEET.replace("tokens = 200", "tokens = 1")).expect("scenario written");
    let plan = run::RunPlan::new(run::RunRequest {
        output: Output {
            out: Some(dir.join("out")),
            force: true,
        },
        threads: Some(1),
        ..run::RunRequest::new(Source::File(path))
    })
    .expect("a run plan");
    let mut g = c.benchmark_group("fixed");
    g.sample_size(20);
    g.bench_function("one_token_whole_run_one_thread", |b| {
        b.iter(|| run::execute(&plan, &Silent).expect("the run").files)
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, codes, simulate, sweep_point, fixed_cost);
criterion_main!(benches);
