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
        preset: None,
        window_back: back,
        window_ahead: ahead,
        search: SearchOrder::CenterOut,
        drift: DriftLearning::None,
        replay: Replay::None,
        skip_refused: false,
        lockout: None,
        throttle: None,
        delay: None,
        rate_limit: None,
        brute_force: None,
        sync: None,
        auto_resync: None,
        next_code: None,
        idle_widening: None,
        tolerance: None,
        auto_sync: None,
        sync_band: None,
        initial_window: None,
        numeric_codes: false,
        code_syntax: CodeSyntax::Trimmed,
        secret_bytes: None,
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
    assert_eq!(
        (d.verdict, d.resynced),
        (Verdict::Accepted, Some(Resync::ConsistentSkew))
    );
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
            failure_interval_s: None,
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
            failure_interval_s: None,
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

fn preset(name: &str) -> ValidatorConfig {
    presets::find(name).unwrap().config
}

fn sync(
    v: &ValidatorConfig,
    st: &mut CredentialState,
    now: Millis,
    steps: &[i64],
) -> Result<i64, SyncFailure> {
    let codes: Vec<u32> = steps.iter().map(|s| code(*s)).collect();
    v.sync(st, TOTP, now, &codes, code)
}

#[test]
fn two_code_sync_needs_consecutive_codes_inside_the_sync_window() {
    let v = ValidatorConfig {
        sync: Some(SyncProcedure {
            codes: 2,
            window: 20,
            search: SyncSearch::Nearest,
            refuse_next: false,
            centre_beyond: false,
        }),
        drift: DriftLearning::Explicit,
        replay: Replay::TimeForward,
        ..cfg(1, 1)
    };
    let now = 1000 * S;
    let mut st = CredentialState::enrolled(0);
    assert_eq!(
        sync(&v, &mut st, now, &[1015, 1017]),
        Err(SyncFailure::NotConsecutive)
    );
    assert_eq!(
        sync(&v, &mut st, now, &[1020, 1021]),
        Err(SyncFailure::OutsideWindow)
    ); // 1021 is 21 ahead
    assert_eq!(
        sync(&v, &mut st, now, &[1030, 1031]),
        Err(SyncFailure::OutsideWindow)
    );
    assert_eq!(st.drift_steps, 0);
    assert_eq!(sync(&v, &mut st, now, &[1019, 1020]), Ok(20));
    assert_eq!(st.drift_steps, 20);
    assert_eq!(st.last_step, Some(1020));
    // Later codes of the same clock now pass the normal window.
    assert_eq!(
        submit(&v, &mut st, 2000 * S, 2020).verdict,
        Verdict::Accepted
    );
    // Codes already used cannot sync again.
    assert_eq!(
        sync(&v, &mut st, 2000 * S, &[2019, 2020]),
        Err(SyncFailure::Replay)
    );
    let none = cfg(1, 1);
    assert_eq!(
        sync(&none, &mut CredentialState::default(), now, &[1000, 1001]),
        Err(SyncFailure::Unsupported)
    );
}

#[test]
fn the_time_forward_trap_lasts_until_real_time_passes_the_used_step() {
    // VIP: a clock 25 minutes (50 steps) fast is resynced through the "Test" page; its codes
    // then pass. The clock is fixed ten minutes later: every code fails, and even the sync
    // procedure refuses the (correct) codes as replays, until real time passes the last step
    // used while fast.
    let v = preset("vip");
    let mut st = CredentialState::enrolled(0);
    let t_sync = 10_000 * S + 3_000;
    assert_eq!(sync(&v, &mut st, t_sync, &[10_049, 10_050]), Ok(50));
    let t_login = t_sync + 20 * S;
    assert_eq!(
        submit(&v, &mut st, t_login, 10_070).verdict,
        Verdict::Accepted
    );
    let watermark = 10_070;
    // Clock fixed at t_fix: the device now shows the server's own step.
    let t_fix = t_login + 10 * 60_000;
    let mut t = t_fix;
    let mut first_ok = None;
    while t < t_fix + 3_600_000 {
        let step = t.div_euclid(S);
        let login = submit(&v, &mut st, t, step);
        if login.verdict == Verdict::Accepted {
            first_ok = Some(t);
            break;
        }
        let synced = sync(&v, &mut st, t, &[step, step + 1]);
        if step <= watermark {
            assert_eq!(synced, Err(SyncFailure::Replay), "at step {step}");
        } else {
            assert!(synced.is_ok(), "at step {step}: {synced:?}");
            first_ok = Some(t);
            break;
        }
        st.unlock();
        t += S;
    }
    // Sync with the codes of steps (s, s+1) first works when s > watermark: the trap ends
    // exactly when real time passes the last used step: the 25 minutes the clock was ahead,
    // less the 10 minutes between the last login and the fix, plus the used step itself.
    let first_ok = first_ok.expect("the trap ends");
    assert_eq!(first_ok.div_euclid(S), watermark + 1);
    assert_eq!(first_ok - t_fix, (watermark + 1 - t_fix.div_euclid(S)) * S);
    assert_eq!(first_ok - t_fix, 25 * 60_000 - 10 * 60_000 + S);
}

#[test]
fn linotp_auto_resync_when_switched_on_takes_a_second_code_one_to_three_steps_later() {
    // AutoResync is off by default (totptoken.py reads it with default false).
    assert_eq!(preset("linotp").auto_resync, None);
    let v = ValidatorConfig {
        auto_resync: Some(AutoResync {
            window: 1000,
            max_gap: 3,
            timeout_s: f64::INFINITY,
            style: AutoStyle::Nearest,
        }),
        ..preset("linotp")
    };
    let mut st = CredentialState::enrolled(0);
    let now = 5000 * S;
    // 100 steps ahead: outside the window (10 back, 9 ahead).
    assert_eq!(submit(&v, &mut st, now, 5100).verdict, Verdict::NoMatch);
    // The same step again is not a second code; four steps later is too far.
    assert_eq!(
        submit(&v, &mut st, now + 10_000, 5100).verdict,
        Verdict::NoMatch
    );
    assert_eq!(
        submit(&v, &mut st, now + 20_000, 5104).verdict,
        Verdict::NoMatch
    );
    let d = submit(&v, &mut st, now + 40_000, 5106);
    assert_eq!(
        (d.verdict, d.resynced),
        (Verdict::Accepted, Some(Resync::Auto))
    );
    assert_eq!(st.drift_steps, 5106 - 5001);
}

#[test]
fn rsa_next_tokencode_within_3_intervals_widening_to_10_after_3_failures() {
    // RSA article a19272: ±1 interval accepted; ±3 with the next tokencode; ±10 only after 3
    // failures (and the next tokencode).
    let v = preset("rsa");
    let mut st = CredentialState::enrolled(0);
    let now = 700 * S;
    let d = submit(&v, &mut st, now, 703);
    assert_eq!(d.verdict, Verdict::NextCodeRequired);
    assert_eq!(st.failures, 0);
    let d = submit(&v, &mut st, now + S, 704);
    assert_eq!(
        (d.verdict, d.resynced),
        (Verdict::Accepted, Some(Resync::NextCode))
    );
    assert_eq!(st.drift_steps, 704 - 701);
    // A wrong next code ends the challenge as a failure.
    let mut st = CredentialState::enrolled(0);
    assert_eq!(
        submit(&v, &mut st, now, 703).verdict,
        Verdict::NextCodeRequired
    );
    assert_eq!(submit(&v, &mut st, now + S, 720).verdict, Verdict::NoMatch);
    assert_eq!(st.failures, 1);
    // Beyond ±3 a miss is a plain miss, until three failures in a row widen the band to ±10.
    assert_eq!(submit(&v, &mut st, now, 706).verdict, Verdict::NoMatch);
    assert_eq!(st.failures, 2);
    assert_eq!(submit(&v, &mut st, now, 706).verdict, Verdict::NoMatch);
    assert_eq!(st.failures, 3);
    assert_eq!(
        submit(&v, &mut st, now, 706).verdict,
        Verdict::NextCodeRequired
    );
    assert_eq!(submit(&v, &mut st, now, 711).verdict, Verdict::NoMatch);
}

#[test]
fn rsa_policy_demands_the_next_tokencode_after_n_incorrect_passcodes() {
    let v = ValidatorConfig {
        next_code: Some(NextCode {
            window: 3,
            wide_after: 3,
            wide_window: 10,
            require_after: Some(2),
        }),
        ..preset("rsa")
    };
    let mut st = CredentialState::enrolled(0);
    let now = 700 * S;
    submit(&v, &mut st, now, 750);
    submit(&v, &mut st, now, 750);
    // Even the correct code now gets a challenge; the next code gets the user in.
    assert_eq!(
        submit(&v, &mut st, now, 700).verdict,
        Verdict::NextCodeRequired
    );
    assert_eq!(submit(&v, &mut st, now + S, 701).verdict, Verdict::Accepted);
}

#[test]
fn vip_bands_accept_and_resync_or_ask_for_the_sync_procedure() {
    // Broadcom KB 222352: validation window, auto-sync window (accepted, re-synced),
    // manual-sync window (error 4923), beyond: replace.
    let v = ValidatorConfig {
        auto_sync: Some(20),
        sync_band: Some(64),
        ..cfg(10, 10)
    };
    let now = 1000 * S;
    let mut st = CredentialState::enrolled(0);
    assert_eq!(submit(&v, &mut st, now, 1010).verdict, Verdict::Accepted);
    let d = submit(&v, &mut st, now, 1018);
    assert_eq!(
        (d.verdict, d.resynced),
        (Verdict::Accepted, Some(Resync::Auto))
    );
    assert_eq!(st.drift_steps, 18);
    let mut st = CredentialState::enrolled(0);
    assert_eq!(
        submit(&v, &mut st, now, 1050).verdict,
        Verdict::SyncRequired
    );
    assert_eq!(submit(&v, &mut st, now, 1065).verdict, Verdict::NoMatch);
}

#[test]
fn onespan_initial_window_holds_until_the_first_success() {
    // OneSpan SyncWindow: ±3 h after import or reset, then the identification window.
    let v = preset("onespan");
    let now = 10_000 * S;
    let mut st = CredentialState::enrolled(now);
    assert_eq!(
        submit(&v, &mut st, now, 10_000 + 350).verdict,
        Verdict::Accepted
    );
    assert_eq!(
        submit(&v, &mut st, now + 60 * S, 10_060 + 350 + 12).verdict,
        Verdict::NoMatch
    );
}

#[test]
fn onespan_dynamic_window_widens_with_idle_days_when_its_flag_is_set() {
    assert_eq!(preset("onespan").idle_widening, None);
    let v = ValidatorConfig {
        window_back: 5,
        window_ahead: 5,
        initial_window: None,
        idle_widening: Some(IdleWidening {
            steps_per_day: 2.0 / 30.0,
            max_extra: 20,
        }),
        ..preset("onespan")
    };
    // Enrolled at 0; 150 days later the window is 5 + 10 steps each side.
    let now = 150 * 86_400_000 + 7 * S;
    let server = now.div_euclid(S);
    let mut st = CredentialState::enrolled(0);
    assert_eq!(
        submit(&v, &mut st, now, server + 15).verdict,
        Verdict::Accepted
    );
    let mut st = CredentialState::enrolled(0);
    assert_eq!(
        submit(&v, &mut st, now, server + 16).verdict,
        Verdict::NoMatch
    );
    // Right after a success the window is back to ±5.
    let mut st = CredentialState::enrolled(now - 1000);
    assert_eq!(
        submit(&v, &mut st, now, server + 6).verdict,
        Verdict::NoMatch
    );
}

#[test]
fn privacyidea_is_lopsided_oldest_first_and_learns_seconds() {
    let v = preset("privacyidea");
    assert_eq!(
        (v.window_back, v.window_ahead, v.search),
        (6, 5, SearchOrder::OldestFirst)
    );
    let mut st = CredentialState::enrolled(0);
    let now = 1000 * S + 12_000;
    assert_eq!(submit(&v, &mut st, now, 994).verdict, Verdict::Accepted);
    assert_eq!(st.shift_ms, -6 * S - 12_000);
    // With every step sharing a code the oldest step of the window is matched.
    let mut st = CredentialState::enrolled(0);
    assert_eq!(v.verify(&mut st, TOTP, 2000 * S, 1, |_| 1).offset, Some(-6));
}

#[test]
fn freeipa_learns_drift_only_by_explicit_sync() {
    let v = preset("freeipa");
    let mut st = CredentialState::enrolled(0);
    assert_eq!(submit(&v, &mut st, 100 * S, 108).verdict, Verdict::Accepted);
    assert_eq!(st.drift_steps, 0, "a success does not move the window");
    assert_eq!(submit(&v, &mut st, 200 * S, 210).verdict, Verdict::NoMatch);
    assert_eq!(sync(&v, &mut st, 200 * S, &[210, 211]), Ok(11));
    assert_eq!(submit(&v, &mut st, 300 * S, 320).verdict, Verdict::Accepted);
}

#[test]
fn keycloak_refuses_the_same_code_but_not_older_unused_ones() {
    let v = preset("keycloak");
    assert_eq!(v.search.offsets(1, 1), vec![0, -1, 1]);
    let mut st = CredentialState::enrolled(0);
    assert_eq!(submit(&v, &mut st, 100 * S, 100).verdict, Verdict::Accepted);
    assert_eq!(submit(&v, &mut st, 100 * S, 100).verdict, Verdict::Replay);
    assert_eq!(submit(&v, &mut st, 100 * S, 99).verdict, Verdict::Accepted);
    assert_eq!(st.drift_steps, 0);
    assert_eq!(submit(&v, &mut st, 100 * S, 102).verdict, Verdict::NoMatch);
}

#[test]
fn django_otp_skips_used_steps_while_searching() {
    let v = preset("django-otp");
    let mut st = CredentialState::enrolled(0);
    assert_eq!(submit(&v, &mut st, 100 * S, 100).verdict, Verdict::Accepted);
    // Every step shares the code: steps 99 and 100 are skipped (not after the last used),
    // so 101 matches instead of a replay.
    let d = v.verify(&mut st, TOTP, 100 * S, 5, |_| 5);
    assert_eq!((d.verdict, d.matched), (Verdict::Accepted, Some(101)));
    // The re-sent code of step 101 finds nothing usable: a miss, not a replay.
    assert_eq!(submit(&v, &mut st, 100 * S, 101).verdict, Verdict::NoMatch);
}

#[test]
fn pam_oath_has_a_fixed_five_step_window() {
    let v = preset("pam-oath");
    let mut st = CredentialState::enrolled(0);
    assert_eq!(submit(&v, &mut st, 100 * S, 105).verdict, Verdict::Accepted);
    assert_eq!(st.drift_steps, 0);
    assert_eq!(submit(&v, &mut st, 200 * S, 206).verdict, Verdict::NoMatch);
    assert_eq!(submit(&v, &mut st, 200 * S, 104).verdict, Verdict::NoMatch);
    assert_eq!(submit(&v, &mut st, 200 * S, 196).verdict, Verdict::Accepted);
    assert_eq!(submit(&v, &mut st, 200 * S, 195).verdict, Verdict::Replay);
}

#[test]
fn rfc6238_and_google_authenticator_presets() {
    let v = preset("rfc6238");
    let mut st = CredentialState::enrolled(0);
    assert_eq!(submit(&v, &mut st, 100 * S, 99).verdict, Verdict::Accepted); // one step back
    assert_eq!(st.drift_steps, -1);
    assert_eq!(submit(&v, &mut st, 100 * S, 99).verdict, Verdict::Replay);
    assert_eq!(submit(&v, &mut st, 100 * S, 98).verdict, Verdict::Replay); // older: refused
    let g = preset("google-authenticator");
    assert_eq!(
        g.search.offsets(g.window_back, g.window_ahead),
        vec![-1, 0, 1]
    );
    assert_eq!(g.drift, DriftLearning::Consistent { k: 3, search: 1500 });
    let mut st = CredentialState::enrolled(0);
    assert_eq!(submit(&g, &mut st, 100 * S, 100).verdict, Verdict::Accepted);
    assert_eq!(submit(&g, &mut st, 100 * S, 99).verdict, Verdict::Accepted); // unused older step
    assert_eq!(submit(&g, &mut st, 100 * S, 100).verdict, Verdict::Replay);
    assert!(g.lockout.is_none() && g.sync.is_none());
}

#[test]
fn every_preset_is_self_consistent() {
    let names: Vec<&str> = presets::all().iter().map(|p| p.name).collect();
    assert_eq!(names.len(), 25);
    for p in presets::all() {
        let c = &p.config;
        assert_eq!(c.preset.as_deref(), Some(p.name));
        if let Some(s) = c.sync {
            assert!(s.window >= c.window_back.max(c.window_ahead), "{}", p.name);
        }
        assert!(!p.source.is_empty() && !p.summary.is_empty());
        // A seconds window keeps the steps fields as the most it opens at 30 s, which the
        // sync and next-code bands are checked against.
        if let Some(t) = c.tolerance {
            let most = |s: f64| (s / 30.0).ceil() as u32;
            assert_eq!(
                (c.window_back, c.window_ahead),
                (most(t.past_s), most(t.future_s))
            );
        }
        // The source points at a section of docs/validators.md that exists.
        let docs = include_str!("../../docs/validators.md");
        let anchor = p.source.split("docs/validators.md#").nth(1).unwrap();
        let anchor = anchor.trim_end_matches(')');
        assert!(
            docs.contains(&format!("\n## {anchor}\n")),
            "{}: no section {anchor} in docs/validators.md",
            p.name
        );
    }
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

#[test]
fn django_otp_throttle_refuses_uncounted_until_the_doubling_wait_has_passed() {
    // factor 1 s: after the n-th failure in a row, wait 2^(n-1) s (django-otp ThrottlingMixin).
    let v = ValidatorConfig {
        throttle: Some(Throttle { factor_s: 1.0 }),
        ..cfg(1, 1)
    };
    let mut st = CredentialState::enrolled(0);
    let t = 1000 * S;
    let wrong = |v: &ValidatorConfig, st: &mut CredentialState, at: Millis| {
        v.verify(st, TOTP, at, 999_999_999, code).verdict
    };
    assert_eq!(wrong(&v, &mut st, t), Verdict::NoMatch);
    assert_eq!(st.failures, 1);
    // Within 1 s: refused without comparing or counting, even a correct code.
    assert_eq!(submit(&v, &mut st, t + 999, 1000).verdict, Verdict::Locked);
    assert_eq!(st.failures, 1);
    // At exactly 1 s the wait is over.
    assert_eq!(wrong(&v, &mut st, t + 1000), Verdict::NoMatch);
    assert_eq!(st.failures, 2);
    assert_eq!(submit(&v, &mut st, t + 2999, 1000).verdict, Verdict::Locked);
    assert_eq!(
        submit(&v, &mut st, t + 3000, 1000).verdict,
        Verdict::Accepted
    );
    assert_eq!(st.failures, 0);
}

#[test]
fn pam_oath_last_code_rule_refuses_the_same_code_and_steps_up_to_where_it_is_found() {
    let v = ValidatorConfig {
        replay: Replay::LastCode,
        ..cfg(5, 5)
    };
    let mut st = CredentialState::enrolled(0);
    let t = 1000 * S;
    assert_eq!(submit(&v, &mut st, t, 1002).verdict, Verdict::Accepted);
    // The same code, and any step up to the last code's step, are refused.
    assert_eq!(submit(&v, &mut st, t + 1, 1002).verdict, Verdict::Replay);
    assert_eq!(submit(&v, &mut st, t + 1, 1001).verdict, Verdict::Replay);
    assert_eq!(submit(&v, &mut st, t + 1, 1003).verdict, Verdict::Accepted);
    // Once the last code's step has left the window, an earlier step is accepted again
    // (a watermark would refuse it).
    assert_eq!(
        submit(&v, &mut st, t - 20 * S, 1000 - 20).verdict,
        Verdict::Accepted
    );
}

#[test]
fn exact_step_reuse_forgets_steps_that_cannot_share_a_window_with_the_new_one() {
    // libpam DISALLOW_REUSE: entries W or more steps from the matched step are pruned.
    let v = ValidatorConfig {
        replay: Replay::ExactSteps,
        ..cfg(1, 1)
    };
    let mut st = CredentialState::enrolled(0);
    assert_eq!(
        submit(&v, &mut st, 1000 * S, 1000).verdict,
        Verdict::Accepted
    );
    assert_eq!(submit(&v, &mut st, 1000 * S, 1000).verdict, Verdict::Replay);
    assert_eq!(
        submit(&v, &mut st, 1003 * S, 1003).verdict,
        Verdict::Accepted
    );
    // A clock set back three steps: step 1000 was pruned when 1003 was accepted.
    assert_eq!(
        submit(&v, &mut st, 1000 * S, 1000).verdict,
        Verdict::Accepted
    );
}

#[test]
fn privacyidea_resync_searches_each_code_and_refuses_the_next_step() {
    // privacyIDEA totptoken.resync: shift to the middle of the second code's step, count =
    // second + 1, so the step right after is refused too.
    let v = ValidatorConfig {
        drift: DriftLearning::Seconds,
        replay: Replay::TimeForward,
        sync: Some(SyncProcedure {
            codes: 2,
            window: 1000,
            search: SyncSearch::Separate,
            refuse_next: true,
            centre_beyond: false,
        }),
        lockout: Some(Lockout {
            max_failures: 1,
            unlock_after_s: None,
            failure_interval_s: None,
        }),
        ..cfg(6, 5)
    };
    let mut st = CredentialState::enrolled(0);
    let now = 1000 * S + 5_000;
    // Locked by one failure: privacyIDEA's resync works on a locked token all the same.
    v.verify(&mut st, TOTP, now, 999_999_999, code);
    assert!(st.is_locked(now));
    assert_eq!(
        v.sync(&mut st, TOTP, now, &[code(1040), code(1041)], code),
        Ok(41)
    );
    assert_eq!(st.shift_ms, 1041 * S + S / 2 - now);
    st.unlock();
    assert_eq!(submit(&v, &mut st, now + S, 1042).verdict, Verdict::Replay);
    st.unlock();
    assert_eq!(
        submit(&v, &mut st, now + S, 1043).verdict,
        Verdict::Accepted
    );
    // Codes that are each in the window but not consecutive.
    assert_eq!(
        v.sync(&mut st, TOTP, now + 2 * S, &[code(1500), code(1502)], code),
        Err(SyncFailure::NotConsecutive)
    );
}

#[test]
fn freeipa_lockout_counts_failures_within_60_s_and_locks_for_600_s() {
    // FreeIPA password policy (kerberos.ldif: krbPwdMaxFailure 6, krbPwdFailureCountInterval
    // 60, krbPwdLockoutDuration 600): a failure 60 s after the previous one starts a new count.
    let v = preset("freeipa");
    let mut st = CredentialState::enrolled(0);
    let t = 1000 * S;
    let wrong = |st: &mut CredentialState, at: Millis| v.verify(st, TOTP, at, 999_999_999, code);
    for i in 0..5 {
        wrong(&mut st, t + i * 10_000);
    }
    assert_eq!(st.failures, 5);
    wrong(&mut st, t + 40_000 + 60_000);
    assert_eq!(st.failures, 1, "the sixth came 60 s after the fifth");
    for i in 1..6 {
        wrong(&mut st, t + 100_000 + i * 1_000);
    }
    assert!(st.is_locked(t + 105_000));
    let unlocked = t + 105_000 + 600_000;
    assert_eq!(
        submit(&v, &mut st, unlocked - 1, 3_501).verdict,
        Verdict::Locked
    );
    assert_eq!(
        submit(&v, &mut st, unlocked, unlocked.div_euclid(S)).verdict,
        Verdict::Accepted
    );
}

#[test]
fn freeipa_sync_centres_the_window_one_step_beyond_the_second_code() {
    // otp_token.c: watermark = s + 2, clockOffset = (s + 2 - now/step) * step.
    let v = preset("freeipa");
    let mut st = CredentialState::enrolled(0);
    let now = 1000 * S;
    assert_eq!(
        v.sync(&mut st, TOTP, now, &[code(1500), code(1501)], code),
        Ok(501)
    );
    assert_eq!(st.drift_steps, 502);
    // The window is ±9 around step 1502: 1511 is in, 1501 (used) is skipped.
    assert_eq!(submit(&v, &mut st, now, 1511).verdict, Verdict::Accepted);
    assert_eq!(submit(&v, &mut st, now, 1501).verdict, Verdict::NoMatch);
}

#[test]
fn linotp_resync_accepts_the_very_next_step() {
    // LinOTP sets count = second code + 1 as the next expected counter, unlike privacyIDEA.
    let v = preset("linotp");
    let mut st = CredentialState::enrolled(0);
    let now = 1000 * S;
    assert_eq!(
        v.sync(&mut st, TOTP, now, &[code(1040), code(1041)], code),
        Ok(41)
    );
    assert_eq!(
        submit(&v, &mut st, now + S, 1042).verdict,
        Verdict::Accepted
    );
}

#[test]
fn privacyidea_replay_rejects_the_whole_attempt() {
    // totptoken.py: if the first match is at or before the last used step, the attempt fails
    // without searching further.
    let v = preset("privacyidea");
    let mut st = CredentialState::enrolled(0);
    let now = 1000 * S;
    assert_eq!(submit(&v, &mut st, now, 1000).verdict, Verdict::Accepted);
    assert_eq!(
        submit(&v, &mut st, now + 1000, 999).verdict,
        Verdict::Replay
    );
    assert_eq!(st.failures, 1, "a replay counts as a failure");
}

#[test]
fn libpam_rate_limit_refuses_unchecked_beyond_n_attempts_in_m_seconds() {
    // pam_google_authenticator.c rate_limit (l.1002-1125): RATE_LIMIT 3 30.
    let v = ValidatorConfig {
        rate_limit: Some(RateLimit {
            attempts: 3,
            per_s: 30.0,
        }),
        ..cfg(1, 1)
    };
    let mut st = CredentialState::enrolled(0);
    let t = 1000 * S;
    for i in 0..3 {
        assert_ne!(
            submit(&v, &mut st, t + i * 1000, 1000).verdict,
            Verdict::Locked
        );
    }
    // The fourth within 30 s is refused without checking, even with a correct code.
    assert_eq!(submit(&v, &mut st, t + 3000, 1000).verdict, Verdict::Locked);
    // Refused attempts are kept: 30 s after the first, three newer ones still fill the limit.
    assert_eq!(
        submit(&v, &mut st, t + 31_000, 1001).verdict,
        Verdict::Locked
    );
    assert_eq!(
        submit(&v, &mut st, t + 70_000, 1002).verdict,
        Verdict::Accepted
    );
}

#[test]
fn keycloak_brute_force_waits_grow_with_every_thirty_failures_when_switched_on() {
    // DefaultBruteForceProtector (l.118-162): failureFactor 30, waitIncrement 60 s.
    let v = ValidatorConfig {
        brute_force: Some(BruteForce {
            failures: 30,
            wait_increment_s: 60.0,
            max_wait_s: 900.0,
            quick_login_s: 1.0,
            min_quick_wait_s: 60.0,
            reset_after_s: 12.0 * 3600.0,
        }),
        ..preset("keycloak")
    };
    let mut st = CredentialState::enrolled(0);
    let t = 1000 * S;
    let wrong = |st: &mut CredentialState, at: Millis| v.verify(st, TOTP, at, 999_999_999, code);
    for i in 0..29 {
        assert_eq!(wrong(&mut st, t + i * 2000).verdict, Verdict::NoMatch);
    }
    assert_eq!(wrong(&mut st, t + 29 * 2000).verdict, Verdict::NoMatch);
    // The 30th failure: a 60 s wait, during which even the right code is not compared.
    let at = t + 29 * 2000 + 59_000;
    assert_eq!(
        submit(&v, &mut st, at, at.div_euclid(S)).verdict,
        Verdict::Locked
    );
    assert_eq!(st.failures, 30);
    let at = t + 29 * 2000 + 60_000;
    assert_eq!(
        submit(&v, &mut st, at, at.div_euclid(S)).verdict,
        Verdict::Accepted
    );
    // A quick second failure (under 1 s) waits 60 s.
    let mut st = CredentialState::enrolled(0);
    wrong(&mut st, t);
    wrong(&mut st, t + 500);
    assert_eq!(
        submit(&v, &mut st, t + 59_000, 1000).verdict,
        Verdict::Locked
    );
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

/// multiOTP's delay: after 3 failures in a row, attempts within 300 s of the last failure are
/// refused without being compared or counted; a success after it clears the count.
#[test]
fn a_delay_refuses_uncounted_until_it_has_passed() {
    let mut v = cfg(1, 1);
    v.delay = Some(Delay {
        after: 3,
        wait_s: 300.0,
    });
    v.lockout = Some(Lockout {
        max_failures: 6,
        unlock_after_s: None,
        failure_interval_s: None,
    });
    let mut st = CredentialState::default();
    let t0 = 1_000_000_000;
    for i in 0..3 {
        assert_eq!(
            v.verify(&mut st, TOTP, t0 + i * 1000, 7, code).verdict,
            Verdict::NoMatch
        );
    }
    let now = t0 + 2000 + 299_999;
    let step = now / 30_000;
    assert_eq!(submit(&v, &mut st, now, step).verdict, Verdict::Locked);
    assert_eq!(st.failures, 3, "refused attempts are not counted");
    let now = t0 + 2000 + 300_000;
    assert_eq!(
        submit(&v, &mut st, now, now / 30_000).verdict,
        Verdict::Accepted
    );
    assert_eq!(st.failures, 0);
}
