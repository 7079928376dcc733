//! One instance's state, shared between the runner that advances it and the board that reads
//! its history from it when asked: the buckets are the history, so nothing keeps a second copy.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::SloState;

/// An instance's [`SloState`] behind a lock. Its owner (the scheduler's runner) locks it to
/// observe and evaluate; [`SharedState::buckets`] gives the board a read-only handle, through
/// which the page and the history API read past figures from the buckets (see
/// [`SloState::past`]). Not `Clone`: there is one owner.
#[derive(Debug)]
pub struct SharedState(Arc<Mutex<SloState>>);

impl SharedState {
    /// Takes `state` in.
    pub fn new(state: SloState) -> SharedState {
        SharedState(Arc::new(Mutex::new(state)))
    }

    /// The state, for the owner to advance. Readers hold the lock while they read the buckets
    /// (well under a millisecond for a 30-day period), never across I/O.
    pub fn lock(&self) -> MutexGuard<'_, SloState> {
        // A reader that panicked cannot have changed the state: the lock is still good.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A read-only handle on the state when it keeps buckets (counted events); None for a
    /// backend's ratios, which hold no history.
    pub fn buckets(&self) -> Option<StateView> {
        self.lock()
            .has_buckets()
            .then(|| StateView(Arc::clone(&self.0)))
    }

    /// Bytes the sharing adds to [`SloState::memory_bytes`]: the reference counts and the lock.
    pub fn overhead_bytes() -> usize {
        size_of::<Mutex<SloState>>() - size_of::<SloState>() + 2 * size_of::<usize>()
    }
}

impl From<SloState> for SharedState {
    fn from(state: SloState) -> SharedState {
        SharedState::new(state)
    }
}

/// A read-only handle on a [`SharedState`] that keeps buckets: what the board holds per
/// instance instead of a copy of its history. Cloning it shares the same state.
#[derive(Debug, Clone)]
pub struct StateView(Arc<Mutex<SloState>>);

impl StateView {
    /// Runs `read` on the state, under its lock.
    pub fn read<R>(&self, read: impl FnOnce(&SloState) -> R) -> R {
        read(&self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Whether both are handles on the same state.
    pub fn same(&self, other: &StateView) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
