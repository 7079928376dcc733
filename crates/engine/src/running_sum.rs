//! One window's sum over the buckets it fully covers, kept up to date as buckets change.

use serde::{Deserialize, Serialize};

use crate::Counts;
use crate::level::Level;

/// The sum of buckets `head - full + 1 ..= head` of one level, plus what is needed to
/// interpolate the bucket(s) the window's start falls into.
///
/// Keeping the sum instead of adding up to 721 buckets per evaluation makes a tick cost the same
/// for every window length: buckets are added when events arrive and subtracted when the head
/// moves past them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunningSum {
    /// Which level of the rolling state serves this window.
    pub level: usize,
    /// Whole buckets in the window (`window / resolution`, at least 1).
    full: i64,
    /// What the window reaches beyond `full` buckets, in ms (0 when the resolution divides it).
    rest: i64,
    sum: Counts,
    /// Buckets in the sum with errors (total) above zero. Adding and later subtracting the same
    /// bucket may leave rounding residue; when no bucket with events is left, the sum is exactly
    /// zero. Without this a window that went quiet could show 1e-13 errors over 3e-13 events:
    /// a 30% error ratio out of nothing.
    errors_nonzero: u32,
    total_nonzero: u32,
}

impl RunningSum {
    /// A window of `window` ms on a level of `resolution` ms. The window must be at least one
    /// bucket long: a head bucket is only partly elapsed, so it cannot also be the boundary.
    pub fn new(level: usize, window: i64, resolution: i64) -> RunningSum {
        debug_assert!(window >= resolution, "window shorter than a bucket");
        RunningSum {
            level,
            full: (window / resolution).max(1),
            rest: window % resolution,
            sum: Counts::default(),
            errors_nonzero: 0,
            total_nonzero: 0,
        }
    }

    /// Whether bucket `k` is in the sum while the level's head is `head`.
    pub fn covers(&self, head: i64, k: i64) -> bool {
        k <= head && k > head.saturating_sub(self.full)
    }

    /// `added` was added to a covered bucket that held `before`.
    pub fn add(&mut self, before: Counts, added: Counts) {
        self.sum.add(added);
        if before.errors == 0.0 && added.errors > 0.0 {
            self.errors_nonzero += 1;
        }
        if before.total == 0.0 && added.total > 0.0 {
            self.total_nonzero += 1;
        }
    }

    /// The head of `level` is about to move to `head`: drop the buckets that leave the window.
    /// Must run before the level empties the new slots (they may be the leaving buckets' slots).
    pub fn advance(&mut self, level: &Level, head: i64) {
        let steps = head.saturating_sub(level.head());
        if steps >= self.full {
            self.reset();
            return;
        }
        let first_leaving = level.head() - self.full + 1;
        for k in first_leaving..first_leaving + steps {
            self.remove(level.get(k));
        }
    }

    pub fn reset(&mut self) {
        self.sum = Counts::default();
        self.errors_nonzero = 0;
        self.total_nonzero = 0;
    }

    /// Counts over `(now - window, now]`; the level's head must hold `now`.
    ///
    /// The bucket the window starts in is taken in proportion to the part of it inside the
    /// window: exact for events at a uniform rate, and off by at most one bucket otherwise.
    pub fn value(&self, level: &Level, now: i64) -> Counts {
        let head = level.head();
        let r = level.resolution() as f64;
        // How far `now` is into the head bucket.
        let into = now.saturating_sub(level.start_of(head)) as f64;
        let rest = self.rest as f64;
        let boundary = head - self.full;
        let mut out = self.sum;
        if into >= rest {
            out.add(level.get(boundary).scaled(1.0 - (into - rest) / r));
        } else {
            // The window starts one bucket further back.
            out.add(level.get(boundary));
            out.add(level.get(boundary - 1).scaled((rest - into) / r));
        }
        out.non_negative()
    }

    fn remove(&mut self, bucket: Counts) {
        self.sum.errors -= bucket.errors;
        self.sum.total -= bucket.total;
        if bucket.errors > 0.0 {
            self.errors_nonzero = self.errors_nonzero.saturating_sub(1);
            if self.errors_nonzero == 0 {
                self.sum.errors = 0.0;
            }
        }
        if bucket.total > 0.0 {
            self.total_nonzero = self.total_nonzero.saturating_sub(1);
            if self.total_nonzero == 0 {
                self.sum.total = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(errors: f64, total: f64) -> Counts {
        Counts { errors, total }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// A level of 10 ms buckets holding buckets 13..=20 (total k, 1 error each) and a 30 ms
    /// window on it.
    fn setup() -> (Level, RunningSum) {
        let mut level = Level::new(10, 70);
        level.restart(20);
        let mut sum = RunningSum::new(0, 30, 10);
        for k in 13..=20 {
            let added = c(1.0, k as f64);
            let before = level.add(k, added);
            if sum.covers(20, k) {
                sum.add(before, added);
            }
        }
        (level, sum)
    }

    #[test]
    fn value_interpolates_the_boundary_bucket() {
        let (level, sum) = setup();
        // now = 204: window (174, 204]: buckets 18, 19, 20 whole (57) and 6/10 of bucket 17.
        let v = sum.value(&level, 204);
        assert!(close(v.total, 57.0 + 0.6 * 17.0), "{v:?}");
        assert!(close(v.errors, 3.6), "{v:?}");
        // On a bucket edge the boundary bucket counts whole: window (170, 200].
        assert_eq!(sum.value(&level, 200), c(4.0, 57.0 + 17.0));
    }

    #[test]
    fn leaving_buckets_are_subtracted() {
        let (mut level, mut sum) = setup();
        sum.advance(&level, 22);
        level.advance(22);
        // Window (190, 220]: bucket 19 (the boundary, whole), 20, and the empty 21 and 22.
        assert_eq!(sum.value(&level, 220), c(2.0, 19.0 + 20.0));
        // Advancing by the window's length or more leaves nothing to subtract: a reset.
        sum.advance(&level, 25);
        level.advance(25);
        assert_eq!(sum.value(&level, 250), c(0.0, 0.0));
    }

    #[test]
    fn a_window_with_a_remainder_reaches_into_a_second_bucket() {
        let (level, _) = setup();
        // 35 ms on 10 ms buckets: 3 whole buckets and 5 ms.
        let mut sum = RunningSum::new(0, 35, 10);
        for k in 18..=20 {
            sum.add(Counts::default(), level.get(k));
        }
        // now = 208: window (173, 208]: 7/10 of bucket 17 (173..180), then 18, 19, 20 whole.
        assert!(close(sum.value(&level, 208).total, 57.0 + 0.7 * 17.0));
        // now = 202: window (167, 202]: 3/10 of bucket 16 (167..170), 17 whole, then 18..20.
        assert!(close(
            sum.value(&level, 202).total,
            57.0 + 17.0 + 0.3 * 16.0
        ));
    }

    #[test]
    fn rounding_residue_vanishes_when_the_last_busy_bucket_leaves() {
        let mut level = Level::new(10, 70);
        level.restart(0);
        let mut sum = RunningSum::new(0, 20, 10);
        let put = |level: &mut Level, sum: &mut RunningSum, k: i64, added: Counts| {
            let before = level.add(k, added);
            sum.add(before, added);
        };
        put(&mut level, &mut sum, 0, c(0.1, 0.1));
        put(&mut level, &mut sum, 0, c(0.2, 0.2));
        sum.advance(&level, 1);
        level.advance(1);
        put(&mut level, &mut sum, 1, c(0.3, 0.3));
        for head in 2..=3 {
            sum.advance(&level, head);
            level.advance(head);
        }
        // (0.1 + 0.2) + 0.3 - (0.1 + 0.2) - 0.3 leaves 5.5e-17 in floating point.
        assert_eq!(sum.sum.total.to_bits(), 0.0f64.to_bits());
        assert_eq!(sum.sum.errors.to_bits(), 0.0f64.to_bits());
    }
}
