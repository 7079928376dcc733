//! Reading a counting instance's history from its buckets, as the status page and
//! `/api/v1/slos/{id}/history` do when asked: one state with a full 30-day period of history
//! (default windows), every point the buckets hold (about 1,400, each window and the period).
//!
//! `cargo bench -p burnwatch-engine --bench history`

use std::hint::black_box;
use std::time::Duration;

use burnwatch_engine::{Counts, DEFAULT_WINDOWS, Millis, Observation, SloState};
use criterion::{Criterion, criterion_group, criterion_main};

const DAY: Millis = 86_400_000;
/// A day boundary: hourly, 10-minute and minute buckets all start here.
const START: Millis = 19_700 * DAY;

fn history(c: &mut Criterion) {
    let mut state = SloState::counted(0.999, Duration::from_secs(30 * 86_400), &DEFAULT_WINDOWS);
    // Filled the way backfill does: hourly for the period, 10-minute for 3 days, minutes for 6h.
    for (step, span) in [(3_600_000, 30 * DAY), (600_000, 3 * DAY), (60_000, DAY / 4)] {
        let mut t = START - span;
        while t < START {
            let errors = ((t / step) % 7) as f64;
            state.observe(Observation::Events {
                start: t,
                end: t + step,
                counts: Counts {
                    errors,
                    total: 1_000.0 * step as f64 / 60_000.0,
                },
            });
            t += step;
        }
    }
    state.evaluate(START);
    let points = state.past(Millis::MIN).len();
    eprintln!("history: {points} points per read");
    let mut group = c.benchmark_group("engine");
    group.bench_function("history_30d", |b| {
        b.iter(|| black_box(state.past(black_box(Millis::MIN))))
    });
    group.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
