//! The straight-line clock fit of one segment: interval regression by maximum likelihood
//! (Tobin/Stata `intreg`-style), where each observation says the offset lay in `[lo, hi]`
//! (a matched code) or at `lo` (a measured offset), blurred by normal noise of unknown size
//! (the submission delay's spread, the clock's short-term wobble).
//!
//! The log-likelihood is concave in Pratt's parameters (a/σ, b/σ, 1/σ), so Newton's method
//! with a backtracking line search finds the one maximum from any start.

/// One observation: the offset (device minus true time, seconds, mean delay already added)
/// lay in `[lo, hi]` at `x` seconds from the segment's centre; `hi == lo` is a point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub x: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A fitted line `offset(x) = a + b·x` with its covariance and the noise's size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    pub a: f64,
    /// Seconds per second (1e-6 is one ppm).
    pub b: f64,
    pub var_a: f64,
    pub var_b: f64,
    pub cov_ab: f64,
    pub sigma: f64,
    /// Observations fitted.
    pub n: usize,
}

impl Line {
    /// The line's value at `x`, and its standard error.
    pub fn at(&self, x: f64) -> (f64, f64) {
        let v = self.var_a + 2.0 * x * self.cov_ab + x * x * self.var_b;
        (self.a + self.b * x, v.max(0.0).sqrt())
    }
}

/// The smallest noise the fit allows: below it the likelihood of intervals that a line threads
/// exactly is flat and tells nothing more.
pub const SIGMA_FLOOR_S: f64 = 0.05;

const SQRT_2: f64 = std::f64::consts::SQRT_2;
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

fn pdf(u: f64) -> f64 {
    (-0.5 * u * u - LN_SQRT_2PI).exp()
}

/// Φ(hi) − Φ(lo) for `lo < hi`, computed on the side of the tails that keeps its digits.
fn mass(lo: f64, hi: f64) -> f64 {
    if lo > 0.0 {
        0.5 * (libm::erfc(lo / SQRT_2) - libm::erfc(hi / SQRT_2))
    } else if hi < 0.0 {
        0.5 * (libm::erfc(-hi / SQRT_2) - libm::erfc(-lo / SQRT_2))
    } else {
        1.0 - 0.5 * libm::erfc(-lo / SQRT_2) - 0.5 * libm::erfc(hi / SQRT_2)
    }
}

/// Log-likelihood, gradient and Hessian at θ = (α, β, γ), with a = α/γ, b = β/γ, σ = 1/γ.
/// `None` where an observation has no probability left (a step too far).
fn evaluate(obs: &[Interval], t: [f64; 3]) -> Option<(f64, [f64; 3], [[f64; 3]; 3])> {
    let [al, be, ga] = t;
    if ga <= 0.0 {
        return None;
    }
    let mut ll = 0.0;
    let mut g = [0.0; 3];
    let mut h = [[0.0; 3]; 3];
    let add_outer = |h: &mut [[f64; 3]; 3], v: [f64; 3], w: f64| {
        for i in 0..3 {
            for j in 0..3 {
                h[i][j] += w * v[i] * v[j];
            }
        }
    };
    for o in obs {
        let m = al + be * o.x;
        if o.hi > o.lo {
            let (ua, ub) = (ga * o.lo - m, ga * o.hi - m);
            let p = mass(ua, ub);
            if p <= 1e-300 || !p.is_finite() {
                return None;
            }
            ll += p.ln();
            let (fa, fb) = (pdf(ua) / p, pdf(ub) / p);
            let da = [-1.0, -o.x, o.lo];
            let db = [-1.0, -o.x, o.hi];
            let gi: [f64; 3] = std::array::from_fn(|k| fb * db[k] - fa * da[k]);
            for k in 0..3 {
                g[k] += gi[k];
            }
            // d²/dθ² of ln P: (φ'(ub) db dbᵀ − φ'(ua) da daᵀ)/P − g gᵀ, with φ'(u) = −u φ(u).
            add_outer(&mut h, db, -ub * fb);
            add_outer(&mut h, da, ua * fa);
            add_outer(&mut h, gi, -1.0);
        } else {
            let r = ga * o.lo - m;
            ll += ga.ln() - 0.5 * r * r - LN_SQRT_2PI;
            let v = [-1.0, -o.x, o.lo];
            for k in 0..3 {
                g[k] -= r * v[k];
            }
            g[2] += 1.0 / ga;
            add_outer(&mut h, v, -1.0);
            h[2][2] -= 1.0 / (ga * ga);
        }
    }
    ll.is_finite().then_some((ll, g, h))
}

fn solve3(m: [[f64; 3]; 3], v: [f64; 3]) -> Option<[f64; 3]> {
    let inv = invert3(m)?;
    Some(std::array::from_fn(|i| {
        (0..3).map(|j| inv[i][j] * v[j]).sum()
    }))
}

fn invert3(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |r: usize, s: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (s1, s2) = ((s + 1) % 3, (s + 2) % 3);
        m[r1][s1] * m[r2][s2] - m[r1][s2] * m[r2][s1]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    if !det.is_finite() || det.abs() < 1e-300 {
        return None;
    }
    Some(std::array::from_fn(|i| {
        std::array::from_fn(|j| c(j, i) / det)
    }))
}

/// The least-squares line through the intervals' midpoints: the fit's start, and the answer
/// when the likelihood cannot be maximised.
fn midpoint_line(obs: &[Interval]) -> (f64, f64, f64) {
    let n = obs.len() as f64;
    let mx = obs.iter().map(|o| o.x).sum::<f64>() / n;
    let my = obs.iter().map(|o| 0.5 * (o.lo + o.hi)).sum::<f64>() / n;
    let sxx: f64 = obs.iter().map(|o| (o.x - mx).powi(2)).sum();
    let sxy: f64 = obs
        .iter()
        .map(|o| (o.x - mx) * (0.5 * (o.lo + o.hi) - my))
        .sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let a = my - b * mx;
    let ss: f64 = obs
        .iter()
        .map(|o| (0.5 * (o.lo + o.hi) - a - b * o.x).powi(2))
        .sum();
    (a, b, (ss / n).sqrt())
}

/// Fits a line to at least two observations at two or more distinct `x`; `None` otherwise.
/// The covariance is the larger of the model's (inverse information) and the sandwich
/// estimate's, then widened for residuals that follow each other (lag-one autocorrelation), so
/// a clock that wobbles around its line is not reported more precisely than it is.
pub fn fit(obs: &[Interval]) -> Option<Line> {
    let n = obs.len();
    if n < 2 || obs.iter().all(|o| o.x == obs[0].x) {
        return None;
    }
    let (a0, b0, s0) = midpoint_line(obs);
    let width = obs.iter().map(|o| o.hi - o.lo).fold(0.0, f64::max);
    let g0 = 1.0 / s0.max(width / 4.0).max(1.0);
    let gmax = 1.0 / SIGMA_FLOOR_S;
    let mut t = [a0 * g0, b0 * g0, g0];
    let (mut ll, mut g, mut h) = evaluate(obs, t)?;
    for _ in 0..100 {
        let neg: [[f64; 3]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| -h[i][j]));
        let mut step = solve3(neg, g).unwrap_or(g);
        // Not an ascent direction (a flat or numerically unsure Hessian): follow the gradient.
        if (0..3).map(|k| step[k] * g[k]).sum::<f64>() <= 0.0 {
            step = g;
        }
        let mut k = 1.0;
        let mut moved = false;
        for _ in 0..60 {
            let mut cand: [f64; 3] = std::array::from_fn(|i| t[i] + k * step[i]);
            cand[2] = cand[2].min(gmax);
            if let Some((l2, g2, h2)) = evaluate(obs, cand) {
                if l2 >= ll - 1e-12 * ll.abs() {
                    let gain = l2 - ll;
                    t = cand;
                    (ll, g, h) = (l2, g2, h2);
                    moved = gain > 1e-10;
                    break;
                }
            }
            k *= 0.5;
        }
        if !moved {
            break;
        }
    }
    let [al, be, ga] = t;
    let info: [[f64; 3]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| -h[i][j]));
    // At the noise floor the third parameter is pinned, not estimated: drop it from the
    // information so the line's uncertainty is that of (α, β) at the floor.
    let at_floor = ga >= gmax * (1.0 - 1e-9);
    let cov = if at_floor {
        let det = info[0][0] * info[1][1] - info[0][1] * info[1][0];
        (det > 0.0).then(|| {
            let mut c = [[0.0; 3]; 3];
            c[0][0] = info[1][1] / det;
            c[1][1] = info[0][0] / det;
            c[0][1] = -info[0][1] / det;
            c[1][0] = c[0][1];
            c
        })
    } else {
        invert3(info)
    };
    let (a, b) = (al / ga, be / ga);
    let Some(cov) = cov else {
        // No information about the line (every interval threaded with room to spare): only
        // the spread of the intervals bounds it.
        let (_, _, s) = midpoint_line(obs);
        let sxx: f64 = {
            let mx = obs.iter().map(|o| o.x).sum::<f64>() / n as f64;
            obs.iter().map(|o| (o.x - mx).powi(2)).sum()
        };
        let s = s.max(width / 12f64.sqrt());
        return Some(Line {
            a,
            b,
            var_a: s * s / n as f64,
            var_b: s * s / sxx,
            cov_ab: 0.0,
            sigma: 1.0 / ga,
            n,
        });
    };
    // (a, b) = (α/γ, β/γ): the delta method.
    let j = [
        [1.0 / ga, 0.0, -al / (ga * ga)],
        [0.0, 1.0 / ga, -be / (ga * ga)],
    ];
    let project = |c: &[[f64; 3]; 3]| -> [[f64; 2]; 2] {
        std::array::from_fn(|p| {
            std::array::from_fn(|q| {
                (0..3)
                    .map(|i| (0..3).map(|k| j[p][i] * c[i][k] * j[q][k]).sum::<f64>())
                    .sum()
            })
        })
    };
    let model = project(&cov);
    let sandwich = sandwich(obs, t, &cov).map(|c| project(&c));
    let mut c = match sandwich {
        Some(s) if s[1][1] > model[1][1] => s,
        _ => model,
    };
    let inflate = autocorrelation_inflation(obs, a, b);
    for row in &mut c {
        for v in row {
            *v *= inflate;
        }
    }
    if let Some(j) = jackknife(obs, t, h) {
        if j[1][1] > c[1][1] {
            c = j;
        }
    }
    // Noise-free intervals that a line threads with room to spare leave the likelihood flat
    // over a set of lines, and its curvature says nothing: the midpoints' least squares
    // (errors: the phase within each interval) bounds the line instead.
    if at_floor || ll > -1e-4 * n as f64 {
        let m = midpoint_cov(obs);
        if m[1][1] < c[1][1] {
            c = m;
        }
    }
    Some(Line {
        a,
        b,
        var_a: c[0][0],
        var_b: c[1][1],
        cov_ab: c[0][1],
        sigma: 1.0 / ga,
        n,
    })
}

/// The delete-a-block jackknife covariance of (a, b), over up to 20 blocks of neighbouring
/// observations, each left-out estimate one Newton step from the fit: it holds when the noise
/// has heavier tails than the normal (a lognormal delay) and when neighbours are alike.
fn jackknife(obs: &[Interval], t: [f64; 3], h: [[f64; 3]; 3]) -> Option<[[f64; 2]; 2]> {
    let n = obs.len();
    let g_count = (n / 5).min(20);
    if g_count < 5 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| obs[i].x.total_cmp(&obs[j].x));
    let mut ab = Vec::with_capacity(g_count);
    for b in 0..g_count {
        let block = &order[b * n / g_count..(b + 1) * n / g_count];
        let mut gb = [0.0; 3];
        let mut hb = [[0.0; 3]; 3];
        for &i in block {
            let (_, g, hi) = evaluate(std::slice::from_ref(&obs[i]), t)?;
            for p in 0..3 {
                gb[p] += g[p];
                for q in 0..3 {
                    hb[p][q] += hi[p][q];
                }
            }
        }
        let neg: [[f64; 3]; 3] =
            std::array::from_fn(|p| std::array::from_fn(|q| hb[p][q] - h[p][q]));
        let d = solve3(neg, gb)?;
        let th: [f64; 3] = std::array::from_fn(|p| t[p] - d[p]);
        if th[2] <= 0.0 {
            return None;
        }
        ab.push((th[0] / th[2], th[1] / th[2]));
    }
    let g = g_count as f64;
    let ma = ab.iter().map(|p| p.0).sum::<f64>() / g;
    let mb = ab.iter().map(|p| p.1).sum::<f64>() / g;
    let k = (g - 1.0) / g;
    let (mut vaa, mut vbb, mut vab) = (0.0, 0.0, 0.0);
    for (a, b) in &ab {
        vaa += k * (a - ma) * (a - ma);
        vbb += k * (b - mb) * (b - mb);
        vab += k * (a - ma) * (b - mb);
    }
    Some([[vaa, vab], [vab, vbb]])
}

/// The covariance of the midpoints' least-squares line (intercept at x = 0), its error
/// variance at least the uniform phase's width²/12.
fn midpoint_cov(obs: &[Interval]) -> [[f64; 2]; 2] {
    let n = obs.len() as f64;
    let (_, _, rms) = midpoint_line(obs);
    let width = obs.iter().map(|o| o.hi - o.lo).fold(0.0, f64::max);
    let s2 = (rms * rms * n / (n - 2.0).max(1.0)).max(width * width / 12.0);
    let mx = obs.iter().map(|o| o.x).sum::<f64>() / n;
    let sxx: f64 = obs.iter().map(|o| (o.x - mx).powi(2)).sum();
    let vb = s2 / sxx;
    // a = ȳ − b·x̄: var = s²/n + x̄²·var b, cov = −x̄·var b.
    [[s2 / n + mx * mx * vb, -mx * vb], [-mx * vb, vb]]
}

/// H⁻¹ (Σ gᵢ gᵢᵀ) H⁻¹: the covariance that holds when the noise is not the model's.
fn sandwich(obs: &[Interval], t: [f64; 3], cov: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let mut meat = [[0.0; 3]; 3];
    for o in obs {
        let (_, g, _) = evaluate(std::slice::from_ref(o), t)?;
        for i in 0..3 {
            for j in 0..3 {
                meat[i][j] += g[i] * g[j];
            }
        }
    }
    let n = obs.len() as f64;
    // Small-sample correction (n/(n−3)), as for HC1.
    let k = if n > 3.0 { n / (n - 3.0) } else { 1.0 };
    Some(std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            k * (0..3)
                .map(|p| {
                    (0..3)
                        .map(|q| cov[i][p] * meat[p][q] * cov[q][j])
                        .sum::<f64>()
                })
                .sum::<f64>()
        })
    }))
}

/// (1 + ρ)/(1 − ρ) for the lag-one autocorrelation ρ > 0 of the midpoint residuals in time
/// order (AR(1) effective sample size), capped at 25; 1 when residuals do not follow each other.
fn autocorrelation_inflation(obs: &[Interval], a: f64, b: f64) -> f64 {
    if obs.len() < 8 {
        return 1.0;
    }
    let r: Vec<f64> = obs
        .iter()
        .map(|o| 0.5 * (o.lo + o.hi) - a - b * o.x)
        .collect();
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let var: f64 = r.iter().map(|v| (v - mean).powi(2)).sum();
    if var <= 0.0 {
        return 1.0;
    }
    let cov: f64 = r.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    let rho = (cov / var).clamp(0.0, 0.92);
    (1.0 + rho) / (1.0 - rho)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Matched-code observations of a clock `offset(x) = a + b·x` read at random phases,
    /// submitted after a normal delay: the interval of width `step` that holds the truth.
    fn codes(a: f64, b: f64, n: usize, span: f64, seed: u64) -> Vec<Interval> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let step = 30.0;
        (0..n)
            .map(|i| {
                let x = -span / 2.0 + span * (i as f64 + rng.random::<f64>()) / n as f64;
                let t_read = 1.8e9 + x + rng.random::<f64>() * 1e4;
                let device = t_read + a + b * x;
                let m = (device / step).floor();
                let delay = 7.0 + 3.0 * (rng.random::<f64>() - 0.5) * 2.0;
                let t_server = t_read + delay;
                // lo = m·step − t_server, then the assumed mean delay (7 s) added back.
                let lo = m * step - t_server + 7.0;
                Interval {
                    x,
                    lo,
                    hi: lo + step,
                }
            })
            .collect()
    }

    #[test]
    fn points_on_a_line_give_least_squares() {
        let obs: Vec<Interval> = (0..5)
            .map(|i| {
                let x = i as f64 * 100.0;
                let y = 2.0 + 0.01 * x + if i % 2 == 0 { 0.5 } else { -0.5 };
                Interval { x, lo: y, hi: y }
            })
            .collect();
        let l = fit(&obs).unwrap();
        let (a, b, _) = midpoint_line(&obs);
        assert!((l.a - a).abs() < 1e-6 && (l.b - b).abs() < 1e-9, "{l:?}");
        // Maximum likelihood σ of normal errors: the root mean square residual.
        let rms = (obs
            .iter()
            .map(|o| (o.lo - a - b * o.x).powi(2))
            .sum::<f64>()
            / 5.0)
            .sqrt();
        assert!((l.sigma - rms).abs() < 1e-6, "{} vs {rms}", l.sigma);
    }

    #[test]
    fn matched_codes_recover_the_drift_and_its_interval_covers() {
        // 200 clocks at 5 ppm over a year, 150 codes each: the 95% interval holds the truth
        // about 95% of the time, and the estimates centre on it.
        let (mut inside, mut sum) = (0, 0.0);
        for seed in 0..200 {
            let a = 40.0;
            let b = 5e-6;
            let l = fit(&codes(a, b, 150, 3.15e7, seed)).unwrap();
            let se = l.var_b.sqrt();
            if (l.b - b).abs() <= 1.96 * se {
                inside += 1;
            }
            sum += l.b;
            assert!((l.a - a).abs() < 5.0, "offset {}", l.a);
        }
        assert!((sum / 200.0 - 5e-6).abs() < 0.05e-6, "mean {}", sum / 200.0);
        assert!((186..=200).contains(&inside), "{inside} of 200 inside");
    }

    #[test]
    fn intervals_beat_midpoints_when_the_noise_is_small() {
        // With little delay spread the intervals pin the line far better than their
        // midpoints' scatter (±15 s uniform) would suggest.
        let obs = codes(0.0, 2e-6, 400, 3.15e7, 1);
        let l = fit(&obs).unwrap();
        let mx = obs.iter().map(|o| o.x).sum::<f64>() / 400.0;
        let sxx: f64 = obs.iter().map(|o| (o.x - mx).powi(2)).sum();
        let midpoint_se = (75.0f64 / sxx).sqrt();
        assert!(
            l.var_b.sqrt() < midpoint_se,
            "{} vs {midpoint_se}",
            l.var_b.sqrt()
        );
        assert!((l.b - 2e-6).abs() < 3.0 * l.var_b.sqrt());
    }

    #[test]
    fn one_time_or_one_observation_has_no_line() {
        let o = Interval {
            x: 0.0,
            lo: 1.0,
            hi: 31.0,
        };
        assert_eq!(fit(&[o]), None);
        assert_eq!(fit(&[o, o, o]), None);
    }

    #[test]
    fn extreme_inputs_do_not_break_the_fit() {
        let obs = [
            Interval {
                x: 0.0,
                lo: 1e9,
                hi: 1e9 + 30.0,
            },
            Interval {
                x: 1e9,
                lo: -1e9,
                hi: -1e9 + 30.0,
            },
            Interval {
                x: 2e9,
                lo: 0.0,
                hi: 0.0,
            },
        ];
        let l = fit(&obs).unwrap();
        assert!(
            l.a.is_finite() && l.b.is_finite() && l.var_b.is_finite(),
            "{l:?}"
        );
    }
}
