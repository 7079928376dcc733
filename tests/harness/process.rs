//! Process helpers.

use std::net::TcpListener;
use std::path::PathBuf;

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests on one machine).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("cannot bind an ephemeral port on 127.0.0.1")
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
        "`{name}` is not on PATH. These integration tests run a real Prometheus: run ./scripts/test \
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
