//! One connection's life: which phase it is in, the deadline of that phase, and the watchdog
//! that closes it when the deadline passes.
//!
//! - `Head`: from accept, or from the first byte after a response, until the request's headers
//!   are read: `read_header_timeout` (a slowloris never leaves it);
//! - `Busy`: from the headers until the response's last byte is sent: `request_timeout` (a
//!   slow reader);
//! - `Idle`: kept alive between requests: `idle_timeout`.
//!
//! Idle and head-reading connections are the ones [`super::Connections`] may close to admit a
//! new one when the cap is reached; a busy one is never cut off for that.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use burnwatch_spec::ServerLimits;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Reading a request's headers.
    Head,
    /// Serving a request.
    Busy,
    /// Waiting for the next request.
    Idle,
}

/// A connection's phase, shared by its IO, its service and its watchdog.
pub(crate) struct Conn {
    state: Mutex<(Phase, Instant)>,
    changed: Notify,
    /// Cancelled to close the connection (to make room for a new one).
    pub(crate) evicted: CancellationToken,
}

impl Conn {
    /// A connection just accepted: its first request's headers are due.
    pub(crate) fn new() -> Self {
        Conn {
            state: Mutex::new((Phase::Head, Instant::now())),
            changed: Notify::new(),
            evicted: CancellationToken::new(),
        }
    }

    /// The phase and since when.
    pub(crate) fn phase(&self) -> (Phase, Instant) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, phase: Phase, only_from: Option<Phase>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if only_from.is_some_and(|from| state.0 != from) {
            return;
        }
        *state = (phase, Instant::now());
        drop(state);
        self.changed.notify_one();
    }

    /// The request's headers are read: it is being served.
    pub(crate) fn busy(&self) {
        self.set(Phase::Busy, None);
    }

    /// The response is sent (or abandoned): waiting for the next request.
    pub(crate) fn idle(&self) {
        self.set(Phase::Idle, Some(Phase::Busy));
    }

    /// Bytes arrived: if it was idle, a request's headers are now due.
    fn received(&self) {
        if self.phase().0 == Phase::Idle {
            self.set(Phase::Head, Some(Phase::Idle));
        }
    }

    /// Returns when the current phase has lasted longer than `limits` allow, with that phase.
    pub(crate) async fn expired(&self, limits: &ServerLimits) -> Phase {
        loop {
            let (phase, since) = self.phase();
            let limit = match phase {
                Phase::Head => limits.read_header_timeout,
                Phase::Busy => limits.request_timeout,
                Phase::Idle => limits.idle_timeout,
            };
            tokio::select! {
                () = tokio::time::sleep_until(since + limit) => {
                    if self.phase() == (phase, since) {
                        return phase;
                    }
                }
                () = self.changed.notified() => {}
            }
        }
    }
}

/// Marks its connection idle when dropped: with the response body, once sent or abandoned.
pub(crate) struct BusyGuard(pub(crate) std::sync::Arc<Conn>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.idle();
    }
}

/// The socket, telling its [`Conn`] when bytes arrive.
pub(crate) struct Watched {
    stream: TcpStream,
    conn: std::sync::Arc<Conn>,
}

impl Watched {
    pub(crate) fn new(stream: TcpStream, conn: std::sync::Arc<Conn>) -> Self {
        Watched { stream, conn }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.conn.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        // hyper then queues large bodies (a shared /metrics) instead of copying them.
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits() -> ServerLimits {
        ServerLimits {
            read_header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(60),
            ..ServerLimits::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_phase_has_its_own_deadline() {
        let conn = std::sync::Arc::new(Conn::new());
        let started = Instant::now();
        assert_eq!(conn.expired(&limits()).await, Phase::Head);
        assert_eq!(started.elapsed(), Duration::from_secs(10));

        let conn = std::sync::Arc::new(Conn::new());
        conn.busy();
        let started = Instant::now();
        let watch = {
            let conn = std::sync::Arc::clone(&conn);
            tokio::spawn(async move { conn.expired(&limits()).await })
        };
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(BusyGuard(std::sync::Arc::clone(&conn)));
        assert_eq!(watch.await.unwrap(), Phase::Idle);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(150),
            "30 s busy, then 120 s idle"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_byte_after_idling_starts_the_header_clock() {
        let conn = std::sync::Arc::new(Conn::new());
        conn.busy();
        conn.idle();
        tokio::time::sleep(Duration::from_secs(100)).await;
        conn.received();
        let started = Instant::now();
        assert_eq!(conn.expired(&limits()).await, Phase::Head);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }
}
