//! The windows an SLO state tracks, and what makes a window set valid.

use std::time::Duration;

/// The default window set besides the period: 5m 30m 1h 2h 6h 1d 3d.
///
/// These are the short and long windows of the SRE Workbook's multiwindow, multi-burn-rate
/// alerts (page: 5m/1h, 30m/6h; ticket: 2h/1d, 6h/3d), as Sloth uses them.
pub const DEFAULT_WINDOWS: [Duration; 7] = [
    Duration::from_secs(300),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
    Duration::from_secs(7200),
    Duration::from_secs(21600),
    Duration::from_secs(86400),
    Duration::from_secs(259200),
];

pub(crate) const MINUTE: Duration = Duration::from_secs(60);
pub(crate) const HOUR: Duration = Duration::from_secs(3600);
pub(crate) const SIX_HOURS: Duration = Duration::from_secs(6 * 3600);

/// Checks an objective, period and window set, and returns the windows ascending without
/// duplicates.
///
/// # Panics
/// When the objective is not in (0, 1), the period is not a positive whole number of minutes,
/// or a window is zero, not a whole number of minutes, or longer than the period. The spec
/// crate rejects all of these with a message pointing at the config; reaching here with one is
/// a programmer error.
pub(crate) fn checked(objective: f64, period: Duration, windows: &[Duration]) -> Vec<Duration> {
    assert!(
        objective > 0.0 && objective < 1.0,
        "objective {objective} must be a ratio in (0, 1), e.g. 0.999"
    );
    assert!(
        is_whole_minutes(period),
        "period {period:?} must be a positive whole number of minutes"
    );
    let mut out = windows.to_vec();
    for &w in &out {
        assert!(
            is_whole_minutes(w),
            "window {w:?} must be a positive whole number of minutes"
        );
        assert!(
            w <= period,
            "window {w:?} is longer than the period {period:?}"
        );
    }
    out.sort();
    out.dedup();
    out
}

fn is_whole_minutes(d: Duration) -> bool {
    !d.is_zero() && d.as_nanos().is_multiple_of(MINUTE.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn windows_come_back_sorted_and_deduplicated() {
        let w = checked(0.99, 30 * DAY, &[HOUR, MINUTE, HOUR]);
        assert_eq!(w, [MINUTE, HOUR]);
    }

    #[test]
    fn a_window_equal_to_the_period_is_allowed() {
        assert_eq!(checked(0.99, DAY, &[DAY]), [DAY]);
    }

    #[test]
    #[should_panic(expected = "longer than the period")]
    fn a_window_longer_than_the_period_panics() {
        checked(0.99, DAY, &[2 * DAY]);
    }

    #[test]
    #[should_panic(expected = "whole number of minutes")]
    fn a_sub_minute_window_panics() {
        checked(0.99, DAY, &[Duration::from_secs(90)]);
    }

    #[test]
    #[should_panic(expected = "objective")]
    fn objective_one_panics() {
        // 1 - objective is the budget: a zero budget would divide by zero in every burn rate.
        checked(1.0, DAY, &[]);
    }

    #[test]
    #[should_panic(expected = "objective")]
    fn objective_nan_panics() {
        checked(f64::NAN, DAY, &[]);
    }
}
