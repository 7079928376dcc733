//! The axum server: `/metrics`, `/healthz`, `/readyz`, `/-/reload`, and with a board the JSON
//! API (`/api/v1`, see [`crate::api`]) and the status page (`/`, see [`crate::page`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use burnwatch_spec::SecretSource;
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
    reload_token: Option<SecretSource>,
    pub(crate) board: Option<Arc<burnwatch_engine::Board>>,
}

impl AppState {
    /// State over the process registry and a readiness check.
    pub fn new(registry: Arc<Registry>, ready: ReadyCheck) -> Self {
        Self {
            registry,
            ready,
            reload: None,
            reload_token: None,
            board: None,
        }
    }

    /// Serves the JSON API and the status page from `board`.
    #[must_use]
    pub fn with_board(mut self, board: Arc<burnwatch_engine::Board>) -> Self {
        self.board = Some(board);
        self
    }

    /// Serves `POST /-/reload` by sending requests to `reload`.
    #[must_use]
    pub fn with_reload(mut self, reload: tokio::sync::mpsc::Sender<ReloadRequest>) -> Self {
        self.reload = Some(reload);
        self
    }

    /// Requires `Authorization: Bearer <token>` on `POST /-/reload` (`[server]
    /// reload_token_file`); the token is read on every request, so it can rotate.
    #[must_use]
    pub fn with_reload_token(mut self, token: Option<SecretSource>) -> Self {
        self.reload_token = token;
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
        .merge(crate::api::routes())
        .merge(crate::page::routes())
        .with_state(state)
}

/// `POST /-/reload`, as Prometheus has it: 200 with a summary, 400 with every problem of an
/// invalid file (the previous configuration keeps running), 503 while shutting down.
async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(reload) = state.reload else {
        return (StatusCode::NOT_FOUND, "reload is not enabled\n").into_response();
    };
    if let Some(token) = &state.reload_token
        && let Some(refusal) = refusal(token, &headers)
    {
        return refusal;
    }
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

/// Checks the bearer token: `None` when it is right, else the refusal, which says what is wrong
/// but never echoes a token.
fn refusal(token: &SecretSource, headers: &HeaderMap) -> Option<Response> {
    let want = match token.reveal() {
        Ok(want) if !want.is_empty() => want,
        Ok(_) | Err(_) => {
            // Fail closed: an unreadable or empty token file must not open the endpoint.
            tracing::error!(
                "POST /-/reload refused: the reload token file ([server] reload_token_file) \
                 is unreadable or empty"
            );
            return Some(
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the reload token file is unreadable or empty; see the log\n",
                )
                    .into_response(),
            );
        }
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match given {
        Some(given) if same(given.trim().as_bytes(), want.as_bytes()) => None,
        _ => Some(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "POST /-/reload needs Authorization: Bearer <the token in [server] reload_token_file>\n",
            )
                .into_response(),
        ),
    }
}

/// Equality in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

    #[tokio::test]
    async fn reload_needs_the_bearer_token_from_the_file_read_on_every_request() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("reload-token");
        std::fs::write(&file, "first-token\n").unwrap();
        let (reload, mut requests) = tokio::sync::mpsc::channel::<ReloadRequest>(4);
        let answered = tokio::spawn(async move {
            let mut count = 0;
            while let Some(answer) = requests.recv().await {
                count += 1;
                let _ = answer.send(Ok(format!("reload {count}")));
            }
            count
        });
        let state = AppState::new(Arc::new(Registry::default()), Arc::new(|| Ok(())))
            .with_reload(reload)
            .with_reload_token(Some(SecretSource::File(file.clone())));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(serve(listener, state, shutdown.clone()));
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let post = |token: Option<&str>| {
            let request = client.post(format!("http://{addr}/-/reload"));
            match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            }
            .send()
        };

        let refused = post(None).await.unwrap();
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.headers()["www-authenticate"], "Bearer");
        assert_eq!(post(Some("wrong-token")).await.unwrap().status(), 401);
        assert_eq!(post(Some("first-toke")).await.unwrap().status(), 401);
        let accepted = post(Some("first-token")).await.unwrap();
        assert_eq!(accepted.status(), 200);
        assert_eq!(accepted.text().await.unwrap(), "reload 1\n");

        // Rotated: the old token stops working at once.
        std::fs::write(&file, "second-token").unwrap();
        assert_eq!(post(Some("first-token")).await.unwrap().status(), 401);
        assert_eq!(post(Some("second-token")).await.unwrap().status(), 200);

        // Gone or empty: closed, never open.
        std::fs::write(&file, "  \n").unwrap();
        assert_eq!(post(Some("")).await.unwrap().status(), 503);
        std::fs::remove_file(&file).unwrap();
        let closed = post(Some("second-token")).await.unwrap();
        assert_eq!(closed.status(), 503);
        assert!(!closed.text().await.unwrap().contains("second-token"));

        shutdown.cancel();
        server.await.unwrap().unwrap();
        drop(client);
        // Only the two authorised requests reached the daemon.
        assert_eq!(answered.await.unwrap(), 2);
    }
}
