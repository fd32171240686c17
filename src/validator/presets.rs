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

/// The RFC 6238 validator every preset starts from (and the tests' hand-made configurations).
pub(super) fn base(name: &str) -> ValidatorConfig {
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
        delay: None,
        rate_limit: None,
        brute_force: None,
        sync: None,
        auto_resync: None,
        next_code: None,
        idle_widening: None,
        tolerance: None,
        auto_sync: None,
        sync_band: None,
        initial_window: None,
        numeric_codes: false,
        code_syntax: CodeSyntax::Trimmed,
        secret_bytes: None,
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
        Preset {
            name: "entra",
            summary: "Microsoft Entra ID, hardware OATH TOTP tokens (SHA-1 or SHA-256, 30 or 60 s; no HOTP): ±2 steps (assumed: not published; Token2 measured about 2 minutes in 2025); drift learned per token (assumed); a code used before, or older than the last used one, refused; 10 failures lock for 1 min (assumed: the password smart-lockout defaults)",
            source: "learn.microsoft.com concept-authentication-oath-tokens, howto-mfa-reporting; Token2 blog posts 16, 89 (docs/validators.md#entra)",
            config: ValidatorConfig {
                window_back: 2,
                window_ahead: 2,
                lockout: Some(Lockout { max_failures: 10, unlock_after_s: Some(60.0), failure_interval_s: None }),
                ..base("entra")
            },
        },
        Preset {
            name: "okta",
            summary: "Okta Custom OTP: ±N steps around the entry time, N the admin's clock drift interval (3, 5 or 10; 3, the Terraform provider's default); no drift learning and time-forward replay rule (assumed); 5 wrong codes lock the authenticator for 5 min (Identity Engine)",
            source: "help.okta.com custom-otp, mfa-totp-seed; Okta KB otp-verification-attempts-limitations (docs/validators.md#okta)",
            config: ValidatorConfig {
                window_back: 3,
                window_ahead: 3,
                drift: DriftLearning::None,
                lockout: Some(Lockout { max_failures: 5, unlock_after_s: Some(300.0), failure_interval_s: None }),
                ..base("okta")
            },
        },
        Preset {
            name: "okta-google-authenticator",
            summary: "Okta's Google Authenticator factor: clock skew ±2 min (±4 steps); no drift learning and time-forward replay rule (assumed); 5 failures lock the account until an administrator resets it",
            source: "help.okta.com google-authenticator (docs/validators.md#okta)",
            config: ValidatorConfig {
                window_back: 4,
                window_ahead: 4,
                drift: DriftLearning::None,
                lockout: admin_lock(5),
                ..base("okta-google-authenticator")
            },
        },
        Preset {
            name: "duo",
            summary: "Duo, imported TOTP tokens: ±1 step (assumed: a staff forum answer); no drift adjustment and no resync; time-forward replay rule (assumed); 10 failures lock until an administrator unlocks (auto-unlock is off by default; third-party)",
            source: "Duo text quoted by Deepnet KB 21436575; Token2 Duo guide; Duo community 6107 (docs/validators.md#duo)",
            config: ValidatorConfig {
                drift: DriftLearning::None,
                lockout: admin_lock(10),
                ..base("duo")
            },
        },
        Preset {
            name: "fortiauthenticator",
            summary: "FortiAuthenticator with FortiToken (60 s codes): TOTP window ±1 min (steps any instant of now ± 60 s falls in); a code within the 60 min sync window answers \"clock drift detected, input the next code\" and the next code re-syncs; 2-code sync; drift learned on success; 3 failures lock the user for 60 s",
            source: "FortiAuthenticator admin guide 911252, 706937; Fortinet community 189574, 190925, 385391 (docs/validators.md#fortiauthenticator)",
            config: ValidatorConfig {
                window_back: 2,
                window_ahead: 2,
                tolerance: Some(Tolerance { past_s: 60.0, future_s: 60.0 }),
                next_code: Some(NextCode { window: 60, wide_after: u32::MAX, wide_window: 60, require_after: None }),
                sync: nearest_sync(60),
                lockout: Some(Lockout { max_failures: 3, unlock_after_s: Some(60.0), failure_interval_s: None }),
                ..base("fortiauthenticator")
            },
        },
        Preset {
            name: "authelia",
            summary: "Authelia: skew 1 (±1 step) searched 0,+1,-1; no drift learning; a step already used is refused (TOTP history); its regulation bans on first-factor failures only; TOTP requests are rate-limited per IP (30/1 min, 40/2 min, 50/10 min token buckets, approximated as 50 per 10 min)",
            source: "authelia internal/totp, handler_sign_totp.go, regulation/regulator.go; authelia/otp totp.go (docs/validators.md#authelia)",
            config: ValidatorConfig {
                drift: DriftLearning::None,
                replay: Replay::ExactSteps,
                rate_limit: Some(RateLimit { attempts: 50, per_s: 600.0 }),
                ..base("authelia")
            },
        },
        Preset {
            name: "vaultwarden",
            summary: "Vaultwarden: steps -1, 0, +1 in that order (only 0 with AUTHENTICATOR_DISABLE_TIME_DRIFT); the first match at or before the last used step rejects; no drift learning; no lockout, logins rate-limited per IP (burst 10, one per 60 s, approximated as 10 per 10 min)",
            source: "vaultwarden src/api/core/two_factor/authenticator.rs validate_totp_code; src/config.rs (docs/validators.md#vaultwarden)",
            config: ValidatorConfig {
                search: SearchOrder::OldestFirst,
                drift: DriftLearning::None,
                rate_limit: Some(RateLimit { attempts: 10, per_s: 600.0 }),
                ..base("vaultwarden")
            },
        },
        Preset {
            name: "multiotp",
            summary: "multiOTP: max_time_window 600 s = ±19 steps searched 0,+1,-1,...; drift learned on every success; a step at or before the last login refused; after 3 failures attempts within 300 s of the last are refused uncounted; 6 failures lock until unlocked; 2-code resync within ±2999 steps",
            source: "multiOTP multiotp.class.php CheckUserToken; issue #11 (docs/validators.md#multiotp)",
            config: ValidatorConfig {
                window_back: 19,
                window_ahead: 19,
                lockout: admin_lock(6),
                delay: Some(Delay { after: 3, wait_s: 300.0 }),
                sync: nearest_sync(2999),
                ..base("multiotp")
            },
        },
        Preset {
            name: "nextcloud",
            summary: "Nextcloud twofactor_totp: ±3 steps ascending (easytotp verify window 3); steps at or before the last counter skipped; no drift learning; non-digits stripped from the code; the server throttles 2FA challenges to 5 per 100 s per user",
            source: "nextcloud/twofactor_totp lib/Service/Totp.php; rullzer/easytotp src/TOTP.php; nextcloud/server TwoFactorChallengeController (docs/validators.md#nextcloud)",
            config: ValidatorConfig {
                window_back: 3,
                window_ahead: 3,
                search: SearchOrder::OldestFirst,
                drift: DriftLearning::None,
                skip_refused: true,
                rate_limit: Some(RateLimit { attempts: 5, per_s: 100.0 }),
                code_syntax: CodeSyntax::DigitsOnly,
                ..base("nextcloud")
            },
        },
        Preset {
            name: "blackberry",
            summary: "BlackBerry 2FA hardware tokens: one fleet-wide window, default 3 steps each side (0-50); drift learning, replay rule and lockout not published (assumed: none, time-forward, none)",
            source: "docs.blackberry.com BlackBerry 2FA administration ujg1509657192596 (docs/validators.md#blackberry)",
            config: ValidatorConfig {
                window_back: 3,
                window_ahead: 3,
                drift: DriftLearning::None,
                ..base("blackberry")
            },
        },
        Preset {
            name: "otplib",
            summary: "otplib 13 verify with epochTolerance 30 (seconds, not steps: every step an instant of now ± 30 s falls in) and afterTimeStep from the last success (steps at or before it skipped); oldest first; no drift, no lockout; a token not of 6 digits, or a secret outside 16-64 bytes, is refused",
            source: "otplib 13.5.0 @otplib/totp verify, @otplib/core validateToken (docs/validators.md#otplib)",
            config: ValidatorConfig {
                search: SearchOrder::OldestFirst,
                drift: DriftLearning::None,
                skip_refused: true,
                tolerance: Some(Tolerance { past_s: 30.0, future_s: 30.0 }),
                code_syntax: CodeSyntax::Strict,
                secret_bytes: Some((16, 64)),
                ..base("otplib")
            },
        },
        Preset {
            name: "speakeasy",
            summary: "speakeasy 2 totp.verify with window 1: ±1 step ascending, stateless (no replay rule, no drift, no lockout); the token is read with parseInt after a length check",
            source: "speakeasy 2.0.0 index.js totp.verifyDelta, hotp.verifyDelta (docs/validators.md#speakeasy)",
            config: ValidatorConfig {
                search: SearchOrder::OldestFirst,
                drift: DriftLearning::None,
                replay: Replay::None,
                code_syntax: CodeSyntax::ParseInt,
                ..base("speakeasy")
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
