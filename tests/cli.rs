//! The one integration test binary: drives the real `otpdrift` program on scenario files written
//! the way the README documents them, and checks its files, output and exit status.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("otpdrift-it-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn otpdrift(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otpdrift"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `scenario` into a fresh folder named after `name` and runs it, with `extra` flags,
/// into its `out/`.
fn run_scenario(name: &str, scenario: &str, extra: &[&str]) -> Dir {
    let dir = Dir::new(name);
    let path = dir.write("s.toml", scenario);
    let args = [&["run", path.to_str().unwrap(), "--out", "out"][..], extra].concat();
    ok(&otpdrift(&args, &dir.0));
    dir
}

/// Rows of a CSV file as maps from column name to cell.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn row<'a>(rows: &'a [HashMap<String, String>], population: &str) -> &'a HashMap<String, String> {
    rows.iter().find(|r| r["population"] == population).unwrap()
}

fn num(r: &HashMap<String, String>, col: &str) -> f64 {
    r[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?}", r[col]))
}

/// A user who logs in uniformly in time, enters codes instantly and never mistypes or retries.
const PLAIN_USER: &str = r#"recovery = { enabled = false }
user = { logins_per_day = 10, weekdays = [1, 1, 1, 1, 1, 1, 1], hours = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], delay = "0s", typo_probability = 0, wait_probability = 0, retries = 0 }"#;

const PLAIN_VALIDATOR: &str = r#"
[validator]
window = { back = 1, ahead = 1 }
drift = "none"
replay = "none"
lockout = { max_failures = 0 }
"#;

/// Probability that a code from a clock `d` seconds off (fixed) is accepted by a window of
/// `back`/`ahead` steps, for a login time uniform within the server's step: the device step is
/// q = floor(d/X) steps ahead for a share (X - r)/X of the step and q + 1 for the rest.
fn fixed_offset_acceptance(d: f64, step: f64, back: i64, ahead: i64) -> f64 {
    let q = (d / step).floor();
    let r = d - q * step;
    let inside = |k: f64| (k as i64 >= -back && k as i64 <= ahead) as u8 as f64;
    inside(q) * (step - r) / step + inside(q + 1.0) * r / step
}

#[test]
fn fixed_offsets_give_the_closed_form_acceptance() {
    let dir = Dir::new("fixed");
    let scenario = format!(
        r#"
[run]
name = "fixed"
horizon = "30d"
tokens = 300
seed = 11
{PLAIN_VALIDATOR}
[[population]]
name = "ahead40"
share = 0.5
token = {{ kind = "hardware" }}
clock = {{ profile = "ideal", initial_offset = "40s" }}
battery = {{ enabled = false }}
{PLAIN_USER}

[[population]]
name = "behind50"
share = 0.5
token = {{ kind = "desktop" }}
clock = {{ profile = "ideal", initial_offset = "-50s" }}
{PLAIN_USER}
"#
    );
    let path = dir.write("fixed.toml", &scenario);
    ok(&otpdrift(
        &["run", path.to_str().unwrap(), "--out", "out"],
        &dir.0,
    ));
    let rows = read_csv(&dir.0.join("out/summary.csv"));
    for (pop, d) in [("ahead40", 40.0), ("behind50", -50.0)] {
        let r = row(&rows, pop);
        let want = fixed_offset_acceptance(d, 30.0, 1, 1);
        let n = num(r, "logins");
        let got = num(r, "first_try_acceptance_rate");
        let se = (want * (1.0 - want) / n).sqrt();
        assert!(n > 40_000.0, "{pop}: only {n} logins");
        assert!(
            (got - want).abs() < 4.0 * se,
            "{pop}: got {got}, closed form {want} (se {se})"
        );
        // Without retries every rejection is out of window.
        assert_eq!(num(r, "rejected_out_of_window"), n - num(r, "accepted"));
        assert_eq!(num(r, "offset_s_max"), d.abs());
    }
    assert!((fixed_offset_acceptance(40.0, 30.0, 1, 1) - 2.0 / 3.0).abs() < 1e-12);
    assert!((fixed_offset_acceptance(-50.0, 30.0, 1, 1) - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn linear_drift_gives_the_closed_form_acceptance() {
    // Offset grows as c*t from 0 to D over the horizon; the mean acceptance over uniformly
    // spread logins is the average of the fixed-offset acceptance over [0, D].
    let horizon_s = 30.0 * 86_400.0;
    let d_end = 90.0;
    let ppm = d_end / horizon_s * 1e6;
    let dir = Dir::new("drift");
    let scenario = format!(
        r#"
[run]
name = "drift"
horizon = "30d"
tokens = 300
seed = 5
{PLAIN_VALIDATOR}
[[population]]
token = {{ kind = "hardware" }}
clock = {{ profile = "ideal", drift_ppm = {ppm} }}
{PLAIN_USER}
"#
    );
    let path = dir.write("drift.toml", &scenario);
    ok(&otpdrift(
        &["run", path.to_str().unwrap(), "--out", "out"],
        &dir.0,
    ));
    let n_int = 90_000;
    let want = (0..n_int)
        .map(|i| fixed_offset_acceptance((i as f64 + 0.5) / n_int as f64 * d_end, 30.0, 1, 1))
        .sum::<f64>()
        / n_int as f64;
    assert!(
        (want - 0.5).abs() < 1e-3,
        "closed form for D = 90 s is 45/90"
    );
    let rows = read_csv(&dir.0.join("out/summary.csv"));
    let r = row(&rows, "hardware");
    let n = num(r, "logins");
    let got = num(r, "first_try_acceptance_rate");
    let se = (want * (1.0 - want) / n).sqrt();
    assert!(
        (got - want).abs() < 4.0 * se,
        "got {got}, closed form {want} (se {se}, n {n})"
    );
    let tokens = read_csv(&dir.0.join("out/tokens.csv"));
    assert!((num(&tokens[0], "final_offset_s") - d_end).abs() < 0.01);
}

#[test]
fn battery_dies_at_the_closed_form_day_for_n_codes_a_day() {
    let dir = Dir::new("battery");
    let scenario = r#"
[run]
name = "battery"
start = "2026-01-01"
horizon = "3y"
tokens = 3
bucket = "month"

[validator]
lockout = { max_failures = 0 }

[[population]]
token = { kind = "hardware" }
clock = { profile = "ideal" }
battery = { life_years = 5, life_codes = 15000 }
user = { logins_per_day = 10, schedule = "exact", weekdays = [1, 1, 1, 1, 1, 1, 1], delay = "0s", typo_probability = 0, wait_probability = 0, retries = 0 }
recovery = { enabled = false }
"#;
    let path = dir.write("battery.toml", scenario);
    ok(&otpdrift(
        &["run", path.to_str().unwrap(), "--out", "out"],
        &dir.0,
    ));
    // years/5 + codes/15000 = 1 with 10 codes a day.
    let want_days = 1.0 / (1.0 / (5.0 * 365.25) + 10.0 / 15_000.0);
    let start = 20_454.0; // 2026-01-01 in days since the epoch
    let creds = read_csv(&dir.0.join("out/tokens.csv"));
    let first: Vec<_> = creds.iter().filter(|t| t["generation"] == "0").collect();
    assert_eq!(first.len(), 3);
    for t in first {
        assert_eq!(t["death_cause"], "battery");
        let died = &t["died"];
        let (y, m, d): (i64, u32, u32) = (
            died[0..4].parse().unwrap(),
            died[5..7].parse().unwrap(),
            died[8..10].parse().unwrap(),
        );
        let day = otpdrift::time::days_from_civil(y, m, d) as f64 - start;
        assert!(
            (day - want_days).abs() <= 1.0,
            "died on day {day}, closed form {want_days:.2}"
        );
        let codes = num(t, "codes_used");
        assert!(
            (codes - 10.0 * want_days.ceil()).abs() <= 10.0,
            "codes {codes}"
        );
        // The user reported the dead token at the next login and got a replacement.
        let next = creds
            .iter()
            .find(|r| r["token"] == t["token"] && r["generation"] == "1")
            .expect("a replacement");
        assert!(
            next["born"] > t["died"],
            "{} then {}",
            t["died"],
            next["born"]
        );
        assert_eq!(next["death_cause"], "");
    }
    let rows = read_csv(&dir.0.join("out/summary.csv"));
    let all = row(&rows, "all");
    assert_eq!(num(all, "deaths_battery"), 3.0);
    assert_eq!(num(all, "tickets_replace_dead"), 3.0);
    assert!(num(all, "rejected_dead") > 0.0);
}

#[test]
fn a_battery_dying_in_the_recovery_ladder_is_a_battery_death() {
    // Every hard token is two days fast (hopeless) and its battery holds five codes. The
    // ladder (a retry, then three resyncs of two codes each) needs more than five, so each
    // battery dies during it: a battery death with its ticket, never a failing token replaced.
    let dir = run_scenario(
        "ladder-battery",
        r#"
[run]
name = "ladder"
start = "2026-01-01"
horizon = "120d"
tokens = 20
seed = 5
bucket = "month"

[validator]
preset = "privacyidea"

[[population]]
token = { kind = "hardware" }
clock = { profile = "ideal", initial_offset = "2d" }
battery = { life_years = 5, life_codes = 5 }
user = { logins_per_day = 2, typo_probability = 0, retries = 1 }
recovery = { resync_probability = 1, resync_tries = 3, replace_probability = 1, escalate_after = 1 }
"#,
        &[],
    );
    let creds = read_csv(&dir.0.join("out/tokens.csv"));
    let dead: Vec<_> = creds.iter().filter(|t| !t["died"].is_empty()).collect();
    assert!(dead.len() > 100, "{} deaths", dead.len());
    for t in &dead {
        assert_eq!(t["death_cause"], "battery", "{t:?}");
        assert_eq!(num(t, "codes_used"), 5.0, "{t:?}");
    }
    let rows = read_csv(&dir.0.join("out/summary.csv"));
    let all = row(&rows, "all");
    assert_eq!(num(all, "deaths_battery"), dead.len() as f64);
    assert_eq!(num(all, "tickets_replace_dead"), dead.len() as f64);
    assert_eq!(num(all, "tickets_replace_failing"), 0.0);
}

#[test]
fn a_reinstalled_app_keeps_its_device_clock() {
    // Desktop apps on clocks 10 minutes to an hour off, users who always reinstall: the new
    // credential runs on the same device, so it shows the same clock error (an ideal clock
    // neither drifts nor jumps), and the reinstalls go on.
    let dir = run_scenario(
        "reinstall",
        r#"
[run]
name = "reinstall"
start = "2026-01-01"
horizon = "30d"
tokens = 10
seed = 9
bucket = "7d"

[[population]]
token = { kind = "desktop" }
clock = { profile = "ideal", initial_offset = { dist = "uniform", min = "10m", max = "1h" } }
user = { logins_per_day = 2, typo_probability = 0 }
recovery = { fix_clock_probability = 0, resync_probability = 0, reset_probability = 0, reinstall_probability = 1, escalate_after = 1 }
"#,
        &[],
    );
    let creds = read_csv(&dir.0.join("out/tokens.csv"));
    let mut offsets: HashMap<&str, Vec<f64>> = HashMap::new();
    for t in &creds {
        offsets
            .entry(t["token"].as_str())
            .or_default()
            .push(num(t, "final_offset_s"));
    }
    assert_eq!(offsets.len(), 10);
    for (token, xs) in &offsets {
        assert!(xs.len() > 5, "token {token}: {} credentials", xs.len());
        assert!(xs[0].abs() >= 600.0, "token {token}: {xs:?}");
        assert!(xs.iter().all(|x| *x == xs[0]), "token {token}: {xs:?}");
    }
}

#[test]
fn a_validator_learning_seconds_reports_its_drift_in_fractional_steps() {
    // privacyIDEA learns shift = matched step * 30 - now, in seconds. A token 90 s ahead read
    // and submitted at once matches step floor((t + 90) / 30), so the shift is in (60, 90] s:
    // more than 2 and at most 3 steps, rarely whole.
    let dir = run_scenario(
        "seconds-drift",
        r#"
[run]
name = "shift"
start = "2026-01-01"
horizon = "20d"
tokens = 30
seed = 4
bucket = "7d"

[validator]
preset = "privacyidea"

[[population]]
token = { kind = "hardware" }
clock = { profile = "ideal", initial_offset = "90s" }
user = { logins_per_day = 2, delay = "0s", typo_probability = 0, wait_probability = 0 }
"#,
        &[],
    );
    let creds = read_csv(&dir.0.join("out/tokens.csv"));
    assert_eq!(creds.len(), 30);
    let mut whole = 0;
    for t in &creds {
        let shift_s = num(t, "final_drift_steps") * 30.0;
        assert!(shift_s > 60.0 && shift_s <= 90.0, "{t:?}");
        whole += (shift_s == 90.0) as u32;
    }
    assert!(whole < 10, "{whole} of 30 whole steps");
}

#[test]
fn tokens_in_service_at_the_start_are_alive_then() {
    // Ages uniform over 0-8 years against a 5-year battery: 3/8 of the draws would be dead
    // before the start. Tokens in service work, so ages are drawn conditioned on being alive
    // (uniform over 0-5 years): about 30 / (5 * 365.25) = 1.6% of 600 die in the first 30
    // days (about 10), not the 225 dead at the start.
    let dir = run_scenario(
        "in-service",
        r#"
[run]
name = "in-service"
start = "2026-01-01"
horizon = "30d"
tokens = 600
seed = 12
bucket = "month"

[[population]]
token = { kind = "hardware" }
battery = { life_years = 5, life_codes = 1e9, age_at_start = { dist = "uniform", min = "0s", max = "8y" } }
user = { logins_per_day = 1 }
"#,
        &[],
    );
    let creds = read_csv(&dir.0.join("out/tokens.csv"));
    let first: Vec<_> = creds.iter().filter(|t| t["generation"] == "0").collect();
    assert_eq!(first.len(), 600);
    // Born within five years (1,826.25 days) before the start; RFC 3339 strings order as times.
    assert!(
        first.iter().all(|t| t["born"].as_str() > "2020-12-31T18"),
        "born too early"
    );
    let early = first
        .iter()
        .filter(|t| t["born"].as_str() < "2023-07-01")
        .count();
    // Half of the conditioned ages exceed 2.5 years (binomial sd about 12).
    assert!(
        (250..350).contains(&early),
        "{early} tokens born before mid-2023"
    );
    let rows = read_csv(&dir.0.join("out/summary.csv"));
    let deaths = num(row(&rows, "all"), "deaths_battery");
    assert!((2.0..=22.0).contains(&deaths), "{deaths} deaths in 30 days");
    assert!(first
        .iter()
        .all(|t| t["died"].is_empty() || t["died"].as_str() > "2026-01-01"));
}

#[test]
fn a_throttled_user_waits_instead_of_calling_the_helpdesk() {
    // django-otp throttles (2^(n-1) s after n failures) but never locks. Desktop clocks five
    // minutes off fail every login; the throttle refuses some attempts, but no account is
    // ever locked, so no user calls the helpdesk to unlock one.
    let dir = run_scenario(
        "throttle",
        r#"
[run]
name = "throttle"
start = "2026-01-01"
horizon = "60d"
tokens = 20
seed = 8
bucket = "month"

[validator]
preset = "django-otp"

[[population]]
token = { kind = "desktop" }
clock = { profile = "ideal", initial_offset = "5m" }
user = { logins_per_day = 3, typo_probability = 0, retries = 3, retry_delay = "1s" }
recovery = { helpdesk_unlock_probability = 1, fix_clock_probability = 0, reset_probability = 0, reinstall_probability = 0 }
"#,
        &[],
    );
    let rows = read_csv(&dir.0.join("out/summary.csv"));
    let all = row(&rows, "all");
    assert!(num(all, "rejected_locked") > 100.0, "{all:?}");
    assert_eq!(num(all, "tickets_lockout"), 0.0, "{all:?}");
    assert_eq!(num(all, "logins_succeeded"), 0.0);
}

#[test]
fn nothing_is_decided_after_the_horizon() {
    // Every desktop is locked out on its first login and the helpdesk takes 400 days, far
    // past the 30-day horizon: no unlock, retry or guess may land after the end, and every
    // locked login ends abandoned within it.
    let dir = run_scenario(
        "horizon-end",
        r#"
[run]
name = "horizon"
start = "2026-01-01"
horizon = "30d"
tokens = 20
seed = 3
bucket = "7d"

[validator]
lockout = { max_failures = 3, unlock_after = "never" }

[[population]]
token = { kind = "desktop" }
clock = { profile = "ideal", initial_offset = "10m" }
user = { logins_per_day = 2 }
recovery = { helpdesk_unlock_probability = 1, helpdesk_delay = "400d", fix_clock_probability = 0, reset_probability = 0, reinstall_probability = 0 }

[attack]
guesses_per_day = 50
simulate_accounts = 20
"#,
        &["--trace", "all"],
    );
    let trace = read_csv(&dir.0.join("out/trace.csv"));
    assert!(trace.len() > 50);
    for e in &trace {
        assert!(e["time"].as_str() < "2026-01-31", "{e:?}");
    }
    let rows = read_csv(&dir.0.join("out/summary.csv"));
    let all = row(&rows, "all");
    assert_eq!(num(all, "tickets_lockout"), 20.0);
    assert_eq!(num(all, "logins_abandoned"), num(all, "logins"));
    // 50 a day for 30 days on 20 accounts: Poisson with mean 30,000 (sd 173).
    let guesses = num(all, "attack_guesses") + num(all, "attack_blocked");
    assert!((guesses - 30_000.0).abs() < 700.0, "{guesses}");
}

const SMALL_MIXED: &str = r#"
[run]
name = "mixed"
horizon = "120d"
tokens = 240
seed = 3
bucket = "7d"

[[population]]
name = "phone"
share = 0.7
token = { kind = "phone" }

[[population]]
name = "hardware"
share = 0.2
token = { kind = "hardware" }

[[population]]
name = "desktop"
share = 0.1
token = { kind = "desktop" }
user = { typo_probability = 0.05 }
"#;

#[test]
fn results_do_not_depend_on_thread_count() {
    let dir = Dir::new("threads");
    let path = dir.write("mixed.toml", SMALL_MIXED);
    let p = path.to_str().unwrap();
    ok(&otpdrift(
        &["run", p, "--out", "t1", "--threads", "1"],
        &dir.0,
    ));
    ok(&otpdrift(
        &["run", p, "--out", "t2", "--threads", "2"],
        &dir.0,
    ));
    ok(&otpdrift(
        &["run", p, "--out", "t3", "--threads", "3"],
        &dir.0,
    ));
    for f in ["summary.csv", "timeseries.csv", "tokens.csv"] {
        let a = fs::read(dir.0.join("t1").join(f)).unwrap();
        assert_eq!(
            a,
            fs::read(dir.0.join("t2").join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
        assert_eq!(
            a,
            fs::read(dir.0.join("t3").join(f)).unwrap(),
            "{f} differs between 1 and 3 threads"
        );
    }
    let rows = read_csv(&dir.0.join("t1/summary.csv"));
    assert_eq!(rows.len(), 4);
    assert_eq!(num(row(&rows, "phone"), "tokens"), 168.0);
    assert_eq!(num(row(&rows, "hardware"), "tokens"), 48.0);
    assert_eq!(num(row(&rows, "desktop"), "tokens"), 24.0);
    // The `all` row is the sum of the populations.
    for col in [
        "logins",
        "attempts",
        "accepted",
        "rejected_out_of_window",
        "rejected_typo",
        "lockouts",
    ] {
        let sum: f64 = ["phone", "hardware", "desktop"]
            .iter()
            .map(|p| num(row(&rows, p), col))
            .sum();
        assert_eq!(num(row(&rows, "all"), col), sum, "{col}");
    }
    // Every attempt is accepted or rejected for exactly one reason.
    for r in &rows {
        let rejected: f64 = [
            "rejected_out_of_window",
            "rejected_replay",
            "rejected_locked",
            "rejected_typo",
            "rejected_dead",
            "next_code_challenges",
        ]
        .iter()
        .map(|c| num(r, c))
        .sum();
        assert_eq!(num(r, "accepted") + rejected, num(r, "attempts"));
    }
    // A different seed gives a different fleet.
    ok(&otpdrift(&["run", p, "--out", "s9", "--seed", "9"], &dir.0));
    assert_ne!(
        fs::read(dir.0.join("t1/tokens.csv")).unwrap(),
        fs::read(dir.0.join("s9/tokens.csv")).unwrap()
    );
    let ts = read_csv(&dir.0.join("t1/timeseries.csv"));
    assert_eq!(
        ts.len(),
        18 * 4,
        "18 weekly buckets (the last one partial) x (3 populations + all)"
    );
    assert_eq!(ts[0]["bucket_start"], "2026-01-01T00:00:00Z");
    assert_eq!(ts.last().unwrap()["bucket_end"], "2026-05-01T00:00:00Z");
}

#[test]
fn manifest_records_scenario_hash_and_throughput() {
    let dir = Dir::new("manifest");
    let path = dir.write("mixed.toml", SMALL_MIXED);
    let out = ok(&otpdrift(
        &["run", path.to_str().unwrap(), "--out", "m"],
        &dir.0,
    ));
    assert!(out.contains("phone"), "{out}");
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.0.join("m/manifest.json")).unwrap()).unwrap();
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(SMALL_MIXED.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(m["scenario_sha256"], sha);
    assert_eq!(m["seed"], 3);
    assert_eq!(m["scenario"]["run"]["tokens"], 240);
    assert_eq!(
        m["scenario"]["population"][0]["clock"]["sync"]["interval"],
        "18h"
    );
    assert!(m["attempts_per_second"].as_f64().unwrap() > 0.0);
    assert!(m["hmac_sha1_codes_per_second_one_thread"].as_f64().unwrap() > 0.0);
    let summary = read_csv(&dir.0.join("m/summary.csv"));
    assert_eq!(
        m["attempts"].as_f64().unwrap(),
        num(row(&summary, "all"), "attempts")
    );
}

#[test]
fn existing_results_are_kept_without_force() {
    let dir = Dir::new("force");
    let path = dir.write(
        "mixed.toml",
        &SMALL_MIXED.replace("tokens = 240", "tokens = 20"),
    );
    let p = path.to_str().unwrap();
    ok(&otpdrift(&["run", p], &dir.0));
    let summary = dir.0.join("results/mixed/summary.csv");
    let before = fs::read(&summary).unwrap();
    fs::write(dir.0.join("results/mixed/note.txt"), "mine").unwrap();
    // Without --out a rerun goes to the next free folder, results/mixed-2.
    let out = ok(&otpdrift(&["run", p, "--seed", "77"], &dir.0));
    assert!(out.contains("wrote results/mixed-2 "), "{out}");
    assert_eq!(fs::read(&summary).unwrap(), before);
    fs::remove_dir_all(dir.0.join("results/mixed-2")).unwrap();
    // An explicit --out that holds results is refused without --force.
    let out = otpdrift(
        &["run", p, "--seed", "77", "--out", "results/mixed"],
        &dir.0,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pass --force"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&summary).unwrap(), before);
    assert!(dir.0.join("results/mixed/note.txt").exists());
    ok(&otpdrift(&["run", p, "--seed", "77", "--force"], &dir.0));
    assert_ne!(fs::read(&summary).unwrap(), before);
    assert!(!dir.0.join("results/mixed/note.txt").exists());
    let names: Vec<String> = fs::read_dir(dir.0.join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["mixed"], "no temporary folders are left behind");
}

#[test]
fn invalid_scenarios_exit_2_with_positions_and_write_nothing() {
    let dir = Dir::new("invalid");
    let cases: &[(&str, &[&str])] = &[
        ("[run]\ntokens = -5\n", &["bad.toml:2:10: run.tokens: expected a whole number of at least 0, found integer `-5`"]),
        ("[run\n", &["bad.toml:1:"]),
        ("[runn]\n", &["bad.toml:1:2: runn: expected a known field (one of `run`, `validator`, `population`, `attack`, `sweep`, `timeline`), found unknown field `runn`"]),
        (
            "[[population]]\ntoken = { kind = \"hardwre\" }\n",
            &["bad.toml:2:18: population[0].token.kind: expected one of hardware, phone, desktop, hotp, found \"hardwre\""],
        ),
        (
            "[[population]]\ntoken = { kind = \"phone\" }\nclock = { drift_ppm = { dist = \"normal\", mean = 0 } }\n",
            &["population[0].clock.drift_ppm.sd: expected `sd` for a normal distribution, found nothing"],
        ),
        (
            "[validator]\npreset = \"vip\"\nsync = { window = 5 }\n[[population]]\ntoken = { kind = \"desktop\" }\nrecovery = { resync_probability = 1.5 }\n",
            &[
                "bad.toml:3:19: validator.sync.window: expected a sync window of at least the validation window (10 steps), found 5 steps",
                "bad.toml:6:35: population[0].recovery.resync_probability: expected a probability from 0 to 1, found 1.5",
            ],
        ),
        (
            "[validator]\nwindow = { back = 1, ahead = 1, center = 0 }\n[[population]]\ntoken = { kind = \"phone\" }\n",
            &["bad.toml:2:33: validator.window.center: expected a known field (`back` or `ahead`), found unknown field `center`"],
        ),
        (
            "[run]\nhorizon = \"5\"\nstart = \"2026-02-30\"\n[[population]]\ntoken = { kind = \"phone\" }\nuser = { hours = [1, 2] }\n",
            &[
                "bad.toml:2:11: run.horizon: expected a duration",
                "bad.toml:3:9: run.start: expected a date (YYYY-MM-DD) or RFC 3339 time, found `2026-02-30` (not a day of the calendar)",
                "bad.toml:6:18: population[0].user.hours: expected 24 weights from 0 to 1e9",
            ],
        ),
    ];
    for (text, wants) in cases {
        let path = dir.write("bad.toml", text);
        for cmd in ["run", "check"] {
            let out = otpdrift(&[cmd, path.file_name().unwrap().to_str().unwrap()], &dir.0);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {text:?}: {err}");
            for w in *wants {
                assert!(err.contains(w), "{cmd} {text:?}: want {w:?} in\n{err}");
            }
            assert!(!dir.0.join("results").exists(), "nothing is written");
        }
    }
    let out = otpdrift(&["run", "missing.toml"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read scenario missing.toml"));
}

#[test]
fn check_prints_the_resolved_scenario_and_work_and_writes_nothing() {
    let dir = Dir::new("check");
    let path = dir.write("mixed.toml", SMALL_MIXED);
    let out = ok(&otpdrift(&["check", path.to_str().unwrap()], &dir.0));
    assert!(out.contains("threshold = \"2s\""), "{out}");
    assert!(out.contains("life_codes = 15000.0"), "{out}");
    assert!(out.contains("# Work estimate"));
    assert!(out.contains("18 buckets of 7d"), "{out}");
    assert!(!dir.0.join("results").exists());
    // The resolved scenario is itself a valid scenario.
    let resolved: String = out
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("# Work"))
        .collect::<Vec<_>>()
        .join("\n");
    let again = dir.write("resolved.toml", &resolved);
    ok(&otpdrift(&["check", again.to_str().unwrap()], &dir.0));
}

#[test]
fn code_matches_rfc_vectors_and_an_independent_implementation() {
    let dir = Dir::new("code");
    // RFC 6238 Appendix B, SHA-1 secret "12345678901234567890" in base32.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    for (t, want) in [
        ("59", "94287082"),
        ("2005-03-18T01:58:29Z", "07081804"),
        ("2009-02-13T23:31:30Z", "89005924"),
    ] {
        let out = ok(&otpdrift(
            &["code", "--secret", secret, "--time", t, "--digits", "8"],
            &dir.0,
        ));
        assert_eq!(out.trim(), want, "t = {t}");
    }
    let out = ok(&otpdrift(
        &["code", "--secret", secret, "--counter", "9"],
        &dir.0,
    ));
    assert_eq!(out.trim(), "520489");

    // Python's hmac module as the independent implementation, on pseudo-random cases.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut cases = Vec::new();
    for i in 0..24 {
        let secret: String = (0..32)
            .map(|_| alphabet[(next() % 32) as usize] as char)
            .collect();
        let t = next() % 4_000_000_000;
        let (alg, digits, step) = (
            ["sha1", "sha256", "sha512"][i % 3],
            6 + (i % 3) as u32,
            [30, 60, 15][i % 3],
        );
        let out = ok(&otpdrift(
            &[
                "code",
                "--secret",
                &secret,
                "--time",
                &t.to_string(),
                "--algorithm",
                alg,
                "--digits",
                &digits.to_string(),
                "--step",
                &step.to_string(),
            ],
            &dir.0,
        ));
        cases.push(format!("{secret} {t} {alg} {digits} {step} {}", out.trim()));
    }
    let script = r#"
import base64, hashlib, hmac, struct, sys
bad = 0
for line in sys.stdin.read().split("\n"):
    s, t, alg, digits, step, got = line.split()
    key = base64.b32decode(s)
    mac = hmac.new(key, struct.pack(">Q", int(t) // int(step)), getattr(hashlib, alg)).digest()
    o = mac[-1] & 15
    code = (struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 10 ** int(digits)
    if str(code).zfill(int(digits)) != got:
        bad += 1
        print("mismatch", line, code)
print("checked", bad)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is on the machine");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "checked 0");

    let bad = otpdrift(&["code", "--secret", "ABC1DEFG", "--time", "0"], &dir.0);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("--secret: character `1` at position 4 is not base32"));
}

#[test]
fn readme_scenarios_are_valid_and_the_fixed_offset_example_gives_two_thirds() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 3, "README has its toml examples");
    let dir = Dir::new("readme");
    let mut ran_fixed = false;
    for (i, block) in blocks.iter().enumerate() {
        let path = dir.write(&format!("b{i}.toml"), block);
        let p = path.to_str().unwrap();
        if block.contains("hardwre") {
            let out = otpdrift(&["check", p], &dir.0);
            assert_eq!(
                out.status.code(),
                Some(2),
                "the README's bad example is bad"
            );
            continue;
        }
        if !block.contains("[[population]]") {
            continue; // a fragment, such as the distribution examples
        }
        ok(&otpdrift(&["check", p], &dir.0));
        if block.contains("initial_offset = \"40s\"") {
            ok(&otpdrift(&["run", p, "--out", "fixed"], &dir.0));
            let rows = read_csv(&dir.0.join("fixed/summary.csv"));
            let r = row(&rows, "all");
            let (got, n) = (num(r, "first_try_acceptance_rate"), num(r, "logins"));
            let se = (2.0 / 9.0 / n).sqrt();
            assert!(
                (got - 2.0 / 3.0).abs() < 4.0 * se,
                "README example gives {got}"
            );
            ran_fixed = true;
        }
    }
    assert!(ran_fixed);
}

/// Runs a bundled story scenario, smaller, with extra `--set`s; returns its `all` summary row.
fn story(dir: &Dir, file: &str, out: &str, sets: &[&str]) -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/stories")
        .join(file);
    let mut args = vec!["run", path.to_str().unwrap(), "--out", out];
    for s in sets {
        args.extend(["--set", s]);
    }
    ok(&otpdrift(&args, &dir.0));
    let rows = read_csv(&dir.0.join(out).join("summary.csv"));
    row(&rows, "all").clone()
}

#[test]
fn story_time_forward_trap_needs_the_time_forward_rule() {
    let dir = Dir::new("story-trap");
    let trap = story(&dir, "time-forward-trap.toml", "tf", &["run.tokens=400"]);
    let exact = story(
        &dir,
        "time-forward-trap.toml",
        "ex",
        &["run.tokens=400", "validator.replay=\"exact_steps\""],
    );
    // Same fleet, same clock trips: only the replay rule differs (logins differ only by those
    // skipped while a user was busy recovering).
    assert!((num(&trap, "logins") / num(&exact, "logins") - 1.0).abs() < 1e-3);
    let (t, e) = (
        num(&trap, "resync_failed_replay"),
        num(&exact, "resync_failed_replay"),
    );
    assert!(
        t > 4.0 * e.max(1.0),
        "time-forward {t} vs exact steps {e} sync replays"
    );
    assert!(num(&trap, "tickets_reinstall") > num(&exact, "tickets_reinstall"));
    assert!(num(&trap, "resyncs_succeeded") > 0.0);
}

#[test]
fn story_timezone_mistakes_need_a_wide_sync_window() {
    let dir = Dir::new("story-tz");
    let wide = story(&dir, "desktop-timezone.toml", "pi", &["run.tokens=400"]);
    let narrow = story(
        &dir,
        "desktop-timezone.toml",
        "rfc",
        &["run.tokens=400", "validator.preset=rfc6238"],
    );
    // A one-hour error (120 steps) is inside privacyIDEA's 1000-step sync window only.
    assert_eq!(num(&wide, "resync_failed_outside_window"), 0.0);
    assert!(num(&narrow, "resync_failed_outside_window") > 50.0);
    assert!(num(&narrow, "tickets_reinstall") > num(&wide, "tickets_reinstall"));
}

#[test]
fn story_batteries_die_and_are_replaced() {
    let dir = Dir::new("story-battery");
    let all = story(&dir, "battery-end-of-life.toml", "b", &["run.tokens=300"]);
    assert_eq!(num(&all, "deaths_battery"), 300.0);
    assert_eq!(num(&all, "tickets_replace_dead"), 300.0);
    assert_eq!(num(&all, "credentials"), 600.0);
    let p10 = num(&all, "token_life_years_p10");
    let p50 = num(&all, "token_life_years_p50");
    assert!(3.0 < p10 && p10 < p50 && p50 < 4.6, "p10 {p10}, p50 {p50}");
    // Every month the live tokens plus the users without one make the fleet.
    let life = read_csv(&dir.0.join("b/lifetime.csv"));
    let all_rows: Vec<_> = life.iter().filter(|r| r["population"] == "all").collect();
    assert_eq!(all_rows.len(), 24);
    for r in &all_rows {
        assert_eq!(
            num(r, "tokens_alive") + num(r, "users_without_token"),
            300.0
        );
    }
    let deaths: f64 = all_rows.iter().map(|r| num(r, "deaths_battery")).sum();
    assert_eq!(deaths, 300.0);
}

#[test]
fn story_hard_tokens_need_drift_learning() {
    let dir = Dir::new("story-hard");
    let learn = story(&dir, "hard-tokens-5y.toml", "rfc", &["run.tokens=300"]);
    let fixed = story(
        &dir,
        "hard-tokens-5y.toml",
        "kc",
        &["run.tokens=300", "validator.preset=keycloak"],
    );
    assert!(
        num(&learn, "first_try_acceptance_rate") > num(&fixed, "first_try_acceptance_rate") + 0.05
    );
    assert!(
        num(&fixed, "tickets_replace_failing")
            > 10.0 * num(&learn, "tickets_replace_failing").max(1.0)
    );
}

#[test]
fn story_phones_without_automatic_time_drift_away() {
    let dir = Dir::new("story-phones");
    let off = story(
        &dir,
        "phones-auto-time-off.toml",
        "off",
        &["run.tokens=400"],
    );
    let on = story(
        &dir,
        "phones-auto-time-off.toml",
        "on",
        &[
            "run.tokens=400",
            "population.phone.clock.sync.off_rate_per_year=0",
        ],
    );
    assert!(num(&off, "offset_s_p99") > 60.0, "{}", off["offset_s_p99"]);
    assert!(num(&on, "offset_s_p99") < 5.0, "{}", on["offset_s_p99"]);
    // Drift learning follows slow drift; hand-set clocks jump out of the window.
    assert!(num(&off, "rejected_out_of_window") > 1.5 * num(&on, "rejected_out_of_window"));
    assert!(num(&off, "incidents") > 1.3 * num(&on, "incidents"));
    assert!(num(&off, "clock_fixes") > 0.0);
}

#[test]
fn set_overrides_are_checked_and_reported_against_the_flag() {
    let dir = Dir::new("set");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let p = path.to_str().unwrap();
    let out = otpdrift(&["check", p, "--set", "validator.preset=fooipa"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--set validator.preset: expected one of rfc6238, vip, vip-low, privacyidea"),
        "{err}"
    );
    let out = otpdrift(&["check", p, "--set", "population[7].share=1"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("index 7 is out of range"));
    let out = ok(&otpdrift(
        &[
            "check",
            p,
            "--set",
            "validator.preset=freeipa",
            "--set",
            "run.tokens=10",
        ],
        &dir.0,
    ));
    assert!(out.contains("preset = \"freeipa\""), "{out}");
    assert!(out.contains("tokens = 10"), "{out}");
    let out = otpdrift(&["check", p, "--set", "validator.sync.window=0"], &dir.0);
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "expected a sync window of at least the validation window (1 steps), found 0 steps"
    ));
}

#[test]
fn presets_command_lists_every_preset_with_its_source() {
    let dir = Dir::new("presets");
    let out = ok(&otpdrift(&["presets"], &dir.0));
    for name in [
        "rfc6238",
        "vip",
        "privacyidea",
        "linotp",
        "freeipa",
        "google-authenticator",
        "keycloak",
        "pam-oath",
        "django-otp",
    ] {
        assert!(out.lines().any(|l| l == name), "{name} missing");
    }
    assert_eq!(out.matches("  source: ").count(), 25);
    assert!(
        out.contains("docs/validators.md#vip"),
        "sources point into the repository"
    );
    assert!(
        out.contains("back = 6"),
        "privacyIDEA's lopsided window is shown"
    );
}

/// `presets --table`: one line per preset with the figures the attacker model and the
/// validator give, so the table cannot drift from either.
#[test]
fn presets_table_compares_every_preset_on_one_line() {
    let dir = Dir::new("presets-table");
    let out = ok(&otpdrift(&["presets", "--table"], &dir.0));
    let lines: Vec<&str> = out.lines().collect();
    let cells = |name: &str| -> Vec<String> {
        let l = lines
            .iter()
            .find(|l| l.split("  ").next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{out}"));
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    assert!(lines[0].starts_with("preset") && lines[0].ends_with("NIST 800-63B"));
    // 25 presets, the header, a blank line and the legend.
    assert_eq!(lines.len(), 28, "{out}");
    assert_eq!(
        cells("rfc6238"),
        [
            "rfc6238",
            "-1..+1",
            "-30s..+30s",
            "90s",
            "steps, every success",
            "time-forward",
            "10 -> 60m",
            "2 codes ±20",
            "meets"
        ]
    );
    // A seconds window: 40 s back opens one or two steps by where in its step the attempt
    // lands; the lifetime is a step plus both sides.
    let otplib = cells("otplib");
    assert_eq!(otplib[1..4], ["-1..+1", "-30s..+30s", "90s"]);
    assert_eq!(otplib[8], "no: failures unlimited");
    assert_eq!(
        cells("fortiauthenticator")[1..8],
        [
            "-2..+2",
            "-60s..+60s",
            "2.5m",
            "steps, every success",
            "time-forward",
            "3 -> 60s",
            "2 codes ±60, next code ±60"
        ]
    );
    assert_eq!(cells("multiotp")[6], "6 -> admin, delay 5m after 3");
    assert_eq!(cells("multiotp")[8], "no: lifetime 19.5m");
    assert_eq!(cells("speakeasy")[5], "none");
    assert_eq!(
        cells("nextcloud")[5..7],
        ["time-forward, skipped", "5 per 100s"]
    );
    assert_eq!(cells("onespan")[3], "10.5m (up to 6.01h)");
}

#[test]
fn plot_redraws_the_same_charts_and_report_from_the_csv() {
    let dir = Dir::new("plot");
    let path = dir.write("mixed.toml", SMALL_MIXED);
    ok(&otpdrift(
        &["run", path.to_str().unwrap(), "--out", "r"],
        &dir.0,
    ));
    let r = dir.0.join("r");
    let charts = [
        "acceptance",
        "rejections",
        "clock_error",
        "resync_helpdesk",
        "lifetime",
        "clock_error_histogram",
    ];
    let mut before = Vec::new();
    for c in charts {
        for ext in ["png", "svg"] {
            let bytes = fs::read(r.join(format!("{c}.{ext}"))).unwrap();
            assert!(
                bytes.len() > 5_000,
                "{c}.{ext} is only {} bytes",
                bytes.len()
            );
            before.push((format!("{c}.{ext}"), bytes));
        }
    }
    let report = fs::read_to_string(r.join("report.md")).unwrap();
    assert!(report.starts_with("# otpdrift report: mixed"));
    assert!(report.contains("| phone | 168 |"), "{report}");
    assert!(report.contains("![Login acceptance over time](acceptance.png)"));
    for (name, _) in &before {
        fs::remove_file(r.join(name)).unwrap();
    }
    fs::remove_file(r.join("report.md")).unwrap();
    let out = ok(&otpdrift(&["plot", "r"], &dir.0));
    assert!(out.contains("redrew 13 files"), "{out}");
    for (name, bytes) in &before {
        assert_eq!(
            &fs::read(r.join(name)).unwrap(),
            bytes,
            "{name} differs when redrawn from the CSV"
        );
    }
    assert_eq!(fs::read_to_string(r.join("report.md")).unwrap(), report);
    // SVG only, and a folder that is not a results folder.
    ok(&otpdrift(&["plot", "r", "--format", "svg"], &dir.0));
    let bad = otpdrift(&["plot", "."], &dir.0);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("manifest.json"));
}

const SWEEP: &str = r#"
[run]
name = "tiny-sweep"
horizon = "60d"
tokens = 60
seed = 8
bucket = "7d"

[attack]
guesses_per_day = 1000

[[population]]
name = "phone"
share = 0.5
token = { kind = "phone" }

[[population]]
name = "desk"
share = 0.5
token = { kind = "desktop" }

[[sweep]]
vary = { "validator.preset" = ["rfc6238", "keycloak"] }

[[sweep]]
vary = { "validator.window.back" = [0, 1], "validator.window.ahead" = { from = 1, to = 2 } }
"#;

#[test]
fn sweep_writes_every_setting_and_recommends_by_target() {
    let dir = Dir::new("sweep");
    let path = dir.write("s.toml", SWEEP);
    let p = path.to_str().unwrap();
    let out = ok(&otpdrift(
        &[
            "sweep",
            p,
            "--out",
            "sw",
            "--target",
            "first_try_acceptance>=0.9",
            "--target",
            "code_lifetime<=90",
        ],
        &dir.0,
    ));
    assert!(
        out.contains("tiny-sweep — 6 settings on 60 tokens (one fleet)"),
        "{out}"
    );
    let rows = read_csv(&dir.0.join("sw/sweep.csv"));
    assert_eq!(rows.len(), 6 * 3, "6 settings x (2 populations + all)");
    let all: Vec<_> = rows.iter().filter(|r| r["population"] == "all").collect();
    assert_eq!(all[0]["validator.preset"], "rfc6238");
    assert_eq!(all[2]["validator.window.back"], "0");
    assert_eq!(all[5]["validator.window.ahead"], "2");
    // The analytic attacker: rfc6238 locks after 10 failures for an hour, 240 guesses a day.
    assert_eq!(num(all[0], "attack_guesses_per_day"), 240.0);
    assert!((num(all[0], "attack_p_guess") - 3e-6).abs() < 1e-12);
    assert_eq!(all[0]["meets_nist_800_63b"], "true");
    assert_eq!(
        all[1]["meets_nist_800_63b"], "false",
        "keycloak has no lockout"
    );
    assert_eq!(num(all[5], "code_lifetime_s"), 120.0);
    // Same fleet: every setting saw the same logins (up to those skipped while recovering).
    let logins: Vec<f64> = all.iter().map(|r| num(r, "logins")).collect();
    assert!(
        logins.iter().all(|l| (l / logins[0] - 1.0).abs() < 0.01),
        "{logins:?}"
    );
    for r in &all {
        assert!(num(r, "first_try_acceptance_ci95_low") <= num(r, "first_try_acceptance_rate"));
        assert!(num(r, "first_try_acceptance_rate") <= num(r, "first_try_acceptance_ci95_high"));
    }
    // Lifetime <= 90 s leaves rfc6238, keycloak and back=0/ahead<=2 ... that also accept 90%.
    let report = fs::read_to_string(dir.0.join("sw/report.md")).unwrap();
    assert!(report.contains("## Recommendation"));
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.0.join("sw/manifest.json")).unwrap()).unwrap();
    let rec: Vec<u64> = m["recommended"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    for p in &rec {
        let r = all[(*p - 1) as usize];
        assert!(num(r, "first_try_acceptance_rate") >= 0.9 && num(r, "code_lifetime_s") <= 90.0);
    }
    let meeting = all
        .iter()
        .filter(|r| num(r, "first_try_acceptance_rate") >= 0.9 && num(r, "code_lifetime_s") <= 90.0)
        .count();
    assert_eq!(rec.len(), meeting);
    assert!(m["seconds_per_point"].as_f64().unwrap() > 0.0);
    let mut listed: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let mut written: Vec<String> = fs::read_dir(dir.0.join("sw"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(listed, written, "the manifest lists every file written");
    for f in [
        "tradeoff.png",
        "tradeoff.svg",
        "sweep_acceptance.png",
        "sweep_acceptance.svg",
    ] {
        assert!(
            fs::metadata(dir.0.join("sw").join(f)).unwrap().len() > 5_000,
            "{f}"
        );
    }
    // Targets nothing meets: say so, and which constraint binds.
    let out = ok(&otpdrift(
        &[
            "sweep",
            p,
            "--out",
            "sw2",
            "--target",
            "attack_p_year<=1e-9",
        ],
        &dir.0,
    ));
    assert!(
        out.contains("No setting meets attack_p_year<=1e-9"),
        "{out}"
    );
    assert!(out.contains("met by 0 of 6 settings"), "{out}");
}

#[test]
fn sweep_errors_are_positioned_and_exit_2() {
    let dir = Dir::new("sweep-bad");
    let bad = SWEEP.replace(
        "\"validator.window.ahead\" = { from = 1, to = 2 }",
        "\"validator.window.ahead\" = { from = 3, to = 2 }",
    );
    let path = dir.write("s.toml", &bad);
    let out = otpdrift(&["sweep", path.to_str().unwrap()], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sweep[1].vary.validator.window.ahead: expected from <= to"),
        "{err}"
    );
    let bad = SWEEP.replace("[\"rfc6238\", \"keycloak\"]", "[\"rfc6238\", \"fooipa\"]");
    let path = dir.write("s.toml", &bad);
    let out = otpdrift(&["sweep", path.to_str().unwrap()], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("s.toml:23:43: validator.preset: expected one of rfc6238"),
        "{err}"
    );
    assert!(err.contains("(sweep point 2: preset=fooipa)"), "{err}");
    let path = dir.write(
        "plain.toml",
        "[[population]]\ntoken = { kind = \"phone\" }\n",
    );
    let out = otpdrift(&["sweep", path.to_str().unwrap()], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no [sweep] part"));
    let out = otpdrift(
        &["sweep", "s.toml", "--target", "first_try_acceptance~1"],
        &dir.0,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_lists_and_validates_sweep_settings() {
    let dir = Dir::new("check-sweep");
    let path = dir.write("s.toml", SWEEP);
    let out = ok(&otpdrift(&["check", path.to_str().unwrap()], &dir.0));
    assert!(out.contains("# [sweep]: 6 settings"), "{out}");
    assert!(out.contains("#     6  back=1, ahead=2"), "{out}");
    let bad = dir.write(
        "bad.toml",
        &SWEEP.replace("[\"rfc6238\", \"keycloak\"]", "[\"rfc6238\", \"nope\"]"),
    );
    let out = otpdrift(&["check", bad.to_str().unwrap()], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "nothing is printed for an invalid sweep"
    );
}

#[test]
fn a_trace_replays_to_the_runs_decisions_under_every_preset() {
    let dir = Dir::new("trace");
    let path = dir.write("mixed.toml", SMALL_MIXED);
    for preset in [
        "rfc6238",
        "privacyidea",
        "google-authenticator",
        "rsa",
        "linotp",
    ] {
        let set = format!("validator.preset={preset}");
        ok(&otpdrift(
            &[
                "run",
                path.to_str().unwrap(),
                "--out",
                "t",
                "--force",
                "--trace",
                "all",
                "--set",
                &set,
            ],
            &dir.0,
        ));
        let out = otpdrift(
            &[
                "replay",
                "t/trace.csv",
                "--secrets",
                "t/trace-secrets.csv",
                "--validator",
                "t/trace-validator.toml",
                "--out",
                "d.csv",
                "--force",
            ],
            &dir.0,
        );
        ok(&out);
        let decisions = read_csv(&dir.0.join("d.csv"));
        let trace = read_csv(&dir.0.join("t/trace.csv"));
        assert_eq!(decisions.len(), trace.len());
        assert!(decisions.len() > 1000, "{preset}: {}", decisions.len());
        for (d, t) in decisions.iter().zip(&trace) {
            assert_eq!(d["verdict"], t["expected"], "{preset}: {d:?}");
        }
        let rejected = decisions
            .iter()
            .filter(|d| d["verdict"] == "reject")
            .count();
        assert!(
            rejected > 10,
            "{preset}: a trace with rejections ({rejected})"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!(
                "{0} of {0} decisions match `expected`",
                trace.len()
            )),
            "{preset}: {err}"
        );
    }
}

#[test]
fn replay_decides_a_hand_written_log() {
    // RFC 6238's SHA-1 secret; its codes at Unix time 59 and 1111111109 (Appendix B, 6 digits).
    let dir = Dir::new("replay");
    dir.write(
        "secrets.csv",
        "credential,secret\nrfc,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
    );
    dir.write(
        "log.csv",
        "credential,time,action,code,code2,expected,note\n\
         rfc,59,verify,287082,,accept,RFC 6238 vector at T=59\n\
         rfc,60,verify,287082,,reject,time-forward: the same step again\n\
         rfc,1970-01-01T00:01:30Z,verify,000000,,reject,a wrong code\n\
         rfc,1111111109,verify,081804,,accept,RFC 6238 vector at T=1111111109\n\
         rfc,1111111109,enrol,,,accept,\n\
         rfc,1111111110,verify,081804,,accept,a new enrolment forgets the last step\n",
    );
    let out = otpdrift(
        &[
            "replay",
            "log.csv",
            "--secrets",
            "secrets.csv",
            "--preset",
            "rfc6238",
        ],
        &dir.0,
    );
    let csv = ok(&out);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (&r[col("verdict")], &r[col("reason")]))
        .collect();
    assert_eq!(
        got,
        [
            ("accept", "ok"),
            ("reject", "replay"),
            ("reject", "no_match"),
            ("accept", "ok"),
            ("accept", "enrolled"),
            ("accept", "ok"),
        ]
    );
    // The replay and the wrong code both count as failures.
    assert_eq!(&rows[2][col("failures")], "2");
    assert!(String::from_utf8_lossy(&out.stderr).contains("6 of 6 decisions match `expected`"));

    // Bad input: exit 2, file:line and the column.
    let cases: &[(&str, &str, &str)] = &[
        (
            "credential,time,action,code\nrfc,yesterday,verify,123456\n",
            "secrets.csv",
            "log.csv:2:2: column `time`: expected an RFC 3339 time or Unix seconds, found `yesterday`",
        ),
        (
            "credential,when,action,code\n",
            "secrets.csv",
            "log.csv:1: expected a column `time`, found the columns credential, when, action, code",
        ),
        (
            "credential,time,action,code\nnobody,1,verify,123456\n",
            "secrets.csv",
            "log.csv:2: credential `nobody` has no secret in the secrets file",
        ),
        (
            "credential,time,action,code\nrfc,1,login,123456\n",
            "secrets.csv",
            "log.csv:2: column `action`: expected verify, sync, unlock or enrol, found `login`",
        ),
        (
            "credential,time,action,code\nrfc,1,sync,123456\n",
            "secrets.csv",
            "log.csv:2: a sync row needs `code` and `code2`",
        ),
        (
            "credential,time,action,code\n",
            "bad-secrets.csv",
            "bad-secrets.csv:2: column `secret`: character `1` at position 1 is not base32 (A-Z, 2-7)",
        ),
    ];
    dir.write("bad-secrets.csv", "credential,secret\nrfc,1234\n");
    for (log, secrets, want) in cases {
        dir.write("log.csv", log);
        let out = otpdrift(&["replay", "log.csv", "--secrets", secrets], &dir.0);
        assert_eq!(out.status.code(), Some(2), "{log}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "want {want:?} in {err}");
    }
}

#[test]
fn a_pskc_key_container_from_rfc_6030_supplies_the_secrets() {
    // RFC 6030 Figure 2: HOTP key 12345678 with the RFC 4226 secret, 8 digits, counter 0.
    // Its codes are RFC 4226 Appendix D's truncated values mod 10^8.
    let dir = Dir::new("pskc");
    let pskc = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rfc6030-figure2.pskcxml");
    dir.write(
        "log.csv",
        "credential,time,action,code,expected\n\
         12345678,1,verify,84755224,accept\n\
         12345678,2,verify,84755224,reject\n\
         12345678,3,verify,94287082,accept\n\
         12345678,4,verify,37359152,accept\n",
    );
    let out = otpdrift(
        &["replay", "log.csv", "--secrets", pskc.to_str().unwrap()],
        &dir.0,
    );
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("4 of 4 decisions match `expected`"), "{err}");
    // An encrypted container is refused with its position.
    dir.write(
        "enc.xml",
        "<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">\n<KeyPackage>\n<Key Id=\"k1\" Algorithm=\"urn:ietf:params:xml:ns:keyprov:pskc:totp\">\n<Data><Secret><EncryptedValue/></Secret></Data>\n</Key>\n</KeyPackage>\n</KeyContainer>\n",
    );
    let out = otpdrift(&["replay", "log.csv", "--secrets", "enc.xml"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("enc.xml:3: key `k1`: the secret is encrypted"),
        "{err}"
    );
}

#[test]
fn a_pskc_totp_key_keeps_epoch_zero_and_starts_from_its_time_drift() {
    // RFC 6238's SHA-1 key, 8 digits. `Time` is the token's clock at export in intervals
    // (RFC 6030 s4.3.4), not the TOTP epoch: T1 still shows RFC 6238's 07081804 at
    // 1111111109. T2's server had learned a drift of +2 steps: its window is centred two steps
    // ahead, so the code of now's step is refused and the code two steps on is accepted.
    let dir = Dir::new("pskc-totp");
    let key = |id: &str, data: &str| {
        format!(
            "<Key Id=\"{id}\" Algorithm=\"urn:ietf:params:xml:ns:keyprov:pskc:totp\">\n\
             <AlgorithmParameters><ResponseFormat Length=\"8\" Encoding=\"DECIMAL\"/></AlgorithmParameters>\n\
             <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>{data}</Data>\n</Key>\n"
        )
    };
    let container = |keys: String| {
        format!("<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">\n<KeyPackage>\n{keys}</KeyPackage>\n</KeyContainer>\n")
    };
    dir.write(
        "keys.xml",
        &container(
            key(
                "T1",
                "<Time><PlainValue>37037036</PlainValue></Time><TimeInterval><PlainValue>30</PlainValue></TimeInterval>",
            ) + &key("T2", "<TimeDrift><PlainValue>2</PlainValue></TimeDrift>"),
        ),
    );
    dir.write(
        "log.csv",
        "credential,time,action,code,expected\n\
         T1,1111111109,verify,07081804,accept\n\
         T2,1111111109,verify,07081804,reject\n\
         T2,1111111110,verify,44266759,accept\n",
    );
    let out = otpdrift(&["replay", "log.csv", "--secrets", "keys.xml"], &dir.0);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 of 3 decisions match `expected`"), "{err}");
    // Codes other than decimal digits are not decided, and a negative counter is refused.
    dir.write(
        "hex.xml",
        &container(key("H", "").replace("DECIMAL", "HEXADECIMAL")),
    );
    let out = otpdrift(&["replay", "log.csv", "--secrets", "hex.xml"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only DECIMAL codes"));
    dir.write(
        "neg.xml",
        &container(key("N", "<Counter><PlainValue>-1</PlainValue></Counter>")),
    );
    let out = otpdrift(&["replay", "log.csv", "--secrets", "neg.xml"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Counter -1 is negative"));
}

#[cfg(unix)]
#[test]
fn sigint_and_sigterm_leave_no_temporary_folder_and_keep_earlier_results() {
    let dir = Dir::new("signals");
    let long = SMALL_MIXED
        .replace("tokens = 240", "tokens = 20000")
        .replace("horizon = \"120d\"", "horizon = \"5y\"");
    let path = dir.write("long.toml", &long);
    let p = path.to_str().unwrap();
    // An earlier result in the folder the interrupted runs were asked to replace.
    fs::create_dir_all(dir.0.join("r")).unwrap();
    fs::write(dir.0.join("r/summary.csv"), "earlier").unwrap();
    fs::write(dir.0.join("r/manifest.json"), "{}").unwrap();
    for (signal, status) in [("-INT", 130), ("-TERM", 143)] {
        let child = Command::new(env!("CARGO_BIN_EXE_otpdrift"))
            .args(["run", p, "--out", "r", "--force"])
            .current_dir(&dir.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(status), "{signal}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
        assert_eq!(
            fs::read_to_string(dir.0.join("r/summary.csv")).unwrap(),
            "earlier"
        );
        let mut names: Vec<String> = fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["long.toml", "r"],
            "{signal}: no temporary folder is left"
        );
    }
}

#[test]
fn a_run_from_its_manifest_reproduces_the_csv_byte_for_byte() {
    let dir = Dir::new("from-manifest");
    let path = dir.write("mixed.toml", SMALL_MIXED);
    ok(&otpdrift(
        &["run", path.to_str().unwrap(), "--out", "a", "--seed", "11"],
        &dir.0,
    ));
    ok(&otpdrift(
        &["run", "--from-manifest", "a/manifest.json", "--out", "b"],
        &dir.0,
    ));
    for f in [
        "summary.csv",
        "timeseries.csv",
        "lifetime.csv",
        "tokens.csv",
        "acceptance.png",
        "report.md",
    ] {
        assert_eq!(
            fs::read(dir.0.join("a").join(f)).unwrap(),
            fs::read(dir.0.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    let out = otpdrift(&["run", "--from-manifest", "missing.json"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    // A shard's manifest reruns that shard, not the whole fleet.
    ok(&otpdrift(
        &[
            "run",
            path.to_str().unwrap(),
            "--shard",
            "2/4",
            "--out",
            "s",
        ],
        &dir.0,
    ));
    ok(&otpdrift(
        &["run", "--from-manifest", "s/manifest.json", "--out", "s2"],
        &dir.0,
    ));
    assert_eq!(
        fs::read(dir.0.join("s/tokens.csv")).unwrap(),
        fs::read(dir.0.join("s2/tokens.csv")).unwrap()
    );
    // A manifest of other random streams would not reproduce: refused, as is a sweep's.
    let text = fs::read_to_string(dir.0.join("a/manifest.json")).unwrap();
    let streams = otpdrift::rng::STREAMS;
    let old = text.replacen(
        &format!("\"random_streams\": {streams}"),
        &format!("\"random_streams\": {}", streams - 1),
        1,
    );
    assert_ne!(old, text, "the manifest records its generation");
    dir.write("old.json", &old);
    let out = otpdrift(&["run", "--from-manifest", "old.json"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("random-stream generation {}", streams - 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sweep = text.replacen("\"command\": \"run\"", "\"command\": \"sweep\"", 1);
    dir.write("sweep.json", &sweep);
    let out = otpdrift(&["run", "--from-manifest", "sweep.json"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_estimates_output_and_memory_and_run_refuses_what_would_not_fit() {
    let dir = Dir::new("footprint");
    // Memory grows with buckets and populations, not tokens (records are streamed): 64
    // populations of hourly buckets over 11 years need about 67 GB of counters, and their
    // aggregates.json alone is about 6.8 GB of the results.
    let mut text =
        "[run]\nname = \"huge\"\nhorizon = \"11y\"\ntokens = 6400\nbucket = \"1h\"\n".to_string();
    for i in 0..64 {
        text += &format!(
            "[[population]]\nname = \"p{i}\"\nshare = 0.015625\ntoken = {{ kind = \"phone\" }}\n"
        );
    }
    let path = dir.write("huge.toml", &text);
    let p = path.to_str().unwrap();
    let out = ok(&otpdrift(&["check", p], &dir.0));
    // 67.0 GB on 2 threads: one set of counters per thread and one more.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let want = match threads {
        2 => "67.0 GB of memory on 2 threads".to_string(),
        n => format!("of memory on {n} thread"),
    };
    assert!(
        out.contains("# about 8.4 GB of results and") && out.contains(&want),
        "{out}"
    );
    if !Path::new("/proc/meminfo").exists() {
        return; // this machine does not say how much memory it has: run would try
    }
    let out = otpdrift(&["run", p], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --yes to run it anyway"));
    assert!(!dir.0.join("results").exists(), "nothing was written");
}

#[test]
fn messages_say_what_is_wrong_and_where() {
    let dir = Dir::new("messages");
    let cases: &[(&[u8], &str)] = &[
        (
            b"[run]\nname = \"caf\xe9\"\n",
            "bad.toml:2:12: expected UTF-8 text, found the byte 0xe9",
        ),
        (
            b"[[run]]\nname = \"x\"\n[[population]]\ntoken = { kind = \"phone\" }\n",
            "bad.toml:1:3: run: expected one [run] table, found [[run]] tables (an array)",
        ),
        (
            b"[run]\nstart = 2026-03-01\nhorizon = \"1y\"\n[[population]]\ntoken = { kind = \"phone\" }\nuser = { weekdays = [0, 0, 0, 0, 0, 0, 0] }\n",
            "population[0].user.weekdays: expected 7 weights from 0 to 1e9 (Monday to Sunday) with a positive sum, found all zero: no time left for logins",
        ),
        (
            b"[[population]]\ntoken = { kind = \"phone\" }\nuser = { delay = { dist = \"lognormal\", median = \"7s\", sigma = -1 } }\n",
            "population[0].user.delay.sigma: expected a sigma of at least 0 (the spread of the logarithm), found -1",
        ),
        (
            b"[[population]]\nname = \"a,b\"\ntoken = { kind = \"phone\" }\n",
            "population[0].name: expected a name of up to 40 letters",
        ),
        (
            b"[validator]\nwindow = 3\n[[population]]\ntoken = { kind = \"phone\" }\n",
            "validator.window: expected a table, found integer `3`",
        ),
    ];
    for (text, want) in cases {
        fs::write(dir.0.join("bad.toml"), text).unwrap();
        let out = otpdrift(&["check", "bad.toml"], &dir.0);
        assert_eq!(out.status.code(), Some(2), "{want}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "want {want:?} in\n{err}");
    }
    let out = otpdrift(&["code", "--secret", "A"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the secret is shorter than one byte"));
    let out = otpdrift(&["presets"], &dir.0);
    assert!(ok(&out).contains("vip-low"));
}

/// Every file under `root` with its bytes, by relative path.
fn snapshot(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &p, out);
            } else {
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            fs::copy(&p, &dest).unwrap();
        }
    }
}

/// `tests/invalid/catalogue.toml`: invalid scenarios, flags, results folders and logs, each
/// with its exact message and exit status. Every case must leave its folder byte for byte as
/// it was (nothing written, nothing lost) and must not panic. `OTPDRIFT_BLESS=1` writes the
/// messages the program gives now to `target/catalogue.blessed.toml` for review.
#[test]
fn invalid_input_catalogue() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/catalogue.toml");
    let source = fs::read_to_string(&path).unwrap();
    let doc: toml::Table = source.parse().unwrap();
    let cases = doc["case"].as_array().unwrap();
    assert!(cases.len() >= 100, "{} cases", cases.len());

    // A small good results folder, a trace and its secrets for the cases that damage them.
    let fixtures = Dir::new("catalogue-fixtures");
    fixtures.write("tiny.toml", "[run]\nname = \"tiny\"\nhorizon = \"20d\"\ntokens = 12\nbucket = \"week\"\n[[population]]\ntoken = { kind = \"hardware\" }\n");
    ok(&otpdrift(
        &["run", "tiny.toml", "--out", "good", "--trace", "3"],
        &fixtures.0,
    ));

    let dir = Dir::new("catalogue");
    let mut blessed = source.clone();
    let mut cursor = 0;
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        assert!(names.insert(name), "two cases named {name:?}");
        let root = dir.0.join("case");
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        if case.get("results").and_then(|v| v.as_bool()) == Some(true) {
            copy_tree(&fixtures.0.join("good"), &root.join("good"));
        }
        if let Some(files) = case.get("files").and_then(|f| f.as_table()) {
            for (f, text) in files {
                let p = root.join(f);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(p, text.as_str().unwrap()).unwrap();
            }
        }
        if let Some(edits) = case.get("replace").and_then(|f| f.as_array()) {
            for e in edits {
                let e = e.as_array().unwrap();
                let (f, from, to) = (
                    e[0].as_str().unwrap(),
                    e[1].as_str().unwrap(),
                    e[2].as_str().unwrap(),
                );
                let p = root.join(f);
                let text = fs::read_to_string(&p).unwrap();
                assert!(text.contains(from), "{name}: {f} has no {from:?}");
                fs::write(&p, text.replacen(from, to, 1)).unwrap();
            }
        }
        if let Some(heads) = case.get("head").and_then(|f| f.as_array()) {
            for h in heads {
                let h = h.as_array().unwrap();
                let p = root.join(h[0].as_str().unwrap());
                let text = fs::read_to_string(&p).unwrap();
                let n = h[1].as_integer().unwrap() as usize;
                let kept: String = text.split_inclusive('\n').take(n).collect();
                fs::write(&p, kept).unwrap();
            }
        }
        if let Some(gone) = case.get("remove").and_then(|f| f.as_array()) {
            for f in gone {
                fs::remove_file(root.join(f.as_str().unwrap())).unwrap();
            }
        }
        let args: Vec<&str> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let before = snapshot(&root);
        let out = otpdrift(&args, &root);
        let after = snapshot(&root);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let want_exit = case["exit"].as_integer().unwrap() as i32;
        // The one machine-dependent message: the --threads limit names the cores.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let machine = |s: &str| {
            s.replace("{cores}", &cores.to_string())
                .replace("{most}", &(cores * 4).max(64).to_string())
        };
        let want = case["stderr"].as_str().unwrap();
        let err_general = err.replace(
            &machine("1 to {most} (this machine has {cores} cores)"),
            "1 to {most} (this machine has {cores} cores)",
        );
        let old = format!("stderr = '''\n{want}'''");
        if let Some(i) = blessed[cursor..].find(&old).map(|i| i + cursor) {
            let new = format!("stderr = '''\n{err_general}'''");
            blessed.replace_range(i..i + old.len(), &new);
            cursor = i + new.len();
        }
        if out.status.code() != Some(want_exit) || err != machine(want) {
            failures.push(format!(
                "{name}: `otpdrift {}` exit {:?} (want {want_exit})\n--- got\n{err}--- want\n{want}",
                args.join(" "),
                out.status.code()
            ));
        }
        if before != after {
            let changed: Vec<&String> = before
                .keys()
                .chain(after.keys())
                .filter(|k| before.get(*k) != after.get(*k))
                .collect();
            failures.push(format!("{name}: files changed: {changed:?}"));
        }
        if !out.stdout.is_empty() {
            failures.push(format!(
                "{name}: wrote to stdout: {}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
    }
    if std::env::var_os("OTPDRIFT_BLESS").is_some() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/catalogue.blessed.toml");
        fs::write(p, blessed).unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// The true piecewise-linear offsets of each traced credential (the lab fleet's clocks are
/// ideal but for a constant drift and steps): per credential, its true ppm over its final
/// segment, the last true (time, offset), and the times of true jumps of at least `jump` s.
/// A credential's truth: ppm over its final segment, its last (time, offset), its jumps.
type Truth = (f64, (f64, f64), Vec<(f64, f64)>);

fn true_clocks(trace: &Path, jump: f64) -> HashMap<String, Truth> {
    let mut rows: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    for r in read_csv(trace) {
        if !r["true_offset_s"].is_empty() {
            let t = otpdrift::time::parse_rfc3339(&r["time"]).unwrap() as f64 / 1000.0;
            rows.entry(r["credential"].clone())
                .or_default()
                .push((t, r["true_offset_s"].parse().unwrap()));
        }
    }
    let mut out = HashMap::new();
    for (c, mut v) in rows {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let steady = |p: (f64, f64), q: (f64, f64)| (q.1 - p.1).abs() <= 1.0 + 3e-5 * (q.0 - p.0);
        let mut first = v.len() - 1;
        while first > 0 && steady(v[first - 1], v[first]) {
            first -= 1;
        }
        let (a, b) = (v[first], v[v.len() - 1]);
        let jumps = v
            .windows(2)
            .filter(|w| (w[1].1 - w[0].1).abs() >= jump)
            .map(|w| (w[0].0, w[1].0))
            .collect();
        if b.0 - a.0 > 5.0 * 86_400.0 {
            out.insert(c, ((b.1 - a.1) / (b.0 - a.0) * 1e6, b, jumps));
        }
    }
    out
}

#[test]
fn analyze_recovers_a_simulated_fleets_drift_steps_and_exits_and_fits_a_scenario() {
    let dir = Dir::new("analyze-roundtrip");
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/drift-lab.toml");
    ok(&otpdrift(
        &[
            "run",
            lab.to_str().unwrap(),
            "--trace",
            "all",
            "--out",
            "lab",
        ],
        &dir.0,
    ));
    // The default --delay (5.5 s) is the one that centres the simulator's default users.
    let text = ok(&otpdrift(
        &[
            "analyze",
            "lab",
            "--out",
            "an",
            "--emit-scenario",
            "fitted.toml",
        ],
        &dir.0,
    ));
    assert!(text.contains("analysed 503 credentials"), "{text}");
    let truth = true_clocks(&dir.0.join("lab/trace.csv"), 90.0);
    let est: HashMap<String, HashMap<String, String>> = read_csv(&dir.0.join("an/drift.csv"))
        .into_iter()
        .map(|r| (r["credential"].clone(), r))
        .collect();
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.0.join("an/manifest.json")).unwrap()).unwrap();
    let edges = (
        manifest["edges_s"][0].as_f64().unwrap(),
        manifest["edges_s"][1].as_f64().unwrap(),
    );
    let (mut n, mut inside, mut exits, mut exits_inside) = (0, 0, 0, 0);
    for (c, (ppm, (t_last, off_last), _)) in &truth {
        let e = &est[c];
        if e["ppm_from"] != "current" {
            continue;
        }
        n += 1;
        let (lo, hi) = (num(e, "ppm_ci95_low"), num(e, "ppm_ci95_high"));
        inside += usize::from(lo <= *ppm && *ppm <= hi);
        if e["status"] == "leaving" {
            let b = ppm * 1e-6;
            let t = t_last + ((if b > 0.0 { edges.1 } else { edges.0 }) - off_last) / b;
            let at = |col: &str| {
                otpdrift::time::parse_rfc3339(&e[col]).map_or(f64::INFINITY, |x| x as f64 / 1000.0)
            };
            exits += 1;
            exits_inside += usize::from(at("exit_ci95_early") <= t && t <= at("exit_ci95_late"));
        }
    }
    assert!(n > 350, "{n} credentials with a slope");
    // Calibrated 95% intervals cover the truth 95% of the time, give or take sampling error:
    // at least 95% less three binomial standard errors.
    let floor = 0.95 - 3.0 * (0.95f64 * 0.05 / n as f64).sqrt();
    assert!(
        inside as f64 >= floor * n as f64,
        "true ppm inside the 95% interval for {inside} of {n} (floor {floor})"
    );
    assert!(exits > 50, "{exits} exits");
    assert!(
        exits_inside as f64 >= 0.9 * exits as f64,
        "true exit inside its interval for {exits_inside} of {exits}"
    );

    // Steps of 90 s or more: each found, between the observations that bracket it.
    let steps = read_csv(&dir.0.join("an/steps.csv"));
    let (mut jumps, mut found) = (0, 0);
    for (c, (_, _, js)) in &truth {
        for (before, after) in js {
            jumps += 1;
            found += usize::from(steps.iter().any(|s| {
                let t = |col: &str| otpdrift::time::parse_rfc3339(&s[col]).unwrap() as f64 / 1000.0;
                &s["credential"] == c
                    && t("not_before") <= *before + 1.0
                    && t("not_after") >= *after - 1.0
            }));
        }
    }
    assert!(jumps > 100, "{jumps} true steps");
    // The figures README.md quotes ("Checked against the truth").
    eprintln!(
        "drift-lab: ppm inside its 95% interval for {inside} of {n}, exit for {exits_inside} of {exits}, steps found {found} of {jumps}"
    );
    assert!(
        found as f64 >= 0.9 * jumps as f64,
        "{found} of {jumps} steps found"
    );

    // The fitted scenario runs, and its fleet drifts like the log's.
    ok(&otpdrift(&["check", "fitted.toml"], &dir.0));
    ok(&otpdrift(
        &["run", "fitted.toml", "--trace", "all", "--out", "again"],
        &dir.0,
    ));
    ok(&otpdrift(&["analyze", "again", "--out", "an2"], &dir.0));
    let f1 = read_csv(&dir.0.join("an/fleet.csv"));
    let f2 = read_csv(&dir.0.join("an2/fleet.csv"));
    let (a, b) = (row(&f1, "all"), row(&f2, "all"));
    for col in ["ppm_p10", "ppm_p50", "ppm_p90", "ppm_sd"] {
        assert!(
            (num(a, col) - num(b, col)).abs() < 1.5,
            "{col}: {} vs {}",
            a[col],
            b[col]
        );
    }
    assert!(
        (num(a, "steps_per_year") - num(b, "steps_per_year")).abs() < 0.35,
        "{} vs {}",
        a["steps_per_year"],
        b["steps_per_year"]
    );
}

#[test]
fn analyze_skips_bad_rows_with_reasons_and_fails_only_when_nothing_is_left() {
    let dir = Dir::new("analyze-bad");
    let mut log = String::from("serial,ts,shift,population\n");
    for d in 0..40 {
        // 4 ppm from +3 s, as privacyIDEA's timeShift (the matched step's start minus now).
        let t = 1_767_225_600 + d * 86_400 + (d * d * 977 + 13 * d) % 86_400;
        let off = 3.0 + 4e-6 * (t - 1_767_225_600) as f64;
        // The request reaches the server 3-7 s after the code is read.
        let server = t as f64 + 3.0 + (d % 5) as f64;
        let shift = ((t as f64 + off) / 30.0).floor() * 30.0 - server.round();
        log.push_str(&format!("HW1,{t},{shift},lab\n"));
    }
    log.push_str("HW1,yesterday,0,lab\nHW1,1767225600,abc,lab\nHW1,1767225600,,lab\n");
    dir.write("log.csv", &log);
    let out = otpdrift(
        &[
            "analyze",
            "log.csv",
            "--column",
            "credential=serial",
            "--column",
            "time=ts",
            "--column",
            "shift_s=shift",
            "--delay",
            "5s",
            "--out",
            "r",
        ],
        &dir.0,
    );
    let text = ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped 1 rows: unparseable time (first at log.csv:42:2: expected an RFC 3339 time or Unix seconds, found `yesterday`)"), "{err}");
    assert!(
        err.contains("skipped 1 rows: unparseable offset (first at log.csv:43:3"),
        "{err}"
    );
    assert!(err.contains("skipped 1 rows: empty offset"), "{err}");
    assert!(
        text.contains("analysed 1 credential from 43 rows (40 used)"),
        "{text}"
    );
    let r = &read_csv(&dir.0.join("r/drift.csv"))[0];
    let (lo, hi) = (num(r, "ppm_ci95_low"), num(r, "ppm_ci95_high"));
    assert!(lo <= 4.0 && 4.0 <= hi && hi - lo < 8.0, "{lo}..{hi}");
    assert_eq!(r["population"], "lab");

    // Nothing usable: exit 2, nothing written.
    dir.write("empty.csv", "credential,time,offset_s\nA,nope,1\n");
    let out = otpdrift(&["analyze", "empty.csv", "--out", "e"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: empty.csv: nothing to analyze: 1 unparseable time (first: empty.csv:2:2: expected an RFC 3339 time or Unix seconds, found `nope`)\n"
    );
    assert!(!dir.0.join("e").exists());
    // A missing column names the mapping flag.
    dir.write("cols.csv", "id,when,offset_s\nA,0,1\n");
    let out = otpdrift(&["analyze", "cols.csv"], &dir.0);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cols.csv:1: expected a column `credential` (map yours with --column credential=NAME), found the columns id, when, offset_s\n"
    );
}

#[test]
fn analyze_judges_each_credential_by_a_window_of_its_own_steps() {
    // Two clocks a steady minute fast, measured daily: one on a 30 s step, one on 60 s. A
    // window of ±1 step is ±45 s for the first (outside) and ±90 s for the second (inside).
    let dir = Dir::new("analyze-steps");
    let mut log = String::from("credential,time,offset_s,step\n");
    for d in 0..60 {
        let t = 1_767_225_600 + d * 86_400 + 3_600 * (d % 7);
        log.push_str(&format!("S30,{t},60.0,30\nS60,{t},60.0,60\n"));
    }
    dir.write("lab.csv", &log);
    ok(&otpdrift(
        &["analyze", "lab.csv", "--delay", "0s", "--out", "r"],
        &dir.0,
    ));
    let rows = read_csv(&dir.0.join("r/window.csv"));
    let at = |w: &str| {
        rows.iter()
            .find(|r| r["population"] == "all" && r["window_steps"] == w)
            .unwrap_or_else(|| panic!("no window {w}"))
    };
    assert_eq!(num(at("0"), "inside_1y"), 0.0);
    assert_eq!(num(at("1"), "inside_1y"), 1.0);
    assert_eq!(num(at("2"), "inside_1y"), 2.0);
}

#[test]
fn analyze_reads_hand_written_logs_as_their_writer_meant() {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze-hand");
    let dir = Dir::new("analyze-hand");
    let f = |n: &str| fx.join(n).display().to_string();
    let runs: [(&str, Vec<String>); 3] = [
        (
            "privacyidea",
            [
                "analyze",
                &f("privacyidea.csv"),
                "--column",
                "credential=serial",
                "--column",
                "time=date",
                "--column",
                "shift_s=timeShift",
                "--column",
                "population=model",
                "--delay",
                "5.333s",
            ]
            .map(String::from)
            .to_vec(),
        ),
        ("lab", ["analyze", &f("lab.csv")].map(String::from).to_vec()),
        (
            "codes",
            [
                "analyze",
                &f("codes.csv"),
                "--secrets",
                &f("secrets.csv"),
                "--delay",
                "5.333s",
            ]
            .map(String::from)
            .to_vec(),
        ),
    ];
    for (name, mut args) in runs {
        args.extend(["--window-back", "1", "--window-ahead", "1", "--out", name].map(String::from));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&otpdrift(&a, &dir.0));
        let got: HashMap<String, HashMap<String, String>> =
            read_csv(&dir.0.join(name).join("drift.csv"))
                .into_iter()
                .map(|r| (r["credential"].clone(), r))
                .collect();
        for want in read_csv(&fx.join(format!("expected_{name}.csv"))) {
            let g = &got[&want["credential"]];
            let truth = num(&want, "true_ppm");
            if g["ppm"].is_empty() {
                // Only the credential with two observations has no ppm.
                assert_eq!(
                    g["too_few_observations"], "true",
                    "{name} {}",
                    want["credential"]
                );
                continue;
            }
            let (lo, hi) = (num(g, "ppm_ci95_low"), num(g, "ppm_ci95_high"));
            assert!(
                lo <= truth && truth <= hi,
                "{name} {}: ppm {truth} outside {lo}..{hi}",
                want["credential"]
            );
            let off = num(&want, "true_offset_now_s");
            let (lo, hi) = (
                num(g, "offset_now_ci95_low_s"),
                num(g, "offset_now_ci95_high_s"),
            );
            assert!(
                lo <= off && off <= hi,
                "{name} {}: offset now {off} outside {lo}..{hi}",
                want["credential"]
            );
            if want["true_status"] == "out_now" {
                assert_eq!(g["status"], "out_now");
            }
            if want["true_status"] == "leaving" && g["status"] == "leaving" {
                let t = |c: &str| {
                    otpdrift::time::parse_rfc3339(&g[c]).map_or(f64::INFINITY, |x| x as f64)
                };
                let exit = otpdrift::time::parse_rfc3339(&want["true_exit"]).unwrap() as f64;
                assert!(
                    t("exit_ci95_early") <= exit && exit <= t("exit_ci95_late"),
                    "{name} {}: exit {} outside {}..{}",
                    want["credential"],
                    want["true_exit"],
                    g["exit_ci95_early"],
                    g["exit_ci95_late"]
                );
            }
        }
        let steps_file = fx.join(format!("expected_{name}_steps.csv"));
        if steps_file.exists() {
            let got = read_csv(&dir.0.join(name).join("steps.csv"));
            let want = read_csv(&steps_file);
            assert_eq!(got.len(), want.len(), "{name}: {got:?}");
            for w in &want {
                assert!(
                    got.iter().any(|g| g["credential"] == w["credential"]
                        && (num(g, "size_s") - num(w, "size_s")).abs() < 30.0),
                    "{name}: step {w:?} not in {got:?}"
                );
            }
        }
    }
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.0.join("privacyidea/manifest.json")).unwrap())
            .unwrap();
    let reasons: Vec<(&str, u64)> = m["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["reason"].as_str().unwrap(), s["rows"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("unparseable time", 1),
            ("duplicate row", 1),
            ("empty offset", 1)
        ]
    );
    assert_eq!(m["rows_out_of_order"], 3);
}

/// Spawns every `--shard K/3` of `args` as its own process at once, waits for all of them.
fn shards(args: &[&str], cwd: &Path) {
    let children: Vec<_> = (1..=3)
        .map(|k| {
            let out = format!("part{k}");
            let shard = format!("{k}/3");
            Command::new(env!("CARGO_BIN_EXE_otpdrift"))
                .args(args)
                .args(["--out", &out, "--shard", &shard, "--threads", "1"])
                .current_dir(cwd)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the binary starts")
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().expect("the binary runs"));
    }
}

#[test]
fn shards_run_as_separate_processes_merge_to_the_whole_run_byte_for_byte() {
    let dir = Dir::new("shards");
    let path = dir.write("mixed.toml", SMALL_MIXED);
    let p = path.to_str().unwrap();
    ok(&otpdrift(
        &["run", p, "--out", "whole", "--trace", "30"],
        &dir.0,
    ));
    // The shards run as the Slurm job array would run them: deploy/slurm/shard.sbatch once per
    // array task, all at once, each its own process; then the job's merge step.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm");
    let bash = |file: &str, env: &[(&str, String)]| {
        Command::new("bash")
            .arg(script.join(file))
            .env("OTPDRIFT", env!("CARGO_BIN_EXE_otpdrift"))
            .env("SHARDS", ".")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(&dir.0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bash starts")
    };
    let tasks: Vec<_> = (1..=3)
        .map(|k| {
            bash(
                "shard.sbatch",
                &[
                    ("SCENARIO", p.to_string()),
                    ("SLURM_ARRAY_TASK_ID", k.to_string()),
                    ("SLURM_ARRAY_TASK_COUNT", "3".to_string()),
                    ("SLURM_CPUS_PER_TASK", "1".to_string()),
                    ("EXTRA_ARGS", "--trace 30".to_string()),
                ],
            )
        })
        .collect();
    for t in tasks {
        ok(&t.wait_with_output().expect("bash runs"));
    }
    // Shard 2 rerun by hand as a one-task array (`--array=2`, SHARD_COUNT=3) is the same shard.
    let before = fs::read(dir.0.join("2-of-3/tokens.csv")).unwrap();
    ok(&bash(
        "shard.sbatch",
        &[
            ("SCENARIO", p.to_string()),
            ("SLURM_ARRAY_TASK_ID", "2".to_string()),
            ("SLURM_ARRAY_TASK_COUNT", "1".to_string()),
            ("SHARD_COUNT", "3".to_string()),
            ("SLURM_CPUS_PER_TASK", "1".to_string()),
            ("EXTRA_ARGS", "--trace 30".to_string()),
        ],
    )
    .wait_with_output()
    .expect("bash runs"));
    assert_eq!(fs::read(dir.0.join("2-of-3/tokens.csv")).unwrap(), before);
    ok(
        &bash("merge.sbatch", &[("OUT", "merged-slurm".to_string())])
            .wait_with_output()
            .expect("bash runs"),
    );
    for k in 1..=3 {
        fs::rename(
            dir.0.join(format!("{k}-of-3")),
            dir.0.join(format!("part{k}")),
        )
        .unwrap();
    }
    // A shard folder holds its rows and its aggregates, no charts.
    let part: Vec<String> = fs::read_dir(dir.0.join("part2"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(part.contains(&"aggregates.json".to_string()), "{part:?}");
    assert!(!part.iter().any(|f| f.ends_with(".png")), "{part:?}");
    // Missing or doubled shards are refused, and nothing is written.
    let missing = otpdrift(&["merge", "part1", "part3", "--out", "m"], &dir.0);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("tokens 80..160 of 240 are in none of the folders given"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    assert!(!dir.0.join("m").exists());
    let twice = otpdrift(
        &["merge", "part1", "part2", "part2", "part3", "--out", "m"],
        &dir.0,
    );
    assert_eq!(twice.status.code(), Some(2));
    assert!(!dir.0.join("m").exists());
    // A shard written by another generation of the random streams is refused.
    let manifest = dir.0.join("part2/manifest.json");
    let good = fs::read_to_string(&manifest).unwrap();
    let streams = format!("\"random_streams\": {}", otpdrift::rng::STREAMS);
    assert!(good.contains(&streams), "{good}");
    fs::write(&manifest, good.replace(&streams, "\"random_streams\": 1")).unwrap();
    let foreign = otpdrift(&["merge", "part1", "part2", "part3", "--out", "m"], &dir.0);
    assert_eq!(foreign.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&foreign.stderr)
            .contains("the recorded scenario, seed or otpdrift build differs"),
        "{}",
        String::from_utf8_lossy(&foreign.stderr)
    );
    assert!(!dir.0.join("m").exists());
    fs::write(&manifest, good).unwrap();
    let out = ok(&otpdrift(
        &["merge", "part3", "part1", "part2", "--out", "merged"],
        &dir.0,
    ));
    assert!(out.contains("mixed — 240 tokens"), "{out}");
    for f in [
        "summary.csv",
        "timeseries.csv",
        "lifetime.csv",
        "tokens.csv",
        "aggregates.json",
        "trace.csv",
        "trace-secrets.csv",
        "trace-validator.toml",
        "report.md",
    ] {
        for merged in ["merged", "merged-slurm"] {
            assert_eq!(
                fs::read(dir.0.join("whole").join(f)).unwrap(),
                fs::read(dir.0.join(merged).join(f))
                    .unwrap_or_else(|e| panic!("{merged}/{f}: {e}")),
                "{f} of {merged} differs from the whole run's"
            );
        }
    }
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.0.join("merged/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["merged_from"].as_array().unwrap().len(), 3);
    let w: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.0.join("whole/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["attempts"], w["attempts"]);
    assert_eq!(m["hmacs"], w["hmacs"]);
}

#[test]
fn a_set_on_a_swept_field_is_refused_not_silently_dropped() {
    let dir = Dir::new("sweep-set");
    let path = dir.write("s.toml", SWEEP);
    let p = path.to_str().unwrap();
    for set in [
        "validator.window.back=5",
        "validator.window={ back = 2, ahead = 2 }",
    ] {
        let out = otpdrift(&["sweep", p, "--set", set, "--out", "o"], &dir.0);
        assert_eq!(out.status.code(), Some(2), "{set}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(
                "expected a field the sweep does not vary (it sets `validator.window.back`"
            ),
            "{err}"
        );
    }
    assert!(!dir.0.join("o").exists());
    // A field the sweep leaves alone is set at every point.
    ok(&otpdrift(
        &["sweep", p, "--set", "run.tokens=12", "--out", "o"],
        &dir.0,
    ));
    let rows = read_csv(&dir.0.join("o/sweep.csv"));
    assert!(rows
        .iter()
        .filter(|r| r["population"] == "all")
        .all(|r| r["tokens"] == "12"));
    let report = fs::read_to_string(dir.0.join("o/report.md")).unwrap();
    assert!(
        report.contains("Every setting runs on the same fleet"),
        "{report}"
    );
    // Settings on other seeds are other fleets: the report must not claim one fleet.
    let seeds = dir.write(
        "seeds.toml",
        "[run]\nname = \"seeds\"\nhorizon = \"20d\"\ntokens = 10\n\
         [[population]]\ntoken = { kind = \"phone\" }\n\
         [[sweep]]\nvary = { \"run.seed\" = [1, 2] }\n",
    );
    ok(&otpdrift(
        &["sweep", seeds.to_str().unwrap(), "--out", "seeds"],
        &dir.0,
    ));
    let report = fs::read_to_string(dir.0.join("seeds/report.md")).unwrap();
    assert!(!report.contains("same fleet"), "{report}");
    assert!(report.contains("do not all run on one fleet"), "{report}");
}

#[test]
fn sweep_shards_run_as_separate_processes_merge_to_the_whole_sweep_byte_for_byte() {
    let dir = Dir::new("sweep-shards");
    let path = dir.write("s.toml", SWEEP);
    let p = path.to_str().unwrap();
    let t = ["--target", "first_try_acceptance>=0.9"];
    ok(&otpdrift(
        &[&["sweep", p, "--out", "whole"][..], &t].concat(),
        &dir.0,
    ));
    shards(&[&["sweep", p][..], &t].concat(), &dir.0);
    // 6 settings in thirds: each shard holds 2 of them.
    let rows = read_csv(&dir.0.join("part2/sweep.csv"));
    let points: Vec<&str> = rows.iter().map(|r| r["point"].as_str()).collect();
    assert_eq!(points, ["3", "3", "3", "4", "4", "4"]);
    let missing = otpdrift(&["merge", "part1", "part2", "--out", "m"], &dir.0);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("shard 3/3 is in none of the folders given"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    ok(&otpdrift(
        &["merge", "part2", "part3", "part1", "--out", "merged"],
        &dir.0,
    ));
    for f in [
        "sweep.csv",
        "report.md",
        "tradeoff.svg",
        "sweep_acceptance.svg",
    ] {
        assert_eq!(
            fs::read(dir.0.join("whole").join(f)).unwrap(),
            fs::read(dir.0.join("merged").join(f)).unwrap(),
            "{f} of the merged sweep shards differs from the whole sweep's"
        );
    }
    // A shard whose table lost a setting's rows is refused, not merged into a shorter sweep.
    let csv = dir.0.join("part2/sweep.csv");
    let text = fs::read_to_string(&csv).unwrap();
    let cut: String = text
        .lines()
        .filter(|l| !l.starts_with("4,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(cut.len() < text.len());
    fs::write(&csv, cut).unwrap();
    let lost = otpdrift(&["merge", "part1", "part2", "part3", "--out", "m2"], &dir.0);
    assert_eq!(lost.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&lost.stderr).contains("setting 4 has 0 rows, expected 3"),
        "{}",
        String::from_utf8_lossy(&lost.stderr)
    );
    assert!(!dir.0.join("m2").exists());
}

#[path = "support/arb.rs"]
mod arb;

/// The files of a run folder that must not depend on how it was computed.
const RUN_TABLES: [&str; 5] = [
    "summary.csv",
    "timeseries.csv",
    "lifetime.csv",
    "tokens.csv",
    "trace.csv",
];

/// Runs one random case through the real program: every sweep point's row of sweep.csv equals
/// the summary.csv of `run --set` with its setting, in both decision modes, and a sweep split
/// in shards merges to the whole; a run gives the same tables on one thread and two and merged
/// from shards; its full trace replays to its decisions.
fn commands_agree(n: usize, case: &arb::Case) {
    let dir = Dir::new(&format!("arb-{n}"));
    let path = dir.write("s.toml", &case.with_sweep());
    let p = path.to_str().unwrap();
    let run = |args: &[&str]| ok(&otpdrift(args, &dir.0));
    let decide_swept = case.sweep.iter().any(|(k, _)| *k == "run.decide");
    let modes: &[Option<&str>] = if decide_swept {
        &[None]
    } else {
        &[Some("exact"), Some("fast")]
    };
    for (m, mode) in modes.iter().enumerate() {
        let mode_args: Vec<&str> = mode.map_or(vec![], |m| vec!["--mode", m]);
        let sw = format!("sw{m}");
        run(&[&["sweep", p, "--out", &sw][..], &mode_args].concat());
        let sweep = read_csv(&dir.0.join(&sw).join("sweep.csv"));
        for k in 1..=2 {
            let (part, shard) = (format!("sw{m}-{k}"), format!("{k}/2"));
            run(&[
                &["sweep", p, "--out", &part, "--shard", &shard][..],
                &mode_args,
            ]
            .concat());
        }
        let merged = format!("sw{m}-m");
        run(&[
            "merge",
            &format!("sw{m}-2"),
            &format!("sw{m}-1"),
            "--out",
            &merged,
        ]);
        assert_eq!(
            fs::read(dir.0.join(&sw).join("sweep.csv")).unwrap(),
            fs::read(dir.0.join(&merged).join("sweep.csv")).unwrap(),
            "sweep shards merge to the whole sweep\n{}",
            case.with_sweep()
        );
        for (i, sets) in case.points().iter().enumerate() {
            let out = format!("p{m}-{i}");
            let mut args = vec!["run", p, "--out", &out];
            for s in sets {
                args.extend(["--set", s]);
            }
            run(&[&args[..], &mode_args].concat());
            let summary = read_csv(&dir.0.join(&out).join("summary.csv"));
            let point = (i + 1).to_string();
            let rows: Vec<_> = sweep.iter().filter(|r| r["point"] == point).collect();
            assert_eq!(
                rows.len(),
                summary.len(),
                "point {point}: one row a population"
            );
            for (s, w) in summary.iter().zip(rows) {
                assert_eq!(s["population"], w["population"]);
                let common: Vec<&String> = s.keys().filter(|k| w.contains_key(*k)).collect();
                assert!(common.len() >= 8, "{common:?}");
                for k in common {
                    assert_eq!(
                        s[k],
                        w[k],
                        "point {point} ({sets:?}, mode {mode:?}), population {}: `{k}` in sweep.csv differs from run --set's summary.csv\n{}",
                        s["population"],
                        case.with_sweep()
                    );
                }
            }
        }
    }
    // The base scenario as a plain run: threads and shards (with the trace, which fast mode's
    // codes cannot give), then the trace of an exact run replayed.
    let exact = case.base.contains("decide = \"exact\"");
    let trace: &[&str] = if exact { &["--trace", "all"] } else { &[] };
    for t in ["1", "2"] {
        run(&[
            &["run", p, "--out", &format!("t{t}"), "--threads", t][..],
            trace,
        ]
        .concat());
    }
    for k in 1..=3 {
        let shard = format!("{k}/3");
        run(&[
            &["run", p, "--out", &format!("s{k}"), "--shard", &shard][..],
            trace,
        ]
        .concat());
    }
    run(&["merge", "s3", "s1", "s2", "--out", "sm"]);
    for f in RUN_TABLES.iter().filter(|f| exact || **f != "trace.csv") {
        let one = fs::read(dir.0.join("t1").join(f)).unwrap();
        assert_eq!(
            one,
            fs::read(dir.0.join("t2").join(f)).unwrap(),
            "{f}: 1 thread and 2"
        );
        assert_eq!(
            one,
            fs::read(dir.0.join("sm").join(f)).unwrap(),
            "{f}: merged shards"
        );
    }
    // `replay` decides with one validator: a trace is replayed from a run without the
    // timeline or cluster (their own metamorphic tests are in src/metamorphic.rs). A
    // generated scenario ends with them, the timeline first: what follows either cut goes.
    let untimed = case.base.split("\n[[timeline]]").next().unwrap();
    let untimed = untimed.split("\n[validator.cluster]").next().unwrap();
    let timed = untimed.len() < case.base.len();
    let traced = if exact && !timed {
        "t1"
    } else {
        let q = dir.0.join("untimed.toml");
        fs::write(&q, untimed).unwrap();
        run(&[
            "run",
            q.to_str().unwrap(),
            "--out",
            "tr",
            "--mode",
            "exact",
            "--trace",
            "all",
        ]);
        "tr"
    };
    let file = |f: &str| format!("{traced}/{f}");
    let out = otpdrift(
        &[
            "replay",
            &file("trace.csv"),
            "--secrets",
            &file("trace-secrets.csv"),
            "--validator",
            &file("trace-validator.toml"),
            "--out",
            "d.csv",
        ],
        &dir.0,
    );
    ok(&out);
    let decisions = read_csv(&dir.0.join("d.csv"));
    let trace = read_csv(&dir.0.join(file("trace.csv")));
    assert_eq!(decisions.len(), trace.len());
    for (d, t) in decisions.iter().zip(&trace) {
        assert_eq!(d["verdict"], t["expected"], "{d:?}\n{}", case.base);
    }
}

#[test]
fn sweeps_runs_shards_threads_and_traces_agree_on_random_scenarios() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 10,
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&arb::case(), |case| {
            commands_agree(n.fetch_add(1, std::sync::atomic::Ordering::Relaxed), &case);
            Ok(())
        })
        .unwrap();
}

/// Every file under `dir`, as bytes.
fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push((p.clone(), fs::read(&p).unwrap()));
        }
    }
    out
}

#[test]
fn a_probe_of_the_model_replays_to_its_own_answers_and_writes_no_secret() {
    let d = Dir::new("probe");
    // Two credentials, one 60-second, as a test-credential file would hold them.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let other = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    d.write(
        "s.csv",
        &format!("credential,secret,step\nt1,{secret},30\nt2,{other},60\n"),
    );
    for (preset, lockout) in [
        ("privacyidea", true),
        ("keycloak", false),
        ("google-authenticator", false),
    ] {
        let out = d.0.join(format!("p-{preset}"));
        let mut args = vec!["probe", &*format!("model:{preset}")]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        args.extend(["--secrets", "s.csv", "--out"].map(String::from));
        args.push(out.display().to_string());
        if lockout {
            args.push("--allow-lockout".into());
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let printed = ok(&otpdrift(&a, &d.0));
        assert!(
            printed.contains("t1: window") && printed.contains("t2: window"),
            "{printed}"
        );
        // The probe's own log, decided by the configuration it found: every answer again.
        let dec = otpdrift(
            &[
                "replay",
                &out.join("attempts.csv").display().to_string(),
                "--secrets",
                "s.csv",
                "--validator",
                &out.join("validator.toml").display().to_string(),
            ],
            &d.0,
        );
        let text = String::from_utf8_lossy(&dec.stderr).to_string();
        assert!(dec.status.success(), "{text}");
        let rows = String::from_utf8_lossy(&dec.stdout).to_string();
        let t1 = rows.lines().filter(|l| l.starts_with("t1,")).count();
        assert!(t1 > 10, "{t1} attempts for t1");
        assert!(
            rows.lines()
                .skip(1)
                .filter(|l| !l.contains(",unlock,"))
                .all(|l| l.ends_with(",true")),
            "{preset}: the probe's answers replay with its validator.toml"
        );
        // The window found is the preset's.
        let v = fs::read_to_string(out.join("validator.toml")).unwrap();
        let p = otpdrift(&["presets"], &d.0);
        let presets = String::from_utf8_lossy(&p.stdout).to_string();
        let block = presets.split(&format!("\n{preset}\n")).nth(1).unwrap();
        let back = block
            .split("back = ")
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap();
        assert!(
            v.contains(&format!("back = {back}  # measured")),
            "{preset}: {v}"
        );
        // No secret in any file written: not in Base32, hex or raw.
        for (path, bytes) in all_files(&out) {
            let text = String::from_utf8_lossy(&bytes).to_ascii_uppercase();
            for s in [secret, other] {
                assert!(!text.contains(s), "{} holds a secret", path.display());
            }
            assert!(
                !text.contains("3132333435363738"),
                "{} holds a secret in hex",
                path.display()
            );
        }
        let report = fs::read_to_string(out.join("report.md")).unwrap();
        assert!(
            report.contains(&format!("Nearest preset: `{preset}`")),
            "{report}"
        );
    }
}

#[test]
fn a_probe_prints_its_plan_first_and_refuses_bad_input_with_status_2() {
    let d = Dir::new("probe-plan");
    d.write(
        "s.csv",
        "credential,secret\nt1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
    );
    let plan = ok(&otpdrift(
        &[
            "probe",
            "model:rfc6238",
            "--secrets",
            "s.csv",
            "--dry-run",
            "--allow-lockout",
        ],
        &d.0,
    ));
    assert!(plan.contains("at most 600 attempts"), "{plan}");
    assert!(plan.contains("WILL BE LOCKED"), "{plan}");
    assert!(!d.0.join("results").exists(), "a dry run writes nothing");
    for (args, want) in [
        (
            vec!["probe", "http://x", "--secrets", "s.csv"],
            "expected model:PRESET, model:FILE.toml, privacyidea:http://HOST:PORT",
        ),
        (vec!["probe", "model:nope", "--secrets", "s.csv"], "nope"),
        (
            vec![
                "probe",
                "model:pyotp",
                "--secrets",
                "s.csv",
                "--credential",
                "t9",
            ],
            "--credential t9: not in s.csv",
        ),
        (
            vec!["probe", "model:pyotp", "--secrets", "missing.csv"],
            "cannot read secrets missing.csv",
        ),
        (
            vec![
                "probe",
                "model:pyotp",
                "--secrets",
                "s.csv",
                "--max-rate",
                "fast",
            ],
            "--max-rate: expected N/s",
        ),
    ] {
        let out = otpdrift(&args, &d.0);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("GEZDGNBV"), "no secret in an error");
    }
}

/// The report names each timeline event and what it did: devices 2.5 steps ahead refused by a
/// ±1 window until the window is widened at the third week's start.
#[test]
fn the_report_says_what_each_timeline_event_did() {
    let dir = Dir::new("timeline-report");
    let path = dir.write(
        "t.toml",
        "[run]\nname = \"widened\"\nhorizon = \"28d\"\ntokens = 20\nseed = 5\nbucket = \"week\"\n\
         [validator]\npreset = \"rfc6238\"\ndrift = \"none\"\nreplay = \"none\"\nlockout = { max_failures = 0 }\n\
         [[population]]\ntoken = { kind = \"hardware\" }\n\
         clock = { profile = \"ideal\", initial_offset = \"75s\" }\nbattery = { enabled = false }\n\
         recovery = { enabled = false }\n\
         user = { logins_per_day = 4, retries = 0, typo_probability = 0, delay = \"0s\" }\n\
         [[timeline]]\nat = \"2026-01-15\"\nset = { window = { ahead = 3 } }\n",
    );
    ok(&otpdrift(
        &["run", path.to_str().unwrap(), "--out", "r"],
        &dir.0,
    ));
    let report = fs::read_to_string(dir.0.join("r/report.md")).unwrap();
    let line = report
        .lines()
        .find(|l| l.starts_with("- the validator's settings changed"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        line.contains(
            "(window 1 back, 3 ahead; lockout none) on 2026-01-15 (2026-01-08 → 2026-01-15)"
        ),
        "{line}"
    );
    assert!(
        line.contains("first-try failures 100.00% → 0.00%"),
        "{line}"
    );
}

/// Analyses the hand-written privacyIDEA-style export into `dir`'s `fleet/`, judged against a
/// ±1-step window.
fn analyse_hand_export(dir: &Dir) {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze-hand");
    let log = fx.join("privacyidea.csv").display().to_string();
    ok(&otpdrift(
        &[
            "analyze",
            &log,
            "--column",
            "credential=serial",
            "--column",
            "time=date",
            "--column",
            "shift_s=timeShift",
            "--column",
            "population=model",
            "--delay",
            "5.333s",
            "--window-back",
            "1",
            "--window-ahead",
            "1",
            "--out",
            "fleet",
        ],
        &dir.0,
    ));
}

/// A twin of a log written outside the project (the hand-written privacyIDEA-style export of
/// `tests/fixtures/analyze-hand`, with its own column names) under a ±1-step validator that
/// learns nothing: it forecasts without error, keeps every credential, and every credential
/// it names at risk is one whose writer made it leave the window within the year.
#[test]
fn a_twin_of_a_hand_written_export_names_only_credentials_that_truly_leave() {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze-hand");
    let dir = Dir::new("twin-hand");
    analyse_hand_export(&dir);
    std::fs::write(
        dir.0.join("mine.toml"),
        r#"[run]
name = "mine"
horizon = "1y"
tokens = 1
seed = 3
bucket = "7d"

[validator]
preset = "rfc6238"
window = { back = 1, ahead = 1 }
drift = "none"

[[population]]
name = "hw-a"
share = 0.5
token = { kind = "hardware" }
battery = { enabled = false }
clock = { profile = "ideal", drift_ppm = { dist = "normal", mean = 0, sd = 2 } }

[[population]]
name = "hw-b"
share = 0.5
token = { kind = "hardware" }
battery = { enabled = false }
clock = { profile = "ideal", drift_ppm = { dist = "normal", mean = 0, sd = 2 } }
"#,
    )
    .unwrap();
    let out = ok(&otpdrift(
        &[
            "run",
            "mine.toml",
            "--fleet",
            "fleet",
            "--replicates",
            "10",
            "--out",
            "twin",
        ],
        &dir.0,
    ));
    assert!(out.contains("7 tokens"), "{out}");
    let truth: HashMap<String, HashMap<String, String>> =
        read_csv(&fx.join("expected_privacyidea.csv"))
            .into_iter()
            .map(|r| (r["credential"].clone(), r))
            .collect();
    let forecast = read_csv(&dir.0.join("twin/forecast.csv"));
    assert_eq!(forecast.len(), 7, "every credential kept");
    assert_eq!(read_csv(&dir.0.join("twin/forecast-excluded.csv")).len(), 0);
    let named: Vec<&HashMap<String, String>> = forecast
        .iter()
        .filter(|r| num(r, "p_exit") >= 0.5)
        .collect();
    assert!(named.len() >= 4, "{forecast:?}");
    for r in &named {
        let t = &truth[&r["credential"]];
        assert!(
            t["true_status"] == "leaving" || t["true_status"] == "out_now",
            "{} named at risk but stays: {r:?}",
            r["credential"]
        );
        // A resync, or a replacement for a crystal beyond 20 ppm.
        assert!(
            r["action"].starts_with("resync") || r["action"] == "replace",
            "{r:?}"
        );
        // The writer's exit lies in the band (exits are seen at logins: a few days' slack).
        if t["true_status"] == "leaving" {
            // An empty end: after the horizon.
            let at = |c: &str| {
                otpdrift::time::parse_rfc3339(c).map_or(f64::INFINITY, |t| t as f64 / 86_400_000.0)
            };
            let x = at(&t["true_exit"]);
            assert!(
                at(&r["exit_p05"]) - 3.0 <= x && x <= at(&r["exit_p95"]) + 3.0,
                "{}: true exit {} outside {}..{}",
                r["credential"],
                t["true_exit"],
                r["exit_p05"],
                r["exit_p95"]
            );
        }
    }
    // The one that stays is not named, and nothing is asked of it.
    let stays = forecast
        .iter()
        .find(|r| r["credential"] == "TOTP0003C")
        .unwrap();
    assert!(
        num(stays, "p_exit") < 0.5 && stays["action"] == "nothing",
        "{stays:?}"
    );
    let report = std::fs::read_to_string(dir.0.join("twin/report.md")).unwrap();
    assert!(report.contains("## The forecast") && report.contains("forecast_tickets.png"));
}

/// A twin sweep's setting is the twin run of that setting: the same credentials at risk,
/// broken in the first week and tickets expected (settings share their draws, replicate by
/// replicate); the reference setting changes nothing against itself.
#[test]
fn a_twin_sweep_setting_is_the_twin_run_of_that_setting() {
    let dir = Dir::new("twin-sweep");
    analyse_hand_export(&dir);
    dir.write(
        "mine.toml",
        r#"[run]
horizon = "120d"
tokens = 1
seed = 5
bucket = "7d"

[validator]
preset = "rfc6238"
window = { back = 1, ahead = 1 }
drift = "none"

[[population]]
name = "hw-a"
share = 0.5
token = { kind = "hardware" }
battery = { enabled = false }
recovery = { resync_probability = 0 }

[[population]]
name = "hw-b"
share = 0.5
token = { kind = "hardware" }
battery = { enabled = false }
recovery = { resync_probability = 0 }

[[timeline]]
at = "2026-04-01"
migrate = { preset = "privacyidea" }

[sweep]
vary = { "timeline[0].carry" = [true, false] }
"#,
    );
    ok(&otpdrift(
        &[
            "sweep",
            "mine.toml",
            "--fleet",
            "fleet",
            "--replicates",
            "6",
            "--out",
            "sw",
        ],
        &dir.0,
    ));
    ok(&otpdrift(
        &[
            "run",
            "mine.toml",
            "--fleet",
            "fleet",
            "--replicates",
            "6",
            "--set",
            "timeline[0].carry=false",
            "--out",
            "two",
        ],
        &dir.0,
    ));
    let settings = read_csv(&dir.0.join("sw/twin-settings.csv"));
    let all: Vec<_> = settings
        .iter()
        .filter(|r| r["population"] == "all")
        .collect();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["changed"], "0", "the reference against itself");
    let forecast = read_csv(&dir.0.join("two/forecast.csv"));
    let count = |f: &dyn Fn(&HashMap<String, String>) -> bool| {
        forecast.iter().filter(|r| f(r)).count().to_string()
    };
    assert_eq!(all[1]["credentials"], forecast.len().to_string());
    assert_eq!(all[1]["at_risk"], count(&|r| num(r, "p_exit") >= 0.5));
    assert_eq!(
        all[1]["broken_week1"],
        count(&|r| num(r, "p_first_try_failure_week1") >= 0.5)
    );
    let tickets: f64 = read_csv(&dir.0.join("two/forecast-tickets.csv"))
        .iter()
        .map(|r| num(r, "expected"))
        .sum();
    assert!((num(all[1], "expected_tickets") - tickets).abs() < 0.01);
    // The populations' tickets add up to the fleet's.
    let by_pop: f64 = settings
        .iter()
        .filter(|r| r["setting"] == "2" && r["population"] != "all")
        .map(|r| num(r, "expected_tickets"))
        .sum();
    assert!((by_pop - tickets).abs() < 0.01, "{by_pop} {tickets}");
    // Re-enrolled at the cut-over (carry = false), the hand-written fleet's clocks meet a
    // validator that starts from nothing: no fewer break in the first week than when carried.
    assert!(num(all[1], "broken_week1") >= num(all[0], "broken_week1"));
    let report = std::fs::read_to_string(dir.0.join("sw/report.md")).unwrap();
    assert!(report.contains("| setting | population |"), "{report}");
}

/// A twin starts from a log of codes with their secrets as well: the hand-written codes log
/// (three credentials, one stepped +150 s) gives three forecasts, each credential's login
/// rate its own (a row per login), and the one its writer set leaving is named at risk.
#[test]
fn a_twin_of_a_hand_written_codes_log_forecasts_each_credential() {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze-hand");
    let dir = Dir::new("twin-codes");
    let f = |n: &str| fx.join(n).display().to_string();
    ok(&otpdrift(
        &[
            "analyze",
            &f("codes.csv"),
            "--secrets",
            &f("secrets.csv"),
            "--delay",
            "5.333s",
            "--window-back",
            "1",
            "--window-ahead",
            "1",
            "--out",
            "fleet",
        ],
        &dir.0,
    ));
    let drift = read_csv(&dir.0.join("fleet/drift.csv"));
    assert!(
        drift.iter().all(|r| num(r, "logins_per_day") > 0.0),
        "{drift:?}"
    );
    dir.write(
        "mine.toml",
        "[run]\nhorizon = \"180d\"\ntokens = 1\n[validator]\npreset = \"rfc6238\"\ndrift = \"none\"\n[[population]]\ntoken = { kind = \"hardware\" }\nbattery = { enabled = false }\nclock = { profile = \"ideal\" }\n",
    );
    ok(&otpdrift(
        &[
            "run",
            "mine.toml",
            "--fleet",
            "fleet",
            "--replicates",
            "8",
            "--out",
            "twin",
        ],
        &dir.0,
    ));
    let forecast = read_csv(&dir.0.join("twin/forecast.csv"));
    let truth: HashMap<String, HashMap<String, String>> = read_csv(&fx.join("expected_codes.csv"))
        .into_iter()
        .map(|r| (r["credential"].clone(), r))
        .collect();
    assert_eq!(forecast.len(), 3);
    for r in &forecast {
        let t = &truth[&r["credential"]];
        let leaves = t["true_status"] == "out_now"
            || (t["true_status"] == "leaving" && num(t, "true_days_to_exit") < 150.0);
        let stays = t["true_status"] == "staying" || num(t, "true_days_to_exit") > 250.0;
        if leaves {
            assert!(num(r, "p_exit") >= 0.5, "{r:?}");
        }
        if stays {
            assert!(num(r, "p_exit") < 0.5, "{r:?}");
        }
    }
}

/// otplib's guardrails and a server clock stepped back, as the real otplib 13.5.0 decided
/// them: a 10-byte secret throws on every code; after a success at 00:01:10, the server's
/// clock stepped back to 00:00:10 puts afterTimeStep beyond the open steps, which throws. A
/// log whose times go back is refused unless `--clock-steps-back` says so.
#[test]
fn replay_of_otplib_refuses_short_secrets_and_a_clock_stepped_back() {
    let dir = Dir::new("otplib-edges");
    let long = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let code = |secret: &str, t: &str| {
        ok(&otpdrift(
            &["code", "--secret", secret, "--time", t],
            &dir.0,
        ))
        .trim()
        .to_string()
    };
    dir.write(
        "secrets.csv",
        &format!("credential,secret\nshort,JBSWY3DPEHPK3PXP\nlong,{long}\n"),
    );
    let log = format!(
        "credential,time,action,code,code2,expected,note\n\
         short,2026-01-01T00:00:10Z,verify,{},,reject,otplib throws SecretTooShortError\n\
         long,2026-01-01T00:01:10Z,verify,{},,accept,timeStep kept\n\
         long,2026-01-01T00:00:10Z,verify,{},,reject,AfterTimeStepRangeExceededError\n",
        code("JBSWY3DPEHPK3PXP", "2026-01-01T00:00:10Z"),
        code(long, "2026-01-01T00:01:10Z"),
        code(long, "2026-01-01T00:00:10Z"),
    );
    dir.write("log.csv", &log);
    let args = [
        "replay",
        "log.csv",
        "--secrets",
        "secrets.csv",
        "--preset",
        "otplib",
    ];
    let refused = otpdrift(&args, &dir.0);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --clock-steps-back"));
    let mut with = args.to_vec();
    with.push("--clock-steps-back");
    let out = otpdrift(&with, &dir.0);
    let decisions = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 of 3 decisions match"),
        "{decisions}"
    );
    assert!(decisions.contains("secret_refused"), "{decisions}");
    // Another preset takes the short secret, so the refusal is otplib's rule.
    with[5] = "speakeasy";
    let out = otpdrift(&with, &dir.0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 3 decisions match"));
}

/// A preset whose window is a tolerance in seconds reads as one in the report and on the
/// charts, and its clock chart's edge is the tolerance plus half a step (60 s + 30 s for
/// FortiTokens' 60 s codes).
#[test]
fn a_tolerance_preset_is_described_in_seconds() {
    let dir = Dir::new("tolerance-report");
    dir.write(
        "forti.toml",
        "[run]\nname = \"forti\"\nstart = \"2026-01-01\"\nhorizon = \"20d\"\ntokens = 20\nseed = 3\n\n\
         [validator]\npreset = \"fortiauthenticator\"\n\n\
         [[population]]\nname = \"fortitoken\"\ntoken = { kind = \"hardware\", step = \"60s\" }\n",
    );
    ok(&otpdrift(&["run", "forti.toml", "--out", "out"], &dir.0));
    let report = std::fs::read_to_string(dir.0.join("out/report.md")).unwrap();
    assert!(
        report.contains("(window 60s back, 60s ahead in time (every step an instant of that span falls in); drift learned in whole steps on every success; time-forward replay rule; lockout after 3 failures, unlocked after 60s"),
        "{report}"
    );
    assert!(
        report.contains("next-code challenge within ±60 steps"),
        "{report}"
    );
    let svg = std::fs::read_to_string(dir.0.join("out/clock_error.svg")).unwrap();
    assert!(svg.contains("window 60s back, 60s ahead in time"));
    assert!(svg.contains("window edge ±90s"));
}
