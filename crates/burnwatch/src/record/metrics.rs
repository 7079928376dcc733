//! The record's self-metrics.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// `burnwatch_record_*`.
#[derive(Debug, Clone, Default)]
pub struct RecordMetrics {
    /// SLO days written (one transaction each).
    pub days: Counter,
    /// Writes or replays that failed (retried later).
    pub errors: Counter,
    /// SLO days still to write (backfill and closed days).
    pub pending: Gauge,
}

impl RecordMetrics {
    /// Registers the metrics in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = RecordMetrics::default();
        registry.register(
            "burnwatch_record_days_written",
            "SLO days written to the six-month record (record.db), backfilled or closed.",
            metrics.days.clone(),
        );
        registry.register(
            "burnwatch_record_write_errors",
            "Failed record writes or replays of days for the record; the days are retried.",
            metrics.errors.clone(),
        );
        registry.register(
            "burnwatch_record_days_pending",
            "SLO days the record still has to write.",
            metrics.pending.clone(),
        );
        metrics
    }
}
