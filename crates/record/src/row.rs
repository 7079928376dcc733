//! What the record holds: a day of one SLO instance, its incidents, and what is asked of it.

use std::collections::BTreeMap;

use burnwatch_engine::Millis;
use serde::Serialize;

use crate::Day;

/// One SLO instance over one UTC day, as written and as read back (the incident and
/// notification fields are filled in on reading).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayRow {
    /// The SLO's id.
    pub slo: String,
    /// The instance: `id` or `id{k=v,...}` for group instances.
    pub instance: String,
    /// The instance's `team` label, if it has one.
    pub team: Option<String>,
    /// The UTC day.
    #[serde(serialize_with = "day_text")]
    pub day: Day,
    /// The objective in force that day, as a ratio (0.999).
    pub objective: f64,
    /// Events counted in the day (excluded spans left out).
    pub events: f64,
    /// Bad events counted in the day.
    pub errors: f64,
    /// The share of the day's own error budget the day's errors used (the day's burn rate:
    /// errors / ((1 - objective) x events); 1.0 is exactly what the objective allows); `None`
    /// without events.
    pub budget_spent: Option<f64>,
    /// Minutes of the day inside excluded spans (maintenance, corrections).
    pub excluded_minutes: f64,
    /// Page episodes that started this day.
    pub incidents: u32,
    /// How many of them resolved.
    pub resolved: u32,
    /// Mean time to resolve of those of them that resolved, in seconds.
    pub mttr_seconds: Option<f64>,
    /// Notifications sent this day, by receiver.
    pub notifications: BTreeMap<String, u64>,
}

impl DayRow {
    /// Whether the day met its objective (SLI = 1 - errors / events at or above it); `None`
    /// without events.
    pub fn met(&self) -> Option<bool> {
        (self.events > 0.0).then(|| 1.0 - self.errors / self.events >= self.objective)
    }
}

fn day_text<S: serde::Serializer>(day: &Day, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(day)
}

/// One page episode of an instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentRow {
    /// The instance.
    pub instance: String,
    /// When the page fired (unix ms).
    pub start: Millis,
    /// When it resolved; `None` while it fires.
    pub end: Option<Millis>,
}

/// What one SLO's replay over a run of days wrote: each day is one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct DayBatch {
    /// The SLO's id.
    pub slo: String,
    /// The day.
    pub day: Day,
    /// One row per instance that had events that day (zero traffic is no evidence: no row).
    pub rows: Vec<DayRow>,
    /// Page episodes that started that day, and those still open at its start that it saw end.
    pub incidents: Vec<IncidentRow>,
    /// When set: open incidents of the SLO starting at or after this moment are replaced by
    /// this batch's (the replay that made it started there and saw them afresh).
    pub replaces_open_from: Option<Millis>,
}

/// Which rows to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Only this SLO (all when `None`).
    pub slo: Option<String>,
    /// First day, inclusive.
    pub from: Day,
    /// Last day, inclusive.
    pub to: Day,
}

/// The instance as the record names it: `id`, or `id{k=v,...}` for a group instance (the name
/// `burnwatch replay` and `report` print).
pub fn instance_name(slo: &str, group: &[(String, String)]) -> String {
    if group.is_empty() {
        return slo.to_string();
    }
    let labels: Vec<String> = group.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{slo}{{{}}}", labels.join(","))
}
