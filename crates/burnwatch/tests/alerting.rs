//! Alerting end to end, with every part real except PagerDuty: a simulated service with an
//! incident, a real Prometheus scraping it, the burnwatch binary evaluating a page policy each
//! second, a real Alertmanager, and PagerDuty's Events API v2 played by wiremock.
//!
//! The incident (20% errors, a burn rate of 200 at 99.9%) must raise exactly one page: one
//! PagerDuty trigger with a stable dedup_key, one alert in Alertmanager with Sloth's labels, and
//! `burnwatch_alert_active` at 1, starting within one tick (plus one scrape) of the moment
//! Prometheus' own evaluation of the equivalent alert expression turns true; when it ends, one
//! resolve with the same dedup_key and the alert gone from Alertmanager. A second service burning
//! steadily at 0.5x never alerts, not even on a ticket pair with factor 1. The routing key never
//! reaches the log or /metrics.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{Alertmanager, Daemon, Exporter, Prometheus, PrometheusOptions, free_port};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ROUTING_KEY: &str = "R0UT1NGKEY-e2e-0123456789abcdef";
const PAGE: [&str; 2] = [
    r#"sloth_id="checkout-availability""#,
    r#"sloth_severity="page""#,
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
    let incident = Exporter::start(Scenario::checkout(vec![
        Phase::steady(t0 - 120.0, 100.0, 0.001, 0.0),
        Phase::steady(t0 + 25.0, 100.0, 0.2, 0.0),
        Phase::steady(t0 + 50.0, 100.0, 0.001, 0.0),
    ]));
    let steady = Exporter::start(Scenario::checkout(vec![Phase::steady(
        t0 - 120.0,
        100.0,
        0.0005,
        0.0,
    )]));
    let errors = |addr: &str| {
        format!(r#"http_requests_total{{service="checkout",instance="{addr}",code=~"5.."}}"#)
    };
    let total =
        |addr: &str| format!(r#"http_requests_total{{service="checkout",instance="{addr}"}}"#);
    let (incident_addr, steady_addr) = (incident.addr().to_string(), steady.addr().to_string());
    // The page pair as a Prometheus alerting rule over the same data.
    let ratio = |w: &str| {
        format!(
            "sum(rate({}[{w}])) / sum(rate({}[{w}]))",
            errors(&incident_addr),
            total(&incident_addr)
        )
    };
    let rules = format!(
        "groups:\n  - name: slo\n    rules:\n      - alert: PageBurn\n        expr: '({}) > (14.4 * 0.001) and ({}) > (14.4 * 0.001)'\n",
        ratio("1m").replace('\'', "''"),
        ratio("5m").replace('\'', "''"),
    );
    let prometheus = Prometheus::start(PrometheusOptions {
        scrape_targets: vec![incident_addr.clone(), steady_addr.clone()],
        rules: Some(rules),
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
errors = '{incident_errors}'
total = '{incident_total}'

[[slo]]
service = "search"
name = "availability"
objective = 99.9
[slo.alerting]
ticket = true
[[slo.alerting.windows]]
severity = "page"
short = "1m"
long = "5m"
factor = 14.4
[[slo.alerting.windows]]
severity = "ticket"
short = "1m"
long = "5m"
factor = 1
[slo.sli.ratio]
errors = '{steady_errors}'
total = '{steady_total}'

[receivers.pager]
type = "pagerduty"
routing_key = "${{PD_ROUTING_KEY}}"
url = "{pagerduty}/v2/enqueue"

[receivers.am]
type = "alertmanager"
url = "{alertmanager}"

[[route]]
receivers = ["pager", "am"]
"#,
        incident_errors = errors(&incident_addr),
        incident_total = total(&incident_addr),
        steady_errors = errors(&steady_addr),
        steady_total = total(&steady_addr),
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
    daemon.wait_sample(
        "burnwatch_alert_active",
        &PAGE,
        Some(0.0),
        Duration::from_secs(20),
    );

    // The incident: the page fires and both receivers hear of it.
    daemon.wait_sample(
        "burnwatch_alert_active",
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

    // Same data, same moment: burnwatch's page started (Alertmanager's startsAt is the moment it
    // fired) within one tick of Prometheus' own evaluation of the page expression turning true.
    // Both evaluate every second on samples scraped every second, so the bound is one tick plus
    // one scrape.
    let prom_alert = wait_for(
        "Prometheus' own PageBurn alert",
        Duration::from_secs(30),
        || {
            prometheus
                .alerts()
                .into_iter()
                .find(|a| a["labels"]["alertname"] == "PageBurn")
        },
    );
    let at = |v: &Value| {
        humantime::parse_rfc3339_weak(v.as_str().expect("a timestamp"))
            .expect("RFC 3339")
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let (ours, theirs) = (at(&am_alert["startsAt"]), at(&prom_alert["activeAt"]));
    eprintln!("page started: burnwatch {ours:.3}, Prometheus {theirs:.3}, t0 {t0:.3}");
    assert!(
        (ours - theirs).abs() <= 2.0,
        "burnwatch fired at {ours:.3}, Prometheus' expression turned true at {theirs:.3}"
    );

    // The incident ends at t0+50; the 1m window clears about a minute later and the page
    // resolves: one resolve with the same dedup_key, and Alertmanager drops the alert.
    daemon.wait_sample(
        "burnwatch_alert_active",
        &PAGE,
        Some(0.0),
        Duration::from_secs(150),
    );
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
    // The steady 0.5x burn: data flowed (its burn rate is there and right), nothing alerted.
    let steady_labels = [r#"sloth_id="search-availability""#, r#"sloth_window="5m""#];
    let burn = daemon
        .sample("burnwatch_slo_burn_rate", &steady_labels)
        .expect("burn rate of the steady service");
    assert!((burn - 0.5).abs() < 0.05, "steady burn rate {burn}");
    for severity in [r#"sloth_severity="page""#, r#"sloth_severity="ticket""#] {
        let needles = [r#"sloth_id="search-availability""#, severity];
        assert_eq!(daemon.sample("burnwatch_alert_active", &needles), Some(0.0));
    }
    let all = pagerduty_events(&runtime, &pagerduty);
    assert!(
        all.iter()
            .all(|e| !e.to_string().contains("search-availability")),
        "the steady service alerted: {all:?}"
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
