//! Backfill: the whole period read from history when an SLO starts, and the read of history
//! that backfill, gap fills and replay share (exact for counters, see [`super::exact`]).

use std::time::Duration;

use std::collections::BTreeMap;

use burnwatch_engine::{Alerts, Millis, Observation};

use super::exact::ExactRead;
use super::{SloRunner, group_key};
use crate::backend::{BackendError, Read, Stat};
use crate::backfill::{self, BackfillStats};
use crate::counting::{GroupKey, Points, SERIES_MEMORY, Span};
use crate::plan::{Plan, Role};

impl SloRunner {
    /// Fill the whole period from history with range queries, ending at `now` (rounded down to
    /// the finest bucket). Replaces whatever the runner held.
    ///
    /// Alert states are kept: reading history again (after a correction) changes the figures
    /// the alerts are evaluated on, not what receivers have already heard.
    pub async fn backfill(&mut self, now: Millis) -> Result<BackfillStats, BackendError> {
        let alerts: BTreeMap<GroupKey, Alerts> = std::mem::take(&mut self.instances)
            .into_iter()
            .map(|(key, instance)| (key, instance.alerts))
            .collect();
        let result = self.backfill_states(now).await;
        for (key, alerts) in alerts {
            if let Some(instance) = self.instances.get_mut(&key) {
                instance.alerts = alerts;
            }
        }
        result
    }

    async fn backfill_states(&mut self, now: Millis) -> Result<BackfillStats, BackendError> {
        self.instances.clear();
        self.trackers.clear();
        self.ingested_until = None;
        if self.is_slice_composite() {
            return self.backfill_slice_composite(now).await;
        }
        if matches!(self.plan, Plan::Ratios { .. } | Plan::Composite { .. }) {
            // The backend (or, for a composite, its components) evaluates every window itself
            // on each tick: nothing to fill.
            self.ingested_until = Some(now);
            return Ok(BackfillStats::default());
        }
        let end = backfill::align_down(now, self.read_step());
        let segments = self.history_segments(end, None);
        let (points, queries) = self.read_history(&segments, None).await?;
        let points = self.feed(points);
        self.ingested_until = Some(end);
        self.metrics.backfill_points(points);
        Ok(BackfillStats { queries, points })
    }

    /// The step reads of history and of `(from, now]` ticks are aligned to: a time slice, or
    /// the finest bucket.
    pub(super) fn read_step(&self) -> Duration {
        self.spec
            .slicing
            .map_or_else(|| self.fine_step(), |slicing| slicing.length)
    }

    /// The segments reading `(since, end]`, or without `since` the whole history the buckets
    /// hold up to `end`: at the bucket levels' own resolutions, with the coarse buckets that
    /// hold an excluded span's edge read by the minute; for time slices, at the slice step.
    pub(super) fn history_segments(
        &self,
        end: Millis,
        since: Option<Millis>,
    ) -> Vec<backfill::Segment> {
        let segments = backfill::segments(&self.new_state().levels(), end, since);
        if let Some(slicing) = self.spec.slicing {
            let start = since.or_else(|| backfill::start_of(&segments));
            return start.map_or_else(Vec::new, |start| {
                backfill::uniform(start, end, slicing.length)
            });
        }
        // Excluded spans cut coarse buckets at their edges: read those buckets by the minute.
        let edges: Vec<Millis> = self
            .excluded
            .spans()
            .iter()
            .flat_map(|&(start, end)| [start, end])
            .collect();
        backfill::refine(&segments, &edges, self.fine_step())
    }

    /// The events of `segments` (with `since`, also of the partial bucket after it), and the
    /// requests sent: counters read exactly, unless they cannot be (then, like rate templates,
    /// `increase()` per group and step).
    pub(super) async fn read_history(
        &mut self,
        segments: &[backfill::Segment],
        since: Option<Millis>,
    ) -> Result<(Points, u64), BackendError> {
        if matches!(self.plan, Plan::Counters { .. }) {
            match self.read_exact(segments, since).await? {
                ExactRead::Points(points, queries) => {
                    self.inexact = None;
                    if let Some(end) = segments.last().map(|s| s.last) {
                        for tracker in self.trackers.values_mut() {
                            tracker.expire(end - SERIES_MEMORY);
                        }
                    }
                    return Ok((points, queries));
                }
                ExactRead::Inexact(why) => {
                    if self.inexact != Some(why) {
                        tracing::warn!(
                            slo = %self.spec.id,
                            reason = why.reason(),
                            series_limit = self.spec.series_limit,
                            "history cannot be read series by series; reading increase() per group, which is right only on average (raise series_limit or narrow the selector)"
                        );
                    }
                    self.inexact = Some(why);
                    self.metrics
                        .record_inexact_read(&self.spec.id, why.reason());
                    // The live path seeds them anew from the raw samples.
                    self.trackers.clear();
                }
            }
        }
        self.fetch_segments(segments).await
    }

    /// Every chunk of `segments` read with `increase()` (or a rate template) per group and step,
    /// and the number of queries sent.
    async fn fetch_segments(
        &self,
        segments: &[backfill::Segment],
    ) -> Result<(Points, u64), BackendError> {
        let mut points = Points::new();
        let mut queries = 0;
        for segment in segments {
            for chunk in segment.chunks() {
                let (fetched, sent) = self.fetch_chunk(segment.step, chunk).await?;
                queries += sent;
                points.extend(fetched);
            }
        }
        Ok((points, queries))
    }

    /// Feeds every span's events, oldest first (for time slices, one event per slice); returns
    /// the (span, group) pairs ingested.
    pub(super) fn feed(&mut self, points: Points) -> u64 {
        let points = match &self.spec.slicing {
            Some(slicing) => crate::slices::slice(points, slicing),
            None => points,
        };
        if let Some(collected) = &mut self.collected {
            // A composite's component reader: the composite judges the slices.
            let before = collected.len();
            for (span, groups) in points {
                for (key, tally) in groups {
                    if let Some(counts) = tally.counts() {
                        collected.push((span.end, key, counts));
                    }
                }
            }
            return (collected.len() - before) as u64;
        }
        let mut ingested = 0;
        for (span, groups) in points {
            for (key, tally) in groups {
                let Some(counts) = tally.counts() else {
                    continue;
                };
                if let Some(instance) = self.ensure_instance(&key) {
                    instance.state.lock().observe(Observation::Events {
                        start: span.start,
                        end: span.end,
                        counts,
                    });
                    ingested += 1;
                }
            }
        }
        ingested
    }

    /// The reads that yield each role's events per `step` (the inexact read).
    fn range_reads(&self, step: Duration) -> Vec<(Role, Read<'_>)> {
        match &self.plan {
            Plan::Counters { .. } => self
                .plan
                .selectors()
                .into_iter()
                .map(|(role, selector)| {
                    let read = Read::Increase {
                        selector,
                        step,
                        group_by: &self.spec.group_by,
                    };
                    (role, read)
                })
                .collect(),
            Plan::Rates { errors, total } => vec![
                (
                    Role::Errors,
                    Read::RateEvents {
                        template: errors,
                        span: step,
                    },
                ),
                (
                    Role::Total,
                    Read::RateEvents {
                        template: total,
                        span: step,
                    },
                ),
            ],
            Plan::Gauge { selector } => [(Role::Good, Stat::Sum), (Role::Total, Stat::Count)]
                .into_iter()
                .map(|(role, stat)| {
                    let read = Read::SampleStats {
                        selector,
                        step,
                        group_by: &self.spec.group_by,
                        stat,
                    };
                    (role, read)
                })
                .collect(),
            Plan::Threshold { query, .. } => vec![(Role::Total, Read::Expression { query })],
            Plan::Counts {
                errors,
                good,
                total,
            } => [
                (Role::Errors, errors.as_ref()),
                (Role::Good, good.as_ref()),
                (Role::Total, Some(total)),
            ]
            .into_iter()
            .filter_map(|(role, query)| {
                let read = Read::Counts {
                    query: query?,
                    step,
                    group_by: &self.spec.group_by,
                };
                Some((role, read))
            })
            .collect(),
            Plan::Ratios { .. } | Plan::Composite { .. } => Vec::new(),
        }
    }

    /// Every role's events per `step` over one chunk, queried concurrently: per span, per group,
    /// the tallies. Also returns the number of queries sent.
    async fn fetch_chunk(
        &self,
        step: Duration,
        chunk: backfill::Chunk,
    ) -> Result<(Points, u64), BackendError> {
        let queries = self.range_reads(step);
        let results = futures_util::future::try_join_all(
            queries
                .iter()
                .map(|(_, read)| self.range(*read, chunk.first, chunk.last, step)),
        )
        .await?;
        let step_ms = step.as_millis() as i64;
        let mut points = Points::new();
        for ((role, _), result) in queries.iter().zip(&results) {
            for series in &result.series {
                let key = group_key(&self.spec.group_by, &series.labels);
                for &(ts, value) in &series.samples {
                    let mut add = |role: Role, value: f64| {
                        points
                            .entry(Span {
                                start: ts - step_ms,
                                end: ts,
                            })
                            .or_default()
                            .entry(key.clone())
                            .or_default()
                            .add(role, value);
                    };
                    if let Plan::Threshold {
                        op, value: bound, ..
                    } = &self.plan
                    {
                        // One judgement per series and slice: the slice is bad when any series
                        // of its group misses the threshold. A NaN (a quantile of no requests)
                        // is no data.
                        if !value.is_nan() {
                            add(Role::Total, 1.0);
                            add(Role::Errors, f64::from(!op.holds(value, *bound)));
                        }
                    } else if value.is_finite() && value >= 0.0 {
                        // increase() can be NaN on odd data; negative only on broken data.
                        add(*role, value);
                    }
                }
            }
        }
        Ok((points, queries.len() as u64))
    }

    /// The finest bucket resolution: where live increases land and backfill ends.
    pub(super) fn fine_step(&self) -> Duration {
        self.new_state()
            .levels()
            .first()
            .map_or(Duration::from_secs(60), |l| l.0)
    }
}
