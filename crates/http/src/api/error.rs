//! Errors of the JSON API: a status code and `{"error": "..."}` saying what was wrong.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A request the API cannot answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// 400, 401, 403, 404, 413, 500 or 503.
    pub status: StatusCode,
    /// What was wrong and what would be right.
    pub message: String,
}

impl ApiError {
    /// Any status with its message (the corrections endpoints: 401, 403, 413, 500).
    pub fn with_status(status: StatusCode, message: String) -> ApiError {
        ApiError { status, message }
    }

    /// 404: no such SLO or instance.
    pub fn not_found(message: String) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message,
        }
    }

    /// 400: a parameter is missing or invalid.
    pub fn bad_request(message: String) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message,
        }
    }

    /// 503: the SLO has no data to decide from; the gate fails closed rather than approve
    /// what it cannot see.
    pub fn no_evidence(message: String) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message,
        }
    }

    /// 503: the daemon serves no board (not wired).
    pub fn unavailable() -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "no SLO state is served by this process".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}
