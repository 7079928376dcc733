//! The snapshot database, `state.db` in the data directory (a `burnwatch_store::Database`:
//! versioned, WAL mode, set aside when unusable).
//!
//! Tables: `slo` (id, fingerprint, ingested until), `instance` (rowid, SLO, group labels as JSON,
//! frame) and `chunk` (one row per chunk of buckets). A chunk's key is
//! `level << 48 | index << 32 | instance`: the chunks that change between two snapshots (the
//! same positions in every instance, as buckets are aligned to absolute time) sit side by side
//! in the table, so a write rewrites few pages, and a load reads the table in key order.
//!
//! The writer keeps what is on disk (the instances' rowids and chunk layouts) and the hub
//! generation it wrote up to; a failed write forgets both and reads them back before the next.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use burnwatch_engine::Millis;
use burnwatch_store::rusqlite::{self, Connection, params};
use burnwatch_store::{Database, StateFile};

use super::{Entry, Hub, Row, StoredInstance, legacy};
use crate::counting::GroupKey;

/// The schema's version (SQLite `user_version`); 1 was the JSON file of burnwatch 0.1.
pub const SNAPSHOT_VERSION: u32 = 2;

/// The database's file name inside the data directory.
pub const SNAPSHOT_FILE: &str = "state.db";

/// The JSON snapshot of burnwatch 0.1, read when the database holds nothing.
pub const LEGACY_FILE: &str = "state.json";

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE slo (id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,
                  ingested_until INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE instance (id INTEGER PRIMARY KEY, slo TEXT NOT NULL, grp TEXT NOT NULL,
                       frame BLOB NOT NULL);
CREATE TABLE chunk (key INTEGER PRIMARY KEY, data BLOB NOT NULL);
";

/// Every SLO's snapshot as loaded, still encoded (each is decoded when its SLO takes it).
#[derive(Debug, Default)]
pub struct Loaded {
    pub(super) slos: BTreeMap<String, Entry>,
}

impl Loaded {
    /// Number of SLOs.
    pub fn len(&self) -> usize {
        self.slos.len()
    }

    /// Whether nothing was loaded.
    pub fn is_empty(&self) -> bool {
        self.slos.is_empty()
    }

    /// Number of instances of all SLOs.
    pub fn instances(&self) -> usize {
        self.slos.values().map(|e| e.instances.len()).sum()
    }
}

/// The snapshot database in a data directory.
#[derive(Debug, Clone)]
pub struct Store {
    database: Database,
    legacy: StateFile,
    open: Arc<Mutex<Option<Open>>>,
}

/// An open database and what the writer knows of its content.
#[derive(Debug)]
struct Open {
    conn: Connection,
    disk: HashMap<String, DiskSlo>,
    /// Every row changed in a hub generation up to this one is on disk.
    written: u64,
    /// A `state.json` to remove after the next write.
    legacy_left: bool,
}

#[derive(Debug)]
struct DiskSlo {
    fingerprint: String,
    instances: HashMap<GroupKey, DiskInstance>,
}

#[derive(Debug)]
struct DiskInstance {
    id: i64,
    layout: Vec<u32>,
}

impl Store {
    /// The store in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Store {
            database: Database::new(StateFile::new(
                data_dir,
                SNAPSHOT_FILE,
                SNAPSHOT_VERSION,
                "the state snapshot",
                "every SLO is backfilled",
            )),
            legacy: StateFile::new(
                data_dir,
                LEGACY_FILE,
                legacy::VERSION,
                "the state snapshot of burnwatch 0.1",
                "every SLO is backfilled",
            ),
            open: Arc::new(Mutex::new(None)),
        }
    }

    /// The database's path.
    pub fn path(&self) -> &Path {
        self.database.path()
    }

    /// Every SLO's snapshot, or none: a missing database is a cold start; an unusable one is
    /// moved aside (`state.db.bad-<unix ms>`) with a warning. When the database holds nothing,
    /// a `state.json` of burnwatch 0.1 is read instead (and removed after the first write).
    pub fn load(&self, now: Millis) -> Loaded {
        let mut open = self.lock();
        *open = None;
        let read = self.database.open(now, SCHEMA).and_then(|conn| {
            let (slos, disk) = read(&conn)?;
            Ok((conn, slos, disk))
        });
        let (conn, slos, disk) = match read {
            Ok(read) => read,
            Err(err) => {
                tracing::warn!(file = %self.path().display(), error = %err, "cannot read the state snapshot; every SLO is backfilled");
                return Loaded::default();
            }
        };
        let legacy_left = self.legacy.path().exists();
        let slos = if slos.is_empty() && legacy_left {
            legacy::load(&self.legacy, now)
        } else {
            slos
        };
        *open = Some(Open {
            conn,
            disk,
            written: 0,
            legacy_left,
        });
        Loaded { slos }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Open>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes what changed in `hub` since the last write.
    pub(super) fn save(&self, hub: &Mutex<Hub>, now: Millis) -> std::io::Result<usize> {
        let mut guard = self.lock();
        if guard.is_none() {
            let conn = self.database.open(now, SCHEMA).map_err(io)?;
            let (_, disk) = read(&conn).map_err(io)?;
            let legacy_left = self.legacy.path().exists();
            *guard = Some(Open {
                conn,
                disk,
                written: 0,
                legacy_left,
            });
        }
        let open = guard.as_mut().expect("opened above");
        let lock = || {
            hub.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let (batch, slos) = {
            let mut hub = lock();
            let batch = collect(&mut hub, &open.disk, open.written);
            hub.generation += 1;
            (batch, hub.slos.len())
        };
        let upto = batch.upto;
        match open.write(batch, now) {
            Ok(()) => {
                // On disk now: the hub keeps only what changes after this write.
                lock().release(upto);
                if open.legacy_left {
                    open.legacy_left = false;
                    let _ = std::fs::remove_file(self.legacy.path());
                }
                Ok(slos)
            }
            Err(err) => {
                // What is on disk is no longer known: read it again before the next write.
                *guard = None;
                Err(io(err))
            }
        }
    }
}

impl Store {
    /// Reads the rows of `entry` (SLO `id`) the hub released from the database: they are the
    /// newest written, as the hub releases a row only once it is on disk.
    pub(super) fn fill(&self, id: &str, entry: &mut Entry) -> Result<(), String> {
        let released = |stored: &StoredInstance| {
            stored.frame.bytes.is_none() || stored.chunks.iter().any(|r| r.bytes.is_none())
        };
        if !entry.instances.values().any(released) {
            return Ok(());
        }
        let guard = self.lock();
        let open = guard
            .as_ref()
            .ok_or("the database is not open; its rows are not readable")?;
        let disk = open
            .disk
            .get(id)
            .filter(|d| d.fingerprint == entry.fingerprint)
            .ok_or("the database holds another definition")?;
        let text = |err: rusqlite::Error| err.to_string();
        let mut frames = open
            .conn
            .prepare("SELECT frame FROM instance WHERE id = ?1")
            .map_err(text)?;
        let mut chunks = open
            .conn
            .prepare("SELECT data FROM chunk WHERE key = ?1")
            .map_err(text)?;
        for (group, stored) in entry.instances.iter_mut().filter(|(_, s)| released(s)) {
            let on_disk = disk
                .instances
                .get(group)
                .filter(|d| d.layout == stored.layout)
                .ok_or_else(|| format!("instance {group:?} is not in the database"))?;
            if stored.frame.bytes.is_none() {
                let frame = frames.query_row([on_disk.id], |row| blob(row, 0));
                stored.frame.bytes = Some(frame.map_err(text)?);
            }
            for (at, row) in stored.chunks.iter_mut().enumerate() {
                if row.bytes.is_none() {
                    let (level, index) = place(&stored.layout, at);
                    let key = chunk_key(level, index, on_disk.id);
                    let chunk = chunks.query_row([key], |row| blob(row, 0));
                    row.bytes = Some(chunk.map_err(text)?);
                }
            }
        }
        Ok(())
    }
}

fn io(err: rusqlite::Error) -> std::io::Error {
    std::io::Error::other(err)
}

/// What one write changes.
struct Batch {
    upto: u64,
    removed_slos: Vec<String>,
    slos: Vec<SloBatch>,
}

struct SloBatch {
    id: String,
    fingerprint: String,
    ingested_until: Millis,
    /// Not on disk under this fingerprint: whatever is, goes.
    fresh: bool,
    header: bool,
    removed: Vec<GroupKey>,
    instances: Vec<InstanceBatch>,
}

struct InstanceBatch {
    group: GroupKey,
    frame: Option<Arc<[u8]>>,
    layout: Vec<u32>,
    /// Positions (level by level) and bytes of the chunks to write.
    chunks: Vec<(usize, Arc<[u8]>)>,
}

/// The rows of `hub` that are not on disk: changed after generation `written`, or of
/// instances and SLOs the disk does not hold; and what the disk holds that the hub does not.
/// An SLO whose instance the disk lacks while the hub has released some of its rows (the
/// database was replaced) is left as it is on disk and marked incomplete: its task's next
/// handover is then a complete one.
fn collect(hub: &mut Hub, disk: &HashMap<String, DiskSlo>, written: u64) -> Batch {
    let newer = |row: &Row| row.changed > written;
    let removed_slos = disk
        .keys()
        .filter(|id| !hub.slos.contains_key(*id))
        .cloned()
        .collect();
    let mut slos = Vec::new();
    'slos: for (id, entry) in hub.slos.iter_mut() {
        let on_disk = disk.get(id).filter(|d| d.fingerprint == entry.fingerprint);
        let fresh = on_disk.is_none();
        let mut instances = Vec::new();
        for (group, stored) in &entry.instances {
            let known = on_disk.and_then(|d| d.instances.get(group));
            let all = known.is_none_or(|k| k.layout != stored.layout);
            // A row written is released; one not written (changed since, or never) is held.
            let held = |row: &Row| row.bytes.clone().ok_or(());
            let frame = if all || newer(&stored.frame) {
                let Ok(frame) = held(&stored.frame) else {
                    entry.incomplete = true;
                    continue 'slos;
                };
                Some(frame)
            } else {
                None
            };
            let chunks: Result<Vec<_>, ()> = stored
                .chunks
                .iter()
                .enumerate()
                .filter(|(_, row)| all || newer(row))
                .map(|(at, row)| held(row).map(|bytes| (at, bytes)))
                .collect();
            let Ok(chunks) = chunks else {
                entry.incomplete = true;
                continue 'slos;
            };
            if frame.is_some() || !chunks.is_empty() {
                instances.push(InstanceBatch {
                    group: group.clone(),
                    frame,
                    layout: stored.layout.clone(),
                    chunks,
                });
            }
        }
        let removed: Vec<GroupKey> = on_disk
            .map(|d| {
                d.instances
                    .keys()
                    .filter(|g| !entry.instances.contains_key(*g))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let header = fresh || entry.changed > written;
        if header || !instances.is_empty() || !removed.is_empty() {
            slos.push(SloBatch {
                id: id.clone(),
                fingerprint: entry.fingerprint.clone(),
                ingested_until: entry.ingested_until,
                fresh,
                header,
                removed,
                instances,
            });
        }
    }
    Batch {
        upto: hub.generation,
        removed_slos,
        slos,
    }
}

/// The rowid of chunk `index` of `level` of instance `id`.
fn chunk_key(level: usize, index: u32, id: i64) -> i64 {
    ((level as i64) << 48) | (i64::from(index) << 32) | id
}

/// The `(level, index)` of position `at` in a layout.
fn place(layout: &[u32], mut at: usize) -> (usize, u32) {
    for (level, &count) in layout.iter().enumerate() {
        if at < count as usize {
            return (level, at as u32);
        }
        at -= count as usize;
    }
    unreachable!("a position within the layout")
}

impl Open {
    /// One transaction.
    fn write(&mut self, batch: Batch, now: Millis) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut delete_chunk = tx.prepare("DELETE FROM chunk WHERE key = ?1")?;
            let mut delete_instance = tx.prepare("DELETE FROM instance WHERE id = ?1")?;
            let mut forget = |instance: &DiskInstance| -> rusqlite::Result<()> {
                for (level, &count) in instance.layout.iter().enumerate() {
                    for index in 0..count {
                        delete_chunk.execute([chunk_key(level, index, instance.id)])?;
                    }
                }
                delete_instance.execute([instance.id])?;
                Ok(())
            };
            for id in &batch.removed_slos {
                if let Some(gone) = self.disk.remove(id) {
                    gone.instances.values().try_for_each(&mut forget)?;
                }
                tx.execute("DELETE FROM slo WHERE id = ?1", [id])?;
            }
            let mut upsert_slo = tx.prepare(
                "INSERT OR REPLACE INTO slo (id, fingerprint, ingested_until) VALUES (?1, ?2, ?3)",
            )?;
            let mut insert_instance =
                tx.prepare("INSERT INTO instance (slo, grp, frame) VALUES (?1, ?2, ?3)")?;
            let mut update_frame = tx.prepare("UPDATE instance SET frame = ?2 WHERE id = ?1")?;
            let mut put_chunk =
                tx.prepare("INSERT OR REPLACE INTO chunk (key, data) VALUES (?1, ?2)")?;
            for slo in batch.slos {
                if slo.fresh
                    && let Some(old) = self.disk.remove(&slo.id)
                {
                    old.instances.values().try_for_each(&mut forget)?;
                }
                let disk = self.disk.entry(slo.id.clone()).or_insert_with(|| DiskSlo {
                    fingerprint: slo.fingerprint.clone(),
                    instances: HashMap::new(),
                });
                if slo.header {
                    upsert_slo.execute(params![slo.id, slo.fingerprint, slo.ingested_until])?;
                }
                for group in &slo.removed {
                    if let Some(gone) = disk.instances.remove(group) {
                        forget(&gone)?;
                    }
                }
                for instance in slo.instances {
                    let id = match disk.instances.get(&instance.group) {
                        Some(known) if known.layout == instance.layout => {
                            if let Some(frame) = &instance.frame {
                                update_frame.execute(params![known.id, &frame[..]])?;
                            }
                            known.id
                        }
                        known => {
                            if let Some(old) = known {
                                forget(old)?;
                            }
                            let group =
                                serde_json::to_string(&instance.group).expect("strings serialise");
                            let frame = instance.frame.as_deref().unwrap_or_default();
                            insert_instance.execute(params![slo.id, group, frame])?;
                            tx.last_insert_rowid()
                        }
                    };
                    for (at, bytes) in &instance.chunks {
                        let (level, index) = place(&instance.layout, *at);
                        put_chunk.execute(params![chunk_key(level, index, id), &bytes[..]])?;
                    }
                    disk.instances.insert(
                        instance.group,
                        DiskInstance {
                            id,
                            layout: instance.layout,
                        },
                    );
                }
            }
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('written_at', ?1)",
                [now],
            )?;
        }
        tx.commit()?;
        self.written = batch.upto;
        // Into the database file at once, and the log emptied: the data dir holds one copy.
        // Busy or failed, the log is simply checkpointed later; the snapshot is written.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(())
    }
}

/// Every SLO in the database, and what the writer needs to know of it; reads each table once,
/// in key order.
fn read(
    conn: &Connection,
) -> rusqlite::Result<(BTreeMap<String, Entry>, HashMap<String, DiskSlo>)> {
    let mut slos = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT id, fingerprint, ingested_until FROM slo")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        slos.insert(
            id,
            Entry {
                fingerprint: row.get(1)?,
                ingested_until: row.get(2)?,
                changed: 0,
                restorable: true,
                incomplete: false,
                instances: BTreeMap::new(),
            },
        );
    }
    // Instances in rowid order; chunks gathered per instance, level by level.
    struct Staged {
        slo: String,
        group: GroupKey,
        frame: Arc<[u8]>,
        levels: Vec<Vec<Row>>,
    }
    let mut staged: Vec<Staged> = Vec::new();
    let mut by_id: HashMap<i64, usize> = HashMap::new();
    let mut broken: Vec<String> = Vec::new();
    let mut stmt = conn.prepare("SELECT id, slo, grp, frame FROM instance")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let slo: String = row.get(1)?;
        let group: String = row.get(2)?;
        match serde_json::from_str::<GroupKey>(&group) {
            Ok(group) => {
                by_id.insert(row.get(0)?, staged.len());
                staged.push(Staged {
                    slo,
                    group,
                    frame: blob(row, 3)?,
                    levels: Vec::new(),
                });
            }
            Err(_) => broken.push(slo),
        }
    }
    let mut stmt = conn.prepare("SELECT key, data FROM chunk")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let key: i64 = row.get(0)?;
        let (level, index, id) = (
            (key >> 48) as usize,
            ((key >> 32) & 0xffff) as usize,
            key & 0xffff_ffff,
        );
        let Some(&at) = by_id.get(&id) else {
            continue;
        };
        let instance = &mut staged[at];
        if instance.levels.len() <= level {
            instance.levels.resize_with(level + 1, Vec::new);
        }
        let ring = &mut instance.levels[level];
        if ring.len() != index {
            broken.push(instance.slo.clone());
            continue;
        }
        ring.push(Row {
            bytes: Some(blob(row, 1)?),
            changed: 0,
        });
    }
    let mut disk: HashMap<String, DiskSlo> = slos
        .iter()
        .map(|(id, e)| {
            let slo = DiskSlo {
                fingerprint: e.fingerprint.clone(),
                instances: HashMap::new(),
            };
            (id.clone(), slo)
        })
        .collect();
    for (id, at) in by_id {
        let staged = &mut staged[at];
        let layout: Vec<u32> = staged.levels.iter().map(|l| l.len() as u32).collect();
        let Some(slo) = disk.get_mut(&staged.slo) else {
            continue;
        };
        slo.instances.insert(
            staged.group.clone(),
            DiskInstance {
                id,
                layout: layout.clone(),
            },
        );
        if let Some(entry) = slos.get_mut(&staged.slo) {
            let chunks = std::mem::take(&mut staged.levels).concat();
            let frame = Row {
                bytes: Some(Arc::clone(&staged.frame)),
                changed: 0,
            };
            let stored = StoredInstance {
                frame,
                layout,
                chunks,
            };
            entry.instances.insert(staged.group.clone(), stored);
        }
    }
    for slo in broken {
        if slos.remove(&slo).is_some() {
            tracing::warn!(slo = %slo, "the state snapshot of this SLO is incomplete; it is backfilled");
        }
    }
    Ok((slos, disk))
}

/// Column `at` of `row`, a blob.
fn blob(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Arc<[u8]>> {
    let value = row.get_ref(at)?;
    value.as_blob().map(Arc::from).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(at, value.data_type(), Box::new(err))
    })
}
