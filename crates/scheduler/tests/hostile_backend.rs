//! What a misbehaving backend (or the proxy in front of it) can send, over a real socket:
//! HTML error pages, truncated JSON, wrong result types, endless bodies, slow drips, silence,
//! resets. Each is an error of the right kind, counted under the right `outcome`, and reading
//! stops at the size limit or the timeout, so memory and time stay bounded.
//!
//! The server here is a raw TCP fault injector, not a model of Prometheus: the real Prometheus is
//! exercised by the integration tests; no Prometheus sends these bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use burnwatch_scheduler::{BackendError, PrometheusBackend, SchedulerMetrics};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the fault injector answers every connection.
#[derive(Clone)]
enum Answer {
    /// These bytes, then close.
    Raw(Vec<u8>),
    /// A 200 with a chunked body that never ends.
    Endless,
    /// A 200 whose body arrives one byte every 100 ms, forever.
    Drip,
    /// Reads the request, then says nothing.
    Silence,
    /// Headers promising 1000 bytes, 10 of them, then a reset.
    Reset,
}

struct Injector {
    url: String,
    /// Body bytes written before the client went away (for `Endless`).
    written: Arc<AtomicUsize>,
}

async fn inject(answer: Answer) -> Injector {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let written = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&written);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer_one(socket, answer.clone(), Arc::clone(&counter)));
        }
    });
    Injector { url, written }
}

async fn answer_one(mut socket: TcpStream, answer: Answer, written: Arc<AtomicUsize>) {
    // Read the request head and form body; the content does not matter.
    let mut buf = [0u8; 8192];
    let _ = tokio::time::timeout(Duration::from_millis(200), socket.read(&mut buf)).await;
    match answer {
        Answer::Raw(bytes) => {
            let _ = socket.write_all(&bytes).await;
        }
        Answer::Endless => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let piece = format!(
                "{{\"metric\":{{\"__name__\":\"x\",\"pad\":\"{}\"}},\"value\":[1,\"1\"]}},",
                "p".repeat(900)
            );
            let chunk = format!("{:x}\r\n{piece}\r\n", piece.len());
            let start = r#"{"status":"success","data":{"resultType":"vector","result":["#;
            let _ = socket
                .write_all(format!("{:x}\r\n{start}\r\n", start.len()).as_bytes())
                .await;
            while socket.write_all(chunk.as_bytes()).await.is_ok() {
                written.fetch_add(piece.len(), Ordering::Relaxed);
            }
        }
        Answer::Drip => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            loop {
                if socket.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Answer::Silence => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Answer::Reset => {
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"status\":")
                .await;
            let _ = socket.set_zero_linger();
        }
    }
}

fn http(status: &str, content_type: &str, body: &str) -> Answer {
    Answer::Raw(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn backend(url: &str, metrics: &Arc<SchedulerMetrics>) -> PrometheusBackend {
    let text =
        format!("[backends.main]\ntype = \"prometheus\"\nurl = \"{url}\"\ntimeout = \"1s\"\n");
    let config = burnwatch_spec::parse(&text, std::path::Path::new("b.toml"), &|_| None).unwrap();
    PrometheusBackend::new(&config.backends["main"], Arc::clone(metrics)).unwrap()
}

/// Runs one instant query against `answer`; the error, and the injector.
async fn fails(answer: Answer, max_bytes: Option<usize>) -> (BackendError, Injector, u64) {
    let injector = inject(answer).await;
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let mut client = backend(&injector.url, &metrics);
    if let Some(max) = max_bytes {
        client = client.with_max_response_bytes(max);
    }
    let err = client
        .instant_query("up", 1_700_000_000_000)
        .await
        .expect_err("a hostile answer must not decode");
    let counted = metrics.requests("main", err.outcome());
    (err, injector, counted)
}

#[tokio::test]
async fn html_error_pages_are_http_errors_with_the_page_start() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    let (err, _, counted) = fails(http("502 Bad Gateway", "text/html", page), None).await;
    match &err {
        BackendError::Status { status, body } => {
            assert_eq!(*status, 502);
            assert!(body.starts_with("<html><head><title>502"), "{body}");
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    assert_eq!(err.outcome(), "http_error");
    assert!(err.is_transient(), "a 502 is worth retrying");
    assert_eq!(counted, 1);
}

/// The log shows a proxy's page start: a newline in it must not start a forged log line.
#[tokio::test]
async fn error_pages_cannot_forge_log_lines() {
    let page =
        "upstream down\n2026-01-01T00:00:00.000000Z ERROR burnwatch: forged\r\n\u{1b}[31mred";
    let (err, _, _) = fails(http("503 Service Unavailable", "text/plain", page), None).await;
    let text = err.to_string();
    assert!(!text.contains(['\n', '\r', '\u{1b}']), "{text:?}");
    assert_eq!(
        text,
        "HTTP 503: upstream down\\n2026-01-01T00:00:00.000000Z ERROR burnwatch: forged\\r\\n\\u{1b}[31mred"
    );
}

#[tokio::test]
async fn an_html_page_with_status_200_is_a_bad_response() {
    let (err, _, counted) = fails(
        http("200 OK", "text/html", "<!DOCTYPE html><html>login</html>"),
        None,
    )
    .await;
    assert!(
        matches!(&err, BackendError::Decode(m) if m.contains("<!DOCTYPE html>")),
        "{err:?}"
    );
    assert_eq!((err.outcome(), counted), ("bad_response", 1));
}

#[tokio::test]
async fn truncated_json_is_a_bad_response() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"x"},"value":[17000"#;
    let (err, _, counted) = fails(http("200 OK", "application/json", body), None).await;
    assert!(matches!(err, BackendError::Decode(_)), "{err:?}");
    assert_eq!((err.outcome(), counted), ("bad_response", 1));
}

#[tokio::test]
async fn a_result_type_nobody_asked_for_is_a_bad_response() {
    let body =
        r#"{"status":"success","data":{"resultType":"string","result":[1700000000,"hello"]}}"#;
    let (err, _, _) = fails(http("200 OK", "application/json", body), None).await;
    assert!(
        matches!(&err, BackendError::Decode(m) if m.contains("\"string\"")),
        "{err:?}"
    );
    let body = r#"{"status":"success","data":{"resultType":"vector","result":{"not":"a list"}}}"#;
    let (err, _, _) = fails(http("200 OK", "application/json", body), None).await;
    assert!(matches!(err, BackendError::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn special_values_decode_as_what_they_are() {
    // Not an error: NaN and ±Inf are valid samples; the runner ignores non-finite increases.
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"s":"nan"},"value":[1700000000,"NaN"]},
        {"metric":{"s":"inf"},"value":[1700000000,"+Inf"]},
        {"metric":{"s":"neg"},"value":[1700000000,"-Inf"]}]}}"#;
    let injector = inject(http("200 OK", "application/json", body)).await;
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let result = backend(&injector.url, &metrics)
        .instant_query("up", 1_700_000_000_000)
        .await
        .unwrap();
    let values: Vec<f64> = result.series.iter().map(|s| s.samples[0].1).collect();
    assert!(values[0].is_nan());
    assert_eq!(values[1..], [f64::INFINITY, f64::NEG_INFINITY]);
    assert_eq!(metrics.requests("main", "success"), 1);
}

#[tokio::test]
async fn an_endless_body_stops_at_the_size_limit() {
    const LIMIT: usize = 1 << 20;
    let (err, injector, counted) = fails(Answer::Endless, Some(LIMIT)).await;
    assert!(
        matches!(err, BackendError::TooLarge(LIMIT)),
        "expected too large, got {err:?}"
    );
    assert_eq!((err.outcome(), counted), ("bad_response", 1));
    // The client hung up: the injector's writes fail soon after the limit (socket buffers hold
    // a few MB at most), instead of running forever.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = injector.written.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = injector.written.load(Ordering::Relaxed);
    assert_eq!(before, after, "the body is still being read");
    eprintln!("endless body: {after} bytes written for a {LIMIT}-byte limit");
    assert!(
        after < 16 * LIMIT,
        "{after} bytes sent for a {LIMIT}-byte limit"
    );
}

#[tokio::test]
async fn a_slow_drip_body_times_out() {
    let (err, _, counted) = fails(Answer::Drip, None).await;
    assert!(matches!(err, BackendError::Timeout(_)), "{err:?}");
    assert_eq!((err.outcome(), counted), ("timeout", 1));
    assert!(err.is_transient());
}

#[tokio::test]
async fn silence_times_out() {
    let (err, _, counted) = fails(Answer::Silence, None).await;
    assert!(matches!(err, BackendError::Timeout(_)), "{err:?}");
    assert_eq!((err.outcome(), counted), ("timeout", 1));
}

#[tokio::test]
async fn a_reset_mid_body_is_a_transport_error() {
    let (err, _, counted) = fails(Answer::Reset, None).await;
    assert!(matches!(err, BackendError::Transport(_)), "{err:?}");
    assert_eq!((err.outcome(), counted), ("unreachable", 1));
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let err = backend(&url, &metrics)
        .instant_query("up", 1_700_000_000_000)
        .await
        .unwrap_err();
    assert_eq!(err.outcome(), "unreachable", "{err:?}");
}
