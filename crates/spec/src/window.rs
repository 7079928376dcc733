//! `[[...alerting.windows]]`: the multiwindow burn-rate conditions of an alert policy.
//!
//! Only what the file can get wrong is checked here; the engine derives factors from budget
//! shares and the period.

use std::time::Duration;

use toml::Spanned;

use crate::context::Ctx;
use crate::duration::format_prometheus;
use crate::error::ErrorKind;
use crate::location::Location;
use crate::model::{AlertWindow, Threshold};
use crate::raw::{RawWindow, Str};

const MINUTE: Duration = Duration::from_secs(60);

/// The SLO period windows must fit in, and how messages name it (`the [defaults] period`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Period<'a> {
    /// Its length.
    pub length: Duration,
    /// How to name it in messages.
    pub name: &'a str,
}

/// A checked pair and where its long window is written, to point at it from an SLO whose own
/// period is shorter than a window it inherits.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// The pair.
    pub window: AlertWindow,
    /// Where `long` is written.
    pub long_at: Location,
}

/// Checks a `windows` list; `table` names one element in messages
/// (`[[slo.alerting.windows]]`). `None` after reporting its problems.
pub(crate) fn windows(
    ctx: &mut Ctx<'_>,
    raw: &Spanned<Vec<Spanned<RawWindow>>>,
    table: &str,
    period: Option<Period<'_>>,
) -> Option<Vec<Window>> {
    if raw.get_ref().is_empty() {
        ctx.error(
            ErrorKind::InvalidValue,
            &raw.span(),
            format!(
                "`windows` is empty, so no burn alert could fire: remove it to use the default \
                 windows, or turn burn alerts off with page = false and ticket = false; each {table} \
                 needs severity, short, long and budget_share or factor"
            ),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for element in raw.get_ref() {
        match window(ctx, element, table, period) {
            Some(window) => out.push(window),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn window(
    ctx: &mut Ctx<'_>,
    raw: &Spanned<RawWindow>,
    table: &str,
    period: Option<Period<'_>>,
) -> Option<Window> {
    let span = raw.span();
    let raw = raw.get_ref();
    let severity = match &raw.severity {
        Some(text) => crate::severity::severity(ctx, text, "severity"),
        None => {
            ctx.missing(
                &span,
                "severity",
                format!("{table} needs `severity`, \"page\" or \"ticket\""),
            );
            None
        }
    };
    let short = length(ctx, raw.short.as_ref(), &span, table, "short", "5m");
    let long = length(ctx, raw.long.as_ref(), &span, table, "long", "1h");
    let threshold = threshold(ctx, raw, &span, table);
    let mut ok = true;
    if let (Some(short_text), Some(short), Some(long)) = (&raw.short, short, long)
        && short >= long
    {
        ok = false;
        ctx.error(
            ErrorKind::InvalidValue,
            &short_text.span(),
            format!(
                "the short window {} must be shorter than the long window {}: the short one \
                 makes the alert resolve quickly, e.g. short = \"5m\" with long = \"1h\"",
                format_prometheus(short),
                format_prometheus(long)
            ),
        );
    }
    if let (Some(long_text), Some(long), Some(period)) = (&raw.long, long, period)
        && long > period.length
    {
        ok = false;
        ctx.error(
            ErrorKind::InvalidValue,
            &long_text.span(),
            format!(
                "the long window {} is longer than {} {}: budget is spent within the period, so \
                 a window may be at most as long",
                format_prometheus(long),
                period.name,
                format_prometheus(period.length)
            ),
        );
    }
    let long_at = ctx.at(&raw.long.as_ref()?.span());
    let window = AlertWindow {
        severity: severity?,
        short: short?,
        long: long?,
        threshold: threshold?,
    };
    ok.then_some(Window { window, long_at })
}

/// `short` or `long`: whole minutes, at least one (the engine keeps minute buckets).
fn length(
    ctx: &mut Ctx<'_>,
    text: Option<&Str>,
    window_span: &std::ops::Range<usize>,
    table: &str,
    key: &str,
    example: &str,
) -> Option<Duration> {
    let Some(text) = text else {
        ctx.missing(
            window_span,
            key,
            format!("{table} needs `{key}`, a duration, e.g. {key} = \"{example}\""),
        );
        return None;
    };
    let duration = ctx.duration(text, key)?;
    if duration >= MINUTE && duration.as_millis().is_multiple_of(MINUTE.as_millis()) {
        return Some(duration);
    }
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!(
            "the {key} window {} must be whole minutes and at least 1m, e.g. \"{example}\"",
            format_prometheus(duration)
        ),
    );
    None
}

/// Exactly one of `budget_share` and `factor`.
fn threshold(
    ctx: &mut Ctx<'_>,
    raw: &RawWindow,
    window_span: &std::ops::Range<usize>,
    table: &str,
) -> Option<Threshold> {
    match (&raw.budget_share, &raw.factor) {
        (Some(_), Some(factor)) => {
            ctx.error(
                ErrorKind::Conflict,
                &factor.span(),
                format!(
                    "{table} gives both `budget_share` and `factor`: keep one (the factor is \
                     budget_share / 100 * period / long window)"
                ),
            );
            None
        }
        (Some(share), None) => {
            let value = *share.get_ref();
            if value.is_finite() && value > 0.0 && value <= 100.0 {
                return Some(Threshold::BudgetShare(value));
            }
            let written = ctx.source(&share.span());
            ctx.error(
                ErrorKind::InvalidValue,
                &share.span(),
                format!(
                    "budget_share {written} must be a percentage of the period's error budget, \
                     more than 0 and at most 100, e.g. budget_share = 2"
                ),
            );
            None
        }
        (None, Some(factor)) => {
            let value = *factor.get_ref();
            if value.is_finite() && value > 0.0 {
                return Some(Threshold::Factor(value));
            }
            let written = ctx.source(&factor.span());
            ctx.error(
                ErrorKind::InvalidValue,
                &factor.span(),
                format!("factor {written} must be a burn rate above 0, e.g. factor = 14.4"),
            );
            None
        }
        (None, None) => {
            if !ctx.was_dropped(window_span, "budget_share")
                && !ctx.was_dropped(window_span, "factor")
            {
                ctx.error(
                    ErrorKind::Missing,
                    window_span,
                    format!(
                        "{table} needs `budget_share` (percent of the period's budget spent \
                         within the long window, e.g. 2) or `factor` (the burn rate, e.g. 14.4)"
                    ),
                );
            }
            None
        }
    }
}

/// Windows an SLO inherits from `[defaults.alerting]` must fit in its own `period`; problems
/// point at the SLO's `period` and name where the window is written.
pub(crate) fn check_inherited(
    ctx: &mut Ctx<'_>,
    windows: &[Window],
    period: Duration,
    period_text: &Str,
) -> bool {
    let Some(longest) = windows.iter().max_by_key(|w| w.window.long) else {
        return true;
    };
    if longest.window.long <= period {
        return true;
    }
    ctx.error(
        ErrorKind::InvalidValue,
        &period_text.span(),
        format!(
            "period {} is shorter than the long window {} this SLO inherits from \
             [[defaults.alerting.windows]] at {}: give the SLO a period of at least {} or its own \
             [[slo.alerting.windows]]",
            format_prometheus(period),
            format_prometheus(longest.window.long),
            longest.long_at,
            format_prometheus(longest.window.long)
        ),
    );
    false
}
