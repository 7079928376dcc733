//! The daemon's six-month record writer: after the live backfill is ready, it fills
//! `record.db` with every closed UTC day of every SLO it does not hold yet (as far back as
//! `[record] retention`, or as the backend's data goes), then writes each day as it closes.
//!
//! Days are computed by replay (`SloRunner::replay`, the machinery of `burnwatch report`), one
//! SLO and at most [`CHUNK_DAYS`] at a time, on a task of its own: never on the tick path, and
//! a failure (backend or database) is logged, counted and retried, never fatal. A day is
//! written [`SETTLE`] after it closes, so that late samples are in the backend.

mod days;
mod metrics;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Board, Exclusions, Millis};
use burnwatch_record::{Day, RecordDb, SharedRecord};
use burnwatch_scheduler::{Backend, Readiness, SchedulerMetrics, SloRunner, now_millis};
use burnwatch_spec::{Config, Sli, Slo};
use tokio_util::sync::CancellationToken;

pub use days::DayCollector;
pub use metrics::RecordMetrics;

use crate::report::STEP;

/// How long after midnight UTC a day is written: the backend's scrape and ingestion lag.
pub const SETTLE: Duration = Duration::from_secs(600);

/// The most days one replay covers, so a long backfill is written (and survives a restart)
/// piece by piece.
pub const CHUNK_DAYS: i64 = 30;

/// How far back an incident still open is followed: its days are replayed again until it
/// resolves.
const OPEN_INCIDENT_DAYS: i64 = 7;

/// When a replay or a write failed, the next try.
const RETRY: Duration = Duration::from_secs(300);

/// The record writer's parts.
pub struct Recorder {
    /// Where the opened database goes (for the HTTP server too).
    pub db: SharedRecord,
    /// The data directory.
    pub data_dir: std::path::PathBuf,
    /// What runs: the configuration at start, then after every reload and discovery round
    /// (an SLO added meanwhile gets its days backfilled at once).
    pub running: tokio::sync::watch::Receiver<Arc<Config>>,
    /// Excluded and silenced spans, as the live runners have them.
    pub exclusions: Arc<Exclusions>,
    /// Its self-metrics.
    pub metrics: RecordMetrics,
    /// The live backfill's progress: the record waits for it.
    pub readiness: Arc<Readiness>,
    /// Stops it.
    pub shutdown: CancellationToken,
}

impl Recorder {
    /// Runs until shutdown.
    pub async fn run(mut self) {
        let dir = self.data_dir.clone();
        let db = match tokio::task::spawn_blocking(move || RecordDb::open(&dir, now_millis())).await
        {
            Ok(Ok(db)) => Arc::new(db),
            Ok(Err(err)) => {
                self.metrics.errors.inc();
                tracing::warn!(error = %err, dir = %self.data_dir.display(), "cannot open the record database; not keeping the record");
                return;
            }
            Err(_) => return,
        };
        self.db.set(Arc::clone(&db));
        let scheduler_metrics = Arc::new(SchedulerMetrics::unregistered());
        // The live backfill goes first: the record must never delay paging.
        while !self.readiness.is_ready() {
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        loop {
            let config = Arc::clone(&self.running.borrow_and_update());
            let retention = i64::from(config.record.retention_days);
            let now = now_millis();
            let last = Day::of(now - SETTLE.as_millis() as Millis).plus(-1);
            let oldest = last.plus(1 - retention);
            let ok = match crate::backends::connect(&config, &scheduler_metrics) {
                Ok(backends) => self.catch_up(&config, &db, &backends, oldest, last).await,
                Err(err) => {
                    self.metrics.errors.inc();
                    tracing::warn!(error = ?err, "the record cannot reach the backends; retrying");
                    false
                }
            };
            let db = Arc::clone(&db);
            match tokio::task::spawn_blocking(move || db.prune(oldest)).await {
                Ok(Ok(removed)) if removed > 0 => {
                    tracing::info!(removed, "record: days past the retention removed")
                }
                Ok(Ok(_)) => {}
                Ok(Err(err)) => {
                    self.metrics.errors.inc();
                    tracing::warn!(error = %err, "record: cannot remove old days");
                }
                Err(err) => tracing::warn!(error = %err, "record: prune task failed"),
            }
            let next_close = last.plus(2).start() + SETTLE.as_millis() as Millis;
            let mut wait = Duration::from_millis((next_close - now_millis()).max(1000) as u64);
            if !ok {
                wait = wait.min(RETRY);
            }
            // SLOs added by a reload or a discovery round get their days at once.
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
                changed = self.running.changed() => if changed.is_err() {
                    // The SLO set is gone: the daemon is stopping.
                    return;
                }
            }
        }
    }

    /// Writes every SLO's missing days in `[oldest, last]`; false when something failed.
    async fn catch_up(
        &self,
        config: &Config,
        db: &Arc<RecordDb>,
        backends: &BTreeMap<String, Arc<dyn Backend>>,
        oldest: Day,
        last: Day,
    ) -> bool {
        let slos: Vec<&Slo> = config
            .slos
            .iter()
            .filter(|s| !matches!(s.sli, Sli::Composite { .. }))
            .collect();
        let mut missing: Vec<(&Slo, Vec<Day>)> = Vec::new();
        for slo in slos {
            let (handle, id) = (Arc::clone(db), slo.id.clone());
            match tokio::task::spawn_blocking(move || handle.covered(&id, oldest, last)).await {
                Ok(Ok(covered)) => {
                    let days: Vec<Day> = (oldest.0..=last.0)
                        .map(Day)
                        .filter(|d| !covered.contains(d))
                        .collect();
                    if !days.is_empty() {
                        missing.push((slo, days));
                    }
                }
                Ok(Err(err)) => {
                    self.metrics.errors.inc();
                    tracing::warn!(slo = %slo.id, error = %err, "record: cannot read it");
                    return false;
                }
                Err(_) => return false,
            }
        }
        let pending: usize = missing.iter().map(|(_, d)| d.len()).sum();
        self.metrics.pending.set(pending as i64);
        if pending == 0 {
            return true;
        }
        tracing::info!(
            slos = missing.len(),
            days = pending,
            from = %oldest,
            to = %last,
            "record: writing days"
        );
        let mut ok = true;
        for (slo, days) in missing {
            let backend = &backends[&slo.backend];
            let mut todo = days;
            while let Some(&first_missing) = todo.first() {
                if self.shutdown.is_cancelled() {
                    return ok;
                }
                // An incident still open is replayed again from its day, so its end is seen.
                let since = first_missing.plus(-OPEN_INCIDENT_DAYS).start();
                let (handle, id) = (Arc::clone(db), slo.id.clone());
                let open =
                    tokio::task::spawn_blocking(move || handle.oldest_open_incident(&id, since))
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .flatten();
                let first = open.map_or(first_missing, |s| Day::of(s).min(first_missing));
                let end = first.plus(CHUNK_DAYS - 1).min(last);
                match self.write_days(db, slo, backend, first, end).await {
                    Ok(written) => {
                        todo.retain(|d| *d > end);
                        tracing::info!(slo = %slo.id, from = %first, to = %end, rows = written, "record: days written");
                    }
                    Err(err) => {
                        self.metrics.errors.inc();
                        tracing::warn!(slo = %slo.id, from = %first, to = %end, error = %err, "record: cannot write days; retrying later");
                        ok = false;
                        break;
                    }
                }
                self.metrics
                    .pending
                    .set((self.metrics.pending.get() - (end.0 - first_missing.0 + 1)).max(0));
            }
        }
        ok
    }

    /// Replays `slo` over the days `[first, last]` and writes them, one transaction per day;
    /// returns the rows written.
    async fn write_days(
        &self,
        db: &Arc<RecordDb>,
        slo: &Slo,
        backend: &Arc<dyn Backend>,
        first: Day,
        last: Day,
    ) -> Result<usize, String> {
        let mut runner = SloRunner::new(
            slo.clone(),
            Arc::clone(backend),
            Arc::new(Board::new()),
            Arc::new(SchedulerMetrics::unregistered()),
        )
        .with_exclusions(Arc::clone(&self.exclusions));
        let mut collector = DayCollector::new(&slo.id, first, last);
        let mut on_step = |step: burnwatch_scheduler::ReplayStep<'_>| collector.step(&step);
        runner
            .replay(first.start(), last.end(), STEP, &mut on_step)
            .await
            .map_err(|err| format!("replay failed: {err}"))?;
        let batches = collector.batches(runner.spans());
        let db = Arc::clone(db);
        let metrics = self.metrics.clone();
        tokio::task::spawn_blocking(move || {
            let mut rows = 0;
            for batch in &batches {
                db.write(batch)
                    .map_err(|err| format!("{} of {}: {err}", batch.day, batch.slo))?;
                metrics.days.inc();
                rows += batch.rows.len();
            }
            Ok(rows)
        })
        .await
        .map_err(|err| format!("write task failed: {err}"))?
    }
}
