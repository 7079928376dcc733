//! The state snapshot at scale: INSTANCES instances (default 100,000) of one 30-day SLO with
//! the default windows and a full period of history, filled the way backfill fills them (as
//! `crates/engine/benches/tick.rs` does), written to a snapshot database in a temporary
//! directory. Measures, and prints (asserts nothing):
//!
//! 1. the handover (encoding every instance) and the first, full write, with bytes on disk;
//! 2. one minute later (every instance observed one more minute), the incremental handover and
//!    write;
//! 3. a restart: loading the database, then decoding every instance (what the SLO task does
//!    when it restores), and a check that the first instance came back exactly.
//!
//! `cargo bench -p burnwatch-scheduler --bench snapshot -- [INSTANCES] [varied|live]`
//!
//! Counts as in tick.rs repeat from bucket to bucket, and spreading coarse points over finer
//! buckets leaves fractions. `varied` fills the same way with different counts in every point
//! (fractions that do not repeat: the worst case for the encoding); `live` observes every minute
//! of 30 days with different whole counts, as live ticks leave an instance (slow to fill).

use std::path::Path;
use std::time::{Duration, Instant};

use burnwatch_engine::{Alerts, Counts, DEFAULT_WINDOWS, Millis, Observation, SloState};
use burnwatch_scheduler::{Encoder, Snapshots, Store};

const DAY: Millis = 86_400_000;
/// A day boundary: hourly, 10-minute and minute buckets all start here.
const START: Millis = 19_700 * DAY;
const MINUTE: Millis = 60_000;

/// A small deterministic generator (xorshift), so runs compare.
struct Noise(u64);

impl Noise {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// 30 days of one-minute observations of whole, varied counts, as 30 days of live ticks leave
/// an instance: every bucket at every level holds whole numbers.
fn lived(i: usize) -> SloState {
    let period = Duration::from_secs(30 * 86_400);
    let mut state = SloState::counted(0.999, period, &DEFAULT_WINDOWS);
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15 ^ i as u64);
    let mut t = START - 30 * DAY;
    while t < START {
        let counts = Counts {
            errors: noise.next(3) as f64,
            total: (800 + noise.next(400)) as f64,
        };
        state.observe(Observation::Events {
            start: t,
            end: t + MINUTE,
            counts,
        });
        t += MINUTE;
    }
    state
}

fn filled(i: usize, varied: bool) -> SloState {
    let period = Duration::from_secs(30 * 86_400);
    let mut state = SloState::counted(0.999, period, &DEFAULT_WINDOWS);
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15 ^ i as u64);
    for (step, span) in [(3_600_000, 30 * DAY), (600_000, 3 * DAY), (60_000, DAY / 4)] {
        let mut t = START - span;
        while t < START {
            let minutes = (step / MINUTE) as u64;
            let counts = if varied {
                Counts {
                    errors: noise.next(3 * minutes) as f64,
                    total: (800 * minutes + noise.next(400 * minutes)) as f64,
                }
            } else {
                Counts {
                    errors: (i % 5) as f64,
                    total: 1_000.0 * minutes as f64,
                }
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
}

fn bytes_on_disk(dir: &Path) -> (u64, u64) {
    let size = |name: &str| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
    (size("state.db"), size("state.db-wal"))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let instances: usize = args
        .iter()
        .find_map(|a| a.replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let varied = args.iter().any(|a| a == "varied");
    let live = args.iter().any(|a| a == "live");
    let dir = tempfile::tempdir().expect("temporary directory");
    let per = |bytes: u64| bytes as f64 / instances as f64;

    let started = Instant::now();
    let groups: Vec<Vec<String>> = (0..instances).map(|i| vec![format!("i{i:06}")]).collect();
    // tick.rs counts differ only by `i % 5`: five states filled, the others copies.
    let templates: Vec<SloState> = (0..5).map(|i| filled(i, false)).collect();
    let mut states: Vec<SloState> = (0..instances)
        .map(|i| {
            if live {
                lived(i)
            } else if varied {
                filled(i, true)
            } else {
                templates[i % 5].clone()
            }
        })
        .collect();
    let alerts = Alerts::new();
    println!(
        "snapshot: {instances} instances of a 30-day SLO ({} counts), {} bytes of state each, filled in {:.1} s",
        if live {
            "live"
        } else if varied {
            "varied"
        } else {
            "tick.rs"
        },
        states[0].memory_bytes(),
        started.elapsed().as_secs_f64()
    );

    let store = Store::new(dir.path());
    let hub = Snapshots::new(store.load(START));
    let mut encoder = Encoder::default();
    let mut round = |label: &str, states: &[SloState], now: Millis| {
        let t = Instant::now();
        let handover = encoder.encode(
            "bench",
            now,
            groups.iter().zip(states).map(|(g, s)| (g, s, &alerts)),
        );
        let chunks: usize = handover.instances.iter().map(|i| i.chunks.len()).sum();
        let frames: usize = handover.instances.iter().map(|i| i.frame.len()).sum();
        let chunk_bytes: usize = handover
            .instances
            .iter()
            .flat_map(|i| &i.chunks)
            .map(|(_, b)| b.len())
            .sum();
        assert!(hub.put("bench", handover));
        let encoded = t.elapsed();
        let t = Instant::now();
        hub.save(&store, now).expect("snapshot written");
        let written = t.elapsed();
        let (db, wal) = bytes_on_disk(dir.path());
        println!(
            "{label}: handover {:.2} s ({chunks} chunks, {:.0} B per instance: frames {:.0} B, chunks {:.0} B), write {:.2} s; on disk {:.0} B per instance (state.db {:.1} MB, WAL {:.1} MB)",
            encoded.as_secs_f64(),
            per((frames + chunk_bytes) as u64),
            per(frames as u64),
            per(chunk_bytes as u64),
            written.as_secs_f64(),
            per(db + wal),
            db as f64 / 1e6,
            wal as f64 / 1e6,
        );
    };
    round("full write", &states, START);
    for (i, state) in states.iter_mut().enumerate() {
        state.observe(Observation::Events {
            start: START,
            end: START + MINUTE,
            counts: Counts {
                errors: (i % 3) as f64,
                total: 1_000.0,
            },
        });
        let _ = state.evaluate(START + MINUTE);
    }
    round(
        "one minute later, incremental write",
        &states,
        START + MINUTE,
    );
    let first = serde_json::to_string(&states[0]).expect("state serialises");
    drop(states);
    drop(hub);

    let t = Instant::now();
    let loaded = Store::new(dir.path()).load(START + 2 * MINUTE);
    let load = t.elapsed();
    let hub = Snapshots::new(loaded);
    let t = Instant::now();
    let restored = hub.take("bench").expect("the snapshot restores");
    let decode = t.elapsed();
    println!(
        "restart: load {:.2} s, decode {:.2} s, {} instances restored in {:.2} s",
        load.as_secs_f64(),
        decode.as_secs_f64(),
        restored.instances.len(),
        (load + decode).as_secs_f64()
    );
    let back = restored
        .instances
        .iter()
        .find(|i| i.group == groups[0])
        .expect("first instance");
    assert_eq!(
        serde_json::to_string(&back.state).expect("state serialises"),
        first,
        "restored state differs"
    );
}
