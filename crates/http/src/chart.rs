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

/// A shaded span of the time axis behind the lines (an excluded or silenced span).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Legend text, e.g. `excluded`; bands of one name share a legend entry.
    pub name: String,
    /// A CSS colour, drawn translucent.
    pub colour: String,
    /// Start and end on the x axis (unix milliseconds).
    pub from: f64,
    /// See `from`.
    pub to: f64,
}

/// A line chart with a time axis: x values are unix milliseconds, labelled in UTC at round
/// times (`14:00`, with the date where the day changes), y values at round steps with grid lines.
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
    /// Shaded spans of time, cut to the lines' time range (they do not widen it).
    pub bands: Vec<Band>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;
/// At most this many labelled ticks per axis (every other one is hidden on a phone).
const MAX_TICKS: usize = 6;

/// On a phone the chart is scaled to about half its drawn width: its text is drawn twice as
/// large there (CSS beats the presentation attributes), at least 10 px on a 375 px screen, and
/// every other time tick is hidden so the larger labels do not collide.
const STYLE: &str = "<style>@media (max-width:640px){svg.chart text{font-size:24px}\
svg.chart text.y{text-anchor:start}svg.chart .odd{display:none}}</style>";

impl Chart {
    /// The chart as an `<svg>` element that scales to its container's width.
    pub fn to_svg(&self) -> String {
        let (x0, x1) = self.x_range();
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
        svg.push_str(STYLE);
        let _ = write!(
            svg,
            r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#ccc"/>"##,
            WIDTH - LEFT - RIGHT,
            HEIGHT - TOP - BOTTOM
        );
        for band in self.drawn_bands(x0, x1) {
            let (from, to) = (band.from.max(x0), band.to.min(x1));
            let _ = write!(
                svg,
                r#"<rect class="band" data-name="{name}" x="{:.1}" y="{TOP}" width="{:.1}" height="{}" fill="{}" fill-opacity="0.28"><title>{name}</title></rect>"#,
                x(from),
                (x(to) - x(from)).max(1.0),
                HEIGHT - TOP - BOTTOM,
                escape(&band.colour),
                name = escape(&band.name),
            );
        }
        for v in y_ticks(y0, y1) {
            // The top label hangs below its line, so no text size cuts it off.
            let (ty, baseline) = if y(v) - TOP < 20.0 {
                (y(v) + 2.0, "hanging")
            } else {
                (y(v) + 4.0, "auto")
            };
            let _ = write!(
                svg,
                r##"<line class="grid" x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#eceef1"/><text class="y" x="{}" y="{ty:.1}" font-size="13" text-anchor="end" dominant-baseline="{baseline}" fill="#555">{}</text>"##,
                WIDTH - RIGHT,
                y(v),
                y(v),
                LEFT - 4.0,
                escape(&(self.y_format)(v))
            );
        }
        for (v, label) in &self.rules {
            // Above its line, or below it when the line runs along the top of the plot (the
            // label would be cut off, the more so at a phone's larger text).
            let (ty, baseline) = if y(*v) - TOP < 30.0 {
                (y(*v) + 3.0, "hanging")
            } else {
                (y(*v) - 3.0, "auto")
            };
            let _ = write!(
                svg,
                r##"<line class="rule" x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/><text x="{}" y="{ty:.1}" font-size="12" text-anchor="end" dominant-baseline="{baseline}" fill="#777">{}</text>"##,
                WIDTH - RIGHT,
                y(*v),
                y(*v),
                WIDTH - RIGHT - 2.0,
                escape(label)
            );
        }
        for (i, (at, label)) in time_ticks(x0, x1).into_iter().enumerate() {
            let anchor = if i == 0 && x(at) < LEFT + 40.0 {
                "start"
            } else {
                "middle"
            };
            let _ = write!(
                svg,
                r##"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{}" stroke="#eceef1"/><text class="x{odd}" x="{x:.1}" y="{}" font-size="13" text-anchor="{anchor}" fill="#555">{}</text>"##,
                HEIGHT - BOTTOM,
                HEIGHT - 6.0,
                escape(&label),
                x = x(at),
                odd = if i % 2 == 1 { " odd" } else { "" },
            );
        }
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

    /// A legend: one coloured swatch and name per line drawn (a line without a single value is
    /// not drawn, so not listed).
    pub fn legend_html(&self) -> String {
        let mut html = String::from(r#"<div class="legend">"#);
        for line in self.drawn() {
            let _ = write!(
                html,
                r#"<span><i style="background:{}"></i>{}</span>"#,
                escape(&line.colour),
                escape(&line.name)
            );
        }
        let (x0, x1) = self.x_range();
        let mut named: Vec<&Band> = Vec::new();
        for band in self.drawn_bands(x0, x1) {
            if !named.iter().any(|b| b.name == band.name) {
                named.push(band);
            }
        }
        for band in named {
            let _ = write!(
                html,
                r#"<span class="band"><i style="background:{};opacity:0.4"></i>{}</span>"#,
                escape(&band.colour),
                escape(&band.name)
            );
        }
        html.push_str("</div>");
        html
    }

    /// Entries the legend would have: lines drawn and distinct band names drawn.
    pub fn legend_entries(&self) -> usize {
        let (x0, x1) = self.x_range();
        let mut names: Vec<&str> = Vec::new();
        for band in self.drawn_bands(x0, x1) {
            if !names.contains(&band.name.as_str()) {
                names.push(&band.name);
            }
        }
        self.drawn().count() + names.len()
    }

    fn x_range(&self) -> (f64, f64) {
        let xs = self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
        range(xs, std::iter::empty())
    }

    /// The bands that overlap `(x0, x1)`.
    fn drawn_bands(&self, x0: f64, x1: f64) -> impl Iterator<Item = &Band> {
        self.bands.iter().filter(move |b| b.from < x1 && b.to > x0)
    }
}

impl Chart {
    /// The lines with at least one value to draw.
    pub fn drawn(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| l.points.iter().any(|p| p.1.is_some_and(f64::is_finite)))
    }
}

/// Round values from `lo` to `hi` for the y axis: steps of 1, 2, 2.5 or 5 times a power of ten,
/// at most [`MAX_TICKS`] of them.
fn y_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let raw = span / (MAX_TICKS - 1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| span / s <= (MAX_TICKS - 1) as f64 + 1e-9)
        .unwrap_or(10.0 * power);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Round UTC times from `lo` to `hi` (unix ms) and their labels: `14:00`, or `12-02 14:00` at
/// the first tick and where the day changes; whole days as `12-02`. The first label names UTC.
fn time_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    const MINUTE: f64 = 60_000.0;
    const DAY: f64 = 1_440.0 * MINUTE;
    const STEPS: [f64; 16] = [
        MINUTE,
        5.0 * MINUTE,
        10.0 * MINUTE,
        15.0 * MINUTE,
        30.0 * MINUTE,
        60.0 * MINUTE,
        120.0 * MINUTE,
        180.0 * MINUTE,
        360.0 * MINUTE,
        720.0 * MINUTE,
        DAY,
        2.0 * DAY,
        7.0 * DAY,
        14.0 * DAY,
        30.0 * DAY,
        90.0 * DAY,
    ];
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / s <= (MAX_TICKS - 1) as f64)
        .unwrap_or(span / (MAX_TICKS - 1) as f64);
    let mut ticks = Vec::new();
    let mut at = (lo / step).ceil() * step;
    let mut last_day = String::new();
    while at <= hi && ticks.len() < 2 * MAX_TICKS {
        let text = burnwatch_spec::text::rfc3339_seconds(at as i64);
        // `2026-12-02T14:00:00Z`: the month and day, and the hour and minute.
        let (day, time) = (&text[5..10], &text[11..16]);
        let mut label = if step >= DAY {
            day.to_string()
        } else if day != last_day {
            format!("{day} {time}")
        } else {
            time.to_string()
        };
        if ticks.is_empty() {
            label.push_str(" UTC");
        }
        last_day = day.to_string();
        ticks.push((at, label));
        at += step;
    }
    ticks
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

/// One bar of a timeline: a row name (`page`), a colour, and `[from, to)` in unix ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The row it sits on.
    pub row: String,
    /// A CSS colour.
    pub colour: String,
    /// When it began.
    pub from: f64,
    /// When it ended (or now, while it lasts).
    pub to: f64,
}

/// A timeline of `spans` over `[x0, x1]` (unix ms): one row per distinct row name in order of
/// first appearance, bars placed in percent of the row and times under it as on the charts. HTML,
/// not SVG, so its text keeps the page's size on a phone.
pub fn timeline(spans: &[Span], x0: f64, x1: f64) -> String {
    let mut rows: Vec<&str> = Vec::new();
    for span in spans {
        if !rows.contains(&span.row.as_str()) {
            rows.push(&span.row);
        }
    }
    let (x0, x1) = if x1 > x0 { (x0, x1) } else { (x0, x0 + 1.0) };
    let pct = |v: f64| (v.clamp(x0, x1) - x0) / (x1 - x0) * 100.0;
    let mut html = String::from(r#"<div class="timeline">"#);
    for row in &rows {
        let _ = write!(
            html,
            r#"<div class="tl-row"><span class="tl-name">{}</span><div class="tl-track">"#,
            escape(row)
        );
        for span in spans.iter().filter(|s| s.row == *row) {
            let (from, to) = (pct(span.from), pct(span.to));
            let _ = write!(
                html,
                r#"<i class="span" data-row="{row}" style="left:{from:.1}%;width:{:.1}%;background:{}" title="{row}"></i>"#,
                (to - from).max(0.4),
                escape(&span.colour),
                row = escape(row),
            );
        }
        html.push_str("</div></div>");
    }
    html.push_str(r#"<div class="tl-row"><span class="tl-name"></span><div class="tl-axis">"#);
    for (i, (at, label)) in time_ticks(x0, x1).into_iter().enumerate() {
        // Centred on its time, but never past either end of the row (no sideways scrolling).
        let at = pct(at);
        let place = if at < 12.0 {
            "from-left"
        } else if at > 88.0 {
            "from-right"
        } else {
            "centred"
        };
        let _ = write!(
            html,
            r#"<span class="{} {place}" style="left:{at:.1}%">{}</span>"#,
            if i % 2 == 1 { "odd" } else { "even" },
            escape(&label)
        );
    }
    html.push_str("</div></div></div>");
    html
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
            bands: Vec::new(),
        }
    }

    #[test]
    fn bands_shade_their_part_of_the_time_axis_and_join_the_legend() {
        let band = |name: &str, from: f64, to: f64| Band {
            name: name.into(),
            colour: "#78909c".into(),
            from,
            to,
        };
        let plain = chart(vec![(0.0, Some(1.0)), (3.0, Some(0.5))]);
        assert_eq!(plain.legend_entries(), 1);
        assert!(!plain.legend_html().contains("excluded"));
        let shaded = Chart {
            bands: vec![
                band("excluded", 1.0, 2.0),
                band("excluded", 2.5, 9.0),
                band("silenced", 10.0, 12.0), // after the last point: not drawn
            ],
            ..plain
        };
        let svg = shaded.to_svg();
        // x 0..3 over 56..632 (192 px a unit): 1..2 is x 248 wide 192; 2.5..9 is cut at 3.
        assert!(
            svg.contains(r#"class="band" data-name="excluded" x="248.0" y="10" width="192.0""#),
            "{svg}"
        );
        assert!(svg.contains(r#"x="536.0" y="10" width="96.0""#), "{svg}");
        assert_eq!(svg.matches(r#"class="band""#).count(), 2);
        let legend = shaded.legend_html();
        assert_eq!(legend.matches("excluded").count(), 1, "{legend}");
        assert!(!legend.contains("silenced"), "{legend}");
        assert_eq!(shaded.legend_entries(), 2);
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

    #[test]
    fn round_ticks_on_both_axes() {
        assert_eq!(
            y_ticks(0.0, 1.0),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(y_ticks(0.0, 14.4), [0.0, 5.0, 10.0]);
        // 1.3 in at most five steps: 0.25 would take 5.2, so 0.5.
        assert_eq!(y_ticks(-0.3, 1.0), [0.0, 0.5, 1.0]);
        // 2026-12-02T13:37Z to 15:37Z: every half hour from 14:00, the first naming the day.
        let start = 1_796_218_620_000.0;
        let ticks = time_ticks(start, start + 2.0 * 3_600_000.0);
        let labels: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["12-02 14:00 UTC", "14:30", "15:00", "15:30"]);
        assert_eq!(ticks[0].0, start + 23.0 * 60_000.0);
        // Across midnight (23:50 to 03:50), the new day is named where it starts.
        let late = 1_796_255_400_000.0;
        let labels: Vec<String> = time_ticks(late, late + 4.0 * 3_600_000.0)
            .into_iter()
            .map(|t| t.1)
            .collect();
        assert_eq!(labels, ["12-03 00:00 UTC", "01:00", "02:00", "03:00"]);
        assert!(time_ticks(5.0, 5.0).is_empty());
    }

    #[test]
    fn the_legend_lists_only_lines_drawn() {
        let mut two = chart(vec![(0.0, Some(1.0)), (1.0, Some(0.5))]);
        two.lines.push(Line {
            name: "1m".into(),
            colour: "#000".into(),
            points: vec![(0.0, None), (1.0, Some(f64::NAN))],
        });
        let legend = two.legend_html();
        assert!(
            legend.contains(">budget<") && !legend.contains(">1m<"),
            "{legend}"
        );
        assert_eq!(two.drawn().count(), 1);
    }

    #[test]
    fn a_timeline_has_a_row_per_alert_and_a_bar_per_span() {
        let span = |row: &str, from: f64, to: f64| Span {
            row: row.into(),
            colour: "#c62828".into(),
            from,
            to,
        };
        let html = timeline(
            &[
                span("page", 0.0, 500.0),
                span("ticket", 250.0, 2_000.0),
                span("page", 900.0, 1_000.0),
            ],
            0.0,
            1_000.0,
        );
        assert_eq!(html.matches(r#"class="span""#).count(), 3, "{html}");
        assert_eq!(html.matches(r#"class="tl-track""#).count(), 2, "{html}");
        assert!(
            html.contains(r#"data-row="page" style="left:0.0%;width:50.0%"#),
            "{html}"
        );
        assert!(
            html.contains(r#"data-row="page" style="left:90.0%;width:10.0%"#),
            "{html}"
        );
        // The ticket bar runs past the end: cut at the row's edge.
        assert!(
            html.contains(r#"data-row="ticket" style="left:25.0%;width:75.0%"#),
            "{html}"
        );
    }
}
