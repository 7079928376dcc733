//! The error budget over the SLO period: what is left and when it runs out.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::WindowFigures;

/// Figures over the SLO period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PeriodFigures {
    /// The period's own window figures.
    pub window: WindowFigures,
    /// 1 - error ratio over the period.
    pub sli: Option<f64>,
    /// 1 - period burn rate (may be negative when overspent).
    pub budget_remaining: Option<f64>,
    /// remaining * P / burn at the 1h burn rate; None when burn <= 0 or unknown; zero when remaining <= 0.
    pub exhaustion_at_1h_burn: Option<Duration>,
    /// Same at the 6h burn rate.
    pub exhaustion_at_6h_burn: Option<Duration>,
    /// How much of the period the engine holds data for (less than P after a short backfill).
    pub covered: Duration,
    /// How much of the period is excluded (maintenance windows with `exclude`, corrections):
    /// its events count toward nothing.
    #[serde(default)]
    pub excluded: Duration,
}

impl PeriodFigures {
    /// `burn_1h` and `burn_6h` are the burn rates the exhaustion projections extrapolate.
    pub(crate) fn new(
        window: WindowFigures,
        burn_1h: Option<f64>,
        burn_6h: Option<f64>,
        covered: Duration,
    ) -> PeriodFigures {
        // Not clamped: how far a budget is overspent is what a policy review wants to see.
        let remaining = window.burn_rate.map(|b| 1.0 - b);
        PeriodFigures {
            window,
            sli: window.error_ratio.map(|r| 1.0 - r),
            budget_remaining: remaining,
            exhaustion_at_1h_burn: exhaustion(remaining, window.window, burn_1h),
            exhaustion_at_6h_burn: exhaustion(remaining, window.window, burn_6h),
            covered,
            excluded: Duration::ZERO,
        }
    }
}

/// The budget remaining as minutes of full outage: `remaining * (1 - objective) * period`. A
/// 99.9% objective over 30 days allows 43.2 minutes of total failure; half of it left is 21.6.
pub(crate) fn budget_minutes(remaining: f64, objective: f64, period: Duration) -> f64 {
    remaining * crate::Objective::from_ratio(objective).budget() * period.as_secs_f64() / 60.0
}

/// When the budget runs out if `burn` goes on: zero when it already has (whatever the current
/// burn), `None` when nothing burns or the burn is unknown, or the projection is beyond what a
/// `Duration` holds.
fn exhaustion(remaining: Option<f64>, period: Duration, burn: Option<f64>) -> Option<Duration> {
    let remaining = remaining?;
    if remaining <= 0.0 {
        return Some(Duration::ZERO);
    }
    let burn = burn.filter(|b| *b > 0.0)?;
    Duration::try_from_secs_f64(remaining * period.as_secs_f64() / burn).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counts;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn budget_minutes_are_minutes_of_total_outage() {
        let minutes = budget_minutes(0.5, 0.999, 30 * DAY);
        assert!((minutes - 21.6).abs() < 1e-9, "{minutes}");
        assert!(budget_minutes(-0.25, 0.99, DAY) < 0.0);
    }

    #[test]
    fn half_the_budget_at_burn_two_lasts_a_quarter_period() {
        // 0.5 * 30d / 2 = 7.5 days.
        assert_eq!(
            exhaustion(Some(0.5), 30 * DAY, Some(2.0)),
            Some(DAY * 15 / 2)
        );
    }

    #[test]
    fn a_spent_budget_is_exhausted_now_even_without_a_burn_rate() {
        assert_eq!(
            exhaustion(Some(-0.2), 30 * DAY, Some(3.0)),
            Some(Duration::ZERO)
        );
        assert_eq!(exhaustion(Some(0.0), 30 * DAY, None), Some(Duration::ZERO));
    }

    #[test]
    fn no_burn_means_no_projection() {
        assert_eq!(exhaustion(Some(0.5), 30 * DAY, Some(0.0)), None);
        assert_eq!(exhaustion(Some(0.5), 30 * DAY, None), None);
        assert_eq!(exhaustion(None, 30 * DAY, Some(2.0)), None);
        assert_eq!(
            exhaustion(Some(1.0), 30 * DAY, Some(1e-300)),
            None,
            "beyond Duration::MAX"
        );
    }

    #[test]
    fn overspent_budget_is_negative_not_clamped() {
        // Objective 0.75 (25% budget), 50% errors: burn 2, remaining -1.
        let window = WindowFigures::from_counts(
            28 * DAY,
            Counts {
                errors: 50.0,
                total: 100.0,
            },
            0.75,
        );
        let p = PeriodFigures::new(window, Some(2.0), None, 28 * DAY);
        assert_eq!(p.sli, Some(0.5));
        assert_eq!(p.budget_remaining, Some(-1.0));
        assert_eq!(p.exhaustion_at_1h_burn, Some(Duration::ZERO));
        assert_eq!(p.exhaustion_at_6h_burn, Some(Duration::ZERO));
    }
}
