//! The axum server: `/metrics` (see [`crate::scrape`]), `/healthz`, `/readyz`, `/-/reload`
//! (see [`crate::reload`]), and with a board the JSON API (`/api/v1`, see [`crate::api`]) and
//! the status page (`/`, see [`crate::page`]); served by [`crate::serve`] under the `[server]`
//! timeouts and caps, with security headers on every answer.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use burnwatch_spec::{SecretSource, ServerLimits};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::reload::{ReloadGate, ReloadRequest};
use crate::renders::Renders;
use crate::scrape::Scrape;

/// Says whether the daemon is ready, and if not, why (e.g. "backfill: 37 of 40 SLOs ready, 3
/// pending").
pub type ReadyCheck = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// What the handlers need.
#[derive(Clone)]
pub struct AppState {
    pub(crate) ready: ReadyCheck,
    pub(crate) reload: Option<tokio::sync::mpsc::Sender<ReloadRequest>>,
    pub(crate) reload_token: Option<SecretSource>,
    pub(crate) reload_gate: ReloadGate,
    pub(crate) board: Option<Arc<burnwatch_engine::Board>>,
    /// Excluded and silenced spans: corrections are changed here, spans shown from here.
    pub(crate) exclusions: Arc<burnwatch_engine::Exclusions>,
    /// `[server] api_token_file`: without it the corrections endpoints refuse everyone.
    pub(crate) api_token: Option<SecretSource>,
    /// The budget corrections the API changes.
    pub(crate) corrections: Option<Arc<crate::corrections::Corrections>>,
    pub(crate) scrape: Arc<Scrape>,
    /// What `[[discover]]` found, for the status page (none: no discovery section).
    pub(crate) discovery: Option<crate::discovery::DiscoveryView>,
    /// The six-month record `/trends` and `/api/v1/trends` read (empty until opened).
    pub(crate) record: burnwatch_record::SharedRecord,
    slo_metrics: Option<Arc<Registry>>,
    pub(crate) renders: Renders,
    limits: ServerLimits,
    registry: Arc<Registry>,
}

impl AppState {
    /// State over the process registry and a readiness check, with the default limits.
    pub fn new(registry: Arc<Registry>, ready: ReadyCheck) -> Self {
        let limits = ServerLimits::default();
        Self {
            ready,
            reload: None,
            reload_token: None,
            reload_gate: ReloadGate::default(),
            board: None,
            exclusions: burnwatch_engine::Exclusions::new(),
            api_token: None,
            corrections: None,
            scrape: Arc::new(Scrape::new(Arc::clone(&registry), None, None)),
            discovery: None,
            record: burnwatch_record::SharedRecord::default(),
            slo_metrics: None,
            renders: Renders::new(limits.max_concurrent_renders),
            limits,
            registry,
        }
    }

    /// Shows what `[[discover]]` found on the status page.
    #[must_use]
    pub fn with_discovery(mut self, view: crate::discovery::DiscoveryView) -> Self {
        self.discovery = Some(view);
        self
    }

    /// [`AppState::with_discovery`] when `shown`.
    #[must_use]
    pub fn with_discovery_if(self, shown: bool, view: crate::discovery::DiscoveryView) -> Self {
        if shown {
            self.with_discovery(view)
        } else {
            self
        }
    }

    /// Serves `/trends` and `/api/v1/trends` from `record`.
    #[must_use]
    pub fn with_record(mut self, record: burnwatch_record::SharedRecord) -> Self {
        self.record = record;
        self
    }

    /// Shows excluded and silenced spans from `exclusions` and changes corrections there.
    #[must_use]
    pub fn with_exclusions(mut self, exclusions: Arc<burnwatch_engine::Exclusions>) -> Self {
        self.exclusions = exclusions;
        self
    }

    /// Serves `/api/v1/corrections` from `corrections` (which registers them in its own
    /// [`burnwatch_engine::Exclusions`], the one the runners read).
    #[must_use]
    pub fn with_corrections(mut self, corrections: Arc<crate::corrections::Corrections>) -> Self {
        self.corrections = Some(corrections);
        self
    }

    /// Requires `Authorization: Bearer <token>` on `/api/v1/corrections` (`[server]
    /// api_token_file`), read on every request so it can rotate. Without a token those
    /// endpoints answer 403.
    #[must_use]
    pub fn with_api_token(mut self, token: Option<SecretSource>) -> Self {
        self.api_token = token;
        self
    }

    /// Serves the JSON API and the status page from `board`.
    #[must_use]
    pub fn with_board(mut self, board: Arc<burnwatch_engine::Board>) -> Self {
        self.board = Some(board);
        self.rescrape();
        self
    }

    /// Encodes `registry`, the one holding the board's collector (the SLO series), apart from
    /// the self-metrics: once per board version, and in the background when that is slow (see
    /// [`crate::scrape`]). Without it the board's collector is in the main registry.
    #[must_use]
    pub fn with_slo_metrics(mut self, registry: Arc<Registry>) -> Self {
        self.slo_metrics = Some(registry);
        self.rescrape();
        self
    }

    fn rescrape(&mut self) {
        self.scrape = Arc::new(Scrape::new(
            Arc::clone(&self.registry),
            self.board.clone(),
            self.slo_metrics.clone(),
        ));
    }

    /// Serves `POST /-/reload` by sending requests to `reload`.
    #[must_use]
    pub fn with_reload(mut self, reload: tokio::sync::mpsc::Sender<ReloadRequest>) -> Self {
        self.reload = Some(reload);
        self
    }

    /// Requires `Authorization: Bearer <token>` on `POST /-/reload` (`[server]
    /// reload_token_file`); the token is read on every request, so it can rotate. Without a
    /// token only loopback peers may reload.
    #[must_use]
    pub fn with_reload_token(mut self, token: Option<SecretSource>) -> Self {
        self.reload_token = token;
        self
    }

    /// Serves under `limits` (`[server]` timeouts and caps; `max_connections` as already
    /// lowered to the open-file limit, see [`crate::connection_cap`]).
    #[must_use]
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.renders = Renders::new(limits.max_concurrent_renders);
        self.limits = limits;
        self
    }
}

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    let rendered = crate::api::routes()
        .merge(crate::page::routes())
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::renders::limit_renders,
        ));
    Router::new()
        .route("/metrics", get(crate::scrape::metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        // Prometheus' spellings, beside its /-/reload: the same answers.
        .route("/-/healthy", get(healthz))
        .route("/-/ready", get(readyz))
        .route("/-/reload", post(crate::reload::reload))
        .merge(rendered)
        .layer(from_fn(crate::headers::security_headers))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match (state.ready)() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

/// Serve until `shutdown` is cancelled, then stop accepting and finish in-flight requests.
/// The caller bounds how long draining may take.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let limits = state.limits;
    crate::serve::serve_app(listener, router(state), limits, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OPENMETRICS;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn readyz_follows_the_check_and_metrics_is_openmetrics() {
        let ready = Arc::new(AtomicBool::new(false));
        let check: ReadyCheck = {
            let ready = Arc::clone(&ready);
            Arc::new(move || {
                if ready.load(Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err("backfill: 2 SLOs pending".into())
                }
            })
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(serve(
            listener,
            AppState::new(Arc::new(Registry::default()), check),
            shutdown.clone(),
        ));
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("http://{addr}{path}")).send();

        for path in ["/readyz", "/-/ready"] {
            let response = get(path).await.unwrap();
            assert_eq!(response.status(), 503, "{path}");
            let body = response.text().await.unwrap();
            assert_eq!(body, "not ready: backfill: 2 SLOs pending\n", "{path}");
        }
        // Healthy while not ready: the process lives, it only has no figures yet.
        for path in ["/healthz", "/-/healthy"] {
            let response = get(path).await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.text().await.unwrap(), "ok\n", "{path}");
        }
        ready.store(true, Ordering::SeqCst);
        for path in ["/readyz", "/-/ready"] {
            let response = get(path).await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.text().await.unwrap(), "ready\n", "{path}");
        }
        let metrics = get("/metrics").await.unwrap();
        assert_eq!(metrics.headers()["content-type"], OPENMETRICS);
        assert!(metrics.text().await.unwrap().ends_with("# EOF\n"));

        shutdown.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}
