//! One receiver's worker: it takes notifications from the receiver's bounded queue in order,
//! delivers them one at a time, and remembers what still fires to repeat it.
//!
//! - Firing: delivered at once, then re-sent every `repeat_interval` while it fires. A firing
//!   notification for an alert the receiver already accepted as firing (same `dedup_key`) only
//!   refreshes the figures the next repeat shows, unless that delivery failed: the receiver's
//!   incident is open, and a second trigger or Slack message would be noise. Its `fired_at`
//!   stays the one the receiver knows, even when the engine started the episode again (after
//!   a restart from an older snapshot, or a reload that reset the SLO).
//! - Resolved: delivered when `send_resolved`, and remembered for a day, so that the same
//!   resolve coming again (the engine re-evaluating after a restart) is not sent twice.
//! - Alertmanager: every firing alert is re-sent each minute (all of them in one request, with
//!   a fresh `endsAt`), resolved ones for 15 minutes after resolution; `send_resolved` does not
//!   apply (Alertmanager needs the `endsAt`).
//!
//! Everything the worker knows is in wall-clock time and recorded in the [`Journal`] after each
//! change, so a restarted worker resumes where this one stopped: repeats fall due
//! `repeat_interval` after the last send, not after the restart. The worker first works off the
//! notifications the previous process left pending, then its queue; it ends when its queue is
//! closed and empty (the dispatcher bounds how long it waits).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    AlertKind, AlertState, AlertStatus, Board, DataState, Entry, Millis, Notification,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::clock::Clock;
use super::delivery::{Context, Pacer, RetryPolicy, Transport, deliver};
use super::journal::{Journal, ReceiverState, Sent};
use super::metrics::{NotifyMetrics, Outcome};
use super::receiver::{Receiver, Settings};

/// How often inherited firing alerts are compared with the engine's board.
pub(crate) const RECONCILE_EVERY: Duration = Duration::from_secs(1);
/// How long a resolved alert is remembered, so that a repeated resolve is not sent again.
pub(crate) const RESOLVED_MEMORY: Duration = Duration::from_secs(24 * 3_600);

/// A notification waiting in a queue: its place in the [`Journal`], and when it was handed
/// over (for the latency metric).
#[derive(Debug)]
pub(crate) struct Queued {
    pub id: u64,
    pub notification: Notification,
    pub since: Instant,
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// The worker of one receiver.
pub(crate) struct Worker<T> {
    name: String,
    channel: Box<dyn Receiver>,
    transport: T,
    settings: Settings,
    policy: RetryPolicy,
    metrics: Arc<NotifyMetrics>,
    clock: Clock,
    pacer: Pacer,
    journal: Arc<Journal>,
    firing: BTreeMap<String, Sent>,
    resolved: BTreeMap<String, Sent>,
    /// The engine's latest evaluations, to reconcile `inherited` with.
    board: Option<Arc<Board>>,
    /// Firing alerts loaded from the previous run that this run's engine has not spoken about.
    inherited: BTreeSet<String>,
}

impl<T: Transport> Worker<T> {
    pub(crate) fn new(
        name: String,
        channel: Box<dyn Receiver>,
        transport: T,
        settings: Settings,
        metrics: Arc<NotifyMetrics>,
        clock: Clock,
        journal: Arc<Journal>,
    ) -> Worker<T> {
        Worker {
            name,
            channel,
            transport,
            settings,
            policy: RetryPolicy::DEFAULT,
            metrics,
            clock,
            pacer: Pacer::new(settings.gap),
            journal,
            firing: BTreeMap::new(),
            resolved: BTreeMap::new(),
            board: None,
            inherited: BTreeSet::new(),
        }
    }

    /// Resumes from what the previous process recorded: its alerts (and their repeat timers)
    /// now; its pending notifications are returned, in queue order, for [`Worker::run`].
    ///
    /// With the engine's `board`, the firing alerts are checked against this run's evaluation
    /// until the engine has spoken about each: one the board shows inactive with evidence (its
    /// condition false) is resolved. The engine resolves alerts that ended while the daemon was
    /// down by itself when it restores them from its snapshot; this covers an engine that
    /// started without them (snapshot older than the alert, set aside, or the SLO changed).
    pub(crate) fn resume(
        &mut self,
        state: ReceiverState,
        board: Option<Arc<Board>>,
    ) -> Vec<Queued> {
        self.inherited = match board {
            Some(_) => state.firing.keys().cloned().collect(),
            None => BTreeSet::new(),
        };
        self.board = board;
        self.firing = state.firing;
        self.resolved = state.resolved;
        let since = Instant::now();
        state
            .pending
            .into_iter()
            .map(|(id, notification)| Queued {
                id,
                notification,
                since,
            })
            .collect()
    }

    /// Deliver `backlog`, then from `queue`, and repeat until the queue is closed and empty.
    /// Every item counts as queued until the worker takes it.
    pub(crate) async fn run(mut self, backlog: Vec<Queued>, mut queue: mpsc::Receiver<Queued>) {
        for item in backlog {
            self.metrics.dequeued(&self.name);
            self.accept(item).await;
        }
        let mut reconcile_at = Instant::now() + RECONCILE_EVERY;
        loop {
            let due = self.next_due().map(|at| self.clock.instant_at(at));
            let reconcile = (!self.inherited.is_empty()).then_some(reconcile_at);
            tokio::select! {
                // New notifications first: a resolve must not wait behind a batch of repeats.
                biased;
                item = queue.recv() => match item {
                    Some(item) => {
                        self.metrics.dequeued(&self.name);
                        self.accept(item).await;
                    }
                    None => break,
                },
                () = sleep_until(due) => self.repeat_due().await,
                () = sleep_until(reconcile) => {
                    self.reconcile().await;
                    reconcile_at = Instant::now() + RECONCILE_EVERY;
                }
            }
        }
    }

    async fn accept(&mut self, item: Queued) {
        self.handle(item.notification, item.since).await;
        self.persist(item.id);
    }

    /// Sends (or not) one notification and updates what the receiver was told.
    async fn handle(&mut self, mut n: Notification, since: Instant) {
        let key = n.dedup_key();
        self.forget_expired(self.clock.now());
        // This run's engine has spoken about the alert: it is no longer only inherited.
        self.inherited.remove(&key);
        match n.status {
            AlertStatus::Firing => {
                self.resolved.remove(&key);
                if let Some(sent) = self.firing.get_mut(&key)
                    && sent.delivered
                {
                    if sent.notification.fired_at != n.fired_at {
                        tracing::info!(
                            receiver = %self.name,
                            alert = %key,
                            "the alert is already firing at the receiver; not sent again"
                        );
                        n.fired_at = sent.notification.fired_at;
                    }
                    sent.notification = n;
                    return;
                }
                let delivered = self.send(std::slice::from_ref(&n), since).await;
                self.firing.insert(
                    key,
                    Sent {
                        notification: n,
                        sent_at: self.clock.now(),
                        delivered,
                        resend_until: None,
                        forget_at: None,
                    },
                );
            }
            AlertStatus::Resolved => {
                match self.firing.remove(&key) {
                    // The receiver knows the episode by the start it was told.
                    Some(sent) => n.fired_at = sent.notification.fired_at,
                    None if self.resolved.get(&key).is_some_and(|s| s.delivered) => {
                        tracing::debug!(receiver = %self.name, alert = %key, "already resolved at the receiver; not sent again");
                        return;
                    }
                    None => {}
                }
                if !self.settings.send_resolved {
                    tracing::debug!(receiver = %self.name, alert = %key, "resolved not sent (send_resolved = false)");
                    return;
                }
                let delivered = self.send(std::slice::from_ref(&n), since).await;
                let now = self.clock.now();
                let resolved_for = millis(self.settings.resolved_for);
                self.resolved.insert(
                    key,
                    Sent {
                        notification: n,
                        sent_at: now,
                        delivered,
                        resend_until: (resolved_for > 0).then_some(now + resolved_for),
                        forget_at: Some(now + millis(RESOLVED_MEMORY).max(resolved_for)),
                    },
                );
            }
        }
    }

    /// Resolves inherited alerts this run's engine has evaluated as over (see
    /// [`Worker::resume`]); forgets about those it sees firing.
    async fn reconcile(&mut self) {
        let Some(board) = self.board.clone() else {
            self.inherited.clear();
            return;
        };
        let entries: BTreeMap<String, Arc<Entry>> = board
            .entries()
            .into_iter()
            .map(|entry| (entry.info.key(), entry))
            .collect();
        let keys: Vec<String> = self.inherited.iter().cloned().collect();
        for key in keys {
            let Some(sent) = self.firing.get(&key) else {
                self.inherited.remove(&key);
                continue;
            };
            let n = &sent.notification;
            let Some(entry) = entries.get(&n.instance.key()) else {
                continue;
            };
            let alert = entry.alerts.get(n.kind);
            let evidence =
                n.kind == AlertKind::NoData || entry.eval.data_state != DataState::NoData;
            match alert.state {
                AlertState::Firing => {
                    self.inherited.remove(&key);
                }
                AlertState::Inactive if evidence && !alert.condition => {
                    tracing::info!(
                        receiver = %self.name,
                        alert = %key,
                        "an alert firing before the restart is over by this run's evaluation; resolving it"
                    );
                    let resolved = Notification {
                        status: AlertStatus::Resolved,
                        at: entry.eval.at,
                        eval: entry.eval.clone(),
                        ..n.clone()
                    };
                    self.handle(resolved, Instant::now()).await;
                    self.persist(None);
                }
                // Pending, inhibited, or no evidence: wait for the engine to decide.
                _ => {}
            }
        }
    }

    /// Records the alerts in the journal, `done` with the queued notification `id` if given.
    fn persist(&self, done: impl Into<Option<u64>>) {
        self.journal
            .record(&self.name, done.into(), &self.firing, &self.resolved);
    }

    fn forget_expired(&mut self, now: Millis) {
        self.resolved
            .retain(|_, s| s.forget_at.is_none_or(|forget| forget > now));
    }

    /// When the next repeat falls due (wall time); None: nothing to repeat.
    fn next_due(&self) -> Option<Millis> {
        let repeat = millis(self.settings.repeat?);
        let firing = self.firing.values().map(|s| s.sent_at + repeat);
        let resolved = self
            .resolved
            .values()
            .map(|s| (s.sent_at + repeat, s.resend_until))
            .filter(|(due, until)| until.is_some_and(|until| until > *due))
            .map(|(due, _)| due);
        firing.chain(resolved).min()
    }

    async fn repeat_due(&mut self) {
        let now = self.clock.now();
        self.forget_expired(now);
        for sent in self.resolved.values_mut() {
            // Past its re-send time: remembered only.
            if sent.resend_until.is_some_and(|until| until <= now) {
                sent.resend_until = None;
            }
        }
        let Some(repeat) = self.settings.repeat.map(millis) else {
            return;
        };
        let is_due = |s: &Sent| s.sent_at + repeat <= now;
        if self.channel.batches() {
            let resending = |s: &&Sent| s.resend_until.is_some();
            let mut batch = self
                .firing
                .values()
                .chain(self.resolved.values().filter(resending));
            if !batch.clone().any(is_due) {
                return;
            }
            let batch: Vec<Notification> = batch.by_ref().map(|s| s.notification.clone()).collect();
            let delivered = self.send(&batch, Instant::now()).await;
            let sent_at = self.clock.now();
            let resent = self.firing.values_mut().chain(
                self.resolved
                    .values_mut()
                    .filter(|s| s.resend_until.is_some()),
            );
            for sent in resent {
                sent.sent_at = sent_at;
                sent.delivered |= delivered;
            }
        } else {
            let due: Vec<String> = self
                .firing
                .iter()
                .filter(|(_, s)| is_due(s))
                .map(|(key, _)| key.clone())
                .collect();
            for key in due {
                let Some(n) = self.firing.get(&key).map(|s| s.notification.clone()) else {
                    continue;
                };
                tracing::debug!(receiver = %self.name, alert = %key, "repeating a still-firing alert");
                let delivered = self.send(std::slice::from_ref(&n), Instant::now()).await;
                if let Some(sent) = self.firing.get_mut(&key) {
                    sent.sent_at = self.clock.now();
                    sent.delivered |= delivered;
                }
                // Each repeat on its own: a kill between two must not send the first again.
                self.persist(None);
            }
        }
        self.persist(None);
    }

    /// Build and deliver one request; count and log the outcome. True when accepted.
    async fn send(&mut self, batch: &[Notification], since: Instant) -> bool {
        let count = batch.len();
        let request = match self.channel.request(batch, self.clock.now()) {
            Ok(request) => request,
            Err(err) => {
                tracing::error!(receiver = %self.name, error = %err, "cannot build the notification");
                self.metrics.count(&self.name, Outcome::Failed, count);
                return false;
            }
        };
        let cx = Context {
            receiver: &self.name,
            kind: self.channel.as_ref(),
            metrics: &self.metrics,
            policy: self.policy,
        };
        let delivered = deliver(&self.transport, &request, &mut self.pacer, &cx).await;
        if delivered {
            self.metrics.count(&self.name, Outcome::Sent, count);
            self.metrics.delivered_after(&self.name, since.elapsed());
            self.record_sent(batch);
            tracing::debug!(receiver = %self.name, alerts = count, "notification sent");
        } else {
            self.metrics.count(&self.name, Outcome::Failed, count);
        }
        delivered
    }
}

impl<T: Transport> Worker<T> {
    /// Counts the firing notifications of `batch` in the six-month record, off the async
    /// threads; a failed write is logged, never retried (the delivery itself succeeded).
    fn record_sent(&self, batch: &[Notification]) {
        let Some(db) = self.metrics.record.get() else {
            return;
        };
        let sent: Vec<(String, String)> = batch
            .iter()
            .filter(|n| n.status == burnwatch_engine::AlertStatus::Firing)
            .map(|n| {
                let info = &n.instance;
                (
                    info.slo.id.clone(),
                    burnwatch_record::instance_name(&info.slo.id, &info.group),
                )
            })
            .collect();
        if sent.is_empty() {
            return;
        }
        let (receiver, at) = (self.name.clone(), self.clock.now());
        tokio::task::spawn_blocking(move || {
            for (slo, instance) in sent {
                if let Err(err) = db.count_notification(&slo, &instance, &receiver, at) {
                    tracing::warn!(error = %err, receiver, "cannot count the notification in the record");
                }
            }
        });
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::receivers;
    use crate::notify::testing::{Figures, Recorder, notification};
    use burnwatch_engine::AlertKind;
    use burnwatch_spec::{Receiver, ReceiverKind, Secret, SecretSource};

    const HOUR: Duration = Duration::from_secs(3_600);
    const MINUTE: Duration = Duration::from_secs(60);

    fn receiver(kind: ReceiverKind, send_resolved: bool) -> Receiver {
        Receiver {
            name: "r".into(),
            kind,
            timeout: Duration::from_secs(10),
            repeat_interval: 4 * HOUR,
            send_resolved,
        }
    }

    fn slack() -> ReceiverKind {
        ReceiverKind::Slack {
            url: SecretSource::Value(Secret::new("http://127.0.0.1:1/hook")),
        }
    }

    fn alertmanager() -> ReceiverKind {
        ReceiverKind::Alertmanager {
            url: "http://127.0.0.1:1".into(),
        }
    }

    /// Starts a worker for `kind` over a recorder; returns the queue and the recorder.
    fn spawn_worker(
        kind: ReceiverKind,
        send_resolved: bool,
    ) -> (mpsc::Sender<Queued>, Arc<Recorder>) {
        spawn_with(kind, send_resolved, Recorder::default())
    }

    fn spawn_with(
        kind: ReceiverKind,
        send_resolved: bool,
        recorder: Recorder,
    ) -> (mpsc::Sender<Queued>, Arc<Recorder>) {
        let receiver = receiver(kind, send_resolved);
        let channel = receivers::build(&receiver).unwrap();
        let settings = channel.settings(&receiver);
        let recorder = Arc::new(recorder);
        let clock = Clock::start();
        let worker = Worker::new(
            "r".into(),
            channel,
            Arc::clone(&recorder),
            settings,
            Arc::new(NotifyMetrics::unregistered()),
            clock,
            Arc::new(Journal::in_memory(clock)),
        );
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(worker.run(Vec::new(), rx));
        (tx, recorder)
    }

    async fn push(tx: &mpsc::Sender<Queued>, kind: AlertKind, status: AlertStatus) {
        let notification = notification(kind, status, Figures::fast_burn());
        tx.send(Queued {
            id: 0,
            notification,
            since: Instant::now(),
        })
        .await
        .unwrap();
        // Let the worker take it.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    fn offsets(recorder: &Recorder, start: Instant) -> Vec<Duration> {
        recorder.times().iter().map(|t| *t - start).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn firing_alerts_repeat_every_repeat_interval_until_resolved() {
        let start = Instant::now();
        let (tx, recorder) = spawn_worker(slack(), true);
        push(&tx, AlertKind::Page, AlertStatus::Firing).await;
        tokio::time::sleep(9 * HOUR).await;
        assert_eq!(
            offsets(&recorder, start)
                .iter()
                .map(|d| d.as_secs() / 3_600)
                .collect::<Vec<_>>(),
            [0, 4, 8]
        );
        push(&tx, AlertKind::Page, AlertStatus::Resolved).await;
        tokio::time::sleep(9 * HOUR).await;
        let bodies = recorder.bodies();
        assert_eq!(bodies.len(), 4, "a resolve and no further repeats");
        assert!(bodies[3]["text"].as_str().unwrap().starts_with("RESOLVED"));
    }

    #[tokio::test(start_paused = true)]
    async fn same_episode_again_is_not_sent_twice() {
        let (tx, recorder) = spawn_worker(slack(), true);
        push(&tx, AlertKind::Page, AlertStatus::Firing).await;
        push(&tx, AlertKind::Page, AlertStatus::Firing).await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(recorder.times().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn send_resolved_false_suppresses_the_resolve_and_stops_repeats() {
        let (tx, recorder) = spawn_worker(slack(), false);
        push(&tx, AlertKind::Ticket, AlertStatus::Firing).await;
        push(&tx, AlertKind::Ticket, AlertStatus::Resolved).await;
        tokio::time::sleep(10 * HOUR).await;
        assert_eq!(recorder.times().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn slack_messages_are_a_second_apart() {
        let (tx, recorder) = spawn_worker(slack(), true);
        push(&tx, AlertKind::Page, AlertStatus::Firing).await;
        push(&tx, AlertKind::Ticket, AlertStatus::Firing).await;
        push(&tx, AlertKind::NoData, AlertStatus::Firing).await;
        tokio::time::sleep(MINUTE).await;
        let times = recorder.times();
        assert_eq!(times.len(), 3);
        assert!(
            times
                .windows(2)
                .all(|w| w[1] - w[0] >= Duration::from_secs(1))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn alertmanager_resends_firing_each_minute_and_resolved_for_fifteen() {
        let start = Instant::now();
        let (tx, recorder) = spawn_worker(alertmanager(), false);
        push(&tx, AlertKind::Page, AlertStatus::Firing).await;
        push(&tx, AlertKind::Ticket, AlertStatus::Firing).await;
        tokio::time::sleep(Duration::from_secs(150)).await;
        let bodies = recorder.bodies();
        // Two immediate posts, then one batch a minute later holding both, then another.
        assert_eq!(bodies.len(), 4, "{:?}", offsets(&recorder, start));
        assert_eq!(bodies[2].as_array().unwrap().len(), 2);
        let ends_at = bodies[2][0]["endsAt"].as_str().unwrap().to_string();
        let ends_at_later = bodies[3][0]["endsAt"].as_str().unwrap().to_string();
        assert!(
            ends_at_later > ends_at,
            "endsAt moves forward on each resend"
        );

        push(&tx, AlertKind::Page, AlertStatus::Resolved).await;
        push(&tx, AlertKind::Ticket, AlertStatus::Resolved).await;
        let resolved_at = recorder.times().len();
        tokio::time::sleep(30 * MINUTE).await;
        let after = recorder.bodies().len() - resolved_at;
        // Resolved alerts are re-sent each minute for 15 minutes (send_resolved is ignored).
        assert!(
            (14..=16).contains(&after),
            "{after} resends after resolution"
        );
        let last = recorder.bodies().pop().unwrap();
        assert_eq!(
            last[0]["endsAt"], "2023-11-14T22:13:20.000Z",
            "the resolve time"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_trigger_is_retried_when_the_same_episode_comes_again() {
        let rejecting = Recorder::replying(vec![Ok(Recorder::reply(400, None))]);
        let (tx, recorder) = spawn_with(slack(), true, rejecting);
        push(&tx, AlertKind::Page, AlertStatus::Firing).await;
        push(&tx, AlertKind::Page, AlertStatus::Firing).await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(recorder.times().len(), 2);
    }

    /// One process's worker over the journal in `dir`, resumed from it; `clock` is shared by
    /// every "process" of a test, so that wall time runs on with paused tokio time.
    struct Run {
        tx: mpsc::Sender<Queued>,
        journal: Arc<Journal>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Run {
        async fn start(
            kind: ReceiverKind,
            dir: &std::path::Path,
            clock: Clock,
            recorder: &Arc<Recorder>,
        ) -> Run {
            Run::with_board(kind, dir, clock, recorder, None).await
        }

        async fn with_board(
            kind: ReceiverKind,
            dir: &std::path::Path,
            clock: Clock,
            recorder: &Arc<Recorder>,
            board: Option<Arc<Board>>,
        ) -> Run {
            let receiver = receiver(kind, true);
            let channel = receivers::build(&receiver).unwrap();
            let settings = channel.settings(&receiver);
            let store = crate::notify::store::Store::new(dir);
            let (journal, mut state) = Journal::open(store, &["r".to_string()], clock);
            let journal = Arc::new(journal);
            let mut worker = Worker::new(
                "r".into(),
                channel,
                Arc::clone(recorder),
                settings,
                Arc::new(NotifyMetrics::unregistered()),
                clock,
                Arc::clone(&journal),
            );
            let backlog = worker.resume(state.remove("r").unwrap_or_default(), board);
            let (tx, rx) = mpsc::channel(16);
            let task = tokio::spawn(worker.run(backlog, rx));
            tokio::time::sleep(Duration::from_millis(1)).await;
            Run { tx, journal, task }
        }

        async fn push(&self, notification: Notification) {
            let id = self.journal.enqueue("r", &notification);
            self.tx
                .send(Queued {
                    id,
                    notification,
                    since: Instant::now(),
                })
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }

        /// kill -9: the worker stops wherever it is; the file holds what was recorded.
        async fn kill(self) {
            self.task.abort();
            let _ = self.task.await;
            self.journal.save().await;
        }
    }

    fn n(kind: AlertKind, status: AlertStatus) -> Notification {
        notification(kind, status, Figures::fast_burn())
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_restart_repeats_keep_their_schedule_and_an_open_alert_is_not_sent_again() {
        let dir = tempfile::tempdir().unwrap();
        let (clock, start) = (Clock::start(), Instant::now());
        let recorder = Arc::new(Recorder::default());
        let run = Run::start(slack(), dir.path(), clock, &recorder).await;
        run.push(n(AlertKind::Page, AlertStatus::Firing)).await;
        tokio::time::sleep(3 * HOUR).await;
        run.kill().await;

        let run = Run::start(slack(), dir.path(), clock, &recorder).await;
        // The engine, restored from an older snapshot, starts the episode again.
        let mut again = n(AlertKind::Page, AlertStatus::Firing);
        again.fired_at += 3 * 3_600_000;
        run.push(again).await;
        tokio::time::sleep(59 * MINUTE).await;
        assert_eq!(offsets(&recorder, start).len(), 1, "nothing before 4h");
        tokio::time::sleep(2 * MINUTE).await;
        let minutes: Vec<u64> = offsets(&recorder, start)
            .iter()
            .map(|d| d.as_secs() / 60)
            .collect();
        assert_eq!(minutes, [0, 240], "the repeat 4h after the first send");
        let state = run.journal.snapshot();
        let sent = state["r"].firing.values().next().unwrap();
        assert_eq!(
            sent.notification.fired_at,
            n(AlertKind::Page, AlertStatus::Firing).fired_at,
            "the episode the receiver knows"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_notification_in_retry_when_killed_is_delivered_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::start();
        let failing = Arc::new(Recorder::replying(vec![Err("refused".into()); 20]));
        let run = Run::start(slack(), dir.path(), clock, &failing).await;
        run.push(n(AlertKind::Page, AlertStatus::Firing)).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let attempts = failing.times().len();
        assert!(attempts >= 2, "{attempts} attempts");
        run.kill().await;

        let recorder = Arc::new(Recorder::default());
        let run = Run::start(slack(), dir.path(), clock, &recorder).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(recorder.times().len(), 1, "delivered after the restart");
        assert!(
            recorder.bodies()[0]["text"]
                .as_str()
                .unwrap()
                .starts_with("FIRING")
        );
        let state = run.journal.snapshot();
        assert!(state["r"].pending.is_empty());
        assert!(state["r"].firing.values().all(|s| s.delivered));
        // The same episode from the engine changes nothing now.
        run.push(n(AlertKind::Page, AlertStatus::Firing)).await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(recorder.times().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn alertmanager_resends_resume_a_minute_after_the_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let (clock, start) = (Clock::start(), Instant::now());
        let recorder = Arc::new(Recorder::default());
        let run = Run::start(alertmanager(), dir.path(), clock, &recorder).await;
        run.push(n(AlertKind::Page, AlertStatus::Firing)).await;
        tokio::time::sleep(Duration::from_secs(90)).await;
        run.kill().await;
        let _run = Run::start(alertmanager(), dir.path(), clock, &recorder).await;
        tokio::time::sleep(Duration::from_secs(100)).await;
        let secs: Vec<u64> = offsets(&recorder, start)
            .iter()
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(
            secs,
            [0, 60, 120, 180],
            "no extra resend at the restart (90 s)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_resolve_is_sent_once_across_a_restart_and_a_new_episode_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::start();
        let recorder = Arc::new(Recorder::default());
        let run = Run::start(slack(), dir.path(), clock, &recorder).await;
        run.push(n(AlertKind::Page, AlertStatus::Firing)).await;
        run.push(n(AlertKind::Page, AlertStatus::Resolved)).await;
        tokio::time::sleep(MINUTE).await;
        run.kill().await;
        assert_eq!(recorder.times().len(), 2);

        let run = Run::start(slack(), dir.path(), clock, &recorder).await;
        // The engine resolves the episode again after restoring an older snapshot.
        run.push(n(AlertKind::Page, AlertStatus::Resolved)).await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(recorder.times().len(), 2, "the resolve is not sent twice");
        let mut next = n(AlertKind::Page, AlertStatus::Firing);
        next.fired_at += 3_600_000;
        run.push(next).await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(recorder.times().len(), 3, "a new episode is sent");
    }

    /// What the engine of the new run publishes for the test instance.
    fn entry(data_state: DataState, alerts: burnwatch_engine::Alerts) -> Entry {
        let n = n(AlertKind::Page, AlertStatus::Firing);
        let mut eval = n.eval.clone();
        eval.data_state = data_state;
        Entry {
            info: n.instance,
            eval,
            alerts,
        }
    }

    fn page_firing() -> burnwatch_engine::Alerts {
        let n = n(AlertKind::Page, AlertStatus::Firing);
        let mut alerts = burnwatch_engine::Alerts::new();
        alerts.eval(&n.policy, &n.eval);
        assert_eq!(alerts.get(AlertKind::Page).state, AlertState::Firing);
        alerts
    }

    /// A run that inherited a delivered firing page from the previous one, with `board`.
    async fn inherited(dir: &std::path::Path, recorder: &Arc<Recorder>, board: &Arc<Board>) -> Run {
        let clock = Clock::start();
        let run = Run::start(slack(), dir, clock, recorder).await;
        run.push(n(AlertKind::Page, AlertStatus::Firing)).await;
        run.kill().await;
        Run::with_board(slack(), dir, clock, recorder, Some(Arc::clone(board))).await
    }

    #[tokio::test(start_paused = true)]
    async fn an_inherited_alert_this_run_evaluates_as_over_is_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Arc::new(Recorder::default());
        let board = Arc::new(Board::new());
        let _run = inherited(dir.path(), &recorder, &board).await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(
            recorder.times().len(),
            1,
            "nothing until the engine has evaluated"
        );
        // The engine started without the alert's state: the instance is quiet and inactive.
        board.publish(entry(DataState::Ok, burnwatch_engine::Alerts::new()));
        tokio::time::sleep(2 * RECONCILE_EVERY).await;
        let bodies = recorder.bodies();
        assert_eq!(bodies.len(), 2);
        assert!(bodies[1]["text"].as_str().unwrap().starts_with("RESOLVED"));
        // The engine's own resolve of the same episode changes nothing.
        _run.push(n(AlertKind::Page, AlertStatus::Resolved)).await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(recorder.times().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_inherited_alert_is_not_resolved_without_evidence_nor_once_the_engine_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Arc::new(Recorder::default());
        let board = Arc::new(Board::new());
        let run = inherited(dir.path(), &recorder, &board).await;
        // No series: a backend outage must not resolve a page.
        board.publish(entry(DataState::NoData, burnwatch_engine::Alerts::new()));
        tokio::time::sleep(MINUTE).await;
        assert_eq!(recorder.times().len(), 1);
        // The engine sees it firing: from now on its own transitions decide.
        board.publish(entry(DataState::Ok, page_firing()));
        tokio::time::sleep(2 * RECONCILE_EVERY).await;
        board.publish(entry(DataState::Ok, burnwatch_engine::Alerts::new()));
        tokio::time::sleep(MINUTE).await;
        assert_eq!(recorder.times().len(), 1);
        assert_eq!(run.journal.snapshot()["r"].firing.len(), 1);
    }
}
