//! `[[digest]]` end to end against a real Prometheus holding two weeks of simulated history
//! (backfilled with promtool): 20 requests/s at 0.05% errors (0.5x at 99.9%) with one 1-hour
//! outage at 20% errors (200x) three days before the digest's occurrence, and a Slack incoming
//! webhook played by wiremock.
//!
//! - `preview_usage_and_configuration_errors`: `burnwatch digest` without `--preview` or with
//!   an unknown `--name` exits 2 naming the fix; an invalid `[[digest]]` exits 1 at file:line:col.
//! - `weekly_digest_names_the_outage_matches_report_and_is_sent_once_across_kill9`: with the
//!   digest clock fixed five seconds before a weekly occurrence (09:00 Europe/London), the
//!   message names the outage's page, its duration and the MTTR with the values derived by hand
//!   below, equal to `burnwatch report --format json` over the same week (and `burnwatch digest
//!   --preview --format json` says the same); the daemon is killed with SIGKILL while Slack holds
//!   the request open, restarted on the same data directory and clock, and Slack has received
//!   exactly one request for the occurrence (the restarted daemon counts it as in doubt). A
//!   daemon started 30 minutes after the occurrence sends it (the same message) once; one started
//!   three hours after skips it as missed.

use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario, render_openmetrics_history};
use burnwatch_tests::{Daemon, Prometheus, PrometheusOptions, free_port, stdout_of, wait_for};
use chrono::{Datelike, TimeZone, Timelike};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const M: i64 = 60;
const H: i64 = 3600;
const D: i64 = 86_400;
const ERRORS: &str = r#"http_requests_total{service="checkout",code=~"5.."}"#;
const TOTAL: &str = r#"http_requests_total{service="checkout"}"#;

fn burnwatch(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn rfc3339(unix: i64) -> String {
    chrono::Utc
        .timestamp_opt(unix, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The latest 09:00 Europe/London at least an hour before `now` (unix seconds), with its
/// weekday as RRULE writes it: the test's weekly occurrence, recent enough that Prometheus
/// keeps the two weeks before it.
fn occurrence(now: i64) -> (i64, &'static str) {
    let london = chrono_tz::Europe::London;
    let mut day = london.timestamp_opt(now - H, 0).unwrap().date_naive();
    loop {
        let nine = london
            .from_local_datetime(&day.and_hms_opt(9, 0, 0).unwrap())
            .earliest()
            .unwrap();
        if nine.timestamp() <= now - H {
            assert_eq!((nine.hour(), nine.minute()), (9, 0));
            let byday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
                [nine.weekday().num_days_from_monday() as usize];
            return (nine.timestamp(), byday);
        }
        day = day.pred_opt().unwrap();
    }
}

#[test]
fn weekly_digest_names_the_outage_matches_report_and_is_sent_once_across_kill9() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (occ, byday) = occurrence(now);
    // 09:00 London is a whole hour in UTC (GMT or BST), so the outage starts on an hour too.
    let outage = occ - 3 * D + 3 * H;
    let history_start = occ - 14 * D - H;
    let scenario = Scenario::checkout(vec![
        Phase::steady(history_start as f64, 20.0, 0.0005, 0.0),
        Phase::steady(outage as f64, 20.0, 0.2, 0.0),
        Phase::steady((outage + H) as f64, 20.0, 0.0005, 0.0),
    ]);
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(render_openmetrics_history(
            &scenario,
            history_start as f64,
            (occ + 30 * M) as f64,
            60.0,
        )),
        ..Default::default()
    });

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let slack = runtime.block_on(async {
        let slack = MockServer::start().await;
        // Slack holds the request open for a minute: the kill below lands while it is in
        // flight, after Slack has received (and would post) the message.
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string("ok")
                    .set_delay(Duration::from_secs(60)),
            )
            .mount(&slack)
            .await;
        slack
    });
    let slack_url = format!("{}/services/T0/B0/secret", slack.uri());
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:{}\"\n\n\
         [backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\nbackend = \"main\"\n\n\
         [[slo]]\nservice = \"checkout\"\nname = \"availability\"\nobjective = 99.9\n\
         labels = {{ team = \"payments\" }}\n\
         [slo.sli.ratio]\nerrors = '{ERRORS}'\ntotal = '{TOTAL}'\n\n\
         [receivers.sre-updates]\ntype = \"slack\"\nurl = \"${{SLACK_WEBHOOK_URL}}\"\ntimeout = \"90s\"\n\n\
         [[digest]]\nname = \"weekly-review\"\nkind = \"weekly\"\nreceivers = [\"sre-updates\"]\n\
         schedule = \"FREQ=WEEKLY;BYDAY={byday};BYHOUR=9\"\ntimezone = \"Europe/London\"\n\
         labels = {{ team = \"payments\" }}\n",
        free_port(),
        prometheus.url()
    );
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("burnwatch.toml");
    std::fs::write(&config_path, &config).unwrap();
    let config_arg = config_path.to_str().unwrap();
    let env = [("SLACK_WEBHOOK_URL", slack_url.as_str())];

    // Derived by hand from the scenario (default policy at 99.9%, 5-minute steps, outage O):
    // - page (5m/1h > 14.4 or 30m/6h > 6): at O+5m the 5m window burns 200x and the 1h window
    //   (5 x 200 + 55 x 0.5) / 60 = 17.1x: fires at O+5m. After the outage ends (O+1h) the
    //   5m/1h pair drops at O+1h5m, the 30m/6h pair holds while the 30m window holds outage
    //   minutes (O+1h25m: 5 of them, 33.7x) and drops at O+1h30m: resolved at O+1h30m, 1h 25m.
    // - ticket (2h/1d > 3 or 6h/3d > 1): the 3d window passes 1x once 199.5 t > 2160 (t > 10.8
    //   outage minutes) while the 6h window burns > 1x: fires at O+15m; the 6h/3d pair holds
    //   until the 6h window holds no outage minute: resolved at O+7h, 6h 45m.
    // - MTTR: (1h 25m + 6h 45m) / 2 = 4h 5m.
    let page = (outage + 5 * M, outage + 90 * M);
    let ticket = (outage + 15 * M, outage + 7 * H);
    let mttr = ((page.1 - page.0) + (ticket.1 - ticket.0)) / 2;
    assert_eq!((page.1 - page.0, mttr), (85 * M, 4 * H + 5 * M));

    // `burnwatch report` over the same week.
    let (start, end) = ((occ - 7 * D).to_string(), occ.to_string());
    let report: Value = serde_json::from_str(&stdout_of(&burnwatch(
        &[
            "report", "--config", config_arg, "--format", "json", "--start", &start, "--end", &end,
        ],
        &env,
    )))
    .unwrap();
    let slo = &report["slos"][0];
    assert_eq!(slo["slo"], "checkout-availability", "{report}");
    let incidents: Vec<(String, String, Value, i64)> = slo["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["severity"].as_str().unwrap().to_string(),
                i["start"].as_str().unwrap().to_string(),
                i["end"].clone(),
                i["duration_seconds"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected = vec![
        (
            "page".to_string(),
            rfc3339(page.0),
            Value::String(rfc3339(page.1)),
            page.1 - page.0,
        ),
        (
            "ticket".to_string(),
            rfc3339(ticket.0),
            Value::String(rfc3339(ticket.1)),
            ticket.1 - ticket.0,
        ),
    ];
    assert_eq!(incidents, expected, "report: {slo}");
    assert_eq!(slo["mttr_seconds"], mttr, "{slo}");

    // The preview of the same occurrence carries the same figures.
    let preview: Value = serde_json::from_str(&stdout_of(&burnwatch(
        &[
            "digest",
            "--config",
            config_arg,
            "--preview",
            "--name",
            "weekly-review",
            "--at",
            &end,
            "--format",
            "json",
        ],
        &env,
    )))
    .unwrap();
    let digest = &preview["digests"][0];
    assert_eq!(digest["occurrence"], rfc3339(occ), "{digest}");
    assert_eq!(digest["start"], rfc3339(occ - 7 * D), "{digest}");
    let service = &digest["services"][0];
    for (a, b) in [
        ("mttr_seconds", "mttr_seconds"),
        ("pages", "pages"),
        ("tickets", "tickets"),
    ] {
        assert_eq!(service[a], slo[b], "{a} against report's {b}: {service}");
    }
    // Two replays of the same data: equal up to the order of floating-point sums.
    for (a, b) in [
        ("sli", "sli"),
        ("burn", "budget_consumed"),
        ("budget_remaining", "budget_remaining_end"),
    ] {
        let (got, want) = (service[a].as_f64().unwrap(), slo[b].as_f64().unwrap());
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{a} {got} against report's {b} {want}"
        );
    }
    let from_report: Vec<Value> = slo["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            serde_json::json!({ "severity": i["severity"], "start": i["start"], "end": i["end"],
                "duration_seconds": i["duration_seconds"] })
        })
        .collect();
    assert_eq!(service["incidents"], Value::Array(from_report));
    // 1h at 20% in a week at 0.05%: the week missed 99.9%, so the service is red.
    assert_eq!(service["status"], "red", "{service}");
    let text = stdout_of(&burnwatch(
        &["digest", "--config", config_arg, "--preview", "--at", &end],
        &env,
    ));
    assert!(
        text.contains(&format!(
            "Incident: page from {} to {} (1h 25m)",
            rfc3339(page.0),
            rfc3339(page.1)
        )),
        "{text}"
    );
    assert!(text.contains("RED checkout-availability"), "{text}");

    // The daemon, its digest clock five seconds before the occurrence.
    let data = dir.path().join("data");
    let clock = rfc3339(occ - 5);
    let daemon_env = [
        ("SLACK_WEBHOOK_URL", slack_url.as_str()),
        ("BURNWATCH_DIGEST_CLOCK", clock.as_str()),
    ];
    let received = || {
        runtime
            .block_on(slack.received_requests())
            .unwrap_or_default()
    };
    let mut daemon = Daemon::start_in(
        std::path::Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config,
        &daemon_env,
        &data,
    );
    let request = wait_for("the digest at Slack", Duration::from_secs(180), || {
        received().into_iter().next()
    });
    // Killed while Slack holds the request: the journal says `sending`, never `sent`.
    daemon.kill9();
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let text = body.to_string();
    let named = format!(
        "page from {} to {} (1h 25m)",
        rfc3339(page.0),
        rfc3339(page.1)
    );
    assert!(
        text.contains(&named),
        "the message does not name the outage ({named}): {text}"
    );
    assert!(text.contains("MTTR 4h 5m"), "{text}");
    assert!(text.contains("escalations: 1 page, 1 ticket"), "{text}");
    assert!(text.contains("checkout-availability"), "{text}");
    assert!(body["blocks"].as_array().unwrap().len() <= 50, "{body}");

    // Restarted on the same data and clock: the occurrence comes round again, the journal
    // holds its intent, and it is not sent again (at most once; see digest_sender.rs).
    let daemon = Daemon::start_in(
        std::path::Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config,
        &daemon_env,
        &data,
    );
    daemon.wait_sample(
        "burnwatch_digests_skipped_total",
        &["digest=\"weekly-review\"", "reason=\"in_doubt\""],
        Some(1.0),
        Duration::from_secs(60),
    );
    assert_eq!(
        received().len(),
        1,
        "Slack got the occurrence more than once"
    );
    assert!(daemon.log().contains("not sent again"), "{}", daemon.log());
}

#[test]
fn preview_usage_and_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("burnwatch.toml");
    let config = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:1\"\n\n\
         [[slo]]\nservice = \"checkout\"\nname = \"availability\"\nobjective = 99.9\nbackend = \"main\"\n\
         [slo.sli.ratio]\nerrors = '{ERRORS}'\ntotal = '{TOTAL}'\n\n\
         [receivers.sre-updates]\ntype = \"webhook\"\nurl_file = \"/nonexistent\"\n\n\
         [[digest]]\nname = \"weekly-review\"\nkind = \"weekly\"\nreceivers = [\"sre-updates\"]\n\
         schedule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\"\n"
    );
    std::fs::write(&path, &config).unwrap();
    let file = path.to_str().unwrap();
    let out = burnwatch(&["digest", "--config", file], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --preview"));
    let out = burnwatch(
        &["digest", "--config", file, "--preview", "--name", "nope"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("defined: weekly-review"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&path, config.replace("BYDAY=MO", "BYDAY=XX")).unwrap();
    let out = burnwatch(&["digest", "--config", file, "--preview"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("burnwatch.toml:22:12"), "{stderr}");
}
