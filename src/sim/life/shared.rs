//! What the copies of one user at several sweep settings share while simulated side by side
//! (the clock, copy on write; the code caches; a try's first attempt), and the drivers that
//! run one copy or several over the user's login schedule.

use super::{Life, TokenRecord, UserTrace};
use crate::clock::Clock;
use crate::metrics::{Buckets, Counts, OffsetHist, PopTally};
use crate::rng::{stream, LoginRng, Purpose};
use crate::scenario::Scenario;
use crate::time::Millis;
use crate::token::{code_cache, CodeCache};
use crate::user::Schedule;
use std::cell::RefCell;
use std::rc::Rc;

/// A credential's clock. The copies of one user that a sweep's settings simulate side by side
/// share one state (copy on write) for as long as each has moved it through the same calls, so
/// sharing never changes what a copy sees.
#[derive(Clone)]
pub(super) struct SharedClock(pub(super) Option<Rc<Clock>>);

impl std::ops::Deref for SharedClock {
    type Target = Clock;
    fn deref(&self) -> &Clock {
        self.0
            .as_deref()
            .expect("a clock is away only while advancing")
    }
}

impl SharedClock {
    pub(super) fn new(c: Clock) -> SharedClock {
        SharedClock(Some(Rc::new(c)))
    }

    /// The clock to change: this copy's own from now on if other copies share it.
    #[inline]
    pub(super) fn get_mut(&mut self) -> &mut Clock {
        let rc = self
            .0
            .as_mut()
            .expect("a clock is away only while advancing");
        // A clock no other copy holds (always, at one point) is changed in place.
        if Rc::get_mut(rc).is_none() {
            return Rc::make_mut(rc);
        }
        Rc::get_mut(rc).expect("held by this copy alone")
    }
}

/// What the copies of one user at several settings share: the code caches of the user's
/// credentials by generation (a credential's codes depend only on its secret, which depends
/// only on the user and generation), and the current login's first attempt.
pub(super) struct Shared {
    pub(super) side_by_side: bool,
    steps: u64,
    by_generation: RefCell<Vec<CodeCache>>,
    first: RefCell<Option<FirstTry>>,
}

/// A login try's first attempt as one copy made it, for the others to reuse.
struct FirstTry {
    /// Held, so that no other clock state can take its address while this is kept.
    clock: Rc<Clock>,
    /// The credential's generation: a reinstalled app keeps its device clock but not its
    /// secret, so the clock alone does not say which codes were read.
    generation: u32,
    start: Millis,
    rng_before: LoginRng,
    read: Millis,
    waited: bool,
    /// The stream after the wait, where a copy whose token is dead by `read` stops.
    rng_waited: LoginRng,
    rng_after: LoginRng,
    typed: Typed,
}

/// A code read and typed: the step shown, whether a digit was mistyped, what was submitted
/// and when.
#[derive(Clone, Copy)]
pub(super) struct Typed {
    pub(super) step: i64,
    pub(super) typed: bool,
    pub(super) submitted: u32,
    pub(super) submit: Millis,
}

impl Shared {
    fn new(points: &[&Scenario]) -> Shared {
        // Every configuration a point's timeline puts in force scans too.
        let widest = points.iter().flat_map(|sc| {
            let later = sc.schedules.iter().flat_map(|s| s.segments.iter());
            std::iter::once(sc.validator.widest_scan()).chain(later.map(|(_, c)| c.widest_scan()))
        });
        Shared {
            side_by_side: points.len() > 1,
            steps: 2 * widest.max().unwrap_or(0) as u64 + 8,
            by_generation: RefCell::new(Vec::new()),
            first: RefCell::new(None),
        }
    }

    pub(super) fn of(&self, generation: u32) -> CodeCache {
        let mut v = self.by_generation.borrow_mut();
        while v.len() <= generation as usize {
            v.push(code_cache(self.steps));
        }
        Rc::clone(&v[generation as usize])
    }
}

impl Life<'_> {
    /// [`Life::read_and_type`] of a TOTP try's first attempt, shared by the copies of this user
    /// that reach it in the same state: the same clock state, start and random stream give the
    /// same read, code, typo and delay at every setting.
    pub(super) fn read_and_type_shared(
        &mut self,
        read: &mut Millis,
        rng: &mut LoginRng,
        c: &mut Counts,
    ) -> Option<Typed> {
        let clock = self
            .cred
            .clock
            .0
            .as_ref()
            .expect("a clock is away only while advancing");
        let hit = self.shared.first.borrow().as_ref().and_then(|f| {
            let same = Rc::ptr_eq(&f.clock, clock) && f.generation == self.generation;
            (same && f.start == *read && f.rng_before == *rng).then(|| {
                (
                    f.read,
                    f.waited,
                    f.rng_waited.clone(),
                    f.rng_after.clone(),
                    f.typed,
                )
            })
        });
        if let Some((at, waited, rng_waited, after, typed)) = hit {
            *read = at;
            c.waited_for_fresh_code += waited as u64;
            // Copies share a clock but not necessarily a battery.
            if !self.cred.token.alive_at(at) {
                *rng = rng_waited;
                return None;
            }
            *rng = after;
            self.cred.token.use_code(at); // the press, as show_code makes it
            return Some(typed);
        }
        let (start, rng_before, waits_before) = (*read, rng.clone(), c.waited_for_fresh_code);
        self.wait_for_code(read, false, rng, c);
        if !self.cred.token.alive_at(*read) {
            *self.shared.first.borrow_mut() = None;
            return None;
        }
        let rng_waited = rng.clone();
        let typed = self.press_and_type(*read, rng);
        *self.shared.first.borrow_mut() = Some(FirstTry {
            clock: Rc::clone(self.cred.clock.0.as_ref().expect("the clock is back")),
            generation: self.generation,
            start,
            rng_before,
            read: *read,
            waited: c.waited_for_fresh_code > waits_before,
            rng_waited,
            rng_after: rng.clone(),
            typed,
        });
        Some(typed)
    }
}

/// Moves each copy's clock to the time its login reads it (`at`). Copies sharing one state and
/// moving it to the same time share the result; one that moves elsewhere, or not at all, keeps
/// the state it had. `scratch` is reused between calls.
fn advance_clocks(
    lives: &mut [Life],
    at: &[Option<(Millis, usize)>],
    (moved, scratch): &mut (Vec<bool>, Vec<usize>),
) {
    if let ([life], [Some((t, _))]) = (&mut *lives, at) {
        life.cred.clock.get_mut().advance(*t);
        return;
    }
    moved.clear();
    moved.resize(lives.len(), false);
    for i in 0..lives.len() {
        let Some((t, _)) = at[i].filter(|_| !moved[i]) else {
            continue;
        };
        let mut rc = lives[i]
            .cred
            .clock
            .0
            .take()
            .expect("each clock is taken once");
        scratch.clear();
        for j in i + 1..lives.len() {
            let same = lives[j]
                .cred
                .clock
                .0
                .as_ref()
                .is_some_and(|o| Rc::ptr_eq(o, &rc));
            if at[j].is_some_and(|a| a.0 == t) && !moved[j] && same {
                lives[j].cred.clock.0 = None;
                moved[j] = true;
                scratch.push(j);
            }
        }
        // Clones only if a copy outside the group still needs the state before `t`.
        Rc::make_mut(&mut rc).advance(t);
        for &j in scratch.iter() {
            lives[j].cred.clock.0 = Some(Rc::clone(&rc));
        }
        lives[i].cred.clock.0 = Some(rc);
    }
}

/// [`simulate_token`] at each of `points`, scenarios that differ only in their validator (a
/// sweep's settings): the same user side by side, sharing the login schedule, the clock while
/// the copies have moved it alike, and the computed codes. Each copy's figures are exactly
/// those it would have alone (tested), but for its `hmacs`: a code one copy computed is free
/// for the others.
pub fn simulate_points(
    points: &[&Scenario],
    buckets: &Buckets,
    pop: usize,
    index: u64,
    tallies: &mut [&mut PopTally],
    traced: bool,
) -> Vec<(Vec<TokenRecord>, Option<UserTrace>)> {
    if let ([sc], [tally]) = (points, &mut *tallies) {
        return vec![simulate_token(sc, buckets, pop, index, tally, traced)];
    }
    let sc = points[0];
    let p = &sc.populations[pop];
    let shared = Shared::new(points);
    let mut lives: Vec<Life> = Vec::with_capacity(points.len());
    for sc in points {
        let first = lives.first().map(|l| &l.cred);
        let life = Life::new(sc, buckets, pop, index, traced, &shared, first);
        lives.push(life);
    }
    let schedule = login_schedule(sc, pop, index);
    let totp = p.token.kind.is_totp();
    let end = sc.run.end();
    let mut at = vec![None; lives.len()];
    let mut scratch = (Vec::new(), Vec::new());
    let mut bt = 0;
    for (n, t) in schedule.enumerate() {
        // Logins come in time order.
        bt = if t < end {
            buckets.index_from(bt, t)
        } else {
            0
        };
        let mut going = false;
        for ((l, tally), a) in lives.iter_mut().zip(tallies.iter_mut()).zip(&mut at) {
            *a = if l.done {
                None
            } else {
                l.begin_login(t, bt, tally)
            };
            going |= !l.done;
        }
        if !going {
            break;
        }
        // Released before the clocks move, so that a clock no copy needs is changed in place.
        shared.first.borrow_mut().take();
        if totp {
            advance_clocks(&mut lives, &at, &mut scratch);
        }
        // Copies sharing a clock state share its offset.
        let mut seen: Option<(*const Clock, f64, (u64, usize))> = None;
        for ((l, tally), a) in lives.iter_mut().zip(tallies.iter_mut()).zip(&at) {
            let Some(a) = *a else { continue };
            let offset = totp.then(|| {
                let c: *const Clock = &*l.cred.clock;
                match seen {
                    Some((s, x, loc)) if s == c => (x, loc),
                    _ => {
                        let x = l.cred.clock.offset().abs();
                        let loc = OffsetHist::locate(x);
                        seen = Some((c, x, loc));
                        (x, loc)
                    }
                }
            });
            l.login(n as u64, a, offset, tally);
        }
    }
    lives
        .into_iter()
        .zip(tallies.iter_mut())
        .map(|(l, tally)| l.end_of_life(tally))
        .collect()
}

/// The login schedule of user `index` of population `pop`: a twin's user logs in at their own
/// rate and hours.
fn login_schedule(sc: &Scenario, pop: usize, index: u64) -> Schedule<'_> {
    let p = &sc.populations[pop];
    let own = sc
        .twin
        .as_ref()
        .map(|t| t.credentials[index as usize].user(&p.user));
    let spec = match own {
        Some(u) => std::borrow::Cow::Owned(u),
        None => std::borrow::Cow::Borrowed(&p.user),
    };
    Schedule::new(
        spec,
        sc.run.start,
        sc.run.end(),
        stream(sc.run.seed, index, Purpose::Schedule),
    )
}

/// Simulates user `index` of population `pop` and adds what happened to `tally`; returns one
/// record per credential the user went through. This is [`simulate_points`] at one point, the
/// common case: one copy of the user, so none of the bookkeeping that keeps copies apart
/// (their clocks' sharing, the first try's reuse); every draw and decision is the same
/// (tested: a sweep's settings side by side against each run alone).
pub fn simulate_token(
    sc: &Scenario,
    buckets: &Buckets,
    pop: usize,
    index: u64,
    tally: &mut PopTally,
    traced: bool,
) -> (Vec<TokenRecord>, Option<UserTrace>) {
    let shared = Shared::new(&[sc]);
    let mut life = Life::new(sc, buckets, pop, index, traced, &shared, None);
    let totp = sc.populations[pop].token.kind.is_totp();
    let end = sc.run.end();
    let mut bt = 0;
    for (n, t) in login_schedule(sc, pop, index).enumerate() {
        bt = if t < end {
            buckets.index_from(bt, t)
        } else {
            0
        };
        let Some(a) = life.begin_login(t, bt, tally) else {
            if life.done {
                break;
            }
            continue;
        };
        let offset = totp.then(|| {
            let clock = life.cred.clock.get_mut();
            clock.advance(a.0);
            let x = clock.offset().abs();
            (x, OffsetHist::locate(x))
        });
        life.login(n as u64, a, offset, tally);
    }
    life.end_of_life(tally)
}
