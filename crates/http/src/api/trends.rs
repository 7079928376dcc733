//! `GET /api/v1/trends`: the six-month record's daily rows (`record.db`), and their weekly
//! figures per team label, as JSON or CSV.
//!
//! Parameters: `slo` (one SLO id; all when absent), `from` and `to` (UTC dates `YYYY-MM-DD`,
//! inclusive; default the 182 days up to yesterday), `format` (`json`, the default, or `csv`:
//! the daily rows only, RFC 4180). 400 for a bad parameter, 503 while the record is not open.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use burnwatch_record::trends::{TeamTrend, weekly};
use burnwatch_record::{Day, DayRow, RecordDb};
use serde::Serialize;

use super::ApiError;
use crate::AppState;

/// Days the page and the API show by default: six months, 26 whole weeks.
pub(crate) const DEFAULT_DAYS: i64 = 182;

/// The most days one request may ask for.
const MAX_DAYS: i64 = 3_660;

/// What `/api/v1/trends` answers.
#[derive(Serialize)]
pub(crate) struct Trends {
    /// First day, inclusive.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// The daily rows, by SLO, instance and day.
    pub days: Vec<DayRow>,
    /// Weekly figures per team.
    pub teams: Vec<TeamTrend>,
}

/// The range and SLO `query` asks for.
pub(crate) fn range(
    query: &HashMap<String, String>,
    now_ms: i64,
) -> Result<burnwatch_record::Query, ApiError> {
    let day = |name: &str| -> Result<Option<Day>, ApiError> {
        query
            .get(name)
            .map(|text| {
                Day::parse(text).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{name}={text:?} is not a date: write YYYY-MM-DD (UTC), e.g. 2026-06-01"
                    ))
                })
            })
            .transpose()
    };
    let yesterday = Day::of(now_ms).plus(-1);
    let to = day("to")?.unwrap_or(yesterday);
    let from = day("from")?.unwrap_or(to.plus(1 - DEFAULT_DAYS));
    if from > to {
        return Err(ApiError::bad_request(format!(
            "from={from} is after to={to}"
        )));
    }
    if to.0 - from.0 >= MAX_DAYS {
        return Err(ApiError::bad_request(format!(
            "from={from} to={to} spans more than {MAX_DAYS} days"
        )));
    }
    Ok(burnwatch_record::Query {
        slo: query.get("slo").cloned().filter(|s| !s.is_empty()),
        from,
        to,
    })
}

/// Reads the rows off the async threads; 503 while the record is not open.
pub(crate) async fn read(
    state: &AppState,
    query: burnwatch_record::Query,
) -> Result<Trends, ApiError> {
    let db: std::sync::Arc<RecordDb> = state.record.get().ok_or_else(|| {
        ApiError::no_evidence(
            "the six-month record is not open (disabled in [record], still opening, or it \
             could not be created in the data directory)"
                .into(),
        )
    })?;
    let (from, to) = (query.from, query.to);
    let days = tokio::task::spawn_blocking(move || db.days(&query))
        .await
        .map_err(|err| {
            ApiError::with_status(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("record read failed: {err}"),
            )
        })?
        .map_err(|err| {
            ApiError::with_status(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("record read failed: {err}"),
            )
        })?;
    let teams = weekly(&days, from, to);
    Ok(Trends {
        from: from.to_string(),
        to: to.to_string(),
        days,
        teams,
    })
}

pub(crate) async fn trends(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let csv = match query.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "format={other:?}: write json or csv"
            )));
        }
    };
    let asked = range(&query, now_ms())?;
    let trends = read(&state, asked).await?;
    Ok(if csv {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"burnwatch-trends.csv\"",
                ),
            ],
            burnwatch_record::csv::render(&trends.days),
        )
            .into_response()
    } else {
        Json(trends).into_response()
    })
}

/// Wall-clock unix milliseconds: which day is yesterday.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
