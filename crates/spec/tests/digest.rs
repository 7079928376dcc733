//! `[[digest]]`: a valid definition with its defaults and occurrences, and every validation
//! error at its exact `line:col` with a fix (bad RRULE, unknown zone, unknown receiver, a
//! receiver kind a digest cannot use, an unknown kind, a scope that covers nothing).

mod common;

use burnwatch_spec::ErrorKind::{InvalidValue, Missing, UnknownKey};
use burnwatch_spec::digest::DigestKind;
use common::{BACKEND, RATIO, errors, find, parse, positions};

/// Two SLOs (checkout-availability, team payments; api-availability, team platform), three
/// receivers (slack, teams, pagerduty); the digest's lines start at line [`FIRST`].
fn config(digest: &str) -> String {
    let slo = |service: &str, team: &str| {
        format!(
            "[[slo]]\nservice = \"{service}\"\nname = \"availability\"\nlabels = {{ team = \"{team}\" }}\n{RATIO}"
        )
    };
    format!(
        "{BACKEND}{}{}[receivers.sre-updates]\ntype = \"slack\"\nurl_file = \"/run/slack\"\n\
         [receivers.teams]\ntype = \"teams\"\nurl_file = \"/run/teams\"\n\
         [receivers.pager]\ntype = \"pagerduty\"\nrouting_key_file = \"/run/pd\"\n{digest}",
        slo("checkout", "payments"),
        slo("api", "platform"),
    )
}

/// 3 backend lines, 2 SLOs of 8 lines, 9 receiver lines: the digest table is line 29.
const FIRST: usize = 3 + 2 * 8 + 9 + 1;

const WEEKLY: &str = "[[digest]]\nname = \"weekly-review\"\nkind = \"weekly\"\n";

fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

#[test]
fn a_weekly_digest_in_london_time() {
    let config = parse(&config(&format!(
        "{WEEKLY}receivers = [\"sre-updates\", \"teams\"]\n\
         schedule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\"\ntimezone = \"Europe/London\"\n\
         labels = {{ team = \"payments\" }}\n"
    )))
    .unwrap();
    let d = &config.digests[0];
    assert_eq!(d.name, "weekly-review");
    assert_eq!(d.kind, DigestKind::Weekly);
    assert_eq!(d.receivers, ["sre-updates", "teams"]);
    let labels = |team: &'static str| [("team", team)].into_iter();
    assert!(d.covers("checkout-availability", labels("payments")));
    assert!(!d.covers("api-availability", labels("platform")));
    // Monday 9:00 London: GMT in winter, BST (UTC+1) in summer.
    assert_eq!(
        d.next_after(at("2026-12-02T12:00:00Z")),
        Some(at("2026-12-07T09:00:00Z"))
    );
    assert_eq!(
        d.next_after(at("2026-06-02T12:00:00Z")),
        Some(at("2026-06-08T08:00:00Z"))
    );
    // An occurrence is its own "last at or before", and the next one is a week later.
    let monday = at("2026-12-07T09:00:00Z");
    assert_eq!(d.last_at_or_before(monday), Some(monday));
    assert_eq!(
        d.last_at_or_before(monday - 1),
        Some(monday - 7 * 86_400_000)
    );
}

#[test]
fn scope_defaults_to_every_slo_and_zone_to_utc() {
    let config = parse(&config(
        "[[digest]]\nname = \"wins\"\nkind = \"daily\"\nreceivers = [\"sre-updates\"]\n\
         schedule = \"FREQ=DAILY;BYHOUR=8;BYMINUTE=30\"\n",
    ))
    .unwrap();
    let d = &config.digests[0];
    assert!(d.slos.is_empty() && d.labels.is_empty());
    assert_eq!(
        d.next_after(at("2026-12-07T09:00:00Z")),
        Some(at("2026-12-08T08:30:00Z"))
    );
}

#[test]
fn a_bad_rrule_is_reported_at_its_value() {
    let e = errors(&config(&format!(
        "{WEEKLY}receivers = [\"sre-updates\"]\nschedule = \"FREQ=FORTNIGHTLY\"\n"
    )));
    assert_eq!(positions(&e), vec![(FIRST + 4, 12, InvalidValue)], "{e}");
    let e = find(&e, "not an RFC 5545 RRULE");
    assert!(e.message().contains("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"), "{e}");
}

#[test]
fn an_unknown_timezone_suggests_the_closest() {
    let e = errors(&config(&format!(
        "{WEEKLY}receivers = [\"sre-updates\"]\nschedule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\"\n\
         timezone = \"Europe/Londn\"\n"
    )));
    assert_eq!(positions(&e), vec![(FIRST + 5, 12, InvalidValue)], "{e}");
    let e = find(&e, "not an IANA time zone");
    assert!(
        e.message().contains("did you mean \"Europe/London\"?"),
        "{e}"
    );
}

#[test]
fn an_unknown_receiver_and_a_pager_are_refused_with_the_usable_ones() {
    let e = errors(&config(&format!(
        "{WEEKLY}receivers = [\"sre-update\", \"pager\"]\n\
         schedule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\"\n"
    )));
    assert_eq!(
        positions(&e),
        vec![(FIRST + 3, 14, InvalidValue), (FIRST + 3, 28, InvalidValue)],
        "{e}"
    );
    let unknown = find(&e, "\"sre-update\", which is not defined");
    assert!(
        unknown.message().contains("did you mean \"sre-updates\"?"),
        "{unknown}"
    );
    let pager = find(&e, "of type \"pagerduty\", which cannot take a digest");
    assert!(
        pager
            .message()
            .contains("receivers a digest can use: sre-updates, teams"),
        "{pager}"
    );
}

#[test]
fn missing_keys_unknown_kind_and_keys_and_an_empty_scope() {
    let e = errors(&config(
        "[[digest]]\nname = \"x\"\nkind = \"monthly\"\nrecievers = []\n",
    ));
    find(&e, "not a digest kind");
    find(&e, "unknown key `recievers`");
    find(&e, "[[digest]] needs `schedule`");
    assert!(positions(&e).contains(&(FIRST + 2, 8, InvalidValue)), "{e}");
    assert!(positions(&e).iter().any(|p| p.2 == UnknownKey), "{e}");
    assert!(positions(&e).iter().any(|p| p.2 == Missing), "{e}");
    let e = errors(&config(&format!(
        "{WEEKLY}receivers = [\"sre-updates\"]\nschedule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\"\n\
         labels = {{ team = \"search\" }}\n"
    )));
    assert_eq!(positions(&e), vec![(FIRST + 5, 10, InvalidValue)], "{e}");
    find(&e, "covers no SLO");
}
