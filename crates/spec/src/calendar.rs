//! `calendar`, `timezone` and `week_start`: calendar-aligned periods, in `[defaults]` or one
//! `[[slo]]`, and how an SLO's own keys combine with the defaults.

use burnwatch_engine::{Calendar, CalendarUnit, Tz, Weekday};

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::raw::Str;

const UNITS: [(&str, CalendarUnit); 3] = [
    ("week", CalendarUnit::Week),
    ("month", CalendarUnit::Month),
    ("quarter", CalendarUnit::Quarter),
];

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

/// The calendar keys of one table, validated one by one. `None` in a field: given but invalid
/// (already reported); `Some(None)`: not given.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys {
    pub unit: Option<Option<CalendarUnit>>,
    pub timezone: Option<Option<Tz>>,
    pub week_start: Option<Option<Weekday>>,
}

impl Keys {
    /// No calendar keys at all.
    pub const NONE: Keys = Keys {
        unit: Some(None),
        timezone: Some(None),
        week_start: Some(None),
    };
}

/// The keys of one table (`place` names it: `[defaults]`, `this SLO`). `period` is the same
/// table's `period`: both is a conflict.
pub(crate) fn keys(
    ctx: &mut Ctx<'_>,
    calendar: Option<&Str>,
    timezone: Option<&Str>,
    week_start: Option<&Str>,
    period: Option<&Str>,
    place: &str,
) -> Keys {
    let unit = match calendar {
        None => Some(None),
        Some(text) => {
            if period.is_some() {
                let span = ctx.key_span(&text.span(), "calendar");
                ctx.error(
                    ErrorKind::Conflict,
                    &span,
                    format!(
                        "`period` and `calendar` are both set in {place}: a period is either \
                         rolling (`period = \"30d\"`) or calendar-aligned (`calendar = \"month\"`); \
                         remove one of them"
                    ),
                );
                None
            } else {
                ctx.choice(text, &UNITS, |value, hint| {
                    format!(
                        "calendar {value:?} is not a calendar period{hint}; use \"week\", \
                         \"month\" or \"quarter\""
                    )
                })
                .map(Some)
            }
        }
    };
    let timezone = match timezone {
        None => Some(None),
        Some(text) => zone(ctx, text).map(Some),
    };
    let week_start = match week_start {
        None => Some(None),
        Some(text) => ctx
            .choice(text, &WEEKDAYS, |value, hint| {
                format!(
                    "week_start {value:?} is not a day of the week{hint}; use \"monday\" .. \
                     \"sunday\""
                )
            })
            .map(Some),
    };
    Keys {
        unit,
        timezone,
        week_start,
    }
}

/// An IANA zone name, e.g. `Europe/Berlin`; a near miss is suggested.
fn zone(ctx: &mut Ctx<'_>, text: &Str) -> Option<Tz> {
    let value = ctx.expand(text)?;
    if let Ok(tz) = value.parse::<Tz>() {
        return Some(tz);
    }
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    let hint = crate::suggest::closest(&value, &names)
        .map(|name| format!("did you mean \"{name}\"? "))
        .unwrap_or_default();
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!(
            "timezone {value:?} is not an IANA time zone; {hint}use a name from the tz database, \
             e.g. \"Europe/Berlin\", \"America/New_York\" or \"UTC\""
        ),
    );
    None
}

/// The calendar of an SLO from its own keys over the defaults'. `own_period`: the SLO sets
/// `period` itself (which overrides a default calendar). `None` after reporting a problem (or
/// when a key it needs was invalid); `Some(None)`: a rolling period.
pub(crate) fn resolve(
    ctx: &mut Ctx<'_>,
    own: Keys,
    defaults: Keys,
    own_period: bool,
    raw_week_start: Option<&Str>,
    raw_timezone: Option<&Str>,
) -> Option<Option<Calendar>> {
    let unit = match own.unit? {
        Some(unit) => Some(unit),
        None if own_period => None,
        None => defaults.unit?,
    };
    let Some(unit) = unit else {
        for (text, key) in [(raw_timezone, "timezone"), (raw_week_start, "week_start")] {
            if let Some(text) = text {
                let span = ctx.key_span(&text.span(), key);
                ctx.error(
                    ErrorKind::InvalidValue,
                    &span,
                    format!(
                        "`{key}` applies to calendar periods only, and this SLO's period is \
                         rolling: add calendar = \"week\" (or \"month\", \"quarter\") or remove \
                         `{key}`"
                    ),
                );
            }
        }
        return if raw_timezone.is_some() || raw_week_start.is_some() {
            None
        } else {
            Some(None)
        };
    };
    if unit != CalendarUnit::Week
        && let Some(text) = raw_week_start
    {
        let span = ctx.key_span(&text.span(), "week_start");
        ctx.error(
            ErrorKind::InvalidValue,
            &span,
            format!(
                "`week_start` needs calendar = \"week\", and this SLO's calendar is \"{}\": \
                 remove `week_start` or use calendar = \"week\"",
                unit.as_str()
            ),
        );
        return None;
    }
    let timezone = own.timezone?.or(defaults.timezone?).unwrap_or(Tz::UTC);
    let week_start = own
        .week_start?
        .or(defaults.week_start?)
        .unwrap_or(Weekday::Mon);
    Some(Some(Calendar {
        unit,
        timezone,
        week_start,
    }))
}

/// `[defaults] week_start` needs `[defaults] calendar = "week"` (SLOs of other calendars would
/// silently ignore it).
pub(crate) fn check_defaults(ctx: &mut Ctx<'_>, keys: Keys, week_start: Option<&Str>) {
    if let (Some(text), Some(Some(unit))) = (week_start, keys.unit)
        && unit != CalendarUnit::Week
    {
        let span = ctx.key_span(&text.span(), "week_start");
        ctx.error(
            ErrorKind::InvalidValue,
            &span,
            format!(
                "`week_start` needs calendar = \"week\", and [defaults] has calendar = \"{}\": \
                 remove `week_start` or use calendar = \"week\"",
                unit.as_str()
            ),
        );
    } else if let (Some(text), Some(None)) = (week_start, keys.unit) {
        let span = ctx.key_span(&text.span(), "week_start");
        ctx.error(
            ErrorKind::InvalidValue,
            &span,
            "`week_start` needs calendar = \"week\" in the same table: add it to [defaults] \
             or set week_start in the SLOs with calendar = \"week\""
                .to_string(),
        );
    }
}

/// The length an SLO with `calendar` shows where one figure stands for its period (the
/// figures themselves follow the current period): 7 days, 30 days or 91 days.
pub(crate) fn nominal(unit: CalendarUnit) -> std::time::Duration {
    const DAY: u64 = 86_400;
    std::time::Duration::from_secs(match unit {
        CalendarUnit::Week => 7 * DAY,
        CalendarUnit::Month => 30 * DAY,
        CalendarUnit::Quarter => 91 * DAY,
    })
}

/// What alert windows must fit in, and how messages name it.
pub(crate) fn window_period(calendar: Calendar) -> crate::window::Period<'static> {
    let period = burnwatch_engine::Period::Calendar(calendar);
    crate::window::Period {
        length: period.shortest(),
        name: match calendar.unit {
            CalendarUnit::Week => "a calendar week (less a DST hour)",
            CalendarUnit::Month => "the shortest calendar month (28 days less a DST hour)",
            CalendarUnit::Quarter => "the shortest calendar quarter (90 days less a DST hour)",
        },
    }
}
