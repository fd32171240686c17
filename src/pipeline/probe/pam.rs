//! The `pam` transport: one PAM conversation per attempt through `pamtester` (or a helper with
//! the same interface: `HELPER SERVICE USER authenticate`, the code on its standard input, exit
//! status 0 for success), so the module runs in its own process with its own clock and state
//! files, exactly as a login would run it; the credential's id is the PAM user.

use super::clock::Clock;
use crate::error::{Error, Result};
use crate::probe::{Answer, Credential, Transport};
use crate::time::Millis;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub struct PamTransport {
    service: String,
    helper: PathBuf,
    clock: Box<dyn Clock>,
}

impl PamTransport {
    pub fn new(service: &str, helper: PathBuf, clock: Box<dyn Clock>) -> PamTransport {
        PamTransport {
            service: service.to_string(),
            helper,
            clock,
        }
    }
}

impl Transport for PamTransport {
    fn now(&mut self) -> Millis {
        self.clock.now()
    }

    fn wait_until(&mut self, t: Millis) -> Result<()> {
        self.clock.wait_until(t)
    }

    fn verify(&mut self, cred: &Credential, code: &str) -> Result<Answer> {
        let helper = self.helper.display();
        let mut child = Command::new(&self.helper)
            .args([&self.service, &cred.id, "authenticate"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::input(format!(
                    "pam: cannot run {helper}: {e} (the pam transport needs pamtester, Debian package `pamtester`, or --pam-helper PATH)"
                ))
            })?;
        // The code goes through the conversation (standard input), never the command line.
        let mut stdin = child.stdin.take().expect("piped");
        let _ = writeln!(stdin, "{code}");
        drop(stdin);
        let out = child
            .wait_with_output()
            .map_err(|e| Error::failed(format!("pam: {helper}: {e}")))?;
        let said = String::from_utf8_lossy(&out.stderr);
        let said: String = said.trim().chars().take(300).collect();
        match out.status.code() {
            Some(0) => Ok(Answer::Accept),
            Some(1) if said.contains("Authentication failure") => Ok(Answer::Reject),
            Some(1) if said.contains("User not known") => Err(Error::input(format!(
                "pam service {}: the module does not know user {} (`{said}`); the credential's id is the PAM user",
                self.service, cred.id
            ))),
            status => Err(Error::failed(format!(
                "pam service {}: {helper} ended with {} and said `{said}`: not an accept or an authentication failure; nothing more was sent",
                self.service,
                status.map_or("a signal".to_string(), |s| format!("status {s}")),
            ))),
        }
    }

    fn describe(&self) -> String {
        format!(
            "PAM service {} through {}",
            self.service,
            self.helper.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::{Algorithm, Keyed};

    /// A stand-in for pamtester with its exit statuses and messages: accepts 287082 for
    /// alice, refuses other codes, does not know bob, and fails on carol.
    fn helper(dir: &std::path::Path) -> PathBuf {
        let p = dir.join("fake-pamtester");
        std::fs::write(
            &p,
            "#!/bin/sh\nread code\n[ \"$1 $3\" = \"svc authenticate\" ] || exit 9\ncase \"$2/$code\" in\n alice/287082) echo 'pamtester: successfully authenticated' >&2; exit 0;;\n alice/*) echo 'pamtester: Authentication failure' >&2; exit 1;;\n bob/*) echo 'pamtester: User not known to the underlying authentication module' >&2; exit 1;;\n *) echo 'pamtester: Module is unknown' >&2; exit 1;;\nesac\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn cred(id: &str) -> Credential {
        Credential {
            id: id.into(),
            keyed: Keyed::new(Algorithm::Sha1, b"12345678901234567890"),
            digits: 6,
            step_s: 30,
            t0: 0,
        }
    }

    #[test]
    fn exit_statuses_and_messages_become_answers_or_clear_errors() {
        let dir = std::env::temp_dir().join(format!("otpdrift-pam-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut t = PamTransport::new("svc", helper(&dir), Box::new(super::super::WallClock));
        assert_eq!(t.verify(&cred("alice"), "287082").unwrap(), Answer::Accept);
        assert_eq!(t.verify(&cred("alice"), "000000").unwrap(), Answer::Reject);
        let e = t.verify(&cred("bob"), "287082").unwrap_err();
        assert_eq!(e.status(), 2);
        assert!(e.to_string().contains("does not know user bob"), "{e}");
        let e = t.verify(&cred("carol"), "287082").unwrap_err();
        assert_eq!(e.status(), 1);
        assert!(
            e.to_string()
                .contains("ended with status 1 and said `pamtester: Module is unknown`"),
            "{e}"
        );
        let mut t = PamTransport::new(
            "svc",
            dir.join("no-such-helper"),
            Box::new(super::super::WallClock),
        );
        let e = t.verify(&cred("alice"), "287082").unwrap_err();
        assert!(e.to_string().contains("needs pamtester"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
