//! How many connections the open-file limit allows. Every connection is a file descriptor; so
//! are the listener, the runtime's own, the backend and receiver connections and the state
//! files. A cap above what the limit leaves makes `accept` fail with EMFILE, and then nobody is
//! served, a scraper included.

/// Descriptors kept back besides those open at start: state and config file writes, DNS, a
/// connection being evicted while its replacement is accepted.
const SPARE: u64 = 16;

/// The connection cap: `wanted`, lowered so that the descriptors open now, `reserved` more
/// (backend and receiver connections) and a spare margin fit under the open-file limit.
/// Returns the cap and the limit it was derived from (None when the limit is unknown or
/// unlimited).
pub fn connection_cap(wanted: usize, reserved: usize) -> (usize, Option<u64>) {
    let Some(limit) = raise_open_file_limit() else {
        return (wanted, None);
    };
    let open = open_descriptors().unwrap_or(32);
    let room = limit.saturating_sub(open + reserved as u64 + SPARE);
    let cap = usize::try_from(room)
        .unwrap_or(usize::MAX)
        .min(wanted)
        .max(1);
    (cap, Some(limit))
}

/// Raises the soft open-file limit to the hard one, as Go programs do at start (the soft limit
/// is often a low default kept for `select()` callers; nothing here uses `select()`). Returns
/// the soft limit in force afterwards.
fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
    }
    (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// Descriptors open in this process now.
fn open_descriptors() -> Option<u64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_under_the_limit() {
        let (cap, limit) = connection_cap(usize::MAX, 10);
        let limit = limit.expect("Linux reports an open-file limit");
        // Other tests of this process may open descriptors meanwhile: bounds, not one figure.
        let open = open_descriptors().unwrap();
        assert!(cap as u64 + 10 + SPARE < limit, "{cap} of {limit}");
        assert!(
            cap as u64 + 10 + SPARE + open + 64 >= limit,
            "{cap} of {limit}"
        );
        assert_eq!(connection_cap(5, 10).0, 5, "a lower wish wins");
    }
}
