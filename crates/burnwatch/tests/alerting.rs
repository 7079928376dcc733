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
//! reaches the log or /metrics. The same page reaches Opsgenie (Alert API v2, wiremock: one
//! create, then one close by the create's alias) and Microsoft Teams (a webhook, wiremock: one
//! firing card, then one resolved card).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{
    Alertmanager, Daemon, Exporter, Prometheus, PrometheusOptions, free_port, wait_for,
};
use serde_json::Value;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ROUTING_KEY: &str = "R0UT1NGKEY-e2e-0123456789abcdef";
const OPSGENIE_KEY: &str = "0p5g3n1e-e2e-key-0123456789";
const TEAMS_PATH: &str = "/workflows/e2e/triggers/manual/paths/invoke";
const TEAMS_SIG: &str = "sig=T3AM5s1gnature";
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

/// (path, body) of every request `server` received.
fn received(runtime: &tokio::runtime::Runtime, server: &MockServer) -> Vec<(String, Value)> {
    runtime
        .block_on(server.received_requests())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let body = serde_json::from_slice(&r.body).expect("a JSON body");
            (r.url.path().to_string(), body)
        })
        .collect()
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
    // Opsgenie queues every request: 202 for creates and closes alike.
    let opsgenie = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("POST"))
            .and(path_regex(r"^/v2/alerts(/[^/]+/close)?$"))
            .respond_with(ResponseTemplate::new(202).set_body_json(serde_json::json!({
                "result": "Request will be processed", "took": 0.1, "requestId": "e2e"
            })))
            .mount(&opsgenie),
    );
    let teams = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("POST"))
            .and(path(TEAMS_PATH))
            .respond_with(ResponseTemplate::new(202))
            .mount(&teams),
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

[receivers.genie]
type = "opsgenie"
api_key = "${{OG_API_KEY}}"
url = "{opsgenie}"

[receivers.chat]
type = "teams"
url = "${{TEAMS_URL}}"

[[route]]
receivers = ["pager", "am", "genie", "chat"]
"#,
        incident_errors = errors(&incident_addr),
        incident_total = total(&incident_addr),
        steady_errors = errors(&steady_addr),
        steady_total = total(&steady_addr),
        prometheus = prometheus.url(),
        pagerduty = pagerduty.uri(),
        alertmanager = alertmanager.url(),
        opsgenie = opsgenie.uri(),
    );
    let teams_url = format!(
        "{}{TEAMS_PATH}?api-version=2016-06-01&{TEAMS_SIG}",
        teams.uri()
    );
    let daemon = Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config,
        &[
            ("PD_ROUTING_KEY", ROUTING_KEY),
            ("OG_API_KEY", OPSGENIE_KEY),
            ("TEAMS_URL", &teams_url),
        ],
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
    // Opsgenie: one create for the incident and one close, by the create's alias, which is the
    // page's identity (the same as PagerDuty's dedup_key), with the API key in the header.
    let genie = wait_for("an Opsgenie close", Duration::from_secs(30), || {
        let got = received(&runtime, &opsgenie);
        got.iter()
            .any(|(p, _)| p.ends_with("/close"))
            .then_some(got)
    });
    let creates: Vec<&Value> = genie
        .iter()
        .filter(|(p, _)| p == "/v2/alerts")
        .map(|(_, body)| body)
        .collect();
    assert_eq!(creates.len(), 1, "one incident, one create: {genie:?}");
    assert_eq!(creates[0]["alias"], dedup_key.as_str());
    assert_eq!(creates[0]["priority"], "P1");
    let closes: Vec<&str> = genie
        .iter()
        .filter(|(p, _)| p.ends_with("/close"))
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(closes, [format!("/v2/alerts/{dedup_key}/close")]);
    let requests = runtime.block_on(opsgenie.received_requests()).unwrap();
    assert!(requests.iter().all(|r| {
        r.headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(format!("GenieKey {OPSGENIE_KEY}").as_str())
    }));
    assert!(
        requests
            .iter()
            .any(|r| r.url.query() == Some("identifierType=alias"))
    );
    // Teams: one firing card and one resolved card for the checkout page, nothing else.
    let cards = wait_for("the resolved Teams card", Duration::from_secs(30), || {
        let titles: Vec<String> = received(&runtime, &teams)
            .iter()
            .map(|(_, body)| {
                body["attachments"][0]["content"]["body"][0]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        titles
            .iter()
            .any(|t| t.starts_with("RESOLVED"))
            .then_some(titles)
    });
    assert_eq!(
        cards,
        [
            "FIRING page: checkout-availability",
            "RESOLVED page: checkout-availability"
        ]
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
    for secret in [ROUTING_KEY, OPSGENIE_KEY, TEAMS_SIG] {
        assert!(!metrics.contains(secret), "a secret on /metrics");
        assert!(!daemon.log().contains(secret), "a secret in the log");
    }
}
