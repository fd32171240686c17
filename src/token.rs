//! Token kinds, credentials (secret, keyed HMAC, code cache, HOTP counter) and the battery budget.

use crate::civil::{Millis, YEAR};
use crate::otp::{Algorithm, Keyed};
use crate::rng::Rng;
use rand::RngCore;
use serde::Serialize;
use std::fmt;

/// What kind of device shows the codes; each kind brings its own clock and battery defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Hardware TOTP token: a free-running quartz clock and a battery that cannot be replaced.
    Hardware,
    /// Phone authenticator app with automatic (network) time.
    Phone,
    /// Phone or desktop app on a clock set by hand.
    Desktop,
    /// Hardware HOTP event token: a counter advanced by each press.
    Hotp,
}

impl TokenKind {
    pub const NAMES: &'static str = "hardware, phone, desktop, hotp";

    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "hardware" => Some(TokenKind::Hardware),
            "phone" => Some(TokenKind::Phone),
            "desktop" => Some(TokenKind::Desktop),
            "hotp" => Some(TokenKind::Hotp),
            _ => None,
        }
    }

    pub fn is_totp(self) -> bool {
        self != TokenKind::Hotp
    }

    pub fn is_hardware(self) -> bool {
        matches!(self, TokenKind::Hardware | TokenKind::Hotp)
    }

    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Hardware => "HW",
            TokenKind::Phone => "PH",
            TokenKind::Desktop => "DT",
            TokenKind::Hotp => "EV",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenKind::Hardware => "hardware",
            TokenKind::Phone => "phone",
            TokenKind::Desktop => "desktop",
            TokenKind::Hotp => "hotp",
        })
    }
}

/// Code parameters of a population's tokens.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenSpec {
    pub kind: TokenKind,
    pub algorithm: Algorithm,
    pub digits: u32,
    /// TOTP time step X in seconds.
    pub step_s: u32,
    /// TOTP epoch T0 in Unix seconds.
    pub t0: i64,
    /// HOTP only: presses per day that never reach the validator (the counter runs ahead).
    pub unsent_presses_per_day: f64,
}

/// The battery budget: dead when years/life_years + codes/life_codes >= 1 (Symantec's 5 years or
/// 15,000 codes read as a linear budget, DOMAIN.md), or at the hard expiry.
#[derive(Clone, Debug, PartialEq)]
pub struct BatterySpec {
    pub life_years: f64,
    pub life_codes: f64,
    pub expiry_s: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeathCause {
    Battery,
    Expired,
}

impl DeathCause {
    pub fn as_str(self) -> &'static str {
        match self {
            DeathCause::Battery => "battery",
            DeathCause::Expired => "expired",
        }
    }
}

/// The credential ID printed on a token or shown by an app: kind prefix, token index, generation.
pub fn credential_id(kind: TokenKind, token: u64, generation: u32) -> String {
    format!("{}{:08}-{}", kind.prefix(), token, generation)
}

const CACHE: usize = 16;

/// One credential on one device.
#[derive(Clone)]
pub struct Token {
    pub kind: TokenKind,
    pub credential: String,
    keyed: Keyed,
    digits: u32,
    /// Recently computed (step, code) pairs: the token and the validator often need the same step.
    cache: [(i64, u32); CACHE],
    pub hmacs: u64,
    pub born: Millis,
    pub codes_used: u64,
    /// HOTP: the counter of the next press.
    pub counter: u64,
    battery: Option<BatterySpec>,
    death: Option<(Millis, DeathCause)>,
}

impl Token {
    pub fn new(
        spec: &TokenSpec,
        battery: Option<&BatterySpec>,
        credential: String,
        born: Millis,
        rng: &mut Rng,
    ) -> Token {
        let mut secret = vec![0u8; spec.algorithm.secret_len()];
        rng.fill_bytes(&mut secret);
        let mut t = Token {
            kind: spec.kind,
            credential,
            keyed: Keyed::new(spec.algorithm, &secret),
            digits: spec.digits,
            cache: [(i64::MIN, 0); CACHE],
            hmacs: 0,
            born,
            codes_used: 0,
            counter: 0,
            battery: battery.cloned(),
            death: None,
        };
        t.update_death();
        t
    }

    /// The code for step (TOTP) or counter (HOTP) `step`.
    pub fn code(&mut self, step: i64) -> u32 {
        let slot = (step as usize) % CACHE;
        if self.cache[slot].0 == step {
            return self.cache[slot].1;
        }
        self.hmacs += 1;
        let c = self.keyed.hotp(step as u64, self.digits);
        self.cache[slot] = (step, c);
        c
    }

    pub fn digits(&self) -> u32 {
        self.digits
    }

    fn update_death(&mut self) {
        let Some(b) = &self.battery else { return };
        let left = 1.0 - self.codes_used as f64 / b.life_codes;
        let battery_end = self.born + (left.max(0.0) * b.life_years * YEAR as f64) as Millis;
        let mut death = (battery_end, DeathCause::Battery);
        if let Some(e) = b.expiry_s {
            let exp = self.born + (e * 1000.0) as Millis;
            if exp < death.0 {
                death = (exp, DeathCause::Expired);
            }
        }
        self.death = Some(death);
    }

    /// When and why the token dies if no more codes are used (None: never).
    pub fn death(&self) -> Option<(Millis, DeathCause)> {
        self.death
    }

    pub fn alive_at(&self, t: Millis) -> bool {
        self.death.is_none_or(|(d, _)| t < d)
    }

    /// Records one displayed code (a button press on a hardware token).
    pub fn use_code(&mut self) {
        self.codes_used += 1;
        self.update_death();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::DAY;
    use crate::rng::{stream, Purpose};

    fn spec() -> TokenSpec {
        TokenSpec {
            kind: TokenKind::Hardware,
            algorithm: Algorithm::Sha1,
            digits: 6,
            step_s: 30,
            t0: 0,
            unsent_presses_per_day: 0.0,
        }
    }

    #[test]
    fn battery_dies_at_closed_form_time_for_fixed_daily_codes() {
        // years/5 + codes/15000 = 1 with 10 codes a day: d/1826.25 + d/1500 = 1.
        let b = BatterySpec {
            life_years: 5.0,
            life_codes: 15_000.0,
            expiry_s: None,
        };
        let mut t = Token::new(
            &spec(),
            Some(&b),
            "x".into(),
            0,
            &mut stream(1, 0, Purpose::Secret),
        );
        let want_days = 1.0 / (1.0 / 1826.25 + 1.0 / 1500.0);
        let mut day = 0;
        while t.alive_at(day * DAY) {
            for _ in 0..10 {
                t.use_code();
            }
            day += 1;
        }
        assert!(
            (day as f64 - want_days).abs() <= 1.0,
            "died on day {day}, want {want_days:.1}"
        );
        assert_eq!(t.death().unwrap().1, DeathCause::Battery);
    }

    #[test]
    fn expiry_comes_first_when_earlier() {
        let b = BatterySpec {
            life_years: 5.0,
            life_codes: 15_000.0,
            expiry_s: Some(3.0 * 31_557_600.0),
        };
        let t = Token::new(
            &spec(),
            Some(&b),
            "x".into(),
            0,
            &mut stream(1, 0, Purpose::Secret),
        );
        assert_eq!(t.death(), Some((3 * YEAR, DeathCause::Expired)));
    }

    #[test]
    fn cache_returns_same_codes_as_hmac() {
        let mut t = Token::new(
            &spec(),
            None,
            "x".into(),
            0,
            &mut stream(1, 0, Purpose::Secret),
        );
        let a: Vec<u32> = (0..40).map(|s| t.code(s)).collect();
        let b: Vec<u32> = (0..40).rev().map(|s| t.code(s)).collect();
        assert_eq!(a, b.into_iter().rev().collect::<Vec<_>>());
        assert!(t.alive_at(100 * YEAR));
        assert_eq!(credential_id(TokenKind::Phone, 42, 1), "PH00000042-1");
    }
}
