//! Metamorphic and accounting property tests over random scenarios that vary every section:
//! wherever two paths must agree (a sweep point and the plain run of its setting, shards and
//! the whole, one thread and two) they agree exactly, and every login of every user is
//! accounted for.

use crate::metrics::{Buckets, PopTally, Tally};
use crate::scenario::{sweep::settings, Override, Scenario};
use crate::sim::{self, audit, RunResult, TraceSelect};
use proptest::prelude::*;

#[path = "../tests/support/arb.rs"]
mod arb;

fn scenario(text: &str, sets: &[String]) -> Scenario {
    let sets: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    Scenario::from_toml_with("arb.toml", text, &sets)
        .unwrap_or_else(|e| panic!("a generated scenario is valid:\n{e}\n{text}\n{sets:?}"))
}

fn alone(sc: &Scenario) -> RunResult {
    sim::run(sc, 0..sc.run.tokens, &|_| {})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Every sweep point gives exactly what the plain run of its setting (by `--set`) gives,
    /// whatever section the swept path is in. Sweeps run settings side by side where they
    /// can: a sweep over a clock, user, token, battery, recovery, run or attack field once
    /// returned the first setting's figures at every point.
    #[test]
    fn a_sweep_point_is_the_plain_run_of_its_setting(case in arb::case()) {
        let text = case.with_sweep();
        let base = scenario(&text, &[]);
        let (points, scenarios) = settings("arb.toml", &text, &[], &base).unwrap();
        let sets = case.points();
        prop_assert_eq!(points.len(), sets.len());
        let swept = sim::run_points(&scenarios, &|_| {});
        for ((sc, r), set) in scenarios.iter().zip(&swept).zip(&sets) {
            let plain = scenario(&text, set);
            prop_assert!(sc == &plain, "the point's scenario is its --set's: {:?}", set);
            let a = alone(&plain);
            prop_assert_eq!(r.tally.all().total, a.tally.all().total, "{:?}\n{}", set, text);
            prop_assert_eq!(&r.tally, &a.tally, "{:?}\n{}", set, text);
            prop_assert_eq!(&r.population_names, &a.population_names);
        }
    }

    /// A run is the merge of its shards (any split), and the same on one thread as on two.
    #[test]
    fn shards_and_threads_do_not_change_a_run(case in arb::case(), cut in 0.0f64..1.0, cut2 in 0.0f64..1.0) {
        let sc = scenario(&case.base, &[]);
        let n = sc.run.tokens;
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| sim::run_traced(&sc, 0..n, TraceSelect::All, &|_| {}))
        };
        let (one, two) = (on(1), on(2));
        prop_assert_eq!(&one, &two);
        let mut cuts = [(cut * n as f64) as u64, (cut2 * n as f64) as u64];
        cuts.sort();
        let mut merged = Tally::default();
        let (mut tokens, mut trace) = (Vec::new(), Vec::new());
        for shard in [0..cuts[0], cuts[0]..cuts[1], cuts[1]..n] {
            let part = sim::run_traced(&sc, shard, TraceSelect::All, &|_| {});
            merged = merged.merge(part.tally);
            tokens.extend(part.tokens);
            trace.extend(part.trace);
        }
        merged.settle();
        prop_assert_eq!(&merged, &one.tally);
        prop_assert_eq!(&tokens, &one.tokens);
        prop_assert_eq!(&trace, &one.trace);
    }

    /// Tracing a run changes nothing but the trace: an untraced user without a guesser,
    /// cluster or timeline takes the engine's short way to the validator (`Life::plain`), a
    /// traced one the whole way round, and both decide every attempt alike.
    #[test]
    fn tracing_changes_no_figure(case in arb::case()) {
        let sc = scenario(&case.base, &[]);
        let n = sc.run.tokens;
        let plain = sim::run(&sc, 0..n, &|_| {});
        let traced = sim::run_traced(&sc, 0..n, TraceSelect::All, &|_| {});
        prop_assert_eq!(&plain.tally, &traced.tally, "{}", case.base);
        prop_assert_eq!(&plain.tokens, &traced.tokens);
        prop_assert!(plain.trace.is_empty());
        prop_assert!(!traced.trace.is_empty(), "every traced user enrols");
    }

    /// Every login of every user, audited: counted once; no login starts before the previous
    /// one is done (a login that comes due meanwhile is that login); at most `1 + retries`
    /// code attempts a try, each after at most one next-code challenge, and at most one
    /// try per recovery step; every attempt belongs to a login; requests in time order.
    #[test]
    fn every_login_is_accounted_for(case in arb::case()) {
        let sc = scenario(&case.base, &[]);
        let buckets = Buckets::new(sc.run.bucket, sc.run.start, sc.run.end());
        for i in 0..sc.run.tokens {
            let pop = sc.population_of(i);
            let p = &sc.populations[pop];
            let mut tally = PopTally::new(buckets.len());
            let ((_, trace), log) = audit::recording(|| {
                sim::simulate_token(&sc, &buckets, pop, i, &mut tally, true)
            });
            let mut user = Tally { pops: vec![tally] };
            user.settle();
            let c = user.pops[0].total;
            prop_assert_eq!(log.len() as u64, c.logins, "user {} counts every login once", i);
            let attempts: u64 = log.iter().map(|l| l.made.attempts).sum();
            prop_assert_eq!(attempts, c.attempts, "user {}: every attempt belongs to a login", i);
            // On a cluster, every attempt that reached a validator was decided by one node, in
            // its login's bucket.
            if let Some(cl) = &sc.cluster {
                let per = cl.nodes.len();
                let t = &user.pops[0];
                prop_assert_eq!(t.nodes.len(), per * buckets.len());
                let decided: u64 = log.iter().map(|l| l.made.attempts - l.made.undecided).sum();
                prop_assert_eq!(t.nodes.iter().map(|x| x.attempts).sum::<u64>(), decided, "user {}", i);
                for (b, c) in t.buckets.iter().enumerate() {
                    let n = &t.nodes[b * per..(b + 1) * per];
                    prop_assert!(n.iter().map(|x| x.attempts).sum::<u64>() <= c.attempts, "user {} bucket {}", i, b);
                    prop_assert_eq!(n.iter().map(|x| x.accepted).sum::<u64>(), c.accepted, "user {} bucket {}", i, b);
                }
            }
            prop_assert!(c.resubmissions <= c.attempts);
            let ladder = 5;
            let mut done = i64::MIN;
            for l in &log {
                prop_assert_eq!(l.user, i);
                prop_assert!(l.start > done, "user {}: a login at {} before the last ended at {}", i, l.start, done);
                prop_assert!(l.end >= l.start);
                done = l.end;
                let m = l.made;
                let slots = u64::from(m.tries) * u64::from(1 + p.user.retries);
                prop_assert!(m.tries <= ladder, "user {}: {:?}", i, m);
                prop_assert!(m.attempts - m.challenges <= slots && m.attempts <= 2 * slots,
                    "user {}: {:?} with {} retries", i, m, p.user.retries);
                if !l.with_token {
                    prop_assert_eq!(m, audit::Made::default());
                }
            }
            let trace = trace.unwrap();
            // The trace has the server's time, which a server clock stepped back puts out of
            // order (as a real validator's log would be).
            let forward = |path: &[crate::validator::schedule::Knot]| path.iter().all(|k| {
                crate::validator::schedule::offset_at(path, k.at - 1) <= k.offset_ms
            });
            // Nodes on different clocks answer out of order too.
            let one_clock = sc.schedules.iter().all(|s| s.nodes.windows(2).all(|w| w[0] == w[1]));
            let steady = one_clock
                && sc.schedules.iter().all(|s| forward(&s.clock) && s.nodes.iter().all(|n| forward(n)));
            for w in trace.events.windows(2).filter(|_| steady) {
                prop_assert!(w[0].time <= w[1].time, "user {}: requests out of order", i);
            }
        }
    }

    /// A timeline's `set` at the run's start is the scenario with those fields set, whatever
    /// else the timeline does later.
    #[test]
    fn a_set_at_the_start_is_the_changed_scenario(case in arb::case(), b in 0u32..3, a in 0u32..3) {
        let with_event = format!(
            "{}\n[[timeline]]\nat = \"2026-01-01\"\nset = {{ window = {{ back = {b}, ahead = {a} }}, drift = \"seconds\" }}\n",
            case.base
        );
        let sets = [
            format!("validator.window.back={b}"),
            format!("validator.window.ahead={a}"),
            "validator.drift=\"seconds\"".to_string(),
        ];
        let (x, y) = (alone(&scenario(&with_event, &[])), alone(&scenario(&case.base, &sets)));
        prop_assert_eq!(&x.tally, &y.tally, "{}", with_event);
        prop_assert_eq!(&x.tokens, &y.tokens);
    }

    /// A migration to the very validator in force that carries the credentials' state changes
    /// nothing.
    #[test]
    fn a_migration_to_the_same_validator_carrying_state_changes_nothing(case in arb::case(), day in 2u32..28) {
        let base = case.base.split("\n[[timeline]]").next().unwrap();
        let table: Vec<&str> = base
            .split("[validator]\n")
            .nth(1)
            .unwrap()
            .lines()
            .take_while(|l| !l.is_empty())
            .collect();
        let migrate = format!(
            "{base}\n[[timeline]]\nat = \"2026-01-{day:02}\"\nmigrate = {{ {} }}\ncarry = true\n",
            table.join(", ")
        );
        let plain = alone(&scenario(base, &[]));
        let carried = alone(&scenario(&migrate, &[]));
        prop_assert_eq!(&plain.tally, &carried.tally, "{}", migrate);
        prop_assert_eq!(&plain.tokens, &carried.tokens);
    }

    /// A cluster whose nodes cannot decide apart is the single validator, byte for byte:
    /// one node; nodes on one clock sharing one state (replication lag 0), whatever the
    /// routing; nodes on one clock that each user always meets the same one of (sticky or
    /// failover routing, no outage), whatever the replication. Only the per-node counts are
    /// new, and they add up to the attempts.
    #[test]
    fn a_cluster_that_cannot_disagree_is_the_single_validator(
        case in arb::case(),
        n in 1usize..5,
        routing in proptest::sample::select(vec!["round_robin", "random", "sticky", "failover"]),
        replication in proptest::sample::select(vec!["{ lag = \"0s\" }", "\"none\"", "{ lag = \"5m\" }"]),
    ) {
        let base = case.base.split(arb::CLUSTER).next().unwrap();
        let replication = match (n, routing) {
            (1, _) | (_, "sticky" | "failover") => replication,
            _ => "{ lag = \"0s\" }",
        };
        // One node serves each user, but the others keep another state: they would decide
        // some requests otherwise (counted), on codes computed for the comparison.
        let apart = n > 1 && !replication.contains("\"0s\"");
        let nodes: Vec<String> = (0..n).map(|k| format!("{{ name = \"n{k}\" }}")).collect();
        let text = format!(
            "{base}{}\nnodes = [{}]\nrouting = \"{routing}\"\nreplication = {replication}\n",
            arb::CLUSTER,
            nodes.join(", ")
        );
        let (one, many) = (scenario(base, &[]), scenario(&text, &[]));
        let traced = |sc: &Scenario| sim::run_traced(sc, 0..sc.run.tokens, TraceSelect::All, &|_| {});
        let (a, mut b) = (traced(&one), traced(&many));
        let all = b.tally.all();
        prop_assert_eq!(all.nodes.iter().map(|x| x.accepted).sum::<u64>(), all.total.accepted);
        for p in &mut b.tally.pops {
            p.nodes.clear();
            if apart {
                for c in p.buckets.iter_mut().chain([&mut p.total]) {
                    c.decisions_differing_by_node = 0;
                    c.lock_split_requests = 0;
                }
            }
        }
        if apart {
            b.tokens.iter_mut().zip(&a.tokens).for_each(|(x, y)| x.hmacs = y.hmacs);
        }
        prop_assert_eq!(&a.tally, &b.tally, "{}", text);
        prop_assert_eq!(&a.tokens, &b.tokens);
        prop_assert_eq!(&a.trace, &b.trace);
    }

    /// When nothing blocks the user (a perfect clock, no typos, no replay rule: nothing to
    /// retry), their logins follow the schedule: about `logins_per_day × days` over whole weeks, less those that come due while one
    /// is being typed (at most a few per cent at 40 a day).
    #[test]
    fn logins_follow_the_schedule_when_nothing_blocks_the_user(
        seed in 0u64..10_000,
        rate in 0.5f64..40.0,
        delay in 0u32..12,
        kind in proptest::sample::select(vec!["hardware", "phone"]),
        exact in any::<bool>(),
    ) {
        let text = format!(
            "[run]\nhorizon = \"56d\"\ntokens = 30\nseed = {seed}\n\
             [validator]\nreplay = \"none\"\ndrift = \"none\"\n\
             [[population]]\ntoken = {{ kind = \"{kind}\" }}\n\
             clock = {{ profile = \"ideal\", initial_offset = \"0s\" }}\nbattery = {{ enabled = false }}\n\
             user = {{ logins_per_day = {rate:.3}, schedule = \"{}\", delay = \"{delay}s\", typo_probability = 0 }}\n",
            if exact { "exact" } else { "poisson" }
        );
        let sc = scenario(&text, &[]);
        let c = alone(&sc).tally.all().total;
        let expected = sc.populations[0].user.expected_logins(56.0) * 30.0;
        prop_assert_eq!(c.logins_ok, c.logins, "nothing blocks these users");
        prop_assert_eq!(c.attempts, c.logins);
        let absorbed = 0.03 * expected;
        let sd = if exact { 1.0 } else { expected.sqrt() };
        let n = c.logins as f64;
        prop_assert!(n <= expected + 4.0 * sd && n >= expected - absorbed - 4.0 * sd - 30.0,
            "{} logins, {} expected ({})", n, expected, text);
    }
}

#[test]
fn a_retry_never_meets_a_login_that_came_due_meanwhile() {
    // The fleet: a 1-s step, a time-forward rule, 288 logins a day, one retry 10
    // minutes later. A login that came due during the wait once started at the retry's
    // instant, read the same code, was refused as a replay and retried 10 minutes later into
    // the next one: a chain that replaced the user's own logins. Now replays come only from
    // two logins in one second: rare, and never more than one attempt in a hundred.
    let text = "[run]\nhorizon = \"7d\"\ntokens = 100\nseed = 3\n\
        [validator]\ndrift = \"none\"\nreplay = \"time_forward\"\nlockout = { max_failures = 0 }\nsync = \"none\"\n\
        [[population]]\ntoken = { kind = \"hardware\", step = \"1s\" }\n\
        clock = { profile = \"ideal\", initial_offset = \"0s\" }\nbattery = { enabled = false }\nrecovery = { enabled = false }\n\
        user = { logins_per_day = 288, retries = 1, retry_delay = \"10m\", delay = \"0s\", typo_probability = 0 }\n";
    let sc = scenario(text, &[]);
    let c = alone(&sc).tally.all().total;
    let expected = sc.populations[0].user.expected_logins(7.0) * 100.0;
    assert!(
        c.rejected_replay * 100 < c.attempts,
        "{} replays in {} attempts",
        c.rejected_replay,
        c.attempts
    );
    assert!(
        (c.logins as f64) > 0.97 * expected,
        "{} logins of {expected}",
        c.logins
    );
    assert!(c.attempts <= 2 * c.logins);
}

/// The server clock stepped X ahead at the start decides every code as if every device clock
/// were X behind (hardware tokens, which never set their clocks, and no recovery ladder, whose
/// clock fix sets a device to true time, not to the server's): the same decisions.
#[test]
fn a_server_clock_step_is_every_device_clock_stepped_back() {
    // Whole steps: a user waits for a fresh code by the phase of the device's step, which a
    // step of a fraction of one would move against the logins' true times.
    for (seed, x) in [(1u64, 90i64), (2, -60), (3, 690)] {
        let fleet = |mean: i64, timeline: &str| {
            format!(
                "[run]\nhorizon = \"40d\"\ntokens = 40\nseed = {seed}\n\
                 [validator]\npreset = \"privacyidea\"\n\
                 [[population]]\ntoken = {{ kind = \"hardware\" }}\n\
                 clock = {{ initial_offset = {{ dist = \"normal\", mean = \"{mean}s\", sd = \"40s\" }}, drift_ppm = {{ dist = \"normal\", mean = 0, sd = 15 }} }}\n\
                 user = {{ logins_per_day = 6, retries = 1 }}\nrecovery = {{ enabled = false }}\n{timeline}"
            )
        };
        let server = fleet(
            0,
            &format!("[[timeline]]\nat = \"2026-01-01\"\nserver_clock = {{ step = \"{x:+}s\" }}\n"),
        );
        let devices = fleet(-x, "");
        let (a, b) = (
            alone(&scenario(&server, &[])),
            alone(&scenario(&devices, &[])),
        );
        let (ta, tb) = (a.tally.all().total, b.tally.all().total);
        assert_eq!(
            (
                ta.attempts,
                ta.accepted,
                ta.rejected_out_of_window,
                ta.rejected_replay
            ),
            (
                tb.attempts,
                tb.accepted,
                tb.rejected_out_of_window,
                tb.rejected_replay
            ),
            "step {x:+}s, seed {seed}"
        );
        // Every decision and count alike, bucket by bucket; the device-offset histograms
        // differ by X by construction.
        for (pa, pb) in a.tally.pops.iter().zip(&b.tally.pops) {
            assert_eq!(pa.buckets, pb.buckets, "step {x:+}s, seed {seed}");
        }
        assert!(a.tally.all().total.attempts > 1000);
    }
}

/// Devices 2.5 steps ahead of true time and a ±1 window refuse every code; from the day a
/// timeline widens the window, or steps the server clock to the devices' time, every code is
/// accepted at the first try (week buckets, the event at the third week's start).
#[test]
fn a_timeline_event_changes_the_decisions_from_its_instant() {
    let fleet = |event: &str| {
        format!(
            "[run]\nhorizon = \"28d\"\ntokens = 20\nseed = 5\nbucket = \"week\"\n\
             [validator]\npreset = \"rfc6238\"\ndrift = \"none\"\nreplay = \"none\"\nlockout = {{ max_failures = 0 }}\n\
             [[population]]\ntoken = {{ kind = \"hardware\" }}\n\
             clock = {{ profile = \"ideal\", initial_offset = \"75s\" }}\nbattery = {{ enabled = false }}\n\
             recovery = {{ enabled = false }}\n\
             user = {{ logins_per_day = 4, retries = 0, typo_probability = 0, delay = \"0s\" }}\n\
             [[timeline]]\nat = \"2026-01-15\"\n{event}\n"
        )
    };
    for event in [
        "set = { window = { ahead = 3 } }",
        "server_clock = { step = \"+75s\" }",
    ] {
        let r = alone(&scenario(&fleet(event), &[]));
        let b = &r.tally.pops[0].buckets;
        assert_eq!(b.len(), 4);
        for (i, c) in b.iter().enumerate() {
            assert!(c.logins > 20, "{event}: week {i}: {} logins", c.logins);
            let want = if i < 2 { 0 } else { c.logins };
            assert_eq!(c.first_try_ok, want, "{event}: week {i}");
        }
    }
}
