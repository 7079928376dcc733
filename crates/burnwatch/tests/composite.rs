//! Composite SLOs against a real Prometheus whose history promtool wrote.
//!
//! Three SLOs read 20 requests a second each, scraped every 15 s for three days and a few
//! hours: `shop-cart` (99.9%, one error every 100 s: burn 0.5), `shop-pay` (99%, one every 20 s:
//! burn 0.25, and a 40-minute outage where every request fails) and `shop-confirm` (99.5%, one
//! every 50 s: burn 0.4). `shop-journey` (99.5%) combines them with weights 2/1/1;
//! `shop-haunted` combines the same three and `shop-ghost`, an SLO whose selectors match no
//! series, with weight 5.
//!
//! `a_composite_burns_by_the_documented_formula_pages_and_answers_the_gate` checks, at the
//! backfill and after every minute of an hour of live ticks (the outage inside it):
//! - each composite window's error ratio and burn rate equal the formula of
//!   docs/configuration.md computed here from the components' error ratios, which PromQL reads
//!   exactly at the window's boundaries (`sum(x) - sum(x offset W)`), within 1e-9 (windows
//!   whose start is not on a boundary of the level serving them are interpolated by design and
//!   left out);
//! - `shop-haunted` has the same figures (the ghost is left out, not counted as clean) and
//!   reports the ghost missing in every window, on the API and as
//!   `burnwatch_composite_component_missing`;
//! - the composite's page fires at the first minute where the formula's burn rates exceed a
//!   page pair's factor in both windows, not before;
//! - `/metrics` exports the composite's Sloth series with the same figures, and the release
//!   gate (`/api/v1/slos/shop-journey/decision`) answers for it from its own status (approve
//!   at low risk, defer at high, an hour in while the 1h window still burns);
//! - `burnwatch replay --slo shop-journey` replays the components with it (not shown) and its
//!   figures at every 5-minute step equal the formula, with the outage paging it; `burnwatch
//!   report --slo shop-journey` reports it alone, with the outage as an incident.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_engine::{AlertKind, AlertState, Board, Decision, Evaluation, Risk, Status};
use burnwatch_http::{AppState, SloCollector, serve};
use burnwatch_scheduler::{Backend, PrometheusBackend, SchedulerMetrics, SloRunner};
use burnwatch_spec::Slo;
use burnwatch_tests::clock::{D, H, M, S, WINDOWS};
use burnwatch_tests::{Prometheus, PrometheusOptions};
use prometheus_client::registry::Registry;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const SCRAPE: i64 = 15 * S;
const PHASE: i64 = 6_200;
const PER_SECOND: i64 = 20;

/// One component: its name, objective (percent), weight in `shop-journey`, one error every
/// `every` seconds, and an outage `(start, end]` where every request fails.
struct Part {
    name: &'static str,
    objective: f64,
    weight: f64,
    every: i64,
    outage: Option<(i64, i64)>,
}

impl Part {
    /// Its counters at `t`: events of every whole second in `(origin, t]`.
    fn counters(&self, origin: i64, t: i64) -> (i64, i64) {
        let (mut total, mut errors) = (0, 0);
        for second in origin.div_euclid(S) + 1..=t.div_euclid(S) {
            total += PER_SECOND;
            let at = second * S;
            if self.outage.is_some_and(|(a, b)| a < at && at <= b) {
                errors += PER_SECOND;
            } else if second % self.every == 0 {
                errors += 1;
            }
        }
        (total, errors)
    }

    /// Its error ratio over `(at - w, at]` as PromQL reads it: counter values at the two
    /// boundaries (the last sample at or before each), differenced. Before the first sample
    /// the counter is 0 (its first sample is 0).
    fn promql_ratio(&self, prometheus: &Prometheus, at: i64, w: &str) -> Option<f64> {
        let delta = |metric: &str| {
            format!(
                "(sum(shop_{metric}_total{{slo=\"{0}\"}}) - (sum(shop_{metric}_total{{slo=\"{0}\"}} offset {w}) or vector(0)))",
                self.name
            )
        };
        let query = format!("{} / {}", delta("errors"), delta("requests"));
        let result = prometheus.query(&query, at as f64 / 1000.0);
        result.first().map(|r| r.1).filter(|r| r.is_finite())
    }
}

/// The documented formula: `B = Σ w_i·e_i/(1 - o_i) / Σ w_i` over components with a ratio,
/// `E = clamp(B·(1 - o_c), 0, 1)`; `(E, E / (1 - o_c))`.
fn formula(parts: &[(f64, f64, Option<f64>)], objective: f64) -> Option<(f64, f64)> {
    let budget = (100.0 - objective) / 100.0;
    let with: Vec<_> = parts
        .iter()
        .filter_map(|(w, o, e)| Some((w, o, (*e)?)))
        .collect();
    if with.is_empty() {
        return None;
    }
    let weights: f64 = with.iter().map(|(w, _, _)| **w).sum();
    let burn: f64 = with
        .iter()
        .map(|(w, o, e)| **w * e / ((100.0 - **o) / 100.0))
        .sum::<f64>()
        / weights;
    let ratio = (burn * budget).clamp(0.0, 1.0);
    Some((ratio, ratio / budget))
}

/// Per component: weight, objective (percent) and error ratio.
type Inputs = Vec<(f64, f64, Option<f64>)>;

/// The components' PromQL ratios over `label` before `at` (with weights and objectives), and
/// the formula's `(ratio, burn)` for `shop-journey` (99.5%) from them.
fn expected(parts: &[Part], prometheus: &Prometheus, at: i64, label: &str) -> (Inputs, (f64, f64)) {
    let inputs: Inputs = parts
        .iter()
        .map(|p| (p.weight, p.objective, p.promql_ratio(prometheus, at, label)))
        .collect();
    let figures = formula(&inputs, 99.5).expect("components have data");
    (inputs, figures)
}

/// Whether `(at - w, at]` starts on a boundary of the level that serves `w`.
fn aligned(at: i64, w: i64) -> bool {
    let resolution = match w {
        w if w <= 6 * H => M,
        w if w <= 3 * D => 10 * M,
        _ => H,
    };
    (at - w) % resolution == 0
}

fn figures(eval: &Evaluation, w: i64) -> burnwatch_engine::WindowFigures {
    *eval
        .window(Duration::from_millis(w as u64))
        .expect("window kept")
}

fn config(prometheus: &Prometheus, parts: &[Part]) -> String {
    let mut text = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\nperiod = \"30d\"\ninterval = \"30s\"\n\n",
        prometheus.url()
    );
    for part in parts {
        text.push_str(&format!(
            "[[slo]]\nservice = \"shop\"\nname = \"{0}\"\nobjective = {1}\n[slo.sli.ratio]\nerrors = 'shop_errors_total{{slo=\"{0}\"}}'\ntotal = 'shop_requests_total{{slo=\"{0}\"}}'\n\n",
            part.name, part.objective
        ));
    }
    text.push_str(
        "[[slo]]\nservice = \"shop\"\nname = \"ghost\"\nobjective = 99\n[slo.sli.ratio]\nerrors = 'shop_errors_total{slo=\"ghost\"}'\ntotal = 'shop_requests_total{slo=\"ghost\"}'\n\n",
    );
    let components: Vec<String> = parts
        .iter()
        .map(|p| format!("{{ slo = \"shop-{}\", weight = {} }}", p.name, p.weight))
        .collect();
    text.push_str(&format!(
        "[[composite]]\nservice = \"shop\"\nname = \"journey\"\nobjective = 99.5\ncomponents = [{}]\n\n",
        components.join(", ")
    ));
    text.push_str(&format!(
        "[[composite]]\nservice = \"shop\"\nname = \"haunted\"\nobjective = 99.5\ncomponents = [{}, {{ slo = \"shop-ghost\", weight = 5 }}]\n",
        components.join(", ")
    ));
    text
}

#[test]
fn a_composite_burns_by_the_documented_formula_pages_and_answers_the_gate() {
    // The live hour ends three hours before now, so every sample sits in a finished block.
    let t1 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        / H
        * H
        - 3 * H;
    let t0 = t1 - H;
    let origin = t0 - 3 * D - 2 * H;
    let end = t1 + 20 * M;
    let parts = [
        Part {
            name: "cart",
            objective: 99.9,
            weight: 2.0,
            every: 100,
            outage: None,
        },
        Part {
            name: "pay",
            objective: 99.0,
            weight: 1.0,
            every: 20,
            outage: Some((t0 + 5 * M, t0 + 45 * M)),
        },
        Part {
            name: "confirm",
            objective: 99.5,
            weight: 1.0,
            every: 50,
            outage: None,
        },
    ];
    let (mut requests, mut errors) = (String::new(), String::new());
    for part in &parts {
        let mut t = origin + PHASE;
        while t <= end {
            let (total, bad) = part.counters(origin + PHASE, t);
            let at = t as f64 / 1000.0;
            requests.push_str(&format!(
                "shop_requests_total{{slo=\"{}\"}} {total} {at:.3}\n",
                part.name
            ));
            errors.push_str(&format!(
                "shop_errors_total{{slo=\"{}\"}} {bad} {at:.3}\n",
                part.name
            ));
            t += SCRAPE;
        }
    }
    let history = format!(
        "# TYPE shop_requests counter\n{requests}# TYPE shop_errors counter\n{errors}# EOF\n"
    );
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(history),
        ..Default::default()
    });
    let text = config(&prometheus, &parts);
    let config = burnwatch_spec::parse(&text, Path::new("composite.toml"), &|_| None)
        .unwrap_or_else(|errors| panic!("test config invalid:\n{errors}"));
    let journey: &Slo = config.slos.iter().find(|s| s.id == "shop-journey").unwrap();
    let page_pairs: Vec<_> = burnwatch_spec::alert_policy(journey)
        .pairs
        .into_iter()
        .filter(|p| p.severity == burnwatch_engine::Severity::Page)
        .collect();

    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let backend: Arc<dyn Backend> = Arc::new(
        PrometheusBackend::new(&config.backends["main"], Arc::clone(&metrics)).expect("backend"),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let board = Arc::new(Board::new());
    // Composites come last in the configuration, so they tick after their components.
    let mut runners: Vec<SloRunner> = config
        .slos
        .iter()
        .map(|slo| {
            SloRunner::new(
                slo.clone(),
                Arc::clone(&backend),
                Arc::clone(&board),
                Arc::clone(&metrics),
            )
        })
        .collect();

    let mut failures = Vec::new();
    let mut compared = 0;
    let mut expected_page: Option<i64> = None;
    let mut fired: Option<i64> = None;
    let mut moments = vec![t0];
    moments.extend((1..=60).map(|k| t0 + k * M));
    for &at in &moments {
        for runner in &mut runners {
            runtime.block_on(runner.tick(at)).expect("tick");
        }
        let entry = |id: &str| {
            board
                .entries()
                .into_iter()
                .find(|e| e.info.slo.id == id)
                .unwrap_or_else(|| panic!("{id} not on the board"))
        };
        let (journey_entry, haunted) = (entry("shop-journey"), entry("shop-haunted"));
        let mut burns = std::collections::BTreeMap::new();
        for (label, w) in WINDOWS {
            if !aligned(at, w) {
                continue;
            }
            let (inputs, (ratio, burn)) = expected(&parts, &prometheus, at, label);
            burns.insert(w, burn);
            for (id, eval) in [
                ("shop-journey", &journey_entry.eval),
                ("shop-haunted", &haunted.eval),
            ] {
                let got = figures(eval, w);
                compared += 1;
                let (r, b) = (
                    got.error_ratio.unwrap_or(f64::NAN),
                    got.burn_rate.unwrap_or(f64::NAN),
                );
                if !((r - ratio).abs() <= 1e-9 && (b - burn).abs() <= 1e-9 * burn.max(1.0)) {
                    failures.push(format!(
                        "{id} {label} at t0+{}m: burnwatch ratio {r} burn {b}, formula ratio {ratio} burn {burn} (components {inputs:?})",
                        (at - t0) / M
                    ));
                }
            }
        }
        // The page condition as the formula says: some page pair with both windows above its
        // factor (strictly, as the engine compares).
        let holds = page_pairs.iter().any(|p| {
            let burn = |d: Duration| burns[&(d.as_millis() as i64)];
            burn(p.short) > p.factor && burn(p.long) > p.factor
        });
        if holds && expected_page.is_none() {
            expected_page = Some(at);
        }
        let page = journey_entry
            .alerts
            .all()
            .iter()
            .find(|a| a.kind == AlertKind::Page)
            .map(|a| a.state);
        if page == Some(AlertState::Firing) && fired.is_none() {
            fired = Some(at);
        }
    }
    eprintln!("{compared} composite window figures compared with the formula");
    assert!(compared > 500, "too few comparisons: {compared}");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let expected_page = expected_page.expect("the outage should page the composite by the formula");
    assert!(
        expected_page > t0 + 5 * M,
        "the formula pages only once the outage has begun"
    );
    assert_eq!(
        fired.map(|t| (t - t0) / M),
        Some((expected_page - t0) / M),
        "the composite's page fires at the minute the formula's burn rates cross a page pair's factor"
    );

    // What the daemon serves from this board: the Sloth series, the API and the gate.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SloCollector::new(Arc::clone(&board))));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let state =
        AppState::new(Arc::new(registry), Arc::new(|| Ok(()))).with_board(Arc::clone(&board));
    runtime.spawn(serve(listener, state, shutdown.clone()));
    let client = reqwest::blocking::Client::new();
    let get = |path: &str| {
        let response = client.get(format!("{url}{path}")).send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };

    let (status, body) = get("/metrics");
    assert_eq!(status, 200);
    let inputs: Vec<(f64, f64, Option<f64>)> = parts
        .iter()
        .map(|p| (p.weight, p.objective, p.promql_ratio(&prometheus, t1, "1h")))
        .collect();
    let (ratio, _) = formula(&inputs, 99.5).unwrap();
    let exported = sample(
        &body,
        "slo:sli_error:ratio_rate1h{",
        "sloth_id=\"shop-journey\"",
    )
    .unwrap_or_else(|| panic!("no 1h ratio for shop-journey in:\n{body}"));
    assert!(
        (exported - ratio).abs() <= 1e-9,
        "exported {exported}, formula {ratio}"
    );
    assert_eq!(
        sample(
            &body,
            "burnwatch_composite_component_missing{",
            "component=\"shop-ghost\""
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            "burnwatch_composite_component_missing{",
            "sloth_id=\"shop-haunted\",component=\"shop-pay\""
        ),
        Some(0.0),
        "{body}"
    );

    let (status, body) = get("/api/v1/slos/shop-haunted");
    assert_eq!(status, 200, "{body}");
    let view: Value = serde_json::from_str(&body).unwrap();
    let ghost = view["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["component"] == "shop-ghost")
        .unwrap_or_else(|| panic!("{view}"));
    assert_eq!(ghost["missing"], true, "{view}");
    assert_eq!(
        ghost["missing_windows"].as_array().unwrap().len(),
        8,
        "{view}"
    );
    assert_eq!(ghost["weight"], 5.0);

    // The engine's release matrix over the composite's own status: an hour in, the page has
    // resolved but the 1h window still burns faster than the budget allows.
    let entry = board
        .entries()
        .into_iter()
        .find(|e| e.info.slo.id == "shop-journey")
        .unwrap();
    let status = Status::of(&entry.eval, &entry.alerts);
    assert_eq!(status, Status::Attention);
    for risk in [Risk::Low, Risk::High] {
        let (code, body) = get(&format!(
            "/api/v1/slos/shop-journey/decision?risk={}",
            risk.as_str()
        ));
        assert_eq!(code, 200, "{body}");
        let decision: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(decision["slo"], "shop-journey", "{decision}");
        assert_eq!(decision["status"], status.as_str(), "{decision}");
        assert_eq!(
            decision["decision"],
            Decision::of(status, risk).as_str(),
            "{decision}"
        );
    }
    shutdown.cancel();

    // Replay of the composite alone: its components are replayed with it (not shown), and
    // every step's figures equal the formula over the components' PromQL ratios at that step.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("composite.toml");
    std::fs::write(&file, &text).unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_burnwatch"))
            .args(args)
            .arg("--config")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let (start, stop) = ((t0 / 1000).to_string(), (t1 / 1000).to_string());
    let out = run(&[
        "replay",
        "--slo",
        "shop-journey",
        "--start",
        &start,
        "--end",
        &stop,
        "--step",
        "5m",
        "--format",
        "json",
    ]);
    let (mut replayed, mut steps, mut episodes) = (0, 0, None);
    for line in out.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            row["slo"], "shop-journey",
            "only the composite is shown: {row}"
        );
        if row["type"] == "summary" {
            episodes = Some(row.clone());
            continue;
        }
        steps += 1;
        let at = burnwatch_spec::text::parse_time(row["time"].as_str().unwrap()).unwrap();
        for (label, w) in WINDOWS {
            if !aligned(at, w) {
                continue;
            }
            let (_, (ratio, burn)) = expected(&parts, &prometheus, at, label);
            let (r, b) = (
                row["error_ratio"][label].as_f64().unwrap_or(f64::NAN),
                row["burn_rate"][label].as_f64().unwrap_or(f64::NAN),
            );
            replayed += 1;
            assert!(
                (r - ratio).abs() <= 1e-9 && (b - burn).abs() <= 1e-9 * burn.max(1.0),
                "replay {label} at t0+{}m: ratio {r} burn {b}, formula {ratio} burn {burn}",
                (at - t0) / M
            );
        }
    }
    assert_eq!(steps, 13, "t0 to t1 every 5 minutes");
    assert!(replayed > 80, "too few replayed figures: {replayed}");
    let summary = episodes.expect("a summary line");
    assert!(
        summary["pages"].as_u64() >= Some(1),
        "the outage pages the replayed composite: {summary}"
    );

    // The report of the composite says so too.
    let report = run(&[
        "report",
        "--slo",
        "shop-journey",
        "--start",
        &start,
        "--end",
        &stop,
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&report).unwrap();
    let slos = report["slos"].as_array().expect("slos");
    assert_eq!(slos.len(), 1, "only the composite is reported: {report}");
    assert_eq!(slos[0]["slo"], "shop-journey");
    let components: Vec<(String, f64)> = slos[0]["components"]
        .as_array()
        .expect("a composite's report lists its components")
        .iter()
        .map(|c| {
            (
                c["slo"].as_str().unwrap().to_string(),
                c["weight"].as_f64().unwrap(),
            )
        })
        .collect();
    let written: Vec<(String, f64)> = parts
        .iter()
        .map(|p| (format!("shop-{}", p.name), p.weight))
        .collect();
    assert_eq!(components, written);
    assert!(
        !slos[0]["incidents"].as_array().unwrap().is_empty(),
        "the outage is an incident of the composite: {report}"
    );
}

/// The value of the first sample of `family` whose labels contain `matching`.
fn sample(body: &str, family: &str, matching: &str) -> Option<f64> {
    body.lines()
        .filter(|l| l.starts_with(family) && l.contains(matching))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}
