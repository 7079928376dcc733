//! The container's runtime contract, on the release binary: it runs as the image's unprivileged
//! user (65532) on a read-only root filesystem with a read-only config directory, writes only to
//! its data directory, and exits cleanly within 5 s of SIGTERM (the kubelet's grace period is
//! 30 s; five leaves room for a slow final snapshot).
//!
//! The read-only root is a private mount namespace (`unshare --mount`) in which `/` is remounted
//! read-only and only the data directory is bound writable: what Kubernetes'
//! `readOnlyRootFilesystem: true` with an emptyDir at /var/lib/burnwatch gives. The places any
//! user could otherwise write to (/tmp, /var/tmp, /dev/shm) get empty world-writable decoys of
//! the test's own, which must still be empty afterwards. Needs root (to
//! create the namespace and drop to uid 65532), as CI has; fails loudly without it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burnwatch_tests::{Prometheus, PrometheusOptions, free_port, http_client, release_binary};

const UID: u32 = 65532;

/// Files owned by the container user under `dir`, except under `allowed`.
fn owned_by_user(dir: &Path, allowed: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.starts_with(allowed) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.uid() == UID {
            found.push(path.clone());
        }
        if meta.is_dir() {
            owned_by_user(&path, allowed, found);
        }
    }
}

#[test]
fn runs_unprivileged_on_a_read_only_root_and_stops_within_five_seconds() {
    let euid = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1)?.parse::<u32>().ok())
        .unwrap();
    assert_eq!(
        euid, 0,
        "this test needs root: it creates a mount namespace and drops to uid {UID}, as the \
         image does (run the suite as root, as CI does)"
    );
    for tool in ["unshare", "setpriv", "nice"] {
        burnwatch_tests::require_binary(tool, "util-linux/coreutils");
    }
    let binary = release_binary();
    let prometheus = Prometheus::start(PrometheusOptions::default());

    // The image's layout under a root the namespace mounts at /mnt: /usr/local/bin/burnwatch,
    // /etc/burnwatch (root's, read-only) and /var/lib/burnwatch (the user's). /mnt, because
    // the root may lie under /tmp (a clone in /tmp), which the decoy hides in the namespace.
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = root.path().join("usr/local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(&binary, bin.join("burnwatch")).unwrap();
    let etc = root.path().join("etc/burnwatch");
    let data = root.path().join("var/lib/burnwatch");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(UID), Some(UID)).unwrap();
    let port = free_port();
    let config = etc.join("burnwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"{}\"\n\n[defaults]\ninterval = \"1s\"\n\n[[slo]]\nservice = \"checkout\"\nname = \"availability\"\nobjective = 99.9\n[slo.sli.ratio]\nerrors = 'http_requests_total{{code=~\"5..\"}}'\ntotal = 'http_requests_total'\n",
            prometheus.url()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o555)).unwrap();
    let decoys = root.path().join("decoys");
    for name in ["tmp", "var-tmp", "dev-shm"] {
        let decoy = decoys.join(name);
        std::fs::create_dir_all(&decoy).unwrap();
        std::fs::set_permissions(&decoy, std::fs::Permissions::from_mode(0o1777)).unwrap();
    }
    let log_path = root.path().join("burnwatch.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    // unshare, sh, setpriv and burnwatch exec one another: the child's pid is burnwatch's.
    // Everything read-only but the data dir and the decoys.
    let script = r#"mount --bind "$ROOT" /mnt &&
        mount --bind /mnt/decoys/tmp /tmp && mount --bind /mnt/decoys/var-tmp /var/tmp &&
        mount --bind /mnt/decoys/dev-shm /dev/shm &&
        mount --bind /mnt/var/lib/burnwatch /mnt/var/lib/burnwatch &&
        mount -o remount,bind,ro /mnt && mount -o remount,bind,ro / &&
        exec setpriv --reuid=65532 --regid=65532 --clear-groups --inh-caps=-all \
            /mnt/usr/local/bin/burnwatch run --config /mnt/etc/burnwatch/burnwatch.toml \
            --data-dir /mnt/var/lib/burnwatch"#;
    assert!(
        Path::new("/mnt").is_dir(),
        "the test mounts its root at /mnt, which is missing"
    );
    let mut child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .env("ROOT", root.path())
        .env("RUST_LOG", "info")
        .env_remove("HOME")
        .current_dir("/")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let ready_url = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = http_client().get(&ready_url).send()
            && response.status() == 200
        {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "burnwatch exited with {status} before ready:\n{}",
                read_log()
            );
        }
        assert!(Instant::now() < deadline, "not ready:\n{}", read_log());
        std::thread::sleep(Duration::from_millis(100));
    }

    // Who it runs as, and that its root really is read-only.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let uids: Vec<&str> = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(uids, ["65532"; 4], "real, effective, saved, fs uid");
    let mounts = std::fs::read_to_string(format!("/proc/{}/mounts", child.id())).unwrap();
    let root_mount = mounts
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("/"))
        .unwrap();
    assert!(
        root_mount
            .split_whitespace()
            .nth(3)
            .unwrap()
            .starts_with("ro"),
        "root not read-only in the daemon's namespace: {root_mount}"
    );

    // SIGTERM: clean exit within 5 s, the final snapshot written to the data dir.
    std::thread::sleep(Duration::from_secs(2));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let sent = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if sent.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("still running 5 s after SIGTERM:\n{}", read_log());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!("exited {exit} {:?} after SIGTERM", sent.elapsed());
    let log = read_log();
    assert!(exit.success(), "exit {exit}:\n{log}");
    for bad in ["Read-only file system", "Permission denied", "panicked"] {
        assert!(!log.contains(bad), "{bad:?} in the log:\n{log}");
    }
    let state = data.join("state.db");
    assert!(state.exists(), "no state.db in the data dir:\n{log}");
    assert_eq!(std::fs::metadata(&state).unwrap().uid(), UID);

    // Nothing anywhere else it could have written: the decoys of the world-writable places are
    // empty, and nothing of the user's is beside the data dir (the read-only root covers the
    // rest).
    for decoy in std::fs::read_dir(&decoys).unwrap().flatten() {
        let left: Vec<_> = std::fs::read_dir(decoy.path()).unwrap().flatten().collect();
        assert!(left.is_empty(), "written to {:?}: {left:?}", decoy.path());
    }
    let mut strays = Vec::new();
    owned_by_user(root.path(), &data, &mut strays);
    assert!(
        strays.is_empty(),
        "written outside the data dir: {strays:?}"
    );
}
