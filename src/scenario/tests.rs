//! Scenario parsing: defaults, the resolved round trip, and the error for each kind of mistake.

use super::*;
use crate::dist::Dist;
use crate::token::TokenKind;
use crate::validator::{DriftLearning, Replay};

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_toml("s.toml", text)
}

fn errors(text: &str) -> Vec<String> {
    parse(text)
        .unwrap_err()
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect()
}

const MIXED: &str = r#"
[run]
name = "mixed"
start = "2026-01-01"
horizon = "5y"
tokens = 1000
seed = 7

[validator]
window = { back = 1, ahead = 1 }
drift = "steps"

[[population]]
name = "phones"
share = 0.7
token = { kind = "phone" }

[[population]]
name = "hard"
share = 0.2
token = { kind = "hardware" }

[[population]]
name = "desktops"
share = 0.1
token = { kind = "desktop" }
clock = { drift_ppm = { dist = "normal", mean = 0, sd = 15, clip = [-60, 60] } }
"#;

#[test]
fn mixed_fleet_with_kind_defaults() {
    let s = parse(MIXED).unwrap();
    assert_eq!(s.population_sizes(), vec![700, 200, 100]);
    assert_eq!(s.population_of(699), 0);
    assert_eq!(s.population_of(700), 1);
    assert_eq!(s.population_of(999), 2);
    assert_eq!(s.populations[0].token.kind, TokenKind::Phone);
    assert!(s.populations[0].clock.sync.enabled);
    assert!(s.populations[0].battery.is_none());
    assert_eq!(
        s.populations[1].battery.as_ref().unwrap().life_codes,
        15_000.0
    );
    assert_eq!(
        s.populations[2].clock.drift_ppm,
        Dist::Normal {
            mean: 0.0,
            sd: 15.0
        }
        .clipped(-60.0, 60.0)
    );
    assert_eq!(s.validator.drift, DriftLearning::Steps);
    assert_eq!(s.validator.replay, Replay::TimeForward);
}

#[test]
fn resolved_scenario_parses_back_to_the_same_scenario() {
    let s = parse(MIXED).unwrap();
    let text = toml::to_string(&resolved(&s)).unwrap();
    let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(s, back);
}

#[test]
fn a_resolved_timeline_parses_back_to_the_same_scenario() {
    let text = format!(
        "{MIXED}\n[[timeline]]\nat = \"2026-03-01\"\nset = {{ window = {{ back = 2 }}, lockout = {{ max_failures = 4 }} }}\n\
         [[timeline]]\nat = 2026-04-01T10:00:00Z\nreset_drift = true\npopulations = [\"{}\"]\n\
         [[timeline]]\nat = \"2026-05-01\"\nmigrate = {{ preset = \"privacyidea\" }}\ncarry = true\n\
         [[timeline]]\nat = \"2026-02-01\"\nserver_clock = {{ step = \"-90s\" }}\n\
         [[timeline]]\nat = \"2026-02-02\"\nserver_clock = {{ drift_ppm = 30, until = \"2026-03-01\" }}\n\
         [[timeline]]\nat = \"2026-03-05\"\nserver_clock = {{ return = \"slew\" }}\n",
        parse(MIXED).unwrap().populations[0].name
    );
    let s = parse(&text).unwrap();
    assert_eq!(s.timeline.len(), 6);
    // In time order; the set keeps the other side of the window.
    assert_eq!(
        s.timeline[0].at,
        crate::time::parse_rfc3339("2026-02-01").unwrap()
    );
    let after_set = &s.schedules[0].segments[0].1;
    assert_eq!(
        (after_set.window_back, after_set.window_ahead),
        (2, s.validator.window_ahead)
    );
    let resolved_text = toml::to_string(&resolved(&s)).unwrap();
    let back = parse(&resolved_text).unwrap_or_else(|e| panic!("{e}\n{resolved_text}"));
    assert_eq!(s, back);
}

#[test]
fn timeline_mistakes_name_the_event_and_field() {
    let bad = |event: &str| {
        let text = format!("{MIXED}\n[[timeline]]\n{event}\n");
        parse(&text).unwrap_err().to_string()
    };
    let e = bad("at = \"2026-03-01\"\nset = { window = { back = 20000 } }");
    assert!(
        e.contains("timeline[0].set.window.back: expected at most 10000 steps"),
        "{e}"
    );
    let e = bad("at = \"2026-03-01\"\nreset_drift = true\nserver_clock = { step = \"5s\" }");
    assert!(e.contains("timeline[0]: expected exactly one of set, reset_drift = true, migrate, server_clock or outage, found 2 of them"), "{e}");
    let e = bad("at = \"March\"\nreset_drift = true");
    assert!(
        e.contains("timeline[0].at: expected a date (YYYY-MM-DD) or RFC 3339 time"),
        "{e}"
    );
    let e = bad("at = \"2026-03-01\"\nreset_drift = true\npopulations = [\"nobody\"]");
    assert!(
        e.contains("timeline[0].populations[0]: expected a population's name"),
        "{e}"
    );
    let e = bad("at = \"2026-03-01\"\nserver_clock = { return = \"jump\" }");
    assert!(
        e.contains("timeline[0].server_clock.return: expected \"step\" or \"slew\""),
        "{e}"
    );
    let e = bad("at = \"2026-03-01\"\nset = { preset = \"vip\" }");
    assert!(
        e.contains("timeline[0].set.preset: expected fields of the validator in force"),
        "{e}"
    );
}

const CLUSTER: &str = "\n[validator.cluster]\nnodes = [{ name = \"a\" }, { name = \"b\", offset = \"+4s\", drift_ppm = 15 }]\nrouting = \"random\"\nreplication = { lag = { dist = \"exponential\", mean = \"3s\" } }\n";

#[test]
fn a_cluster_round_trips_and_its_events_name_their_node() {
    let text = format!(
        "{MIXED}{CLUSTER}\n[[timeline]]\nat = \"2026-03-02T01:00:00Z\"\noutage = {{ node = \"a\", until = \"2026-03-02T05:00:00Z\" }}\n\
         \n[[timeline]]\nat = \"2026-04-01\"\nserver_clock = {{ node = \"b\", step = \"-90s\" }}\n"
    );
    let s = parse(&text).unwrap();
    let cl = s.cluster.as_ref().unwrap();
    assert_eq!(cl.nodes.len(), 2);
    assert_eq!(cl.routing, crate::scenario::Routing::Random);
    let t = |d: &str| crate::time::parse_rfc3339(d).unwrap();
    assert_eq!(
        cl.outages,
        vec![
            vec![(t("2026-03-02T01:00:00Z"), t("2026-03-02T05:00:00Z"))],
            vec![]
        ]
    );
    assert!(cl.up(0, t("2026-03-02T00:59:59Z")) && !cl.up(0, t("2026-03-02T01:00:00Z")));
    assert!(cl.up(0, t("2026-03-02T05:00:00Z")) && cl.up(1, t("2026-03-02T02:00:00Z")));
    // Node b: 4 s ahead at the start, 15 ppm fast, stepped back 90 s on 1 April; node a
    // keeps true time.
    let sched = &s.schedules[0];
    let at = t("2026-04-01");
    let run = (at - s.run.start) as f64;
    let b = crate::validator::schedule::offset_at(&sched.nodes[1], at);
    assert!((b - (4000.0 + 15e-6 * run - 90_000.0)).abs() < 1e-6, "{b}");
    assert_eq!(
        crate::validator::schedule::offset_at(&sched.nodes[0], at),
        0.0
    );
    let resolved_text = toml::to_string(&resolved(&s)).unwrap();
    let back = parse(&resolved_text).unwrap_or_else(|e| panic!("{e}\n{resolved_text}"));
    assert_eq!(s, back);
}

#[test]
fn cluster_mistakes_name_the_field() {
    let bad = |tail: &str| parse(&format!("{MIXED}{tail}")).unwrap_err().to_string();
    let e = bad("\n[validator.cluster]\nnodes = []\n");
    assert!(
        e.contains("validator.cluster.nodes: expected at least one node"),
        "{e}"
    );
    let e = bad("\n[validator.cluster]\nnodes = [{ name = \"a\" }, { name = \"a\" }]\n");
    assert!(
        e.contains(
            "validator.cluster.nodes[1].name: expected a name no other node has, found \"a\""
        ),
        "{e}"
    );
    let e = bad("\n[validator.cluster]\nnodes = [{ name = \"a\" }]\nrouting = \"least_conn\"\n");
    assert!(
        e.contains("validator.cluster.routing: expected one of \"round_robin\""),
        "{e}"
    );
    let e = bad("\n[validator.cluster]\nnodes = [{ name = \"a\" }]\nreplication = \"sync\"\n");
    assert!(
        e.contains("validator.cluster.replication: expected \"none\" or a table with `lag`"),
        "{e}"
    );
    let e =
        bad("\n[validator.cluster]\nnodes = [{ name = \"a\" }]\nreplication = { lag = \"2d\" }\n");
    assert!(e.contains("validator.cluster.replication.lag"), "{e}");
    let e = bad(
        "\n[[timeline]]\nat = \"2026-03-01\"\noutage = { node = \"a\", until = \"2026-03-02\" }\n",
    );
    assert!(
        e.contains("timeline[0].outage.node: expected a [validator.cluster] whose node this is"),
        "{e}"
    );
    let one = format!("{CLUSTER}\n[[timeline]]\nat = \"2026-03-01\"\n");
    let e = bad(&format!(
        "{one}outage = {{ node = \"c\", until = \"2026-03-02\" }}\n"
    ));
    assert!(
        e.contains("timeline[0].outage.node: expected a node's name (a, b), found \"c\""),
        "{e}"
    );
    let e = bad(&format!(
        "{one}outage = {{ node = \"a\", until = \"2026-02-02\" }}\n"
    ));
    assert!(
        e.contains("timeline[0].outage.until: expected a time after `at`"),
        "{e}"
    );
    let e = bad(&format!(
        "{one}outage = {{ node = \"a\", until = \"2026-03-05\" }}\n[[timeline]]\nat = \"2026-03-02\"\noutage = {{ node = \"b\", until = \"2026-03-03\" }}\n"
    ));
    assert!(e.contains("timeline: expected outages that leave some node in service at every instant, found every node down at 2026-03-02T00:00:00Z"), "{e}");
    let e = bad(&format!(
        "{one}set = {{ cluster = {{ routing = \"random\" }} }}\n"
    ));
    assert!(
        e.contains("timeline[0].set.cluster: expected no cluster here"),
        "{e}"
    );
    let e = bad(
        "\n[[timeline]]\nat = \"2026-03-01\"\nserver_clock = { node = \"a\", step = \"1s\" }\n",
    );
    assert!(
        e.contains("timeline[0].server_clock.node: expected a [validator.cluster]"),
        "{e}"
    );
}

#[test]
fn shares_a_hair_over_one_still_split_the_fleet_exactly() {
    let text = "[run]\ntokens = 10000000\n\
        [[population]]\nname = \"a\"\nshare = 0.3333334\ntoken = { kind = \"phone\" }\n\
        [[population]]\nname = \"b\"\nshare = 0.3333334\ntoken = { kind = \"phone\" }\n\
        [[population]]\nname = \"c\"\nshare = 0.3333334\ntoken = { kind = \"phone\" }\n";
    let s = parse(text).unwrap();
    assert_eq!(s.population_sizes(), vec![3_333_333, 3_333_333, 3_333_334]);
}

#[test]
fn shares_are_apportioned_to_sum_to_the_fleet() {
    let mut s = parse(MIXED).unwrap();
    s.run.tokens = 7;
    assert_eq!(s.population_sizes(), vec![5, 1, 1]);
    assert_eq!(s.population_sizes().iter().sum::<u64>(), 7);
}

#[test]
fn unknown_field_points_at_the_key() {
    let e = errors("[run]\nseed = 1\ndrfit = 3\n\n[[population]]\ntoken = { kind = \"phone\" }\n");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("s.toml:3:1: run.drfit: expected a known field"),
        "{}",
        e[0]
    );
    assert!(e[0].contains("found unknown field `drfit`"), "{}", e[0]);
}

#[test]
fn wrong_type_names_path_expectation_and_finding() {
    let e = errors("[run]\ntokens = \"many\"\n[[population]]\ntoken = { kind = \"phone\" }\n");
    assert!(
        e[0].starts_with(
            "s.toml:2:10: run.tokens: expected a whole number of at least 0, found string \"many\""
        ),
        "{}",
        e[0]
    );
}

#[test]
fn syntax_errors_have_positions() {
    let e = errors("[run]\nseed = = 1\n");
    assert!(e[0].starts_with("s.toml:2:"), "{}", e[0]);
}

#[test]
fn every_semantic_problem_is_reported_with_its_position() {
    let text = r#"[run]
horizon = "5 parsecs"
bucket = "month"

[validator]
replay = "sometimes"

[[population]]
share = 0.5
token = { kind = "hardware", digits = 10 }
clock = { drift_ppm = { dist = "gauss", sd = 3 } }

[[population]]
share = 0.4
token = { kind = "phone" }
user = { delay = { dist = "normal", mean = "5s", sd = "3s" }, typo_probability = 1.5 }
"#;
    let e = errors(text);
    let want = [
        "s.toml:2:11: run.horizon: expected a duration",
        "s.toml:6:10: validator.replay: expected one of none, exact_steps, time_forward, last_code, found \"sometimes\"",
        "s.toml:10:39: population[0].token.digits: expected 1 to 9 digits (RFC 4226 asks for 6 to 8; fewer only to study guessing), found 10",
        "s.toml:11:32: population[0].clock.drift_ppm.dist: expected one of fixed, normal",
        "s.toml:16:18: population[1].user.delay: expected values from 0s to infinity (add `clip = [low, high]`",
        "s.toml:16:82: population[1].user.typo_probability: expected a probability from 0 to 1, found 1.5",
        "s.toml:8:3: population: expected shares that add up to 1, found 0.5 + 0.4 = 0.9",
    ];
    assert_eq!(e.len(), want.len(), "{e:#?}");
    for w in want {
        assert!(
            e.iter().any(|x| x.starts_with(w)),
            "missing {w:?} in {e:#?}"
        );
    }
}

#[test]
fn missing_kind_and_no_population() {
    let e = errors("[run]\nseed = 3\n");
    assert_eq!(
        e,
        vec!["s.toml:1:1: population: expected at least one [[population]] table, found none"]
    );
    let e = errors("[[population]]\nname = \"x\"\n");
    assert!(e[0].contains("population[0].token.kind: expected a token kind: one of hardware, phone, desktop, hotp, found nothing"), "{e:?}");
}

#[test]
fn bare_numbers_are_not_durations() {
    let e =
        errors("[[population]]\ntoken = { kind = \"phone\" }\nclock = { initial_offset = 45 }\n");
    assert!(e[0].contains("clock.initial_offset: expected a duration string such as \"30s\" (a bare number has no unit), found integer 45"), "{e:?}");
}

#[test]
fn durations_and_distributions_in_their_units() {
    let s = parse(
        r#"[[population]]
token = { kind = "hardware", step = "60s" }
clock = { profile = "ideal", initial_offset = "-1m30s" }
user = { delay = { dist = "lognormal", median = "8s", sigma = 0.4, clip = ["1s", "1m"] }, holidays = ["12-25", "2026-07-04"] }
"#,
    )
    .unwrap();
    let p = &s.populations[0];
    assert_eq!(p.token.step_s, 60);
    assert_eq!(p.clock.initial_offset_s, Dist::Fixed(-90.0));
    assert_eq!(p.clock.drift_ppm, Dist::Fixed(0.0));
    assert_eq!(
        p.user.delay_s,
        Dist::LogNormal {
            median: 8.0,
            sigma: 0.4
        }
        .clipped(1.0, 60.0)
    );
    assert_eq!(p.user.holidays.len(), 2);
}

#[test]
fn vip_security_levels_set_the_validation_window() {
    let sc = |extra: &str| {
        parse(&format!(
            "[validator]\npreset = \"vip\"\n{extra}\n[[population]]\ntoken = {{ kind = \"hardware\" }}\n"
        ))
    };
    let low = sc("security_level = \"low\"").unwrap().validator;
    assert_eq!(
        (low.window_back, low.window_ahead, low.auto_sync),
        (64, 64, Some(80))
    );
    let medium = sc("security_level = \"medium\"").unwrap().validator;
    assert_eq!((medium.window_back, medium.auto_sync), (10, Some(20)));
    let e = sc("security_level = \"high\"").unwrap_err().to_string();
    assert!(e.contains("validator.security_level: expected \"low\" or \"medium\" (VIP's High window is not published"), "{e}");
}

#[test]
fn a_t0_beyond_year_9999_is_refused_not_wrapped() {
    let e = errors(
        "[run]\nstart = \"2026-01-01\"\n[[population]]\ntoken = { kind = \"phone\", t0 = -9223372036854775807 }\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("s.toml:4:")
            && e[0].contains("population[0].token.t0: expected unix seconds between")
            && e[0].ends_with("found -9223372036854775807"),
        "{}",
        e[0]
    );
    // The edge itself is allowed.
    let ok = "[run]\nstart = \"2026-01-01\"\n[[population]]\ntoken = { kind = \"phone\", t0 = -253402300799 }\n";
    assert_eq!(parse(ok).unwrap().populations[0].token.t0, -253_402_300_799);
}
