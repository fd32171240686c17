//! One login try: reading the token (waiting for a fresh code, or the next one when challenged),
//! typing it, and the attempt and its retries as the validator decides them.

use super::recovery::count_sync_failure;
use super::shared::Typed;
use super::{ms, Life, Rejection, Try};
use crate::metrics::Counts;
use crate::otp::{rem_step, totp_step_ms};
use crate::rng::LoginRng;
use crate::sim::trace::{TraceAction, TraceOutcome};
use crate::time::Millis;
use crate::user::{typo, UserSpec};
use crate::validator::{Decision, Resync, Scheme, Verdict, NO_CODE};
use rand::Rng as _;

/// Whether user `u` waits out a code with `left` to go for a fresh one (a draw only when it is
/// about to roll over).
#[inline]
fn waits_for_fresh(u: &UserSpec, left: Millis, rng: &mut LoginRng) -> bool {
    (left as f64) < u.fresh_code_below_s * 1000.0 && rng.random::<f64>() < u.wait_probability
}

/// Whether user `u` mistypes `code` (drawn for every code read).
#[inline]
fn mistypes(u: &UserSpec, code: u32, rng: &mut LoginRng) -> bool {
    rng.random::<f64>() < u.typo_probability && code != NO_CODE
}

/// How long the code shown at device time `dev` has left (TOTP from `t0_ms`, `step_ms` steps).
#[inline]
fn code_left(dev: Millis, t0_ms: Millis, step_ms: i64) -> Millis {
    step_ms - rem_step(dev - t0_ms, step_ms)
}

impl Life<'_> {
    #[inline]
    pub(super) fn fresh_code_wait(&self, read: Millis) -> Millis {
        let dev = self.cred.clock.device_time(read);
        code_left(dev, self.t0_ms, self.step_ms)
    }

    /// The code shown at `read`: (step or counter, code). Presses the button.
    #[inline]
    pub(super) fn show_code(&mut self, read: Millis) -> (i64, u32) {
        let c = &mut self.cred;
        let s = if self.totp {
            totp_step_ms(c.clock.device_time(read), self.t0_ms, self.step_ms)
        } else {
            let s = c.token.counter as i64;
            c.token.counter += 1;
            s
        };
        c.token.use_code(read);
        (s, c.token.code(s))
    }

    /// Reads the token at `read` (first waiting for a fresh code, or for the next one when
    /// `challenged`) and types what it shows; None if the token is dead by then.
    pub(super) fn read_and_type(
        &mut self,
        read: &mut Millis,
        challenged: bool,
        rng: &mut LoginRng,
        c: &mut Counts,
    ) -> Option<Typed> {
        self.wait_for_code(read, challenged, rng, c);
        self.cred
            .token
            .alive_at(*read)
            .then(|| self.press_and_type(*read, rng))
    }

    /// The wait before reading a TOTP code: for a fresh one, or for the next when `challenged`.
    #[inline]
    pub(super) fn wait_for_code(
        &self,
        read: &mut Millis,
        challenged: bool,
        rng: &mut LoginRng,
        c: &mut Counts,
    ) {
        if self.totp {
            let left = self.fresh_code_wait(*read);
            if challenged {
                // The validator asked for the next code: wait for it to appear.
                *read += left + 500;
            } else if waits_for_fresh(&self.p.user, left, rng) {
                *read += left;
                c.waited_for_fresh_code += 1;
            }
        }
    }

    /// Presses the token at `read` and types the code it shows.
    #[inline]
    pub(super) fn press_and_type(&mut self, read: Millis, rng: &mut LoginRng) -> Typed {
        let u = &self.p.user;
        let (step, code) = self.show_code(read);
        let typed = mistypes(u, code, rng);
        let submitted = if typed {
            typo(code, self.cred.token.digits(), rng)
        } else {
            code
        };
        let submit = read + ms(u.delay_s.sample(rng));
        Typed {
            step,
            typed,
            submitted,
            submit,
        }
    }

    /// The common try, made the short way: its first attempt reads a live token, is typed
    /// right and accepted plainly ([`crate::validator::ValidatorConfig::verify_plain`]). Returns the submission
    /// time with everything counted and changed as [`Life::try_login`] does for that try, or
    /// None with nothing changed: the caller then makes the try the general way from the same
    /// draws (`rng` is the login's stream at the try's start).
    pub(super) fn common_try(
        &mut self,
        start: Millis,
        rng: &LoginRng,
        c: &mut Counts,
    ) -> Option<Millis> {
        let Scheme::Totp { step_s, t0 } = self.scheme else {
            return None;
        };
        if !self.common {
            return None;
        }
        let u = &self.p.user;
        let mut rng = rng.clone();
        let cr = &mut self.cred;
        // The device time read once for the fresh-code wait and the step shown, as
        // `wait_for_code` and `show_code` read it.
        let mut read = start;
        let mut dev = cr.clock.device_time(read);
        let left = code_left(dev, self.t0_ms, self.step_ms);
        let waited = waits_for_fresh(u, left, &mut rng);
        if waited {
            read += left;
            dev = cr.clock.device_time(read);
        }
        if !cr.token.alive_at(read) {
            return None;
        }
        let step = totp_step_ms(dev, self.t0_ms, self.step_ms);
        let code = cr.token.code(step);
        if mistypes(u, code, &mut rng) {
            return None;
        }
        let submit = read + ms(u.delay_s.sample(&mut rng));
        let token = &mut cr.token;
        // The shown step's code is the one just computed (exact mode: a hit in the cache).
        let code_of = |s: i64| if s == step { code } else { token.code(s) };
        let sent = (code, step);
        let matched =
            (self.v.config).verify_plain(&mut cr.vstate, (step_s, t0), submit, sent, code_of)?;
        cr.token.use_code(read);
        cr.rec.attempts += 1;
        cr.rec.accepted += 1;
        self.last_seen = self.last_seen.max(submit);
        self.made.tries += 1;
        self.made.attempts += 1;
        c.attempts += 1;
        c.accepted += 1;
        c.waited_for_fresh_code += waited as u64;
        c.chance_matches += (matched != step) as u64;
        Some(submit)
    }

    /// One login try from `start`: an attempt and up to `retries` retries with fresh codes.
    /// Returns the outcome and the time of the last submission; counted in `c`, the counts of
    /// the login's bucket `bucket`.
    pub(super) fn try_login(
        &mut self,
        start: Millis,
        rng: &mut LoginRng,
        (c, bucket): (&mut Counts, usize),
    ) -> (Try, Millis) {
        let p = self.p;
        let u = &p.user;
        let mut read = start;
        let mut attempt = 0;
        let mut challenged = false;
        self.made.tries += 1;
        loop {
            c.attempts += 1;
            self.made.attempts += 1;
            self.cred.rec.attempts += 1;
            // The token is read after any wait for a fresh code: it may die in that wait.
            let shown = if attempt == 0 && !challenged && self.totp && self.shared.side_by_side {
                self.read_and_type_shared(&mut read, rng, c)
            } else {
                self.read_and_type(&mut read, challenged, rng, c)
            };
            let Some(Typed {
                step,
                typed,
                submitted,
                submit,
            }) = shown
            else {
                c.rejected_dead += 1;
                self.made.undecided += 1;
                self.cred
                    .rec
                    .first_rejection
                    .get_or_insert((read, Rejection::Dead));
                return (Try::Rejected(Rejection::Dead), read);
            };
            let offset = self.traced_offset(read);
            let d = self.send(submit, submitted, offset, c);
            if let Some(n) = self.nodes.as_mut() {
                n.count(bucket, d.verdict == Verdict::Accepted);
            }
            read = submit;
            if u.resubmit_probability > 0.0 && rng.random::<f64>() < u.resubmit_probability {
                // The same code again (a double-click, a retried request): the validator decides
                // it, the user reads the first answer and goes on after the second request.
                let again = submit + ms(u.resubmit_delay_s.sample(rng));
                let d2 = self.send(again, submitted, offset, c);
                c.resubmissions += 1;
                c.lockouts += d2.locked_now as u64;
                read = again;
            }
            let cr = &mut self.cred;
            if d.locked_now {
                c.lockouts += 1;
            }
            match d.resynced {
                Some(Resync::ConsistentSkew) => c.skew_resyncs += 1,
                Some(Resync::Auto) => c.auto_resyncs += 1,
                Some(Resync::NextCode) => c.next_code_succeeded += 1,
                None => {}
            }
            let counted = match d.verdict {
                Verdict::Accepted => {
                    c.accepted += 1;
                    cr.rec.accepted += 1;
                    if typed {
                        c.false_accepts += 1;
                    } else if d.matched != Some(step) {
                        c.chance_matches += 1;
                    }
                    return (
                        Try::Accepted {
                            first: attempt == 0 && !challenged,
                        },
                        read,
                    );
                }
                Verdict::NextCodeRequired => {
                    c.next_code_challenges += 1;
                    self.made.challenges += 1;
                    if !challenged {
                        challenged = true;
                        continue;
                    }
                    // Asked for the next code again right after answering (an attacker's guess
                    // in between took the first challenge): that answer failed, counted as the
                    // challenge it got, and the user goes on to a retry, so challenges cannot
                    // chain without bound.
                    None
                }
                Verdict::SyncRequired => {
                    // VIP error 4923: the user is asked for two consecutive codes at once.
                    c.sync_prompts += 1;
                    c.resyncs_attempted += 1;
                    // The prompt answers the request the user saw answered; the two codes
                    // follow the last request sent (a resubmission's, if any).
                    let mut at = read;
                    match self.resync(&mut at, rng) {
                        Ok(_) => c.resyncs_succeeded += 1,
                        Err(_) if !self.cred.token.alive_at(at) => {
                            c.rejected_dead += 1;
                            return (Try::Rejected(Rejection::Dead), at);
                        }
                        Err(f) => count_sync_failure(c, f),
                    }
                    read = at;
                    Some(Rejection::OutOfWindow)
                }
                Verdict::NoMatch if typed => Some(Rejection::Typo),
                Verdict::NoMatch => Some(Rejection::OutOfWindow),
                Verdict::Replay => Some(Rejection::Replay),
                Verdict::Locked => Some(Rejection::Locked),
            };
            challenged = false;
            if let Some(r) = counted {
                match r {
                    Rejection::OutOfWindow => c.rejected_out_of_window += 1,
                    Rejection::Replay => c.rejected_replay += 1,
                    Rejection::Locked => c.rejected_locked += 1,
                    Rejection::Typo => c.rejected_typo += 1,
                    Rejection::Dead => c.rejected_dead += 1,
                }
                self.cred.rec.first_rejection.get_or_insert((submit, r));
            }
            let rejection = counted.unwrap_or(Rejection::OutOfWindow);
            // Retrying a locked account only feeds the lock.
            if rejection == Rejection::Locked || attempt == u.retries {
                return (Try::Rejected(rejection), read);
            }
            attempt += 1;
            read += ms(u.retry_delay_s.sample(rng));
        }
    }

    /// The user's code `code` reaches the validator at `at` (after the attacker's earlier
    /// guesses) and is decided and traced; `offset` is the device clock's when it was read.
    fn send(&mut self, at: Millis, code: u32, offset: Option<f64>, c: &mut Counts) -> Decision {
        if self.plain {
            // No guesser, node, timeline or trace: the request goes straight to the validator.
            self.last_seen = self.last_seen.max(at);
            let cr = &mut self.cred;
            return super::decide(
                &self.v.config,
                &mut cr.vstate,
                self.scheme,
                at,
                code,
                &mut cr.token,
            );
        }
        self.before_request(at);
        self.serve(at);
        let d = self.decide_served(at, code, c);
        self.record(
            at,
            TraceAction::Verify(code),
            offset,
            TraceOutcome::Verified(d),
        );
        d
    }
}
