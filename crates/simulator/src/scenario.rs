//! Scenarios: phases of constant rates over absolute time.

/// A route of the simulated service and its share of the traffic.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The `route` label.
    pub name: String,
    /// Share of all requests (shares are normalised).
    pub share: f64,
    /// Multiplier of the phase's error and slow ratios on this route.
    pub error_factor: f64,
}

/// Constant behaviour from `start` (unix seconds) until the next phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Unix seconds at which the phase begins.
    pub start: f64,
    /// Requests per second over all routes.
    pub requests_per_second: f64,
    /// Share of requests answered with a 5xx.
    pub error_ratio: f64,
    /// Share of requests slower than 0.3 s.
    pub slow_ratio: f64,
    /// False while the target is not scraped (a scrape gap): counters still count.
    pub scraped: bool,
    /// The process restarts at the start of this phase: every counter resets to 0.
    pub reset: bool,
}

impl Phase {
    /// A scraped, non-resetting phase.
    pub fn steady(start: f64, requests_per_second: f64, error_ratio: f64, slow_ratio: f64) -> Self {
        Self {
            start,
            requests_per_second,
            error_ratio,
            slow_ratio,
            scraped: true,
            reset: false,
        }
    }
}

/// A script of phases (ascending by start) for a set of routes.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The routes.
    pub routes: Vec<Route>,
    /// The phases; nothing happens before the first one.
    pub phases: Vec<Phase>,
}

/// Per-route counter values at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RouteCounts {
    /// All requests.
    pub requests: f64,
    /// 5xx responses.
    pub errors: f64,
    /// Requests slower than 0.3 s.
    pub slow: f64,
    /// Requests slower than 1 s (a fixed fifth of the slow ones).
    pub very_slow: f64,
    /// Requests slower than 0.1 s (the slow ones plus a tenth of the fast ones).
    pub over_100ms: f64,
}

impl Scenario {
    /// The two-route checkout service used by the demo and tests.
    pub fn checkout(phases: Vec<Phase>) -> Self {
        Self {
            routes: vec![
                Route {
                    name: "/pay".into(),
                    share: 0.4,
                    error_factor: 1.5,
                },
                Route {
                    name: "/cart".into(),
                    share: 0.6,
                    error_factor: 2.0 / 3.0,
                },
            ],
            phases,
        }
    }

    /// The demo (`scripts/demo`), written to page, resolve and then open a ticket within ten
    /// minutes of `live` under the default 30-day policy of a 99.9% objective (docs/demo.md has
    /// the math):
    ///
    /// - history from `origin` (the demo's is six days before `live`): 50 requests/s burning at
    ///   0.3x, except a slow burn at 1.6x from 32 h to 8 h before `live` (yesterday's bad day,
    ///   which leaves the 3-day window at 0.73x: no ticket yet);
    /// - live, every [`Scenario::DEMO_CYCLE_SECONDS`] from [`Scenario::DEMO_OUTAGE_OFFSET_SECONDS`]
    ///   after `live`: an outage of 2.5 minutes at 60% errors with a latency regression (the
    ///   1-hour window passes 14.4x after about 1.4 minutes: a page; the 3-day window passes 1x
    ///   after about 1.9 minutes: a ticket, held back while the page fires), then 15 minutes of
    ///   a slow burn at 4x (the 5-minute window falls under 14.4x about 4.9 minutes after the
    ///   outage: the page resolves and the ticket goes out).
    pub fn demo(origin: f64, live: f64) -> Self {
        let phase =
            |start, error_ratio, slow_ratio| Phase::steady(start, 50.0, error_ratio, slow_ratio);
        let base = |start| phase(start, 0.0003, 0.004);
        let mut phases = vec![base(origin)];
        let (bad_day, bad_day_end) = (live - 32.0 * 3600.0, live - 8.0 * 3600.0);
        if origin < bad_day {
            phases.push(phase(bad_day, 0.0016, 0.004));
            phases.push(base(bad_day_end));
        }
        for cycle in 0..(7 * 48) {
            let start = live
                + Self::DEMO_OUTAGE_OFFSET_SECONDS
                + f64::from(cycle) * Self::DEMO_CYCLE_SECONDS;
            phases.push(phase(start, 0.6, 0.08));
            phases.push(phase(start + Self::DEMO_OUTAGE_SECONDS, 0.004, 0.004));
            phases.push(base(start + Self::DEMO_OUTAGE_SECONDS + 900.0));
        }
        Self::checkout(phases)
    }

    /// Seconds from `live` to the demo's first outage.
    pub const DEMO_OUTAGE_OFFSET_SECONDS: f64 = 45.0;

    /// How long each of the demo's outages lasts, in seconds.
    pub const DEMO_OUTAGE_SECONDS: f64 = 150.0;

    /// Seconds between the starts of the demo's outages.
    pub const DEMO_CYCLE_SECONDS: f64 = 1800.0;

    fn index_at(&self, t: f64) -> Option<usize> {
        let next = self.phases.partition_point(|p| p.start <= t);
        next.checked_sub(1)
    }

    /// Whether the target is scraped at `t` (false before the first phase and during gaps).
    pub fn scraped_at(&self, t: f64) -> bool {
        self.index_at(t).is_some_and(|i| self.phases[i].scraped)
    }

    /// Counter values of `route` at `t`: the integral of its rates since the latest reset.
    pub fn counts_at(&self, route: &Route, t: f64) -> RouteCounts {
        let total_share: f64 = self.routes.iter().map(|r| r.share).sum();
        let share = route.share / total_share;
        let mut counts = RouteCounts::default();
        let Some(last) = self.index_at(t) else {
            return counts;
        };
        let first = (0..=last)
            .rev()
            .find(|&i| self.phases[i].reset)
            .unwrap_or(0);
        for i in first..=last {
            let phase = &self.phases[i];
            let end = if i == last {
                t
            } else {
                self.phases[i + 1].start
            };
            let requests = phase.requests_per_second * share * (end - phase.start).max(0.0);
            let errors = requests * (phase.error_ratio * route.error_factor).min(1.0);
            let slow = requests * (phase.slow_ratio * route.error_factor).min(1.0);
            counts.requests += requests;
            counts.errors += errors;
            counts.slow += slow;
            counts.very_slow += slow / 5.0;
            counts.over_100ms += slow + (requests - slow) / 10.0;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_integrate_rates_and_reset() {
        let mut phases = vec![
            Phase::steady(0.0, 10.0, 0.1, 0.0),
            Phase::steady(100.0, 20.0, 0.5, 0.0),
        ];
        phases.push(Phase {
            reset: true,
            ..Phase::steady(200.0, 20.0, 0.5, 0.0)
        });
        let scenario = Scenario {
            routes: vec![Route {
                name: "/".into(),
                share: 1.0,
                error_factor: 1.0,
            }],
            phases,
        };
        let route = &scenario.routes[0];
        let at150 = scenario.counts_at(route, 150.0);
        assert_eq!(at150.requests, 10.0 * 100.0 + 20.0 * 50.0);
        assert_eq!(at150.errors, 100.0 + 500.0);
        let at210 = scenario.counts_at(route, 210.0);
        assert_eq!(at210.requests, 200.0, "the reset restarts counting");
        assert_eq!(scenario.counts_at(route, -1.0).requests, 0.0);
    }
}
