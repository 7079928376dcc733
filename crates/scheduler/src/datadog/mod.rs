//! The Datadog backend: metric queries through the v1 query API (`GET /api/v1/query?from&to&query`)
//! with an explicit `.rollup(sum, <step>)`, so every point is the exact number of events in its
//! interval; tag groups become label sets (instances), `null` points holes.
//!
//! Datadog stamps a rollup point with its interval's start: the point at `P` holds the events
//! of `[P, P + step)`, which burnwatch files as the step ending at `P + step` (as a Prometheus
//! read files a step's events at its end). Ranges are read in chunks of at most
//! [`MAX_POINTS`] points per series. Rate limits are honoured from the documented headers
//! (`X-RateLimit-Limit`, `-Period`, `-Remaining`, `-Reset`): with none remaining, or on a 429,
//! the backend waits until the window resets and asks again, so a storm of 429s delays reads
//! but loses none. Only [`Read::Counts`] can be answered: the other reads are PromQL's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use burnwatch_engine::Millis;
use burnwatch_spec::{Backend as BackendConfig, Datadog, DatadogQuery, SecretSource};
use reqwest::header::{HeaderMap, HeaderValue};

use crate::backend::{Backend, BackendError, QueryResult, Read, printable};
use crate::metrics::SchedulerMetrics;

mod response;

pub use response::decode;

/// Points per series asked for in one request: Datadog answers an explicit rollup with at most
/// this many points (a wider range would get a coarser rollup than asked for).
pub const MAX_POINTS: i64 = 1_500;

/// How many times one request waits out a 429 before it gives up (transiently: the tick after
/// reads the same span again).
const MAX_RATE_LIMIT_WAITS: u32 = 8;

/// The longest wait for a rate-limit window to reset; longer resets are waited in turns.
const MAX_RESET_WAIT: Duration = Duration::from_secs(60);

/// A Datadog metrics backend.
pub struct DatadogBackend {
    name: String,
    base: String,
    timeout: Duration,
    keys: Datadog,
    client: reqwest::Client,
    metrics: Arc<SchedulerMetrics>,
    /// When the current rate-limit window resets, when none are left in it.
    exhausted_until: tokio::sync::Mutex<Option<Instant>>,
    /// Whether bad keys were already reported (once per backend, until a request succeeds).
    forbidden_said: AtomicBool,
}

impl std::fmt::Debug for DatadogBackend {
    // Hand-written so that the keys can never be printed: name and site only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatadogBackend({} at {})", self.name, self.base)
    }
}

impl DatadogBackend {
    /// Build a client from validated configuration.
    pub fn new(
        config: &BackendConfig,
        metrics: Arc<SchedulerMetrics>,
    ) -> Result<Self, BackendError> {
        let keys = config.datadog.clone().ok_or_else(|| {
            BackendError::Credentials("a datadog backend needs its keys".to_string())
        })?;
        let client = burnwatch_store::client::build(burnwatch_store::client::ClientOptions {
            timeout: config.timeout,
            headers: HeaderMap::new(),
            follow_redirects: true,
        })
        .map_err(BackendError::Transport)?;
        Ok(Self {
            name: config.name.clone(),
            base: config.url.trim_end_matches('/').to_string(),
            timeout: config.timeout,
            keys,
            client,
            metrics,
            exhausted_until: tokio::sync::Mutex::new(None),
            forbidden_said: AtomicBool::new(false),
        })
    }

    /// `query` over `[from, to)` (unix seconds), waiting out rate limits.
    async fn query(&self, query: &str, from: i64, to: i64) -> Result<QueryResult, BackendError> {
        let mut waits = 0;
        loop {
            self.wait_for_window().await;
            let started = Instant::now();
            let result = self.send(query, from, to).await;
            let outcome = match &result {
                Ok(_) => "success",
                Err(Sent::RateLimited(_)) => "http_error",
                Err(Sent::Failed(err)) => err.outcome(),
            };
            self.metrics
                .record_request(&self.name, outcome, started.elapsed());
            match result {
                Ok(result) => {
                    self.forbidden_said.store(false, Ordering::Relaxed);
                    return Ok(result);
                }
                Err(Sent::RateLimited(reset)) if waits < MAX_RATE_LIMIT_WAITS => {
                    waits += 1;
                    tracing::debug!(backend = %self.name, retry_in = ?reset, "rate limited (429)");
                    *self.exhausted_until.lock().await = Some(Instant::now() + reset);
                }
                Err(Sent::RateLimited(_)) => {
                    return Err(BackendError::Status {
                        status: 429,
                        body: "rate limited on every attempt".into(),
                    });
                }
                Err(Sent::Failed(err)) => return Err(err),
            }
        }
    }

    /// Sleeps until the rate-limit window resets when the last answer said none are left
    /// (every request waiting then, not only the first to look).
    async fn wait_for_window(&self) {
        let until = *self.exhausted_until.lock().await;
        if let Some(until) = until.filter(|u| *u > Instant::now()) {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    async fn send(&self, query: &str, from: i64, to: i64) -> Result<QueryResult, Sent> {
        let mut headers = HeaderMap::new();
        for (name, source) in [
            ("DD-API-KEY", &self.keys.api_key),
            ("DD-APPLICATION-KEY", &self.keys.application_key),
        ] {
            let mut value = HeaderValue::from_str(&reveal(source)?).map_err(|_| {
                Sent::Failed(BackendError::Credentials(format!(
                    "the {name} key has a character HTTP headers cannot carry (not shown)"
                )))
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v1/query", self.base),
            &[
                ("from", from.to_string()),
                ("to", to.to_string()),
                ("query", query.to_string()),
            ],
        )
        .map_err(|e| Sent::Failed(BackendError::Transport(format!("bad API URL: {e}"))))?;
        let request = self.client.get(url).headers(headers);
        let mut response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let limits = RateLimit::from_headers(response.headers());
        if limits.remaining == Some(0) {
            *self.exhausted_until.lock().await = Some(Instant::now() + limits.reset_wait());
        }
        if status == 429 {
            return Err(Sent::RateLimited(limits.reset_wait()));
        }
        // Read up to the size limit, never further (a runaway answer must not grow memory).
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if body.len() + chunk.len() > crate::DEFAULT_MAX_RESPONSE_BYTES {
                return Err(Sent::Failed(BackendError::TooLarge(
                    crate::DEFAULT_MAX_RESPONSE_BYTES,
                )));
            }
            body.extend_from_slice(&chunk);
        }
        match status {
            200..=299 => decode(&body).map_err(Sent::Failed),
            403 | 401 => {
                if !self.forbidden_said.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        backend = %self.name,
                        status,
                        "Datadog refused the API or application key: check api_key and \
                         application_key (and that the application key may query timeseries); \
                         nothing is read from this backend until it accepts them"
                    );
                }
                Err(Sent::Failed(BackendError::Api {
                    error_type: "forbidden".into(),
                    message: format!(
                        "Datadog refused the API or application key (HTTP {status}); check \
                         api_key and application_key"
                    ),
                    transient: false,
                }))
            }
            400 => Err(Sent::Failed(BackendError::Api {
                error_type: "bad_query".into(),
                message: format!("{} (query: {query})", response::errors_text(&body)),
                transient: false,
            })),
            _ => Err(Sent::Failed(BackendError::Status {
                status,
                body: printable(&String::from_utf8_lossy(&body[..body.len().min(200)])),
            })),
        }
    }

    fn transport(&self, err: reqwest::Error) -> Sent {
        Sent::Failed(if err.is_timeout() {
            BackendError::Timeout(self.timeout)
        } else {
            BackendError::Transport(burnwatch_store::client::describe(err))
        })
    }

    /// Events of `query` per `step`, per tag group, for the steps ending at `start`, `start +
    /// step`, ... `end`: one request per [`MAX_POINTS`] steps.
    async fn counts(
        &self,
        query: &DatadogQuery,
        group_by: &[String],
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError> {
        let step_ms = step.as_millis() as i64;
        if step_ms < 1000 || step_ms % 1000 != 0 {
            return Err(BackendError::Api {
                error_type: "unsupported".into(),
                message: format!("Datadog rolls up by whole seconds, not by {step:?}"),
                transient: false,
            });
        }
        let text = query.render(group_by, step.as_secs());
        let mut result = QueryResult::default();
        let mut first = start;
        while first <= end {
            let last = (first + (MAX_POINTS - 1) * step_ms).min(end);
            // The interval starting at `first - step` ends at `first`.
            let from = (first - step_ms).div_euclid(1000);
            let to = last.div_euclid(1000);
            let chunk = self.query(&text, from, to).await.inspect_err(|err| {
                tracing::debug!(backend = %self.name, query = %text, error = %err, "query failed");
            })?;
            response::merge(&mut result, chunk, step_ms, first, last);
            first = last + step_ms;
        }
        Ok(result)
    }
}

/// How one request ended, before rate limits are waited out.
enum Sent {
    /// 429: try again after this long.
    RateLimited(Duration),
    /// Any other failure.
    Failed(BackendError),
}

fn reveal(source: &SecretSource) -> Result<String, Sent> {
    source
        .reveal()
        .map_err(|why| Sent::Failed(BackendError::Credentials(why)))
}

/// The documented rate-limit headers of one answer.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct RateLimit {
    remaining: Option<u64>,
    /// Seconds until the window resets.
    reset: Option<u64>,
    /// The window's length in seconds.
    period: Option<u64>,
}

impl RateLimit {
    fn from_headers(headers: &HeaderMap) -> Self {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        Self {
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
            period: number("x-ratelimit-period"),
        }
    }

    /// How long until asking again may succeed: the reset, else the period, else a second;
    /// never more than [`MAX_RESET_WAIT`].
    fn reset_wait(&self) -> Duration {
        let secs = self.reset.or(self.period).unwrap_or(1).max(1);
        Duration::from_secs(secs).min(MAX_RESET_WAIT)
    }
}

/// The error for a read only a Prometheus backend answers.
fn unsupported(read: &Read<'_>) -> BackendError {
    if let Read::LabelValues { .. } = read {
        return BackendError::Api {
            error_type: "unsupported".into(),
            message: "a datadog backend cannot list label values: [[discover]] needs a backend \
                      of type = \"prometheus\""
                .into(),
            transient: false,
        };
    }
    let what = match read {
        Read::Samples { .. }
        | Read::Values { .. }
        | Read::Boundaries { .. }
        | Read::Increase { .. } => "counter selectors (ratio and latency SLIs)",
        Read::RateEvents { .. } | Read::Ratio { .. } => "PromQL templates (events and raw SLIs)",
        Read::SampleStats { .. } => "gauge samples (bool_gauge SLIs)",
        Read::Expression { .. } => "threshold queries (threshold SLIs)",
        Read::Counts { .. } => "this read",
        Read::LabelValues { .. } => "label values",
    };
    BackendError::Api {
        error_type: "unsupported".into(),
        message: format!(
            "a datadog backend cannot read {what}: write the SLI as [slo.sli.datadog]"
        ),
        transient: false,
    }
}

#[async_trait]
impl Backend for DatadogBackend {
    fn name(&self) -> &str {
        &self.name
    }

    async fn instant(&self, read: Read<'_>, at: Millis) -> Result<QueryResult, BackendError> {
        match read {
            Read::Counts {
                query,
                step,
                group_by,
            } => self.counts(query, group_by, at, at, step).await,
            other => Err(unsupported(&other)),
        }
    }

    async fn range(
        &self,
        read: Read<'_>,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError> {
        match read {
            Read::Counts {
                query, group_by, ..
            } => self.counts(query, group_by, start, end, step).await,
            other => Err(unsupported(&other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_headers_say_how_long_to_wait() {
        let mut headers = HeaderMap::new();
        headers.insert("X-RateLimit-Remaining", HeaderValue::from_static("0"));
        headers.insert("X-RateLimit-Reset", HeaderValue::from_static("7"));
        headers.insert("X-RateLimit-Period", HeaderValue::from_static("10"));
        let limits = RateLimit::from_headers(&headers);
        assert_eq!(limits.remaining, Some(0));
        assert_eq!(limits.reset_wait(), Duration::from_secs(7));
        headers.remove("X-RateLimit-Reset");
        assert_eq!(
            RateLimit::from_headers(&headers).reset_wait(),
            Duration::from_secs(10)
        );
        headers.insert("X-RateLimit-Reset", HeaderValue::from_static("3600"));
        assert_eq!(
            RateLimit::from_headers(&headers).reset_wait(),
            MAX_RESET_WAIT
        );
    }
}
