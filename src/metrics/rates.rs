//! Intervals of rates: Wilson's score interval, and per-user sums that make users (not logins)
//! the unit of a login rate's interval.

use serde::Serialize;

/// Wilson score 95% interval of a proportion k/n.
pub fn wilson95(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    Some(wilson95_of(k as f64 / n as f64, n as f64))
}

/// The Wilson interval of a rate `p` observed over an (effective) sample of `n`.
fn wilson95_of(p: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Per-user sums behind the login rates' intervals. One user's logins are not independent (a
/// drifted token fails login after login), so the variance of a rate is estimated between
/// users (a cluster-robust, ratio-estimator variance) rather than between logins. Exact
/// integers, so any split of the fleet merges to the same interval.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserSums {
    /// Users with at least one login.
    pub users: u64,
    /// Sums over users of logins², first-try successes × logins, first-try successes²,
    /// successful logins × logins, successful logins².
    pub nn: u128,
    pub first_kn: u128,
    pub first_kk: u128,
    pub ok_kn: u128,
    pub ok_kk: u128,
}

impl UserSums {
    /// One user's `logins`, of which `first_ok` succeeded at the first try and `ok` at all.
    pub fn add_user(&mut self, logins: u64, first_ok: u64, ok: u64) {
        if logins == 0 {
            return;
        }
        let (n, f, k) = (logins as u128, first_ok as u128, ok as u128);
        self.users += 1;
        self.nn += n * n;
        self.first_kn += f * n;
        self.first_kk += f * f;
        self.ok_kn += k * n;
        self.ok_kk += k * k;
    }

    pub fn merge(&mut self, o: &UserSums) {
        self.users += o.users;
        self.nn += o.nn;
        self.first_kn += o.first_kn;
        self.first_kk += o.first_kk;
        self.ok_kn += o.ok_kn;
        self.ok_kk += o.ok_kk;
    }

    /// 95% interval of the first-try acceptance rate `k` / `n` (the population's totals).
    pub fn first_try_ci95(&self, k: u64, n: u64) -> Option<(f64, f64)> {
        self.ci95(k, n, self.first_kk, self.first_kn)
    }

    /// 95% interval of the login success rate `k` / `n`.
    pub fn login_success_ci95(&self, k: u64, n: u64) -> Option<(f64, f64)> {
        self.ci95(k, n, self.ok_kk, self.ok_kn)
    }

    /// Wilson's interval at the effective sample size n / deff, where the design effect deff
    /// is the between-user variance of the ratio K/N over the binomial one (at least 1: never
    /// narrower than treating logins as independent; 1 with fewer than two users).
    fn ci95(&self, k: u64, n: u64, kk: u128, kn: u128) -> Option<(f64, f64)> {
        if n == 0 {
            return None;
        }
        let (nf, p) = (n as f64, k as f64 / n as f64);
        let g = self.users as f64;
        let binomial = p * (1.0 - p) / nf;
        let deff = if self.users >= 2 && binomial > 0.0 {
            // sum over users of (k_i - p n_i)^2, expanded into the kept sums.
            let s = kk as f64 - 2.0 * p * kn as f64 + p * p * self.nn as f64;
            let var = g / (g - 1.0) * s.max(0.0) / (nf * nf);
            (var / binomial).max(1.0)
        } else {
            1.0
        };
        Some(wilson95_of(p, nf / deff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_intervals_count_users_not_logins() {
        // Four users of 100 logins: two always succeed, two never. p = 1/2; between users
        // sum (k - p n)^2 = 4 * 50^2, var = 4/3 * 10,000 / 400^2 = 1/12, against a binomial
        // 1/1600: the design effect is 133 1/3 and the effective sample 3 users' worth.
        let mut u = UserSums::default();
        for k in [100, 0, 100, 0] {
            u.add_user(100, k, k);
        }
        u.add_user(0, 0, 0); // no logins: not a cluster
        assert_eq!(u.users, 4);
        let (lo, hi) = u.first_try_ci95(200, 400).unwrap();
        let (el, eh) = wilson95_of(0.5, 3.0);
        assert!(
            (lo - el).abs() < 1e-12 && (hi - eh).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert!(
            (lo - 0.125_33).abs() < 1e-4 && (hi - 0.874_67).abs() < 1e-4,
            "{lo} {hi}"
        );
        // Far wider than logins taken as independent.
        let (wl, wh) = wilson95(200, 400).unwrap();
        assert!(wh - wl < 0.1 && hi - lo > 0.7);
        // Users alike: no between-user excess, so exactly Wilson's interval over logins.
        let mut same = UserSums::default();
        for _ in 0..4 {
            same.add_user(100, 50, 90);
        }
        assert_eq!(same.first_try_ci95(200, 400), wilson95(200, 400));
        assert_eq!(same.login_success_ci95(360, 400), wilson95(360, 400));
        // Merged halves give the whole.
        let (mut a, mut b) = (UserSums::default(), UserSums::default());
        a.add_user(100, 100, 100);
        a.add_user(100, 0, 0);
        b.add_user(100, 100, 100);
        b.add_user(100, 0, 0);
        a.merge(&b);
        assert_eq!(a, u);
        assert_eq!(UserSums::default().first_try_ci95(0, 0), None);
    }

    #[test]
    fn wilson_interval_known_values() {
        let (lo, hi) = wilson95(50, 100).unwrap();
        assert!(
            (lo - 0.4038).abs() < 1e-4 && (hi - 0.5962).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson95(0, 10).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-4);
        assert_eq!(wilson95(0, 0), None);
    }
}
