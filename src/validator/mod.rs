//! The validator: window and search order, drift learning, replay rule and lockout, deciding
//! each submitted code against per-credential state with the server's own clock.
//!
//! Codes are compared for real: the caller supplies the credential's code for any step, and the
//! window is searched in the configured order, so which step a chance collision matches depends
//! on the order exactly as it does in the systems modelled (DOMAIN.md's table).

use crate::civil::Millis;
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt;

/// The order in which window offsets are tried; the first matching step wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchOrder {
    /// 0, +1, -1, +2, -2, ... (FreeIPA).
    CenterOut,
    /// 0, -1, +1, -2, +2, ... (Keycloak).
    BackFirst,
    /// -back, ..., +ahead ascending (privacyIDEA, LinOTP, google-authenticator-libpam).
    OldestFirst,
}

impl SearchOrder {
    pub const NAMES: &'static str = "center_out, back_first, oldest_first";

    pub fn parse(s: &str) -> Option<SearchOrder> {
        match s {
            "center_out" => Some(SearchOrder::CenterOut),
            "back_first" => Some(SearchOrder::BackFirst),
            "oldest_first" => Some(SearchOrder::OldestFirst),
            _ => None,
        }
    }

    /// Window offsets in search order.
    pub fn offsets(self, back: u32, ahead: u32) -> Vec<i64> {
        let (b, a) = (back as i64, ahead as i64);
        match self {
            SearchOrder::OldestFirst => (-b..=a).collect(),
            SearchOrder::CenterOut | SearchOrder::BackFirst => {
                let mut v = vec![0];
                for k in 1..=b.max(a) {
                    let (first, second) = if self == SearchOrder::CenterOut {
                        (k, -k)
                    } else {
                        (-k, k)
                    };
                    for o in [first, second] {
                        if o >= -b && o <= a {
                            v.push(o);
                        }
                    }
                }
                v
            }
        }
    }
}

/// When the validator learns a credential's drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum DriftLearning {
    /// Never: the window stays centred on the server step.
    None,
    /// On every success, in whole steps: drift = matched step - server step (RFC 6238 s6,
    /// LinOTP, django-otp).
    Steps,
    /// On every success, in seconds: shift = start of matched step - now (privacyIDEA), so the
    /// stored shift carries a fraction of a step.
    Seconds,
    /// After `k` consistent out-of-window codes found within +-`search` steps, entered within
    /// two steps of each other (google-authenticator-libpam, k = 3, search = 1500).
    Consistent { k: u32, search: u32 },
    /// Only by an explicit sync procedure (FreeIPA).
    Explicit,
}

impl DriftLearning {
    pub const NAMES: &'static str = "none, steps, seconds, consistent, explicit";
}

/// What counts as a replayed code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Replay {
    None,
    /// A step already accepted is refused (recent steps are remembered).
    ExactSteps,
    /// A step at or before the last accepted one is refused (a watermark).
    TimeForward,
}

impl Replay {
    pub const NAMES: &'static str = "none, exact_steps, time_forward";

    pub fn parse(s: &str) -> Option<Replay> {
        match s {
            "none" => Some(Replay::None),
            "exact_steps" => Some(Replay::ExactSteps),
            "time_forward" => Some(Replay::TimeForward),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Lockout {
    pub max_failures: u32,
    /// None: locked until an administrator unlocks.
    pub unlock_after_s: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValidatorConfig {
    pub window_back: u32,
    pub window_ahead: u32,
    pub search: SearchOrder,
    pub drift: DriftLearning,
    pub replay: Replay,
    pub lockout: Option<Lockout>,
    /// Counter look-ahead for HOTP credentials (RFC 4226 s7.4).
    pub hotp_look_ahead: u32,
    /// The server clock's error: server time minus true time, seconds.
    pub server_offset_s: f64,
}

/// How a credential's codes are numbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Totp { step_s: u32, t0: i64 },
    Hotp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// No step in the window (or look-ahead) had this code.
    NoMatch,
    /// The matching step was refused by the replay rule.
    Replay,
    /// The credential is locked; nothing was compared.
    Locked,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Accepted => "accepted",
            Verdict::NoMatch => "no_match",
            Verdict::Replay => "replay",
            Verdict::Locked => "locked",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// The step (or counter) that matched, also for replays.
    pub matched: Option<i64>,
    /// Matched step minus the server's current step (TOTP).
    pub offset: Option<i64>,
    /// This attempt reached the failure limit and locked the credential.
    pub locked_now: bool,
    /// This attempt made the validator adopt a new drift outside the window.
    pub resynced: bool,
}

impl Decision {
    fn new(verdict: Verdict) -> Decision {
        Decision {
            verdict,
            matched: None,
            offset: None,
            locked_now: false,
            resynced: false,
        }
    }
}

const USED_KEPT: usize = 64;

/// What the validator remembers about one credential.
#[derive(Clone, Debug, Default)]
pub struct CredentialState {
    pub drift_steps: i64,
    pub shift_ms: i64,
    pub last_step: Option<i64>,
    used: VecDeque<i64>,
    pub failures: u32,
    pub locked_until: Option<Millis>,
    /// Out-of-window sightings (server step, skew) for consistent-skew learning.
    sightings: Vec<(i64, i64)>,
    /// HOTP: the next counter expected.
    pub hotp_next: i64,
}

impl CredentialState {
    pub fn is_locked(&self, now: Millis) -> bool {
        self.locked_until.is_some_and(|u| now < u)
    }
}

impl ValidatorConfig {
    fn server_ms(&self, now: Millis) -> Millis {
        now + (self.server_offset_s * 1000.0).round() as Millis
    }

    /// The server's own step at true time `now`.
    pub fn server_step(&self, now: Millis, step_s: u32, t0: i64) -> i64 {
        (self.server_ms(now) - t0 * 1000).div_euclid(step_s as i64 * 1000)
    }

    /// Decides one submitted code at true time `now`. `code_of` gives the credential's code for
    /// a step; it is called only for the steps searched, in order.
    pub fn verify(
        &self,
        st: &mut CredentialState,
        scheme: Scheme,
        now: Millis,
        code: u32,
        mut code_of: impl FnMut(i64) -> u32,
    ) -> Decision {
        if st.is_locked(now) {
            return Decision::new(Verdict::Locked);
        }
        let mut d = match scheme {
            Scheme::Hotp => self.verify_hotp(st, code, &mut code_of),
            Scheme::Totp { step_s, t0 } => {
                self.verify_totp(st, step_s, t0, now, code, &mut code_of)
            }
        };
        if d.verdict == Verdict::Accepted {
            st.failures = 0;
        } else {
            st.failures += 1;
            if let Some(l) = self.lockout {
                if st.failures >= l.max_failures {
                    d.locked_now = true;
                    st.failures = 0;
                    st.locked_until = Some(match l.unlock_after_s {
                        Some(s) => now + (s * 1000.0) as Millis,
                        None => Millis::MAX,
                    });
                }
            }
        }
        d
    }

    fn verify_hotp(
        &self,
        st: &mut CredentialState,
        code: u32,
        code_of: &mut impl FnMut(i64) -> u32,
    ) -> Decision {
        for c in st.hotp_next..=st.hotp_next + self.hotp_look_ahead as i64 {
            if code_of(c) == code {
                let offset = c - st.hotp_next;
                st.hotp_next = c + 1;
                st.last_step = Some(c);
                return Decision {
                    matched: Some(c),
                    offset: Some(offset),
                    ..Decision::new(Verdict::Accepted)
                };
            }
        }
        Decision::new(Verdict::NoMatch)
    }

    fn verify_totp(
        &self,
        st: &mut CredentialState,
        step_s: u32,
        t0: i64,
        now: Millis,
        code: u32,
        code_of: &mut impl FnMut(i64) -> u32,
    ) -> Decision {
        let step_ms = step_s as i64 * 1000;
        let server_ms = self.server_ms(now);
        let server_step = (server_ms - t0 * 1000).div_euclid(step_ms);
        let center = match self.drift {
            DriftLearning::Seconds => (server_ms + st.shift_ms - t0 * 1000).div_euclid(step_ms),
            _ => server_step + st.drift_steps,
        };
        let matched = SearchOrder::offsets(self.search, self.window_back, self.window_ahead)
            .into_iter()
            .map(|o| center + o)
            .find(|&s| code_of(s) == code);
        let Some(step) = matched else {
            return self.learn_from_miss(st, server_step, code, code_of);
        };
        let replayed = match self.replay {
            Replay::None => false,
            Replay::ExactSteps => st.used.contains(&step),
            Replay::TimeForward => st.last_step.is_some_and(|l| step <= l),
        };
        let offset = Some(step - server_step);
        if replayed {
            return Decision {
                matched: Some(step),
                offset,
                ..Decision::new(Verdict::Replay)
            };
        }
        self.accept(st, step, server_step, server_ms, step_ms, t0);
        Decision {
            matched: Some(step),
            offset,
            ..Decision::new(Verdict::Accepted)
        }
    }

    fn accept(
        &self,
        st: &mut CredentialState,
        step: i64,
        server_step: i64,
        server_ms: Millis,
        step_ms: i64,
        t0: i64,
    ) {
        st.last_step = Some(st.last_step.map_or(step, |l| l.max(step)));
        if st.used.len() == USED_KEPT {
            st.used.pop_front();
        }
        st.used.push_back(step);
        match self.drift {
            DriftLearning::Steps => st.drift_steps = step - server_step,
            DriftLearning::Seconds => st.shift_ms = step * step_ms + t0 * 1000 - server_ms,
            DriftLearning::None | DriftLearning::Consistent { .. } | DriftLearning::Explicit => {}
        }
    }

    /// google-authenticator-libpam's skew reset: a miss whose code matches within +-search steps
    /// of the server step is remembered; `k` such sightings at steps no more than two apart with
    /// skews within one step set the stored skew to their (truncated) mean and accept the code.
    fn learn_from_miss(
        &self,
        st: &mut CredentialState,
        server_step: i64,
        code: u32,
        code_of: &mut impl FnMut(i64) -> u32,
    ) -> Decision {
        let DriftLearning::Consistent { k, search } = self.drift else {
            return Decision::new(Verdict::NoMatch);
        };
        // Like libpam, scan the whole range and keep the nearest match, past first.
        let mut skew = None;
        for i in 0..search as i64 {
            if skew.is_none() && code_of(server_step - i) == code {
                skew = Some(-i);
            }
            if skew.is_none() && code_of(server_step + i) == code {
                skew = Some(i);
            }
        }
        let Some(skew) = skew else {
            return Decision::new(Verdict::NoMatch);
        };
        if st
            .sightings
            .last()
            .is_some_and(|&(t, s)| t + s == server_step + skew)
        {
            return Decision::new(Verdict::NoMatch);
        }
        if st.sightings.len() == k as usize {
            st.sightings.remove(0);
        }
        st.sightings.push((server_step, skew));
        if st.sightings.len() < k as usize {
            return Decision::new(Verdict::NoMatch);
        }
        let consistent = st
            .sightings
            .windows(2)
            .all(|w| w[1].0 > w[0].0 && w[1].0 <= w[0].0 + 2 && (w[0].1 - skew).abs() <= 1);
        if !consistent {
            return Decision::new(Verdict::NoMatch);
        }
        let sum: i64 = st.sightings.iter().map(|s| s.1).sum();
        st.drift_steps = sum / k as i64;
        st.sightings.clear();
        let step = server_step + skew;
        st.last_step = Some(st.last_step.map_or(step, |l| l.max(step)));
        Decision {
            matched: Some(step),
            offset: Some(skew),
            resynced: true,
            ..Decision::new(Verdict::Accepted)
        }
    }
}

#[cfg(test)]
mod tests;
