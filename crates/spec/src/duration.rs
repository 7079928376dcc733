//! Durations as users write them (`30d`, `1h30m`, `10s`, `2 hours`) and as Prometheus prints them.

use std::time::Duration;

const MS: u128 = 1;
const SECOND: u128 = 1_000 * MS;
const MINUTE: u128 = 60 * SECOND;
const HOUR: u128 = 60 * MINUTE;
const DAY: u128 = 24 * HOUR;
const WEEK: u128 = 7 * DAY;
const YEAR: u128 = 365 * DAY;

/// Prometheus' units, largest first; a duration lists each at most once, in this order.
const PROMETHEUS_UNITS: [(&str, u128); 7] = [
    ("y", YEAR),
    ("w", WEEK),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", SECOND),
    ("ms", MS),
];

/// Parses a duration written the Prometheus way (`30d`, `1h30m`, `1w`, `500ms`; `y` = 365d) or
/// the humantime way (`2 hours`, `1day 12h`). The error says what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if let Some(duration) = parse_prometheus(trimmed) {
        return Ok(duration);
    }
    humantime::parse_duration(trimmed).map_err(|_| {
        format!(
            "`{text}` is not a duration; expected a number and a unit, e.g. 30s, 5m, 1h30m or 30d"
        )
    })
}

/// Prometheus' own syntax: `[0-9]+(y|w|d|h|m|s|ms)` repeated with units in decreasing size.
fn parse_prometheus(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    if text.is_empty() {
        return None;
    }
    let mut rest = text;
    let mut total: u128 = 0;
    let mut smallest_so_far = u128::MAX;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let number: u128 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // `ms` before `m` so that `5ms` is not read as 5 minutes followed by `s`.
        let (unit, size) = PROMETHEUS_UNITS
            .iter()
            .filter(|(unit, _)| rest.starts_with(unit))
            .max_by_key(|(unit, _)| unit.len())?;
        if *size >= smallest_so_far {
            return None;
        }
        smallest_so_far = *size;
        total = total.checked_add(number.checked_mul(*size)?)?;
        rest = &rest[unit.len()..];
    }
    let millis = u64::try_from(total).ok()?;
    Some(Duration::from_millis(millis))
}

/// Formats a duration in Prometheus' syntax with days as the largest unit, the way Sloth labels
/// windows: `5m`, `1h`, `1d`, `30d`, `28d` (not `4w`), `1m30s`. Below a millisecond is dropped;
/// zero is `0s`.
pub fn format_prometheus(duration: Duration) -> String {
    let mut rest = duration.as_millis();
    if rest == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", DAY),
        ("h", HOUR),
        ("m", MINUTE),
        ("s", SECOND),
        ("ms", MS),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn parses_prometheus_forms() {
        assert_eq!(parse_duration("30d"), Ok(secs(30 * 86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(secs(5_400)));
        assert_eq!(parse_duration("1w"), Ok(secs(7 * 86_400)));
        assert_eq!(parse_duration("1y"), Ok(secs(365 * 86_400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(
            parse_duration("1m30s500ms"),
            Ok(Duration::from_millis(90_500))
        );
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn parses_humantime_forms() {
        assert_eq!(parse_duration("2 hours"), Ok(secs(7_200)));
        assert_eq!(parse_duration("1day 12h"), Ok(secs(36 * 3_600)));
        assert_eq!(parse_duration(" 10s "), Ok(secs(10)));
    }

    #[test]
    fn rejects_garbage_with_an_example() {
        let err = parse_duration("soon").unwrap_err();
        assert!(err.contains("`soon`") && err.contains("30d"), "{err}");
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("-5m").is_err());
    }

    #[test]
    fn prometheus_units_must_decrease() {
        assert_eq!(parse_prometheus("30m1h"), None);
        assert_eq!(parse_prometheus("1h1h"), None);
    }

    #[test]
    fn formats_like_sloth_window_labels() {
        for (secs_, text) in [
            (300, "5m"),
            (1_800, "30m"),
            (3_600, "1h"),
            (7_200, "2h"),
            (21_600, "6h"),
            (86_400, "1d"),
            (259_200, "3d"),
            (2_592_000, "30d"),
            (2_419_200, "28d"),
            (90, "1m30s"),
            (0, "0s"),
        ] {
            assert_eq!(format_prometheus(secs(secs_)), text);
        }
        assert_eq!(format_prometheus(Duration::from_millis(1_500)), "1s500ms");
    }

    #[test]
    fn format_then_parse_round_trips() {
        for ms in [1, 999, 1_000, 61_001, 86_400_000 * 45 + 3_723_004] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse_duration(&format_prometheus(d)), Ok(d));
        }
    }
}
