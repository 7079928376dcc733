//! `[[slo.objective_schedule]]`: progressive objectives, the objective in force at an instant,
//! and every error at its `line:col`.

mod common;

use burnwatch_spec::ErrorKind::*;
use common::{BACKEND, errors, find, parse, positions};

/// One SLO at line 5 (`[[slo]]`), its SLI on lines 9-11, then `schedule` from line 12.
fn with_schedule(schedule: &str) -> String {
    format!(
        "{BACKEND}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\nobjective = 99\n[slo.sli.ratio]\n\
         errors = 'http_requests_total{{code=~\"5..\"}}'\ntotal = 'http_requests_total'\n{schedule}"
    )
}

const JAN_2027: i64 = 1_798_761_600_000;
const HOUR: i64 = 3_600_000;

#[test]
fn the_objective_in_force_is_the_last_step_at_or_before_the_instant() {
    let text = with_schedule(
        "[[slo.objective_schedule]]\nfrom = \"2027-01-01\"\nobjective = 99.5\n\
         [[slo.objective_schedule]]\nfrom = \"2027-01-01T09:00:00+01:00\"\nobjective = 99.9\n",
    );
    let slo = &parse(&text).unwrap_or_else(|e| panic!("{e}")).slos[0];
    let at = |ms| slo.objective_at(ms).percent();
    assert_eq!(at(JAN_2027 - 1), 99.0); // before the first step: the SLO's own
    assert_eq!(at(JAN_2027), 99.5); // a date is midnight UTC
    assert_eq!(at(JAN_2027 + 8 * HOUR - 1), 99.5);
    assert_eq!(at(JAN_2027 + 8 * HOUR), 99.9); // 09:00 at +01:00 is 08:00 UTC
    assert_eq!(at(i64::MAX), 99.9);
}

#[test]
fn a_tier_objective_holds_until_the_first_step() {
    let text = format!(
        "{BACKEND}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\ntier = \"standard\"\n\
         [slo.sli.ratio]\ntotal = 't'\nerrors = 'e'\n\
         [[slo.objective_schedule]]\nfrom = \"2027-01-01\"\nobjective = 99.9\n"
    );
    let slo = &parse(&text).unwrap_or_else(|e| panic!("{e}")).slos[0];
    assert_eq!(slo.objective_at(JAN_2027 - 1).percent(), 99.5);
    assert_eq!(slo.objective_at(JAN_2027).percent(), 99.9);
}

#[test]
fn unordered_and_repeated_dates_are_reported_at_the_offending_entry() {
    // Steps at lines 12, 15, 18, 21: `from` on 13, 16, 19, 22.
    let text = with_schedule(
        "[[slo.objective_schedule]]\nfrom = \"2027-06-01\"\nobjective = 99.5\n\
         [[slo.objective_schedule]]\nfrom = \"2027-01-01\"\nobjective = 99.9\n\
         [[slo.objective_schedule]]\nfrom = \"2027-07-01\"\nobjective = 99.9\n\
         [[slo.objective_schedule]]\nfrom = \"2027-07-01T00:00:00Z\"\nobjective = 99.95\n",
    );
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![(16, 8, InvalidValue), (22, 8, InvalidValue)],
        "{errors}"
    );
    assert_eq!(
        errors.iter().next().unwrap().to_string(),
        "burnwatch.toml:16:8: objective_schedule entries must be in increasing `from` order: \
         \"2027-01-01\" is not after the previous entry's \"2027-06-01\"; order them by date, \
         each date once"
    );
}

#[test]
fn bad_dates_objectives_and_missing_keys_are_reported_at_their_place() {
    // Steps at lines 12, 15, 17: `from` 13, objective 14; objective 16; from 18.
    let text = with_schedule(
        "[[slo.objective_schedule]]\nfrom = \"next year\"\nobjective = 100\n\
         [[slo.objective_schedule]]\nobjective = 99.9\n\
         [[slo.objective_schedule]]\nfrom = \"2027-01-01\"\nobjectiv = 99\n",
    );
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![
            (13, 8, InvalidValue),
            (14, 13, InvalidValue),
            (15, 1, Missing),
            // The misspelt key is reported, not also the `objective` it leaves out.
            (19, 1, UnknownKey),
        ],
        "{errors}"
    );
    find(
        &errors,
        "\"next year\" is neither a date nor an RFC 3339 time",
    );
}
