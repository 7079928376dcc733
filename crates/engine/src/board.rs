//! The board: the latest published evaluation of every SLO instance, and its [`Trail`].
//!
//! The scheduler writes one entry per instance after each tick; the HTTP side reads a consistent
//! snapshot per scrape or request. Publishing also records the evaluation in the instance's
//! trail (a bounded history for charts and the history API), so every writer keeps one. It is plain in-memory data behind a `std` lock (no tokio), so
//! live, replay and tests can all use it; readers clone `Arc`s under the lock and encode outside it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::{Alerts, DataState, Evaluation, Trail};

/// Identity of one SLO (before grouping).
#[derive(Debug, Clone, PartialEq)]
pub struct SloInfo {
    /// Sloth's `sloth_id`: `<service>-<name>`.
    pub id: String,
    /// `sloth_service`.
    pub service: String,
    /// `sloth_slo`.
    pub name: String,
    /// Objective as a ratio, e.g. 0.999.
    pub objective: f64,
    /// Objective in percent as configured, e.g. 99.9.
    pub objective_percent: f64,
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
    /// A key unique across all instances: the SLO id plus the group label values.
    pub fn key(&self) -> String {
        let mut key = self.slo.id.clone();
        for (name, value) in &self.group {
            key.push('\u{1f}');
            key.push_str(name);
            key.push('=');
            key.push_str(value);
        }
        key
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

/// The latest evaluation of everything, shared between the writer (scheduler) and readers (http).
#[derive(Debug, Default)]
pub struct Board {
    entries: RwLock<BTreeMap<String, Arc<Entry>>>,
    slos: RwLock<BTreeMap<String, Arc<SloStatus>>>,
    trails: RwLock<BTreeMap<String, Arc<Mutex<Trail>>>>,
}

impl Board {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publish (insert or replace) one instance's evaluation, and record it in its trail.
    pub fn publish(&self, entry: Entry) {
        let key = entry.info.key();
        let trail = read(&self.trails).get(&key).cloned();
        let trail = trail.unwrap_or_else(|| {
            Arc::clone(
                write(&self.trails)
                    .entry(key.clone())
                    .or_insert_with(|| Arc::new(Mutex::new(Trail::new(&entry.eval)))),
            )
        });
        lock(&trail).record(&entry.eval, &entry.alerts);
        write(&self.entries).insert(key, Arc::new(entry));
    }

    /// A copy of one instance's trail, by [`InstanceInfo::key`].
    pub fn trail(&self, key: &str) -> Option<Trail> {
        let trail = read(&self.trails).get(key).cloned()?;
        Some(lock(&trail).clone())
    }

    /// Publish the per-SLO status.
    pub fn publish_slo(&self, status: SloStatus) {
        write(&self.slos).insert(status.info.id.clone(), Arc::new(status));
    }

    /// Remove one instance (its group vanished or its SLO was removed).
    pub fn remove(&self, info: &InstanceInfo) {
        write(&self.entries).remove(&info.key());
        write(&self.trails).remove(&info.key());
    }

    /// Remove an SLO and all its instances.
    pub fn remove_slo(&self, id: &str) {
        write(&self.slos).remove(id);
        write(&self.entries).retain(|_, entry| entry.info.slo.id != id);
        // Keys are the id, then group labels after a separator no id contains.
        write(&self.trails).retain(|key, _| key.split('\u{1f}').next() != Some(id));
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
