//! Sharding over replicas: two daemons on one configuration, `--shard-count 2` with index 0 and
//! 1 (as environment variables, the way a Deployment sets them, and as the StatefulSet ordinal
//! in HOSTNAME), split the SLOs between them: every SLO on exactly one, none on both.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use burnwatch_tests::{Daemon, Prometheus, PrometheusOptions, free_port};

const SLOS: usize = 12;

fn config(prometheus: &Prometheus) -> String {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{}\"\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\ninterval = \"1s\"\n\n",
        free_port(),
        prometheus.url()
    );
    for i in 0..SLOS {
        text.push_str(&format!(
            "[[slo]]\nservice = \"svc{i}\"\nname = \"availability\"\nobjective = 99.9\n[slo.sli.ratio]\nerrors = 'http_requests_total{{service=\"svc{i}\",code=~\"5..\"}}'\ntotal = 'http_requests_total{{service=\"svc{i}\"}}'\n\n"
        ));
    }
    text
}

/// The `sloth_id`s a daemon has evaluated (its Prometheus has no series, so evaluations are
/// what shows which SLOs it runs).
fn evaluated(daemon: &Daemon) -> BTreeSet<String> {
    let (_, body) = daemon.get("/metrics").expect("metrics");
    body.lines()
        .filter(|l| l.starts_with("burnwatch_slo_evaluations_total{"))
        .filter_map(|l| l.split("sloth_id=\"").nth(1)?.split('"').next())
        .map(str::to_string)
        .collect()
}

fn start(prometheus: &Prometheus, env: &[(&str, &str)]) -> Daemon {
    let daemon = Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config(prometheus),
        env,
    );
    daemon.wait_ready(Duration::from_secs(60));
    daemon
}

#[test]
fn two_shards_split_the_slos_without_overlap() {
    let prometheus = Prometheus::start(PrometheusOptions::default());
    let count = [("BURNWATCH_SHARD_COUNT", "2")];
    let zero = start(&prometheus, &[count[0], ("BURNWATCH_SHARD_INDEX", "0")]);
    // The second as StatefulSet pod 1: the index comes from the host name.
    let one = start(&prometheus, &[count[0], ("HOSTNAME", "burnwatch-1")]);
    let want: BTreeSet<String> = (0..SLOS).map(|i| format!("svc{i}-availability")).collect();
    // Every SLO ticks once a second, at its own offset.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (mut a, mut b) = (evaluated(&zero), evaluated(&one));
    while a.len() + b.len() < SLOS && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        (a, b) = (evaluated(&zero), evaluated(&one));
    }
    eprintln!("shard 0: {} SLOs, shard 1: {} SLOs", a.len(), b.len());
    assert!(
        a.is_disjoint(&b),
        "on both: {:?}",
        a.intersection(&b).collect::<Vec<_>>()
    );
    let all: BTreeSet<String> = a.union(&b).cloned().collect();
    assert_eq!(all, want);
    assert!(!a.is_empty() && !b.is_empty(), "one shard got everything");
    assert!(
        zero.log()
            .contains(&format!("evaluates {} of the {SLOS} SLOs", a.len())),
        "{}",
        zero.log()
    );

    // Without an index or an ordinal, the daemon refuses to start and says what to do.
    let mut lost = Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_burnwatch")),
        &config(&prometheus),
        &[count[0], ("HOSTNAME", "burnwatch-7d9f")],
    );
    let status = lost.child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{}", lost.log());
    assert!(lost.log().contains("--shard-index"), "{}", lost.log());
}
