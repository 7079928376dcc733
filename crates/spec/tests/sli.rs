//! The four SLI kinds and their rules.

mod common;

use burnwatch_spec::ErrorKind::*;
use burnwatch_spec::Sli;
use common::{BACKEND, errors, find, parse, positions};

/// One SLO `svc-a` whose SLI section is `sli` (starting on line 9).
fn with_sli(sli: &str) -> String {
    format!("{BACKEND}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\nobjective = 99.5\n{sli}")
}

fn sli_of(sli: &str) -> Sli {
    let config = parse(&with_sli(sli)).unwrap_or_else(|e| panic!("{e}"));
    config.slos[0].sli.clone()
}

#[test]
fn ratio_with_good_and_total() {
    let Sli::Ratio {
        errors: None,
        good: Some(good),
        total,
    } = sli_of("[slo.sli.ratio]\ngood = 'req_total{code!~\"5..\"}'\ntotal = \"req_total\"\n")
    else {
        panic!("expected good/total");
    };
    assert_eq!(good.render(), r#"req_total{code!~"5.."}"#);
    assert_eq!(total.render(), "req_total");
}

#[test]
fn events_templates() {
    let sli = sli_of(
        "[slo.sli.events]\nerror_query = 'sum(rate(e[{{.window}}]))'\ntotal_query = 'sum(rate(t[{{ .window }}]))'\n",
    );
    let Sli::Events {
        error_query,
        total_query,
    } = sli
    else {
        panic!("expected events: {sli:?}")
    };
    assert_eq!(error_query.render("30d"), "sum(rate(e[30d]))");
    assert_eq!(total_query.render("5m"), "sum(rate(t[5m]))");
    assert_eq!(total_query.text(), "sum(rate(t[{{ .window }}]))");
}

#[test]
fn raw_error_ratio_template() {
    let sli = sli_of("[slo.sli.raw]\nerror_ratio_query = '1 - avg_over_time(up[{{.window}}])'\n");
    let Sli::Raw { error_ratio_query } = sli else {
        panic!("expected raw: {sli:?}")
    };
    assert_eq!(error_ratio_query.render("1h"), "1 - avg_over_time(up[1h])");
}

#[test]
fn templates_need_the_window_placeholder() {
    let errors = errors(&with_sli(
        "[slo.sli.events]\nerror_query = 'sum(rate(e[5m]))'\ntotal_query = 'sum(rate(t[{{.win}}]))'\n",
    ));
    assert_eq!(
        positions(&errors),
        vec![(10, 15, InvalidValue), (11, 15, InvalidValue)],
        "{errors}"
    );
    assert!(
        errors[0].message().contains("no `{{.window}}` placeholder"),
        "{errors}"
    );
    assert!(
        errors[1]
            .message()
            .contains("unknown placeholder `{{.win}}`"),
        "{errors}"
    );
}

#[test]
fn events_need_both_queries_and_raw_its_query() {
    let errors = errors(&with_sli("[slo.sli.events]\n"));
    assert_eq!(
        positions(&errors),
        vec![(9, 1, Missing), (9, 1, Missing)],
        "{errors}"
    );
    find(&errors, "`error_query`");
    find(&errors, "`total_query`");
    let errors = self::errors(&with_sli("[slo.sli.raw]\n"));
    assert!(
        errors[0].message().contains("needs `error_ratio_query`"),
        "{errors}"
    );
}

#[test]
fn exactly_one_sli_kind() {
    let none = errors(&with_sli(""));
    assert_eq!(positions(&none), vec![(5, 1, Missing)], "{none}");
    assert!(
        none[0]
            .message()
            .contains("[slo.sli.ratio], [slo.sli.latency]"),
        "{none}"
    );

    let two = errors(&with_sli(
        "[slo.sli.raw]\nerror_ratio_query = 'x[{{.window}}]'\n[slo.sli.latency]\nhistogram = 'h'\nle = \"1\"\n",
    ));
    assert_eq!(positions(&two), vec![(9, 6, Conflict)], "{two}");
    assert!(
        two[0]
            .message()
            .contains("(latency, raw); give exactly one"),
        "{two}"
    );
}

#[test]
fn latency_histogram_rules() {
    let suffixed = errors(&with_sli(
        "[slo.sli.latency]\nhistogram = 'h_seconds_bucket{a=\"b\"}'\nle = \"0.5\"\n",
    ));
    assert!(
        find(&suffixed, "without its suffix")
            .message()
            .contains("`h_seconds`"),
        "{suffixed}"
    );

    let le_matcher = errors(&with_sli(
        "[slo.sli.latency]\nhistogram = 'h{le=\"0.5\"}'\nle = \"0.5\"\n",
    ));
    find(&le_matcher, "must not match on `le`");

    let bad_le = errors(&with_sli(
        "[slo.sli.latency]\nhistogram = 'h'\nle = \"fast\"\n",
    ));
    assert_eq!(positions(&bad_le), vec![(11, 6, InvalidValue)], "{bad_le}");

    let grouped_by_le = errors(&with_sli(
        "group_by = [\"le\"]\n[slo.sli.latency]\nhistogram = 'h'\nle = \"+Inf\"\n",
    ));
    find(&grouped_by_le, "cannot be grouped by `le`");
}

#[test]
fn labels_and_group_by_use_label_names() {
    let errors = errors(&with_sli(
        "labels = { \"bad-name\" = \"x\", sloth_id = \"y\", __x = \"z\" }\ngroup_by = [\"route\", \"route\", \"9x\", \"team\"]\n[slo.sli.raw]\nerror_ratio_query = 'x[{{.window}}]'\n",
    ).replace("labels = { ", "labels = { team = \"t\", "));
    let messages: Vec<&str> = errors.iter().map(|e| e.message()).collect();
    assert_eq!(errors.len(), 6, "{errors}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`bad-name` is not a label name")),
        "{errors}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`sloth_id` is reserved")),
        "{errors}"
    );
    assert!(
        messages.iter().any(|m| m.contains("`__x` is reserved")),
        "{errors}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`route` is listed twice")),
        "{errors}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`9x` is not a label name")),
        "{errors}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`team` is both in group_by and in labels")),
        "{errors}"
    );
}

#[test]
fn service_and_name_must_be_usable_in_ids() {
    let errors = errors(
        &with_sli("[slo.sli.raw]\nerror_ratio_query = 'x[{{.window}}]'\n")
            .replace("\"svc\"", "\"my svc\""),
    );
    assert_eq!(positions(&errors), vec![(6, 11, InvalidValue)], "{errors}");
}
