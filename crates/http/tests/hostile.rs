//! The server under hostile input, in process and on loopback: fast checks of what
//! `crates/burnwatch/tests/hostile_clients` measures on the release binary.
//!
//! - `hostile_values_are_escaped_on_every_page_and_kept_in_json`: markup, quotes, `&` and
//!   newlines in a group value, a user label and a description are escaped on `/` and the
//!   detail page (read back through an independent entity decoder) and unchanged in the JSON.
//! - `the_overview_pages_past_100_instances`: 250 instances make three pages of 100, 100 and
//!   50 rows, with counts by status over all; a page out of range is a 400.
//! - `security_headers_on_pages_json_and_errors`: CSP, nosniff, frame and referrer policy on
//!   every kind of answer.
//! - `slow_idle_and_oversized_clients_are_cut_off`: under a 1 s header timeout and a cap of 4
//!   connections, a slowloris is closed, 10 idle connections do not keep `/metrics` from
//!   answering, a 40 KB head gets 431 and a 100 KB body 413.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use burnwatch_engine::{
    Alerts, Board, Counts, DataState, Entry, InstanceInfo, Observation, SloInfo, SloState,
    SloStatus,
};
use burnwatch_http::{AppState, serve};
use burnwatch_spec::ServerLimits;
use burnwatch_tests::html::{decode, encode_segment};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const PERIOD: Duration = Duration::from_secs(86_400);
const HOSTILE: &str = "<script>alert(\"x\")</script> & 'q'\nline two";
const DESCRIPTION: &str = "<img src=x onerror=alert(1)> & \"d\"\nsecond";
const TEAM: &str = "<b>\"t\" & co</b>";

fn slo(name: &str, description: Option<&str>) -> Arc<SloInfo> {
    Arc::new(SloInfo {
        id: format!("shop-{name}"),
        service: "shop".into(),
        name: name.into(),
        objective: burnwatch_engine::Objective::from_percent(99.0),
        period: PERIOD,
        labels: vec![("team".into(), TEAM.into())],
        description: description.map(str::to_string),
        alert_name: "SLOErrorBudgetBurn".into(),
        annotations: vec![],
        alert_extras: Default::default(),
    })
}

/// One evaluation of a minute of traffic per route, as the scheduler would publish it.
fn board(routes: &[String]) -> Arc<Board> {
    let board = Arc::new(Board::new());
    let info = slo("routes", Some(DESCRIPTION));
    for route in routes {
        let mut state = SloState::counted(0.99, PERIOD, &[Duration::from_secs(300)]);
        state.observe(Observation::Events {
            start: 0,
            end: 60_000,
            counts: Counts {
                errors: 1.0,
                total: 1000.0,
            },
        });
        board.publish(Entry {
            info: Arc::new(InstanceInfo {
                slo: Arc::clone(&info),
                group: vec![("route".into(), route.clone())],
            }),
            eval: state.evaluate(60_000),
            alerts: Alerts::new(),
        });
    }
    board.publish_slo(SloStatus {
        info,
        data_state: DataState::Ok,
        instances: routes.len(),
        group_limit_reached: false,
    });
    board
}

/// Serves `state` on a loopback port until the token is cancelled.
async fn start(state: AppState) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let shutdown = CancellationToken::new();
    tokio::spawn(serve(listener, state, shutdown.clone()));
    let _ = rustls::crypto::ring::default_provider().install_default();
    (addr, shutdown)
}

fn state(board: Arc<Board>) -> AppState {
    AppState::new(Arc::new(Registry::default()), Arc::new(|| Ok(()))).with_board(board)
}

async fn get(addr: &str, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{addr}{path}")).await.unwrap()
}

#[tokio::test]
async fn hostile_values_are_escaped_on_every_page_and_kept_in_json() {
    let (addr, shutdown) = start(state(board(&[HOSTILE.to_string(), "/a".into()]))).await;
    let list: serde_json::Value = get(&addr, "/api/v1/slos").await.json().await.unwrap();
    let hostile = list["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["labels"]["route"] == HOSTILE)
        .expect("the JSON keeps the value as it is");
    assert_eq!(hostile["labels"]["team"], TEAM);
    let id = hostile["id"].as_str().unwrap();

    let overview = get(&addr, "/").await.text().await.unwrap();
    let detail = get(&addr, &format!("/slos/{}", encode_segment(id)))
        .await
        .text()
        .await
        .unwrap();
    for (page, text, shown) in [
        ("/", &overview, vec![id]),
        ("detail", &detail, vec![id, DESCRIPTION, TEAM]),
    ] {
        for raw in ["<script", "<img", "<b>", "alert(\"", "'q'"] {
            assert!(!text.contains(raw), "{page} shows {raw:?} raw:\n{text}");
        }
        let decoded = decode(text);
        for value in shown {
            assert!(decoded.contains(value), "{page} lacks {value:?}:\n{text}");
        }
    }
    shutdown.cancel();
}

#[tokio::test]
async fn the_overview_pages_past_100_instances() {
    let routes: Vec<String> = (0..250).map(|i| format!("/r{i:03}")).collect();
    let (addr, shutdown) = start(state(board(&routes))).await;
    let rows = |text: &str| text.matches("<tr data-id=").count();
    let first = get(&addr, "/").await.text().await.unwrap();
    assert_eq!(rows(&first), 100);
    assert!(first.contains("250 instances"), "{first}");
    assert!(
        first.contains("Instances 1–100 of 250, page 1 of 3"),
        "{first}"
    );
    assert!(first.contains(r#"href="/?page=2""#));
    // Counts cover every page: all 250 are healthy.
    assert!(
        first.contains(r#"data-status="healthy">healthy</span> 250"#),
        "{first}"
    );
    let last = get(&addr, "/?page=3").await.text().await.unwrap();
    assert_eq!(rows(&last), 50);
    assert!(last.contains("/r249") && !last.contains("/r199"));
    for bad in ["/?page=4", "/?page=0", "/?page=x"] {
        assert_eq!(get(&addr, bad).await.status(), 400, "{bad}");
    }
    shutdown.cancel();
}

#[tokio::test]
async fn security_headers_on_pages_json_and_errors() {
    let (addr, shutdown) = start(state(board(&["/a".into()]))).await;
    for path in [
        "/",
        "/slos/shop-routes%7Broute%3D%22%2Fa%22%7D",
        "/api/v1/slos",
        "/slos/nope",
        "/metrics",
        "/nope",
    ] {
        let response = get(&addr, path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(
            !csp.contains("script-src"),
            "the pages have no script: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
    }
    shutdown.cancel();
}

/// Whether the server closed `stream` within `within` (reads until EOF or an error).
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
    false
}

/// `request` on a new connection; the status line's code, None without an answer.
fn status_of(addr: &str, request: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let _ = stream.write_all(request);
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).ok()?;
    String::from_utf8_lossy(&head[..n])
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_oversized_clients_are_cut_off() {
    let limits = ServerLimits {
        read_header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(30),
        max_connections: 4,
        max_concurrent_renders: 2,
    };
    let (addr, shutdown) = start(state(board(&["/a".into()])).with_limits(limits)).await;
    let blocking = {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || {
            let mut slow = TcpStream::connect(&addr).unwrap();
            slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
                .unwrap();
            let slowloris_closed = closed_within(&mut slow, Duration::from_secs(5));

            let _idle: Vec<TcpStream> = (0..10)
                .map(|_| TcpStream::connect(&addr).unwrap())
                .collect();
            std::thread::sleep(Duration::from_millis(200));
            let metrics = status_of(&addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");

            let mut big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
            big.extend(std::iter::repeat_n(b'a', 40 * 1024));
            big.extend_from_slice(b"\r\n\r\n");
            let head = status_of(&addr, &big);
            let body = status_of(
                &addr,
                b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
            );
            (slowloris_closed, metrics, head, body)
        })
    };
    let (slowloris_closed, metrics, head, body) = blocking.await.unwrap();
    assert!(
        slowloris_closed,
        "a header sent too slowly closes the connection"
    );
    assert_eq!(
        metrics,
        Some(200),
        "idle connections at the cap are closed for a scraper"
    );
    assert_eq!(head, Some(431), "a 40 KB head is refused");
    assert_eq!(body, Some(413), "a 100 KB body is refused");
    shutdown.cancel();
}
