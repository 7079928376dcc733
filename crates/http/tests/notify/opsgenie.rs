//! Opsgenie Alert API v2 against a double that answers as its documentation says
//! (<https://docs.opsgenie.com/docs/alert-api>): every accepted request 202 with
//! `{"result": "Request will be processed", ...}`, 429 when rate limited, 422 for an
//! unprocessable body, 401 for a bad key.

use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus};
use burnwatch_spec::receiver::opsgenie::Opsgenie;
use burnwatch_spec::{Plugin, ReceiverKind, Secret, SecretSource};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{FIRST_BACKOFF_MIN, Harness, Logs, Stamped, notification, receiver};

const API_KEY: &str = "9e1c2b4a-genie-key-0000-5ecret";

fn opsgenie(url: String) -> ReceiverKind {
    ReceiverKind::Plugin(Plugin::new(Opsgenie {
        api_key: SecretSource::Value(Secret::new(API_KEY)),
        url,
        page_priority: "P1".to_string(),
        ticket_priority: "P3".to_string(),
    }))
}

fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(json!({
        "result": "Request will be processed",
        "took": 0.302,
        "requestId": "43a29c5c-3dbf-4fa4-9c26-f4f71023e120",
    }))
}

/// Accepts creates and closes that carry the key; anything else finds no mock (404).
async fn genie_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header(
            "authorization",
            format!("GenieKey {API_KEY}").as_str(),
        ))
        .respond_with(accepted())
        .mount(&server)
        .await;
    server
}

fn harness(server: &MockServer) -> Harness {
    Harness::alone(receiver("genie", opsgenie(server.uri())))
}

/// (path, query, body) of every request.
async fn requests(server: &MockServer) -> Vec<(String, String, Value)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r.url.path().to_string(),
                r.url.query().unwrap_or("").to_string(),
                serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_page_is_created_as_p1_and_closed_by_the_same_alias() {
    let server = genie_server().await;
    let mut h = harness(&server);
    for (kind, status) in [
        (AlertKind::Page, AlertStatus::Firing),
        (AlertKind::Page, AlertStatus::Resolved),
        (AlertKind::Ticket, AlertStatus::Firing),
    ] {
        h.send(notification(kind, status));
    }
    h.wait_for("genie", "sent", 3.0).await;
    let sent = requests(&server).await;
    let [page, close, ticket] = &sent[..] else {
        panic!("a create, a close and a create: {sent:?}");
    };
    assert_eq!((page.0.as_str(), page.1.as_str()), ("/v2/alerts", ""));
    let alias = page.2["alias"].as_str().unwrap();
    // The alias is the alert's identity: SLO, alert kind and a hash of the group labels.
    assert!(
        alias.starts_with("burnwatch-checkout-availability-page-"),
        "{alias}"
    );
    assert_eq!(page.2["priority"], "P1");
    assert_eq!(ticket.2["priority"], "P3");
    assert_ne!(ticket.2["alias"], page.2["alias"]);
    assert_eq!(
        close.0,
        format!("/v2/alerts/{alias}/close"),
        "closed by the create's alias"
    );
    assert_eq!(close.1, "identifierType=alias");
    assert_eq!(close.2["source"], "burnwatch");

    // A message of at most 130 characters (Opsgenie's limit), cut with an ellipsis.
    let message = page.2["message"].as_str().unwrap();
    assert_eq!(message.chars().count(), 130);
    assert!(message.ends_with('…'), "{message}");
    assert!(
        message.starts_with("checkout-availability (region=eu): page error budget burn"),
        "{message}"
    );
    // Details are strings only.
    let details = page.2["details"].as_object().unwrap();
    assert!(details.values().all(Value::is_string), "{details:?}");
    assert_eq!(details["burn_rate_5m"], "20x");
    assert_eq!(details["burn_rate_1h"], "16x");
    assert_eq!(details["budget_remaining"], "62.5%");
    assert_eq!(details["label.team"], "payments");
    assert_eq!(details["label.sloth_severity"], "page");
    let description = page.2["description"].as_str().unwrap();
    for line in [
        "Checkout requests that succeed.",
        "Burn rate: 16x over 1h, 20x over 5m",
        "Budget left: 62.5% of 30d",
        "Condition: burn rate over 5m and 1h above 14.4x",
        "Runbook: https://runbooks.example/checkout",
        "Dashboard: https://grafana.example/d/slo",
    ] {
        assert!(
            description.lines().any(|l| l.starts_with(line)),
            "{line:?} not in\n{description}"
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn a_rate_limited_request_is_retried_with_backoff_until_accepted() {
    let server = MockServer::start().await;
    // Opsgenie's 429 carries no Retry-After: the usual backoff applies.
    let limited = ResponseTemplate::new(429).set_body_json(json!({
        "message": "You are making too many requests! To avoid errors, we recommend you limit requests.",
        "took": 0.0,
        "requestId": "e5a2f6a2-2b43-4a83-b2a1-4b6f1c8d0d71",
    }));
    let stamped = Stamped::scripted(vec![limited], accepted());
    stamped.mount(&server).await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("genie", "sent", 1.0).await;
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "the same create again");
    assert!(
        stamped.gaps()[0] >= FIRST_BACKOFF_MIN,
        "{:?}",
        stamped.gaps()
    );
    assert_eq!(h.retries("genie"), 1.0);
    assert_eq!(h.count("genie", "failed"), 0.0);
    h.stop().await;
}

#[tokio::test]
async fn an_unprocessable_request_is_not_retried_and_its_logged_body_hides_the_key() {
    let (logs, _guard) = Logs::capture();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/alerts"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": format!("Request body is not processable (key GenieKey {API_KEY})"),
            "took": 0.001,
            "requestId": "0a0b1c2d-0000-4000-8000-000000000422",
        })))
        .mount(&server)
        .await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("genie", "failed", 1.0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no retry"
    );
    assert_eq!(h.retries("genie"), 0.0);
    let text = logs.text();
    assert!(text.contains("Request body is not processable"), "{text}");
    assert!(!text.contains(API_KEY), "the key in the log:\n{text}");
    assert!(!h.metrics().contains(API_KEY));
    h.stop().await;
}

#[tokio::test]
async fn the_eu_instance_is_only_a_base_url() {
    // What `url = "https://api.eu.opsgenie.com"` does: the same paths under another base.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/eu/v2/alerts"))
        .respond_with(accepted())
        .mount(&server)
        .await;
    let mut h = Harness::alone(receiver("genie", opsgenie(format!("{}/eu", server.uri()))));
    Mock::given(method("POST"))
        .and(query_param("identifierType", "alias"))
        .respond_with(accepted())
        .mount(&server)
        .await;
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Resolved));
    h.wait_for("genie", "sent", 2.0).await;
    let sent = requests(&server).await;
    assert_eq!(sent[0].0, "/eu/v2/alerts");
    let alias = sent[0].2["alias"].as_str().unwrap();
    assert_eq!(sent[1].0, format!("/eu/v2/alerts/{alias}/close"));
    h.stop().await;
}
