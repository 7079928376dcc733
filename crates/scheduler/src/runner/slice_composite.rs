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
            self.backfill(self.settled(now)).await?;
        }
        // After a restored snapshot the readers start from nothing and read the whole history
        // again; only the slices after what the state holds are judged.
        for part in &mut self.parts {
            Box::pin(part.runner.advance(now)).await?;
        }
        self.judge_ready();
        Ok(())
    }

    /// The backfill of a time-slice composite: every component's history read by its reader,
    /// then every slice they all hold judged and observed.
    pub(super) async fn backfill_slice_composite(
        &mut self,
        now: Millis,
    ) -> Result<crate::backfill::BackfillStats, BackendError> {
        self.start_over();
        let mut stats = crate::backfill::BackfillStats::default();
        for part in &mut self.parts {
            let read = Box::pin(part.runner.backfill(now)).await?;
            stats.queries += read.queries;
            stats.points += read.points;
        }
        self.judge_ready();
        // Nothing to judge yet (a component without history) still counts as filled.
        self.ingested_until.get_or_insert(now);
        Ok(stats)
    }

    /// Takes what the readers collected and observes the verdicts of the slices every
    /// component has been read past (and the state does not hold yet).
    fn judge_ready(&mut self) {
        self.take_slices();
        if let Some(ready) = self.ready() {
            let held = self.ingested_until.unwrap_or(Millis::MIN);
            for (end, counts) in self.judge(ready) {
                if end > held {
                    self.observe_slice(end, counts);
                }
            }
            self.ingested_until = Some(ready.max(held));
        }
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
        self.ingested_until = None;
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
            instance.state.lock().observe(Observation::Events {
                start: end - length,
                end,
                counts,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use burnwatch_engine::Board;

    use super::*;
    use crate::metrics::SchedulerMetrics;
    use crate::runner::no_backend::NoBackend;

    const M: Millis = 60_000;
    const T0: Millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    fn composite() -> SloRunner {
        let slo = |name: &str| {
            format!(
                "[[slo]]\nservice = \"shop\"\nname = \"{name}\"\nobjective = 99\n\
                 budgeting = \"timeslices\"\nslice_target = 95\n[slo.sli.ratio]\n\
                 errors = '{name}_errors_total'\ntotal = '{name}_total'\n\n"
            )
        };
        let text = format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:9\"\n\n{}{}\
             [[composite]]\nservice = \"shop\"\nname = \"journey\"\nobjective = 99\n\
             budgeting = \"timeslices\"\ncomponents = [{{ slo = \"shop-cart\" }}, {{ slo = \"shop-pay\" }}]\n",
            slo("cart"),
            slo("pay")
        );
        let config = burnwatch_spec::parse(&text, std::path::Path::new("t.toml"), &|_| None)
            .unwrap_or_else(|e| panic!("{e}"));
        let spec = config
            .slos
            .into_iter()
            .find(|s| s.id == "shop-journey")
            .unwrap();
        SloRunner::new(
            spec,
            Arc::new(NoBackend),
            Arc::new(Board::new()),
            Arc::new(SchedulerMetrics::unregistered()),
        )
    }

    /// Slices `1..=minutes` of each component as read: `bad(component, minute)`.
    fn read(runner: &mut SloRunner, minutes: i64, bad: impl Fn(usize, i64) -> bool) {
        for (i, part) in runner.parts.iter_mut().enumerate() {
            let collected = part.runner.collected.get_or_insert_with(Vec::new);
            for minute in 1..=minutes {
                let errors = if bad(i, minute) { 1.0 } else { 0.0 };
                collected.push((T0 + minute * M, Vec::new(), Counts { errors, total: 1.0 }));
            }
            part.runner.ingested_until = Some(T0 + minutes * M);
        }
    }

    fn one_hour(runner: &mut SloRunner, at: Millis) -> Counts {
        let instance = runner.instances.values_mut().next().expect("an instance");
        let eval = instance.state.lock().evaluate(at);
        let window = eval.window(Duration::from_secs(3600)).expect("1h kept");
        window.counts
    }

    #[test]
    fn a_slice_is_bad_where_any_component_is_and_a_restore_judges_only_new_slices() {
        let mut runner = composite();
        assert_eq!(runner.parts.len(), 2);
        // Cart bad in minutes 1-10, pay in 6-15: the journey's 1-15 are bad, 16-30 good.
        let bad = |i: usize, m: i64| {
            if i == 0 {
                m <= 10
            } else {
                (6..=15).contains(&m)
            }
        };
        read(&mut runner, 30, bad);
        runner.judge_ready();
        assert_eq!(runner.ingested_until, Some(T0 + 30 * M));
        let counts = one_hour(&mut runner, T0 + 30 * M);
        assert_eq!((counts.errors, counts.total), (15.0, 30.0));

        // A restart: the state is restored, the readers read the whole history again and one
        // more minute (bad for pay). Only minute 31 is new to the journey.
        for part in &mut runner.parts {
            part.runner.ingested_until = None;
            part.pending.clear();
        }
        read(&mut runner, 31, |i, m| bad(i, m) || (i == 1 && m == 31));
        runner.judge_ready();
        let counts = one_hour(&mut runner, T0 + 31 * M);
        assert_eq!((counts.errors, counts.total), (16.0, 31.0));
    }
}
