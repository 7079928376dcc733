//! The alert policy of one SLO: which window pairs page or open a ticket, and how alerts hold.
//!
//! The default is the SRE Workbook's multiwindow multi-burn-rate policy as Sloth generates it:
//! a pair's factor is `budget share * period / long window`, so 2% of a 30-day budget in one hour
//! is a burn rate of 14.4.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How urgent an alert is: a page wakes someone, a ticket waits for working hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Fast burn: someone acts now.
    Page,
    /// Slow burn: someone acts within working hours.
    Ticket,
}

impl Severity {
    /// `page` or `ticket`, as in Sloth's `sloth_severity` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// One multiwindow condition: both windows burn faster than `factor`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurnPair {
    /// Page or ticket.
    pub severity: Severity,
    /// The short window (resets the alert quickly once the burn stops).
    pub short: Duration,
    /// The long window (the one the factor is derived from).
    pub long: Duration,
    /// Burn-rate threshold both windows must exceed.
    pub factor: f64,
}

impl BurnPair {
    /// A pair whose factor spends `budget_share` (a ratio, 0.02 for 2%) of the budget of
    /// `period` within `long`.
    pub fn from_budget_share(
        severity: Severity,
        short: Duration,
        long: Duration,
        budget_share: f64,
        period: Duration,
    ) -> BurnPair {
        BurnPair {
            severity,
            short,
            long,
            factor: budget_share * period.as_secs_f64() / long.as_secs_f64(),
        }
    }
}

/// Everything that decides when an SLO instance's alerts change state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertPolicy {
    /// Burn conditions; a severity's condition is the OR of its pairs.
    pub pairs: Vec<BurnPair>,
    /// `for`: how long a condition must hold before the alert fires (0: at once).
    pub hold_for: Duration,
    /// `keep_firing_for`: how long a firing alert stays firing after its condition ends.
    pub keep_firing_for: Duration,
    /// Events the long window must hold before a burn alert may fire (low-traffic SLOs).
    pub min_events: f64,
    /// Whether page alerts are raised at all.
    pub page: bool,
    /// Whether ticket alerts are raised at all.
    pub ticket: bool,
    /// Raise `no_data` (severity ticket) after this long without any series; None disables it.
    pub no_data_for: Option<Duration>,
    /// Raise `budget_exhausted` (severity ticket) when the period's budget remaining is at or
    /// below this ratio; None disables it.
    pub budget_exhausted: Option<f64>,
}

/// SRE Workbook windows and budget shares: (severity, short, long, share).
const WORKBOOK: [(Severity, u64, u64, f64); 4] = [
    (Severity::Page, 300, 3_600, 0.02),
    (Severity::Page, 1_800, 21_600, 0.05),
    (Severity::Ticket, 7_200, 86_400, 0.10),
    (Severity::Ticket, 21_600, 259_200, 0.10),
];

impl AlertPolicy {
    /// The default policy for `period`: 14.4/6/3/1 at 30 days, no `for`, no `min_events`,
    /// `no_data` after 15 minutes, no `budget_exhausted`.
    pub fn sre_workbook(period: Duration) -> AlertPolicy {
        AlertPolicy {
            pairs: WORKBOOK
                .iter()
                .map(|&(severity, short, long, share)| {
                    BurnPair::from_budget_share(
                        severity,
                        Duration::from_secs(short),
                        Duration::from_secs(long),
                        share,
                        period,
                    )
                })
                .collect(),
            hold_for: Duration::ZERO,
            keep_firing_for: Duration::ZERO,
            min_events: 0.0,
            page: true,
            ticket: true,
            no_data_for: Some(Duration::from_secs(15 * 60)),
            budget_exhausted: None,
        }
    }

    /// Every window the policy reads, sorted and without duplicates.
    pub fn windows(&self) -> Vec<Duration> {
        let mut windows: Vec<Duration> =
            self.pairs.iter().flat_map(|p| [p.short, p.long]).collect();
        windows.sort();
        windows.dedup();
        windows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workbook_factors_follow_the_period() {
        let factors = |days: u64| -> Vec<f64> {
            AlertPolicy::sre_workbook(Duration::from_secs(days * 86_400))
                .pairs
                .iter()
                .map(|p| (p.factor * 1000.0).round() / 1000.0)
                .collect()
        };
        assert_eq!(factors(30), vec![14.4, 6.0, 3.0, 1.0]);
        assert_eq!(factors(28), vec![13.44, 5.6, 2.8, 0.933]);
    }

    #[test]
    fn windows_are_the_union_of_pairs() {
        let policy = AlertPolicy::sre_workbook(Duration::from_secs(30 * 86_400));
        let secs: Vec<u64> = policy.windows().iter().map(Duration::as_secs).collect();
        assert_eq!(
            secs,
            vec![300, 1_800, 3_600, 7_200, 21_600, 86_400, 259_200]
        );
    }

    #[test]
    fn calendar_months_of_28_30_and_31_days_scale_the_workbook_factors() {
        use crate::{Calendar, CalendarUnit, Period};
        let month = Period::Calendar(Calendar::new(
            CalendarUnit::Month,
            chrono_tz::America::New_York,
        ));
        // The 15th, noon UTC, of January, February and April 2027 (2027-01-01 is
        // 1,798,761,600 s: 2026-01-01's 1,767,225,600 s plus 365 days).
        const DAY: i64 = 86_400_000;
        let new_year = 1_798_761_600_000_i64;
        let (january, february, april) = (
            new_year + 14 * DAY + DAY / 2,
            new_year + (31 + 14) * DAY + DAY / 2,
            new_year + (31 + 28 + 31 + 14) * DAY + DAY / 2,
        );
        let page = |at: i64| AlertPolicy::sre_workbook(month.length_at(at)).pairs[0].factor;
        // 2% of the budget in 1 hour: 0.02 * 28 * 24 = 13.44, 0.02 * 720 = 14.4, 0.02 * 744.
        assert!((page(february) - 13.44).abs() < 1e-9, "{}", page(february));
        assert!((page(april) - 14.4).abs() < 1e-9, "{}", page(april));
        assert!((page(january) - 14.88).abs() < 1e-9, "{}", page(january));
    }
}
