//! Engine state that survives a restart: one snapshot per SLO (every instance's rolling state and
//! alert states, and how far events were ingested), kept in an SQLite database in the data
//! directory (`state.db`, through `burnwatch_store::Database`) and written incrementally.
//!
//! - Each SLO task hands its state over every snapshot interval through its [`Encoder`]: every
//!   instance's frame, and of its bucket chunks only those that changed since the last handover
//!   (see [`rows`]). The hub ([`Snapshots`]) keeps the encoded rows of every SLO, not states,
//!   and only until they are written: a row on disk is released (its place and generation
//!   stay), so the hub holds what changed since the last write, not a second copy of the
//!   database. A take reads the released rows back from the database.
//! - The writer ([`Snapshots::save`]) writes the rows that changed since its last write, and
//!   removes the instances and SLOs that are gone, in one transaction: a kill at any moment
//!   leaves the previous or the new snapshot, never a mix (see [`store`]).
//! - A snapshot is only restored into an SLO whose definition is unchanged (same fingerprint);
//!   the runner then reads just the gap since the snapshot instead of the whole period. A
//!   database that cannot be opened, has another version or fails its integrity check is moved
//!   aside with a warning and the daemon starts cold: never a crash, never a refusal to start.
//!   A `state.json` left by burnwatch 0.1 is read once, then removed after the first write.

mod legacy;
mod rows;
mod store;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use burnwatch_engine::{Alerts, Millis, SloState};
use burnwatch_spec::Slo;
use serde::{Deserialize, Serialize};

use crate::counting::GroupKey;
pub use rows::{CHUNK_SLOTS, Decoder, Encoder, Handover, InstanceRows};
pub use store::{LEGACY_FILE, Loaded, SNAPSHOT_FILE, SNAPSHOT_VERSION, Store};

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

/// One encoded row and the hub generation it last changed in (0: as loaded from the database).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// None once written and released (the database holds it).
    pub bytes: Option<Arc<[u8]>>,
    pub changed: u64,
}

impl Row {
    /// Releases the bytes when the row is on disk (changed in generation `upto` or before).
    fn release(&mut self, upto: u64) {
        if self.changed <= upto {
            self.bytes = None;
        }
    }
}

/// One instance's rows.
#[derive(Debug, Clone)]
pub(crate) struct StoredInstance {
    pub frame: Row,
    /// Chunks per level, finest first.
    pub layout: Vec<u32>,
    /// Level by level.
    pub chunks: Vec<Row>,
}

/// One SLO's newest snapshot, encoded.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub fingerprint: String,
    pub ingested_until: Millis,
    /// Generation of the newest handover.
    pub changed: u64,
    /// Not taken since it was loaded or handed over.
    pub restorable: bool,
    /// Some rows were released that the database turned out not to hold (it was replaced):
    /// only a complete handover is taken next.
    pub incomplete: bool,
    pub instances: BTreeMap<GroupKey, StoredInstance>,
}

impl Entry {
    /// Decodes every instance.
    fn decode(&self) -> Result<RunnerSnapshot, String> {
        let mut decoder = Decoder::default();
        let instances = self
            .instances
            .iter()
            .map(|(group, stored)| {
                let released = || format!("instance {group:?}: rows released");
                let chunks = stored
                    .chunks
                    .iter()
                    .map(|row| row.bytes.as_deref())
                    .collect::<Option<Vec<&[u8]>>>()
                    .ok_or_else(released)?;
                let frame = stored.frame.bytes.as_deref().ok_or_else(released)?;
                decoder
                    .instance(frame, &stored.layout, chunks.into_iter())
                    .map(|(state, alerts)| InstanceSnapshot {
                        group: group.clone(),
                        state,
                        alerts,
                    })
                    .map_err(|err| format!("instance {group:?}: {err}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(RunnerSnapshot {
            fingerprint: self.fingerprint.clone(),
            ingested_until: self.ingested_until,
            instances,
        })
    }
}

#[derive(Debug)]
pub(crate) struct Hub {
    pub slos: BTreeMap<String, Entry>,
    /// Stamps the rows of the next handover; the writer moves it on at each write.
    pub generation: u64,
}

impl Hub {
    /// Releases the rows written up to generation `upto` (a take reads them back from the
    /// database).
    pub(super) fn release(&mut self, upto: u64) {
        for entry in self.slos.values_mut() {
            for stored in entry.instances.values_mut() {
                stored.frame.release(upto);
                stored.chunks.iter_mut().for_each(|row| row.release(upto));
            }
        }
    }
}

/// The newest snapshot of every SLO, encoded: shared by the SLO tasks (writers) and the
/// database writer.
#[derive(Debug)]
pub struct Snapshots {
    hub: Mutex<Hub>,
    /// The database written to, which holds the rows released from the hub.
    store: Mutex<Option<Store>>,
}

impl Default for Snapshots {
    fn default() -> Self {
        Snapshots::new(Loaded::default())
    }
}

impl Snapshots {
    /// Starts from what was loaded.
    pub fn new(loaded: Loaded) -> Self {
        Snapshots {
            hub: Mutex::new(Hub {
                slos: loaded.slos,
                generation: 1,
            }),
            store: Mutex::new(None),
        }
    }

    /// The loaded or last handed-over snapshot of `id`, decoded, unless it was taken since
    /// (each is restored at most once). A snapshot that does not decode is left out with a
    /// warning (the SLO backfills).
    pub fn take(&self, id: &str) -> Option<RunnerSnapshot> {
        // Decode outside the lock: rows are shared, not copied.
        let mut entry = {
            let mut hub = self.lock();
            let entry = hub.slos.get_mut(id).filter(|e| e.restorable)?;
            entry.restorable = false;
            entry.clone()
        };
        let store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let filled = match store {
            Some(store) => store.fill(id, &mut entry),
            None => Ok(()),
        };
        match filled.and_then(|()| entry.decode()) {
            Ok(snapshot) => Some(snapshot),
            Err(err) => {
                tracing::warn!(slo = id, error = %err, "the state snapshot of this SLO does not decode; it is backfilled");
                None
            }
        }
    }

    /// Takes `handover` as the newest snapshot of `id`. Returns false, changing nothing, when
    /// it leaves out chunks the hub does not hold (the encoder then hands over everything).
    pub fn put(&self, id: &str, handover: Handover) -> bool {
        let mut hub = self.lock();
        let generation = hub.generation;
        let old = hub
            .slos
            .get(id)
            .filter(|e| e.fingerprint == handover.fingerprint && !e.incomplete);
        let complete = handover.instances.iter().all(|rows| {
            let all = rows.layout.iter().sum::<u32>() as usize;
            rows.chunks.len() == all
                || old
                    .and_then(|e| e.instances.get(&rows.group))
                    .is_some_and(|s| s.layout == rows.layout)
        });
        if !complete {
            return false;
        }
        let mut old = hub
            .slos
            .remove(id)
            .filter(|e| e.fingerprint == handover.fingerprint)
            .map(|e| e.instances)
            .unwrap_or_default();
        let row = |bytes: Vec<u8>| Row {
            bytes: Some(bytes.into()),
            changed: generation,
        };
        let instances = handover
            .instances
            .into_iter()
            .map(|rows| {
                let mut chunks = match old.remove(&rows.group) {
                    Some(kept) if kept.layout == rows.layout => kept.chunks,
                    _ => Vec::new(),
                };
                let all = rows.layout.iter().sum::<u32>() as usize;
                if chunks.len() != all {
                    // Complete (checked above): every position is in the handover.
                    chunks = vec![row(Vec::new()); all];
                }
                for (at, bytes) in rows.chunks {
                    chunks[at] = row(bytes);
                }
                let stored = StoredInstance {
                    frame: row(rows.frame),
                    layout: rows.layout,
                    chunks,
                };
                (rows.group, stored)
            })
            .collect();
        hub.slos.insert(
            id.to_string(),
            Entry {
                fingerprint: handover.fingerprint,
                ingested_until: handover.ingested_until,
                changed: generation,
                restorable: true,
                incomplete: false,
                instances,
            },
        );
        true
    }

    /// Keeps only the SLOs in `ids` (removed SLOs are not carried forward).
    pub fn retain(&self, ids: &[&str]) {
        self.lock().slos.retain(|id, _| ids.contains(&id.as_str()));
    }

    /// Every SLO held.
    fn into_entries(self) -> BTreeMap<String, Entry> {
        self.hub
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .slos
    }

    /// Number of SLOs held.
    pub fn len(&self) -> usize {
        self.lock().slos.len()
    }

    /// Whether no SLO is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Hub> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.hub
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes what changed since the last write to `store`, in one transaction; returns the
    /// number of SLOs held.
    pub fn save(&self, store: &Store, now: Millis) -> std::io::Result<usize> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(|| store.clone());
        store.save(&self.hub, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
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

    const T0: Millis = 19_700 * 86_400_000;
    const M: Millis = 60_000;

    /// A 30-day state with three days of history, some errors, and alerts evaluated on it.
    fn instance(group: &[&str], errors: f64) -> InstanceSnapshot {
        let period = Duration::from_secs(30 * 86_400);
        let mut state = SloState::counted(0.999, period, &burnwatch_engine::DEFAULT_WINDOWS);
        let mut t = T0 - 3 * 86_400_000;
        while t < T0 {
            state.observe(burnwatch_engine::Observation::Events {
                start: t,
                end: t + 10 * M,
                counts: burnwatch_engine::Counts {
                    errors: errors * (t / M % 7) as f64,
                    total: 1_000.0 + (t / M % 89) as f64 / 3.0,
                },
            });
            t += 10 * M;
        }
        let mut alerts = Alerts::new();
        let policy = burnwatch_engine::AlertPolicy::sre_workbook(period);
        alerts.eval(&policy, &state.evaluate(T0));
        InstanceSnapshot {
            group: group.iter().map(|g| g.to_string()).collect(),
            state,
            alerts,
        }
    }

    fn runner(instances: Vec<InstanceSnapshot>) -> RunnerSnapshot {
        RunnerSnapshot {
            fingerprint: "f".into(),
            ingested_until: T0,
            instances,
        }
    }

    /// Hands `snapshot` over through `encoder`, as an SLO task does.
    fn hand_over(hub: &Snapshots, id: &str, encoder: &mut Encoder, snapshot: &RunnerSnapshot) {
        let instances = snapshot
            .instances
            .iter()
            .map(|i| (&i.group, &i.state, &i.alerts));
        let handover = encoder.encode(&snapshot.fingerprint, snapshot.ingested_until, instances);
        assert!(hub.put(id, handover), "the hub holds every chunk left out");
    }

    /// Exact equality: every bucket and sum bit for bit (JSON floats round-trip exactly), and the
    /// alert states.
    fn assert_same(back: &RunnerSnapshot, saved: &RunnerSnapshot) {
        assert_eq!(back.fingerprint, saved.fingerprint);
        assert_eq!(back.ingested_until, saved.ingested_until);
        let text = |s: &RunnerSnapshot| {
            let mut instances: Vec<_> = s.instances.iter().collect();
            instances.sort_by(|a, b| a.group.cmp(&b.group));
            serde_json::to_string(&instances).unwrap()
        };
        assert_eq!(text(back), text(saved));
        for b in &back.instances {
            let s = saved.instances.iter().find(|s| s.group == b.group).unwrap();
            assert_eq!(b.state.bucket_rings(), s.state.bucket_rings());
            assert_eq!(b.alerts, s.alerts);
        }
    }

    /// What a restart finds in `dir`.
    fn reload(dir: &Path, id: &str) -> Option<RunnerSnapshot> {
        Snapshots::new(Store::new(dir).load(T0)).take(id)
    }

    #[test]
    fn saved_snapshots_load_back_exactly_also_after_incremental_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.load(0).is_empty(), "no database: cold start");
        let hub = Snapshots::default();
        let mut encoder = Encoder::default();
        let mut saved = runner(vec![
            instance(&["eu"], 1.0),
            instance(&["us"], 2.0),
            instance(&["ap"], 0.0),
        ]);
        assert_ne!(
            saved.instances[1].alerts,
            Alerts::new(),
            "alert states worth keeping"
        );
        hand_over(&hub, "s-n", &mut encoder, &saved);
        assert_eq!(hub.save(&store, 1).unwrap(), 1);
        assert_same(&reload(dir.path(), "s-n").unwrap(), &saved);

        // One tick later: some chunks change in two instances, one instance goes, one comes.
        for i in &mut saved.instances[..2] {
            i.state.observe(burnwatch_engine::Observation::Events {
                start: T0,
                end: T0 + M,
                counts: burnwatch_engine::Counts {
                    errors: 5.0,
                    total: 7.0,
                },
            });
        }
        saved.instances.remove(2);
        saved.instances.push(instance(&["sa"], 3.0));
        saved.ingested_until = T0 + M;
        hand_over(&hub, "s-n", &mut encoder, &saved);
        hub.save(&store, 2).unwrap();
        assert_same(&reload(dir.path(), "s-n").unwrap(), &saved);

        // Nothing changed: the write still succeeds and changes nothing.
        hub.save(&store, 3).unwrap();
        assert_same(&reload(dir.path(), "s-n").unwrap(), &saved);
    }

    #[test]
    fn a_restored_state_is_carried_on_incrementally_by_a_new_process() {
        let dir = tempfile::tempdir().unwrap();
        let mut saved = runner(vec![instance(&[], 1.0)]);
        {
            let hub = Snapshots::default();
            hand_over(&hub, "a", &mut Encoder::default(), &saved);
            hand_over(
                &hub,
                "b",
                &mut Encoder::default(),
                &runner(vec![instance(&[], 0.0)]),
            );
            hub.save(&Store::new(dir.path()), 1).unwrap();
        }
        // The restart: "b" is no longer configured; "a" goes on from what it restored.
        let store = Store::new(dir.path());
        let hub = Snapshots::new(store.load(2));
        hub.retain(&["a"]);
        let restored = hub.take("a").unwrap();
        assert!(hub.take("a").is_none(), "restored at most once");
        assert_same(&restored, &saved);
        let mut encoder = Encoder::default();
        let group: GroupKey = vec![];
        encoder.remember([(&group, &restored.instances[0].state)].into_iter());
        saved.instances[0]
            .state
            .observe(burnwatch_engine::Observation::Events {
                start: T0,
                end: T0 + M,
                counts: burnwatch_engine::Counts {
                    errors: 1.0,
                    total: 2.0,
                },
            });
        hand_over(&hub, "a", &mut encoder, &saved);
        hub.save(&store, 3).unwrap();
        assert_same(&reload(dir.path(), "a").unwrap(), &saved);
        assert!(
            reload(dir.path(), "b").is_none(),
            "a removed SLO leaves the database"
        );
    }

    impl Snapshots {
        /// Bytes of encoded rows the hub holds.
        fn held_bytes(&self) -> usize {
            let hub = self.lock();
            let rows = hub.slos.values().flat_map(|e| e.instances.values());
            rows.flat_map(|s| std::iter::once(&s.frame).chain(&s.chunks))
                .filter_map(|row| row.bytes.as_ref().map(|b| b.len()))
                .sum()
        }
    }

    /// One tick of events in every instance.
    fn tick(snapshot: &mut RunnerSnapshot, at: Millis) {
        for i in &mut snapshot.instances {
            i.state.observe(burnwatch_engine::Observation::Events {
                start: at,
                end: at + M,
                counts: burnwatch_engine::Counts {
                    errors: 1.0,
                    total: 9.0,
                },
            });
        }
        snapshot.ingested_until = at + M;
    }

    #[test]
    fn written_rows_leave_the_hub_and_a_take_reads_them_from_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let hub = Snapshots::new(store.load(0));
        let mut encoder = Encoder::default();
        let mut saved = runner(vec![instance(&["eu"], 1.0), instance(&["us"], 2.0)]);
        hand_over(&hub, "s", &mut encoder, &saved);
        let all = hub.held_bytes();
        hub.save(&store, 1).unwrap();
        assert_eq!(hub.held_bytes(), 0, "every row is on disk, none in memory");

        // A tick later only the changed rows are held, a small part of all of them.
        tick(&mut saved, T0);
        hand_over(&hub, "s", &mut encoder, &saved);
        let changed = hub.held_bytes();
        assert!(
            changed > 0 && changed * 3 < all,
            "{changed} of {all} bytes held"
        );
        // A task restarted on the same definition (a reload) gets the newest state: the rows
        // held, and the others read back from the database.
        assert_same(&hub.take("s").unwrap(), &saved);
        hub.save(&store, 2).unwrap();
        assert_eq!(hub.held_bytes(), 0);
        assert_same(&reload(dir.path(), "s").unwrap(), &saved);
    }

    #[test]
    fn a_replaced_database_gets_every_row_again_from_the_next_handover() {
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let hub = Snapshots::default();
        let mut encoder = Encoder::default();
        let mut saved = runner(vec![instance(&["eu"], 1.0)]);
        hand_over(&hub, "s", &mut encoder, &saved);
        hub.save(&Store::new(first.path()), 1).unwrap();
        assert_eq!(hub.held_bytes(), 0);

        // The rows were released, and the new database holds none of them: nothing of `s` is
        // written, and the hub asks for a complete handover.
        let store = Store::new(second.path());
        tick(&mut saved, T0);
        hand_over(&hub, "s", &mut encoder, &saved);
        hub.save(&store, 2).unwrap();
        assert!(reload(second.path(), "s").is_none(), "no partial snapshot");
        tick(&mut saved, T0 + M);
        let instances = saved
            .instances
            .iter()
            .map(|i| (&i.group, &i.state, &i.alerts));
        let partial = encoder.encode("f", saved.ingested_until, instances);
        assert!(!hub.put("s", partial), "only a complete handover is taken");
        encoder.clear();
        hand_over(&hub, "s", &mut encoder, &saved);
        hub.save(&store, 3).unwrap();
        assert_same(&reload(second.path(), "s").unwrap(), &saved);
    }

    #[test]
    fn a_handover_the_hub_cannot_complete_is_refused() {
        let hub = Snapshots::default();
        let saved = runner(vec![instance(&[], 1.0)]);
        let mut encoder = Encoder::default();
        let group: GroupKey = vec![];
        encoder.remember([(&group, &saved.instances[0].state)].into_iter());
        let instances = saved
            .instances
            .iter()
            .map(|i| (&i.group, &i.state, &i.alerts));
        let partial = encoder.encode("f", T0, instances);
        assert!(!hub.put("x", partial), "the hub holds no chunk of x");
        assert!(hub.is_empty());
    }

    #[test]
    fn a_snapshot_of_burnwatch_0_1_is_read_once_then_moved_into_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let saved = runner(vec![instance(&["eu"], 1.0)]);
        let file = serde_json::json!({
            "version": 1,
            "written_at": 0,
            "slos": { "s-n": saved },
        });
        std::fs::write(dir.path().join(LEGACY_FILE), file.to_string()).unwrap();
        let store = Store::new(dir.path());
        let hub = Snapshots::new(store.load(1));
        assert_same(&hub.take("s-n").unwrap(), &saved);
        hub.save(&store, 2).unwrap();
        assert!(
            !dir.path().join(LEGACY_FILE).exists(),
            "removed once written"
        );
        assert_same(&reload(dir.path(), "s-n").unwrap(), &saved);
    }

    #[test]
    fn unusable_databases_are_set_aside_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(store.path(), vec![0x5a; 8192]).unwrap();
        assert!(store.load(7).is_empty());
        assert!(dir.path().join("state.db.bad-7").exists(), "not set aside");
        // The new database works.
        let hub = Snapshots::default();
        let saved = runner(vec![instance(&[], 1.0)]);
        hand_over(&hub, "s", &mut Encoder::default(), &saved);
        hub.save(&store, 8).unwrap();
        assert_same(&reload(dir.path(), "s").unwrap(), &saved);
    }

    #[test]
    fn a_torn_legacy_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(LEGACY_FILE),
            b"{\"version\":1,\"slos\":{\"x\":",
        )
        .unwrap();
        assert!(Store::new(dir.path()).load(7).is_empty());
        assert!(dir.path().join("state.json.bad-7").exists());
    }
}
