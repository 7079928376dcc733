//! The alert state machine driven through its public API, one evaluation per step: the SRE
//! Workbook policy at 30 days (page 5m&1h > 14.4 or 30m&6h > 6, ticket 2h&1d > 3 or 6h&3d > 1),
//! `for`, `keep_firing_for`, `min_events`, inhibition of the ticket by the page, `no_data`,
//! `budget_exhausted`, evaluations without series, time running backwards, and a restart from
//! serialised state mid-episode.

use std::time::Duration;

use burnwatch_engine::{
    AlertKind, AlertPolicy, AlertState, AlertStatus, Alerts, Counts, DataState, Evaluation, Millis,
    PeriodFigures, Transition, WindowFigures,
};

const T0: Millis = 1_700_000_000_000;
const S: Millis = 1_000;
const M: Millis = 60 * S;

const M5: u64 = 300;
const M30: u64 = 1_800;
const H1: u64 = 3_600;
const H2: u64 = 7_200;
const H6: u64 = 21_600;
const D1: u64 = 86_400;
const D3: u64 = 259_200;
const PERIOD: u64 = 30 * D1;
const WINDOWS: [u64; 7] = [M5, M30, H1, H2, H6, D1, D3];

use AlertKind::{BudgetExhausted, NoData, Page, Ticket};

fn workbook() -> AlertPolicy {
    AlertPolicy::sre_workbook(Duration::from_secs(PERIOD))
}

/// Figures of a 99.9% SLO's window burning at `burn` over `total` events.
fn figures(secs: u64, burn: Option<f64>, total: f64) -> WindowFigures {
    let ratio = burn.map(|b| b * 0.001);
    WindowFigures {
        window: Duration::from_secs(secs),
        counts: Counts {
            errors: ratio.map_or(0.0, |r| r * total),
            total,
        },
        error_ratio: ratio,
        burn_rate: burn,
    }
}

/// Series present, every window with 10 000 events burning at 0 unless `burns` says otherwise,
/// half the budget left.
fn burning(at: Millis, burns: &[(u64, f64)]) -> Evaluation {
    let windows = WINDOWS
        .iter()
        .map(|&w| {
            let burn = burns.iter().find(|(s, _)| *s == w).map_or(0.0, |&(_, b)| b);
            figures(w, Some(burn), 10_000.0)
        })
        .collect();
    Evaluation {
        at,
        objective: 0.999,
        windows,
        period: PeriodFigures {
            window: figures(PERIOD, Some(0.5), 1e6),
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

fn calm(at: Millis) -> Evaluation {
    burning(at, &[])
}

fn page(at: Millis) -> Evaluation {
    burning(at, &[(M5, 20.0), (H1, 15.0)])
}

fn ticket(at: Millis) -> Evaluation {
    burning(at, &[(H6, 1.5), (D3, 1.2)])
}

fn page_and_ticket(at: Millis) -> Evaluation {
    burning(at, &[(M5, 20.0), (H1, 15.0), (H6, 1.5), (D3, 1.2)])
}

/// No window has events, hence no burn rate; `data_state` says why.
fn empty(at: Millis, data_state: DataState) -> Evaluation {
    let mut e = calm(at);
    for w in &mut e.windows {
        *w = figures(w.window.as_secs(), None, 0.0);
    }
    e.data_state = data_state;
    e
}

fn no_series(at: Millis) -> Evaluation {
    empty(at, DataState::NoData)
}

fn zero_traffic(at: Millis) -> Evaluation {
    empty(at, DataState::NoTraffic)
}

fn fired(kind: AlertKind, fired_at: Millis, at: Millis) -> Transition {
    Transition {
        kind,
        status: AlertStatus::Firing,
        fired_at,
        at,
    }
}

fn resolved(kind: AlertKind, fired_at: Millis, at: Millis) -> Transition {
    Transition {
        kind,
        status: AlertStatus::Resolved,
        fired_at,
        at,
    }
}

#[test]
fn page_fires_only_when_both_windows_burn_faster_than_the_factor() {
    let policy = workbook();
    let mut alerts = Alerts::new();
    // A spike the hour has not confirmed, then a burn the last five minutes no longer show.
    assert_eq!(
        alerts.eval(&policy, &burning(T0, &[(M5, 50.0), (H1, 14.0)])),
        []
    );
    assert_eq!(
        alerts.eval(&policy, &burning(T0 + M, &[(M5, 10.0), (H1, 30.0)])),
        []
    );
    assert!(!alerts.get(Page).condition);
    assert_eq!(
        alerts.eval(&policy, &burning(T0 + 2 * M, &[(M5, 14.5), (H1, 14.5)])),
        [fired(Page, T0 + 2 * M, T0 + 2 * M)]
    );
    assert_eq!(alerts.get(Page).state, AlertState::Firing);
    // 14.5 is far above the ticket factors, but only in windows the ticket pairs do not read.
    assert_eq!(alerts.get(Ticket).state, AlertState::Inactive);
}

#[test]
fn the_second_page_pair_fires_on_its_own() {
    let mut alerts = Alerts::new();
    assert_eq!(
        alerts.eval(&workbook(), &burning(T0, &[(M30, 7.0), (H6, 6.5)])),
        [fired(Page, T0, T0)]
    );
}

#[test]
fn a_burn_exactly_at_the_factor_does_not_fire() {
    let policy = workbook();
    for pair in &policy.pairs {
        let kind = match pair.severity {
            burnwatch_engine::Severity::Page => Page,
            burnwatch_engine::Severity::Ticket => Ticket,
        };
        let at = |f: f64| burning(T0, &[(pair.short.as_secs(), f), (pair.long.as_secs(), f)]);
        let mut alerts = Alerts::new();
        assert_eq!(alerts.eval(&policy, &at(pair.factor)), [], "{pair:?}");
        assert!(!alerts.get(kind).condition);
        assert_eq!(
            alerts.eval(&policy, &at(pair.factor.next_up())),
            [fired(kind, T0, T0)],
            "{pair:?}"
        );
    }
}

#[test]
fn ticket_fires_on_a_slow_burn_over_six_hours_and_three_days() {
    let mut alerts = Alerts::new();
    assert_eq!(
        alerts.eval(&workbook(), &ticket(T0)),
        [fired(Ticket, T0, T0)]
    );
    assert_eq!(alerts.get(Page).state, AlertState::Inactive);
    assert!(alerts.get(Ticket).is_active());
    let firing: Vec<AlertKind> = alerts.firing().map(|a| a.kind).collect();
    assert_eq!(firing, [Ticket]);
}

#[test]
fn for_keeps_an_alert_pending_then_fires_once() {
    let mut policy = workbook();
    policy.hold_for = Duration::from_secs(300);
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &page(T0)), []);
    assert_eq!(alerts.get(Page).state, AlertState::Pending);
    assert_eq!(alerts.get(Page).active_since, Some(T0));
    assert!(alerts.get(Page).is_active());
    assert_eq!(alerts.firing().count(), 0);
    assert_eq!(alerts.eval(&policy, &page(T0 + 5 * M - 1)), []);
    assert_eq!(
        alerts.eval(&policy, &page(T0 + 5 * M)),
        [fired(Page, T0 + 5 * M, T0 + 5 * M)]
    );
    assert_eq!(alerts.eval(&policy, &page(T0 + 6 * M)), []);
}

#[test]
fn a_pending_alert_that_ends_notifies_nothing_and_restarts_its_clock() {
    let mut policy = workbook();
    policy.hold_for = Duration::from_secs(300);
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &page(T0)), []);
    assert_eq!(alerts.eval(&policy, &calm(T0 + 2 * M)), []);
    let alert = alerts.get(Page);
    assert_eq!(alert.state, AlertState::Inactive);
    assert_eq!((alert.active_since, alert.resolved_at), (None, None));
    assert_eq!(alerts.eval(&policy, &page(T0 + 3 * M)), []);
    // Seven minutes after the first stretch began, but only four into the second.
    assert_eq!(alerts.eval(&policy, &page(T0 + 7 * M)), []);
    assert_eq!(
        alerts.eval(&policy, &page(T0 + 8 * M)),
        [fired(Page, T0 + 8 * M, T0 + 8 * M)]
    );
}

#[test]
fn keep_firing_for_counts_from_the_last_evaluation_that_burned() {
    let mut policy = workbook();
    policy.keep_firing_for = Duration::from_secs(600);
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &page(T0)), [fired(Page, T0, T0)]);
    assert_eq!(alerts.eval(&policy, &calm(T0 + M)), []);
    assert_eq!(alerts.get(Page).state, AlertState::Firing);
    assert!(!alerts.get(Page).condition);
    // The burn comes back within keep_firing_for: the same episode, no second trigger.
    assert_eq!(alerts.eval(&policy, &page(T0 + 3 * M)), []);
    assert_eq!(alerts.eval(&policy, &calm(T0 + 4 * M)), []);
    assert_eq!(alerts.eval(&policy, &calm(T0 + 13 * M - 1)), []);
    assert_eq!(
        alerts.eval(&policy, &calm(T0 + 13 * M)),
        [resolved(Page, T0, T0 + 13 * M)]
    );
    let alert = alerts.get(Page);
    assert_eq!(alert.state, AlertState::Inactive);
    assert_eq!(alert.resolved_at, Some(T0 + 13 * M));
    assert_eq!((alert.fired_at, alert.active_since), (None, None));
    assert!(!alert.notified);
}

#[test]
fn a_notified_ticket_under_a_page_is_inhibited_without_resolve_or_second_trigger() {
    let policy = workbook();
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &ticket(T0)), [fired(Ticket, T0, T0)]);
    assert_eq!(
        alerts.eval(&policy, &page_and_ticket(T0 + M)),
        [fired(Page, T0 + M, T0 + M)]
    );
    assert_eq!(alerts.get(Ticket).state, AlertState::Inhibited);
    let firing: Vec<AlertKind> = alerts.firing().map(|a| a.kind).collect();
    assert_eq!(firing, [Page]);
    assert_eq!(alerts.eval(&policy, &page_and_ticket(T0 + 2 * M)), []);
    assert_eq!(
        alerts.eval(&policy, &ticket(T0 + 3 * M)),
        [resolved(Page, T0 + M, T0 + 3 * M)]
    );
    assert_eq!(alerts.get(Ticket).state, AlertState::Firing);
    assert_eq!(
        alerts.eval(&policy, &calm(T0 + 4 * M)),
        [resolved(Ticket, T0, T0 + 4 * M)]
    );
}

#[test]
fn a_ticket_raised_under_a_page_is_announced_when_the_page_ends() {
    let policy = workbook();
    let mut alerts = Alerts::new();
    assert_eq!(
        alerts.eval(&policy, &page_and_ticket(T0)),
        [fired(Page, T0, T0)]
    );
    assert_eq!(alerts.get(Ticket).state, AlertState::Inhibited);
    assert_eq!(alerts.get(Ticket).fired_at, Some(T0));
    assert!(!alerts.get(Ticket).notified);
    // Page first, and the ticket's episode keeps the moment it began to fire.
    assert_eq!(
        alerts.eval(&policy, &ticket(T0 + 5 * M)),
        [
            resolved(Page, T0, T0 + 5 * M),
            fired(Ticket, T0, T0 + 5 * M)
        ]
    );
    assert_eq!(alerts.eval(&policy, &ticket(T0 + 6 * M)), []);
}

#[test]
fn a_ticket_that_ends_while_inhibited_is_never_announced() {
    let policy = workbook();
    let mut alerts = Alerts::new();
    assert_eq!(
        alerts.eval(&policy, &page_and_ticket(T0)),
        [fired(Page, T0, T0)]
    );
    assert_eq!(alerts.eval(&policy, &page(T0 + M)), []);
    let t = alerts.get(Ticket);
    assert_eq!(t.state, AlertState::Inactive);
    assert_eq!(t.resolved_at, Some(T0 + M));
    assert_eq!(
        alerts.eval(&policy, &calm(T0 + 2 * M)),
        [resolved(Page, T0, T0 + 2 * M)]
    );
}

#[test]
fn no_data_fires_after_fifteen_minutes_without_series_and_ends_on_zero_traffic() {
    let policy = workbook();
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &no_series(T0)), []);
    assert_eq!(alerts.get(NoData).state, AlertState::Pending);
    assert_eq!(alerts.eval(&policy, &no_series(T0 + 15 * M - 1)), []);
    assert_eq!(
        alerts.eval(&policy, &no_series(T0 + 15 * M)),
        [fired(NoData, T0 + 15 * M, T0 + 15 * M)]
    );
    assert_eq!(alerts.eval(&policy, &no_series(T0 + 16 * M)), []);
    assert_eq!(
        alerts.eval(&policy, &zero_traffic(T0 + 17 * M)),
        [resolved(NoData, T0 + 15 * M, T0 + 17 * M)]
    );
    let mut off = workbook();
    off.no_data_for = None;
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&off, &no_series(T0)), []);
    assert_eq!(alerts.eval(&off, &no_series(T0 + 60 * M)), []);
    assert_eq!(alerts.get(NoData).state, AlertState::Inactive);
}

#[test]
fn losing_the_series_neither_resolves_a_page_nor_raises_one() {
    let policy = workbook();
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &page(T0)), [fired(Page, T0, T0)]);
    assert_eq!(alerts.eval(&policy, &no_series(T0 + M)), []);
    assert_eq!(alerts.get(Page).state, AlertState::Firing);
    assert_eq!(
        alerts.eval(&policy, &no_series(T0 + 16 * M)),
        [fired(NoData, T0 + 16 * M, T0 + 16 * M)]
    );
    assert_eq!(alerts.get(Page).state, AlertState::Firing);
    assert_eq!(
        alerts.eval(&policy, &calm(T0 + 20 * M)),
        [
            resolved(Page, T0, T0 + 20 * M),
            resolved(NoData, T0 + 16 * M, T0 + 20 * M)
        ]
    );
    // Leftover figures of an instance whose series vanished: burning, but no evidence now.
    let mut stale = page(T0 + 21 * M);
    stale.data_state = DataState::NoData;
    assert_eq!(alerts.eval(&policy, &stale), []);
    assert!(alerts.get(Page).condition);
    assert_eq!(alerts.get(Page).state, AlertState::Inactive);
}

#[test]
fn zero_traffic_is_evidence_that_the_burn_ended() {
    let policy = workbook();
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &page(T0)), [fired(Page, T0, T0)]);
    assert_eq!(
        alerts.eval(&policy, &zero_traffic(T0 + M)),
        [resolved(Page, T0, T0 + M)]
    );
}

#[test]
fn min_events_keeps_a_low_traffic_page_quiet() {
    let mut policy = workbook();
    policy.min_events = 100.0;
    let with_hour_events = |at: Millis, total: f64| {
        let mut e = page(at);
        for w in &mut e.windows {
            if w.window == Duration::from_secs(H1) {
                *w = figures(H1, w.burn_rate, total);
            }
        }
        e
    };
    let mut alerts = Alerts::new();
    // 40 requests with two failures burn at 50: a number, not yet evidence.
    assert_eq!(alerts.eval(&policy, &with_hour_events(T0, 40.0)), []);
    assert!(alerts.get(Page).condition);
    assert_eq!(alerts.get(Page).state, AlertState::Inactive);
    assert_eq!(
        alerts.eval(&policy, &with_hour_events(T0 + M, 100.0)),
        [fired(Page, T0 + M, T0 + M)]
    );
}

#[test]
fn budget_exhausted_fires_at_or_below_the_threshold_without_for() {
    let mut policy = workbook();
    policy.budget_exhausted = Some(0.0);
    policy.hold_for = Duration::from_secs(3_600);
    let left = |at: Millis, remaining: f64| {
        let mut e = calm(at);
        e.period.budget_remaining = Some(remaining);
        e
    };
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &left(T0, 0.01)), []);
    assert_eq!(
        alerts.eval(&policy, &left(T0 + M, 0.0)),
        [fired(BudgetExhausted, T0 + M, T0 + M)]
    );
    assert_eq!(alerts.eval(&policy, &left(T0 + 2 * M, -0.3)), []);
    assert_eq!(
        alerts.eval(&policy, &left(T0 + 3 * M, 0.02)),
        [resolved(BudgetExhausted, T0 + M, T0 + 3 * M)]
    );
}

#[test]
fn transitions_come_page_ticket_no_data_budget() {
    let mut policy = workbook();
    policy.budget_exhausted = Some(0.1);
    let mut alerts = Alerts::new();
    let mut e = ticket(T0);
    e.period.budget_remaining = Some(0.05);
    assert_eq!(
        alerts.eval(&policy, &e),
        [fired(Ticket, T0, T0), fired(BudgetExhausted, T0, T0)]
    );
    // Without series both hold (the leftover budget figure of 50% is not evidence either),
    // no_data fires beside them, then all three end on zero traffic.
    assert_eq!(alerts.eval(&policy, &no_series(T0 + M)), []);
    assert_eq!(
        alerts.eval(&policy, &no_series(T0 + 16 * M)),
        [fired(NoData, T0 + 16 * M, T0 + 16 * M)]
    );
    assert_eq!(alerts.firing().count(), 3);
    let mut back = zero_traffic(T0 + 17 * M);
    back.period.budget_remaining = Some(0.5);
    assert_eq!(
        alerts.eval(&policy, &back),
        [
            resolved(Ticket, T0, T0 + 17 * M),
            resolved(NoData, T0 + 16 * M, T0 + 17 * M),
            resolved(BudgetExhausted, T0, T0 + 17 * M),
        ]
    );
}

#[test]
fn disabling_an_alert_resolves_it_at_once() {
    let mut policy = workbook();
    policy.keep_firing_for = Duration::from_secs(3_600);
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &page(T0)), [fired(Page, T0, T0)]);
    policy.page = false;
    assert_eq!(
        alerts.eval(&policy, &page(T0 + M)),
        [resolved(Page, T0, T0 + M)]
    );
    assert!(!alerts.get(Page).condition);
    assert_eq!(alerts.eval(&policy, &page(T0 + 2 * M)), []);
}

#[test]
fn repeated_or_earlier_evaluations_do_not_duplicate_or_reverse() {
    let policy = workbook();
    let mut alerts = Alerts::new();
    assert_eq!(alerts.eval(&policy, &page(T0)), [fired(Page, T0, T0)]);
    assert_eq!(alerts.eval(&policy, &page(T0)), []);
    assert_eq!(alerts.eval(&policy, &page(T0 - 10 * M)), []);
    // An earlier evaluation that shows the burn ended resolves at the newest moment known,
    // never before the episode fired.
    assert_eq!(
        alerts.eval(&policy, &calm(T0 - 5 * M)),
        [resolved(Page, T0, T0)]
    );
    assert_eq!(alerts.eval(&policy, &calm(T0 - 5 * M)), []);

    let mut extreme = workbook();
    extreme.hold_for = Duration::MAX;
    extreme.keep_firing_for = Duration::MAX;
    extreme.no_data_for = Some(Duration::MAX);
    let mut alerts = Alerts::new();
    for at in [Millis::MAX, Millis::MIN, 0, Millis::MAX] {
        assert_eq!(alerts.eval(&extreme, &page(at)), []);
        assert_eq!(alerts.eval(&extreme, &no_series(at)), []);
    }
    let mut alerts = Alerts::new();
    for at in [Millis::MIN, Millis::MAX, Millis::MIN] {
        alerts.eval(&workbook(), &page(at));
        alerts.eval(&workbook(), &calm(at));
    }
}

/// Minute by minute: a slow burn, a fast burn on top, the fast burn ends, the slow one ends,
/// five minutes without series, calm again.
fn script(minute: i64) -> Evaluation {
    let at = T0 + minute * M;
    match minute {
        0..10 | 20..25 => ticket(at),
        10..20 => page_and_ticket(at),
        30..35 => no_series(at),
        _ => calm(at),
    }
}

fn scripted_policy() -> AlertPolicy {
    let mut policy = workbook();
    policy.hold_for = Duration::from_secs(120);
    policy.keep_firing_for = Duration::from_secs(300);
    policy.no_data_for = Some(Duration::from_secs(180));
    policy
}

fn run(alerts: &mut Alerts, minutes: std::ops::Range<i64>) -> Vec<Transition> {
    let policy = scripted_policy();
    minutes
        .flat_map(|m| alerts.eval(&policy, &script(m)))
        .collect()
}

#[test]
fn a_scripted_incident_notifies_each_episode_once() {
    let mut alerts = Alerts::new();
    assert_eq!(
        run(&mut alerts, 0..40),
        [
            // Pending for two minutes.
            fired(Ticket, T0 + 2 * M, T0 + 2 * M),
            fired(Page, T0 + 12 * M, T0 + 12 * M),
            // Last burning minute 19, plus five minutes; the ticket was heard, so it stays quiet.
            resolved(Page, T0 + 12 * M, T0 + 24 * M),
            resolved(Ticket, T0 + 2 * M, T0 + 29 * M),
            fired(NoData, T0 + 33 * M, T0 + 33 * M),
            resolved(NoData, T0 + 33 * M, T0 + 35 * M),
        ]
    );
    let mut again = Alerts::new();
    run(&mut again, 0..40);
    assert_eq!(again, alerts, "same inputs, same state");
}

#[test]
fn restoring_serialised_state_mid_episode_continues_as_if_uninterrupted() {
    let mut whole = Alerts::new();
    let expected = run(&mut whole, 0..40);
    for split in 0..40 {
        let mut before = Alerts::new();
        let mut transitions = run(&mut before, 0..split);
        let json = serde_json::to_string(&before).unwrap();
        let mut restored: Alerts = serde_json::from_str(&json).unwrap();
        assert_eq!(restored, before);
        transitions.extend(run(&mut restored, split..40));
        assert_eq!(transitions, expected, "restart after minute {split}");
        assert_eq!(restored, whole, "restart after minute {split}");
    }
}
