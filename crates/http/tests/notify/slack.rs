use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    Harness, SHORT_TIMEOUT, Stamped, assert_timeout_retried, bodies, notification, receiver, slack,
    slow_first,
};

const HOOK: &str = "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX";

fn harness(server: &MockServer) -> Harness {
    Harness::alone(receiver("chat", slack(format!("{}{HOOK}", server.uri()))))
}

#[tokio::test]
async fn firing_and_resolved_messages_read_at_a_glance() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Page, AlertStatus::Resolved));
    h.wait_for("chat", "sent", 2.0).await;
    let sent = bodies(&server).await;

    let firing = &sent[0];
    let text = firing["text"].as_str().unwrap();
    assert!(
        text.starts_with("FIRING checkout-availability (region=eu): page error budget burn"),
        "{text}"
    );
    let attachment = &firing["attachments"][0];
    assert_eq!(attachment["color"], "#d62728");
    assert_eq!(attachment["fallback"], firing["text"]);
    assert_eq!(
        attachment["title"],
        "FIRING page: checkout-availability (region=eu)"
    );
    assert_eq!(attachment["title_link"], "https://grafana.example/d/slo");
    let field = |name: &str| -> String {
        attachment["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["title"] == name)
            .unwrap_or_else(|| panic!("no field {name}: {attachment}"))["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        field("Burn rate"),
        "16x over 1h, 20x over 5m (threshold 14.4x)"
    );
    assert_eq!(field("Budget left"), "62.5% of 30d");
    assert_eq!(field("Runs out"), "in 1d 4h at the 1h rate");
    assert_eq!(
        field("Runbook"),
        "<https://runbooks.example/checkout|open runbook>"
    );

    let resolved = &sent[1]["attachments"][0];
    assert_eq!(resolved["color"], "#2ca02c");
    assert!(sent[1]["text"].as_str().unwrap().starts_with("RESOLVED"));
    h.stop().await;
}

#[tokio::test]
async fn at_most_one_message_per_second() {
    let server = MockServer::start().await;
    let stamped = Stamped::new(ResponseTemplate::new(200).set_body_string("ok"));
    Mock::given(method("POST"))
        .respond_with(stamped.clone())
        .mount(&server)
        .await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.send(notification(AlertKind::NoData, AlertStatus::Firing));
    h.wait_for("chat", "sent", 3.0).await;
    let arrivals = stamped.arrivals();
    assert_eq!(arrivals.len(), 3);
    for pair in arrivals.windows(2) {
        // The pacer spaces request starts by 1 s; arrival times can differ from start times by
        // the first request's connection setup (well under 50 ms on loopback).
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(950),
            "messages {:?} apart",
            pair[1] - pair[0]
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn rate_limited_429_is_retried_after_retry_after() {
    let server = MockServer::start().await;
    // 2 s: longer than both the 1 s pacing and the first backoff, so only honouring
    // Retry-After explains the gap.
    let stamped = Stamped::scripted(
        vec![
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "2")
                .set_body_string("rate_limited"),
        ],
        ResponseTemplate::new(200).set_body_string("ok"),
    );
    stamped.mount(&server).await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("chat", "sent", 1.0).await;
    let gaps = stamped.gaps();
    assert_eq!(gaps.len(), 1, "one retry");
    assert!(gaps[0] >= Duration::from_secs(2), "retried after {gaps:?}");
    assert_eq!(h.count("chat", "failed"), 0.0);
    assert_eq!(h.retries("chat"), 1.0);
    h.stop().await;
}

#[tokio::test]
async fn rollup_error_500_is_retried() {
    let server = MockServer::start().await;
    let stamped = Stamped::scripted(
        vec![ResponseTemplate::new(500).set_body_string("rollup_error")],
        ResponseTemplate::new(200).set_body_string("ok"),
    );
    stamped.mount(&server).await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("chat", "sent", 1.0).await;
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "the same message is retried");
    assert_eq!(h.count("chat", "failed"), 0.0);
    assert_eq!(h.retries("chat"), 1.0);
    h.stop().await;
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_retried_and_then_delivered() {
    let (server, stamped) = slow_first(ResponseTemplate::new(200).set_body_string("ok")).await;
    let mut chat = receiver("chat", slack(format!("{}{HOOK}", server.uri())));
    chat.timeout = SHORT_TIMEOUT;
    let mut h = Harness::alone(chat);
    let started = std::time::Instant::now();
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    assert_timeout_retried(&h, "chat", &server, &stamped, started).await;
    h.stop().await;
}

#[tokio::test]
async fn invalid_payload_400_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string("invalid_payload"))
        .mount(&server)
        .await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("chat", "failed", 1.0).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(h.retries("chat"), 0.0);
    assert_eq!(h.count("chat", "sent"), 0.0);
    h.stop().await;
}
