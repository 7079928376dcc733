//! The scheduler's self-metrics: how the backends and the polling loop are doing.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    backend: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SloLabels {
    sloth_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InexactLabels {
    sloth_id: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SilencedLabels {
    sloth_id: String,
    /// `page`, `ticket`, `no_data`, `budget_exhausted`.
    kind: String,
    /// `page` or `ticket`.
    severity: String,
    /// `firing` or `resolved`.
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EvaluationLabels {
    sloth_id: String,
    outcome: String,
}

type DurationFamily = Family<BackendLabels, Histogram, fn() -> Histogram>;

/// Counters and gauges the scheduler updates; registered once into the process registry.
#[derive(Debug)]
pub struct SchedulerMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: DurationFamily,
    backend_up: Family<BackendLabels, Gauge>,
    evaluations: Family<EvaluationLabels, Counter>,
    missed_ticks: Family<SloLabels, Counter>,
    inexact_reads: Family<InexactLabels, Counter>,
    history_rereads: Family<SloLabels, Counter>,
    silenced: Family<SilencedLabels, Counter>,
    backfill_pending: Gauge<i64, AtomicI64>,
    backfill_points: Counter<u64, AtomicU64>,
    history_samples: Family<BackendLabels, Counter>,
    paced: Family<BackendLabels, Counter<f64, AtomicU64>>,
    snapshot_writes: Histogram,
    /// Every request to any backend, for the start-up log.
    sent: AtomicU64,
}

fn duration_histogram() -> Histogram {
    // 5 ms .. ~40 s: a local Prometheus answers in milliseconds, a loaded Thanos in seconds.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

impl SchedulerMetrics {
    /// Create the metrics and register them.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::unregistered();
        registry.register(
            "burnwatch_backend_requests",
            "Requests to metric backends by outcome (success, timeout, unreachable, http_error, bad_response, query_error).",
            metrics.requests.clone(),
        );
        registry.register(
            "burnwatch_backend_request_duration_seconds",
            "Duration of requests to metric backends, including reading the body.",
            metrics.durations.clone(),
        );
        registry.register(
            "burnwatch_backend_up",
            "1 when the newest request to the backend succeeded, 0 when it failed.",
            metrics.backend_up.clone(),
        );
        registry.register(
            "burnwatch_slo_evaluations",
            "SLO ticks by outcome (success, error). An error leaves the previous figures in place.",
            metrics.evaluations.clone(),
        );
        registry.register(
            "burnwatch_slo_missed_ticks",
            "Ticks skipped because the previous tick of the same SLO was still running.",
            metrics.missed_ticks.clone(),
        );
        registry.register(
            "burnwatch_slo_inexact_reads",
            "Reads of history (backfill, gap fill, replay) that could not count counters series by series and used increase() per group instead, by reason (series_limit, detail_limit, too_large, ambiguous_series).",
            metrics.inexact_reads.clone(),
        );
        registry.register(
            "burnwatch_slo_history_rereads",
            "Times an SLO read its whole history again because what is excluded in the past changed (a correction added or deleted, a maintenance window edited).",
            metrics.history_rereads.clone(),
        );
        registry.register(
            "burnwatch_notifications_silenced",
            "Alert transitions a maintenance window's silence kept from every receiver (each counted once, when it happened), by SLO, alert kind, severity and status.",
            metrics.silenced.clone(),
        );
        registry.register(
            "burnwatch_backfill_pending_slos",
            "SLOs whose startup backfill has not finished; /readyz is 503 while this is above 0.",
            metrics.backfill_pending.clone(),
        );
        registry.register(
            "burnwatch_backfill_points",
            "Range-query points ingested by backfill.",
            metrics.backfill_points.clone(),
        );
        registry.register(
            "burnwatch_backend_history_samples",
            "Samples backends loaded to answer reads of history (backfill, gap fills), as they report them (Prometheus' stats=all), or else the points they returned.",
            metrics.history_samples.clone(),
        );
        registry.register(
            "burnwatch_snapshot_write_seconds",
            "Duration of each write of the state snapshot (state.db), from the handed-over states to the committed transaction.",
            metrics.snapshot_writes.clone(),
        );
        registry.register(
            "burnwatch_backend_paced_seconds",
            "Time reads of history waited for the backend's backfill_samples_per_second budget.",
            metrics.paced.clone(),
        );
        metrics
    }

    /// Metrics that are not exported anywhere (tests, replay).
    pub fn unregistered() -> Self {
        Self {
            requests: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
            backend_up: Family::default(),
            evaluations: Family::default(),
            missed_ticks: Family::default(),
            inexact_reads: Family::default(),
            history_rereads: Family::default(),
            silenced: Family::default(),
            backfill_pending: Gauge::default(),
            backfill_points: Counter::default(),
            history_samples: Family::default(),
            paced: Family::default(),
            // 10 ms .. ~80 s: a few SLOs write in milliseconds, 100,000 instances in seconds.
            snapshot_writes: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            sent: AtomicU64::new(0),
        }
    }

    pub(crate) fn record_request(&self, backend: &str, outcome: &str, took: Duration) {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.requests
            .get_or_create(&RequestLabels {
                backend: backend.into(),
                outcome: outcome.into(),
            })
            .inc();
        let backend = BackendLabels {
            backend: backend.into(),
        };
        self.durations
            .get_or_create(&backend)
            .observe(took.as_secs_f64());
        self.backend_up
            .get_or_create(&backend)
            .set(i64::from(outcome == "success"));
    }

    pub(crate) fn record_evaluation(&self, sloth_id: &str, ok: bool) {
        let outcome = if ok { "success" } else { "error" };
        self.evaluations
            .get_or_create(&EvaluationLabels {
                sloth_id: sloth_id.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    pub(crate) fn record_missed_ticks(&self, sloth_id: &str, missed: u64) {
        self.missed_ticks
            .get_or_create(&SloLabels {
                sloth_id: sloth_id.into(),
            })
            .inc_by(missed);
    }

    pub(crate) fn record_history_reread(&self, sloth_id: &str) {
        self.history_rereads
            .get_or_create(&SloLabels {
                sloth_id: sloth_id.into(),
            })
            .inc();
    }

    pub(crate) fn record_silenced(&self, sloth_id: &str, t: &burnwatch_engine::Transition) {
        self.silenced
            .get_or_create(&silenced_labels(sloth_id, t))
            .inc();
    }

    /// Transitions of `sloth_id` a silence withheld so far, of `kind` and `status` (tests).
    pub fn silenced(&self, sloth_id: &str, t: &burnwatch_engine::Transition) -> u64 {
        self.silenced
            .get_or_create(&silenced_labels(sloth_id, t))
            .get()
    }

    /// Rereads of history so far for `sloth_id` (tests).
    pub fn history_rereads(&self, sloth_id: &str) -> u64 {
        self.history_rereads
            .get_or_create(&SloLabels {
                sloth_id: sloth_id.into(),
            })
            .get()
    }

    pub(crate) fn record_inexact_read(&self, sloth_id: &str, reason: &str) {
        self.inexact_reads
            .get_or_create(&InexactLabels {
                sloth_id: sloth_id.into(),
                reason: reason.into(),
            })
            .inc();
    }

    /// Inexact reads of history so far for `sloth_id` (tests).
    pub fn inexact_reads(&self, sloth_id: &str, reason: &str) -> u64 {
        self.inexact_reads
            .get_or_create(&InexactLabels {
                sloth_id: sloth_id.into(),
                reason: reason.into(),
            })
            .get()
    }

    pub(crate) fn backfill_pending(&self, delta: i64) {
        self.backfill_pending.inc_by(delta);
    }

    pub(crate) fn record_history_samples(&self, backend: &str, samples: u64) {
        self.history_samples
            .get_or_create(&BackendLabels {
                backend: backend.into(),
            })
            .inc_by(samples);
    }

    pub(crate) fn record_paced(&self, backend: &str, wait: Duration) {
        self.paced
            .get_or_create(&BackendLabels {
                backend: backend.into(),
            })
            .inc_by(wait.as_secs_f64());
    }

    /// One write of the state snapshot took `took`.
    pub fn record_snapshot_write(&self, took: Duration) {
        self.snapshot_writes.observe(took.as_secs_f64());
    }

    pub(crate) fn backfill_points(&self, points: u64) {
        self.backfill_points.inc_by(points);
    }

    /// Requests made so far to every backend, whatever their outcome.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests made so far to `backend` with `outcome` (tests and progress logs).
    pub fn requests(&self, backend: &str, outcome: &str) -> u64 {
        self.requests
            .get_or_create(&RequestLabels {
                backend: backend.into(),
                outcome: outcome.into(),
            })
            .get()
    }
}

fn silenced_labels(sloth_id: &str, t: &burnwatch_engine::Transition) -> SilencedLabels {
    SilencedLabels {
        sloth_id: sloth_id.into(),
        kind: t.kind.as_str().into(),
        severity: t.kind.severity().as_str().into(),
        status: t.status.as_str().into(),
    }
}
