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
/// section means adding it here, a raw type below and an arm in `decode.rs`.
pub(crate) const SECTIONS: [&str; 4] = ["server", "backends", "defaults", "slo"];

/// `[server]`: the HTTP server that serves `/metrics`, the API and the status page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    /// `host:port` to listen on. Default: [`default_listen`].
    pub listen: Option<Str>,
}

/// `[backends.<name>]`: a metrics backend to query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackend {
    /// The API it speaks; only `"prometheus"` for now. Required.
    #[serde(rename = "type")]
    pub kind: Option<Str>,
    /// Base URL, `http://` or `https://`, e.g. `http://prometheus:9090`. Required.
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
    /// Rolling SLO period. Default: [`default_period`].
    pub period: Option<Str>,
    /// Evaluation tick. Default: [`default_interval`].
    pub interval: Option<Str>,
    /// Maximum SLO instances per `group_by` SLO. Default: [`default_group_limit`].
    pub group_limit: Option<Spanned<i64>>,
}

/// `[[slo]]`: one service level objective.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlo {
    /// Service name (`sloth_service`). Required.
    pub service: Option<Str>,
    /// SLO name (`sloth_slo`). Required.
    pub name: Option<Str>,
    /// Objective in percent, strictly between 0 and 100, e.g. `99.9`. Required.
    pub objective: Option<Spanned<f64>>,
    /// Free text shown on the status page.
    pub description: Option<Str>,
    /// Labels added to every series exported for this SLO.
    pub labels: Option<StrMap>,
    /// Label names splitting the SLO into one instance per label set.
    pub group_by: Option<Spanned<Vec<Str>>>,
    /// Overrides `[defaults] group_limit`.
    pub group_limit: Option<Spanned<i64>>,
    /// Overrides `[defaults] backend`.
    pub backend: Option<Str>,
    /// Overrides `[defaults] period`.
    pub period: Option<Str>,
    /// Overrides `[defaults] interval`.
    pub interval: Option<Str>,
    /// How events are measured: exactly one of the kinds. Required.
    pub sli: Option<Spanned<RawSli>>,
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
    /// Bucket boundary as the `le` label value, e.g. `"0.3"`. Required.
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

/// `server.listen`: every interface, port 9464.
pub(crate) fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 9464))
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
