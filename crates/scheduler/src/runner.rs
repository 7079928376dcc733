//! One SLO's live state: its instances, counter trackers, and the tick that feeds the engine.
//!
//! A runner is owned by one task; nothing here is shared except the board it publishes to.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    AlertPolicy, Alerts, Board, CounterTracker, Counts, Entry, InstanceInfo, Millis, Notification,
    Observation, SloInfo, SloState, SloStatus,
};
use burnwatch_spec::{Slo, format_prometheus};
use tokio::sync::mpsc::UnboundedSender;

use crate::backend::{Backend, BackendError, Labels, QueryResult};
use crate::backfill::{self, BackfillStats};
use crate::metrics::SchedulerMetrics;
use crate::query::{self, Plan, Role};
use crate::retry::RetryPolicy;
use crate::snapshot::{self, InstanceSnapshot, RunnerSnapshot};

mod gap;
mod replay;

pub use replay::ReplayStep;

/// Gaps longer than this since the last ingested moment (a restart, a backend outage) are filled
/// by range queries at the buckets' own resolution instead of one raw-sample increase: a single
/// increase would spread the gap's events evenly over it, so an incident that ended during the
/// gap would smear into the short windows (and could re-fire a resolved page).
pub const MAX_LIVE_GAP: Duration = Duration::from_secs(120);

/// How long a series that stopped reporting keeps its last sample as a baseline.
const SERIES_MEMORY: Duration = Duration::from_secs(6 * 3600);

/// Group label values, in `group_by` order.
type GroupKey = Vec<String>;

/// Per point in time, per group: the tallies of every role.
type Points = BTreeMap<Millis, BTreeMap<GroupKey, Tally>>;

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

/// Per-group accumulation of one tick or one backfill step.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    errors: f64,
    good: f64,
    total: f64,
    has_total: bool,
    has_good: bool,
}

impl Tally {
    pub(crate) fn add(&mut self, role: Role, value: f64) {
        match role {
            Role::Errors => self.errors += value,
            Role::Good => {
                self.good += value;
                self.has_good = true;
            }
            Role::Total => {
                self.total += value;
                self.has_total = true;
            }
        }
    }

    /// Counts, or None when the total counter had no series for this group.
    pub(crate) fn counts(&self) -> Option<Counts> {
        if !self.has_total {
            return None;
        }
        let errors = if self.has_good {
            (self.total - self.good).max(0.0)
        } else {
            self.errors
        };
        Some(Counts {
            errors,
            total: self.total,
        })
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
        let template = self.new_state();
        let end = backfill::align_down(now, template.levels()[0].0);
        let segments = backfill::segments(&template.levels(), end, None);
        let stats = self.fill(&segments).await?;
        self.ingested_until = Some(end);
        self.metrics.backfill_points(stats.points);
        Ok(stats)
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
        let Some(from) = self.ingested_until else {
            self.backfill(now).await?;
            return Box::pin(self.tick_inner(now)).await;
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
        let tallies = match &self.plan {
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
                tallies
            }
            Plan::Ratios { .. } => unreachable!("handled above"),
        };
        self.observe_tallies(&tallies, from, now);
        self.ingested_until = Some(now);
        Ok(())
    }

    /// Raw samples of every counter since `from`, turned into reset-aware increments per group.
    async fn read_counters(
        &mut self,
        from: Millis,
        now: Millis,
    ) -> Result<BTreeMap<GroupKey, Tally>, BackendError> {
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
        let mut tallies: BTreeMap<GroupKey, Tally> = BTreeMap::new();
        for ((role, _), result) in selectors.iter().zip(results) {
            let tracker = self.trackers.entry((*role).into()).or_default();
            for series in &result.series {
                let id = series_id(&series.labels);
                let split = series.samples.partition_point(|(ts, _)| *ts <= from);
                if !tracker.knows(id) {
                    tracker.ingest(id, &series.samples[..split]);
                }
                let increase = tracker.ingest(id, &series.samples[split..]);
                let key = group_key(&self.spec.group_by, &series.labels);
                tallies.entry(key).or_default().add(*role, increase);
            }
            // Keep absent series for hours: one that returns after a scrape gap must count the
            // events of the gap (as rate() over a window spanning the gap does), not restart.
            tracker.expire(now - (range + SERIES_MEMORY).as_millis() as i64);
        }
        Ok(tallies)
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

    /// Backfill `(from, now]` after a long gap, then let the live path take the remainder.
    ///
    /// When the backend itself has a hole in the gap (it was down too and scraped nothing), the
    /// bucket queries cannot see the counters' jump across the hole, which Prometheus' `rate()`
    /// over any window spanning the hole counts. The raw counters (still tracked from before the
    /// gap) do see it: what they hold beyond the buckets is spread over the hole.
    async fn fill_gap(&mut self, from: Millis, now: Millis) -> Result<(), BackendError> {
        let levels = self.new_state().levels();
        let end = backfill::align_down(now, levels[0].0);
        let segments = backfill::segments(&levels, end, Some(from));
        let (mut fetched, _) = self.fetch_segments(&segments).await?;
        let raw_readable = matches!(self.plan, Plan::Counters { .. })
            && !self.trackers.is_empty()
            && end > from
            && Duration::from_millis((end - from) as u64) <= gap::MAX_RAW_GAP;
        // Best effort: the raw samples of a long gap can be large; without them the buckets
        // still hold everything the backend scraped.
        let raw = if raw_readable {
            match self.read_counters(from, end).await {
                Ok(raw) => Some(raw),
                Err(err) => {
                    tracing::warn!(slo = %self.spec.id, error = %err, "cannot read the raw counters over the gap; events the backend did not scrape in it are left out");
                    None
                }
            }
        } else {
            None
        };
        match raw {
            Some(raw) => gap::spread_hidden(&raw, &mut fetched),
            None => self.trackers.clear(),
        }
        let points = self.feed(fetched);
        self.metrics.backfill_points(points);
        self.ingested_until = Some(end.max(from));
        Ok(())
    }

    /// Run range queries for `segments` and feed every point, oldest first, to the instances.
    async fn fill(
        &mut self,
        segments: &[backfill::Segment],
    ) -> Result<BackfillStats, BackendError> {
        let (fetched, queries) = self.fetch_segments(segments).await?;
        let points = self.feed(fetched);
        Ok(BackfillStats { queries, points })
    }

    /// Every chunk of `segments`, fetched, oldest first; and the number of queries sent.
    async fn fetch_segments(
        &self,
        segments: &[backfill::Segment],
    ) -> Result<(Vec<gap::Fetched>, u64), BackendError> {
        let mut fetched = Vec::new();
        let mut queries = 0;
        for segment in segments {
            for chunk in segment.chunks() {
                let (points, sent) = self.fetch_chunk(segment.step, chunk).await?;
                queries += sent;
                fetched.push(gap::Fetched {
                    step: segment.step,
                    chunk,
                    points,
                });
            }
        }
        Ok((fetched, queries))
    }

    /// Feeds fetched points in order; returns the (point, group) pairs ingested.
    fn feed(&mut self, fetched: Vec<gap::Fetched>) -> u64 {
        let mut ingested = 0;
        for chunk in fetched {
            for (ts, tallies) in &chunk.points {
                ingested += self.observe_point(*ts, chunk.step, tallies);
            }
        }
        ingested
    }

    /// The range queries that yield each role's events per `step`.
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

    /// Every role's events per `step` over one chunk, queried concurrently: per point in time,
    /// per group, the tallies. Also returns the number of queries sent.
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
        let mut points = Points::new();
        for ((role, _), result) in queries.iter().zip(&results) {
            for series in &result.series {
                let key = group_key(&self.spec.group_by, &series.labels);
                for &(ts, value) in &series.samples {
                    // increase() can be NaN on odd data; negative only on broken data.
                    if value.is_finite() && value >= 0.0 {
                        points
                            .entry(ts)
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

    /// Feed the events of `(ts - step, ts]` to their instances; returns how many groups had some.
    fn observe_point(
        &mut self,
        ts: Millis,
        step: Duration,
        tallies: &BTreeMap<GroupKey, Tally>,
    ) -> u64 {
        let step_ms = step.as_millis() as i64;
        for (key, tally) in tallies {
            let Some(counts) = tally.counts() else {
                continue;
            };
            if let Some(instance) = self.ensure_instance(key) {
                instance.state.observe(Observation::Events {
                    start: ts - step_ms,
                    end: ts,
                    counts,
                });
            }
        }
        tallies.len() as u64
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

    fn observe_tallies(&mut self, tallies: &BTreeMap<GroupKey, Tally>, from: Millis, now: Millis) {
        for (key, tally) in tallies {
            if tally.counts().is_some() {
                self.ensure_instance(key);
            }
        }
        for (key, instance) in &mut self.instances {
            let observation = match tallies.get(key).and_then(Tally::counts) {
                Some(counts) => Observation::Events {
                    start: from,
                    end: now,
                    counts,
                },
                None => Observation::NoSeries { at: now },
            };
            instance.state.observe(observation);
        }
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
    fn good_and_total_give_errors_never_negative() {
        let mut tally = Tally::default();
        tally.add(Role::Total, 100.0);
        tally.add(Role::Good, 97.0);
        assert_eq!(
            tally.counts(),
            Some(Counts {
                errors: 3.0,
                total: 100.0
            })
        );
        let mut tally = Tally::default();
        tally.add(Role::Total, 10.0);
        tally.add(Role::Good, 10.5); // extrapolation noise in backfill
        assert_eq!(
            tally.counts(),
            Some(Counts {
                errors: 0.0,
                total: 10.0
            })
        );
        let mut tally = Tally::default();
        tally.add(Role::Errors, 1.0);
        assert_eq!(
            tally.counts(),
            None,
            "errors without a total series is not evidence"
        );
    }

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
