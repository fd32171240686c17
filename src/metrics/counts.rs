//! The integer counters of a population and bucket, declared once (`counters!`) with their
//! merge, and the rates read from them.

use serde::Serialize;

/// Declares a struct of `u64` counters and its merge from one list of fields, so a counter can
/// not be added without being merged.
macro_rules! counters {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* $f:ident,)* }) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$fm])* pub $f: u64,)*
        }

        impl $name {
            /// The counter names, in declaration order.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($f)),*];

            /// Adds every counter of `o`.
            pub fn add(&mut self, o: &$name) {
                $(self.$f += o.$f;)*
            }
        }
    };
}

counters! {
    /// Everything counted about logins and attempts.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
    pub struct Counts {
        logins,
        /// Logins whose first attempt was accepted.
        first_try_ok,
        /// Logins that ended accepted after retries.
        logins_ok,
        attempts,
        accepted,
        rejected_out_of_window,
        rejected_replay,
        rejected_locked,
        rejected_typo,
        rejected_dead,
        lockouts,
        /// A mistyped code accepted because it matched another step in the window.
        false_accepts,
        /// A correct code accepted at a step other than the device's (a chance collision first).
        chance_matches,
        /// Users who waited for a fresh code near rollover.
        waited_for_fresh_code,
        /// Drift adopted from out-of-window codes (consistent-skew learning).
        skew_resyncs,
        deaths_battery,
        deaths_expired,
        /// Codes answered with a request for the sync procedure (VIP error 4923).
        sync_prompts,
        /// Logins approved by push, with no code (they do not depend on the clock).
        push_logins,
        /// Attempts answered with a next-code challenge (RSA), and challenges then passed.
        next_code_challenges,
        next_code_succeeded,
        /// Drift adopted from two consecutive out-of-window codes (automatic resync).
        auto_resyncs,
        /// Logins that failed every retry and started the recovery ladder.
        incidents,
        /// Incidents ended by a successful login within the ladder.
        recovered_in_ladder,
        /// Logins given up (the ladder ran out, or the user waits for the helpdesk).
        logins_abandoned,
        /// Logins while the user had no working token (dead, shipping, waiting for a credential).
        logins_without_token,
        clock_fixes,
        app_resets,
        resyncs_attempted,
        resyncs_succeeded,
        resync_failed_outside_window,
        resync_failed_not_consecutive,
        resync_failed_replay,
        resync_failed_locked,
        tickets_lockout,
        tickets_reinstall,
        tickets_replace_failing,
        tickets_replace_dead,
        /// A simulated attacker's guesses, those that got in, and those held back by a lock.
        attack_guesses,
        attack_successes,
        attack_blocked,
        /// The same code sent again right after (a double-click, a retried request).
        resubmissions,
        /// A code accepted by one node of a cluster after another accepted it.
        accepted_twice_across_nodes,
        /// Requests another node in service would have decided otherwise (another verdict).
        decisions_differing_by_node,
        /// Requests decided while one node held the credential locked and another did not.
        lock_split_requests,
    }
}

counters! {
    /// One cluster node's share of the users' code attempts in a bucket.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
    pub struct NodeCounts {
        attempts,
        accepted,
    }
}

impl Counts {
    pub fn tickets(&self) -> u64 {
        self.tickets_lockout
            + self.tickets_reinstall
            + self.tickets_replace_failing
            + self.tickets_replace_dead
    }

    pub fn first_try_acceptance_rate(&self) -> Option<f64> {
        ratio(self.first_try_ok, self.logins)
    }

    pub fn login_success_rate(&self) -> Option<f64> {
        ratio(self.logins_ok, self.logins)
    }

    pub fn attempt_acceptance_rate(&self) -> Option<f64> {
        ratio(self.accepted, self.attempts)
    }
}

pub fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_is_merged() {
        // Distinct values in every field, through serde so no field is named by hand here.
        let a: Counts = serde_json::from_value(serde_json::Value::Object(
            Counts::FIELDS
                .iter()
                .enumerate()
                .map(|(i, f)| (f.to_string(), serde_json::json!(i as u64 + 1)))
                .collect(),
        ))
        .unwrap();
        let mut b = a;
        b.add(&a);
        let (a, b) = (
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap(),
        );
        assert_eq!(a.as_object().unwrap().len(), Counts::FIELDS.len());
        for f in Counts::FIELDS {
            assert_eq!(
                b[f].as_u64(),
                a[f].as_u64().map(|x| 2 * x),
                "{f} is not merged"
            );
        }
    }
}
