//! `drift_exits`: predicted exits by month, with the cumulative share out of the window.

use super::*;

// ---- drift_exits ----------------------------------------------------------------------------

pub(super) fn exits<DB: DrawingBackend>(c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    // Inactive credentials (not seen for 90 days) are out of the fleet's shares, as in fleet.csv.
    let total =
        c.d.credentials
            .iter()
            .filter(|r| r.status != "inactive")
            .count();
    if total == 0 {
        let (plot, _) = c.frame(root, "drift_exits", &[], LEGEND_W)?;
        return no_data(&plot, "No credentials in this analysis");
    }
    // Calendar months from the current one: bar k counts exits in month k (the first from now).
    let m0 = month_floor(c.now);
    let leaving: Vec<(usize, Millis)> =
        c.d.credentials
            .iter()
            .filter(|r| r.status == "leaving")
            .filter_map(|r| {
                let p = c.pops.iter().position(|q| *q == r.population).unwrap_or(0);
                Some((p, r.exit?.0))
            })
            .collect();
    let last = leaving.iter().map(|x| x.1).max().unwrap_or(c.now);
    let mut bounds = vec![m0];
    while bounds.len() <= 60 && (bounds.len() <= 24 || *bounds.last().expect("m0") <= last) {
        let next = next_month(*bounds.last().expect("m0"));
        bounds.push(next);
    }
    let months = bounds.len() - 1;
    let npop = c.pops.len().max(1);
    let mut counts = vec![vec![0u64; months]; npop];
    let mut later = 0u64;
    let mut exits_sorted: Vec<Millis> = Vec::new();
    for (p, t) in &leaving {
        exits_sorted.push(*t);
        match bounds.iter().rposition(|b| b <= t) {
            _ if *t >= bounds[months] => later += 1,
            Some(k) => counts[*p][k] += 1,
            None => counts[*p][0] += 1,
        }
    }
    exits_sorted.sort_unstable();
    let count = |s: &str| c.d.credentials.iter().filter(|r| r.status == s).count();
    let (out_now, staying, unknown) = (count("out_now"), count("staying"), count("unknown"));
    let share = |upto: Millis| {
        let gone = exits_sorted.partition_point(|t| *t < upto);
        (out_now + gone) as f64 / total as f64 * 100.0
    };
    // Month positions: month k spans x = k..k+1; now sits inside month 0.
    let x_now = ((c.now - m0) as f64 / (bounds[1] - m0) as f64).clamp(0.0, 1.0);
    let mut cum = vec![(x_now, share(c.now))];
    cum.extend((1..=months).map(|k| (k as f64, share(bounds[k]))));

    let mut notes = vec![format!(
        "first bar from now to the end of {}",
        &date(m0)[..7]
    )];
    if later > 0 {
        notes.push(format!(
            "{} exits after {}",
            thousands(later as f64),
            &date(bounds[months] - DAY)[..7]
        ));
    }
    let (plot, leg) = c.frame(root, "drift_exits", &notes, LEGEND_W)?;
    let tops: Vec<u64> = (0..months)
        .map(|k| counts.iter().map(|cs| cs[k]).sum())
        .collect();
    let ytop = (tops.iter().cloned().max().unwrap_or(0) as f64 * 1.15).max(4.0);
    let smax = cum.iter().map(|p| p.1).fold(0.0, f64::max);
    let stop = (nice_step(smax * 1.15 / 5.0) * 5.0).clamp(5.0, 100.0);
    let (sticks, sd) = lin_ticks(0.0, stop, 5);
    let every = match months {
        0..=12 => 1,
        13..=24 => 2,
        25..=36 => 3,
        _ => 6,
    };
    let xticks: Vec<f64> = (0..months)
        .filter(|k| {
            let (_, m, _) = crate::time::civil_from_days(bounds[*k].div_euclid(DAY));
            (m as usize - 1) % every == 0
        })
        .map(|k| k as f64 + 0.5)
        .collect();
    let month_label = |x: f64| {
        let k = (x.floor() as usize).min(months - 1);
        date(bounds[k])[..7].to_string()
    };
    let xr = 0.0..months as f64;
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .right_y_label_area_size(100)
        .build_cartesian_2d(
            ticked(xr.clone(), xticks.clone()),
            ticked(0.0..ytop, count_ticks(ytop, 8)),
        )
        .map_err(e)?
        .set_secondary_coord(ticked(xr, xticks), ticked(0.0..stop, sticks));
    house(&mut chart.configure_mesh(), 20, 22)
        .disable_x_mesh()
        .x_desc("Month of the predicted exit (UTC)")
        .y_desc("Credentials leaving in the month")
        .x_label_formatter(&|x| month_label(*x))
        .y_label_formatter(&|y| thousands(*y))
        .draw()
        .map_err(e)?;
    chart
        .configure_secondary_axes()
        .label_style(font(20))
        .axis_desc_style(font(22))
        .y_desc("Fleet out of the window (%, cumulative)")
        .y_label_formatter(&|y| format!("{}%", num(*y, sd)))
        .draw()
        .map_err(e)?;
    let mut base = vec![0u64; months];
    for (p, cs) in counts.iter().enumerate() {
        let col = colour_index(p);
        for k in 0..months {
            if cs[k] == 0 {
                continue;
            }
            let x0 = if k == 0 { x_now.min(0.85) } else { k as f64 };
            let corners = [
                (x0 + 0.08, base[k] as f64),
                (k as f64 + 0.92, (base[k] + cs[k]) as f64),
            ];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    corners,
                    col.mix(0.85).filled(),
                )))
                .map_err(e)?;
            base[k] += cs[k];
        }
    }
    chart
        .draw_secondary_series(LineSeries::new(cum.clone(), INK.stroke_width(3)))
        .map_err(e)?;
    // A dot per month while they stay apart; beyond two years the line alone reads better.
    if months <= 24 {
        chart
            .draw_secondary_series(cum.iter().map(|p| Circle::new(*p, 4, INK.filled())))
            .map_err(e)?;
    }
    let end = cum[cum.len() - 1];
    chart
        .draw_secondary_series(std::iter::once(
            EmptyElement::at(end)
                + Text::new(
                    format!("{}%", num(end.1, 1)),
                    (-6, -10),
                    bold(19)
                        .color(&INK)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                ),
        ))
        .map_err(e)?;

    let mut entries = Vec::new();
    for (p, name) in c.pops.iter().enumerate() {
        let n: u64 = counts.get(p).map_or(0, |cs| cs.iter().sum());
        if n == 0 && c.pops.len() > 1 {
            continue;
        }
        entries.push((
            format!("{}: {} leaving", clip_text(name, 18), thousands(n as f64)),
            Key::Block(colour_index(p), 0.85),
        ));
    }
    entries.push((
        "share of the fleet out\nof the window (right axis)".into(),
        Key::Line(INK, 3),
    ));
    entries.push(("Credentials".into(), Key::Heading));
    let pct = |n: usize| format!("{}%", num(n as f64 / total as f64 * 100.0, 1));
    entries.push((
        format!(
            "out of the window now: {} ({})",
            thousands(out_now as f64),
            pct(out_now)
        ),
        Key::Note,
    ));
    entries.push((
        format!(
            "leaving by {}: {}",
            &date(bounds[months] - DAY)[..7],
            thousands((leaving.len() as u64 - later) as f64)
        ),
        Key::Note,
    ));
    if later > 0 {
        entries.push((
            format!("leaving later: {}", thousands(later as f64)),
            Key::Note,
        ));
    }
    entries.push((
        format!("no exit within the horizon: {}", thousands(staying as f64)),
        Key::Note,
    ));
    if unknown > 0 {
        entries.push((
            format!("no slope: {}", thousands(unknown as f64)),
            Key::Note,
        ));
    }
    legend_column(&leg, "Leaving, by population", &entries)
}
