//! Validator traces: the window: search orders, edges, chance collisions, the server clock, HOTP look-ahead and a tolerance in seconds.

use super::*;

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

/// otplib 13's epochTolerance: the open steps are those some instant of [now - past,
/// now + future] falls in, so they follow the attempt's place in its step (the table measured
/// on the real library, docs/validators.md#otplib).
#[test]
fn a_tolerance_in_seconds_opens_the_steps_its_instants_fall_in() {
    let open = |past: f64, future: f64, at_s: i64| -> Vec<i64> {
        let mut v = cfg(0, 0);
        v.tolerance = Some(Tolerance {
            past_s: past,
            future_s: future,
        });
        (990..1010)
            .filter(|&s| {
                let mut st = CredentialState::default();
                v.verify(&mut st, TOTP, at_s * 1000, code(s), code).verdict == Verdict::Accepted
            })
            .collect()
    };
    // On the boundary of step 1000 (30000 s), as measured on otplib 13.5.0.
    assert_eq!(open(0.0, 0.0, 30_000), vec![1000]);
    assert_eq!(open(29.0, 29.0, 30_000), vec![999, 1000]);
    assert_eq!(open(30.0, 30.0, 30_000), vec![999, 1000, 1001]);
    assert_eq!(open(31.0, 31.0, 30_000), vec![998, 999, 1000, 1001]);
    assert_eq!(open(60.0, 60.0, 30_000), (998..=1002).collect::<Vec<_>>());
    assert_eq!(open(5.0, 0.0, 30_000), vec![999, 1000]);
    assert_eq!(open(0.0, 29.0, 30_000), vec![1000]);
    // At the step's last second.
    assert_eq!(open(1.0, 1.0, 30_029), vec![1000, 1001]);
    assert_eq!(open(29.0, 0.0, 30_029), vec![1000]);
    assert_eq!(open(30.0, 0.0, 30_029), vec![999, 1000]);
    // Milliseconds are dropped first (otplib's default epoch is whole seconds).
    let mut v = cfg(0, 0);
    v.tolerance = Some(Tolerance {
        past_s: 0.0,
        future_s: 1.0,
    });
    let mut st = CredentialState::default();
    let at = 30_028_999;
    assert_eq!(
        v.verify(&mut st, TOTP, at, code(1001), code).verdict,
        Verdict::NoMatch
    );
}

/// Over a step's 30 seconds, a tolerance of t seconds each way opens 1 + 2t/30 steps on
/// average: the guessing exposure and the code lifetime follow it.
#[test]
fn a_tolerance_opens_one_step_plus_its_width_on_average() {
    let mut v = cfg(0, 0);
    v.tolerance = Some(Tolerance {
        past_s: 40.0,
        future_s: 10.0,
    });
    let total: usize = (0..30)
        .map(|sec| {
            (990..1010)
                .filter(|&s| {
                    let mut st = CredentialState::default();
                    let at = (30_000 + sec) * 1000;
                    v.verify(&mut st, TOTP, at, code(s), code).verdict == Verdict::Accepted
                })
                .count()
        })
        .sum();
    assert!((total as f64 / 30.0 - v.open_steps(30)).abs() < 1e-12);
    assert_eq!(v.acceptance_lifetime_s(30), 80.0);
    assert_eq!(v.edges_s(30), (55.0, 25.0));
}
