//! A composite SLO's components as the API and the status page show them: each component's
//! weight, its normalised burn per composite window, and the windows it was left out of for
//! want of data (reported, never silently dropped).

use burnwatch_engine::{Board, ComponentStatus};
use serde::Serialize;

use super::view::{InstanceView, Ordered, window};

/// One component of a composite.
#[derive(Debug, Serialize)]
pub struct ComponentView {
    /// Its SLO id, with the instance's labels for a grouped SLO: `checkout-pay{region="eu"}`.
    pub component: String,
    pub weight: f64,
    /// Its burn rate (error ratio over its own budget) per composite window, the period last.
    pub burn_rate: Ordered<Option<f64>>,
    /// True when it was left out of at least one window's sum.
    pub missing: bool,
    /// The windows it was left out of, shortest first.
    pub missing_windows: Vec<String>,
}

impl ComponentView {
    fn of(status: &ComponentStatus) -> ComponentView {
        ComponentView {
            component: status.component.clone(),
            weight: status.weight,
            burn_rate: Ordered(
                status
                    .burn_rates
                    .iter()
                    .map(|(w, b)| (window(*w), *b))
                    .collect(),
            ),
            missing: !status.missing.is_empty(),
            missing_windows: status.missing.iter().map(|w| window(*w)).collect(),
        }
    }
}

impl InstanceView {
    /// The same, with its components when the SLO is a composite the board has evaluated.
    pub fn with_components(mut self, board: &Board) -> InstanceView {
        self.components = board
            .components(&self.slo)
            .map(|all| all.iter().map(ComponentView::of).collect());
        self
    }
}
