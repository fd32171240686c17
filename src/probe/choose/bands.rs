//! Bands past the window: the trials that find an automatic resync or auto-sync band and how
//! far it reaches, and the walk that brings the validator's centre back afterwards.

use super::{Action, Session};
use crate::error::{Error, Result};
use crate::probe::space::Band;
use crate::probe::{Answer, Purpose};
use crate::time::Millis;

impl Session<'_> {
    /// Whether some candidate's learned centre is more than a step and a half off the true
    /// step.
    fn centre_off(&self) -> bool {
        let scheme = self.space.scheme;
        self.space
            .alive
            .iter()
            .any(|c| c.learned(scheme).abs() > 1.5)
    }

    /// The farthest any candidate's band reaches past its window, in steps.
    pub(super) fn band_reach(&self) -> i64 {
        self.space
            .alive
            .iter()
            .filter_map(|c| Band::width(&c.cfg).map(|w| w as i64 + c.cfg.window_back as i64))
            .max()
            .unwrap_or(0)
    }

    /// Whether no other step within `reach` of `step` has its code.
    pub(super) fn unique_within(&self, step: i64, reach: i64) -> bool {
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
    pub(super) fn measure_bands(&mut self) -> Result<Option<String>> {
        self.space.add_bands();
        let first = self.far_skew() + 1;
        // The pair alone, then (if a band could still explain the refusal: a code a resync
        // remembers spoils the pair) after a code past the window that clears the memory.
        let mut found = false;
        // A centre left off can hide a band searched around the true step behind the window:
        // more pairs, each splitting what is left, until none does.
        for i in 0..if self.centre_off() { 6 } else { 2 } {
            let prep = i % 2 == 1;
            if !self
                .space
                .alive
                .iter()
                .any(|c| Band::of(&c.cfg) != Band::None)
            {
                break;
            }
            // A centre the window measurement left far off (a window with nothing behind
            // the centre cannot be walked back) can put every band short of the first pair:
            // then any pair that tells bands from none, soonest.
            let reaching = self
                .space
                .alive
                .iter()
                .any(|c| Band::of(&c.cfg) != Band::None && Band::reach(&c.cfg) >= first)
                || {
                    let now = self.t.now();
                    self.splitting_pair(self.allowed(now), first).is_some()
                };
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
        let mut refined = false;
        let mut stuck = 0;
        let mut homes = 0;
        for _ in 0..64 {
            let widths = self.space.band_widths();
            if self.space.between_neighbours(&widths) && !refined {
                refined = true;
                self.space.refine_bands();
            }
            // Each trial goes past the last one accepted, so no rule refuses it as used: the
            // window is brought back at the end, or before when a moved window covers the
            // distances that would still tell the widths apart.
            let split = self.band_split().filter(|_| stuck < 2);
            let Some((x, prep)) = split else {
                if self.space.band_widths().len() > 1 && self.centre_off() && homes < 4 {
                    homes += 1;
                    stuck = 0;
                    if let Some(why) = self.band_home()? {
                        return Ok(Some(why));
                    }
                    continue;
                }
                break;
            };
            let before = self.space.alive.len();
            if let Err(why) = self.band_trial(x, Some(prep))? {
                return Ok(Some(why));
            }
            if self.space.alive.len() == before {
                stuck += 1;
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
        // The code past the window and the recovery changed what the candidates hold: a pair
        // they would all answer alike now tells nothing, so the nearest one that splits them,
        // soonest.
        let mut at = at;
        if self.pair_split(at, s1) == 0 {
            if let Some((t, s)) = self.splitting_pair(at, s1 - self.cred.step_at(at)) {
                if let Some(why) = self.budget_left(t) {
                    return Ok(Err(why));
                }
                (at, s1) = (t, s);
            }
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

    /// The pair nearest `x` steps from the true step that splits the candidates, at `at` or
    /// the start of a later step (1, 2, 4, ... steps on, as far as the bands reach): a rule
    /// that refuses steps behind the last used one takes a pair there only once the true step
    /// has passed it.
    fn splitting_pair(&self, at: Millis, x: i64) -> Option<(Millis, i64)> {
        let r = self.band_reach() + x.abs() + 3;
        let unique_reach = self.band_reach().max(self.limits.max_band as i64) + x.abs() + 3;
        let server0 = self.cred.step_at(at);
        let mut best: Option<((usize, i64, i64), Millis, i64)> = None;
        let mut k = 0;
        while k <= r {
            let t = match k {
                0 => at,
                _ => self.guarded(self.cred.step_start(server0 + k)),
            };
            let server = self.cred.step_at(t);
            for s in server - r..=server + r {
                if s < 0
                    || !self.unique_within(s, unique_reach)
                    || !self.unique_within(s + 1, unique_reach)
                {
                    continue;
                }
                // The most even split; then the soonest; then the nearest `x`.
                let split = self.pair_split(t, s);
                let key = (usize::MAX - split, k, (s - server - x).abs());
                if split > 0 && best.is_none_or(|b| key < b.0) {
                    best = Some((key, t, s));
                }
            }
            k = if k < 2 { k + 1 } else { k * 2 };
        }
        best.map(|(_, t, s)| (t, s))
    }

    /// How evenly the pair at `s1` (sent at `at`, the next step's code after it unless the
    /// first is accepted) splits the candidates: the fewer side's count.
    fn pair_split(&self, at: Millis, s1: i64) -> usize {
        let scheme = self.space.scheme;
        let later = at + self.limits.min_interval_ms;
        let yes = self
            .space
            .alive
            .iter()
            .filter(|&c| {
                let mut c = c.clone();
                c.decide(scheme, at, s1).0 == Answer::Accept
                    || c.decide(scheme, later, s1 + 1).0 == Answer::Accept
            })
            .count();
        yes.min(self.space.alive.len() - yes)
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
}
