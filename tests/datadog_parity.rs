//! The Datadog backend against a double of Datadog's v1 query API, answering from the same
//! ground truth a real Prometheus holds: burnwatch's figures must be the same from either.
//!
//! Ground truth: two routes of one service, counters moving on whole seconds (`/pay`: 50
//! requests a second, one error every 40 s, 10 errors a second during a 20-minute outage;
//! `/cart`: 20 a second, one error a minute), scraped every 60 s at 30 s past the minute. The
//! scraped samples are loaded into Prometheus with promtool; the double sums the same samples'
//! increments per rollup interval, as Datadog's `.rollup(sum, <interval>)` over an
//! `.as_count()` metric would, stamping each point with its interval's start. It serves the
//! documented format (`status`, `series[].pointlist` with `null` points, `interval`, `scope`,
//! `tag_set`), refuses more than 1,500 points per series, checks the keys (403), and sends the
//! documented rate-limit headers (`X-RateLimit-Limit/Period/Remaining/Reset`, 429 when none
//! remain).
//!
//! Checked: after a backfill at whole minutes, and at every live tick through the outage, the
//! Datadog runner's counts, error ratios and burn rates equal the Prometheus runner's to 1e-9
//! on every window, the page fires at the same tick on both; a storm of 429s during the live
//! ticks delays reads and loses no bucket; a key rotated to a wrong one (403) fails ticks
//! without any alert and with `burnwatch_backend_up 0`, and once it is right the gap is read
//! and both agree again; replay gives the same figures from both; an SLO budgeted by 5-minute
//! time slices has the same figures from both, slice by slice.
//!
//! Ticks land 20 s after a whole minute: the Datadog runner reads whole minutes that ended
//! 15 s ago, the Prometheus runner raw samples up to the tick, and no scrape falls between
//! (scrapes are at :30), so both hold the same buckets.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use burnwatch_engine::{Board, Entry};
use burnwatch_scheduler::{
    Backend, DatadogBackend, PrometheusBackend, SchedulerMetrics, SloRunner,
};
use burnwatch_tests::{Prometheus, PrometheusOptions};

const S: i64 = 1000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const API_KEY: &str = "dd-api-key-for-tests-0123456789";
const APP_KEY: &str = "dd-app-key-for-tests-9876543210";
const MAX_POINTS: i64 = 1500;
/// Requests per rate-limit window (of one second).
const RATE_LIMIT: u64 = 20;

/// The ground truth: counters of events in `(origin, t]`.
#[derive(Clone, Copy)]
struct Truth {
    /// Counters start at 0 here (a scrape time).
    origin: i64,
    /// The last scrape.
    end: i64,
    /// The outage `(start, end]`, whole seconds.
    outage: (i64, i64),
}

/// Whole seconds `n` with `a < n <= b` (ms) and `n % period == 0`.
fn seconds(a: i64, b: i64, period: i64) -> i64 {
    let count = |t: i64| t.div_euclid(S).div_euclid(period);
    if b <= a { 0 } else { count(b) - count(a) }
}

impl Truth {
    fn counter(&self, route: &str, errors: bool, t: i64) -> f64 {
        let (o, t) = (self.origin, t.min(self.end));
        if t <= o {
            return 0.0;
        }
        let n = match (route, errors) {
            ("/pay", false) => 50 * seconds(o, t, 1),
            ("/pay", true) => {
                let (a, b) = self.outage;
                seconds(o, t, 40) + 10 * seconds(a.max(o), t.min(b), 1)
            }
            (_, false) => 20 * seconds(o, t, 1),
            (_, true) => seconds(o, t, 60),
        };
        n as f64
    }

    /// The last scrape at or before `t` (scrapes at 30 s past every minute).
    fn scrape_at_or_before(t: i64) -> i64 {
        (t - 30 * S).div_euclid(M) * M + 30 * S
    }

    /// Events the scrapes in `(p, p + interval]` show: what a rollup sum holds.
    fn bucket(&self, route: &str, errors: bool, p: i64, interval: i64) -> Option<f64> {
        if p + interval <= self.origin || p + interval > self.end + M {
            return None;
        }
        let at = |t: i64| self.counter(route, errors, Self::scrape_at_or_before(t));
        Some(at(p + interval) - at(p))
    }

    fn openmetrics(&self) -> String {
        let mut out = String::new();
        for (family, errors) in [("http_requests", false), ("http_request_errors", true)] {
            out.push_str(&format!("# TYPE {family} counter\n"));
            for route in ["/pay", "/cart"] {
                let mut t = self.origin;
                while t <= self.end {
                    out.push_str(&format!(
                        "{family}_total{{service=\"checkout\",route=\"{route}\"}} {} {}\n",
                        self.counter(route, errors, t),
                        t / S
                    ));
                    t += M;
                }
            }
        }
        out.push_str("# EOF\n");
        out
    }
}

/// The double's state: its truth, its rate-limit window, a 429 storm on demand, and counts.
struct Double {
    truth: Truth,
    window: Mutex<(std::time::Instant, u64)>,
    storm: AtomicU64,
    requests: AtomicU64,
    throttled: AtomicU64,
    max_points_seen: AtomicU64,
}

fn rate_headers(remaining: u64, reset: u64) -> [(&'static str, String); 4] {
    [
        ("X-RateLimit-Limit", RATE_LIMIT.to_string()),
        ("X-RateLimit-Period", "1".to_string()),
        ("X-RateLimit-Remaining", remaining.to_string()),
        ("X-RateLimit-Reset", reset.to_string()),
    ]
}

fn with_headers(
    status: StatusCode,
    headers: [(&'static str, String); 4],
    body: String,
) -> Response {
    let mut response = (status, body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn query(
    State(double): State<Arc<Double>>,
    headers: HeaderMap,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    double.requests.fetch_add(1, Ordering::Relaxed);
    let key = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if key("DD-API-KEY") != API_KEY || key("DD-APPLICATION-KEY") != APP_KEY {
        return (StatusCode::FORBIDDEN, r#"{"errors":["Forbidden"]}"#).into_response();
    }
    let remaining = {
        let mut window = double.window.lock().unwrap();
        if window.0.elapsed() >= Duration::from_secs(1) {
            *window = (std::time::Instant::now(), 0);
        }
        window.1 += 1;
        RATE_LIMIT.saturating_sub(window.1)
    };
    let storm = double
        .storm
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok();
    if storm || remaining == 0 && double.window.lock().unwrap().1 > RATE_LIMIT {
        double.throttled.fetch_add(1, Ordering::Relaxed);
        let body = r#"{"errors":["Rate limit of 20 requests in 1 seconds reached."]}"#;
        return with_headers(
            StatusCode::TOO_MANY_REQUESTS,
            rate_headers(0, 1),
            body.into(),
        );
    }
    let (Some(from), Some(to), Some(q)) = (
        params.get("from").and_then(|v| v.parse::<i64>().ok()),
        params.get("to").and_then(|v| v.parse::<i64>().ok()),
        params.get("query"),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"errors":["from, to and query are required"]}"#,
        )
            .into_response();
    };
    let bad = |why: &str| {
        let body = serde_json::json!({ "errors": [why] }).to_string();
        with_headers(StatusCode::BAD_REQUEST, rate_headers(remaining, 1), body)
    };
    let Some(metric) = q.strip_prefix("sum:").and_then(|r| r.split('{').next()) else {
        return bad("Error parsing query: unable to parse");
    };
    let errors = match metric {
        "http.requests" => false,
        "http.requests.errors" => true,
        _ => return bad("Error parsing query: unknown metric"),
    };
    let Some(interval) = q
        .split(".rollup(sum, ")
        .nth(1)
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.parse::<i64>().ok())
    else {
        return bad("this double answers explicit rollups only");
    };
    let grouped = q.contains(" by {route}");
    let step = interval * S;
    let first = (from * S).div_euclid(step) * step;
    let points: Vec<i64> = (0..)
        .map(|i| first + i * step)
        .take_while(|p| *p < to * S)
        .collect();
    double
        .max_points_seen
        .fetch_max(points.len() as u64, Ordering::Relaxed);
    if points.len() as i64 > MAX_POINTS {
        return bad("Query returns too many points: narrow the time range or widen the rollup");
    }
    let routes: &[&[&str]] = if grouped {
        &[&["/pay"], &["/cart"]]
    } else {
        &[&["/pay", "/cart"]]
    };
    let series: Vec<serde_json::Value> = routes
        .iter()
        .map(|routes| {
            let pointlist: Vec<serde_json::Value> = points
                .iter()
                .map(|&p| {
                    let values: Option<Vec<f64>> = routes
                        .iter()
                        .map(|r| double.truth.bucket(r, errors, p, step))
                        .collect();
                    let value = values.map(|v| v.iter().sum::<f64>());
                    serde_json::json!([p as f64, value])
                })
                .collect();
            let tag_set: Vec<String> = if grouped {
                vec![format!("route:{}", routes[0])]
            } else {
                Vec::new()
            };
            let mut scope = vec!["service:checkout".to_string()];
            scope.extend(tag_set.iter().cloned());
            serde_json::json!({
                "metric": metric, "display_name": metric, "aggr": "sum",
                "interval": interval, "length": pointlist.len(),
                "scope": scope.join(","), "tag_set": tag_set, "expression": q,
                "start": first, "end": first + step * points.len() as i64 - 1,
                "pointlist": pointlist, "unit": null,
            })
        })
        .collect();
    let body = serde_json::json!({
        "status": "ok", "res_type": "time_series", "query": q,
        "from_date": from * S, "to_date": to * S, "group_by": if grouped { vec!["route"] } else { vec![] },
        "series": series, "message": "",
    });
    with_headers(StatusCode::OK, rate_headers(remaining, 1), body.to_string())
}

fn start_double(runtime: &tokio::runtime::Runtime, truth: Truth) -> (String, Arc<Double>) {
    let double = Arc::new(Double {
        truth,
        window: Mutex::new((std::time::Instant::now(), 0)),
        storm: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
        max_points_seen: AtomicU64::new(0),
    });
    let app = axum::Router::new()
        .route("/api/v1/query", axum::routing::get(query))
        .with_state(Arc::clone(&double));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await });
    (url, double)
}

const SLO_KEYS: &str =
    "service = \"checkout\"\nname = \"availability\"\nobjective = 99.9\ngroup_by = [\"route\"]\n";

/// The same SLI budgeted by 5-minute slices (good when 95% of its requests succeed).
const SLICED: &str = "service = \"checkout\"\nname = \"slices\"\nobjective = 99\ngroup_by = [\"route\"]\n\
                      budgeting = \"timeslices\"\nslice = \"5m\"\nslice_target = 95\n";

fn configs(prometheus: &str, datadog: &str) -> (burnwatch_spec::Config, burnwatch_spec::Config) {
    let env = |name: &str| match name {
        "DD_API_KEY" => Some(API_KEY.to_string()),
        "DD_APP_KEY" => Some(APP_KEY.to_string()),
        _ => None,
    };
    let p = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"{prometheus}\"\n\n[[slo]]\n{SLO_KEYS}\
         [slo.sli.ratio]\nerrors = 'http_request_errors_total{{service=\"checkout\"}}'\n\
         total = 'http_requests_total{{service=\"checkout\"}}'\n\n[[slo]]\n{SLICED}\
         [slo.sli.ratio]\nerrors = 'http_request_errors_total{{service=\"checkout\"}}'\n\
         total = 'http_requests_total{{service=\"checkout\"}}'\n"
    );
    let d = format!(
        "[backends.dd]\ntype = \"datadog\"\nsite = \"{datadog}\"\napi_key = \"${{DD_API_KEY}}\"\n\
         application_key = \"${{DD_APP_KEY}}\"\ntimeout = \"5s\"\n\n[[slo]]\n{SLO_KEYS}\
         [slo.sli.datadog]\nerrors = 'sum:http.requests.errors{{service:checkout}}.as_count()'\n\
         total = 'sum:http.requests{{service:checkout}}.as_count()'\n\n[[slo]]\n{SLICED}\
         [slo.sli.datadog]\nerrors = 'sum:http.requests.errors{{service:checkout}}.as_count()'\n\
         total = 'sum:http.requests{{service:checkout}}.as_count()'\n"
    );
    let parse = |text: &str| {
        burnwatch_spec::parse(text, Path::new("dd.toml"), &env)
            .unwrap_or_else(|e| panic!("config invalid:\n{e}\n{text}"))
    };
    (parse(&p), parse(&d))
}

/// The Datadog config with the API key read from `key_file` on every request.
fn config_with_key_file(datadog: &str, key_file: &Path) -> burnwatch_spec::Config {
    let text = format!(
        "[backends.dd]\ntype = \"datadog\"\nsite = \"{datadog}\"\napi_key_file = \"{}\"\n\
         application_key = \"${{DD_APP_KEY}}\"\n\n[[slo]]\n{SLO_KEYS}\
         [slo.sli.datadog]\nerrors = 'sum:http.requests.errors{{service:checkout}}.as_count()'\n\
         total = 'sum:http.requests{{service:checkout}}.as_count()'\n",
        key_file.display()
    );
    let env = |name: &str| (name == "DD_APP_KEY").then(|| APP_KEY.to_string());
    burnwatch_spec::parse(&text, Path::new("dd.toml"), &env).unwrap_or_else(|e| panic!("{e}"))
}

fn runner(slo: &burnwatch_spec::Slo, backend: Arc<dyn Backend>, board: &Arc<Board>) -> SloRunner {
    SloRunner::new(
        slo.clone(),
        backend,
        Arc::clone(board),
        Arc::new(SchedulerMetrics::unregistered()),
    )
}

/// Every instance's every window (the period too): counts, ratio and burn, to 1e-9; and the
/// firing alerts. Returns how many pages fire.
fn same_figures(prom: &Board, dd: &Board, context: &str) -> usize {
    let by_group = |board: &Board| -> BTreeMap<String, Arc<Entry>> {
        board
            .entries()
            .into_iter()
            .map(|e| (format!("{:?}", e.info.group), e))
            .collect()
    };
    let (p, d) = (by_group(prom), by_group(dd));
    assert_eq!(
        p.keys().collect::<Vec<_>>(),
        d.keys().collect::<Vec<_>>(),
        "{context}: instances differ"
    );
    assert_eq!(p.len(), 2, "{context}: one instance per route");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let mut pages = 0;
    for (group, pe) in &p {
        let de = &d[group];
        let windows = pe.eval.windows.iter().chain([&pe.eval.period.window]);
        for pw in windows {
            let dw = de.eval.window(pw.window).expect("same windows");
            let what = format!("{context} {group} {:?}", pw.window);
            assert!(
                close(pw.counts.total, dw.counts.total),
                "{what}: total {:?} vs {:?}",
                pw.counts,
                dw.counts
            );
            assert!(
                close(pw.counts.errors, dw.counts.errors),
                "{what}: errors {:?} vs {:?}",
                pw.counts,
                dw.counts
            );
            match (pw.burn_rate, dw.burn_rate) {
                (Some(a), Some(b)) => assert!(close(a, b), "{what}: burn {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{what}: burn"),
            }
        }
        let firing = |e: &Entry| {
            e.alerts
                .firing()
                .map(|a| format!("{:?}", a.kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(firing(pe), firing(de), "{context} {group}: alerts differ");
        pages += firing(pe).iter().filter(|k| k.contains("Page")).count();
    }
    pages
}

#[test]
fn datadog_figures_equal_prometheus_figures_from_the_same_truth() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let origin = (now / H) * H - 10 * H + 30 * S;
    let truth = Truth {
        origin,
        end: origin + 8 * H,
        outage: (origin + 6 * H + 30 * S, origin + 6 * H + 20 * M + 30 * S),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(truth.openmetrics()),
        ..Default::default()
    });
    let (dd_url, double) = start_double(&runtime, truth);
    let (p_config, d_config) = configs(prometheus.url(), &dd_url);
    let p_metrics = Arc::new(SchedulerMetrics::unregistered());
    let d_metrics = Arc::new(SchedulerMetrics::unregistered());
    let p_backend: Arc<dyn Backend> =
        Arc::new(PrometheusBackend::new(&p_config.backends["main"], p_metrics).unwrap());
    let d_backend: Arc<dyn Backend> =
        Arc::new(DatadogBackend::new(&d_config.backends["dd"], d_metrics).unwrap());

    // Backfill at whole minutes, fresh runners each time.
    let before = double.requests.load(Ordering::Relaxed);
    for at in [origin + 3 * H - 30 * S, origin + 6 * H + 15 * M - 30 * S] {
        let (pb, db) = (Arc::new(Board::new()), Arc::new(Board::new()));
        let mut p = runner(&p_config.slos[0], Arc::clone(&p_backend), &pb);
        let mut d = runner(&d_config.slos[0], Arc::clone(&d_backend), &db);
        runtime
            .block_on(p.backfill(at))
            .expect("prometheus backfill");
        runtime.block_on(d.backfill(at)).expect("datadog backfill");
        runtime.block_on(p.tick(at)).unwrap();
        runtime.block_on(d.tick(at)).unwrap();
        same_figures(&pb, &db, &format!("backfill at {at}"));
    }
    eprintln!(
        "datadog backfill: {} requests each (2 queries x 3 bucket levels), at most {} points in one",
        (double.requests.load(Ordering::Relaxed) - before) / 2,
        double.max_points_seen.load(Ordering::Relaxed),
    );
    assert!(
        double.max_points_seen.load(Ordering::Relaxed) <= MAX_POINTS as u64,
        "the backend asked for more points than the API gives"
    );

    // Live: ticks every minute, 20 s past it, from before the outage to an hour after; a storm
    // of 429s hits twice.
    let (pb, db) = (Arc::new(Board::new()), Arc::new(Board::new()));
    let mut p = runner(&p_config.slos[0], Arc::clone(&p_backend), &pb);
    let mut d = runner(&d_config.slos[0], Arc::clone(&d_backend), &db);
    let first = origin + 5 * H + 30 * M - 10 * S;
    let mut first_page = None;
    for i in 0..150 {
        let t = first + i * M;
        if i == 40 || i == 41 {
            // Six 429s in a row: every retry waits out X-RateLimit-Reset, nothing is skipped.
            double.storm.store(6, Ordering::Relaxed);
        }
        runtime.block_on(p.tick(t)).expect("prometheus tick");
        runtime
            .block_on(d.tick(t))
            .expect("datadog tick (429s are waited out)");
        let pages = same_figures(&pb, &db, &format!("live tick {i}"));
        if pages > 0 && first_page.is_none() {
            first_page = Some(i);
        }
    }
    let first_page = first_page.expect("the outage pages");
    eprintln!(
        "datadog double: {} requests, {} answered 429, at most {} points in one; page at live tick {first_page}",
        double.requests.load(Ordering::Relaxed),
        double.throttled.load(Ordering::Relaxed),
        double.max_points_seen.load(Ordering::Relaxed),
    );
    assert!(
        double.throttled.load(Ordering::Relaxed) >= 12,
        "the storm happened"
    );

    // Time slices: the same figures, slice by slice, through the outage.
    let (pb, db) = (Arc::new(Board::new()), Arc::new(Board::new()));
    let mut p = runner(&p_config.slos[1], Arc::clone(&p_backend), &pb);
    let mut d = runner(&d_config.slos[1], Arc::clone(&d_backend), &db);
    let mut sliced_pages = 0;
    for i in 0..60 {
        let t = first + 20 * M + i * M;
        runtime.block_on(p.tick(t)).expect("prometheus sliced tick");
        runtime.block_on(d.tick(t)).expect("datadog sliced tick");
        sliced_pages += same_figures(&pb, &db, &format!("sliced tick {i}"));
    }
    assert!(sliced_pages > 0, "bad slices page too");

    // Bad keys during the outage (the key file rotated to a wrong key): every tick fails with
    // a non-transient error, the backend is down, no alert changes state; once the key is
    // right again, the next tick reads the whole gap and both agree again, page included.
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dd-api-key");
    std::fs::write(&key_file, format!("{API_KEY}\n")).unwrap();
    let keyed = config_with_key_file(&dd_url, &key_file);
    let mut registry = prometheus_client::registry::Registry::default();
    let k_metrics = Arc::new(SchedulerMetrics::register(&mut registry));
    let k_backend: Arc<dyn Backend> =
        Arc::new(DatadogBackend::new(&keyed.backends["dd"], k_metrics).unwrap());
    let (pb, kb) = (Arc::new(Board::new()), Arc::new(Board::new()));
    let mut p = runner(&p_config.slos[0], Arc::clone(&p_backend), &pb);
    let mut k = runner(&keyed.slos[0], Arc::clone(&k_backend), &kb);
    let before = first + 30 * M;
    runtime.block_on(p.tick(before)).unwrap();
    runtime.block_on(k.tick(before)).unwrap();
    same_figures(&pb, &kb, "before the key rotation");
    std::fs::write(&key_file, "a-revoked-key\n").unwrap();
    for i in 1..=20 {
        let t = before + i * M;
        runtime.block_on(p.tick(t)).unwrap();
        let err = runtime
            .block_on(k.tick(t))
            .expect_err("a refused key fails the tick");
        assert!(!err.is_transient(), "{err}");
        assert!(
            !err.to_string().contains("revoked"),
            "the key never shows: {err}"
        );
        for entry in kb.entries() {
            assert_eq!(entry.alerts.firing().count(), 0, "no alert while blind");
        }
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("burnwatch_backend_up{backend=\"dd\"} 0"),
        "backend down while the key is refused:\n{text}"
    );
    assert!(
        pb.entries().iter().any(|e| e.alerts.firing().count() > 0),
        "Prometheus pages during the outage meanwhile"
    );
    std::fs::write(&key_file, API_KEY).unwrap();
    let back = before + 21 * M;
    runtime.block_on(p.tick(back)).unwrap();
    runtime.block_on(k.tick(back)).expect("the right key again");
    let pages = same_figures(&pb, &kb, "after the key is right again");
    assert!(pages > 0, "the page fires on both once the gap is read");

    // Replay over the outage: the same evaluation at every step from both.
    let replayed = |config: &burnwatch_spec::Config, backend: &Arc<dyn Backend>| {
        let board = Arc::new(Board::new());
        let mut r = runner(&config.slos[0], Arc::clone(backend), &board);
        let mut out: Vec<(i64, String, Vec<Option<f64>>)> = Vec::new();
        runtime
            .block_on(r.replay(
                origin + 6 * H - 30 * S,
                origin + 7 * H - 30 * S,
                Duration::from_secs(300),
                &mut |step| {
                    let burns = step.eval.windows.iter().map(|w| w.burn_rate).collect();
                    out.push((step.at, format!("{:?}", step.instance.group), burns));
                },
            ))
            .expect("replay");
        out
    };
    let (pr, dr) = (
        replayed(&p_config, &p_backend),
        replayed(&d_config, &d_backend),
    );
    assert_eq!(pr.len(), dr.len());
    assert!(pr.len() >= 24, "two instances, 13 steps");
    for ((pt, pg, pv), (dt, dg, dv)) in pr.iter().zip(&dr) {
        assert_eq!((pt, pg), (dt, dg));
        for (a, b) in pv.iter().zip(dv) {
            match (a, b) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                    "replay at {pt}: {a} vs {b}"
                ),
                _ => assert_eq!(a, b, "replay at {pt}"),
            }
        }
    }
    drop(prometheus);
}
