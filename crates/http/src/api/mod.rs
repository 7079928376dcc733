//! The read-only JSON API under `/api/v1` (docs/api.md, docs/openapi.yaml):
//!
//! - `GET /api/v1/slos`: every SLO instance;
//! - `GET /api/v1/slos/{id}`: one instance (a composite with its `components`);
//! - `GET /api/v1/slos/{id}/history?window=7d`: the points and alert episodes the daemon holds;
//! - `GET /api/v1/slos/{id}/decision?risk=low|medium|high`: the release gate;
//! - `GET /api/v1/trends?slo=&from=&to=&format=json|csv`: the six-month record (`trends.rs`);
//! - `/api/v1/corrections`: budget corrections, behind a bearer token (see `corrections.rs`).
//!
//! Errors are `{"error": "..."}` with 400 (bad parameter), 404 (unknown SLO) or 503 (and, for
//! corrections, 401, 403, 413 and 500).

mod components;
mod corrections;
mod decision;
mod error;
mod exclusions;
mod lookup;
pub(crate) mod trends;
mod view;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use burnwatch_engine::{Board, Risk, SloStatus};
use serde::Serialize;

pub use corrections::{MAX_AHEAD_MS, MAX_CORRECTION_BYTES, MAX_REASON_CHARS, MAX_SLOS};
pub use error::ApiError;
pub(crate) use exclusions::ExclusionView;
/// What the status page shares with the API: one view of an instance, one way to find it.
pub(crate) use lookup::{Subject, resolve_one};
use lookup::{instance_id, resolve};
use view::PointView;
pub(crate) use view::{EpisodeView, InstanceView, window};

use crate::AppState;

/// The API's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/slos", get(list))
        .route("/api/v1/slos/{id}", get(one))
        .route("/api/v1/slos/{id}/history", get(history))
        .route("/api/v1/slos/{id}/decision", get(decision))
        .route("/api/v1/trends", get(trends::trends))
        .merge(corrections::routes())
}

fn board(state: &AppState) -> Result<&Arc<Board>, ApiError> {
    state.board.as_ref().ok_or_else(ApiError::unavailable)
}

/// Every instance, then every SLO without one, as the status page lists them.
pub(crate) fn all_views(board: &Board) -> Vec<InstanceView> {
    let entries = board.entries();
    let mut views: Vec<InstanceView> = entries
        .iter()
        .map(|e| InstanceView::of(e, &board.spans(&e.info.slo.id)).with_components(board))
        .collect();
    for slo in board.slos() {
        if !entries.iter().any(|e| e.info.slo.id == slo.info.id) {
            views.push(InstanceView::empty(&slo));
        }
    }
    for (info, why) in board.waiting() {
        views.push(InstanceView::empty(&SloStatus::unknown(info)).waiting(Some(why)));
    }
    views.sort_by(|a, b| a.id.cmp(&b.id));
    views
}

#[derive(Serialize)]
struct List {
    slos: Vec<InstanceView>,
}

async fn list(State(state): State<AppState>) -> Result<Json<List>, ApiError> {
    Ok(Json(List {
        slos: all_views(board(&state)?),
    }))
}

async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<InstanceView>, ApiError> {
    let board = board(&state)?;
    Ok(Json(match resolve_one(board, &id)? {
        Subject::Instances(entries) => {
            InstanceView::of(&entries[0], &board.spans(&entries[0].info.slo.id))
                .with_components(board)
        }
        Subject::Empty(slo) => InstanceView::empty(&slo).waiting_on(board),
    }))
}

#[derive(Serialize)]
struct History {
    id: String,
    window: String,
    windows: Vec<String>,
    points: Vec<PointView>,
    episodes: Vec<EpisodeView>,
}

async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<History>, ApiError> {
    let board = board(&state)?;
    let subject = resolve_one(board, &id)?;
    let requested = query
        .get("window")
        .map(|text| {
            burnwatch_spec::parse_duration(text)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "window {text:?} is not a duration: write e.g. 6h, 7d or 30d"
                    ))
                })
        })
        .transpose()?;
    let entries = match subject {
        Subject::Instances(entries) => entries,
        Subject::Empty(slo) => {
            return Ok(Json(History {
                id,
                window: view::window(requested.unwrap_or(slo.info.period).min(slo.info.period)),
                windows: Vec::new(),
                points: Vec::new(),
                episodes: Vec::new(),
            }));
        }
    };
    let entry = &entries[0];
    // At most the period: older points are not kept.
    let window = requested
        .unwrap_or(entry.info.slo.period)
        .min(entry.info.slo.period);
    let since = entry
        .eval
        .at
        .saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
    let trail = board.trail(&entry.info.key());
    let (windows, points, episodes) = match &trail {
        Some(trail) => {
            let names: Vec<String> = trail.windows().iter().map(|w| view::window(*w)).collect();
            let points = trail
                .points(since)
                .iter()
                .map(|p| PointView::of(p, &names))
                .collect();
            let episodes = trail
                .episodes()
                .filter(|e| e.resolved_at.is_none_or(|end| end >= since))
                .map(EpisodeView::of)
                .collect();
            (names, points, episodes)
        }
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    Ok(Json(History {
        id: instance_id(&entry.info),
        window: view::window(window),
        windows,
        points,
        episodes,
    }))
}

async fn decision(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<decision::DecisionView>, ApiError> {
    let subject = resolve(board(&state)?, &id)?;
    let risk = match query.get("risk") {
        None => {
            return Err(ApiError::bad_request(
                "risk is required: risk=low, risk=medium or risk=high".into(),
            ));
        }
        Some(text) => Risk::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!("risk {text:?} is not one of low, medium, high"))
        })?,
    };
    if let Some(why) = decision::no_evidence(&subject) {
        return Err(ApiError::no_evidence(why));
    }
    Ok(Json(decision::decide(&id, &subject, risk)))
}
