//! What an SLO reads from its backend, derived once from its SLI.
//!
//! Counter SLIs (ratio, latency) are counted exactly from their counters (see
//! [`crate::counting`]); Sloth-style `events` templates are rates, evaluated over the span in
//! question and multiplied by its length; `raw` error-ratio templates cannot be bucketed and are
//! evaluated per window per tick. Threshold queries are evaluated once per time slice, and
//! boolean gauges are read as the number and the sum of their samples per step. How each read
//! becomes a query is the backend's business.

use burnwatch_engine::Comparison;
use burnwatch_spec::{Component, DatadogQuery, Selector, Sli, Template};

/// What to ask the backend for, derived once per SLO.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Counters read as raw samples; errors = `errors`, or `total - good`.
    Counters {
        /// Counter of bad events, when configured.
        errors: Option<Selector>,
        /// Counter of good events, when configured instead of errors.
        good: Option<Selector>,
        /// Counter of all events.
        total: Selector,
    },
    /// Rate templates (Sloth `events`).
    Rates {
        /// Errors per second over `{{.window}}`.
        errors: Template,
        /// Events per second over `{{.window}}`.
        total: Template,
    },
    /// An error-ratio template per window (Sloth `raw`).
    Ratios {
        /// Error ratio over `{{.window}}`.
        ratio: Template,
    },
    /// A query compared with a value at the end of every slice (threshold SLIs).
    Threshold {
        /// The query, as written.
        query: String,
        /// The comparison.
        op: Comparison,
        /// The threshold.
        value: f64,
    },
    /// A gauge of 1 (good) and 0 (bad) samples, counted and summed per step.
    Gauge {
        /// The gauge.
        selector: Selector,
    },
    /// Metric queries the backend counts per step (Datadog rollup sums).
    Counts {
        /// Bad events, when configured.
        errors: Option<DatadogQuery>,
        /// Good events, when configured instead of errors.
        good: Option<DatadogQuery>,
        /// All events.
        total: DatadogQuery,
    },
    /// Nothing from the backend: a composite's ratios come from its components' evaluations
    /// on the board (see `runner/composite.rs`).
    Composite {
        /// The SLOs combined.
        components: Vec<Component>,
    },
}

/// Which counter a selector measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Bad events.
    Errors,
    /// Good events.
    Good,
    /// All events.
    Total,
}

impl Plan {
    /// The plan for an SLI.
    pub fn new(sli: &Sli) -> Self {
        match sli {
            Sli::Ratio {
                errors,
                good,
                total,
            } => Plan::Counters {
                errors: errors.clone(),
                good: good.clone(),
                total: total.clone(),
            },
            Sli::Latency { histogram, le } => Plan::Counters {
                errors: None,
                good: Some(histogram.with_suffix("_bucket").with_matcher("le", "=", le)),
                total: histogram.with_suffix("_count"),
            },
            Sli::Events {
                error_query,
                total_query,
            } => Plan::Rates {
                errors: error_query.clone(),
                total: total_query.clone(),
            },
            Sli::Raw { error_ratio_query } => Plan::Ratios {
                ratio: error_ratio_query.clone(),
            },
            Sli::Threshold { query, op, value } => Plan::Threshold {
                query: query.clone(),
                op: *op,
                value: *value,
            },
            Sli::BoolGauge { selector } => Plan::Gauge {
                selector: selector.clone(),
            },
            Sli::Datadog {
                errors,
                good,
                total,
            } => Plan::Counts {
                errors: errors.clone(),
                good: good.clone(),
                total: total.clone(),
            },
            Sli::Composite { components, .. } => Plan::Composite {
                components: components.clone(),
            },
        }
    }

    /// The counter selectors with their roles (empty for template plans).
    pub fn selectors(&self) -> Vec<(Role, &Selector)> {
        match self {
            Plan::Counters {
                errors,
                good,
                total,
            } => {
                let mut out = Vec::with_capacity(2);
                if let Some(errors) = errors {
                    out.push((Role::Errors, errors));
                }
                if let Some(good) = good {
                    out.push((Role::Good, good));
                }
                out.push((Role::Total, total));
                out
            }
            Plan::Rates { .. }
            | Plan::Ratios { .. }
            | Plan::Threshold { .. }
            | Plan::Gauge { .. }
            | Plan::Counts { .. }
            | Plan::Composite { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(text: &str) -> Selector {
        Selector::parse(text).unwrap()
    }

    #[test]
    fn latency_plan_reads_bucket_and_count() {
        let plan = Plan::new(&Sli::Latency {
            histogram: sel(r#"http_request_duration_seconds{service="checkout"}"#),
            le: "0.3".into(),
        });
        let selectors: Vec<String> = plan.selectors().iter().map(|(_, s)| s.render()).collect();
        assert_eq!(
            selectors,
            vec![
                r#"http_request_duration_seconds_bucket{service="checkout",le="0.3"}"#,
                r#"http_request_duration_seconds_count{service="checkout"}"#,
            ]
        );
        assert_eq!(plan.selectors()[0].0, Role::Good);
    }
}
