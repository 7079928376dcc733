//! `/slos/{id}`: one instance with its figures, charts and alert episodes.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use burnwatch_engine::{AlertPolicy, Entry, Trail, TrailPoint};

use super::layout::{badge, burn, page, percent, when};
use super::{encode_segment, format_objective, not_served};
use crate::AppState;
use crate::api::{EpisodeView, ExclusionView, InstanceView, Subject, resolve_one, window};
use crate::chart::{Band, Chart, Line, Span, escape};

/// Band colours: excluded spans (their events count toward nothing) and spans that only
/// silence notifications.
const EXCLUDED: &str = "#78909c";
const SILENCED: &str = "#ffb300";

/// Line colours for the burn-rate chart, shortest window first.
const PALETTE: [&str; 9] = [
    "#c62828", "#ef6c00", "#f9a825", "#2e7d32", "#00838f", "#1565c0", "#5e35b1", "#6d4c41",
    "#263238",
];

pub(super) async fn detail(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(board) = state.board.as_ref() else {
        return not_served();
    };
    let subject = match resolve_one(board, &id) {
        Ok(subject) => subject,
        Err(err) => {
            let body = format!(
                r#"<h1>Not found</h1><p>{}</p><p><a href="/">All SLOs</a></p>"#,
                escape(&err.message)
            );
            return (err.status, Html(page("burnwatch: not found", &body))).into_response();
        }
    };
    let (view, entry) = match &subject {
        Subject::Instances(entries) => (
            InstanceView::of(&entries[0], &board.spans(&entries[0].info.slo.id))
                .with_components(board),
            Some(&entries[0]),
        ),
        Subject::Empty(slo) => (InstanceView::empty(slo).waiting_on(board), None),
    };
    let trail = entry.and_then(|e| board.trail(&e.info.key()));
    let policy = entry.and_then(|e| board.policy(&e.info.slo.id));
    let body = render(
        &view,
        entry.map(|e| e.as_ref()),
        trail.as_ref(),
        policy.as_deref(),
    );
    Html(page(&format!("burnwatch: {}", view.id), &body)).into_response()
}

fn render(
    view: &InstanceView,
    entry: Option<&Entry>,
    trail: Option<&Trail>,
    policy: Option<&AlertPolicy>,
) -> String {
    let mut html = format!(
        r#"<h1>{badge} <span class="id">{id}</span></h1><div class="card"><dl>"#,
        badge = badge(view.status),
        id = escape(&view.id)
    );
    let labels: Vec<String> = view
        .labels
        .0
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut facts = vec![
        ("Service", view.service.clone()),
        ("SLO", view.name.clone()),
        (
            "Objective",
            format!("{} over {}", format_objective(view.objective), view.period),
        ),
        ("Budget left", {
            let budget = match view.budget_remaining_minutes {
                Some(m) => format!(
                    "{} ({m:.1} minutes of full outage)",
                    percent(view.budget_remaining)
                ),
                None => percent(view.budget_remaining),
            };
            match view.observed() {
                Some(observed) => format!("{budget}; {observed}"),
                None => budget,
            }
        }),
        ("Budget gone", budget_gone(entry)),
        (
            "Data",
            match (&view.backend_error, view.status) {
                (Some(error), _) => format!("none yet: the backend fails: {error}"),
                (None, "backfilling") => "none yet: reading its history".to_string(),
                _ => view.data_state.to_string(),
            },
        ),
        (
            "Evaluated",
            view.evaluated_at
                .as_deref()
                .map(when)
                .unwrap_or_else(|| "not yet".into()),
        ),
    ];
    if !labels.is_empty() {
        facts.insert(2, ("Labels", labels.join(", ")));
    }
    if let Some(description) = entry.and_then(|e| e.info.slo.description.clone()) {
        facts.insert(0, ("About", description));
    }
    for (k, v) in facts {
        let _ = write!(html, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    html.push_str("</dl></div>");

    html.push_str(r#"<h2>Windows</h2><table><thead><tr><th>Window</th><th>Error ratio</th><th>Burn rate</th></tr></thead><tbody>"#);
    for ((w, ratio), (_, rate)) in view.error_ratio.0.iter().zip(&view.burn_rate.0) {
        let _ = write!(
            html,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            escape(w),
            ratio.map_or("–".to_string(), |r| format!("{:.4}%", r * 100.0)),
            burn(*rate)
        );
    }
    html.push_str("</tbody></table>");
    components(&mut html, view);

    // Read once: with buckets, this reads the instance's state (under its lock).
    let points = trail.map(|t| t.points(i64::MIN)).unwrap_or_default();
    if let Some(trail) = trail {
        charts(&mut html, view, trail, &points, policy);
    } else {
        html.push_str(r#"<p class="muted">No history yet.</p>"#);
    }
    exclusions(&mut html, &view.exclusions);

    html.push_str(r#"<h2>Alerts</h2><table><thead><tr><th>Alert</th><th>State</th><th>Since</th></tr></thead><tbody>"#);
    for (kind, alert) in &view.alerts.0 {
        let _ = write!(
            html,
            r#"<tr data-alert="{kind}" data-state="{state}"><td>{kind}</td><td>{state}</td><td class="num">{since}</td></tr>"#,
            kind = escape(kind),
            state = alert.state,
            since = escape(&alert.since.as_deref().map_or("–".to_string(), when))
        );
    }
    html.push_str("</tbody></table>");

    html.push_str(r#"<h2>Alert episodes</h2>"#);
    if let Some(svg) = trail.and_then(|t| episode_timeline(t, &points)) {
        let _ = write!(html, r#"<div class="card" id="timeline">{svg}</div>"#);
    }
    let episodes: Vec<EpisodeView> = trail
        .map(|t| t.episodes().map(EpisodeView::of).collect())
        .unwrap_or_default();
    if episodes.is_empty() {
        html.push_str(r#"<p class="muted">None since the daemon started.</p>"#);
    } else {
        html.push_str(r#"<table class="episodes"><thead><tr><th>Alert</th><th>Fired</th><th>Resolved</th></tr></thead><tbody>"#);
        for e in episodes.iter().rev() {
            let _ = write!(
                html,
                r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
                e.alert,
                escape(&when(&e.fired_at)),
                escape(
                    &e.resolved_at
                        .as_deref()
                        .map_or("still firing".to_string(), when)
                )
            );
        }
        html.push_str("</tbody></table>");
    }
    let _ = write!(
        html,
        r#"<p class="muted">JSON: <a href="/api/v1/slos/{id}">instance</a>, <a href="/api/v1/slos/{id}/history">history</a>, <a href="/api/v1/slos/{id}/decision?risk=medium">release decision (medium risk)</a></p>"#,
        id = encode_segment(&view.id)
    );
    html
}

/// A composite's components: weight, burn per window, and the windows each was left out of
/// (no data there); nothing for other SLOs.
fn components(html: &mut String, view: &InstanceView) {
    let Some(components) = &view.components else {
        return;
    };
    html.push_str(r#"<h2>Components</h2><p class="muted">The composite burns at the weighted mean of its components' burn rates; a component without data in a window is left out of it.</p><table class="components"><thead><tr><th>Component</th><th>Weight</th>"#);
    let windows: Vec<&String> = view.burn_rate.0.iter().map(|(w, _)| w).collect();
    for w in &windows {
        let _ = write!(html, "<th>Burn {}</th>", escape(w));
    }
    html.push_str("<th>Data</th></tr></thead><tbody>");
    for c in components {
        let _ = write!(
            html,
            r#"<tr data-missing="{}"><td><a href="/slos/{}">{}</a></td><td class="num">{}</td>"#,
            c.missing,
            encode_segment(c.component.split('{').next().unwrap_or(&c.component)),
            escape(&c.component),
            c.weight
        );
        for (_, rate) in &c.burn_rate.0 {
            let _ = write!(html, r#"<td class="num">{}</td>"#, burn(*rate));
        }
        let data = if c.missing {
            format!("missing in {}", c.missing_windows.join(", "))
        } else {
            "ok".to_string()
        };
        let _ = write!(html, "<td>{}</td></tr>", escape(&data));
    }
    html.push_str("</tbody></table>");
}

/// The excluded and silenced spans of the period, newest first, as a list that turns into
/// stacked rows on a phone; nothing when there are none.
fn exclusions(html: &mut String, spans: &[ExclusionView]) {
    if spans.is_empty() {
        return;
    }
    html.push_str(r#"<h2>Excluded and silenced</h2><table class="list exclusions"><thead><tr><th>Start</th><th>End</th><th>Duration</th><th>Source</th><th>Reason</th><th>Effect</th></tr></thead><tbody>"#);
    for span in spans.iter().rev() {
        let effect = match (span.exclude, span.silence) {
            (true, true) => "excluded, silenced",
            (true, false) => "excluded",
            (false, true) => "silenced",
            (false, false) => "shown only",
        };
        let length = std::time::Duration::from_millis((span.span.1 - span.span.0).max(0) as u64);
        let _ = write!(
            html,
            r#"<tr data-effect="{effect}"><td class="num" data-label="Start">{}</td><td class="num" data-label="End">{}</td><td class="num" data-label="Duration">{}</td><td data-label="Source">{}</td><td data-label="Reason">{}</td><td data-label="Effect">{effect}</td></tr>"#,
            escape(&when(&span.start)),
            escape(&when(&span.end)),
            escape(&burnwatch_spec::text::human_duration(length)),
            escape(&span.source()),
            escape(&span.reason),
        );
    }
    html.push_str("</tbody></table>");
}

/// The spans as chart bands: excluded ones (whether or not they also silence) in grey,
/// silence-only ones in amber.
fn bands(spans: &[ExclusionView]) -> Vec<Band> {
    spans
        .iter()
        .filter(|s| s.exclude || s.silence)
        .map(|s| {
            let (name, colour) = if s.exclude {
                ("excluded", EXCLUDED)
            } else {
                ("silenced", SILENCED)
            };
            Band {
                name: name.into(),
                colour: colour.into(),
                from: s.span.0 as f64,
                to: s.span.1 as f64,
            }
        })
        .collect()
}

/// The alert episodes the trail holds, as bars on the charts' time range (a firing one runs to
/// the newest point); None without episodes.
fn episode_timeline(trail: &Trail, points: &[TrailPoint]) -> Option<String> {
    let (first, last) = (points.first()?.at, points.last()?.at);
    let spans: Vec<Span> = trail
        .episodes()
        .map(|e| Span {
            row: e.kind.as_str().to_string(),
            colour: if e.kind == burnwatch_engine::AlertKind::Page {
                "#c62828".into()
            } else {
                "#ef6c00".into()
            },
            from: e.fired_at as f64,
            to: e.resolved_at.unwrap_or(last) as f64,
        })
        .collect();
    (!spans.is_empty()).then(|| {
        crate::chart::timeline(&spans, first.min(spans[0].from as i64) as f64, last as f64)
    })
}

/// When the budget runs out at the last hour's burn rate, as a person says it: "in 1d 12h
/// (2026-12-03 13:31 UTC)", "already spent", "not burning".
fn budget_gone(entry: Option<&Entry>) -> String {
    let Some(eval) = entry.map(|e| &e.eval) else {
        return "not burning".to_string();
    };
    match eval.exhaustion_eta() {
        None => "not burning".to_string(),
        Some(at) if at <= eval.at => "already spent".to_string(),
        Some(at) => {
            let text = burnwatch_spec::text::rfc3339_seconds(at);
            format!(
                "in {} ({} {} UTC)",
                burnwatch_spec::text::human_duration(std::time::Duration::from_millis(
                    (at - eval.at) as u64
                )),
                &text[..10],
                &text[11..16]
            )
        }
    }
}

/// The burn chart's reference lines: 1x (the budget lasts exactly the period) and each alert
/// pair's threshold, e.g. `page 14.4x` (a pair fires when both its windows burn above it).
fn thresholds(policy: Option<&AlertPolicy>) -> Vec<(f64, String)> {
    let mut rules: Vec<(f64, String)> = Vec::new();
    for pair in policy.map_or(&[][..], |p| &p.pairs[..]) {
        let label = format!(
            "{} {}",
            pair.severity.as_str(),
            burnwatch_spec::text::burn_rate(pair.factor)
        );
        match rules
            .iter_mut()
            .find(|(f, _)| (*f - pair.factor).abs() < 1e-9)
        {
            Some(rule) if !rule.1.contains(&label) => rule.1 = format!("{}, {label}", rule.1),
            Some(_) => {}
            None => rules.push((pair.factor, label)),
        }
    }
    if !rules.iter().any(|(f, _)| (*f - 1.0).abs() < 1e-9) {
        rules.push((1.0, "1x".into()));
    }
    rules
}

/// Budget remaining over the period and burn rate per window, from the trail.
fn charts(
    html: &mut String,
    view: &InstanceView,
    trail: &Trail,
    points: &[TrailPoint],
    policy: Option<&AlertPolicy>,
) {
    if points.is_empty() {
        html.push_str(r#"<p class="muted">No history yet.</p>"#);
        return;
    }
    let budget = Chart {
        title: format!("Budget remaining over {}", view.period),
        y_format: |v| format!("{:.0}%", v * 100.0),
        lines: vec![Line {
            name: "budget remaining".into(),
            colour: "#1565c0".into(),
            points: points
                .iter()
                .map(|p| (p.at as f64, p.budget_remaining()))
                .collect(),
        }],
        rules: vec![(0.0, "spent".into())],
        y_include: vec![0.0, 1.0],
        bands: bands(&view.exclusions),
    };
    let windows = trail.windows();
    let burn_chart = Chart {
        title: "Burn rate per window".into(),
        y_format: burnwatch_spec::text::burn_rate,
        lines: windows
            .iter()
            .enumerate()
            .map(|(i, w)| Line {
                name: window(*w),
                colour: PALETTE[i % PALETTE.len()].into(),
                points: points
                    .iter()
                    .map(|p| (p.at as f64, p.burn_rates[i]))
                    .collect(),
            })
            .collect(),
        rules: thresholds(policy),
        y_include: vec![0.0],
        bands: bands(&view.exclusions),
    };
    for (id, chart) in [("budget", &budget), ("burn", &burn_chart)] {
        let _ = write!(
            html,
            r#"<h2>{}</h2><div class="card" id="chart-{id}">{}{}</div>"#,
            escape(&chart.title),
            chart.to_svg(),
            if chart.legend_entries() > 1 {
                chart.legend_html()
            } else {
                String::new()
            }
        );
    }
    let levels: Vec<String> = trail
        .resolutions()
        .iter()
        .map(|(resolution, span)| {
            format!(
                "every {} over the last {}",
                window(*resolution),
                window(*span)
            )
        })
        .collect();
    let caption = if levels.is_empty() {
        format!(
            "As evaluated: the last day and the period, each thinned to at most {} points.",
            burnwatch_engine::RING_POINTS
        )
    } else {
        format!(
            "Read from the event buckets: a point {}; then the newest evaluations.",
            levels.join(", ")
        )
    };
    let _ = write!(
        html,
        r#"<p class="muted" id="chart-resolution">{}</p>"#,
        escape(&caption)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_burn_chart_marks_every_alert_threshold() {
        // The SRE Workbook's pairs over 30 days: 2% of the budget in 1h is 0.02 * 720 = 14.4x,
        // 5% in 6h is 0.05 * 120 = 6x, 10% in 1d is 0.1 * 30 = 3x, 10% in 3d is 0.1 * 10 = 1x.
        let policy = AlertPolicy::sre_workbook(Duration::from_secs(30 * 86_400));
        let rules: Vec<(String, String)> = thresholds(Some(&policy))
            .into_iter()
            .map(|(f, label)| (format!("{f:.3}"), label))
            .collect();
        let expected = [
            ("14.400", "page 14.4x"),
            ("6.000", "page 6x"),
            ("3.000", "ticket 3x"),
            ("1.000", "ticket 1x"),
        ];
        assert_eq!(rules, expected.map(|(f, l)| (f.to_string(), l.to_string())));
        // Without a policy (not yet published): the 1x line alone.
        assert_eq!(thresholds(None), [(1.0, "1x".to_string())]);
    }
}
