//! Which bucket levels a counting state needs, and which level answers each window.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::window::{HOUR, MINUTE, SIX_HOURS};

const TEN_MINUTES: Duration = Duration::from_secs(600);
const THREE_DAYS: Duration = Duration::from_secs(3 * 86_400);
/// Coarse buckets per period: hourly buckets for 30 days, and no more than this many beyond.
const COARSE_BUCKETS: u32 = 720;

/// One level's bucket size and how far back it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LevelSpec {
    pub resolution: Duration,
    pub span: Duration,
}

/// Where each window's figures come from: positions in [`Layout::tracked`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WindowIndex {
    /// The configured windows, ascending.
    pub configured: Vec<usize>,
    pub period: usize,
    /// 1h and 6h are always tracked: budget exhaustion projects at their burn rates even when
    /// no alert uses them.
    pub hour: usize,
    pub six_hours: usize,
}

/// The levels in use (finest first) and the windows they serve.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    pub levels: Vec<LevelSpec>,
    /// Every window tracked (configured, 1h, 6h, period), ascending, with its level.
    pub tracked: Vec<(Duration, usize)>,
    pub index: WindowIndex,
}

impl Layout {
    /// `windows` must be checked (ascending, whole minutes, at most the period).
    ///
    /// Each window goes to the finest level that spans it and whose resolution divides it, so
    /// its edges fall on bucket edges; a window no resolution divides goes to the finest level
    /// spanning it and interpolates across two boundary buckets. Levels no window uses are left
    /// out: they would cost memory and backfill queries for nothing.
    pub fn new(period: Duration, windows: &[Duration]) -> Layout {
        Layout::with_coarse(period, windows, coarse_resolution(period))
    }

    /// The layout of a calendar period reaching back `longest`: hourly coarse buckets whatever
    /// its length, so a period that starts on a local hour (every zone's midnight but a few
    /// half-hour ones) starts on a bucket edge (2,209 buckets for a quarter).
    pub fn calendar(longest: Duration, windows: &[Duration]) -> Layout {
        Layout::with_coarse(longest, windows, HOUR)
    }

    fn with_coarse(period: Duration, windows: &[Duration], coarse: Duration) -> Layout {
        let candidates = [
            LevelSpec {
                resolution: MINUTE,
                span: SIX_HOURS,
            },
            // Nothing older than the period is ever asked for.
            LevelSpec {
                resolution: TEN_MINUTES,
                span: THREE_DAYS.min(period),
            },
            LevelSpec {
                resolution: coarse,
                span: period,
            },
        ];
        let mut all: Vec<Duration> = windows
            .iter()
            .copied()
            .chain([HOUR, SIX_HOURS, period])
            .collect();
        all.sort();
        all.dedup();
        let choice: Vec<usize> = all.iter().map(|&w| finest_for(&candidates, w)).collect();
        let mut used: Vec<usize> = choice.clone();
        used.sort();
        used.dedup();
        let levels = used.iter().map(|&i| candidates[i]).collect();
        let tracked = all
            .iter()
            .zip(&choice)
            .map(|(&w, c)| (w, used.iter().position(|u| u == c).unwrap_or(0)))
            .collect();
        let find = |w: Duration| all.iter().position(|&x| x == w).unwrap_or(0);
        let index = WindowIndex {
            configured: windows.iter().map(|&w| find(w)).collect(),
            period: find(period),
            hour: find(HOUR),
            six_hours: find(SIX_HOURS),
        };
        Layout {
            levels,
            tracked,
            index,
        }
    }
}

fn finest_for(candidates: &[LevelSpec], w: Duration) -> usize {
    let spans = |l: &LevelSpec| l.span >= w;
    candidates
        .iter()
        .position(|l| spans(l) && w.as_nanos().is_multiple_of(l.resolution.as_nanos()))
        .or_else(|| candidates.iter().position(spans))
        // The coarse level spans the period and every window is at most the period, so this is
        // unreachable for checked windows; the coarse level is still the least wrong answer.
        .unwrap_or(candidates.len() - 1)
}

/// `max(1h, period / 720)`, rounded up to a whole hour: at most 720 coarse buckets (plus the
/// partial one) whatever the period, and hourly buckets keep backfill steps round.
fn coarse_resolution(period: Duration) -> Duration {
    let hours = period
        .as_secs()
        .div_ceil(u64::from(COARSE_BUCKETS) * HOUR.as_secs());
    HOUR * u32::try_from(hours.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_WINDOWS;

    const DAY: Duration = Duration::from_secs(86_400);

    fn levels(l: &Layout) -> Vec<(u64, u64)> {
        l.levels
            .iter()
            .map(|s| (s.resolution.as_secs(), s.span.as_secs()))
            .collect()
    }

    #[test]
    fn default_windows_over_30_days_use_all_three_levels() {
        let l = Layout::new(30 * DAY, &DEFAULT_WINDOWS);
        assert_eq!(
            levels(&l),
            [(60, 6 * 3600), (600, 3 * 86_400), (3600, 30 * 86_400)]
        );
        // 5m 30m 1h 2h 6h from minutes, 1d 3d from ten minutes, 30d from hours.
        let by_level: Vec<usize> = l.tracked.iter().map(|t| t.1).collect();
        assert_eq!(by_level, [0, 0, 0, 0, 0, 1, 1, 2]);
        assert_eq!(l.index.configured, [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!((l.index.hour, l.index.six_hours, l.index.period), (2, 4, 7));
    }

    #[test]
    fn coarse_resolution_grows_with_long_periods() {
        assert_eq!(
            coarse_resolution(28 * DAY),
            HOUR,
            "28d / 720 = 56 min rounds up to 1h"
        );
        assert_eq!(coarse_resolution(30 * DAY), HOUR);
        assert_eq!(coarse_resolution(31 * DAY), 2 * HOUR, "744h / 720 > 1h");
        assert_eq!(coarse_resolution(90 * DAY), 3 * HOUR);
    }

    #[test]
    fn a_calendar_month_keeps_hourly_buckets_over_31_days_and_an_hour() {
        let l = Layout::calendar(31 * DAY + HOUR, &DEFAULT_WINDOWS);
        assert_eq!(
            levels(&l),
            [(60, 6 * 3600), (600, 3 * 86_400), (3600, 745 * 3600)]
        );
    }

    #[test]
    fn unused_levels_are_left_out() {
        // Nothing between 6h and the period: no ten-minute level.
        let l = Layout::new(30 * DAY, &[Duration::from_secs(300)]);
        assert_eq!(levels(&l), [(60, 6 * 3600), (3600, 30 * 86_400)]);
        // A short period fits the ten-minute level, which then spans only the period.
        let l = Layout::new(2 * DAY, &[Duration::from_secs(300)]);
        assert_eq!(levels(&l), [(60, 6 * 3600), (600, 2 * 86_400)]);
    }

    #[test]
    fn hour_and_six_hours_are_tracked_even_when_not_configured() {
        let l = Layout::new(30 * DAY, &[Duration::from_secs(300), DAY]);
        let windows: Vec<u64> = l.tracked.iter().map(|t| t.0.as_secs()).collect();
        assert_eq!(windows, [300, 3600, 6 * 3600, 86_400, 30 * 86_400]);
        assert_eq!(l.index.configured, [0, 3]);
        assert_eq!((l.index.hour, l.index.six_hours), (1, 2));
    }

    #[test]
    fn a_window_no_resolution_divides_goes_to_the_finest_level_spanning_it() {
        // 7h5m: the minute level is too short, 10m and 1h do not divide it.
        let odd = Duration::from_secs(7 * 3600 + 300);
        let l = Layout::new(30 * DAY, &[odd]);
        let level = l.tracked.iter().find(|t| t.0 == odd).unwrap().1;
        assert_eq!(l.levels[level].resolution, TEN_MINUTES);
        // 121 days: 5-hour buckets do not divide 2904 hours; the period still gets a level.
        let l = Layout::new(121 * DAY, &[]);
        assert_eq!(l.levels.last().unwrap().resolution, 5 * HOUR);
    }
}
