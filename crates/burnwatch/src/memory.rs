//! The daemon and the C allocator: memory it has freed goes back to the system.
//!
//! glibc's malloc gives every thread that contends for it an arena of its own (up to eight per
//! core) and returns freed memory inside an arena to the system only at the arena's top. A tick
//! at 100,000 instances allocates and frees hundreds of megabytes (the decoded answer, each
//! SLO's share of it, a `/metrics` encoding) across the runtime's threads, and the freed holes
//! stay resident: 5.0 GiB of RSS, against 4.15 GiB with two arenas and a trim a minute
//! (docs/benchmarks.md, "Instances"). So the daemon limits the arenas to two before any thread
//! starts, and after each snapshot write (once a snapshot interval) asks malloc to hand back
//! every free page.
//! Elsewhere (musl, other systems) both are no-ops.

/// Limits malloc to two arenas. Call before the runtime's threads start.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Returns the free pages of every arena to the system.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe; it only releases memory malloc holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}
