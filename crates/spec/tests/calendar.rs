//! Calendar periods: `calendar`, `timezone`, `week_start` in `[defaults]` and `[[slo]]`, how
//! they combine with `period`, and their errors at `line:col`.

mod common;

use std::time::Duration;

use burnwatch_engine::{CalendarUnit, Period, Tz, Weekday};
use burnwatch_spec::ErrorKind::*;
use common::{BACKEND, errors, find, one_slo, parse, positions};

const DAY: Duration = Duration::from_secs(86_400);

#[test]
fn a_month_in_a_zone_becomes_a_calendar_period() {
    let config = parse(&one_slo(
        "calendar = \"month\"\ntimezone = \"America/New_York\"\n",
    ))
    .unwrap();
    let slo = &config.slos[0];
    let calendar = slo.calendar.unwrap();
    assert_eq!(calendar.unit, CalendarUnit::Month);
    assert_eq!(calendar.timezone, Tz::America__New_York);
    assert_eq!(
        slo.period,
        30 * DAY,
        "the usual length, shown where one figure is needed"
    );
    assert!(matches!(slo.engine_period(), Period::Calendar(c) if c == calendar));
}

#[test]
fn defaults_give_every_slo_a_calendar_and_an_own_period_overrides_it() {
    let text = format!(
        "{BACKEND}[defaults]\ncalendar = \"week\"\ntimezone = \"Europe/Berlin\"\nweek_start = \"sunday\"\n\
         [[slo]]\nservice = \"a\"\nname = \"weekly\"\n{}\
         [[slo]]\nservice = \"b\"\nname = \"rolling\"\nperiod = \"28d\"\n{}",
        common::RATIO,
        common::RATIO
    );
    let config = parse(&text).unwrap();
    let weekly = config.slos[0].calendar.unwrap();
    assert_eq!(
        (weekly.unit, weekly.timezone, weekly.week_start),
        (CalendarUnit::Week, Tz::Europe__Berlin, Weekday::Sun)
    );
    assert_eq!(config.slos[1].calendar, None);
    assert_eq!(config.slos[1].period, 28 * DAY);
}

#[test]
fn rolling_stays_the_default_and_the_zone_defaults_to_utc() {
    let config = parse(&one_slo("")).unwrap();
    assert_eq!(config.slos[0].calendar, None);
    assert_eq!(config.slos[0].engine_period(), Period::Rolling(30 * DAY));
    let config = parse(&one_slo("calendar = \"quarter\"\n")).unwrap();
    let quarter = config.slos[0].calendar.unwrap();
    assert_eq!(
        (quarter.timezone, quarter.week_start),
        (Tz::UTC, Weekday::Mon)
    );
}

#[test]
fn period_and_calendar_together_is_a_located_conflict() {
    // Lines: [[slo]] 5, service 6, name 7, period 8, calendar 9.
    let errs = errors(&one_slo("period = \"30d\"\ncalendar = \"month\"\n"));
    assert_eq!(positions(&errs), vec![(9, 1, Conflict)], "{errs}");
    let e = find(&errs, "`period` and `calendar` are both set in this SLO");
    assert!(e.message().contains("remove one of them"), "{e}");
}

#[test]
fn an_unknown_timezone_suggests_the_closest_name() {
    let errs = errors(&one_slo(
        "calendar = \"month\"\ntimezone = \"Europe/Berlni\"\n",
    ));
    assert_eq!(positions(&errs), vec![(9, 12, InvalidValue)], "{errs}");
    let text = errs.to_string();
    assert!(
        text.contains(
            "burnwatch.toml:9:12: timezone \"Europe/Berlni\" is not an IANA time zone; did you \
             mean \"Europe/Berlin\"?"
        ),
        "{text}"
    );
    // Nothing close: no suggestion, but examples.
    let errs = errors(&one_slo(
        "calendar = \"month\"\ntimezone = \"Mars/Olympus\"\n",
    ));
    let e = find(&errs, "Mars/Olympus");
    assert!(!e.message().contains("did you mean"), "{e}");
    assert!(e.message().contains("e.g. \"Europe/Berlin\""), "{e}");
}

#[test]
fn week_start_needs_a_weekly_calendar() {
    let errs = errors(&one_slo("calendar = \"month\"\nweek_start = \"sunday\"\n"));
    assert_eq!(positions(&errs), vec![(9, 1, InvalidValue)], "{errs}");
    find(
        &errs,
        "`week_start` needs calendar = \"week\", and this SLO's calendar is \"month\"",
    );
    let errs = errors(&one_slo("week_start = \"sunday\"\n"));
    assert_eq!(positions(&errs), vec![(8, 1, InvalidValue)], "{errs}");
    find(&errs, "this SLO's period is rolling");
    let errs = errors(&format!(
        "{BACKEND}[defaults]\nweek_start = \"monday\"\n[[slo]]\nservice = \"a\"\nname = \"b\"\n{}",
        common::RATIO
    ));
    assert_eq!(positions(&errs), vec![(5, 1, InvalidValue)], "{errs}");
}

#[test]
fn misspelt_calendar_units_and_weekdays_are_suggested() {
    let errs = errors(&one_slo("calendar = \"monht\"\n"));
    find(
        &errs,
        "calendar \"monht\" is not a calendar period (did you mean \"month\"?)",
    );
    let errs = errors(&one_slo("calendar = \"week\"\nweek_start = \"sundy\"\n"));
    find(&errs, "(did you mean \"sunday\"?)");
}

#[test]
fn a_raw_sli_cannot_have_a_calendar_period() {
    let text = format!(
        "{BACKEND}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\ncalendar = \"month\"\nobjective = 99.9\n\
         [slo.sli.raw]\nerror_ratio_query = 'sum(rate(e[{{{{.window}}}}])) / sum(rate(t[{{{{.window}}}}]))'\n"
    );
    let errs = errors(&text);
    assert_eq!(positions(&errs), vec![(8, 1, InvalidValue)], "{errs}");
    find(
        &errs,
        "calendar = \"month\" needs an SLI burnwatch counts events for",
    );
}

#[test]
fn alert_factors_follow_the_current_period_length() {
    let config = parse(&one_slo("calendar = \"month\"\n")).unwrap();
    let slo = &config.slos[0];
    // The 5m/1h page pair spends 2% of the budget: 0.02 * 28 * 24 and 0.02 * 31 * 24.
    let page = |days: u32| burnwatch_spec::alert_policy_over(slo, DAY * days).pairs[0].factor;
    assert!((page(28) - 13.44).abs() < 1e-9);
    assert!((page(31) - 14.88).abs() < 1e-9);
}

#[test]
fn alert_windows_must_fit_in_the_shortest_calendar_period() {
    // A week holding the spring DST change has 167 hours: a 7-day long window does not fit.
    let text = one_slo("calendar = \"week\"\n")
        + "[[slo.alerting.windows]]\nseverity = \"ticket\"\nshort = \"6h\"\nlong = \"7d\"\nbudget_share = 10\n";
    let errs = errors(&text);
    find(&errs, "longer than a calendar week (less a DST hour)");
    let fits = one_slo("calendar = \"week\"\n")
        + "[[slo.alerting.windows]]\nseverity = \"ticket\"\nshort = \"6h\"\nlong = \"3d\"\nbudget_share = 10\n";
    assert!(parse(&fits).is_ok());
}
