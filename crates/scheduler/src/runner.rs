//! One SLO's live state: its instances, counter trackers, and the tick that feeds the engine.
//!
//! A runner is owned by one task; nothing here is shared except the board it publishes to.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    AlertPolicy, Alerts, Board, CounterTracker, Entry, InstanceInfo, Millis, Notification,
    Observation, SloInfo, SloState, SloStatus,
};
use burnwatch_spec::{Slo, format_prometheus};
use tokio::sync::mpsc::UnboundedSender;

use crate::backend::{Backend, BackendError, Labels, QueryResult};
use crate::backfill::{self, BackfillStats};
use crate::counting::{Grid, GroupKey, Placer, Points, SERIES_MEMORY, Span, Tally};
use crate::metrics::SchedulerMetrics;
use crate::query::{self, Plan, Role};
use crate::retry::RetryPolicy;
use crate::snapshot::{self, InstanceSnapshot, RunnerSnapshot};

mod exact;
mod replay;

use exact::ExactRead;
pub use replay::ReplayStep;

/// Gaps longer than this since the last ingested moment (a restart, a backend outage) are read
/// at the buckets' boundaries (as backfill is) instead of as raw samples, whose number grows
/// with the gap.
pub const MAX_LIVE_GAP: Duration = Duration::from_secs(120);

struct Instance {
    info: Arc<InstanceInfo>,
    state: SloState,
    alerts: Alerts,
}

/// The live state of one SLO and everything needed to advance it.
pub struct SloRunner {
    spec: Slo,
    info: Arc<SloInfo>,
    plan: Plan,
    backend: Arc<dyn Backend>,
    board: Arc<Board>,
    metrics: Arc<SchedulerMetrics>,
    instances: BTreeMap<GroupKey, Instance>,
    trackers: HashMap<RoleKey, CounterTracker>,
    /// Events up to this moment have been ingested (None before backfill).
    ingested_until: Option<Millis>,
    group_limit_reached: bool,
    /// Why the last read of history could not be exact, when it could not (logged once).
    inexact: Option<exact::Inexact>,
    policy: Arc<AlertPolicy>,
    /// Windows every instance keeps (defaults plus the policy's), without the period.
    windows: Vec<Duration>,
    notifier: Option<UnboundedSender<Notification>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RoleKey {
    Errors,
    Good,
    Total,
}

impl From<Role> for RoleKey {
    fn from(role: Role) -> Self {
        match role {
            Role::Errors => RoleKey::Errors,
            Role::Good => RoleKey::Good,
            Role::Total => RoleKey::Total,
        }
    }
}

impl SloRunner {
    /// A runner with no state yet; call [`SloRunner::backfill`] (or just tick) to fill it.
    pub fn new(
        spec: Slo,
        backend: Arc<dyn Backend>,
        board: Arc<Board>,
        metrics: Arc<SchedulerMetrics>,
    ) -> Self {
        let info = Arc::new(SloInfo {
            id: spec.id.clone(),
            service: spec.service.clone(),
            name: spec.name.clone(),
            objective: spec.objective,
            objective_percent: spec.objective_percent,
            period: spec.period,
            labels: spec
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            description: spec.description.clone(),
            alert_name: spec.alerting.name.clone(),
            annotations: spec
                .alerting
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        });
        let policy = crate::policy::alert_policy(&spec);
        let windows = crate::policy::windows(&spec, &policy);
        Self {
            plan: Plan::new(&spec.sli),
            spec,
            info,
            backend,
            board,
            metrics,
            instances: BTreeMap::new(),
            trackers: HashMap::new(),
            ingested_until: None,
            group_limit_reached: false,
            inexact: None,
            policy: Arc::new(policy),
            windows,
            notifier: None,
        }
    }

    /// Sends every alert transition of this SLO's instances to `notifier`.
    #[must_use]
    pub fn with_notifier(mut self, notifier: UnboundedSender<Notification>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// The alert policy this SLO is evaluated under.
    pub fn policy(&self) -> &AlertPolicy {
        &self.policy
    }

    /// This SLO's state as a snapshot; None before the first backfill.
    pub fn snapshot(&self) -> Option<RunnerSnapshot> {
        Some(RunnerSnapshot {
            fingerprint: snapshot::fingerprint(&self.spec),
            ingested_until: self.ingested_until?,
            instances: self
                .instances
                .iter()
                .map(|(group, i)| InstanceSnapshot {
                    group: group.clone(),
                    state: i.state.clone(),
                    alerts: i.alerts.clone(),
                })
                .collect(),
        })
    }

    /// Takes over `snapshot` if it was made under this very definition; then only the gap since
    /// it is read on the next tick. Returns whether it was taken.
    pub fn restore(&mut self, snapshot: RunnerSnapshot) -> bool {
        if snapshot.fingerprint != snapshot::fingerprint(&self.spec) {
            return false;
        }
        self.instances.clear();
        self.trackers.clear();
        for instance in snapshot.instances.into_iter().take(self.spec.group_limit) {
            let info = self.instance_info(&instance.group);
            self.instances.insert(
                instance.group,
                Instance {
                    info,
                    state: instance.state,
                    alerts: instance.alerts,
                },
            );
        }
        self.ingested_until = Some(snapshot.ingested_until);
        true
    }

    /// Every window an instance reports, shortest first, the period last.
    pub fn windows(&self) -> Vec<Duration> {
        let mut windows = self.windows.clone();
        windows.push(self.spec.period);
        windows
    }

    /// The SLO's id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The SLO definition.
    pub fn spec(&self) -> &Slo {
        &self.spec
    }

    /// Events up to this moment are in the engine.
    pub fn ingested_until(&self) -> Option<Millis> {
        self.ingested_until
    }

    /// Number of instances held.
    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }

    /// Fill the whole period from history with range queries, ending at `now` (rounded down to
    /// the finest bucket). Replaces whatever the runner held.
    pub async fn backfill(&mut self, now: Millis) -> Result<BackfillStats, BackendError> {
        self.instances.clear();
        self.trackers.clear();
        self.ingested_until = None;
        if matches!(self.plan, Plan::Ratios { .. }) {
            // The backend evaluates every window itself on each tick: nothing to fill.
            self.ingested_until = Some(now);
            return Ok(BackfillStats::default());
        }
        let end = backfill::align_down(now, self.fine_step());
        let segments = backfill::segments(&self.new_state().levels(), end, None);
        let (points, queries) = self.read_history(&segments, None).await?;
        let points = self.feed(points);
        self.ingested_until = Some(end);
        self.metrics.backfill_points(points);
        Ok(BackfillStats { queries, points })
    }

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

    async fn tick_inner(&mut self, now: Millis) -> Result<(), BackendError> {
        let from = match self.ingested_until {
            Some(from) => from,
            None => {
                self.backfill(now).await?;
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
        if Duration::from_millis((now - from) as u64) > MAX_LIVE_GAP {
            self.fill_gap(from, now).await?;
        }
        let from = self.ingested_until.unwrap_or(from);
        if now <= from {
            return Ok(());
        }
        let points = match &self.plan {
            Plan::Counters { .. } => self.read_counters(from, now).await?,
            Plan::Rates { errors, total } => {
                let span = Duration::from_millis((now - from) as u64);
                let (errors, total) = (errors.clone(), total.clone());
                let (e, t) = tokio::join!(
                    self.instant(query::rate_times_span(&errors, span), now),
                    self.instant(query::rate_times_span(&total, span), now),
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
            Plan::Ratios { .. } => unreachable!("handled above"),
        };
        self.observe_live(points, now);
        self.ingested_until = Some(now);
        Ok(())
    }

    /// Raw samples of every counter since `from`, turned into reset-aware increases, each in the
    /// minute of the sample that shows it.
    async fn read_counters(&mut self, from: Millis, now: Millis) -> Result<Points, BackendError> {
        // The margin reaches back past `from` so that series new to the trackers (after backfill
        // or a restart) find their baseline sample at or before `from`.
        let margin = self.spec.interval.max(Duration::from_secs(60)) * 2;
        let range = Duration::from_millis((now - from) as u64) + margin;
        let selectors: Vec<(Role, String)> = self
            .plan
            .selectors()
            .into_iter()
            .map(|(role, sel)| (role, query::raw_samples(sel, range)))
            .collect();
        let results = futures_join_all(self, &selectors, now).await?;
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

    async fn tick_ratios(
        &mut self,
        template: &burnwatch_spec::Template,
        now: Millis,
    ) -> Result<(), BackendError> {
        let mut windows = self.windows.clone();
        windows.push(self.spec.period);
        let mut per_group: BTreeMap<GroupKey, Vec<Option<f64>>> = BTreeMap::new();
        for (i, window) in windows.iter().enumerate() {
            let result = self
                .instant(template.render(&format_prometheus(*window)), now)
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
            instance.state.observe_ratios(now, ratios);
        }
        self.ingested_until = Some(now);
        Ok(())
    }

    /// Read `(from, now]` after a long gap at the buckets' boundaries, then let the live path
    /// take the remainder. The trackers' baselines (from before the gap) start the count, so
    /// nothing between the last tick and the gap's first boundary is lost, and a hole in the
    /// backend's own data is spread over the hole.
    async fn fill_gap(&mut self, from: Millis, now: Millis) -> Result<(), BackendError> {
        let end = backfill::align_down(now, self.fine_step());
        let segments = backfill::segments(&self.new_state().levels(), end, Some(from));
        if segments.is_empty() {
            return Ok(());
        }
        let (points, _) = self.read_history(&segments, Some(from)).await?;
        let points = self.feed(points);
        self.metrics.backfill_points(points);
        self.ingested_until = Some(end.max(from));
        Ok(())
    }

    /// The events of `segments` (with `since`, also of the partial bucket after it), and the
    /// requests sent: counters read exactly, unless they cannot be (then, like rate templates,
    /// `increase()` per group and step).
    async fn read_history(
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

    /// Feeds every span's events, oldest first; returns the (span, group) pairs ingested.
    fn feed(&mut self, points: Points) -> u64 {
        let mut ingested = 0;
        for (span, groups) in points {
            for (key, tally) in groups {
                let Some(counts) = tally.counts() else {
                    continue;
                };
                if let Some(instance) = self.ensure_instance(&key) {
                    instance.state.observe(Observation::Events {
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

    /// The range queries that yield each role's events per `step` (the inexact read).
    fn range_queries(&self, step: Duration) -> Vec<(Role, String)> {
        match &self.plan {
            Plan::Counters { .. } => self
                .plan
                .selectors()
                .into_iter()
                .map(|(role, sel)| (role, query::increase(sel, step, &self.spec.group_by)))
                .collect(),
            Plan::Rates { errors, total } => vec![
                (Role::Errors, query::rate_times_span(errors, step)),
                (Role::Total, query::rate_times_span(total, step)),
            ],
            Plan::Ratios { .. } => Vec::new(),
        }
    }

    /// Every role's events per `step` over one chunk, queried concurrently: per span, per group,
    /// the tallies. Also returns the number of queries sent.
    async fn fetch_chunk(
        &self,
        step: Duration,
        chunk: backfill::Chunk,
    ) -> Result<(Points, u64), BackendError> {
        let queries = self.range_queries(step);
        let results = futures_util::future::try_join_all(
            queries
                .iter()
                .map(|(_, promql)| self.range(promql.clone(), chunk.first, chunk.last, step)),
        )
        .await?;
        let step_ms = step.as_millis() as i64;
        let mut points = Points::new();
        for ((role, _), result) in queries.iter().zip(&results) {
            for series in &result.series {
                let key = group_key(&self.spec.group_by, &series.labels);
                for &(ts, value) in &series.samples {
                    // increase() can be NaN on odd data; negative only on broken data.
                    if value.is_finite() && value >= 0.0 {
                        points
                            .entry(Span {
                                start: ts - step_ms,
                                end: ts,
                            })
                            .or_default()
                            .entry(key.clone())
                            .or_default()
                            .add(*role, value);
                    }
                }
            }
        }
        Ok((points, queries.len() as u64))
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
                instance.state.observe(Observation::NoSeries { at: now });
            }
        }
    }

    /// The finest bucket resolution: where live increases land and backfill ends.
    fn fine_step(&self) -> Duration {
        self.new_state()
            .levels()
            .first()
            .map_or(Duration::from_secs(60), |l| l.0)
    }

    /// The identity of the instance of group `key` (label values in `group_by` order).
    fn instance_info(&self, key: &[String]) -> Arc<InstanceInfo> {
        Arc::new(InstanceInfo {
            slo: Arc::clone(&self.info),
            group: self
                .spec
                .group_by
                .iter()
                .cloned()
                .zip(key.iter().cloned())
                .collect(),
        })
    }

    fn new_state(&self) -> SloState {
        let objective = self.spec.objective;
        match self.plan {
            Plan::Ratios { .. } => SloState::direct(objective, self.spec.period, &self.windows),
            _ => SloState::counted(objective, self.spec.period, &self.windows),
        }
    }

    /// The instance for `key`, created on first sight unless the group limit is reached.
    fn ensure_instance(&mut self, key: &GroupKey) -> Option<&mut Instance> {
        if !self.instances.contains_key(key) {
            if self.instances.len() >= self.spec.group_limit {
                if !self.group_limit_reached {
                    tracing::warn!(
                        slo = %self.spec.id,
                        limit = self.spec.group_limit,
                        group_by = ?self.spec.group_by,
                        "group limit reached: further label sets are ignored; raise group_limit or narrow the selector"
                    );
                }
                self.group_limit_reached = true;
                return None;
            }
            let info = self.instance_info(key);
            let state = self.new_state();
            self.instances.insert(
                key.clone(),
                Instance {
                    info,
                    state,
                    alerts: Alerts::new(),
                },
            );
        }
        self.instances.get_mut(key)
    }

    /// Evaluate every instance at `now` and publish to the board.
    pub fn publish(&mut self, now: Millis) {
        let mut best = burnwatch_engine::DataState::NoData;
        for instance in self.instances.values_mut() {
            let eval = instance.state.evaluate(now);
            best = better(best, eval.data_state);
            let transitions = instance.alerts.eval(&self.policy, &eval);
            if let Some(notifier) = &self.notifier {
                for t in transitions {
                    // The receiving side outlives every runner; a closed channel means shutdown.
                    let _ = notifier.send(Notification {
                        instance: Arc::clone(&instance.info),
                        kind: t.kind,
                        status: t.status,
                        fired_at: t.fired_at,
                        at: t.at,
                        eval: eval.clone(),
                        policy: Arc::clone(&self.policy),
                    });
                }
            }
            self.board.publish(Entry {
                info: Arc::clone(&instance.info),
                eval,
                alerts: instance.alerts.clone(),
            });
        }
        self.board.publish_slo(SloStatus {
            info: Arc::clone(&self.info),
            data_state: best,
            instances: self.instances.len(),
            group_limit_reached: self.group_limit_reached,
        });
    }

    async fn instant(&self, promql: String, at: Millis) -> Result<QueryResult, BackendError> {
        RetryPolicy::TICK.run(|| self.backend.instant(&promql, at)).await.inspect_err(|err| {
            tracing::debug!(slo = %self.spec.id, query = %promql, error = %err, "instant query failed");
        })
    }

    async fn range(
        &self,
        promql: String,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError> {
        RetryPolicy::BACKFILL
            .run(|| self.backend.range(&promql, start, end, step))
            .await
    }
}

/// Query every selector at the same evaluation timestamp, concurrently.
async fn futures_join_all(
    runner: &SloRunner,
    queries: &[(Role, String)],
    at: Millis,
) -> Result<Vec<QueryResult>, BackendError> {
    let mut handles = Vec::with_capacity(queries.len());
    for (_, promql) in queries {
        handles.push(runner.instant(promql.clone(), at));
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

fn better(
    a: burnwatch_engine::DataState,
    b: burnwatch_engine::DataState,
) -> burnwatch_engine::DataState {
    use burnwatch_engine::DataState::*;
    match (a, b) {
        (Ok, _) | (_, Ok) => Ok,
        (NoTraffic, _) | (_, NoTraffic) => NoTraffic,
        _ => NoData,
    }
}

/// Whether a series of group `key` may be counted: its group has an instance, or one can be made
/// within the group limit (counting `admitted`, the groups this read has already let in).
fn admit(
    instances: &BTreeMap<GroupKey, Instance>,
    limit: usize,
    admitted: &mut BTreeSet<GroupKey>,
    key: &GroupKey,
) -> bool {
    if instances.contains_key(key) || admitted.contains(key) {
        return true;
    }
    if instances.len() + admitted.len() >= limit {
        return false;
    }
    admitted.insert(key.clone());
    true
}

fn group_key(group_by: &[String], labels: &Labels) -> GroupKey {
    group_by
        .iter()
        .map(|name| labels.get(name).cloned().unwrap_or_default())
        .collect()
}

/// A stable 64-bit id of a label set (FNV-1a), so tracker state can be persisted across versions.
fn series_id(labels: &Labels) -> u64 {
    let mut hasher = burnwatch_engine::Fnv1a::new();
    for (name, value) in labels {
        hasher
            .write(name.as_bytes())
            .write(&[0xff])
            .write(value.as_bytes())
            .write(&[0xfe]);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_ids_differ_by_any_label() {
        let a: Labels = [("a".to_string(), "1".to_string())].into();
        let b: Labels = [("a".to_string(), "2".to_string())].into();
        let c: Labels = [("a1".to_string(), String::new())].into();
        assert_ne!(series_id(&a), series_id(&b));
        assert_ne!(series_id(&a), series_id(&c));
        assert_eq!(series_id(&a), series_id(&a.clone()));
    }
}
