//! burnwatch's HTTP side: the server Prometheus scrapes and people look at.
//!
//! It owns the axum [`router`] (`/metrics`, `/healthz`, `/readyz`, their Prometheus-style
//! aliases `/-/healthy` and `/-/ready`, `/-/reload`) and the server that runs it under
//! `[server]` timeouts and caps ([`serve`]), the [`SloCollector`] that
//! renders the board as Sloth-compatible series, the read-only JSON API under `/api/v1` (with
//! the release gate), the server-rendered status page at `/` with inline SVG [`chart`]s, and the
//! budget [`corrections`] the API changes and keeps in the data dir, and the
//! outbound notifiers ([`notify`]): the [`Dispatcher`] routes the engine's alert transitions to
//! PagerDuty, Slack, webhooks, Alertmanager, Opsgenie and Microsoft Teams through a bounded queue
//! per receiver, and its `DigestSender` delivers the `[[digest]]` messages the binary builds.
//!
//! Neighbours: it reads the [`burnwatch_engine::Board`] the scheduler publishes to and formats
//! durations with `burnwatch-spec`; the binary wires it. It never queries a backend and never
//! computes SLO figures: every number it shows comes from an engine evaluation.//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use axum::body::Body;
//! use axum::http::Request;
//! use burnwatch_http::{AppState, ReadyCheck, router};
//! use prometheus_client::registry::Registry;
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // Not ready while backfilling, and saying why; Prometheus' spelling answers the same.
//! let ready: ReadyCheck = Arc::new(|| Err("backfill: 1 SLO pending".to_string()));
//! let app = router(AppState::new(Arc::new(Registry::default()), ready));
//! for path in ["/readyz", "/-/ready"] {
//!     let request = Request::get(path).body(Body::empty()).unwrap();
//!     let response = app.clone().oneshot(request).await.unwrap();
//!     assert_eq!(response.status(), 503);
//! }
//! # });
//! ```
#![deny(missing_docs)]

mod api;
pub mod chart;
mod collector;
pub mod corrections;
mod discovery;
mod headers;
mod hold;
pub mod notify;
mod page;
mod reload;
mod renders;
mod scrape;
mod serve;
mod server;

pub use api::{MAX_AHEAD_MS, MAX_CORRECTION_BYTES, MAX_REASON_CHARS, MAX_SLOS};
pub use collector::SloCollector;
pub use discovery::{DiscoveryRow, DiscoveryView};
pub use notify::Dispatcher;
pub use page::STATUS_COLOURS;
pub use reload::{RELOAD_MIN_INTERVAL, ReloadRequest};
pub use scrape::OPENMETRICS;
pub use serve::{MAX_BODY_BYTES, MAX_HEADER_BYTES, connection_cap};
pub use server::{AppState, ReadyCheck, router, serve};
