//! `/trends`: six months of the record per team label, one card per team with four weekly
//! lines: compliance, incidents, MTTR and escalations (figures as `/api/v1/trends` serves them;
//! `?from=&to=` as there).

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use burnwatch_record::trends::{TeamTrend, WeekPoint};

use super::layout::page;
use crate::AppState;
use crate::api::trends::{now_ms, range, read};
use crate::chart::{Chart, Line, escape};

pub(crate) async fn trends(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let result = match range(&query, now_ms()) {
        Ok(asked) => read(&state, asked).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(trends) => {
            let mut body = format!(
                "<h1>Trends</h1><p class=\"muted\">Weekly per team label, {} to {} (UTC). \
                 Compliance: the share of the team's SLO instances that met their objective \
                 over the week. Incidents: pages. Escalations: notifications sent. \
                 <a href=\"/api/v1/trends?from={}&amp;to={}&amp;format=csv\">CSV</a></p>",
                trends.from, trends.to, trends.from, trends.to
            );
            if trends.teams.is_empty() {
                body.push_str("<p>No days recorded yet.</p>");
            }
            for team in &trends.teams {
                body.push_str(&team_card(team));
            }
            Html(page("burnwatch trends", &body)).into_response()
        }
        Err(err) => (
            err.status,
            Html(page(
                "burnwatch trends",
                &format!("<h1>Trends</h1><p>{}</p>", escape(&err.message)),
            )),
        )
            .into_response(),
    }
}

/// Counts on the axis: whole numbers as such, steps between them with one decimal.
fn count_axis(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn series(weeks: &[WeekPoint], value: fn(&WeekPoint) -> Option<f64>) -> Vec<(f64, Option<f64>)> {
    weeks
        .iter()
        .map(|w| (w.week.start() as f64, value(w)))
        .collect()
}

fn team_card(team: &TeamTrend) -> String {
    let line = |name: &str, colour: &str, value: fn(&WeekPoint) -> Option<f64>| Line {
        name: name.into(),
        colour: colour.into(),
        points: series(&team.weeks, value),
    };
    let charts = [
        (
            "compliance",
            Chart {
                title: "Compliance".into(),
                y_format: |v| format!("{:.0}%", v * 100.0),
                lines: vec![line("compliance", "#2e7d32", |w| w.compliance)],
                rules: Vec::new(),
                y_include: vec![0.0, 1.0],
                bands: Vec::new(),
            },
        ),
        (
            "incidents",
            Chart {
                title: "Incidents (pages)".into(),
                y_format: count_axis,
                lines: vec![line("incidents", "#c62828", |w| {
                    Some(f64::from(w.incidents))
                })],
                rules: Vec::new(),
                y_include: vec![0.0, 1.0],
                bands: Vec::new(),
            },
        ),
        (
            "mttr",
            Chart {
                title: "MTTR (minutes)".into(),
                y_format: count_axis,
                // Only weeks with resolved incidents have an MTTR: the line joins them.
                lines: vec![Line {
                    points: series(&team.weeks, |w| w.mttr_seconds.map(|s| s / 60.0))
                        .into_iter()
                        .filter(|(_, y)| y.is_some())
                        .collect(),
                    ..line("MTTR", "#6a1b9a", |_| None)
                }],
                rules: Vec::new(),
                y_include: vec![0.0],
                bands: Vec::new(),
            },
        ),
        (
            "escalations",
            Chart {
                title: "Escalations (notifications)".into(),
                y_format: count_axis,
                lines: vec![line("escalations", "#ef6c00", |w| {
                    Some(w.escalations as f64)
                })],
                rules: Vec::new(),
                y_include: vec![0.0, 1.0],
                bands: Vec::new(),
            },
        ),
    ];
    // Two charts a row on a laptop, one on a phone.
    let mut html = format!(
        r#"<section class="team" data-team="{t}"><h2>{t}</h2><div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:0 12px">"#,
        t = escape(&team.team)
    );
    for (id, chart) in &charts {
        let _ = write!(
            html,
            r#"<div style="min-width:0"><h3>{}</h3><div class="card" id="trend-{id}">{}</div></div>"#,
            escape(&chart.title),
            chart.to_svg()
        );
    }
    html.push_str("</div></section>");
    html
}
