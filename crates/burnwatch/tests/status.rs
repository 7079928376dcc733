//! The status API, release gate and status page end to end: a simulated service scraped by a
//! real Prometheus, the burnwatch daemon ticking every second, `burnwatch gate` as a CI job runs
//! it, and a headless Chromium rendering the pages.
//!
//! One stream of traffic (0.4% errors, 0.45% / 0.2% slow on /pay and /cart) is judged by SLOs
//! that differ only in objective and alert policy, so each lands in a known status:
//! `checkout-availability` (99.9%: burn 4, budget spent) exhausted, `checkout-paging` (99%, a
//! page pair at 0.2x) critical, `checkout-ticketing` (99%, a ticket pair at 0.2x) warning,
//! `checkout-latency` (99%, grouped by route) healthy on both routes, and `search-availability`
//! (a selector matching nothing) listed without figures.
//!
//! - `api_gate_and_page_agree_and_render`:
//!   - the API lists every instance with the status above; figures equal what Prometheus
//!     computes (the 5m burn rate within 5%); the grouped instance is addressable; history holds
//!     a point per tick; the decision follows the matrix for every SLO and risk; unknown ids 404
//!     and bad risks 400 as JSON; no secret (backend password, PagerDuty key) appears anywhere;
//!   - `burnwatch gate` exits 0, 3, 4, 5 for approve, review, defer, block, 1 for an unknown SLO
//!     or an unreachable daemon, 2 for a bad risk, printing the rationale;
//!   - Chromium at 1280 px and 375 px (phone): one row per instance whose badge colour is the
//!     colour of the status the API reports, the detail page's two SVG charts drawn with many
//!     points and a visible size, and no horizontal overflow at phone width. Screenshots are
//!     saved in the test's temporary directory, or in the directory `BURNWATCH_KEEP_SCREENSHOTS`
//!     names, to be looked at.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_http::STATUS_COLOURS;
use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{Browser, Daemon, Exporter, Prometheus, PrometheusOptions, free_port};
use serde_json::{Value, json};

const PASSWORD: &str = "pw-SECRET-7f3a9c";
const ROUTING_KEY: &str = "RK-SECRET-0c1d2e3f4a5b";
const PAY: &str = r#"checkout-latency{route="/pay"}"#;
const PAY_PATH: &str = "checkout-latency%7Broute%3D%22%2Fpay%22%7D";

fn config(port: u16, prometheus: &str, pagerduty_port: u16) -> String {
    let ratio = |objective: &str, name: &str, alerting: &str| {
        format!(
            r#"
[[slo]]
service = "checkout"
name = "{name}"
objective = {objective}
[slo.sli.ratio]
errors = 'http_requests_total{{service="checkout",code=~"5.."}}'
total = 'http_requests_total{{service="checkout"}}'
{alerting}"#
        )
    };
    let pair = |severity: &str| {
        format!(
            "[slo.alerting]\n{severity} = true\n[[slo.alerting.windows]]\nseverity = \"{severity}\"\nshort = \"1m\"\nlong = \"5m\"\nfactor = 0.2\n"
        )
    };
    format!(
        r#"[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{prometheus}"
basic_auth = {{ username = "burnwatch", password = "${{PROM_PASSWORD}}" }}

[defaults]
interval = "1s"
{availability}{paging}{ticketing}
[[slo]]
service = "checkout"
name = "latency"
objective = 99.0
group_by = ["route"]
[slo.sli.latency]
histogram = 'http_request_duration_seconds{{service="checkout"}}'
le = "0.3"

[[slo]]
service = "search"
name = "availability"
objective = 99.0
[slo.sli.ratio]
errors = 'http_requests_total{{service="search",code=~"5.."}}'
total = 'http_requests_total{{service="search"}}'

[receivers.pager]
type = "pagerduty"
routing_key = "${{PD_ROUTING_KEY}}"
url = "http://127.0.0.1:{pagerduty_port}/v2/enqueue"

[[route]]
receivers = ["pager"]
"#,
        availability = ratio("99.9", "availability", ""),
        paging = ratio("99.0", "paging", &pair("page")),
        ticketing = ratio("99.0", "ticketing", &pair("ticket")),
    )
}

fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(found) => return found,
            Err(why) if Instant::now() > deadline => panic!("timed out waiting for {what}: {why}"),
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

fn json_of(daemon: &Daemon, path: &str) -> (u16, Value) {
    let (status, body) = daemon
        .get(path)
        .unwrap_or_else(|| panic!("{path}: no answer"));
    assert!(!body.contains("SECRET"), "{path} shows a secret: {body}");
    let value = serde_json::from_str(&body).unwrap_or_else(|err| panic!("{path}: {err}: {body}"));
    (status, value)
}

fn statuses(daemon: &Daemon) -> Vec<(String, String)> {
    let (_, body) = json_of(daemon, "/api/v1/slos");
    body["slos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn gate(url: &str, slo: &str, risk: &str) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .args([
            "gate",
            "--url",
            url,
            "--slo",
            slo,
            "--risk",
            risk,
            "--timeout",
            "5s",
        ])
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The matrix as docs/api.md states it: status -> (low, medium, high).
fn matrix(status: &str) -> [&'static str; 3] {
    match status {
        "healthy" => ["approve", "approve", "review"],
        "attention" => ["approve", "review", "defer"],
        "warning" => ["review", "defer", "block"],
        "critical" => ["defer", "block", "block"],
        "exhausted" => ["block", "block", "block"],
        other => panic!("unknown status {other}"),
    }
}

#[test]
fn api_gate_and_page_agree_and_render() {
    let t0 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let exporter = Exporter::start(Scenario::checkout(vec![Phase::steady(
        t0 - 600.0,
        100.0,
        0.004,
        0.003,
    )]));
    let prometheus = Prometheus::start(PrometheusOptions {
        scrape_targets: vec![exporter.addr().to_string()],
        ..Default::default()
    });
    let daemon = Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config(free_port(), prometheus.url(), free_port()),
        &[("PROM_PASSWORD", PASSWORD), ("PD_ROUTING_KEY", ROUTING_KEY)],
    );
    daemon.wait_ready(Duration::from_secs(60));
    let url = daemon.url().to_string();

    // Statuses settle once a few scrapes are in: the 1m/5m pairs need events in both windows.
    let want = [
        ("checkout-availability", "exhausted"),
        (r#"checkout-latency{route="/cart"}"#, "healthy"),
        (PAY, "healthy"),
        ("checkout-paging", "critical"),
        ("checkout-ticketing", "warning"),
        ("search-availability", "healthy"),
    ];
    wait_for("every status", Duration::from_secs(60), || {
        let got = statuses(&daemon);
        let got: Vec<(&str, &str)> = got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        if got == want {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    });
    // And a trail of at least 20 ticks for the charts.
    wait_for("22 history points", Duration::from_secs(60), || {
        let (_, history) = json_of(
            &daemon,
            &format!("/api/v1/slos/{PAY_PATH}/history?window=1h"),
        );
        let n = history["points"].as_array().map_or(0, Vec::len);
        if n >= 22 {
            Ok(())
        } else {
            Err(format!("{n} points"))
        }
    });

    // Figures against Prometheus: the 5m error ratio of the same selectors.
    let (status, paging) = json_of(&daemon, "/api/v1/slos/checkout-paging");
    assert_eq!(status, 200);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let promql = r#"sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m]))"#;
    let want_burn = prometheus.query(promql, now)[0].1 / 0.01;
    let got_burn = paging["burn_rate"]["5m"].as_f64().unwrap();
    assert!(
        (got_burn - want_burn).abs() / want_burn < 0.05,
        "burnwatch {got_burn}, Prometheus {want_burn}"
    );
    assert!((got_burn - 0.4).abs() < 0.05, "{paging}");
    assert_eq!(paging["alerts"]["page"]["state"], "firing");
    let remaining = paging["budget_remaining"].as_f64().unwrap();
    let minutes = paging["budget_remaining_minutes"].as_f64().unwrap();
    // 1% of 30 days is 432 minutes of full outage.
    assert!((minutes - remaining * 432.0).abs() < 1e-6, "{paging}");
    assert!(paging["exhaustion_eta"].is_string(), "{paging}");

    let (status, pay) = json_of(&daemon, &format!("/api/v1/slos/{PAY_PATH}"));
    assert_eq!(status, 200);
    assert_eq!(
        (pay["id"].as_str(), pay["labels"]["route"].as_str()),
        (Some(PAY), Some("/pay"))
    );
    let (status, history) = json_of(
        &daemon,
        &format!("/api/v1/slos/{PAY_PATH}/history?window=1h"),
    );
    assert_eq!(status, 200);
    // Every point once the first scrapes were in (the very first evaluation may have none).
    let budgets: Vec<Option<f64>> = history["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["budget_remaining"].as_f64())
        .skip_while(Option::is_none)
        .collect();
    assert!(budgets.len() >= 20, "{history}");
    assert!(
        budgets
            .iter()
            .all(|b| b.is_some_and(|b| (b - 0.55).abs() < 0.01)),
        "/pay burns at 0.45x: {history}"
    );
    for (id, status) in &want {
        if *id == "search-availability" {
            // No series: no evidence, and the gate fails closed (below).
            continue;
        }
        let path_id = if *id == PAY {
            PAY_PATH.to_string()
        } else {
            id.replace('"', "%22")
                .replace('{', "%7B")
                .replace('}', "%7D")
                .replace('/', "%2F")
        };
        for (risk, decision) in ["low", "medium", "high"].iter().zip(matrix(status)) {
            let (code, body) = json_of(
                &daemon,
                &format!("/api/v1/slos/{path_id}/decision?risk={risk}"),
            );
            assert_eq!(code, 200, "{body}");
            assert_eq!(
                (body["status"].as_str(), body["decision"].as_str()),
                (Some(*status), Some(decision)),
                "{id} at {risk}: {body}"
            );
            assert!(
                body["rationale"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("{status} at {risk} risk is {decision}"))
            );
        }
    }
    let (code, body) = json_of(
        &daemon,
        "/api/v1/slos/search-availability/decision?risk=low",
    );
    assert_eq!(code, 503, "no series must not approve: {body}");
    assert!(
        body["error"].as_str().unwrap().contains("no series"),
        "{body}"
    );
    let (code, body) = json_of(&daemon, "/api/v1/slos/nope/decision?risk=low");
    assert_eq!((code, body["error"].is_string()), (404, true), "{body}");
    let (code, body) = json_of(&daemon, "/api/v1/slos/checkout-paging/decision?risk=yolo");
    assert_eq!((code, body["error"].is_string()), (400, true), "{body}");
    for path in [
        "/",
        "/slos/checkout-paging",
        &format!("/slos/{PAY_PATH}"),
        "/metrics",
    ] {
        let (_, body) = daemon.get(path).unwrap();
        assert!(!body.contains("SECRET"), "{path} shows a secret");
    }

    // The gate as a CI job runs it.
    for (slo, risk, code, word) in [
        ("checkout-latency", "low", 0, "approve"),
        ("checkout-ticketing", "low", 3, "review"),
        ("checkout-paging", "low", 4, "defer"),
        ("checkout-availability", "low", 5, "block"),
        (PAY, "high", 3, "review"),
    ] {
        let (got, stdout, stderr) = gate(&url, slo, risk);
        assert_eq!(got, code, "{slo} {risk}: {stdout}{stderr}");
        assert!(
            stdout.starts_with(&format!("{word}: ")) && stdout.contains(" is "),
            "{stdout}"
        );
    }
    let (got, _, stderr) = gate(&url, "search-availability", "low");
    assert_eq!(
        got, 1,
        "no evidence is an error for a CI job, not an approval: {stderr}"
    );
    assert!(stderr.contains("no series"), "{stderr}");
    let (got, _, stderr) = gate(&url, "nope", "low");
    assert_eq!(got, 1);
    assert!(stderr.contains("unknown SLO \"nope\""), "{stderr}");
    let (got, _, stderr) = gate(
        &format!("http://127.0.0.1:{}", free_port()),
        "checkout-paging",
        "low",
    );
    assert_eq!(got, 1, "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
    let (got, _, stderr) = gate(&url, "checkout-paging", "extreme");
    assert_eq!(got, 2, "{stderr}");

    browse(&url, &want);
}

/// Renders the pages in Chromium and checks what a person would see.
fn browse(url: &str, want: &[(&str, &str)]) {
    let temp = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("BURNWATCH_KEEP_SCREENSHOTS").map(std::path::PathBuf::from);
    let shots = keep.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(shots).unwrap();
    let mut browser = Browser::start();
    let colour = |status: &str| {
        let hex = STATUS_COLOURS.iter().find(|(s, _)| *s == status).unwrap().1;
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
        format!("rgb({}, {}, {})", channel(1), channel(3), channel(5))
    };
    for (width, height, mobile) in [(1280, 900, false), (375, 1400, true)] {
        let tab = browser.open(&format!("{url}/"), width, height, mobile);
        browser.screenshot(&tab, &shots.join(format!("overview-{width}.png")));
        let rows = browser.evaluate(
            &tab,
            r#"[...document.querySelectorAll('tr[data-id]')].map(r => {
                 const badge = r.querySelector('.badge'); const box = badge.getBoundingClientRect();
                 return {id: r.dataset.id, status: r.dataset.status,
                         colour: getComputedStyle(badge).backgroundColor,
                         visible: box.width > 10 && box.height > 10 && box.right <= window.innerWidth};
               })"#,
        );
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), want.len(), "{rows:?}");
        for ((id, status), row) in want.iter().zip(rows) {
            assert_eq!(row["id"], json!(id), "{row}");
            assert_eq!(row["status"], json!(status), "{row}");
            assert_eq!(
                row["colour"],
                json!(colour(status)),
                "{id} at {width}px: {row}"
            );
            assert_eq!(row["visible"], json!(true), "{id} at {width}px: {row}");
        }
        let overflow = browser.evaluate(
            &tab,
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
        );
        assert_eq!(overflow, json!(0), "horizontal overflow at {width}px");

        let tab = browser.open(
            &format!("{url}/slos/checkout-paging"),
            width,
            height,
            mobile,
        );
        browser.screenshot(&tab, &shots.join(format!("detail-{width}.png")));
        let charts = browser.evaluate(
            &tab,
            r#"[...document.querySelectorAll('svg.chart')].map(svg => {
                 const box = svg.getBoundingClientRect();
                 return {width: box.width, height: box.height,
                         lines: [...svg.querySelectorAll('path.line')].map(p => ({
                           name: p.dataset.name,
                           points: (p.getAttribute('d').match(/[ML]/g) || []).length,
                           length: p.getTotalLength()}))};
               })"#,
        );
        let charts = charts.as_array().unwrap();
        assert_eq!(charts.len(), 2, "{charts:?}");
        for chart in charts {
            assert!(
                chart["width"].as_f64().unwrap() >= (width as f64) * 0.8,
                "{chart}"
            );
            assert!(chart["height"].as_f64().unwrap() >= 100.0, "{chart}");
            let lines = chart["lines"].as_array().unwrap();
            assert!(!lines.is_empty(), "{chart}");
            for line in lines {
                assert!(line["points"].as_u64().unwrap() >= 20, "{line}");
                assert!(line["length"].as_f64().unwrap() > 100.0, "{line}");
            }
        }
        // The burn chart has a line per window: 1m, 5m and the defaults, then the period.
        assert!(
            charts[1]["lines"].as_array().unwrap().len() >= 8,
            "{charts:?}"
        );
        let page_state = browser.evaluate(
            &tab,
            "document.querySelector('tr[data-alert=page]').dataset.state",
        );
        assert_eq!(page_state, json!("firing"));
        let overflow = browser.evaluate(
            &tab,
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
        );
        assert_eq!(
            overflow,
            json!(0),
            "horizontal overflow on the detail page at {width}px"
        );
    }
}

/// A day and a half of history in Prometheus: a minute after start the detail page's charts
/// already span more than a day (read back from the engine's buckets), the burn chart marks the
/// default policy's four thresholds, and chart text is at least 10 px on a 375 px phone. A
/// maintenance window given to the daemon (a hidden spans file) is shaded on both charts,
/// named in their legends and listed under them at both widths, and the API counts its 1,200
/// seconds. A second daemon whose backend refuses connections lists its SLO on `/` all the same.
#[test]
fn the_status_page_shows_the_backfilled_day_with_thresholds_on_a_phone() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = now - 36.0 * 3_600.0;
    // 0.4% errors at 99.9%: burn 4, above the ticket thresholds, below the pages'.
    let scenario = Scenario::checkout(vec![Phase::steady(start, 20.0, 0.004, 0.0)]);
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(burnwatch_simulator::render_openmetrics_history(
            &scenario,
            start,
            now - 120.0,
            60.0,
        )),
        ..Default::default()
    });
    let slo = burnwatch_tests::CHECKOUT_AVAILABILITY_SLO;
    let config = |backend: &str| {
        format!(
            "[server]\nlisten = \"127.0.0.1:{}\"\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"{backend}\"\ntimeout = \"2s\"\n\n{slo}",
            free_port()
        )
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_burnwatch"));
    // A 20-minute maintenance window ten hours ago, excluded and silenced, with a reason long
    // enough to wrap on a phone.
    let temp = tempfile::tempdir().unwrap();
    let window_end = ((now - 10.0 * 3_600.0) / 60.0).floor() as i64 * 60_000;
    let spans = temp.path().join("spans.json");
    std::fs::write(
        &spans,
        json!([{
            "start": window_end - 20 * 60_000, "end": window_end,
            "source": "maintenance", "name": "db-upgrade",
            "reason": "Postgres 17 upgrade of the checkout primary and both of its replicas",
            "exclude": true, "silence": true
        }])
        .to_string(),
    )
    .unwrap();
    let daemon = Daemon::start(
        bin,
        &config(prometheus.url()),
        &[("BURNWATCH_EXCLUSION_SPANS", spans.to_str().unwrap())],
    );
    daemon.wait_ready(Duration::from_secs(60));
    let started = Instant::now();
    let id = "checkout-availability";
    // The charts' points (the API reads the same trail): a day and more, a minute after start.
    let span_hours = wait_for("a day of points", Duration::from_secs(60), || {
        let (_, history) = json_of(&daemon, &format!("/api/v1/slos/{id}/history?window=30d"));
        let times: Vec<f64> = history["points"]
            .as_array()
            .map(|points| {
                points
                    .iter()
                    .filter_map(|p| p["time"].as_str())
                    .filter_map(|t| humantime::parse_rfc3339(t).ok())
                    .map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64())
                    .collect()
            })
            .unwrap_or_default();
        match (times.first(), times.last()) {
            (Some(first), Some(last)) if last - first >= 24.0 * 3_600.0 => {
                Ok((last - first) / 3_600.0)
            }
            _ => Err(format!("{} points", times.len())),
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "history after {:?}",
        started.elapsed()
    );

    let down = Daemon::start(
        bin,
        &config(&format!("http://127.0.0.1:{}", free_port())),
        &[],
    );
    wait_for(
        "the SLO listed as unreachable",
        Duration::from_secs(30),
        || {
            let (_, body) = json_of(&down, "/api/v1/slos");
            match body["slos"][0]["status"].as_str() {
                Some("unreachable") => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    );

    let (_, view) = json_of(&daemon, &format!("/api/v1/slos/{id}"));
    assert_eq!(view["excluded_seconds"], json!(1200.0), "{view}");
    assert_eq!(view["exclusions"][0]["name"], json!("db-upgrade"), "{view}");

    let keep = std::env::var_os("BURNWATCH_KEEP_SCREENSHOTS").map(std::path::PathBuf::from);
    let shots = keep.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(shots).unwrap();
    let mut browser = Browser::start();
    for (width, height, mobile) in [(1280, 1400, false), (375, 1800, true)] {
        let tab = browser.open(
            &format!("{}/slos/{id}", daemon.url()),
            width,
            height,
            mobile,
        );
        browser.screenshot(&tab, &shots.join(format!("history-{width}.png")));
        let seen = browser.evaluate(
            &tab,
            r#"({
                 rules: [...document.querySelectorAll('#chart-burn line.rule')].length,
                 labels: [...document.querySelectorAll('#chart-burn text')].map(t => t.textContent),
                 smallest: Math.min(...[...document.querySelectorAll('svg.chart')].flatMap(svg => {
                   const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
                   return [...svg.querySelectorAll('text')]
                     .filter(t => getComputedStyle(t).display !== 'none')
                     .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
                 })),
                 points: Math.min(...[...document.querySelectorAll('#chart-burn path.line')]
                   .map(p => (p.getAttribute('d').match(/[ML]/g) || []).length)),
                 overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                 bands: ['budget', 'burn'].map(c => [...document.querySelectorAll(`#chart-${c} rect.band`)]
                   .filter(r => r.getBoundingClientRect().width > 0).length),
                 legends: ['budget', 'burn'].map(c => [...document.querySelectorAll(`#chart-${c} .legend span.band`)]
                   .map(s => s.textContent)),
                 listed: [...document.querySelectorAll('table.exclusions tbody tr')]
                   .filter(r => r.getBoundingClientRect().height > 0)
                   .map(r => r.textContent)
               })"#,
        );
        // The maintenance window: a visible band on both charts with its legend entry, and
        // one row under them.
        assert_eq!(seen["bands"], json!([1, 1]), "{width}px: {seen}");
        assert_eq!(
            seen["legends"],
            json!([["excluded"], ["excluded"]]),
            "{width}px: {seen}"
        );
        let listed = seen["listed"].as_array().unwrap();
        assert_eq!(listed.len(), 1, "{width}px: {seen}");
        let row = listed[0].as_str().unwrap();
        assert!(
            row.contains("maintenance db-upgrade")
                && row.contains("20m")
                && row.contains("excluded, silenced"),
            "{width}px: {row}"
        );
        // The workbook pairs over 30 days: 14.4x and 6x page, 3x and 1x ticket.
        assert_eq!(seen["rules"], json!(4), "{width}px: {seen}");
        for label in ["page 14.4x", "page 6x", "ticket 3x", "ticket 1x"] {
            assert!(
                seen["labels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l == label),
                "{width}px: no {label}: {seen}"
            );
        }
        assert!(
            seen["smallest"].as_f64().unwrap() >= 10.0,
            "{width}px: chart text below 10 px: {seen}"
        );
        // A point an hour for a day and a half at least (every 10 minutes over the last day).
        assert!(seen["points"].as_u64().unwrap() >= 36, "{width}px: {seen}");
        assert_eq!(seen["overflow"], json!(0), "{width}px: {seen}");

        let tab = browser.open(&format!("{}/", down.url()), width, height, mobile);
        browser.screenshot(&tab, &shots.join(format!("down-{width}.png")));
        let rows = browser.evaluate(
            &tab,
            "[...document.querySelectorAll('tr[data-id]')].map(r => r.dataset.status)",
        );
        assert_eq!(rows, json!(["unreachable"]), "{width}px");
    }
    eprintln!("history spans {span_hours:.1} h a minute after start; screenshots in {shots:?}");
}
