//! One horizontal bar per category, labelled on the left with its count at the
//! bar's end. A suppressed count has no bar and shows `<k`. The SVG scales to its
//! container (`viewBox`, no fixed width), so it reads on a phone.

use plotters::prelude::{DrawingBackend, IntoFont, RGBColor, SVGBackend, TextStyle};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::domain::report::publish::Chart;
use crate::error::{AppError, AppResult};

const WIDTH: u32 = 640;
const ROW: u32 = 26;
const TOP: u32 = 8;
const LABEL_W: i32 = 230;
const VALUE_W: i32 = 56;
const BAR: RGBColor = RGBColor(41, 97, 158);
const INK: RGBColor = RGBColor(26, 26, 26);
const AXIS: RGBColor = RGBColor(170, 170, 170);

/// Labels longer than this many characters are cut with an ellipsis (the table
/// beside the chart has them whole).
const LABEL_CHARS: usize = 34;

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let kept: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{}…", kept.trim_end())
    }
}

fn err(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("chart: {e}"))
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart) -> AppResult<String> {
    let height = TOP * 2 + ROW * chart.bars.len().max(1) as u32;
    let mut out = String::new();
    {
        let mut backend = SVGBackend::with_string(&mut out, (WIDTH, height));
        let font = ("sans-serif", 16.0).into_font();
        let left =
            TextStyle::from(font.clone()).color(&INK).pos(Pos::new(HPos::Right, VPos::Center));
        let right = TextStyle::from(font).color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
        let max = chart.bars.iter().filter_map(|b| b.value).max().unwrap_or(0).max(1);
        let plot_w = WIDTH as i32 - LABEL_W - VALUE_W - 8;
        for (i, bar) in chart.bars.iter().enumerate() {
            let top = (TOP + ROW * i as u32) as i32;
            let middle = top + ROW as i32 / 2;
            backend.draw_text(&short(&bar.label), &left, (LABEL_W - 8, middle)).map_err(err)?;
            let length = bar.value.map(|v| (v * i64::from(plot_w) / max) as i32).unwrap_or(0);
            if length > 0 {
                backend
                    .draw_rect(
                        (LABEL_W, top + 4),
                        (LABEL_W + length, top + ROW as i32 - 4),
                        &BAR,
                        true,
                    )
                    .map_err(err)?;
            }
            backend.draw_text(&bar.shown, &right, (LABEL_W + length + 6, middle)).map_err(err)?;
        }
        backend
            .draw_line((LABEL_W, TOP as i32), (LABEL_W, height as i32 - TOP as i32), &AXIS)
            .map_err(err)?;
        backend.present().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::publish::Bar;

    #[test]
    fn bars_are_as_long_as_their_counts_and_hidden_ones_have_none() {
        let chart = Chart {
            title: "What is your gender?".into(),
            bars: vec![
                Bar { label: "Female".into(), value: Some(14), shown: "14".into() },
                Bar { label: "Male & other <genders>".into(), value: Some(7), shown: "7".into() },
                Bar { label: "Non-binary".into(), value: None, shown: "<5".into() },
            ],
        };
        let svg = svg(&chart).unwrap_or_else(|e| panic!("{e}"));
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2, "no bar for the hidden count: {svg}");
        assert!(svg.contains("Male &amp; other &lt;genders&gt;"), "labels are escaped: {svg}");
        assert!(svg.contains("&lt;5"), "{svg}");
        let widths: Vec<f64> = svg
            .split("<rect")
            .skip(1)
            .filter_map(|r| r.split("width=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect();
        assert_eq!(widths.len(), 2);
        assert!((widths[0] / widths[1] - 2.0).abs() < 0.05, "14 is twice 7: {widths:?}");
    }

    #[test]
    fn long_labels_are_shortened() {
        assert_eq!(short("Short"), "Short");
        let long = short(&"word ".repeat(20));
        assert!(long.ends_with('…') && long.chars().count() <= LABEL_CHARS);
    }
}
