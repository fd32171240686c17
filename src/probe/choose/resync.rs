//! The two-code resync endpoint: trials of two codes in successive steps at the offsets that
//! split the procedures and windows left (behind the centre, so that no trial leaves a used
//! step ahead of the true one), and the hops that bring the centre home afterwards.

use super::{Action, Session};
use crate::error::{Error, Result};
use crate::probe::{Answer, Candidate, Purpose, Sent};
use crate::time::Millis;
use crate::validator::SyncSearch;

impl Session<'_> {
    /// Finds the resync procedure behind the endpoint and its window. Every candidate is joined
    /// by twins with each procedure at each window of the grid (itself standing for an endpoint
    /// that takes nothing); trials at the offset whose predicted answers split them best follow
    /// until they would all answer alike, with the ordinary attempts that tell apart what a
    /// resync left behind (is the step after the second code refused?) in between. Returns why
    /// it stopped early (a budget), if it did.
    pub(super) fn measure_resync(&mut self) -> Result<Option<String>> {
        self.space.add_syncs();
        let mut refined = false;
        for _ in 0..256 {
            if let Some((a, p)) = self.choose_by_kind()? {
                if let Some(why) = self.budget_left(a.at) {
                    return Ok(Some(why));
                }
                self.send(a, p)?;
                continue;
            }
            // Windows left between two neighbours of the grid: every one between joins.
            let widths: Vec<u32> = self
                .space
                .sync_keys()
                .iter()
                .flatten()
                .map(|p| p.window)
                .collect();
            if !refined && self.space.between_neighbours(&widths) {
                refined = true;
                self.space.refine_syncs();
                continue;
            }
            let Some(a) = self.resync_split() else {
                break;
            };
            if let Some(why) = self.budget_left(a.at) {
                return Ok(Some(why));
            }
            self.send_resync(a, Purpose::Resync)?;
        }
        // Only a resync that took moved the centre.
        let took = self
            .sent
            .iter()
            .any(|s| s.purpose == Purpose::Resync && s.answer == Answer::Accept);
        if took {
            self.resync_home()
        } else {
            Ok(None)
        }
    }

    /// The next ordinary attempt, chosen among one candidate per configuration and resync
    /// procedure: twins that differ only in the window answer every ordinary attempt alike
    /// (a resync leaves the same state whatever the window that found its codes).
    fn choose_by_kind(&mut self) -> Result<Option<(Action, Purpose)>> {
        let all = std::mem::take(&mut self.space.alive);
        let mut seen: Vec<crate::validator::ValidatorConfig> = Vec::new();
        for c in &all {
            let mut key = c.cfg.clone();
            if let Some(p) = key.sync.as_mut() {
                p.window = 0;
            }
            if !seen.contains(&key) {
                seen.push(key);
                self.space.alive.push(c.clone());
            }
        }
        let chosen = self.choose();
        self.space.alive = all;
        chosen
    }

    /// Sends the codes of `a.step` and the step after to the resync endpoint at `a.at` and
    /// tells the candidates. (A resync that fails counts no failure: neither privacyIDEA's nor
    /// LinOTP's touches the failure count.)
    fn send_resync(&mut self, a: Action, purpose: Purpose) -> Result<bool> {
        self.t.wait_until(a.at)?;
        let at = self.t.now();
        let (code, code2) = (self.cred.code(a.step), self.cred.code(a.step + 1));
        let ok = self.t.resync(self.cred, &code, &code2)?;
        let left = self.space.observe_resync(at, a.step, ok);
        self.record(Sent {
            at,
            step: a.step,
            offset: a.step - self.cred.step_at(at),
            code,
            code2: Some(code2),
            answer: if ok { Answer::Accept } else { Answer::Reject },
            purpose,
            left,
        })?;
        Ok(ok)
    }

    /// The candidates of each procedure and window left, one each (their bases answer every
    /// ordinary attempt alike).
    fn sync_reps(&self) -> Vec<&Candidate> {
        self.space
            .sync_keys()
            .into_iter()
            .filter_map(|k| self.space.alive.iter().find(|c| c.cfg.sync == k))
            .collect()
    }

    /// The earliest time, from `k` steps after `server`'s, that keeps the pace and the guard.
    fn steps_on(&self, now: Millis, server: i64, k: i64) -> Millis {
        if k == 0 {
            now
        } else {
            self.guarded(self.cred.step_start(server + k))
        }
    }

    /// Whether the codes of `s` and `s + 1` are the only steps within `reach` with theirs.
    fn pair_unique(&self, s: i64, reach: i64) -> bool {
        s >= 0 && self.unique_within(s, reach) && self.unique_within(s + 1, reach)
    }

    /// The resync trial whose predicted answers split the procedures and windows left best
    /// (the soonest among equals); offsets at each one's edges, behind the centre first. A
    /// pair behind the last used step is refused by every procedure, so a trial there waits
    /// until the true step has passed it. None when they would all answer alike.
    fn resync_split(&self) -> Option<Action> {
        let scheme = self.space.scheme;
        let reps = self.sync_reps();
        if reps.len() < 2 {
            return None;
        }
        // The edges of the procedures at a few quantiles of the windows left: a trial there
        // splits them near the middle (predicting every edge would cost windows squared).
        let mut by_width: Vec<&&Candidate> = reps.iter().collect();
        by_width.sort_by_key(|c| c.cfg.sync.map_or(0, |p| p.window));
        let n = by_width.len();
        let mut picks: Vec<usize> = [1, 2, 3, 4, 5, 6, 7].iter().map(|q| q * n / 8).collect();
        picks.extend([0, n - 1]);
        picks.sort();
        picks.dedup();
        let mut offsets: Vec<i64> = vec![-1, 0];
        for r in picks.into_iter().map(|i| by_width[i]) {
            let Some(p) = r.cfg.sync else { continue };
            let (c, w) = (r.learned(scheme).round() as i64, p.window as i64);
            offsets.extend(match p.search {
                SyncSearch::Separate => [c - w - 1, c - w - 2, c + w - 2, c + w - 1],
                SyncSearch::Nearest => [-w, -w - 1, w - 1, w],
            });
        }
        offsets.sort_by_key(|o| (*o > 1, o.abs()));
        offsets.dedup();
        let now = self.allowed(self.sent.last().map_or(0, |l| l.at));
        let server = self.cred.step_at(now);
        let last = reps
            .iter()
            .filter_map(|c| c.last_step())
            .max()
            .unwrap_or(server);
        let reach = self.limits.max_band as i64 + self.limits.max_window as i64 + 3;
        // And pairs that begin at or next to a step some procedure holds as the last used (the
        // step after the second code is refused by privacyIDEA's, not by LinOTP's).
        let mut held: Vec<i64> = reps
            .iter()
            .filter_map(|c| c.last_step())
            .flat_map(|l| [l - 1, l, l + 1])
            .collect();
        held.sort();
        held.dedup();
        let trials = offsets
            .into_iter()
            .map(|o| (o, (last - o - server).max(0), false))
            .chain(held.into_iter().map(|s| (s, 0, true)));
        let mut best: Option<((usize, bool, i64), Action)> = None;
        for (o, k0, fixed) in trials {
            for k in k0..k0 + 3 {
                let at = self.steps_on(now, server, k);
                let (s, o) = if fixed {
                    (o, o - self.cred.step_at(at))
                } else {
                    (self.cred.step_at(at) + o, o)
                };
                if !self.pair_unique(s, reach + o.abs()) {
                    continue;
                }
                let yes = reps
                    .iter()
                    .filter(|c| c.predict_resync(scheme, at, s))
                    .count();
                let split = yes.min(reps.len() - yes);
                if split == 0 {
                    continue;
                }
                // The most even split; then trials that leave no used step ahead; then soonest.
                let key = (reps.len() - split, o > 1, at - now);
                if best.is_none_or(|(b, _)| key < b) {
                    best = Some((key, Action { at, step: s }));
                }
                break;
            }
        }
        best.map(|(_, a)| a)
    }

    /// Brings the centre the resync trials moved back within a step and a half of the true
    /// step, by resyncs every candidate takes: the one that brings it nearest, soonest (a pair
    /// behind the last used step waits until the true step has passed it). The restoring
    /// logins do the rest.
    fn resync_home(&mut self) -> Result<Option<String>> {
        let scheme = self.space.scheme;
        for _ in 0..64 {
            let far = |cs: &[Candidate]| {
                cs.iter().map(|c| c.learned(scheme)).fold(0.0f64, |m, x| {
                    if x.abs() > m.abs() {
                        x
                    } else {
                        m
                    }
                })
            };
            let d = far(&self.space.alive);
            if d.abs() <= 1.5 {
                return Ok(None);
            }
            let now = match self.in_next_step(None) {
                Ok(at) => at,
                Err(why) => return Ok(Some(why)),
            };
            let server = self.cred.step_at(now);
            let last = self
                .space
                .alive
                .iter()
                .filter_map(|c| c.last_step())
                .max()
                .unwrap_or(server);
            let reach = d.abs().ceil() as i64;
            let stride = (reach / 64).max(1) as usize;
            let sign = d.signum() as i64;
            let hops: Vec<i64> = (-2..=2)
                .chain((3..=reach).step_by(stride).map(|h| h * sign))
                .collect();
            let mut found: Option<(f64, Millis, i64)> = None;
            for &h in &hops {
                let k0 = (last - h - server).max(0);
                for k in k0..k0 + 3 {
                    let at = self.steps_on(now, server, k);
                    let s = self.cred.step_at(at) + h;
                    if !self.pair_unique(s, reach + self.limits.max_band as i64 + 3) {
                        continue;
                    }
                    let mut after = Vec::with_capacity(self.space.alive.len());
                    for c in &self.space.alive {
                        let mut c = c.clone();
                        if !c.decide_resync(scheme, at, s) {
                            break;
                        }
                        after.push(c);
                    }
                    if after.len() < self.space.alive.len() {
                        continue;
                    }
                    let left = far(&after).abs();
                    let better = found.is_none_or(|(f, fat, _)| {
                        // Home soonest; short of home, the nearest.
                        if left <= 1.5 && f <= 1.5 {
                            at < fat
                        } else {
                            left < f - 1e-9
                        }
                    });
                    if left < d.abs() - 0.5 && better {
                        found = Some((left, at, s));
                    }
                    break;
                }
            }
            let Some((_, at, s)) = found else {
                break;
            };
            if let Some(why) = self.budget_left(at) {
                return Ok(Some(why));
            }
            self.send_resync(Action { at, step: s }, Purpose::Restore)?;
        }
        Err(Error::failed(format!(
            "probe stopped after attempt {} on credential {}: the resync trials moved the validator's centre and no resync every configuration left takes brings it back; nothing more was sent",
            self.sent.len(),
            self.cred.id
        )))
    }
}
