//! The demo's story, run for real: `config/demo.toml` (its addresses swapped for free loopback
//! ports) against `Scenario::demo` served live with six days of its history backfilled into a
//! real Prometheus, and a real Alertmanager, as `scripts/demo` runs them. In real time: about
//! ten minutes.
//!
//! Expected by hand, for checkout-availability (99.9%, 30-day policy: page 5m and 1h over 14.4,
//! ticket 6h and 3d over 1; 50 requests/s is 3000 a minute):
//! - before the outage: 0.3x everywhere but the 3-day window, which holds yesterday's bad day:
//!   24 h at 1.6x and 48 h at 0.3x, (24 x 1.6 + 48 x 0.3) / 72 = 0.733x;
//! - the outage (60% errors) adds 1800 errors a minute against 0.9 at 0.3x. The 1-hour window
//!   passes 14.4x when its errors pass 0.0144 x 180000 = 2592: 54 + 1799.1 t > 2592, t = 1.41
//!   minutes (85 s) in: the page. The 3-day window passes 1x when its errors pass its budget,
//!   (1 - 0.733) x 12960 = 3456 more: t = 3456 / 1799.1 = 1.92 minutes (115 s) in, while the
//!   page fires: the ticket is held back;
//! - after 2.5 minutes the slow burn (0.4%, 12 errors a minute) follows. The 5-minute window
//!   falls under 14.4x when it holds k minutes of outage with 1800 k + 12 (5 - k) < 216:
//!   k < 0.087, 4.91 minutes after the outage (150 + 295 = 445 s): the page resolves, and the
//!   ticket (3d at 0.733 + 4498 / 12960 = 1.08x, 6h far over 1x) goes out.
//!
//! Each moment may come late by a scrape (5 s), a tick's span over which its events are spread
//! (10 s) and a tick (10 s), plus a margin for a loaded machine (20 s): up to 45 s. The resolve
//! up to 30 s more: a window's oldest minute is read as if its events were spread evenly over
//! it (the engine's minute buckets), so the outage's last seconds, counted in the minute it
//! ended in, leave the 5-minute window with that minute. With e seconds of outage in it (30
//! errors a second) and x seconds of it left behind, they are gone once
//! (1 - x/60)(29.8 e + 12) < 156; x - (e - 5) is largest, 30 s, at e = 17 s.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Scenario, render_openmetrics_history};
use burnwatch_tests::{Alertmanager, Daemon, Exporter, Prometheus, PrometheusOptions, free_port};
use serde_json::Value;

const SLO: &str = "checkout-availability";

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn unix(v: &Value) -> f64 {
    humantime::parse_rfc3339_weak(v.as_str().unwrap_or_else(|| panic!("a time: {v}")))
        .expect("RFC 3339")
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The severities (`page`, `ticket`) Alertmanager holds for the SLO, with their `startsAt`.
fn in_alertmanager(alertmanager: &Alertmanager) -> Vec<(String, f64)> {
    alertmanager
        .alerts()
        .iter()
        .filter(|a| a["labels"]["sloth_id"] == SLO)
        .map(|a| {
            let severity = a["labels"]["sloth_severity"].as_str().unwrap_or("?");
            (severity.to_string(), unix(&a["startsAt"]))
        })
        .collect()
}

/// The SLO's entry in `/api/v1/slos`.
fn slo(daemon: &Daemon) -> Value {
    let (status, body) = daemon.get("/api/v1/slos").expect("GET /api/v1/slos");
    assert_eq!(status, 200, "{body}");
    let all: Value = serde_json::from_str(&body).expect("JSON");
    all["slos"]
        .as_array()
        .expect("slos")
        .iter()
        .find(|s| s["id"] == SLO)
        .cloned()
        .unwrap_or_else(|| panic!("{SLO} missing: {body}"))
}

/// `at` is `expected` seconds after the outage began (by hand), or up to `late` s later (above).
fn assert_at(what: &str, at: f64, outage: f64, expected: f64, late: f64) {
    let offset = at - outage;
    eprintln!("{what} {offset:.1} s after the outage began (by hand {expected} s)");
    assert!(
        (expected - 5.0..=expected + late).contains(&offset),
        "{what} {offset:.1} s after the outage began, expected {expected} s to {late} s later"
    );
}

#[test]
fn the_demo_pages_resolves_and_then_opens_a_ticket_through_alertmanager() {
    let live = unix_now();
    let origin = live - 6.0 * 86_400.0;
    let outage = live + Scenario::DEMO_OUTAGE_OFFSET_SECONDS;
    let scenario = Scenario::demo(origin, live);
    let history = render_openmetrics_history(&scenario, origin, live - 1.0, 30.0);
    let exporter = Exporter::start(scenario);
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(history),
        scrape_targets: vec![exporter.addr().to_string()],
        scrape_interval: Some(Duration::from_secs(5)),
        continue_history: true,
        ..Default::default()
    });
    let alertmanager = Alertmanager::start(
        "route:\n  receiver: demo\n  group_wait: 1s\nreceivers:\n  - name: demo\n",
    );
    let config = std::fs::read_to_string(repo_file("config/demo.toml"))
        .expect("config/demo.toml")
        .replace(
            "listen = \"127.0.0.1:9464\"",
            &format!("listen = \"127.0.0.1:{}\"", free_port()),
        )
        .replace("http://127.0.0.1:9090", prometheus.url())
        .replace("http://127.0.0.1:9093", alertmanager.url());
    let daemon = Daemon::start(Path::new(env!("CARGO_BIN_EXE_burnwatch")), &config, &[]);
    daemon.wait_ready(Duration::from_secs(120));
    assert!(
        unix_now() < outage,
        "setup took until after the outage began"
    );

    let before = slo(&daemon);
    let burn = |s: &Value, w: &str| s["burn_rate"][w].as_f64().unwrap_or(f64::NAN);
    assert!((burn(&before, "3d") - 0.733).abs() < 0.01, "{before}");
    assert!((burn(&before, "1h") - 0.3).abs() < 0.01, "{before}");
    assert!(in_alertmanager(&alertmanager).is_empty());

    // Watch Alertmanager every second until the ticket arrives (or 12 minutes pass).
    let deadline = Instant::now() + Duration::from_secs(720);
    let mut page_seen: Option<f64> = None;
    let mut page_gone_at: Option<f64> = None;
    let mut ticket_seen: Option<f64> = None;
    while ticket_seen.is_none() {
        assert!(
            Instant::now() < deadline,
            "no ticket in Alertmanager; page seen {page_seen:?}, gone {page_gone_at:?}; \
             burnwatch: {}\nlog:\n{}",
            slo(&daemon),
            daemon.log()
        );
        let held = in_alertmanager(&alertmanager);
        let page = held.iter().find(|(s, _)| s == "page");
        match (page, page_seen) {
            (Some((_, starts)), None) => page_seen = Some(*starts),
            (None, Some(_)) if page_gone_at.is_none() => page_gone_at = Some(unix_now()),
            _ => {}
        }
        if let Some((_, starts)) = held.iter().find(|(s, _)| s == "ticket") {
            ticket_seen = Some(*starts);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let page_started = page_seen.expect("the page reached Alertmanager before the ticket");
    assert_at("the page started", page_started, outage, 84.6, 45.0);

    // The ticket is held back while the page fires: it reaches Alertmanager once the page has
    // resolved, with the moment its condition began as its start.
    let after = slo(&daemon);
    assert_eq!(after["alerts"]["page"]["state"], "inactive", "{after}");
    let resolved = unix(&after["alerts"]["page"]["since"]);
    assert_at("the page resolved", resolved, outage, 444.8, 75.0);
    let ticket_started = ticket_seen.unwrap();
    assert_at(
        "the ticket's condition began",
        ticket_started,
        outage,
        115.3,
        45.0,
    );
    assert_eq!(after["alerts"]["ticket"]["state"], "firing", "{after}");
    assert!((burn(&after, "3d") - 1.08).abs() < 0.02, "{after}");

    // The page's resolve reached Alertmanager: the alert left it (Alertmanager lists no
    // resolved alerts), not before burnwatch resolved it.
    let gone = page_gone_at.unwrap_or_else(|| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if !in_alertmanager(&alertmanager)
                .iter()
                .any(|(s, _)| s == "page")
            {
                return unix_now();
            }
            assert!(Instant::now() < deadline, "the page stayed in Alertmanager");
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    assert!(gone >= resolved - 1.0, "gone {gone}, resolved {resolved}");
}
