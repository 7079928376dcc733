//! Progressive objectives end to end: `burnwatch replay` against a real Prometheus holding
//! history (written by promtool) across the date of a `[[slo.objective_schedule]]` step.
//!
//! - `replay_switches_objective_at_the_scheduled_date`: checkout at a steady ~0.6% errors, an
//!   SLO at 99% that tightens to 99.9% from 1 March 2026 (midnight UTC). Every step before the
//!   date reports objective 0.99, every step from it 0.999; each window's burn rate and the
//!   period's budget equal Prometheus' own ratio of rates divided by (1 - the objective in
//!   force at that step); and the ticket condition (2h and 1d burning above 3) is false under
//!   99% and true under 99.9%, with the same events.

use std::collections::BTreeMap;
use std::path::Path;

use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{prometheus_with_history, replay_json, replay_steps, unix_seconds};
use serde_json::Value;

/// 1 March 2026, 00:00 UTC in unix seconds (2026-01-01T00:00Z is 1,767,225,600; 59 days on).
const MARCH_1: i64 = 1_767_225_600 + 59 * 86_400;
const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

const ERRORS: &str = r#"http_requests_total{service="checkout",code=~"5.."}"#;
const TOTAL: &str = r#"http_requests_total{service="checkout"}"#;

#[test]
fn replay_switches_objective_at_the_scheduled_date() {
    let scenario = Scenario::checkout(vec![Phase::steady(
        (MARCH_1 - 4 * HOUR) as f64,
        20.0,
        0.006,
        0.0,
    )]);
    let prometheus = prometheus_with_history(&scenario, MARCH_1 - 4 * HOUR, MARCH_1 + HOUR);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("schedule.toml");
    std::fs::write(
        &config,
        format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[[slo]]\n\
             service = \"checkout\"\nname = \"availability\"\nobjective = 99\n\
             [slo.sli.ratio]\nerrors = '{ERRORS}'\ntotal = '{TOTAL}'\n\
             [[slo.objective_schedule]]\nfrom = \"2026-03-01\"\nobjective = 99.9\n",
            prometheus.url()
        ),
    )
    .unwrap();
    let (start, end) = (MARCH_1 - 10 * MINUTE, MARCH_1 + 10 * MINUTE);
    let bin = Path::new(env!("CARGO_BIN_EXE_burnwatch"));
    let stdout = replay_json(bin, &config, start, end);
    let steps: BTreeMap<i64, Value> = replay_steps(&stdout)
        .into_iter()
        .map(|v| (unix_seconds(v["time"].as_str().unwrap()), v))
        .collect();
    assert_eq!(steps.len(), 21, "{stdout}");

    // Prometheus' error ratio of every window at every step, from its own rate()s.
    let promql_ratio = |window: &str, at: i64| {
        let query = format!("sum(rate({ERRORS}[{window}])) / sum(rate({TOTAL}[{window}]))");
        let result = prometheus.query(&query, at as f64);
        assert_eq!(result.len(), 1, "{query} at {at}: {result:?}");
        result[0].1
    };
    let mut worst = 0.0f64;
    for (&at, step) in &steps {
        let objective = if at < MARCH_1 { 0.99 } else { 0.999 };
        assert_eq!(step["objective"].as_f64(), Some(objective), "{step}");
        for window in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
            let want = promql_ratio(window, at) / (1.0 - objective);
            let got = step["burn_rate"][window]
                .as_f64()
                .unwrap_or_else(|| panic!("no {window} burn rate in {step}"));
            let rel = (got - want).abs() / want;
            worst = worst.max(rel);
            assert!(rel < 1e-9, "{window} at {at}: PromQL {want}, replay {got}");
        }
        let want_budget = 1.0 - promql_ratio("30d", at) / (1.0 - objective);
        let budget = step["budget_remaining"].as_f64().unwrap();
        assert!(
            (budget - want_budget).abs() < 1e-9,
            "budget at {at}: PromQL {want_budget}, replay {budget}"
        );
        let ticket = step["alerts"]["ticket"]["condition"].as_bool().unwrap();
        assert_eq!(ticket, at >= MARCH_1, "ticket condition at {at}: {step}");
    }
    let before = &steps[&(MARCH_1 - MINUTE)];
    let after = &steps[&MARCH_1];
    eprintln!(
        "at {}: objective {}, burn 1h {}, budget {}; at {}: objective {}, burn 1h {}, budget {}; \
         worst relative error against PromQL {worst:.2e}",
        before["time"],
        before["objective"],
        before["burn_rate"]["1h"],
        before["budget_remaining"],
        after["time"],
        after["objective"],
        after["burn_rate"]["1h"],
        after["budget_remaining"],
    );
}
