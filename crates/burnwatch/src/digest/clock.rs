//! The digest scheduler's clock: wall time, or, for tests and demos, wall time shifted so that
//! the daemon starts at the instant in `BURNWATCH_DIGEST_CLOCK` (RFC 3339) and runs on from
//! there at the real pace. Only the digest scheduler reads it: polling, alerts and snapshots
//! keep the real clock, so a test can put the daemon seconds before a digest occurrence without
//! touching anything else.

use burnwatch_engine::Millis;
use burnwatch_scheduler::now_millis;

/// The environment variable that fixes the digest clock at start (test-only; documented in
/// docs/operations.md).
pub const CLOCK_ENV: &str = "BURNWATCH_DIGEST_CLOCK";

/// Wall time plus a fixed offset.
#[derive(Debug, Clone, Copy)]
pub struct DigestClock {
    offset: Millis,
}

impl DigestClock {
    /// The real clock, or the one `BURNWATCH_DIGEST_CLOCK` asks for; an unreadable value is an
    /// error naming the variable and the expected form.
    pub fn from_env() -> Result<DigestClock, String> {
        match std::env::var(CLOCK_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                let at = burnwatch_spec::text::parse_rfc3339(text.trim()).map_err(|err| {
                    format!("{CLOCK_ENV}={text:?} is not an RFC 3339 time ({err}), e.g. 2026-12-07T08:59:55Z")
                })?;
                tracing::warn!(start = %text.trim(), "{CLOCK_ENV} is set: digests run on a shifted clock (tests only)");
                Ok(DigestClock {
                    offset: at - now_millis(),
                })
            }
            _ => Ok(DigestClock { offset: 0 }),
        }
    }

    /// Unix milliseconds now, on this clock.
    pub fn now(&self) -> Millis {
        now_millis() + self.offset
    }
}
