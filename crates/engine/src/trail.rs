//! The trail of one SLO instance: what the status page and the history API show of its past
//! (burn rate per window, hence budget remaining, and alert episodes), kept on the board.
//!
//! A counting instance's buckets are its history: the trail holds a read-only handle on the
//! instance's state ([`StateView`]) and reads past figures from the buckets when asked
//! ([`crate::SloState::past`]: every minute over the last 6 hours, every 10 minutes over 3 days,
//! every hour over the period), so nothing is recorded per evaluation and kept twice. Beside
//! the handle it keeps only what the buckets cannot say, bounded:
//!
//! - the newest [`RECENT_POINTS`] evaluations (at least a second apart), so the charts end at
//!   "now" with the ticks of the still-filling minute, and a young daemon shows its first
//!   ticks before it has whole buckets;
//! - the alert episodes, at most [`MAX_EPISODES`].
//!
//! An instance without buckets (a backend computes its ratios: raw SLIs, composites) has no
//! history but what it records: a ring over the last day and one over the period, at most
//! [`RING_POINTS`] points each. Each starts at one point per second and, when full, drops every
//! other point and halves its rate. Recorded values are `f32` (charts need no more) with NaN for
//! "no evidence".
//!
//! A trail of a counting instance with the default windows takes at most 3,872 bytes beside
//! its state; one without buckets 21,024 bytes (see `heap_bytes` and the tests).

use std::collections::VecDeque;
use std::time::Duration;

use crate::millis::to_millis;
use crate::{AlertKind, Alerts, Evaluation, Millis, StateView};

/// Points per ring of an instance without buckets, at most.
pub const RING_POINTS: usize = 256;

/// The newest evaluations a counting instance's trail keeps beside its buckets.
pub const RECENT_POINTS: usize = 32;

/// Episodes kept per instance at most (the oldest are dropped first).
pub const MAX_EPISODES: usize = 64;

const DAY: Duration = Duration::from_secs(86_400);
const FIRST_RESOLUTION_MS: Millis = 1_000;

/// One point of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailPoint {
    /// When it was evaluated.
    pub at: Millis,
    /// Burn rate per window, in [`Trail::windows`] order (the period last); `None` without
    /// evidence.
    pub burn_rates: Vec<Option<f64>>,
}

impl TrailPoint {
    /// Budget remaining over the period: 1 - the period's burn rate.
    pub fn budget_remaining(&self) -> Option<f64> {
        self.burn_rates.last().copied().flatten().map(|b| 1.0 - b)
    }
}

/// One firing episode of an alert, as the alert states showed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    /// Which alert.
    pub kind: AlertKind,
    /// When it fired.
    pub fired_at: Millis,
    /// When it resolved; `None` while it fires.
    pub resolved_at: Option<Millis>,
}

/// Points at a spacing of at least `resolution`, no older than `span` before the newest, at
/// most `capacity`: when full, a thinning ring drops every other point and halves its rate, a
/// plain one drops its oldest.
#[derive(Debug, Clone)]
struct Ring {
    span: Millis,
    resolution: Millis,
    capacity: usize,
    thins: bool,
    times: VecDeque<Millis>,
    /// `stride` values per point.
    values: VecDeque<f32>,
}

impl Ring {
    fn new(span: Duration, capacity: usize, thins: bool, stride: usize) -> Ring {
        // A plain ring fills within its first ticks; a thinning one grows as it fills (an
        // instance that lives a minute needs no room for a month).
        let room = if thins { 0 } else { capacity };
        Ring {
            span: to_millis(span),
            resolution: FIRST_RESOLUTION_MS,
            capacity,
            thins,
            times: VecDeque::with_capacity(room),
            values: VecDeque::with_capacity(room * stride),
        }
    }

    fn record(&mut self, at: Millis, values: &[f32]) {
        let stride = values.len();
        // Ticks jitter by a few milliseconds: one that comes a little early still counts.
        if let Some(&last) = self.times.back()
            && at.saturating_sub(last) < self.resolution - self.resolution / 8
        {
            return;
        }
        while self
            .times
            .front()
            .is_some_and(|&t| t < at.saturating_sub(self.span))
        {
            self.pop_front(stride);
        }
        if self.times.len() >= self.capacity {
            if self.thins {
                self.thin(stride);
            } else {
                self.pop_front(stride);
            }
        }
        self.times.push_back(at);
        self.values.extend(values.iter().copied());
    }

    fn pop_front(&mut self, stride: usize) {
        self.times.pop_front();
        self.values.drain(..stride.min(self.values.len()));
    }

    /// Keeps every other point, newest included, and halves the rate from now on.
    fn thin(&mut self, stride: usize) {
        let n = self.times.len();
        let keep = |i: usize| (n - 1 - i).is_multiple_of(2);
        let times: VecDeque<Millis> = (0..n).filter(|&i| keep(i)).map(|i| self.times[i]).collect();
        let values: VecDeque<f32> = (0..n)
            .filter(|&i| keep(i))
            .flat_map(|i| (0..stride).map(move |j| i * stride + j))
            .map(|k| self.values[k])
            .collect();
        self.times = times;
        self.values = values;
        self.resolution = self.resolution.saturating_mul(2);
    }

    fn point(&self, i: usize, stride: usize) -> TrailPoint {
        TrailPoint {
            at: self.times[i],
            burn_rates: (0..stride)
                .map(|j| decode(self.values[i * stride + j]))
                .collect(),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.times.capacity() * size_of::<Millis>() + self.values.capacity() * size_of::<f32>()
    }
}

fn encode(value: Option<f64>) -> f32 {
    value.map_or(f32::NAN, |v| v as f32)
}

fn decode(value: f32) -> Option<f64> {
    (!value.is_nan()).then_some(f64::from(value))
}

/// The history of one instance. See the module docs.
#[derive(Debug, Clone)]
pub struct Trail {
    windows: Vec<Duration>,
    /// A counting instance's state: its buckets answer for the past.
    buckets: Option<StateView>,
    /// With buckets, the newest evaluations; without, the last day, thinned.
    recent: Ring,
    /// Without buckets only: the period, thinned.
    period: Option<Ring>,
    newest: Option<TrailPoint>,
    episodes: VecDeque<Episode>,
}

impl Trail {
    /// An empty trail for the windows of `eval` (its configured windows, then the period),
    /// reading the past from `buckets` when given.
    pub fn new(eval: &Evaluation, buckets: Option<StateView>) -> Trail {
        let windows = windows_of(eval);
        let period = *windows.last().unwrap_or(&DAY);
        let stride = windows.len();
        let (recent, rings) = match &buckets {
            Some(_) => (Ring::new(period, RECENT_POINTS, false, stride), None),
            None => (
                Ring::new(DAY.min(period), RING_POINTS, true, stride),
                Some(Ring::new(period, RING_POINTS, true, stride)),
            ),
        };
        Trail {
            windows,
            buckets,
            recent,
            period: rings,
            newest: None,
            episodes: VecDeque::new(),
        }
    }

    /// The resolutions the past is read at, `(resolution, span)` finest first, when it comes
    /// from the instance's buckets; empty when it comes from recorded evaluations.
    pub fn resolutions(&self) -> Vec<(Duration, Duration)> {
        self.buckets
            .as_ref()
            .map_or_else(Vec::new, |b| b.read(crate::SloState::levels))
    }

    /// The windows of every point: the configured ones ascending, then the period.
    pub fn windows(&self) -> &[Duration] {
        &self.windows
    }

    /// Takes in one evaluation, the alert states after it and the instance's buckets (None
    /// when it has none). An evaluation with a different window set (the SLO was redefined)
    /// starts the trail afresh; one older than the newest point is ignored. New buckets of the
    /// same kind (a state restored or carried over a reload) replace the old ones; buckets that
    /// come or go start the points afresh and keep the episodes.
    pub fn record(&mut self, eval: &Evaluation, alerts: &Alerts, buckets: Option<&StateView>) {
        if windows_of(eval) != self.windows {
            *self = Trail::new(eval, buckets.cloned());
        }
        match (&self.buckets, buckets) {
            (Some(held), Some(given)) if held.same(given) => {}
            (None, None) => {}
            (Some(_), Some(given)) => self.buckets = Some(given.clone()),
            (_, given) => {
                let episodes = std::mem::take(&mut self.episodes);
                *self = Trail::new(eval, given.cloned());
                self.episodes = episodes;
            }
        }
        if self.newest.as_ref().is_some_and(|p| eval.at < p.at) {
            return;
        }
        let burn_rates: Vec<Option<f64>> = eval
            .windows
            .iter()
            .chain(std::iter::once(&eval.period.window))
            .map(|w| w.burn_rate)
            .collect();
        let values: Vec<f32> = burn_rates.iter().copied().map(encode).collect();
        self.recent.record(eval.at, &values);
        if let Some(period) = &mut self.period {
            period.record(eval.at, &values);
        }
        match &mut self.newest {
            Some(newest) if newest.burn_rates.len() == burn_rates.len() => {
                newest.at = eval.at;
                newest.burn_rates.copy_from_slice(&burn_rates);
            }
            newest => {
                *newest = Some(TrailPoint {
                    at: eval.at,
                    burn_rates,
                })
            }
        }
        self.record_episodes(eval.at, alerts);
    }

    fn record_episodes(&mut self, at: Millis, alerts: &Alerts) {
        for alert in alerts.all() {
            let open = self
                .episodes
                .iter_mut()
                .rev()
                .find(|e| e.kind == alert.kind && e.resolved_at.is_none());
            match (alert.fired_at, open) {
                (Some(fired_at), Some(open)) if open.fired_at == fired_at => {}
                (Some(fired_at), open) => {
                    // A new episode; one still open here ended between two evaluations.
                    if let Some(open) = open {
                        open.resolved_at = Some(alert.resolved_at.unwrap_or(fired_at));
                    }
                    // Room first, so the deque never grows past the bound.
                    if self.episodes.len() >= MAX_EPISODES {
                        self.episodes.pop_front();
                    }
                    self.episodes.push_back(Episode {
                        kind: alert.kind,
                        fired_at,
                        resolved_at: None,
                    });
                }
                (None, Some(open)) => open.resolved_at = Some(alert.resolved_at.unwrap_or(at)),
                (None, None) => {}
            }
        }
        let span = to_millis(*self.windows.last().unwrap_or(&DAY));
        while self
            .episodes
            .front()
            .and_then(|e| e.resolved_at)
            .is_some_and(|end| end < at.saturating_sub(span))
        {
            self.episodes.pop_front();
        }
    }

    /// Points at or after `since`, oldest first: what the buckets say of the time before the
    /// first point recorded (with buckets), or the period ring's points older than the recent
    /// ring's first (without); then the recorded points, then the newest evaluation.
    pub fn points(&self, since: Millis) -> Vec<TrailPoint> {
        let stride = self.windows.len();
        let recorded = self.recorded(since);
        let Some(buckets) = &self.buckets else {
            return recorded;
        };
        let until = recorded.first().map_or(Millis::MAX, |p| p.at);
        let mut out: Vec<TrailPoint> = buckets
            .read(|state| state.past(since))
            .into_iter()
            .filter(|p| p.at < until && p.burn_rates.len() == stride)
            .collect();
        out.extend(recorded);
        out
    }

    fn recorded(&self, since: Millis) -> Vec<TrailPoint> {
        let stride = self.windows.len();
        let recent_from = self.recent.times.front().copied().unwrap_or(Millis::MAX);
        let mut out: Vec<TrailPoint> = match &self.period {
            Some(period) => (0..period.times.len())
                .filter(|&i| {
                    let t = period.times[i];
                    t >= since && t < recent_from
                })
                .map(|i| period.point(i, stride))
                .collect(),
            None => Vec::new(),
        };
        out.extend(
            (0..self.recent.times.len())
                .filter(|&i| self.recent.times[i] >= since)
                .map(|i| self.recent.point(i, stride)),
        );
        if let Some(newest) = &self.newest
            && newest.at >= since
            && out.last().is_none_or(|p| p.at < newest.at)
        {
            out.push(newest.clone());
        }
        out
    }

    /// Episodes in the order they fired, oldest first.
    pub fn episodes(&self) -> impl Iterator<Item = &Episode> {
        self.episodes.iter()
    }

    /// Heap memory held, in bytes (the state behind the buckets' handle is the instance's own,
    /// counted by [`crate::SloState::memory_bytes`]).
    pub fn heap_bytes(&self) -> usize {
        self.recent.heap_bytes()
            + self.period.as_ref().map_or(0, Ring::heap_bytes)
            + self.windows.capacity() * size_of::<Duration>()
            + self.episodes.capacity() * size_of::<Episode>()
            + self
                .newest
                .as_ref()
                .map_or(0, |p| p.burn_rates.capacity() * size_of::<Option<f64>>())
    }
}

fn windows_of(eval: &Evaluation) -> Vec<Duration> {
    eval.windows
        .iter()
        .map(|w| w.window)
        .chain(std::iter::once(eval.period.window.window))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertPolicy, Counts, DEFAULT_WINDOWS, Observation, SharedState, SloState};

    const S: Millis = 1_000;
    const M: Millis = 60 * S;
    const H: Millis = 60 * M;
    const T0: Millis = 19_700 * 86_400_000;
    const PERIOD: Duration = Duration::from_secs(30 * 86_400);

    /// An instance under the workbook policy, fed steady traffic and recorded in a trail, as
    /// the runner and the board do.
    struct Run {
        state: SharedState,
        policy: AlertPolicy,
        alerts: Alerts,
        trail: Option<Trail>,
    }

    impl Run {
        fn new() -> Run {
            Run::of(SloState::counted(0.999, PERIOD, &DEFAULT_WINDOWS))
        }

        fn of(state: SloState) -> Run {
            Run {
                state: SharedState::new(state),
                policy: AlertPolicy::sre_workbook(PERIOD),
                alerts: Alerts::new(),
                trail: None,
            }
        }

        /// `errors` per minute out of 1000, evaluated every `every` over `[from, to]`.
        fn feed(&mut self, from: Millis, to: Millis, every: Millis, errors: f64) {
            let mut t = from;
            while t <= to {
                let share = every as f64 / M as f64;
                let eval = {
                    let mut state = self.state.lock();
                    state.observe(Observation::Events {
                        start: t - every,
                        end: t,
                        counts: Counts {
                            errors: errors * share,
                            total: 1000.0 * share,
                        },
                    });
                    state.evaluate(t)
                };
                self.alerts.eval(&self.policy, &eval);
                let buckets = self.state.buckets();
                self.trail
                    .get_or_insert_with(|| Trail::new(&eval, buckets.clone()))
                    .record(&eval, &self.alerts, buckets.as_ref());
                t += every;
            }
        }

        fn trail(&self) -> &Trail {
            self.trail.as_ref().unwrap()
        }
    }

    #[test]
    fn a_young_trail_keeps_every_second_and_ends_at_the_newest() {
        let mut run = Run::new();
        run.feed(T0, T0 + 30 * S, S, 0.5);
        let trail = run.trail();
        let points = trail.points(Millis::MIN);
        assert_eq!(points.len(), 31);
        assert_eq!(points.last().unwrap().at, T0 + 30 * S);
        assert_eq!(trail.windows().len(), 8);
        // 0.05% errors at 99.9%: burn 0.5 on every window, half the budget left.
        let p = &points[10];
        assert!((p.burn_rates[0].unwrap() - 0.5).abs() < 1e-4, "{p:?}");
        assert!((p.budget_remaining().unwrap() - 0.5).abs() < 1e-4, "{p:?}");
        assert_eq!(trail.points(T0 + 25 * S).len(), 6);
    }

    #[test]
    fn the_buckets_answer_for_the_time_before_the_newest_evaluations() {
        let mut run = Run::new();
        run.feed(T0, T0 + 2 * H, 30 * S, 0.5);
        let points = run.trail().points(Millis::MIN);
        // A point per minute from the first minute edge after the first events (T0), then the
        // newest 32 evaluations, 30 s apart (the last 15.5 minutes), the newest last.
        let recorded_from = T0 + 2 * H - 31 * 30 * S;
        let minutes = points.iter().filter(|p| p.at < recorded_from).count();
        assert_eq!(minutes as i64, (recorded_from - T0 - 1) / M + 1);
        assert_eq!(points.len(), minutes + RECENT_POINTS);
        assert_eq!(points[0].at, T0);
        assert!(points.windows(2).all(|w| w[0].at < w[1].at));
        assert_eq!(points.last().unwrap().at, T0 + 2 * H);
        for p in &points[5..] {
            assert!((p.burn_rates[0].unwrap() - 0.5).abs() < 1e-4, "{p:?}");
        }
    }

    #[test]
    fn a_full_period_is_bounded_and_spans_the_period_with_a_detailed_last_day() {
        let mut run = Run::new();
        // 35 days of minute ticks (the first five fall out of the period), with a 20-minute
        // burst of 20% errors every 12 hours: the page fires and resolves 70 times, more
        // episodes than are kept.
        let end = T0 + 35 * 24 * H;
        let mut t = T0;
        while t < end {
            run.feed(t, t + 12 * H - 21 * M, M, 0.5);
            run.feed(t + 12 * H - 20 * M, t + 12 * H - M, M, 200.0);
            t += 12 * H;
        }
        run.feed(end, end, M, 0.5);
        let trail = run.trail();
        let points = trail.points(Millis::MIN);
        // 359 minutes, 396 ten-minute points, 648 hours, then the newest 32 evaluations.
        assert!(points.len() <= 1_450, "{}", points.len());
        let first = points.first().unwrap().at;
        let span = end - first;
        assert!(
            span <= to_millis(PERIOD) && span > to_millis(PERIOD) - 3 * H,
            "first point {} h before the end",
            span / H
        );
        let last_day = points.iter().filter(|p| p.at > end - 24 * H).count();
        assert!(last_day >= 359 + 107, "{last_day} points in the last day");
        assert!(points.windows(2).all(|w| w[0].at < w[1].at));
        assert_eq!(trail.episodes().count(), MAX_EPISODES);
        // The byte bound of what the board keeps per instance beside its state (docs/api.md,
        // docs/scaling.md): episodes full, recent evaluations full.
        let bytes = trail.heap_bytes() + size_of::<Trail>();
        assert!(bytes <= 4 * 1024, "{bytes} bytes");
        eprintln!("trail bytes, 30-day period, default windows, episodes full: {bytes}");
    }

    #[test]
    fn without_buckets_the_rings_are_bounded_and_span_the_period() {
        let mut run = Run::of(SloState::direct(0.999, PERIOD, &DEFAULT_WINDOWS));
        let end = T0 + 35 * 24 * H;
        let mut t = T0;
        while t < end {
            let eval = {
                let mut state = run.state.lock();
                let mut ratios = vec![Some(0.0005); DEFAULT_WINDOWS.len() + 1];
                ratios[0] = Some(0.001);
                state.observe_ratios(t, &ratios);
                state.evaluate(t)
            };
            assert!(run.state.buckets().is_none());
            run.trail
                .get_or_insert_with(|| Trail::new(&eval, None))
                .record(&eval, &run.alerts, None);
            t += 30 * S;
        }
        let trail = run.trail();
        let points = trail.points(Millis::MIN);
        assert!(points.len() <= 2 * RING_POINTS + 1, "{}", points.len());
        let span = t - 30 * S - points[0].at;
        assert!(span > to_millis(PERIOD) - 6 * H, "{} h", span / H);
        assert!((points[3].burn_rates[0].unwrap() - 1.0).abs() < 1e-6);
        let bytes = trail.heap_bytes() + size_of::<Trail>();
        assert!(bytes <= 24 * 1024, "{bytes} bytes");
        eprintln!("trail bytes without buckets, 30-day period, default windows: {bytes}");
    }

    #[test]
    fn episodes_follow_the_alert_states() {
        let mut run = Run::new();
        run.feed(T0, T0 + 60 * M, M, 0.5);
        // 20% errors for 20 minutes: the page fires on the 30m/6h pair in the second minute
        // (the 6h window holds just 62 minutes, 2 of them at burn 200: 6.45 > 6) ...
        run.feed(T0 + 61 * M, T0 + 80 * M, M, 200.0);
        // ... and resolves when no pair holds: the 30m/6h pair, once its 30-minute window
        // no longer reaches into the errors (minute 80 is (79m, 80m]).
        run.feed(T0 + 81 * M, T0 + 120 * M, M, 0.0);
        let trail = run.trail();
        let pages: Vec<&Episode> = trail
            .episodes()
            .filter(|e| e.kind == AlertKind::Page)
            .collect();
        assert_eq!(pages.len(), 1, "{pages:?}");
        assert_eq!(pages[0].fired_at, T0 + 62 * M);
        assert_eq!(pages[0].resolved_at, Some(T0 + 110 * M));
    }

    #[test]
    fn a_changed_window_set_starts_afresh_and_time_never_runs_back() {
        let mut run = Run::new();
        run.feed(T0, T0 + 10 * S, S, 0.5);
        let alerts = run.alerts.clone();
        let mut trail = run.trail.take().unwrap();
        let state = SharedState::new(SloState::counted(0.999, PERIOD, &DEFAULT_WINDOWS[..2]));
        let old = state.lock().evaluate(T0 + 5 * S);
        trail.record(&old, &alerts, state.buckets().as_ref());
        assert_eq!(trail.windows().len(), 3);
        assert_eq!(trail.points(Millis::MIN).len(), 1);
        let older = state.lock().evaluate(T0);
        trail.record(&older, &alerts, state.buckets().as_ref());
        assert_eq!(trail.points(Millis::MIN).len(), 1);
    }

    #[test]
    fn a_new_instance_shows_the_backfilled_past_from_its_first_evaluation() {
        // Four days of backfill at 0.5 errors per 1,000 a minute (burn 0.5), then the first
        // evaluation: the trail starts with what the buckets say of those four days.
        let state = SharedState::new(SloState::counted(0.999, PERIOD, &DEFAULT_WINDOWS));
        let now = T0 + 4 * 24 * H;
        let eval = {
            let mut state = state.lock();
            state.observe(Observation::Events {
                start: T0,
                end: now,
                counts: Counts {
                    errors: 0.5 * 4.0 * 1_440.0,
                    total: 1000.0 * 4.0 * 1_440.0,
                },
            });
            state.evaluate(now)
        };
        let mut trail = Trail::new(&eval, state.buckets());
        trail.record(&eval, &Alerts::new(), state.buckets().as_ref());
        let points = trail.points(Millis::MIN);
        // The first whole hour is the oldest point, the evaluation the newest.
        assert_eq!(points.first().unwrap().at, T0 + H);
        assert_eq!(points.last().unwrap().at, now);
        assert!(points.len() > 300, "{}", points.len());
        // 1d at the end of the first day: burn 0.5.
        let day = points.iter().find(|p| p.at == T0 + 24 * H).unwrap();
        assert!((day.burn_rates[5].unwrap() - 0.5).abs() < 1e-9, "{day:?}");
        // The same instance restored into a new state: the trail follows the new buckets and
        // keeps its episodes.
        let restored = SharedState::new(state.lock().clone());
        drop(state);
        trail.record(&eval, &Alerts::new(), restored.buckets().as_ref());
        assert_eq!(trail.points(Millis::MIN).len(), points.len());
    }
}
