//! The burnwatch binary end to end: `validate` exit codes and messages, and `run` against a real
//! Prometheus scraping the simulator: readiness, Sloth series on /metrics, the three data states,
//! and a graceful SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use burnwatch_simulator::{Phase, Route, Scenario};
use burnwatch_tests::{Daemon, Exporter, Prometheus, PrometheusOptions, free_port};

fn burnwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_burnwatch"))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_example_and_demo_configs_validate() {
    for file in [
        "config/example.toml",
        "config/demo.toml",
        "config/alerting.toml",
        "config/tiers.toml",
        "config/program.toml",
    ] {
        let output = burnwatch()
            .env("PD_ROUTING_KEY", "0123456789abcdef0123456789abcdef")
            .env(
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/secret",
            )
            .args(["validate", "--config"])
            .arg(repo_root().join(file))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("is valid"), "{file}: {stdout}");
    }
}

#[test]
fn validate_reports_every_problem_with_its_location_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"

[[slo]]
service = "checkout"
name = "availability"
objective = 150
[slo.sli.ratio]
errors = 'http_requests_total{code=~"5.."}'
total = 'http_requests_total'

[[slo]]
service = "checkout"
name = "latency"
objectiv = 99.0
[slo.sli.latency]
histogram = 'http_request_duration_seconds'
le = "0.3"
"#,
    )
    .unwrap();
    let output = burnwatch()
        .args(["validate", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Both problems, each with file:line:col, in one run.
    assert!(
        stderr.contains("bad.toml:8:"),
        "objective on line 8 not reported:\n{stderr}"
    );
    assert!(
        stderr.contains("bad.toml:16:"),
        "unknown key on line 16 not reported:\n{stderr}"
    );
    assert!(stderr.contains("objective"), "{stderr}");
}

#[test]
fn validate_of_a_missing_file_says_which_file() {
    let output = burnwatch()
        .args(["validate", "--config", "/nonexistent/burnwatch.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/burnwatch.toml"));
}

#[test]
fn run_exports_sloth_series_from_a_real_prometheus_and_stops_on_sigterm() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    // /idle exists but never sees a request: series without traffic.
    let scenario = Scenario {
        routes: vec![
            Route {
                name: "/pay".into(),
                share: 1.0,
                error_factor: 1.0,
            },
            Route {
                name: "/idle".into(),
                share: 0.0,
                error_factor: 1.0,
            },
        ],
        phases: vec![Phase::steady(now - 60.0, 100.0, 0.02, 0.1)],
    };
    let exporter = Exporter::start(scenario);
    let prometheus = Prometheus::start(PrometheusOptions {
        scrape_targets: vec![exporter.addr().to_string()],
        ..Default::default()
    });
    prometheus.wait_for_scrapes(3, Duration::from_secs(30));

    let port = free_port();
    let config = format!(
        r#"[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{url}"

[defaults]
interval = "1s"

[[slo]]
service = "checkout"
name = "availability"
objective = 99.9
labels = {{ team = "payments" }}
[slo.sli.ratio]
errors = 'http_requests_total{{route="/pay",code=~"5.."}}'
total = 'http_requests_total{{route="/pay"}}'

[[slo]]
service = "checkout"
name = "idle"
objective = 99.9
[slo.sli.ratio]
errors = 'http_requests_total{{route="/idle",code=~"5.."}}'
total = 'http_requests_total{{route="/idle"}}'

[[slo]]
service = "checkout"
name = "missing"
objective = 99.9
[slo.sli.ratio]
errors = 'no_such_metric_total{{code=~"5.."}}'
total = 'no_such_metric_total'
"#,
        url = prometheus.url()
    );
    let daemon = Daemon::start(Path::new(env!("CARGO_BIN_EXE_burnwatch")), &config, &[]);
    daemon.wait_ready(Duration::from_secs(60));
    assert_eq!(daemon.get("/healthz").map(|(s, _)| s), Some(200));

    // Let a few ticks of live samples arrive, then read the 5m error ratio: the scenario sends
    // 2% errors on /pay, so it must be 0.02 (burn rate 20 at 99.9%).
    let deadline = Instant::now() + Duration::from_secs(30);
    let ratio = loop {
        let ratio = daemon.sample(
            "slo:sli_error:ratio_rate5m",
            &[r#"sloth_id="checkout-availability""#],
        );
        if ratio.is_some() || Instant::now() > deadline {
            break ratio;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let ratio = ratio.expect("no slo:sli_error:ratio_rate5m for checkout-availability");
    assert!(
        (ratio - 0.02).abs() < 0.0005,
        "5m error ratio {ratio}, expected 0.02"
    );
    let labels = [
        r#"sloth_id="checkout-availability""#,
        r#"sloth_service="checkout""#,
        r#"sloth_slo="availability""#,
        r#"team="payments""#,
        r#"sloth_window="5m""#,
    ];
    assert!(
        daemon
            .sample("slo:sli_error:ratio_rate5m", &labels)
            .is_some(),
        "Sloth labels missing"
    );
    let burn = daemon
        .sample(
            "burnwatch_slo_burn_rate",
            &[
                r#"sloth_id="checkout-availability""#,
                r#"sloth_window="5m""#,
            ],
        )
        .unwrap();
    assert!((burn - 20.0).abs() < 0.5, "burn rate {burn}");
    assert_eq!(
        daemon.sample(
            "slo:objective:ratio",
            &[r#"sloth_id="checkout-availability""#]
        ),
        Some(0.999)
    );
    assert_eq!(
        daemon.sample(
            "slo:time_period:days",
            &[r#"sloth_id="checkout-availability""#]
        ),
        Some(30.0)
    );

    // Zero traffic: no ratio sample at all (not 0, not NaN), and the state says why.
    daemon.expect_sample(
        "slo:sli_error:ratio_rate5m",
        &[r#"sloth_id="checkout-idle""#],
        None,
    );
    daemon.expect_sample(
        "burnwatch_slo_data_state",
        &[r#"sloth_id="checkout-idle""#, r#"state="no_traffic""#],
        Some(1.0),
    );
    // No series: a third state, distinct from zero traffic.
    daemon.expect_sample(
        "burnwatch_slo_data_state",
        &[r#"sloth_id="checkout-missing""#, r#"state="no_data""#],
        Some(1.0),
    );
    daemon.expect_sample(
        "burnwatch_slo_data_state",
        &[r#"sloth_id="checkout-availability""#, r#"state="ok""#],
        Some(1.0),
    );
    assert!(
        daemon
            .sample(
                "burnwatch_backend_requests_total",
                &[r#"backend="main""#, r#"outcome="success""#]
            )
            .unwrap()
            > 0.0
    );
    assert_eq!(daemon.sample("burnwatch_build_info", &[]), Some(1.0));

    let mut daemon = daemon;
    let started = Instant::now();
    daemon.sigterm();
    let deadline = started + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = daemon.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "burnwatch did not exit within 5 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn run_refuses_a_snapshot_interval_outside_its_range_before_starting() {
    for (value, why) in [
        ("0s", "outside 1s to 1h"),
        ("2h", "outside 1s to 1h"),
        ("soon", "e.g. \"1m\""),
    ] {
        let output = burnwatch()
            .args([
                "run",
                "--config",
                "config/example.toml",
                "--snapshot-interval",
                value,
            ])
            .current_dir(repo_root())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{value}: {stderr}");
        assert!(stderr.contains("--snapshot-interval"), "{value}: {stderr}");
        assert!(stderr.contains(why), "{value}: {stderr}");
    }
}

/// With the backend down from the start, `/` and `/api/v1/slos` still list every configured SLO,
/// saying the backend fails and why, instead of "0 instances".
#[test]
fn configured_slos_are_listed_while_the_backend_is_down() {
    // A port nothing listens on: the backend refuses every connection.
    let backend = format!("http://127.0.0.1:{}", free_port());
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{backend}"
timeout = "1s"

[[slo]]
service = "checkout"
name = "availability"
objective = 99.9
[slo.sli.ratio]
errors = 'http_requests_total{{code=~"5.."}}'
total = 'http_requests_total'

[[slo]]
service = "search"
name = "availability"
objective = 99.5
[slo.sli.ratio]
errors = 'search_requests_total{{code=~"5.."}}'
total = 'search_requests_total'
"#,
        port = free_port(),
    );
    let daemon = Daemon::start(Path::new(env!("CARGO_BIN_EXE_burnwatch")), &config, &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let slos = loop {
        if let Some((200, body)) = daemon.get("/api/v1/slos") {
            let value: serde_json::Value = serde_json::from_str(&body).unwrap();
            let slos = value["slos"].as_array().cloned().unwrap_or_default();
            if slos.len() == 2 && slos.iter().all(|s| s["status"] == "unreachable") {
                break slos;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the SLOs are not listed as unreachable within 30 s; log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let ids: Vec<&str> = slos.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["checkout-availability", "search-availability"]);
    for slo in &slos {
        let error = slo["backend_error"].as_str().unwrap_or_default();
        assert!(!error.is_empty() && !error.contains(&backend), "{slo}");
    }
    let (status, html) = daemon.get("/").unwrap();
    assert_eq!(status, 200);
    assert_eq!(html.matches("<tr data-id=").count(), 2, "{html}");
    assert!(html.contains("backend: "), "{html}");
    let (status, _) = daemon.get("/readyz").unwrap();
    assert_eq!(status, 503, "not ready while nothing could be read");
}
