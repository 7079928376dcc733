//! The exact read of counters over history: backfill, gap fills and replay.
//!
//! Each counter is read **per series at the bucket boundaries**: a range query of the plain
//! selector at the bucket step gives, per series, the last sample at or before every boundary
//! (what a live tick's raw samples give), so consecutive boundaries difference to exactly the
//! increments in between. The same request flags the buckets in which a series reset. Where
//! the boundaries cannot tell the whole story (a reset, a series appearing, ending, or coming
//! back after a hole) that one bucket is read sample by sample. The values then go through the
//! runner's counter trackers and [`Placer`] like a live tick's samples, so every increment is
//! counted once, in the bucket of the sample that shows it.
//!
//! Per-series reads grow with series, not groups: past the SLO's `series_limit`, or past
//! [`MAX_DETAIL_READS`] bucket reads, the read gives up and the caller falls back to
//! `sum by (group) (increase())`, which is right only on average (logged and counted).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use burnwatch_engine::Millis;

use super::{RoleKey, SloRunner, admit, group_key, series_id};
use crate::backend::{BackendError, Labels, QueryResult, Read};
use crate::backfill::Segment;
use crate::counting::{Grid, Placer, Points};
use crate::plan::Role;

/// Bucket-by-bucket reads one exact read may add (resets, series appearing or ending).
pub(crate) const MAX_DETAIL_READS: usize = 128;

/// Why an exact read gave way to the `increase()` fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inexact {
    /// More series than the SLO's `series_limit`.
    SeriesLimit,
    /// More buckets to read sample by sample than [`MAX_DETAIL_READS`].
    DetailLimit,
    /// An answer over the response size limit.
    TooLarge,
    /// Two series the same but for their metric name (a `__name__` regex): resets cannot be
    /// told apart.
    Ambiguous,
}

impl Inexact {
    /// The `reason` label of `burnwatch_slo_inexact_reads_total`.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Inexact::SeriesLimit => "series_limit",
            Inexact::DetailLimit => "detail_limit",
            Inexact::TooLarge => "too_large",
            Inexact::Ambiguous => "ambiguous_series",
        }
    }
}

/// What an exact read gave.
pub(crate) enum ExactRead {
    /// Events per span and group, and the requests sent.
    Points(Points, u64),
    /// The read cannot be exact; nothing was changed.
    Inexact(Inexact),
}

/// One series of one selector over the read.
#[derive(Default)]
struct SeriesData {
    labels: Labels,
    /// Counter value at each boundary where the series had one.
    boundaries: BTreeMap<Millis, f64>,
    /// Resets within each bucket (by its end) the series has samples in.
    resets: BTreeMap<Millis, f64>,
    /// Raw samples of the buckets read one by one.
    raw: Vec<(Millis, f64)>,
    /// The value at the start of a gap read (when the tracker has no baseline).
    baseline: Option<(Millis, f64)>,
}

/// One selector's answers.
struct RoleData {
    role: Role,
    /// By the series' labels without `__name__` (how reset flags name them).
    series: HashMap<u64, SeriesData>,
}

impl SloRunner {
    /// Counts the events of `segments` exactly; with `since` (a gap after a live tick), also
    /// those of `(since, first boundary]`, counted from the trackers' baselines. Nothing is
    /// changed unless every request succeeds and the read is exact.
    pub(crate) async fn read_exact(
        &mut self,
        segments: &[Segment],
        since: Option<Millis>,
    ) -> Result<ExactRead, BackendError> {
        let Some(first) = segments.first() else {
            return Ok(ExactRead::Points(Points::new(), 0));
        };
        let start = since.unwrap_or(first.first - first.step.as_millis() as i64);
        let regions: Vec<(Millis, Millis, i64)> = segments
            .iter()
            .map(|s| {
                let step = s.step.as_millis() as i64;
                (s.first - step, s.last, step)
            })
            .collect();
        let fine = segments.iter().map(|s| s.step).min().unwrap_or(first.step);
        let grid = Grid::regions(regions, start, fine.as_millis() as i64);
        let mut queries = 0;
        let mut roles = Vec::new();
        for (role, selector) in self.plan.selectors() {
            let selector = selector.clone();
            let mut data = RoleData {
                role,
                series: HashMap::new(),
            };
            for segment in segments {
                for chunk in segment.chunks() {
                    let step_ms = segment.step.as_millis() as i64;
                    let read = Read::Boundaries {
                        selector: &selector,
                        step: segment.step,
                    };
                    let result = match self
                        .range(read, chunk.first - step_ms, chunk.last, segment.step)
                        .await
                    {
                        Err(BackendError::TooLarge(_)) => {
                            return Ok(ExactRead::Inexact(Inexact::TooLarge));
                        }
                        other => other?,
                    };
                    queries += 1;
                    if let Err(inexact) = data.take_boundaries(result) {
                        return Ok(ExactRead::Inexact(inexact));
                    }
                }
            }
            if data.series.len() > self.spec.series_limit {
                return Ok(ExactRead::Inexact(Inexact::SeriesLimit));
            }
            let tracker_empty = self
                .trackers
                .get(&RoleKey::from(role))
                .is_none_or(|t| t.is_empty());
            if let Some(since) = since.filter(|_| tracker_empty) {
                // After a restart the trackers hold nothing: the gap counts from the counters'
                // values at its start.
                let read = Read::Values {
                    selector: &selector,
                };
                let result = self.instant(read, since).await?;
                queries += 1;
                data.take_baselines(result);
            }
            roles.push((selector, data));
        }
        let boundaries = boundary_times(segments);
        let mut detail: Vec<(usize, Millis, Duration)> = Vec::new();
        for (i, (_, data)) in roles.iter().enumerate() {
            let tracker = self.trackers.get(&RoleKey::from(data.role));
            let baseline = |labels: &Labels| {
                let id = series_id(labels);
                tracker.and_then(|t| t.last(id)).map(|(_, v)| v)
            };
            for (at, step) in data.detail_buckets(&boundaries, since, |labels| {
                baseline(labels).or_else(|| {
                    data.series
                        .get(&identity(labels))
                        .and_then(|s| s.baseline)
                        .map(|(_, v)| v)
                })
            }) {
                detail.push((i, at, step));
            }
        }
        if detail.len() > MAX_DETAIL_READS {
            return Ok(ExactRead::Inexact(Inexact::DetailLimit));
        }
        for (i, at, step) in detail {
            let read = Read::Samples {
                selector: &roles[i].0,
                range: step,
            };
            let result = match self.instant(read, at).await {
                Err(BackendError::TooLarge(_)) => {
                    return Ok(ExactRead::Inexact(Inexact::TooLarge));
                }
                other => other?,
            };
            queries += 1;
            roles[i].1.take_raw(result);
        }
        let mut placer = Placer::new(grid);
        let mut admitted = BTreeSet::new();
        for (_, data) in &roles {
            self.place(&mut placer, data, &boundaries, start, &mut admitted);
        }
        Ok(ExactRead::Points(placer.finish(), queries))
    }

    /// Feeds one selector's values, in time order per series, through the trackers into
    /// `placer`. Each increase is spread over the span since the value before it: within one
    /// bucket that is the bucket; across boundaries without a value (a hole) it is the hole.
    fn place(
        &mut self,
        placer: &mut Placer,
        data: &RoleData,
        boundaries: &[(Millis, Duration)],
        start: Millis,
        admitted: &mut BTreeSet<Vec<String>>,
    ) {
        let group_by = self.spec.group_by.clone();
        for series in data.series.values() {
            if series.labels.is_empty() {
                continue;
            }
            let key = group_key(&group_by, &series.labels);
            if !admit(&self.instances, self.spec.group_limit, admitted, &key) {
                continue;
            }
            let id = series_id(&series.labels);
            // Raw samples before the boundary at the same instant: it repeats the last of them.
            let mut values: Vec<(Millis, u8, f64)> = Vec::new();
            values.extend(series.baseline.map(|(t, v)| (t, 0, v)));
            values.extend(series.raw.iter().map(|&(t, v)| (t, 0, v)));
            values.extend(
                boundaries
                    .iter()
                    .filter_map(|&(t, _)| series.boundaries.get(&t).map(|&v| (t, 1, v))),
            );
            values.sort_by_key(|a| (a.0, a.1));
            let tracker = self.trackers.entry(data.role.into()).or_default();
            let role = data.role;
            for (t, _, value) in values {
                tracker.ingest_each(id, &[(t, value)], |prev, t, increase| {
                    placer.increase(&key, role, prev, t, increase, Some(prev));
                });
                if t > start {
                    placer.seen(&key, role, t);
                }
            }
        }
    }
}

/// Every boundary of `segments`, ascending, with the step of the bucket it ends: each segment's
/// points, and before them the boundary the first bucket starts from (in a gap read, the end of
/// the partial bucket after `since`, read at the first segment's step).
fn boundary_times(segments: &[Segment]) -> Vec<(Millis, Duration)> {
    let mut out: BTreeMap<Millis, Duration> = BTreeMap::new();
    for segment in segments.iter().rev() {
        let step = segment.step.as_millis() as i64;
        let mut t = segment.first - step;
        while t <= segment.last {
            out.insert(t, segment.step);
            t += step;
        }
    }
    // Later (finer) segments were inserted first; a coarser segment's last point is the next
    // one's start, which keeps the coarser step it ends.
    out.into_iter().collect()
}

/// The labels of a series without its metric name (how reset rows name it).
fn identity(labels: &Labels) -> u64 {
    let mut labels = labels.clone();
    labels.remove("__name__");
    series_id(&labels)
}

impl RoleData {
    fn take_boundaries(&mut self, result: QueryResult) -> Result<(), Inexact> {
        for series in &result.resets {
            let data = self.series.entry(identity(&series.labels)).or_default();
            data.resets.extend(series.samples.iter().copied());
        }
        let mut named: HashMap<u64, &Labels> = HashMap::new();
        for series in &result.series {
            let id = identity(&series.labels);
            if named.insert(id, &series.labels).is_some() {
                return Err(Inexact::Ambiguous);
            }
            let data = self.series.entry(id).or_default();
            data.labels.clone_from(&series.labels);
            data.boundaries.extend(series.samples.iter().copied());
        }
        Ok(())
    }

    fn take_baselines(&mut self, result: QueryResult) {
        for series in result.series {
            if let Some(&last) = series.samples.last() {
                let data = self.series.entry(identity(&series.labels)).or_default();
                if data.labels.is_empty() {
                    data.labels = series.labels;
                }
                data.baseline = Some(last);
            }
        }
    }

    fn take_raw(&mut self, result: QueryResult) {
        for series in result.series {
            let data = self.series.entry(identity(&series.labels)).or_default();
            if data.labels.is_empty() {
                data.labels = series.labels;
            }
            data.raw.extend(series.samples);
        }
    }

    /// The buckets (their end and step) to read sample by sample: a reset in the bucket; a value
    /// lower than at the boundary before; a value at the bucket's end but none at its start (a
    /// series appearing, or back after a hole: its first sample is the baseline); samples in the
    /// bucket but no value at its end (a series that ended inside it). For the first bucket of
    /// a gap, the value at its start is the trackers' (or the baseline read's).
    fn detail_buckets(
        &self,
        boundaries: &[(Millis, Duration)],
        since: Option<Millis>,
        baseline: impl Fn(&Labels) -> Option<f64>,
    ) -> BTreeSet<(Millis, Duration)> {
        let mut out = BTreeSet::new();
        for series in self.series.values() {
            // Known only by resets: samples in buckets but never at a boundary (a short-lived
            // series between two coarse boundaries). Its buckets are read one by one.
            let named = !series.labels.is_empty();
            let mut previous = if named {
                since.and_then(|_| baseline(&series.labels))
            } else {
                None
            };
            for (i, &(t, step)) in boundaries.iter().enumerate() {
                let value = series.boundaries.get(&t).copied();
                if i == 0 && since.is_none() {
                    previous = value;
                    continue;
                }
                let resets = series.resets.get(&t).copied();
                let appeared = previous.is_none() && value.is_some();
                let ended = value.is_none() && resets.is_some();
                let dropped = matches!((previous, value), (Some(a), Some(b)) if b < a);
                if appeared || ended || dropped || resets.is_some_and(|r| r > 0.0) {
                    out.insert((t, step));
                }
                previous = value;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;

    fn labels(instance: &str) -> Labels {
        [
            ("__name__".to_string(), "x_total".to_string()),
            ("instance".to_string(), instance.to_string()),
        ]
        .into()
    }

    fn series(
        instance: &str,
        boundaries: &[(Millis, f64)],
        resets: &[(Millis, f64)],
    ) -> SeriesData {
        SeriesData {
            labels: labels(instance),
            boundaries: boundaries.iter().copied().collect(),
            resets: resets.iter().copied().collect(),
            ..SeriesData::default()
        }
    }

    fn role(all: Vec<SeriesData>) -> RoleData {
        RoleData {
            role: Role::Total,
            series: all
                .into_iter()
                .enumerate()
                .map(|(i, s)| (i as u64, s))
                .collect(),
        }
    }

    fn minutes(n: i64) -> Vec<(Millis, Duration)> {
        (0..=n).map(|k| (k * M, Duration::from_secs(60))).collect()
    }

    #[test]
    fn only_buckets_the_boundaries_cannot_tell_are_read_one_by_one() {
        let steady = series(
            "a",
            &[(0, 10.0), (M, 20.0), (2 * M, 30.0), (3 * M, 40.0)],
            &[(M, 0.0), (2 * M, 0.0), (3 * M, 0.0)],
        );
        // Resets at minute 2 although the value at its end is higher than at its start.
        let hidden_reset = series(
            "b",
            &[(0, 10.0), (M, 20.0), (2 * M, 30.0), (3 * M, 40.0)],
            &[(M, 0.0), (2 * M, 1.0), (3 * M, 0.0)],
        );
        // Lower at minute 3 than at minute 2, without a reset in the bucket's own samples.
        let dropped = series("c", &[(0, 10.0), (2 * M, 30.0), (3 * M, 5.0)], &[]);
        // Appears in minute 1; ends inside minute 3.
        let churn = series(
            "d",
            &[(M, 3.0), (2 * M, 4.0)],
            &[(M, 0.0), (2 * M, 0.0), (3 * M, 0.0)],
        );
        let data = role(vec![steady, hidden_reset, dropped, churn]);
        let got: Vec<Millis> = data
            .detail_buckets(&minutes(3), None, |_| None)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        // b: 2m (reset); c: 2m (back after no value at 1m), 3m (lower); d: 1m, 3m.
        assert_eq!(got, vec![M, 2 * M, 3 * M]);
        let only_steady = role(vec![series("a", &[(0, 10.0), (M, 20.0)], &[(M, 0.0)])]);
        assert!(
            only_steady
                .detail_buckets(&minutes(1), None, |_| None)
                .is_empty()
        );
    }

    #[test]
    fn a_gap_reads_its_first_bucket_against_the_trackers_baseline() {
        // A series the trackers know and that has a value at the first boundary needs nothing;
        // one they do not know appeared in the gap's first bucket.
        let known = series("a", &[(M, 20.0), (2 * M, 30.0)], &[]);
        let data = role(vec![known]);
        let baseline = |l: &Labels| (l["instance"] == "a").then_some(15.0);
        assert!(
            data.detail_buckets(&minutes(2)[1..], Some(M / 2), baseline)
                .is_empty()
        );
        let data = role(vec![series("b", &[(M, 20.0), (2 * M, 30.0)], &[])]);
        let got = data.detail_buckets(&minutes(2)[1..], Some(M / 2), baseline);
        assert_eq!(got.into_iter().map(|(t, _)| t).collect::<Vec<_>>(), vec![M]);
    }

    #[test]
    fn boundaries_take_the_step_of_the_bucket_they_end() {
        let segments = [
            Segment {
                first: 2 * 60 * M,
                last: 3 * 60 * M,
                step: Duration::from_secs(3600),
            },
            Segment {
                first: 3 * 60 * M + 10 * M,
                last: 3 * 60 * M + 20 * M,
                step: Duration::from_secs(600),
            },
        ];
        let got = boundary_times(&segments);
        let hour = Duration::from_secs(3600);
        let ten = Duration::from_secs(600);
        assert_eq!(
            got,
            vec![
                (60 * M, hour),
                (2 * 60 * M, hour),
                (3 * 60 * M, hour),
                (3 * 60 * M + 10 * M, ten),
                (3 * 60 * M + 20 * M, ten),
            ]
        );
    }
}
