//! The drift charts on a synthetic analysis: every figure renders, at size, with its labels.

use super::*;
use crate::chart::HEIGHT;
use crate::results::analyze::{AnalyzeManifest, FleetRow, StepRow};
use crate::results::cells::{Fixed, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const NOW: &str = "2026-01-15T00:00:00Z";
const EDGE: f64 = 45.0;
const HORIZON: Millis = 5 * 365 * DAY;

/// Milliseconds from now until the line leaves ±EDGE, within the horizon.
fn exit_after(off: f64, ppm: f64) -> Option<Millis> {
    if ppm == 0.0 {
        return None;
    }
    let edge = if ppm > 0.0 { EDGE } else { -EDGE };
    let s = (edge - off) / (ppm * 1e-6);
    let ms = (s * 1000.0) as Millis;
    (s >= 0.0 && ms <= HORIZON).then_some(ms)
}

fn credential(cred: &str, pop: &str, off: f64, ppm: f64, half: f64) -> DriftRow {
    let now = parse_rfc3339(NOW).unwrap();
    let out = off.abs() > EDGE;
    let dt = exit_after(off, ppm);
    // The steeper bound leaves first; the shallower one may not leave at all.
    let sign = ppm.signum();
    let early = exit_after(off, ppm + sign * half);
    let late = if (ppm - sign * half) * ppm > 0.0 {
        exit_after(off, ppm - sign * half)
    } else {
        None
    };
    let status = if out {
        "out_now"
    } else if dt.is_some() {
        "leaving"
    } else {
        "staying"
    };
    let leaving = status == "leaving";
    DriftRow {
        credential: cred.into(),
        population: pop.into(),
        first_seen: Time(now - 365 * DAY),
        last_seen: Time(now - DAY),
        observations: 120,
        outliers: 2,
        segments: 1,
        steps: 0,
        offset_now_s: Fixed::of(off),
        offset_now_ci95_low_s: Fixed::of(off - 2.5),
        offset_now_ci95_high_s: Fixed::of(off + 2.5),
        ppm: Fixed::of(ppm),
        ppm_ci95_low: Fixed::of(ppm - half),
        ppm_ci95_high: Fixed::of(ppm + half),
        ppm_from: "current".into(),
        status: status.into(),
        exit: dt.filter(|_| leaving).map(|t| Time(now + t)),
        exit_ci95_early: early.filter(|_| !out).map(|t| Time(now + t)),
        exit_ci95_late: late.filter(|_| leaving).map(|t| Time(now + t)),
        days_to_exit: dt
            .filter(|_| leaving)
            .and_then(|t| Fixed::of(t as f64 / DAY as f64)),
        stepped: false,
        too_few_observations: false,
        logins_per_day: Fixed::of(0.33),
        hours_utc: String::new(),
        last_sync: None,
        last_sync_steps: None,
    }
}

/// A clock step: days before now, and its size in seconds.
type Step = Option<(i64, f64)>;

/// The charted credentials: (ppm, offset now, a step).
const WORST: [(f64, f64, Step); 6] = [
    (3.1, 51.0, None),
    (2.6, 40.2, None),
    (-2.4, -38.0, None),
    (4.0, 35.0, Some((200, -60.0))),
    (2.3, 36.0, None),
    (-2.2, -30.0, Some((120, 3600.0))),
];

fn fleet_row(pop: &str, rows: &[&DriftRow]) -> FleetRow {
    let mut ppm: Vec<f64> = rows.iter().filter_map(|r| get(r.ppm)).collect();
    ppm.sort_by(f64::total_cmp);
    let mean = ppm.iter().sum::<f64>() / ppm.len() as f64;
    let sd = (ppm.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / ppm.len() as f64).sqrt();
    let n = |s: &str| rows.iter().filter(|r| r.status == s).count() as u64;
    FleetRow {
        population: pop.into(),
        credentials: rows.len() as u64,
        with_ppm: ppm.len() as u64,
        ppm_p10: Fixed::of(quantile(&ppm, 0.1)),
        ppm_p50: Fixed::of(quantile(&ppm, 0.5)),
        ppm_p90: Fixed::of(quantile(&ppm, 0.9)),
        ppm_mean: Fixed::of(mean),
        ppm_sd: Fixed::of(sd * 0.95),
        out_now: n("out_now"),
        stepped: rows.iter().filter(|r| r.stepped).count() as u64,
        ..FleetRow::default()
    }
}

/// 300 credentials in two populations, a few out of the window, a few stepped, one wild
/// estimate and a few without a slope; a year of observations of six charted credentials.
fn fleet() -> AnalyzeData {
    let now = parse_rfc3339(NOW).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let phones = Normal::new(2.5, 4.5).unwrap();
    let hardware = Normal::new(1.0, 2.5).unwrap();
    let noise = Normal::new(0.0, 12.0).unwrap();
    let mut credentials = Vec::new();
    let mut steps = Vec::new();
    let mut observations = Vec::new();
    for (k, (ppm, off, step)) in WORST.iter().enumerate() {
        let cred = format!("worst-{k:02}");
        let pop = if k % 2 == 0 { "phones" } else { "hardware" };
        let mut r = credential(&cred, pop, *off, *ppm, 0.35);
        let slope = ppm * 1e-6 / 1000.0;
        let mut t = now - 365 * DAY;
        while t < now - DAY {
            // Before a step the offset was `size` lower than the current line says.
            let (seg, shift) = match step {
                Some((ago, size)) if t < now - ago * DAY => (0, -size),
                Some(_) => (1, 0.0),
                None => (0, 0.0),
            };
            let fit = off + slope * (t - now) as f64 + shift;
            let outlier = rng.random::<f64>() < 0.03;
            let centre = if outlier {
                fit + rng.random_range(90.0..200.0) * if rng.random::<bool>() { 1.0 } else { -1.0 }
            } else {
                fit + rng.random_range(-2.0..2.0)
            };
            let low = centre - rng.random_range(0.0..30.0);
            observations.push(ObservationRow {
                credential: cred.clone(),
                time: Time(t),
                low_s: Fixed(low),
                high_s: Fixed(low + 30.0),
                segment: (!outlier).then_some(seg),
                fit_s: (!outlier).then_some(Fixed(fit)),
            });
            t += rng.random_range(2 * DAY..5 * DAY);
        }
        if let Some((ago, size)) = step {
            r.steps = 1;
            r.segments = 2;
            r.stepped = true;
            steps.push(StepRow {
                credential: cred.clone(),
                population: pop.into(),
                not_before: Time(now - ago * DAY - 2 * DAY),
                not_after: Time(now - ago * DAY + DAY),
                size_s: Fixed(*size),
            });
        }
        credentials.push(r);
    }
    for i in credentials.len()..300 {
        let pop = if i % 3 == 0 { "hardware" } else { "phones" };
        let mut ppm: f64 = if pop == "phones" {
            phones.sample(&mut rng)
        } else {
            hardware.sample(&mut rng)
        };
        if i == 150 {
            ppm = 60.0;
        }
        let mut off: f64 = noise.sample(&mut rng) + 1.5 * ppm.clamp(-10.0, 10.0);
        off = off.clamp(-44.0, 44.0);
        if i % 60 == 7 {
            off = rng.random_range(47.0..75.0) * if i % 120 == 7 { 1.0 } else { -1.0 };
        }
        let mut r = credential(&format!("cred-{i:04}"), pop, off, ppm, 0.4);
        if i % 50 == 11 {
            r.stepped = true;
            r.steps = 1;
            steps.push(StepRow {
                credential: r.credential.clone(),
                population: pop.into(),
                not_before: Time(now - 90 * DAY),
                not_after: Time(now - 88 * DAY),
                size_s: Fixed(-3600.0),
            });
        }
        if i % 97 == 5 {
            r.ppm = None;
            r.ppm_ci95_low = None;
            r.ppm_ci95_high = None;
            r.status = "unknown".into();
            r.exit = None;
            r.exit_ci95_early = None;
            r.exit_ci95_late = None;
            r.too_few_observations = true;
        }
        credentials.push(r);
    }
    let by = |p: &str| -> Vec<&DriftRow> {
        credentials
            .iter()
            .filter(|r| p == "all" || r.population == p)
            .collect()
    };
    let fleet = vec![
        fleet_row("phones", &by("phones")),
        fleet_row("hardware", &by("hardware")),
        fleet_row("all", &by("all")),
    ];
    AnalyzeData {
        manifest: AnalyzeManifest {
            tool: "otpdrift".into(),
            command: "analyze".into(),
            inputs: vec![("logs/validations-2025.csv".into(), "00".into())],
            input_kind: "codes".into(),
            step_s: 30,
            window_back: 1,
            window_ahead: 1,
            edges_s: (-EDGE, EDGE),
            now: NOW.into(),
            credentials: 300,
            ..AnalyzeManifest::default()
        },
        credentials,
        steps,
        fleet,
        windows: Vec::new(),
        observations,
    }
}

/// Two charted credentials: one slow to leave (its exit past the panel), one staying.
fn two_panels() -> AnalyzeData {
    let mut d = fleet();
    d.observations
        .retain(|o| o.credential == "worst-01" || o.credential == "worst-04");
    let now = parse_rfc3339(NOW).unwrap();
    for r in d.credentials.iter_mut() {
        if r.credential == "worst-01" {
            *r = credential("worst-01", "hardware", 10.0, 0.3, 0.25);
            r.exit = Some(Time(now + 1300 * DAY));
        }
        if r.credential == "worst-04" {
            *r = credential("worst-04", "phones", 20.0, 0.01, 0.3);
        }
    }
    for o in d.observations.iter_mut() {
        let (off, ppm) = if o.credential == "worst-01" {
            (10.0, 0.3)
        } else {
            (20.0, 0.01)
        };
        let fit = off + ppm * 1e-6 * (o.time.0 - now) as f64 / 1000.0;
        let width = o.high_s.0 - o.low_s.0;
        o.low_s = Fixed(fit - width / 2.0);
        o.high_s = Fixed(fit + width / 2.0);
        o.fit_s = o.segment.map(|_| Fixed(fit));
    }
    d
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let reader = png::Decoder::new(bytes).read_info().expect("a PNG");
    (reader.info().width, reader.info().height)
}

fn svgs(d: &AnalyzeData) -> Vec<String> {
    render_all(d, Format::Svg)
        .unwrap()
        .into_iter()
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect()
}

#[test]
fn every_figure_renders_as_png_and_svg_at_slide_size() {
    let d = fleet();
    let files = render_all(&d, Format::Both).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "drift_worst.png",
            "drift_worst.svg",
            "drift_ppm.png",
            "drift_ppm.svg",
            "drift_exits.png",
            "drift_exits.svg",
            "drift_scatter.png",
            "drift_scatter.svg"
        ]
    );
    for (name, bytes) in &files {
        if name.ends_with(".png") {
            assert_eq!(png_size(bytes), (WIDTH, HEIGHT), "{name}");
        } else {
            let svg = std::str::from_utf8(bytes).unwrap();
            assert!(svg.starts_with("<svg"), "{name}");
            assert!(
                !svg.contains("NaN") && !svg.contains("inf"),
                "{name} has a NaN or infinite coordinate"
            );
            let stem = name.trim_end_matches(".svg");
            assert!(svg.contains(title(stem)), "{name} has no title");
            assert!(svg.contains("validations-2025.csv"), "{name} subtitle");
        }
    }
    assert_eq!(
        render_all(&d, Format::Both).unwrap(),
        files,
        "deterministic bytes"
    );
    let png_only = render_all(&d, Format::Png).unwrap();
    assert_eq!(png_only.len(), 4);
    assert!(png_only.iter().all(|f| f.0.ends_with(".png")));
}

#[test]
fn the_figures_say_what_they_show() {
    let d = fleet();
    let s = svgs(&d);
    let (worst, ppm, exits, scatter) = (&s[0], &s[1], &s[2], &s[3]);
    // Every charted credential has its panel, with its ppm and exit in the caption.
    for k in 0..6 {
        assert!(worst.contains(&format!("worst-{k:02}")), "panel {k}");
    }
    assert!(worst.contains("+3.10 ppm"), "ppm in the caption");
    assert!(worst.contains("out of the window now"));
    assert!(worst.contains("Clock offset (s)") && worst.contains("Date (UTC)"));
    assert!(worst.contains("step +3600 s") && worst.contains("step \u{2212}60 s"));
    assert!(worst.contains("window edges (\u{2212}45 s / +45 s)"));
    assert!(worst.contains("outlier (set aside)"));
    assert!(
        worst.contains("off scale"),
        "the hour-old segment is off scale"
    );
    // The histogram: units, populations, the median, and the wild estimate left out.
    assert!(ppm.contains("Frequency error (ppm)") && ppm.contains("Credentials"));
    assert!(ppm.contains("phones") && ppm.contains("hardware"));
    assert!(ppm.contains("fleet median"));
    assert!(
        ppm.contains("outside the range shown (0 below, 1 above)"),
        "{ppm}"
    );
    assert!(ppm.contains("without a ppm"));
    assert!(exits.contains("Credentials leaving in the month"));
    assert!(exits.contains("Fleet out of the window (%, cumulative)"));
    assert!(
        exits.contains("2026-07") && exits.contains("2027-01"),
        "month ticks"
    );
    let out = d
        .credentials
        .iter()
        .filter(|r| r.status == "out_now")
        .count();
    assert!(exits.contains(&format!("out of the window now: {out} (")));
    assert!(scatter.contains("Offset now (s, device minus true time)"));
    assert!(scatter.contains(&format!("out of the window now ({out})")));
    assert!(scatter.contains("window edge +45 s") && scatter.contains("beyond the axes"));
}

#[test]
fn an_empty_analysis_draws_no_data_panels() {
    let d = AnalyzeData::default();
    let files = render_all(&d, Format::Both).unwrap();
    assert_eq!(files.len(), 8);
    for (name, bytes) in &files {
        if name.ends_with(".png") {
            assert_eq!(png_size(bytes), (WIDTH, HEIGHT));
        }
    }
    let s = svgs(&d);
    assert!(s[0].contains("No observations to chart"));
    assert!(s[1].contains("No credential has a frequency estimate (ppm)"));
    assert!(s[2].contains("No credentials in this analysis"));
    assert!(s[3].contains("No credential has both an offset now and a ppm"));
    for (svg, (stem, _)) in s.iter().zip(ANALYZE_FIGURES) {
        assert!(svg.contains(title(stem)));
        assert!(!svg.contains("NaN"));
    }
}

#[test]
fn odd_shapes_of_data_still_draw() {
    // One credential, measured offsets (no interval), a credential the rows do not know,
    // everything an outlier, and a manifest without a readable `now`.
    let mut d = fleet();
    d.manifest.now = String::new();
    d.credentials.truncate(1);
    d.fleet.clear();
    for o in &mut d.observations {
        if o.credential == "worst-01" {
            o.high_s = o.low_s;
        }
        if o.credential == "worst-02" {
            o.segment = None;
            o.fit_s = None;
        }
    }
    for svg in svgs(&d) {
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
    d.observations.retain(|o| o.credential == "worst-03");
    assert!(svgs(&d)[0].contains("worst-03"));
    // Everybody identical: the ranges still have a width.
    let mut d = fleet();
    for r in &mut d.credentials {
        r.ppm = Fixed::of(1.0);
        r.offset_now_s = Fixed::of(0.0);
    }
    for svg in svgs(&d) {
        assert!(!svg.contains("NaN"));
    }
}

#[test]
fn ranges_ticks_and_clipping() {
    assert_eq!(nice_step(0.7), 1.0);
    assert_eq!(nice_step(2.2), 5.0);
    assert_eq!(nice_step(31.0), 50.0);
    assert_eq!(
        lin_ticks(-12.0, 13.0, 5),
        (vec![-10.0, -5.0, 0.0, 5.0, 10.0], 0)
    );
    assert_eq!(lin_ticks(0.0, 1.0, 4).1, 1);
    assert_eq!(lin_ticks(0.0, 0.1, 4).1, 2);
    assert_eq!(num(-0.0001, 2), "0.00");
    assert_eq!(signed(2.5, 1), "+2.5");
    assert_eq!(signed(-2.5, 1), "\u{2212}2.5");
    let mut v: Vec<f64> = (0..100).map(|i| i as f64).collect();
    v.push(1e6);
    let (lo, hi) = robust(&v);
    assert!(lo < 1.0 && hi > 98.0 && hi < 200.0, "{lo} {hi}");
    // A line leaving the box is cut at its edge, not bent onto it.
    let cut = clip((0.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 5.0)).unwrap();
    assert_eq!(cut, ((0.0, 0.0), (5.0, 5.0)));
    assert!(clip((0.0, 6.0), (10.0, 7.0), (0.0, 10.0), (0.0, 5.0)).is_none());
    assert_eq!(
        clip_polyline(
            &[(0.0, 0.0), (1.0, 1.0), (2.0, 9.0), (3.0, 1.0)],
            (0.0, 3.0),
            (0.0, 2.0)
        )
        .len(),
        2
    );
}

/// `OTPDRIFT_DRIFT_CHARTS=/tmp/drift-charts cargo test --lib chart::analyze` writes the
/// synthetic fleet's charts there to look at.
#[test]
fn writes_the_charts_when_asked() {
    let Ok(dir) = std::env::var("OTPDRIFT_DRIFT_CHARTS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in render_all(&fleet(), Format::Both).unwrap() {
        std::fs::write(format!("{dir}/{name}"), bytes).unwrap();
    }
    for (name, bytes) in render_all(&AnalyzeData::default(), Format::Png).unwrap() {
        std::fs::write(format!("{dir}/empty_{name}"), bytes).unwrap();
    }
    for (name, bytes) in render_all(&two_panels(), Format::Png).unwrap() {
        std::fs::write(format!("{dir}/two_{name}"), bytes).unwrap();
    }
}
