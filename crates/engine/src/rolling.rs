//! Event counts at several resolutions, and every tracked window's sum over them.

use serde::{Deserialize, Serialize};

use crate::layout::Layout;
use crate::level::Level;
use crate::millis::to_millis;
use crate::running_sum::RunningSum;
use crate::{Counts, Millis};

/// The levels of one counting state and the running sums of its windows.
///
/// Every observation goes to every level (each keeps what falls in its range), so any level can
/// answer any window it spans, and a window's figures never depend on which level backfill
/// happened to fill first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Rolling {
    levels: Vec<Level>,
    /// One per tracked window, in the layout's order.
    sums: Vec<RunningSum>,
    /// The newest time seen (observation end or evaluation); `None` until the first.
    clock: Option<Millis>,
}

impl Rolling {
    pub fn new(layout: &Layout) -> Rolling {
        let levels: Vec<Level> = layout
            .levels
            .iter()
            .map(|l| Level::new(to_millis(l.resolution), to_millis(l.span)))
            .collect();
        let sums = layout
            .tracked
            .iter()
            .map(|&(window, level)| {
                RunningSum::new(level, to_millis(window), levels[level].resolution())
            })
            .collect();
        Rolling {
            levels,
            sums,
            clock: None,
        }
    }

    pub fn clock(&self) -> Option<Millis> {
        self.clock
    }

    /// Moves every level's head to the bucket holding `now`. Time never runs backwards: an
    /// earlier `now` changes nothing.
    pub fn advance(&mut self, now: Millis) {
        match self.clock {
            None => {
                for level in &mut self.levels {
                    level.restart(level.bucket_of(now));
                }
            }
            Some(clock) if now > clock => {
                for (i, level) in self.levels.iter_mut().enumerate() {
                    let head = level.bucket_of(now);
                    if head == level.head() {
                        continue;
                    }
                    for sum in self.sums.iter_mut().filter(|s| s.level == i) {
                        sum.advance(level, head);
                    }
                    level.advance(head);
                }
            }
            Some(_) => return,
        }
        self.clock = Some(now);
    }

    /// Spreads `counts`, which happened uniformly over `(start, end]`, over the buckets the span
    /// overlaps, in proportion to the overlap. Parts older than a level's oldest bucket are
    /// dropped for that level only. Requires `start < end <= clock` and sanitized counts.
    pub fn add(&mut self, start: Millis, end: Millis, counts: Counts) {
        // i128: a span from the far past to the far future must not overflow.
        let length = (i128::from(end) - i128::from(start)) as f64;
        for (i, level) in self.levels.iter_mut().enumerate() {
            let first = level.bucket_of(start).max(level.oldest());
            let last = level.bucket_of(end - 1).min(level.head());
            for k in first..=last {
                let lo = start.max(level.start_of(k));
                let hi = end.min(level.start_of(k + 1));
                if hi <= lo {
                    continue;
                }
                let share = counts.scaled((hi - lo) as f64 / length);
                let before = level.add(k, share);
                for sum in self.sums.iter_mut().filter(|s| s.level == i) {
                    if sum.covers(level.head(), k) {
                        sum.add(before, share);
                    }
                }
            }
        }
    }

    /// Counts of tracked window `i` over `(clock - window, clock]`.
    pub fn window(&self, i: usize) -> Counts {
        let (Some(clock), Some(sum)) = (self.clock, self.sums.get(i)) else {
            return Counts::default();
        };
        sum.value(&self.levels[sum.level], clock)
    }

    /// Counts over `(from, clock]` from the finest level holding `from`, the bucket `from`
    /// falls in taken in proportion to the part of it after `from` (exact when `from` is on a
    /// bucket edge). O(buckets since `from`): for the rare recount at a calendar rollover.
    pub fn since(&self, from: Millis) -> Counts {
        if self.clock.is_none() {
            return Counts::default();
        }
        let Some(level) = self
            .levels
            .iter()
            .find(|l| l.bucket_of(from) >= l.oldest())
            .or(self.levels.last())
        else {
            return Counts::default();
        };
        let first = level.bucket_of(from).max(level.oldest());
        let mut sum = Counts::default();
        for k in first..=level.head() {
            let bucket = level.get(k);
            let lo = level.start_of(k);
            if from > lo {
                let part = (level.start_of(k + 1) - from) as f64 / level.resolution() as f64;
                sum.add(bucket.scaled(part));
            } else {
                sum.add(bucket);
            }
        }
        sum.non_negative()
    }

    /// A reader of counts over past spans (see [`Spans`]), built once for many questions.
    pub fn spans(&self) -> Spans {
        Spans {
            levels: self
                .levels
                .iter()
                .map(|level| {
                    // The oldest slot may hold part of a bucket only; the head is still filling.
                    let first = level.oldest() + 1;
                    let mut prefix = vec![Counts::default()];
                    let mut sum = Counts::default();
                    for k in first..level.head() {
                        sum.add(level.get(k));
                        prefix.push(sum);
                    }
                    SpanLevel {
                        resolution: level.resolution(),
                        first,
                        prefix,
                    }
                })
                .collect(),
        }
    }

    /// `(resolution, span)` in ms per level, finest first.
    pub fn levels(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.levels.iter().map(|l| (l.resolution(), l.span()))
    }

    /// Every level's ring, finest first.
    pub fn rings(&self) -> Vec<&[Counts]> {
        self.levels.iter().map(Level::slots).collect()
    }

    /// These levels and sums without the rings.
    pub fn frame(&self) -> Rolling {
        Rolling {
            levels: self.levels.iter().map(Level::frame).collect(),
            sums: self.sums.clone(),
            clock: self.clock,
        }
    }

    /// Puts one ring per level back into a frame.
    pub fn fill(&mut self, rings: Vec<Vec<Counts>>) -> Result<(), String> {
        if rings.len() != self.levels.len() {
            return Err(format!(
                "{} bucket levels, not {}",
                self.levels.len(),
                rings.len()
            ));
        }
        for (level, ring) in self.levels.iter_mut().zip(rings) {
            level.fill(ring)?;
        }
        Ok(())
    }

    pub fn heap_bytes(&self) -> usize {
        self.levels.capacity() * size_of::<Level>()
            + self.levels.iter().map(Level::heap_bytes).sum::<usize>()
            + self.sums.capacity() * size_of::<RunningSum>()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::DEFAULT_WINDOWS;

    const M: i64 = 60_000;
    const H: i64 = 60 * M;
    const D: i64 = 24 * H;
    /// A day boundary (so also an hour and ten-minute boundary).
    const T0: i64 = 19_700 * D;

    fn c(errors: f64, total: f64) -> Counts {
        Counts { errors, total }
    }

    fn rolling(windows: &[Duration]) -> Rolling {
        Rolling::new(&Layout::new(Duration::from_secs(30 * 86_400), windows))
    }

    fn observe(r: &mut Rolling, start: i64, end: i64, counts: Counts) {
        r.advance(end);
        r.add(start, end, counts);
    }

    /// What a window should hold, from the buckets alone (no running sum).
    fn brute_force(r: &Rolling, i: usize) -> Counts {
        let sum = &r.sums[i];
        let level = &r.levels[sum.level];
        let mut fresh = sum.clone();
        fresh.reset();
        for k in level.oldest()..=level.head() {
            if fresh.covers(level.head(), k) {
                fresh.add(Counts::default(), level.get(k));
            }
        }
        fresh.value(level, r.clock.unwrap())
    }

    #[test]
    fn a_span_across_a_bucket_edge_is_split_in_proportion() {
        let mut r = rolling(&DEFAULT_WINDOWS);
        // (T0 - 45s, T0 + 15s]: 3/4 in the minute before T0, 1/4 in the minute from T0.
        observe(&mut r, T0 - 45_000, T0 + 15_000, c(4.0, 400.0));
        let fine = &r.levels[0];
        assert_eq!(fine.get(fine.bucket_of(T0 - 1)), c(3.0, 300.0));
        assert_eq!(fine.get(fine.bucket_of(T0)), c(1.0, 100.0));
        // One ten-minute bucket and one hourly bucket take the same split.
        let medium = &r.levels[1];
        assert_eq!(medium.get(medium.bucket_of(T0 - 1)), c(3.0, 300.0));
    }

    #[test]
    fn out_of_order_span_lands_in_its_own_bucket() {
        let min = Duration::from_secs(60);
        let mut r = rolling(&[12 * min, 13 * min]);
        for k in 0..10 {
            observe(&mut r, T0 + k * M, T0 + (k + 1) * M, c(0.0, 100.0));
        }
        // Arrives after T0 + 10m, belongs to (T0 - 3m, T0 - 2m].
        r.add(T0 - 3 * M, T0 - 2 * M, c(5.0, 50.0));
        r.advance(T0 + 10 * M);
        // Tracked: 12m, 13m, 1h, 6h, 30d. 12m is (T0 - 2m, T0 + 10m]: without the late span.
        assert_eq!(r.window(0), c(0.0, 1000.0));
        assert_eq!(r.window(1), c(5.0, 1050.0));
        assert_eq!(r.window(2), c(5.0, 1050.0));
    }

    #[test]
    fn a_span_reaching_past_the_oldest_bucket_keeps_only_the_held_part() {
        let mut r = rolling(&DEFAULT_WINDOWS);
        r.advance(T0);
        // An hour straddling the fine level's edge at T0 - 6h: half of it is still held.
        r.add(T0 - 6 * H - 30 * M, T0 - 6 * H + 30 * M, c(60.0, 600.0));
        assert_eq!(
            r.window(4),
            c(30.0, 300.0),
            "6h window from 1-minute buckets"
        );
        assert_eq!(
            r.window(5),
            c(60.0, 600.0),
            "1d window from 10-minute buckets"
        );
    }

    #[test]
    fn running_sums_match_the_buckets_after_a_long_irregular_history() {
        let mut r = rolling(&DEFAULT_WINDOWS);
        // A deterministic pseudo-random mix of live ticks, late spans and gaps.
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        let mut now = T0;
        for _ in 0..20_000 {
            let step = match next() % 100 {
                0 => 7 * H,
                1..=3 => 40 * M,
                _ => 30_000,
            };
            now += step;
            let back = (next() % 4) as i64 * 10 * M;
            let len = 1 + (next() % (20 * M as u64)) as i64;
            let errors = (next() % 10) as f64;
            observe(
                &mut r,
                now - back - len,
                now - back,
                c(errors, 100.0 + errors),
            );
            if next() % 7 == 0 {
                for i in 0..r.sums.len() {
                    let (a, b) = (r.window(i), brute_force(&r, i));
                    let tolerance = 1e-9 * b.total.max(1.0);
                    assert!(
                        (a.total - b.total).abs() <= tolerance,
                        "window {i}: {a:?} vs {b:?}"
                    );
                    assert!(
                        (a.errors - b.errors).abs() <= tolerance,
                        "window {i}: {a:?} vs {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn spans_at_the_ends_of_time_do_not_panic() {
        let mut r = rolling(&DEFAULT_WINDOWS);
        observe(&mut r, i64::MIN, i64::MIN + 1, c(1.0, 1.0));
        observe(&mut r, i64::MIN, 0, c(1.0, 1.0));
        observe(&mut r, i64::MAX - 1, i64::MAX, c(1.0, 1.0));
        for i in 0..r.sums.len() {
            assert!(r.window(i).total.is_finite());
        }
        // Reading the past there does not either.
        let spans = r.spans();
        let edges = spans.edges(i64::MIN, i64::MIN);
        assert!(!edges.is_empty());
        for &at in &edges {
            for w in [5 * M, D, 30 * D] {
                let _ = spans.counts(at.saturating_sub(w), at, true);
            }
            let _ = spans.counts(i64::MIN, at, false);
        }
    }
}

/// Counts over past spans from the buckets, each answered in constant time per level from
/// running totals of every level.
#[derive(Debug, Clone)]
pub(crate) struct Spans {
    levels: Vec<SpanLevel>,
}

#[derive(Debug, Clone)]
struct SpanLevel {
    resolution: i64,
    /// The first whole bucket held.
    first: i64,
    /// `prefix[i]`: the sum of the `i` buckets from `first`.
    prefix: Vec<Counts>,
}

impl SpanLevel {
    /// Where the whole buckets held start.
    fn held_from(&self) -> Millis {
        self.first.saturating_mul(self.resolution)
    }

    /// Where the whole buckets held end (the head bucket, still filling, is not one).
    fn held_to(&self) -> Millis {
        (self.first + self.prefix.len() as i64 - 1).saturating_mul(self.resolution)
    }

    /// The sum of the whole buckets in `(from, to]`, both on bucket edges and held.
    fn whole(&self, from: Millis, to: Millis) -> Counts {
        let at = |t: Millis| self.prefix[(t.div_euclid(self.resolution) - self.first) as usize];
        let (a, b) = (at(from), at(to));
        Counts {
            errors: b.errors - a.errors,
            total: b.total - a.total,
        }
    }

    /// The counts over `(from, to]`, `to` on a bucket edge and both held: the bucket `from`
    /// falls in is taken in proportion to the part of it after `from` (as the live windows take
    /// the bucket their start falls in).
    fn tail(&self, from: Millis, to: Millis) -> Counts {
        let r = self.resolution;
        let edge = from.div_euclid(r).saturating_add(1).saturating_mul(r);
        if from.rem_euclid(r) == 0 || edge > to {
            return self.whole(from.min(to), to);
        }
        let mut sum = self.whole(edge, to);
        let part = (edge - from) as f64 / r as f64;
        sum.add(self.whole(edge - r, edge).scaled(part));
        sum
    }
}

impl Spans {
    /// The moments past figures are read at, oldest first: every whole-bucket edge of the
    /// finest level holding it (each coarser level's edges only before the finer ones' oldest),
    /// after `after` and from `since` on. With the default layout: every minute over the last 6
    /// hours, every 10 minutes over the last 3 days, every hour before.
    pub fn edges(&self, since: Millis, after: Millis) -> Vec<Millis> {
        let mut newest_first = Vec::new();
        let mut below = Millis::MAX;
        for level in &self.levels {
            let r = level.resolution;
            let top = level.held_to().min(below.saturating_sub(1));
            let mut edge = top.div_euclid(r).saturating_mul(r);
            let oldest = newest_first.len();
            while edge > level.held_from() && edge > after && edge >= since {
                newest_first.push(edge);
                edge = edge.saturating_sub(r);
            }
            match newest_first.get(oldest..).and_then(<[Millis]>::last) {
                Some(&edge) => below = edge,
                None => break,
            }
        }
        newest_first.reverse();
        newest_first
    }

    /// Counts over `(from, to]`, stitched from the levels: the finest level holding `to` on one
    /// of its bucket edges answers the newest part, each coarser one the part before what the
    /// finer ones hold (handing over on its own bucket edges, so every bucket counts once).
    /// The bucket `from` falls in is taken in proportion to the part of it after `from` (exact
    /// on an edge), as live windows take theirs.
    ///
    /// None when no level holds `to` on an edge, when the span is shorter than the bucket its
    /// start falls in (a 5-minute window from 10-minute buckets would be a guess), or when it
    /// reaches back before what the coarsest level holds; with `clamp`, such a span is cut to
    /// what that level holds instead (the period's figures as they read with shorter coverage).
    pub fn counts(&self, from: Millis, to: Millis, clamp: bool) -> Option<Counts> {
        if from >= to {
            return None;
        }
        let coarsest = self.levels.len().checked_sub(1)?;
        let mut sum = Counts::default();
        let mut hi = to;
        let mut started = false;
        for (i, level) in self.levels.iter().enumerate() {
            let r = level.resolution;
            let held_from = level.held_from();
            if hi.rem_euclid(r) != 0 || hi > level.held_to() || hi < held_from {
                if started {
                    return None;
                }
                continue;
            }
            let lo = if clamp && i == coarsest {
                from.max(held_from)
            } else {
                from
            };
            if lo >= held_from {
                if lo.rem_euclid(r) != 0 && to.saturating_sub(lo) < r {
                    return None;
                }
                sum.add(level.tail(lo, hi));
                return Some(sum);
            }
            let next = self.levels.get(i + 1)?;
            // The coarser level takes over on its first edge within what this one holds.
            let next_r = next.resolution;
            let handover = held_from
                .div_euclid(next_r)
                .saturating_add(i64::from(held_from.rem_euclid(next_r) != 0))
                .saturating_mul(next_r);
            if handover > hi {
                if started {
                    return None;
                }
                continue;
            }
            sum.add(level.whole(handover, hi));
            hi = handover;
            started = true;
        }
        None
    }
}
