//! Microsoft Teams: one Adaptive Card (version 1.4) per notification, POSTed to a Workflows
//! webhook ("When a Teams webhook request is received") or a legacy incoming webhook, wrapped as
//! both accept it: `{"type": "message", "attachments": [{"contentType":
//! "application/vnd.microsoft.card.adaptive", "content": <card>}]}`
//! (<https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using>,
//! <https://adaptivecards.io/explorer/>). The card reads like the Slack message: state and
//! severity, the SLO, burn rates, budget left, when it runs out, and the runbook and dashboard
//! as buttons.
//!
//! Answers: Workflows 202, incoming webhooks 200. A legacy webhook wraps the channel's own
//! failure in a 200 whose body reads `Webhook message delivery failed with error: Microsoft
//! Teams endpoint returned HTTP error 429 ...` (documented in MicrosoftDocs/msteams-docs issues
//! 7425 and 4145): that status decides, so a throttled message is retried and a 400 or 413 is
//! not. Pacing: the connectors' documented limit is 4 requests per second and 60 per 30 seconds
//! per webhook, so messages go at least half a second apart.

use std::time::Duration;

use burnwatch_engine::{AlertStatus, Millis, Notification};
use burnwatch_spec::receiver::teams::Teams as Configuration;
use burnwatch_spec::Receiver as Configured;
use serde_json::{Value, json};

use crate::notify::digest::{DigestMessage, Status};
use crate::notify::message;
use crate::notify::receiver::{
    Kind, Receiver, Reply, Request, Settings, Verdict, classify_http, plugin, reveal, single,
};

pub(crate) const KIND: Kind = Kind {
    name: "teams",
    build,
};

/// At most two messages a second: within both 4 per second and 60 per 30 seconds.
pub(crate) const GAP: Duration = Duration::from_millis(500);

/// How a legacy webhook reports, inside a 200, that the message did not reach the channel.
const DELIVERY_FAILED: &str = "endpoint returned HTTP error ";

fn build(configured: &Configured) -> Result<Box<dyn Receiver>, String> {
    let settings = plugin::<Configuration>(KIND.name, configured)?;
    Ok(Box::new(Teams(settings.clone())))
}

/// A Teams receiver.
struct Teams(Configuration);

impl Teams {
    /// A message holding one Adaptive Card, to the workflow's URL.
    fn post(&self, card: Value) -> Result<Request, String> {
        let url = reveal(&self.0.url)?;
        let body = json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        });
        // A Workflows URL's credential is its `sig`: scrubbed also where it shows alone.
        let signature = url
            .split_once('?')
            .into_iter()
            .flat_map(|(_, query)| query.split('&'))
            .filter_map(|pair| pair.strip_prefix("sig="))
            .map(str::to_string);
        let secrets = std::iter::once(url.clone()).chain(signature).collect();
        Request::json(url, &body, secrets)
    }
}

impl Receiver for Teams {
    fn settings(&self, receiver: &Configured) -> Settings {
        Settings::configured(receiver, GAP)
    }

    fn request(&self, batch: &[Notification], now: Millis) -> Result<Request, String> {
        self.post(card(single(batch)?, now))
    }

    fn digest(&self, digest: &DigestMessage) -> Result<Request, String> {
        self.post(digest_card(digest))
    }

    fn classify(&self, reply: &Reply) -> Verdict {
        let wrapped = (200..300).contains(&reply.status)
            .then(|| reply.body.split_once(DELIVERY_FAILED))
            .flatten()
            .and_then(|(_, rest)| rest.get(..3)?.parse::<u16>().ok());
        match wrapped {
            Some(status) => classify_http(&Reply {
                status,
                retry_after: None,
                body: String::new(),
            }),
            None => classify_http(reply),
        }
    }
}

/// Teams takes messages up to about 28 KB: services past [`MAX_DIGEST_SERVICES`] are left out
/// with a note (each takes a few hundred bytes).
const MAX_DIGEST_SERVICES: usize = 40;

/// A digest as an Adaptive Card: title, summary, then per service a coloured heading and its
/// figures as text (weekly), or the wins (daily), and the objective changes.
fn digest_card(d: &DigestMessage) -> Value {
    let text = |text: String| json!({ "type": "TextBlock", "text": text, "wrap": true });
    let mut body = vec![
        json!({ "type": "TextBlock", "text": d.title(), "size": "Large", "weight": "Bolder", "wrap": true }),
        text(d.summary()),
    ];
    if d.is_daily() {
        body.extend(d.wins_lines().into_iter().map(text));
    } else {
        for s in d.services.iter().take(MAX_DIGEST_SERVICES) {
            let lines = d.service_paragraph(s);
            let color = match s.status {
                Status::Green => "Good",
                Status::Yellow => "Warning",
                Status::Red => "Attention",
            };
            body.push(json!({ "type": "TextBlock", "text": lines[0], "weight": "Bolder", "color": color, "wrap": true, "separator": true }));
            body.push(text(lines[1..].join("\n\n")));
        }
        if d.services.len() > MAX_DIGEST_SERVICES {
            body.push(text(format!(
                "{} more SLOs not shown (Teams limits a message to about 28 KB); `burnwatch report` shows them all",
                d.services.len() - MAX_DIGEST_SERVICES
            )));
        }
        let changes = d.change_lines();
        body.push(text(if changes.is_empty() {
            "Objective changes: none".to_string()
        } else {
            format!("Objective changes:\n\n{}", changes.join("\n\n"))
        }));
    }
    json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": { "width": "Full" },
        "fallbackText": format!("{}: {}", d.title(), d.summary()),
        "body": body,
    })
}

/// The Adaptive Card.
fn card(n: &Notification, now: Millis) -> Value {
    let firing = n.status == AlertStatus::Firing;
    let state = if firing { "FIRING" } else { "RESOLVED" };
    let slo = &n.instance.slo;
    let mut facts = vec![
        json!({ "title": "State", "value": if firing { "Firing" } else { "Resolved" } }),
        json!({
            "title": "SLO",
            "value": format!(
                "{} ({}% over {})",
                slo.id,
                slo.objective,
                message::window_key(n.eval.period.window.window)
            ),
        }),
    ];
    facts.extend(
        message::facts(n, now)
            .into_iter()
            .map(|(title, value)| json!({ "title": title, "value": value })),
    );
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": format!("{state} {}: {}", n.severity().as_str(), message::subject(n)),
        "size": "Large",
        "weight": "Bolder",
        "color": if firing { "Attention" } else { "Good" },
        "wrap": true,
    })];
    if let Some(text) = message::annotation(n, &["summary"]).or(slo.description.as_deref()) {
        body.push(json!({ "type": "TextBlock", "text": text, "wrap": true }));
    }
    body.push(json!({ "type": "FactSet", "facts": facts }));
    let actions: Vec<Value> = message::links(n)
        .into_iter()
        .map(|(title, url)| json!({ "type": "Action.OpenUrl", "title": title, "url": url }))
        .collect();
    json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": { "width": "Full" },
        "fallbackText": format!("{state} {}", message::headline(n)),
        "body": body,
        "actions": actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::AlertKind;
    use burnwatch_spec::{Secret, SecretSource};

    fn teams() -> Teams {
        Teams(Configuration {
            url: SecretSource::Value(Secret::new("http://127.0.0.1:1/workflows/x?sig=s")),
        })
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            retry_after: None,
            body: body.to_string(),
        }
    }

    #[test]
    fn a_firing_card_shows_state_slo_burn_budget_and_links() {
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let card = card(&n, n.at);
        assert_eq!(card["version"], "1.4");
        assert_eq!(
            card["body"][0]["text"],
            "FIRING page: checkout-availability (region=eu)"
        );
        assert_eq!(card["body"][0]["color"], "Attention");
        let facts: Vec<String> = card["body"][2]["facts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{}={}", f["title"].as_str().unwrap(), f["value"].as_str().unwrap()))
            .collect();
        assert_eq!(
            facts,
            [
                "State=Firing",
                "SLO=checkout-availability (99.9% over 30d)",
                "Burn rate=16x over 1h, 20x over 5m (threshold 14.4x)",
                "Budget left=62.5% of 30d",
                "Runs out=in 1d 4h at the 1h rate",
                "Firing for=10m",
            ]
        );
        assert_eq!(card["actions"][0]["url"], "https://runbooks.example/checkout");
    }

    #[test]
    fn a_resolved_card_is_green() {
        let n = notification(AlertKind::Page, AlertStatus::Resolved, Figures::fast_burn());
        let card = card(&n, n.at);
        assert_eq!(card["body"][0]["color"], "Good");
        assert!(card["body"][0]["text"].as_str().unwrap().starts_with("RESOLVED"));
    }

    #[test]
    fn the_url_and_its_signature_are_secrets() {
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let request = teams().request(std::slice::from_ref(&n), n.at).unwrap();
        assert_eq!(
            request.secrets,
            ["http://127.0.0.1:1/workflows/x?sig=s", "s"]
        );
    }

    #[test]
    fn a_failure_wrapped_in_a_200_decides() {
        let throttled = "Webhook message delivery failed with error: Microsoft Teams endpoint \
                         returned HTTP error 429 with ContextId tcid=0,server=msgapi-production";
        assert_eq!(teams().classify(&reply(200, throttled)), Verdict::Retry(None));
        let too_large = throttled.replace("429", "413");
        assert_eq!(teams().classify(&reply(200, &too_large)), Verdict::Rejected);
        assert_eq!(teams().classify(&reply(200, "1")), Verdict::Accepted);
        assert_eq!(teams().classify(&reply(202, "")), Verdict::Accepted);
        assert_eq!(teams().classify(&reply(400, "")), Verdict::Rejected);
    }
}
