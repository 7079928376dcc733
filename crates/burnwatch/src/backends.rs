//! One client per configured backend, shared by `run` and `replay`.

use std::collections::BTreeMap;
use std::sync::Arc;

use burnwatch_scheduler::{Backend, SchedulerMetrics};
use burnwatch_spec::Config;

use crate::failure::Failure;

/// Clients for every backend of `config`, by name.
pub fn connect(
    config: &Config,
    metrics: &Arc<SchedulerMetrics>,
) -> Result<BTreeMap<String, Arc<dyn Backend>>, Failure> {
    let mut backends: BTreeMap<String, Arc<dyn Backend>> = BTreeMap::new();
    for (name, backend) in &config.backends {
        let client = burnwatch_scheduler::connect(backend, Arc::clone(metrics)).map_err(|err| {
            Failure::Config(format!(
                "backend {name:?} in {}: {err}",
                config.source.display()
            ))
        })?;
        backends.insert(name.clone(), client);
    }
    Ok(backends)
}
