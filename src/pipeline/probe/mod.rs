//! `otpdrift probe`: measure the rules of a validator through a transport, for test credentials
//! whose secrets the user holds, and write the configuration found (validator.toml), every
//! attempt with its answer (attempts.csv, the replay format) and report.md. The plan is made
//! and printed before the first attempt.

mod clock;
mod http;
mod pam;
mod radius;

pub use clock::{Clock, FileClock, SharedClock, WallClock};
pub use http::{Flavour, HttpTransport};
pub use pam::PamTransport;
pub use radius::{RadiusTransport, SharedSecret};

use super::replay::{read_secrets, validator_from};
use super::{Output, Progress};
use crate::error::{Error, Result};
use crate::export;
use crate::probe::{model::ModelTransport, probe, Credential, Limits, Transport};
use crate::results::probe::{CredentialProbe, ProbeData};
use crate::time::{format_duration, format_rfc3339, parse_duration, Millis};
use crate::validator::{Scheme, ValidatorConfig};
use std::path::{Path, PathBuf};

/// What the user asked of `probe`.
#[derive(Clone, Debug, Default)]
pub struct ProbeRequest {
    /// `model:PRESET` or `model:FILE.toml`.
    pub target: String,
    /// The test credentials' secrets (CSV or PSKC).
    pub secrets: PathBuf,
    /// The credentials to probe (default: every TOTP credential in the file).
    pub credentials: Vec<String>,
    pub output: Output,
    /// Print the plan and stop.
    pub dry_run: bool,
    pub allow_lockout: bool,
    /// `N/s`, `N/min` or `N/h` (default 12/min).
    pub max_rate: Option<String>,
    pub max_attempts: Option<u32>,
    /// A duration (default 3h) of the validator's time per credential.
    pub max_time: Option<String>,
    pub max_window: Option<u32>,
    /// The widest band beyond the window looked for, in steps (default 40).
    pub max_band: Option<u32>,
    /// A libfaketime timestamp file that sets a local test server's clock: the probe moves
    /// the server's time instead of waiting.
    pub server_clock_file: Option<PathBuf>,
    /// The RADIUS shared secret's file (else `OTPDRIFT_RADIUS_SECRET`).
    pub radius_secret_file: Option<PathBuf>,
    /// The program that runs one PAM conversation (default `pamtester`).
    pub pam_helper: Option<PathBuf>,
}

/// What the probe talks to.
#[derive(Clone, Debug)]
pub enum Target {
    /// otpdrift's own validator, on simulated time.
    Model(Box<ValidatorConfig>),
    /// A product's HTTP API at a base URL.
    Http { base: String, flavour: Flavour },
    /// A RADIUS server, `HOST:PORT`.
    Radius { server: String },
    /// A PAM service on this machine.
    Pam { service: String },
}

/// A checked probe: the target, the credentials, the limits and where to write.
pub struct ProbePlan {
    pub target_text: String,
    pub target: Target,
    pub secrets_file: String,
    pub credentials: Vec<Credential>,
    pub limits: Limits,
    pub out: PathBuf,
    pub force: bool,
    pub dry_run: bool,
    pub server_clock_file: Option<PathBuf>,
    pub radius_secret: Option<SharedSecret>,
    pub pam_helper: PathBuf,
}

fn parse_rate(s: &str) -> Result<Millis> {
    let bad = || {
        Error::input(format!(
            "--max-rate: expected N/s, N/min or N/h with N > 0 (for example 12/min), found `{s}`"
        ))
    };
    let (n, unit) = s.split_once('/').ok_or_else(bad)?;
    let n: f64 = n.trim().parse().map_err(|_| bad())?;
    let per = match unit.trim() {
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(bad()),
    };
    if !(n > 0.0 && n.is_finite()) || per / n < 100.0 {
        return Err(bad());
    }
    Ok((per / n).round() as Millis)
}

fn parse_target(t: &str) -> Result<Target> {
    match t.split_once(':') {
        Some(("model", what)) if !what.is_empty() => {
            let v = if what.ends_with(".toml") || Path::new(what).is_file() {
                validator_from(Some(Path::new(what)), None, &[])?
            } else {
                validator_from(None, Some(what), &[])?
            };
            Ok(Target::Model(Box::new(v)))
        }
        Some((product @ ("privacyidea" | "linotp"), url)) if url.starts_with("http://") => {
            Ok(Target::Http {
                base: url.to_string(),
                flavour: if product == "privacyidea" {
                    Flavour::PrivacyIdea
                } else {
                    Flavour::LinOtp
                },
            })
        }
        Some(("radius", server)) if server.contains(':') => Ok(Target::Radius {
            server: server.to_string(),
        }),
        Some(("pam", service))
            if !service.is_empty()
                && service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
        {
            Ok(Target::Pam {
                service: service.to_string(),
            })
        }
        _ => Err(Error::input(format!(
            "probe TARGET: expected model:PRESET, model:FILE.toml, privacyidea:http://HOST:PORT, linotp:http://HOST:PORT, radius:HOST:PORT or pam:SERVICE, found `{t}` (HTTPS is not in this version: docs/probe.md)"
        ))),
    }
}

impl ProbePlan {
    pub fn new(r: ProbeRequest) -> Result<ProbePlan> {
        let target = parse_target(&r.target)?;
        let radius_secret = match (&target, &r.radius_secret_file) {
            (Target::Radius { .. }, Some(f)) => Some(SharedSecret::from_file(f)?),
            (Target::Radius { .. }, None) => Some(SharedSecret::from_env().ok_or_else(|| {
                Error::input(
                    "radius: the shared secret comes from --radius-secret-file FILE or the environment variable OTPDRIFT_RADIUS_SECRET (never the command line)",
                )
            })??),
            (_, Some(_)) => {
                return Err(Error::input(
                    "--radius-secret-file: only a radius:HOST:PORT target has a shared secret",
                ))
            }
            _ => None,
        };
        if r.pam_helper.is_some() && !matches!(target, Target::Pam { .. }) {
            return Err(Error::input(
                "--pam-helper: only a pam:SERVICE target runs a PAM helper",
            ));
        }
        let secrets_file = r.secrets.display().to_string();
        let bytes = std::fs::read(&r.secrets)
            .map_err(|e| Error::input(format!("cannot read secrets {secrets_file}: {e}")))?;
        let secrets = read_secrets(&secrets_file, &bytes)?;
        let mut ids: Vec<String> = if r.credentials.is_empty() {
            let mut v: Vec<String> = secrets.keys().cloned().collect();
            v.sort();
            v
        } else {
            r.credentials.clone()
        };
        ids.dedup();
        let mut credentials = Vec::new();
        for id in &ids {
            let s = secrets
                .get(id)
                .ok_or_else(|| Error::input(format!("--credential {id}: not in {secrets_file}")))?;
            let Scheme::Totp { step_s, t0 } = s.scheme else {
                return Err(Error::input(format!(
                    "{secrets_file}: credential {id} is HOTP; probe measures TOTP validators"
                )));
            };
            credentials.push(Credential {
                id: id.clone(),
                keyed: s.keyed.clone(),
                digits: s.digits,
                step_s,
                t0,
            });
        }
        if credentials.is_empty() {
            return Err(Error::input(format!(
                "{secrets_file}: no credential to probe"
            )));
        }
        let mut limits = Limits {
            allow_lockout: r.allow_lockout,
            ..Limits::default()
        };
        if let Some(m) = &r.max_rate {
            limits.min_interval_ms = parse_rate(m)?;
        }
        if let Some(n) = r.max_attempts {
            if n < 2 {
                return Err(Error::input(format!(
                    "--max-attempts: expected at least 2, found {n}"
                )));
            }
            limits.max_attempts = n;
        }
        if let Some(t) = &r.max_time {
            let s = parse_duration(t).map_err(|e| Error::input(format!("--max-time: {e}")))?;
            limits.max_time_ms = (s * 1000.0) as Millis;
        }
        if let Some(w) = r.max_window {
            if !(1..=4096).contains(&w) {
                return Err(Error::input(format!(
                    "--max-window: expected 1 to 4096 steps, found {w}"
                )));
            }
            limits.max_window = w;
        }
        if let Some(b) = r.max_band {
            if !(1..=20_000).contains(&b) {
                return Err(Error::input(format!(
                    "--max-band: expected 1 to 20000 steps, found {b}"
                )));
            }
            limits.max_band = b;
        }
        let name = format!(
            "probe-{}",
            r.target
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                })
                .collect::<String>()
        );
        let force = r.output.force;
        let out = r
            .output
            .out
            .unwrap_or_else(|| super::default_out(&name, force));
        if !r.dry_run {
            export::check_writable(&out, force)?;
        }
        Ok(ProbePlan {
            target_text: r.target,
            target,
            secrets_file,
            credentials,
            limits,
            out,
            force,
            dry_run: r.dry_run,
            server_clock_file: r.server_clock_file,
            radius_secret,
            pam_helper: r.pam_helper.unwrap_or_else(|| "pamtester".into()),
        })
    }

    /// The plan printed before the first attempt: what is measured, at most how many attempts
    /// and how long, and what it changes on the server.
    pub fn text(&self) -> String {
        let l = &self.limits;
        let ids: Vec<&str> = self.credentials.iter().map(|c| c.id.as_str()).collect();
        format!(
            "probe plan for {target}\n\
             credentials: {ids}\n\
             measures: the window back and ahead (up to ±{w} steps), the replay rule, drift learning, a band past the window (automatic resync, auto-sync; up to ±{band} steps){resync}{lock}\n\
             at most {n} attempts and {t} of the validator's time per credential, one attempt every {pace} at most\n\
             changes on the server: steps of accepted codes become used; the learned drift moves while measuring and is walked back to 0 at the end; after every refused code a correct one clears the failure count; where a band takes codes past the window, its trials move the credential's centre ahead (up to about {push} steps) and a time-forward rule then refuses the token's own codes until the probe has brought it back, waiting as long as it moved{resync_moves}{locks}\n\
             never: more than two refused codes in a row{never_lock}; secrets are read from {secrets} and written nowhere\n",
            target = self.target_text,
            ids = ids.join(", "),
            w = l.max_window,
            band = l.max_band,
            push = 3 * l.max_band,
            resync = if self.resync_endpoint() {
                format!(", the resync endpoint's procedure and window (up to ±{} steps)", l.max_band)
            } else {
                String::new()
            },
            resync_moves = if self.resync_endpoint() {
                "; resync trials move the centre behind the true step (each first waits until the true step has passed the last used one) and resyncs bring it back"
            } else {
                ""
            },
            lock = if l.allow_lockout { ", and the lockout (failures that lock; whether and when it clears by itself)" } else { "" },
            n = l.max_attempts,
            t = format_duration(l.max_time_ms as f64 / 1000.0),
            pace = format_duration(l.min_interval_ms as f64 / 1000.0),
            locks = if l.allow_lockout {
                format!("; --allow-lockout: the credential WILL BE LOCKED (up to {} wrong codes in a row), then unlocked by the transport's administrator call if it has one, else left to clear by itself (waiting up to {}); a lock that does not clear stays until an administrator unlocks it", l.max_lockout_failures, format_duration(l.max_unlock_wait_ms as f64 / 1000.0))
            } else {
                String::new()
            },
            never_lock = if l.allow_lockout { "" } else { " (so no lockout is triggered)" },
            secrets = self.secrets_file,
        )
    }

    /// Whether the transport will have a resync endpoint (the model's administrator API, or
    /// privacyIDEA's with a login in the environment).
    fn resync_endpoint(&self) -> bool {
        match &self.target {
            Target::Model(_) => true,
            Target::Http { flavour, .. } => {
                *flavour == Flavour::PrivacyIdea && http::Admin::from_env().is_some()
            }
            Target::Radius { .. } | Target::Pam { .. } => false,
        }
    }

    fn transport(&self, start: Millis) -> Result<Box<dyn Transport>> {
        Ok(match &self.target {
            Target::Model(v) => {
                let mut t = ModelTransport::new((**v).clone(), start);
                // The model has the administrator API (unlock, resync) privacyIDEA offers.
                t.can_unlock = true;
                Box::new(t)
            }
            Target::Http { base, flavour } => Box::new(HttpTransport::new(
                base,
                *flavour,
                self.clock(start)?,
                http::Admin::from_env(),
            )),
            Target::Radius { server } => Box::new(RadiusTransport::new(
                server,
                self.radius_secret.clone().expect("checked in new"),
                self.clock(start)?,
            )?),
            Target::Pam { service } => Box::new(PamTransport::new(
                service,
                self.pam_helper.clone(),
                self.clock(start)?,
            )),
        })
    }

    /// The live validator's clock: this machine's, or a test server's set through a file.
    fn clock(&self, start: Millis) -> Result<Box<dyn Clock>> {
        Ok(match &self.server_clock_file {
            Some(f) => Box::new(FileClock::new(f.clone(), start)?),
            None => Box::new(WallClock),
        })
    }

    /// What the probe talks to, for the report.
    pub fn describe(&self) -> String {
        let what = match &self.target {
            Target::Model(v) => return ModelTransport::new((**v).clone(), 0).describe(),
            Target::Http { base, flavour } => {
                format!("{} /validate/check at {base}", flavour.name())
            }
            Target::Radius { server } => {
                format!("RADIUS (RFC 2865 PAP with Message-Authenticator) at {server}")
            }
            Target::Pam { service } => format!(
                "PAM service {service} through {}",
                self.pam_helper.display()
            ),
        };
        match self.server_clock_file {
            Some(_) => format!("{what} (its clock set through a libfaketime file)"),
            None => what,
        }
    }
}

/// What a probe did, for the terminal.
pub struct ProbeOutcome {
    pub data: ProbeData,
    pub dir: PathBuf,
}

impl ProbeOutcome {
    pub fn summary_text(&self) -> String {
        let mut s = String::new();
        for c in &self.data.credentials {
            let o = &c.outcome;
            let cfg = &o.config;
            let lock = match (&o.lockout, cfg.lockout) {
                (crate::probe::LockFinding::NotMeasured, _) => "no lockout measured".to_string(),
                (_, Some(l)) => format!("locks after {} failures", l.max_failures),
                (_, None) => "no lockout".to_string(),
            };
            let band = match (cfg.auto_resync, cfg.auto_sync) {
                (Some(a), _) => format!("; automatic resync ±{}", a.window),
                (None, Some(w)) => format!("; auto-sync ±{w}"),
                (None, None) => String::new(),
            };
            let resync = match (o.resync_endpoint, cfg.sync) {
                (false, _) => String::new(),
                (true, None) => "; the resync endpoint took nothing".to_string(),
                (true, Some(p)) if p.window >= o.max_band => {
                    format!("; resync endpoint ±{} or wider (--max-band)", p.window)
                }
                (true, Some(p)) => format!("; resync endpoint ±{}", p.window),
            };
            s.push_str(&format!(
                "{}: window {} back, {} ahead; drift {}; replay {}; {lock}{band}{resync}; {} attempts over {}\n",
                c.id,
                cfg.window_back,
                cfg.window_ahead,
                crate::report::probe::drift_name(cfg.drift),
                crate::report::probe::rule_name((cfg.replay, cfg.skip_refused)),
                o.sent.len(),
                format_duration(o.elapsed_ms as f64 / 1000.0)
            ));
        }
        s.push_str(&format!("wrote {} (report.md first)", self.dir.display()));
        s
    }
}

/// Probes every credential in turn and writes the folder.
pub fn execute(plan: &ProbePlan, progress: &dyn Progress) -> Result<ProbeOutcome> {
    let started_at = super::now_ms();
    progress.start(
        plan.limits.max_attempts as u64 * plan.credentials.len() as u64,
        "probing",
    );
    let mut credentials = Vec::new();
    for cred in &plan.credentials {
        let mut t = plan.transport(super::now_ms())?;
        let done = std::sync::atomic::AtomicUsize::new(0);
        let outcome = probe(cred, t.as_mut(), &plan.limits, &|n, _| {
            let before = done.swap(n, std::sync::atomic::Ordering::Relaxed);
            progress.advance(n.saturating_sub(before) as u64);
        })?;
        credentials.push(CredentialProbe {
            id: cred.id.clone(),
            outcome,
        });
    }
    progress.finish();
    let transport = plan.describe();
    let data = ProbeData {
        target: plan.target_text.clone(),
        transport,
        secrets_file: plan.secrets_file.clone(),
        started_at,
        finished_at: super::now_ms(),
        plan: plan.text(),
        credentials,
    };
    let mut folder = export::Folder::default();
    for (name, bytes) in export::probe::probe_files(&data)? {
        folder.add(name, bytes);
    }
    let manifest = serde_json::json!({
        "tool": "otpdrift",
        "version": env!("CARGO_PKG_VERSION"),
        "command": "probe",
        "target": data.target,
        "transport": data.transport,
        "secrets_file": data.secrets_file,
        "credentials": data.credentials.iter().map(|c| serde_json::json!({
            "id": c.id,
            "attempts": c.outcome.sent.len(),
            "validator_ms": c.outcome.elapsed_ms,
            "converged": c.outcome.stop == crate::probe::Stop::Converged,
        })).collect::<Vec<_>>(),
        "limits": {
            "max_attempts": plan.limits.max_attempts,
            "max_time_s": plan.limits.max_time_ms as f64 / 1000.0,
            "min_interval_s": plan.limits.min_interval_ms as f64 / 1000.0,
            "max_window": plan.limits.max_window,
            "allow_lockout": plan.limits.allow_lockout,
        },
        "started_at": format_rfc3339(data.started_at),
        "finished_at": format_rfc3339(data.finished_at),
        "files": folder.files.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
    });
    folder.add(
        "manifest.json",
        serde_json::to_vec_pretty(&manifest).map_err(|e| Error::failed(e.to_string()))?,
    );
    export::write_folder(&plan.out, plan.force, &folder)?;
    Ok(ProbeOutcome {
        data,
        dir: plan.out.clone(),
    })
}

#[cfg(test)]
mod tests;
