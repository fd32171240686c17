//! Device clock error: at login per bucket with the window's edges, and at the end.

use super::*;

/// TOTP populations: the ones with a clock.
pub(super) fn clocked(d: &RunData) -> Vec<usize> {
    (0..d.populations())
        .filter(|&i| d.scenario.populations[i].token.kind != TokenKind::Hotp)
        .collect()
}

/// Window edges in seconds of clock error (before any drift is learned): where each side of
/// the window starts refusing most codes, (steps + ½) steps
/// ([`crate::validator::ValidatorConfig::edges_s`]).
pub(super) fn edges(d: &RunData, pop: usize) -> Vec<(f64, String)> {
    let v = &d.scenario.validator;
    let step = d.scenario.populations[pop].token.step_s;
    let (b, a) = v.edges_s(step);
    if b == a {
        vec![(a, format!("window edge ±{}", format_duration(a)))]
    } else {
        vec![
            (b, format!("window edge back {}", format_duration(b))),
            (a, format!("window edge ahead {}", format_duration(a))),
        ]
    }
}

pub(super) const FLOOR_S: f64 = 0.01;

pub(super) fn clock_error<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let (plot, leg) = frame(root, Figure::ClockError, d, "absolute error, log scale")?;
    let pops = clocked(d);
    if pops.is_empty() {
        return no_data(&plot, "No TOTP tokens: HOTP tokens have no clock");
    }
    let cols = if pops.len() == 1 {
        1
    } else if pops.len() <= 4 {
        2
    } else {
        3
    };
    let rows = pops.len().div_ceil(cols);
    let panels = plot.split_evenly((rows, cols));
    let xs: Vec<f64> = (0..d.buckets.len()).map(|i| mid(d, i)).collect();
    let label_size = if rows > 2 { 15 } else { 19 };
    for (k, &p) in pops.iter().enumerate() {
        let area = &panels[k];
        let col = |f: fn(&OffsetCells) -> Option<Secs>| {
            d.ts_col(p, |r| get(f(&r.offsets)))
                .into_iter()
                .map(|v| v.map(|x| x.max(FLOOR_S)))
                .collect::<Vec<_>>()
        };
        let (p05, p25, p50, p75, p95, max) = (
            col(|o| o.offset_s_p05),
            col(|o| o.offset_s_p25),
            col(|o| o.offset_s_p50),
            col(|o| o.offset_s_p75),
            col(|o| o.offset_s_p95),
            col(|o| o.offset_s_max),
        );
        let top = max
            .iter()
            .flatten()
            .chain(edges(d, p).iter().map(|x| &x.0))
            .fold(1.0f64, |a, b| a.max(*b));
        let mut chart = ChartBuilder::on(area)
            .margin(14)
            .caption(&d.names[p], bold(22).color(&colour(d, p)))
            .x_label_area_size(if rows > 2 { 40 } else { 56 })
            .y_label_area_size(if cols > 1 { 80 } else { 100 })
            .build_cartesian_2d(
                ticked(
                    0.0..span_days(d),
                    time_ticks(
                        d,
                        if cols == 1 {
                            12
                        } else if cols == 2 {
                            6
                        } else {
                            4
                        },
                    ),
                ),
                ticked(
                    (FLOOR_S..top * 3.0).log_scale(),
                    log_ticks(FLOOR_S, top * 3.0),
                ),
            )
            .map_err(e)?;
        house(&mut chart.configure_mesh(), label_size, label_size + 1)
            .x_desc(if k + cols >= pops.len() {
                "Date (UTC)"
            } else {
                ""
            })
            .y_desc("Clock error (s)")
            .x_label_formatter(&|x| day_label(d, *x))
            .y_label_formatter(&|y| short_seconds(*y))
            .y_labels(8)
            .draw()
            .map_err(e)?;
        let c = colour(d, p);
        for (lo, hi, alpha) in [(&p05, &p95, 0.18), (&p25, &p75, 0.38)] {
            let both: Vec<Option<(f64, f64)>> =
                lo.iter().zip(hi.iter()).map(|(a, b)| a.zip(*b)).collect();
            let ys: Vec<Option<f64>> = both.iter().map(|v| v.map(|x| x.0)).collect();
            for run in runs(&xs, &ys) {
                let first = xs.iter().position(|x| *x == run[0].0).expect("from xs");
                let upper: Vec<(f64, f64)> = (first..first + run.len())
                    .map(|i| (xs[i], both[i].expect("run").1))
                    .collect();
                let mut poly = run.clone();
                poly.extend(upper.into_iter().rev());
                chart
                    .draw_series(std::iter::once(Polygon::new(poly, c.mix(alpha).filled())))
                    .map_err(e)?;
            }
        }
        event_marks(&mut chart, d, (FLOOR_S, top * 3.0))?;
        line(&mut chart, &xs, &p50, c.stroke_width(3), false)?;
        line(&mut chart, &xs, &max, c.stroke_width(1), true)?;
        for (edge, _) in edges(d, p) {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, edge), (span_days(d), edge)],
                    12,
                    8,
                    RGBColor(200, 30, 30).stroke_width(2),
                ))
                .map_err(e)?;
        }
    }
    let mut entries = vec![
        ("median".to_string(), Mark::Line(GREY, 3)),
        ("50% of logins".to_string(), Mark::Block(GREY, 0.38)),
        ("90% of logins".to_string(), Mark::Block(GREY, 0.18)),
        ("maximum".to_string(), Mark::Dashed(GREY)),
    ];
    for (_, label) in edges(d, pops[0]) {
        entries.push((label, Mark::Dashed(RGBColor(200, 30, 30))));
    }
    entries.push(("(before drift learning)".into(), Mark::Block(WHITE, 0.0)));
    entries.extend(event_entries(d));
    legend(&leg, "Each panel", &entries)
}

pub(super) fn histogram<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let (plot, leg) = frame(
        root,
        Figure::ErrorHistogram,
        d,
        "tokens in use at the end, log-spaced bins",
    )?;
    let pops: Vec<usize> = clocked(d)
        .into_iter()
        .filter(|&p| d.final_offsets[p].count > 0)
        .collect();
    if pops.is_empty() {
        return no_data(&plot, "No TOTP tokens in use at the end of the run");
    }
    let max = pops
        .iter()
        .filter_map(|&p| d.final_offsets[p].max_s())
        .fold(1.0f64, f64::max)
        .max(edges(d, pops[0]).iter().fold(0.0, |a, b| a.max(b.0)));
    let (lo, hi) = (FLOOR_S, max * 1.5);
    let nbins = 48;
    let ratio = (hi / lo).ln() / nbins as f64;
    let edge_of = |k: usize| lo * (ratio * k as f64).exp();
    let mut peak: f64 = 1.0;
    let mut shares = Vec::new();
    for &p in &pops {
        // The run's 2% bins, each placed by its geometric middle into the chart's wider ones.
        let h = &d.final_offsets[p];
        let mut counts = vec![0u64; nbins];
        for (b_lo, b_hi, c) in h.bins_s() {
            let x = if b_lo > 0.0 {
                (b_lo * b_hi).sqrt()
            } else {
                0.0
            };
            let k = (((x.max(lo)) / lo).ln() / ratio).floor() as usize;
            counts[k.min(nbins - 1)] += c;
        }
        let s: Vec<f64> = counts
            .iter()
            .map(|c| *c as f64 / h.count as f64 * 100.0)
            .collect();
        peak = s.iter().cloned().fold(peak, f64::max);
        shares.push((p, s));
    }
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(
            ticked((lo..hi).log_scale(), log_ticks(lo, hi)),
            0.0..peak * 1.12,
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Absolute clock error at the end (s, log scale)")
        .y_desc("Share of a population's tokens (%)")
        .x_label_formatter(&|x| short_seconds(*x))
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .x_labels(10)
        .y_labels(8)
        .draw()
        .map_err(e)?;
    let mut entries = Vec::new();
    for (p, s) in &shares {
        let c = colour(d, *p);
        let mut pts = vec![(edge_of(0), 0.0)];
        for (k, v) in s.iter().enumerate() {
            pts.push((edge_of(k), *v));
            pts.push((edge_of(k + 1), *v));
        }
        pts.push((edge_of(nbins), 0.0));
        chart
            .draw_series(std::iter::once(Polygon::new(
                pts.clone(),
                c.mix(0.15).filled(),
            )))
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(3)))
            .map_err(e)?;
        entries.push((
            format!(
                "{} ({} tokens)",
                d.names[*p],
                thousands(d.final_offsets[*p].count as f64)
            ),
            Mark::Line(c, 4),
        ));
    }
    for (edge, label) in edges(d, pops[0]) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(edge, 0.0), (edge, peak * 1.12)],
                12,
                8,
                RGBColor(200, 30, 30).stroke_width(2),
            ))
            .map_err(e)?;
        entries.push((label, Mark::Dashed(RGBColor(200, 30, 30))));
    }
    legend(&leg, "Population", &entries)
}
