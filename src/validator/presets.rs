//! Named validator presets: the behaviour of real systems, as a starting point that a scenario
//! can override field by field. Every rule and its source (file and function, or vendor
//! document) is in docs/validators.md; tests in `validator::tests` are named after the rules.

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
        rate_limit: None,
        brute_force: None,
        sync: None,
        auto_resync: None,
        next_code: None,
        idle_widening: None,
        auto_sync: None,
        sync_band: None,
        initial_window: None,
        numeric_codes: false,
        hotp_look_ahead: 10,
        server_offset_s: 0.0,
    }
}

/// A lockout after `n` failures that only an administrator clears.
fn admin_lock(n: u32) -> Option<Lockout> {
    Some(Lockout {
        max_failures: n,
        unlock_after_s: None,
        failure_interval_s: None,
    })
}

/// A two-code sync procedure searching for the nearest consecutive run.
fn nearest_sync(window: u32) -> Option<SyncProcedure> {
    Some(SyncProcedure {
        codes: 2,
        window,
        search: SyncSearch::Nearest,
        refuse_next: false,
        centre_beyond: false,
    })
}

/// Every preset, in the order `otpdrift presets` lists them.
pub fn all() -> Vec<Preset> {
    vec![
        Preset {
            name: "rfc6238",
            summary: "±1 step, drift learned in whole steps on every success, time-forward replay rule, 2-code sync within ±20 steps, 10 failures lock for 1 h",
            source: "RFC 6238 s5.2 and s6; NIST SP 800-63B lockout (docs/validators.md#rfc6238)",
            config: ValidatorConfig {
                lockout: Some(Lockout { max_failures: 10, unlock_after_s: Some(3600.0), failure_interval_s: None }),
                sync: nearest_sync(20),
                ..base("rfc6238")
            },
        },
        Preset {
            name: "vip",
            summary: "Symantec VIP, security level Medium: ±10 steps (±5 min) validation window; auto-sync band ±20 steps (accepted and re-synced); manual-sync band ±120 steps (error 4923: two consecutive codes); time-forward only; 10 consecutive invalid codes lock until the helpdesk unlocks. Band sizes are not published: replace them with your account's settings",
            source: "Broadcom KB 222352, 175691, 273344, 159646 (docs/validators.md#vip)",
            config: ValidatorConfig {
                window_back: 10,
                window_ahead: 10,
                auto_sync: Some(20),
                sync_band: Some(120),
                lockout: admin_lock(10),
                sync: nearest_sync(120),
                ..base("vip")
            },
        },
        Preset {
            name: "vip-low",
            summary: "Symantec VIP, security level Low: ±64 steps (±32 min) validation window; otherwise as `vip`",
            source: "Broadcom KB 175691 (docs/validators.md#vip)",
            config: ValidatorConfig {
                window_back: 64,
                window_ahead: 64,
                auto_sync: Some(80),
                sync_band: Some(120),
                lockout: admin_lock(10),
                sync: nearest_sync(120),
                ..base("vip-low")
            },
        },
        Preset {
            name: "privacyidea",
            summary: "timeWindow 180 s: 6 steps back, 5 ahead around now + shift, oldest first; the first match at or before the last used step rejects the attempt; shift = matched step start - whole seconds of now; resync: each code searched separately in syncWindow 1000, shift to the middle of the second code's step, the next step refused; autoresync off; failcount 10",
            source: "privacyIDEA totptoken.py check_otp, resync, _autosync; tokenclass.py fail counter (docs/validators.md#privacyidea)",
            config: ValidatorConfig {
                window_back: 6,
                window_ahead: 5,
                search: SearchOrder::OldestFirst,
                drift: DriftLearning::Seconds,
                lockout: admin_lock(10),
                sync: Some(SyncProcedure { codes: 2, window: 1000, search: SyncSearch::Separate, refuse_next: true, centre_beyond: false }),
                ..base("privacyidea")
            },
        },
        Preset {
            name: "linotp",
            summary: "CounterWindow 10: 10 back, 9 ahead, oldest first; drift in whole steps on every success; the first match before the next expected step rejects the attempt; resync: each code searched separately in SyncWindow 1000; AutoResync off; MaxFail 10, administrator reset",
            source: "LinOTP totptoken.py check_otp, resync, autosync; validate.py (docs/validators.md#linotp)",
            config: ValidatorConfig {
                window_back: 10,
                window_ahead: 9,
                search: SearchOrder::OldestFirst,
                lockout: admin_lock(10),
                sync: Some(SyncProcedure { codes: 2, window: 1000, search: SyncSearch::Separate, refuse_next: false, centre_beyond: false }),
                ..base("linotp")
            },
        },
        Preset {
            name: "freeipa",
            summary: "authWindow 300 s: ±9 steps searched 0,+1,-1,...; steps below the watermark skipped; drift only from otptoken-sync (two consecutive codes within syncWindow 86400 s = ±2879 steps), which centres the window one step beyond the second code; password policy lockout: 6 failures, each within 60 s of the last, lock for 600 s",
            source: "FreeIPA libotp otp_token.c, otp_config.c; kerberos.ldif password policy (docs/validators.md#freeipa)",
            config: ValidatorConfig {
                window_back: 9,
                window_ahead: 9,
                drift: DriftLearning::Explicit,
                skip_refused: true,
                lockout: Some(Lockout { max_failures: 6, unlock_after_s: Some(600.0), failure_interval_s: Some(60.0) }),
                sync: Some(SyncProcedure { codes: 2, window: 2879, search: SyncSearch::Nearest, refuse_next: false, centre_beyond: true }),
                ..base("freeipa")
            },
        },
        Preset {
            name: "google-authenticator",
            summary: "window_size 3 = -1, 0, +1 around the learned skew, ascending; skew adopted after 3 out-of-window codes within ±1499 steps at increasing server steps ≤ 2 apart; DISALLOW_REUSE (as the setup tool recommends) refuses exact used steps; no lockout",
            source: "google-authenticator-libpam pam_google_authenticator.c check_timebased_code, check_time_skew, invalidate_timebased_code (docs/validators.md#google-authenticator)",
            config: ValidatorConfig {
                search: SearchOrder::OldestFirst,
                drift: DriftLearning::Consistent { k: 3, search: 1500 },
                replay: Replay::ExactSteps,
                ..base("google-authenticator")
            },
        },
        Preset {
            name: "keycloak",
            summary: "look-around 1: ±1 step searched 0,-1,+1; no drift learning; a code already used is refused; no resync; brute-force detection off by default",
            source: "Keycloak TimeBasedOTP.validateTOTP, OTPPolicy defaults, RealmManager (docs/validators.md#keycloak)",
            config: ValidatorConfig {
                search: SearchOrder::BackFirst,
                drift: DriftLearning::None,
                replay: Replay::ExactSteps,
                ..base("keycloak")
            },
        },
        Preset {
            name: "pam-oath",
            summary: "window=5: ±5 steps searched 0,+1,-1,...; no drift learning; the last accepted code, and any step up to where it is found again in the window, refused; no resync; no lockout",
            source: "oath-toolkit liboath totp.c oath_totp_validate4_callback, usersfile.c update_usersfile2 (docs/validators.md#pam-oath)",
            config: ValidatorConfig {
                window_back: 5,
                window_ahead: 5,
                drift: DriftLearning::None,
                replay: Replay::LastCode,
                ..base("pam-oath")
            },
        },
        Preset {
            name: "django-otp",
            summary: "tolerance 1 around the stored drift, oldest first; steps not after the last used are skipped; drift = matched offset on every success; throttling: after the n-th failure in a row, attempts within 2^(n-1) s are refused uncounted",
            source: "django-otp otp_totp/models.py verify_token, oath.py TOTP.verify, models.py ThrottlingMixin (docs/validators.md#django-otp)",
            config: ValidatorConfig {
                search: SearchOrder::OldestFirst,
                skip_refused: true,
                throttle: Some(Throttle { factor_s: 1.0 }),
                numeric_codes: true,
                ..base("django-otp")
            },
        },
        Preset {
            name: "pyotp",
            summary: "TOTP.verify(code, valid_window=1): ±1 step, stateless: no replay rule, no drift, no lockout (an application must add them)",
            source: "pyotp totp.py TOTP.verify (docs/validators.md#pyotp)",
            config: ValidatorConfig {
                drift: DriftLearning::None,
                replay: Replay::None,
                ..base("pyotp")
            },
        },
        Preset {
            name: "rsa",
            summary: "RSA SecurID hardware token: ±1 interval accepted; ±3 with the next tokencode, ±10 after 3 failures; offset learned on every success; a used code and every earlier one refused; 5 consecutive failures lock until an administrator unlocks; tokens commonly use 60 s codes",
            source: "RSA article a19272, DOC-77502 (docs/validators.md#rsa)",
            config: ValidatorConfig {
                lockout: admin_lock(5),
                next_code: Some(NextCode { window: 3, wide_after: 3, wide_window: 10, require_after: None }),
                ..base("rsa")
            },
        },
        Preset {
            name: "onespan",
            summary: "OneSpan (VASCO) Authentication Server: identification time window 20 = ±10 steps, searched 0,-1,+1,...; initial window ±3 h until the first success after import or reset; drift learned on every success; dynamic widening off (its flag); 2-code resync; user lock count 3",
            source: "OneSpan Authentication Server Base Policy, VACMAN Controller parameters ITimeWindow, SyncWindow, TW_DYNAMIC_WINDOWS (docs/validators.md#onespan)",
            config: ValidatorConfig {
                window_back: 10,
                window_ahead: 10,
                search: SearchOrder::BackFirst,
                initial_window: Some(360),
                lockout: admin_lock(3),
                sync: nearest_sync(360),
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
