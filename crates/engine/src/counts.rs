//! Event counts: the only quantity the buckets hold.

use serde::{Deserialize, Serialize};

/// Event counts over some span. `errors <= total` is not guaranteed by the source; the engine clamps.
///
/// Counts are `f64` because backends extrapolate (`increase()` returns fractions) and because an
/// observation spread over several buckets splits proportionally.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Bad events.
    pub errors: f64,
    /// All events, good and bad.
    pub total: f64,
}

impl Counts {
    /// `errors / total` with errors clamped to `[0, total]`; `None` when there were no events
    /// (zero traffic is no evidence, never a 0% error ratio) or the counts are not finite.
    pub fn error_ratio(self) -> Option<f64> {
        let clamped = self.clamped();
        (clamped.total > 0.0 && clamped.total.is_finite()).then(|| clamped.errors / clamped.total)
    }

    /// Total at least 0, errors within `[0, total]`. Extrapolating backends can report more
    /// errors than events; reporting those as they came would give ratios above 1.
    pub fn clamped(self) -> Counts {
        // `max` first: it maps NaN to the bound, where `clamp` would keep NaN.
        let total = self.total.max(0.0);
        Counts {
            errors: self.errors.max(0.0).min(total),
            total,
        }
    }

    /// What the buckets may hold: `None` when a component is NaN or infinite (the whole
    /// observation is untrustworthy), negatives raised to 0 (a counter never decreases).
    pub(crate) fn sanitized(self) -> Option<Counts> {
        (self.errors.is_finite() && self.total.is_finite()).then(|| Counts {
            errors: self.errors.max(0.0),
            total: self.total.max(0.0),
        })
    }

    pub(crate) fn scaled(self, factor: f64) -> Counts {
        Counts {
            errors: self.errors * factor,
            total: self.total * factor,
        }
    }

    /// Adds `other` to these counts (e.g. consecutive spans into a longer one).
    pub fn add(&mut self, other: Counts) {
        self.errors += other.errors;
        self.total += other.total;
    }

    /// Running sums drift by rounding when buckets are added and removed again; a result a few
    /// ulps below zero is still zero.
    pub(crate) fn non_negative(self) -> Counts {
        Counts {
            errors: self.errors.max(0.0),
            total: self.total.max(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_clamps_errors_to_total() {
        assert_eq!(
            Counts {
                errors: 15.0,
                total: 10.0
            }
            .error_ratio(),
            Some(1.0)
        );
        assert_eq!(
            Counts {
                errors: -3.0,
                total: 10.0
            }
            .error_ratio(),
            Some(0.0)
        );
        assert_eq!(
            Counts {
                errors: 1.0,
                total: 4.0
            }
            .error_ratio(),
            Some(0.25)
        );
    }

    #[test]
    fn zero_or_broken_traffic_has_no_ratio() {
        assert_eq!(
            Counts {
                errors: 0.0,
                total: 0.0
            }
            .error_ratio(),
            None
        );
        assert_eq!(
            Counts {
                errors: 1.0,
                total: -1.0
            }
            .error_ratio(),
            None
        );
        assert_eq!(
            Counts {
                errors: 1.0,
                total: f64::NAN
            }
            .error_ratio(),
            None
        );
        assert_eq!(
            Counts {
                errors: 1.0,
                total: f64::INFINITY
            }
            .error_ratio(),
            None
        );
        assert_eq!(
            Counts {
                errors: f64::NAN,
                total: 4.0
            }
            .error_ratio(),
            Some(0.0)
        );
    }

    #[test]
    fn sanitizing_rejects_non_finite_and_raises_negatives() {
        assert_eq!(
            Counts {
                errors: f64::NAN,
                total: 1.0
            }
            .sanitized(),
            None
        );
        assert_eq!(
            Counts {
                errors: 1.0,
                total: f64::NEG_INFINITY
            }
            .sanitized(),
            None
        );
        assert_eq!(
            Counts {
                errors: -2.0,
                total: 5.0
            }
            .sanitized(),
            Some(Counts {
                errors: 0.0,
                total: 5.0
            })
        );
    }
}
