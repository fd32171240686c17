//! Validator traces: what limits failures: lockouts, throttles, rate limits, brute-force waits and delays.

use super::*;

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
