//! A twin run's forecast: the expected helpdesk tickets per bucket over the replicates, with
//! the band that 90% of them fall in, and the actual run's tickets for one draw.

use super::*;
use crate::time::Millis;

pub(super) fn tickets<DB: DrawingBackend>(d: &RunData, root: &DrawingArea<DB, Shift>) -> R {
    let Some(f) = d.forecast.as_ref() else {
        return no_data(root, "Not a twin run (run --fleet)");
    };
    let reps = d.manifest.facts.fleet().map_or(0, |fl| fl.replicates);
    let (plot, leg) = frame(
        root,
        Figure::ForecastTickets,
        d,
        &format!("{} replicates", thousands(reps as f64)),
    )?;
    let start = d.scenario.run.start;
    let x = |t: Millis| (t - start) as f64 / DAY as f64;
    let mids: Vec<f64> = f
        .tickets
        .iter()
        .map(|r| 0.5 * (x(r.bucket_start.0) + x(r.bucket_end.0)))
        .collect();
    let top = f
        .tickets
        .iter()
        .map(|r| r.p95.0.max(r.expected.0))
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(&plot)
        .margin(18)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(ticked(0.0..span_days(d), time_ticks(d, 8)), 0.0..top)
        .map_err(e)?;
    house(&mut chart.configure_mesh(), 18, 20)
        .x_desc("Date (UTC)")
        .y_desc(format!("Tickets per {}", bucket_word(d)))
        .x_label_formatter(&|x| day_label(d, *x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_labels(8)
        .draw()
        .map_err(e)?;
    let c = RGBColor(40, 90, 170);
    let mut band: Vec<(f64, f64)> = mids
        .iter()
        .zip(&f.tickets)
        .map(|(m, r)| (*m, r.p05.0))
        .collect();
    band.extend(
        mids.iter()
            .zip(&f.tickets)
            .rev()
            .map(|(m, r)| (*m, r.p95.0)),
    );
    chart
        .draw_series(std::iter::once(Polygon::new(band, c.mix(0.22).filled())))
        .map_err(e)?;
    event_marks(&mut chart, d, (0.0, top))?;
    chart
        .draw_series(LineSeries::new(
            mids.iter().zip(&f.tickets).map(|(m, r)| (*m, r.expected.0)),
            c.stroke_width(3),
        ))
        .map_err(e)?;
    // The run's own draw (replicate 0), all populations.
    let run: Vec<(f64, f64)> = mids
        .iter()
        .zip(count(d, d.populations(), |c| c.tickets))
        .map(|(m, v)| (*m, v.unwrap_or(0.0)))
        .collect();
    chart
        .draw_series(run.iter().map(|p| Circle::new(*p, 4, GREY.filled())))
        .map_err(e)?;
    let mut entries = vec![
        ("expected (mean)".to_string(), Mark::Line(c, 3)),
        ("90% of replicates".to_string(), Mark::Block(c, 0.22)),
        ("this run (one draw)".to_string(), Mark::Block(GREY, 0.9)),
    ];
    entries.extend(event_entries(d));
    legend(&leg, "Helpdesk tickets", &entries)
}

/// "week", "day", "month" or the bucket's length, for an axis.
fn bucket_word(d: &RunData) -> String {
    match d.scenario.run.bucket {
        crate::metrics::Bucket::Month => "month".into(),
        crate::metrics::Bucket::Fixed { ms } if ms == 7 * DAY => "week".into(),
        crate::metrics::Bucket::Fixed { ms } if ms == DAY => "day".into(),
        crate::metrics::Bucket::Fixed { ms } => {
            format!("{} bucket", format_duration(ms as f64 / 1000.0))
        }
    }
}
