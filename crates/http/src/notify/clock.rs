//! Wall-clock time for payloads, derived from tokio's clock.
//!
//! Every wait in the notifiers (retries, repeats, Slack pacing) uses tokio time, so tests run
//! them with `start_paused` in no time. Timestamps in payloads (`endsAt`, "firing for") must move
//! with those waits, so wall time is the wall time at start plus tokio time elapsed since.

use std::time::{SystemTime, UNIX_EPOCH};

use burnwatch_engine::Millis;
use tokio::time::Instant;

/// Maps tokio instants to milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    wall: Millis,
    start: Instant,
}

impl Clock {
    /// Anchored now. Call inside the runtime, so a paused test clock is the one read.
    pub(crate) fn start() -> Clock {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Clock {
            wall,
            start: Instant::now(),
        }
    }

    /// Milliseconds since the epoch, now.
    pub(crate) fn now(&self) -> Millis {
        let elapsed = i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.wall.saturating_add(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn wall_time_follows_paused_tokio_time() {
        let clock = Clock::start();
        let before = clock.now();
        tokio::time::sleep(Duration::from_secs(3_600)).await;
        assert_eq!(clock.now() - before, 3_600_000);
    }
}
