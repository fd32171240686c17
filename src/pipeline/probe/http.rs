//! The `http` transports: privacyIDEA's and LinOTP's `/validate/check`, a form POST by serial
//! (the credential's id), the answer read from the JSON each returns; privacyIDEA's
//! administrator calls (`/auth`, then `/token/reset` to unlock and `/token/resync` with two
//! codes) when credentials for them are in the environment.

use super::clock::Clock;
use crate::error::{Error, Result};
use crate::probe::{Answer, Credential, Transport};
use crate::time::Millis;
use serde_json::Value;

/// Which product's API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    PrivacyIdea,
    LinOtp,
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::PrivacyIdea => "privacyIDEA",
            Flavour::LinOtp => "LinOTP",
        }
    }
}

/// An administrator login for the unlock, read from `OTPDRIFT_ADMIN_USER` and
/// `OTPDRIFT_ADMIN_PASSWORD` (never from the command line, never written).
pub struct Admin {
    user: String,
    password: String,
}

impl Admin {
    #[cfg(test)]
    pub fn for_tests() -> Admin {
        Admin {
            user: "admin".into(),
            password: "test".into(),
        }
    }

    pub fn from_env() -> Option<Admin> {
        Some(Admin {
            user: std::env::var("OTPDRIFT_ADMIN_USER").ok()?,
            password: std::env::var("OTPDRIFT_ADMIN_PASSWORD").ok()?,
        })
    }
}

pub struct HttpTransport {
    base: String,
    flavour: Flavour,
    clock: Box<dyn Clock>,
    admin: Option<Admin>,
    timeout_s: u64,
}

/// Form encoding of one value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl HttpTransport {
    pub fn new(
        base: &str,
        flavour: Flavour,
        clock: Box<dyn Clock>,
        admin: Option<Admin>,
    ) -> HttpTransport {
        HttpTransport {
            base: base.trim_end_matches('/').to_string(),
            flavour,
            clock,
            admin,
            timeout_s: 30,
        }
    }

    fn post(&self, path: &str, form: &[(&str, &str)], auth: Option<&str>) -> Result<(i32, Value)> {
        let url = format!("{}{path}", self.base);
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect();
        let mut req = minreq::post(&url)
            .with_header("Content-Type", "application/x-www-form-urlencoded")
            .with_body(body.join("&"))
            .with_timeout(self.timeout_s);
        if let Some(a) = auth {
            req = req.with_header("Authorization", a);
        }
        let resp = req
            .send()
            .map_err(|e| Error::failed(format!("cannot reach {url}: {e}")))?;
        let text = resp.as_str().unwrap_or("");
        let json: Value = serde_json::from_str(text).map_err(|_| {
            let start: String = text.chars().take(80).collect();
            Error::failed(format!(
                "{url}: HTTP {} with an answer that is not {} JSON (it begins `{}`); nothing more was sent",
                resp.status_code,
                self.flavour.name(),
                start.replace('\n', " ")
            ))
        })?;
        Ok((resp.status_code, json))
    }

    /// privacyIDEA's administrator JWT (`/auth`), when a login is in the environment.
    fn admin_token(&self) -> Result<Option<String>> {
        let (Some(admin), Flavour::PrivacyIdea) = (&self.admin, self.flavour) else {
            return Ok(None);
        };
        let (_, j) = self.post(
            "/auth",
            &[("username", &admin.user), ("password", &admin.password)],
            None,
        )?;
        match j["result"]["value"]["token"].as_str() {
            Some(token) => Ok(Some(token.to_string())),
            None => Err(Error::input(format!(
                "{}/auth: the administrator login in OTPDRIFT_ADMIN_USER/OTPDRIFT_ADMIN_PASSWORD was refused",
                self.base
            ))),
        }
    }

    /// Reads a `/validate/check` answer.
    fn answer(&self, cred: &Credential, status: i32, j: &Value) -> Result<Answer> {
        let result = &j["result"];
        if result["status"] != Value::Bool(true) {
            let code = result["error"]["code"].as_i64().unwrap_or(0);
            let message = result["error"]["message"].as_str().unwrap_or("no message");
            // privacyIDEA 601: no such token; 904: no such user.
            if matches!(code, 601 | 904) || status == 404 {
                return Err(Error::input(format!(
                    "{}: the validator does not know credential {} ({} error {code}: {message}); enrol it with this id as its serial",
                    self.base, cred.id, self.flavour.name()
                )));
            }
            return Err(Error::failed(format!(
                "{}: {} error {code}: {message} (HTTP {status}); nothing more was sent",
                self.base,
                self.flavour.name()
            )));
        }
        let challenge = match self.flavour {
            Flavour::PrivacyIdea => result["authentication"] == "CHALLENGE",
            Flavour::LinOtp => j["detail"]["transactionid"].is_string(),
        };
        match result["value"] {
            Value::Bool(true) => Ok(Answer::Accept),
            Value::Bool(false) if challenge => Ok(Answer::Challenge),
            Value::Bool(false) => Ok(Answer::Reject),
            _ => Err(Error::failed(format!(
                "{}: an answer without result.value (HTTP {status}); nothing more was sent",
                self.base
            ))),
        }
    }
}

impl Transport for HttpTransport {
    fn now(&mut self) -> Millis {
        self.clock.now()
    }

    fn wait_until(&mut self, t: Millis) -> Result<()> {
        self.clock.wait_until(t)
    }

    fn verify(&mut self, cred: &Credential, code: &str) -> Result<Answer> {
        let (status, j) = self.post(
            "/validate/check",
            &[("serial", &cred.id), ("pass", code)],
            None,
        )?;
        self.answer(cred, status, &j)
    }

    fn unlock(&mut self, cred: &Credential) -> Result<bool> {
        let Some(token) = self.admin_token()? else {
            return Ok(false);
        };
        let (_, r) = self.post("/token/reset", &[("serial", &cred.id)], Some(&token))?;
        if r["result"]["status"] != Value::Bool(true) {
            return Err(Error::failed(format!(
                "{}/token/reset: the unlock of {} was refused: {}",
                self.base, cred.id, r["result"]["error"]["message"]
            )));
        }
        Ok(true)
    }

    fn has_resync(&self) -> bool {
        self.admin.is_some() && self.flavour == Flavour::PrivacyIdea
    }

    fn resync(&mut self, cred: &Credential, code1: &str, code2: &str) -> Result<bool> {
        let Some(token) = self.admin_token()? else {
            return Err(Error::failed(
                "no administrator login for the resync endpoint",
            ));
        };
        let (status, r) = self.post(
            "/token/resync",
            &[("serial", &cred.id), ("otp1", code1), ("otp2", code2)],
            Some(&token),
        )?;
        match (&r["result"]["status"], &r["result"]["value"]) {
            (Value::Bool(true), Value::Bool(ok)) => Ok(*ok),
            _ => Err(Error::failed(format!(
                "{}/token/resync: an answer without a result (HTTP {status}): {}; nothing more was sent",
                self.base, r["result"]["error"]["message"]
            ))),
        }
    }

    fn describe(&self) -> String {
        format!("{} /validate/check at {}", self.flavour.name(), self.base)
    }
}
