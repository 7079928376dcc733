//! A deterministic traffic simulator: request counters and a latency histogram of a fictional
//! `checkout` service, following a script of phases (steady traffic, incidents, counter resets,
//! scrape gaps, silence).
//!
//! Counters are closed-form functions of absolute time (integrals of piecewise-constant rates),
//! so the same scenario can be written as history for `promtool tsdb create-blocks-from
//! openmetrics` and served live on `/metrics`, and the two join up exactly. It is used by
//! `scripts/demo` and by the integration tests; it is not part of the daemon.//!
//! # Example
//!
//! ```
//! use burnwatch_simulator::{Phase, Scenario, render_scrape};
//!
//! // 100 requests a second with 1% errors from t = 0; the checkout service's two routes take
//! // 40% and 60% of them, at 1.5 and 2/3 times the error ratio.
//! let scenario = Scenario::checkout(vec![Phase::steady(0.0, 100.0, 0.01, 0.0)]);
//! let scrape = render_scrape(&scenario, 10.0);
//! // After 10 s, /pay has had 400 requests, 6 of them failed.
//! assert!(scrape.contains(r#"http_requests_total{service="checkout",route="/pay",code="500"} 6"#));
//! assert!(scrape.contains(r#"http_requests_total{service="checkout",route="/pay",code="200"} 394"#));
//! ```
#![deny(missing_docs)]

mod exposition;
mod scenario;

pub use exposition::{Sample, render_openmetrics_history, render_scrape, samples_at};
pub use scenario::{Phase, Route, Scenario};
