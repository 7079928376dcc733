//! `budgeting`, `slice` and `slice_target`: occurrences (events as they come) or time slices
//! (OpenSLO's `Timeslices` and `RatioTimeslices`), checked against the SLI kind.

use std::ops::Range;
use std::time::Duration;

use burnwatch_engine::{SliceRule, Slicing};
use toml::Spanned;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::Sli;
use crate::raw::{RawSlo, Str};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Occurrences,
    Timeslices,
    RatioTimeslices,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Occurrences => "occurrences",
            Method::Timeslices => "timeslices",
            Method::RatioTimeslices => "ratio_timeslices",
        }
    }
}

const METHODS: [(&str, Method); 3] = [
    ("occurrences", Method::Occurrences),
    ("timeslices", Method::Timeslices),
    ("ratio_timeslices", Method::RatioTimeslices),
];

/// The slice lengths that divide an hour, in minutes: slices then line up with the buckets
/// and with every hour of every time zone.
const SLICE_MINUTES: [u64; 12] = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

/// The SLO's time slicing (`Some(None)`: occurrences); `None` after reporting a problem. `sli`
/// is `None` when the SLI itself was invalid (already reported): only the keys are checked.
pub(crate) fn slicing(
    ctx: &mut Ctx<'_>,
    raw: &RawSlo,
    sli: Option<&Sli>,
    slo_span: &Range<usize>,
) -> Option<Option<Slicing>> {
    let threshold = matches!(sli, Some(Sli::Threshold { .. }));
    let method = match &raw.budgeting {
        None if threshold => Method::Timeslices,
        None => Method::Occurrences,
        Some(text) => ctx.choice(text, &METHODS, |value, hint| {
            format!(
                "budgeting {value:?} is not a budgeting method{hint}; use \"occurrences\" (events), \
                 \"timeslices\" (good slices / all slices) or \"ratio_timeslices\" (the mean of \
                 the slices' good ratios)"
            )
        })?,
    };
    let at = |ctx: &Ctx<'_>, text: &Option<Str>| match text {
        Some(text) => ctx.key_span(&text.span(), "budgeting"),
        None => slo_span.clone(),
    };
    if threshold && method != Method::Timeslices {
        let span = at(ctx, &raw.budgeting);
        ctx.error(
            ErrorKind::InvalidValue,
            &span,
            format!(
                "a threshold SLI is judged once per time slice, so its budgeting is \"timeslices\", \
                 not {:?}: remove `budgeting` or write budgeting = \"timeslices\"",
                method.as_str()
            ),
        );
        return None;
    }
    if matches!(sli, Some(Sli::Raw { .. })) && method != Method::Occurrences {
        let span = at(ctx, &raw.budgeting);
        ctx.error(
            ErrorKind::InvalidValue,
            &span,
            format!(
                "budgeting = {:?} needs the events of each slice, and a `raw` SLI's error ratio \
                 is computed by the backend over rolling windows: write the SLI as `ratio` or \
                 `events`, or remove `budgeting`",
                method.as_str()
            ),
        );
        return None;
    }
    let slice = slice(ctx, raw.slice.as_ref(), method);
    let target = slice_target(ctx, raw.slice_target.as_ref(), method, threshold, slo_span);
    let (slice, target) = (slice?, target?);
    Some(match method {
        Method::Occurrences => None,
        Method::Timeslices => Some(Slicing {
            length: slice,
            rule: match target {
                Some(target) => SliceRule::Target(target),
                None => SliceRule::Verdict,
            },
        }),
        Method::RatioTimeslices => Some(Slicing {
            length: slice,
            rule: SliceRule::Ratio,
        }),
    })
}

/// `slice`: whole minutes dividing an hour, default one minute; only with time slices.
fn slice(ctx: &mut Ctx<'_>, text: Option<&Str>, method: Method) -> Option<Duration> {
    let Some(text) = text else {
        return Some(Duration::from_secs(60));
    };
    if method == Method::Occurrences {
        let span = ctx.key_span(&text.span(), "slice");
        ctx.error(
            ErrorKind::InvalidValue,
            &span,
            "`slice` applies to time-slice budgeting, and this SLO counts occurrences: add \
             budgeting = \"timeslices\" (or \"ratio_timeslices\") or remove `slice`",
        );
        return None;
    }
    let length = ctx.duration(text, "slice")?;
    let secs = length.as_secs();
    if length.subsec_nanos() == 0 && secs % 60 == 0 && SLICE_MINUTES.contains(&(secs / 60)) {
        return Some(length);
    }
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!(
            "slice {:?} must be a whole number of minutes that divides an hour (1m, 2m, 3m, 4m, \
             5m, 6m, 10m, 12m, 15m, 20m, 30m or 1h), so slices line up with the clock",
            text.get_ref()
        ),
    );
    None
}

/// `slice_target` as a ratio: required with `timeslices` (unless the SLI is a threshold, whose
/// comparison judges the slice), refused otherwise. `Some(None)`: no target.
fn slice_target(
    ctx: &mut Ctx<'_>,
    value: Option<&Spanned<f64>>,
    method: Method,
    threshold: bool,
    slo_span: &Range<usize>,
) -> Option<Option<f64>> {
    let wanted = method == Method::Timeslices && !threshold;
    let Some(value) = value else {
        if wanted {
            ctx.missing(
                slo_span,
                "slice_target",
                "budgeting = \"timeslices\" needs `slice_target`, the good ratio in percent a \
                 slice needs to count as good, e.g. slice_target = 95"
                    .into(),
            );
            return None;
        }
        return Some(None);
    };
    let span = value.span();
    if !wanted {
        let why = if threshold {
            "a threshold SLI's slice is judged by its comparison (`op` and `value`)".to_string()
        } else {
            format!(
                "it applies to budgeting = \"timeslices\", and this SLO's budgeting is {:?}",
                method.as_str()
            )
        };
        let at = ctx.key_span(&span, "slice_target");
        ctx.error(
            ErrorKind::InvalidValue,
            &at,
            format!("`slice_target` is not used here: {why}; remove it"),
        );
        return None;
    }
    let percent = *value.get_ref();
    if !(percent.is_finite() && percent > 1.0 && percent <= 100.0) {
        let hint = if percent > 0.0 && percent <= 1.0 {
            format!(
                " (it is a percentage, like `objective`: write {} for {}%)",
                percent * 100.0,
                percent * 100.0
            )
        } else {
            String::new()
        };
        ctx.error(
            ErrorKind::InvalidValue,
            &span,
            format!(
                "slice_target {percent} must be a percentage above 1 and at most 100, e.g. \
                 slice_target = 95{hint}"
            ),
        );
        return None;
    }
    Some(Some(percent / 100.0))
}
