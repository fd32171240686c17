//! The simulated online guesser on an account (`[attack] simulate_accounts`): its guesses reach
//! the validator in time order, before each of the user's requests.

use super::Life;
use crate::rng::Rng;
use crate::sim::trace::{TraceAction, TraceOutcome};
use crate::time::Millis;
use crate::validator::Verdict;
use rand::Rng as _;

/// An online guesser on one account (`[attack] simulate_accounts`).
pub(super) struct Attacker {
    pub(super) rng: Rng,
    /// The next guess, in (fractional) milliseconds: rounding each gap would bias the rate.
    pub(super) next: f64,
    pub(super) rate_per_ms: f64,
}

impl Attacker {
    pub(super) fn advance(&mut self) {
        let u: f64 = self.rng.random::<f64>();
        self.next += -(1.0 - u).ln() / self.rate_per_ms;
    }

    fn next_ms(&self) -> Millis {
        crate::time::round_i64(self.next)
    }
}

impl Life<'_> {
    /// The attacker's guesses before `until`: random codes, held back while the account is
    /// locked, and one short of a lockout that only the helpdesk clears.
    pub(super) fn attack_until(&mut self, until: Millis) {
        let Some(mut a) = self.attacker.take() else {
            return;
        };
        let modulus = crate::otp::POW10[self.p.token.digits as usize];
        // Nothing is decided after the horizon (a ladder step can outlast it).
        let until = until.min(self.end);
        while a.next_ms() < until {
            let g = a.next_ms();
            a.advance();
            let bi = self.buckets.index(g);
            let waiting = self.waiting_until.is_some_and(|w| g < w);
            self.serve(g);
            let v = &self.v.config;
            let stealthy_stop = v.lockout.is_some_and(|l| {
                l.unlock_after_s.is_none() && self.cred.vstate.failures + 1 >= l.max_failures
            });
            if waiting || self.cred.vstate.is_locked(g) || stealthy_stop {
                self.attack_counts[bi].attack_blocked += 1;
                continue;
            }
            let guess = a.rng.random_range(0..modulus);
            // Deciding touches no guess counts: they are lent out for the cluster's counters.
            let mut counts = std::mem::take(&mut self.attack_counts);
            let d = self.decide_served(g, guess, &mut counts[bi]);
            self.attack_counts = counts;
            self.last_seen = self.last_seen.max(g);
            self.record(
                g,
                TraceAction::Verify(guess),
                None,
                TraceOutcome::Verified(d),
            );
            let c = &mut self.attack_counts[bi];
            // A throttle, rate limit or brute-force block refuses the guess without comparing
            // it: held back like a guess at a locked account, not a try at the code.
            if d.verdict == Verdict::Locked {
                c.attack_blocked += 1;
                continue;
            }
            c.attack_guesses += 1;
            if d.verdict == Verdict::Accepted {
                c.attack_successes += 1;
            }
            if d.locked_now {
                c.lockouts += 1;
            }
        }
        self.attacker = Some(a);
    }

    /// Before the user's request at `at`: the attacker's earlier guesses reach the validator
    /// first, and the request becomes the latest one seen.
    pub(super) fn before_request(&mut self, at: Millis) {
        self.attack_until(at);
        self.last_seen = self.last_seen.max(at);
    }
}
