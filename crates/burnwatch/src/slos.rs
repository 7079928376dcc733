//! The running set of SLOs and its reload: the scheduler task, and everything needed to replace
//! it with one built from a new configuration.
//!
//! A reload stops the SLO tasks (each hands its final state to the snapshot hub), builds runners
//! from the new file and starts them; an SLO whose definition is unchanged resumes from its
//! snapshot, so its windows and alert states carry over. An invalid file changes nothing.

use std::sync::Arc;

use burnwatch_engine::{Board, Notification};
use burnwatch_scheduler::{
    PollerOptions, Readiness, SchedulerMetrics, SloRunner, Snapshots, fingerprint,
};
use burnwatch_spec::Config;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::Failure;
use crate::shard::Shard;

/// `burnwatch_config_last_reload_successful` and its timestamp, as Prometheus names them.
#[derive(Debug, Clone, Default)]
pub struct ReloadMetrics {
    successful: Gauge,
    success_time: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl ReloadMetrics {
    /// Registers both gauges; the loaded configuration counts as a successful load.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = ReloadMetrics::default();
        registry.register(
            "burnwatch_config_last_reload_successful",
            "1 when the last configuration (re)load succeeded, 0 when the file was invalid and the previous one kept running.",
            metrics.successful.clone(),
        );
        registry.register(
            "burnwatch_config_last_reload_success_timestamp_seconds",
            "When the configuration was last loaded successfully (unix seconds).",
            metrics.success_time.clone(),
        );
        metrics.succeeded();
        metrics
    }

    fn succeeded(&self) {
        self.successful.set(1);
        self.success_time
            .set(burnwatch_scheduler::now_millis() as f64 / 1000.0);
    }
}

/// What every generation of SLO tasks shares.
pub struct Shared {
    /// Published figures.
    pub board: Arc<Board>,
    /// Scheduler self-metrics.
    pub metrics: Arc<SchedulerMetrics>,
    /// Backfill progress for /readyz.
    pub readiness: Arc<Readiness>,
    /// State handed over between generations (and to the snapshot file).
    pub snapshots: Arc<Snapshots>,
    /// Where alert transitions go.
    pub notifications: UnboundedSender<Notification>,
    /// The process-wide shutdown.
    pub shutdown: CancellationToken,
    /// Reload outcome gauges.
    pub reload: ReloadMetrics,
    /// Which SLOs this replica evaluates.
    pub shard: Shard,
    /// Polling settings.
    pub poller: PollerOptions,
}

/// The SLO tasks of the current configuration.
pub struct SloSet {
    config: Config,
    shared: Shared,
    token: CancellationToken,
    task: JoinHandle<()>,
}

impl SloSet {
    /// Starts the SLOs of `config`.
    pub fn start(config: Config, shared: Shared) -> Result<Self, Failure> {
        let token = shared.shutdown.child_token();
        let task = spawn(&config, &shared, token.clone())?;
        Ok(SloSet {
            config,
            shared,
            token,
            task,
        })
    }

    /// The configuration running now.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Reloads from the configuration's file. On an invalid file every problem is logged, the
    /// gauge goes to 0 and the running SLOs are untouched. Returns what happened, for the caller
    /// to report.
    pub async fn reload(&mut self) -> Result<String, String> {
        let path = self.config.source.clone();
        let new = match burnwatch_spec::load(&path) {
            Ok(new) => self.shared.shard.select(new),
            Err(errors) => {
                self.shared.reload.successful.set(0);
                for error in errors.iter() {
                    tracing::error!(problem = %error, "configuration reload rejected; the previous configuration keeps running");
                }
                return Err(format!(
                    "{} has {} problem(s); the previous configuration keeps running:\n{errors}",
                    path.display(),
                    errors.len()
                ));
            }
        };
        let mut notes = Vec::new();
        if new.server != self.config.server {
            notes.push("[server] changes take effect at the next restart");
        }
        if new.receivers != self.config.receivers || new.routes != self.config.routes {
            notes.push("receivers and routes take effect at the next restart");
        }
        for note in &notes {
            tracing::warn!("{note}");
        }

        // Stop the current tasks: each hands its final state to the snapshot hub.
        self.token.cancel();
        let _ = (&mut self.task).await;
        let mut kept = 0;
        for old in &self.config.slos {
            let same = new
                .slos
                .iter()
                .any(|s| s.id == old.id && fingerprint(s) == fingerprint(old));
            if same {
                kept += 1;
            } else {
                // Removed or changed: its instances leave /metrics; a changed SLO backfills anew.
                self.shared.board.remove_slo(&old.id);
            }
        }
        let ids: Vec<&str> = new.slos.iter().map(|s| s.id.as_str()).collect();
        self.shared.snapshots.retain(&ids);
        let token = self.shared.shutdown.child_token();
        let task = match spawn(&new, &self.shared, token.clone()) {
            Ok(task) => task,
            Err(err) => {
                // Backends could not be built: go on with the old configuration.
                let message = match err {
                    Failure::Config(m) | Failure::Runtime(m) | Failure::Usage(m) => m,
                    Failure::Gate(code) => format!("unexpected gate exit {code}"),
                };
                self.shared.reload.successful.set(0);
                tracing::error!(error = %message, "configuration reload failed; restarting the previous configuration");
                self.token = self.shared.shutdown.child_token();
                self.task = spawn(&self.config, &self.shared, self.token.clone())
                    .map_err(|_| message.clone())?;
                return Err(message);
            }
        };
        let summary = format!(
            "reloaded {}: {} SLOs, {kept} kept their state{}",
            path.display(),
            new.slos.len(),
            if notes.is_empty() {
                String::new()
            } else {
                format!("; {}", notes.join("; "))
            }
        );
        tracing::info!("{summary}");
        self.token = token;
        self.task = task;
        self.config = new;
        self.shared.reload.succeeded();
        Ok(summary)
    }

    /// Waits for the SLO tasks to end (after the process-wide shutdown).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

fn spawn(
    config: &Config,
    shared: &Shared,
    token: CancellationToken,
) -> Result<JoinHandle<()>, Failure> {
    let backends = crate::backends::connect(config, &shared.metrics)?;
    let runners: Vec<SloRunner> = config
        .slos
        .iter()
        .map(|slo| {
            // Validation guarantees the backend exists.
            SloRunner::new(
                slo.clone(),
                Arc::clone(&backends[&slo.backend]),
                Arc::clone(&shared.board),
                Arc::clone(&shared.metrics),
            )
            .with_notifier(shared.notifications.clone())
        })
        .collect();
    Ok(tokio::spawn(burnwatch_scheduler::run(
        runners,
        shared.poller,
        Arc::clone(&shared.metrics),
        Arc::clone(&shared.readiness),
        Arc::clone(&shared.snapshots),
        token,
    )))
}
