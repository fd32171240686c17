//! Resync outcomes and helpdesk tickets, and token survival with replacements.

use super::*;

/// Stacked bars per bucket from layers of values.
pub(super) fn stacked<DB: DrawingBackend>(
    d: &RunData,
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    layers: &[(String, RGBColor, Vec<f64>)],
) -> R {
    let n = d.buckets.len();
    let totals: Vec<f64> = (0..n)
        .map(|b| layers.iter().map(|l| l.2[b]).sum())
        .collect();
    let ymax = totals.iter().cloned().fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .margin(18)
        .caption(caption, bold(22))
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(
            ticked(0.0..span_days(d), time_ticks(d, 6)),
            0.0..(ymax * 1.12).max(1.0),
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 18, 20)
        .x_desc("Date (UTC)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| day_label(d, *x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_labels(6)
        // Counts are whole: no more labels than whole numbers in range, or they repeat.
        .y_labels(((ymax * 1.12).ceil() as usize + 1).clamp(2, 8))
        .draw()
        .map_err(e)?;
    event_marks(&mut chart, d, (0.0, (ymax * 1.12).max(1.0)))?;
    if ymax <= 0.0 {
        let (w, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            "none in this run",
            (w as i32 / 2 - 80, h as i32 / 2),
            font(24).color(&GREY),
        ))
        .map_err(e)?;
        return Ok(());
    }
    let start = d.scenario.run.start;
    let mut base = vec![0.0; n];
    for (_, c, vals) in layers {
        let bars = (0..n).filter(|&b| vals[b] > 0.0).map(|b| {
            let (s, t) = d.buckets[b];
            let (x0, x1) = (
                (s - start) as f64 / DAY as f64,
                (t - start) as f64 / DAY as f64,
            );
            let gap = (x1 - x0) * 0.12;
            Rectangle::new(
                [(x0 + gap, base[b]), (x1 - gap, base[b] + vals[b])],
                c.filled(),
            )
        });
        chart.draw_series(bars).map_err(e)?;
        for b in 0..n {
            base[b] += vals[b];
        }
    }
    Ok(())
}

pub(super) fn col_sum(d: &RunData, who: usize, cols: &[CountOf]) -> Vec<f64> {
    let mut out = vec![0.0; d.buckets.len()];
    for c in cols {
        for (o, v) in out.iter_mut().zip(count(d, who, *c)) {
            *o += v.unwrap_or(0.0);
        }
    }
    out
}

pub(super) fn resync<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let all = d.populations();
    let (plot, leg) = frame(root, Figure::Resync, d, "all populations, per time bucket")?;
    let (left, right) = plot.split_horizontally((WIDTH - LEGEND_W) / 2);
    let rgb = |r, g, b| RGBColor(r, g, b);
    let sync_layers = vec![
        (
            "sync succeeded".to_string(),
            rgb(89, 161, 79),
            col_sum(d, all, &[|c| c.resyncs_succeeded]),
        ),
        (
            "automatic resync".to_string(),
            rgb(118, 183, 178),
            col_sum(
                d,
                all,
                &[
                    |c| c.auto_resyncs,
                    |c| c.skew_resyncs,
                    |c| c.next_code_succeeded,
                ],
            ),
        ),
        (
            "failed: outside window".to_string(),
            rgb(225, 87, 89),
            col_sum(d, all, &[|c| c.resync_failed_outside_window]),
        ),
        (
            "failed: not consecutive".to_string(),
            rgb(255, 157, 167),
            col_sum(d, all, &[|c| c.resync_failed_not_consecutive]),
        ),
        (
            "failed: replay".to_string(),
            rgb(242, 142, 43),
            col_sum(d, all, &[|c| c.resync_failed_replay]),
        ),
        (
            "failed: locked".to_string(),
            rgb(176, 122, 161),
            col_sum(d, all, &[|c| c.resync_failed_locked]),
        ),
    ];
    let ticket_layers = vec![
        (
            "ticket: lockout".to_string(),
            rgb(156, 117, 95),
            col_sum(d, all, &[|c| c.tickets_lockout]),
        ),
        (
            "ticket: reinstall".to_string(),
            rgb(78, 121, 167),
            col_sum(d, all, &[|c| c.tickets_reinstall]),
        ),
        (
            "ticket: replace failing".to_string(),
            rgb(237, 201, 72),
            col_sum(d, all, &[|c| c.tickets_replace_failing]),
        ),
        (
            "ticket: replace dead".to_string(),
            rgb(110, 110, 110),
            col_sum(d, all, &[|c| c.tickets_replace_dead]),
        ),
    ];
    stacked(
        d,
        &left,
        "Resync outcomes",
        "Resyncs per bucket",
        &sync_layers,
    )?;
    stacked(
        d,
        &right,
        "Helpdesk tickets",
        "Tickets per bucket",
        &ticket_layers,
    )?;
    let mut entries: Vec<(String, Mark)> = Vec::new();
    for (label, c, vals) in sync_layers.iter().chain(ticket_layers.iter()) {
        entries.push((
            format!("{label} ({})", thousands(vals.iter().sum::<f64>())),
            Mark::Block(*c, 1.0),
        ));
    }
    entries.extend(event_entries(d));
    legend(&leg, "Outcome (total)", &entries)
}

pub(super) fn lifetime<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let (plot, leg) = frame(root, Figure::Lifetime, d, "at each bucket's end")?;
    let (left, right) = plot.split_horizontally((WIDTH - LEGEND_W) / 2);
    let xs: Vec<f64> = (0..d.buckets.len())
        .map(|i| (d.buckets[i].1 - d.scenario.run.start) as f64 / DAY as f64)
        .collect();
    let sizes = d.population_sizes();
    let mut lowest: f64 = 100.0;
    let mut series = Vec::new();
    for i in who(d) {
        let size = if i == d.populations() {
            sizes.iter().sum::<u64>()
        } else {
            sizes[i]
        } as f64;
        let ys: Vec<Option<f64>> = d
            .life_col(i, |r| Some(r.tokens_alive as f64))
            .into_iter()
            .map(|v| v.filter(|_| size > 0.0).map(|a| a / size * 100.0))
            .collect();
        lowest = ys.iter().flatten().fold(lowest, |a, b| a.min(*b));
        series.push((i, ys));
    }
    let lo = ((lowest - 2.0) / 10.0).floor().max(0.0) * 10.0;
    let mut chart = ChartBuilder::on(&left)
        .margin(18)
        .caption("Users with a working token", bold(22))
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(ticked(0.0..span_days(d), time_ticks(d, 6)), lo..100.5)
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 18, 20)
        .x_desc("Date (UTC)")
        .y_desc("Share of users (%)")
        .x_label_formatter(&|x| day_label(d, *x))
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .x_labels(6)
        .y_labels(8)
        .draw()
        .map_err(e)?;
    let mut entries = Vec::new();
    event_marks(&mut chart, d, (lo, 100.5))?;
    for (i, ys) in &series {
        line(&mut chart, &xs, ys, colour(d, *i).stroke_width(3), false)?;
        entries.push((d.names[*i].clone(), Mark::Line(colour(d, *i), 4)));
    }
    let layers: Vec<(String, RGBColor, Vec<f64>)> = (0..d.populations())
        .map(|i| {
            let vals = d
                .life_col(i, |r| Some(r.replacements as f64))
                .iter()
                .zip(d.life_col(i, |r| Some(r.reinstalls as f64)))
                .map(|(a, b)| a.unwrap_or(0.0) + b.unwrap_or(0.0))
                .collect();
            (d.names[i].clone(), colour(d, i), vals)
        })
        .collect();
    stacked(
        d,
        &right,
        "Replacements and reinstalls",
        "New credentials per bucket",
        &layers,
    )?;
    let deaths: f64 = d
        .life_col(d.populations(), |r| Some(r.deaths_battery as f64))
        .iter()
        .flatten()
        .sum::<f64>()
        + d.life_col(d.populations(), |r| Some(r.deaths_expired as f64))
            .iter()
            .flatten()
            .sum::<f64>();
    entries.push((String::new(), Mark::Block(WHITE, 0.0)));
    entries.push((
        format!("{} tokens died", thousands(deaths)),
        Mark::Block(WHITE, 0.0),
    ));
    entries.extend(event_entries(d));
    legend(&leg, "Population", &entries)
}
