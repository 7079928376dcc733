//! The board: the latest published evaluation of every SLO instance, and its [`Trail`].
//!
//! The scheduler writes one entry per instance after each tick; the HTTP side reads a consistent
//! snapshot per scrape or request. Publishing also records the evaluation in the instance's
//! trail (its history for charts and the history API), so every writer keeps one; a runner
//! hands over a read-only handle on the instance's buckets too, from which the trail reads the
//! past when asked instead of keeping a copy. It is plain in-memory data behind a `std` lock (no
//! tokio), so live, replay and tests can all use it; readers clone `Arc`s under the lock and
//! encode outside it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::Objective;
use crate::{
    AlertPolicy, Alerts, ComponentStatus, DataState, Evaluation, ExclusionSpan, StateView, Trail,
};

/// Identity of one SLO (before grouping).
#[derive(Debug, Clone, PartialEq)]
pub struct SloInfo {
    /// Sloth's `sloth_id`: `<service>-<name>`.
    pub id: String,
    /// `sloth_service`.
    pub service: String,
    /// `sloth_slo`.
    pub name: String,
    /// The objective, exactly as configured (99.9%: ratio 0.999, budget 0.001).
    pub objective: Objective,
    /// The rolling period.
    pub period: Duration,
    /// User labels, sorted by name.
    pub labels: Vec<(String, String)>,
    /// Free-text description.
    pub description: Option<String>,
    /// `alertname` of the page and ticket alerts (Sloth's `alerting.name`).
    pub alert_name: String,
    /// Alert annotations (`runbook`, `dashboard`, `summary`, free text), sorted by name.
    pub annotations: Vec<(String, String)>,
    /// Labels and annotations only the alerts of one severity carry (Sloth's `alerting.labels`
    /// with `page_alert`/`ticket_alert`).
    pub alert_extras: AlertExtras,
}

/// What `[slo.alerting]` adds to the alerts of each severity: `labels` merged with
/// `page_labels` or `ticket_labels`, and `page_annotations` or `ticket_annotations`. Alerts of
/// ticket severity (tickets, `no_data`, `budget_exhausted`) carry the ticket ones.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertExtras {
    /// Page alerts' labels, sorted by name.
    pub page_labels: Vec<(String, String)>,
    /// Ticket-severity alerts' labels, sorted by name.
    pub ticket_labels: Vec<(String, String)>,
    /// Page alerts' own annotations (over the SLO's), sorted by name.
    pub page_annotations: Vec<(String, String)>,
    /// Ticket-severity alerts' own annotations (over the SLO's), sorted by name.
    pub ticket_annotations: Vec<(String, String)>,
}

impl AlertExtras {
    /// The labels alerts of `severity` carry beyond the SLO's.
    pub fn labels(&self, severity: crate::Severity) -> &[(String, String)] {
        match severity {
            crate::Severity::Page => &self.page_labels,
            crate::Severity::Ticket => &self.ticket_labels,
        }
    }

    /// The annotations alerts of `severity` carry over the SLO's.
    pub fn annotations(&self, severity: crate::Severity) -> &[(String, String)] {
        match severity {
            crate::Severity::Page => &self.page_annotations,
            crate::Severity::Ticket => &self.ticket_annotations,
        }
    }
}

/// Identity of one SLO instance: the SLO plus its group label values (empty when ungrouped).
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceInfo {
    /// The SLO this instance belongs to.
    pub slo: Arc<SloInfo>,
    /// Group labels (from `group_by`), in `group_by` order.
    pub group: Vec<(String, String)>,
}

impl InstanceInfo {
    /// A key unique across all instances: the SLO id plus the group labels, each after a
    /// `\u{1f}`. Values are escaped (`\` doubled, `\u{1f}` as `\u`), so a value holding the separator cannot make
    /// two label sets one key.
    pub fn key(&self) -> String {
        instance_key(&self.slo.id, &self.group)
    }

    /// User labels then group labels; a group label wins over a user label of the same name.
    pub fn labels(&self) -> Vec<(String, String)> {
        let mut labels: Vec<(String, String)> = self
            .slo
            .labels
            .iter()
            .filter(|(name, _)| !self.group.iter().any(|(g, _)| g == name))
            .cloned()
            .collect();
        labels.extend(self.group.iter().cloned());
        labels
    }
}

/// The [`InstanceInfo::key`] of the instance of SLO `id` with group labels `group` (in
/// `group_by` order), without building one: how a composite finds its components on the board.
pub fn instance_key(id: &str, group: &[(String, String)]) -> String {
    let mut key = id.to_string();
    for (name, value) in group {
        key.push('\u{1f}');
        key.push_str(name);
        key.push('=');
        key.push_str(&escape_key_part(value));
    }
    key
}

/// `text` with `\` doubled and the key separator `\u{1f}` written as `\u`: injective, and the
/// identity for every value without either character, so keys of ordinary labels are unchanged.
pub(crate) fn escape_key_part(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['\\', '\u{1f}']) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.replace('\\', "\\\\").replace('\u{1f}', "\\u"))
}

/// One published instance: who it is and its newest evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Identity.
    pub info: Arc<InstanceInfo>,
    /// Newest evaluation.
    pub eval: Evaluation,
    /// Alert states after that evaluation.
    pub alerts: Alerts,
}

/// Per-SLO status that exists even when the SLO has no instance (no series yet).
#[derive(Debug, Clone, PartialEq)]
pub struct SloStatus {
    /// Identity.
    pub info: Arc<SloInfo>,
    /// Worst-informed summary: `NoData` when the backend found no series for the SLO at all.
    pub data_state: DataState,
    /// Instances currently held.
    pub instances: usize,
    /// Whether the `group_limit` cap dropped label sets.
    pub group_limit_reached: bool,
}

impl SloStatus {
    /// The status of a configured SLO nothing is known of yet: no series, no instance.
    pub fn unknown(info: Arc<SloInfo>) -> SloStatus {
        SloStatus {
            info,
            data_state: DataState::NoData,
            instances: 0,
            group_limit_reached: false,
        }
    }
}

/// Why a configured SLO has no figures yet (the status page and API say so instead of leaving
/// it out).
#[derive(Debug, Clone, PartialEq)]
pub enum Waiting {
    /// Its history is being read.
    Backfilling,
    /// Reading its history (or, after a restart, the gap since the snapshot) failed; the
    /// backend's last error, without credentials.
    Unreachable(String),
}

impl Waiting {
    /// `backfilling` or `unreachable`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Waiting::Backfilling => "backfilling",
            Waiting::Unreachable(_) => "unreachable",
        }
    }
}

/// The latest evaluation of everything, shared between the writer (scheduler) and readers (http).
#[derive(Debug, Default)]
pub struct Board {
    entries: RwLock<BTreeMap<String, Arc<Entry>>>,
    slos: RwLock<BTreeMap<String, Arc<SloStatus>>>,
    trails: RwLock<BTreeMap<String, Arc<Mutex<Trail>>>>,
    /// Configured SLOs without figures yet, by id, and why.
    waiting: RwLock<BTreeMap<String, (Arc<SloInfo>, Waiting)>>,
    /// Each SLO's alert policy, by id (the status page draws its thresholds).
    policies: RwLock<BTreeMap<String, Arc<AlertPolicy>>>,
    /// Each SLO's excluded and silenced spans around its last tick, by id (the page, the API
    /// and `/metrics` show them from here, as the runner saw them).
    spans: RwLock<BTreeMap<String, Arc<[ExclusionSpan]>>>,
    /// Each composite SLO's components as its last evaluation found them, by composite id.
    components: RwLock<BTreeMap<String, Arc<[ComponentStatus]>>>,
    /// Bumped by every change, so readers can tell a cached rendering is stale.
    version: AtomicU64,
}

impl Board {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publish (insert or replace) one instance's evaluation, and record it in its trail (which
    /// then holds only what it records: no buckets to read the past from).
    pub fn publish(&self, entry: Entry) {
        self.publish_with_buckets(entry, None);
    }

    /// [`Board::publish`], with a read-only handle on the instance's buckets (None when it has
    /// none): its trail reads the past from them when asked.
    pub fn publish_with_buckets(&self, entry: Entry, buckets: Option<&StateView>) {
        let key = entry.info.key();
        let trail = read(&self.trails).get(&key).cloned();
        let trail = match trail {
            Some(trail) => trail,
            None => Arc::clone(write(&self.trails).entry(key.clone()).or_insert_with(|| {
                Arc::new(Mutex::new(Trail::new(&entry.eval, buckets.cloned())))
            })),
        };
        lock(&trail).record(&entry.eval, &entry.alerts, buckets);
        write(&self.entries).insert(key, Arc::new(entry));
        self.changed();
    }

    /// A number that changes whenever anything on the board does (never the same twice).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// A copy of one instance's trail, by [`InstanceInfo::key`] (its buckets shared, not
    /// copied).
    pub fn trail(&self, key: &str) -> Option<Trail> {
        let trail = read(&self.trails).get(key).cloned()?;
        Some(lock(&trail).clone())
    }

    /// Bytes the board holds for one instance, by [`InstanceInfo::key`]: its entry (identity,
    /// newest evaluation, alert states), its trail and their keys, with the maps' per-entry
    /// overhead estimated at a pointer and a key per map. The instance's state behind the
    /// trail's handle is the runner's, counted by [`crate::SloState::memory_bytes`].
    pub fn memory_bytes_of(&self, key: &str) -> Option<usize> {
        let entry = self.entry(key)?;
        let trail = read(&self.trails).get(key).cloned()?;
        let trail = lock(&trail);
        let info = &entry.info;
        let labels: usize = info
            .group
            .iter()
            .map(|(name, value)| name.capacity() + value.capacity())
            .sum();
        let arc = 2 * size_of::<usize>();
        Some(
            // Two maps, each an owned key, a pointer and a share of a node.
            2 * (size_of::<String>() + key.len() + 2 * size_of::<usize>())
                + arc
                + size_of::<Entry>()
                + entry.eval.heap_bytes()
                + entry.alerts.heap_bytes()
                + arc
                + size_of::<InstanceInfo>()
                + info.group.capacity() * size_of::<(String, String)>()
                + labels
                + arc
                + size_of::<Mutex<Trail>>()
                + trail.heap_bytes(),
        )
    }

    /// Publish the per-SLO status (the SLO is no longer waiting).
    pub fn publish_slo(&self, status: SloStatus) {
        write(&self.waiting).remove(&status.info.id);
        write(&self.slos).insert(status.info.id.clone(), Arc::new(status));
        self.changed();
    }

    /// Says why the SLO `info` has no figures yet, until its first [`Board::publish_slo`]. It
    /// is not on `/metrics` (nothing is known of it), so the board's version stays.
    pub fn publish_waiting(&self, info: &Arc<SloInfo>, why: Waiting) {
        if read(&self.slos).contains_key(&info.id) {
            return;
        }
        write(&self.waiting).insert(info.id.clone(), (Arc::clone(info), why));
    }

    /// Configured SLOs without figures yet, ordered by id.
    pub fn waiting(&self) -> Vec<(Arc<SloInfo>, Waiting)> {
        read(&self.waiting).values().cloned().collect()
    }

    /// Why the SLO `id` has no figures yet, if it is waiting.
    pub fn waiting_for(&self, id: &str) -> Option<Waiting> {
        read(&self.waiting).get(id).map(|(_, why)| why.clone())
    }

    /// Publish the alert policy of the SLO `id`; it does not change what is rendered on
    /// `/metrics`, so the board's version stays.
    pub fn publish_policy(&self, id: &str, policy: Arc<AlertPolicy>) {
        write(&self.policies).insert(id.to_string(), policy);
    }

    /// The alert policy of the SLO `id`, once published.
    pub fn policy(&self, id: &str) -> Option<Arc<AlertPolicy>> {
        read(&self.policies).get(id).cloned()
    }

    /// Publish the excluded and silenced spans the SLO `id` took from its sources on its last
    /// tick, by start.
    pub fn publish_spans(&self, id: &str, spans: &[ExclusionSpan]) {
        let mut all = write(&self.spans);
        if all.get(id).is_some_and(|held| **held == *spans) {
            return;
        }
        if spans.is_empty() {
            all.remove(id);
        } else {
            all.insert(id.to_string(), spans.into());
        }
        drop(all);
        self.changed();
    }

    /// The spans of the SLO `id` as last published, by start (empty when it has none).
    pub fn spans(&self, id: &str) -> Arc<[ExclusionSpan]> {
        read(&self.spans)
            .get(id)
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// One published instance, by [`InstanceInfo::key`] (see [`instance_key`]).
    pub fn entry(&self, key: &str) -> Option<Arc<Entry>> {
        read(&self.entries).get(key).cloned()
    }

    /// Publish what the composite SLO `id` found of its components at its last evaluation.
    pub fn publish_components(&self, id: &str, components: Vec<ComponentStatus>) {
        let mut all = write(&self.components);
        if all.get(id).is_some_and(|held| **held == *components) {
            return;
        }
        all.insert(id.to_string(), components.into());
        drop(all);
        self.changed();
    }

    /// The components of the composite SLO `id` as last published; `None` for an SLO that is
    /// not a composite (or has not been evaluated yet).
    pub fn components(&self, id: &str) -> Option<Arc<[ComponentStatus]>> {
        read(&self.components).get(id).cloned()
    }

    /// Every composite's components, by composite id.
    pub fn all_components(&self) -> Vec<(String, Arc<[ComponentStatus]>)> {
        read(&self.components)
            .iter()
            .map(|(id, c)| (id.clone(), Arc::clone(c)))
            .collect()
    }

    /// Remove one instance (its group vanished or its SLO was removed).
    pub fn remove(&self, info: &InstanceInfo) {
        write(&self.entries).remove(&info.key());
        write(&self.trails).remove(&info.key());
        self.changed();
    }

    /// Remove an SLO and all its instances.
    pub fn remove_slo(&self, id: &str) {
        write(&self.slos).remove(id);
        write(&self.waiting).remove(id);
        write(&self.policies).remove(id);
        write(&self.spans).remove(id);
        write(&self.components).remove(id);
        write(&self.entries).retain(|_, entry| entry.info.slo.id != id);
        // Keys are the id, then group labels after a separator no id contains.
        write(&self.trails).retain(|key, _| key.split('\u{1f}').next() != Some(id));
        self.changed();
    }

    /// Every published instance, ordered by key.
    pub fn entries(&self) -> Vec<Arc<Entry>> {
        read(&self.entries).values().cloned().collect()
    }

    /// Every SLO status, ordered by id.
    pub fn slos(&self) -> Vec<Arc<SloStatus>> {
        read(&self.slos).values().cloned().collect()
    }
}

// A panic while holding the lock cannot leave a half-written map (inserts are single calls), so a
// poisoned lock is still consistent: recover it rather than take the daemon down.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        AlertKind, CounterTracker, Counts, DEFAULT_WINDOWS, MAX_EPISODES, Observation, SharedState,
        SloState, alert_key,
    };

    fn slo() -> Arc<SloInfo> {
        Arc::new(SloInfo {
            id: "svc-a".into(),
            service: "svc".into(),
            name: "a".into(),
            objective: crate::Objective::from_percent(99.9),
            period: Duration::from_secs(86_400),
            labels: Vec::new(),
            description: None,
            alert_name: "A".into(),
            annotations: Vec::new(),
            alert_extras: Default::default(),
        })
    }

    fn instance(a: &str, b: &str) -> Arc<InstanceInfo> {
        Arc::new(InstanceInfo {
            slo: slo(),
            group: vec![("a".into(), a.into()), ("b".into(), b.into())],
        })
    }

    #[test]
    fn label_sets_that_join_alike_stay_apart() {
        // Joined naively both read `svc-a␟a=x␟b=y␟b=z`.
        let one = instance("x\u{1f}b=y", "z");
        let two = instance("x", "y\u{1f}b=z");
        assert_ne!(one.key(), two.key());
        assert_ne!(
            alert_key(&one, AlertKind::Page),
            alert_key(&two, AlertKind::Page)
        );
        // The escape character itself cannot forge a separator either.
        assert_ne!(instance("x\\u", "z").key(), instance("x\u{1f}", "z").key());

        let board = Board::new();
        let eval = SloState::counted(0.999, Duration::from_secs(86_400), &[]).evaluate(60_000);
        for info in [&one, &two] {
            board.publish(Entry {
                info: Arc::clone(info),
                eval: eval.clone(),
                alerts: Alerts::new(),
            });
        }
        assert_eq!(board.entries().len(), 2, "two series, two instances");
        assert!(board.trail(&one.key()).is_some() && board.trail(&two.key()).is_some());
    }

    /// Everything one instance holds, with the default windows and a 30-day period, its trail's
    /// episodes full: the runner's state, alert states and counter trackers, and the board's
    /// entry and trail. The figure docs/scaling.md and docs/benchmarks.md quote
    /// (`cargo test -p burnwatch-engine --lib fits_in -- --nocapture`).
    #[test]
    fn everything_an_instance_holds_fits_in_32_kib() {
        const H: i64 = 3_600_000;
        const T0: i64 = 19_700 * 86_400_000;
        let period = Duration::from_secs(30 * 86_400);
        let mut info = (*slo()).clone();
        info.period = period;
        let info = Arc::new(InstanceInfo {
            slo: Arc::new(info),
            group: vec![("route".into(), "/checkout/pay".into())],
        });
        let state = SharedState::new(SloState::counted(0.999, period, &DEFAULT_WINDOWS));
        let policy = AlertPolicy::sre_workbook(period);
        let mut alerts = Alerts::new();
        let board = Board::new();
        // 35 days of hourly ticks with an hour of 20% errors every 12 hours: the page fires
        // and resolves 70 times, more episodes than a trail keeps.
        for hour in 1..=35 * 24 {
            let end = T0 + hour * H;
            let errors = if hour % 12 == 0 { 12_000.0 } else { 30.0 };
            let eval = {
                let mut state = state.lock();
                state.observe(Observation::Events {
                    start: end - H,
                    end,
                    counts: Counts {
                        errors,
                        total: 60_000.0,
                    },
                });
                state.evaluate(end)
            };
            alerts.eval(&policy, &eval);
            let entry = Entry {
                info: Arc::clone(&info),
                eval,
                alerts: alerts.clone(),
            };
            board.publish_with_buckets(entry, state.buckets().as_ref());
        }
        let key = info.key();
        assert_eq!(board.trail(&key).unwrap().episodes().count(), MAX_EPISODES);
        // The runner's side: the state and its lock, the instance (identity, state handle,
        // alert states) under its group key, and the trackers of two series per role (errors
        // and total), each series a map slot.
        let engine = state.lock().memory_bytes() + SharedState::overhead_bytes();
        let group_key = size_of::<Vec<String>>() + size_of::<String>() + "/checkout/pay".len();
        let runner = size_of::<Arc<InstanceInfo>>()
            + size_of::<SharedState>()
            + size_of::<Alerts>()
            + alerts.heap_bytes()
            + group_key
            + 2 * size_of::<usize>();
        let mut tracker = CounterTracker::default();
        for series in 0..2 {
            tracker.ingest(series, &[(T0, 1.0)]);
        }
        let trackers = 2 * tracker.heap_bytes();
        let on_board = board.memory_bytes_of(&key).unwrap();
        let trail = board.trail(&key).unwrap().heap_bytes() + size_of::<Trail>();
        let total = engine + runner + trackers + on_board;
        eprintln!(
            "per instance: engine state {engine}, runner {runner}, counter trackers {trackers}, \
             board {on_board} (trail {trail}): {total} bytes"
        );
        assert!(trail <= 4 * 1024, "trail {trail} bytes");
        assert!(total <= 32 * 1024, "{total} bytes");
    }

    #[test]
    fn ordinary_keys_are_unchanged_and_every_change_bumps_the_version() {
        let info = instance("eu-1", "GET /a");
        assert_eq!(info.key(), "svc-a\u{1f}a=eu-1\u{1f}b=GET /a");
        let board = Board::new();
        let before = board.version();
        let eval = SloState::counted(0.999, Duration::from_secs(86_400), &[]).evaluate(60_000);
        board.publish(Entry {
            info: Arc::clone(&info),
            eval,
            alerts: Alerts::new(),
        });
        let published = board.version();
        assert_ne!(published, before);
        board.remove_slo("svc-a");
        assert_ne!(board.version(), published);
        assert!(board.entries().is_empty());
    }

    #[test]
    fn an_slo_waits_until_its_first_status_and_not_after() {
        let board = Board::new();
        let info = slo();
        let version = board.version();
        board.publish_waiting(&info, Waiting::Backfilling);
        assert_eq!(board.waiting_for(&info.id), Some(Waiting::Backfilling));
        let failing = Waiting::Unreachable("transport error: connection refused".into());
        board.publish_waiting(&info, failing.clone());
        assert_eq!(board.waiting().len(), 1);
        assert_eq!(board.waiting_for(&info.id), Some(failing));
        assert_eq!(board.version(), version, "nothing new on /metrics");

        board.publish_slo(SloStatus::unknown(Arc::clone(&info)));
        assert_eq!(board.waiting_for(&info.id), None);
        board.publish_waiting(&info, Waiting::Backfilling);
        assert!(
            board.waiting().is_empty(),
            "a published SLO never waits again"
        );

        board.remove_slo(&info.id);
        board.publish_waiting(&info, Waiting::Backfilling);
        board.remove_slo(&info.id);
        assert!(board.waiting().is_empty());
    }
}
