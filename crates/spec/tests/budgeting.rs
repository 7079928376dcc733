//! Budgeting methods and the SLIs judged per time slice: `budgeting`, `slice`, `slice_target`,
//! `[slo.sli.threshold]` and `[slo.sli.bool_gauge]`, and their errors at `line:col`.

mod common;

use std::time::Duration;

use burnwatch_engine::{Comparison, SliceRule, Slicing};
use burnwatch_spec::ErrorKind::*;
use burnwatch_spec::Sli;
use common::{BACKEND, errors, find, one_slo, parse, positions};

const MINUTE: Duration = Duration::from_secs(60);

/// `BACKEND` and one SLO `svc-a` with `keys` (whole lines) and then the SLI table `sli`.
/// `[[slo]]` is line 5; `keys` start at line 8.
fn slo_with(keys: &str, sli: &str) -> String {
    format!("{BACKEND}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{keys}objective = 99\n{sli}")
}

const THRESHOLD: &str = "[slo.sli.threshold]\n\
    query = 'histogram_quantile(0.99, sum by (le) (rate(d_bucket[5m])))'\nop = \"lt\"\nvalue = 0.3\n";

const GAUGE: &str = "[slo.sli.bool_gauge]\nselector = 'up{job=\"api\"}'\n";

#[test]
fn occurrences_stay_the_default() {
    let config = parse(&one_slo("")).unwrap();
    assert_eq!(config.slos[0].slicing, None);
    let config = parse(&one_slo("budgeting = \"occurrences\"\n")).unwrap();
    assert_eq!(config.slos[0].slicing, None);
}

#[test]
fn time_slices_of_a_ratio_sli_need_a_target_in_percent() {
    let config = parse(&one_slo(
        "budgeting = \"timeslices\"\nslice = \"5m\"\nslice_target = 95\n",
    ))
    .unwrap();
    assert_eq!(
        config.slos[0].slicing,
        Some(Slicing {
            length: 5 * MINUTE,
            rule: SliceRule::Target(0.95)
        })
    );
    // The slice defaults to a minute.
    let config = parse(&one_slo(
        "budgeting = \"timeslices\"\nslice_target = 99.5\n",
    ))
    .unwrap();
    assert_eq!(
        config.slos[0].slicing,
        Some(Slicing {
            length: MINUTE,
            rule: SliceRule::Target(0.995)
        })
    );
    let config = parse(&one_slo("budgeting = \"ratio_timeslices\"\n")).unwrap();
    assert_eq!(
        config.slos[0].slicing,
        Some(Slicing {
            length: MINUTE,
            rule: SliceRule::Ratio
        })
    );
}

#[test]
fn a_threshold_sli_is_judged_per_slice() {
    let config = parse(&slo_with("slice = \"2m\"\n", THRESHOLD)).unwrap();
    let slo = &config.slos[0];
    assert_eq!(
        slo.slicing,
        Some(Slicing {
            length: 2 * MINUTE,
            rule: SliceRule::Verdict
        })
    );
    let Sli::Threshold { query, op, value } = &slo.sli else {
        panic!("{:?}", slo.sli)
    };
    assert_eq!(
        query,
        "histogram_quantile(0.99, sum by (le) (rate(d_bucket[5m])))"
    );
    assert_eq!((*op, *value), (Comparison::Lt, 0.3));
}

#[test]
fn a_bool_gauge_counts_samples_or_slices() {
    let config = parse(&slo_with("", GAUGE)).unwrap();
    let slo = &config.slos[0];
    let Sli::BoolGauge { selector } = &slo.sli else {
        panic!("{:?}", slo.sli)
    };
    assert_eq!(selector.render(), r#"up{job="api"}"#);
    assert_eq!(slo.slicing, None);
    let config = parse(&slo_with(
        "budgeting = \"timeslices\"\nslice_target = 100\n",
        GAUGE,
    ))
    .unwrap();
    assert_eq!(
        config.slos[0].slicing,
        Some(Slicing {
            length: MINUTE,
            rule: SliceRule::Target(1.0)
        })
    );
}

#[test]
fn budgeting_keys_are_checked_at_their_place() {
    // Lines: 8 budgeting, 9 slice.
    let e = errors(&slo_with(
        "budgeting = \"timeslice\"\nslice = \"7m\"\n",
        common::RATIO.trim_start_matches("objective = 99.9\n"),
    ));
    let unknown = find(&e, "budgeting \"timeslice\" is not a budgeting method");
    assert!(unknown.message().contains("did you mean \"timeslices\""));
    assert_eq!(positions(&e), vec![(8, 13, InvalidValue)]);

    let e = errors(&one_slo("budgeting = \"timeslices\"\nslice = \"7m\"\n"));
    find(
        &e,
        "slice \"7m\" must be a whole number of minutes that divides an hour",
    );
    let missing = find(&e, "needs `slice_target`");
    assert_eq!(missing.kind(), Missing);
    assert_eq!(positions(&e), vec![(5, 1, Missing), (9, 9, InvalidValue)]);
}

#[test]
fn slice_keys_without_time_slices_are_refused() {
    let e = errors(&one_slo("slice = \"1m\"\n"));
    find(&e, "`slice` applies to time-slice budgeting");
    assert_eq!(positions(&e), vec![(8, 1, InvalidValue)]);
    let e = errors(&one_slo(
        "budgeting = \"ratio_timeslices\"\nslice_target = 95\n",
    ));
    find(&e, "`slice_target` is not used here");
    assert_eq!(positions(&e), vec![(9, 1, InvalidValue)]);
    let e = errors(&slo_with("slice_target = 95\n", THRESHOLD));
    find(&e, "judged by its comparison");
}

#[test]
fn a_slice_target_written_as_a_ratio_gets_a_hint() {
    let e = errors(&one_slo(
        "budgeting = \"timeslices\"\nslice_target = 0.95\n",
    ));
    let hint = find(&e, "slice_target 0.95 must be a percentage");
    assert!(hint.message().contains("write 95 for 95%"), "{hint}");
    assert_eq!(positions(&e), vec![(9, 16, InvalidValue)]);
}

#[test]
fn a_threshold_sli_takes_time_slices_only() {
    let e = errors(&slo_with("budgeting = \"occurrences\"\n", THRESHOLD));
    find(&e, "a threshold SLI is judged once per time slice");
    assert_eq!(positions(&e), vec![(8, 1, InvalidValue)]);
}

#[test]
fn a_raw_sli_cannot_be_sliced() {
    let raw = "[slo.sli.raw]\nerror_ratio_query = 'sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))'\n";
    let e = errors(&slo_with("budgeting = \"ratio_timeslices\"\n", raw));
    find(&e, "a `raw` SLI's error ratio is computed by the backend");
}

#[test]
fn threshold_and_gauge_keys_are_checked() {
    // Lines: 9 [slo.sli.threshold], 10 query, 11 op, 12 value.
    let e = errors(&slo_with(
        "",
        "[slo.sli.threshold]\nquery = 'x{{.window}}'\nop = \"lower\"\nvalue = nan\n",
    ));
    find(&e, "takes no {{.window}} template");
    find(&e, "op \"lower\" is not a comparison");
    find(&e, "`value` must be a finite number");
    assert_eq!(
        positions(&e),
        vec![
            (10, 9, InvalidValue),
            (11, 6, InvalidValue),
            (12, 9, InvalidValue)
        ]
    );
    let e = errors(&slo_with("", "[slo.sli.threshold]\n"));
    for key in ["`query`", "`op`", "`value`"] {
        find(&e, &format!("needs {key}"));
    }
    let e = errors(&slo_with("", "[slo.sli.bool_gauge]\nselector = 'up{'\n"));
    find(&e, "`selector` is not a valid selector");
    let e = errors(&slo_with("", &format!("{GAUGE}{THRESHOLD}")));
    find(&e, "gives 2 SLI kinds (threshold, bool_gauge)");
}
