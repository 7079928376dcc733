//! Validated runtime configuration: what the rest of burnwatch consumes.
//!
//! Built from the raw serde layer (`raw.rs`) by validation (`validate.rs`); every value here has
//! already been checked, defaulted and had `${ENV}` references expanded.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;
use crate::selector::Selector;
use crate::template::Template;

/// A whole, validated burnwatch configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this configuration was loaded from.
    pub source: PathBuf,
    /// The HTTP server settings.
    pub server: Server,
    /// Metric backends by name.
    pub backends: BTreeMap<String, Backend>,
    /// Every SLO, in file order.
    pub slos: Vec<Slo>,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// Address the HTTP server listens on (default `0.0.0.0:9464`).
    pub listen: SocketAddr,
}

/// `[backends.<name>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    /// The key under `[backends]`.
    pub name: String,
    /// Which API the backend speaks.
    pub kind: BackendKind,
    /// Base URL, without a trailing slash (e.g. `http://127.0.0.1:9090`).
    pub url: String,
    /// Per-request timeout (default 30s).
    pub timeout: Duration,
    /// Extra HTTP headers sent with every request (e.g. `X-Scope-OrgID`). Values may be secret.
    pub headers: Vec<(String, Secret)>,
    /// Authentication, if any.
    pub auth: Option<Auth>,
}

/// The API a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// The Prometheus HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics, ...).
    Prometheus,
}

/// Backend authentication.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(SecretSource),
    /// HTTP basic authentication.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: SecretSource,
    },
}

/// A secret given inline (after `${ENV}` expansion) or as a file read at use time.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// The value itself.
    Value(Secret),
    /// A file whose trimmed content is the value; re-read on use so rotated tokens are picked up.
    File(PathBuf),
}

/// One `[[slo]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// `<service>-<name>`, Sloth's `sloth_id`.
    pub id: String,
    /// Service name (`sloth_service`).
    pub service: String,
    /// SLO name (`sloth_slo`).
    pub name: String,
    /// Objective as a ratio in (0, 1), e.g. 0.999.
    pub objective: f64,
    /// Objective in percent exactly as written, e.g. 99.9 (Sloth's `sloth_objective` label).
    pub objective_percent: f64,
    /// Free-text description.
    pub description: Option<String>,
    /// User labels added to every exported series.
    pub labels: BTreeMap<String, String>,
    /// Labels to split this SLO into one instance per label set (empty: one instance).
    pub group_by: Vec<String>,
    /// Maximum number of group instances kept; further label sets are dropped and counted.
    pub group_limit: usize,
    /// Name of the backend to query.
    pub backend: String,
    /// Rolling SLO period (e.g. 30 days).
    pub period: Duration,
    /// Evaluation tick.
    pub interval: Duration,
    /// How events are measured.
    pub sli: Sli,
    /// Where this SLO starts in the file (`file:line:col`), for messages.
    pub location: String,
}

/// The service level indicator.
#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// Counter selectors; at least two of errors/good/total, total always.
    Ratio {
        /// Counter of bad events.
        errors: Option<Selector>,
        /// Counter of good events.
        good: Option<Selector>,
        /// Counter of all events.
        total: Selector,
    },
    /// Histogram: good = `<histogram>_bucket{...,le}`, total = `<histogram>_count{...}`.
    Latency {
        /// Histogram base selector, e.g. `http_request_duration_seconds{service="checkout"}`.
        histogram: Selector,
        /// The bucket boundary, exactly as the `le` label value (e.g. `0.3`).
        le: String,
    },
    /// Sloth `events`: PromQL templates with `{{.window}}` yielding per-second rates.
    Events {
        /// Error events rate.
        error_query: Template,
        /// Total events rate.
        total_query: Template,
    },
    /// Sloth `raw`: an error-ratio template evaluated per window on every tick (expensive path).
    Raw {
        /// Error ratio over `{{.window}}`.
        error_ratio_query: Template,
    },
}
