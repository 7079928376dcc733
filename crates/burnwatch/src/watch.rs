//! Notices when the configuration file's content changes, as a Kubernetes ConfigMap update does
//! (the kubelet swaps a symlink, so modification times are unreliable: content is compared).

use std::path::PathBuf;

use burnwatch_engine::fnv1a;

/// The configuration file and a hash of its content when last seen.
#[derive(Debug)]
pub struct ConfigWatch {
    path: PathBuf,
    seen: Option<u64>,
}

impl ConfigWatch {
    /// Watches `path`, taking its current content as seen.
    pub fn new(path: PathBuf) -> Self {
        let seen = std::fs::read(&path).ok().map(|b| fnv1a(&b));
        ConfigWatch { path, seen }
    }

    /// Takes the current content as seen (after a reload by signal or request).
    pub fn mark_seen(&mut self) {
        if let Ok(bytes) = std::fs::read(&self.path) {
            self.seen = Some(fnv1a(&bytes));
        }
    }

    /// Whether the content differs from the last call (a file that cannot be read right now,
    /// e.g. mid-swap, is not a change).
    pub fn changed(&mut self) -> bool {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return false;
        };
        let now = Some(fnv1a(&bytes));
        if now == self.seen {
            return false;
        }
        self.seen = now;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_content_changes_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("burnwatch.toml");
        std::fs::write(&path, "a = 1\n").unwrap();
        let mut watch = ConfigWatch::new(path.clone());
        assert!(!watch.changed());
        std::fs::write(&path, "a = 1\n").unwrap();
        assert!(!watch.changed(), "same content rewritten");
        std::fs::write(&path, "a = 2\n").unwrap();
        assert!(watch.changed());
        assert!(!watch.changed(), "a change is reported once");
        std::fs::remove_file(&path).unwrap();
        assert!(!watch.changed(), "a missing file is not a change");
    }
}
