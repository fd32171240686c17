//! Login acceptance over time, and rejected attempts by reason.

use super::*;

/// Per population: index, first-try and eventual acceptance per bucket (%).
pub(super) type RateSeries = Vec<(usize, Vec<Option<f64>>, Vec<Option<f64>>)>;

pub(super) fn acceptance<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let (plot, leg) = frame(root, Figure::Acceptance, d, "per time bucket")?;
    let xs: Vec<f64> = (0..d.buckets.len()).map(|i| mid(d, i)).collect();
    let pct = |v: Vec<Option<f64>>| {
        v.into_iter()
            .map(|x| x.map(|r| r * 100.0))
            .collect::<Vec<_>>()
    };
    let series: RateSeries = who(d)
        .into_iter()
        .map(|i| {
            (
                i,
                pct(d.ts_col(i, |r| get(r.counts.first_try_acceptance_rate))),
                pct(d.ts_col(i, |r| get(r.counts.login_success_rate))),
            )
        })
        .collect();
    let lowest = series
        .iter()
        .flat_map(|s| s.1.iter().chain(s.2.iter()))
        .flatten()
        .fold(100.0f64, |a, b| a.min(*b));
    if lowest == 100.0 && series.iter().all(|s| s.1.iter().all(Option::is_none)) {
        return no_data(&plot, "No logins in this run");
    }
    let lo = ((lowest - 2.0) / 5.0).floor().max(0.0) * 5.0;
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(ticked(0.0..span_days(d), time_ticks(d, 12)), lo..100.5)
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Date (UTC)")
        .y_desc("Share of logins (%)")
        .x_label_formatter(&|x| day_label(d, *x))
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .x_labels(8)
        .y_labels(10)
        .draw()
        .map_err(e)?;
    let mut entries = Vec::new();
    event_marks(&mut chart, d, (lo, 100.5))?;
    for (i, first, ok) in &series {
        let c = colour(d, *i);
        line(&mut chart, &xs, first, c.stroke_width(3), false)?;
        line(&mut chart, &xs, ok, c.stroke_width(2), true)?;
        entries.push((d.names[*i].clone(), Mark::Line(c, 4)));
    }
    entries.push((String::new(), Mark::Block(WHITE, 0.0)));
    entries.push(("first try".into(), Mark::Line(GREY, 3)));
    entries.push(("after retries / recovery".into(), Mark::Dashed(GREY)));
    entries.extend(event_entries(d));
    legend(&leg, "Population", &entries)
}

pub(super) const REASONS: [(CountOf, &str, (u8, u8, u8)); 5] = [
    (|c| c.rejected_out_of_window, "out of window", (225, 87, 89)),
    (|c| c.rejected_replay, "replay", (242, 142, 43)),
    (|c| c.rejected_locked, "locked", (176, 122, 161)),
    (|c| c.rejected_typo, "typo", (78, 121, 167)),
    (|c| c.rejected_dead, "token dead", (110, 110, 110)),
];

pub(super) fn rejections<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let all = d.populations();
    let (plot, leg) = frame(root, Figure::Rejections, d, "all populations, stacked")?;
    let attempts = count(d, all, |c| c.attempts);
    let layers: Vec<Vec<f64>> = REASONS
        .iter()
        .map(|(col, ..)| {
            count(d, all, *col)
                .iter()
                .zip(&attempts)
                .map(|(r, a)| match (r, a) {
                    (Some(r), Some(a)) if *a > 0.0 => r / a * 1000.0,
                    _ => 0.0,
                })
                .collect()
        })
        .collect();
    let n = d.buckets.len();
    let mut tops = vec![vec![0.0; n]; REASONS.len()];
    for b in 0..n {
        let mut acc = 0.0;
        for (k, layer) in layers.iter().enumerate() {
            acc += layer[b];
            tops[k][b] = acc;
        }
    }
    let ymax = tops
        .last()
        .map_or(0.0, |t| t.iter().cloned().fold(0.0, f64::max));
    if ymax <= 0.0 {
        return no_data(&plot, "No rejected attempts in this run");
    }
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(
            ticked(0.0..span_days(d), time_ticks(d, 12)),
            0.0..ymax * 1.12,
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Date (UTC)")
        .y_desc("Rejected attempts per 1,000 attempts")
        .x_label_formatter(&|x| day_label(d, *x))
        .x_labels(8)
        .y_labels(10)
        .draw()
        .map_err(e)?;
    let mut entries = Vec::new();
    for k in (0..REASONS.len()).rev() {
        let (r, g, b) = REASONS[k].2;
        let c = RGBColor(r, g, b);
        let mut pts: Vec<(f64, f64)> = Vec::with_capacity(2 * n + 2);
        for (&(s, t), &top) in d.buckets.iter().zip(&tops[k]) {
            let x0 = (s - d.scenario.run.start) as f64 / DAY as f64;
            let x1 = (t - d.scenario.run.start) as f64 / DAY as f64;
            pts.push((x0, top));
            pts.push((x1, top));
        }
        let mut poly = pts.clone();
        poly.push((pts.last().map_or(0.0, |p| p.0), 0.0));
        poly.push((pts.first().map_or(0.0, |p| p.0), 0.0));
        chart
            .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.85).filled())))
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(1)))
            .map_err(e)?;
    }
    event_marks(&mut chart, d, (0.0, ymax * 1.12))?;
    for (col, label, (r, g, b)) in REASONS.iter().rev() {
        let total: f64 = count(d, all, *col).iter().flatten().sum();
        entries.push((
            format!("{label} ({})", thousands(total)),
            Mark::Block(RGBColor(*r, *g, *b), 0.85),
        ));
    }
    entries.extend(event_entries(d));
    legend(&leg, "Reason (total)", &entries)
}
