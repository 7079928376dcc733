//! The JSON API and status page over a board the test publishes to, served on a loopback port.
//!
//! - `api_lists_instances_with_status_and_figures`: every instance and the SLO without series are
//!   listed; status, budget minutes and window order come from the engine's evaluation.
//! - `grouped_instances_are_addressable_and_errors_are_json`: `checkout-latency{route="/pay"}`
//!   (percent-encoded) finds one instance, the bare grouped id is a 404 listing both, unknown ids
//!   404 and bad or missing `risk`/`window` 400, each with `{"error": ...}`.
//! - `the_gate_follows_the_matrix_and_the_worst_instance`: the decision for a grouped SLO is the
//!   worst instance's; every risk of a healthy SLO.
//! - `history_holds_the_published_points`: `?window=2h` returns the points of the last two hours
//!   with the budget each said, and the page episode.
//! - `pages_render_rows_charts_and_404s`: `/` has a row per instance with its status, the detail
//!   page two SVG charts with many points, an unknown id a 404 page.

use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    AlertPolicy, Alerts, Board, Counts, DEFAULT_WINDOWS, DataState, Entry, InstanceInfo, Millis,
    Observation, SharedState, SloInfo, SloState, SloStatus, Waiting,
};
use burnwatch_http::{AppState, serve};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const PERIOD: Duration = Duration::from_secs(30 * 86_400);
const M: Millis = 60_000;
const T0: Millis = 1_790_812_800_000; // 2026-10-01T00:00:00Z

fn slo(id: &str, objective: f64) -> Arc<SloInfo> {
    let (service, name) = id.split_once('-').unwrap();
    Arc::new(SloInfo {
        id: id.into(),
        service: service.into(),
        name: name.into(),
        objective: burnwatch_engine::Objective::from_ratio(objective),
        period: PERIOD,
        labels: vec![("team".into(), "payments".into())],
        description: None,
        alert_name: "SLOErrorBudgetBurn".into(),
        annotations: vec![],
        alert_extras: Default::default(),
    })
}

/// The minute up to `end`: 1,000 requests, `errors` of them failed.
fn minute_to(end: Millis, errors: f64) -> Observation {
    Observation::Events {
        start: end - M,
        end,
        counts: Counts {
            errors,
            total: 1000.0,
        },
    }
}

/// Publishes a day at `base` errors per 1000 requests, then an hour at `last_hour`, a minute at
/// a time, as the scheduler would: with the instance's buckets, from which the history is read.
fn publish(board: &Board, info: Arc<InstanceInfo>, base: f64, last_hour: f64) -> Entry {
    let state = SharedState::new(SloState::counted(
        info.slo.objective,
        PERIOD,
        &DEFAULT_WINDOWS,
    ));
    let policy = AlertPolicy::sre_workbook(PERIOD);
    let mut alerts = Alerts::new();
    let mut entry = None;
    for minute in 1..=25 * 60 {
        let end = T0 + minute * M;
        let errors = if minute > 24 * 60 { last_hour } else { base };
        let eval = {
            let mut state = state.lock();
            state.observe(minute_to(end, errors));
            state.evaluate(end)
        };
        alerts.eval(&policy, &eval);
        let e = Entry {
            info: Arc::clone(&info),
            eval,
            alerts: alerts.clone(),
        };
        board.publish_with_buckets(e.clone(), state.buckets().as_ref());
        entry = Some(e);
    }
    entry.unwrap()
}

struct Served {
    url: String,
    shutdown: CancellationToken,
    entries: Vec<Entry>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// availability (healthy), latency grouped by route (/pay critical, /cart healthy), and
/// search-availability without any series.
async fn served() -> Served {
    let board = Arc::new(Board::new());
    let availability = slo("checkout-availability", 0.999);
    let latency = slo("checkout-latency", 0.999);
    let instance = |slo: &Arc<SloInfo>, group: Vec<(String, String)>| {
        Arc::new(InstanceInfo {
            slo: Arc::clone(slo),
            group,
        })
    };
    let route = |r: &str| vec![("route".to_string(), r.to_string())];
    let entries = vec![
        publish(&board, instance(&availability, vec![]), 0.5, 0.5),
        publish(&board, instance(&latency, route("/pay")), 0.1, 20.0),
        publish(&board, instance(&latency, route("/cart")), 0.5, 0.5),
    ];
    for (info, instances) in [(&availability, 1), (&latency, 2)] {
        board.publish_slo(SloStatus {
            info: Arc::clone(info),
            data_state: DataState::Ok,
            instances,
            group_limit_reached: false,
        });
    }
    board.publish_slo(SloStatus {
        info: slo("search-availability", 0.99),
        data_state: DataState::NoData,
        instances: 0,
        group_limit_reached: false,
    });
    serve_board(board, entries).await
}

async fn serve_board(board: Arc<Board>, entries: Vec<Entry>) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let state = AppState::new(Arc::new(Registry::default()), Arc::new(|| Ok(()))).with_board(board);
    tokio::spawn(serve(listener, state, shutdown.clone()));
    let _ = rustls::crypto::ring::default_provider().install_default();
    Served {
        url,
        shutdown,
        entries,
    }
}

async fn get(served: &Served, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", served.url)).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn json(served: &Served, path: &str) -> (u16, Value) {
    let (status, body) = get(served, path).await;
    let value = serde_json::from_str(&body).unwrap_or_else(|err| panic!("{path}: {err}: {body}"));
    (status, value)
}

const PAY: &str = "checkout-latency%7Broute%3D%22%2Fpay%22%7D";

#[tokio::test]
async fn api_lists_instances_with_status_and_figures() {
    let served = served().await;
    let (status, body) = json(&served, "/api/v1/slos").await;
    assert_eq!(status, 200);
    let slos = body["slos"].as_array().unwrap();
    let ids: Vec<&str> = slos.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "checkout-availability",
            r#"checkout-latency{route="/cart"}"#,
            r#"checkout-latency{route="/pay"}"#,
            "search-availability"
        ]
    );
    let statuses: Vec<&str> = slos.iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["healthy", "healthy", "critical", "healthy"]);
    let availability = &slos[0];
    let eval = &served.entries[0].eval;
    assert_eq!(availability["objective"], 0.999);
    assert_eq!(availability["period"], "30d");
    assert_eq!(availability["labels"]["team"], "payments");
    assert_eq!(availability["data_state"], "ok");
    assert_eq!(
        availability["budget_remaining"].as_f64(),
        eval.period.budget_remaining
    );
    // Half the budget of 43.2 minutes.
    let minutes = availability["budget_remaining_minutes"].as_f64().unwrap();
    assert!((minutes - 21.6).abs() < 0.01, "{minutes}");
    assert_eq!(minutes, eval.budget_remaining_minutes().unwrap());
    let windows: Vec<&String> = availability["burn_rate"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(windows, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
    assert!(
        (availability["burn_rate"]["1h"].as_f64().unwrap() - 0.5).abs() < 1e-9,
        "{availability}"
    );
    // 25 hours published of a 30-day period: 90,000 s, 25 / 720 of it.
    assert_eq!(
        availability["period_covered_seconds"].as_f64(),
        Some(90_000.0)
    );
    let coverage = availability["period_coverage"].as_f64().unwrap();
    assert!((coverage - 25.0 / 720.0).abs() < 1e-12, "{coverage}");
    // Burning at 0.5x: half the budget lasts 0.5 * 30d / 0.5 = 30 days.
    assert_eq!(availability["exhaustion_eta"], "2026-11-01T01:00:00.000Z");
    assert_eq!(availability["evaluated_at"], "2026-10-02T01:00:00.000Z");
    let pay = &slos[2];
    assert_eq!(pay["labels"]["route"], "/pay");
    assert_eq!(pay["alerts"]["page"]["state"], "firing");
    assert!(
        pay["alerts"]["page"]["since"]
            .as_str()
            .unwrap()
            .starts_with("2026-10-02T00:")
    );
    // No ticket pair holds: the 1d and 3d windows stay below 3x and 1x.
    assert_eq!(pay["alerts"]["ticket"]["state"], "inactive");
    let search = &slos[3];
    assert_eq!(search["data_state"], "no_data");
    assert!(search["budget_remaining"].is_null() && search["evaluated_at"].is_null());
}

#[tokio::test]
async fn grouped_instances_are_addressable_and_errors_are_json() {
    let served = served().await;
    let (status, pay) = json(&served, &format!("/api/v1/slos/{PAY}")).await;
    assert_eq!(status, 200, "{pay}");
    assert_eq!(pay["id"], r#"checkout-latency{route="/pay"}"#);
    assert_eq!(pay["status"], "critical");

    let (status, grouped) = json(&served, "/api/v1/slos/checkout-latency").await;
    assert_eq!(status, 404);
    let message = grouped["error"].as_str().unwrap();
    assert!(
        message.contains(r#"checkout-latency{route="/cart"}"#) && message.contains("2 instances"),
        "{message}"
    );
    for path in [
        "/api/v1/slos/nope",
        "/api/v1/slos/nope/decision?risk=low",
        "/api/v1/slos/nope/history",
    ] {
        let (status, body) = json(&served, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("checkout-availability"),
            "{path}: {body}"
        );
    }
    for (path, needle) in [
        (
            "/api/v1/slos/checkout-availability/decision?risk=extreme",
            "extreme",
        ),
        (
            "/api/v1/slos/checkout-availability/decision",
            "risk is required",
        ),
        (
            "/api/v1/slos/checkout-availability/history?window=soon",
            "soon",
        ),
    ] {
        let (status, body) = json(&served, path).await;
        assert_eq!(status, 400, "{path}");
        assert!(
            body["error"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn the_gate_follows_the_matrix_and_the_worst_instance() {
    let served = served().await;
    let decision = |id: &'static str, risk: &'static str| {
        let served = &served;
        async move {
            let (status, body) =
                json(served, &format!("/api/v1/slos/{id}/decision?risk={risk}")).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let grouped = decision("checkout-latency", "low").await;
    // /pay pages: critical, and at low risk critical defers.
    assert_eq!(grouped["status"], "critical");
    assert_eq!(grouped["decision"], "defer");
    assert_eq!(grouped["instances"].as_array().unwrap().len(), 2);
    let rationale = grouped["rationale"].as_str().unwrap();
    assert!(
        rationale.contains(r#"checkout-latency{route="/pay"} is critical"#)
            && rationale.contains("firing: page")
            && rationale.contains("critical at low risk is defer"),
        "{rationale}"
    );
    let cart = decision("checkout-latency%7Broute%3D%22%2Fcart%22%7D", "high").await;
    assert_eq!(
        (cart["status"].as_str(), cart["decision"].as_str()),
        (Some("healthy"), Some("review"))
    );
    for (risk, want) in [
        ("low", "approve"),
        ("medium", "approve"),
        ("high", "review"),
    ] {
        let body = decision("checkout-availability", risk).await;
        assert_eq!(body["decision"], want, "{risk}: {body}");
        assert!(
            body["rationale"]
                .as_str()
                .unwrap()
                .contains("50.0% of the 30d error budget left"),
            "{body}"
        );
    }
    // No series: no evidence either way, and the gate fails closed instead of approving.
    for risk in ["low", "medium", "high"] {
        let (status, body) = json(
            &served,
            &format!("/api/v1/slos/search-availability/decision?risk={risk}"),
        )
        .await;
        assert_eq!(status, 503, "{risk}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains("no series") && error.contains("search-availability"),
            "{body}"
        );
        assert!(body.get("decision").is_none(), "{body}");
    }
}

#[tokio::test]
async fn history_holds_the_published_points() {
    let served = served().await;
    let (status, body) = json(&served, &format!("/api/v1/slos/{PAY}/history?window=2h")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["window"], "2h");
    assert_eq!(body["windows"].as_array().unwrap().len(), 8);
    let points = body["points"].as_array().unwrap();
    // A point a minute, 2h back from 01:00 inclusive: read from the minute buckets, then the
    // newest evaluations the trail keeps (published a minute apart).
    assert_eq!(points.len(), 121, "{}", points.len());
    assert_eq!(points.first().unwrap()["time"], "2026-10-01T23:00:00.000Z");
    assert_eq!(points.last().unwrap()["time"], "2026-10-02T01:00:00.000Z");
    let last = points.last().unwrap();
    assert_eq!(
        last["budget_remaining"].as_f64().map(|b| (b * 1e4).round()),
        served.entries[1]
            .eval
            .period
            .budget_remaining
            .map(|b| (b * 1e4).round()),
        "f32 storage keeps four digits"
    );
    // The 1h burn climbs during the last hour's 20x.
    let burn_1h = |p: &Value| p["burn_rate"]["1h"].as_f64().unwrap();
    assert!(burn_1h(&points[50]) < 1.0 && burn_1h(last) > 14.4, "{last}");
    let episodes = body["episodes"].as_array().unwrap();
    assert!(
        episodes
            .iter()
            .any(|e| e["alert"] == "page" && e["resolved_at"].is_null()),
        "{episodes:?}"
    );
}

#[tokio::test]
async fn pages_render_rows_charts_and_404s() {
    let served = served().await;
    let (status, html) = get(&served, "/").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("<tr data-id=").count(), 4, "{html}");
    assert!(
        html.contains(
            r#"data-id="checkout-latency{route=&quot;/pay&quot;}" data-status="critical""#
        ),
        "{html}"
    );
    assert!(html.contains(&format!(r#"href="/slos/{PAY}""#)));
    assert!(!html.contains("<script"), "no script");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched from elsewhere"
    );

    let (status, detail) = get(&served, &format!("/slos/{PAY}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail.matches("<svg").count(), 2, "{detail}");
    // Availability burns at 0.5x with half its budget left: gone in 30 days (above).
    let (_, availability) = get(&served, "/slos/checkout-availability").await;
    assert!(
        availability.contains("in 30d (2026-11-01 01:00 UTC)"),
        "{availability}"
    );
    // 25 hours is 1.04 days: the budget is said to rest on them.
    assert!(detail.contains("1.0 of 30 days observed"), "{detail}");
    assert_eq!(html.matches("of 30 days observed").count(), 3, "{html}");
    let budget = detail.split(r#"id="chart-budget""#).nth(1).unwrap();
    let d = budget
        .split(r#" d=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(d.matches('L').count() > 100, "{d}");
    // The charts say how fine their points are: read from the buckets at each level's size.
    assert!(
        detail.contains("a point every 1m over the last 6h, every 10m over the last 3d, every 1h over the last 30d; then the newest evaluations"),
        "{detail}"
    );
    assert!(detail.contains(r#"data-alert="page" data-state="firing""#));
    // The page fired at 00:44 and still fires: one bar on the timeline, on the page row.
    assert_eq!(detail.matches(r#"class="span" data-row="page""#).count(), 1);
    assert_eq!(detail.matches(r#"class="span""#).count(), 1);

    let (status, missing) = get(&served, "/slos/nope").await;
    assert_eq!(status, 404);
    assert!(missing.contains("unknown SLO"));
}

#[tokio::test]
async fn configured_slos_without_figures_are_listed_with_why() {
    let board = Arc::new(Board::new());
    let reading = slo("checkout-availability", 0.999);
    let failing = slo("search-availability", 0.99);
    board.publish_waiting(&reading, Waiting::Backfilling);
    board.publish_waiting(
        &failing,
        Waiting::Unreachable("transport error: connection refused".into()),
    );
    let served = serve_board(board.clone(), Vec::new()).await;

    let (status, body) = json(&served, "/api/v1/slos").await;
    assert_eq!(status, 200);
    let slos = body["slos"].as_array().unwrap();
    let seen: Vec<(&str, &str, &Value)> = slos
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
                &s["backend_error"],
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("checkout-availability", "backfilling", &Value::Null),
            (
                "search-availability",
                "unreachable",
                &json!("transport error: connection refused")
            ),
        ]
    );
    let (status, one) = json(&served, "/api/v1/slos/search-availability").await;
    assert_eq!(status, 200);
    assert_eq!(one["status"], "unreachable");

    let (_, html) = get(&served, "/").await;
    assert_eq!(html.matches("<tr data-id=").count(), 2, "{html}");
    assert!(html.contains(r#"data-id="checkout-availability" data-status="backfilling""#));
    assert!(
        html.contains("backend: transport error: connection refused"),
        "{html}"
    );
    let (status, detail) = get(&served, "/slos/checkout-availability").await;
    assert_eq!(status, 200);
    assert!(detail.contains("none yet: reading its history"), "{detail}");

    // Its first figures end the wait; a late word of waiting does not bring it back.
    board.publish_slo(SloStatus::unknown(Arc::clone(&reading)));
    board.publish_waiting(&reading, Waiting::Backfilling);
    let (_, body) = json(&served, "/api/v1/slos").await;
    let reading = body["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "checkout-availability")
        .unwrap()
        .clone();
    assert_eq!(reading["status"], "healthy");
    assert_eq!(reading["data_state"], "no_data");
}

fn span(
    start: Millis,
    end: Millis,
    origin: burnwatch_engine::Origin,
    exclude: bool,
    silence: bool,
) -> burnwatch_engine::ExclusionSpan {
    burnwatch_engine::ExclusionSpan {
        start,
        end,
        origin,
        reason: "planned".into(),
        exclude,
        silence,
    }
}

fn maintenance(name: &str) -> burnwatch_engine::Origin {
    burnwatch_engine::Origin::Maintenance { name: name.into() }
}

/// Two hours of 1,000 requests a minute at 99% with one error a minute and a 20-minute outage
/// (every request failing) from minute 50, under these spans from a `FixedSpans` source: a
/// maintenance window over the outage (excluded and silenced), a load-test correction over
/// minutes 90 to 100 (excluded), a freeze over minutes 110 to 115 (silenced only) and an old
/// window 31 days back (in the runner's reach, outside the period). The runner's part (ask the
/// sources, hand the excluded spans to the state, publish the spans) done as it does it.
async fn served_with_exclusions() -> Served {
    use burnwatch_engine::{Exclusions, FixedSpans, Origin, excluded_of};
    let board = Arc::new(Board::new());
    let info = slo("checkout-availability", 0.99);
    let exclusions = Exclusions::new();
    exclusions.set(
        "test",
        Arc::new(FixedSpans(vec![
            span(
                T0 + 50 * M,
                T0 + 70 * M,
                maintenance("db-upgrade"),
                true,
                true,
            ),
            span(
                T0 + 90 * M,
                T0 + 100 * M,
                Origin::Correction {
                    id: "c1".into(),
                    category: "load_test".into(),
                },
                true,
                false,
            ),
            span(
                T0 + 110 * M,
                T0 + 115 * M,
                maintenance("freeze"),
                false,
                true,
            ),
            span(
                T0 - 31 * 1440 * M,
                T0 - 30 * 1440 * M - 60 * M,
                maintenance("old"),
                true,
                true,
            ),
        ])),
    );
    let now = T0 + 120 * M;
    let reach = (PERIOD.as_millis() as Millis) + 1440 * M;
    let spans = exclusions.spans(&info, now - reach, now + 1440 * M);
    assert_eq!(spans.len(), 4, "the old window is in the runner's reach");
    let mut state = SloState::counted(info.objective, PERIOD, &DEFAULT_WINDOWS);
    state.exclude(excluded_of(&spans));
    let instance = Arc::new(InstanceInfo {
        slo: Arc::clone(&info),
        group: vec![],
    });
    let mut entry = None;
    for minute in 1..=120 {
        let end = T0 + minute * M;
        let errors = if (51..=70).contains(&minute) {
            1000.0
        } else {
            1.0
        };
        state.observe(minute_to(end, errors));
        let e = Entry {
            info: Arc::clone(&instance),
            eval: state.evaluate(end),
            alerts: Alerts::new(),
        };
        board.publish(e.clone());
        entry = Some(e);
    }
    board.publish_spans(&info.id, &spans);
    board.publish_slo(SloStatus {
        info,
        data_state: DataState::Ok,
        instances: 1,
        group_limit_reached: false,
    });
    serve_board(board, vec![entry.unwrap()]).await
}

#[tokio::test]
async fn instances_give_their_excluded_time_and_the_spans_of_the_period() {
    let served = served_with_exclusions().await;
    let (status, view) = json(&served, "/api/v1/slos/checkout-availability").await;
    assert_eq!(status, 200, "{view}");
    // 30 excluded minutes (20 of outage, 10 of load test) of the 120.
    assert_eq!(view["excluded_seconds"], json!(1800.0));
    // What counts: 90 minutes at 1 error in 1,000, an error ratio of 0.1% against a 1% budget.
    let budget = view["budget_remaining"].as_f64().unwrap();
    assert!((budget - 0.9).abs() < 1e-9, "{budget}");
    // The old window lies outside the period and is not listed; the silence-only one is.
    assert_eq!(
        view["exclusions"],
        json!([
            {"start": "2026-10-01T00:50:00.000Z", "end": "2026-10-01T01:10:00.000Z",
             "source": "maintenance", "name": "db-upgrade", "reason": "planned",
             "exclude": true, "silence": true},
            {"start": "2026-10-01T01:30:00.000Z", "end": "2026-10-01T01:40:00.000Z",
             "source": "correction", "id": "c1", "category": "load_test", "reason": "planned",
             "exclude": true, "silence": false},
            {"start": "2026-10-01T01:50:00.000Z", "end": "2026-10-01T01:55:00.000Z",
             "source": "maintenance", "name": "freeze", "reason": "planned",
             "exclude": false, "silence": true},
        ])
    );
    let (_, list) = json(&served, "/api/v1/slos").await;
    assert_eq!(list["slos"][0]["exclusions"], view["exclusions"]);
}

#[tokio::test]
async fn the_detail_page_shades_and_lists_the_spans() {
    let served = served_with_exclusions().await;
    let (status, html) = get(&served, "/slos/checkout-availability").await;
    assert_eq!(status, 200);
    // Both charts: two excluded bands and one silenced band each, and a legend entry for each.
    assert_eq!(
        html.matches(r#"class="band" data-name="excluded""#).count(),
        4
    );
    assert_eq!(
        html.matches(r#"class="band" data-name="silenced""#).count(),
        2
    );
    assert_eq!(html.matches(r#"<span class="band">"#).count(), 4, "{html}");
    // The list, newest first, in the page's time format.
    let rows: Vec<&str> = html.split("<tr data-effect=").skip(1).collect();
    assert_eq!(rows.len(), 3, "{html}");
    assert!(rows[0].starts_with(r#""silenced""#) && rows[0].contains("maintenance freeze"));
    assert!(rows[1].contains("correction c1 (load_test)") && rows[1].contains(">10m<"));
    assert!(
        rows[2].contains("2026-10-01 00:50:00 UTC")
            && rows[2].contains("2026-10-01 01:10:00 UTC")
            && rows[2].contains(">20m<")
            && rows[2].contains("excluded, silenced"),
        "{}",
        rows[2]
    );
}
