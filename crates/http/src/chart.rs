//! Inline SVG line charts for the status page and reports: no script, no external file, so a
//! page works offline and a report survives being mailed.
//!
//! The chart only places given values on a canvas; every value comes from the engine.

use std::fmt::Write;

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Legend text, e.g. `1h`.
    pub name: String,
    /// A CSS colour, e.g. `#1565c0`.
    pub colour: String,
    /// `(x, y)`, x ascending (unix milliseconds on time charts); `None` breaks the line.
    pub points: Vec<(f64, Option<f64>)>,
}

/// A line chart with a time axis.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Accessible name and heading, e.g. "Budget remaining".
    pub title: String,
    /// Formats a y value for the axis, e.g. as a percentage.
    pub y_format: fn(f64) -> String,
    /// The lines.
    pub lines: Vec<Line>,
    /// Horizontal reference lines: `(y, label)`, e.g. `(1.0, "1x")`.
    pub rules: Vec<(f64, String)>,
    /// Values the y range must include besides the data (e.g. 0 and 1 for a budget).
    pub y_include: Vec<f64>,
    /// Labels of the first and last x, e.g. dates.
    pub x_labels: (String, String),
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

impl Chart {
    /// The chart as an `<svg>` element that scales to its container's width.
    pub fn to_svg(&self) -> String {
        let xs = self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
        let (x0, x1) = range(xs, std::iter::empty());
        let ys = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().filter_map(|p| p.1));
        let extra = self
            .y_include
            .iter()
            .copied()
            .chain(self.rules.iter().map(|r| r.0));
        let (y0, y1) = range(ys, extra);
        let x = |v: f64| LEFT + (v - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT);
        let y = |v: f64| TOP + (y1 - v) / (y1 - y0) * (HEIGHT - TOP - BOTTOM);
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
            escape(&self.title)
        );
        let _ = write!(
            svg,
            r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#ccc"/>"##,
            WIDTH - LEFT - RIGHT,
            HEIGHT - TOP - BOTTOM
        );
        for v in [y0, y1] {
            let _ = write!(
                svg,
                r##"<text x="{}" y="{:.1}" font-size="13" text-anchor="end" fill="#555">{}</text>"##,
                LEFT - 4.0,
                y(v) + 4.0,
                escape(&(self.y_format)(v))
            );
        }
        for (v, label) in &self.rules {
            let _ = write!(
                svg,
                r##"<line class="rule" x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/><text x="{}" y="{:.1}" font-size="12" text-anchor="end" fill="#777">{}</text>"##,
                WIDTH - RIGHT,
                y(*v),
                y(*v),
                WIDTH - RIGHT - 2.0,
                y(*v) - 3.0,
                escape(label)
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{LEFT}" y="{}" font-size="13" fill="#555">{}</text><text x="{}" y="{}" font-size="13" text-anchor="end" fill="#555">{}</text>"##,
            HEIGHT - 6.0,
            escape(&self.x_labels.0),
            WIDTH - RIGHT,
            HEIGHT - 6.0,
            escape(&self.x_labels.1)
        );
        for line in &self.lines {
            let d = path(&line.points, x, y);
            if d.is_empty() {
                continue;
            }
            let _ = write!(
                svg,
                r#"<path class="line" data-name="{}" d="{d}" fill="none" stroke="{}" stroke-width="1.6" vector-effect="non-scaling-stroke"><title>{}</title></path>"#,
                escape(&line.name),
                escape(&line.colour),
                escape(&line.name)
            );
        }
        svg.push_str("</svg>");
        svg
    }

    /// A legend: one coloured swatch and name per line.
    pub fn legend_html(&self) -> String {
        let mut html = String::from(r#"<div class="legend">"#);
        for line in &self.lines {
            let _ = write!(
                html,
                r#"<span><i style="background:{}"></i>{}</span>"#,
                escape(&line.colour),
                escape(&line.name)
            );
        }
        html.push_str("</div>");
        html
    }
}

/// `M x y L x y ...`, starting again after every gap.
fn path(points: &[(f64, Option<f64>)], x: impl Fn(f64) -> f64, y: impl Fn(f64) -> f64) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for &(px, py) in points {
        match py {
            Some(py) if py.is_finite() => {
                let _ = write!(
                    d,
                    "{}{:.1} {:.1} ",
                    if pen_down { "L" } else { "M" },
                    x(px),
                    y(py)
                );
                pen_down = true;
            }
            _ => pen_down = false,
        }
    }
    d.trim_end().to_string()
}

/// The span of the finite values, widened when empty or flat so nothing divides by zero.
fn range(values: impl Iterator<Item = f64>, extra: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .chain(extra)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        (0.0, 1.0)
    } else if hi - lo < 1e-12 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

/// Escapes text for HTML and SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(f64, Option<f64>)>) -> Chart {
        Chart {
            title: "Budget <remaining>".into(),
            y_format: |v| format!("{:.0}%", v * 100.0),
            lines: vec![Line {
                name: "budget".into(),
                colour: "#1565c0".into(),
                points,
            }],
            rules: vec![(0.0, "spent".into())],
            y_include: vec![1.0],
            x_labels: ("a".into(), "b".into()),
        }
    }

    #[test]
    fn points_span_the_plot_and_gaps_lift_the_pen() {
        let svg = chart(vec![
            (0.0, Some(1.0)),
            (1.0, Some(0.5)),
            (2.0, None),
            (3.0, Some(0.0)),
        ])
        .to_svg();
        // x 0..3 over 56..632, y 0..1 over 196..10.
        assert!(
            svg.contains(r#"d="M56.0 10.0 L248.0 103.0 M632.0 196.0""#),
            "{svg}"
        );
        assert!(svg.contains("Budget &lt;remaining&gt;"));
        assert!(svg.contains(">100%<") && svg.contains(">0%<"));
    }

    #[test]
    fn empty_and_flat_data_never_divide_by_zero() {
        let svg = chart(vec![]).to_svg();
        assert!(!svg.contains("<path"), "{svg}");
        let flat = Chart {
            y_include: vec![],
            rules: vec![],
            ..chart(vec![(5.0, Some(2.0)), (5.0, Some(2.0))])
        }
        .to_svg();
        assert!(!flat.contains("NaN") && !flat.contains("inf"), "{flat}");
    }
}
