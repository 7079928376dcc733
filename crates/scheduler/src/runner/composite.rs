//! A composite's tick: no backend, its components' evaluations composed by the engine
//! ([`burnwatch_engine::compose`]) into one error ratio per window, fed to its direct state like
//! a raw SLI's ratios, so alerts, budget and the gate follow the ordinary path.
//!
//! Live, components are read as the board holds them at the tick: each SLO ticks on its own
//! offset, so a component's figures may be up to one of its intervals older than the
//! composite's. In replay, they are the components' own replayed evaluations at the same step
//! ([`ComponentHistory`]), so a replayed composite has no such lag.

use std::collections::{BTreeMap, HashMap};

use burnwatch_engine::{
    ComponentInput, ComponentStatus, Evaluation, Millis, Objective, instance_key,
};

use super::{ReplayStep, SloRunner};
use crate::backfill;
use crate::plan::Plan;

/// Components' evaluations at every replay step, by instance key
/// ([`burnwatch_engine::instance_key`]): what a replayed composite is composed from.
#[derive(Debug, Default)]
pub struct ComponentHistory {
    instances: HashMap<String, (Objective, BTreeMap<Millis, Evaluation>)>,
}

impl ComponentHistory {
    /// Records the evaluation of the instance `key` (of an SLO with `objective`) at `at`.
    fn record(&mut self, key: String, objective: Objective, at: Millis, eval: &Evaluation) {
        self.instances
            .entry(key)
            .or_insert_with(|| (objective, BTreeMap::new()))
            .1
            .insert(at, eval.clone());
    }

    /// Records a replay step of an instance of an SLO composites are made of.
    pub fn record_step(&mut self, step: &ReplayStep<'_>) {
        self.record(
            step.instance.key(),
            step.instance.slo.objective,
            step.at,
            step.eval,
        );
    }

    /// Adds everything `other` recorded.
    pub fn extend(&mut self, other: ComponentHistory) {
        for (key, (objective, evals)) in other.instances {
            self.instances
                .entry(key)
                .or_insert_with(|| (objective, BTreeMap::new()))
                .1
                .extend(evals);
        }
    }

    fn at(&self, key: &str, at: Millis) -> Option<(&Evaluation, Objective)> {
        let (objective, evals) = self.instances.get(key)?;
        evals.get(&at).map(|eval| (eval, *objective))
    }
}

impl SloRunner {
    /// Composes the components' newest figures at `now` and hands them to the one instance;
    /// what each component contributed (and where it had no data) goes on the board.
    pub(super) fn tick_composite(&mut self, now: Millis) {
        let board = std::sync::Arc::clone(&self.board);
        let statuses = self.compose_at(now, |key| {
            board
                .entry(key)
                .map(|entry| (entry.eval.clone(), entry.info.slo.objective))
        });
        for status in statuses.iter().filter(|s| !s.missing.is_empty()) {
            tracing::debug!(
                slo = %self.spec.id,
                component = %status.component,
                windows = status.missing.len(),
                "composite component has no data in some windows; left out of them"
            );
        }
        self.board.publish_components(&self.spec.id, statuses);
        self.ingested_until = Some(now);
    }

    /// Replays a composite over `[start, end]` every `step` from its components' replayed
    /// evaluations at the same steps, as [`SloRunner::replay`] does for other SLOs: every
    /// step is evaluated, its alerts too, and handed to `on_step`.
    pub fn replay_composite(
        &mut self,
        start: Millis,
        end: Millis,
        step: std::time::Duration,
        history: &ComponentHistory,
        on_step: &mut (dyn FnMut(ReplayStep<'_>) + Send),
    ) {
        let step_ms = step.as_millis() as Millis;
        let mut at = backfill::align_down(start, step);
        let end = backfill::align_down(end, step);
        while at <= end {
            self.compose_at(at, |key| {
                history
                    .at(key, at)
                    .map(|(eval, objective)| (eval.clone(), objective))
            });
            self.replay_evaluate(at, on_step);
            at += step_ms;
        }
        self.ingested_until = Some(end);
    }

    /// The composite's ratios at `at` from its components as `lookup` finds them (by instance
    /// key), observed by its one instance; returns what each component contributed.
    fn compose_at(
        &mut self,
        at: Millis,
        lookup: impl Fn(&str) -> Option<(Evaluation, Objective)>,
    ) -> Vec<ComponentStatus> {
        let Plan::Composite { components } = &self.plan else {
            return Vec::new();
        };
        let found: Vec<Option<(Evaluation, Objective)>> = components
            .iter()
            .map(|c| lookup(&instance_key(&c.slo, &c.group)))
            .collect();
        let names: Vec<String> = components.iter().map(|c| c.display()).collect();
        let inputs: Vec<ComponentInput<'_>> = components
            .iter()
            .zip(&found)
            .zip(&names)
            .map(|((c, found), name)| ComponentInput {
                component: name,
                weight: c.weight,
                latest: found.as_ref().map(|(eval, objective)| (eval, *objective)),
            })
            .collect();
        let windows = self.windows();
        let (ratios, statuses) = burnwatch_engine::compose(self.info.objective, &windows, &inputs);
        if let Some(instance) = self.ensure_instance(&Vec::new()) {
            instance.state.lock().observe_ratios(at, &ratios);
        }
        statuses
    }
}
