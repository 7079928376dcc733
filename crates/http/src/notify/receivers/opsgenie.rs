//! Opsgenie Alert API v2 (<https://docs.opsgenie.com/docs/alert-api>): a firing notification
//! creates an alert (`POST /v2/alerts`), a resolved one closes it
//! (`POST /v2/alerts/{alias}/close?identifierType=alias`), with `Authorization: GenieKey <key>`.
//!
//! The `alias` is the alert's stable `dedup_key` (one per SLO instance and alert kind, at most
//! 512 characters as Opsgenie allows): Opsgenie de-duplicates a create whose alias matches an
//! open alert, so a repeat, or a create sent again after a restart, only raises its count, and
//! the close finds the alert without any id from the create. Opsgenie queues every request and
//! answers 202 Accepted: that is success here. 429 (rate limit) and 5xx are retried with
//! backoff; any other 4xx is permanent and logged with the key scrubbed. Field limits from the
//! same page: `message` 130 characters, `description` 15,000, a tag 50, `entity` 512.

use burnwatch_engine::{AlertStatus, Millis, Notification, Severity};
use burnwatch_spec::receiver::opsgenie::Opsgenie as Configuration;
use burnwatch_spec::Receiver as Configured;
use serde_json::{Map, Value, json};

use crate::notify::labels::alert_labels;
use crate::notify::message;
use crate::notify::receiver::{Kind, Receiver, Request, plugin, reveal, single};

pub(crate) const KIND: Kind = Kind {
    name: "opsgenie",
    build,
};

/// Opsgenie's limits on alert fields, in characters.
const MESSAGE_LIMIT: usize = 130;
const DESCRIPTION_LIMIT: usize = 15_000;
const TAG_LIMIT: usize = 50;
const ENTITY_LIMIT: usize = 512;

fn build(configured: &Configured) -> Result<Box<dyn Receiver>, String> {
    let settings = plugin::<Configuration>(KIND.name, configured)?;
    Ok(Box::new(Opsgenie(settings.clone())))
}

/// An Opsgenie receiver.
struct Opsgenie(Configuration);

impl Receiver for Opsgenie {
    fn request(&self, batch: &[Notification], now: Millis) -> Result<Request, String> {
        let n = single(batch)?;
        let key = reveal(&self.0.api_key)?;
        let alias = n.dedup_key();
        let base = &self.0.url;
        let mut request = match n.status {
            AlertStatus::Firing => {
                Request::json(format!("{base}/v2/alerts"), &self.create(n, now), Vec::new())?
            }
            AlertStatus::Resolved => Request::json(
                format!(
                    "{base}/v2/alerts/{}/close?identifierType=alias",
                    path_segment(&alias)
                ),
                &json!({
                    "source": "burnwatch",
                    "user": "burnwatch",
                    "note": format!("Resolved: {}", message::budget_line(n)),
                }),
                Vec::new(),
            )?,
        };
        request
            .headers
            .push(("authorization", format!("GenieKey {key}")));
        request.secrets.push(key);
        Ok(request)
    }
}

impl Opsgenie {
    /// The create-alert body.
    fn create(&self, n: &Notification, now: Millis) -> Value {
        let priority = match n.severity() {
            Severity::Page => &self.0.page_priority,
            Severity::Ticket => &self.0.ticket_priority,
        };
        let slo = &n.instance.slo;
        let headline = message::annotation(n, &["summary"])
            .map(str::to_string)
            .unwrap_or_else(|| message::headline(n));
        let tags: Vec<String> = [
            "burnwatch".to_string(),
            n.severity().as_str().to_string(),
            format!("slo:{}", slo.id),
            format!("service:{}", slo.service),
        ]
        .iter()
        .map(|tag| message::truncate_chars(tag, TAG_LIMIT))
        .collect();
        json!({
            "message": message::truncate_chars(&headline, MESSAGE_LIMIT),
            "alias": n.dedup_key(),
            "description": message::truncate_chars(&description(n, now), DESCRIPTION_LIMIT),
            "priority": priority,
            "tags": tags,
            "details": details(n),
            "entity": message::truncate_chars(&message::subject(n), ENTITY_LIMIT),
            "source": "burnwatch",
        })
    }
}

/// What a responder reads first: the figures, the condition and the links, one per line.
fn description(n: &Notification, now: Millis) -> String {
    let mut lines = Vec::new();
    if let Some(text) = n.instance.slo.description.as_deref() {
        lines.push(text.to_string());
    }
    if let Some(burn) = message::burn_line(n) {
        lines.push(format!("Burn rate: {burn}"));
    }
    lines.push(format!("Budget left: {}", message::budget_left(n)));
    if let Some(out) = message::exhaustion_line(n) {
        lines.push(format!("Budget: {out}"));
    }
    let conditions = message::conditions(n);
    if !conditions.is_empty() {
        lines.push(format!("Condition: {}", conditions.join("; ")));
    }
    let firing = std::time::Duration::from_millis(u64::try_from(now - n.fired_at).unwrap_or(0));
    lines.push(format!(
        "Firing since {} ({})",
        message::rfc3339(n.fired_at),
        message::human_duration(firing)
    ));
    for (text, href) in message::links(n) {
        lines.push(format!("{text}: {href}"));
    }
    lines.join("\n")
}

/// Opsgenie's `details`: string values only. Burn rates per window, the budget, and the
/// alert's labels (as Alertmanager and routes see them) under `label.<name>`.
fn details(n: &Notification) -> Map<String, Value> {
    let slo = &n.instance.slo;
    let mut details = Map::new();
    let mut put = |key: String, value: String| {
        details.insert(key, Value::String(value));
    };
    put("slo".into(), slo.id.clone());
    put("objective".into(), format!("{}%", slo.objective));
    put("alert".into(), n.kind.as_str().into());
    for figures in message::all_windows(n) {
        if let Some(burn) = figures.burn_rate {
            let window = message::window_key(figures.window);
            put(format!("burn_rate_{window}"), message::rate(burn));
        }
    }
    if let Some(remaining) = n.eval.period.budget_remaining {
        put("budget_remaining".into(), message::percent(remaining));
    }
    for (name, value) in alert_labels(n) {
        put(format!("label.{name}"), value);
    }
    details
}

/// `text` as one URL path segment: unreserved characters kept, every other byte `%XX`.
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::AlertKind;
    use burnwatch_spec::{Secret, SecretSource};

    fn genie() -> Opsgenie {
        Opsgenie(Configuration {
            api_key: SecretSource::Value(Secret::new("G3NIE-KEY")),
            url: "http://127.0.0.1:1".into(),
            page_priority: "P1".into(),
            ticket_priority: "P3".into(),
        })
    }

    fn request(n: &Notification) -> (Request, Value) {
        let request = genie().request(std::slice::from_ref(n), n.at).unwrap();
        let body = serde_json::from_slice(&request.body).unwrap();
        (request, body)
    }

    #[test]
    fn a_page_creates_a_p1_alert_keyed_by_its_dedup_key_with_the_genie_key() {
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let (request, body) = request(&n);
        assert_eq!(request.url, "http://127.0.0.1:1/v2/alerts");
        assert_eq!(
            request.headers,
            [("authorization", "GenieKey G3NIE-KEY".to_string())]
        );
        assert_eq!(request.secrets, ["G3NIE-KEY"]);
        assert_eq!(body["alias"], n.dedup_key());
        assert_eq!(body["priority"], "P1");
        let message = body["message"].as_str().unwrap();
        assert_eq!(message.chars().count(), 130, "{message}");
        assert!(
            message.starts_with("checkout-availability (region=eu): page error budget burn 16x over 1h"),
            "{message}"
        );
        assert_eq!(
            body["tags"],
            json!(["burnwatch", "page", "slo:checkout-availability", "service:checkout"])
        );
        assert_eq!(body["details"]["burn_rate_1h"], "16x");
        assert_eq!(body["details"]["budget_remaining"], "62.5%");
        assert_eq!(body["details"]["label.region"], "eu");
        let description = body["description"].as_str().unwrap();
        assert!(
            description.contains("Budget left: 62.5% of 30d"),
            "{description}"
        );
        assert!(
            description.contains("Runbook: https://runbooks.example/checkout"),
            "{description}"
        );
    }

    #[test]
    fn a_ticket_is_p3() {
        let n = notification(AlertKind::Ticket, AlertStatus::Firing, Figures::fast_burn());
        assert_eq!(request(&n).1["priority"], "P3");
    }

    #[test]
    fn a_resolve_closes_by_alias() {
        let n = notification(AlertKind::Page, AlertStatus::Resolved, Figures::fast_burn());
        let (request, body) = request(&n);
        assert_eq!(
            request.url,
            format!(
                "http://127.0.0.1:1/v2/alerts/{}/close?identifierType=alias",
                n.dedup_key()
            )
        );
        assert_eq!(body["source"], "burnwatch");
        assert!(body.get("alias").is_none());
    }

    #[test]
    fn an_alias_is_one_path_segment() {
        assert_eq!(path_segment("a b/c~d.e_f-9"), "a%20b%2Fc~d.e_f-9");
    }
}
