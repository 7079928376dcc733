//! Retrying transient backend failures with exponential backoff and jitter.

use std::future::Future;
use std::time::Duration;

use crate::backend::BackendError;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in total (1 = no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound of a single delay.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Within a tick: a couple of quick retries, so a blip does not cost a whole interval.
    pub const TICK: RetryPolicy = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(250),
        max_delay: Duration::from_secs(2),
    };

    /// Backfill: more patience, it runs once.
    pub const BACKFILL: RetryPolicy = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(10),
    };

    /// The delay before retry number `retry` (0-based), with up to 50% jitter so that many SLOs
    /// failing together do not retry in lockstep.
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        let jitter = jitter_fraction() * 0.5;
        exp.mul_f64(1.0 - jitter)
    }

    /// Run `call` until it succeeds, fails permanently, or attempts run out.
    pub async fn run<T, F, Fut>(&self, mut call: F) -> Result<T, BackendError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, BackendError>>,
    {
        let mut retry = 0;
        loop {
            match call().await {
                Err(err) if err.is_transient() && retry + 1 < self.attempts => {
                    tokio::time::sleep(self.delay(retry)).await;
                    retry += 1;
                }
                other => return other,
            }
        }
    }
}

/// A cheap, dependency-free jitter source in [0, 1): the clock's sub-second noise.
fn jitter_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos.wrapping_mul(2_654_435_761) % 1_000_000) / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn delays_grow_and_are_capped() {
        let policy = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let d0 = policy.delay(0);
        assert!(
            d0 > Duration::from_millis(49) && d0 <= Duration::from_millis(100),
            "{d0:?}"
        );
        let d3 = policy.delay(3);
        assert!(
            d3 > Duration::from_millis(399) && d3 <= Duration::from_millis(800),
            "{d3:?}"
        );
        assert!(policy.delay(12) <= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_only() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = RetryPolicy::TICK
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(BackendError::Status {
                    status: 503,
                    body: String::new(),
                })
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = RetryPolicy::TICK
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(BackendError::Api {
                    error_type: "bad_data".into(),
                    message: "x".into(),
                    transient: false,
                })
            })
            .await;
        assert!(result.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a bad query is not retried"
        );
    }
}
