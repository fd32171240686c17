//! Locating typed codes: each code's step, searched outward from the last match.

use super::*;

/// Finds the step whose code is `code`, nearest `centre` first, within ±`range` steps.
pub(super) fn locate(sec: &Secret, code: &str, centre: i64, range: i64) -> Option<i64> {
    let want: u32 = code.parse().ok()?;
    for k in 0..=range {
        for s in [centre + k, centre - k] {
            if s >= 0 && sec.keyed.hotp(s as u64, sec.digits) == want {
                return Some(s);
            }
            if k == 0 {
                break;
            }
        }
    }
    None
}

/// Turns a credential's codes into observations; returns the rows matching no step.
pub(super) fn locate_codes(c: &mut Cred, sec: &Secret, delay_s: f64, range: i64) -> Vec<u64> {
    let Scheme::Totp { step_s, t0 } = sec.scheme else {
        return Vec::new();
    };
    let mut codes = std::mem::take(&mut c.codes);
    codes.sort_by_key(|x| x.0);
    let mut lost = Vec::new();
    let mut drift = 0i64;
    let step_ms = step_s as i64 * 1000;
    for (t, code, line) in codes {
        let server = (t - t0 * 1000).div_euclid(step_ms);
        let found = locate(sec, &code, server + drift, range).or_else(|| {
            (drift.abs() > range)
                .then(|| locate(sec, &code, server, range))
                .flatten()
        });
        match found {
            Some(m) => {
                drift = m - server;
                if c.syncs.contains(&t) {
                    c.last_sync = Some((t, drift));
                }
                let lo = ((m * step_ms + t0 * 1000) - t) as f64 / 1000.0 + delay_s;
                c.obs.push(Observation {
                    t,
                    lo,
                    hi: lo + step_s as f64,
                });
            }
            None => lost.push(line),
        }
    }
    lost
}
