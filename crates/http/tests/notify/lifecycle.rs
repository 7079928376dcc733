use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus};
use burnwatch_http::Dispatcher;
use prometheus_client::registry::Registry;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Harness, config, notification, receiver, route, sample, webhook};

async fn slow_server(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(delay))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn shutdown_delivers_what_was_already_handed_over() {
    let server = slow_server(Duration::from_millis(300)).await;
    let mut h = Harness::alone(receiver("hooks", webhook(server.uri())));
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.send(notification(AlertKind::Page, AlertStatus::Resolved));
    h.stop().await;
    assert_eq!(h.count("hooks", "sent"), 3.0, "{}", h.metrics());
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(
        h.sample(
            "burnwatch_notification_queue_length",
            &[("receiver", "hooks")]
        ),
        0.0
    );
}

#[tokio::test]
async fn shutdown_gives_up_on_a_receiver_that_hangs() {
    let server = slow_server(Duration::from_secs(60)).await;
    let mut h = Harness::alone(receiver("hooks", webhook(server.uri())));
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Bounded by the 3 s drain, far below the receiver's 10 s timeout and 60 s hang.
    tokio::time::timeout(Duration::from_secs(8), h.stop())
        .await
        .expect("shutdown is bounded");
    assert_eq!(h.count("hooks", "sent"), 0.0);
}

#[tokio::test]
async fn every_receiver_has_its_series_from_the_start() {
    let h = Harness::start(
        vec![receiver("hooks", webhook("http://127.0.0.1:9/x".into()))],
        vec![],
    );
    let text = h.metrics();
    for outcome in ["sent", "failed", "dropped"] {
        assert!(
            text.contains(&format!(
                "burnwatch_notifications_total{{receiver=\"hooks\",outcome=\"{outcome}\"}} 0"
            )),
            "{text}"
        );
    }
    assert!(text.contains("burnwatch_notification_queue_length{receiver=\"hooks\"} 0"));
    assert!(text.contains("burnwatch_notification_latency_seconds_bucket{"));
    assert_eq!(
        sample(&text, "burnwatch_notifications_unrouted_total", &[]),
        0.0
    );
}

#[test]
fn a_route_to_an_undefined_receiver_is_an_error() {
    let mut registry = Registry::default();
    let err = Dispatcher::new(
        &config(
            vec![receiver("pager", webhook("http://127.0.0.1:9/x".into()))],
            vec![route(&[], &[], &["pagr"])],
        ),
        &mut registry,
    )
    .unwrap_err();
    assert!(
        err.contains("`pagr`") && err.contains("defined: pager"),
        "{err}"
    );
}
