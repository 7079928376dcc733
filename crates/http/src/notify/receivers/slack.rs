//! Slack incoming webhooks: one message per notification that a person reads in two seconds:
//! what (SLO and group, severity), how fast (burn rates of the pair that fired), budget left,
//! when it runs out, and the runbook. Red while firing, green when resolved; `text` is the
//! fallback for notifications and clients without attachments. Slack answers 200 `ok`, 400
//! `invalid_payload` (not retried) and 429 with `Retry-After` (retried after that long).

use std::time::Duration;

use burnwatch_engine::{AlertStatus, Millis, Notification};
use burnwatch_spec::{Receiver as Configured, ReceiverKind, SecretSource};
use serde_json::{Value, json};

use crate::notify::message;
use crate::notify::receiver::{Kind, Receiver, Request, Settings, not_mine, reveal, single};

pub(crate) const KIND: Kind = Kind {
    name: "slack",
    build,
};

/// At most one Slack message per second per webhook (Slack's documented limit).
pub(crate) const GAP: Duration = Duration::from_secs(1);

fn build(configured: &Configured) -> Result<Box<dyn Receiver>, String> {
    let ReceiverKind::Slack { url } = &configured.kind else {
        return Err(not_mine(KIND.name, configured));
    };
    Ok(Box::new(Slack { url: url.clone() }))
}

/// Attachment colour while firing.
pub(crate) const FIRING_COLOR: &str = "#d62728";
/// Attachment colour once resolved.
pub(crate) const RESOLVED_COLOR: &str = "#2ca02c";

/// A Slack receiver.
pub(crate) struct Slack {
    pub url: SecretSource,
}

impl Receiver for Slack {
    fn settings(&self, receiver: &Configured) -> Settings {
        Settings::configured(receiver, GAP)
    }

    fn request(&self, batch: &[Notification], now: Millis) -> Result<Request, String> {
        let url = reveal(&self.url)?;
        Request::json(url.clone(), &message_json(single(batch)?, now), vec![url])
    }
}

fn message_json(n: &Notification, now: Millis) -> Value {
    let firing = n.status == AlertStatus::Firing;
    let status = if firing { "FIRING" } else { "RESOLVED" };
    let title = format!(
        "{status} {}: {}",
        n.severity().as_str(),
        escape(&message::subject(n))
    );
    let fallback = format!("{status} {}", escape(&message::headline(n)));
    let mut fields: Vec<Value> = message::facts(n, now)
        .into_iter()
        .map(|(title, value)| json!({ "title": title, "value": value, "short": true }))
        .collect();
    let links = message::links(n);
    if let Some((_, runbook)) = links.iter().find(|(text, _)| *text == "Runbook") {
        fields.push(json!({
            "title": "Runbook",
            "value": format!("<{runbook}|open runbook>"),
            "short": true,
        }));
    }
    let mut attachment = json!({
        "color": if firing { FIRING_COLOR } else { RESOLVED_COLOR },
        "fallback": fallback,
        "title": title,
        "fields": fields,
        "footer": "burnwatch",
        "ts": n.at / 1_000,
    });
    if let Some((_, dashboard)) = links.iter().find(|(text, _)| *text == "Dashboard") {
        attachment["title_link"] = json!(dashboard);
    }
    if let Some(text) =
        message::annotation(n, &["summary"]).or(n.instance.slo.description.as_deref())
    {
        attachment["text"] = json!(escape(text));
    }
    json!({ "text": fallback, "attachments": [attachment] })
}

/// Slack's three control characters in message text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::AlertKind;

    fn value(n: &Notification) -> Value {
        message_json(n, n.at)
    }

    #[test]
    fn firing_message_answers_what_how_fast_budget_and_when() {
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let body = value(&n);
        let attachment = &body["attachments"][0];
        assert_eq!(attachment["color"], FIRING_COLOR);
        assert_eq!(
            attachment["title"],
            "FIRING page: checkout-availability (region=eu)"
        );
        let fields: Vec<String> = attachment["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{}={}",
                    f["title"].as_str().unwrap(),
                    f["value"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            fields,
            [
                "Burn rate=16x over 1h, 20x over 5m (threshold 14.4x)",
                "Budget left=62.5% of 30d",
                "Runs out=in 1d 4h at the 1h rate",
                "Firing for=10m",
                "Runbook=<https://runbooks.example/checkout|open runbook>",
            ]
        );
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .starts_with("FIRING checkout-availability")
        );
    }

    #[test]
    fn resolved_message_is_green() {
        let n = notification(
            AlertKind::Ticket,
            AlertStatus::Resolved,
            Figures::fast_burn(),
        );
        let body = value(&n);
        assert_eq!(body["attachments"][0]["color"], RESOLVED_COLOR);
        assert!(body["text"].as_str().unwrap().starts_with("RESOLVED"));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}
