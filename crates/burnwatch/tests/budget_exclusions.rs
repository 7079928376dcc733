//! Maintenance windows and corrections end to end, against a real Prometheus whose history
//! promtool wrote, so the outage and the window are in the past and the figures reproducible.
//!
//! Three SLOs read the same kind of traffic (20 requests a second, one error every 250 s: a
//! burn rate of 0.2 at 99.9%), scraped every 15 s for three hours:
//! - `maint-inside`: a 20-minute outage (every request fails) inside a maintenance window with
//!   `exclude` and `silence`;
//! - `maint-calm`: no outage, the same window;
//! - `maint-outside`: the same outage and no window.
//!
//! `an_excluded_outage_spends_nothing_and_a_correction_gives_the_budget_back` checks:
//! - inside the window, no notification of any kind reaches the webhook, and the budget remaining
//!   equals the calm twin's (to 1e-9) and the figure computed here from the written samples with
//!   the window's events left out;
//! - outside it, the outage pages (the webhook hears a firing page) and spends budget (the figure
//!   computed from the samples with nothing left out);
//! - a correction over the outage made through the API brings the outside SLO's budget back to
//!   the calm figure within one re-read of history; it survives a restart; deleting it restores
//!   the spent figure; without the token the API answers 401.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_tests::{Daemon, Prometheus, PrometheusOptions, free_port, http_client, wait_for};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const S: i64 = 1_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const SCRAPE: i64 = 15 * S;
const PHASE: i64 = 4_100;
const PER_SECOND: i64 = 20;
const ERROR_EVERY: i64 = 250;
const TOKEN: &str = "c0rr3ct10n-t0k3n-e2e-0123456789";

/// The counters of one case at `t` (ms): events of every whole second in `(from, t]`.
fn counters(from: i64, t: i64, outage: Option<(i64, i64)>) -> (i64, i64) {
    let (mut total, mut errors) = (0, 0);
    let mut second = from.div_euclid(S) + 1;
    while second * S <= t {
        total += PER_SECOND;
        let at = second * S;
        if outage.is_some_and(|(a, b)| a < at && at <= b) {
            errors += PER_SECOND;
        } else if second % ERROR_EVERY == 0 {
            errors += 1;
        }
        second += 1;
    }
    (total, errors)
}

/// Scrape times from `from` to `to`.
fn scrapes(from: i64, to: i64) -> Vec<i64> {
    (0..)
        .map(|k| from + PHASE + k * SCRAPE)
        .take_while(|&t| t <= to)
        .collect()
}

/// The value of the last sample at or before `b`.
fn at_or_before(samples: &[(i64, (i64, i64))], b: i64) -> (i64, i64) {
    samples
        .iter()
        .rev()
        .find(|(t, _)| *t <= b)
        .map(|(_, c)| *c)
        .expect("a sample before the boundary")
}

/// Budget remaining at 99.9% over everything the samples show, less `(excluded]`, read at
/// bucket boundaries as the exact count does: events land in the minute of the sample that
/// shows them.
fn budget(samples: &[(i64, (i64, i64))], excluded: Option<(i64, i64)>) -> f64 {
    let first = samples.first().expect("samples").1;
    let last = samples.last().expect("samples").1;
    let (mut total, mut errors) = (last.0 - first.0, last.1 - first.1);
    if let Some((a, b)) = excluded {
        let (ta, ea) = at_or_before(samples, a);
        let (tb, eb) = at_or_before(samples, b);
        total -= tb - ta;
        errors -= eb - ea;
    }
    1.0 - (errors as f64 / total as f64) / 0.001
}

fn rfc3339(ms: i64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms as u64)).to_string()
}

fn remaining(daemon: &Daemon, id: &str) -> Option<f64> {
    daemon.sample(
        "slo:period_error_budget_remaining:ratio",
        &[&format!(r#"sloth_id="{id}""#)],
    )
}

/// Waits until `id`'s budget remaining is within 1e-9 of `want`.
fn wait_budget(daemon: &Daemon, id: &str, want: f64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let got = remaining(daemon, id);
        if got.is_some_and(|g| (g - want).abs() < 1e-9) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{id}: budget remaining {got:?}, want {want}\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn notifications(runtime: &tokio::runtime::Runtime, server: &MockServer) -> Vec<Value> {
    runtime
        .block_on(server.received_requests())
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("a JSON body"))
        .collect()
}

#[test]
fn an_excluded_outage_spends_nothing_and_a_correction_gives_the_budget_back() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let minute = now.div_euclid(M) * M;
    let (from, to) = (minute - 3 * H, now - 2 * S);
    let outage = (minute - 35 * M, minute - 15 * M);
    let window = (minute - 40 * M, minute - 10 * M);
    let cases = [
        ("inside", Some(outage)),
        ("calm", None),
        ("outside", Some(outage)),
    ];
    let mut history = [String::new(), String::new()];
    let mut samples = Vec::new();
    for (case, outage) in cases {
        let mut mine = Vec::new();
        for t in scrapes(from, to) {
            let (total, errors) = counters(from, t, outage);
            let at = t as f64 / 1000.0;
            history[0].push_str(&format!(
                "excl_requests_total{{case=\"{case}\"}} {total} {at:.3}\n"
            ));
            history[1].push_str(&format!(
                "excl_errors_total{{case=\"{case}\"}} {errors} {at:.3}\n"
            ));
            mine.push((t, (total, errors)));
        }
        samples.push(mine);
    }
    let openmetrics = format!(
        "# TYPE excl_requests counter\n{}# TYPE excl_errors counter\n{}# EOF\n",
        history[0], history[1]
    );
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(openmetrics),
        ..Default::default()
    });

    // By hand, from the written samples: the window's events left out, or nothing left out.
    let spared = budget(&samples[0], Some(window));
    let calm = budget(&samples[1], Some(window));
    let spent = budget(&samples[2], None);
    let corrected = budget(&samples[2], Some(window));
    assert!((spared - calm).abs() < 1e-12 && (corrected - calm).abs() < 1e-12);
    assert!(calm > 0.7 && spent < -100.0, "calm {calm}, spent {spent}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let webhook = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&webhook),
    );
    let data = tempfile::tempdir().unwrap();
    let token_file = data.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let port = free_port();
    let slo = |case: &str| {
        format!(
            "[[slo]]\nservice = \"maint\"\nname = \"{case}\"\nobjective = 99.9\n[slo.sli.ratio]\nerrors = 'excl_errors_total{{case=\"{case}\"}}'\ntotal = 'excl_requests_total{{case=\"{case}\"}}'\n\n"
        )
    };
    let config = format!(
        r#"[server]
listen = "127.0.0.1:{port}"
api_token_file = "{token_file}"

[backends.main]
type = "prometheus"
url = "{prometheus}"

[defaults]
interval = "1s"

{inside}{calm}{outside}
[[maintenance]]
name = "database upgrade"
slos = ["maint-inside", "maint-calm"]
start = "{start}"
end = "{end}"
reason = "PostgreSQL 17 upgrade"
exclude = true
silence = true

[receivers.hook]
type = "webhook"
url = "{webhook}/hook"

[[route]]
receivers = ["hook"]
"#,
        token_file = token_file.display(),
        prometheus = prometheus.url(),
        inside = slo("inside"),
        calm = slo("calm"),
        outside = slo("outside"),
        start = rfc3339(window.0),
        end = rfc3339(window.1),
        webhook = webhook.uri(),
    );
    let binary = Path::new(env!("CARGO_BIN_EXE_burnwatch"));
    let state = data.path().join("state");
    let mut daemon = Daemon::start_in(binary, &config, &[], &state);
    daemon.wait_ready(Duration::from_secs(60));

    wait_budget(&daemon, "maint-calm", calm, Duration::from_secs(20));
    wait_budget(&daemon, "maint-inside", calm, Duration::from_secs(20));
    wait_budget(&daemon, "maint-outside", spent, Duration::from_secs(20));

    // The outside outage pages; a few more ticks, and nothing else has been heard of.
    let page = wait_for("the outside page", Duration::from_secs(30), || {
        notifications(&runtime, &webhook)
            .into_iter()
            .find(|n| n.to_string().contains("maint-outside") && n.to_string().contains("page"))
    });
    assert!(page.to_string().contains("firing"), "{page}");
    std::thread::sleep(Duration::from_secs(5));
    for n in notifications(&runtime, &webhook) {
        let text = n.to_string();
        assert!(
            !text.contains("maint-inside") && !text.contains("maint-calm"),
            "a notification for an SLO in maintenance: {text}"
        );
    }
    assert_eq!(
        daemon.sample("burnwatch_slo_excluded", &[r#"sloth_id="maint-inside""#]),
        Some(0.0),
        "the window is over"
    );

    // The API wants the token.
    let client = http_client();
    let url = format!("{}/api/v1/corrections", daemon.url());
    let body = serde_json::json!({
        "slos": ["maint-outside"],
        "start": rfc3339(window.0),
        "end": rfc3339(window.1),
        "reason": "the payment provider's outage, INC-4711",
        "category": "dependency",
    });
    let refused = client.post(&url).json(&body).send().unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let created = client
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().unwrap();
    let id = created["id"].as_str().expect("an id").to_string();

    // Within one re-read of history the outage no longer counts.
    wait_budget(&daemon, "maint-outside", corrected, Duration::from_secs(60));
    assert!(
        daemon
            .sample(
                "burnwatch_slo_history_rereads_total",
                &[r#"sloth_id="maint-outside""#]
            )
            .is_some_and(|n| n >= 1.0)
    );

    // It survives a restart.
    daemon.stop(Duration::from_secs(20));
    let mut daemon = Daemon::start_in(binary, &config, &[], &state);
    daemon.wait_ready(Duration::from_secs(60));
    wait_budget(&daemon, "maint-outside", corrected, Duration::from_secs(30));
    let listed: Value = client
        .get(format!("{}/api/v1/corrections", daemon.url()))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(listed.to_string().contains(&id), "{listed}");

    // Deleting it restores the spent figure, and that survives a restart too.
    let deleted = client
        .delete(format!("{}/api/v1/corrections/{id}", daemon.url()))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    wait_budget(&daemon, "maint-outside", spent, Duration::from_secs(60));
    daemon.stop(Duration::from_secs(20));
    let daemon = Daemon::start_in(binary, &config, &[], &state);
    daemon.wait_ready(Duration::from_secs(60));
    wait_budget(&daemon, "maint-outside", spent, Duration::from_secs(30));
}
