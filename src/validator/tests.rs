//! Hand-made traces for the validator: each test states the documented behaviour it checks.

use super::*;
use proptest::prelude::*;

const S: Millis = 30_000;
const TOTP: Scheme = Scheme::Totp { step_s: 30, t0: 0 };

/// An injective stand-in for HOTP so that a code identifies its step exactly.
fn code(step: i64) -> u32 {
    (step.rem_euclid(1_000_000) as u32) ^ 0x5a5a5
}

fn cfg(back: u32, ahead: u32) -> ValidatorConfig {
    ValidatorConfig {
        window_back: back,
        window_ahead: ahead,
        search: SearchOrder::CenterOut,
        drift: DriftLearning::None,
        replay: Replay::None,
        lockout: None,
        hotp_look_ahead: 10,
        server_offset_s: 0.0,
    }
}

fn submit(v: &ValidatorConfig, st: &mut CredentialState, now: Millis, step: i64) -> Decision {
    v.verify(st, TOTP, now, code(step), code)
}

#[test]
fn search_orders() {
    assert_eq!(SearchOrder::CenterOut.offsets(2, 2), vec![0, 1, -1, 2, -2]);
    assert_eq!(SearchOrder::BackFirst.offsets(1, 1), vec![0, -1, 1]);
    assert_eq!(
        SearchOrder::OldestFirst.offsets(6, 5),
        (-6..=5).collect::<Vec<_>>()
    );
    assert_eq!(SearchOrder::CenterOut.offsets(0, 3), vec![0, 1, 2, 3]);
}

#[test]
fn window_edges_are_inclusive_and_lopsided() {
    let v = cfg(6, 5); // privacyIDEA's 180 s window: 6 back, 5 ahead
    let now = 1000 * S + 10_000;
    for (off, ok) in [(-6, true), (-7, false), (5, true), (6, false), (0, true)] {
        let mut st = CredentialState::default();
        let d = submit(&v, &mut st, now, 1000 + off);
        assert_eq!(d.verdict == Verdict::Accepted, ok, "offset {off}");
        if ok {
            assert_eq!(d.offset, Some(off));
        }
    }
}

#[test]
fn chance_collision_matches_first_step_in_search_order() {
    // Every step has the same code: the first offset searched is the one matched.
    let now = 50 * S;
    for (order, want) in [
        (SearchOrder::OldestFirst, -2),
        (SearchOrder::CenterOut, 0),
        (SearchOrder::BackFirst, 0),
    ] {
        let v = ValidatorConfig {
            search: order,
            ..cfg(2, 2)
        };
        let d = v.verify(&mut CredentialState::default(), TOTP, now, 7, |_| 7);
        assert_eq!(d.offset, Some(want), "{order:?}");
    }
}

#[test]
fn time_forward_refuses_earlier_and_equal_steps() {
    let v = ValidatorConfig {
        replay: Replay::TimeForward,
        ..cfg(1, 1)
    };
    let mut st = CredentialState::default();
    let now = 100 * S;
    assert_eq!(submit(&v, &mut st, now, 101).verdict, Verdict::Accepted);
    assert_eq!(submit(&v, &mut st, now, 101).verdict, Verdict::Replay);
    assert_eq!(submit(&v, &mut st, now, 100).verdict, Verdict::Replay);
    // The watermark holds until real time passes the used step.
    assert_eq!(submit(&v, &mut st, now + S, 101).verdict, Verdict::Replay);
    assert_eq!(submit(&v, &mut st, now + S, 102).verdict, Verdict::Accepted);
}

#[test]
fn exact_steps_allows_older_unused_steps() {
    let v = ValidatorConfig {
        replay: Replay::ExactSteps,
        ..cfg(1, 1)
    };
    let mut st = CredentialState::default();
    let now = 100 * S;
    assert_eq!(submit(&v, &mut st, now, 101).verdict, Verdict::Accepted);
    assert_eq!(submit(&v, &mut st, now, 100).verdict, Verdict::Accepted);
    assert_eq!(submit(&v, &mut st, now, 101).verdict, Verdict::Replay);
}

#[test]
fn drift_in_steps_recentres_the_window() {
    let v = ValidatorConfig {
        drift: DriftLearning::Steps,
        ..cfg(1, 1)
    };
    let mut st = CredentialState::default();
    assert_eq!(submit(&v, &mut st, 100 * S, 101).offset, Some(1));
    assert_eq!(st.drift_steps, 1);
    // Two steps ahead of the server is now inside the window (centre +1).
    assert_eq!(submit(&v, &mut st, 200 * S, 202).verdict, Verdict::Accepted);
    assert_eq!(st.drift_steps, 2);
    let fixed = cfg(1, 1);
    assert_eq!(
        submit(&fixed, &mut CredentialState::default(), 200 * S, 202).verdict,
        Verdict::NoMatch
    );
}

#[test]
fn drift_in_seconds_stores_a_fraction_of_a_step() {
    // privacyIDEA: shift = start of matched step - now, so a perfect token accepted 20 s into
    // a step leaves shift = -20 s, and later the window centre sits one step back for the
    // first 20 s of every step.
    let v = ValidatorConfig {
        drift: DriftLearning::Seconds,
        ..cfg(1, 0)
    };
    let mut st = CredentialState::default();
    assert_eq!(
        submit(&v, &mut st, 100 * S + 20_000, 100).verdict,
        Verdict::Accepted
    );
    assert_eq!(st.shift_ms, -20_000);
    // 5 s into step 300 the centre is 299, window [298, 299]: the current step 300 fails.
    assert_eq!(
        submit(&v, &mut st, 300 * S + 5_000, 300).verdict,
        Verdict::NoMatch
    );
    // 25 s into the step the centre is 300 again.
    assert_eq!(
        submit(&v, &mut st, 300 * S + 25_000, 300).verdict,
        Verdict::Accepted
    );
}

#[test]
fn consistent_skew_needs_k_sightings_in_quick_succession() {
    let v = ValidatorConfig {
        drift: DriftLearning::Consistent { k: 3, search: 1500 },
        ..cfg(1, 1)
    };
    let mut st = CredentialState::default();
    // Token 40 steps (20 min) ahead: three codes at consecutive server steps.
    assert_eq!(submit(&v, &mut st, 100 * S, 140).verdict, Verdict::NoMatch);
    assert_eq!(submit(&v, &mut st, 101 * S, 141).verdict, Verdict::NoMatch);
    let d = submit(&v, &mut st, 102 * S, 142);
    assert_eq!((d.verdict, d.resynced), (Verdict::Accepted, true));
    assert_eq!(st.drift_steps, 40);
    assert_eq!(submit(&v, &mut st, 500 * S, 540).verdict, Verdict::Accepted);

    // Sightings more than two steps apart do not count.
    let mut st = CredentialState::default();
    for (i, t) in [100, 103, 106].into_iter().enumerate() {
        let d = submit(&v, &mut st, t * S, t + 40);
        assert_eq!(d.verdict, Verdict::NoMatch, "sighting {i}");
    }
    // Beyond the search range nothing is learned.
    let mut st = CredentialState::default();
    for t in 100..103 {
        assert_eq!(
            submit(&v, &mut st, t * S, t + 2000).verdict,
            Verdict::NoMatch
        );
    }
    assert_eq!(st.drift_steps, 0);
}

#[test]
fn lockout_after_max_failures_then_unlock() {
    let v = ValidatorConfig {
        lockout: Some(Lockout {
            max_failures: 3,
            unlock_after_s: Some(60.0),
        }),
        ..cfg(1, 1)
    };
    let mut st = CredentialState::default();
    let now = 100 * S;
    assert!(!submit(&v, &mut st, now, 50).locked_now);
    assert!(!submit(&v, &mut st, now, 50).locked_now);
    assert!(submit(&v, &mut st, now, 50).locked_now);
    assert_eq!(
        submit(&v, &mut st, now + 1000, 100).verdict,
        Verdict::Locked
    );
    assert_eq!(
        submit(&v, &mut st, now + 59_999, 101).verdict,
        Verdict::Locked
    );
    assert_eq!(
        submit(&v, &mut st, now + 60_000, 102).verdict,
        Verdict::Accepted
    );
}

#[test]
fn success_resets_the_failure_count() {
    let v = ValidatorConfig {
        lockout: Some(Lockout {
            max_failures: 2,
            unlock_after_s: None,
        }),
        ..cfg(1, 1)
    };
    let mut st = CredentialState::default();
    submit(&v, &mut st, 100 * S, 1);
    assert_eq!(submit(&v, &mut st, 100 * S, 100).verdict, Verdict::Accepted);
    assert!(!submit(&v, &mut st, 101 * S, 1).locked_now);
    assert!(submit(&v, &mut st, 101 * S, 1).locked_now);
    assert_eq!(
        submit(&v, &mut st, 10_000 * S, 10_000).verdict,
        Verdict::Locked
    );
}

#[test]
fn hotp_look_ahead_and_counter_resync() {
    let v = ValidatorConfig {
        hotp_look_ahead: 3,
        ..cfg(1, 1)
    };
    let mut st = CredentialState::default();
    let h = |st: &mut CredentialState, c: i64| v.verify(st, Scheme::Hotp, 0, code(c), code);
    assert_eq!(h(&mut st, 0).verdict, Verdict::Accepted);
    assert_eq!(h(&mut st, 0).verdict, Verdict::NoMatch); // used
    assert_eq!(h(&mut st, 4).verdict, Verdict::Accepted); // 3 presses never sent
    assert_eq!(st.hotp_next, 5);
    assert_eq!(h(&mut st, 9).verdict, Verdict::NoMatch); // 4 ahead: beyond look-ahead
}

#[test]
fn server_clock_offset_moves_the_window() {
    let v = ValidatorConfig {
        server_offset_s: 60.0,
        ..cfg(1, 1)
    };
    let mut st = CredentialState::default();
    assert_eq!(submit(&v, &mut st, 100 * S, 102).offset, Some(0));
}

proptest! {
    /// Under the time-forward rule no step is ever accepted twice, whatever is submitted when.
    #[test]
    fn time_forward_never_accepts_a_step_twice(
        window in 0u32..4,
        drift in prop_oneof![Just(DriftLearning::None), Just(DriftLearning::Steps), Just(DriftLearning::Seconds)],
        attempts in proptest::collection::vec((0i64..120_000, -6i64..6), 1..80),
    ) {
        let v = ValidatorConfig { replay: Replay::TimeForward, drift, ..cfg(window, window) };
        let mut st = CredentialState::default();
        let mut now = 1_000 * S;
        let mut accepted = std::collections::HashSet::new();
        for (gap, lead) in attempts {
            now += gap;
            let device_step = now.div_euclid(S) + lead;
            let d = submit(&v, &mut st, now, device_step);
            if d.verdict == Verdict::Accepted {
                prop_assert!(accepted.insert(d.matched.unwrap()), "step {:?} accepted twice", d.matched);
            }
        }
    }
}
