//! The six-month record (`record.db`, `/api/v1/trends`, `/trends`) against a real Prometheus
//! holding 200 days of history for two services (backfilled with promtool, one sample every
//! 5 minutes on the 5-minute grid): traffic that changes from day to day, a day at 0.3% errors
//! every ninth, an hour at 20% errors every 23rd day (a page), and a counter reset.
//!
//! `record_of_200_days_equals_promql_and_survives_kill_and_corruption`, in order:
//! - the daemon starts and backfills the record; it is killed with SIGKILL while the record is
//!   being written (some days written, some pending) and started again on the same data dir;
//! - `/api/v1/trends` then has exactly 200 daily rows per instance, one per day, none twice,
//!   whose events and errors equal Prometheus' `sum(increase(x[1d]))` evaluated at each
//!   following midnight within the parity tolerance (1%; the samples sit on the day's edges,
//!   so `increase()` needs no extrapolation and the figures agree exactly in practice); the
//!   outage days have a page incident and the CSV export has the same rows;
//! - `/trends` renders in headless Chromium at 1366 px and 390 px: a card per team with four
//!   charts, a non-blank screenshot and no horizontal overflow on the phone;
//! - the database's size per SLO-year is measured (printed; asserted under the bound
//!   documented in docs/benchmarks.md);
//! - a corrupt `record.db` is set aside at the next start; the daemon still serves `/metrics`
//!   with the SLO series and its alerts, and writes the record again;
//! - An SLO added by a reload has its 200 days recorded at once, equal to its twin's.
//! - `burnwatch report --quarter` over a whole quarter of the history, with Prometheus gone,
//!   reads the record: its events, errors and pages are the sums of the record's days.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_tests::{Browser, Daemon, Prometheus, PrometheusOptions, free_port, wait_for};
use serde_json::Value;

const D: i64 = 86_400;
const STEP: i64 = 300;
const DAYS: i64 = 200;
/// Days per promtool run (see `PrometheusOptions::history_parts`).
const PART_DAYS: i64 = 10;
const SERVICES: [(&str, &str); 2] = [("checkout", "payments"), ("search", "discovery")];
/// The parity tolerance of tests/prometheus_parity.rs.
const TOLERANCE: f64 = 0.01;
/// docs/benchmarks.md: the record's size per SLO instance and year stays under this.
const MAX_BYTES_PER_SLO_YEAR: f64 = 128.0 * 1024.0;

/// Requests and errors of `service` in the 5 minutes ending at `t` (whole numbers, so counters
/// stay exact).
fn increments(service: usize, t: i64, first: i64) -> (u64, u64) {
    let day = (t - 1 - first).div_euclid(D);
    let requests = 600 + 150 * ((day + service as i64) % 5) as u64 + 100 * service as u64;
    let hour = (t - 1 - first).rem_euclid(D) / 3600;
    let outage = day % 23 == 5 + service as i64 && hour == 14;
    // 0.04% errors (0.4x at 99.9%), 0.3% on every ninth day (a missed day, no page), 20% in
    // the outage hour: weeks with an outage miss the objective, the others meet it.
    let errors = if outage {
        requests / 5
    } else if day % 9 == 4 {
        2
    } else {
        u64::from((t - first) / STEP % 4 == 0)
    };
    (requests, errors)
}

/// The history as OpenMetrics parts of [`PART_DAYS`] days, each series' samples in time order.
/// Counters of `checkout` reset (restart at 0) at the start of day 50.
fn history(first: i64, last: i64) -> Vec<String> {
    let mut values: BTreeMap<(usize, &str), Vec<(i64, u64)>> = BTreeMap::new();
    for (s, _) in SERVICES.iter().enumerate() {
        let (mut ok, mut bad) = (0u64, 0u64);
        let mut t = first;
        while t <= last {
            if t > first {
                let (requests, errors) = increments(s, t, first);
                ok += requests - errors;
                bad += errors;
            }
            if s == 0 && t == first + 50 * D {
                (ok, bad) = (0, 0);
            }
            values.entry((s, "200")).or_default().push((t, ok));
            values.entry((s, "500")).or_default().push((t, bad));
            t += STEP;
        }
    }
    let mut parts = Vec::new();
    let mut from = first;
    while from <= last {
        let to = from + PART_DAYS * D;
        let mut out = String::from("# TYPE http_requests counter\n");
        for ((s, code), samples) in &values {
            for (t, v) in samples.iter().filter(|(t, _)| *t >= from && *t < to) {
                let _ = writeln!(
                    out,
                    "http_requests_total{{service=\"{}\",code=\"{code}\"}} {v} {t}",
                    SERVICES[*s].0
                );
            }
        }
        out.push_str("# EOF\n");
        parts.push(out);
        from = to;
    }
    parts
}

fn config(port: u16, prometheus: &str) -> String {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n\n[record]\nretention = \"210d\"\n\n\
         [backends.main]\ntype = \"prometheus\"\nurl = \"{prometheus}\"\n\n\
         [defaults]\nbackend = \"main\"\n"
    );
    for (service, team) in SERVICES {
        let _ = write!(
            text,
            "\n[[slo]]\nservice = \"{service}\"\nname = \"availability\"\nobjective = 99.9\n\
             labels = {{ team = \"{team}\" }}\n[slo.sli.ratio]\n\
             errors = 'http_requests_total{{service=\"{service}\",code=~\"5..\"}}'\n\
             total = 'http_requests_total{{service=\"{service}\"}}'\n"
        );
    }
    text
}

fn start(config: &str, data: &Path) -> Daemon {
    let daemon = Daemon::start_in(
        Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        config,
        &[],
        data,
    );
    daemon.wait_ready(Duration::from_secs(300));
    daemon
}

/// The record's rows over the history, once every day of it is written.
fn wait_for_rows(daemon: &Daemon, from: &str, to: &str) -> Vec<Value> {
    wait_for("the record's 200 days", Duration::from_secs(900), || {
        let (status, body) = daemon.get(&format!("/api/v1/trends?from={from}&to={to}"))?;
        if status != 200 {
            return None;
        }
        let trends: Value = serde_json::from_str(&body).ok()?;
        let rows = trends["days"].as_array()?.clone();
        let pending = daemon.sample("burnwatch_record_days_pending", &[])?;
        (rows.len() as i64 >= 2 * DAYS && pending == 0.0).then_some(rows)
    })
}

fn day_text(t: i64) -> String {
    humantime::format_rfc3339(UNIX_EPOCH + Duration::from_secs(t as u64)).to_string()[..10]
        .to_string()
}

#[test]
fn record_of_200_days_equals_promql_and_survives_kill_and_corruption() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let today = now / D * D;
    let first = today - DAYS * D;
    // The history runs into today, so yesterday is whole; today is not recorded (not closed).
    let last = (now / STEP * STEP).max(today + STEP);
    let prometheus = Prometheus::start(PrometheusOptions {
        history_parts: history(first, last),
        retention: Some("400d".into()),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let config = config(port, prometheus.url());
    let (from, to) = (day_text(first), day_text(today - D));

    // Killed while the record is written: some days are in, some are not.
    let mut daemon = start(&config, &data);
    wait_for("record writing under way", Duration::from_secs(600), || {
        let written = daemon.sample("burnwatch_record_days_written_total", &[])?;
        let pending = daemon.sample("burnwatch_record_days_pending", &[])?;
        (written > 0.0 && pending > 0.0).then_some(())
    });
    daemon.kill9();
    let mut daemon = start(&config, &data);
    let rows = wait_for_rows(&daemon, &from, &to);

    // 200 days per instance, each once.
    let mut by_instance: BTreeMap<String, BTreeMap<String, &Value>> = BTreeMap::new();
    for row in &rows {
        let days = by_instance
            .entry(row["instance"].as_str().unwrap().to_string())
            .or_default();
        let day = row["day"].as_str().unwrap().to_string();
        assert!(
            days.insert(day.clone(), row).is_none(),
            "{day} twice: {row}"
        );
    }
    assert_eq!(by_instance.len(), 2, "{:?}", by_instance.keys());
    for (instance, days) in &by_instance {
        assert_eq!(days.len() as i64, DAYS, "{instance}");
    }

    // Every day against Prometheus: increase() over the day, at its end.
    let mut max_error = 0.0f64;
    let mut compared = 0;
    // Per service and day (days since 1970): PromQL's events and errors, for the weeks below.
    let mut promql: BTreeMap<(&str, i64), (f64, f64)> = BTreeMap::new();
    for d in 0..DAYS {
        let end = (first + (d + 1) * D) as f64;
        let day = day_text(first + d * D);
        let totals = prometheus.query("sum by (service) (increase(http_requests_total[1d]))", end);
        let errors = prometheus.query(
            "sum by (service) (increase(http_requests_total{code=~\"5..\"}[1d]))",
            end,
        );
        for (service, _) in SERVICES {
            let want = |set: &[(Value, f64)]| {
                set.iter()
                    .find(|(labels, _)| labels["service"] == service)
                    .map_or(0.0, |(_, v)| *v)
            };
            let row = by_instance[&format!("{service}-availability")][&day];
            promql.insert((service, first / D + d), (want(&totals), want(&errors)));
            for (field, want) in [("events", want(&totals)), ("errors", want(&errors))] {
                let got = row[field].as_f64().unwrap();
                let off = if want == 0.0 {
                    got.abs()
                } else {
                    (got - want).abs() / want.abs()
                };
                max_error = max_error.max(off);
                compared += 1;
                assert!(
                    off <= TOLERANCE,
                    "{service} {day} {field}: record {got}, PromQL {want}"
                );
            }
            let outage = d % 23 == 5 + SERVICES.iter().position(|s| s.0 == service).unwrap() as i64;
            let incidents = row["incidents"].as_u64().unwrap();
            assert_eq!(incidents > 0, outage, "{service} {day}: {row}");
        }
    }
    eprintln!("{compared} comparisons with increase(), max relative error {max_error:e}");

    // Weekly compliance per team (one SLO each): whether the week's SLI from PromQL's sums met
    // 99.9%; weeks with an outage miss it, the others meet it.
    let (_, body) = daemon
        .get(&format!("/api/v1/trends?from={from}&to={to}"))
        .unwrap();
    let trends: Value = serde_json::from_str(&body).unwrap();
    for (service, team) in SERVICES {
        let weeks = trends["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["team"] == team)
            .unwrap()["weeks"]
            .as_array()
            .unwrap();
        let mut seen = BTreeSet::new();
        for week in weeks {
            let monday =
                humantime::parse_rfc3339(&format!("{}T00:00:00Z", week["week"].as_str().unwrap()))
                    .unwrap()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64
                    / D;
            let (total, errors) = (monday..monday + 7)
                .filter_map(|d| promql.get(&(service, d)))
                .fold((0.0, 0.0), |(t, e), (dt, de)| (t + dt, e + de));
            let want = (total > 0.0).then(|| f64::from(u8::from(1.0 - errors / total >= 0.999)));
            assert_eq!(week["compliance"].as_f64(), want, "{team} {week}");
            seen.insert(want.map(|w| w as u8));
        }
        assert!(
            seen.contains(&Some(0)) && seen.contains(&Some(1)),
            "{team}: weeks that meet and miss: {seen:?}"
        );
    }

    // The CSV export holds the same rows.
    let (status, csv) = daemon
        .get(&format!("/api/v1/trends?from={from}&to={to}&format=csv"))
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count() as i64, 1 + 2 * DAYS, "{}", &csv[..300]);
    assert!(csv.starts_with("slo,instance,team,day,"), "{}", &csv[..100]);

    // The trends page: one card per team, four charts each, at laptop and phone widths.
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("trends");
    std::fs::create_dir_all(&shots).unwrap();
    let mut browser = Browser::start();
    for (width, height, mobile) in [(1366, 900, false), (390, 844, true)] {
        let tab = browser.open(&format!("{}/trends", daemon.url()), width, height, mobile);
        let png = shots.join(format!("trends-{width}.png"));
        browser.screenshot(&tab, &png);
        let seen = browser.evaluate(
            &tab,
            r#"({
                 teams: [...document.querySelectorAll('section.team')].map(s => s.dataset.team),
                 charts: [...document.querySelectorAll('section.team svg')]
                   .filter(svg => svg.getBoundingClientRect().width > 100).length,
                 lines: document.querySelectorAll('section.team svg path, section.team svg polyline').length,
                 overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
               })"#,
        );
        assert_eq!(
            seen["teams"],
            serde_json::json!(["discovery", "payments"]),
            "{width}px: {seen}"
        );
        assert_eq!(seen["charts"], 8, "{width}px: {seen}");
        assert!(seen["lines"].as_u64().unwrap() >= 8, "{width}px: {seen}");
        // Every chart draws its line, MTTR's (weeks with incidents only) included.
        let drawn = browser.evaluate(
            &tab,
            r#"[...document.querySelectorAll('section.team .card')].map(c =>
                 [...c.querySelectorAll('path.line')].some(p => p.getTotalLength() > 50))"#,
        );
        assert_eq!(drawn, Value::from(vec![true; 8]), "{width}px: {drawn}");
        assert_eq!(
            seen["overflow"], 0,
            "horizontal overflow at {width}px: {seen}"
        );
        let bytes = std::fs::read(&png).unwrap();
        let distinct: BTreeSet<&[u8]> = bytes.chunks(64).collect();
        assert!(
            bytes.len() > 10_000 && distinct.len() > 100,
            "{width}px: a blank screenshot ({} bytes)",
            bytes.len()
        );
    }
    drop(browser);

    // Size per SLO-year: the database with its log folded in, over two instances of 200 days.
    daemon.stop(Duration::from_secs(10));
    let db_path = data.join("record.db");
    {
        let conn = burnwatch_store::rusqlite::Connection::open(&db_path).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    let bytes = std::fs::metadata(&db_path).unwrap().len() as f64;
    let per_slo_year = bytes / 2.0 / DAYS as f64 * 365.0;
    eprintln!(
        "record.db: {bytes} bytes for 2 instances x {DAYS} days: {:.1} KiB per SLO-year",
        per_slo_year / 1024.0
    );
    assert!(
        per_slo_year < MAX_BYTES_PER_SLO_YEAR,
        "{per_slo_year} bytes"
    );

    // A corrupt record is set aside; paging goes on and the record is written again.
    std::fs::write(&db_path, vec![0x5au8; 64 * 1024]).unwrap();
    daemon = start(&config, &data);
    wait_for(
        "the corrupt record set aside",
        Duration::from_secs(60),
        || {
            std::fs::read_dir(&data)
                .unwrap()
                .filter_map(Result::ok)
                .any(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("record.db.bad-")
                })
                .then_some(())
        },
    );
    let (status, metrics) = daemon.get("/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics.contains("slo:sli_error:ratio_rate1h{"),
        "no SLO series: {}",
        &metrics[..500.min(metrics.len())]
    );
    let (status, slos) = daemon.get("/api/v1/slos").unwrap();
    assert_eq!(status, 200, "{slos}");
    assert!(slos.contains("\"alerts\""), "{slos}");
    let again = wait_for_rows(&daemon, &from, &to);
    assert_eq!(again.len() as i64, 2 * DAYS);

    // An SLO added by a reload (as a discovery round adds them) gets its days at once, not at
    // the next start or midnight. Over checkout's own selectors, each of its days must equal
    // checkout's (checked against PromQL above).
    let added = format!(
        "{config}\n[[slo]]\nservice = \"checkout\"\nname = \"reloaded\"\nobjective = 99\n\
         [slo.sli.ratio]\nerrors = 'http_requests_total{{service=\"checkout\",code=~\"5..\"}}'\n\
         total = 'http_requests_total{{service=\"checkout\"}}'\n"
    );
    std::fs::write(daemon.config_path(), added).unwrap();
    daemon.sighup();
    let reloaded = wait_for(
        "the reloaded SLO's 200 days",
        Duration::from_secs(600),
        || {
            let (status, body) = daemon.get(&format!(
                "/api/v1/trends?slo=checkout-reloaded&from={from}&to={to}"
            ))?;
            let trends: Value = serde_json::from_str(&body).ok()?;
            let rows = trends["days"].as_array()?.clone();
            (status == 200 && rows.len() as i64 == DAYS).then_some(rows)
        },
    );
    let checkout = &by_instance["checkout-availability"];
    for row in &reloaded {
        let day = row["day"].as_str().unwrap();
        for field in ["events", "errors"] {
            assert_eq!(row[field], checkout[day][field], "{day} {field}: {row}");
        }
    }
    daemon.stop(Duration::from_secs(10));

    // `burnwatch report --quarter` over a quarter inside the history reads the record: with
    // the backend gone, a replay would fail.
    drop(prometheus);
    let (year, month): (i64, i64) = (from[..4].parse().unwrap(), from[5..7].parse().unwrap());
    let next = 3 * ((month - 1) / 3 + 1) + 1;
    let (year, quarter) = if next > 12 {
        (year + 1, 1)
    } else {
        (year, (next - 1) / 3 + 1)
    };
    let quarter_text = format!("{year}-Q{quarter}");
    let first_month = format!("{year}-{:02}", 3 * (quarter - 1) + 1);
    let config_path = dir.path().join("burnwatch.toml");
    std::fs::write(&config_path, &config).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .args(["report", "--config"])
        .arg(&config_path)
        .args(["--quarter", &quarter_text, "--format", "json", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let in_quarter = |row: &&Value| {
        let day = row["day"].as_str().unwrap();
        let months: Vec<String> = (0..3)
            .map(|i| format!("{year}-{:02}", 3 * (quarter - 1) + 1 + i))
            .collect();
        months.iter().any(|m| day.starts_with(m.as_str()))
    };
    assert!(
        again.iter().filter(in_quarter).count() > 2 * 89,
        "{first_month}"
    );
    for slo in report["slos"].as_array().unwrap() {
        let id = slo["slo"].as_str().unwrap();
        let rows: Vec<&Value> = again
            .iter()
            .filter(|r| r["slo"] == id)
            .filter(in_quarter)
            .collect();
        let sum = |field: &str| rows.iter().map(|r| r[field].as_f64().unwrap()).sum::<f64>();
        for (got, want) in [
            (slo["events"]["total"].as_f64().unwrap(), sum("events")),
            (slo["events"]["errors"].as_f64().unwrap(), sum("errors")),
        ] {
            assert!(
                (got - want).abs() <= 1e-9 * want.abs(),
                "{id}: report {got}, record {want}"
            );
        }
        let incidents: u64 = rows.iter().map(|r| r["incidents"].as_u64().unwrap()).sum();
        assert_eq!(slo["pages"].as_u64().unwrap(), incidents, "{id}");
    }
    assert_eq!(report["slos"].as_array().unwrap().len(), 2, "{report}");
}
