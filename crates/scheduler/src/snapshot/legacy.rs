//! The snapshot of burnwatch 0.1: one JSON file, `state.json`, read once on the first start
//! after an upgrade so the upgrade keeps every SLO's state; the store removes it after its first
//! write to the database.

use std::collections::BTreeMap;

use burnwatch_engine::Millis;
use burnwatch_store::StateFile;
use serde::Deserialize;

use super::{Encoder, Entry, RunnerSnapshot, Snapshots};

/// The JSON file's format version.
pub const VERSION: u32 = 1;

#[derive(Deserialize)]
struct SnapshotFile {
    slos: BTreeMap<String, RunnerSnapshot>,
}

/// Every SLO of the file, encoded as the hub holds them (to be written); none when it is
/// unreadable (then it is set aside with a warning).
pub fn load(file: &StateFile, now: Millis) -> BTreeMap<String, Entry> {
    let Some(slos) = file.load(now, |bytes| {
        serde_json::from_slice::<SnapshotFile>(bytes)
            .map(|file| file.slos)
            .map_err(|err| format!("is corrupt ({err})"))
    }) else {
        return BTreeMap::new();
    };
    let hub = Snapshots::default();
    for (id, snapshot) in &slos {
        let instances = snapshot
            .instances
            .iter()
            .map(|i| (&i.group, &i.state, &i.alerts));
        let handover =
            Encoder::default().encode(&snapshot.fingerprint, snapshot.ingested_until, instances);
        hub.put(id, handover);
    }
    tracing::info!(
        file = %file.path().display(),
        slos = slos.len(),
        "read the state snapshot of burnwatch 0.1; it is moved into the database"
    );
    hub.into_entries()
}
