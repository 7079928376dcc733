//! A recurring maintenance schedule: an RFC 5545 RRULE read in an IANA time zone, expanded by
//! the `rrule` crate.
//!
//! Local times that do not exist (the spring-forward gap) are read with the offset before the
//! gap, so 02:30 on the Sunday Europe/Berlin skips an hour is 03:30 CEST; local times that occur
//! twice (the fall-back hour) are the first of the two, as RFC 5545 section 3.3.5 says.

use std::time::Duration;

use burnwatch_engine::Millis;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};

/// The DTSTART of a schedule without `start`: 2000-01-01 00:00 local time, long before any
/// window anyone configures, so `BYHOUR`/`BYMINUTE`-less rules start at local midnight.
pub(crate) fn default_start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date")
}

/// A validated recurrence: every occurrence starts a window of `duration`.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The rule as written, without a leading `RRULE:`.
    pub rule: String,
    /// The zone the rule's local times are read in.
    pub timezone: chrono_tz::Tz,
    /// How long each occurrence lasts.
    pub duration: Duration,
    set: RRuleSet,
}

impl Schedule {
    /// Parses `rule` (`FREQ=WEEKLY;BYDAY=SU;BYHOUR=2`) from `start` (local time in `timezone`);
    /// `Err` says what is wrong in words a person can act on.
    pub(crate) fn new(
        rule: &str,
        timezone: chrono_tz::Tz,
        start: NaiveDateTime,
        duration: Duration,
    ) -> Result<Schedule, String> {
        let rule = rule.trim();
        let rule = rule.strip_prefix("RRULE:").unwrap_or(rule).to_string();
        let parsed: RRule<Unvalidated> = rule
            .parse()
            .map_err(|e| format!("`schedule` is not an RFC 5545 RRULE: {e}"))?;
        let freq = parsed.get_freq();
        if freq > Frequency::Daily {
            return Err(format!(
                "`schedule` repeats {}: maintenance schedules repeat DAILY or less often (each \
                 window is expanded from the rule's start), e.g. \
                 \"FREQ=DAILY;BYHOUR=2,14;BYMINUTE=0\" for two windows a day",
                freq.to_string().to_uppercase()
            ));
        }
        let zone = rrule::Tz::Tz(timezone);
        let dt_start = zone
            .from_local_datetime(&start)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(start + chrono::Duration::hours(1)))
                    .earliest()
            })
            .ok_or_else(|| format!("the start {start} does not exist in {timezone}"))?;
        let set = parsed
            .build(dt_start)
            .map_err(|e| format!("`schedule` is not a valid RRULE: {e}"))?;
        Ok(Schedule {
            rule,
            timezone,
            duration,
            set,
        })
    }

    /// The first occurrence's start, None if the rule never occurs.
    pub fn first(&self) -> Option<Millis> {
        self.set.into_iter().next().map(|d| d.timestamp_millis())
    }

    /// Starts (unix ms) of the occurrences whose windows end after `from` and start before
    /// `to`, in order. Iterates from the rule's start: cheap for DAILY or slower rules.
    pub fn starts(&self, from: Millis, to: Millis) -> Vec<Millis> {
        let length = self.duration.as_millis() as Millis;
        self.set
            .into_iter()
            .map(|d| d.timestamp_millis())
            .take_while(|&s| s < to)
            .filter(|&s| s + length > from)
            .collect()
    }
}

/// Unix milliseconds as RFC 3339 UTC text, for messages.
pub(crate) fn rfc3339(at: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(at)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Millis {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn weekly_sunday_0230_berlin_across_both_dst_changes_of_2026() {
        let schedule = Schedule::new(
            "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30",
            chrono_tz::Europe::Berlin,
            default_start(),
            Duration::from_secs(3600),
        )
        .unwrap();
        let starts = schedule.starts(at("2026-03-20T00:00:00Z"), at("2026-11-02T00:00:00Z"));
        // Written by hand: CET is UTC+1 until the last Sunday of March, CEST UTC+2 until the
        // last Sunday of October. 2026-03-29 02:30 does not exist (clocks jump 02:00 -> 03:00):
        // read with the offset before the gap, +01:00, that is 03:30 CEST = 01:30Z.
        // 2026-10-25 02:30 happens twice (CEST, then CET): the first, 00:30Z.
        let mut expected = vec![at("2026-03-22T01:30:00Z"), at("2026-03-29T01:30:00Z")];
        // 2026-04-05 to 2026-10-18: 29 Sundays at 00:30Z.
        let mut sunday = at("2026-04-05T00:30:00Z");
        while sunday <= at("2026-10-18T00:30:00Z") {
            expected.push(sunday);
            sunday += 7 * 86_400_000;
        }
        expected.push(at("2026-10-25T00:30:00Z"));
        expected.push(at("2026-11-01T01:30:00Z"));
        assert_eq!(expected.len(), 2 + 29 + 2);
        assert_eq!(starts, expected);
    }

    #[test]
    fn sub_daily_rules_and_unparsable_ones_are_refused() {
        let tz = chrono_tz::UTC;
        let hourly = Schedule::new("FREQ=HOURLY", tz, default_start(), Duration::from_secs(60));
        assert!(
            hourly.unwrap_err().contains("HOURLY"),
            "message names the frequency"
        );
        let bad = Schedule::new(
            "FREQ=FORTNIGHTLY",
            tz,
            default_start(),
            Duration::from_secs(60),
        );
        assert!(
            bad.unwrap_err()
                .starts_with("`schedule` is not an RFC 5545 RRULE: ")
        );
    }

    #[test]
    fn a_rule_that_never_occurs_has_no_first_occurrence() {
        let never = Schedule::new(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            chrono_tz::UTC,
            default_start(),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(never.first(), None);
    }
}
