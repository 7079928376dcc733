//! From an SLI definition to the PromQL the scheduler sends.
//!
//! Counter SLIs (ratio, latency) are read two ways: live, as raw samples of each selector since
//! the previous tick (exact, reset-aware increments at any scrape interval), and for backfill as
//! `sum by (group) (increase(sel[step]))` at each bucket level's resolution. Sloth-style `events`
//! templates are rates, so they are evaluated over the span in question and multiplied by its
//! length. `raw` error-ratio templates cannot be bucketed and are evaluated per window per tick.

use std::time::Duration;

use burnwatch_spec::{Selector, Sli, Template};

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
            Plan::Rates { .. } | Plan::Ratios { .. } => Vec::new(),
        }
    }
}

/// `sel[range]`: the raw samples of a selector over `range` before the evaluation time.
pub fn raw_samples(selector: &Selector, range: Duration) -> String {
    format!("{}[{}]", selector.render(), promql_duration(range))
}

/// The label that marks the reset flags in a [`boundaries`] answer.
pub const RESETS_LABEL: &str = "burnwatch_resets";

/// The counters of a selector at every bucket boundary of a range query at `step`, per series,
/// and beside them, marked with [`RESETS_LABEL`], each series' resets within every bucket it has
/// samples in: `sel or label_replace(resets(sel[step]), ...)`. An instant selector evaluated at a
/// boundary gives the last sample at or before it (within the backend's lookback), so
/// consecutive boundaries difference to exactly the increments in between. The resets say which
/// buckets must be read sample by sample: a reset can hide inside a bucket (the counter climbs
/// back past its old value), and a series with samples in a bucket but no value at its end
/// ended there. One request, as the old `increase()` read, touching as many samples.
pub fn boundaries(selector: &Selector, step: Duration) -> String {
    let sel = selector.render();
    format!(
        "{sel} or label_replace(resets({sel}[{}]), \"{RESETS_LABEL}\", \"1\", \"\", \"\")",
        promql_duration(step)
    )
}

/// `sum by (g) (increase(sel[step]))`: events per step, aggregated in the backend. Inexact
/// (`increase()` sees only the samples inside each step and extrapolates): the fallback when a
/// selector has too many series to read one by one.
pub fn increase(selector: &Selector, step: Duration, group_by: &[String]) -> String {
    format!(
        "{} (increase({}[{}]))",
        sum_by(group_by),
        selector.render(),
        promql_duration(step)
    )
}

/// `(template over span) * span_seconds`: a rate template turned into an event count.
pub fn rate_times_span(template: &Template, span: Duration) -> String {
    format!(
        "({}) * {}",
        template.render(&promql_duration(span)),
        span.as_secs_f64()
    )
}

/// A duration in a form every PromQL parser accepts: whole milliseconds collapse to the largest
/// exact unit (`1h`, `90s`, `1500ms`).
pub fn promql_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    for (unit, size) in [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{}ms", ms.max(1))
}

fn sum_by(group_by: &[String]) -> String {
    if group_by.is_empty() {
        "sum".to_string()
    } else {
        format!("sum by ({})", group_by.join(", "))
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

    #[test]
    fn backfill_query_sums_by_group() {
        let q = increase(
            &sel(r#"x_total{a="b"}"#),
            Duration::from_secs(600),
            &["route".into()],
        );
        assert_eq!(q, r#"sum by (route) (increase(x_total{a="b"}[10m]))"#);
        let q = increase(&sel("x_total"), Duration::from_secs(3600), &[]);
        assert_eq!(q, "sum (increase(x_total[1h]))");
    }

    #[test]
    fn boundary_query_reads_values_and_flags_resets() {
        let q = boundaries(&sel(r#"x_total{a="b"}"#), Duration::from_secs(3600));
        assert_eq!(
            q,
            r#"x_total{a="b"} or label_replace(resets(x_total{a="b"}[1h]), "burnwatch_resets", "1", "", "")"#
        );
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        assert_eq!(promql_duration(Duration::from_secs(90)), "90s");
        assert_eq!(promql_duration(Duration::from_secs(86_400 * 30)), "30d");
        assert_eq!(promql_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(promql_duration(Duration::from_secs(120)), "2m");
    }

    #[test]
    fn rate_templates_become_counts() {
        let template = Template::parse("sum(rate(errs[{{.window}}]))").unwrap();
        assert_eq!(
            rate_times_span(&template, Duration::from_secs(30)),
            "(sum(rate(errs[30s]))) * 30"
        );
    }
}
