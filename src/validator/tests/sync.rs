//! Validator traces: resynchronisation: explicit sync procedures, automatic resync, next-code challenges and VIP's bands.

use super::*;

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
