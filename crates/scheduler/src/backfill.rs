//! Backfill planning: which range queries fill the engine's bucket levels.
//!
//! Each level is filled at its own resolution (1-minute points for the newest hours, 10-minute
//! points for the last days, coarse points for the rest of the period), so a 30-day backfill costs
//! a few hundred points per query rather than tens of thousands.

use std::time::Duration;

use burnwatch_engine::Millis;

/// Prometheus refuses range queries of more than 11,000 points per series; stay below it.
pub const MAX_POINTS_PER_QUERY: u64 = 10_000;

/// What a backfill did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackfillStats {
    /// Range queries sent.
    pub queries: u64,
    /// (point, group) pairs ingested.
    pub points: u64,
}

/// Points `first..=last` every `step`: each point `T` stands for the events in `(T - step, T]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The first point.
    pub first: Millis,
    /// The last point.
    pub last: Millis,
    /// Distance between points, and the range each covers.
    pub step: Duration,
}

/// A slice of a segment small enough for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// The first point.
    pub first: Millis,
    /// The last point.
    pub last: Millis,
}

impl Segment {
    /// Number of points.
    pub fn points(&self) -> u64 {
        ((self.last - self.first) / self.step_ms()) as u64 + 1
    }

    fn step_ms(&self) -> i64 {
        self.step.as_millis() as i64
    }

    /// Split into queries of at most [`MAX_POINTS_PER_QUERY`] points.
    pub fn chunks(&self) -> Vec<Chunk> {
        let span = self.step_ms() * (MAX_POINTS_PER_QUERY as i64 - 1);
        let mut out = Vec::new();
        let mut first = self.first;
        while first <= self.last {
            let last = (first + span).min(self.last);
            out.push(Chunk { first, last });
            first = last + self.step_ms();
        }
        out
    }
}

/// `t` rounded down to a multiple of `resolution`.
pub fn align_down(t: Millis, resolution: Duration) -> Millis {
    let r = resolution.as_millis() as i64;
    t.div_euclid(r) * r
}

/// The segments filling `levels` (`(resolution, span)`, finest first) up to `end`, which must be
/// aligned to the finest resolution. Each level fills only the part finer levels do not cover,
/// oldest segment first. With `since`, only `(since, end]` is filled (a gap after an outage);
/// the part before the first whole step after `since` is left to the caller.
pub fn segments(
    levels: &[(Duration, Duration)],
    end: Millis,
    since: Option<Millis>,
) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut upper = end;
    for (i, &(resolution, span)) in levels.iter().enumerate() {
        // Where this level hands over to the next coarser one: aligned to the coarser step so
        // the coarser points tile exactly up to it.
        let coarser = levels.get(i + 1).map_or(resolution, |&(r, _)| r);
        let mut lower = align_down(end - span.as_millis() as i64, coarser);
        if i + 1 == levels.len() {
            lower = align_down(end - span.as_millis() as i64, resolution);
        }
        if let Some(since) = since {
            let step = resolution.as_millis() as i64;
            lower =
                lower.max(since.div_euclid(step) * step + if since % step == 0 { 0 } else { step });
        }
        let step = resolution.as_millis() as i64;
        let first = lower + step;
        if first <= upper {
            out.push(Segment {
                first,
                last: upper,
                step: resolution,
            });
        }
        upper = upper.min(lower);
        if let Some(since) = since
            && upper <= since
        {
            break;
        }
    }
    out.reverse();
    out
}

/// Points every `step` covering `(start, end]` in one segment (time slices: every slice read
/// whole, whatever the bucket levels): a start off the step moves up to it, an end down.
pub fn uniform(start: Millis, end: Millis, step: Duration) -> Vec<Segment> {
    let s = step.as_millis() as i64;
    let first = start.div_euclid(s) * s + if start.rem_euclid(s) == 0 { 0 } else { s } + s;
    let last = align_down(end, step);
    if first > last {
        return Vec::new();
    }
    vec![Segment { first, last, step }]
}

/// Where the span `segments` covers begins (`None` when there are none).
pub fn start_of(segments: &[Segment]) -> Option<Millis> {
    segments.first().map(|head| head.first - head.step_ms())
}

/// `segments` with every coarser bucket that holds one of `edges` inside it (not on its edge)
/// read at `fine` instead: an excluded span's edges then fall on bucket edges, so what it leaves
/// out is exactly the events inside it, however old (on whole `fine` steps).
pub fn refine(segments: &[Segment], edges: &[Millis], fine: Duration) -> Vec<Segment> {
    let f = fine.as_millis() as i64;
    let mut out = Vec::new();
    for segment in segments {
        let step = segment.step_ms();
        if step <= f {
            out.push(*segment);
            continue;
        }
        // The point (bucket end) of every bucket an edge falls strictly inside.
        let mut ends: Vec<Millis> = edges
            .iter()
            .filter(|&&e| e.rem_euclid(step) != 0)
            .map(|&e| e.div_euclid(step) * step + step)
            .filter(|&b| segment.first <= b && b <= segment.last)
            .collect();
        ends.sort_unstable();
        ends.dedup();
        let mut first = segment.first;
        for b in ends {
            if first <= b - step {
                out.push(Segment {
                    first,
                    last: b - step,
                    step: segment.step,
                });
            }
            out.push(Segment {
                first: b - step + f,
                last: b,
                step: fine,
            });
            first = b + step;
        }
        if first <= segment.last {
            out.push(Segment {
                first,
                last: segment.last,
                step: segment.step,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_reads_a_span_at_one_step() {
        const M: i64 = 60_000;
        let (minute, hour) = (Duration::from_secs(60), Duration::from_secs(3600));
        // Hourly points cover (0, 5h], minutes (5h, 6h]: at five minutes, (0, 6h] is the 72
        // points 5m..=6h.
        let segments = [
            Segment {
                first: 60 * M,
                last: 300 * M,
                step: hour,
            },
            Segment {
                first: 301 * M,
                last: 360 * M,
                step: minute,
            },
        ];
        assert_eq!(start_of(&segments), Some(0));
        let five = Duration::from_secs(300);
        let uniform_ = uniform(0, 360 * M, five);
        assert_eq!(
            uniform_,
            vec![Segment {
                first: 5 * M,
                last: 360 * M,
                step: five
            }]
        );
        assert_eq!(uniform_[0].points(), 72);
        // A start off the step moves up to the next slice, an end down: (2m, 6h + 3m] holds
        // the 71 whole slices 10m..=6h.
        let late = uniform(2 * M, 363 * M, five);
        assert_eq!(
            (late[0].first, late[0].last, late[0].points()),
            (10 * M, 360 * M, 71)
        );
        assert!(uniform(2 * M, 4 * M, five).is_empty());
    }

    #[test]
    fn buckets_holding_an_edge_are_read_at_the_fine_step() {
        const M: i64 = 60_000;
        let (minute, hour) = (Duration::from_secs(60), Duration::from_secs(3600));
        // Hourly points 1h..=5h: an edge at 2:20 makes (2h, 3h] minutes; one at 4h is a bucket
        // edge already; one at 9h is outside.
        let hourly = Segment {
            first: 60 * M,
            last: 300 * M,
            step: hour,
        };
        let minutes = Segment {
            first: 301 * M,
            last: 360 * M,
            step: minute,
        };
        let got = refine(&[hourly, minutes], &[140 * M, 240 * M, 540 * M], minute);
        let want = vec![
            Segment {
                first: 60 * M,
                last: 120 * M,
                step: hour,
            },
            Segment {
                first: 121 * M,
                last: 180 * M,
                step: minute,
            },
            Segment {
                first: 240 * M,
                last: 300 * M,
                step: hour,
            },
            minutes,
        ];
        assert_eq!(got, want);
    }

    const M: i64 = 60_000;
    const H: i64 = 60 * M;
    const D: i64 = 24 * H;

    fn levels() -> Vec<(Duration, Duration)> {
        vec![
            (Duration::from_secs(60), Duration::from_secs(6 * 3600)),
            (Duration::from_secs(600), Duration::from_secs(3 * 86_400)),
            (Duration::from_secs(3600), Duration::from_secs(30 * 86_400)),
        ]
    }

    #[test]
    fn segments_tile_the_period_without_overlap() {
        let end = 100 * D + 5 * H + 37 * M;
        let segs = segments(&levels(), end, None);
        assert_eq!(segs.len(), 3);
        // Oldest first: coarse, medium, fine.
        assert_eq!(segs[0].step, Duration::from_secs(3600));
        assert_eq!(segs[2].step, Duration::from_secs(60));
        // Contiguous: each segment's first point covers from the previous segment's last point.
        for pair in segs.windows(2) {
            let covered_from = pair[1].first - pair[1].step.as_millis() as i64;
            assert_eq!(covered_from, pair[0].last, "{pair:?}");
        }
        assert_eq!(segs[2].last, end);
        // The whole period is covered (down to the coarse alignment).
        let start = segs[0].first - H;
        assert!(
            start <= end - 30 * D && start > end - 30 * D - H,
            "{start} vs {}",
            end - 30 * D
        );
        // Fine points cover at least the fine level's span.
        assert!(
            segs[2].points() >= 360 && segs[2].points() <= 420,
            "{}",
            segs[2].points()
        );
        assert!(segs.iter().all(|s| s.points() < MAX_POINTS_PER_QUERY));
    }

    #[test]
    fn a_gap_is_filled_from_its_start_only() {
        let end = 10 * D;
        let since = end - 3 * H - 30_000;
        let segs = segments(&levels(), end, Some(since));
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].step, Duration::from_secs(60));
        assert_eq!(segs[0].first, end - 3 * H + M);
        assert_eq!(segs[0].last, end);
    }

    #[test]
    fn chunks_respect_the_point_limit() {
        let seg = Segment {
            first: M,
            last: 25_000 * M,
            step: Duration::from_secs(60),
        };
        let chunks = seg.chunks();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].first, M);
        assert_eq!(chunks[1].first, chunks[0].last + M);
        assert_eq!(chunks[2].last, 25_000 * M);
        let total: i64 = chunks.iter().map(|c| (c.last - c.first) / M + 1).sum();
        assert_eq!(total, 25_000);
    }
}
