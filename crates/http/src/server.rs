//! The axum server: `/metrics`, `/healthz`, `/readyz`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Says whether the daemon is ready, and if not, why (e.g. "backfill: 3 SLOs pending").
pub type ReadyCheck = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A reload request: the daemon answers on the enclosed channel with what happened, or why the
/// new configuration was rejected.
pub type ReloadRequest = tokio::sync::oneshot::Sender<Result<String, String>>;

/// What the handlers need.
#[derive(Clone)]
pub struct AppState {
    registry: Arc<Registry>,
    ready: ReadyCheck,
    reload: Option<tokio::sync::mpsc::Sender<ReloadRequest>>,
}

impl AppState {
    /// State over the process registry and a readiness check.
    pub fn new(registry: Arc<Registry>, ready: ReadyCheck) -> Self {
        Self {
            registry,
            ready,
            reload: None,
        }
    }

    /// Serves `POST /-/reload` by sending requests to `reload`.
    #[must_use]
    pub fn with_reload(mut self, reload: tokio::sync::mpsc::Sender<ReloadRequest>) -> Self {
        self.reload = Some(reload);
        self
    }
}

/// The OpenMetrics content type prometheus-client produces.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/-/reload", axum::routing::post(reload))
        .with_state(state)
}

/// `POST /-/reload`, as Prometheus has it: 200 with a summary, 400 with every problem of an
/// invalid file (the previous configuration keeps running), 503 while shutting down.
async fn reload(State(state): State<AppState>) -> Response {
    let Some(reload) = state.reload else {
        return (StatusCode::NOT_FOUND, "reload is not enabled\n").into_response();
    };
    let (answer, outcome) = tokio::sync::oneshot::channel();
    if reload.send(answer).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match outcome.await {
        Ok(Ok(summary)) => (StatusCode::OK, format!("{summary}\n")).into_response(),
        Ok(Err(problems)) => (StatusCode::BAD_REQUEST, format!("{problems}\n")).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    // Encoding thousands of instances takes milliseconds of CPU: keep it off the async workers.
    let registry = Arc::clone(&state.registry);
    let encoded = tokio::task::spawn_blocking(move || {
        let mut body = String::with_capacity(1 << 16);
        prometheus_client::encoding::text::encode(&mut body, &registry).map(|()| body)
    })
    .await;
    match encoded {
        Ok(Ok(body)) => ([(header::CONTENT_TYPE, OPENMETRICS)], body).into_response(),
        Ok(Err(_)) | Err(_) => {
            tracing::error!("encoding /metrics failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "encoding metrics failed\n",
            )
                .into_response()
        }
    }
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
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
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

        let response = get("/readyz").await.unwrap();
        assert_eq!(response.status(), 503);
        assert!(response.text().await.unwrap().contains("2 SLOs pending"));
        ready.store(true, Ordering::SeqCst);
        assert_eq!(get("/readyz").await.unwrap().status(), 200);
        assert_eq!(get("/healthz").await.unwrap().status(), 200);
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
