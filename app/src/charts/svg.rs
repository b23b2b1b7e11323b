//! Draws usage series into SVG text with plotters. The browser measures and renders the text
//! (no font files in the WASM), and `style/charts.css` maps the marker colours below to the
//! theme's colours, so one drawing reads well in light and dark mode.
use plotters::prelude::*;

use crate::model::UsageDay;

/// Axis lines and labels; CSS paints them in the theme's muted text colour.
pub const AXIS_COLOR: RGBColor = RGBColor(0x01, 0x01, 0x01);
/// Horizontal grid lines; CSS paints them in the theme's border colour.
pub const GRID_COLOR: RGBColor = RGBColor(0x02, 0x02, 0x02);
/// Pull bars (CSS: `--chart-pulls`).
pub const PULLS_COLOR: RGBColor = RGBColor(0x1A, 0x5C, 0xA3);
/// The storage area and its border (CSS: `--chart-storage`).
pub const STORAGE_COLOR: RGBColor = RGBColor(0x1F, 0x7A, 0x43);

/// Narrowest and widest drawings, in CSS pixels.
pub const MIN_WIDTH: u32 = 260;
pub const MAX_WIDTH: u32 = 1600;
/// Height of every chart, in CSS pixels.
pub const HEIGHT: u32 = 240;

const FONT: (&str, u32) = ("sans-serif", 15);

/// `Mar 10` for `2026-03-10` (the input as given when it is not such a date).
pub fn short_date(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = date.split('-').skip(1);
    let month = parts.next().and_then(|m| m.parse::<usize>().ok());
    let day = parts.next().and_then(|d| d.parse::<u32>().ok());
    match (month, day) {
        (Some(m @ 1..=12), Some(d)) => format!("{} {d}", MONTHS[m - 1]),
        _ => date.to_string(),
    }
}

/// The label of day `x` (an index into `days`), or nothing between days.
fn day_label(days: &[UsageDay], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    days.get(i as usize)
        .map(|d| short_date(&d.date))
        .unwrap_or_default()
}

/// How many day labels fit under a chart `width` pixels wide.
fn x_label_count(width: u32, days: usize) -> usize {
    ((width / 90) as usize).clamp(2, 12).min(days.max(1))
}

/// A round upper bound for the y axis, at least 1.
fn y_top(max: u64) -> u64 {
    if max < 5 {
        return max.max(1) + 1;
    }
    let mut step = 1u64;
    while step * 10 <= max {
        step *= 10;
    }
    let nice = [1, 2, 5, 10]
        .iter()
        .map(|m| m * step)
        .find(|candidate| *candidate >= max + max / 10)
        .unwrap_or(10 * step);
    nice.max(max + 1)
}

/// The largest binary unit not above `max` bytes: (bytes per unit, its name).
fn byte_unit(max: u64) -> (u64, &'static str) {
    const UNITS: [(u64, &str); 6] = [
        (1 << 50, "PiB"),
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
        (1, "B"),
    ];
    UNITS
        .into_iter()
        .find(|(size, _)| max >= *size)
        .unwrap_or((1, "B"))
}

/// `20 KiB`, `2.5 MiB`: an axis value counted in `unit`.
fn unit_label(value: f64, unit: &str) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

fn failed<E: std::fmt::Debug>(err: E) -> String {
    format!("could not draw the chart: {err:?}")
}

/// Pulls per day as bars, `width` × [`HEIGHT`].
pub fn pulls_svg(days: &[UsageDay], width: u32) -> Result<String, String> {
    let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
    let max = days.iter().map(|d| d.downloads).max().unwrap_or(0);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, HEIGHT)).into_drawing_area();
        let n = days.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_right(14)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0u64..y_top(max))
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID_COLOR)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS_COLOR)
            .label_style(FONT.into_font().color(&AXIS_COLOR))
            .x_labels(x_label_count(width, days.len()))
            .x_label_formatter(&|x| day_label(days, *x))
            .y_labels(5)
            .y_label_formatter(&|y| y.to_string())
            .draw()
            .map_err(failed)?;
        // Bars leave a gap between days, but never vanish on long ranges.
        let half = 0.38f64
            .min(0.5 - 0.5 / (width as f64 / n).max(2.0))
            .max(0.3);
        chart
            .draw_series(
                days.iter()
                    .enumerate()
                    .filter(|(_, d)| d.downloads > 0)
                    .map(|(i, d)| {
                        let x = i as f64;
                        Rectangle::new(
                            [(x - half, 0), (x + half, d.downloads)],
                            PULLS_COLOR.filled(),
                        )
                    }),
            )
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(out)
}

/// Bytes stored at the end of each day as an area, `width` × [`HEIGHT`].
pub fn storage_svg(days: &[UsageDay], width: u32) -> Result<String, String> {
    let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
    let max = days.iter().map(|d| d.bytes_total).max().unwrap_or(0);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, HEIGHT)).into_drawing_area();
        let n = days.len().max(2) as f64;
        // The axis counts in one binary unit, so its ticks are round (10 KiB, 20 KiB, …).
        let (unit, unit_name) = byte_unit(max);
        let top = y_top(max.div_ceil(unit)) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_right(14)
            .x_label_area_size(28)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..n - 1.0, 0f64..top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID_COLOR)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS_COLOR)
            .label_style(FONT.into_font().color(&AXIS_COLOR))
            .x_labels(x_label_count(width, days.len()))
            .x_label_formatter(&|x| day_label(days, *x))
            .y_labels(5)
            .y_label_formatter(&|y| unit_label(*y, unit_name))
            .draw()
            .map_err(failed)?;
        let in_units = |bytes: u64| bytes as f64 / unit as f64;
        let points: Vec<(f64, f64)> = if days.len() == 1 {
            // One day: a flat band across the chart.
            let y = in_units(days[0].bytes_total);
            vec![(0.0, y), (1.0, y)]
        } else {
            days.iter()
                .enumerate()
                .map(|(i, d)| (i as f64, in_units(d.bytes_total)))
                .collect()
        };
        chart
            .draw_series(
                AreaSeries::new(points, 0.0, STORAGE_COLOR.mix(0.25))
                    .border_style(STORAGE_COLOR.stroke_width(2)),
            )
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[(u64, u64)]) -> Vec<UsageDay> {
        values
            .iter()
            .enumerate()
            .map(|(i, (downloads, bytes))| UsageDay {
                date: format!("2026-03-{:02}", i + 1),
                downloads: *downloads,
                bytes_total: *bytes,
            })
            .collect()
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn dates_are_short() {
        assert_eq!(short_date("2026-03-09"), "Mar 9");
        assert_eq!(short_date("2026-12-31"), "Dec 31");
        assert_eq!(short_date("garbage"), "garbage");
        assert_eq!(short_date("2026-13-01"), "2026-13-01");
    }

    #[test]
    fn y_axis_tops_are_round_and_above_the_data() {
        assert_eq!(y_top(0), 2);
        assert_eq!(y_top(3), 4);
        assert_eq!(y_top(9), 10);
        assert_eq!(y_top(47), 100);
        assert_eq!(y_top(120), 200);
        assert_eq!(y_top(1_000_000), 2_000_000);
        for max in [5, 17, 99, 450, 999_999] {
            assert!(y_top(max) > max, "{max}");
        }
    }

    #[test]
    fn one_bar_per_day_with_pulls() {
        let days = series(&[(0, 0), (3, 0), (0, 0), (1, 0), (7, 0)]);
        let svg = pulls_svg(&days, 640).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("width=\"640\""));
        assert_eq!(count(&svg, "fill=\"#1A5CA3\""), 3, "{svg}");
        assert!(svg.contains(">\nMar 1\n</text>"), "{svg}");
        assert!(svg.contains(">\nMar 5\n</text>"), "{svg}");
        // The y axis reaches above the busiest day (7): its top label is 10.
        assert!(svg.contains(">\n10\n</text>"), "{svg}");
        // An empty series still draws (an empty frame) without bars.
        let quiet = pulls_svg(&series(&[(0, 0); 30]), 640).unwrap();
        assert_eq!(count(&quiet, "fill=\"#1A5CA3\""), 0);
    }

    #[test]
    fn widths_are_clamped_and_long_ranges_draw() {
        let days = series(&[(1, 0); 365]);
        let svg = pulls_svg(&days, 10).unwrap();
        assert!(svg.contains(&format!("width=\"{MIN_WIDTH}\"")));
        assert_eq!(count(&svg, "fill=\"#1A5CA3\""), 365);
    }

    #[test]
    fn storage_is_an_area_with_byte_labels() {
        let days = series(&[
            (0, 1024),
            (0, 1024),
            (0, 3 * 1024 * 1024),
            (0, 5 * 1024 * 1024),
        ]);
        let svg = storage_svg(&days, 800).unwrap();
        assert!(svg.contains("#1F7A43"), "{svg}");
        // Ticks are round numbers of the largest unit (5 MiB → 0, 2, 4, 6 MiB).
        assert!(svg.contains(">\n6 MiB\n</text>"), "{svg}");
        assert!(svg.contains(">\n0 MiB\n</text>"), "{svg}");
        assert_eq!(byte_unit(0), (1, "B"));
        assert_eq!(byte_unit(1023), (1, "B"));
        assert_eq!(byte_unit(36 * 1024), (1024, "KiB"));
        assert_eq!(byte_unit(3 << 30), (1 << 30, "GiB"));
        assert_eq!(unit_label(2.5, "KiB"), "2.5 KiB");
        let single = storage_svg(&series(&[(0, 10)]), 800).unwrap();
        assert!(single.contains("#1F7A43"));
    }
}
