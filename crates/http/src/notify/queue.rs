//! One receiver's worker: it takes notifications from the receiver's bounded queue in order,
//! delivers them one at a time, and remembers what still fires to repeat it.
//!
//! - Firing: delivered at once, then re-sent every `repeat_interval` while it fires. A second
//!   firing notification of the same episode (same `dedup_key` and `fired_at`) only refreshes
//!   the figures the next repeat shows, unless the first delivery failed.
//! - Resolved: delivered when `send_resolved`, and the alert is forgotten.
//! - Alertmanager: every firing alert is re-sent each minute (all of them in one request, with
//!   a fresh `endsAt`), resolved ones for 15 minutes after resolution; `send_resolved` does not
//!   apply (Alertmanager needs the `endsAt`).
//!
//! The worker ends when its queue is closed and empty (the dispatcher bounds how long it waits).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{AlertStatus, Notification};
use burnwatch_spec::Receiver;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::channel::{ALERTMANAGER_RESEND, ALERTMANAGER_RESOLVED_FOR, Channel, SLACK_GAP};
use super::clock::Clock;
use super::delivery::{Context, Pacer, RetryPolicy, Transport, deliver};
use super::metrics::{NotifyMetrics, Outcome};

/// A notification waiting in a queue, with when it was handed over (for the latency metric).
#[derive(Debug)]
pub(crate) struct Queued {
    pub notification: Notification,
    pub since: Instant,
}

/// How a receiver repeats and paces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    /// Re-send a firing alert after this long; None: never.
    pub repeat: Option<Duration>,
    /// Deliver resolved notifications.
    pub send_resolved: bool,
    /// Keep re-sending resolved alerts for this long (Alertmanager); zero: not at all.
    pub resolved_for: Duration,
    /// Minimum time between two requests.
    pub gap: Duration,
}

impl Settings {
    pub(crate) fn new(receiver: &Receiver, channel: &Channel) -> Settings {
        let repeat = (!receiver.repeat_interval.is_zero()).then_some(receiver.repeat_interval);
        match channel {
            Channel::Alertmanager(_) => Settings {
                repeat: Some(ALERTMANAGER_RESEND),
                send_resolved: true,
                resolved_for: ALERTMANAGER_RESOLVED_FOR,
                gap: Duration::ZERO,
            },
            Channel::Slack(_) => Settings {
                repeat,
                send_resolved: receiver.send_resolved,
                resolved_for: Duration::ZERO,
                gap: SLACK_GAP,
            },
            Channel::PagerDuty(_) | Channel::Webhook(_) => Settings {
                repeat,
                send_resolved: receiver.send_resolved,
                resolved_for: Duration::ZERO,
                gap: Duration::ZERO,
            },
        }
    }
}

/// An alert the worker keeps repeating.
struct Tracked {
    notification: Notification,
    /// When to re-send; None: never.
    next: Option<Instant>,
    /// When to forget it (resolved alerts at Alertmanager).
    until: Option<Instant>,
    /// Whether any delivery of this episode succeeded.
    delivered: bool,
}

/// The worker of one receiver.
pub(crate) struct Worker<T> {
    name: String,
    channel: Channel,
    transport: T,
    settings: Settings,
    policy: RetryPolicy,
    metrics: Arc<NotifyMetrics>,
    clock: Clock,
    pacer: Pacer,
    firing: BTreeMap<String, Tracked>,
    resolved: BTreeMap<String, Tracked>,
}

impl<T: Transport> Worker<T> {
    pub(crate) fn new(
        name: String,
        channel: Channel,
        transport: T,
        settings: Settings,
        metrics: Arc<NotifyMetrics>,
        clock: Clock,
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
            firing: BTreeMap::new(),
            resolved: BTreeMap::new(),
        }
    }

    /// Deliver from `queue` and repeat until the queue is closed and empty.
    pub(crate) async fn run(mut self, mut queue: mpsc::Receiver<Queued>) {
        loop {
            let due = self.next_due();
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
            }
        }
    }

    async fn accept(&mut self, item: Queued) {
        let n = item.notification;
        let key = n.dedup_key();
        match n.status {
            AlertStatus::Firing => {
                self.resolved.remove(&key);
                if let Some(tracked) = self.firing.get_mut(&key)
                    && tracked.notification.fired_at == n.fired_at
                    && tracked.delivered
                {
                    tracked.notification = n;
                    return;
                }
                let delivered = self.send(std::slice::from_ref(&n), item.since).await;
                let next = self.settings.repeat.map(|r| Instant::now() + r);
                self.firing.insert(
                    key,
                    Tracked {
                        notification: n,
                        next,
                        until: None,
                        delivered,
                    },
                );
            }
            AlertStatus::Resolved => {
                self.firing.remove(&key);
                if !self.settings.send_resolved {
                    tracing::debug!(receiver = %self.name, alert = %key, "resolved not sent (send_resolved = false)");
                    return;
                }
                let delivered = self.send(std::slice::from_ref(&n), item.since).await;
                if !self.settings.resolved_for.is_zero() {
                    let now = Instant::now();
                    self.resolved.insert(
                        key,
                        Tracked {
                            notification: n,
                            next: self.settings.repeat.map(|r| now + r),
                            until: Some(now + self.settings.resolved_for),
                            delivered,
                        },
                    );
                }
            }
        }
    }

    fn next_due(&self) -> Option<Instant> {
        self.firing
            .values()
            .chain(self.resolved.values())
            .filter_map(|t| t.next)
            .min()
    }

    async fn repeat_due(&mut self) {
        let now = Instant::now();
        self.resolved
            .retain(|_, t| t.until.is_none_or(|until| until > now));
        let is_due = |t: &Tracked| t.next.is_some_and(|next| next <= now);
        if self.channel.batches() {
            if !self
                .firing
                .values()
                .chain(self.resolved.values())
                .any(is_due)
            {
                return;
            }
            let batch: Vec<Notification> = self
                .firing
                .values()
                .chain(self.resolved.values())
                .map(|t| t.notification.clone())
                .collect();
            let delivered = self.send(&batch, now).await;
            let next = self.settings.repeat.map(|r| Instant::now() + r);
            for tracked in self.firing.values_mut().chain(self.resolved.values_mut()) {
                tracked.next = next;
                tracked.delivered |= delivered;
            }
        } else {
            let due: Vec<String> = self
                .firing
                .iter()
                .filter(|(_, t)| is_due(t))
                .map(|(key, _)| key.clone())
                .collect();
            for key in due {
                let Some(n) = self.firing.get(&key).map(|t| t.notification.clone()) else {
                    continue;
                };
                tracing::debug!(receiver = %self.name, alert = %key, "repeating a still-firing alert");
                let delivered = self.send(std::slice::from_ref(&n), Instant::now()).await;
                if let Some(tracked) = self.firing.get_mut(&key) {
                    tracked.next = self.settings.repeat.map(|r| Instant::now() + r);
                    tracked.delivered |= delivered;
                }
            }
        }
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
            metrics: &self.metrics,
            policy: self.policy,
        };
        let delivered = deliver(&self.transport, &request, &mut self.pacer, &cx).await;
        if delivered {
            self.metrics.count(&self.name, Outcome::Sent, count);
            self.metrics.delivered_after(&self.name, since.elapsed());
            tracing::debug!(receiver = %self.name, alerts = count, "notification sent");
        } else {
            self.metrics.count(&self.name, Outcome::Failed, count);
        }
        delivered
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
    use crate::notify::testing::{Figures, Recorder, notification};
    use burnwatch_engine::AlertKind;
    use burnwatch_spec::{ReceiverKind, Secret, SecretSource};

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
        let channel = Channel::new(&receiver);
        let settings = Settings::new(&receiver, &channel);
        let recorder = Arc::new(recorder);
        let worker = Worker::new(
            "r".into(),
            channel,
            Arc::clone(&recorder),
            settings,
            Arc::new(NotifyMetrics::unregistered()),
            Clock::start(),
        );
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(worker.run(rx));
        (tx, recorder)
    }

    async fn push(tx: &mpsc::Sender<Queued>, kind: AlertKind, status: AlertStatus) {
        let notification = notification(kind, status, Figures::fast_burn());
        tx.send(Queued {
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
}
