//! Parameter distributions (fixed, normal, lognormal, uniform, exponential, mixture, clipped):
//! sampling, means, and how they are written back out in resolved scenarios.

use crate::time::format_duration;
use rand_distr::{Exp1, StandardNormal};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A distribution of one scalar, in the field's canonical unit (seconds for durations).
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Fixed(f64),
    Normal {
        mean: f64,
        sd: f64,
    },
    LogNormal {
        median: f64,
        sigma: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Exponential {
        mean: f64,
    },
    Mixture(Vec<(f64, Dist)>),
    Clipped {
        inner: Box<Dist>,
        min: f64,
        max: f64,
    },
}

impl Dist {
    pub fn fixed(v: f64) -> Dist {
        Dist::Fixed(v)
    }

    pub fn clipped(self, min: f64, max: f64) -> Dist {
        Dist::Clipped {
            inner: Box::new(self),
            min,
            max,
        }
    }

    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Normal { mean, sd } => {
                let z: f64 = rng.sample(StandardNormal);
                mean + sd * z
            }
            Dist::LogNormal { median, sigma } => {
                let z: f64 = rng.sample(StandardNormal);
                median * (sigma * z).exp()
            }
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Exponential { mean } => {
                let e: f64 = rng.sample(Exp1);
                mean * e
            }
            Dist::Mixture(parts) => {
                let total: f64 = parts.iter().map(|p| p.0).sum();
                let mut u = rng.random::<f64>() * total;
                for (w, d) in parts {
                    if u < *w {
                        return d.sample(rng);
                    }
                    u -= w;
                }
                parts.last().expect("validated non-empty").1.sample(rng)
            }
            Dist::Clipped { inner, min, max } => inner.sample(rng).clamp(*min, *max),
        }
    }

    /// The mean, exact also for clipped laws (a clip moves the tails' mass to the bounds).
    pub fn mean(&self) -> f64 {
        self.clamped_mean(f64::NEG_INFINITY, f64::INFINITY)
    }

    /// E[clamp(X, lo, hi)] in closed form.
    fn clamped_mean(&self, lo: f64, hi: f64) -> f64 {
        // Standard normal density and distribution function.
        let pdf = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let cdf = |z: f64| 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2);
        match self {
            Dist::Fixed(v) => v.clamp(lo, hi),
            Dist::Normal { mean, sd } if *sd == 0.0 => mean.clamp(lo, hi),
            Dist::Normal { mean, sd } => {
                let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
                let (pa, pb) = (cdf(a), cdf(b));
                let tails = |x: f64, p: f64| if p > 0.0 { x * p } else { 0.0 };
                tails(lo, pa)
                    + tails(hi, 1.0 - pb)
                    + mean * (pb - pa)
                    + sd * (pdf(a.max(-40.0)) - pdf(b.min(40.0)))
            }
            Dist::LogNormal { median, sigma } if *sigma == 0.0 => median.clamp(lo, hi),
            Dist::LogNormal { median, sigma } => {
                let z = |x: f64| {
                    if x <= 0.0 {
                        f64::NEG_INFINITY
                    } else {
                        (x / median).ln() / sigma
                    }
                };
                let (a, b) = (z(lo), z(hi));
                let (pa, pb) = (cdf(a), cdf(b));
                let tails = |x: f64, p: f64| if p > 0.0 { x * p } else { 0.0 };
                tails(lo, pa)
                    + tails(hi, 1.0 - pb)
                    + median * (sigma * sigma / 2.0).exp() * (cdf(b - sigma) - cdf(a - sigma))
            }
            Dist::Uniform { min, max } if max <= min => min.clamp(lo, hi),
            Dist::Uniform { min, max } => {
                let (a, b) = (lo.clamp(*min, *max), hi.clamp(*min, *max));
                let w = max - min;
                // Mass below lo sits at lo, above hi at hi, the rest spread uniformly.
                lo.max(*min) * (a - min) / w
                    + (a + b) / 2.0 * (b - a) / w
                    + hi.min(*max) * (max - b) / w
            }
            Dist::Exponential { mean } => {
                let l = 1.0 / mean;
                let (a, b) = (lo.max(0.0), hi.max(0.0));
                let surv = |x: f64| (-l * x).exp();
                let part = |x: f64| (x + mean) * surv(x);
                // E[X; a <= X <= b] = part(a) - part(b); the tails sit at the bounds.
                let below = if lo > 0.0 { lo * (1.0 - surv(lo)) } else { 0.0 };
                let above = if hi.is_finite() { hi * surv(b) } else { 0.0 };
                below + (part(a) - if hi.is_finite() { part(b) } else { 0.0 }) + above
            }
            Dist::Mixture(parts) => {
                let total: f64 = parts.iter().map(|p| p.0).sum();
                parts
                    .iter()
                    .map(|(w, d)| w * d.clamped_mean(lo, hi))
                    .sum::<f64>()
                    / total
            }
            // clamp(clamp(x, a, b), lo, hi) = clamp(x, clamp(a, lo, hi), clamp(b, lo, hi)).
            Dist::Clipped { inner, min, max } => {
                inner.clamped_mean(min.clamp(lo, hi), max.clamp(lo, hi))
            }
        }
    }

    /// The largest absolute value among the law's parameters (for refusing magnitudes with no
    /// physical meaning).
    pub fn magnitude(&self) -> f64 {
        match self {
            Dist::Fixed(v) => v.abs(),
            Dist::Normal { mean, sd } => mean.abs().max(sd.abs()),
            Dist::LogNormal { median, sigma } => median.abs().max(*sigma),
            Dist::Uniform { min, max } => min.abs().max(max.abs()),
            Dist::Exponential { mean } => mean.abs(),
            Dist::Mixture(parts) => parts.iter().map(|p| p.1.magnitude()).fold(0.0, f64::max),
            Dist::Clipped { inner, min, max } => {
                let m = inner.magnitude();
                let (a, b) = (min.abs(), max.abs());
                // A clip bound at infinity is no claim about magnitude.
                [m, a, b]
                    .into_iter()
                    .filter(|x| x.is_finite())
                    .fold(0.0, f64::max)
            }
        }
    }

    /// How far from zero a draw goes at most once in about a billion draws (six standard
    /// deviations, the matching quantile of a lognormal or exponential law): what a run will
    /// meet, unlike the parameters' magnitude (a lognormal with median 1 and sigma 10 reaches
    /// 10^26).
    pub fn reach(&self) -> f64 {
        match self {
            Dist::Fixed(v) => v.abs(),
            Dist::Normal { mean, sd } => mean.abs() + 6.0 * sd.abs(),
            Dist::LogNormal { median, sigma } => median.abs() * (6.0 * sigma.abs()).exp(),
            Dist::Uniform { min, max } => min.abs().max(max.abs()),
            Dist::Exponential { mean } => mean.abs() * 20.8,
            Dist::Mixture(parts) => parts.iter().map(|p| p.1.reach()).fold(0.0, f64::max),
            Dist::Clipped { inner, min, max } => inner.reach().min(min.abs().max(max.abs())),
        }
    }

    /// Smallest and largest value a draw can take (infinite when unbounded).
    pub fn support(&self) -> (f64, f64) {
        match self {
            Dist::Fixed(v) => (*v, *v),
            Dist::Normal { mean, sd } if *sd == 0.0 => (*mean, *mean),
            Dist::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Dist::LogNormal { .. } => (0.0, f64::INFINITY),
            Dist::Uniform { min, max } => (*min, *max),
            Dist::Exponential { .. } => (0.0, f64::INFINITY),
            Dist::Mixture(parts) => {
                parts
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
                        let s = p.1.support();
                        (a.0.min(s.0), a.1.max(s.1))
                    })
            }
            Dist::Clipped { inner, min, max } => {
                let s = inner.support();
                (s.0.max(*min), s.1.min(*max))
            }
        }
    }

    /// A serializable view that writes values as duration strings (`"30s"`) when `seconds`.
    pub fn view(&self, seconds: bool) -> DistView<'_> {
        DistView { d: self, seconds }
    }
}

/// Serializes a [`Dist`] the way a scenario file writes it.
pub struct DistView<'a> {
    d: &'a Dist,
    seconds: bool,
}

struct Val(f64, bool);

impl Serialize for Val {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.1 {
            s.serialize_str(&format_seconds(self.0))
        } else {
            s.serialize_f64(self.0)
        }
    }
}

/// Seconds as a duration string that parses back to the same value.
pub fn format_seconds(v: f64) -> String {
    let short = format_duration(v);
    match crate::time::parse_duration(&short) {
        Ok(back) if (back - v).abs() < 1e-9 => short,
        _ => format!("{}s", v),
    }
}

impl Serialize for DistView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sec = self.seconds;
        let (inner, clip) = match self.d {
            Dist::Clipped { inner, min, max } => (inner.as_ref(), Some((*min, *max))),
            d => (d, None),
        };
        if let (Dist::Fixed(v), None) = (inner, clip) {
            return Val(*v, sec).serialize(s);
        }
        let mut m = s.serialize_map(None)?;
        match inner {
            Dist::Fixed(v) => {
                m.serialize_entry("dist", "fixed")?;
                m.serialize_entry("value", &Val(*v, sec))?;
            }
            Dist::Normal { mean, sd } => {
                m.serialize_entry("dist", "normal")?;
                m.serialize_entry("mean", &Val(*mean, sec))?;
                m.serialize_entry("sd", &Val(*sd, sec))?;
            }
            Dist::LogNormal { median, sigma } => {
                m.serialize_entry("dist", "lognormal")?;
                m.serialize_entry("median", &Val(*median, sec))?;
                m.serialize_entry("sigma", sigma)?;
            }
            Dist::Uniform { min, max } => {
                m.serialize_entry("dist", "uniform")?;
                m.serialize_entry("min", &Val(*min, sec))?;
                m.serialize_entry("max", &Val(*max, sec))?;
            }
            Dist::Exponential { mean } => {
                m.serialize_entry("dist", "exponential")?;
                m.serialize_entry("mean", &Val(*mean, sec))?;
            }
            Dist::Mixture(parts) => {
                m.serialize_entry("dist", "mixture")?;
                m.serialize_entry("of", &Parts(parts, sec))?;
            }
            Dist::Clipped { .. } => unreachable!("nested clip is flattened at validation"),
        }
        if let Some((lo, hi)) = clip {
            m.serialize_entry("clip", &[Val(lo, sec), Val(hi, sec)])?;
        }
        m.end()
    }
}

struct Parts<'a>(&'a [(f64, Dist)], bool);

impl Serialize for Parts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (w, d) in self.0 {
            seq.serialize_element(&Weighted(*w, d.view(self.1)))?;
        }
        seq.end()
    }
}

struct Weighted<'a>(f64, DistView<'a>);

impl Serialize for Weighted<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A mixture part is the part's own table plus its weight; a fixed part becomes `value`.
        let v = serde_json::to_value(&self.1).map_err(serde::ser::Error::custom)?;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("weight", &self.0)?;
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    m.serialize_entry(&k, &v)?;
                }
            }
            other => {
                m.serialize_entry("dist", "fixed")?;
                m.serialize_entry("value", &other)?;
            }
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_means_are_exact() {
        // normal(1, 2) clipped to [0, 20]: E = P(X<0)*0 + E[X; 0<=X<=20] + 20*P(X>20).
        let d = Dist::Normal { mean: 1.0, sd: 2.0 }.clipped(0.0, 20.0);
        assert!((d.mean() - 1.395_592).abs() < 1e-5, "{}", d.mean());
        // Monte Carlo agrees for every law.
        let laws = [
            d.clone(),
            Dist::LogNormal {
                median: 7.0,
                sigma: 0.5,
            }
            .clipped(1.0, 9.0),
            Dist::Uniform {
                min: -2.0,
                max: 6.0,
            }
            .clipped(0.0, 3.0),
            Dist::Exponential { mean: 4.0 }.clipped(1.0, 5.0),
            Dist::Mixture(vec![
                (1.0, Dist::Fixed(-1.0)),
                (3.0, Dist::Normal { mean: 2.0, sd: 1.0 }),
            ])
            .clipped(0.0, 2.5),
            Dist::Normal { mean: 0.0, sd: 3.0 }
                .clipped(-1.0, 1.0)
                .clipped(0.0, 5.0),
        ];
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
        for d in laws {
            let n = 400_000;
            let mc: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            assert!(
                (mc - d.mean()).abs() < 0.01,
                "{d:?}: exact {} vs sampled {mc}",
                d.mean()
            );
        }
        // Unclipped means are unchanged.
        assert_eq!(Dist::Normal { mean: 3.0, sd: 2.0 }.mean(), 3.0);
        assert!(
            (Dist::LogNormal {
                median: 2.0,
                sigma: 0.5
            }
            .mean()
                - 2.0 * 0.125f64.exp())
            .abs()
                < 1e-12
        );
        assert!((Dist::Exponential { mean: 4.0 }.mean() - 4.0).abs() < 1e-12);
    }
    use crate::rng::{stream, Purpose};

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut r = stream(1, 0, Purpose::Clock);
        (0..n).map(|_| d.sample(&mut r)).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_analytic_means() {
        let cases = [
            Dist::Normal { mean: 3.0, sd: 2.0 },
            Dist::LogNormal {
                median: 8.0,
                sigma: 0.5,
            },
            Dist::Uniform {
                min: -4.0,
                max: 10.0,
            },
            Dist::Exponential { mean: 5.0 },
            Dist::Mixture(vec![(0.9, Dist::Fixed(1.0)), (0.1, Dist::Fixed(11.0))]),
        ];
        for d in cases {
            let m = sample_mean(&d, 200_000);
            assert!(
                (m - d.mean()).abs() < 0.05,
                "{d:?}: sample mean {m}, mean {}",
                d.mean()
            );
        }
    }

    #[test]
    fn clipping_bounds_every_draw() {
        let d = Dist::Normal {
            mean: 0.0,
            sd: 10.0,
        }
        .clipped(-1.0, 2.0);
        let mut r = stream(2, 0, Purpose::Clock);
        let xs: Vec<f64> = (0..10_000).map(|_| d.sample(&mut r)).collect();
        assert!(xs.iter().all(|x| (-1.0..=2.0).contains(x)));
        assert!(xs.iter().filter(|x| **x == 2.0).count() > 4000);
        assert_eq!(d.support(), (-1.0, 2.0));
    }

    #[test]
    fn views_write_scenario_syntax() {
        let d = Dist::Normal {
            mean: 0.0,
            sd: 90.0,
        }
        .clipped(-600.0, 600.0);
        assert_eq!(
            serde_json::to_string(&d.view(true)).unwrap(),
            r#"{"dist":"normal","mean":"0s","sd":"90s","clip":["-10m","10m"]}"#
        );
        assert_eq!(
            serde_json::to_string(&Dist::Fixed(2.5).view(false)).unwrap(),
            "2.5"
        );
    }
}
