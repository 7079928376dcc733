//! Slack incoming webhooks: one message per notification that a person reads in two seconds:
//! what (SLO and group, severity), how fast (burn rates of the pair that fired), budget left,
//! when it runs out, and the runbook. Red while firing, green when resolved; `text` is the
//! fallback for notifications and clients without attachments. Slack answers 200 `ok`, 400
//! `invalid_payload` (not retried) and 429 with `Retry-After` (retried after that long).

use std::time::Duration;

use burnwatch_engine::{AlertStatus, Millis, Notification};
use burnwatch_spec::{Receiver as Configured, ReceiverKind, SecretSource};
use serde_json::{Value, json};

use crate::notify::digest::DigestMessage;
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

    fn digest(&self, digest: &DigestMessage) -> Result<Request, String> {
        let url = reveal(&self.url)?;
        Request::json(url.clone(), &digest_json(digest), vec![url])
    }
}

/// Slack's documented limits for Block Kit messages: 50 blocks per message, 3000 characters
/// in a section's text, 150 in a header.
const MAX_BLOCKS: usize = 50;
const MAX_SECTION_CHARS: usize = 3_000;
const MAX_HEADER_CHARS: usize = 150;

/// A digest as Block Kit: a header, the summary, one section per service (mrkdwn, status as a
/// coloured circle), objective changes, and `text` as the notification fallback. Services past
/// what 50 blocks hold are left out with a note saying how many and where to see them all.
pub(crate) fn digest_json(d: &DigestMessage) -> Value {
    let section = |text: String| {
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": message::truncate_chars(&text, MAX_SECTION_CHARS) } })
    };
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": message::truncate_chars(&d.title(), MAX_HEADER_CHARS) } }),
        section(escape(&d.summary())),
    ];
    let mut tail = Vec::new();
    if d.is_daily() {
        tail.push(section(escape(&d.wins_lines().join("\n"))));
    } else {
        let changes = if d.objective_changes.is_empty() {
            "*Objective changes:* none".to_string()
        } else {
            format!("*Objective changes:*\n{}", escape(&d.change_lines().join("\n")))
        };
        tail.push(section(changes));
    }
    if !d.is_daily() {
        // Header, summary, changes and a possible note leave the rest to services.
        let room = MAX_BLOCKS - blocks.len() - tail.len() - 1;
        for s in d.services.iter().take(room) {
            let mut lines = d.service_paragraph(s);
            lines[0] = format!("{} *{}*", s.status.emoji(), escape(&s.subject()));
            let text = std::iter::once(lines[0].clone())
                .chain(lines[1..].iter().map(|l| escape(l)))
                .collect::<Vec<_>>()
                .join("\n");
            blocks.push(section(text));
        }
        if d.services.len() > room {
            blocks.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": format!(
                "{} more SLOs not shown: Slack takes at most {MAX_BLOCKS} blocks per message; \
                 `burnwatch digest --preview --name {}` or `burnwatch report` shows them all",
                d.services.len() - room, d.digest
            ) }] }));
        }
    }
    blocks.extend(tail);
    json!({
        "text": escape(&format!("{}: {}", d.title(), d.summary())),
        "blocks": blocks,
    })
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
