//! Token kinds, credentials (secret, keyed HMAC, code cache, HOTP counter) and the battery budget.

use crate::otp::{Algorithm, Keyed};
use crate::rng::Rng;
use crate::time::{Millis, YEAR};
use rand::RngCore;
use serde::Serialize;
use std::cell::Cell;
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
    /// Capacity lost per year on the shelf and in use, as a share of the budget (CR2032 cells:
    /// about 1%/year; the vendor's 5-year figure already includes it, so the default is 0).
    pub self_discharge_per_year: f64,
    pub expiry_s: Option<f64>,
    /// First-generation tokens already in service at the start: their age ...
    pub age_at_start_s: crate::dist::Dist,
    /// ... and the codes they had shown.
    pub codes_at_start: crate::dist::Dist,
}

impl BatterySpec {
    /// Budget used per year of age (life and self-discharge).
    fn per_year(&self) -> f64 {
        1.0 / self.life_years + self.self_discharge_per_year
    }

    /// Years of age the budget lasts after `codes` codes, at `per_year` ([`Self::per_year`]).
    fn years_for(&self, codes: u64, per_year: f64) -> f64 {
        (1.0 - codes as f64 / self.life_codes).max(0.0) / per_year
    }

    /// Whether a token `age` old that has shown `codes` codes still works: neither its budget
    /// nor its expiry is spent (in the same arithmetic as [`Token::alive_at`]).
    pub fn alive_at_age(&self, age: Millis, codes: u64) -> bool {
        let years = self.years_for(codes, self.per_year());
        (years * YEAR as f64) as Millis > age
            && self.expiry_s.is_none_or(|e| (e * 1000.0) as Millis > age)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeathCause {
    Battery,
    Expired,
    /// A failing hardware token swapped through the helpdesk.
    Replaced,
    /// An app credential replaced by a reinstall.
    Reinstalled,
}

impl DeathCause {
    pub fn as_str(self) -> &'static str {
        match self {
            DeathCause::Battery => "battery",
            DeathCause::Expired => "expired",
            DeathCause::Replaced => "replaced",
            DeathCause::Reinstalled => "reinstalled",
        }
    }

    /// The token itself died (rather than being retired while it still worked).
    pub fn is_death(self) -> bool {
        matches!(self, DeathCause::Battery | DeathCause::Expired)
    }
}

/// The credential ID printed on a token or shown by an app: kind prefix, token index, generation.
pub fn credential_id(kind: TokenKind, token: u64, generation: u32) -> String {
    format!("{}{:08}-{}", kind.prefix(), token, generation)
}

const CACHE: usize = 16;

/// The fast mode's code of `step`: two rounds of a 64-bit finalizer (MurmurHash3's fmix64)
/// over key and step, reduced to `digits` digits. Its output passes as uniform and
/// step-to-step independent for this purpose (the reduction's bias is under 10^-10), so a code
/// matches another step's with chance 10^-digits, as an HMAC code does.
#[inline]
pub fn fast_code(key: u64, step: u64, digits: u32) -> u32 {
    fn fmix(mut x: u64) -> u64 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
    let h = fmix(fmix(key ^ step.wrapping_mul(0x9e37_79b9_7f4a_7c15)) ^ key.rotate_left(29));
    // Multiply-shift reduction (no division): floor(h * 10^digits / 2^64), with the power from a
    // table (`pow` is a loop of 128-bit multiplies).
    ((h as u128 * crate::otp::POW10[digits as usize] as u128) >> 64) as u32
}

/// A credential's computed codes, direct-mapped by step; see [`code_cache`].
pub type CodeCache = std::rc::Rc<[Cell<(i64, u32)>]>;

/// An empty cache for the codes of at least `steps` consecutive steps (a validator's widest
/// scan both ways), up to 8,192 (128 KB for the credential in use on each thread).
pub fn code_cache(steps: u64) -> CodeCache {
    let n = (steps.clamp(CACHE as u64, 8192) as usize).next_power_of_two();
    (0..n).map(|_| Cell::new((i64::MIN, 0))).collect()
}

/// One credential on one device.
#[derive(Clone)]
pub struct Token {
    pub kind: TokenKind,
    pub credential: String,
    keyed: Keyed,
    /// `decide = "fast"`: the key of the mixer that stands in for HMAC.
    fast: Option<u64>,
    secret: Box<[u8]>,
    digits: u32,
    /// Recently computed (step, code) pairs, direct-mapped by step: the token and the validator
    /// often need the same step, and a wide scan repeated within a login (retries, skew
    /// detection) or a few hours later reads mostly the same steps. A power of two long.
    /// Shared by the copies of this credential that a sweep's settings simulate side by side:
    /// a code depends only on the secret and the step.
    cache: CodeCache,
    pub hmacs: u64,
    pub born: Millis,
    pub codes_used: u64,
    /// HOTP: the counter of the next press.
    pub counter: u64,
    /// The battery budget, with its years-per-unit-of-budget denominator computed once.
    battery: Option<(BatterySpec, f64)>,
    /// When the last code was shown: a battery that runs out dies no earlier than that press.
    last_press: Millis,
    /// A proof of life: while no more than `.0` codes are used, the token is alive before `.1`.
    /// The death time only comes earlier with more codes (each step of its arithmetic is
    /// monotone), so one exact computation, a few presses ahead, answers the alive checks of
    /// many presses; the two divisions of the exact time were a tenth of fast mode's login.
    alive_until: Cell<(u64, Millis)>,
}

/// How many presses ahead a proof of life is computed for.
const PROOF_PRESSES: u64 = 256;

impl Token {
    pub fn new(
        spec: &TokenSpec,
        battery: Option<&BatterySpec>,
        credential: String,
        born: Millis,
        codes_before: u64,
        rng: &mut Rng,
    ) -> Token {
        let mut secret = vec![0u8; spec.algorithm.secret_len()];
        rng.fill_bytes(&mut secret);
        let t = Token {
            kind: spec.kind,
            credential,
            keyed: Keyed::new(spec.algorithm, &secret),
            fast: None,
            secret: secret.into_boxed_slice(),
            digits: spec.digits,
            cache: code_cache(CACHE as u64),
            hmacs: 0,
            born,
            codes_used: codes_before,
            counter: 0,
            battery: battery.map(|b| (b.clone(), b.per_year())),
            last_press: Millis::MIN,
            alive_until: Cell::new((0, Millis::MIN)),
        };
        t.prove_alive();
        t
    }

    /// Keeps codes in `cache` (see [`code_cache`]), which other copies of this credential may
    /// share.
    pub fn with_cache(mut self, cache: CodeCache) -> Token {
        self.cache = cache;
        self
    }

    /// Computes codes with the fast mixer instead of HMAC (`decide = "fast"`), keyed by the
    /// secret.
    pub fn fast(mut self) -> Token {
        let mut k = [0u8; 8];
        k.copy_from_slice(&self.secret[..8]);
        self.fast = Some(u64::from_le_bytes(k));
        self
    }

    /// The code for step (TOTP) or counter (HOTP) `step`.
    #[inline]
    pub fn code(&mut self, step: i64) -> u32 {
        if step < 0 {
            return crate::otp::NO_CODE; // before T0 there is no code
        }
        if let Some(key) = self.fast {
            return fast_code(key, step as u64, self.digits);
        }
        let slot = &self.cache[(step as usize) & (self.cache.len() - 1)];
        let (s, c) = slot.get();
        if s == step {
            return c;
        }
        self.hmacs += 1;
        let c = self.keyed.hotp(step as u64, self.digits);
        slot.set((step, c));
        c
    }

    /// The shared secret, for writing a trace's secrets file.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    pub fn digits(&self) -> u32 {
        self.digits
    }

    /// When and why a token that has shown `codes` codes dies by its budget or expiry alone,
    /// before the last-press rule of [`Token::death`] (None: never).
    fn death_after(&self, codes: u64) -> Option<(Millis, DeathCause)> {
        let (b, per_year) = self.battery.as_ref()?;
        // years/L + codes/C + sd*years = 1, solved for years.
        let years = b.years_for(codes, *per_year);
        let battery_end = self.born + (years * YEAR as f64) as Millis;
        let mut death = (battery_end, DeathCause::Battery);
        if let Some(e) = b.expiry_s {
            let exp = self.born + (e * 1000.0) as Millis;
            if exp < death.0 {
                death = (exp, DeathCause::Expired);
            }
        }
        Some(death)
    }

    /// Renews the proof of life for the next [`PROOF_PRESSES`] presses.
    fn prove_alive(&self) {
        let k = self.codes_used.saturating_add(PROOF_PRESSES);
        let until = self.death_after(k).map_or(Millis::MAX, |(d, _)| d);
        self.alive_until.set((k, until));
    }

    /// When and why the token dies if no more codes are used (None: never).
    pub fn death(&self) -> Option<(Millis, DeathCause)> {
        self.death_after(self.codes_used)
            .map(|(d, cause)| match cause {
                // The press that uses up the budget is the last one: the token dies then, not at
                // the earlier moment the budget line would have crossed had the press come sooner.
                DeathCause::Battery => (d.max(self.last_press), cause),
                _ => (d, cause),
            })
    }

    #[inline]
    pub fn alive_at(&self, t: Millis) -> bool {
        let (k, until) = self.alive_until.get();
        if self.codes_used <= k && t < until {
            return true;
        }
        if self.codes_used > k {
            self.prove_alive();
        }
        self.death().is_none_or(|(d, _)| t < d)
    }

    /// Records one code displayed at `at` (a button press on a hardware token).
    #[inline]
    pub fn use_code(&mut self, at: Millis) {
        self.codes_used += 1;
        self.last_press = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use crate::time::DAY;

    #[test]
    fn fast_codes_are_uniform_and_collide_at_ten_to_the_minus_digits() {
        // Two-digit codes of 200,000 steps: each value about 2,000 times (chi-square with 99
        // degrees of freedom well under its 0.1% point, 148.2), and the next step's code equal
        // to this one's 1% of the time, as for independent uniform codes.
        let n = 200_000u64;
        let mut seen = [0u64; 100];
        let mut same_next = 0;
        for s in 0..n {
            let c = fast_code(0x1234_5678_9abc_def0, s, 2);
            seen[c as usize] += 1;
            same_next += u64::from(c == fast_code(0x1234_5678_9abc_def0, s + 1, 2));
        }
        let e = n as f64 / 100.0;
        let chi2: f64 = seen.iter().map(|&o| (o as f64 - e).powi(2) / e).sum();
        assert!(chi2 < 148.2, "chi-square {chi2}");
        let rate = same_next as f64 / n as f64;
        assert!(
            (rate - 0.01).abs() < 4.0 * (0.01f64 * 0.99 / n as f64).sqrt(),
            "{rate}"
        );
        // Another key gives other codes; six digits stay below a million.
        let differ = (0..1000)
            .filter(|&s| fast_code(1, s, 6) != fast_code(2, s, 6))
            .count();
        assert!(differ > 995, "{differ}");
        assert!((0..1000).all(|s| fast_code(7, s, 6) < 1_000_000));
    }

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

    fn battery(expiry_s: Option<f64>) -> BatterySpec {
        BatterySpec {
            life_years: 5.0,
            life_codes: 15_000.0,
            self_discharge_per_year: 0.0,
            expiry_s,
            age_at_start_s: crate::dist::Dist::Fixed(0.0),
            codes_at_start: crate::dist::Dist::Fixed(0.0),
        }
    }

    /// The death time as it was computed before the proof of life: from scratch at every
    /// press, the battery's time moved to the press that used up the budget.
    fn eager_death(t: &Token, codes: u64, last_press: Option<Millis>) -> Option<Millis> {
        let (b, per_year) = t.battery.as_ref()?;
        let years = b.years_for(codes, *per_year);
        let battery_end = t.born + (years * YEAR as f64) as Millis;
        let exp = b.expiry_s.map(|e| t.born + (e * 1000.0) as Millis);
        Some(match exp {
            Some(e) if e < battery_end => e,
            _ => last_press.map_or(battery_end, |p| battery_end.max(p)),
        })
    }

    #[test]
    fn the_proof_of_life_answers_as_the_exact_death_time() {
        use rand::Rng as _;
        // Presses at a random pace through a battery's whole life (and past it), with and
        // without expiry and self-discharge: every alive check, at and around the exact
        // death time, answers as the time computed from scratch at each press.
        let mut rng = stream(3, 0, Purpose::Behaviour);
        let mut checks = (0, 0);
        for (expiry, discharge) in [
            (None, 0.0),
            (Some(3.0 * YEAR as f64 / 1000.0), 0.0),
            (None, 0.3),
        ] {
            let b = BatterySpec {
                self_discharge_per_year: discharge,
                ..battery(expiry)
            };
            let mut t = Token::new(
                &spec(),
                Some(&b),
                "x".into(),
                0,
                100,
                &mut stream(1, 0, Purpose::Secret),
            );
            assert_eq!(t.death().map(|d| d.0), eager_death(&t, 100, None));
            let (mut now, mut codes) = (0, 100);
            while now < 8 * YEAR {
                now += rng.random_range(0..(4 * DAY));
                let d = eager_death(&t, codes, (codes > 100).then_some(t.last_press)).unwrap();
                for at in [now, d - 1, d, d + 1, now + 3 * DAY] {
                    assert_eq!(t.alive_at(at), at < d, "{at} against death {d}");
                    checks.0 += 1;
                    checks.1 += usize::from(at >= d);
                }
                assert_eq!(t.death().map(|x| x.0), Some(d));
                t.use_code(now);
                codes += 1;
            }
        }
        // The checks reached past the death time as well as before it.
        assert!(checks.1 > checks.0 / 4, "{checks:?}");
    }

    #[test]
    fn self_discharge_and_prior_codes_shorten_life() {
        // (1 - 3000/15000) / (1/5 + 0.05) = 3.2 years.
        let b = BatterySpec {
            self_discharge_per_year: 0.05,
            ..battery(None)
        };
        let t = Token::new(
            &spec(),
            Some(&b),
            "x".into(),
            0,
            3000,
            &mut stream(1, 0, Purpose::Secret),
        );
        let (d, cause) = t.death().unwrap();
        assert_eq!(cause, DeathCause::Battery);
        assert!((d as f64 / YEAR as f64 - 3.2).abs() < 1e-9);
    }

    #[test]
    fn battery_dies_at_closed_form_time_for_fixed_daily_codes() {
        // years/5 + codes/15000 = 1 with 10 codes a day: d/1826.25 + d/1500 = 1.
        let b = battery(None);
        let mut t = Token::new(
            &spec(),
            Some(&b),
            "x".into(),
            0,
            0,
            &mut stream(1, 0, Purpose::Secret),
        );
        let want_days = 1.0 / (1.0 / 1826.25 + 1.0 / 1500.0);
        let mut day = 0;
        while t.alive_at(day * DAY) {
            for _ in 0..10 {
                t.use_code(day * DAY);
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
        let b = battery(Some(3.0 * 31_557_600.0));
        let t = Token::new(
            &spec(),
            Some(&b),
            "x".into(),
            0,
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
