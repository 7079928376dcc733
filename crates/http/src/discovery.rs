//! What `[[discover]]` found, as the status page shows it: the daemon's discovery loop writes a
//! row per discovery after each round; pages read the latest rows.

use std::sync::{Arc, RwLock};

/// One `[[discover]]` after its latest round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoveryRow {
    /// The discovery's `name`.
    pub name: String,
    /// The label whose values it turns into SLOs.
    pub label: String,
    /// Values admitted by `allow`/`deny` at the latest successful round.
    pub found: usize,
    /// SLOs it runs now (present values and those in their grace period).
    pub active: usize,
    /// Of those, values that vanished and are kept until their grace period ends.
    pub in_grace: usize,
    /// Values left without SLOs by `cap` at the latest successful round.
    pub capped: usize,
    /// The `cap`.
    pub cap: usize,
    /// The latest round's backend or template problem, if it had one.
    pub error: Option<String>,
}

/// The rows of every discovery, shared between the discovery loop and the pages.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryView(Arc<RwLock<Vec<DiscoveryRow>>>);

impl DiscoveryView {
    /// Replaces the rows.
    pub fn set(&self, rows: Vec<DiscoveryRow>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = rows;
    }

    /// The rows now.
    pub fn rows(&self) -> Vec<DiscoveryRow> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
