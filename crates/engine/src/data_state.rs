//! Whether an instance's figures rest on evidence.

use serde::{Deserialize, Serialize};

/// Data state of an instance: three states kept apart.
///
/// "No series" (a broken selector, a renamed metric) and "no traffic" (a quiet night) need
/// different reactions, and neither is "0% errors".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataState {
    /// Nothing observed yet, or the latest observation found no series.
    NoData,
    /// Series exist but the shortest window holds zero events.
    NoTraffic,
    /// Events in the shortest window.
    Ok,
}

impl DataState {
    /// `no_data`, `no_traffic`, `ok`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataState::NoData => "no_data",
            DataState::NoTraffic => "no_traffic",
            DataState::Ok => "ok",
        }
    }

    /// Every state, in order of increasing evidence (exporters emit one series per state).
    pub const ALL: [DataState; 3] = [DataState::NoData, DataState::NoTraffic, DataState::Ok];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_snake_case() {
        let names: Vec<&str> = DataState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["no_data", "no_traffic", "ok"]);
    }
}
