//! How burnwatch writes times and figures for people and other tools, and reads the times people
//! type: the one place for each, shared by the notifier, the status page and API, replay and
//! reports (durations in configuration syntax are [`crate::parse_duration`] and
//! [`crate::format_prometheus`]).

use std::time::{Duration, UNIX_EPOCH};

use burnwatch_engine::Millis;

/// Unix milliseconds as RFC 3339 UTC with milliseconds, `2026-10-14T10:00:00.250Z` (what
/// Alertmanager parses; the API and the page show it). Times before 1970 read as the epoch.
pub fn rfc3339(ms: Millis) -> String {
    humantime::format_rfc3339_millis(at(ms)).to_string()
}

/// Unix milliseconds as RFC 3339 UTC to the second, `2026-10-14T10:00:00Z` (replay and reports,
/// whose steps are whole minutes).
pub fn rfc3339_seconds(ms: Millis) -> String {
    humantime::format_rfc3339_seconds(at(ms)).to_string()
}

fn at(ms: Millis) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A time as a person types it on the command line: RFC 3339 (`2026-10-01T00:00:00Z`, the `T`
/// and zone optional as humantime's weak form allows) or unix seconds (`1790000000`, fractions
/// allowed), as unix milliseconds. Err completes the sentence "`<text>` ...", saying what to
/// write instead.
pub fn parse_time(text: &str) -> Result<Millis, String> {
    if let Ok(secs) = text.trim().parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0) as Millis);
    }
    let at = humantime::parse_rfc3339_weak(text.trim()).map_err(|err| {
        format!("is not a time ({err}): write RFC 3339 like 2026-10-01T00:00:00Z, or unix seconds")
    })?;
    let since = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "is before 1970".to_string())?;
    Ok(since.as_millis() as Millis)
}

/// A strict RFC 3339 time with its offset, as an API client sends it: `2026-10-14T09:40:00Z`,
/// `2026-10-14T11:40:00+02:00`, fractions of a second allowed; as unix milliseconds. Err
/// completes the sentence "`<text>` ...", saying what to write instead.
pub fn parse_rfc3339(text: &str) -> Result<Millis, String> {
    const EXAMPLE: &str =
        "write RFC 3339 with a zone, e.g. 2026-10-14T09:40:00Z or 2026-10-14T11:40:00+02:00";
    let text = text.trim();
    let (local, offset_ms) = if let Some(local) = text.strip_suffix(['Z', 'z']) {
        (local, 0)
    } else {
        // The offset is the last six characters: +hh:mm or -hh:mm.
        let split = text
            .len()
            .checked_sub(6)
            .filter(|&i| text.is_char_boundary(i));
        let Some((local, offset)) = split.map(|i| text.split_at(i)) else {
            return Err(format!("is not a time: {EXAMPLE}"));
        };
        let sign = match offset.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(format!("has no zone (Z or +hh:mm): {EXAMPLE}")),
        };
        let (hours, minutes) = offset[1..]
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<i64>().ok()?, m.parse::<i64>().ok()?)))
            .filter(|&(h, m)| h < 24 && m < 60)
            .ok_or_else(|| format!("has an offset that is not +hh:mm or -hh:mm: {EXAMPLE}"))?;
        (local, sign * (hours * 60 + minutes) * 60_000)
    };
    if !local.contains(['T', 't']) {
        return Err(format!("is not a date and time: {EXAMPLE}"));
    }
    let at = humantime::parse_rfc3339_weak(local)
        .map_err(|err| format!("is not a time ({err}): {EXAMPLE}"))?;
    let since = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "is before 1970".to_string())?;
    Ok(since.as_millis() as Millis - offset_ms)
}

/// A ratio as a percentage with `decimals` decimals (`0.623`, 1 -> `62.3%`); negative stays
/// negative (an overspent budget).
pub fn percent_with(ratio: f64, decimals: usize) -> String {
    format!("{:.*}%", decimals, ratio * 100.0)
}

/// A ratio as a percentage with one decimal (`0.623` -> `62.3%`).
pub fn percent(ratio: f64) -> String {
    percent_with(ratio, 1)
}

/// A burn rate with three significant digits at most: `14.4x`, `6x`, `0.85x`, `120x`.
pub fn burn_rate(burn: f64) -> String {
    let text = if burn.abs() >= 100.0 {
        format!("{burn:.0}")
    } else if burn.abs() >= 10.0 {
        format!("{burn:.1}")
    } else {
        format!("{burn:.2}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}x")
}

/// `3h 20m`, `2d 4h`, `45s`: the two largest non-zero units, the way a person says it.
pub fn human_duration(d: Duration) -> String {
    const UNITS: [(&str, u64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let mut rest = d.as_secs();
    if rest == 0 {
        return "0s".to_string();
    }
    let mut parts = Vec::with_capacity(2);
    for (unit, size) in UNITS {
        if rest >= size && parts.len() < 2 {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            // Stop at the first zero unit after the largest one: "2d 0h 5m" reads as "2d".
            break;
        }
    }
    parts.join(" ")
}

/// A count and its noun, plural unless the count is 1: `count(1, "SLO")` is `1 SLO`,
/// `count(0, "problem")` is `0 problems`. Every noun burnwatch counts takes a plain `s`.
///
/// ```
/// use burnwatch_spec::text::count;
/// assert_eq!(count(1, "SLO"), "1 SLO");
/// assert_eq!(count(2, "SLO"), "2 SLOs");
/// assert_eq!(count(0, "instance"), "0 instances");
/// ```
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_reads_z_and_offsets_and_refuses_zoneless_times() {
        // 2026-10-14T09:40:00Z is 1,791,970,800 s after the epoch.
        assert_eq!(parse_rfc3339("2026-10-14T09:40:00Z"), Ok(1_791_970_800_000));
        assert_eq!(
            parse_rfc3339("2026-10-14T11:40:00+02:00"),
            Ok(1_791_970_800_000)
        );
        assert_eq!(
            parse_rfc3339("2026-10-14T05:10:00-04:30"),
            Ok(1_791_970_800_000)
        );
        assert_eq!(
            parse_rfc3339("2026-10-14T09:40:00.250Z"),
            Ok(1_791_970_800_250)
        );
        for bad in [
            "2026-10-14T09:40:00",
            "2026-10-14",
            "yesterday",
            "",
            "2026-10-14T09:40:00+2:00",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?}");
        }
        assert!(parse_rfc3339("2026-10-14 09:40:00Z").is_err());
    }

    #[test]
    fn times_print_in_both_precisions_and_parse_back() {
        // 2025-10-14T10:00:00Z is 1,760,436,000 s after the epoch (20,375 days + 10 h).
        assert_eq!(20_375 * 86_400 + 10 * 3_600, 1_760_436_000);
        assert_eq!(rfc3339(1_760_436_000_250), "2025-10-14T10:00:00.250Z");
        assert_eq!(rfc3339_seconds(1_760_436_000_250), "2025-10-14T10:00:00Z");
        assert_eq!(rfc3339(-5), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_time("2025-10-14T10:00:00Z"), Ok(1_760_436_000_000));
        assert_eq!(parse_time(" 1760436000.5 "), Ok(1_760_436_000_500));
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn percentages_keep_the_sign_and_the_decimals_asked_for() {
        assert_eq!(percent(0.623), "62.3%");
        assert_eq!(percent(-0.25), "-25.0%");
        assert_eq!(percent_with(0.999, 2), "99.90%");
        assert_eq!(percent_with(0.99912, 3), "99.912%");
    }
}
