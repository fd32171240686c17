//! Per-attempt traces of sampled users: every request the validator saw for their credentials,
//! in the order it saw them, with the run's decision, so a trace replays to the same decisions.

use crate::otp::Algorithm;
use crate::time::Millis;
use crate::validator::{Decision, SyncFailure};

/// Which users' attempts are traced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TraceSelect {
    #[default]
    None,
    /// About this many users, spread evenly over the fleet (every k-th user).
    Sample(u64),
    All,
}

impl TraceSelect {
    /// `N` (users, from 1) or `all`, as `--trace` takes it.
    pub fn parse(s: &str) -> Result<TraceSelect, String> {
        match s {
            "all" => Ok(TraceSelect::All),
            n => n
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(TraceSelect::Sample)
                .ok_or_else(|| format!("expected a number of users from 1, or `all`, found `{n}`")),
        }
    }

    /// Whether user `index` of a fleet of `tokens` is traced.
    pub fn includes(self, index: u64, tokens: u64) -> bool {
        match self {
            TraceSelect::None => false,
            TraceSelect::All => true,
            TraceSelect::Sample(0) => false,
            TraceSelect::Sample(n) => index % (tokens / n.min(tokens)).max(1) == 0,
        }
    }
}

/// What was asked of the validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceAction {
    /// The credential was enrolled (a first token, a replacement, a reinstall).
    Enrol,
    Verify(u32),
    /// The explicit sync procedure with these codes.
    Sync(Vec<u32>),
    /// The helpdesk cleared the lock.
    Unlock,
}

/// What the validator answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceOutcome {
    Verified(Decision),
    Synced(Result<i64, SyncFailure>),
    Done,
}

/// One request for a traced credential.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEvent {
    pub token: u64,
    pub credential: String,
    /// The server's clock at the request (true time plus the server's error).
    pub time: Millis,
    pub action: TraceAction,
    /// Digits of the credential's codes (for writing them zero-padded).
    pub digits: u32,
    /// Device clock minus true time when the code was read (TOTP verify and sync).
    pub true_offset_s: Option<f64>,
    pub outcome: TraceOutcome,
}

/// The secret and code parameters of a traced credential.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSecret {
    pub credential: String,
    pub key: Vec<u8>,
    pub algorithm: Algorithm,
    pub digits: u32,
    /// None for HOTP.
    pub totp: Option<(u32, i64)>,
}
