//! The explicit sync procedure (resync from consecutive codes), with its search orders and
//! the separate-codes variant.

use super::*;

impl ValidatorConfig {
    /// The explicit sync procedure: `codes` must be the credential's codes for consecutive
    /// steps (counters) within the sync window. On success the validator learns the drift and
    /// the last code's step becomes the last used one.
    pub fn sync(
        &self,
        st: &mut CredentialState,
        scheme: Scheme,
        now: Millis,
        codes: &[u32],
        mut code_of: impl FnMut(i64) -> u32,
    ) -> Result<i64, SyncFailure> {
        let Some(p) = self.sync else {
            return Err(SyncFailure::Unsupported);
        };
        let mut code_of = |s: i64| if s < 0 { NO_CODE } else { code_of(s) };
        if codes.contains(&NO_CODE) {
            return Err(SyncFailure::OutsideWindow);
        }
        if let (SyncSearch::Separate, Scheme::Totp { step_s, t0 }) = (p.search, scheme) {
            return self.sync_separately(st, p, (step_s, t0), now, codes, &mut code_of);
        }
        if st.is_locked(now) {
            return Err(SyncFailure::Locked);
        }
        let n = codes.len() as i64;
        let (lo, hi, server_step, step_ms, server_ms, t0) = match scheme {
            Scheme::Totp { step_s, t0 } => {
                let step_ms = step_s as i64 * 1000;
                let server_ms = self.server_ms(now);
                let ss = (server_ms - t0 * 1000).div_euclid(step_ms);
                (
                    ss - p.window as i64,
                    ss + p.window as i64,
                    ss,
                    step_ms,
                    server_ms,
                    t0,
                )
            }
            Scheme::Hotp => (st.hotp_next, st.hotp_next + p.window as i64, 0, 0, 0, 0),
        };
        let mut found = None;
        // Centre-out for TOTP, ascending for HOTP: the nearest run of consecutive codes wins.
        let first_steps: Vec<i64> = match scheme {
            Scheme::Totp { .. } => SearchOrder::CenterOut
                .offsets(p.window, p.window)
                .into_iter()
                .map(|o| server_step + o)
                .collect(),
            Scheme::Hotp => (lo..=hi).collect(),
        };
        for s in first_steps {
            if s + n - 1 > hi {
                continue;
            }
            if (0..n).all(|i| code_of(s + i) == codes[i as usize]) {
                found = Some(s);
                break;
            }
        }
        let Some(s) = found else {
            let each = codes.iter().all(|c| (lo..=hi).any(|x| code_of(x) == *c));
            return Err(if each {
                SyncFailure::NotConsecutive
            } else {
                SyncFailure::OutsideWindow
            });
        };
        let last = s + n - 1;
        if (s..=last).any(|x| self.refused(st, x)) {
            return Err(SyncFailure::Replay);
        }
        match scheme {
            Scheme::Hotp => st.hotp_next = last + 1,
            Scheme::Totp { .. } => match self.drift {
                DriftLearning::Seconds => st.shift_ms = last * step_ms + t0 * 1000 - server_ms,
                // A validator that stores no drift only moves its watermark.
                DriftLearning::None => {}
                _ => st.drift_steps = last + p.centre_beyond as i64 - server_step,
            },
        }
        st.last_step = Some(st.last_step.map_or(last, |l| l.max(last)));
        for x in s..=last {
            if st.used.len() == USED_KEPT {
                st.used.pop_front();
            }
            st.used.push_back(x);
        }
        st.failures = 0;
        st.pending_auto = None;
        st.sightings.clear();
        st.last_success = now;
        Ok(last - server_step)
    }

    /// privacyIDEA's and LinOTP's resync (`SyncSearch::Separate`).
    fn sync_separately(
        &self,
        st: &mut CredentialState,
        p: SyncProcedure,
        (step_s, t0): (u32, i64),
        now: Millis,
        codes: &[u32],
        code_of: &mut impl FnMut(i64) -> u32,
    ) -> Result<i64, SyncFailure> {
        let step_ms = step_s as i64 * 1000;
        let (server_ms, server_step, centre) = self.clock_steps(st, (step_s, t0), now);
        let (n, w) = (codes.len() as i64, p.window as i64);
        // Code i is searched oldest first in the window around the centre, shifted back by the
        // number of codes after it.
        let mut found = Vec::with_capacity(codes.len());
        for (i, c) in codes.iter().enumerate() {
            let back = n - 1 - i as i64;
            let lo = centre - back - w;
            match (lo..lo + 2 * w).find(|s| code_of(*s) == *c) {
                Some(s) => found.push(s),
                None => return Err(SyncFailure::OutsideWindow),
            }
        }
        if st.last_step.is_some_and(|l| found[0] < l) {
            return Err(SyncFailure::Replay);
        }
        if found.windows(2).any(|f| f[1] != f[0] + 1) {
            return Err(SyncFailure::NotConsecutive);
        }
        let last = *found.last().expect("at least one code");
        match self.drift {
            // The middle of the last code's step.
            DriftLearning::Seconds => {
                st.shift_ms = last * step_ms + step_ms / 2 + t0 * 1000 - server_ms
            }
            DriftLearning::None => {}
            _ => st.drift_steps = last - server_step,
        }
        st.last_step = Some(last + p.refuse_next as i64);
        // privacyIDEA's resync leaves a remembered autosync code in place.
        if self
            .auto_resync
            .is_none_or(|a| a.style != AutoStyle::Privacyidea)
        {
            st.pending_auto = None;
        }
        st.sightings.clear();
        Ok(last - server_step)
    }
}
