//! Validated runtime configuration: what the rest of burnwatch consumes.
//!
//! Built from the raw serde layer (`raw.rs`) by validation (`validate.rs`); every value here has
//! already been checked, defaulted and had `${ENV}` references expanded.

use burnwatch_engine::Objective;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::plugin::Plugin;
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
    /// `[record]`: the six-month record of daily figures.
    pub record: crate::record::Record,
    /// Metric backends by name.
    pub backends: BTreeMap<String, Backend>,
    /// Every SLO, in file order (then the discovered ones, when the daemon has expanded them).
    pub slos: Vec<Slo>,
    /// `[[discover]]`s in file order: template SLOs for every value of a label.
    pub discover: Vec<crate::discover::Discover>,
    /// `[[maintenance]]` windows in file order.
    pub maintenance: Vec<crate::maintenance::Maintenance>,
    /// Notification receivers by name (`[receivers.<name>]`).
    pub receivers: BTreeMap<String, Receiver>,
    /// `[[route]]`s in file order; every matching route applies (receivers de-duplicated).
    pub routes: Vec<Route>,
    /// `[[digest]]`s in file order.
    pub digests: Vec<crate::digest::Digest>,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// Address the HTTP server listens on (default `0.0.0.0:9464`).
    pub listen: SocketAddr,
    /// Whether /metrics carries Prometheus-style `ALERTS` series (default true), so the alert
    /// panels of Sloth's dashboards work. Off when Prometheus' own rules already write `ALERTS`
    /// for the same SLOs.
    pub alerts_series: bool,
    /// When set, `POST /-/reload` needs `Authorization: Bearer <token>` with this file's
    /// (trimmed) content, read on every request so the token can rotate. Without it, only
    /// loopback peers may reload.
    pub reload_token: Option<SecretSource>,
    /// When set, the API endpoints that change state (`/api/v1/corrections`) need
    /// `Authorization: Bearer <token>` with this file's (trimmed) content, read on every
    /// request so the token can rotate. Without it those endpoints refuse every request (403).
    pub api_token: Option<SecretSource>,
    /// Timeouts and caps that keep hostile or broken clients from exhausting the daemon.
    pub limits: ServerLimits,
}

/// `[server]` timeouts and caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// From a request's first byte to its last header byte (slowloris).
    pub read_header_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// From a request's headers to its response's last byte (slow readers).
    pub request_timeout: Duration,
    /// Connections served at once, before the open-file limit lowers it.
    pub max_connections: usize,
    /// Pages and API answers rendered or being sent at once.
    pub max_concurrent_renders: usize,
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
    /// The keys of a Datadog backend (`url` is then its site's API URL).
    pub datadog: Option<Datadog>,
    /// How hard history reads may press on the backend.
    pub pace: Pace,
}

/// How hard reads of history (backfill, gap fills, replay) may press on a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Range requests in flight at once.
    pub concurrency: usize,
    /// Samples per second the backend may load for them, on average; `None`: no limit.
    pub samples_per_second: Option<u64>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            concurrency: crate::raw::default_backfill_concurrency(),
            samples_per_second: None,
        }
    }
}

/// The API a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// The Prometheus HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics, ...).
    Prometheus,
    /// Datadog's metrics query API.
    Datadog,
}

impl BackendKind {
    /// The `type = "..."` name.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Prometheus => "prometheus",
            BackendKind::Datadog => "datadog",
        }
    }
}

/// A Datadog backend's keys, sent as `DD-API-KEY` and `DD-APPLICATION-KEY`.
#[derive(Debug, Clone, PartialEq)]
pub struct Datadog {
    /// The API key.
    pub api_key: SecretSource,
    /// The application key.
    pub application_key: SecretSource,
}

/// A Datadog metric query burnwatch counts exactly: `sum:<metric>{<scope>}`, maybe
/// `.as_count()`; grouping and rollup are added per read ([`DatadogQuery::render`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatadogQuery {
    /// The metric name.
    pub metric: String,
    /// The scope between the braces (`*` for all).
    pub scope: String,
    /// Whether `.as_count()` was written.
    pub as_count: bool,
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

impl SecretSource {
    /// The value: inline, or the trimmed content of the file read now. The error names the
    /// file, never the value.
    pub fn reveal(&self) -> Result<String, String> {
        match self {
            SecretSource::Value(secret) => Ok(secret.expose().to_string()),
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|text| text.trim().to_string())
                .map_err(|err| format!("cannot read {}: {err}", path.display())),
        }
    }
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
    /// The objective exactly as written, e.g. 99.9 (Sloth's `sloth_objective` label), with its
    /// ratio (0.999) and error budget (0.001).
    pub objective: Objective,
    /// `[[slo.objective_schedule]]`: objectives taking over at instants, `from` strictly
    /// increasing; before the first, `objective` holds. See [`Slo::objective_at`].
    pub objective_schedule: Vec<ObjectiveStep>,
    /// Free-text description.
    pub description: Option<String>,
    /// User labels added to every exported series.
    pub labels: BTreeMap<String, String>,
    /// Labels to split this SLO into one instance per label set (empty: one instance).
    pub group_by: Vec<String>,
    /// Maximum number of group instances kept; further label sets are dropped and counted.
    pub group_limit: usize,
    /// Maximum number of series per selector counted one by one when history is read; past it,
    /// history is read per group with `increase()` (right only on average).
    pub series_limit: usize,
    /// Name of the backend to query.
    pub backend: String,
    /// Rolling SLO period (e.g. 30 days); with `calendar`, the calendar's usual length (7, 30
    /// or 91 days) shown where one figure stands for the period.
    pub period: Duration,
    /// A calendar-aligned period (week, month or quarter in a zone) instead of a rolling one.
    pub calendar: Option<burnwatch_engine::Calendar>,
    /// Evaluation tick.
    pub interval: Duration,
    /// How events are measured.
    pub sli: Sli,
    /// Time-slice budgeting (`timeslices`, `ratio_timeslices`): each slice is one event.
    /// `None`: occurrences, the events counted as they are.
    pub slicing: Option<burnwatch_engine::Slicing>,
    /// The alert policy, `[defaults.alerting]` overridden by `[slo.alerting]`.
    pub alerting: Alerting,
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
    /// A query evaluated at the end of every time slice; the slice is good when `query <op>
    /// value` holds for every series of its group.
    Threshold {
        /// PromQL returning one value per group.
        query: String,
        /// The comparison.
        op: burnwatch_engine::Comparison,
        /// The threshold.
        value: f64,
    },
    /// A gauge whose samples are 1 (good) or 0 (bad): good = the sum of the samples, total =
    /// their number (Pyrra's `bool_gauge`).
    BoolGauge {
        /// The gauge.
        selector: Selector,
    },
    /// Datadog metric queries, summed per bucket by the backend (`.rollup(sum, <step>)`).
    Datadog {
        /// Bad events, when configured.
        errors: Option<DatadogQuery>,
        /// Good events, when configured instead of errors.
        good: Option<DatadogQuery>,
        /// All events.
        total: DatadogQuery,
    },
    /// `[[composite]]`: no query of its own; each window's error ratio is the weighted mean of
    /// the components' normalised burn (`burnwatch_engine::compose`), read from their newest
    /// evaluations.
    Composite {
        /// The SLOs combined, in file order.
        components: Vec<Component>,
        /// With `budgeting = "timeslices"`: each component's own definition, in the same
        /// order, so the composite can read their slices itself (a slice is bad when any
        /// component's slice is). Empty for occurrences.
        parts: Vec<Slo>,
    },
}

/// Page or ticket: the engine's own type, so configuration and alerts speak of one thing.
pub use burnwatch_engine::Severity;

/// The resolved alert policy of one SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Alerting {
    /// `alertname` of burn alerts (`name`, default `SLOErrorBudgetBurn`).
    pub name: String,
    /// Window pairs as configured; None means the engine's default (the SRE Workbook's four
    /// pairs, factors derived from the period). The engine owns the factor math.
    pub windows: Option<Vec<AlertWindow>>,
    /// `for` (default 0).
    pub hold_for: Duration,
    /// `keep_firing_for` (default 0).
    pub keep_firing_for: Duration,
    /// `min_events` in the long window before a burn alert may fire (default 0).
    pub min_events: f64,
    /// `page` (default true).
    pub page: bool,
    /// `ticket` (default true).
    pub ticket: bool,
    /// `no_data_for` (default 15m); None when `no_data = false`.
    pub no_data_for: Option<Duration>,
    /// `budget_exhausted` threshold as a ratio of budget remaining (written in percent,
    /// `budget_exhausted = 0` fires at 0% left); None when not configured.
    pub budget_exhausted: Option<f64>,
    /// `annotations` (`runbook`, `dashboard`, `summary`, free text): defaults merged with the SLO's.
    pub annotations: BTreeMap<String, String>,
    /// `labels` (every alert), `page_labels`, `ticket_labels`, `page_annotations`,
    /// `ticket_annotations`: defaults merged with the SLO's, per key.
    pub extras: AlertingExtras,
}

/// What `[slo.alerting]` adds to the alerts of one severity or both (Sloth's
/// `alerting.labels`, `page_alert` and `ticket_alert`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertingExtras {
    /// `labels`: every alert of the SLO.
    pub labels: BTreeMap<String, String>,
    /// `page_labels`: page alerts, over `labels`.
    pub page_labels: BTreeMap<String, String>,
    /// `ticket_labels`: ticket-severity alerts, over `labels`.
    pub ticket_labels: BTreeMap<String, String>,
    /// `page_annotations`: page alerts, over `annotations`.
    pub page_annotations: BTreeMap<String, String>,
    /// `ticket_annotations`: ticket-severity alerts, over `annotations`.
    pub ticket_annotations: BTreeMap<String, String>,
}

/// One `[[...alerting.windows]]` pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertWindow {
    /// Page or ticket.
    pub severity: Severity,
    /// Short window.
    pub short: Duration,
    /// Long window.
    pub long: Duration,
    /// Burn-rate threshold.
    pub threshold: Threshold,
}

/// How a pair's burn-rate threshold is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// `budget_share` in percent of the period's budget spent within the long window.
    BudgetShare(f64),
    /// `factor`: the burn rate itself.
    Factor(f64),
}

impl Alerting {
    /// The policy when nothing is configured: workbook windows, no `for`, `no_data` after 15m.
    pub fn standard() -> Alerting {
        Alerting {
            name: "SLOErrorBudgetBurn".to_string(),
            windows: None,
            hold_for: Duration::ZERO,
            keep_firing_for: Duration::ZERO,
            min_events: 0.0,
            page: true,
            ticket: true,
            no_data_for: Some(Duration::from_secs(15 * 60)),
            budget_exhausted: None,
            annotations: BTreeMap::new(),
            extras: AlertingExtras::default(),
        }
    }
}

/// `[receivers.<name>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Receiver {
    /// The key under `[receivers]`.
    pub name: String,
    /// What it talks to.
    pub kind: ReceiverKind,
    /// Per-request timeout (default 10s).
    pub timeout: Duration,
    /// Re-send a still-firing alert after this long (default 4h; Alertmanager: 1m, fixed).
    pub repeat_interval: Duration,
    /// Send resolved notifications (default true).
    pub send_resolved: bool,
}

/// The receiver types.
#[derive(Debug, Clone, PartialEq)]
pub enum ReceiverKind {
    /// PagerDuty Events API v2.
    PagerDuty {
        /// `routing_key` or `routing_key_file`.
        routing_key: SecretSource,
        /// Endpoint (default `https://events.pagerduty.com/v2/enqueue`).
        url: String,
        /// PagerDuty severity for pages (default `critical`).
        page_severity: String,
        /// PagerDuty severity for tickets (default `warning`).
        ticket_severity: String,
    },
    /// Slack incoming webhook.
    Slack {
        /// `url` or `url_file` (the webhook URL is a secret).
        url: SecretSource,
    },
    /// Alertmanager's webhook JSON (version 4) POSTed to `url`.
    Webhook {
        /// `url` or `url_file`.
        url: SecretSource,
    },
    /// Alertmanager: POST `<url>/api/v2/alerts`.
    Alertmanager {
        /// Base URL without a trailing slash.
        url: String,
    },
    /// A type added as a plug-in (its own file in `receiver/`): its settings.
    Plugin(Plugin),
}

impl ReceiverKind {
    /// The `type` written in the configuration.
    pub fn type_name(&self) -> &'static str {
        match self {
            ReceiverKind::PagerDuty { .. } => "pagerduty",
            ReceiverKind::Slack { .. } => "slack",
            ReceiverKind::Webhook { .. } => "webhook",
            ReceiverKind::Alertmanager { .. } => "alertmanager",
            ReceiverKind::Plugin(plugin) => plugin.type_name(),
        }
    }
}

/// One `[[route]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Severities this route takes (empty: all).
    pub severity: Vec<Severity>,
    /// Label equality matchers on the alert's labels (user, group and `sloth_*` labels).
    pub matchers: BTreeMap<String, String>,
    /// Receiver names, each defined under `[receivers]`.
    pub receivers: Vec<String>,
}

/// One `[[slo.objective_schedule]]` entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObjectiveStep {
    /// Unix milliseconds from which `objective` is in force.
    pub from: burnwatch_engine::Millis,
    /// The objective from then on (until the next step).
    pub objective: Objective,
}

impl Slo {
    /// The objective in force at `at`: the last schedule step with `from <= at`, else
    /// `objective`.
    pub fn objective_at(&self, at: burnwatch_engine::Millis) -> Objective {
        self.objective_schedule
            .iter()
            .rev()
            .find(|step| step.from <= at)
            .map_or(self.objective, |step| step.objective)
    }

    /// The period the engine keeps: the calendar when one is set, else rolling `period`.
    pub fn engine_period(&self) -> burnwatch_engine::Period {
        match self.calendar {
            Some(calendar) => burnwatch_engine::Period::Calendar(calendar),
            None => burnwatch_engine::Period::Rolling(self.period),
        }
    }
}

/// One component of a `[[composite]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// The id of the `[[slo]]` or `[[composite]]` combined.
    pub slo: String,
    /// For a grouped SLO, the instance's labels in its `group_by` order; empty otherwise.
    pub group: Vec<(String, String)>,
    /// Its weight, finite and above 0 (default 1).
    pub weight: f64,
}

impl Component {
    /// How people read it: `checkout-pay`, or `checkout-pay{region="eu"}` for an instance.
    pub fn display(&self) -> String {
        if self.group.is_empty() {
            return self.slo.clone();
        }
        let labels: Vec<String> = self
            .group
            .iter()
            .map(|(name, value)| format!("{name}={value:?}"))
            .collect();
        format!("{}{{{}}}", self.slo, labels.join(","))
    }
}
