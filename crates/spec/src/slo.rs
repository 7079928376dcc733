//! Validation of one `[[slo]]`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use burnwatch_engine::Objective;
use toml::Spanned;

use crate::alerting::{self, Layer};
use crate::calendar;
use crate::context::Ctx;
use crate::defaults::{self, Defaults};
use crate::error::ErrorKind;
use crate::model::{Alerting, Sli, Slo};
use crate::names::{SLO_NAME_RULE, is_label_name, is_slo_name, reserved_prefix};
use crate::raw::{RawAlerting, RawSlo, Str, StrMap};
use crate::tier::Tiers;
use crate::window::{self, Period};

/// Validates one SLO against the defaults and the backend names defined in the file; `None`
/// after reporting its problems.
pub(crate) fn slo(
    ctx: &mut Ctx<'_>,
    raw: &Spanned<RawSlo>,
    defaults: &Defaults,
    tiers: &Tiers,
    backends: &[&str],
) -> Option<Slo> {
    let span = raw.span();
    let raw = raw.get_ref();
    let service = name(
        ctx,
        raw.service.as_ref(),
        &span,
        "service",
        "checkout",
        "[[slo]]",
    );
    let slo_name = name(
        ctx,
        raw.name.as_ref(),
        &span,
        "name",
        "availability",
        "[[slo]]",
    );
    // `Some(None)`: no tier; `None`: an unknown or invalid tier, reported.
    let tier = match &raw.tier {
        None => Some(None),
        Some(text) => tiers.find(ctx, text).map(Some),
    };
    let objective = match (&raw.objective, tier.flatten().and_then(|t| t.objective)) {
        (None, Some(from_tier)) => Some(from_tier),
        (None, None) if tier.is_none() => None,
        (given, _) => objective(ctx, given.as_ref(), &span, "[[slo]]"),
    };
    let objective_schedule = crate::schedule::schedule(ctx, raw.objective_schedule.as_ref());
    let description = match &raw.description {
        None => Some(None),
        Some(text) => ctx.expand(text).map(Some),
    };
    let labels = labels(ctx, raw.labels.as_ref());
    let group_by = group_by(ctx, raw.group_by.as_ref(), raw.labels.as_ref());
    let group_limit = match &raw.group_limit {
        Some(n) => defaults::group_limit(ctx, n),
        None => defaults.group_limit,
    };
    let series_limit = match &raw.series_limit {
        Some(n) => defaults::series_limit(ctx, n),
        None => defaults.series_limit,
    };
    let backend = backend(ctx, raw.backend.as_ref(), &span, defaults, backends);
    let own_calendar = calendar::keys(
        ctx,
        raw.calendar.as_ref(),
        raw.timezone.as_ref(),
        raw.week_start.as_ref(),
        raw.period.as_ref(),
        "this SLO",
    );
    let calendar = calendar::resolve(
        ctx,
        own_calendar,
        defaults.calendar,
        raw.period.is_some(),
        raw.week_start.as_ref(),
        raw.timezone.as_ref(),
    );
    let period = match (&raw.period, calendar) {
        (_, Some(Some(c))) => Some(calendar::nominal(c.unit)),
        (Some(text), _) => defaults::period(ctx, text),
        (None, _) => defaults.period,
    };
    let interval = defaults::interval_or(ctx, raw.interval.as_ref(), defaults);
    let own = Own {
        alerting: raw.alerting.as_ref(),
        period: raw.period.as_ref(),
        calendar: raw.calendar.as_ref(),
        table: "[slo.alerting]",
    };
    let tier_alerting = tier.flatten().map(|t| &t.alerting);
    let alerting = alerting(
        ctx,
        own,
        defaults,
        tier_alerting,
        period,
        calendar.flatten(),
    );
    let tier_le = tier.flatten().and_then(|t| t.le.as_deref());
    let sli = crate::sli::sli(ctx, raw.sli.as_ref(), &span, tier_le);
    let slicing = crate::budgeting::slicing(ctx, raw, sli.as_ref(), &span);
    if let (Some(Sli::Raw { .. }), Some(Some(c))) = (&sli, calendar) {
        // A raw SLI's ratios are the backend's, over ranges ending now; a calendar period needs
        // the events themselves, counted from the period's start.
        let at = match &raw.calendar {
            Some(text) => ctx.key_span(&text.span(), "calendar"),
            None => raw.sli.as_ref().map_or(span.clone(), |s| s.span()),
        };
        ctx.error(
            ErrorKind::InvalidValue,
            &at,
            format!(
                "calendar = \"{}\" needs an SLI burnwatch counts events for (`ratio`, `latency` \
                 or `events`): a `raw` SLI's error ratio is computed by the backend over rolling \
                 windows; write the SLI as `events` or use a rolling `period`",
                c.unit.as_str()
            ),
        );
        return None;
    }
    if let (Some(Sli::Latency { .. }), Some(group_by), Some(raw_group_by)) =
        (&sli, &group_by, &raw.group_by)
        && group_by.iter().any(|g| g == "le")
    {
        ctx.error(
            ErrorKind::InvalidValue,
            &raw_group_by.span(),
            "a latency SLO cannot be grouped by `le`: burnwatch selects the bucket itself",
        );
        return None;
    }
    // A tier is resolved here, into the other fields: the model keeps no trace of it.
    let (service, name, objective) = (service?, slo_name?, objective?);
    Some(Slo {
        id: format!("{service}-{name}"),
        service,
        name,
        objective,
        objective_schedule: objective_schedule?,
        description: description?,
        labels: labels?,
        group_by: group_by?,
        group_limit: group_limit?,
        series_limit: series_limit?,
        backend: backend?,
        period: period?,
        calendar: calendar?,
        interval: interval?,
        sli: sli?,
        slicing: slicing?,
        alerting: alerting?,
        location: ctx.at(&span).to_string(),
    })
}

/// What an SLO (or a composite) writes itself that its alert policy depends on.
#[derive(Clone, Copy)]
pub(crate) struct Own<'a> {
    /// Its `[*.alerting]` table.
    pub alerting: Option<&'a Spanned<RawAlerting>>,
    /// Its own `period`.
    pub period: Option<&'a Str>,
    /// Its own `calendar`.
    pub calendar: Option<&'a Str>,
    /// How messages name its alerting table (`[slo.alerting]`).
    pub table: &'a str,
}

/// The SLO's alert policy over its tier's over `[defaults.alerting]`; windows must fit in its
/// `period` (a tier sets no windows).
pub(crate) fn alerting(
    ctx: &mut Ctx<'_>,
    raw: Own<'_>,
    defaults: &Defaults,
    tier: Option<&Layer>,
    period: Option<Duration>,
    calendar: Option<burnwatch_engine::Calendar>,
) -> Option<Alerting> {
    let name = if raw.period.is_some() {
        "this SLO's period"
    } else {
        "the [defaults] period"
    };
    let fits = match calendar {
        Some(c) => Some(calendar::window_period(c)),
        None => period.map(|length| Period { length, name }),
    };
    let own = alerting::layer(ctx, raw.alerting, raw.table, fits);
    let defaults = defaults.alerting.as_ref();
    let period_text = raw.calendar.or(raw.period);
    if let (Some(own), Some(defaults), Some(period), Some(period_text)) =
        (&own, defaults, fits.map(|f| f.length), period_text)
        && own.windows.is_none()
        && let Some(inherited) = &defaults.windows
        && !window::check_inherited(ctx, inherited, period, period_text)
    {
        return None;
    }
    let below = match tier {
        Some(tier) => alerting::over(tier, defaults?),
        None => defaults?.clone(),
    };
    Some(alerting::resolve(&below, &own?))
}

/// `service` or `name` of the `table` (`[[slo]]`): required, usable in ids, URLs and label
/// values.
pub(crate) fn name(
    ctx: &mut Ctx<'_>,
    text: Option<&Str>,
    slo_span: &Range<usize>,
    key: &str,
    example: &str,
    table: &str,
) -> Option<String> {
    let Some(text) = text else {
        ctx.missing(
            slo_span,
            key,
            format!("{table} needs `{key}`, e.g. {key} = \"{example}\""),
        );
        return None;
    };
    let value = ctx.expand(text)?;
    if is_slo_name(&value) {
        return Some(value);
    }
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!("{key} {value:?} is not valid: use {SLO_NAME_RULE}, e.g. \"{example}\""),
    );
    None
}

/// The objective of the `table` (`[[slo]]`) as a ratio and as the percentage written.
pub(crate) fn objective(
    ctx: &mut Ctx<'_>,
    objective: Option<&Spanned<f64>>,
    slo_span: &Range<usize>,
    table: &str,
) -> Option<Objective> {
    let Some(objective) = objective else {
        ctx.missing(
            slo_span,
            "objective",
            format!(
                "{table} needs `objective`, a percentage, e.g. objective = 99.9{}",
                if table == "[[slo]]" {
                    ", or a `tier` that sets one, e.g. tier = \"critical\""
                } else {
                    ""
                }
            ),
        );
        return None;
    };
    let percent = *objective.get_ref();
    if percent.is_finite() && percent > 0.0 && percent < 100.0 {
        return Some(Objective::from_percent(percent));
    }
    let written = ctx.source(&objective.span());
    ctx.error(
        ErrorKind::InvalidValue,
        &objective.span(),
        format!("objective {written} must be between 0 and 100 (exclusive), e.g. 99.9"),
    );
    None
}

/// A label name users may set or group by.
fn label_name_problem(name: &str) -> Option<String> {
    if !is_label_name(name) {
        return Some(format!(
            "`{name}` is not a label name: use [a-zA-Z_][a-zA-Z0-9_]*"
        ));
    }
    reserved_prefix(name).map(|prefix| {
        format!("label name `{name}` is reserved: names starting with `{prefix}` are set by burnwatch or Prometheus")
    })
}

/// User `labels`: label names users may set, values not empty.
pub(crate) fn labels(
    ctx: &mut Ctx<'_>,
    labels: Option<&StrMap>,
) -> Option<BTreeMap<String, String>> {
    let Some(labels) = labels else {
        return Some(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in labels.get_ref() {
        if let Some(problem) = label_name_problem(name.get_ref()) {
            ok = false;
            ctx.error(ErrorKind::InvalidValue, &name.span(), problem);
        }
        match ctx.expand(value) {
            Some(v) if v.is_empty() => {
                ok = false;
                ctx.error(
                    ErrorKind::InvalidValue,
                    &value.span(),
                    format!("label `{}` is empty: Prometheus treats an empty label as absent; remove it or give a value", name.get_ref()),
                );
            }
            Some(v) => {
                out.insert(name.get_ref().clone(), v);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn group_by(
    ctx: &mut Ctx<'_>,
    group_by: Option<&Spanned<Vec<Str>>>,
    labels: Option<&StrMap>,
) -> Option<Vec<String>> {
    let Some(group_by) = group_by else {
        return Some(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for text in group_by.get_ref() {
        let Some(name) = ctx.expand(text) else {
            ok = false;
            continue;
        };
        let problem = if let Some(problem) = label_name_problem(&name) {
            Some(problem)
        } else if out.contains(&name) {
            Some(format!("`{name}` is listed twice in group_by"))
        } else if labels.is_some_and(|l| l.get_ref().keys().any(|k| k.get_ref() == &name)) {
            Some(format!(
                "`{name}` is both in group_by and in labels: the exported series would have it twice"
            ))
        } else {
            None
        };
        match problem {
            Some(problem) => {
                ok = false;
                ctx.error(ErrorKind::InvalidValue, &text.span(), problem);
            }
            None => out.push(name),
        }
    }
    ok.then_some(out)
}

/// The backend this SLO queries: its own, the default one, or the only one.
fn backend(
    ctx: &mut Ctx<'_>,
    own: Option<&Str>,
    slo_span: &Range<usize>,
    defaults: &Defaults,
    backends: &[&str],
) -> Option<String> {
    if let Some(text) = own {
        return defaults::backend_reference(ctx, text, backends, "[[slo]]");
    }
    match (&defaults.backend, backends) {
        (Some(Some(name)), _) => Some(name.get_ref().clone()),
        (None, _) => None, // an invalid default, reported already
        (Some(None), [only]) => Some(only.to_string()),
        // No backend at all is reported once for the whole file.
        (Some(None), []) => None,
        (Some(None), several) => {
            ctx.error(
                ErrorKind::Missing,
                slo_span,
                format!(
                    "[[slo]] names no backend and [defaults] sets none, but there are {} backends ({}): \
                     add backend = \"{}\" here or in [defaults]",
                    several.len(),
                    several.join(", "),
                    several[0]
                ),
            );
            None
        }
    }
}
