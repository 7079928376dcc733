//! A backend outage against a real Prometheus that the test stops and restarts: no false page,
//! `burnwatch_backend_up` 0 and counted errors while it is down, and after recovery the long
//! windows equal Prometheus' own evaluation again.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{Daemon, Exporter, Prometheus, PrometheusOptions, free_port};

const PAGE: [&str; 2] = [
    r#"sloth_id="checkout-availability""#,
    r#"sloth_severity="page""#,
];

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn an_outage_raises_no_page_and_recovery_restores_the_figures() {
    // 0.5% errors, and 1% while Prometheus is down (t0+30 to t0+70): burn rates of 5 and 10,
    // under every page factor of the policy below. The errors of the outage reach Prometheus
    // only through the counters' increase across its scrape gap, so after recovery the long
    // windows must count them as Prometheus does.
    let t0 = unix_now();
    let exporter = Exporter::start(Scenario::checkout(vec![
        Phase::steady(t0 - 60.0, 100.0, 0.005, 0.0),
        Phase::steady(t0 + 30.0, 100.0, 0.01, 0.0),
        Phase::steady(t0 + 70.0, 100.0, 0.005, 0.0),
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
no_data_for = "15m"

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

    // The outage: 40 seconds without a backend.
    let until = |t: f64| std::thread::sleep(Duration::from_secs_f64((t - unix_now()).max(0.0)));
    assert!(
        unix_now() < t0 + 30.0,
        "set-up took too long for the script"
    );
    until(t0 + 30.0);
    prometheus.stop();
    daemon.wait_sample(
        "burnwatch_backend_up",
        &[r#"backend="main""#],
        Some(0.0),
        Duration::from_secs(20),
    );
    while unix_now() < t0 + 70.0 {
        assert_eq!(
            daemon.sample("burnwatch_alert_active", &PAGE),
            Some(0.0),
            "a page during the outage"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, metrics) = daemon.get("/metrics").unwrap();
    let failures: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("burnwatch_backend_requests_total{"))
        .filter(|l| !l.contains(r#"outcome="success""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(failures > 0.0, "no failed requests counted:\n{metrics}");
    let failed_ticks = daemon
        .sample("burnwatch_slo_evaluations_total", &[r#"outcome="error""#])
        .unwrap_or(0.0);
    assert!(failed_ticks > 0.0, "no failed evaluations counted");

    // Recovery: the backend answers again, the gap is read, the figures match Prometheus.
    prometheus.restart();
    daemon.wait_sample(
        "burnwatch_backend_up",
        &[r#"backend="main""#],
        Some(1.0),
        Duration::from_secs(30),
    );
    // Prometheus scrapes again; once its own 1h ratio counts the outage's errors, burnwatch's
    // must agree within 1% (it reads the gap on its next tick).
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
    // Ground truth: above 0.5% because of the outage's 1%, below 1%.
    assert!(want > 0.0055 && want < 0.01, "Prometheus {want}");
    assert!(
        (got - want).abs() / want < 0.01,
        "burnwatch {got}, Prometheus {want}"
    );
    assert_eq!(daemon.sample("burnwatch_alert_active", &PAGE), Some(0.0));
}
