//! Budget corrections end to end: a real Prometheus holding a day of history written here
//! (promtool), the daemon, and `burnwatch correction add|delete` against its API.
//!
//! `a_correction_over_an_outage_gives_the_budget_back_and_survives_restarts`:
//! - the history: 4 requests a second, one error a minute, and a 20-minute outage (every
//!   request fails) 12 hours before its end; the budget remaining is the figure computed by
//!   hand below, to 1e-9;
//! - without the token file's token the CLI fails (401, exit 1);
//! - a correction over the outage, added with the CLI, brings the budget back to the no-outage
//!   figure after one history re-read (`burnwatch_slo_history_rereads`), and survives a restart;
//! - deleting it (after the restart) restores the spent figure, which survives a restart too.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_tests::{Daemon, Prometheus, PrometheusOptions, free_port};

const BUDGET: &str = "slo:period_error_budget_remaining:ratio";
const REREADS: &str = "burnwatch_slo_history_rereads_total";
const ID: &str = r#"sloth_id="checkout-availability""#;
const H: i64 = 3600;

/// Total 345,600 requests over the day (60 per 15 s sample, 5,760 samples); errors 1 at each
/// of the 1,440 whole minutes, but in the 20-minute outage all 80 samples' 60 requests fail
/// (20 of them whole minutes): 1,420 + 4,800 = 6,220. With a 1% budget:
/// spent: 1 - (6,220 / 345,600) / 0.01.
const SPENT: f64 = 1.0 - (6_220.0 / 345_600.0) / 0.01;
/// The outage excluded: 1,420 errors in 340,800 requests, the same ratio as a day without
/// the outage (1,440 in 345,600): 1 - (1/240) / 0.01 = 0.58333...
const CORRECTED: f64 = 1.0 - (1_420.0 / 340_800.0) / 0.01;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_burnwatch"))
}

/// The history, samples every 15 s over `(end - 1 day, end]` (plus the zero at its start), the
/// outage over `(outage, outage + 20 min]`; times in seconds.
fn history(end: i64, outage: i64) -> String {
    let start = end - 24 * H;
    let times: Vec<i64> = (0..=5_760).map(|k| start + 15 * k).collect();
    let mut successes = Vec::new();
    let mut errors = Vec::new();
    let (mut t_sum, mut e_sum) = (0, 0);
    for (k, &t) in times.iter().enumerate() {
        if k > 0 {
            t_sum += 60;
            e_sum += if t > outage && t <= outage + 20 * 60 {
                60
            } else if t % 60 == 0 {
                1
            } else {
                0
            };
        }
        // `total` selects both codes: the 200 series holds the successes.
        successes.push(t_sum - e_sum);
        errors.push(e_sum);
    }
    assert_eq!((t_sum, e_sum), (345_600, 6_220));
    let mut out = String::from("# TYPE http_requests counter\n");
    for (code, values) in [("200", &successes), ("500", &errors)] {
        for (t, v) in times.iter().zip(values) {
            out.push_str(&format!(
                "http_requests_total{{service=\"checkout\",code=\"{code}\"}} {v} {t}\n"
            ));
        }
    }
    out.push_str("# EOF\n");
    out
}

fn budget(daemon: &Daemon) -> Option<f64> {
    daemon.sample(BUDGET, &[ID])
}

/// Waits until the budget is `want` (to 1e-9), at most `timeout`.
fn wait_budget(daemon: &Daemon, want: f64, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let got = budget(daemon);
        if got.is_some_and(|g| (g - want).abs() < 1e-9) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "budget {got:?}, want {want}; log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn correction(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("correction")
        .args(args)
        .env_remove("BURNWATCH_API_TOKEN")
        .output()
        .unwrap()
}

#[test]
fn a_correction_over_an_outage_gives_the_budget_back_and_survives_restarts() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // Whole hours, ending two hours before this one: promtool's blocks stay clear of the head.
    let end = (now / H) * H - 2 * H;
    let outage = end - 12 * H;
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(history(end, outage)),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("api-token");
    std::fs::write(&token, "corr-test-token\n").unwrap();
    let wrong = dir.path().join("wrong-token");
    std::fs::write(&wrong, "not-it\n").unwrap();
    let data = dir.path().join("data");
    let config = format!(
        r#"[server]
listen = "127.0.0.1:{port}"
api_token_file = "{token}"

[backends.main]
type = "prometheus"
url = "{url}"

[defaults]
interval = "5s"

[[slo]]
service = "checkout"
name = "availability"
objective = 99
[slo.sli.ratio]
errors = 'http_requests_total{{service="checkout",code="500"}}'
total = 'http_requests_total{{service="checkout"}}'
"#,
        port = free_port(),
        token = token.display(),
        url = prometheus.url()
    );
    let start = |data: &Path| {
        let daemon = Daemon::start_in(bin(), &config, &[], data);
        daemon.wait_ready(Duration::from_secs(30));
        daemon
    };
    let mut daemon = start(&data);
    wait_budget(&daemon, SPENT, Duration::from_secs(10));

    let url = daemon.url().to_string();
    let rfc = |s: i64| {
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(s as u64)).to_string()
    };
    let (from, to) = (rfc(outage), rfc(outage + 20 * 60));
    let add = |token_file: &Path| {
        correction(&[
            "add",
            "--url",
            &url,
            "--token-file",
            token_file.to_str().unwrap(),
            "--slo",
            "checkout-*",
            "--start",
            &from,
            "--end",
            &to,
            "--reason",
            "payments-db failover",
            "--category",
            "dependency",
        ])
    };
    let refused = add(&wrong);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("refused the token (401)"), "{stderr}");

    let added = add(&token);
    let stdout = String::from_utf8_lossy(&added.stdout).to_string();
    assert!(
        added.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let id = stdout
        .strip_prefix("added correction ")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_string();
    daemon.wait_sample(REREADS, &[ID], Some(1.0), Duration::from_secs(20));
    wait_budget(&daemon, CORRECTED, Duration::from_secs(10));

    // Restarted: the correction is loaded before the first backfill.
    daemon.stop(Duration::from_secs(5));
    let mut daemon = start(&data);
    wait_budget(&daemon, CORRECTED, Duration::from_secs(10));
    let url = daemon.url().to_string();
    let listed = correction(&[
        "list",
        "--url",
        &url,
        "--token-file",
        token.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["corrections"][0]["id"], id.as_str());

    let deleted = correction(&[
        "delete",
        "--url",
        &url,
        "--token-file",
        token.to_str().unwrap(),
        &id,
    ]);
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    daemon.wait_sample(REREADS, &[ID], Some(1.0), Duration::from_secs(20));
    wait_budget(&daemon, SPENT, Duration::from_secs(10));

    daemon.stop(Duration::from_secs(5));
    let daemon = start(&data);
    wait_budget(&daemon, SPENT, Duration::from_secs(10));
}
