//! Seeded random streams: one portable ChaCha8 stream per (scenario seed, token, purpose).
//!
//! A token's draws never depend on which thread or shard simulates it, and each purpose has its
//! own stream, so changing a validator setting leaves every token's clock path and login
//! schedule unchanged (common random numbers across sweep points).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub type Rng = ChaCha8Rng;

/// The generation of otpdrift's random streams, raised whenever a change makes the same
/// scenario and seed give other results (2: per-login SplitMix64 generators; 3: the model fixes
/// of 2026-12-04; 4: a login that comes due during another is that login, 2026-12-06; 5: a
/// sync prompt's codes follow a resubmission, 2026-12-07; docs/known-issues.md). Recorded in
/// every manifest; shards of different generations are not merged.
pub const STREAMS: u32 = 5;

/// What a stream is used for. The discriminants are part of the output format: changing one
/// changes every result, so they are fixed numbers, never reordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Secret = 1,
    Clock = 2,
    Schedule = 3,
    Behaviour = 4,
    Token = 5,
    Validator = 6,
    Recovery = 7,
    Attack = 8,
    /// A cluster's routing and replication lags (drawn only for clusters).
    Route = 9,
}

/// The stream for one token and purpose.
pub fn stream(seed: u64, token: u64, purpose: Purpose) -> Rng {
    stream_gen(seed, token, purpose, 0)
}

/// The stream for one of a user's successive credentials (generation 0 is the first), so a
/// replacement token gets a fresh clock and secret without disturbing any other draw.
pub fn stream_gen(seed: u64, token: u64, purpose: Purpose, generation: u32) -> Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(purpose as u64).to_le_bytes());
    key[16..24].copy_from_slice(b"otpdrift");
    key[24..28].copy_from_slice(&generation.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(token);
    rng
}

/// One login's own generator: SplitMix64 (Steele, Lea and Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014; it passes BigCrush), started from the token's
/// behaviour key mixed with the login's number. Each login draws from its own sequence, so later
/// logins' draws stay fixed even when an earlier login took more retries at another setting;
/// a login draws a handful of numbers, so setting up a ChaCha block per login (256 bytes of
/// keystream, 14% of a run) bought nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRng(u64);

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// MurmurHash3's 64-bit finalizer (the SplitMix64 output function's relative).
fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl rand::RngCore for LoginRng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        fmix(self.0)
    }

    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        rand::rand_core::impls::fill_bytes_via_next(self, dst)
    }
}

/// A token's behaviour key, from which every login's generator starts.
pub fn behaviour_key(seed: u64, token: u64) -> u64 {
    use rand::RngCore;
    stream(seed, token, Purpose::Behaviour).next_u64()
}

/// The generator of login number `login` of the token with behaviour key `key`.
pub fn behaviour_at(key: u64, login: u64) -> LoginRng {
    LoginRng(fmix(
        key ^ fmix(login.wrapping_mul(GOLDEN) ^ 0x6f74_7064_7269_6674),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_are_distinct_and_reproducible() {
        let a = stream(7, 3, Purpose::Clock).next_u64();
        assert_eq!(a, stream(7, 3, Purpose::Clock).next_u64());
        assert_ne!(a, stream(7, 4, Purpose::Clock).next_u64());
        assert_ne!(a, stream(7, 3, Purpose::Schedule).next_u64());
        assert_ne!(a, stream(8, 3, Purpose::Clock).next_u64());
    }

    #[test]
    fn login_generators_are_reproducible_distinct_and_uniform() {
        let key = behaviour_key(1, 1);
        assert_eq!(key, behaviour_key(1, 1));
        assert_ne!(key, behaviour_key(1, 2));
        assert_ne!(key, behaviour_key(2, 1));
        let first = behaviour_at(key, 5).next_u64();
        assert_eq!(first, behaviour_at(key, 5).next_u64());
        // Neighbouring logins and neighbouring draws share no bits beyond chance: the mean of
        // 100,000 uniforms from consecutive logins is 1/2 within 4 standard errors, and so is the
        // share of equal top bits between login n's and login n+1's first draw.
        let n = 100_000;
        let (mut sum, mut same) = (0.0, 0u32);
        for l in 0..n {
            let mut r = behaviour_at(key, l);
            let a = r.next_u64();
            sum += (a >> 11) as f64 / (1u64 << 53) as f64;
            same += u32::from(a >> 63 == behaviour_at(key, l + 1).next_u64() >> 63);
        }
        let se = (1.0f64 / 12.0 / n as f64).sqrt();
        assert!(
            (sum / n as f64 - 0.5).abs() < 4.0 * se,
            "{}",
            sum / n as f64
        );
        assert!((same as f64 / n as f64 - 0.5).abs() < 4.0 * (0.25 / n as f64).sqrt());
    }
}
