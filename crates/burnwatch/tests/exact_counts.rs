//! Exact event counts against a real Prometheus: every increment in exactly one bucket.
//!
//! The history is what an exporter driven by the clock would have been scraped as: counters
//! that move on whole seconds (no randomness), scraped every 15 s at a phase of 7.3 s with a
//! little jitter, loaded with promtool. Six SLOs, one per case, each `errors` over `total` (50
//! requests a second):
//! - `clock`: one error every 40 s;
//! - `minutes`: five errors at :00 of every second minute;
//! - `sparse`: one error every 10 minutes;
//! - `resets`: one error every 40 s, from a process that restarts three times: once in the
//!   hourly buckets, twice around a 10-minute boundary so that at the 10-minute level the counter
//!   is higher after the second restart than before it (a reset no boundary value shows), and
//!   once during the live hour;
//! - `replaced`: one error every 40 s, from a pod replaced by one with a new `instance` label
//!   (once in the hourly buckets, once during the live hour);
//! - `hole`: one error every 40 s, with a 20-minute scrape hole 4 hours before the backfill.
//!
//! `counts_are_exact_after_backfill_live_ticks_and_replay` checks, for every case:
//! - after backfill (at a whole hour) and at every 10 minutes of an hour of live ticks (each
//!   ticking every 30 s at an odd phase), every bucket-aligned window's event counts equal what
//!   the raw scraped samples say (last sample at or before the window's end minus last sample at
//!   or before its start, reset-aware; a series that appears counts from its first sample),
//!   computed here from a `x[range]` read: exactly, as integers (within 1e-6 of float sums);
//! - those counts are within a scrape interval's increments, at each end, of the exporter's own
//!   truth (the clock functions below);
//! - error ratios equal PromQL's `sum(increase(errors[W])) / sum(increase(total[W]))` within 2%
//!   on windows of 1h and longer;
//! - `SloRunner::replay` over the same hour gives the same figures as the live runner at the
//!   same moments (to 1e-9), and `burnwatch report` counts the same events as the raw samples;
//! - no read fell back to `increase()`.
//!
//! `counts_from_victoriametrics_are_exact` runs all of it with burnwatch (and `burnwatch
//! report`) reading a real VictoriaMetrics that holds the same samples, against the same raw
//! samples read from Prometheus: the counts are as exact there.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_engine::{Board, Counts, Evaluation};
use burnwatch_scheduler::{Backend, PrometheusBackend, SchedulerMetrics, SloRunner};
use burnwatch_tests::clock::{D, H, M, S, WINDOWS};
use burnwatch_tests::{Prometheus, PrometheusOptions, VictoriaMetrics};

const SCRAPE: i64 = 15 * S;
const PHASE: i64 = 7_300;
const TOTAL_PER_SECOND: i64 = 50;

/// One process of a case: its `instance` label and its life `(start, end]` in ms; its counters
/// count the events of `(start, t]`.
#[derive(Clone, Copy)]
struct Process {
    instance: &'static str,
    start: i64,
    end: i64,
}

/// Errors: `weight` at every whole second `n` with `n % period == offset` (seconds).
struct Case {
    name: &'static str,
    period: i64,
    offset: i64,
    weight: i64,
    processes: Vec<Process>,
    /// No scrape in `[start, end)`.
    hole: Option<(i64, i64)>,
}

/// Whole seconds `n` with `a < n <= b` (ms) and `n % period == offset`.
fn ticks(a: i64, b: i64, period: i64, offset: i64) -> i64 {
    let count = |t: i64| (t.div_euclid(S) - offset).div_euclid(period);
    count(b) - count(a)
}

impl Case {
    /// The exporter's own counts over `(a, b]`: what every process counted in it.
    fn truth(&self, a: i64, b: i64) -> Counts {
        let mut counts = Counts::default();
        for p in &self.processes {
            let (lo, hi) = (a.max(p.start), b.min(p.end));
            if hi > lo {
                counts.total += (ticks(lo, hi, 1, 0) * TOTAL_PER_SECOND) as f64;
                counts.errors += (ticks(lo, hi, self.period, self.offset) * self.weight) as f64;
            }
        }
        counts
    }

    /// The OpenMetrics history of both counters from `from` to `to`.
    fn history(&self, from: i64, to: i64, out: &mut [String; 2]) {
        for p in &self.processes {
            let mut lines = [String::new(), String::new()];
            let mut k = 0;
            loop {
                let t = from + PHASE + k * SCRAPE + (k * 37) % 200;
                k += 1;
                if t > to {
                    break;
                }
                if t <= p.start || t > p.end || self.hole.is_some_and(|(a, b)| a <= t && t < b) {
                    continue;
                }
                let c = self.truth(p.start, t);
                let labels = format!("case=\"{}\",instance=\"{}\"", self.name, p.instance);
                let at = t as f64 / 1000.0;
                lines[0].push_str(&format!(
                    "exact_requests_total{{{labels}}} {} {at:.3}\n",
                    c.total
                ));
                lines[1].push_str(&format!(
                    "exact_errors_total{{{labels}}} {} {at:.3}\n",
                    c.errors
                ));
            }
            out[0].push_str(&lines[0]);
            out[1].push_str(&lines[1]);
        }
    }

    fn slo(&self) -> String {
        format!(
            "[[slo]]\nservice = \"exact\"\nname = \"{}\"\nobjective = 99.9\n[slo.sli.ratio]\nerrors = 'exact_errors_total{{case=\"{}\"}}'\ntotal = 'exact_requests_total{{case=\"{}\"}}'\n\n",
            self.name, self.name, self.name
        )
    }

    fn id(&self) -> String {
        format!("exact-{}", self.name)
    }
}

fn cases(t0: i64, origin: i64) -> Vec<Case> {
    let forever = i64::MAX / 4;
    let one = |name, period, offset, weight| Case {
        name,
        period,
        offset,
        weight,
        processes: vec![Process {
            instance: "a",
            start: origin,
            end: forever,
        }],
        hole: None,
    };
    // Restarts: in the hourly buckets; a minute before and half a minute after a 10-minute
    // boundary (26 hours back); during the live hour.
    let restarts = [
        t0 - 80 * H + 17 * M + 13_500,
        t0 - 26 * H - 61_500,
        t0 - 26 * H + 29_500,
        t0 + 37 * M + 12_300,
    ];
    let mut lives = vec![origin];
    lives.extend(restarts);
    lives.push(forever);
    let resets = lives
        .windows(2)
        .map(|w| Process {
            instance: "a",
            start: w[0],
            end: w[1],
        })
        .collect();
    // Pod replacements: the new pod starts 20 s after the old one stops.
    let (x1, x2) = (t0 - 77 * H + 17 * M + 13_000, t0 + 23 * M + 41_000);
    let replaced = vec![
        Process {
            instance: "a",
            start: origin,
            end: x1,
        },
        Process {
            instance: "b",
            start: x1 + 20 * S,
            end: x2,
        },
        Process {
            instance: "c",
            start: x2 + 20 * S,
            end: forever,
        },
    ];
    let hole_start = t0 - 4 * H - 17 * M - 23 * S;
    vec![
        one("clock", 40, 0, 1),
        one("minutes", 120, 0, 5),
        one("sparse", 600, 313, 1),
        Case {
            processes: resets,
            ..one("resets", 40, 0, 1)
        },
        Case {
            processes: replaced,
            ..one("replaced", 40, 0, 1)
        },
        Case {
            hole: Some((hole_start, hole_start + 20 * M)),
            ..one("hole", 40, 0, 1)
        },
    ]
}

/// Raw samples of one case's counter, per series.
type Raw = Vec<Vec<(i64, f64)>>;

/// What the raw samples say happened in `(a, b]`: per series, reset-aware increases of the
/// samples in it from the last sample at or before `a` (or, for a series that appears, from
/// its first sample).
fn raw_count(raw: &Raw, a: i64, b: i64) -> f64 {
    let mut sum = 0.0;
    for samples in raw {
        let mut last = samples.iter().rev().find(|(t, _)| *t <= a).map(|s| s.1);
        for &(_, v) in samples.iter().filter(|(t, _)| *t > a && *t <= b) {
            if let Some(prev) = last {
                sum += if v >= prev { v - prev } else { v };
            }
            last = Some(v);
        }
    }
    sum
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn rfc3339(ms: i64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms as u64)).to_string()
}

fn figures(eval: &Evaluation, window: i64) -> burnwatch_engine::WindowFigures {
    let window = Duration::from_millis(window as u64);
    if eval.period.window.window == window {
        eval.period.window
    } else {
        *eval.window(window).expect("window evaluated")
    }
}

/// Whether the window `(at - w, at]` is bucket-aligned: its start on a boundary of the level
/// serving it (minutes up to 6h, 10 minutes up to 3d, hours beyond).
fn aligned(at: i64, w: i64) -> bool {
    let resolution = if w <= 6 * H {
        M
    } else if w <= 3 * D {
        10 * M
    } else {
        H
    };
    (at - w) % resolution == 0
}

struct Check<'a> {
    cases: &'a [Case],
    raw: &'a BTreeMap<(String, &'static str), Raw>,
    prometheus: &'a Prometheus,
    compared: usize,
    promql_compared: usize,
    failures: Vec<String>,
}

impl Check<'_> {
    /// Every aligned window of every case at `at` against the raw samples and the exporter.
    fn exact(&mut self, evals: &BTreeMap<String, Evaluation>, at: i64, context: &str) {
        for case in self.cases {
            let eval = &evals[&case.id()];
            assert_eq!(
                eval.at, at,
                "{context}: {} evaluated at another time",
                case.name
            );
            for (label, w) in WINDOWS {
                if !aligned(at, w) {
                    continue;
                }
                // A window cutting the hole sees its events spread over it, by design.
                if let Some((a, b)) = case.hole
                    && at - w > a - 6 * M
                    && at - w < b + M
                {
                    continue;
                }
                let got = figures(eval, w).counts;
                let errors = raw_count(&self.raw[&(case.name.to_string(), "errors")], at - w, at);
                let total = raw_count(&self.raw[&(case.name.to_string(), "total")], at - w, at);
                let what = format!("{context} {} {label} at {}", case.name, rfc3339(at));
                self.compared += 1;
                if (got.errors - errors).abs() > 1e-6 || (got.total - total).abs() > 1e-6 {
                    self.failures.push(format!(
                        "{what}: burnwatch {}/{} events, raw samples {errors}/{total}",
                        got.errors, got.total
                    ));
                }
                // The exporter's truth differs by what was not yet scraped at each end (and, for
                // a replaced pod, before its first and after its last scrape).
                let truth = case.truth(at - w, at);
                let slack = 4 * SCRAPE / S;
                let total_slack = (slack * TOTAL_PER_SECOND) as f64;
                let errors_slack = (case.weight * (slack / case.period + 1) * 2) as f64;
                if (got.total - truth.total).abs() > total_slack
                    || (got.errors - truth.errors).abs() > errors_slack
                {
                    self.failures.push(format!(
                        "{what}: burnwatch {}/{} events, the exporter counted {}/{}",
                        got.errors, got.total, truth.errors, truth.total
                    ));
                }
            }
        }
    }

    /// Error ratios on windows of 1h and longer against PromQL's increase() ratio. increase()
    /// sees only the samples inside the window, so it misses an increment made just before the
    /// window's first sample; a clock-paced counter makes one exactly at the window's start on
    /// every even minute (the very loss this read avoids). Such windows are not compared.
    fn promql(&mut self, evals: &BTreeMap<String, Evaluation>, at: i64, context: &str) {
        for case in self.cases {
            for (label, w) in WINDOWS {
                if w < H
                    || !aligned(at, w)
                    || ticks(at - w - S, at - w + SCRAPE, case.period, case.offset) > 0
                {
                    continue;
                }
                let query = format!(
                    "sum(increase(exact_errors_total{{case=\"{0}\"}}[{label}])) / sum(increase(exact_requests_total{{case=\"{0}\"}}[{label}]))",
                    case.name
                );
                let want = self.prometheus.query(&query, at as f64 / 1000.0)[0].1;
                let got = figures(&evals[&case.id()], w).error_ratio.expect("a ratio");
                self.promql_compared += 1;
                if (got - want).abs() > 0.02 * want {
                    self.failures.push(format!(
                        "{context} {} {label} at {}: error ratio {got}, PromQL {want}",
                        case.name,
                        rfc3339(at)
                    ));
                }
            }
        }
    }
}

fn evaluations(board: &Board) -> BTreeMap<String, Evaluation> {
    board
        .entries()
        .into_iter()
        .map(|e| (e.info.slo.id.clone(), e.eval.clone()))
        .collect()
}

#[test]
fn counts_are_exact_after_backfill_live_ticks_and_replay() {
    exact_counts(false);
}

/// The same cases read from a real VictoriaMetrics holding the same samples (imported as
/// Prometheus text), checked against the same raw samples (read from Prometheus).
#[test]
fn counts_from_victoriametrics_are_exact() {
    exact_counts(true);
}

fn exact_counts(victoria: bool) {
    // The live hour ends three hours before now, so every sample sits in a finished block.
    let t1 = unix_now() / H * H - 3 * H;
    let t0 = t1 - H;
    let origin = t0 - 4 * D;
    let end = t1 + 30 * M;
    let cases = cases(t0, origin);
    let mut families = [String::new(), String::new()];
    for case in &cases {
        case.history(origin, end, &mut families);
    }
    let history = format!(
        "# TYPE exact_requests counter\n{}# TYPE exact_errors counter\n{}# EOF\n",
        families[0], families[1]
    );
    let victoria = victoria.then(|| {
        let vm = VictoriaMetrics::start();
        vm.import_openmetrics(&history);
        vm
    });
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(history),
        ..Default::default()
    });
    let mut raw: BTreeMap<(String, &'static str), Raw> = BTreeMap::new();
    for (role, metric) in [
        ("errors", "exact_errors_total"),
        ("total", "exact_requests_total"),
    ] {
        for (labels, samples) in
            prometheus.raw_samples(&format!("{metric}[5d]"), end as f64 / 1000.0)
        {
            let case = labels["case"].as_str().unwrap().to_string();
            raw.entry((case, role)).or_default().push(samples);
        }
    }
    assert_eq!(
        raw[&("replaced".to_string(), "total")].len(),
        3,
        "three pods, three series"
    );

    let mut text = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\nperiod = \"30d\"\ninterval = \"30s\"\n\n",
        victoria.as_ref().map_or(prometheus.url(), |vm| vm.url())
    );
    for case in &cases {
        text.push_str(&case.slo());
    }
    let config = burnwatch_spec::parse(&text, Path::new("exact.toml"), &|_| None)
        .unwrap_or_else(|errors| panic!("test config invalid:\n{errors}"));
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let backend: Arc<dyn Backend> = Arc::new(
        PrometheusBackend::new(&config.backends["main"], Arc::clone(&metrics)).expect("backend"),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runners = |board: &Arc<Board>| -> Vec<SloRunner> {
        config
            .slos
            .iter()
            .map(|slo| {
                SloRunner::new(
                    slo.clone(),
                    Arc::clone(&backend),
                    Arc::clone(board),
                    Arc::clone(&metrics),
                )
            })
            .collect()
    };
    let mut check = Check {
        cases: &cases,
        raw: &raw,
        prometheus: &prometheus,
        compared: 0,
        promql_compared: 0,
        failures: Vec::new(),
    };

    // Backfill at a whole hour, then live ticks every 30 s at an odd phase, with a tick on each
    // checkpoint (every 10 minutes; odd minutes for PromQL's short windows).
    let board = Arc::new(Board::new());
    let mut live = runners(&board);
    for runner in &mut live {
        runtime.block_on(runner.tick(t0)).expect("backfill");
    }
    let after_backfill = evaluations(&board);
    check.exact(&after_backfill, t0, "backfill");
    check.promql(&after_backfill, t0, "backfill");
    let mut moments: Vec<i64> = (0..120).map(|k| t0 + 13 * S + k * 30 * S).collect();
    let checkpoints: Vec<i64> = (1..=6)
        .map(|k| t0 + k * 10 * M)
        .chain((0..6).map(|k| t0 + k * 10 * M + 11 * M))
        .filter(|t| *t <= t1)
        .collect();
    moments.extend(&checkpoints);
    moments.sort_unstable();
    let mut live_evals: BTreeMap<i64, BTreeMap<String, Evaluation>> = BTreeMap::new();
    for at in moments {
        for runner in &mut live {
            runtime.block_on(runner.tick(at)).expect("live tick");
        }
        if checkpoints.contains(&at) {
            let evals = evaluations(&board);
            check.exact(&evals, at, "live");
            check.promql(&evals, at, "live");
            live_evals.insert(at, evals);
        }
    }

    // Replay over the same hour: the same figures at the same moments.
    let mut replayed: BTreeMap<(i64, String), Evaluation> = BTreeMap::new();
    for mut runner in runners(&Arc::new(Board::new())) {
        let mut on_step = |step: burnwatch_scheduler::ReplayStep<'_>| {
            if checkpoints.contains(&step.at) {
                replayed.insert((step.at, step.instance.slo.id.clone()), step.eval.clone());
            }
        };
        runtime
            .block_on(runner.replay(t0, t1, Duration::from_secs(60), &mut on_step))
            .expect("replay");
    }
    let mut replay_compared = 0;
    for (at, evals) in &live_evals {
        for (id, live) in evals {
            let replay = &replayed[&(*at, id.clone())];
            for (label, w) in WINDOWS {
                let (a, b) = (figures(live, w), figures(replay, w));
                replay_compared += 1;
                let same = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
                let ratios = match (a.error_ratio, b.error_ratio) {
                    (Some(x), Some(y)) => same(x, y),
                    (x, y) => x == y,
                };
                if !same(a.counts.total, b.counts.total)
                    || !same(a.counts.errors, b.counts.errors)
                    || !ratios
                {
                    check.failures.push(format!(
                        "replay {id} {label} at {}: live {:?}, replay {:?}",
                        rfc3339(*at),
                        a,
                        b
                    ));
                }
            }
        }
    }

    // `burnwatch report` over the day before the live hour and the hour itself.
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("exact.toml");
    std::fs::write(&config_path, &text).unwrap();
    let report_start = t0 - D;
    let output = Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .args(["report", "--config"])
        .arg(&config_path)
        .args(["--start", &rfc3339(report_start), "--end", &rfc3339(t1)])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "report: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let instances = report["slos"].as_array().expect("slos");
    assert_eq!(instances.len(), cases.len(), "{report}");
    for case in &cases {
        let instance = instances
            .iter()
            .find(|i| i["slo"] == case.id().as_str())
            .unwrap_or_else(|| panic!("no report for {}: {report}", case.id()));
        let errors = raw_count(&raw[&(case.name.to_string(), "errors")], report_start, t1);
        let total = raw_count(&raw[&(case.name.to_string(), "total")], report_start, t1);
        let got_errors = instance["events"]["errors"].as_f64().unwrap();
        let got_total = instance["events"]["total"].as_f64().unwrap();
        if (got_errors - errors).abs() > 1e-6 || (got_total - total).abs() > 1e-6 {
            check.failures.push(format!(
                "report {}: {got_errors}/{got_total} events, raw samples {errors}/{total}",
                case.name
            ));
        }
    }

    eprintln!(
        "{}: {} exact window comparisons, {} against PromQL ratios, {replay_compared} live/replay",
        if victoria.is_some() {
            "VictoriaMetrics"
        } else {
            "Prometheus"
        },
        check.compared,
        check.promql_compared
    );
    assert!(
        check.compared > 300,
        "too few comparisons: {}",
        check.compared
    );
    assert!(
        check.failures.is_empty(),
        "{} mismatches:\n{}",
        check.failures.len(),
        check.failures.join("\n")
    );
    for reason in [
        "series_limit",
        "detail_limit",
        "too_large",
        "ambiguous_series",
    ] {
        for case in &cases {
            assert_eq!(
                metrics.inexact_reads(&case.id(), reason),
                0,
                "{} fell back to increase() ({reason})",
                case.id()
            );
        }
    }
}
