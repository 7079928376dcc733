//! `[defaults]` and the rules for the settings an SLO may inherit or override.

use std::time::Duration;

use toml::Spanned;

use crate::alerting::{self, Layer};
use crate::calendar::{self, Keys};
use crate::context::Ctx;
use crate::duration::format_prometheus;
use crate::error::ErrorKind;
use crate::raw::{
    RawDefaults, Str, default_group_limit, default_interval, default_period, default_series_limit,
};
use crate::window::Period;

/// The longest default alert window (ticket: 6h short, 3d long): a period must cover it.
const LONGEST_WINDOW: Duration = Duration::from_secs(3 * 86_400);
const MINUTE_MS: u128 = 60_000;

/// Validated `[defaults]`. `None` in a field means the value was given but invalid (already
/// reported), so SLOs inheriting it are skipped without repeating the error.
#[derive(Debug, Clone)]
pub(crate) struct Defaults {
    /// `Some(None)`: no default backend given.
    pub backend: Option<Option<Spanned<String>>>,
    /// Rolling SLO period.
    pub period: Option<Duration>,
    /// `calendar`, `timezone` and `week_start`.
    pub calendar: Keys,
    /// Evaluation tick.
    pub interval: Option<Duration>,
    /// Instances per grouped SLO.
    pub group_limit: Option<usize>,
    /// Series per selector read one by one from history.
    pub series_limit: Option<usize>,
    /// `[defaults.alerting]`.
    pub alerting: Option<Layer>,
}

/// Validates `[defaults]` (absent: all defaults). `backends` are the names defined in the file.
pub(crate) fn defaults(
    ctx: &mut Ctx<'_>,
    raw: Option<&Spanned<RawDefaults>>,
    backends: &[&str],
) -> Defaults {
    let Some(raw) = raw.map(Spanned::get_ref) else {
        return Defaults {
            backend: Some(None),
            period: Some(default_period()),
            calendar: Keys::NONE,
            interval: Some(default_interval()),
            group_limit: Some(default_group_limit()),
            series_limit: Some(default_series_limit()),
            alerting: Some(Layer::default()),
        };
    };
    let backend = match &raw.backend {
        None => Some(None),
        Some(text) => backend_reference(ctx, text, backends, "[defaults]")
            .map(|name| Some(Spanned::new(text.span(), name))),
    };
    let period = raw
        .period
        .as_ref()
        .map_or(Some(default_period()), |text| period(ctx, text));
    let calendar = calendar::keys(
        ctx,
        raw.calendar.as_ref(),
        raw.timezone.as_ref(),
        raw.week_start.as_ref(),
        raw.period.as_ref(),
        "[defaults]",
    );
    calendar::check_defaults(ctx, calendar, raw.week_start.as_ref());
    let windows_period = match calendar.unit {
        Some(Some(unit)) => Some(calendar::window_period(burnwatch_engine::Calendar::new(
            unit,
            burnwatch_engine::Tz::UTC,
        ))),
        _ => period.map(|length| Period {
            length,
            name: "the [defaults] period",
        }),
    };
    let alerting = alerting::layer(
        ctx,
        raw.alerting.as_ref(),
        "[defaults.alerting]",
        windows_period,
    );
    Defaults {
        backend,
        period,
        calendar,
        interval: raw
            .interval
            .as_ref()
            .map_or(Some(default_interval()), |text| interval(ctx, text)),
        group_limit: raw
            .group_limit
            .as_ref()
            .map_or(Some(default_group_limit()), |n| group_limit(ctx, n)),
        series_limit: raw
            .series_limit
            .as_ref()
            .map_or(Some(default_series_limit()), |n| series_limit(ctx, n)),
        alerting,
    }
}

/// A `backend = "..."` reference: it must name a backend defined in the file.
pub(crate) fn backend_reference(
    ctx: &mut Ctx<'_>,
    text: &Str,
    backends: &[&str],
    place: &str,
) -> Option<String> {
    let name = ctx.expand(text)?;
    if backends.contains(&name.as_str()) {
        return Some(name);
    }
    let defined = if backends.is_empty() {
        "no backend is defined; add a [backends.<name>] table".to_string()
    } else {
        let hint = crate::suggest::closest(&name, backends)
            .map(|b| format!("did you mean \"{b}\"? "))
            .unwrap_or_default();
        format!("{hint}defined backends: {}", backends.join(", "))
    };
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!("`backend` in {place} names {name:?}, which is not defined; {defined}"),
    );
    None
}

/// A rolling period: a whole number of hours covering the longest alert window.
pub(crate) fn period(ctx: &mut Ctx<'_>, text: &Str) -> Option<Duration> {
    let period = ctx.duration(text, "period")?;
    let shown = format_prometheus(period);
    let problem = if !period.as_millis().is_multiple_of(60 * MINUTE_MS) {
        Some(format!(
            "period {shown} must be a whole number of hours, e.g. \"30d\" or \"28d\""
        ))
    } else if period < LONGEST_WINDOW {
        Some(format!(
            "period {shown} is shorter than 3d, the longest default alert window (ticket alerts \
             compare 6h and 3d burn rates); use at least \"3d\", e.g. \"30d\""
        ))
    } else {
        None
    };
    match problem {
        None => Some(period),
        Some(message) => {
            ctx.error(ErrorKind::InvalidValue, &text.span(), message);
            None
        }
    }
}

/// The interval of an SLO or composite: its own `interval` when written, else the default.
pub(crate) fn interval_or(
    ctx: &mut Ctx<'_>,
    own: Option<&Str>,
    defaults: &Defaults,
) -> Option<Duration> {
    match own {
        Some(text) => interval(ctx, text),
        None => defaults.interval,
    }
}

/// An evaluation tick: 1s to 5m, dividing a minute evenly or a whole number of minutes, so
/// ticks line up with the engine's minute buckets.
pub(crate) fn interval(ctx: &mut Ctx<'_>, text: &Str) -> Option<Duration> {
    let interval = ctx.duration(text, "interval")?;
    let ms = interval.as_millis();
    let shown = format_prometheus(interval);
    let problem = if !(1_000..=5 * MINUTE_MS).contains(&ms) {
        Some(format!(
            "interval {shown} must be between 1s and 5m, e.g. \"30s\""
        ))
    } else if (ms < MINUTE_MS && !MINUTE_MS.is_multiple_of(ms))
        || (ms >= MINUTE_MS && !ms.is_multiple_of(MINUTE_MS))
    {
        Some(format!(
            "interval {shown} must divide a minute evenly (1s, 2s, 3s, 4s, 5s, 6s, 10s, 12s, 15s, \
             20s, 30s) or be whole minutes (1m to 5m)"
        ))
    } else {
        None
    };
    match problem {
        None => Some(interval),
        Some(message) => {
            ctx.error(ErrorKind::InvalidValue, &text.span(), message);
            None
        }
    }
}

/// At least one instance.
pub(crate) fn group_limit(ctx: &mut Ctx<'_>, n: &Spanned<i64>) -> Option<usize> {
    limit(ctx, "group_limit", n, 1000)
}

/// At least one series.
pub(crate) fn series_limit(ctx: &mut Ctx<'_>, n: &Spanned<i64>) -> Option<usize> {
    limit(ctx, "series_limit", n, 2000)
}

fn limit(ctx: &mut Ctx<'_>, key: &str, n: &Spanned<i64>, example: usize) -> Option<usize> {
    match usize::try_from(*n.get_ref()) {
        Ok(limit) if limit >= 1 => Some(limit),
        _ => {
            ctx.error(
                ErrorKind::InvalidValue,
                &n.span(),
                format!("{key} {} must be at least 1, e.g. {example}", n.get_ref()),
            );
            None
        }
    }
}
