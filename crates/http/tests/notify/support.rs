//! Shared pieces: configuration and notification builders, a running dispatcher with its
//! registry, log capture, and a wiremock responder that records when requests arrived.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_engine::{
    AlertKind, AlertPolicy, AlertStatus, Counts, DEFAULT_WINDOWS, DataState, Evaluation,
    InstanceInfo, Notification, PeriodFigures, SloInfo, WindowFigures,
};
use burnwatch_http::Dispatcher;
use burnwatch_spec::{
    Config, Receiver, ReceiverKind, Route, Secret, SecretSource, Server, Severity,
};
use prometheus_client::registry::Registry;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const DAY: u64 = 86_400;
pub const OBJECTIVE: f64 = 0.999;
/// A PagerDuty routing key that must never show up outside the request body.
pub const ROUTING_KEY: &str = "R0UT1NGKEY0secret0c0ffee0123456789";

/// A receiver with the defaults of the spec (10s timeout, 4h repeat, send_resolved).
pub fn receiver(name: &str, kind: ReceiverKind) -> Receiver {
    Receiver {
        name: name.to_string(),
        kind,
        timeout: Duration::from_secs(10),
        repeat_interval: Duration::from_secs(4 * 3_600),
        send_resolved: true,
    }
}

pub fn pagerduty(url: String) -> ReceiverKind {
    ReceiverKind::PagerDuty {
        routing_key: SecretSource::Value(Secret::new(ROUTING_KEY)),
        url,
        page_severity: "critical".to_string(),
        ticket_severity: "warning".to_string(),
    }
}

pub fn slack(url: String) -> ReceiverKind {
    ReceiverKind::Slack {
        url: SecretSource::Value(Secret::new(url)),
    }
}

pub fn webhook(url: String) -> ReceiverKind {
    ReceiverKind::Webhook {
        url: SecretSource::Value(Secret::new(url)),
    }
}

/// A route taking everything to `receivers`.
pub fn route(severity: &[Severity], matchers: &[(&str, &str)], receivers: &[&str]) -> Route {
    Route {
        severity: severity.to_vec(),
        matchers: matchers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        receivers: receivers.iter().map(|r| r.to_string()).collect(),
    }
}

pub fn config(receivers: Vec<Receiver>, routes: Vec<Route>) -> Config {
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
        receivers: receivers.into_iter().map(|r| (r.name.clone(), r)).collect(),
        routes,
        digests: Vec::new(),
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// How an instance looks in a test notification.
#[derive(Clone)]
pub struct Instance {
    pub group: Vec<(&'static str, &'static str)>,
    pub labels: Vec<(&'static str, &'static str)>,
    pub annotations: Vec<(String, String)>,
}

impl Default for Instance {
    fn default() -> Self {
        Instance {
            group: vec![("region", "eu")],
            labels: vec![("team", "payments")],
            annotations: vec![
                (
                    "runbook".to_string(),
                    "https://runbooks.example/checkout".to_string(),
                ),
                (
                    "dashboard".to_string(),
                    "https://grafana.example/d/slo".to_string(),
                ),
            ],
        }
    }
}

fn window(window: Duration, burn: f64) -> WindowFigures {
    let ratio = burn * (1.0 - OBJECTIVE);
    WindowFigures {
        window,
        counts: Counts {
            errors: ratio * 100_000.0,
            total: 100_000.0,
        },
        error_ratio: Some(ratio),
        burn_rate: Some(burn),
    }
}

/// `checkout-availability` (99.9% over 30d, SRE Workbook policy) burning fast: 20x over 5m,
/// 16x over 1h (the 5m/1h page pair fires), 62.5% of the budget left.
pub fn notification(kind: AlertKind, status: AlertStatus) -> Notification {
    notification_for(&Instance::default(), kind, status)
}

pub fn notification_for(instance: &Instance, kind: AlertKind, status: AlertStatus) -> Notification {
    let period = Duration::from_secs(30 * DAY);
    let burns = [20.0, 4.0, 16.0, 3.0, 5.0, 2.0, 1.0];
    let windows: Vec<WindowFigures> = DEFAULT_WINDOWS
        .iter()
        .zip(burns)
        .map(|(w, b)| window(*w, b))
        .collect();
    let remaining: f64 = 0.625;
    let at = now_ms();
    let own = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    Notification {
        instance: Arc::new(InstanceInfo {
            slo: Arc::new(SloInfo {
                id: "checkout-availability".into(),
                service: "checkout".into(),
                name: "availability".into(),
                objective: burnwatch_engine::Objective::from_percent(99.9),
                period,
                labels: own(&instance.labels),
                description: Some("Checkout requests that succeed.".into()),
                alert_name: "CheckoutBudgetBurn".into(),
                annotations: instance.annotations.clone(),
                alert_extras: Default::default(),
            }),
            group: own(&instance.group),
        }),
        kind,
        status,
        fired_at: at - 600_000,
        at,
        eval: Evaluation {
            at,
            objective: OBJECTIVE,
            windows,
            period: PeriodFigures {
                window: window(period, 1.0 - remaining),
                sli: Some(1.0 - (1.0 - remaining) * (1.0 - OBJECTIVE)),
                budget_remaining: Some(remaining),
                exhaustion_at_1h_burn: Some(period.mul_f64(remaining / 16.0)),
                exhaustion_at_6h_burn: Some(period.mul_f64(remaining / 5.0)),
                covered: period,
                excluded: Duration::ZERO,
            },
            data_state: DataState::Ok,
        },
        policy: Arc::new(AlertPolicy::sre_workbook(period)),
    }
}

/// A running dispatcher, its notification channel and its registry.
pub struct Harness {
    pub tx: UnboundedSender<Notification>,
    pub registry: Registry,
    pub shutdown: CancellationToken,
    pub handle: Option<JoinHandle<()>>,
}

impl Harness {
    /// One receiver, every notification routed to it.
    pub fn alone(receiver: Receiver) -> Harness {
        let name = receiver.name.clone();
        Harness::start(vec![receiver], vec![route(&[], &[], &[&name])])
    }

    pub fn start(receivers: Vec<Receiver>, routes: Vec<Route>) -> Harness {
        Harness::start_with(receivers, routes, None)
    }

    /// Like [`Harness::start`], keeping the notifier's state in `dir` (a restart is a new
    /// harness on the same directory).
    pub fn start_in(receivers: Vec<Receiver>, routes: Vec<Route>, dir: &Path) -> Harness {
        Harness::start_with(receivers, routes, Some(dir))
    }

    fn start_with(receivers: Vec<Receiver>, routes: Vec<Route>, dir: Option<&Path>) -> Harness {
        Harness::start_recording(receivers, routes, dir, None)
    }

    /// Like [`Harness::start_in`], counting firing notifications sent in `record`.
    pub fn start_recording(
        receivers: Vec<Receiver>,
        routes: Vec<Route>,
        dir: Option<&Path>,
        record: Option<burnwatch_record::SharedRecord>,
    ) -> Harness {
        let mut registry = Registry::default();
        let mut dispatcher =
            Dispatcher::new(&config(receivers, routes), &mut registry).expect("dispatcher");
        if let Some(record) = record {
            dispatcher = dispatcher.with_record(record);
        }
        if let Some(dir) = dir {
            dispatcher = dispatcher.with_state_dir(dir);
        }
        let (tx, rx) = unbounded_channel();
        let shutdown = CancellationToken::new();
        let handle = dispatcher.spawn(rx, shutdown.clone());
        Harness {
            tx,
            registry,
            shutdown,
            handle: Some(handle),
        }
    }

    pub fn send(&self, n: Notification) {
        self.tx.send(n).expect("dispatcher running");
    }

    /// The registry as /metrics would serve it.
    pub fn metrics(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).unwrap();
        text
    }

    /// The value of a sample: `name` with every label of `labels`, 0 when absent.
    pub fn sample(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        sample(&self.metrics(), name, labels)
    }

    /// `burnwatch_notification_retries_total` of `receiver`.
    pub fn retries(&self, receiver: &str) -> f64 {
        self.sample(
            "burnwatch_notification_retries_total",
            &[("receiver", receiver)],
        )
    }

    pub fn count(&self, receiver: &str, outcome: &str) -> f64 {
        self.sample(
            "burnwatch_notifications_total",
            &[("receiver", receiver), ("outcome", outcome)],
        )
    }

    /// Wait (real time, at most 20 s) until `receiver` counted `at_least` of `outcome`.
    pub async fn wait_for(&self, receiver: &str, outcome: &str, at_least: f64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.count(receiver, outcome) < at_least {
            assert!(
                std::time::Instant::now() < deadline,
                "{receiver} never counted {at_least} {outcome}:\n{}",
                self.metrics()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Wait (real time, at most 20 s) until `receiver` retried at least `at_least` times.
    pub async fn wait_for_retries(&self, receiver: &str, at_least: f64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.retries(receiver) < at_least {
            assert!(
                std::time::Instant::now() < deadline,
                "{receiver} never retried {at_least} times:\n{}",
                self.metrics()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Cancel and wait for the dispatcher to finish.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.expect("dispatcher task");
        }
    }
}

pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .next()
        .unwrap_or(0.0)
}

/// Everything logged on this thread while the guard lives (tests run on a current-thread
/// runtime, so the dispatcher's tasks log here too).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Responds with the `script` templates in order, then with `template` to every later request,
/// and records when each request arrived (before any delay of its answer).
#[derive(Clone)]
pub struct Stamped {
    pub script: Vec<wiremock::ResponseTemplate>,
    pub template: wiremock::ResponseTemplate,
    pub arrivals: Arc<Mutex<Vec<std::time::Instant>>>,
}

impl Stamped {
    pub fn new(template: wiremock::ResponseTemplate) -> Stamped {
        Stamped::scripted(Vec::new(), template)
    }

    /// `script` first, one answer per request, then `then` for good.
    pub fn scripted(
        script: Vec<wiremock::ResponseTemplate>,
        then: wiremock::ResponseTemplate,
    ) -> Stamped {
        Stamped {
            script,
            template: then,
            arrivals: Arc::default(),
        }
    }

    /// Answer every POST to `server` this way.
    pub async fn mount(&self, server: &wiremock::MockServer) {
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .respond_with(self.clone())
            .mount(server)
            .await;
    }

    /// Time between consecutive requests.
    pub fn gaps(&self) -> Vec<Duration> {
        self.arrivals().windows(2).map(|w| w[1] - w[0]).collect()
    }

    pub fn arrivals(&self) -> Vec<std::time::Instant> {
        self.arrivals.lock().unwrap().clone()
    }
}

impl wiremock::Respond for Stamped {
    fn respond(&self, _: &wiremock::Request) -> wiremock::ResponseTemplate {
        let mut arrivals = self.arrivals.lock().unwrap();
        arrivals.push(std::time::Instant::now());
        self.script
            .get(arrivals.len() - 1)
            .unwrap_or(&self.template)
            .clone()
    }
}

/// A receiver timeout far below the default 10 s, so a slow answer costs the test little.
pub const SHORT_TIMEOUT: Duration = Duration::from_millis(200);
/// How long a "slow" answer takes: well past [`SHORT_TIMEOUT`], and longer than any test waits.
pub const SLOW: Duration = Duration::from_secs(5);
/// The shortest first retry wait: 1 s minus at most 25% jitter (delivery.rs).
pub const FIRST_BACKOFF_MIN: Duration = Duration::from_millis(750);

/// A server whose first answer is `ok` delayed by [`SLOW`] and every later one `ok` at once.
pub async fn slow_first(ok: wiremock::ResponseTemplate) -> (wiremock::MockServer, Stamped) {
    let server = wiremock::MockServer::start().await;
    let stamped = Stamped::scripted(vec![ok.clone().set_delay(SLOW)], ok);
    stamped.mount(&server).await;
    (server, stamped)
}

/// What every receiver does when its endpoint answers slower than its `timeout` (see
/// [`slow_first`]): the attempt is abandoned at the timeout, counted as a retry, and the same
/// request is sent again after the first backoff; the fast second answer delivers it. Waits for
/// the delivery; `started` is when the notification was handed over.
pub async fn assert_timeout_retried(
    h: &Harness,
    receiver: &str,
    server: &wiremock::MockServer,
    stamped: &Stamped,
    started: std::time::Instant,
) {
    h.wait_for(receiver, "sent", 1.0).await;
    let took = started.elapsed();
    assert_eq!(
        stamped.arrivals().len(),
        2,
        "one timed-out attempt, one retry"
    );
    assert_eq!(h.retries(receiver), 1.0, "{}", h.metrics());
    assert_eq!(h.count(receiver, "failed"), 0.0);
    // Not waited out: the slow answer alone would have taken SLOW.
    assert!(took < SLOW, "delivered after {took:?}");
    assert!(
        took >= SHORT_TIMEOUT + FIRST_BACKOFF_MIN,
        "timeout, then backoff: {took:?}"
    );
    assert!(
        stamped.gaps()[0] >= FIRST_BACKOFF_MIN,
        "{:?}",
        stamped.gaps()
    );
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent[0].body, sent[1].body, "the same request is retried");
}

/// Bodies of the requests `server` received, as JSON.
pub async fn bodies(server: &wiremock::MockServer) -> Vec<serde_json::Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.body_json().expect("JSON body"))
        .collect()
}
