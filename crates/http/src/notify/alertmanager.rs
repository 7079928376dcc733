//! Alertmanager: POST `<url>/api/v2/alerts` with a JSON array of alerts, the way Prometheus does.
//!
//! Firing alerts carry `endsAt = now + 4 × resend interval` and are re-sent every minute, so
//! Alertmanager resolves them by itself if burnwatch dies; resolved alerts carry their resolve
//! time as `endsAt` and are re-sent for 15 minutes. Labels include `sloth_severity` and
//! `sloth_id`, so an inhibit rule `page` -> `ticket` with `equal: [sloth_id]` works.

use std::collections::BTreeMap;

use burnwatch_engine::{AlertStatus, Millis, Notification};
use serde_json::{Value, json};

use super::channel::{ALERTMANAGER_RESEND, Request};
use super::labels::{alert_annotations, alert_labels};
use super::message;

/// An Alertmanager receiver; `url` is the full `/api/v2/alerts` endpoint.
pub(crate) struct Alertmanager {
    pub url: String,
}

impl Alertmanager {
    pub(crate) fn request(&self, batch: &[Notification], now: Millis) -> Result<Request, String> {
        let alerts: Vec<Value> = batch.iter().map(|n| alert_json(n, now)).collect();
        Ok(Request {
            url: self.url.clone(),
            body: serde_json::to_vec(&alerts).map_err(|err| err.to_string())?,
            secrets: Vec::new(),
        })
    }
}

/// `endsAt` of an alert sent at `now`: its resolve time, or far enough ahead to survive three
/// missed re-sends.
pub(crate) fn ends_at(n: &Notification, now: Millis) -> Millis {
    match n.status {
        AlertStatus::Firing => now + 4 * ALERTMANAGER_RESEND.as_millis() as Millis,
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

/// Labels common to every alert (Alertmanager's `commonLabels`).
pub(crate) fn common(sets: &[BTreeMap<String, String>]) -> BTreeMap<String, String> {
    let Some((first, rest)) = sets.split_first() else {
        return BTreeMap::new();
    };
    first
        .iter()
        .filter(|(k, v)| rest.iter().all(|set| set.get(*k) == Some(*v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
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
