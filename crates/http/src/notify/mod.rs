//! Notifications: routing the engine's alert transitions to PagerDuty, Slack, webhooks,
//! Alertmanager, Opsgenie and Microsoft Teams, and getting them delivered.
//!
//! The engine decides *when* something needs sending ([`burnwatch_engine::Notification`]); this
//! module decides *where* and *how*: [`Dispatcher`] matches every `[[route]]` against the alert's
//! labels and hands the notification to each matching receiver's bounded queue; one worker per
//! receiver delivers in order with retries, repeats still-firing alerts and paces Slack and Teams. It
//! counts what it sent, failed and dropped (`burnwatch_notifications_total`), Prometheus'
//! `notifier` style.
//!
//! Files, one concept each: `dispatcher` (channel in, queues out, shutdown), `route` (which
//! receivers), `queue` (a receiver's worker: order, repeats), `delivery` (one request: HTTP,
//! retries, backoff), `receiver` (the `Receiver` trait a kind implements: settings, request,
//! answer), `receivers` (one file per kind: `pagerduty`, `slack`, `webhook`, `alertmanager`,
//! `opsgenie`, `teams`, and the registry), `labels` (Alertmanager-style labels and
//! annotations), `message` (human text: durations, percentages, the headline, a chat message's
//! facts), `clock` (wall time from tokio time, so tests run with paused time), `metrics`,
//! `journal` (what survives a restart, written on change) and `store` (its file,
//! `<data-dir>/notifications.json`). Imports point one way: the kinds import `receiver`,
//! `message` and `labels`; `receivers` imports the kinds; `queue`, `delivery` and `dispatcher`
//! know kinds only through `receiver` (and the dispatcher builds them through `receivers`).
//!
//! Restarts: with [`Dispatcher::with_state_dir`] a restarted (even `kill -9`ed) daemon delivers
//! what the previous one had not, repeats firing alerts on the previous schedule, and does not
//! trigger again an alert the receiver already holds open, nor resolve one twice. Delivery is
//! at least once: a kill in the milliseconds between a receiver accepting a request and the
//! journal write recording it sends that request again after the restart.
//!
//! Digests (`[[digest]]`, the weekly SLO review and daily wins) go through the same receivers
//! and retries: `digest` is the message the caller computed (and the text every receiver
//! shares), each chat or webhook kind renders it (`Receiver::digest`), and `digest_sender`
//! delivers it at most once per (digest, occurrence, receiver) with its own journal,
//! `<data-dir>/digests.json`, written before each request. [`Dispatcher::digest_sender`] makes one.
//!
//! Secrets (PagerDuty routing keys, Opsgenie API keys, Slack, Teams and webhook URLs) are read
//! when a request is built and never reach a log line, an error message or a metric label: logs name the receiver, HTTP
//! errors lose their URL and logged response bodies are scrubbed.

mod clock;
mod delivery;
mod digest;
mod digest_sender;
mod dispatcher;
mod journal;
mod labels;
mod message;
mod metrics;
mod queue;
mod receiver;
mod receivers;
mod route;
mod store;
#[cfg(test)]
mod testing;

pub use digest::{DigestMessage, IncidentDigest, ObjectiveChange, ServiceDigest, Status};
pub use digest_sender::{CATCH_UP, DIGEST_FILE, DigestSender, Sending};
pub use dispatcher::{DRAIN_TIMEOUT, Dispatcher, QUEUE_CAPACITY};
pub use store::{STATE_FILE, STATE_VERSION};
