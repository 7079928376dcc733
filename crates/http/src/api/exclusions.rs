//! The excluded and silenced spans of an SLO as the API and the status page show them: those
//! the runner published to the board that overlap the period evaluated.

use std::time::Duration;

use burnwatch_engine::{ExclusionSpan, Millis, Origin};
use burnwatch_spec::text::rfc3339;
use serde::Serialize;

/// One span, `(start, end]`, as written out.
#[derive(Debug, Clone, Serialize)]
pub struct ExclusionView {
    pub start: String,
    pub end: String,
    /// `source` (`maintenance` or `correction`) and its `name`, or `id` and `category`.
    #[serde(flatten)]
    pub origin: Origin,
    pub reason: String,
    pub exclude: bool,
    pub silence: bool,
    /// The span in unix milliseconds, for the page's charts.
    #[serde(skip)]
    pub span: (Millis, Millis),
}

impl ExclusionView {
    /// `maintenance "sunday-db"` or `correction 7 (dependency)`: where it comes from, for people.
    pub fn source(&self) -> String {
        match &self.origin {
            Origin::Maintenance { name } => format!("maintenance {name}"),
            Origin::Correction { id, category } => format!("correction {id} ({category})"),
        }
    }
}

/// The spans overlapping the period `(at - period, at]`, by start.
pub fn in_period(spans: &[ExclusionSpan], at: Millis, period: Duration) -> Vec<ExclusionView> {
    let from = at.saturating_sub(i64::try_from(period.as_millis()).unwrap_or(i64::MAX));
    spans
        .iter()
        .filter(|s| s.start < at && s.end > from)
        .map(|s| ExclusionView {
            start: rfc3339(s.start),
            end: rfc3339(s.end),
            origin: s.origin.clone(),
            reason: s.reason.clone(),
            exclude: s.exclude,
            silence: s.silence,
            span: (s.start, s.end),
        })
        .collect()
}
