//! Validator traces: replay rules: time-forward, exact steps, pam_oath's last code, and the trap a clock set ahead leaves.

use super::*;
use proptest::prelude::*;

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
