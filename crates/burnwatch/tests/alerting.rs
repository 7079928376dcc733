//! Alerting end to end, with every part real except PagerDuty: a simulated service with an
//! incident, a real Prometheus scraping it, the burnwatch binary evaluating a page policy each
//! second, a real Alertmanager, and PagerDuty's Events API v2 played by wiremock.
//!
//! The incident (20% errors, a burn rate of 200 at 99.9%) must raise exactly one page: one
//! PagerDuty trigger with a stable dedup_key, one alert in Alertmanager with Sloth's labels, and
//! `burnwatch_slo_alert{alertstate="firing"}`; when it ends, one resolve with the same dedup_key
//! and the alert gone from Alertmanager. The routing key never reaches the log or /metrics.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{Alertmanager, Daemon, Exporter, Prometheus, PrometheusOptions, free_port};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ROUTING_KEY: &str = "R0UT1NGKEY-e2e-0123456789abcdef";
const PAGE: [&str; 3] = [
    r#"sloth_id="checkout-availability""#,
    r#"alert="page""#,
    r#"alertstate="firing""#,
];

fn pagerduty_events(runtime: &tokio::runtime::Runtime, server: &MockServer) -> Vec<Value> {
    runtime
        .block_on(server.received_requests())
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("PagerDuty body is JSON"))
        .collect()
}

fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn an_incident_pages_once_through_pagerduty_and_alertmanager_then_resolves() {
    let t0 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let exporter = Exporter::start(Scenario::checkout(vec![
        Phase::steady(t0 - 120.0, 100.0, 0.001, 0.0),
        Phase::steady(t0 + 25.0, 100.0, 0.2, 0.0),
        Phase::steady(t0 + 50.0, 100.0, 0.001, 0.0),
    ]));
    let prometheus = Prometheus::start(PrometheusOptions {
        scrape_targets: vec![exporter.addr().to_string()],
        ..Default::default()
    });
    let alertmanager = Alertmanager::start(
        "route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n",
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pagerduty = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .respond_with(ResponseTemplate::new(202).set_body_json(serde_json::json!({
                "status": "success", "message": "Event processed"
            })))
            .mount(&pagerduty),
    );

    let port = free_port();
    let config = format!(
        r#"[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{prometheus}"

[defaults]
interval = "1s"

[defaults.alerting]
ticket = false
no_data = false
annotations = {{ runbook = "https://runbooks.example/checkout" }}

[[defaults.alerting.windows]]
severity = "page"
short = "1m"
long = "5m"
factor = 14.4

[[slo]]
service = "checkout"
name = "availability"
objective = 99.9
labels = {{ team = "payments" }}
[slo.sli.ratio]
errors = 'http_requests_total{{service="checkout",code=~"5.."}}'
total = 'http_requests_total{{service="checkout"}}'

[receivers.pager]
type = "pagerduty"
routing_key = "${{PD_ROUTING_KEY}}"
url = "{pagerduty}/v2/enqueue"

[receivers.am]
type = "alertmanager"
url = "{alertmanager}"

[[route]]
severity = ["page"]
receivers = ["pager", "am"]
"#,
        prometheus = prometheus.url(),
        pagerduty = pagerduty.uri(),
        alertmanager = alertmanager.url(),
    );
    let daemon = Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config,
        &[("PD_ROUTING_KEY", ROUTING_KEY)],
    );
    daemon.wait_ready(Duration::from_secs(60));

    // Before the incident: healthy traffic, burn rate 1, no alert.
    assert_eq!(daemon.sample("burnwatch_slo_alert", &PAGE), None);

    // The incident: the page fires and both receivers hear of it.
    daemon.wait_sample(
        "burnwatch_slo_alert",
        &PAGE,
        Some(1.0),
        Duration::from_secs(90),
    );
    let trigger = wait_for("a PagerDuty trigger", Duration::from_secs(30), || {
        pagerduty_events(&runtime, &pagerduty).into_iter().next()
    });
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["routing_key"], ROUTING_KEY);
    assert_eq!(trigger["payload"]["severity"], "critical");
    let dedup_key = trigger["dedup_key"]
        .as_str()
        .expect("dedup_key")
        .to_string();
    assert!(dedup_key.contains("checkout-availability"), "{dedup_key}");
    let summary = trigger["payload"]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("checkout-availability"), "{summary}");
    let details = trigger["payload"]["custom_details"].to_string();
    for window in ["\"1m\"", "\"5m\"", "\"30d\""] {
        assert!(details.contains(window), "{window} missing from {details}");
    }
    let am_alert = wait_for("the page in Alertmanager", Duration::from_secs(30), || {
        alertmanager.alerts().into_iter().find(|a| {
            a["labels"]["sloth_id"] == "checkout-availability"
                && a["labels"]["sloth_severity"] == "page"
        })
    });
    assert_eq!(am_alert["labels"]["alertname"], "SLOErrorBudgetBurn");
    assert_eq!(am_alert["labels"]["sloth_service"], "checkout");
    assert_eq!(am_alert["labels"]["sloth_slo"], "availability");
    assert_eq!(am_alert["labels"]["team"], "payments");
    assert_eq!(
        am_alert["annotations"]["runbook"],
        "https://runbooks.example/checkout"
    );

    // The incident ends at t0+50; the 1m window clears about a minute later and the page
    // resolves: one resolve with the same dedup_key, and Alertmanager drops the alert.
    daemon.wait_sample("burnwatch_slo_alert", &PAGE, None, Duration::from_secs(150));
    let events = wait_for("a PagerDuty resolve", Duration::from_secs(30), || {
        let events = pagerduty_events(&runtime, &pagerduty);
        events
            .iter()
            .any(|e| e["event_action"] == "resolve")
            .then_some(events)
    });
    let triggers = events
        .iter()
        .filter(|e| e["event_action"] == "trigger")
        .count();
    assert_eq!(triggers, 1, "one incident, one trigger: {events:?}");
    let resolve = events
        .iter()
        .find(|e| e["event_action"] == "resolve")
        .unwrap();
    assert_eq!(resolve["dedup_key"], dedup_key.as_str());
    wait_for(
        "the page to leave Alertmanager",
        Duration::from_secs(30),
        || {
            (!alertmanager
                .alerts()
                .iter()
                .any(|a| a["labels"]["sloth_id"] == "checkout-availability"))
            .then_some(())
        },
    );
    let sent = daemon
        .sample(
            "burnwatch_notifications_total",
            &[r#"receiver="pager""#, r#"outcome="sent""#],
        )
        .unwrap_or(0.0);
    assert!(sent >= 2.0, "pager sent {sent}");

    // The secret never leaves the configuration.
    let (_, metrics) = daemon.get("/metrics").unwrap();
    assert!(!metrics.contains(ROUTING_KEY), "routing key on /metrics");
    assert!(
        !daemon.log().contains(ROUTING_KEY),
        "routing key in the log"
    );
}
