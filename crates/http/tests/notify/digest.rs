//! Digests through the notifier's receivers: Slack's documented answers (200 `ok`, 429 with
//! `Retry-After`, 400 `invalid_payload`), the journal keyed by (digest, occurrence, receiver)
//! across a new sender on the same directory (a restart), Slack's block limits, and the
//! webhook's structured JSON.

use std::time::Duration;

use burnwatch_http::Dispatcher;
use burnwatch_http::notify::{DigestMessage, IncidentDigest, Sending, ServiceDigest, Status};
use prometheus_client::registry::Registry;
use wiremock::{MockServer, ResponseTemplate};

use crate::support::{Stamped, bodies, config, receiver, sample, slack, webhook};

/// 2026-12-07T09:00:00Z.
const OCCURRENCE: i64 = 1_796_634_000_000;
const HOUR: i64 = 3_600_000;

fn service(i: usize) -> ServiceDigest {
    ServiceDigest {
        slo: format!("svc{i}-availability"),
        group: String::new(),
        status: Status::Red,
        objective: 0.999,
        sli: Some(0.9983),
        budget_remaining: Some(-0.09),
        budget_remaining_start: Some(0.5),
        burn: Some(1.69),
        burn_before: Some(0.5),
        incidents: vec![IncidentDigest {
            severity: "page".into(),
            start: OCCURRENCE - 3 * 24 * HOUR,
            end: Some(OCCURRENCE - 3 * 24 * HOUR + 85 * 60_000),
            duration_seconds: 85 * 60,
        }],
        mttr_seconds: Some(85 * 60),
        pages: 1,
        tickets: 0,
    }
}

fn message(services: usize) -> DigestMessage {
    DigestMessage {
        digest: "weekly-review".into(),
        kind: "weekly".into(),
        occurrence: OCCURRENCE,
        start: OCCURRENCE - 7 * 24 * HOUR,
        end: OCCURRENCE,
        timezone: "Europe/London".into(),
        services: (0..services).map(service).collect(),
        objective_changes: Vec::new(),
    }
}

/// A sender for receiver `chat` at `url` (Slack or webhook), its journal in `dir`, and the
/// registry its metrics are in.
fn sender(
    kind: burnwatch_spec::ReceiverKind,
    dir: &std::path::Path,
) -> (burnwatch_http::notify::DigestSender, Registry) {
    let mut registry = Registry::default();
    let dispatcher = Dispatcher::new(
        &config(vec![receiver("chat", kind)], Vec::new()),
        &mut registry,
    )
    .unwrap();
    let sender = dispatcher.digest_sender(Some(dir), OCCURRENCE).unwrap();
    (sender, registry)
}

fn metrics(registry: &Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).unwrap();
    text
}

const CHAT: &[&str] = &["chat"];

fn chat() -> Vec<String> {
    CHAT.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_throttled_digest_waits_for_retry_after_and_is_not_sent_again_after_a_restart() {
    let server = MockServer::start().await;
    let slack_answers = Stamped::scripted(
        vec![ResponseTemplate::new(429).insert_header("Retry-After", "1")],
        ResponseTemplate::new(200).set_body_string("ok"),
    );
    slack_answers.mount(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/services/T0/B0/X", server.uri());
    let (first, registry) = sender(slack(url.clone()), dir.path());
    assert_eq!(
        first.send(&message(1), &chat()).await,
        [("chat".to_string(), Sending::Sent)]
    );
    assert_eq!(slack_answers.arrivals().len(), 2);
    assert!(
        slack_answers.gaps()[0] >= Duration::from_secs(1),
        "{:?}",
        slack_answers.gaps()
    );
    let text = metrics(&registry);
    let labels = [("digest", "weekly-review"), ("receiver", "chat")];
    assert_eq!(
        sample(&text, "burnwatch_digests_sent_total", &labels),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "burnwatch_notification_retries_total",
            &[("receiver", "chat")]
        ),
        1.0,
        "{text}"
    );

    // A restart: a new sender on the same journal sends the occurrence no more...
    let (second, registry) = sender(slack(url), dir.path());
    assert!(
        second
            .unsent("weekly-review", OCCURRENCE, &chat())
            .is_empty()
    );
    assert_eq!(
        second.send(&message(1), &chat()).await,
        [("chat".to_string(), Sending::AlreadySent)]
    );
    assert_eq!(slack_answers.arrivals().len(), 2);
    let text = metrics(&registry);
    assert_eq!(
        sample(
            &text,
            "burnwatch_digests_skipped_total",
            &[("digest", "weekly-review"), ("reason", "already_sent")]
        ),
        1.0,
        "{text}"
    );
    // ...but the next occurrence is its own key.
    let mut next = message(1);
    next.occurrence += 7 * 24 * HOUR;
    assert_eq!(
        second
            .unsent("weekly-review", next.occurrence, &chat())
            .len(),
        1
    );
}

#[tokio::test]
async fn invalid_payload_is_not_retried_and_not_tried_again() {
    let server = MockServer::start().await;
    let answers = Stamped::new(ResponseTemplate::new(400).set_body_string("invalid_payload"));
    answers.mount(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/services/T0/B0/X", server.uri());
    let (first, registry) = sender(slack(url.clone()), dir.path());
    assert_eq!(
        first.send(&message(1), &chat()).await,
        [("chat".to_string(), Sending::Failed)]
    );
    assert_eq!(answers.arrivals().len(), 1);
    let text = metrics(&registry);
    let labels = [("digest", "weekly-review"), ("receiver", "chat")];
    assert_eq!(
        sample(&text, "burnwatch_digests_failed_total", &labels),
        1.0,
        "{text}"
    );
    let (second, _) = sender(slack(url), dir.path());
    assert_eq!(
        second.send(&message(1), &chat()).await,
        [("chat".to_string(), Sending::FailedBefore)]
    );
    assert_eq!(answers.arrivals().len(), 1);
}

#[tokio::test]
async fn slack_digests_keep_to_fifty_blocks_and_say_what_was_left_out() {
    let server = MockServer::start().await;
    Stamped::new(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (sender, _) = sender(
        slack(format!("{}/services/T0/B0/X", server.uri())),
        dir.path(),
    );
    sender.send(&message(80), &chat()).await;
    let body = &bodies(&server).await[0];
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 50, "{body}");
    assert_eq!(blocks[0]["type"], "header");
    // Header, summary, note and objective changes leave 46 blocks: 34 services left out.
    let note = blocks
        .iter()
        .find(|b| b["type"] == "context")
        .expect("a note on what was left out");
    assert!(
        note.to_string().contains("34 more SLOs not shown"),
        "{note}"
    );
    let first = blocks[2]["text"]["text"].as_str().unwrap();
    assert!(
        first.starts_with(":red_circle: *svc0-availability*"),
        "{first}"
    );
    assert!(
        first.contains("page from 2026-12-04T09:00:00Z to 2026-12-04T10:25:00Z (1h 25m)"),
        "{first}"
    );
    assert!(first.contains("MTTR 1h 25m"), "{first}");
    assert!(
        first.contains("burn 1.69x vs 0.5x last week (faster)"),
        "{first}"
    );
    for b in blocks {
        if let Some(text) = b["text"]["text"].as_str() {
            assert!(text.chars().count() <= 3_000);
        }
    }
    assert!(body["text"].as_str().unwrap().contains("80 SLOs: 80 red"));
}

#[tokio::test]
async fn the_webhook_gets_the_structured_digest() {
    let server = MockServer::start().await;
    Stamped::new(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (sender, _) = sender(webhook(format!("{}/hook", server.uri())), dir.path());
    assert_eq!(sender.send(&message(1), &chat()).await[0].1, Sending::Sent);
    let body = &bodies(&server).await[0];
    assert_eq!(body["type"], "digest");
    assert_eq!(body["digest"], "weekly-review");
    assert_eq!(body["occurrence"], "2026-12-07T09:00:00Z");
    let service = &body["services"][0];
    assert_eq!(service["status"], "red");
    assert_eq!(service["incidents"][0]["duration_seconds"], 5_100);
    assert_eq!(service["mttr_seconds"], 5_100);
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("Weekly SLO review (weekly-review)")
    );
}

#[tokio::test]
async fn teams_gets_an_adaptive_card_with_a_coloured_heading_per_slo() {
    let server = MockServer::start().await;
    Stamped::new(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let teams = burnwatch_spec::ReceiverKind::Plugin(burnwatch_spec::Plugin::new(
        burnwatch_spec::receiver::teams::Teams {
            url: burnwatch_spec::SecretSource::Value(burnwatch_spec::Secret::new(format!(
                "{}/workflows/x?sig=SECRET",
                server.uri()
            ))),
        },
    ));
    let (sender, _) = sender(teams, dir.path());
    assert_eq!(sender.send(&message(2), &chat()).await[0].1, Sending::Sent);
    let body = &bodies(&server).await[0];
    let card = &body["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    let blocks = card["body"].as_array().unwrap();
    assert_eq!(blocks[1]["text"], "2 SLOs: 2 red, 0 yellow, 0 green");
    assert_eq!(blocks[2]["text"], "RED svc0-availability");
    assert_eq!(blocks[2]["color"], "Attention");
    assert!(
        blocks[3]["text"].as_str().unwrap().contains("MTTR 1h 25m"),
        "{card}"
    );
}
