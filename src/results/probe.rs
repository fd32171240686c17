//! What a probe found, as the report and the files read it: per credential, the attempts with
//! the validator's answers, the facets measured, the configuration chosen and the lockout; and
//! the attempt log in the replay format (a golden file for `replay`).

use super::cells::Time;
use super::replay::AttemptRow;
use super::Writer;
use crate::probe::{Answer, Outcome, Purpose};
use crate::time::Millis;

/// One credential's probe.
#[derive(Clone, Debug)]
pub struct CredentialProbe {
    pub id: String,
    pub outcome: Outcome,
}

/// A whole probe: what was probed, how, and what each credential showed.
#[derive(Clone, Debug)]
pub struct ProbeData {
    /// The target as given (never a secret: shared secrets come from files or the
    /// environment).
    pub target: String,
    /// What the transport talks to.
    pub transport: String,
    pub secrets_file: String,
    pub started_at: Millis,
    pub finished_at: Millis,
    /// The plan as printed before the first attempt.
    pub plan: String,
    pub credentials: Vec<CredentialProbe>,
}

/// The attempts of every credential in the replay format: `expected` holds the validator's
/// answer (a challenge is not an acceptance), `note` why the code was sent.
pub fn attempts_csv(d: &ProbeData) -> Vec<u8> {
    let mut w = Writer::of::<AttemptRow>();
    for c in &d.credentials {
        for s in &c.outcome.sent {
            let unlock = s.purpose == Purpose::Unlock;
            w.row(&AttemptRow {
                credential: c.id.clone(),
                time: Time(s.at),
                action: match (unlock, &s.code2) {
                    (true, _) => "unlock",
                    (false, Some(_)) => "sync",
                    (false, None) => "verify",
                }
                .into(),
                code: (!unlock).then(|| s.code.clone()),
                code2: s.code2.clone(),
                expected: (!unlock).then(|| {
                    if s.answer == Answer::Accept {
                        "accept"
                    } else {
                        "reject"
                    }
                    .to_string()
                }),
                true_offset_s: None,
                note: Some(if unlock {
                    "unlock: the transport's administrator unlock".to_string()
                } else {
                    format!(
                        "{}: step {:+}; answered {}; {} configurations left",
                        s.purpose.as_str(),
                        s.offset,
                        s.answer.as_str(),
                        s.left
                    )
                }),
                population: None,
            });
        }
    }
    w.finish()
}
