//! Validator traces: named presets behave as the systems they model, and every preset is self-consistent.

use super::*;

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
        let docs = include_str!("../../../docs/validators.md");
        let anchor = p.source.split("docs/validators.md#").nth(1).unwrap();
        let anchor = anchor.trim_end_matches(')');
        assert!(
            docs.contains(&format!("\n## {anchor}\n")),
            "{}: no section {anchor} in docs/validators.md",
            p.name
        );
    }
}
