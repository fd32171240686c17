//! The common path (`verify_plain`) against `verify`: over random submissions to every preset
//! whose decisions it may take, the same decisions and the same state, attempt for attempt.

use super::*;
use crate::rng::behaviour_at;
use rand::Rng as _;

/// Submits a random sequence to two states of `v`: one decided by `verify` alone, the other
/// by `verify_plain` first and `verify` when it declines. Returns how many `verify_plain`
/// accepted.
fn run_both(v: &ValidatorConfig, seed: u64) -> usize {
    let mut a = CredentialState::enrolled(0);
    let mut b = CredentialState::enrolled(0);
    let mut rng = behaviour_at(seed, 0);
    let (mut now, mut skew, mut plain) = (1_000 * S, 0i64, 0);
    for _ in 0..400 {
        now += rng.random_range(S..(8 * S));
        // The token's skew wanders and sometimes jumps out of any window and back.
        skew = match rng.random_range(0..40) {
            0 => rng.random_range(-40..40),
            1..=4 => 0,
            5 => skew + 1,
            6 => skew - 1,
            _ => skew,
        };
        let server = now.div_euclid(S);
        let step = match rng.random_range(0..10) {
            // The same code again, a stale one, a typo.
            0 => a.last_step.unwrap_or(server),
            1 => server + skew - 1,
            2 => -1,
            _ => server + skew,
        };
        let sent = if step < 0 {
            code(server + 500_000)
        } else {
            code(step)
        };
        let da = v.verify(&mut a, TOTP, now, sent, code);
        let db = match v.verify_plain(&mut b, (30, 0), now, (sent, step), code) {
            Some(s) => {
                plain += 1;
                assert_eq!(da.verdict, Verdict::Accepted, "{:?}", v.preset);
                assert_eq!((da.matched, da.resynced), (Some(s), None));
                da
            }
            None => v.verify(&mut b, TOTP, now, sent, code),
        };
        assert_eq!(da, db, "{:?} at {now}", v.preset);
        assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "{:?} at {now}",
            v.preset
        );
    }
    plain
}

#[test]
fn the_common_path_decides_as_verify_does() {
    let (mut runs, mut plain) = (0, 0);
    for p in presets::all() {
        if !p.config.decides_plainly() {
            continue;
        }
        for (i, w) in [None, Some((0, 0)), Some((2, 1))].into_iter().enumerate() {
            let mut v = p.config.clone();
            if let Some((back, ahead)) = w {
                (v.window_back, v.window_ahead) = (back, ahead);
            }
            let n = run_both(&v, i as u64 + 7);
            // A preset that locks for good (an administrator unlocks) may lock before its
            // first success; any other accepts some code the common way.
            let for_good = v.lockout.is_some_and(|l| l.unlock_after_s.is_none());
            assert!(n > 0 || for_good, "{}: no code the common way", p.name);
            (runs, plain) = (runs + 1, plain + n);
        }
    }
    // Most presets decide plainly (the guarded ones, with rate limits or throttles, never take
    // the common path), and a third of the codes sent to them go the common way.
    assert!(runs >= 3 * 12, "{runs}");
    assert!(plain * 10 > runs * 400 * 3, "{plain} of {}", runs * 400);
    assert!(!presets::find("authelia").unwrap().config.decides_plainly());
}
