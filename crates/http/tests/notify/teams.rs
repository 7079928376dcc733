//! Microsoft Teams against a double that answers as Workflows webhooks (202) and legacy
//! incoming webhooks (200 `1`; a failure in the channel wrapped in a 200 whose body names the
//! real status) do, at most 4 requests a second per webhook.

use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus};
use burnwatch_spec::receiver::teams::Teams;
use burnwatch_spec::{Plugin, ReceiverKind, Secret, SecretSource};
use wiremock::{MockServer, ResponseTemplate};

use crate::support::{FIRST_BACKOFF_MIN, Harness, Logs, Stamped, bodies, notification, receiver};

const SIGNATURE: &str = "sig=Zm9vYmFyc2VjcmV0c2lnbmF0dXJl";

fn teams(url: String) -> ReceiverKind {
    ReceiverKind::Plugin(Plugin::new(Teams {
        url: SecretSource::Value(Secret::new(url)),
    }))
}

/// A Teams webhook answering per `stamped`, and a dispatcher sending to it.
async fn start(stamped: &Stamped) -> (MockServer, Harness) {
    let server = MockServer::start().await;
    stamped.mount(&server).await;
    let url = format!(
        "{}/workflows/abc/triggers/manual/paths/invoke?{SIGNATURE}",
        server.uri()
    );
    let h = Harness::alone(receiver("chat", teams(url)));
    (server, h)
}

fn wrapped(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(format!(
        "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP \
         error {status} with ContextId tcid=0,server=msgapi-production-weu-01,cv=abc.0"
    ))
}

#[tokio::test]
async fn cards_arrive_as_adaptive_card_messages_at_most_two_a_second() {
    let stamped = Stamped::new(ResponseTemplate::new(202));
    let (server, mut h) = start(&stamped).await;
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.send(notification(AlertKind::Page, AlertStatus::Resolved));
    h.wait_for("chat", "sent", 3.0).await;
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3);
    for body in &sent {
        assert_eq!(body["type"], "message");
        let attachment = &body["attachments"][0];
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(attachment["content"]["type"], "AdaptiveCard");
        assert_eq!(attachment["content"]["version"], "1.4");
    }
    let titles: Vec<&str> = sent
        .iter()
        .map(|b| {
            b["attachments"][0]["content"]["body"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        titles,
        [
            "FIRING page: checkout-availability (region=eu)",
            "FIRING ticket: checkout-availability (region=eu)",
            "RESOLVED page: checkout-availability (region=eu)",
        ]
    );
    let page = &sent[0]["attachments"][0]["content"];
    let fact = |title: &str| {
        page["body"][2]["facts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["title"] == title)
            .map(|f| f["value"].as_str().unwrap().to_string())
    };
    assert_eq!(
        fact("SLO").as_deref(),
        Some("checkout-availability (99.9% over 30d)")
    );
    assert_eq!(fact("Budget left").as_deref(), Some("62.5% of 30d"));
    assert_eq!(
        fact("Burn rate").as_deref(),
        Some("16x over 1h, 20x over 5m (threshold 14.4x)")
    );
    let buttons: Vec<&str> = page["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        buttons,
        [
            "https://runbooks.example/checkout",
            "https://grafana.example/d/slo"
        ]
    );
    // Paced under the connectors' limit of 4 a second (and 60 in 30 seconds): half a second
    // apart as sent, less a little for when each arrives.
    let gaps = stamped.gaps();
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(450)),
        "{gaps:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_throttled_message_wrapped_in_a_200_is_retried() {
    let stamped = Stamped::scripted(
        vec![wrapped(429)],
        ResponseTemplate::new(200).set_body_string("1"),
    );
    let (server, mut h) = start(&stamped).await;
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("chat", "sent", 1.0).await;
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1]);
    assert_eq!(h.retries("chat"), 1.0);
    assert!(
        stamped.gaps()[0] >= FIRST_BACKOFF_MIN,
        "{:?}",
        stamped.gaps()
    );
    h.stop().await;
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "2");
    let stamped = Stamped::scripted(vec![throttled], ResponseTemplate::new(202));
    let (_server, mut h) = start(&stamped).await;
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.wait_for("chat", "sent", 1.0).await;
    assert!(
        stamped.gaps()[0] >= Duration::from_secs(2),
        "{:?}",
        stamped.gaps()
    );
    h.stop().await;
}

#[tokio::test]
async fn a_rejected_card_is_not_retried_and_the_url_stays_out_of_the_log() {
    let (logs, _guard) = Logs::capture();
    // Too large (413) inside a 200, then a plain 400 naming the URL: neither is retried.
    let bad = ResponseTemplate::new(400).set_body_string(format!("Bad payload for ?{SIGNATURE}"));
    let stamped = Stamped::scripted(vec![wrapped(413)], bad);
    let (server, mut h) = start(&stamped).await;
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.wait_for("chat", "failed", 2.0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "no retry"
    );
    assert_eq!(h.retries("chat"), 0.0);
    let text = logs.text();
    assert!(text.contains("HTTP error 413"), "{text}");
    assert!(
        !text.contains(SIGNATURE),
        "the signed URL in the log:\n{text}"
    );
    assert!(!h.metrics().contains(SIGNATURE));
    h.stop().await;
}
