//! Validation of `[[composite]]`: an SLO over other SLOs.
//!
//! A composite becomes an ordinary [`Slo`] with an [`Sli::Composite`], so `/metrics`, the API,
//! the gate, reloads and snapshots treat it as any SLO. Its own keys are checked as an
//! `[[slo]]`'s are; then its components are checked against every SLO and composite of the
//! file: each must exist (with a suggestion when it does not), name one instance of a grouped
//! SLO, keep the composite's windows over the same rolling period, and no composite may
//! contain itself, directly or through others.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use crate::context::Ctx;
use crate::defaults::{self, Defaults};
use crate::duration::format_prometheus;
use crate::error::ErrorKind;
use crate::location::Location;
use crate::model::{Component, Sli, Slo};
use crate::raw::{RawComponent, RawComposite, default_series_limit, default_weight};
use crate::slo::{self, Own};

/// A composite whose own keys are valid, with where each component is written.
struct Built {
    slo: Slo,
    /// The span of each component's `slo` value (or of its table when absent), in order.
    at: Vec<Range<usize>>,
}

/// Validates every `[[composite]]` against the SLOs already validated (`slos`, whose ids are in
/// `ids`) and appends them there. `complete`: every `[[slo]]` was valid, so a component id
/// that matches none is unknown (with a broken SLO it may be that one). Returns whether every
/// composite was valid.
pub(crate) fn composites(
    ctx: &mut Ctx<'_>,
    raws: &[Spanned<RawComposite>],
    defaults: &Defaults,
    backends: &[&str],
    slos: &mut Vec<Slo>,
    ids: &mut BTreeMap<String, Location>,
    complete: bool,
) -> bool {
    let mut built = Vec::new();
    let mut ok = true;
    for raw in raws {
        let Some(composite) = own_keys(ctx, raw, defaults, backends) else {
            ok = false;
            continue;
        };
        let here = ctx.at(&raw.span());
        if let Some(first) = ids.get(&composite.slo.id) {
            ctx.error(
                ErrorKind::Duplicate,
                &raw.span(),
                format!(
                    "id `{}` (service-name) of this [[composite]] is already used at {first}; \
                     SLO and composite ids share one namespace: change `name` or `service`",
                    composite.slo.id
                ),
            );
            ok = false;
            continue;
        }
        ids.insert(composite.slo.id.clone(), here);
        built.push(composite);
    }
    let known: BTreeMap<&str, &Slo> = slos
        .iter()
        .chain(built.iter().map(|b| &b.slo))
        .map(|s| (s.id.as_str(), s))
        .collect();
    let mut valid = Vec::new();
    for composite in &built {
        if references(ctx, composite, &known, complete && ok) {
            valid.push(composite);
        }
    }
    ok &= valid.len() == built.len();
    ok &= acyclic(ctx, &built);
    let valid: Vec<Slo> = valid
        .into_iter()
        .map(|b| with_parts(in_group_order(b.slo.clone(), &known), &known))
        .collect();
    slos.extend(valid);
    ok
}

/// `composite` with each component's labels in its SLO's `group_by` order, the order of the
/// instance's key on the board.
fn in_group_order(mut composite: Slo, known: &BTreeMap<&str, &Slo>) -> Slo {
    if let Sli::Composite { components, .. } = &mut composite.sli {
        for component in components {
            let Some(target) = known.get(component.slo.as_str()) else {
                continue;
            };
            let position = |name: &str| target.group_by.iter().position(|g| g == name);
            component.group.sort_by_key(|(name, _)| position(name));
        }
    }
    composite
}

/// The composite's own keys, as an `[[slo]]`'s; `None` after reporting its problems.
fn own_keys(
    ctx: &mut Ctx<'_>,
    raw: &Spanned<RawComposite>,
    defaults: &Defaults,
    backends: &[&str],
) -> Option<Built> {
    const TABLE: &str = "[[composite]]";
    let span = raw.span();
    let raw = raw.get_ref();
    let service = slo::name(
        ctx,
        raw.service.as_ref(),
        &span,
        "service",
        "checkout",
        TABLE,
    );
    let name = slo::name(ctx, raw.name.as_ref(), &span, "name", "journey", TABLE);
    let objective = slo::objective(ctx, raw.objective.as_ref(), &span, TABLE);
    let description = match &raw.description {
        None => Some(None),
        Some(text) => ctx.expand(text).map(Some),
    };
    let labels = slo::labels(ctx, raw.labels.as_ref());
    let period = period(ctx, raw, &span, defaults);
    let interval = defaults::interval_or(ctx, raw.interval.as_ref(), defaults);
    let own = Own {
        alerting: raw.alerting.as_ref(),
        period: raw.period.as_ref(),
        calendar: None,
        table: "[composite.alerting]",
    };
    let alerting = slo::alerting(ctx, own, defaults, None, period, None);
    let sliced = match &raw.budgeting {
        None => Some(false),
        Some(text) => ctx.choice(
            text,
            &[("occurrences", false), ("timeslices", true)],
            |value, hint| {
                format!(
                    "budgeting {value:?} is not a composite's budgeting method{hint}: use \
                     \"occurrences\" (the weighted burn of the components' events) or \
                     \"timeslices\" (a slice is bad when any component's slice is; the \
                     components budget by \"timeslices\" with one slice length)"
                )
            },
        ),
    };
    let (components, at) = components(ctx, raw, &span)?;
    let (service, name, objective) = (service?, name?, objective?);
    let sliced = sliced?;
    let slo = Slo {
        id: format!("{service}-{name}"),
        service,
        name,
        objective,
        objective_schedule: Vec::new(),
        description: description?,
        labels: labels?,
        group_by: Vec::new(),
        group_limit: 1,
        series_limit: default_series_limit(),
        // A composite reads no backend; the runner needs a name that resolves, so it gets the
        // file's first (validation already said so when there is none).
        backend: backends.first().map_or_else(String::new, |b| b.to_string()),
        period: period?,
        calendar: None,
        interval: interval?,
        sli: Sli::Composite {
            components,
            parts: Vec::new(),
        },
        // Set from the components once they are known (see `sliced`).
        slicing: sliced.then_some(burnwatch_engine::Slicing {
            length: Duration::ZERO,
            rule: burnwatch_engine::SliceRule::Verdict,
        }),
        alerting: alerting?,
        location: ctx.at(&span).to_string(),
    };
    Some(Built { slo, at })
}

/// A rolling period: the composite's own or the default one, never a calendar.
fn period(
    ctx: &mut Ctx<'_>,
    raw: &RawComposite,
    span: &Range<usize>,
    defaults: &Defaults,
) -> Option<Duration> {
    if let Some(text) = &raw.period {
        return defaults::period(ctx, text);
    }
    if let Some(Some(unit)) = defaults.calendar.unit {
        ctx.error(
            ErrorKind::InvalidValue,
            span,
            format!(
                "[defaults] sets calendar = \"{}\", but a [[composite]] combines its components' \
                 ratios over rolling windows: give the composite (and its components) a rolling \
                 period, e.g. period = \"30d\"",
                unit.as_str()
            ),
        );
        return None;
    }
    defaults.period
}

/// `components`: not empty, each with an id, a valid weight and labels, none twice.
fn components(
    ctx: &mut Ctx<'_>,
    raw: &RawComposite,
    span: &Range<usize>,
) -> Option<(Vec<Component>, Vec<Range<usize>>)> {
    let Some(list) = &raw.components else {
        ctx.missing(
            span,
            "components",
            "[[composite]] needs `components`, the SLO ids it combines, e.g. components = \
             [{ slo = \"checkout-cart\", weight = 2 }, { slo = \"checkout-pay\" }]"
                .into(),
        );
        return None;
    };
    if list.get_ref().is_empty() {
        ctx.error(
            ErrorKind::InvalidValue,
            &list.span(),
            "`components` is empty: list at least one SLO id, e.g. [{ slo = \"checkout-pay\" }]",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut at = Vec::new();
    let mut ok = true;
    for entry in list.get_ref() {
        match component(ctx, entry) {
            Some((component, span)) => {
                let same = |c: &Component| c.slo == component.slo && c.group == component.group;
                if out.iter().any(same) {
                    ok = false;
                    ctx.error(
                        ErrorKind::Duplicate,
                        &span,
                        format!(
                            "`{}` is listed twice in this composite's components: list it once \
                             and give it the summed weight",
                            component.display()
                        ),
                    );
                } else {
                    out.push(component);
                    at.push(span);
                }
            }
            None => ok = false,
        }
    }
    ok.then_some((out, at))
}

/// One component; its `group` is in label-name order until [`references`] orders it as the
/// SLO's `group_by`.
fn component(ctx: &mut Ctx<'_>, raw: &Spanned<RawComponent>) -> Option<(Component, Range<usize>)> {
    let span = raw.span();
    let raw = raw.get_ref();
    let weight = match &raw.weight {
        None => Some(default_weight()),
        Some(w) if w.get_ref().is_finite() && *w.get_ref() > 0.0 => Some(*w.get_ref()),
        Some(w) => {
            let written = ctx.source(&w.span());
            ctx.error(
                ErrorKind::InvalidValue,
                &w.span(),
                format!("weight {written} must be a number above 0, e.g. weight = 2"),
            );
            None
        }
    };
    let group = match &raw.labels {
        None => Some(Vec::new()),
        Some(labels) => {
            let mut group = Vec::new();
            for (name, value) in labels.get_ref() {
                group.push((name.get_ref().clone(), ctx.expand(value)?));
            }
            Some(group)
        }
    };
    let Some(id) = &raw.slo else {
        ctx.missing(
            &span,
            "slo",
            "a component needs `slo`, the id (service-name) of an [[slo]] or [[composite]], \
             e.g. { slo = \"checkout-pay\", weight = 2 }"
                .into(),
        );
        return None;
    };
    let slo = ctx.expand(id)?;
    Some((
        Component {
            slo,
            group: group?,
            weight: weight?,
        },
        id.span(),
    ))
}

/// Every component names a known SLO (an instance of a grouped one) that keeps this
/// composite's windows over the same rolling period. `check_unknown`: an id matching nothing
/// is an error (not when another SLO failed validation: it may be that one).
fn references(
    ctx: &mut Ctx<'_>,
    composite: &Built,
    known: &BTreeMap<&str, &Slo>,
    check_unknown: bool,
) -> bool {
    let Sli::Composite { components, .. } = &composite.slo.sli else {
        unreachable!("built as a composite")
    };
    let mut ok = true;
    // A time-slice composite's components share one slice length and one backend.
    let mut first: Option<&Slo> = None;
    for (component, span) in components.iter().zip(&composite.at) {
        let Some(target) = known.get(component.slo.as_str()) else {
            ok = false;
            if check_unknown {
                let ids: Vec<&str> = known.keys().copied().collect();
                let hint = crate::suggest::closest(&component.slo, &ids)
                    .map(|id| format!(" (did you mean `{id}`?)"))
                    .unwrap_or_default();
                ctx.error(
                    ErrorKind::InvalidValue,
                    span,
                    format!(
                        "component `{}` is not the id of any [[slo]] or [[composite]]{hint}; \
                         ids are service-name, e.g. \"checkout-pay\"",
                        component.slo
                    ),
                );
            }
            continue;
        };
        let problem = problem(&composite.slo, component, target).or_else(|| {
            composite.slo.slicing?;
            slice_problem(target, first.get_or_insert(target))
        });
        if let Some(problem) = problem {
            ok = false;
            ctx.error(ErrorKind::InvalidValue, span, problem);
        }
    }
    ok
}

/// What keeps `target` out of a time-slice composite whose first component is `first`.
fn slice_problem(target: &Slo, first: &Slo) -> Option<String> {
    let id = &target.id;
    if matches!(target.sli, Sli::Composite { .. }) {
        return Some(format!(
            "`{id}` is a composite; a time-slice composite reads its components' slices \
             itself, so its components are [[slo]]s: list `{id}`'s components here instead"
        ));
    }
    let Some(slicing) = target
        .slicing
        .filter(|s| s.rule != burnwatch_engine::SliceRule::Ratio)
    else {
        return Some(format!(
            "`{id}` does not budget by time slices; this composite has budgeting = \
             \"timeslices\" (a slice is bad when any component's slice is): give `{id}` \
             budgeting = \"timeslices\", or remove `budgeting` here to combine by occurrences"
        ));
    };
    let length = first.slicing.map_or(slicing.length, |s| s.length);
    if slicing.length != length {
        return Some(format!(
            "`{id}` has {}-slices and `{}` {}-slices; a time-slice composite judges the same \
             slices of every component: give them one `slice`",
            format_prometheus(slicing.length),
            first.id,
            format_prometheus(length)
        ));
    }
    (target.backend != first.backend).then(|| {
        format!(
            "`{id}` reads backend `{}` and `{}` backend `{}`; a time-slice composite reads its \
             components' slices through one backend: give them the same `backend`",
            target.backend, first.id, first.backend
        )
    })
}

/// A time-slice composite with its components' definitions, slice length and backend (once
/// [`references`] has checked they agree); any other composite unchanged.
fn with_parts(mut composite: Slo, known: &BTreeMap<&str, &Slo>) -> Slo {
    let Some(slicing) = &mut composite.slicing else {
        return composite;
    };
    let Sli::Composite { components, parts } = &mut composite.sli else {
        return composite;
    };
    *parts = components
        .iter()
        .filter_map(|c| known.get(c.slo.as_str()).map(|s| (*s).clone()))
        .collect();
    if let Some(first) = parts.first() {
        slicing.length = first.slicing.map_or(slicing.length, |s| s.length);
        composite.backend = first.backend.clone();
    }
    composite
}

/// What is wrong with combining `target` as `component` into `composite`, if anything.
fn problem(composite: &Slo, component: &Component, target: &Slo) -> Option<String> {
    let id = &target.id;
    let given: BTreeSet<&str> = component.group.iter().map(|(n, _)| n.as_str()).collect();
    let grouped: BTreeSet<&str> = target.group_by.iter().map(String::as_str).collect();
    if given != grouped {
        return Some(if grouped.is_empty() {
            format!("`{id}` is not grouped (it has no group_by): remove `labels` here")
        } else {
            let example: Vec<String> = target
                .group_by
                .iter()
                .map(|g| format!("{g} = \"...\""))
                .collect();
            format!(
                "`{id}` is grouped by {}: name one instance with a value for each, e.g. \
                 labels = {{ {} }} (one component per instance to combine several)",
                target.group_by.join(", "),
                example.join(", ")
            )
        });
    }
    if let Some(calendar) = target.calendar {
        return Some(format!(
            "`{id}` has a calendar period (calendar = \"{}\"); a composite combines ratios over \
             rolling windows: give `{id}` a rolling period, e.g. period = \"30d\"",
            calendar.unit.as_str()
        ));
    }
    if target.period != composite.period {
        return Some(format!(
            "`{id}` has a {} period and this composite a {} one; a composite's figures are its \
             components' over the same period: give both the same `period`",
            format_prometheus(target.period),
            format_prometheus(composite.period)
        ));
    }
    let kept = kept_windows(target);
    let lacking: Vec<String> = kept_windows(composite)
        .iter()
        .filter(|w| !kept.contains(w))
        .map(|w| format_prometheus(*w))
        .collect();
    (!lacking.is_empty()).then(|| {
        format!(
            "this composite keeps the {} window(s) its alerting reads, and `{id}` does not: give \
             `{id}` the same alerting windows, or remove them from this composite",
            lacking.join(", ")
        )
    })
}

/// The windows an SLO's instances report, the period included.
fn kept_windows(slo: &Slo) -> Vec<Duration> {
    let mut windows = crate::identity::windows(slo, &crate::identity::alert_policy(slo));
    windows.push(slo.period);
    windows
}

/// No composite contains itself, directly or through others; each cycle is reported once, at
/// the component of its first composite (in file order) that leads into it.
fn acyclic(ctx: &mut Ctx<'_>, built: &[Built]) -> bool {
    let edges: BTreeMap<&str, Vec<&str>> = built
        .iter()
        .map(|b| {
            let Sli::Composite { components, .. } = &b.slo.sli else {
                unreachable!("built as a composite")
            };
            let to = components.iter().map(|c| c.slo.as_str()).collect();
            (b.slo.id.as_str(), to)
        })
        .collect();
    let mut reported: BTreeSet<Vec<&str>> = BTreeSet::new();
    let mut ok = true;
    for b in built {
        let start = b.slo.id.as_str();
        for (i, first) in edges[start].iter().enumerate() {
            let Some(mut path) = path_back(&edges, first, start) else {
                continue;
            };
            ok = false;
            path.insert(0, start);
            let mut members = path.clone();
            members.sort_unstable();
            members.dedup();
            if !reported.insert(members) {
                continue;
            }
            let message = if path.len() == 2 {
                format!(
                    "composite `{start}` lists itself as a component: a composite cannot \
                     contain itself; remove this component"
                )
            } else {
                format!(
                    "composites form a cycle, {}: a composite cannot contain itself through \
                     other composites; remove one of these components",
                    path.join(" → ")
                )
            };
            ctx.error(ErrorKind::InvalidValue, &b.at[i], message);
        }
    }
    ok
}

/// A path of composite ids from `from` to `to` along `edges` (both ends included), if any.
fn path_back<'a>(
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
    from: &'a str,
    to: &'a str,
) -> Option<Vec<&'a str>> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Vec<&str>> = vec![vec![from]];
    while let Some(path) = stack.pop() {
        let last = *path.last().expect("never empty");
        if last == to {
            return Some(path);
        }
        if !seen.insert(last) {
            continue;
        }
        for next in edges.get(last).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push(next);
            stack.push(longer);
        }
    }
    None
}
