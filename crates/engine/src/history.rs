//! A counting state's observations: the rolling buckets plus what the data state needs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::layout::{Layout, WindowIndex};
use crate::millis::to_duration;
use crate::rolling::Rolling;
use crate::{Counts, DataState, Millis, Observation};

/// Everything a counting state has observed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct History {
    rolling: Rolling,
    pub index: WindowIndex,
    /// Earliest start of any accepted span: how far back the figures reach.
    first_start: Option<Millis>,
    /// Latest end of any accepted span.
    last_end: Option<Millis>,
    /// The latest observation found no series. Kept apart from the buckets: a selector that
    /// stops matching says nothing about the past, so history stays.
    no_series: bool,
    /// Calendar periods: the current period's events, kept as observations arrive so an
    /// evaluation need not add up the buckets since the period's start.
    #[serde(default)]
    current: Option<Current>,
}

/// The events of one calendar period `[start, end)` observed so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Current {
    start: Millis,
    end: Millis,
    counts: Counts,
}

impl Current {
    /// Adds the part of `counts`, spread evenly over `(start, end]`, that falls in the period,
    /// as the buckets split spans.
    fn add(&mut self, start: Millis, end: Millis, counts: Counts) {
        let (lo, hi) = (start.max(self.start), end.min(self.end));
        if hi <= lo {
            return;
        }
        let length = (i128::from(end) - i128::from(start)) as f64;
        self.counts.add(counts.scaled((hi - lo) as f64 / length));
    }
}

impl History {
    pub fn new(layout: &Layout) -> History {
        History {
            rolling: Rolling::new(layout),
            index: layout.index.clone(),
            first_start: None,
            last_end: None,
            no_series: false,
            current: None,
        }
    }

    /// Records one observation. What the data brings is never an error:
    /// - counts with a NaN or infinite component are ignored as a whole, and negative counts
    ///   are raised to 0;
    /// - a reversed span (`start > end`) is ignored;
    /// - a zero-length span is taken as the last millisecond before `end`, so its events count;
    /// - a span ending after the newest time seen advances time to its end; parts older than a
    ///   level's range are dropped for that level.
    ///
    /// Ignored observations change nothing, not even the data state.
    pub fn observe(&mut self, observation: Observation) {
        match observation {
            Observation::Events { start, end, counts } => {
                let Some(counts) = counts.sanitized() else {
                    return;
                };
                if start > end {
                    return;
                }
                let start = if start == end {
                    end.saturating_sub(1)
                } else {
                    start
                };
                if start == end {
                    return; // end is i64::MIN: there is no millisecond before it.
                }
                self.rolling.advance(end);
                self.rolling.add(start, end, counts);
                if let Some(current) = &mut self.current {
                    current.add(start, end, counts);
                }
                self.first_start = Some(self.first_start.map_or(start, |s| s.min(start)));
                self.last_end = Some(self.last_end.map_or(end, |e| e.max(end)));
                self.no_series = false;
            }
            Observation::NoSeries { .. } => self.no_series = true,
        }
    }

    /// Moves time to `now` (or keeps the newest time seen, if later) and returns the moment the
    /// figures describe.
    pub fn advance(&mut self, now: Millis) -> Millis {
        self.rolling.advance(now);
        self.rolling.clock().unwrap_or(now)
    }

    /// Events of the calendar period `[start, end)` so far (call after [`History::advance`]).
    /// Kept as a running sum while the period lasts; recounted from the buckets when a new
    /// period begins, so the first evaluation after its start holds only events since then.
    pub fn period(&mut self, start: Millis, end: Millis) -> Counts {
        match &mut self.current {
            Some(c) if (c.start, c.end) == (start, end) => c.counts.non_negative(),
            current => {
                let counts = self.rolling.since(start);
                *current = Some(Current { start, end, counts });
                counts
            }
        }
    }

    /// Counts of tracked window `i` at the current time.
    pub fn window(&self, i: usize) -> Counts {
        self.rolling.window(i)
    }

    /// A reader of counts over past spans, from whole buckets.
    pub fn spans(&self) -> crate::rolling::Spans {
        self.rolling.spans()
    }

    /// The earliest start of any observation.
    pub fn first_start(&self) -> Option<Millis> {
        self.first_start
    }

    pub fn last_end(&self) -> Option<Millis> {
        self.last_end
    }

    /// How much of the period before `at` the buckets hold data for.
    pub fn covered(&self, at: Millis, period: Duration) -> Duration {
        self.first_start.map_or(Duration::ZERO, |start| {
            to_duration(at.saturating_sub(start)).min(period)
        })
    }

    /// `shortest` is the counts of the shortest configured window.
    pub fn data_state(&self, shortest: Counts) -> DataState {
        if self.last_end.is_none() || self.no_series {
            DataState::NoData
        } else if shortest.total > 0.0 {
            DataState::Ok
        } else {
            DataState::NoTraffic
        }
    }

    /// `(resolution, span)` per level, finest first.
    pub fn levels(&self) -> Vec<(Duration, Duration)> {
        self.rolling
            .levels()
            .map(|(r, s)| (to_duration(r), to_duration(s)))
            .collect()
    }

    /// Every level's ring of buckets, finest first.
    pub fn rings(&self) -> Vec<&[Counts]> {
        self.rolling.rings()
    }

    /// This history without its buckets.
    pub fn frame(&self) -> History {
        History {
            rolling: self.rolling.frame(),
            index: self.index.clone(),
            ..*self
        }
    }

    /// Puts the rings back into a frame.
    pub fn fill(&mut self, rings: Vec<Vec<Counts>>) -> Result<(), String> {
        self.rolling.fill(rings)
    }

    pub fn heap_bytes(&self) -> usize {
        self.rolling.heap_bytes() + self.index.configured.capacity() * size_of::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_WINDOWS;

    const M: i64 = 60_000;
    const T0: i64 = 19_700 * 86_400_000;

    fn history() -> History {
        History::new(&Layout::new(
            Duration::from_secs(30 * 86_400),
            &DEFAULT_WINDOWS,
        ))
    }

    fn events(start: i64, end: i64, errors: f64, total: f64) -> Observation {
        Observation::Events {
            start,
            end,
            counts: Counts { errors, total },
        }
    }

    /// The 5-minute window (tracked first) right after the observations.
    fn five_minutes(h: &mut History) -> Counts {
        h.advance(T0 + M);
        h.window(0)
    }

    #[test]
    fn non_finite_counts_and_reversed_spans_are_ignored_entirely() {
        let mut h = history();
        h.observe(events(T0, T0 + M, f64::NAN, 10.0));
        h.observe(events(T0 + M, T0, 1.0, 10.0));
        assert_eq!(
            h.last_end(),
            None,
            "ignored observations do not count as data"
        );
        assert_eq!(five_minutes(&mut h), Counts::default());
        assert_eq!(h.data_state(Counts::default()), DataState::NoData);
    }

    #[test]
    fn negative_counts_are_raised_to_zero() {
        let mut h = history();
        h.observe(events(T0, T0 + M, -5.0, 10.0));
        assert_eq!(
            five_minutes(&mut h),
            Counts {
                errors: 0.0,
                total: 10.0
            }
        );
    }

    #[test]
    fn a_zero_length_span_counts_in_the_bucket_before_its_end() {
        let mut h = history();
        h.observe(events(T0 + M, T0 + M, 1.0, 10.0));
        // Lands in [T0, T0 + 1m), inside the 5-minute window at T0 + 1m.
        assert_eq!(
            five_minutes(&mut h),
            Counts {
                errors: 1.0,
                total: 10.0
            }
        );
        h.observe(events(i64::MIN, i64::MIN, 1.0, 1.0));
    }

    #[test]
    fn no_series_sets_no_data_but_keeps_history() {
        let mut h = history();
        h.observe(events(T0, T0 + M, 1.0, 10.0));
        h.observe(Observation::NoSeries { at: T0 + M });
        let counts = five_minutes(&mut h);
        assert_eq!(
            counts,
            Counts {
                errors: 1.0,
                total: 10.0
            }
        );
        assert_eq!(h.data_state(counts), DataState::NoData);
        h.observe(events(T0 + M, T0 + M + 30_000, 0.0, 0.0));
        assert_eq!(h.data_state(counts), DataState::Ok);
    }

    #[test]
    fn time_never_runs_backwards() {
        let mut h = history();
        h.observe(events(T0, T0 + 10 * M, 0.0, 10.0));
        assert_eq!(h.advance(T0), T0 + 10 * M);
        assert_eq!(
            h.covered(T0 + 10 * M, Duration::from_secs(300)),
            Duration::from_secs(300)
        );
        assert_eq!(
            h.covered(T0 + 10 * M, Duration::from_secs(3600)),
            Duration::from_secs(600)
        );
    }
}
