//! The `model` transport: otpdrift's own validator for a preset or `[validator]` table, on
//! simulated time. Tests probe it against a configuration they know; users plan with it.

use super::{Answer, Credential, Transport};
use crate::error::{Error, Result};
use crate::time::Millis;
use crate::validator::{CredentialState, Scheme, ValidatorConfig};

/// A validator model with its own clock, which only moves when the probe waits.
pub struct ModelTransport {
    cfg: ValidatorConfig,
    st: CredentialState,
    now: Millis,
    /// Whether it offers an administrator unlock (as privacyIDEA's `/token/reset` does).
    pub can_unlock: bool,
    /// Time an answer takes.
    pub latency_ms: Millis,
    /// Every decision, for tests: (time, code, verdict).
    pub decisions: Vec<(Millis, String, crate::validator::Verdict)>,
}

impl ModelTransport {
    /// The credential enrolled at `start`.
    pub fn new(cfg: ValidatorConfig, start: Millis) -> ModelTransport {
        ModelTransport {
            cfg,
            st: CredentialState::enrolled(start),
            now: start,
            can_unlock: false,
            latency_ms: 120,
            decisions: Vec::new(),
        }
    }
}

impl Transport for ModelTransport {
    fn now(&mut self) -> Millis {
        self.now
    }

    fn wait_until(&mut self, t: Millis) -> Result<()> {
        self.now = self.now.max(t);
        Ok(())
    }

    fn verify(&mut self, cred: &Credential, code: &str) -> Result<Answer> {
        let value = match code.parse::<u32>() {
            Ok(v) if code.len() == cred.digits as usize => v,
            _ => {
                return Err(Error::failed(format!(
                    "the probe sent `{code}`, not a code of {} digits",
                    cred.digits
                )))
            }
        };
        let scheme = Scheme::Totp {
            step_s: cred.step_s,
            t0: cred.t0,
        };
        let d = self.cfg.verify(&mut self.st, scheme, self.now, value, |s| {
            cred.code_value(s)
        });
        self.decisions.push((self.now, code.to_string(), d.verdict));
        self.now += self.latency_ms;
        Ok(Answer::of(d.verdict))
    }

    fn unlock(&mut self, _cred: &Credential) -> Result<bool> {
        if self.can_unlock {
            self.st.unlock();
        }
        Ok(self.can_unlock)
    }

    fn describe(&self) -> String {
        match &self.cfg.preset {
            Some(p) => format!("the otpdrift model of preset `{p}`, on simulated time"),
            None => "the otpdrift model of a [validator] table, on simulated time".into(),
        }
    }
}
