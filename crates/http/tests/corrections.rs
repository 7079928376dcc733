//! `/api/v1/corrections` served on a loopback port over a board with three SLOs
//! (`checkout-availability`, `checkout-latency`, `search-availability`) and a data dir.
//!
//! - `without_a_token_file_every_endpoint_is_403`: closed, never open, and the answer says
//!   which setting opens it.
//! - `a_missing_or_wrong_token_is_401_and_an_unreadable_file_503`: `WWW-Authenticate: Bearer`,
//!   the token never echoed, a rotated token works at once.
//! - `corrections_are_added_listed_filtered_and_deleted`: 201 with the stored correction and
//!   `Location`, the list (all and `?slo=`), the span handed to the runners' `Exclusions`, 204,
//!   then 404.
//! - `invalid_corrections_are_400_with_what_to_write`: each field's message, exactly; 413 for
//!   an oversized body; nothing stored.
//! - `corrections_survive_a_restart_and_a_corrupt_file_is_set_aside`: the file read back gives
//!   the same list (and replay's read-only view the same spans); a torn file is moved aside.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Board, Exclusions, Millis, Objective, Origin, SloInfo, SloStatus};
use burnwatch_http::corrections::{Corrections, stored_spans};
use burnwatch_http::{AppState, serve};
use burnwatch_spec::SecretSource;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "s3cret-api-token";
/// 2026-10-13T09:00:00Z.
const OUTAGE_START: Millis = 1_791_882_000_000;

fn slo(id: &str) -> Arc<SloInfo> {
    let (service, name) = id.split_once('-').unwrap();
    Arc::new(SloInfo {
        id: id.into(),
        service: service.into(),
        name: name.into(),
        objective: Objective::from_ratio(0.999),
        period: Duration::from_secs(30 * 86_400),
        labels: vec![],
        description: None,
        alert_name: "SLOErrorBudgetBurn".into(),
        annotations: vec![],
        alert_extras: Default::default(),
    })
}

struct Served {
    url: String,
    shutdown: CancellationToken,
    exclusions: Arc<Exclusions>,
    client: reqwest::Client,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Served {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    async fn post(&self, body: &str) -> (u16, Value) {
        let (status, _, text) = self
            .send(
                reqwest::Method::POST,
                "/api/v1/corrections",
                Some(TOKEN),
                Some(body),
            )
            .await;
        (status, serde_json::from_str(&text).unwrap())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, text) = self
            .send(reqwest::Method::GET, path, Some(TOKEN), None)
            .await;
        (status, serde_json::from_str(&text).unwrap())
    }
}

async fn served(token: Option<SecretSource>, data_dir: &Path) -> Served {
    let board = Arc::new(Board::new());
    for id in [
        "checkout-availability",
        "checkout-latency",
        "search-availability",
    ] {
        board.publish_slo(SloStatus::unknown(slo(id)));
    }
    let exclusions = Exclusions::new();
    let corrections = Corrections::open(data_dir, Arc::clone(&exclusions), 1);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let state = AppState::new(Arc::new(Registry::default()), Arc::new(|| Ok(())))
        .with_board(board)
        .with_exclusions(Arc::clone(&exclusions))
        .with_corrections(corrections)
        .with_api_token(token);
    tokio::spawn(serve(listener, state, shutdown.clone()));
    let _ = rustls::crypto::ring::default_provider().install_default();
    Served {
        url,
        shutdown,
        exclusions,
        client: reqwest::Client::new(),
    }
}

/// A token file holding [`TOKEN`] in `dir`.
fn token_file(dir: &Path) -> SecretSource {
    let file = dir.join("api-token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    SecretSource::File(file)
}

const OUTAGE: &str = r#"{"slos": ["checkout-*"], "start": "2026-10-13T09:00:00Z",
    "end": "2026-10-13T09:20:00Z", "reason": "payments-db failover", "category": "dependency"}"#;

#[tokio::test]
async fn without_a_token_file_every_endpoint_is_403() {
    let dir = tempfile::tempdir().unwrap();
    let served = served(None, dir.path()).await;
    let expected = json!({"error": "the corrections API is disabled: set [server] api_token_file to a \
        file holding a bearer token and send it as Authorization: Bearer <token>"});
    for (method, path, body) in [
        (reqwest::Method::GET, "/api/v1/corrections", None),
        (reqwest::Method::POST, "/api/v1/corrections", Some(OUTAGE)),
        (reqwest::Method::DELETE, "/api/v1/corrections/corr-1", None),
    ] {
        let (status, _, text) = served.send(method.clone(), path, Some(TOKEN), body).await;
        assert_eq!(status, 403, "{method} {path}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
    }
    assert!(!dir.path().join("corrections.json").exists());
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_and_an_unreadable_file_503() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let served = served(Some(token), dir.path()).await;
    let list = "/api/v1/corrections";
    let (status, headers, text) = served.send(reqwest::Method::GET, list, None, None).await;
    assert_eq!(
        (status, &headers["www-authenticate"]),
        (401, &"Bearer".parse().unwrap())
    );
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"],
        "Authorization: Bearer <token> is missing: send the token in [server] api_token_file"
    );
    for wrong in ["s3cret-api-toke", "s3cret-api-token2", "wrong-guess"] {
        let (status, headers, text) = served
            .send(reqwest::Method::POST, list, Some(wrong), Some(OUTAGE))
            .await;
        assert_eq!(status, 401, "{wrong}");
        assert_eq!(headers["www-authenticate"], "Bearer");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["error"],
            "the bearer token is wrong: send the token in [server] api_token_file"
        );
        assert!(!text.contains(wrong));
    }
    assert_eq!(served.get(list).await, (200, json!({"corrections": []})));

    // Rotated: the old token stops at once; emptied or removed: closed (503), never open.
    std::fs::write(dir.path().join("api-token"), "rotated").unwrap();
    assert_eq!(served.get(list).await.0, 401);
    let (status, _, _) = served
        .send(reqwest::Method::GET, list, Some("rotated"), None)
        .await;
    assert_eq!(status, 200);
    std::fs::write(dir.path().join("api-token"), " \n").unwrap();
    let (status, _, text) = served
        .send(reqwest::Method::GET, list, Some(""), None)
        .await;
    assert_eq!(status, 503);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"],
        "the API token file ([server] api_token_file) is unreadable or empty; see the log"
    );
    std::fs::remove_file(dir.path().join("api-token")).unwrap();
    assert_eq!(served.get(list).await.0, 503);
}

#[tokio::test]
async fn corrections_are_added_listed_filtered_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let served = served(Some(token_file(dir.path())), dir.path()).await;
    let version = served.exclusions.version();

    let (status, headers, text) = served
        .send(
            reqwest::Method::POST,
            "/api/v1/corrections",
            Some(TOKEN),
            Some(OUTAGE),
        )
        .await;
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("corr-") && id.len() == 21, "{id}");
    assert_eq!(
        headers["location"],
        format!("/api/v1/corrections/{id}").as_str()
    );
    assert_eq!(created["slos"], json!(["checkout-*"]));
    assert_eq!(created["start"], "2026-10-13T09:00:00.000Z");
    assert_eq!(created["end"], "2026-10-13T09:20:00.000Z");
    assert_eq!(created["reason"], "payments-db failover");
    assert_eq!(created["category"], "dependency");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    // A second one, for search only, given with an offset.
    let (status, second) = served
        .post(
            r#"{"slos": ["search-availability"], "start": "2026-10-12T12:00:00+02:00",
            "end": "2026-10-12T13:00:00+02:00", "reason": "load test", "category": "load_test"}"#,
        )
        .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["start"], "2026-10-12T10:00:00.000Z");

    // Listed oldest start first; filtered by the SLO a glob covers.
    let (status, all) = served.get("/api/v1/corrections").await;
    assert_eq!(status, 200);
    assert_eq!(all["corrections"], json!([second.clone(), created.clone()]));
    let (_, checkout) = served.get("/api/v1/corrections?slo=checkout-latency").await;
    assert_eq!(checkout["corrections"], json!([created.clone()]));
    let (status, unknown) = served.get("/api/v1/corrections?slo=checkout").await;
    assert_eq!(status, 404);
    assert_eq!(
        unknown["error"],
        "no SLO \"checkout\"; slo= takes a configured SLO id (configured: checkout-availability, \
         checkout-latency, search-availability)"
    );

    // The runners see the span: excluded, not silenced, for the SLOs it covers only.
    assert_eq!(served.exclusions.version(), version + 2);
    let spans = served.exclusions.spans(
        &slo("checkout-availability"),
        OUTAGE_START - 86_400_000,
        OUTAGE_START + 86_400_000,
    );
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(
        (span.start, span.end),
        (OUTAGE_START, OUTAGE_START + 20 * 60_000)
    );
    assert!(span.exclude && !span.silence);
    assert_eq!(span.reason, "payments-db failover");
    assert_eq!(
        span.origin,
        Origin::Correction {
            id: id.clone(),
            category: "dependency".into()
        }
    );
    let search = served.exclusions.spans(
        &slo("search-availability"),
        OUTAGE_START - 86_400_000,
        OUTAGE_START + 86_400_000,
    );
    assert_eq!(search.len(), 1);
    assert_eq!(search[0].end - search[0].start, 3_600_000);

    let path = format!("/api/v1/corrections/{id}");
    let (status, _, body) = served
        .send(reqwest::Method::DELETE, &path, Some(TOKEN), None)
        .await;
    assert_eq!((status, body.as_str()), (204, ""));
    assert_eq!(served.exclusions.version(), version + 3);
    let (status, _, body) = served
        .send(reqwest::Method::DELETE, &path, Some(TOKEN), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        format!("no correction {id:?}; GET /api/v1/corrections lists them")
    );
    let (_, all) = served.get("/api/v1/corrections").await;
    assert_eq!(all["corrections"], json!([second]));
    assert!(
        served
            .exclusions
            .spans(&slo("checkout-availability"), 0, i64::MAX)
            .is_empty()
    );
}

#[tokio::test]
async fn invalid_corrections_are_400_with_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let served = served(Some(token_file(dir.path())), dir.path()).await;
    let body = |slos: &str, start: &str, end: &str, reason: &str, category: &str| {
        format!(
            r#"{{"slos": {slos}, "start": {start}, "end": {end}, "reason": {reason}, "category": {category}}}"#
        )
    };
    let good = |field: &str, value: &str| {
        let mut parts = [
            r#"["checkout-availability"]"#,
            r#""2026-10-13T09:00:00Z""#,
            r#""2026-10-13T09:20:00Z""#,
            r#""failover""#,
            r#""dependency""#,
        ];
        let i = ["slos", "start", "end", "reason", "category"]
            .iter()
            .position(|f| *f == field)
            .unwrap();
        parts[i] = value;
        body(parts[0], parts[1], parts[2], parts[3], parts[4])
    };
    let cases: Vec<(String, &str)> = vec![
        (
            good("slos", r#"["checkout-availabilty"]"#),
            "slos[0] \"checkout-availabilty\" matches no configured SLO (configured: \
             checkout-availability, checkout-latency, search-availability)",
        ),
        (
            good("slos", r#"["checkout-*", "payments-*"]"#),
            "slos[1] \"payments-*\" matches no configured SLO (configured: \
             checkout-availability, checkout-latency, search-availability)",
        ),
        (
            good("slos", "[]"),
            "slos is empty: name at least one SLO, e.g. [\"checkout-availability\"] or [\"checkout-*\"]",
        ),
        (
            good("slos", r#""checkout-availability""#),
            "slos must be a list of SLO ids or globs, e.g. [\"checkout-availability\"] or [\"checkout-*\"]",
        ),
        (
            good("category", r#""outage""#),
            "category \"outage\" is not one of maintenance, deployment, dependency, load_test, other",
        ),
        (
            good("start", r#""2026-10-13T09:30:00Z""#).replace("09:20:00Z", "09:10:00Z"),
            "start 2026-10-13T09:30:00.000Z is not before end 2026-10-13T09:10:00.000Z: a \
             correction covers (start, end]",
        ),
        (
            good("end", r#""2026-10-13T09:00:00Z""#),
            "start 2026-10-13T09:00:00.000Z is not before end 2026-10-13T09:00:00.000Z: a \
             correction covers (start, end]",
        ),
        (
            good("start", r#""2026-10-13 09:00""#),
            "start \"2026-10-13 09:00\" has no zone (Z or +hh:mm): write RFC 3339 with a zone, \
             e.g. 2026-10-14T09:40:00Z or 2026-10-14T11:40:00+02:00",
        ),
        (
            good("end", "1791882000"),
            "end must be a string: RFC 3339 with a zone, e.g. 2026-10-14T09:40:00Z",
        ),
        (
            good("reason", r#""   ""#),
            "reason is empty: say why, e.g. \"payments-db failover\"",
        ),
        (
            good("reason", &format!("\"{}\"", "x".repeat(1001))),
            "reason has 1001 characters, at most 1000 are kept: link to the incident instead",
        ),
        (
            r#"{"slos": ["checkout-availability"], "start": "2026-10-13T09:00:00Z", "end": "2026-10-13T09:20:00Z", "category": "other"}"#.into(),
            "reason is required: say why, e.g. \"payments-db failover\"",
        ),
        (
            r#"{"slo": ["checkout-availability"]}"#.into(),
            "unknown field \"slo\": a correction has slos, start, end, reason and category",
        ),
        (
            "{".into(),
            "the body is not JSON (EOF while parsing an object at line 1 column 1); send an \
             object with slos, start, end, reason and category",
        ),
        (
            "[1, 2]".into(),
            "the body must be a JSON object with slos, start, end, reason and category",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = served.post(&body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer, json!({ "error": message }), "{body}");
    }
    let huge = good("reason", &format!("\"{}\"", "x".repeat(20_000)));
    let (status, answer) = served.post(&huge).await;
    assert_eq!(status, 413);
    assert_eq!(
        answer["error"],
        "the body is larger than 16384 bytes; a correction is a small JSON object with slos, \
         start, end, reason and category"
    );
    assert_eq!(
        served.get("/api/v1/corrections").await,
        (200, json!({"corrections": []}))
    );
    assert!(!dir.path().join("corrections.json").exists());
}

#[tokio::test]
async fn corrections_survive_a_restart_and_a_corrupt_file_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let before = {
        let served = served(Some(token.clone()), dir.path()).await;
        assert_eq!(served.post(OUTAGE).await.0, 201);
        let (_, listed) = served.get("/api/v1/corrections").await;
        listed
    };
    // A new process over the same data dir: the same list, and the same spans applied.
    let served_again = served(Some(token), dir.path()).await;
    assert_eq!(
        served_again.get("/api/v1/corrections").await,
        (200, before.clone())
    );
    let info = slo("checkout-latency");
    let applied = served_again.exclusions.spans(&info, 0, i64::MAX);
    assert_eq!(applied.len(), 1);
    assert_eq!(
        (applied[0].start, applied[0].end),
        (OUTAGE_START, OUTAGE_START + 20 * 60_000)
    );
    // Replay's read-only view of the file agrees.
    assert_eq!(stored_spans(dir.path()).spans(&info, 0, i64::MAX), applied);
    drop(served_again);

    // Torn: set aside with a warning, and the daemon starts with none.
    std::fs::write(
        dir.path().join("corrections.json"),
        "{\"version\": 1, \"correc",
    )
    .unwrap();
    assert!(
        stored_spans(dir.path())
            .spans(&info, 0, i64::MAX)
            .is_empty()
    );
    let exclusions = Exclusions::new();
    let corrections = Corrections::open(dir.path(), Arc::clone(&exclusions), 1_234);
    assert!(corrections.list().is_empty());
    assert!(!dir.path().join("corrections.json").exists());
    let aside = std::fs::read_to_string(dir.path().join("corrections.json.bad-1234")).unwrap();
    assert_eq!(aside, "{\"version\": 1, \"correc");
    assert!(exclusions.spans(&info, 0, i64::MAX).is_empty());
}
