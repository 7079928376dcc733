//! A bound on pages and API answers rendered or being sent at once (`[server]
//! max_concurrent_renders`). A permit is held until the answer's last byte is sent, so slow
//! readers cannot pile up rendered bodies in memory; `/metrics` is not counted (its encoding
//! is shared, see [`crate::scrape`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::AppState;
use crate::hold::Hold;

/// How long a request waits for a render permit before it is told to come back.
const WAIT: Duration = Duration::from_secs(5);

/// Permits for renders.
#[derive(Clone)]
pub(crate) struct Renders(Arc<Semaphore>);

impl Renders {
    pub(crate) fn new(permits: usize) -> Self {
        Renders(Arc::new(Semaphore::new(permits.max(1))))
    }
}

/// Runs the handler under a permit that its response body keeps until sent; 503 with
/// `Retry-After` when none frees up in time.
pub(crate) async fn limit_renders(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let semaphore = Arc::clone(&state.renders.0);
    let Ok(Ok(permit)) = tokio::time::timeout(WAIT, semaphore.acquire_owned()).await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "too many pages and API answers are being sent; retry in a second\n",
        )
            .into_response();
    };
    next.run(request).await.map(|body| Hold::body(body, permit))
}
