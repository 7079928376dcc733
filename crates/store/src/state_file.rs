//! A versioned state file in the data directory: one JSON document with a top-level `version`,
//! replaced atomically and read back without ever failing the daemon.
//!
//! - **Write**: a temporary file beside it (`<name>.tmp`), fsync, rename over the file, fsync of
//!   the directory, so a kill or power loss at any moment leaves the previous or the new file,
//!   never a torn one.
//! - **Read**: a missing file is a cold start. A file that cannot be read, is not JSON with a
//!   `version`, has another version, or does not decode is moved aside
//!   (`<name>.bad-<unix ms>`) with one warning saying what is lost, and the caller starts empty:
//!   never a crash, never a refusal to start, and the bad file is kept for a post-mortem.
//!
//! Its users: the notification journal (`notifications.json`, the notifier), the budget
//! corrections (`corrections.json`) and the SLO snapshot of burnwatch 0.1 (`state.json`, read
//! once on upgrade). Each owns its format; this module owns the file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One state file: where, which format version, and what it means to lose it (for the warning).
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
    version: u32,
    /// What the file is, as a warning's subject: "the state snapshot".
    what: &'static str,
    /// What starting without it costs, for the warning: "every SLO is backfilled".
    loss: &'static str,
}

impl StateFile {
    /// The file `name` in `data_dir`, in format `version`. `what` names it in warnings ("the
    /// notification state") and `loss` says what starting without it costs.
    pub fn new(
        data_dir: &Path,
        name: &str,
        version: u32,
        what: &'static str,
        loss: &'static str,
    ) -> StateFile {
        StateFile {
            path: data_dir.join(name),
            version,
            what,
            loss,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format version this build reads and writes.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The decoded file, or `None`: when it is missing (a cold start), and when it cannot be
    /// read, has no or another version, or `decode` refuses it (then it is set aside with a
    /// warning). `decode` gets the bytes of a file of this version and says why it refuses.
    /// `now_ms` (unix milliseconds) names the set-aside copy.
    pub fn load<T>(
        &self,
        now_ms: i64,
        decode: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Option<T> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
            Err(err) => {
                self.set_aside(now_ms, &format!("cannot be read: {err}"));
                return None;
            }
        };
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let checked = match serde_json::from_slice::<Version>(&bytes) {
            Ok(v) if v.version == self.version => decode(&bytes),
            Ok(v) => Err(format!(
                "has version {}, this burnwatch reads {}",
                v.version, self.version
            )),
            Err(err) => Err(format!("is not {} file ({err})", self.what)),
        };
        match checked {
            Ok(value) => Some(value),
            Err(why) => {
                self.set_aside(now_ms, &why);
                None
            }
        }
    }

    /// Replaces the file with `value` as JSON (which must carry this file's `version`).
    pub fn write_json<T: Serialize>(&self, value: &T) -> std::io::Result<()> {
        self.replace(|out| serde_json::to_writer(out, value).map_err(std::io::Error::from))
    }

    /// Replaces the file with `bytes`.
    pub fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.replace(|out| out.write_all(bytes))
    }

    /// Temporary file, fsync, rename, fsync of the directory.
    fn replace(
        &self,
        fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = self.sibling("tmp");
        {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            fill(&mut out)?;
            out.flush()?;
            out.get_ref().sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        // The rename itself must reach the disk, or a crash could bring back the old file.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// `<name>.<suffix>` beside the file.
    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".");
        name.push(suffix);
        self.path.with_file_name(name)
    }

    fn set_aside(&self, now_ms: i64, why: &str) {
        self.set_aside_with(now_ms, why, &[]);
    }

    /// Moves the file aside to `<name>.bad-<now_ms>`, and each existing companion
    /// `<name><suffix>` (a database's `-wal`) to `<name>.bad-<now_ms><suffix>`, with one warning.
    pub(crate) fn set_aside_with(&self, now_ms: i64, why: &str, companions: &[&str]) {
        let aside = self.sibling(&format!("bad-{now_ms}"));
        let moved = std::fs::rename(&self.path, &aside);
        for suffix in companions {
            let with = |path: &Path| {
                let mut name = path.as_os_str().to_os_string();
                name.push(suffix);
                PathBuf::from(name)
            };
            if with(&self.path).exists() {
                let _ = std::fs::rename(with(&self.path), with(&aside));
            }
        }
        tracing::warn!(
            file = %self.path.display(),
            moved_to = %aside.display(),
            moved = moved.is_ok(),
            "{} {why}; set aside, starting without it ({})",
            self.what,
            self.loss
        );
    }

    /// What the file is, for messages: "the state snapshot".
    pub(crate) fn what(&self) -> &'static str {
        self.what
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Doc {
        version: u32,
        items: Vec<u32>,
    }

    fn file(dir: &Path) -> StateFile {
        StateFile::new(dir, "doc.json", 3, "the test document", "nothing")
    }

    fn decode(bytes: &[u8]) -> Result<Doc, String> {
        serde_json::from_slice(bytes).map_err(|err| format!("is corrupt ({err})"))
    }

    #[test]
    fn a_written_file_reads_back_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let file = file(dir.path());
        assert_eq!(file.load(1, decode), None, "missing: a cold start");
        let doc = Doc {
            version: 3,
            items: vec![1, 2],
        };
        file.write_json(&doc).unwrap();
        assert_eq!(file.load(2, decode), Some(doc));
        file.write(br#"{"version":3,"items":[9]}"#).unwrap();
        assert_eq!(file.load(3, decode).unwrap().items, [9]);
        assert!(!dir.path().join("doc.json.tmp").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn torn_foreign_and_refused_files_are_set_aside() {
        let cases: [(&str, &[u8]); 4] = [
            ("torn", br#"{"version":3,"items":[1,"#),
            ("foreign version", br#"{"version":99,"items":[]}"#),
            ("not json", b"\x00\x01garbage"),
            ("refused by decode", br#"{"version":3,"items":"x"}"#),
        ];
        for (i, (what, bytes)) in cases.into_iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let file = file(dir.path());
            std::fs::write(file.path(), bytes).unwrap();
            let now = 1_000 + i as i64;
            assert_eq!(file.load(now, decode), None, "{what}");
            assert!(!file.path().exists(), "{what}: still in place");
            let aside = dir.path().join(format!("doc.json.bad-{now}"));
            assert_eq!(
                std::fs::read(&aside).unwrap(),
                bytes,
                "{what}: not kept aside"
            );
        }
    }
}
