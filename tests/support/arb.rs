//! Random scenarios for the metamorphic tests, shared by the unit tests (`src/metamorphic.rs`)
//! and the integration test: every section varied (run, validator, each population's token,
//! clock and its events, battery, user and recovery, attack, timeline, cluster), with a sweep
//! over random paths from every section.

use proptest::prelude::*;
use proptest::sample::{select, subsequence};

/// A scenario and a sweep of it.
#[derive(Clone, Debug)]
pub struct Case {
    /// The scenario without its sweep.
    pub base: String,
    /// The swept paths and their values, as TOML literals; the sweep is their grid.
    pub sweep: Vec<(&'static str, Vec<&'static str>)>,
}

impl Case {
    /// The scenario with its `[[sweep]]` block.
    pub fn with_sweep(&self) -> String {
        let vary: Vec<String> = self
            .sweep
            .iter()
            .map(|(p, vs)| format!("\"{p}\" = [{}]", vs.join(", ")))
            .collect();
        format!(
            "{}\n[[sweep]]\nvary = {{ {} }}\n",
            self.base,
            vary.join(", ")
        )
    }

    /// Every point of the sweep as `PATH=VALUE` settings, in the sweep's order (a grid, the
    /// first path slowest).
    pub fn points(&self) -> Vec<Vec<String>> {
        let mut acc: Vec<Vec<String>> = vec![Vec::new()];
        for (p, vs) in &self.sweep {
            acc = acc
                .into_iter()
                .flat_map(|pt| {
                    vs.iter().map(move |v| {
                        let mut pt = pt.clone();
                        pt.push(format!("{p}={v}"));
                        pt
                    })
                })
                .collect();
        }
        acc
    }
}

/// Paths any generated scenario can sweep, one or more per section, with values valid for any
/// of them. Population 0 is always a TOTP population.
pub const SWEEPABLE: &[(&str, &[&str])] = &[
    ("run.seed", &["1", "2"]),
    ("run.horizon", &["\"12d\"", "\"25d\""]),
    ("run.decide", &["\"exact\"", "\"fast\""]),
    ("run.tokens", &["5", "9"]),
    (
        "validator.preset",
        &[
            "\"rfc6238\"",
            "\"vip\"",
            "\"freeipa\"",
            "\"fortiauthenticator\"",
            "\"multiotp\"",
            "\"otplib\"",
        ],
    ),
    ("validator.window.back", &["0", "2"]),
    ("validator.window.ahead", &["0", "2"]),
    ("validator.lockout.max_failures", &["0", "3"]),
    ("validator.replay", &["\"none\"", "\"time_forward\""]),
    ("validator.drift", &["\"none\"", "\"steps\""]),
    (
        "population[0].clock.initial_offset",
        &["\"0s\"", "\"50s\"", "\"-100s\""],
    ),
    ("population[0].clock.drift_ppm", &["0", "40"]),
    (
        "population[0].clock.events.manual_change.rate_per_year",
        &["0", "20"],
    ),
    ("population[0].token.digits", &["6", "8"]),
    ("population[0].token.step", &["\"30s\"", "\"60s\""]),
    ("population[0].battery.enabled", &["true", "false"]),
    ("population[0].user.logins_per_day", &["2", "12"]),
    ("population[0].user.retries", &["0", "2"]),
    ("population[0].user.retry_delay", &["\"30s\"", "\"10m\""]),
    ("population[0].user.delay", &["\"0s\"", "\"8s\""]),
    ("population[0].user.typo_probability", &["0", "0.15"]),
    ("population[0].recovery.enabled", &["true", "false"]),
    ("population[0].recovery.resync_probability", &["0", "1"]),
    ("attack.guesses_per_day", &["0", "150"]),
    (
        "timeline[0].at",
        &["\"2026-01-02\"", "\"2026-01-08T12:00:00Z\""],
    ),
    (
        "timeline[0].server_clock.step",
        &["\"0s\"", "\"+95s\"", "\"-40s\""],
    ),
];

/// The validator side over time: a server clock step (sometimes of nothing) and sometimes one
/// more event of another kind.
fn timeline() -> impl Strategy<Value = String> {
    (
        1u32..10,
        select(vec!["0s", "+95s", "-40s"]),
        proptest::option::of((2u32..30, 0usize..6, any::<bool>())),
    )
        .prop_map(|(d0, step, more)| {
            let mut s = format!(
                "\n[[timeline]]\nat = \"2026-01-{d0:02}\"\nserver_clock = {{ step = \"{step}\" }}\n"
            );
            if let Some((d, kind, flag)) = more {
                let at = format!("at = 2026-01-{d:02}T06:00:00Z\n");
                s += "\n[[timeline]]\n";
                s += &at;
                s += match kind {
                    0 => "set = { window = { back = 0, ahead = 1 }, replay = \"time_forward\" }\n",
                    1 => "reset_drift = true\npopulations = [\"p0\"]\n",
                    2 if flag => "migrate = { preset = \"privacyidea\" }\ncarry = true\n",
                    2 => "migrate = { preset = \"google-authenticator\" }\n",
                    3 => "server_clock = { drift_ppm = 400, until = \"2026-02-20\" }\n",
                    4 if flag => "server_clock = { return = \"slew\", rate_ppm = 200 }\n",
                    4 => "server_clock = { return = \"step\" }\n",
                    _ => "set = { lockout = { max_failures = 2, unlock_after = \"10m\" } }\n",
                };
            }
            s
        })
}

/// Sometimes a validator cluster: one to three nodes, any routing, any replication, node
/// clocks a step apart or alike, and with two or more nodes sometimes an outage. It comes last
/// in the scenario, so `base.split(CLUSTER)` is the scenario without it.
fn cluster() -> impl Strategy<Value = String> {
    proptest::option::of((
        1usize..4,
        select(vec!["round_robin", "random", "sticky", "failover"]),
        select(vec!["{ lag = \"0s\" }", "\"none\"", "{ lag = { dist = \"uniform\", min = \"0s\", max = \"40s\" } }"]),
        any::<bool>(),
        proptest::option::of(2u32..20),
    ))
    .prop_map(|c| {
        let Some((n, routing, replication, skewed, outage)) = c else {
            return String::new();
        };
        let nodes: Vec<String> = (0..n)
            .map(|k| {
                let offset = if skewed { 30 * k } else { 0 };
                format!("{{ name = \"n{k}\", offset = \"{offset}s\" }}")
            })
            .collect();
        let mut s = format!(
            "{CLUSTER}\nnodes = [{}]\nrouting = \"{routing}\"\nreplication = {replication}\n",
            nodes.join(", ")
        );
        if let (Some(d), true) = (outage, n > 1) {
            s += &format!(
                "\n[[timeline]]\nat = \"2026-01-{d:02}\"\noutage = {{ node = \"n0\", until = \"2026-01-{:02}T12:00:00Z\" }}\n",
                d + 2
            );
        }
        s
    })
}

/// Where a generated scenario's cluster starts.
pub const CLUSTER: &str = "\n[validator.cluster]";

fn population(i: usize, totp_only: bool) -> impl Strategy<Value = String> {
    let kinds = if totp_only {
        vec!["hardware", "phone", "desktop"]
    } else {
        vec!["hardware", "phone", "desktop", "hotp"]
    };
    (
        (select(kinds), select(vec![6u32, 8]), select(vec![30u32, 60])),
        (0u32..120, 0u32..60),
        (any::<bool>(), select(vec![0.05f64, 0.3, 5.0])),
        (0.3f64..30.0, 0u32..4, select(vec!["20s", "2m", "10m"])),
        (select(vec!["0s", "3s", "12s"]), 0.0f64..0.2, select(vec![0.0f64, 0.3]), select(vec![0.0f64, 0.0, 0.4])),
        (any::<bool>(), select(vec![0.0f64, 0.5, 1.0])),
        (select(vec![0.0f64, 6.0, 30.0]), select(vec![0.0f64, 4.0, 12.0]), select(vec![0.0f64, 3.0])),
    )
        .prop_map(
            move |((kind, digits, step), (sd_s, ppm), (battery, years), user, typing, rec, events)| {
                let (logins, retries, retry_delay) = user;
                let (delay, typo, push, resubmit) = typing;
                let (recovery, resync) = rec;
                // Clock events: hand-set clocks, time-zone mistakes, trips into the future.
                let (manual, zone, trip) = events;
                let token = if kind == "hotp" {
                    format!("{{ kind = \"hotp\", digits = {digits}, unsent_presses_per_day = 0.3 }}")
                } else {
                    format!("{{ kind = \"{kind}\", digits = {digits}, step = \"{step}s\" }}")
                };
                format!(
                    "[[population]]\nname = \"p{i}\"\ntoken = {token}\n\
                     clock = {{ initial_offset = {{ dist = \"normal\", mean = \"0s\", sd = \"{sd_s}s\" }}, \
                     drift_ppm = {{ dist = \"normal\", mean = 0, sd = {ppm} }}, \
                     events = {{ manual_change = {{ rate_per_year = {manual} }}, \
                     timezone_error = {{ rate_per_year = {zone}, corrected_after = \"1d\" }}, \
                     future_trip = {{ rate_per_year = {trip}, amount = \"25m\", back_after = \"2h\" }} }} }}\n\
                     battery = {{ enabled = {battery}, life_years = {years} }}\n\
                     recovery = {{ enabled = {recovery}, resync_probability = {resync} }}\n\
                     user = {{ logins_per_day = {logins:.3}, retries = {retries}, retry_delay = \"{retry_delay}\", \
                     delay = \"{delay}\", typo_probability = {typo:.3}, push_share = {push}, \
                     resubmit_probability = {resubmit}, resubmit_delay = {{ dist = \"exponential\", mean = \"2s\", clip = [\"0s\", \"20s\"] }} }}\n"
                )
            },
        )
}

/// A random scenario (one or two populations, the first TOTP) and a sweep of one or two paths.
pub fn case() -> impl Strategy<Value = Case> {
    let run = (
        select(vec!["12d", "25d", "40d"]),
        4u64..12,
        0u64..10_000,
        select(vec!["week", "10d", "month"]),
        select(vec!["exact", "fast"]),
    );
    let validator = (
        select(vec![
            "rfc6238",
            "vip",
            "privacyidea",
            "linotp",
            "freeipa",
            "rsa",
            "onespan",
            "django-otp",
            "keycloak",
            "pam-oath",
            "entra",
            "okta",
            "okta-google-authenticator",
            "duo",
            "fortiauthenticator",
            "authelia",
            "vaultwarden",
            "multiotp",
            "nextcloud",
            "blackberry",
            "otplib",
            "speakeasy",
        ]),
        proptest::option::of((0u32..3, 0u32..3)),
        proptest::option::of(0u32..6),
    );
    let attack = proptest::option::of((0.0f64..300.0, 0u64..4));
    let sweep = subsequence(SWEEPABLE.to_vec(), 1..=2);
    (
        run,
        validator,
        population(0, true),
        proptest::option::of(population(1, false)),
        // Without a timeline (and with no guesser or cluster) users take the engine's short way
        // to the validator, which must decide as the whole way round does.
        (attack, proptest::option::of(timeline()), cluster()),
        sweep,
    )
        .prop_map(|(run, (preset, window, lockout), p0, p1, (attack, timeline, cluster), mut sweep)| {
            let timeline = timeline.unwrap_or_default();
            if timeline.is_empty() {
                sweep.retain(|(p, _)| !p.starts_with("timeline["));
                if sweep.is_empty() {
                    // The validator's preset: settings that run side by side.
                    let preset = SWEEPABLE.iter().find(|(p, _)| *p == "validator.preset");
                    sweep.push(*preset.expect("the preset is sweepable"));
                }
            }
            let (horizon, tokens, seed, bucket, decide) = run;
            let mut s = format!(
                "[run]\nname = \"arb\"\nstart = \"2026-01-01\"\nhorizon = \"{horizon}\"\ntokens = {tokens}\n\
                 seed = {seed}\nbucket = \"{bucket}\"\ndecide = \"{decide}\"\n\n[validator]\npreset = \"{preset}\"\n"
            );
            if let Some((b, a)) = window {
                s += &format!("window = {{ back = {b}, ahead = {a} }}\n");
            }
            if let Some(m) = lockout {
                s += &format!("lockout = {{ max_failures = {m}, unlock_after = \"30m\" }}\n");
            }
            s += "\n";
            match p1 {
                Some(p1) => {
                    s += &p0.replace("name = \"p0\"\n", "name = \"p0\"\nshare = 0.6\n");
                    s += &p1.replace("name = \"p1\"\n", "name = \"p1\"\nshare = 0.4\n");
                }
                None => s += &p0,
            }
            if let Some((g, n)) = attack {
                s += &format!("\n[attack]\nguesses_per_day = {g:.2}\nsimulate_accounts = {n}\n");
            }
            s += &timeline;
            s += &cluster;
            Case {
                base: s,
                sweep: sweep.into_iter().map(|(p, v)| (p, v.to_vec())).collect(),
            }
        })
}
