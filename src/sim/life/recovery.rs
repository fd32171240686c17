//! The recovery ladder after a failed login (retry with a fresh code, fix the clock, the
//! validator's sync flow, the app's Reset, reinstall, replace a hard token), and a token found
//! dead on the way.

use super::{ms, Life, Rejection, Try};
use crate::metrics::{Counts, PopTally};
use crate::rng::LoginRng;
use crate::sim::trace::{TraceAction, TraceOutcome};
use crate::time::Millis;
use crate::token::{DeathCause, TokenKind};
use crate::validator::SyncFailure;
use rand::Rng as _;

impl Life<'_> {
    /// The validator's sync ("Test") flow: the user reads consecutive codes and submits them.
    pub(super) fn resync(
        &mut self,
        now: &mut Millis,
        rng: &mut LoginRng,
    ) -> Result<i64, SyncFailure> {
        let n = self.v.config.sync.map_or(2, |s| s.codes);
        let mut codes = Vec::with_capacity(n as usize);
        let mut read = *now;
        for i in 0..n {
            if i > 0 && self.totp {
                read += self.fresh_code_wait(read) + 500;
            }
            if !self.cred.token.alive_at(read) {
                // No codes to submit: the caller finds the token dead at `now`.
                *now = read;
                return Err(SyncFailure::OutsideWindow);
            }
            codes.push(self.show_code(read).1);
        }
        let submit = read + ms(self.p.user.delay_s.sample(rng));
        *now = submit;
        let offset = self.traced_offset(read);
        self.before_request(submit);
        self.serve(submit);
        let cr = &mut self.cred;
        let r = self
            .v
            .config
            .sync(&mut cr.vstate, self.scheme, submit, &codes, |s| {
                cr.token.code(s)
            });
        self.wrote(submit);
        self.record(
            submit,
            TraceAction::Sync(codes),
            offset,
            TraceOutcome::Synced(r),
        );
        r
    }

    /// The user found the token dead at `found` (bucket `b`): a flat battery or an expired
    /// token, whose replacement the helpdesk ships. The login is abandoned.
    pub(super) fn token_died(
        &mut self,
        found: Millis,
        b: usize,
        rng: &mut LoginRng,
        tally: &mut PopTally,
    ) {
        let (died, cause) = self.cred.token.death().expect("a dead token has a death");
        self.ticket(found);
        let c = &mut tally.buckets[b];
        c.tickets_replace_dead += 1;
        c.logins_abandoned += 1;
        let d = &mut tally.buckets[self.buckets.index(died)];
        match cause {
            DeathCause::Battery => d.deaths_battery += 1,
            _ => d.deaths_expired += 1,
        }
        self.incident_start.get_or_insert(found);
        let ready = found + ms(self.p.recovery.shipping_delay_s.sample(rng));
        self.replace(died, cause, ready);
        // From the death, not just from noticing it, the user had no working token.
        if let Some(last) = self.no_token.last_mut() {
            last.0 = died;
        }
    }

    /// A ladder step that would start at `now` when the horizon has ended is not taken: the
    /// login ends abandoned within the run (nothing is decided after it).
    fn past_horizon(&self, now: Millis, b: usize, tally: &mut PopTally) -> bool {
        let past = now >= self.end;
        if past {
            tally.buckets[b].logins_abandoned += 1;
        }
        past
    }

    /// After a step of the ladder: one more login try. True if it got the user in, or if it
    /// found the token dead (then replaced): either way the ladder ends.
    fn retry_after_step(
        &mut self,
        now: &mut Millis,
        rng: &mut LoginRng,
        tally: &mut PopTally,
        b: usize,
    ) -> bool {
        if self.past_horizon(*now, b, tally) {
            return true;
        }
        let (outcome, at) = self.try_login(*now, rng, (&mut tally.buckets[b], b));
        *now = at;
        if let Try::Accepted { .. } = outcome {
            let c = &mut tally.buckets[b];
            c.logins_ok += 1;
            c.recovered_in_ladder += 1;
            self.logins.2 += 1;
            self.failed_incidents = 0;
            if let Some(s) = self.incident_start.take() {
                tally.recovery_time.record_s((at - s) as f64 / 1000.0);
            }
            return true;
        }
        if let Try::Rejected(Rejection::Dead) = outcome {
            self.token_died(at, b, rng, tally);
            return true;
        }
        false
    }

    /// The recovery ladder after a login failed at `now`. Returns when the user is done.
    pub(super) fn ladder(
        &mut self,
        mut now: Millis,
        rng: &mut LoginRng,
        tally: &mut PopTally,
    ) -> Millis {
        let r = &self.p.recovery;
        let kind = self.p.token.kind;
        let app = matches!(kind, TokenKind::Phone | TokenKind::Desktop);
        let b = self.buckets.index(now);
        let step = |rng: &mut LoginRng| ms(r.step_delay_s.sample(rng));

        // Only a real lock sends the user to the helpdesk. A throttle, rate limit or
        // brute-force wait ("try again later") refuses for seconds to minutes: the user goes
        // on with the ladder, whose steps take longer than that.
        if self.cred.vstate.is_locked(now) {
            if rng.random::<f64>() < r.helpdesk_unlock_probability {
                tally.buckets[b].tickets_lockout += 1;
                self.ticket(now);
                now += ms(r.helpdesk_delay_s.sample(rng));
                if self.past_horizon(now, b, tally) {
                    return now;
                }
                self.before_request(now);
                self.serve(now);
                self.cred.vstate.unlock();
                self.wrote(now);
                self.record(now, TraceAction::Unlock, None, TraceOutcome::Done);
                if self.retry_after_step(&mut now, rng, tally, b) {
                    return now;
                }
            } else {
                tally.buckets[b].logins_abandoned += 1;
                return now;
            }
        }
        if app && self.totp {
            let off = self.cred.clock.peek(now).abs();
            if off > r.notice_above_s && rng.random::<f64>() < r.fix_clock_probability {
                now += step(rng);
                self.cred.clock.get_mut().advance(now);
                if self.p.clock.sync.enabled && !self.cred.clock.auto_time_on() {
                    self.cred.clock.get_mut().turn_on_auto_time();
                } else {
                    self.cred
                        .clock
                        .get_mut()
                        .set_offset(r.fix_accuracy_s.sample(rng));
                }
                tally.buckets[b].clock_fixes += 1;
                if self.retry_after_step(&mut now, rng, tally, b) {
                    return now;
                }
            }
        }
        if self.v.config.sync.is_some() && rng.random::<f64>() < r.resync_probability {
            for _ in 0..r.resync_tries {
                now += step(rng);
                if self.past_horizon(now, b, tally) {
                    return now;
                }
                if !self.cred.token.alive_at(now) {
                    self.token_died(now, b, rng, tally);
                    return now;
                }
                tally.buckets[b].resyncs_attempted += 1;
                match self.resync(&mut now, rng) {
                    Ok(_) => {
                        tally.buckets[b].resyncs_succeeded += 1;
                        now += step(rng);
                        if self.retry_after_step(&mut now, rng, tally, b) {
                            return now;
                        }
                        break;
                    }
                    Err(_) if !self.cred.token.alive_at(now) => {
                        // Died between the codes of the sync.
                        self.token_died(now, b, rng, tally);
                        return now;
                    }
                    Err(f) => {
                        count_sync_failure(&mut tally.buckets[b], f);
                        if f == SyncFailure::Locked {
                            break;
                        }
                    }
                }
            }
        }
        if app && self.totp && rng.random::<f64>() < r.reset_probability {
            now += step(rng);
            self.cred.clock.get_mut().advance(now);
            let x = self.cred.clock.get_mut().network_time_error();
            self.cred.clock.get_mut().set_offset(x);
            tally.buckets[b].app_resets += 1;
            if self.retry_after_step(&mut now, rng, tally, b) {
                return now;
            }
        }
        self.failed_incidents += 1;
        let escalate = self.failed_incidents >= r.escalate_after;
        // The helpdesk's last resort: an app reinstalled with a new credential, a hard token
        // replaced (shipped).
        let (probability, delay, cause) = if app {
            (
                r.reinstall_probability,
                &r.reinstall_delay_s,
                DeathCause::Reinstalled,
            )
        } else {
            (
                r.replace_probability,
                &r.shipping_delay_s,
                DeathCause::Replaced,
            )
        };
        if escalate && rng.random::<f64>() < probability {
            self.ticket(now);
            let c = &mut tally.buckets[b];
            if app {
                c.tickets_reinstall += 1;
            } else {
                c.tickets_replace_failing += 1;
            }
            c.logins_abandoned += 1;
            let ready = now + ms(delay.sample(rng));
            self.replace(now, cause, ready);
            self.failed_incidents = 0;
            return now;
        }
        tally.buckets[b].logins_abandoned += 1;
        now
    }
}

/// Counts a failed sync by its cause.
pub(super) fn count_sync_failure(c: &mut Counts, f: SyncFailure) {
    match f {
        SyncFailure::OutsideWindow | SyncFailure::Unsupported => {
            c.resync_failed_outside_window += 1
        }
        SyncFailure::NotConsecutive => c.resync_failed_not_consecutive += 1,
        SyncFailure::Replay => c.resync_failed_replay += 1,
        SyncFailure::Locked => c.resync_failed_locked += 1,
    }
}
