//! How fast the numpy script's rules run with many users in vector lanes: the question a
//! batched engine must answer before it is built (docs/scale.md, "Against a numpy script").
//! Not part of the product, no dependencies, no `unsafe`; plain loops over lane arrays that the
//! compiler turns into vector instructions:
//!
//!     rustc -O -C target-cpu=native -o /tmp/lane_kernel scripts/lane_kernel.rs
//!     /tmp/lane_kernel 30000
//!
//! The rules of `scripts/numpy_fleet.py` and `scripts/lean_kernel.rs` (hardware tokens with
//! linear drift, sd 10 ppm; a Poisson number of logins a day, mean 2, at the office-hours
//! profile; a lognormal 7 s delay; 2% typos; two retries about 20 s later; a ±1 window around
//! the learned drift, the time-forward rule), with a clock-error histogram and monthly counts.
//! What differs from a per-user loop:
//!
//! - `LANES` users advance together, one attempt each per step (a user whose attempt failed
//!   takes a retry, the others their next login); the state is one array per field and the
//!   attempt's arithmetic is vectorised (the login's start and the counts stay scalar loops).
//! - Logins are a Poisson process in the day's cumulative intensity: one exponential gap a
//!   login, no day's count or sort (the same law as a Poisson count a day with hours from the
//!   profile).
//! - Every draw is SplitMix64 by counter, and `ln`, `exp`, `sin` and `cos` are polynomials in
//!   plain arithmetic (no libm call, no table), so lanes compute them side by side and a
//!   scalar path could repeat them bit for bit. Normals by Box-Muller, both halves used.
//!
//! Prints one line: logins, attempts, accepted, seconds, attempts a second. On the 2-core
//! development machine it reaches about five times the numpy script with AVX2 and less than
//! the scalar loop without it (docs/scale.md, "How far vector lanes go").

const LANES: usize = 16;
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
const DAY_MS: f64 = 86_400_000.0;
const HOUR_MS: f64 = 3_600_000.0;
const STEP_MS: f64 = 30_000.0;
const DAYS: f64 = 365.0;
const HOURS: [f64; 24] = [
    0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.5, 2.0, 1.5, 1.2, 0.8, 1.3, 1.5, 1.3, 1.0, 0.6,
    0.3, 0.2, 0.15, 0.15, 0.1, 0.05,
];

type F = [f64; LANES];
type U = [u64; LANES];

#[inline(always)]
fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform in [0, 1) from 52 bits, built in the exponent field (no integer-to-float
/// conversion, which these vector units lack for 64-bit integers).
#[inline(always)]
fn unit(x: u64) -> f64 {
    f64::from_bits(0x3ff0_0000_0000_0000 | (x >> 12)) - 1.0
}

/// ln x for x > 0 normal: x = 2^e m, m in [√½, √2), ln m = 2 atanh(s), s = (m-1)/(m+1),
/// the series to s^21 in Estrin's form (short dependency chains).
#[inline(always)]
fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let big = ((bits & 0x000f_ffff_ffff_ffff) > 0x0006_a09e_667f_3bcd) as u64;
    // m in [√½, √2): the exponent field 1022 when the mantissa is past √2, else 1023.
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | ((1023 - big) << 52));
    let e = f64::from_bits(0x4330_0000_0000_0000 | ((bits >> 52) + big))
        - (4_503_599_627_370_496.0 + 1023.0);
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    let z2 = z * z;
    let z4 = z2 * z2;
    let z8 = z4 * z4;
    let c = |k: f64| 1.0 / k;
    let p01 = c(3.0) + z * c(5.0);
    let p23 = c(7.0) + z * c(9.0);
    let p45 = c(11.0) + z * c(13.0);
    let p67 = c(15.0) + z * c(17.0);
    let p89 = c(19.0) + z * c(21.0);
    let p = (p01 + z2 * p23) + z4 * (p45 + z2 * p67) + z8 * p89;
    e * 6.931_471_803_691_238_2e-1 + (2.0 * s + (2.0 * s * z * p + e * 1.908_214_929_270_587_7e-10))
}

/// e^x for |x| < 700: x = k ln2 + r, |r| ≤ ln2/2, e^r by its Taylor series to r^13 (Estrin).
#[inline(always)]
fn exp(x: f64) -> f64 {
    let k = (x * std::f64::consts::LOG2_E + 6_755_399_441_055_744.0) - 6_755_399_441_055_744.0;
    let r = (x - k * 6.931_471_803_691_238_2e-1) - k * 1.908_214_929_270_587_7e-10;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let f = |n: f64| 1.0 / n;
    let a = 1.0 + r;
    let b = f(2.0) + r * f(6.0);
    let c = f(24.0) + r * f(120.0);
    let d = f(720.0) + r * f(5040.0);
    let e = f(40320.0) + r * f(362_880.0);
    let g = f(3_628_800.0) + r * f(39_916_800.0);
    let h = f(479_001_600.0) + r * f(6_227_020_800.0);
    let p = (a + r2 * b) + r4 * (c + r2 * d) + r8 * ((e + r2 * g) + r4 * h);
    // 2^k in the exponent field.
    let kb = (k + 1023.0 + 4_503_599_627_370_496.0).to_bits() & 0x7ff;
    p * f64::from_bits(kb << 52)
}

/// (sin 2πu, cos 2πu) for u in [0, 1): the angle folded to within π/4 of a quadrant.
#[inline(always)]
fn sincos_turn(u: f64) -> (f64, f64) {
    let q = ((u * 4.0) + 0.5).floor();
    let r = (u - q * 0.25) * (2.0 * std::f64::consts::PI);
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let f = |n: f64| 1.0 / n;
    let s = r
        * ((1.0 - r2 * f(6.0))
            + r4 * (f(120.0) - r2 * f(5040.0))
            + r8 * ((f(362_880.0) - r2 * f(39_916_800.0))
                + r4 * (f(6_227_020_800.0) - r2 * f(1_307_674_368_000.0))));
    let c = (1.0 - r2 * 0.5)
        + r4 * (f(24.0) - r2 * f(720.0))
        + r8 * ((f(40320.0) - r2 * f(3_628_800.0))
            + r4 * (f(479_001_600.0) - r2 * f(87_178_291_200.0)));
    // Quadrant 0..4 (4 is 0 again), by selects.
    let q = q - 4.0 * (q * 0.25).floor();
    let (a, b) = if q == 1.0 || q == 3.0 { (c, s) } else { (s, c) };
    let sn = if q == 2.0 || q == 3.0 { -a } else { a };
    let cs = if q == 1.0 || q == 2.0 { -b } else { b };
    (sn, cs)
}

struct Block {
    key: U,
    gap: U,
    rng: U,
    n: U,
    ppm: F,
    drift: F,
    last: F,
    day: F,
    pos: F,
    read: F,
    tries: U,
    live: U,
}

fn main() {
    let tokens: usize = std::env::args()
        .nth(1)
        .map_or(30_000, |a| a.parse().expect("tokens"));
    let begin = std::time::Instant::now();
    // The hour profile as cumulative intensity within a day of mean 2 logins.
    let total: f64 = HOURS.iter().sum();
    let rate = 2.0;
    let mut before = [0.0; 24];
    let mut ms_per = [0.0; 24];
    let mut sum = 0.0;
    for h in 0..24 {
        before[h] = sum * rate / total;
        sum += HOURS[h];
        ms_per[h] = HOUR_MS / (HOURS[h] * rate / total);
    }
    let mut hist = vec![0u64; 64 * 64];
    let mut months = [[0u64; 3]; 13];
    let (mut logins, mut attempts, mut accepted) = (0u64, 0u64, 0u64);
    for first_user in (0..tokens).step_by(LANES) {
        let mut b = Block {
            key: [0; LANES],
            gap: [0; LANES],
            rng: [0; LANES],
            n: [0; LANES],
            ppm: [0.0; LANES],
            drift: [0.0; LANES],
            last: [-1.0; LANES],
            day: [0.0; LANES],
            pos: [0.0; LANES],
            read: [0.0; LANES],
            tries: [0; LANES],
            live: [0; LANES],
        };
        for i in 0..LANES {
            let user = (first_user + i) as u64;
            b.key[i] = fmix(user ^ 0x6f74_7064);
            b.gap[i] = fmix(b.key[i] ^ 0x7363_6865_6475_6c65);
            let (u1, u2) = (unit(fmix(b.key[i])), unit(fmix(b.key[i] ^ 1)));
            let (_, c) = sincos_turn(u2);
            b.ppm[i] = (-2.0 * ln(1.0 - u1)).sqrt() * c * 10e-6;
            b.live[i] = (first_user + i < tokens) as u64;
        }
        // The first login of each lane, then one attempt a lane a step.
        let mut fresh: U = [1; LANES];
        loop {
            // Next logins where a lane starts one: a gap, whole days passed, the hour, the time.
            let mut t = [0.0; LANES];
            for i in 0..LANES {
                b.gap[i] = b.gap[i].wrapping_add(GOLDEN * fresh[i]);
                let e = -ln(1.0 - unit(fmix(b.gap[i])));
                let pos = if fresh[i] == 1 {
                    b.pos[i] + e
                } else {
                    b.pos[i]
                };
                let days = (pos * (1.0 / rate)).floor();
                let p = pos - days * rate;
                b.pos[i] = p;
                b.day[i] += days;
            }
            // The time within the day where the intensity reaches p: the sum over the hours
            // of the time spent in each (a piecewise-linear function, no search, no branch).
            for i in 0..LANES {
                let p = b.pos[i];
                let mut within = 0.0;
                for h in 0..24 {
                    within += ((p - before[h]) * ms_per[h]).clamp(0.0, HOUR_MS);
                }
                t[i] = b.day[i] * DAY_MS + within.min(DAY_MS - 1.0).floor();
            }
            let mut any = false;
            for i in 0..LANES {
                let starts = fresh[i] == 1;
                b.read[i] = if starts { t[i] } else { b.read[i] };
                b.tries[i] = if starts { 0 } else { b.tries[i] };
                b.n[i] += starts as u64;
                b.rng[i] = if starts {
                    fmix(b.key[i] ^ fmix(b.n[i].wrapping_mul(GOLDEN)))
                } else {
                    b.rng[i]
                };
                b.live[i] = if starts && t[i] >= DAYS * DAY_MS {
                    0
                } else {
                    b.live[i]
                };
                any |= b.live[i] == 1;
            }
            if !any {
                break;
            }
            // One attempt a lane.
            let mut ok: U = [0; LANES];
            let mut off = [0.0; LANES];
            let mut month = [0.0; LANES];
            for i in 0..LANES {
                let r0 = b.rng[i].wrapping_add(GOLDEN);
                let r1 = r0.wrapping_add(GOLDEN);
                let r2 = r1.wrapping_add(GOLDEN);
                b.rng[i] = r2;
                let typo = unit(fmix(r0)) < 0.02;
                let (s, c) = sincos_turn(unit(fmix(r2)));
                let radius = (-2.0 * ln(1.0 - unit(fmix(r1)))).sqrt();
                let read = b.read[i];
                off[i] = (b.ppm[i] * read + 0.5).floor();
                let step = ((read + off[i]) * (1.0 / STEP_MS)).floor();
                let submit = read + (7000.0 * exp(0.5 * radius * c)).floor();
                let server = (submit * (1.0 / STEP_MS)).floor();
                let d = step - server - b.drift[i];
                let good = !typo && d.abs() <= 1.0 && step > b.last[i] && b.live[i] == 1;
                ok[i] = good as u64;
                b.last[i] = if good { step } else { b.last[i] };
                b.drift[i] = if good { step - server } else { b.drift[i] };
                let retry = !good && b.tries[i] < 2;
                fresh[i] = (!retry) as u64;
                b.tries[i] += 1;
                b.read[i] = if retry {
                    submit + (20_000.0 * exp(0.5 * radius * s)).floor()
                } else {
                    read
                };
                month[i] = (read * (1.0 / (31.0 * DAY_MS))).floor();
            }
            // Counts: the lanes' histogram bins and months, added one lane at a time, without
            // branches (a lane past the horizon or on a retry adds zeros).
            for i in 0..LANES {
                let live = b.live[i];
                let first = live * (b.tries[i] == 1) as u64;
                let good = ok[i];
                let m = (month[i] as i64 as usize).min(12);
                attempts += live;
                logins += first;
                accepted += good;
                months[m][0] += first;
                months[m][1] += live;
                months[m][2] += good;
                let x = (off[i].abs() as i64 as u64).max(1);
                let e = 63 - x.leading_zeros() as usize;
                hist[e * 64 + ((x << 6 >> e) & 63) as usize] += first;
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
