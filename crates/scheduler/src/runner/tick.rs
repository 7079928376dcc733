//! The live tick: what happened since the last ingested moment, read as raw samples (or, for
//! template SLIs, evaluated by the backend), fed to the engine and published.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use burnwatch_engine::{Millis, Observation};
use burnwatch_spec::{Selector, Template};

use super::{MAX_LIVE_GAP, SETTLE, SloRunner, admit, group_key, series_id};
use crate::backend::{BackendError, QueryResult, Read};
use crate::backfill;
use crate::counting::{Grid, GroupKey, Placer, Points, SERIES_MEMORY, Span, Tally};
use crate::plan::{Plan, Role};

impl SloRunner {
    /// Advance to `now`: read what happened since the last ingested moment, feed the engine,
    /// evaluate and publish. On error nothing is ingested, so the next tick covers the gap.
    pub async fn tick(&mut self, now: Millis) -> Result<(), BackendError> {
        let result = self.tick_inner(now).await;
        self.metrics
            .record_evaluation(&self.spec.id, result.is_ok());
        if result.is_ok() {
            self.publish(now);
        }
        result
    }

    /// Takes the spans around `now` from the sources, as a tick does: called before the startup
    /// backfill, so the history read leaves the excluded spans out at once (and the first
    /// publish shows them) instead of being read again on the first tick. Returns whether what
    /// is excluded in the history already held changed.
    pub(crate) fn take_exclusions(&mut self, now: Millis) -> bool {
        /// Spans starting within this are known ahead, so the live path never misses an edge.
        const AHEAD: Millis = 86_400_000;
        let reach = self.exclusion_reach();
        self.refresh_exclusions(now.saturating_sub(reach), now.saturating_add(AHEAD))
    }

    /// Where a live backfill at `now` ends: slices and steps read whole are read once, so not
    /// before they have settled ([`SETTLE`]); other reads up to `now`.
    pub fn settled(&self, now: Millis) -> Millis {
        if self.reads_by_step() || self.spec.slicing.is_some() {
            now - SETTLE
        } else {
            now
        }
    }

    /// A tick without its evaluation and publication: how a time-slice composite advances the
    /// readers of its components.
    pub(super) async fn advance(&mut self, now: Millis) -> Result<(), BackendError> {
        self.tick_inner(now).await
    }

    async fn tick_inner(&mut self, now: Millis) -> Result<(), BackendError> {
        if self.is_slice_composite() {
            if self.take_exclusions(now) {
                self.metrics.record_history_reread(&self.spec.id);
                self.ingested_until = None;
            }
            return self.tick_slice_composite(now).await;
        }
        if let Plan::Composite { .. } = &self.plan {
            // Nothing to read or fill: its components' newest figures are on the board.
            self.tick_composite(now);
            return Ok(());
        }
        if self.take_exclusions(now) {
            tracing::info!(
                slo = %self.spec.id,
                "excluded spans in the past changed (a correction, a reload): reading history again"
            );
            self.metrics.record_history_reread(&self.spec.id);
            self.ingested_until = None;
        }
        let from = match self.ingested_until {
            Some(from) => from,
            None => {
                self.backfill(self.settled(now)).await?;
                self.ingested_until.unwrap_or(now)
            }
        };
        if now <= from {
            return Ok(());
        }
        if let Plan::Ratios { ratio } = &self.plan {
            let ratio = ratio.clone();
            return self.tick_ratios(&ratio, now).await;
        }
        if self.reads_by_step() {
            return self.tick_by_step(from, now).await;
        }
        // Time slices are read whole: up to the last slice that ended a settling moment ago.
        let now_read = match self.spec.slicing {
            Some(slicing) => backfill::align_down(now - SETTLE, slicing.length),
            None => now,
        };
        if Duration::from_millis((now_read.max(from) - from) as u64) > MAX_LIVE_GAP {
            self.fill_gap(from, now_read).await?;
        }
        let from = self.ingested_until.unwrap_or(from);
        if now_read <= from {
            return Ok(());
        }
        let now = now_read;
        let points = match &self.plan {
            Plan::Counters { .. } => self.read_counters(from, now).await?,
            Plan::Rates { errors, total } => {
                let span = Duration::from_millis((now - from) as u64);
                let (errors, total) = (errors.clone(), total.clone());
                let (e, t) = tokio::join!(
                    self.instant(
                        Read::RateEvents {
                            template: &errors,
                            span
                        },
                        now
                    ),
                    self.instant(
                        Read::RateEvents {
                            template: &total,
                            span
                        },
                        now
                    ),
                );
                let mut tallies = BTreeMap::new();
                self.tally_latest(&mut tallies, Role::Errors, &e?);
                self.tally_latest(&mut tallies, Role::Total, &t?);
                Points::from([(
                    Span {
                        start: from,
                        end: now,
                    },
                    tallies,
                )])
            }
            Plan::Ratios { .. }
            | Plan::Threshold { .. }
            | Plan::Gauge { .. }
            | Plan::Counts { .. }
            | Plan::Composite { .. } => unreachable!("handled above"),
        };
        self.observe_live(points, now);
        self.ingested_until = Some(now);
        Ok(())
    }

    /// Whether ticks read whole steps of history (as backfill does) rather than raw samples:
    /// threshold queries are judged at each slice's end, gauges and metric queries (Datadog)
    /// counted per step, and rate templates under time slices evaluated per slice.
    fn reads_by_step(&self) -> bool {
        match self.plan {
            Plan::Threshold { .. } | Plan::Gauge { .. } | Plan::Counts { .. } => true,
            Plan::Rates { .. } => self.spec.slicing.is_some(),
            Plan::Counters { .. } | Plan::Ratios { .. } | Plan::Composite { .. } => false,
        }
    }

    /// A tick of a plan read by steps: the steps that ended a settling moment before `now`
    /// since `from` (one range read, however long the gap), fed and marked ingested.
    async fn tick_by_step(&mut self, from: Millis, now: Millis) -> Result<(), BackendError> {
        let end = backfill::align_down(now - SETTLE, self.read_step());
        let segments = backfill::uniform(from, end, self.read_step());
        if segments.is_empty() {
            return Ok(());
        }
        let (points, _) = self.read_history(&segments, None).await?;
        self.observe_live(points, end);
        self.ingested_until = Some(end);
        Ok(())
    }

    /// Raw samples of every counter since `from`, turned into reset-aware increases, each in the
    /// minute of the sample that shows it.
    async fn read_counters(&mut self, from: Millis, now: Millis) -> Result<Points, BackendError> {
        // The margin reaches back past `from` so that series new to the trackers (after backfill
        // or a restart) find their baseline sample at or before `from`.
        let margin = self.spec.interval.max(Duration::from_secs(60)) * 2;
        let range = Duration::from_millis((now - from) as u64) + margin;
        let selectors: Vec<(Role, Selector)> = self
            .plan
            .selectors()
            .into_iter()
            .map(|(role, sel)| (role, sel.clone()))
            .collect();
        let results = samples_of_all(self, &selectors, range, now).await?;
        let grid = Grid::uniform(from, now, self.fine_step().as_millis() as i64);
        let mut placer = Placer::new(grid.clone());
        let mut admitted = BTreeSet::new();
        for ((role, _), result) in selectors.iter().zip(results) {
            let role = *role;
            let tracker = self.trackers.entry(role.into()).or_default();
            for series in &result.series {
                let key = group_key(&self.spec.group_by, &series.labels);
                if !admit(&self.instances, self.spec.group_limit, &mut admitted, &key) {
                    continue;
                }
                let id = series_id(&series.labels);
                let split = series.samples.partition_point(|(ts, _)| *ts <= from);
                if !tracker.knows(id) {
                    tracker.ingest(id, &series.samples[..split]);
                }
                tracker.ingest_each(id, &series.samples[split..], |prev, t, increase| {
                    let hole = grid.is_hole(prev, t).then(|| grid.hole_start(prev));
                    placer.increase(&key, role, prev, t, increase, hole);
                });
                placer.present(&key, role);
            }
            // Keep absent series for hours: one that returns after a scrape gap must count the
            // events of the gap (as rate() over a window spanning the gap does), not restart.
            tracker.expire(now - range.as_millis() as i64 - SERIES_MEMORY);
        }
        Ok(placer.finish())
    }

    async fn tick_ratios(&mut self, template: &Template, now: Millis) -> Result<(), BackendError> {
        let mut windows = self.windows.clone();
        windows.push(self.spec.period);
        let mut per_group: BTreeMap<GroupKey, Vec<Option<f64>>> = BTreeMap::new();
        for (i, window) in windows.iter().enumerate() {
            let result = self
                .instant(
                    Read::Ratio {
                        template,
                        window: *window,
                    },
                    now,
                )
                .await?;
            for series in &result.series {
                let Some(&(_, value)) = series.samples.last() else {
                    continue;
                };
                let key = group_key(&self.spec.group_by, &series.labels);
                let ratios = per_group
                    .entry(key)
                    .or_insert_with(|| vec![None; windows.len()]);
                ratios[i] = value.is_finite().then_some(value.max(0.0));
            }
        }
        for key in per_group.keys() {
            self.ensure_instance(key);
        }
        let none = vec![None; windows.len()];
        for (key, instance) in &mut self.instances {
            let ratios = per_group.get(key).unwrap_or(&none);
            instance.state.lock().observe_ratios(now, ratios);
        }
        self.ingested_until = Some(now);
        Ok(())
    }

    fn tally_latest(
        &self,
        tallies: &mut BTreeMap<GroupKey, Tally>,
        role: Role,
        result: &QueryResult,
    ) {
        for series in &result.series {
            if let Some(&(_, value)) = series.samples.last()
                && value.is_finite()
                && value >= 0.0
            {
                let key = group_key(&self.spec.group_by, &series.labels);
                tallies.entry(key).or_default().add(role, value);
            }
        }
    }

    /// Feeds a tick's events; instances without any say "no series".
    fn observe_live(&mut self, points: Points, now: Millis) {
        let with_counts: BTreeSet<GroupKey> = points
            .values()
            .flat_map(|groups| groups.iter())
            .filter(|(_, tally)| tally.counts().is_some())
            .map(|(key, _)| key.clone())
            .collect();
        self.feed(points);
        for (key, instance) in &mut self.instances {
            if !with_counts.contains(key) {
                instance
                    .state
                    .lock()
                    .observe(Observation::NoSeries { at: now });
            }
        }
    }
}

/// The raw samples of every selector over `range` before `at`, all read at the same evaluation
/// timestamp, concurrently.
async fn samples_of_all(
    runner: &SloRunner,
    selectors: &[(Role, Selector)],
    range: Duration,
    at: Millis,
) -> Result<Vec<QueryResult>, BackendError> {
    let mut handles = Vec::with_capacity(selectors.len());
    for (_, selector) in selectors {
        handles.push(runner.instant(Read::Samples { selector, range }, at));
    }
    let mut out = Vec::with_capacity(handles.len());
    // Two or three queries: joining them pairwise keeps this free of extra dependencies.
    let mut iter = handles.into_iter();
    while let Some(first) = iter.next() {
        match iter.next() {
            Some(second) => {
                let (a, b) = tokio::join!(first, second);
                out.push(a?);
                out.push(b?);
            }
            None => out.push(first.await?),
        }
    }
    Ok(out)
}
