//! The backend registry: one line per kind of store.

use std::sync::Arc;

use burnwatch_spec::{Backend as BackendConfig, BackendKind};

use crate::backend::{Backend, BackendError};
use crate::coalescer::{Coalescer, Linger};
use crate::datadog::DatadogBackend;
use crate::metrics::SchedulerMetrics;
use crate::prometheus::PrometheusBackend;

/// A client for the configured backend.
pub fn connect(
    config: &BackendConfig,
    metrics: Arc<SchedulerMetrics>,
) -> Result<Arc<dyn Backend>, BackendError> {
    Ok(match config.kind {
        // Live raw-sample reads of SLOs ticking together go out as one request per metric.
        BackendKind::Prometheus => Arc::new(Coalescer::new(
            Arc::new(PrometheusBackend::new(config, metrics)?),
            Linger::default(),
        )),
        BackendKind::Datadog => Arc::new(DatadogBackend::new(config, metrics)?),
    })
}
