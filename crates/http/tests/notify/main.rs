//! Behaviour of notification delivery over real HTTP (wiremock servers on loopback), through the
//! public API only: `Dispatcher::new` + `spawn`, notifications in, requests and metrics out.
//!
//! PagerDuty and Slack are SaaS we cannot reach: the mocks answer as their documentation says
//! (PagerDuty Events API v2: 202, 400 invalid event, 429 throttled; Slack incoming webhooks: 200
//! `ok`, 400 `invalid_payload`, 429 with Retry-After). The real Alertmanager is exercised in the
//! workspace's `tests/alertmanager_delivery.rs`; timing rules (4h repeats, Alertmanager's 1m
//! resend and 15m resolved window, 10-minute retry budget) are unit-tested with paused time.
//!
//! Every receiver type is checked for its payload, a 429 honouring `Retry-After`, backoff on 5xx,
//! no retry on 400, and a timeout: an answer slower than the receiver's `timeout` is abandoned,
//! retried after the backoff, and delivered by the next (fast) attempt.
//!
//! - `pagerduty`: trigger/resolve with one stable dedup_key, severities, summary limit, custom
//!   details, 429 Retry-After, 400 permanent, 5xx retried, timeout retried.
//! - `slack`: the message, one message per second, 429 waits for Retry-After, 500
//!   `rollup_error` retried, 400 invalid_payload not retried, timeout retried.
//! - `webhook`: 429 waits for Retry-After, 5xx backoff doubling (1 s, 2 s), 400 permanent with
//!   the next notification still delivered, timeout retried and logged as one.
//! - `opsgenie`: create (P1/P3, message limit, string details) and close by the same alias,
//!   429 retried, 422 permanent with the key scrubbed from the log, a base URL for the EU.
//! - `teams`: Adaptive Card messages paced half a second apart, a throttle wrapped in a 200
//!   retried, 429 Retry-After, 400 and a wrapped 413 permanent with the signed URL kept out of
//!   the log.
//! - `alertmanager`: timeout retried (the rest against a real Alertmanager, see above).
//! - `formats`: webhook (Alertmanager webhook v4) and Alertmanager API payloads.
//! - `routing`: severity and matcher routes, de-duplication, unrouted, send_resolved=false,
//!   repeat while firing.
//! - `secrets`: routing keys and webhook URLs never reach metrics or logs.
//! - `digest`: digests (weekly review) to Slack with 429 Retry-After and 400 invalid_payload,
//!   a Teams card,
//!   once per (digest, occurrence, receiver) across a new sender on the same journal, Slack's
//!   50-block limit with a note, and the webhook's structured JSON.
//! - `lifecycle`: shutdown drains in-flight work and is bounded; self-metrics exist from start.
//! - `record`: firing notifications a receiver accepted are counted in the six-month record
//!   per instance, receiver and UTC day; resolves and failed sends are not.
//! - `restart`: with a state directory, a trigger still undelivered at shutdown is delivered by
//!   the next dispatcher, once; an open alert is not triggered again and a resolve is not sent
//!   twice; a corrupt state file is set aside with a warning and delivery goes on.

mod alertmanager;
mod digest;
mod formats;
mod lifecycle;
mod opsgenie;
mod pagerduty;
mod record;
mod restart;
mod routing;
mod secrets;
mod slack;
mod support;
mod teams;
mod webhook;
