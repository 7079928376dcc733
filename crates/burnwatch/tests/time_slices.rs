//! Time-slice budgeting, threshold SLIs and bool-gauge SLIs end to end: `burnwatch replay` (and
//! `burnwatch report`) against a real Prometheus holding a few hours of history that promtool
//! wrote, every figure compared with Prometheus' own evaluation of PromQL written out here.
//!
//! Prometheus 2.42 selects both ends of a range (`[t - r, t]`), so samples sit 7.5 s off every
//! minute (scrapes every 15 s at :07.5, :22.5, ...) and the per-window subqueries use a range one
//! second short of the window (`[59m59s:1m]` for 1h): their points are the slice ends in
//! `(t - W, t]`, exactly the slices burnwatch's window holds.
//!
//! - `time_slices_over_a_ratio_sli_equal_prometheus_subqueries`: the checkout availability SLI
//!   (counters) at 99% of minutes with a slice target of 95%, through steady traffic (0.5%
//!   errors), an outage (20%), a slow burn (2%: good slices, though it burns under
//!   occurrences), 30 minutes of zero traffic (slices with no data, neither good nor bad) and a
//!   short outage (50%). Every replayed step's error ratio and burn rate on every window (5m ..
//!   the 30d period) equal `1 - sum_over_time((R >= bool 0.95)[W:1m]) / count_over_time(R[W:1m])`
//!   to 1e-9, where R is a slice's good ratio read as burnwatch reads counters (`x - x offset 1m`,
//!   the value at or before each boundary) and is absent for a slice without events; and a
//!   `ratio_timeslices` twin's equal `1 - avg_over_time(R[W:1m])`. Phase edges sit on scrapes,
//!   so every slice is pure, and PromQL checks that no slice's ratio is within 1% of the target.
//! - `threshold_and_bool_gauge_slis_count_slices_as_promql_does`: a p99 threshold
//!   (`histogram_quantile(0.99, ...) < 0.3`) over a latency regression, a freshness threshold
//!   (`time() - etl_last_success_timestamp_seconds < 1200`, 5-minute slices) over an hour of
//!   failed batch runs, and an `up` bool gauge (two instances, an outage of one, scattered
//!   single failed probes) under time slices (slice target 80%) and occurrences (per sample);
//!   and the p99 threshold per route (`group_by = ["route"]`), each route its own instance.
//!   At every step that ends a slice (every minute; every fifth for the 5-minute slices, where
//!   each window holds whole slices), the error ratio and burn rate on every window equal the
//!   PromQL subqueries
//!   (`(Q < bool 0.3)` evaluated at each slice end; per sample `sum(sum_over_time(up[W])) /
//!   sum(count_over_time(up[W]))`) to 1e-9, and `burnwatch report`'s events over five hours are
//!   the good/total slices (samples) PromQL counts.
//! - `a_latency_regression_pages_under_time_slices_and_not_under_occurrences`: an hour in which
//!   2% of requests are slower than 0.3 s. The occurrences latency SLO at 99% burns at 2x on
//!   the hour (PromQL's `rate()` ratio, to 1e-6) and never pages; the time-slice SLO "p99 under
//!   0.3 s in 99% of minutes" has every minute of the regression bad and pages, its page
//!   condition at every step being exactly the SRE Workbook pairs (5m/1h over 14.4, 30m/6h over
//!   6) applied to the PromQL ratios.
//! - `bool_gauge_samples_on_slice_boundaries_count_once`: an `up` scraped exactly on the quarter
//!   minutes, 0 on the whole minute in ten minutes: each sample belongs to the one slice
//!   `(T - 1m, T]` that holds it, so every minute is 3 of 4 good (a good slice at 70%) and the
//!   hour's samples are 10 of 240 bad; replay's ratios equal PromQL's over ranges a millisecond
//!   short of each window (`[59m59s999ms]`), since Prometheus 2.42 selects both ends.
//! - `a_time_slice_composite_is_bad_where_any_component_is`: a `[[composite]]` with `budgeting =
//!   "timeslices"` over an availability and a latency time-slice SLO whose bad minutes differ
//!   (20 bad for one alone, 30 for the other, 20 for both): every replayed window's error ratio
//!   equals PromQL's share of minutes where either component's slice misses its 95% target.
//! - `live_the_daemon_pages_the_regression_under_time_slices_only`: the same regression, still
//!   going on, in history up to now; a `burnwatch run` daemon with a webhook receiver shows the
//!   time-slice SLO's 5m and 1h error ratios at 1 (every minute bad) and pages for it, while
//!   the occurrences SLO's 1h ratio is PromQL's 2% and it does not page; a time-slice
//!   composite of the p99 SLO and an availability time-slice SLO with no bad minute has every
//!   minute bad (1h ratio 1), its availability component none (0).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario, render_openmetrics_history};
use burnwatch_tests::{Daemon, Prometheus, PrometheusOptions, free_port, http_client};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const M: i64 = 60;
const H: i64 = 3600;
/// Scrapes every 15 s, 7.5 s after each quarter minute's start: never on a slice boundary.
const SCRAPE: f64 = 15.0;
const SCRAPE_PHASE: f64 = 7.5;

/// The windows of the default policy and the 30-day period, as replay names them.
const WINDOWS: [(&str, i64); 8] = [
    ("5m", 5 * M),
    ("30m", 30 * M),
    ("1h", H),
    ("2h", 2 * H),
    ("6h", 6 * H),
    ("1d", 24 * H),
    ("3d", 72 * H),
    ("30d", 720 * H),
];

const TOTAL: &str = r#"http_requests_total{service="checkout"}"#;
const ERRORS: &str = r#"http_requests_total{service="checkout",code=~"5.."}"#;
const P99: &str = r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout"}[5m])))"#;
/// The p99 per route, for a threshold SLI grouped by route.
const P99_ROUTE: &str = r#"histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{service="checkout"}[5m])))"#;
const FRESHNESS: &str = r#"time() - etl_last_success_timestamp_seconds{job="etl"}"#;
const UP: &str = r#"up{job="api"}"#;

/// The start of the history: a whole hour, twelve hours before now, so every sample is in the
/// past and in a finished block.
fn origin() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now / H * H - 12 * H
}

/// `s + minutes`, less 7.5 s: the scrape just before that minute. A phase starting there is
/// seen whole by the slices after the minute, whether they are read at boundaries (the last
/// sample at or before each) or from the samples inside.
fn edge(s: i64, minutes: i64) -> f64 {
    (s + minutes * M) as f64 - SCRAPE_PHASE
}

/// The checkout history from `s - 1m` to `end`, scraped every 15 s off the minute.
fn checkout_history(scenario: &Scenario, s: i64, end: i64) -> String {
    render_openmetrics_history(scenario, (s - M) as f64 + SCRAPE_PHASE, end as f64, SCRAPE)
}

/// Prometheus' duration for `seconds` (`59m59s`, `29d23h59m59s`).
fn duration(seconds: i64) -> String {
    let mut out = String::new();
    let mut rest = seconds;
    for (unit, size) in [("d", 24 * H), ("h", H), ("m", M), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// `[W - 1s:slice]`: the slice ends in `(t - W, t]` (Prometheus 2.42 includes both ends).
fn slices(window: i64, slice: i64) -> String {
    format!("[{}:{}]", duration(window - 1), duration(slice))
}

/// `query_range` of a query without labels over `[start, end]` at 1-minute steps: value per
/// timestamp (NaN as Prometheus says); steps without a value are absent.
fn query_range(prometheus: &Prometheus, query: &str, start: i64, end: i64) -> BTreeMap<i64, f64> {
    let mut series = query_range_by(prometheus, query, start, end, "route");
    assert!(series.len() <= 1, "{query} has several series: {series:?}");
    series.remove("").unwrap_or_default()
}

/// `query_range` per value of `label` (`""` where a series has none).
fn query_range_by(
    prometheus: &Prometheus,
    query: &str,
    start: i64,
    end: i64,
    label: &str,
) -> BTreeMap<String, BTreeMap<i64, f64>> {
    let body: Value = http_client()
        .post(format!("{}/api/v1/query_range", prometheus.url()))
        .form(&[
            ("query", query.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", M.to_string()),
        ])
        .send()
        .and_then(|r| r.json())
        .unwrap_or_else(|err| panic!("query_range {query} failed: {err}"));
    assert_eq!(body["status"], "success", "query_range {query}: {body}");
    let mut out: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    for series in body["data"]["result"].as_array().unwrap() {
        let value = series["metric"][label].as_str().unwrap_or("").to_string();
        let points = out.entry(value).or_default();
        for pair in series["values"].as_array().unwrap() {
            let t = pair[0].as_f64().unwrap() as i64;
            let v = pair[1].as_str().unwrap();
            points.insert(
                t,
                if v == "NaN" {
                    f64::NAN
                } else {
                    v.parse().unwrap()
                },
            );
        }
    }
    out
}

/// The one value of an instant query without labels.
fn query_one(prometheus: &Prometheus, query: &str, at: i64) -> f64 {
    let result = prometheus.query(query, at as f64);
    assert_eq!(result.len(), 1, "{query} at {at}: {result:?}");
    result[0].1
}

fn burnwatch(args: &[&str]) -> String {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "burnwatch {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn write_config(dir: &Path, prometheus: &Prometheus, slos: &str) -> PathBuf {
    let path = dir.join("slices.toml");
    std::fs::write(
        &path,
        format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\nperiod = \"30d\"\n\n{slos}",
            prometheus.url()
        ),
    )
    .unwrap();
    path
}

fn unix(rfc3339: &str) -> i64 {
    humantime::parse_rfc3339(rfc3339)
        .unwrap_or_else(|err| panic!("{rfc3339}: {err}"))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `burnwatch replay --format json` at 1-minute steps: step lines per SLO id, and summaries.
struct Replay {
    steps: BTreeMap<String, BTreeMap<i64, Value>>,
    summaries: BTreeMap<String, Value>,
}

fn replay(config: &Path, start: i64, end: i64) -> Replay {
    let out = burnwatch(&[
        "replay",
        "--config",
        config.to_str().unwrap(),
        "--start",
        &start.to_string(),
        "--end",
        &end.to_string(),
        "--step",
        "1m",
        "--format",
        "json",
    ]);
    let mut replay = Replay {
        steps: BTreeMap::new(),
        summaries: BTreeMap::new(),
    };
    for line in out.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}"));
        // An instance of a grouped SLO by its route: `checkout-p99-route{/pay}`.
        let mut slo = v["slo"].as_str().unwrap().to_string();
        if let Some(route) = v["labels"]["route"].as_str() {
            slo.push_str(&format!("{{{route}}}"));
        }
        match v["type"].as_str() {
            Some("step") => {
                let t = unix(v["time"].as_str().unwrap());
                replay.steps.entry(slo).or_default().insert(t, v);
            }
            Some("summary") => {
                replay.summaries.insert(slo, v);
            }
            other => panic!("unexpected line type {other:?}: {line}"),
        }
    }
    replay
}

/// Compares the error ratio and burn rate on every window with `want(window)`, the PromQL error
/// ratio per step (absent: no slice with data, so no ratio), at every step that ends a slice of
/// `slice` seconds: there every window holds whole slices. Returns how many figures had a ratio.
fn compare(
    replay: &Replay,
    slo: &str,
    (objective, slice): (f64, i64),
    s: i64,
    mut want: impl FnMut(i64) -> BTreeMap<i64, f64>,
    failures: &mut Vec<String>,
) -> usize {
    let steps = replay
        .steps
        .get(slo)
        .unwrap_or_else(|| panic!("replay has no steps of {slo}"));
    let mut compared = 0;
    for (label, window) in WINDOWS {
        let want = want(window);
        for (t, step) in steps.iter().filter(|(t, _)| *t % slice == 0) {
            let what = format!("{slo} {label} at s+{}m", (t - s) / M);
            let got = step["error_ratio"][label].as_f64();
            let burn = step["burn_rate"][label].as_f64();
            match (want.get(t).copied(), got, burn) {
                (None, None, None) => {}
                (Some(w), Some(g), Some(b)) => {
                    compared += 1;
                    let want_burn = w / (1.0 - objective);
                    if (g - w).abs() > 1e-9 || (b - want_burn).abs() > 1e-9 * want_burn.max(1.0) {
                        failures.push(format!(
                            "{what}: error ratio {g}, burn {b}; PromQL {w}, burn {want_burn}"
                        ));
                    }
                }
                (w, g, b) => failures.push(format!(
                    "{what}: error ratio {g:?}, burn {b:?}; PromQL {w:?} ({step})"
                )),
            }
        }
    }
    compared
}

fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A slice's events read at its boundaries, as burnwatch reads counters: `sum(x) - sum(x offset
/// 1m)` (no resets in these scenarios).
fn slice_increase(selector: &str) -> String {
    format!("(sum({selector}) - sum({selector} offset 1m))")
}

/// The good ratio of the slice ending at the evaluation time; absent when it had no events.
fn slice_good_ratio() -> String {
    format!(
        "(1 - {} / ({} > 0))",
        slice_increase(ERRORS),
        slice_increase(TOTAL)
    )
}

#[test]
fn time_slices_over_a_ratio_sli_equal_prometheus_subqueries() {
    let s = origin();
    // 20 requests a second; errors per phase. Nothing before s (a minute of silence, so the
    // first slice has a boundary value to start from).
    let phase = |minutes, rps, errors| Phase::steady(edge(s, minutes), rps, errors, 0.0);
    let scenario = Scenario::checkout(vec![
        Phase::steady((s - M) as f64, 0.0, 0.0, 0.0),
        phase(0, 20.0, 0.005),
        phase(120, 20.0, 0.2), // outage, 25 minutes: bad slices
        phase(145, 20.0, 0.005),
        phase(200, 20.0, 0.02), // slow burn, an hour: good slices, 2x under occurrences
        phase(260, 0.0, 0.0),   // zero traffic, 30 minutes: no slices
        phase(290, 20.0, 0.005),
        phase(330, 20.0, 0.5), // short outage, 10 minutes
        phase(340, 20.0, 0.005),
    ]);
    let end = s + 6 * H;
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(checkout_history(&scenario, s, end)),
        ..Default::default()
    });

    // The scenario as PromQL sees it: 360 minutes, 30 of them without traffic, 35 bad; no
    // slice's good ratio within 1% of the 95% target.
    let r = slice_good_ratio();
    let all = slices(6 * H, M);
    assert_eq!(
        query_one(&prometheus, &format!("count_over_time({r}{all})"), end),
        330.0
    );
    assert_eq!(
        query_one(
            &prometheus,
            &format!("sum_over_time(({r} < bool 0.95){all})"),
            end
        ),
        35.0
    );
    let margin = query_one(
        &prometheus,
        &format!("min_over_time(abs({r} - 0.95){all})"),
        end,
    );
    assert!(margin > 0.01, "a slice's ratio is {margin} from the target");

    let slo = |name: &str, budgeting: &str, target: &str| {
        format!(
            "[[slo]]\nservice = \"checkout\"\nname = \"{name}\"\nobjective = 99\nbudgeting = \"{budgeting}\"\nslice = \"1m\"\n{target}[slo.sli.ratio]\nerrors = '{ERRORS}'\ntotal = '{TOTAL}'\n\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &prometheus,
        &format!(
            "{}{}",
            slo("minutes", "timeslices", "slice_target = 95\n"),
            slo("minutes-mean", "ratio_timeslices", "")
        ),
    );
    let (start, stop) = (s + H, end);
    let replay = replay(&config, start, stop);
    let mut failures = Vec::new();
    let good = compare(
        &replay,
        "checkout-minutes",
        (0.99, M),
        s,
        |w| {
            query_range(
                &prometheus,
                &format!(
                    "1 - sum_over_time(({r} >= bool 0.95){0}) / count_over_time({r}{0})",
                    slices(w, M)
                ),
                start,
                stop,
            )
        },
        &mut failures,
    );
    let mean = compare(
        &replay,
        "checkout-minutes-mean",
        (0.99, M),
        s,
        |w| {
            query_range(
                &prometheus,
                &format!("1 - avg_over_time({r}{})", slices(w, M)),
                start,
                stop,
            )
        },
        &mut failures,
    );
    eprintln!("compared {good} timeslices and {mean} ratio_timeslices (step, window) figures");
    assert_no_failures(&failures);
    // 301 steps, 8 windows; the 5m window is empty from 5 minutes into the zero traffic.
    assert!(good > 2300 && mean > 2300, "{good} {mean}");
}

/// Checkout traffic at 20 requests a second with a latency regression (2% slower than 0.3 s)
/// from s+3h to s+4h, and 0.2% otherwise.
fn regression(s: i64) -> Scenario {
    let phase = |minutes, slow| Phase::steady(edge(s, minutes), 20.0, 0.001, slow);
    Scenario::checkout(vec![phase(0, 0.002), phase(180, 0.02), phase(240, 0.002)])
}

/// A batch job that succeeds every 10 minutes (at 2m33s past each tenth minute) except from
/// s+150m to s+230m; its last-success gauge scraped every 15 s off the minute.
fn freshness_history(s: i64, end: i64) -> String {
    let successes: Vec<i64> = (0..)
        .map(|k| s - H + k * 10 * M + 2 * M + 33)
        .take_while(|t| *t <= end)
        .filter(|t| !(s + 150 * M < *t && *t < s + 230 * M))
        .collect();
    let mut out = String::from("# TYPE etl_last_success_timestamp_seconds gauge\n");
    let mut t = (s - M) as f64 + SCRAPE_PHASE;
    while t <= end as f64 {
        let last = successes.iter().rev().find(|at| **at as f64 <= t).unwrap();
        out.push_str(&format!(
            "etl_last_success_timestamp_seconds{{job=\"etl\"}} {last} {t:.3}\n"
        ));
        t += SCRAPE;
    }
    out
}

/// `up` of two instances scraped every 15 s: `a` down for 3 minutes from s+60m, `b` down for 15
/// minutes from s+200m and failing one probe in 37.
fn up_history(s: i64, end: i64) -> String {
    let mut out = String::from("# TYPE up gauge\n");
    for instance in ["a", "b"] {
        let mut k = 0;
        loop {
            let t = (s - M) as f64 + SCRAPE_PHASE + k as f64 * SCRAPE;
            if t > end as f64 {
                break;
            }
            let minute = (t - s as f64) / M as f64;
            let down = match instance {
                "a" => (60.0..63.0).contains(&minute),
                _ => (200.0..215.0).contains(&minute) || k % 37 == 11,
            };
            out.push_str(&format!(
                "up{{job=\"api\",instance=\"{instance}\"}} {} {t:.3}\n",
                u8::from(!down)
            ));
            k += 1;
        }
    }
    out
}

/// The checkout history with the regression, the freshness gauge and `up`, from s - 1m to end.
fn gauges_history(s: i64, end: i64) -> String {
    let checkout = checkout_history(&regression(s), s, end);
    format!(
        "{}{}{}# EOF\n",
        checkout.strip_suffix("# EOF\n").unwrap(),
        freshness_history(s, end),
        up_history(s, end)
    )
}

/// "The checkout p99 under 0.3 s in 99% of slices", with `keys` (budgeting, slice) added.
fn p99_slo(name: &str, keys: &str) -> String {
    format!(
        "[[slo]]\nservice = \"checkout\"\nname = \"{name}\"\nobjective = 99\n{keys}[slo.sli.threshold]\nquery = '{P99}'\nop = \"lt\"\nvalue = 0.3\n\n"
    )
}

#[test]
fn a_time_slice_composite_is_bad_where_any_component_is() {
    let s = origin();
    // Errors and slow requests in separate phases, so each component has bad minutes the other
    // has not: availability bad alone (20 minutes), latency bad alone (30), both (20).
    let phase = |minutes, errors, slow| Phase::steady(edge(s, minutes), 20.0, errors, slow);
    let scenario = Scenario::checkout(vec![
        Phase::steady((s - M) as f64, 0.0, 0.0, 0.0),
        phase(0, 0.005, 0.005),
        phase(60, 0.2, 0.005),
        phase(80, 0.005, 0.005),
        phase(100, 0.005, 0.1),
        phase(130, 0.2, 0.1),
        phase(150, 0.005, 0.005),
    ]);
    let end = s + 3 * H;
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(checkout_history(&scenario, s, end)),
        ..Default::default()
    });
    let bucket = r#"http_request_duration_seconds_bucket{service="checkout",le="0.3"}"#;
    let count = r#"http_request_duration_seconds_count{service="checkout"}"#;
    let fast = format!(
        "({} / ({} > 0))",
        slice_increase(bucket),
        slice_increase(count)
    );
    // A minute is bad for the journey when either component's is (both have events in every
    // minute here, so the sum of the two verdicts is defined at every slice end).
    let bad = format!(
        "clamp_max(({} < bool 0.95) + ({fast} < bool 0.95), 1)",
        slice_good_ratio()
    );
    let all = slices(3 * H, M);
    assert_eq!(
        query_one(&prometheus, &format!("sum_over_time(({bad}){all})"), end),
        70.0,
        "20 + 30 + 20 bad minutes"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &prometheus,
        &format!(
            "[[slo]]\nservice = \"checkout\"\nname = \"available-minutes\"\nobjective = 99\n\
             budgeting = \"timeslices\"\nslice_target = 95\n[slo.sli.ratio]\nerrors = '{ERRORS}'\n\
             total = '{TOTAL}'\n\n\
             [[slo]]\nservice = \"checkout\"\nname = \"fast-minutes\"\nobjective = 99\n\
             budgeting = \"timeslices\"\nslice_target = 95\n[slo.sli.latency]\n\
             histogram = 'http_request_duration_seconds{{service=\"checkout\"}}'\nle = \"0.3\"\n\n\
             [[composite]]\nservice = \"checkout\"\nname = \"journey\"\nobjective = 99\n\
             budgeting = \"timeslices\"\ncomponents = [{{ slo = \"checkout-available-minutes\" }}, \
             {{ slo = \"checkout-fast-minutes\" }}]\n"
        ),
    );
    let (start, stop) = (s + 30 * M, end);
    let replay = replay(&config, start, stop);
    let mut failures = Vec::new();
    let compared = compare(
        &replay,
        "checkout-journey",
        (0.99, M),
        s,
        |w| {
            query_range(
                &prometheus,
                &format!(
                    "sum_over_time(({bad}){0}) / count_over_time(({bad}){0})",
                    slices(w, M)
                ),
                start,
                stop,
            )
        },
        &mut failures,
    );
    assert_no_failures(&failures);
    assert!(compared > 1000, "too few figures compared: {compared}");
    // The journey pages on the outage minutes, as its components' slices say.
    let summary = &replay.summaries["checkout-journey"];
    assert!(summary["pages"].as_u64() >= Some(1), "{summary}");
}

/// The good ratio of the bool gauge's slice ending at the evaluation time: its samples' mean
/// over every series (Pyrra's sum/count).
fn up_slice_ratio() -> String {
    format!("(sum(sum_over_time({UP}[1m])) / sum(count_over_time({UP}[1m])))")
}

#[test]
fn threshold_and_bool_gauge_slis_count_slices_as_promql_does() {
    let s = origin();
    let end = s + 6 * H;
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(gauges_history(s, end)),
        ..Default::default()
    });

    // The test's own figures, per window: error ratio = 1 - good slices / slices.
    let threshold = |query: &'static str, limit: &'static str, slice: i64| {
        move |w: i64| {
            let range = slices(w, slice);
            format!(
                "1 - sum_over_time(({query} < bool {limit}){range}) / count_over_time(({query}){range})"
            )
        }
    };
    let p99 = threshold(P99, "0.3", M);
    let fresh = threshold(FRESHNESS, "1200", 5 * M);
    let up_slices = |w: i64| {
        let g = up_slice_ratio();
        let range = slices(w, M);
        format!("1 - sum_over_time(({g} >= bool 0.8){range}) / count_over_time({g}{range})")
    };
    let up_samples = |w: i64| {
        format!(
            "1 - sum(sum_over_time({UP}[{0}])) / sum(count_over_time({UP}[{0}]))",
            duration(w)
        )
    };

    // The scenario as PromQL sees it over the five hours from s+1h, against the hand count:
    // the p99 over 5 minutes passes 0.3 s once 44% of them are in the regression, from 3
    // minutes in until 3 minutes after: 60 bad minutes of 300. The batch runs of s+152m33s to
    // s+222m33s fail, so from s+165m (22m27s after the last success) to s+230m the data is
    // older than 20 minutes: 14 bad 5-minute slices of 60. `up` has 3 + 15 minutes with an
    // instance down (bad: 4 or more of 8 probes failed); its single failed probes leave good
    // minutes (7 of 8, over 80%) that occurrences count as failures.
    let span = 5 * H;
    let ratio_of = |query: String| query_one(&prometheus, &query, end);
    let close = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() < 1e-12,
            "{what}: PromQL {got}, by hand {want}"
        )
    };
    close(ratio_of(p99(span)), 60.0 / 300.0, "p99 bad minutes");
    close(ratio_of(fresh(span)), 14.0 / 60.0, "stale 5-minute slices");
    close(ratio_of(up_slices(span)), 18.0 / 300.0, "up: bad minutes");
    let single_failures = query_one(
        &prometheus,
        &format!(
            "count_over_time(({} == 0.875){})",
            up_slice_ratio(),
            slices(span, M)
        ),
        end,
    );
    assert!(
        single_failures >= 20.0,
        "{single_failures} minutes with one failed probe"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &prometheus,
        &format!(
            r#"{p99}[[slo]]
service = "etl"
name = "freshness"
objective = 95
budgeting = "timeslices"
slice = "5m"
[slo.sli.threshold]
query = '{FRESHNESS}'
op = "lt"
value = 1200

[[slo]]
service = "api"
name = "up-minutes"
objective = 99
budgeting = "timeslices"
slice_target = 80
[slo.sli.bool_gauge]
selector = '{UP}'

[[slo]]
service = "api"
name = "up"
objective = 99
[slo.sli.bool_gauge]
selector = '{UP}'

[[slo]]
service = "checkout"
name = "p99-route"
objective = 99
group_by = ["route"]
[slo.sli.threshold]
query = '{P99_ROUTE}'
op = "lt"
value = 0.3
"#,
            p99 = p99_slo("p99", "")
        ),
    );
    let (start, stop) = (s + H, end);
    let replay = replay(&config, start, stop);
    let mut failures = Vec::new();
    let mut check = |slo: &str, figures: (f64, i64), query: &dyn Fn(i64) -> String| {
        let n = compare(
            &replay,
            slo,
            figures,
            s,
            |w| query_range(&prometheus, &query(w), start, stop),
            &mut failures,
        );
        eprintln!("{slo}: {n} (step, window) figures compared");
        assert!(n >= 8 * 60, "{slo}: only {n} figures compared");
    };
    check("checkout-p99", (0.99, M), &p99);
    check("etl-freshness", (0.95, 5 * M), &fresh);
    check("api-up-minutes", (0.99, M), &up_slices);
    check("api-up", (0.99, M), &up_samples);
    // Grouped by route: each route's slices are its own (/pay, with 1.5 times the slow
    // requests, turns bad sooner and recovers later than /cart).
    let p99_route = threshold(P99_ROUTE, "0.3", M);
    let bad = query_range_by(&prometheus, &p99_route(span), end, end, "route");
    let (pay, cart) = (bad["/pay"][&end], bad["/cart"][&end]);
    assert!(
        pay > cart && cart > 0.0,
        "bad minutes: /pay {pay}, /cart {cart}"
    );
    for route in ["/pay", "/cart"] {
        let n = compare(
            &replay,
            &format!("checkout-p99-route{{{route}}}"),
            (0.99, M),
            s,
            |w| {
                query_range_by(&prometheus, &p99_route(w), start, stop, "route")
                    .remove(route)
                    .unwrap_or_default()
            },
            &mut failures,
        );
        assert!(n >= 8 * 60, "{route}: only {n} figures compared");
    }
    assert_no_failures(&failures);

    // Good and total slices (samples, for occurrences) over the five hours, as the report
    // counts events.
    let report: Value = serde_json::from_str(&burnwatch(&[
        "report",
        "--config",
        config.to_str().unwrap(),
        "--start",
        &(end - span).to_string(),
        "--end",
        &end.to_string(),
        "--format",
        "json",
    ]))
    .unwrap();
    let count = |query: String| query_one(&prometheus, &query, end);
    let expected: [(&str, f64, f64); 4] = [
        (
            "checkout-p99",
            count(format!("count_over_time(({P99}){})", slices(span, M))),
            count(format!(
                "sum_over_time(({P99} < bool 0.3){})",
                slices(span, M)
            )),
        ),
        (
            "etl-freshness",
            count(format!(
                "count_over_time(({FRESHNESS}){})",
                slices(span, 5 * M)
            )),
            count(format!(
                "sum_over_time(({FRESHNESS} < bool 1200){})",
                slices(span, 5 * M)
            )),
        ),
        (
            "api-up-minutes",
            count(format!(
                "count_over_time({}{})",
                up_slice_ratio(),
                slices(span, M)
            )),
            count(format!(
                "sum_over_time(({} >= bool 0.8){})",
                up_slice_ratio(),
                slices(span, M)
            )),
        ),
        (
            "api-up",
            count(format!("sum(count_over_time({UP}[5h]))")),
            count(format!("sum(sum_over_time({UP}[5h]))")),
        ),
    ];
    assert_eq!(expected[0].1, 300.0);
    assert_eq!(expected[1].1, 60.0);
    assert_eq!(expected[3].1, 2.0 * 4.0 * 300.0);
    for (slo, total, good) in expected {
        let got = report["slos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["slo"] == slo)
            .unwrap_or_else(|| panic!("no report for {slo}: {report}"));
        let events = &got["events"];
        assert_eq!(events["total"].as_f64(), Some(total), "{slo}: {got}");
        assert_eq!(
            events["errors"].as_f64(),
            Some(total - good),
            "{slo}: {got}"
        );
    }
}

#[test]
fn a_latency_regression_pages_under_time_slices_and_not_under_occurrences() {
    let s = origin();
    let end = s + 6 * H;
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(checkout_history(&regression(s), s, end)),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &prometheus,
        &format!(
            r#"[[slo]]
service = "checkout"
name = "latency"
objective = 99
[slo.sli.latency]
histogram = 'http_request_duration_seconds{{service="checkout"}}'
le = "0.3"

{}"#,
            p99_slo(
                "p99-minutes",
                "budgeting = \"timeslices\"\nslice = \"1m\"\n"
            )
        ),
    );
    let (start, stop) = (s + 2 * H, end);
    let replay = replay(&config, start, stop);

    // Occurrences: 2% of the regression hour's requests are slow, a burn of 2 at 99% on the
    // hour that is the regression, as PromQL's rate() ratio says; it never pages.
    let at = s + 4 * H;
    let hour = query_one(
        &prometheus,
        r#"1 - sum(rate(http_request_duration_seconds_bucket{service="checkout",le="0.3"}[1h])) / sum(rate(http_request_duration_seconds_count{service="checkout"}[1h]))"#,
        at,
    );
    assert!((hour - 0.02).abs() < 1e-9, "PromQL: {hour}");
    let occurrences = &replay.steps["checkout-latency"];
    let burn = occurrences[&at]["burn_rate"]["1h"].as_f64().unwrap();
    assert!((burn - hour / 0.01).abs() < 1e-6, "burn on the hour {burn}");
    let latency = &replay.summaries["checkout-latency"];
    assert_eq!(latency["pages"], 0, "{latency}");
    assert!(
        occurrences
            .values()
            .all(|step| step["alerts"]["page"]["condition"] == false),
        "an occurrences page condition"
    );

    // Time slices: every minute of the regression is bad; the page condition holds exactly when
    // the workbook pairs over the PromQL ratios say so.
    let ratio = |w: i64| {
        query_range(
            &prometheus,
            &format!(
                "1 - sum_over_time(({P99} < bool 0.3){0}) / count_over_time(({P99}){0})",
                slices(w, M)
            ),
            start,
            stop,
        )
    };
    let (r5m, r30m, r1h, r6h) = (ratio(5 * M), ratio(30 * M), ratio(H), ratio(6 * H));
    let bad_hour = r1h[&at];
    assert!(
        bad_hour > 0.9,
        "the regression hour: {bad_hour} of its minutes bad"
    );
    let over = |r: &BTreeMap<i64, f64>, t: &i64, factor: f64| r[t] / (1.0 - 0.99) > factor;
    let slices_steps = &replay.steps["checkout-p99-minutes"];
    let mut paged = Vec::new();
    let mut failures = Vec::new();
    for (t, step) in slices_steps {
        let want = (over(&r5m, t, 14.4) && over(&r1h, t, 14.4))
            || (over(&r30m, t, 6.0) && over(&r6h, t, 6.0));
        let got = step["alerts"]["page"]["condition"].as_bool().unwrap();
        if got != want {
            failures.push(format!(
                "s+{}m: page condition {got}, PromQL {want} ({step})",
                (t - s) / M
            ));
        }
        if want {
            paged.push(*t);
        }
    }
    assert_no_failures(&failures);
    let first = *paged.first().expect("the regression pages");
    assert!(
        (s + 3 * H..s + 3 * H + 15 * M).contains(&first),
        "first page condition at s+{}m",
        (first - s) / M
    );
    let summary = &replay.summaries["checkout-p99-minutes"];
    assert!(summary["pages"].as_u64().unwrap() >= 1, "{summary}");
    let episode = summary["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["severity"] == "page")
        .unwrap_or_else(|| panic!("no page episode: {summary}"));
    let fired = unix(episode["start"].as_str().unwrap());
    assert!((first..=first + M).contains(&fired), "{summary}");
}

/// The notifications a webhook received: each alert of each body, as `(sloth_id, severity,
/// status)`.
fn webhook_alerts(
    runtime: &tokio::runtime::Runtime,
    server: &MockServer,
) -> Vec<(String, String, String)> {
    let requests = runtime
        .block_on(server.received_requests())
        .unwrap_or_default();
    let mut out = Vec::new();
    for request in requests {
        let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
        for alert in body["alerts"].as_array().into_iter().flatten() {
            let label = |name: &str| alert["labels"][name].as_str().unwrap_or("").to_string();
            out.push((
                label("sloth_id"),
                label("sloth_severity"),
                alert["status"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

#[test]
fn live_the_daemon_pages_the_regression_under_time_slices_only() {
    // Three hours of history up to now: an hour and a half of baseline, then the regression,
    // still going on.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let s = now / M * M - 3 * H;
    let scenario = Scenario::checkout(vec![
        Phase::steady(edge(s, 0), 20.0, 0.001, 0.002),
        Phase::steady(edge(s, 90), 20.0, 0.001, 0.02),
    ]);
    let history_end = now - 2;
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(checkout_history(&scenario, s, history_end)),
        ..Default::default()
    });
    // Over the last hour of history, 2% of requests were slower than 0.3 s.
    let hour = query_one(
        &prometheus,
        r#"1 - sum(rate(http_request_duration_seconds_bucket{service="checkout",le="0.3"}[1h])) / sum(rate(http_request_duration_seconds_count{service="checkout"}[1h]))"#,
        history_end,
    );
    assert!((hour - 0.02).abs() < 1e-9, "PromQL: {hour}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let webhook = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&webhook),
    );
    let config = format!(
        r#"[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{prometheus}"

[defaults]
interval = "1s"

[[slo]]
service = "checkout"
name = "latency"
objective = 99
[slo.sli.latency]
histogram = 'http_request_duration_seconds{{service="checkout"}}'
le = "0.3"

{p99}
[[slo]]
service = "checkout"
name = "available-minutes"
objective = 99
budgeting = "timeslices"
slice_target = 95
[slo.sli.ratio]
errors = '{errors}'
total = '{total}'

[[composite]]
service = "checkout"
name = "journey"
objective = 99
budgeting = "timeslices"
components = [{{ slo = "checkout-p99-minutes" }}, {{ slo = "checkout-available-minutes" }}]

[receivers.hook]
type = "webhook"
url = "{webhook}/hook"

[[route]]
receivers = ["hook"]
"#,
        port = free_port(),
        prometheus = prometheus.url(),
        p99 = p99_slo("p99-minutes", "budgeting = \"timeslices\"\n"),
        webhook = webhook.uri(),
        errors = ERRORS,
        total = TOTAL,
    );
    let daemon = Daemon::start(Path::new(env!("CARGO_BIN_EXE_burnwatch")), &config, &[]);
    daemon.wait_ready(Duration::from_secs(60));

    // Every minute of the last hour is bad: the whole 5m and 1h windows.
    let id = |slo: &str| format!(r#"sloth_id="checkout-{slo}""#);
    for window in ["5m", "1h"] {
        daemon.wait_sample(
            &format!("slo:sli_error:ratio_rate{window}"),
            &[&id("p99-minutes")],
            Some(1.0),
            Duration::from_secs(30),
        );
    }
    // The journey's minutes are bad wherever one component's is: every minute, though its
    // availability component has none bad (0.1% errors against a 95% slice target).
    for (slo, want) in [("available-minutes", 0.0), ("journey", 1.0)] {
        daemon.wait_sample(
            "slo:sli_error:ratio_rate1h",
            &[&id(slo)],
            Some(want),
            Duration::from_secs(30),
        );
    }
    // The page goes out.
    let deadline = Instant::now() + Duration::from_secs(30);
    let paged = |slo: &str| {
        webhook_alerts(&runtime, &webhook)
            .iter()
            .any(|(id, severity, status)| {
                id == &format!("checkout-{slo}") && severity == "page" && status == "firing"
            })
    };
    while !paged("p99-minutes") {
        assert!(
            Instant::now() < deadline,
            "no page for the time slices: {:?}\n{}",
            webhook_alerts(&runtime, &webhook),
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // Occurrences: the same hour burns at 2x, which pages nobody.
    let ratio = daemon
        .sample("slo:sli_error:ratio_rate1h", &[&id("latency")])
        .expect("the occurrences SLO's 1h ratio");
    assert!(
        (ratio - hour).abs() < 1e-6,
        "1h error ratio {ratio}, PromQL {hour}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !paged("latency"),
        "the occurrences SLO paged: {:?}",
        webhook_alerts(&runtime, &webhook)
    );
}

/// `up{job="edge"}` scraped every 15 s exactly on the quarter minutes (as a target whose scrape
/// offset happens to be 0 is): 0 at the sample on each whole minute from s+30m to s+40m.
fn boundary_up_history(s: i64, end: i64) -> String {
    let mut out = String::from("# TYPE up gauge\n");
    let mut t = s;
    while t <= end {
        let down = t % M == 0 && (s + 30 * M..s + 40 * M).contains(&t);
        out.push_str(&format!("up{{job=\"edge\"}} {} {t}.000\n", u8::from(!down)));
        t += 15;
    }
    out.push_str("# EOF\n");
    out
}

#[test]
fn bool_gauge_samples_on_slice_boundaries_count_once() {
    let s = origin();
    let end = s + 2 * H;
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(boundary_up_history(s, end)),
        ..Default::default()
    });
    // A sample at a slice's end belongs to that slice only: `(T - 1m, T]`. Prometheus 2.42
    // selects both ends of a range, so the test's ranges stop a millisecond short.
    let edge = r#"up{job="edge"}"#;
    let open = |w: i64| format!("{}999ms", duration(w - 1));
    let slice_ratio = format!(
        "(sum(sum_over_time({edge}[{0}])) / sum(count_over_time({edge}[{0}])))",
        open(M)
    );
    let by_slice = |w: i64| {
        let range = format!("[{}:1m]", open(w));
        format!(
            "1 - sum_over_time(({slice_ratio} >= bool 0.7){range}) / count_over_time({slice_ratio}{range})"
        )
    };
    let by_sample = |w: i64| {
        format!(
            "1 - sum(sum_over_time({edge}[{0}])) / sum(count_over_time({edge}[{0}]))",
            open(w)
        )
    };
    // By hand: four samples a minute, ten of them 0 (one in each of ten minutes, 3 of 4 good).
    assert_eq!(query_one(&prometheus, &by_slice(H), s + H), 0.0);
    let samples = query_one(&prometheus, &by_sample(H), s + H);
    assert!((samples - 10.0 / 240.0).abs() < 1e-12, "{samples}");

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &prometheus,
        &format!(
            "[[slo]]\nservice = \"edge\"\nname = \"minutes\"\nobjective = 99\nbudgeting = \"timeslices\"\nslice_target = 70\n[slo.sli.bool_gauge]\nselector = '{edge}'\n\n\
             [[slo]]\nservice = \"edge\"\nname = \"samples\"\nobjective = 99\n[slo.sli.bool_gauge]\nselector = '{edge}'\n"
        ),
    );
    let (start, stop) = (s + 10 * M, end);
    let replay = replay(&config, start, stop);
    let mut failures = Vec::new();
    for (slo, query) in [
        ("edge-minutes", &by_slice as &dyn Fn(i64) -> String),
        ("edge-samples", &by_sample),
    ] {
        compare(
            &replay,
            slo,
            (0.99, M),
            s,
            |w| query_range(&prometheus, &query(w), start, stop),
            &mut failures,
        );
    }
    assert_no_failures(&failures);
}
