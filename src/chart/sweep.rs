//! Sweep charts, drawn from sweep.csv alone: the user-failure against attacker-success
//! trade-off with its Pareto front, and a figure against one swept parameter with 95% bands.

use super::style::{bold, colour_index, e, font, house, Areas, GREY, R};
use super::{register_fonts, HEIGHT};
use crate::results::cells::get;
use crate::results::cells::thousands;
use crate::results::sweep::{all_rows, pareto, PointRow};
use crate::results::{SweepData, SweepLine};
use plotters::coord::Shift;
use plotters::prelude::*;

/// x, y, and the 95% interval of y.
type Band = (f64, f64, f64, f64);

const LEGEND_W: u32 = 420;

fn head<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    sub: &str,
) -> Result<Areas<DB>, String> {
    super::style::titled(root, title, sub, LEGEND_W)
}

fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut t = Vec::new();
    let mut x = 10f64.powf(lo.log10().floor());
    while x <= hi * 1.0001 {
        if x >= lo * 0.9999 {
            t.push(x);
        }
        x *= 10.0;
    }
    t
}

fn sci(x: f64) -> String {
    if x >= 0.01 {
        format!("{:.0}%", x * 100.0)
    } else {
        let e = x.log10().round() as i32;
        format!("1e{e}")
    }
}

/// One label on the trade-off chart: where its first point is (pixels, data), the settings
/// it names, and the rightmost point's x so far.
struct Label {
    px: (i32, i32),
    pos: (f64, f64),
    points: Vec<u32>,
    right: i32,
}

fn tradeoff<DB: DrawingBackend>(d: &SweepData, root: &DrawingArea<DB, Shift>) -> R {
    let rows = all_rows(d);
    let (plot, leg) = head(
        root,
        &format!("User failures against attacker success — {}", d.name()),
        &format!(
            "{} settings on the same fleet · one point per setting · Pareto front joined",
            rows.len()
        ),
    )?;
    if rows.is_empty() {
        return Ok(());
    }
    let floor = 1e-12;
    let xs: Vec<f64> = rows.iter().map(|r| r.attack_year.max(floor)).collect();
    let (xlo, xhi) = (
        xs.iter().cloned().fold(f64::INFINITY, f64::min) / 3.0,
        xs.iter().cloned().fold(0.0, f64::max).max(floor * 10.0) * 3.0,
    );
    // Rejection rates span orders of magnitude between good and bad settings: log scale.
    let ymax = (rows.iter().map(|r| r.rejection * 100.0).fold(0.0, f64::max) * 1.5).max(0.2);
    let ymin = (rows
        .iter()
        .map(|r| r.rejection * 100.0)
        .fold(f64::INFINITY, f64::min)
        / 1.5)
        .max(0.01);
    let yticks: Vec<f64> = [
        0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0,
    ]
    .into_iter()
    .filter(|t| *t >= ymin && *t <= ymax)
    .collect();
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(
            super::style::ticked((xlo..xhi).log_scale(), log_ticks(xlo, xhi)),
            super::style::ticked((ymin..ymax).log_scale(), yticks),
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc("Attacker success per account per year (log scale)")
        .y_desc("First-try rejection of users (%, log scale)")
        .x_label_formatter(&|x| sci(*x))
        .y_label_formatter(&|y| format!("{y}%"))
        .draw()
        .map_err(e)?;
    let front = pareto(&rows);
    let mut fp: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| front.contains(&r.point))
        .map(|r| (r.attack_year.max(floor), (r.rejection * 100.0).max(ymin)))
        .collect();
    fp.sort_by(|a, b| a.0.total_cmp(&b.0));
    let red = RGBColor(200, 30, 30);
    chart
        .draw_series(LineSeries::new(fp, red.stroke_width(2)))
        .map_err(e)?;
    // Points that land (nearly) on one another share one label, "#7, 17, 18", so that the
    // numbers stay readable where presets decide alike.
    let mut labels: Vec<Label> = Vec::new();
    let mut points = Vec::new();
    for r in &rows {
        let on = front.contains(&r.point);
        let c = if on { red } else { RGBColor(78, 121, 167) };
        let pos = (r.attack_year.max(floor), (r.rejection * 100.0).max(ymin));
        let style = if r.nist {
            c.filled()
        } else {
            c.stroke_width(3)
        };
        chart
            .draw_series(std::iter::once(Circle::new(pos, 9, style)))
            .map_err(e)?;
        points.push((chart.backend_coord(&pos), pos, r.point as u32));
    }
    // Points in a row closer than a label's width share one label, at the leftmost.
    points.sort_by_key(|p| (p.0 .0, p.2));
    for (px, pos, n) in points {
        match labels
            .iter_mut()
            .find(|l| px.0 - l.right < 44 && (l.px.1 - px.1).abs() < 12)
        {
            Some(l) => {
                l.points.push(n);
                l.right = px.0;
            }
            None => labels.push(Label {
                px,
                pos,
                points: vec![n],
                right: px.0,
            }),
        }
    }
    // A label whose box would cover one already placed moves up a line (at most two).
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    for Label {
        px,
        pos,
        mut points,
        ..
    } in labels
    {
        points.sort_unstable();
        let text = format!(
            "#{}",
            points
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let w = 11 * text.chars().count() as i32;
        let mut dy = -26;
        for _ in 0..2 {
            let (x0, y0) = (px.0 + 10, px.1 + dy);
            let clear = placed
                .iter()
                .all(|&(a, b, c, d)| x0 + w <= a || x0 >= c || y0 + 20 <= b || y0 >= d);
            if clear {
                break;
            }
            dy -= 22;
        }
        placed.push((px.0 + 10, px.1 + dy, px.0 + 10 + w, px.1 + dy + 20));
        chart
            .draw_series(std::iter::once(
                EmptyElement::at(pos) + Text::new(text, (10, dy), font(18)),
            ))
            .map_err(e)?;
    }
    // Legend: markers, then the settings (Pareto points first when there are many).
    let mut y = 24;
    leg.draw(&Circle::new((18, y + 10), 8, red.filled()))
        .map_err(e)?;
    leg.draw(&Text::new("Pareto front".to_string(), (36, y), font(18)))
        .map_err(e)?;
    y += 28;
    leg.draw(&Circle::new((18, y + 10), 8, GREY.filled()))
        .map_err(e)?;
    leg.draw(&Text::new(
        "filled: meets NIST 800-63B".to_string(),
        (36, y),
        font(18),
    ))
    .map_err(e)?;
    y += 28;
    leg.draw(&Circle::new((18, y + 10), 8, GREY.stroke_width(3)))
        .map_err(e)?;
    leg.draw(&Text::new(
        "hollow: does not".to_string(),
        (36, y),
        font(18),
    ))
    .map_err(e)?;
    y += 40;
    let mut line = |text: String, f: TextStyle<'static>| -> R {
        leg.draw(&Text::new(text, (10, y), f)).map_err(e)?;
        y += 26;
        Ok(())
    };
    let mut listed: Vec<&PointRow> = rows.iter().filter(|r| front.contains(&r.point)).collect();
    listed.extend(rows.iter().filter(|r| !front.contains(&r.point)));
    let room = ((HEIGHT as i32 - 100 - 170 - 20) / 26).max(1) as usize;
    line("Settings".to_string(), bold(19).color(&BLACK))?;
    for r in listed.iter().take(room) {
        let mut label = format!("#{} {}", r.point, r.label);
        if label.chars().count() > 38 {
            label = label.chars().take(37).collect::<String>() + "…";
        }
        line(label, font(16).color(&BLACK))?;
    }
    if listed.len() > room {
        line(
            format!(
                "… {} more in sweep.csv",
                thousands((listed.len() - room) as f64)
            ),
            font(16).color(&GREY),
        )?;
    }
    Ok(())
}

/// The parameter to draw against: the last numeric one of the block with the most points,
/// with the block's other parameters as separate lines.
fn x_param(d: &SweepData) -> Option<(usize, Vec<usize>)> {
    let all: Vec<&SweepLine> = d.table.all_lines().collect();
    let numeric = |p: usize| {
        let vals: Vec<&str> = all
            .iter()
            .map(|l| l.values[p].as_str())
            .filter(|v| !v.is_empty())
            .collect();
        vals.len() >= 2 && vals.iter().all(|v| v.parse::<f64>().is_ok())
    };
    let n = d.table.params.len();
    let x = (0..n).rev().find(|p| numeric(*p))?;
    let others = (0..n).filter(|p| *p != x).collect();
    Some((x, others))
}

fn versus<DB: DrawingBackend>(d: &SweepData, root: &DrawingArea<DB, Shift>) -> R {
    let params = &d.table.params;
    let Some((x, others)) = x_param(d) else {
        let (plot, _) = head(
            root,
            &format!("First-try acceptance by setting — {}", d.name()),
            "no numeric parameter was swept",
        )?;
        let (w, h) = plot.dim_in_pixel();
        plot.draw(&Text::new(
            "Sweep a numeric field to see a figure against it",
            (w as i32 / 2 - 280, h as i32 / 2),
            font(24).color(&GREY),
        ))
        .map_err(e)?;
        return Ok(());
    };
    let rows: Vec<&SweepLine> = d
        .table
        .all_lines()
        .filter(|l| !l.values[x].is_empty())
        .collect();
    let (plot, leg) = head(
        root,
        &format!("First-try acceptance against {} — {}", params[x], d.name()),
        "all populations · bands: 95% confidence interval, users as the unit",
    )?;
    // Group by the other parameters' values.
    let mut groups: Vec<(String, Vec<Band>)> = Vec::new();
    for r in &rows {
        let key: Vec<String> = others
            .iter()
            .filter(|p| !r.values[**p].is_empty())
            .map(|p| {
                let name = &params[*p];
                format!(
                    "{}={}",
                    name.rsplit('.').next().unwrap_or(name),
                    r.values[*p]
                )
            })
            .collect();
        let key = if key.is_empty() {
            "all".to_string()
        } else {
            key.join(", ")
        };
        let (Some(xv), Some(y), Some(lo), Some(hi)) = (
            r.values[x].parse::<f64>().ok(),
            get(r.row.first_try_acceptance_rate),
            get(r.row.first_try_acceptance_ci95_low),
            get(r.row.first_try_acceptance_ci95_high),
        ) else {
            continue;
        };
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push((xv, y * 100.0, lo * 100.0, hi * 100.0)),
            None => groups.push((key, vec![(xv, y * 100.0, lo * 100.0, hi * 100.0)])),
        }
    }
    for g in &mut groups {
        g.1.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let pts = groups.iter().flat_map(|g| g.1.iter());
    let (mut xlo, mut xhi, mut ylo, mut yhi) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in pts {
        xlo = xlo.min(p.0);
        xhi = xhi.max(p.0);
        ylo = ylo.min(p.2);
        yhi = yhi.max(p.3);
    }
    if !xlo.is_finite() {
        return Ok(());
    }
    let pad = ((xhi - xlo) * 0.05).max(0.5);
    let integers = groups
        .iter()
        .flat_map(|g| g.1.iter())
        .all(|p| p.0.fract() == 0.0);
    let xticks: Vec<f64> = if integers && xhi - xlo <= 24.0 {
        (xlo as i64..=xhi as i64).map(|v| v as f64).collect()
    } else {
        (0..=8)
            .map(|i| xlo + (xhi - xlo) * i as f64 / 8.0)
            .collect()
    };
    let ypad = ((yhi - ylo) * 0.1).max(0.1);
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(
            super::style::ticked(xlo - pad..xhi + pad, xticks),
            (ylo - ypad).max(0.0)..(yhi + ypad).min(100.0),
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 20, 22)
        .x_desc(params[x].clone())
        .x_label_formatter(&|v| {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        })
        .y_desc("First-try acceptance (%)")
        .y_label_formatter(&|y| format!("{y:.1}%"))
        .draw()
        .map_err(e)?;
    let mut y = 24;
    leg.draw(&Text::new(
        if others.is_empty() {
            "Series".to_string()
        } else {
            "Other settings".to_string()
        },
        (10, y),
        bold(19),
    ))
    .map_err(e)?;
    y += 34;
    for (k, (key, p)) in groups.iter().enumerate() {
        let c = colour_index(k);
        let mut band: Vec<(f64, f64)> = p.iter().map(|q| (q.0, q.2)).collect();
        band.extend(p.iter().rev().map(|q| (q.0, q.3)));
        chart
            .draw_series(std::iter::once(Polygon::new(band, c.mix(0.2).filled())))
            .map_err(e)?;
        // Earlier series are drawn wider, so a later one lying on top leaves them visible.
        let width = (8 - 2 * k as i32).max(2) as u32;
        chart
            .draw_series(LineSeries::new(
                p.iter().map(|q| (q.0, q.1)),
                c.stroke_width(width),
            ))
            .map_err(e)?;
        chart
            .draw_series(
                p.iter()
                    .map(|q| Circle::new((q.0, q.1), width + 3, c.filled())),
            )
            .map_err(e)?;
        if y < HEIGHT as i32 - 140 {
            leg.draw(&PathElement::new(
                vec![(10, y + 11), (50, y + 11)],
                c.stroke_width(4),
            ))
            .map_err(e)?;
            leg.draw(&Text::new(key.clone(), (60, y), font(17)))
                .map_err(e)?;
            y += 30;
        }
    }
    Ok(())
}

/// The sweep charts: (file stem, title).
pub const SWEEP_FIGURES: [(&str, &str); 2] = [
    ("tradeoff", "User failures against attacker success"),
    (
        "sweep_acceptance",
        "First-try acceptance against a swept parameter",
    ),
];

fn draw<DB: DrawingBackend>(which: &str, d: &SweepData, root: &DrawingArea<DB, Shift>) -> R {
    match which {
        "tradeoff" => tradeoff(d, root),
        _ => versus(d, root),
    }
}

/// Both sweep charts as PNG and SVG files.
pub fn render_sweep(d: &SweepData) -> Result<Vec<(String, Vec<u8>)>, String> {
    register_fonts();
    super::in_parallel(
        &SWEEP_FIGURES,
        super::Format::Both,
        |(stem, _)| stem,
        |&(stem, _)| super::png_of(|root| draw(stem, d, root)),
        |&(stem, _)| super::svg_of(|root| draw(stem, d, root)),
    )
}
