//! A deterministic traffic simulator: request counters and a latency histogram of a fictional
//! `checkout` service, following a script of phases (steady traffic, incidents, counter resets,
//! scrape gaps, silence).
//!
//! Counters are closed-form functions of absolute time (integrals of piecewise-constant rates),
//! so the same scenario can be written as history for `promtool tsdb create-blocks-from
//! openmetrics` and served live on `/metrics`, and the two join up exactly. It is used by
//! `scripts/demo` and by the integration tests; it is not part of the daemon.
#![deny(missing_docs)]

mod exposition;
mod scenario;

pub use exposition::{Sample, render_openmetrics_history, render_scrape, samples_at};
pub use scenario::{Phase, Route, Scenario};
