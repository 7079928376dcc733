//! `[[digest]]`: scheduled summaries for people, not pages: a weekly SLO review or a daily
//! "wins" message, sent to Slack, Teams or webhook receivers on an RRULE schedule read in an
//! IANA time zone, over the SLOs a scope (id globs and/or labels) selects.
//!
//! [`Digest`] is the validated definition (`validate.rs` builds it from the raw layer and checks
//! it against the SLOs and receivers); its schedule is the maintenance windows' [`Schedule`]
//! (same RRULE and time-zone reading), each occurrence a send time.

use std::collections::BTreeMap;

use burnwatch_engine::Millis;

use crate::maintenance::Schedule;

pub(crate) mod validate;

/// How far ahead and back occurrences are searched: a year and a day, so a yearly rule has one.
const SEARCH: Millis = 366 * 86_400_000;

/// Receiver types a digest may be sent to: chat and webhooks (paging services are for alerts).
pub const RECEIVER_TYPES: [&str; 3] = ["slack", "teams", "webhook"];

/// What a digest says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestKind {
    /// The SLO review over the seven days before the send time, against the seven before those.
    Weekly,
    /// Wins over the day before the send time: objectives held, budgets recovered.
    Daily,
}

impl DigestKind {
    /// `weekly` or `daily`, as written.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestKind::Weekly => "weekly",
            DigestKind::Daily => "daily",
        }
    }

    /// The span a digest of this kind covers before its send time, in milliseconds.
    pub fn span_millis(self) -> Millis {
        match self {
            DigestKind::Weekly => 7 * 86_400_000,
            DigestKind::Daily => 86_400_000,
        }
    }
}

/// One validated `[[digest]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// Unique name; with an occurrence's time it identifies one message in the journal.
    pub name: String,
    /// Weekly review or daily wins.
    pub kind: DigestKind,
    /// Receiver names, each of a type in [`RECEIVER_TYPES`].
    pub receivers: Vec<String>,
    /// When it is sent.
    pub schedule: Schedule,
    /// SLO id patterns (`*`, `?`); empty: any id.
    pub slos: Vec<String>,
    /// SLO labels that must all be equal; empty: any labels.
    pub labels: BTreeMap<String, String>,
}

impl Digest {
    /// Whether the SLO with `id` and `labels` is in this digest's scope.
    pub fn covers<'a>(
        &self,
        id: &str,
        labels: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> bool {
        crate::scope::covers(&self.slos, &self.labels, id, labels)
    }

    /// The first send time strictly after `at`, if any within a year.
    pub fn next_after(&self, at: Millis) -> Option<Millis> {
        self.schedule.starts(at, at + SEARCH).into_iter().next()
    }

    /// The last send time at or before `at`, if any within the year before.
    pub fn last_at_or_before(&self, at: Millis) -> Option<Millis> {
        self.schedule.starts(at - SEARCH, at + 1).into_iter().last()
    }
}
