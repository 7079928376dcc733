//! A UTC calendar day: the record's unit. Days are UTC so that every replica, report and page
//! agrees on where one ends, whatever its time zone.

use std::fmt;

use burnwatch_engine::Millis;

const DAY_MS: Millis = 86_400_000;

/// A UTC day as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// The day holding `at` (unix milliseconds).
    pub fn of(at: Millis) -> Day {
        Day(at.div_euclid(DAY_MS))
    }

    /// The day an event counted at a step ending at `at` belongs to: steps count `(at - step,
    /// at]`, so the step ending at midnight belongs to the day before.
    pub fn of_step_end(at: Millis) -> Day {
        Day::of(at - 1)
    }

    /// Its first millisecond (00:00 UTC).
    pub fn start(self) -> Millis {
        self.0 * DAY_MS
    }

    /// The next day's first millisecond.
    pub fn end(self) -> Millis {
        (self.0 + 1) * DAY_MS
    }

    /// The day `n` days later (earlier when negative).
    pub fn plus(self, n: i64) -> Day {
        Day(self.0 + n)
    }

    /// Monday of this day's week (ISO weeks, UTC). 1970-01-01 was a Thursday.
    pub fn week_start(self) -> Day {
        Day(self.0 - (self.0 + 3).rem_euclid(7))
    }

    /// `2026-12-07` as a day; `None` if it is not a date.
    pub fn parse(text: &str) -> Option<Day> {
        let mut parts = text.trim().splitn(3, '-');
        let year: i64 = parts.next()?.parse().ok()?;
        let month: i64 = parts.next()?.parse().ok()?;
        let day: i64 = parts.next()?.parse().ok()?;
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || day < 1 {
            return None;
        }
        let first = days_from_civil(year, month, 1);
        let next = if month == 12 {
            days_from_civil(year + 1, 1, 1)
        } else {
            days_from_civil(year, month + 1, 1)
        };
        (first + day - 1 < next).then_some(Day(first + day - 1))
    }

    /// Year, month and day of month.
    pub fn civil(self) -> (i64, u32, u32) {
        // Howard Hinnant's civil_from_days.
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }
}

/// Days from 1970-01-01 to `year-month-day` (Howard Hinnant's days_from_civil).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_print_parse_and_start_weeks_on_monday() {
        // 2026-12-07T00:00:00Z, a Monday.
        let day = Day::of(1_796_601_600_000);
        assert_eq!(day.to_string(), "2026-12-07");
        assert_eq!(Day::parse("2026-12-07"), Some(day));
        assert_eq!(day.plus(3).week_start(), day);
        assert_eq!(Day::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert_eq!(Day::parse("2025-02-29"), None);
        assert_eq!(Day::of_step_end(day.start()), day.plus(-1));
        assert_eq!(Day::of_step_end(day.start() + 1), day);
    }
}
