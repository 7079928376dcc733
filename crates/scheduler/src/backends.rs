//! The backend registry: one line per kind of store.

use std::sync::Arc;

use burnwatch_spec::{Backend as BackendConfig, BackendKind};

use crate::backend::{Backend, BackendError};
use crate::datadog::DatadogBackend;
use crate::metrics::SchedulerMetrics;
use crate::prometheus::PrometheusBackend;

/// A client for the configured backend.
pub fn connect(
    config: &BackendConfig,
    metrics: Arc<SchedulerMetrics>,
) -> Result<Arc<dyn Backend>, BackendError> {
    Ok(match config.kind {
        BackendKind::Prometheus => Arc::new(PrometheusBackend::new(config, metrics)?),
        BackendKind::Datadog => Arc::new(DatadogBackend::new(config, metrics)?),
    })
}
