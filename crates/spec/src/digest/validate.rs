//! Validation of `[[digest]]`: name, kind, schedule and zone, scope, and receivers that exist
//! and are of a type a digest can be sent to.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use super::{Digest, DigestKind, RECEIVER_TYPES};
use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::location::Location;
use crate::maintenance::Schedule;
use crate::maintenance::schedule::default_start;
use crate::model::Slo;
use crate::raw::{RawDigest, Str};
use crate::receiver::raw::RawReceiver;
use crate::suggest::closest;

/// Validates every definition; the valid ones in file order. `complete` says whether `slos`
/// holds every SLO of the file (else `slos` patterns are not checked against them).
pub(crate) fn digests(
    ctx: &mut Ctx<'_>,
    raws: &[Spanned<RawDigest>],
    slos: &[Slo],
    complete: bool,
    receivers: &[(Spanned<String>, Spanned<RawReceiver>)],
) -> Vec<Digest> {
    let mut out = Vec::new();
    let mut names: BTreeMap<String, Location> = BTreeMap::new();
    for raw in raws {
        let Some((digest, name_span)) = one(ctx, raw, slos, complete, receivers) else {
            continue;
        };
        if let Some(first) = names.get(&digest.name) {
            ctx.error(
                ErrorKind::Duplicate,
                &name_span,
                format!(
                    "digest name `{}` is already used by the [[digest]] at {first}; names must \
                     be unique (they key the delivery journal): rename one of them",
                    digest.name
                ),
            );
            continue;
        }
        names.insert(digest.name.clone(), ctx.at(&name_span));
        out.push(digest);
    }
    out
}

fn one(
    ctx: &mut Ctx<'_>,
    raw: &Spanned<RawDigest>,
    slos: &[Slo],
    complete: bool,
    receivers: &[(Spanned<String>, Spanned<RawReceiver>)],
) -> Option<(Digest, std::ops::Range<usize>)> {
    let span = raw.span();
    let raw = raw.get_ref();
    let name = ctx.section_name(raw.name.as_ref(), &span, "[[digest]]", "weekly-review");
    let kind = match &raw.kind {
        Some(text) => ctx.choice(
            text,
            &[("weekly", DigestKind::Weekly), ("daily", DigestKind::Daily)],
            |value, hint| {
                format!(
                    "`kind` \"{value}\" of [[digest]] is not a digest kind{hint}: write \
                     kind = \"weekly\" (the SLO review) or kind = \"daily\" (wins)"
                )
            },
        ),
        None => {
            ctx.missing(
                &span,
                "kind",
                "[[digest]] needs `kind`: \"weekly\" (the SLO review) or \"daily\" (wins)".into(),
            );
            None
        }
    };
    let receivers = match &raw.receivers {
        Some(list) => receiver_names(ctx, list, receivers),
        None => {
            ctx.missing(
                &span,
                "receivers",
                "[[digest]] needs `receivers` (Slack, Teams or webhook receivers), e.g. \
                 receivers = [\"sre-updates\"]"
                    .into(),
            );
            None
        }
    };
    let timezone = match &raw.timezone {
        Some(text) => crate::maintenance::validate::timezone(ctx, text),
        None => Some(chrono_tz::UTC),
    };
    let schedule = match &raw.schedule {
        Some(rule) => schedule(ctx, rule, timezone),
        None => {
            ctx.missing(
                &span,
                "schedule",
                "[[digest]] needs `schedule`, an RFC 5545 RRULE of its send times, e.g. \
                 schedule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\""
                    .into(),
            );
            None
        }
    };
    let patterns = match &raw.slos {
        Some(list) => crate::scope::patterns(ctx, list, slos, complete, |pattern, hint, _| {
            format!(
                "\"{pattern}\" in `slos` of [[digest]] matches no SLO id{hint}; SLO ids are \
                 `service-name`, `*` and `?` are wildcards, e.g. slos = [\"checkout-*\"]"
            )
        }),
        None => Some(Vec::new()),
    };
    let labels = match &raw.labels {
        Some(l) => crate::scope::labels(ctx, l, "[[digest]]"),
        None => Some(BTreeMap::new()),
    };
    let (name, name_span) = name?;
    let digest = Digest {
        name,
        kind: kind?,
        receivers: receivers?,
        schedule: schedule?,
        slos: patterns?,
        labels: labels?,
    };
    if complete && !slos.iter().any(|s| covered(&digest, s)) {
        let at = raw.labels.as_ref().map_or(span.clone(), Spanned::span);
        ctx.error(
            ErrorKind::InvalidValue,
            &at,
            format!(
                "digest `{}` covers no SLO: no SLO matches its `slos` and `labels`; check the \
                 label values against the [[slo]] `labels`, or leave both out for every SLO",
                digest.name
            ),
        );
        return None;
    }
    Some((digest, name_span))
}

/// Whether `digest` covers `slo`.
fn covered(digest: &Digest, slo: &Slo) -> bool {
    digest.covers(
        &slo.id,
        slo.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )
}

fn schedule(ctx: &mut Ctx<'_>, rule: &Str, timezone: Option<chrono_tz::Tz>) -> Option<Schedule> {
    let text = ctx.expand(rule)?;
    let timezone = timezone?;
    match Schedule::new(&text, timezone, default_start(), Duration::ZERO) {
        Ok(schedule) if schedule.first().is_none() => {
            ctx.error(
                ErrorKind::InvalidValue,
                &rule.span(),
                format!(
                    "`schedule` \"{text}\" never occurs: check BYMONTHDAY against BYMONTH, \
                     UNTIL and COUNT"
                ),
            );
            None
        }
        Ok(schedule) => Some(schedule),
        Err(why) => {
            ctx.error(
                ErrorKind::InvalidValue,
                &rule.span(),
                format!("{why} (e.g. schedule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\")"),
            );
            None
        }
    }
}

/// Receiver names that exist and are of a type a digest can be sent to.
fn receiver_names(
    ctx: &mut Ctx<'_>,
    list: &Spanned<Vec<Str>>,
    receivers: &[(Spanned<String>, Spanned<RawReceiver>)],
) -> Option<Vec<String>> {
    let defined: Vec<&str> = receivers
        .iter()
        .map(|(n, _)| n.get_ref().as_str())
        .collect();
    let suitable = || {
        let names: Vec<&str> = receivers
            .iter()
            .filter(|(_, r)| {
                r.get_ref()
                    .kind
                    .as_ref()
                    .is_some_and(|k| RECEIVER_TYPES.contains(&k.get_ref().as_str()))
            })
            .map(|(n, _)| n.get_ref().as_str())
            .collect();
        if names.is_empty() {
            "no Slack, Teams or webhook receiver is defined: add one, e.g. [receivers.sre-updates] \
             with type = \"slack\" and url_file"
                .to_string()
        } else {
            format!("receivers a digest can use: {}", names.join(", "))
        }
    };
    if list.get_ref().is_empty() {
        ctx.error(
            ErrorKind::InvalidValue,
            &list.span(),
            format!(
                "`receivers` of [[digest]] is empty: name at least one; {}",
                suitable()
            ),
        );
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for text in list.get_ref() {
        let Some(name) = ctx.expand(text) else {
            ok = false;
            continue;
        };
        let Some((_, receiver)) = receivers.iter().find(|(n, _)| *n.get_ref() == name) else {
            ok = false;
            let hint = closest(&name, &defined)
                .map(|n| format!("did you mean \"{n}\"? "))
                .unwrap_or_default();
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!(
                    "[[digest]] sends to receiver {name:?}, which is not defined; {hint}{}",
                    suitable()
                ),
            );
            continue;
        };
        if let Some(kind) = &receiver.get_ref().kind
            && !RECEIVER_TYPES.contains(&kind.get_ref().as_str())
        {
            ok = false;
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!(
                    "receiver {name:?} is of type \"{}\", which cannot take a digest: digests go \
                     to \"slack\", \"teams\" or \"webhook\" receivers; {}",
                    kind.get_ref(),
                    suitable()
                ),
            );
            continue;
        }
        if out.contains(&name) {
            ok = false;
            ctx.error(
                ErrorKind::Duplicate,
                &text.span(),
                format!("receiver {name:?} is listed twice in this [[digest]]: remove one"),
            );
            continue;
        }
        out.push(name);
    }
    ok.then_some(out)
}
