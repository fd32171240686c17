//! How fast a lean scalar loop of the numpy script's own rules runs: the floor of any per-user
//! engine without vector arithmetic (docs/scale.md, "Against a numpy script"). Not part of the
//! product, no dependencies:
//!
//!     rustc -O -o /tmp/lean_kernel scripts/lean_kernel.rs && /tmp/lean_kernel 30000
//!
//! The rules of `scripts/numpy_fleet.py` (hardware tokens with linear drift, sd 10 ppm; a
//! Poisson number of logins a day, mean 2, at the office-hours profile; a lognormal 7 s delay;
//! 2% typos; two retries about 20 s later; a ±1 window around the learned drift, the
//! time-forward rule), user by user as otpdrift simulates them, with the cheapest draws that
//! serve (SplitMix64 by counter for each day and login, the day's count from a table, a
//! Box-Muller normal), a clock-error histogram and monthly counts. Prints one line: logins,
//! attempts, accepted, seconds, attempts a second.

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const HOURS: [f64; 24] = [
    0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.5, 2.0, 1.5, 1.2, 0.8, 1.3, 1.5, 1.3, 1.0, 0.6,
    0.3, 0.2, 0.15, 0.15, 0.1, 0.05,
];

fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct SplitMix(u64, Option<f64>);

impl SplitMix {
    fn new(seed: u64) -> SplitMix {
        SplitMix(seed, None)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        fmix(self.0)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// A standard normal (Marsaglia's polar method, the pair's second kept for the next call).
    fn normal(&mut self) -> f64 {
        if let Some(z) = self.1.take() {
            return z;
        }
        loop {
            let (u, v) = (2.0 * self.uniform() - 1.0, 2.0 * self.uniform() - 1.0);
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * s.ln() / s).sqrt();
                self.1 = Some(v * m);
                return u * m;
            }
        }
    }
}

/// `x.round() as i64` without a libm call (as otpdrift's `time::round_i64`).
fn round(x: f64) -> i64 {
    let t = x as i64;
    let f = x - t as f64;
    t + (f >= 0.5) as i64 - (f <= -0.5) as i64
}

fn main() {
    let tokens: u64 = std::env::args().nth(1).map_or(30_000, |a| a.parse().expect("tokens"));
    let begin = std::time::Instant::now();
    // Poisson(2): the day's login count by inversion.
    let (mut cdf, mut p, mut k) = (Vec::new(), (-2.0f64).exp(), 0.0);
    let mut c = p;
    while c < 1.0 - 1e-15 {
        cdf.push(c);
        k += 1.0;
        p *= 2.0 / k;
        c += p;
    }
    let total: f64 = HOURS.iter().sum();
    let mut edges = [0f64; 24];
    let mut sum = 0.0;
    for (e, h) in edges.iter_mut().zip(HOURS) {
        sum += h / total;
        *e = sum;
    }
    // The hour of a draw u: a table on u's first ten bits, then the edges past it.
    let table: Vec<usize> =
        (0..1024).map(|i| edges.iter().filter(|&&e| e <= i as f64 / 1024.0).count().min(23)).collect();
    let mut hist = vec![0u64; 64 * 64];
    let mut months = [[0u64; 3]; 13];
    let (mut logins, mut attempts, mut accepted) = (0u64, 0u64, 0u64);
    let mut today: Vec<i64> = Vec::with_capacity(16);
    for user in 0..tokens {
        let key = fmix(user ^ 0x6f74_7064);
        let ppm = SplitMix::new(key).normal() * 10e-6;
        let (mut drift, mut last, mut n) = (0i64, i64::MIN, 0u64);
        for day in 0..365i64 {
            let mut r = SplitMix::new(fmix(key ^ fmix((day as u64).wrapping_mul(GOLDEN))));
            let u = r.uniform();
            let count = cdf.iter().take_while(|&&c| c < u).count();
            today.clear();
            for _ in 0..count {
                let uh = r.uniform();
                let mut h = table[(uh * 1024.0) as usize];
                while h < 23 && edges[h] <= uh {
                    h += 1;
                }
                let t = START_MS + day * 86_400_000 + h as i64 * 3_600_000 + (r.uniform() * 3.6e6) as i64;
                let at = today.partition_point(|&v| v < t);
                today.insert(at, t);
            }
            for &t in &today {
                logins += 1;
                n += 1;
                let month = ((t - START_MS) / (86_400_000 * 31)) as usize;
                months[month][0] += 1;
                let mut b = SplitMix::new(fmix(key ^ fmix(n.wrapping_mul(GOLDEN))));
                let offset = |at: i64| round(ppm * (at - START_MS) as f64);
                let x = offset(t).unsigned_abs().max(1);
                let e = 63 - x.leading_zeros() as usize;
                hist[e * 64 + ((x << 6 >> e) & 63) as usize] += 1;
                let mut read = t;
                for _ in 0..3 {
                    attempts += 1;
                    months[month][1] += 1;
                    let step = (read + offset(read)).div_euclid(30_000);
                    let typo = b.uniform() < 0.02;
                    let submit = read + (7000.0 * (0.5 * b.normal()).exp()) as i64;
                    let server = submit.div_euclid(30_000);
                    if !typo && (step - server - drift).abs() <= 1 && step > last {
                        (last, drift) = (step, step - server);
                        accepted += 1;
                        months[month][2] += 1;
                        break;
                    }
                    read = submit + (20_000.0 * (0.5 * b.normal()).exp()) as i64;
                }
            }
        }
    }
    let secs = begin.elapsed().as_secs_f64();
    assert_eq!(hist.iter().sum::<u64>(), logins);
    assert_eq!(months.iter().map(|m| m[1]).sum::<u64>(), attempts);
    println!(
        "tokens {tokens} logins {logins} attempts {attempts} accepted {accepted} seconds {secs:.3} \
         attempts_per_second {:.0}",
        attempts as f64 / secs
    );
}
