//! Time slices: how a slice of time becomes one event, so windows, burn rates, alerts and the
//! budget work on slices exactly as they do on requests.
//!
//! OpenSLO's budgeting methods: with `Timeslices` a slice is good when its SLI meets the slice
//! target and the objective is the share of good slices; with `RatioTimeslices` the objective
//! is the mean of the slices' good ratios. Either way a slice is one event of total 1: its errors
//! are 0 or 1 (time slices) or 1 minus its good ratio (ratio time slices). A slice without data
//! is no event at all: neither good nor bad.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Counts;

/// How the events of one slice decide its one event.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SliceRule {
    /// Good when the slice's good ratio is at least this ratio (in `(0, 1]`).
    Target(f64),
    /// The slice's good ratio itself (ratio time slices).
    Ratio,
    /// The reading already says good (errors 0) or bad (errors 1): a threshold held or not.
    Verdict,
}

/// Time-slice budgeting: slices of `length` (a whole number of minutes dividing an hour, so
/// slices align with the buckets and with every clock's hours), judged by `rule`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slicing {
    /// Length of a slice.
    pub length: Duration,
    /// How a slice is judged.
    pub rule: SliceRule,
}

/// The comparison of a threshold SLI: the slice is good when `value <op> threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

impl Comparison {
    /// Whether `value <op> threshold` holds; never for NaN.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Lt => value < threshold,
            Comparison::Lte => value <= threshold,
            Comparison::Gt => value > threshold,
            Comparison::Gte => value >= threshold,
        }
    }

    /// The operator as written in configuration (`lt`, `lte`, `gt`, `gte`).
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Lt => "lt",
            Comparison::Lte => "lte",
            Comparison::Gt => "gt",
            Comparison::Gte => "gte",
        }
    }
}

impl Slicing {
    /// The slice length in milliseconds.
    pub fn length_ms(&self) -> i64 {
        self.length.as_millis() as i64
    }

    /// The one event of a slice whose own events are `counts`; `None` when the slice has no
    /// data (no events, or counts that are not finite): no evidence either way.
    pub fn event(&self, counts: Counts) -> Option<Counts> {
        let counts = counts.sanitized()?;
        let error_ratio = counts.error_ratio()?;
        let errors = match self.rule {
            SliceRule::Target(target) => {
                // A good ratio equal to the target meets it; the tolerance keeps a ratio that
                // is the target up to floating-point rounding (e.g. 95 of 100) on the good side.
                let good = 1.0 - error_ratio;
                if good >= target - 1e-12 { 0.0 } else { 1.0 }
            }
            SliceRule::Ratio => error_ratio,
            SliceRule::Verdict => {
                if error_ratio > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        };
        Some(Counts { errors, total: 1.0 })
    }

    /// The end of the slice holding the moment `t` (slices are `(end - length, end]`).
    pub fn end_of(&self, t: i64) -> i64 {
        let length = self.length_ms();
        (t + length - 1).div_euclid(length) * length
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(errors: f64, total: f64) -> Counts {
        Counts { errors, total }
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_slice_meets_its_target_or_is_one_bad_event() {
        let slicing = Slicing {
            length: MINUTE,
            rule: SliceRule::Target(0.95),
        };
        // 4 errors in 100: 96% good, at least 95%.
        assert_eq!(slicing.event(counts(4.0, 100.0)), Some(counts(0.0, 1.0)));
        // Exactly 95%: meets it.
        assert_eq!(slicing.event(counts(5.0, 100.0)), Some(counts(0.0, 1.0)));
        // 6 errors in 100: 94%.
        assert_eq!(slicing.event(counts(6.0, 100.0)), Some(counts(1.0, 1.0)));
    }

    #[test]
    fn a_slice_without_events_is_no_event() {
        for rule in [SliceRule::Target(0.9), SliceRule::Ratio, SliceRule::Verdict] {
            let slicing = Slicing {
                length: MINUTE,
                rule,
            };
            assert_eq!(slicing.event(counts(0.0, 0.0)), None);
            assert_eq!(slicing.event(counts(f64::NAN, 3.0)), None);
        }
    }

    #[test]
    fn a_ratio_slice_counts_its_error_ratio() {
        let slicing = Slicing {
            length: MINUTE,
            rule: SliceRule::Ratio,
        };
        assert_eq!(slicing.event(counts(1.0, 4.0)), Some(counts(0.25, 1.0)));
        // More errors than events (an extrapolating read) is all bad, not more.
        assert_eq!(slicing.event(counts(7.0, 4.0)), Some(counts(1.0, 1.0)));
    }

    #[test]
    fn a_verdict_passes_through() {
        let slicing = Slicing {
            length: MINUTE,
            rule: SliceRule::Verdict,
        };
        assert_eq!(slicing.event(counts(1.0, 1.0)), Some(counts(1.0, 1.0)));
        assert_eq!(slicing.event(counts(0.0, 1.0)), Some(counts(0.0, 1.0)));
    }

    #[test]
    fn slices_end_on_multiples_of_their_length() {
        let slicing = Slicing {
            length: Duration::from_secs(300),
            rule: SliceRule::Ratio,
        };
        assert_eq!(slicing.end_of(1), 300_000);
        assert_eq!(slicing.end_of(300_000), 300_000);
        assert_eq!(slicing.end_of(300_001), 600_000);
    }

    #[test]
    fn comparisons() {
        assert!(Comparison::Lt.holds(0.29, 0.3));
        assert!(!Comparison::Lt.holds(0.3, 0.3));
        assert!(Comparison::Lte.holds(0.3, 0.3));
        assert!(Comparison::Gt.holds(2.0, 1.0));
        assert!(Comparison::Gte.holds(1.0, 1.0));
        assert!(!Comparison::Gte.holds(f64::NAN, 1.0));
    }
}
