//! A composite's tick: no backend, its components' newest evaluations on the board composed
//! by the engine ([`burnwatch_engine::compose`]) into one error ratio per window, fed to its
//! direct state like a raw SLI's ratios, so alerts, budget and the gate follow the ordinary
//! path.
//!
//! Components are read as the board holds them at the tick: each SLO ticks on its own offset,
//! so a component's figures may be up to one of its intervals older than the composite's.

use burnwatch_engine::{ComponentInput, Millis, instance_key};

use super::SloRunner;
use crate::plan::Plan;

impl SloRunner {
    /// Composes the components' newest figures at `now` and hands them to the one instance;
    /// what each component contributed (and where it had no data) goes on the board.
    pub(super) fn tick_composite(&mut self, now: Millis) {
        let Plan::Composite { components } = &self.plan else {
            return;
        };
        let entries: Vec<_> = components
            .iter()
            .map(|c| self.board.entry(&instance_key(&c.slo, &c.group)))
            .collect();
        let names: Vec<String> = components.iter().map(|c| c.display()).collect();
        let inputs: Vec<ComponentInput<'_>> = components
            .iter()
            .zip(&entries)
            .zip(&names)
            .map(|((c, entry), name)| ComponentInput {
                component: name,
                weight: c.weight,
                latest: entry.as_ref().map(|e| (&e.eval, e.info.slo.objective)),
            })
            .collect();
        let windows = self.windows();
        let (ratios, statuses) = burnwatch_engine::compose(self.info.objective, &windows, &inputs);
        for status in statuses.iter().filter(|s| !s.missing.is_empty()) {
            tracing::debug!(
                slo = %self.spec.id,
                component = %status.component,
                windows = status.missing.len(),
                "composite component has no data in some windows; left out of them"
            );
        }
        self.board.publish_components(&self.spec.id, statuses);
        if let Some(instance) = self.ensure_instance(&Vec::new()) {
            instance.state.observe_ratios(now, &ratios);
        }
        self.ingested_until = Some(now);
    }
}
