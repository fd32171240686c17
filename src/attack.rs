//! The online guessing attacker: how likely a guess is to succeed under a validator setting,
//! how many guesses the lockout lets through, and what a stolen code is worth (its lifetime).
//!
//! RFC 4226 s7 (and Appendix A): with s acceptable values, a guess succeeds with probability
//! about s / 10^digits, and the lockout bounds the number of guesses. NIST SP 800-63B limits
//! a time-based OTP's lifetime to 2 minutes and consecutive failures to 100.

pub use crate::scenario::AttackSpec;
use crate::scenario::Scenario;
use crate::validator::{DriftLearning, ValidatorConfig};
use serde::Serialize;

/// The analytic side of one validator setting against one population's codes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exposure {
    /// Steps whose code a guess can hit.
    pub accepted_steps: f64,
    pub p_guess: f64,
    /// Guesses per day that the lockout (or throttling) lets through.
    pub guesses_per_day: f64,
    pub p_success_day: f64,
    pub p_success_year: f64,
    /// How long a stolen or phished code stays valid, seconds.
    pub code_lifetime_s: f64,
    /// The longest it can stay valid (idle widening at its widest).
    pub code_lifetime_max_s: f64,
    /// Lifetime under 2 minutes and at most 100 consecutive failures (NIST SP 800-63B).
    pub meets_nist: bool,
    /// The chance that a code replayed [`REPLAY_DELAY_S`] after the user's accepted login (a
    /// real-time phishing relay) is accepted again: 1 without a replay rule (TOTP); on a
    /// cluster, the chance it reaches another node before the first node's row does
    /// (docs/cluster.md).
    pub replay_p_accept: f64,
}

/// How long after the user a relayed code is replayed, seconds.
pub const REPLAY_DELAY_S: f64 = 5.0;

/// P(X > x) for a law, from a fixed-seed sample (exact for fixed laws).
fn p_exceeds(d: &crate::dist::Dist, x: f64) -> f64 {
    use rand::SeedableRng;
    if let crate::dist::Dist::Fixed(v) = d {
        return if *v > x { 1.0 } else { 0.0 };
    }
    let mut rng = crate::rng::Rng::seed_from_u64(0x5EED);
    let n = 20_000;
    (0..n).filter(|_| d.sample(&mut rng) > x).count() as f64 / n as f64
}

/// What a cluster adds: how many nodes an attacker's guesses spread over, each with its own
/// failure count (1 when the nodes share their state or one node takes an account's
/// requests), and the chance that a replayed code reaches a node that has not heard of it.
fn cluster_terms(sc: &Scenario) -> (f64, f64) {
    use crate::scenario::{Replication, Routing};
    let Some(cl) = &sc.cluster else {
        return (1.0, 0.0);
    };
    let n = cl.nodes.len() as f64;
    // The share of an account's next request that goes to another node.
    let elsewhere = match cl.routing {
        Routing::Random => (n - 1.0) / n,
        Routing::RoundRobin if n > 1.0 => 1.0,
        _ => 0.0,
    };
    match &cl.replication {
        Replication::None if elsewhere > 0.0 => (n, elsewhere),
        Replication::None => (1.0, 0.0),
        Replication::Lag(l) => (1.0, elsewhere * p_exceeds(l, REPLAY_DELAY_S)),
    }
}

/// Guesses per day the validator lets an attacker make on one account: the tightest of every
/// limit configured. With a lockout that unlocks by itself the attacker spends `max_failures`
/// guesses per unlock period; with a lockout only the helpdesk clears, a careful attacker stops
/// one short of it and waits for the user's next login that reaches the validator (a code
/// login, not a push) to reset the count; where failures count only within an interval
/// (FreeIPA), pacing the guesses beats the lock. `user_logins_per_day` counts code logins.
pub fn guess_cap(v: &ValidatorConfig, wanted: f64, user_logins_per_day: f64) -> f64 {
    let mut cap = wanted;
    if let Some(t) = v.throttle {
        // django-otp: the n-th failure in a row costs a wait of factor·2^(n-1) s, so a burst
        // of n guesses takes about factor·2^n s; the user's successful logins reset it.
        let resets = user_logins_per_day.max(1.0);
        let gap_s = 86_400.0 / resets;
        let burst = 1.0 + (gap_s / t.factor_s).max(1.0).log2();
        cap = cap.min(resets * burst);
    }
    // multiOTP's delay: `after` guesses, then one per wait, until the lock (below) or the
    // user's next success.
    if let Some(d) = v.delay {
        cap = cap.min(d.after as f64 + 86_400.0 / d.wait_s.max(1.0));
    }
    // libpam's rate limit counts every attempt; Keycloak's brute-force waits settle at the
    // longest wait per guess.
    if let Some(r) = v.rate_limit {
        cap = cap.min(r.attempts as f64 * 86_400.0 / r.per_s.max(1.0));
    }
    if let Some(b) = v.brute_force {
        cap = cap.min(86_400.0 / b.max_wait_s.max(1.0));
    }
    if let Some(l) = v.lockout {
        let mut lock = match l.unlock_after_s {
            Some(u) => l.max_failures as f64 * 86_400.0 / u.max(1.0),
            None => (l.max_failures.saturating_sub(1)) as f64 * user_logins_per_day.max(0.0),
        };
        if let Some(i) = l.failure_interval_s {
            // max_failures - 1 guesses, then a pause of the interval: never locked.
            lock = lock.max(l.max_failures.saturating_sub(1) as f64 * 86_400.0 / i.max(1.0));
        }
        cap = cap.min(lock);
    }
    cap
}

/// The exposure of one population's codes under the scenario's validator.
pub fn exposure(sc: &Scenario, pop: usize, spec: &AttackSpec) -> Exposure {
    let v = &sc.validator;
    let p = &sc.populations[pop];
    let step = p.token.step_s as f64;
    // VIP's auto-sync band accepts a code outright, so a guess hits any step of it.
    let auto = v.auto_sync.map_or(0, |a| 2 * a + 1);
    let steps = if p.token.kind.is_totp() {
        v.open_steps(p.token.step_s).max(auto as f64)
    } else {
        (v.hotp_look_ahead + 1) as f64
    };
    let p_guess = (steps / 10f64.powi(p.token.digits as i32)).min(1.0);
    // Push approvals never reach the code validator, so they reset no failure count.
    let code_logins = p.user.logins_per_day.mean() * (1.0 - p.user.push_share);
    // Nodes that never share their state each count failures (and lock) on their own.
    let (spread, replay) = cluster_terms(sc);
    let g = (guess_cap(v, spec.guesses_per_day, code_logins) * spread).min(spec.guesses_per_day);
    let no_rule = v.replay == crate::validator::Replay::None && p.token.kind.is_totp();
    let replay_p_accept = if no_rule { 1.0 } else { replay };
    // 1 - (1 - p)^n, computed stably for tiny p.
    let at_least_one = |n: f64| -(n * (-p_guess).ln_1p()).exp_m1();
    // A shift learned in seconds keeps up to one more step's worth of codes acceptable.
    let extra = if v.drift == DriftLearning::Seconds {
        step
    } else {
        0.0
    };
    let lifetime = v
        .acceptance_lifetime_s(p.token.step_s)
        .max(auto as f64 * step)
        + extra;
    // The widest window a code can meet: idle widening at its widest, or an initial window
    // (OneSpan) on a credential not used since enrolment.
    let widest = v
        .idle_widening
        .map_or(0.0, |w| 2.0 * w.max_extra as f64 * step)
        .max(
            v.initial_window
                .map_or(0.0, |w| (2 * w + 1) as f64 * step - lifetime),
        );
    Exposure {
        accepted_steps: steps,
        p_guess,
        guesses_per_day: g,
        p_success_day: at_least_one(g),
        p_success_year: at_least_one(g * 365.25),
        code_lifetime_s: if p.token.kind.is_totp() {
            lifetime
        } else {
            f64::INFINITY
        },
        code_lifetime_max_s: if p.token.kind.is_totp() {
            lifetime + widest
        } else {
            f64::INFINITY
        },
        meets_nist: p.token.kind.is_totp()
            && lifetime + widest < 120.0
            && v.lockout.is_some_and(|l| l.max_failures <= 100),
        replay_p_accept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(extra: &str) -> Scenario {
        Scenario::from_toml("a.toml", &format!("[validator]\n{extra}\n[[population]]\ntoken = {{ kind = \"phone\" }}\nuser = {{ logins_per_day = 2 }}\n")).unwrap()
    }

    const SPEC: AttackSpec = AttackSpec {
        guesses_per_day: 1000.0,
        simulate_accounts: 0,
    };

    #[test]
    fn window_and_digits_set_the_guess_probability() {
        let e = exposure(
            &scenario("window = { back = 1, ahead = 1 }\nlockout = { max_failures = 0 }"),
            0,
            &SPEC,
        );
        assert_eq!(e.accepted_steps, 3.0);
        assert!((e.p_guess - 3e-6).abs() < 1e-18);
        assert_eq!(e.guesses_per_day, 1000.0);
        assert!((e.p_success_day - (1.0 - (1.0f64 - 3e-6).powi(1000))).abs() < 1e-12);
        assert_eq!(e.code_lifetime_s, 90.0);
        assert!(!e.meets_nist, "no lockout");
    }

    /// Nodes that never share state each lock on their own, so guesses spread over them get
    /// N times the lockout's allowance; a code relayed 5 s later reaches another node with the
    /// routing's chance, and is accepted there unless the first node's row got there first.
    #[test]
    fn a_cluster_spreads_guesses_and_exposes_relayed_codes() {
        let lock = "lockout = { max_failures = 10, unlock_after = \"1h\" }\n";
        let cl = |routing: &str, replication: &str| {
            exposure(
                &scenario(&format!(
                    "{lock}[validator.cluster]\nnodes = [{{ name = \"a\" }}, {{ name = \"b\" }}, {{ name = \"c\" }}]\n\
                     routing = \"{routing}\"\nreplication = {replication}\n"
                )),
                0,
                &SPEC,
            )
        };
        let single = exposure(&scenario(lock), 0, &SPEC);
        assert_eq!(
            (single.guesses_per_day, single.replay_p_accept),
            (240.0, 0.0)
        );
        let e = cl("random", "\"none\"");
        assert_eq!(e.guesses_per_day, 720.0);
        assert!((e.replay_p_accept - 2.0 / 3.0).abs() < 1e-12);
        let e = cl("round_robin", "\"none\"");
        assert_eq!((e.guesses_per_day, e.replay_p_accept), (720.0, 1.0));
        // One node takes each account's requests: the single validator's figures.
        for routing in ["sticky", "failover"] {
            let e = cl(routing, "\"none\"");
            assert_eq!((e.guesses_per_day, e.replay_p_accept), (240.0, 0.0));
        }
        // Replicated: one failure count; a row 2 s late is there before the 5-s relay, one
        // 10 s late is not.
        let e = cl("random", "{ lag = \"2s\" }");
        assert_eq!((e.guesses_per_day, e.replay_p_accept), (240.0, 0.0));
        let e = cl("random", "{ lag = \"10s\" }");
        assert!((e.replay_p_accept - 2.0 / 3.0).abs() < 1e-12);
        // Exponential lag with mean 5 s: P(L > 5 s) = e^-1, sampled.
        let e = cl(
            "random",
            "{ lag = { dist = \"exponential\", mean = \"5s\" } }",
        );
        let want = 2.0 / 3.0 * (-1.0f64).exp();
        assert!(
            (e.replay_p_accept - want).abs() < 0.01,
            "{}",
            e.replay_p_accept
        );
        // No replay rule: every relayed code within its lifetime gets in.
        let e = exposure(&scenario("replay = \"none\""), 0, &SPEC);
        assert_eq!(e.replay_p_accept, 1.0);
    }

    #[test]
    fn lockout_caps_guesses() {
        // 10 failures, unlocked after 1 h: 240 guesses a day.
        let e = exposure(
            &scenario("lockout = { max_failures = 10, unlock_after = \"1h\" }"),
            0,
            &SPEC,
        );
        assert_eq!(e.guesses_per_day, 240.0);
        assert!(e.meets_nist);
        // Locked until the helpdesk: 9 guesses per successful user login, 2 logins a day.
        let e = exposure(
            &scenario("lockout = { max_failures = 10, unlock_after = \"never\" }"),
            0,
            &SPEC,
        );
        assert_eq!(e.guesses_per_day, 18.0);
        // Half the logins are push approvals, which never reach the code validator: only the
        // code logins (1 a day) reset the count.
        let sc = Scenario::from_toml(
            "a.toml",
            "[validator]\nlockout = { max_failures = 10, unlock_after = \"never\" }\n\
             [[population]]\ntoken = { kind = \"phone\" }\n\
             user = { logins_per_day = 2, push_share = 0.5 }\n",
        )
        .unwrap();
        assert_eq!(exposure(&sc, 0, &SPEC).guesses_per_day, 9.0);
        // FreeIPA counts failures only within 60 s of each other: 5 guesses a minute never
        // lock (7,200 a day), whatever the lock's length.
        let e = exposure(&scenario("preset = \"freeipa\""), 0, &SPEC);
        assert_eq!(e.guesses_per_day, 1000.0);
        let many = AttackSpec {
            guesses_per_day: 100_000.0,
            simulate_accounts: 0,
        };
        let e = exposure(&scenario("preset = \"freeipa\""), 0, &many);
        assert_eq!(e.guesses_per_day, 7200.0);
        // Every limit applies: django-otp's throttle with a helpdesk-only lock of 5 failures
        // allows 4 guesses per user login (8 a day), not the throttle's 32.8.
        let e = exposure(
            &scenario(
                "preset = \"django-otp\"\nlockout = { max_failures = 5, unlock_after = \"never\" }",
            ),
            0,
            &SPEC,
        );
        assert_eq!(e.guesses_per_day, 8.0);
    }

    #[test]
    fn lifetimes_and_nist() {
        let e = exposure(&scenario("preset = \"privacyidea\""), 0, &SPEC);
        assert_eq!(e.code_lifetime_s, 12.0 * 30.0 + 30.0);
        assert!(!e.meets_nist);
        // OneSpan: ±10 steps, ±360 steps (3 h) until a credential's first success.
        let e = exposure(&scenario("preset = \"onespan\""), 0, &SPEC);
        assert_eq!(e.code_lifetime_s, 21.0 * 30.0);
        assert_eq!(e.code_lifetime_max_s, 721.0 * 30.0);
        // VIP accepts the whole auto-sync band (±20 steps) outright.
        let e = exposure(&scenario("preset = \"vip\""), 0, &SPEC);
        assert_eq!(e.accepted_steps, 41.0);
        assert_eq!(e.code_lifetime_s, 41.0 * 30.0);
        // django-otp throttling: two user logins a day reset it; each half day allows
        // 1 + log2(43200) guesses.
        let e = exposure(&scenario("preset = \"django-otp\""), 0, &SPEC);
        assert!((e.guesses_per_day - 2.0 * (1.0 + 43_200f64.log2())).abs() < 1e-9);
        // RATE_LIMIT 1 per 30 minutes: 48 guesses a day; Keycloak's brute force: one per 15 min.
        let e = exposure(
            &scenario(
                "rate_limit = { attempts = 1, per = \"30m\" }\nlockout = { max_failures = 0 }",
            ),
            0,
            &SPEC,
        );
        assert_eq!(e.guesses_per_day, 48.0);
        let e = exposure(
            &scenario("preset = \"keycloak\"\nbrute_force = { failures = 30 }"),
            0,
            &SPEC,
        );
        assert_eq!(e.guesses_per_day, 96.0);
    }
}
