//! A time-slice composite (`budgeting = "timeslices"` on a `[[composite]]`): a slice is bad
//! when any component's slice is bad, good when every component with data in it is good, and
//! no event when none has data (OpenSLO's composite over time slices).
//!
//! The composite reads its components' slices itself, through a runner per component (the
//! ordinary read paths: backfill, gap fills, live ticks and replay, exact counting included)
//! whose slice events are collected instead of observed; it judges each slice once every
//! component has read past it, and observes the verdicts in its own counted state, so its
//! windows, budget, alerts, exclusions and the gate follow the ordinary path. The components
//! are read twice (by their own runners and here): the price of judging the same slices.

use std::collections::BTreeMap;
use std::time::Duration;

use burnwatch_engine::{Counts, Millis, Observation};

use super::{ReplayStep, SloRunner};
use crate::backend::BackendError;
use crate::counting::GroupKey;
use crate::plan::Plan;

/// One component's reader and the slices it has read that the composite has not judged yet.
pub(crate) struct Part {
    runner: Box<SloRunner>,
    /// The component's instance: its group label values in `group_by` order.
    group: GroupKey,
    pending: BTreeMap<Millis, Counts>,
}

impl SloRunner {
    /// For a time-slice composite, a reader per component (from the definitions the spec put
    /// in its SLI); any other runner unchanged.
    pub(super) fn with_parts(mut self) -> Self {
        if self.spec.slicing.is_none() {
            return self;
        }
        let burnwatch_spec::Sli::Composite { components, parts } = &self.spec.sli else {
            return self;
        };
        self.parts = components
            .iter()
            .zip(parts)
            .map(|(component, slo)| {
                let mut runner = SloRunner::new(
                    slo.clone(),
                    std::sync::Arc::clone(&self.backend),
                    std::sync::Arc::clone(&self.board),
                    std::sync::Arc::clone(&self.metrics),
                );
                runner.collected = Some(Vec::new());
                Part {
                    runner: Box::new(runner),
                    group: component.group.iter().map(|(_, v)| v.clone()).collect(),
                    pending: BTreeMap::new(),
                }
            })
            .collect();
        self
    }

    /// Whether this is a time-slice composite.
    pub(super) fn is_slice_composite(&self) -> bool {
        matches!(self.plan, Plan::Composite { .. }) && self.spec.slicing.is_some()
    }

    /// A live tick of a time-slice composite: every component read up to `now` (a backfill
    /// first when the composite starts or reads history again), then every slice all of them
    /// have read judged and observed.
    pub(super) async fn tick_slice_composite(&mut self, now: Millis) -> Result<(), BackendError> {
        if self.ingested_until.is_none() {
            self.start_over();
        }
        for part in &mut self.parts {
            Box::pin(part.runner.advance(now)).await?;
        }
        self.take_slices();
        if let Some(ready) = self.ready() {
            for (end, counts) in self.judge(ready) {
                self.observe_slice(end, counts);
            }
            self.ingested_until = Some(ready);
        }
        Ok(())
    }

    /// Replays a time-slice composite: its components replayed (their slices collected), then
    /// the composite's verdicts fed step by step, as [`SloRunner::replay`] feeds events.
    pub(super) async fn replay_slice_composite(
        &mut self,
        start: Millis,
        end: Millis,
        step: Duration,
        on_step: &mut (dyn FnMut(ReplayStep<'_>) + Send),
    ) -> Result<crate::backfill::BackfillStats, BackendError> {
        let start = crate::backfill::align_down(start, step);
        let end = crate::backfill::align_down(end, step);
        self.refresh_exclusions(start.saturating_sub(self.exclusion_reach()), end);
        self.start_over();
        let mut stats = crate::backfill::BackfillStats::default();
        for part in &mut self.parts {
            let read = Box::pin(part.runner.replay(start, end, step, &mut |_| {})).await?;
            stats.queries += read.queries;
            stats.points += read.points;
        }
        self.take_slices();
        let verdicts = self
            .ready()
            .map(|ready| self.judge(ready))
            .unwrap_or_default();
        let mut verdicts = verdicts.into_iter().peekable();
        let step_ms = step.as_millis() as Millis;
        let mut at = start;
        while at <= end {
            while let Some((slice_end, counts)) = verdicts.next_if(|(e, _)| *e <= at) {
                self.observe_slice(slice_end, counts);
            }
            self.ensure_instance(&Vec::new());
            self.replay_evaluate(at, on_step);
            at += step_ms;
        }
        self.ingested_until = Some(end);
        Ok(stats)
    }

    /// Forgets the composite's state and every component's reading, so both start from the
    /// whole history again (a start, an excluded past that changed).
    fn start_over(&mut self) {
        self.instances.clear();
        for part in &mut self.parts {
            part.runner.ingested_until = None;
            part.pending.clear();
        }
    }

    /// Moves what each component's reader collected for the composite's instance into its
    /// pending slices.
    fn take_slices(&mut self) {
        for part in &mut self.parts {
            let collected = part.runner.collected.get_or_insert_with(Vec::new);
            for (end, key, counts) in collected.drain(..) {
                if key == part.group {
                    part.pending.entry(end).or_default().add(counts);
                }
            }
        }
    }

    /// How far every component has been read; `None` while one has not been.
    fn ready(&self) -> Option<Millis> {
        self.parts
            .iter()
            .map(|p| p.runner.ingested_until)
            .min()
            .flatten()
    }

    /// The composite's verdict for every slice ending by `ready` that is still pending, oldest
    /// first: bad (errors 1) when any component's slice is bad, good when every component with
    /// data is good, empty when none had events.
    fn judge(&mut self, ready: Millis) -> Vec<(Millis, Counts)> {
        let mut verdicts: BTreeMap<Millis, Counts> = BTreeMap::new();
        for part in &mut self.parts {
            let later = part.pending.split_off(&(ready + 1));
            for (end, counts) in std::mem::replace(&mut part.pending, later) {
                let verdict = verdicts.entry(end).or_default();
                let bad = counts.total > 0.0 && counts.errors > 0.0;
                if bad {
                    verdict.errors = 1.0;
                }
                if counts.total > 0.0 {
                    verdict.total = 1.0;
                }
            }
        }
        verdicts.into_iter().collect()
    }

    fn observe_slice(&mut self, end: Millis, counts: Counts) {
        let length = self
            .spec
            .slicing
            .map_or(60_000, |s| s.length.as_millis() as Millis);
        if let Some(instance) = self.ensure_instance(&Vec::new()) {
            instance.state.observe(Observation::Events {
                start: end - length,
                end,
                counts,
            });
        }
    }
}
