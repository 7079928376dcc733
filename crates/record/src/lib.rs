//! burnwatch's six-month record: one row per SLO instance per UTC day (events, errors, budget
//! spent, minutes excluded), the page episodes (incidents) with their time to resolve and the
//! notifications sent per receiver, in `record.db` in the data directory.
//!
//! - [`Day`]: a UTC calendar day, the record's unit (days close at 00:00 UTC).
//! - [`DayRow`], [`IncidentRow`], [`DayBatch`]: what is written and read.
//! - [`RecordDb`]: the database (SQLite via [`burnwatch_store::Database`]: WAL, versioned,
//!   set aside when corrupt); a day is written in one transaction, so a kill at any moment
//!   leaves it whole or absent.
//! - [`SharedRecord`]: the open record shared by the writer and the HTTP server.
//! - [`trends`]: the weekly figures per team label the `/trends` page and API show.
//! - [`csv`]: the daily rows as CSV.
//!
//! Neighbours: the binary (`burnwatch run`) computes the rows by replay and writes them;
//! `burnwatch-http` reads them. This crate computes no SLO math of its own: figures come from
//! the engine ([`burnwatch_engine::WindowFigures`]).
#![deny(missing_docs)]

pub mod csv;
mod day;
mod db;
mod row;
mod shared;
pub mod trends;

pub use day::Day;
pub use db::{DB_FILE, RecordDb, SCHEMA_VERSION};
pub use row::{DayBatch, DayRow, IncidentRow, Query, instance_name};
pub use shared::SharedRecord;
