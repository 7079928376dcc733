use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus};
use wiremock::{MockServer, ResponseTemplate};

use crate::support::{
    FIRST_BACKOFF_MIN, Harness, Logs, SHORT_TIMEOUT, Stamped, assert_timeout_retried, bodies,
    notification, receiver, slow_first, webhook,
};

fn harness(server: &MockServer) -> Harness {
    Harness::alone(receiver("hooks", webhook(format!("{}/hook", server.uri()))))
}

/// A server answering `script` first, then 200.
async fn server(script: Vec<ResponseTemplate>) -> (MockServer, Stamped) {
    let server = MockServer::start().await;
    let stamped = Stamped::scripted(script, ResponseTemplate::new(200));
    stamped.mount(&server).await;
    (server, stamped)
}

#[tokio::test]
async fn throttled_429_waits_for_retry_after() {
    // 2 s: longer than any first backoff (at most 1 s), so only Retry-After explains the gap.
    let (server, stamped) = server(vec![
        ResponseTemplate::new(429).insert_header("Retry-After", "2"),
    ])
    .await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("hooks", "sent", 1.0).await;
    let gaps = stamped.gaps();
    assert_eq!(gaps.len(), 1, "one retry");
    assert!(gaps[0] >= Duration::from_secs(2), "retried after {gaps:?}");
    assert_eq!(h.retries("hooks"), 1.0);
    assert_eq!(h.count("hooks", "failed"), 0.0);
    let sent = bodies(&server).await;
    assert_eq!(sent[0], sent[1], "the same payload is retried");
    h.stop().await;
}

#[tokio::test]
async fn server_errors_back_off_exponentially() {
    let (server, stamped) =
        server(vec![ResponseTemplate::new(503), ResponseTemplate::new(502)]).await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.wait_for("hooks", "sent", 1.0).await;
    let gaps = stamped.gaps();
    assert_eq!(gaps.len(), 2, "two retries: {gaps:?}");
    // 1 s then 2 s, each minus at most 25% jitter.
    assert!(gaps[0] >= FIRST_BACKOFF_MIN, "{gaps:?}");
    assert!(gaps[1] >= 2 * FIRST_BACKOFF_MIN, "{gaps:?}");
    assert!(gaps[1] > gaps[0], "the wait doubles: {gaps:?}");
    assert_eq!(h.retries("hooks"), 2.0);
    assert_eq!(h.count("hooks", "failed"), 0.0);
    h.stop().await;
}

#[tokio::test]
async fn a_400_is_permanent_and_the_queue_moves_on() {
    let (logs, _guard) = Logs::capture();
    let (server, _) = server(vec![
        ResponseTemplate::new(400).set_body_string("unknown field `sloth_id`"),
    ])
    .await;
    let mut h = harness(&server);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.wait_for("hooks", "sent", 1.0).await;
    // Had the page been retried, its retry would have taken the 200 and the ticket come third.
    let sent = bodies(&server).await;
    let severities: Vec<&str> = sent
        .iter()
        .map(|b| b["alerts"][0]["labels"]["sloth_severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["page", "ticket"]);
    assert_eq!(h.count("hooks", "failed"), 1.0);
    assert_eq!(h.retries("hooks"), 0.0);
    let logs = logs.text();
    assert!(
        logs.contains("notification rejected; not retried")
            && logs.contains("status=400")
            && logs.contains("unknown field `sloth_id`"),
        "{logs}"
    );
    h.stop().await;
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_retried_and_then_delivered() {
    let (logs, _guard) = Logs::capture();
    let (server, stamped) = slow_first(ResponseTemplate::new(200)).await;
    let mut hooks = receiver("hooks", webhook(format!("{}/hook", server.uri())));
    hooks.timeout = SHORT_TIMEOUT;
    let mut h = Harness::alone(hooks);
    let started = std::time::Instant::now();
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    assert_timeout_retried(&h, "hooks", &server, &stamped, started).await;
    // Logged as a timeout, not as some other transport error.
    let logs = logs.text();
    assert!(
        logs.contains("notification failed; retrying") && logs.contains("no answer within 200ms"),
        "{logs}"
    );
    h.stop().await;
}
