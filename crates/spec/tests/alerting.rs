//! `[defaults.alerting]` and `[slo.alerting]`: resolution key by key, windows replaced as a
//! whole, annotations merged, thresholds, and every problem at its `line:col`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use burnwatch_spec::ErrorKind::*;
use burnwatch_spec::{AlertWindow, Alerting, Severity, Threshold};
use common::{errors, find, one_slo, parse, positions};

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

/// Two SLOs: one inherits `[defaults.alerting]`, one overrides part of it.
const LAYERED: &str = r#"[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"

[defaults.alerting]
name = "BudgetBurn"
for = "2m"
min_events = 50
page = false
no_data_for = "30m"
budget_exhausted = 0
annotations = { runbook = "https://runbooks/slo", summary = "default summary" }

[[defaults.alerting.windows]]
severity = "page"
short = "5m"
long = "1h"
budget_share = 2

[[defaults.alerting.windows]]
severity = "ticket"
short = "2h"
long = "1d"
factor = 3

[[slo]]
service = "checkout"
name = "inherits"
objective = 99.9
[slo.sli.ratio]
errors = 'e_total'
total = 't_total'

[[slo]]
service = "checkout"
name = "overrides"
objective = 99.9
[slo.sli.ratio]
errors = 'e_total'
total = 't_total'
[slo.alerting]
name = "CheckoutBurn"
page = true
keep_firing_for = "10m"
no_data = false
budget_exhausted = 12.5
annotations = { summary = "checkout summary", dashboard = "https://grafana/d/checkout" }
[[slo.alerting.windows]]
severity = "page"
short = "10m"
long = "2h"
factor = 10
"#;

fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn without_alerting_tables_every_slo_gets_the_standard_policy() {
    let config = parse(&one_slo("")).unwrap_or_else(|e| panic!("{e}"));
    let alerting = &config.slos[0].alerting;
    assert_eq!(*alerting, Alerting::standard());
    assert_eq!(alerting.name, "SLOErrorBudgetBurn");
    assert_eq!(
        alerting.windows, None,
        "None: the engine's SRE Workbook pairs"
    );
    assert_eq!(alerting.no_data_for, Some(minutes(15)));
    assert!(alerting.page && alerting.ticket);
    assert_eq!(alerting.budget_exhausted, None);
}

#[test]
fn an_slo_inherits_every_key_of_the_defaults() {
    let config = parse(LAYERED).unwrap_or_else(|e| panic!("{e}"));
    let a = &config.slos[0].alerting;
    assert_eq!(a.name, "BudgetBurn");
    assert_eq!(a.hold_for, minutes(2));
    assert_eq!(
        a.keep_firing_for,
        Duration::ZERO,
        "standard: not in defaults"
    );
    assert_eq!(a.min_events, 50.0);
    assert!(!a.page);
    assert!(a.ticket, "standard: not in defaults");
    assert_eq!(a.no_data_for, Some(minutes(30)));
    assert_eq!(
        a.budget_exhausted,
        Some(0.0),
        "0 means fire at 0% left, not off"
    );
    assert_eq!(
        a.annotations,
        annotations(&[
            ("runbook", "https://runbooks/slo"),
            ("summary", "default summary")
        ])
    );
    assert_eq!(
        a.windows,
        Some(vec![
            AlertWindow {
                severity: Severity::Page,
                short: minutes(5),
                long: minutes(60),
                threshold: Threshold::BudgetShare(2.0),
            },
            AlertWindow {
                severity: Severity::Ticket,
                short: minutes(120),
                long: minutes(24 * 60),
                threshold: Threshold::Factor(3.0),
            },
        ])
    );
}

#[test]
fn an_slo_overrides_keys_one_by_one_and_replaces_the_windows() {
    let config = parse(LAYERED).unwrap_or_else(|e| panic!("{e}"));
    let a = &config.slos[1].alerting;
    assert_eq!(a.name, "CheckoutBurn");
    assert_eq!(a.hold_for, minutes(2), "not overridden: from the defaults");
    assert_eq!(a.keep_firing_for, minutes(10));
    assert_eq!(a.min_events, 50.0);
    assert!(a.page, "the SLO's true beats the defaults' false");
    assert_eq!(
        a.no_data_for, None,
        "no_data = false turns it off despite the defaults' no_data_for"
    );
    assert_eq!(a.budget_exhausted, Some(0.125));
    assert_eq!(
        a.annotations,
        annotations(&[
            ("dashboard", "https://grafana/d/checkout"),
            ("runbook", "https://runbooks/slo"),
            ("summary", "checkout summary"),
        ]),
        "merged per key, the SLO's summary wins"
    );
    assert_eq!(
        a.windows,
        Some(vec![AlertWindow {
            severity: Severity::Page,
            short: minutes(10),
            long: minutes(120),
            threshold: Threshold::Factor(10.0),
        }]),
        "the SLO's windows replace the defaults' entirely, not appended"
    );
}

#[test]
fn budget_exhausted_is_written_in_percent_and_stored_as_a_ratio() {
    for (written, ratio) in [("0", 0.0), ("10", 0.1), ("99.9", 0.999), ("0.5", 0.005)] {
        let text = format!(
            "{}[slo.alerting]\nbudget_exhausted = {written}\n",
            one_slo("")
        );
        let config = parse(&text).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(config.slos[0].alerting.budget_exhausted, Some(ratio));
    }
    for written in ["100", "-1", "150", "nan"] {
        let text = format!(
            "{}[slo.alerting]\nbudget_exhausted = {written}\n",
            one_slo("")
        );
        let errors = errors(&text);
        assert_eq!(
            positions(&errors),
            vec![(13, 20, InvalidValue)],
            "{written}: {errors}"
        );
        assert!(
            errors[0]
                .message()
                .contains(&format!("budget_exhausted {written} must be")),
            "{errors}"
        );
    }
}

#[test]
fn budget_share_and_factor_are_distinct_thresholds() {
    let window = |threshold: &str| {
        format!(
            "{}[[slo.alerting.windows]]\nseverity = \"ticket\"\nshort = \"30m\"\nlong = \"6h\"\n{threshold}\n",
            one_slo("")
        )
    };
    let threshold = |text: &str| {
        let config = parse(&window(text)).unwrap_or_else(|e| panic!("{text}: {e}"));
        config.slos[0].alerting.windows.as_ref().unwrap()[0].threshold
    };
    // budget_share stays in percent; the engine derives the factor from it and the period.
    assert_eq!(threshold("budget_share = 5"), Threshold::BudgetShare(5.0));
    assert_eq!(
        threshold("budget_share = 100"),
        Threshold::BudgetShare(100.0)
    );
    assert_eq!(threshold("factor = 6"), Threshold::Factor(6.0));
    assert_eq!(threshold("factor = 0.5"), Threshold::Factor(0.5));

    for (text, col, needle) in [
        ("budget_share = 0", 16, "more than 0 and at most 100"),
        ("budget_share = 100.5", 16, "more than 0 and at most 100"),
        ("factor = 0", 10, "burn rate above 0"),
        ("factor = -2", 10, "burn rate above 0"),
    ] {
        let errors = errors(&window(text));
        assert_eq!(
            positions(&errors),
            vec![(16, col, InvalidValue)],
            "{text}: {errors}"
        );
        find(&errors, needle);
    }

    let both = errors(&window("budget_share = 2\nfactor = 14.4"));
    assert_eq!(positions(&both), vec![(17, 10, Conflict)], "{both}");
    find(&both, "gives both `budget_share` and `factor`: keep one");

    let neither = errors(&window(""));
    assert_eq!(positions(&neither), vec![(12, 1, Missing)], "{neither}");
    find(&neither, "needs `budget_share`");
}

/// Four windows with problems; line numbers on the right are the file's.
const BAD_WINDOWS: &str = r#"[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"

[[slo]]
service = "svc"
name = "a"
objective = 99.9
period = "7d"
[slo.sli.ratio]
errors = 'e_total'
total = 't_total'
[[slo.alerting.windows]]
severity = "pgae"
short = "1h"
long = "1h"
factor = 14.4
[[slo.alerting.windows]]
severity = "ticket"
short = "90s"
long = "14d"
budget_share = 2
factor = 1
[[slo.alerting.windows]]
severity = "ticket"
shrt = "6h"
long = "3d"
budget_share = 0
[[slo.alerting.windows]]
short = "5m"
long = "1h"
"#;

#[test]
fn every_window_problem_is_reported_at_its_place() {
    let errors = errors(BAD_WINDOWS);
    assert_eq!(
        positions(&errors),
        vec![
            (14, 12, InvalidValue), // severity "pgae"
            (15, 9, InvalidValue),  // short 1h not shorter than long 1h
            (20, 9, InvalidValue),  // short 90s: not whole minutes
            (21, 8, InvalidValue),  // long 14d longer than the 7d period
            (23, 10, Conflict),     // budget_share and factor
            (26, 1, UnknownKey),    // shrt
            (28, 16, InvalidValue), // budget_share 0
            (29, 1, Missing),       // severity
            (29, 1, Missing),       // budget_share or factor
        ],
        "{errors}"
    );
    assert!(
        find(&errors, "\"pgae\"")
            .message()
            .contains("did you mean \"page\"?"),
        "{errors}"
    );
    find(
        &errors,
        "the short window 1h must be shorter than the long window 1h",
    );
    find(
        &errors,
        "the short window 1m30s must be whole minutes and at least 1m",
    );
    find(
        &errors,
        "the long window 14d is longer than this SLO's period 7d",
    );
    let typo = find(&errors, "`shrt`").message();
    assert!(
        typo.contains("in [[slo.alerting.windows]] (did you mean `short`?)"),
        "{typo}"
    );
    assert!(
        typo.contains("valid keys here: severity, short, long, budget_share, factor"),
        "{typo}"
    );
    // The misspelt `short` is not also reported missing, and the third window's `long` is fine.
    assert!(!errors.iter().any(|e| e.message().contains("needs `short`")));
}

#[test]
fn windows_must_fit_in_the_effective_period() {
    // `slo` goes before the SLO's SLI (plain keys), `tail` after it (its own windows).
    let text = |defaults_period: &str, long: &str, slo: &str, tail: &str| {
        format!(
            r#"[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"

[defaults]
period = "{defaults_period}"
[[defaults.alerting.windows]]
severity = "ticket"
short = "6h"
long = "{long}"
factor = 1

[[slo]]
service = "svc"
name = "a"
objective = 99.9
{slo}[slo.sli.ratio]
errors = 'e_total'
total = 't_total'
{tail}"#
        )
    };
    // Inherited windows fit the inherited 28d period.
    let config = parse(&text("28d", "7d", "", "")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.slos[0].period, Duration::from_secs(28 * 86_400));

    // The SLO's own shorter period: reported at the SLO's period, naming the window's place.
    let short_period = errors(&text("28d", "7d", "period = \"5d\"\n", ""));
    assert_eq!(
        positions(&short_period),
        vec![(17, 10, InvalidValue)],
        "{short_period}"
    );
    assert!(
        short_period[0].message().contains(
            "period 5d is shorter than the long window 7d this SLO inherits from \
             [[defaults.alerting.windows]] at burnwatch.toml:10:8"
        ),
        "{short_period}"
    );

    // Its own windows replace the inherited ones, so the short period is fine then.
    let own = "[[slo.alerting.windows]]\nseverity = \"page\"\nshort = \"5m\"\nlong = \"1h\"\nfactor = 14.4\n";
    let config =
        parse(&text("28d", "7d", "period = \"5d\"\n", own)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.slos[0].alerting.windows.as_ref().unwrap().len(), 1);

    // The defaults' windows against the defaults' period, reported once at the window.
    let defaults_period = errors(&text("5d", "7d", "", ""));
    assert_eq!(
        positions(&defaults_period),
        vec![(10, 8, InvalidValue)],
        "{defaults_period}"
    );
    find(
        &defaults_period,
        "the long window 7d is longer than the [defaults] period 5d",
    );

    // An SLO's own window against the period it inherits from [defaults].
    let own = "[[slo.alerting.windows]]\nseverity = \"page\"\nshort = \"1h\"\nlong = \"4d\"\nfactor = 2\n";
    let inherited_period = errors(&text("3d", "3d", "", own));
    assert_eq!(
        positions(&inherited_period),
        vec![(23, 8, InvalidValue)],
        "{inherited_period}"
    );
    find(
        &inherited_period,
        "the long window 4d is longer than the [defaults] period 3d",
    );
}

#[test]
fn scalar_problems_are_all_reported_with_a_hint() {
    let text = format!(
        "{}[slo.alerting]\nname = \"\"\nfor = 5\nmin_events = -1\nno_data = false\nno_data_for = \"10m\"\nbudget_exhausted = 100\nannotations = {{ runbook = \"\", \"bad-name\" = \"x\" }}\nwindows = []\npage = \"yes\"\nnodata_for = \"1m\"\n",
        one_slo("")
    );
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![
            (13, 8, InvalidValue),  // name ""
            (14, 7, InvalidType),   // for = 5
            (15, 14, InvalidValue), // min_events -1
            (17, 15, Conflict),     // no_data_for with no_data = false
            (18, 20, InvalidValue), // budget_exhausted 100
            (19, 27, InvalidValue), // empty runbook
            (19, 31, InvalidValue), // "bad-name"
            (20, 11, InvalidValue), // windows = []
            (21, 8, InvalidType),   // page = "yes"
            (22, 1, UnknownKey),    // nodata_for
        ],
        "{errors}"
    );
    for needle in [
        "alert `name` is empty",
        "(write a duration string, e.g. for = \"5m\")",
        "min_events -1 must be 0 or more",
        "has no effect with no_data = false",
        "annotation `runbook` in [slo.alerting] is empty",
        "`bad-name` in the annotations of [slo.alerting] is not an annotation name",
        "`windows` is empty",
        "(write true or false)",
        "did you mean `no_data_for`?",
    ] {
        find(&errors, needle);
    }
}

#[test]
fn problems_in_the_defaults_are_reported_once_and_name_the_table() {
    let text = format!(
        "[defaults.alerting]\nmin_evnts = 5\nkeep_firing_for = \"soon\"\n\n{}\n[[slo]]\nservice = \"svc\"\nname = \"b\"\n{}",
        one_slo(""),
        common::RATIO
    );
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![(2, 1, UnknownKey), (3, 19, InvalidValue)],
        "two SLOs inherit the bad defaults, yet each problem is reported once: {errors}"
    );
    assert!(
        errors[0].message().contains(
            "unknown key `min_evnts` in [defaults.alerting] (did you mean `min_events`?)"
        ),
        "{errors}"
    );
    find(&errors, "`keep_firing_for`: `soon` is not a duration");
}

/// An SLO `svc-a` whose `[slo.alerting]` holds `alerting`, under `defaults`.
fn with_alerting(defaults: &str, alerting: &str) -> String {
    format!(
        "{}{defaults}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{}[slo.alerting]\n{alerting}",
        common::BACKEND,
        common::RATIO
    )
}

#[test]
fn alert_labels_merge_per_key_and_per_severity_and_reach_the_slo_identity() {
    let text = with_alerting(
        "[defaults.alerting]\nlabels = { team = \"payments\", category = \"x\" }\n\
         page_labels = { severity = \"critical\" }\n",
        "labels = { category = \"availability\" }\n\
         ticket_labels = { severity = \"warning\", channel = \"#slo\" }\n\
         page_annotations = { runbook = \"https://runbooks/page\" }\n",
    );
    let config = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let extras = &config.slos[0].alerting.extras;
    assert_eq!(
        extras.labels,
        annotations(&[("team", "payments"), ("category", "availability")])
    );
    assert_eq!(extras.page_labels, annotations(&[("severity", "critical")]));
    let info = burnwatch_spec::slo_info(&config.slos[0]);
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // The common labels under each severity's own, as Sloth writes them on its two rules.
    assert_eq!(
        info.alert_extras.labels(Severity::Page),
        pairs(&[
            ("category", "availability"),
            ("severity", "critical"),
            ("team", "payments")
        ])
    );
    assert_eq!(
        info.alert_extras.labels(Severity::Ticket),
        pairs(&[
            ("category", "availability"),
            ("channel", "#slo"),
            ("severity", "warning"),
            ("team", "payments"),
        ])
    );
    assert_eq!(
        info.alert_extras.annotations(Severity::Page),
        pairs(&[("runbook", "https://runbooks/page")])
    );
    assert!(info.alert_extras.annotations(Severity::Ticket).is_empty());
}

#[test]
fn alert_labels_burnwatch_sets_itself_or_bad_names_are_refused_at_their_place() {
    let text = with_alerting(
        "",
        "labels = { sloth_severity = \"x\" }\npage_labels = { \"bad-name\" = \"y\" }\n",
    );
    let errors = errors(&text);
    let reserved = find(&errors, "`sloth_severity` in `labels`");
    assert!(reserved.message().contains("set by burnwatch"), "{errors}");
    let bad = find(&errors, "`bad-name` in `page_labels`");
    assert_eq!(bad.kind(), InvalidValue);
    assert_eq!(errors.len(), 2, "{errors}");
}
