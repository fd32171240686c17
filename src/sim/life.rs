//! One token's life over the horizon: its clock, its user's logins and attempts, and the
//! validator's state for its credential, folded into the population's counters.

use crate::civil::{Millis, SECOND};
use crate::clock::Clock;
use crate::metrics::{Buckets, PopTally};
use crate::otp::totp_step;
use crate::rng::{behaviour_at, stream, Purpose, Rng};
use crate::scenario::{Population, Scenario};
use crate::token::{credential_id, DeathCause, Token};
use crate::user::{typo, Schedule};
use crate::validator::{CredentialState, Decision, Scheme, ValidatorConfig, Verdict};
use rand::Rng as _;
use rand_distr::{Distribution, Poisson};

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

/// One row of tokens.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenRecord {
    pub token: u64,
    pub population: usize,
    pub credential: String,
    pub born: Millis,
    pub died: Option<(Millis, DeathCause)>,
    pub codes_used: u64,
    pub logins: u64,
    pub attempts: u64,
    pub accepted: u64,
    /// Device clock minus true time at the end of the horizon (TOTP tokens).
    pub final_offset_s: Option<f64>,
    pub max_abs_offset_s: Option<f64>,
    pub first_rejection: Option<(Millis, Rejection)>,
    /// The validator's learned drift at the end, in steps (TOTP).
    pub final_drift_steps: Option<i64>,
    pub hmacs: u64,
}

/// Decides one submitted code. The seam for decision modes: only exact (real HMAC on both
/// sides) exists; a fast mode would replace the code comparisons here.
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

fn ms(secs: f64) -> Millis {
    (secs * 1000.0).round() as Millis
}

/// Simulates token `index` of population `pop` and adds what happened to `tally`.
pub fn simulate_token(
    sc: &Scenario,
    buckets: &Buckets,
    pop: usize,
    index: u64,
    tally: &mut PopTally,
) -> TokenRecord {
    let p: &Population = &sc.populations[pop];
    let seed = sc.run.seed;
    let start = sc.run.start;
    let end = sc.run.end();
    let totp = p.token.kind.is_totp();
    let scheme = if totp {
        Scheme::Totp {
            step_s: p.token.step_s,
            t0: p.token.t0,
        }
    } else {
        Scheme::Hotp
    };
    let step_ms = p.token.step_s as i64 * SECOND;
    let t0_ms = p.token.t0 * SECOND;

    let mut clock = Clock::new(&p.clock, start, stream(seed, index, Purpose::Clock));
    let mut token = Token::new(
        &p.token,
        p.battery.as_ref(),
        credential_id(p.token.kind, index, 1),
        start,
        &mut stream(seed, index, Purpose::Secret),
    );
    let mut token_rng = stream(seed, index, Purpose::Token);
    let behaviour = stream(seed, index, Purpose::Behaviour);
    let schedule = Schedule::new(&p.user, start, end, stream(seed, index, Purpose::Schedule));
    let mut vstate = CredentialState::default();
    let u = &p.user;

    let mut rec = TokenRecord {
        token: index,
        population: pop,
        credential: token.credential.clone(),
        born: start,
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
    };
    let mut max_abs: f64 = 0.0;
    let mut last_login = start;

    for (n, t) in schedule.enumerate() {
        let b = buckets.index(t);
        let c = &mut tally.buckets[b];
        c.logins += 1;
        rec.logins += 1;
        if totp {
            clock.advance(t);
            let x = clock.offset().abs();
            max_abs = max_abs.max(x);
            tally.offsets[b].record_s(x);
            tally.offsets_total.record_s(x);
        } else if p.token.unsent_presses_per_day > 0.0 {
            // Presses that never reached the validator run the HOTP counter (and battery) ahead.
            let lambda = p.token.unsent_presses_per_day * (t - last_login) as f64 / 86_400_000.0;
            if lambda > 0.0 {
                let k = Poisson::new(lambda).map_or(0, |d| d.sample(&mut token_rng) as u64);
                for _ in 0..k {
                    if token.alive_at(t) {
                        token.counter += 1;
                        token.use_code();
                    }
                }
            }
        }
        last_login = t;
        let mut rng: Rng = behaviour_at(&behaviour, n as u64);
        let mut read = t;
        for attempt in 0..=u.retries {
            if attempt > 0 {
                read += ms(u.retry_delay_s.sample(&mut rng));
            }
            c.attempts += 1;
            rec.attempts += 1;
            if !token.alive_at(read) {
                c.rejected_dead += 1;
                rec.first_rejection.get_or_insert((read, Rejection::Dead));
                break;
            }
            let (step, code) = if totp {
                let mut dev = clock.device_time(read);
                let left = step_ms - (dev - t0_ms).rem_euclid(step_ms);
                if (left as f64) < u.fresh_code_below_s * 1000.0
                    && rng.random::<f64>() < u.wait_probability
                {
                    read += left;
                    dev = clock.device_time(read);
                    c.waited_for_fresh_code += 1;
                }
                let s = totp_step(dev.div_euclid(SECOND), p.token.t0, p.token.step_s);
                (s, token.code(s))
            } else {
                let s = token.counter as i64;
                token.counter += 1;
                (s, token.code(s))
            };
            token.use_code();
            let typed = rng.random::<f64>() < u.typo_probability;
            let submitted = if typed {
                typo(code, token.digits(), &mut rng)
            } else {
                code
            };
            let submit = read + ms(u.delay_s.sample(&mut rng));
            let d = decide(
                &sc.validator,
                &mut vstate,
                scheme,
                submit,
                submitted,
                &mut token,
            );
            read = submit;
            if d.locked_now {
                c.lockouts += 1;
            }
            if d.resynced {
                c.skew_resyncs += 1;
            }
            let rejection = match d.verdict {
                Verdict::Accepted => {
                    c.accepted += 1;
                    rec.accepted += 1;
                    if typed {
                        c.false_accepts += 1;
                    } else if d.matched != Some(step) {
                        c.chance_matches += 1;
                    }
                    if attempt == 0 {
                        c.first_try_ok += 1;
                    }
                    c.logins_ok += 1;
                    break;
                }
                Verdict::NoMatch if typed => Rejection::Typo,
                Verdict::NoMatch => Rejection::OutOfWindow,
                Verdict::Replay => Rejection::Replay,
                Verdict::Locked => Rejection::Locked,
            };
            match rejection {
                Rejection::OutOfWindow => c.rejected_out_of_window += 1,
                Rejection::Replay => c.rejected_replay += 1,
                Rejection::Locked => c.rejected_locked += 1,
                Rejection::Typo => c.rejected_typo += 1,
                Rejection::Dead => c.rejected_dead += 1,
            }
            rec.first_rejection.get_or_insert((submit, rejection));
            if rejection == Rejection::Locked {
                // Retrying a locked account only feeds the lock; the user gives up for now.
                break;
            }
        }
    }

    if let Some((when, cause)) = token.death() {
        if when < end {
            rec.died = Some((when, cause));
            let c = &mut tally.buckets[buckets.index(when)];
            match cause {
                DeathCause::Battery => c.deaths_battery += 1,
                DeathCause::Expired => c.deaths_expired += 1,
            }
        }
    }
    if totp {
        clock.advance(end);
        let x = clock.offset();
        rec.final_offset_s = Some((x * 1000.0).round() / 1000.0);
        rec.max_abs_offset_s = Some((max_abs.max(x.abs()) * 1000.0).round() / 1000.0);
        rec.final_drift_steps = Some(vstate.drift_steps);
        if rec.died.is_none() {
            tally.final_offsets.record_s(x.abs());
        }
    }
    rec.codes_used = token.codes_used;
    rec.hmacs = token.hmacs;
    tally.tokens += 1;
    rec
}
