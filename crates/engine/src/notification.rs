//! What the engine hands to notifiers: one alert transition with the instance it belongs to and
//! the figures at that moment. Receivers format it; they never recompute anything.

use std::sync::Arc;

use crate::{
    AlertKind, AlertPolicy, AlertStatus, Evaluation, Fnv1a, InstanceInfo, Millis, Severity, SloInfo,
};

/// One alert transition of one SLO instance, ready to route and deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The SLO instance.
    pub instance: Arc<InstanceInfo>,
    /// Which alert.
    pub kind: AlertKind,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// When the episode started firing.
    pub fired_at: Millis,
    /// When this transition happened (for resolved: the end of the episode).
    pub at: Millis,
    /// The instance's evaluation at `at`: every window's burn rate, budget, exhaustion.
    pub eval: Evaluation,
    /// The policy that decided it (pairs and factors, for the message).
    pub policy: Arc<AlertPolicy>,
}

impl Notification {
    /// Page or ticket.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    /// The identity of the alert across restarts and replicas: SLO id, group labels and alert
    /// kind, nothing else. PagerDuty's `dedup_key` and the delivery queues key on it.
    pub fn dedup_key(&self) -> String {
        alert_key(&self.instance, self.kind)
    }

    /// The Alertmanager-style `alertname` (see [`alertname`]).
    pub fn alertname(&self) -> &str {
        alertname(&self.instance.slo, self.kind)
    }
}

/// The `alertname` of `kind` for `slo`: the SLO's configured name for burn alerts (page and
/// ticket share it and differ by `sloth_severity`), `SLONoData` and `SLOErrorBudgetExhausted`
/// for the others.
pub fn alertname(slo: &SloInfo, kind: AlertKind) -> &str {
    match kind {
        AlertKind::Page | AlertKind::Ticket => &slo.alert_name,
        AlertKind::NoData => "SLONoData",
        AlertKind::BudgetExhausted => "SLOErrorBudgetExhausted",
    }
}

/// `burnwatch-<sloth_id>-<kind>-<16 hex digits>`: stable (FNV-1a over id, group labels and kind,
/// no process or time input), under PagerDuty's 255-character limit for any SLO id a person writes.
pub fn alert_key(instance: &InstanceInfo, kind: AlertKind) -> String {
    let mut hasher = Fnv1a::new();
    let mut feed = |bytes: &[u8]| {
        hasher.write(bytes).write(&[0x1f]);
    };
    feed(instance.slo.id.as_bytes());
    for (name, value) in &instance.group {
        feed(name.as_bytes());
        // Escaped like the instance key: a value holding the separator must not make two
        // label sets one alert.
        feed(crate::board::escape_key_part(value).as_bytes());
    }
    feed(kind.as_str().as_bytes());
    let hash = hasher.finish();
    let id: String = instance.slo.id.chars().take(160).collect();
    format!("burnwatch-{id}-{}-{hash:016x}", kind.as_str())
}
