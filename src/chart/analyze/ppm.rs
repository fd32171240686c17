//! `drift_ppm`: the histogram of the credentials' frequency errors by population.

use super::*;

// ---- drift_ppm ------------------------------------------------------------------------------

pub(super) fn ppm_histogram<DB: DrawingBackend>(c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    let vals: Vec<(usize, f64)> =
        c.d.credentials
            .iter()
            .filter_map(|r| {
                let p = c.pops.iter().position(|q| *q == r.population).unwrap_or(0);
                Some((p, get(r.ppm)?))
            })
            .collect();
    let without = c.d.credentials.len() - vals.len();
    if vals.is_empty() {
        let (plot, _) = c.frame(root, "drift_ppm", &[], LEGEND_W)?;
        return no_data(&plot, "No credential has a frequency estimate (ppm)");
    }
    let mut sorted: Vec<f64> = vals.iter().map(|v| v.1).collect();
    sorted.sort_by(f64::total_cmp);
    let (lo, hi) = robust(&sorted);
    // Bins: the Freedman–Diaconis width rounded to 1, 2 or 5, kept to 20–60 bins across the
    // range so the shape shows without single-credential noise.
    let iqr = quantile(&sorted, 0.75) - quantile(&sorted, 0.25);
    let fd = 2.0 * iqr / (sorted.len() as f64).cbrt();
    let mut h = nice_step(fd.max((hi - lo) / 60.0));
    if (hi - lo) / h < 20.0 {
        h = nice_step((hi - lo) / 40.0);
    }
    let b0 = (lo / h).floor() * h;
    let nb = (((hi - b0) / h).ceil() as usize).max(1);
    let b1 = b0 + nb as f64 * h;
    let npop = c.pops.len().max(1);
    let mut counts = vec![vec![0u64; nb]; npop];
    let (mut below, mut above) = (0, 0);
    for (p, v) in &vals {
        if *v < b0 {
            below += 1;
        } else if *v >= b1 {
            above += 1;
        } else {
            let k = (((v - b0) / h).floor() as usize).min(nb - 1);
            counts[*p][k] += 1;
        }
    }
    let (_, hd) = lin_ticks(0.0, h * 4.0, 4);
    let bin_note = format!("bins of {} ppm", num(h, hd.max(decimals_of(h))));
    let mut notes = vec![bin_note];
    if below + above > 0 {
        notes.push(format!(
            "{} outside the range shown ({} below, {} above)",
            thousands((below + above) as f64),
            thousands(below as f64),
            thousands(above as f64)
        ));
    }
    if without > 0 {
        notes.push(format!("{} without a ppm", thousands(without as f64)));
    }
    let (plot, leg) = c.frame(root, "drift_ppm", &notes, LEGEND_W)?;
    let tops: Vec<u64> = (0..nb)
        .map(|k| counts.iter().map(|cs| cs[k]).sum())
        .collect();
    let peak = tops.iter().cloned().max().unwrap_or(0).max(1) as f64;
    let ytop = peak * 1.16;
    let (xticks, xd) = lin_ticks(b0, b1, 10);
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(30)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d(
            ticked(b0..b1, xticks),
            ticked(0.0..ytop, count_ticks(ytop, 8)),
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .disable_x_mesh()
        .x_desc("Frequency error (ppm)")
        .y_desc("Credentials")
        .x_label_formatter(&|x| num(*x, xd))
        .y_label_formatter(&|y| thousands(*y))
        .draw()
        .map_err(e)?;
    // Stacked bars in population order, a white outline keeping neighbouring bins apart.
    let mut base = vec![0u64; nb];
    for (p, cs) in counts.iter().enumerate() {
        let col = colour_index(p);
        for k in 0..nb {
            if cs[k] == 0 {
                continue;
            }
            let x0 = b0 + k as f64 * h;
            let corners = [(x0, base[k] as f64), (x0 + h, (base[k] + cs[k]) as f64)];
            chart
                .draw_series([
                    Rectangle::new(corners, col.mix(0.85).filled()),
                    Rectangle::new(corners, WHITE.stroke_width(1)),
                ])
                .map_err(e)?;
            base[k] += cs[k];
        }
    }
    // The fleet median: the analysis' own figure when it wrote one.
    let all = c.d.fleet.iter().find(|f| f.population == "all");
    let median = all
        .and_then(|f| get(f.ppm_p50))
        .unwrap_or_else(|| quantile(&sorted, 0.5));
    if median >= b0 && median <= b1 {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(median, 0.0), (median, ytop)],
                10,
                6,
                INK.stroke_width(2),
            ))
            .map_err(e)?;
        let right = (median - b0) / (b1 - b0) > 0.7;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((median, ytop))
                    + Text::new(
                        format!("fleet median {} ppm", signed(median, 2)),
                        (if right { -10 } else { 10 }, 10),
                        font(19).color(&INK).pos(Pos::new(
                            if right { HPos::Right } else { HPos::Left },
                            VPos::Top,
                        )),
                    ),
            ))
            .map_err(e)?;
    }
    let mut entries = Vec::new();
    for (p, name) in c.pops.iter().enumerate() {
        let mut v: Vec<f64> = vals.iter().filter(|x| x.0 == p).map(|x| x.1).collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        entries.push((
            format!(
                "{} ({})\nmedian {} ppm",
                clip_text(name, 20),
                thousands(v.len() as f64),
                signed(quantile(&v, 0.5), 2)
            ),
            Key::Block(colour_index(p), 0.85),
        ));
    }
    entries.push(("fleet median".into(), Key::Dashed(INK)));
    if let Some(f) = all {
        entries.push(("Fleet (ppm)".into(), Key::Heading));
        if let (Some(p10), Some(p90)) = (get(f.ppm_p10), get(f.ppm_p90)) {
            entries.push((
                format!("10% to 90%: {} to {}", signed(p10, 2), signed(p90, 2)),
                Key::Note,
            ));
        }
        if let Some(sd) = get(f.ppm_sd) {
            entries.push((
                format!("spread (sd): {}\nwith estimation noise removed", num(sd, 2)),
                Key::Note,
            ));
        }
    }
    legend_column(&leg, "Population", &entries)
}

/// Decimals needed to write `v` exactly (up to 6).
pub(super) fn decimals_of(v: f64) -> usize {
    (0..6)
        .find(|d| {
            let s = v * 10f64.powi(*d as i32);
            (s - s.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}
