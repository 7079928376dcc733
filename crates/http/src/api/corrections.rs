//! `/api/v1/corrections`: budget corrections (see `crate::corrections`), the API's only
//! endpoints that change state, so they all need the bearer token of `[server] api_token_file`:
//!
//! - `POST /api/v1/corrections` `{slos, start, end, reason, category}` -> 201 with the stored
//!   correction (and `Location`);
//! - `GET /api/v1/corrections[?slo=<id>]` -> 200 `{corrections: [...]}`, oldest start first;
//! - `DELETE /api/v1/corrections/{id}` -> 204, or 404.
//!
//! Without a token file they answer 403 (closed, never open); with a missing or wrong token 401
//! with `WWW-Authenticate: Bearer`; an unreadable or empty token file 503. Bodies are JSON of
//! at most [`MAX_CORRECTION_BYTES`]; every problem is a 400 naming the field and what to write.
//! A correction may lie in the future (a planned load test), up to [`MAX_AHEAD_MS`] ahead.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use burnwatch_engine::Millis;
use burnwatch_spec::text::{parse_rfc3339, rfc3339};
use serde::Serialize;
use serde_json::{Map, Value};

use super::ApiError;
use crate::AppState;
use burnwatch_spec::glob;

use crate::corrections::{Category, Correction, Corrections};

/// The largest body a correction may have.
pub const MAX_CORRECTION_BYTES: usize = 16 * 1024;
/// The longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// The most SLO patterns one correction may name.
pub const MAX_SLOS: usize = 100;
/// How far ahead of now a correction may end: a year (planned load tests, not typos).
pub const MAX_AHEAD_MS: Millis = 366 * 86_400_000;

const FIELDS: &str = "slos, start, end, reason and category";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/corrections", get(list).post(create))
        .route("/api/v1/corrections/{id}", delete(remove))
}

/// A correction as the API shows it.
#[derive(Debug, Serialize)]
struct CorrectionView {
    id: String,
    slos: Vec<String>,
    start: String,
    end: String,
    reason: String,
    category: &'static str,
    created_at: String,
}

impl CorrectionView {
    fn of(c: &Correction) -> CorrectionView {
        CorrectionView {
            id: c.id.clone(),
            slos: c.slos.clone(),
            start: rfc3339(c.start),
            end: rfc3339(c.end),
            reason: c.reason.clone(),
            category: c.category.as_str(),
            created_at: rfc3339(c.created_at),
        }
    }
}

#[derive(Serialize)]
struct List {
    corrections: Vec<CorrectionView>,
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<List>, Response> {
    let corrections = authorized(&state, &headers)?;
    let filter = match query.get("slo") {
        Some(id) => {
            let known = configured(&state);
            if !known.iter().any(|k| k == id) {
                return Err(ApiError::not_found(format!(
                    "no SLO {id:?}; slo= takes a configured SLO id ({})",
                    listing(&known)
                ))
                .into_response());
            }
            Some(id.clone())
        }
        None => None,
    };
    Ok(Json(List {
        corrections: corrections
            .list()
            .iter()
            .filter(|c| filter.as_ref().is_none_or(|id| c.covers(id)))
            .map(CorrectionView::of)
            .collect(),
    }))
}

async fn create(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let corrections = match authorized(&state, &headers) {
        Ok(corrections) => corrections,
        Err(refusal) => return refusal,
    };
    let bytes = match axum::body::to_bytes(body, MAX_CORRECTION_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::with_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the body is larger than {MAX_CORRECTION_BYTES} bytes; a correction is a small \
                     JSON object with {FIELDS}"
                ),
            )
            .into_response();
        }
    };
    let now = now_ms();
    let correction = match parse(&bytes, &configured(&state), now) {
        Ok(new) => Correction {
            id: corrections.new_id(),
            slos: new.slos,
            start: new.start,
            end: new.end,
            reason: new.reason,
            category: new.category,
            created_at: now,
        },
        Err(message) => return ApiError::bad_request(message).into_response(),
    };
    if let Err(err) = corrections.add(correction.clone()) {
        tracing::error!(file = %corrections.path().display(), "cannot store a correction: {err}");
        return stored_error(&corrections, &err);
    }
    tracing::info!(
        id = %correction.id,
        slos = ?correction.slos,
        start = %rfc3339(correction.start),
        end = %rfc3339(correction.end),
        category = correction.category.as_str(),
        "budget correction added"
    );
    (
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/corrections/{}", correction.id),
        )],
        Json(CorrectionView::of(&correction)),
    )
        .into_response()
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let corrections = match authorized(&state, &headers) {
        Ok(corrections) => corrections,
        Err(refusal) => return refusal,
    };
    match corrections.remove(&id) {
        Ok(true) => {
            tracing::info!(id = %id, "budget correction deleted");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => ApiError::not_found(format!(
            "no correction {id:?}; GET /api/v1/corrections lists them"
        ))
        .into_response(),
        Err(err) => {
            tracing::error!(file = %corrections.path().display(), "cannot delete a correction: {err}");
            stored_error(&corrections, &err)
        }
    }
}

fn stored_error(corrections: &Corrections, err: &std::io::Error) -> Response {
    ApiError::with_status(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "cannot write {}: {err}; nothing was changed, retry when the data directory is \
             writable",
            corrections.path().display()
        ),
    )
    .into_response()
}

/// The corrections, when the request carries the API token; else the refusal.
#[allow(clippy::result_large_err)]
fn authorized(state: &AppState, headers: &HeaderMap) -> Result<Arc<Corrections>, Response> {
    let Some(token) = &state.api_token else {
        return Err(ApiError::with_status(
            StatusCode::FORBIDDEN,
            "the corrections API is disabled: set [server] api_token_file to a file holding a \
             bearer token and send it as Authorization: Bearer <token>"
                .into(),
        )
        .into_response());
    };
    let want = match token.reveal() {
        Ok(want) if !want.is_empty() => want,
        Ok(_) | Err(_) => {
            // Closed, never open: an unreadable or empty file refuses everyone.
            tracing::error!(
                "the corrections API refused a request: the API token file ([server] \
                 api_token_file) is unreadable or empty"
            );
            return Err(ApiError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "the API token file ([server] api_token_file) is unreadable or empty; see the log"
                    .into(),
            )
            .into_response());
        }
    };
    let message = match crate::reload::bearer(headers) {
        Some(given) if crate::reload::same(given.as_bytes(), want.as_bytes()) => {
            return state.corrections.clone().ok_or_else(|| {
                ApiError::with_status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "this process keeps no corrections (it has no data directory)".into(),
                )
                .into_response()
            });
        }
        Some(_) => "the bearer token is wrong: send the token in [server] api_token_file",
        None => {
            "Authorization: Bearer <token> is missing: send the token in [server] api_token_file"
        }
    };
    Err((
        [(header::WWW_AUTHENTICATE, "Bearer")],
        ApiError::with_status(StatusCode::UNAUTHORIZED, message.into()),
    )
        .into_response())
}

/// The ids of the configured SLOs (this replica's), sorted.
fn configured(state: &AppState) -> Vec<String> {
    let Some(board) = &state.board else {
        return Vec::new();
    };
    let mut ids: Vec<String> = board
        .slos()
        .iter()
        .map(|s| s.info.id.clone())
        .chain(board.waiting().iter().map(|(info, _)| info.id.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// At most ten ids, for an error message.
fn listing(ids: &[String]) -> String {
    match ids.len() {
        0 => "none is configured".to_string(),
        n if n <= 10 => format!("configured: {}", ids.join(", ")),
        n => format!("configured: {}, and {} more", ids[..10].join(", "), n - 10),
    }
}

/// A correction as the client asked for it, checked.
struct NewCorrection {
    slos: Vec<String>,
    start: Millis,
    end: Millis,
    reason: String,
    category: Category,
}

/// Checks a request body; Err says which field is wrong and what to write.
fn parse(bytes: &[u8], known: &[String], now: Millis) -> Result<NewCorrection, String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|err| format!("the body is not JSON ({err}); send an object with {FIELDS}"))?;
    let Value::Object(object) = value else {
        return Err(format!("the body must be a JSON object with {FIELDS}"));
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !["slos", "start", "end", "reason", "category"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown field {unknown:?}: a correction has {FIELDS}"
        ));
    }
    let slos = slos(&object, known)?;
    let start = time(&object, "start")?;
    let end = time(&object, "end")?;
    if start >= end {
        return Err(format!(
            "start {} is not before end {}: a correction covers (start, end]",
            rfc3339(start),
            rfc3339(end)
        ));
    }
    if end > now.saturating_add(MAX_AHEAD_MS) {
        return Err(format!(
            "end {} is more than 366 days ahead: a correction may cover a planned span (a load \
             test), not a year from now",
            rfc3339(end)
        ));
    }
    let reason = match object.get("reason") {
        None => return Err("reason is required: say why, e.g. \"payments-db failover\"".into()),
        Some(Value::String(text)) if !text.trim().is_empty() => text.trim().to_string(),
        Some(Value::String(_)) => {
            return Err("reason is empty: say why, e.g. \"payments-db failover\"".into());
        }
        Some(_) => return Err("reason must be a string".into()),
    };
    let chars = reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(format!(
            "reason has {chars} characters, at most {MAX_REASON_CHARS} are kept: link to the \
             incident instead"
        ));
    }
    let names = Category::ALL.map(Category::as_str).join(", ");
    let category = match object.get("category") {
        None => return Err(format!("category is required: one of {names}")),
        Some(Value::String(text)) => Category::parse(text)
            .ok_or_else(|| format!("category {text:?} is not one of {names}"))?,
        Some(_) => return Err(format!("category must be a string, one of {names}")),
    };
    Ok(NewCorrection {
        slos,
        start,
        end,
        reason,
        category,
    })
}

fn slos(object: &Map<String, Value>, known: &[String]) -> Result<Vec<String>, String> {
    const EXAMPLE: &str = "e.g. [\"checkout-availability\"] or [\"checkout-*\"]";
    let Some(value) = object.get("slos") else {
        return Err(format!(
            "slos is required: a list of SLO ids or globs, {EXAMPLE}"
        ));
    };
    let Value::Array(items) = value else {
        return Err(format!(
            "slos must be a list of SLO ids or globs, {EXAMPLE}"
        ));
    };
    if items.is_empty() {
        return Err(format!("slos is empty: name at least one SLO, {EXAMPLE}"));
    }
    if items.len() > MAX_SLOS {
        return Err(format!(
            "slos has {} entries, at most {MAX_SLOS}: use globs, {EXAMPLE}",
            items.len()
        ));
    }
    let mut patterns = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(pattern) = item else {
            return Err(format!("slos[{i}] must be a string, {EXAMPLE}"));
        };
        if !known.iter().any(|id| glob::matches(pattern, id)) {
            return Err(format!(
                "slos[{i}] {pattern:?} matches no configured SLO ({})",
                listing(known)
            ));
        }
        if !patterns.contains(pattern) {
            patterns.push(pattern.clone());
        }
    }
    Ok(patterns)
}

fn time(object: &Map<String, Value>, field: &str) -> Result<Millis, String> {
    match object.get(field) {
        None => Err(format!(
            "{field} is required: RFC 3339 with a zone, e.g. 2026-10-14T09:40:00Z"
        )),
        Some(Value::String(text)) => {
            parse_rfc3339(text).map_err(|why| format!("{field} {text:?} {why}"))
        }
        Some(_) => Err(format!(
            "{field} must be a string: RFC 3339 with a zone, e.g. 2026-10-14T09:40:00Z"
        )),
    }
}

fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_791_970_800_000; // 2026-10-14T09:40:00Z

    fn known() -> Vec<String> {
        vec![
            "checkout-availability".into(),
            "checkout-latency".into(),
            "search-availability".into(),
        ]
    }

    #[test]
    fn a_valid_body_is_read_with_its_globs_and_zone() {
        let body = br#"{"slos": ["checkout-*", "search-availability", "checkout-*"],
            "start": "2026-10-13T09:00:00Z", "end": "2026-10-13T11:20:00+02:00",
            "reason": "  payments-db failover ", "category": "dependency"}"#;
        let new = parse(body, &known(), NOW).unwrap();
        assert_eq!(new.slos, vec!["checkout-*", "search-availability"]);
        // 2026-10-13T09:00:00Z is NOW minus a day; 11:20+02:00 is 09:20Z, 20 minutes later.
        assert_eq!(new.start, NOW - 86_400_000 - 40 * 60_000);
        assert_eq!(new.end - new.start, 20 * 60_000);
        assert_eq!(new.reason, "payments-db failover");
        assert_eq!(new.category, Category::Dependency);
    }

    #[test]
    fn a_planned_span_may_lie_ahead_but_not_past_a_year() {
        let ahead = br#"{"slos":["*"],"start":"2026-10-20T00:00:00Z","end":"2026-10-20T02:00:00Z","reason":"load test","category":"load_test"}"#;
        assert!(parse(ahead, &known(), NOW).is_ok());
        let far = br#"{"slos":["*"],"start":"2027-10-20T00:00:00Z","end":"2027-10-20T02:00:00Z","reason":"load test","category":"load_test"}"#;
        let err = parse(far, &known(), NOW).err().unwrap();
        assert!(
            err.starts_with("end 2027-10-20T02:00:00.000Z is more than 366 days ahead"),
            "{err}"
        );
    }
}
