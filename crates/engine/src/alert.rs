//! The alert state machine of one SLO instance: page, ticket, no_data and budget_exhausted.
//!
//! CONTRACT (types are fixed; the state machine is implemented by the alerting work).

use serde::{Deserialize, Serialize};

use crate::{AlertPolicy, Evaluation, Millis, Severity};

/// Which alert of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Fast burn (page pairs).
    Page,
    /// Slow burn (ticket pairs); inhibited while the page of the same instance fires.
    Ticket,
    /// No series at all for `no_data_for`.
    NoData,
    /// Budget remaining at or below the configured threshold.
    BudgetExhausted,
}

impl AlertKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AlertKind; 4] = [
        AlertKind::Page,
        AlertKind::Ticket,
        AlertKind::NoData,
        AlertKind::BudgetExhausted,
    ];

    /// The severity notifications carry: page for `Page`, ticket for everything else.
    pub fn severity(self) -> Severity {
        match self {
            AlertKind::Page => Severity::Page,
            _ => Severity::Ticket,
        }
    }

    /// `page`, `ticket`, `no_data`, `budget_exhausted`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Page => "page",
            AlertKind::Ticket => "ticket",
            AlertKind::NoData => "no_data",
            AlertKind::BudgetExhausted => "budget_exhausted",
        }
    }
}

/// Where an alert is in its life. Resolution is `Inactive` with `resolved_at` set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Condition false (or never true).
    Inactive,
    /// Condition true for less than `for`.
    Pending,
    /// Condition true for `for` (or within `keep_firing_for` of its end).
    Firing,
    /// Would be pending or firing, but the page of the same instance fires (tickets only).
    Inhibited,
}

impl AlertState {
    /// `inactive`, `pending`, `firing`, `inhibited`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Inhibited => "inhibited",
        }
    }
}

/// One alert of one instance, with the timestamps that drive it (Prometheus' `rules/alerting.go`
/// style: timestamps, not flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Which alert.
    pub kind: AlertKind,
    /// Current state.
    pub state: AlertState,
    /// The raw condition at the last evaluation (before `for`, inhibition and `min_events`).
    pub condition: bool,
    /// When the condition last became true (start of pending); None while inactive.
    pub active_since: Option<Millis>,
    /// When the alert last started firing; None while not firing.
    pub fired_at: Option<Millis>,
    /// When it last resolved; None if never.
    pub resolved_at: Option<Millis>,
    /// Last evaluation at which the condition held (for `keep_firing_for`).
    pub last_true_at: Option<Millis>,
    /// Whether a firing notification went out for the current episode (so an inhibited ticket
    /// that ends sends its resolve only if its trigger was sent).
    pub notified: bool,
}

/// Firing or resolved, as notifications say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The alert started firing (or is still firing, on a repeat).
    Firing,
    /// The alert ended.
    Resolved,
}

impl AlertStatus {
    /// `firing` or `resolved` (Alertmanager's words).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// A change a receiver must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// Which alert.
    pub kind: AlertKind,
    /// Firing (start of an episode) or resolved (its end).
    pub status: AlertStatus,
    /// When the episode started firing.
    pub fired_at: Millis,
    /// The evaluation time of the change.
    pub at: Millis,
}

/// Every alert of one SLO instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alerts {
    alerts: Vec<Alert>,
}

impl Alerts {
    /// All alerts inactive.
    pub fn new() -> Alerts {
        Alerts {
            alerts: AlertKind::ALL
                .iter()
                .map(|&kind| Alert {
                    kind,
                    state: AlertState::Inactive,
                    condition: false,
                    active_since: None,
                    fired_at: None,
                    resolved_at: None,
                    last_true_at: None,
                    notified: false,
                })
                .collect(),
        }
    }

    /// Every alert, in [`AlertKind::ALL`] order.
    pub fn all(&self) -> &[Alert] {
        &self.alerts
    }

    /// One alert.
    pub fn get(&self, kind: AlertKind) -> &Alert {
        &self.alerts[kind as usize]
    }

    /// Advances every alert to `eval.at` under `policy`; returns what must be notified.
    pub fn eval(&mut self, policy: &AlertPolicy, eval: &Evaluation) -> Vec<Transition> {
        let _ = (policy, eval);
        Vec::new()
    }
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts::new()
    }
}
