//! Getting one request accepted: POST, classify the answer, retry what may succeed later.
//!
//! Timeouts and connection errors are retried with exponential backoff and jitter, and so is
//! what the receiver kind classifies as worth retrying (by default 408, 429 and 5xx; a 429's or
//! 503's `Retry-After` seconds are honoured); what it rejects (by default any other 4xx) is
//! permanent and logged with the start of the response body. Retries stop after [`RetryPolicy::attempts`] or
//! when the next wait would pass [`RetryPolicy::give_up_after`]. Nothing logged here contains a
//! URL or a key: errors come from reqwest without their URL and response bodies are scrubbed of
//! the request's secrets.

use std::future::Future;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use tokio::time::Instant;

use super::metrics::NotifyMetrics;
use super::receiver::{Receiver, Reply, Request, Verdict};

/// How much of a response body is kept for the log.
const BODY_LOG_LIMIT: usize = 512;

/// Sends a request; the HTTP client in production, a recorder in unit tests.
pub(crate) trait Transport: Send + Sync + 'static {
    /// One attempt. `Err` is a transport failure (timeout, refused, reset), always retried; its
    /// text must not contain the URL.
    fn post(&self, request: &Request) -> impl Future<Output = Result<Reply, String>> + Send;
}

/// reqwest with the receiver's timeout and no redirects (a redirect would carry the payload,
/// and its key, somewhere nobody configured).
pub(crate) struct HttpTransport {
    client: reqwest::Client,
    timeout: Duration,
}

impl HttpTransport {
    pub(crate) fn new(timeout: Duration) -> Result<HttpTransport, String> {
        let client = burnwatch_store::client::build(burnwatch_store::client::ClientOptions {
            timeout,
            ..Default::default()
        })?;
        Ok(HttpTransport { client, timeout })
    }

    fn describe(&self, err: reqwest::Error) -> String {
        if err.is_timeout() {
            return format!("no answer within {:?}", self.timeout);
        }
        // Slack and webhook URLs are secrets: describe() never shows them.
        burnwatch_store::client::describe(err)
    }
}

impl Transport for HttpTransport {
    async fn post(&self, request: &Request) -> Result<Reply, String> {
        let mut post = self
            .client
            .post(&request.url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &request.headers {
            post = post.header(*name, value);
        }
        let mut response = post
            .body(request.body.clone())
            .send()
            .await
            .map_err(|err| self.describe(err))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = Vec::new();
        // A success body is not needed and an error body only for the log: read a little.
        while body.len() < 4 * 1024 {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(Reply {
            status,
            retry_after,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// How patiently to retry one delivery.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Attempts in total.
    pub attempts: u32,
    /// Wait before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound of one backoff wait (a `Retry-After` may ask for longer).
    pub max_delay: Duration,
    /// Give up when the next attempt would start later than this after the first.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    /// 10 attempts within 10 minutes, waits from 1 s up to 2 min.
    pub(crate) const DEFAULT: RetryPolicy = RetryPolicy {
        attempts: 10,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(120),
        give_up_after: Duration::from_secs(600),
    };

    /// The wait before retry number `retry` (0-based): exponential, capped, minus up to 25%
    /// jitter so that receivers failing together do not retry in lockstep.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.min(20))
            .min(self.max_delay);
        exp.mul_f64(1.0 - fastrand::f64() * 0.25)
    }
}

/// At most one request per `gap` (Slack: one message per second per webhook).
#[derive(Debug)]
pub(crate) struct Pacer {
    gap: Duration,
    last: Option<Instant>,
}

impl Pacer {
    pub(crate) fn new(gap: Duration) -> Pacer {
        Pacer { gap, last: None }
    }

    /// Wait until the next request may go, and count it as gone.
    pub(crate) async fn wait(&mut self) {
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + self.gap).await;
        }
        self.last = Some(Instant::now());
    }
}

/// Who is delivering, for logs and metrics, and what its answers mean.
pub(crate) struct Context<'a> {
    pub receiver: &'a str,
    pub kind: &'a dyn Receiver,
    pub metrics: &'a NotifyMetrics,
    pub policy: RetryPolicy,
}

/// Try until the receiver accepts `request` (true) or it is hopeless (false, logged).
pub(crate) async fn deliver<T: Transport>(
    transport: &T,
    request: &Request,
    pacer: &mut Pacer,
    cx: &Context<'_>,
) -> bool {
    let started = Instant::now();
    let receiver = cx.receiver;
    let mut attempt: u32 = 0;
    loop {
        pacer.wait().await;
        attempt += 1;
        let (reason, retry_after) = match transport.post(request).await {
            Ok(reply) => match cx.kind.classify(&reply) {
                Verdict::Accepted => return true,
                Verdict::Retry(retry_after) => (format!("HTTP {}", reply.status), retry_after),
                Verdict::Rejected => {
                    tracing::warn!(
                        receiver = %receiver,
                        status = reply.status,
                        body = %scrub(&reply.body, &request.secrets),
                        "notification rejected; not retried"
                    );
                    return false;
                }
            },
            Err(err) => (scrub(&err, &request.secrets), None),
        };
        let wait = retry_after.unwrap_or_else(|| cx.policy.backoff(attempt - 1));
        if attempt >= cx.policy.attempts || started.elapsed() + wait > cx.policy.give_up_after {
            tracing::warn!(
                receiver = %receiver,
                attempts = attempt,
                error = %reason,
                "notification failed; giving up"
            );
            return false;
        }
        cx.metrics.retried(receiver);
        tracing::debug!(receiver = %receiver, attempt, error = %reason, ?wait, "notification failed; retrying");
        tokio::time::sleep(wait).await;
    }
}

/// `text` cut to [`BODY_LOG_LIMIT`] characters with every secret replaced.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret.as_str(), "<redacted>");
    }
    super::message::truncate_chars(text.trim(), BODY_LOG_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::Recorder;

    fn request() -> Request {
        Request {
            url: "http://127.0.0.1:1/secret-path".into(),
            body: b"{}".to_vec(),
            headers: Vec::new(),
            secrets: vec!["secret-path".into()],
        }
    }

    /// A kind with the usual HTTP meaning of answers.
    struct Plain;

    impl Receiver for Plain {
        fn request(&self, _: &[burnwatch_engine::Notification], _: i64) -> Result<Request, String> {
            Ok(request())
        }
    }

    async fn run(recorder: &Recorder) -> bool {
        let metrics = NotifyMetrics::unregistered();
        let cx = Context {
            receiver: "r",
            kind: &Plain,
            metrics: &metrics,
            policy: RetryPolicy::DEFAULT,
        };
        deliver(recorder, &request(), &mut Pacer::new(Duration::ZERO), &cx).await
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_to_the_second() {
        let recorder = Recorder::replying(vec![
            Ok(Recorder::reply(429, Some(30))),
            Ok(Recorder::reply(202, None)),
        ]);
        assert!(run(&recorder).await);
        let times = recorder.times();
        assert_eq!(times[1] - times[0], Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_rejection_is_not_retried() {
        let recorder = Recorder::replying(vec![Ok(Recorder::reply(400, None))]);
        assert!(!run(&recorder).await);
        assert_eq!(recorder.times().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_ten_attempts_within_ten_minutes() {
        let recorder = Recorder::replying(vec![Err("connection refused".into()); 20]);
        let start = Instant::now();
        assert!(!run(&recorder).await);
        let times = recorder.times();
        assert_eq!(times.len(), 10);
        assert!(
            start.elapsed() <= Duration::from_secs(600),
            "{:?}",
            start.elapsed()
        );
        // Exponential: the ninth wait is far longer than the first.
        assert!(times[9] - times[8] > (times[1] - times[0]) * 8);
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_retry_after_ends_the_attempts_instead_of_sleeping_past_the_budget() {
        let recorder = Recorder::replying(vec![Ok(Recorder::reply(429, Some(3_600)))]);
        assert!(!run(&recorder).await);
        assert_eq!(recorder.times().len(), 1);
    }

    #[test]
    fn scrub_hides_secrets_and_bounds_length() {
        let body = format!("bad key abc123 {}", "x".repeat(2_000));
        let out = scrub(&body, &["abc123".into()]);
        assert!(out.starts_with("bad key <redacted> x"));
        assert_eq!(out.chars().count(), BODY_LOG_LIMIT);
    }
}
