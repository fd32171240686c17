//! The validator: window and search order, drift learning, replay rule and lockout, deciding
//! each submitted code against per-credential state with the server's own clock.
//!
//! Codes are compared for real: the caller supplies the credential's code for any step, and the
//! window is searched in the configured order, so which step a chance collision matches depends
//! on the order exactly as it does in the systems modelled (DOMAIN.md's table).

use crate::time::Millis;
use std::collections::VecDeque;
use std::fmt;

pub use crate::otp::NO_CODE;

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
    /// A near miss: the validator asks for the next code (RSA next-tokencode).
    NextCodeRequired,
    /// Far off but within the manual-sync band: the user must run the sync procedure (VIP
    /// error 4923).
    SyncRequired,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Accepted => "accepted",
            Verdict::NoMatch => "no_match",
            Verdict::Replay => "replay",
            Verdict::Locked => "locked",
            Verdict::NextCodeRequired => "next_code_required",
            Verdict::SyncRequired => "sync_required",
        })
    }
}

/// What resynchronised the validator on an accepted code, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resync {
    /// k consistent out-of-window codes (google-authenticator-libpam).
    ConsistentSkew,
    /// Two consecutive out-of-window codes (privacyIDEA, LinOTP autoresync).
    Auto,
    /// The next code after a near miss (RSA).
    NextCode,
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
    pub resynced: Option<Resync>,
}

impl Decision {
    fn new(verdict: Verdict) -> Decision {
        Decision {
            verdict,
            matched: None,
            offset: None,
            locked_now: false,
            resynced: None,
        }
    }

    fn at(verdict: Verdict, step: i64, offset: i64) -> Decision {
        Decision {
            matched: Some(step),
            offset: Some(offset),
            ..Decision::new(verdict)
        }
    }
}

/// Why an explicit sync failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncFailure {
    /// The validator has no sync procedure.
    Unsupported,
    /// A code was not found within the sync window.
    OutsideWindow,
    /// Each code was found, but not at consecutive steps.
    NotConsecutive,
    /// The codes were found but refused by the replay rule.
    Replay,
    Locked,
}

impl SyncFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncFailure::Unsupported => "unsupported",
            SyncFailure::OutsideWindow => "outside_window",
            SyncFailure::NotConsecutive => "not_consecutive",
            SyncFailure::Replay => "replay",
            SyncFailure::Locked => "locked",
        }
    }
}

const USED_KEPT: usize = 64;

/// What the validator remembers about one credential.
#[derive(Debug, Default)]
pub struct CredentialState {
    pub drift_steps: i64,
    pub shift_ms: i64,
    pub last_step: Option<i64>,
    used: VecDeque<i64>,
    /// The last accepted code (for the last-code replay rule).
    last_code: Option<u32>,
    pub failures: u32,
    /// When the last counted failure happened (for throttling).
    last_failure: Millis,
    /// Recent attempt times (rate limit).
    recent: VecDeque<Millis>,
    /// Refused without comparing until then (brute-force detection).
    blocked_until: Millis,
    pub locked_until: Option<Millis>,
    /// Out-of-window sightings (server step, skew) for consistent-skew learning.
    sightings: Vec<(i64, i64)>,
    /// A first out-of-window code seen by automatic resync: (step, when).
    pending_auto: Option<(i64, Millis)>,
    /// In next-code mode: the near-miss step the next code must follow.
    next_code_after: Option<i64>,
    /// Last success, or when the credential was enrolled.
    pub last_success: Millis,
    /// HOTP: the next counter expected.
    pub hotp_next: i64,
}

/// By hand for `clone_from`, which keeps the copy's buffers: a cluster copies rows between
/// nodes at every request. Destructured, so a field added fails to compile until copied.
impl Clone for CredentialState {
    fn clone(&self) -> CredentialState {
        let mut c = CredentialState::default();
        c.clone_from(self);
        c
    }

    fn clone_from(&mut self, source: &CredentialState) {
        let CredentialState {
            drift_steps,
            shift_ms,
            last_step,
            used,
            last_code,
            failures,
            last_failure,
            recent,
            blocked_until,
            locked_until,
            sightings,
            pending_auto,
            next_code_after,
            last_success,
            hotp_next,
        } = source;
        self.drift_steps = *drift_steps;
        self.shift_ms = *shift_ms;
        self.last_step = *last_step;
        if !(self.used.is_empty() && used.is_empty()) {
            self.used.clone_from(used);
        }
        self.last_code = *last_code;
        self.failures = *failures;
        self.last_failure = *last_failure;
        if !(self.recent.is_empty() && recent.is_empty()) {
            self.recent.clone_from(recent);
        }
        self.blocked_until = *blocked_until;
        self.locked_until = *locked_until;
        if !(self.sightings.is_empty() && sightings.is_empty()) {
            self.sightings.clone_from(sightings);
        }
        self.pending_auto = *pending_auto;
        self.next_code_after = *next_code_after;
        self.last_success = *last_success;
        self.hotp_next = *hotp_next;
    }
}

impl CredentialState {
    /// The drift learned, in steps: whole steps, or a shift in seconds over the step for
    /// validators that learn seconds (privacyIDEA); None for HOTP.
    pub fn learned_steps(&self, scheme: Scheme, drift: DriftLearning) -> Option<f64> {
        match (scheme, drift) {
            (Scheme::Totp { step_s, .. }, DriftLearning::Seconds) => {
                Some(self.shift_ms as f64 / (step_s as f64 * 1000.0))
            }
            (Scheme::Totp { .. }, _) => Some(self.drift_steps as f64),
            (Scheme::Hotp, _) => None,
        }
    }

    /// A credential enrolled at `now`.
    pub fn enrolled(now: Millis) -> CredentialState {
        CredentialState {
            last_success: now,
            ..CredentialState::default()
        }
    }

    pub fn is_locked(&self, now: Millis) -> bool {
        self.locked_until.is_some_and(|u| now < u)
    }

    /// Learned drift and replay memory forgotten (an administrator's reset); failures and
    /// locks stay.
    pub fn forget_drift(&mut self) {
        self.drift_steps = 0;
        self.shift_ms = 0;
        self.last_step = None;
        self.used.clear();
        self.last_code = None;
        self.sightings.clear();
        self.pending_auto = None;
        self.next_code_after = None;
    }

    /// An administrator clears the lock.
    pub fn unlock(&mut self) {
        self.locked_until = None;
        self.failures = 0;
    }
}

impl ValidatorConfig {
    fn server_ms(&self, now: Millis) -> Millis {
        now + crate::time::ms_of_s(self.server_offset_s)
    }

    /// How far (seconds) a device clock can be off before a window of `steps` steps on that
    /// side refuses more than half of its codes: (steps + ½) steps, with no drift learned. A
    /// code read at a uniformly random moment of its step lands in the window with probability
    /// steps + 1 - |offset| / step, which is ½ there.
    pub fn window_edge_s(steps: u32, step_s: u32) -> f64 {
        (steps as f64 + 0.5) * step_s as f64
    }

    /// How long a code stays acceptable with no drift learned: (back + ahead + 1) steps, or
    /// one step plus the tolerance both ways (a step is open while some instant of
    /// [now - past, now + future] is in it).
    pub fn acceptance_lifetime_s(&self, step_s: u32) -> f64 {
        match self.tolerance {
            Some(t) => step_s as f64 + t.past_s + t.future_s,
            None => self.open_steps(step_s) * step_s as f64,
        }
    }

    /// Steps open at a time, on average over where in its step the attempt lands.
    pub fn open_steps(&self, step_s: u32) -> f64 {
        match self.tolerance {
            Some(t) => (t.past_s + t.future_s) / step_s as f64 + 1.0,
            None => (self.window_back + self.window_ahead + 1) as f64,
        }
    }

    /// How far (seconds) a device clock can be behind and ahead before most of its codes are
    /// refused, with no drift learned: [`Self::window_edge_s`] of each side, or the tolerance
    /// plus half a step.
    pub fn edges_s(&self, step_s: u32) -> (f64, f64) {
        match self.tolerance {
            Some(t) => (
                t.past_s + step_s as f64 / 2.0,
                t.future_s + step_s as f64 / 2.0,
            ),
            None => (
                Self::window_edge_s(self.window_back, step_s),
                Self::window_edge_s(self.window_ahead, step_s),
            ),
        }
    }

    /// Whether the replay rule refuses `step` (the last-code rule is decided in the search).
    fn refused(&self, st: &CredentialState, step: i64) -> bool {
        match self.replay {
            Replay::None | Replay::LastCode => false,
            Replay::ExactSteps => st.used.contains(&step),
            Replay::TimeForward => st.last_step.is_some_and(|l| step <= l),
        }
    }

    /// pam_oath's rule: the last accepted code again, or a step at or before where the last
    /// code is found in the current window (searched in the window's order).
    fn refused_as_last_code(
        &self,
        st: &CredentialState,
        (center, back, ahead): (i64, u32, u32),
        step: i64,
        code: u32,
        code_of: &mut impl FnMut(i64) -> u32,
    ) -> bool {
        let Some(last) = st.last_code else {
            return false;
        };
        if last == code {
            return true;
        }
        self.search
            .visit(back, ahead, |o| code_of(center + o) == last)
            .is_some_and(|o| center + o >= step)
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
        let mut code_of = |s: i64| if s < 0 { NO_CODE } else { code_of(s) };
        if let Some(r) = self.rate_limit {
            st.recent.push_back(now);
            let per = (r.per_s * 1000.0) as Millis;
            let within = st.recent.iter().filter(|t| now - **t <= per).count();
            while st.recent.len() > r.attempts as usize {
                st.recent.pop_front();
            }
            if within > r.attempts as usize {
                return Decision::new(Verdict::Locked);
            }
        }
        if let Some(t) = self.throttle {
            let wait = t.factor_s * 2f64.powi(st.failures as i32 - 1) * 1000.0;
            if st.failures > 0 && ((now - st.last_failure) as f64) < wait {
                return Decision::new(Verdict::Locked);
            }
        }
        if let Some(d) = self.delay {
            if st.failures >= d.after && ((now - st.last_failure) as f64) < d.wait_s * 1000.0 {
                return Decision::new(Verdict::Locked);
            }
        }
        if self.brute_force.is_some() && now < st.blocked_until {
            return Decision::new(Verdict::Locked);
        }
        let mut d = match scheme {
            _ if code == NO_CODE => Decision::new(Verdict::NoMatch),
            Scheme::Hotp => self.verify_hotp(st, code, &mut code_of),
            Scheme::Totp { step_s, t0 } => {
                self.verify_totp(st, step_s, t0, now, code, &mut code_of)
            }
        };
        match d.verdict {
            Verdict::Accepted => {
                st.failures = 0;
                st.last_success = now;
            }
            // A next-code challenge is not a failure yet.
            Verdict::NextCodeRequired => {}
            _ => {
                let stale = self
                    .lockout
                    .and_then(|l| l.failure_interval_s)
                    .is_some_and(|i| {
                        st.failures > 0 && (now - st.last_failure) as f64 >= i * 1000.0
                    });
                let forgotten = self.brute_force.is_some_and(|b| {
                    st.failures > 0 && (now - st.last_failure) as f64 > b.reset_after_s * 1000.0
                });
                if stale || forgotten {
                    st.failures = 0;
                }
                let previous = st.last_failure;
                st.failures += 1;
                st.last_failure = now;
                if let Some(b) = self.brute_force {
                    let n = st.failures;
                    let wait = if n >= b.failures {
                        (b.wait_increment_s * (n / b.failures) as f64).min(b.max_wait_s)
                    } else if n > 1 && ((now - previous) as f64) < b.quick_login_s * 1000.0 {
                        b.min_quick_wait_s
                    } else {
                        0.0
                    };
                    st.blocked_until = now + (wait * 1000.0) as Millis;
                }
                if let Some(l) = self.lockout {
                    if st.failures >= l.max_failures {
                        d.locked_now = true;
                        st.failures = 0;
                        st.next_code_after = None;
                        st.locked_until = Some(match l.unlock_after_s {
                            Some(s) => now + (s * 1000.0) as Millis,
                            None => Millis::MAX,
                        });
                    }
                }
            }
        }
        d
    }

    /// No guard before the comparison (rate limit, throttle, delay, brute-force block) and a
    /// window of fixed width (no idle widening, no tolerance in seconds): every TOTP code is
    /// either accepted as [`ValidatorConfig::verify_plain`] accepts it or left to `verify`.
    pub fn decides_plainly(&self) -> bool {
        self.rate_limit.is_none()
            && self.throttle.is_none()
            && self.delay.is_none()
            && self.brute_force.is_none()
            && self.idle_widening.is_none()
            && self.tolerance.is_none()
    }

    /// [`ValidatorConfig::verify`] of a TOTP code that is accepted plainly: found in the window
    /// and not refused, with no lock, challenge, resync or first-use widening in the way.
    /// Returns the matched step with the state changed exactly as `verify` changes it, or None
    /// with the state unchanged (the caller then verifies the code the general way). `shown`
    /// is the step whose code the caller has computed (the one the token showed): when it lies
    /// outside the window (its code can then match only by chance) this declines before
    /// computing any code, so that every code computed here lies within one window of `shown`,
    /// a span shorter than a code cache: the cache ends in the state, and counts the HMACs,
    /// that `verify` alone gives. The common path of a simulated login; only for a
    /// configuration that [`decides_plainly`](ValidatorConfig::decides_plainly).
    pub fn verify_plain(
        &self,
        st: &mut CredentialState,
        (step_s, t0): (u32, i64),
        now: Millis,
        (code, shown): (u32, i64),
        mut code_of: impl FnMut(i64) -> u32,
    ) -> Option<i64> {
        debug_assert!(self.decides_plainly());
        let challenge = self.next_code.and_then(|n| n.require_after);
        if code == NO_CODE
            || st.is_locked(now)
            || st.next_code_after.is_some()
            || (self.initial_window.is_some() && st.last_step.is_none())
            || challenge.is_some_and(|n| st.failures >= n)
        {
            return None;
        }
        let (server_ms, server_step, center) = self.clock_steps(st, (step_s, t0), now);
        let (back, ahead) = (self.window_back, self.window_ahead);
        if shown < center - back as i64 || shown > center + ahead as i64 {
            return None;
        }
        let mut code_of = |s: i64| if s < 0 { NO_CODE } else { code_of(s) };
        let skip = self.skip_refused;
        let o = self.search.visit(back, ahead, |o| {
            !(skip && self.refused(st, center + o)) && code_of(center + o) == code
        })?;
        let step = center + o;
        let last_code = self.replay == Replay::LastCode
            && self.refused_as_last_code(st, (center, back, ahead), step, code, &mut code_of);
        if last_code || self.refused(st, step) {
            return None;
        }
        self.accept(st, step, server_step, server_ms, step_s as i64 * 1000, t0);
        st.last_code = Some(code);
        st.failures = 0;
        st.last_success = now;
        Some(step)
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
                return Decision::at(Verdict::Accepted, c, offset);
            }
        }
        Decision::new(Verdict::NoMatch)
    }

    /// The server's step at true time `now` and the step the window centres on for `st`
    /// (TOTP; None for HOTP, which reads no clock). Every rule reads the server clock only
    /// through these two (true time paces locks and throttles), so two configurations that
    /// differ only in `server_offset_s` and agree on both decide alike on one state.
    pub fn steps_at(
        &self,
        st: &CredentialState,
        scheme: Scheme,
        now: Millis,
    ) -> Option<(i64, i64)> {
        let Scheme::Totp { step_s, t0 } = scheme else {
            return None;
        };
        let (_, server_step, centre) = self.clock_steps(st, (step_s, t0), now);
        Some((server_step, centre))
    }

    /// The server's time (ms) at true time `now`, its step, and the step the window centres
    /// on: the learned drift in steps, or the learned shift in seconds (privacyIDEA).
    pub(super) fn clock_steps(
        &self,
        st: &CredentialState,
        (step_s, t0): (u32, i64),
        now: Millis,
    ) -> (Millis, i64, i64) {
        let step_ms = step_s as i64 * 1000;
        let server_ms = self.server_ms(now);
        let server_step = crate::otp::div_step(server_ms - t0 * 1000, step_ms);
        let centre = match self.drift {
            DriftLearning::Seconds => (server_ms + st.shift_ms - t0 * 1000).div_euclid(step_ms),
            _ => server_step + st.drift_steps,
        };
        (server_ms, server_step, centre)
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
        let (server_ms, server_step, center) = self.clock_steps(st, (step_s, t0), now);
        if let Some(after) = st.next_code_after.take() {
            // Next-tokencode mode: only the code following the near miss will do.
            for s in [after + 1, after + 2] {
                if code_of(s) == code && !self.refused(st, s) {
                    let at = (server_step, server_ms, step_ms, t0);
                    return self.resync_to(st, s, at, Resync::NextCode);
                }
            }
            return Decision::new(Verdict::NoMatch);
        }
        let extra = self.idle_widening.map_or(0, |w| {
            let days = (now - st.last_success).max(0) as f64 / 86_400_000.0;
            ((days * w.steps_per_day).floor() as u32).min(w.max_extra)
        });
        let (mut back, mut ahead) = match self.tolerance {
            None => (self.window_back, self.window_ahead),
            Some(t) => {
                let (lo, hi) = t.steps(server_ms, step_s, t0);
                let drift = center - server_step;
                ((center - lo - drift) as u32, (hi + drift - center) as u32)
            }
        };
        (back, ahead) = (back + extra, ahead + extra);
        if let (Some(iw), None) = (self.initial_window, st.last_step) {
            (back, ahead) = (back.max(iw), ahead.max(iw));
        }
        let skip = self.skip_refused;
        let found = self.search.visit(back, ahead, |o| {
            !(skip && self.refused(st, center + o)) && code_of(center + o) == code
        });
        let Some(o) = found else {
            return self.learn_from_miss(
                st,
                (center, server_step, server_ms, step_ms, t0),
                now,
                code,
                code_of,
            );
        };
        let step = center + o;
        let last_code = self.replay == Replay::LastCode
            && self.refused_as_last_code(st, (center, back, ahead), step, code, code_of);
        if last_code || self.refused(st, step) {
            return Decision::at(Verdict::Replay, step, step - server_step);
        }
        if let Some(n) = self.next_code.and_then(|n| n.require_after) {
            if st.failures >= n {
                st.next_code_after = Some(step);
                return Decision::at(Verdict::NextCodeRequired, step, step - server_step);
            }
        }
        self.accept(st, step, server_step, server_ms, step_ms, t0);
        st.last_code = Some(code);
        Decision::at(Verdict::Accepted, step, step - server_step)
    }

    #[inline]
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
        // Only the exact-step rule reads the used steps. Those far from this one can no longer
        // be in a window with it (libpam prunes its DISALLOW_REUSE list the same way).
        if self.replay == Replay::ExactSteps {
            let span = (self.window_back + self.window_ahead + 1) as i64;
            st.used.retain(|b| (b - step).abs() < span);
            if st.used.len() == USED_KEPT {
                st.used.pop_front();
            }
            st.used.push_back(step);
        }
        if self
            .auto_resync
            .is_none_or(|a| a.style != AutoStyle::Privacyidea)
        {
            st.pending_auto = None;
        }
        match self.drift {
            DriftLearning::Steps => st.drift_steps = step - server_step,
            // privacyIDEA: matched step's start minus the whole seconds of now.
            DriftLearning::Seconds => {
                st.shift_ms = step * step_ms + t0 * 1000 - server_ms.div_euclid(1000) * 1000
            }
            DriftLearning::None | DriftLearning::Consistent { .. } | DriftLearning::Explicit => {}
        }
    }

    /// Accepts step `s` found outside the window and adopts it as the drift (a seconds shift
    /// is set by `accept` itself).
    fn resync_to(
        &self,
        st: &mut CredentialState,
        s: i64,
        (server_step, server_ms, step_ms, t0): (i64, Millis, i64, i64),
        how: Resync,
    ) -> Decision {
        self.accept(st, s, server_step, server_ms, step_ms, t0);
        if self.drift != DriftLearning::Seconds {
            st.drift_steps = s - server_step;
        }
        Decision {
            resynced: Some(how),
            ..Decision::at(Verdict::Accepted, s, s - server_step)
        }
    }

    /// The nearest step within ±`window` of `around` whose code is `code`, past first.
    fn nearest(
        window: u32,
        around: i64,
        code: u32,
        code_of: &mut impl FnMut(i64) -> u32,
    ) -> Option<i64> {
        (0..=window as i64).find_map(|i| {
            if code_of(around - i) == code {
                Some(around - i)
            } else if i > 0 && code_of(around + i) == code {
                Some(around + i)
            } else {
                None
            }
        })
    }

    /// What an out-of-window code can still do: start or finish an automatic resync, trigger a
    /// next-code challenge, or count towards a consistent skew.
    fn learn_from_miss(
        &self,
        st: &mut CredentialState,
        (center, server_step, server_ms, step_ms, t0): (i64, i64, Millis, i64, i64),
        now: Millis,
        code: u32,
        code_of: &mut impl FnMut(i64) -> u32,
    ) -> Decision {
        if let Some(a) = self
            .auto_resync
            .filter(|a| a.style == AutoStyle::Privacyidea)
        {
            let lo = center + self.window_back as i64 - a.window as i64;
            if let Some(s) = (lo..lo + 2 * a.window as i64).find(|s| code_of(*s) == code) {
                match st.pending_auto.take() {
                    None => st.pending_auto = Some((s, now)),
                    Some((p, _)) if p + 1 == s && st.last_step.is_none_or(|l| s > l) => {
                        self.accept(st, s, server_step, server_ms, step_ms, t0);
                        return Decision {
                            resynced: Some(Resync::Auto),
                            ..Decision::at(Verdict::Accepted, s, s - server_step)
                        };
                    }
                    Some(_) => {}
                }
            }
        } else if let Some(a) = self.auto_resync {
            if let Some(s) = Self::nearest(a.window, server_step, code, code_of) {
                let follows = st.pending_auto.is_some_and(|(p, t)| {
                    s > p && s <= p + a.max_gap as i64 && (now - t) as f64 <= a.timeout_s * 1000.0
                });
                if follows && !self.refused(st, s) {
                    let at = (server_step, server_ms, step_ms, t0);
                    return self.resync_to(st, s, at, Resync::Auto);
                }
                st.pending_auto = Some((s, now));
            }
        }
        if let Some(w) = self.auto_sync {
            if let Some(s) = Self::nearest(w, server_step + st.drift_steps, code, code_of) {
                if !self.refused(st, s) {
                    let at = (server_step, server_ms, step_ms, t0);
                    return self.resync_to(st, s, at, Resync::Auto);
                }
            }
        }
        if let Some(w) = self.sync_band {
            if let Some(s) = Self::nearest(w, server_step + st.drift_steps, code, code_of) {
                return Decision::at(Verdict::SyncRequired, s, s - server_step);
            }
        }
        if let Some(n) = self.next_code {
            let window = if st.failures >= n.wide_after {
                n.wide_window
            } else {
                n.window
            };
            if let Some(s) = Self::nearest(window, server_step + st.drift_steps, code, code_of) {
                if !self.refused(st, s) {
                    st.next_code_after = Some(s);
                    return Decision::at(Verdict::NextCodeRequired, s, s - server_step);
                }
            }
        }
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
            resynced: Some(Resync::ConsistentSkew),
            ..Decision::at(Verdict::Accepted, step, skew)
        }
    }
}

mod config;
pub mod presets;
pub mod schedule;
mod sync;

pub use config::*;

#[cfg(test)]
mod tests;
