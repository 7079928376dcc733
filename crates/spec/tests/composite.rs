//! `[[composite]]`: components resolved into an ordinary SLO, and every problem at its place.

mod common;

use burnwatch_spec::ErrorKind::*;
use burnwatch_spec::Sli;
use common::{BACKEND, errors, find, parse, positions};

/// Three SLOs: `shop-cart`, `shop-pay` (grouped by region) and `shop-confirm`; lines 1-25.
fn slos() -> String {
    let slo = |name: &str, extra: &str| {
        format!(
            "[[slo]]\nservice = \"shop\"\nname = \"{name}\"\nobjective = 99.9\n{extra}[slo.sli.ratio]\nerrors = 'e_total{{slo=\"{name}\"}}'\ntotal = 't_total{{slo=\"{name}\"}}'\n"
        )
    };
    format!(
        "{BACKEND}{}{}{}",
        slo("cart", ""),
        slo("pay", "group_by = [\"region\"]\n"),
        slo("confirm", "")
    )
}

/// The SLOs, then `composite` (its `[[composite]]` line is line 27).
fn with(composite: &str) -> String {
    format!("{}\n{composite}", slos())
}

const JOURNEY: &str = r#"[[composite]]
service = "shop"
name = "journey"
objective = 99.5
components = [
  { slo = "shop-cart", weight = 2 },
  { slo = "shop-pay", labels = { region = "eu" } },
  { slo = "shop-confirm", weight = 1.5 },
]
"#;

#[test]
fn a_composite_is_an_slo_over_its_components() {
    let config = parse(&with(JOURNEY)).unwrap_or_else(|e| panic!("{e}"));
    let journey = config.slos.last().unwrap();
    assert_eq!(journey.id, "shop-journey");
    assert_eq!(journey.objective.budget(), 0.005);
    assert_eq!(journey.location, "burnwatch.toml:27:1");
    assert!(journey.group_by.is_empty());
    let Sli::Composite { components, .. } = &journey.sli else {
        panic!("{:?}", journey.sli)
    };
    let shown: Vec<(String, f64)> = components.iter().map(|c| (c.display(), c.weight)).collect();
    assert_eq!(
        shown,
        [
            ("shop-cart".to_string(), 2.0),
            ("shop-pay{region=\"eu\"}".to_string(), 1.0),
            ("shop-confirm".to_string(), 1.5),
        ]
    );
}

#[test]
fn unknown_ids_are_errors_with_a_suggestion() {
    let errors = errors(&with(
        &JOURNEY.replace("\"shop-confirm\"", "\"shop-confirn\""),
    ));
    let e = find(&errors, "shop-confirn");
    assert_eq!((e.location().line, e.location().col), (34, 11));
    assert!(e.message().contains("did you mean `shop-confirm`?"), "{e}");
}

#[test]
fn weights_must_be_finite_and_above_zero() {
    for bad in ["0", "-1", "nan", "inf"] {
        let text = with(&JOURNEY.replace("weight = 2", &format!("weight = {bad}")));
        let errors = errors(&text);
        assert_eq!(positions(&errors), [(32, 33, InvalidValue)], "{errors}");
        assert!(
            errors[0].message().contains("must be a number above 0"),
            "{errors}"
        );
    }
}

#[test]
fn components_must_be_given_and_not_empty() {
    let errors = errors(&with(
        "[[composite]]\nservice = \"shop\"\nname = \"journey\"\nobjective = 99.5\n",
    ));
    assert_eq!(positions(&errors), [(27, 1, Missing)], "{errors}");
    assert!(errors[0].message().contains("needs `components`"));
    let errors = errors_of(
        "[[composite]]\nservice = \"shop\"\nname = \"journey\"\nobjective = 99.5\ncomponents = []\n",
    );
    assert_eq!(positions(&errors), [(31, 14, InvalidValue)], "{errors}");
}

fn errors_of(composite: &str) -> burnwatch_spec::Errors {
    errors(&with(composite))
}

#[test]
fn a_grouped_slo_needs_its_instance_and_an_ungrouped_one_no_labels() {
    let errors = errors_of(&JOURNEY.replace(", labels = { region = \"eu\" }", ""));
    let e = find(&errors, "grouped by region");
    assert_eq!((e.location().line, e.location().col), (33, 11));
    assert!(e.message().contains("labels = { region = \"...\" }"), "{e}");
    let errors = errors_of(&JOURNEY.replace(
        "{ slo = \"shop-cart\", weight = 2 }",
        "{ slo = \"shop-cart\", labels = { region = \"eu\" } }",
    ));
    find(&errors, "`shop-cart` is not grouped");
}

#[test]
fn a_composite_cannot_contain_itself() {
    let errors = errors_of(&JOURNEY.replace("\"shop-cart\"", "\"shop-journey\""));
    let e = find(&errors, "lists itself");
    assert_eq!((e.location().line, e.location().col), (32, 11));

    // Through another composite: journey -> checkout -> journey.
    let two = format!(
        "{JOURNEY}\n[[composite]]\nservice = \"shop\"\nname = \"checkout\"\nobjective = 99\ncomponents = [{{ slo = \"shop-journey\" }}]\n"
    )
    .replace("{ slo = \"shop-cart\", weight = 2 }", "{ slo = \"shop-checkout\" }");
    let errors = errors_of(&two);
    let e = find(&errors, "cycle");
    assert!(
        e.message()
            .contains("shop-journey → shop-checkout → shop-journey"),
        "{e}"
    );
    assert_eq!((e.location().line, e.location().col), (32, 11));
    assert_eq!(errors.len(), 1, "one cycle, one error:\n{errors}");
}

#[test]
fn composites_may_nest_without_a_cycle() {
    let nested = format!(
        "{JOURNEY}\n[[composite]]\nservice = \"shop\"\nname = \"all\"\nobjective = 99\ncomponents = [{{ slo = \"shop-journey\" }}, {{ slo = \"shop-cart\" }}]\n"
    );
    let config = parse(&with(&nested)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.slos.last().unwrap().id, "shop-all");
}

#[test]
fn ids_are_shared_with_slos() {
    let errors = errors_of(&JOURNEY.replace("\"journey\"", "\"cart\""));
    let e = find(&errors, "already used");
    assert_eq!(
        (e.location().line, e.location().col, e.kind()),
        (27, 1, Duplicate)
    );
}

#[test]
fn the_same_component_twice_is_an_error() {
    let errors = errors_of(&JOURNEY.replace("\"shop-confirm\"", "\"shop-cart\""));
    let e = find(&errors, "listed twice");
    assert_eq!(
        (e.location().line, e.location().col, e.kind()),
        (34, 11, Duplicate)
    );
}

#[test]
fn a_time_slice_composite_reads_time_slice_components() {
    // Components under occurrences cannot be judged per slice: one error per component.
    let sliced = JOURNEY.replace("objective", "budgeting = \"timeslices\"\nobjective");
    let errors = errors_of(&sliced);
    assert_eq!(errors.len(), 3, "{errors}");
    assert!(
        errors[0]
            .message()
            .contains("`shop-cart` does not budget by time slices"),
        "{errors}"
    );
    // With every component on one-minute slices it is valid, carries their definitions and
    // judges slices of their length.
    let text = slos().replace(
        "objective = 99.9\n",
        "objective = 99.9\nbudgeting = \"timeslices\"\nslice_target = 95\n",
    ) + "\n"
        + &sliced;
    let config = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let journey = config.slos.last().unwrap();
    let Sli::Composite { parts, .. } = &journey.sli else {
        panic!("{:?}", journey.sli)
    };
    let ids: Vec<&str> = parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["shop-cart", "shop-pay", "shop-confirm"]);
    let slicing = journey.slicing.expect("time slices");
    assert_eq!(slicing.length, std::time::Duration::from_secs(60));
    assert_eq!(slicing.rule, burnwatch_engine::SliceRule::Verdict);
    // Different slice lengths are refused at the component that differs.
    let mixed = text.replacen(
        "slice_target = 95\n",
        "slice_target = 95\nslice = \"5m\"\n",
        1,
    );
    let errors = common::errors(&mixed);
    assert_eq!(errors.len(), 2, "{errors}");
    assert!(
        errors[0]
            .message()
            .contains("`shop-pay` has 1m-slices and `shop-cart` 5m-slices"),
        "{errors}"
    );
    // Ratio time slices are not a composite's method.
    let errors =
        errors_of(&JOURNEY.replace("objective", "budgeting = \"ratio_timeslices\"\nobjective"));
    assert_eq!(positions(&errors), [(30, 13, InvalidValue)], "{errors}");
}

#[test]
fn periods_and_windows_must_match_the_components() {
    let errors = errors_of(&JOURNEY.replace("objective", "period = \"28d\"\nobjective"));
    assert_eq!(errors.len(), 3, "one per component:\n{errors}");
    let e = &errors[0];
    assert!(e.message().contains("`shop-cart` has a 30d period"), "{e}");

    // A window its alerting reads that the components do not keep.
    let windows = JOURNEY.to_string()
        + "[[composite.alerting.windows]]\nseverity = \"page\"\nshort = \"10m\"\nlong = \"2h\"\nfactor = 10\n";
    let errors = errors_of(&windows);
    assert_eq!(errors.len(), 3, "{errors}");
    assert!(
        errors[0].message().contains("the 10m window"),
        "{}",
        errors[0]
    );

    let calendar = format!("{BACKEND}[defaults]\ncalendar = \"month\"\n\n{JOURNEY}");
    let problems = common::errors(&calendar);
    find(&problems, "calendar = \"month\"");
}

#[test]
fn unknown_keys_say_what_a_composite_takes() {
    let errors = errors_of(&JOURNEY.replace("objective", "group_by = [\"x\"]\nobjective"));
    let e = find(&errors, "unknown key `group_by` in [[composite]]");
    assert_eq!(
        (e.location().line, e.location().col, e.kind()),
        (30, 1, UnknownKey)
    );
    let errors = errors_of(&JOURNEY.replace("weight = 2", "wieght = 2"));
    find(&errors, "did you mean `weight`?");
}
