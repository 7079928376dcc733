//! Wall-clock time for payloads, derived from tokio's clock.
//!
//! Every wait in the notifiers (retries, repeats, Slack pacing) uses tokio time, so tests run
//! them with `start_paused` in no time. Timestamps in payloads (`endsAt`, "firing for") must move
//! with those waits, so wall time is the wall time at start plus tokio time elapsed since.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
        self.wall_at(Instant::now())
    }

    /// The wall time of `instant` (instants before the anchor map to the anchor).
    pub(crate) fn wall_at(&self, instant: Instant) -> Millis {
        let elapsed = instant.saturating_duration_since(self.start).as_millis();
        self.wall
            .saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
    }

    /// The instant of wall time `wall`, for timers persisted across restarts; a moment already
    /// past is now (a repeat that fell due while the process was down is due at once).
    pub(crate) fn instant_at(&self, wall: Millis) -> Instant {
        let ahead = u64::try_from(wall.saturating_sub(self.now())).unwrap_or(0);
        Instant::now() + Duration::from_millis(ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn wall_time_follows_paused_tokio_time() {
        let clock = Clock::start();
        let before = clock.now();
        tokio::time::sleep(Duration::from_secs(3_600)).await;
        assert_eq!(clock.now() - before, 3_600_000);
    }

    #[tokio::test(start_paused = true)]
    async fn wall_times_map_back_to_instants_and_the_past_is_now() {
        let clock = Clock::start();
        let now = clock.now();
        let later = clock.instant_at(now + 90_000);
        assert_eq!(later - Instant::now(), Duration::from_secs(90));
        assert_eq!(clock.wall_at(later), now + 90_000);
        assert_eq!(clock.instant_at(now - 5_000), Instant::now());
    }
}
