//! A validator's configuration: window and search order, drift learning, replay rule,
//! lockout and throttles, the sync procedures and their bands, as the presets and scenarios
//! set them.

use serde::Serialize;

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
        let mut v = Vec::new();
        self.visit(back, ahead, |o| {
            v.push(o);
            false
        });
        v
    }

    /// Calls `f` with each window offset in search order until it returns true; returns the
    /// offset it stopped at. Allocates nothing: this runs for every submitted code.
    pub fn visit(self, back: u32, ahead: u32, mut f: impl FnMut(i64) -> bool) -> Option<i64> {
        let (b, a) = (back as i64, ahead as i64);
        if self == SearchOrder::OldestFirst {
            return (-b..=a).find(|&o| f(o));
        }
        if f(0) {
            return Some(0);
        }
        for k in 1..=b.max(a) {
            let (first, second) = if self == SearchOrder::CenterOut {
                (k, -k)
            } else {
                (-k, k)
            };
            for o in [first, second] {
                if o >= -b && o <= a && f(o) {
                    return Some(o);
                }
            }
        }
        None
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
    /// Only the last accepted code is remembered (pam_oath): the same code is refused, and so
    /// is any code at or before the step where the last code is found again in the window.
    LastCode,
}

impl Replay {
    pub const NAMES: &'static str = "none, exact_steps, time_forward, last_code";

    pub fn parse(s: &str) -> Option<Replay> {
        match s {
            "none" => Some(Replay::None),
            "exact_steps" => Some(Replay::ExactSteps),
            "time_forward" => Some(Replay::TimeForward),
            "last_code" => Some(Replay::LastCode),
            _ => None,
        }
    }
}

/// django-otp's throttling: after the n-th failure in a row, attempts within
/// `factor_s`·2^(n-1) seconds of it are refused without being compared or counted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Throttle {
    pub factor_s: f64,
}

/// multiOTP's delay: once `after` failures are counted in a row, attempts within `wait_s` of
/// the last failure are refused without being compared or counted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Delay {
    pub after: u32,
    pub wait_s: f64,
}

/// google-authenticator-libpam's `RATE_LIMIT n m`: every attempt is recorded before the code
/// is read; with more than `attempts` of them in the last `per_s` seconds the attempt is refused
/// without checking the code. The newest `attempts` are kept, refused ones included.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RateLimit {
    pub attempts: u32,
    pub per_s: f64,
}

/// Keycloak's brute-force detection (off by default): after `failures` failures the user waits
/// `wait_increment_s` for each `failures` of them, at most `max_wait_s`; a failure within
/// `quick_login_s` of the previous one (below `failures`) waits `min_quick_wait_s`; the count
/// is forgotten after `reset_after_s` without failures, and on success. Waiting attempts are
/// refused without being compared or counted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BruteForce {
    pub failures: u32,
    pub wait_increment_s: f64,
    pub max_wait_s: f64,
    pub quick_login_s: f64,
    pub min_quick_wait_s: f64,
    pub reset_after_s: f64,
}

/// How an explicit sync finds its codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncSearch {
    /// The run of consecutive steps nearest the server step, centre-out.
    Nearest,
    /// privacyIDEA and LinOTP: each code is searched on its own, oldest first, over the sync
    /// window around the current centre (the first code one step earlier), and the two
    /// matches must be consecutive. The sync neither needs nor clears the failure count, and
    /// the replay guard admits the last used step as the first code.
    Separate,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Lockout {
    pub max_failures: u32,
    /// None: locked until an administrator unlocks.
    pub unlock_after_s: Option<f64>,
    /// Failures count towards the lock only while each follows the previous one within this
    /// interval (FreeIPA's password policy: 60 s); None: they count until a success.
    pub failure_interval_s: Option<f64>,
}

/// An explicit sync procedure: `codes` consecutive codes found within ±`window` steps of the
/// server step (FreeIPA `otptoken-sync`, privacyIDEA resync, VIP manual sync / "Test" page).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SyncProcedure {
    pub codes: u32,
    pub window: u32,
    pub search: SyncSearch,
    /// privacyIDEA stores the step after the last code as used, so that step is refused too.
    pub refuse_next: bool,
    /// FreeIPA centres the window one step beyond the last code (otp_token.c).
    pub centre_beyond: bool,
}

/// Automatic resync from two out-of-window codes (privacyIDEA autoresync, LinOTP): the second
/// code's step must follow the first's by 1..=`max_gap` steps, both within ±`window` steps,
/// entered within `timeout_s` of each other. The second code is then accepted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AutoResync {
    pub window: u32,
    pub max_gap: u32,
    pub timeout_s: f64,
    pub style: AutoStyle,
}

/// How the automatic resync searches and remembers its first code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoStyle {
    /// The nearest match around the server step; a later code 1..=`max_gap` steps after the
    /// remembered one, within the timeout, resyncs.
    Nearest,
    /// privacyIDEA `_autosync`: oldest first over the sync window around the centre plus the
    /// window's back steps (HmacOtp leaves its counter there after the failed search); the
    /// first code is remembered with no replay check; a second found code succeeds only at
    /// exactly the next step and after the last used one, and clears the memory either way; no
    /// time limit; a normal success does not clear it.
    Privacyidea,
}

/// RSA's next-tokencode mode: a code within ±`window` steps but outside the normal window is
/// not refused outright; the user is asked for the next code, which must be the following step
/// (or the one after, to allow for the delay).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NextCode {
    pub window: u32,
    /// After this many failures in a row the next-code band widens to `wide_window` (RSA:
    /// ±3 intervals, ±10 after 3 failures).
    pub wide_after: u32,
    pub wide_window: u32,
    /// RSA's optional policy: after this many incorrect passcodes in a row even a correct code
    /// is answered with a next-tokencode challenge.
    pub require_after: Option<u32>,
}

/// How a typed code (a string in a replayed log) becomes a number. The simulation types only
/// digits, so only `replay` reads this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeSyntax {
    /// Surrounding whitespace ignored, then exactly `digits` ASCII digits.
    Trimmed,
    /// Exactly `digits` ASCII digits, nothing else (otplib 13's `validateToken`).
    Strict,
    /// speakeasy 2: the string must be `digits` characters long, then JavaScript's
    /// `parseInt(token, 10)` reads it (leading whitespace and a sign allowed, reading stops at
    /// the first non-digit), and the number is compared with the code's.
    ParseInt,
    /// Every character but the ASCII digits removed, then exactly `digits` digits (Nextcloud's
    /// `preg_replace('/[^0-9]/', '', $challenge)`).
    DigitsOnly,
}

impl CodeSyntax {
    pub const NAMES: &'static str = "trimmed, strict, parse_int, digits_only";

    pub fn parse(s: &str) -> Option<CodeSyntax> {
        match s {
            "trimmed" => Some(CodeSyntax::Trimmed),
            "strict" => Some(CodeSyntax::Strict),
            "parse_int" => Some(CodeSyntax::ParseInt),
            "digits_only" => Some(CodeSyntax::DigitsOnly),
            _ => None,
        }
    }
}

/// otplib 13's `epochTolerance`: a window in seconds, not steps. Every step that some instant
/// of [now - past, now + future] falls in is open (now in the server's whole seconds, as
/// otplib's default epoch `Math.floor(Date.now() / 1000)`), so how many steps are open depends
/// on where in its step the attempt lands. Replaces `window_back`/`window_ahead` when set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Tolerance {
    pub past_s: f64,
    pub future_s: f64,
}

impl Tolerance {
    /// The first and last step open at true time `server_ms` (server clock, ms).
    pub fn steps(self, server_ms: i64, step_s: u32, t0: i64) -> (i64, i64) {
        let step_ms = step_s as i64 * 1000;
        let whole = server_ms.div_euclid(1000) * 1000 - t0 * 1000;
        let ms = |s: f64| (s * 1000.0).round() as i64;
        (
            (whole - ms(self.past_s)).div_euclid(step_ms),
            (whole + ms(self.future_s)).div_euclid(step_ms),
        )
    }
}

/// OneSpan-style widening: the window grows by `steps_per_day` for each day since the last
/// success, by at most `max_extra` steps each side.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct IdleWidening {
    pub steps_per_day: f64,
    pub max_extra: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValidatorConfig {
    /// The preset this configuration started from, if any.
    pub preset: Option<String>,
    pub window_back: u32,
    pub window_ahead: u32,
    pub search: SearchOrder,
    pub drift: DriftLearning,
    pub replay: Replay,
    /// Steps the replay rule refuses are skipped while searching (django-otp's `min_t`)
    /// instead of ending the search as a replay.
    pub skip_refused: bool,
    pub lockout: Option<Lockout>,
    pub throttle: Option<Throttle>,
    pub delay: Option<Delay>,
    pub rate_limit: Option<RateLimit>,
    pub brute_force: Option<BruteForce>,
    pub sync: Option<SyncProcedure>,
    pub auto_resync: Option<AutoResync>,
    pub next_code: Option<NextCode>,
    pub idle_widening: Option<IdleWidening>,
    /// A window in seconds (otplib 13); replaces the window in steps when set.
    pub tolerance: Option<Tolerance>,
    /// VIP's auto-sync band: a code within ±this many steps (beyond the validation window) is
    /// accepted and the validator re-synced to it.
    pub auto_sync: Option<u32>,
    /// VIP's manual-sync band: a code within ±this many steps (beyond the auto-sync band) is
    /// refused with a request for the sync procedure (error 4923).
    pub sync_band: Option<u32>,
    /// OneSpan's initial window: ±this many steps until the credential's first success.
    pub initial_window: Option<u32>,
    /// Typed codes are compared as numbers, not as strings of the code's length: django-otp
    /// reads `int(token)`, so "04134" matches 004134. Only replayed logs carry such codes.
    pub numeric_codes: bool,
    /// How a replayed log's typed string is read (see [`CodeSyntax`]).
    pub code_syntax: CodeSyntax,
    /// Secrets (bytes) the validator takes; others refuse every code (otplib 13: 16-64).
    /// Read by `replay`; simulated secrets are the population's.
    pub secret_bytes: Option<(u32, u32)>,
    /// Counter look-ahead for HOTP credentials (RFC 4226 s7.4).
    pub hotp_look_ahead: u32,
    /// The server clock's error: server time minus true time, seconds.
    pub server_offset_s: f64,
}

impl ValidatorConfig {
    /// The most steps either side of its centre any one search of this validator reads (the
    /// window, its widenings, the resync, sync and skew scans): what a token's code cache must
    /// hold for repeated scans within a login, and between a day's logins, to cost no HMAC.
    pub fn widest_scan(&self) -> u32 {
        let mut w = self.window_back.max(self.window_ahead);
        let mut wider = |x: u32| w = w.max(x);
        if let Some(s) = &self.sync {
            wider(s.window);
        }
        if let Some(a) = &self.auto_resync {
            wider(a.window + self.window_back);
        }
        if let Some(n) = &self.next_code {
            wider(n.window.max(n.wide_window));
        }
        if let Some(i) = &self.idle_widening {
            wider(self.window_back.max(self.window_ahead) + i.max_extra);
        }
        for x in [self.auto_sync, self.sync_band, self.initial_window]
            .into_iter()
            .flatten()
        {
            wider(x);
        }
        if let Some(t) = &self.tolerance {
            // In 30 s steps; shorter steps only miss the code cache (a code costs its HMAC).
            wider((t.past_s.max(t.future_s) / 30.0).ceil() as u32 + 1);
        }
        if let DriftLearning::Consistent { search, .. } = self.drift {
            wider(search);
        }
        wider(self.hotp_look_ahead);
        w
    }
}
