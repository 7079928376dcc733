//! The Prometheus backend: a client for the Prometheus HTTP API (`/api/v1/query`,
//! `/api/v1/query_range`), the PromQL for every [`Read`] ([`promql`]), and the decoding of its
//! answers and errors ([`response`]).
//!
//! Works with Prometheus and the stores that speak its API (Thanos, Mimir, VictoriaMetrics):
//! custom headers (e.g. `X-Scope-OrgID`), bearer tokens re-read from file on every request so
//! rotated service-account tokens work, basic auth, TLS via rustls. Queries are sent as POST forms
//! so long selectors never hit URL length limits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use burnwatch_engine::Millis;
use burnwatch_spec::{Auth, Backend as BackendConfig, SecretSource};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::backend::{Backend, BackendError, QueryResult, Read, Series, printable};
use crate::metrics::SchedulerMetrics;

mod promql;
mod response;

pub use promql::promql_duration;
pub use response::decode;

/// Largest response body accepted; beyond it the request fails instead of growing memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A Prometheus-API backend.
pub struct PrometheusBackend {
    name: String,
    base: String,
    timeout: Duration,
    auth: Option<Auth>,
    client: reqwest::Client,
    max_response_bytes: usize,
    metrics: Arc<SchedulerMetrics>,
}

impl std::fmt::Debug for PrometheusBackend {
    // Hand-written so that headers and credentials can never be printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusBackend")
            .field("name", &self.name)
            .field("url", &self.base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PrometheusBackend {
    /// Build a client from validated configuration.
    pub fn new(
        config: &BackendConfig,
        metrics: Arc<SchedulerMetrics>,
    ) -> Result<Self, BackendError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                BackendError::Credentials(format!(
                    "header name {name:?} is not a valid HTTP header"
                ))
            })?;
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                BackendError::Credentials(format!("value of header {name} is not valid in HTTP"))
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let client = burnwatch_store::client::build(burnwatch_store::client::ClientOptions {
            timeout: config.timeout,
            headers,
            follow_redirects: true,
        })
        .map_err(BackendError::Transport)?;
        Ok(Self {
            name: config.name.clone(),
            base: config.url.trim_end_matches('/').to_string(),
            timeout: config.timeout,
            auth: config.auth.clone(),
            client,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            metrics,
        })
    }

    /// Change the response size limit (tests use a small one).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    async fn post(&self, path: &str, form: &[(&str, String)]) -> Result<QueryResult, BackendError> {
        let started = Instant::now();
        let result = self.post_inner(path, form).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(err) => err.outcome(),
        };
        self.metrics
            .record_request(&self.name, outcome, started.elapsed());
        result
    }

    async fn post_inner(
        &self,
        path: &str,
        form: &[(&str, String)],
    ) -> Result<QueryResult, BackendError> {
        let mut request = self
            .client
            .post(format!("{}{}", self.base, path))
            .form(form);
        request = match &self.auth {
            None => request,
            Some(Auth::Bearer(token)) => request.bearer_auth(read_secret(token)?),
            Some(Auth::Basic { username, password }) => {
                request.basic_auth(username, Some(read_secret(password)?))
            }
        };
        let mut response = request.send().await.map_err(|err| self.transport(err))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| self.transport(err))? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(BackendError::TooLarge(self.max_response_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        // The API answers 400/422/503 with a JSON error body worth showing; anything else
        // non-2xx is reported with the start of whatever came back.
        match decode(&body) {
            Err(BackendError::Decode(_)) if !status.is_success() => Err(BackendError::Status {
                status: status.as_u16(),
                body: printable(&String::from_utf8_lossy(&body[..body.len().min(200)])),
            }),
            other => other,
        }
    }

    fn transport(&self, err: reqwest::Error) -> BackendError {
        if err.is_timeout() {
            BackendError::Timeout(self.timeout)
        } else {
            // A URL may carry credentials in its user-info part: describe() never shows it.
            BackendError::Transport(burnwatch_store::client::describe(err))
        }
    }
}

fn read_secret(source: &SecretSource) -> Result<String, BackendError> {
    source.reveal().map_err(BackendError::Credentials)
}

/// Prometheus accepts RFC 3339 or unix seconds with a fraction.
fn seconds(ms: Millis) -> String {
    format!("{}", ms as f64 / 1000.0)
}

impl PrometheusBackend {
    /// Evaluate PromQL `query` at `at` (tests and tools; the scheduler reads through [`Backend`]).
    pub async fn instant_query(
        &self,
        query: &str,
        at: Millis,
    ) -> Result<QueryResult, BackendError> {
        self.post(
            "/api/v1/query",
            &[("query", query.to_string()), ("time", seconds(at))],
        )
        .await
    }

    /// Evaluate PromQL `query` at every `step` from `start` to `end` inclusive.
    pub async fn range_query(
        &self,
        query: &str,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError> {
        self.post(
            "/api/v1/query_range",
            &[
                ("query", query.to_string()),
                ("start", seconds(start)),
                ("end", seconds(end)),
                ("step", format!("{}", step.as_secs_f64())),
                // What the query cost, so history reads can be paced by it (see `pacer.rs`).
                ("stats", "all".to_string()),
            ],
        )
        .await
    }
}

/// A Datadog metric query is no PromQL (validation keeps such SLOs off Prometheus backends).
fn refuse(read: &Read<'_>) -> Result<(), BackendError> {
    match read {
        Read::Counts { .. } => Err(BackendError::Api {
            error_type: "unsupported".into(),
            message: "a prometheus backend cannot read Datadog metric queries: give the SLO a \
                      backend of type = \"datadog\""
                .into(),
            transient: false,
        }),
        _ => Ok(()),
    }
}

/// A boundary read's answer: the reset rows, marked by [`promql::RESETS_LABEL`], apart.
fn split_resets(read: &Read<'_>, mut result: QueryResult) -> QueryResult {
    if matches!(read, Read::Boundaries { .. }) {
        let (resets, series): (Vec<Series>, Vec<Series>) = result
            .series
            .into_iter()
            .partition(|s| s.labels.contains_key(promql::RESETS_LABEL));
        result.series = series;
        result.resets = resets
            .into_iter()
            .map(|mut s| {
                s.labels.remove(promql::RESETS_LABEL);
                s
            })
            .collect();
    }
    result
}

#[async_trait]
impl Backend for PrometheusBackend {
    fn name(&self) -> &str {
        &self.name
    }

    async fn instant(&self, read: Read<'_>, at: Millis) -> Result<QueryResult, BackendError> {
        refuse(&read)?;
        let query = promql::promql(&read);
        let result = self.instant_query(&query, at).await.inspect_err(|err| {
            tracing::debug!(backend = %self.name, query = %query, error = %err, "query failed");
        })?;
        Ok(split_resets(&read, result))
    }

    async fn range(
        &self,
        read: Read<'_>,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError> {
        refuse(&read)?;
        let query = promql::promql(&read);
        let result = self
            .range_query(&query, start, end, step)
            .await
            .inspect_err(|err| {
                tracing::debug!(backend = %self.name, query = %query, error = %err, "range query failed");
            })?;
        Ok(split_resets(&read, result))
    }
}
