//! A real single-node VictoriaMetrics (Debian's `victoria-metrics`) for one test.
//!
//! History is loaded through `/api/v1/import/prometheus`, which takes the Prometheus text
//! exposition format with a millisecond timestamp on every sample; the simulator writes
//! OpenMetrics (seconds with a fraction, `# EOF`), so [`exposition_from_openmetrics`] rewrites it.

use std::process::Child;
use std::time::Duration;

use crate::process::{http_client, require_binary, start_server};

/// A running VictoriaMetrics on a free loopback port with its own data directory; killed (by
/// its PID) and its data removed on drop.
pub struct VictoriaMetrics {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl VictoriaMetrics {
    /// Start VictoriaMetrics and wait until `/health` answers. The lookback is pinned to
    /// Prometheus' default of 5 minutes (VictoriaMetrics otherwise derives it from the samples'
    /// spacing), and the response cache is off: history is imported after start, into the past,
    /// which a cached answer would not show.
    pub fn start() -> Self {
        let binary = require_binary("victoria-metrics", "victoria-metrics");
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let log_path = dir.path().join("victoria-metrics.log");
        let (child, port) = start_server(
            "victoria-metrics",
            &binary,
            |port| {
                vec![
                    format!("-storageDataPath={}", data.display()),
                    format!("-httpListenAddr=127.0.0.1:{port}"),
                    "-retentionPeriod=1y".into(),
                    "-search.maxLookback=5m".into(),
                    "-search.disableCache".into(),
                ]
            },
            &log_path,
            "/health",
            Duration::from_secs(60),
        );
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    /// Base URL (its Prometheus API is at `/api/v1/...` under it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The process id (to tell it apart from anyone else's VictoriaMetrics).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its own log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("victoria-metrics.log")).unwrap_or_default()
    }

    /// Import OpenMetrics history (as the simulator renders it for promtool) and make it
    /// searchable at once.
    pub fn import_openmetrics(&self, history: &str) {
        let client = http_client();
        let text = exposition_from_openmetrics(history);
        // Bounded bodies: the import handler reads a request whole.
        let mut chunk = String::new();
        for line in text.lines() {
            chunk.push_str(line);
            chunk.push('\n');
            if chunk.len() > 8 << 20 {
                self.post_import(&client, std::mem::take(&mut chunk));
            }
        }
        if !chunk.is_empty() {
            self.post_import(&client, chunk);
        }
        let response = client
            .get(format!("{}/internal/force_flush", self.url))
            .send()
            .expect("force_flush");
        assert!(
            response.status().is_success(),
            "force_flush: {}",
            response.status()
        );
    }

    fn post_import(&self, client: &reqwest::blocking::Client, body: String) {
        let response = client
            .post(format!("{}/api/v1/import/prometheus", self.url))
            .body(body)
            .send()
            .unwrap_or_else(|err| panic!("import failed: {err}\n{}", self.log()));
        let status = response.status();
        assert!(
            status.is_success(),
            "import answered {status}: {}\n{}",
            response.text().unwrap_or_default(),
            self.log()
        );
    }
}

/// OpenMetrics samples (`name{labels} value 1700000000.000`) as Prometheus exposition text with
/// millisecond timestamps; comments and `# EOF` are dropped.
pub fn exposition_from_openmetrics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (rest, seconds) = line.rsplit_once(' ').expect("sample line with a timestamp");
        let seconds: f64 = seconds.parse().expect("timestamp in seconds");
        out.push_str(rest);
        out.push(' ');
        out.push_str(&format!("{}\n", (seconds * 1000.0).round() as i64));
    }
    out
}

impl Drop for VictoriaMetrics {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_timestamps_become_milliseconds() {
        let text = "# TYPE x counter\nx_total{a=\"b c\"} 12 1700000000.250\n# EOF\n";
        assert_eq!(
            exposition_from_openmetrics(text),
            "x_total{a=\"b c\"} 12 1700000000250\n"
        );
    }
}
