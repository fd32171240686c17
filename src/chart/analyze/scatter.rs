//! `drift_scatter`: offset now against frequency error, with the window's edges.

use super::*;

// ---- drift_scatter --------------------------------------------------------------------------

pub(super) fn scatter<DB: DrawingBackend>(c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    let pts: Vec<(usize, f64, f64, &DriftRow)> =
        c.d.credentials
            .iter()
            .filter_map(|r| {
                let p = c.pops.iter().position(|q| *q == r.population).unwrap_or(0);
                Some((p, get(r.ppm)?, get(r.offset_now_s)?, r))
            })
            .collect();
    if pts.is_empty() {
        let (plot, _) = c.frame(root, "drift_scatter", &[], LEGEND_W)?;
        return no_data(&plot, "No credential has both an offset now and a ppm");
    }
    let xs: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.2).collect();
    let xr = robust(&xs);
    let (ylo, yhi) = robust(&ys);
    // The window always shows, with room above and below it for the credentials outside.
    let ew = (c.edges.1 - c.edges.0).max(1.0);
    let (ylo, yhi) = (ylo.min(c.edges.0 - 0.3 * ew), yhi.max(c.edges.1 + 0.3 * ew));
    let (ylo, yhi) = (ylo - 0.02 * (yhi - ylo), yhi + 0.02 * (yhi - ylo));
    let yr = (ylo, yhi);
    let inside =
        |p: &(usize, f64, f64, &DriftRow)| p.1 >= xr.0 && p.1 <= xr.1 && p.2 >= yr.0 && p.2 <= yr.1;
    let outside = pts.iter().filter(|p| !inside(p)).count();
    let bars = pts.len() <= 500;
    let mut notes = Vec::new();
    if outside > 0 {
        notes.push(format!(
            "{} beyond the axes (1st–99th percentiles widened 8%), drawn at the border",
            thousands(outside as f64)
        ));
    }
    if bars {
        notes.push("lines: 95% intervals".to_string());
    }
    let (plot, leg) = c.frame(root, "drift_scatter", &notes, LEGEND_W)?;
    let (xticks, xd) = lin_ticks(xr.0, xr.1, 10);
    let (yticks, yd) = lin_ticks(yr.0, yr.1, 8);
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(30)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(ticked(xr.0..xr.1, xticks), ticked(yr.0..yr.1, yticks))
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Frequency error (ppm)")
        .y_desc("Offset now (s, device minus true time)")
        .x_label_formatter(&|x| num(*x, xd))
        .y_label_formatter(&|y| num(*y, yd))
        .draw()
        .map_err(e)?;
    // Outside the window: shaded, the edges dashed and labelled at the right.
    for (a, b) in [(c.edges.1, yr.1), (yr.0, c.edges.0)] {
        if b > a {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(xr.0, a.max(yr.0)), (xr.1, b.min(yr.1))],
                    RED.mix(0.06).filled(),
                )))
                .map_err(e)?;
        }
    }
    for (edge, above) in [(c.edges.1, true), (c.edges.0, false)] {
        if edge <= yr.0 || edge >= yr.1 {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                vec![(xr.0, edge), (xr.1, edge)],
                12,
                8,
                RED.stroke_width(2),
            ))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((xr.1, edge))
                    + Text::new(
                        format!("window edge {}", seconds(edge)),
                        (-8, if above { -6 } else { 6 }),
                        font(17).color(&RED).pos(Pos::new(
                            HPos::Right,
                            if above { VPos::Bottom } else { VPos::Top },
                        )),
                    ),
            ))
            .map_err(e)?;
    }
    let clamp = |v: f64, r: (f64, f64)| v.clamp(r.0, r.1);
    if bars {
        let mut lines = Vec::new();
        for (p, x, y, r) in pts.iter().filter(|p| inside(p)) {
            let col = colour_index(*p).mix(0.3).stroke_width(1);
            if let (Some(a), Some(b)) = (get(r.ppm_ci95_low), get(r.ppm_ci95_high)) {
                lines.push(PathElement::new(
                    vec![(clamp(a, xr), *y), (clamp(b, xr), *y)],
                    col,
                ));
            }
            if let (Some(a), Some(b)) =
                (get(r.offset_now_ci95_low_s), get(r.offset_now_ci95_high_s))
            {
                lines.push(PathElement::new(
                    vec![(*x, clamp(a, yr)), (*x, clamp(b, yr))],
                    col,
                ));
            }
        }
        chart.draw_series(lines).map_err(e)?;
    }
    // Bigger populations first, so a small one stays visible on top.
    let mut order: Vec<usize> = (0..c.pops.len().max(1)).collect();
    let size = |p: usize| pts.iter().filter(|q| q.0 == p).count();
    order.sort_by_key(|p| std::cmp::Reverse(size(*p)));
    let (radius, alpha) = match pts.len() {
        0..=1000 => (5, 0.8),
        1001..=10_000 => (3, 0.55),
        _ => (2, 0.35),
    };
    for p in &order {
        let col = colour_index(*p);
        chart
            .draw_series(
                pts.iter()
                    .filter(|q| q.0 == *p && inside(q))
                    .map(|q| Circle::new((q.1, q.2), radius, col.mix(alpha).filled())),
            )
            .map_err(e)?;
        chart
            .draw_series(pts.iter().filter(|q| q.0 == *p && !inside(q)).map(|q| {
                TriangleMarker::new((clamp(q.1, xr), clamp(q.2, yr)), 7, col.stroke_width(2))
            }))
            .map_err(e)?;
    }
    let out: Vec<&(usize, f64, f64, &DriftRow)> =
        pts.iter().filter(|p| p.3.status == "out_now").collect();
    chart
        .draw_series(out.iter().map(|q| {
            Circle::new(
                (clamp(q.1, xr), clamp(q.2, yr)),
                radius + 5,
                RED.stroke_width(2),
            )
        }))
        .map_err(e)?;

    let mut entries = Vec::new();
    for (p, name) in c.pops.iter().enumerate() {
        let n = size(p);
        if n == 0 {
            continue;
        }
        entries.push((
            format!("{} ({})", clip_text(name, 18), thousands(n as f64)),
            Key::Dot(colour_index(p)),
        ));
    }
    entries.push((
        format!("out of the window now ({})", thousands(out.len() as f64)),
        Key::Ring(RED),
    ));
    entries.push(("window edges".into(), Key::Dashed(RED)));
    entries.push(("outside the window".into(), Key::Block(RED, 0.12)));
    if bars {
        entries.push((
            "95% intervals".into(),
            Key::Line(RGBColor(160, 160, 160), 1),
        ));
    }
    if outside > 0 {
        entries.push((
            format!("beyond the axes ({})", thousands(outside as f64)),
            Key::Triangle(GREY),
        ));
    }
    legend_column(&leg, "Population", &entries)
}
