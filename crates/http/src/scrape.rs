//! `/metrics`: encoded once and shared by every scraper asking meanwhile (single flight), kept
//! while the board is unchanged for up to a second (so self-metrics stay current), and
//! compressed once per encoding for scrapers that accept gzip (Prometheus does). Concurrent
//! and slow scrapers all send the same bytes: memory does not grow with their number.
//!
//! With the board's collector in a registry of its own ([`crate::AppState::with_slo_metrics`]),
//! its part (all but a few lines of the body at scale) is encoded and compressed once per board
//! version, and only the small self-metrics part is encoded per scrape. When encoding the board
//! takes long (100,000 instances: seconds), a scrape after a tick is served the previous board
//! part at once and a fresh one is encoded in the background, so a scrape never waits for it.
//! The compressed body is one gzip stream: the board part as raw deflate ending on a sync flush,
//! then the rest compressed on its own, with the CRC of both combined.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use burnwatch_engine::Board;
use bytes::{Bytes, BytesMut};
use prometheus_client::registry::Registry;
use tokio::sync::{Mutex, OnceCell};

use crate::AppState;

/// The OpenMetrics content type prometheus-client produces.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long an encoding is served while the board is unchanged: the self-metrics (request
/// counters, backend up) change without the board, and a scrape must see them.
const FRESH: Duration = Duration::from_secs(1);

/// A board part whose encoding took longer than this is refreshed in the background while the
/// previous one is served.
const SLOW: Duration = Duration::from_millis(100);

/// A board part's plain text is kept only up to this size; beyond it (tens of thousands of
/// instances) only the compressed form is kept, and the rare scraper that does not take gzip
/// gets it decompressed.
const KEEP_PLAIN: usize = 64 << 20;

/// The board's part of the body, for one board version.
struct Part {
    board_version: u64,
    /// The text, unless larger than [`KEEP_PLAIN`].
    plain: Option<Bytes>,
    /// Raw deflate of the text, ending on a sync flush (byte-aligned, no final block).
    deflate: Bytes,
    /// CRC-32 of the text.
    crc: crc32fast::Hasher,
    /// Length of the text.
    len: u64,
    took: Duration,
}

/// The newest encoding and what it was made from.
pub(crate) struct Scrape {
    registry: Arc<Registry>,
    board: Option<Arc<Board>>,
    /// The board's collector, when it is apart from `registry`.
    slos: Option<Arc<Registry>>,
    part: Mutex<Option<Arc<Part>>>,
    refreshing: AtomicBool,
    latest: Mutex<Option<Arc<Encoded>>>,
}

struct Encoded {
    board_version: Option<u64>,
    at: Instant,
    part: Option<Arc<Part>>,
    /// The rest of the body (the whole body without a board part), `# EOF` included.
    rest: Bytes,
    /// The whole body, made once and shared by every plain scraper of this encoding.
    plain: OnceCell<Bytes>,
    gzip: OnceCell<Bytes>,
}

impl Scrape {
    pub(crate) fn new(
        registry: Arc<Registry>,
        board: Option<Arc<Board>>,
        slos: Option<Arc<Registry>>,
    ) -> Self {
        Scrape {
            registry,
            board,
            slos,
            part: Mutex::new(None),
            refreshing: AtomicBool::new(false),
            latest: Mutex::new(None),
        }
    }

    /// The current encoding: the cached one if still fresh, else a new one. Callers arriving
    /// while one is made wait for it rather than make their own.
    async fn current(self: &Arc<Self>) -> Result<Arc<Encoded>, String> {
        let part = self.board_part().await?;
        let mut latest = self.latest.lock().await;
        let board_version = match &part {
            Some(part) => Some(part.board_version),
            None => self.board.as_ref().map(|b| b.version()),
        };
        if let Some(encoded) = latest.as_ref()
            && encoded.board_version == board_version
            && encoded.at.elapsed() < FRESH
        {
            return Ok(Arc::clone(encoded));
        }
        let at = Instant::now();
        let registry = Arc::clone(&self.registry);
        let with_eof = part.is_some();
        // Room for the last size and some growth: a body of megabytes built by doubling would
        // allocate and copy it several times over.
        let capacity = latest
            .as_ref()
            .map_or(1 << 16, |e| e.rest.len() + e.rest.len() / 8 + (1 << 12));
        // Encoding thousands of instances takes milliseconds of CPU: off the async workers.
        let rest = tokio::task::spawn_blocking(move || {
            let mut body = String::with_capacity(capacity);
            if with_eof {
                prometheus_client::encoding::text::encode_registry(&mut body, &registry)?;
                prometheus_client::encoding::text::encode_eof(&mut body)?;
            } else {
                prometheus_client::encoding::text::encode(&mut body, &registry)?;
            }
            Ok::<String, std::fmt::Error>(body)
        })
        .await
        .map_err(|err| err.to_string())?
        .map_err(|err| err.to_string())?;
        let encoded = Arc::new(Encoded {
            board_version,
            at,
            part,
            rest: Bytes::from(rest),
            plain: OnceCell::new(),
            gzip: OnceCell::new(),
        });
        *latest = Some(Arc::clone(&encoded));
        Ok(encoded)
    }

    /// The board's part for the current board version, or (when encoding it is slow) the
    /// newest one while a fresh one is made in the background. `None` without a registry of
    /// the board's own.
    async fn board_part(self: &Arc<Self>) -> Result<Option<Arc<Part>>, String> {
        let (Some(_), Some(board)) = (&self.slos, &self.board) else {
            return Ok(None);
        };
        let version = board.version();
        let mut cached = self.part.lock().await;
        if let Some(part) = cached.as_ref() {
            if part.board_version == version {
                return Ok(Some(Arc::clone(part)));
            }
            if part.took > SLOW {
                if !self.refreshing.swap(true, Ordering::AcqRel) {
                    let scrape = Arc::clone(self);
                    tokio::spawn(async move {
                        match encode_part(&scrape, version).await {
                            Ok(part) => *scrape.part.lock().await = Some(part),
                            Err(err) => tracing::error!(error = %err, "encoding /metrics failed"),
                        }
                        scrape.refreshing.store(false, Ordering::Release);
                    });
                }
                return Ok(Some(Arc::clone(part)));
            }
        }
        let part = encode_part(self, version).await?;
        *cached = Some(Arc::clone(&part));
        Ok(Some(part))
    }
}

/// Encodes and compresses the board's part as of `version` (read just before: a publish
/// meanwhile makes the next scrape encode again).
async fn encode_part(scrape: &Arc<Scrape>, version: u64) -> Result<Arc<Part>, String> {
    let slos = Arc::clone(scrape.slos.as_ref().expect("a board registry"));
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut sink = Sink::new();
        let encoded = prometheus_client::encoding::text::encode_registry(&mut sink, &slos);
        let mut part = sink.finish(encoded, version)?;
        part.took = started.elapsed();
        Ok(Arc::new(part))
    })
    .await
    .map_err(|err| err.to_string())?
}

/// Text compressed as it is encoded, a buffer at a time: at 100,000 instances the board's text
/// is some 600 MB, which never sits in memory whole.
struct Sink {
    /// Text not yet compressed.
    buffer: String,
    /// All the text, while it stays within [`KEEP_PLAIN`].
    plain: Option<String>,
    crc: crc32fast::Hasher,
    len: u64,
    deflate: flate2::write::DeflateEncoder<Vec<u8>>,
    failed: Option<std::io::Error>,
}

/// Text compressed at a time.
const SINK_BUFFER: usize = 256 << 10;

impl Sink {
    fn new() -> Self {
        Sink {
            buffer: String::with_capacity(SINK_BUFFER),
            plain: Some(String::new()),
            crc: crc32fast::Hasher::new(),
            len: 0,
            // The fastest level: metrics text compresses about tenfold even so.
            deflate: flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast()),
            failed: None,
        }
    }

    fn drain(&mut self) -> std::fmt::Result {
        let text = &self.buffer;
        self.crc.update(text.as_bytes());
        self.len += text.len() as u64;
        if let Some(plain) = &mut self.plain {
            if plain.len() + text.len() <= KEEP_PLAIN {
                plain.push_str(text);
            } else {
                self.plain = None;
            }
        }
        if let Err(err) = self.deflate.write_all(text.as_bytes()) {
            self.failed = Some(err);
            return Err(std::fmt::Error);
        }
        self.buffer.clear();
        Ok(())
    }

    /// The part: the text (when kept), its raw deflate ending on a sync flush (not finished:
    /// the stream goes on with the rest of the body, see `Encoded::gzip`), its CRC and length.
    fn finish(mut self, encoded: std::fmt::Result, version: u64) -> Result<Part, String> {
        let flushed = encoded
            .and_then(|()| self.drain())
            .map_err(|_| match self.failed.take() {
                Some(err) => err.to_string(),
                None => "the metrics text does not encode".to_string(),
            })
            .and_then(|()| self.deflate.flush().map_err(|err| err.to_string()));
        flushed?;
        let deflate = std::mem::take(self.deflate.get_mut());
        Ok(Part {
            board_version: version,
            plain: self.plain.map(Bytes::from),
            deflate: Bytes::from(deflate),
            crc: self.crc,
            len: self.len,
            took: Duration::ZERO,
        })
    }
}

impl std::fmt::Write for Sink {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.buffer.push_str(text);
        if self.buffer.len() >= SINK_BUFFER {
            self.drain()?;
        }
        Ok(())
    }
}

impl Encoded {
    async fn gzip(&self) -> Result<Bytes, String> {
        self.gzip
            .get_or_try_init(|| async {
                let part = self.part.clone();
                let rest = self.rest.clone();
                tokio::task::spawn_blocking(move || gzip(part.as_deref(), &rest))
                    .await
                    .map_err(|err| err.to_string())?
                    .map_err(|err| err.to_string())
            })
            .await
            .cloned()
    }

    /// The uncompressed body.
    async fn plain(&self) -> Result<Bytes, String> {
        let Some(part) = &self.part else {
            return Ok(self.rest.clone());
        };
        self.plain
            .get_or_try_init(|| self.join_plain(part))
            .await
            .cloned()
    }

    async fn join_plain(&self, part: &Part) -> Result<Bytes, String> {
        let text = match &part.plain {
            Some(text) => text.clone(),
            None => {
                let deflate = part.deflate.clone();
                tokio::task::spawn_blocking(move || {
                    let mut text = Vec::new();
                    // The part ends on a sync flush: an empty final block (`03 00`) ends it.
                    let ended = std::io::Read::chain(&deflate[..], &[0x03u8, 0x00][..]);
                    let mut decoder = flate2::read::DeflateDecoder::new(ended);
                    std::io::Read::read_to_end(&mut decoder, &mut text).map(|_| Bytes::from(text))
                })
                .await
                .map_err(|err| err.to_string())?
                .map_err(|err| err.to_string())?
            }
        };
        let mut body = BytesMut::with_capacity(text.len() + self.rest.len());
        body.extend_from_slice(&text);
        body.extend_from_slice(&self.rest);
        Ok(body.freeze())
    }
}

/// One gzip stream of the board part (already deflated) and `rest`: header, the part's deflate,
/// the rest's own deflate (a fresh compressor never refers back into the part, and the part
/// ends byte-aligned without a final block), and the CRC and length of both.
fn gzip(part: Option<&Part>, rest: &[u8]) -> std::io::Result<Bytes> {
    let Some(part) = part else {
        // The fastest level: metrics text compresses about tenfold even so, for a fraction of
        // the CPU of the default.
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(rest.len() / 8),
            flate2::Compression::fast(),
        );
        encoder.write_all(rest)?;
        return Ok(Bytes::from(encoder.finish()?));
    };
    let mut encoder = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(rest.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    encoder.write_all(rest)?;
    let tail = encoder.finish()?;
    let mut crc = part.crc.clone();
    crc.update(rest);
    // ISIZE: the length modulo 2^32 (RFC 1952).
    let len = (part.len + rest.len() as u64) as u32;
    let mut body = BytesMut::with_capacity(10 + part.deflate.len() + tail.len() + 8);
    // ID1 ID2, deflate, no flags, no time, no extra flags, OS unknown (RFC 1952).
    body.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    body.extend_from_slice(&part.deflate);
    body.extend_from_slice(&tail);
    body.extend_from_slice(&crc.finalize().to_le_bytes());
    body.extend_from_slice(&len.to_le_bytes());
    Ok(body.freeze())
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
        return match encoded.plain().await {
            Ok(body) => ([content_type, vary], body).into_response(),
            Err(err) => failed(&err),
        };
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
            None,
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
        assert_eq!(text.as_bytes(), &after.plain().await.unwrap()[..]);
    }

    fn gunzip(body: &[u8]) -> String {
        let mut decoder = flate2::read::GzDecoder::new(body);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut decoder, &mut text).unwrap();
        text
    }

    /// A board with `n` published instances.
    fn board_of(n: usize) -> Arc<Board> {
        let board = Arc::new(Board::new());
        for i in 0..n {
            crate::collector::tests::publish_test_instance(&board, &format!("svc-{i}"));
        }
        board
    }

    #[test]
    fn the_sink_compresses_text_larger_than_its_buffer_exactly() {
        use std::fmt::Write as _;
        let mut sink = Sink::new();
        let mut text = String::new();
        for i in 0..40_000 {
            let line = format!("slo:sli_error:ratio_rate5m{{service=\"svc-{i}\"}} 0.{i}\n");
            text.push_str(&line);
            sink.write_str(&line).unwrap();
        }
        assert!(
            text.len() > 4 * SINK_BUFFER,
            "several buffers: {}",
            text.len()
        );
        let part = sink.finish(Ok(()), 7).unwrap();
        assert_eq!(part.plain.as_deref(), Some(text.as_bytes()));
        assert_eq!(part.len, text.len() as u64);
        let mut crc = crc32fast::Hasher::new();
        crc.update(text.as_bytes());
        assert_eq!(part.crc.finalize(), crc.finalize());
        // The part ends on a sync flush: an empty final block ends the stream.
        let ended = std::io::Read::chain(&part.deflate[..], &[0x03u8, 0x00][..]);
        let mut back = String::new();
        std::io::Read::read_to_string(&mut flate2::read::DeflateDecoder::new(ended), &mut back)
            .unwrap();
        assert_eq!(back, text);
    }

    #[tokio::test]
    async fn the_board_part_is_encoded_apart_and_the_gzip_is_one_stream_of_both() {
        let board = board_of(3);
        let mut slos = Registry::default();
        slos.register_collector(Box::new(crate::collector::SloCollector::new(Arc::clone(
            &board,
        ))));
        let mut own = Registry::default();
        let counter: prometheus_client::metrics::counter::Counter = Default::default();
        own.register("burnwatch_test", "A self-metric.", counter.clone());
        let scrape = Arc::new(Scrape::new(
            Arc::new(own),
            Some(Arc::clone(&board)),
            Some(Arc::new(slos)),
        ));
        let first = scrape.current().await.unwrap();
        let plain = String::from_utf8(first.plain().await.unwrap().to_vec()).unwrap();
        // Both parts, one `# EOF` at the very end, and gzip decodes to the same text (a
        // decoder reading only a first member would stop short).
        assert!(plain.contains("slo:objective:ratio{"), "{plain}");
        assert!(plain.contains("burnwatch_test_total 0"), "{plain}");
        assert!(plain.ends_with("# EOF\n"));
        assert_eq!(plain.matches("# EOF").count(), 1);
        assert_eq!(gunzip(&first.gzip().await.unwrap()), plain);
        // The self-metrics move without the board: after FRESH the part is reused, the rest
        // encoded again.
        counter.inc();
        tokio::time::sleep(FRESH + Duration::from_millis(50)).await;
        let second = scrape.current().await.unwrap();
        assert!(Arc::ptr_eq(
            first.part.as_ref().unwrap(),
            second.part.as_ref().unwrap()
        ));
        let text = gunzip(&second.gzip().await.unwrap());
        assert!(text.contains("burnwatch_test_total 1"), "{text}");
        // A slow board part is served stale once and refreshed in the background.
        let stale = Arc::clone(second.part.as_ref().unwrap());
        *scrape.part.lock().await = Some(Arc::new(Part {
            took: Duration::from_secs(5),
            plain: stale.plain.clone(),
            deflate: stale.deflate.clone(),
            crc: stale.crc.clone(),
            len: stale.len,
            board_version: stale.board_version,
        }));
        crate::collector::tests::publish_test_instance(&board, "new");
        let served = scrape.current().await.unwrap();
        assert!(!gunzip(&served.gzip().await.unwrap()).contains(r#"sloth_service="new""#));
        // A part kept only compressed (past KEEP_PLAIN) is decompressed for plain scrapers.
        let compressed_only = Encoded {
            board_version: None,
            at: Instant::now(),
            part: Some(Arc::new(Part {
                plain: None,
                deflate: stale.deflate.clone(),
                crc: stale.crc.clone(),
                len: stale.len,
                board_version: stale.board_version,
                took: stale.took,
            })),
            rest: served.rest.clone(),
            plain: OnceCell::new(),
            gzip: OnceCell::new(),
        };
        assert_eq!(
            compressed_only.plain().await.unwrap(),
            served.plain().await.unwrap()
        );
        for _ in 0..100 {
            if scrape.part.lock().await.as_ref().unwrap().board_version == board.version() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(FRESH).await;
        let fresh = scrape.current().await.unwrap();
        assert!(gunzip(&fresh.gzip().await.unwrap()).contains(r#"sloth_service="new""#));
    }
}
