//! `burnwatch replay` in tests: history in a real Prometheus, the command run, its JSON steps
//! read back.

use std::path::Path;
use std::process::Command;

use burnwatch_simulator::{Scenario, render_openmetrics_history};
use serde_json::Value;

use crate::{Prometheus, PrometheusOptions};

/// A Prometheus holding `scenario` from `from` to `to` (unix seconds), scraped every 30 s.
pub fn prometheus_with_history(scenario: &Scenario, from: i64, to: i64) -> Prometheus {
    let history = render_openmetrics_history(scenario, from as f64, to as f64, 30.0);
    Prometheus::start(PrometheusOptions {
        history: Some(history),
        ..Default::default()
    })
}

/// Runs `burnwatch replay --format json` (the binary at `bin`,
/// `env!("CARGO_BIN_EXE_burnwatch")`) over `config` from `start` to `end` (unix seconds) at its
/// default 1-minute step and returns its standard output; a failed run fails the test with its
/// standard error.
pub fn replay_json(bin: &Path, config: &Path, start: i64, end: i64) -> String {
    let output = Command::new(bin)
        .arg("replay")
        .arg("--config")
        .arg(config)
        .args(["--start", &start.to_string(), "--end", &end.to_string()])
        .args(["--format", "json"])
        .output()
        .unwrap();
    crate::stdout_of(&output)
}

/// The step lines (`"type": "step"`) of `replay --format json` output.
pub fn replay_steps(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v| v["type"] == "step")
        .collect()
}

/// Unix seconds of an RFC 3339 time as replay writes it.
pub fn unix_seconds(rfc3339: &str) -> i64 {
    humantime::parse_rfc3339(rfc3339)
        .unwrap_or_else(|err| panic!("{rfc3339}: {err}"))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
