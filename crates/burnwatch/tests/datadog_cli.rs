//! `burnwatch report` and `burnwatch replay` read through a Datadog backend: a wiremock double
//! of the v1 query API (`series[].pointlist`, `interval`, `tag_set`) answering every rollup
//! from one ground truth: 100 requests a minute, and 20 errors a minute during a one-hour
//! outage. The report counts exactly those events over its day, and replay pages once, at the
//! outage. (The figures against Prometheus are compared in tests/datadog_parity.rs.)

use std::process::{Command, Output};

use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "dd-key-for-the-cli-test";

/// Events per rollup interval, from the truth; `null` for intervals not over yet.
struct Truth {
    outage: (i64, i64),
    now: i64,
}

impl Respond for Truth {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let param = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.to_string())
                .unwrap()
        };
        let (from, to, query) = (
            param("from").parse::<i64>().unwrap(),
            param("to").parse::<i64>().unwrap(),
            param("query"),
        );
        let interval: i64 = query
            .split(".rollup(sum, ")
            .nth(1)
            .and_then(|r| r.strip_suffix(')'))
            .unwrap()
            .parse()
            .unwrap();
        let errors = query.starts_with("sum:http.requests.errors{");
        let first = from.div_euclid(interval) * interval;
        let points: Vec<Value> = (0..)
            .map(|i| first + i * interval)
            .take_while(|p| *p < to)
            .map(|p| {
                let minutes = interval / 60;
                let in_outage = (p.max(self.outage.0)..(p + interval).min(self.outage.1))
                    .step_by(60)
                    .count() as i64;
                let value = if errors {
                    20 * in_outage
                } else {
                    100 * minutes
                };
                let value = (p + interval <= self.now).then_some(value as f64);
                serde_json::json!([(p * 1000) as f64, value])
            })
            .collect();
        let body = serde_json::json!({
            "status": "ok", "res_type": "time_series", "query": query,
            "from_date": from * 1000, "to_date": to * 1000,
            "series": [{
                "metric": "http.requests", "aggr": "sum", "interval": interval,
                "scope": "service:checkout", "tag_set": [], "pointlist": points,
            }],
        });
        ResponseTemplate::new(200)
            .set_body_string(body.to_string())
            .insert_header("X-RateLimit-Limit", "1000")
            .insert_header("X-RateLimit-Period", "10")
            .insert_header("X-RateLimit-Remaining", "999")
            .insert_header("X-RateLimit-Reset", "10")
    }
}

/// The binary's standard output for `args`, with the key in its environment; it must succeed.
fn burnwatch(args: &[&str]) -> String {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .args(args)
        .env("DD_API_KEY", KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "burnwatch {args:?}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_and_replay_read_through_datadog() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let end = (now / 3600) * 3600 - 3600;
    let start = end - 86_400;
    let outage = (start + 12 * 3600, start + 13 * 3600);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .and(header("DD-API-KEY", KEY))
        .respond_with(Truth { outage, now })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("burnwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[backends.dd]\ntype = \"datadog\"\nsite = \"{}\"\napi_key = \"${{DD_API_KEY}}\"\n\
             application_key = \"${{DD_API_KEY}}\"\n\n\
             [[slo]]\nservice = \"checkout\"\nname = \"availability\"\nobjective = 99.9\n\
             [slo.sli.datadog]\nerrors = 'sum:http.requests.errors{{service:checkout}}.as_count()'\n\
             total = 'sum:http.requests{{service:checkout}}.as_count()'\n",
            server.uri()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let span = [
        "--start".to_string(),
        start.to_string(),
        "--end".into(),
        end.to_string(),
    ];
    let run = move |command: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![command, "--config", config.as_str(), "--format", "json"];
        args.extend(extra);
        args.extend(span.iter().map(String::as_str));
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            burnwatch(&args)
        })
    };

    let report: Value = serde_json::from_str(&run("report", &[]).await.unwrap()).unwrap();
    let slo = &report["slos"][0];
    // A day of 100 a minute; 60 minutes of 20 errors.
    assert_eq!(slo["events"]["total"].as_f64(), Some(144_000.0), "{slo}");
    assert_eq!(slo["events"]["errors"].as_f64(), Some(1_200.0), "{slo}");
    assert_eq!(slo["pages"], 1, "{slo}");

    let replayed = run("replay", &["--step", "5m"]).await.unwrap();
    let summary: Value = replayed
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "summary")
        .unwrap();
    let pages: Vec<&Value> = summary["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["severity"] == "page")
        .collect();
    assert_eq!(pages.len(), 1, "{summary}");
}

/// Bad keys, said once: a daemon with three SLOs on a Datadog backend that answers 403 to
/// everything logs one error for the backend (not one per SLO, nor one per tick or retry), and
/// exports `burnwatch_backend_up 0` for it.
#[test]
fn bad_keys_are_one_error_for_the_backend() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(403).set_body_string(r#"{"errors":["Forbidden"]}"#))
            .mount(&server),
    );
    let slo = |name: &str| {
        format!(
            "[[slo]]\nservice = \"checkout\"\nname = \"{name}\"\nobjective = 99.9\n\
             [slo.sli.datadog]\nerrors = 'sum:http.requests.errors{{service:{name}}}.as_count()'\n\
             total = 'sum:http.requests{{service:{name}}}.as_count()'\n\n"
        )
    };
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n\n[defaults]\ninterval = \"1s\"\n\n\
         [backends.dd]\ntype = \"datadog\"\nsite = \"{site}\"\napi_key = \"${{DD_API_KEY}}\"\n\
         application_key = \"${{DD_API_KEY}}\"\n\n{a}{b}{c}",
        port = burnwatch_tests::free_port(),
        site = server.uri(),
        a = slo("cart"),
        b = slo("pay"),
        c = slo("confirm"),
    );
    let daemon = burnwatch_tests::Daemon::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config,
        &[("DD_API_KEY", "a-revoked-key")],
    );
    daemon.wait_sample(
        "burnwatch_backend_up",
        &["backend=\"dd\""],
        Some(0.0),
        std::time::Duration::from_secs(30),
    );
    // Several ticks and backfill retries of every SLO later.
    let requests = || runtime.block_on(server.received_requests()).unwrap().len();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while requests() < 12 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(requests() >= 12, "only {} requests", requests());
    let log = daemon.log();
    let said = log
        .matches("Datadog refused the API or application key")
        .count();
    assert_eq!(said, 1, "one error for the backend:\n{log}");
    for repeated in ["tick failed", "backfill failed"] {
        assert!(
            !log.contains(repeated),
            "the SLOs do not repeat the backend's error ({repeated}):\n{log}"
        );
    }
    assert!(
        !log.contains("a-revoked-key"),
        "the key never reaches the log"
    );
}
