//! The trail of one SLO instance: a bounded record of its recent evaluations (burn rate per
//! window, hence budget remaining) and alert episodes, for charts and the history API.
//!
//! The engine's buckets answer "what is the figure now"; they cannot answer "what was the 30-day
//! budget remaining a week ago" (that needs the events of the 30 days before then). So the board
//! keeps, per instance, what each evaluation said, thinned to a bounded number of points:
//!
//! - a recent ring over the last day, at most [`RING_POINTS`] points (one per ~3 minutes once a
//!   day has passed), so short windows' bursts stay visible;
//! - a period ring over the whole period, at most [`RING_POINTS`] points (one per ~2.3 hours at
//!   30 days), for the budget's course over the period;
//! - the newest evaluation, so a chart always ends at "now".
//!
//! A new trail is seeded with what the buckets can still say of the past
//! ([`crate::SloState::past`]: burn rates on the hour, every 10 minutes over the last 3 days), so
//! the charts cover the backfilled period from the first minute after a start or restart.
//!
//! Each ring starts at one point per second and, when full, drops every other point and halves
//! its rate: a young daemon shows its first minutes in detail, an old one shows the whole span.
//! Values are `f32` (charts need no more) with NaN for "no evidence".
//! A full trail of an instance with the default windows takes about 40 KiB (see `heap_bytes`).

use std::collections::VecDeque;
use std::time::Duration;

use crate::millis::to_millis;
use crate::{AlertKind, Alerts, Evaluation, Millis};

/// Points per ring at most.
pub const RING_POINTS: usize = 512;

/// Episodes kept per instance at most (the oldest are dropped first).
pub const MAX_EPISODES: usize = 64;

const DAY: Duration = Duration::from_secs(86_400);
const FIRST_RESOLUTION_MS: Millis = 1_000;

/// One remembered evaluation.
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

/// Points at a spacing of at least `resolution`, no older than `span` before the newest.
#[derive(Debug, Clone)]
struct Ring {
    span: Millis,
    resolution: Millis,
    times: VecDeque<Millis>,
    /// `stride` values per point.
    values: VecDeque<f32>,
}

impl Ring {
    fn new(span: Duration) -> Ring {
        Ring {
            span: to_millis(span),
            resolution: FIRST_RESOLUTION_MS,
            times: VecDeque::with_capacity(RING_POINTS),
            values: VecDeque::new(),
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
            self.times.pop_front();
            self.values.drain(..stride);
        }
        if self.times.len() == RING_POINTS {
            self.thin(stride);
        }
        self.times.push_back(at);
        self.values.extend(values.iter().copied());
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

/// The bounded history of one instance. See the module docs.
#[derive(Debug, Clone)]
pub struct Trail {
    windows: Vec<Duration>,
    recent: Ring,
    period: Ring,
    newest: Option<TrailPoint>,
    episodes: VecDeque<Episode>,
}

impl Trail {
    /// An empty trail for the windows of `eval` (its configured windows, then the period).
    pub fn new(eval: &Evaluation) -> Trail {
        let windows = windows_of(eval);
        let period = *windows.last().unwrap_or(&DAY);
        Trail {
            recent: Ring::new(DAY.min(period)),
            period: Ring::new(period),
            windows,
            newest: None,
            episodes: VecDeque::new(),
        }
    }

    /// Puts `past` (oldest first, read from the buckets) before the points this trail holds, if
    /// it holds no more than its first evaluation: a new trail gets the history the buckets
    /// hold, an older one keeps what it recorded. Points with another window count are skipped.
    pub fn seed(&mut self, past: &[TrailPoint]) {
        let held = self.points(Millis::MIN);
        if held.len() > 1 || past.is_empty() {
            return;
        }
        let stride = self.windows.len();
        let first_held = held.first().map_or(Millis::MAX, |p| p.at);
        self.recent = Ring::new(crate::millis::to_duration(self.recent.span));
        self.period = Ring::new(crate::millis::to_duration(self.period.span));
        for point in past
            .iter()
            .filter(|p| p.at < first_held && p.burn_rates.len() == stride)
            .chain(held.iter())
        {
            let values: Vec<f32> = point.burn_rates.iter().copied().map(encode).collect();
            self.recent.record(point.at, &values);
            self.period.record(point.at, &values);
        }
    }

    /// The windows of every point: the configured ones ascending, then the period.
    pub fn windows(&self) -> &[Duration] {
        &self.windows
    }

    /// Takes in one evaluation and the alert states after it. An evaluation with a different
    /// window set (the SLO was redefined) starts the trail afresh; one older than the newest
    /// point is ignored.
    pub fn record(&mut self, eval: &Evaluation, alerts: &Alerts) {
        if windows_of(eval) != self.windows {
            *self = Trail::new(eval);
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
        self.period.record(eval.at, &values);
        self.newest = Some(TrailPoint {
            at: eval.at,
            burn_rates,
        });
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
        let span = self.period.span;
        while self.episodes.len() > MAX_EPISODES
            || self
                .episodes
                .front()
                .and_then(|e| e.resolved_at)
                .is_some_and(|end| end < at.saturating_sub(span))
        {
            self.episodes.pop_front();
        }
    }

    /// Points at or after `since`, oldest first: the period ring's points older than the recent
    /// ring's first, the recent ring's, then the newest evaluation.
    pub fn points(&self, since: Millis) -> Vec<TrailPoint> {
        let stride = self.windows.len();
        let recent_from = self.recent.times.front().copied().unwrap_or(Millis::MAX);
        let mut out: Vec<TrailPoint> = (0..self.period.times.len())
            .filter(|&i| {
                let t = self.period.times[i];
                t >= since && t < recent_from
            })
            .map(|i| self.period.point(i, stride))
            .collect();
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

    /// Heap memory held, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.recent.heap_bytes()
            + self.period.heap_bytes()
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
    use crate::{AlertPolicy, Counts, DEFAULT_WINDOWS, Observation, SloState};

    const S: Millis = 1_000;
    const M: Millis = 60 * S;
    const T0: Millis = 19_700 * 86_400_000;
    const PERIOD: Duration = Duration::from_secs(30 * 86_400);

    /// An instance under the workbook policy, fed steady traffic and recorded in a trail.
    struct Run {
        state: SloState,
        policy: AlertPolicy,
        alerts: Alerts,
        trail: Option<Trail>,
    }

    impl Run {
        fn new() -> Run {
            Run {
                state: SloState::counted(0.999, PERIOD, &DEFAULT_WINDOWS),
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
                self.state.observe(Observation::Events {
                    start: t - every,
                    end: t,
                    counts: Counts {
                        errors: errors * share,
                        total: 1000.0 * share,
                    },
                });
                let eval = self.state.evaluate(t);
                self.alerts.eval(&self.policy, &eval);
                self.trail
                    .get_or_insert_with(|| Trail::new(&eval))
                    .record(&eval, &self.alerts);
                t += every;
            }
        }

        fn trail(self) -> Trail {
            self.trail.unwrap()
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
    fn a_full_period_is_bounded_and_spans_the_period_with_a_detailed_last_day() {
        let mut run = Run::new();
        // 35 days of 30-second ticks: the first five fall out of the period.
        let end = T0 + 35 * 1440 * M;
        run.feed(T0, end, 30 * S, 0.5);
        let trail = run.trail();
        let points = trail.points(Millis::MIN);
        assert!(points.len() <= 2 * RING_POINTS + 1, "{}", points.len());
        let first = points.first().unwrap().at;
        let span = end - first;
        // The period ring drops old points when it records, every couple of hours by now.
        let slack = 3 * 60 * M;
        assert!(
            span <= to_millis(PERIOD) + slack && span > to_millis(PERIOD) - slack,
            "first point {} h before the end",
            span / (60 * M)
        );
        let last_day = points.iter().filter(|p| p.at > end - 1440 * M).count();
        assert!(
            last_day >= RING_POINTS / 2,
            "{last_day} points in the last day"
        );
        assert!(points.windows(2).all(|w| w[0].at < w[1].at));
        // Measured: what docs/api.md quotes per instance.
        let bytes = trail.heap_bytes();
        assert!(bytes < 48 * 1024, "{bytes} bytes");
        eprintln!("trail heap bytes, 30-day period, default windows: {bytes}");
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
        let mut trail = run.trail();
        let mut state = SloState::counted(0.999, PERIOD, &DEFAULT_WINDOWS[..2]);
        let old = state.evaluate(T0 + 5 * S);
        trail.record(&old, &alerts);
        assert_eq!(trail.windows().len(), 3);
        assert_eq!(trail.points(Millis::MIN).len(), 1);
        let older = state.evaluate(T0);
        trail.record(&older, &alerts);
        assert_eq!(trail.points(Millis::MIN).len(), 1);
    }

    #[test]
    fn a_new_trail_is_seeded_with_the_past_the_buckets_hold_and_an_old_one_is_not() {
        // Four days of backfill at 0.5 errors per 1,000 a minute (burn 0.5), then the first
        // evaluation: the trail starts with what the buckets say of those four days.
        let mut state = SloState::counted(0.999, PERIOD, &DEFAULT_WINDOWS);
        state.observe(Observation::Events {
            start: T0,
            end: T0 + 4 * 1_440 * M,
            counts: Counts {
                errors: 0.5 * 4.0 * 1_440.0,
                total: 1000.0 * 4.0 * 1_440.0,
            },
        });
        let now = T0 + 4 * 1_440 * M;
        let eval = state.evaluate(now);
        let mut trail = Trail::new(&eval);
        trail.record(&eval, &Alerts::new());
        trail.seed(&state.past(now));
        let points = trail.points(Millis::MIN);
        // The first whole hour is the oldest point, the evaluation the newest.
        assert_eq!(points.first().unwrap().at, T0 + 60 * M);
        assert_eq!(points.last().unwrap().at, now);
        assert!(points.len() > 300, "{}", points.len());
        // 1d at the end of the first day: burn 0.5.
        let day = points.iter().find(|p| p.at == T0 + 1_440 * M).unwrap();
        assert!((day.burn_rates[5].unwrap() - 0.5).abs() < 1e-4, "{day:?}");

        // A trail with its own history keeps it.
        let mut run = Run::new();
        run.feed(T0, T0 + 30 * S, S, 0.5);
        let mut old = run.trail();
        old.seed(&state.past(now));
        assert_eq!(old.points(Millis::MIN).len(), 31);
    }
}
