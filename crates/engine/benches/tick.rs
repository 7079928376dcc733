//! One live tick of 10,000 SLO instances: per instance one 30-second observation and one
//! evaluation; and the same under one-minute time slices (one slice judged and observed per
//! tick). Targets: <= 2 µs per SLO-tick, <= 32 KiB per instance.
//!
//! `cargo bench -p burnwatch-engine --bench tick`
//!
//! Criterion's throughput is in SLO-ticks per second; ns per SLO-tick = time per iteration /
//! 10,000.

use std::hint::black_box;
use std::time::Duration;

use burnwatch_engine::{
    Counts, DEFAULT_WINDOWS, Millis, Observation, SliceRule, Slicing, SloState,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const INSTANCES: usize = 10_000;
const TICK: Millis = 30_000;
const DAY: Millis = 86_400_000;
/// A day boundary: hourly, 10-minute and minute buckets all start here.
const START: Millis = 19_700 * DAY;

/// Instances with a full period of history, filled the way backfill does (hourly points for the
/// period, 10-minute points for 3 days, minute points for 6 hours), so every bucket holds data.
fn instances() -> Vec<SloState> {
    let period = Duration::from_secs(30 * 86_400);
    (0..INSTANCES)
        .map(|i| {
            let mut state = SloState::counted(0.999, period, &DEFAULT_WINDOWS);
            let errors = (i % 5) as f64;
            for (step, span) in [(3_600_000, 30 * DAY), (600_000, 3 * DAY), (60_000, DAY / 4)] {
                let mut t = START - span;
                while t < START {
                    let counts = Counts {
                        errors,
                        total: 1_000.0 * step as f64 / 60_000.0,
                    };
                    state.observe(Observation::Events {
                        start: t,
                        end: t + step,
                        counts,
                    });
                    t += step;
                }
            }
            state
        })
        .collect()
}

fn tick(c: &mut Criterion) {
    let mut states = instances();
    let bytes = states[0].memory_bytes();
    eprintln!("engine: {bytes} bytes per instance (target <= 32768), {INSTANCES} instances");

    let mut now = START;
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(INSTANCES as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("tick_10k_slos", |b| {
        b.iter(|| {
            now += TICK;
            for (i, state) in states.iter_mut().enumerate() {
                let counts = Counts {
                    errors: (i % 3) as f64,
                    total: 500.0,
                };
                state.observe(Observation::Events {
                    start: now - TICK,
                    end: now,
                    counts,
                });
                black_box(state.evaluate(now));
            }
        })
    });
    group.finish();
}

/// The same instances under one-minute time slices: each tick judges one slice of 500 events
/// against a 99% slice target ([`Slicing::event`]) and observes the one event it becomes. The
/// state is the same counted state (slices are events to it), so its memory is the same.
fn tick_slices(c: &mut Criterion) {
    const SLICE: Millis = 60_000;
    let slicing = Slicing {
        length: Duration::from_millis(SLICE as u64),
        rule: SliceRule::Target(0.99),
    };
    let mut states = instances();
    let mut now = START;
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(INSTANCES as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("tick_10k_slices", |b| {
        b.iter(|| {
            now += SLICE;
            for (i, state) in states.iter_mut().enumerate() {
                let counts = Counts {
                    errors: (i % 9) as f64,
                    total: 500.0,
                };
                if let Some(event) = slicing.event(counts) {
                    state.observe(Observation::Events {
                        start: now - SLICE,
                        end: now,
                        counts: event,
                    });
                }
                black_box(state.evaluate(now));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, tick, tick_slices);
criterion_main!(benches);
