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

    /// Like [`Daemon::start`] with the open-file limit (soft and hard) set to `nofile`, as
    /// `ulimit -n` or a container runtime would.
    pub fn start_limited(binary: &Path, config: &str, nofile: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Self::launch(binary, config, &[], &data, dir, Some(nofile))
    }

    fn start_with_data(
        binary: &Path,
        config: &str,
        env: &[(&str, &str)],
        data: &Path,
        dir: tempfile::TempDir,
    ) -> Self {
        Self::launch(binary, config, env, data, dir, None)
    }

    /// Starts the daemon. The port in the config's `listen = "127.0.0.1:<port>"` line was free
    /// when the caller picked it; if another process took it since, the daemon exits saying so
    /// and is started again on a new free port (its URL says which).
    fn launch(
        binary: &Path,
        config: &str,
        env: &[(&str, &str)],
        data: &Path,
        dir: tempfile::TempDir,
        nofile: Option<u64>,
    ) -> Self {
        let path = dir.path().join("burnwatch.toml");
        let log_path = dir.path().join("burnwatch.log");
        let mut port = listen_port(config);
        for _ in 0..3 {
            std::fs::write(&path, with_port(config, port)).unwrap();
            let log = std::fs::File::create(&log_path).unwrap();
            let mut command = Command::new(binary);
            command
                .args(["run", "--config"])
                .arg(&path)
                .arg("--data-dir")
                .arg(data)
                .env("RUST_LOG", "info")
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(log);
            if let Some(nofile) = nofile {
                limit_open_files(&mut command, nofile);
            }
            let mut child = command.spawn().unwrap();
            if !lost_port(&mut child, &log_path) {
                return Self {
                    child,
                    url: format!("http://127.0.0.1:{port}"),
                    dir,
                };
            }
            eprintln!("burnwatch: port {port} was taken before it could bind it; retrying");
            port = crate::free_port();
        }
        panic!(
            "burnwatch lost its port three times; log:\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Resident memory in KiB, None once the process is gone.
    pub fn rss_kib(&self) -> Option<u64> {
        crate::rss_kib(self.child.id())
    }

    /// The configuration file it runs (rewrite it, then reload).
    pub fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("burnwatch.toml")
    }

    /// POST `path`: status and body. A 429 (reloads are rate-limited) is retried after its
    /// `Retry-After`, a few times.
    pub fn post(&self, path: &str) -> Option<(u16, String)> {
        for _ in 0..5 {
            let response = http_client()
                .post(format!("{}{}", self.url, path))
                .send()
                .ok()?;
            let status = response.status().as_u16();
            if status == 429 {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(1);
                std::thread::sleep(Duration::from_secs(wait));
                continue;
            }
            return Some((status, response.text().ok()?));
        }
        None
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

fn listen_port(config: &str) -> u16 {
    config
        .lines()
        .find_map(|l| l.trim().strip_prefix("listen = \"127.0.0.1:"))
        .and_then(|rest| rest.trim_end_matches('"').parse::<u16>().ok())
        .expect("the config needs a listen = \"127.0.0.1:<port>\" line")
}

fn with_port(config: &str, port: u16) -> String {
    config
        .lines()
        .map(|line| {
            if line.trim().starts_with("listen = \"127.0.0.1:") {
                format!("listen = \"127.0.0.1:{port}\"")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Waits until the daemon has bound its port (it logs `burnwatch started` right after) or
/// exited; true when it exited because the port was in use.
fn lost_port(child: &mut Child, log: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("burnwatch started") {
            return false;
        }
        if child.try_wait().ok().flatten().is_some() {
            return text.contains("cannot listen on") && text.contains("in use");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Sets RLIMIT_NOFILE (soft and hard) in the child before it runs.
fn limit_open_files(command: &mut Command, nofile: u64) {
    use std::os::unix::process::CommandExt;
    let limit = libc::rlimit {
        rlim_cur: nofile,
        rlim_max: nofile,
    };
    // SAFETY: between fork and exec only setrlimit runs, which is async-signal-safe and
    // touches no memory of the parent.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}
