//! What a replay remembers of one SLO instance: its alert episodes and budget extremes. Step rows
//! are written out as they come; only this summary is kept.

use std::sync::Arc;

use burnwatch_engine::{AlertKind, AlertStatus, ExclusionSpan, InstanceInfo, Millis, Severity};
use burnwatch_scheduler::ReplayStep;

/// One firing episode of a burn alert, as the daemon would have notified it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    /// Page or ticket.
    pub severity: Severity,
    /// When it fired.
    pub start: Millis,
    /// When it resolved; None while still firing at the end of the replay.
    pub end: Option<Millis>,
}

impl Episode {
    /// Whether two episodes of the same severity overlap in time (open ends run to the end).
    pub fn overlaps(&self, other: &Episode) -> bool {
        self.severity == other.severity
            && self.start <= other.end.unwrap_or(Millis::MAX)
            && other.start <= self.end.unwrap_or(Millis::MAX)
    }
}

/// The summary of one instance over the replay.
#[derive(Debug, Clone)]
pub struct Track {
    /// The instance.
    pub info: Arc<InstanceInfo>,
    /// Page and ticket episodes in start order.
    pub episodes: Vec<Episode>,
    /// Lowest budget remaining seen.
    pub budget_min: Option<f64>,
    /// Budget remaining at the last step.
    pub budget_end: Option<f64>,
    /// Highest 1h burn rate seen.
    pub worst_burn_1h: Option<f64>,
    /// Excluded time in the period at the last step.
    pub excluded_end: std::time::Duration,
    /// The excluded and silenced spans overlapping the replayed range, by start.
    pub spans: Vec<ExclusionSpan>,
}

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

impl Track {
    /// The SLO instance as one short name: `id` or `id{k=v,...}` for group instances.
    pub fn name(&self) -> String {
        let group = &self.info.group;
        if group.is_empty() {
            return self.info.slo.id.clone();
        }
        let labels: Vec<String> = group.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}{{{}}}", self.info.slo.id, labels.join(","))
    }

    /// An empty track for `info`.
    pub fn new(info: Arc<InstanceInfo>) -> Track {
        Track {
            info,
            episodes: Vec::new(),
            budget_min: None,
            budget_end: None,
            worst_burn_1h: None,
            excluded_end: std::time::Duration::ZERO,
            spans: Vec::new(),
        }
    }

    /// Takes in one step of this instance.
    pub fn record(&mut self, step: &ReplayStep<'_>) {
        for t in step.transitions {
            let severity = match t.kind {
                AlertKind::Page => Severity::Page,
                AlertKind::Ticket => Severity::Ticket,
                AlertKind::NoData | AlertKind::BudgetExhausted => continue,
            };
            match t.status {
                AlertStatus::Firing => self.episodes.push(Episode {
                    severity,
                    start: t.fired_at,
                    end: None,
                }),
                AlertStatus::Resolved => {
                    if let Some(open) = self
                        .episodes
                        .iter_mut()
                        .rev()
                        .find(|e| e.severity == severity && e.end.is_none())
                    {
                        open.end = Some(t.at);
                    }
                }
            }
        }
        let budget = step.eval.period.budget_remaining;
        self.budget_end = budget;
        self.excluded_end = step.eval.period.excluded;
        self.budget_min = min_opt(self.budget_min, budget);
        let burn = step.eval.window(HOUR).and_then(|w| w.burn_rate);
        self.worst_burn_1h = max_opt(self.worst_burn_1h, burn);
    }

    /// Number of episodes of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.episodes
            .iter()
            .filter(|e| e.severity == severity)
            .count()
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(severity: Severity, start: Millis, end: Option<Millis>) -> Episode {
        Episode {
            severity,
            start,
            end,
        }
    }

    #[test]
    fn overlap_needs_the_same_severity_and_shared_time() {
        let a = ep(Severity::Page, 100, Some(200));
        assert!(a.overlaps(&ep(Severity::Page, 200, Some(300))));
        assert!(!a.overlaps(&ep(Severity::Page, 201, Some(300))));
        assert!(!a.overlaps(&ep(Severity::Ticket, 150, Some(160))));
        // An episode still open at the end overlaps everything after its start.
        assert!(ep(Severity::Page, 150, None).overlaps(&ep(Severity::Page, 10_000, Some(10_001))));
    }

    #[test]
    fn extremes_ignore_missing_values() {
        assert_eq!(min_opt(None, Some(0.5)), Some(0.5));
        assert_eq!(min_opt(Some(0.2), Some(0.5)), Some(0.2));
        assert_eq!(max_opt(Some(3.0), None), Some(3.0));
    }
}
