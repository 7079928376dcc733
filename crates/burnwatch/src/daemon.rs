//! `burnwatch run`: wire config, scheduler and HTTP server, then wait for signals.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Board, Exclusions};
use burnwatch_http::corrections::Corrections;
use burnwatch_http::{
    AppState, DiscoveryView, Dispatcher, ReadyCheck, ReloadRequest, SloCollector,
};
use burnwatch_scheduler::{
    PollerOptions, Readiness, SchedulerMetrics, Snapshots, Store, now_millis,
};
use burnwatch_spec::{Config, ServerLimits};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::discovery::{Discovery, DiscoveryMetrics};
use crate::failure::Failure;
use crate::shard::Shard;
use crate::signal::{Signal, Signals};
use crate::slos::{ReloadMetrics, Shared, SloSet};
use crate::watch::ConfigWatch;
use burnwatch_spec::text::count;

/// How often the configuration file is checked for changes (a mounted ConfigMap).
const CONFIG_POLL: Duration = Duration::from_secs(5);

/// How long in-flight work may take after SIGTERM before the process exits anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(4);

/// How `burnwatch run` was asked to run, beyond the configuration file.
pub struct Options {
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// `--shard-count`/`--shard-index`.
    pub shard: Shard,
    /// `--snapshot-interval`.
    pub snapshot_interval: Duration,
    /// Where excluded and silenced spans come from (as for replay and reports).
    pub spans: crate::replay::SpanOptions,
}

pub async fn run(config: Config, options: Options) -> Result<(), Failure> {
    let Options {
        data_dir,
        shard,
        snapshot_interval,
        spans,
    } = options;
    let data_dir = data_dir.as_path();
    let all = config.slos.len();
    // Digests replay the backend's history, so one replica sends them for every SLO: shard 0.
    let digest_config =
        (!config.digests.is_empty() && shard.index() == 0).then(|| Arc::new(config.clone()));
    let digest_clock = crate::digest::clock::DigestClock::from_env().map_err(Failure::Usage)?;
    let config = shard.select(config);
    std::fs::create_dir_all(data_dir).map_err(|err| {
        Failure::Runtime(format!(
            "cannot create data directory {}: {err}; pass a writable --data-dir",
            data_dir.display()
        ))
    })?;

    let reload_token = config.server.reload_token.clone();
    let api_token = config.server.api_token.clone();
    let mut registry = Registry::default();
    let metrics = Arc::new(SchedulerMetrics::register(&mut registry));
    let board = Arc::new(Board::new());
    let exclusions: Arc<Exclusions> = crate::replay::exclusions(&spans, &config)?;
    // Loaded before any runner starts, so the first backfill already leaves them out.
    let corrections = Corrections::open(data_dir, Arc::clone(&exclusions), now_millis());
    // The SLO series in a registry of their own: /metrics encodes them once per board version
    // and the self-metrics per scrape (see the http crate's scrape.rs).
    let mut slo_registry = Registry::default();
    slo_registry.register_collector(Box::new(
        SloCollector::new(Arc::clone(&board)).with_alerts_series(config.server.alerts_series),
    ));
    // The six-month record: opened by its writer task, read by the HTTP server, counted into
    // by the notifier.
    let record = burnwatch_record::SharedRecord::default();
    let dispatcher = Dispatcher::new(&config, &mut registry)
        .map_err(|err| Failure::Config(format!("{err} (in {})", config.source.display())))?
        .with_state_dir(data_dir)
        .with_board(Arc::clone(&board))
        .with_record(record.clone());
    let digest_sender = Arc::new(
        dispatcher
            .digest_sender(Some(data_dir), now_millis())
            .map_err(|err| Failure::Config(format!("{err} (in {})", config.source.display())))?,
    );
    let reload_metrics = ReloadMetrics::register(&mut registry);
    let discovery_view = DiscoveryView::default();
    let mut discovery = Discovery::new(
        &config,
        &metrics,
        DiscoveryMetrics::register(&mut registry),
        discovery_view.clone(),
    );
    let has_discovery = !config.discover.is_empty();
    let record_metrics = crate::record::RecordMetrics::register(&mut registry);
    let registry = Arc::new(registry);
    let (notifications, notification_rx) = tokio::sync::mpsc::unbounded_channel();
    let listener = TcpListener::bind(config.server.listen)
        .await
        .map_err(|err| {
            Failure::Runtime(format!(
                "cannot listen on {} ([server] listen in {}): {err}",
                config.server.listen,
                config.source.display()
            ))
        })?;
    let limits = server_limits(&config);
    tracing::info!(
        listen = %config.server.listen,
        max_connections = limits.max_connections,
        slos = config.slos.len(),
        backends = config.backends.len(),
        receivers = config.receivers.len(),
        config = %config.source.display(),
        "burnwatch started; backfilling"
    );
    if shard.is_split() {
        tracing::info!(
            shard = %shard.describe(),
            "sharded: this replica evaluates {} of the {}",
            config.slos.len(),
            count(all, "SLO")
        );
    }

    let shutdown = CancellationToken::new();
    let readiness = Arc::new(Readiness::default());
    let ready: ReadyCheck = {
        let readiness = Arc::clone(&readiness);
        Arc::new(move || {
            if readiness.is_ready() {
                Ok(())
            } else {
                let pending = readiness.pending();
                Err(format!(
                    "backfill: {} of {} ready, {pending} pending",
                    readiness.total().saturating_sub(pending),
                    count(readiness.total(), "SLO"),
                ))
            }
        })
    };
    // State from the previous run: SLOs whose definition is unchanged resume from it.
    let store = Store::new(data_dir);
    let loading = std::time::Instant::now();
    let loaded = store.load(now_millis());
    if !loaded.is_empty() {
        tracing::info!(
            slos = loaded.len(),
            instances = loaded.instances(),
            elapsed_ms = loading.elapsed().as_millis() as u64,
            "state snapshot loaded"
        );
    }
    // The first discovery round before anything starts: discovered SLOs resume from the
    // snapshot like the file's own.
    if has_discovery {
        discovery.run_due().await;
    }
    let discovered = discovery.slos();
    let ids: Vec<&str> = config
        .slos
        .iter()
        .chain(&discovered)
        .map(|s| s.id.as_str())
        .collect();
    let snapshots = Arc::new(Snapshots::new(loaded));
    snapshots.retain(&ids);
    let writer = tokio::spawn(write_snapshots(
        Arc::clone(&snapshots),
        store.clone(),
        Arc::clone(&metrics),
        snapshot_interval,
        shutdown.clone(),
    ));
    let (running, running_rx) = tokio::sync::watch::channel(Arc::new(config.clone()));
    let recorder = config.record.enabled.then(|| crate::record::Recorder {
        db: record.clone(),
        data_dir: data_dir.to_path_buf(),
        running: running_rx,
        exclusions: Arc::clone(&exclusions),
        metrics: record_metrics,
        readiness: Arc::clone(&readiness),
        shutdown: shutdown.clone(),
    });
    let mut slos = SloSet::start(
        config,
        discovered,
        Shared {
            board: Arc::clone(&board),
            metrics: Arc::clone(&metrics),
            readiness,
            snapshots: Arc::clone(&snapshots),
            notifications,
            shutdown: shutdown.clone(),
            reload: reload_metrics,
            shard,
            poller: PollerOptions {
                snapshot_interval,
                ..PollerOptions::default()
            },
            exclusions: Arc::clone(&exclusions),
            running,
        },
    )?;
    let (reload_tx, mut reload_rx) = tokio::sync::mpsc::channel::<ReloadRequest>(4);
    let delivery = dispatcher.spawn(notification_rx, shutdown.clone());
    let digests = match digest_config {
        Some(config) => crate::digest::task::spawn(
            config,
            digest_sender,
            Arc::clone(&exclusions),
            digest_clock,
            shutdown.clone(),
        ),
        None => Vec::new(),
    };
    if let Some(recorder) = recorder {
        tokio::spawn(recorder.run());
    }
    let server = tokio::spawn(burnwatch_http::serve(
        listener,
        AppState::new(registry, ready)
            .with_reload(reload_tx)
            .with_reload_token(reload_token)
            .with_limits(limits)
            .with_board(board)
            .with_slo_metrics(Arc::new(slo_registry))
            .with_exclusions(exclusions)
            .with_corrections(corrections)
            .with_record(record)
            .with_api_token(api_token)
            .with_discovery_if(has_discovery, discovery_view),
        shutdown.clone(),
    ));

    let mut signals = Signals::new()
        .map_err(|err| Failure::Runtime(format!("cannot install signal handlers: {err}")))?;
    let mut watch = ConfigWatch::new(slos.config().source.clone());
    let mut poll = tokio::time::interval(CONFIG_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let next_discovery = discovery
            .next_due()
            .unwrap_or_else(|| std::time::Instant::now() + crate::discovery::IDLE);
        tokio::select! {
            _ = poll.tick() => {
                if watch.changed() {
                    tracing::info!("{} changed: reloading", slos.config().source.display());
                    let _ = reload(&mut slos, &mut discovery, &metrics).await;
                }
            }
            () = tokio::time::sleep_until(next_discovery.into()) => {
                if discovery.run_due().await {
                    slos.set_discovered(discovery.slos()).await;
                }
            }
            signal = signals.next() => match signal {
                Signal::Reload => {
                    tracing::info!("SIGHUP: reloading {}", slos.config().source.display());
                    watch.mark_seen();
                    let _ = reload(&mut slos, &mut discovery, &metrics).await;
                }
                Signal::Terminate(name) => {
                    tracing::info!(signal = name, "shutting down");
                    break;
                }
            },
            Some(answer) = reload_rx.recv() => {
                tracing::info!("POST /-/reload: reloading {}", slos.config().source.display());
                watch.mark_seen();
                let _ = answer.send(reload(&mut slos, &mut discovery, &metrics).await);
            }
        }
    }
    shutdown.cancel();
    let drained = async {
        slos.join().await;
        // Every SLO task handed over its final state before ending: write it once more.
        let _ = writer.await;
        save(&snapshots, &store, &metrics).await;
        let _ = delivery.await;
        for digest in digests {
            let _ = digest.await;
        }
        server.await
    };
    tokio::select! {
        joined = tokio::time::timeout(DRAIN_TIMEOUT, drained) => match joined {
            Ok(Ok(Ok(()))) => tracing::info!("stopped"),
            Ok(Ok(Err(err))) => return Err(Failure::Runtime(format!("HTTP server failed: {err}"))),
            Ok(Err(err)) => return Err(Failure::Runtime(format!("HTTP server task failed: {err}"))),
            Err(_) => tracing::warn!(timeout = ?DRAIN_TIMEOUT, "drain timed out; exiting anyway"),
        },
        Signal::Terminate(name) = signals.next_terminate() => {
            tracing::warn!(signal = name, "second signal: exiting without draining");
        }
    }
    Ok(())
}

/// Reloads the file; on success the discoveries follow the new file's `[[discover]]`s.
async fn reload(
    slos: &mut SloSet,
    discovery: &mut Discovery,
    metrics: &Arc<SchedulerMetrics>,
) -> Result<String, String> {
    let outcome = slos.reload().await;
    if outcome.is_ok() {
        discovery.configure(slos.base(), metrics);
        slos.set_discovered(discovery.slos()).await;
    }
    outcome
}

/// Descriptors kept for each backend's and each receiver's connections when the connection
/// cap is derived from the open-file limit.
const FILES_PER_BACKEND: usize = 8;
const FILES_PER_RECEIVER: usize = 4;

/// `[server]` limits with `max_connections` lowered to what the open-file limit leaves after
/// the backend and receiver connections (said in the log when it lowers it).
fn server_limits(config: &Config) -> ServerLimits {
    let wanted = config.server.limits.max_connections;
    let reserved =
        FILES_PER_BACKEND * config.backends.len() + FILES_PER_RECEIVER * config.receivers.len();
    let (cap, nofile) = burnwatch_http::connection_cap(wanted, reserved);
    if cap < wanted {
        tracing::warn!(
            max_connections = cap,
            configured = wanted,
            open_file_limit = nofile,
            "the open-file limit allows fewer connections than [server] max_connections; \
             raise it (ulimit -n) to serve more"
        );
    }
    ServerLimits {
        max_connections: cap,
        ..config.server.limits
    }
}

/// Writes the snapshot file every snapshot interval until shutdown.
async fn write_snapshots(
    snapshots: Arc<Snapshots>,
    store: Store,
    metrics: Arc<SchedulerMetrics>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        save(&snapshots, &store, &metrics).await;
    }
}

/// One atomic write of every SLO's newest state, off the async threads.
async fn save(snapshots: &Arc<Snapshots>, store: &Store, metrics: &SchedulerMetrics) {
    let (snapshots, store) = (Arc::clone(snapshots), store.clone());
    let written = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        snapshots
            .save(&store, now_millis())
            .map(|slos| (slos, started.elapsed()))
            .map_err(|err| format!("{}: {err}", store.path().display()))
    })
    .await;
    match written {
        Ok(Ok((slos, took))) => {
            metrics.record_snapshot_write(took);
            tracing::debug!(
                slos,
                took_ms = took.as_millis() as u64,
                "state snapshot written"
            );
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "cannot write the state snapshot; retrying at the next interval")
        }
        Err(err) => tracing::warn!(error = %err, "state snapshot task failed"),
    }
}
