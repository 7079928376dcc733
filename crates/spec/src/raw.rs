//! The raw layer: serde types that mirror the TOML file one to one.
//!
//! Every key is optional here and wrapped in [`Spanned`] so validation can report a missing or
//! bad value at its place in the file, and report all of them rather than the first. Unknown keys
//! are rejected (`deny_unknown_fields`; never combined with `flatten`, which serde documents as
//! incompatible). Defaults live in the named `default_*` functions and are applied by validation.
//! Strings are still unexpanded (`${NAME}` is expanded during validation).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// A string value with its place in the file.
pub(crate) type Str = Spanned<String>;

/// A TOML table of strings (`labels`, `headers`), keys and values with their places.
pub(crate) type StrMap = Spanned<BTreeMap<Str, Str>>;

/// The top-level keys (sections) a configuration may have, in documentation order. Adding a
/// section means adding it here, a raw type below and an arm in `decode.rs`. (`specs`, a list
/// of patterns, is read by `specs.rs` before decoding.)
pub(crate) const SECTIONS: [&str; 13] = [
    "server",
    "backends",
    "defaults",
    "tiers",
    "slo",
    "discover",
    "composite",
    "maintenance",
    "receivers",
    "route",
    "digest",
    "record",
    "specs",
];

/// `[server]`: the HTTP server that serves `/metrics`, the API and the status page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    /// `host:port` to listen on. Default: [`default_listen`].
    pub listen: Option<Str>,
    /// Export Prometheus-style `ALERTS` series for Sloth's dashboards. Default: true.
    pub alerts_series: Option<Spanned<bool>>,
    /// File holding a bearer token that `POST /-/reload` must present. Default: no token.
    pub reload_token_file: Option<Str>,
    /// File holding the bearer token the changing API endpoints (`/api/v1/corrections`) need.
    /// Default: none, and those endpoints refuse every request.
    pub api_token_file: Option<Str>,
    /// Longest time from a request's first byte to its last header byte. Default:
    /// [`default_read_header_timeout`].
    pub read_header_timeout: Option<Str>,
    /// Longest time a kept-alive connection may wait for its next request. Default:
    /// [`default_idle_timeout`].
    pub idle_timeout: Option<Str>,
    /// Longest time from a request's headers to its response's last byte. Default:
    /// [`default_request_timeout`].
    pub request_timeout: Option<Str>,
    /// Connections served at once (lowered to what the open-file limit allows). Default:
    /// [`default_max_connections`].
    pub max_connections: Option<Spanned<i64>>,
    /// Pages and API answers rendered or being sent at once. Default:
    /// [`default_max_concurrent_renders`].
    pub max_concurrent_renders: Option<Spanned<i64>>,
}

/// `[record]`: the six-month record of daily figures (`record.db` in the data directory).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRecord {
    /// Keep the record. Default: true.
    pub enabled: Option<Spanned<bool>>,
    /// How many whole UTC days are kept (and backfilled on the first start, as far as the
    /// backend has data), e.g. `"400d"`. Default: [`default_record_retention`].
    pub retention: Option<Str>,
}

/// `[backends.<name>]`: a metrics backend to query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackend {
    /// The API it speaks: `"prometheus"` or `"datadog"`. Required.
    #[serde(rename = "type")]
    pub kind: Option<Str>,
    /// Base URL, `http://` or `https://`, e.g. `http://prometheus:9090`. Required (Prometheus).
    pub url: Option<Str>,
    /// Per-request timeout, e.g. `"10s"`. Default: [`default_timeout`].
    pub timeout: Option<Str>,
    /// Extra HTTP headers sent with every request; values are secret and may use `${ENV}`.
    pub headers: Option<StrMap>,
    /// Bearer token sent as `Authorization: Bearer ...`; secret.
    pub bearer_token: Option<Str>,
    /// File holding the bearer token, re-read on use. Not together with `bearer_token`.
    pub bearer_token_file: Option<Str>,
    /// HTTP basic authentication. Not together with a bearer token.
    pub basic_auth: Option<Spanned<RawBasicAuth>>,
    /// Range requests of history (backfill, gap fills, replay) in flight at once. Default:
    /// [`default_backfill_concurrency`].
    pub backfill_concurrency: Option<Spanned<i64>>,
    /// Samples per second the backend may load for history reads, as it reports them
    /// (Prometheus' `stats=all`; otherwise the points returned). Default: no limit.
    pub backfill_samples_per_second: Option<Spanned<i64>>,
    /// Datadog only: the site (`datadoghq.com`, `datadoghq.eu`, ...) or a full API URL.
    pub site: Option<Str>,
    /// Datadog only: the API key, from `${ENV}`; secret.
    pub api_key: Option<Str>,
    /// Datadog only: file holding the API key, re-read on use.
    pub api_key_file: Option<Str>,
    /// Datadog only: the application key, from `${ENV}`; secret.
    pub application_key: Option<Str>,
    /// Datadog only: file holding the application key, re-read on use.
    pub application_key_file: Option<Str>,
}

/// `basic_auth = { username = "...", password = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBasicAuth {
    /// User name. Required.
    pub username: Option<Str>,
    /// Password; secret. Exactly one of `password` and `password_file`.
    pub password: Option<Str>,
    /// File holding the password, re-read on use.
    pub password_file: Option<Str>,
}

/// `[defaults]`: values for every SLO that does not set its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    /// Backend name. Optional when exactly one backend is defined.
    pub backend: Option<Str>,
    /// Rolling SLO period. Default: [`default_period`]. Not together with `calendar`.
    pub period: Option<Str>,
    /// Calendar-aligned period instead of a rolling one: `"week"`, `"month"` or `"quarter"`.
    pub calendar: Option<Str>,
    /// IANA zone whose local midnight starts a calendar period. Default: `"UTC"`.
    pub timezone: Option<Str>,
    /// First day of a calendar week (`"monday"` .. `"sunday"`). Default: `"monday"`.
    pub week_start: Option<Str>,
    /// Evaluation tick. Default: [`default_interval`].
    pub interval: Option<Str>,
    /// Maximum SLO instances per `group_by` SLO. Default: [`default_group_limit`].
    pub group_limit: Option<Spanned<i64>>,
    /// Maximum series per selector read one by one from history. Default:
    /// [`default_series_limit`].
    pub series_limit: Option<Spanned<i64>>,
    /// `[defaults.alerting]`: the alert policy of every SLO, key by key.
    pub alerting: Option<Spanned<RawAlerting>>,
}

/// `[tiers.<name>]`: what an SLO with `tier = "<name>"` leaves out. A table named like a
/// built-in tier (`critical`, `essential`, `standard`, `best_effort`) overrides its keys one by
/// one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTier {
    /// Objective in percent, strictly between 0 and 100, e.g. `99.95`.
    pub objective: Option<Spanned<f64>>,
    /// Latency threshold as an `le` bucket label value, e.g. `"0.1"`: the `le` of every
    /// `[slo.sli.latency]` of the tier that leaves `le` out.
    pub le: Option<Str>,
    /// `[tiers.<name>.alerting]`: alerting keys over `[defaults.alerting]`, under
    /// `[slo.alerting]`; every key but `windows`.
    pub alerting: Option<Spanned<RawAlerting>>,
}

/// `[[discover]]`: a template SLO applied to every value of a label found on the backend.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDiscover {
    /// Name of this discovery (self-metrics, logs, status page); unique. Required.
    pub name: Option<Str>,
    /// Series selector whose `label` values are discovered, e.g. `http_requests_total`.
    /// Required.
    pub selector: Option<Str>,
    /// The label whose values become SLOs; `{{ .<label> }}` in the template. Required.
    pub label: Option<Str>,
    /// Regex (fully anchored by the user) a value must match to get SLOs. Default: every value.
    pub allow: Option<Str>,
    /// Regex a value must not match. Default: none denied.
    pub deny: Option<Str>,
    /// How often the values are read again. Default: [`default_discover_interval`].
    pub interval: Option<Str>,
    /// Most SLOs from this discovery; further values (in sorted order) are dropped. Default:
    /// [`default_discover_cap`].
    pub cap: Option<Spanned<i64>>,
    /// How long a value that vanished keeps its SLO (and state) before it is retired.
    /// Default: [`default_discover_grace`].
    pub grace: Option<Str>,
    /// Backend the values are read from (and the SLOs' backend when the template names none).
    /// Default: `[defaults] backend`, or the only backend.
    pub backend: Option<Str>,
    /// `[discover.slo]`: the template, an `[[slo]]` with `{{ .<label> }}` placeholders; checked
    /// as an SLO by `discover.rs` after substituting a sample value. Required.
    pub slo: Option<Spanned<serde::de::IgnoredAny>>,
}

/// Default `[[discover]] interval`: 5 minutes.
pub(crate) fn default_discover_interval() -> Duration {
    Duration::from_secs(300)
}

/// Default `[[discover]] cap`: 100 SLOs.
pub(crate) fn default_discover_cap() -> usize {
    100
}

/// Default `[[discover]] grace`: 1 hour (a redeploy or a quiet night does not cost the state).
pub(crate) fn default_discover_grace() -> Duration {
    Duration::from_secs(3600)
}

/// `[[slo]]`: one service level objective.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlo {
    /// Service name (`sloth_service`). Required.
    pub service: Option<Str>,
    /// SLO name (`sloth_slo`). Required.
    pub name: Option<Str>,
    /// Objective in percent, strictly between 0 and 100, e.g. `99.9`. Required unless `tier`
    /// gives one.
    pub objective: Option<Spanned<f64>>,
    /// A `[tiers.<name>]` (or built-in tier) filling in what this SLO leaves out.
    pub tier: Option<Str>,
    /// `[[slo.objective_schedule]]`: objectives taking over on dates, `from` strictly
    /// increasing.
    pub objective_schedule: Option<Spanned<Vec<Spanned<RawObjectiveStep>>>>,
    /// Free text shown on the status page.
    pub description: Option<Str>,
    /// Labels added to every series exported for this SLO.
    pub labels: Option<StrMap>,
    /// Label names splitting the SLO into one instance per label set.
    pub group_by: Option<Spanned<Vec<Str>>>,
    /// Overrides `[defaults] group_limit`.
    pub group_limit: Option<Spanned<i64>>,
    /// Overrides `[defaults] series_limit`.
    pub series_limit: Option<Spanned<i64>>,
    /// Overrides `[defaults] backend`.
    pub backend: Option<Str>,
    /// Overrides `[defaults] period` (and a default `calendar`). Not together with `calendar`.
    pub period: Option<Str>,
    /// Overrides `[defaults] calendar` (and a default `period`).
    pub calendar: Option<Str>,
    /// Overrides `[defaults] timezone`.
    pub timezone: Option<Str>,
    /// Overrides `[defaults] week_start`; only with `calendar = "week"`.
    pub week_start: Option<Str>,
    /// Overrides `[defaults] interval`.
    pub interval: Option<Str>,
    /// `"occurrences"` (default), `"timeslices"` or `"ratio_timeslices"`.
    pub budgeting: Option<Str>,
    /// Length of a time slice, e.g. `"1m"`: whole minutes dividing an hour. Default `1m`.
    pub slice: Option<Str>,
    /// With `timeslices`: the good ratio (in percent) a slice needs to be good, e.g. `95`.
    pub slice_target: Option<Spanned<f64>>,
    /// How events are measured: exactly one of the kinds. Required.
    pub sli: Option<Spanned<RawSli>>,
    /// `[slo.alerting]`: overrides `[defaults.alerting]` key by key.
    pub alerting: Option<Spanned<RawAlerting>>,
}

/// `[[slo.objective_schedule]]`: from `from` on, the objective is `objective`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawObjectiveStep {
    /// A date (`"2027-01-01"`, midnight UTC) or an RFC 3339 date-time. Required.
    pub from: Option<Str>,
    /// Objective in percent, like `[[slo]] objective`. Required.
    pub objective: Option<Spanned<f64>>,
}

/// `[slo.sli]`: exactly one of its keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSli {
    /// Counter selectors.
    pub ratio: Option<Spanned<RawRatio>>,
    /// A histogram and a bucket boundary.
    pub latency: Option<Spanned<RawLatency>>,
    /// Sloth-style event-rate templates.
    pub events: Option<Spanned<RawEvents>>,
    /// A Sloth-style error-ratio template (expensive: evaluated per window per tick).
    pub raw: Option<Spanned<RawRaw>>,
    /// A query compared with a value once per time slice.
    pub threshold: Option<Spanned<RawThreshold>>,
    /// A gauge whose samples are 1 (good) or 0 (bad).
    pub bool_gauge: Option<Spanned<RawBoolGauge>>,
    /// Datadog metric queries (a datadog backend only).
    pub datadog: Option<Spanned<RawDatadog>>,
}

/// `[slo.sli.datadog]`: `total` and one of `errors` / `good`, Datadog metric queries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDatadog {
    /// Query of bad events, e.g. `sum:trace.http.request.errors{service:checkout}.as_count()`.
    pub errors: Option<Str>,
    /// Query of good events.
    pub good: Option<Str>,
    /// Query of all events. Required.
    pub total: Option<Str>,
}

/// `[slo.sli.ratio]`: `total` and one of `errors` / `good`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRatio {
    /// Counter selector of bad events.
    pub errors: Option<Str>,
    /// Counter selector of good events.
    pub good: Option<Str>,
    /// Counter selector of all events. Required.
    pub total: Option<Str>,
}

/// `[slo.sli.latency]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLatency {
    /// Histogram base selector, without `_bucket`. Required.
    pub histogram: Option<Str>,
    /// Bucket boundary as the `le` label value, e.g. `"0.3"`. Required unless the SLO's tier
    /// has an `le`.
    pub le: Option<Str>,
}

/// `[slo.sli.events]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvents {
    /// Errors per second over `{{.window}}`. Required.
    pub error_query: Option<Str>,
    /// Events per second over `{{.window}}`. Required.
    pub total_query: Option<Str>,
}

/// `[slo.sli.raw]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRaw {
    /// Error ratio (0..1) over `{{.window}}`. Required.
    pub error_ratio_query: Option<Str>,
}

/// `[slo.sli.threshold]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThreshold {
    /// PromQL returning one value per group, e.g. a p99 from `histogram_quantile`. Required.
    pub query: Option<Str>,
    /// `lt`, `lte`, `gt` or `gte`: the slice is good when `query <op> value`. Required.
    pub op: Option<Str>,
    /// The threshold. Required.
    pub value: Option<Spanned<f64>>,
}

/// `[slo.sli.bool_gauge]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBoolGauge {
    /// Gauge selector whose samples are 1 (good) or 0 (bad), e.g. `up{job="api"}`. Required.
    pub selector: Option<Str>,
}

/// `[defaults.alerting]` and `[slo.alerting]`: the alert policy. Every key is optional; an SLO's
/// key overrides the defaults' key, which overrides [`crate::model::Alerting::standard`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerting {
    /// `alertname` of burn alerts, e.g. `"SLOErrorBudgetBurn"`.
    pub name: Option<Str>,
    /// How long a burn condition must hold before the alert fires, e.g. `"5m"`.
    #[serde(rename = "for")]
    pub hold_for: Option<Str>,
    /// How long a firing alert stays firing after its condition ends.
    pub keep_firing_for: Option<Str>,
    /// Events the long window must hold before a burn alert may fire; at least 0.
    pub min_events: Option<Spanned<f64>>,
    /// Whether page alerts are raised.
    pub page: Option<Spanned<bool>>,
    /// Whether ticket alerts are raised.
    pub ticket: Option<Spanned<bool>>,
    /// Whether `no_data` alerts are raised.
    pub no_data: Option<Spanned<bool>>,
    /// How long without any series before `no_data` fires, e.g. `"15m"`.
    pub no_data_for: Option<Str>,
    /// Raise `budget_exhausted` at this percentage of budget remaining, 0 to 100 (excl.).
    pub budget_exhausted: Option<Spanned<f64>>,
    /// Alert annotations (`runbook`, `dashboard`, `summary`, free text); merged per key.
    pub annotations: Option<StrMap>,
    /// Labels every alert of the SLO carries (Sloth's `alerting.labels`); merged per key.
    pub labels: Option<StrMap>,
    /// Labels only page alerts carry, over `labels` (Sloth's `page_alert.labels`).
    pub page_labels: Option<StrMap>,
    /// Labels only ticket-severity alerts carry, over `labels` (Sloth's `ticket_alert.labels`).
    pub ticket_labels: Option<StrMap>,
    /// Annotations only page alerts carry, over `annotations`.
    pub page_annotations: Option<StrMap>,
    /// Annotations only ticket-severity alerts carry, over `annotations`.
    pub ticket_annotations: Option<StrMap>,
    /// Window pairs; an SLO's list replaces the defaults' list.
    pub windows: Option<Spanned<Vec<Spanned<RawWindow>>>>,
}

/// `[[slo.alerting.windows]]`: one multiwindow burn-rate condition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindow {
    /// `"page"` or `"ticket"`. Required.
    pub severity: Option<Str>,
    /// Short window, e.g. `"5m"`. Required.
    pub short: Option<Str>,
    /// Long window, e.g. `"1h"`. Required.
    pub long: Option<Str>,
    /// Percent of the period's budget spent within the long window, (0, 100]. Exactly one of
    /// `budget_share` and `factor`.
    pub budget_share: Option<Spanned<f64>>,
    /// The burn-rate threshold itself, more than 0.
    pub factor: Option<Spanned<f64>>,
}

/// `[[maintenance]]`: a planned window that excludes events and/or silences notifications.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMaintenance {
    /// Unique name, e.g. `"weekly-db-patching"`. Required.
    pub name: Option<Str>,
    /// SLO ids it covers; `*` and `?` are wildcards. `slos`, `labels` or both.
    pub slos: Option<Spanned<Vec<Str>>>,
    /// SLO labels that must all match, e.g. `{ team = "payments" }`.
    pub labels: Option<StrMap>,
    /// RFC 3339 start of a one-off window; with `schedule`, the first moment it may occur.
    pub start: Option<Str>,
    /// RFC 3339 end of a one-off window, after `start`. Not with `schedule`.
    pub end: Option<Str>,
    /// RFC 5545 RRULE, e.g. `"FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30"`. Needs `duration`.
    pub schedule: Option<Str>,
    /// How long each occurrence of `schedule` lasts, e.g. `"2h"`.
    pub duration: Option<Str>,
    /// IANA zone the schedule's local times are in, e.g. `"Europe/Berlin"`. Default: `"UTC"`.
    pub timezone: Option<Str>,
    /// Why, shown with the span.
    pub reason: Option<Str>,
    /// Leave the events inside out of every window and the budget. Default: true.
    pub exclude: Option<Spanned<bool>>,
    /// Notify nobody while inside (alerts keep their state). Default: true.
    pub silence: Option<Spanned<bool>>,
}

/// `[[digest]]`: a scheduled summary (weekly SLO review or daily wins) sent to chat receivers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDigest {
    /// Unique name, e.g. `"weekly-review"`; with the occurrence time it keys the delivery journal.
    /// Required.
    pub name: Option<Str>,
    /// `"weekly"` (the SLO review) or `"daily"` (wins). Required.
    pub kind: Option<Str>,
    /// Receivers it is sent to, each of type `slack`, `teams` or `webhook`. Required, not empty.
    pub receivers: Option<Spanned<Vec<Str>>>,
    /// RFC 5545 RRULE of the send times, e.g. `"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"`. Required.
    pub schedule: Option<Str>,
    /// IANA zone the schedule's local times are in, e.g. `"Europe/London"`. Default: `"UTC"`.
    pub timezone: Option<Str>,
    /// SLO ids it covers; `*` and `?` are wildcards. Default with `labels` absent: every SLO.
    pub slos: Option<Spanned<Vec<Str>>>,
    /// SLO labels that must all match, e.g. `{ team = "payments" }`. Default: any labels.
    pub labels: Option<StrMap>,
}

/// `[[composite]]`: an SLO over other SLOs, the weighted mean of their normalised burn.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawComposite {
    /// Service name (`sloth_service`). Required.
    pub service: Option<Str>,
    /// Composite name (`sloth_slo`). Required.
    pub name: Option<Str>,
    /// Objective in percent, strictly between 0 and 100, e.g. `99.5`. Required.
    pub objective: Option<Spanned<f64>>,
    /// Free text shown on the status page.
    pub description: Option<Str>,
    /// Labels added to every series exported for this composite.
    pub labels: Option<StrMap>,
    /// Overrides `[defaults] period`; must equal every component's (rolling) period.
    pub period: Option<Str>,
    /// Overrides `[defaults] interval`: how often the components' figures are combined.
    pub interval: Option<Str>,
    /// Refused for now: a composite's budget is its components' (occurrences).
    pub budgeting: Option<Str>,
    /// The SLOs combined, each once. Required, not empty.
    pub components: Option<Spanned<Vec<Spanned<RawComponent>>>>,
    /// `[composite.alerting]`: overrides `[defaults.alerting]` key by key.
    pub alerting: Option<Spanned<RawAlerting>>,
}

/// One entry of `components`: `{ slo = "checkout-pay", weight = 2 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawComponent {
    /// The id (`service-name`) of an `[[slo]]` or another `[[composite]]`. Required.
    pub slo: Option<Str>,
    /// For a grouped SLO, the instance: a value for every `group_by` label.
    pub labels: Option<StrMap>,
    /// Its weight, finite and above 0. Default: [`default_weight`].
    pub weight: Option<Spanned<f64>>,
}

/// `components.*.weight`: 1, every component counts alike.
pub(crate) fn default_weight() -> f64 {
    1.0
}

// `[receivers.<name>]` is decoded by `crate::receiver::raw`: each receiver type declares its
// own keys.

/// `[[route]]`: which alerts go to which receivers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    /// `"page"` and/or `"ticket"`; absent or empty: every severity.
    pub severity: Option<Spanned<Vec<Str>>>,
    /// Label name to exact value; every one must match.
    #[serde(rename = "match")]
    pub matchers: Option<StrMap>,
    /// Names under `[receivers]`. Required, not empty.
    pub receivers: Option<Spanned<Vec<Str>>>,
}

/// `server.listen`: every interface, port 9464.
pub(crate) fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 9464))
}

/// `server.read_header_timeout`: 10 s, ample for any client on a network that works.
pub(crate) fn default_read_header_timeout() -> Duration {
    Duration::from_secs(10)
}

/// `server.idle_timeout`: 2 min, longer than common scrape intervals so a scraper keeps its
/// connection.
pub(crate) fn default_idle_timeout() -> Duration {
    Duration::from_secs(120)
}

/// `server.request_timeout`: 1 min, enough to send a large `/metrics` to a slow scraper.
pub(crate) fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}

/// `server.max_connections`: 256, many times what scrapers and people need.
pub(crate) fn default_max_connections() -> usize {
    256
}

/// `server.max_concurrent_renders`: 4, twice the cores of a small pod.
pub(crate) fn default_max_concurrent_renders() -> usize {
    4
}

/// `record.retention`: 400 days, a year and a quarter to compare with.
pub(crate) fn default_record_retention() -> Duration {
    Duration::from_secs(400 * 86_400)
}

/// `backends.*.backfill_concurrency`: 4 history reads at once.
pub(crate) fn default_backfill_concurrency() -> usize {
    4
}

/// `backends.*.timeout`: 30 s.
pub(crate) fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

/// `defaults.period`: 30 days, the SRE Workbook's and Sloth's usual period.
pub(crate) fn default_period() -> Duration {
    Duration::from_secs(30 * 86_400)
}

/// `defaults.interval`: 30 s, Sloth's rule evaluation interval.
pub(crate) fn default_interval() -> Duration {
    Duration::from_secs(30)
}

/// `defaults.group_limit`: 1000 instances per SLO.
pub(crate) fn default_group_limit() -> usize {
    1000
}

/// `defaults.series_limit`: 2000 series per selector are read one by one from history (the
/// exact read); past it, history is read per group with `increase()`.
pub(crate) fn default_series_limit() -> usize {
    2000
}

/// `receivers.*.timeout`: 10 s; a notification that takes longer is retried.
pub(crate) fn default_receiver_timeout() -> Duration {
    Duration::from_secs(10)
}

/// `receivers.*.repeat_interval`: 4 h, Alertmanager's default.
pub(crate) fn default_repeat_interval() -> Duration {
    Duration::from_secs(4 * 3_600)
}
