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

impl CodePlan {
    /// From the flags: a Base32 secret, and a counter or a time (RFC 3339 or Unix seconds;
    /// None: `now`).
    pub fn new(
        secret: &str,
        time: Option<&str>,
        counter: Option<u64>,
        now: Millis,
        (digits, step, t0): (u32, u32, i64),
        algorithm: Algorithm,
    ) -> Result<CodePlan> {
        let key = decode_base32(secret).map_err(|e| Error::input(format!("--secret: {e}")))?;
        let counter = match counter {
            Some(c) => c,
            None => {
                let t = match time {
                    Some(s) => {
                        parse_time_arg(s).map_err(|e| Error::input(format!("--time: {e}")))?
                    }
                    None => now,
                };
                let s = totp_step(t.div_euclid(1000), t0, step);
                u64::try_from(s)
                    .map_err(|_| Error::input("--time: before T0, there is no TOTP step"))?
            }
        };
        Ok(CodePlan {
            key,
            algorithm,
            digits,
            counter,
        })
    }

    /// The code, zero-padded to its digits.
    pub fn code(&self) -> String {
        let keyed = Keyed::new(self.algorithm, &self.key);
        format_code(keyed.hotp(self.counter, self.digits), self.digits)
    }
}
