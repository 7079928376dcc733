//! The alert state machine of one SLO instance: page, ticket, no_data and budget_exhausted.
//!
//! As in Prometheus' `rules/alerting.go`, one ordered state per alert and one
//! [`Alerts::eval`] that owns every transition. The alert keeps timestamps, not flags: whether
//! it is pending or firing underneath follows from `active_since` and `fired_at`, and `state`
//! only adds what a reader sees (a ticket under a firing page shows as inhibited).
//! docs/alerting.md describes the behaviour for users.

use serde::{Deserialize, Serialize};

use crate::condition::Condition;
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
    /// The raw condition at the last evaluation (before `for`, inhibition and `min_events`);
    /// always false while the policy disables the alert.
    pub condition: bool,
    /// When the condition last became true (start of pending); None while inactive.
    pub active_since: Option<Millis>,
    /// When the alert last started firing; None while not firing.
    pub fired_at: Option<Millis>,
    /// When it last resolved; None if never.
    pub resolved_at: Option<Millis>,
    /// Last evaluation at which the condition held, `min_events` included (for
    /// `keep_firing_for`).
    pub last_true_at: Option<Millis>,
    /// Whether a firing notification went out for the current episode (so an inhibited ticket
    /// that ends sends its resolve only if its trigger was sent).
    pub notified: bool,
    /// When a silence withheld this episode's firing notification (counted once); it is sent
    /// at the first evaluation outside a silence while the alert still fires. None when no
    /// firing is withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silenced_at: Option<Millis>,
    /// The resolve of an episode receivers heard fire, withheld by a silence; sent once at the
    /// first evaluation outside a silence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsent_resolve: Option<Transition>,
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

/// What one evaluation of the alerts yields under a silence: what to send, and what the
/// silence withheld (to count).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Transitions to notify, in [`AlertKind::ALL`] order (an owed resolve before the firing
    /// of the same alert).
    pub send: Vec<Transition>,
    /// Transitions a silence withheld; each is counted once, when it happens.
    pub silenced: Vec<Transition>,
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
                    silenced_at: None,
                    unsent_resolve: None,
                })
                .collect(),
        }
    }

    /// Every alert, in [`AlertKind::ALL`] order.
    pub fn all(&self) -> &[Alert] {
        &self.alerts
    }

    /// Heap memory held, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.alerts.capacity() * size_of::<Alert>()
    }

    /// One alert.
    pub fn get(&self, kind: AlertKind) -> &Alert {
        &self.alerts[kind as usize]
    }

    /// The alerts whose firing state a receiver knows about (an inhibited ticket is not among
    /// them), in [`AlertKind::ALL`] order.
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.state == AlertState::Firing)
    }

    /// Advances every alert to `eval.at` under `policy`; returns what must be notified, page
    /// before ticket before no_data before budget_exhausted.
    ///
    /// Time never runs backwards here: an `eval.at` before a moment the alerts already recorded
    /// is taken as that moment, so an episode never resolves before it fired. Evaluating the
    /// same figures again changes nothing and notifies nothing.
    pub fn eval(&mut self, policy: &AlertPolicy, eval: &Evaluation) -> Vec<Transition> {
        self.eval_silenced(policy, eval, false).send
    }

    /// [`Alerts::eval`] while a silence may hold (`silenced`): states move exactly as without
    /// one, but nothing is sent. A firing withheld by the silence is sent at the first
    /// evaluation outside a silence if the alert still fires then; a resolve withheld from
    /// receivers that heard the firing is sent then once; a firing that was never sent resolves
    /// quietly. docs/alerting.md describes this for users.
    pub fn eval_silenced(
        &mut self,
        policy: &AlertPolicy,
        eval: &Evaluation,
        silenced: bool,
    ) -> Outcome {
        let now = self
            .alerts
            .iter()
            .filter_map(Alert::latest)
            .fold(eval.at, Millis::max);
        let mut outcome = Outcome::default();
        let mut page_firing = false;
        for alert in &mut self.alerts {
            if !silenced && let Some(owed) = alert.unsent_resolve.take() {
                outcome.send.push(owed);
            }
            let condition = Condition::of(alert.kind, policy, eval);
            // The page is first in the list, so it has stepped when the ticket looks at it.
            let inhibited = alert.kind == AlertKind::Ticket && page_firing;
            if let Some(t) = alert.step(&condition, inhibited, now, silenced) {
                if silenced {
                    outcome.silenced.push(t);
                } else {
                    outcome.send.push(t);
                }
            }
            if alert.kind == AlertKind::Page {
                page_firing = alert.state == AlertState::Firing;
            }
        }
        outcome
    }
}

impl Alert {
    /// Pending, firing or inhibited: an episode is under way.
    pub fn is_active(&self) -> bool {
        self.state != AlertState::Inactive
    }

    /// The newest moment this alert recorded.
    fn latest(&self) -> Option<Millis> {
        [
            self.active_since,
            self.fired_at,
            self.resolved_at,
            self.last_true_at,
        ]
        .into_iter()
        .flatten()
        .max()
    }

    /// One evaluation of this alert at `now` (not before any timestamp it holds); under a
    /// silence the transition returned is withheld (and remembered when it is owed).
    fn step(
        &mut self,
        c: &Condition,
        inhibited: bool,
        now: Millis,
        silenced: bool,
    ) -> Option<Transition> {
        self.condition = c.raw;
        if c.frozen {
            return None;
        }
        if c.active {
            self.last_true_at = Some(now);
            let since = *self.active_since.get_or_insert(now);
            if self.fired_at.is_none() && now.saturating_sub(since) >= c.hold_for {
                self.fired_at = Some(now);
            }
        } else if let Some(fired_at) = self.fired_at {
            let quiet_for = self
                .last_true_at
                .map_or(Millis::MAX, |t| now.saturating_sub(t));
            if quiet_for >= c.keep_firing_for {
                return self.resolve(fired_at, now, silenced);
            }
        } else {
            // Pending that never fired ends silently; its stretch starts afresh next time.
            self.active_since = None;
        }
        self.state = match (self.active_since, self.fired_at) {
            (None, None) => AlertState::Inactive,
            _ if inhibited => AlertState::Inhibited,
            (_, Some(_)) => AlertState::Firing,
            (Some(_), None) => AlertState::Pending,
        };
        match self.fired_at {
            Some(fired_at) if self.state == AlertState::Firing && !self.notified => {
                if !silenced {
                    self.notified = true;
                    self.silenced_at = None;
                    Some(self.transition(AlertStatus::Firing, fired_at, now))
                } else if self.silenced_at.is_none() {
                    self.silenced_at = Some(now);
                    Some(self.transition(AlertStatus::Firing, fired_at, now))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Ends the episode; a receiver hears of it only if it heard of the start (under a
    /// silence: once the silence ends).
    fn resolve(&mut self, fired_at: Millis, now: Millis, silenced: bool) -> Option<Transition> {
        let notified = std::mem::take(&mut self.notified);
        self.state = AlertState::Inactive;
        self.active_since = None;
        self.fired_at = None;
        self.resolved_at = Some(now);
        self.silenced_at = None;
        let resolved = notified.then(|| self.transition(AlertStatus::Resolved, fired_at, now))?;
        if silenced {
            self.unsent_resolve = Some(resolved);
        }
        Some(resolved)
    }

    fn transition(&self, status: AlertStatus, fired_at: Millis, at: Millis) -> Transition {
        Transition {
            kind: self.kind,
            status,
            fired_at,
            at,
        }
    }
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts::new()
    }
}
