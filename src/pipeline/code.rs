//! `otpdrift code`: the one-time code of a secret at a time (TOTP) or counter (HOTP).

use crate::error::{Error, Result};
use crate::otp::{decode_base32, format_code, totp_step, Algorithm, Keyed};
use crate::time::{parse_time_arg, Millis};

/// A checked `code` request.
#[derive(Clone, Debug)]
pub struct CodePlan {
    pub key: Vec<u8>,
    pub algorithm: Algorithm,
    pub digits: u32,
    /// The HOTP counter, or the TOTP step of the requested time.
    pub counter: u64,
}

/// What the user asked of `code`.
#[derive(Clone, Debug)]
pub struct CodeRequest {
    /// The shared secret in Base32.
    pub secret: String,
    /// RFC 3339 time or Unix seconds (None: `now`).
    pub time: Option<String>,
    /// An HOTP counter instead of a time.
    pub counter: Option<u64>,
    pub digits: u32,
    /// The TOTP step in seconds, and its epoch T0 in Unix seconds.
    pub step: u32,
    pub t0: i64,
    pub algorithm: Algorithm,
    /// The wall clock, for a request without a time.
    pub now: Millis,
}

impl CodePlan {
    pub fn new(r: CodeRequest) -> Result<CodePlan> {
        let key = decode_base32(&r.secret).map_err(|e| Error::input(format!("--secret: {e}")))?;
        let counter = match r.counter {
            Some(c) => c,
            None => {
                let t = match &r.time {
                    Some(s) => {
                        parse_time_arg(s).map_err(|e| Error::input(format!("--time: {e}")))?
                    }
                    None => r.now,
                };
                let s = totp_step(t.div_euclid(1000), r.t0, r.step);
                u64::try_from(s)
                    .map_err(|_| Error::input("--time: before T0, there is no TOTP step"))?
            }
        };
        Ok(CodePlan {
            key,
            algorithm: r.algorithm,
            digits: r.digits,
            counter,
        })
    }

    /// The code, zero-padded to its digits.
    pub fn code(&self) -> String {
        let keyed = Keyed::new(self.algorithm, &self.key);
        format_code(keyed.hotp(self.counter, self.digits), self.digits)
    }
}
