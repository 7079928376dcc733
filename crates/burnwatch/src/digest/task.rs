//! The daemon's digest scheduler: one task per `[[digest]]` that sleeps until the next
//! occurrence, builds the message from a replay of the backend's history, and hands it to the
//! notifier's [`DigestSender`], which sends it at most once per occurrence and receiver.
//!
//! On start, the last occurrence before now that the journal has no record of is sent if it
//! is at most [`CATCH_UP`] old (the daemon was down at its time), else skipped, logged and
//! counted. A message that cannot be built (backend down) is retried every minute until the
//! catch-up window ends.

use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Exclusions, Millis};
use burnwatch_http::notify::{CATCH_UP, DigestSender};
use burnwatch_spec::Config;
use burnwatch_spec::digest::Digest;
use burnwatch_spec::text::rfc3339;
use tokio_util::sync::CancellationToken;

use super::clock::DigestClock;
use super::message::{build, span_of};

/// Wait between two attempts at building a message that failed.
const RETRY: Duration = Duration::from_secs(60);

/// Starts one task per digest of `config`.
pub fn spawn(
    config: Arc<Config>,
    sender: Arc<DigestSender>,
    exclusions: Arc<Exclusions>,
    clock: DigestClock,
    shutdown: CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..config.digests.len())
        .map(|i| {
            let (config, sender, exclusions, shutdown) = (
                Arc::clone(&config),
                Arc::clone(&sender),
                Arc::clone(&exclusions),
                shutdown.clone(),
            );
            tokio::spawn(async move {
                let digest = &config.digests[i];
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = schedule(&config, digest, &sender, &exclusions, clock) => {}
                }
            })
        })
        .collect()
}

fn catch_up() -> Millis {
    CATCH_UP.as_millis() as Millis
}

/// Whether an occurrence at `last` that no run has handled is still sent when the daemon starts
/// at `now`: when it is at most [`CATCH_UP`] old.
fn catches_up(now: Millis, last: Millis) -> bool {
    (0..=catch_up()).contains(&(now - last))
}

async fn schedule(
    config: &Config,
    digest: &Digest,
    sender: &DigestSender,
    exclusions: &Arc<Exclusions>,
    clock: DigestClock,
) {
    let now = clock.now();
    let mut cursor = now;
    if let Some(last) = digest.last_at_or_before(now)
        && !sender
            .unsent(&digest.name, last, &digest.receivers)
            .is_empty()
    {
        if catches_up(now, last) {
            tracing::info!(digest = %digest.name, occurrence = %rfc3339(last), "sending a digest missed while burnwatch was down");
            occur(config, digest, last, sender, exclusions, clock).await;
        } else {
            sender.skip_missed(&digest.name, last);
        }
    }
    loop {
        let Some(next) = digest.next_after(cursor) else {
            tracing::info!(digest = %digest.name, "the digest's schedule has no further occurrence");
            return;
        };
        tracing::info!(digest = %digest.name, next = %rfc3339(next), "next digest");
        sleep_until(clock, next).await;
        occur(config, digest, next, sender, exclusions, clock).await;
        cursor = next;
    }
}

async fn sleep_until(clock: DigestClock, at: Millis) {
    loop {
        let left = at - clock.now();
        if left <= 0 {
            return;
        }
        // In slices, so a suspended machine or a clock step is noticed within a minute.
        tokio::time::sleep(Duration::from_millis(left.min(60_000) as u64)).await;
    }
}

/// Builds and sends the digest of `occurrence`, unless the journal knows it already.
async fn occur(
    config: &Config,
    digest: &Digest,
    occurrence: Millis,
    sender: &DigestSender,
    exclusions: &Arc<Exclusions>,
    clock: DigestClock,
) {
    loop {
        if sender
            .unsent(&digest.name, occurrence, &digest.receivers)
            .is_empty()
        {
            // A previous run sent it, failed it or was killed sending it.
            sender.skip_recorded(&digest.name, occurrence, &digest.receivers);
            return;
        }
        match build(
            config,
            digest,
            occurrence,
            span_of(digest, occurrence),
            exclusions,
        )
        .await
        {
            Ok(message) => {
                sender.send(&message, &digest.receivers).await;
                return;
            }
            Err(err) => {
                let message = match err {
                    crate::failure::Failure::Config(m)
                    | crate::failure::Failure::Runtime(m)
                    | crate::failure::Failure::Usage(m) => m,
                    crate::failure::Failure::Gate(_) => String::new(),
                };
                if clock.now() + RETRY.as_millis() as Millis > occurrence + catch_up() {
                    tracing::error!(digest = %digest.name, occurrence = %rfc3339(occurrence), error = %message, "cannot build the digest; giving up on this occurrence");
                    return;
                }
                tracing::warn!(digest = %digest.name, error = %message, "cannot build the digest; retrying in a minute");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_occurrence_is_sent_within_two_hours_and_skipped_after() {
        let occurrence = 1_796_634_000_000;
        let minute = 60_000;
        assert!(catches_up(occurrence, occurrence));
        assert!(catches_up(occurrence + 119 * minute, occurrence));
        assert!(catches_up(occurrence + 120 * minute, occurrence));
        assert!(!catches_up(occurrence + 121 * minute, occurrence));
        assert!(!catches_up(occurrence - minute, occurrence));
    }
}
