//! Report-quality charts (PNG and SVG) drawn with plotters from loaded results alone
//! ([`RunData`], [`crate::results::SweepData`], [`crate::results::analyze::AnalyzeData`]), with a
//! bundled font so nothing depends on the machine's fonts.

pub mod analyze;
mod axes;
mod figures;
mod style;
pub mod sweep;

pub use figures::Figure;
pub use style::colour as figures_colour;

use crate::results::RunData;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;

/// Pixel size of every chart: 16:9, readable on a slide.
pub const WIDTH: u32 = 1600;
pub const HEIGHT: u32 = 900;

static FONTS: Once = Once::new();

/// Registers the bundled DejaVu Sans as plotters' "sans-serif" (regular and bold).
pub fn register_fonts() {
    FONTS.call_once(|| {
        let regular: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let bold: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
        // The bundled files are valid TrueType; a failure here is a build defect.
        plotters::style::register_font("sans-serif", FontStyle::Normal, regular)
            .map_err(|_| ())
            .expect("bundled font");
        plotters::style::register_font("sans-serif", FontStyle::Bold, bold)
            .map_err(|_| ())
            .expect("bundled font");
    });
}

/// Which files to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
    Both,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, String> {
        match s {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            "both" => Ok(Format::Both),
            _ => Err("expected png, svg or both".into()),
        }
    }

    /// The file extensions drawn, in the order they are written.
    pub fn extensions(self) -> Vec<&'static str> {
        match self {
            Format::Png => vec!["png"],
            Format::Svg => vec!["svg"],
            Format::Both => vec!["png", "svg"],
        }
    }
}

/// A chart as an SVG document.
pub fn render_svg(fig: Figure, d: &RunData) -> Result<String, String> {
    register_fonts();
    svg_of(|root| figures::draw(fig, d, root))
}

/// What `draw` draws on a white page of the chart size, as an SVG document (the white is a
/// rectangle first in the document, so viewers do not show it transparent).
pub(crate) fn svg_of(
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// A chart as PNG bytes.
pub fn render_png(fig: Figure, d: &RunData) -> Result<Vec<u8>, String> {
    register_fonts();
    png_of(|root| figures::draw(fig, d, root))
}

/// What `draw` draws on a white canvas of the chart size, as PNG bytes. The canvas is one per
/// thread and reused, cleared white each time: a fresh 4 MB canvas a chart cost more in
/// allocating and faulting in pages than the drawing of a small run's charts. (Figures do not
/// paint their background themselves: [`svg_of`] and this start them on white.)
pub(crate) fn png_of(
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    thread_local! {
        static CANVAS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut buf = CANVAS.with(|c| std::mem::take(&mut *c.borrow_mut()));
    buf.clear();
    buf.resize((WIDTH * HEIGHT * 3) as usize, 255);
    let drawn = (|| {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| e.to_string())
    })();
    let png = drawn.and_then(|()| encode_png(&buf));
    CANVAS.with(|c| *c.borrow_mut() = buf);
    png
}

/// An RGB buffer of the chart size as PNG bytes.
fn encode_png(buf: &[u8]) -> Result<Vec<u8>, String> {
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(buf).map_err(|e| e.to_string())?;
    }
    Ok(png_bytes)
}

/// Named files' bytes.
type Files = Vec<(String, Vec<u8>)>;

/// Every chart of a results folder in the requested formats: (file name, bytes).
pub fn render_all(d: &RunData, format: Format) -> Result<Files, String> {
    in_parallel(
        Figure::of(d.forecast.is_some()),
        format,
        |fig| fig.stem(),
        |&fig| render_png(fig, d),
        |&fig| render_svg(fig, d),
    )
}

/// Each figure's files in `format` (`stem.png`, then `stem.svg`), drawn on its own worker of
/// the current pool (PNG encoding is most of a small run's fixed cost) and handed back in the
/// figures' fixed order.
pub(crate) fn in_parallel<T: Sync>(
    figures: &[T],
    format: Format,
    stem: impl Fn(&T) -> &str + Sync,
    png: impl Fn(&T) -> Result<Vec<u8>, String> + Sync,
    svg: impl Fn(&T) -> Result<String, String> + Sync,
) -> Result<Files, String> {
    use rayon::prelude::*;
    let each: Vec<Result<Files, String>> = figures
        .par_iter()
        .with_max_len(1)
        .map(|f| {
            let mut files = Vec::new();
            if format != Format::Svg {
                files.push((format!("{}.png", stem(f)), png(f)?));
            }
            if format != Format::Png {
                files.push((format!("{}.svg", stem(f)), svg(f)?.into_bytes()));
            }
            Ok(files)
        })
        .collect();
    let mut files = Vec::new();
    for f in each {
        files.extend(f?);
    }
    Ok(files)
}

#[cfg(test)]
pub(crate) mod tests;
