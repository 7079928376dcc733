//! Harness for burnwatch's integration tests: real Prometheus and VictoriaMetrics processes on
//! free loopback ports, history written by the simulator and loaded with `promtool tsdb
//! create-blocks-from openmetrics` (VictoriaMetrics: its Prometheus text import), and a live
//! exporter for the simulator. Everything is cleaned up on drop.
//!
//! A headless Chromium driven over the DevTools protocol checks pages as a browser renders them.
//!
//! A missing `prometheus`, `promtool`, `victoria-metrics` or `chromium` binary fails the test
//! with instructions; it never skips.
//!
//! Every server a test starts listens on a free loopback port:
//!
//! ```
//! let port = burnwatch_tests::free_port();
//! let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
//! assert_eq!(listener.local_addr().unwrap().port(), port);
//! ```

mod alertmanager;
mod browser;
pub mod clock;
mod daemon;
mod exporter;
pub mod html;
mod process;
mod prometheus;
mod release;
mod replay;
mod victoria_metrics;

pub use alertmanager::Alertmanager;
pub use browser::{Browser, Tab};
pub use daemon::Daemon;
pub use exporter::Exporter;
pub use process::{free_port, http_client, require_binary, rss_kib, stdout_of, wait_for};
pub use prometheus::{Prometheus, PrometheusOptions};
pub use release::release_binary;
pub use replay::{prometheus_with_history, replay_json, replay_steps, unix_seconds};
pub use victoria_metrics::{VictoriaMetrics, exposition_from_openmetrics};

/// The simulator's checkout availability as an `[[slo]]` at 99.9%: errors are its 5xx.
pub const CHECKOUT_AVAILABILITY_SLO: &str = r#"[[slo]]
service = "checkout"
name = "availability"
objective = 99.9
[slo.sli.ratio]
errors = 'http_requests_total{service="checkout",code=~"5.."}'
total = 'http_requests_total{service="checkout"}'
"#;
