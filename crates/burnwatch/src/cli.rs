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
    },
    /// Check a configuration file and report every problem with file:line:col; exit 1 if any.
    Validate {
        /// Configuration file (TOML).
        #[arg(long, short = 'c')]
        config: PathBuf,
    },
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (for log pipelines).
    Json,
}
