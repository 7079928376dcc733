//! The backend abstraction: what the scheduler needs from a metrics store.
//!
//! The scheduler says *what* it needs ([`Read`]: raw samples since a time, counters per series at
//! bucket boundaries, a ratio over a window), never how to query it: building queries (PromQL
//! for the Prometheus API) and classifying a store's own errors is each backend's business. Two
//! calls cover everything: at one instant (each tick) and at every step of a range (history).
//! Adding a backend is one module implementing [`Backend`] and one line in
//! [`crate::backends::connect`].

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use burnwatch_engine::Millis;
use burnwatch_spec::{DatadogQuery, Selector, Template};

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

/// What a read returned: per series, one sample (a value at an instant), several (raw samples, or
/// one per step of a range).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    /// Every series in the result.
    pub series: Vec<Series>,
    /// For [`Read::Boundaries`]: per series (labels without the metric name), its resets within
    /// the step before each point, at every point where it has samples in that step.
    pub resets: Vec<Series>,
    /// The samples the store says it loaded to answer (Prometheus' `stats=all`), when it says.
    pub loaded: Option<u64>,
}

impl QueryResult {
    /// What the read cost the store in samples: as it says, or else the points it returned.
    pub fn cost(&self) -> u64 {
        self.loaded.unwrap_or_else(|| {
            self.series
                .iter()
                .chain(&self.resets)
                .map(|s| s.samples.len() as u64)
                .sum()
        })
    }
}

/// What the scheduler asks a backend for.
#[derive(Debug, Clone, Copy)]
pub enum Read<'a> {
    /// Raw samples of every series of `selector` over `(t - range, t]` (instant reads only).
    Samples {
        /// The counter.
        selector: &'a Selector,
        /// How far back from the evaluation time.
        range: Duration,
    },
    /// Every series' value at the evaluation time: its last sample at or before it, within the
    /// store's lookback.
    Values {
        /// The counter.
        selector: &'a Selector,
    },
    /// At every point of a range (its step being `step`): every series' value, as
    /// [`Read::Values`], and its resets within the step before the point
    /// ([`QueryResult::resets`]).
    Boundaries {
        /// The counter.
        selector: &'a Selector,
        /// The range's step.
        step: Duration,
    },
    /// The counter's increase over `step` before each point, summed per `group_by` group:
    /// extrapolated, right only on average (the fallback when a selector has too many series).
    Increase {
        /// The counter.
        selector: &'a Selector,
        /// The span each point covers.
        step: Duration,
        /// Labels to sum by.
        group_by: &'a [String],
    },
    /// A rate template over `span` times its length: events over the span before each point.
    RateEvents {
        /// The rate (`{{.window}}` placeholder).
        template: &'a Template,
        /// The span.
        span: Duration,
    },
    /// Per point, the number of raw samples (`Stat::Count`) or their sum (`Stat::Sum`) in the
    /// `step` before it, summed per `group_by` group: a gauge's samples counted exactly.
    SampleStats {
        /// The gauge.
        selector: &'a Selector,
        /// The span each point covers.
        step: Duration,
        /// Labels to sum by.
        group_by: &'a [String],
        /// Count or sum.
        stat: Stat,
    },
    /// A query's value per series, as written (a threshold SLI's query).
    Expression {
        /// The query.
        query: &'a str,
    },
    /// A metric query's events in the `step` before each point, per `group_by` group, as the
    /// store counts them (a Datadog rollup sum): exact per step.
    Counts {
        /// The query.
        query: &'a DatadogQuery,
        /// The span each point covers.
        step: Duration,
        /// Tags to group by.
        group_by: &'a [String],
    },
    /// Every value `label` has on the series of `selector` present at the evaluation time
    /// (one series per value, labelled with it alone): what `[[discover]]` turns into SLOs.
    /// Series gone stale (an exporter stopped exposing them) are not present.
    LabelValues {
        /// The series.
        selector: &'a Selector,
        /// The label.
        label: &'a str,
    },
    /// An error-ratio template over `window`.
    Ratio {
        /// The ratio (`{{.window}}` placeholder).
        template: &'a Template,
        /// The window.
        window: Duration,
    },
}

/// What [`Read::SampleStats`] adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// How many samples.
    Count,
    /// The sum of their values.
    Sum,
}

/// Why a backend request failed. Messages never contain credentials.
#[derive(Debug, Clone, thiserror::Error)]
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
    /// The store reported an error of its own, e.g. a bad query.
    #[error("{error_type}: {message}")]
    Api {
        /// The store's error type (`errorType` in the Prometheus API).
        error_type: String,
        /// The store's message.
        message: String,
        /// Whether the store says trying again may work (overload, timeout, cancelled).
        transient: bool,
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

    /// Whether the backend has said this itself, once for all its SLOs (bad credentials): the
    /// SLOs reading it then do not repeat it one by one.
    pub fn said_by_backend(&self) -> bool {
        matches!(self, BackendError::Api { error_type, .. } if error_type == "forbidden")
    }

    /// Whether retrying the same request may succeed (transport trouble, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            BackendError::Timeout(_) | BackendError::Transport(_) => true,
            BackendError::Status { status, .. } => *status >= 500 || *status == 429,
            BackendError::Api { transient, .. } => *transient,
            BackendError::Decode(_) | BackendError::TooLarge(_) | BackendError::Credentials(_) => {
                false
            }
        }
    }
}

/// A metrics store.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The configured name (the `backend` label of self-metrics).
    fn name(&self) -> &str;

    /// `read` at `at`.
    async fn instant(&self, read: Read<'_>, at: Millis) -> Result<QueryResult, BackendError>;

    /// `read` at every `step` from `start` to `end` inclusive.
    async fn range(
        &self,
        read: Read<'_>,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError>;
}
