//! The rolling state of one SLO instance, and its evaluation.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::exclusion::Excluded;
use crate::history::History;
use crate::layout::Layout;
use crate::ratios::Ratios;
use crate::window::{self, HOUR, SIX_HOURS};
use crate::{
    Counts, Evaluation, Millis, Objective, Observation, Period, PeriodFigures, WindowFigures,
};

/// Rolling state of one SLO instance: multi-resolution buckets, or (raw SLIs) latest ratios.
///
/// A counting state holds about 1,500 buckets for a 30-day period with the default windows
/// (about 25 KiB); a tick costs O(number of windows) whatever their length. Grouped SLOs hold
/// one state per label set: states share nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SloState {
    objective: Objective,
    /// Rolling, or the current calendar period (then the buckets reach back its longest).
    period: Period,
    /// Configured windows, ascending, without the period (unless configured too).
    windows: Vec<Duration>,
    source: Source,
    /// Spans whose events count toward nothing; set by the caller (from maintenance windows and
    /// corrections); saved with the state, so a restored state says what it already left out.
    #[serde(default, skip_serializing_if = "Excluded::is_empty")]
    excluded: Excluded,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Source {
    Counted(History),
    Direct(Ratios),
}

impl SloState {
    /// Counting state. `objective` in (0,1). `windows` ascending, each a whole number of minutes
    /// and at most the period (a calendar period's shortest). Panics on invalid arguments
    /// (spec validated them).
    ///
    /// Windows given out of order or twice are sorted and deduplicated. A rolling period must be
    /// a whole number of minutes too. A `Duration` is a rolling period.
    pub fn counted(
        objective: impl Into<Objective>,
        period: impl Into<Period>,
        windows: &[Duration],
    ) -> Self {
        let objective = objective.into();
        let period = period.into();
        let windows = window::checked(objective.ratio(), period.shortest(), windows);
        let layout = match period {
            Period::Rolling(length) => Layout::new(length, &windows),
            Period::Calendar(_) => Layout::calendar(period.longest(), &windows),
        };
        let history = History::new(&layout);
        SloState {
            objective,
            period,
            windows,
            source: Source::Counted(history),
            excluded: Excluded::default(),
        }
    }

    /// Ratio state for raw SLIs: the backend computes each window's error ratio.
    ///
    /// Panics on the same arguments as [`SloState::counted`], and on a calendar period: a
    /// backend's ratio covers a rolling range, so calendar periods need counted events (the
    /// spec rejects `calendar` with a raw SLI).
    pub fn direct(
        objective: impl Into<Objective>,
        period: impl Into<Period>,
        windows: &[Duration],
    ) -> Self {
        let objective = objective.into();
        let period = period.into();
        assert!(
            period.calendar().is_none(),
            "calendar periods need counted events, not backend-computed ratios"
        );
        let windows = window::checked(objective.ratio(), period.longest(), windows);
        let ratios = Ratios::new(windows.len());
        SloState {
            objective,
            period,
            windows,
            source: Source::Direct(ratios),
            excluded: Excluded::default(),
        }
    }

    /// Record one observation (counted state). Out-of-order spans within the retained range are
    /// added where they belong; older ones are dropped.
    ///
    /// Bad data is ignored or clamped, never a panic: counts with a NaN or infinite component
    /// and reversed spans are ignored, negative counts count as 0, a zero-length span counts as
    /// the millisecond before its end. A direct state ignores observations.
    ///
    /// Events inside an excluded span (see [`SloState::exclude`]) count toward nothing: the
    /// excluded part of a span is observed with no events, so time and the data state still
    /// move.
    pub fn observe(&mut self, obs: Observation) {
        if let Source::Counted(history) = &mut self.source {
            match obs {
                Observation::Events { start, end, counts } if start < end => {
                    for (start, end, counts) in self.excluded.split(start, end, counts) {
                        history.observe(Observation::Events { start, end, counts });
                    }
                }
                _ => history.observe(obs),
            }
        }
    }

    /// The objective every figure is evaluated against.
    pub fn objective(&self) -> Objective {
        self.objective
    }

    /// Replaces the objective (a progressive objective taking over on its date): the events
    /// kept stay, and every evaluation from now on measures them against `objective`.
    pub fn set_objective(&mut self, objective: impl Into<Objective>) {
        let objective = objective.into();
        assert!(
            objective.ratio() > 0.0 && objective.ratio() < 1.0,
            "objective {} must be a ratio in (0, 1), e.g. 0.999",
            objective.ratio()
        );
        self.objective = objective;
    }

    /// Sets the spans whose events count toward nothing from now on (maintenance windows with
    /// `exclude`, corrections). Events already observed stay: to exclude the past, build the
    /// state anew and observe history again (backfill does).
    ///
    /// A backend-computed ratio state cannot exclude: the backend holds its events.
    pub fn exclude(&mut self, excluded: Excluded) {
        self.excluded = excluded;
    }

    /// The excluded spans set by [`SloState::exclude`].
    pub fn excluded(&self) -> &Excluded {
        &self.excluded
    }

    /// Record per-window error ratios computed by the backend (direct state); `None` = no data.
    /// The last element is the period.
    ///
    /// The others are the configured windows in ascending order. NaN and infinite ratios count
    /// as `None`, others are clamped to `[0, 1]`; ratios older than the newest recorded are
    /// ignored. A counting state ignores ratios.
    pub fn observe_ratios(&mut self, at: Millis, ratios: &[Option<f64>]) {
        if let Source::Direct(latest) = &mut self.source {
            latest.observe(at, ratios);
        }
    }

    /// Advance to `now` and compute every window. O(number of windows).
    ///
    /// Evaluating at a `now` before the newest observed span end evaluates at that end: the
    /// buckets cannot go back in time ([`Evaluation::at`] says which moment was evaluated).
    pub fn evaluate(&mut self, now: Millis) -> Evaluation {
        let mut evaluation = self.figures(now);
        if let Source::Counted(_) = self.source {
            let at = evaluation.at;
            // A calendar period's events are those since its start; a rolling one's, the last P.
            let excluded = self.excluded.overlap(self.period.bounds(at).0, at);
            evaluation.period.excluded = crate::millis::to_duration(excluded);
        }
        evaluation
    }

    fn figures(&mut self, now: Millis) -> Evaluation {
        let objective = self.objective;
        match &mut self.source {
            Source::Counted(history) => {
                let at = history.advance(now);
                let calendar = self.period.calendar().map(|c| {
                    let (start, end) = c.bounds(at);
                    (start, end, history.period(start, end))
                });
                let index = &history.index;
                let figures = |w: Duration, i: usize| {
                    WindowFigures::from_counts(w, history.window(i), objective)
                };
                let windows: Vec<WindowFigures> = self
                    .windows
                    .iter()
                    .zip(&index.configured)
                    .map(|(&w, &i)| figures(w, i))
                    .collect();
                let (period, covered) = match (self.period, calendar) {
                    (Period::Calendar(_), Some((start, end, counts))) => {
                        let length = crate::millis::to_duration(end - start);
                        let so_far = crate::millis::to_duration(at - start);
                        (
                            WindowFigures::from_counts(length, counts, objective),
                            history.covered(at, so_far),
                        )
                    }
                    (period, _) => {
                        let length = period.longest();
                        (figures(length, index.period), history.covered(at, length))
                    }
                };
                let shortest = windows.first().unwrap_or(&period).counts;
                Evaluation {
                    at,
                    objective: objective.ratio(),
                    period: PeriodFigures::new(
                        period,
                        figures(HOUR, index.hour).burn_rate,
                        figures(SIX_HOURS, index.six_hours).burn_rate,
                        covered,
                    ),
                    windows,
                    data_state: history.data_state(shortest),
                }
            }
            Source::Direct(ratios) => {
                let figures =
                    |w: Duration, i: usize| WindowFigures::from_ratio(w, ratios.get(i), objective);
                let windows: Vec<WindowFigures> = self
                    .windows
                    .iter()
                    .enumerate()
                    .map(|(i, &w)| figures(w, i))
                    .collect();
                let burn = |w: Duration| {
                    windows
                        .iter()
                        .find(|f| f.window == w)
                        .and_then(|f| f.burn_rate)
                };
                // The backend holds the history behind its ratios, so they describe the period.
                let length = self.period.longest();
                let covered = if ratios.at().is_some() {
                    length
                } else {
                    Duration::ZERO
                };
                let period = PeriodFigures::new(
                    figures(length, self.windows.len()),
                    burn(HOUR),
                    burn(SIX_HOURS),
                    covered,
                );
                Evaluation {
                    at: now,
                    objective: objective.ratio(),
                    windows,
                    period,
                    data_state: ratios.data_state(),
                }
            }
        }
    }

    /// The burn rates this state held at past moments, read back from its buckets when asked
    /// (the buckets are the history: nothing else keeps it), oldest first, in the windows'
    /// order with the period last (as [`crate::TrailPoint`]s).
    ///
    /// Moments are the bucket edges from `since` (and after the first observation) to the
    /// newest whole bucket: every minute over the last 6 hours, every 10 minutes over the last 3
    /// days, every hour before (with the default windows). Each window is read over the buckets
    /// of every level, finest first, the bucket its start falls in taken in proportion (as the
    /// live windows take theirs). A window shorter than the buckets at a moment (the 5-minute
    /// window more than 6 hours back) is `None` there; the period reads what the buckets hold,
    /// as it did live with that much coverage. Empty for backend-computed ratios.
    pub fn past(&self, since: Millis) -> Vec<crate::TrailPoint> {
        let Source::Counted(history) = &self.source else {
            return Vec::new();
        };
        let Some(first) = history.first_start() else {
            return Vec::new();
        };
        let period = self.period.longest();
        let windows: Vec<Duration> = self.windows.iter().copied().chain([period]).collect();
        // The period's start at `at`: a calendar period from its own start, not a fixed length.
        let from = |at: Millis, w: Duration| match self.period {
            Period::Calendar(c) if w == period => c.bounds(at).0,
            _ => at.saturating_sub(crate::millis::to_millis(w)),
        };
        let spans = history.spans();
        spans
            .edges(since, first)
            .into_iter()
            .map(|at| crate::TrailPoint {
                at,
                burn_rates: windows
                    .iter()
                    .map(|&w| {
                        let counts = spans.counts(from(at, w), at, w == period)?;
                        WindowFigures::from_counts(w, counts, self.objective).burn_rate
                    })
                    .collect(),
            })
            .collect()
    }

    /// Whether this state keeps buckets (counted events) rather than a backend's ratios.
    pub fn has_buckets(&self) -> bool {
        matches!(self.source, Source::Counted(_))
    }

    /// End of the newest recorded span (None before the first observation).
    ///
    /// For a direct state: the time of the newest ratios.
    pub fn last_observed(&self) -> Option<Millis> {
        match &self.source {
            Source::Counted(history) => history.last_end(),
            Source::Direct(ratios) => ratios.at(),
        }
    }

    /// Bytes of heap + inline memory this state holds (for the memory target).
    pub fn memory_bytes(&self) -> usize {
        let heap = match &self.source {
            Source::Counted(history) => history.heap_bytes(),
            Source::Direct(ratios) => ratios.heap_bytes(),
        };
        size_of::<Self>() + self.windows.capacity() * size_of::<Duration>() + heap
    }

    /// Bucket resolutions of the levels, finest first (backfill queries one step per level).
    ///
    /// `(resolution, span)`: each level holds `span` back from now. Empty for a direct state,
    /// which has no buckets to fill.
    pub fn levels(&self) -> Vec<(Duration, Duration)> {
        match &self.source {
            Source::Counted(history) => history.levels(),
            Source::Direct(_) => Vec::new(),
        }
    }
}

/// A counting state in two parts, for storage that rewrites only what changed: the bucket rings
/// (nearly all its bytes) and the frame (everything else: sums, clock, data state; small).
///
/// A slot's place in its ring is fixed by time (bucket `k` in slot `k mod len`), so between two
/// snapshots only the slots of the buckets observed or emptied since change, and a store that
/// keeps the rings in chunks rewrites a few chunks per level.
impl SloState {
    /// Every level's ring of buckets, finest level first; none for a ratio state.
    pub fn bucket_rings(&self) -> Vec<&[Counts]> {
        match &self.source {
            Source::Counted(history) => history.rings(),
            Source::Direct(_) => Vec::new(),
        }
    }

    /// This state with every ring empty: with [`SloState::bucket_rings`], all it holds.
    pub fn frame(&self) -> SloState {
        SloState {
            objective: self.objective,
            period: self.period,
            windows: self.windows.clone(),
            source: match &self.source {
                Source::Counted(history) => Source::Counted(history.frame()),
                Source::Direct(ratios) => Source::Direct(ratios.clone()),
            },
            excluded: self.excluded.clone(),
        }
    }

    /// The state a frame and its rings (as [`SloState::bucket_rings`] gave them) were taken
    /// from. Refuses rings that do not fit the frame's levels, in number or length.
    pub fn with_buckets(mut self, rings: Vec<Vec<Counts>>) -> Result<SloState, String> {
        match &mut self.source {
            Source::Counted(history) => history.fill(rings)?,
            Source::Direct(_) if rings.is_empty() => {}
            Source::Direct(_) => return Err("a ratio state holds no buckets".into()),
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counts, DEFAULT_WINDOWS, DataState};

    const S: i64 = 1_000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;
    const D: i64 = 24 * H;
    /// A day boundary, hence also an hour and ten-minute boundary.
    const T0: i64 = 19_700 * D;
    const MIN: Duration = Duration::from_secs(60);
    const DAY: Duration = Duration::from_secs(86_400);

    fn slo() -> SloState {
        SloState::counted(0.999, 30 * DAY, &DEFAULT_WINDOWS)
    }

    fn events(start: i64, end: i64, errors: f64, total: f64) -> Observation {
        Observation::Events {
            start,
            end,
            counts: Counts { errors, total },
        }
    }

    /// Live ticks of 30 s over `(from, to]`, each with the same counts.
    fn ticks(s: &mut SloState, from: i64, to: i64, errors: f64, total: f64) {
        let mut t = from;
        while t < to {
            s.observe(events(t, t + 30 * S, errors, total));
            t += 30 * S;
        }
    }

    fn counts(e: &Evaluation, w: Duration) -> Counts {
        e.window(w).unwrap().counts
    }

    fn ratio(e: &Evaluation, w: Duration) -> Option<f64> {
        e.window(w).unwrap().error_ratio
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn steady_traffic_gives_exact_figures_in_every_window() {
        let mut s = slo();
        ticks(&mut s, T0 - 30 * D, T0, 1.0, 1000.0);
        let e = s.evaluate(T0);
        for w in DEFAULT_WINDOWS.iter().chain([&(30 * DAY)]) {
            let n = (w.as_secs() / 30) as f64;
            assert_eq!(
                counts(&e, *w),
                Counts {
                    errors: n,
                    total: 1000.0 * n
                },
                "{w:?}"
            );
            assert_eq!(ratio(&e, *w), Some(0.001), "{w:?}");
            assert!(close(e.window(*w).unwrap().burn_rate.unwrap(), 1.0));
        }
        assert_eq!(e.period.sli, Some(0.999));
        assert!(
            e.period.budget_remaining.unwrap().abs() < 1e-9,
            "burning exactly the budget"
        );
        assert_eq!(e.period.covered, 30 * DAY);
        assert_eq!(e.data_state, DataState::Ok);
    }

    #[test]
    fn an_incident_enters_and_leaves_the_windows() {
        let mut s = slo();
        ticks(&mut s, T0 - 2 * H, T0, 0.0, 1000.0);
        ticks(&mut s, T0, T0 + 10 * M, 100.0, 1000.0); // 2000 errors in 10 minutes
        let e = s.evaluate(T0 + 10 * M);
        assert_eq!(ratio(&e, 5 * MIN), Some(0.1));
        assert!(close(e.window(5 * MIN).unwrap().burn_rate.unwrap(), 100.0));
        assert_eq!(
            counts(&e, 60 * MIN),
            Counts {
                errors: 2000.0,
                total: 120_000.0
            }
        );

        ticks(&mut s, T0 + 10 * M, T0 + 70 * M, 0.0, 1000.0);
        let e = s.evaluate(T0 + 15 * M);
        assert_eq!(e.at, T0 + 70 * M, "time does not run backwards");
        // The incident is over for the 5m and (T0 + 10m, T0 + 70m] 1h windows...
        assert_eq!(ratio(&e, 5 * MIN), Some(0.0));
        assert_eq!(ratio(&e, 60 * MIN), Some(0.0));
        // ...but not for 2h and longer.
        assert_eq!(counts(&e, 120 * MIN).errors, 2000.0);

        // Halfway out: (T0 + 5m, T0 + 65m] holds the second half of the incident.
        let mut s = slo();
        ticks(&mut s, T0 - 2 * H, T0, 0.0, 1000.0);
        ticks(&mut s, T0, T0 + 10 * M, 100.0, 1000.0);
        ticks(&mut s, T0 + 10 * M, T0 + 65 * M, 0.0, 1000.0);
        assert_eq!(counts(&s.evaluate(T0 + 65 * M), 60 * MIN).errors, 1000.0);
    }

    #[test]
    fn the_boundary_bucket_is_interpolated() {
        let mut s = slo();
        s.observe(events(T0 - 5 * M, T0 - 4 * M, 60.0, 600.0));
        s.observe(events(T0 - 4 * M, T0, 0.0, 400.0));
        assert_eq!(
            counts(&s.evaluate(T0), 5 * MIN),
            Counts {
                errors: 60.0,
                total: 1000.0
            }
        );
        // At T0 + 15s the window (T0 - 4m45s, T0 + 15s] holds 1 - 15/60 = 3/4 of the minute
        // [T0 - 5m, T0 - 4m): 45 of its errors, 450 of its events, plus the 400 after it.
        let e = s.evaluate(T0 + 15 * S);
        assert_eq!(
            counts(&e, 5 * MIN),
            Counts {
                errors: 45.0,
                total: 850.0
            }
        );
        assert_eq!(ratio(&e, 5 * MIN), Some(45.0 / 850.0));
    }

    #[test]
    fn a_day_is_answered_from_ten_minute_buckets() {
        let mut s = slo();
        // All events in the first minute of the ten minutes [T0 - 1d, T0 - 1d + 10m).
        s.observe(events(T0 - D, T0 - D + M, 6.0, 600.0));
        // The 1d window at T0 + 5m starts at T0 - 1d + 5m: 1-minute buckets would hold nothing
        // of it; the 10-minute bucket is taken at 1 - 5/10 = half.
        let e = s.evaluate(T0 + 5 * M);
        assert_eq!(
            counts(&e, DAY),
            Counts {
                errors: 3.0,
                total: 300.0
            }
        );
        assert_eq!(
            counts(&e, 3 * DAY),
            Counts {
                errors: 6.0,
                total: 600.0
            }
        );
        assert_eq!(counts(&e, 6 * 60 * MIN), Counts::default());
    }

    #[test]
    fn the_period_is_answered_from_hourly_buckets() {
        let mut s = slo();
        s.observe(events(T0 - 30 * D, T0 - 30 * D + M, 36.0, 3600.0));
        // At T0 + 15m the period starts 15 minutes into the hour [T0 - 30d, T0 - 30d + 1h).
        let e = s.evaluate(T0 + 15 * M);
        assert_eq!(
            e.period.window.counts,
            Counts {
                errors: 27.0,
                total: 2700.0
            }
        );
        assert_eq!(
            counts(&e, 3 * DAY),
            Counts::default(),
            "older than the 10-minute level"
        );
        assert_eq!(e.period.covered, 30 * DAY, "clipped to the period");
        assert_eq!(
            e.data_state,
            DataState::NoTraffic,
            "nothing in the last 5 minutes"
        );
    }

    #[test]
    fn a_28_day_period_uses_hourly_buckets_over_28_days() {
        let mut s = SloState::counted(0.99, 28 * DAY, &DEFAULT_WINDOWS);
        let levels: Vec<(u64, u64)> = s
            .levels()
            .iter()
            .map(|(r, p)| (r.as_secs(), p.as_secs()))
            .collect();
        assert_eq!(
            levels,
            [(60, 6 * 3600), (600, 3 * 86_400), (3600, 28 * 86_400)]
        );
        s.observe(events(T0 - 28 * D, T0 - 28 * D + H, 36.0, 3600.0));
        s.observe(events(T0 - 30 * S, T0, 0.0, 1000.0));
        // Half of the oldest hour is still inside (T0 - 28d + 30m, T0 + 30m].
        let e = s.evaluate(T0 + 30 * M);
        assert_eq!(
            e.period.window.counts,
            Counts {
                errors: 18.0,
                total: 2800.0
            }
        );
        assert_eq!(e.period.window.window, 28 * DAY);
    }

    #[test]
    fn a_jump_longer_than_a_level_empties_it() {
        let mut s = slo();
        s.observe(events(T0 - M, T0, 10.0, 100.0));
        let e = s.evaluate(T0 + 7 * H);
        assert_eq!(
            counts(&e, 360 * MIN),
            Counts::default(),
            "minute level emptied"
        );
        assert_eq!(
            counts(&e, DAY),
            Counts {
                errors: 10.0,
                total: 100.0
            }
        );
        // New events after the reset are counted alone.
        s.observe(events(T0 + 7 * H - 30 * S, T0 + 7 * H, 0.0, 50.0));
        let e = s.evaluate(T0 + 7 * H);
        assert_eq!(
            counts(&e, 360 * MIN),
            Counts {
                errors: 0.0,
                total: 50.0
            }
        );
        assert_eq!(
            counts(&e, 5 * MIN),
            Counts {
                errors: 0.0,
                total: 50.0
            }
        );
        // Past the whole period everything is gone, but series were seen: no traffic.
        let e = s.evaluate(T0 + 40 * D);
        assert_eq!(e.period.window.counts, Counts::default());
        assert_eq!(e.period.window.error_ratio, None);
        assert_eq!(e.data_state, DataState::NoTraffic);
    }

    #[test]
    fn a_late_span_lands_in_its_own_bucket_and_too_old_ones_are_dropped() {
        let mut s = slo();
        ticks(&mut s, T0, T0 + 10 * M, 0.0, 100.0);
        // Late, but within every level: in the 30m window, not in the 5m one.
        s.observe(events(T0 - 10 * M, T0 - 9 * M, 5.0, 50.0));
        // Older than 6h: only the 10-minute and hourly levels keep it.
        s.observe(events(T0 - 2 * D, T0 - 2 * D + H, 6.0, 60.0));
        // Older than the period: dropped everywhere.
        s.observe(events(T0 - 31 * D, T0 - 31 * D + H, 1000.0, 1000.0));
        let e = s.evaluate(T0 + 10 * M);
        assert_eq!(
            counts(&e, 5 * MIN),
            Counts {
                errors: 0.0,
                total: 1000.0
            }
        );
        assert_eq!(
            counts(&e, 30 * MIN),
            Counts {
                errors: 5.0,
                total: 2050.0
            }
        );
        assert_eq!(
            counts(&e, 360 * MIN),
            Counts {
                errors: 5.0,
                total: 2050.0
            }
        );
        assert_eq!(
            counts(&e, 3 * DAY),
            Counts {
                errors: 11.0,
                total: 2110.0
            }
        );
        assert_eq!(
            e.period.window.counts,
            Counts {
                errors: 11.0,
                total: 2110.0
            }
        );
    }

    #[test]
    fn zero_traffic_is_no_evidence() {
        let mut s = slo();
        ticks(&mut s, T0 - H, T0, 0.0, 0.0);
        let e = s.evaluate(T0);
        assert_eq!(e.data_state, DataState::NoTraffic);
        for f in e.windows.iter().chain([&e.period.window]) {
            assert_eq!((f.error_ratio, f.burn_rate), (None, None), "{:?}", f.window);
        }
        assert_eq!(e.period.sli, None);
        assert_eq!(e.period.budget_remaining, None);
        assert_eq!(e.period.exhaustion_at_1h_burn, None);
        assert_eq!(e.period.covered, Duration::from_secs(3600));
    }

    #[test]
    fn no_series_is_no_data_and_keeps_history() {
        let mut s = slo();
        assert_eq!(
            s.evaluate(T0).data_state,
            DataState::NoData,
            "nothing observed yet"
        );
        ticks(&mut s, T0, T0 + 10 * M, 1.0, 100.0);
        s.observe(Observation::NoSeries { at: T0 + 10 * M });
        let e = s.evaluate(T0 + 10 * M);
        assert_eq!(e.data_state, DataState::NoData);
        assert_eq!(
            counts(&e, 60 * MIN),
            Counts {
                errors: 20.0,
                total: 2000.0
            }
        );
        assert_eq!(s.last_observed(), Some(T0 + 10 * M));
        ticks(&mut s, T0 + 10 * M, T0 + 11 * M, 0.0, 100.0);
        assert_eq!(s.evaluate(T0 + 11 * M).data_state, DataState::Ok);
    }

    #[test]
    fn budget_remaining_and_exhaustion_are_projected_from_1h_and_6h_burn() {
        let mut s = slo();
        // Period: 2 errors in 4000 events = 0.05% = half the 0.1% budget.
        // Last hour: 2 errors in 1000 events = 0.2% = burn rate 2 (so is the last 6h).
        s.observe(events(T0 - 10 * D, T0 - 10 * D + H, 0.0, 3000.0));
        s.observe(events(T0 - H, T0, 2.0, 1000.0));
        let e = s.evaluate(T0);
        assert!(close(e.period.budget_remaining.unwrap(), 0.5));
        assert!(close(e.window(60 * MIN).unwrap().burn_rate.unwrap(), 2.0));
        // 0.5 * 30 days / 2 = 7.5 days, at either burn rate.
        for exhaustion in [
            e.period.exhaustion_at_1h_burn,
            e.period.exhaustion_at_6h_burn,
        ] {
            let secs = exhaustion.unwrap().as_secs_f64();
            assert!((secs - 7.5 * 86_400.0).abs() < 1e-3, "{secs}");
        }
    }

    #[test]
    fn exhaustion_uses_1h_and_6h_even_when_not_configured() {
        let mut s = SloState::counted(0.99, 30 * DAY, &[5 * MIN, 3 * DAY]);
        // Last 1h: 4 errors in 100 = 4%, burn 4. Last 6h: 9 in 600 = 1.5%, burn 1.5.
        // Period: 9 in 1800 = 0.5%, burn 0.5, half the budget left.
        s.observe(events(T0 - 6 * H, T0 - H, 5.0, 500.0));
        s.observe(events(T0 - H, T0, 4.0, 100.0));
        s.observe(events(T0 - 20 * D, T0 - 20 * D + H, 0.0, 1200.0));
        let e = s.evaluate(T0);
        assert_eq!(e.windows.len(), 2);
        assert!(e.window(60 * MIN).is_none());
        assert!(close(e.period.budget_remaining.unwrap(), 0.5));
        // 0.5 * 30 days / 4 = 3.75 days; 0.5 * 30 days / 1.5 = 10 days.
        let d1 = e.period.exhaustion_at_1h_burn.unwrap().as_secs_f64() / 86_400.0;
        let d6 = e.period.exhaustion_at_6h_burn.unwrap().as_secs_f64() / 86_400.0;
        assert!(close(d1, 3.75), "{d1}");
        assert!(close(d6, 10.0), "{d6}");
    }

    #[test]
    fn group_instances_are_independent_states() {
        let mut a = slo();
        let mut b = slo();
        ticks(&mut a, T0, T0 + 5 * M, 10.0, 100.0);
        ticks(&mut b, T0, T0 + 5 * M, 0.0, 300.0);
        let (ea, eb) = (a.evaluate(T0 + 5 * M), b.evaluate(T0 + 5 * M));
        assert_eq!(ratio(&ea, 5 * MIN), Some(0.1));
        assert_eq!(ratio(&eb, 5 * MIN), Some(0.0));
        assert_eq!(counts(&eb, 5 * MIN).total, 3000.0);
        b.observe(Observation::NoSeries { at: T0 + 5 * M });
        assert_eq!(a.evaluate(T0 + 5 * M).data_state, DataState::Ok);
        assert_eq!(b.evaluate(T0 + 5 * M).data_state, DataState::NoData);
    }

    #[test]
    fn serde_round_trip_evaluates_identically() {
        let mut s = slo();
        s.observe(events(T0 - 20 * D, T0 - 20 * D + H, 3.0, 3000.0));
        s.observe(events(T0 - 2 * D, T0 - 2 * D + 10 * M, 1.0, 500.0));
        ticks(&mut s, T0 - 2 * H, T0, 1.0, 250.0);
        let json = serde_json::to_string(&s).unwrap();
        let mut back: SloState = serde_json::from_str(&json).unwrap();
        assert_eq!(back.evaluate(T0 + 7 * M), s.evaluate(T0 + 7 * M));
        // The copy also keeps working the same way.
        for state in [&mut s, &mut back] {
            ticks(state, T0 + 7 * M, T0 + 3 * H, 2.0, 500.0);
        }
        assert_eq!(
            back.evaluate(T0 + 3 * H + 20 * S),
            s.evaluate(T0 + 3 * H + 20 * S)
        );
        assert_eq!(back.last_observed(), Some(T0 + 3 * H));
    }

    #[test]
    fn a_frame_and_its_rings_give_back_the_state() {
        let mut s = slo();
        ticks(&mut s, T0 - 2 * D, T0, 1.0, 100.0);
        s.exclude(Excluded::new([(T0 - H, T0 - H + M)]));
        let rings: Vec<Vec<Counts>> = s.bucket_rings().iter().map(|r| r.to_vec()).collect();
        assert_eq!(rings.len(), 3);
        assert!(s.frame().bucket_rings().iter().all(|r| r.is_empty()));
        let mut back = s.frame().with_buckets(rings.clone()).unwrap();
        assert_eq!(back.evaluate(T0 + M), s.evaluate(T0 + M));
        assert_eq!(back.excluded(), s.excluded());
        let mut short = rings.clone();
        short[1].pop();
        assert!(s.frame().with_buckets(short).is_err());
        assert!(s.frame().with_buckets(rings[..2].to_vec()).is_err());
    }

    #[test]
    fn memory_stays_under_32_kib_for_30_days_with_default_windows() {
        let s = slo();
        // 361 + 433 + 721 buckets of 16 bytes, plus bookkeeping.
        assert!(s.memory_bytes() >= 1515 * 16, "{}", s.memory_bytes());
        assert!(s.memory_bytes() <= 32 * 1024, "{}", s.memory_bytes());
    }

    #[test]
    fn windows_are_reported_ascending_whatever_the_order_given() {
        let mut s = SloState::counted(0.99, 30 * DAY, &[DAY, 5 * MIN, DAY]);
        let e = s.evaluate(T0);
        let windows: Vec<Duration> = e.windows.iter().map(|f| f.window).collect();
        assert_eq!(windows, [5 * MIN, DAY]);
    }

    #[test]
    fn direct_state_derives_burn_and_budget_from_backend_ratios() {
        let mut s = SloState::direct(0.999, 30 * DAY, &DEFAULT_WINDOWS);
        assert!(s.levels().is_empty());
        assert_eq!(s.evaluate(T0).data_state, DataState::NoData);
        let mut ratios = vec![Some(0.002); DEFAULT_WINDOWS.len()];
        ratios.push(Some(0.0005));
        s.observe_ratios(T0, &ratios);
        s.observe(events(T0 - M, T0, 1.0, 1.0)); // ignored: no buckets
        let e = s.evaluate(T0 + 10 * S);
        assert_eq!(e.at, T0 + 10 * S);
        assert_eq!(e.data_state, DataState::Ok);
        assert_eq!(counts(&e, 5 * MIN), Counts::default());
        assert_eq!(ratio(&e, 30 * DAY), Some(0.0005));
        assert!(close(e.window(60 * MIN).unwrap().burn_rate.unwrap(), 2.0));
        assert!(close(e.period.budget_remaining.unwrap(), 0.5));
        let days = e.period.exhaustion_at_1h_burn.unwrap().as_secs_f64() / 86_400.0;
        assert!(close(days, 7.5), "{days}");
        assert_eq!(e.period.covered, 30 * DAY);
        assert_eq!(s.last_observed(), Some(T0));
    }

    #[test]
    fn a_counting_state_ignores_ratios() {
        let mut s = slo();
        s.observe_ratios(T0, &[Some(0.5)]);
        assert_eq!(s.last_observed(), None);
        assert_eq!(s.evaluate(T0).data_state, DataState::NoData);
    }

    #[test]
    #[should_panic(expected = "longer than the period")]
    fn windows_longer_than_the_period_panic() {
        SloState::counted(0.999, DAY, &DEFAULT_WINDOWS);
    }

    #[test]
    fn the_past_is_read_back_from_the_buckets() {
        // Two days at 1 error per 1,000 a minute (burn 1 at 99.9%), then an hour at 20 (burn 20).
        let mut s = slo();
        for minute in 0..48 * 60 {
            s.observe(events(T0 + minute * M, T0 + (minute + 1) * M, 1.0, 1000.0));
        }
        for minute in 48 * 60..49 * 60 {
            s.observe(events(T0 + minute * M, T0 + (minute + 1) * M, 20.0, 1000.0));
        }
        let now = T0 + 49 * H;
        let past = s.past(i64::MIN);
        // Every minute of the last 6 hours the minute buckets hold whole (359), then every 10
        // minutes back to the first edge after the first observation (258); nothing hourly,
        // all of it is within 3 days.
        assert_eq!(past.len(), 359 + 258);
        assert_eq!(past[0].at, T0 + 10 * M);
        assert_eq!(past.last().unwrap().at, now);
        assert!(past.windows(2).all(|w| w[0].at < w[1].at));
        let at = |t: i64| past.iter().find(|p| p.at == t).unwrap();
        let close = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-9);
        // Windows in order: 5m, 30m, 1h, 2h, 6h, 1d, 3d, then the period (30d).
        let half_past = at(T0 + 48 * H + 30 * M);
        assert!(close(half_past.burn_rates[0], 20.0), "{half_past:?}");
        // 30 minutes at 1 and 30 at 20 per 1,000: 630 of 60,000, 0.0105, burn 10.5.
        assert!(close(half_past.burn_rates[2], 10.5), "{half_past:?}");
        // Two days back, the minute buckets are gone: no 5-minute figure; 30 minutes from the
        // 10-minute buckets.
        let early = at(T0 + H);
        assert_eq!(early.burn_rates[0], None);
        assert!(close(early.burn_rates[1], 1.0), "{early:?}");
        // The period at the end of the first day: the day held, 1,440 of 1,440,000.
        let day = at(T0 + 24 * H);
        assert!(close(day.burn_rates[7], 1.0), "{day:?}");
        // From `since` on only.
        assert_eq!(s.past(now - 30 * M).len(), 31);
        assert!(
            SloState::direct(0.999, 30 * DAY, &DEFAULT_WINDOWS)
                .past(i64::MIN)
                .is_empty()
        );
    }

    #[test]
    fn every_figure_read_back_is_the_figure_evaluated_then() {
        // Five days of minutes, the error rate changing every hour (steady within it, so the
        // part of a coarser bucket a window starts in is what the minutes said).
        let mut s = slo();
        let mut seed: u64 = 7;
        let mut then: Vec<(i64, SloState)> = Vec::new();
        let end = T0 + 5 * D;
        let mut errors = 0.0;
        let mut t = T0;
        while t < end {
            if (t - T0) % H == 0 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                errors = (seed >> 60) as f64;
            }
            s.observe(events(t, t + M, errors, 1000.0));
            t += M;
            // Hourly moments beyond 3 days, 10-minute ones beyond 6 hours, minutes within.
            let age = end - t;
            if (age > 3 * D && age < 4 * D && t % (7 * H) == 0)
                || (age > 6 * H && age < 3 * D && t % (130 * M) == 0)
                || (age < 6 * H - 10 * M && t % (37 * M) == 0)
            {
                then.push((t, s.clone()));
            }
        }
        let past = s.past(i64::MIN);
        assert!(then.len() > 30, "{}", then.len());
        for (t, mut state) in then {
            let live = state.evaluate(t);
            let point = past.iter().find(|p| p.at == t).unwrap();
            let figures = live.windows.iter().chain([&live.period.window]);
            for (read, figure) in point.burn_rates.iter().zip(figures) {
                if let Some(read) = read {
                    let want = figure.burn_rate.unwrap();
                    assert!(
                        (read - want).abs() <= 1e-9 * want.max(1.0),
                        "{:?} at {} h before the end: {read} read back, {want} then",
                        figure.window,
                        (end - t) / H
                    );
                } else {
                    // Only windows shorter than the buckets there: 5m past 6h, 30m past 3 days.
                    assert!(figure.window < 60 * MIN, "{:?} at {t}", figure.window);
                }
            }
        }
    }

    /// 1 March 2027, 00:00 in America/New_York (EST, UTC-5): 2027-03-01 is 424 days after
    /// 2026-01-01 (1,767,225,600 s), so 1,803,859,200 s at 00:00Z, plus 5 hours.
    const MARCH_2027_NY: i64 = 1_803_877_200 * S;

    fn new_york_month() -> SloState {
        let calendar =
            crate::Calendar::new(crate::CalendarUnit::Month, chrono_tz::America::New_York);
        SloState::counted(0.999, calendar, &DEFAULT_WINDOWS)
    }

    #[test]
    fn a_calendar_month_starts_afresh_at_local_midnight_on_the_1st() {
        let mut s = new_york_month();
        // The last day of February: 1% errors every minute, ten times the 0.1% budget.
        for minute in (1..=24 * 60).rev() {
            let end = MARCH_2027_NY - (minute - 1) * M;
            s.observe(events(end - M, end, 10.0, 1000.0));
            if minute == 2 {
                // One minute before midnight: February so far is 1,439 such minutes, burn 10,
                // budget 1 - 10 = -9; the period is February's 28 days.
                let e = s.evaluate(MARCH_2027_NY - M);
                assert_eq!(e.period.window.counts.total, 1_439_000.0);
                assert!(close(e.period.budget_remaining.unwrap(), -9.0));
                assert_eq!(e.period.window.window, 28 * DAY);
                assert_eq!(e.period.covered, 1439 * MIN);
            }
        }
        // The first tick of March: clean.
        s.observe(events(MARCH_2027_NY, MARCH_2027_NY + 30 * S, 0.0, 500.0));
        let e = s.evaluate(MARCH_2027_NY + 30 * S);
        assert_eq!(
            e.period.window.counts,
            Counts {
                errors: 0.0,
                total: 500.0
            }
        );
        assert_eq!(e.period.budget_remaining, Some(1.0));
        // March in New York loses an hour to the DST change on the 14th: 743 hours.
        assert_eq!(e.period.window.window, Duration::from_secs(743 * 3600));
        assert_eq!(e.period.covered, Duration::from_secs(30));
        // The rolling windows still see February's errors: 5 minutes back holds 4.5 of them.
        assert!(counts(&e, 5 * MIN).errors > 0.0);
        // A late span of February arriving now does not reach March's budget.
        s.observe(events(
            MARCH_2027_NY - 2 * M,
            MARCH_2027_NY - M,
            500.0,
            500.0,
        ));
        let e = s.evaluate(MARCH_2027_NY + 30 * S);
        assert_eq!(e.period.budget_remaining, Some(1.0));
    }

    #[test]
    fn the_running_period_sum_agrees_with_a_recount_from_the_buckets() {
        let mut live = new_york_month();
        // Ten days of March, every 30 s, an error every 7th tick; evaluated every tick, so
        // the period is a running sum; a copy restored mid-way without its sum must agree.
        let mut t = MARCH_2027_NY + 3 * D;
        let mut k = 0;
        while t < MARCH_2027_NY + 10 * D {
            let errors = if k % 7 == 0 { 1.0 } else { 0.0 };
            live.observe(events(t, t + 30 * S, errors, 100.0));
            live.evaluate(t + 30 * S);
            t += 30 * S;
            k += 1;
        }
        let mut json: serde_json::Value = serde_json::to_value(&live).unwrap();
        json["source"]["Counted"]["current"] = serde_json::Value::Null;
        let mut recount: SloState = serde_json::from_value(json).unwrap();
        let (a, b) = (live.evaluate(t), recount.evaluate(t));
        let (a, b) = (a.period.window.counts, b.period.window.counts);
        assert!((a.total - b.total).abs() < 1e-6 && (a.errors - b.errors).abs() < 1e-6);
        // 7 days of ticks (from the 4th to the 11th): 2 per minute.
        assert_eq!(a.total.round(), (7 * 24 * 60 * 2 * 100) as f64);
    }

    #[test]
    fn a_calendar_state_survives_serde() {
        let mut s = new_york_month();
        ticks(&mut s, MARCH_2027_NY - H, MARCH_2027_NY + H, 1.0, 100.0);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("America/New_York"), "{json}");
        let mut back: SloState = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.evaluate(MARCH_2027_NY + H),
            s.evaluate(MARCH_2027_NY + H)
        );
    }

    #[test]
    #[should_panic(expected = "calendar periods need counted events")]
    fn a_direct_state_refuses_calendar_periods() {
        let calendar = crate::Calendar::new(crate::CalendarUnit::Week, chrono_tz::UTC);
        SloState::direct(0.999, calendar, &DEFAULT_WINDOWS);
    }
}
