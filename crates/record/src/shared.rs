//! The record as the daemon shares it between its writer and the HTTP server: empty until the
//! writer has opened it (off the startup path, so a slow integrity check of a large file never
//! delays the first tick), and empty for good when it cannot be opened.

use std::sync::{Arc, OnceLock};

use crate::RecordDb;

/// A slot for the open record.
#[derive(Debug, Clone, Default)]
pub struct SharedRecord(Arc<OnceLock<Arc<RecordDb>>>);

impl SharedRecord {
    /// The record, once open.
    pub fn get(&self) -> Option<Arc<RecordDb>> {
        self.0.get().cloned()
    }

    /// Puts the opened record in (once; later calls are ignored).
    pub fn set(&self, db: Arc<RecordDb>) {
        let _ = self.0.set(db);
    }
}
