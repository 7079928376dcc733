//! Datadog: the `[backends.<name>]` keys of `type = "datadog"` (`site`, the two keys) and
//! `[slo.sli.datadog]` (metric queries counted per bucket).
//!
//! Monitors and Datadog's own SLO objects are not read: an SLI here is two metric queries.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::{Datadog, DatadogQuery, SecretSource, Sli};
use crate::raw::{RawBackend, RawDatadog, Str};

/// The Datadog sites and their API hosts.
const SITES: [(&str, &str); 6] = [
    ("datadoghq.com", "https://api.datadoghq.com"),
    ("datadoghq.eu", "https://api.datadoghq.eu"),
    ("us3.datadoghq.com", "https://api.us3.datadoghq.com"),
    ("us5.datadoghq.com", "https://api.us5.datadoghq.com"),
    ("ap1.datadoghq.com", "https://api.ap1.datadoghq.com"),
    ("ddog-gov.com", "https://api.ddog-gov.com"),
];

/// The keys of a Prometheus backend a Datadog backend does not take, and why.
const PROMETHEUS_ONLY: &str = "a datadog backend takes `site`, `api_key`/`api_key_file`, \
                               `application_key`/`application_key_file` and `timeout`";

/// The API base URL of `site` (a site name, or a full URL for tests and proxies); `None` after
/// reporting.
pub(crate) fn site(ctx: &mut Ctx<'_>, raw: &RawBackend, span: &Range<usize>) -> Option<String> {
    for (key, present) in [
        ("url", raw.url.is_some()),
        ("headers", raw.headers.is_some()),
        ("bearer_token", raw.bearer_token.is_some()),
        ("bearer_token_file", raw.bearer_token_file.is_some()),
        ("basic_auth", raw.basic_auth.is_some()),
    ] {
        if present {
            ctx.error(
                ErrorKind::Conflict,
                span,
                format!("`{key}` is a Prometheus backend's key: {PROMETHEUS_ONLY}"),
            );
            return None;
        }
    }
    let Some(text) = &raw.site else {
        ctx.missing(
            span,
            "site",
            format!(
                "a datadog backend needs `site`: one of {}",
                SITES.map(|(s, _)| format!("\"{s}\"")).join(", ")
            ),
        );
        return None;
    };
    let value = ctx.expand(text)?;
    if let Some((_, url)) = SITES.iter().find(|(s, _)| *s == value) {
        return Some((*url).to_string());
    }
    if value.starts_with("http://") || value.starts_with("https://") {
        return crate::url::shaped(
            ctx,
            text,
            &value,
            "https://api.datadoghq.com",
            crate::url::base_url,
        );
    }
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!(
            "site {value:?} is not a Datadog site: use one of {} (or a full URL, e.g. for a proxy)",
            SITES.map(|(s, _)| format!("\"{s}\"")).join(", ")
        ),
    );
    None
}

/// The API and application keys, each from `${ENV}` or a file (never written in the file).
pub(crate) fn keys(
    ctx: &mut Ctx<'_>,
    raw: &RawBackend,
    span: &Range<usize>,
    dir: &Path,
) -> Option<Datadog> {
    let api_key = key(ctx, &raw.api_key, &raw.api_key_file, "api_key", span, dir);
    let application_key = key(
        ctx,
        &raw.application_key,
        &raw.application_key_file,
        "application_key",
        span,
        dir,
    );
    Some(Datadog {
        api_key: api_key?,
        application_key: application_key?,
    })
}

fn key(
    ctx: &mut Ctx<'_>,
    value: &Option<Str>,
    file: &Option<Str>,
    name: &str,
    span: &Range<usize>,
    dir: &Path,
) -> Option<SecretSource> {
    let file_key = format!("{name}_file");
    match (value, file) {
        (Some(_), Some(file)) => {
            ctx.error(
                ErrorKind::Conflict,
                &file.span(),
                format!("`{name}` and `{file_key}` are both given: keep one"),
            );
            None
        }
        (Some(value), None) => {
            let secret = ctx.expand_credential(value, name, &file_key)?;
            if secret.expose().trim().is_empty() {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &value.span(),
                    format!("`{name}` is empty (is the environment variable it names empty?)"),
                );
                return None;
            }
            Some(SecretSource::Value(secret))
        }
        (None, Some(file)) => ctx.file_path(file, dir).map(SecretSource::File),
        (None, None) => {
            ctx.missing(
                span,
                name,
                format!(
                    "a datadog backend needs `{name}` (from the environment, `{name} = \"${{DD_{}}}\"`) \
                     or `{file_key}`",
                    name.to_ascii_uppercase()
                ),
            );
            None
        }
    }
}

/// The keys a Prometheus backend must not have.
pub(crate) fn refuse_keys(ctx: &mut Ctx<'_>, raw: &RawBackend) {
    for (key, text) in [
        ("site", &raw.site),
        ("api_key", &raw.api_key),
        ("api_key_file", &raw.api_key_file),
        ("application_key", &raw.application_key),
        ("application_key_file", &raw.application_key_file),
    ] {
        if let Some(text) = text {
            let at = ctx.key_span(&text.span(), key);
            ctx.error(
                ErrorKind::Conflict,
                &at,
                format!("`{key}` is a datadog backend's key (type = \"datadog\")"),
            );
        }
    }
}

/// `[slo.sli.datadog]`: `total` and one of `errors`/`good`.
pub(crate) fn sli(ctx: &mut Ctx<'_>, raw: &Spanned<RawDatadog>) -> Option<Sli> {
    let span = raw.span();
    let raw = raw.get_ref();
    let errors = raw.errors.as_ref().map(|q| query(ctx, q, "errors"));
    let good = raw.good.as_ref().map(|q| query(ctx, q, "good"));
    let total = raw.total.as_ref().map(|q| query(ctx, q, "total"));
    let mut ok = true;
    if raw.errors.is_some() == raw.good.is_some() {
        ok = false;
        ctx.error(
            ErrorKind::Conflict,
            &span,
            "[slo.sli.datadog] takes exactly one of `errors` and `good`, next to `total`",
        );
    }
    if raw.total.is_none() {
        ok = false;
        ctx.missing(
            &span,
            "total",
            "[slo.sli.datadog] needs `total`, e.g. 'sum:trace.http.request.hits{service:checkout}.as_count()'"
                .into(),
        );
    }
    let errors = errors.map_or(Some(None), |q| q.map(Some))?;
    let good = good.map_or(Some(None), |q| q.map(Some))?;
    let total = total.flatten()?;
    ok.then_some(Sli::Datadog {
        errors,
        good,
        total,
    })
}

/// A metric query burnwatch can count exactly: `sum:<metric>{<scope>}`, optionally
/// `.as_count()`; the grouping (`by {...}`, from the SLO's `group_by`) and the rollup
/// (`.rollup(sum, <step>)`) are burnwatch's to add.
fn query(ctx: &mut Ctx<'_>, text: &Str, key: &str) -> Option<DatadogQuery> {
    let value = ctx.expand(text)?;
    match DatadogQuery::parse(&value) {
        Ok(query) => Some(query),
        Err(why) => {
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!("`{key}` is not a metric query burnwatch can count: {why}"),
            );
            None
        }
    }
}

impl DatadogQuery {
    /// Parses `sum:<metric>{<scope>}[.as_count()]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        const EXAMPLE: &str =
            "e.g. 'sum:trace.http.request.errors{service:checkout,env:prod}.as_count()'";
        let text = text.trim();
        let Some(rest) = text.strip_prefix("sum:") else {
            return Err(format!(
                "it must start with `sum:` (events add up; an average or a maximum of counts does \
                 not), {EXAMPLE}"
            ));
        };
        let Some(open) = rest.find('{') else {
            return Err(format!(
                "it needs a scope in braces, `{{*}}` for all, {EXAMPLE}"
            ));
        };
        let metric = &rest[..open];
        if metric.is_empty()
            || !metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        {
            return Err(format!(
                "metric name {metric:?} must be letters, digits, `_` and `.`, {EXAMPLE}"
            ));
        }
        let Some(close) = rest[open..].find('}').map(|i| open + i) else {
            return Err(format!("the scope's `{{` is never closed, {EXAMPLE}"));
        };
        let scope = rest[open + 1..close].trim();
        let tail = &rest[close + 1..];
        if tail.contains(".rollup(") {
            return Err(
                "burnwatch adds `.rollup(sum, <step>)` itself (one exact count per bucket): \
                 remove the rollup"
                    .into(),
            );
        }
        if tail.trim_start().starts_with("by") {
            return Err(
                "group with the SLO's `group_by` (tag names), not `by {...}` in the query".into(),
            );
        }
        let as_count = match tail {
            "" => false,
            ".as_count()" => true,
            other => {
                return Err(format!(
                    "after the scope only `.as_count()` may follow, not {other:?}, {EXAMPLE}"
                ));
            }
        };
        Ok(Self {
            metric: metric.to_string(),
            scope: if scope.is_empty() {
                "*".into()
            } else {
                scope.to_string()
            },
            as_count,
        })
    }

    /// The query for the API: grouped by `group_by` tags, each point the sum of the events
    /// in `step_secs` seconds.
    pub fn render(&self, group_by: &[String], step_secs: u64) -> String {
        let by = if group_by.is_empty() {
            String::new()
        } else {
            format!(" by {{{}}}", group_by.join(","))
        };
        let count = if self.as_count { ".as_count()" } else { "" };
        format!(
            "sum:{}{{{}}}{by}{count}.rollup(sum, {step_secs})",
            self.metric, self.scope
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_get_grouping_and_rollup() {
        let q = DatadogQuery::parse(
            "sum:trace.http.request.errors{service:checkout,env:prod}.as_count()",
        )
        .unwrap();
        assert_eq!(
            q.render(&["route".into()], 60),
            "sum:trace.http.request.errors{service:checkout,env:prod} by {route}.as_count().rollup(sum, 60)"
        );
        assert_eq!(
            DatadogQuery::parse("sum:hits{}").unwrap().render(&[], 600),
            "sum:hits{*}.rollup(sum, 600)"
        );
    }

    #[test]
    fn queries_that_would_not_count_exactly_are_refused() {
        for (text, why) in [
            ("avg:hits{*}", "must start with `sum:`"),
            ("sum:hits{*}.rollup(avg, 60)", "adds `.rollup(sum"),
            ("sum:hits{*} by {host}", "group_by"),
            ("sum:hits{*}.as_rate()", "only `.as_count()`"),
            ("sum:hits", "needs a scope"),
        ] {
            let err = DatadogQuery::parse(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
