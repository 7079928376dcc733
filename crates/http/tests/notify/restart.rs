use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus};
use burnwatch_http::notify::STATE_FILE;
use serde_json::Value;
use wiremock::{MockServer, ResponseTemplate};

use crate::support::{Harness, Logs, Stamped, bodies, notification, pagerduty, receiver, route};

async fn pagerduty_answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Stamped::new(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

fn start(server: &MockServer, dir: &std::path::Path) -> Harness {
    Harness::start_in(
        vec![receiver(
            "pager",
            pagerduty(format!("{}/v2/enqueue", server.uri())),
        )],
        vec![route(&[], &[], &["pager"])],
        dir,
    )
}

fn actions(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event_action"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_trigger_still_in_retry_at_shutdown_is_delivered_by_the_next_run_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let down = pagerduty_answering(500).await;
    let mut first = start(&down, dir.path());
    let trigger = notification(AlertKind::Page, AlertStatus::Firing);
    first.send(trigger.clone());
    first.wait_for_retries("pager", 1.0).await;
    // Shutdown waits 3 s for the retrying worker, then stops it; the trigger stays pending.
    first.stop().await;
    assert_eq!(first.count("pager", "sent"), 0.0);

    let up = pagerduty_answering(202).await;
    let second = start(&up, dir.path());
    second.wait_for("pager", "sent", 1.0).await;
    // The engine restored from an older snapshot sends the episode again, even with a later
    // start: PagerDuty already holds the incident open.
    second.send(trigger.clone());
    let mut restarted = trigger.clone();
    restarted.fired_at += 60_000;
    second.send(restarted);
    second.send(notification(AlertKind::Page, AlertStatus::Resolved));
    second.wait_for("pager", "sent", 2.0).await;
    let events = bodies(&up).await;
    assert_eq!(actions(&events), ["trigger", "resolve"], "{events:?}");
    assert_eq!(events[0]["dedup_key"], trigger.dedup_key());
    assert_eq!(events[1]["dedup_key"], trigger.dedup_key());
    let mut second = second;
    second.stop().await;

    // A third run hears the resolve again (engine snapshot older than the resolve): not sent.
    let mut third = start(&up, dir.path());
    third.send(notification(AlertKind::Page, AlertStatus::Resolved));
    tokio::time::sleep(Duration::from_millis(300)).await;
    third.stop().await;
    assert_eq!(bodies(&up).await.len(), 2);
}

#[tokio::test]
async fn a_corrupt_state_file_is_set_aside_and_delivery_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(STATE_FILE),
        b"{\"version\":1,\"receivers\":{\"pa",
    )
    .unwrap();
    let (logs, _guard) = Logs::capture();
    let up = pagerduty_answering(202).await;
    let mut h = start(&up, dir.path());
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("pager", "sent", 1.0).await;
    h.stop().await;
    let text = logs.text();
    assert!(text.contains("set aside"), "{text}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("notifications.json.bad-")),
        "{names:?}"
    );
    // The new file is whole and holds the firing alert.
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(STATE_FILE)).unwrap()).unwrap();
    assert_eq!(state["version"], 1);
    assert_eq!(state["receivers"]["pager"]["firing"][0]["delivered"], true);
}
