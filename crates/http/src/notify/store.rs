//! The notifier's state on disk: `<data-dir>/notifications.json`, one versioned JSON file holding,
//! per receiver, the notifications not yet done with and the alerts it was told about.
//!
//! Replaced atomically through `burnwatch_store::StateFile`, as the engine's snapshot is (write a
//! temporary file, fsync, rename, fsync the directory), so a kill at any moment leaves the previous or the new file, never a torn
//! one. A file that cannot be read, does not parse or has another version is moved aside
//! (`notifications.json.bad-<unix ms>`) with a warning and the notifier starts empty: never a
//! crash. A single record that does not parse (a figure serde cannot read back) is dropped with
//! a warning; the rest of the file still counts.
//!
//! The engine's [`InstanceInfo`] and [`SloInfo`] are not serialisable, so a notification is
//! stored with its instance spelled out ([`StoredNotification`]); the evaluation and policy are
//! the engine's own serde types.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    AlertKind, AlertPolicy, AlertStatus, Evaluation, InstanceInfo, Millis, Notification, SloInfo,
};
use burnwatch_store::StateFile;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The file name inside the data directory.
pub const STATE_FILE: &str = "notifications.json";
/// The format's version; a file with another one is set aside.
pub const STATE_VERSION: u32 = 1;

/// What a receiver was told about one alert.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sent {
    /// The newest notification of the alert (figures for the next repeat); `fired_at` is the
    /// start of the episode the receiver knows.
    pub notification: Notification,
    /// When it was last sent (or tried), unix ms; the next repeat is due `repeat_interval` later.
    pub sent_at: Millis,
    /// Whether any delivery of it was accepted.
    pub delivered: bool,
    /// Resolved alerts: re-sent until then (Alertmanager); None: not re-sent.
    pub resend_until: Option<Millis>,
    /// Resolved alerts: remembered until then (so a second resolve of it is not sent again).
    pub forget_at: Option<Millis>,
}

/// One receiver's part of the journal.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReceiverState {
    /// Handed to the receiver's queue and not done with, by queue order.
    pub pending: BTreeMap<u64, Notification>,
    /// Firing alerts the receiver was told about, by dedup key.
    pub firing: BTreeMap<String, Sent>,
    /// Resolved alerts still remembered, by dedup key.
    pub resolved: BTreeMap<String, Sent>,
}

impl ReceiverState {
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.firing.is_empty() && self.resolved.is_empty()
    }
}

/// A notification as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredNotification {
    slo: StoredSlo,
    group: Vec<(String, String)>,
    kind: AlertKind,
    status: AlertStatus,
    fired_at: Millis,
    at: Millis,
    eval: Evaluation,
    policy: AlertPolicy,
}

/// [`SloInfo`], field for field.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSlo {
    id: String,
    service: String,
    name: String,
    objective: f64,
    objective_percent: f64,
    period: Duration,
    labels: Vec<(String, String)>,
    description: Option<String>,
    alert_name: String,
    annotations: Vec<(String, String)>,
    /// Absent in files written before per-severity alert labels existed.
    #[serde(default)]
    alert_extras: burnwatch_engine::AlertExtras,
}

impl StoredNotification {
    fn from_notification(n: &Notification) -> StoredNotification {
        let slo = &n.instance.slo;
        StoredNotification {
            slo: StoredSlo {
                id: slo.id.clone(),
                service: slo.service.clone(),
                name: slo.name.clone(),
                objective: slo.objective.ratio(),
                objective_percent: slo.objective.percent(),
                period: slo.period,
                labels: slo.labels.clone(),
                description: slo.description.clone(),
                alert_name: slo.alert_name.clone(),
                annotations: slo.annotations.clone(),
                alert_extras: slo.alert_extras.clone(),
            },
            group: n.instance.group.clone(),
            kind: n.kind,
            status: n.status,
            fired_at: n.fired_at,
            at: n.at,
            eval: n.eval.clone(),
            policy: (*n.policy).clone(),
        }
    }

    fn into_notification(self) -> Notification {
        let slo = self.slo;
        Notification {
            instance: Arc::new(InstanceInfo {
                slo: Arc::new(SloInfo {
                    id: slo.id,
                    service: slo.service,
                    name: slo.name,
                    objective: burnwatch_engine::Objective::from_percent(slo.objective_percent),
                    period: slo.period,
                    labels: slo.labels,
                    description: slo.description,
                    alert_name: slo.alert_name,
                    annotations: slo.annotations,
                    alert_extras: slo.alert_extras,
                }),
                group: self.group,
            }),
            kind: self.kind,
            status: self.status,
            fired_at: self.fired_at,
            at: self.at,
            eval: self.eval,
            policy: Arc::new(self.policy),
        }
    }
}

/// A notification waiting for delivery.
#[derive(Debug, Serialize, Deserialize)]
struct StoredPending {
    /// Its place in the receiver's queue.
    id: u64,
    notification: StoredNotification,
}

/// An alert a receiver was told about (see [`Sent`]).
#[derive(Debug, Serialize, Deserialize)]
struct StoredAlert {
    notification: StoredNotification,
    sent_at: Millis,
    delivered: bool,
    #[serde(default)]
    resend_until: Option<Millis>,
    #[serde(default)]
    forget_at: Option<Millis>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    version: u32,
    written_at: Millis,
    receivers: BTreeMap<&'a str, ReceiverOut>,
}

#[derive(Serialize)]
struct ReceiverOut {
    pending: Vec<StoredPending>,
    firing: Vec<StoredAlert>,
    resolved: Vec<StoredAlert>,
}

/// The file as read: records stay JSON until each is parsed on its own.
#[derive(Deserialize)]
struct FileIn {
    version: u32,
    receivers: BTreeMap<String, ReceiverIn>,
}

#[derive(Deserialize)]
struct ReceiverIn {
    #[serde(default)]
    pending: Vec<Value>,
    #[serde(default)]
    firing: Vec<Value>,
    #[serde(default)]
    resolved: Vec<Value>,
}

/// `state` as the file's JSON.
pub(crate) fn encode(state: &BTreeMap<String, ReceiverState>, now: Millis) -> Vec<u8> {
    let alerts = |map: &BTreeMap<String, Sent>| {
        map.values()
            .map(|sent| StoredAlert {
                notification: StoredNotification::from_notification(&sent.notification),
                sent_at: sent.sent_at,
                delivered: sent.delivered,
                resend_until: sent.resend_until,
                forget_at: sent.forget_at,
            })
            .collect()
    };
    let file = FileOut {
        version: STATE_VERSION,
        written_at: now,
        receivers: state
            .iter()
            .map(|(name, r)| {
                let out = ReceiverOut {
                    pending: r
                        .pending
                        .iter()
                        .map(|(&id, n)| StoredPending {
                            id,
                            notification: StoredNotification::from_notification(n),
                        })
                        .collect(),
                    firing: alerts(&r.firing),
                    resolved: alerts(&r.resolved),
                };
                (name.as_str(), out)
            })
            .collect(),
    };
    // Plain data with string keys: serialising it cannot fail.
    serde_json::to_vec(&file).unwrap_or_default()
}

/// The state in `bytes` (a file of this version, checked by [`StateFile`]), and how many records
/// were unreadable; Err says why the whole file is unusable.
pub(crate) fn decode(bytes: &[u8]) -> Result<(BTreeMap<String, ReceiverState>, usize), String> {
    let file: FileIn =
        serde_json::from_slice(bytes).map_err(|err| format!("is corrupt ({err})"))?;
    debug_assert_eq!(file.version, STATE_VERSION);
    let mut unreadable = 0;
    let mut state = BTreeMap::new();
    for (name, raw) in file.receivers {
        let mut receiver = ReceiverState::default();
        for value in raw.pending {
            match serde_json::from_value::<StoredPending>(value) {
                Ok(p) => {
                    receiver
                        .pending
                        .insert(p.id, p.notification.into_notification());
                }
                Err(_) => unreadable += 1,
            }
        }
        for (values, map) in [
            (raw.firing, &mut receiver.firing),
            (raw.resolved, &mut receiver.resolved),
        ] {
            for value in values {
                match serde_json::from_value::<StoredAlert>(value) {
                    Ok(a) => {
                        let notification = a.notification.into_notification();
                        map.insert(
                            notification.dedup_key(),
                            Sent {
                                notification,
                                sent_at: a.sent_at,
                                delivered: a.delivered,
                                resend_until: a.resend_until,
                                forget_at: a.forget_at,
                            },
                        );
                    }
                    Err(_) => unreadable += 1,
                }
            }
        }
        state.insert(name, receiver);
    }
    Ok((state, unreadable))
}

/// The state file in a data directory (a [`StateFile`]: atomic replace, set-aside).
#[derive(Debug, Clone)]
pub(crate) struct Store {
    file: StateFile,
}

impl Store {
    pub(crate) fn new(data_dir: &Path) -> Store {
        Store {
            file: StateFile::new(
                data_dir,
                STATE_FILE,
                STATE_VERSION,
                "the notification state",
                "pending notifications and repeat timers of the previous run are lost",
            ),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.file.path()
    }

    /// What the file holds; empty when it is missing, and when it is unreadable, corrupt or of
    /// another version (then it is moved aside with a warning).
    pub(crate) fn load(&self, now: Millis) -> BTreeMap<String, ReceiverState> {
        let Some((state, unreadable)) = self.file.load(now, decode) else {
            return BTreeMap::new();
        };
        if unreadable > 0 {
            tracing::warn!(
                file = %self.path().display(),
                unreadable,
                "some records of the notification state cannot be read; they are dropped"
            );
        }
        state
    }

    /// Replaces the file with `bytes`: temporary file, fsync, rename, fsync of the directory.
    pub(crate) fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};

    fn state() -> BTreeMap<String, ReceiverState> {
        let firing = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let resolved = notification(
            AlertKind::Ticket,
            AlertStatus::Resolved,
            Figures::fast_burn(),
        );
        let mut pager = ReceiverState::default();
        pager.pending.insert(7, resolved.clone());
        pager.firing.insert(
            firing.dedup_key(),
            Sent {
                notification: firing,
                sent_at: 1_700_000_001_000,
                delivered: true,
                resend_until: None,
                forget_at: None,
            },
        );
        pager.resolved.insert(
            resolved.dedup_key(),
            Sent {
                notification: resolved,
                sent_at: 1_700_000_002_000,
                delivered: false,
                resend_until: Some(1_700_000_900_000),
                forget_at: Some(1_700_086_400_000),
            },
        );
        BTreeMap::from([("pager".to_string(), pager)])
    }

    #[test]
    fn state_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let before = state();
        store.write(&encode(&before, 1)).unwrap();
        let after = store.load(2);
        assert_eq!(after, before);
        // The instance identity survives: the dedup key PagerDuty knows the incident by.
        let sent = after["pager"].firing.values().next().unwrap();
        assert_eq!(
            sent.notification.instance.slo.alert_name,
            "CheckoutBudgetBurn"
        );
        assert!(!dir.path().join("notifications.json.tmp").exists());
    }

    #[test]
    fn a_missing_file_is_an_empty_start() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Store::new(dir.path()).load(1).is_empty());
    }

    #[test]
    fn corrupt_and_foreign_files_are_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let good = encode(&state(), 1);
        let cases: [(&str, Vec<u8>); 3] = [
            ("torn", good[..good.len() / 2].to_vec()),
            (
                "foreign version",
                br#"{"version":99,"receivers":{}}"#.to_vec(),
            ),
            ("not ours", b"\x00\x01garbage".to_vec()),
        ];
        for (i, (what, bytes)) in cases.into_iter().enumerate() {
            std::fs::write(store.path(), bytes).unwrap();
            let now = 1_000 + i as Millis;
            assert!(store.load(now).is_empty(), "{what}");
            assert!(!store.path().exists(), "{what}: still in place");
            let aside = dir.path().join(format!("notifications.json.bad-{now}"));
            assert!(aside.exists(), "{what}: not set aside");
        }
    }

    #[test]
    fn an_unreadable_record_drops_only_itself() {
        let mut value: Value = serde_json::from_slice(&encode(&state(), 1)).unwrap();
        // serde_json writes a non-finite figure as null, which does not read back as f64.
        value["receivers"]["pager"]["firing"][0]["notification"]["eval"]["objective"] = Value::Null;
        let (state, unreadable) = decode(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!(unreadable, 1);
        assert!(state["pager"].firing.is_empty());
        assert_eq!(state["pager"].pending.len(), 1);
        assert_eq!(state["pager"].resolved.len(), 1);
    }
}
