//! Alertmanager: POST `<url>/api/v2/alerts` with a JSON array of alerts, the way Prometheus does.
//!
//! Firing alerts carry `endsAt = now + 4 × resend interval` and are re-sent every minute, so
//! Alertmanager resolves them by itself if burnwatch dies; resolved alerts carry their resolve
//! time as `endsAt` and are re-sent for 15 minutes. Labels include `sloth_severity` and
//! `sloth_id`, so an inhibit rule `page` -> `ticket` with `equal: [sloth_id]` works.

use std::time::Duration;

use burnwatch_engine::{AlertStatus, Millis, Notification};
use burnwatch_spec::{Receiver as Configured, ReceiverKind};
use serde_json::{Value, json};

use crate::notify::labels::{alert_annotations, alert_labels};
use crate::notify::message;
use crate::notify::receiver::{Kind, Receiver, Request, Settings, not_mine};

pub(crate) const KIND: Kind = Kind {
    name: "alertmanager",
    build,
};

/// How long Alertmanager keeps hearing about a resolved alert (Prometheus: 15 minutes).
pub(crate) const RESOLVED_FOR: Duration = Duration::from_secs(15 * 60);
/// How often firing alerts are re-sent to Alertmanager (Prometheus' `--rules.alert.resend-delay`).
pub(crate) const RESEND: Duration = Duration::from_secs(60);

fn build(configured: &Configured) -> Result<Box<dyn Receiver>, String> {
    let ReceiverKind::Alertmanager { url } = &configured.kind else {
        return Err(not_mine(KIND.name, configured));
    };
    Ok(Box::new(Alertmanager {
        url: format!("{}/api/v2/alerts", url.trim_end_matches('/')),
    }))
}

/// An Alertmanager receiver; `url` is the full `/api/v2/alerts` endpoint.
pub(crate) struct Alertmanager {
    pub url: String,
}

impl Receiver for Alertmanager {
    /// Re-sent each minute while firing, resolved ones for 15 minutes; `send_resolved` does not
    /// apply (Alertmanager needs the `endsAt`).
    fn settings(&self, _: &Configured) -> Settings {
        Settings {
            repeat: Some(RESEND),
            send_resolved: true,
            resolved_for: RESOLVED_FOR,
            gap: Duration::ZERO,
        }
    }

    /// Only Alertmanager takes several alerts in one request (its periodic re-send).
    fn batches(&self) -> bool {
        true
    }

    fn request(&self, batch: &[Notification], now: Millis) -> Result<Request, String> {
        let alerts: Vec<Value> = batch.iter().map(|n| alert_json(n, now)).collect();
        Request::json(self.url.clone(), &alerts, Vec::new())
    }
}

/// `endsAt` of an alert sent at `now`: its resolve time, or far enough ahead to survive three
/// missed re-sends.
pub(crate) fn ends_at(n: &Notification, now: Millis) -> Millis {
    match n.status {
        AlertStatus::Firing => now + 4 * RESEND.as_millis() as Millis,
        AlertStatus::Resolved => n.at,
    }
}

/// One alert as Alertmanager's API takes it.
pub(crate) fn alert_json(n: &Notification, now: Millis) -> Value {
    json!({
        "labels": alert_labels(n),
        "annotations": alert_annotations(n),
        "startsAt": message::rfc3339(n.fired_at),
        "endsAt": message::rfc3339(ends_at(n, now)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::AlertKind;

    #[test]
    fn firing_alerts_expire_after_four_resends_resolved_ones_end_when_resolved() {
        let firing = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let now = firing.at + 5_000;
        let body = alert_json(&firing, now);
        assert_eq!(body["startsAt"], message::rfc3339(firing.fired_at));
        assert_eq!(body["endsAt"], message::rfc3339(now + 240_000));
        assert_eq!(body["labels"]["sloth_severity"], "page");
        assert!(
            body["annotations"]["summary"]
                .as_str()
                .unwrap()
                .contains("16x over 1h")
        );

        let resolved = notification(AlertKind::Page, AlertStatus::Resolved, Figures::fast_burn());
        assert_eq!(
            alert_json(&resolved, now)["endsAt"],
            message::rfc3339(resolved.at)
        );
    }
}
