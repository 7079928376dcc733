//! The daemon's allocator: jemalloc, which hands freed memory back to the system.
//!
//! A tick at 100,000 instances allocates and frees hundreds of megabytes (the decoded answer,
//! each SLO's share of it, a `/metrics` encoding) across the runtime's threads, between
//! allocations that live for the whole run (every instance's buckets). glibc's malloc returns
//! freed memory inside an arena to the system only at the arena's top, so the freed holes stayed
//! resident: 5.0 GiB of RSS, 4.15 GiB with two arenas and a `malloc_trim` a minute
//! (docs/benchmarks.md, "Instances"). jemalloc keeps allocations of one size class together and
//! a background thread returns pages that stay unused for a second (`dirty_decay_ms`) to the
//! system; freed pages are not kept in a second, "muzzy" state (`muzzy_decay_ms:0`).
//!
//! On Linux only (the container and every release target); elsewhere the system allocator.

#[cfg(all(target_os = "linux", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it initialises (its `malloc_conf`; the `MALLOC_CONF`
/// environment variable still overrides them).
#[cfg(all(target_os = "linux", not(target_env = "msvc")))]
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";
