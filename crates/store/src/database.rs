//! A versioned SQLite database in the data directory, opened without ever failing the daemon.
//!
//! - **Engine**: SQLite built into the binary (rusqlite's `bundled`), in WAL mode with
//!   `synchronous = NORMAL`: a transaction is all or nothing after a kill at any moment; a power
//!   loss may lose the newest transactions, never consistency.
//! - **Version**: the schema's version is SQLite's `user_version`. A new (empty) database gets the
//!   caller's schema and version in one transaction. An older version is migrated on open by the
//!   caller's migrations ([`Database::open_migrating`]), all of them in one transaction.
//! - **Set-aside**: a database that cannot be opened, is not a database, has another version or
//!   fails `PRAGMA quick_check` is moved aside with its write-ahead log (`<name>.bad-<unix ms>`,
//!   `<name>.bad-<unix ms>-wal`) with one warning saying what is lost, and a new one is created:
//!   never a crash, never a refusal to start, and the bad file is kept for a post-mortem.
//!
//! Its user: the SLO snapshot (`state.db`, the scheduler). Each user owns its schema; this
//! module owns the file.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension as _};

use crate::StateFile;

/// Write-ahead log bytes kept after a checkpoint; a larger log is truncated back to this.
const WAL_KEEP_BYTES: i64 = 64 << 20;

/// One database file: where, which schema version, and what it means to lose it (for the
/// warning); a [`StateFile`] in all but its format.
#[derive(Debug, Clone)]
pub struct Database {
    file: StateFile,
}

impl Database {
    /// The database at `file`'s path, its version the schema's (at least 1); `file` also says
    /// what it is and what losing it costs, for the warning.
    pub fn new(file: StateFile) -> Database {
        assert!(file.version() >= 1, "user_version 0 means a new database");
        Database { file }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The schema version this build reads and writes.
    pub fn version(&self) -> u32 {
        self.file.version()
    }

    /// Opens the database, creating it with `schema` (SQL statements) when new. An existing
    /// file that cannot be used is set aside first (`now_ms`, unix milliseconds, names the
    /// copy). Fails only when not even a new database can be made (an unwritable directory).
    pub fn open(&self, now_ms: i64, schema: &str) -> rusqlite::Result<Connection> {
        self.open_migrating(now_ms, schema, &[])
    }

    /// [`Database::open`], bringing a database of an older version up to this one:
    /// `migrations[i]` (SQL statements) takes version `i + 1` to `i + 2`, so a schema at version
    /// `n` has `n - 1` of them. Every step runs in one transaction with the new version, so a
    /// kill leaves the old version or the new one. A version no migration leads from is set
    /// aside like any other.
    pub fn open_migrating(
        &self,
        now_ms: i64,
        schema: &str,
        migrations: &[&str],
    ) -> rusqlite::Result<Connection> {
        if self.path().exists() {
            match self.open_existing(migrations) {
                Ok(Some(conn)) => return Ok(conn),
                Ok(None) => {}
                Err(why) => self.file.set_aside_with(now_ms, &why, &["-wal", "-shm"]),
            }
        }
        let mut conn = connect(self.path())?;
        let tx = conn.transaction()?;
        tx.execute_batch(schema)?;
        tx.pragma_update(None, "user_version", self.version())?;
        tx.commit()?;
        Ok(conn)
    }

    /// The connection to a usable database of this version; `None` for an empty one (a file
    /// left by a run that stopped before creating the schema); `Err` says why it is unusable.
    fn open_existing(&self, migrations: &[&str]) -> Result<Option<Connection>, String> {
        let mut conn = connect(self.path()).map_err(|err| format!("cannot be opened ({err})"))?;
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|err| format!("is not {} database ({err})", self.file.what()))?;
        if version == 0 {
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
                .map_err(|err| format!("cannot be read ({err})"))?;
            return if tables == 0 {
                drop(conn);
                Ok(None)
            } else {
                Err(format!(
                    "is not {} database (no schema version)",
                    self.file.what()
                ))
            };
        }
        let from = version as usize;
        if version < self.version() && from >= 1 && migrations.len() + 1 >= self.version() as usize
        {
            let steps = &migrations[from - 1..self.version() as usize - 1];
            let migrate = |conn: &mut Connection| -> rusqlite::Result<()> {
                let tx = conn.transaction()?;
                for step in steps {
                    tx.execute_batch(step)?;
                }
                tx.pragma_update(None, "user_version", self.version())?;
                tx.commit()
            };
            migrate(&mut conn).map_err(|err| {
                format!(
                    "has schema version {version} and cannot be migrated to {} ({err})",
                    self.version()
                )
            })?;
            tracing::info!(
                file = %self.path().display(),
                from = version,
                to = self.version(),
                "database schema migrated"
            );
        } else if version != self.version() {
            return Err(format!(
                "has schema version {version}, this burnwatch reads {}",
                self.version()
            ));
        }
        let check: Option<String> = conn
            .query_row("PRAGMA quick_check(1)", [], |row| row.get(0))
            .optional()
            .map_err(|err| format!("fails its integrity check ({err})"))?;
        match check.as_deref() {
            Some("ok") => Ok(Some(conn)),
            other => Err(format!(
                "fails its integrity check ({})",
                other.unwrap_or("no answer")
            )),
        }
    }
}

/// A connection in WAL mode.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // The first statement to read the file: a file that is no database fails here.
    let _: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Temporary files of large statements stay in memory: the data dir may be the only
    // writable place (a read-only root filesystem).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL);";

    fn db(dir: &Path, version: u32) -> Database {
        Database::new(StateFile::new(
            dir,
            "test.db",
            version,
            "the test database",
            "nothing",
        ))
    }

    #[test]
    fn a_new_database_gets_the_schema_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let conn = db(dir.path(), 2).open(1, SCHEMA).unwrap();
        conn.execute("INSERT INTO item (name) VALUES ('a')", [])
            .unwrap();
        drop(conn);
        let conn = db(dir.path(), 2).open(2, SCHEMA).unwrap();
        let name: String = conn
            .query_row("SELECT name FROM item", [], |row| row.get(0))
            .unwrap();
        assert_eq!(name, "a");
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, 2);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("bad")),
            "nothing set aside"
        );
    }

    #[test]
    fn an_older_version_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let conn = db(dir.path(), 1).open(1, SCHEMA).unwrap();
        conn.execute("INSERT INTO item (name) VALUES ('kept')", [])
            .unwrap();
        drop(conn);
        let v3 = "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, size INTEGER, \
                  colour TEXT);";
        let migrations = [
            "ALTER TABLE item ADD COLUMN size INTEGER;",
            "ALTER TABLE item ADD COLUMN colour TEXT;",
        ];
        let conn = db(dir.path(), 3)
            .open_migrating(2, v3, &migrations)
            .unwrap();
        let (name, colour): (String, Option<String>) = conn
            .query_row("SELECT name, colour FROM item", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((name.as_str(), colour), ("kept", None));
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, 3);
        assert!(
            !dir.path().join("test.db.bad-2").exists(),
            "migrated, not set aside"
        );
    }

    #[test]
    fn garbage_foreign_versions_and_foreign_databases_are_set_aside() {
        let foreign_version = |path: &Path| {
            db(path.parent().unwrap(), 9).open(0, SCHEMA).unwrap();
        };
        let foreign_schema = |path: &Path| {
            Connection::open(path)
                .unwrap()
                .execute_batch("CREATE TABLE other (x);")
                .unwrap();
        };
        let garbage = |path: &Path| std::fs::write(path, vec![7u8; 10_000]).unwrap();
        type Make<'a> = &'a dyn Fn(&Path);
        let cases: [(&str, Make); 3] = [
            ("garbage", &garbage),
            ("another version", &foreign_version),
            ("no version", &foreign_schema),
        ];
        for (what, make) in cases {
            let dir = tempfile::tempdir().unwrap();
            let db = db(dir.path(), 2);
            make(db.path());
            let before = std::fs::read(db.path()).unwrap();
            let conn = db
                .open(77, SCHEMA)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            conn.execute("INSERT INTO item (name) VALUES ('new')", [])
                .unwrap_or_else(|e| panic!("{what}: not a new database: {e}"));
            let aside = dir.path().join("test.db.bad-77");
            let kept = std::fs::read(&aside).unwrap_or_else(|e| panic!("{what}: {e}"));
            if what == "garbage" {
                assert_eq!(kept, before, "{what}: not kept as it was");
            }
        }
    }

    #[test]
    fn a_corrupt_page_is_found_and_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path(), 1);
        let conn = db.open(0, SCHEMA).unwrap();
        let tx_rows: Vec<String> = (0..2_000).map(|i| format!("name number {i}")).collect();
        for name in &tx_rows {
            conn.execute("INSERT INTO item (name) VALUES (?1)", [name])
                .unwrap();
        }
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        drop(conn);
        // Overwrite the middle of the file: pages of the table, not the header.
        let mut bytes = std::fs::read(db.path()).unwrap();
        assert!(bytes.len() > 8 * 4096, "{}", bytes.len());
        let mid = bytes.len() / 2;
        bytes[mid..mid + 4096].fill(0xA5);
        std::fs::write(db.path(), &bytes).unwrap();
        let conn = db.open(5, SCHEMA).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM item", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 0, "a new database");
        assert!(dir.path().join("test.db.bad-5").exists());
    }
}
