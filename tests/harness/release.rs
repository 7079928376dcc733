//! The release build of the `burnwatch` binary, for tests of what ships (the container
//! contract, behaviour under hostile clients).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Builds the release binary (at low CPU priority: the other tests keep running meanwhile) and
/// returns its path, as cargo reports it. `BURNWATCH_RELEASE_BINARY=path` uses that binary
/// instead, e.g. an older build, to measure a figure before a change.
pub fn release_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BURNWATCH_RELEASE_BINARY") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "BURNWATCH_RELEASE_BINARY={} is not a file",
            path.display()
        );
        return path;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new("nice")
        .arg("-n")
        .arg("19")
        .arg(env!("CARGO"))
        .args(["build", "--release", "--locked"])
        .args([
            "-p",
            "burnwatch",
            "--bin",
            "burnwatch",
            "--message-format=json",
        ])
        .current_dir(&workspace)
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "the release build failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "burnwatch")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the release executable")
}
