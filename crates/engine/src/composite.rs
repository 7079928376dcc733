//! Composite SLOs: one error ratio per window from the evaluations of other SLOs.
//!
//! The OpenSLO composite semantics for occurrences, as docs/configuration.md writes them: in a
//! window `w`, component `i` (weight `w_i`, objective `o_i`, error ratio `e_i(w)`) burns
//! `b_i(w) = e_i(w) / (1 - o_i)`; the composite burns the weighted mean of those,
//! `B(w) = Σ w_i·b_i(w) / Σ w_i` over the components that have a ratio in `w`, and its error
//! ratio is `E(w) = B(w)·(1 - o_c)`, clamped to `[0, 1]`. Burn rates, not error ratios, are
//! averaged so that a 99% component and a 99.99% one count by how fast they spend their own
//! budgets: a 0.1% error ratio is a tenth of the first's budget and ten times the second's.
//!
//! A component without a ratio in a window is left out of that window's mean (not counted as
//! zero, which would hide an outage of its data) and reported in [`ComponentStatus::missing`];
//! a window where no component has a ratio has none either. The composite's state is a direct
//! one ([`crate::SloState::direct`]) fed with these ratios, so its burn rates, budget, alerts
//! and release decisions follow the ordinary path.

use std::time::Duration;

use crate::{Evaluation, Objective};

/// One component's part in one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    /// Its weight, finite and above 0 (the spec checks).
    pub weight: f64,
    /// Its own objective: its error ratio is normalised by its budget.
    pub objective: Objective,
    /// Its error ratio in the window; `None` when it has no data there.
    pub error_ratio: Option<f64>,
}

impl Part {
    /// `b_i = e_i / (1 - o_i)`, when the part has a usable ratio.
    fn burn(&self) -> Option<f64> {
        self.error_ratio
            .filter(|e| e.is_finite())
            .map(|e| e.max(0.0) / self.objective.budget())
    }
}

/// `E = clamp(Σ w_i·b_i / Σ w_i · (1 - o_c), 0, 1)` over the parts with a ratio; `None` when
/// none has one.
pub fn composite_ratio(objective: Objective, parts: &[Part]) -> Option<f64> {
    let (mut weighted, mut weights) = (0.0, 0.0);
    for (part, burn) in parts.iter().filter_map(|p| Some((p, p.burn()?))) {
        weighted += part.weight * burn;
        weights += part.weight;
    }
    (weights > 0.0).then(|| (weighted / weights * objective.budget()).clamp(0.0, 1.0))
}

/// What a composite shows of one component at an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentStatus {
    /// The component as people read it: its SLO id, and for an instance of a grouped SLO its
    /// labels, `checkout-pay{region="eu"}`.
    pub component: String,
    /// Its weight.
    pub weight: f64,
    /// Its burn rate `b_i(w)` per composite window (the period last); `None` where it has no
    /// data.
    pub burn_rates: Vec<(Duration, Option<f64>)>,
    /// The composite's windows it was left out of, for want of data (empty when it counted
    /// everywhere).
    pub missing: Vec<Duration>,
}

/// One component as the composite finds it: who, its weight, and its newest evaluation with
/// its objective (`None`: it has not been evaluated, or its instance does not exist).
#[derive(Debug, Clone, Copy)]
pub struct ComponentInput<'a> {
    /// As [`ComponentStatus::component`].
    pub component: &'a str,
    /// Its weight.
    pub weight: f64,
    /// Its newest evaluation and objective.
    pub latest: Option<(&'a Evaluation, Objective)>,
}

/// The composite's error ratio in each of `windows` (its configured windows, then its period:
/// the order [`crate::SloState::observe_ratios`] takes), and what each component contributed.
/// A component evaluation that does not track one of the windows has no data there.
pub fn compose(
    objective: Objective,
    windows: &[Duration],
    components: &[ComponentInput<'_>],
) -> (Vec<Option<f64>>, Vec<ComponentStatus>) {
    let parts: Vec<Vec<Part>> = windows
        .iter()
        .map(|&w| {
            components
                .iter()
                .map(|c| Part {
                    weight: c.weight,
                    objective: c.latest.map_or(objective, |(_, o)| o),
                    error_ratio: c.latest.and_then(|(eval, _)| eval.window(w)?.error_ratio),
                })
                .collect()
        })
        .collect();
    let ratios = parts
        .iter()
        .map(|parts| composite_ratio(objective, parts))
        .collect();
    let statuses = components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let burn_rates: Vec<(Duration, Option<f64>)> = windows
                .iter()
                .zip(&parts)
                .map(|(&w, parts)| (w, parts[i].burn()))
                .collect();
            ComponentStatus {
                component: c.component.to_string(),
                weight: c.weight,
                missing: burn_rates
                    .iter()
                    .filter(|(_, b)| b.is_none())
                    .map(|(w, _)| *w)
                    .collect(),
                burn_rates,
            }
        })
        .collect();
    (ratios, statuses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counts, DataState, PeriodFigures, WindowFigures};

    const FIVE_MINUTES: Duration = Duration::from_secs(300);
    const DAY: Duration = Duration::from_secs(86_400);

    fn part(weight: f64, percent: f64, error_ratio: Option<f64>) -> Part {
        Part {
            weight,
            objective: Objective::from_percent(percent),
            error_ratio,
        }
    }

    #[test]
    fn burn_rates_are_averaged_by_weight_then_scaled_by_the_composite_budget() {
        // 99.9% at 0.2% errors burns 2; 99% at 0.5% burns 0.5; 99.5% at 0 burns 0.
        // Weights 2/1/1: (2·2 + 1·0.5 + 1·0) / 4 = 1.125; at 99.9% that is 0.1125%.
        let parts = [
            part(2.0, 99.9, Some(0.002)),
            part(1.0, 99.0, Some(0.005)),
            part(1.0, 99.5, Some(0.0)),
        ];
        let ratio = composite_ratio(Objective::from_percent(99.9), &parts).unwrap();
        assert!((ratio - 0.001_125).abs() < 1e-15, "{ratio}");
        // The same parts under a 99% composite: 1.125 · 1% = 1.125%.
        let ratio = composite_ratio(Objective::from_percent(99.0), &parts).unwrap();
        assert!((ratio - 0.011_25).abs() < 1e-15, "{ratio}");
    }

    #[test]
    fn a_component_without_data_is_left_out_not_counted_as_clean() {
        // Without the third part: (2·2 + 1·0.5) / 3 = 1.5, not (4.5 + 0) / 4 = 1.125.
        let parts = [
            part(2.0, 99.9, Some(0.002)),
            part(1.0, 99.0, Some(0.005)),
            part(1.0, 99.5, None),
        ];
        let ratio = composite_ratio(Objective::from_percent(99.9), &parts).unwrap();
        assert!((ratio - 0.0015).abs() < 1e-15, "{ratio}");
        let none = [part(1.0, 99.9, None), part(3.0, 99.0, Some(f64::NAN))];
        assert_eq!(composite_ratio(Objective::from_percent(99.9), &none), None);
    }

    #[test]
    fn the_ratio_is_clamped_to_one() {
        // A 99.99% component failing completely burns 10,000; under a 99% composite that is
        // an error ratio of 100, which no window can have.
        let parts = [part(1.0, 99.99, Some(1.0))];
        assert_eq!(
            composite_ratio(Objective::from_percent(99.0), &parts),
            Some(1.0)
        );
    }

    fn evaluation(five_minutes: Option<f64>, day: Option<f64>, objective: f64) -> Evaluation {
        let figures = |window, ratio: Option<f64>| WindowFigures {
            window,
            counts: Counts::default(),
            error_ratio: ratio,
            burn_rate: ratio.map(|r| r / (1.0 - objective)),
        };
        Evaluation {
            at: 0,
            objective,
            windows: vec![figures(FIVE_MINUTES, five_minutes)],
            period: PeriodFigures::new(figures(DAY, day), None, None, DAY),
            data_state: DataState::Ok,
        }
    }

    #[test]
    fn compose_reports_each_window_a_component_is_missing_from() {
        let objective = Objective::from_percent(99.9);
        let a = evaluation(Some(0.004), Some(0.001), 0.999);
        // b has no traffic in the last five minutes.
        let b = evaluation(None, Some(0.01), 0.99);
        let (ratios, statuses) = compose(
            objective,
            &[FIVE_MINUTES, DAY],
            &[
                ComponentInput {
                    component: "shop-a",
                    weight: 3.0,
                    latest: Some((&a, objective)),
                },
                ComponentInput {
                    component: "shop-b",
                    weight: 1.0,
                    latest: Some((&b, Objective::from_percent(99.0))),
                },
                ComponentInput {
                    component: "shop-c",
                    weight: 1.0,
                    latest: None,
                },
            ],
        );
        // 5m: only a (burn 4): 4 · 0.1% = 0.4%. 1d: a burns 1, b burns 1: 1 · 0.1% = 0.1%.
        assert!((ratios[0].unwrap() - 0.004).abs() < 1e-15, "{ratios:?}");
        assert!((ratios[1].unwrap() - 0.001).abs() < 1e-15, "{ratios:?}");
        assert!(statuses[0].missing.is_empty());
        assert_eq!(statuses[1].missing, [FIVE_MINUTES]);
        assert_eq!(statuses[2].missing, [FIVE_MINUTES, DAY]);
        let b_day = statuses[1].burn_rates[1].1.unwrap();
        assert!((b_day - 1.0).abs() < 1e-12, "{b_day}");
    }
}
