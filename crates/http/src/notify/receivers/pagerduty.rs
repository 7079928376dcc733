//! PagerDuty Events API v2: a `trigger` per firing notification and a `resolve` per resolved one,
//! both keyed by the alert's stable `dedup_key`, so a repeat updates the open incident and the
//! resolve closes it even after a restart. PagerDuty answers 202 (accepted), 400 (invalid: not
//! retried), 429 (throttled: retried).

use burnwatch_engine::{AlertStatus, Millis, Notification, Severity};
use burnwatch_spec::{Receiver as Configured, ReceiverKind, SecretSource};
use serde_json::{Map, Value, json};

use crate::notify::message;
use crate::notify::receiver::{Kind, Receiver, Request, not_mine, reveal, single};

pub(crate) const KIND: Kind = Kind {
    name: "pagerduty",
    build,
};

fn build(configured: &Configured) -> Result<Box<dyn Receiver>, String> {
    let ReceiverKind::PagerDuty {
        routing_key,
        url,
        page_severity,
        ticket_severity,
    } = &configured.kind
    else {
        return Err(not_mine(KIND.name, configured));
    };
    Ok(Box::new(PagerDuty {
        routing_key: routing_key.clone(),
        url: url.clone(),
        page_severity: page_severity.clone(),
        ticket_severity: ticket_severity.clone(),
    }))
}

/// PagerDuty's limit on `payload.summary`, in characters.
pub(crate) const SUMMARY_LIMIT: usize = 1_024;

/// A PagerDuty receiver.
pub(crate) struct PagerDuty {
    pub routing_key: SecretSource,
    pub url: String,
    pub page_severity: String,
    pub ticket_severity: String,
}

impl Receiver for PagerDuty {
    fn request(&self, batch: &[Notification], now: Millis) -> Result<Request, String> {
        let n = single(batch)?;
        let routing_key = reveal(&self.routing_key)?;
        let body = match n.status {
            AlertStatus::Firing => self.trigger(n, &routing_key, now),
            AlertStatus::Resolved => json!({
                "routing_key": routing_key,
                "event_action": "resolve",
                "dedup_key": n.dedup_key(),
            }),
        };
        Request::json(self.url.clone(), &body, vec![routing_key])
    }
}

impl PagerDuty {
    fn trigger(&self, n: &Notification, routing_key: &str, now: Millis) -> Value {
        let severity = match n.severity() {
            Severity::Page => &self.page_severity,
            Severity::Ticket => &self.ticket_severity,
        };
        let summary = message::annotation(n, &["summary"])
            .map(str::to_string)
            .unwrap_or_else(|| message::headline(n));
        let links: Vec<Value> = message::links(n)
            .into_iter()
            .map(|(text, href)| json!({ "href": href, "text": text }))
            .collect();
        json!({
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": n.dedup_key(),
            "payload": {
                "summary": message::truncate_chars(&summary, SUMMARY_LIMIT),
                "source": "burnwatch",
                "severity": severity,
                "timestamp": message::rfc3339(n.at),
                "component": n.instance.slo.service,
                "group": n.instance.slo.id,
                "class": n.kind.as_str(),
                "custom_details": custom_details(n, now),
            },
            "links": links,
            "client": "burnwatch",
        })
    }
}

/// Everything a responder wants on the incident without opening a dashboard.
fn custom_details(n: &Notification, now: Millis) -> Value {
    let slo = &n.instance.slo;
    let mut burn_rate = Map::new();
    let mut error_ratio = Map::new();
    for figures in message::all_windows(n) {
        let key = message::window_key(figures.window);
        let round = |x: Option<f64>| x.map(|x| message::round_sig(x, 4));
        burn_rate.insert(key.clone(), json!(round(figures.burn_rate)));
        error_ratio.insert(key, json!(round(figures.error_ratio)));
    }
    let labels: Map<String, Value> = n
        .instance
        .labels()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let period = &n.eval.period;
    let human = |d: Option<std::time::Duration>| d.map(message::human_duration);
    let mut details = json!({
        "slo": slo.id,
        "service": slo.service,
        "objective": format!("{}%", slo.objective),
        "period": message::window_key(period.window.window),
        "labels": labels,
        "alert": n.kind.as_str(),
        "firing_since": message::rfc3339(n.fired_at),
        "firing_for": message::human_duration(std::time::Duration::from_millis(
            u64::try_from(now - n.fired_at).unwrap_or(0),
        )),
        "burn_rate": burn_rate,
        "error_ratio": error_ratio,
        "budget_remaining": period.budget_remaining.map(message::percent),
        "exhaustion_at_1h_burn": human(period.exhaustion_at_1h_burn),
        "exhaustion_at_6h_burn": human(period.exhaustion_at_6h_burn),
        "data_state": n.eval.data_state.as_str(),
    });
    let fired: Vec<Value> = message::firing_pairs(n)
        .iter()
        .map(|p| {
            json!({
                "short": message::window_key(p.short),
                "long": message::window_key(p.long),
                "factor": message::round_sig(p.factor, 4),
            })
        })
        .collect();
    if !fired.is_empty() {
        details["fired_by"] = Value::Array(fired);
        details["condition"] = json!(message::conditions(n).join("; "));
    }
    if let Some(description) = &slo.description {
        details["description"] = json!(description);
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::AlertKind;
    use burnwatch_spec::Secret;

    fn pd() -> PagerDuty {
        PagerDuty {
            routing_key: SecretSource::Value(Secret::new("R0UTINGKEY")),
            url: "http://127.0.0.1:1/v2/enqueue".into(),
            page_severity: "critical".into(),
            ticket_severity: "warning".into(),
        }
    }

    fn body(n: &Notification) -> Value {
        let batch = std::slice::from_ref(n);
        serde_json::from_slice(&pd().request(batch, n.at).unwrap().body).unwrap()
    }

    #[test]
    fn trigger_carries_figures_and_the_firing_pair() {
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let body = body(&n);
        assert_eq!(body["event_action"], "trigger");
        assert_eq!(body["payload"]["severity"], "critical");
        let details = &body["payload"]["custom_details"];
        assert_eq!(details["burn_rate"]["1h"], 16.0);
        assert_eq!(details["burn_rate"]["30d"], 0.375);
        assert_eq!(details["error_ratio"]["5m"], 0.02);
        assert_eq!(details["budget_remaining"], "62.5%");
        assert_eq!(details["exhaustion_at_1h_burn"], "1d 4h");
        assert_eq!(details["fired_by"][0]["long"], "1h");
        assert_eq!(details["fired_by"][0]["factor"], 14.4);
        assert_eq!(details["firing_for"], "10m");
        assert_eq!(
            body["links"][0]["href"],
            "https://runbooks.example/checkout"
        );
    }

    #[test]
    fn resolve_needs_only_the_key_and_the_dedup_key() {
        let n = notification(
            AlertKind::Ticket,
            AlertStatus::Resolved,
            Figures::fast_burn(),
        );
        let body = body(&n);
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["dedup_key", "event_action", "routing_key"]);
        assert_eq!(body["dedup_key"], n.dedup_key());
    }
}
