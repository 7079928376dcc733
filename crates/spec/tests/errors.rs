//! Every problem is reported in one run, each at its exact `line:col`, saying what is valid.

mod common;

use std::path::Path;

use burnwatch_spec::ErrorKind::{self, *};
use common::{BACKEND, errors, find, one_slo, positions};

/// Problems in different sections and SLOs; line numbers are counted by hand below.
const MANY_PROBLEMS: &str = r#"[server]
listen = "127.0.0.1:9464"

[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"
timeout = 10

[defaults]
period = "1d"

[[slo]]
service = "checkout"
name = "availability"
objectiv = 99.9
[slo.sli.ratio]
errors = 'http_requests_total{code=~"5.."}'
total = 'http_requests_total'

[[slo]]
service = "checkout"
name = "latency"
objective = 150
[slo.sli.latency]
histogram = 'http_request_duration_seconds'
le = "0.3"
group = "x"

[[slo]]
service = "payments"
name = "availability"
objective = 99.5
[slo.sli.ratio]
errors = 'payments_total{code=~"5.."}'
good = 'payments_total{code!~"5.."}'
total = 'payments_total'
"#;

#[test]
fn problems_in_different_slos_are_all_reported_with_their_positions() {
    let errors = errors(MANY_PROBLEMS);
    assert_eq!(
        positions(&errors),
        vec![
            (7, 11, InvalidType),   // timeout = 10: a number, not a duration string
            (10, 10, InvalidValue), // period "1d" shorter than 3d
            (15, 1, UnknownKey),    // objectiv
            (23, 13, InvalidValue), // objective 150
            (27, 1, UnknownKey),    // group in [slo.sli.latency]
            (35, 8, Conflict),      // errors, good and total
        ],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(
        text.contains(
            "burnwatch.toml:23:13: objective 150 must be between 0 and 100 (exclusive), e.g. 99.9"
        ),
        "{text}"
    );
    assert!(
        text.contains("burnwatch.toml:10:10: period 1d is shorter than 3d"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 6);
}

#[test]
fn unknown_keys_suggest_the_closest_and_list_the_valid_ones() {
    let errors = errors(MANY_PROBLEMS);
    let typo = find(&errors, "objectiv`");
    assert_eq!(typo.kind(), UnknownKey);
    assert!(
        typo.message().contains("did you mean `objective`?"),
        "{}",
        typo.message()
    );
    assert!(
        typo.message()
            .contains("valid keys here: service, name, objective,"),
        "{}",
        typo.message()
    );
    // A misspelt key is not additionally reported as a missing `objective`.
    assert!(!errors.iter().any(|e| e.kind() == Missing), "{errors}");

    let nested = find(&errors, "`group`");
    assert!(
        nested.message().contains("in [slo.sli.latency]"),
        "{}",
        nested.message()
    );
    assert!(
        nested.message().contains("valid keys here: histogram, le"),
        "{}",
        nested.message()
    );
}

#[test]
fn unknown_sections_and_sli_kinds_get_suggestions() {
    let errors = errors(&format!(
        "{BACKEND}[defualts]\nperiod = \"30d\"\n\n[[slo]]\nservice = \"a\"\nname = \"b\"\nobjective = 99.0\n[slo.sli.ratoi]\ntotal = 'x'\n"
    ));
    assert_eq!(
        positions(&errors),
        vec![(4, 2, UnknownKey), (11, 10, UnknownKey)],
        "{errors}"
    );
    assert!(
        errors[0].message().contains("did you mean `defaults`?"),
        "{errors}"
    );
    assert!(
        errors[0]
            .message()
            .contains("valid sections: server, backends, defaults, tiers, slo")
    );
    assert!(
        errors[1].message().contains("did you mean `ratio`?"),
        "{errors}"
    );
}

#[test]
fn every_unknown_key_in_one_table_is_reported() {
    let errors = errors(&one_slo("colour = \"red\"\nsize = 3\ndescription = 5\n"));
    assert_eq!(
        positions(&errors),
        vec![
            (8, 1, UnknownKey),
            (9, 1, UnknownKey),
            (10, 15, InvalidType)
        ],
        "{errors}"
    );
}

#[test]
fn objective_must_be_strictly_between_0_and_100() {
    for (objective, ok) in [
        ("150", false),
        ("0", false),
        ("100", false),
        ("-1", false),
        ("nan", false),
        ("99.99", true),
        ("50", true),
    ] {
        let result = common::parse(
            &one_slo("").replace("objective = 99.9", &format!("objective = {objective}")),
        );
        match result {
            Ok(config) => assert!(ok, "objective {objective} accepted: {config:?}"),
            Err(errors) => {
                assert!(!ok, "objective {objective} rejected: {errors}");
                let error = find(&errors, "objective");
                assert_eq!(error.kind(), InvalidValue);
                assert_eq!((error.location().line, error.location().col), (8, 13));
                assert_eq!(
                    error.message(),
                    format!(
                        "objective {objective} must be between 0 and 100 (exclusive), e.g. 99.9"
                    )
                );
            }
        }
    }
}

#[test]
fn a_string_objective_says_to_write_a_number() {
    let errors = errors(&one_slo("").replace("objective = 99.9", "objective = \"99.9\""));
    assert_eq!(errors.len(), 1, "{errors}");
    assert_eq!(errors[0].kind(), InvalidType);
    assert!(errors[0].message().contains("objective = 99.9"), "{errors}");
}

#[test]
fn errors_good_and_total_together_say_which_to_drop() {
    let errors = errors(&one_slo("").replace("total =", "good = 'ok_total'\ntotal ="));
    assert_eq!(positions(&errors), vec![(11, 8, Conflict)], "{errors}");
    let message = errors[0].message();
    assert!(
        message.contains("drop `good`") && message.contains("drop `errors`"),
        "{message}"
    );
}

#[test]
fn ratio_needs_total_and_one_of_errors_or_good() {
    let no_total = errors(&one_slo("").replace("total = 'http_requests_total'\n", ""));
    assert_eq!(positions(&no_total), vec![(9, 1, Missing)], "{no_total}");
    assert!(
        no_total[0].message().contains("needs `total`"),
        "{no_total}"
    );

    let only_total =
        errors(&one_slo("").replace("errors = 'http_requests_total{code=~\"5..\"}'\n", ""));
    assert_eq!(
        positions(&only_total),
        vec![(9, 1, Missing)],
        "{only_total}"
    );
    assert!(
        only_total[0].message().contains("`errors`") && only_total[0].message().contains("`good`")
    );
}

#[test]
fn duplicate_ids_name_both_places() {
    let text = format!(
        "{BACKEND}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{}",
        common::RATIO,
        common::RATIO
    );
    let errors = errors(&text);
    assert_eq!(positions(&errors), vec![(13, 1, Duplicate)], "{errors}");
    assert!(errors[0].message().contains("`svc-a`"), "{errors}");
    assert!(
        errors[0].message().contains("burnwatch.toml:5:1"),
        "{errors}"
    );
}

#[test]
fn missing_required_keys_are_each_reported_at_the_table() {
    let errors = errors(&format!("{BACKEND}\n[[slo]]\n[slo.sli.latency]\n"));
    let missing: Vec<_> = errors.iter().filter(|e| e.kind() == Missing).collect();
    assert_eq!(missing.len(), 5, "{errors}"); // service, name, objective, histogram, le
    for key in ["`service`", "`name`", "`objective`"] {
        assert_eq!(find(&errors, key).location().line, 5);
    }
    for key in ["`histogram`", "`le`"] {
        assert_eq!(find(&errors, key).location().line, 6);
    }
}

#[test]
fn syntax_errors_are_all_reported_and_stop_semantic_checks() {
    let errors =
        errors("[server]\nlisten = \"127.0.0.1:9464\ncolour = 5\n\n[[slo]]\nobjective = \n");
    let syntax: Vec<_> = errors
        .iter()
        .filter(|e| e.kind() == Syntax)
        .map(|e| e.location().line)
        .collect();
    assert_eq!(syntax, [2, 6], "{errors}");
    assert!(
        errors
            .to_string()
            .starts_with("burnwatch.toml:2:25: invalid TOML: "),
        "{errors}"
    );
    // Keys and types are still checked; semantic checks (the SLO's missing keys) are not, as they
    // would report consequences of the syntax errors.
    assert!(
        errors
            .iter()
            .any(|e| e.kind() == UnknownKey && e.message().contains("`colour`")),
        "{errors}"
    );
    assert!(!errors.iter().any(|e| e.kind() == Missing), "{errors}");
}

#[test]
fn duplicate_tables_are_syntax_errors() {
    let errors = errors("[server]\nlisten = \"0.0.0.0:1\"\n[server]\nlisten = \"0.0.0.0:2\"\n");
    assert_eq!(errors[0].kind(), Syntax);
    assert_eq!(errors[0].location().line, 3, "{errors}");
}

#[test]
fn sections_of_the_wrong_shape_say_how_to_write_them() {
    let errors = errors("slo = 5\nserver = \"x\"\nbackends = []\n");
    assert_eq!(
        positions(&errors),
        vec![
            (1, 7, InvalidType),
            (2, 10, InvalidType),
            (3, 12, InvalidType)
        ],
        "{errors}"
    );
    assert!(errors[0].message().contains("[[slo]]"), "{errors}");
    let single = self::errors(&format!("{BACKEND}[slo]\nservice = \"a\"\n"));
    assert!(single[0].message().contains("double brackets"), "{single}");
}

#[test]
fn selector_errors_point_into_the_string() {
    let errors = errors(&one_slo("").replace("code=~\"5..\"", "code=5"));
    assert_eq!(positions(&errors), vec![(10, 36, InvalidValue)], "{errors}");
    assert!(
        errors[0]
            .message()
            .contains("`errors` is not a valid selector"),
        "{errors}"
    );
}

#[test]
fn every_slo_location_is_in_the_model() {
    let config = common::parse(&one_slo("")).unwrap();
    assert_eq!(config.slos[0].location, "burnwatch.toml:5:1");
}

#[test]
fn unreadable_files_name_the_path() {
    let path = Path::new("/nonexistent/burnwatch.toml");
    let errors = burnwatch_spec::load(path).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), ErrorKind::Io);
    let text = errors.to_string();
    assert!(
        text.starts_with("/nonexistent/burnwatch.toml: cannot read"),
        "{text}"
    );
}

#[test]
fn load_reads_a_file_and_reports_positions_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.toml");
    std::fs::write(&path, one_slo("").replace("99.9", "0")).unwrap();
    let errors = burnwatch_spec::load(&path).unwrap_err();
    assert_eq!(
        errors.to_string(),
        format!(
            "{}:8:13: objective 0 must be between 0 and 100 (exclusive), e.g. 99.9",
            path.display()
        )
    );
    let errors: &dyn std::error::Error = &errors;
    assert!(errors.to_string().contains("objective 0"));
}

#[test]
fn type_errors_speak_toml_not_rust() {
    let text = format!(
        "{BACKEND}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\nobjective = 99.9\nlabels = 5\ngroup_by = \"route\"\nsli = 5\n"
    );
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![
            (9, 10, InvalidType),
            (10, 12, InvalidType),
            (11, 7, InvalidType)
        ],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(
        !text.contains("Raw") && !text.contains("map") && !text.contains("sequence"),
        "{text}"
    );
    assert!(errors[2].message().contains("expected a table"), "{errors}");
    assert!(
        errors[1].message().contains("expected an array"),
        "{errors}"
    );
}
