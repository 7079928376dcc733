//! A real Alertmanager (Debian's `prometheus-alertmanager`) for one test.

use std::process::Child;
use std::time::Duration;

use crate::process::{http_client, require_binary, start_server};

/// A running Alertmanager on a free loopback port, clustering off; killed and its data removed
/// on drop.
pub struct Alertmanager {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Write `config_yaml` (an `alertmanager.yml`), start Alertmanager and wait until `/-/ready`.
    pub fn start(config_yaml: &str) -> Self {
        let binary = require_binary("prometheus-alertmanager", "prometheus-alertmanager");
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(&config, config_yaml).expect("write alertmanager.yml");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("create data dir");
        let log_path = dir.path().join("alertmanager.log");
        let (child, port) = start_server(
            "alertmanager",
            &binary,
            |port| {
                vec![
                    format!("--config.file={}", config.display()),
                    format!("--storage.path={}", data.display()),
                    format!("--web.listen-address=127.0.0.1:{port}"),
                    // Empty: no gossip port, no peers.
                    "--cluster.listen-address=".into(),
                ]
            },
            &log_path,
            "/-/ready",
            Duration::from_secs(30),
        );
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Alertmanager's own log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// `GET /api/v2/alerts` with every filter open: active, silenced, inhibited and
    /// unprocessed alerts (resolved ones are never listed).
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        let url = format!(
            "{}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true",
            self.url
        );
        let body: serde_json::Value = http_client()
            .get(url)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .unwrap_or_else(|err| panic!("GET /api/v2/alerts failed: {err}\n{}", self.log()));
        body.as_array().cloned().expect("an array of alerts")
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
