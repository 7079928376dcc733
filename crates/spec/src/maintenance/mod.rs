//! `[[maintenance]]`: planned windows that exclude an SLO's events and/or silence its
//! notifications, once (`start`/`end`) or on a recurring RRULE `schedule`.
//!
//! [`Maintenance`] is the validated definition (`validate.rs` builds it from the raw layer and
//! checks the definitions against each other and the SLOs), [`Schedule`] the expanded rule
//! (`schedule.rs`), and [`MaintenanceSpans`] the engine's `SpanSource` over all of them
//! (`source.rs`), which the daemon, replay and reports register under `"maintenance"`.

use std::collections::BTreeMap;
use std::time::Duration;

use burnwatch_engine::Millis;

pub(crate) mod schedule;
mod source;
pub(crate) mod validate;

pub use schedule::Schedule;
pub use source::MaintenanceSpans;

/// One validated `[[maintenance]]` definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Maintenance {
    /// Unique name; spans carry it as their origin.
    pub name: String,
    /// SLO id patterns (`*` any run of characters, `?` one character); empty: any id.
    pub slos: Vec<String>,
    /// SLO labels that must all be equal; empty: any labels.
    pub labels: BTreeMap<String, String>,
    /// When.
    pub when: When,
    /// Why, shown with the span (empty when not given).
    pub reason: String,
    /// Events inside count toward no window and no budget.
    pub exclude: bool,
    /// Alerts keep their state but notify nobody while inside.
    pub silence: bool,
}

/// A one-off window or a recurring schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// `start`/`end`: the span `(start, end]` in unix milliseconds.
    Once {
        /// Exclusive start.
        start: Millis,
        /// Inclusive end.
        end: Millis,
    },
    /// `schedule` with `duration` and `timezone`.
    Recurring(Box<Schedule>),
}

impl Maintenance {
    /// Whether this definition covers the SLO with `id` and `labels`: its id matches one of the
    /// patterns (when any are given) and it has every label (when any are given).
    pub fn covers<'a>(
        &self,
        id: &str,
        labels: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> bool {
        crate::scope::covers(&self.slos, &self.labels, id, labels)
    }

    /// The windows' `(start, end]` that overlap `(from, to]`, in order.
    pub fn windows(&self, from: Millis, to: Millis) -> Vec<(Millis, Millis)> {
        match &self.when {
            When::Once { start, end } => {
                if *start < to && *end > from {
                    vec![(*start, *end)]
                } else {
                    Vec::new()
                }
            }
            When::Recurring(schedule) => {
                let length = millis(schedule.duration);
                schedule
                    .starts(from, to)
                    .into_iter()
                    .map(|s| (s, s + length))
                    .collect()
            }
        }
    }
}

fn millis(duration: Duration) -> Millis {
    Millis::try_from(duration.as_millis()).unwrap_or(Millis::MAX)
}
