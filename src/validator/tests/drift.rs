//! Validator traces: drift learning: in steps, in seconds, from consistent out-of-window codes.

use super::*;

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
