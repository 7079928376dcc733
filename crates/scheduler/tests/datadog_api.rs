//! The Datadog backend against wiremock doubles of the v1 query API: long ranges split to the
//! point limit, and the documented errors classified: 403 bad keys (not retried, keys never in
//! the text), 400 a bad query (shown with the query), 5xx and timeouts transient, reads only
//! PromQL answers refused.

use std::sync::Arc;
use std::time::Duration;

use burnwatch_scheduler::{Backend, BackendError, DatadogBackend, Read, SchedulerMetrics};
use burnwatch_spec::{DatadogQuery, Selector};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "secret-api-key-abcdef";

fn backend(url: &str, metrics: &Arc<SchedulerMetrics>) -> DatadogBackend {
    let text = format!(
        "[backends.dd]\ntype = \"datadog\"\nsite = \"{url}\"\napi_key = \"${{K}}\"\n\
         application_key = \"${{K}}\"\ntimeout = \"1s\"\n"
    );
    let config = burnwatch_spec::parse(&text, std::path::Path::new("d.toml"), &|_| {
        Some(KEY.to_string())
    })
    .unwrap();
    DatadogBackend::new(&config.backends["dd"], Arc::clone(metrics)).unwrap()
}

async fn read(server: &MockServer, metrics: &Arc<SchedulerMetrics>) -> BackendError {
    let query = DatadogQuery::parse("sum:hits{service:checkout}.as_count()").unwrap();
    let read = Read::Counts {
        query: &query,
        step: Duration::from_secs(60),
        group_by: &[],
    };
    backend(&server.uri(), metrics)
        .range(
            read,
            1_700_000_040_000,
            1_700_000_400_000,
            Duration::from_secs(60),
        )
        .await
        .expect_err("an error answer")
}

async fn answering(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .and(header("DD-API-KEY", KEY))
        .and(query_param(
            "query",
            "sum:hits{service:checkout}.as_count().rollup(sum, 60)",
        ))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn bad_keys_are_one_clear_error_not_retried() {
    let server = answering(403, r#"{"errors":["Forbidden"]}"#).await;
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let err = read(&server, &metrics).await;
    assert!(!err.is_transient(), "bad keys are not retried");
    let text = err.to_string();
    assert!(
        text.contains("refused the API or application key"),
        "{text}"
    );
    assert!(!text.contains(KEY));
    assert_eq!(metrics.requests("dd", "query_error"), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_bad_query_is_shown_with_the_query() {
    let server = answering(
        400,
        r#"{"errors":["Error parsing query: unknown function"]}"#,
    )
    .await;
    let err = read(&server, &Arc::new(SchedulerMetrics::unregistered())).await;
    assert!(!err.is_transient());
    let text = err.to_string();
    assert!(text.contains("unknown function"), "{text}");
    assert!(
        text.contains("sum:hits{service:checkout}.as_count().rollup(sum, 60)"),
        "{text}"
    );
}

#[tokio::test]
async fn server_errors_and_timeouts_are_transient() {
    let server = answering(503, "<html>upstream</html>").await;
    let err = read(&server, &Arc::new(SchedulerMetrics::unregistered())).await;
    assert!(
        matches!(err, BackendError::Status { status: 503, .. }),
        "{err}"
    );
    assert!(err.is_transient());

    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&slow)
        .await;
    let err = read(&slow, &Arc::new(SchedulerMetrics::unregistered())).await;
    assert!(matches!(err, BackendError::Timeout(_)), "{err}");
}

#[tokio::test]
async fn promql_reads_are_refused_naming_the_sli_kind() {
    let server = MockServer::start().await;
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let selector = Selector::parse("up").unwrap();
    let err = backend(&server.uri(), &metrics)
        .instant(
            Read::Values {
                selector: &selector,
            },
            1_700_000_000_000,
        )
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert!(err.to_string().contains("[slo.sli.datadog]"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn long_ranges_are_split_at_the_point_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"status":"ok","series":[]}"#))
        .mount(&server)
        .await;
    let query = DatadogQuery::parse("sum:hits{*}").unwrap();
    let read = Read::Counts {
        query: &query,
        step: Duration::from_secs(60),
        group_by: &[],
    };
    // 3,001 one-minute points: two full requests and one of a single point.
    let start = 1_700_000_040_000;
    let end = start + 3_000 * 60_000;
    backend(&server.uri(), &Arc::new(SchedulerMetrics::unregistered()))
        .range(read, start, end, Duration::from_secs(60))
        .await
        .expect("empty answers");
    let spans: Vec<(i64, i64)> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let param = |name: &str| -> i64 {
                r.url
                    .query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap()
            };
            (param("from"), param("to"))
        })
        .collect();
    let s = start / 1000;
    assert_eq!(
        spans,
        [
            (s - 60, s + 1_499 * 60),
            (s + 1_499 * 60, s + 2_999 * 60),
            (s + 2_999 * 60, s + 3_000 * 60)
        ]
    );
    assert!(
        spans
            .iter()
            .all(|(from, to)| (to - from) / 60 <= burnwatch_scheduler::DATADOG_MAX_POINTS)
    );
}
