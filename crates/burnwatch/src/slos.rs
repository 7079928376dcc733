//! The running set of SLOs and its reload: the scheduler task, and everything needed to replace
//! it with one built from a new configuration.
//!
//! Each SLO runs in its own task. A reload compares the new file with the running one: SLOs
//! whose definition and backend are unchanged run on untouched (their windows, alert states
//! and readiness never notice); changed ones are stopped (handing their final state to the
//! snapshot hub) and rebuilt by a full backfill, new ones start, removed ones stop. A file with
//! the same effect changes nothing; an invalid file changes nothing either.

use std::collections::BTreeMap;
use std::sync::Arc;

use burnwatch_engine::{Board, Exclusions, Notification};
use burnwatch_scheduler::{
    Backend, PollerOptions, Readiness, SchedulerMetrics, SloRunner, Snapshots, fingerprint,
};
use burnwatch_spec::{Config, Slo};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::failure::Failure;
use crate::shard::Shard;
use burnwatch_spec::text::count;

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
    /// Excluded and silenced spans (maintenance windows, corrections), shared with the API.
    pub exclusions: Arc<Exclusions>,
    /// What runs, published after every start, reload and discovery round (the six-month
    /// record follows it).
    pub running: tokio::sync::watch::Sender<Arc<Config>>,
}

/// One SLO's task and the token that stops it.
struct Task {
    token: CancellationToken,
    handle: JoinHandle<()>,
}

/// The SLO tasks of the current configuration, by SLO id.
pub struct SloSet {
    /// What runs: the file's SLOs, then the discovered ones (this replica's share).
    config: Config,
    /// The file's configuration as loaded (this replica's share of its SLOs).
    base: Config,
    /// The SLOs `[[discover]]` made, all replicas' (the share is taken in [`SloSet::compose`]).
    discovered: Vec<Slo>,
    shared: Shared,
    tasks: BTreeMap<String, Task>,
}

impl SloSet {
    /// Starts the SLOs of `base` (the file's, this replica's share) and this replica's share
    /// of `discovered`.
    pub fn start(base: Config, discovered: Vec<Slo>, shared: Shared) -> Result<Self, Failure> {
        let mut set = SloSet {
            config: base.clone(),
            base,
            discovered,
            shared,
            tasks: BTreeMap::new(),
        };
        set.config = set.compose(&set.base, &set.discovered);
        set.shared
            .running
            .send_replace(Arc::new(set.config.clone()));
        let backends = crate::backends::connect(&set.config, &set.shared.metrics)?;
        set.shared
            .exclusions
            .set("maintenance", maintenance(&set.config));
        set.tasks = spawn(set.config.slos.iter(), &backends, &set.shared);
        Ok(set)
    }

    /// The configuration running now.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The file's configuration (without discovered SLOs).
    pub fn base(&self) -> &Config {
        &self.base
    }

    /// `base` with this replica's share of `discovered` after its own SLOs.
    fn compose(&self, base: &Config, discovered: &[Slo]) -> Config {
        let mut config = base.clone();
        let own: std::collections::BTreeSet<&str> =
            base.slos.iter().map(|s| s.id.as_str()).collect();
        let mut extra = base.clone();
        extra.slos = discovered
            .iter()
            .filter(|s| !own.contains(s.id.as_str()))
            .cloned()
            .collect();
        config.slos.extend(self.shared.shard.select(extra).slos);
        config
    }

    /// Runs `discovered` (what `[[discover]]` holds now) as a reload would: SLOs unchanged since
    /// the last call run on, new ones start with a backfill, retired ones stop. Nothing happens
    /// when the set is the same.
    pub async fn set_discovered(&mut self, discovered: Vec<Slo>) {
        let same = discovered.len() == self.discovered.len()
            && discovered
                .iter()
                .zip(&self.discovered)
                .all(|(a, b)| a.id == b.id && fingerprint(a) == fingerprint(b));
        if same {
            return;
        }
        let previous = std::mem::replace(&mut self.discovered, discovered);
        let new = self.compose(&self.base.clone(), &self.discovered);
        match self.apply(new, None).await {
            Ok(summary) => tracing::info!("discovery: {summary}"),
            Err(err) => {
                // Tried again at the next change (or reload).
                self.discovered = previous;
                tracing::error!(error = %err, "discovery: the discovered SLOs could not be applied");
            }
        }
    }

    /// Reloads from the configuration's file. Only SLOs whose definition or backend changed,
    /// and new ones, are (re)started; the others run on untouched. A file with the same effect
    /// changes nothing. On an invalid file every problem is logged, the gauge goes to 0 and the
    /// running SLOs are untouched. Returns what happened, for the caller to report.
    pub async fn reload(&mut self) -> Result<String, String> {
        let path = self.config.source.clone();
        let base = match burnwatch_spec::load(&path) {
            Ok(new) => self.shared.shard.select(new),
            Err(errors) => {
                self.shared.reload.successful.set(0);
                for error in errors.iter() {
                    tracing::error!(problem = %error, "configuration reload rejected; the previous configuration keeps running");
                }
                return Err(format!(
                    "{} has {}; the previous configuration keeps running:\n{errors}",
                    path.display(),
                    count(errors.len(), "problem")
                ));
            }
        };
        let new = self.compose(&base, &self.discovered);
        let applied = self.apply(new, Some(&path)).await;
        if applied.is_ok() {
            self.base = base;
            self.shared.reload.succeeded();
        }
        applied
    }

    /// Runs `new` in place of the running configuration: only SLOs whose definition or backend
    /// changed, and new ones, are (re)started; the others run on untouched. `file` names the
    /// reloaded file (none: a discovery change).
    async fn apply(
        &mut self,
        new: Config,
        file: Option<&std::path::Path>,
    ) -> Result<String, String> {
        let path = file.unwrap_or(&self.config.source).to_path_buf();
        let mut notes = Vec::new();
        if new.server != self.config.server {
            notes.push("[server] changes take effect at the next restart");
        }
        if new.receivers != self.config.receivers || new.routes != self.config.routes {
            notes.push("receivers and routes take effect at the next restart");
        }
        if new.digests != self.config.digests {
            notes.push("[[digest]] changes take effect at the next restart");
        }
        if new.record.enabled != self.config.record.enabled {
            notes.push("[record] enabled takes effect at the next restart");
        }
        for note in &notes {
            tracing::warn!("{note}");
        }
        let kept = |slo: &Slo, other: &Config| {
            other.slos.iter().any(|o| {
                o.id == slo.id
                    && fingerprint(o) == fingerprint(slo)
                    && other.backends.get(&o.backend) == self.config.backends.get(&slo.backend)
            })
        };
        let stop: Vec<String> = self
            .config
            .slos
            .iter()
            .filter(|old| !kept(old, &new))
            .map(|old| old.id.clone())
            .collect();
        let start: Vec<&Slo> = new
            .slos
            .iter()
            .filter(|slo| !self.tasks.contains_key(&slo.id) || stop.contains(&slo.id))
            .collect();
        let running = new.slos.len() - start.len();
        let removed = self
            .config
            .slos
            .iter()
            .filter(|old| !new.slos.iter().any(|s| s.id == old.id))
            .count();
        // Clients for the new SLOs first: if they cannot be built, nothing has stopped.
        let backends = match crate::backends::connect(&new, &self.shared.metrics) {
            Ok(backends) => backends,
            Err(err) => {
                let message = match err {
                    Failure::Config(m) | Failure::Runtime(m) | Failure::Usage(m) => m,
                    Failure::Gate(code) => format!("unexpected gate exit {code}"),
                };
                if file.is_some() {
                    self.shared.reload.successful.set(0);
                    tracing::error!(error = %message, "configuration reload failed; the previous configuration keeps running");
                }
                return Err(message);
            }
        };
        // Runners compare the spans with what they hold on their next tick; a window moved
        // over the past makes them read their history again.
        let maintenance_changed = new.maintenance != self.config.maintenance;
        if maintenance_changed {
            self.shared.exclusions.set("maintenance", maintenance(&new));
        }
        for id in &stop {
            if let Some(task) = self.tasks.remove(id) {
                // It hands its final state to the snapshot hub before it ends.
                task.token.cancel();
                let _ = task.handle.await;
            }
            // Removed or changed: its instances leave /metrics; a changed SLO backfills anew.
            self.shared.board.remove_slo(id);
        }
        let ids: Vec<&str> = new.slos.iter().map(|s| s.id.as_str()).collect();
        self.shared.snapshots.retain(&ids);
        let started = start.len();
        self.tasks
            .extend(spawn(start.into_iter(), &backends, &self.shared));
        let summary = if file.is_none() {
            format!(
                "{}, {running} kept their state and run on, {started} added or rebuilt, \
                 {removed} removed",
                count(new.slos.len(), "SLO")
            )
        } else if stop.is_empty() && started == 0 && maintenance_changed {
            format!(
                "reloaded {}: maintenance windows changed ({} defined), {} run on",
                path.display(),
                new.maintenance.len(),
                count(running, "SLO")
            )
        } else if stop.is_empty() && started == 0 {
            format!(
                "{} unchanged: {} run on, nothing restarted",
                path.display(),
                count(running, "SLO")
            )
        } else {
            format!(
                "reloaded {}: {}, {running} kept their state and run on, {started} rebuilt \
                 or added, {removed} removed",
                path.display(),
                count(new.slos.len(), "SLO"),
            )
        };
        let summary = if notes.is_empty() {
            summary
        } else {
            format!("{summary}; {}", notes.join("; "))
        };
        if file.is_some() {
            tracing::info!("{summary}");
        }
        self.shared.running.send_replace(Arc::new(new.clone()));
        self.config = new;
        Ok(summary)
    }

    /// Waits for the SLO tasks to end (after the process-wide shutdown).
    pub async fn join(self) {
        for (_, task) in self.tasks {
            let _ = task.handle.await;
        }
    }
}

/// Starts a task for each of `slos`, each with its own token under the process-wide shutdown.
/// The `[[maintenance]]` windows of `config` as the span source runners, replay and reports
/// register under `"maintenance"`.
pub(crate) fn maintenance(config: &Config) -> Arc<dyn burnwatch_engine::SpanSource> {
    Arc::new(burnwatch_spec::maintenance::MaintenanceSpans::new(
        &config.maintenance,
    ))
}

fn spawn<'a>(
    slos: impl Iterator<Item = &'a Slo>,
    backends: &BTreeMap<String, Arc<dyn Backend>>,
    shared: &Shared,
) -> BTreeMap<String, Task> {
    let mut tokens = BTreeMap::new();
    let runners: Vec<(SloRunner, CancellationToken)> = slos
        .map(|slo| {
            let token = shared.shutdown.child_token();
            tokens.insert(slo.id.clone(), token.clone());
            // Validation guarantees the backend exists.
            let runner = SloRunner::new(
                slo.clone(),
                Arc::clone(&backends[&slo.backend]),
                Arc::clone(&shared.board),
                Arc::clone(&shared.metrics),
            )
            .with_notifier(shared.notifications.clone())
            .with_exclusions(Arc::clone(&shared.exclusions));
            (runner, token)
        })
        .collect();
    burnwatch_scheduler::spawn(
        runners,
        shared.poller,
        Arc::clone(&shared.metrics),
        Arc::clone(&shared.readiness),
        Arc::clone(&shared.snapshots),
    )
    .into_iter()
    .map(|(id, handle)| {
        let token = tokens.remove(&id).expect("a token per SLO");
        (id, Task { token, handle })
    })
    .collect()
}
