//! Spans of time whose events count toward nothing: maintenance windows with `exclude` and
//! budget corrections.
//!
//! Events are spread uniformly over an observation's span (as everywhere in the engine), so an
//! observation that straddles an excluded edge loses the excluded share of its events. Live
//! ticks and backfill observe minute-aligned spans, so an exclusion on whole minutes removes
//! exactly the events inside it.

use serde::{Deserialize, Serialize};

use crate::{Counts, Millis};

/// Excluded spans `(start, end]` in unix milliseconds: sorted, overlapping and touching spans
/// merged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    spans: Vec<(Millis, Millis)>,
}

impl Excluded {
    /// The union of `spans`; empty or reversed spans are left out.
    pub fn new(spans: impl IntoIterator<Item = (Millis, Millis)>) -> Excluded {
        let mut all: Vec<(Millis, Millis)> = spans.into_iter().filter(|(s, e)| s < e).collect();
        all.sort_unstable();
        let mut merged: Vec<(Millis, Millis)> = Vec::with_capacity(all.len());
        for (start, end) in all {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Excluded { spans: merged }
    }

    /// No span at all.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The merged spans, oldest first.
    pub fn spans(&self) -> &[(Millis, Millis)] {
        &self.spans
    }

    /// Whether the moment `at` lies in an excluded span (`start < at <= end`).
    pub fn contains(&self, at: Millis) -> bool {
        self.spans.iter().any(|&(s, e)| s < at && at <= e)
    }

    /// Excluded milliseconds within `(start, end]`.
    pub fn overlap(&self, start: Millis, end: Millis) -> Millis {
        self.spans
            .iter()
            .map(|&(s, e)| (e.min(end) - s.max(start)).max(0))
            .sum()
    }

    /// The parts of the spans within `(from, to]`.
    pub fn within(&self, from: Millis, to: Millis) -> Excluded {
        Excluded::new(self.spans.iter().map(|&(s, e)| (s.max(from), e.min(to))))
    }

    /// `(start, end]` cut at the excluded edges: each part with whether it is excluded, in
    /// order; the parts cover the span exactly.
    pub(crate) fn parts(&self, start: Millis, end: Millis) -> Vec<(Millis, Millis, bool)> {
        let mut parts = Vec::new();
        let mut at = start;
        for &(s, e) in &self.spans {
            if e <= at || s >= end {
                continue;
            }
            if s > at {
                parts.push((at, s, false));
                at = s;
            }
            let to = e.min(end);
            parts.push((at, to, true));
            at = to;
        }
        if at < end {
            parts.push((at, end, false));
        }
        parts
    }

    /// The events of `(start, end]` split over its parts: excluded parts get none, the others
    /// their share of `counts` by length.
    pub(crate) fn split(
        &self,
        start: Millis,
        end: Millis,
        counts: Counts,
    ) -> Vec<(Millis, Millis, Counts)> {
        if self.spans.is_empty() || start >= end {
            return vec![(start, end, counts)];
        }
        let length = (i128::from(end) - i128::from(start)) as f64;
        self.parts(start, end)
            .into_iter()
            .map(|(s, e, excluded)| {
                let share = if excluded {
                    Counts::default()
                } else {
                    counts.scaled((i128::from(e) - i128::from(s)) as f64 / length)
                };
                (s, e, share)
            })
            .collect()
    }
}

/// Where a span comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Origin {
    /// A `[[maintenance]]` definition, by name.
    Maintenance {
        /// The definition's `name`.
        name: String,
    },
    /// A correction made through the API, by id.
    Correction {
        /// The correction's id.
        id: String,
        /// `maintenance`, `deployment`, `dependency`, `load_test` or `other`.
        category: String,
    },
}

/// One span of time some SLO's events are excluded from, or its notifications silenced in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionSpan {
    /// Exclusive start, unix milliseconds.
    pub start: Millis,
    /// Inclusive end, unix milliseconds.
    pub end: Millis,
    /// The definition or correction it comes from.
    #[serde(flatten)]
    pub origin: Origin,
    /// Why, as its author wrote it.
    pub reason: String,
    /// Events inside count toward no window and no budget.
    pub exclude: bool,
    /// Alerts keep their state but notify nobody while inside.
    pub silence: bool,
}

/// The union of the spans that exclude events.
pub fn excluded_of(spans: &[ExclusionSpan]) -> Excluded {
    Excluded::new(spans.iter().filter(|s| s.exclude).map(|s| (s.start, s.end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Millis = 60_000;

    #[test]
    fn spans_merge_and_drop_empty_ones() {
        let x = Excluded::new([(5, 10), (0, 3), (3, 4), (8, 12), (20, 20), (30, 25)]);
        assert_eq!(x.spans(), &[(0, 4), (5, 12)]);
        assert!(!x.contains(0) && x.contains(1) && x.contains(4) && !x.contains(5));
        assert_eq!(x.overlap(2, 6), 3); // (2,4] and (5,6]
    }

    #[test]
    fn a_split_gives_excluded_parts_nothing_and_the_rest_its_share() {
        // An hour of 600 events with minutes 20 to 40 excluded: 200 before, 200 after.
        let x = Excluded::new([(20 * MINUTE, 40 * MINUTE)]);
        let counts = Counts {
            errors: 60.0,
            total: 600.0,
        };
        let parts = x.split(0, 60 * MINUTE, counts);
        let expected = [
            (0, 20 * MINUTE, 20.0, 200.0),
            (20 * MINUTE, 40 * MINUTE, 0.0, 0.0),
            (40 * MINUTE, 60 * MINUTE, 20.0, 200.0),
        ];
        assert_eq!(parts.len(), 3);
        for ((s, e, c), (es, ee, err, tot)) in parts.iter().zip(expected) {
            assert_eq!((*s, *e), (es, ee));
            assert!((c.errors - err).abs() < 1e-9 && (c.total - tot).abs() < 1e-9);
        }
        // A span wholly outside is untouched; wholly inside keeps its span with no events.
        assert_eq!(x.split(0, MINUTE, counts), vec![(0, MINUTE, counts)]);
        let inside = x.split(25 * MINUTE, 26 * MINUTE, counts);
        assert_eq!(inside, vec![(25 * MINUTE, 26 * MINUTE, Counts::default())]);
    }
}

#[cfg(test)]
mod state_tests {
    use std::time::Duration;

    use super::*;
    use crate::{Observation, SloState};

    const MINUTE: Millis = 60_000;

    /// Two hours of 1,000 requests a minute with 1 error a minute, and `outage` minutes at 100%
    /// errors from minute 50; minutes 50..70 excluded.
    fn budget_remaining(outage: bool) -> f64 {
        let mut state = SloState::counted(
            0.99,
            Duration::from_secs(86_400),
            &[Duration::from_secs(300), Duration::from_secs(3600)],
        );
        state.exclude(Excluded::new([(50 * MINUTE, 70 * MINUTE)]));
        for minute in 0..120 {
            let errors = if outage && (50..70).contains(&minute) {
                1000.0
            } else {
                1.0
            };
            state.observe(Observation::Events {
                start: minute * MINUTE,
                end: (minute + 1) * MINUTE,
                counts: Counts {
                    errors,
                    total: 1000.0,
                },
            });
        }
        let eval = state.evaluate(120 * MINUTE);
        assert_eq!(eval.period.excluded, Duration::from_secs(20 * 60));
        eval.period.budget_remaining.unwrap()
    }

    #[test]
    fn an_excluded_outage_spends_nothing() {
        // 100 clean-ish minutes count: 100 errors in 100,000 requests, 0.1% of a 1% budget.
        let expected = 1.0 - (100.0 / 100_000.0) / 0.01;
        assert!((budget_remaining(true) - expected).abs() < 1e-9);
        assert!((budget_remaining(false) - expected).abs() < 1e-9);
    }
}
