//! Every chart rendered to SVG for small seeded results: titles, axis labels, one series per
//! population, no NaN coordinates, and no failure on odd shapes of data.

use super::*;
use crate::results::RunData;
use crate::scenario::Scenario;

/// Runs a scenario and loads its results back as a results folder would be.
pub(crate) fn data_for(toml: &str) -> RunData {
    let sc = Scenario::from_toml("t.toml", toml).unwrap();
    let r = crate::sim::run(&sc, 0..sc.run.tokens, &|_| {});
    let (folder, _) = crate::pipeline::run::render(
        &sc,
        (&r, None),
        crate::results::test_manifest(&sc),
        Format::Svg,
        &[],
    )
    .unwrap();
    RunData::from_files("", |f| folder.read(f)).unwrap()
}

fn population(name: &str, kind: &str, share: f64) -> String {
    format!("[[population]]\nname = \"{name}\"\nshare = {share}\ntoken = {{ kind = \"{kind}\" }}\n")
}

fn check_all(d: &RunData, expect_names: &[&str]) -> Vec<String> {
    let mut svgs = Vec::new();
    for &fig in Figure::of(false) {
        let svg = render_svg(fig, d).unwrap_or_else(|e| panic!("{fig:?}: {e}"));
        assert!(svg.contains(fig.title()), "{fig:?} has no title");
        assert!(
            svg.contains(&d.scenario.run.name),
            "{fig:?} does not name the scenario"
        );
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "{fig:?} has a NaN or infinite coordinate"
        );
        svgs.push(svg);
    }
    // Acceptance: axis labels with units, one legend entry (and one colour) per population.
    let acc = &svgs[0];
    assert!(acc.contains("Share of logins (%)") && acc.contains("Date (UTC)"));
    for (i, n) in expect_names.iter().enumerate() {
        assert!(
            acc.contains(&format!("\n{n}\n</text>")),
            "legend misses {n}"
        );
        let (r, g, b) = match crate::chart::figures_colour(d, i) {
            RGBColor(r, g, b) => (r, g, b),
        };
        assert!(
            acc.contains(&format!("#{r:02X}{g:02X}{b:02X}")),
            "no series in {n}'s colour"
        );
    }
    svgs
}

const RUN: &str =
    "[run]\nname = \"chart-test\"\nhorizon = \"120d\"\ntokens = 60\nseed = 4\nbucket = \"7d\"\n";

#[test]
fn three_populations() {
    let toml = format!(
        "{RUN}{}{}{}",
        population("phone", "phone", 0.5),
        population("hard", "hardware", 0.3),
        population("desk", "desktop", 0.2)
    );
    let d = data_for(&toml);
    let svgs = check_all(&d, &["phone", "hard", "desk", "all"]);
    assert!(svgs[2].contains("Clock error (s)"), "clock error axis");
    assert!(
        svgs[2].contains("window edge ±45s"),
        "window edge line is labelled"
    );
    assert!(svgs[1].contains("Rejected attempts per 1,000 attempts"));
    assert!(svgs[5].contains("Absolute clock error at the end (s, log scale)"));
}

#[test]
fn one_population_has_no_all_series() {
    let d = data_for(&format!("{RUN}{}", population("solo", "hardware", 1.0)));
    let svgs = check_all(&d, &["solo"]);
    assert!(!svgs[0].contains("\nall\n</text>"));
}

#[test]
fn ten_populations() {
    let mut toml = RUN.replace("tokens = 60", "tokens = 100");
    for i in 0..10 {
        toml += &population(
            &format!("pop{i}"),
            ["phone", "hardware", "desktop", "hotp"][i % 4],
            0.1,
        );
    }
    let d = data_for(&toml);
    let names: Vec<String> = (0..10).map(|i| format!("pop{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    check_all(&d, &refs);
}

#[test]
fn a_week_and_ten_years() {
    let week = RUN
        .replace("horizon = \"120d\"", "horizon = \"7d\"")
        .replace("bucket = \"7d\"", "bucket = \"6h\"");
    let d = data_for(&format!("{week}{}", population("phone", "phone", 1.0)));
    check_all(&d, &["phone"]);
    assert_eq!(d.buckets.len(), 28);
    let decade = RUN
        .replace("horizon = \"120d\"", "horizon = \"10y\"")
        .replace("bucket = \"7d\"", "bucket = \"month\"")
        .replace("tokens = 60", "tokens = 12");
    let d = data_for(&format!("{decade}{}", population("hard", "hardware", 1.0)));
    let svgs = check_all(&d, &["hard"]);
    assert!(
        svgs[0].contains("\n2030\n</text>"),
        "yearly ticks on a ten-year axis"
    );
}

#[test]
fn empty_buckets_and_no_logins() {
    // Nobody logs in: every rate is undefined and every chart still draws.
    let toml = format!(
        "{RUN}{}user = {{ logins_per_day = 0 }}\n",
        population("idle", "phone", 1.0)
    );
    let d = data_for(&toml);
    for &fig in Figure::of(false) {
        let svg = render_svg(fig, &d).unwrap();
        assert!(!svg.contains("NaN"));
    }
    // Weekend-only logins leave most daily buckets empty.
    let toml = format!(
        "{}{}user = {{ weekdays = [0, 0, 0, 0, 0, 1, 1] }}\n",
        RUN.replace("bucket = \"7d\"", "bucket = \"1d\""),
        population("weekend", "phone", 1.0)
    );
    check_all(&data_for(&toml), &["weekend"]);
}

#[test]
fn png_renders_at_slide_size() {
    let d = data_for(&format!("{RUN}{}", population("phone", "phone", 1.0)));
    let png = render_png(Figure::Acceptance, &d).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // IHDR width and height.
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), WIDTH);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), HEIGHT);
    assert_eq!(
        render_png(Figure::Acceptance, &d).unwrap(),
        png,
        "deterministic bytes"
    );
}
