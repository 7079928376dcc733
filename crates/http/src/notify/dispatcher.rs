//! The dispatcher: takes the engine's notifications from a channel, routes each to its
//! receivers' queues and runs one worker per receiver. A full queue drops the notification and
//! counts it; nothing the receivers do can slow the engine down.
//!
//! With a state directory it also owns the [`Journal`]: loaded before the workers start (they
//! resume from it), written soon after every change and once more at shutdown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Board, Notification};
use burnwatch_spec::{Config, Receiver};
use prometheus_client::registry::Registry;
use tokio::sync::mpsc::{self, UnboundedReceiver, error::TrySendError};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::clock::Clock;
use super::delivery::HttpTransport;
use super::digest_sender::{DigestMetrics, DigestSender};
use super::journal::Journal;
use super::labels::alert_labels;
use super::metrics::{NotifyMetrics, Outcome};
use super::queue::{Queued, Worker};
use super::receiver::{Receiver as Kind, Settings};
use super::receivers;
use super::route::RouteTable;
use super::store::Store;

/// Notifications a receiver may have waiting before new ones are dropped.
pub const QUEUE_CAPACITY: usize = 1024;
/// How long shutdown waits for queued and in-flight deliveries.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Routes notifications to receivers and delivers them. Build it with [`Dispatcher::new`] from
/// the configuration, give it the data directory with [`Dispatcher::with_state_dir`] so that
/// its state survives restarts, then [`Dispatcher::spawn`] it with the engine's notification
/// channel.
pub struct Dispatcher {
    routes: RouteTable,
    receivers: Vec<Endpoint>,
    metrics: Arc<NotifyMetrics>,
    state_dir: Option<PathBuf>,
    board: Option<Arc<Board>>,
    digest_metrics: Arc<DigestMetrics>,
    receiver_configs: BTreeMap<String, Receiver>,
}

/// One receiver before its worker starts.
struct Endpoint {
    name: String,
    channel: Box<dyn Kind>,
    settings: Settings,
    transport: HttpTransport,
}

impl std::fmt::Debug for Dispatcher {
    // Receivers hold secrets: show names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.receivers.iter().map(|r| r.name.as_str()).collect();
        f.debug_struct("Dispatcher")
            .field("receivers", &names)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// Build every receiver of `config` and compile its routes, registering the notification
    /// metrics (`burnwatch_notifications_total{receiver,outcome}`, queue length, latency,
    /// retries) in `registry`. Fails on a route naming an unknown receiver or an HTTP client
    /// that cannot be built; the message names the route or receiver, never a secret.
    pub fn new(config: &Config, registry: &mut Registry) -> Result<Dispatcher, String> {
        Dispatcher::from_parts(&config.receivers, &config.routes, registry)
    }

    fn from_parts(
        receivers: &BTreeMap<String, Receiver>,
        routes: &[burnwatch_spec::Route],
        registry: &mut Registry,
    ) -> Result<Dispatcher, String> {
        let names: Vec<&str> = receivers.keys().map(String::as_str).collect();
        let routes = RouteTable::new(routes, &names)?;
        let metrics = Arc::new(NotifyMetrics::register(registry));
        let digest_metrics = Arc::new(DigestMetrics::register(registry));
        let receiver_configs = receivers.clone();
        let receivers = receivers
            .iter()
            .map(|(name, receiver)| {
                metrics.init_receiver(name);
                let channel = receivers::build(receiver)?;
                let settings = channel.settings(receiver);
                let transport = HttpTransport::new(receiver.timeout).map_err(|err| {
                    format!("receiver `{name}`: cannot build an HTTP client: {err}")
                })?;
                Ok(Endpoint {
                    name: name.clone(),
                    channel,
                    settings,
                    transport,
                })
            })
            .collect::<Result<Vec<Endpoint>, String>>()?;
        Ok(Dispatcher {
            routes,
            receivers,
            metrics,
            state_dir: None,
            board: None,
            digest_metrics,
            receiver_configs,
        })
    }

    /// Counts the firing notifications every receiver accepts in the six-month record (per SLO
    /// instance, receiver and UTC day). Call before [`Dispatcher::spawn`].
    #[must_use]
    pub fn with_record(mut self, record: burnwatch_record::SharedRecord) -> Dispatcher {
        match Arc::get_mut(&mut self.metrics) {
            Some(metrics) => metrics.record = record,
            None => tracing::warn!(
                "the record is wired after the notifier started; sends are not recorded"
            ),
        }
        self
    }

    /// Keep the notifier's state in `data_dir` (`notifications.json`): per receiver, the
    /// notifications not yet delivered and the alerts it was told about with when they were
    /// last sent. On start the file is loaded: pending notifications are delivered, firing
    /// alerts repeat `repeat_interval` after their last send (Alertmanager: each minute after),
    /// and an alert the receiver already accepted as firing is not triggered again. A corrupt
    /// file is set aside with a warning. Without it, everything is forgotten at exit.
    pub fn with_state_dir(mut self, data_dir: &Path) -> Dispatcher {
        self.state_dir = Some(data_dir.to_path_buf());
        self
    }

    /// A sender of `[[digest]]` messages through the same receivers, retries and metrics, with
    /// its journal in `data_dir` (`digests.json`; none: nothing survives a restart). Call before
    /// [`Dispatcher::spawn`]. `now` (unix ms) names a set-aside corrupt journal.
    pub fn digest_sender(
        &self,
        data_dir: Option<&Path>,
        now: burnwatch_engine::Millis,
    ) -> Result<DigestSender, String> {
        DigestSender::new(
            &self.receiver_configs,
            data_dir,
            now,
            Arc::clone(&self.metrics),
            Arc::clone(&self.digest_metrics),
        )
    }

    /// Check alerts that were firing before a restart against the engine's evaluations on
    /// `board`: one the engine now evaluates as over (inactive, its condition false, with
    /// evidence) is resolved, even when the engine started without its state (its snapshot was
    /// older, set aside, or the SLO changed) and so never sends that resolve itself. Until the
    /// engine has evaluated the alert's instance, nothing is resolved.
    pub fn with_board(mut self, board: Arc<Board>) -> Dispatcher {
        self.board = Some(board);
        self
    }

    /// Start delivering what arrives on `notifications`. Runs until `shutdown` is cancelled or
    /// every sender is dropped; then routes what is already in the channel and waits at most
    /// [`DRAIN_TIMEOUT`] for the queues to empty and in-flight requests to finish.
    pub fn spawn(
        self,
        notifications: UnboundedReceiver<Notification>,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        tokio::spawn(self.run(notifications, shutdown))
    }

    async fn run(
        self,
        mut notifications: UnboundedReceiver<Notification>,
        shutdown: CancellationToken,
    ) {
        let clock = Clock::start();
        let (journal, mut restored) = match &self.state_dir {
            Some(dir) => {
                let names: Vec<String> = self.receivers.iter().map(|r| r.name.clone()).collect();
                Journal::open(Store::new(dir), &names, clock)
            }
            None => (Journal::in_memory(clock), BTreeMap::new()),
        };
        let journal = Arc::new(journal);
        // Written before any delivery, so the first write never carries news a kill could lose.
        journal.save().await;
        let stop_writer = CancellationToken::new();
        let writer = tokio::spawn({
            let journal = Arc::clone(&journal);
            let stop = stop_writer.clone();
            async move { journal.write_on_change(stop).await }
        });
        let mut workers = JoinSet::new();
        let mut queues = Vec::with_capacity(self.receivers.len());
        for endpoint in self.receivers {
            let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
            let mut worker = Worker::new(
                endpoint.name.clone(),
                endpoint.channel,
                endpoint.transport,
                endpoint.settings,
                Arc::clone(&self.metrics),
                clock,
                Arc::clone(&journal),
            );
            let state = restored.remove(&endpoint.name).unwrap_or_default();
            let backlog = worker.resume(state, self.board.clone());
            for _ in &backlog {
                self.metrics.queued(&endpoint.name);
            }
            workers.spawn(worker.run(backlog, rx));
            queues.push((endpoint.name, tx));
        }
        let route = |n: Notification| dispatch(&self.routes, &self.metrics, &journal, &queues, n);
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                next = notifications.recv() => match next {
                    Some(n) => route(n),
                    None => break,
                },
            }
        }
        notifications.close();
        while let Ok(n) = notifications.try_recv() {
            route(n);
        }
        drop(queues);
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            while let Some(result) = workers.join_next().await {
                if let Err(err) = result {
                    tracing::error!(error = %err, "a notification worker failed");
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                receivers = workers.len(),
                "notifications still queued or in flight after {DRAIN_TIMEOUT:?}; stopping anyway"
            );
            workers.shutdown().await;
        }
        // What is still pending is written, and delivered by the next process.
        stop_writer.cancel();
        if let Err(err) = writer.await {
            tracing::error!(error = %err, "the notification state writer failed");
        }
    }
}

/// Hand `n` to the queue of every receiver its routes name.
fn dispatch(
    routes: &RouteTable,
    metrics: &NotifyMetrics,
    journal: &Journal,
    queues: &[(String, mpsc::Sender<Queued>)],
    n: Notification,
) {
    let targets = routes.receivers(n.severity(), &alert_labels(&n));
    if targets.is_empty() {
        metrics.unrouted();
        tracing::debug!(alert = %n.dedup_key(), "no route matches; notification not sent");
        return;
    }
    let since = Instant::now();
    for index in targets {
        let (name, queue) = &queues[index];
        // Count before sending: the worker may take it (and decrement) at once.
        metrics.queued(name);
        // In the journal before the worker can see it: the worker marks it done there.
        let id = journal.enqueue(name, &n);
        let item = Queued {
            id,
            notification: n.clone(),
            since,
        };
        if let Err(err) = queue.try_send(item) {
            journal.discard(name, id);
            metrics.dequeued(name);
            metrics.count(name, Outcome::Dropped, 1);
            let why = match err {
                TrySendError::Full(_) => "queue full",
                TrySendError::Closed(_) => "worker stopped",
            };
            tracing::warn!(receiver = %name, alert = %n.dedup_key(), "notification dropped: {why}");
        }
    }
}
