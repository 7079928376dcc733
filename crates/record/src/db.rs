//! `record.db`: the record's SQLite database, its schema and its reads and writes.
//!
//! Opened through [`burnwatch_store::Database`]: WAL mode, schema version in `user_version`,
//! a file that is corrupt or of another version set aside (never fatal, never blocking the
//! daemon). Each day of an SLO is written in one transaction with the mark that it is done, so
//! after a kill -9 a day is either whole or absent and is then written again: no duplicates
//! (rows are keyed by SLO, instance and day), no lost days.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use burnwatch_engine::Millis;
use burnwatch_store::rusqlite::{self, Connection, OptionalExtension as _, params};
use burnwatch_store::{Database, StateFile};

use crate::{Day, DayBatch, DayRow, Query};

/// The file's name in the data directory.
pub const DB_FILE: &str = "record.db";

/// The schema this build reads and writes. Version 1: the first.
pub const SCHEMA_VERSION: u32 = 1;

/// `MIGRATIONS[i]` takes a record of schema version `i + 1` to `i + 2` on open (none yet); a
/// new version adds its step here and changes [`SCHEMA`], so existing records keep their days.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize - 1] = [];

/// Version 1. Days are UTC day numbers (days since 1970-01-01), times unix milliseconds.
const SCHEMA: &str = "
CREATE TABLE days (
    slo TEXT NOT NULL,
    instance TEXT NOT NULL,
    day INTEGER NOT NULL,
    team TEXT,
    objective REAL NOT NULL,
    events REAL NOT NULL,
    errors REAL NOT NULL,
    budget_spent REAL,
    excluded_minutes REAL NOT NULL,
    PRIMARY KEY (slo, instance, day)
) WITHOUT ROWID;
CREATE INDEX days_by_day ON days (day);
CREATE TABLE covered (
    slo TEXT NOT NULL,
    day INTEGER NOT NULL,
    PRIMARY KEY (slo, day)
) WITHOUT ROWID;
CREATE TABLE incidents (
    slo TEXT NOT NULL,
    instance TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER,
    ttr_seconds REAL,
    PRIMARY KEY (slo, instance, start)
) WITHOUT ROWID;
CREATE TABLE notifications (
    slo TEXT NOT NULL,
    instance TEXT NOT NULL,
    day INTEGER NOT NULL,
    receiver TEXT NOT NULL,
    sent INTEGER NOT NULL,
    PRIMARY KEY (slo, instance, day, receiver)
) WITHOUT ROWID;
";

/// The open record: one connection, shared by the writer and the readers (calls are short;
/// callers on async threads use `spawn_blocking`).
#[derive(Debug)]
pub struct RecordDb {
    conn: Mutex<Connection>,
}

impl RecordDb {
    /// Opens an existing `record.db` in `data_dir` to read it (`burnwatch report`), never
    /// creating, migrating or setting aside anything; `None` when there is none or it cannot be
    /// read at this schema version.
    pub fn open_existing(data_dir: &Path) -> Option<RecordDb> {
        let path = data_dir.join(DB_FILE);
        if !path.exists() {
            return None;
        }
        let conn = Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .ok()?;
        (version == SCHEMA_VERSION).then(|| RecordDb {
            conn: Mutex::new(conn),
        })
    }

    /// Opens (or creates) `record.db` in `data_dir`, setting aside a file that cannot be used
    /// (`now_ms` names the copy). Fails only when no database can be made there.
    pub fn open(data_dir: &Path, now_ms: Millis) -> rusqlite::Result<RecordDb> {
        let db = Database::new(StateFile::new(
            data_dir,
            DB_FILE,
            SCHEMA_VERSION,
            "the six-month record",
            "the daily record is backfilled again from the backend as far as its retention \
             allows; older days are lost",
        ));
        let conn = db.open_migrating(now_ms, SCHEMA, &MIGRATIONS)?;
        Ok(RecordDb {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The days of `slo` in `[from, to]` already written.
    pub fn covered(&self, slo: &str, from: Day, to: Day) -> rusqlite::Result<Vec<Day>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT day FROM covered WHERE slo = ?1 AND day BETWEEN ?2 AND ?3")?;
        stmt.query_map(params![slo, from.0, to.0], |row| row.get(0).map(Day))?
            .collect()
    }

    /// The start of the oldest incident of `slo` still open, if any started at or after
    /// `since`.
    pub fn oldest_open_incident(
        &self,
        slo: &str,
        since: Millis,
    ) -> rusqlite::Result<Option<Millis>> {
        self.conn()
            .query_row(
                "SELECT min(start) FROM incidents WHERE slo = ?1 AND end IS NULL AND start >= ?2",
                params![slo, since],
                |row| row.get(0),
            )
            .optional()
            .map(Option::flatten)
    }

    /// The incidents of `slo` that started in `[from, to)` (unix ms), by start.
    pub fn incidents(
        &self,
        slo: &str,
        from: Millis,
        to: Millis,
    ) -> rusqlite::Result<Vec<crate::IncidentRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT instance, start, end FROM incidents WHERE slo = ?1 AND start >= ?2 \
             AND start < ?3 ORDER BY start",
        )?;
        stmt.query_map(params![slo, from, to], |row| {
            Ok(crate::IncidentRow {
                instance: row.get(0)?,
                start: row.get(1)?,
                end: row.get(2)?,
            })
        })?
        .collect()
    }

    /// Writes one day of one SLO (rows, incidents, the mark that it is done) in one
    /// transaction, replacing what the day held.
    pub fn write(&self, batch: &DayBatch) -> rusqlite::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM days WHERE slo = ?1 AND day = ?2",
            params![batch.slo, batch.day.0],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO days (slo, instance, day, team, objective, events, errors, \
                 budget_spent, excluded_minutes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for row in &batch.rows {
                insert.execute(params![
                    row.slo,
                    row.instance,
                    row.day.0,
                    row.team,
                    row.objective,
                    row.events,
                    row.errors,
                    row.budget_spent,
                    row.excluded_minutes
                ])?;
            }
        }
        if let Some(from) = batch.replaces_open_from {
            tx.execute(
                "DELETE FROM incidents WHERE slo = ?1 AND end IS NULL AND start >= ?2",
                params![batch.slo, from],
            )?;
        }
        {
            let mut upsert = tx.prepare(
                "INSERT INTO incidents (slo, instance, start, end, ttr_seconds) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (slo, instance, start) \
                 DO UPDATE SET end = excluded.end, ttr_seconds = excluded.ttr_seconds",
            )?;
            for incident in &batch.incidents {
                let ttr = incident
                    .end
                    .map(|end| (end - incident.start) as f64 / 1000.0);
                upsert.execute(params![
                    batch.slo,
                    incident.instance,
                    incident.start,
                    incident.end,
                    ttr
                ])?;
            }
        }
        tx.execute(
            "INSERT OR IGNORE INTO covered (slo, day) VALUES (?1, ?2)",
            params![batch.slo, batch.day.0],
        )?;
        tx.commit()
    }

    /// Counts one notification sent to `receiver` for an instance at `at`.
    pub fn count_notification(
        &self,
        slo: &str,
        instance: &str,
        receiver: &str,
        at: Millis,
    ) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO notifications (slo, instance, day, receiver, sent) \
             VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (slo, instance, day, receiver) \
             DO UPDATE SET sent = sent + 1",
            params![slo, instance, Day::of(at).0, receiver],
        )?;
        Ok(())
    }

    /// Removes everything older than `oldest` (retention); returns the day rows removed.
    pub fn prune(&self, oldest: Day) -> rusqlite::Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let removed = tx.execute("DELETE FROM days WHERE day < ?1", [oldest.0])?;
        tx.execute("DELETE FROM covered WHERE day < ?1", [oldest.0])?;
        tx.execute("DELETE FROM notifications WHERE day < ?1", [oldest.0])?;
        tx.execute("DELETE FROM incidents WHERE start < ?1", [oldest.start()])?;
        tx.commit()?;
        Ok(removed)
    }

    /// The rows `query` asks for, by SLO, instance and day, with each day's incidents (page
    /// episodes that started in it), their mean time to resolve and the notifications sent.
    pub fn days(&self, query: &Query) -> rusqlite::Result<Vec<DayRow>> {
        let conn = self.conn();
        let slo = query.slo.as_deref();
        let mut stmt = conn.prepare(
            "SELECT slo, instance, day, team, objective, events, errors, budget_spent, \
             excluded_minutes FROM days WHERE (?1 IS NULL OR slo = ?1) AND day BETWEEN ?2 AND ?3 \
             ORDER BY slo, instance, day",
        )?;
        let mut rows: Vec<DayRow> = stmt
            .query_map(params![slo, query.from.0, query.to.0], |row| {
                Ok(DayRow {
                    slo: row.get(0)?,
                    instance: row.get(1)?,
                    day: Day(row.get(2)?),
                    team: row.get(3)?,
                    objective: row.get(4)?,
                    events: row.get(5)?,
                    errors: row.get(6)?,
                    budget_spent: row.get(7)?,
                    excluded_minutes: row.get(8)?,
                    incidents: 0,
                    resolved: 0,
                    mttr_seconds: None,
                    notifications: BTreeMap::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let index: BTreeMap<(String, String, i64), usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.slo.clone(), r.instance.clone(), r.day.0), i))
            .collect();
        let mut incidents = conn.prepare(
            "SELECT slo, instance, start, ttr_seconds FROM incidents WHERE (?1 IS NULL OR slo = ?1) \
             AND start >= ?2 AND start < ?3",
        )?;
        let mut ttr: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        let found =
            incidents.query_map(params![slo, query.from.start(), query.to.end()], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Millis>(2)?,
                    row.get::<_, Option<f64>>(3)?,
                ))
            })?;
        for found in found {
            let (slo, instance, start, seconds) = found?;
            if let Some(&i) = index.get(&(slo, instance, Day::of(start).0)) {
                rows[i].incidents += 1;
                if let Some(seconds) = seconds {
                    ttr.entry(i).or_default().push(seconds);
                }
            }
        }
        for (i, seconds) in ttr {
            rows[i].resolved = seconds.len() as u32;
            rows[i].mttr_seconds = Some(seconds.iter().sum::<f64>() / seconds.len() as f64);
        }
        let mut sent = conn.prepare(
            "SELECT slo, instance, day, receiver, sent FROM notifications \
             WHERE (?1 IS NULL OR slo = ?1) AND day BETWEEN ?2 AND ?3",
        )?;
        let found = sent.query_map(params![slo, query.from.0, query.to.0], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?.max(0) as u64,
            ))
        })?;
        for found in found {
            let (slo, instance, day, receiver, count) = found?;
            if let Some(&i) = index.get(&(slo, instance, day)) {
                rows[i].notifications.insert(receiver, count);
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IncidentRow;

    fn row(day: Day, events: f64, errors: f64) -> DayRow {
        DayRow {
            slo: "checkout".into(),
            instance: "checkout".into(),
            team: Some("payments".into()),
            day,
            objective: 0.999,
            events,
            errors,
            budget_spent: Some(errors / (0.001 * events)),
            excluded_minutes: 0.0,
            incidents: 0,
            resolved: 0,
            mttr_seconds: None,
            notifications: BTreeMap::new(),
        }
    }

    #[test]
    fn days_are_written_once_and_read_back_with_incidents_and_notifications() {
        let dir = tempfile::tempdir().unwrap();
        let db = RecordDb::open(dir.path(), 0).unwrap();
        let day = Day(20_000);
        let batch = DayBatch {
            slo: "checkout".into(),
            day,
            rows: vec![row(day, 1000.0, 3.0)],
            incidents: vec![IncidentRow {
                instance: "checkout".into(),
                start: day.start() + 3_600_000,
                end: Some(day.start() + 5_400_000),
            }],
            replaces_open_from: None,
        };
        db.write(&batch).unwrap();
        db.write(&batch).unwrap(); // again, as after a kill before the caller saw the commit
        db.count_notification("checkout", "checkout", "slack", day.start() + 3_600_000)
            .unwrap();
        drop(db);
        let db = RecordDb::open(dir.path(), 1).unwrap();
        assert_eq!(db.covered("checkout", day, day).unwrap(), vec![day]);
        let rows = db
            .days(&Query {
                slo: None,
                from: day.plus(-5),
                to: day.plus(5),
            })
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].incidents, 1);
        assert_eq!(rows[0].mttr_seconds, Some(1800.0));
        assert_eq!(rows[0].notifications["slack"], 1);
        assert_eq!(db.prune(day.plus(1)).unwrap(), 1);
    }
}
