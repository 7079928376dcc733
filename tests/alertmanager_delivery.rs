//! burnwatch -> a real Alertmanager (`prometheus-alertmanager`) through the public Dispatcher.
//!
//! A firing page and a firing ticket of the same SLO instance go out; Alertmanager's inhibit
//! rule (source `sloth_severity="page"`, target `sloth_severity="ticket"`, equal `sloth_id`)
//! must suppress the ticket, which only works if burnwatch's labels are right. Resolving the page
//! (its `endsAt` set to the resolve time) must end it in Alertmanager and release the ticket.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_engine::{
    AlertKind, AlertPolicy, AlertStatus, Counts, DEFAULT_WINDOWS, DataState, Evaluation,
    InstanceInfo, Notification, PeriodFigures, SloInfo, WindowFigures,
};
use burnwatch_http::Dispatcher;
use burnwatch_spec::{Config, Receiver, ReceiverKind, Route, Server};
use burnwatch_tests::Alertmanager;
use prometheus_client::registry::Registry;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const CONFIG: &str = r#"
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: blackhole
inhibit_rules:
  - source_matchers: ['sloth_severity="page"']
    target_matchers: ['sloth_severity="ticket"']
    equal: ['sloth_id']
"#;

const PERIOD: Duration = Duration::from_secs(30 * 86_400);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn instance() -> Arc<InstanceInfo> {
    Arc::new(InstanceInfo {
        slo: Arc::new(SloInfo {
            id: "checkout-availability".into(),
            service: "checkout".into(),
            name: "availability".into(),
            objective: burnwatch_engine::Objective::from_percent(99.9),
            period: PERIOD,
            labels: vec![("team".into(), "payments".into())],
            description: Some("Checkout requests that succeed.".into()),
            alert_name: "CheckoutBudgetBurn".into(),
            annotations: vec![("runbook".into(), "https://runbooks.example/checkout".into())],
            alert_extras: Default::default(),
        }),
        group: vec![("region".into(), "eu".into())],
    })
}

fn notification(kind: AlertKind, status: AlertStatus, fired_at: i64) -> Notification {
    let figures = |window: Duration, burn: f64| WindowFigures {
        window,
        counts: Counts {
            errors: burn,
            total: 1_000.0,
        },
        error_ratio: Some(burn / 1_000.0),
        burn_rate: Some(burn),
    };
    let at = now_ms();
    Notification {
        instance: instance(),
        kind,
        status,
        fired_at,
        at,
        eval: Evaluation {
            at,
            objective: 0.999,
            windows: DEFAULT_WINDOWS.iter().map(|w| figures(*w, 16.0)).collect(),
            period: PeriodFigures {
                window: figures(PERIOD, 0.4),
                sli: Some(0.9996),
                budget_remaining: Some(0.6),
                exhaustion_at_1h_burn: Some(PERIOD.mul_f64(0.6 / 16.0)),
                exhaustion_at_6h_burn: Some(PERIOD.mul_f64(0.6 / 16.0)),
                covered: PERIOD,
                excluded: Duration::ZERO,
            },
            data_state: DataState::Ok,
        },
        policy: Arc::new(AlertPolicy::sre_workbook(PERIOD)),
    }
}

fn config(alertmanager_url: &str) -> Config {
    let receiver = Receiver {
        name: "am".into(),
        kind: ReceiverKind::Alertmanager {
            url: alertmanager_url.to_string(),
        },
        timeout: Duration::from_secs(10),
        repeat_interval: Duration::from_secs(60),
        send_resolved: true,
    };
    Config {
        source: PathBuf::from("burnwatch.toml"),
        server: Server {
            listen: "127.0.0.1:0".parse().unwrap(),
            alerts_series: true,
            reload_token: None,
            api_token: None,
            limits: Default::default(),
        },
        record: Default::default(),
        backends: BTreeMap::new(),
        slos: Vec::new(),
        discover: Vec::new(),
        maintenance: Vec::new(),
        digests: Vec::new(),
        receivers: BTreeMap::from([("am".to_string(), receiver)]),
        routes: vec![Route {
            severity: Vec::new(),
            matchers: BTreeMap::new(),
            receivers: vec!["am".into()],
        }],
    }
}

fn by_severity<'a>(alerts: &'a [Value], severity: &str) -> Option<&'a Value> {
    alerts
        .iter()
        .find(|a| a["labels"]["sloth_severity"] == severity)
}

/// Poll Alertmanager until `done` holds for its alert list (at most 30 s).
fn wait_until(am: &Alertmanager, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alerts = am.alerts();
        if done(&alerts) {
            return alerts;
        }
        assert!(
            Instant::now() < deadline,
            "Alertmanager never showed {what}; alerts: {alerts:#?}\nlog:\n{}",
            am.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn state(alert: Option<&Value>) -> Option<&str> {
    alert.and_then(|a| a["status"]["state"].as_str())
}

#[test]
fn page_inhibits_ticket_in_a_real_alertmanager_until_it_resolves() {
    let am = Alertmanager::start(CONFIG);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut registry = Registry::default();
    let dispatcher = Dispatcher::new(&config(am.url()), &mut registry).expect("dispatcher");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let handle = {
        let _context = runtime.enter();
        dispatcher.spawn(rx, shutdown.clone())
    };

    let fired_at = now_ms() - 600_000;
    tx.send(notification(AlertKind::Page, AlertStatus::Firing, fired_at))
        .unwrap();
    tx.send(notification(
        AlertKind::Ticket,
        AlertStatus::Firing,
        fired_at,
    ))
    .unwrap();

    let alerts = wait_until(&am, "an active page and a suppressed ticket", |alerts| {
        state(by_severity(alerts, "page")) == Some("active")
            && state(by_severity(alerts, "ticket")) == Some("suppressed")
    });
    let page = by_severity(&alerts, "page").unwrap();
    let ticket = by_severity(&alerts, "ticket").unwrap();
    let labels = page["labels"].as_object().unwrap();
    for (name, value) in [
        ("alertname", "CheckoutBudgetBurn"),
        ("sloth_id", "checkout-availability"),
        ("sloth_service", "checkout"),
        ("sloth_slo", "availability"),
        ("sloth_severity", "page"),
        ("team", "payments"),
        ("region", "eu"),
    ] {
        assert_eq!(labels[name], value, "label {name}: {page:#}");
    }
    assert_eq!(labels.len(), 7, "no other labels: {page:#}");
    assert_eq!(
        page["annotations"]["runbook"],
        "https://runbooks.example/checkout"
    );
    assert!(
        page["annotations"]["summary"]
            .as_str()
            .unwrap()
            .contains("page error budget burn 16x over 1h"),
        "{page:#}"
    );
    assert_eq!(page["status"]["inhibitedBy"], serde_json::json!([]));
    assert_eq!(
        ticket["status"]["inhibitedBy"],
        serde_json::json!([page["fingerprint"]]),
        "the ticket is inhibited by the page"
    );
    // startsAt is when the episode fired; a firing alert's endsAt lies ahead (4 resends).
    let time = |field: &str| {
        humantime::parse_rfc3339_weak(page[field].as_str().unwrap())
            .unwrap_or_else(|err| panic!("{field}: {err}: {page:#}"))
    };
    assert_eq!(
        time("startsAt"),
        UNIX_EPOCH + Duration::from_millis(fired_at as u64)
    );
    assert!(time("endsAt") > SystemTime::now() + Duration::from_secs(180));

    tx.send(notification(
        AlertKind::Page,
        AlertStatus::Resolved,
        fired_at,
    ))
    .unwrap();
    let alerts = wait_until(&am, "the page gone and the ticket active", |alerts| {
        by_severity(alerts, "page").is_none()
            && state(by_severity(alerts, "ticket")) == Some("active")
    });
    assert_eq!(
        by_severity(&alerts, "ticket").unwrap()["status"]["inhibitedBy"],
        serde_json::json!([])
    );

    shutdown.cancel();
    runtime.block_on(handle).unwrap();
    let mut metrics = String::new();
    prometheus_client::encoding::text::encode(&mut metrics, &registry).unwrap();
    assert!(
        metrics.contains(r#"burnwatch_notifications_total{receiver="am",outcome="sent"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"burnwatch_notifications_total{receiver="am",outcome="failed"} 0"#),
        "{metrics}"
    );
}
