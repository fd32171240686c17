//! `otpdrift code`'s flags, and what it prints.

use super::emit;
use crate::error::Result;
use crate::otp::Algorithm;
use crate::pipeline::code::{CodePlan, CodeRequest};

/// The flags of `otpdrift code`.
#[derive(clap::Args, Debug)]
pub struct CodeArgs {
    /// The shared secret in base32.
    #[arg(long)]
    pub secret: String,
    /// RFC 3339 time or Unix seconds (default: now).
    #[arg(long, conflicts_with = "counter")]
    pub time: Option<String>,
    /// HOTP counter instead of a time.
    #[arg(long)]
    pub counter: Option<u64>,
    /// Digits of the code, 1 to 9 (RFC 4226 asks for 6 to 8), as in a scenario's token.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9))]
    pub digits: u32,
    /// TOTP time step in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub step: u32,
    /// TOTP epoch T0 in Unix seconds.
    #[arg(long, default_value_t = 0)]
    pub t0: i64,
    /// HMAC hash: sha1, sha256 or sha512.
    #[arg(long, default_value = "sha1", value_parser = algorithm)]
    pub algorithm: Algorithm,
}

fn algorithm(s: &str) -> std::result::Result<Algorithm, String> {
    Algorithm::parse(s).ok_or_else(|| format!("expected one of {}", Algorithm::NAMES))
}

impl CodeArgs {
    pub fn execute(self) -> Result<()> {
        let plan = CodePlan::new(CodeRequest {
            secret: self.secret,
            time: self.time,
            counter: self.counter,
            digits: self.digits,
            step: self.step,
            t0: self.t0,
            algorithm: self.algorithm,
            now: crate::pipeline::now_ms(),
        })?;
        emit(&format!("{}\n", plan.code()))
    }
}
