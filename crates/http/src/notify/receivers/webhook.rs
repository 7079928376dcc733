//! Generic webhooks in Alertmanager's webhook format (version 4), so receivers written for
//! Alertmanager (chat bridges, ticket systems, custom automation) accept burnwatch unchanged.

use std::collections::BTreeMap;

use burnwatch_engine::{AlertStatus, Millis, Notification};
use burnwatch_spec::{Receiver as Configured, ReceiverKind, SecretSource};
use serde_json::{Value, json};

use crate::notify::labels::{alert_annotations, alert_labels, common, fingerprint};
use crate::notify::digest::DigestMessage;
use crate::notify::message;
use crate::notify::receiver::{Kind, Receiver, Request, not_mine, reveal};

pub(crate) const KIND: Kind = Kind {
    name: "webhook",
    build,
};

fn build(configured: &Configured) -> Result<Box<dyn Receiver>, String> {
    let ReceiverKind::Webhook { url } = &configured.kind else {
        return Err(not_mine(KIND.name, configured));
    };
    Ok(Box::new(Webhook {
        receiver: configured.name.clone(),
        url: url.clone(),
    }))
}

/// Alertmanager writes an unset `endsAt` as Go's zero time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
/// The labels burnwatch groups by: one group per alert of one SLO instance.
const GROUP_BY: [&str; 3] = ["alertname", "sloth_id", "sloth_severity"];

/// A webhook receiver.
pub(crate) struct Webhook {
    /// The receiver's name (`receiver` in the payload).
    pub receiver: String,
    pub url: SecretSource,
}

impl Receiver for Webhook {
    /// Sent one at a time, like Alertmanager's webhook notifier per alert group.
    fn request(&self, batch: &[Notification], _now: Millis) -> Result<Request, String> {
        let url = reveal(&self.url)?;
        Request::json(url.clone(), &self.payload(batch), vec![url])
    }

    /// The structured digest, `{"type": "digest", "receiver": ..., "text": ..., <DigestMessage>}`:
    /// every figure as a number, times in RFC 3339, plus the plain text for simple bridges.
    fn digest(&self, digest: &DigestMessage) -> Result<Request, String> {
        let url = reveal(&self.url)?;
        let mut body = serde_json::to_value(digest).map_err(|err| err.to_string())?;
        if let Value::Object(map) = &mut body {
            map.insert("type".into(), json!("digest"));
            map.insert("receiver".into(), json!(self.receiver));
            map.insert("text".into(), json!(digest.text()));
        }
        Request::json(url.clone(), &body, vec![url])
    }
}

impl Webhook {
    fn payload(&self, batch: &[Notification]) -> Value {
        let labels: Vec<BTreeMap<String, String>> = batch.iter().map(alert_labels).collect();
        let annotations: Vec<BTreeMap<String, String>> =
            batch.iter().map(alert_annotations).collect();
        let common_labels = common(&labels);
        let mut group_labels = common_labels.clone();
        group_labels.retain(|k, _| GROUP_BY.contains(&k.as_str()));
        let group_key = format!(
            "{{}}:{{{}}}",
            group_labels
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let firing = batch.iter().any(|n| n.status == AlertStatus::Firing);
        let alerts: Vec<Value> = batch
            .iter()
            .zip(labels.iter().zip(&annotations))
            .map(|(n, (labels, annotations))| {
                let ends_at = match n.status {
                    AlertStatus::Firing => ZERO_TIME.to_string(),
                    AlertStatus::Resolved => message::rfc3339(n.at),
                };
                json!({
                    "status": n.status.as_str(),
                    "labels": labels,
                    "annotations": annotations,
                    "startsAt": message::rfc3339(n.fired_at),
                    "endsAt": ends_at,
                    "generatorURL": "",
                    "fingerprint": fingerprint(labels),
                })
            })
            .collect();
        json!({
            "version": "4",
            "groupKey": group_key,
            "truncatedAlerts": 0,
            "status": if firing { "firing" } else { "resolved" },
            "receiver": self.receiver,
            "groupLabels": group_labels,
            "commonLabels": common_labels,
            "commonAnnotations": common(&annotations),
            "externalURL": "",
            "alerts": alerts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::AlertKind;
    use burnwatch_spec::Secret;

    #[test]
    fn payload_is_alertmanager_webhook_version_4() {
        let webhook = Webhook {
            receiver: "hooks".into(),
            url: SecretSource::Value(Secret::new("http://127.0.0.1:1/hook")),
        };
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let body = webhook.payload(std::slice::from_ref(&n));
        assert_eq!(body["version"], "4");
        assert_eq!(body["status"], "firing");
        assert_eq!(body["receiver"], "hooks");
        assert_eq!(
            body["groupKey"],
            r#"{}:{alertname="CheckoutBudgetBurn", sloth_id="checkout-availability", sloth_severity="page"}"#
        );
        assert_eq!(body["commonLabels"]["region"], "eu");
        let alert = &body["alerts"][0];
        assert_eq!(alert["endsAt"], ZERO_TIME);
        assert_eq!(alert["fingerprint"].as_str().unwrap().len(), 16);
        assert_eq!(
            alert["annotations"]["runbook"],
            "https://runbooks.example/checkout"
        );
    }
}
