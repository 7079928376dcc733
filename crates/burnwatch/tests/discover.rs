//! `[[discover]]` against a real Prometheus scraping a test exporter: services found at start
//! get SLOs; a service that appears gets its SLO within two discovery intervals, backfilled
//! from history written with promtool (its period figure equals the counts written); a service
//! that disappears keeps its SLO for the grace period and is then retired; a denied value gets
//! none; a cap of 3 over 5 values holds exactly 3 SLOs and reports 2 capped (metrics and status
//! page).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_tests::{Daemon, Exporter, Prometheus, PrometheusOptions, free_port, wait_for};

const INTERVAL: Duration = Duration::from_secs(2);
const GRACE: Duration = Duration::from_secs(20);
const SCRAPE: Duration = Duration::from_secs(1);

/// History of `fresh`, every 30 s over two hours that end ten minutes ago (beyond
/// Prometheus' five-minute lookback, so `fresh` is not present until the exporter shows it):
/// 10 requests a step, 3 of them errors in the first 20 steps only.
const STEPS: u64 = 240;
const TOTAL: f64 = 10.0 * STEPS as f64;
const ERRORS: f64 = 3.0 * 20.0;

fn history(end: u64) -> String {
    let start = end - STEPS * 30;
    let mut out = String::from("# TYPE http_requests counter\n");
    for code in ["200", "500"] {
        let (mut ok, mut bad) = (0.0, 0.0);
        for step in 0..=STEPS {
            let value = if code == "200" { ok } else { bad };
            let _ = writeln!(
                out,
                "http_requests_total{{code=\"{code}\",service=\"fresh\"}} {value} {}",
                start + step * 30
            );
            let errors = if step < 20 { 3.0 } else { 0.0 };
            bad += errors;
            ok += 10.0 - errors;
        }
    }
    out.push_str("# EOF\n");
    out
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn config(port: u16, prometheus: &str) -> String {
    format!(
        r#"[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{prometheus}"

[defaults]
interval = "1s"

[[discover]]
name = "http"
selector = 'http_requests_total'
label = "service"
deny = "^ignored$"
interval = "2s"
grace = "20s"
[discover.slo]
name = "availability"
tier = "essential"
[discover.slo.sli.ratio]
errors = 'http_requests_total{{service="{{{{ .service }}}}",code=~"5.."}}'
total = 'http_requests_total{{service="{{{{ .service }}}}"}}'

[[discover]]
name = "queues"
selector = 'jobs_total'
label = "queue"
cap = 3
interval = "2s"
[discover.slo]
name = "jobs"
objective = 99
[discover.slo.sli.ratio]
errors = 'jobs_total{{queue="{{{{ .queue }}}}",outcome="failed"}}'
total = 'jobs_total{{queue="{{{{ .queue }}}}"}}'
"#
    )
}

#[test]
fn discovered_services_come_backfilled_leave_after_grace_and_the_cap_holds() {
    let started = now();
    let end = (started as u64 / 30) * 30 - 600;
    let services = Arc::new(Mutex::new(BTreeSet::from(["stay", "gone", "ignored"])));
    let shown = Arc::clone(&services);
    let exporter = Exporter::serve(move |t| {
        let mut out = String::new();
        let n = ((t - started) * 5.0).floor().max(0.0);
        for service in shown.lock().unwrap().iter() {
            if *service == "fresh" {
                // The history's last values: no new events, so every figure is the backfill's.
                let _ = writeln!(
                    out,
                    "http_requests_total{{service=\"fresh\",code=\"200\"}} {}",
                    TOTAL - ERRORS
                );
                let _ = writeln!(
                    out,
                    "http_requests_total{{service=\"fresh\",code=\"500\"}} {ERRORS}"
                );
            } else {
                let _ = writeln!(
                    out,
                    "http_requests_total{{service=\"{service}\",code=\"200\"}} {n}"
                );
            }
        }
        for queue in ["q1", "q2", "q3", "q4", "q5"] {
            let _ = writeln!(out, "jobs_total{{queue=\"{queue}\",outcome=\"ok\"}} {n}");
        }
        out
    });
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(history(end)),
        scrape_targets: vec![exporter.addr().to_string()],
        scrape_interval: Some(SCRAPE),
        continue_history: true,
        ..Default::default()
    });
    let daemon = Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config(free_port(), prometheus.url()),
        &[],
    );
    let objective =
        |id: &str| daemon.sample("slo:objective:ratio", &[&format!(r#"sloth_id="{id}""#)]);
    let gauge =
        |name: &str, discover: &str| daemon.sample(name, &[&format!(r#"discover="{discover}""#)]);
    // Found at start (once Prometheus has scraped them); `ignored` is denied.
    wait_for("stay and gone to get SLOs", Duration::from_secs(60), || {
        (objective("stay-availability").is_some() && objective("gone-availability").is_some())
            .then_some(())
    });
    assert_eq!(
        objective("stay-availability"),
        Some(0.999),
        "the tier's objective"
    );
    assert_eq!(objective("ignored-availability"), None, "denied");

    // The cap: 3 of q1..q5, the first three in sorted order; 2 capped, on /metrics and the page.
    daemon.wait_sample(
        "burnwatch_discovery_capped",
        &[r#"discover="queues""#],
        Some(2.0),
        Duration::from_secs(30),
    );
    assert_eq!(gauge("burnwatch_discovered_slos", "queues"), Some(3.0));
    assert_eq!(gauge("burnwatch_discovery_values", "queues"), Some(5.0));
    for (queue, held) in [
        ("q1", true),
        ("q2", true),
        ("q3", true),
        ("q4", false),
        ("q5", false),
    ] {
        daemon.expect_sample(
            "slo:objective:ratio",
            &[&format!(r#"sloth_id="{queue}-jobs""#)],
            held.then_some(0.99),
        );
    }
    let (status, page) = daemon.get("/").expect("status page");
    assert_eq!(status, 200);
    let row = page
        .split("<tr data-discover=\"queues\">")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("no Discovery row for queues:\n{page}"));
    assert!(
        page.contains("<h2 id=\"discovery\">Discovery</h2>"),
        "{page}"
    );
    assert!(
        row.contains(r#"data-label="SLOs active">3<"#) && row.contains(r#"data-label="Capped">2 "#),
        "{row}"
    );

    // `fresh` appears and `gone` disappears.
    let added = || gauge("burnwatch_discovery_added_total", "http").unwrap_or(0.0);
    assert_eq!(added(), 2.0, "{}", daemon.log());
    {
        let mut services = services.lock().unwrap();
        services.insert("fresh");
        services.remove("gone");
    }
    let removed_at = Instant::now();
    wait_for(
        "Prometheus to scrape fresh",
        Duration::from_secs(30),
        || {
            (!prometheus
                .query(
                    r#"group by (service) (http_requests_total{service="fresh"})"#,
                    now(),
                )
                .is_empty())
            .then_some(())
        },
    );
    // Within two discovery intervals of the series being there (with slack for the scrape
    // and a busy machine), the SLO is added ...
    wait_for(
        "fresh to be discovered within two intervals",
        2 * INTERVAL + SCRAPE + Duration::from_secs(3),
        || (added() == 3.0).then_some(()),
    );
    // ... and its figures are the backfilled history's: over the period, 60 errors of 2400
    // requests (no new events since), a burn rate of 0.025 / 0.001 = 25.
    let want = (ERRORS / TOTAL) / 0.001;
    let burn = wait_for(
        "fresh's backfilled figures",
        Duration::from_secs(60),
        || {
            daemon
                .sample(
                    "slo:period_burn_rate:ratio",
                    &[r#"sloth_id="fresh-availability""#],
                )
                .filter(|b| b.is_finite())
        },
    );
    assert!((burn - want).abs() < 1e-9, "burn {burn}, want {want}");
    assert!(
        daemon
            .log()
            .lines()
            .any(|l| l.contains("backfill done") && l.contains("slo=fresh-availability")),
        "{}",
        daemon.log()
    );
    // Prometheus agrees on the counts written.
    let written: f64 = prometheus
        .query(
            r#"sum(http_requests_total{service="fresh",code="500"})"#,
            now(),
        )
        .iter()
        .map(|(_, v)| v)
        .sum();
    assert_eq!(written, ERRORS);

    // `gone` is kept during its grace period ...
    daemon.wait_sample(
        "burnwatch_discovery_in_grace",
        &[r#"discover="http""#],
        Some(1.0),
        Duration::from_secs(30),
    );
    assert_eq!(
        objective("gone-availability"),
        Some(0.999),
        "kept during grace"
    );
    assert_eq!(
        gauge("burnwatch_discovery_retired_total", "http"),
        Some(0.0)
    );
    // ... then retired: its series leave /metrics.
    wait_for(
        "gone to be retired",
        GRACE + 2 * INTERVAL + Duration::from_secs(15),
        || (gauge("burnwatch_discovery_retired_total", "http") == Some(1.0)).then_some(()),
    );
    assert!(
        removed_at.elapsed() >= GRACE,
        "retired before its grace period ended"
    );
    daemon.expect_sample(
        "slo:objective:ratio",
        &[r#"sloth_id="gone-availability""#],
        None,
    );
    assert_eq!(gauge("burnwatch_discovered_slos", "http"), Some(2.0));
    assert_eq!(gauge("burnwatch_discovery_in_grace", "http"), Some(0.0));
    assert_eq!(objective("stay-availability"), Some(0.999), "untouched");
    let logged = |needles: &[&str]| {
        daemon
            .log()
            .lines()
            .any(|l| needles.iter().all(|n| l.contains(n)))
    };
    assert!(
        logged(&["discovered SLO retired", "discover=http", "value=gone"]),
        "{}",
        daemon.log()
    );
    assert!(
        logged(&["discovered value appeared", "value=fresh"]),
        "{}",
        daemon.log()
    );
    assert!(
        logged(&["discovery cap reached", "discover=queues", "dropped=2"]),
        "{}",
        daemon.log()
    );
}
