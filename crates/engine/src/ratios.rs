//! A direct state's data: the latest error ratios the backend computed per window.

use serde::{Deserialize, Serialize};

use crate::{DataState, Millis};

/// The newest ratio of every window, the period last.
///
/// Raw SLIs (an error-ratio query per window) cannot be split into buckets, so the backend does
/// the windowing and the engine only derives burn rates and budget from the ratios.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ratios {
    at: Option<Millis>,
    /// One per configured window, then the period.
    values: Vec<Option<f64>>,
}

impl Ratios {
    /// `windows` configured windows plus the period.
    pub fn new(windows: usize) -> Ratios {
        Ratios {
            at: None,
            values: vec![None; windows + 1],
        }
    }

    /// Replaces every ratio. The last element is the period, the others are the windows in
    /// order; missing ones are `None`, surplus ones ignored. NaN and infinite ratios are no
    /// data; others are clamped to `[0, 1]`. An observation older than the newest one is stale
    /// and ignored.
    pub fn observe(&mut self, at: Millis, ratios: &[Option<f64>]) {
        if self.at.is_some_and(|newest| at < newest) {
            return;
        }
        self.at = Some(at);
        let (period, windows) = match ratios.split_last() {
            Some((period, windows)) => (*period, windows),
            None => (None, ratios),
        };
        let n = self.values.len() - 1;
        for (i, value) in self.values[..n].iter_mut().enumerate() {
            *value = clean(windows.get(i).copied().flatten());
        }
        self.values[n] = clean(period);
    }

    /// Ratio of configured window `i`, or of the period when `i` is the window count.
    pub fn get(&self, i: usize) -> Option<f64> {
        self.values.get(i).copied().flatten()
    }

    pub fn at(&self) -> Option<Millis> {
        self.at
    }

    /// No data when nothing came yet or no window has a ratio (no series matched); no traffic
    /// when the shortest window has none (0/0 is NaN in PromQL) but others have.
    pub fn data_state(&self) -> DataState {
        if self.at.is_none() || self.values.iter().all(Option::is_none) {
            DataState::NoData
        } else if self.values[0].is_none() {
            DataState::NoTraffic
        } else {
            DataState::Ok
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.values.capacity() * size_of::<Option<f64>>()
    }
}

fn clean(ratio: Option<f64>) -> Option<f64> {
    ratio.filter(|r| r.is_finite()).map(|r| r.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_ratio_is_the_period() {
        let mut r = Ratios::new(2);
        r.observe(10, &[Some(0.1), Some(0.2), Some(0.3)]);
        assert_eq!(
            (r.get(0), r.get(1), r.get(2)),
            (Some(0.1), Some(0.2), Some(0.3))
        );
        // Too short: the one given is still the period; windows without a ratio have none.
        r.observe(20, &[Some(0.4)]);
        assert_eq!((r.get(0), r.get(1), r.get(2)), (None, None, Some(0.4)));
    }

    #[test]
    fn broken_ratios_become_no_data_or_are_clamped() {
        let mut r = Ratios::new(2);
        r.observe(10, &[Some(f64::NAN), Some(1.5), Some(-0.1)]);
        assert_eq!((r.get(0), r.get(1), r.get(2)), (None, Some(1.0), Some(0.0)));
    }

    #[test]
    fn stale_observations_are_ignored() {
        let mut r = Ratios::new(0);
        r.observe(20, &[Some(0.2)]);
        r.observe(10, &[Some(0.9)]);
        assert_eq!((r.at(), r.get(0)), (Some(20), Some(0.2)));
    }

    #[test]
    fn data_states() {
        let mut r = Ratios::new(1);
        assert_eq!(r.data_state(), DataState::NoData);
        r.observe(10, &[None, None]);
        assert_eq!(r.data_state(), DataState::NoData);
        r.observe(20, &[None, Some(0.0)]);
        assert_eq!(r.data_state(), DataState::NoTraffic);
        r.observe(30, &[Some(0.0), Some(0.0)]);
        assert_eq!(r.data_state(), DataState::Ok);
    }
}
