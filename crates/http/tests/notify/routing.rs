use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus};
use burnwatch_spec::Severity;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    Harness, Instance, bodies, notification, notification_for, pagerduty, receiver, route, webhook,
};

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn routes_select_by_severity_and_labels_and_deliver_once_per_receiver() {
    let (pager, chat, us) = (ok_server().await, ok_server().await, ok_server().await);
    let mut h = Harness::start(
        vec![
            receiver("pager", pagerduty(format!("{}/v2/enqueue", pager.uri()))),
            receiver("chat", webhook(chat.uri())),
            receiver("us", webhook(us.uri())),
        ],
        vec![
            route(&[Severity::Page], &[], &["pager", "chat"]),
            route(&[], &[("team", "payments")], &["chat"]),
            route(
                &[],
                &[("sloth_service", "checkout"), ("region", "us")],
                &["us"],
            ),
        ],
    );
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    let search = Instance {
        labels: vec![("team", "search")],
        ..Instance::default()
    };
    h.send(notification_for(
        &search,
        AlertKind::Ticket,
        AlertStatus::Firing,
    ));
    let us_east = Instance {
        group: vec![("region", "us")],
        labels: vec![("team", "search")],
        ..Instance::default()
    };
    h.send(notification_for(
        &us_east,
        AlertKind::Ticket,
        AlertStatus::Firing,
    ));

    h.wait_for("us", "sent", 1.0).await;
    h.wait_for("chat", "sent", 2.0).await;
    h.wait_for("pager", "sent", 1.0).await;
    // The search team's eu ticket matches no route.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.sample("burnwatch_notifications_unrouted_total", &[]) < 1.0 {
        assert!(std::time::Instant::now() < deadline, "{}", h.metrics());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    h.stop().await;

    let pager = bodies(&pager).await;
    assert_eq!(pager.len(), 1, "only the page");
    assert_eq!(pager[0]["payload"]["class"], "page");
    let chat = bodies(&chat).await;
    assert_eq!(
        chat.len(),
        2,
        "page and ticket once each, though two routes name chat"
    );
    let severities: Vec<&str> = chat
        .iter()
        .map(|b| b["alerts"][0]["labels"]["sloth_severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["page", "ticket"]);
    let us = bodies(&us).await;
    assert_eq!(us.len(), 1);
    assert_eq!(us[0]["alerts"][0]["labels"]["region"], "us");
}

#[tokio::test]
async fn send_resolved_false_sends_no_resolve() {
    let server = ok_server().await;
    let mut quiet = receiver("hooks", webhook(server.uri()));
    quiet.send_resolved = false;
    let mut h = Harness::alone(quiet);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Page, AlertStatus::Resolved));
    // A receiver works in order: once the ticket is out, the resolve before it was handled.
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.wait_for("hooks", "sent", 2.0).await;
    let statuses: Vec<(String, String)> = bodies(&server)
        .await
        .iter()
        .map(|b| {
            (
                b["status"].as_str().unwrap().to_string(),
                b["alerts"][0]["labels"]["sloth_severity"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("firing".to_string(), "page".to_string()),
            ("firing".to_string(), "ticket".to_string())
        ]
    );
    h.stop().await;
}

#[tokio::test]
async fn still_firing_alerts_are_repeated_until_resolved() {
    let server = ok_server().await;
    let mut eager = receiver("pd", pagerduty(format!("{}/v2/enqueue", server.uri())));
    // Real time here (the 4h default is unit-tested with paused time).
    eager.repeat_interval = Duration::from_millis(300);
    let mut h = Harness::alone(eager);
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.wait_for("pd", "sent", 3.0).await;
    h.send(notification(AlertKind::Page, AlertStatus::Resolved));
    let resolved_after = loop {
        let sent = bodies(&server).await;
        if let Some(i) = sent.iter().position(|b| b["event_action"] == "resolve") {
            break i;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // No repeat after the resolve, even after several intervals.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), resolved_after + 1, "nothing after the resolve");
    assert!(resolved_after >= 3);
    assert!(
        sent[..resolved_after]
            .iter()
            .all(|b| b["event_action"] == "trigger" && b["dedup_key"] == sent[0]["dedup_key"])
    );
    h.stop().await;
}
