//! burnwatch's HTTP side: the server Prometheus scrapes and people look at.
//!
//! It owns the axum [`router`] (`/metrics`, `/healthz`, `/readyz`) and the [`SloCollector`] that
//! renders the board as Sloth-compatible series. Later: the JSON API, status page and notifiers.
//!
//! Neighbours: it reads the [`burnwatch_engine::Board`] the scheduler publishes to and formats
//! durations with `burnwatch-spec`; the binary wires it. It never queries a backend and never
//! computes SLO figures: every number it shows comes from an engine evaluation.
#![deny(missing_docs)]

mod collector;
mod server;

pub use collector::SloCollector;
pub use server::{AppState, OPENMETRICS, ReadyCheck, router, serve};
