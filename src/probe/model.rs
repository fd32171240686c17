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

impl ModelTransport {
    fn value(&self, cred: &Credential, code: &str) -> Result<u32> {
        match code.parse::<u32>() {
            Ok(v) if code.len() == cred.digits as usize => Ok(v),
            _ => Err(Error::failed(format!(
                "the probe sent `{code}`, not a code of {} digits",
                cred.digits
            ))),
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
        let value = self.value(cred, code)?;
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

    /// The administrator API that unlocks also resyncs (as privacyIDEA's does); a
    /// configuration without a resync procedure refuses every pair.
    fn has_resync(&self) -> bool {
        self.can_unlock
    }

    fn resync(&mut self, cred: &Credential, code1: &str, code2: &str) -> Result<bool> {
        let codes = [self.value(cred, code1)?, self.value(cred, code2)?];
        let scheme = Scheme::Totp {
            step_s: cred.step_s,
            t0: cred.t0,
        };
        let ok = self
            .cfg
            .sync(&mut self.st, scheme, self.now, &codes, |s| {
                cred.code_value(s)
            })
            .is_ok();
        self.now += self.latency_ms;
        Ok(ok)
    }

    fn describe(&self) -> String {
        match &self.cfg.preset {
            Some(p) => format!("the otpdrift model of preset `{p}`, on simulated time"),
            None => "the otpdrift model of a [validator] table, on simulated time".into(),
        }
    }
}
