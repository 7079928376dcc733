//! Alerts under a silence (`Alerts::eval_silenced`): states move as without one, nothing is
//! sent, each withheld transition is reported once, and on leaving the silence a still-firing
//! alert notifies once and a resolve receivers are owed is sent once. The state survives a
//! restart (serialised alerts).

use std::time::Duration;

use burnwatch_engine::{
    AlertKind, AlertPolicy, AlertState, AlertStatus, Alerts, Counts, DataState, Evaluation, Millis,
    Outcome, PeriodFigures, Transition, WindowFigures,
};

const T0: Millis = 1_700_000_000_000;
const M: Millis = 60_000;
const PERIOD: u64 = 30 * 86_400;
const WINDOWS: [u64; 7] = [300, 1_800, 3_600, 7_200, 21_600, 86_400, 259_200];

use AlertKind::Page;

fn policy() -> AlertPolicy {
    AlertPolicy::sre_workbook(Duration::from_secs(PERIOD))
}

fn figures(secs: u64, burn: f64, total: f64) -> WindowFigures {
    WindowFigures {
        window: Duration::from_secs(secs),
        counts: Counts {
            errors: burn * 0.001 * total,
            total,
        },
        error_ratio: Some(burn * 0.001),
        burn_rate: Some(burn),
    }
}

/// A 99.9% SLO; `paging` makes the 5m and 1h windows burn at 20 and 15 (over 14.4).
fn eval(at: Millis, paging: bool) -> Evaluation {
    let burn = |w: u64| match (paging, w) {
        (true, 300) => 20.0,
        (true, 3_600) => 15.0,
        _ => 0.0,
    };
    Evaluation {
        at,
        objective: 0.999,
        windows: WINDOWS
            .iter()
            .map(|&w| figures(w, burn(w), 10_000.0))
            .collect(),
        period: PeriodFigures {
            window: figures(PERIOD, 0.5, 1e6),
            sli: Some(0.9995),
            budget_remaining: Some(0.5),
            exhaustion_at_1h_burn: None,
            exhaustion_at_6h_burn: None,
            covered: Duration::from_secs(PERIOD),
            excluded: Duration::ZERO,
        },
        data_state: DataState::Ok,
    }
}

fn transition(status: AlertStatus, fired_at: Millis, at: Millis) -> Transition {
    Transition {
        kind: Page,
        status,
        fired_at,
        at,
    }
}

fn step(alerts: &mut Alerts, at: Millis, paging: bool, silenced: bool) -> Outcome {
    alerts.eval_silenced(&policy(), &eval(at, paging), silenced)
}

#[test]
fn a_page_that_fires_in_a_silence_notifies_once_when_it_ends() {
    let mut alerts = Alerts::new();
    // Fires at T0 inside the silence: withheld, reported once, not again on later ticks.
    let first = step(&mut alerts, T0, true, true);
    assert_eq!(first.send, []);
    assert_eq!(first.silenced, [transition(AlertStatus::Firing, T0, T0)]);
    assert_eq!(alerts.get(Page).state, AlertState::Firing, "state kept");
    for minute in 1..5 {
        assert_eq!(
            step(&mut alerts, T0 + minute * M, true, true),
            Outcome::default()
        );
    }
    // Restart mid-silence: the serialised alerts remember what is owed.
    let mut alerts: Alerts =
        serde_json::from_str(&serde_json::to_string(&alerts).unwrap()).unwrap();
    // The silence ends with the page still firing: one firing notification, from T0.
    let after = step(&mut alerts, T0 + 5 * M, true, false);
    assert_eq!(
        after.send,
        [transition(AlertStatus::Firing, T0, T0 + 5 * M)]
    );
    assert_eq!(
        step(&mut alerts, T0 + 6 * M, true, false),
        Outcome::default()
    );
    // Its resolve is sent as usual, since receivers heard it.
    let end = step(&mut alerts, T0 + 7 * M, false, false);
    assert_eq!(
        end.send,
        [transition(AlertStatus::Resolved, T0, T0 + 7 * M)]
    );
}

#[test]
fn a_page_that_fires_and_resolves_inside_a_silence_is_never_sent() {
    let mut alerts = Alerts::new();
    assert_eq!(step(&mut alerts, T0, true, true).silenced.len(), 1);
    // Resolves in the silence: receivers never heard of it, nothing is owed or counted.
    assert_eq!(step(&mut alerts, T0 + M, false, true), Outcome::default());
    assert_eq!(
        step(&mut alerts, T0 + 2 * M, false, false),
        Outcome::default()
    );
    assert_eq!(alerts.get(Page).resolved_at, Some(T0 + M));
}

#[test]
fn a_page_heard_before_the_silence_that_resolves_inside_sends_its_resolve_once_after() {
    let mut alerts = Alerts::new();
    let fired = step(&mut alerts, T0, true, false);
    assert_eq!(fired.send, [transition(AlertStatus::Firing, T0, T0)]);
    // Still firing as the silence starts: nothing to say.
    assert_eq!(step(&mut alerts, T0 + M, true, true), Outcome::default());
    let quiet = step(&mut alerts, T0 + 2 * M, false, true);
    assert_eq!(quiet.send, []);
    assert_eq!(
        quiet.silenced,
        [transition(AlertStatus::Resolved, T0, T0 + 2 * M)]
    );
    assert_eq!(
        step(&mut alerts, T0 + 3 * M, false, true),
        Outcome::default()
    );
    // Leaving: the resolve, once, with its own time.
    let after = step(&mut alerts, T0 + 4 * M, false, false);
    assert_eq!(
        after.send,
        [transition(AlertStatus::Resolved, T0, T0 + 2 * M)]
    );
    assert_eq!(
        step(&mut alerts, T0 + 5 * M, false, false),
        Outcome::default()
    );
}

#[test]
fn a_resolve_then_a_new_firing_inside_one_silence_send_both_in_order_after() {
    let mut alerts = Alerts::new();
    step(&mut alerts, T0, true, false);
    step(&mut alerts, T0 + M, false, true); // resolved, withheld
    let again = step(&mut alerts, T0 + 2 * M, true, true); // a new episode, withheld
    assert_eq!(
        again.silenced,
        [transition(AlertStatus::Firing, T0 + 2 * M, T0 + 2 * M)]
    );
    let after = step(&mut alerts, T0 + 3 * M, true, false);
    assert_eq!(
        after.send,
        [
            transition(AlertStatus::Resolved, T0, T0 + M),
            transition(AlertStatus::Firing, T0 + 2 * M, T0 + 3 * M),
        ]
    );
}
