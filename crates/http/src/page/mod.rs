//! The status page: `/` lists every SLO instance, `/slos/{id}` shows one with charts of its
//! budget and burn rates and its alert episodes. Server-rendered HTML with inline CSS and SVG:
//! no script, no build step, nothing fetched from elsewhere, so it works offline.
//!
//! Every figure comes from the same views the JSON API serves ([`crate::api`]).

mod detail;
mod layout;

use std::fmt::Write;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::api::all_views;
use crate::chart::escape;
use layout::{badge, burn, page, percent};

pub use layout::STATUS_COLOURS;

/// The page routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview))
        .route("/slos/{id}", get(detail::detail))
}

/// A path segment with everything but unreserved characters percent-encoded.
pub(crate) fn encode_segment(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn not_served() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(page(
            "burnwatch",
            "<p>No SLO state is served by this process.</p>",
        )),
    )
        .into_response()
}

async fn overview(State(state): State<AppState>) -> Response {
    let Some(board) = state.board.as_ref() else {
        return not_served();
    };
    let views = all_views(board);
    let mut rows = String::new();
    for v in &views {
        let worst = v
            .burn_rate
            .0
            .iter()
            .filter_map(|(w, b)| b.map(|b| (w, b)))
            .fold(None::<(&String, f64)>, |best, (w, b)| match best {
                Some((_, x)) if x >= b => best,
                _ => Some((w, b)),
            });
        let firing: Vec<String> = v
            .alerts
            .0
            .iter()
            .filter(|(_, a)| a.state != "inactive")
            .map(|(k, a)| format!("{k} ({})", a.state))
            .collect();
        let bar = v
            .budget_remaining
            .map(|r| (r.clamp(0.0, 1.0) * 100.0).round())
            .unwrap_or(0.0);
        let _ = write!(
            rows,
            r#"<tr data-id="{id}" data-status="{status}"><td data-label="Status">{badge}</td><td class="id"><a href="/slos/{href}">{id}</a></td><td class="num" data-label="Objective">{objective} / {period}</td><td class="num budget" data-label="Budget left">{budget}<div class="bar"><i style="width:{bar}%"></i></div></td><td class="num" data-label="Worst burn">{worst}</td><td data-label="Alerts">{alerts}</td></tr>"#,
            id = escape(&v.id),
            status = v.status,
            badge = badge(v.status),
            href = encode_segment(&v.id),
            objective = format_objective(v.objective),
            period = escape(&v.period),
            budget = percent(v.budget_remaining),
            worst = worst.map_or("–".to_string(), |(w, b)| format!(
                "{} <span class=\"muted\">{}</span>",
                burn(Some(b)),
                escape(w)
            )),
            alerts = if v.data_state != "ok" {
                format!(
                    r#"<span class="muted">{}</span> {}"#,
                    v.data_state.replace('_', " "),
                    escape(&firing.join(", "))
                )
            } else if firing.is_empty() {
                r#"<span class="muted">none</span>"#.to_string()
            } else {
                escape(&firing.join(", "))
            },
        );
    }
    let evaluated = views
        .iter()
        .filter_map(|v| v.evaluated_at.as_deref())
        .max()
        .unwrap_or("not yet");
    let body = format!(
        r#"<h1>SLOs <small class="muted">{n} instances, evaluated {evaluated}</small></h1>
<table class="list"><thead><tr><th>Status</th><th>SLO</th><th>Objective</th><th>Budget left</th><th>Worst burn</th><th>Alerts</th></tr></thead>
<tbody>{rows}</tbody></table>
<p class="muted">JSON: <a href="/api/v1/slos">/api/v1/slos</a></p>"#,
        n = views.len(),
        evaluated = escape(evaluated),
    );
    Html(page("burnwatch: SLO status", &body)).into_response()
}

/// `0.999` as `99.9%`.
pub(crate) fn format_objective(objective: f64) -> String {
    let percent = format!("{:.4}", objective * 100.0);
    let percent = percent.trim_end_matches('0').trim_end_matches('.');
    format!("{percent}%")
}
