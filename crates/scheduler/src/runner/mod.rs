//! One SLO's live state: its instances, counter trackers, and the phases that advance it.
//!
//! A runner is owned by one task; nothing here is shared except the board it publishes to. The
//! phases, a file each: [`history`] (backfill and the read of history it shares), [`gap`] (a
//! gap after an outage or restart), [`tick`] (the live tick), [`publish`] (evaluate, alert,
//! publish), [`replay`] (history stepped through, nothing published), [`exact`] (the exact
//! read of counters over history) and [`composite`] (a composite's tick, from the board).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    AlertPolicy, Alerts, Board, CounterTracker, Excluded, ExclusionSpan, Exclusions, InstanceInfo,
    Millis, Notification, SharedState, SloInfo, SloState,
};
use burnwatch_spec::Slo;
use tokio::sync::mpsc::UnboundedSender;

use crate::backend::{Backend, BackendError, Labels, QueryResult, Read};
use crate::counting::GroupKey;
use crate::metrics::SchedulerMetrics;
use crate::plan::{Plan, Role};
use crate::retry::RetryPolicy;
use crate::snapshot::{self, Encoder, Handover, RunnerSnapshot};

mod composite;
mod exact;
mod gap;
mod history;
#[cfg(test)]
mod no_backend;
mod publish;
mod replay;
mod slice_composite;
mod tick;

pub use composite::ComponentHistory;
pub use replay::ReplayStep;

/// Gaps longer than this since the last ingested moment (a restart, a backend outage) are read
/// at the buckets' boundaries (as backfill is) instead of as raw samples, whose number grows
/// with the gap.
pub const MAX_LIVE_GAP: Duration = Duration::from_secs(120);

/// Reads by whole steps (time slices, gauges, thresholds) wait this long after a step ends
/// before reading it, so that the scrapes of its last seconds have landed in the backend: a
/// slice is judged once, and a sample seen after its slice was read would be lost to it.
pub(crate) const SETTLE: Millis = 15_000;

struct Instance {
    info: Arc<InstanceInfo>,
    /// Shared with the board, which reads the instance's history from its buckets.
    state: SharedState,
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
    /// Calendar SLOs: the policy per period length seen (28 to 31 days for a month), so a
    /// rollover swaps in the current period's factors without rebuilding them every tick.
    policies: HashMap<Duration, Arc<AlertPolicy>>,
    /// Windows every instance keeps (defaults plus the policy's), without the period.
    windows: Vec<Duration>,
    notifier: Option<UnboundedSender<Notification>>,
    /// Where excluded and silenced spans come from.
    exclusions: Arc<Exclusions>,
    /// The spans around the last tick (or the replayed range), and the union of those that
    /// exclude events: what every instance's state leaves out.
    spans: Vec<ExclusionSpan>,
    excluded: Excluded,
    /// A runner reading a time-slice composite's component: its slice events are collected
    /// here for the composite instead of observed (see [`slice_composite`]).
    collected: Option<Vec<(Millis, GroupKey, burnwatch_engine::Counts)>>,
    /// A time-slice composite's component readers.
    parts: Vec<slice_composite::Part>,
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
        let info = Arc::new(burnwatch_spec::slo_info(&spec));
        let policy = burnwatch_spec::alert_policy(&spec);
        let windows = burnwatch_spec::windows(&spec, &policy);
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
            policies: HashMap::new(),
            windows,
            notifier: None,
            exclusions: Exclusions::new(),
            spans: Vec::new(),
            excluded: Excluded::default(),
            collected: None,
            parts: Vec::new(),
        }
        .with_parts()
    }

    /// Takes excluded and silenced spans from `exclusions` (maintenance windows, corrections).
    #[must_use]
    pub fn with_exclusions(mut self, exclusions: Arc<Exclusions>) -> Self {
        self.exclusions = exclusions;
        self
    }

    /// The excluded and silenced spans around the last tick, by start.
    pub fn spans(&self) -> &[ExclusionSpan] {
        &self.spans
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

    /// This SLO's state as a snapshot handover, encoded by `encoder` (which leaves out the
    /// bucket chunks it handed over unchanged before); None before the first backfill.
    pub fn snapshot(&self, encoder: &mut Encoder) -> Option<Handover> {
        let ingested_until = self.ingested_until?;
        // The states are shared with the board's readers: held while they are encoded.
        let states: Vec<_> = self
            .instances
            .iter()
            .map(|(g, i)| (g, i.state.lock(), &i.alerts))
            .collect();
        Some(
            encoder.encode(
                &snapshot::fingerprint(&self.spec),
                ingested_until,
                states
                    .iter()
                    .map(|(g, state, alerts)| (*g, &**state, *alerts)),
            ),
        )
    }

    /// Tells `encoder` that the snapshot hub holds this state as it is (just restored).
    pub fn remember_snapshot(&self, encoder: &mut Encoder) {
        let states: Vec<_> = self
            .instances
            .iter()
            .map(|(g, i)| (g, i.state.lock()))
            .collect();
        encoder.remember(states.iter().map(|(g, state)| (*g, &**state)));
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
                    state: instance.state.into(),
                    alerts: instance.alerts,
                },
            );
        }
        // What the saved states already leave out; the next tick compares it with the sources.
        self.excluded = self
            .instances
            .values()
            .next()
            .map(|i| i.state.lock().excluded().clone())
            .unwrap_or_default();
        self.ingested_until = Some(snapshot.ingested_until);
        true
    }

    /// Every window an instance reports, shortest first, the period last.
    pub fn windows(&self) -> Vec<Duration> {
        let mut windows = self.windows.clone();
        windows.push(self.spec.period);
        windows
    }

    /// Says on the board why this SLO has no figures yet (until it first publishes).
    pub fn wait(&self, why: burnwatch_engine::Waiting) {
        self.board.publish_waiting(&self.info, why);
    }

    /// The SLO's id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The SLOs of one tick group tick together: its backend and interval.
    pub fn tick_group(&self) -> String {
        format!("{}/{:?}", self.backend.name(), self.spec.interval)
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
        let objective = self.info.objective;
        let mut state = match self.plan {
            Plan::Composite { .. } if self.spec.slicing.is_some() => {
                SloState::counted(objective, self.spec.engine_period(), &self.windows)
            }
            Plan::Ratios { .. } | Plan::Composite { .. } => {
                SloState::direct(objective, self.spec.period, &self.windows)
            }
            _ => SloState::counted(objective, self.spec.engine_period(), &self.windows),
        };
        state.exclude(self.excluded.clone());
        state
    }

    /// Takes the spans overlapping `(from, to]` from the sources and hands the excluded ones to
    /// every instance. Returns whether what is excluded before `ingested_until` changed (a
    /// correction over the past, a reload): then the history held is wrong and must be read
    /// again.
    fn refresh_exclusions(&mut self, from: Millis, to: Millis) -> bool {
        let spans = self.exclusions.spans(&self.info, from, to);
        let excluded = burnwatch_engine::excluded_of(&spans);
        let changed = match self.ingested_until {
            Some(until) if until > from => {
                excluded.within(from, until) != self.excluded.within(from, until)
            }
            _ => false,
        };
        if excluded != self.excluded {
            for instance in self.instances.values_mut() {
                instance.state.lock().exclude(excluded.clone());
            }
        }
        self.spans = spans;
        self.excluded = excluded;
        changed
    }

    /// How far back spans matter: the longest period and a day more (the bucket levels reach
    /// no further).
    fn exclusion_reach(&self) -> Millis {
        (self.spec.engine_period().longest() + Duration::from_secs(86_400)).as_millis() as Millis
    }

    /// Makes the objective the one in force at `now` (`[[slo.objective_schedule]]`): the SLO's
    /// identity, every instance's and every state's objective are swapped together, so the
    /// exported objective, budgets, burn rates and alerts all follow it from this evaluation on.
    fn follow_objective(&mut self, now: Millis) {
        let objective = self.spec.objective_at(now);
        if objective == self.info.objective {
            return;
        }
        let mut info = burnwatch_spec::slo_info(&self.spec);
        info.objective = objective;
        self.info = Arc::new(info);
        let keys: Vec<GroupKey> = self.instances.keys().cloned().collect();
        for key in keys {
            let info = self.instance_info(&key);
            if let Some(instance) = self.instances.get_mut(&key) {
                instance.info = info;
                instance.state.lock().set_objective(objective);
            }
        }
    }

    /// For a calendar SLO, makes the policy the one of the period holding `now`: workbook and
    /// `budget_share` factors follow the current period's length (explicit factors stay).
    fn follow_period(&mut self, now: Millis) {
        if self.spec.calendar.is_none() {
            return;
        }
        let length = self.spec.engine_period().length_at(now);
        let spec = &self.spec;
        let policy = self
            .policies
            .entry(length)
            .or_insert_with(|| Arc::new(burnwatch_spec::alert_policy_over(spec, length)));
        if !Arc::ptr_eq(policy, &self.policy) {
            self.policy = Arc::clone(policy);
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
            let state = self.new_state().into();
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

    async fn instant(&self, read: Read<'_>, at: Millis) -> Result<QueryResult, BackendError> {
        RetryPolicy::TICK
            .run(|| self.backend.instant(read, at))
            .await
            .inspect_err(|err| {
                tracing::debug!(slo = %self.spec.id, error = %err, "instant read failed");
            })
    }

    async fn range(
        &self,
        read: Read<'_>,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError> {
        RetryPolicy::BACKFILL
            .run(|| self.backend.range(read, start, end, step))
            .await
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
    burnwatch_engine::label_set_hash(labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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
