//! Delivering digests: the notifier's receivers (`receivers/`), requests with retries and
//! backoff (`delivery`), and a journal of its own, `<data-dir>/digests.json`, keyed by (digest
//! name, scheduled occurrence, receiver).
//!
//! **At most once per occurrence and receiver.** Before the POST the journal records the
//! intent (`sending`) with a synchronous atomic write (temporary file, fsync, rename); after the
//! answer it records `sent` or `failed`. A process that finds any record for an occurrence and
//! receiver does not send it again: a `kill -9` while a request is in flight (Slack may have
//! posted it) leaves `sending`, and the restarted daemon logs the occurrence as in doubt and
//! skips it. An HTTP webhook has no idempotency key, so exactly-once is impossible; between a
//! duplicate weekly review in a channel and a rare lost one, burnwatch chooses the lost one
//! (alerts, which must arrive, are at least once: see the dispatcher's journal). Within one
//! process, a digest a receiver throttles (429 with `Retry-After`) or fails transiently (5xx,
//! timeouts) is retried as alerts are.
//!
//! Unlike `notifications.json`, whose writes are coalesced for alert storms, this journal is
//! written before every send: digests are a few a day.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use burnwatch_engine::Millis;
use burnwatch_spec::Receiver as Configured;
use burnwatch_store::state_file::StateFile;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

use super::delivery::{Context, HttpTransport, Pacer, RetryPolicy, deliver};
use super::digest::DigestMessage;
use super::message::rfc3339;
use super::metrics::NotifyMetrics;
use super::receiver::Receiver;
use super::receivers;

/// The journal's file in the data directory.
pub const DIGEST_FILE: &str = "digests.json";
const VERSION: u32 = 1;
/// Records older than this are dropped at each write.
const KEEP: Millis = 90 * 86_400_000;

/// How late a missed occurrence (the daemon was down at its time) is still sent on start: two
/// hours. Later ones are skipped, logged and counted (`reason="missed"`): a review that arrives
/// in the afternoon, after the meeting it was for, is noise.
pub const CATCH_UP: Duration = Duration::from_secs(2 * 3_600);

/// What became of one digest occurrence at one receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sending {
    /// Accepted now.
    Sent,
    /// Rejected, or retries ran out (recorded: not retried after a restart).
    Failed,
    /// The journal says it was sent already.
    AlreadySent,
    /// The journal says a send was started and never finished (a kill mid-request): not sent
    /// again, at most once.
    InDoubt,
    /// The journal says it failed before.
    FailedBefore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum State {
    Sending,
    Sent,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mark {
    state: State,
    /// Wall time of the mark (unix ms).
    at: Millis,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    /// `<digest>@<occurrence RFC 3339>` -> receiver -> mark.
    digests: BTreeMap<String, BTreeMap<String, Mark>>,
    /// Occurrence (unix ms) per key, for pruning.
    occurrences: BTreeMap<String, Millis>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DigestLabels {
    digest: String,
    receiver: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SkipLabels {
    digest: String,
    reason: &'static str,
}

/// `burnwatch_digests_sent_total`, `_failed_total`, `_skipped_total`.
#[derive(Debug, Default)]
pub(crate) struct DigestMetrics {
    sent: Family<DigestLabels, Counter>,
    failed: Family<DigestLabels, Counter>,
    skipped: Family<SkipLabels, Counter>,
}

impl DigestMetrics {
    pub(crate) fn register(registry: &mut Registry) -> DigestMetrics {
        let m = DigestMetrics::default();
        registry.register(
            "burnwatch_digests_sent",
            "Digest messages a receiver accepted, by digest and receiver",
            m.sent.clone(),
        );
        registry.register(
            "burnwatch_digests_failed",
            "Digest messages rejected or given up on after retries, by digest and receiver",
            m.failed.clone(),
        );
        registry.register(
            "burnwatch_digests_skipped",
            "Digest occurrences not sent: missed (the daemon was down longer than the catch-up \
             window), in_doubt (a send was interrupted; at most once), already_sent",
            m.skipped.clone(),
        );
        m
    }

    fn skip(&self, digest: &str, reason: &'static str) {
        self.skipped
            .get_or_create(&SkipLabels {
                digest: digest.to_string(),
                reason,
            })
            .inc();
    }
}

/// One receiver a digest may go to.
struct Endpoint {
    kind: Box<dyn Receiver>,
    transport: HttpTransport,
    pacer: tokio::sync::Mutex<Pacer>,
}

/// Sends digests through the notifier's receivers, once per occurrence and receiver. Get one
/// from [`super::Dispatcher::digest_sender`].
pub struct DigestSender {
    endpoints: BTreeMap<String, Endpoint>,
    file: Option<StateFile>,
    journal: Mutex<File>,
    metrics: Arc<NotifyMetrics>,
    digest_metrics: Arc<DigestMetrics>,
}

impl std::fmt::Debug for DigestSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestSender")
            .field("receivers", &self.endpoints.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn key(digest: &str, occurrence: Millis) -> String {
    format!("{digest}@{}", rfc3339(occurrence))
}

impl DigestSender {
    pub(crate) fn new(
        receivers: &BTreeMap<String, Configured>,
        data_dir: Option<&Path>,
        now: Millis,
        metrics: Arc<NotifyMetrics>,
        digest_metrics: Arc<DigestMetrics>,
    ) -> Result<DigestSender, String> {
        let mut endpoints = BTreeMap::new();
        for (name, configured) in receivers {
            if !burnwatch_spec::digest::RECEIVER_TYPES.contains(&configured.kind.type_name()) {
                continue;
            }
            let kind = receivers::build(configured)?;
            let gap = kind.settings(configured).gap;
            let transport = HttpTransport::new(configured.timeout)
                .map_err(|err| format!("receiver `{name}`: cannot build an HTTP client: {err}"))?;
            endpoints.insert(
                name.clone(),
                Endpoint {
                    kind,
                    transport,
                    pacer: tokio::sync::Mutex::new(Pacer::new(gap)),
                },
            );
        }
        let file = data_dir.map(|dir| {
            StateFile::new(
                dir,
                DIGEST_FILE,
                VERSION,
                "the digest journal",
                "a digest interrupted mid-send by the previous run may be sent again",
            )
        });
        let journal = file
            .as_ref()
            .and_then(|f| {
                f.load(now, |bytes| {
                    serde_json::from_slice::<File>(bytes).map_err(|e| e.to_string())
                })
            })
            .unwrap_or(File {
                version: VERSION,
                ..File::default()
            });
        Ok(DigestSender {
            endpoints,
            file,
            journal: Mutex::new(journal),
            metrics,
            digest_metrics,
        })
    }

    /// The receivers among `receivers` for which the journal has no record of `digest` at
    /// `occurrence` (sent, failed or in doubt): the only ones it may still go to.
    pub fn unsent<'a>(
        &self,
        digest: &str,
        occurrence: Millis,
        receivers: &'a [String],
    ) -> Vec<&'a String> {
        let journal = self.journal.lock().expect("journal lock");
        let marks = journal.digests.get(&key(digest, occurrence));
        receivers
            .iter()
            .filter(|r| marks.is_none_or(|m| !m.contains_key(*r)))
            .collect()
    }

    /// Logs and counts, for each of `receivers` with a record of `digest` at `occurrence`, why
    /// it is not sent again.
    pub fn skip_recorded(
        &self,
        digest: &str,
        occurrence: Millis,
        receivers: &[String],
    ) -> Vec<(String, Sending)> {
        receivers
            .iter()
            .filter_map(|r| Some((r.clone(), self.check(digest, occurrence, r)?)))
            .collect()
    }

    /// What the journal says about `digest` at `occurrence` for `receiver`, logged and counted;
    /// `None` when it has no record (it may be sent).
    fn check(&self, digest: &str, occurrence: Millis, receiver: &str) -> Option<Sending> {
        let state = self
            .journal
            .lock()
            .expect("journal lock")
            .digests
            .get(&key(digest, occurrence))
            .and_then(|r| r.get(receiver))
            .map(|m| m.state)?;
        let (sending, reason) = match state {
            State::Sent => (Sending::AlreadySent, "already_sent"),
            State::Sending => (Sending::InDoubt, "in_doubt"),
            State::Failed => (Sending::FailedBefore, "failed_before"),
        };
        if state == State::Sending {
            tracing::warn!(
                digest,
                receiver,
                occurrence = %rfc3339(occurrence),
                "digest send was interrupted by the previous run (it may have arrived); not sent \
                 again: digests are delivered at most once"
            );
        } else {
            tracing::info!(digest, receiver, occurrence = %rfc3339(occurrence), "digest already handled; not sent again");
        }
        self.digest_metrics.skip(digest, reason);
        Some(sending)
    }

    /// Counts and logs an occurrence the daemon missed by more than [`CATCH_UP`].
    pub fn skip_missed(&self, digest: &str, occurrence: Millis) {
        tracing::warn!(
            digest,
            occurrence = %rfc3339(occurrence),
            catch_up = ?CATCH_UP,
            "digest occurrence missed while burnwatch was down, longer ago than the catch-up \
             window; skipped"
        );
        self.digest_metrics.skip(digest, "missed");
    }

    /// Sends `message` to each of `receivers` that has no record for its occurrence, recording
    /// the intent before each request. Returns what became of it per receiver.
    pub async fn send(
        &self,
        message: &DigestMessage,
        receivers: &[String],
    ) -> Vec<(String, Sending)> {
        let k = key(&message.digest, message.occurrence);
        let mut out = Vec::new();
        for name in receivers {
            if let Some(sending) = self.check(&message.digest, message.occurrence, name) {
                out.push((name.clone(), sending));
                continue;
            }
            let Some(endpoint) = self.endpoints.get(name) else {
                tracing::error!(digest = %message.digest, receiver = %name, "digest receiver is not configured");
                continue;
            };
            let request = match endpoint.kind.digest(message) {
                Ok(r) => r,
                Err(err) => {
                    tracing::error!(digest = %message.digest, receiver = %name, error = %err, "cannot build the digest request");
                    self.count(&self.digest_metrics.failed, message, name);
                    out.push((name.clone(), Sending::Failed));
                    continue;
                }
            };
            // The intent is on disk before the request leaves: at most once.
            self.mark(&k, message.occurrence, name, State::Sending);
            let cx = Context {
                receiver: name,
                kind: endpoint.kind.as_ref(),
                metrics: &self.metrics,
                policy: RetryPolicy::DEFAULT,
            };
            let mut pacer = endpoint.pacer.lock().await;
            let accepted = deliver(&endpoint.transport, &request, &mut pacer, &cx).await;
            drop(pacer);
            if accepted {
                self.mark(&k, message.occurrence, name, State::Sent);
                self.count(&self.digest_metrics.sent, message, name);
                tracing::info!(digest = %message.digest, receiver = %name, occurrence = %rfc3339(message.occurrence), "digest sent");
                out.push((name.clone(), Sending::Sent));
            } else {
                self.mark(&k, message.occurrence, name, State::Failed);
                self.count(&self.digest_metrics.failed, message, name);
                out.push((name.clone(), Sending::Failed));
            }
        }
        out
    }

    fn count(
        &self,
        family: &Family<DigestLabels, Counter>,
        message: &DigestMessage,
        receiver: &str,
    ) {
        family
            .get_or_create(&DigestLabels {
                digest: message.digest.clone(),
                receiver: receiver.to_string(),
            })
            .inc();
    }

    /// Records `state` and writes the journal at once (synchronously: it must be on disk before
    /// the request it announces).
    fn mark(&self, key: &str, occurrence: Millis, receiver: &str, state: State) {
        let now = wall_now();
        let mut journal = self.journal.lock().expect("journal lock");
        journal
            .digests
            .entry(key.to_string())
            .or_default()
            .insert(receiver.to_string(), Mark { state, at: now });
        journal.occurrences.insert(key.to_string(), occurrence);
        let old: Vec<String> = journal
            .occurrences
            .iter()
            .filter(|(_, at)| **at < now - KEEP)
            .map(|(k, _)| k.clone())
            .collect();
        for k in old {
            journal.occurrences.remove(&k);
            journal.digests.remove(&k);
        }
        if let Some(file) = &self.file
            && let Err(err) = file.write_json(&*journal)
        {
            tracing::error!(file = %file.path().display(), error = %err, "cannot write the digest journal; a restart may send this digest again");
        }
    }
}

/// Unix milliseconds now, for the journal's marks and pruning.
fn wall_now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX))
        .unwrap_or(0)
}
