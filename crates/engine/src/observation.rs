//! What the scheduler hands the engine after one query.

use serde::{Deserialize, Serialize};

use crate::{Counts, Millis};

/// What one tick observed for one SLO instance.
///
/// Live ticks (30-second spans) and backfill (1-minute, 10-minute and hourly spans from range
/// queries) are the same kind of observation, so both feed the same buckets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Observation {
    /// Events that happened uniformly over `(start, end]`.
    Events {
        /// Exclusive start of the span.
        start: Millis,
        /// Inclusive end of the span.
        end: Millis,
        /// Events in the span.
        counts: Counts,
    },
    /// The backend answered, but no series matched (neither errors nor total).
    NoSeries {
        /// When the backend was asked.
        at: Millis,
    },
}
