//! Validation of `[slo.sli.*]`: exactly one SLI kind, with valid selectors or templates.

use std::ops::Range;

use toml::Spanned;

use burnwatch_engine::Comparison;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::Sli;
use crate::raw::{
    RawBoolGauge, RawEvents, RawLatency, RawRatio, RawRaw, RawSli, RawThreshold, Str,
};
use crate::selector::Selector;
use crate::template::Template;

const KINDS: &str = "[slo.sli.ratio], [slo.sli.latency], [slo.sli.events], [slo.sli.raw], \
                     [slo.sli.threshold], [slo.sli.bool_gauge] or [slo.sli.datadog]";
const KEYS: [&str; 7] = [
    "ratio",
    "latency",
    "events",
    "raw",
    "threshold",
    "bool_gauge",
    "datadog",
];

/// Validates the `sli` of the SLO whose table is at `slo_span`; `None` after reporting.
/// `tier_le` is the `le` of the SLO's tier, for a latency SLI that leaves it out.
pub(crate) fn sli(
    ctx: &mut Ctx<'_>,
    raw: Option<&Spanned<RawSli>>,
    slo_span: &Range<usize>,
    tier_le: Option<&str>,
) -> Option<Sli> {
    let Some(raw) = raw else {
        ctx.missing(
            slo_span,
            "sli",
            format!("[[slo]] needs an SLI: add one of {KINDS}"),
        );
        return None;
    };
    let span = raw.span();
    let raw = raw.get_ref();
    let given: Vec<&str> = [
        ("ratio", raw.ratio.is_some()),
        ("latency", raw.latency.is_some()),
        ("events", raw.events.is_some()),
        ("raw", raw.raw.is_some()),
        ("threshold", raw.threshold.is_some()),
        ("bool_gauge", raw.bool_gauge.is_some()),
        ("datadog", raw.datadog.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect();
    match given.len() {
        0 => {
            if !KEYS.iter().any(|k| ctx.was_dropped(&span, k)) {
                ctx.error(
                    ErrorKind::Missing,
                    &span,
                    format!("[slo.sli] needs one of {KINDS}"),
                );
            }
            return None;
        }
        1 => {}
        _ => {
            ctx.error(
                ErrorKind::Conflict,
                &span,
                format!(
                    "[slo.sli] gives {} SLI kinds ({}); give exactly one",
                    given.len(),
                    given.join(", ")
                ),
            );
            return None;
        }
    }
    if let Some(ratio) = &raw.ratio {
        return ratio_sli(ctx, ratio);
    }
    if let Some(latency) = &raw.latency {
        return latency_sli(ctx, latency, tier_le);
    }
    if let Some(events) = &raw.events {
        return events_sli(ctx, events);
    }
    if let Some(threshold) = &raw.threshold {
        return threshold_sli(ctx, threshold);
    }
    if let Some(gauge) = &raw.bool_gauge {
        return bool_gauge_sli(ctx, gauge);
    }
    if let Some(datadog) = &raw.datadog {
        return crate::datadog::sli(ctx, datadog);
    }
    raw.raw.as_ref().and_then(|r| raw_sli(ctx, r))
}

fn threshold_sli(ctx: &mut Ctx<'_>, raw: &Spanned<RawThreshold>) -> Option<Sli> {
    let span = raw.span();
    let raw = raw.get_ref();
    let query = match &raw.query {
        None => {
            ctx.missing(
                &span,
                "query",
                "[slo.sli.threshold] needs `query`, PromQL returning one value per group, e.g. \
                 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))'"
                    .into(),
            );
            None
        }
        Some(text) => ctx.expand(text).and_then(|query| {
            if query.trim().is_empty() {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &text.span(),
                    "`query` is empty: write the PromQL whose value is compared, e.g. \
                     'time() - last_success_timestamp_seconds{job=\"etl\"}'",
                );
                return None;
            }
            if query.contains("{{") {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &text.span(),
                    "`query` of a threshold SLI takes no {{.window}} template: it is evaluated \
                     once per slice as written; put ranges in it yourself, e.g. rate(x[5m])",
                );
                return None;
            }
            Some(query)
        }),
    };
    const OPS: [(&str, Comparison); 4] = [
        ("lt", Comparison::Lt),
        ("lte", Comparison::Lte),
        ("gt", Comparison::Gt),
        ("gte", Comparison::Gte),
    ];
    let op = match &raw.op {
        None => {
            ctx.missing(
                &span,
                "op",
                "[slo.sli.threshold] needs `op`: \"lt\", \"lte\", \"gt\" or \"gte\" (the slice is \
                 good when `query <op> value`)"
                    .into(),
            );
            None
        }
        Some(text) => ctx.choice(text, &OPS, |value, hint| {
            format!(
                "op {value:?} is not a comparison{hint}; use \"lt\", \"lte\", \"gt\" or \"gte\""
            )
        }),
    };
    let value = match &raw.value {
        None => {
            ctx.missing(
                &span,
                "value",
                "[slo.sli.threshold] needs `value`, the number `query` is compared with, e.g. value = 0.3"
                    .into(),
            );
            None
        }
        Some(value) if !value.get_ref().is_finite() => {
            ctx.error(
                ErrorKind::InvalidValue,
                &value.span(),
                "`value` must be a finite number, e.g. 0.3",
            );
            None
        }
        Some(value) => Some(*value.get_ref()),
    };
    Some(Sli::Threshold {
        query: query?,
        op: op?,
        value: value?,
    })
}

fn bool_gauge_sli(ctx: &mut Ctx<'_>, raw: &Spanned<RawBoolGauge>) -> Option<Sli> {
    let span = raw.span();
    let Some(text) = &raw.get_ref().selector else {
        ctx.missing(
            &span,
            "selector",
            "[slo.sli.bool_gauge] needs `selector`, a gauge that is 1 when good and 0 when bad, \
             e.g. 'up{job=\"api\"}'"
                .into(),
        );
        return None;
    };
    let selector = selector(ctx, text, "selector")?;
    Some(Sli::BoolGauge { selector })
}

fn ratio_sli(ctx: &mut Ctx<'_>, raw: &Spanned<RawRatio>) -> Option<Sli> {
    let span = raw.span();
    let raw = raw.get_ref();
    let errors = raw.errors.as_ref().map(|s| selector(ctx, s, "errors"));
    let good = raw.good.as_ref().map(|s| selector(ctx, s, "good"));
    let total = raw.total.as_ref().map(|s| selector(ctx, s, "total"));
    let mut ok = true;
    if let (Some(_), Some(good_text), Some(_)) = (&raw.errors, &raw.good, &raw.total) {
        ok = false;
        ctx.error(
            ErrorKind::Conflict,
            &good_text.span(),
            "[slo.sli.ratio] gives errors, good and total, but takes two of them: keep `total` \
             and drop `good` (burnwatch counts errors directly) or drop `errors` (errors = total - good)",
        );
    }
    if raw.total.is_none() {
        ok = false;
        ctx.missing(
            &span,
            "total",
            "[slo.sli.ratio] needs `total`, the counter of all events, next to `errors` or `good`"
                .into(),
        );
    }
    if raw.errors.is_none()
        && raw.good.is_none()
        && !ctx.was_dropped(&span, "errors")
        && !ctx.was_dropped(&span, "good")
    {
        ok = false;
        ctx.error(
            ErrorKind::Missing,
            &span,
            "[slo.sli.ratio] needs `errors` (counter of bad events) or `good` (counter of good events) next to `total`",
        );
    }
    let errors = errors.map_or(Some(None), |s| s.map(Some))?;
    let good = good.map_or(Some(None), |s| s.map(Some))?;
    let total = total.flatten()?;
    ok.then_some(Sli::Ratio {
        errors,
        good,
        total,
    })
}

/// An `le` bucket label value, exactly as written: a number or `+Inf`.
pub(crate) fn le(ctx: &mut Ctx<'_>, text: &Str) -> Option<String> {
    let le = ctx.expand(text)?;
    match le.trim().parse::<f64>() {
        Ok(v) if !v.is_nan() && le.trim() == le => Some(le),
        _ => {
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!("le {le:?} is not a bucket boundary: write the `le` label value exactly, e.g. \"0.3\" or \"+Inf\""),
            );
            None
        }
    }
}

fn latency_sli(ctx: &mut Ctx<'_>, raw: &Spanned<RawLatency>, tier_le: Option<&str>) -> Option<Sli> {
    let span = raw.span();
    let raw = raw.get_ref();
    let histogram = match &raw.histogram {
        None => {
            ctx.missing(
                &span,
                "histogram",
                "[slo.sli.latency] needs `histogram`, e.g. 'http_request_duration_seconds{service=\"checkout\"}'".into(),
            );
            None
        }
        Some(text) => selector(ctx, text, "histogram").and_then(|h| histogram(ctx, text, h)),
    };
    let le = match (&raw.le, tier_le) {
        (Some(text), _) => le(ctx, text),
        (None, Some(le)) => Some(le.to_string()),
        (None, None) => {
            ctx.missing(&span, "le", "[slo.sli.latency] needs `le`, the bucket boundary, e.g. le = \"0.3\" (or a `tier` with an `le`)".into());
            None
        }
    };
    Some(Sli::Latency {
        histogram: histogram?,
        le: le?,
    })
}

/// The histogram selector names the base metric and leaves `le` to burnwatch.
fn histogram(ctx: &mut Ctx<'_>, text: &Str, histogram: Selector) -> Option<Selector> {
    let metric = histogram.metric();
    if let Some(base) = ["_bucket", "_count", "_sum"]
        .iter()
        .find_map(|s| metric.strip_suffix(s))
    {
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            format!(
                "`histogram` must name the histogram without its suffix: `{base}`, not `{metric}` \
                 (burnwatch reads {base}_bucket and {base}_count)"
            ),
        );
        return None;
    }
    if histogram.matchers().iter().any(|m| m.name == "le") {
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            "`histogram` must not match on `le`: set the boundary with the `le` key",
        );
        return None;
    }
    Some(histogram)
}

fn events_sli(ctx: &mut Ctx<'_>, raw: &Spanned<RawEvents>) -> Option<Sli> {
    let span = raw.span();
    let raw = raw.get_ref();
    let error_query = required_template(
        ctx,
        raw.error_query.as_ref(),
        &span,
        "[slo.sli.events]",
        "error_query",
    );
    let total_query = required_template(
        ctx,
        raw.total_query.as_ref(),
        &span,
        "[slo.sli.events]",
        "total_query",
    );
    Some(Sli::Events {
        error_query: error_query?,
        total_query: total_query?,
    })
}

fn raw_sli(ctx: &mut Ctx<'_>, raw: &Spanned<RawRaw>) -> Option<Sli> {
    let span = raw.span();
    let query = raw.get_ref().error_ratio_query.as_ref();
    let error_ratio_query =
        required_template(ctx, query, &span, "[slo.sli.raw]", "error_ratio_query")?;
    Some(Sli::Raw { error_ratio_query })
}

fn required_template(
    ctx: &mut Ctx<'_>,
    text: Option<&Str>,
    table_span: &Range<usize>,
    table: &str,
    key: &str,
) -> Option<Template> {
    let Some(text) = text else {
        ctx.missing(
            table_span,
            key,
            format!(
                "{table} needs `{key}`, a PromQL query with {{{{.window}}}} where the range goes"
            ),
        );
        return None;
    };
    let value = ctx.expand(text)?;
    match Template::parse(&value) {
        Ok(template) => Some(template),
        Err(why) => {
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!("`{key}`: {why}"),
            );
            None
        }
    }
}

/// A counter selector; errors point into the string when it is written literally.
fn selector(ctx: &mut Ctx<'_>, text: &Str, key: &str) -> Option<Selector> {
    let value = ctx.expand(text)?;
    match Selector::parse_at(&value) {
        Ok(selector) => Some(selector),
        Err(e) => {
            let offset = if value == *text.get_ref() {
                ctx.offset_in(text, e.offset)
            } else {
                text.span().start
            };
            ctx.error_at_offset(
                ErrorKind::InvalidValue,
                offset,
                format!("`{key}` is not a valid selector: {}", e.message),
            );
            None
        }
    }
}
