//! What a receiver kind is to the notifier: the [`Receiver`] trait and the types it speaks in.
//! Each kind is one file in `receivers/` implementing it; this module imports none of them.
//!
//! A kind says how it repeats and paces ([`Settings`]), whether it takes several alerts in one
//! request ([`Receiver::batches`]), how notifications become a [`Request`] (secrets are read
//! then, so a rotated `*_file` works) and what its answer means ([`Receiver::classify`]).

use std::time::Duration;

use super::digest::DigestMessage;
use burnwatch_engine::{Millis, Notification};
use burnwatch_spec::{PluginSettings, Receiver as Configured, ReceiverKind, SecretSource};

/// One POST: where, what, and which strings must be scrubbed from anything logged about it.
pub(crate) struct Request {
    /// The endpoint; may itself be a secret (Slack and webhook URLs): never log it.
    pub url: String,
    /// JSON.
    pub body: Vec<u8>,
    /// Headers beyond `Content-Type: application/json` (an API key's `Authorization`).
    pub headers: Vec<(&'static str, String)>,
    /// Secret values in this request (routing key, URL), scrubbed from logged response bodies.
    pub secrets: Vec<String>,
}

impl Request {
    /// A POST of `body` as JSON to `url`, without extra headers.
    pub(crate) fn json(
        url: String,
        body: &impl serde::Serialize,
        secrets: Vec<String>,
    ) -> Result<Request, String> {
        Ok(Request {
            url,
            body: serde_json::to_vec(body).map_err(|err| err.to_string())?,
            headers: Vec::new(),
            secrets,
        })
    }
}

/// What a receiver answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    /// `Retry-After` in seconds, when given as seconds.
    pub retry_after: Option<Duration>,
    /// The start of the body (at most a few KiB).
    pub body: String,
}

/// What an answer means.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// Accepted (or queued by the receiver: Opsgenie's 202).
    Accepted,
    /// May succeed later (throttled, unavailable): retried, after `Retry-After` if given.
    Retry(Option<Duration>),
    /// Will not succeed: not retried; the body (scrubbed) is logged.
    Rejected,
}

/// The usual HTTP meaning: 2xx accepted; 408, 429 and 5xx retried (honouring `Retry-After`);
/// any other answer rejected.
pub(crate) fn classify_http(reply: &Reply) -> Verdict {
    match reply.status {
        200..=299 => Verdict::Accepted,
        408 | 429 | 500..=599 => Verdict::Retry(reply.retry_after),
        _ => Verdict::Rejected,
    }
}

/// How a receiver repeats and paces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    /// Re-send a firing alert after this long; None: never.
    pub repeat: Option<Duration>,
    /// Deliver resolved notifications.
    pub send_resolved: bool,
    /// Keep re-sending resolved alerts for this long (Alertmanager); zero: not at all.
    pub resolved_for: Duration,
    /// Minimum time between two requests.
    pub gap: Duration,
}

impl Settings {
    /// As configured (`repeat_interval`, `send_resolved`), with at least `gap` between requests.
    pub(crate) fn configured(receiver: &Configured, gap: Duration) -> Settings {
        Settings {
            repeat: (!receiver.repeat_interval.is_zero()).then_some(receiver.repeat_interval),
            send_resolved: receiver.send_resolved,
            resolved_for: Duration::ZERO,
            gap,
        }
    }
}

/// A receiver kind as the registry lists it: its `type` and how it is built.
pub(crate) struct Kind {
    /// The configuration's `type` (`burnwatch_spec::ReceiverKind::type_name`).
    pub name: &'static str,
    /// The receiver for a configuration of this type.
    pub build: fn(&Configured) -> Result<Box<dyn Receiver>, String>,
}

/// The error of a `build` handed another type's configuration.
pub(crate) fn not_mine(kind: &str, receiver: &Configured) -> String {
    format!(
        "internal error: receiver `{}` of type \"{}\" built as \"{kind}\"",
        receiver.name,
        receiver.kind.type_name()
    )
}

/// The settings of a plug-in type `T` (`ReceiverKind::Plugin`), for its `build`.
pub(crate) fn plugin<'a, T: PluginSettings>(
    kind: &str,
    receiver: &'a Configured,
) -> Result<&'a T, String> {
    match &receiver.kind {
        ReceiverKind::Plugin(plugin) => plugin.get::<T>(),
        _ => None,
    }
    .ok_or_else(|| not_mine(kind, receiver))
}

/// A receiver kind, built from its configuration by its file's `build`.
pub(crate) trait Receiver: Send + Sync {
    /// How it repeats and paces; by default as configured, unpaced.
    fn settings(&self, receiver: &Configured) -> Settings {
        Settings::configured(receiver, Duration::ZERO)
    }

    /// Whether one request may carry several notifications (its periodic re-send); otherwise
    /// [`Receiver::request`] gets one at a time.
    fn batches(&self) -> bool {
        false
    }

    /// The request for `batch` at wall time `now`. Errors say what went wrong without any
    /// secret (a missing secret file names its path).
    fn request(&self, batch: &[Notification], now: Millis) -> Result<Request, String>;

    /// The request carrying `digest` (a scheduled summary); by default an error: only chat and
    /// webhook kinds take digests (configuration validation allows no others).
    fn digest(&self, digest: &DigestMessage) -> Result<Request, String> {
        Err(format!(
            "internal error: digest `{}` sent to a receiver kind that takes no digests",
            digest.digest
        ))
    }

    /// What `reply` means; by default [`classify_http`].
    fn classify(&self, reply: &Reply) -> Verdict {
        classify_http(reply)
    }
}

/// The one notification of a kind that does not batch.
pub(crate) fn single(batch: &[Notification]) -> Result<&Notification, String> {
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
