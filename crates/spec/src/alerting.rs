//! `[defaults.alerting]` and `[slo.alerting]`: each table checked on its own as a [`Layer`], then
//! an SLO's policy resolved key by key: the SLO's key over the defaults' over
//! [`Alerting::standard`]. Windows are replaced as a whole; annotations merge per key.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::{Alerting, AlertingExtras};
use crate::names::is_label_name;
use crate::raw::{RawAlerting, Str, StrMap};
use crate::window::{Period, Window};

/// One alerting table, checked; `None` in a field means the key was not given.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layer {
    pub name: Option<String>,
    pub hold_for: Option<Duration>,
    pub keep_firing_for: Option<Duration>,
    pub min_events: Option<f64>,
    pub page: Option<bool>,
    pub ticket: Option<bool>,
    pub no_data: Option<bool>,
    pub no_data_for: Option<Duration>,
    /// As a ratio of the budget.
    pub budget_exhausted: Option<f64>,
    pub annotations: BTreeMap<String, String>,
    pub extras: AlertingExtras,
    pub windows: Option<Vec<Window>>,
}

/// Checks one alerting table (absent: an empty layer); `None` after reporting its problems.
/// `table` names it in messages (`[defaults.alerting]`); windows are checked against `period`.
pub(crate) fn layer(
    ctx: &mut Ctx<'_>,
    raw: Option<&Spanned<RawAlerting>>,
    table: &str,
    period: Option<Period<'_>>,
) -> Option<Layer> {
    let Some(raw) = raw.map(Spanned::get_ref) else {
        return Some(Layer::default());
    };
    let mut ok = true;
    let name = given(&mut ok, raw.name.as_ref().map(|t| alert_name(ctx, t)));
    let hold_for = given(
        &mut ok,
        raw.hold_for.as_ref().map(|t| ctx.duration(t, "for")),
    );
    let keep_firing_for = given(
        &mut ok,
        raw.keep_firing_for
            .as_ref()
            .map(|t| ctx.duration(t, "keep_firing_for")),
    );
    let min_events = given(&mut ok, raw.min_events.as_ref().map(|n| min_events(ctx, n)));
    let no_data_for = given(
        &mut ok,
        raw.no_data_for.as_ref().map(|t| no_data_for(ctx, t)),
    );
    let budget_exhausted = given(
        &mut ok,
        raw.budget_exhausted
            .as_ref()
            .map(|n| budget_exhausted(ctx, n)),
    );
    let annotations = given(
        &mut ok,
        Some(annotations(ctx, raw.annotations.as_ref(), table)),
    );
    let extras = given(&mut ok, Some(extras(ctx, raw, table)));
    let windows_table = format!("[[{}.windows]]", table.trim_matches(['[', ']']));
    let windows = given(
        &mut ok,
        raw.windows
            .as_ref()
            .map(|w| crate::window::windows(ctx, w, &windows_table, period)),
    );
    if let (Some(no_data), Some(no_data_for)) = (&raw.no_data, &raw.no_data_for)
        && !no_data.get_ref()
    {
        ok = false;
        ctx.error(
            ErrorKind::Conflict,
            &no_data_for.span(),
            format!(
                "`no_data_for` in {table} has no effect with no_data = false: remove one of them"
            ),
        );
    }
    ok.then(|| Layer {
        name,
        hold_for,
        keep_firing_for,
        min_events,
        page: raw.page.as_ref().map(|b| *b.get_ref()),
        ticket: raw.ticket.as_ref().map(|b| *b.get_ref()),
        no_data: raw.no_data.as_ref().map(|b| *b.get_ref()),
        no_data_for,
        budget_exhausted,
        annotations: annotations.unwrap_or_default(),
        extras: extras.unwrap_or_default(),
        windows,
    })
}

/// A checked optional key: `Some(None)` (given but invalid) clears `ok`.
fn given<T>(ok: &mut bool, value: Option<Option<T>>) -> Option<T> {
    match value {
        None => None,
        Some(None) => {
            *ok = false;
            None
        }
        Some(checked) => checked,
    }
}

/// `upper`'s keys over `lower`'s, key by key: `windows` as a whole, annotations and labels
/// merged per key, `upper`'s winning. Stacks `[slo.alerting]` over a tier's over the defaults'.
pub(crate) fn over(upper: &Layer, lower: &Layer) -> Layer {
    let merge = |pick: fn(&Layer) -> &BTreeMap<String, String>| {
        let mut merged = pick(lower).clone();
        merged.extend(pick(upper).clone());
        merged
    };
    Layer {
        name: upper.name.clone().or_else(|| lower.name.clone()),
        hold_for: upper.hold_for.or(lower.hold_for),
        keep_firing_for: upper.keep_firing_for.or(lower.keep_firing_for),
        min_events: upper.min_events.or(lower.min_events),
        page: upper.page.or(lower.page),
        ticket: upper.ticket.or(lower.ticket),
        no_data: upper.no_data.or(lower.no_data),
        no_data_for: upper.no_data_for.or(lower.no_data_for),
        budget_exhausted: upper.budget_exhausted.or(lower.budget_exhausted),
        annotations: merge(|l| &l.annotations),
        extras: AlertingExtras {
            labels: merge(|l| &l.extras.labels),
            page_labels: merge(|l| &l.extras.page_labels),
            ticket_labels: merge(|l| &l.extras.ticket_labels),
            page_annotations: merge(|l| &l.extras.page_annotations),
            ticket_annotations: merge(|l| &l.extras.ticket_annotations),
        },
        windows: upper.windows.clone().or_else(|| lower.windows.clone()),
    }
}

/// An SLO's policy: `own` ([slo.alerting]) over `defaults` ([defaults.alerting]) over the
/// standard policy, key by key; `windows` as a whole; annotations merged, the SLO's winning.
pub(crate) fn resolve(defaults: &Layer, own: &Layer) -> Alerting {
    let standard = Alerting::standard();
    let layer = over(own, defaults);
    let no_data = layer.no_data.unwrap_or(true);
    Alerting {
        name: layer.name.unwrap_or(standard.name),
        windows: layer
            .windows
            .map(|windows| windows.iter().map(|w| w.window).collect()),
        hold_for: layer.hold_for.unwrap_or(standard.hold_for),
        keep_firing_for: layer.keep_firing_for.unwrap_or(standard.keep_firing_for),
        min_events: layer.min_events.unwrap_or(standard.min_events),
        page: layer.page.unwrap_or(standard.page),
        ticket: layer.ticket.unwrap_or(standard.ticket),
        no_data_for: if no_data {
            layer.no_data_for.or(standard.no_data_for)
        } else {
            None
        },
        budget_exhausted: layer.budget_exhausted,
        annotations: layer.annotations,
        extras: layer.extras,
    }
}

/// The `alertname` label value: any text a person can read in a notification.
fn alert_name(ctx: &mut Ctx<'_>, text: &Str) -> Option<String> {
    let name = ctx.expand(text)?;
    let problem = if name.trim().is_empty() {
        "alert `name` is empty: it becomes the `alertname` label, e.g. name = \"SLOErrorBudgetBurn\""
    } else if name.chars().any(char::is_control) {
        "alert `name` contains a control character (a newline or tab): it becomes the `alertname` \
         label, e.g. name = \"SLOErrorBudgetBurn\""
    } else {
        return Some(name);
    };
    ctx.error(ErrorKind::InvalidValue, &text.span(), problem);
    None
}

fn min_events(ctx: &mut Ctx<'_>, n: &Spanned<f64>) -> Option<f64> {
    let value = *n.get_ref();
    if value.is_finite() && value >= 0.0 {
        return Some(value);
    }
    let written = ctx.source(&n.span());
    ctx.error(
        ErrorKind::InvalidValue,
        &n.span(),
        format!(
            "min_events {written} must be 0 or more: the events the long window must hold before \
             a burn alert may fire, e.g. min_events = 100"
        ),
    );
    None
}

fn no_data_for(ctx: &mut Ctx<'_>, text: &Str) -> Option<Duration> {
    let duration = ctx.duration(text, "no_data_for")?;
    if duration.is_zero() {
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            "no_data_for must be more than 0, e.g. \"15m\"; to turn no_data alerts off write \
             no_data = false",
        );
        return None;
    }
    Some(duration)
}

/// Percent of budget remaining, stored as a ratio.
fn budget_exhausted(ctx: &mut Ctx<'_>, n: &Spanned<f64>) -> Option<f64> {
    let percent = *n.get_ref();
    if percent.is_finite() && (0.0..100.0).contains(&percent) {
        // The decimal written, as a ratio: 10 gives 0.1, not 0.1 plus float noise.
        return Some(burnwatch_engine::Objective::from_percent(percent).ratio());
    }
    let written = ctx.source(&n.span());
    ctx.error(
        ErrorKind::InvalidValue,
        &n.span(),
        format!(
            "budget_exhausted {written} must be a percentage of error budget remaining, at least \
             0 and below 100: budget_exhausted = 0 fires when the budget is spent, 10 when 10% is left"
        ),
    );
    None
}

fn annotations(
    ctx: &mut Ctx<'_>,
    annotations: Option<&StrMap>,
    table: &str,
) -> Option<BTreeMap<String, String>> {
    let Some(annotations) = annotations else {
        return Some(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in annotations.get_ref() {
        if !is_label_name(name.get_ref()) {
            ok = false;
            ctx.error(
                ErrorKind::InvalidValue,
                &name.span(),
                format!(
                    "`{}` in the annotations of {table} is not an annotation name: use \
                     [a-zA-Z_][a-zA-Z0-9_]*, e.g. runbook, dashboard, summary",
                    name.get_ref()
                ),
            );
        }
        match ctx.expand(value) {
            Some(v) if v.trim().is_empty() => {
                ok = false;
                ctx.error(
                    ErrorKind::InvalidValue,
                    &value.span(),
                    format!(
                        "annotation `{}` in {table} is empty: give a value or remove it",
                        name.get_ref()
                    ),
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

/// The labels that burnwatch sets on every alert itself: a configured label of the same name
/// would be overwritten, so it is refused.
const RESERVED_LABELS: [&str; 5] = [
    "alertname",
    "sloth_id",
    "sloth_service",
    "sloth_slo",
    "sloth_severity",
];

/// `labels`, `page_labels`, `ticket_labels`, `page_annotations`, `ticket_annotations`.
fn extras(ctx: &mut Ctx<'_>, raw: &RawAlerting, table: &str) -> Option<AlertingExtras> {
    let mut ok = true;
    let mut labels = |ctx: &mut Ctx<'_>, map: Option<&StrMap>, key: &str| {
        let checked = alert_labels(ctx, map, table, key);
        ok &= checked.is_some();
        checked.unwrap_or_default()
    };
    let extras = AlertingExtras {
        labels: labels(ctx, raw.labels.as_ref(), "labels"),
        page_labels: labels(ctx, raw.page_labels.as_ref(), "page_labels"),
        ticket_labels: labels(ctx, raw.ticket_labels.as_ref(), "ticket_labels"),
        page_annotations: Default::default(),
        ticket_annotations: Default::default(),
    };
    let page = annotations(ctx, raw.page_annotations.as_ref(), table);
    let ticket = annotations(ctx, raw.ticket_annotations.as_ref(), table);
    match (ok, page, ticket) {
        (true, Some(page_annotations), Some(ticket_annotations)) => Some(AlertingExtras {
            page_annotations,
            ticket_annotations,
            ..extras
        }),
        _ => None,
    }
}

/// A table of alert labels: Prometheus label names, none of those burnwatch sets itself.
fn alert_labels(
    ctx: &mut Ctx<'_>,
    map: Option<&StrMap>,
    table: &str,
    key: &str,
) -> Option<BTreeMap<String, String>> {
    let Some(map) = map else {
        return Some(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in map.get_ref() {
        let label = name.get_ref();
        if !is_label_name(label) {
            ok = false;
            ctx.error(
                ErrorKind::InvalidValue,
                &name.span(),
                format!(
                    "`{label}` in `{key}` of {table} is not a label name: use \
                     [a-zA-Z_][a-zA-Z0-9_]*, e.g. team, severity"
                ),
            );
        } else if RESERVED_LABELS.contains(&label.as_str()) {
            ok = false;
            ctx.error(
                ErrorKind::InvalidValue,
                &name.span(),
                format!(
                    "`{label}` in `{key}` of {table} is set by burnwatch on every alert: remove \
                     it (`name` sets `alertname`)"
                ),
            );
        }
        match ctx.expand(value) {
            Some(v) => {
                out.insert(label.clone(), v);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}
