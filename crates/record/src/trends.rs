//! Weekly trend figures per team label, from the daily rows: what the `/trends` page draws.
//!
//! Per team (the instances' `team` label; `(no team)` without one) and UTC week (Monday to
//! Sunday):
//! - **compliance**: the share of the team's instances with events that week whose SLI over the
//!   week (1 - the week's errors / its events) met the objective in force on the week's last
//!   recorded day; `None` when no instance had events;
//! - **incidents**: page episodes that started in the week;
//! - **MTTR**: the mean time to resolve of those that resolved;
//! - **escalations**: notifications sent in the week, all receivers.

use std::collections::BTreeMap;

use burnwatch_engine::Counts;
use serde::Serialize;

use crate::{Day, DayRow};

/// The name used for instances without a `team` label.
pub const NO_TEAM: &str = "(no team)";

/// One team's weekly figures, oldest week first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamTrend {
    /// The `team` label's value.
    pub team: String,
    /// One point per week from the first asked to the last.
    pub weeks: Vec<WeekPoint>,
}

/// One team over one week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekPoint {
    /// The week's Monday (UTC).
    #[serde(serialize_with = "day_text")]
    pub week: Day,
    /// Instances with events in the week.
    pub instances: u32,
    /// Of them, those that met their objective over the week.
    pub met: u32,
    /// `met / instances`; `None` without instances.
    pub compliance: Option<f64>,
    /// Page episodes that started in the week.
    pub incidents: u32,
    /// Mean time to resolve, seconds.
    pub mttr_seconds: Option<f64>,
    /// Notifications sent.
    pub escalations: u64,
}

fn day_text<S: serde::Serializer>(day: &Day, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(day)
}

#[derive(Default)]
struct Week {
    instances: BTreeMap<String, (Counts, f64, Day)>,
    incidents: u32,
    resolved: u32,
    ttr_sum: f64,
    escalations: u64,
}

/// The weeks from `from`'s to `to`'s, per team (sorted by name), from `rows`.
pub fn weekly(rows: &[DayRow], from: Day, to: Day) -> Vec<TeamTrend> {
    let mut teams: BTreeMap<String, BTreeMap<Day, Week>> = BTreeMap::new();
    for row in rows {
        let team = row.team.clone().unwrap_or_else(|| NO_TEAM.to_string());
        let week = teams
            .entry(team)
            .or_default()
            .entry(row.day.week_start())
            .or_default();
        let key = format!("{}\u{0}{}", row.slo, row.instance);
        let (counts, objective, last) =
            week.instances
                .entry(key)
                .or_insert((Counts::default(), row.objective, row.day));
        counts.add(Counts {
            errors: row.errors,
            total: row.events,
        });
        if row.day >= *last {
            (*objective, *last) = (row.objective, row.day);
        }
        week.incidents += row.incidents;
        if let Some(mttr) = row.mttr_seconds {
            week.resolved += row.resolved;
            week.ttr_sum += mttr * f64::from(row.resolved);
        }
        week.escalations += row.notifications.values().sum::<u64>();
    }
    let (first, last) = (from.week_start(), to.week_start());
    teams
        .into_iter()
        .map(|(team, mut weeks)| {
            let mut points = Vec::new();
            let mut week = first;
            while week <= last {
                let w = weeks.remove(&week).unwrap_or_default();
                let mut point = WeekPoint {
                    week,
                    instances: 0,
                    met: 0,
                    compliance: None,
                    incidents: w.incidents,
                    mttr_seconds: (w.resolved > 0).then(|| w.ttr_sum / f64::from(w.resolved)),
                    escalations: w.escalations,
                };
                for (counts, objective, _) in w.instances.values() {
                    if let Some(ratio) = counts.error_ratio() {
                        point.instances += 1;
                        point.met += u32::from(1.0 - ratio >= *objective);
                    }
                }
                point.compliance = (point.instances > 0)
                    .then(|| f64::from(point.met) / f64::from(point.instances));
                points.push(point);
                week = week.plus(7);
            }
            TeamTrend {
                team,
                weeks: points,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(instance: &str, team: Option<&str>, day: Day, events: f64, errors: f64) -> DayRow {
        DayRow {
            slo: "s".into(),
            instance: instance.into(),
            team: team.map(str::to_string),
            day,
            objective: 0.99,
            events,
            errors,
            budget_spent: None,
            excluded_minutes: 0.0,
            incidents: 1,
            resolved: 1,
            mttr_seconds: Some(600.0),
            notifications: BTreeMap::from([("slack".to_string(), 2)]),
        }
    }

    #[test]
    fn a_week_meets_its_objective_over_its_summed_events_not_per_day() {
        let monday = Day::parse("2026-11-30").unwrap();
        // Day one misses 99% alone (2%), the week does not (5 errors in 1000 events).
        let rows = vec![
            row("a", Some("pay"), monday, 100.0, 2.0),
            row("a", Some("pay"), monday.plus(1), 900.0, 3.0),
            row("b", Some("pay"), monday.plus(2), 100.0, 50.0),
            row("c", None, monday.plus(9), 10.0, 0.0),
        ];
        let trends = weekly(&rows, monday, monday.plus(10));
        assert_eq!(trends.len(), 2);
        let pay = &trends[1];
        assert_eq!(pay.team, "pay");
        assert_eq!(pay.weeks.len(), 2);
        assert_eq!((pay.weeks[0].instances, pay.weeks[0].met), (2, 1));
        assert_eq!(pay.weeks[0].compliance, Some(0.5));
        assert_eq!(pay.weeks[0].incidents, 3);
        assert_eq!(pay.weeks[0].escalations, 6);
        assert_eq!(pay.weeks[1].compliance, None);
        assert_eq!(trends[0].team, NO_TEAM);
        assert_eq!(trends[0].weeks[1].compliance, Some(1.0));
    }
}
