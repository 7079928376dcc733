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
        /// How often the state snapshot in the data dir is written (also at shutdown); after a
        /// kill -9 at most this much is read again from the backend. 1s to 1h.
        #[arg(long, default_value = "1m", value_parser = snapshot_interval, env = "BURNWATCH_SNAPSHOT_INTERVAL")]
        snapshot_interval: std::time::Duration,
        /// A JSON file of spans excluded or silenced for every SLO (tests).
        #[arg(long, hide = true, env = "BURNWATCH_EXCLUSION_SPANS")]
        exclusion_spans: Option<PathBuf>,
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
        /// Count every event, as if no maintenance window or correction existed: the
        /// counterfactual.
        #[arg(long)]
        ignore_exclusions: bool,
        /// A JSON file of spans excluded or silenced for every SLO (tests, what-ifs).
        #[arg(long, hide = true)]
        exclusion_spans: Option<PathBuf>,
        /// The daemon's data directory: its stored corrections are honoured (as are the
        /// configuration's maintenance windows). Without it, only maintenance windows.
        #[arg(long, env = "BURNWATCH_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Ask a running daemon whether a change may ship: prints the decision and its rationale.
    /// Exit 0 approve, 3 review, 4 defer, 5 block; 1 when no decision could be had (daemon
    /// unreachable, unknown SLO, unexpected answer); 2 on a usage error.
    Gate {
        /// Base URL of the daemon, e.g. http://burnwatch:9464.
        #[arg(long, env = "BURNWATCH_URL")]
        url: String,
        /// SLO id, or one instance of a grouped SLO: checkout-latency{route="/pay"}. A grouped
        /// SLO's id is decided by its worst instance.
        #[arg(long)]
        slo: String,
        /// How risky the change is.
        #[arg(long, value_enum)]
        risk: GateRisk,
        /// How long to wait for the answer.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Budget corrections on a running daemon: spans whose events some SLOs do not count (a
    /// dependency's outage, a load test). Needs the daemon's API token ([server]
    /// api_token_file) from --token-file or BURNWATCH_API_TOKEN. Exit 0 done, 1 failed
    /// (unreachable, refused, invalid), 2 usage error.
    Correction {
        /// What to do.
        #[command(subcommand)]
        action: CorrectionAction,
    },
    /// An SLO report over a month or a span: achieved SLI against the objective, budget
    /// consumed, incidents with durations, time to resolve and pages, with a trend chart.
    /// Computed from the backend's history through replay.
    Report {
        /// Configuration file (TOML); its backends are queried with query_range.
        #[arg(long, short = 'c')]
        config: PathBuf,
        /// A calendar month in UTC, e.g. 2026-10. Not together with --start/--end.
        #[arg(long, conflicts_with_all = ["start", "end", "quarter"], required_unless_present_any = ["start", "quarter"])]
        month: Option<String>,
        /// A calendar quarter in UTC, e.g. 2026-Q4 (October to December). Not together with
        /// --month or --start/--end.
        #[arg(long, conflicts_with_all = ["start", "end", "month"])]
        quarter: Option<String>,
        /// Start of the span: RFC 3339 or unix seconds.
        #[arg(long, requires = "end")]
        start: Option<String>,
        /// End of the span: RFC 3339 or unix seconds.
        #[arg(long, requires = "start")]
        end: Option<String>,
        /// Only this SLO id (repeatable); all SLOs when absent.
        #[arg(long = "slo")]
        slos: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
        format: ReportFormat,
        /// Count every event, as if no maintenance window or correction existed.
        #[arg(long)]
        ignore_exclusions: bool,
        /// A JSON file of spans excluded or silenced for every SLO (tests, what-ifs).
        #[arg(long, hide = true)]
        exclusion_spans: Option<PathBuf>,
        /// The daemon's data directory: its stored corrections are honoured (as are the
        /// configuration's maintenance windows). Without it, only maintenance windows.
        #[arg(long, env = "BURNWATCH_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Print a `[[digest]]` (weekly SLO review or daily wins) to the terminal without sending
    /// it: the next occurrence (figures up to now), or the one at or before --at. Computed
    /// through replay, like `report`.
    Digest {
        /// Configuration file (TOML); its backends are queried with query_range.
        #[arg(long, short = 'c')]
        config: PathBuf,
        /// Print, do not send (required: the daemon sends digests on their schedule).
        #[arg(long)]
        preview: bool,
        /// Only the digest with this name; all when absent.
        #[arg(long)]
        name: Option<String>,
        /// The occurrence at or before this time (RFC 3339 or unix seconds).
        #[arg(long)]
        at: Option<String>,
        /// Output format: the text the message carries, or the structured digest as JSON (the
        /// webhook payload's figures).
        #[arg(long, value_enum, default_value_t = DigestFormat::Text)]
        format: DigestFormat,
        /// Count every event, as if no maintenance window or correction existed.
        #[arg(long)]
        ignore_exclusions: bool,
        /// The daemon's data directory: its stored corrections are honoured.
        #[arg(long, env = "BURNWATCH_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Read Sloth, OpenSLO or Pyrra specs and print them as burnwatch [[slo]] tables (TOML),
    /// each under a comment naming its spec's file and line. Exit 0 when everything mapped, 1
    /// with every problem as file:line:col (what mapped is still printed), 2 on a usage error.
    Import {
        /// Spec files, or directories walked for *.yaml and *.yml.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write the TOML here instead of to stdout.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// Read every document as this format; default: detected per document from its
        /// `version`, `apiVersion` and `kind`.
        #[arg(long, value_enum)]
        format: Option<ImportFormat>,
    },
    /// Write the configuration's SLOs as OpenSLO v1 documents; `burnwatch import` (or `specs`)
    /// reads them back into the same SLOs. Exit 0, 1 when the configuration is invalid.
    Export {
        /// Configuration file (TOML).
        #[arg(long, short = 'c')]
        config: PathBuf,
        /// The format to write.
        #[arg(long, value_enum, default_value_t = ExportFormat::Openslo)]
        format: ExportFormat,
        /// Write here instead of to stdout.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
}

/// `burnwatch export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// OpenSLO v1 `kind: SLO` documents.
    Openslo,
}

/// `burnwatch import --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Sloth `prometheus/v1`, `PrometheusServiceLevel`, `AlertWindows`.
    Sloth,
    /// OpenSLO `openslo/v1`.
    Openslo,
    /// Pyrra `ServiceLevelObjective`.
    Pyrra,
}

/// `burnwatch correction ...`.
#[derive(Debug, Subcommand)]
pub enum CorrectionAction {
    /// Add a correction: the SLOs stop counting the events of (start, end] within one backfill.
    Add {
        /// How to reach the daemon.
        #[command(flatten)]
        api: ApiArgs,
        /// SLO id or glob (checkout-*), repeatable; each must match a configured SLO.
        #[arg(long = "slo", required = true)]
        slos: Vec<String>,
        /// Start: RFC 3339 with a zone, e.g. 2026-10-14T09:40:00Z.
        #[arg(long)]
        start: String,
        /// End: RFC 3339 with a zone; may lie ahead (a planned load test).
        #[arg(long)]
        end: String,
        /// Why, e.g. "payments-db failover, INC-1234".
        #[arg(long)]
        reason: String,
        /// What kind of correction.
        #[arg(long, value_enum)]
        category: CorrectionCategory,
    },
    /// List corrections, oldest start first.
    List {
        /// How to reach the daemon.
        #[command(flatten)]
        api: ApiArgs,
        /// Only the corrections covering this SLO id.
        #[arg(long)]
        slo: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CorrectionFormat::Table)]
        format: CorrectionFormat,
    },
    /// Delete a correction by id: the SLOs count its span again within one backfill.
    Delete {
        /// How to reach the daemon.
        #[command(flatten)]
        api: ApiArgs,
        /// The correction's id (see `correction list`).
        id: String,
    },
}

/// Where the daemon's API is and how to authenticate.
#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// Base URL of the daemon, e.g. http://127.0.0.1:9464.
    #[arg(long, env = "BURNWATCH_URL")]
    pub url: String,
    /// File holding the API token ([server] api_token_file). Default: the BURNWATCH_API_TOKEN
    /// environment variable.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// How long to wait for the answer.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

/// A correction's category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CorrectionCategory {
    /// Planned maintenance not configured as a window.
    Maintenance,
    /// A bad deploy, rolled back.
    Deployment,
    /// A dependency's outage.
    Dependency,
    /// Synthetic load, not users.
    #[value(name = "load_test", alias = "load-test")]
    LoadTest,
    /// Anything else (say what in the reason).
    Other,
}

/// How `correction list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CorrectionFormat {
    /// One line per correction.
    Table,
    /// The API's JSON.
    Json,
}

/// How risky a change is, for `gate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GateRisk {
    /// E.g. a flag flip or a config tweak.
    Low,
    /// An ordinary release.
    Medium,
    /// A migration, a new dependency, a big-bang change.
    High,
}

/// How `digest --preview` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestFormat {
    /// The message's text.
    Text,
    /// The structured digest.
    Json,
}

/// How `report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML file with inline charts.
    Html,
    /// Markdown tables (for a wiki or a ticket).
    Markdown,
    /// One JSON document.
    Json,
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

/// `--snapshot-interval`: a duration from 1s to 1h.
fn snapshot_interval(text: &str) -> Result<std::time::Duration, String> {
    let interval = humantime::parse_duration(text).map_err(|err| format!("{err}; e.g. \"1m\""))?;
    if interval < std::time::Duration::from_secs(1)
        || interval > std::time::Duration::from_secs(3600)
    {
        return Err(format!("{text} is outside 1s to 1h; e.g. \"1m\""));
    }
    Ok(interval)
}
