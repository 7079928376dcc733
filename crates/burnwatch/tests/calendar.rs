//! Calendar periods end to end: `burnwatch replay` against a real Prometheus holding history
//! (written by promtool) across the February/March 2026 boundary in America/New_York, with a
//! monthly calendar SLO.
//!
//! - `a_calendar_month_starts_with_a_full_budget_at_local_midnight_on_the_1st`: before
//!   midnight the period is February (28 days) and its budget is spent by the 1% errors of the
//!   last hours; at the first step after 1 March 00:00 EST the period is March (31 days less
//!   the DST hour of 8 March: 743 hours) and holds only the clean minute since midnight: budget
//!   1.0, although the rolling windows still burn from February.

use std::path::Path;

use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{
    CHECKOUT_AVAILABILITY_SLO, prometheus_with_history, replay_json, replay_steps, unix_seconds,
};

/// 1 March 2026, 00:00 EST (UTC-5) in unix seconds: 2026-01-01T00:00Z is 1,767,225,600; the
/// 1st of March is 31 + 28 = 59 days later, and local midnight 5 hours after 00:00Z.
const MARCH_1: i64 = 1_767_225_600 + 59 * 86_400 + 5 * 3600;
const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

#[test]
fn a_calendar_month_starts_with_a_full_budget_at_local_midnight_on_the_1st() {
    // The last three hours of February at 1% errors (ten times the 0.1% budget), then clean.
    let scenario = Scenario::checkout(vec![
        Phase::steady((MARCH_1 - 3 * HOUR) as f64, 20.0, 0.01, 0.0),
        Phase::steady(MARCH_1 as f64, 20.0, 0.0, 0.0),
    ]);
    let prometheus = prometheus_with_history(&scenario, MARCH_1 - 3 * HOUR, MARCH_1 + HOUR);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("calendar.toml");
    std::fs::write(
        &config,
        format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\n\
             calendar = \"month\"\ntimezone = \"America/New_York\"\n\n{CHECKOUT_AVAILABILITY_SLO}",
            prometheus.url()
        ),
    )
    .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_burnwatch"));
    let stdout = replay_json(bin, &config, MARCH_1 - 10 * MINUTE, MARCH_1 + 10 * MINUTE);
    let steps = replay_steps(&stdout);
    let at = |t: i64| {
        steps
            .iter()
            .find(|s| unix_seconds(s["time"].as_str().unwrap()) == t)
            .unwrap_or_else(|| panic!("no step at {t} in:\n{stdout}"))
    };

    // A minute before midnight: February, 28 days; 2h59m at 1% errors, burn 10, budget -9.
    let before = at(MARCH_1 - MINUTE);
    let period = &before["error_ratio"]["28d"];
    let ratio = period.as_f64().unwrap_or_else(|| panic!("{before}"));
    assert!((ratio - 0.01).abs() < 1e-9, "{before}");
    let budget = before["budget_remaining"].as_f64().unwrap();
    assert!((budget + 9.0).abs() < 1e-9, "{before}");

    // The first step after midnight: March, 743 hours; one clean minute, budget 1.0.
    let after = at(MARCH_1 + MINUTE);
    assert_eq!(after["error_ratio"]["30d23h"], 0.0, "{after}");
    assert_eq!(after["budget_remaining"], 1.0, "{after}");
    assert!(after["error_ratio"].get("28d").is_none(), "{after}");
    // The rolling 1h window still holds February's last 59 minutes at 1%.
    let hour = after["error_ratio"]["1h"].as_f64().unwrap();
    assert!((hour - 0.01 * 59.0 / 60.0).abs() < 1e-9, "{after}");
    // Ten minutes in: still a full budget.
    assert_eq!(at(MARCH_1 + 10 * MINUTE)["budget_remaining"], 1.0);
}
