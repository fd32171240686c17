//! The configurations still consistent with every answer: a grid over the facets the probe
//! measures (the window back and ahead, the replay rule and whether refused steps are skipped,
//! drift learning), each candidate holding the state it would have, and widened when the truth
//! may lie past the window bound searched so far.

use super::Answer;
use crate::time::Millis;
use crate::validator::{
    presets, CredentialState, DriftLearning, Lockout, Replay, Scheme, SearchOrder, ValidatorConfig,
};

/// A code per step for the candidates: distinct for distinct steps. The probe never sends a
/// code that another step near it shares, so the real codes it sends are as distinct.
fn code_id(step: i64) -> u32 {
    step.rem_euclid(1 << 31) as u32
}

/// Replay rules and whether refused steps are skipped while searching (meaningful only for
/// the rules that refuse steps by number).
pub const RULES: [(Replay, bool); 6] = [
    (Replay::TimeForward, false),
    (Replay::ExactSteps, false),
    (Replay::None, false),
    (Replay::LastCode, false),
    (Replay::TimeForward, true),
    (Replay::ExactSteps, true),
];

/// Drift learning modes, in the order a representative is preferred.
pub const DRIFTS: [DriftLearning; 4] = [
    DriftLearning::Steps,
    DriftLearning::None,
    DriftLearning::Seconds,
    DriftLearning::Consistent { k: 3, search: 1500 },
];

/// One configuration and the state it would hold after every attempt so far.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub cfg: ValidatorConfig,
    st: CredentialState,
}

impl Candidate {
    fn new(cfg: ValidatorConfig, enrolled: Millis) -> Candidate {
        Candidate {
            cfg,
            st: CredentialState::enrolled(enrolled),
        }
    }

    /// Decides the code of `step` at `at` and keeps the state: (answer, locked by it).
    pub fn decide(&mut self, scheme: Scheme, at: Millis, step: i64) -> (Answer, bool) {
        let d = self
            .cfg
            .verify(&mut self.st, scheme, at, code_id(step), code_id);
        (Answer::of(d.verdict), d.locked_now)
    }

    /// A code no step has (a wrong code).
    pub fn decide_wrong(&mut self, scheme: Scheme, at: Millis) -> (Answer, bool) {
        let d = self.cfg.verify(&mut self.st, scheme, at, 1 << 31, code_id);
        (Answer::of(d.verdict), d.locked_now)
    }

    /// What it would answer, state untouched.
    pub fn predict(&self, scheme: Scheme, at: Millis, step: i64) -> (Answer, bool) {
        let mut st = self.st.clone();
        let d = self.cfg.verify(&mut st, scheme, at, code_id(step), code_id);
        (Answer::of(d.verdict), d.locked_now)
    }

    /// The drift it has learned, in steps.
    pub fn learned(&self, scheme: Scheme) -> f64 {
        self.st.learned_steps(scheme, self.cfg.drift).unwrap_or(0.0)
    }

    /// An administrator clears the lock.
    pub fn unlock(&mut self) {
        self.st.unlock();
    }
}

/// The configuration a candidate starts from: no lockout, throttle, bands or sync (the probe
/// measures those separately or reports them as not measured).
pub fn blank() -> ValidatorConfig {
    let mut c = presets::find("pyotp").expect("the pyotp preset").config;
    c.preset = None;
    c.search = SearchOrder::CenterOut;
    c.lockout = None;
    c.sync = None;
    c
}

fn config(
    back: u32,
    ahead: u32,
    (replay, skip): (Replay, bool),
    drift: DriftLearning,
) -> ValidatorConfig {
    ValidatorConfig {
        window_back: back,
        window_ahead: ahead,
        replay,
        skip_refused: skip,
        drift,
        ..blank()
    }
}

/// An attempt as the candidates replay it.
#[derive(Clone, Copy, Debug)]
enum Event {
    Code {
        at: Millis,
        step: i64,
        answer: Answer,
    },
    Wrong {
        at: Millis,
    },
    Unlock,
}

/// The candidates left, and the history that made them.
pub struct Space {
    pub scheme: Scheme,
    enrolled: Millis,
    pub cap_back: u32,
    pub cap_ahead: u32,
    max: u32,
    pub alive: Vec<Candidate>,
    history: Vec<Event>,
    /// The lockout every candidate carries once measured.
    lockout: Option<Lockout>,
}

/// What the candidates left say of each facet.
#[derive(Clone, Debug, PartialEq)]
pub struct Facets {
    /// The window's (least, most) steps behind and ahead of the centre.
    pub back: (u32, u32),
    pub ahead: (u32, u32),
    /// Whether the most is the bound searched (the truth may be wider).
    pub back_at_bound: bool,
    pub ahead_at_bound: bool,
    pub rules: Vec<(Replay, bool)>,
    pub drifts: Vec<DriftLearning>,
}

impl Space {
    /// Every configuration of the grid with windows up to `cap` steps (`max` at most), for a
    /// credential enrolled at `enrolled` (nothing learned, nothing used).
    pub fn new(scheme: Scheme, enrolled: Millis, cap: u32, max: u32) -> Space {
        let cap = cap.min(max);
        let mut alive = Vec::new();
        for drift in DRIFTS {
            for rule in RULES {
                for back in 0..=cap {
                    for ahead in 0..=cap {
                        alive.push(Candidate::new(config(back, ahead, rule, drift), enrolled));
                    }
                }
            }
        }
        Space {
            scheme,
            enrolled,
            cap_back: cap,
            cap_ahead: cap,
            max,
            alive,
            history: Vec::new(),
            lockout: None,
        }
    }

    /// Keeps the candidates that give `answer` to the code of `step` at `at`, then widens the
    /// grid where the truth may lie past a bound. Returns how many are left.
    pub fn observe(&mut self, at: Millis, step: i64, answer: Answer) -> usize {
        let scheme = self.scheme;
        let (cb, ca) = (self.cap_back, self.cap_ahead);
        let mut dropped_at_cap = Vec::new();
        self.alive.retain_mut(|c| {
            let keep = c.decide(scheme, at, step).0 == answer;
            if !keep && (c.cfg.window_back == cb || c.cfg.window_ahead == ca) {
                dropped_at_cap.push(c.cfg.clone());
            }
            keep
        });
        self.history.push(Event::Code { at, step, answer });
        self.widen(&dropped_at_cap);
        self.alive.len()
    }

    /// A wrong code was sent and refused.
    pub fn observe_wrong(&mut self, at: Millis, answer: Answer) -> usize {
        let scheme = self.scheme;
        self.alive
            .retain_mut(|c| c.decide_wrong(scheme, at).0 == answer);
        self.history.push(Event::Wrong { at });
        self.alive.len()
    }

    /// The transport cleared the lock.
    pub fn observe_unlock(&mut self) {
        self.alive.iter_mut().for_each(Candidate::unlock);
        self.history.push(Event::Unlock);
    }

    /// Gives every candidate the measured lockout, replaying the history with it; returns how
    /// many are left (all, unless the lockout changes an answer already seen).
    pub fn set_lockout(&mut self, lockout: Option<Lockout>) -> usize {
        self.lockout = lockout;
        let configs: Vec<ValidatorConfig> = self.alive.iter().map(|c| c.cfg.clone()).collect();
        self.alive = configs
            .into_iter()
            .filter_map(|mut cfg| {
                cfg.lockout = lockout;
                self.replayed(cfg)
            })
            .collect();
        self.alive.len()
    }

    /// A candidate for `cfg` brought through the whole history, if it gives every answer seen.
    fn replayed(&self, cfg: ValidatorConfig) -> Option<Candidate> {
        let mut c = Candidate::new(cfg, self.enrolled);
        for e in &self.history {
            match *e {
                Event::Code { at, step, answer } => {
                    if c.decide(self.scheme, at, step).0 != answer {
                        return None;
                    }
                }
                Event::Wrong { at } => {
                    c.decide_wrong(self.scheme, at);
                }
                Event::Unlock => c.unlock(),
            }
        }
        Some(c)
    }

    /// A candidate at a bound of the grid stands for every wider window too. The bound on a
    /// side is doubled (up to the most allowed), with candidates replayed through the history,
    /// when a candidate dropped at that bound would have stayed with one more step on that
    /// side, or when every candidate left sits at it.
    fn widen(&mut self, dropped: &[ValidatorConfig]) {
        type Side = fn(&mut ValidatorConfig) -> &mut u32;
        let sides: [Side; 2] = [|c| &mut c.window_back, |c| &mut c.window_ahead];
        let value = |c: &ValidatorConfig, i: usize| {
            if i == 0 {
                c.window_back
            } else {
                c.window_ahead
            }
        };
        for (i, side) in sides.into_iter().enumerate() {
            loop {
                let cap = if i == 0 {
                    self.cap_back
                } else {
                    self.cap_ahead
                };
                if cap >= self.max {
                    break;
                }
                let at_cap = |c: &ValidatorConfig| value(c, i) == cap;
                let wider = |c: &ValidatorConfig| {
                    let mut w = c.clone();
                    *side(&mut w) = cap + 1;
                    w
                };
                let seeds: Vec<ValidatorConfig> = self
                    .alive
                    .iter()
                    .map(|c| &c.cfg)
                    .chain(dropped.iter())
                    .filter(|c| at_cap(c))
                    .cloned()
                    .collect();
                let needed = dropped
                    .iter()
                    .filter(|c| at_cap(c))
                    .any(|c| self.replayed(wider(c)).is_some())
                    || (!self.alive.is_empty() && self.alive.iter().all(|c| at_cap(&c.cfg)));
                if !needed {
                    break;
                }
                let to = (cap * 2).max(cap + 1).min(self.max);
                for seed in seeds {
                    for v in cap + 1..=to {
                        let mut cfg = seed.clone();
                        *side(&mut cfg) = v;
                        if let Some(c) = self.replayed(cfg) {
                            self.alive.push(c);
                        }
                    }
                }
                if i == 0 {
                    self.cap_back = to;
                } else {
                    self.cap_ahead = to;
                }
            }
        }
    }

    pub fn facets(&self) -> Facets {
        let span = |f: &dyn Fn(&Candidate) -> u32| {
            let v = self.alive.iter().map(f);
            (v.clone().min().unwrap_or(0), v.max().unwrap_or(0))
        };
        let back = span(&|c| c.cfg.window_back);
        let ahead = span(&|c| c.cfg.window_ahead);
        let mut rules = Vec::new();
        let mut drifts = Vec::new();
        for c in &self.alive {
            let r = (c.cfg.replay, c.cfg.skip_refused);
            if !rules.contains(&r) {
                rules.push(r);
            }
            if !drifts.contains(&c.cfg.drift) {
                drifts.push(c.cfg.drift);
            }
        }
        rules.sort_by_key(|r| RULES.iter().position(|x| x == r));
        drifts.sort_by_key(|d| DRIFTS.iter().position(|x| x == d));
        Facets {
            back,
            ahead,
            back_at_bound: back.1 == self.cap_back && self.cap_back == self.max,
            ahead_at_bound: ahead.1 == self.cap_ahead && self.cap_ahead == self.max,
            rules,
            drifts,
        }
    }

    /// The candidate reported: the preferred drift and rule (the orders of `DRIFTS` and
    /// `RULES`: the common systems first), then the narrowest window.
    pub fn representative(&self) -> Option<&Candidate> {
        self.alive.iter().min_by_key(|c| {
            (
                DRIFTS.iter().position(|d| *d == c.cfg.drift),
                RULES
                    .iter()
                    .position(|r| *r == (c.cfg.replay, c.cfg.skip_refused)),
                c.cfg.window_back + c.cfg.window_ahead,
                c.cfg.window_back,
            )
        })
    }
}
