//! What the notifier must not forget across a restart: per receiver, the notifications handed
//! over but not yet done with (queued, in flight, in retry), and the alerts it was told about
//! with when they were last sent (the repeat timers run from there).
//!
//! The dispatcher adds pending notifications, each worker finishes them and records its alerts;
//! one writer task puts the whole journal into `<data-dir>/notifications.json` ([`Store`]) soon
//! after every change. Writes are coalesced, not delayed: a write starts as soon as the previous
//! one is done and a short pause has passed (at least [`MIN_WRITE_GAP`], and four times as long
//! as the last write took, so the writer spends at most a fifth of its time writing even in an
//! alert storm). A longer debounce would widen the moment in which a kill loses the record of a
//! delivery that was made, which is then made again after the restart.
//!
//! Times are wall-clock milliseconds, so they mean the same to the next process. Without a data
//! directory the journal keeps nothing and writes nothing.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use burnwatch_engine::Notification;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::clock::Clock;
pub(crate) use super::store::{ReceiverState, Sent};
use super::store::{Store, encode};

/// The shortest pause between two writes of the state file.
pub(crate) const MIN_WRITE_GAP: Duration = Duration::from_millis(10);
/// The longest pause between two writes of the state file.
pub(crate) const MAX_WRITE_GAP: Duration = Duration::from_secs(1);

/// The notifier's memory, shared by the dispatcher, the workers and the writer.
pub(crate) struct Journal {
    store: Option<Store>,
    clock: Clock,
    inner: Mutex<Inner>,
    changed: Notify,
}

struct Inner {
    receivers: BTreeMap<String, ReceiverState>,
    next_id: u64,
    /// Bumped on every change.
    generation: u64,
    /// The generation the file holds.
    written: u64,
    /// The last write failed (logged once until a write succeeds again).
    failing: bool,
}

impl Journal {
    /// A journal that persists nothing (no data directory).
    pub(crate) fn in_memory(clock: Clock) -> Journal {
        Journal::with(None, clock, BTreeMap::new())
    }

    /// The journal of `store`: what the file holds for the receivers in `receivers` (state of
    /// receivers no longer configured is dropped with a warning, resolved alerts past their
    /// memory are forgotten). Returns it with that state, for the workers to resume from.
    pub(crate) fn open(
        store: Store,
        receivers: &[String],
        clock: Clock,
    ) -> (Journal, BTreeMap<String, ReceiverState>) {
        let now = clock.now();
        // One small file, once, before anything is delivered: read in place (and its warnings
        // logged from the caller's task).
        let mut state = store.load(now);
        state.retain(|name, r| {
            let keep = receivers.contains(name);
            if !keep && !r.is_empty() {
                tracing::warn!(
                    receiver = %name,
                    pending = r.pending.len(),
                    firing = r.firing.len(),
                    "the notification state names a receiver that is no longer configured; its \
                     pending notifications are dropped"
                );
            }
            keep
        });
        for r in state.values_mut() {
            r.resolved
                .retain(|_, s| s.forget_at.is_none_or(|forget| forget > now));
        }
        tracing::info!(
            file = %store.path().display(),
            pending = state.values().map(|r| r.pending.len()).sum::<usize>(),
            firing = state.values().map(|r| r.firing.len()).sum::<usize>(),
            resolved = state.values().map(|r| r.resolved.len()).sum::<usize>(),
            "notification state loaded"
        );
        let journal = Journal::with(Some(store), clock, state.clone());
        (journal, state)
    }

    fn with(
        store: Option<Store>,
        clock: Clock,
        receivers: BTreeMap<String, ReceiverState>,
    ) -> Journal {
        let next_id = receivers
            .values()
            .filter_map(|r| r.pending.keys().next_back())
            .max()
            .map_or(0, |id| id + 1);
        Journal {
            store,
            clock,
            inner: Mutex::new(Inner {
                receivers,
                next_id,
                // The loaded state is written back once at start: the file then matches what
                // this process holds (receivers dropped, memories expired).
                generation: 1,
                written: 0,
                failing: false,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether anything is kept (there is a data directory).
    fn persistent(&self) -> bool {
        self.store.is_some()
    }

    fn changed(&self, inner: &mut Inner) {
        inner.generation += 1;
        self.changed.notify_one();
    }

    /// `n` joins `receiver`'s queue; returns its place.
    pub(crate) fn enqueue(&self, receiver: &str, n: &Notification) -> u64 {
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        if self.persistent() {
            inner
                .receivers
                .entry(receiver.to_string())
                .or_default()
                .pending
                .insert(id, n.clone());
            self.changed(&mut inner);
        }
        id
    }

    /// The notification `id` did not make it into the queue (full): forget it.
    pub(crate) fn discard(&self, receiver: &str, id: u64) {
        self.change(receiver, |state| {
            state.pending.remove(&id);
        });
    }

    /// `receiver` is done with `done` (delivered, given up or not needed) and its alerts are now
    /// `firing` and `resolved`: one change, so the file never shows one without the other.
    pub(crate) fn record(
        &self,
        receiver: &str,
        done: Option<u64>,
        firing: &BTreeMap<String, Sent>,
        resolved: &BTreeMap<String, Sent>,
    ) {
        self.change(receiver, |state| {
            if let Some(id) = done {
                state.pending.remove(&id);
            }
            state.firing.clone_from(firing);
            state.resolved.clone_from(resolved);
        });
    }

    fn change(&self, receiver: &str, update: impl FnOnce(&mut ReceiverState)) {
        if !self.persistent() {
            return;
        }
        let mut inner = self.lock();
        let state = inner.receivers.entry(receiver.to_string()).or_default();
        update(state);
        if state.is_empty() {
            inner.receivers.remove(receiver);
        }
        self.changed(&mut inner);
    }

    /// Writes the journal if it changed since the last write; returns how long that took.
    pub(crate) async fn save(&self) -> Duration {
        let Some(store) = self.store.clone() else {
            return Duration::ZERO;
        };
        let (generation, receivers) = {
            let inner = self.lock();
            if inner.generation == inner.written {
                return Duration::ZERO;
            }
            (inner.generation, inner.receivers.clone())
        };
        let now = self.clock.now();
        let started = std::time::Instant::now();
        let path = store.path().display().to_string();
        let written =
            tokio::task::spawn_blocking(move || store.write(&encode(&receivers, now))).await;
        let took = started.elapsed();
        let mut inner = self.lock();
        match written {
            Ok(Ok(())) => {
                inner.written = inner.written.max(generation);
                if std::mem::take(&mut inner.failing) {
                    tracing::info!(file = %path, "notification state written again");
                }
            }
            Ok(Err(err)) => {
                if !std::mem::replace(&mut inner.failing, true) {
                    tracing::warn!(
                        file = %path,
                        error = %err,
                        "cannot write the notification state; retrying on the next change (a \
                         restart now would lose what changed since the last write)"
                    );
                }
            }
            Err(err) => tracing::warn!(error = %err, "notification state write task failed"),
        }
        took
    }

    /// Writes soon after every change until `stop`, then once more.
    pub(crate) async fn write_on_change(&self, stop: CancellationToken) {
        if !self.persistent() {
            return;
        }
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                () = self.changed.notified() => {}
            }
            let took = self.save().await;
            let gap = (took * 4).clamp(MIN_WRITE_GAP, MAX_WRITE_GAP);
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                () = tokio::time::sleep(gap) => {}
            }
        }
        self.save().await;
    }

    /// The journal's current content (tests).
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> BTreeMap<String, ReceiverState> {
        self.lock().receivers.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::Millis;
    use burnwatch_engine::{AlertKind, AlertStatus};

    #[tokio::test(start_paused = true)]
    async fn pending_notifications_are_written_until_done_and_ids_continue_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["pager".to_string()];
        let clock = Clock::start();
        let (journal, loaded) = Journal::open(Store::new(dir.path()), &names, clock);
        assert!(loaded.is_empty());
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let first = journal.enqueue("pager", &n);
        let second = journal.enqueue("pager", &n);
        journal.record("pager", Some(first), &BTreeMap::new(), &BTreeMap::new());
        journal.save().await;

        let (again, loaded) = Journal::open(Store::new(dir.path()), &names, clock);
        assert_eq!(
            loaded["pager"].pending.keys().copied().collect::<Vec<_>>(),
            [second]
        );
        assert!(again.enqueue("pager", &n) > second);
    }

    #[tokio::test(start_paused = true)]
    async fn receivers_no_longer_configured_and_expired_memories_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::start();
        let n = notification(AlertKind::Page, AlertStatus::Resolved, Figures::fast_burn());
        let ticket = notification(
            AlertKind::Ticket,
            AlertStatus::Resolved,
            Figures::fast_burn(),
        );
        let now = clock.now();
        let old = |n: &Notification, forget_at: Millis| Sent {
            notification: n.clone(),
            sent_at: now - 1_000,
            delivered: true,
            resend_until: None,
            forget_at: Some(forget_at),
        };
        let mut chat = ReceiverState::default();
        chat.resolved
            .insert(ticket.dedup_key(), old(&ticket, now - 1));
        chat.resolved.insert(n.dedup_key(), old(&n, now + 60_000));
        let mut gone = ReceiverState::default();
        gone.pending.insert(3, n.clone());
        let state = BTreeMap::from([("chat".to_string(), chat), ("gone".to_string(), gone)]);
        Store::new(dir.path()).write(&encode(&state, now)).unwrap();

        let (journal, loaded) = Journal::open(Store::new(dir.path()), &["chat".to_string()], clock);
        assert_eq!(loaded.keys().collect::<Vec<_>>(), ["chat"]);
        assert_eq!(
            loaded["chat"].resolved.keys().collect::<Vec<_>>(),
            [&n.dedup_key()]
        );
        // The start-up write leaves the file as this process sees it.
        journal.save().await;
        let on_disk = Store::new(dir.path()).load(now);
        assert_eq!(on_disk, journal.snapshot());
        assert_eq!(on_disk, loaded);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_data_directory_nothing_is_kept() {
        let journal = Journal::in_memory(Clock::start());
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let a = journal.enqueue("pager", &n);
        assert_eq!(journal.enqueue("pager", &n), a + 1);
        assert!(journal.snapshot().is_empty());
        assert_eq!(journal.save().await, Duration::ZERO);
    }
}
