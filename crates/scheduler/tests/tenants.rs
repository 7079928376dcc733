//! Multi-tenant stores: what reaches the backend. Mimir and Cortex pick the tenant from the
//! `X-Scope-OrgID` header (set in `headers`); the VictoriaMetrics cluster from the path
//! (`/select/<accountID>/prometheus`, part of `url`). A wiremock double records the requests:
//! the real stores are not multi-tenant here (the single-node VictoriaMetrics of the parity
//! test has no tenants).

use std::sync::Arc;
use std::time::Duration;

use burnwatch_scheduler::{Backend, PrometheusBackend, Read, SchedulerMetrics};
use burnwatch_spec::Selector;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EMPTY_VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
const EMPTY_MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;

fn backend(config: &str) -> PrometheusBackend {
    let config = burnwatch_spec::parse(config, std::path::Path::new("t.toml"), &|name| {
        (name == "TENANT").then(|| "team-checkout".to_string())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    PrometheusBackend::new(&config.backends["main"], metrics).unwrap()
}

async fn read_both(backend: &PrometheusBackend) {
    let selector = Selector::parse(r#"http_requests_total{service="checkout"}"#).unwrap();
    let at = 1_700_000_000_000;
    backend
        .instant(
            Read::Samples {
                selector: &selector,
                range: Duration::from_secs(90),
            },
            at,
        )
        .await
        .expect("instant read");
    backend
        .range(
            Read::Boundaries {
                selector: &selector,
                step: Duration::from_secs(60),
            },
            at - 3_600_000,
            at,
            Duration::from_secs(60),
        )
        .await
        .expect("range read");
}

#[tokio::test]
async fn mimir_tenant_header_reaches_every_request() {
    let server = MockServer::start().await;
    for (route, body) in [
        ("/prometheus/api/v1/query", EMPTY_VECTOR),
        ("/prometheus/api/v1/query_range", EMPTY_MATRIX),
    ] {
        Mock::given(method("POST"))
            .and(path(route))
            .and(header("X-Scope-OrgID", "team-checkout"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let config = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"{}/prometheus\"\n\
         headers = {{ X-Scope-OrgID = \"${{TENANT}}\" }}\n",
        server.uri()
    );
    read_both(&backend(&config)).await;
    // `expect(1)` on each is verified when the server drops; say what came if not.
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2, "{received:?}");
}

#[tokio::test]
async fn victoriametrics_cluster_tenant_is_in_the_path() {
    let server = MockServer::start().await;
    for (route, body) in [
        ("/select/42/prometheus/api/v1/query", EMPTY_VECTOR),
        ("/select/42/prometheus/api/v1/query_range", EMPTY_MATRIX),
    ] {
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let config = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"{}/select/42/prometheus/\"\n",
        server.uri()
    );
    read_both(&backend(&config)).await;
    let received = server.received_requests().await.unwrap();
    let paths: Vec<&str> = received.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        [
            "/select/42/prometheus/api/v1/query",
            "/select/42/prometheus/api/v1/query_range"
        ]
    );
    // No tenant header was configured, so none is invented.
    assert!(
        received
            .iter()
            .all(|r| !r.headers.contains_key("x-scope-orgid"))
    );
}
