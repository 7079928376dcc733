//! One ring of time-aligned buckets at a single resolution.

use serde::{Deserialize, Serialize};

use crate::Counts;

/// Buckets of `resolution` ms, bucket `k` covering `[k * resolution, (k + 1) * resolution)`.
///
/// Aligning to absolute time (not to the first observation) lets backfill points and live
/// ticks land in the same buckets whenever they arrive. The ring holds one slot beyond the span:
/// a window as long as the span starts inside its oldest bucket, which it reads partially.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Level {
    resolution: i64,
    /// Nominal span in ms, as announced to backfill.
    span: i64,
    /// The newest bucket: the one holding the current time.
    head: i64,
    slots: Vec<Counts>,
}

impl Level {
    /// `resolution` and `span` in ms, both positive.
    pub fn new(resolution: i64, span: i64) -> Level {
        let resolution = resolution.max(1);
        let len = (span.max(0) as u64)
            .div_ceil(resolution as u64)
            .saturating_add(1);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        Level {
            resolution,
            span,
            head: 0,
            slots: vec![Counts::default(); len],
        }
    }

    pub fn resolution(&self) -> i64 {
        self.resolution
    }

    pub fn span(&self) -> i64 {
        self.span
    }

    pub fn head(&self) -> i64 {
        self.head
    }

    /// The oldest bucket still held.
    pub fn oldest(&self) -> i64 {
        self.head.saturating_sub(self.len() - 1)
    }

    /// Number of slots (span in buckets plus the partial oldest one).
    pub fn len(&self) -> i64 {
        self.slots.len() as i64
    }

    /// The bucket holding instant `t`.
    pub fn bucket_of(&self, t: i64) -> i64 {
        t.div_euclid(self.resolution)
    }

    /// Start of bucket `k`, saturating at the ends of time rather than overflowing.
    pub fn start_of(&self, k: i64) -> i64 {
        k.saturating_mul(self.resolution)
    }

    /// Bucket `k`, or zero when it is not held (too old or in the future).
    pub fn get(&self, k: i64) -> Counts {
        if (self.oldest()..=self.head).contains(&k) {
            self.slots[self.slot(k)]
        } else {
            Counts::default()
        }
    }

    /// Adds to bucket `k`, which must be held, and returns what it held before.
    pub fn add(&mut self, k: i64, counts: Counts) -> Counts {
        debug_assert!((self.oldest()..=self.head).contains(&k));
        let slot = self.slot(k);
        let before = self.slots[slot];
        self.slots[slot].add(counts);
        before
    }

    /// Empties the ring and makes `head` the newest bucket.
    pub fn restart(&mut self, head: i64) {
        self.slots.fill(Counts::default());
        self.head = head;
    }

    /// Moves the head forward to `head`, emptying the slots of the buckets that become new. A
    /// jump past the whole ring empties everything: the cost is bounded by the ring, not by the
    /// jump.
    pub fn advance(&mut self, head: i64) {
        let steps = head.saturating_sub(self.head);
        if steps <= 0 {
            return;
        }
        if steps >= self.len() {
            self.restart(head);
            return;
        }
        for k in self.head + 1..=head {
            let slot = self.slot(k);
            self.slots[slot] = Counts::default();
        }
        self.head = head;
    }

    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Counts>()
    }

    /// The ring as held: bucket `k` in slot `k mod len`.
    pub fn slots(&self) -> &[Counts] {
        &self.slots
    }

    /// This level without its slots (for a frame).
    pub fn frame(&self) -> Level {
        Level {
            slots: Vec::new(),
            ..*self
        }
    }

    /// Puts `slots` into a frame; refuses a ring of another length than the level's.
    pub fn fill(&mut self, slots: Vec<Counts>) -> Result<(), String> {
        let wanted = Level::new(self.resolution, self.span).len();
        if slots.len() as i64 != wanted {
            return Err(format!(
                "a level of {} ms buckets over {} ms holds {wanted} buckets, not {}",
                self.resolution,
                self.span,
                slots.len()
            ));
        }
        self.slots = slots;
        Ok(())
    }

    fn slot(&self, k: i64) -> usize {
        k.rem_euclid(self.len()) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(total: f64) -> Counts {
        Counts { errors: 0.0, total }
    }

    #[test]
    fn ring_holds_span_plus_one_partial_bucket() {
        let l = Level::new(60_000, 6 * 3_600_000);
        assert_eq!(l.len(), 361);
        // A span that is no whole number of buckets rounds up, then gets the partial slot.
        assert_eq!(Level::new(600_000, 650_000).len(), 3);
    }

    #[test]
    fn buckets_are_aligned_to_absolute_time_including_before_1970() {
        let l = Level::new(60_000, 600_000);
        assert_eq!(l.bucket_of(59_999), 0);
        assert_eq!(l.bucket_of(60_000), 1);
        assert_eq!(l.bucket_of(-1), -1);
        assert_eq!(l.start_of(-1), -60_000);
    }

    #[test]
    fn advancing_empties_only_the_new_buckets() {
        let mut l = Level::new(1, 3); // 4 slots: buckets head-3..=head
        l.restart(10);
        for k in 7..=10 {
            l.add(k, c(k as f64));
        }
        l.advance(12);
        assert_eq!((l.oldest(), l.head()), (9, 12));
        assert_eq!(l.get(9), c(9.0));
        assert_eq!(l.get(10), c(10.0));
        assert_eq!(l.get(11), c(0.0), "slot reused from bucket 7 must be empty");
        assert_eq!(l.get(12), c(0.0));
        assert_eq!(l.get(8), c(0.0), "dropped out of the ring");
    }

    #[test]
    fn a_jump_past_the_ring_empties_it() {
        let mut l = Level::new(1, 3);
        l.restart(10);
        l.add(10, c(5.0));
        l.advance(14);
        assert!((10..=14).all(|k| l.get(k) == c(0.0)));
        l.advance(i64::MAX);
        assert_eq!(l.head(), i64::MAX);
    }

    #[test]
    fn negative_buckets_use_the_ring_like_positive_ones() {
        let mut l = Level::new(1, 3);
        l.restart(-2);
        l.add(-5, c(1.0));
        l.add(-2, c(2.0));
        assert_eq!(l.get(-5), c(1.0));
        assert_eq!(l.get(-2), c(2.0));
        assert_eq!(l.get(-1), c(0.0), "the future is not held");
    }
}
