//! HOTP (RFC 4226) and TOTP (RFC 6238) codes. Knows no clocks: callers pass counters or Unix seconds.
//!
//! The HMAC key schedule (the padded inner and outer states) is computed once per secret in
//! [`Keyed::new`]; each code then starts from those states, which halves the hashing work per
//! code (for SHA-1, the common case, two compressions and nothing else: [`Sha1Pads`]).

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::digest::generic_array::GenericArray;
use sha1::{Digest, Sha1};
use sha2::{Sha256, Sha512};
use std::fmt;

/// What a token shows for a step before T0, and what a malformed typed code becomes: no step
/// has this code (codes are below 10^digits), so it never matches. One rule everywhere: a
/// step before T0 has no code (`otpdrift code` refuses it too).
pub const NO_CODE: u32 = u32::MAX;

/// The HMAC hash of a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub const NAMES: &'static str = "sha1, sha256, sha512";

    pub fn parse(s: &str) -> Option<Algorithm> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// Secret length in bytes that RFC 6238's test vectors use and issuers commonly choose.
    pub fn secret_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        })
    }
}

/// A secret with its HMAC key schedule already computed.
#[derive(Clone)]
pub enum Keyed {
    Sha1(Sha1Pads),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl Keyed {
    pub fn new(alg: Algorithm, secret: &[u8]) -> Keyed {
        // HMAC accepts keys of any length, so new_from_slice cannot fail.
        match alg {
            Algorithm::Sha1 => Keyed::Sha1(Sha1Pads::new(secret)),
            Algorithm::Sha256 => {
                Keyed::Sha256(Hmac::new_from_slice(secret).expect("any key length"))
            }
            Algorithm::Sha512 => {
                Keyed::Sha512(Hmac::new_from_slice(secret).expect("any key length"))
            }
        }
    }

    /// HOTP(K, C) with `digits` digits (RFC 4226 s5.3 dynamic truncation).
    pub fn hotp(&self, counter: u64, digits: u32) -> u32 {
        let msg = counter.to_be_bytes();
        let bin = match self {
            Keyed::Sha1(p) => truncate_words(&p.mac_words(msg)),
            Keyed::Sha256(m) => truncated(m, &msg),
            Keyed::Sha512(m) => truncated(m, &msg),
        };
        // The usual digit counts as constants: the compiler turns `%` by a constant into a
        // multiply, where a divisor read from a table is a hardware division.
        match digits {
            6 => bin % 1_000_000,
            8 => bin % 100_000_000,
            _ => bin % POW10[digits as usize],
        }
    }
}

/// 10^d for the 1 to 9 digits a code can have: a lookup, where `10u32.pow(d)` loops on every
/// code.
pub const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// HMAC-SHA1 of one 8-byte counter from the key's inner and outer hash states, each computed
/// once: exactly two SHA-1 compressions a code, with the padded blocks laid out by hand (RFC
/// 2104 over FIPS 180-4's padding). The generic `Hmac` does the same hashing through block
/// buffers and a finalizer, which cost a third as much again as the hashing.
#[derive(Clone)]
pub struct Sha1Pads {
    inner: [u32; 5],
    outer: [u32; 5],
}

const SHA1_H0: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];

/// One 64-byte block through the compression function.
fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
    sha1::compress(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

impl Sha1Pads {
    pub fn new(key: &[u8]) -> Sha1Pads {
        // Keys longer than a block are hashed first (RFC 2104 s2).
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..20].copy_from_slice(&Sha1::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let pad = |x: u8| {
            let mut s = SHA1_H0;
            compress(&mut s, &k.map(|c| c ^ x));
            s
        };
        Sha1Pads {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// HMAC-SHA1(key, msg).
    pub fn mac(&self, msg: [u8; 8]) -> [u8; 20] {
        let mut digest = [0u8; 20];
        put_words(&self.mac_words(msg), &mut digest);
        digest
    }

    /// HMAC-SHA1(key, msg) as the outer hash's five state words (the digest is their
    /// big-endian bytes).
    fn mac_words(&self, msg: [u8; 8]) -> [u32; 5] {
        let mut inner = self.inner;
        compress(&mut inner, &after_pad(&msg));
        let mut digest = [0u8; 20];
        put_words(&inner, &mut digest);
        let mut outer = self.outer;
        compress(&mut outer, &after_pad(&digest));
        outer
    }
}

/// The one block that follows a pad's block for a message of under 56 bytes: the bytes,
/// 0x80, zeros, and the bit length of pad and message.
fn after_pad(msg: &[u8]) -> [u8; 64] {
    let mut b = [0u8; 64];
    b[..msg.len()].copy_from_slice(msg);
    b[msg.len()] = 0x80;
    b[56..].copy_from_slice(&((64 + msg.len()) as u64 * 8).to_be_bytes());
    b
}

/// A SHA-1 state as its 20-byte digest, at the start of `out`.
fn put_words(state: &[u32; 5], out: &mut [u8]) {
    for (i, w) in state.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
}

fn truncated<M: Mac + Clone>(m: &M, msg: &[u8]) -> u32 {
    let mut m = m.clone();
    m.update(msg);
    truncate(&m.finalize().into_bytes())
}

/// [`truncate`] of a SHA-1 digest given as its state words: the four bytes at the offset
/// are read from the two words they fall in, so the digest is never stored as bytes and
/// loaded back at an odd offset (a load the CPU cannot forward from the smaller stores).
fn truncate_words(w: &[u32; 5]) -> u32 {
    let off = (w[4] & 0x0f) as usize;
    let (i, byte) = (off / 4, off % 4);
    let pair = (w[i] as u64) << 32 | w[i + 1] as u64;
    ((pair >> (32 - 8 * byte)) as u32) & 0x7fff_ffff
}

fn truncate(h: &[u8]) -> u32 {
    let off = (h[h.len() - 1] & 0x0f) as usize;
    u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]])
}

/// The TOTP time step of Unix second `unix_s`: floor((t - T0) / X) (RFC 6238 s4.2).
pub fn totp_step(unix_s: i64, t0: i64, step_s: u32) -> i64 {
    (unix_s - t0).div_euclid(step_s as i64)
}

/// [`totp_step`] of a time in milliseconds (`t0_ms` and `step_ms` in milliseconds too), in one
/// division: the floor of a floor by positive divisors is the floor by their product.
pub fn totp_step_ms(unix_ms: i64, t0_ms: i64, step_ms: i64) -> i64 {
    div_step(unix_ms - t0_ms, step_ms)
}

/// `x.div_euclid(step_ms)`. The usual steps (30 and 60 s) are written as constants, which the
/// compiler divides by a multiply and shifts: a 64-bit division costs tens of cycles, and a
/// login makes three.
#[inline]
pub fn div_step(x: i64, step_ms: i64) -> i64 {
    match step_ms {
        30_000 => x.div_euclid(30_000),
        60_000 => x.div_euclid(60_000),
        _ => x.div_euclid(step_ms),
    }
}

/// `x.rem_euclid(step_ms)`, as [`div_step`].
#[inline]
pub fn rem_step(x: i64, step_ms: i64) -> i64 {
    match step_ms {
        30_000 => x.rem_euclid(30_000),
        60_000 => x.rem_euclid(60_000),
        _ => x.rem_euclid(step_ms),
    }
}

/// Formats a code zero-padded to `digits`.
pub fn format_code(code: u32, digits: u32) -> String {
    format!("{code:0width$}", width = digits as usize)
}

/// RFC 4648 Base32 as secrets are typed: case-insensitive, spaces, dashes and `=` padding
/// ignored, unused trailing bits allowed (some apps leave them set).
fn base32_typed() -> &'static data_encoding::Encoding {
    static SPEC: std::sync::OnceLock<data_encoding::Encoding> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        let mut spec = data_encoding::BASE32_NOPAD.specification();
        spec.ignore.push_str(" -=");
        spec.translate.from.push_str("abcdefghijklmnopqrstuvwxyz");
        spec.translate.to.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        spec.check_trailing_bits = false;
        spec.encoding().expect("a valid Base32 specification")
    })
}

/// Decodes RFC 4648 Base32 (case-insensitive; spaces, dashes and `=` padding ignored). A
/// message never repeats the secret: it may be written to a log.
pub fn decode_base32(s: &str) -> Result<Vec<u8>, String> {
    if s.chars().all(|c| matches!(c, ' ' | '-' | '=')) {
        return Err("the secret is empty".into());
    }
    base32_typed().decode(s.as_bytes()).map_err(|_| {
        // The crate checks the length first; a wrong character is the clearer message.
        let symbol = s.char_indices().find(|(_, c)| {
            !matches!(c.to_ascii_uppercase(), 'A'..='Z' | '2'..='7' | ' ' | '-' | '=')
        });
        match symbol {
            Some((byte, c)) => format!(
                "character `{c}` at position {} is not base32 (A-Z, 2-7)",
                s[..byte].chars().count() + 1
            ),
            None => {
                let n = s.chars().filter(|c| !matches!(c, ' ' | '-' | '=')).count();
                if n < 2 {
                    "the secret is shorter than one byte (8 Base32 characters make 5 bytes)".to_string()
                } else {
                    format!(
                        "the secret has {n} Base32 characters, a length no whole number of bytes has (8 characters make 5 bytes; {} or {} would)",
                        n - 1,
                        n + 1
                    )
                }
            }
        }
    })
}

/// Base32 (RFC 4648) without padding, as authenticator apps show secrets.
pub fn encode_base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sha1_pads_are_hmac_sha1(key in proptest::collection::vec(any::<u8>(), 0..200), counter in any::<u64>()) {
            let mut m = <Hmac<Sha1> as Mac>::new_from_slice(&key).unwrap();
            m.update(&counter.to_be_bytes());
            let want: [u8; 20] = m.finalize().into_bytes().into();
            prop_assert_eq!(Sha1Pads::new(&key).mac(counter.to_be_bytes()), want);
        }

        #[test]
        fn codes_from_state_words_are_the_rfc_4226_truncation(key in proptest::collection::vec(any::<u8>(), 0..80), counter in any::<u64>(), digits in 1u32..=9) {
            let pads = Sha1Pads::new(&key);
            let bin = truncate(&pads.mac(counter.to_be_bytes()));
            prop_assert_eq!(truncate_words(&pads.mac_words(counter.to_be_bytes())), bin);
            prop_assert_eq!(Keyed::new(Algorithm::Sha1, &key).hotp(counter, digits), bin % 10u32.pow(digits));
        }

        #[test]
        fn the_step_of_a_millisecond_time_is_the_step_of_its_second(ms in -4_000_000_000_000i64..400_000_000_000_000, t0 in -100_000i64..100_000, step in 1u32..=600) {
            let want = totp_step(ms.div_euclid(1000), t0, step);
            prop_assert_eq!(totp_step_ms(ms, t0 * 1000, step as i64 * 1000), want);
            for step_ms in [30_000, 60_000, step as i64 * 1000] {
                prop_assert_eq!(div_step(ms, step_ms), ms.div_euclid(step_ms));
                prop_assert_eq!(rem_step(ms, step_ms), ms.rem_euclid(step_ms));
            }
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        // RFC 4648 s10 test vectors, without padding.
        for (plain, enc) in [
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(encode_base32(plain.as_bytes()), enc);
            assert_eq!(decode_base32(enc).unwrap(), plain.as_bytes());
        }
    }

    const RFC4226_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc4226_appendix_d() {
        let k = Keyed::new(Algorithm::Sha1, RFC4226_KEY);
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (c, w) in want.iter().enumerate() {
            assert_eq!(k.hotp(c as u64, 6), *w, "counter {c}");
        }
    }

    #[test]
    fn rfc4226_truncation_intermediate() {
        // Appendix D lists the truncated 31-bit values for counters 0 and 1.
        let k = Keyed::new(Algorithm::Sha1, RFC4226_KEY);
        assert_eq!(k.hotp(0, 9), 1284755224 % 1_000_000_000);
        assert_eq!(k.hotp(1, 9), 1094287082 % 1_000_000_000);
    }

    #[test]
    fn rfc6238_appendix_b() {
        let k1 = Keyed::new(Algorithm::Sha1, b"12345678901234567890");
        let k256 = Keyed::new(Algorithm::Sha256, b"12345678901234567890123456789012");
        let k512 = Keyed::new(
            Algorithm::Sha512,
            b"1234567890123456789012345678901234567890123456789012345678901234",
        );
        let table: [(i64, u32, u32, u32); 6] = [
            (59, 94287082, 46119246, 90693936),
            (1111111109, 7081804, 68084774, 25091201),
            (1111111111, 14050471, 67062674, 99943326),
            (1234567890, 89005924, 91819424, 93441116),
            (2000000000, 69279037, 90698825, 38618901),
            (20000000000, 65353130, 77737706, 47863826),
        ];
        for (t, c1, c256, c512) in table {
            let step = totp_step(t, 0, 30) as u64;
            assert_eq!(k1.hotp(step, 8), c1, "sha1 t={t}");
            assert_eq!(k256.hotp(step, 8), c256, "sha256 t={t}");
            assert_eq!(k512.hotp(step, 8), c512, "sha512 t={t}");
        }
        assert_eq!(totp_step(1111111109, 0, 30), 0x23523EC);
        assert_eq!(totp_step(20000000000, 0, 30), 0x27BC86AA);
    }

    #[test]
    fn base32() {
        assert_eq!(
            decode_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(),
            RFC4226_KEY
        );
        assert_eq!(
            decode_base32("jbsw y3dp ehpk 3pxp").unwrap(),
            b"Hello!\xde\xad\xbe\xef"
        );
        assert!(decode_base32("ABC1").unwrap_err().contains("position 4"));
        // Positions count characters as typed, ignored ones and non-ASCII included.
        assert_eq!(
            decode_base32("AB C-é2").unwrap_err(),
            "character `é` at position 6 is not base32 (A-Z, 2-7)"
        );
        // Unused trailing bits may be set (10 bits, 8 used).
        assert_eq!(decode_base32("GH").unwrap(), [0x31]);
        assert_eq!(decode_base32("  ==").unwrap_err(), "the secret is empty");
        assert_eq!(
            decode_base32("G").unwrap_err(),
            "the secret is shorter than one byte (8 Base32 characters make 5 bytes)"
        );
        assert_eq!(
            decode_base32("GEZ").unwrap_err(),
            "the secret has 3 Base32 characters, a length no whole number of bytes has (8 characters make 5 bytes; 2 or 4 would)"
        );
        assert_eq!(format_code(7081804, 8), "07081804");
        assert_eq!(format_code(42, 6), "000042");
    }

    #[test]
    fn negative_time_steps_floor() {
        assert_eq!(totp_step(-1, 0, 30), -1);
        assert_eq!(totp_step(29, 0, 30), 0);
        assert_eq!(totp_step(100, 40, 30), 2);
    }
}
