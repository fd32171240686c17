//! Measuring a live validator's rules (`otpdrift probe`): the answers a validator gives, the
//! transport a probe talks through (a trait: the IO belongs to its caller), the candidate
//! configurations still consistent with every answer, and the choice of each next attempt.
//!
//! The probe keeps every configuration of the validator model that explains all the answers so
//! far (`space`), each with the state it would hold, and sends the code (which step, when) whose
//! predicted answers split what is left best (`choose`), never one that any candidate says could
//! lock the credential, and after a refusal only one that every candidate accepts. It stops when
//! what is left answers every attempt it could make the same way.

mod choose;
pub mod model;
mod space;

pub use space::{sync_kind, Band, Candidate, Facets, Space, SyncKind, SYNCS};

use crate::error::{Error, Result};
use crate::otp::{format_code, totp_step, Keyed};
use crate::time::Millis;
use crate::validator::{ValidatorConfig, Verdict};

/// What a validator answered, as a client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Reject,
    /// Asked for more (the next code): RADIUS Access-Challenge, privacyIDEA `CHALLENGE`.
    Challenge,
}

impl Answer {
    /// What a client sees of a model verdict: every refusal looks the same.
    pub fn of(v: Verdict) -> Answer {
        match v {
            Verdict::Accepted => Answer::Accept,
            Verdict::NextCodeRequired => Answer::Challenge,
            _ => Answer::Reject,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Reject => "reject",
            Answer::Challenge => "challenge",
        }
    }
}

/// One test credential as the probe uses it: its TOTP codes.
/// (Not `Debug`: it holds the secret.)
#[derive(Clone)]
pub struct Credential {
    pub id: String,
    pub keyed: Keyed,
    pub digits: u32,
    pub step_s: u32,
    pub t0: i64,
}

impl Credential {
    /// The TOTP step at `t`.
    pub fn step_at(&self, t: Millis) -> i64 {
        totp_step(t.div_euclid(1000), self.t0, self.step_s)
    }

    /// When `step` begins.
    pub fn step_start(&self, step: i64) -> Millis {
        (self.t0 + step * self.step_s as i64) * 1000
    }

    pub fn code_value(&self, step: i64) -> u32 {
        self.keyed.hotp(step.max(0) as u64, self.digits)
    }

    /// The code of `step`, as typed.
    pub fn code(&self, step: i64) -> String {
        format_code(self.code_value(step), self.digits)
    }
}

/// How the probe reaches a validator. Live transports do IO; the model answers from a
/// configuration on simulated time.
pub trait Transport {
    /// The validator's time now, milliseconds since the epoch.
    fn now(&mut self) -> Millis;
    /// Returns at `t` (at once if it has passed).
    fn wait_until(&mut self, t: Millis) -> Result<()>;
    /// Submits one code for the credential and reads the answer. An answer the transport cannot
    /// interpret is an error, never a guess.
    fn verify(&mut self, cred: &Credential, code: &str) -> Result<Answer>;
    /// Clears the credential's lock and failure count where the protocol has a way (an
    /// administrator API); false when it has none.
    fn unlock(&mut self, _cred: &Credential) -> Result<bool> {
        Ok(false)
    }
    /// Whether the protocol has a two-code resync endpoint the probe may call (privacyIDEA's
    /// `/token/resync` with an administrator login).
    fn has_resync(&self) -> bool {
        false
    }
    /// Submits two codes to the resync endpoint: whether it resynchronized.
    fn resync(&mut self, _cred: &Credential, _code1: &str, _code2: &str) -> Result<bool> {
        Err(Error::failed("this transport has no resync endpoint"))
    }
    /// What the transport talks to, for the report.
    fn describe(&self) -> String;
}

/// The bounds a probe keeps.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Attempts at most (lockout measurement included).
    pub max_attempts: u32,
    /// Validator time at most, from the first attempt.
    pub max_time_ms: Millis,
    /// At least this long between two attempts (the pace).
    pub min_interval_ms: Millis,
    /// The widest window, in steps either side, the probe will look for (and the farthest
    /// offset it sends).
    pub max_window: u32,
    /// No attempt is sent this close to a step boundary, so that the time the validator reads
    /// is in the step the probe meant.
    pub guard_ms: Millis,
    /// Measure the lockout (locks the credential; unlocks it by the transport or by waiting).
    pub allow_lockout: bool,
    /// At most this many failures in a row while measuring the lockout.
    pub max_lockout_failures: u32,
    /// How long the probe waits at most to see a lock clear by itself.
    pub max_unlock_wait_ms: Millis,
    /// The widest band beyond the window (automatic resync, auto-sync) looked for, in steps
    /// either side of the centre.
    pub max_band: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_attempts: 600,
            max_time_ms: 3 * 3_600_000,
            min_interval_ms: 5_000,
            max_window: 64,
            guard_ms: 2_000,
            allow_lockout: false,
            max_lockout_failures: 20,
            max_unlock_wait_ms: 2 * 3_600_000,
            max_band: 40,
        }
    }
}

/// One attempt the probe made.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// The validator's time when the code was sent.
    pub at: Millis,
    /// The step whose code was sent.
    pub step: i64,
    /// That step minus the step of `at`.
    pub offset: i64,
    pub code: String,
    /// The second code of a resync (the next step's).
    pub code2: Option<String>,
    pub answer: Answer,
    /// Why it was sent.
    pub purpose: Purpose,
    /// Candidates left after this answer (window and rule measurement).
    pub left: usize,
}

/// Why an attempt was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The code of now: the credential, the secret and the clocks work.
    Baseline,
    /// Chosen to split the candidates.
    Measure,
    /// Past every window: does a band beyond it accept (and how far does it reach)?
    Band,
    /// Every candidate accepts it: the failure count back to zero after a refusal.
    Recover,
    /// A code no step near now has, to count failures (lockout measurement).
    Wrong,
    /// Is it still locked?
    LockCheck,
    /// Re-centres the learned drift at the end.
    Restore,
    /// The transport's administrator unlock (no code sent).
    Unlock,
    /// Two codes in successive steps through the resync endpoint.
    Resync,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Baseline => "baseline",
            Purpose::Measure => "measure",
            Purpose::Band => "band",
            Purpose::Recover => "recover",
            Purpose::Wrong => "wrong_code",
            Purpose::LockCheck => "lock_check",
            Purpose::Restore => "restore",
            Purpose::Unlock => "unlock",
            Purpose::Resync => "resync",
        }
    }
}

/// Why the probe stopped measuring the window and rules.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// What is left answers every attempt the probe could make the same way.
    Converged,
    /// The attempt or time budget ran out first.
    Budget(String),
}

/// What the lockout measurement found.
#[derive(Clone, Debug, PartialEq)]
pub enum LockFinding {
    NotMeasured,
    /// No lock after this many failures in a row.
    NoneWithin(u32),
    Locks {
        /// The failures in a row that lock: (least, most) consistent with the trials (one
        /// value unless the lock could not be cleared to narrow it).
        failures: (u32, u32),
        /// Some((lo, hi)): it cleared by itself after more than `lo` and at most `hi` ms;
        /// None: it did not within `waited_ms`.
        clears_after_ms: Option<(Millis, Millis)>,
        waited_ms: Millis,
        unlocked_by_transport: bool,
    },
}

/// A probe's result.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub sent: Vec<Sent>,
    pub stop: Stop,
    /// The facets of the candidates left, and a representative configuration.
    pub facets: Facets,
    pub config: ValidatorConfig,
    pub lockout: LockFinding,
    /// The learned drift, in steps, the validator holds at the end as far as the probe knows
    /// (after the restoring logins); None when the candidates disagree.
    pub drift_left: Option<f64>,
    /// Validator time the probe took, first attempt to last.
    pub elapsed_ms: Millis,
    /// The widest band looked for (`Limits::max_band`), and the widest resync window.
    pub max_band: u32,
    /// Whether the transport had a resync endpoint (and the resync was measured).
    pub resync_endpoint: bool,
}

impl Outcome {
    /// Codes sent (administrator unlocks are not attempts).
    pub fn attempts(&self) -> usize {
        self.sent
            .iter()
            .filter(|s| s.purpose != Purpose::Unlock)
            .count()
    }

    pub fn unlocks(&self) -> usize {
        self.sent.len() - self.attempts()
    }
}

/// Runs a probe of one credential. `progress` hears (attempts so far, candidates left).
pub fn probe(
    cred: &Credential,
    t: &mut dyn Transport,
    limits: &Limits,
    progress: &dyn Fn(usize, usize),
) -> Result<Outcome> {
    choose::Session::new(cred, t, limits, progress).run()
}

/// Refuses an answer no candidate predicted: the validator does something outside the model
/// (or the transport misread it), so no measurement from here on could be trusted.
fn contradiction(sent: &[Sent], cred: &Credential) -> Error {
    let last = sent.last().expect("an attempt was made");
    Error::failed(format!(
        "probe stopped at attempt {} ({} for the code of step {:+} from now on credential {}): no configuration in the model explains this answer with the ones before; nothing more was sent; see docs/probe.md for what the model covers",
        sent.len(),
        last.answer.as_str(),
        last.offset,
        cred.id
    ))
}
#[cfg(test)]
mod tests;
