//! Where excluded and silenced spans come from: maintenance windows from the configuration and
//! corrections made through the API, each a [`SpanSource`] registered under a name in
//! [`Exclusions`], shared (like the board) between the API that changes corrections, the runners
//! that leave excluded events out, and the pages that show the spans.
//!
//! Runners ask for their SLO's spans on every tick (and replay for its range); what changed in
//! the past makes a runner read its history again through the normal backfill, so a correction
//! over last week's incident takes effect within one backfill.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::exclusion::{ExclusionSpan, excluded_of};
use crate::{Excluded, Millis, SloInfo};

/// Something that knows spans for SLOs.
pub trait SpanSource: Send + Sync + std::fmt::Debug {
    /// Every span for `slo` that overlaps `(from, to]`.
    fn spans(&self, slo: &SloInfo, from: Millis, to: Millis) -> Vec<ExclusionSpan>;
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
    pub fn spans(&self, slo: &SloInfo, from: Millis, to: Millis) -> Vec<ExclusionSpan> {
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
    pub fn excluded(&self, slo: &SloInfo, from: Millis, to: Millis) -> Excluded {
        excluded_of(&self.spans(slo, from, to))
    }
}

/// Fixed spans, for tests and replay: every span applies to every SLO.
#[derive(Debug, Clone, Default)]
pub struct FixedSpans(pub Vec<ExclusionSpan>);

impl SpanSource for FixedSpans {
    fn spans(&self, _slo: &SloInfo, from: Millis, to: Millis) -> Vec<ExclusionSpan> {
        self.0
            .iter()
            .filter(|s| s.start < to && s.end > from)
            .cloned()
            .collect()
    }
}
