//! A real Prometheus server for one test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{http_client, probe_http, require_binary, start_on_free_port};

/// How to start Prometheus.
#[derive(Debug, Default, Clone)]
pub struct PrometheusOptions {
    /// OpenMetrics history to backfill with promtool before start.
    pub history: Option<String>,
    /// `host:port` targets scraped as job `sim`.
    pub scrape_targets: Vec<String>,
    /// Scrape interval (default 1s when targets are given); rules are evaluated as often.
    pub scrape_interval: Option<Duration>,
    /// A rule file (YAML) to load, e.g. alerting rules to compare burnwatch with.
    pub rules: Option<String>,
    /// Drop `job` and `instance` from scraped samples, so that they continue the series of the
    /// backfilled history (which has neither) as `scripts/demo` does.
    pub continue_history: bool,
    /// Keep the `job` and `instance` labels the scraped target exposes (`honor_labels`), so that
    /// a live exporter continues backfilled series that carry their own `job`, as Sloth's
    /// example metrics do (`job="myservice"`).
    pub honor_labels: bool,
    /// More OpenMetrics histories, each backfilled by a promtool run of its own: promtool 2.42
    /// reads its whole input once per 2-hour block it writes, so months of history go much
    /// faster in parts of a few days.
    pub history_parts: Vec<String>,
    /// `--storage.tsdb.retention.time` (default `90d`): longer for long backfilled histories.
    pub retention: Option<String>,
}

/// A running Prometheus; killed and its data removed on drop.
pub struct Prometheus {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
    port: u16,
    retention: String,
}

impl Prometheus {
    /// Backfill history (if any), start Prometheus on a free loopback port and wait until ready.
    pub fn start(options: PrometheusOptions) -> Self {
        require_binary("prometheus", "prometheus");
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("create data dir");
        if let Some(history) = &options.history {
            backfill(dir.path(), &data, history);
        }
        for part in &options.history_parts {
            backfill(dir.path(), &data, part);
        }
        let interval = options.scrape_interval.unwrap_or(Duration::from_secs(1));
        let mut config = format!(
            "global:\n  scrape_interval: {}ms\n  evaluation_interval: {}ms\nscrape_configs:\n",
            interval.as_millis(),
            interval.as_millis()
        );
        if let Some(rules) = &options.rules {
            let path = dir.path().join("rules.yml");
            std::fs::write(&path, rules).expect("write rules.yml");
            config = format!("rule_files: ['{}']\n{config}", path.display());
        }
        if !options.scrape_targets.is_empty() {
            let targets: Vec<String> = options
                .scrape_targets
                .iter()
                .map(|t| format!("'{t}'"))
                .collect();
            config.push_str(&format!(
                "  - job_name: sim\n    static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            ));
            if options.honor_labels {
                config.push_str("    honor_labels: true\n");
            }
            if options.continue_history {
                config.push_str(
                    "    metric_relabel_configs: [{ action: labeldrop, regex: 'job|instance' }]\n",
                );
            }
        }
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        let log = || std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
        let retention = options.retention.clone().unwrap_or_else(|| "90d".into());
        let (child, port) = start_on_free_port(
            "prometheus",
            |port| spawn(dir.path(), port, &retention),
            |child, port| {
                let url = format!("http://127.0.0.1:{port}/-/ready");
                probe_http(child, "prometheus", &url, &log())
            },
            log,
            Duration::from_secs(60),
        );
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            port,
            retention,
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the process with SIGTERM (an outage; a SIGKILL would lose the unflushed tail of
    /// its write-ahead log); its data stays for [`Prometheus::restart`].
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        // A paused process would never act on the SIGTERM.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// Freezes the process (SIGSTOP): the kernel still accepts connections, nothing answers and
    /// nothing is scraped: a hung backend, whose requests time out.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused process run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// Starts it again on the same port and data, and waits until ready. (Its port can be
    /// taken while it is down only by a program binding that very port, which the tests' own
    /// ephemeral ports never do.)
    pub fn restart(&mut self) {
        self.child = spawn(self.dir.path(), self.port, &self.retention);
        self.wait_ready(Duration::from_secs(60));
    }

    /// Records `rules` (a rule file) over history from `start` to `end` (unix seconds) with
    /// `promtool tsdb create-blocks-from rules`, evaluated by this server every `interval`, then
    /// restarts it with the new blocks in its data directory (Prometheus 2.42 merges
    /// overlapping blocks). promtool evaluates each rule against the stored data only: a rule
    /// reading another rule's series of the same file finds nothing.
    pub fn backfill_rules(&mut self, rules: &str, start: f64, end: f64, interval: Duration) {
        let promtool = require_binary("promtool", "prometheus");
        let input = self.dir.path().join("backfill-rules.yml");
        std::fs::write(&input, rules).expect("write backfill-rules.yml");
        let blocks = self.dir.path().join("rule-blocks");
        let output = Command::new(promtool)
            .args(["tsdb", "create-blocks-from", "rules", "--quiet"])
            .arg(format!("--url={}", self.url))
            .arg(format!("--start={}", start.floor()))
            .arg(format!("--end={}", end.floor()))
            .arg(format!("--eval-interval={}ms", interval.as_millis()))
            .arg(format!("--output-dir={}", blocks.display()))
            .arg(&input)
            .output()
            .expect("run promtool");
        assert!(
            output.status.success(),
            "promtool create-blocks-from rules failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        self.stop();
        let data = self.dir.path().join("data");
        for block in std::fs::read_dir(&blocks).expect("promtool's output directory") {
            let block = block.expect("a block").path();
            std::fs::rename(&block, data.join(block.file_name().expect("a block name")))
                .expect("move the block into the data directory");
        }
        self.restart();
    }

    /// Prometheus' own log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let client = http_client();
        while Instant::now() < deadline {
            if let Ok(response) = client.get(format!("{}/-/ready", self.url)).send()
                && response.status().is_success()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "prometheus did not become ready within {timeout:?}; log:\n{}",
            self.log()
        );
    }

    /// Evaluate `query` at `time` (unix seconds) with Prometheus itself: one value per series,
    /// keyed by the series' labels rendered as JSON. NaN when Prometheus says NaN.
    pub fn query(&self, query: &str, time: f64) -> Vec<(serde_json::Value, f64)> {
        let client = http_client();
        let body: serde_json::Value = client
            .post(format!("{}/api/v1/query", self.url))
            .form(&[("query", query.to_string()), ("time", format!("{time}"))])
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|err| panic!("query {query} failed: {err}"));
        assert_eq!(body["status"], "success", "query {query}: {body}");
        body["data"]["result"]
            .as_array()
            .expect("vector result")
            .iter()
            .map(|series| {
                let value = series["value"][1].as_str().expect("value string");
                let value = if value == "NaN" {
                    f64::NAN
                } else {
                    value.parse().expect("number")
                };
                (series["metric"].clone(), value)
            })
            .collect()
    }

    /// Evaluate a range-vector `query` (e.g. `x[1h]`) at `time`: the raw samples of every series,
    /// `(labels, [(unix ms, value)])`, as Prometheus stored them.
    pub fn raw_samples(&self, query: &str, time: f64) -> Vec<(serde_json::Value, Vec<(i64, f64)>)> {
        let body: serde_json::Value = http_client()
            .post(format!("{}/api/v1/query", self.url))
            .form(&[("query", query.to_string()), ("time", format!("{time}"))])
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|err| panic!("query {query} failed: {err}"));
        assert_eq!(body["status"], "success", "query {query}: {body}");
        assert_eq!(body["data"]["resultType"], "matrix", "query {query}");
        body["data"]["result"]
            .as_array()
            .expect("matrix result")
            .iter()
            .map(|series| {
                let samples = series["values"]
                    .as_array()
                    .expect("values")
                    .iter()
                    .map(|pair| {
                        let t = pair[0].as_f64().expect("timestamp");
                        let v: f64 = pair[1].as_str().expect("value").parse().expect("number");
                        ((t * 1000.0).round() as i64, v)
                    })
                    .collect();
                (series["metric"].clone(), samples)
            })
            .collect()
    }

    /// Its own alerts (`GET /api/v1/alerts`): pending and firing alerts of the loaded rules.
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        let body: serde_json::Value = http_client()
            .get(format!("{}/api/v1/alerts", self.url))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|err| panic!("GET /api/v1/alerts failed: {err}"));
        body["data"]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Wait until Prometheus has scraped `up{job="sim"} == 1` at least `scrapes` times.
    pub fn wait_for_scrapes(&self, scrapes: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            let result = self.query("count_over_time(up{job=\"sim\"}[10m])", now);
            if result.first().is_some_and(|(_, v)| *v >= scrapes as f64) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "prometheus did not scrape {scrapes} times within {timeout:?}; log:\n{}",
            self.log()
        );
    }
}

fn backfill(dir: &Path, data: &PathBuf, history: &str) {
    let promtool = require_binary("promtool", "prometheus");
    let input = dir.join("history.om");
    std::fs::write(&input, history).expect("write history");
    let output = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(&input)
        .arg(data)
        .output()
        .expect("run promtool");
    assert!(
        output.status.success(),
        "promtool create-blocks-from openmetrics failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_file(input);
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs Prometheus from the files in `dir` (config, data), appending to its log.
fn spawn(dir: &std::path::Path, port: u16, retention: &str) -> Child {
    let prometheus = require_binary("prometheus", "prometheus");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("prometheus.log"))
        .expect("log file");
    Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--storage.tsdb.retention.time={retention}"))
        .arg("--web.enable-lifecycle")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start prometheus")
}
