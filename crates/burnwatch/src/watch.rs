//! Notices when the configuration file's content changes, as a Kubernetes ConfigMap update does
//! (the kubelet swaps a symlink, so modification times are unreliable: content is compared).
//! The spec files its `specs` names count as part of it: a changed, added or removed spec is a
//! change too.

use std::path::PathBuf;

use burnwatch_engine::Fnv1a;

/// A hash of the configuration file's content and of the spec files it names (their paths and
/// contents); `None` when the configuration cannot be read right now. A spec file that cannot
/// be read (mid-swap) counts as empty.
fn digest(path: &std::path::Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut hash = Fnv1a::new();
    hash.write(&bytes);
    let text = String::from_utf8_lossy(&bytes);
    for spec in burnwatch_spec::spec_files(&text, path) {
        hash.write(spec.as_os_str().as_encoded_bytes())
            .write(&[0xff]);
        hash.write(&std::fs::read(&spec).unwrap_or_default())
            .write(&[0xff]);
    }
    Some(hash.finish())
}

/// The configuration file and a hash of its content (and its specs') when last seen.
#[derive(Debug)]
pub struct ConfigWatch {
    path: PathBuf,
    seen: Option<u64>,
}

impl ConfigWatch {
    /// Watches `path`, taking its current content as seen.
    pub fn new(path: PathBuf) -> Self {
        let seen = digest(&path);
        ConfigWatch { path, seen }
    }

    /// Takes the current content as seen (after a reload by signal or request).
    pub fn mark_seen(&mut self) {
        if let Some(now) = digest(&self.path) {
            self.seen = Some(now);
        }
    }

    /// Whether the content differs from the last call (a file that cannot be read right now,
    /// e.g. mid-swap, is not a change).
    pub fn changed(&mut self) -> bool {
        let Some(now) = digest(&self.path).map(Some) else {
            return false;
        };
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

    #[test]
    fn spec_files_count_as_part_of_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("burnwatch.toml");
        std::fs::create_dir(dir.path().join("specs")).unwrap();
        std::fs::write(&path, "specs = [\"specs/*.yaml\"]\n").unwrap();
        std::fs::write(dir.path().join("specs/a.yaml"), "a: 1\n").unwrap();
        let mut watch = ConfigWatch::new(path.clone());
        assert!(!watch.changed());
        std::fs::write(dir.path().join("specs/a.yaml"), "a: 2\n").unwrap();
        assert!(watch.changed(), "a spec's content changed");
        std::fs::write(dir.path().join("specs/b.yaml"), "b: 1\n").unwrap();
        assert!(watch.changed(), "a spec was added");
        std::fs::remove_file(dir.path().join("specs/a.yaml")).unwrap();
        assert!(watch.changed(), "a spec was removed");
        std::fs::write(dir.path().join("specs/notes.md"), "x").unwrap();
        assert!(!watch.changed(), "a file no pattern names");
    }
}
