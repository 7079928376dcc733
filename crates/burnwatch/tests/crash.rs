//! Restart semantics under `kill -9`, against real parts: a simulated service with an incident,
//! a real Prometheus scraping it every second, the burnwatch binary ticking each second with its
//! data directory kept across runs, and PagerDuty (Events API v2), Alertmanager, Opsgenie (Alert
//! API v2) and Microsoft Teams (a webhook) played by wiremock so that every request is counted.
//!
//! Timeline, in seconds after the start:
//! - healthy traffic (0.1% errors); run 0 starts and stops cleanly: an engine snapshot with the
//!   page inactive.
//! - 8..60 the incident: 20% errors, a burn rate of 200 against the 14.4 of the 1m/5m page.
//!   PagerDuty answers 500 until 75, then 202: the trigger waits in retry across kills.
//! - run 1: the page fires; killed while it writes its engine snapshot, a minute after its start.
//! - until 100, short runs, each killed at a seeded moment within 2 s of its start (start-up,
//!   loading, the gap read, a delivery, a retry) or while it writes its notification state;
//!   the page fires on, and the trigger goes out in one of them.
//! - nobody runs from 100 to 125; the incident's 1m window clears at about 116.
//! - the return at 125: the page is resolved; the run is killed the moment PagerDuty hears the
//!   resolve (before the notifier's journal or the engine's snapshot may hold it); three more
//!   kills after the resolve, then a run until its engine has resolved the page, a clean stop.
//!
//! Asserted: no run's log sets a store aside or reports it unreadable (or an error); PagerDuty
//! accepts exactly one trigger before the resolve (every request with the one dedup_key), after
//! at least one kill of a run that had it pending (nothing lost); after the resolve, repeats
//! stay within what docs/operations.md allows (delivery is at least once): a trigger only after
//! a kill that left the engine snapshot without the resolve, a resolve only after a kill that
//! left the journal without it (each checked in the files the next run loads); Alertmanager
//! hears the firing page at least a minute apart each time (resends resume from the last send,
//! not from each restart) and hears the resolve. Opsgenie: every create carries the one alias
//! (so Opsgenie de-duplicates any create sent again after a kill) and every close names it;
//! closes come after the return, as often as the same at-least-once bound allows. Teams, which
//! de-duplicates nothing: a second firing card only after a kill between the two, resolved cards
//! within the same bound as PagerDuty's resolves.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burnwatch_simulator::{Phase, Scenario};
use burnwatch_tests::{Daemon, Exporter, Prometheus, PrometheusOptions, free_port};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Seeds the "random" kill moments; change it to explore other interleavings.
const SEED: u64 = 0x6b69_6c6c_2d39;
/// The incident, in seconds after the start.
const INCIDENT: (f64, f64) = (8.0, 60.0);
/// PagerDuty answers 500 until then.
const PAGERDUTY_DOWN_UNTIL: f64 = 75.0;
/// Short runs follow each other until then; the incident's 1m window clears (about 56 s after
/// its end) while nobody runs.
const SHORT_RUNS_UNTIL: f64 = 100.0;
/// The longest a short run lives.
const SHORT_RUN_MAX: Duration = Duration::from_secs(2);
/// When the daemon returns after the incident ended while it was down.
const RETURN_AT: f64 = 125.0;
/// How long after the return the resolve may take. The engine resumes from a snapshot older
/// than the incident's end and spreads the events of the gap since evenly over it, so its 1m
/// window shows the gap's average until a minute of live ticks has replaced it.
const RESOLVE_WITHIN: Duration = Duration::from_secs(90);
/// The page pair's threshold as an error ratio: 14.4 × (1 − 99.9%).
const PAGE_RATIO: f64 = 14.4 * 0.001;

const OPSGENIE_KEY: &str = "0P5G3N1E-crash-key";
const TEAMS_PATH: &str = "/workflows/crash/triggers/manual/paths/invoke";
const TEAMS_SIG: &str = "sig=CRA5Hs1gnature";

const ENGINE_FILE: &str = "state.db";
const NOTIFIER_FILE: &str = "notifications.json";
const PAGE: [&str; 2] = [
    r#"sloth_id="checkout-availability""#,
    r#"sloth_severity="page""#,
];
/// Log lines no run may contain: a store set aside, unreadable or corrupt, or a crash.
const BAD_LOG: [&str; 5] = [
    "set aside",
    "starting without it",
    "cannot be read",
    "panicked",
    " ERROR ",
];

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_burnwatch"))
}

fn wall_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// splitmix64: deterministic moments without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One request a mock received.
#[derive(Debug, Clone)]
struct Received {
    at: Instant,
    path: String,
    wall: f64,
    body: Value,
    status: u16,
}

/// A receiver endpoint: answers 500 until `down_until`, then `ok`; records every request.
#[derive(Clone)]
struct Endpoint {
    ok: u16,
    down_until: Option<Instant>,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Endpoint {
    fn new(ok: u16, down_until: Option<Instant>) -> Self {
        Endpoint {
            ok,
            down_until,
            log: Arc::default(),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
}

impl wiremock::Respond for Endpoint {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let status = match self.down_until {
            Some(until) if Instant::now() < until => 500,
            _ => self.ok,
        };
        self.log.lock().unwrap().push(Received {
            at: Instant::now(),
            path: request.url.path().to_string(),
            wall: wall_secs(),
            body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
            status,
        });
        if status == 202 {
            ResponseTemplate::new(202).set_body_json(json!({
                "status": "success", "message": "Event processed"
            }))
        } else {
            ResponseTemplate::new(status)
        }
    }
}

fn sleep_until(at: Instant) {
    if let Some(wait) = at.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
}

/// Identity and version of a file: a rewrite (even to the same length) changes it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stamp {
    ino: u64,
    mtime_ns: i64,
    len: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        ino: m.ino(),
        mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
        len: m.len(),
    })
}

/// The daemon's runs on one data directory.
struct Runs {
    config: String,
    data: PathBuf,
    /// Runs so far.
    count: usize,
    /// When each kill -9 happened.
    kills: Vec<Instant>,
    t0: Instant,
}

/// A started run: the daemon, when it started, and its stores' stamps before it did.
struct Started {
    daemon: Daemon,
    at: Instant,
    before: [(Option<Stamp>, Option<Stamp>); 2],
}

impl Runs {
    /// A store's file and where a write goes first: the temporary file of a JSON state file,
    /// the write-ahead log of the engine's database.
    fn files(&self, name: &str) -> (PathBuf, PathBuf) {
        let file = self.data.join(name);
        let tmp = if name.ends_with(".db") {
            self.data.join(format!("{name}-wal"))
        } else {
            file.with_extension("json.tmp")
        };
        (file, tmp)
    }

    /// The engine's snapshot as the next run loads it, as JSON (Null when there is none).
    fn engine_snapshot(&self) -> Value {
        let store = burnwatch_scheduler::Store::new(&self.data);
        let hub = burnwatch_scheduler::Snapshots::new(store.load(0));
        assert!(
            !self.data.join("state.db.bad-0").exists(),
            "the engine's snapshot does not open"
        );
        hub.take("checkout-availability")
            .map_or(Value::Null, |s| serde_json::to_value(s).unwrap())
    }

    fn stamps(&self, name: &str) -> (Option<Stamp>, Option<Stamp>) {
        let (file, tmp) = self.files(name);
        (stamp(&file), stamp(&tmp))
    }

    fn start(&self) -> Started {
        let before = [self.stamps(ENGINE_FILE), self.stamps(NOTIFIER_FILE)];
        let daemon = Daemon::start_in(
            bin(),
            &self.config,
            &[("PD_ROUTING_KEY", "R0UT1NGKEY-crash")],
            &self.data,
        );
        Started {
            daemon,
            at: Instant::now(),
            before,
        }
    }

    /// Waits (polling every 100 µs) from `from` after the start until `name` is being replaced
    /// (its temporary file appears or changes) or has just been (the file changed); at most
    /// until `limit` after the start. Says which.
    fn await_write(&self, run: &Started, name: &str, from: Duration, limit: Duration) -> String {
        let (file, tmp) = self.files(name);
        let (file_before, tmp_before) = run.before[usize::from(name == NOTIFIER_FILE)];
        sleep_until(run.at + from);
        while run.at.elapsed() < limit {
            let tmp_now = stamp(&tmp);
            if tmp_now.is_some() && tmp_now != tmp_before {
                return format!("while writing {name}");
            }
            if stamp(&file) != file_before {
                return format!("just after writing {name}");
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        format!("at {limit:?}, no write of {name} seen")
    }

    /// kill -9, then check the run's log.
    fn kill(&mut self, mut run: Started, how: String) {
        let uptime = run.at.elapsed();
        run.daemon.kill9();
        self.kills.push(Instant::now());
        self.record(run, uptime, how);
    }

    /// The run's log must show clean loads (and its notification state loaded, if it lived a
    /// second); one line of summary on stderr.
    fn record(&mut self, run: Started, uptime: Duration, how: String) {
        self.count += 1;
        let index = self.count;
        let log = run.daemon.log();
        for bad in BAD_LOG {
            assert!(
                !log.contains(bad),
                "run {index} ({how}, after {uptime:?}): {bad:?} in its log:\n{log}"
            );
        }
        let notifier_loaded = log.contains("notification state loaded");
        if uptime >= Duration::from_secs(1) {
            assert!(
                notifier_loaded,
                "run {index} lived {uptime:?} without loading its notification state:\n{log}"
            );
        }
        let engine = if log.contains("restored from the state snapshot") {
            "restored"
        } else if log.contains("backfill done") {
            "backfilled"
        } else {
            "-"
        };
        eprintln!(
            "{:>6.1}s run {index:>2}: {uptime:>9.2?} {how:<36} notifier loaded: {notifier_loaded:<5} engine: {engine}",
            (run.at - self.t0).as_secs_f64(),
        );
    }
}

/// What the stores held at a kill after PagerDuty had heard the resolve.
struct AfterResolve {
    /// The notifier's journal records the page's resolve as delivered to PagerDuty (else the
    /// next run sends it again).
    journal_knows: bool,
    /// The same for Opsgenie's close and Teams' resolved card.
    genie_journal_knows: bool,
    chat_journal_knows: bool,
    /// The engine's snapshot holds the page resolved (else the next run resumes it firing,
    /// or from before it fired, and evaluates the gap again).
    engine_knows: bool,
}

impl Runs {
    fn after_resolve(&self) -> AfterResolve {
        let read = |name: &str| -> Value {
            std::fs::read_to_string(self.data.join(name))
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null)
        };
        let journal = read(NOTIFIER_FILE);
        let knows = |receiver: &str| {
            journal["receivers"][receiver]["resolved"]
                .as_array()
                .is_some_and(|resolved| {
                    resolved.iter().any(|a| {
                        a["delivered"] == true
                            && a["notification"]["kind"] == "page"
                            && a["notification"]["status"] == "resolved"
                    })
                })
        };
        let engine = self.engine_snapshot();
        let engine_knows = engine["instances"][0]["alerts"]["alerts"]
            .as_array()
            .and_then(|alerts| alerts.iter().find(|a| a["kind"] == "page"))
            .is_some_and(|page| page["state"] != "firing" && !page["resolved_at"].is_null());
        AfterResolve {
            journal_knows: knows("pager"),
            genie_journal_knows: knows("genie"),
            chat_journal_knows: knows("chat"),
            engine_knows,
        }
    }
}

/// PagerDuty requests with `action`.
fn events<'a>(received: &'a [Received], action: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|r| r.body["event_action"] == action)
        .collect()
}

fn accepted<'a>(received: &[&'a Received]) -> Vec<&'a Received> {
    received
        .iter()
        .copied()
        .filter(|r| r.status == 202)
        .collect()
}

/// Alertmanager requests holding the page, and whether it was firing in each (a firing alert's
/// `endsAt` lies minutes ahead, a resolved one's in the past).
fn alertmanager_page(received: &[Received]) -> Vec<(&Received, bool)> {
    received
        .iter()
        .filter_map(|r| {
            let page = r.body.as_array()?.iter().find(|a| {
                a["labels"]["sloth_id"] == "checkout-availability"
                    && a["labels"]["sloth_severity"] == "page"
            })?;
            let ends_at = humantime::parse_rfc3339_weak(page["endsAt"].as_str()?).ok()?;
            let ends_at = ends_at.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
            Some((r, ends_at > r.wall + 60.0))
        })
        .collect()
}

#[test]
fn kill_9_at_any_moment_neither_pages_twice_nor_loses_nor_invents_a_notification() {
    let t0 = Instant::now();
    let wall0 = wall_secs();
    let at = |secs: f64| t0 + Duration::from_secs_f64(secs);
    let exporter = Exporter::start(Scenario::checkout(vec![
        Phase::steady(wall0 - 120.0, 100.0, 0.001, 0.0),
        Phase::steady(wall0 + INCIDENT.0, 100.0, 0.2, 0.0),
        Phase::steady(wall0 + INCIDENT.1, 100.0, 0.001, 0.0),
    ]));
    let addr = exporter.addr().to_string();
    let errors =
        format!(r#"http_requests_total{{service="checkout",instance="{addr}",code=~"5.."}}"#);
    let total = format!(r#"http_requests_total{{service="checkout",instance="{addr}"}}"#);
    let prometheus = Prometheus::start(PrometheusOptions {
        scrape_targets: vec![addr.clone()],
        ..Default::default()
    });
    // The page's short window as Prometheus computes it: the premise of each phase.
    let short_ratio = || {
        let q = format!("sum(rate({errors}[1m])) / sum(rate({total}[1m]))");
        let answer = burnwatch_tests::http_client()
            .post(format!("{}/api/v1/query", prometheus.url()))
            .form(&[("query", q.clone()), ("time", format!("{}", wall_secs()))])
            .send()
            .and_then(|r| r.json::<Value>());
        let body = answer
            .unwrap_or_else(|err| panic!("{q}: {err:?}; Prometheus' log:\n{}", prometheus.log()));
        body["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pagerduty = Endpoint::new(202, Some(at(PAGERDUTY_DOWN_UNTIL)));
    let alertmanager = Endpoint::new(200, None);
    let opsgenie = Endpoint::new(202, None);
    let teams = Endpoint::new(202, None);
    let (pd_server, am_server, og_server, teams_server) = runtime.block_on(async {
        let pd = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .respond_with(pagerduty.clone())
            .mount(&pd)
            .await;
        let am = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v2/alerts"))
            .respond_with(alertmanager.clone())
            .mount(&am)
            .await;
        let og = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/v2/alerts(/[^/]+/close)?$"))
            .respond_with(opsgenie.clone())
            .mount(&og)
            .await;
        let chat = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(TEAMS_PATH))
            .respond_with(teams.clone())
            .mount(&chat)
            .await;
        (pd, am, og, chat)
    });

    let secrets_dir = tempfile::tempdir().unwrap();
    let secrets = secrets_dir.path();
    std::fs::write(secrets.join("opsgenie.key"), format!("{OPSGENIE_KEY}\n")).unwrap();
    let teams_url = format!("{}{TEAMS_PATH}?{TEAMS_SIG}", teams_server.uri());
    std::fs::write(secrets.join("teams.url"), teams_url).unwrap();
    let config = format!(
        r#"[server]
listen = "127.0.0.1:{port}"

[backends.main]
type = "prometheus"
url = "{prometheus}"

[defaults]
interval = "1s"

[defaults.alerting]
ticket = false
no_data = false

[[defaults.alerting.windows]]
severity = "page"
short = "1m"
long = "5m"
factor = 14.4

[[slo]]
service = "checkout"
name = "availability"
objective = 99.9
[slo.sli.ratio]
errors = '{errors}'
total = '{total}'

[receivers.pager]
type = "pagerduty"
routing_key = "${{PD_ROUTING_KEY}}"
url = "{pagerduty}/v2/enqueue"

[receivers.am]
type = "alertmanager"
url = "{alertmanager}"

# Secrets in files, read at each send, as from a mounted Kubernetes secret.
[receivers.genie]
type = "opsgenie"
url = "{opsgenie}"
api_key_file = "{genie_key}"

[receivers.chat]
type = "teams"
url_file = "{chat_url}"

[[route]]
receivers = ["pager", "am", "genie", "chat"]
"#,
        port = free_port(),
        opsgenie = og_server.uri(),
        genie_key = secrets.join("opsgenie.key").display(),
        chat_url = secrets.join("teams.url").display(),
        prometheus = prometheus.url(),
        pagerduty = pd_server.uri(),
        alertmanager = am_server.uri(),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Runs {
        config,
        data: dir.path().join("data"),
        count: 0,
        kills: Vec::new(),
        t0,
    };
    let mut rng = Rng(SEED);
    // Run 0: a clean start and stop before the incident leaves an engine snapshot.
    let mut run0 = runs.start();
    run0.daemon.wait_ready(Duration::from_secs(60));
    run0.daemon.wait_sample(
        "burnwatch_alert_active",
        &PAGE,
        Some(0.0),
        Duration::from_secs(20),
    );
    let uptime = run0.at.elapsed();
    run0.daemon.stop(Duration::from_secs(10));
    runs.record(run0, uptime, "SIGTERM before the incident".into());
    assert!(runs.data.join(ENGINE_FILE).exists());
    assert!(runs.data.join(NOTIFIER_FILE).exists());

    // Run 1: the page fires while PagerDuty answers 500; killed while it writes its engine
    // snapshot, the trigger in retry.
    let run1 = runs.start();
    run1.daemon.wait_ready(Duration::from_secs(60));
    run1.daemon.wait_sample(
        "burnwatch_alert_active",
        &PAGE,
        Some(1.0),
        Duration::from_secs(30),
    );
    let how = runs.await_write(
        &run1,
        ENGINE_FILE,
        Duration::from_secs(57),
        Duration::from_secs(70),
    );
    runs.kill(run1, how);
    assert!(
        accepted(&events(&pagerduty.received(), "trigger")).is_empty(),
        "PagerDuty was down"
    );

    // Short runs, the page firing; PagerDuty comes back among them.
    while Instant::now() + SHORT_RUN_MAX < at(SHORT_RUNS_UNTIL) {
        let on_write = rng.unit() < 0.35;
        let after = SHORT_RUN_MAX.mul_f64(0.1 + 0.9 * rng.unit());
        let run = runs.start();
        let how = if on_write {
            runs.await_write(&run, NOTIFIER_FILE, Duration::ZERO, SHORT_RUN_MAX)
        } else {
            sleep_until(run.at + after);
            format!("at {after:.2?}")
        };
        runs.kill(run, how);
    }

    // Down while the incident's short window clears.
    let ratio = short_ratio();
    assert!(
        ratio > 2.0 * PAGE_RATIO,
        "premise: the incident still burns when the daemon goes down (1m error ratio {ratio})"
    );
    assert!(
        events(&pagerduty.received(), "resolve").is_empty(),
        "resolved while the incident burned: {:?}",
        pagerduty.received()
    );
    sleep_until(at(RETURN_AT));
    let ratio = short_ratio();
    assert!(
        ratio < 0.5 * PAGE_RATIO,
        "premise: the incident is over at the return (1m error ratio {ratio})"
    );

    // The return: the page is resolved; the run is killed the moment PagerDuty hears the
    // resolve, inside the window in which the receiver has it but the notifier's journal and
    // the engine's snapshot may not yet: what can repeat is what this window allows.
    let back = runs.start();
    let returned = back.at;
    back.daemon.wait_ready(Duration::from_secs(60));
    let deadline = returned + RESOLVE_WITHIN;
    while events(&pagerduty.received(), "resolve").is_empty() {
        assert!(
            Instant::now() < deadline,
            "no resolve after the return; PagerDuty got {:?}\nnotification state: {}\nlog:\n{}",
            pagerduty.received(),
            std::fs::read_to_string(runs.data.join(NOTIFIER_FILE)).unwrap_or_default(),
            back.daemon.log()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    let resolved_after = returned.elapsed();
    runs.kill(back, "the moment PagerDuty heard the resolve".into());
    let mut windows = vec![runs.after_resolve()];

    // More kills right after the resolve, then a run that lives until its engine has resolved
    // the page too (it may resume from a snapshot older than the resolve), then stops cleanly.
    for _ in 0..3 {
        let after = SHORT_RUN_MAX.mul_f64(0.2 + 0.8 * rng.unit());
        let run = runs.start();
        sleep_until(run.at + after);
        runs.kill(run, format!("at {after:.2?}, after the resolve"));
        windows.push(runs.after_resolve());
    }
    let mut last = runs.start();
    last.daemon.wait_ready(Duration::from_secs(60));
    last.daemon
        .wait_sample("burnwatch_alert_active", &PAGE, Some(0.0), RESOLVE_WITHIN);
    std::thread::sleep(Duration::from_secs(3));
    let uptime = last.at.elapsed();
    last.daemon.stop(Duration::from_secs(10));
    runs.record(last, uptime, "SIGTERM at the end".into());
    let unjournaled = windows.iter().filter(|w| !w.journal_knows).count();
    let genie_unjournaled = windows.iter().filter(|w| !w.genie_journal_knows).count();
    let chat_unjournaled = windows.iter().filter(|w| !w.chat_journal_knows).count();
    let unsnapshotted = windows.iter().filter(|w| !w.engine_knows).count();
    eprintln!(
        "kills after the resolve: {}; the journal did not yet record the resolve at {unjournaled}, \
         the engine snapshot did not yet hold it at {unsnapshotted}",
        windows.len()
    );

    let kills = runs.kills.len();
    eprintln!(
        "{kills} kill -9 cycles in {:.0?}; resolved {resolved_after:.1?} after the return",
        t0.elapsed()
    );
    assert!(kills >= 20, "{kills} kills");

    // PagerDuty: one incident, one trigger accepted, after a kill of a run that had it pending.
    let received = pagerduty.received();
    let summary: Vec<String> = received
        .iter()
        .map(|r| {
            format!(
                "{:.1}s {} {}",
                (r.at - t0).as_secs_f64(),
                r.body["event_action"].as_str().unwrap_or("?"),
                r.status
            )
        })
        .collect();
    eprintln!("PagerDuty requests: {summary:?}");
    let triggers = events(&received, "trigger");
    let resolves = events(&received, "resolve");
    assert_eq!(
        triggers.len() + resolves.len(),
        received.len(),
        "{summary:?}"
    );
    let dedup_key = triggers[0].body["dedup_key"].as_str().unwrap().to_string();
    assert!(dedup_key.contains("checkout-availability"), "{dedup_key}");
    assert!(
        received
            .iter()
            .all(|r| r.body["dedup_key"] == dedup_key.as_str()),
        "one incident, one dedup_key: {summary:?}"
    );
    // At-least-once, bounded as docs/operations.md says: after the first resolve, a trigger
    // may come again only from a run that resumed from an engine snapshot older than the
    // resolve, and a resolve again only from a run whose notifier journal had not recorded the
    // delivered one. Every repeat carries the one dedup_key (asserted above).
    let first_resolve = events(&received, "resolve")[0].at;
    let refired = accepted(&triggers)
        .iter()
        .filter(|t| t.at > first_resolve)
        .count();
    assert!(
        refired <= unsnapshotted,
        "{refired} triggers after the resolve, but only {unsnapshotted} kills left the engine \
         snapshot without it: {summary:?}"
    );
    let accepted_triggers: Vec<&Received> = accepted(&triggers)
        .into_iter()
        .filter(|t| t.at < first_resolve)
        .collect();
    assert_eq!(
        accepted_triggers.len(),
        1,
        "exactly one trigger accepted before the resolve: {summary:?}"
    );
    let (first, delivered) = (triggers[0].at, accepted_triggers[0].at);
    assert!(
        runs.kills.iter().any(|k| first < *k && *k < delivered),
        "the trigger pending at a kill arrives after the restart: {summary:?}"
    );
    // Resolves only after the return (not while the incident burned); more than one only as
    // often as a kill left the delivered one out of the journal, or a re-fired page (above)
    // was resolved again.
    assert!(
        !resolves.is_empty() && resolves.len() <= 1 + unjournaled + refired,
        "{} resolves; {unjournaled} kills before the journal recorded one, {refired} re-fired \
         pages: {summary:?}",
        resolves.len()
    );
    assert!(
        resolves.iter().all(|r| r.status == 202 && r.at > returned),
        "{summary:?}"
    );

    // Alertmanager: the firing page re-sent on schedule across every restart, then resolved.
    let am = alertmanager.received();
    let page = alertmanager_page(&am);
    let firing: Vec<Instant> = page
        .iter()
        .filter(|(_, firing)| *firing)
        .map(|(r, _)| r.at)
        .collect();
    let gaps: Vec<f64> = firing
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    eprintln!(
        "Alertmanager: {} posts, the firing page at {:?} (gaps {gaps:.1?})",
        am.len(),
        firing
            .iter()
            .map(|t| format!("{:.1}s", (*t - t0).as_secs_f64()))
            .collect::<Vec<_>>()
    );
    assert!(firing.len() >= 2, "initial send and resends: {gaps:?}");
    // A resend early is the documented at-least-once window (docs/operations.md): a kill after
    // Alertmanager accepted a post and before the journal recorded it makes the next run post
    // again, so an early gap needs a kill between its two posts.
    let killed_between = |a: Instant, b: Instant| runs.kills.iter().any(|k| a < *k && *k < b);
    assert!(
        firing
            .windows(2)
            .all(|w| (59.0..240.0).contains(&(w[1] - w[0]).as_secs_f64())
                || ((w[1] - w[0]).as_secs_f64() < 59.0 && killed_between(w[0], w[1]))),
        "firing resends a minute apart (early only as the first post of a run that followed a \
         kill, never so late that Alertmanager expires the alert): {gaps:?}"
    );
    assert!(
        page.iter().any(|(r, firing)| !firing && r.at > returned),
        "Alertmanager hears the resolve"
    );
    // Opsgenie: idempotent by alias. Every create carries the page's one alias, so a create
    // sent again after a kill only raises the open alert's count; every close names that alias.
    let genie = opsgenie.received();
    let genie_summary: Vec<String> = genie
        .iter()
        .map(|r| format!("{:.1}s {} {}", (r.at - t0).as_secs_f64(), r.path, r.status))
        .collect();
    eprintln!("Opsgenie requests: {genie_summary:?}");
    let creates: Vec<&Received> = genie.iter().filter(|r| r.path == "/v2/alerts").collect();
    let closes: Vec<&Received> = genie
        .iter()
        .filter(|r| r.path.ends_with("/close"))
        .collect();
    assert_eq!(
        creates.len() + closes.len(),
        genie.len(),
        "{genie_summary:?}"
    );
    let mut aliases: Vec<&str> = creates
        .iter()
        .map(|c| c.body["alias"].as_str().unwrap_or(""))
        .collect();
    aliases.dedup();
    assert_eq!(
        aliases,
        [dedup_key.as_str()],
        "one alias for the incident, the page's identity: {genie_summary:?}"
    );
    let close_path = format!("/v2/alerts/{dedup_key}/close");
    assert!(
        !closes.is_empty() && closes.iter().all(|c| c.path == close_path),
        "closed by that alias: {genie_summary:?}"
    );
    let first_close = closes[0].at;
    let genie_refired = creates.iter().filter(|c| c.at > first_close).count();
    assert!(
        genie_refired <= unsnapshotted,
        "{genie_refired} creates after the close, {unsnapshotted} stale snapshots: {genie_summary:?}"
    );
    assert!(
        closes.iter().all(|c| c.at > returned)
            && closes.len() <= 1 + genie_unjournaled + genie_refired,
        "{} closes; {genie_unjournaled} kills before the journal recorded one: {genie_summary:?}",
        closes.len()
    );

    // Teams de-duplicates nothing: at least once, within the documented bound.
    let cards = teams.received();
    let title = |r: &Received| {
        r.body["attachments"][0]["content"]["body"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let cards_summary: Vec<String> = cards
        .iter()
        .map(|r| format!("{:.1}s {}", (r.at - t0).as_secs_f64(), title(r)))
        .collect();
    eprintln!("Teams cards: {cards_summary:?}");
    let firing_cards: Vec<Instant> = cards
        .iter()
        .filter(|r| title(r) == "FIRING page: checkout-availability")
        .map(|r| r.at)
        .collect();
    let resolved_cards: Vec<Instant> = cards
        .iter()
        .filter(|r| title(r) == "RESOLVED page: checkout-availability")
        .map(|r| r.at)
        .collect();
    assert_eq!(
        firing_cards.len() + resolved_cards.len(),
        cards.len(),
        "{cards_summary:?}"
    );
    let first_resolved = *resolved_cards.first().expect("a resolved card");
    let before: Vec<Instant> = firing_cards
        .iter()
        .copied()
        .filter(|at| *at < first_resolved)
        .collect();
    assert!(
        !before.is_empty() && before.windows(2).all(|w| killed_between(w[0], w[1])),
        "one firing card, another only after a kill that could hide the first from the journal:          {cards_summary:?}"
    );
    let chat_refired = firing_cards.len() - before.len();
    assert!(chat_refired <= unsnapshotted, "{cards_summary:?}");
    assert!(
        resolved_cards.iter().all(|at| *at > returned)
            && resolved_cards.len() <= 1 + chat_unjournaled + chat_refired,
        "{} resolved cards; {chat_unjournaled} kills before the journal recorded one:          {cards_summary:?}",
        resolved_cards.len()
    );

    // The state files hold alerts, never the receivers' secrets.
    for file in [ENGINE_FILE, NOTIFIER_FILE] {
        let text = if file == ENGINE_FILE {
            runs.engine_snapshot().to_string()
        } else {
            std::fs::read_to_string(runs.data.join(file)).unwrap()
        };
        assert!(!text.contains("R0UT1NGKEY"), "the routing key is in {file}");
        assert!(
            !text.contains(OPSGENIE_KEY),
            "the Opsgenie key is in {file}"
        );
        assert!(
            !text.contains(TEAMS_SIG),
            "the Teams signature is in {file}"
        );
    }
    drop(exporter);
}
