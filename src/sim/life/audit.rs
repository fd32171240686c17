//! Per-login accounting for the tests: what each login made (code attempts, next-code
//! challenges, tries) and when it ran, recorded only in test builds that ask for it.

/// What one login made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Made {
    /// Code attempts decided by the validator (a challenge's answer among them).
    pub attempts: u64,
    /// Attempts answered with "enter the next code".
    pub challenges: u64,
    /// Attempts that found the token dead: no code reached a validator.
    pub undecided: u64,
    /// Login tries: the first, then one after each recovery step that retries.
    pub tries: u32,
}

/// One counted login of one user.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginAudit {
    pub user: u64,
    /// When it started (its scheduled time) and when the user was done with it: its last
    /// request or the end of its recovery steps.
    pub start: crate::time::Millis,
    pub end: crate::time::Millis,
    pub made: Made,
    /// False for a login while the user waited for a replacement token.
    pub with_token: bool,
}

#[cfg(test)]
thread_local! {
    static LOG: std::cell::RefCell<Option<Vec<LoginAudit>>> = const { std::cell::RefCell::new(None) };
}

/// Records a counted login, in a test build that is [`recording`] on this thread.
#[inline]
pub(super) fn login(
    user: u64,
    start: crate::time::Millis,
    end: crate::time::Millis,
    made: Made,
    with_token: bool,
) {
    #[cfg(test)]
    LOG.with(|l| {
        if let Some(v) = l.borrow_mut().as_mut() {
            v.push(LoginAudit {
                user,
                start,
                end,
                made,
                with_token,
            });
        }
    });
    #[cfg(not(test))]
    let _ = (user, start, end, made, with_token);
}

/// Runs `f` on this thread, returning what it returns and every login it counted.
#[cfg(test)]
pub fn recording<R>(f: impl FnOnce() -> R) -> (R, Vec<LoginAudit>) {
    LOG.with(|l| *l.borrow_mut() = Some(Vec::new()));
    let r = f();
    let log = LOG.with(|l| l.borrow_mut().take()).unwrap_or_default();
    (r, log)
}
