//! The backend abstraction: what the scheduler needs from a metrics store.
//!
//! Two calls cover everything: an instant query (the newest samples each tick) and a range query
//! (backfill). The Prometheus HTTP API implements it; other stores implement the same trait.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use burnwatch_engine::Millis;

/// A series' label set, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// One series with its samples, ascending in time.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Labels of the series (including `__name__` when the backend returns it).
    pub labels: Labels,
    /// `(unix ms, value)` pairs.
    pub samples: Vec<(Millis, f64)>,
}

/// What a query returned. Instant queries of a vector expression give one sample per series, of a
/// range selector several; both are carried as `Series`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    /// Every series in the result.
    pub series: Vec<Series>,
}

/// Why a backend request failed. Messages never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// No answer within the configured timeout.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    /// Connection refused, DNS, TLS and other transport failures.
    #[error("transport error: {0}")]
    Transport(String),
    /// The backend answered with an HTTP error status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the response body (the backend's own explanation).
        body: String,
    },
    /// The body was not the JSON the API promises (HTML error page, truncated, wrong shape).
    #[error("cannot decode response: {0}")]
    Decode(String),
    /// The API reported an error (`"status":"error"`), e.g. a bad query.
    #[error("{error_type}: {message}")]
    Api {
        /// `errorType` from the API.
        error_type: String,
        /// `error` from the API.
        message: String,
    },
    /// The response exceeded the size limit.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// Credentials could not be read (e.g. the token file is missing).
    #[error("credentials: {0}")]
    Credentials(String),
}

/// Text a backend sent, made safe to put in a log line: control characters (newlines above
/// all, which would let a backend forge log lines), line and paragraph separators and
/// bidirectional overrides are written as escapes (`\n`, `\u{202e}`); the rest is unchanged.
pub(crate) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

impl BackendError {
    /// The `outcome` label of `burnwatch_backend_requests_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            BackendError::Timeout(_) => "timeout",
            BackendError::Transport(_) | BackendError::Credentials(_) => "unreachable",
            BackendError::Status { .. } => "http_error",
            BackendError::Decode(_) | BackendError::TooLarge(_) => "bad_response",
            BackendError::Api { .. } => "query_error",
        }
    }

    /// Whether retrying the same request may succeed (transport trouble, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            BackendError::Timeout(_) | BackendError::Transport(_) => true,
            BackendError::Status { status, .. } => *status >= 500 || *status == 429,
            BackendError::Api { error_type, .. } => {
                matches!(
                    error_type.as_str(),
                    "timeout" | "canceled" | "internal" | "unavailable"
                )
            }
            BackendError::Decode(_) | BackendError::TooLarge(_) | BackendError::Credentials(_) => {
                false
            }
        }
    }
}

/// A metrics store that evaluates PromQL.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The configured name (the `backend` label of self-metrics).
    fn name(&self) -> &str;

    /// Evaluate `query` at `at`.
    async fn instant(&self, query: &str, at: Millis) -> Result<QueryResult, BackendError>;

    /// Evaluate `query` at every `step` from `start` to `end` inclusive.
    async fn range(
        &self,
        query: &str,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError>;
}
