//! Property tests over hostile input: every parser (durations, dates, scenarios, `--set`,
//! result CSVs, attempt logs, secrets, PSKC) returns a result or a positioned error for any
//! input, and never panics.

use proptest::prelude::*;

/// A bundled scenario with one character inserted, replaced or deleted somewhere.
fn mutated(text: &'static str) -> impl Strategy<Value = String> {
    (0..text.len(), any::<char>(), 0u8..3).prop_map(move |(at, ch, how)| {
        let mut at = at;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut s = text.to_string();
        match how {
            0 => s.insert(at, ch),
            1 if at < s.len() => {
                s.remove(at);
                s.insert(at, ch);
            }
            _ if at < s.len() => {
                s.remove(at);
            }
            _ => {}
        }
        s
    })
}

const QUICKSTART: &str = include_str!("../scenarios/quickstart.toml");
const SWEEP: &str = include_str!("../scenarios/window-sweep.toml");
const ATTEMPTS: &str = include_str!("../tests/rules/vip/attempts.csv");
const PSKC: &str = include_str!("../tests/fixtures/rfc6030-figure2.pskcxml");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn durations_and_dates_never_panic(s in "\\PC{0,40}") {
        let _ = crate::time::parse_duration(&s);
        let _ = crate::time::parse_rfc3339(&s);
        let _ = crate::time::parse_time_arg(&s);
    }

    #[test]
    fn overrides_never_panic(path in "[a-z_\\.\\[\\]0-9]{0,30}", value in "\\PC{0,20}") {
        if let Ok(o) = crate::scenario::Override::parse(&format!("{path}={value}")) {
            let _ = crate::scenario::Scenario::from_toml_with("q.toml", QUICKSTART, &[o]);
        }
    }

    #[test]
    fn result_tables_attempt_logs_and_secrets_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = crate::results::read_rows::<crate::results::SummaryRow>("s.csv", &bytes, Some(0), |_, _, _| Ok(()));
        let _ = crate::results::SweepTable::from_csv("sweep.csv", &bytes);
        let secrets = crate::pipeline::replay::read_secrets("secrets.csv", &bytes);
        if let Ok(s) = secrets {
            let _ = crate::pipeline::replay::read_attempts("a.csv", &bytes, &s, false);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn mutated_scenarios_are_checked_without_panic(text in mutated(QUICKSTART)) {
        let _ = crate::scenario::Scenario::from_toml("q.toml", &text);
    }

    #[test]
    fn mutated_sweeps_are_checked_without_panic(text in mutated(SWEEP)) {
        if let Ok(sc) = crate::scenario::Scenario::from_toml("s.toml", &text) {
            let _ = crate::scenario::sweep::settings("s.toml", &text, &[], &sc);
        }
    }

    #[test]
    fn mutated_logs_and_pskc_never_panic(log in mutated(ATTEMPTS), pskc in mutated(PSKC)) {
        let secrets = crate::pipeline::replay::read_secrets(
            "s.csv",
            b"credential,secret\nwindow,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
        ).unwrap();
        let _ = crate::pipeline::replay::read_attempts("a.csv", log.as_bytes(), &secrets, false);
        let _ = crate::results::pskc::read("p.xml", &pskc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any preset, any sequence of requests at any times (within the years otpdrift handles),
    /// with any codes: the validator decides without panicking or overflowing.
    #[test]
    fn the_validator_decides_any_request_sequence(
        preset in proptest::sample::select(crate::validator::presets::all().into_iter().map(|p| p.name).collect::<Vec<_>>()),
        requests in proptest::collection::vec((0u8..4, -62_000_000_000_000i64..253_000_000_000_000, any::<u32>(), any::<u32>()), 1..60),
    ) {
        use crate::validator::{presets, CredentialState, Scheme};
        let v = presets::find(preset).unwrap().config;
        let keyed = crate::otp::Keyed::new(crate::otp::Algorithm::Sha1, b"12345678901234567890");
        let code_of = |s: i64| if s < 0 { crate::otp::NO_CODE } else { keyed.hotp(s as u64, 6) };
        let mut st = CredentialState::enrolled(0);
        let scheme = Scheme::Totp { step_s: 30, t0: 0 };
        for (what, at, a, b) in requests {
            match what {
                0 => { v.verify(&mut st, scheme, at, a % 1_000_000, code_of); }
                1 => { let _ = v.sync(&mut st, scheme, at, &[a % 1_000_000, b % 1_000_000], code_of); }
                2 => st.unlock(),
                _ => { v.verify(&mut st, Scheme::Hotp, at, a % 1_000_000, code_of); }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Under every preset that locks, a locked credential refuses every attempt, even the right
    /// code, until the lock ends or the helpdesk clears it; and a lock, once set, lies ahead.
    #[test]
    fn a_lock_refuses_every_attempt_until_it_ends(
        preset in proptest::sample::select(crate::validator::presets::all().into_iter().filter(|p| p.config.lockout.is_some()).map(|p| p.name).collect::<Vec<_>>()),
        requests in proptest::collection::vec((0u8..10, 0i64..7_200_000, any::<u32>()), 1..80),
    ) {
        use crate::validator::{presets, CredentialState, Scheme, Verdict};
        let v = presets::find(preset).unwrap().config;
        let keyed = crate::otp::Keyed::new(crate::otp::Algorithm::Sha1, b"12345678901234567890");
        let code_of = |s: i64| keyed.hotp(s as u64, 6);
        let scheme = Scheme::Totp { step_s: 30, t0: 0 };
        let mut now = 1_767_225_600_000i64;
        let mut st = CredentialState::enrolled(now);
        for (what, gap, wrong) in requests {
            now += gap;
            if what == 0 {
                st.unlock();
                continue;
            }
            // Mostly wrong codes, so that locks happen; sometimes the right one.
            let code = if what < 3 { code_of(now / 30_000) } else { (code_of(now / 30_000) + 1 + wrong % 999_999) % 1_000_000 };
            let locked_before = st.locked_until.filter(|u| now < *u);
            let d = v.verify(&mut st, scheme, now, code, code_of);
            if locked_before.is_some() {
                prop_assert_eq!(d.verdict, Verdict::Locked, "{} at {} locked until {:?}", preset, now, locked_before);
                prop_assert_eq!(st.locked_until, locked_before, "a refused attempt moves no lock");
            }
            if d.locked_now {
                prop_assert!(st.locked_until.is_some_and(|u| u > now), "{}: lock set in the past", preset);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Tokens whose batteries run out within the run: no code read after a token died is ever
    /// accepted (a submission comes 5 s after reading), and every death is counted.
    #[test]
    fn a_dead_token_is_never_accepted(
        seed in 0u64..1_000_000,
        life_codes in 60u32..300,
        logins in 2u32..8,
        hotp in any::<bool>(),
    ) {
        use crate::sim::{run_traced, TraceAction, TraceOutcome, TraceSelect};
        use crate::validator::Verdict;
        let text = format!(
            "[run]\nhorizon = \"1y\"\ntokens = 6\nseed = {seed}\n[[population]]\ntoken = {{ kind = \"{}\" }}\nbattery = {{ life_codes = {life_codes}, life_years = 3 }}\nuser = {{ logins_per_day = {logins}, delay = \"5s\" }}\nrecovery = {{ replace_probability = 1 }}\n",
            if hotp { "hotp" } else { "hardware" }
        );
        let sc = crate::scenario::Scenario::from_toml("s.toml", &text).unwrap();
        let r = run_traced(&sc, 0..6, TraceSelect::All, &|_| {});
        let died: std::collections::HashMap<&str, i64> = r
            .tokens
            .iter()
            .filter_map(|t| t.died.map(|(at, _)| (t.credential.as_str(), at)))
            .collect();
        prop_assert!(!died.is_empty(), "{life_codes} codes at {logins} a day outlive a year");
        for e in &r.trace {
            if let (TraceAction::Verify(_), TraceOutcome::Verified(d)) = (&e.action, e.outcome) {
                if let Some(&at) = died.get(e.credential.as_str()) {
                    // The last code shown may still be typed in (5 s later); none after it.
                    prop_assert!(
                        !(d.verdict == Verdict::Accepted && e.time > at + 5_000),
                        "{} accepted at {} after dying at {}", e.credential, e.time, at
                    );
                }
            }
        }
        // Every battery death is counted (tokens retired otherwise, e.g. replaced as failing,
        // are in `died` too, under their own cause).
        let deaths: u64 = r.tally.pops.iter().map(|p| p.total.deaths_battery).sum();
        let battery = r
            .tokens
            .iter()
            .filter(|t| matches!(t.died, Some((_, crate::token::DeathCause::Battery))))
            .count();
        prop_assert_eq!(deaths as usize, battery);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Drift analysis of any observations, at any times the calendar holds: no panic, every
    /// observation is used or set aside exactly once, a step between each pair of segments,
    /// and intervals that hold their estimate.
    #[test]
    fn drift_analysis_of_any_observations_is_whole(
        obs in proptest::collection::vec(
            (-62_135_596_800_000i64..253_370_764_800_000, -1e9f64..1e9, prop_oneof![Just(0.0f64), Just(30.0), 0.0f64..3600.0]),
            0..120,
        ),
        now in -62_135_596_800_000i64..253_370_764_800_000,
        threshold in 1.0f64..1e6,
    ) {
        use crate::analyze::{estimate, Exit, Observation, Settings};
        let mut o: Vec<Observation> = obs.iter().map(|&(t, lo, w)| Observation { t, lo, hi: lo + w }).collect();
        let s = Settings {
            edges: (-45.0, 45.0),
            now,
            threshold_s: threshold,
            horizon_ms: (100 * 31_557_600_000i64).min(253_370_764_800_000 - now).max(0),
        };
        let e = estimate(&mut o, &s);
        prop_assert_eq!(e.observations + e.outliers, o.len());
        prop_assert_eq!(e.assigned.len(), o.len());
        prop_assert_eq!(e.steps.len(), e.segments.len().saturating_sub(1));
        if let Some(p) = e.ppm {
            prop_assert!(p.low <= p.value && p.value <= p.high, "{:?}", p);
        }
        if let Exit::At { at, early, late } = e.exit {
            prop_assert!(early <= at, "{} > {}", early, at);
            if let Some(l) = late {
                prop_assert!(at <= l, "{} > {}", at, l);
            }
        }
    }
}
