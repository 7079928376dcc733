//! State that survives restarts: a daemon stopped with SIGTERM leaves a snapshot; the next one
//! resumes from it (no backfill, far fewer backend requests) with the same figures; a kill -9
//! leaves the last snapshot loadable; a corrupt snapshot is set aside and the daemon backfills.
//! All against a real Prometheus holding two days of history.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario, render_openmetrics_history};
use burnwatch_tests::{Daemon, Prometheus, PrometheusOptions, free_port};

const H: f64 = 3600.0;
const D: f64 = 86_400.0;
const RATIO_1D: &str = "slo:sli_error:ratio_rate1d";
const ID: &str = r#"sloth_id="checkout-availability""#;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_burnwatch"))
}

/// Sum of every sample of `metric` (all label sets).
fn total(daemon: &Daemon, metric: &str) -> f64 {
    let (_, body) = daemon.get("/metrics").expect("metrics");
    body.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |a, b| a + b)
}

/// The log once it contains `needle` (lines may follow readiness by a moment).
fn log_with(daemon: &Daemon, needle: &str) -> String {
    for _ in 0..50 {
        let log = daemon.log();
        if log.contains(needle) {
            return log;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{needle:?} not in the log:\n{}", daemon.log());
}

/// `backend_requests_since_start` of the "every SLO is ready" line.
fn logged_requests(log: &str) -> u64 {
    log.lines()
        .find(|l| l.contains("every SLO is ready"))
        .and_then(|l| l.split("backend_requests_since_start=").nth(1))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no request count in the log:\n{log}"))
}

fn started(config: &str, data: &Path) -> Daemon {
    started_with(config, data, &[])
}

fn started_with(config: &str, data: &Path, env: &[(&str, &str)]) -> Daemon {
    let daemon = Daemon::start_in(bin(), config, env, data);
    daemon.wait_ready(Duration::from_secs(60));
    daemon
}

#[test]
fn state_survives_restarts_and_bad_snapshots_are_set_aside() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let s = (now / H).floor() * H - 2.0 * D;
    // An hour-long outage 18 hours before the end: inside the 1d window, far from its edges.
    let scenario = Scenario::checkout(vec![
        Phase::steady(s, 20.0, 0.001, 0.0),
        Phase::steady(s + 1.25 * D, 20.0, 0.05, 0.0),
        Phase::steady(s + 1.25 * D + H, 20.0, 0.001, 0.0),
    ]);
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(render_openmetrics_history(
            &scenario,
            s,
            s + 2.0 * D - 2.0 * H,
            30.0,
        )),
        ..Default::default()
    });
    let config = format!(
        r#"[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{url}"

[defaults]
# Long: the request counts below must be the start-up work alone, not later ticks.
interval = "5m"

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
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // Cold start: a full backfill.
    let mut cold = started(&config, &data);
    let cold_requests = total(&cold, "burnwatch_backend_requests_total");
    let cold_ratio = cold
        .sample(RATIO_1D, &[ID])
        .expect("1d ratio after backfill");
    let promql = r#"sum(rate(http_requests_total{service="checkout",code=~"5.."}[1d])) / sum(rate(http_requests_total{service="checkout"}[1d]))"#;
    let want = prometheus.query(promql, now)[0].1;
    assert!(
        (cold_ratio - want).abs() / want < 0.01,
        "cold start: burnwatch {cold_ratio}, Prometheus {want}"
    );
    log_with(&cold, "backfill done");
    let cold_log = log_with(&cold, "every SLO is ready");
    assert!(
        cold_log.contains("restored=0 backfilled=1"),
        "cold start log:\n{cold_log}"
    );
    cold.stop(Duration::from_secs(5));
    assert!(data.join("state.db").exists(), "no snapshot after SIGTERM");

    // Warm start: resumes from the snapshot, no backfill, same figures, far less backend work.
    let mut warm = started(&config, &data);
    let warm_requests = total(&warm, "burnwatch_backend_requests_total");
    let log = log_with(&warm, "restored from the state snapshot");
    assert!(
        !log.contains("backfill done"),
        "restarted with a backfill:\n{log}"
    );
    eprintln!("backend requests until ready: cold start {cold_requests}, restart {warm_requests}");
    let ready = log_with(&warm, "every SLO is ready");
    assert!(
        ready.contains("restored=1 backfilled=0"),
        "restart log:\n{ready}"
    );
    // The log's counts are the requests until the moment every SLO was ready.
    let (logged_cold, logged_warm) = (logged_requests(&cold_log), logged_requests(&ready));
    eprintln!("logged at readiness: cold start {logged_cold}, restart {logged_warm}");
    assert!(
        logged_warm * 2 < logged_cold && logged_warm as f64 <= warm_requests,
        "logged: restart {logged_warm}, cold start {logged_cold}"
    );
    assert!(
        warm_requests * 2.0 < cold_requests,
        "restart sent {warm_requests} requests, a cold start {cold_requests}"
    );
    let warm_ratio = warm
        .sample(RATIO_1D, &[ID])
        .expect("1d ratio after restore");
    assert!(
        (warm_ratio - cold_ratio).abs() / cold_ratio < 0.001,
        "restored 1d ratio {warm_ratio}, before the restart {cold_ratio}"
    );

    // kill -9: the last snapshot still loads. With --snapshot-interval 1s the database is
    // written while the daemon runs, not only at shutdown (into its write-ahead log first).
    warm.kill9();
    let mut again = started_with(&config, &data, &[("BURNWATCH_SNAPSHOT_INTERVAL", "1s")]);
    let modified = || {
        ["state.db", "state.db-wal"].map(|name| {
            std::fs::metadata(data.join(name))
                .and_then(|m| m.modified())
                .ok()
        })
    };
    let first = modified();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while modified() == first {
        assert!(
            std::time::Instant::now() < deadline,
            "state.db not written within 10 s at --snapshot-interval 1s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    log_with(&again, "restored from the state snapshot");
    again.kill9();

    // A corrupt snapshot: set aside, a warning, a full backfill, and the same figures.
    std::fs::write(data.join("state.db"), vec![0x5a_u8; 8192]).unwrap();
    let recovered = started(&config, &data);
    log_with(&recovered, "starting without it");
    log_with(&recovered, "backfill done");
    let aside = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("state.db.bad-"));
    assert!(aside, "the corrupt snapshot was not kept aside");
    let ratio = recovered
        .sample(RATIO_1D, &[ID])
        .expect("1d ratio after recovery");
    assert!(
        (ratio - want).abs() / want < 0.01,
        "recovered {ratio}, Prometheus {want}"
    );
}
