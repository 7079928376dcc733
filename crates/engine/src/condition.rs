//! What one evaluation says about each alert's condition, before any state is consulted.
//!
//! [`Condition::of`] is the only place that reads figures for alerting; the state machine in
//! `alert.rs` only sees booleans and durations.

use crate::millis::to_millis;
use crate::{AlertKind, AlertPolicy, DataState, Evaluation, Millis, Severity, WindowFigures};

/// One alert's condition at one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Condition {
    /// The alert's expression as written (burn pairs, no series, budget threshold), before
    /// `min_events`; false for a disabled alert.
    pub raw: bool,
    /// What drives the state: `raw` with `min_events` applied.
    pub active: bool,
    /// The figures are not evidence (no series): the alert keeps its state.
    pub frozen: bool,
    /// How long `active` must hold before the alert fires.
    pub hold_for: Millis,
    /// How long a firing alert stays firing after `active` ends.
    pub keep_firing_for: Millis,
}

impl Condition {
    /// A disabled alert: never true, and one still firing (the policy changed) resolves at once.
    const DISABLED: Condition = Condition {
        raw: false,
        active: false,
        frozen: false,
        hold_for: 0,
        keep_firing_for: 0,
    };

    /// The condition of `kind` under `policy` at `eval`.
    pub(crate) fn of(kind: AlertKind, policy: &AlertPolicy, eval: &Evaluation) -> Condition {
        // Without series the figures are leftovers or absent: a backend outage must neither page
        // nor resolve a page. Only `no_data` moves then.
        let no_series = eval.data_state == DataState::NoData;
        match kind {
            AlertKind::Page | AlertKind::Ticket => {
                let severity = kind.severity();
                let enabled = match severity {
                    Severity::Page => policy.page,
                    Severity::Ticket => policy.ticket,
                };
                if !enabled {
                    return Condition::DISABLED;
                }
                let (raw, active) = burn(policy, eval, severity);
                Condition {
                    raw,
                    active,
                    frozen: no_series,
                    hold_for: to_millis(policy.hold_for),
                    keep_firing_for: to_millis(policy.keep_firing_for),
                }
            }
            AlertKind::NoData => match policy.no_data_for {
                // Its own duration is its hold; it ends with the first sign of series.
                Some(no_data_for) => Condition {
                    raw: no_series,
                    active: no_series,
                    frozen: false,
                    hold_for: to_millis(no_data_for),
                    keep_firing_for: 0,
                },
                None => Condition::DISABLED,
            },
            AlertKind::BudgetExhausted => match policy.budget_exhausted {
                // The budget moves slowly: no `for` (it would only delay a fact) and no
                // `keep_firing_for` (there is no short window to flap).
                Some(threshold) => {
                    let raw = eval.period.budget_remaining.is_some_and(|r| r <= threshold);
                    Condition {
                        raw,
                        active: raw,
                        frozen: no_series,
                        hold_for: 0,
                        keep_firing_for: 0,
                    }
                }
                None => Condition::DISABLED,
            },
        }
    }
}

/// `(raw, with min_events)` for the pairs of `severity`: some pair's short and long windows
/// both burn strictly faster than its factor (and, for the second, its long window holds
/// `min_events`). A window that is not tracked or has no burn rate makes its pair false.
fn burn(policy: &AlertPolicy, eval: &Evaluation, severity: Severity) -> (bool, bool) {
    // (burn rate, events) of a window, if it has a burn rate.
    let figures = |w| {
        let f: &WindowFigures = eval.window(w)?;
        Some((f.burn_rate?, f.counts.total))
    };
    let mut raw = false;
    let mut active = false;
    for pair in policy.pairs.iter().filter(|p| p.severity == severity) {
        let (Some((short, _)), Some((long, long_events))) =
            (figures(pair.short), figures(pair.long))
        else {
            continue;
        };
        if short > pair.factor && long > pair.factor {
            raw = true;
            active |= enough_events(long_events, policy.min_events);
        }
    }
    (raw, active)
}

/// Whether a window with a burn rate holds `min_events`. A burn rate with zero events can only
/// come from a ratio the backend computed (counted zero traffic has no burn rate): the count is
/// unknown there, and a gate that could never open would silently disable paging.
fn enough_events(total: f64, min_events: f64) -> bool {
    total == 0.0 || total >= min_events
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Counts, PeriodFigures};

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;

    fn window(secs: u64, total: f64, burn: Option<f64>) -> WindowFigures {
        WindowFigures {
            window: Duration::from_secs(secs),
            counts: Counts { errors: 0.0, total },
            error_ratio: burn.map(|b| b / 1000.0),
            burn_rate: burn,
        }
    }

    fn eval(windows: Vec<WindowFigures>) -> Evaluation {
        Evaluation {
            at: 0,
            objective: 0.999,
            windows,
            period: PeriodFigures::new(
                window(30 * 24 * HOUR, 0.0, None),
                None,
                None,
                Duration::ZERO,
            ),
            data_state: DataState::Ok,
        }
    }

    fn policy(min_events: f64) -> AlertPolicy {
        let mut policy = AlertPolicy::sre_workbook(Duration::from_secs(30 * 24 * HOUR));
        policy.min_events = min_events;
        policy
    }

    #[test]
    fn min_events_counts_the_long_window_of_the_pair_that_holds() {
        // The 5m/1h pair burns but its hour holds 50 events; the 30m/6h pair has 10 000 events
        // in 6h but does not burn. A check over "any long window" would wrongly let the page out.
        let e = eval(vec![
            window(5 * MIN, 5.0, Some(20.0)),
            window(30 * MIN, 20.0, Some(2.0)),
            window(HOUR, 50.0, Some(20.0)),
            window(6 * HOUR, 10_000.0, Some(2.0)),
        ]);
        let c = Condition::of(AlertKind::Page, &policy(100.0), &e);
        assert!(c.raw);
        assert!(!c.active);
        let c = Condition::of(AlertKind::Page, &policy(50.0), &e);
        assert!(c.active, "exactly min_events is enough");
    }

    #[test]
    fn backend_ratios_without_counts_are_not_held_back_by_min_events() {
        let e = eval(vec![
            window(5 * MIN, 0.0, Some(20.0)),
            window(HOUR, 0.0, Some(20.0)),
        ]);
        let c = Condition::of(AlertKind::Page, &policy(1_000.0), &e);
        assert!(c.raw && c.active);
    }

    #[test]
    fn a_missing_window_or_burn_rate_makes_its_pair_false() {
        let only_short = eval(vec![window(5 * MIN, 10.0, Some(20.0))]);
        assert!(!Condition::of(AlertKind::Page, &policy(0.0), &only_short).raw);
        let no_burn = eval(vec![
            window(5 * MIN, 10.0, Some(20.0)),
            window(HOUR, 0.0, None),
        ]);
        assert!(!Condition::of(AlertKind::Page, &policy(0.0), &no_burn).raw);
    }

    #[test]
    fn disabled_alerts_report_no_condition() {
        let e = eval(vec![
            window(5 * MIN, 10.0, Some(20.0)),
            window(HOUR, 10.0, Some(20.0)),
        ]);
        let mut p = policy(0.0);
        p.page = false;
        p.no_data_for = None;
        assert_eq!(Condition::of(AlertKind::Page, &p, &e), Condition::DISABLED);
        let mut e = e;
        e.data_state = DataState::NoData;
        assert_eq!(
            Condition::of(AlertKind::NoData, &p, &e),
            Condition::DISABLED
        );
    }
}
