//! Replay: the runner driven over history, one step at a time, through the same engine state and
//! alert state machine the daemon runs. Nothing is published and nothing is notified; every step
//! is handed to the caller instead.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Alerts, Evaluation, InstanceInfo, Millis, Observation, Transition};

use super::{SloRunner, group_key};
use crate::backend::{BackendError, Read};
use crate::backfill::{self, BackfillStats, Segment};
use crate::counting::{GroupKey, Span};
use crate::plan::Plan;

/// One SLO instance at one replay step.
#[derive(Debug)]
pub struct ReplayStep<'a> {
    /// The step's time: events up to here are in.
    pub at: Millis,
    /// The instance.
    pub instance: &'a Arc<InstanceInfo>,
    /// Its figures at `at`.
    pub eval: &'a Evaluation,
    /// Its alert states after `at`.
    pub alerts: &'a Alerts,
    /// What the daemon would have notified at `at`.
    pub transitions: &'a [Transition],
}

impl SloRunner {
    /// Replays `[start, end]` every `step`: warms the windows up with the history up to `start`
    /// (the same backfill the daemon runs at startup) and evaluates there, then fetches the rest
    /// of the range chunk by chunk and, for every step, feeds its events, evaluates every
    /// instance and its alerts, and calls `on_step`. `start` and `end` are rounded down to whole
    /// steps; `step` must be a whole number of minutes (the engine's finest bucket).
    pub async fn replay(
        &mut self,
        start: Millis,
        end: Millis,
        step: Duration,
        on_step: &mut (dyn FnMut(ReplayStep<'_>) + Send),
    ) -> Result<BackfillStats, BackendError> {
        if self.is_slice_composite() {
            return self.replay_slice_composite(start, end, step, on_step).await;
        }
        if let Plan::Composite { .. } = &self.plan {
            // Its figures come from its components' evaluations at each step, which a replay
            // of this runner alone does not have: `replay_composite` takes them.
            return Err(BackendError::Api {
                error_type: "unsupported".into(),
                message: format!(
                    "{} is a composite SLO: replay it with its components' evaluations \
                     (SloRunner::replay_composite)",
                    self.spec.id
                ),
                transient: false,
            });
        }
        let start = backfill::align_down(start, step);
        let end = backfill::align_down(end, step);
        // Nothing is held yet, so this only says what the states leave out.
        self.refresh_exclusions(start.saturating_sub(self.exclusion_reach()), end);
        let mut stats = self.backfill(start).await?;
        // Where the history read so far ends (time slices read on from there).
        let mut read_until = self.ingested_until.unwrap_or(start);
        let step_ms = step.as_millis() as i64;
        // The first step is `start` itself (`--start` names the first step): counted SLIs have
        // it from the warm-up, raw ratios are queried for it like for every other step.
        let first = if matches!(self.plan, Plan::Ratios { .. }) {
            start
        } else {
            self.replay_evaluate(start, on_step);
            start + step_ms
        };
        if end < first {
            return Ok(stats);
        }
        let segment = Segment {
            first,
            last: end,
            step,
        };
        for chunk in segment.chunks() {
            let mut points = if let Plan::Ratios { ratio } = &self.plan {
                let ratio = ratio.clone();
                let (ratios, queries) = self.fetch_ratios(&ratio, chunk, step).await?;
                stats.queries += queries;
                Points::Ratios(ratios)
            } else {
                let segments = match self.spec.slicing {
                    // Slices are read whole at their own step, from where the last read
                    // ended: a step shorter than a slice feeds each slice at the first step
                    // after it ends.
                    Some(slicing) => {
                        let segments = backfill::uniform(read_until, chunk.last, slicing.length);
                        read_until = segments.last().map_or(read_until, |s| s.last);
                        segments
                    }
                    None => vec![Segment {
                        first: chunk.first,
                        last: chunk.last,
                        step,
                    }],
                };
                let (points, queries) = self.read_history(&segments, None).await?;
                stats.queries += queries;
                Points::Events(points)
            };
            let mut ts = chunk.first;
            while ts <= chunk.last {
                stats.points += self.replay_observe(ts, &mut points);
                self.replay_evaluate(ts, on_step);
                ts += step_ms;
            }
        }
        self.ingested_until = Some(end);
        Ok(stats)
    }

    /// Feed one step's data (every span ending by `ts`); instances the step has nothing for
    /// see "no series".
    fn replay_observe(&mut self, ts: Millis, points: &mut Points) -> u64 {
        match points {
            Points::Events(points) => {
                let later = points.split_off(&Span {
                    end: ts + 1,
                    start: Millis::MIN,
                });
                let due = std::mem::replace(points, later);
                let with_counts: BTreeSet<GroupKey> = due
                    .values()
                    .flat_map(|groups| groups.iter())
                    .filter(|(_, tally)| tally.counts().is_some())
                    .map(|(key, _)| key.clone())
                    .collect();
                let seen = self.feed(due);
                for (key, instance) in &mut self.instances {
                    if !with_counts.contains(key) {
                        instance
                            .state
                            .lock()
                            .observe(Observation::NoSeries { at: ts });
                    }
                }
                seen
            }
            Points::Ratios(per_ts) => {
                let per_group = per_ts.remove(&ts).unwrap_or_default();
                for key in per_group.keys() {
                    self.ensure_instance(key);
                }
                let none = vec![None; self.windows.len() + 1];
                for (key, instance) in &mut self.instances {
                    let ratios = per_group.get(key).unwrap_or(&none);
                    instance.state.lock().observe_ratios(ts, ratios);
                }
                per_group.len() as u64
            }
        }
    }

    pub(super) fn replay_evaluate(
        &mut self,
        ts: Millis,
        on_step: &mut (dyn FnMut(ReplayStep<'_>) + Send),
    ) {
        self.follow_period(ts);
        self.follow_objective(ts);
        for instance in self.instances.values_mut() {
            let eval = instance.state.lock().evaluate(ts);
            let transitions = instance.alerts.eval(&self.policy, &eval);
            on_step(ReplayStep {
                at: ts,
                instance: &instance.info,
                eval: &eval,
                alerts: &instance.alerts,
                transitions: &transitions,
            });
        }
    }

    /// The ratio template over every window (the configured ones, then the period) for a chunk.
    async fn fetch_ratios(
        &self,
        template: &burnwatch_spec::Template,
        chunk: backfill::Chunk,
        step: Duration,
    ) -> Result<(RatioPoints, u64), BackendError> {
        let mut windows = self.windows.clone();
        windows.push(self.spec.period);
        let results = futures_util::future::try_join_all(windows.iter().map(|&window| {
            self.range(
                Read::Ratio { template, window },
                chunk.first,
                chunk.last,
                step,
            )
        }))
        .await?;
        let mut out = RatioPoints::new();
        for (i, result) in results.iter().enumerate() {
            for series in &result.series {
                let key = group_key(&self.spec.group_by, &series.labels);
                for &(ts, value) in &series.samples {
                    let ratios = out
                        .entry(ts)
                        .or_default()
                        .entry(key.clone())
                        .or_insert_with(|| vec![None; windows.len()]);
                    ratios[i] = value.is_finite().then_some(value.max(0.0));
                }
            }
        }
        Ok((out, windows.len() as u64))
    }
}

/// Per point in time, per group: every window's ratio (windows, then the period).
type RatioPoints = BTreeMap<Millis, BTreeMap<GroupKey, Vec<Option<f64>>>>;

/// One chunk's data, consumed step by step.
enum Points {
    Events(crate::counting::Points),
    Ratios(RatioPoints),
}
