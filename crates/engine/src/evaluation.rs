//! One evaluation of an SLO instance: every window, the period, the data state.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{DataState, Millis, PeriodFigures, WindowFigures};

/// One evaluation of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The moment evaluated: the `now` given, or the newest observed span end if that is later
    /// (time in the engine never runs backwards).
    pub at: Millis,
    /// The objective as a ratio, e.g. 0.999.
    pub objective: f64,
    /// The configured windows (excluding the period), ascending.
    pub windows: Vec<WindowFigures>,
    /// The period and the error budget.
    pub period: PeriodFigures,
    /// Whether the figures rest on evidence.
    pub data_state: DataState,
}

impl Evaluation {
    /// The figures of a given window (the period included), if it is tracked.
    pub fn window(&self, w: Duration) -> Option<&WindowFigures> {
        self.windows
            .iter()
            .find(|f| f.window == w)
            .or_else(|| (self.period.window.window == w).then_some(&self.period.window))
    }

    /// The budget remaining as minutes of total outage (remaining x error budget x period);
    /// negative when overspent, `None` without evidence.
    pub fn budget_remaining_minutes(&self) -> Option<f64> {
        let remaining = self.period.budget_remaining?;
        Some(crate::budget::budget_minutes(
            remaining,
            self.objective,
            self.period.window.window,
        ))
    }

    /// Heap memory held, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.windows.capacity() * size_of::<WindowFigures>()
    }

    /// When the budget runs out if the last hour's burn rate goes on: `at` plus
    /// [`PeriodFigures::exhaustion_at_1h_burn`]; `at` itself when it is already spent, `None`
    /// when nothing burns.
    pub fn exhaustion_eta(&self) -> Option<Millis> {
        let left = self.period.exhaustion_at_1h_burn?;
        Some(
            self.at
                .saturating_add(i64::try_from(left.as_millis()).unwrap_or(i64::MAX)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counts;

    #[test]
    fn window_finds_configured_windows_and_the_period() {
        let f = |secs: u64, total: f64| {
            WindowFigures::from_counts(
                Duration::from_secs(secs),
                Counts { errors: 0.0, total },
                0.99,
            )
        };
        let eval = Evaluation {
            at: 0,
            objective: 0.99,
            windows: vec![f(300, 1.0), f(3600, 2.0)],
            period: PeriodFigures::new(f(86_400, 3.0), None, None, Duration::ZERO),
            data_state: DataState::Ok,
        };
        assert_eq!(
            eval.window(Duration::from_secs(3600)).unwrap().counts.total,
            2.0
        );
        assert_eq!(
            eval.window(Duration::from_secs(86_400))
                .unwrap()
                .counts
                .total,
            3.0
        );
        assert!(eval.window(Duration::from_secs(600)).is_none());
    }

    #[test]
    fn budget_minutes_and_eta_follow_the_period_figures() {
        const DAY: u64 = 86_400;
        let period = WindowFigures::from_counts(
            Duration::from_secs(30 * DAY),
            Counts {
                errors: 5.0,
                total: 10_000.0,
            },
            0.999,
        );
        // Burn 0.5 over the period, 2 over the last hour: half the budget (21.6 minutes of
        // outage) left, gone in 0.5 * 30d / 2 = 7.5 days.
        let eval = Evaluation {
            at: 1_000,
            objective: 0.999,
            windows: vec![],
            period: PeriodFigures::new(period, Some(2.0), None, Duration::ZERO),
            data_state: DataState::Ok,
        };
        let minutes = eval.budget_remaining_minutes().unwrap();
        assert!((minutes - 21.6).abs() < 1e-9, "{minutes}");
        assert_eq!(
            eval.exhaustion_eta(),
            Some(1_000 + 15 * DAY as i64 * 1000 / 2)
        );
    }
}
