use burnwatch_engine::{AlertKind, AlertStatus};
use burnwatch_spec::ReceiverKind;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Harness, bodies, notification, receiver, webhook};

async fn server(at: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn webhook_speaks_alertmanager_webhook_version_4() {
    let server = server("/hook").await;
    let mut h = Harness::alone(receiver("hooks", webhook(format!("{}/hook", server.uri()))));
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.send(notification(AlertKind::Ticket, AlertStatus::Resolved));
    h.wait_for("hooks", "sent", 2.0).await;
    let sent = bodies(&server).await;
    let firing = &sent[0];
    for key in [
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    ] {
        assert!(firing.get(key).is_some(), "missing {key}: {firing}");
    }
    assert_eq!(firing["version"], "4");
    assert_eq!(firing["status"], "firing");
    assert_eq!(firing["receiver"], "hooks");
    assert_eq!(firing["truncatedAlerts"], 0);
    let alert = &firing["alerts"][0];
    assert_eq!(alert["status"], "firing");
    assert_eq!(alert["labels"]["alertname"], "CheckoutBudgetBurn");
    assert_eq!(alert["labels"]["sloth_severity"], "ticket");
    assert_eq!(alert["labels"]["region"], "eu");
    assert_eq!(alert["endsAt"], "0001-01-01T00:00:00Z");
    assert!(alert["startsAt"].as_str().unwrap().ends_with('Z'));
    assert!(
        alert["annotations"]["summary"]
            .as_str()
            .unwrap()
            .contains("ticket error budget burn")
    );

    let resolved = &sent[1];
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["alerts"][0]["status"], "resolved");
    assert_ne!(resolved["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(
        resolved["alerts"][0]["fingerprint"], alert["fingerprint"],
        "same alert, same fingerprint"
    );
    h.stop().await;
}

#[tokio::test]
async fn alertmanager_gets_prometheus_style_alerts() {
    let server = server("/am/api/v2/alerts").await;
    let mut h = Harness::alone(receiver(
        "am",
        ReceiverKind::Alertmanager {
            url: format!("{}/am/", server.uri()),
        },
    ));
    let n = notification(AlertKind::Page, AlertStatus::Firing);
    let fired_at = n.fired_at;
    h.send(n);
    h.wait_for("am", "sent", 1.0).await;
    let sent = bodies(&server).await;
    let alerts = sent[0].as_array().expect("a JSON array of alerts");
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    let labels = alert["labels"].as_object().unwrap();
    let mut names: Vec<&str> = labels.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alertname",
            "region",
            "sloth_id",
            "sloth_service",
            "sloth_severity",
            "sloth_slo",
            "team"
        ]
    );
    assert_eq!(alert["labels"]["sloth_severity"], "page");
    assert_eq!(
        alert["annotations"]["runbook"],
        "https://runbooks.example/checkout"
    );
    assert_eq!(
        alert["annotations"]["description"],
        "Checkout requests that succeed."
    );
    let starts = humantime::parse_rfc3339(alert["startsAt"].as_str().unwrap()).unwrap();
    let ends = humantime::parse_rfc3339(alert["endsAt"].as_str().unwrap()).unwrap();
    assert_eq!(
        starts,
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(fired_at as u64)
    );
    // endsAt = now + 4 resend intervals: expired by Alertmanager if burnwatch stops sending.
    let ahead = ends.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(ahead.as_secs() > 200 && ahead.as_secs() <= 240, "{ahead:?}");
    h.stop().await;
}
