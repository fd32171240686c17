//! Drift analysis of one credential: its observations split into segments at clock steps
//! (outliers set aside), a line fitted to each, and from the current segment the offset now,
//! the frequency error in ppm and the date the credential leaves a validation window, each
//! with a 95% interval. Pure computation: reading logs is `pipeline::analyze`'s job.

pub mod fit;

pub use fit::{Interval, Line};

use crate::stats::t95;
use crate::time::Millis;

/// What one observation says: the clock's offset (device minus true time, seconds, the mean
/// submission delay already added) lay in `[lo, hi]` at server time `t` (`lo == hi`: a
/// measured offset).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub t: Millis,
    pub lo: f64,
    pub hi: f64,
}

impl Observation {
    fn mid(&self) -> f64 {
        0.5 * (self.lo + self.hi)
    }
}

/// How a credential is analysed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// The offsets (seconds) the validation window accepts at least half the time:
    /// `[−(back+½)·step, (ahead+½)·step]`.
    pub edges: (f64, f64),
    /// The time "now" is, for the offset now and the exit search.
    pub now: Millis,
    /// A jump between observations larger than this (plus drift) is a clock step.
    pub threshold_s: f64,
    /// How far ahead an exit is looked for.
    pub horizon_ms: Millis,
}

/// A run of observations with no clock step, and its fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub first: Millis,
    pub last: Millis,
    pub observations: usize,
    /// The time the fit is centred on (the observations' mean time).
    pub centre: Millis,
    /// The line through the segment (offsets in seconds, `x` in seconds from `centre`), when
    /// it has three or more observations over an hour or more.
    pub line: Option<Line>,
    /// The mean offset, for a segment too short for a line.
    pub level: f64,
}

impl Segment {
    /// The segment's offset at `t` (its line, or its level).
    pub fn offset_at(&self, t: Millis) -> f64 {
        match &self.line {
            Some(l) => l.at(secs(t - self.centre)).0,
            None => self.level,
        }
    }
}

/// A clock step between two segments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// The last observation before the step and the first after it.
    pub not_before: Millis,
    pub not_after: Millis,
    /// The change of offset, seconds.
    pub size_s: f64,
}

/// An estimate with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ci {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// When the credential leaves the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exit {
    /// Its offset is outside the window now.
    Out,
    /// The predicted date, and its 95% interval (`late` None: not within the horizon).
    At {
        at: Millis,
        early: Millis,
        late: Option<Millis>,
    },
    /// The line does not reach an edge within the horizon; `early` is when it might (2.5%).
    NotWithin { early: Option<Millis> },
    /// No slope to extrapolate with.
    Unknown,
}

/// Where the ppm of a credential comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlopeFrom {
    Current,
    /// The current segment is too short; the latest segment with a line lends its slope.
    Earlier,
    None,
}

/// Everything learned about one credential.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub observations: usize,
    pub outliers: usize,
    pub segments: Vec<Segment>,
    pub steps: Vec<Step>,
    /// Per observation (in time order): its segment, or None for an outlier.
    pub assigned: Vec<Option<usize>>,
    pub offset_now: Ci,
    pub ppm: Option<Ci>,
    /// The ppm's standard error.
    pub ppm_se: Option<f64>,
    pub slope_from: SlopeFrom,
    pub exit: Exit,
}

fn secs(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

/// Observations to fit a line: at least three over at least a day.
const LINE_MIN: usize = 3;
const LINE_MIN_SPAN_MS: Millis = 86_400_000;
/// A current segment whose slope is less sure than this (standard error, ppm) borrows a
/// better-known earlier slope when there is one.
const LOOSE_PPM: f64 = 20.0;
/// The smallest clock step the second pass looks for, seconds.
const MIN_SMALL_STEP_S: f64 = 10.0;
/// How many recent observations predict the next one while segmenting.
const RECENT: usize = 48;

/// The running prediction of the current segment: a least-squares line through its recent
/// midpoints, or their median while too few.
struct Recent {
    buf: Vec<(Millis, f64)>,
}

impl Recent {
    fn new() -> Recent {
        Recent {
            buf: Vec::with_capacity(RECENT),
        }
    }

    fn push(&mut self, t: Millis, y: f64) {
        if self.buf.len() == RECENT {
            self.buf.remove(0);
        }
        self.buf.push((t, y));
    }

    /// The predicted offset at `t`, and the slack its extrapolation deserves.
    fn predict(&self, t: Millis) -> (f64, f64) {
        let (t_last, _) = *self.buf.last().expect("a segment has an observation");
        let gap = secs((t - t_last).max(0));
        let span = self.buf.last().unwrap().0 - self.buf[0].0;
        if self.buf.len() >= 4 && span >= 86_400_000 {
            let n = self.buf.len() as f64;
            let t0 = self.buf[0].0;
            let mx = self.buf.iter().map(|p| secs(p.0 - t0)).sum::<f64>() / n;
            let my = self.buf.iter().map(|p| p.1).sum::<f64>() / n;
            let (mut sxx, mut sxy) = (0.0, 0.0);
            for p in &self.buf {
                let dx = secs(p.0 - t0) - mx;
                sxx += dx * dx;
                sxy += dx * (p.1 - my);
            }
            let b = (sxy / sxx).clamp(-1e-3, 1e-3);
            (my + b * (secs(t - t0) - mx), 2e-6 * gap)
        } else {
            let mut ys: Vec<f64> = self.buf.iter().map(|p| p.1).collect();
            ys.sort_by(f64::total_cmp);
            (ys[ys.len() / 2], 50e-6 * gap)
        }
    }
}

/// Splits observations (sorted by time) into segments at clock steps; `None` marks an outlier:
/// a lone observation that neither its segment nor the next agrees with. A step needs two
/// observations after it that agree with each other.
fn segment(obs: &[Observation], threshold: f64) -> Vec<Option<usize>> {
    let mut assigned: Vec<Option<usize>> = vec![None; obs.len()];
    if obs.is_empty() {
        return assigned;
    }
    let mut seg = 0usize;
    let mut recent = Recent::new();
    let mut members = 1usize;
    assigned[0] = Some(0);
    recent.push(obs[0].t, obs[0].mid());
    let mut pending: Vec<usize> = Vec::new();
    for i in 1..obs.len() {
        let o = obs[i];
        let (pred, slack) = recent.predict(o.t);
        if (o.mid() - pred).abs() <= threshold + slack {
            assigned[i] = Some(seg);
            members += 1;
            recent.push(o.t, o.mid());
            pending.clear();
            continue;
        }
        // Does it agree with an earlier deviating observation? Then the clock stepped there.
        let agrees = pending.iter().rposition(|&p| {
            let gap = secs(o.t - obs[p].t);
            (o.mid() - obs[p].mid()).abs() <= threshold + 50e-6 * gap
        });
        match agrees {
            Some(k) => {
                // A segment of one observation was an outlier, not a segment.
                if members == 1 {
                    for a in assigned.iter_mut() {
                        if *a == Some(seg) {
                            *a = None;
                        }
                    }
                } else {
                    seg += 1;
                }
                let p = pending[k];
                assigned[p] = Some(seg);
                assigned[i] = Some(seg);
                recent = Recent::new();
                recent.push(obs[p].t, obs[p].mid());
                recent.push(o.t, o.mid());
                members = 2;
                pending.clear();
            }
            None => {
                pending.push(i);
                if pending.len() > 8 {
                    pending.remove(0);
                }
            }
        }
    }
    // Renumber so segments count from 0 without gaps (a dropped one-observation segment).
    let mut map = std::collections::BTreeMap::new();
    for a in assigned.iter().flatten() {
        let next = map.len();
        map.entry(*a).or_insert(next);
    }
    assigned.iter().map(|a| a.map(|s| map[&s])).collect()
}

/// Running sums for least-squares lines over any range of points in O(1).
struct Sums(Vec<[f64; 6]>);

impl Sums {
    fn new(pts: &[(f64, f64)]) -> Sums {
        let mut acc = [0.0; 6];
        let mut v = vec![acc];
        for &(x, y) in pts {
            for (a, d) in acc.iter_mut().zip([1.0, x, y, x * x, x * y, y * y]) {
                *a += d;
            }
            v.push(acc);
        }
        Sums(v)
    }

    /// (intercept, slope, residual sum of squares) of points `i..j`.
    fn line(&self, i: usize, j: usize) -> (f64, f64, f64) {
        let d: [f64; 6] = std::array::from_fn(|k| self.0[j][k] - self.0[i][k]);
        let [n, sx, sy, sxx, sxy, syy] = d;
        let vxx = sxx - sx * sx / n;
        let vxy = sxy - sx * sy / n;
        let vyy = syy - sy * sy / n;
        let b = if vxx > 1e-12 { vxy / vxx } else { 0.0 };
        let a = (sy - b * sx) / n;
        (a, b, (vyy - b * vxy).max(0.0))
    }
}

/// Where a run of observations with no step that the first pass could see splits into two
/// lines with a jump between (binary segmentation on the midpoints, with a BIC penalty): a
/// clock set by less than the step threshold. Returns the indices where new segments start.
fn small_steps(obs: &[Observation], min_jump: f64, out: &mut Vec<usize>, offset: usize) {
    const SIDE: usize = 6;
    let n = obs.len();
    if n < 2 * SIDE {
        return;
    }
    let t0 = obs[0].t;
    let y0 = obs[0].mid();
    let pts: Vec<(f64, f64)> = obs
        .iter()
        .map(|o| ((o.t - t0) as f64 / DAY_MS, o.mid() - y0))
        .collect();
    let sums = Sums::new(&pts);
    let (_, _, rss_all) = sums.line(0, n);
    let mut best: Option<(f64, usize)> = None;
    for k in SIDE..=n - SIDE {
        let (al, bl, rl) = sums.line(0, k);
        let (ar, br, rr) = sums.line(k, n);
        let x = 0.5 * (pts[k - 1].0 + pts[k].0);
        let jump = (ar + br * x) - (al + bl * x);
        if jump.abs() < min_jump {
            continue;
        }
        let rss = rl + rr;
        if best.is_none_or(|b| rss < b.0) {
            best = Some((rss, k));
        }
    }
    let Some((rss, k)) = best else { return };
    let nf = n as f64;
    // Three more parameters (an intercept, a slope, the split) must pay for themselves.
    if nf * (rss_all.max(1e-9) / rss.max(1e-9)).ln() <= 4.0 * nf.ln() {
        return;
    }
    small_steps(&obs[..k], min_jump, out, offset);
    out.push(offset + k);
    small_steps(&obs[k..], min_jump, out, offset + k);
}

const DAY_MS: f64 = 86_400_000.0;

fn fit_segment(obs: &[Observation], threshold: f64) -> (Segment, Vec<bool>) {
    let n = obs.len();
    let centre_f = obs.iter().map(|o| o.t as f64).sum::<f64>() / n as f64;
    let centre = centre_f.round() as Millis;
    let mut keep = vec![true; n];
    let level_of = |keep: &[bool]| {
        let (s, k) = obs
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .fold((0.0, 0), |(s, c), (o, _)| (s + o.mid(), c + 1));
        s / k.max(1) as f64
    };
    let mut line = None;
    let span = obs[n - 1].t - obs[0].t;
    if n >= LINE_MIN && span >= LINE_MIN_SPAN_MS {
        // Fit, set aside what the fit cannot reach, refit: the line kept is always the fit of
        // the observations kept.
        for round in 0..4 {
            let iv: Vec<Interval> = obs
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(o, _)| Interval {
                    x: secs(o.t - centre),
                    lo: o.lo,
                    hi: o.hi,
                })
                .collect();
            line = fit::fit(&iv);
            let Some(l) = line else { break };
            if round == 3 {
                break;
            }
            // Observations far outside their interval's reach under the fit are outliers
            // (a typo that matched another step by chance).
            let mut changed = false;
            for (o, k) in obs.iter().zip(keep.iter_mut()) {
                let m = l.at(secs(o.t - centre)).0;
                let miss = (o.lo - m).max(m - o.hi).max(0.0);
                let far = miss > (6.0 * l.sigma).max(threshold / 3.0);
                if *k && far {
                    *k = false;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
            if keep.iter().filter(|k| **k).count() < LINE_MIN {
                line = None;
                break;
            }
        }
    }
    let used = keep.iter().filter(|k| **k).count();
    let seg = Segment {
        first: obs[0].t,
        last: obs[n - 1].t,
        observations: used,
        centre,
        line: line.filter(|l| l.n >= LINE_MIN),
        level: level_of(&keep),
    };
    (seg, keep)
}

/// First `Δ ≥ d0` where `s·(c + bΔ) − k·√(va + 2cvΔ + vbΔ²) ≥ 0`, if any before `d_max`.
fn first_crossing(l: &Line, c: f64, s: f64, k: f64, d0: f64, d_max: f64) -> Option<f64> {
    let f = |d: f64| {
        s * (c + l.b * d)
            - k * (l.var_a + 2.0 * l.cov_ab * d + l.var_b * d * d)
                .max(0.0)
                .sqrt()
    };
    if f(d0) >= 0.0 {
        return Some(d0);
    }
    if k == 0.0 {
        // The line itself: one root.
        let r = -c / l.b;
        return (r.is_finite() && r > d0 && r <= d_max && f(r + 1.0 + r.abs() * 1e-9) >= 0.0)
            .then_some(r);
    }
    // Sign changes lie at roots of (c + bΔ)² = k²·q(Δ).
    let qa = l.b * l.b - k * k * l.var_b;
    let qb = 2.0 * (c * l.b - k * k * l.cov_ab);
    let qc = c * c - k * k * l.var_a;
    let mut roots = Vec::new();
    if qa.abs() < 1e-30 {
        if qb != 0.0 {
            roots.push(-qc / qb);
        }
    } else {
        let mut disc = qb * qb - 4.0 * qa * qc;
        // A double root may come out a rounding error below zero.
        if disc < 0.0 && disc > -1e-12 * qb * qb {
            disc = 0.0;
        }
        if disc >= 0.0 {
            let r = disc.sqrt();
            roots.push((-qb - r) / (2.0 * qa));
            roots.push((-qb + r) / (2.0 * qa));
        }
    }
    roots.retain(|r| r.is_finite() && *r > d0 && *r <= d_max);
    roots.sort_by(f64::total_cmp);
    roots
        .into_iter()
        .find(|&r| f(r + 1.0 + r.abs() * 1e-9) >= 0.0)
}

/// When a fitted line leaves the window, in seconds from the line's centre; None where it
/// does not before the horizon.
struct Crossing {
    /// The point estimate's first crossing.
    point: Option<f64>,
    /// The earliest crossing within the band (z standard errors either way).
    early: Option<f64>,
    /// The point's edge crossed by the band's slow side.
    late: Option<f64>,
}

/// When a line leaves `edges`, from `d0` (seconds from the line's centre) on.
fn exit_of(l: &Line, edges: (f64, f64), d0: f64, d_max: f64, z: f64) -> Crossing {
    let (lo, hi) = edges;
    // Upper edge: crossed when a + bΔ − hi ≥ 0; lower edge: when lo − (a + bΔ) ≥ 0.
    let up = |k: f64| first_crossing(l, l.a - hi, 1.0, k, d0, d_max);
    let down = |k: f64| first_crossing(l, l.a - lo, -1.0, k, d0, d_max);
    let point_up = up(0.0);
    let point_down = down(0.0);
    let (point, late) = match (point_up, point_down) {
        (Some(u), Some(d)) if d < u => (Some(d), down(z)),
        (Some(u), _) => (Some(u), up(z)),
        (None, Some(d)) => (Some(d), down(z)),
        (None, None) => (None, None),
    };
    let early = match (up(-z), down(-z)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Crossing { point, early, late }
}

/// Analyses one credential's observations (any order; sorted here).
pub fn estimate(obs: &mut [Observation], s: &Settings) -> Estimate {
    obs.sort_by(|a, b| a.t.cmp(&b.t).then(a.lo.total_cmp(&b.lo)));
    let mut assigned = segment(obs, s.threshold_s);
    // Second pass: smaller steps within each segment.
    let first_pass = assigned.iter().flatten().max().map_or(0, |m| m + 1);
    let mut next = 0usize;
    let mut renumber = vec![Vec::new(); first_pass];
    for (k, starts) in renumber.iter_mut().enumerate() {
        let idx: Vec<usize> = (0..obs.len()).filter(|&i| assigned[i] == Some(k)).collect();
        let mine: Vec<Observation> = idx.iter().map(|&i| obs[i]).collect();
        let mut cuts = Vec::new();
        small_steps(&mine, MIN_SMALL_STEP_S, &mut cuts, 0);
        let mut seg = next;
        for (pos, &i) in idx.iter().enumerate() {
            if cuts.contains(&pos) {
                seg += 1;
            }
            starts.push((i, seg));
        }
        next = seg + 1;
    }
    for (i, seg) in renumber.into_iter().flatten() {
        assigned[i] = Some(seg);
    }
    let n_seg = next;
    let mut segments = Vec::with_capacity(n_seg);
    for k in 0..n_seg {
        let idx: Vec<usize> = (0..obs.len()).filter(|&i| assigned[i] == Some(k)).collect();
        let mine: Vec<Observation> = idx.iter().map(|&i| obs[i]).collect();
        let (seg, keep) = fit_segment(&mine, s.threshold_s);
        for (&i, k) in idx.iter().zip(keep) {
            if !k {
                assigned[i] = None;
            }
        }
        segments.push(seg);
    }
    let steps = segments
        .windows(2)
        .map(|w| Step {
            not_before: w[0].last,
            not_after: w[1].first,
            size_s: w[1].offset_at(w[1].first) - w[0].offset_at(w[1].first),
        })
        .collect();
    let outliers = assigned.iter().filter(|a| a.is_none()).count();
    let used = obs.len() - outliers;

    let current = segments.last();
    let sure = |l: &Line| l.var_b.sqrt() * 1e6 <= LOOSE_PPM;
    // The latest earlier segment whose slope is sure.
    let lent = segments
        .iter()
        .rev()
        .skip(1)
        .find_map(|g| g.line.filter(sure));
    let (line, slope_from) = match current {
        None => (None, SlopeFrom::None),
        Some(c) if c.line.as_ref().is_some_and(sure) => (c.line, SlopeFrom::Current),
        Some(c) => {
            // A short current segment: its level, with the latest earlier slope.
            let width = obs.iter().map(|o| o.hi - o.lo).fold(0.0, f64::max);
            let sd = (width * width / 12.0 + 16.0).sqrt();
            let var_a = sd * sd / c.observations.max(1) as f64;
            match lent {
                // The lent line keeps its own count: the slope's interval is its fit's.
                Some(l) => (
                    Some(Line {
                        a: c.level,
                        var_a,
                        cov_ab: 0.0,
                        ..l
                    }),
                    SlopeFrom::Earlier,
                ),
                None => (
                    Some(Line {
                        a: c.level,
                        b: 0.0,
                        var_a,
                        var_b: f64::INFINITY,
                        cov_ab: 0.0,
                        sigma: sd,
                        n: c.observations,
                    }),
                    SlopeFrom::None,
                ),
            }
        }
    };
    let centre = current.map_or(s.now, |c| c.centre);
    let d_now = secs(s.now - centre);
    let ppm_se = line
        .filter(|_| slope_from != SlopeFrom::None)
        .map(|l| l.var_b.sqrt() * 1e6);
    let (offset_now, ppm, exit) = match line {
        None => (
            Ci {
                value: f64::NAN,
                low: f64::NAN,
                high: f64::NAN,
            },
            None,
            Exit::Unknown,
        ),
        Some(l) => {
            let q = t95(l.n.saturating_sub(3).max(1));
            let (v, se) = if slope_from == SlopeFrom::None {
                (l.a, l.var_a.sqrt())
            } else {
                l.at(d_now)
            };
            let offset_now = Ci {
                value: v,
                low: v - q * se,
                high: v + q * se,
            };
            let ppm = (slope_from != SlopeFrom::None).then(|| {
                let se = l.var_b.sqrt() * 1e6;
                Ci {
                    value: l.b * 1e6,
                    low: l.b * 1e6 - q * se,
                    high: l.b * 1e6 + q * se,
                }
            });
            let exit = if v < s.edges.0 || v > s.edges.1 {
                Exit::Out
            } else if slope_from == SlopeFrom::None {
                Exit::Unknown
            } else {
                let d_max = d_now + secs(s.horizon_ms);
                let at = |d: f64| centre + (d * 1000.0).round() as Millis;
                let c = exit_of(&l, s.edges, d_now, d_max, q);
                match c.point {
                    Some(p) => Exit::At {
                        at: at(p),
                        early: at(c.early.unwrap_or(p).min(p)),
                        late: c.late.map(at),
                    },
                    None => Exit::NotWithin {
                        early: c.early.map(at),
                    },
                }
            };
            (offset_now, ppm, exit)
        }
    };
    Estimate {
        observations: used,
        outliers,
        segments,
        steps,
        assigned,
        offset_now,
        ppm,
        ppm_se,
        slope_from,
        exit,
    }
}

#[cfg(test)]
mod tests;
