//! Exact event counting: every counter increase lands in the bucket of the sample that shows it.
//!
//! Live ticks (raw samples), backfill, gap fills and replay (counter values at bucket
//! boundaries) all end here, so an increment is counted once, in one bucket, whatever its phase
//! against the buckets. A [`Placer`] takes increases as `(previous sample, sample, increase)`
//! from [`burnwatch_engine::CounterTracker`] (one copy of the reset rule) and files them by
//! group and bucket:
//! - an increase goes to the bucket `(lo, hi]` that holds the sample showing it;
//! - across a hole in the backend's data (a bucket boundary where the series had no sample
//!   within the lookback) it is spread evenly over the hole instead, so an outage's events do
//!   not pile up in the minute after it and fake a fast burn;
//! - across more than [`SERIES_MEMORY`] it is not counted: the series is taken as new, as the
//!   live trackers forget series that long gone.

use std::collections::BTreeMap;

use burnwatch_engine::{Counts, Millis};

use crate::plan::Role;

/// Group label values, in `group_by` order.
pub(crate) type GroupKey = Vec<String>;

/// How long Prometheus looks back for an instant selector's sample (its `--query.lookback-delta`
/// default). A bucket boundary without a sample this close before it is a hole.
pub(crate) const LOOKBACK: i64 = 5 * 60_000;

/// How long a series that stopped reporting keeps its last sample as a baseline.
pub(crate) const SERIES_MEMORY: i64 = 6 * 3_600_000;

/// A span `(start, end]`, ordered by its end first (the order in which spans are fed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Span {
    /// Inclusive end.
    pub end: Millis,
    /// Exclusive start.
    pub start: Millis,
}

/// Per span, per group: the tallies of every role.
pub(crate) type Points = BTreeMap<Span, BTreeMap<GroupKey, Tally>>;

/// Per-group accumulation over one span.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Tally {
    errors: f64,
    good: f64,
    total: f64,
    has_total: bool,
    has_good: bool,
}

impl Tally {
    pub(crate) fn add(&mut self, role: Role, value: f64) {
        match role {
            Role::Errors => self.errors += value,
            Role::Good => {
                self.good += value;
                self.has_good = true;
            }
            Role::Total => {
                self.total += value;
                self.has_total = true;
            }
        }
    }

    /// Counts, or None when the total counter had no series for this group.
    pub(crate) fn counts(&self) -> Option<Counts> {
        if !self.has_total {
            return None;
        }
        let errors = if self.has_good {
            (self.total - self.good).max(0.0)
        } else {
            self.errors
        };
        Some(Counts {
            errors,
            total: self.total,
        })
    }
}

/// The buckets a read fills: `(lo, hi]`, aligned to absolute time, at the step of the region
/// they fall in (finest outside every region), and clipped to the read's own span.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    /// `(exclusive start, inclusive end, step)`, ascending and contiguous.
    regions: Vec<(Millis, Millis, i64)>,
    fine: i64,
    start: Millis,
    end: Millis,
}

impl Grid {
    /// Buckets of `fine` ms over `(start, end]` (a live tick).
    pub(crate) fn uniform(start: Millis, end: Millis, fine: i64) -> Grid {
        Grid {
            regions: Vec::new(),
            fine: fine.max(1),
            start,
            end,
        }
    }

    /// Buckets of each region `(exclusive start, inclusive end, step)` (ascending, contiguous,
    /// aligned to their steps), over `(start, last region's end]`; `start` may lie before the
    /// first region (a gap fill starting between two boundaries).
    pub(crate) fn regions(regions: Vec<(Millis, Millis, i64)>, start: Millis, fine: i64) -> Grid {
        let end = regions.last().map_or(start, |r| r.1);
        Grid {
            regions,
            fine: fine.max(1),
            start,
            end,
        }
    }

    /// The read's span `(start, end]`.
    pub(crate) fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.end,
        }
    }

    fn step_at(&self, t: Millis) -> i64 {
        self.regions
            .iter()
            .find(|&&(lo, hi, _)| lo < t && t <= hi)
            .map_or(self.fine, |r| r.2)
    }

    /// The bucket holding instant `t`: `(lo, hi]` with `lo < t <= hi`, clipped to the read.
    fn bucket(&self, t: Millis) -> Span {
        let step = self.step_at(t);
        let end = (t - 1).div_euclid(step) * step + step;
        self.clip(Span {
            start: end - step,
            end,
        })
    }

    fn clip(&self, span: Span) -> Span {
        if span.end <= self.start || span.start >= self.end {
            return span; // wholly outside the read (a hole reaching back): kept whole
        }
        Span {
            start: span.start.max(self.start),
            end: span.end.min(self.end),
        }
    }

    /// Where a hole that starts after the sample at `prev` begins: the last boundary at which
    /// that sample was still within the lookback (a live read has no boundary values, so the
    /// hole is placed where a boundary read would place it).
    pub(crate) fn hole_start(&self, prev: Millis) -> Millis {
        (prev + LOOKBACK).div_euclid(self.fine) * self.fine
    }

    /// Whether raw samples at `prev` and `t` straddle a hole: a fine boundary between them has
    /// no sample within the lookback.
    pub(crate) fn is_hole(&self, prev: Millis, t: Millis) -> bool {
        let last_boundary = (t - 1).div_euclid(self.fine) * self.fine;
        last_boundary > prev && last_boundary - prev > LOOKBACK
    }
}

/// Files increases by group and bucket.
#[derive(Debug)]
pub(crate) struct Placer {
    grid: Grid,
    points: Points,
    /// Per group, which roles have series in this read (the tallies' flags).
    roles: BTreeMap<GroupKey, Tally>,
}

impl Placer {
    pub(crate) fn new(grid: Grid) -> Placer {
        Placer {
            grid,
            points: Points::new(),
            roles: BTreeMap::new(),
        }
    }

    /// A series of `role` in group `key` has a sample at `t`: its bucket is observed, with no
    /// events unless an increase says otherwise.
    pub(crate) fn seen(&mut self, key: &GroupKey, role: Role, t: Millis) {
        self.mark(key, role);
        let span = self.grid.bucket(t);
        self.slot(span, key);
    }

    /// A series of `role` in group `key` is present over the whole read (a live tick).
    pub(crate) fn present(&mut self, key: &GroupKey, role: Role) {
        self.mark(key, role);
        let span = self.grid.span();
        let mut t = span.start;
        while t < span.end {
            let bucket = self.grid.bucket(t + 1);
            self.slot(bucket, key);
            t = bucket.end;
        }
    }

    /// `increase` of a series of `role` in group `key`, shown by the sample at `t` after the one
    /// at `prev`. With `hole_from`, the series had no sample at the boundaries after that moment
    /// until `t`: the increase is spread evenly over `(hole_from, t]`.
    pub(crate) fn increase(
        &mut self,
        key: &GroupKey,
        role: Role,
        prev: Millis,
        t: Millis,
        increase: f64,
        hole_from: Option<Millis>,
    ) {
        if t - prev > SERIES_MEMORY || increase.is_nan() || increase <= 0.0 {
            return;
        }
        self.mark(key, role);
        let Some(from) = hole_from.filter(|&from| from < t) else {
            let span = self.grid.bucket(t);
            self.slot(span, key).add(role, increase);
            return;
        };
        let length = (t - from) as f64;
        let mut at = from;
        while at < t {
            let bucket = self.grid.bucket(at + 1);
            let piece_end = bucket.end.min(t).max(at + 1);
            let share = increase * (piece_end - at) as f64 / length;
            self.slot(bucket, key).add(role, share);
            at = piece_end;
        }
    }

    fn mark(&mut self, key: &GroupKey, role: Role) {
        self.roles.entry(key.clone()).or_default().add(role, 0.0);
    }

    fn slot(&mut self, span: Span, key: &GroupKey) -> &mut Tally {
        self.points
            .entry(span)
            .or_default()
            .entry(key.clone())
            .or_default()
    }

    /// Every span's tallies, each carrying its group's roles.
    pub(crate) fn finish(mut self) -> Points {
        for groups in self.points.values_mut() {
            for (key, tally) in groups.iter_mut() {
                if let Some(roles) = self.roles.get(key) {
                    tally.has_total |= roles.has_total;
                    tally.has_good |= roles.has_good;
                }
            }
        }
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;

    fn key() -> GroupKey {
        Vec::new()
    }

    fn counts(points: &Points, start: Millis, end: Millis) -> Option<Counts> {
        points.get(&Span { start, end })?.get(&key())?.counts()
    }

    #[test]
    fn an_increase_lands_in_the_bucket_of_the_sample_that_shows_it() {
        // Samples at 0:50 and 1:10: the increase is shown at 1:10, so it is the second minute's
        // whatever the phase; a sample exactly on a boundary belongs to the bucket it ends.
        let mut p = Placer::new(Grid::uniform(0, 3 * M, M));
        p.present(&key(), Role::Total);
        p.increase(&key(), Role::Total, 50_000, 70_000, 4.0, None);
        p.increase(&key(), Role::Total, 70_000, 2 * M, 1.0, None);
        let points = p.finish();
        assert_eq!(counts(&points, 0, M).unwrap().total, 0.0);
        assert_eq!(counts(&points, M, 2 * M).unwrap().total, 5.0);
        assert_eq!(counts(&points, 2 * M, 3 * M).unwrap().total, 0.0);
    }

    #[test]
    fn a_live_read_is_clipped_to_its_span() {
        let mut p = Placer::new(Grid::uniform(45_000, 75_000, M));
        p.present(&key(), Role::Total);
        p.increase(&key(), Role::Total, 45_000, 60_000, 2.0, None);
        p.increase(&key(), Role::Total, 60_000, 75_000, 3.0, None);
        let points = p.finish();
        assert_eq!(points.len(), 2);
        assert_eq!(counts(&points, 45_000, M).unwrap().total, 2.0);
        assert_eq!(counts(&points, M, 75_000).unwrap().total, 3.0);
    }

    #[test]
    fn a_hole_is_spread_over_its_buckets() {
        // 30 events shown at 10:00 after a hole from 7:00: 10 per minute.
        let mut p = Placer::new(Grid::uniform(0, 10 * M, M));
        p.present(&key(), Role::Total);
        p.increase(&key(), Role::Total, 2 * M, 10 * M, 30.0, Some(7 * M));
        let points = p.finish();
        for m in 7..10 {
            assert_eq!(counts(&points, m * M, (m + 1) * M).unwrap().total, 10.0);
        }
        assert_eq!(counts(&points, 6 * M, 7 * M).unwrap().total, 0.0);
    }

    #[test]
    fn regions_have_their_own_steps_and_a_hole_crosses_them() {
        // Hourly buckets up to 2h, then minutes; a hole from 1:30 to 2:10 spreads 40 events:
        // 30 into the second hour, 10 into the minutes after it.
        let h = 60 * M;
        let grid = Grid::regions(vec![(0, 2 * h, h), (2 * h, 2 * h + 10 * M, M)], 0, M);
        let mut p = Placer::new(grid);
        p.increase(
            &key(),
            Role::Total,
            h,
            2 * h + 10 * M,
            40.0,
            Some(h + 30 * M),
        );
        p.seen(&key(), Role::Total, 2 * h + 10 * M);
        let points = p.finish();
        assert!((counts(&points, h, 2 * h).unwrap().total - 30.0).abs() < 1e-9);
        for m in 0..10 {
            let lo = 2 * h + m * M;
            assert!((counts(&points, lo, lo + M).unwrap().total - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn a_gap_read_starting_between_boundaries_clips_its_first_bucket() {
        let grid = Grid::regions(vec![(2 * M, 4 * M, M)], 90_000, M);
        let mut p = Placer::new(grid);
        p.increase(&key(), Role::Total, 80_000, 2 * M, 3.0, None);
        let points = p.finish();
        assert_eq!(counts(&points, 90_000, 2 * M).unwrap().total, 3.0);
    }

    #[test]
    fn holes_are_told_by_the_lookback_at_boundaries() {
        let grid = Grid::uniform(0, 60 * M, M);
        // Samples 5 minutes apart: every boundary between has a sample within 5 minutes.
        assert!(!grid.is_hole(10 * M + 5_000, 15 * M + 5_000));
        // 7 minutes: the boundary at 16:00 is 5:55 after the last sample.
        assert!(grid.is_hole(10 * M + 5_000, 17 * M + 5_000));
        assert_eq!(grid.hole_start(10 * M + 5_000), 15 * M);
    }

    #[test]
    fn an_increase_over_more_than_the_series_memory_is_not_counted() {
        let mut p = Placer::new(Grid::uniform(0, SERIES_MEMORY + 2 * M, M));
        p.increase(&key(), Role::Total, 0, SERIES_MEMORY + M, 50.0, Some(5 * M));
        assert!(p.finish().is_empty());
    }

    #[test]
    fn good_and_total_give_errors_per_bucket_with_the_groups_roles() {
        // A bucket where only total moved still knows the group has a good series.
        let mut p = Placer::new(Grid::uniform(0, 2 * M, M));
        p.present(&key(), Role::Good);
        p.present(&key(), Role::Total);
        p.increase(&key(), Role::Total, 0, 30_000, 10.0, None);
        p.increase(&key(), Role::Good, 0, 30_000, 9.0, None);
        p.increase(&key(), Role::Total, 30_000, 90_000, 2.0, None);
        let points = p.finish();
        assert_eq!(
            counts(&points, 0, M),
            Some(Counts {
                errors: 1.0,
                total: 10.0
            })
        );
        assert_eq!(
            counts(&points, M, 2 * M),
            Some(Counts {
                errors: 2.0,
                total: 2.0
            })
        );
    }

    #[test]
    fn good_and_total_give_errors_never_negative() {
        let mut tally = Tally::default();
        tally.add(Role::Total, 100.0);
        tally.add(Role::Good, 97.0);
        assert_eq!(
            tally.counts(),
            Some(Counts {
                errors: 3.0,
                total: 100.0
            })
        );
        let mut tally = Tally::default();
        tally.add(Role::Total, 10.0);
        tally.add(Role::Good, 10.5); // extrapolation noise in the increase() fallback
        assert_eq!(
            tally.counts(),
            Some(Counts {
                errors: 0.0,
                total: 10.0
            })
        );
        let mut tally = Tally::default();
        tally.add(Role::Errors, 1.0);
        assert_eq!(
            tally.counts(),
            None,
            "errors without a total series is not evidence"
        );
    }
}
