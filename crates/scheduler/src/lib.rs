//! burnwatch's scheduler: asks metric backends for the newest events and feeds the engine.
//!
//! It owns the [`Backend`] abstraction and its implementations for the Prometheus API
//! ([`PrometheusBackend`]) and Datadog ([`DatadogBackend`]), what each SLI reads ([`Plan`]), one
//! [`SloRunner`] per
//! SLO (instances, counter trackers, backfill, the tick) and the polling loop ([`run`]) with its
//! self-metrics ([`SchedulerMetrics`]).
//!
//! Neighbours: `burnwatch-spec` gives the validated SLOs, `burnwatch-engine` does all the math
//! and holds the [`burnwatch_engine::Board`] this crate publishes to, `burnwatch-http` reads that
//! board. This crate never computes a ratio or burn rate itself, and never serves HTTP.
//!
//! Backend work per tick is constant: the raw samples since the previous tick (or one small
//! query per window for `raw` SLIs). The whole period is read once, at startup, by range queries
//! at each bucket level's resolution.//!
//! # Example
//!
//! The backfill reads counters at bucket boundaries, and PromQL gets its durations in the
//! largest exact unit:
//!
//! ```
//! use std::time::Duration;
//! use burnwatch_scheduler::{align_down, promql_duration};
//!
//! // 10:07:30 (in milliseconds) lies in the 10-minute bucket that starts at 10:00.
//! let (at, ten_minutes) = (36_450_000, Duration::from_secs(600));
//! assert_eq!(align_down(at, ten_minutes), 36_000_000);
//! assert_eq!(promql_duration(Duration::from_secs(3600)), "1h");
//! assert_eq!(promql_duration(Duration::from_secs(90)), "90s");
//! ```
#![deny(missing_docs)]

mod backend;
mod backends;
mod backfill;
mod coalescer;
mod counting;
mod datadog;
mod label_filter;
mod metrics;
mod pacer;
mod plan;
mod poller;
mod prometheus;
mod retry;
mod runner;
mod slices;
mod snapshot;

pub use backend::{Backend, BackendError, Labels, QueryResult, Read, Series, Stat};
pub use backends::connect;
pub use backfill::{BackfillStats, Segment, align_down, refine, segments};
pub use coalescer::{Coalescer, Linger};
pub use datadog::{DatadogBackend, MAX_POINTS as DATADOG_MAX_POINTS};
pub use metrics::SchedulerMetrics;
pub use pacer::Pacer;
pub use plan::{Plan, Role};
pub use poller::{
    DEFAULT_SNAPSHOT_INTERVAL, PollerOptions, Readiness, next_tick, now_millis, run, spawn,
    tick_offset,
};
pub use prometheus::{DEFAULT_MAX_RESPONSE_BYTES, PrometheusBackend, decode, promql_duration};
pub use retry::RetryPolicy;
pub use runner::{ComponentHistory, MAX_LIVE_GAP, ReplayStep, SloRunner};
pub use snapshot::{
    CHUNK_SLOTS, Encoder, Handover, InstanceRows, InstanceSnapshot, LEGACY_FILE, Loaded,
    RunnerSnapshot, SNAPSHOT_FILE, SNAPSHOT_VERSION, Snapshots, Store, fingerprint,
};
