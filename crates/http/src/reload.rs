//! `POST /-/reload`, as Prometheus has it (200 with a summary, 400 with every problem of an
//! invalid file, 503 while shutting down), guarded:
//!
//! - a browser cannot be made to send it: a cross-site `Origin` or `Sec-Fetch-Site`, or a form
//!   content type (what a cross-site form may send without asking), gets 403;
//! - with `[server] reload_token_file`, `Authorization: Bearer <token>` is required (401; 503
//!   when the file is unreadable or empty: closed, never open); without it, only loopback peers
//!   may reload (403), so a pod's port is not a reload button for the whole network;
//! - at most one reload a second is started (429 with `Retry-After`).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use burnwatch_spec::SecretSource;

use crate::AppState;

/// The shortest time between two reloads started over HTTP.
pub const RELOAD_MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A reload request: the daemon answers on the enclosed channel with what happened, or why the
/// new configuration was rejected.
pub type ReloadRequest = tokio::sync::oneshot::Sender<Result<String, String>>;

/// When the last reload was let through.
#[derive(Clone, Default)]
pub(crate) struct ReloadGate(Arc<Mutex<Option<Instant>>>);

impl ReloadGate {
    /// Lets a reload through, or says how long to wait.
    fn pass(&self) -> Result<(), Duration> {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = *last
            && at.elapsed() < RELOAD_MIN_INTERVAL
        {
            return Err(RELOAD_MIN_INTERVAL - at.elapsed());
        }
        *last = Some(Instant::now());
        Ok(())
    }
}

pub(crate) async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let Some(reload) = state.reload else {
        return (StatusCode::NOT_FOUND, "reload is not enabled\n").into_response();
    };
    if let Some(why) = cross_site(&headers) {
        return forbidden(&format!("POST /-/reload refused: {why}"));
    }
    match &state.reload_token {
        Some(token) => {
            if let Some(refusal) = refusal(token, &headers) {
                return refusal;
            }
        }
        None => {
            let peer = extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            if !peer.is_some_and(is_loopback) {
                return forbidden(
                    "POST /-/reload is accepted only from loopback without [server] \
                     reload_token_file; set one to reload from elsewhere (or send SIGHUP)",
                );
            }
        }
    }
    if let Err(wait) = state.reload_gate.pass() {
        let seconds = wait.as_secs_f64().ceil().max(1.0);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, format!("{seconds}"))],
            "a reload was started less than a second ago; retry later\n",
        )
            .into_response();
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

fn forbidden(why: &str) -> Response {
    (StatusCode::FORBIDDEN, format!("{why}\n")).into_response()
}

/// A loopback address, also as an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, what a dual-stack
/// listener reports for an IPv4 peer).
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
    }
}

/// Why the request looks sent by a browser on behalf of another site, if it does.
fn cross_site(headers: &HeaderMap) -> Option<String> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(kind) = text(header::CONTENT_TYPE) {
        let media = kind.split(';').next().unwrap_or("").trim();
        let forms = [
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "text/plain",
        ];
        if forms.iter().any(|f| media.eq_ignore_ascii_case(f)) {
            return Some(format!(
                "a form content type ({media}) is what a cross-site form sends; send no body"
            ));
        }
    }
    if let Some(site) = text(HeaderName::from_static("sec-fetch-site"))
        && !["same-origin", "none"].contains(&site)
    {
        return Some(format!("Sec-Fetch-Site: {site}"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = text(header::HOST).unwrap_or("");
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, authority)| authority.trim_end_matches('/'));
        if !origin_host.is_some_and(|o| !host.is_empty() && o.eq_ignore_ascii_case(host)) {
            return Some("the Origin is another site".to_string());
        }
    }
    None
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
    match bearer(headers) {
        Some(given) if same(given.as_bytes(), want.as_bytes()) => None,
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

/// The credentials of `Authorization: Bearer <token>`; the scheme is case-insensitive
/// (RFC 9110, 11.1).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Equality in time independent of where the first difference is.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve;
    use prometheus_client::registry::Registry;
    use tokio::net::TcpListener;
    use tokio_util::sync::CancellationToken;

    #[tokio::test]
    async fn reload_needs_the_bearer_token_from_the_file_read_on_every_request() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("reload-token");
        std::fs::write(&file, "first-token\n").unwrap();
        let (state, answered) = answering();
        let state = state.with_reload_token(Some(SecretSource::File(file.clone())));
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
        tokio::time::sleep(RELOAD_MIN_INTERVAL).await;
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

    /// A state whose reloads are answered `reload N`, and the count of reloads it let through.
    fn answering() -> (AppState, tokio::task::JoinHandle<usize>) {
        let (reload, mut requests) = tokio::sync::mpsc::channel::<ReloadRequest>(4);
        let answered = tokio::spawn(async move {
            let mut count = 0;
            while let Some(answer) = requests.recv().await {
                count += 1;
                let _ = answer.send(Ok(format!("reload {count}")));
            }
            count
        });
        let state =
            AppState::new(Arc::new(Registry::default()), Arc::new(|| Ok(()))).with_reload(reload);
        (state, answered)
    }

    /// One POST through the router, from `peer`, with `headers`.
    async fn post(state: &AppState, peer: &str, headers: &[(&str, &str)]) -> Response {
        use tower::ServiceExt;
        let mut request =
            axum::http::Request::post("/-/reload").header(header::HOST, "burnwatch:9464");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(axum::body::Body::empty()).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        crate::router(state.clone()).oneshot(request).await.unwrap()
    }

    /// The peer is synthetic: every address a test may connect from is loopback.
    #[tokio::test]
    async fn without_a_token_only_loopback_peers_may_reload() {
        let (state, answered) = answering();
        for peer in ["10.1.2.3:4000", "[2001:db8::1]:4000", "[::ffff:10.0.0.1]:1"] {
            let refused = post(&state, peer, &[]).await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{peer}");
        }
        assert_eq!(
            post(&state, "127.0.0.1:5000", &[]).await.status(),
            StatusCode::OK
        );
        tokio::time::sleep(RELOAD_MIN_INTERVAL).await;
        assert_eq!(
            post(&state, "[::1]:5000", &[]).await.status(),
            StatusCode::OK
        );
        tokio::time::sleep(RELOAD_MIN_INTERVAL).await;
        assert_eq!(
            post(&state, "[::ffff:127.0.0.1]:5000", &[]).await.status(),
            StatusCode::OK
        );
        drop(state);
        assert_eq!(answered.await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_browser_on_another_site_cannot_reload() {
        let (state, answered) = answering();
        let loopback = "127.0.0.1:5000";
        for headers in [
            vec![("origin", "http://evil.example")],
            vec![("origin", "null")],
            vec![("origin", "http://burnwatch:9465")],
            vec![("sec-fetch-site", "cross-site")],
            vec![("content-type", "application/x-www-form-urlencoded")],
            vec![("content-type", "multipart/form-data; boundary=x")],
            vec![("content-type", "Text/Plain;charset=utf-8")],
        ] {
            let refused = post(&state, loopback, &headers).await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{headers:?}");
        }
        // The status page's own origin, and curl (no Origin at all), may.
        let same = post(
            &state,
            loopback,
            &[
                ("origin", "http://burnwatch:9464"),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await;
        assert_eq!(same.status(), StatusCode::OK);
        drop(state);
        assert_eq!(answered.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn reloads_are_rate_limited() {
        let (state, answered) = answering();
        let loopback = "127.0.0.1:5000";
        assert_eq!(post(&state, loopback, &[]).await.status(), StatusCode::OK);
        let limited = post(&state, loopback, &[]).await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "1");
        tokio::time::sleep(RELOAD_MIN_INTERVAL).await;
        assert_eq!(post(&state, loopback, &[]).await.status(), StatusCode::OK);
        drop(state);
        assert_eq!(answered.await.unwrap(), 2);
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc ", "  bEaReR abc"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer(&headers), Some("abc"), "{value:?}");
        }
        for value in ["Basic abc", "Bearerabc", "abc"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer(&headers), None, "{value:?}");
        }
    }
}
