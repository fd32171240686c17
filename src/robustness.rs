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
            let _ = crate::pipeline::replay::read_attempts("a.csv", &bytes, &s);
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
            let _ = crate::scenario::sweep::settings("s.toml", &text, &sc);
        }
    }

    #[test]
    fn mutated_logs_and_pskc_never_panic(log in mutated(ATTEMPTS), pskc in mutated(PSKC)) {
        let secrets = crate::pipeline::replay::read_secrets(
            "s.csv",
            b"credential,secret\nwindow,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
        ).unwrap();
        let _ = crate::pipeline::replay::read_attempts("a.csv", log.as_bytes(), &secrets);
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
        let code_of = |s: i64| if s < 0 { crate::validator::NO_CODE } else { keyed.hotp(s as u64, 6) };
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
