//! `otpdrift probe`'s flags, its plan, and what it prints.

use super::flags::OutputFlags;
use super::{emit, note, Bar};
use crate::error::Result;
use crate::pipeline::probe::{self, ProbePlan, ProbeRequest};
use std::path::PathBuf;

/// The flags of `otpdrift probe`. Secrets come only from files: none is a flag.
#[derive(clap::Args, Debug)]
pub struct ProbeArgs {
    /// What to probe: privacyidea:http://HOST:PORT or linotp:http://HOST:PORT
    /// (/validate/check by serial = the credential's id), radius:HOST:PORT (User-Name = the
    /// id), pam:SERVICE (user = the id), or model:PRESET / model:FILE.toml (otpdrift's own
    /// validator on simulated time, for planning and tests).
    pub target: String,
    /// The test credentials' secrets (CSV or PSKC, as replay reads them).
    #[arg(long)]
    pub secrets: PathBuf,
    /// A credential to probe (repeatable; default: every TOTP credential in the file).
    #[arg(long = "credential", value_name = "ID")]
    pub credentials: Vec<String>,
    /// Print the plan (what is measured, how many attempts at most, what changes on the
    /// server) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Also measure the lockout: this locks the credential.
    #[arg(long)]
    pub allow_lockout: bool,
    /// At most this many attempts per unit of time: N/s, N/min or N/h (default 12/min).
    #[arg(long, value_name = "N/UNIT")]
    pub max_rate: Option<String>,
    /// At most this many attempts per credential (default 600).
    #[arg(long)]
    pub max_attempts: Option<u32>,
    /// At most this much of the validator's time per credential (default 3h).
    #[arg(long)]
    pub max_time: Option<String>,
    /// The widest window looked for, in steps either side (default 64).
    #[arg(long)]
    pub max_window: Option<u32>,
    /// The widest band past the window (automatic resync, auto-sync) looked for, in steps
    /// either side (default 40). Each accepted trial moves the credential's centre ahead.
    #[arg(long, value_name = "STEPS")]
    pub max_band: Option<u32>,
    /// A libfaketime timestamp file (FAKETIME_TIMESTAMP_FILE) that sets a local test
    /// server's clock: the probe moves the server's time instead of waiting.
    #[arg(long, value_name = "FILE")]
    pub server_clock_file: Option<PathBuf>,
    /// The RADIUS shared secret's file (its first line); else OTPDRIFT_RADIUS_SECRET.
    #[arg(long, value_name = "FILE")]
    pub radius_secret_file: Option<PathBuf>,
    /// The program run once per PAM attempt as `HELPER SERVICE USER authenticate` with the
    /// code on its standard input (default pamtester).
    #[arg(long, value_name = "PATH")]
    pub pam_helper: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputFlags,
}

impl ProbeArgs {
    pub fn execute(self) -> Result<()> {
        let plan = ProbePlan::new(ProbeRequest {
            target: self.target,
            secrets: self.secrets,
            credentials: self.credentials,
            output: self.output.into(),
            dry_run: self.dry_run,
            allow_lockout: self.allow_lockout,
            max_rate: self.max_rate,
            max_attempts: self.max_attempts,
            max_time: self.max_time,
            max_window: self.max_window,
            max_band: self.max_band,
            server_clock_file: self.server_clock_file,
            radius_secret_file: self.radius_secret_file,
            pam_helper: self.pam_helper,
        })?;
        if plan.dry_run {
            return emit(&plan.text());
        }
        note(&plan.text());
        let outcome = probe::execute(&plan, &Bar::new())?;
        emit(&format!("{}\n", outcome.summary_text()))
    }
}
