//! `burnwatch report` against a real Prometheus holding three days of simulated history
//! (backfilled with promtool): 20 requests/s at 0.05% errors (0.5x at 99.9%) with a 1-hour
//! outage at 20% errors on the second day.
//!
//! - `report_figures_equal_promql_and_replay`: over the 24 hours around the outage, the JSON
//!   report's events, error ratio, achieved SLI and budget consumed equal what Prometheus
//!   computes with `increase()` over the same span (within 1%); the one page starts within ten
//!   minutes of the outage and its episodes are exactly those `burnwatch replay` prints for the
//!   span (the report is computed through replay); MTTR is the mean of the resolved incidents;
//!   the HTML is one self-contained file (no external reference, an inline SVG trend with a point
//!   per hour) and the Markdown has a row per instance; a bad --month exits 2.

use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario, render_openmetrics_history};
use burnwatch_tests::{Prometheus, PrometheusOptions, stdout_of};
use serde_json::Value;

const H: i64 = 3600;
const D: i64 = 86_400;
const ERRORS: &str = r#"http_requests_total{service="checkout",code=~"5.."}"#;
const TOTAL: &str = r#"http_requests_total{service="checkout"}"#;

fn burnwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .args(args)
        .output()
        .unwrap()
}

fn unix(rfc3339: &str) -> i64 {
    humantime::parse_rfc3339(rfc3339)
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 0.01 * want.abs(),
        "{what}: report {got}, PromQL {want}"
    );
}

#[test]
fn report_figures_equal_promql_and_replay() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let s = now / H * H - 3 * D;
    let outage = s + 36 * H;
    let scenario = Scenario::checkout(vec![
        Phase::steady(s as f64, 20.0, 0.0005, 0.0),
        Phase::steady(outage as f64, 20.0, 0.2, 0.0),
        Phase::steady((outage + H) as f64, 20.0, 0.0005, 0.0),
    ]);
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(render_openmetrics_history(
            &scenario,
            s as f64,
            (s + 3 * D - 2 * H) as f64,
            30.0,
        )),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("slo.toml");
    std::fs::write(
        &config,
        format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\nbackend = \"main\"\n\n\
             [[slo]]\nservice = \"checkout\"\nname = \"availability\"\nobjective = 99.9\n\
             [slo.sli.ratio]\nerrors = '{ERRORS}'\ntotal = '{TOTAL}'\n",
            prometheus.url()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let (start, end) = (s + 24 * H, s + 48 * H);
    let span = ["--start", &start.to_string(), "--end", &end.to_string()].map(String::from);
    let run = |format: &str| {
        let mut args = vec!["report", "--config", config, "--format", format];
        args.extend(span.iter().map(String::as_str));
        stdout_of(&burnwatch(&args))
    };

    let report: Value = serde_json::from_str(&run("json")).unwrap();
    let slos = report["slos"].as_array().unwrap();
    assert_eq!(slos.len(), 1, "{report}");
    let slo = &slos[0];
    assert_eq!(slo["slo"], "checkout-availability");

    // Ground truth: Prometheus over the same 24 hours.
    let at = end as f64;
    let errors = prometheus.query(&format!("sum(increase({ERRORS}[24h]))"), at)[0].1;
    let total = prometheus.query(&format!("sum(increase({TOTAL}[24h]))"), at)[0].1;
    close(slo["events"]["total"].as_f64().unwrap(), total, "events");
    close(slo["events"]["errors"].as_f64().unwrap(), errors, "errors");
    let ratio = errors / total;
    close(slo["error_ratio"].as_f64().unwrap(), ratio, "error ratio");
    close(slo["sli"].as_f64().unwrap(), 1.0 - ratio, "SLI");
    close(
        slo["budget_consumed"].as_f64().unwrap(),
        ratio / 0.001,
        "budget consumed",
    );
    // 23 hours at 0.05% and one at 20%: about 8.8 times the day's budget.
    assert!(
        (8.0..9.5).contains(&slo["budget_consumed"].as_f64().unwrap()),
        "{slo}"
    );

    // Incidents: one page at the outage, and exactly what replay shows for the span.
    assert_eq!(slo["pages"], 1, "{slo}");
    let incidents = slo["incidents"].as_array().unwrap();
    let page = incidents.iter().find(|i| i["severity"] == "page").unwrap();
    let page_start = unix(page["start"].as_str().unwrap());
    assert!(
        (outage..=outage + 600).contains(&page_start),
        "page at {page_start}, outage at {outage}"
    );
    let duration = page["duration_seconds"].as_i64().unwrap();
    assert!((55 * 60..=2 * H).contains(&duration), "{page}");
    let mut args = vec![
        "replay", "--config", config, "--format", "json", "--step", "5m",
    ];
    args.extend(span.iter().map(String::as_str));
    let replayed = stdout_of(&burnwatch(&args));
    let summary: Value = replayed
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "summary")
        .unwrap();
    let from_replay: Vec<(String, String, Value)> = summary["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["severity"].as_str().unwrap().to_string(),
                e["start"].as_str().unwrap().to_string(),
                e["end"].clone(),
            )
        })
        .collect();
    let from_report: Vec<(String, String, Value)> = incidents
        .iter()
        .map(|i| {
            (
                i["severity"].as_str().unwrap().to_string(),
                i["start"].as_str().unwrap().to_string(),
                i["end"].clone(),
            )
        })
        .collect();
    assert_eq!(from_report, from_replay);
    assert_eq!(slo["tickets"], summary["tickets"]);
    let resolved: Vec<i64> = incidents
        .iter()
        .filter(|i| !i["end"].is_null())
        .map(|i| i["duration_seconds"].as_i64().unwrap())
        .collect();
    assert!(!resolved.is_empty());
    let mean = resolved.iter().sum::<i64>() / resolved.len() as i64;
    assert!(
        (slo["mttr_seconds"].as_i64().unwrap() - mean).abs() <= 1,
        "{slo}"
    );
    assert_eq!(
        slo["trend"].as_array().unwrap().len(),
        25,
        "hourly from start to end"
    );

    let html = run("html");
    assert!(html.starts_with("<!doctype html>"));
    for external in ["src=", "href=\"http", "@import", "url("] {
        assert!(!html.contains(external), "HTML references {external}");
    }
    assert!(html.contains(r#"<tr data-slo="checkout-availability">"#));
    let d = html
        .split(r#" d=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(d.matches(['M', 'L']).count(), 25, "{d}");
    assert_eq!(
        html.matches(r#"<tr class="incident""#).count(),
        incidents.len()
    );
    // To look at it: BURNWATCH_KEEP_SCREENSHOTS=/some/dir keeps a copy.
    if let Some(keep) = std::env::var_os("BURNWATCH_KEEP_SCREENSHOTS") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::write(std::path::Path::new(&keep).join("report.html"), &html).unwrap();
    }

    let markdown = run("markdown");
    assert!(
        markdown
            .lines()
            .any(|l| l.starts_with("| checkout-availability | 99.90% |")),
        "{markdown}"
    );

    let bad = burnwatch(&["report", "--config", config, "--month", "2026-13"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM"));
}
