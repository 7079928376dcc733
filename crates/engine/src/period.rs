//! The SLO period: rolling (the last N days, the default) or calendar-aligned (the current
//! week, month or quarter from its local midnight in an IANA time zone).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::millis::{to_duration, to_millis};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// What the budget and the period figures cover.
///
/// Serialised untagged: a rolling period is a plain `Duration` (as state snapshots held it
/// before calendar periods existed), a calendar one its unit, zone and week start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Period {
    /// The last `Duration` before every evaluation.
    Rolling(Duration),
    /// The current calendar period, from its start in a time zone.
    Calendar(Calendar),
}

/// The calendar unit of a calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarUnit {
    /// Seven local days from `week_start`.
    Week,
    /// From the 1st of the month: 28 to 31 days.
    Month,
    /// From the 1st of January, April, July or October: 90 to 92 days.
    Quarter,
}

impl CalendarUnit {
    /// `week`, `month` or `quarter`, as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarUnit::Week => "week",
            CalendarUnit::Month => "month",
            CalendarUnit::Quarter => "quarter",
        }
    }

    /// The longest local days a period holds (a 25-hour day added for a DST change).
    fn longest_days(self) -> u64 {
        match self {
            CalendarUnit::Week => 7,
            CalendarUnit::Month => 31,
            CalendarUnit::Quarter => 92,
        }
    }

    /// The shortest local days a period holds (a 23-hour day taken off for a DST change).
    fn shortest_days(self) -> u64 {
        match self {
            CalendarUnit::Week => 7,
            CalendarUnit::Month => 28,
            CalendarUnit::Quarter => 90,
        }
    }
}

/// A calendar period: unit, IANA zone, and (weeks) the first day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarRepr", into = "CalendarRepr")]
pub struct Calendar {
    /// Week, month or quarter.
    pub unit: CalendarUnit,
    /// The zone whose local midnight starts a period.
    pub timezone: Tz,
    /// The first day of a week (ignored for months and quarters).
    pub week_start: Weekday,
}

/// How a [`Calendar`] is written in a snapshot: the zone by its IANA name.
#[derive(Serialize, Deserialize)]
struct CalendarRepr {
    unit: CalendarUnit,
    timezone: String,
    week_start: String,
}

impl From<Calendar> for CalendarRepr {
    fn from(c: Calendar) -> Self {
        CalendarRepr {
            unit: c.unit,
            timezone: c.timezone.name().to_string(),
            week_start: c.week_start.to_string(),
        }
    }
}

impl TryFrom<CalendarRepr> for Calendar {
    type Error = String;
    fn try_from(r: CalendarRepr) -> Result<Self, String> {
        Ok(Calendar {
            unit: r.unit,
            timezone: Tz::from_str(&r.timezone).map_err(|e| e.to_string())?,
            week_start: Weekday::from_str(&r.week_start)
                .map_err(|_| format!("unknown week_start {:?}", r.week_start))?,
        })
    }
}

impl Calendar {
    /// A calendar period starting weeks on Monday.
    pub fn new(unit: CalendarUnit, timezone: Tz) -> Calendar {
        Calendar {
            unit,
            timezone,
            week_start: Weekday::Mon,
        }
    }

    /// `[start, end)` of the period holding `at`: local midnights of the period's first day and
    /// of the next period's first day.
    pub fn bounds(&self, at: Millis) -> (Millis, Millis) {
        // chrono's dates end in year 262143; instants beyond any calendar are clamped to years
        // 1 and 9999 rather than failing on data.
        const FIRST: Millis = -62_135_596_800_000;
        const LAST: Millis = 253_402_300_799_999;
        let utc = DateTime::from_timestamp_millis(at.clamp(FIRST, LAST)).unwrap_or_default();
        let day = utc.with_timezone(&self.timezone).date_naive();
        let (first, next) = match self.unit {
            CalendarUnit::Week => {
                let back = day.weekday().days_since(self.week_start);
                let first = day - Days::new(u64::from(back));
                (first, first + Days::new(7))
            }
            CalendarUnit::Month => {
                let first = day.with_day(1).unwrap_or(day);
                (first, first + Months::new(1))
            }
            CalendarUnit::Quarter => {
                let month = (day.month0() / 3) * 3 + 1;
                let first = NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day);
                (first, first + Months::new(3))
            }
        };
        (self.midnight(first), self.midnight(next))
    }

    /// The instant `date` begins in the zone: local midnight, the earlier one when midnight
    /// occurs twice, and the first local time after it when a DST change skips it (zones that
    /// change at midnight, e.g. America/Santiago).
    fn midnight(&self, date: NaiveDate) -> Millis {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        for minutes in 0..=24 * 60 {
            let local = midnight + chrono::Duration::minutes(minutes);
            if let Some(t) = self.timezone.from_local_datetime(&local).earliest() {
                return t.timestamp_millis();
            }
        }
        midnight.and_utc().timestamp_millis()
    }
}

impl From<Duration> for Period {
    fn from(d: Duration) -> Self {
        Period::Rolling(d)
    }
}

impl From<Calendar> for Period {
    fn from(c: Calendar) -> Self {
        Period::Calendar(c)
    }
}

impl Period {
    /// `[start, end)` of the period evaluated at `at`: for a rolling period `(at - length, at]`
    /// written as `(at - length, at)`, for a calendar period the current week, month or quarter.
    pub fn bounds(&self, at: Millis) -> (Millis, Millis) {
        match self {
            Period::Rolling(d) => (at.saturating_sub(to_millis(*d)), at),
            Period::Calendar(c) => c.bounds(at),
        }
    }

    /// The length of the period holding `at`: a rolling period's length, or the calendar
    /// period's (a March in Europe/Berlin is 31 days less an hour).
    pub fn length_at(&self, at: Millis) -> Duration {
        match self {
            Period::Rolling(d) => *d,
            Period::Calendar(c) => {
                let (start, end) = c.bounds(at);
                to_duration(end.saturating_sub(start))
            }
        }
    }

    /// The longest this period can be: what the buckets must reach back (31 days and an hour
    /// for a month, 92 days and an hour for a quarter).
    pub fn longest(&self) -> Duration {
        match self {
            Period::Rolling(d) => *d,
            Period::Calendar(c) => DAY * c.unit.longest_days() as u32 + HOUR,
        }
    }

    /// The shortest this period can be: what alert windows must fit in (28 days less an hour
    /// for a month).
    pub fn shortest(&self) -> Duration {
        match self {
            Period::Rolling(d) => *d,
            Period::Calendar(c) => DAY * c.unit.shortest_days() as u32 - HOUR,
        }
    }

    /// The calendar, when calendar-aligned.
    pub fn calendar(&self) -> Option<&Calendar> {
        match self {
            Period::Rolling(_) => None,
            Period::Calendar(c) => Some(c),
        }
    }
}

impl fmt::Display for Calendar {
    /// `month in Europe/Berlin`, `week from Sunday in UTC`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.unit.as_str())?;
        if self.unit == CalendarUnit::Week {
            write!(f, " from {}", weekday_name(self.week_start))?;
        }
        write!(f, " in {}", self.timezone.name())
    }
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const D: i64 = 24 * H;
    const NEW_YORK: Tz = chrono_tz::America::New_York;
    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    /// Unix ms of a UTC date and hour, counted by hand from 2026-01-01T00:00Z = 1_767_225_600 s.
    fn utc(days_since_2026: i64, hour: i64) -> Millis {
        1_767_225_600_000 + days_since_2026 * D + hour * H
    }

    fn month(tz: Tz) -> Calendar {
        Calendar::new(CalendarUnit::Month, tz)
    }

    fn days(p: (Millis, Millis)) -> f64 {
        (p.1 - p.0) as f64 / D as f64
    }

    // Days since 2026-01-01 of the 1st of each month, by hand: 2026 has 365 days, so
    // 2027-01-01 is day 365; Jan 31 -> Feb 1 = 396; +28 -> Mar 1 = 424; +31 -> Apr 1 = 455;
    // +30 -> May 1 = 485. 2027 has 365 days: 2028-01-01 = 730; Feb 1 = 761; Mar 1 (2028 is a
    // leap year, Feb has 29) = 761 + 29 = 790.

    #[test]
    fn month_lengths_in_new_york() {
        let ny = month(NEW_YORK);
        // New York is UTC-5 in winter (EST), UTC-4 in summer (EDT); 2027's DST starts on
        // Sunday 14 March and ends on Sunday 7 November.
        // January 2027: 1 Jan 05:00Z to 1 Feb 05:00Z, 31 days.
        assert_eq!(ny.bounds(utc(380, 12)), (utc(365, 5), utc(396, 5)));
        // February 2027: 28 days.
        assert_eq!(ny.bounds(utc(400, 0)), (utc(396, 5), utc(424, 5)));
        // February 2028: 29 days, leap year.
        assert_eq!(ny.bounds(utc(770, 0)), (utc(761, 5), utc(790, 5)));
        assert_eq!(days(ny.bounds(utc(770, 0))), 29.0);
        // April 2027 (EDT throughout): 1 Apr 04:00Z to 1 May 04:00Z, 30 days.
        assert_eq!(ny.bounds(utc(460, 0)), (utc(455, 4), utc(485, 4)));
        // March 2027 holds the spring-forward: 1 Mar 05:00Z (EST) to 1 Apr 04:00Z (EDT), 31 days
        // less an hour.
        assert_eq!(ny.bounds(utc(430, 0)), (utc(424, 5), utc(455, 4)));
        let period = Period::Calendar(ny);
        assert_eq!(
            period.length_at(utc(430, 0)),
            Duration::from_secs(743 * 3600)
        );
    }

    #[test]
    fn a_month_starts_at_local_midnight_in_berlin() {
        let berlin = month(BERLIN);
        // Berlin is UTC+1 in winter: 1 Feb 2027 begins at 31 Jan 23:00Z.
        let (start, _) = berlin.bounds(utc(400, 0));
        assert_eq!(start, utc(395, 23));
        // UTC+2 in summer: 1 Jul 2027 begins at 30 Jun 22:00Z. 1 Jul 2027 = day 365 + 181 = 546.
        let (start, _) = berlin.bounds(utc(550, 0));
        assert_eq!(start, utc(545, 22));
        // One second before that instant is still June.
        assert_eq!(berlin.bounds(utc(545, 22) - 1_000).1, utc(545, 22));
    }

    #[test]
    fn weeks_across_dst_changes_have_167_and_169_hours() {
        let week = Calendar::new(CalendarUnit::Week, NEW_YORK);
        // 2027-03-14 (Sunday) is the spring-forward; that week, Monday 8 March to Monday 15
        // March: 8 Mar = day 365 + 31 + 28 + 7 = 431, 05:00Z (EST); 15 Mar = 438, 04:00Z (EDT).
        assert_eq!(week.bounds(utc(435, 0)), (utc(431, 5), utc(438, 4)));
        assert_eq!(
            Period::Calendar(week).length_at(utc(435, 0)),
            Duration::from_secs(167 * 3600)
        );
        // 2026-11-01 (Sunday) is the fall-back; Monday 26 October (day 298) 04:00Z (EDT) to
        // Monday 2 November (day 305) 05:00Z (EST): 169 hours.
        assert_eq!(week.bounds(utc(300, 0)), (utc(298, 4), utc(305, 5)));
        // Weeks from Sunday: the week of Sunday 1 November 2026 begins that day, 04:00Z (the
        // midnight before the fall-back is still EDT) and ends Sunday 8 November 05:00Z.
        let sunday = Calendar {
            week_start: Weekday::Sun,
            ..week
        };
        assert_eq!(sunday.bounds(utc(305, 0)), (utc(304, 4), utc(311, 5)));
    }

    #[test]
    fn quarters_start_in_january_april_july_and_october() {
        let q = Calendar::new(CalendarUnit::Quarter, chrono_tz::UTC);
        // 2027-05-20 (day 504) is in Q2: 1 April (455) to 1 July (546), 91 days.
        assert_eq!(q.bounds(utc(504, 7)), (utc(455, 0), utc(546, 0)));
        // Q1 2028 (a leap year): 1 Jan (730) to 1 Apr (730 + 31 + 29 + 31 = 821), 91 days;
        // Q1 2027: 90 days.
        assert_eq!(q.bounds(utc(740, 0)), (utc(730, 0), utc(821, 0)));
        assert_eq!(days(q.bounds(utc(370, 0))), 90.0);
    }

    #[test]
    fn longest_and_shortest_bound_every_period() {
        let p = Period::Calendar(month(NEW_YORK));
        assert_eq!(p.longest(), Duration::from_secs((31 * 24 + 1) * 3600));
        assert_eq!(p.shortest(), Duration::from_secs((28 * 24 - 1) * 3600));
        let q = Period::Calendar(Calendar::new(CalendarUnit::Quarter, BERLIN));
        assert_eq!(q.longest(), Duration::from_secs((92 * 24 + 1) * 3600));
        let rolling = Period::from(Duration::from_secs(86_400));
        assert_eq!(rolling.bounds(10 * D), (9 * D, 10 * D));
        assert_eq!(rolling.longest(), rolling.length_at(0));
    }

    #[test]
    fn far_away_instants_do_not_panic() {
        let p = Period::Calendar(month(BERLIN));
        for at in [i64::MIN, i64::MAX, 0] {
            let (start, end) = p.bounds(at);
            assert!(start < end);
        }
    }

    #[test]
    fn serde_keeps_rolling_as_a_duration_and_calendars_by_zone_name() {
        let rolling = Period::Rolling(Duration::from_secs(60));
        let json = serde_json::to_string(&rolling).unwrap();
        assert_eq!(json, r#"{"secs":60,"nanos":0}"#);
        let p = Period::Calendar(Calendar {
            week_start: Weekday::Sun,
            ..Calendar::new(CalendarUnit::Week, BERLIN)
        });
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"unit":"week","timezone":"Europe/Berlin","week_start":"Sun"}"#
        );
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), p);
        assert_eq!(
            serde_json::from_str::<Period>(r#"{"secs":60,"nanos":0}"#).unwrap(),
            rolling
        );
    }
}
