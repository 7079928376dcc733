//! From the steps of one SLO's replay to the record's day batches: per instance and UTC day,
//! the events the engine counted in its 5-minute windows (which tile the day), the objective
//! in force, the page episodes (as `burnwatch replay` tracks them) and the excluded minutes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Counts, ExclusionSpan, Severity, WindowFigures, excluded_of};
use burnwatch_record::{Day, DayBatch, DayRow, IncidentRow};
use burnwatch_scheduler::ReplayStep;

use crate::replay::Track;
use crate::report::STEP;

const DAY: Duration = Duration::from_secs(86_400);

/// One instance over the replay.
struct Instance {
    track: Track,
    days: BTreeMap<Day, (Counts, f64)>,
}

/// Gathers the steps of one replay over the days `[first, last]`.
pub struct DayCollector {
    slo: String,
    first: Day,
    last: Day,
    instances: Vec<Instance>,
}

impl DayCollector {
    /// A collector for `slo`'s days `first..=last`.
    pub fn new(slo: &str, first: Day, last: Day) -> Self {
        DayCollector {
            slo: slo.to_string(),
            first,
            last,
            instances: Vec::new(),
        }
    }

    /// Takes in one step of one instance.
    pub fn step(&mut self, step: &ReplayStep<'_>) {
        let i = match self
            .instances
            .iter()
            .position(|r| Arc::ptr_eq(&r.track.info, step.instance))
        {
            Some(i) => i,
            None => {
                self.instances.push(Instance {
                    track: Track::new(Arc::clone(step.instance)),
                    days: BTreeMap::new(),
                });
                self.instances.len() - 1
            }
        };
        let instance = &mut self.instances[i];
        instance.track.record(step);
        // The step counts (at - 5m, at]: the step at midnight closes the day before.
        let day = Day::of_step_end(step.at);
        if day < self.first || day > self.last {
            return;
        }
        if let Some(window) = step.eval.window(STEP) {
            let (counts, objective) = instance
                .days
                .entry(day)
                .or_insert((Counts::default(), step.eval.objective));
            counts.add(window.counts);
            *objective = step.eval.objective;
        }
    }

    /// One batch per day of the range (days without rows too: they are marked done), oldest
    /// first; `spans` are the SLO's excluded and silenced spans.
    pub fn batches(self, spans: &[ExclusionSpan]) -> Vec<DayBatch> {
        let excluded = excluded_of(spans);
        let mut batches: BTreeMap<Day, DayBatch> = BTreeMap::new();
        let mut day = self.first;
        while day <= self.last {
            batches.insert(
                day,
                DayBatch {
                    slo: self.slo.clone(),
                    day,
                    rows: Vec::new(),
                    incidents: Vec::new(),
                    replaces_open_from: (day == self.first).then(|| day.start()),
                },
            );
            day = day.plus(1);
        }
        for instance in self.instances {
            let info = &instance.track.info;
            let name = burnwatch_record::instance_name(&info.slo.id, &info.group);
            let team = instance
                .track
                .info
                .labels()
                .into_iter()
                .find(|(k, _)| k == "team")
                .map(|(_, v)| v);
            for (day, (counts, objective)) in instance.days {
                // Zero traffic is no evidence: no row.
                if counts.total <= 0.0 {
                    continue;
                }
                let figures = WindowFigures::from_counts(DAY, counts, objective);
                let excluded_ms = excluded.overlap(day.start(), day.end());
                batches.get_mut(&day).expect("in range").rows.push(DayRow {
                    slo: self.slo.clone(),
                    instance: name.clone(),
                    team: team.clone(),
                    day,
                    objective,
                    events: counts.total,
                    errors: counts.errors,
                    budget_spent: figures.burn_rate,
                    excluded_minutes: excluded_ms as f64 / 60_000.0,
                    incidents: 0,
                    resolved: 0,
                    mttr_seconds: None,
                    notifications: BTreeMap::new(),
                });
            }
            for episode in &instance.track.episodes {
                if episode.severity != Severity::Page {
                    continue;
                }
                if let Some(batch) = batches.get_mut(&Day::of(episode.start)) {
                    batch.incidents.push(IncidentRow {
                        instance: name.clone(),
                        start: episode.start,
                        end: episode.end,
                    });
                }
            }
        }
        batches.into_values().collect()
    }
}
