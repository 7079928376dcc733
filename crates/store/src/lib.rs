//! burnwatch's shared I/O, below the scheduler and the HTTP crate: what both do the same way.
//!
//! - [`state_file`]: a versioned state file in the data directory, replaced atomically and set
//!   aside (never fatal) when it is corrupt or of another version.
//! - [`client`]: the outbound HTTP client every backend and receiver uses (TLS provider, user
//!   agent, timeouts, no redirects) and the one way to turn its errors into text that never
//!   carries a URL (URLs may hold credentials or be secrets themselves).
//!
//! Neighbours: `burnwatch-scheduler` (backends, the SLO snapshot) and `burnwatch-http` (the
//! receivers, the notification journal) use it; it knows nothing of SLOs, alerts or PromQL.
#![deny(missing_docs)]

pub mod client;
pub mod state_file;

pub use state_file::StateFile;
