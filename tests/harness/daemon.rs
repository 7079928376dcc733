//! A `burnwatch run` process on a free loopback port, with helpers to read its endpoints.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http_client;

/// A running daemon; killed on drop. Its stderr (the log) is kept in a file for assertions.
pub struct Daemon {
    /// The process.
    pub child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts `binary run` on `config` (which must contain `listen = "127.0.0.1:<port>"`), with
    /// `env` added to the environment and `RUST_LOG=info`.
    pub fn start(binary: &Path, config: &str, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Self::start_with_data(binary, config, env, &data, dir)
    }

    /// Like [`Daemon::start`] with `--data-dir data` (which outlives the daemon, for restarts).
    pub fn start_in(binary: &Path, config: &str, env: &[(&str, &str)], data: &Path) -> Self {
        Self::start_with_data(binary, config, env, data, tempfile::tempdir().unwrap())
    }

    fn start_with_data(
        binary: &Path,
        config: &str,
        env: &[(&str, &str)],
        data: &Path,
        dir: tempfile::TempDir,
    ) -> Self {
        let path = dir.path().join("burnwatch.toml");
        std::fs::write(&path, config).unwrap();
        let port = config
            .lines()
            .find_map(|l| l.trim().strip_prefix("listen = \"127.0.0.1:"))
            .and_then(|rest| rest.trim_end_matches('"').parse::<u16>().ok())
            .expect("the config needs a listen = \"127.0.0.1:<port>\" line");
        let log = std::fs::File::create(dir.path().join("burnwatch.log")).unwrap();
        let child = Command::new(binary)
            .args(["run", "--config"])
            .arg(&path)
            .arg("--data-dir")
            .arg(data)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    /// The configuration file it runs (rewrite it, then reload).
    pub fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("burnwatch.toml")
    }

    /// POST `path`: status and body.
    pub fn post(&self, path: &str) -> Option<(u16, String)> {
        let response = http_client()
            .post(format!("{}{}", self.url, path))
            .send()
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().ok()?))
    }

    /// Sends SIGHUP.
    pub fn sighup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Whether the process has ended (a zombie waiting to be reaped counts as ended).
    fn exited(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map(|stat| {
                // The state follows the parenthesised command name.
                stat.rsplit(')')
                    .next()
                    .map(|rest| rest.trim_start().starts_with('Z'))
                    == Some(true)
            })
            .unwrap_or(true)
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("burnwatch.log")).unwrap_or_default()
    }

    /// GET `path`: status and body, None when the daemon does not answer.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let response = http_client()
            .get(format!("{}{}", self.url, path))
            .send()
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().ok()?))
    }

    /// Waits for `/readyz` to answer 200; panics with the log otherwise.
    pub fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some((200, _)) = self.get("/readyz") {
                return;
            }
            if self.exited() {
                panic!("burnwatch exited before it was ready; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "burnwatch not ready within {timeout:?}; log:\n{}",
            self.log()
        );
    }

    /// Polls until the sample equals `want` (ticks of different SLOs are spread over the
    /// interval, so a state may lag a second behind another SLO's), then asserts it.
    pub fn expect_sample(&self, metric: &str, needles: &[&str], want: Option<f64>) {
        self.wait_sample(metric, needles, want, Duration::from_secs(15));
    }

    /// Polls up to `timeout` until the sample equals `want`; panics with every line of the
    /// family and the log otherwise.
    pub fn wait_sample(
        &self,
        metric: &str,
        needles: &[&str],
        want: Option<f64>,
        timeout: Duration,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.sample(metric, needles);
            if got == want {
                return;
            }
            if Instant::now() > deadline {
                let (_, body) = self.get("/metrics").unwrap_or_default();
                let related: Vec<&str> = body.lines().filter(|l| l.starts_with(metric)).collect();
                panic!(
                    "{metric} {needles:?}: want {want:?}, got {got:?}; all {metric} lines:\n{}\nlog:\n{}",
                    related.join("\n"),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The value of the first sample of `metric` whose line contains every `needle`.
    pub fn sample(&self, metric: &str, needles: &[&str]) -> Option<f64> {
        let (_, body) = self.get("/metrics")?;
        body.lines()
            .filter(|line| {
                line.starts_with(&format!("{metric}{{")) || line.starts_with(&format!("{metric} "))
            })
            .find(|line| needles.iter().all(|n| line.contains(n)))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    /// Sends SIGKILL and waits for the process to be gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `timeout` for a clean exit; panics otherwise.
    pub fn stop(&mut self, timeout: Duration) {
        self.sigterm();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "exit status after SIGTERM: {status}\n{}",
                    self.log()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no exit within {timeout:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
