//! The configured maintenance windows as the engine's `SpanSource`.
//!
//! Runners ask for their SLO's spans on every tick. A recurring definition is expanded once
//! over a horizon past the moment asked about and kept; the horizon moves (one expansion more)
//! only when a question reaches past it, so a tick costs a binary search per definition.

use std::sync::Mutex;

use burnwatch_engine::{ExclusionSpan, Millis, Origin, SloInfo, SpanSource};

use super::{Maintenance, When};

/// How far past the latest moment asked about a recurring definition is expanded.
const HORIZON: Millis = 180 * 86_400_000;

/// Every `[[maintenance]]` definition of a configuration, with its expansions cached.
#[derive(Debug, Default)]
pub struct MaintenanceSpans {
    definitions: Vec<Cached>,
}

#[derive(Debug)]
struct Cached {
    definition: Maintenance,
    expansion: Mutex<Expansion>,
}

/// The windows of a recurring definition that start before `until`, by start.
#[derive(Debug, Default)]
struct Expansion {
    until: Millis,
    windows: Vec<(Millis, Millis)>,
}

impl MaintenanceSpans {
    /// A source over `definitions` (nothing is expanded until asked).
    pub fn new(definitions: &[Maintenance]) -> MaintenanceSpans {
        MaintenanceSpans {
            definitions: definitions
                .iter()
                .map(|d| Cached {
                    definition: d.clone(),
                    expansion: Mutex::new(Expansion {
                        until: Millis::MIN,
                        windows: Vec::new(),
                    }),
                })
                .collect(),
        }
    }

    /// No definitions at all.
    pub fn is_empty(&self) -> bool {
        self.definitions.is_empty()
    }
}

impl Cached {
    /// The windows overlapping `(from, to]`.
    fn windows(&self, from: Millis, to: Millis) -> Vec<(Millis, Millis)> {
        let When::Recurring(_) = &self.definition.when else {
            return self.definition.windows(from, to);
        };
        let mut expansion = self.expansion.lock().unwrap_or_else(|e| e.into_inner());
        if to > expansion.until {
            let until = to.saturating_add(HORIZON);
            expansion.windows = self.definition.windows(Millis::MIN, until);
            expansion.until = until;
        }
        // Every occurrence lasts as long, so ends are in start order too.
        let first = expansion.windows.partition_point(|&(_, end)| end <= from);
        expansion.windows[first..]
            .iter()
            .take_while(|&&(start, _)| start < to)
            .copied()
            .collect()
    }
}

impl SpanSource for MaintenanceSpans {
    fn spans(&self, slo: &SloInfo, from: Millis, to: Millis) -> Vec<ExclusionSpan> {
        let labels = slo.labels.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let mut spans = Vec::new();
        for cached in &self.definitions {
            let d = &cached.definition;
            if !d.covers(&slo.id, labels.clone()) {
                continue;
            }
            spans.extend(
                cached
                    .windows(from, to)
                    .into_iter()
                    .map(|(start, end)| ExclusionSpan {
                        start,
                        end,
                        origin: Origin::Maintenance {
                            name: d.name.clone(),
                        },
                        reason: d.reason.clone(),
                        exclude: d.exclude,
                        silence: d.silence,
                    }),
            );
        }
        spans.sort_by_key(|s| (s.start, s.end));
        spans
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use burnwatch_engine::Objective;

    use super::super::Schedule;
    use super::super::schedule::default_start;
    use super::*;

    const DAY: Millis = 86_400_000;

    fn recurring(name: &str, rule: &str, minutes: u64) -> Maintenance {
        Maintenance {
            name: name.into(),
            slos: vec!["checkout-*".into()],
            labels: BTreeMap::new(),
            when: When::Recurring(Box::new(
                Schedule::new(
                    rule,
                    chrono_tz::Europe::Berlin,
                    default_start(),
                    Duration::from_secs(minutes * 60),
                )
                .unwrap(),
            )),
            reason: String::new(),
            exclude: true,
            silence: true,
        }
    }

    fn slo(id: &str) -> SloInfo {
        SloInfo {
            id: id.into(),
            service: "checkout".into(),
            name: "availability".into(),
            objective: Objective::from_percent(99.9),
            period: Duration::from_secs(30 * 86_400),
            labels: Vec::new(),
            description: None,
            alert_name: "SLOErrorBudgetBurn".into(),
            annotations: Vec::new(),
            alert_extras: Default::default(),
        }
    }

    /// The cached answer equals a fresh expansion, tick after tick, as the horizon moves; and
    /// the cost of a call, printed (`cargo nextest run -p burnwatch-spec per_tick --nocapture`).
    #[test]
    fn per_tick_answers_match_a_fresh_expansion() {
        let definitions = [
            recurring("weekly", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30", 60),
            recurring("daily", "FREQ=DAILY;BYHOUR=3,15", 20),
        ];
        let source = Arc::new(MaintenanceSpans::new(&definitions));
        let info = slo("checkout-availability");
        let reach = 31 * DAY;
        let start: Millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        for day in (0..400).step_by(7) {
            let now = start + day * DAY + 7 * 3_600_000;
            let cached = source.spans(&info, now - reach, now + DAY);
            let fresh: Vec<(Millis, Millis)> = {
                let mut all: Vec<_> = definitions
                    .iter()
                    .flat_map(|d| d.windows(now - reach, now + DAY))
                    .collect();
                all.sort();
                all
            };
            let got: Vec<_> = cached.iter().map(|s| (s.start, s.end)).collect();
            assert_eq!(got, fresh, "day {day}");
        }
        assert!(
            source
                .spans(&slo("api-availability"), start, start + reach)
                .is_empty()
        );
        let calls = 100_000;
        let began = Instant::now();
        let mut n = 0;
        for i in 0..calls {
            let now = start + i * 30_000;
            n += source.spans(&info, now - reach, now + DAY).len();
        }
        let per_call = began.elapsed() / calls as u32;
        println!(
            "MaintenanceSpans::spans: {per_call:?} per call (2 definitions, 31-day reach, {n} spans)"
        );
    }
}
