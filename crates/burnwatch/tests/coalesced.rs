//! Coalesced reads against a real Prometheus: 30 SLOs over three metric names (availability and
//! success per route, latency per route and threshold) cost a live tick about one request per
//! metric name, not two per SLO, and every SLO still gets its own series: each one's 1h error
//! ratio equals Prometheus' own PromQL for its selectors (the routes' error ratios differ, so a
//! series handed to the wrong SLO would show).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario, render_openmetrics_history};
use burnwatch_tests::{Daemon, Exporter, Prometheus, PrometheusOptions, free_port};

const H: f64 = 3600.0;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_burnwatch"))
}

/// Sum of every sample of `metric` whose line contains all of `needles`.
fn sum(body: &str, metric: &str, needles: &[&str]) -> f64 {
    body.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The SLOs: (name, TOML of its SLI, PromQL of its 1h error ratio).
fn slos() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (i, route) in ["/pay", "/cart"].iter().cycle().take(10).enumerate() {
        let sel = format!(r#"service="checkout",route="{route}""#);
        out.push((
            format!("availability-{i}"),
            format!(
                "[slo.sli.ratio]\nerrors = 'http_requests_total{{{sel},code=~\"5..\"}}'\ntotal = 'http_requests_total{{{sel}}}'\n"
            ),
            format!(
                r#"sum(rate(http_requests_total{{{sel},code=~"5.."}}[1h])) / sum(rate(http_requests_total{{{sel}}}[1h]))"#
            ),
        ));
        out.push((
            format!("success-{i}"),
            format!(
                "[slo.sli.ratio]\ngood = 'http_requests_total{{{sel},code!~\"5..\"}}'\ntotal = 'http_requests_total{{{sel}}}'\n"
            ),
            format!(
                r#"1 - sum(rate(http_requests_total{{{sel},code!~"5.."}}[1h])) / sum(rate(http_requests_total{{{sel}}}[1h]))"#
            ),
        ));
        let le = ["0.1", "0.3", "1"][i % 3];
        out.push((
            format!("latency-{i}"),
            format!(
                "[slo.sli.latency]\nhistogram = 'http_request_duration_seconds{{{sel}}}'\nle = \"{le}\"\n"
            ),
            format!(
                r#"1 - sum(rate(http_request_duration_seconds_bucket{{{sel},le="{le}"}}[1h])) / sum(rate(http_request_duration_seconds_count{{{sel}}}[1h]))"#
            ),
        ));
    }
    out
}

#[test]
fn thirty_slos_tick_in_about_one_request_per_metric_with_their_own_series() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let s = (now / H).floor() * H - 6.0 * H;
    // Errors and slow requests differ by route in the simulator's checkout service.
    let scenario = Scenario::checkout(vec![Phase::steady(s, 20.0, 0.004, 0.02)]);
    let exporter = Exporter::start(scenario.clone());
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(render_openmetrics_history(&scenario, s, now - 60.0, 15.0)),
        scrape_targets: vec![exporter.addr().to_string()],
        continue_history: true,
        ..Default::default()
    });
    let slos = slos();
    let mut config = format!(
        "[server]\nlisten = \"127.0.0.1:{}\"\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\ninterval = \"5s\"\n\n",
        free_port(),
        prometheus.url()
    );
    for (name, sli, _) in &slos {
        config.push_str(&format!(
            "[[slo]]\nservice = \"checkout\"\nname = \"{name}\"\nobjective = 99\n{sli}\n"
        ));
    }
    let daemon = Daemon::start(bin(), &config, &[]);
    daemon.wait_ready(Duration::from_secs(60));
    // A few ticks after the backfill (and its publishes) before counting.
    std::thread::sleep(Duration::from_secs(12));
    let figures = |daemon: &Daemon| {
        let (_, body) = daemon.get("/metrics").expect("metrics");
        (
            sum(&body, "burnwatch_backend_requests_total", &[]),
            sum(
                &body,
                "burnwatch_slo_evaluations_total",
                &[r#"outcome="success""#],
            ),
        )
    };
    let (requests_before, evaluations_before) = figures(&daemon);
    std::thread::sleep(Duration::from_secs(31));
    let (requests_after, evaluations_after) = figures(&daemon);
    let ticks = (evaluations_after - evaluations_before) / slos.len() as f64;
    let per_tick = (requests_after - requests_before) / ticks;
    eprintln!(
        "{} SLOs: {ticks:.1} ticks, {per_tick:.2} requests per tick",
        slos.len()
    );
    assert!(ticks >= 4.0, "too few ticks to count: {ticks}");
    // Three metric names (http_requests_total, the histogram's _bucket and _count); without
    // coalescing it would be 60 (two selectors per SLO).
    assert!(
        per_tick <= 4.0,
        "{per_tick} requests per tick for {} SLOs over 3 metric names",
        slos.len()
    );

    // Each SLO's own series: its 1h error ratio is what Prometheus computes for its selectors.
    let (_, body) = daemon.get("/metrics").expect("metrics");
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let mut wrong = BTreeMap::new();
    for (name, _, promql) in &slos {
        let id = format!(r#"sloth_id="checkout-{name}""#);
        let got = sum(&body, "slo:sli_error:ratio_rate1h", &[&id]);
        let want = prometheus.query(promql, at)[0].1;
        let rel = (got - want).abs() / want;
        if rel > 0.02 {
            wrong.insert(name.clone(), (got, want));
        }
    }
    assert!(
        wrong.is_empty(),
        "1h ratios off PromQL by more than 2% (burnwatch, Prometheus): {wrong:?}"
    );
    drop(exporter);
}
