//! The lockout measurement: runs of wrong codes, whether and when the lock clears by itself,
//! the transport's administrator unlock.

use super::Session;
use crate::error::{Error, Result};
use crate::probe::{contradiction, Answer, LockFinding, Purpose, Sent};
use crate::time::Millis;
use crate::validator::Lockout;

/// How a lock ended.
enum Cleared {
    /// By itself, between these times after the locking failure.
    ByItself(Millis, Millis),
    ByTransport,
    Not,
}

impl Session<'_> {
    /// Sends a code no step near now has; the candidates hear it.
    fn send_wrong(&mut self, purpose: Purpose) -> Result<Answer> {
        let now = self.t.now();
        let at = self.allowed(now);
        self.t.wait_until(at)?;
        let at = self.t.now();
        let s = self.cred.step_at(at);
        let reach = self.limits.max_window as i64 + 3 + self.band_reach();
        let near: Vec<u32> = (s - reach..=s + reach)
            .map(|x| self.cred.code_value(x))
            .collect();
        let modulus = 10u32.pow(self.cred.digits);
        let mut v = (self.cred.code_value(s) + modulus / 2) % modulus;
        while near.contains(&v) {
            v = (v + 1) % modulus;
        }
        let code = crate::otp::format_code(v, self.cred.digits);
        let answer = self.t.verify(self.cred, &code)?;
        self.failures += 1;
        let left = self.space.observe_wrong(at, answer);
        self.sent.push(Sent {
            at,
            step: s,
            offset: 0,
            code,
            code2: None,
            answer,
            purpose,
            left,
        });
        (self.progress)(self.sent.len(), left);
        if answer != Answer::Reject {
            return Err(contradiction(&self.sent, self.cred));
        }
        Ok(answer)
    }

    /// A code every candidate accepts, sent now or as soon as there is one: accepted means not
    /// locked (and the failure count is back to zero).
    pub(super) fn check_unlocked(&mut self) -> Result<bool> {
        let menu = self.menu();
        let Some(a) = menu
            .into_iter()
            .find(|a| self.unanimous(*a) == Some(Answer::Accept))
        else {
            return Err(Error::failed(format!(
                "credential {}: no code is accepted by every configuration left, so the lock could not be checked",
                self.cred.id
            )));
        };
        self.t.wait_until(a.at)?;
        let at = self.t.now();
        let code = self.cred.code(a.step);
        let answer = self.t.verify(self.cred, &code)?;
        self.sent.push(Sent {
            at,
            step: a.step,
            offset: a.step - self.cred.step_at(at),
            code,
            code2: None,
            answer,
            purpose: Purpose::LockCheck,
            left: self.space.alive.len(),
        });
        (self.progress)(self.sent.len(), self.space.alive.len());
        // Candidates carry no lockout yet: only an acceptance is told to them.
        if answer == Answer::Accept {
            self.space.observe(at, a.step, answer);
            self.failures = 0;
        } else {
            self.sent.last_mut().expect("just sent").left = self.space.alive.len();
        }
        Ok(answer == Answer::Accept)
    }

    /// `n` wrong codes in a row, then a good one: whether it was accepted.
    fn trial(&mut self, n: u32) -> Result<bool> {
        for _ in 0..n {
            self.send_wrong(Purpose::Wrong)?;
        }
        self.check_unlocked()
    }

    /// Ends a lock: by waiting for it to clear by itself (checks at doubling waits, up to the
    /// most allowed) when `wait` (the first lock: whether it clears is measured), and by the
    /// transport's unlock otherwise or when waiting did not clear it.
    fn clear(&mut self, locked_at: Millis, wait: bool) -> Result<Cleared> {
        if !wait && self.unlock_by_transport()? {
            return Ok(Cleared::ByTransport);
        }
        let mut lo = 0;
        let mut after = 60_000;
        while after <= self.limits.max_unlock_wait_ms {
            self.t.wait_until(locked_at + after)?;
            if self.check_unlocked()? {
                let hi = self.sent.last().expect("a check").at - locked_at;
                return Ok(Cleared::ByItself(lo, hi));
            }
            lo = self.sent.last().expect("a check").at - locked_at;
            after *= 2;
        }
        if self.unlock_by_transport()? {
            return Ok(Cleared::ByTransport);
        }
        Ok(Cleared::Not)
    }

    /// The transport's administrator unlock, if it has one; recorded as an `unlock` row.
    fn unlock_by_transport(&mut self) -> Result<bool> {
        if !self.t.unlock(self.cred)? {
            return Ok(false);
        }
        self.space.observe_unlock();
        let at = self.t.now();
        self.sent.push(Sent {
            at,
            step: self.cred.step_at(at),
            offset: 0,
            code: String::new(),
            code2: None,
            answer: Answer::Accept,
            purpose: Purpose::Unlock,
            left: self.space.alive.len(),
        });
        Ok(true)
    }

    /// Counts the failures that lock (doubling, then halving between the last run that did not
    /// lock and the first that did), whether and when the lock clears by itself (refined to
    /// about a second by halving), and gives the candidates that lockout.
    pub(super) fn measure_lockout(&mut self) -> Result<LockFinding> {
        let most = self.limits.max_lockout_failures.max(1);
        let mut ok = 0u32; // a run this long did not lock
        let mut n = 2u32.min(most);
        // None: not seen yet; Some(None): it did not clear within the wait allowed.
        let mut by_itself: Option<Option<(Millis, Millis)>> = None;
        let mut by_transport = false;
        let mut first_lock: Option<u32> = None;
        let mut first_wrongs: Vec<Millis> = Vec::new();
        loop {
            if self.trial(n)? {
                ok = n;
                if first_lock.is_none() {
                    if n >= most {
                        break;
                    }
                    n = (n * 2).min(most);
                    continue;
                }
            } else {
                let locked_at = self.last_wrong_at();
                first_lock = Some(first_lock.map_or(n, |f| f.min(n)));
                let first = by_itself.is_none();
                if first {
                    // Which of these wrong codes locked is known only later.
                    first_wrongs = self
                        .sent
                        .iter()
                        .rev()
                        .filter(|s| s.purpose == Purpose::Wrong)
                        .take(n as usize)
                        .map(|s| s.at)
                        .collect();
                    first_wrongs.reverse();
                }
                match self.clear(locked_at, first)? {
                    Cleared::ByItself(lo, hi) => {
                        if first {
                            // As absolute times until the locking code is known.
                            by_itself = Some(Some((locked_at + lo, locked_at + hi)));
                        }
                    }
                    Cleared::ByTransport => {
                        by_transport = true;
                        if first {
                            by_itself = Some(None);
                        }
                    }
                    Cleared::Not => {
                        // Locked for good: at most `n` failures lock, more than `ok` do not.
                        self.space.set_lockout(Some(Lockout {
                            max_failures: n,
                            unlock_after_s: None,
                            failure_interval_s: None,
                        }));
                        return Ok(LockFinding::Locks {
                            failures: (ok + 1, n),
                            clears_after_ms: None,
                            waited_ms: self.limits.max_unlock_wait_ms,
                            unlocked_by_transport: false,
                        });
                    }
                }
            }
            let Some(hi) = first_lock else { continue };
            if hi - ok <= 1 {
                break;
            }
            n = ok + (hi - ok) / 2;
        }
        let Some(failures) = first_lock else {
            return Ok(LockFinding::NoneWithin(ok));
        };
        // The lock began at the `failures`-th wrong code of the first locking trial.
        let began = first_wrongs
            .get(failures as usize - 1)
            .copied()
            .unwrap_or(0);
        let mut clears = by_itself.flatten().map(|(lo, hi)| (lo - began, hi - began));
        if let Some((mut lo, mut hi)) = clears {
            // The check lands a little after `mid` (pace, guard): keep the tightest bounds.
            for _ in 0..16 {
                if hi - lo <= 1_000 || self.sent.len() as u32 + failures >= self.limits.max_attempts
                {
                    break;
                }
                let mid = lo + (hi - lo) / 2;
                for _ in 0..failures {
                    self.send_wrong(Purpose::Wrong)?;
                }
                let locked_at = self.last_wrong_at();
                self.t.wait_until(locked_at + mid)?;
                let now = self.t.now();
                if self.check_unlocked()? {
                    hi = hi.min(self.sent.last().expect("a check").at - locked_at);
                } else {
                    lo = lo
                        .max(self.sent.last().expect("a check").at - locked_at)
                        .max(now - locked_at);
                    match self.clear(locked_at, false)? {
                        Cleared::Not => break,
                        // Its checks bound the length too.
                        Cleared::ByItself(l, h) => (lo, hi) = (lo.max(l), hi.min(h)),
                        Cleared::ByTransport => {}
                    }
                }
            }
            clears = Some((lo, hi));
        }
        if self.space.set_lockout(Some(Lockout {
            max_failures: failures,
            unlock_after_s: clears.map(|(_, hi)| hi as f64 / 1000.0),
            failure_interval_s: None,
        })) == 0
        {
            return Err(contradiction(&self.sent, self.cred));
        }
        Ok(LockFinding::Locks {
            failures: (failures, failures),
            clears_after_ms: clears,
            waited_ms: self.limits.max_unlock_wait_ms,
            unlocked_by_transport: by_transport,
        })
    }

    fn last_wrong_at(&self) -> Millis {
        self.sent
            .iter()
            .rev()
            .find(|s| s.purpose == Purpose::Wrong)
            .map_or(0, |s| s.at)
    }
}
