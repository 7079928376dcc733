//! Events a hole in the backend's own data hides from bucket queries.
//!
//! `increase(x[1m])` at a step inside a stretch where the backend scraped nothing has no samples
//! and returns nothing, and the step after it sees only the samples after the hole: the counter's
//! jump across the hole is in no bucket. The raw counters, tracked from before the gap, count it.
//! The difference is spread evenly over the hole's steps: where inside the hole the events
//! happened is unknowable, and both errors and totals are spread alike, so ratios keep their level.

use std::collections::BTreeMap;
use std::time::Duration;

use burnwatch_engine::{Counts, Millis};

use super::{GroupKey, Points, Tally};
use crate::backfill::Chunk;

/// Gaps up to this long have their raw samples read to find what a hole hides; longer ones are
/// filled from the buckets alone (the raw answer would grow with the gap).
pub(crate) const MAX_RAW_GAP: Duration = Duration::from_secs(3600);

/// Hidden events smaller than this share of the raw increase are `increase()`'s extrapolation,
/// not a hole's events, and are left alone.
const TOLERANCE: f64 = 0.01;

/// One fetched chunk of a gap fill.
pub(crate) struct Fetched {
    /// Distance between points.
    pub step: Duration,
    /// The points asked for.
    pub chunk: Chunk,
    /// What came back, per point and group.
    pub points: Points,
}

impl Tally {
    fn merge(&mut self, other: &Tally) {
        self.errors += other.errors;
        self.good += other.good;
        self.total += other.total;
        self.has_total |= other.has_total;
        self.has_good |= other.has_good;
    }

    /// Events (errors and total) in the form `counts` gives them.
    fn events(counts: Counts) -> Tally {
        Tally {
            errors: counts.errors,
            good: 0.0,
            total: counts.total,
            has_total: true,
            has_good: false,
        }
    }
}

/// What `raw` holds beyond `filled`, as errors and total (for good/total SLIs the errors are
/// total - good on each side, so rounding in one role cannot turn good events into errors);
/// `None` when it is within the tolerance or inconsistent.
fn hidden(raw: &Tally, filled: &Tally) -> Option<Tally> {
    let raw = raw.counts()?;
    let filled = filled.counts().unwrap_or(Counts {
        errors: 0.0,
        total: 0.0,
    });
    let total = raw.total - filled.total;
    if total <= TOLERANCE * raw.total || total <= 0.0 {
        return None;
    }
    let errors = (raw.errors - filled.errors).clamp(0.0, total);
    Some(Tally::events(Counts { errors, total }))
}

/// Adds to the steps where `fetched` has nothing for a group the events `raw` (the raw counters'
/// increase over the whole gap) holds beyond the group's fetched steps. Groups without a hole
/// are left alone (the difference is then only `increase()`'s extrapolation).
pub(crate) fn spread_hidden(raw: &BTreeMap<GroupKey, Tally>, fetched: &mut [Fetched]) {
    for (key, raw) in raw {
        let mut filled = Tally::default();
        let mut holes: Vec<(usize, Millis, i64)> = Vec::new();
        for (i, chunk) in fetched.iter().enumerate() {
            let step = chunk.step.as_millis() as i64;
            let mut ts = chunk.chunk.first;
            while ts <= chunk.chunk.last {
                match chunk.points.get(&ts).and_then(|groups| groups.get(key)) {
                    Some(tally) => filled.merge(tally),
                    None => holes.push((i, ts, step)),
                }
                ts += step;
            }
        }
        let hole_ms: i64 = holes.iter().map(|&(_, _, step)| step).sum();
        let Some(hidden) = hidden(raw, &filled).filter(|_| hole_ms > 0) else {
            continue;
        };
        for (i, ts, step) in holes {
            let share = step as f64 / hole_ms as f64;
            let share = Tally {
                errors: hidden.errors * share,
                total: hidden.total * share,
                ..hidden
            };
            fetched[i]
                .points
                .entry(ts)
                .or_default()
                .insert(key.clone(), share);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Role;

    const M: i64 = 60_000;

    fn tally(errors: f64, total: f64) -> Tally {
        let mut t = Tally::default();
        t.add(Role::Errors, errors);
        t.add(Role::Total, total);
        t
    }

    fn fetched(present: &[(Millis, f64, f64)], first: Millis, last: Millis) -> Fetched {
        let key: GroupKey = Vec::new();
        let mut points = Points::new();
        for &(ts, errors, total) in present {
            points
                .entry(ts)
                .or_default()
                .insert(key.clone(), tally(errors, total));
        }
        Fetched {
            step: Duration::from_secs(60),
            chunk: Chunk { first, last },
            points,
        }
    }

    fn counts_at(f: &Fetched, ts: Millis) -> Option<(f64, f64)> {
        let c = f.points.get(&ts)?.get(&Vec::<String>::new())?.counts()?;
        Some((c.errors, c.total))
    }

    #[test]
    fn the_jump_across_a_hole_is_spread_over_the_hole() {
        // Steps 1..=6; the backend saw nothing at 3, 4 and 5. The raw counters grew by 60 errors
        // of 6000 over the gap; the buckets hold 10 of 3000.
        let mut f = vec![fetched(
            &[(M, 3.0, 1000.0), (2 * M, 3.0, 1000.0), (6 * M, 4.0, 1000.0)],
            M,
            6 * M,
        )];
        let raw = BTreeMap::from([(Vec::new(), tally(60.0, 6000.0))]);
        spread_hidden(&raw, &mut f);
        for ts in [3 * M, 4 * M, 5 * M] {
            let (errors, total) = counts_at(&f[0], ts).expect("hole filled");
            assert!((errors - 50.0 / 3.0).abs() < 1e-9, "{errors}");
            assert!((total - 1000.0).abs() < 1e-9, "{total}");
        }
        assert_eq!(
            counts_at(&f[0], M),
            Some((3.0, 1000.0)),
            "present steps untouched"
        );
    }

    #[test]
    fn without_a_hole_nothing_is_added() {
        let present: Vec<_> = (1..=5).map(|i| (i * M, 1.0, 100.0)).collect();
        let mut f = vec![fetched(&present, M, 5 * M)];
        // Extrapolation differences between raw and bucket sums are not events.
        let raw = BTreeMap::from([(Vec::new(), tally(6.0, 530.0))]);
        spread_hidden(&raw, &mut f);
        assert_eq!(f[0].points.len(), 5);
        assert_eq!(counts_at(&f[0], 3 * M), Some((1.0, 100.0)));
    }

    #[test]
    fn nothing_hidden_adds_nothing_even_with_a_hole() {
        let mut f = vec![fetched(&[(M, 1.0, 100.0)], M, 3 * M)];
        let raw = BTreeMap::from([(Vec::new(), tally(1.0, 100.0))]);
        spread_hidden(&raw, &mut f);
        assert_eq!(counts_at(&f[0], 2 * M), None);
    }

    fn good_total(good: f64, total: f64) -> Tally {
        let mut t = Tally::default();
        t.add(Role::Good, good);
        t.add(Role::Total, total);
        t
    }

    #[test]
    fn good_and_total_are_compared_as_errors_so_rounding_invents_none() {
        // Extrapolation put slightly more good than total in the buckets; the raw counters saw
        // 10 errors in 3000. The hole hides 40 events, of which at most 10 can be errors.
        let key: GroupKey = Vec::new();
        let mut points = Points::new();
        points
            .entry(M)
            .or_default()
            .insert(key.clone(), good_total(2995.0, 2960.0));
        let mut f = vec![Fetched {
            step: Duration::from_secs(60),
            chunk: Chunk {
                first: M,
                last: 2 * M,
            },
            points,
        }];
        let raw = BTreeMap::from([(key, good_total(2990.0, 3000.0))]);
        spread_hidden(&raw, &mut f);
        let (errors, total) = counts_at(&f[0], 2 * M).expect("the hole is filled");
        assert!((total - 40.0).abs() < 1e-9, "{total}");
        assert!((errors - 10.0).abs() < 1e-9, "{errors} errors invented");
    }

    #[test]
    fn extrapolation_noise_within_the_tolerance_is_not_spread() {
        // 0.5% more in the raw counters than in the buckets, and a step without data (a series
        // that appeared late): not a hole's events.
        let mut f = vec![fetched(&[(M, 1.0, 1000.0), (2 * M, 1.0, 1000.0)], M, 3 * M)];
        let raw = BTreeMap::from([(Vec::new(), tally(2.0, 2010.0))]);
        spread_hidden(&raw, &mut f);
        assert_eq!(counts_at(&f[0], 3 * M), None);
    }
}
