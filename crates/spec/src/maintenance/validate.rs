//! Validation of `[[maintenance]]`: each definition on its own, then against the SLOs (every
//! id pattern must name one) and against each other (overlapping windows over the same SLO
//! must agree on `exclude` and `silence`).

use std::collections::BTreeMap;
use std::ops::Range;

use burnwatch_engine::Millis;
use chrono::{DateTime, Utc};
use toml::Spanned;

use super::schedule::{self, Schedule, rfc3339};
use super::{Maintenance, When};
use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::location::Location;
use crate::model::Slo;
use crate::raw::{RawMaintenance, Str};
use crate::suggest::closest;

/// How far recurring definitions are compared with each other: one year from the later of
/// their first occurrences (a fixed anchor, not the wall clock, so a file that validates
/// today validates tomorrow).
const COMPARED: Millis = 365 * 86_400_000;

/// A validated definition with where it was written.
struct Placed {
    definition: Maintenance,
    name: Range<usize>,
    at: Location,
}

/// Validates every definition; the valid ones in file order. `complete` says whether `slos`
/// holds every SLO of the file (else patterns are not checked against them).
pub(crate) fn maintenance(
    ctx: &mut Ctx<'_>,
    raws: &[Spanned<RawMaintenance>],
    slos: &[Slo],
    complete: bool,
) -> Vec<Maintenance> {
    let mut placed: Vec<Placed> = Vec::new();
    let mut names: BTreeMap<String, Location> = BTreeMap::new();
    for raw in raws {
        let Some((definition, name)) = one(ctx, raw, slos, complete) else {
            continue;
        };
        let at = ctx.at(&name);
        if let Some(first) = names.get(&definition.name) {
            ctx.error(
                ErrorKind::Duplicate,
                &name,
                format!(
                    "maintenance name `{}` is already used by the [[maintenance]] at {first}; \
                     names must be unique: rename one of them",
                    definition.name
                ),
            );
            continue;
        }
        names.insert(definition.name.clone(), at.clone());
        placed.push(Placed {
            definition,
            name,
            at,
        });
    }
    contradictions(ctx, &placed, slos);
    placed.into_iter().map(|p| p.definition).collect()
}

/// One definition; `None` after reporting its problems.
fn one(
    ctx: &mut Ctx<'_>,
    raw: &Spanned<RawMaintenance>,
    slos: &[Slo],
    complete: bool,
) -> Option<(Maintenance, Range<usize>)> {
    let span = raw.span();
    let raw = raw.get_ref();
    let name = ctx.section_name(
        raw.name.as_ref(),
        &span,
        "[[maintenance]]",
        "weekly-db-patching",
    );
    let patterns = raw
        .slos
        .as_ref()
        .map(|list| patterns(ctx, list, slos, complete));
    let labels = raw
        .labels
        .as_ref()
        .map(|l| crate::scope::labels(ctx, l, "[[maintenance]]"));
    if raw.slos.is_none() && raw.labels.is_none() {
        ctx.missing(
            &span,
            "slos",
            "[[maintenance]] needs `slos` (SLO ids, `*` and `?` as wildcards) and/or `labels` \
             (SLO labels to match), e.g. slos = [\"checkout-*\"]; to cover every SLO write \
             slos = [\"*\"]"
                .into(),
        );
    }
    let when = when(ctx, raw, &span);
    let reason = match &raw.reason {
        Some(text) => ctx.expand(text),
        None => Some(String::new()),
    };
    let exclude = raw.exclude.as_ref().is_none_or(|b| *b.get_ref());
    let silence = raw.silence.as_ref().is_none_or(|b| *b.get_ref());
    if !exclude && !silence {
        let at = raw.exclude.as_ref().map_or(span.clone(), Spanned::span);
        ctx.error(
            ErrorKind::InvalidValue,
            &ctx.key_span(&at, "exclude"),
            "this [[maintenance]] neither excludes nor silences, so it does nothing: set \
             exclude = true (its events count toward no budget) and/or silence = true (its \
             alerts notify nobody), or remove it",
        );
        return None;
    }
    let patterns = patterns.unwrap_or(Some(Vec::new()))?;
    let labels = labels.unwrap_or(Some(BTreeMap::new()))?;
    let (name, name_span) = name?;
    let definition = Maintenance {
        name,
        slos: patterns,
        labels,
        when: when?,
        reason: reason?,
        exclude,
        silence,
    };
    if complete
        && (raw.slos.is_some() || raw.labels.is_some())
        && !slos.iter().any(|s| covers(&definition, s))
    {
        // Each pattern names an SLO (checked above), so the labels leave none of them.
        let at = raw.labels.as_ref().map_or(span.clone(), Spanned::span);
        ctx.error(
            ErrorKind::InvalidValue,
            &at,
            format!(
                "maintenance `{}` covers no SLO: no SLO{} has these labels; check the label \
                 values against the [[slo]] `labels`",
                definition.name,
                if definition.slos.is_empty() {
                    ""
                } else {
                    " matching `slos`"
                }
            ),
        );
        return None;
    }
    Some((definition, name_span))
}

/// Whether `definition` covers `slo`.
pub(crate) fn covers(definition: &Maintenance, slo: &Slo) -> bool {
    definition.covers(
        &slo.id,
        slo.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )
}

fn patterns(
    ctx: &mut Ctx<'_>,
    list: &Spanned<Vec<Str>>,
    slos: &[Slo],
    complete: bool,
) -> Option<Vec<String>> {
    if list.get_ref().is_empty() {
        ctx.error(
            ErrorKind::InvalidValue,
            &list.span(),
            "`slos` of [[maintenance]] is empty: list SLO ids, e.g. slos = [\"checkout-*\"], or \
             leave `slos` out and match `labels`",
        );
        return None;
    }
    crate::scope::patterns(ctx, list, slos, complete, |pattern, hint, ids| {
        let what = if crate::glob::is_pattern(pattern) {
            "matches no SLO id"
        } else {
            "is not an SLO id"
        };
        format!(
            "\"{pattern}\" in `slos` {what}{hint}; SLO ids are `service-name`: {}",
            listed(ids)
        )
    })
}

/// Up to ten ids, then how many more.
fn listed(ids: &[&str]) -> String {
    if ids.is_empty() {
        return "no SLO is defined".to_string();
    }
    let mut text = ids.iter().take(10).copied().collect::<Vec<_>>().join(", ");
    if ids.len() > 10 {
        text.push_str(&format!(" and {} more", ids.len() - 10));
    }
    text
}

/// `start`/`end`, or `schedule` with `duration`, `timezone` and maybe `start`.
fn when(ctx: &mut Ctx<'_>, raw: &RawMaintenance, span: &Range<usize>) -> Option<When> {
    let Some(rule) = &raw.schedule else {
        return once(ctx, raw, span);
    };
    let mut ok = true;
    if let Some(end) = &raw.end {
        ok = false;
        ctx.error(
            ErrorKind::Conflict,
            &ctx.key_span(&end.span(), "end"),
            "`end` does not go with `schedule`: each occurrence lasts `duration`; to stop the \
             schedule, end the rule with UNTIL, e.g. \"...;UNTIL=20261231T000000Z\"",
        );
    }
    let timezone = match &raw.timezone {
        Some(text) => timezone(ctx, text),
        None => Some(chrono_tz::UTC),
    };
    let duration = match &raw.duration {
        Some(text) => match ctx.duration(text, "duration")? {
            d if d.is_zero() => {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &text.span(),
                    "`duration` is zero: each occurrence needs a length, e.g. duration = \"2h\"",
                );
                None
            }
            d => Some(d),
        },
        None => {
            ctx.missing(
                span,
                "duration",
                "[[maintenance]] with `schedule` needs `duration`, how long each occurrence \
                 lasts, e.g. duration = \"2h\""
                    .into(),
            );
            None
        }
    };
    let timezone = timezone?;
    let start = match &raw.start {
        Some(text) => Some(
            instant(ctx, text, "start")?
                .with_timezone(&timezone)
                .naive_local(),
        ),
        None => Some(schedule::default_start()),
    };
    let rule_text = ctx.expand(rule)?;
    let (Some(duration), Some(start), true) = (duration, start, ok) else {
        return None;
    };
    match Schedule::new(&rule_text, timezone, start, duration) {
        Ok(schedule) if schedule.first().is_none() => {
            ctx.error(
                ErrorKind::InvalidValue,
                &rule.span(),
                format!(
                    "`schedule` \"{rule_text}\" never occurs (from {start} {timezone} on): check \
                     BYMONTHDAY against BYMONTH, UNTIL and COUNT"
                ),
            );
            None
        }
        Ok(schedule) => Some(When::Recurring(Box::new(schedule))),
        Err(why) => {
            ctx.error(ErrorKind::InvalidValue, &rule.span(), why);
            None
        }
    }
}

fn once(ctx: &mut Ctx<'_>, raw: &RawMaintenance, span: &Range<usize>) -> Option<When> {
    for (key, value) in [("duration", &raw.duration), ("timezone", &raw.timezone)] {
        if let Some(value) = value {
            ctx.error(
                ErrorKind::Conflict,
                &ctx.key_span(&value.span(), key),
                format!(
                    "`{key}` only goes with `schedule`: a one-off window is `start` and `end` \
                     (RFC 3339 times with their offset); add a `schedule` or remove `{key}`"
                ),
            );
        }
    }
    let mut bound = |key: &str| match raw_of(raw, key) {
        Some(text) => instant(ctx, text, key),
        None => {
            ctx.missing(
                span,
                key,
                format!(
                    "[[maintenance]] needs `start` and `end` (RFC 3339, e.g. {key} = \
                     \"2026-03-01T02:00:00Z\") or a recurring `schedule` with `duration`"
                ),
            );
            None
        }
    };
    let start = bound("start");
    let end = bound("end");
    let (start, end) = (start?, end?);
    if raw.duration.is_some() || raw.timezone.is_some() {
        return None;
    }
    let (start, end) = (start.timestamp_millis(), end.timestamp_millis());
    if end <= start {
        let text = raw.end.as_ref().expect("end was read");
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            format!(
                "`end` {} is not after `start` {}: a window needs end later than start (swapped?)",
                rfc3339(end),
                rfc3339(start)
            ),
        );
        return None;
    }
    Some(When::Once { start, end })
}

fn raw_of<'r>(raw: &'r RawMaintenance, key: &str) -> Option<&'r Str> {
    match key {
        "start" => raw.start.as_ref(),
        _ => raw.end.as_ref(),
    }
}

fn instant(ctx: &mut Ctx<'_>, text: &Str, key: &str) -> Option<DateTime<Utc>> {
    let value = ctx.expand(text)?;
    match DateTime::parse_from_rfc3339(&value) {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(e) => {
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!(
                    "`{key}` \"{value}\" is not an RFC 3339 time ({e}): write the date, time and \
                     offset, e.g. {key} = \"2026-03-01T02:00:00Z\" or \"2026-03-01T03:00:00+01:00\""
                ),
            );
            None
        }
    }
}

pub(crate) fn timezone(ctx: &mut Ctx<'_>, text: &Str) -> Option<chrono_tz::Tz> {
    let value = ctx.expand(text)?;
    if let Ok(tz) = value.parse::<chrono_tz::Tz>() {
        return Some(tz);
    }
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    let hint = closest(&value, &names)
        .map(|n| format!(" (did you mean \"{n}\"?)"))
        .unwrap_or_default();
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!(
            "`timezone` \"{value}\" is not an IANA time zone{hint}: write a zone name such as \
             \"Europe/Berlin\", \"America/New_York\" or \"UTC\""
        ),
    );
    None
}

/// Overlapping definitions over a common SLO that disagree on `exclude` or `silence`.
fn contradictions(ctx: &mut Ctx<'_>, placed: &[Placed], slos: &[Slo]) {
    for (j, b) in placed.iter().enumerate() {
        for a in &placed[..j] {
            let (da, db) = (&a.definition, &b.definition);
            if (da.exclude, da.silence) == (db.exclude, db.silence) {
                continue;
            }
            let Some(slo) = slos.iter().find(|s| covers(da, s) && covers(db, s)) else {
                continue;
            };
            let Some(at) = first_overlap(da, db) else {
                continue;
            };
            ctx.error(
                ErrorKind::Conflict,
                &b.name,
                format!(
                    "maintenance `{}` overlaps `{}` (at {}) on SLO `{}` from {} but disagrees \
                     with it: {} against {}; overlapping windows must agree: give both the same \
                     `exclude` and `silence`, move one in time, or narrow `slos`/`labels`",
                    db.name,
                    da.name,
                    a.at,
                    slo.id,
                    rfc3339(at),
                    effect(db),
                    effect(da),
                ),
            );
        }
    }
}

fn effect(d: &Maintenance) -> String {
    format!("exclude = {}, silence = {}", d.exclude, d.silence)
}

/// The first moment two definitions' windows overlap: exactly for one-off windows, over a
/// year from the later first occurrence for two schedules.
fn first_overlap(a: &Maintenance, b: &Maintenance) -> Option<Millis> {
    let (from, to) = match (&a.when, &b.when) {
        (When::Once { start, end }, _) | (_, When::Once { start, end }) => (*start, *end),
        (When::Recurring(x), When::Recurring(y)) => {
            let from = x.first()?.max(y.first()?);
            (from, from + COMPARED)
        }
    };
    let (wa, wb) = (a.windows(from, to), b.windows(from, to));
    let (mut i, mut j) = (0, 0);
    while i < wa.len() && j < wb.len() {
        let ((sa, ea), (sb, eb)) = (wa[i], wb[j]);
        let (start, end) = (sa.max(sb).max(from), ea.min(eb).min(to));
        if start < end {
            return Some(start);
        }
        if ea <= eb {
            i += 1;
        } else {
            j += 1;
        }
    }
    None
}
