//! The backend registry: one line per kind of store.

use std::sync::Arc;

use burnwatch_spec::{Backend as BackendConfig, BackendKind};

use crate::backend::{Backend, BackendError};
use crate::coalescer::{Coalescer, Linger};
use crate::datadog::DatadogBackend;
use crate::metrics::SchedulerMetrics;
use crate::pacer::Pacer;
use crate::prometheus::PrometheusBackend;

/// A client for the configured backend.
pub fn connect(
    config: &BackendConfig,
    metrics: Arc<SchedulerMetrics>,
) -> Result<Arc<dyn Backend>, BackendError> {
    // History reads (backfill, gap fills) within the backend's concurrency and samples budget.
    let paced =
        |client: Arc<dyn Backend>| Arc::new(Pacer::new(client, config.pace, Arc::clone(&metrics)));
    Ok(match config.kind {
        // Reads of SLOs ticking (or backfilling) together go out as one request per metric,
        // and those requests are paced.
        BackendKind::Prometheus => Arc::new(Coalescer::new(
            paced(Arc::new(PrometheusBackend::new(
                config,
                Arc::clone(&metrics),
            )?)),
            Linger::default(),
        )),
        BackendKind::Datadog => paced(Arc::new(DatadogBackend::new(config, Arc::clone(&metrics))?)),
    })
}
