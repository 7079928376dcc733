//! Gap fills: after an outage or a restart, the time since the last ingested moment read at the
//! buckets' boundaries, counted on from the trackers' last samples.

use burnwatch_engine::Millis;

use super::SloRunner;
use crate::backend::BackendError;
use crate::backfill;

impl SloRunner {
    /// Read `(from, now]` after a long gap at the buckets' boundaries, then let the live path
    /// take the remainder. The trackers' baselines (from before the gap) start the count, so
    /// nothing between the last tick and the gap's first boundary is lost, and a hole in the
    /// backend's own data is spread over the hole.
    pub(super) async fn fill_gap(&mut self, from: Millis, now: Millis) -> Result<(), BackendError> {
        let end = backfill::align_down(now, self.read_step());
        let segments = self.history_segments(end, Some(from));
        if segments.is_empty() {
            return Ok(());
        }
        let (points, _) = self.read_history(&segments, Some(from)).await?;
        let points = self.feed(points);
        self.metrics.backfill_points(points);
        self.ingested_until = Some(end.max(from));
        Ok(())
    }
}
