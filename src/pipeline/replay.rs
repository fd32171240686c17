//! `otpdrift replay`: decide a log of attempts (docs/replay.md) with any validator
//! configuration, through the validator code the simulator uses, and compare with the
//! decisions a real validator recorded.

use crate::error::{Error, Result};
use crate::export;
use crate::otp::{decode_base32, Algorithm, Keyed};
use crate::results::cells::{Fixed, Secs, Time};
use crate::results::replay::{read_named, AttemptIn, AttemptRow, DecisionRow, SecretIn};
use crate::results::{FileError, Writer};
use crate::scenario::{Override, Scenario};
use crate::time::Millis;
use crate::validator::{CodeSyntax, CredentialState, Resync, Scheme, ValidatorConfig, Verdict};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One credential's code parameters.
#[derive(Clone)]
pub struct Secret {
    pub keyed: Keyed,
    pub digits: u32,
    pub scheme: Scheme,
    /// HOTP: the counter expected at enrolment.
    pub counter: u64,
    /// TOTP: the drift the validator held when the log starts, in steps.
    pub drift_steps: i64,
    /// The key's length in bytes (a validator may refuse some: otplib's guardrail).
    pub key_bytes: u32,
}

/// A checked `replay`: the log, the secrets, the validator, where the decisions go.
pub struct ReplayPlan {
    pub attempts_file: String,
    pub attempts: Vec<(u64, AttemptIn)>,
    pub secrets: HashMap<String, Secret>,
    pub validator: ValidatorConfig,
    /// None: standard output.
    pub out: Option<PathBuf>,
    pub force: bool,
}

/// The validator a replay uses: a `[validator]` table from a file or a preset, with `--set`s.
/// Times in a log are the server's, so the server clock's error is zero.
pub fn validator(
    file: Option<(&str, String)>,
    preset: Option<&str>,
    sets: &[Override],
) -> Result<ValidatorConfig> {
    for s in sets {
        if !s.path.starts_with("validator.") {
            return Err(Error::input(format!(
                "--set {}: replay takes only validator fields (validator.PATH=VALUE)",
                s.path
            )));
        }
    }
    let (name, text) = match (file, preset) {
        (Some(_), Some(_)) => {
            return Err(Error::input(
                "--validator and --preset: give one (a preset can be named inside the file)",
            ))
        }
        (Some((name, text)), None) => {
            let has = |k: &str| {
                text.parse::<toml::Table>()
                    .map_or(true, |t| t.contains_key(k))
            };
            if !has("validator") {
                return Err(Error::input(format!(
                    "{name}: expected a [validator] table (as a run's trace-validator.toml has), found none"
                )));
            }
            let mut text = text.clone();
            // A validator alone is not a scenario: lend it a population to be checked as one.
            if !has("population") {
                text.push_str("\n[[population]]\ntoken = { kind = \"hardware\" }\n");
            }
            (name.to_string(), text)
        }
        (None, Some(p)) if crate::validator::presets::find(p).is_none() => {
            return Err(Error::input(format!(
                "--preset {p}: expected one of {}",
                crate::validator::presets::names()
            )))
        }
        // A validator alone, lent a run and a population so it is checked as a scenario.
        (None, Some(p)) => (
            format!("--preset {p}"),
            format!(
                "[run]\nname = \"replay\"\n[validator]\npreset = {}\n[[population]]\ntoken = {{ kind = \"hardware\" }}\n",
                toml::Value::String(p.into())
            ),
        ),
        (None, None) => (
            "the default validator (rfc6238)".to_string(),
            "[run]\nname = \"replay\"\n[validator]\n[[population]]\ntoken = { kind = \"hardware\" }\n"
                .to_string(),
        ),
    };
    let sc = Scenario::from_toml_with(&name, &text, sets)?;
    Ok(ValidatorConfig {
        server_offset_s: 0.0,
        ..sc.validator
    })
}

/// The validator of `--validator FILE` (a `[validator]` table) or `--preset NAME`, with `--set`s.
pub fn validator_from(
    file: Option<&Path>,
    preset: Option<&str>,
    sets: &[Override],
) -> Result<ValidatorConfig> {
    let file = match file {
        Some(p) => Some((
            p.display().to_string(),
            std::fs::read_to_string(p)
                .map_err(|e| Error::input(format!("cannot read {}: {e}", p.display())))?,
        )),
        None => None,
    };
    validator(
        file.as_ref().map(|(n, t)| (n.as_str(), t.clone())),
        preset,
        sets,
    )
}

/// Reads a secrets CSV, or a PSKC (RFC 6030) key container.
pub fn read_secrets(file: &str, bytes: &[u8]) -> Result<HashMap<String, Secret>> {
    let mut out = HashMap::new();
    let text = String::from_utf8_lossy(bytes);
    if text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
    {
        for (line, s) in crate::results::pskc::read(file, &text)? {
            add_secret(file, &mut out, line, s)?;
        }
        return Ok(out);
    }
    read_named::<SecretIn>(file, bytes, &["credential", "secret"], |line, s| {
        add_secret(file, &mut out, line, s)
    })?;
    Ok(out)
}

/// Checks one secrets row and adds it.
fn add_secret(
    file: &str,
    out: &mut HashMap<String, Secret>,
    line: u64,
    s: SecretIn,
) -> std::result::Result<(), FileError> {
    {
        let bad = |col: &str, msg: String| {
            FileError::new(file, line, 0, format!("column `{col}`: {msg}"))
        };
        let key = decode_base32(&s.secret).map_err(|e| bad("secret", e))?;
        let algorithm = match s.algorithm.as_deref().map(str::trim) {
            None | Some("") => Algorithm::Sha1,
            Some(a) => Algorithm::parse(&a.to_ascii_lowercase()).ok_or_else(|| {
                bad(
                    "algorithm",
                    format!("expected one of {}, found `{a}`", Algorithm::NAMES),
                )
            })?,
        };
        let digits = s.digits.unwrap_or(6);
        if !(1..=9).contains(&digits) {
            return Err(bad("digits", format!("expected 1 to 9, found {digits}")));
        }
        let step = s.step.unwrap_or(30);
        if step == 0 {
            return Err(bad(
                "step",
                "expected a step of at least 1 second, found 0".into(),
            ));
        }
        let scheme = match s.kind.as_deref().map(str::trim) {
            None | Some("") | Some("totp") => Scheme::Totp {
                step_s: step,
                t0: s.t0.unwrap_or(0),
            },
            Some("hotp") => Scheme::Hotp,
            Some(k) => return Err(bad("kind", format!("expected totp or hotp, found `{k}`"))),
        };
        if out
            .insert(
                s.credential.clone(),
                Secret {
                    keyed: Keyed::new(algorithm, &key),
                    digits,
                    scheme,
                    counter: s.counter.unwrap_or(0),
                    drift_steps: s.drift_steps.unwrap_or(0),
                    key_bytes: key.len() as u32,
                },
            )
            .is_some()
        {
            return Err(FileError::new(
                file,
                line,
                1,
                format!("credential `{}` appears twice", s.credential),
            ));
        }
        Ok(())
    }
}

/// Reads an attempt log; every row's credential must have a secret.
pub fn read_attempts(
    file: &str,
    bytes: &[u8],
    secrets: &HashMap<String, Secret>,
    clock_steps_back: bool,
) -> Result<Vec<(u64, AttemptIn)>> {
    let mut out = Vec::new();
    let mut last: HashMap<String, Millis> = HashMap::new();
    read_named::<AttemptIn>(
        file,
        bytes,
        &["credential", "time", "action", "code"],
        |line, a| {
            let bad = |msg: String| FileError::new(file, line, 0, msg);
            // The validator saw each credential's requests in time order (docs/replay.md).
            // A server whose clock was stepped back logs earlier times after later ones: allowed
            // only when said, since a log sorted wrongly looks the same.
            if let Some(&prev) = last.get(&a.credential).filter(|_| !clock_steps_back) {
                if a.time.0 < prev {
                    return Err(bad(format!(
                    "credential `{}`: this attempt ({}) is earlier than the one before it ({}); a log lists each credential's attempts in the order the server saw them (if the server's clock was stepped back, pass --clock-steps-back)",
                    a.credential,
                    crate::time::format_rfc3339(a.time.0),
                    crate::time::format_rfc3339(prev)
                )));
                }
            }
            last.insert(a.credential.clone(), a.time.0);
            if !secrets.contains_key(&a.credential) {
                return Err(bad(format!(
                    "credential `{}` has no secret in the secrets file",
                    a.credential
                )));
            }
            match a.action.trim() {
                // An empty code is an attempt too (a form sent empty): it matches nothing.
                "sync"
                    if a.code.as_deref().is_none_or(|c| c.trim().is_empty())
                        || a.code2.as_deref().is_none_or(|c| c.trim().is_empty()) =>
                {
                    return Err(bad("a sync row needs `code` and `code2`".into()))
                }
                "verify" | "sync" | "unlock" | "enrol" => {}
                other => {
                    return Err(bad(format!(
                        "column `action`: expected verify, sync, unlock or enrol, found `{other}`"
                    )))
                }
            }
            if let Some(e) = a.expected.as_deref().map(str::trim) {
                if !["", "accept", "reject"].contains(&e) {
                    return Err(bad(format!(
                        "column `expected`: expected accept or reject, found `{e}`"
                    )));
                }
            }
            out.push((line, a));
            Ok(())
        },
    )?;
    Ok(out)
}

/// A typed code as a number: digits only and exactly the credential's length (or, for a
/// validator that compares numbers, any integer below 10^digits), else a value no step's code
/// can equal (a malformed code is a failed attempt).
fn typed(code: &str, digits: u32, numeric: bool, syntax: CodeSyntax) -> u32 {
    match syntax {
        CodeSyntax::Trimmed => {}
        CodeSyntax::Strict => {
            let ok = code.len() == digits as usize && code.bytes().all(|b| b.is_ascii_digit());
            return if ok {
                code.parse().unwrap_or(u32::MAX)
            } else {
                u32::MAX
            };
        }
        CodeSyntax::ParseInt => return parse_int(code, digits),
        CodeSyntax::DigitsOnly => {
            let kept: String = code.chars().filter(char::is_ascii_digit).collect();
            return typed(&kept, digits, false, CodeSyntax::Strict);
        }
    }
    let c = code.trim();
    let c = if numeric {
        c.strip_prefix('+').unwrap_or(c)
    } else {
        c
    };
    let well_formed = !c.is_empty()
        && c.bytes().all(|b| b.is_ascii_digit())
        && (numeric || c.len() == digits as usize);
    match c.parse::<u64>() {
        Ok(x) if well_formed && x < 10u64.pow(digits) => x as u32,
        _ => u32::MAX,
    }
}

/// speakeasy 2's reading (index.js hotp.verifyDelta): `String(token).length` (UTF-16 units)
/// must be `digits`, then `parseInt(token, 10)`: JavaScript whitespace skipped, one optional
/// sign, the digits up to the first non-digit (none: NaN, no match). "-000000" is -0, which
/// `===` 0.
fn parse_int(code: &str, digits: u32) -> u32 {
    if code.encode_utf16().count() != digits as usize {
        return u32::MAX;
    }
    // ECMAScript WhiteSpace and LineTerminator (the Zs category, BOM, tab, VT, FF, LF, CR,
    // LS, PS): Rust's char::is_whitespace minus U+0085, plus U+FEFF.
    let rest =
        code.trim_start_matches(|c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}');
    let (negative, rest) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    match n.parse::<u64>() {
        Ok(0) => 0,
        Ok(x) if !negative && x < 10u64.pow(digits) => x as u32,
        _ => u32::MAX,
    }
}

/// Decides every attempt in order.
pub fn decide(plan: &ReplayPlan) -> Vec<DecisionRow> {
    let v = &plan.validator;
    let mut states: HashMap<&str, CredentialState> = HashMap::new();
    let mut out = Vec::with_capacity(plan.attempts.len());
    for (_, a) in &plan.attempts {
        let sec = &plan.secrets[&a.credential];
        let now: Millis = a.time.0;
        let enrolled = |now| {
            let mut st = CredentialState::enrolled(now);
            st.hotp_next = sec.counter as i64;
            st
        };
        // The first request finds the state the log starts from (a drift already learned);
        // an `enrol` row starts afresh.
        let st = states.entry(a.credential.as_str()).or_insert_with(|| {
            let mut st = enrolled(now);
            if let Scheme::Totp { step_s, .. } = sec.scheme {
                st.drift_steps = sec.drift_steps;
                st.shift_ms = sec.drift_steps * step_s as i64 * 1000;
            }
            st
        });
        let code_of = |s: i64| sec.keyed.hotp(s as u64, sec.digits);
        // otplib throws on a key outside its guardrail before it reads anything else.
        let key_refused = v
            .secret_bytes
            .is_some_and(|(lo, hi)| sec.key_bytes < lo || sec.key_bytes > hi);
        let (accepted, reason, offset) = match a.action.trim() {
            "sync" | "verify" if key_refused => (false, "secret_refused".to_string(), None),
            "enrol" => {
                *st = enrolled(now);
                (true, "enrolled".to_string(), None)
            }
            "unlock" => {
                st.unlock();
                (true, "unlocked".to_string(), None)
            }
            "sync" => {
                let mut codes = vec![typed(
                    a.code.as_deref().unwrap_or(""),
                    sec.digits,
                    v.numeric_codes,
                    v.code_syntax,
                )];
                codes.extend(
                    a.code2
                        .as_deref()
                        .unwrap_or("")
                        .split_whitespace()
                        .map(|c| typed(c, sec.digits, v.numeric_codes, v.code_syntax)),
                );
                match v.sync(st, sec.scheme, now, &codes, code_of) {
                    Ok(o) => (true, "sync_ok".to_string(), Some(o)),
                    Err(f) => (false, format!("sync_{}", f.as_str()), None),
                }
            }
            _ => {
                let code = typed(
                    a.code.as_deref().unwrap_or(""),
                    sec.digits,
                    v.numeric_codes,
                    v.code_syntax,
                );
                let d = v.verify(st, sec.scheme, now, code, code_of);
                let reason = match (d.verdict, d.resynced) {
                    (Verdict::Accepted, Some(Resync::NextCode)) => "next_code_ok".to_string(),
                    (Verdict::Accepted, Some(_)) => "resynced".to_string(),
                    (Verdict::Accepted, None) => "ok".to_string(),
                    (other, _) => other.to_string(),
                };
                (d.verdict == Verdict::Accepted, reason, d.offset)
            }
        };
        let drift = Fixed::opt(st.learned_steps(sec.scheme, v.drift));
        let expected = a
            .expected
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        out.push(DecisionRow {
            attempt: AttemptRow {
                credential: a.credential.clone(),
                time: Time(now),
                action: a.action.trim().to_string(),
                code: a.code.clone(),
                code2: a.code2.clone(),
                expected: expected.map(String::from),
                true_offset_s: a
                    .true_offset_s
                    .as_deref()
                    .and_then(|x| x.trim().parse::<f64>().ok())
                    .and_then(Secs::of),
                note: a.note.clone(),
                population: a.population.clone(),
            },
            verdict: if accepted { "accept" } else { "reject" }.to_string(),
            reason,
            matched_offset_steps: offset,
            drift_steps: drift,
            failures: st.failures,
            locked: st.is_locked(now),
            matches_expected: expected.map(|e| (e == "accept") == accepted),
        });
    }
    out
}

/// What a replay found, for the terminal.
pub struct ReplayOutcome {
    pub csv: Vec<u8>,
    pub rows: Vec<DecisionRow>,
    /// (line in the log, decision) of every attempt that differs from `expected`.
    pub mismatches: Vec<(u64, DecisionRow)>,
}

/// Decides the log and writes the decisions (to `out`, atomically, or returns them for
/// standard output).
pub fn execute(plan: &ReplayPlan) -> Result<ReplayOutcome> {
    let rows = decide(plan);
    let mut w = Writer::of::<DecisionRow>();
    rows.iter().for_each(|r| w.row(r));
    let csv = w.finish();
    if let Some(out) = &plan.out {
        if out.is_dir() {
            return Err(Error::input(format!(
                "--out {}: is a folder; give a file name for the decisions",
                out.display()
            )));
        }
        if out.exists() && !plan.force {
            return Err(Error::input(format!(
                "--out {}: the file exists; pass --force to replace it",
                out.display()
            )));
        }
        export::write_file_atomic(out, &csv)?;
    }
    let mismatches = plan
        .attempts
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.matches_expected == Some(false))
        .map(|((line, _), r)| (*line, r.clone()))
        .collect();
    Ok(ReplayOutcome {
        csv,
        rows,
        mismatches,
    })
}

impl ReplayOutcome {
    /// Counts per verdict and reason, and the differences from `expected`.
    pub fn summary_text(&self, file: &str) -> String {
        let mut counts: Vec<(String, u64)> = Vec::new();
        for r in &self.rows {
            let k = format!("{} {}", r.verdict, r.reason);
            match counts.iter_mut().find(|c| c.0 == k) {
                Some(c) => c.1 += 1,
                None => counts.push((k, 1)),
            }
        }
        counts.sort();
        let mut out = format!("{file}: {} attempts\n", self.rows.len());
        for (k, n) in &counts {
            let _ = writeln!(out, "  {k:<40} {n:>8}");
        }
        let compared = self
            .rows
            .iter()
            .filter(|r| r.matches_expected.is_some())
            .count();
        if compared > 0 {
            let _ = writeln!(
                out,
                "{} of {compared} decisions match `expected`",
                compared - self.mismatches.len()
            );
            for (line, r) in self.mismatches.iter().take(10) {
                let _ = writeln!(
                    out,
                    "  {file}:{line}: {} {} at {}: expected {}, decided {} ({})",
                    r.attempt.credential,
                    r.attempt.action,
                    crate::time::format_rfc3339(r.attempt.time.0),
                    r.attempt.expected.as_deref().unwrap_or(""),
                    r.verdict,
                    r.reason
                );
            }
            if self.mismatches.len() > 10 {
                let _ = writeln!(out, "  … and {} more", self.mismatches.len() - 10);
            }
        }
        out
    }
}

/// What the user asked of `replay`.
#[derive(Clone, Debug)]
pub struct ReplayRequest {
    /// The attempt log (CSV).
    pub attempts: PathBuf,
    /// The credentials' secrets (CSV or PSKC).
    pub secrets: PathBuf,
    /// A validator preset (default rfc6238).
    pub preset: Option<String>,
    /// A TOML file with a `[validator]` table.
    pub validator: Option<PathBuf>,
    /// Validator overrides (`validator.PATH=VALUE`).
    pub sets: Vec<Override>,
    /// The decisions' file (None: standard output).
    pub output: crate::pipeline::Output,
    /// The log's times may go back (the server's clock was stepped back); rows are still in
    /// the order the server saw them.
    pub clock_steps_back: bool,
}

impl ReplayPlan {
    /// Reads the validator, the secrets and the attempts.
    pub fn new(r: ReplayRequest) -> Result<ReplayPlan> {
        let validator = validator_from(r.validator.as_deref(), r.preset.as_deref(), &r.sets)?;
        let (attempts, secrets, out, force) =
            (&r.attempts, &r.secrets, r.output.out, r.output.force);
        let read = |p: &Path, what: &str| {
            std::fs::read(p)
                .map_err(|e| Error::input(format!("cannot read {what} {}: {e}", p.display())))
        };
        if let Some(o) = &out {
            // --force replaces the output, never an input.
            let same = |p: &Path| match (std::fs::canonicalize(o), std::fs::canonicalize(p)) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            };
            if same(attempts) || same(secrets) {
                return Err(Error::input(format!(
                    "--out {}: that is an input of this replay; write the decisions elsewhere",
                    o.display()
                )));
            }
        }
        let sfile = secrets.display().to_string();
        let secrets = read_secrets(&sfile, &read(secrets, "secrets")?)?;
        let afile = attempts.display().to_string();
        let attempts = read_attempts(
            &afile,
            &read(attempts, "attempts")?,
            &secrets,
            r.clock_steps_back,
        )?;
        Ok(ReplayPlan {
            attempts_file: afile,
            attempts,
            secrets,
            validator,
            out,
            force,
        })
    }
}

#[cfg(test)]
mod tests {
    //! The conformance suite: every golden directory under tests/golden holds decisions
    //! recorded from a real validator (conformance/ regenerates them); the model must make the
    //! identical decision on every attempt.

    use super::*;

    const GOLDEN: &[&str] = &[
        "django-otp",
        "google-authenticator-libpam",
        "google-authenticator-libpam-reuse",
        "otplib",
        "otplib-asymmetric",
        "pam-oath",
        "privacyidea",
        "privacyidea-autoresync",
        "pyotp",
        "speakeasy",
    ];

    fn golden_dir(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name)
    }

    /// Replays one golden directory; returns (attempts, mismatches as text).
    fn replay_golden(name: &str) -> (usize, Vec<String>) {
        replay_dir(&golden_dir(name), name)
    }

    /// The plan of a directory holding attempts.csv, secrets.csv and validator.toml.
    fn plan_of(dir: &Path) -> ReplayPlan {
        ReplayPlan::new(ReplayRequest {
            attempts: dir.join("attempts.csv"),
            secrets: dir.join("secrets.csv"),
            preset: None,
            validator: Some(dir.join("validator.toml")),
            sets: Vec::new(),
            output: crate::pipeline::Output::default(),
            // The npm libraries' logs step the server's clock back now and then.
            clock_steps_back: true,
        })
        .unwrap()
    }

    /// Replays a directory of attempts, secrets and validator.
    fn replay_dir(dir: &Path, name: &str) -> (usize, Vec<String>) {
        let out = execute(&plan_of(dir)).unwrap();
        assert!(out.rows.iter().all(|r| r.matches_expected.is_some()));
        let diffs = out
            .mismatches
            .iter()
            .map(|(line, r)| {
                format!(
                    "{name}/attempts.csv:{line}: {} {} {} expected {}, decided {} ({})",
                    r.attempt.credential,
                    r.attempt.action,
                    r.attempt.code.as_deref().unwrap_or(""),
                    r.attempt.expected.as_deref().unwrap_or(""),
                    r.verdict,
                    r.reason
                )
            })
            .collect();
        (out.rows.len(), diffs)
    }

    /// Every answer a real validator gave a probe (conformance/probe/, `run.sh` there), decided
    /// again with the configuration that probe wrote.
    #[test]
    fn real_probes_replay_to_the_answers_they_got() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/probe");
        let mut probes = 0;
        for e in std::fs::read_dir(&root).unwrap() {
            let dir = e.unwrap().path();
            if !dir.join("attempts.csv").is_file() {
                continue;
            }
            probes += 1;
            let out = execute(&plan_of(&dir)).unwrap();
            let verified = out
                .rows
                .iter()
                .filter(|r| r.matches_expected.is_some())
                .count();
            assert!(verified >= 16, "{}: {verified} attempts", dir.display());
            assert!(
                out.mismatches.is_empty(),
                "{}: {:?}",
                dir.display(),
                out.mismatches.len()
            );
        }
        assert_eq!(probes, 7);
    }

    /// Replays the golden log `golden` with the configuration a real probe wrote in
    /// conformance/probe/`probe`, changed by `edit`: (attempts, differing decisions).
    fn probed_decides_golden(
        probe: &str,
        golden: &str,
        edit: impl Fn(&mut crate::validator::ValidatorConfig),
    ) -> (usize, usize) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("conformance/probe")
            .join(probe);
        let probed = std::fs::read_to_string(dir.join("validator.toml")).unwrap();
        let mut v = validator(Some(("validator.toml", probed)), None, &[]).unwrap();
        edit(&mut v);
        let g = golden_dir(golden);
        let plan = ReplayPlan::new(ReplayRequest {
            attempts: g.join("attempts.csv"),
            secrets: g.join("secrets.csv"),
            preset: Some("pyotp".into()),
            validator: None,
            sets: Vec::new(),
            output: crate::pipeline::Output::default(),
            // The npm libraries' logs step the server's clock back now and then.
            clock_steps_back: true,
        })
        .unwrap();
        let out = execute(&ReplayPlan {
            validator: v,
            ..plan
        })
        .unwrap();
        (out.rows.len(), out.mismatches.len())
    }

    /// What the probes of the real google-authenticator-libpam and pam_oath measured, over
    /// RADIUS (FreeRADIUS, rlm_pam) and through PAM, decides the golden logs recorded from the
    /// same modules with the same options, every decision alike.
    #[test]
    fn real_probes_of_the_pam_modules_decide_their_golden_logs() {
        for (probe, golden) in [
            (
                "radius-google-authenticator",
                "google-authenticator-libpam-reuse",
            ),
            ("pam-google-authenticator", "google-authenticator-libpam"),
            ("radius-pam-oath", "pam-oath"),
            ("pam-pam-oath", "pam-oath"),
        ] {
            let (n, diffs) = probed_decides_golden(probe, golden, |_| {});
            assert!(n >= 10_000, "{probe}: {n}");
            assert_eq!(diffs, 0, "{probe} on {golden}: {diffs} of {n} differ");
        }
    }

    /// What the lockout probe of the real privacyIDEA measured (window, replay, drift in
    /// seconds, 10 failures lock, and through `/token/resync` its two-code resync with the
    /// 1000-step sync window) decides the golden log recorded from privacyIDEA itself: every
    /// one of 12,000 decisions, nothing added.
    #[test]
    fn the_real_probe_of_privacyidea_decides_its_golden_log() {
        let (n, diffs) = probed_decides_golden("privacyidea-lockout", "privacyidea", |v| {
            assert_eq!((v.window_back, v.window_ahead), (6, 5));
            assert_eq!(v.lockout.map(|l| l.max_failures), Some(10));
            let p = v.sync.expect("the resync was measured");
            assert_eq!(
                (p.window, p.search, p.refuse_next),
                (1000, crate::validator::SyncSearch::Separate, true)
            );
        });
        assert_eq!((n, diffs), (12_000, 0));
    }

    /// The probe of the real privacyIDEA with AutoResync on found the automatic resync, its
    /// style and its 1000-step sync window, and the resync endpoint with the same window:
    /// every decision of the golden log recorded from privacyIDEA with AutoResync on agrees.
    #[test]
    fn the_real_probe_of_privacyidea_with_autoresync_decides_its_golden_log() {
        let (n, diffs) =
            probed_decides_golden("privacyidea-autoresync", "privacyidea-autoresync", |v| {
                let a = v.auto_resync.expect("the band was found");
                assert_eq!(
                    (a.window, a.style),
                    (1000, crate::validator::AutoStyle::Privacyidea)
                );
                assert_eq!(v.sync.map(|p| p.window), Some(1000));
            });
        assert!(n >= 10_000, "{n}");
        assert_eq!(diffs, 0, "{diffs} of {n} differ");
    }

    fn conforms(name: &str) {
        let (n, diffs) = replay_golden(name);
        assert!(n >= 10_000, "{name}: only {n} attempts");
        assert!(
            diffs.is_empty(),
            "{name}: {} of {n} decisions differ from the real code:\n{}",
            diffs.len(),
            diffs
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn google_authenticator_libpam_decides_as_the_real_module() {
        conforms("google-authenticator-libpam");
    }

    #[test]
    fn google_authenticator_libpam_with_disallow_reuse_decides_as_the_real_module() {
        conforms("google-authenticator-libpam-reuse");
    }

    #[test]
    fn pam_oath_decides_as_the_real_module() {
        conforms("pam-oath");
    }

    #[test]
    fn privacyidea_decides_as_the_real_code() {
        conforms("privacyidea");
    }

    #[test]
    fn privacyidea_with_autoresync_decides_as_the_real_code() {
        conforms("privacyidea-autoresync");
    }

    #[test]
    fn pyotp_decides_as_the_real_library() {
        conforms("pyotp");
    }

    #[test]
    fn django_otp_decides_as_the_real_code() {
        conforms("django-otp");
    }

    /// otplib 13: a window in seconds (epochTolerance 30), afterTimeStep kept by the
    /// application, tokens not of 6 digits thrown out.
    #[test]
    fn otplib_decides_as_the_real_library() {
        conforms("otplib");
    }

    /// epochTolerance [40, 10]: how many steps are open depends on where in its step the
    /// attempt lands.
    #[test]
    fn otplib_with_an_asymmetric_tolerance_decides_as_the_real_library() {
        conforms("otplib-asymmetric");
    }

    /// speakeasy 2: ±1 step, stateless, tokens read by parseInt after a length check.
    #[test]
    fn speakeasy_decides_as_the_real_library() {
        conforms("speakeasy");
    }

    /// Systems that cannot run here: one hand-written trace per documented rule, each row's
    /// note citing its source (tests/rules/).
    const RULES: &[&str] = &[
        "authelia",
        "blackberry",
        "duo",
        "entra",
        "fortiauthenticator",
        "freeipa",
        "keycloak",
        "linotp",
        "multiotp",
        "nextcloud",
        "okta",
        "okta-google-authenticator",
        "onespan",
        "rsa",
        "vaultwarden",
        "vip",
    ];

    #[test]
    fn hand_written_rule_traces_of_systems_that_cannot_run_here_hold() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules");
        let mut found: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        assert_eq!(found, RULES);
        for name in RULES {
            let dir = root.join(name);
            let (n, diffs) = replay_dir(&dir, name);
            assert!(n >= 9, "{name}: {n} rows");
            assert!(diffs.is_empty(), "{name}:\n{}", diffs.join("\n"));
            let log = std::fs::read_to_string(dir.join("attempts.csv")).unwrap();
            let mut r = csv::Reader::from_reader(log.as_bytes());
            let note = r
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == "note")
                .unwrap();
            for rec in r.records() {
                assert!(
                    !rec.unwrap()[note].is_empty(),
                    "{name}: a row without a note"
                );
            }
        }
    }

    /// How each library reads a typed string, case by case as Node 20 evaluates
    /// `parseInt(t, 10)` and otplib's `validateToken` (digits = 6).
    #[test]
    fn code_syntaxes_read_typed_strings_as_their_libraries_do() {
        use CodeSyntax::*;
        let no = u32::MAX;
        let cases: &[(&str, u32, u32, u32, u32)] = &[
            // typed, trimmed, strict, parse_int, digits_only
            ("012345", 12345, 12345, 12345, 12345),
            (" 12345", no, no, 12345, no),
            ("+12345", no, no, 12345, no),
            ("-12345", no, no, no, no),
            ("-00000", no, no, 0, no),
            ("12345x", no, no, 12345, no),
            ("1234567", no, no, no, no),
            ("12 345", no, no, 12, no),
            ("123 456", no, no, no, 123456),
            ("\t12345", no, no, 12345, no),
            ("\u{a0}12345", no, no, 12345, no),
            ("\u{85}12345", no, no, no, no),
            ("\u{feff}12345", no, no, 12345, no),
            ("0x1234", no, no, 0, no),
            (" 123456 ", 123456, no, no, 123456),
            (
                "\u{ff11}\u{ff12}\u{ff13}\u{ff14}\u{ff15}\u{ff16}",
                no,
                no,
                no,
                no,
            ),
        ];
        for &(t, trimmed, strict, parse_int, digits_only) in cases {
            assert_eq!(
                [Trimmed, Strict, ParseInt, DigitsOnly].map(|c| typed(t, 6, false, c)),
                [trimmed, strict, parse_int, digits_only],
                "{t:?}"
            );
        }
    }

    #[test]
    fn every_golden_directory_is_replayed() {
        let mut found: Vec<String> =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        found.sort();
        let mut known: Vec<String> = GOLDEN.iter().map(|s| s.to_string()).collect();
        known.sort();
        assert_eq!(found, known);
        for name in GOLDEN {
            for f in ["attempts.csv", "secrets.csv", "system.md", "validator.toml"] {
                assert!(golden_dir(name).join(f).exists(), "{name}/{f}");
            }
        }
    }
}
