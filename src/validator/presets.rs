//! Named validator presets: the documented behaviour of real systems, as a starting point that
//! a scenario can override field by field. Values and sources follow DOMAIN.md's table.

use super::*;

/// A named starting point for `[validator]`.
#[derive(Clone, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub summary: &'static str,
    /// Where the behaviour is documented.
    pub source: &'static str,
    pub config: ValidatorConfig,
}

fn base(name: &str) -> ValidatorConfig {
    ValidatorConfig {
        preset: Some(name.to_string()),
        window_back: 1,
        window_ahead: 1,
        search: SearchOrder::CenterOut,
        drift: DriftLearning::Steps,
        replay: Replay::TimeForward,
        skip_refused: false,
        lockout: None,
        throttle: None,
        sync: None,
        auto_resync: None,
        next_code: None,
        idle_widening: None,
        hotp_look_ahead: 10,
        server_offset_s: 0.0,
    }
}

/// Every preset, in the order `otpdrift presets` lists them.
pub fn all() -> Vec<Preset> {
    vec![
        Preset {
            name: "rfc6238",
            summary: "±1 step, drift learned in whole steps on every success, time-forward replay rule, 2-code sync within ±20 steps, 10 failures lock for 1 h",
            source: "RFC 6238 s5.2 (one step back for delay, no OTP accepted twice) and s6 (record drift on success, resync after long idle); lockout per NIST SP 800-63B (at most 100 failures)",
            config: ValidatorConfig {
                lockout: Some(Lockout { max_failures: 10, unlock_after_s: Some(3600.0) }),
                sync: Some(SyncProcedure { codes: 2, window: 20, search: SyncSearch::Nearest, refuse_next: false }),
                ..base("rfc6238")
            },
        },
        Preset {
            name: "vip",
            summary: "Symantec VIP, Medium: ±10 steps (±5 min) validation, drift learned on success (auto-sync), time-forward only, manual sync (the \"Test\" page) with 2 consecutive codes within ±64 steps (±32 min), max validation failures lock until the helpdesk unlocks",
            source: "Symantec VIP help \"Invalid security code\"; VIP validation/auto-sync/manual-sync windows (Medium ±5 min, Low ±32 min) in DOMAIN.md",
            config: ValidatorConfig {
                window_back: 10,
                window_ahead: 10,
                lockout: Some(Lockout { max_failures: 10, unlock_after_s: None }),
                sync: Some(SyncProcedure { codes: 2, window: 64, search: SyncSearch::Nearest, refuse_next: false }),
                ..base("vip")
            },
        },
        Preset {
            name: "privacyidea",
            summary: "timeWindow 180 s: 6 steps back, 5 ahead searched oldest first around now + shift; shift learned in seconds on every success; matched step must exceed the last used; resync with 2 consecutive codes in syncWindow 1000 steps; failcount 10",
            source: "privacyIDEA totptoken.check_otp / HmacOtp.checkOtp (symmetric range(counter - w, counter + w)), timeShift token info, resync, failcounter (DOMAIN.md)",
            config: ValidatorConfig {
                window_back: 6,
                window_ahead: 5,
                search: SearchOrder::OldestFirst,
                drift: DriftLearning::Seconds,
                lockout: Some(Lockout { max_failures: 10, unlock_after_s: None }),
                sync: Some(SyncProcedure { codes: 2, window: 1000, search: SyncSearch::Nearest, refuse_next: false }),
                ..base("privacyidea")
            },
        },
        Preset {
            name: "linotp",
            summary: "CountWindow 10: 10 back, 9 ahead searched oldest first; drift learned in whole steps on every success; counter rule; auto-resync when a second code follows the first by 1-3 steps within SyncWindow 1000; MaxFail 10",
            source: "LinOTP TOTP check_otp, AutoResync and MaxFail (DOMAIN.md)",
            config: ValidatorConfig {
                window_back: 10,
                window_ahead: 9,
                search: SearchOrder::OldestFirst,
                lockout: Some(Lockout { max_failures: 10, unlock_after_s: None }),
                sync: Some(SyncProcedure { codes: 2, window: 1000, search: SyncSearch::Nearest, refuse_next: false }),
                auto_resync: Some(AutoResync { window: 1000, max_gap: 3, timeout_s: 300.0 }),
                ..base("linotp")
            },
        },
        Preset {
            name: "freeipa",
            summary: "authWindow 300 s: ±9 steps searched 0,+1,-1,...; drift learned only by explicit sync; watermark = last step + 1; otptoken-sync with 2 consecutive codes within syncWindow 86400 s (±2880 steps); no OTP-specific lockout",
            source: "FreeIPA ipa-otpd / ipa_otp_lasso (authWindow, syncWindow, watermark), otptoken-sync (DOMAIN.md)",
            config: ValidatorConfig {
                window_back: 9,
                window_ahead: 9,
                drift: DriftLearning::Explicit,
                sync: Some(SyncProcedure { codes: 2, window: 2880, search: SyncSearch::Nearest, refuse_next: false }),
                ..base("freeipa")
            },
        },
        Preset {
            name: "google-authenticator",
            summary: "window_size 3 = ±1 searched oldest first; skew adopted after 3 consecutive out-of-window codes within ±1500 steps entered in quick succession; DISALLOW_REUSE of exact steps; rate limit, no lockout",
            source: "google-authenticator-libpam pam_google_authenticator.c: check_timebased_code, check_time_skew, invalidate_timebased_code",
            config: ValidatorConfig {
                search: SearchOrder::OldestFirst,
                drift: DriftLearning::Consistent { k: 3, search: 1500 },
                replay: Replay::ExactSteps,
                ..base("google-authenticator")
            },
        },
        Preset {
            name: "keycloak",
            summary: "±1 step searched 0,-1,+1; no drift learning; the same code is refused; no resync; brute-force detection off by default",
            source: "Keycloak TimeBasedOTP.validateTOTP (lookAroundWindow 1), OTP policy defaults (DOMAIN.md)",
            config: ValidatorConfig {
                search: SearchOrder::BackFirst,
                drift: DriftLearning::None,
                replay: Replay::ExactSteps,
                ..base("keycloak")
            },
        },
        Preset {
            name: "pam-oath",
            summary: "±5 steps searched 0,+1,-1,...; no drift learning; the last OTP and every earlier one is refused; no resync; no lockout",
            source: "liboath oath_totp_validate and usersfile (OATH_REPLAYED_OTP), pam_oath window=5 (DOMAIN.md)",
            config: ValidatorConfig {
                window_back: 5,
                window_ahead: 5,
                drift: DriftLearning::None,
                ..base("pam-oath")
            },
        },
        Preset {
            name: "django-otp",
            summary: "tolerance 1 around the stored drift, searched oldest first; steps not after the last used are skipped (min_t); drift += matched offset on every success; no resync; throttling rather than lockout",
            source: "django-otp TOTPDevice.verify_token and TOTP.verify (tolerance, drift, min_t = last_t + 1) (DOMAIN.md)",
            config: ValidatorConfig {
                search: SearchOrder::OldestFirst,
                skip_refused: true,
                ..base("django-otp")
            },
        },
        Preset {
            name: "rsa",
            summary: "previous/current/next step; drift learned on every success; a used code and all earlier fail; a code within ±10 steps triggers next-tokencode mode; 10 failures lock until unlocked",
            source: "RSA SecurID Authentication Manager: next tokencode mode, token offset (DOMAIN.md)",
            config: ValidatorConfig {
                lockout: Some(Lockout { max_failures: 10, unlock_after_s: None }),
                next_code: Some(NextCode { window: 10 }),
                ..base("rsa")
            },
        },
        Preset {
            name: "onespan",
            summary: "±5 steps, widened by 2 s a day idle (at most +20 steps); drift learned on every success; 2-code resync within ±40 steps; lock count 5",
            source: "OneSpan Authentication Server: window sized for at most 2 s/day drift, long-idle widening, 2-code resync (DOMAIN.md)",
            config: ValidatorConfig {
                window_back: 5,
                window_ahead: 5,
                idle_widening: Some(IdleWidening { steps_per_day: 2.0 / 30.0, max_extra: 20 }),
                lockout: Some(Lockout { max_failures: 5, unlock_after_s: None }),
                sync: Some(SyncProcedure { codes: 2, window: 40, search: SyncSearch::Nearest, refuse_next: false }),
                ..base("onespan")
            },
        },
    ]
}

pub fn find(name: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.name == name)
}

pub fn names() -> String {
    all().iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}
