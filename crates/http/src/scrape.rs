//! `/metrics`: encoded once and shared by every scraper asking meanwhile (single flight), kept
//! while the board is unchanged for up to a second (so self-metrics stay current), and
//! compressed once per encoding for scrapers that accept gzip (Prometheus does). Concurrent
//! and slow scrapers all send the same bytes: memory does not grow with their number.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use burnwatch_engine::Board;
use bytes::Bytes;
use prometheus_client::registry::Registry;
use tokio::sync::{Mutex, OnceCell};

use crate::AppState;

/// The OpenMetrics content type prometheus-client produces.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long an encoding is served while the board is unchanged: the self-metrics (request
/// counters, backend up) change without the board, and a scrape must see them.
const FRESH: Duration = Duration::from_secs(1);

/// The newest encoding and what it was made from.
pub(crate) struct Scrape {
    registry: Arc<Registry>,
    board: Option<Arc<Board>>,
    latest: Mutex<Option<Arc<Encoded>>>,
}

struct Encoded {
    board_version: Option<u64>,
    at: Instant,
    plain: Bytes,
    gzip: OnceCell<Bytes>,
}

impl Scrape {
    pub(crate) fn new(registry: Arc<Registry>, board: Option<Arc<Board>>) -> Self {
        Scrape {
            registry,
            board,
            latest: Mutex::new(None),
        }
    }

    /// The current encoding: the cached one if still fresh, else a new one. Callers arriving
    /// while one is made wait for it rather than make their own.
    async fn current(&self) -> Result<Arc<Encoded>, String> {
        let mut latest = self.latest.lock().await;
        let board_version = self.board.as_ref().map(|b| b.version());
        if let Some(encoded) = latest.as_ref()
            && encoded.board_version == board_version
            && encoded.at.elapsed() < FRESH
        {
            return Ok(Arc::clone(encoded));
        }
        let at = Instant::now();
        let registry = Arc::clone(&self.registry);
        // Room for the last size and some growth: a body of megabytes built by doubling would
        // allocate and copy it several times over.
        let capacity = latest
            .as_ref()
            .map_or(1 << 16, |e| e.plain.len() + e.plain.len() / 8 + (1 << 12));
        // Encoding thousands of instances takes milliseconds of CPU: off the async workers.
        let plain = tokio::task::spawn_blocking(move || {
            let mut body = String::with_capacity(capacity);
            prometheus_client::encoding::text::encode(&mut body, &registry).map(|()| body)
        })
        .await
        .map_err(|err| err.to_string())?
        .map_err(|err| err.to_string())?;
        let encoded = Arc::new(Encoded {
            board_version,
            at,
            plain: Bytes::from(plain),
            gzip: OnceCell::new(),
        });
        *latest = Some(Arc::clone(&encoded));
        Ok(encoded)
    }
}

impl Encoded {
    async fn gzip(&self) -> Result<Bytes, String> {
        self.gzip
            .get_or_try_init(|| async {
                let plain = self.plain.clone();
                tokio::task::spawn_blocking(move || gzip(&plain))
                    .await
                    .map_err(|err| err.to_string())?
                    .map_err(|err| err.to_string())
            })
            .await
            .cloned()
    }
}

fn gzip(plain: &[u8]) -> std::io::Result<Bytes> {
    // The fastest level: metrics text compresses about tenfold even so, for a fraction of the
    // CPU of the default.
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(plain.len() / 8),
        flate2::Compression::fast(),
    );
    encoder.write_all(plain)?;
    Ok(Bytes::from(encoder.finish()?))
}

/// Whether `Accept-Encoding` accepts gzip (`gzip`, `x-gzip` or `*`, without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            !refused
                && ["gzip", "x-gzip", "*"]
                    .iter()
                    .any(|c| coding.eq_ignore_ascii_case(c))
        })
}

pub(crate) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let encoded = match state.scrape.current().await {
        Ok(encoded) => encoded,
        Err(err) => return failed(&err),
    };
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    let content_type = (header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
    if !accepts_gzip(&headers) {
        return ([content_type, vary], encoded.plain.clone()).into_response();
    }
    match encoded.gzip().await {
        Ok(body) => (
            [
                content_type,
                vary,
                (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            ],
            body,
        )
            .into_response(),
        Err(err) => failed(&err),
    }
}

fn failed(err: &str) -> Response {
    tracing::error!(error = %err, "encoding /metrics failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "encoding metrics failed\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, value.parse().unwrap());
        accepts_gzip(&headers)
    }

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        assert!(accept("gzip"));
        assert!(accept("deflate, GZIP;q=0.5"));
        assert!(accept("*"));
        assert!(!accept("gzip;q=0"));
        assert!(!accept("identity"));
        assert!(!accept("br, deflate"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn concurrent_scrapes_share_one_encoding_until_the_board_changes() {
        let board = Arc::new(Board::new());
        let scrape = Arc::new(Scrape::new(
            Arc::new(Registry::default()),
            Some(Arc::clone(&board)),
        ));
        let scrapes: Vec<_> = (0..8)
            .map(|_| {
                let scrape = Arc::clone(&scrape);
                tokio::spawn(async move { scrape.current().await.unwrap() })
            })
            .collect();
        let mut encodings = Vec::new();
        for scrape in scrapes {
            encodings.push(scrape.await.unwrap());
        }
        assert!(
            encodings.iter().all(|e| Arc::ptr_eq(e, &encodings[0])),
            "one encoding for all"
        );
        board.remove_slo("gone");
        let after = scrape.current().await.unwrap();
        assert!(
            !Arc::ptr_eq(&after, &encodings[0]),
            "a changed board re-encodes"
        );
        let compressed = after.gzip().await.unwrap();
        assert!(Arc::ptr_eq(&scrape.current().await.unwrap(), &after));
        assert_eq!(after.gzip().await.unwrap(), compressed, "compressed once");
        let mut decoder = flate2::read::GzDecoder::new(&compressed[..]);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut decoder, &mut text).unwrap();
        assert_eq!(text.as_bytes(), &after.plain[..]);
    }
}
