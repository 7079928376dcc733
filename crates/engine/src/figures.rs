//! The figures of one window: counts, error ratio, burn rate.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Counts;
use crate::Objective;

/// Figures of one window at an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowFigures {
    /// The window's length.
    pub window: Duration,
    /// Events in the window, errors clamped to `[0, total]` (zero for a direct state).
    pub counts: Counts,
    /// errors/total; None when total == 0 (no evidence) or no data.
    pub error_ratio: Option<f64>,
    /// error_ratio / (1 - objective).
    pub burn_rate: Option<f64>,
}

impl WindowFigures {
    /// Figures from counted events over a span of length `window` (errors clamped to the total).
    pub fn from_counts(
        window: Duration,
        counts: Counts,
        objective: impl Into<Objective>,
    ) -> WindowFigures {
        let counts = counts.clamped();
        WindowFigures::with_ratio(window, counts, counts.error_ratio(), objective.into())
    }

    /// Figures from a ratio the backend computed (counts unknown, so zero).
    pub(crate) fn from_ratio(
        window: Duration,
        ratio: Option<f64>,
        objective: Objective,
    ) -> WindowFigures {
        WindowFigures::with_ratio(window, Counts::default(), ratio, objective)
    }

    fn with_ratio(
        window: Duration,
        counts: Counts,
        ratio: Option<f64>,
        objective: Objective,
    ) -> WindowFigures {
        WindowFigures {
            window,
            counts,
            error_ratio: ratio,
            burn_rate: ratio.map(|r| r / objective.budget()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn burn_rate_is_ratio_over_budget() {
        let f = WindowFigures::from_counts(
            HOUR,
            Counts {
                errors: 5.0,
                total: 100.0,
            },
            0.75,
        );
        // 5% errors against a 25% budget burns at a fifth of the sustainable rate.
        assert_eq!(f.error_ratio, Some(0.05));
        assert_eq!(f.burn_rate, Some(0.2));
    }

    #[test]
    fn reported_counts_are_clamped_like_the_ratio() {
        let f = WindowFigures::from_counts(
            HOUR,
            Counts {
                errors: 12.0,
                total: 10.0,
            },
            0.5,
        );
        assert_eq!(
            f.counts,
            Counts {
                errors: 10.0,
                total: 10.0
            }
        );
        assert_eq!(f.burn_rate, Some(2.0));
    }

    #[test]
    fn zero_traffic_has_no_ratio_and_no_burn() {
        let f = WindowFigures::from_counts(HOUR, Counts::default(), 0.999);
        assert_eq!((f.error_ratio, f.burn_rate), (None, None));
    }
}
