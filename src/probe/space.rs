//! The configurations still consistent with every answer: a grid over the facets the probe
//! measures (the window back and ahead, the replay rule and whether refused steps are skipped,
//! drift learning), each candidate holding the state it would have, and widened when the truth
//! may lie past the window bound searched so far; bands past the window and the resync
//! endpoint's procedure join as twins of the candidates when they are measured.

use super::Answer;
use crate::time::Millis;
use crate::validator::{
    presets, AutoResync, AutoStyle, CredentialState, DriftLearning, Lockout, Replay, Scheme,
    SearchOrder, SyncProcedure, SyncSearch, ValidatorConfig,
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

/// What a code past the window can still do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Band {
    None,
    /// Two codes in successive steps re-centre the window on the second, which is accepted
    /// (privacyIDEA's AutoResync, or LinOTP's: the nearest match).
    AutoResync(AutoStyle),
    /// One code is accepted and re-centres the window (VIP's auto-sync band).
    AutoSync,
}

/// The bands a candidate may grow, in the order a representative is preferred.
pub const BANDS: [Band; 3] = [
    Band::AutoResync(AutoStyle::Privacyidea),
    Band::AutoResync(AutoStyle::Nearest),
    Band::AutoSync,
];

/// The band widths tried first: every width to 64, then a quarter wider each time, up to
/// `max`; the gap the truth falls in is filled in later (`refine_bands`).
pub fn band_grid(max: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (1..=max.min(64)).collect();
    let mut w = 64u32;
    while w < max {
        w = (w + w.div_ceil(4)).min(max);
        v.push(w);
    }
    v
}

impl Band {
    pub fn of(c: &ValidatorConfig) -> Band {
        match (c.auto_resync, c.auto_sync) {
            (Some(a), _) => Band::AutoResync(a.style),
            (None, Some(_)) => Band::AutoSync,
            (None, None) => Band::None,
        }
    }

    /// How far from the true step (the window centred there) the trial of a band reaches: the
    /// farthest offset whose pair (that code, then the next step's) it takes.
    pub fn reach(c: &ValidatorConfig) -> i64 {
        let w = Band::width(c).unwrap_or(0) as i64;
        match Band::of(c) {
            Band::None => 0,
            // Searched from `back` steps past the centre's bottom: [c + back - w, c + back + w).
            Band::AutoResync(AutoStyle::Privacyidea) => w + c.window_back as i64 - 2,
            Band::AutoResync(AutoStyle::Nearest) => w - 1,
            Band::AutoSync => w,
        }
    }

    /// The band's width in steps either side, as the configuration has it.
    pub fn width(c: &ValidatorConfig) -> Option<u32> {
        c.auto_resync.map(|a| a.window).or(c.auto_sync)
    }

    /// `c` with this band, `width` steps either side. The second code of a resync must follow
    /// the first by one step; how much later it may come is not measured (the probe sends the
    /// two at once), so LinOTP's default timeout is written.
    pub(super) fn on(self, c: &ValidatorConfig, width: u32) -> ValidatorConfig {
        let mut c = c.clone();
        c.auto_resync = None;
        c.auto_sync = None;
        match self {
            Band::None => {}
            Band::AutoResync(style) => {
                c.auto_resync = Some(AutoResync {
                    window: width,
                    max_gap: 1,
                    timeout_s: if style == AutoStyle::Nearest {
                        300.0
                    } else {
                        f64::INFINITY
                    },
                    style,
                })
            }
            Band::AutoSync => c.auto_sync = Some(width),
        }
        c
    }
}

/// A resync procedure of two codes, apart from its window: how each code is searched, whether
/// the step after the second is refused from then on, whether the window is centred one step
/// beyond it.
pub type SyncKind = (SyncSearch, bool, bool);

/// The resync procedures a candidate may have behind the endpoint, in the order a
/// representative is preferred: each code searched on its own around the learned centre, the
/// step after the second refused from then on (privacyIDEA) or not (LinOTP); the nearest run
/// of two around the server step (VIP's manual sync), centred one step beyond (FreeIPA).
pub const SYNCS: [SyncKind; 4] = [
    (SyncSearch::Separate, true, false),
    (SyncSearch::Separate, false, false),
    (SyncSearch::Nearest, false, false),
    (SyncSearch::Nearest, false, true),
];

/// The procedure of `c`'s resync endpoint, apart from its window.
pub fn sync_kind(c: &ValidatorConfig) -> Option<SyncKind> {
    c.sync.map(|p| (p.search, p.refuse_next, p.centre_beyond))
}

/// `c` with the resync procedure `kind` over `width` steps either side (None: an endpoint
/// that takes nothing).
fn sync_on(c: &ValidatorConfig, kind: Option<SyncKind>, width: u32) -> ValidatorConfig {
    let mut c = c.clone();
    c.sync = kind.map(|(search, refuse_next, centre_beyond)| SyncProcedure {
        codes: 2,
        window: width,
        search,
        refuse_next,
        centre_beyond,
    });
    c
}

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

    /// Decides a resync with the codes of `s1` and the step after it, at `at`, and keeps the
    /// state: whether it resynchronized.
    pub fn decide_resync(&mut self, scheme: Scheme, at: Millis, s1: i64) -> bool {
        let codes = [code_id(s1), code_id(s1 + 1)];
        self.cfg
            .sync(&mut self.st, scheme, at, &codes, code_id)
            .is_ok()
    }

    /// What it would answer to a resync, state untouched.
    pub fn predict_resync(&self, scheme: Scheme, at: Millis, s1: i64) -> bool {
        self.clone().decide_resync(scheme, at, s1)
    }

    /// The last step it holds as used.
    pub fn last_step(&self) -> Option<i64> {
        self.st.last_step
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
    Resync {
        at: Millis,
        s1: i64,
        ok: bool,
    },
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
    /// The widest band beyond the window looked for, in steps either side.
    pub max_band: u32,
    /// The resync procedures the grid carries when it grows again (once they are measured).
    syncs: Vec<Option<SyncProcedure>>,
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
    /// The bands beyond the window left, with their (least, most) widths.
    pub bands: Vec<(Band, (u32, u32))>,
    /// The resync procedures left (None: the endpoint takes nothing), with their (least, most)
    /// windows.
    pub syncs: Vec<(Option<SyncKind>, (u32, u32))>,
}

impl Space {
    /// Every configuration of the grid with windows up to `cap` steps (`max` at most), for a
    /// credential enrolled at `enrolled` (nothing learned, nothing used).
    pub fn new(scheme: Scheme, enrolled: Millis, cap: u32, max: u32, max_band: u32) -> Space {
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
            max_band,
            syncs: vec![None],
        }
    }

    /// Keeps the candidates that give `answer` to the code of `step` at `at`, then widens the
    /// grid where the truth may lie past a bound. Returns how many are left.
    pub fn observe(&mut self, at: Millis, step: i64, answer: Answer) -> usize {
        let scheme = self.scheme;
        let (cb, ca) = (self.cap_back, self.cap_ahead);
        let mut dropped_at_cap = Vec::new();
        let mut dropped = Vec::new();
        let mut dropped_twins = Vec::new();
        self.alive.retain_mut(|c| {
            let keep = c.decide(scheme, at, step).0 == answer;
            if !keep {
                if c.cfg.window_back == cb || c.cfg.window_ahead == ca {
                    dropped_at_cap.push(c.cfg.clone());
                }
                if Band::of(&c.cfg) == Band::None {
                    dropped.push(c.cfg.clone());
                } else {
                    dropped_twins.push(c.cfg.clone());
                }
            }
            keep
        });
        self.history.push(Event::Code { at, step, answer });
        if self.alive.is_empty() && !dropped_twins.is_empty() {
            // A band width between two of the grid's explains it.
            self.fill_widths(&dropped_twins);
        }
        if self.alive.is_empty() && !(dropped.is_empty() && dropped_twins.is_empty()) {
            // Nothing without a band explains this answer: a code past the window did
            // something (an earlier answer may already have been one). The whole grid grows
            // bands, replayed through everything seen.
            let mut grid = Vec::new();
            for drift in DRIFTS {
                for rule in RULES {
                    for back in 0..=self.cap_back {
                        for ahead in 0..=self.cap_ahead {
                            for sync in &self.syncs {
                                let mut c = config(back, ahead, rule, drift);
                                c.lockout = self.lockout;
                                c.sync = *sync;
                                grid.push(c);
                            }
                        }
                    }
                }
            }
            self.grow_bands(&grid);
        }
        self.widen(&dropped_at_cap);
        self.alive.len()
    }

    /// Adds to the candidates `from`, each with every band at every width of the grid, those
    /// that explain the whole history.
    fn grow_bands(&mut self, from: &[ValidatorConfig]) {
        let grid = band_grid(self.max_band);
        for cfg in from {
            for b in BANDS {
                for w in &grid {
                    if let Some(c) = self.replayed(b.on(cfg, *w)) {
                        self.alive.push(c);
                    }
                }
            }
        }
    }

    /// Every candidate without a band is joined by its twins with each band at each width of
    /// the grid that explain the history: before an experiment that tells them apart.
    pub fn add_bands(&mut self) -> usize {
        let plain: Vec<ValidatorConfig> = self
            .alive
            .iter()
            .filter(|c| Band::of(&c.cfg) == Band::None)
            .map(|c| c.cfg.clone())
            .collect();
        self.grow_bands(&plain);
        self.alive.len()
    }

    /// Drops the candidates with a band (unless none would be left).
    pub fn drop_bands(&mut self) {
        if self.alive.iter().any(|c| Band::of(&c.cfg) == Band::None) {
            self.alive.retain(|c| Band::of(&c.cfg) == Band::None);
        }
    }

    /// The widths of the candidates with a band, sorted, each once.
    pub fn band_widths(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .alive
            .iter()
            .filter_map(|c| Band::width(&c.cfg))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Fills in every width between the grid's neighbours of the widths left, for each band
    /// candidate's configuration, keeping those that explain the history.
    pub fn refine_bands(&mut self) {
        let twins: Vec<ValidatorConfig> = self
            .alive
            .iter()
            .filter(|c| Band::of(&c.cfg) != Band::None)
            .map(|c| c.cfg.clone())
            .collect();
        self.fill_widths(&twins);
    }

    /// Adds, for each configuration with a band in `twins`, every width between the grid's
    /// neighbours of the widths there that is not among them, keeping those that explain the
    /// history.
    fn fill_widths(&mut self, twins: &[ValidatorConfig]) {
        let mut widths: Vec<u32> = twins.iter().filter_map(Band::width).collect();
        widths.sort();
        widths.dedup();
        let Some((below, above)) = self.grid_gap(&widths) else {
            return;
        };
        let mut seeds: Vec<(Band, ValidatorConfig)> = Vec::new();
        for c in twins {
            let b = Band::of(c);
            let base = Band::None.on(c, 0);
            if b != Band::None && !seeds.iter().any(|(sb, sc)| *sb == b && *sc == base) {
                seeds.push((b, base));
            }
        }
        let present: Vec<(Band, u32)> = self
            .alive
            .iter()
            .filter_map(|c| Band::width(&c.cfg).map(|w| (Band::of(&c.cfg), w)))
            .collect();
        for (b, base) in seeds {
            for w in below + 1..above {
                if widths.contains(&w) && present.contains(&(b, w)) {
                    continue;
                }
                if let Some(c) = self.replayed(b.on(&base, w)) {
                    self.alive.push(c);
                }
            }
        }
    }

    /// Every candidate is joined by its twins with each resync procedure at each window of the
    /// band grid that explain the history (itself standing for an endpoint that takes
    /// nothing): before the resync trials.
    pub fn add_syncs(&mut self) -> usize {
        let base: Vec<ValidatorConfig> = self.alive.iter().map(|c| c.cfg.clone()).collect();
        let grid = band_grid(self.max_band);
        for cfg in &base {
            for kind in SYNCS {
                for w in &grid {
                    if let Some(c) = self.replayed(sync_on(cfg, Some(kind), *w)) {
                        self.alive.push(c);
                    }
                }
            }
        }
        self.alive.len()
    }

    /// The resync procedures and windows left, each once (None first when left).
    pub fn sync_keys(&self) -> Vec<Option<SyncProcedure>> {
        let mut v: Vec<Option<SyncProcedure>> = Vec::new();
        for c in &self.alive {
            if !v.contains(&c.cfg.sync) {
                v.push(c.cfg.sync);
            }
        }
        v
    }

    /// Fills in every window between the grid's neighbours of those left, for each procedure
    /// left, keeping the candidates that explain the history.
    pub fn refine_syncs(&mut self) {
        let keys = self.sync_keys();
        let widths: Vec<u32> = keys.iter().flatten().map(|p| p.window).collect();
        let Some((below, above)) = self.grid_gap(&widths) else {
            return;
        };
        let mut seeds: Vec<ValidatorConfig> = Vec::new();
        for c in self.alive.iter().filter(|c| c.cfg.sync.is_some()) {
            let base = sync_on(&c.cfg, None, 0);
            let kind = sync_kind(&c.cfg);
            if !seeds
                .iter()
                .any(|s| sync_kind(s) == kind && sync_on(s, None, 0) == base)
            {
                seeds.push(c.cfg.clone());
            }
        }
        for seed in seeds {
            for w in below + 1..above {
                let cfg = sync_on(&seed, sync_kind(&seed), w);
                if keys.contains(&cfg.sync) {
                    continue;
                }
                if let Some(c) = self.replayed(cfg) {
                    self.alive.push(c);
                }
            }
        }
    }

    /// A resync with the codes of `s1` and the step after, at `at`, answered `ok`. Returns how
    /// many candidates are left; the grid carries the procedures left from then on.
    pub fn observe_resync(&mut self, at: Millis, s1: i64, ok: bool) -> usize {
        let scheme = self.scheme;
        self.alive
            .retain_mut(|c| c.decide_resync(scheme, at, s1) == ok);
        self.history.push(Event::Resync { at, s1, ok });
        self.syncs = self.sync_keys();
        self.alive.len()
    }

    /// The grid's widths just below the least of `widths` and just above the most (0 and one
    /// past the widest looked for at the ends): the gap refining fills.
    fn grid_gap(&self, widths: &[u32]) -> Option<(u32, u32)> {
        let grid = band_grid(self.max_band);
        let (lo, hi) = (widths.iter().min()?, widths.iter().max()?);
        let below = grid.iter().rev().find(|g| *g < lo).copied().unwrap_or(0);
        let above = grid
            .iter()
            .find(|g| *g > hi)
            .copied()
            .unwrap_or(self.max_band + 1);
        Some((below, above))
    }

    /// Whether `widths` lie within two neighbours of the grid (time to fill in the gap).
    pub fn between_neighbours(&self, widths: &[u32]) -> bool {
        let grid = band_grid(self.max_band);
        let at = |w: Option<&u32>| w.and_then(|w| grid.iter().position(|g| g == w));
        matches!(
            (at(widths.iter().min()), at(widths.iter().max())),
            (Some(i), Some(j)) if j <= i + 1
        )
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
                Event::Resync { at, s1, ok } => {
                    if c.decide_resync(self.scheme, at, s1) != ok {
                        return None;
                    }
                }
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
        let mut bands: Vec<(Band, (u32, u32))> = Vec::new();
        let mut syncs: Vec<(Option<SyncKind>, (u32, u32))> = Vec::new();
        for c in &self.alive {
            let (k, w) = (sync_kind(&c.cfg), c.cfg.sync.map_or(0, |p| p.window));
            match syncs.iter_mut().find(|x| x.0 == k) {
                Some(x) => x.1 = (x.1 .0.min(w), x.1 .1.max(w)),
                None => syncs.push((k, (w, w))),
            }
            let (b, w) = (Band::of(&c.cfg), Band::width(&c.cfg).unwrap_or(0));
            match bands.iter_mut().find(|x| x.0 == b) {
                Some(x) => x.1 = (x.1 .0.min(w), x.1 .1.max(w)),
                None => bands.push((b, (w, w))),
            }
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
        bands.sort_by_key(|b| BANDS.iter().position(|x| *x == b.0));
        syncs.sort_by_key(|s| sync_rank(s.0));
        Facets {
            back,
            ahead,
            back_at_bound: back.1 == self.cap_back && self.cap_back == self.max,
            ahead_at_bound: ahead.1 == self.cap_ahead && self.cap_ahead == self.max,
            rules,
            drifts,
            bands,
            syncs,
        }
    }

    /// The candidate reported: the preferred drift and rule (the orders of `DRIFTS` and
    /// `RULES`: the common systems first), then the narrowest window.
    pub fn representative(&self) -> Option<&Candidate> {
        self.alive.iter().min_by_key(|c| {
            (
                BANDS.iter().position(|b| *b == Band::of(&c.cfg)),
                DRIFTS.iter().position(|d| *d == c.cfg.drift),
                RULES
                    .iter()
                    .position(|r| *r == (c.cfg.replay, c.cfg.skip_refused)),
                c.cfg.window_back + c.cfg.window_ahead,
                c.cfg.window_back,
                sync_rank(sync_kind(&c.cfg)),
                c.cfg.sync.map_or(0, |p| p.window),
            )
        })
    }
}

/// Where a resync procedure comes in the order of `SYNCS` (an endpoint that takes nothing
/// last).
fn sync_rank(k: Option<SyncKind>) -> usize {
    k.and_then(|k| SYNCS.iter().position(|x| *x == k))
        .unwrap_or(SYNCS.len())
}
