use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    Harness, Instance, ROUTING_KEY, SHORT_TIMEOUT, assert_timeout_retried, bodies, notification,
    notification_for, pagerduty, receiver, slow_first,
};

fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(json!({
        "status": "success",
        "message": "Event processed",
        "dedup_key": "ignored",
    }))
}

async fn pd_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(accepted())
        .mount(&server)
        .await;
    server
}

fn harness(server: &MockServer) -> Harness {
    Harness::alone(receiver(
        "pd",
        pagerduty(format!("{}/v2/enqueue", server.uri())),
    ))
}

#[tokio::test]
async fn trigger_then_resolve_share_a_stable_dedup_key_and_map_severities() {
    let server = pd_server().await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.send(notification(AlertKind::Page, AlertStatus::Resolved));
    h.wait_for("pd", "sent", 3.0).await;
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3);

    let (page, ticket, resolve) = (&sent[0], &sent[1], &sent[2]);
    assert_eq!(page["event_action"], "trigger");
    assert_eq!(page["routing_key"], ROUTING_KEY);
    assert_eq!(page["client"], "burnwatch");
    assert_eq!(page["payload"]["severity"], "critical");
    assert_eq!(page["payload"]["source"], "burnwatch");
    assert_eq!(page["payload"]["component"], "checkout");
    assert_eq!(page["payload"]["group"], "checkout-availability");
    assert_eq!(page["payload"]["class"], "page");
    assert_eq!(ticket["payload"]["severity"], "warning");
    assert_ne!(page["dedup_key"], ticket["dedup_key"]);

    // The resolve closes the page's incident: same key, and nothing but what the API needs.
    assert_eq!(resolve["dedup_key"], page["dedup_key"]);
    assert_eq!(
        resolve,
        &json!({
            "routing_key": ROUTING_KEY,
            "event_action": "resolve",
            "dedup_key": page["dedup_key"],
        })
    );
    // Stable across processes: the key is derived from the SLO, group labels and kind only.
    let again = notification(AlertKind::Page, AlertStatus::Firing);
    assert_eq!(page["dedup_key"], again.dedup_key().as_str());
    assert!(page["dedup_key"].as_str().unwrap().len() <= 255);

    let links = page["links"].as_array().unwrap();
    assert_eq!(links[0]["href"], "https://runbooks.example/checkout");
    assert_eq!(links[1]["href"], "https://grafana.example/d/slo");
    h.stop().await;
}

#[tokio::test]
async fn custom_details_hold_every_window_budget_and_exhaustion() {
    let server = pd_server().await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("pd", "sent", 1.0).await;
    let details = bodies(&server).await[0]["payload"]["custom_details"].clone();
    for key in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
        assert!(
            details["burn_rate"][key].is_number(),
            "burn_rate[{key}]: {details}"
        );
        assert!(
            details["error_ratio"][key].is_number(),
            "error_ratio[{key}]: {details}"
        );
    }
    assert_eq!(details["burn_rate"]["1h"], 16.0);
    assert_eq!(details["error_ratio"]["5m"], 0.02);
    assert_eq!(details["budget_remaining"], "62.5%");
    // 62.5% of 30 days at 16x: 28.1 hours; at 5x: 3.75 days.
    assert_eq!(details["exhaustion_at_1h_burn"], "1d 4h");
    assert_eq!(details["exhaustion_at_6h_burn"], "3d 18h");
    assert_eq!(details["objective"], "99.9%");
    assert_eq!(
        details["labels"],
        json!({"team": "payments", "region": "eu"})
    );
    assert_eq!(
        details["fired_by"],
        json!([{ "short": "5m", "long": "1h", "factor": 14.4 }])
    );
    h.stop().await;
}

#[tokio::test]
async fn summary_is_cut_at_1024_characters_on_a_character_boundary() {
    let server = pd_server().await;
    let mut h = harness(&server);
    let mut instance = Instance::default();
    instance
        .annotations
        .push(("summary".to_string(), "ü€🔥".repeat(700)));
    h.send(notification_for(
        &instance,
        AlertKind::Page,
        AlertStatus::Firing,
    ));
    h.wait_for("pd", "sent", 1.0).await;
    let summary = bodies(&server).await[0]["payload"]["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(summary.chars().count(), 1_024);
    assert!(summary.starts_with("ü€🔥ü€🔥") && summary.ends_with('…'));
    h.stop().await;
}

#[tokio::test]
async fn throttled_429_waits_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly."})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted())
        .mount(&server)
        .await;
    let mut h = harness(&server);
    let started = std::time::Instant::now();
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("pd", "sent", 1.0).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 honoured"
    );
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "the same event is retried");
    assert_eq!(h.count("pd", "failed"), 0.0);
    assert_eq!(
        h.sample(
            "burnwatch_notification_retries_total",
            &[("receiver", "pd")]
        ),
        1.0
    );
    h.stop().await;
}

#[tokio::test]
async fn invalid_event_400_is_permanent_and_counted_failed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
        })))
        .mount(&server)
        .await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("pd", "failed", 1.0).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no retry"
    );
    assert_eq!(h.count("pd", "sent"), 0.0);
    assert_eq!(
        h.sample(
            "burnwatch_notification_retries_total",
            &[("receiver", "pd")]
        ),
        0.0
    );
    h.stop().await;
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted())
        .mount(&server)
        .await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.wait_for("pd", "sent", 1.0).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(h.count("pd", "failed"), 0.0);
    assert_eq!(
        h.sample(
            "burnwatch_notification_retries_total",
            &[("receiver", "pd")]
        ),
        2.0
    );
    h.stop().await;
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_retried_and_then_delivered() {
    let (server, stamped) = slow_first(accepted()).await;
    let mut pd = receiver("pd", pagerduty(format!("{}/v2/enqueue", server.uri())));
    pd.timeout = SHORT_TIMEOUT;
    let mut h = Harness::alone(pd);
    let started = std::time::Instant::now();
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    assert_timeout_retried(&h, "pd", &server, &stamped, started).await;
    assert_eq!(bodies(&server).await[1]["event_action"], "trigger");
    h.stop().await;
}
