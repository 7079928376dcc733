//! A ten-minute backend outage against a real Prometheus: five minutes hung (SIGSTOP: requests
//! time out) then five minutes down (stopped: connections refused), then restarted. No false
//! page, no `no_data` (a blind daemon is not an SLO without series), `burnwatch_backend_up` 0
//! and errors of both kinds counted meanwhile; after recovery the long windows equal
//! Prometheus' own evaluation again, including the errors of the outage, which Prometheus never
//! scraped as such (they are only in the counters' jump across its scrape hole).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{Daemon, Exporter, Prometheus, PrometheusOptions, free_port};

const PAGE: [&str; 2] = [
    r#"sloth_id="checkout-availability""#,
    r#"sloth_severity="page""#,
];
const NO_DATA: [&str; 2] = [
    r#"sloth_id="checkout-availability""#,
    r#"alertname="SLONoData""#,
];
/// When the outage starts and how long each half lasts.
const START: f64 = 30.0;
const HALF: f64 = 300.0;

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn an_outage_raises_no_page_and_recovery_restores_the_figures() {
    // 0.5% errors, and 1% during the outage: burn rates of 5 and 10, under every page factor of
    // the policy below. The errors of the outage reach Prometheus only through the counters'
    // increase across its scrape hole, so after recovery the long windows must count them as
    // Prometheus does.
    let t0 = unix_now();
    let end = t0 + START + 2.0 * HALF;
    let exporter = Exporter::start(Scenario::checkout(vec![
        Phase::steady(t0 - 60.0, 100.0, 0.005, 0.0),
        Phase::steady(t0 + START, 100.0, 0.01, 0.0),
        Phase::steady(end, 100.0, 0.005, 0.0),
    ]));
    let mut prometheus = Prometheus::start(PrometheusOptions {
        scrape_targets: vec![exporter.addr().to_string()],
        ..Default::default()
    });
    prometheus.wait_for_scrapes(3, Duration::from_secs(30));
    let config = format!(
        r#"[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{url}"
timeout = "1s"

[defaults]
interval = "1s"

[defaults.alerting]
no_data_for = "5m"

[[defaults.alerting.windows]]
severity = "page"
short = "1m"
long = "5m"
factor = 14.4

[[slo]]
service = "checkout"
name = "availability"
objective = 99.9
[slo.sli.ratio]
errors = 'http_requests_total{{service="checkout",code=~"5.."}}'
total = 'http_requests_total{{service="checkout"}}'
"#,
        port = free_port(),
        url = prometheus.url()
    );
    let daemon = Daemon::start(Path::new(env!("CARGO_BIN_EXE_burnwatch")), &config, &[]);
    daemon.wait_ready(Duration::from_secs(60));
    daemon.wait_sample(
        "burnwatch_backend_up",
        &[r#"backend="main""#],
        Some(1.0),
        Duration::from_secs(20),
    );
    daemon.wait_sample(
        "burnwatch_alert_active",
        &PAGE,
        Some(0.0),
        Duration::from_secs(20),
    );

    let until = |t: f64| std::thread::sleep(Duration::from_secs_f64((t - unix_now()).max(0.0)));
    assert!(
        unix_now() < t0 + START,
        "set-up took too long for the script"
    );
    let quiet_until = |t: f64| {
        while unix_now() < t {
            for (alert, name) in [(&PAGE, "page"), (&NO_DATA, "no_data")] {
                assert_eq!(
                    daemon.sample("burnwatch_alert_active", alert),
                    Some(0.0),
                    "{name} during the outage"
                );
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    };
    let backend_up = |want: f64, within: u64| {
        daemon.wait_sample(
            "burnwatch_backend_up",
            &[r#"backend="main""#],
            Some(want),
            Duration::from_secs(within),
        )
    };

    // Hung: connections are accepted, nothing answers.
    until(t0 + START);
    prometheus.pause();
    backend_up(0.0, 20);
    quiet_until(t0 + START + HALF);
    let timeouts = failures(&daemon, "timeout");
    assert!(timeouts > 0.0, "no timeouts counted while hung");

    // Down: connections are refused.
    prometheus.stop();
    quiet_until(end);
    let refused = failures(&daemon, "unreachable");
    assert!(refused > 0.0, "no refused connections counted while down");
    let failed_ticks = daemon
        .sample("burnwatch_slo_evaluations_total", &[r#"outcome="error""#])
        .unwrap_or(0.0);
    assert!(failed_ticks > 0.0, "no failed evaluations counted");
    eprintln!(
        "outage: {timeouts} timed-out and {refused} refused requests, {failed_ticks} failed ticks"
    );

    // Recovery: the backend answers again, the gap is read, the figures match Prometheus.
    prometheus.restart();
    daemon.wait_sample(
        "burnwatch_backend_up",
        &[r#"backend="main""#],
        Some(1.0),
        Duration::from_secs(30),
    );
    // Prometheus scrapes again; once its own 1h ratio counts the outage's errors, burnwatch's
    // must agree within 1% (it reads the gap on its next tick, at bucket resolution, with the
    // counters' jump across the hole spread over it).
    let promql = r#"sum(rate(http_requests_total{service="checkout",code=~"5.."}[1h])) / sum(rate(http_requests_total{service="checkout"}[1h]))"#;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (mut got, mut want) = (f64::NAN, f64::NAN);
    while std::time::Instant::now() < deadline {
        want = prometheus.query(promql, unix_now())[0].1;
        got = daemon
            .sample(
                "slo:sli_error:ratio_rate1h",
                &[r#"sloth_id="checkout-availability""#],
            )
            .unwrap_or(f64::NAN);
        if want > 0.0055 && (got - want).abs() / want < 0.01 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("1h error ratio after recovery: burnwatch {got}, Prometheus {want}");
    // Ground truth: Prometheus has scraped only since the test began, so its hour is mostly the
    // outage's 1% with a minute or two of 0.5% around it.
    assert!(want > 0.0055 && want < 0.01, "Prometheus {want}");
    assert!(
        (got - want).abs() / want < 0.01,
        "burnwatch {got}, Prometheus {want}"
    );
    assert_eq!(daemon.sample("burnwatch_alert_active", &PAGE), Some(0.0));
}

/// Failed backend requests with `outcome` so far.
fn failures(daemon: &Daemon, outcome: &str) -> f64 {
    let (_, metrics) = daemon.get("/metrics").unwrap();
    let label = format!(r#"outcome="{outcome}""#);
    metrics
        .lines()
        .filter(|l| l.starts_with("burnwatch_backend_requests_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
