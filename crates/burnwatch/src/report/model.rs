//! What a report says about one SLO instance, gathered step by step from a replay.
//!
//! The SLI over the span comes from the engine's own 5-minute window at every step after the
//! first: the windows tile the span, so their counts add up to the span's events. Figures are
//! the engine's (`WindowFigures::from_counts`): no ratio or burn rate is computed here.

use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Counts, InstanceInfo, Millis, Severity, WindowFigures};
use burnwatch_scheduler::ReplayStep;

use super::{STEP, Span};
use crate::replay::{Episode, Track};

/// Trend points are kept once an hour.
const TREND_EVERY: Millis = 3_600_000;

/// One instance over the span.
#[derive(Debug, Clone)]
pub struct InstanceReport {
    /// Episodes and budget extremes, as `burnwatch replay` keeps them.
    pub track: Track,
    /// The span.
    pub span: Span,
    /// The objective as a ratio.
    pub objective: f64,
    /// Events of the span.
    pub counts: Counts,
    /// Budget remaining over the period, hourly.
    pub trend: Vec<(Millis, Option<f64>)>,
    /// Each excluded or silenced span overlapping the report, with the budget it gave back
    /// (`None` for spans that only silence, or without figures).
    pub exclusions: Vec<(burnwatch_engine::ExclusionSpan, Option<f64>)>,
    /// For a composite SLO: its components as people read them, with their weights.
    pub components: Vec<(String, f64)>,
}

/// An incident: one page or ticket episode, cut at the end of the span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incident {
    /// The episode.
    pub episode: Episode,
    /// How long it fired within the report (to the end of the span if still firing).
    pub duration: Duration,
}

impl InstanceReport {
    /// An empty report for `info`.
    pub fn new(info: Arc<InstanceInfo>, span: Span) -> InstanceReport {
        InstanceReport {
            objective: info.slo.objective.ratio(),
            track: Track::new(info),
            span,
            counts: Counts::default(),
            trend: Vec::new(),
            exclusions: Vec::new(),
            components: Vec::new(),
        }
    }

    /// `checkout-cart (weight 2), checkout-pay`: a composite's components; empty for others.
    pub fn components_text(&self) -> String {
        self.components
            .iter()
            .map(|(name, weight)| {
                if *weight == 1.0 {
                    name.clone()
                } else {
                    format!("{name} (weight {weight})")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Takes in one replay step of this instance.
    pub fn record(&mut self, step: &ReplayStep<'_>) {
        self.track.record(step);
        if step.at > self.span.start
            && let Some(window) = step.eval.window(STEP)
        {
            self.counts.add(window.counts);
        }
        if step.at % TREND_EVERY == 0 || step.at == self.span.end {
            self.trend
                .push((step.at, step.eval.period.budget_remaining));
        }
    }

    /// The span's figures: error ratio, and burn rate = the share of the span's own error
    /// budget consumed (1.0: exactly what the objective allows).
    pub fn figures(&self) -> WindowFigures {
        let length = Duration::from_millis((self.span.end - self.span.start) as u64);
        WindowFigures::from_counts(length, self.counts, self.objective)
    }

    /// The achieved SLI: 1 - the span's error ratio; `None` without events.
    pub fn sli(&self) -> Option<f64> {
        self.figures().error_ratio.map(|r| 1.0 - r)
    }

    /// Page and ticket episodes, in the order they fired.
    pub fn incidents(&self) -> Vec<Incident> {
        self.track
            .episodes
            .iter()
            .map(|e| Incident {
                episode: *e,
                duration: Duration::from_millis(
                    (e.end.unwrap_or(self.span.end) - e.start).max(0) as u64
                ),
            })
            .collect()
    }

    /// Mean time to resolve over the resolved incidents; `None` when none resolved.
    pub fn mttr(&self) -> Option<Duration> {
        let resolved: Vec<Duration> = self
            .incidents()
            .iter()
            .filter(|i| i.episode.end.is_some())
            .map(|i| i.duration)
            .collect();
        let n = u32::try_from(resolved.len()).ok().filter(|n| *n > 0)?;
        Some(resolved.iter().sum::<Duration>() / n)
    }

    /// Pages raised (escalations).
    pub fn pages(&self) -> usize {
        self.track.count(Severity::Page)
    }

    /// Tickets raised.
    pub fn tickets(&self) -> usize {
        self.track.count(Severity::Ticket)
    }
}
