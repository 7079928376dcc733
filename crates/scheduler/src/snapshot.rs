//! Engine state that survives a restart: one snapshot per SLO (every instance's rolling state and
//! alert states, and how far events were ingested), kept in one versioned file in the data
//! directory and replaced atomically through `burnwatch_store::StateFile` (write a temporary file,
//! fsync, rename, fsync the directory).
//!
//! A snapshot is only restored into an SLO whose definition is unchanged (same fingerprint); the
//! runner then reads just the gap since the snapshot instead of the whole period. A file that
//! cannot be read, does not parse or has another version is moved aside with a warning and the
//! daemon starts cold: never a crash, never a refusal to start.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use burnwatch_engine::{Alerts, Millis, SloState};
use burnwatch_spec::Slo;
use burnwatch_store::StateFile;
use serde::{Deserialize, Serialize};

/// The file format's version; a file with another one is set aside.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The file name inside the data directory.
pub const SNAPSHOT_FILE: &str = "state.json";

/// One SLO's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunnerSnapshot {
    /// [`fingerprint`] of the definition the state was built under.
    pub fingerprint: String,
    /// Events up to here are in the state.
    pub ingested_until: Millis,
    /// Every instance, by group label values.
    pub instances: Vec<InstanceSnapshot>,
}

/// One SLO instance's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceSnapshot {
    /// Group label values in `group_by` order (empty when ungrouped).
    pub group: Vec<String>,
    /// The rolling event counts.
    pub state: SloState,
    /// The alert states (so a firing page is not paged again, nor resolved falsely).
    pub alerts: Alerts,
}

#[derive(Debug, Serialize, Deserialize)]
struct SnapshotFile {
    version: u32,
    written_at: Millis,
    slos: BTreeMap<String, RunnerSnapshot>,
}

/// A stable fingerprint of everything in an SLO's definition that shapes its state: the SLI, the
/// objective, period, grouping, windows and alert policy. Its place in the file does not count,
/// so moving an SLO around keeps its state.
pub fn fingerprint(slo: &Slo) -> String {
    let mut unplaced = slo.clone();
    unplaced.location = String::new();
    // Debug output is deterministic for the model (ordered maps, no addresses) and renders
    // secrets redacted, so the fingerprint carries none.
    let text = format!("{unplaced:?}");
    format!("{:016x}", burnwatch_engine::fnv1a(text.as_bytes()))
}

/// The newest snapshot of every SLO, shared by the SLO tasks (writers) and the file writer.
#[derive(Debug, Default)]
pub struct Snapshots {
    latest: Mutex<BTreeMap<String, RunnerSnapshot>>,
}

impl Snapshots {
    /// Starts from what was loaded.
    pub fn new(loaded: BTreeMap<String, RunnerSnapshot>) -> Self {
        Snapshots {
            latest: Mutex::new(loaded),
        }
    }

    /// Takes the loaded snapshot of `id` out (each is restored at most once).
    pub fn take(&self, id: &str) -> Option<RunnerSnapshot> {
        self.lock().remove(id)
    }

    /// Records the newest snapshot of `id`.
    pub fn put(&self, id: &str, snapshot: RunnerSnapshot) {
        self.lock().insert(id.to_string(), snapshot);
    }

    /// Keeps only the SLOs in `ids` (removed SLOs are not carried forward).
    pub fn retain(&self, ids: &[&str]) {
        self.lock().retain(|id, _| ids.contains(&id.as_str()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, RunnerSnapshot>> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes every snapshot to `store`, atomically.
    pub fn save(&self, store: &Store, now: Millis) -> std::io::Result<usize> {
        let file = SnapshotFile {
            version: SNAPSHOT_VERSION,
            written_at: now,
            slos: self.lock().clone(),
        };
        store.write(&file)?;
        Ok(file.slos.len())
    }
}

/// The snapshot file in a data directory (a [`StateFile`]: atomic replace, set-aside).
#[derive(Debug, Clone)]
pub struct Store {
    file: StateFile,
}

impl Store {
    /// The store in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Store {
            file: StateFile::new(
                data_dir,
                SNAPSHOT_FILE,
                SNAPSHOT_VERSION,
                "the state snapshot",
                "every SLO is backfilled",
            ),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Every SLO's snapshot, or none: a missing file is a cold start; an unreadable, corrupt or
    /// foreign-version file is moved aside (`state.json.bad-<unix ms>`) with a warning.
    pub fn load(&self, now: Millis) -> BTreeMap<String, RunnerSnapshot> {
        self.file
            .load(now, |bytes| {
                serde_json::from_slice::<SnapshotFile>(bytes)
                    .map(|file| file.slos)
                    .map_err(|err| format!("is corrupt ({err})"))
            })
            .unwrap_or_default()
    }

    fn write(&self, file: &SnapshotFile) -> std::io::Result<()> {
        self.file.write_json(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn slo(text: &str) -> Slo {
        let config = format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\n{text}"
        );
        burnwatch_spec::parse(&config, Path::new("t.toml"), &|_| None)
            .unwrap()
            .slos
            .remove(0)
    }

    const AVAILABILITY: &str = "[[slo]]\nservice = \"s\"\nname = \"n\"\nobjective = 99.9\n[slo.sli.ratio]\nerrors = 'e_total'\ntotal = 't_total'\n";

    #[test]
    fn fingerprint_follows_the_definition_not_its_place() {
        let a = slo(AVAILABILITY);
        let moved = slo(&format!("\n\n\n{AVAILABILITY}"));
        assert_ne!(a.location, moved.location);
        assert_eq!(fingerprint(&a), fingerprint(&moved));
        let changed = slo(&AVAILABILITY.replace("99.9", "99.5"));
        assert_ne!(fingerprint(&a), fingerprint(&changed));
    }

    #[test]
    fn fingerprint_changes_with_the_calendar() {
        let with = |keys: &str| {
            fingerprint(&slo(
                &AVAILABILITY.replace("objective", &format!("{keys}objective"))
            ))
        };
        let month_utc = with("calendar = \"month\"\n");
        let month_berlin = with("calendar = \"month\"\ntimezone = \"Europe/Berlin\"\n");
        let week = with("calendar = \"week\"\n");
        let week_sunday = with("calendar = \"week\"\nweek_start = \"sunday\"\n");
        let rolling = fingerprint(&slo(AVAILABILITY));
        let all = [&rolling, &month_utc, &month_berlin, &week, &week_sunday];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    fn snapshot() -> RunnerSnapshot {
        let mut state = SloState::counted(
            0.999,
            Duration::from_secs(30 * 86_400),
            &[Duration::from_secs(300)],
        );
        state.observe(burnwatch_engine::Observation::Events {
            start: 0,
            end: 60_000,
            counts: burnwatch_engine::Counts {
                errors: 1.0,
                total: 100.0,
            },
        });
        RunnerSnapshot {
            fingerprint: "f".into(),
            ingested_until: 60_000,
            instances: vec![InstanceSnapshot {
                group: vec![],
                state,
                alerts: Alerts::new(),
            }],
        }
    }

    #[test]
    fn saved_snapshots_load_back_with_the_same_figures() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.load(0).is_empty(), "no file: cold start");
        let snapshots = Snapshots::default();
        snapshots.put("s-n", snapshot());
        assert_eq!(snapshots.save(&store, 1).unwrap(), 1);
        let mut loaded = store.load(2);
        let mut back = loaded.remove("s-n").expect("snapshot of s-n");
        let mut original = snapshot();
        assert_eq!(back.ingested_until, 60_000);
        assert_eq!(
            back.instances[0].state.evaluate(60_000),
            original.instances[0].state.evaluate(60_000)
        );
        assert!(!dir.path().join("state.json.tmp").exists());
    }

    #[test]
    fn corrupt_and_foreign_files_are_set_aside_not_fatal() {
        for (content, why) in [
            (&b"{\"version\":1,\"slos\":{\"x\":"[..], "truncated"),
            (&b"\x00\x01garbage"[..], "garbage"),
            (
                &b"{\"version\":99,\"written_at\":0,\"slos\":{}}"[..],
                "version",
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::new(dir.path());
            std::fs::write(store.path(), content).unwrap();
            assert!(store.load(7).is_empty(), "{why}");
            assert!(!store.path().exists(), "{why}: the bad file stays in place");
            assert!(
                dir.path().join("state.json.bad-7").exists(),
                "{why}: not set aside"
            );
        }
    }
}
