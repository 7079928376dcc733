//! Configuration reload (`POST /-/reload` and SIGHUP) against a real Prometheus: unchanged SLOs
//! run on untouched, changed ones are rebuilt, new ones appear, removed ones leave /metrics, a
//! file with the same effect changes nothing, and an invalid file changes nothing but the
//! reload gauge.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario, render_openmetrics_history};
use burnwatch_tests::{Daemon, Prometheus, PrometheusOptions, free_port};

const H: f64 = 3600.0;
const D: f64 = 86_400.0;
const GAUGE: &str = "burnwatch_config_last_reload_successful";

fn slo(name: &str, objective: &str) -> String {
    format!(
        "[[slo]]\nservice = \"checkout\"\nname = \"{name}\"\nobjective = {objective}\n[slo.sli.ratio]\n\
         errors = 'http_requests_total{{service=\"checkout\",code=~\"5..\"}}'\n\
         total = 'http_requests_total{{service=\"checkout\"}}'\n\n"
    )
}

/// Whether one log line contains every needle.
fn logged(daemon: &Daemon, needles: &[&str]) -> bool {
    daemon
        .log()
        .lines()
        .any(|line| needles.iter().all(|n| line.contains(n)))
}

const RESTORED: &str = "restored from the state snapshot";

#[test]
fn reload_keeps_unchanged_slos_and_rejects_invalid_files() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let s = (now / H).floor() * H - D;
    let scenario = Scenario::checkout(vec![Phase::steady(s, 20.0, 0.002, 0.0)]);
    let prometheus = Prometheus::start(PrometheusOptions {
        history: Some(render_openmetrics_history(
            &scenario,
            s,
            s + D - 2.0 * H,
            30.0,
        )),
        ..Default::default()
    });
    let head = format!(
        "[server]\nlisten = \"127.0.0.1:{}\"\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\ninterval = \"1s\"\n\n",
        free_port(),
        prometheus.url()
    );
    let daemon = Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &format!("{head}{}{}", slo("kept", "99.9"), slo("changed", "99.9")),
        &[],
    );
    daemon.wait_ready(Duration::from_secs(60));
    let objective = |name: &str| {
        daemon.sample(
            "slo:objective:ratio",
            &[&format!(r#"sloth_id="checkout-{name}""#)],
        )
    };
    assert_eq!(objective("changed"), Some(0.999));
    daemon.expect_sample(GAUGE, &[], Some(1.0));

    // kept: unchanged; changed: another objective; added: new; nothing removed yet.
    std::fs::write(
        daemon.config_path(),
        format!(
            "{head}{}{}{}",
            slo("kept", "99.9"),
            slo("changed", "99.5"),
            slo("added", "99")
        ),
    )
    .unwrap();
    let (status, body) = daemon.post("/-/reload").expect("reload answered");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("3 SLOs, 1 kept their state") && body.contains("2 rebuilt or added"),
        "{body}"
    );
    daemon.wait_ready(Duration::from_secs(60));
    daemon.expect_sample(
        "slo:objective:ratio",
        &[r#"sloth_id="checkout-changed""#],
        Some(0.995),
    );
    daemon.expect_sample(
        "slo:objective:ratio",
        &[r#"sloth_id="checkout-added""#],
        Some(0.99),
    );
    // Its second backfill (the first was at start).
    let backfills = || {
        daemon
            .log()
            .lines()
            .filter(|l| l.contains("backfill done") && l.contains("slo=checkout-changed"))
            .count()
    };
    for _ in 0..100 {
        if backfills() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        backfills(),
        2,
        "the changed SLO was not rebuilt:\n{}",
        daemon.log()
    );
    assert!(
        !logged(&daemon, &[RESTORED, "slo=checkout-changed"]),
        "a changed SLO must not resume its old state"
    );
    // The kept SLO ran on: neither restored nor backfilled again.
    let kept_starts = |what: &str| {
        daemon
            .log()
            .lines()
            .filter(|l| l.contains(what) && l.contains("slo=checkout-kept"))
            .count()
    };
    assert_eq!(kept_starts("backfill done"), 1, "{}", daemon.log());
    assert_eq!(kept_starts(RESTORED), 0, "{}", daemon.log());

    // The same file again: nothing restarts, readiness never drops, at once.
    let (status, body) = daemon.post("/-/reload").expect("reload answered");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("unchanged"), "{body}");
    assert_eq!(daemon.get("/readyz").map(|(s, _)| s), Some(200));
    assert_eq!(
        kept_starts("backfill done") + backfills(),
        3,
        "{}",
        daemon.log()
    );

    // An invalid file: 400 naming the problem, the gauge at 0, the running SLOs untouched.
    std::fs::write(
        daemon.config_path(),
        format!("{head}{}", slo("kept", "150")),
    )
    .unwrap();
    let (status, body) = daemon.post("/-/reload").expect("reload answered");
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("burnwatch.toml:") && body.contains("objective 150"),
        "{body}"
    );
    daemon.expect_sample(GAUGE, &[], Some(0.0));
    assert_eq!(
        objective("added"),
        Some(0.99),
        "the old configuration stopped"
    );

    // SIGHUP with a valid file that drops two SLOs: they leave /metrics, the gauge is 1 again.
    std::fs::write(
        daemon.config_path(),
        format!("{head}{}", slo("kept", "99.9")),
    )
    .unwrap();
    daemon.sighup();
    daemon.expect_sample(GAUGE, &[], Some(1.0));
    daemon.expect_sample(
        "slo:objective:ratio",
        &[r#"sloth_id="checkout-added""#],
        None,
    );
    assert_eq!(objective("kept"), Some(0.999));

    // No signal at all: a changed file (as a Kubernetes ConfigMap update) is picked up by itself.
    std::fs::write(
        daemon.config_path(),
        format!("{head}{}{}", slo("kept", "99.9"), slo("watched", "99.95")),
    )
    .unwrap();
    daemon.wait_sample(
        "slo:objective:ratio",
        &[r#"sloth_id="checkout-watched""#],
        Some(0.9995),
        Duration::from_secs(30),
    );
}
