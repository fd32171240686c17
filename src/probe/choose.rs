//! The probe's session: which code to send when (the attempt whose predicted answers split the
//! candidates best, within the safety rules), the lockout measurement, and the restoring logins.

use super::space::{blank, Band, Space};
use super::{
    contradiction, Answer, Credential, Limits, LockFinding, Outcome, Purpose, Sent, Stop, Transport,
};
use crate::error::{Error, Result};
use crate::time::Millis;
use crate::validator::{DriftLearning, Lockout, Scheme};

/// Candidates scored per attempt considered; the whole set decides safety and convergence.
const SAMPLE: usize = 48;
/// The window bound searched first, in steps either side.
const FIRST_CAP: u32 = 8;

/// How a lock ended.
enum Cleared {
    /// By itself, between these times after the locking failure.
    ByItself(Millis, Millis),
    ByTransport,
    Not,
}

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
        self.sent.push(Sent {
            at,
            step: a.step,
            offset: a.step - self.cred.step_at(at),
            code,
            answer,
            purpose,
            left,
        });
        (self.progress)(self.sent.len(), left);
        if left == 0 {
            return Err(contradiction(&self.sent, self.cred));
        }
        Ok(answer)
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
            Stop::Converged => match self.restore().and_then(|_| self.measure_bands())? {
                Some(why) => Stop::Budget(why),
                None => Stop::Converged,
            },
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

    /// The farthest any candidate's band reaches past its window, in steps.
    fn band_reach(&self) -> i64 {
        self.space
            .alive
            .iter()
            .filter_map(|c| Band::width(&c.cfg).map(|w| w as i64 + c.cfg.window_back as i64))
            .max()
            .unwrap_or(0)
    }

    /// Whether no other step within `reach` of `step` has its code.
    fn unique_within(&self, step: i64, reach: i64) -> bool {
        let c = self.cred.code_value(step);
        (step - reach..=step + reach).all(|x| x == step || self.cred.code_value(x) != c)
    }

    /// Past every window: a code one step beyond the farthest edge, then the next step's code
    /// at once. A band accepts one of them (the first: an auto-sync band; the second: an
    /// automatic resync). Candidates with each band at a grid of widths are kept alongside;
    /// trials at the distance that splits their reaches best, the window brought back to the
    /// true step before each, find how far it reaches (the grid's gap it falls in is filled in
    /// when one or two neighbouring widths are left). Returns why it stopped early (a budget),
    /// if it did.
    fn measure_bands(&mut self) -> Result<Option<String>> {
        self.space.add_bands();
        let first = self.far_skew() + 1;
        // The pair alone, then (if a band could still explain the refusal: a code a resync
        // remembers spoils the pair) after a code past the window that clears the memory.
        let mut found = false;
        for prep in [false, true] {
            let reaching = self
                .space
                .alive
                .iter()
                .any(|c| Band::of(&c.cfg) != Band::None && Band::reach(&c.cfg) >= first);
            if !reaching {
                break;
            }
            match self.band_trial(first, Some(prep))? {
                Err(why) => return Ok(Some(why)),
                Ok(accepted) => found = accepted,
            }
            if found {
                break;
            }
        }
        let plain_left = self
            .space
            .alive
            .iter()
            .any(|c| Band::of(&c.cfg) == Band::None);
        if !found || plain_left {
            // No band, or none needed to explain what was seen: bands that do not reach past
            // the window are not told apart from none.
            self.space.drop_bands();
            return Ok(None);
        }
        let grid = crate::probe::space::band_grid(self.limits.max_band);
        let mut refined = false;
        let mut stuck = 0;
        for _ in 0..64 {
            let widths = self.space.band_widths();
            let neighbours = match (widths.first(), widths.last()) {
                (Some(lo), Some(hi)) => {
                    let i = grid.iter().position(|g| g == lo);
                    let j = grid.iter().position(|g| g == hi);
                    matches!((i, j), (Some(i), Some(j)) if j <= i + 1)
                }
                _ => false,
            };
            if neighbours && !refined {
                refined = true;
                self.space.refine_bands();
            }
            // Each trial goes past the last one accepted, so no rule refuses it as used: the
            // window is brought back once, at the end.
            let Some((x, prep)) = self.band_split() else {
                break;
            };
            let before = self.space.alive.len();
            if let Err(why) = self.band_trial(x, Some(prep))? {
                return Ok(Some(why));
            }
            if self.space.alive.len() == before {
                stuck += 1;
                if stuck == 2 {
                    break;
                }
            } else {
                stuck = 0;
            }
        }
        self.band_home()
    }

    /// The trial distance from the true step whose answers split the band candidates best, and
    /// whether a code past the window should go first (to clear what a resync remembers); None
    /// when they would all answer alike. A band searched around the learned centre reaches
    /// from there; LinOTP's, around the true step.
    fn band_split(&self) -> Option<(i64, bool)> {
        let scheme = self.space.scheme;
        let mut reaches: Vec<(Band, u32, i64)> = Vec::new();
        for c in &self.space.alive {
            let b = Band::of(&c.cfg);
            if b == Band::None {
                continue;
            }
            let key = (b, Band::width(&c.cfg).unwrap_or(0));
            let from = match b {
                Band::AutoResync(crate::validator::AutoStyle::Nearest) => 0,
                _ => c.learned(scheme).round() as i64,
            };
            if !reaches.iter().any(|r| (r.0, r.1) == key) {
                reaches.push((key.0, key.1, from + Band::reach(&c.cfg)));
            }
        }
        // The reaches are where the candidates should part; what each would answer (its state
        // included) decides.
        let now = self.allowed(self.sent.last().map_or(0, |l| l.at));
        let server = self.cred.step_at(now);
        let later = now + self.limits.min_interval_ms;
        let twins: Vec<&crate::probe::Candidate> = self
            .space
            .alive
            .iter()
            .filter(|c| Band::of(&c.cfg) != Band::None)
            .collect();
        // Every distance out to the farthest reach (at most 512 of them, evenly spread).
        let far = reaches.iter().map(|r| r.2 + 1).max().unwrap_or(0);
        let stride = (far / 512).max(1) as usize;
        let mut xs: Vec<i64> = reaches.iter().flat_map(|r| [r.2, r.2 + 1]).collect();
        xs.extend((1..=far).step_by(stride));
        xs.sort();
        xs.dedup();
        let mut best: Option<(usize, i64, bool)> = None;
        for x in xs.into_iter().filter(|x| *x > 0) {
            for prep in [false, true] {
                let take = twins
                    .iter()
                    .filter(|c| {
                        let mut c = (**c).clone();
                        if prep {
                            c.decide(scheme, now, server + x + 3);
                        }
                        c.decide(scheme, later, server + x).0 == Answer::Accept
                            || c.decide(scheme, later + 5_000, server + x + 1).0 == Answer::Accept
                    })
                    .count();
                let split = take.min(twins.len() - take);
                if split > 0 && best.is_none_or(|b| split > b.0) {
                    best = Some((split, x, prep));
                }
            }
        }
        best.map(|b| (b.1, b.2))
    }

    /// The code of `x` steps from the true step, early in a step, then the next step's code
    /// at once unless the first was accepted; a recovery after two refusals. Ok(Err(why)) when
    /// a budget forbids it.
    fn band_trial(
        &mut self,
        x: i64,
        forced: Option<bool>,
    ) -> Result<std::result::Result<bool, String>> {
        let at = match self.in_next_step(None) {
            Ok(at) => at,
            Err(why) => return Ok(Err(why)),
        };
        let server = self.cred.step_at(at);
        let reach = self.band_reach().max(self.limits.max_band as i64) + x.abs() + 3;
        let unique = |s: i64| self.unique_within(s, reach) && self.unique_within(s + 1, reach);
        let mut s1 = server + x;
        while !unique(s1) {
            s1 += 1;
        }
        // privacyIDEA's resync remembers one code past the window, and a code found that does
        // not follow it clears the memory without being remembered: when a candidate with a
        // band would not take the pair for what it remembers, one code past the window first
        // (the one after which the most of them take it).
        let plain = self.bands_take(at, x, None, s1);
        let prep = (s1 + 3..s1 + 12)
            .filter(|p| unique(*p))
            .map(|p| (self.bands_take(at, x, Some(p), s1), p))
            .max_by_key(|(n, p)| (*n, -p));
        let prep = prep.filter(|(n, _)| forced.unwrap_or(*n > plain));
        if let Some((_, p)) = prep {
            if self.send(Action { at, step: p }, Purpose::Band)? != Answer::Accept {
                if let Some((a, why)) = self.choose()? {
                    self.send(a, why)?;
                }
            }
        }
        let now = self.t.now();
        let at = self.allowed(now);
        // The recovery may have moved the window: the pair stays past every one without a band.
        let scheme = self.space.scheme;
        let inside = |s: i64| {
            self.space.alive.iter().any(|c| {
                Band::of(&c.cfg) == Band::None
                    && (c.predict(scheme, at, s).0 == Answer::Accept
                        || c.predict(scheme, at, s + 1).0 == Answer::Accept)
            })
        };
        while inside(s1) || !(self.unique_within(s1, reach) && self.unique_within(s1 + 1, reach)) {
            s1 += 1;
        }
        if self.send(Action { at, step: s1 }, Purpose::Band)? == Answer::Accept {
            return Ok(Ok(true));
        }
        let now = self.t.now();
        let second = Action {
            at: self.allowed(now),
            step: s1 + 1,
        };
        if self.send(second, Purpose::Band)? == Answer::Accept {
            return Ok(Ok(true));
        }
        if let Some((a, p)) = self.choose()? {
            self.send(a, p)?;
        }
        Ok(Ok(false))
    }

    /// How many candidates with a band that reaches `x` steps out, after the code of `prep`
    /// (refused), accept the pair at `s1`.
    fn bands_take(&self, at: Millis, x: i64, prep: Option<i64>, s1: i64) -> usize {
        let scheme = self.space.scheme;
        let later = at + self.limits.min_interval_ms;
        self.space
            .alive
            .iter()
            .filter(|c| Band::of(&c.cfg) != Band::None && Band::reach(&c.cfg) >= x)
            .filter(|&c| {
                let mut c = c.clone();
                if prep.is_some_and(|p| c.decide(scheme, at, p).0 == Answer::Accept) {
                    return false;
                }
                c.decide(scheme, later, s1).0 == Answer::Accept
                    || c.predict(scheme, later + self.limits.min_interval_ms, s1 + 1)
                        .0
                        == Answer::Accept
            })
            .count()
    }

    /// Whether every candidate accepts the pair (the code of `s1` at `at`, and if it is
    /// refused, the next step's code at once) without locking: Some(the farthest learned
    /// drift after it, in steps).
    fn pair_accepted(&self, at: Millis, s1: i64) -> Option<f64> {
        let scheme = self.space.scheme;
        let mut far = 0.0f64;
        for c in &self.space.alive {
            let mut c = c.clone();
            match c.decide(scheme, at, s1) {
                (Answer::Accept, _) => {}
                (_, true) => return None,
                _ => {
                    let later = at + self.limits.min_interval_ms;
                    if c.decide(scheme, later, s1 + 1) != (Answer::Accept, false) {
                        return None;
                    }
                }
            }
            far = far.max(c.learned(scheme).abs());
        }
        Some(far)
    }

    /// Brings the window the band moved back within a step and a half of the true step, with
    /// the pair every candidate accepts that brings it nearest (the earliest that brings it
    /// home), waiting where a rule refuses steps behind the last used one.
    fn band_home(&mut self) -> Result<Option<String>> {
        let scheme = self.space.scheme;
        for _ in 0..64 {
            let d = self
                .space
                .alive
                .iter()
                .map(|c| c.learned(scheme))
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if d.abs() <= 1.5 {
                return Ok(None);
            }
            let first = match self.in_next_step(None) {
                Ok(at) => at,
                Err(why) => return Ok(Some(why)),
            };
            // A rule that refuses steps before the last used one (privacyIDEA's) takes a code
            // behind the centre only once the true step has passed that: wait for it.
            let sign = d.signum() as i64;
            let s0 = self.cred.step_at(first);
            let reach = d.abs().ceil() as i64;
            // A resync back is a pair behind the centre, which a rule that refuses steps at or
            // before the last used one takes only once the true step has passed that: each hop
            // costs a wait. The earliest pair that brings the centre home; else the hop that
            // gains the most, waiting no longer than it gains.
            let stride = (reach / 64).max(1);
            let hops: Vec<i64> = (0..=2)
                .chain((3..=reach).rev().step_by(stride as usize))
                .map(|h| h * sign)
                .collect();
            let mut found: Option<(f64, Millis, i64, i64)> = None;
            let widest_hop = self
                .space
                .alive
                .iter()
                .filter_map(|c| Band::width(&c.cfg))
                .min()
                .map_or(reach, |w| (w as i64).min(reach));
            let mut k = 0;
            while k <= 2 * reach + 16 {
                let at = match k {
                    0 => first,
                    _ => self.guarded(self.cred.step_start(s0 + k)),
                };
                let server = self.cred.step_at(at);
                for &h in &hops {
                    if let Some(after) = self.pair_accepted(at, server + h) {
                        if after < d.abs() - 0.5 && found.is_none_or(|f| after < f.0 - 1e-9) {
                            found = Some((after, at, server, h));
                        }
                    }
                }
                match found {
                    Some(f) if f.0 <= 1.5 => break,
                    // No hop gains more than the narrowest band reaches: waiting longer
                    // than that buys nothing.
                    Some(_) if k > widest_hop + 2 => break,
                    _ => k += 1,
                }
            }
            let found = found.map(|(_, at, server, h)| (at, server, h));
            let Some((at, server, h)) = found else {
                break;
            };
            if let Some(why) = self.budget_left(at) {
                return Ok(Some(why));
            }
            if self.send(
                Action {
                    at,
                    step: server + h,
                },
                Purpose::Restore,
            )? != Answer::Accept
            {
                let now = self.t.now();
                let second = Action {
                    at: self.allowed(now),
                    step: server + h + 1,
                };
                self.send(second, Purpose::Restore)?;
            }
        }
        Err(Error::failed(format!(
            "probe stopped after attempt {} on credential {}: the band beyond the window moved the validator's centre and no pair of codes every configuration left accepts brings it back; nothing more was sent",
            self.sent.len(),
            self.cred.id
        )))
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
    fn check_unlocked(&mut self) -> Result<bool> {
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
            answer: Answer::Accept,
            purpose: Purpose::Unlock,
            left: self.space.alive.len(),
        });
        Ok(true)
    }

    /// Counts the failures that lock (doubling, then halving between the last run that did not
    /// lock and the first that did), whether and when the lock clears by itself (refined to
    /// about a second by halving), and gives the candidates that lockout.
    fn measure_lockout(&mut self) -> Result<LockFinding> {
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
