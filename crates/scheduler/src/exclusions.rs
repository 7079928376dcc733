//! Excluded and silenced spans of time, per SLO: maintenance windows from the configuration and
//! corrections made through the API, each a [`SpanSource`] registered under a name.
//!
//! Runners ask for their SLO's spans on every tick (and replay for its range); what changed in
//! the past makes a runner read its history again through the normal backfill, so a correction
//! over last week's incident takes effect within one backfill.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use burnwatch_engine::{Excluded, Millis};
use burnwatch_spec::Slo;
use serde::{Deserialize, Serialize};

/// Where a span comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Origin {
    /// A `[[maintenance]]` definition, by name.
    Maintenance {
        /// The definition's `name`.
        name: String,
    },
    /// A correction made through the API, by id.
    Correction {
        /// The correction's id.
        id: String,
        /// `maintenance`, `deployment`, `dependency`, `load_test` or `other`.
        category: String,
    },
}

/// One span of time some SLO's events are excluded from, or its notifications silenced in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionSpan {
    /// Exclusive start, unix milliseconds.
    pub start: Millis,
    /// Inclusive end, unix milliseconds.
    pub end: Millis,
    /// The definition or correction it comes from.
    #[serde(flatten)]
    pub origin: Origin,
    /// Why, as its author wrote it.
    pub reason: String,
    /// Events inside count toward no window and no budget.
    pub exclude: bool,
    /// Alerts keep their state but notify nobody while inside.
    pub silence: bool,
}

/// Something that knows spans for SLOs.
pub trait SpanSource: Send + Sync + std::fmt::Debug {
    /// Every span for `slo` that overlaps `(from, to]`.
    fn spans(&self, slo: &Slo, from: Millis, to: Millis) -> Vec<ExclusionSpan>;
}

/// Every span source of the daemon, by name (`maintenance`, `corrections`).
#[derive(Debug, Default)]
pub struct Exclusions {
    sources: RwLock<BTreeMap<&'static str, Arc<dyn SpanSource>>>,
    version: AtomicU64,
}

impl Exclusions {
    /// No sources: nothing is excluded or silenced.
    pub fn new() -> Arc<Exclusions> {
        Arc::new(Exclusions::default())
    }

    /// Puts `source` under `name`, replacing the one there (a reload, a changed correction
    /// list), and counts a change so runners compare their past with it.
    pub fn set(&self, name: &'static str, source: Arc<dyn SpanSource>) {
        self.sources
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, source);
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Changes so far; runners compare it to know when to look again.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Every span of every source for `slo` overlapping `(from, to]`, by start.
    pub fn spans(&self, slo: &Slo, from: Millis, to: Millis) -> Vec<ExclusionSpan> {
        let sources: Vec<Arc<dyn SpanSource>> = self
            .sources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let mut spans: Vec<ExclusionSpan> = sources
            .iter()
            .flat_map(|source| source.spans(slo, from, to))
            .filter(|s| s.start < to && s.end > from)
            .collect();
        spans.sort_by_key(|s| (s.start, s.end));
        spans
    }

    /// The spans whose events `slo` must not count, within `(from, to]`.
    pub fn excluded(&self, slo: &Slo, from: Millis, to: Millis) -> Excluded {
        excluded_of(&self.spans(slo, from, to))
    }
}

/// The union of the spans that exclude events.
pub fn excluded_of(spans: &[ExclusionSpan]) -> Excluded {
    Excluded::new(spans.iter().filter(|s| s.exclude).map(|s| (s.start, s.end)))
}

/// Fixed spans, for tests and replay: every span applies to every SLO.
#[derive(Debug, Clone, Default)]
pub struct FixedSpans(pub Vec<ExclusionSpan>);

impl SpanSource for FixedSpans {
    fn spans(&self, _slo: &Slo, from: Millis, to: Millis) -> Vec<ExclusionSpan> {
        self.0
            .iter()
            .filter(|s| s.start < to && s.end > from)
            .cloned()
            .collect()
    }
}
