//! Process helpers.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

/// A TCP port on 127.0.0.1 that was free a moment ago. Another process may take it before the
/// caller binds it: servers started through [`start_on_free_port`] retry on a new port then.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("cannot bind an ephemeral port on 127.0.0.1")
}

/// What `probe` finds, polling every 250 ms; fails the test naming `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// How a server's start went.
pub(crate) enum Start {
    /// It is up and listening on its port.
    Up,
    /// It exited because its port was taken (its log says so).
    PortTaken,
    /// Still starting; ask again.
    Starting,
}

/// Starts a server (`spawn(port)`) on a free port and waits until `probe` says it is up. When
/// the port was taken between the pick and the bind (another test or program won the race),
/// the server exits saying so and is started again on a new port, up to three times. Returns
/// the child and its port; panics with `log()` when it never comes up.
pub(crate) fn start_on_free_port(
    what: &str,
    mut spawn: impl FnMut(u16) -> Child,
    mut probe: impl FnMut(&mut Child, u16) -> Start,
    log: impl Fn() -> String,
    timeout: Duration,
) -> (Child, u16) {
    for _ in 0..3 {
        let port = free_port();
        let mut child = spawn(port);
        let deadline = Instant::now() + timeout;
        loop {
            match probe(&mut child, port) {
                Start::Up => return (child, port),
                Start::PortTaken => break,
                Start::Starting if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Start::Starting => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{what} did not come up within {timeout:?}; log:\n{}", log());
                }
            }
        }
        let _ = child.wait();
        eprintln!("{what}: port {port} was taken before it could bind it; retrying on another");
    }
    panic!("{what} lost its port three times; log:\n{}", log());
}

/// Starts `binary` with `args(port)` on a free port, its stderr in `log_path`, and waits until
/// `health` (a path) answers 2xx: [`start_on_free_port`] for a server that takes its
/// listen address as an argument.
pub(crate) fn start_server(
    what: &str,
    binary: &std::path::Path,
    args: impl Fn(u16) -> Vec<String>,
    log_path: &std::path::Path,
    health: &str,
    timeout: Duration,
) -> (Child, u16) {
    let log = || std::fs::read_to_string(log_path).unwrap_or_default();
    start_on_free_port(
        what,
        |port| {
            let log = std::fs::File::create(log_path).expect("log file");
            std::process::Command::new(binary)
                .args(args(port))
                .stdout(std::process::Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|err| panic!("start {what}: {err}"))
        },
        |child, port| {
            probe_http(
                child,
                what,
                &format!("http://127.0.0.1:{port}{health}"),
                &log(),
            )
        },
        log,
        timeout,
    )
}

/// Whether `child` has exited, and if so whether `log` says its port was in use (then it is
/// [`Start::PortTaken`]; any other exit panics with the log).
pub(crate) fn exited(child: &mut Child, what: &str, log: &str) -> Option<Start> {
    let status = child.try_wait().ok()??;
    if log.contains("address already in use") || log.contains("Address already in use") {
        return Some(Start::PortTaken);
    }
    panic!("{what} exited ({status}) while starting; log:\n{log}");
}

/// Up when `url` answers 2xx while `child` still runs (a server that took the port answers too,
/// but then ours has exited).
pub(crate) fn probe_http(child: &mut Child, what: &str, url: &str, log: &str) -> Start {
    if let Some(start) = exited(child, what, log) {
        return start;
    }
    let ready = http_client()
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .is_ok_and(|r| r.status().is_success());
    match ready {
        true if exited(child, what, log).is_none() => Start::Up,
        true => Start::PortTaken,
        false => Start::Starting,
    }
}

/// The path of `name` on PATH, or a panic that says how to install it. Tests that need a real
/// Prometheus must fail loudly without one, never skip.
pub fn require_binary(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` is not on PATH. These integration tests run the real stores: run ./scripts/test \
         (it installs what the tests need) or `apt-get install -y {package}`."
    );
}

/// A blocking HTTP client. reqwest is built without a default crypto provider (the workspace
/// uses rustls with ring), so the provider is installed first; repeated installs are no-ops.
pub fn http_client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("build HTTP client")
}

/// Resident memory of process `pid` in KiB (`VmRSS`), None once it is gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The standard output of a burnwatch command that must have succeeded; a failed run fails the
/// test with its exit status and standard error.
pub fn stdout_of(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "burnwatch failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("burnwatch writes UTF-8")
}
