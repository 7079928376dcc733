//! Time as the engine sees it: plain numbers handed in by the caller.

use std::time::Duration;

/// Unix time in milliseconds. The engine never reads a clock: every call is given `now`.
pub type Millis = i64;

/// A duration in milliseconds, saturating: durations beyond `i64::MAX` ms (292 million years)
/// are not configuration anyone writes, but must not wrap into negative spans.
pub(crate) fn to_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A span of milliseconds as a `Duration`; negative spans (time running backwards) become zero.
pub(crate) fn to_duration(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_saturate_instead_of_wrapping() {
        assert_eq!(to_millis(Duration::from_secs(90)), 90_000);
        assert_eq!(to_millis(Duration::MAX), i64::MAX);
        assert_eq!(to_duration(-5), Duration::ZERO);
        assert_eq!(to_duration(1_500), Duration::from_millis(1_500));
    }
}
