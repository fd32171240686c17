//! The probe's session: which code to send when (the attempt whose predicted answers split the
//! candidates best, within the safety rules), the skew experiments, and the restoring logins;
//! the band trials and the lockout measurement live beside it.

use super::space::{blank, Space};
use super::{
    contradiction, Answer, Credential, Limits, LockFinding, Outcome, Purpose, Sent, Stop, Transport,
};
use crate::error::{Error, Result};
use crate::time::Millis;
use crate::validator::{DriftLearning, Scheme};

mod bands;
mod lockout;
mod resync;

/// Candidates scored per attempt considered; the whole set decides safety and convergence.
const SAMPLE: usize = 48;
/// The window bound searched first, in steps either side.
const FIRST_CAP: u32 = 8;

/// An attempt the probe could make: the code of `step`, sent at `at`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Action {
    at: Millis,
    step: i64,
}

pub(super) struct Session<'a> {
    cred: &'a Credential,
    t: &'a mut dyn Transport,
    limits: &'a Limits,
    progress: &'a dyn Fn(usize, usize),
    space: Space,
    sent: Vec<Sent>,
    start: Millis,
    /// Refusals since the last acceptance.
    failures: u32,
}

impl<'a> Session<'a> {
    pub(super) fn new(
        cred: &'a Credential,
        t: &'a mut dyn Transport,
        limits: &'a Limits,
        progress: &'a dyn Fn(usize, usize),
    ) -> Session<'a> {
        let start = t.now();
        let scheme = Scheme::Totp {
            step_s: cred.step_s,
            t0: cred.t0,
        };
        Session {
            cred,
            space: Space::new(scheme, start, FIRST_CAP, limits.max_window, limits.max_band),
            t,
            limits,
            progress,
            sent: Vec::new(),
            start,
            failures: 0,
        }
    }

    fn step_ms(&self) -> Millis {
        self.cred.step_s as Millis * 1000
    }

    /// The earliest time at or after `t` that keeps the pace and the guard.
    fn allowed(&self, t: Millis) -> Millis {
        let mut t = t;
        if let Some(last) = self.sent.last() {
            t = t.max(last.at + self.limits.min_interval_ms);
        }
        self.guarded(t)
    }

    /// `t`, or the first time after it that is at least the guard from a step boundary.
    fn guarded(&self, t: Millis) -> Millis {
        let step = self.step_ms();
        let guard = self.limits.guard_ms.min(step / 4);
        let start = self.cred.step_start(self.cred.step_at(t));
        if t - start < guard {
            start + guard
        } else if start + step - t <= guard {
            start + step + guard
        } else {
            t
        }
    }

    fn budget_left(&self, at: Millis) -> Option<String> {
        if self.sent.len() as u32 >= self.limits.max_attempts {
            return Some(format!(
                "the attempt budget ({}) ran out",
                self.limits.max_attempts
            ));
        }
        if at - self.start > self.limits.max_time_ms {
            return Some(format!(
                "the time budget ({}) ran out",
                crate::time::format_duration(self.limits.max_time_ms as f64 / 1000.0)
            ));
        }
        None
    }

    /// Sends the code of `a.step` at `a.at` and tells the candidates.
    fn send(&mut self, a: Action, purpose: Purpose) -> Result<Answer> {
        self.t.wait_until(a.at)?;
        let at = self.t.now();
        let code = self.cred.code(a.step);
        let answer = self.t.verify(self.cred, &code)?;
        let left = self.space.observe(at, a.step, answer);
        self.failures = if answer == Answer::Accept {
            0
        } else {
            self.failures + 1
        };
        self.record(Sent {
            at,
            step: a.step,
            offset: a.step - self.cred.step_at(at),
            code,
            code2: None,
            answer,
            purpose,
            left,
        })?;
        Ok(answer)
    }

    /// Keeps an attempt and reports progress; an answer that left no candidate stops the
    /// probe.
    fn record(&mut self, s: Sent) -> Result<()> {
        let left = s.left;
        self.sent.push(s);
        (self.progress)(self.sent.len(), left);
        if left == 0 {
            return Err(contradiction(&self.sent, self.cred));
        }
        Ok(())
    }

    /// The attempts worth considering: sent now (at the pace), later in this step, or at the
    /// start of a later step (so that used steps fall behind the window), each with the code
    /// of every step the candidates' windows could reach. Steps whose code another step near
    /// them shares are left out, so an answer always names one step.
    fn menu(&mut self) -> Vec<Action> {
        let now = self.t.now();
        let now = self.allowed(now);
        let step_ms = self.step_ms();
        let guard = self.limits.guard_ms.min(step_ms / 4);
        let s0 = self.cred.step_at(now);
        let mut times = vec![now];
        let late = self.cred.step_start(s0) + step_ms - guard - 1;
        if late > now {
            times.push(late);
        }
        // Long enough for every step a candidate may have used to fall behind every window.
        let scheme = self.space.scheme;
        let spread = self
            .space
            .alive
            .iter()
            .fold(0i64, |m, c| m.max(c.learned(scheme).abs().ceil() as i64));
        let reach = (self.space.cap_back + self.space.cap_ahead) as i64 + 2 * spread + 4;
        let mut k = 1i64;
        while k <= reach {
            let start = self.cred.step_start(s0 + k);
            times.push(start + guard);
            if k == 1 {
                times.push(start + step_ms - guard - 1);
            }
            k = if k < 4 { k + 1 } else { k + k / 2 };
        }
        if k / 2 < reach {
            times.push(self.cred.step_start(s0 + reach) + guard);
        }
        // Around every centre a candidate has learned, out to its bound and two steps past.
        let (lo_c, hi_c) = self.space.alive.iter().fold((0i64, 0i64), |(lo, hi), c| {
            let d = c.learned(scheme);
            (lo.min(d.floor() as i64), hi.max(d.ceil() as i64))
        });
        let (back, ahead) = (
            (self.space.cap_back as i64 + 2).min(self.limits.max_window as i64 + 1) - lo_c,
            (self.space.cap_ahead as i64 + 2).min(self.limits.max_window as i64 + 1) + hi_c,
        );
        let mut out = Vec::new();
        for at in times {
            let s = self.cred.step_at(at);
            let lo = s - back - 3;
            let codes: Vec<u32> = (lo..=s + ahead + 3)
                .map(|x| self.cred.code_value(x))
                .collect();
            for step in s - back..=s + ahead {
                if step < 0 {
                    continue;
                }
                let c = codes[(step - lo) as usize];
                if codes.iter().filter(|x| **x == c).count() == 1 {
                    out.push(Action { at, step });
                }
            }
        }
        out
    }

    /// How well `a` splits `sample`: the expected share of candidates left (lower is better).
    fn score(&self, a: Action, sample: &[usize]) -> (f64, bool) {
        let mut counts = [0usize; 3];
        let mut locks = false;
        for &i in sample {
            let (ans, locked) = self.space.alive[i].predict(self.space.scheme, a.at, a.step);
            locks |= locked;
            counts[ans as usize] += 1;
        }
        let n = sample.len().max(1) as f64;
        (counts.iter().map(|c| (*c as f64 / n).powi(2)).sum(), locks)
    }

    /// Whether every candidate answers `a` the same way: Some(that answer).
    fn unanimous(&self, a: Action) -> Option<Answer> {
        let mut it = self.space.alive.iter();
        let first = it.next()?.predict(self.space.scheme, a.at, a.step);
        if first.1 {
            return None;
        }
        it.all(|c| c.predict(self.space.scheme, a.at, a.step) == first)
            .then_some(first.0)
    }

    /// The next attempt: after a refusal, the earliest one every candidate accepts; otherwise
    /// the best split. None: what is left answers every attempt in the menu alike.
    fn choose(&mut self) -> Result<Option<(Action, Purpose)>> {
        let menu = self.menu();
        if self.failures > 0 {
            let centre = self
                .space
                .representative()
                .map_or(0.0, |c| c.learned(self.space.scheme));
            let mut best: Option<Action> = None;
            for a in &menu {
                if best.is_some_and(|b| a.at > b.at) {
                    break;
                }
                if self.unanimous(*a) == Some(Answer::Accept) {
                    let s = self.cred.step_at(a.at) as f64 + centre;
                    if best.is_none_or(|b| (a.step as f64 - s).abs() < (b.step as f64 - s).abs()) {
                        best = Some(*a);
                    }
                }
            }
            // Candidates with bands can disagree on every code near the centre: then the code
            // the most of them accept (and none says locks), soonest.
            let best = best.or_else(|| {
                let scheme = self.space.scheme;
                let first_time = menu.first()?.at;
                menu.iter()
                    .filter(|a| a.at <= first_time + self.step_ms())
                    .filter_map(|a| {
                        let mut yes = 0;
                        for c in &self.space.alive {
                            match c.predict(scheme, a.at, a.step) {
                                (_, true) => return None,
                                (Answer::Accept, _) => yes += 1,
                                _ => {}
                            }
                        }
                        (yes * 2 > self.space.alive.len()).then_some((yes, *a))
                    })
                    .max_by_key(|(yes, a)| (*yes, -a.at))
                    .map(|(_, a)| a)
            });
            return match best {
                Some(a) => Ok(Some((a, Purpose::Recover))),
                None => Err(Error::failed(format!(
                    "probe stopped after attempt {} on credential {}: no attempt within {} steps is accepted by every configuration left, so the failure count could not be cleared safely; nothing more was sent",
                    self.sent.len(),
                    self.cred.id,
                    self.space.cap_back.max(self.space.cap_ahead) + 3
                ))),
            };
        }
        let n = self.space.alive.len();
        let sample: Vec<usize> = if n <= SAMPLE {
            (0..n).collect()
        } else {
            (0..SAMPLE)
                .map(|i| i * n / SAMPLE + (i * 7919) % (n / SAMPLE).max(1))
                .collect()
        };
        let mut best: Option<(f64, Action)> = None;
        for a in &menu {
            let (s, locks) = self.score(*a, &sample);
            if locks || s >= 1.0 - 1e-12 {
                continue;
            }
            // A later attempt must split clearly better to be worth the wait.
            let wait = (a.at - menu[0].at) as f64 / self.step_ms() as f64;
            let cost = s + 0.01 * wait;
            if best.is_none_or(|(b, _)| cost < b) {
                best = Some((cost, *a));
            }
        }
        if let Some((_, a)) = best {
            return Ok(Some((a, Purpose::Measure)));
        }
        // The sample agrees on everything: look for a split in the whole set.
        if n > sample.len() {
            for a in &menu {
                if self.unanimous(*a).is_none() {
                    return Ok(Some((*a, Purpose::Measure)));
                }
            }
        }
        Ok(self.two_ahead(&menu).map(|a| (a, Purpose::Measure)))
    }

    /// Some rules differ only after a code that every candidate accepts (exact used steps and
    /// time-forward differ on an unused step behind a later accepted one): the first code of
    /// such a pair, if there is one.
    fn two_ahead(&self, menu: &[Action]) -> Option<Action> {
        let scheme = self.space.scheme;
        let first_time = menu.first()?.at;
        for a1 in menu.iter().filter(|a| a.at <= first_time + self.step_ms()) {
            if self.unanimous(*a1) != Some(Answer::Accept) {
                continue;
            }
            let after: Vec<_> = self
                .space
                .alive
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    c.decide(scheme, a1.at, a1.step);
                    c
                })
                .collect();
            let soonest = a1.at + self.limits.min_interval_ms;
            for a2 in menu.iter().filter(|a| a.at >= soonest) {
                let mut answers = after.iter().map(|c| c.predict(scheme, a2.at, a2.step));
                let first = answers.next()?;
                if first.1 {
                    continue;
                }
                if answers.any(|x| x.0 != first.0 || x.1) {
                    return Some(*a1);
                }
            }
        }
        None
    }

    pub(super) fn run(mut self) -> Result<Outcome> {
        let now = self.t.now();
        let at = self.allowed(now);
        let base = Action {
            at,
            step: self.cred.step_at(at),
        };
        self.t.wait_until(base.at)?;
        let code = self.cred.code(base.step);
        let answer = self.t.verify(self.cred, &code)?;
        if answer != Answer::Accept {
            return Err(Error::input(format!(
                "credential {}: the validator answered {} to the code of now (sent away from a step boundary): check the secret, digits and step in the secrets file, that the validator knows this credential, and that this machine's clock is right; nothing more was sent",
                self.cred.id,
                answer.as_str()
            )));
        }
        let left = self.space.observe(base.at, base.step, answer);
        self.sent.push(Sent {
            at: base.at,
            step: base.step,
            offset: 0,
            code,
            code2: None,
            answer,
            purpose: Purpose::Baseline,
            left,
        });
        let mut skew_tried = 0;
        let stop = loop {
            let Some((a, purpose)) = self.choose()? else {
                // One attempt at a time cannot tell consistent-skew learning (three refused
                // codes at one skew, in successive steps) from none: try it once.
                // Refused codes count as sightings when refused steps are skipped: a code
                // accepted and sent again at once, in three successive steps, tells the two
                // apart (the third is accepted through the skew).
                let f = self.space.facets();
                let consistent = f
                    .drifts
                    .iter()
                    .any(|d| matches!(d, DriftLearning::Consistent { .. }));
                let skips = f.rules.iter().any(|r| r.1) && f.rules.iter().any(|r| !r.1);
                let experiment = match skew_tried {
                    0 if consistent && f.drifts.len() > 1 => Some(None),
                    0 | 1 if consistent && skips => Some(Some(-1)),
                    _ => None,
                };
                if let Some(o) = experiment {
                    skew_tried = if o.is_none() { 1 } else { 2 };
                    let done = match o {
                        None => self.skew_experiment(None)?,
                        Some(_) => self.replay_sightings()?,
                    };
                    match done {
                        Some(why) => break Stop::Budget(why),
                        None => continue,
                    }
                }
                break Stop::Converged;
            };
            if let Some(why) = self.budget_left(a.at) {
                break Stop::Budget(why);
            }
            self.send(a, purpose)?;
        };
        let stop = match stop {
            // From the true step, where a band searched around it (LinOTP's) and one searched
            // around the learned centre start alike.
            Stop::Converged => {
                let mut why = self.restore().and_then(|_| self.measure_bands())?;
                if why.is_none() && self.t.has_resync() {
                    why = self.measure_resync()?;
                }
                match why {
                    Some(why) => Stop::Budget(why),
                    None => Stop::Converged,
                }
            }
            s => s,
        };
        let lockout = if self.limits.allow_lockout && stop == Stop::Converged {
            if self.failures > 0 && !self.check_unlocked()? {
                return Err(contradiction(&self.sent, self.cred));
            }
            self.measure_lockout()?
        } else {
            LockFinding::NotMeasured
        };
        let drift_left = self.restore()?;
        let facets = self.space.facets();
        let mut config = self
            .space
            .representative()
            .map_or_else(blank, |c| c.cfg.clone());
        config.preset = None;
        let elapsed_ms = self.sent.last().map_or(0, |s| s.at - self.start);
        Ok(Outcome {
            sent: self.sent,
            stop,
            facets,
            config,
            lockout,
            drift_left,
            elapsed_ms,
            max_band: self.limits.max_band,
            resync_endpoint: self.t.has_resync(),
        })
    }

    /// Three codes at one skew (`skew`, or one past every candidate's window), in successive
    /// steps, each refusal followed by a recovery: consistent-skew learning accepts the third.
    /// Returns why it stopped early (a budget), if it did.
    fn skew_experiment(&mut self, skew: Option<i64>) -> Result<Option<String>> {
        // A skew relative to the centre the candidates have learned.
        let centre = self
            .space
            .representative()
            .map_or(0, |c| c.learned(self.space.scheme).round() as i64);
        let o = skew.map_or_else(|| self.far_skew(), |o| centre + o);
        self.skew_steps(o)
    }

    /// The first allowed time in a step after `last` (any step when None), or why the budget
    /// forbids it.
    fn in_next_step(&mut self, last: Option<i64>) -> std::result::Result<Millis, String> {
        let now = self.t.now();
        let mut at = self.allowed(now);
        if let Some(p) = last {
            at = at.max(self.guarded(self.cred.step_start(p + 1)));
        }
        match self.budget_left(at) {
            Some(why) => Err(why),
            None => Ok(at),
        }
    }

    /// In three successive steps: the code of the centre, then the same code again (refused as
    /// used). Returns why it stopped early (a budget), if it did.
    fn replay_sightings(&mut self) -> Result<Option<String>> {
        let scheme = self.space.scheme;
        let mut last_step: Option<i64> = None;
        let mut skew: Option<i64> = None;
        for _ in 0..3 {
            let at = match self.in_next_step(last_step) {
                Ok(at) => at,
                Err(why) => return Ok(Some(why)),
            };
            let server = self.cred.step_at(at);
            let centre = self
                .space
                .representative()
                .map_or(0, |c| c.learned(scheme).round() as i64);
            // The same skew each time, as near the centre as an unused step allows.
            let want = skew.unwrap_or(centre);
            let Some(a) = [0, 1, -1, 2, -2, 3, 4]
                .iter()
                .map(|d| Action {
                    at,
                    step: server + want + d,
                })
                .find(|a| self.unanimous(*a) == Some(Answer::Accept))
            else {
                return Ok(None);
            };
            skew.get_or_insert(a.step - server);
            last_step = Some(server);
            self.send(a, Purpose::Measure)?;
            let now = self.t.now();
            let again = Action {
                at: self.allowed(now),
                step: a.step,
            };
            if self.cred.step_at(again.at) != server {
                return Ok(None);
            }
            if self.send(again, Purpose::Measure)? == Answer::Accept {
                return Ok(None);
            }
        }
        // The last refusal wants a recovery before anything else.
        if let Some((a, p)) = self.choose()? {
            self.send(a, p)?;
        }
        Ok(None)
    }

    /// One step past the farthest window edge ahead of any candidate.
    fn far_skew(&self) -> i64 {
        let scheme = self.space.scheme;
        self.space
            .alive
            .iter()
            .map(|c| c.learned(scheme).ceil() as i64 + c.cfg.window_ahead as i64)
            .max()
            .unwrap_or(0)
            + 2
    }

    fn skew_steps(&mut self, mut o: i64) -> Result<Option<String>> {
        let mut last_step: Option<i64> = None;
        for _ in 0..3 {
            let at = match self.in_next_step(last_step) {
                Ok(at) => at,
                Err(why) => return Ok(Some(why)),
            };
            let server = self.cred.step_at(at);
            // A skew whose code no step near it shares (the same skew each time, if it can).
            while (server + o - 3..=server + o + 3).any(|x| {
                x != server + o && self.cred.code_value(x) == self.cred.code_value(server + o)
            }) {
                o += 1;
            }
            last_step = Some(server);
            if self.send(
                Action {
                    at,
                    step: server + o,
                },
                Purpose::Measure,
            )? == Answer::Accept
            {
                return Ok(None);
            }
            match self.choose()? {
                Some((a, p)) => {
                    self.send(a, p)?;
                }
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Walks the learned drift back to zero with codes every candidate accepts, each moving it
    /// closer; returns the drift left (None when the candidates disagree on it).
    fn restore(&mut self) -> Result<Option<f64>> {
        let scheme = self.space.scheme;
        let agreed = |s: &Space| {
            let mut it = s.alive.iter().map(|c| c.learned(scheme));
            let first = it.next()?;
            it.all(|x| (x - first).abs() < 1e-9).then_some(first)
        };
        for _ in 0..64 {
            let Some(d) = agreed(&self.space) else {
                return Ok(None);
            };
            if d.abs() < 1e-9 || self.sent.len() as u32 >= self.limits.max_attempts {
                return Ok(Some(d));
            }
            let mut best: Option<(f64, Action)> = None;
            for a in self.menu() {
                if best.is_some_and(|(_, b)| a.at > b.at) {
                    break;
                }
                if self.unanimous(a) != Some(Answer::Accept) {
                    continue;
                }
                let mut c = self.space.alive[0].clone();
                c.decide(scheme, a.at, a.step);
                let after = c.learned(scheme).abs();
                if after < d.abs() - 1e-9 && best.is_none_or(|(b, _)| after < b) {
                    best = Some((after, a));
                }
            }
            match best {
                Some((_, a)) => {
                    self.send(a, Purpose::Restore)?;
                }
                None => return Ok(Some(d)),
            }
        }
        Ok(agreed(&self.space))
    }
}
