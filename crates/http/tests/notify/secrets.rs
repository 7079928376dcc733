use burnwatch_engine::{AlertKind, AlertStatus};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    Harness, Logs, ROUTING_KEY, notification, pagerduty, receiver, route, slack, webhook,
};

const SLACK_TOKEN: &str = "XXXXslacksecretXXXX";
const HOOK_TOKEN: &str = "hooksecret0123";

#[tokio::test]
async fn keys_and_urls_never_reach_metrics_or_logs() {
    let (logs, _guard) = Logs::capture();
    let server = MockServer::start().await;
    // Receivers that echo the secret back in their error bodies: the log must still not show it.
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "invalid event",
            "message": format!("routing_key {ROUTING_KEY} is not valid"),
        })))
        .mount(&server)
        .await;
    let slack_path = format!("/services/T0/B0/{SLACK_TOKEN}");
    Mock::given(method("POST"))
        .and(path(slack_path.as_str()))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(format!("invalid_payload for {}{slack_path}", server.uri())),
        )
        .mount(&server)
        .await;
    // Nothing listens here: connection refused, retried; reqwest's error would name the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);

    let mut h = Harness::start(
        vec![
            receiver("pd", pagerduty(format!("{}/v2/enqueue", server.uri()))),
            receiver("chat", slack(format!("{}{slack_path}", server.uri()))),
            receiver(
                "hooks",
                webhook(format!("http://127.0.0.1:{closed_port}/{HOOK_TOKEN}")),
            ),
        ],
        vec![route(&[], &[], &["pd", "chat", "hooks"])],
    );
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("pd", "failed", 1.0).await;
    h.wait_for("chat", "failed", 1.0).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.sample(
        "burnwatch_notification_retries_total",
        &[("receiver", "hooks")],
    ) < 1.0
    {
        assert!(std::time::Instant::now() < deadline, "{}", h.metrics());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    h.stop().await;

    let logs = logs.text();
    let metrics = h.metrics();
    // The capture works and names receivers and outcomes.
    assert!(
        logs.contains("notification rejected") && logs.contains("receiver=pd"),
        "{logs}"
    );
    assert!(
        logs.contains("receiver=chat") && logs.contains("receiver=hooks"),
        "{logs}"
    );
    assert!(
        logs.contains("<redacted>"),
        "echoed secrets are scrubbed: {logs}"
    );
    for secret in [ROUTING_KEY, SLACK_TOKEN, HOOK_TOKEN, "/services/T0/B0"] {
        assert!(!logs.contains(secret), "{secret} in logs:\n{logs}");
        assert!(!metrics.contains(secret), "{secret} in metrics:\n{metrics}");
    }
}
