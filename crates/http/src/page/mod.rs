//! The status page: `/` lists every SLO instance, `/slos/{id}` shows one with charts of its
//! budget and burn rates and its alert episodes. Server-rendered HTML with inline CSS and SVG:
//! no script, no build step, nothing fetched from elsewhere, so it works offline.
//!
//! Every figure comes from the same views the JSON API serves ([`crate::api`]).

mod detail;
mod layout;
mod trends;

use std::collections::HashMap;
use std::fmt::Write;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::api::all_views;
use crate::chart::escape;
use burnwatch_spec::text::count;
use layout::{badge, burn, page, percent};

pub use layout::STATUS_COLOURS;

/// Instances on one page of the overview (`/?page=2` for the next): the page stays about
/// 60 KB however many instances there are; counts by status cover them all.
pub const OVERVIEW_PAGE_SIZE: usize = 100;

/// The page routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview))
        .route("/slos/{id}", get(detail::detail))
        .route("/trends", get(trends::trends))
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

async fn overview(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(board) = state.board.as_ref() else {
        return not_served();
    };
    let views = all_views(board);
    let pages = views.len().div_ceil(OVERVIEW_PAGE_SIZE).max(1);
    let number = match query.get("page").map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(page)) if (1..=pages).contains(&page) => page,
        Some(_) => {
            let body = format!(
                r#"<h1>No such page</h1><p>page must be a number from 1 to {pages}.</p><p><a href="/">All SLOs</a></p>"#
            );
            return (
                StatusCode::BAD_REQUEST,
                Html(page("burnwatch: no such page", &body)),
            )
                .into_response();
        }
    };
    let shown =
        &views[(number - 1) * OVERVIEW_PAGE_SIZE..views.len().min(number * OVERVIEW_PAGE_SIZE)];
    let mut rows = String::new();
    for v in shown {
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
            budget = match v.observed() {
                Some(observed) if v.period_coverage.is_some_and(|c| c < 0.99) => format!(
                    r#"{} <span class="muted observed">{}</span>"#,
                    percent(v.budget_remaining),
                    escape(&observed)
                ),
                _ => percent(v.budget_remaining),
            },
            worst = worst.map_or("–".to_string(), |(w, b)| format!(
                "{} <span class=\"muted\">{}</span>",
                burn(Some(b)),
                escape(w)
            )),
            alerts = if let Some(error) = &v.backend_error {
                format!(
                    r#"<span class="muted backend-error">backend: {}</span>"#,
                    escape(&error.chars().take(160).collect::<String>())
                )
            } else if v.status == "backfilling" {
                r#"<span class="muted">reading history</span>"#.to_string()
            } else if v.data_state != "ok" {
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
        .map_or("not yet".to_string(), |at| {
            format!(
                "{} ({})",
                ago(at, std::time::SystemTime::now()),
                layout::when(at)
            )
        });
    let body = format!(
        r#"<h1>SLOs <small class="muted">{instances}, evaluated {evaluated}</small></h1>
<p class="counts">{counts}</p>{starting}{nav}
<table class="list"><thead><tr><th>Status</th><th>SLO</th><th>Objective</th><th>Budget left</th><th>Worst burn</th><th>Alerts</th></tr></thead>
<tbody>{rows}</tbody></table>{nav}{discovery}
<p class="muted">JSON: <a href="/api/v1/slos">/api/v1/slos</a></p>"#,
        instances = count(views.len(), "instance"),
        evaluated = escape(&evaluated),
        counts = counts(&views),
        // A cold start of many SLOs takes a while: say how far it is (what /readyz says).
        starting = match (state.ready)() {
            Ok(()) => String::new(),
            Err(why) => format!(
                r#"<p class="muted starting">Not ready yet: {}</p>"#,
                escape(&why)
            ),
        },
        nav = navigation(number, pages, shown.len(), views.len()),
        discovery = state
            .discovery
            .as_ref()
            .map_or(String::new(), |view| discovery(&view.rows())),
    );
    Html(page("burnwatch: SLO status", &body)).into_response()
}

/// The "Discovery" section: per `[[discover]]`, values found, SLOs active, in grace, capped.
fn discovery(rows: &[crate::discovery::DiscoveryRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut body = String::new();
    for r in rows {
        let _ = write!(
            body,
            r#"<tr data-discover="{name}"><td class="id">{name}</td><td data-label="Label">{label}</td><td class="num" data-label="Values found">{found}</td><td class="num" data-label="SLOs active">{active}</td><td class="num" data-label="In grace">{grace}</td><td class="num" data-label="Capped">{capped} <span class="muted">(cap {cap})</span></td><td data-label="Problem">{error}</td></tr>"#,
            name = escape(&r.name),
            label = escape(&r.label),
            found = r.found,
            active = r.active,
            grace = r.in_grace,
            capped = r.capped,
            cap = r.cap,
            error = r.error.as_deref().map_or(
                r#"<span class="muted">none</span>"#.to_string(),
                |e| format!(
                    r#"<span class="muted backend-error">{}</span>"#,
                    escape(&e.chars().take(160).collect::<String>())
                )
            ),
        );
    }
    format!(
        r#"
<h2 id="discovery">Discovery</h2>
<table class="list discovery"><thead><tr><th>Discover</th><th>Label</th><th>Values found</th><th>SLOs active</th><th>In grace</th><th>Capped</th><th>Problem</th></tr></thead>
<tbody>{body}</tbody></table>"#
    )
}

/// How long before `now` the API time `at` was, as a person says it: `12s ago`, `3m 20s ago`;
/// `just now` for a time at or after `now` (clocks of two hosts), and `at` itself when it is
/// not a time.
fn ago(at: &str, now: std::time::SystemTime) -> String {
    match humantime::parse_rfc3339(at) {
        Ok(then) => match now.duration_since(then) {
            Ok(d) if d.as_secs() > 0 => {
                format!("{} ago", burnwatch_spec::text::human_duration(d))
            }
            _ => "just now".to_string(),
        },
        Err(_) => at.to_string(),
    }
}

/// How many instances are in each status, worst first, over every page.
fn counts(views: &[crate::api::InstanceView]) -> String {
    STATUS_COLOURS
        .iter()
        .rev()
        .filter_map(|(status, _)| {
            let n = views.iter().filter(|v| v.status == *status).count();
            (n > 0).then(|| format!("{} {n}", badge(status)))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which instances this page shows and links to its neighbours; nothing on a single page.
fn navigation(page: usize, pages: usize, shown: usize, total: usize) -> String {
    if pages == 1 {
        return String::new();
    }
    let first = (page - 1) * OVERVIEW_PAGE_SIZE + 1;
    let mut nav = format!(
        r#"<p class="pages muted">Instances {first}–{last} of {total}, page {page} of {pages}"#,
        last = first + shown - 1,
    );
    if page > 1 {
        let _ = write!(
            nav,
            r#" · <a rel="prev" href="/?page={}">previous</a>"#,
            page - 1
        );
    }
    if page < pages {
        let _ = write!(
            nav,
            r#" · <a rel="next" href="/?page={}">next</a>"#,
            page + 1
        );
    }
    nav.push_str("</p>");
    nav
}

/// `0.999` as `99.9%`.
pub(crate) fn format_objective(objective: f64) -> String {
    let percent = format!("{:.4}", objective * 100.0);
    let percent = percent.trim_end_matches('0').trim_end_matches('.');
    format!("{percent}%")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::ago;

    #[test]
    fn the_overview_says_how_long_ago_it_was_evaluated() {
        // 2026-10-02T01:00:00Z is 1,790,902,800 s after the epoch.
        let at = "2026-10-02T01:00:00.000Z";
        let then = UNIX_EPOCH + Duration::from_secs(1_790_902_800);
        assert_eq!(ago(at, then + Duration::from_secs(12)), "12s ago");
        assert_eq!(ago(at, then + Duration::from_secs(200)), "3m 20s ago");
        assert_eq!(ago(at, then), "just now");
        assert_eq!(ago(at, then - Duration::from_secs(5)), "just now");
    }
}
