//! burnwatch's shared I/O, below the scheduler and the HTTP crate: what both do the same way.
//!
//! - [`state_file`]: a versioned state file in the data directory, replaced atomically and set
//!   aside (never fatal) when it is corrupt or of another version.
//! - [`database`]: a versioned SQLite database in the data directory (WAL mode), set aside
//!   (never fatal) when it cannot be opened, has another schema version or fails its integrity
//!   check. The crate re-exports [`rusqlite`], so its users share one SQLite.
//! - [`client`]: the outbound HTTP client every backend and receiver uses (TLS provider, user
//!   agent, timeouts, no redirects) and the one way to turn its errors into text that never
//!   carries a URL (URLs may hold credentials or be secrets themselves).
//!
//! A state file written and read back; a torn one is set aside, not fatal:
//!
//! ```
//! use burnwatch_store::StateFile;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let file = StateFile::new(dir.path(), "state.json", 1, "the example state", "nothing");
//! let decode = |bytes: &[u8]| {
//!     serde_json::from_slice::<serde_json::Value>(bytes).map_err(|err| err.to_string())
//! };
//! assert_eq!(file.load(0, decode), None); // no file yet: a cold start
//!
//! file.write(br#"{"version":1,"slos":{"checkout":42}}"#).unwrap();
//! assert_eq!(file.load(1, decode).unwrap()["slos"]["checkout"], 42);
//!
//! std::fs::write(file.path(), br#"{"version":1,"slos":{"chec"#).unwrap(); // torn
//! assert_eq!(file.load(2, decode), None);
//! assert!(dir.path().join("state.json.bad-2").exists()); // kept for a post-mortem
//! ```
//!
//! Neighbours: `burnwatch-scheduler` (backends, the SLO snapshot) and `burnwatch-http` (the
//! receivers, the notification journal) use it; it knows nothing of SLOs, alerts or PromQL.
#![deny(missing_docs)]

pub mod client;
pub mod database;
pub mod state_file;

pub use database::Database;
pub use rusqlite;
pub use state_file::StateFile;
