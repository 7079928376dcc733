//! The polling loop: one task per SLO, ticks spread over the interval, shutdown by token.
//!
//! As in Prometheus' rule groups, ticks are offset by a hash of their group (the backend and the
//! interval), so that backends are not all asked in the same millisecond, while the SLOs of one
//! group tick together and their reads are coalesced into a few requests ([`crate::Coalescer`]);
//! a tick that overruns makes the next ones skip (counted), never a catch-up burst. Backfill runs
//! first, a bounded number at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_engine::{Millis, Waiting};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::metrics::SchedulerMetrics;
use crate::runner::SloRunner;
use crate::snapshot::{Encoder, Snapshots};

/// How often each SLO hands its state to the snapshot writer, and the writer writes the file,
/// unless `--snapshot-interval` says otherwise.
pub const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(60);

/// The wall clock in unix milliseconds.
pub fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// Counts SLOs whose startup backfill is still running; ready when it reaches zero. SLOs become
/// ready one by one, so a cold start of thousands shows its progress.
#[derive(Debug, Default)]
pub struct Readiness {
    pending: AtomicUsize,
    /// SLO tasks running (ready or not).
    running: AtomicUsize,
}

impl Readiness {
    /// True when every SLO has finished its backfill.
    pub fn is_ready(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0
    }

    /// SLOs still backfilling.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// SLOs evaluated by this process, backfilled or not.
    pub fn total(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }
}

/// Settings of the polling loop.
#[derive(Debug, Clone, Copy)]
pub struct PollerOptions {
    /// Backfills running at once.
    pub backfill_concurrency: usize,
    /// How often each SLO hands its state to the snapshot writer.
    pub snapshot_interval: Duration,
}

impl Default for PollerOptions {
    fn default() -> Self {
        Self {
            // Many at once, so that their reads of the same metrics coalesce; each backend's own
            // `backfill_concurrency` and samples budget bound the requests they become.
            backfill_concurrency: 64,
            snapshot_interval: DEFAULT_SNAPSHOT_INTERVAL,
        }
    }
}

/// Start one task per runner; returns when `shutdown` is cancelled and every task has stopped.
pub async fn run(
    runners: Vec<SloRunner>,
    options: PollerOptions,
    metrics: Arc<SchedulerMetrics>,
    readiness: Arc<Readiness>,
    snapshots: Arc<Snapshots>,
    shutdown: CancellationToken,
) {
    let runners = runners
        .into_iter()
        .map(|runner| (runner, shutdown.clone()))
        .collect();
    for (_, task) in spawn(runners, options, metrics, readiness, snapshots) {
        let _ = task.await;
    }
}

/// Starts one task per runner, each until its own token is cancelled (so a reload can stop and
/// replace some SLOs and leave the others running). Each new SLO counts as pending in
/// `readiness` until its backfill or restore is done, or its task ends. Returns each SLO's id
/// and task.
pub fn spawn(
    runners: Vec<(SloRunner, CancellationToken)>,
    options: PollerOptions,
    metrics: Arc<SchedulerMetrics>,
    readiness: Arc<Readiness>,
    snapshots: Arc<Snapshots>,
) -> Vec<(String, JoinHandle<()>)> {
    let total = runners.len();
    readiness.pending.fetch_add(total, Ordering::AcqRel);
    readiness.running.fetch_add(total, Ordering::AcqRel);
    metrics.backfill_pending(total as i64);
    let limit = Arc::new(Semaphore::new(options.backfill_concurrency.max(1)));
    let done = Arc::new(AtomicUsize::new(0));
    let restored = Arc::new(AtomicUsize::new(0));
    runners
        .into_iter()
        .map(|(runner, shutdown)| {
            let id = runner.id().to_string();
            let task = SloTask {
                runner,
                metrics: Arc::clone(&metrics),
                readiness: Arc::clone(&readiness),
                pending: true,
                limit: Arc::clone(&limit),
                done: Arc::clone(&done),
                restored: Arc::clone(&restored),
                total,
                snapshot_interval: options.snapshot_interval,
                snapshots: Arc::clone(&snapshots),
                encoder: Encoder::default(),
                shutdown,
            };
            let inner = tokio::spawn(task.run());
            let watched = tokio::spawn(async move {
                if let Err(err) = inner.await
                    && err.is_panic()
                {
                    // A bug in one SLO must not take the others down; it is loud in the log.
                    tracing::error!(error = %err, "an SLO task panicked; its SLO is no longer evaluated");
                }
            });
            (id, watched)
        })
        .collect()
}

struct SloTask {
    runner: SloRunner,
    metrics: Arc<SchedulerMetrics>,
    readiness: Arc<Readiness>,
    /// Still counted as pending in `readiness` (until ready, or the task ends).
    pending: bool,
    limit: Arc<Semaphore>,
    done: Arc<AtomicUsize>,
    restored: Arc<AtomicUsize>,
    total: usize,
    snapshot_interval: Duration,
    snapshots: Arc<Snapshots>,
    /// What this task handed over to the hub, so it hands over only what changed.
    encoder: Encoder,
    shutdown: CancellationToken,
}

impl SloTask {
    async fn run(mut self) {
        let restored = self
            .snapshots
            .take(self.runner.id())
            .is_some_and(|snapshot| self.runner.restore(snapshot));
        if restored {
            // The hub holds this very state: the first handover carries only what changed.
            self.runner.remember_snapshot(&mut self.encoder);
            // Read the gap at once, so the first published figures (and alert transitions) come
            // from complete windows; a failing backend leaves the restored state unpublished
            // until a tick succeeds.
            if let Err(err) = self.runner.tick(now_millis()).await
                && !err.said_by_backend()
            {
                tracing::warn!(slo = %self.runner.id(), error = %err, "reading the gap since the snapshot failed; retrying every tick");
                self.runner.wait(Waiting::Unreachable(err.to_string()));
            }
            self.restored.fetch_add(1, Ordering::AcqRel);
            self.ready();
            tracing::info!(
                slo = %self.runner.id(),
                instances = self.runner.instance_count(),
                since_ms = self.runner.ingested_until().map_or(0, |t| now_millis() - t),
                "restored from the state snapshot; only the gap since it is read"
            );
        } else if !self.backfill().await {
            return;
        }
        // Hand the state over at once: the snapshot this task took out of the hub must be back
        // before the next periodic write, or a crash then would lose it.
        self.keep_snapshot();
        let mut snapshot_at = now_millis();
        let interval = self.runner.spec().interval;
        // Every SLO of a backend and interval ticks at the same moment, so that the backend
        // answers their reads together (see `coalescer.rs`); backends are offset from each other.
        let offset = tick_offset(&self.runner.tick_group(), interval);
        let mut last_error: Option<String> = None;
        loop {
            let now = now_millis();
            let next = next_tick(now, interval, offset);
            tokio::select! {
                () = self.shutdown.cancelled() => {
                    self.keep_snapshot();
                    return;
                }
                () = tokio::time::sleep(Duration::from_millis((next - now).max(0) as u64)) => {}
            }
            // Evaluated at the scheduled moment, not the moment this task got the CPU: every SLO
            // of the group then reads at the same timestamp and their reads coalesce.
            match self.runner.tick(next).await {
                // The same failure again (bad keys, a refused query) is said once, not every
                // tick; the backend counts every request in burnwatch_backend_requests_total.
                Err(err)
                    if err.said_by_backend()
                        || last_error.as_deref() == Some(err.to_string().as_str()) =>
                {
                    tracing::debug!(slo = %self.runner.id(), error = %err, "tick failed again");
                    last_error = Some(err.to_string());
                }
                Err(err) => {
                    tracing::warn!(slo = %self.runner.id(), error = %err, "tick failed; figures keep their previous values and the next tick covers the gap");
                    last_error = Some(err.to_string());
                }
                Ok(()) => {
                    if last_error.take().is_some() {
                        tracing::info!(slo = %self.runner.id(), "ticks succeed again");
                    }
                }
            }
            let finished = now_millis();
            let interval_ms = interval.as_millis() as i64;
            let missed = (finished - next) / interval_ms;
            if missed > 0 {
                self.metrics
                    .record_missed_ticks(self.runner.id(), missed as u64);
            }
            if finished - snapshot_at >= self.snapshot_interval.as_millis() as Millis {
                self.keep_snapshot();
                snapshot_at = finished;
            }
        }
    }

    /// Hands the runner's current state to the snapshot writer: the chunks that changed since
    /// the last handover, or everything when the hub lacks some.
    fn keep_snapshot(&mut self) {
        let Some(handover) = self.runner.snapshot(&mut self.encoder) else {
            return;
        };
        if !self.snapshots.put(self.runner.id(), handover) {
            self.encoder.clear();
            if let Some(handover) = self.runner.snapshot(&mut self.encoder) {
                self.snapshots.put(self.runner.id(), handover);
            }
        }
    }

    /// No longer pending; returns how many SLOs still are.
    fn release(&mut self) -> usize {
        if !self.pending {
            return self.readiness.pending();
        }
        self.pending = false;
        self.metrics.backfill_pending(-1);
        self.readiness.pending.fetch_sub(1, Ordering::AcqRel) - 1
    }

    fn ready(&mut self) {
        if self.release() == 0 {
            // The figure that shows what the state snapshot saves: a restart sends a handful of
            // requests where a cold start reads every SLO's whole period.
            let restored = self.restored.load(Ordering::Acquire);
            tracing::info!(
                slos = self.total,
                restored,
                backfilled = self.total - restored,
                backend_requests_since_start = self.metrics.requests_sent(),
                "every SLO is ready"
            );
        }
    }

    /// Backfill with retries until it works or shutdown; false on shutdown.
    async fn backfill(&mut self) -> bool {
        self.runner.wait(Waiting::Backfilling);
        let mut delay = Duration::from_secs(1);
        let mut last_backfill_error: Option<String> = None;
        loop {
            let permit = tokio::select! {
                () = self.shutdown.cancelled() => return false,
                permit = self.limit.clone().acquire_owned() => permit.expect("semaphore never closed"),
            };
            let started = std::time::Instant::now();
            let now = now_millis();
            self.runner.take_exclusions(now);
            let result = tokio::select! {
                () = self.shutdown.cancelled() => return false,
                result = self.runner.backfill(self.runner.settled(now)) => result,
            };
            drop(permit);
            match result {
                Ok(stats) => {
                    let done = self.done.fetch_add(1, Ordering::AcqRel) + 1;
                    self.ready();
                    tracing::info!(
                        slo = %self.runner.id(),
                        queries = stats.queries,
                        points = stats.points,
                        instances = self.runner.instance_count(),
                        took_ms = started.elapsed().as_millis() as u64,
                        progress = %format!("{done}/{}", self.total),
                        "backfill done"
                    );
                    // Publish at once so /metrics has figures before the first tick.
                    self.runner.publish(now_millis());
                    return true;
                }
                Err(err) => {
                    // Said once: at its first failure, or by the backend itself (bad keys); the
                    // retries after it only at debug.
                    let said = err.said_by_backend()
                        || last_backfill_error.as_deref() == Some(err.to_string().as_str());
                    if said {
                        tracing::debug!(slo = %self.runner.id(), error = %err, retry_in = ?delay, "backfill failed again; retrying");
                    } else {
                        tracing::warn!(slo = %self.runner.id(), error = %err, retry_in = ?delay, "backfill failed; retrying");
                    }
                    last_backfill_error = Some(err.to_string());
                    self.runner.wait(Waiting::Unreachable(err.to_string()));
                    tokio::select! {
                        () = self.shutdown.cancelled() => return false,
                        () = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(60));
                }
            }
        }
    }
}

impl Drop for SloTask {
    /// A task that ends before it is ready (stopped by a reload or shutdown, or panicking) no
    /// longer holds `/readyz` at 503.
    fn drop(&mut self) {
        self.release();
        self.readiness.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A stable offset in `[0, interval)` for a tick group (FNV-1a of its name).
pub fn tick_offset(id: &str, interval: Duration) -> Millis {
    let hash = burnwatch_engine::fnv1a(id.as_bytes());
    (hash % interval.as_millis().max(1) as u64) as Millis
}

/// The first tick strictly after `now` on the grid `offset + k * interval`.
pub fn next_tick(now: Millis, interval: Duration, offset: Millis) -> Millis {
    let interval = interval.as_millis().max(1) as Millis;
    let k = (now - offset).div_euclid(interval) + 1;
    offset + k * interval
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_the_offset_grid() {
        let interval = Duration::from_secs(30);
        assert_eq!(next_tick(60_000, interval, 5_000), 65_000);
        assert_eq!(next_tick(65_000, interval, 5_000), 95_000);
        assert_eq!(next_tick(64_999, interval, 5_000), 65_000);
    }

    #[test]
    fn offsets_spread_and_stay_inside_the_interval() {
        let interval = Duration::from_secs(30);
        let offsets: std::collections::BTreeSet<Millis> = (0..100)
            .map(|i| tick_offset(&format!("svc-{i}"), interval))
            .collect();
        assert!(offsets.iter().all(|o| (0..30_000).contains(o)));
        assert!(
            offsets.len() > 90,
            "offsets should rarely collide: {}",
            offsets.len()
        );
        assert_eq!(tick_offset("a", interval), tick_offset("a", interval));
    }
}
