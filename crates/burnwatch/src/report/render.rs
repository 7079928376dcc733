//! The report's formats: one self-contained HTML file (inline CSS and SVG, nothing fetched),
//! Markdown tables, and JSON.

use std::fmt::Write as _;
use std::time::Duration;

use burnwatch_engine::{ExclusionSpan, Origin, Severity};
use burnwatch_http::chart::{Band, Chart, Line, escape};
use serde_json::{Value, json};

use super::Span;
use super::model::InstanceReport;
use burnwatch_spec::text::rfc3339_seconds as rfc3339;

fn percent(value: Option<f64>, digits: usize) -> String {
    value.map_or("–".into(), |v| {
        burnwatch_spec::text::percent_with(v, digits)
    })
}

/// `1h 25m`, `40m`, `2d 3h`.
fn duration(d: Duration) -> String {
    let minutes = d.as_secs() / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, h) => format!("{h}h {minutes}m"),
        (d, h) => format!("{d}d {h}h {minutes}m"),
    }
}

/// `maintenance db-upgrade` or `correction 7 (dependency)`.
fn source(span: &ExclusionSpan) -> String {
    match &span.origin {
        Origin::Maintenance { name } => format!("maintenance {name}"),
        Origin::Correction { id, category } => format!("correction {id} ({category})"),
    }
}

/// `excluded`, `silenced` or both.
fn effect(span: &ExclusionSpan) -> &'static str {
    match (span.exclude, span.silence) {
        (true, true) => "excluded, silenced",
        (true, false) => "excluded",
        (false, true) => "silenced",
        (false, false) => "shown",
    }
}

fn span_length(span: &ExclusionSpan) -> Duration {
    Duration::from_millis((span.end - span.start).max(0) as u64)
}

fn end_of(end: Option<i64>) -> String {
    end.map_or_else(|| "still firing".into(), rfc3339)
}

/// JSON: one document.
pub fn json(span: Span, reports: &[InstanceReport]) -> String {
    let slos: Vec<Value> = reports
        .iter()
        .map(|r| {
            let figures = r.figures();
            let labels: serde_json::Map<String, Value> = r
                .track
                .info
                .labels()
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            json!({
                "slo": r.track.info.slo.id,
                "labels": labels,
                "objective": r.objective,
                "components": r.components.iter().map(|(name, weight)| json!({
                    "slo": name,
                    "weight": weight,
                })).collect::<Vec<_>>(),
                "sli": r.sli(),
                "error_ratio": figures.error_ratio,
                "events": { "total": r.counts.total, "errors": r.counts.errors },
                "budget_consumed": figures.burn_rate,
                "budget_remaining_end": r.track.budget_end,
                "budget_remaining_min": r.track.budget_min,
                "pages": r.pages(),
                "tickets": r.tickets(),
                "mttr_seconds": r.mttr().map(|d| d.as_secs()),
                "incidents": r.incidents().iter().map(|i| json!({
                    "severity": i.episode.severity.as_str(),
                    "start": rfc3339(i.episode.start),
                    "end": i.episode.end.map(rfc3339),
                    "duration_seconds": i.duration.as_secs(),
                })).collect::<Vec<_>>(),
                "trend": r.trend.iter().map(|(t, b)| json!({
                    "time": rfc3339(*t),
                    "budget_remaining": b,
                })).collect::<Vec<_>>(),
                "exclusions": r.exclusions.iter().map(|(s, back)| {
                    let mut value = json!({
                        "start": rfc3339(s.start),
                        "end": rfc3339(s.end),
                        "reason": s.reason,
                        "exclude": s.exclude,
                        "silence": s.silence,
                        "budget_given_back": back,
                    });
                    if let (Value::Object(map), Ok(Value::Object(origin))) =
                        (&mut value, serde_json::to_value(&s.origin))
                    {
                        map.extend(origin);
                    }
                    value
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "start": rfc3339(span.start),
        "end": rfc3339(span.end),
        "slos": slos,
    });
    format!("{doc:#}\n")
}

/// Markdown: a summary table, then the incidents of each instance.
pub fn markdown(span: Span, reports: &[InstanceReport]) -> String {
    let mut out = format!(
        "# SLO report {} to {}\n\n| SLO | objective | achieved | budget consumed | budget left at end | incidents | pages | MTTR |\n|---|---|---|---|---|---|---|---|\n",
        rfc3339(span.start),
        rfc3339(span.end)
    );
    for r in reports {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.track.name().replace('|', "\\|"),
            percent(Some(r.objective), 2),
            percent(r.sli(), 3),
            percent(r.figures().burn_rate, 1),
            percent(r.track.budget_end, 1),
            r.incidents().len(),
            r.pages(),
            r.mttr().map_or("–".into(), duration),
        );
    }
    for r in reports.iter().filter(|r| !r.components.is_empty()) {
        let _ = write!(
            out,
            "\n{} is a composite of {}.\n",
            r.track.name(),
            r.components_text().replace('|', "\\|")
        );
    }
    for r in reports.iter().filter(|r| !r.exclusions.is_empty()) {
        let _ = write!(
            out,
            "\n## {}: exclusions\n\n| start | end | duration | source | reason | effect | budget given back |\n|---|---|---|---|---|---|---|\n",
            r.track.name()
        );
        for (span, back) in &r.exclusions {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                rfc3339(span.start),
                rfc3339(span.end),
                duration(span_length(span)),
                source(span).replace('|', "\\|"),
                span.reason.replace('|', "\\|"),
                effect(span),
                percent(*back, 1),
            );
        }
    }
    for r in reports.iter().filter(|r| !r.track.episodes.is_empty()) {
        let _ = write!(
            out,
            "\n## {}\n\n| severity | fired | resolved | duration |\n|---|---|---|---|\n",
            r.track.name()
        );
        for i in r.incidents() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                i.episode.severity.as_str(),
                rfc3339(i.episode.start),
                end_of(i.episode.end),
                duration(i.duration)
            );
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;color:#1d1d1f;max-width:960px;margin:0 auto;padding:16px}\
table{border-collapse:collapse;width:100%;margin:8px 0 16px}th,td{border-bottom:1px solid #e3e6ea;padding:6px 8px;text-align:left}\
th{font-size:12px;text-transform:uppercase;color:#5f6b7a}td.num{font-variant-numeric:tabular-nums;white-space:nowrap}\
.miss{color:#c62828;font-weight:600}.met{color:#2e7d32;font-weight:600}.chart{width:100%;height:auto}section{margin-top:28px}\
h2{font-size:17px;overflow-wrap:anywhere}.muted{color:#6b7785}";

/// HTML: one file with a summary table and a section per instance with its trend chart.
pub fn html(span: Span, reports: &[InstanceReport]) -> String {
    let title = format!(
        "SLO report {} to {}",
        rfc3339(span.start),
        rfc3339(span.end)
    );
    let mut body = format!(
        "<h1>{}</h1><table><thead><tr><th>SLO</th><th>Objective</th><th>Achieved</th><th>Budget consumed</th><th>Incidents</th><th>Pages</th><th>MTTR</th></tr></thead><tbody>",
        escape(&title)
    );
    for r in reports {
        let met = r.sli().map(|s| s >= r.objective);
        let _ = write!(
            body,
            r#"<tr data-slo="{name}"><td>{name}</td><td class="num">{objective}</td><td class="num {class}">{sli}</td><td class="num">{consumed}</td><td class="num">{incidents}</td><td class="num">{pages}</td><td class="num">{mttr}</td></tr>"#,
            name = escape(&r.track.name()),
            objective = percent(Some(r.objective), 2),
            class = match met {
                Some(true) => "met",
                Some(false) => "miss",
                None => "",
            },
            sli = percent(r.sli(), 3),
            consumed = percent(r.figures().burn_rate, 1),
            incidents = r.incidents().len(),
            pages = r.pages(),
            mttr = r.mttr().map_or("–".into(), duration),
        );
    }
    body.push_str("</tbody></table>");
    for r in reports {
        section(&mut body, r);
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>{body}<p class=\"muted\">Generated by burnwatch report through replay of the backend's history.</p></body></html>\n",
        escape(&title)
    )
}

fn section(body: &mut String, r: &InstanceReport) {
    let name = r.track.name();
    let _ = write!(
        body,
        "<section><h2>{}</h2><p>{} events, {} errors; budget left over the period at the end: {} (lowest {}).</p>",
        escape(&name),
        r.counts.total.round(),
        r.counts.errors.round(),
        percent(r.track.budget_end, 1),
        percent(r.track.budget_min, 1),
    );
    if !r.components.is_empty() {
        let _ = write!(
            body,
            "<p class=\"components\">A composite of {}.</p>",
            escape(&r.components_text())
        );
    }
    let chart = Chart {
        title: format!("{name}: budget remaining"),
        y_format: |v| format!("{:.0}%", v * 100.0),
        lines: vec![Line {
            name: "budget remaining".into(),
            colour: "#1565c0".into(),
            points: r.trend.iter().map(|(t, b)| (*t as f64, *b)).collect(),
        }],
        rules: vec![(0.0, "spent".into())],
        y_include: vec![0.0, 1.0],
        bands: r
            .exclusions
            .iter()
            .filter(|(s, _)| s.exclude)
            .map(|(s, _)| Band {
                name: "excluded".into(),
                colour: "#78909c".into(),
                from: s.start as f64,
                to: s.end as f64,
            })
            .collect(),
    };
    body.push_str(&chart.to_svg());
    if !r.exclusions.is_empty() {
        body.push_str("<table><thead><tr><th>Start</th><th>End</th><th>Duration</th><th>Source</th><th>Reason</th><th>Effect</th><th>Budget given back</th></tr></thead><tbody>");
        for (span, back) in &r.exclusions {
            let _ = write!(
                body,
                r#"<tr class="exclusion"><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td></tr>"#,
                rfc3339(span.start),
                rfc3339(span.end),
                duration(span_length(span)),
                escape(&source(span)),
                escape(&span.reason),
                effect(span),
                percent(*back, 1),
            );
        }
        body.push_str("</tbody></table>");
    }
    if r.track.episodes.is_empty() {
        body.push_str("<p class=\"muted\">No incidents.</p></section>");
        return;
    }
    body.push_str("<table><thead><tr><th>Severity</th><th>Fired</th><th>Resolved</th><th>Duration</th></tr></thead><tbody>");
    for i in r.incidents() {
        let _ = write!(
            body,
            r#"<tr class="incident" data-severity="{sev}"><td>{sev}</td><td class="num">{start}</td><td class="num">{end}</td><td class="num">{d}</td></tr>"#,
            sev = i.episode.severity.as_str(),
            start = rfc3339(i.episode.start),
            end = end_of(i.episode.end),
            d = duration(i.duration),
        );
    }
    let _ = write!(
        body,
        "</tbody></table><p>{} page{}, {} ticket{}.</p></section>",
        r.pages(),
        if r.pages() == 1 { "" } else { "s" },
        r.track.count(Severity::Ticket),
        if r.track.count(Severity::Ticket) == 1 {
            ""
        } else {
            "s"
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_replay_table() {
        assert_eq!(duration(Duration::from_secs(85 * 60)), "1h 25m");
        assert_eq!(duration(Duration::from_secs(40 * 60)), "40m");
        assert_eq!(
            duration(Duration::from_secs((2 * 1440 + 185) * 60)),
            "2d 3h 5m"
        );
    }
}
