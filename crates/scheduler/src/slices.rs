//! Time slices in the read path: the events read for whole slices become one event per slice
//! and group ([`burnwatch_engine::Slicing::event`] decides it), before the engine sees them.

use std::collections::BTreeMap;

use burnwatch_engine::{Counts, Millis, Slicing};

use crate::counting::{GroupKey, Points, Span, Tally};
use crate::plan::Role;

/// The slices of `points`: every span is given to the slice holding its end, so `points` must
/// cover whole slices and no span may straddle two (reads at the slice's step or a divisor of
/// it, starting on a slice boundary, do). A group with data but no events in a slice gets an
/// empty event (no traffic: neither good nor bad); a group without data gets none.
pub(crate) fn slice(points: Points, slicing: &Slicing) -> Points {
    let mut per_slice: BTreeMap<Millis, BTreeMap<GroupKey, Counts>> = BTreeMap::new();
    for (span, groups) in points {
        let end = slicing.end_of(span.end);
        let slot = per_slice.entry(end).or_default();
        for (key, tally) in groups {
            if let Some(counts) = tally.counts() {
                slot.entry(key).or_default().add(counts);
            }
        }
    }
    let length = slicing.length_ms();
    per_slice
        .into_iter()
        .map(|(end, groups)| {
            let span = Span {
                start: end - length,
                end,
            };
            let groups = groups
                .into_iter()
                .map(|(key, counts)| {
                    let event = slicing.event(counts).unwrap_or_default();
                    let mut tally = Tally::default();
                    tally.add(Role::Errors, event.errors);
                    tally.add(Role::Total, event.total);
                    (key, tally)
                })
                .collect();
            (span, groups)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use burnwatch_engine::SliceRule;

    use super::*;

    const MINUTE: Millis = 60_000;

    fn minute(points: &mut Points, end_minute: i64, key: &str, errors: f64, total: f64) {
        let tally = points
            .entry(Span {
                start: (end_minute - 1) * MINUTE,
                end: end_minute * MINUTE,
            })
            .or_default()
            .entry(vec![key.to_string()])
            .or_default();
        tally.add(Role::Errors, errors);
        tally.add(Role::Total, total);
    }

    #[test]
    fn minutes_add_up_to_their_slice_and_each_slice_is_one_event() {
        let slicing = Slicing {
            length: Duration::from_secs(300),
            rule: SliceRule::Target(0.9),
        };
        let mut points = Points::new();
        // First slice (0, 5m]: 5 errors in 100 over five minutes, 95% good: good.
        for m in 1..=5 {
            minute(&mut points, m, "a", 1.0, 20.0);
        }
        // Second slice (5m, 10m]: 15 errors in 100: 85% good: bad. Group "b" has data but
        // no events: an empty event.
        for m in 6..=10 {
            minute(&mut points, m, "a", 3.0, 20.0);
            minute(&mut points, m, "b", 0.0, 0.0);
        }
        let slices = slice(points, &slicing);
        let events: Vec<(Millis, &str, Option<Counts>)> = slices
            .iter()
            .flat_map(|(span, groups)| {
                groups
                    .iter()
                    .map(move |(key, tally)| (span.end, key[0].as_str(), tally.counts()))
            })
            .collect();
        let event = |errors, total| Some(Counts { errors, total });
        assert_eq!(
            events,
            vec![
                (5 * MINUTE, "a", event(0.0, 1.0)),
                (10 * MINUTE, "a", event(1.0, 1.0)),
                (10 * MINUTE, "b", event(0.0, 0.0)),
            ]
        );
        assert_eq!(
            slices.keys().next(),
            Some(&Span {
                start: 0,
                end: 5 * MINUTE
            })
        );
    }
}
