//! `drift_worst`: small multiples of the charted credentials' observations, fits,
//! extrapolations, window edges and exit intervals.

use super::*;

// ---- drift_worst ----------------------------------------------------------------------------

/// What the panels drew, so the shared legend lists only that.
#[derive(Default)]
pub(super) struct Drawn {
    outliers: bool,
    extrapolation: bool,
    exit: bool,
    band: bool,
    steps: bool,
    clipped: bool,
}

pub(super) fn worst<DB: DrawingBackend>(c: &Ctx, root: &DrawingArea<DB, Shift>) -> R {
    let mut creds: Vec<&str> = Vec::new();
    for o in &c.d.observations {
        if !creds.contains(&o.credential.as_str()) {
            if creds.len() == MAX_PANELS {
                break;
            }
            creds.push(&o.credential);
        }
    }
    let note = match creds.len() {
        0 => String::new(),
        1 => "the credential the analysis charted".to_string(),
        n => format!("the {n} credentials the analysis charted, in its order"),
    };
    let (body, _) = c.frame(root, "drift_worst", &[note], 0)?;
    if creds.is_empty() {
        return no_data(
            &body,
            "No observations to chart: the analysis charted no credential",
        );
    }
    let (_, h) = body.dim_in_pixel();
    let (grid, strip) = body.split_vertically(h - STRIP_H);
    let (rows, cols) = match creds.len() {
        1 => (1, 1),
        2 => (1, 2),
        3 => (1, 3),
        4 => (2, 2),
        _ => (2, 3),
    };
    let panels = grid.split_evenly((rows, cols));
    let mut drawn = Drawn::default();
    let mut pops: Vec<String> = Vec::new();
    for (k, cred) in creds.iter().enumerate() {
        let row = c.d.credentials.iter().find(|r| r.credential == *cred);
        let pop = row.map_or(String::new(), |r| r.population.clone());
        if !pops.contains(&pop) {
            pops.push(pop);
        }
        let bottom = k + cols >= creds.len();
        panel(
            c,
            &panels[k],
            cred,
            row,
            cols,
            bottom,
            k % cols == 0,
            &mut drawn,
        )?;
    }
    pops.sort_by_key(|p| c.pops.iter().position(|q| q == p));
    let mut entries: Vec<(String, Key)> = Vec::new();
    for p in &pops {
        let label = if pops.len() == 1 || p.is_empty() {
            "observation (offset interval)".to_string()
        } else {
            format!("observation, {p}")
        };
        entries.push((label, Key::VBar(c.colour(p))));
    }
    if drawn.outliers {
        entries.push(("outlier (set aside)".into(), Key::VBar(GREY)));
    }
    entries.push(("fitted line".into(), Key::Line(INK, 3)));
    if drawn.extrapolation {
        entries.push(("extrapolated".into(), Key::Dashed(INK)));
    }
    entries.push((
        format!(
            "window edges ({} / {})",
            seconds(c.edges.0),
            seconds(c.edges.1)
        ),
        Key::Dashed(RED),
    ));
    if drawn.exit {
        entries.push(("predicted exit".into(), Key::Dot(RED)));
    }
    if drawn.band {
        entries.push(("exit, 95% interval".into(), Key::Block(RED, 0.18)));
    }
    if drawn.steps {
        entries.push(("clock step".into(), Key::Dashed(GREY)));
    }
    if drawn.clipped {
        entries.push(("outlier off scale".into(), Key::Triangle(GREY)));
    }
    legend_row(&strip, &entries)
}

/// The panel's two caption lines: credential and population; ppm with its interval and exit.
pub(super) fn caption<DB: DrawingBackend>(
    head: &DrawingArea<DB, Shift>,
    x: i32,
    cred: &str,
    row: Option<&DriftRow>,
    colour: RGBColor,
) -> R {
    let (w, _) = head.dim_in_pixel();
    let room = w as i32 - x - 10;
    let name = bold(19).color(&BLACK);
    let cred = clip_text(cred, 40);
    head.draw(&Text::new(cred.clone(), (x, 8), name.clone()))
        .map_err(e)?;
    if let Some(r) = row.filter(|r| !r.population.is_empty()) {
        let (tw, _) = head.estimate_text_size(&cred, &name).map_err(e)?;
        head.draw(&Text::new(
            format!("· {}", r.population),
            (x + tw as i32 + 8, 9),
            font(17).color(&colour),
        ))
        .map_err(e)?;
    }
    let Some(r) = row else {
        return Ok(());
    };
    let ppm = match (get(r.ppm), get(r.ppm_ci95_low), get(r.ppm_ci95_high)) {
        (Some(p), Some(lo), Some(hi)) => {
            vec![
                format!(
                    "{} ppm (95%: {} to {})",
                    signed(p, 2),
                    signed(lo, 2),
                    signed(hi, 2)
                ),
                format!(
                    "{} ppm [{}, {}]",
                    signed(p, 2),
                    signed(lo, 2),
                    signed(hi, 2)
                ),
            ]
        }
        (Some(p), ..) => vec![format!("{} ppm", signed(p, 2))],
        _ => vec!["no slope".to_string()],
    };
    let exit = match (r.status.as_str(), r.exit) {
        ("out_now", _) => vec!["out of the window now".to_string(), "out now".to_string()],
        ("leaving", Some(t)) => vec![format!("exits {}", date(t.0)), date(t.0)],
        ("staying", _) => vec![
            "no exit within the horizon".to_string(),
            "no exit in horizon".to_string(),
        ],
        _ => vec!["exit unknown".to_string()],
    };
    let style = font(16).color(&BLACK);
    let mut text = String::new();
    // The longest wording that fits the panel.
    'fit: for p in &ppm {
        for x in &exit {
            text = format!("{p} · {x}");
            let (tw, _) = head.estimate_text_size(&text, &style).map_err(e)?;
            if tw as i32 <= room {
                break 'fit;
            }
        }
    }
    head.draw(&Text::new(text, (x, 34), style)).map_err(e)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn panel<DB: DrawingBackend>(
    c: &Ctx,
    area: &DrawingArea<DB, Shift>,
    cred: &str,
    row: Option<&DriftRow>,
    cols: usize,
    bottom: bool,
    left: bool,
    drawn: &mut Drawn,
) -> R {
    let mut obs: Vec<&ObservationRow> =
        c.d.observations
            .iter()
            .filter(|o| o.credential == cred)
            .collect();
    obs.sort_by_key(|o| o.time);
    let pop = row.map_or("", |r| r.population.as_str());
    let colour = c.colour(pop);
    let y_label_w = 84;
    let (head, plot) = area.split_vertically(58);
    caption(&head, y_label_w + 14, cred, row, colour)?;

    let now = c.now;
    let (t0, t_last) = (obs[0].time.0, obs[obs.len() - 1].time.0);
    let ppm = row.and_then(|r| get(r.ppm));
    let off_now = row.and_then(|r| get(r.offset_now_s));
    let status = row.map_or("unknown", |r| r.status.as_str());
    let exit = row
        .filter(|_| status == "leaving")
        .and_then(|r| r.exit)
        .map(|t| t.0);
    let early = row.and_then(|r| r.exit_ci95_early).map(|t| t.0);
    let late = row.and_then(|r| r.exit_ci95_late).map(|t| t.0);

    // Time range: the observations, now, and the exit with its interval, but never more than
    // the observed span (at least half a year) past now, so the data keeps most of the width.
    let span = (t_last - t0).max(DAY);
    let anchor = now.max(t_last);
    let cap = anchor + span.max(182 * DAY);
    let mut end = anchor + span / 12;
    if let Some(x) = exit {
        end = end.max(x + span / 12);
    }
    if let Some(l) = late.filter(|_| exit.is_some()) {
        end = end.max(l + span / 24);
    }
    let end = end.min(cap);
    let start = t0 - span / 40;
    let xd = |t: Millis| (t - start) as f64 / DAY as f64;
    let xr = (0.0, xd(end));

    // The offset the fitted line predicts at `t`, from the offset now and the slope.
    let line_at =
        |t: Millis| -> Option<f64> { Some(off_now? + ppm? * 1e-6 * (t - now) as f64 / 1000.0) };
    let hit_edge = if ppm.unwrap_or(0.0) >= 0.0 {
        c.edges.1
    } else {
        c.edges.0
    };
    let stop = match status {
        "leaving" => exit.unwrap_or(end).min(end),
        "out_now" => now,
        _ => end,
    };
    let extrapolated: Option<[(f64, f64); 2]> = match (line_at(t_last), line_at(stop)) {
        (Some(a), Some(b)) if stop > t_last => Some([
            (xd(t_last), a),
            (xd(stop), if exit == Some(stop) { hit_edge } else { b }),
        ]),
        _ => None,
    };

    // Offset range: the current segment, the window and the extrapolation always; earlier
    // segments too unless a big clock step would squash the current one flat.
    let current = obs.iter().rev().find_map(|o| o.segment);
    let mut core = vec![c.edges.0, c.edges.1];
    core.extend(off_now);
    if let Some(ex) = &extrapolated {
        core.extend([ex[0].1, ex[1].1]);
    }
    let mut full = core.clone();
    for o in &obs {
        if o.segment.is_none() {
            continue;
        }
        let v = [o.low_s.0, o.high_s.0];
        if o.segment == current {
            core.extend(v);
        }
        full.extend(v);
        full.extend(get(o.fit_s));
    }
    let minmax = |v: &[f64]| {
        v.iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(*x), b.max(*x))
            })
    };
    let (clo, chi) = minmax(&core);
    let (flo, fhi) = minmax(&full);
    let (lo, hi) = if fhi - flo <= 2.5 * (chi - clo).max(1.0) {
        (flo, fhi)
    } else {
        (clo, chi)
    };
    let pad = ((hi - lo) * 0.07).max(2.0);
    let yr = (lo - pad, hi + pad);

    let (yticks, decimals) = lin_ticks(yr.0, yr.1, 6);
    let xmax = match cols {
        1 => 12,
        2 => 7,
        _ => 5,
    };
    let axis_span = days_between(start, end);
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(6)
        .margin_right(22)
        .margin_top(4)
        .margin_bottom(6)
        .x_label_area_size(if bottom { 58 } else { 32 })
        .y_label_area_size(y_label_w)
        .build_cartesian_2d(
            ticked(xr.0..xr.1, date_ticks(start, end, xmax)),
            ticked(yr.0..yr.1, yticks),
        )
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 15, 17)
        .x_desc(if bottom { "Date (UTC)" } else { "" })
        .y_desc(if left { "Clock offset (s)" } else { "" })
        .x_label_formatter(&|x| date_label(start, axis_span, *x))
        .y_label_formatter(&|y| num(*y, decimals))
        .draw()
        .map_err(e)?;

    // The exit's 95% interval: a light band over the panel and a bracket on the edge.
    if let (Some(a), true) = (early, exit.is_some() || status == "staying") {
        let b = late.unwrap_or(end).min(end);
        if a < end && b > a {
            let (x0, x1) = (xd(a).max(xr.0), xd(b).min(xr.1));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, yr.0), (x1, yr.1)],
                    RED.mix(0.08).filled(),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (x0, hit_edge - (yr.1 - yr.0) * 0.012),
                        (x1, hit_edge + (yr.1 - yr.0) * 0.012),
                    ],
                    RED.mix(0.35).filled(),
                )))
                .map_err(e)?;
            drawn.band = true;
        }
    }
    // Lines first, labels last: the placer keeps labels off each other.
    let (px, py) = chart.plotting_area().get_pixel_range();
    let mut labels = Placer {
        bounds: (px.start, py.start, px.end, py.end),
        taken: Vec::new(),
    };
    let mut texts: Vec<Label> = Vec::new();
    let small = font(14).color(&GREY);
    let top = py.start + 4;
    if (xr.0..=xr.1).contains(&xd(now)) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(xd(now), yr.0), (xd(now), yr.1)],
                GREY.stroke_width(1),
            )))
            .map_err(e)?;
        let x = chart.backend_coord(&(xd(now), yr.1)).0;
        let (w, _) = area.estimate_text_size("now", &small).map_err(e)?;
        texts.push((
            vec![(x - w as i32 - 5, top), (x + 5, top)],
            "now".into(),
            small.clone(),
            false,
        ));
    }
    for edge in [c.edges.0, c.edges.1] {
        if edge > yr.0 && edge < yr.1 {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xr.0, edge), (xr.1, edge)],
                    10,
                    7,
                    RED.stroke_width(2),
                ))
                .map_err(e)?;
        }
    }
    // Clock steps: a dashed grey line between the last observation before and the first after.
    for s in c.d.steps.iter().filter(|s| s.credential == cred) {
        let x = xd((s.not_before.0 + s.not_after.0) / 2);
        if !(xr.0..=xr.1).contains(&x) {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, yr.0), (x, yr.1)],
                5,
                4,
                GREY.stroke_width(1),
            ))
            .map_err(e)?;
        let text = format!("step {}", seconds(s.size_s.0));
        let (w, h) = area.estimate_text_size(&text, &small).map_err(e)?;
        let (w, h) = (w as i32, h as i32);
        let px = chart.backend_coord(&(x, yr.0)).0;
        let low = py.end - h - 5;
        texts.push((
            vec![
                (px + 5, low),
                (px - w - 5, low),
                (px + 5, top),
                (px - w - 5, top),
            ],
            text,
            small.clone(),
            false,
        ));
        drawn.steps = true;
    }
    // Observations: a bar over each interval, grey for outliers. An outlier wholly off scale
    // gets a triangle at the border; fitted observations off scale (an earlier segment beyond
    // a large step) are counted in a note instead of a row of triangles.
    let mut bars = Vec::new();
    let mut off_scale = Vec::new();
    let mut hidden: Vec<(f64, f64)> = Vec::new();
    for o in &obs {
        let (l, h) = (o.low_s.0.min(o.high_s.0), o.low_s.0.max(o.high_s.0));
        let col = if o.segment.is_some() { colour } else { GREY };
        drawn.outliers |= o.segment.is_none();
        let x = xd(o.time.0);
        if h < yr.0 || l > yr.1 {
            if o.segment.is_some() {
                hidden.push((x, 0.5 * (l + h)));
            } else {
                let y = if h < yr.0 { yr.0 } else { yr.1 };
                off_scale.push(TriangleMarker::new((x, y), 5, GREY.stroke_width(1)));
            }
            continue;
        }
        let (l, h) = (l.max(yr.0), h.min(yr.1));
        // A measured offset (no interval) would be an invisible bar: a short thick one.
        let (l, h, w) = if h - l < (yr.1 - yr.0) * 0.004 {
            let m = 0.5 * (l + h);
            (m - (yr.1 - yr.0) * 0.006, m + (yr.1 - yr.0) * 0.006, 3)
        } else {
            (l, h, 2)
        };
        bars.push(PathElement::new(
            vec![(x, l), (x, h)],
            col.mix(0.55).stroke_width(w),
        ));
    }
    chart.draw_series(bars).map_err(e)?;
    drawn.clipped |= !off_scale.is_empty();
    chart.draw_series(off_scale).map_err(e)?;
    if !hidden.is_empty() {
        let mean = hidden.iter().map(|h| h.1).sum::<f64>() / hidden.len() as f64;
        let below = mean < yr.0;
        let text = format!(
            "{} {} observations off scale, near {} s",
            if below { "↓" } else { "↑" },
            thousands(hidden.len() as f64),
            num(mean, 0)
        );
        let style = font(15).color(&RGBColor(80, 80, 80));
        let (w, h) = area.estimate_text_size(&text, &style).map_err(e)?;
        let (w, h) = (w as i32, h as i32);
        // Clear of the outlier triangles on the border.
        let y = if below { py.end - h - 10 } else { top + 6 };
        let mid = hidden.iter().map(|h| h.0).sum::<f64>() / hidden.len() as f64;
        let cx = (chart.backend_coord(&(mid, yr.0)).0 - w / 2).clamp(px.start + 6, px.end - w - 6);
        texts.push((
            vec![cx, px.start + 6, px.end - w - 6]
                .into_iter()
                .map(|x| (x, y))
                .collect(),
            text,
            style,
            true,
        ));
    }
    // The fitted line of each segment.
    let mut fits: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for o in &obs {
        if let (Some(s), Some(f)) = (o.segment, get(o.fit_s)) {
            fits.entry(s).or_default().push((xd(o.time.0), f));
        }
    }
    for pts in fits.values() {
        for run in clip_polyline(pts, xr, yr) {
            chart
                .draw_series(LineSeries::new(run, INK.stroke_width(3)))
                .map_err(e)?;
        }
    }
    if let Some([a, b]) = extrapolated {
        if let Some((p, q)) = clip(a, b, xr, yr) {
            chart
                .draw_series(DashedLineSeries::new(vec![p, q], 9, 6, INK.stroke_width(2)))
                .map_err(e)?;
            drawn.extrapolation = true;
        }
    }
    // The exit on the edge, or a pointer to it when it lies past the panel.
    if let Some(x) = exit {
        if x <= end {
            chart
                .draw_series([
                    Circle::new((xd(x), hit_edge), 8, WHITE.filled()),
                    Circle::new((xd(x), hit_edge), 6, RED.filled()),
                ])
                .map_err(e)?;
            drawn.exit = true;
        } else {
            let text = format!("exit {} →", date(x));
            let style = font(15).color(&RED);
            let (w, h) = area.estimate_text_size(&text, &style).map_err(e)?;
            let (w, h) = (w as i32, h as i32);
            let ey = chart.backend_coord(&(xr.1, hit_edge)).1;
            let x0 = px.end - w - 6;
            let order = if hit_edge > 0.5 * (yr.0 + yr.1) {
                vec![(x0, ey + 6), (x0, ey - h - 6)]
            } else {
                vec![(x0, ey - h - 6), (x0, ey + 6)]
            };
            texts.push((order, text, style, true));
        }
    }
    // The off-scale note and the exit pointer go first and are drawn even when crowded; the
    // now and step labels give way to them.
    texts.sort_by_key(|t| !t.3);
    let base = area.get_base_pixel();
    for (cands, text, style, must) in texts {
        let size = area.estimate_text_size(&text, &style).map_err(e)?;
        let at = labels.place(&cands, size).or(must.then_some(cands[0]));
        if let Some((x, y)) = at {
            area.draw(&Text::new(text, (x - base.0, y - base.1), style))
                .map_err(e)?;
        }
    }
    Ok(())
}

/// A label to place: candidate top-left corners (backend pixels) in order of preference, the
/// text, its style, and whether it is drawn even where it collides.
type Label<'a> = (Vec<(i32, i32)>, String, TextStyle<'a>, bool);

/// Text boxes (backend pixels) already placed in a panel, so the next label goes where it
/// covers none of them.
pub(super) struct Placer {
    bounds: (i32, i32, i32, i32),
    taken: Vec<(i32, i32, i32, i32)>,
}

impl Placer {
    /// The first candidate top-left corner whose box lies inside the plot and clear of the
    /// labels placed so far.
    fn place(&mut self, cands: &[(i32, i32)], (w, h): (u32, u32)) -> Option<(i32, i32)> {
        let (b, taken) = (self.bounds, &self.taken);
        let found = cands.iter().copied().find(|&(x, y)| {
            let r = (x, y, x + w as i32, y + h as i32);
            let inside = r.0 >= b.0 && r.1 >= b.1 && r.2 <= b.2 && r.3 <= b.3;
            inside
                && taken
                    .iter()
                    .all(|t| r.2 + 6 <= t.0 || t.2 + 6 <= r.0 || r.3 + 3 <= t.1 || t.3 + 3 <= r.1)
        })?;
        self.taken
            .push((found.0, found.1, found.0 + w as i32, found.1 + h as i32));
        Some(found)
    }
}
