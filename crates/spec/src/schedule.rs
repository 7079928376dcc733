//! `[[slo.objective_schedule]]`: progressive objectives, each in force from its `from` until the
//! next one's, checked in file order.

use chrono::{DateTime, NaiveDate, Utc};
use toml::Spanned;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::ObjectiveStep;
use crate::raw::{RawObjectiveStep, Str};

/// The steps in file order, `from` strictly increasing; `None` after reporting.
pub(crate) fn schedule(
    ctx: &mut Ctx<'_>,
    raw: Option<&Spanned<Vec<Spanned<RawObjectiveStep>>>>,
) -> Option<Vec<ObjectiveStep>> {
    let Some(raw) = raw else {
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    let mut ok = true;
    // The previous valid `from`, as written, to name it in messages.
    let mut previous: Option<(i64, String)> = None;
    for entry in raw.get_ref() {
        let span = entry.span();
        let table = "[[slo.objective_schedule]]";
        let objective =
            crate::slo::objective(ctx, entry.get_ref().objective.as_ref(), &span, table);
        let from = match &entry.get_ref().from {
            None => {
                ctx.missing(
                    &span,
                    "from",
                    format!("{table} needs `from`, a date, e.g. from = \"2027-01-01\""),
                );
                None
            }
            Some(text) => instant(ctx, text),
        };
        if let (Some(at), Some((before, written)), Some(text)) =
            (from, &previous, &entry.get_ref().from)
            && at <= *before
        {
            let now = ctx.source(&text.span()).to_string();
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!(
                    "objective_schedule entries must be in increasing `from` order: {now} is \
                     not after the previous entry's {written}; order them by date, each date once"
                ),
            );
            ok = false;
        }
        if let (Some(at), Some(text)) = (from, &entry.get_ref().from) {
            previous = Some((at, ctx.source(&text.span()).to_string()));
        }
        match (from, objective) {
            (Some(from), Some(objective)) => out.push(ObjectiveStep { from, objective }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// `"2027-01-01"` (midnight UTC) or an RFC 3339 date-time, as Unix milliseconds.
fn instant(ctx: &mut Ctx<'_>, text: &Str) -> Option<i64> {
    let value = ctx.expand(text)?;
    if let Ok(date) = NaiveDate::parse_from_str(&value, "%Y-%m-%d") {
        return date
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
    }
    match DateTime::parse_from_rfc3339(&value) {
        Ok(at) => Some(at.with_timezone(&Utc).timestamp_millis()),
        Err(_) => {
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!(
                    "`from` \"{value}\" is neither a date nor an RFC 3339 time: write \
                     from = \"2027-01-01\" (midnight UTC) or \"2027-01-01T09:00:00+01:00\""
                ),
            );
            None
        }
    }
}
