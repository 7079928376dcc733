use std::collections::BTreeMap;
use std::sync::Arc;

use burnwatch_engine::{AlertKind, AlertStatus};
use burnwatch_record::{Day, DayBatch, DayRow, Query, RecordDb, SharedRecord, instance_name};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers};

use crate::support::{Harness, notification, receiver, route, webhook};

#[tokio::test]
async fn accepted_firing_notifications_are_counted_per_receiver_and_day() {
    let ok = MockServer::start().await;
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&ok)
        .await;
    let broken = MockServer::start().await;
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(400))
        .mount(&broken)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(RecordDb::open(dir.path(), 0).unwrap());
    let record = SharedRecord::default();
    record.set(Arc::clone(&db));
    let mut h = Harness::start_recording(
        vec![
            receiver("hooks", webhook(format!("{}/hook", ok.uri()))),
            receiver("broken", webhook(format!("{}/hook", broken.uri()))),
        ],
        vec![route(&[], &[], &["hooks", "broken"])],
        None,
        Some(record),
    );
    let page = notification(AlertKind::Page, AlertStatus::Firing);
    let (slo, at) = (page.instance.slo.id.clone(), page.at);
    let instance = instance_name(&slo, &page.instance.group);
    h.send(page);
    h.send(notification(AlertKind::Ticket, AlertStatus::Firing));
    h.send(notification(AlertKind::Page, AlertStatus::Resolved));
    h.wait_for("hooks", "sent", 3.0).await;
    h.wait_for("broken", "failed", 3.0).await;
    h.stop().await;

    // The day's row, to read the counts with.
    let day = Day::of(at);
    db.write(&DayBatch {
        slo: slo.clone(),
        day,
        rows: vec![DayRow {
            slo: slo.clone(),
            instance: instance.clone(),
            team: None,
            day,
            objective: 0.999,
            events: 1.0,
            errors: 0.0,
            budget_spent: Some(0.0),
            excluded_minutes: 0.0,
            incidents: 0,
            resolved: 0,
            mttr_seconds: None,
            notifications: BTreeMap::new(),
        }],
        incidents: Vec::new(),
        replaces_open_from: None,
    })
    .unwrap();
    // The count is written off the async threads just after the send is counted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let rows = db
            .days(&Query {
                slo: Some(slo.clone()),
                from: day,
                to: day,
            })
            .unwrap();
        assert_eq!(rows.len(), 1);
        let want = BTreeMap::from([("hooks".to_string(), 2)]);
        if rows[0].notifications == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            rows[0].notifications
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
