//! The notifiers' self-metrics. Labels name the receiver (its key under `[receivers]`) and an
//! outcome, never a URL or a key: those are secrets.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// What became of one notification at one receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The receiver accepted it.
    Sent,
    /// Rejected, or retries ran out.
    Failed,
    /// The receiver's queue was full.
    Dropped,
}

impl Outcome {
    const ALL: [Outcome; 3] = [Outcome::Sent, Outcome::Failed, Outcome::Dropped];

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Failed => "failed",
            Outcome::Dropped => "dropped",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    receiver: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReceiverLabels {
    receiver: String,
}

type LatencyFamily = Family<ReceiverLabels, Histogram, fn() -> Histogram>;

/// Counters, gauges and histograms of every receiver.
#[derive(Debug)]
pub(crate) struct NotifyMetrics {
    notifications: Family<OutcomeLabels, Counter>,
    queue_length: Family<ReceiverLabels, Gauge>,
    latency: LatencyFamily,
    retries: Family<ReceiverLabels, Counter>,
    unrouted: Counter,
    /// The six-month record, which counts firing notifications sent per receiver and day.
    pub(crate) record: burnwatch_record::SharedRecord,
}

fn latency_histogram() -> Histogram {
    // 10 ms .. ~11 min: one fast request up to a delivery that retried for its whole budget.
    Histogram::new(exponential_buckets(0.01, 4.0, 10))
}

impl NotifyMetrics {
    /// Create the metrics and register them in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> NotifyMetrics {
        let metrics = NotifyMetrics::unregistered();
        registry.register(
            "burnwatch_notifications",
            "Notifications per receiver by outcome: sent (accepted), failed (rejected or retries \
             exhausted), dropped (queue full).",
            metrics.notifications.clone(),
        );
        registry.register(
            "burnwatch_notification_queue_length",
            "Notifications waiting in the receiver's queue.",
            metrics.queue_length.clone(),
        );
        registry.register(
            "burnwatch_notification_latency_seconds",
            "From hand-over to the receiver's queue (or a repeat falling due) until the receiver \
             accepted it, retries and rate-limit waits included.",
            metrics.latency.clone(),
        );
        registry.register(
            "burnwatch_notification_retries",
            "Delivery attempts that failed transiently (timeout, connection error, 429, 5xx) and \
             were retried.",
            metrics.retries.clone(),
        );
        registry.register(
            "burnwatch_notifications_unrouted",
            "Notifications no route matched.",
            metrics.unrouted.clone(),
        );
        metrics
    }

    /// Metrics exported nowhere (unit tests).
    pub(crate) fn unregistered() -> NotifyMetrics {
        NotifyMetrics {
            notifications: Family::default(),
            queue_length: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            retries: Family::default(),
            unrouted: Counter::default(),
            record: burnwatch_record::SharedRecord::default(),
        }
    }

    /// Create every series of `receiver` at zero, so rates and alerts on them work from the start.
    pub(crate) fn init_receiver(&self, receiver: &str) {
        for outcome in Outcome::ALL {
            let _ = self
                .notifications
                .get_or_create(&outcome_labels(receiver, outcome));
        }
        let labels = receiver_labels(receiver);
        let _ = self.queue_length.get_or_create(&labels);
        let _ = self.latency.get_or_create(&labels);
        let _ = self.retries.get_or_create(&labels);
    }

    pub(crate) fn count(&self, receiver: &str, outcome: Outcome, notifications: usize) {
        self.notifications
            .get_or_create(&outcome_labels(receiver, outcome))
            .inc_by(notifications as u64);
    }

    pub(crate) fn queued(&self, receiver: &str) {
        self.queue_length
            .get_or_create(&receiver_labels(receiver))
            .inc();
    }

    pub(crate) fn dequeued(&self, receiver: &str) {
        self.queue_length
            .get_or_create(&receiver_labels(receiver))
            .dec();
    }

    pub(crate) fn delivered_after(&self, receiver: &str, took: Duration) {
        self.latency
            .get_or_create(&receiver_labels(receiver))
            .observe(took.as_secs_f64());
    }

    pub(crate) fn retried(&self, receiver: &str) {
        self.retries.get_or_create(&receiver_labels(receiver)).inc();
    }

    pub(crate) fn unrouted(&self) {
        self.unrouted.inc();
    }
}

fn outcome_labels(receiver: &str, outcome: Outcome) -> OutcomeLabels {
    OutcomeLabels {
        receiver: receiver.to_string(),
        outcome: outcome.as_str(),
    }
}

fn receiver_labels(receiver: &str) -> ReceiverLabels {
    ReceiverLabels {
        receiver: receiver.to_string(),
    }
}
