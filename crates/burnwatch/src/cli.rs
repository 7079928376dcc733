//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// burnwatch: SLO monitoring daemon. Polls Prometheus-compatible backends, keeps rolling
/// multi-window burn rates in memory and exports Sloth-compatible series on /metrics.
#[derive(Debug, Parser)]
#[command(name = "burnwatch", version, propagate_version = true)]
pub struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "BURNWATCH_LOG_FORMAT")]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: backfill, poll, serve /metrics, /healthz and /readyz.
    Run {
        /// Configuration file (TOML).
        #[arg(long, short = 'c', env = "BURNWATCH_CONFIG")]
        config: PathBuf,
        /// Directory for state that outlives the process (created if missing).
        #[arg(long, default_value = "./data", env = "BURNWATCH_DATA_DIR")]
        data_dir: PathBuf,
        /// Split the SLOs over this many replicas by a stable hash of their id; each evaluates
        /// its own share (1: every SLO).
        #[arg(long, default_value_t = 1, env = "BURNWATCH_SHARD_COUNT")]
        shard_count: u64,
        /// This replica's shard, 0 to shard-count - 1. Default: the ordinal at the end of
        /// HOSTNAME (a StatefulSet's pod burnwatch-2 is shard 2).
        #[arg(long, env = "BURNWATCH_SHARD_INDEX")]
        shard_index: Option<u64>,
    },
    /// Check a configuration file and report every problem with file:line:col; exit 1 if any.
    Validate {
        /// Configuration file (TOML).
        #[arg(long, short = 'c')]
        config: PathBuf,
    },
    /// Replay history through the engine and alert policy: what would burnwatch have shown and
    /// raised? Sends no notification, ever.
    Replay {
        /// Configuration file (TOML); its backends are queried with query_range.
        #[arg(long, short = 'c')]
        config: PathBuf,
        /// First step: RFC 3339 (2026-10-01T00:00:00Z) or unix seconds. The windows are warmed
        /// up with the history before it.
        #[arg(long)]
        start: String,
        /// Last step: RFC 3339 or unix seconds.
        #[arg(long)]
        end: String,
        /// Distance between steps, a whole number of minutes.
        #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
        step: std::time::Duration,
        /// Only this SLO id (repeatable); all SLOs when absent.
        #[arg(long = "slo")]
        slos: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReplayFormat::Table)]
        format: ReplayFormat,
        /// A second configuration replayed over the same data: prints, per SLO, the episodes
        /// only one of the two raised.
        #[arg(long)]
        compare: Option<PathBuf>,
    },
}

/// How `replay` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    /// A summary per SLO instance with its episodes.
    Table,
    /// One JSON object per step and SLO instance, then a summary per instance.
    Json,
    /// The step rows as CSV.
    Csv,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (for log pipelines).
    Json,
}
