//! One user's life over the horizon: their successive credentials (clock, token, validator
//! state) and their logins, folded into the population's counters. A login try's attempts are
//! in `attempt`, the recovery ladder in `recovery`, the guesser in `attacker`, the validator
//! that serves each request (one, or a cluster's node) in `cluster`.

use super::trace::{TraceAction, TraceEvent, TraceOutcome, TraceSecret};
use crate::clock::Clock;
use crate::metrics::{Buckets, Counts, PopTally};
use crate::rng::{behaviour_at, behaviour_key, stream, stream_gen, Purpose, Rng};
use crate::scenario::{DecideMode, Population, Scenario};
use crate::time::{Millis, SECOND};
use crate::token::{credential_id, DeathCause, Token};
use crate::validator::schedule::{Cursor, Schedule};
use crate::validator::{CredentialState, Decision, Scheme, ValidatorConfig};
use rand::Rng as _;
use rand_distr::{Distribution, Poisson};

mod attacker;
use attacker::Attacker;
mod attempt;
pub mod audit;
mod cluster;
mod recovery;
mod shared;

pub use shared::{simulate_points, simulate_token};
use shared::{Shared, SharedClock};

/// Why an attempt was rejected, from the simulation's knowledge of what the user did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    OutOfWindow,
    Replay,
    Locked,
    Typo,
    Dead,
}

impl Rejection {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::OutOfWindow => "out_of_window",
            Rejection::Replay => "replay",
            Rejection::Locked => "locked",
            Rejection::Typo => "typo",
            Rejection::Dead => "dead",
        }
    }
}

/// One row of tokens.csv: one credential of one user.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenRecord {
    /// The user (fleet index).
    pub token: u64,
    /// 0 for the user's first credential, then one more per replacement or reinstall.
    pub generation: u32,
    pub population: usize,
    pub credential: String,
    pub born: Millis,
    /// When and why the credential ended (None: still in use at the end of the horizon).
    pub died: Option<(Millis, DeathCause)>,
    pub codes_used: u64,
    pub logins: u64,
    pub attempts: u64,
    pub accepted: u64,
    /// Device clock minus true time when the credential ended or at the end (TOTP).
    pub final_offset_s: Option<f64>,
    pub max_abs_offset_s: Option<f64>,
    pub first_rejection: Option<(Millis, Rejection)>,
    /// The validator's learned drift at the end, in steps (TOTP).
    pub final_drift_steps: Option<f64>,
    pub hmacs: u64,
    /// From the scenario's `watch` instant on (None without one): the first login whose
    /// first attempt failed, the first helpdesk ticket, and the first login at which the
    /// clock's offset lay outside the watched window.
    pub first_failed_login: Option<Millis>,
    pub first_ticket: Option<Millis>,
    pub exit: Option<Millis>,
    /// The same two from the watch's event on.
    pub failed_after_event: Option<Millis>,
    pub ticket_after_event: Option<Millis>,
}

/// Decides one submitted code against the token's codes, HMAC or (fast mode) mixed: the
/// validator's rules are the same either way.
fn decide(
    v: &ValidatorConfig,
    st: &mut CredentialState,
    scheme: Scheme,
    now: Millis,
    code: u32,
    token: &mut Token,
) -> Decision {
    v.verify(st, scheme, now, code, |s| token.code(s))
}

/// A twin credential's validator state as the log left it: the learned correction (in steps,
/// and in seconds for validators that learn seconds) and the last step used.
fn twin_state(
    t: &crate::scenario::twin::TwinCredential,
    p: &Population,
    start: Millis,
) -> CredentialState {
    let mut st = CredentialState::enrolled(start);
    if let Some(x) = t.learned_s {
        st.drift_steps = (x / p.token.step_s as f64).round() as i64;
        st.shift_ms = ms(x);
    }
    st.last_step = t.last_step;
    st
}

/// The schedule of a population without a timeline.
static NO_SCHEDULE: Schedule = Schedule {
    segments: Vec::new(),
    actions: Vec::new(),
    clock: Vec::new(),
    nodes: Vec::new(),
};

/// Draws of a token's age and codes at the start before giving up on an alive one.
const IN_SERVICE_DRAWS: usize = 64;

fn ms(secs: f64) -> Millis {
    crate::time::ms_of_s(secs)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The outcome of one login try (an attempt and its retries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Try {
    Accepted { first: bool },
    Rejected(Rejection),
}

/// One credential in use: its token, clock and the validator's state for it.
#[derive(Clone)]
struct Credential {
    token: Token,
    clock: SharedClock,
    vstate: CredentialState,
    rec: TokenRecord,
    max_abs: f64,
}

struct Life<'a> {
    sc: &'a Scenario,
    p: &'a Population,
    buckets: &'a Buckets,
    index: u64,
    pop: usize,
    end: Millis,
    scheme: Scheme,
    step_ms: i64,
    t0_ms: i64,
    totp: bool,
    cred: Credential,
    generation: u32,
    records: Vec<TokenRecord>,
    /// Spans without a working token: (from, until).
    no_token: Vec<(Millis, Millis)>,
    /// The user has no working token until then.
    waiting_until: Option<Millis>,
    /// Start of the user's current run of failed logins.
    incident_start: Option<Millis>,
    /// Failed incidents in a row (reset by a successful login).
    failed_incidents: u32,
    token_rng: Rng,
    /// The requests of a traced user.
    trace: Option<UserTrace>,
    /// A simulated guesser on this account, and what its guesses did, per bucket.
    attacker: Option<Attacker>,
    attack_counts: Vec<Counts>,
    /// The latest time the validator has seen a request for this user: every request is
    /// decided in time order, so nothing the user or the attacker does may come before it.
    last_seen: Millis,
    shared: &'a Shared,
    /// Keys each login's behaviour stream.
    behaviour: u64,
    /// In a login until then: its last request, or the end of its recovery steps. None before
    /// the first login.
    busy_until: Option<Millis>,
    last_login: Millis,
    /// The horizon is reached: no more logins.
    done: bool,
    /// This user's logins, first-try successes and successes, for the rates' intervals.
    logins: (u64, u64, u64),
    /// The population's validator over the run (`[[timeline]]`; empty without one), and where
    /// this user is in it: the configuration in force for the next request.
    schedule: &'a Schedule,
    v: Cursor,
    /// A cluster's nodes as this user meets them (None: one validator).
    nodes: Option<Box<cluster::Nodes<'a>>>,
    /// No guesser, cluster, timeline or trace: a request is only the validator's decision.
    plain: bool,
    /// A plain TOTP user alone at their setting, who never resubmits, of a validator that
    /// decides plainly: a login try may take the common path ([`Life::common_try`]).
    common: bool,
    /// Code attempts, next-code challenges among them, and login tries (a first try, then one
    /// per recovery step), counted for the accounting audit of the tests.
    made: audit::Made,
}

/// One traced user's requests and credentials.
pub struct UserTrace {
    pub token: u64,
    pub events: Vec<TraceEvent>,
    pub secrets: Vec<TraceSecret>,
}

impl<'a> Life<'a> {
    fn credential(
        sc: &Scenario,
        p: &Population,
        pop: usize,
        index: u64,
        generation: u32,
        born: Millis,
        shared: &Shared,
    ) -> Credential {
        let seed = sc.run.seed;
        let mut clock_rng = stream_gen(seed, index, Purpose::Clock, generation);
        let (born, codes_before) = match (&p.battery, generation) {
            (Some(b), 0) => {
                // A token in service at the start works then: one whose age and codes spent
                // its budget was replaced before the run, so the pair is drawn again (the
                // fleet's ages conditioned on being alive). A fleet that is hardly ever alive
                // starts on new tokens.
                (0..IN_SERVICE_DRAWS)
                    .map(|_| {
                        let age = ms(b.age_at_start_s.sample(&mut clock_rng).max(0.0));
                        let codes = b.codes_at_start.sample(&mut clock_rng).max(0.0).round();
                        (age, codes as u64)
                    })
                    .find(|&(age, codes)| b.alive_at_age(age, codes))
                    .map_or((born, 0), |(age, codes)| (born - age, codes))
            }
            _ => (born, 0),
        };
        // A twin's user starts on the real credential: its id, clock and validator state.
        let twin = sc.twin.as_ref().map(|t| &t.credentials[index as usize]);
        let credential = match twin {
            Some(t) if generation == 0 => t.id.clone(),
            Some(t) => format!("{}~{}", t.id, generation + 1),
            None => credential_id(p.token.kind, index, generation + 1),
        };
        let token = Token::new(
            &p.token,
            p.battery.as_ref(),
            credential.clone(),
            born,
            codes_before,
            &mut stream_gen(seed, index, Purpose::Secret, generation),
        );
        let token = match sc.run.decide {
            DecideMode::Exact => token.with_cache(shared.of(generation)),
            DecideMode::Fast => token.fast(),
        };

        // The clock starts where the simulation does, or when a replacement is born; a token
        // already in service keeps aging from its own birth.
        let start = born.max(sc.run.start);
        let (clock, vstate) = match twin.filter(|_| generation == 0) {
            Some(t) => {
                let mut clock = Clock::in_service(&t.clock(&p.clock), born, start, clock_rng);
                if let Some((sx, sy, rho)) = t.wander {
                    // Its own stream (a generation no credential reaches), so the clock's draws
                    // stay those of the population's law.
                    let mut rng = stream_gen(seed, index, Purpose::Clock, u32::MAX);
                    let z1: f64 = rng.sample(rand_distr::StandardNormal);
                    let z2: f64 = rng.sample(rand_distr::StandardNormal);
                    clock.nudge(sx * z1, sy * (rho * z1 + (1.0 - rho * rho).sqrt() * z2));
                }
                (clock, twin_state(t, p, start))
            }
            None => (
                Clock::in_service(&p.clock, born, start, clock_rng),
                CredentialState::enrolled(start),
            ),
        };
        Credential {
            token,
            clock: SharedClock::new(clock),
            vstate,
            rec: TokenRecord {
                token: index,
                generation,
                population: pop,
                credential,
                born,
                died: None,
                codes_used: 0,
                logins: 0,
                attempts: 0,
                accepted: 0,
                final_offset_s: None,
                max_abs_offset_s: None,
                first_rejection: None,
                final_drift_steps: None,
                hmacs: 0,
                first_failed_login: None,
                first_ticket: None,
                exit: None,
                failed_after_event: None,
                ticket_after_event: None,
            },
            max_abs: 0.0,
        }
    }

    /// A helpdesk ticket about the current credential at `at`, for a watched record.
    fn ticket(&mut self, at: Millis) {
        if let Some(w) = self.sc.watch.filter(|w| at >= w.from) {
            self.cred.rec.first_ticket.get_or_insert(at);
            if at >= w.event {
                self.cred.rec.ticket_after_event.get_or_insert(at);
            }
        }
    }

    /// Closes the current credential's record at `at`.
    fn close(&mut self, at: Millis, cause: Option<DeathCause>) {
        let c = &mut self.cred;
        if self.totp {
            let x = c.clock.peek(at);
            c.rec.final_offset_s = Some(round3(x));
            c.rec.max_abs_offset_s = Some(round3(c.max_abs.max(x.abs())));
            c.rec.final_drift_steps = c.vstate.learned_steps(self.scheme, self.v.config.drift);
        }
        c.rec.died = cause.map(|k| (at, k));
        c.rec.codes_used = c.token.codes_used;
        c.rec.hmacs = c.token.hmacs;
        self.records.push(c.rec.clone());
    }

    /// Records a request for the current credential, if this user is traced. `at` is true time.
    fn record(
        &mut self,
        at: Millis,
        action: TraceAction,
        true_offset_s: Option<f64>,
        outcome: TraceOutcome,
    ) {
        let Some(t) = self.trace.as_mut() else { return };
        t.events.push(TraceEvent {
            token: self.index,
            credential: self.cred.rec.credential.clone(),
            time: at + (self.v.config.server_offset_s * 1000.0).round() as Millis,
            action,
            digits: self.cred.token.digits(),
            true_offset_s,
            outcome,
        });
    }

    /// Traces the enrolment of the current credential.
    fn record_enrolment(&mut self) {
        if self.trace.is_none() {
            return;
        }
        let cr = &self.cred;
        let secret = TraceSecret {
            credential: cr.rec.credential.clone(),
            key: cr.token.secret().to_vec(),
            algorithm: self.p.token.algorithm,
            digits: cr.token.digits(),
            totp: self.totp.then_some((self.p.token.step_s, self.p.token.t0)),
        };
        let at = cr.vstate.last_success;
        if let Some(t) = self.trace.as_mut() {
            t.secrets.push(secret);
        }
        self.record(at, TraceAction::Enrol, None, TraceOutcome::Done);
    }

    /// The device clock's offset when a code is read (TOTP), for a traced user.
    fn traced_offset(&self, read: Millis) -> Option<f64> {
        (self.trace.is_some() && self.totp).then(|| round3(self.cred.clock.peek(read)))
    }

    /// Retires the credential at `at` and gives the user a new one that works from `ready`.
    fn replace(&mut self, at: Millis, cause: DeathCause, ready: Millis) {
        self.close(at, Some(cause));
        self.generation += 1;
        let mut old = std::mem::replace(
            &mut self.cred,
            Self::credential(
                self.sc,
                self.p,
                self.pop,
                self.index,
                self.generation,
                ready,
                self.shared,
            ),
        );
        // The new credential is enrolled at `ready`: what the timeline did to the state before
        // that was done to the old one.
        self.v.advance(self.schedule, ready, &mut old.vstate);
        if let Some(n) = self.nodes.as_mut() {
            n.enrol(&self.cred.vstate, self.schedule.actions_due(ready));
        }
        if cause == DeathCause::Reinstalled {
            // A reinstalled app runs on the same device: a new secret, the same clock (with
            // its error, automatic-time setting and pending events).
            self.cred.clock = old.clock;
        }
        self.record_enrolment();
        if ready > at {
            self.no_token.push((at, ready));
            self.waiting_until = Some(ready);
        }
    }
}

impl Life<'_> {
    /// Closes the user's current credential at the end of the horizon.
    fn finish(&mut self, tally: &mut PopTally) {
        let end = self.end;
        if self.cred.rec.born >= end {
            return; // a replacement still on its way
        }
        match self.cred.token.death() {
            Some((when, cause)) if when < end => {
                // A death nobody noticed before the end still counts.
                let c = &mut tally.buckets[self.buckets.index(when)];
                match cause {
                    DeathCause::Battery => c.deaths_battery += 1,
                    _ => c.deaths_expired += 1,
                }
                if self.totp {
                    self.cred.clock.get_mut().advance(when);
                }
                self.close(when, Some(cause));
            }
            _ => {
                if self.totp {
                    self.cred.clock.get_mut().advance(end);
                    tally.final_offsets.record_s(self.cred.clock.offset().abs());
                }
                self.close(end, None);
            }
        }
    }
}

impl<'a> Life<'a> {
    fn new(
        sc: &'a Scenario,
        buckets: &'a Buckets,
        pop: usize,
        index: u64,
        traced: bool,
        shared: &'a Shared,
        first: Option<&Credential>,
    ) -> Life<'a> {
        let p: &Population = &sc.populations[pop];
        let start = sc.run.start;
        let totp = p.token.kind.is_totp();
        let mut life = Life {
            sc,
            p,
            buckets,
            index,
            pop,
            end: sc.run.end(),
            scheme: if totp {
                Scheme::Totp {
                    step_s: p.token.step_s,
                    t0: p.token.t0,
                }
            } else {
                Scheme::Hotp
            },
            step_ms: p.token.step_s as i64 * SECOND,
            t0_ms: p.token.t0 * SECOND,
            totp,
            // Another setting's copy of this user starts with the same credential (the
            // validator's state for it starts empty at any setting).
            cred: match first {
                Some(c) => c.clone(),
                None => Life::credential(sc, p, pop, index, 0, start, shared),
            },
            generation: 0,
            records: Vec::new(),
            no_token: Vec::new(),
            waiting_until: None,
            incident_start: None,
            failed_incidents: 0,
            token_rng: stream(sc.run.seed, index, Purpose::Token),
            trace: traced.then(|| UserTrace {
                token: index,
                events: Vec::new(),
                secrets: Vec::new(),
            }),
            attacker: sc
                .attack
                .as_ref()
                .filter(|a| index < a.simulate_accounts && a.guesses_per_day > 0.0)
                .map(|a| {
                    let mut at = Attacker {
                        rng: stream(sc.run.seed, index, Purpose::Attack),
                        next: start as f64,
                        rate_per_ms: a.guesses_per_day / 86_400_000.0,
                    };
                    at.advance();
                    at
                }),
            attack_counts: Vec::new(),
            last_seen: start,
            shared,
            behaviour: behaviour_key(sc.run.seed, index),
            busy_until: None,
            last_login: start,
            done: false,
            logins: (0, 0, 0),
            made: audit::Made::default(),
            schedule: sc.schedules.get(pop).unwrap_or(&NO_SCHEDULE),
            v: Cursor::new(&sc.validator),
            nodes: None,
            plain: false,
            common: false,
        };
        if let Some(cl) = &sc.cluster {
            life.nodes = Some(Box::new(cluster::Nodes::new(
                cl,
                life.schedule,
                sc.run.seed,
                index,
                &life.cred.vstate,
                buckets.len(),
            )));
        }
        if life.attacker.is_some() {
            life.attack_counts = vec![Counts::default(); buckets.len()];
        }
        life.record_enrolment();
        let s = life.schedule;
        life.plain = life.attacker.is_none()
            && life.nodes.is_none()
            && life.trace.is_none()
            && s.segments.is_empty()
            && s.actions.is_empty()
            && s.clock.is_empty();
        life.common = life.plain
            && life.totp
            && !shared.side_by_side
            && p.user.resubmit_probability == 0.0
            && life.v.config.decides_plainly();
        life
    }

    /// Scheduled login `t` (in bucket `bt`), up to reading the token: when the login starts and
    /// its bucket, if it goes on (the caller then moves the clock there). `done` is set once
    /// the horizon is reached.
    fn begin_login(
        &mut self,
        t: Millis,
        bt: usize,
        tally: &mut PopTally,
    ) -> Option<(Millis, usize)> {
        if t >= self.end {
            self.done = true;
            return None;
        }
        if self.attacker.is_some() {
            self.attack_until(t);
        }
        // A login that comes due while the user is still in an earlier one (typing it, waiting
        // to retry, on the recovery ladder) is that login: a person signing in does not start a
        // second sign-in beside it. It is neither made nor counted, so a login never sends
        // more than its own attempts and no two logins share an instant.
        if self.busy_until.is_some_and(|busy| t <= busy) {
            return None;
        }
        debug_assert!(t >= self.last_seen, "a login starts after every request");
        tally.buckets[bt].logins += 1;
        self.logins.0 += 1;
        if let Some(w) = self.waiting_until {
            if t < w {
                tally.buckets[bt].logins_without_token += 1;
                audit::login(self.index, t, t, audit::Made::default(), false);
                // A second login the schedule puts at this very instant is this one.
                self.busy_until = Some(self.busy_until.map_or(t, |b| b.max(t)));
                return None;
            }
            self.waiting_until = None;
        }
        // A login made with this credential (not one while waiting for it).
        self.cred.rec.logins += 1;
        Some((t, bt))
    }

    /// The rest of the user's `n`-th scheduled login, started at `t` in bucket `b` with the
    /// clock there; `offset` is the clock's offset then and where it goes in a histogram.
    fn login(
        &mut self,
        n: u64,
        (t, b): (Millis, usize),
        offset: Option<(f64, (u64, usize))>,
        tally: &mut PopTally,
    ) {
        let p = self.p;
        if let Some((x, at)) = offset {
            self.cred.max_abs = self.cred.max_abs.max(x);
            // The run's histogram is the buckets' sum, added once at the end (`Tally::settle`).
            tally.offsets[b].record_located(at);
        } else if p.token.unsent_presses_per_day > 0.0 {
            // Presses that never reached the validator run the HOTP counter (and battery) ahead.
            let since = self.last_login.max(self.cred.rec.born);
            let lambda = p.token.unsent_presses_per_day * (t - since).max(0) as f64 / 86_400_000.0;
            if lambda > 0.0 {
                let k = Poisson::new(lambda).map_or(0, |d| d.sample(&mut self.token_rng) as u64);
                for _ in 0..k {
                    if self.cred.token.alive_at(t) {
                        self.cred.token.counter += 1;
                        self.cred.token.use_code(t);
                    }
                }
            }
        }
        self.last_login = t;
        self.made = audit::Made::default();
        let mut rng = behaviour_at(self.behaviour, n);
        // A push approval needs no code and no clock (drawn only when pushes exist, so
        // code-only fleets keep their streams).
        if p.user.push_share > 0.0 && rng.random::<f64>() < p.user.push_share {
            let c = &mut tally.buckets[b];
            c.push_logins += 1;
            c.first_try_ok += 1;
            c.logins_ok += 1;
            self.logins.1 += 1;
            self.logins.2 += 1;
            self.failed_incidents = 0;
            if let Some(s) = self.incident_start.take() {
                tally.recovery_time.record_s((t - s) as f64 / 1000.0);
            }
            audit::login(self.index, t, t, self.made, true);
            return;
        }
        // The window the validator keeps for this credential as the login starts, before the
        // login's own success or resync moves it, and the clock's signed offset then.
        let before = self.sc.watch.is_some().then(|| {
            let learned = (self.cred.vstate)
                .learned_steps(self.scheme, self.v.config.drift)
                .unwrap_or(0.0);
            self.cred.clock.offset() - learned * self.step_ms as f64 / 1000.0
        });
        let (outcome, at) = match self.common_try(t, &rng, &mut tally.buckets[b]) {
            Some(at) => (Try::Accepted { first: true }, at),
            None => self.try_login(t, &mut rng, (&mut tally.buckets[b], b)),
        };
        self.busy_until = Some(at);
        if let Some(w) = self.sc.watch.filter(|w| t >= w.from) {
            let rec = &mut self.cred.rec;
            if outcome != (Try::Accepted { first: true }) {
                rec.first_failed_login.get_or_insert(t);
                if t >= w.event {
                    rec.failed_after_event.get_or_insert(t);
                }
            }
            if let Some(x) = before.filter(|_| offset.is_some() && rec.exit.is_none()) {
                if x < w.edges.0 || x > w.edges.1 {
                    rec.exit = Some(t);
                }
            }
        }
        match outcome {
            Try::Accepted { first } => {
                let c = &mut tally.buckets[b];
                c.first_try_ok += first as u64;
                c.logins_ok += 1;
                self.logins.1 += first as u64;
                self.logins.2 += 1;
                self.failed_incidents = 0;
                if let Some(s) = self.incident_start.take() {
                    tally.recovery_time.record_s((at - s) as f64 / 1000.0);
                }
            }
            Try::Rejected(Rejection::Dead) => self.token_died(t, b, &mut rng, tally),
            Try::Rejected(_) => {
                tally.buckets[b].incidents += 1;
                self.incident_start.get_or_insert(t);
                // Only time spent on recovery steps keeps the user from their next logins.
                let done = self.ladder(at, &mut rng, tally);
                self.busy_until = Some(done.max(at));
            }
        }
        audit::login(self.index, t, self.busy_until.unwrap_or(t), self.made, true);
    }

    /// After the last login: the attacker's remaining guesses, the open credential closed, the
    /// lifetime gauges. Returns the user's records and trace.
    fn end_of_life(mut self, tally: &mut PopTally) -> (Vec<TokenRecord>, Option<UserTrace>) {
        self.attack_until(self.end);
        for (b, c) in tally.buckets.iter_mut().zip(&self.attack_counts) {
            b.add(c);
        }
        if let Some(n) = &self.nodes {
            if tally.nodes.is_empty() {
                tally.nodes = vec![Default::default(); n.counts.len()];
            }
            for (a, b) in tally.nodes.iter_mut().zip(&n.counts) {
                a.add(b);
            }
        }
        self.finish(tally);
        // Lifetime gauges at each bucket's end: a user has at most one live credential.
        for i in 0..self.buckets.len() {
            let e = self.buckets.end_of(i);
            let live = |born: Millis, died: Option<(Millis, DeathCause)>| {
                born < e && died.is_none_or(|(d, _)| d >= e)
            };
            let alive = self.records.iter().any(|r| live(r.born, r.died));
            tally.alive_end[i] += alive as u64;
            tally.without_token_end[i] += !alive as u64;
        }
        tally.tokens += 1;
        let (n, first, ok) = self.logins;
        tally.users.add_user(n, first, ok);
        (self.records, self.trace)
    }
}
