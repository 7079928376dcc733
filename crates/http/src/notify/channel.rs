//! What a configured receiver becomes: one of the four payload formats, and the HTTP request a
//! batch of notifications turns into. Secrets are read here, at the moment of sending (a
//! `*_file` is re-read every time, so rotated keys work), and travel only inside [`Request`].

use std::time::Duration;

use burnwatch_engine::{Millis, Notification};
use burnwatch_spec::{Receiver, ReceiverKind, SecretSource};

use super::alertmanager::Alertmanager;
use super::pagerduty::PagerDuty;
use super::slack::Slack;
use super::webhook::Webhook;

/// One POST: where, what, and which strings must be scrubbed from anything logged about it.
pub(crate) struct Request {
    /// The endpoint; may itself be a secret (Slack and webhook URLs): never log it.
    pub url: String,
    /// JSON.
    pub body: Vec<u8>,
    /// Secret values in this request (routing key, URL), scrubbed from logged response bodies.
    pub secrets: Vec<String>,
}

/// The payload format of a receiver.
pub(crate) enum Channel {
    PagerDuty(PagerDuty),
    Slack(Slack),
    Webhook(Webhook),
    Alertmanager(Alertmanager),
}

/// How long Alertmanager keeps hearing about a resolved alert (Prometheus: 15 minutes).
pub(crate) const ALERTMANAGER_RESOLVED_FOR: Duration = Duration::from_secs(15 * 60);
/// How often firing alerts are re-sent to Alertmanager (Prometheus' `--rules.alert.resend-delay`).
pub(crate) const ALERTMANAGER_RESEND: Duration = Duration::from_secs(60);
/// At most one Slack message per second per webhook (Slack's documented limit).
pub(crate) const SLACK_GAP: Duration = Duration::from_secs(1);

impl Channel {
    pub(crate) fn new(receiver: &Receiver) -> Channel {
        match &receiver.kind {
            ReceiverKind::PagerDuty {
                routing_key,
                url,
                page_severity,
                ticket_severity,
            } => Channel::PagerDuty(PagerDuty {
                routing_key: routing_key.clone(),
                url: url.clone(),
                page_severity: page_severity.clone(),
                ticket_severity: ticket_severity.clone(),
            }),
            ReceiverKind::Slack { url } => Channel::Slack(Slack { url: url.clone() }),
            ReceiverKind::Webhook { url } => Channel::Webhook(Webhook {
                receiver: receiver.name.clone(),
                url: url.clone(),
            }),
            ReceiverKind::Alertmanager { url } => Channel::Alertmanager(Alertmanager {
                url: format!("{}/api/v2/alerts", url.trim_end_matches('/')),
            }),
        }
    }

    /// Only Alertmanager takes several alerts in one request (its periodic re-send).
    pub(crate) fn batches(&self) -> bool {
        matches!(self, Channel::Alertmanager(_))
    }

    /// The request for `batch` (one notification unless [`Channel::batches`]) at wall time `now`.
    /// Errors say what went wrong without any secret (a missing secret file names its path).
    pub(crate) fn request(&self, batch: &[Notification], now: Millis) -> Result<Request, String> {
        match self {
            Channel::PagerDuty(pd) => pd.request(single(batch)?, now),
            Channel::Slack(slack) => slack.request(single(batch)?, now),
            Channel::Webhook(webhook) => webhook.request(batch, now),
            Channel::Alertmanager(am) => am.request(batch, now),
        }
    }
}

fn single(batch: &[Notification]) -> Result<&Notification, String> {
    match batch {
        [n] => Ok(n),
        _ => Err(format!(
            "internal error: {} notifications in one request to a receiver that takes one",
            batch.len()
        )),
    }
}

/// The secret's value: inline, or the trimmed content of its file read now.
pub(crate) fn reveal(source: &SecretSource) -> Result<String, String> {
    source.reveal().map_err(|err| format!("secret file: {err}"))
}
