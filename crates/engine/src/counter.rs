//! Reset-aware increases from raw cumulative counter samples.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Millis;

/// Per-series counter tracking: converts raw cumulative samples to reset-aware increments.
///
/// Live ticks read raw samples rather than `increase()`, which extrapolates from whatever
/// samples fall inside a short slice and so double counts or misses increments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CounterTracker {
    series: HashMap<u64, Series>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Series {
    /// Timestamp of the last accepted sample: the baseline for the next increase.
    ts: Millis,
    value: f64,
    /// Newest timestamp of any sample, accepted or not: a series sending only NaN (a broken
    /// exporter) still exists and should not expire, but gives no baseline.
    seen: Millis,
}

impl CounterTracker {
    /// Heap memory held, in bytes, estimated from the map's capacity: a slot per series and a
    /// control byte each, in a table of a power of two slots kept at most 7/8 full.
    pub fn heap_bytes(&self) -> usize {
        let capacity = self.series.capacity();
        if capacity == 0 {
            return 0;
        }
        let slots = if capacity < 8 {
            capacity + 1
        } else {
            (capacity * 8 / 7).next_power_of_two()
        };
        slots * (size_of::<(u64, Series)>() + 1) + 16
    }

    /// Feed one series' samples (ascending by time). Returns the increase since the last known
    /// sample:
    /// - a drop in value is a reset and counts the new value (Prometheus semantics), so the
    ///   result is never negative and never inflated;
    /// - the first sample of an unknown series only sets the baseline (counts 0);
    /// - samples at or before the last accepted timestamp are ignored (already counted);
    /// - NaN, infinite and negative values are skipped (a counter is never negative), but mark
    ///   a known series as seen.
    pub fn ingest(&mut self, series: u64, samples: &[(Millis, f64)]) -> f64 {
        let mut increase = 0.0;
        self.ingest_each(series, samples, |_, _, inc| increase += inc);
        increase
    }

    /// [`CounterTracker::ingest`], handing over every counted increase with the span it
    /// happened in: `(timestamp of the previous accepted sample, timestamp of the sample that
    /// shows the increase, increase)`. Zero increases are handed over too (the span had samples
    /// and no events), so a caller can tell a quiet series from an absent one.
    pub fn ingest_each(
        &mut self,
        series: u64,
        samples: &[(Millis, f64)],
        mut on_increase: impl FnMut(Millis, Millis, f64),
    ) {
        for &(ts, value) in samples {
            let valid = value.is_finite() && value >= 0.0;
            match self.series.get_mut(&series) {
                None if valid => {
                    self.series.insert(
                        series,
                        Series {
                            ts,
                            value,
                            seen: ts,
                        },
                    );
                }
                None => {}
                Some(last) if ts > last.ts => {
                    last.seen = last.seen.max(ts);
                    if valid {
                        let increase = if value >= last.value {
                            value - last.value
                        } else {
                            value
                        };
                        on_increase(last.ts, ts, increase);
                        last.ts = ts;
                        last.value = value;
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// The last accepted sample of `series`: the baseline its next increase is counted from.
    pub fn last(&self, series: u64) -> Option<(Millis, f64)> {
        self.series.get(&series).map(|s| (s.ts, s.value))
    }

    /// Forget `series` (its group is beyond the group limit, or it is to be counted anew).
    pub fn forget(&mut self, series: u64) {
        self.series.remove(&series);
    }

    /// Whether `series` has a baseline (the scheduler seeds unknown series from older samples
    /// before counting the new ones).
    pub fn knows(&self, series: u64) -> bool {
        self.series.contains_key(&series)
    }

    /// Forget series not seen since `cutoff` (so a vanished pod does not grow memory forever).
    pub fn expire(&mut self, cutoff: Millis) {
        self.series.retain(|_, s| s.seen >= cutoff);
    }

    /// Number of series tracked.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no series is tracked.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drop_is_a_reset_counting_the_new_value() {
        let mut t = CounterTracker::default();
        // 10 is the baseline; 10->20 is +10, 20->5 a reset (+5), 5->8 is +3.
        let inc = t.ingest(
            1,
            &[(1_000, 10.0), (2_000, 20.0), (3_000, 5.0), (4_000, 8.0)],
        );
        assert_eq!(inc, 18.0);
    }

    #[test]
    fn first_sample_is_only_a_baseline() {
        let mut t = CounterTracker::default();
        assert_eq!(t.ingest(7, &[(1_000, 500.0)]), 0.0);
        assert!(t.knows(7));
        assert_eq!(t.ingest(7, &[(2_000, 503.5)]), 3.5);
    }

    #[test]
    fn baseline_persists_across_calls_and_old_samples_are_ignored() {
        let mut t = CounterTracker::default();
        t.ingest(1, &[(1_000, 10.0), (2_000, 12.0)]);
        // A repeated or older sample would count twice or count a fake reset.
        assert_eq!(
            t.ingest(1, &[(2_000, 12.0), (1_500, 3.0), (3_000, 15.0)]),
            3.0
        );
    }

    #[test]
    fn nan_and_negative_samples_are_skipped() {
        let mut t = CounterTracker::default();
        let samples = [
            (1_000, 10.0),
            (2_000, f64::NAN),
            (3_000, -4.0),
            (4_000, 14.0),
        ];
        // Without skipping, -4 would look like a reset and 14 would count 18 instead of 4.
        assert_eq!(t.ingest(1, &samples), 4.0);
        assert_eq!(t.ingest(2, &[(1_000, f64::INFINITY)]), 0.0);
        assert!(!t.knows(2), "a non-finite first sample is no baseline");
    }

    #[test]
    fn series_are_independent() {
        let mut t = CounterTracker::default();
        t.ingest(1, &[(1_000, 100.0)]);
        t.ingest(2, &[(1_000, 5.0)]);
        assert_eq!(t.ingest(2, &[(2_000, 6.0)]), 1.0);
        assert_eq!(t.ingest(1, &[(2_000, 150.0)]), 50.0);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn expire_drops_only_series_not_seen_since_cutoff() {
        let mut t = CounterTracker::default();
        t.ingest(1, &[(1_000, 1.0)]);
        t.ingest(2, &[(1_000, 1.0), (5_000, f64::NAN)]);
        t.ingest(3, &[(6_000, 1.0)]);
        t.expire(5_000);
        // Series 2 only sent NaN lately, but it was seen at 5000: it stays.
        assert!(!t.knows(1));
        assert!(t.knows(2));
        assert!(t.knows(3));
        assert_eq!(t.len(), 2);
        assert!(!t.is_empty());
    }

    #[test]
    fn serde_round_trip_keeps_baselines() {
        let mut t = CounterTracker::default();
        t.ingest(u64::MAX, &[(1_000, 10.0)]);
        let json = serde_json::to_string(&t).unwrap();
        let mut back: CounterTracker = serde_json::from_str(&json).unwrap();
        assert_eq!(back.ingest(u64::MAX, &[(2_000, 25.0)]), 15.0);
    }
}
