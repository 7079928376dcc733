//! `burnwatch replay` end to end against a real Prometheus holding five days of simulated history
//! (backfilled with promtool): steady low burn, a 1-hour outage, a 10-hour slow burn, a counter
//! reset, a 40-minute scrape gap, three hours of zero traffic and a latency regression. Phase
//! edges sit on whole hours (see tests/prometheus_parity.rs for why).
//!
//! - `burn_rates_and_alert_conditions_equal_promql`: every replayed step's burn rates on windows
//!   of 1h and longer equal `sum(rate(errors[w])) / sum(rate(total[w]))` as Prometheus evaluates
//!   it with query_range at the same steps (median relative error <= 1%, p99 <= 5%, and "no
//!   ratio" on the same steps), and the page and ticket condition episodes equal those of the
//!   event-weighted Sloth alert expressions evaluated by Prometheus (same count, edges within two
//!   steps). The largest ratio differences (about 2.5% on 1d) come from the scrape gap, whose
//!   events replay's per-step `increase()` cannot see and `rate()` over a spanning window can
//!   (docs/replay.md, "How close replay is to PromQL").
//! - `formats_compare_filters_and_usage_errors`: `--compare` reports the page only one policy
//!   raises, the table fits 100 columns, CSV has a header and one row per step per instance,
//!   `--slo` filters, and a bad `--start` exits 2 saying what is wrong.
//! - `exclusions_leave_the_outage_out_and_ignore_exclusions_puts_it_back`: a maintenance window
//!   over the outage leaves half the budget and no page; `--ignore-exclusions` gives the
//!   hand-computed -700% and the page; the summary and the table show the span.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use burnwatch_simulator::{Phase, Scenario, render_openmetrics_history};
use burnwatch_tests::{Prometheus, PrometheusOptions, http_client, stdout_of};
use serde_json::Value;

const H: i64 = 3600;
const D: i64 = 86_400;
const STEP: i64 = 60;
/// Prometheus answers at most 11,000 points per series.
const MAX_POINTS: i64 = 10_000;

const AVAILABILITY: &str = "checkout-availability";
const LATENCY: &str = "checkout-latency";

/// Phases relative to `s` (a whole hour), in hours.
fn scenario(s: i64) -> Scenario {
    let at = |hours: f64| s as f64 + hours * H as f64;
    // Availability (99.9%) burns at 0.5x; latency (99%) at 0.45x on /pay and 0.2x on /cart.
    let steady = |hours| Phase::steady(at(hours), 20.0, 0.0005, 0.003);
    Scenario::checkout(vec![
        steady(0.0),
        Phase::steady(at(30.0), 25.0, 0.2, 0.003), // outage, 1h: pages and tickets
        steady(31.0),
        Phase::steady(at(48.0), 20.0, 0.004, 0.003), // slow burn, 10h at 4x: tickets
        steady(58.0),
        Phase {
            reset: true,
            ..steady(72.0)
        }, // process restart: every counter back to 0
        Phase {
            scraped: false,
            ..steady(78.0)
        }, // scrape gap, 40 min
        steady(78.0 + 40.0 / 60.0),
        Phase::steady(at(84.0), 0.0, 0.0, 0.0), // zero traffic, 3h
        steady(87.0),
        // Latency regression, 2h: /pay burns at 15x (pages on 5m/1h, never reaches 6x on 6h),
        // /cart at 6.7x (no alert).
        Phase::steady(at(96.0), 20.0, 0.0005, 0.1),
        steady(98.0),
    ])
}

/// The history, and the Prometheus holding it. Ends two hours before now.
fn start_prometheus() -> (Prometheus, i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let s = now / H * H - 5 * D;
    let history =
        render_openmetrics_history(&scenario(s), s as f64, (s + 5 * D - 2 * H) as f64, 30.0);
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(history),
        ..Default::default()
    });
    (prometheus, s)
}

const AVAILABILITY_SLO: &str = burnwatch_tests::CHECKOUT_AVAILABILITY_SLO;

const LATENCY_SLO: &str = r#"[[slo]]
service = "checkout"
name = "latency"
objective = 99.0
group_by = ["route"]
[slo.sli.latency]
histogram = 'http_request_duration_seconds{service="checkout"}'
le = "0.3"
"#;

/// The error ratio over `{w}` as Prometheus computes it, and the SLO's objective.
const PROMQL: [(&str, &str, f64); 2] = [
    (
        AVAILABILITY,
        r#"(sum(rate(http_requests_total{service="checkout",code=~"5.."}[{w}])) / sum(rate(http_requests_total{service="checkout"}[{w}])))"#,
        0.999,
    ),
    (
        LATENCY,
        r#"(1 - sum by (route) (rate(http_request_duration_seconds_bucket{service="checkout",le="0.3"}[{w}])) / sum by (route) (rate(http_request_duration_seconds_count{service="checkout"}[{w}])))"#,
        0.99,
    ),
];

fn write_config(dir: &Path, name: &str, url: &str, alerting: &str) -> std::path::PathBuf {
    let text = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"{url}\"\n\n[defaults]\nbackend = \"main\"\n\
         period = \"30d\"\n\n{AVAILABILITY_SLO}{alerting}\n{LATENCY_SLO}{alerting}"
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap()
}

fn unix(rfc3339: &str) -> i64 {
    burnwatch_tests::unix_seconds(rfc3339)
}

/// An SLO instance: its id and its group labels (`route=/pay`, or empty).
type Key = (String, String);

fn key_of(slo: &str, labels: &Value) -> Key {
    (
        slo.to_string(),
        labels["route"].as_str().unwrap_or("").to_string(),
    )
}

/// `query_range` over `[start, end]` every `step` seconds, chunked below Prometheus' point limit:
/// per series (keyed by its `route` label), per timestamp, the value (NaN as Prometheus says).
fn query_range(
    prometheus: &Prometheus,
    query: &str,
    start: i64,
    end: i64,
    step: i64,
) -> BTreeMap<String, BTreeMap<i64, f64>> {
    let client = http_client();
    let mut out: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    let mut first = start;
    while first <= end {
        let last = (first + step * (MAX_POINTS - 1)).min(end);
        let body: Value = client
            .post(format!("{}/api/v1/query_range", prometheus.url()))
            .form(&[
                ("query", query.to_string()),
                ("start", first.to_string()),
                ("end", last.to_string()),
                ("step", step.to_string()),
            ])
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|err| panic!("query_range {query} failed: {err}"));
        assert_eq!(body["status"], "success", "query_range {query}: {body}");
        for series in body["data"]["result"].as_array().unwrap() {
            let route = series["metric"]["route"].as_str().unwrap_or("").to_string();
            let points = out.entry(route).or_default();
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
        first = last + step;
    }
    out
}

/// One replayed step of one instance.
struct Step {
    key: Key,
    time: i64,
    burn_rate: serde_json::Map<String, Value>,
    page: bool,
    ticket: bool,
}

fn parse_steps(json: &str) -> (Vec<Step>, Vec<Value>) {
    let mut steps = Vec::new();
    let mut summaries = Vec::new();
    for line in json.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}"));
        match v["type"].as_str() {
            Some("step") => steps.push(Step {
                key: key_of(v["slo"].as_str().unwrap(), &v["labels"]),
                time: unix(v["time"].as_str().unwrap()),
                burn_rate: v["burn_rate"].as_object().unwrap().clone(),
                page: v["alerts"]["page"]["condition"].as_bool().unwrap(),
                ticket: v["alerts"]["ticket"]["condition"].as_bool().unwrap(),
            }),
            Some("summary") => summaries.push(v),
            other => panic!("unexpected line type {other:?}: {line}"),
        }
    }
    (steps, summaries)
}

/// Maximal runs of consecutive true steps: `(first true, last true)`.
fn episodes(times: &BTreeSet<i64>, step: i64) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &t in times {
        match out.last_mut() {
            Some((_, last)) if *last + step == t => *last = t,
            _ => out.push((t, t)),
        }
    }
    out
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[test]
fn burn_rates_and_alert_conditions_equal_promql() {
    let (prometheus, s) = start_prometheus();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "replay.toml", prometheus.url(), "");
    // Three and a half days at 1-minute steps: the outage, slow burn, reset, scrape gap, zero
    // traffic and latency regression (the first day of history only warms the windows up).
    let (start, end) = (s + 24 * H, s + 108 * H);
    let output = replay(&[
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
    let (steps, summaries) = parse_steps(&stdout_of(&output));
    let first = steps.iter().map(|s| s.time).min().unwrap();
    let last = steps.iter().map(|s| s.time).max().unwrap();
    assert!(
        first == start && last == end,
        "steps {first}..{last}, asked {start}..{end}"
    );
    let instances: BTreeSet<&Key> = steps.iter().map(|s| &s.key).collect();
    assert_eq!(instances.len(), 3, "{instances:?}");
    assert_eq!(summaries.len(), 3);
    let objectives: BTreeMap<&str, f64> = PROMQL.iter().map(|(id, _, o)| (*id, *o)).collect();

    // (a) Burn rates against Prometheus' own rate() ratio at the same steps.
    let mut errors = Vec::new();
    let mut both_absent = 0;
    let mut failures = Vec::new();
    // The largest relative error and where it was.
    let mut worst = (0.0, String::new());
    for window in ["1h", "2h", "6h", "1d", "3d", "30d"] {
        let before = errors.len();
        let expected: BTreeMap<&str, BTreeMap<String, BTreeMap<i64, f64>>> = PROMQL
            .iter()
            .map(|(id, q, _)| {
                (
                    *id,
                    query_range(&prometheus, &q.replace("{w}", window), first, last, STEP),
                )
            })
            .collect();
        for step in &steps {
            let (id, route) = &step.key;
            let want = expected[id.as_str()]
                .get(route)
                .and_then(|points| points.get(&step.time))
                .map_or(f64::NAN, |ratio| ratio / (1.0 - objectives[id.as_str()]));
            let got = step.burn_rate[window].as_f64();
            let what = format!(
                "{id}{{route={route}}} {window} at s+{}m",
                (step.time - s) / 60
            );
            match (want.is_nan(), got) {
                (true, None) => both_absent += 1,
                (true, Some(got)) => {
                    failures.push(format!("{what}: PromQL has no ratio, replay {got}"))
                }
                (false, None) => failures.push(format!("{what}: PromQL {want}, replay has none")),
                (false, Some(got)) => {
                    let rel = if want == 0.0 {
                        got.abs()
                    } else {
                        (got - want).abs() / want.abs()
                    };
                    errors.push(rel);
                    if rel > worst.0 {
                        worst = (rel, format!("{what}: PromQL {want}, replay {got}"));
                    }
                }
            }
        }
        let mut ours = errors[before..].to_vec();
        ours.sort_by(f64::total_cmp);
        eprintln!(
            "burn rate {window:>3}: {} pairs, relative error median {:.2e}, p99 {:.2e}, max {:.2e}",
            ours.len(),
            quantile(&ours, 0.5),
            quantile(&ours, 0.99),
            ours[ours.len() - 1]
        );
    }
    errors.sort_by(f64::total_cmp);
    let (median, p99) = (quantile(&errors, 0.5), quantile(&errors, 0.99));
    eprintln!(
        "burn rates: {} (step, instance, window) pairs, relative error median {:.2e} ({:.4}%), \
         p99 {:.2e} ({:.3}%), max {:.2e} at {}; {both_absent} without a ratio on both sides",
        errors.len(),
        median,
        median * 100.0,
        p99,
        p99 * 100.0,
        worst.0,
        worst.1
    );
    assert!(
        failures.is_empty(),
        "{} steps where only one side has a ratio:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        errors.len() > 50_000,
        "too few comparisons: {}",
        errors.len()
    );
    assert!(
        both_absent > 0,
        "the zero-traffic period was never compared"
    );
    assert!(median <= 0.01, "median relative error {median}");
    assert!(p99 <= 0.05, "p99 relative error {p99}");

    // (b) Condition episodes against the Sloth alert expressions (event-weighted ratios).
    for (severity, pairs) in [
        ("page", [("5m", "1h", 14.4), ("30m", "6h", 6.0)]),
        ("ticket", [("2h", "1d", 3.0), ("6h", "3d", 1.0)]),
    ] {
        let mut total = 0;
        for (id, ratio, objective) in PROMQL {
            let b = format!("(1 - {objective})");
            let over =
                |w: &str, factor: f64| format!("{} > ({factor} * {b})", ratio.replace("{w}", w));
            let expr = pairs
                .iter()
                .map(|(short, long, f)| format!("({} and {})", over(short, *f), over(long, *f)))
                .collect::<Vec<_>>()
                .join(" or ");
            let promql = query_range(&prometheus, &expr, first, last, STEP);
            let keys: BTreeSet<&Key> = instances.iter().copied().filter(|k| k.0 == id).collect();
            for key in keys {
                let theirs: BTreeSet<i64> = promql
                    .get(&key.1)
                    .map(|points| points.keys().copied().collect())
                    .unwrap_or_default();
                let ours: BTreeSet<i64> = steps
                    .iter()
                    .filter(|s| &s.key == key && if severity == "page" { s.page } else { s.ticket })
                    .map(|s| s.time)
                    .collect();
                let (ours, theirs) = (episodes(&ours, STEP), episodes(&theirs, STEP));
                let show = |e: &[(i64, i64)]| {
                    e.iter()
                        .map(|(a, z)| format!("s+{}m..s+{}m", (a - s) / 60, (z - s) / 60))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                eprintln!(
                    "{severity} {}{{route={}}}: replay [{}], PromQL [{}]",
                    key.0,
                    key.1,
                    show(&ours),
                    show(&theirs)
                );
                assert_eq!(
                    ours.len(),
                    theirs.len(),
                    "{severity} episodes of {key:?}: replay [{}], PromQL [{}]",
                    show(&ours),
                    show(&theirs)
                );
                for (a, b) in ours.iter().zip(&theirs) {
                    assert!(
                        (a.0 - b.0).abs() <= 2 * STEP && (a.1 - b.1).abs() <= 2 * STEP,
                        "{severity} episode of {key:?}: replay [{}], PromQL [{}]",
                        show(&ours),
                        show(&theirs)
                    );
                }
                total += ours.len();
            }
        }
        assert!(
            total > 0,
            "the scenario raised no {severity} condition: nothing was compared"
        );
    }

    // The summaries count what fired; conditions held for whole minutes, so pages fired.
    let pages: u64 = summaries.iter().map(|s| s["pages"].as_u64().unwrap()).sum();
    let tickets: u64 = summaries
        .iter()
        .map(|s| s["tickets"].as_u64().unwrap())
        .sum();
    assert!(
        pages >= 2 && tickets >= 1,
        "pages {pages}, tickets {tickets}: {summaries:?}"
    );
}

/// The compare configuration drops the 5m/1h page pair: only the 30m/6h pair can page.
const WITHOUT_FAST_PAGE: &str = r#"[slo.alerting]
[[slo.alerting.windows]]
severity = "page"
short = "30m"
long = "6h"
budget_share = 5
[[slo.alerting.windows]]
severity = "ticket"
short = "2h"
long = "1d"
budget_share = 10
[[slo.alerting.windows]]
severity = "ticket"
short = "6h"
long = "3d"
budget_share = 10
"#;

#[test]
fn formats_compare_filters_and_usage_errors() {
    // A bad time is a usage error before anything is read or queried.
    let output = replay(&[
        "--config",
        "/nonexistent.toml",
        "--start",
        "yesterday",
        "--end",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--start \"yesterday\" is not a time") && stderr.contains("RFC 3339"),
        "{stderr}"
    );

    let (prometheus, s) = start_prometheus();
    let dir = tempfile::tempdir().unwrap();
    let a = write_config(dir.path(), "workbook.toml", prometheus.url(), "");
    let b = write_config(
        dir.path(),
        "no-fast-page.toml",
        prometheus.url(),
        WITHOUT_FAST_PAGE,
    );
    // The outage (s+30h) and the latency regression (s+96h), at 5-minute steps.
    let (start, end) = ((s + 29 * H).to_string(), (s + 99 * H).to_string());
    let range = [
        "--start",
        start.as_str(),
        "--end",
        end.as_str(),
        "--step",
        "5m",
    ];
    let run = |extra: &[&str]| {
        let mut args = vec!["--config", a.to_str().unwrap()];
        args.extend(range);
        args.extend(extra);
        stdout_of(&replay(&args))
    };

    // --compare: the availability outage pages under both policies; the /pay latency regression
    // (15x for 2h) pages only with the 5m/1h pair.
    let json = run(&["--compare", b.to_str().unwrap(), "--format", "json"]);
    let lines: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "one line per instance:\n{json}");
    let (a_name, b_name) = (a.display().to_string(), b.display().to_string());
    for line in &lines {
        assert_eq!(line["type"], "compare");
        let only_a = line["only_in"][&a_name].as_array().unwrap();
        let only_b = line["only_in"][&b_name].as_array().unwrap();
        assert!(
            only_b.is_empty(),
            "dropping a page pair cannot add episodes: {line}"
        );
        match (
            line["slo"].as_str().unwrap(),
            line["labels"]["route"].as_str(),
        ) {
            (AVAILABILITY, None) => {
                assert!(only_a.is_empty(), "{line}");
                assert!(line["episodes"][&b_name].as_u64().unwrap() >= 1, "{line}");
            }
            (LATENCY, Some("/pay")) => {
                assert_eq!(only_a.len(), 1, "{line}");
                assert_eq!(only_a[0]["severity"], "page", "{line}");
                let fired = unix(only_a[0]["start"].as_str().unwrap());
                assert!(fired > s + 96 * H && fired < s + 98 * H, "{line}");
                assert_eq!(line["episodes"][&b_name], 0, "{line}");
            }
            (LATENCY, Some("/cart")) => assert_eq!(line["episodes"][&a_name], 0, "{line}"),
            _ => panic!("unexpected instance: {line}"),
        }
    }
    let text = run(&["--compare", b.to_str().unwrap()]);
    eprintln!("--compare (table):\n{text}");
    assert!(
        text.contains("checkout-latency{route=/pay}: 1 episode with"),
        "{text}"
    );
    assert!(text.contains("only with"), "{text}");

    // Table: one row per instance plus its episodes, never wider than 100 columns.
    let table = run(&[]);
    eprintln!("table:\n{table}");
    for line in table.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    assert!(table.lines().next().unwrap().starts_with("SLO"), "{table}");
    for name in [
        "checkout-availability",
        "checkout-latency{route=/pay}",
        "checkout-latency{route=/cart}",
    ] {
        assert!(
            table.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name}:\n{table}"
        );
    }
    assert!(table.contains("page    "), "{table}");

    // CSV: a header, then one row per step per instance, every row as wide as the header.
    let csv = run(&["--format", "csv"]);
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert_eq!(&header[..4], ["time", "slo", "labels", "objective"]);
    assert!(
        header.contains(&"burn_rate_1h") && header.contains(&"page_condition"),
        "{header:?}"
    );
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
    // 70 hours at 5 minutes, both ends included.
    let steps = 70 * 12 + 1;
    assert_eq!(rows.len(), 3 * steps, "{steps} steps of 3 instances");
    let mut per_instance: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
        assert!(
            per_instance
                .entry((row[1], row[2]))
                .or_default()
                .insert(row[0]),
            "duplicate {row:?}"
        );
    }
    let counts: Vec<usize> = per_instance.values().map(BTreeSet::len).collect();
    assert_eq!(per_instance.len(), 3, "{:?}", per_instance.keys());
    assert!(counts.iter().all(|&n| n == counts[0]), "{counts:?}");

    // --slo: only the named SLO; an unknown id is a usage error naming the known ones.
    let only = run(&["--format", "json", "--slo", LATENCY]);
    assert!(only.lines().count() > 0);
    for line in only.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["slo"], LATENCY, "{line}");
    }
    let mut args = vec!["--config", a.to_str().unwrap()];
    args.extend(range);
    args.extend(["--slo", "checkout-nope"]);
    let output = replay(&args);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("checkout-nope") && stderr.contains(AVAILABILITY),
        "{stderr}"
    );
}

/// The availability SLO over the 1-hour outage (s+30h, 25 req/s at 20% errors; 20 req/s at
/// 0.05% errors before and after), replayed to s+33h at 5-minute steps, once with a maintenance
/// window over the outage (a hidden spans file, as `[[maintenance]]` will give) and once with
/// `--ignore-exclusions`.
#[test]
fn exclusions_leave_the_outage_out_and_ignore_exclusions_puts_it_back() {
    let (prometheus, s) = start_prometheus();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "slo.toml", prometheus.url(), "");
    let spans = dir.path().join("spans.json");
    let (from, to) = ((s + 30 * H) * 1000, (s + 31 * H) * 1000);
    std::fs::write(
        &spans,
        serde_json::json!([{
            "start": from, "end": to, "source": "maintenance", "name": "db-upgrade",
            "reason": "Postgres 17", "exclude": true, "silence": true
        }])
        .to_string(),
    )
    .unwrap();
    let (start, end) = ((s + 29 * H).to_string(), (s + 33 * H).to_string());
    let run = |extra: &[&str]| -> Value {
        let mut args = vec![
            "--config",
            config.to_str().unwrap(),
            "--start",
            start.as_str(),
            "--end",
            end.as_str(),
            "--step",
            "5m",
            "--slo",
            AVAILABILITY,
            "--format",
            "json",
            "--exclusion-spans",
            spans.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = stdout_of(&replay(&args));
        out.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|l| l["type"] == "summary")
            .unwrap_or_else(|| panic!("no summary:\n{out}"))
    };

    // Excluded: every event that counts is at 0.05% errors, a burn of 0.5 at 99.9%, so half
    // the budget remains at the end, and nothing pages.
    let with = run(&[]);
    let budget = with["budget_remaining_end"].as_f64().unwrap();
    assert!((budget - 0.5).abs() < 1e-3, "{with}");
    assert_eq!(with["pages"], 0, "{with}");
    assert_eq!(with["excluded_seconds_end"], 3600.0, "{with}");
    assert_eq!(with["exclusions"][0]["name"], "db-upgrade", "{with}");
    assert_eq!(
        with["exclusions"][0]["start"],
        output_time((s + 30 * H) * 1000),
        "{with}"
    );

    // The counterfactual: 32 h at 20 req/s with 0.05% errors (2,304,000 requests, 1,152
    // errors) and the hour at 25 req/s with 20% (90,000 requests, 18,000 errors): 19,152 errors
    // in 2,394,000 requests, 0.8%, a burn of 8, so -700% remains; and the outage pages.
    let without = run(&["--ignore-exclusions"]);
    let budget = without["budget_remaining_end"].as_f64().unwrap();
    assert!((budget - -7.0).abs() < 0.02, "{without}");
    assert!(without["pages"].as_u64().unwrap() >= 1, "{without}");
    assert_eq!(without["excluded_seconds_end"], 0.0, "{without}");
    assert_eq!(without["exclusions"], serde_json::json!([]), "{without}");

    // The table says so too.
    let table = stdout_of(&replay(&[
        "--config",
        config.to_str().unwrap(),
        "--start",
        start.as_str(),
        "--end",
        end.as_str(),
        "--step",
        "5m",
        "--slo",
        AVAILABILITY,
        "--exclusion-spans",
        spans.to_str().unwrap(),
    ]));
    assert!(
        table.contains("excluded at the end: 1h of the period"),
        "{table}"
    );
    assert!(
        table.contains("excluded, silenced: ")
            && table.contains("(1h) maintenance db-upgrade: Postgres 17"),
        "{table}"
    );
}

/// `2026-11-19T22:05:00Z` for unix milliseconds.
fn output_time(ms: i64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64),
    )
    .to_string()
}
