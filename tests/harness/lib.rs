//! Harness for burnwatch's integration tests: real Prometheus processes on free loopback ports,
//! history written by the simulator and loaded with `promtool tsdb create-blocks-from openmetrics`,
//! and a live exporter for the simulator. Everything is cleaned up on drop.
//!
//! A missing `prometheus` or `promtool` binary fails the test with instructions; it never skips.

mod alertmanager;
mod daemon;
mod exporter;
mod process;
mod prometheus;

pub use alertmanager::Alertmanager;
pub use daemon::Daemon;
pub use exporter::Exporter;
pub use process::{free_port, http_client, require_binary};
pub use prometheus::{Prometheus, PrometheusOptions};
