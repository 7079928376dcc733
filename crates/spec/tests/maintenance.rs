//! `[[maintenance]]`: every validation error at its exact place, defaults, and which SLOs a
//! definition covers.

mod common;

use burnwatch_engine::{Origin, SloInfo, SpanSource};
use burnwatch_spec::ErrorKind;
use burnwatch_spec::maintenance::{MaintenanceSpans, When};
use common::{BACKEND, RATIO, errors, find, parse};

/// Three SLOs: checkout-availability and checkout-latency (team payments) and api-availability
/// (team platform); `[[maintenance]]` lines follow from line 24 on.
fn config(maintenance: &str) -> String {
    let slo = |service: &str, name: &str, team: &str| {
        format!(
            "[[slo]]\nservice = \"{service}\"\nname = \"{name}\"\nlabels = {{ team = \"{team}\" }}\n{RATIO}"
        )
    };
    format!(
        "{BACKEND}{}{}{}{maintenance}",
        slo("checkout", "availability", "payments"),
        slo("checkout", "latency", "payments"),
        slo("api", "availability", "platform"),
    )
}

const FIRST: usize = 3 + 3 * 8 + 1;

fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

#[test]
fn line_numbers_of_the_fixture() {
    // The first maintenance line is line FIRST (28): a misplaced key shows it.
    let e = errors(&config("[[maintenance]]\nnmae = \"x\"\n"));
    let e = find(&e, "unknown key `nmae`");
    assert_eq!((e.location().line, e.location().col), (FIRST + 1, 1));
    assert!(e.message().contains("did you mean `name`?"), "{e}");
}

#[test]
fn a_one_off_window_with_defaults() {
    let config = parse(&config(
        "[[maintenance]]\nname = \"db-upgrade\"\nslos = [\"checkout-*\"]\n\
         start = \"2026-03-01T02:00:00+01:00\"\nend = \"2026-03-01T04:00:00+01:00\"\n",
    ))
    .unwrap();
    let m = &config.maintenance[0];
    assert_eq!(m.name, "db-upgrade");
    assert_eq!(
        m.when,
        When::Once {
            start: at("2026-03-01T01:00:00Z"),
            end: at("2026-03-01T03:00:00Z")
        }
    );
    assert!(m.exclude && m.silence, "both default to true");
    assert_eq!(m.reason, "");
}

#[test]
fn globs_and_labels_select_slos() {
    let config = parse(&config(
        "[[maintenance]]\nname = \"payments\"\nlabels = { team = \"payments\" }\n\
         start = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-01T01:00:00Z\"\n\
         [[maintenance]]\nname = \"availability\"\nslos = [\"*-availability\"]\nsilence = false\n\
         start = \"2026-04-01T00:00:00Z\"\nend = \"2026-04-01T01:00:00Z\"\n\
         [[maintenance]]\nname = \"both\"\nslos = [\"*-availability\"]\nlabels = { team = \"platform\" }\n\
         start = \"2026-05-01T00:00:00Z\"\nend = \"2026-05-01T01:00:00Z\"\n",
    ))
    .unwrap();
    let source = MaintenanceSpans::new(&config.maintenance);
    let covered = |slo: &burnwatch_spec::Slo| -> Vec<String> {
        let info: SloInfo = burnwatch_spec::slo_info(slo);
        source
            .spans(
                &info,
                at("2026-01-01T00:00:00Z"),
                at("2027-01-01T00:00:00Z"),
            )
            .into_iter()
            .map(|s| match s.origin {
                Origin::Maintenance { name } => name,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(covered(&config.slos[0]), ["payments", "availability"]);
    assert_eq!(covered(&config.slos[1]), ["payments"]);
    // slos and labels together: both must match.
    assert_eq!(covered(&config.slos[2]), ["availability", "both"]);
}

#[test]
fn unknown_ids_and_globs_matching_nothing() {
    let e = errors(&config(
        "[[maintenance]]\nname = \"x\"\nslos = [\"checkout-availabilty\", \"web-*\"]\n\
         start = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-01T01:00:00Z\"\n",
    ));
    assert_eq!(e.len(), 2, "{e}");
    let typo = find(&e, "\"checkout-availabilty\" in `slos` is not an SLO id");
    assert_eq!((typo.location().line, typo.location().col), (FIRST + 2, 9));
    assert!(
        typo.message()
            .contains("(did you mean \"checkout-availability\"?)")
    );
    let glob = find(&e, "\"web-*\" in `slos` matches no SLO id");
    assert_eq!((glob.location().line, glob.location().col), (FIRST + 2, 33));
    assert!(
        glob.message().contains("api-availability"),
        "lists the ids: {glob}"
    );
}

#[test]
fn labels_matching_no_slo_and_no_selection_at_all() {
    let e = errors(&config(
        "[[maintenance]]\nname = \"x\"\nlabels = { team = \"search\" }\n\
         start = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-01T01:00:00Z\"\n\
         [[maintenance]]\nname = \"y\"\n\
         start = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-01T01:00:00Z\"\n",
    ));
    let none = find(&e, "maintenance `x` covers no SLO");
    assert_eq!((none.location().line, none.location().col), (FIRST + 2, 10));
    let missing = find(&e, "needs `slos`");
    assert_eq!(missing.kind(), ErrorKind::Missing);
    assert_eq!(
        (missing.location().line, missing.location().col),
        (FIRST + 5, 1)
    );
}

#[test]
fn reversed_missing_and_malformed_times() {
    let e = errors(&config(
        "[[maintenance]]\nname = \"rev\"\nslos = [\"*\"]\n\
         start = \"2026-03-01T04:00:00Z\"\nend = \"2026-03-01T02:00:00Z\"\n\
         [[maintenance]]\nname = \"bad\"\nslos = [\"*\"]\nstart = \"2026-03-01 02:00\"\n",
    ));
    let rev = find(
        &e,
        "`end` 2026-03-01T02:00:00Z is not after `start` 2026-03-01T04:00:00Z",
    );
    assert_eq!((rev.location().line, rev.location().col), (FIRST + 4, 7));
    let bad = find(&e, "`start` \"2026-03-01 02:00\" is not an RFC 3339 time");
    assert_eq!((bad.location().line, bad.location().col), (FIRST + 8, 9));
    let missing = find(&e, "needs `start` and `end`");
    assert_eq!(
        (missing.location().line, missing.location().col),
        (FIRST + 5, 1)
    );
    assert_eq!(e.len(), 3, "{e}");
}

#[test]
fn schedule_mixed_with_end_or_one_off_with_duration() {
    let e = errors(&config(
        "[[maintenance]]\nname = \"mix\"\nslos = [\"*\"]\nschedule = \"FREQ=WEEKLY;BYDAY=SU\"\n\
         duration = \"1h\"\nend = \"2026-03-01T02:00:00Z\"\n\
         [[maintenance]]\nname = \"once\"\nslos = [\"*\"]\ntimezone = \"UTC\"\n\
         start = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-01T01:00:00Z\"\n",
    ));
    let end = find(&e, "`end` does not go with `schedule`");
    assert_eq!(end.kind(), ErrorKind::Conflict);
    assert_eq!((end.location().line, end.location().col), (FIRST + 5, 1));
    let tz = find(&e, "`timezone` only goes with `schedule`");
    assert_eq!((tz.location().line, tz.location().col), (FIRST + 9, 1));
    assert_eq!(e.len(), 2, "{e}");
}

#[test]
fn bad_rules_zones_and_rules_that_never_occur() {
    let e = errors(&config(
        "[[maintenance]]\nname = \"a\"\nslos = [\"*\"]\nschedule = \"FREQ=FORTNIGHTLY\"\nduration = \"1h\"\n\
         [[maintenance]]\nname = \"b\"\nslos = [\"*\"]\nschedule = \"FREQ=WEEKLY\"\nduration = \"1h\"\n\
         timezone = \"Europe/Berln\"\n\
         [[maintenance]]\nname = \"c\"\nslos = [\"*\"]\nschedule = \"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\"\n\
         duration = \"1h\"\n\
         [[maintenance]]\nname = \"d\"\nslos = [\"*\"]\nschedule = \"FREQ=MINUTELY\"\nduration = \"1m\"\n\
         [[maintenance]]\nname = \"e\"\nslos = [\"*\"]\nschedule = \"FREQ=DAILY\"\n",
    ));
    let parse = find(&e, "`schedule` is not an RFC 5545 RRULE: ");
    assert_eq!(
        (parse.location().line, parse.location().col),
        (FIRST + 3, 12)
    );
    let zone = find(&e, "`timezone` \"Europe/Berln\" is not an IANA time zone");
    assert!(
        zone.message().contains("(did you mean \"Europe/Berlin\"?)"),
        "{zone}"
    );
    assert_eq!(
        (zone.location().line, zone.location().col),
        (FIRST + 10, 12)
    );
    let never = find(&e, "never occurs");
    assert_eq!(
        (never.location().line, never.location().col),
        (FIRST + 14, 12)
    );
    let minutely = find(&e, "`schedule` repeats MINUTELY");
    assert_eq!(
        (minutely.location().line, minutely.location().col),
        (FIRST + 19, 12)
    );
    let duration = find(&e, "needs `duration`");
    assert_eq!(
        (duration.location().line, duration.location().col),
        (FIRST + 21, 1)
    );
    assert_eq!(e.len(), 5, "{e}");
}

#[test]
fn duplicate_names_and_a_window_that_does_nothing() {
    let window =
        "slos = [\"*\"]\nstart = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-01T01:00:00Z\"\n";
    let e = errors(&config(&format!(
        "[[maintenance]]\nname = \"x\"\n{window}\
         [[maintenance]]\nname = \"x\"\n{window}\
         [[maintenance]]\nname = \"noop\"\n{window}exclude = false\nsilence = false\n"
    )));
    let dup = find(&e, "maintenance name `x` is already used");
    assert_eq!(dup.kind(), ErrorKind::Duplicate);
    assert_eq!((dup.location().line, dup.location().col), (FIRST + 6, 8));
    assert!(
        dup.message()
            .contains(&format!("burnwatch.toml:{}:8", FIRST + 1))
    );
    let noop = find(&e, "neither excludes nor silences");
    assert_eq!((noop.location().line, noop.location().col), (FIRST + 15, 1));
    assert_eq!(e.len(), 2, "{e}");
}

#[test]
fn overlapping_definitions_that_disagree() {
    // Fixed against fixed: same SLOs, overlapping, one silences only.
    let e = errors(&config(
        "[[maintenance]]\nname = \"a\"\nslos = [\"checkout-*\"]\n\
         start = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-01T02:00:00Z\"\n\
         [[maintenance]]\nname = \"b\"\nslos = [\"checkout-latency\"]\nexclude = false\n\
         start = \"2026-03-01T01:00:00Z\"\nend = \"2026-03-01T03:00:00Z\"\n",
    ));
    let c = find(&e, "maintenance `b` overlaps `a`");
    assert_eq!(c.kind(), ErrorKind::Conflict);
    assert_eq!((c.location().line, c.location().col), (FIRST + 6, 8));
    assert!(
        c.message()
            .contains("on SLO `checkout-latency` from 2026-03-01T01:00:00Z"),
        "{c}"
    );
    // Weekly Sunday 02:00-04:00 Berlin against a one-off Sunday 2026-03-08 02:30-03:00 UTC
    // (03:30-04:00 CET: inside the weekly window, which is 01:00-03:00Z that day).
    let e = errors(&config(
        "[[maintenance]]\nname = \"weekly\"\nlabels = { team = \"payments\" }\n\
         schedule = \"FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0\"\nduration = \"2h\"\n\
         timezone = \"Europe/Berlin\"\n\
         [[maintenance]]\nname = \"once\"\nslos = [\"checkout-availability\"]\nsilence = false\n\
         start = \"2026-03-08T02:30:00Z\"\nend = \"2026-03-08T03:00:00Z\"\n",
    ));
    let c = find(&e, "maintenance `once` overlaps `weekly`");
    assert!(c.message().contains("from 2026-03-08T02:30:00Z"), "{c}");
    // Two schedules: daily 01:00-02:00 UTC against Mondays 01:30 UTC; they meet on the first
    // Monday after both start (2000-01-03).
    let e = errors(&config(
        "[[maintenance]]\nname = \"daily\"\nslos = [\"api-*\"]\nschedule = \"FREQ=DAILY;BYHOUR=1\"\n\
         duration = \"1h\"\n\
         [[maintenance]]\nname = \"monday\"\nslos = [\"*\"]\nsilence = false\n\
         schedule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=1;BYMINUTE=30\"\nduration = \"10m\"\n",
    ));
    let c = find(&e, "maintenance `monday` overlaps `daily`");
    assert!(
        c.message()
            .contains("on SLO `api-availability` from 2000-01-03T01:30:00Z"),
        "{c}"
    );
}

#[test]
fn agreeing_or_disjoint_definitions_are_fine() {
    let config = parse(&config(
        // Same effect, overlapping: merged later. Different effect but on different SLOs, or
        // at different times.
        "[[maintenance]]\nname = \"a\"\nslos = [\"checkout-*\"]\n\
         start = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-01T02:00:00Z\"\n\
         [[maintenance]]\nname = \"b\"\nslos = [\"checkout-latency\"]\n\
         start = \"2026-03-01T01:00:00Z\"\nend = \"2026-03-01T03:00:00Z\"\n\
         [[maintenance]]\nname = \"c\"\nslos = [\"api-availability\"]\nexclude = false\n\
         start = \"2026-03-01T01:00:00Z\"\nend = \"2026-03-01T03:00:00Z\"\n\
         [[maintenance]]\nname = \"d\"\nslos = [\"checkout-latency\"]\nexclude = false\n\
         start = \"2026-03-01T02:00:00Z\"\nend = \"2026-03-01T03:00:00Z\"\n\
         [[maintenance]]\nname = \"e\"\nslos = [\"*\"]\nschedule = \"FREQ=DAILY;BYHOUR=12\"\n\
         duration = \"30m\"\nreason = \"noon deploys\"\n",
    ));
    // d touches a (ends 02:00, d starts after 02:00) but overlaps b, which agrees with a...
    let e = config.unwrap_err();
    let c = find(&e, "maintenance `d` overlaps `b`");
    assert!(c.message().contains("from 2026-03-01T02:00:00Z"), "{c}");
    assert_eq!(e.len(), 1, "a and d only touch: {e}");
}
