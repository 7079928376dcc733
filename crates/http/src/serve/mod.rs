//! The accept loop: every connection served by hyper under its phase deadlines (see
//! [`connection`]), at most `max_connections` at once, request bodies capped.
//!
//! At the cap a new connection is admitted by closing the connection that has waited longest
//! without a request in progress (idle, or still sending its headers): idle and half-open
//! connections cannot lock out a scraper. When every connection is busy, the new one is closed.

mod connection;
mod files;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use burnwatch_spec::ServerLimits;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::hold::Hold;
use connection::{BusyGuard, Conn, Phase, Watched};
pub use files::connection_cap;

/// The largest request head: enough for any scraper or browser, small enough that hundreds
/// of half-sent heads stay a few megabytes.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The largest request body. Nothing served here reads one; `POST /-/reload` takes none.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The connections being served, for the cap.
struct Connections {
    cap: usize,
    next: Mutex<(u64, HashMap<u64, Arc<Conn>>)>,
}

/// A connection's place; gives it up when dropped.
struct Slot<'a> {
    connections: &'a Arc<Connections>,
    id: u64,
}

impl Connections {
    /// A place for a new connection, closing the longest-waiting connection without a request
    /// in progress when at the cap; None when every connection is busy.
    fn admit(self: &Arc<Self>) -> Option<(u64, Arc<Conn>)> {
        let mut guard = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let (next, open) = &mut *guard;
        if open.len() >= self.cap {
            let victim = open
                .iter()
                .map(|(id, conn)| (*id, conn.phase()))
                .filter(|(_, (phase, _))| *phase != Phase::Busy)
                .min_by_key(|(_, (_, since))| *since)
                .map(|(id, _)| id)?;
            if let Some(conn) = open.remove(&victim) {
                conn.evicted.cancel();
            }
        }
        *next += 1;
        let conn = Arc::new(Conn::new());
        open.insert(*next, Arc::clone(&conn));
        Some((*next, conn))
    }

    fn release(&self, id: u64) {
        let mut guard = self.next.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.remove(&id);
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.connections.release(self.id);
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown` is cancelled, then stops
/// accepting, lets in-flight requests finish and returns. The caller bounds how long draining
/// may take.
pub async fn serve_app(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let connections = Arc::new(Connections {
        cap: limits.max_connections.max(1),
        next: Mutex::new((0, HashMap::new())),
    });
    let mut http = http1::Builder::new();
    // Deadlines are the watchdog's, per phase; hyper's own header timer would also count the
    // idle time between requests.
    http.header_read_timeout(None)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(MAX_HEADER_BYTES.max(8192) * 2)
        .max_headers(100);
    let tracker = TaskTracker::new();
    let mut refused_logged = false;
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // EMFILE and the like: the cap is meant to prevent it; back off and go on.
                    tracing::warn!(error = %err, "accepting a connection failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some((id, conn)) = connections.admit() else {
            if !refused_logged {
                tracing::warn!(
                    cap = connections.cap,
                    "every connection is busy; new connections are closed until one finishes \
                     ([server] max_connections)"
                );
                refused_logged = true;
            }
            drop(stream);
            continue;
        };
        refused_logged = false;
        let _ = stream.set_nodelay(true);
        let (app, http, connections, shutdown) = (
            app.clone(),
            http.clone(),
            Arc::clone(&connections),
            shutdown.clone(),
        );
        tracker.spawn(async move {
            let _slot = Slot {
                connections: &connections,
                id,
            };
            serve_connection(stream, peer, app, http, conn, limits, shutdown).await;
        });
    }
    tracker.close();
    tracker.wait().await;
    Ok(())
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    http: http1::Builder,
    conn: Arc<Conn>,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    let io = TokioIo::new(Watched::new(stream, Arc::clone(&conn)));
    let service = {
        let conn = Arc::clone(&conn);
        hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
            let (app, conn) = (app.clone(), Arc::clone(&conn));
            async move {
                conn.busy();
                let response = respond(app, request, peer).await;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| Hold::body(body, BusyGuard(conn))),
                )
            }
        })
    };
    let served = http.serve_connection(io, service);
    tokio::pin!(served);
    let expired = conn.expired(&limits);
    tokio::pin!(expired);
    tokio::select! {
        _ = &mut served => {}
        phase = &mut expired => tracing::debug!(%peer, ?phase, "connection timed out; closed"),
        () = conn.evicted.cancelled() => tracing::debug!(%peer, "connection closed to admit a new one"),
        () = shutdown.cancelled() => {
            served.as_mut().graceful_shutdown();
            tokio::select! {
                _ = &mut served => {}
                _ = &mut expired => {}
            }
        }
    }
}

/// The app's answer, with the peer known to handlers and the body capped.
async fn respond(
    app: Router,
    request: Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request bodies are limited to {MAX_BODY_BYTES} bytes\n"),
        )
            .into_response();
    }
    let mut request =
        request.map(|body| Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES)));
    request.extensions_mut().insert(ConnectInfo(peer));
    match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
